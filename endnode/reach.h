/* SPDX-License-Identifier: MIT */
#ifndef EN_REACH_H
#define EN_REACH_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Reachability of one peer (issue 8, item 4): is anybody answering? Pure
 * logic, no uv: events in (with the loop time), a state out.
 *
 * A peer owes us an answer for every data packet and handshake initiation
 * we send it: a live WireGuard peer answers data with its own data or a
 * passive keepalive within KEEPALIVE_TIMEOUT (10 s), and an initiation with
 * a response. So the peer is unreachable once something has waited for an
 * answer EN_REACH_TIMEOUT_MS (KEEPALIVE_TIMEOUT + REKEY_TIMEOUT: the moment
 * WireGuard itself gives up on the session and starts a new handshake)
 * without any authenticated packet from it. Any authenticated packet from
 * the peer (data, keepalive, initiation, response) makes it reachable again.
 * Our own keepalives ask for nothing and do not count: a one-way flow
 * towards us never makes its sender look dead.
 *
 * States: "unknown" (we never heard from it and nothing has waited long
 * enough yet), "reachable", "unreachable", and "idle": nothing went either
 * way for EN_REACH_IDLE_MS (REJECT_AFTER_TIME: its session has expired), so
 * nobody knows; the next packet tells (an idle tunnel sends nothing): its
 * answer makes the peer reachable, 15 s without one unreachable.
 */
enum en_reach_state {
	EN_REACH_UNKNOWN,
	EN_REACH_REACHABLE,
	EN_REACH_UNREACHABLE,
	EN_REACH_IDLE,
};

enum {
	EN_REACH_TIMEOUT_MS = 15 * 1000,
	EN_REACH_IDLE_MS = 180 * 1000,
};

/* Embedded in the peer; all zero is the initial state. */
struct en_reach {
	uint64_t last_rx_ms;	   /* the last authenticated packet from the peer */
	uint64_t waiting_since_ms; /* the first packet that wants an answer since then */
	bool heard;		   /* last_rx_ms is set */
	bool waiting;		   /* waiting_since_ms is set */
	bool down;		   /* reported unreachable (en_reach_check) and not back yet */
};

/*
 * An authenticated packet from the peer at `now`. Returns true when the
 * peer had been reported unreachable: it is back (the caller logs it).
 */
bool en_reach_received(struct en_reach *r, uint64_t now);

/* We sent the peer something that wants an answer (data, an initiation). */
void en_reach_wanted(struct en_reach *r, uint64_t now);

/* The state at `now`. */
enum en_reach_state en_reach_get(const struct en_reach *r, uint64_t now);

/*
 * The same, and notes that it was reported: returns true only the first
 * time the state is seen unreachable (the caller logs it once).
 */
bool en_reach_check(struct en_reach *r, uint64_t now, enum en_reach_state *state);

/* How long (ms) since the last authenticated packet; -1 when never. */
int64_t en_reach_idle_ms(const struct en_reach *r, uint64_t now);

/* "unknown", "reachable", "unreachable", "idle". */
const char *en_reach_name(enum en_reach_state s);

#endif
