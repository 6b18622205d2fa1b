/* SPDX-License-Identifier: MIT */
#ifndef EN_MOBILITY_H
#define EN_MOBILITY_H

/*
 * Mobility (DESIGN "Flows" 5): the node follows its real addresses and its
 * default routes over netlink (a NETLINK_ROUTE socket subscribed to the
 * address and route groups, watched by the loop: no polling) and moves its
 * tunnels when they change. The VIPs never change.
 *
 * Damping: every relevant event (an address of another interface than the
 * TUN and lo, a default route) restarts a settle timer of
 * EN_MOB_SETTLE_MS, but the state is looked at no later than
 * EN_MOB_SETTLE_MAX_MS after the first event of a burst. A move happens
 * only when the state (the candidate addresses and the source address the
 * kernel picks towards the DC or the first peer) differs from the one of the
 * last move, so a burst that ends where it began moves nothing, and the
 * final state is always acted on. No address at all is no move (the next
 * address is). After two moves within EN_MOB_FLAP_WINDOW_MS, the next one
 * waits until EN_MOB_SETTLE_MAX_MS after the last: a flapping link costs at
 * most one move per EN_MOB_SETTLE_MAX_MS, while an ordinary change (an
 * IPv4 address, then an IPv6 one) moves at once.
 *
 * A move: the UDP sockets are bound to the wildcard address (nothing to
 * rebind); the DC client re-registers at once with the new candidates and
 * re-classifies the NAT; every relay session is re-bound from the new
 * address; every peer is probed at once (a keep-alive on a usable session,
 * which moves a public peer through WireGuard's endpoint roaming, and a
 * handshake initiation, which the peer answers) and again after
 * EN_MOB_PROBE1_MS, 2 and 4 times that while it has not answered. A peer
 * that the DC directed and that has not answered within
 * EN_MOB_REDIRECT_MS (behind a NAT that filters the new address) is
 * re-directed: a fresh DIRECTION_REQUEST marked MOVED, so that the DC tells
 * both ends again (a relay bridging while the new punch runs). A peer the
 * DC classified as behind a NAT on a path other than the relay is
 * re-directed already at the first probe after EN_MOB_PROBE1_MS (time for
 * the new registration and NAT classification to reach the DC): the probes
 * cannot pass its NAT's filter, and waiting would only lengthen the gap.
 */
#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/err.h"

struct en_node;
struct en_mobility;

enum {
	EN_MOB_SETTLE_MS = 20,
	EN_MOB_SETTLE_MAX_MS = 250,
	EN_MOB_FLAP_WINDOW_MS = 1000,
	EN_MOB_OWN_CHANGE_MS = 2000, /* an outside change this soon after a move is the move's */
	EN_MOB_PROBE1_MS = 100,
	EN_MOB_REDIRECT_MS = 1000,
	EN_MOB_REDIRECT_TRIES = 3, /* re-direction requests, one per EN_MOB_REDIRECT_MS */
	EN_MOB_STATE_MAX = 8,	   /* candidates remembered */
};

/* What `ntmctl status` shows: a plain value. */
struct en_mobility_info {
	uint64_t moves;		/* since start */
	int64_t last_move_ms;	/* ms since the last move; -1: never */
	struct ntm_addr source; /* the source address towards the DC / first peer (len 0: none) */
};

/*
 * Subscribes to the address and route changes (needs the node's loop and
 * UDP sockets: call after they exist). Returns 0 or a negative errno.
 */
NTM_MUST_CHECK int en_mobility_create(struct en_node *n, struct en_mobility **out);

/* Closes the socket and the timers; frees in the close callback, then done(arg). */
void en_mobility_close(struct en_mobility *m, void (*done)(void *arg), void *arg);

/*
 * The DC sees another outside address. Right after a move, or while a
 * local change is settling, that is the move's; otherwise the NAT forgot
 * its mapping (NAT rebinding): the tunnels move as after a local change,
 * without registering again (the DC knows).
 */
void en_mobility_outside_changed(struct en_mobility *m);

/* Looks at the state now, as if an event had come (tests, SIGHUP). */
void en_mobility_check(struct en_mobility *m);

void en_mobility_get_info(const struct en_mobility *m, struct en_mobility_info *out);

#endif
