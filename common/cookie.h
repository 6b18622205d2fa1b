/* SPDX-License-Identifier: MIT */
#ifndef NTM_COOKIE_H
#define NTM_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "wire.h"

/*
 * WireGuard's DoS protection (whitepaper 5.3 and 5.4.4, 5.4.7): every
 * handshake message ends in
 *   mac1 = MAC(HASH("mac1----" || receiver's static public), msg[0:mac1])
 *   mac2 = MAC(cookie, msg[0:mac2])   (zeros when the sender has no cookie)
 * where a responder under load demands mac2 and, failing it, answers with a
 * cookie reply that carries
 *   cookie = MAC(secret, sender IP address || sender UDP port (big-endian)),
 * XAEAD-encrypted under HASH("cookie--" || responder's static public) with
 * the offending message's mac1 as associated data. The secret is random and
 * replaced every two minutes.
 *
 * Pure objects: no sockets, no clocks (the caller passes its monotonic
 * milliseconds), no allocation after create. Handshake messages handed in
 * must be whole initiations (148 bytes) or responses (92 bytes), of WireGuard
 * (types 1, 2) or of the control channel (0x80, 0x81; same layouts).
 */

enum {
	NTM_COOKIE_SECRET_MAX_AGE_MS = 120 * 1000, /* Cookie-Secret-Max-Age... */
	NTM_COOKIE_LATENCY_MS = 5 * 1000,	   /* ...minus Cookie-Latency for a kept cookie */
};

/* A received handshake message and where it came from; all borrowed. */
struct ntm_cookie_pkt {
	const uint8_t *msg; /* the whole datagram */
	size_t len;
	const uint8_t *addr; /* sender IP address, network byte order */
	size_t addr_len;     /* 4 (IPv4) or 16 (IPv6) */
	uint16_t port;	     /* sender UDP port, host byte order */
};

/* ---------------------------------------------------------------- receiving side */

/* One per local static key: checks the macs of messages sent to us. */
struct ntm_cookie_checker;

/*
 * `local_pub` is our static public key (copied). The result holds the cookie
 * secret in sodium_malloc'd memory; free it with ntm_cookie_checker_destroy.
 * Returns 0, or -ENOMEM.
 */
NTM_MUST_CHECK int ntm_cookie_checker_create(const uint8_t local_pub[NTM_WG_KEY_LEN],
					     struct ntm_cookie_checker **out);
/* Wipes and frees; accepts NULL. */
void ntm_cookie_checker_destroy(struct ntm_cookie_checker *c);

enum ntm_cookie_verdict {
	NTM_COOKIE_BAD = 0, /* bad length or mac1: drop silently, do nothing else */
	NTM_COOKIE_MAC1_OK, /* mac1 valid; mac2 not asked for, missing or stale */
	NTM_COOKIE_MAC2_OK, /* mac1 and mac2 valid: the source address is proven */
};

/*
 * Checks mac1 and, when `check_mac2` (the caller is under load), mac2 against
 * the cookie of the packet's source. Only a valid mac1 lets the function go
 * on to mac2 (which may rotate the secret when it is two minutes old).
 */
enum ntm_cookie_verdict ntm_cookie_validate(struct ntm_cookie_checker *c,
					    const struct ntm_cookie_pkt *pkt, uint64_t now_ms,
					    bool check_mac2);

/*
 * Builds the cookie reply for `pkt` (receiver = the message's sender index,
 * random nonce). Returns 0, or -EBADMSG when pkt is no handshake message or
 * -EINVAL for a bad address length; `out` is zeroed on entry.
 */
NTM_MUST_CHECK int ntm_cookie_make_reply(struct ntm_cookie_checker *c,
					 const struct ntm_cookie_pkt *pkt, uint64_t now_ms,
					 struct ntm_wg_cookie_reply *out);

/* ---------------------------------------------------------------- sending side */

/* One per peer: adds the macs to messages we send to that peer, keeps its cookie. */
struct ntm_cookie_maker;

/* `peer_pub` is the peer's static public key (copied). Returns 0 or -ENOMEM. */
NTM_MUST_CHECK int ntm_cookie_maker_create(const uint8_t peer_pub[NTM_WG_KEY_LEN],
					   struct ntm_cookie_maker **out);
/* Wipes and frees; accepts NULL. */
void ntm_cookie_maker_destroy(struct ntm_cookie_maker *m);

/*
 * Fills the last 32 bytes (mac1, mac2) of an encoded initiation or response
 * in place: mac2 from the peer's cookie while it is younger than
 * Cookie-Secret-Max-Age - Cookie-Latency, zeros otherwise. Remembers mac1 for
 * the cookie reply that may come back. Returns 0, or -EINVAL when msg is not
 * a whole initiation or response.
 */
NTM_MUST_CHECK int ntm_cookie_add_macs(struct ntm_cookie_maker *m, uint8_t *msg, size_t len,
				       uint64_t now_ms);

/*
 * Takes the cookie out of a reply to our last message with macs (the caller
 * found this maker through the reply's receiver index). Returns 0, or
 * -EBADMSG when we sent nothing that asks for a reply or the reply does not
 * authenticate; a reply is used at most once.
 */
NTM_MUST_CHECK int ntm_cookie_consume_reply(struct ntm_cookie_maker *m,
					    const struct ntm_wg_cookie_reply *r, uint64_t now_ms);

#endif
