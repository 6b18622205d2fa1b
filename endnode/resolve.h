/* SPDX-License-Identifier: MIT */
#ifndef EN_RESOLVE_H
#define EN_RESOLVE_H

#include <stdint.h>

#include "common/ctlserver.h"
#include "common/ctrlmsg.h"
#include "common/err.h"

/*
 * Directed tunnel construction on the node (DESIGN "Flows" 2), for peers
 * that are reachable directly (path "direct"; NAT traversal comes later).
 *
 * `resolve FQDN` on the control socket sends a DIRECTION_REQUEST to the DC
 * (en_dcclient_direction_request), retransmitted with the same request id
 * after EN_RESOLVE_RETRY_MS, then twice as long, and so on, until a
 * DIRECTION or an ERROR answers it or EN_RESOLVE_TIMEOUT_MS have passed
 * (reply code "timeout"; ntmctl's own limit is 30 s). ERROR/UNKNOWN_NAME
 * replies code "unknown".
 *
 * A DIRECTION adds the peer (or updates its endpoint): AllowedIPs are its
 * two VIPs (/32 and /128), routes follow, the endpoint is the best of its
 * addresses (the observed outside address when it is of the family our own
 * outside address has, else the first candidate of that family, else the
 * outside address). An answered DIRECTION (our request id) then starts the
 * WireGuard handshake; an unsolicited one (id 0: another node resolved us)
 * only adds the peer, the other side initiates. The request is answered
 * {fqdn, vip4, vip6, path, ms} once the handshake completed, at once when
 * the peer already has a usable session; ms counts from the request.
 *
 * Peers learned this way (not static [Peer]s, not a peer that existed
 * before) age out: when their received + sent byte counters have not moved
 * for EN_RESOLVE_IDLE_MS (5 minutes; checked every 30 s, so up to 5.5 min)
 * the peer is removed with its keys, AllowedIPs and routes (a pool route,
 * trigger.h, then catches its VIPs again), and a new resolve, or a packet to
 * its VIP, adds it again. PEER_REVOKED from the DC removes a learned peer
 * the same way at once; static [Peer]s are never removed by the DC. Idle means no packet at all: an
 * idle tunnel sends no keepalives (none persistent on learned peers), and WireGuard rekeys only
 * with traffic.
 *
 * Everything runs on the loop thread; the resolver is owned by the node.
 */
struct en_node;
struct en_peer;
struct en_resolver;

enum {
	EN_RESOLVE_RETRY_MS = 500,
	EN_RESOLVE_TIMEOUT_MS = 25 * 1000,
	EN_RESOLVE_PENDING_MAX = 64,
	EN_RESOLVE_IDLE_MS = 5 * 60 * 1000, /* a learned peer without traffic this long goes */
	EN_RESOLVE_SWEEP_MS = 30 * 1000,    /* how often that is checked */
	EN_RESOLVE_REFRESH_MS = 5 * 1000,   /* at most one refresh per peer this often */
};

/* A resolver for node `n` (borrowed; outlives it). 0 or -ENOMEM. Close with en_resolver_close. */
NTM_MUST_CHECK int en_resolver_create(struct en_node *n, struct en_resolver **out);

/*
 * Answers every pending request (code "error"), closes the timer and frees
 * the resolver in its close callback, then calls done(arg).
 */
void en_resolver_close(struct en_resolver *r, void (*done)(void *arg), void *arg);

/* The outcome of a lookup: a plain value. */
struct en_resolve_result {
	uint8_t vip4[4];
	uint8_t vip6[16];
	uint64_t ms; /* from the request to a usable tunnel */
};

/*
 * err 0 with `res` (borrowed for the call) when the tunnel is usable;
 * -ENOENT when the DC does not know the name (or it is not online),
 * -ETIMEDOUT, -EIO (the DC refused otherwise, or the node is shutting down).
 */
typedef void (*en_resolver_cb)(void *arg, int err, const struct en_resolve_result *res);

struct en_resolve_op;

/*
 * The construction of `resolve` for another caller (the DNS stub): the same
 * requests and retransmissions, but the result goes to cb(arg, ...) exactly
 * once, after timeout_ms at the latest, unless en_resolver_cancel() comes
 * first. `fqdn` is borrowed for the call. *op identifies the lookup until
 * the callback runs. Returns 0, -EINVAL (an empty or too long name) or
 * -ENOBUFS (EN_RESOLVE_PENDING_MAX lookups in progress).
 */
NTM_MUST_CHECK int en_resolver_lookup(struct en_resolver *r, const char *fqdn, uint64_t timeout_ms,
				      en_resolver_cb cb, void *arg, struct en_resolve_op **op);

/* Forgets a lookup whose callback has not run; it will not run. NULL ok. */
void en_resolver_cancel(struct en_resolve_op *op);

/* The control command: `req` is answered later (or now, on bad arguments). */
void en_resolver_request(struct en_resolver *r, struct ntm_ctl_req *req);

/* A DIRECTION or ERROR from the DC that is not the DC client's own (borrowed for the call). */
void en_resolver_on_message(struct en_resolver *r, const struct ntm_ctrl_msg *m);

/* PEER_REVOKED (borrowed): the learned peer with that key goes. Accepts r == NULL. */
void en_resolver_revoke(struct en_resolver *r, const struct ntm_ctrl_msg *m);

/* The DC's word on the path to a learned peer: a plain value. */
struct en_resolver_path {
	uint8_t path;	  /* enum ntm_ctrl_path */
	uint8_t nat;	  /* enum ntm_ctrl_nat: ours, as the DC saw it */
	uint8_t nat_peer; /* the peer's */
};

/* The path of a learned peer into *out (zeroed first); false for static or unknown keys. */
bool en_resolver_learned_path(const struct en_resolver *r, const uint8_t *key,
			      struct en_resolver_path *out);

/* The FQDN of a peer learned from the DC by its key, or NULL (static, or unknown). */
const char *en_resolver_learned_fqdn(const struct en_resolver *r, const uint8_t *key);

/*
 * `peer` (borrowed) stopped answering (endnode/reach.h) while traffic wants
 * it: asks the DC for its direction again, at most every
 * EN_RESOLVE_REFRESH_MS. The DIRECTION that answers points the peer at the
 * address the DC knows now (even though an old session still looks usable)
 * and starts a handshake there; the DC directs the peer too, so it learns
 * us again if it restarted. Nothing happens for static peers, with r NULL,
 * or while the node is not registered (the DC is away).
 */
void en_resolver_refresh(struct en_resolver *r, const struct en_peer *peer);

/* The handshake with `peer` completed (borrowed for the call). */
void en_resolver_handshake_done(struct en_resolver *r, const struct en_peer *peer);

#endif
