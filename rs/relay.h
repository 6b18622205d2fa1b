/* SPDX-License-Identifier: MIT */
#ifndef RS_RELAY_H
#define RS_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/err.h"
#include "common/relay.h"
#include "common/wire.h"

/*
 * The Relay Server's session table (DESIGN "Flows" 4) as a pure engine: no
 * sockets, no clock (times are the caller's monotonic ms). rs/server.c
 * feeds it datagrams and sends what it decides.
 *
 * A session exists only when the DC allocated it over the authenticated
 * control channel (rs_relay_alloc); nothing a datagram says allocates
 * anything. A session has two sides, A and B, each unbound until a BIND
 * with the session credential arrives (common/relay.h), which binds the
 * side to the BIND's source address (and moves it there on a later BIND
 * with a higher counter: mobility). A relay frame from a bound side goes to
 * the other side's endpoint unchanged, whatever the address families; the
 * payload is never looked into (it is end-to-end encrypted WireGuard).
 *
 * Every frame is charged to its session's token bucket (bytes per second,
 * both directions together); over the budget it is dropped. A session with
 * no relayed frame and no BIND for its lifetime expires, bound or not.
 * Every dropped datagram is counted under one reason.
 */

struct rs_relay;

enum {
	RS_RELAY_CAPACITY_MAX = 1 << 20,
};

struct rs_relay_config {
	uint32_t capacity;     /* sessions, 1..RS_RELAY_CAPACITY_MAX */
	uint32_t idle_max_s;   /* a session's lifetime is min(DC's lifetime, this) */
	uint64_t rate_bytes_s; /* per session; 0: unlimited */
	uint64_t burst_bytes;  /* bucket size (at least one maximal datagram) */
};

/* Counters (status): every datagram is rx, and then exactly one of forwarded, bind_ok, drop_*. */
struct rs_relay_stats {
	uint64_t rx;
	uint64_t forwarded;
	uint64_t forwarded_bytes;
	uint64_t bind_ok;	     /* BINDs accepted (answered with BIND_OK) */
	uint64_t drop_malformed;     /* not a relay frame or BIND, or not decodable */
	uint64_t drop_no_session;    /* names a session that does not exist */
	uint64_t drop_bad_mac;	     /* BIND with a wrong credential */
	uint64_t drop_replay;	     /* BIND counter not above the last accepted one */
	uint64_t drop_bind_conflict; /* BIND to the address the other side is bound to */
	uint64_t drop_not_bound;     /* frame from an address bound to no side of it */
	uint64_t drop_peer_unbound;  /* frame for a side that is not bound yet */
	uint64_t drop_ratelimited;   /* over the session's byte budget */
	uint64_t allocated;	     /* sessions allocated by the DC */
	uint64_t alloc_refused;	     /* table full or id taken */
	uint64_t released;	     /* released by the DC */
	uint64_t expired;	     /* idle for their lifetime */
	uint32_t sessions;	     /* live now */
	uint32_t bound_sessions;     /* with both sides bound */
};

enum rs_relay_action {
	RS_RELAY_DROP,	  /* nothing to send (counted) */
	RS_RELAY_FORWARD, /* send the input datagram, unchanged, to `to` */
	RS_RELAY_REPLY,	  /* send reply[0..reply_len) to `to` (the sender) */
};

/*
 * One datagram in: `buf` and `from` borrowed for the call; `via` names the
 * local socket it came in on (the caller's index), so that what goes to a
 * node leaves from the RS address the node bound to.
 */
struct rs_relay_pkt {
	const uint8_t *buf;
	size_t len;
	const struct ntm_addr *from;
	unsigned via;
};

/* What to do with one datagram: a plain value. */
struct rs_relay_out {
	enum rs_relay_action action;
	struct ntm_addr to;
	unsigned via; /* the local socket to send from */
	uint8_t reply[NTM_RELAY_BIND_LEN];
	size_t reply_len;
};

/* Returns 0, -EINVAL (bad config) or -ENOMEM. Free with rs_relay_destroy(). */
NTM_MUST_CHECK int rs_relay_create(const struct rs_relay_config *cfg, struct rs_relay **out);
/* Wipes every credential and frees; accepts NULL. */
void rs_relay_destroy(struct rs_relay *r);

/*
 * A session for the DC: `id` (non-zero), credential `cred` (copied),
 * `lifetime_s` (1.., capped by idle_max_s). Idempotent: the same id with
 * the same credential again is 0 and changes nothing. Returns 0, -EEXIST
 * (id taken by another credential), -ENOSPC (table full) or -EINVAL.
 */
NTM_MUST_CHECK int rs_relay_alloc(struct rs_relay *r, uint32_t id,
				  const uint8_t cred[NTM_RELAY_CRED_LEN], uint32_t lifetime_s,
				  uint64_t now_ms);
/* Ends session `id` at once. 0 or -ENOENT. */
NTM_MUST_CHECK int rs_relay_release(struct rs_relay *r, uint32_t id);

/* One datagram. Fills *out (the reply is a copy; a forward sends pkt->buf as is). */
enum rs_relay_action rs_relay_input(struct rs_relay *r, const struct rs_relay_pkt *pkt,
				    uint64_t now_ms, struct rs_relay_out *out);

/* Ends the sessions idle for their lifetime; returns how many. */
size_t rs_relay_expire(struct rs_relay *r, uint64_t now_ms);

void rs_relay_get_stats(const struct rs_relay *r, struct rs_relay_stats *out);
uint32_t rs_relay_capacity(const struct rs_relay *r);

#endif
