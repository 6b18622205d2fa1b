/* SPDX-License-Identifier: MIT */
#include "common/replay.h"

#include <string.h>

#include "common/alloc.h"
#include "common/timers.h"
#include "ntm_test.h"

#define REJECT NTM_WG_REJECT_AFTER_MESSAGES

static struct ntm_replay win; /* 1 KiB: keep it off the test's stack frame */

static void test_counter_zero(void)
{
	ntm_replay_init(&win);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, 0), 0);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, 0), -EALREADY);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, 1), 0);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, 0), -EALREADY);
}

static void test_in_order(void)
{
	const uint64_t n = 3 * NTM_REPLAY_RING_BITS + 17;

	ntm_replay_init(&win);
	for (uint64_t c = 0; c < n; c++) {
		CU_ASSERT_EQUAL_FATAL(ntm_replay_check_and_update(&win, c), 0);
	}
	/* Everything inside the window is a replay, everything below is too old. */
	for (uint64_t c = 0; c < n; c++) {
		int want = (n - 1 - c <= NTM_REPLAY_WINDOW) ? -EALREADY : -ESTALE;

		CU_ASSERT_EQUAL_FATAL(ntm_replay_check_and_update(&win, c), want);
	}
}

static void test_reordered_within_window(void)
{
	const uint64_t top = NTM_REPLAY_WINDOW + 1000;

	ntm_replay_init(&win);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, top), 0);
	/* Every counter down to the window's lower edge arrives late, once. */
	for (uint64_t c = top - 1; c >= top - NTM_REPLAY_WINDOW; c--) {
		CU_ASSERT_EQUAL_FATAL(ntm_replay_check_and_update(&win, c), 0);
	}
	for (uint64_t c = top - NTM_REPLAY_WINDOW; c <= top; c++) {
		CU_ASSERT_EQUAL_FATAL(ntm_replay_check_and_update(&win, c), -EALREADY);
	}
	/* Interleaved: odd counters first, then the even ones fill the gaps. */
	ntm_replay_init(&win);
	for (uint64_t c = 1; c < 2000; c += 2) {
		CU_ASSERT_EQUAL_FATAL(ntm_replay_check_and_update(&win, c), 0);
	}
	for (uint64_t c = 0; c < 2000; c += 2) {
		CU_ASSERT_EQUAL_FATAL(ntm_replay_check_and_update(&win, c), 0);
	}
	for (uint64_t c = 0; c < 2000; c++) {
		CU_ASSERT_EQUAL_FATAL(ntm_replay_check_and_update(&win, c), -EALREADY);
	}
}

static void test_window_edge(void)
{
	const uint64_t top = 100000;

	ntm_replay_init(&win);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, top), 0);
	/* Just beyond the edge: too old. Exactly at the edge: still accepted. */
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, top - NTM_REPLAY_WINDOW - 1), -ESTALE);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, top - NTM_REPLAY_WINDOW), 0);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, top - NTM_REPLAY_WINDOW), -EALREADY);
	/* Moving the top by one moves the edge by one. */
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, top + 1), 0);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, top - NTM_REPLAY_WINDOW), -ESTALE);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, top + 1 - NTM_REPLAY_WINDOW), 0);
}

/*
 * Fill every counter of the first ring lap, then move the top by each possible
 * distance: every counter inside the new window that was never accepted must
 * be accepted (no stale bit survives), every one accepted before is a replay.
 */
static void test_jump_clears_bitmap(void)
{
	const uint64_t lap = NTM_REPLAY_RING_BITS;

	for (uint64_t jump = 1; jump <= 3 * lap; jump += 61) {
		uint64_t top = (lap - 1) + jump;

		ntm_replay_init(&win);
		for (uint64_t c = 0; c < lap; c++) {
			CU_ASSERT_EQUAL_FATAL(ntm_replay_check_and_update(&win, c), 0);
		}
		CU_ASSERT_EQUAL_FATAL(ntm_replay_check_and_update(&win, top), 0);
		for (uint64_t c = top - NTM_REPLAY_WINDOW; c < top; c++) {
			int want = c < lap ? -EALREADY : 0;

			CU_ASSERT_EQUAL_FATAL(ntm_replay_check_and_update(&win, c), want);
		}
		CU_ASSERT_EQUAL_FATAL(
			ntm_replay_check_and_update(&win, top - NTM_REPLAY_WINDOW - 1), -ESTALE);
	}
	/* A jump far ahead leaves nothing of the old window. */
	ntm_replay_init(&win);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, 5), 0);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, UINT64_C(1) << 40), 0);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, 5), -ESTALE);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, (UINT64_C(1) << 40) - 1), 0);
	/* Same ring slot as the old 5, one lap later than the new top: not a replay. */
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, 5 + (UINT64_C(1) << 40)), 0);
}

static void test_max_counter(void)
{
	ntm_replay_init(&win);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, REJECT), -ERANGE);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, REJECT + 1), -ERANGE);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, UINT64_MAX), -ERANGE);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, REJECT - 1), 0);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, REJECT - 1), -EALREADY);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, REJECT), -ERANGE);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, REJECT - 2), 0);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, REJECT - 1 - NTM_REPLAY_WINDOW), 0);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, REJECT - 2 - NTM_REPLAY_WINDOW), -ESTALE);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, 0), -ESTALE);
}

/*
 * No arithmetic may wrap: a counter near 2^64 must not look "inside the
 * window" of a small top, and a small counter must not look new after a top
 * near the limit. Refused counters leave the window byte-for-byte unchanged.
 */
static void test_wraparound_and_unchanged_on_error(void)
{
	static struct ntm_replay before;
	static const uint64_t bad[] = { REJECT, UINT64_MAX, UINT64_MAX - NTM_REPLAY_WINDOW,
					UINT64_MAX - NTM_REPLAY_RING_BITS };

	ntm_replay_init(&win);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, 10), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(&before, &win, sizeof(win));
		CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, bad[i]), -ERANGE);
		CU_ASSERT_EQUAL(memcmp(&before, &win, sizeof(win)), 0);
	}
	memcpy(&before, &win, sizeof(win));
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, 10), -EALREADY);
	CU_ASSERT_EQUAL(memcmp(&before, &win, sizeof(win)), 0);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, 9), 0);

	ntm_replay_init(&win);
	CU_ASSERT_EQUAL(ntm_replay_check_and_update(&win, REJECT - 1), 0);
	for (uint64_t c = 0; c < 3 * NTM_REPLAY_RING_BITS; c += 7) {
		memcpy(&before, &win, sizeof(win));
		CU_ASSERT_EQUAL_FATAL(ntm_replay_check_and_update(&win, c), -ESTALE);
		CU_ASSERT_EQUAL_FATAL(memcmp(&before, &win, sizeof(win)), 0);
	}
}

/*
 * Naive reference: the set of accepted counters plus the greatest one,
 * applying the acceptance rule of replay.h literally. The set is an
 * open-addressing hash table of counter + 1 (0 = empty slot).
 */
enum { REF_SLOTS = 1 << 18 };

struct ref {
	uint64_t *slots;
	uint64_t greatest;
	bool any;
};

static uint64_t *ref_find(struct ref *r, uint64_t c)
{
	uint64_t key = c + 1;
	size_t i = (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 46) & (REF_SLOTS - 1);

	while (r->slots[i] != 0 && r->slots[i] != key) {
		i = (i + 1) & (REF_SLOTS - 1);
	}
	return &r->slots[i];
}

static int ref_check(struct ref *r, uint64_t c)
{
	uint64_t *slot;

	if (c >= REJECT) {
		return -ERANGE;
	}
	if (r->any && c < r->greatest && r->greatest - c > NTM_REPLAY_WINDOW) {
		return -ESTALE;
	}
	slot = ref_find(r, c);
	if (*slot != 0) {
		return -EALREADY;
	}
	*slot = c + 1;
	if (!r->any || c > r->greatest) {
		r->greatest = c;
	}
	r->any = true;
	return 0;
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: deterministic, good enough to pick test inputs */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

/* One input counter, biased towards the interesting places around the top. */
static uint64_t pick_counter(uint64_t *rng, uint64_t top, const uint64_t *recent)
{
	uint64_t r = rng_next(rng);
	uint64_t x = rng_next(rng);

	switch (r % 10) {
	case 0:
	case 1:
	case 2:
		return top + x % 4;
	case 3:
	case 4:
		return top - x % (NTM_REPLAY_WINDOW + 200);
	case 5:
		return top - NTM_REPLAY_WINDOW - 1 + x % 3;
	case 6:
	case 7:
		return recent[x % 64];
	case 8:
		return top + x % (4 * NTM_REPLAY_RING_BITS);
	default:
		/* rarely a jump anywhere (the next ones then play around it) */
		return (r >> 8) % 8 ? top + 1 : x;
	}
}

static void test_random_against_reference(void)
{
	uint64_t rng = UINT64_C(0x6e746d2d7265706c); /* fixed seed */
	uint64_t recent[64] = { 0 };
	struct ref ref = { 0 };
	unsigned seen[4] = { 0 }; /* accepted, -ERANGE, -ESTALE, -EALREADY */

	ref.slots = ntm_calloc(REF_SLOTS, sizeof(*ref.slots));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ref.slots);
	for (int round = 0; round < 4; round++) {
		/*
		 * Each round starts at a different base: 0, 2^32, random, and one
		 * that the jumps carry to Reject-After-Messages within the round.
		 */
		static const uint64_t bases[] = { 0, UINT64_C(1) << 32, 0, REJECT - 30000000 };
		uint64_t top = round == 2 ? rng_next(&rng) >> 1 : bases[round];

		ntm_replay_init(&win);
		memset(ref.slots, 0, REF_SLOTS * sizeof(*ref.slots));
		ref.any = false;
		for (int i = 0; i < 25000; i++) {
			uint64_t c = pick_counter(&rng, top, recent);
			int got = ntm_replay_check_and_update(&win, c);

			CU_ASSERT_EQUAL_FATAL(got, ref_check(&ref, c));
			recent[i % 64] = c;
			seen[got == 0 ? 0 : got == -ERANGE ? 1 : got == -ESTALE ? 2 : 3]++;
			top = ref.any ? ref.greatest : top;
		}
	}
	/* The mix must exercise every outcome, acceptance most. */
	fprintf(stderr, "accepted %u, -ERANGE %u, -ESTALE %u, -EALREADY %u ", seen[0], seen[1],
		seen[2], seen[3]);
	CU_ASSERT(seen[0] > 50000);
	CU_ASSERT(seen[1] > 500 && seen[2] > 5000 && seen[3] > 5000);
	ntm_free(ref.slots);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_counter_zero),
	NTM_TEST(test_in_order),
	NTM_TEST(test_reordered_within_window),
	NTM_TEST(test_window_edge),
	NTM_TEST(test_jump_clears_bitmap),
	NTM_TEST(test_max_counter),
	NTM_TEST(test_wraparound_and_unchanged_on_error),
	NTM_TEST(test_random_against_reference),
};

NTM_TEST_MAIN("replay", cases)
