/* SPDX-License-Identifier: MIT */
#ifndef EN_SEND_H
#define EN_SEND_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/cookie.h"

/*
 * The sending half of the data plane: packets from the TUN are routed by
 * destination through the AllowedIPs table to a peer and encrypted with its
 * current keypair, or queued while a handshake is wanted; and every message
 * the node sends (initiation, response, cookie reply, keepalive) is built
 * here. Each function reports its timer events; the caller then runs
 * en_peer_drive() once.
 */
struct en_node;
struct en_peer;

/*
 * One IP packet read from the TUN (`pkt` borrowed for the call). A packet to
 * an address no peer covers is dropped and counted, and answered with an
 * ICMP destination unreachable written back into the TUN.
 */
void en_send_tun_packet(struct en_node *n, const uint8_t *pkt, size_t len);

/*
 * The same, but the encrypted message may wait in the node's batch (UDP GSO)
 * until en_send_flush(), which the caller runs at the end of its burst of
 * packets, before returning to the loop.
 */
void en_send_tun_queue(struct en_node *n, const uint8_t *pkt, size_t len);
void en_send_flush(struct en_node *n);

/*
 * Answers the packet `pkt` (borrowed) with an ICMP / ICMPv6 destination
 * unreachable written into the TUN, rate-limited like every such answer.
 */
void en_send_unreachable(struct en_node *n, const uint8_t *pkt, size_t len);

/* Sends the staged packets if a session is usable; otherwise wants a handshake. */
void en_send_staged(struct en_peer *peer);

/* An empty data message (or the staged packets, if any). */
void en_send_keepalive(struct en_peer *peer);

/* A new handshake initiation to the peer's endpoint. */
void en_send_initiation(struct en_peer *peer);

/*
 * The response to the initiation just consumed into the peer's handshake;
 * installs the new keypair (as `next`). Returns 0 or a negative errno (the
 * handshake failed; counted by the caller).
 */
NTM_MUST_CHECK int en_send_response(struct en_peer *peer);

/* A cookie reply to the handshake message `pkt` (borrowed), to its sender `to`. */
void en_send_cookie_reply(struct en_node *n, const struct ntm_cookie_pkt *pkt,
			  const struct ntm_addr *to);

#endif
