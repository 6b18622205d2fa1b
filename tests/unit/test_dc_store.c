/* SPDX-License-Identifier: MIT */
/*
 * The SQLite store on a real temporary file: file modes, WAL, enrolment and
 * its conflicts, revocation, tokens (only hashes stored, single use, expiry),
 * persistence across close/open, a failed enrolment and a process killed in
 * the middle of a transaction both leaving the old state, schema checks.
 */
#include "dc/store.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/crypto.h"
#include "dc/token.h"
#include "ntm_test.h"

enum { NOW = 1700000000 };

struct fixture {
	char dir[64];
	char path[96];
	struct dc_store *store;
	struct dc_pool p4, p6;
	char why[DC_STORE_WHY_MAX];
};

static struct dc_pool make_pool(const char *text)
{
	struct ntm_prefix pf;
	struct dc_pool pool;

	CU_ASSERT_EQUAL_FATAL(ntm_prefix_parse(text, 0, &pf, NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(dc_pool_init(&pool, &pf, NULL, 0), 0);
	return pool;
}

static void fx_open(struct fixture *fx)
{
	CU_ASSERT_EQUAL_FATAL(dc_store_open(fx->path, &fx->store, fx->why, sizeof(fx->why)), 0);
}

/* The database goes one directory down, so that open has to create it. */
static void fx_init(struct fixture *fx)
{
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_dc_store.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/state/dc.db", fx->dir);
	fx->p4 = make_pool("100.80.0.0/16");
	fx->p6 = make_pool("fd80:1::/64");
	fx_open(fx);
}

static void fx_fini(struct fixture *fx)
{
	char cmd[128];

	dc_store_close(fx->store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static struct ntm_key key_of(uint8_t b)
{
	struct ntm_key k;

	memset(k.b, b, sizeof(k.b));
	return k;
}

static int enroll_tok(struct fixture *fx, const char *fqdn, uint8_t keybyte, const uint8_t *hash,
		      int64_t now, struct dc_node *n)
{
	struct ntm_key key = key_of(keybyte);
	struct dc_enrolment e = { .fqdn = fqdn,
				  .pubkey = &key,
				  .pool4 = &fx->p4,
				  .pool6 = &fx->p6,
				  .token_hash = hash,
				  .now = now };

	return dc_store_enroll(fx->store, &e, n, fx->why, sizeof(fx->why));
}

static int enroll(struct fixture *fx, const char *fqdn, uint8_t keybyte, struct dc_node *n)
{
	return enroll_tok(fx, fqdn, keybyte, NULL, NOW, n);
}

static int count_nodes_cb(void *ctx, const struct dc_node *n)
{
	(*(int *)ctx)++;
	return 0;
}

static int count_nodes(struct fixture *fx)
{
	int n = 0;

	CU_ASSERT_EQUAL(dc_store_foreach_node(fx->store, count_nodes_cb, &n), 0);
	return n;
}

/* One text value from the database through a separate connection. */
static void sql_text(const char *path, const char *sql, char *out, size_t cap)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	out[0] = '\0';
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(path, &db), SQLITE_OK);
	CU_ASSERT_EQUAL_FATAL(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL) {
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_open_modes_and_wal(void)
{
	struct fixture fx;
	struct stat st;
	char dir[96], text[64];

	fx_init(&fx);
	snprintf(dir, sizeof(dir), "%s/state", fx.dir);
	CU_ASSERT_EQUAL(stat(dir, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
	CU_ASSERT_EQUAL(stat(fx.path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	sql_text(fx.path, "PRAGMA journal_mode", text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "wal");
	sql_text(fx.path, "SELECT version FROM schema_version", text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "2");
	fx_fini(&fx);
}

static void test_enroll_and_lookup(void)
{
	struct fixture fx;
	struct ntm_key k = key_of(7);
	struct dc_node n, m;

	fx_init(&fx);
	CU_ASSERT_EQUAL(enroll(&fx, "a.example.net", 7, &n), 0);
	CU_ASSERT_STRING_EQUAL(n.fqdn, "a.example.net");
	CU_ASSERT_STRING_EQUAL(n.vip4, "100.80.0.2");
	CU_ASSERT_STRING_EQUAL(n.vip6, "fd80:1::2");
	CU_ASSERT_EQUAL(n.enrolled_at, NOW);
	CU_ASSERT_TRUE(ntm_key_equal(&n.pubkey, &k));
	CU_ASSERT_STRING_EQUAL(n.real, "");
	CU_ASSERT_STRING_EQUAL(n.nat, "");
	CU_ASSERT_EQUAL(n.last_seen, 0);
	CU_ASSERT_EQUAL(dc_store_node_by_key(fx.store, &k, &m), 0);
	CU_ASSERT_EQUAL(m.id, n.id);
	k = key_of(8);
	CU_ASSERT_EQUAL(dc_store_node_by_key(fx.store, &k, &m), -ENOENT);
	CU_ASSERT_EQUAL(dc_store_node_by_fqdn(fx.store, "b.example.net", &m), -ENOENT);
	fx_fini(&fx);
}

static void test_conflicts(void)
{
	struct fixture fx;
	struct ntm_key k = key_of(1), r = key_of(9);
	struct dc_node n;

	fx_init(&fx);
	CU_ASSERT_EQUAL(enroll(&fx, "a.example.net", 1, &n), 0);
	CU_ASSERT_EQUAL(enroll(&fx, "a.example.net", 2, &n), -EEXIST);
	CU_ASSERT_STRING_EQUAL(fx.why, "a.example.net is already enrolled");
	CU_ASSERT_EQUAL(enroll(&fx, "b.example.net", 1, &n), -EEXIST);
	CU_ASSERT_STRING_EQUAL(fx.why, "this key is already enrolled as a.example.net");
	CU_ASSERT_EQUAL(dc_store_enroll_relay(fx.store, "rs1", &r, NOW, fx.why, sizeof(fx.why)), 0);
	CU_ASSERT_EQUAL(dc_store_enroll_relay(fx.store, "rs1", &r, NOW, fx.why, sizeof(fx.why)),
			-EEXIST);
	CU_ASSERT_STRING_EQUAL(fx.why, "relay rs1 is already enrolled");
	CU_ASSERT_EQUAL(dc_store_enroll_relay(fx.store, "rs2", &k, NOW, fx.why, sizeof(fx.why)),
			-EEXIST);
	CU_ASSERT_STRING_EQUAL(fx.why, "this key is already enrolled as a.example.net");
	CU_ASSERT_EQUAL(enroll(&fx, "c.example.net", 9, &n), -EEXIST);
	CU_ASSERT_STRING_EQUAL(fx.why, "this key is already enrolled as relay rs1");
	CU_ASSERT_EQUAL(count_nodes(&fx), 1);
	{
		char name[DC_FQDN_SIZE];

		CU_ASSERT_EQUAL(dc_store_relay_by_key(fx.store, &r, name), 0);
		CU_ASSERT_STRING_EQUAL(name, "rs1");
		CU_ASSERT_EQUAL(dc_store_relay_by_key(fx.store, &k, name), -ENOENT);
		CU_ASSERT_STRING_EQUAL(name, "");
	}
	fx_fini(&fx);
}

static void test_revoke(void)
{
	struct fixture fx;
	struct dc_node n;

	fx_init(&fx);
	CU_ASSERT_EQUAL(enroll(&fx, "a.example.net", 1, &n), 0);
	CU_ASSERT_EQUAL(dc_store_revoke(fx.store, "b.example.net", &n, fx.why, sizeof(fx.why)),
			-ENOENT);
	CU_ASSERT_STRING_EQUAL(fx.why, "b.example.net is not enrolled");
	CU_ASSERT_EQUAL(dc_store_revoke(fx.store, "a.example.net", &n, fx.why, sizeof(fx.why)), 0);
	CU_ASSERT_STRING_EQUAL(n.vip4, "100.80.0.2");
	CU_ASSERT_EQUAL(count_nodes(&fx), 0);
	/* Name and key are free again. */
	CU_ASSERT_EQUAL(enroll(&fx, "a.example.net", 1, &n), 0);
	fx_fini(&fx);
}

static void test_token_text_and_hash(void)
{
	char text[DC_TOKEN_TEXT_SIZE], bad[DC_TOKEN_TEXT_SIZE];
	uint8_t h1[DC_TOKEN_HASH_LEN], h2[DC_TOKEN_HASH_LEN];

	CU_ASSERT_EQUAL_FATAL(ntm_crypto_init(), 0);
	dc_token_generate(text, h1);
	CU_ASSERT_EQUAL(strlen(text), DC_TOKEN_TEXT_LEN);
	CU_ASSERT_EQUAL(
		strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
		DC_TOKEN_TEXT_LEN);
	CU_ASSERT_EQUAL(dc_token_hash(text, strlen(text), h2), 0);
	CU_ASSERT_EQUAL(memcmp(h1, h2, sizeof(h1)), 0);
	CU_ASSERT_EQUAL(dc_token_hash(text, strlen(text) - 1, h2), -EINVAL);
	memcpy(bad, text, sizeof(bad));
	bad[5] = '+'; /* standard base64, not base64url */
	CU_ASSERT_EQUAL(dc_token_hash(bad, strlen(bad), h2), -EINVAL);
	/* 43 characters carry 258 bits: the 2 spare bits must be zero. */
	memcpy(bad, text, sizeof(bad));
	bad[42] = bad[42] == 'B' ? 'C' : 'B';
	CU_ASSERT_EQUAL(dc_token_hash(bad, strlen(bad), h2), -EINVAL);
	dc_token_generate(bad, h2);
	CU_ASSERT_NOT_EQUAL(memcmp(h1, h2, sizeof(h1)), 0);
}

/* A token stored for `fqdn`; its text into text[DC_TOKEN_TEXT_SIZE]. */
static int add_token(struct fixture *fx, const char *fqdn, int64_t ttl, char *text,
		     uint8_t hash[DC_TOKEN_HASH_LEN])
{
	struct dc_token_rec t = { .fqdn = fqdn, .created = NOW, .expires = NOW + ttl };

	dc_token_generate(text, t.hash);
	memcpy(hash, t.hash, DC_TOKEN_HASH_LEN);
	return dc_store_token_add(fx->store, &t, fx->why, sizeof(fx->why));
}

static void test_tokens(void)
{
	struct fixture fx;
	char text[DC_TOKEN_TEXT_SIZE], stored[256];
	uint8_t ha[DC_TOKEN_HASH_LEN], hb[DC_TOKEN_HASH_LEN], wrong[DC_TOKEN_HASH_LEN];
	struct dc_node n;
	size_t count;

	CU_ASSERT_EQUAL_FATAL(ntm_crypto_init(), 0);
	fx_init(&fx);
	CU_ASSERT_EQUAL(add_token(&fx, "a.example.net", 3600, text, ha), 0);
	/* Only the hash is in the database, never the text. */
	sql_text(fx.path, "SELECT hex(hash) FROM tokens", stored, sizeof(stored));
	CU_ASSERT_EQUAL(strlen(stored), 64);
	CU_ASSERT_PTR_NULL(strstr(stored, text));
	CU_ASSERT_EQUAL(add_token(&fx, "b.example.net", 3600, text, hb), 0);
	memset(wrong, 0x55, sizeof(wrong));
	CU_ASSERT_EQUAL(enroll_tok(&fx, "a.example.net", 1, wrong, NOW, &n), -EACCES);
	CU_ASSERT_STRING_EQUAL(fx.why, "no such token for a.example.net");
	CU_ASSERT_EQUAL(enroll_tok(&fx, "a.example.net", 1, hb, NOW, &n), -EACCES);
	CU_ASSERT_EQUAL(enroll_tok(&fx, "a.example.net", 1, ha, NOW + 3600, &n), -EACCES);
	CU_ASSERT_STRING_EQUAL(fx.why, "the token for a.example.net has expired");
	CU_ASSERT_EQUAL(enroll_tok(&fx, "a.example.net", 1, ha, NOW + 10, &n), 0);
	CU_ASSERT_EQUAL(dc_store_revoke(fx.store, "a.example.net", &n, fx.why, sizeof(fx.why)), 0);
	/* The revocation removed a's tokens: the used one cannot come back. */
	CU_ASSERT_EQUAL(enroll_tok(&fx, "a.example.net", 1, ha, NOW + 20, &n), -EACCES);
	CU_ASSERT_EQUAL(count_nodes(&fx), 0);
	/* A token for an enrolled name is refused; a new one replaces the unused one. */
	CU_ASSERT_EQUAL(enroll(&fx, "c.example.net", 3, &n), 0);
	CU_ASSERT_EQUAL(add_token(&fx, "c.example.net", 3600, text, ha), -EEXIST);
	CU_ASSERT_STRING_EQUAL(fx.why, "c.example.net is already enrolled (revoke it first)");
	CU_ASSERT_EQUAL(add_token(&fx, "b.example.net", 3600, text, ha), 0);
	CU_ASSERT_EQUAL(dc_store_token_count(fx.store, "b.example.net", &count), 0);
	CU_ASSERT_EQUAL(count, 1);
	CU_ASSERT_EQUAL(enroll_tok(&fx, "b.example.net", 2, hb, NOW, &n), -EACCES);
	CU_ASSERT_EQUAL(enroll_tok(&fx, "b.example.net", 2, ha, NOW, &n), 0);
	fx_fini(&fx);
}

static void test_used_token(void)
{
	struct fixture fx;
	char text[DC_TOKEN_TEXT_SIZE];
	uint8_t h[DC_TOKEN_HASH_LEN];
	struct dc_node n;

	CU_ASSERT_EQUAL_FATAL(ntm_crypto_init(), 0);
	fx_init(&fx);
	CU_ASSERT_EQUAL(add_token(&fx, "a.example.net", 3600, text, h), 0);
	CU_ASSERT_EQUAL(enroll_tok(&fx, "a.example.net", 1, h, NOW, &n), 0);
	CU_ASSERT_EQUAL(enroll_tok(&fx, "a.example.net", 2, h, NOW, &n), -EEXIST);
	sql_text(fx.path, "SELECT count(*) FROM tokens WHERE used IS NOT NULL", text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "1");
	/*
	 * Revoke removes the token with the node; should the node row go some
	 * other way (an admin's sqlite3), the used token still cannot enrol.
	 */
	sql_text(fx.path, "DELETE FROM nodes RETURNING fqdn", text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "a.example.net");
	CU_ASSERT_EQUAL(enroll_tok(&fx, "a.example.net", 2, h, NOW, &n), -EACCES);
	CU_ASSERT_STRING_EQUAL(fx.why, "the token for a.example.net was used already");
	fx_fini(&fx);
}

static void test_persistence(void)
{
	struct fixture fx;
	struct dc_node n;
	struct ntm_key r = key_of(9);

	fx_init(&fx);
	CU_ASSERT_EQUAL(enroll(&fx, "a.example.net", 1, &n), 0);
	CU_ASSERT_EQUAL(enroll(&fx, "b.example.net", 2, &n), 0);
	CU_ASSERT_EQUAL(dc_store_enroll_relay(fx.store, "rs1", &r, NOW, fx.why, sizeof(fx.why)), 0);
	dc_store_close(fx.store);
	fx_open(&fx);
	CU_ASSERT_EQUAL(count_nodes(&fx), 2);
	CU_ASSERT_EQUAL(dc_store_node_by_fqdn(fx.store, "b.example.net", &n), 0);
	CU_ASSERT_STRING_EQUAL(n.vip4, "100.80.0.3");
	CU_ASSERT_STRING_EQUAL(n.vip6, "fd80:1::3");
	CU_ASSERT_EQUAL(enroll(&fx, "c.example.net", 9, &n), -EEXIST);
	fx_fini(&fx);
}

/* The default Pool6 is a random RFC 4193 /64, picked once and kept across restarts. */
static void test_default_pool6(void)
{
	struct ntm_prefix a, b;
	struct fixture fx;

	fx_init(&fx);
	CU_ASSERT_EQUAL_FATAL(dc_store_default_pool6(fx.store, &a, fx.why, sizeof(fx.why)), 0);
	CU_ASSERT_EQUAL(a.family, AF_INET6);
	CU_ASSERT_EQUAL(a.prefix_len, 64);
	CU_ASSERT_EQUAL(a.addr[0], 0xfd);
	CU_ASSERT_FALSE(ntm_prefix_has_host_bits(&a));
	dc_store_close(fx.store);
	fx_open(&fx);
	CU_ASSERT_EQUAL_FATAL(dc_store_default_pool6(fx.store, &b, fx.why, sizeof(fx.why)), 0);
	CU_ASSERT_EQUAL(memcmp(a.addr, b.addr, 16), 0);
	CU_ASSERT_EQUAL(b.prefix_len, 64);
	fx_fini(&fx);
}

/* An enrolment that fails at its last allocation leaves nothing behind. */
static void test_failed_enrolment_rolls_back(void)
{
	struct fixture fx;
	struct dc_node n;
	char cursor[64];

	fx_init(&fx);
	fx.p6 = make_pool("fd80:1::/120");
	for (int i = 0; i < 126; i++) {
		char name[32];

		snprintf(name, sizeof(name), "n%d.example.net", i);
		CU_ASSERT_EQUAL_FATAL(enroll(&fx, name, (uint8_t)(i + 1), &n), 0);
	}
	CU_ASSERT_EQUAL(enroll(&fx, "late.example.net", 200, &n), -ENOSPC);
	CU_ASSERT_STRING_EQUAL(fx.why, "the IPv6 pool fd80:1::/120 is exhausted");
	CU_ASSERT_EQUAL(count_nodes(&fx), 126);
	/* The IPv4 cursor did not move: the v4 step ran, then was rolled back. */
	sql_text(fx.path, "SELECT value FROM meta WHERE key = 'cursor4'", cursor, sizeof(cursor));
	CU_ASSERT_STRING_EQUAL(cursor, "100.80.0.127");
	fx_fini(&fx);
}

/*
 * A writer killed in the middle of a transaction: a child process begins
 * one, inserts enough rows with a tiny page cache that uncommitted frames
 * reach the WAL file, then SIGKILLs itself. Reopened, the store shows the
 * committed state only, and works.
 */
static void crash_child(const char *path, int fd)
{
	sqlite3 *db;
	struct stat st;
	char wal[128], sql[160];
	int ok = sqlite3_open(path, &db) == SQLITE_OK &&
		 sqlite3_exec(db, "PRAGMA cache_size = 1; BEGIN IMMEDIATE", NULL, NULL, NULL) ==
			 SQLITE_OK;

	for (int i = 0; ok && i < 2000; i++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO nodes (fqdn, pubkey, vip4, vip6, enrolled_at) VALUES "
			 "('x%d.example.net', randomblob(32), 'v4-%d', 'v6-%d', 0)",
			 i, i, i);
		ok = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
	}
	snprintf(wal, sizeof(wal), "%s-wal", path);
	ok = ok && stat(wal, &st) == 0 && st.st_size > 0;
	if (write(fd, ok ? "y" : "n", 1) != 1) {
		_exit(3);
	}
	raise(SIGKILL);
	_exit(4);
}

static void test_crash_mid_transaction(void)
{
	struct fixture fx;
	struct dc_node n;
	int fds[2], status;
	char flag = 0;
	pid_t pid;

	fx_init(&fx);
	CU_ASSERT_EQUAL(enroll(&fx, "a.example.net", 1, &n), 0);
	CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		crash_child(fx.path, fds[1]);
	}
	close(fds[1]);
	CU_ASSERT_EQUAL(read(fds[0], &flag, 1), 1);
	close(fds[0]);
	CU_ASSERT_EQUAL(flag, 'y'); /* uncommitted frames were in the WAL */
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	dc_store_close(fx.store);
	fx_open(&fx);
	CU_ASSERT_EQUAL(count_nodes(&fx), 1);
	CU_ASSERT_EQUAL(enroll(&fx, "b.example.net", 2, &n), 0);
	CU_ASSERT_STRING_EQUAL(n.vip4, "100.80.0.3");
	fx_fini(&fx);
}

static void test_open_errors(void)
{
	struct fixture fx;
	struct dc_store *s;
	char why[DC_STORE_WHY_MAX], want[256];
	FILE *f;

	fx_init(&fx);
	dc_store_close(fx.store);
	fx.store = NULL;
	/* A newer schema is refused, not downgraded. */
	{
		sqlite3 *db;

		CU_ASSERT_EQUAL_FATAL(sqlite3_open(fx.path, &db), SQLITE_OK);
		CU_ASSERT_EQUAL(sqlite3_exec(db, "UPDATE schema_version SET version = 99", NULL,
					     NULL, NULL),
				SQLITE_OK);
		sqlite3_close(db);
	}
	CU_ASSERT_EQUAL(dc_store_open(fx.path, &s, why, sizeof(why)), -EPROTO);
	CU_ASSERT_PTR_NULL(s);
	snprintf(want, sizeof(want), "%s: schema version 99 is not one this ntm-dc knows (%d)",
		 fx.path, DC_STORE_SCHEMA_VERSION);
	CU_ASSERT_STRING_EQUAL(why, want);
	/* Not a database. */
	unlink(fx.path);
	f = fopen(fx.path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("this is not an SQLite database, just text that is long enough to matter\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(dc_store_open(fx.path, &s, why, sizeof(why)), -EIO);
	snprintf(want, sizeof(want), "%s: file is not a database", fx.path);
	CU_ASSERT_STRING_EQUAL(why, want);
	/* A parent that cannot be created. */
	CU_ASSERT_EQUAL(dc_store_open("/nonexistent-ntm-test/a/dc.db", &s, why, sizeof(why)),
			-ENOENT);
	CU_ASSERT_STRING_EQUAL(why, "/nonexistent-ntm-test/a: cannot create the directory: No "
				    "such file or directory");
	fx_fini(&fx);
}

/* Our own allocations failing inside an enrolment: a clean error and no change. */
static void test_alloc_failure_in_enroll(void)
{
	struct fixture fx;
	struct dc_node n;
	int rc;

	fx_init(&fx);
	CU_ASSERT_EQUAL(enroll(&fx, "a.example.net", 1, &n), 0);
	for (long k = 0; k < 4; k++) {
		ntm_alloc_fail_after(k);
		rc = enroll(&fx, "b.example.net", 2, &n);
		ntm_alloc_fail_reset();
		if (rc == 0) {
			break;
		}
		CU_ASSERT_EQUAL(rc, -ENOMEM);
		CU_ASSERT_STRING_EQUAL(fx.why, "out of memory");
		CU_ASSERT_EQUAL(count_nodes(&fx), 1);
	}
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(n.vip4, "100.80.0.3");
	fx_fini(&fx);
}

/* Nodes are unpublished unless enrolled with publish or switched on; lookups see only those. */
static void test_publish(void)
{
	struct fixture fx;
	struct dc_node n, got;
	bool changed;

	fx_init(&fx);
	CU_ASSERT_EQUAL(enroll(&fx, "a.sub.example.net", 1, &n), 0);
	CU_ASSERT_FALSE(n.published);
	CU_ASSERT_EQUAL(dc_store_published_lookup(fx.store, "a.sub.example.net", &got), 0);
	CU_ASSERT_EQUAL(dc_store_published_lookup(fx.store, "sub.example.net", &got), 0);
	CU_ASSERT_EQUAL(dc_store_publish(fx.store, "a.sub.example.net", true, &changed, fx.why,
					 sizeof(fx.why)),
			0);
	CU_ASSERT_TRUE(changed);
	CU_ASSERT_EQUAL(dc_store_published_lookup(fx.store, "a.sub.example.net", &got), 1);
	CU_ASSERT_STRING_EQUAL(got.vip4, n.vip4);
	CU_ASSERT_TRUE(got.published);
	/* an empty non-terminal above a published node; not above its suffix-alike */
	CU_ASSERT_EQUAL(dc_store_published_lookup(fx.store, "sub.example.net", &got), 2);
	CU_ASSERT_EQUAL(dc_store_published_lookup(fx.store, "b.sub.example.net", &got), 0);
	CU_ASSERT_EQUAL(dc_store_published_lookup(fx.store, "ub.example.net", &got), 0);
	CU_ASSERT_EQUAL(dc_store_publish(fx.store, "a.sub.example.net", true, &changed, fx.why,
					 sizeof(fx.why)),
			0);
	CU_ASSERT_FALSE(changed);
	CU_ASSERT_EQUAL(dc_store_publish(fx.store, "a.sub.example.net", false, &changed, fx.why,
					 sizeof(fx.why)),
			0);
	CU_ASSERT_TRUE(changed);
	CU_ASSERT_EQUAL(dc_store_published_lookup(fx.store, "a.sub.example.net", &got), 0);
	CU_ASSERT_EQUAL(dc_store_publish(fx.store, "nobody.example.net", true, NULL, fx.why,
					 sizeof(fx.why)),
			-ENOENT);
	fx_fini(&fx);
}

/* A database of schema 1 (before publication existed) opens, migrates, keeps its nodes. */
static void test_migration_from_1(void)
{
	struct fixture fx;
	struct dc_node n;
	char text[32];
	sqlite3 *db;

	fx_init(&fx);
	CU_ASSERT_EQUAL(enroll(&fx, "a.example.net", 1, &n), 0);
	dc_store_close(fx.store);
	CU_ASSERT_EQUAL_FATAL(sqlite3_open(fx.path, &db), SQLITE_OK);
	CU_ASSERT_EQUAL(sqlite3_exec(db,
				     "DROP INDEX nodes_published;"
				     "ALTER TABLE nodes DROP COLUMN published;"
				     "UPDATE schema_version SET version = 1",
				     NULL, NULL, NULL),
			SQLITE_OK);
	sqlite3_close(db);
	fx_open(&fx);
	sql_text(fx.path, "SELECT version FROM schema_version", text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "2");
	CU_ASSERT_EQUAL(dc_store_node_by_fqdn(fx.store, "a.example.net", &n), 0);
	CU_ASSERT_FALSE(n.published);
	fx_fini(&fx);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_open_modes_and_wal),
	NTM_TEST(test_enroll_and_lookup),
	NTM_TEST(test_conflicts),
	NTM_TEST(test_revoke),
	NTM_TEST(test_token_text_and_hash),
	NTM_TEST(test_tokens),
	NTM_TEST(test_used_token),
	NTM_TEST(test_persistence),
	NTM_TEST(test_default_pool6),
	NTM_TEST(test_failed_enrolment_rolls_back),
	NTM_TEST(test_crash_mid_transaction),
	NTM_TEST(test_open_errors),
	NTM_TEST(test_alloc_failure_in_enroll),
	NTM_TEST(test_publish),
	NTM_TEST(test_migration_from_1),
};

NTM_TEST_MAIN("dc_store", cases)
