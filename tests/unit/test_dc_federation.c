/* SPDX-License-Identifier: MIT */
/* The pure parts of federation: pool overlap, the domain and key of a [Federation] section. */
#include "dc/federation.h"

#include <string.h>

#include "ntm_test.h"

static struct ntm_prefix pfx(const char *text)
{
	struct ntm_prefix p;

	CU_ASSERT_FATAL(ntm_prefix_parse(text, 0, &p, NULL, 0) == 0);
	return p;
}

static bool overlap(const char *a, const char *b)
{
	struct ntm_prefix x = pfx(a), y = pfx(b);
	bool r = dc_fed_prefix_overlap(&x, &y);

	CU_ASSERT_EQUAL(r, dc_fed_prefix_overlap(&y, &x)); /* symmetric */
	return r;
}

static void test_overlap(void)
{
	CU_ASSERT_TRUE(overlap("100.80.0.0/16", "100.80.0.0/16"));
	CU_ASSERT_TRUE(overlap("100.80.0.0/16", "100.80.4.0/24")); /* one inside the other */
	CU_ASSERT_TRUE(overlap("100.64.0.0/10", "100.80.0.0/16"));
	CU_ASSERT_FALSE(overlap("100.80.0.0/16", "100.81.0.0/16"));
	CU_ASSERT_FALSE(overlap("100.80.0.0/24", "100.80.1.0/24"));
	CU_ASSERT_TRUE(overlap("fd80:1::/64", "fd80:1::/96"));
	CU_ASSERT_FALSE(overlap("fd80:1::/64", "fd80:2::/64"));
	CU_ASSERT_FALSE(overlap("fd12:3456:789a::/64", "fd12:3456:789b::/64"));
	CU_ASSERT_FALSE(overlap("100.80.0.0/16", "fd80:1::/64")); /* families never overlap */
}

static void test_sections(void)
{
	struct dc_federation fed[2] = { { .domain = "b.example" },
					{ .domain = "c.example", .has_key = true } };
	struct dc_config cfg = { .domain = "a.example", .federation = fed, .n_federation = 2 };
	uint8_t other[NTM_KEY_LEN];

	memset(fed[1].public_key.b, 0x5a, NTM_KEY_LEN);
	memset(other, 0x5b, sizeof(other));
	CU_ASSERT_EQUAL(dc_fed_domain_of(&cfg, "x.b.example"), 0);
	CU_ASSERT_EQUAL(dc_fed_domain_of(&cfg, "X.C.Example."), 1);
	CU_ASSERT_EQUAL(dc_fed_domain_of(&cfg, "b.example"), -1); /* the domain itself is no node */
	CU_ASSERT_EQUAL(dc_fed_domain_of(&cfg, "x.a.example"), -1);
	CU_ASSERT_EQUAL(dc_fed_domain_of(&cfg, "x.xb.example"), -1);
	CU_ASSERT_EQUAL(dc_fed_domain_of(&cfg, "not a name"), -1);
	CU_ASSERT_EQUAL(dc_fed_by_key(&cfg, fed[1].public_key.b), 1);
	CU_ASSERT_EQUAL(dc_fed_by_key(&cfg, other), -1);
	/* an unpinned section matches no key */
	memset(fed[0].public_key.b, 0x5b, NTM_KEY_LEN);
	CU_ASSERT_EQUAL(dc_fed_by_key(&cfg, other), -1);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_overlap),
	NTM_TEST(test_sections),
};

NTM_TEST_MAIN("dc_federation", cases)
