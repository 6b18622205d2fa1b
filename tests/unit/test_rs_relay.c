/* SPDX-License-Identifier: MIT */
/* The RS session table (rs/relay.h): allocation, BIND, forwarding, expiry, rate limit. */
#include "common/relay.h"
#include "ntm_test.h"
#include "rs/relay.h"

static const uint8_t cred[NTM_RELAY_CRED_LEN] = { 7, 7, 7 };
static const uint8_t wrong[NTM_RELAY_CRED_LEN] = { 7, 7, 8 };

static struct ntm_addr addr(const char *text)
{
	struct ntm_addr a;
	char why[64];

	CU_ASSERT_FATAL(ntm_addr_parse(text, 0, &a, why, sizeof(why)) == 0);
	return a;
}

/* The engine's input: `via` is the address family's socket in these tests. */
static enum rs_relay_action input(struct rs_relay *r, const uint8_t *buf, size_t len,
				  const struct ntm_addr *from, uint64_t now,
				  struct rs_relay_out *out)
{
	const struct rs_relay_pkt pkt = { buf, len, from, ntm_addr_is_v6(from) ? 1u : 0u };

	return rs_relay_input(r, &pkt, now, out);
}

static struct rs_relay *make(uint32_t capacity, uint64_t rate)
{
	const struct rs_relay_config cfg = {
		.capacity = capacity, .idle_max_s = 30, .rate_bytes_s = rate, .burst_bytes = 4000
	};
	struct rs_relay *r;

	CU_ASSERT_FATAL(rs_relay_create(&cfg, &r) == 0);
	return r;
}

static size_t bind_msg(uint8_t *buf, uint32_t session, uint8_t side, uint64_t counter,
		       const uint8_t *key)
{
	const struct ntm_relay_bind b = { .session = session, .side = side, .counter = counter };
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, buf, NTM_RELAY_BIND_LEN);
	CU_ASSERT_FATAL(ntm_relay_encode_bind(&w, false, &b, key) == 0);
	return w.len;
}

static size_t frame(uint8_t *buf, uint32_t session, size_t payload)
{
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, buf, NTM_RELAY_HEADER_LEN + payload);
	CU_ASSERT_FATAL(ntm_relay_encode_frame_header(&w, session) == 0);
	CU_ASSERT_FATAL(ntm_wbuf_put_le32(&w, NTM_MSG_WG_DATA) == 0);
	CU_ASSERT_FATAL(ntm_wbuf_put_zero(&w, payload - 4) == 0);
	return w.len;
}

/* Binds side `side` of `session` from `from` and checks the BIND_OK. */
static void do_bind(struct rs_relay *r, uint32_t session, uint8_t side, uint64_t counter,
		    const struct ntm_addr *from, uint64_t now)
{
	uint8_t buf[NTM_RELAY_BIND_LEN];
	struct ntm_relay_bind ok;
	struct rs_relay_out out;
	size_t len = bind_msg(buf, session, side, counter, cred);

	CU_ASSERT_EQUAL_FATAL(input(r, buf, len, from, now, &out), RS_RELAY_REPLY);
	CU_ASSERT(ntm_addr_equal(&out.to, from));
	CU_ASSERT_EQUAL(ntm_relay_decode_bind(out.reply, out.reply_len, true, &ok), 0);
	CU_ASSERT(ntm_relay_bind_verify(out.reply, out.reply_len, cred));
	CU_ASSERT_EQUAL(ok.counter, counter);
	CU_ASSERT_EQUAL(ok.side, side);
}

static void test_alloc_limits(void)
{
	struct rs_relay *r = make(2, 0);
	struct rs_relay_stats st;

	CU_ASSERT_EQUAL(rs_relay_alloc(r, 1, cred, 60, 0), 0);
	CU_ASSERT_EQUAL(rs_relay_alloc(r, 1, cred, 60, 0), 0); /* a retransmission */
	CU_ASSERT_EQUAL(rs_relay_alloc(r, 1, wrong, 60, 0), -EEXIST);
	CU_ASSERT_EQUAL(rs_relay_alloc(r, 0, cred, 60, 0), -EINVAL);
	CU_ASSERT_EQUAL(rs_relay_alloc(r, 2, cred, 60, 0), 0);
	CU_ASSERT_EQUAL(rs_relay_alloc(r, 3, cred, 60, 0), -ENOSPC);
	CU_ASSERT_EQUAL(rs_relay_release(r, 1), 0);
	CU_ASSERT_EQUAL(rs_relay_release(r, 1), -ENOENT);
	CU_ASSERT_EQUAL(rs_relay_alloc(r, 3, cred, 60, 0), 0);
	rs_relay_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.sessions, 2);
	CU_ASSERT_EQUAL(st.allocated, 3);
	CU_ASSERT_EQUAL(st.alloc_refused, 2);
	CU_ASSERT_EQUAL(st.released, 1);
	rs_relay_destroy(r);
}

static void test_bind_and_forward_across_families(void)
{
	struct rs_relay *r = make(8, 0);
	struct ntm_addr a = addr("192.0.2.10:5000"), b = addr("[2001:db8::20]:6000");
	struct rs_relay_out out;
	struct rs_relay_stats st;
	uint8_t buf[200];
	size_t len = frame(buf, 42, 100);

	CU_ASSERT_EQUAL(rs_relay_alloc(r, 42, cred, 60, 0), 0);
	do_bind(r, 42, NTM_RELAY_SIDE_A, 1, &a, 10);
	/* B not bound yet: nothing goes anywhere */
	CU_ASSERT_EQUAL(input(r, buf, len, &a, 20, &out), RS_RELAY_DROP);
	do_bind(r, 42, NTM_RELAY_SIDE_B, 1, &b, 30);
	CU_ASSERT_EQUAL(input(r, buf, len, &a, 40, &out), RS_RELAY_FORWARD);
	CU_ASSERT(ntm_addr_equal(&out.to, &b));
	CU_ASSERT_EQUAL(out.via, 1); /* out of the socket B bound through */
	CU_ASSERT_EQUAL(input(r, buf, len, &b, 50, &out), RS_RELAY_FORWARD);
	CU_ASSERT(ntm_addr_equal(&out.to, &a));
	CU_ASSERT_EQUAL(out.via, 0);
	rs_relay_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.forwarded, 2);
	CU_ASSERT_EQUAL(st.forwarded_bytes, 2 * len);
	CU_ASSERT_EQUAL(st.drop_peer_unbound, 1);
	CU_ASSERT_EQUAL(st.bind_ok, 2);
	CU_ASSERT_EQUAL(st.bound_sessions, 1);
	CU_ASSERT_EQUAL(st.rx, 5);
	rs_relay_destroy(r);
}

static void test_third_parties_get_nothing(void)
{
	struct rs_relay *r = make(8, 0);
	struct ntm_addr a = addr("192.0.2.10:5000"), b = addr("[2001:db8::20]:6000");
	struct ntm_addr evil = addr("198.51.100.66:4444");
	struct rs_relay_out out;
	struct rs_relay_stats st;
	uint8_t buf[200];
	size_t len;

	CU_ASSERT_EQUAL(rs_relay_alloc(r, 42, cred, 60, 0), 0);
	do_bind(r, 42, NTM_RELAY_SIDE_A, 1, &a, 0);
	do_bind(r, 42, NTM_RELAY_SIDE_B, 1, &b, 0);
	/* a wrong credential binds nothing */
	len = bind_msg(buf, 42, NTM_RELAY_SIDE_B, 99, wrong);
	CU_ASSERT_EQUAL(input(r, buf, len, &evil, 1, &out), RS_RELAY_DROP);
	/* a frame from an unbound address, with the right session id */
	len = frame(buf, 42, 64);
	CU_ASSERT_EQUAL(input(r, buf, len, &evil, 2, &out), RS_RELAY_DROP);
	/* a spoofed (unallocated) session id, frame and BIND */
	len = frame(buf, 43, 64);
	CU_ASSERT_EQUAL(input(r, buf, len, &a, 3, &out), RS_RELAY_DROP);
	len = bind_msg(buf, 43, NTM_RELAY_SIDE_A, 5, cred);
	CU_ASSERT_EQUAL(input(r, buf, len, &evil, 4, &out), RS_RELAY_DROP);
	/* not a relay message at all */
	buf[0] = NTM_MSG_WG_DATA;
	CU_ASSERT_EQUAL(input(r, buf, 32, &a, 5, &out), RS_RELAY_DROP);
	CU_ASSERT_EQUAL(input(r, buf, 3, &a, 5, &out), RS_RELAY_DROP);
	rs_relay_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.drop_bad_mac, 1);
	CU_ASSERT_EQUAL(st.drop_not_bound, 1);
	CU_ASSERT_EQUAL(st.drop_no_session, 2);
	CU_ASSERT_EQUAL(st.drop_malformed, 2);
	CU_ASSERT_EQUAL(st.forwarded, 0);
	CU_ASSERT_EQUAL(st.sessions, 1); /* nothing allocated by datagrams */
	rs_relay_destroy(r);
}

static void test_replay_and_rebind(void)
{
	struct rs_relay *r = make(8, 0);
	struct ntm_addr a = addr("192.0.2.10:5000"), a2 = addr("192.0.2.11:5001");
	struct ntm_addr b = addr("[2001:db8::20]:6000");
	struct rs_relay_out out;
	struct rs_relay_stats st;
	uint8_t old[NTM_RELAY_BIND_LEN], buf[200];
	size_t len;

	CU_ASSERT_EQUAL(rs_relay_alloc(r, 9, cred, 60, 0), 0);
	bind_msg(old, 9, NTM_RELAY_SIDE_A, 10, cred);
	do_bind(r, 9, NTM_RELAY_SIDE_A, 10, &a, 0);
	do_bind(r, 9, NTM_RELAY_SIDE_B, 10, &b, 0);
	/* the captured BIND replayed from elsewhere moves nothing */
	CU_ASSERT_EQUAL(input(r, old, sizeof(old), &a2, 1, &out), RS_RELAY_DROP);
	len = frame(buf, 9, 64);
	CU_ASSERT_EQUAL(input(r, buf, len, &b, 2, &out), RS_RELAY_FORWARD);
	CU_ASSERT(ntm_addr_equal(&out.to, &a));
	/* the node moved: a newer BIND from the new address moves side A */
	do_bind(r, 9, NTM_RELAY_SIDE_A, 11, &a2, 3);
	CU_ASSERT_EQUAL(input(r, buf, len, &b, 4, &out), RS_RELAY_FORWARD);
	CU_ASSERT(ntm_addr_equal(&out.to, &a2));
	CU_ASSERT_EQUAL(input(r, buf, len, &a, 5, &out), RS_RELAY_DROP);
	/* side A may not bind to B's address (a loop) */
	len = bind_msg(buf, 9, NTM_RELAY_SIDE_A, 12, cred);
	CU_ASSERT_EQUAL(input(r, buf, len, &b, 6, &out), RS_RELAY_DROP);
	rs_relay_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.drop_replay, 1);
	CU_ASSERT_EQUAL(st.drop_not_bound, 1);
	CU_ASSERT_EQUAL(st.drop_bind_conflict, 1);
	rs_relay_destroy(r);
}

static void test_idle_expiry(void)
{
	struct rs_relay *r = make(8, 0);
	struct ntm_addr a = addr("192.0.2.10:5000"), b = addr("192.0.2.20:6000");
	struct rs_relay_out out;
	struct rs_relay_stats st;
	uint8_t buf[200];
	size_t len = frame(buf, 5, 64);

	CU_ASSERT_EQUAL(rs_relay_alloc(r, 5, cred, 10, 0), 0);	/* 10 s */
	CU_ASSERT_EQUAL(rs_relay_alloc(r, 6, cred, 999, 0), 0); /* capped at idle_max 30 s */
	do_bind(r, 5, NTM_RELAY_SIDE_A, 1, &a, 1000);
	do_bind(r, 5, NTM_RELAY_SIDE_B, 1, &b, 2000);
	CU_ASSERT_EQUAL(input(r, buf, len, &a, 9000, &out), RS_RELAY_FORWARD);
	CU_ASSERT_EQUAL(rs_relay_expire(r, 18999), 0); /* traffic at 9 s holds it */
	CU_ASSERT_EQUAL(rs_relay_expire(r, 19000), 1);
	CU_ASSERT_EQUAL(input(r, buf, len, &a, 19001, &out), RS_RELAY_DROP);
	CU_ASSERT_EQUAL(rs_relay_expire(r, 29999), 0);
	CU_ASSERT_EQUAL(rs_relay_expire(r, 30000), 1); /* never bound, expired too */
	rs_relay_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.expired, 2);
	CU_ASSERT_EQUAL(st.sessions, 0);
	CU_ASSERT_EQUAL(st.bound_sessions, 0);
	CU_ASSERT_EQUAL(st.drop_no_session, 1);
	rs_relay_destroy(r);
}

static void test_rate_limit(void)
{
	struct rs_relay *r = make(8, 10000); /* 10 kB/s, burst 4000 bytes */
	struct ntm_addr a = addr("192.0.2.10:5000"), b = addr("192.0.2.20:6000");
	struct rs_relay_out out;
	struct rs_relay_stats st;
	uint8_t buf[1100];
	size_t len = frame(buf, 5, 992); /* 1000 bytes */
	int passed = 0;

	CU_ASSERT_EQUAL(rs_relay_alloc(r, 5, cred, 60, 0), 0);
	do_bind(r, 5, NTM_RELAY_SIDE_A, 1, &a, 0);
	do_bind(r, 5, NTM_RELAY_SIDE_B, 1, &b, 0);
	for (int i = 0; i < 10; i++) {
		passed += input(r, buf, len, &a, 0, &out) == RS_RELAY_FORWARD;
	}
	CU_ASSERT_EQUAL(passed, 4); /* the burst */
	/* 100 ms later: 1000 bytes more; both directions share the bucket */
	CU_ASSERT_EQUAL(input(r, buf, len, &b, 100, &out), RS_RELAY_FORWARD);
	CU_ASSERT_EQUAL(input(r, buf, len, &a, 100, &out), RS_RELAY_DROP);
	/* a long pause refills only up to the burst */
	passed = 0;
	for (int i = 0; i < 10; i++) {
		passed += input(r, buf, len, &a, 60000, &out) == RS_RELAY_FORWARD;
	}
	CU_ASSERT_EQUAL(passed, 4);
	rs_relay_get_stats(r, &st);
	CU_ASSERT_EQUAL(st.drop_ratelimited, 6 + 1 + 6);
	rs_relay_destroy(r);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_alloc_limits),
	NTM_TEST(test_bind_and_forward_across_families),
	NTM_TEST(test_third_parties_get_nothing),
	NTM_TEST(test_replay_and_rebind),
	NTM_TEST(test_idle_expiry),
	NTM_TEST(test_rate_limit),
};

NTM_TEST_MAIN("rs_relay", cases)
