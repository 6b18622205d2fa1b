/* SPDX-License-Identifier: MIT */
#ifndef NTM_RELAY_H
#define NTM_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "wire.h"

/*
 * The datagrams between a node and a Relay Server (DESIGN "Transport and
 * demultiplexing", "Flows" 4). They share the node's one UDP socket with
 * WireGuard and the control channel, so they start with a type byte of
 * ntm's range and three zero bytes like every other message (wire.h).
 *
 * A relay session is allocated on the RS by the DC only (RELAY_ALLOC over
 * the RS's control channel, ctrlmsg.h). The DC gives both nodes the RS
 * address, the 32-bit session id, their side (A or B) and the 32-byte
 * session credential. A node binds its outside endpoint to its side with a
 * BIND that proves knowledge of the credential; the RS answers BIND_OK
 * (proving the same), and from then on forwards the node's relay frames to
 * the other side's bound endpoint, unchanged: the receiver learns from the
 * session id which relayed peer a datagram came through. The RS never holds
 * tunnel keys: the payload is a WireGuard message, end-to-end encrypted.
 *
 * Replay: a BIND carries a 64-bit counter the node increases for every BIND
 * it sends (the wall clock in ms is a fine choice: it also survives a node
 * restart); the RS accepts a BIND for a side only with a counter above the
 * last one it accepted for that side. So a captured BIND replayed from
 * another address moves nothing. BIND_OK echoes the counter, so the node
 * pairs it with its BIND and ignores stale ones.
 *
 * Mobility and NAT: the node re-sends BIND (refresh) at least every
 * NTM_RELAY_REFRESH_S (wire.h); a BIND from a new address moves the side there. This
 * also holds the NAT binding towards the RS open.
 */

enum ntm_relay_side {
	NTM_RELAY_SIDE_A = 0,
	NTM_RELAY_SIDE_B = 1,
};

/* A decoded relay frame; `payload` is borrowed from the datagram. */
struct ntm_relay_frame {
	uint32_t session;
	const uint8_t *payload; /* the carried WireGuard message */
	size_t payload_len;
};

/* A decoded BIND or BIND_OK: a plain value. */
struct ntm_relay_bind {
	uint32_t session;
	uint8_t side; /* enum ntm_relay_side */
	uint64_t counter;
	uint8_t mac[NTM_RELAY_MAC_LEN];
};

/*
 * Relay frame: the session id and the carried message (whose first byte
 * must be a WireGuard type 1-4). Returns 0 or -EBADMSG; out zeroed on entry.
 */
NTM_MUST_CHECK int ntm_relay_decode_frame(const uint8_t *buf, size_t len,
					  struct ntm_relay_frame *out);

/*
 * Writes the 8-byte frame header for `session` in front of the payload the
 * caller appends (so a WireGuard message can be built in place after it).
 * Returns 0 or -EMSGSIZE (nothing written).
 */
NTM_MUST_CHECK int ntm_relay_encode_frame_header(struct ntm_wbuf *w, uint32_t session);

/*
 * BIND (ok false) or BIND_OK (ok true): checks type, length and fields, not
 * the mac (ntm_relay_bind_verify). Returns 0 or -EBADMSG; out zeroed on entry.
 */
NTM_MUST_CHECK int ntm_relay_decode_bind(const uint8_t *buf, size_t len, bool ok,
					 struct ntm_relay_bind *out);

/*
 * Appends a BIND (ok false) or BIND_OK (ok true) for b's session, side and
 * counter, with its mac under `cred` (b->mac is ignored). Returns 0,
 * -EINVAL (side not A or B, session 0) or -EMSGSIZE (nothing written).
 */
NTM_MUST_CHECK int ntm_relay_encode_bind(struct ntm_wbuf *w, bool ok,
					 const struct ntm_relay_bind *b,
					 const uint8_t cred[NTM_RELAY_CRED_LEN]);

/*
 * True when the mac of the BIND/BIND_OK datagram `buf` (already decoded, so
 * exactly NTM_RELAY_BIND_LEN bytes) is right for `cred`; constant time.
 */
bool ntm_relay_bind_verify(const uint8_t *buf, size_t len, const uint8_t cred[NTM_RELAY_CRED_LEN]);

#endif
