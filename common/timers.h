/* SPDX-License-Identifier: MIT */
#ifndef NTM_TIMERS_H
#define NTM_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "wire.h"

/*
 * WireGuard's timer rules (whitepaper section 6, "Timers & Stateless UX") as a
 * pure engine: protocol code reports events with the loop's time (uv_now(),
 * monotonic milliseconds), the engine answers with absolute deadlines and, once
 * a deadline has passed, with the actions that are due. It never reads a clock
 * and never touches libuv. The full list of rules is at the top of timers.c.
 *
 * Driving it (one place per daemon, e.g. endnode/peer.c):
 *
 *	after every event on peer p, and from p's uv_timer_t callback:
 *		now = uv_now(loop);
 *		actions = ntm_timers_expire(p->timers, now);
 *		carry out actions (each may report more events, see below);
 *		d = ntm_timers_next_deadline(p->timers);
 *		if (d == NTM_TIMERS_NEVER) uv_timer_stop(&p->timer);
 *		else uv_timer_start(&p->timer, cb, d > now ? d - now : 0, 0);
 *
 * Which events to report (the caller's checklist):
 *   - handshake initiation sent:  _any_authenticated_packet_traversal,
 *     _any_authenticated_packet_sent, _handshake_initiated
 *   - handshake response sent:    _traversal, _sent, _session_derived
 *   - valid initiation received:  _any_authenticated_packet_received, _traversal
 *   - valid response received:    _received, _traversal, _session_derived,
 *     _handshake_complete (then send a keepalive to confirm the session)
 *   - transport message sent:     _traversal, _sent, and _data_sent if it was
 *     not a keepalive; then ntm_timers_should_rekey_on_send()
 *   - transport message received (after AEAD and replay checks): _received,
 *     _traversal, _data_received if not a keepalive, _handshake_complete if it
 *     was the first one on the responder's new keypair; then
 *     ntm_timers_should_rekey_on_receive()
 *   - a packet waits and no session is usable: ntm_timers_want_handshake()
 *   - cookie reply received: no event; the retry timer resends (6.6)
 * Send handshake initiations only when ntm_timers_expire() asks for one: that
 * is how "never more than one initiation per Rekey-Timeout" (6.1) holds.
 */

/*
 * Protocol constants. Times are in milliseconds; the spec states them in
 * seconds (whitepaper section 6.1, table "Constants").
 */
enum ntm_timers_const {
	NTM_TIMERS_REKEY_AFTER_TIME_MS = 120 * 1000,  /* 6.1 Rekey-After-Time */
	NTM_TIMERS_REJECT_AFTER_TIME_MS = 180 * 1000, /* 6.1 Reject-After-Time */
	NTM_TIMERS_REKEY_ATTEMPT_TIME_MS = 90 * 1000, /* 6.1 Rekey-Attempt-Time */
	NTM_TIMERS_REKEY_TIMEOUT_MS = 5 * 1000,	      /* 6.1 Rekey-Timeout */
	NTM_TIMERS_KEEPALIVE_TIMEOUT_MS = 10 * 1000,  /* 6.1 Keepalive-Timeout */
	/*
	 * 6.1: jitter added to timer-driven initiations, uniform in [0, 333] ms
	 * (the spec gives no amount; a third of a second is what the reference
	 * implementations use)
	 */
	NTM_TIMERS_JITTER_MAX_MS = 333,
	/* 6.3: all ephemeral keys zeroed this long after the last handshake */
	NTM_TIMERS_ZERO_KEYS_AFTER_MS = 3 * NTM_TIMERS_REJECT_AFTER_TIME_MS,
	/* 6.5: data sent, nothing received back for this long: new handshake */
	NTM_TIMERS_NEW_HANDSHAKE_AFTER_MS =
		NTM_TIMERS_KEEPALIVE_TIMEOUT_MS + NTM_TIMERS_REKEY_TIMEOUT_MS,
	/*
	 * 6.2: the initiator rekeys on receive once its session is this old
	 * (Reject-After-Time - Keepalive-Timeout - Rekey-Timeout = 165 s), so a
	 * new session exists before the old one is rejected at 180 s.
	 */
	NTM_TIMERS_REKEY_ON_RECEIVE_AGE_MS = NTM_TIMERS_REJECT_AFTER_TIME_MS -
					     NTM_TIMERS_KEEPALIVE_TIMEOUT_MS -
					     NTM_TIMERS_REKEY_TIMEOUT_MS,
};

/*
 * The message-count limits are 64-bit, and C11 enumerators are int-sized, so
 * these two (and the "no deadline" value) are typed macros instead of enum
 * members. They stay integer constant expressions (usable in _Static_assert).
 */
/*
 * 6.1 Rekey-After-Messages (2^60) and Reject-After-Messages (2^64 - 2^13 - 1)
 * are wire limits: NTM_WG_REKEY_AFTER_MESSAGES and NTM_WG_REJECT_AFTER_MESSAGES
 * in wire.h. The 2^13 margin keeps the replay window arithmetic (counter +
 * window) from wrapping; see replay.c.
 */
/* ntm_timers_next_deadline() when no timer is armed */
#define NTM_TIMERS_NEVER UINT64_MAX

/*
 * Actions returned by ntm_timers_expire(), as a bit set. Carry them out in
 * this order. SEND_HANDSHAKE_INITIATION and NEW_HANDSHAKE both mean "build and
 * send one handshake initiation now, then report _handshake_initiated()" (the
 * engine keeps track of retry versus new itself); they are never both set.
 * If SEND_KEEPALIVE and SEND_PERSISTENT_KEEPALIVE are both set, send one
 * keepalive. A keepalive with no usable session means wanting a handshake.
 */
enum ntm_timers_action {
	/* 6.3: wipe every keypair and the handshake state of this peer */
	NTM_TIMERS_ZERO_KEYS = 1u << 0,
	/* 6.4: Rekey-Attempt-Time passed without a response: drop queued packets */
	NTM_TIMERS_GIVE_UP_HANDSHAKE = 1u << 1,
	/* 6.4: no response within Rekey-Timeout + jitter: retry the initiation */
	NTM_TIMERS_SEND_HANDSHAKE_INITIATION = 1u << 2,
	/* 6.2/6.5: start a new handshake (wanted, or the peer went silent) */
	NTM_TIMERS_NEW_HANDSHAKE = 1u << 3,
	/* 6.5: data received, nothing sent for Keepalive-Timeout: send a keepalive */
	NTM_TIMERS_SEND_KEEPALIVE = 1u << 4,
	/* wg(8) PersistentKeepalive: the interval passed with no packet either way */
	NTM_TIMERS_SEND_PERSISTENT_KEEPALIVE = 1u << 5,
};

/*
 * Jitter source: returns a uniformly distributed value in [0, upper_bound).
 * Daemons pass a wrapper around randombytes_uniform(); tests pass a
 * deterministic one. A value >= upper_bound is reduced modulo upper_bound.
 */
typedef uint32_t (*ntm_timers_rand_cb)(void *ctx, uint32_t upper_bound);

/* One engine per peer (or per control-channel session). Opaque. */
struct ntm_timers;

/*
 * Create an engine with every timer disarmed and persistent keepalive off.
 * rand_cb must not be NULL; rand_ctx is borrowed and must outlive the engine.
 * On success *out owns the engine (free with ntm_timers_destroy()).
 * Returns 0, -EINVAL (rand_cb NULL) or -ENOMEM; *out is NULL on failure.
 */
NTM_MUST_CHECK int ntm_timers_create(struct ntm_timers **out, ntm_timers_rand_cb rand_cb,
				     void *rand_ctx);
/* Free the engine; NULL is allowed. */
void ntm_timers_destroy(struct ntm_timers *t);

/*
 * Events. `now_ms` is uv_now() of the owning loop. None of them fails; none
 * of them sets a deadline earlier than now_ms.
 */
void ntm_timers_handshake_initiated(struct ntm_timers *t, uint64_t now_ms);
void ntm_timers_handshake_complete(struct ntm_timers *t, uint64_t now_ms);
void ntm_timers_session_derived(struct ntm_timers *t, uint64_t now_ms);
void ntm_timers_data_sent(struct ntm_timers *t, uint64_t now_ms);
void ntm_timers_data_received(struct ntm_timers *t, uint64_t now_ms);
void ntm_timers_any_authenticated_packet_sent(struct ntm_timers *t, uint64_t now_ms);
void ntm_timers_any_authenticated_packet_received(struct ntm_timers *t, uint64_t now_ms);
void ntm_timers_any_authenticated_packet_traversal(struct ntm_timers *t, uint64_t now_ms);

/*
 * A new handshake is wanted: a packet waits but no session is usable, or
 * ntm_timers_should_rekey_on_send() said so. The engine decides when the
 * initiation goes out (NEW_HANDSHAKE, at most one per Rekey-Timeout) and
 * restarts the Rekey-Attempt-Time budget.
 */
void ntm_timers_want_handshake(struct ntm_timers *t, uint64_t now_ms);

/*
 * Like ntm_timers_want_handshake(), for ntm_timers_should_rekey_on_receive():
 * acts only the first time after each completed handshake (6.2: "if it has
 * not yet acted upon this event").
 */
void ntm_timers_want_handshake_on_receive(struct ntm_timers *t, uint64_t now_ms);

/*
 * Set the persistent keepalive interval in seconds (wg's PersistentKeepalive,
 * 1..65535), or 0 to turn it off. Turning it on or changing it makes one
 * keepalive due at once, as `wg set` does.
 */
void ntm_timers_set_persistent_keepalive(struct ntm_timers *t, uint64_t now_ms,
					 uint16_t interval_s);

/* Earliest armed deadline (absolute ms on the caller's clock), or NTM_TIMERS_NEVER. */
uint64_t ntm_timers_next_deadline(const struct ntm_timers *t);

/*
 * Fire every timer whose deadline is <= now_ms and return the due actions (a
 * set of enum ntm_timers_action bits, 0 if none). Afterwards every armed
 * deadline is > now_ms.
 */
unsigned ntm_timers_expire(struct ntm_timers *t, uint64_t now_ms);

/*
 * What the send and receive paths know about one keypair. A plain value the
 * caller fills from its keypair for the predicates below.
 */
struct ntm_timers_session {
	uint64_t birth_ms; /* uv_now() when the keypair was derived */
	/*
	 * Sending: the nonce the next message would use. Receiving: the counter
	 * of the message just received (ntm_replay also refuses counters >=
	 * Reject-After-Messages).
	 */
	uint64_t counter;
	bool is_initiator; /* we sent the initiation that created it */
};

/*
 * 6.2: a keypair may be used while it is younger than Reject-After-Time and
 * the counter is below Reject-After-Messages. A birth in the future counts as
 * age 0 (cannot happen on a monotonic clock).
 */
bool ntm_timers_session_is_usable(const struct ntm_timers_session *s, uint64_t now_ms);

/*
 * 6.2, on send: rekey when more than Rekey-After-Messages messages were sent,
 * or, for the session's initiator only, when it is Rekey-After-Time old.
 */
bool ntm_timers_should_rekey_on_send(const struct ntm_timers_session *s, uint64_t now_ms);

/*
 * 6.2, on receive: the initiator rekeys once its session is
 * NTM_TIMERS_REKEY_ON_RECEIVE_AGE_MS old (then call
 * ntm_timers_want_handshake_on_receive(), which acts once).
 */
bool ntm_timers_should_rekey_on_receive(const struct ntm_timers_session *s, uint64_t now_ms);

#endif
