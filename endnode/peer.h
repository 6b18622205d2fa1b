/* SPDX-License-Identifier: MIT */
#ifndef EN_PEER_H
#define EN_PEER_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/addr.h"
#include "common/err.h"
#include "endnode/config.h"

/*
 * The node's peers. The table is dynamic: static peers come from the config
 * at start-up, later ones (directed by a DC) are added and removed at run
 * time. A peer owns its handshake state, its cookie maker, its timer engine
 * with its uv_timer_t, up to three keypairs (current, previous, next: the
 * WireGuard key rotation), a small queue of packets waiting for a session,
 * and its counters.
 */
struct en_node;
struct en_peer;

/*
 * Adds a peer described by `cp` (borrowed; keys copied) to the node and maps
 * its AllowedIPs to it (moving prefixes other peers held). If the node is
 * started, routes for the prefixes are added and its timers run. On success
 * *out (may be NULL) is the peer, owned by the node. Returns 0, -EEXIST (same
 * public key as a peer or the node), -EINVAL (an invalid key) or -ENOMEM.
 */
NTM_MUST_CHECK int en_peer_add(struct en_node *n, const struct en_config_peer *cp,
			       struct en_peer **out);

/*
 * Removes the peer: its prefixes, its indices and its queued packets go at
 * once, its keys are wiped, and the memory is freed when libuv has released
 * its timer. `peer` must not be used after the call.
 */
void en_peer_remove(struct en_peer *peer);

/* Starts the peer's timers (the node calls this from en_node_start). */
void en_peer_start(struct en_peer *peer);

/* The peer with this static public key, or NULL. */
struct en_peer *en_peer_find(const struct en_node *n, const uint8_t *public_key);

/* A snapshot of a peer for status output; plain values. */
struct en_peer_info {
	uint32_t id;
	uint8_t public_key[32];
	struct ntm_addr endpoint; /* AF_UNSPEC when unknown */
	uint16_t persistent_keepalive;
	struct timespec last_handshake; /* wall clock; tv_sec 0 when never */
	uint64_t rx_bytes;
	uint64_t tx_bytes;
	uint64_t drops_total;
	const uint64_t *drops; /* EN_DROP_COUNT counters, valid while the peer is */
};

void en_peer_get_info(const struct en_peer *peer, struct en_peer_info *out);

/* Iteration in creation order: first/next return NULL at the end. */
struct en_peer *en_peer_first(const struct en_node *n);
struct en_peer *en_peer_next(const struct en_peer *peer);

#endif
