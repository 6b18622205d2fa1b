/* SPDX-License-Identifier: MIT */
#ifndef NTM_CTRL_H
#define NTM_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "noise.h"
#include "wire.h"

/*
 * The control channel (node<->DC, node<->RS, RS<->DC, DC<->DC): one secure
 * session with one peer, as a pure engine (no sockets, no clock: times are
 * the caller's monotonic ms, uv_now() in the daemons; the TAI64N timestamp
 * of an initiation is wall-clock, as in WireGuard).
 *
 * It is WireGuard's handshake and transport under the control profile
 * (noise.h NTM_NOISE_CONTROL: Noise identifier "ntm control v1") and the
 * control message types 0x80-0x83 (wire.h), so it has the same properties:
 * mutual authentication by static keys, forward secrecy from the ephemeral
 * keys, identity hiding for the initiator, replay protection (the TAI64N
 * timestamp per peer for initiations, a sliding window per keypair for
 * data), and mac1/mac2 with cookie replies against floods (cookie.h). Data
 * messages additionally authenticate their 16-byte header (type, receiver,
 * counter) as associated data.
 *
 * Key rules (simpler than WireGuard's timers, because control traffic is
 * request/response started by the initiator):
 *   - A keypair is used for at most NTM_TIMERS_REJECT_AFTER_TIME_MS (180 s)
 *     and NTM_WG_REJECT_AFTER_MESSAGES; older keypairs neither send nor
 *     receive.
 *   - ntm_ctrl_session_needs_handshake() is true for the initiator when it has
 *     no keypair, or its keypair is older than NTM_TIMERS_REKEY_AFTER_TIME_MS
 *     (120 s) or has sent NTM_WG_REKEY_AFTER_MESSAGES; the caller then
 *     initiates (retrying every NTM_TIMERS_REKEY_TIMEOUT_MS with backoff is
 *     the caller's job).
 *   - The initiator switches to a new keypair as soon as the response is
 *     consumed. The responder keeps the new keypair as "next" and goes on
 *     sending with the current one until the first data message arrives on
 *     the new one (the initiator always speaks first), then rotates. The
 *     previous keypair keeps receiving until it expires, so messages in
 *     flight across a rekey are not lost.
 *
 * Mac checks of incoming handshake messages are the caller's (it holds the
 * ntm_cookie_checker of its own key); the session adds macs to what it sends
 * and consumes cookie replies.
 */

struct ntm_ctrl_session;

/*
 * A session with the peer `peer_pub` (copied), on identity `id` (borrowed; it
 * must be of the NTM_NOISE_CONTROL profile and outlive the session). `owner`
 * is the caller's back pointer (ntm_ctrl_session_owner()). All secrets live
 * in sodium_malloc'd memory, or in the identity's pool when it has one
 * (ntm_noise_identity_set_pool()). Returns 0, -EINVAL (wrong profile or invalid
 * peer key) or -ENOMEM. Free with ntm_ctrl_session_destroy().
 */
NTM_MUST_CHECK int ntm_ctrl_session_create(const struct ntm_noise_identity *id,
					   const uint8_t peer_pub[NTM_WG_KEY_LEN], void *owner,
					   struct ntm_ctrl_session **out);
/* Wipes and frees; accepts NULL. */
void ntm_ctrl_session_destroy(struct ntm_ctrl_session *s);

void *ntm_ctrl_session_owner(const struct ntm_ctrl_session *s);
void ntm_ctrl_session_peer_public(const struct ntm_ctrl_session *s, uint8_t pub[NTM_WG_KEY_LEN]);

/*
 * The session's handshake, for a responder's ntm_noise_lookup_cb: the
 * caller's lookup returns it for the peer's static key. Borrowed; lives as
 * long as the session.
 */
struct ntm_noise_handshake *ntm_ctrl_session_handshake(struct ntm_ctrl_session *s);

/*
 * Initiator: appends a control initiation (148 bytes, macs added) to `w`.
 * `local_index` is the caller's fresh index for it (the peer's messages to
 * us carry it). `timestamp` is TAI64N; NULL takes the wall clock. Returns 0,
 * -EMSGSIZE (nothing written) or -EINVAL.
 */
NTM_MUST_CHECK int ntm_ctrl_session_initiate(struct ntm_ctrl_session *s, uint32_t local_index,
					     const uint8_t *timestamp, uint64_t now_ms,
					     struct ntm_wbuf *w);

/*
 * Initiator: consumes a control response (the whole datagram, its mac1
 * already checked by the caller), derives the new keypair and makes it
 * current. Returns 0, -EBADMSG (does not decode or authenticate), -ENOENT
 * (not for our outstanding initiation) or -EPROTO (none outstanding).
 */
NTM_MUST_CHECK int ntm_ctrl_session_consume_response(struct ntm_ctrl_session *s, const uint8_t *buf,
						     size_t len, uint64_t now_ms);

/* Initiator: takes the cookie from a control cookie reply. 0 or -EBADMSG. */
NTM_MUST_CHECK int ntm_ctrl_session_consume_cookie(struct ntm_ctrl_session *s, const uint8_t *buf,
						   size_t len, uint64_t now_ms);

/*
 * Responder, after ntm_noise_consume_initiation() returned this session's
 * handshake: appends the control response (92 bytes, macs added) to `w`
 * and derives the new keypair ("next", see above). Returns 0, -EMSGSIZE,
 * -EPROTO (no initiation consumed) or -EINVAL.
 */
NTM_MUST_CHECK int ntm_ctrl_session_respond(struct ntm_ctrl_session *s, uint32_t local_index,
					    uint64_t now_ms, struct ntm_wbuf *w);

/*
 * Encrypts `len` bytes of `plain` (borrowed; at most NTM_CTRL_PLAIN_MAX) into
 * one control data message appended to `w`. Returns 0, -ENOTCONN (no usable
 * keypair: handshake first), -EMSGSIZE (nothing written), or -EINVAL.
 */
NTM_MUST_CHECK int ntm_ctrl_session_seal(struct ntm_ctrl_session *s, const uint8_t *plain,
					 size_t len, uint64_t now_ms, struct ntm_wbuf *w);

/*
 * Decrypts a decoded control data message (ntm_wire_decode_ctrl_data) into
 * `out` (cap bytes, at least the payload length - 16; must not overlap the
 * payload). *out_len (0 on entry) is the padded plaintext length. Only an
 * authenticated message moves the replay window. Returns 0, -ENOKEY (the
 * receiver index is none of our live keypairs'), -ETIMEDOUT (keypair
 * expired), -EBADMSG (does not authenticate), -EALREADY / -ESTALE (replayed
 * or too old), -ERANGE, -EMSGSIZE (cap too small).
 */
NTM_MUST_CHECK int ntm_ctrl_session_open(struct ntm_ctrl_session *s, const struct ntm_wg_data *msg,
					 uint64_t now_ms, uint8_t *out, size_t cap,
					 size_t *out_len);

/* True when `index` is the local index of one of the session's keypairs or handshake. */
bool ntm_ctrl_session_has_index(const struct ntm_ctrl_session *s, uint32_t index);

/* True when the session can seal now. */
bool ntm_ctrl_session_is_established(const struct ntm_ctrl_session *s, uint64_t now_ms);

/* Initiator rule above. Always false for a session that never initiated. */
bool ntm_ctrl_session_needs_handshake(const struct ntm_ctrl_session *s, uint64_t now_ms);

#endif
