/* SPDX-License-Identifier: MIT */
#ifndef DC_FEDERATION_H
#define DC_FEDERATION_H

/*
 * Federation (DESIGN "Flows" 2, ntm-dc.conf(5) [Federation]): a node asks
 * its DC for a name of another domain; this DC (the caller) locates that
 * domain's DC through DNS with c-ares (SRV _ntm._udp.DOMAIN, its targets'
 * A/AAAA, TXT _ntm-key.DOMAIN) unless [Federation] Endpoint names it,
 * trusts its key only when it equals the pinned PublicKey or (no pin) the
 * key record came with the AD bit, and opens a control session to it as
 * an initiator (common/ctrlclient.h), as a Relay Server does. On that
 * session: FED_HELLO (domains and pools; overlapping pools are refused on
 * both sides), then FED_QUERY per name, answered by FED_ANSWER; the other
 * DC directs its own node toward ours and we answer our node with a
 * DIRECTION. The callee's side is dc/fedserver.c, on the session a pinned
 * key of a [Federation] section opened.
 *
 * Relay across domains (dc/fedrelay.h): the callee's DC allocates the
 * session on one of its own relays (the path needs one, or it runs in
 * parallel with a punch) and sends FED_RELAY for the caller's node; with
 * no usable relay there the caller's DC allocates on its own and sends
 * FED_RELAY the other way; with none in either domain, a pair that needs
 * one gets the punched path (best effort).
 */

#include <stdbool.h>
#include <uv.h>

#include "common/ctrlmsg.h"
#include "common/err.h"
#include "common/key.h"
#include "dc/config.h"
#include "dc/pool.h"

struct dc_fed;
struct dc_ctrl;
struct dc_csess;

enum {
	DC_FED_QUERY_MS = 6000,	       /* a node's request fails after this without an answer */
	DC_FED_PENDING_MAX = 256,      /* queries in flight, all domains */
	DC_FED_IDLE_MS = 20 * 1000,    /* a warm session says HELLO again this often */
	DC_FED_LOOKUP_RETRY_MS = 5000, /* a failed DNS lookup is not repeated sooner */
};

/*
 * The caller's side, one per daemon. `cfg`, the pools and `ctrl` are
 * borrowed and must outlive it. Opens one UDP socket per address family.
 */
NTM_MUST_CHECK int dc_fed_open(uv_loop_t *loop, const struct dc_config *cfg,
			       const struct dc_pool *pool4, const struct dc_pool *pool6,
			       struct dc_ctrl *ctrl, struct dc_fed **out);

/* Closes every session and handle, then done(arg). Accepts NULL (done at once). */
void dc_fed_close(struct dc_fed *f, void (*done)(void *arg), void *arg);

/* The [Federation] section whose domain holds `name` (normalised), or -1. */
int dc_fed_domain_of(const struct dc_config *cfg, const char *name);

/* The [Federation] section whose pinned key is `pub`, or -1. */
int dc_fed_by_key(const struct dc_config *cfg, const uint8_t pub[NTM_KEY_LEN]);

/* True when the two prefixes share an address. */
bool dc_fed_prefix_overlap(const struct ntm_prefix *a, const struct ntm_prefix *b);

/*
 * A node's DIRECTION_REQUEST for a name of federated domain `idx`
 * (dc_fed_domain_of). The DIRECTION (or an ERROR) follows on the node's
 * session when the other DC answered. Returns false with an ERROR in `a`
 * when refused at once; true when there is nothing to answer now.
 */
bool dc_fed_direction(struct dc_fed *f, struct dc_csess *s, int idx, const struct ntm_ctrl_msg *m,
		      struct ntm_ctrl_msg *a);

/*
 * A FED_* message on a session whose key is no pinned [Federation] key
 * (fedverify.c): a FED_HELLO naming a domain whose section pins no key
 * starts a DNSSEC-validated lookup of that domain's key (the answer follows
 * when it matches the session's key; FED_NOT_ALLOWED otherwise) and
 * returns false; anything else is refused at once: true and an ERROR in a.
 * Accepts f == NULL (refused).
 */
bool dc_fed_verify_caller(struct dc_fed *f, struct dc_csess *s, const struct ntm_ctrl_msg *m,
			  struct ntm_ctrl_msg *a);

/*
 * The callee's side (fedserver.c): a message on the session of federated
 * domain s->fed - 1. Fills the answer and returns true, or false when there
 * is none.
 */
bool dc_fedserver_handle(struct dc_ctrl *c, struct dc_csess *s, const struct ntm_ctrl_msg *m,
			 struct ntm_ctrl_msg *a);

#endif
