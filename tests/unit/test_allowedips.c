/* SPDX-License-Identifier: MIT */
#include "endnode/allowedips.h"

#include <arpa/inet.h>
#include <string.h>

#include "common/alloc.h"
#include "ntm_test.h"

/* The table only stores peer pointers: any distinct addresses do. */
static char peers[4];
#define P(i) ((struct en_peer *)&peers[i])

static struct ntm_prefix pfx(const char *text)
{
	struct ntm_prefix p;

	CU_ASSERT_EQUAL_FATAL(ntm_prefix_parse(text, 0, &p, NULL, 0), 0);
	return p;
}

static void insert(struct en_allowedips *t, const char *text, struct en_peer *peer)
{
	struct ntm_prefix p = pfx(text);

	CU_ASSERT_EQUAL(en_allowedips_insert(t, &p, peer), 0);
}

static struct en_peer *lookup(const struct en_allowedips *t, const char *addr)
{
	uint8_t b[16];
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;

	CU_ASSERT_EQUAL_FATAL(inet_pton(family, addr, b), 1);
	return en_allowedips_lookup(t, family, b);
}

static void test_longest_prefix_v4(void)
{
	struct en_allowedips *t;

	CU_ASSERT_EQUAL_FATAL(en_allowedips_create(&t), 0);
	CU_ASSERT_PTR_NULL(lookup(t, "10.0.0.1"));
	insert(t, "10.0.0.0/8", P(0));
	insert(t, "10.1.0.0/16", P(1));
	insert(t, "10.1.2.3/32", P(2));
	insert(t, "0.0.0.0/0", P(3));
	CU_ASSERT_PTR_EQUAL(lookup(t, "10.9.9.9"), P(0));
	CU_ASSERT_PTR_EQUAL(lookup(t, "10.1.9.9"), P(1));
	CU_ASSERT_PTR_EQUAL(lookup(t, "10.1.2.3"), P(2));
	CU_ASSERT_PTR_EQUAL(lookup(t, "10.1.2.4"), P(1));
	CU_ASSERT_PTR_EQUAL(lookup(t, "192.0.2.1"), P(3));
	/* v4 prefixes never match v6 addresses, not even ::/0 vs 0.0.0.0/0. */
	CU_ASSERT_PTR_NULL(lookup(t, "::a00:1"));
	en_allowedips_destroy(t);
}

static void test_longest_prefix_v6(void)
{
	struct en_allowedips *t;

	CU_ASSERT_EQUAL_FATAL(en_allowedips_create(&t), 0);
	insert(t, "2001:db8::/32", P(0));
	insert(t, "2001:db8:1::/48", P(1));
	insert(t, "2001:db8:1::1/128", P(2));
	CU_ASSERT_PTR_EQUAL(lookup(t, "2001:db8:ffff::1"), P(0));
	CU_ASSERT_PTR_EQUAL(lookup(t, "2001:db8:1:2::1"), P(1));
	CU_ASSERT_PTR_EQUAL(lookup(t, "2001:db8:1::1"), P(2));
	CU_ASSERT_PTR_EQUAL(lookup(t, "2001:db8:1::2"), P(1));
	CU_ASSERT_PTR_NULL(lookup(t, "2001:db9::1"));
	CU_ASSERT_PTR_NULL(lookup(t, "32.1.13.184")); /* the same first bits, as IPv4 */
	insert(t, "::/0", P(3));
	CU_ASSERT_PTR_EQUAL(lookup(t, "fe80::1"), P(3));
	en_allowedips_destroy(t);
}

static void test_move_and_remove(void)
{
	struct en_allowedips *t;
	struct ntm_prefix p = pfx("10.1.0.0/16");
	struct ntm_prefix q = pfx("10.2.0.0/16");

	CU_ASSERT_EQUAL_FATAL(en_allowedips_create(&t), 0);
	insert(t, "10.0.0.0/8", P(0));
	insert(t, "10.1.0.0/16", P(1));
	/* Inserting a prefix another peer holds moves it. */
	insert(t, "10.1.0.0/16", P(2));
	CU_ASSERT_PTR_EQUAL(lookup(t, "10.1.0.1"), P(2));
	CU_ASSERT_EQUAL(en_allowedips_remove(t, &p), 0);
	CU_ASSERT_PTR_EQUAL(lookup(t, "10.1.0.1"), P(0));
	CU_ASSERT_EQUAL(en_allowedips_remove(t, &p), -ENOENT);
	CU_ASSERT_EQUAL(en_allowedips_remove(t, &q), -ENOENT);
	insert(t, "10.1.0.0/16", P(1));
	insert(t, "fd00::/8", P(1));
	en_allowedips_remove_peer(t, P(1));
	CU_ASSERT_PTR_EQUAL(lookup(t, "10.1.0.1"), P(0));
	CU_ASSERT_PTR_NULL(lookup(t, "fd00::1"));
	en_allowedips_remove_peer(t, P(0));
	CU_ASSERT_PTR_NULL(lookup(t, "10.1.0.1"));
	en_allowedips_destroy(t);
}

static void test_rejects_bad_prefixes(void)
{
	struct en_allowedips *t;
	struct ntm_prefix p = pfx("10.1.0.0/16");

	CU_ASSERT_EQUAL_FATAL(en_allowedips_create(&t), 0);
	CU_ASSERT_EQUAL(en_allowedips_insert(t, &p, NULL), -EINVAL);
	p.addr[3] = 1; /* host bits */
	CU_ASSERT_EQUAL(en_allowedips_insert(t, &p, P(0)), -EINVAL);
	p = pfx("10.1.0.0/16");
	p.prefix_len = 33;
	CU_ASSERT_EQUAL(en_allowedips_insert(t, &p, P(0)), -EINVAL);
	p.family = AF_UNIX;
	CU_ASSERT_EQUAL(en_allowedips_insert(t, &p, P(0)), -EINVAL);
	en_allowedips_destroy(t);
}

struct collect {
	char text[8][NTM_PREFIX_STRLEN];
	int n;
};

static void collect(void *ctx, const struct ntm_prefix *p)
{
	struct collect *c = ctx;

	if (c->n < 8) {
		CU_ASSERT_EQUAL(ntm_prefix_format(p, c->text[c->n], sizeof(c->text[0])), 0);
		c->n++;
	}
}

static void test_foreach(void)
{
	struct en_allowedips *t;
	struct collect c = { .n = 0 };

	CU_ASSERT_EQUAL_FATAL(en_allowedips_create(&t), 0);
	insert(t, "fd99::2/128", P(1));
	insert(t, "10.99.0.2/32", P(1));
	insert(t, "10.99.0.0/24", P(0));
	insert(t, "0.0.0.0/0", P(1));
	insert(t, "192.168.128.0/17", P(1));
	en_allowedips_foreach(t, P(1), collect, &c);
	CU_ASSERT_EQUAL_FATAL(c.n, 4);
	CU_ASSERT_STRING_EQUAL(c.text[0], "0.0.0.0/0");
	CU_ASSERT_STRING_EQUAL(c.text[1], "10.99.0.2/32");
	CU_ASSERT_STRING_EQUAL(c.text[2], "192.168.128.0/17");
	CU_ASSERT_STRING_EQUAL(c.text[3], "fd99::2/128");
	en_allowedips_destroy(t);
}

static void test_alloc_failure(void)
{
	struct en_allowedips *t;
	struct ntm_prefix p = pfx("2001:db8::1/128");

	CU_ASSERT_EQUAL_FATAL(en_allowedips_create(&t), 0);
	insert(t, "2001:db8::/32", P(0));
	for (long k = 0; k < 130; k++) {
		int rc;

		ntm_alloc_fail_after(k);
		rc = en_allowedips_insert(t, &p, P(1));
		ntm_alloc_fail_reset();
		if (rc == 0) {
			break;
		}
		CU_ASSERT_EQUAL(rc, -ENOMEM);
		/* A failed insert leaves the table as it was. */
		CU_ASSERT_PTR_EQUAL(lookup(t, "2001:db8::1"), P(0));
	}
	CU_ASSERT_PTR_EQUAL(lookup(t, "2001:db8::1"), P(1));
	en_allowedips_destroy(t);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_longest_prefix_v4), NTM_TEST(test_longest_prefix_v6),
	NTM_TEST(test_move_and_remove),	  NTM_TEST(test_rejects_bad_prefixes),
	NTM_TEST(test_foreach),		  NTM_TEST(test_alloc_failure),
};

NTM_TEST_MAIN("allowedips", cases)
