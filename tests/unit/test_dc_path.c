/* SPDX-License-Identifier: MIT */
/* The DC's path choice (dc/path.h): the rule of DESIGN "Flows" 3 for every pair of kinds. */
#include "dc/path.h"
#include "ntm_test.h"

enum { V4 = NTM_CTRL_FAMILY_V4, V6 = NTM_CTRL_FAMILY_V6, BOTH = V4 | V6 };

static struct dc_path_end end(uint8_t nat, uint8_t families, const char *outside)
{
	struct dc_path_end e = { .nat = nat, .families = families };
	char why[64];

	CU_ASSERT_FATAL(ntm_addr_parse(outside, 0, &e.outside, why, sizeof(why)) == 0);
	return e;
}

/* The choice must not depend on who asked. */
static struct dc_path_choice both_ways(const struct dc_path_end *a, const struct dc_path_end *b)
{
	struct dc_path_choice x = dc_path_choose(a, b), y = dc_path_choose(b, a);

	CU_ASSERT_EQUAL(x.path, y.path);
	CU_ASSERT_EQUAL(x.relay, y.relay);
	return x;
}

static void test_public_is_direct(void)
{
	struct dc_path_end pub = end(NTM_CTRL_NAT_PUBLIC, BOTH, "192.0.2.1:5000");
	struct dc_path_end sym = end(NTM_CTRL_NAT_EDM, V4, "198.51.100.1:6000");
	struct dc_path_end cone = end(NTM_CTRL_NAT_EIM, BOTH, "198.51.100.2:6000");
	struct dc_path_choice c = both_ways(&pub, &sym);

	CU_ASSERT_EQUAL(c.path, NTM_CTRL_PATH_DIRECT);
	CU_ASSERT_FALSE(c.relay);
	CU_ASSERT_EQUAL(both_ways(&pub, &cone).path, NTM_CTRL_PATH_DIRECT);
	CU_ASSERT_EQUAL(both_ways(&pub, &pub).path, NTM_CTRL_PATH_DIRECT);
}

static void test_eim_pair_punches_with_relay(void)
{
	struct dc_path_end a = end(NTM_CTRL_NAT_EIM, BOTH, "198.51.100.1:6000");
	struct dc_path_end b = end(NTM_CTRL_NAT_EIM, V4, "203.0.113.1:7000");
	struct dc_path_choice c = both_ways(&a, &b);

	CU_ASSERT_EQUAL(c.path, NTM_CTRL_PATH_PUNCHED);
	CU_ASSERT_TRUE(c.relay);
}

static void test_edm_needs_relay(void)
{
	struct dc_path_end sym = end(NTM_CTRL_NAT_EDM, BOTH, "198.51.100.1:6000");
	struct dc_path_end sym2 = end(NTM_CTRL_NAT_EDM, BOTH, "203.0.113.1:7000");
	struct dc_path_end cone = end(NTM_CTRL_NAT_EIM, BOTH, "203.0.113.2:7000");

	CU_ASSERT_EQUAL(both_ways(&sym, &sym2).path, NTM_CTRL_PATH_RELAY);
	CU_ASSERT_EQUAL(both_ways(&sym, &cone).path, NTM_CTRL_PATH_RELAY);
	CU_ASSERT_TRUE(both_ways(&sym, &cone).relay);
}

static void test_family_mismatch_is_relay_even_if_public(void)
{
	struct dc_path_end v4 = end(NTM_CTRL_NAT_PUBLIC, V4, "192.0.2.1:5000");
	struct dc_path_end v6 = end(NTM_CTRL_NAT_PUBLIC, V6, "[2001:db8::1]:5000");

	CU_ASSERT_EQUAL(both_ways(&v4, &v6).path, NTM_CTRL_PATH_RELAY);
}

static void test_same_nat(void)
{
	/* The same outside IP, other ports: even two symmetric mappings meet inside. */
	struct dc_path_end a = end(NTM_CTRL_NAT_EDM, V4, "198.51.100.1:6000");
	struct dc_path_end b = end(NTM_CTRL_NAT_EDM, V4, "198.51.100.1:6001");
	struct dc_path_choice c = both_ways(&a, &b);

	CU_ASSERT_EQUAL(c.path, NTM_CTRL_PATH_SAME_NAT);
	CU_ASSERT_TRUE(c.relay);
}

static void test_unknown_class_tries_a_punch(void)
{
	struct dc_path_end a = end(NTM_CTRL_NAT_UNKNOWN, V4, "198.51.100.1:6000");
	struct dc_path_end b = end(NTM_CTRL_NAT_EIM, V4, "203.0.113.1:7000");

	CU_ASSERT_EQUAL(both_ways(&a, &b).path, NTM_CTRL_PATH_PUNCHED);
}

static void test_names(void)
{
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_path_name(NTM_CTRL_PATH_SAME_NAT), "same-nat");
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_path_name(NTM_CTRL_PATH_RELAY), "relay");
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_nat_name(NTM_CTRL_NAT_EDM), "edm");
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_nat_name(NTM_CTRL_NAT_UNKNOWN), "");
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_public_is_direct),
	NTM_TEST(test_eim_pair_punches_with_relay),
	NTM_TEST(test_edm_needs_relay),
	NTM_TEST(test_family_mismatch_is_relay_even_if_public),
	NTM_TEST(test_same_nat),
	NTM_TEST(test_unknown_class_tries_a_punch),
	NTM_TEST(test_names),
};

NTM_TEST_MAIN("dc_path", cases)
