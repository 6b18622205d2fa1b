/* SPDX-License-Identifier: MIT */
#include "timers.h"

#include "alloc.h"

/*
 * The timer rules, all in this file (section numbers: WireGuard whitepaper).
 * "Arm X at T" replaces any earlier deadline of X unless it says "if not armed".
 * "now" is the time passed with the event or to ntm_timers_expire().
 *
 * Handshake (6.4)
 *  H1 handshake_initiated: arm RETRANSMIT at now + REKEY_TIMEOUT + jitter;
 *     remember now as the last initiation; if no attempt series is running,
 *     one starts now. A pending INITIATE is cleared (this initiation serves it).
 *  H2 RETRANSMIT due, series started >= REKEY_ATTEMPT_TIME ago: GIVE_UP_HANDSHAKE;
 *     the series ends, KEEPALIVE is disarmed (nothing to send on), and ZERO_KEYS
 *     is armed at now + REJECT_AFTER_TIME * 3 if not armed.
 *  H3 RETRANSMIT due otherwise: SEND_HANDSHAKE_INITIATION (a retry: the series
 *     and its start time carry on; the caller reports H1 when it sent it).
 *  H4 handshake_complete: disarm RETRANSMIT and INITIATE, end the series, and
 *     allow the next rekey-on-receive (R1).
 *  H5 want_handshake: (re)start the series at now (6.4: the attempt budget is
 *     reset when a new transport data message is to be sent). If RETRANSMIT is
 *     armed an initiation is in flight and its retries carry on; otherwise arm
 *     INITIATE at max(now, last initiation + REKEY_TIMEOUT), keeping an earlier
 *     INITIATE (6.1: never more than one initiation per REKEY_TIMEOUT).
 *  H6 INITIATE due: NEW_HANDSHAKE (unless a retry goes out in the same expiry).
 * Rekey (6.2)
 *  R1 want_handshake_on_receive: H5, but only once between two H4s.
 *  R2 should_rekey_on_send: counter > REKEY_AFTER_MESSAGES, or initiator and
 *     age >= REKEY_AFTER_TIME. should_rekey_on_receive: initiator and
 *     age >= REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT.
 *  R3 session_is_usable: age < REJECT_AFTER_TIME and counter < REJECT_AFTER_MESSAGES.
 * Keys (6.3)
 *  Z1 session_derived: arm ZERO_KEYS at now + REJECT_AFTER_TIME * 3.
 *  Z2 ZERO_KEYS due: ZERO_KEYS.
 * Passive keepalive and dead peer detection (6.5)
 *  K1 data_received: if KEEPALIVE is not armed, arm it at now + KEEPALIVE_TIMEOUT;
 *     otherwise remember that another keepalive is needed after it.
 *  K2 any_authenticated_packet_sent: disarm KEEPALIVE and forget "another"
 *     (whatever we sent answers what we received).
 *  K3 KEEPALIVE due: SEND_KEEPALIVE; if another is needed, arm KEEPALIVE at
 *     now + KEEPALIVE_TIMEOUT once more.
 *  D1 data_sent: if NEW_HANDSHAKE is not armed, arm it at
 *     now + KEEPALIVE_TIMEOUT + REKEY_TIMEOUT + jitter.
 *  D2 any_authenticated_packet_received: disarm NEW_HANDSHAKE.
 *  D3 NEW_HANDSHAKE due: H5 (the peer answered nothing for 15 s).
 * Persistent keepalive (wg(8) PersistentKeepalive; not in the whitepaper)
 *  P1 any_authenticated_packet_traversal: if an interval is set, arm PERSISTENT
 *     at now + interval.
 *  P2 set_persistent_keepalive: 0 disarms; a new non-zero interval arms
 *     PERSISTENT at now (one keepalive at once).
 *  P3 PERSISTENT due: SEND_PERSISTENT_KEEPALIVE (P1 re-arms it when sent).
 *
 * expire() handles due timers in the order Z2, H2/H3, D3, H6, K3, P3, so a
 * D3 that finds the rate limit satisfied yields NEW_HANDSHAKE in the same call
 * and no deadline is left <= now.
 */

enum timer_id {
	T_RETRANSMIT,
	T_INITIATE,
	T_NEW_HANDSHAKE,
	T_KEEPALIVE,
	T_ZERO_KEYS,
	T_PERSISTENT,
	T_COUNT,
};

struct ntm_timers {
	uint64_t at[T_COUNT];	     /* absolute deadlines; NTM_TIMERS_NEVER = disarmed */
	uint64_t series_start;	     /* start of the attempt series; NEVER = none */
	uint64_t last_initiation;    /* NEVER = none yet */
	uint32_t persistent_ms;	     /* 0 = off */
	bool need_another_keepalive; /* K1/K3 */
	bool rekeyed_on_receive;     /* R1 */
	ntm_timers_rand_cb rand_cb;
	void *rand_ctx; /* borrowed */
};

/* now + ms; saturates below NEVER so an armed timer never reads as disarmed. */
static uint64_t after(uint64_t now, uint64_t ms)
{
	if (now >= NTM_TIMERS_NEVER - 1 - ms) {
		return NTM_TIMERS_NEVER - 1;
	}
	return now + ms;
}

static uint64_t age_of(uint64_t birth, uint64_t now)
{
	return now > birth ? now - birth : 0;
}

static uint64_t jitter(const struct ntm_timers *t)
{
	const uint32_t bound = NTM_TIMERS_JITTER_MAX_MS + 1;

	return t->rand_cb(t->rand_ctx, bound) % bound;
}

static bool is_armed(const struct ntm_timers *t, enum timer_id id)
{
	return t->at[id] != NTM_TIMERS_NEVER;
}

static void disarm(struct ntm_timers *t, enum timer_id id)
{
	t->at[id] = NTM_TIMERS_NEVER;
}

/* Fires the timer: true if it was due, and then it is disarmed. */
static bool take_due(struct ntm_timers *t, enum timer_id id, uint64_t now)
{
	if (t->at[id] > now) {
		return false;
	}
	disarm(t, id);
	return true;
}

int ntm_timers_create(struct ntm_timers **out, ntm_timers_rand_cb rand_cb, void *rand_ctx)
{
	struct ntm_timers *t;

	*out = NULL;
	if (rand_cb == NULL) {
		return -EINVAL;
	}
	t = ntm_calloc(1, sizeof(*t));
	if (t == NULL) {
		return -ENOMEM;
	}
	for (int i = 0; i < T_COUNT; i++) {
		disarm(t, (enum timer_id)i);
	}
	t->series_start = NTM_TIMERS_NEVER;
	t->last_initiation = NTM_TIMERS_NEVER;
	t->rand_cb = rand_cb;
	t->rand_ctx = rand_ctx;
	*out = t;
	return 0;
}

void ntm_timers_destroy(struct ntm_timers *t)
{
	ntm_free(t);
}

/* H1 */
void ntm_timers_handshake_initiated(struct ntm_timers *t, uint64_t now_ms)
{
	t->at[T_RETRANSMIT] = after(now_ms, NTM_TIMERS_REKEY_TIMEOUT_MS + jitter(t));
	t->last_initiation = now_ms;
	if (t->series_start == NTM_TIMERS_NEVER) {
		t->series_start = now_ms;
	}
	disarm(t, T_INITIATE);
}

/* H4 */
void ntm_timers_handshake_complete(struct ntm_timers *t, uint64_t now_ms)
{
	disarm(t, T_RETRANSMIT);
	disarm(t, T_INITIATE);
	t->series_start = NTM_TIMERS_NEVER;
	t->rekeyed_on_receive = false;
}

/* Z1 */
void ntm_timers_session_derived(struct ntm_timers *t, uint64_t now_ms)
{
	t->at[T_ZERO_KEYS] = after(now_ms, NTM_TIMERS_ZERO_KEYS_AFTER_MS);
}

/* D1 */
void ntm_timers_data_sent(struct ntm_timers *t, uint64_t now_ms)
{
	if (!is_armed(t, T_NEW_HANDSHAKE)) {
		t->at[T_NEW_HANDSHAKE] =
			after(now_ms, NTM_TIMERS_NEW_HANDSHAKE_AFTER_MS + jitter(t));
	}
}

/* K1 */
void ntm_timers_data_received(struct ntm_timers *t, uint64_t now_ms)
{
	if (!is_armed(t, T_KEEPALIVE)) {
		t->at[T_KEEPALIVE] = after(now_ms, NTM_TIMERS_KEEPALIVE_TIMEOUT_MS);
	} else {
		t->need_another_keepalive = true;
	}
}

/* K2 */
void ntm_timers_any_authenticated_packet_sent(struct ntm_timers *t, uint64_t now_ms)
{
	disarm(t, T_KEEPALIVE);
	t->need_another_keepalive = false;
}

/* D2 */
void ntm_timers_any_authenticated_packet_received(struct ntm_timers *t, uint64_t now_ms)
{
	disarm(t, T_NEW_HANDSHAKE);
}

/* P1 */
void ntm_timers_any_authenticated_packet_traversal(struct ntm_timers *t, uint64_t now_ms)
{
	if (t->persistent_ms != 0) {
		t->at[T_PERSISTENT] = after(now_ms, t->persistent_ms);
	}
}

/* H5 */
void ntm_timers_want_handshake(struct ntm_timers *t, uint64_t now_ms)
{
	uint64_t when = now_ms;

	t->series_start = now_ms;
	if (is_armed(t, T_RETRANSMIT)) {
		return;
	}
	if (t->last_initiation != NTM_TIMERS_NEVER) {
		uint64_t allowed = after(t->last_initiation, NTM_TIMERS_REKEY_TIMEOUT_MS);

		if (allowed > when) {
			when = allowed;
		}
	}
	if (when < t->at[T_INITIATE]) {
		t->at[T_INITIATE] = when;
	}
}

/* R1 */
void ntm_timers_want_handshake_on_receive(struct ntm_timers *t, uint64_t now_ms)
{
	if (t->rekeyed_on_receive) {
		return;
	}
	t->rekeyed_on_receive = true;
	ntm_timers_want_handshake(t, now_ms);
}

/* P2 */
void ntm_timers_set_persistent_keepalive(struct ntm_timers *t, uint64_t now_ms, uint16_t interval_s)
{
	uint32_t ms = (uint32_t)interval_s * 1000u;

	if (ms == t->persistent_ms) {
		return;
	}
	t->persistent_ms = ms;
	if (ms == 0) {
		disarm(t, T_PERSISTENT);
	} else {
		t->at[T_PERSISTENT] = now_ms;
	}
}

uint64_t ntm_timers_next_deadline(const struct ntm_timers *t)
{
	uint64_t best = NTM_TIMERS_NEVER;

	for (int i = 0; i < T_COUNT; i++) {
		if (t->at[i] < best) {
			best = t->at[i];
		}
	}
	return best;
}

/* H2 / H3 */
static unsigned expire_retransmit(struct ntm_timers *t, uint64_t now)
{
	if (!take_due(t, T_RETRANSMIT, now)) {
		return 0;
	}
	if (age_of(t->series_start, now) < NTM_TIMERS_REKEY_ATTEMPT_TIME_MS) {
		return NTM_TIMERS_SEND_HANDSHAKE_INITIATION;
	}
	t->series_start = NTM_TIMERS_NEVER;
	disarm(t, T_KEEPALIVE);
	t->need_another_keepalive = false;
	if (!is_armed(t, T_ZERO_KEYS)) {
		t->at[T_ZERO_KEYS] = after(now, NTM_TIMERS_ZERO_KEYS_AFTER_MS);
	}
	return NTM_TIMERS_GIVE_UP_HANDSHAKE;
}

/* K3 */
static unsigned expire_keepalive(struct ntm_timers *t, uint64_t now)
{
	if (!take_due(t, T_KEEPALIVE, now)) {
		return 0;
	}
	if (t->need_another_keepalive) {
		t->need_another_keepalive = false;
		t->at[T_KEEPALIVE] = after(now, NTM_TIMERS_KEEPALIVE_TIMEOUT_MS);
	}
	return NTM_TIMERS_SEND_KEEPALIVE;
}

unsigned ntm_timers_expire(struct ntm_timers *t, uint64_t now_ms)
{
	unsigned actions = 0;

	if (take_due(t, T_ZERO_KEYS, now_ms)) { /* Z2 */
		actions |= NTM_TIMERS_ZERO_KEYS;
	}
	actions |= expire_retransmit(t, now_ms);
	if (take_due(t, T_NEW_HANDSHAKE, now_ms)) { /* D3 */
		ntm_timers_want_handshake(t, now_ms);
	}
	if (take_due(t, T_INITIATE, now_ms)) { /* H6 */
		actions |= NTM_TIMERS_NEW_HANDSHAKE;
	}
	if (actions & NTM_TIMERS_SEND_HANDSHAKE_INITIATION) {
		actions &= ~(unsigned)NTM_TIMERS_NEW_HANDSHAKE;
	}
	actions |= expire_keepalive(t, now_ms);
	if (take_due(t, T_PERSISTENT, now_ms)) { /* P3 */
		actions |= NTM_TIMERS_SEND_PERSISTENT_KEEPALIVE;
	}
	return actions;
}

bool ntm_timers_session_is_usable(const struct ntm_timers_session *s, uint64_t now_ms)
{
	return age_of(s->birth_ms, now_ms) < NTM_TIMERS_REJECT_AFTER_TIME_MS &&
	       s->counter < NTM_WG_REJECT_AFTER_MESSAGES;
}

bool ntm_timers_should_rekey_on_send(const struct ntm_timers_session *s, uint64_t now_ms)
{
	if (s->counter > NTM_WG_REKEY_AFTER_MESSAGES) {
		return true;
	}
	return s->is_initiator && age_of(s->birth_ms, now_ms) >= NTM_TIMERS_REKEY_AFTER_TIME_MS;
}

bool ntm_timers_should_rekey_on_receive(const struct ntm_timers_session *s, uint64_t now_ms)
{
	return s->is_initiator && age_of(s->birth_ms, now_ms) >= NTM_TIMERS_REKEY_ON_RECEIVE_AGE_MS;
}
