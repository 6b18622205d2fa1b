/* SPDX-License-Identifier: MIT */
#ifndef EN_NODE_INTERNAL_H
#define EN_NODE_INTERNAL_H

/*
 * The body of struct en_node, for the modules of endnode/ that make up the
 * data plane (node.c, peer.c, send.c, receive.c, status.c). Nothing outside
 * endnode/ includes this.
 */
#include <net/if.h>

#include "common/cookie.h"
#include "common/log.h"
#include "common/noise.h"
#include "common/wire.h"
#include "endnode/allowedips.h"
#include "endnode/index.h"
#include "endnode/node.h"

struct en_batch;
struct en_gro;
struct en_peer;
struct en_tun;
struct en_nl;
struct en_udp;
struct en_control;
struct en_dcclient;
struct en_resolver;
struct en_trigger;
struct en_dnsstub;
struct en_resolved;
struct en_pathmgr;
struct en_mobility;
struct en_peercache;

/*
 * "Under load" (whitepaper 5.3): more than this many handshake messages
 * (initiations and responses with a valid mac1) within one second. Then a
 * handshake message without a valid mac2 gets a cookie reply instead of an
 * answer. The state is kept for a second after the rate drops again.
 */
enum {
	EN_LOAD_HANDSHAKES_PER_SEC = 128,
	EN_LOAD_WINDOW_MS = 1000,
};

/*
 * DESIGN "Flows" 2: with a DC, a handshake initiation from a key that no
 * direction has announced yet is held (the last EN_HELD_MAX of them, each
 * for EN_HELD_MS) instead of dropped, because the DC's DIRECTION is usually
 * a moment behind it; en_receive_release_held() replays them once a peer
 * was learned. Only initiations with a valid mac1 that decrypt to a static
 * key are held; the oldest is overwritten when the slots are full.
 */
enum {
	EN_NODE_LOCAL_MAX = 4, /* = EN_DNSSTUB_LISTEN_MAX */
};

enum {
	EN_HELD_MAX = 4,
	EN_HELD_MS = 1000,
};

struct en_held {
	uint8_t buf[NTM_WG_INITIATION_LEN];
	struct ntm_addr from;
	uint64_t at_ms;
	bool used;
};

struct en_load {
	uint64_t window_start_ms;
	uint32_t count;
	uint64_t until_ms; /* under load until then */
};

struct en_node {
	uv_loop_t *loop; /* borrowed */
	struct ntm_noise_identity *id;
	uint8_t public_key[NTM_WG_KEY_LEN];
	struct ntm_cookie_checker *checker;
	struct en_index *index;
	struct en_allowedips *allowedips;
	struct en_peer *peers; /* doubly linked list, in creation order */
	struct en_peer *peers_tail;
	size_t n_peers;
	uint32_t next_peer_id;

	struct en_node_io io;
	bool io_gso; /* io is the UDP module's: batches go out with en_udp_send_gso */
	struct en_tun *tun;
	struct en_nl *nl;
	struct en_udp *udp;
	struct en_control *ctl;
	struct en_dcclient *dc;	      /* registration at the DC; NULL without [DC] */
	struct en_resolver *resolver; /* directed tunnels (resolve.h); NULL without [DC] */
	struct en_trigger *trigger;   /* packet-triggered tunnels (trigger.h); NULL without [DC] */
	struct en_dnsstub *dnsstub;   /* the DNS stub (dnsstub.h); NULL without [DC] */
	struct en_resolved
		*resolved; /* systemd-resolved registration (resolved.h); NULL without [DC] */
	struct en_pathmgr *pathmgr;	/* paths of directed peers (path.h); NULL without [DC] */
	struct en_mobility *mobility;	/* address watch (mobility.h); NULL before start */
	struct en_peercache *peercache; /* [DC] StateFile (restore.h); NULL without */
	char ifname[IF_NAMESIZE];
	uint32_t mtu;
	uint16_t listen_port; /* configured; the bound port is en_udp_port() */
	struct ntm_prefix *addresses;
	size_t n_addresses;
	struct ntm_prefix
		local[EN_NODE_LOCAL_MAX]; /* for the DNS stub: IPv4 on the TUN, IPv6 on lo */
	size_t n_local;

	uint64_t drops[EN_DROP_COUNT];
	struct en_load load;
	struct en_held held[EN_HELD_MAX]; /* receive.c; used only with a DC (resolver) */
	struct ntm_ratelimit rl;	  /* per-packet debug messages not tied to a peer */
	struct ntm_ratelimit rl_icmp;	  /* ICMP errors written back into the TUN */

	unsigned pending_closes; /* handles (and peers) whose close callback is due */
	bool closing;
	en_node_closed_cb done;
	void *done_arg;

	/*
	 * Decrypted packets on their way into the TUN, with the node's own
	 * sockets only (NULL with en_node_set_io hooks): held while the
	 * datagrams of one UDP read are handled, flushed at its end.
	 */
	struct en_gro *gro;
	/* Data messages on their way out: flushed before every send entry point returns. */
	struct en_batch *batch;
	/* Scratch for one outgoing handshake message: a whole datagram, room for a relay frame. */
	uint8_t tx[NTM_WG_MSG_MAX_LEN + NTM_RELAY_HEADER_LEN];
};

/* Count a drop on the node and, when `peer` is not NULL, on the peer too. */
void en_node_drop(struct en_node *n, struct en_peer *peer, enum en_drop reason);

/* Loop time in ms (uv_now). */
uint64_t en_node_now(const struct en_node *n);

/* Sends one datagram through the output hook. Returns 0 or a negative errno. */
NTM_MUST_CHECK int en_node_udp_send(struct en_node *n, const struct ntm_addr *to,
				    const uint8_t *buf, size_t len);

/*
 * Sends `len` bytes as datagrams of `seg` bytes (the last may be shorter):
 * in one go (UDP GSO) with the real sockets, else one by one through the
 * output hook. Returns 0 or the (last) negative errno.
 */
NTM_MUST_CHECK int en_node_udp_send_gso(struct en_node *n, const struct ntm_addr *to,
					const uint8_t *buf, size_t len, size_t seg);

/* Routes through the TUN for every AllowedIPs prefix of `peer` (no-op before start). */
int en_node_add_routes(struct en_node *n, const struct en_peer *peer);

/*
 * Removes a peer the DC taught us (aged out, or revoked): its routes go
 * first (a pool route, if any, then catches its VIPs again), then the peer
 * itself with its sessions and keys (en_peer_remove).
 */
void en_node_forget_peer(struct en_node *n, struct en_peer *peer);

/*
 * Puts `a`'s address (borrowed) on the host, IPv4 as /32 with scope host
 * on the TUN, IPv6 as /128 on lo, so that the DNS stub can bind it and the
 * kernel delivers packets to it locally; it comes off again when the node
 * closes (with the TUN, for IPv4). 0 or a negative errno (-EEXIST when it is
 * there already, e.g. left by a killed node: then it stays).
 */
NTM_MUST_CHECK int en_node_add_local(struct en_node *n, const struct ntm_addr *a);

/* A control datagram (types 0x80-0x83) for the DC client; `buf` borrowed for the call. */
void en_node_dc_receive(struct en_node *n, const uint8_t *buf, size_t len,
			const struct ntm_addr *from);

/* A close callback of a handle the node waited for (en_node_close). */
void en_node_close_done(struct en_node *n);

#endif
