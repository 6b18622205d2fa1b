/* SPDX-License-Identifier: MIT */
#include "common/timers.h"

#include "common/alloc.h"
#include "ntm_test.h"

#define NEVER NTM_TIMERS_NEVER

enum {
	REKEY_TIMEOUT = NTM_TIMERS_REKEY_TIMEOUT_MS,
	KEEPALIVE = NTM_TIMERS_KEEPALIVE_TIMEOUT_MS,
	SEND_INIT = NTM_TIMERS_SEND_HANDSHAKE_INITIATION,
	NEW_HS = NTM_TIMERS_NEW_HANDSHAKE,
};

/* Deterministic jitter: always `value`; remembers how it was asked. */
struct jitter {
	uint32_t value;
	uint32_t last_bound;
	unsigned calls;
};

static uint32_t fixed_jitter(void *ctx, uint32_t upper_bound)
{
	struct jitter *j = ctx;

	j->last_bound = upper_bound;
	j->calls++;
	return j->value;
}

static struct ntm_timers *make(struct jitter *j)
{
	struct ntm_timers *t = NULL;

	CU_ASSERT_EQUAL_FATAL(ntm_timers_create(&t, fixed_jitter, j), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	return t;
}

static void test_create_destroy(void)
{
	struct jitter j = { 0 };
	struct ntm_timers *t = (struct ntm_timers *)&j;

	CU_ASSERT_EQUAL(ntm_timers_create(&t, NULL, NULL), -EINVAL);
	CU_ASSERT_PTR_NULL(t);
	ntm_alloc_fail_after(0);
	t = (struct ntm_timers *)&j;
	CU_ASSERT_EQUAL(ntm_timers_create(&t, fixed_jitter, &j), -ENOMEM);
	CU_ASSERT_PTR_NULL(t);
	ntm_alloc_fail_reset();

	t = make(&j);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), NEVER);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 0), 0);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, NEVER - 1), 0);
	ntm_timers_destroy(t);
	ntm_timers_destroy(NULL);
}

/* H1/H3: retry after REKEY_TIMEOUT + jitter; the jitter source is used as documented. */
static void test_handshake_retry_with_jitter(void)
{
	struct jitter j = { .value = 123 };
	struct ntm_timers *t = make(&j);

	ntm_timers_handshake_initiated(t, 1000);
	CU_ASSERT_EQUAL(j.last_bound, NTM_TIMERS_JITTER_MAX_MS + 1);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 1000 + REKEY_TIMEOUT + 123);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 1000 + REKEY_TIMEOUT + 122), 0);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 1000 + REKEY_TIMEOUT + 123), SEND_INIT);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), NEVER);
	/* An out-of-range jitter value is reduced into [0, 333]. */
	j.value = NTM_TIMERS_JITTER_MAX_MS + 1 + 7;
	ntm_timers_handshake_initiated(t, 7000);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 7000 + REKEY_TIMEOUT + 7);
	ntm_timers_destroy(t);
}

/*
 * Play the initiator against a silent peer from `start` and return when it
 * gave up; every retry is reported as sent. *sent counts the initiations.
 */
static uint64_t run_until_give_up(struct ntm_timers *t, uint64_t start, unsigned *sent)
{
	*sent = 1;
	ntm_timers_handshake_initiated(t, start);
	for (int guard = 0;; guard++) {
		uint64_t now = ntm_timers_next_deadline(t);
		unsigned a = ntm_timers_expire(t, now);

		if (a & NTM_TIMERS_GIVE_UP_HANDSHAKE) {
			CU_ASSERT_EQUAL(a, NTM_TIMERS_GIVE_UP_HANDSHAKE);
			return now;
		}
		CU_ASSERT_EQUAL_FATAL(a, SEND_INIT);
		CU_ASSERT_FATAL(guard < 100); /* a bug must not hang the test */
		ntm_timers_handshake_initiated(t, now);
		(*sent)++;
	}
}

/* H2: give up after REKEY_ATTEMPT_TIME, never before; then zero keys 540 s later. */
static void test_handshake_gives_up_at_90s(void)
{
	struct jitter j = { .value = 0 };
	struct ntm_timers *t = make(&j);
	unsigned sent;
	uint64_t gave_up = run_until_give_up(t, 0, &sent);

	CU_ASSERT_EQUAL(gave_up, NTM_TIMERS_REKEY_ATTEMPT_TIME_MS);
	/* initiations at 0, 5, ..., 85 s */
	CU_ASSERT_EQUAL(sent, NTM_TIMERS_REKEY_ATTEMPT_TIME_MS / REKEY_TIMEOUT);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), gave_up + NTM_TIMERS_ZERO_KEYS_AFTER_MS);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, gave_up + NTM_TIMERS_ZERO_KEYS_AFTER_MS),
			NTM_TIMERS_ZERO_KEYS);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), NEVER);
	/* The give-up ended the series: a later one gets its full 90 s. */
	CU_ASSERT_EQUAL(run_until_give_up(t, 1000000, &sent), 1090000);
	ntm_timers_destroy(t);

	/* With the largest jitter the give-up is still the first expiry past 90 s. */
	j.value = NTM_TIMERS_JITTER_MAX_MS;
	t = make(&j);
	gave_up = run_until_give_up(t, 500, &sent);
	CU_ASSERT(gave_up >= 500 + NTM_TIMERS_REKEY_ATTEMPT_TIME_MS);
	CU_ASSERT(gave_up < 500 + NTM_TIMERS_REKEY_ATTEMPT_TIME_MS + REKEY_TIMEOUT + 334);
	CU_ASSERT_EQUAL(sent, 17);
	ntm_timers_destroy(t);
}

/* H4: a completed handshake stops the retries. */
static void test_handshake_complete_stops_retries(void)
{
	struct jitter j = { 0 };
	struct ntm_timers *t = make(&j);

	unsigned sent;

	ntm_timers_handshake_initiated(t, 0);
	ntm_timers_handshake_complete(t, 40);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), NEVER);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 1000000), 0);
	/* It also ended the series: the next one gets its full 90 s. */
	CU_ASSERT_EQUAL(run_until_give_up(t, 2000000, &sent), 2090000);
	ntm_timers_destroy(t);
}

/* K1/K3: one keepalive KEEPALIVE_TIMEOUT after data received with nothing sent. */
static void test_keepalive_after_receive(void)
{
	struct jitter j = { 0 };
	struct ntm_timers *t = make(&j);

	ntm_timers_data_received(t, 1000);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 1000 + KEEPALIVE);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 1000 + KEEPALIVE - 1), 0);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 1000 + KEEPALIVE), NTM_TIMERS_SEND_KEEPALIVE);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), NEVER);

	/* More data during the wait: exactly one more keepalive after the first. */
	ntm_timers_data_received(t, 50000);
	ntm_timers_data_received(t, 53000);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 50000 + KEEPALIVE);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 60000), NTM_TIMERS_SEND_KEEPALIVE);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 60000 + KEEPALIVE);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 70000), NTM_TIMERS_SEND_KEEPALIVE);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), NEVER);
	ntm_timers_destroy(t);
}

/* K2: anything we send in the meantime answers the peer: no keepalive. */
static void test_no_keepalive_if_we_sent(void)
{
	struct jitter j = { 0 };
	struct ntm_timers *t = make(&j);

	ntm_timers_data_received(t, 1000);
	ntm_timers_data_received(t, 2000);
	ntm_timers_any_authenticated_packet_sent(t, 5000);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), NEVER);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 100000), 0);
	/* ... and the "another one" flag went with it. */
	ntm_timers_data_received(t, 200000);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 210000), NTM_TIMERS_SEND_KEEPALIVE);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), NEVER);
	ntm_timers_destroy(t);
}

/* D1-D3: our data got no answer for KEEPALIVE + REKEY_TIMEOUT (+ jitter). */
static void test_new_handshake_when_unanswered(void)
{
	struct jitter j = { .value = 200 };
	struct ntm_timers *t = make(&j);

	ntm_timers_data_sent(t, 0);
	ntm_timers_data_sent(t, 5000); /* does not postpone */
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 15000 + 200);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 15199), 0);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 15200), NEW_HS);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), NEVER);

	/* Any authenticated packet received in time cancels it. */
	ntm_timers_data_sent(t, 100000);
	ntm_timers_any_authenticated_packet_received(t, 114000);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), NEVER);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 200000), 0);
	ntm_timers_destroy(t);
}

/* H5: rate limit, one initiation per REKEY_TIMEOUT, and no NEW while one is in flight. */
static void test_want_handshake(void)
{
	struct jitter j = { .value = 100 };
	struct ntm_timers *t = make(&j);

	ntm_timers_want_handshake(t, 500);
	ntm_timers_want_handshake(t, 700); /* does not postpone the first */
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 500);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 500), NEW_HS);
	ntm_timers_handshake_initiated(t, 500);
	ntm_timers_want_handshake(t, 1000); /* in flight: the retry timer decides */
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 500 + REKEY_TIMEOUT + 100);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 500 + REKEY_TIMEOUT + 100), SEND_INIT);

	/* Completed 600 ms after an initiation: the next one may go 5 s after it. */
	ntm_timers_handshake_initiated(t, 100000);
	ntm_timers_handshake_complete(t, 100600);
	ntm_timers_want_handshake(t, 101000);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 100000 + REKEY_TIMEOUT);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 104999), 0);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 105000), NEW_HS);
	/* A pending want is served by any initiation, or by a completed handshake. */
	ntm_timers_handshake_complete(t, 105050);
	ntm_timers_want_handshake(t, 106000);
	ntm_timers_handshake_initiated(t, 107000);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 107000 + REKEY_TIMEOUT + 100);
	ntm_timers_handshake_complete(t, 107050);
	ntm_timers_want_handshake(t, 108000);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 112000);
	ntm_timers_handshake_complete(t, 108050);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), NEVER);

	/* D3 goes through H5: no NEW while an initiation is in flight ... */
	j.value = 0;
	ntm_timers_data_sent(t, 300000);
	ntm_timers_handshake_initiated(t, 312000);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 315000), 0);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 317000);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 317000), SEND_INIT);
	/* ... and the rate limit holds for it too. */
	ntm_timers_data_sent(t, 400000);
	ntm_timers_handshake_initiated(t, 412000);
	ntm_timers_handshake_complete(t, 412050);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 415000), 0);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 417000);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 417000), NEW_HS);
	ntm_timers_destroy(t);
}

/* H5: a fresh want renews the REKEY_ATTEMPT_TIME budget of a running series. */
static void test_want_renews_attempt_budget(void)
{
	struct jitter j = { 0 };
	struct ntm_timers *t = make(&j);
	uint64_t now = 0;
	unsigned a;

	ntm_timers_handshake_initiated(t, 0);
	do {
		CU_ASSERT_FATAL(now < 1000000); /* a bug must not hang the test */
		now = ntm_timers_next_deadline(t);
		if (now == 50000) {
			ntm_timers_want_handshake(t, now);
		}
		a = ntm_timers_expire(t, now);
		if (a == SEND_INIT) {
			ntm_timers_handshake_initiated(t, now);
		}
	} while (a == SEND_INIT);
	CU_ASSERT_EQUAL(a, NTM_TIMERS_GIVE_UP_HANDSHAKE);
	CU_ASSERT_EQUAL(now, 50000 + NTM_TIMERS_REKEY_ATTEMPT_TIME_MS);
	ntm_timers_destroy(t);
}

/* R1: the receive-side rekey acts once per completed handshake. */
static void test_want_on_receive_once(void)
{
	struct jitter j = { 0 };
	struct ntm_timers *t = make(&j);

	ntm_timers_want_handshake_on_receive(t, 1000);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 1000), NEW_HS);
	/* Suppose the initiation could not be built: a second call does nothing. */
	ntm_timers_want_handshake_on_receive(t, 2000);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), NEVER);
	/* A plain want still works. */
	ntm_timers_want_handshake(t, 3000);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 3000), NEW_HS);
	/* After the next completed handshake it is armed again. */
	ntm_timers_handshake_initiated(t, 3000);
	ntm_timers_handshake_complete(t, 3050);
	ntm_timers_want_handshake_on_receive(t, 9000);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 9000), NEW_HS);
	ntm_timers_destroy(t);
}

/* P1-P3: a keepalive every N s after the last packet traversal, in either direction. */
static void test_persistent_keepalive(void)
{
	struct jitter j = { 0 };
	struct ntm_timers *t = make(&j);

	ntm_timers_any_authenticated_packet_traversal(t, 0); /* off: nothing armed */
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), NEVER);
	ntm_timers_set_persistent_keepalive(t, 100, 25);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 100), NTM_TIMERS_SEND_PERSISTENT_KEEPALIVE);
	ntm_timers_any_authenticated_packet_traversal(t, 100);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 25100);
	ntm_timers_any_authenticated_packet_traversal(t, 10000); /* a received packet */
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 25100), 0);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 35000);
	for (uint64_t now = 35000; now < 200000; now += 25000) {
		CU_ASSERT_EQUAL(ntm_timers_expire(t, now), NTM_TIMERS_SEND_PERSISTENT_KEEPALIVE);
		ntm_timers_any_authenticated_packet_traversal(t, now);
		CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), now + 25000);
	}
	/* The same interval again changes nothing; 0 turns it off. */
	ntm_timers_set_persistent_keepalive(t, 200000, 25);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 200000), 0);
	ntm_timers_set_persistent_keepalive(t, 200000, 0);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), NEVER);
	ntm_timers_any_authenticated_packet_traversal(t, 200001);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), NEVER);
	/* The largest interval does not overflow. */
	ntm_timers_set_persistent_keepalive(t, 300000, UINT16_MAX);
	ntm_timers_any_authenticated_packet_traversal(t, 300000);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 300000 + UINT64_C(65535000));
	ntm_timers_destroy(t);
}

/* Z1/Z2 and H2: keys zeroed 540 s after the last derivation; give-up keeps that deadline. */
static void test_zero_keys(void)
{
	struct jitter j = { 0 };
	struct ntm_timers *t = make(&j);
	unsigned sent;

	ntm_timers_session_derived(t, 1000);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 541000);
	ntm_timers_session_derived(t, 100000);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 541000), 0);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 639999), 0);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 640000), NTM_TIMERS_ZERO_KEYS);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), NEVER);

	/* A give-up keeps an armed ZERO_KEYS deadline. */
	ntm_timers_session_derived(t, 1000000);
	CU_ASSERT_EQUAL(run_until_give_up(t, 1200000, &sent), 1290000);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 1540000);
	ntm_timers_destroy(t);
}

/* H2: giving up also drops a pending keepalive (nothing to send it on). */
static void test_give_up_drops_keepalive(void)
{
	struct jitter j = { 0 };
	struct ntm_timers *t = make(&j);

	ntm_timers_handshake_initiated(t, 0);
	ntm_timers_handshake_initiated(t, 85000); /* the 18th attempt of the series */
	ntm_timers_data_received(t, 86000);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, 90000), NTM_TIMERS_GIVE_UP_HANDSHAKE);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), 90000 + NTM_TIMERS_ZERO_KEYS_AFTER_MS);
	ntm_timers_destroy(t);
}

static void test_rekey_predicates(void)
{
	struct ntm_timers_session s = { .birth_ms = 1000, .counter = 0, .is_initiator = true };
	const uint64_t b = s.birth_ms;

	/* 6.2 on send: initiator only, at Rekey-After-Time. */
	CU_ASSERT_FALSE(ntm_timers_should_rekey_on_send(&s, b + 119999));
	CU_ASSERT_TRUE(ntm_timers_should_rekey_on_send(&s, b + 120000));
	s.is_initiator = false;
	CU_ASSERT_FALSE(ntm_timers_should_rekey_on_send(&s, b + 179999));
	/* ... or after Rekey-After-Messages, for either side. */
	s.counter = NTM_WG_REKEY_AFTER_MESSAGES;
	CU_ASSERT_FALSE(ntm_timers_should_rekey_on_send(&s, b));
	s.counter++;
	CU_ASSERT_TRUE(ntm_timers_should_rekey_on_send(&s, b));

	/* 6.2 on receive: initiator only, at 165 s. */
	s.counter = 0;
	CU_ASSERT_FALSE(ntm_timers_should_rekey_on_receive(&s, b + 170000));
	s.is_initiator = true;
	CU_ASSERT_FALSE(ntm_timers_should_rekey_on_receive(&s, b + 164999));
	CU_ASSERT_TRUE(ntm_timers_should_rekey_on_receive(&s, b + 165000));

	/* Usable below Reject-After-Time and Reject-After-Messages. */
	CU_ASSERT_TRUE(ntm_timers_session_is_usable(&s, b + 179999));
	CU_ASSERT_FALSE(ntm_timers_session_is_usable(&s, b + 180000));
	s.counter = NTM_WG_REJECT_AFTER_MESSAGES - 1;
	CU_ASSERT_TRUE(ntm_timers_session_is_usable(&s, b));
	s.counter = NTM_WG_REJECT_AFTER_MESSAGES;
	CU_ASSERT_FALSE(ntm_timers_session_is_usable(&s, b));
	s.counter = 0;
	CU_ASSERT_TRUE(ntm_timers_session_is_usable(&s, 0)); /* birth in the future */
	CU_ASSERT_FALSE(ntm_timers_should_rekey_on_send(&s, 0));
}

/* A clock near its end saturates: an armed timer never reads as "never". */
static void test_time_near_max(void)
{
	struct jitter j = { 0 };
	struct ntm_timers *t = make(&j);

	ntm_timers_handshake_initiated(t, NEVER - 10);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(t), NEVER - 1);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, NEVER - 2), 0);
	CU_ASSERT_EQUAL(ntm_timers_expire(t, NEVER - 1), SEND_INIT);
	ntm_timers_destroy(t);
}

/* Constants as the whitepaper states them (section 6.1). */
static void test_constants(void)
{
	CU_ASSERT_EQUAL(NTM_WG_REKEY_AFTER_MESSAGES, UINT64_C(1152921504606846976));
	CU_ASSERT_EQUAL(NTM_WG_REJECT_AFTER_MESSAGES, UINT64_C(18446744073709543423));
	CU_ASSERT_EQUAL(NTM_TIMERS_ZERO_KEYS_AFTER_MS, 540000);
	CU_ASSERT_EQUAL(NTM_TIMERS_NEW_HANDSHAKE_AFTER_MS, 15000);
	CU_ASSERT_EQUAL(NTM_TIMERS_REKEY_ON_RECEIVE_AGE_MS, 165000);
}

/*
 * A simulated daemon: after every event it runs expire() and carries out the
 * actions, exactly as the one arming place of a real daemon would. The peer
 * answers an initiation 30 ms later while it is alive, never otherwise.
 */
struct sim {
	struct ntm_timers *t;
	uint64_t now;
	uint64_t response_at; /* NEVER = no response on its way */
	bool peer_alive;
	bool have_session;
	struct ntm_timers_session cur;
	unsigned initiations, confirmations, keepalives, persistents, give_ups, zeroed;
	uint64_t zeroed_at;
};

static bool sim_usable(const struct sim *s)
{
	return s->have_session && ntm_timers_session_is_usable(&s->cur, s->now);
}

static void sim_send_initiation(struct sim *s)
{
	ntm_timers_any_authenticated_packet_traversal(s->t, s->now);
	ntm_timers_any_authenticated_packet_sent(s->t, s->now);
	ntm_timers_handshake_initiated(s->t, s->now);
	s->initiations++;
	if (s->peer_alive) {
		s->response_at = s->now + 30;
	}
}

/* A transport message out: data, or a keepalive (no payload). */
static void sim_send(struct sim *s, bool data)
{
	if (!sim_usable(s)) {
		ntm_timers_want_handshake(s->t, s->now);
		return;
	}
	s->cur.counter++;
	ntm_timers_any_authenticated_packet_traversal(s->t, s->now);
	ntm_timers_any_authenticated_packet_sent(s->t, s->now);
	if (data) {
		ntm_timers_data_sent(s->t, s->now);
	}
	if (ntm_timers_should_rekey_on_send(&s->cur, s->now)) {
		ntm_timers_want_handshake(s->t, s->now);
	}
}

/* A transport message in, already authenticated. */
static void sim_receive(struct sim *s, bool data)
{
	if (!sim_usable(s)) {
		return;
	}
	ntm_timers_any_authenticated_packet_received(s->t, s->now);
	ntm_timers_any_authenticated_packet_traversal(s->t, s->now);
	if (data) {
		ntm_timers_data_received(s->t, s->now);
	}
	if (ntm_timers_should_rekey_on_receive(&s->cur, s->now)) {
		ntm_timers_want_handshake_on_receive(s->t, s->now);
	}
}

static void sim_response(struct sim *s)
{
	s->response_at = NEVER;
	ntm_timers_any_authenticated_packet_received(s->t, s->now);
	ntm_timers_any_authenticated_packet_traversal(s->t, s->now);
	ntm_timers_session_derived(s->t, s->now);
	ntm_timers_handshake_complete(s->t, s->now);
	s->cur = (struct ntm_timers_session){ .birth_ms = s->now, .is_initiator = true };
	s->have_session = true;
	s->confirmations++;
	sim_send(s, false);
}

static void sim_actions(struct sim *s, unsigned a)
{
	CU_ASSERT_FALSE((a & SEND_INIT) && (a & NEW_HS));
	if (a & NTM_TIMERS_ZERO_KEYS) {
		s->have_session = false;
		s->zeroed++;
		s->zeroed_at = s->now;
	}
	s->give_ups += !!(a & NTM_TIMERS_GIVE_UP_HANDSHAKE);
	if (a & (SEND_INIT | NEW_HS)) {
		sim_send_initiation(s);
	}
	s->keepalives += !!(a & NTM_TIMERS_SEND_KEEPALIVE);
	s->persistents += !!(a & NTM_TIMERS_SEND_PERSISTENT_KEEPALIVE);
	if (a & (NTM_TIMERS_SEND_KEEPALIVE | NTM_TIMERS_SEND_PERSISTENT_KEEPALIVE)) {
		sim_send(s, false);
	}
}

/* Let time run to `to`, firing deadlines and responses in time order. */
static void sim_advance(struct sim *s, uint64_t to)
{
	for (int guard = 0;; guard++) {
		uint64_t d = ntm_timers_next_deadline(s->t);
		uint64_t next = d < s->response_at ? d : s->response_at;

		if (next > to) {
			break;
		}
		CU_ASSERT_FATAL(next >= s->now);
		CU_ASSERT_FATAL(guard < 10000); /* time must move on */
		s->now = next;
		if (next == s->response_at) {
			sim_response(s);
		} else {
			sim_actions(s, ntm_timers_expire(s->t, s->now));
		}
	}
	s->now = to;
}

static void test_session_lifetime(void)
{
	struct jitter j = { 0 };
	struct sim s = { .t = make(&j), .response_at = NEVER, .peer_alive = true };

	/* A first packet waits for the first handshake. */
	sim_send(&s, true);
	sim_advance(&s, 0);
	CU_ASSERT_EQUAL(s.initiations, 1);
	/* 200 s of request/response traffic: one rekey, at the first send after 120 s. */
	for (uint64_t k = 1; k <= 200; k++) {
		sim_advance(&s, k * 1000);
		sim_send(&s, true);
		sim_advance(&s, k * 1000 + 20);
		sim_receive(&s, true);
		sim_advance(&s, k * 1000 + 20);
	}
	CU_ASSERT_EQUAL(s.initiations, 2);
	CU_ASSERT_EQUAL(s.cur.birth_ms, 121000 + 30);
	CU_ASSERT_EQUAL(s.keepalives, 0);
	/* Silence: the last packet received gets one keepalive, then keys go at +540 s. */
	sim_advance(&s, 661029);
	CU_ASSERT_EQUAL(s.keepalives, 1);
	CU_ASSERT_EQUAL(s.zeroed, 0);
	sim_advance(&s, 700000);
	CU_ASSERT_EQUAL(s.zeroed, 1);
	CU_ASSERT_EQUAL(s.zeroed_at, 121030 + NTM_TIMERS_ZERO_KEYS_AFTER_MS);
	CU_ASSERT_EQUAL(s.initiations, 2);
	CU_ASSERT_EQUAL(ntm_timers_next_deadline(s.t), NEVER);
	/* The peer is gone: 18 initiations, give up at 90 s, zero again 540 s later. */
	s.peer_alive = false;
	sim_send(&s, true);
	sim_advance(&s, 2000000);
	CU_ASSERT_EQUAL(s.initiations, 2 + 18);
	CU_ASSERT_EQUAL(s.give_ups, 1);
	CU_ASSERT_EQUAL(s.zeroed, 2);
	CU_ASSERT_EQUAL(s.zeroed_at, 790000 + NTM_TIMERS_ZERO_KEYS_AFTER_MS);
	/* It is back, and we keep a NAT binding open with a 25 s persistent keepalive. */
	s.peer_alive = true;
	ntm_timers_set_persistent_keepalive(s.t, s.now, 25);
	sim_advance(&s, 2100000);
	CU_ASSERT_EQUAL(s.initiations, 21);
	CU_ASSERT_EQUAL(s.confirmations, 3);
	CU_ASSERT_EQUAL(s.persistents, 4); /* at once (no session: handshake), +25, +50, +75 s */
	CU_ASSERT_EQUAL(s.give_ups, 1);
	CU_ASSERT_EQUAL(s.keepalives, 1);
	ntm_timers_destroy(s.t);
}

/* Jitter from a seeded generator; sometimes out of range on purpose. */
static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * UINT64_C(2685821657736338717);
}

static uint32_t random_jitter(void *ctx, uint32_t upper_bound)
{
	uint32_t v = (uint32_t)(rng_next(ctx) >> 32);

	return v % 4 ? v % upper_bound : v;
}

/* Every event with the plain (engine, now) signature. */
static void (*const plain_events[])(struct ntm_timers *, uint64_t) = {
	ntm_timers_handshake_initiated,
	ntm_timers_handshake_complete,
	ntm_timers_session_derived,
	ntm_timers_data_sent,
	ntm_timers_data_received,
	ntm_timers_any_authenticated_packet_sent,
	ntm_timers_any_authenticated_packet_received,
	ntm_timers_any_authenticated_packet_traversal,
	ntm_timers_want_handshake,
	ntm_timers_want_handshake_on_receive,
};

static void random_event(struct ntm_timers *t, uint64_t now, uint64_t r)
{
	const size_t n = sizeof(plain_events) / sizeof(plain_events[0]);

	if (r % (n + 1) == n) {
		ntm_timers_set_persistent_keepalive(t, now, (uint16_t)((r >> 8) % 4 * 7));
	} else {
		plain_events[r % (n + 1)](t, now);
	}
}

/*
 * Random events at random times (fixed seed). Properties: expire() before the
 * earliest deadline returns nothing and changes nothing; after expire() no
 * deadline is <= now; no event sets a deadline in the past; the two
 * "send an initiation" actions never come together.
 */
static void test_properties_random(void)
{
	uint64_t rng = UINT64_C(0x74696d6572732121), jit = 42, now = 0;
	struct ntm_timers *t = NULL;

	CU_ASSERT_EQUAL_FATAL(ntm_timers_create(&t, random_jitter, &jit), 0);
	for (int i = 0; i < 100000; i++) {
		uint64_t r = rng_next(&rng), d = ntm_timers_next_deadline(t);
		unsigned a;

		if (r % 10 < 3 && d != NEVER) {
			now = d;
		} else if (r % 10 == 3 && d != NEVER && d > now) {
			now = d - 1;
		} else {
			now += (r >> 16) % 20000;
		}
		a = ntm_timers_expire(t, now);
		if (now < d) {
			CU_ASSERT_EQUAL_FATAL(a, 0);
			CU_ASSERT_EQUAL_FATAL(ntm_timers_next_deadline(t), d);
		}
		CU_ASSERT_FATAL(ntm_timers_next_deadline(t) > now);
		CU_ASSERT_FATAL(!((a & SEND_INIT) && (a & NEW_HS)));
		if ((a & (SEND_INIT | NEW_HS)) && (r >> 40) % 5 != 0) {
			ntm_timers_handshake_initiated(t, now);
		}
		for (uint64_t n = (r >> 32) % 3; n > 0; n--) {
			random_event(t, now, rng_next(&rng));
			CU_ASSERT_FATAL(ntm_timers_next_deadline(t) >= now);
		}
	}
	ntm_timers_destroy(t);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_create_destroy),
	NTM_TEST(test_handshake_retry_with_jitter),
	NTM_TEST(test_handshake_gives_up_at_90s),
	NTM_TEST(test_handshake_complete_stops_retries),
	NTM_TEST(test_keepalive_after_receive),
	NTM_TEST(test_no_keepalive_if_we_sent),
	NTM_TEST(test_new_handshake_when_unanswered),
	NTM_TEST(test_want_handshake),
	NTM_TEST(test_want_renews_attempt_budget),
	NTM_TEST(test_want_on_receive_once),
	NTM_TEST(test_persistent_keepalive),
	NTM_TEST(test_zero_keys),
	NTM_TEST(test_give_up_drops_keepalive),
	NTM_TEST(test_rekey_predicates),
	NTM_TEST(test_time_near_max),
	NTM_TEST(test_constants),
	NTM_TEST(test_session_lifetime),
	NTM_TEST(test_properties_random),
};

NTM_TEST_MAIN("timers", cases)
