/* SPDX-License-Identifier: MIT */
/*
 * VIP pools: the pure arithmetic (reserved indices, next-fit, wrap,
 * exhaustion) and allocation through the real store on a temporary SQLite
 * file (sequential, stable across reopen, release and reuse).
 */
#include "dc/pool.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dc/store.h"
#include "ntm_test.h"

static struct dc_pool make_pool(const char *text)
{
	struct ntm_prefix pf;
	struct dc_pool pool;

	CU_ASSERT_EQUAL_FATAL(ntm_prefix_parse(text, 0, &pf, NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(dc_pool_init(&pool, &pf, NULL, 0), 0);
	return pool;
}

static int init_text(const char *text, char *why, size_t whylen)
{
	struct ntm_prefix pf;
	struct dc_pool pool;

	if (ntm_prefix_parse(text, NTM_PREFIX_KEEP_HOST, &pf, NULL, 0) < 0) {
		return -100;
	}
	return dc_pool_init(&pool, &pf, why, whylen);
}

static void test_init_limits(void)
{
	char why[128];
	struct dc_pool p4 = make_pool("100.80.0.0/16");
	struct dc_pool p6 = make_pool("fd80:1::/64");
	struct dc_pool small6 = make_pool("fd80:1::/120");

	CU_ASSERT_EQUAL(p4.first, 2);
	CU_ASSERT_EQUAL(p4.last, 65534);
	CU_ASSERT_EQUAL(dc_pool_capacity(&p4), 65533);
	CU_ASSERT_EQUAL(p6.first, 2);
	CU_ASSERT_EQUAL(p6.last, UINT64_MAX - 128);
	CU_ASSERT_EQUAL(dc_pool_capacity(&small6), 126);
	CU_ASSERT_EQUAL(init_text("10.0.0.0/30", why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(init_text("10.0.0.0/31", why, sizeof(why)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(why, "an IPv4 pool must be /8 to /30");
	CU_ASSERT_EQUAL(init_text("10.0.0.0/7", why, sizeof(why)), -EINVAL);
	CU_ASSERT_EQUAL(init_text("fd80::/63", why, sizeof(why)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(why, "an IPv6 pool must be /64 to /120");
	CU_ASSERT_EQUAL(init_text("fd80::/121", why, sizeof(why)), -EINVAL);
	CU_ASSERT_EQUAL(init_text("100.80.0.1/16", why, sizeof(why)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(why, "bits are set past the prefix length");
}

static void test_sequential_and_reserved(void)
{
	struct dc_pool p = make_pool("192.0.2.0/29"); /* .0 network, .1 DC, .7 broadcast */
	uint64_t used[8], idx;
	char text[INET6_ADDRSTRLEN];
	size_t n = 0;

	for (uint64_t want = 2; want <= 6; want++) {
		CU_ASSERT_EQUAL(dc_pool_pick(&p, used, n, n == 0 ? 0 : used[n - 1] + 1, &idx), 0);
		CU_ASSERT_EQUAL(idx, want);
		used[n++] = idx;
	}
	CU_ASSERT_EQUAL(dc_pool_pick(&p, used, n, 0, &idx), -ENOSPC);
	CU_ASSERT_EQUAL(idx, 0);
	CU_ASSERT_FALSE(dc_pool_is_usable(&p, 0));
	CU_ASSERT_FALSE(dc_pool_is_usable(&p, DC_POOL_DC_INDEX));
	CU_ASSERT_FALSE(dc_pool_is_usable(&p, 7));
	CU_ASSERT_EQUAL(dc_pool_format(&p, DC_POOL_DC_INDEX, text, sizeof(text)), 0);
	CU_ASSERT_STRING_EQUAL(text, "192.0.2.1");
	CU_ASSERT_EQUAL(dc_pool_format(&p, 2, text, sizeof(text)), 0);
	CU_ASSERT_STRING_EQUAL(text, "192.0.2.2");
	CU_ASSERT_EQUAL(dc_pool_format(&p, 2, text, 5), -ENOSPC);
}

static void test_next_fit_wraps(void)
{
	struct dc_pool p = make_pool("192.0.2.0/29");
	uint64_t used[] = { 6, 2, 4, 4, 0, 7, 1 }; /* unsorted, a duplicate, unusable ones */
	uint64_t idx;

	CU_ASSERT_EQUAL(dc_pool_pick(&p, used, 7, 3, &idx), 0);
	CU_ASSERT_EQUAL(idx, 3);
	CU_ASSERT_EQUAL(dc_pool_pick(&p, used, 7, 4, &idx), 0);
	CU_ASSERT_EQUAL(idx, 5);
	/* Past the end: wraps to the first free index, 3. */
	CU_ASSERT_EQUAL(dc_pool_pick(&p, used, 7, 6, &idx), 0);
	CU_ASSERT_EQUAL(idx, 3);
	CU_ASSERT_EQUAL(dc_pool_pick(&p, used, 7, 1000, &idx), 0);
	CU_ASSERT_EQUAL(idx, 3);
}

static void test_v6_index_and_parse(void)
{
	struct dc_pool p = make_pool("fd80:1::/64");
	struct dc_pool q = make_pool("2001:db8:0:1::/120");
	char text[INET6_ADDRSTRLEN];
	uint64_t idx, used[] = { UINT64_MAX - 128 };

	CU_ASSERT_EQUAL(dc_pool_format(&p, UINT64_MAX - 128, text, sizeof(text)), 0);
	CU_ASSERT_STRING_EQUAL(text, "fd80:1::ffff:ffff:ffff:ff7f");
	CU_ASSERT_EQUAL(dc_pool_parse(&p, text, &idx), 0);
	CU_ASSERT_EQUAL(idx, UINT64_MAX - 128);
	/* The last usable index is taken and the cursor is there: wrap to 2. */
	CU_ASSERT_EQUAL(dc_pool_pick(&p, used, 1, UINT64_MAX - 128, &idx), 0);
	CU_ASSERT_EQUAL(idx, 2);
	CU_ASSERT_EQUAL(dc_pool_parse(&p, "fd80:2::5", &idx), -ERANGE);
	CU_ASSERT_EQUAL(dc_pool_parse(&p, "100.80.0.5", &idx), -EINVAL);
	CU_ASSERT_EQUAL(dc_pool_parse(&p, "fd80:1::1:0:5", &idx), 0);
	CU_ASSERT_EQUAL(idx, (UINT64_C(1) << 32) + 5);
	CU_ASSERT_EQUAL(dc_pool_parse(&q, "2001:db8:0:1::7f", &idx), 0);
	CU_ASSERT_EQUAL(idx, 127);
	CU_ASSERT_TRUE(dc_pool_is_usable(&q, 127));
	CU_ASSERT_FALSE(dc_pool_is_usable(&q, 128)); /* RFC 2526 anycast range */
}

/* ------------------------------------------------------- through the store */

struct fixture {
	char dir[64];
	char path[96];
	struct dc_store *store;
	struct dc_pool p4, p6;
};

static void fx_open(struct fixture *fx)
{
	char why[DC_STORE_WHY_MAX];

	CU_ASSERT_EQUAL_FATAL(dc_store_open(fx->path, &fx->store, why, sizeof(why)), 0);
}

static void fx_init(struct fixture *fx, const char *pool4, const char *pool6)
{
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_dc_pool.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof(fx->path), "%s/dc.db", fx->dir);
	fx->p4 = make_pool(pool4);
	fx->p6 = make_pool(pool6);
	fx_open(fx);
}

static void fx_fini(struct fixture *fx)
{
	char cmd[128];

	dc_store_close(fx->store);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx->dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static int enroll(struct fixture *fx, const char *fqdn, uint8_t keybyte, struct dc_node *node)
{
	struct ntm_key key;
	struct dc_enrolment e = {
		.fqdn = fqdn, .pubkey = &key, .pool4 = &fx->p4, .pool6 = &fx->p6, .now = 1700000000
	};
	char why[DC_STORE_WHY_MAX];

	memset(key.b, keybyte, sizeof(key.b));
	return dc_store_enroll(fx->store, &e, node, why, sizeof(why));
}

static void test_store_sequential_stable(void)
{
	struct fixture fx;
	struct dc_node n;
	char name[32];

	fx_init(&fx, "100.80.0.0/16", "fd80:1::/64");
	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "n%d.example.net", i);
		CU_ASSERT_EQUAL(enroll(&fx, name, (uint8_t)(i + 1), &n), 0);
	}
	CU_ASSERT_STRING_EQUAL(n.vip4, "100.80.0.6");
	CU_ASSERT_STRING_EQUAL(n.vip6, "fd80:1::6");
	dc_store_close(fx.store);
	fx_open(&fx);
	CU_ASSERT_EQUAL(dc_store_node_by_fqdn(fx.store, "n2.example.net", &n), 0);
	CU_ASSERT_STRING_EQUAL(n.vip4, "100.80.0.4");
	CU_ASSERT_STRING_EQUAL(n.vip6, "fd80:1::4");
	/* The cursor survived too: the next node continues the sequence. */
	CU_ASSERT_EQUAL(enroll(&fx, "n5.example.net", 6, &n), 0);
	CU_ASSERT_STRING_EQUAL(n.vip4, "100.80.0.7");
	fx_fini(&fx);
}

static void test_store_exhaustion_and_release(void)
{
	struct fixture fx;
	struct dc_node n;
	char why[DC_STORE_WHY_MAX];

	fx_init(&fx, "192.0.2.0/30", "fd80:1::/64"); /* one IPv4 address for nodes */
	CU_ASSERT_EQUAL(enroll(&fx, "a.example.net", 1, &n), 0);
	CU_ASSERT_STRING_EQUAL(n.vip4, "192.0.2.2");
	CU_ASSERT_EQUAL(enroll(&fx, "b.example.net", 2, &n), -ENOSPC);
	CU_ASSERT_STRING_EQUAL(n.fqdn, "");
	CU_ASSERT_EQUAL(dc_store_revoke(fx.store, "a.example.net", &n, why, sizeof(why)), 0);
	/* Released: b gets the address; its IPv6 address is the next one, not a's. */
	CU_ASSERT_EQUAL(enroll(&fx, "b.example.net", 2, &n), 0);
	CU_ASSERT_STRING_EQUAL(n.vip4, "192.0.2.2");
	CU_ASSERT_STRING_EQUAL(n.vip6, "fd80:1::3");
	fx_fini(&fx);
}

static void test_store_release_is_next_fit(void)
{
	struct fixture fx;
	struct dc_node n;
	char why[DC_STORE_WHY_MAX];

	fx_init(&fx, "192.0.2.0/29", "fd80:1::/120");
	CU_ASSERT_EQUAL(enroll(&fx, "a.example.net", 1, &n), 0); /* .2 */
	CU_ASSERT_EQUAL(enroll(&fx, "b.example.net", 2, &n), 0); /* .3 */
	CU_ASSERT_EQUAL(dc_store_revoke(fx.store, "a.example.net", &n, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(enroll(&fx, "c.example.net", 3, &n), 0);
	CU_ASSERT_STRING_EQUAL(n.vip4, "192.0.2.4"); /* not the freed .2 */
	CU_ASSERT_EQUAL(enroll(&fx, "d.example.net", 4, &n), 0);
	CU_ASSERT_EQUAL(enroll(&fx, "e.example.net", 5, &n), 0);
	CU_ASSERT_STRING_EQUAL(n.vip4, "192.0.2.6");
	CU_ASSERT_EQUAL(enroll(&fx, "f.example.net", 6, &n), 0);
	CU_ASSERT_STRING_EQUAL(n.vip4, "192.0.2.2"); /* wrapped to the freed one */
	CU_ASSERT_EQUAL(enroll(&fx, "g.example.net", 7, &n), -ENOSPC);
	fx_fini(&fx);
}

static void test_store_shrunk_pool(void)
{
	struct fixture fx;
	struct dc_node n;

	fx_init(&fx, "100.80.0.0/16", "fd80:1::/64");
	for (uint8_t i = 1; i <= 3; i++) {
		char name[32];

		snprintf(name, sizeof(name), "n%u.example.net", i);
		CU_ASSERT_EQUAL(enroll(&fx, name, i, &n), 0);
	}
	/* Another pool: the old leases stay, new ones come from the new pool. */
	fx.p4 = make_pool("100.81.0.0/24");
	CU_ASSERT_EQUAL(enroll(&fx, "n9.example.net", 9, &n), 0);
	CU_ASSERT_STRING_EQUAL(n.vip4, "100.81.0.2");
	CU_ASSERT_EQUAL(dc_store_node_by_fqdn(fx.store, "n1.example.net", &n), 0);
	CU_ASSERT_STRING_EQUAL(n.vip4, "100.80.0.2");
	fx_fini(&fx);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_init_limits),
	NTM_TEST(test_sequential_and_reserved),
	NTM_TEST(test_next_fit_wraps),
	NTM_TEST(test_v6_index_and_parse),
	NTM_TEST(test_store_sequential_stable),
	NTM_TEST(test_store_exhaustion_and_release),
	NTM_TEST(test_store_release_is_next_fit),
	NTM_TEST(test_store_shrunk_pool),
};

NTM_TEST_MAIN("dc_pool", cases)
