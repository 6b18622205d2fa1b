/* SPDX-License-Identifier: MIT */
#ifndef EN_NODE_H
#define EN_NODE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/addr.h"
#include "common/err.h"
#include "endnode/config.h"

/*
 * The per-daemon context of ntm-node: it owns the identity, the peer table,
 * the cryptokey routing table, the index table, the TUN device, the netlink
 * socket and the UDP sockets, and is passed explicitly to every module
 * (there are no globals). main.c creates one per process.
 *
 * Two steps: en_node_create() builds everything that needs no privilege and
 * no I/O (keys, peers, tables), so that tests and fuzz targets can drive the
 * receive and send paths through en_node_set_io() hooks without sockets;
 * en_node_start() then opens the TUN, configures it over netlink and binds the
 * UDP sockets.
 */
struct en_node;

/* Why a packet was dropped. Counted per node and per peer. */
enum en_drop {
	EN_DROP_MALFORMED,	  /* fails wire.h classification or decoding */
	EN_DROP_MAC1,		  /* handshake message with a bad mac1 */
	EN_DROP_COOKIE,		  /* under load without a valid mac2: cookie reply sent */
	EN_DROP_HANDSHAKE,	  /* handshake does not authenticate, or unknown key */
	EN_DROP_HANDSHAKE_REPLAY, /* initiation timestamp not newer */
	EN_DROP_FLOOD,		  /* initiations from one peer faster than allowed */
	EN_DROP_UNKNOWN_INDEX,	  /* no session with that receiver index */
	EN_DROP_AUTH,		  /* data message does not authenticate */
	EN_DROP_REPLAY,		  /* data counter seen before or too old */
	EN_DROP_EXPIRED,	  /* keypair past Reject-After-Time/-Messages */
	EN_DROP_SOURCE,		  /* inner source address outside the peer's AllowedIPs */
	EN_DROP_INNER,		  /* decrypted payload is no valid IP packet */
	EN_DROP_NO_PEER,	  /* TUN packet to an address no peer's AllowedIPs cover */
	EN_DROP_NO_ENDPOINT,	  /* peer has no known endpoint */
	EN_DROP_QUEUE,		  /* staged packets over the limit, or handshake gave up */
	EN_DROP_SEND,		  /* UDP send failed (e.g. socket buffer full) */
	EN_DROP_TUN_WRITE,	  /* the TUN refused the packet */
	EN_DROP_COUNT,
};

/* Stable lower-case name ("replay", "no_peer"...) for status output. */
const char *en_drop_name(enum en_drop reason);

/* Packets the node dropped for `reason` since it was created. */
uint64_t en_node_drop_count(const struct en_node *n, enum en_drop reason);

/*
 * Output hooks. Production uses the UDP sockets and the TUN; tests and fuzz
 * targets install their own. Buffers are borrowed for the call only.
 */
struct en_node_io {
	int (*udp_send)(void *ctx, const struct ntm_addr *to, const uint8_t *buf, size_t len);
	int (*tun_write)(void *ctx, const uint8_t *pkt, size_t len);
	void *ctx;
};

/*
 * Builds a node from `cfg` (borrowed for the call: keys and peers are copied).
 * `loop` is borrowed and must outlive the node. Each peer gets a uv timer on
 * the loop, so the node must be closed with en_node_close() and the loop run
 * until the callback. Returns 0, -EINVAL (a bad key) or -ENOMEM.
 */
NTM_MUST_CHECK int en_node_create(uv_loop_t *loop, const struct en_config *cfg,
				  struct en_node **out);

/*
 * Opens the TUN `ifname` (borrowed), sets its addresses and MTU, brings it
 * up, adds a route per AllowedIPs prefix, binds the UDP sockets to the
 * configured ListenPort (0: one random port for both families) and starts
 * the peers' timers. Needs CAP_NET_ADMIN. On failure nothing is left open
 * except what en_node_close() closes; the error is logged.
 */
NTM_MUST_CHECK int en_node_start(struct en_node *n, const char *ifname);

/*
 * Replaces the output hooks (copied). For tests and fuzz targets: data
 * messages then go to udp_send one by one, never segmented (UDP GSO).
 */
void en_node_set_io(struct en_node *n, const struct en_node_io *io);

typedef void (*en_node_closed_cb)(void *arg);

/*
 * Closes every handle (peer timers, TUN, UDP sockets, control socket), wipes
 * every key and frees the node once libuv released them all; then calls
 * `done` (may be NULL). Accepts NULL.
 */
void en_node_close(struct en_node *n, en_node_closed_cb done, void *arg);

#endif
