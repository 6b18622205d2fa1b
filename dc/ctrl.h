/* SPDX-License-Identifier: MIT */
#ifndef DC_CTRL_H
#define DC_CTRL_H

#include <stdint.h>
#include <uv.h>

#include "common/err.h"
#include "common/key.h"
#include "dc/config.h"
#include "dc/pool.h"
#include "dc/relays.h"
#include "dc/store.h"

/*
 * The DC's control channel server (common/ctrl.h): one UDP socket per
 * Listen and AltListen address, sessions with nodes, registration and
 * keep-alives (dc/register.c). Everything runs on the loop thread.
 *
 * Input handling, in this order, for every datagram (STYLE "Wire parsing"):
 *   1. the table-driven classifier (wire.h): anything else is counted and
 *      dropped;
 *   2. initiations: mac1 against the DC's key, then (under load: more than
 *      DC_CTRL_LOAD_PER_SEC initiations in the last second) mac2, else a
 *      cookie reply; then a per-source-address token bucket; only then the
 *      Noise handshake, which may allocate a session (bounded table);
 *   3. data: the receiver index names a session slot; the message must
 *      authenticate and pass the replay window before anything else runs.
 * Unauthenticated or replayed packets allocate nothing and get no answer
 * (except the cookie reply under load, as WireGuard).
 */

struct dc_ctrl;

/* Borrowed collaborators: all must outlive the server. */
struct dc_ctrl_config {
	const struct dc_config *cfg; /* Listen, AltListen, keepalive, private key */
	struct dc_store *store;
	const struct dc_pool *pool4;
	const struct dc_pool *pool6;
	struct dc_relays *relays; /* registered relays, allocation (dc/relays.h) */
};

/* Counters for status and tests (dropped datagrams by reason, sessions). */
struct dc_ctrl_stats {
	uint64_t rx;
	uint64_t malformed;	 /* refused by the classifier or a decoder */
	uint64_t unexpected;	 /* well-formed but not for a DC (WireGuard types, responses) */
	uint64_t bad_mac;	 /* mac1 wrong */
	uint64_t cookie_sent;	 /* under load, mac2 missing */
	uint64_t ratelimited;	 /* initiation over the per-source budget */
	uint64_t hs_refused;	 /* initiation did not authenticate, unknown key over budget */
	uint64_t replayed;	 /* initiation timestamp or data counter seen before */
	uint64_t no_session;	 /* data for an index we do not have */
	uint64_t bad_data;	 /* data that did not authenticate */
	uint64_t handshakes;	 /* responses sent */
	uint64_t registered;	 /* REGISTER_OK sent */
	uint64_t errors_sent;	 /* ERROR sent */
	uint64_t directions;	 /* DIRECTION_REQUESTs served (both ends told) */
	uint64_t not_registered; /* KEEPALIVE or DIRECTION_REQUEST before REGISTER */
	uint64_t unsupported;	 /* a message kind a DC does not serve */
	uint64_t revoked_sent;	 /* PEER_REVOKED sent */
	uint64_t relay_offers;	 /* RELAY_REQUESTs served (both ends offered a relay) */
	uint64_t sessions;	 /* live sessions now */
	uint64_t registered_now; /* of them, registered */
	uint64_t online_now;	 /* of them, online (a direction target) */
};

/*
 * Binds every address and starts receiving. Returns 0 or a negative errno
 * (a libuv bind error names no address: the caller logs `why`, which does).
 * On success *out is the server; close it with dc_ctrl_close().
 */
NTM_MUST_CHECK int dc_ctrl_open(uv_loop_t *loop, const struct dc_ctrl_config *cc,
				struct dc_ctrl **out, char *why, size_t whylen);

/*
 * Flushes pending last-seen times to the store, closes every handle and
 * frees the server in the last close callback, then calls done(arg).
 * Accepts NULL (done is then called at once).
 */
void dc_ctrl_close(struct dc_ctrl *c, void (*done)(void *arg), void *arg);

/* The caller's side of federation (dc/federation.h), borrowed; NULL: none (names of other
 * domains are then unknown). */
struct dc_fed;
void dc_ctrl_set_fed(struct dc_ctrl *c, struct dc_fed *fed);

/* A copy of the counters, with the session counts of now. */
void dc_ctrl_get_stats(const struct dc_ctrl *c, struct dc_ctrl_stats *out);

/*
 * The node with `pubkey` (borrowed) was revoked: its control session ends at
 * once, and every online node that was given a direction about it is sent
 * PEER_REVOKED (`fqdn`, borrowed, goes along as a hint); every federated
 * DC that was told about it gets FED_REVOKED (dc/fedrevoke.h). Returns how
 * many nodes and DCs were told. Accepts c == NULL (returns 0).
 */
size_t dc_ctrl_revoke(struct dc_ctrl *c, const struct ntm_key *pubkey, const char *fqdn);

#endif
