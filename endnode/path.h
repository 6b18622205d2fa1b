/* SPDX-License-Identifier: MIT */
#ifndef EN_PATH_H
#define EN_PATH_H

/*
 * The path manager (DESIGN "Transport and demultiplexing", "Flows" 3-4):
 * for every peer the DC directed, the path the DC chose, the relay session
 * it offered (if any), and the path in use: direct (the peer's address,
 * where WireGuard's endpoint roaming applies) or relay (every datagram to
 * the peer wrapped in a relay frame to the RS; frames from the RS
 * unwrapped before WireGuard sees them). Roaming never flips between the
 * two: a relayed packet never moves the endpoint, and a direct packet moves
 * the peer off the relay only once it authenticated (it proves the direct
 * path).
 *
 * The relay session: BIND from the node's one UDP socket of the RS's
 * family, retransmitted every EN_PATH_BIND_RETRY_MS until a BIND_OK with
 * the right mac and counter arrives, refreshed every NTM_RELAY_REFRESH_S.
 *
 * Relay failover: an RS that stops answering (no BIND_OK, no authenticated
 * message over the relay for EN_PATH_RELAY_DEAD_MS after we sent) is
 * replaced: RELAY_REQUEST to the DC, whose RELAY_OFFER moves both ends to a
 * new session, usually on another RS; the WireGuard session is kept.
 *
 * Punch / same-NAT: the direct path is tried first (the handshake goes to
 * the address the DIRECTION gave, private candidates first for same-nat,
 * and a first probe with TTL EN_PATH_PUNCH_TTL opens our own mapping); if
 * no handshake completes within EN_PATH_DIRECT_DEADLINE_MS and the relay is
 * bound, traffic moves to the relay and the reason is recorded; every
 * EN_PATH_UPGRADE_MS the direct path is probed again.
 *
 * Direct path lost: a proven direct (or punched, same-NAT) path that goes
 * silent while this end sends is given up for the relay. The evidence is
 * an unanswered send: data or an initiation (never our own keepalives, so
 * an idle tunnel never counts) on the direct path, and no authenticated
 * direct packet since. After EN_PATH_DIRECT_QUIET_MS the node sends one
 * initiation straight to the peer: it asks for an answer within an RTT (a
 * one-way flow gets no data back for KEEPALIVE_TIMEOUT, 10 s, but a live
 * path answers that). After EN_PATH_DIRECT_LOST_MS of silence traffic
 * moves to the relay: the bound session if there is one, else a
 * RELAY_REQUEST (the session was left). The peer that hears us through the
 * relay while its own direct sends go unanswered follows at once. The
 * direct path is probed every EN_PATH_UPGRADE_MS as after any fallback. A
 * move of this node (en_pathmgr_moved) or a new DIRECTION restarts the
 * silence clock: mobility re-proves the path first.
 */

#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/ctrlmsg.h"
#include "common/err.h"

struct en_node;
struct en_peer;
struct en_pathmgr;

enum {
	EN_PATH_TICK_MS = 100,
	EN_PATH_BIND_RETRY_MS = 1000,
	EN_PATH_RELAY_HS_TRIES = 5, /* initiations through a new relay path, 1 s apart */
	EN_PATH_DIRECT_DEADLINE_MS = 3000,
	EN_PATH_UPGRADE_MS = 60 * 1000,
	EN_PATH_PUNCH_TTL = 2,
	EN_PATH_PUNCH_WAIT_MS = 200, /* between the low-TTL probe and the initiations */
	EN_PATH_SILENT_MS = 2000,    /* the non-initiating end holds its initiations this long */
	EN_PATH_REASON_MAX = 64,
	EN_PATH_RELAY_QUIET_MS = 2000, /* no answer over the relay: BIND probes */
	EN_PATH_RELAY_DEAD_MS = 5000,  /* no answer at all: the RS is gone, ask for another */
	/* RELAY_REQUEST retry while it is gone: longer than the DC's 3 s on a dead relay */
	EN_PATH_RELAY_REQ_MS = 5000,
	/* Direct proven and nothing over the relay this long: leave the relay (RELAY_DONE). */
	EN_PATH_RELAY_LEAVE_MS = 10000,
	/* Proven direct path, unanswered sends: probe (one initiation), then the relay. */
	EN_PATH_DIRECT_QUIET_MS = 2000,
	EN_PATH_DIRECT_LOST_MS = 5000,
};

/* What `ntmctl peers` shows of a directed peer: a plain value. */
struct en_path_info {
	uint8_t chosen;	    /* enum ntm_ctrl_path the DC chose */
	uint8_t active;	    /* enum ntm_ctrl_path in use (DIRECT, PUNCHED, SAME_NAT or RELAY) */
	bool has_relay;	    /* a relay session was offered */
	bool bound;	    /* and BIND_OK came */
	struct ntm_addr rs; /* the RS in use (len 0: none) */
	uint32_t session;   /* relay session id */
	bool relay_dead;    /* the RS went silent; a new relay session is being asked for */
	unsigned failovers; /* new relay sessions that replaced a silent one */
	char reason[EN_PATH_REASON_MAX]; /* why the last direct attempt failed ("" none) */
	int64_t rtt_us; /* initiation to response of the last handshake we initiated; -1 none */
};

/* Returns 0 or -ENOMEM; `n` is borrowed and outlives the manager. */
NTM_MUST_CHECK int en_pathmgr_create(struct en_node *n, struct en_pathmgr **out);

/* Closes the timer, wipes the credentials, frees in the close callback, then done(arg). */
void en_pathmgr_close(struct en_pathmgr *pm, void (*done)(void *arg), void *arg);

/* A DIRECTION (borrowed) added or updated `peer`: the DC's path for it. */
void en_pathmgr_on_direction(struct en_pathmgr *pm, struct en_peer *peer,
			     const struct ntm_ctrl_msg *m);

/* A RELAY_OFFER from the DC (borrowed; its credential is copied): binds the session. */
void en_pathmgr_on_offer(struct en_pathmgr *pm, const struct ntm_ctrl_msg *m);

/*
 * A relay frame (0x84) or BIND_OK (0x86) from `from`. A frame's WireGuard
 * message is handed to the receive path (decrypted in place in `buf`).
 */
void en_pathmgr_receive(struct en_pathmgr *pm, uint8_t *buf, size_t len,
			const struct ntm_addr *from);

/*
 * Where datagrams to `peer` go: *to (borrowed, valid until the next path
 * event) and the relay session to wrap them in (0: none, direct).
 * Accepts pm == NULL (no DC): the peer's endpoint, unwrapped.
 */
uint32_t en_pathmgr_route(struct en_pathmgr *pm, const struct en_peer *peer,
			  const struct ntm_addr **to);

/*
 * An authenticated message from `peer` came from `from` (relayed: through
 * the peer's relay session): roaming within the active path, and a direct
 * one proves the direct path (moves the peer off the relay).
 */
void en_pathmgr_note_rx(struct en_pathmgr *pm, struct en_peer *peer, const struct ntm_addr *from,
			bool relayed);

/*
 * This end sent `peer` something that wants an answer (data, an
 * initiation): on a proven direct path the silence clock starts (see
 * "Direct path lost" above). Accepts pm == NULL.
 */
void en_pathmgr_note_wanted(struct en_pathmgr *pm, const struct en_peer *peer);

/*
 * True while `peer`'s punch probes open the mappings: the initiation is
 * not sent now but by the path manager when the wait is over.
 */
bool en_pathmgr_hold_initiation(struct en_pathmgr *pm, const struct en_peer *peer);

/*
 * The handshake with `peer` completed (the active path works). When it
 * answered this end's initiation, the time since that initiation left is
 * the peer's RTT sample (path info rtt_us).
 */
void en_pathmgr_handshake_done(struct en_pathmgr *pm, struct en_peer *peer);

/*
 * The node's addresses changed (mobility.h): every relay session is bound
 * again at once from the new address. Accepts NULL.
 */
void en_pathmgr_moved(struct en_pathmgr *pm);

/* On the relay: probe the direct path of the peer with `key` at the next tick (ping). */
void en_pathmgr_probe_direct(struct en_pathmgr *pm, const uint8_t *key);

/* The state of the peer with `key` into *out (zeroed first); false when not directed. */
bool en_pathmgr_get(const struct en_pathmgr *pm, const uint8_t *key, struct en_path_info *out);

#endif
