/* SPDX-License-Identifier: MIT */
/* The node's SQLite cache of known peers (endnode/peercache.h). */
#include "endnode/peercache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ntm_test.h"

static const uint8_t key_a[32] = { 1 };
static const uint8_t key_b[32] = { 2 };

struct fixture {
	char dir[64];
	char path[96];
	struct en_peercache *c;
	char why[256];
};

static void fx_init(struct fixture *fx)
{
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_peercache.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(fx->dir));
	/* A directory that does not exist yet: created 0700. */
	snprintf(fx->path, sizeof(fx->path), "%s/state/node.db", fx->dir);
	CU_ASSERT_EQUAL_FATAL(en_peercache_open(fx->path, key_a, &fx->c, fx->why, sizeof(fx->why)),
			      0);
}

static void fx_reopen(struct fixture *fx, const uint8_t *own)
{
	en_peercache_close(fx->c);
	CU_ASSERT_EQUAL_FATAL(en_peercache_open(fx->path, own, &fx->c, fx->why, sizeof(fx->why)),
			      0);
}

static void fx_fini(struct fixture *fx)
{
	char f[160];

	en_peercache_close(fx->c);
	unlink(fx->path);
	snprintf(f, sizeof(f), "%s-wal", fx->path);
	unlink(f);
	snprintf(f, sizeof(f), "%s-shm", fx->path);
	unlink(f);
	snprintf(f, sizeof(f), "%s/state", fx->dir);
	rmdir(f);
	rmdir(fx->dir);
}

static struct en_peercache_entry entry(uint8_t id)
{
	struct en_peercache_entry e = { .path = NTM_CTRL_PATH_PUNCHED,
					.nat = NTM_CTRL_NAT_EIM,
					.nat_peer = NTM_CTRL_NAT_PUBLIC };

	e.public_key[0] = id;
	e.public_key[31] = 0x5a;
	snprintf(e.fqdn, sizeof(e.fqdn), "n%u.example.net", id);
	e.vip4[0] = 100;
	e.vip4[1] = 80;
	e.vip4[3] = id;
	e.vip6[0] = 0xfd;
	e.vip6[15] = id;
	e.endpoint.family = 4;
	e.endpoint.ip[0] = 198;
	e.endpoint.ip[1] = 51;
	e.endpoint.ip[2] = 100;
	e.endpoint.ip[3] = id;
	e.endpoint.port = (uint16_t)(40000 + id);
	return e;
}

struct seen {
	struct en_peercache_entry e[300];
	int n;
};

static void collect(void *arg, const struct en_peercache_entry *e)
{
	struct seen *s = arg;

	if (s->n < 300) {
		s->e[s->n] = *e;
	}
	s->n++;
}

static void test_put_load_remove(void)
{
	struct fixture fx;
	struct en_peercache_entry a = entry(1), b = entry(2);
	struct seen *s = calloc(1, sizeof(*s));
	struct stat st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	fx_init(&fx);
	CU_ASSERT_EQUAL(stat(fx.path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(en_peercache_load(fx.c, collect, s), 0);
	CU_ASSERT_EQUAL(en_peercache_put(fx.c, &a), 0);
	CU_ASSERT_EQUAL(en_peercache_put(fx.c, &b), 0);
	a.endpoint.port = 5000; /* replaces, and a is now the most recent */
	CU_ASSERT_EQUAL(en_peercache_put(fx.c, &a), 0);
	/* It survives a close and open (a restart). */
	fx_reopen(&fx, key_a);
	CU_ASSERT_EQUAL(en_peercache_load(fx.c, collect, s), 2);
	CU_ASSERT_EQUAL(s->n, 2);
	CU_ASSERT_EQUAL(memcmp(&s->e[0], &a, sizeof(a)), 0);
	CU_ASSERT_EQUAL(memcmp(&s->e[1], &b, sizeof(b)), 0);
	CU_ASSERT_EQUAL(en_peercache_remove(fx.c, a.public_key), 0);
	CU_ASSERT_EQUAL(en_peercache_remove(fx.c, a.public_key), 0); /* not there: fine */
	s->n = 0;
	CU_ASSERT_EQUAL(en_peercache_load(fx.c, collect, s), 1);
	CU_ASSERT_EQUAL(memcmp(&s->e[0], &b, sizeof(b)), 0);
	fx_fini(&fx);
	free(s);
}

static void test_self_vips_and_owner(void)
{
	struct fixture fx;
	struct en_peercache_entry a = entry(1);
	const uint8_t v4[4] = { 100, 80, 0, 9 }, v6[16] = { 0xfd, 0x80, [15] = 9 };
	uint8_t g4[4], g6[16];
	struct seen *s = calloc(1, sizeof(*s));

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	fx_init(&fx);
	CU_ASSERT_EQUAL(en_peercache_get_self(fx.c, g4, g6), -ENOENT);
	CU_ASSERT_EQUAL(en_peercache_put_self(fx.c, v4, v6), 0);
	CU_ASSERT_EQUAL(en_peercache_put(fx.c, &a), 0);
	fx_reopen(&fx, key_a);
	CU_ASSERT_EQUAL(en_peercache_get_self(fx.c, g4, g6), 0);
	CU_ASSERT_EQUAL(memcmp(g4, v4, 4), 0);
	CU_ASSERT_EQUAL(memcmp(g6, v6, 16), 0);
	/* Another key: another node; nothing of the old one is handed out. */
	fx_reopen(&fx, key_b);
	CU_ASSERT_EQUAL(en_peercache_get_self(fx.c, g4, g6), -ENOENT);
	CU_ASSERT_EQUAL(en_peercache_load(fx.c, collect, s), 0);
	fx_fini(&fx);
	free(s);
}

static void test_bounded(void)
{
	struct fixture fx;
	struct seen *s = calloc(1, sizeof(*s));

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	fx_init(&fx);
	for (int i = 0; i < EN_PEERCACHE_MAX + 10; i++) {
		struct en_peercache_entry e = entry((uint8_t)(i & 0xff));

		e.public_key[1] = (uint8_t)(i >> 8);
		CU_ASSERT_EQUAL(en_peercache_put(fx.c, &e), 0);
	}
	CU_ASSERT_EQUAL(en_peercache_load(fx.c, collect, s), EN_PEERCACHE_MAX);
	/* The oldest went: the newest is first, the 10 first ones are gone. */
	CU_ASSERT_EQUAL(s->e[0].public_key[0], (EN_PEERCACHE_MAX + 9) & 0xff);
	CU_ASSERT_EQUAL(s->e[0].public_key[1], (EN_PEERCACHE_MAX + 9) >> 8);
	CU_ASSERT_EQUAL(s->e[EN_PEERCACHE_MAX - 1].public_key[0], 10);
	fx_fini(&fx);
	free(s);
}

static void test_refuses_odd_files(void)
{
	struct en_peercache *c;
	char why[256];
	char dir[64], path[96];
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/test_peercache.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	/* A symlink is not followed. */
	snprintf(path, sizeof(path), "%s/link.db", dir);
	CU_ASSERT_EQUAL(symlink("/tmp/elsewhere.db", path), 0);
	CU_ASSERT_NOT_EQUAL(en_peercache_open(path, key_a, &c, why, sizeof(why)), 0);
	CU_ASSERT_PTR_NULL(c);
	unlink(path);
	/* Garbage is not a cache; a wide mode is narrowed first. */
	snprintf(path, sizeof(path), "%s/junk.db", dir);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("this is not an SQLite database, not even close to one..........\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(chmod(path, 0644), 0);
	CU_ASSERT_NOT_EQUAL(en_peercache_open(path, key_a, &c, why, sizeof(why)), 0);
	CU_ASSERT_PTR_NULL(c);
	unlink(path);
	rmdir(dir);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_put_load_remove),
	NTM_TEST(test_self_vips_and_owner),
	NTM_TEST(test_bounded),
	NTM_TEST(test_refuses_odd_files),
};

int main(void)
{
	return ntm_test_run("peercache", cases, sizeof(cases) / sizeof(cases[0]));
}
