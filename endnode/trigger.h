/* SPDX-License-Identifier: MIT */
#ifndef EN_TRIGGER_H
#define EN_TRIGGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/ctrlmsg.h"
#include "common/err.h"

/*
 * Packet-triggered tunnel construction (DESIGN "Flows" 2: "a packet sent to
 * a VIP of the domain that has no tunnel yet triggers the same construction;
 * the packet is queued, not dropped").
 *
 * The DC lists the domain's pools in REGISTER_OK; the node routes them into
 * the TUN (node.c). A packet from the TUN to a pool address that no peer's
 * AllowedIPs cover comes here: it is queued (endnode/pktq.h: at most
 * EN_TRIGGER_PER_DEST per destination, EN_TRIGGER_TOTAL in all, the oldest
 * dropped and counted) and a DIRECTION_REQUEST by VIP goes to the DC,
 * retransmitted with the same request id after EN_TRIGGER_RETRY_MS, then
 * twice as long, until EN_TRIGGER_TIMEOUT_MS.
 *
 * A DIRECTION for the address (answered or unsolicited) adds the peer
 * (resolve.c does that), then the queued packets go to the peer in order:
 * they wait in its staging queue while the handshake runs and leave as
 * soon as the tunnel is usable. ERROR/UNKNOWN_NAME or the timeout drops the
 * queue; every queued packet is answered with an ICMP / ICMPv6 destination
 * unreachable into the TUN (rate-limited), and the address is cached as
 * negative for EN_TRIGGER_NEGATIVE_MS: packets to it are answered the same
 * way at once, without asking the DC again, so that a flood of packets
 * does not become a flood of requests.
 *
 * Everything runs on the loop thread; the trigger is owned by the node.
 */
struct en_node;
struct en_trigger;
struct en_ip_info;

enum {
	EN_TRIGGER_PER_DEST = 16, /* = EN_PEER_STAGED_MAX: the peer takes them all over */
	EN_TRIGGER_TOTAL = 256,
	EN_TRIGGER_RETRY_MS = 500,
	EN_TRIGGER_TIMEOUT_MS = 5 * 1000,
	EN_TRIGGER_NEGATIVE_MS = 5 * 1000,
	EN_TRIGGER_NEGATIVE_MAX = 64, /* cached addresses; the one expiring first is reused */
};

/* Counters for status: plain values. */
struct en_trigger_stats {
	uint64_t requests;	 /* destinations asked for */
	uint64_t directed;	 /* destinations a DIRECTION answered */
	uint64_t unknown;	 /* destinations the DC did not know */
	uint64_t timeouts;	 /* destinations without an answer */
	uint64_t negative_hits;	 /* packets answered from the negative cache */
	uint64_t queued;	 /* packets queued */
	uint64_t flushed;	 /* packets handed to a new peer */
	uint64_t dropped_oldest; /* queued packets pushed out by newer ones */
	uint64_t refused;	 /* packets for a new destination with every slot taken */
	uint64_t unreachable;	 /* queued packets dropped because nobody is there */
	size_t waiting;		 /* destinations waiting now */
};

/* A trigger for node `n` (borrowed; outlives it). 0 or -ENOMEM. Close with en_trigger_close. */
NTM_MUST_CHECK int en_trigger_create(struct en_node *n, struct en_trigger **out);

/* Drops every queued packet, closes the timer, frees in the close callback, then done(arg). */
void en_trigger_close(struct en_trigger *t, void (*done)(void *arg), void *arg);

/* The domain's pools (NULL: none of that family); borrowed for the call. */
void en_trigger_set_pools(struct en_trigger *t, const struct ntm_prefix *pool4,
			  const struct ntm_prefix *pool6);

/* The pools now (false when there is none of that family). */
bool en_trigger_get_pool(const struct en_trigger *t, int family, struct ntm_prefix *out);

/*
 * A packet from the TUN (`pkt`, parsed as `ip`, both borrowed) that no peer
 * takes. Returns true when it was handled here (queued, or answered from the
 * negative cache), false when its destination is not in a pool (the caller
 * drops it as before).
 */
bool en_trigger_packet(struct en_trigger *t, const struct en_ip_info *ip, const uint8_t *pkt);

/* A DIRECTION (after resolve.c learned its peer) or ERROR from the DC (borrowed). */
void en_trigger_on_message(struct en_trigger *t, const struct ntm_ctrl_msg *m);

void en_trigger_get_stats(const struct en_trigger *t, struct en_trigger_stats *out);

#endif
