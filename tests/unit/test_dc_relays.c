/* SPDX-License-Identifier: MIT */
/*
 * The DC's relay registry and allocation (dc/relays.h) with a captured
 * sender: the least loaded relay is chosen, answers complete or move on,
 * a relay that goes away hands its allocation to the next one.
 */
#include "dc/relays.h"

#include <string.h>

#include "ntm_test.h"

enum { SENT_MAX = 16 };

struct world {
	uv_loop_t loop;
	struct dc_relays *r;
	void *to[SENT_MAX];
	struct ntm_ctrl_msg sent[SENT_MAX];
	int n_sent;
	int calls, status;
	struct dc_relay_grant grant;
};

static int sess_a, sess_b, sess_c; /* their addresses are the session handles */

static int capture(void *arg, void *sess, const struct ntm_ctrl_msg *m)
{
	struct world *w = arg;

	CU_ASSERT_FATAL(w->n_sent < SENT_MAX);
	w->to[w->n_sent] = sess;
	w->sent[w->n_sent++] = *m;
	return 0;
}

static void on_done(void *arg, int status, const struct dc_relay_grant *g)
{
	struct world *w = arg;

	w->calls++;
	w->status = status;
	if (g != NULL) {
		w->grant = *g;
	}
}

static void add(struct world *w, void *sess, const char *name, uint32_t sessions, uint16_t cpu)
{
	struct ntm_ctrl_msg m;
	struct ntm_key k = { { 0 } };

	ntm_ctrl_msg_init(&m, NTM_CTRL_RS_REGISTER, 1);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_RELAY_ADDR) | NTM_CTRL_BIT(NTM_CTRL_ATTR_LOAD);
	m.relay_addr[0] =
		(struct ntm_ctrl_addr){ .family = 4, .ip = { 192, 0, 2, 7 }, .port = 7100 };
	m.n_relay_addr = 1;
	m.load = (struct ntm_ctrl_load){ .sessions = sessions, .capacity = 100, .cpu = cpu };
	k.b[0] = (uint8_t)name[0];
	CU_ASSERT_EQUAL(dc_relays_register(w->r, sess, name, &k, &m), 0);
}

static void answer(struct world *w, void *sess, int i, bool ok, uint16_t error)
{
	struct ntm_ctrl_msg a;

	ntm_ctrl_msg_init(&a, ok ? NTM_CTRL_RELAY_ALLOC_OK : NTM_CTRL_ERROR, w->sent[i].req_id);
	a.session_id = w->sent[i].session_id;
	a.error_code = error;
	dc_relays_answer(w->r, sess, &a);
}

static void setup(struct world *w)
{
	memset(w, 0, sizeof(*w));
	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&w->loop), 0);
	CU_ASSERT_EQUAL_FATAL(dc_relays_create(&w->loop, &w->r), 0);
	dc_relays_set_sender(w->r, capture, w);
}

static void teardown(struct world *w)
{
	dc_relays_close(w->r, NULL, NULL);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	CU_ASSERT_EQUAL(uv_loop_close(&w->loop), 0);
}

/* Runs the loop until `ms` have passed (the registry's tick is 100 ms). */
static void run_for(struct world *w, uint64_t ms)
{
	uint64_t end = uv_now(&w->loop) + ms;

	while (uv_now(&w->loop) < end) {
		uv_run(&w->loop, UV_RUN_ONCE);
		uv_update_time(&w->loop);
	}
}

static void test_least_loaded_and_grant(void)
{
	struct world w;

	setup(&w);
	CU_ASSERT_EQUAL(dc_relay_allocate(w.r, 60, on_done, &w), -ENOENT);
	add(&w, &sess_a, "rs-a", 10, 0);
	add(&w, &sess_b, "rs-b", 2, 0);
	add(&w, &sess_c, "rs-c", 1, 300); /* few sessions, but its CPU is busy */
	CU_ASSERT_EQUAL(dc_relays_count(w.r), 3);
	CU_ASSERT_EQUAL(dc_relay_allocate(w.r, 60, on_done, &w), 0);
	CU_ASSERT_EQUAL(w.n_sent, 1);
	CU_ASSERT_PTR_EQUAL(w.to[0], &sess_b);
	CU_ASSERT_EQUAL(w.sent[0].kind, NTM_CTRL_RELAY_ALLOC);
	CU_ASSERT_EQUAL(w.sent[0].lifetime, 60);
	CU_ASSERT_NOT_EQUAL(w.sent[0].session_id, 0);
	CU_ASSERT_EQUAL(w.calls, 0);	 /* never from within the call */
	answer(&w, &sess_a, 0, true, 0); /* from the wrong relay: ignored */
	CU_ASSERT_EQUAL(w.calls, 0);
	answer(&w, &sess_b, 0, true, 0);
	CU_ASSERT_EQUAL(w.calls, 1);
	CU_ASSERT_EQUAL(w.status, 0);
	CU_ASSERT_STRING_EQUAL(w.grant.relay, "rs-b");
	CU_ASSERT_EQUAL(w.grant.session_id, w.sent[0].session_id);
	CU_ASSERT_EQUAL(memcmp(w.grant.credential, w.sent[0].credential, 32), 0);
	CU_ASSERT_EQUAL(w.grant.n_addrs, 1);
	/* rs-b counts the new session until its next report */
	add(&w, &sess_b, "rs-b", 9, 0);
	CU_ASSERT_EQUAL(dc_relay_allocate(w.r, 60, on_done, &w), 0);
	CU_ASSERT_PTR_EQUAL(w.to[1], &sess_b); /* 9 < 10 */
	answer(&w, &sess_b, 1, true, 0);
	CU_ASSERT_EQUAL(dc_relay_allocate(w.r, 60, on_done, &w), 0);
	CU_ASSERT_PTR_EQUAL(w.to[2], &sess_a); /* 10 (+0) beats 9 + 1 by order */
	answer(&w, &sess_a, 2, true, 0);
	CU_ASSERT_EQUAL(w.calls, 3);
	/* release goes to the named relay */
	CU_ASSERT_EQUAL(dc_relay_release(w.r, "rs-b", 77), 0);
	CU_ASSERT_EQUAL(w.n_sent, 4);
	CU_ASSERT_PTR_EQUAL(w.to[3], &sess_b);
	CU_ASSERT_EQUAL(w.sent[3].kind, NTM_CTRL_RELAY_RELEASE);
	CU_ASSERT_EQUAL(w.sent[3].session_id, 77);
	CU_ASSERT_EQUAL(dc_relay_release(w.r, "rs-x", 77), -ENOENT);
	teardown(&w);
}

static void test_refusals_move_on(void)
{
	struct world w;

	setup(&w);
	add(&w, &sess_a, "rs-a", 1, 0);
	add(&w, &sess_b, "rs-b", 5, 0);
	CU_ASSERT_EQUAL(dc_relay_allocate(w.r, 60, on_done, &w), 0);
	CU_ASSERT_PTR_EQUAL(w.to[0], &sess_a);
	/* the id is taken on the relay: a new id, same relay */
	answer(&w, &sess_a, 0, false, NTM_CTRL_E_RELAY_EXISTS);
	CU_ASSERT_EQUAL(w.n_sent, 2);
	CU_ASSERT_PTR_EQUAL(w.to[1], &sess_a);
	CU_ASSERT_NOT_EQUAL(w.sent[1].session_id, w.sent[0].session_id);
	/* full: the next relay, on the next tick */
	answer(&w, &sess_a, 1, false, NTM_CTRL_E_RELAY_FULL);
	run_for(&w, 250);
	CU_ASSERT_EQUAL(w.n_sent, 3);
	CU_ASSERT_PTR_EQUAL(w.to[2], &sess_b);
	/* rs-b goes away: nobody is left */
	dc_relays_gone(w.r, &sess_b);
	run_for(&w, 250);
	CU_ASSERT_EQUAL(w.calls, 1);
	CU_ASSERT_EQUAL(w.status, -ETIMEDOUT);
	CU_ASSERT_EQUAL(dc_relays_count(w.r), 1);
	teardown(&w);
}

static void test_silence_retransmits_then_cancel(void)
{
	struct world w;

	setup(&w);
	add(&w, &sess_a, "rs-a", 1, 0);
	CU_ASSERT_EQUAL(dc_relay_allocate(w.r, 60, on_done, &w), 0);
	run_for(&w, DC_RELAY_RETRY_MS + 150);
	CU_ASSERT_EQUAL(w.n_sent, 2); /* the same request again */
	CU_ASSERT_EQUAL(w.sent[1].req_id, w.sent[0].req_id);
	CU_ASSERT_EQUAL(w.sent[1].session_id, w.sent[0].session_id);
	dc_relays_cancel(w.r);
	CU_ASSERT_EQUAL(w.calls, 1);
	CU_ASSERT_EQUAL(w.status, -ECANCELED);
	teardown(&w);
}

/* RELAY_RELEASE is sent again until RELEASE_OK answers it, at most DC_RELAY_TRIES times. */
static void test_release_retransmits(void)
{
	struct ntm_ctrl_msg ok;
	struct world w;

	setup(&w);
	add(&w, &sess_a, "rs-a", 1, 0);
	CU_ASSERT_EQUAL(dc_relay_release(w.r, "rs-a", 77), 0);
	CU_ASSERT_EQUAL_FATAL(w.n_sent, 1);
	run_for(&w, DC_RELAY_RETRY_MS + 300);
	CU_ASSERT_EQUAL_FATAL(w.n_sent, 2); /* unanswered: the same request again */
	CU_ASSERT_EQUAL(w.sent[1].kind, NTM_CTRL_RELAY_RELEASE);
	CU_ASSERT_EQUAL(w.sent[1].req_id, w.sent[0].req_id);
	CU_ASSERT_EQUAL(w.sent[1].session_id, 77);
	ntm_ctrl_msg_init(&ok, NTM_CTRL_RELAY_RELEASE_OK, w.sent[1].req_id);
	ok.session_id = 77;
	dc_relays_answer(w.r, &sess_a, &ok);
	run_for(&w, DC_RELAY_RETRY_MS + 300);
	CU_ASSERT_EQUAL(w.n_sent, 2); /* answered: nothing more */
	/* Never answered: DC_RELAY_TRIES sends, then it gives up. */
	CU_ASSERT_EQUAL(dc_relay_release(w.r, "rs-a", 78), 0);
	run_for(&w, (uint64_t)(DC_RELAY_TRIES + 1) * DC_RELAY_RETRY_MS + 300);
	CU_ASSERT_EQUAL(w.n_sent, 2 + DC_RELAY_TRIES);
	teardown(&w);
}

/* A relay a node found silent is chosen only when no other can take the session. */
static void test_avoiding(void)
{
	struct ntm_ctrl_addr avoid = { .family = 4, .ip = { 192, 0, 2, 7 }, .port = 7100 };
	struct world w;

	setup(&w);
	add(&w, &sess_a, "rs-a", 1, 0); /* the less loaded, but avoided */
	add(&w, &sess_b, "rs-b", 5, 0);
	/* add() gives every relay 192.0.2.7:7100: make rs-b's differ */
	{
		struct ntm_ctrl_msg m;
		struct ntm_key k = { { 'r' } };

		ntm_ctrl_msg_init(&m, NTM_CTRL_RS_REGISTER, 1);
		m.relay_addr[0] =
			(struct ntm_ctrl_addr){ .family = 4, .ip = { 192, 0, 2, 8 }, .port = 7100 };
		m.n_relay_addr = 1;
		m.load = (struct ntm_ctrl_load){ .sessions = 5, .capacity = 100 };
		CU_ASSERT_EQUAL(dc_relays_register(w.r, &sess_b, "rs-b", &k, &m), 0);
	}
	CU_ASSERT_EQUAL(dc_relay_allocate_avoiding(w.r, 60, &avoid, 1, on_done, &w), 0);
	CU_ASSERT_PTR_EQUAL(w.to[0], &sess_b);
	answer(&w, &sess_b, 0, true, 0);
	CU_ASSERT_EQUAL(dc_relay_allocate(w.r, 60, on_done, &w), 0);
	CU_ASSERT_PTR_EQUAL(w.to[1], &sess_a); /* without avoiding: the less loaded */
	answer(&w, &sess_a, 1, true, 0);
	/* The first pick silent: the avoided relay is next (it may have restarted). */
	CU_ASSERT_EQUAL(dc_relay_allocate_avoiding(w.r, 60, &avoid, 1, on_done, &w), 0);
	CU_ASSERT_PTR_EQUAL(w.to[2], &sess_b);
	for (int i = 0; i < 30 && w.n_sent < 3 + DC_RELAY_TRIES; i++) {
		run_for(&w, 200);
	}
	CU_ASSERT_EQUAL_FATAL(w.n_sent, 3 + DC_RELAY_TRIES);
	CU_ASSERT_PTR_EQUAL(w.to[2 + DC_RELAY_TRIES], &sess_a);
	answer(&w, &sess_a, 2 + DC_RELAY_TRIES, true, 0);
	CU_ASSERT_EQUAL(w.calls, 3);
	CU_ASSERT_EQUAL(w.status, 0);
	/* The avoided relay alone: it is taken (it may have restarted). */
	dc_relays_gone(w.r, &sess_b);
	CU_ASSERT_EQUAL(dc_relay_allocate_avoiding(w.r, 60, &avoid, 1, on_done, &w), 0);
	CU_ASSERT_PTR_EQUAL(w.to[3 + DC_RELAY_TRIES], &sess_a);
	answer(&w, &sess_a, 3 + DC_RELAY_TRIES, true, 0);
	CU_ASSERT_EQUAL(w.calls, 4);
	CU_ASSERT_EQUAL(w.status, 0);
	teardown(&w);
}

/* A relay that let an allocation go unanswered is the last choice until it reports again. */
static void test_silent_relay_last(void)
{
	struct ntm_ctrl_load load = { .sessions = 1, .capacity = 100 };
	struct world w;

	setup(&w);
	add(&w, &sess_a, "rs-a", 1, 0);
	add(&w, &sess_b, "rs-b", 5, 0);
	CU_ASSERT_EQUAL(dc_relay_allocate(w.r, 60, on_done, &w), 0);
	for (int i = 0; i < 30 && w.n_sent < DC_RELAY_TRIES + 1; i++) {
		run_for(&w, 200);
	}
	CU_ASSERT_EQUAL_FATAL(w.n_sent, DC_RELAY_TRIES + 1);
	CU_ASSERT_PTR_EQUAL(w.to[0], &sess_a);
	CU_ASSERT_PTR_EQUAL(w.to[DC_RELAY_TRIES], &sess_b);
	answer(&w, &sess_b, DC_RELAY_TRIES, true, 0);
	/* rs-a is less loaded, but silent: rs-b first */
	CU_ASSERT_EQUAL(dc_relay_allocate(w.r, 60, on_done, &w), 0);
	CU_ASSERT_PTR_EQUAL(w.to[DC_RELAY_TRIES + 1], &sess_b);
	answer(&w, &sess_b, DC_RELAY_TRIES + 1, true, 0);
	/* its load report shows it alive again */
	CU_ASSERT_EQUAL(dc_relays_report(w.r, &sess_a, &load), 0);
	CU_ASSERT_EQUAL(dc_relay_allocate(w.r, 60, on_done, &w), 0);
	CU_ASSERT_PTR_EQUAL(w.to[DC_RELAY_TRIES + 2], &sess_a);
	answer(&w, &sess_a, DC_RELAY_TRIES + 2, true, 0);
	CU_ASSERT_EQUAL(w.calls, 3);
	CU_ASSERT_EQUAL(w.status, 0);
	teardown(&w);
}

/* Registers `name` at 192.0.2.8:7100 (add() gives every relay 192.0.2.7:7100). */
static void add_other(struct world *w, void *sess, const char *name, uint32_t sessions)
{
	struct ntm_ctrl_msg m;
	struct ntm_key k = { { (uint8_t)name[0] } };

	ntm_ctrl_msg_init(&m, NTM_CTRL_RS_REGISTER, 1);
	m.relay_addr[0] =
		(struct ntm_ctrl_addr){ .family = 4, .ip = { 192, 0, 2, 8 }, .port = 7100 };
	m.n_relay_addr = 1;
	m.load = (struct ntm_ctrl_load){ .sessions = sessions, .capacity = 100 };
	CU_ASSERT_EQUAL(dc_relays_register(w->r, sess, name, &k, &m), 0);
}

static void key(struct ntm_key *k, uint8_t v)
{
	memset(k, 0, sizeof(*k));
	k->b[0] = v;
}

/*
 * dc_relays_usable (federation asks the other domain instead): none
 * registered, only avoided, full or silent relays are not usable.
 */
static void test_usable(void)
{
	struct ntm_ctrl_addr avoid = { .family = 4, .ip = { 192, 0, 2, 7 }, .port = 7100 };
	struct ntm_ctrl_load full = { .sessions = 100, .capacity = 100 };
	struct ntm_ctrl_load some = { .sessions = 10, .capacity = 100 };
	struct world w;

	setup(&w);
	CU_ASSERT_FALSE(dc_relays_usable(NULL, NULL, 0));
	CU_ASSERT_FALSE(dc_relays_usable(w.r, NULL, 0));
	add(&w, &sess_a, "rs-a", 1, 0);
	CU_ASSERT_TRUE(dc_relays_usable(w.r, NULL, 0));
	CU_ASSERT_FALSE(dc_relays_usable(w.r, &avoid, 1)); /* the only one, named silent */
	add_other(&w, &sess_b, "rs-b", 5);
	CU_ASSERT_TRUE(dc_relays_usable(w.r, &avoid, 1));
	CU_ASSERT_EQUAL(dc_relays_report(w.r, &sess_b, &full), 0);
	CU_ASSERT_FALSE(dc_relays_usable(w.r, &avoid, 1)); /* the other one is full */
	CU_ASSERT_EQUAL(dc_relays_report(w.r, &sess_b, &some), 0);
	CU_ASSERT_TRUE(dc_relays_usable(w.r, &avoid, 1));
	/* rs-a goes silent on an allocation: only a last choice, not usable */
	dc_relays_gone(w.r, &sess_b);
	CU_ASSERT_EQUAL(dc_relay_allocate(w.r, 60, on_done, &w), 0);
	for (int i = 0; i < 30 && w.calls == 0; i++) {
		run_for(&w, 200);
	}
	CU_ASSERT_EQUAL(w.calls, 1);
	CU_ASSERT(w.status < 0);
	CU_ASSERT_FALSE(dc_relays_usable(w.r, NULL, 0));
	CU_ASSERT_EQUAL(dc_relays_report(w.r, &sess_a, &some), 0); /* alive again */
	CU_ASSERT_TRUE(dc_relays_usable(w.r, NULL, 0));
	teardown(&w);
}

/* One session per pair: handed out again, released once both ends went direct. */
static void test_pair_session_reused_then_released(void)
{
	struct world w;
	struct ntm_key ka, kb, kc;
	struct dc_relay_grant g;
	struct ntm_ctrl_addr dead = { .family = 4, .ip = { 192, 0, 2, 8 }, .port = 7100 };

	setup(&w);
	key(&ka, 1);
	key(&kb, 2);
	key(&kc, 3);
	add(&w, &sess_a, "rs-a", 0, 0); /* 192.0.2.7:7100 */
	CU_ASSERT_EQUAL(dc_relay_lease_get(w.r, &ka, &kb, NULL, 0, &g), -ENOENT);
	CU_ASSERT_EQUAL(dc_relay_allocate_pair(w.r, 60, &ka, &kb, NULL, 0, on_done, &w), 0);
	/* In flight: a second request for the pair (either order) waits for that offer. */
	CU_ASSERT_EQUAL(dc_relay_lease_get(w.r, &kb, &ka, NULL, 0, &g), -EINPROGRESS);
	CU_ASSERT_EQUAL(dc_relay_allocate_pair(w.r, 60, &kb, &ka, NULL, 0, on_done, &w),
			-EINPROGRESS);
	CU_ASSERT_EQUAL(w.n_sent, 1);
	answer(&w, &sess_a, 0, true, 0);
	CU_ASSERT_EQUAL(w.calls, 1);
	CU_ASSERT_EQUAL(dc_relay_lease_count(w.r), 1);
	/* Handed out again: the same session and credential. */
	CU_ASSERT_EQUAL(dc_relay_lease_get(w.r, &kb, &ka, NULL, 0, &g), 0);
	CU_ASSERT_EQUAL(g.session_id, w.sent[0].session_id);
	CU_ASSERT_EQUAL(memcmp(g.credential, w.sent[0].credential, 32), 0);
	CU_ASSERT_STRING_EQUAL(g.relay, "rs-a");
	/* Another relay avoided: still this one. */
	CU_ASSERT_EQUAL(dc_relay_lease_get(w.r, &kb, &ka, &dead, 1, &g), 0);
	/* Another pair has none. */
	CU_ASSERT_EQUAL(dc_relay_lease_get(w.r, &ka, &kc, NULL, 0, &g), -ENOENT);
	/* A wrong id, or one end only: kept. */
	CU_ASSERT_EQUAL(dc_relay_lease_done(w.r, &ka, &kb, w.sent[0].session_id + 2), -ENOENT);
	CU_ASSERT_EQUAL(dc_relay_lease_done(w.r, &ka, &kb, w.sent[0].session_id), 0);
	CU_ASSERT_EQUAL(w.n_sent, 1);
	/* Offered again (an end fell back): both must leave it anew. */
	CU_ASSERT_EQUAL(dc_relay_lease_get(w.r, &ka, &kb, NULL, 0, &g), 0);
	CU_ASSERT_EQUAL(dc_relay_lease_done(w.r, &ka, &kb, w.sent[0].session_id), 0);
	CU_ASSERT_EQUAL(dc_relay_lease_done(w.r, &kb, &ka, w.sent[0].session_id), 1);
	CU_ASSERT_EQUAL(w.n_sent, 2);
	CU_ASSERT_EQUAL(w.sent[1].kind, NTM_CTRL_RELAY_RELEASE);
	CU_ASSERT_EQUAL(w.sent[1].session_id, w.sent[0].session_id);
	CU_ASSERT_EQUAL(dc_relay_lease_count(w.r), 0);
	CU_ASSERT_EQUAL(dc_relay_lease_get(w.r, &ka, &kb, NULL, 0, &g), -ENOENT);
	/* A relay a node found silent: a new session replaces the old, which is released. */
	CU_ASSERT_EQUAL(dc_relay_allocate_pair(w.r, 60, &ka, &kb, NULL, 0, on_done, &w), 0);
	answer(&w, &sess_a, 2, true, 0);
	add_other(&w, &sess_b, "rs-b", 50);
	dead.ip[3] = 7;
	CU_ASSERT_EQUAL(dc_relay_lease_get(w.r, &ka, &kb, &dead, 1, &g), -ENOENT);
	CU_ASSERT_EQUAL(dc_relay_allocate_pair(w.r, 60, &ka, &kb, &dead, 1, on_done, &w), 0);
	CU_ASSERT_EQUAL(w.n_sent, 4);
	CU_ASSERT_PTR_EQUAL(w.to[3], &sess_b);
	answer(&w, &sess_b, 3, true, 0);
	CU_ASSERT_EQUAL(w.calls, 3);
	CU_ASSERT_EQUAL(w.n_sent, 5);
	CU_ASSERT_PTR_EQUAL(w.to[4], &sess_a);
	CU_ASSERT_EQUAL(w.sent[4].kind, NTM_CTRL_RELAY_RELEASE);
	CU_ASSERT_EQUAL(w.sent[4].session_id, w.sent[2].session_id);
	CU_ASSERT_EQUAL(dc_relay_lease_count(w.r), 1);
	CU_ASSERT_EQUAL(dc_relay_lease_get(w.r, &ka, &kb, NULL, 0, &g), 0);
	CU_ASSERT_EQUAL(g.session_id, w.sent[3].session_id);
	/* Its relay goes: the pair's session with it. */
	dc_relays_gone(w.r, &sess_b);
	CU_ASSERT_EQUAL(dc_relay_lease_count(w.r), 0);
	CU_ASSERT_EQUAL(dc_relay_lease_get(w.r, &ka, &kb, NULL, 0, &g), -ENOENT);
	teardown(&w);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_least_loaded_and_grant),
	NTM_TEST(test_refusals_move_on),
	NTM_TEST(test_silence_retransmits_then_cancel),
	NTM_TEST(test_release_retransmits),
	NTM_TEST(test_avoiding),
	NTM_TEST(test_silent_relay_last),
	NTM_TEST(test_pair_session_reused_then_released),
	NTM_TEST(test_usable),
};

NTM_TEST_MAIN("dc_relays", cases)
