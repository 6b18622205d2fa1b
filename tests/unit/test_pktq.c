/* SPDX-License-Identifier: MIT */
/* The queue of packets waiting for a triggered tunnel (endnode/pktq.h). */
#include "endnode/pktq.h"

#include <sys/socket.h>

#include "ntm_test.h"

static const uint8_t dst_a[16] = { 100, 80, 0, 2 };
static const uint8_t dst_b[16] = { 100, 80, 0, 3 };
static const uint8_t dst_6[16] = { 0xfd, 0x80, [15] = 2 };

struct seen {
	uint8_t first[16];
	size_t n;
};

static void collect(void *ctx, const uint8_t *pkt, size_t len)
{
	struct seen *s = ctx;

	CU_ASSERT_EQUAL(len, 3);
	if (s->n < sizeof(s->first)) {
		s->first[s->n] = pkt[0];
	}
	s->n++;
}

static int push_byte(struct en_pktq *q, int family, const uint8_t *dst, uint8_t tag)
{
	const uint8_t pkt[3] = { tag, 0xee, 0xff };

	return en_pktq_push(q, family, dst, pkt, sizeof(pkt));
}

static void test_order_and_take(void)
{
	struct en_pktq_stats st;
	struct en_pktq *q;
	struct seen s = { .n = 0 };

	CU_ASSERT_EQUAL_FATAL(en_pktq_create(4, 16, &q), 0);
	CU_ASSERT_EQUAL(push_byte(q, AF_INET, dst_a, 1), 1); /* new destination */
	CU_ASSERT_EQUAL(push_byte(q, AF_INET, dst_a, 2), 0);
	CU_ASSERT_EQUAL(push_byte(q, AF_INET6, dst_6, 9), 1);
	CU_ASSERT_TRUE(en_pktq_has(q, AF_INET, dst_a));
	CU_ASSERT_FALSE(en_pktq_has(q, AF_INET, dst_b));
	CU_ASSERT_FALSE(en_pktq_has(q, AF_INET6, dst_a)); /* families apart */
	CU_ASSERT_EQUAL(en_pktq_take(q, AF_INET, dst_a, collect, &s), 2);
	CU_ASSERT_EQUAL(s.n, 2);
	CU_ASSERT_EQUAL(s.first[0], 1); /* oldest first */
	CU_ASSERT_EQUAL(s.first[1], 2);
	CU_ASSERT_FALSE(en_pktq_has(q, AF_INET, dst_a));
	CU_ASSERT_EQUAL(en_pktq_take(q, AF_INET, dst_a, collect, &s), 0);
	en_pktq_get_stats(q, &st);
	CU_ASSERT_EQUAL(st.queued, 3);
	CU_ASSERT_EQUAL(st.packets, 1);
	CU_ASSERT_EQUAL(st.dests, 1);
	CU_ASSERT_EQUAL(st.dropped_oldest, 0);
	en_pktq_destroy(q); /* frees the IPv6 packet still held (ASan checks) */
}

static void test_per_dest_bound(void)
{
	struct en_pktq_stats st;
	struct en_pktq *q;
	struct seen s = { .n = 0 };

	CU_ASSERT_EQUAL_FATAL(en_pktq_create(3, 100, &q), 0);
	for (uint8_t i = 1; i <= 5; i++) {
		CU_ASSERT(push_byte(q, AF_INET, dst_a, i) >= 0);
	}
	en_pktq_get_stats(q, &st);
	CU_ASSERT_EQUAL(st.packets, 3);
	CU_ASSERT_EQUAL(st.dropped_oldest, 2);
	CU_ASSERT_EQUAL(en_pktq_take(q, AF_INET, dst_a, collect, &s), 3);
	CU_ASSERT_EQUAL(s.first[0], 3); /* 1 and 2 were dropped */
	CU_ASSERT_EQUAL(s.first[2], 5);
	en_pktq_destroy(q);
}

static void test_total_bound(void)
{
	struct en_pktq_stats st;
	struct en_pktq *q;
	struct seen s = { .n = 0 };

	CU_ASSERT_EQUAL_FATAL(en_pktq_create(4, 4, &q), 0);
	CU_ASSERT_EQUAL(push_byte(q, AF_INET, dst_a, 1), 1);
	CU_ASSERT_EQUAL(push_byte(q, AF_INET, dst_b, 2), 1);
	CU_ASSERT_EQUAL(push_byte(q, AF_INET, dst_a, 3), 0);
	CU_ASSERT_EQUAL(push_byte(q, AF_INET, dst_b, 4), 0);
	CU_ASSERT_EQUAL(push_byte(q, AF_INET, dst_b, 5), 0); /* full: a's 1 goes */
	en_pktq_get_stats(q, &st);
	CU_ASSERT_EQUAL(st.packets, 4);
	CU_ASSERT_EQUAL(st.dropped_oldest, 1);
	CU_ASSERT_EQUAL(en_pktq_take(q, AF_INET, dst_a, collect, &s), 1);
	CU_ASSERT_EQUAL(s.first[0], 3);
	/* A destination emptied by drops still waits for its answer. */
	CU_ASSERT_EQUAL(push_byte(q, AF_INET, dst_a, 6), 1);
	CU_ASSERT_EQUAL(push_byte(q, AF_INET, dst_a, 7), 0); /* full again: b's 2 goes */
	CU_ASSERT_EQUAL(en_pktq_take(q, AF_INET, dst_b, NULL, NULL), 2);
	en_pktq_destroy(q);
}

static void test_dest_slots(void)
{
	struct en_pktq_stats st;
	struct en_pktq *q;
	uint8_t dst[4] = { 100, 80, 1, 0 };

	CU_ASSERT_EQUAL_FATAL(en_pktq_create(1, 1000, &q), 0);
	for (int i = 0; i < EN_PKTQ_DESTS_MAX; i++) {
		dst[3] = (uint8_t)i;
		CU_ASSERT_EQUAL(push_byte(q, AF_INET, dst, 1), 1);
	}
	dst[3] = 200;
	CU_ASSERT_EQUAL(push_byte(q, AF_INET, dst, 1), -ENOSPC);
	en_pktq_get_stats(q, &st);
	CU_ASSERT_EQUAL(st.refused, 1);
	CU_ASSERT_EQUAL(st.dests, EN_PKTQ_DESTS_MAX);
	dst[3] = 0;
	CU_ASSERT_EQUAL(en_pktq_take(q, AF_INET, dst, NULL, NULL), 1);
	dst[3] = 200;
	CU_ASSERT_EQUAL(push_byte(q, AF_INET, dst, 1), 1); /* a slot is free again */
	en_pktq_destroy(q);
}

/* The callback of take may push again (the flush re-enters the send path). */
struct reenter {
	struct en_pktq *q;
	size_t n;
};

static void push_back(void *ctx, const uint8_t *pkt, size_t len)
{
	struct reenter *r = ctx;

	CU_ASSERT_EQUAL(en_pktq_push(r->q, AF_INET, dst_a, pkt, len), r->n == 0 ? 1 : 0);
	r->n++;
}

static void test_reentrant_take(void)
{
	struct en_pktq *q;
	struct reenter r = { .n = 0 };
	struct seen s = { .n = 0 };

	CU_ASSERT_EQUAL_FATAL(en_pktq_create(4, 8, &q), 0);
	r.q = q;
	CU_ASSERT(push_byte(q, AF_INET, dst_a, 1) == 1);
	CU_ASSERT(push_byte(q, AF_INET, dst_a, 2) == 0);
	CU_ASSERT_EQUAL(en_pktq_take(q, AF_INET, dst_a, push_back, &r), 2);
	CU_ASSERT_EQUAL(en_pktq_take(q, AF_INET, dst_a, collect, &s), 2);
	CU_ASSERT_EQUAL(s.first[0], 1);
	CU_ASSERT_EQUAL(s.first[1], 2);
	en_pktq_destroy(q);
}

static void test_bad_arguments(void)
{
	struct en_pktq *q;
	const uint8_t pkt[1] = { 0x45 };

	CU_ASSERT_EQUAL(en_pktq_create(0, 10, &q), -EINVAL);
	CU_ASSERT_PTR_NULL(q);
	CU_ASSERT_EQUAL(en_pktq_create(EN_PKTQ_PER_DEST_CAP + 1, 10, &q), -EINVAL);
	CU_ASSERT_EQUAL(en_pktq_create(2, 0, &q), -EINVAL);
	CU_ASSERT_EQUAL_FATAL(en_pktq_create(2, 2, &q), 0);
	CU_ASSERT_EQUAL(en_pktq_push(q, AF_UNIX, dst_a, pkt, 1), -EINVAL);
	CU_ASSERT_EQUAL(en_pktq_push(q, AF_INET, dst_a, pkt, 0), -EINVAL);
	CU_ASSERT_FALSE(en_pktq_has(q, AF_INET, dst_a));
	en_pktq_destroy(q);
	en_pktq_destroy(NULL);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_order_and_take), NTM_TEST(test_per_dest_bound), NTM_TEST(test_total_bound),
	NTM_TEST(test_dest_slots),     NTM_TEST(test_reentrant_take), NTM_TEST(test_bad_arguments),
};

int main(void)
{
	return ntm_test_run("pktq", cases, sizeof(cases) / sizeof(cases[0]));
}
