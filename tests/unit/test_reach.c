/* SPDX-License-Identifier: MIT */
/* Peer reachability from answered and unanswered packets (endnode/reach.h). */
#include "endnode/reach.h"

#include "ntm_test.h"

static const uint64_t t0 = 1000000;

static void test_unknown_until_heard(void)
{
	struct en_reach r = { 0 };
	enum en_reach_state st;

	CU_ASSERT_EQUAL(en_reach_get(&r, t0), EN_REACH_UNKNOWN);
	CU_ASSERT_EQUAL(en_reach_idle_ms(&r, t0), -1);
	en_reach_wanted(&r, t0); /* an initiation, no answer yet */
	CU_ASSERT_EQUAL(en_reach_get(&r, t0 + EN_REACH_TIMEOUT_MS - 1), EN_REACH_UNKNOWN);
	CU_ASSERT_FALSE(en_reach_received(&r, t0 + 50));
	CU_ASSERT_EQUAL(en_reach_get(&r, t0 + EN_REACH_TIMEOUT_MS * 10), EN_REACH_REACHABLE);
	/* Nothing either way for long: nobody knows. */
	CU_ASSERT_EQUAL(en_reach_get(&r, t0 + 50 + EN_REACH_IDLE_MS - 1), EN_REACH_REACHABLE);
	CU_ASSERT_EQUAL(en_reach_get(&r, t0 + 50 + EN_REACH_IDLE_MS), EN_REACH_IDLE);
	CU_ASSERT_EQUAL(en_reach_idle_ms(&r, t0 + 1050), 1000);
	CU_ASSERT_FALSE(en_reach_check(&r, t0 + 60, &st));
	CU_ASSERT_EQUAL(st, EN_REACH_REACHABLE);
}

static void test_unanswered_turns_unreachable(void)
{
	struct en_reach r = { 0 };
	enum en_reach_state st;

	(void)en_reach_received(&r, t0);
	en_reach_wanted(&r, t0 + 100);
	/* Later packets do not move the start of the wait. */
	en_reach_wanted(&r, t0 + 5000);
	CU_ASSERT_EQUAL(en_reach_get(&r, t0 + 100 + EN_REACH_TIMEOUT_MS - 1), EN_REACH_REACHABLE);
	CU_ASSERT_EQUAL(en_reach_get(&r, t0 + 100 + EN_REACH_TIMEOUT_MS), EN_REACH_UNREACHABLE);
	/* Reported once. */
	CU_ASSERT_TRUE(en_reach_check(&r, t0 + 100 + EN_REACH_TIMEOUT_MS, &st));
	CU_ASSERT_EQUAL(st, EN_REACH_UNREACHABLE);
	CU_ASSERT_FALSE(en_reach_check(&r, t0 + 200 + EN_REACH_TIMEOUT_MS, &st));
	CU_ASSERT_EQUAL(st, EN_REACH_UNREACHABLE);
	/* Any authenticated packet brings it back, and says it was down. */
	CU_ASSERT_TRUE(en_reach_received(&r, t0 + 60000));
	CU_ASSERT_EQUAL(en_reach_get(&r, t0 + 60000), EN_REACH_REACHABLE);
	CU_ASSERT_FALSE(en_reach_received(&r, t0 + 60001));
}

static void test_idle_then_dead(void)
{
	struct en_reach r = { 0 };
	uint64_t t = t0 + EN_REACH_IDLE_MS * 2;

	(void)en_reach_received(&r, t0);
	CU_ASSERT_EQUAL(en_reach_get(&r, t), EN_REACH_IDLE);
	en_reach_wanted(&r, t); /* a packet after a long silence: the answer decides */
	CU_ASSERT_EQUAL(en_reach_get(&r, t + 1), EN_REACH_IDLE);
	CU_ASSERT_EQUAL(en_reach_get(&r, t + EN_REACH_TIMEOUT_MS), EN_REACH_UNREACHABLE);
}

static void test_answered_in_time(void)
{
	struct en_reach r = { 0 };

	for (uint64_t t = t0; t < t0 + 10 * EN_REACH_TIMEOUT_MS; t += 1000) {
		en_reach_wanted(&r, t);
		(void)en_reach_received(&r, t + 900);
		CU_ASSERT_EQUAL(en_reach_get(&r, t + 950), EN_REACH_REACHABLE);
	}
}

static void test_names(void)
{
	CU_ASSERT_STRING_EQUAL(en_reach_name(EN_REACH_UNKNOWN), "unknown");
	CU_ASSERT_STRING_EQUAL(en_reach_name(EN_REACH_REACHABLE), "reachable");
	CU_ASSERT_STRING_EQUAL(en_reach_name(EN_REACH_UNREACHABLE), "unreachable");
	CU_ASSERT_STRING_EQUAL(en_reach_name(EN_REACH_IDLE), "idle");
	CU_ASSERT_STRING_EQUAL(en_reach_name((enum en_reach_state)7), "?");
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_unknown_until_heard),
	NTM_TEST(test_unanswered_turns_unreachable),
	NTM_TEST(test_answered_in_time),
	NTM_TEST(test_idle_then_dead),
	NTM_TEST(test_names),
};

int main(void)
{
	return ntm_test_run("reach", cases, sizeof(cases) / sizeof(cases[0]));
}
