/* SPDX-License-Identifier: MIT */
#ifndef DC_FEDRELAY_H
#define DC_FEDRELAY_H

/*
 * Relay through either domain's RS (dc/fedrelay.c, ntm-dc(8) "Federation").
 * A pair of nodes in two federated domains gets its relay session from one
 * of the two DCs; neither DC sees more than relay credentials.
 *
 * The rule: the target's domain first, the caller's domain second. At a
 * FED_QUERY the callee allocates on its own relays; when it has no usable
 * one (none registered, all full or silent) it says so in the answer
 * (FED_NO_RELAY) and the caller allocates on its own and sends FED_RELAY
 * the other way; when the callee's allocation fails later (every relay
 * full or silent), it sends FED_RELAY_NEED and the caller does the same.
 *
 * Late fallback (a punch that failed, a relay that died): a node's
 * RELAY_REQUEST for a peer of another domain goes to the peer's DC as
 * FED_RELAY_REQUEST (the peer's domain first), which allocates, avoiding
 * the relays the node found silent, or sends FED_RELAY_NEED back when it
 * has no usable relay but those; the requester's DC then allocates on its
 * own, avoiding them too. A NEED is never answered by a NEED: with no
 * usable relay on either side the pair keeps what it has and the node asks
 * again later. A node's RELAY_DONE for a session the other DC allocated is
 * forwarded to it (FED_RELAY_DONE), which releases the session when both
 * ends left it.
 *
 * Which DC allocated the session of a cross-domain pair is remembered in a
 * small table (FEDRELAY_PAIRS_MAX, the oldest entry overwritten), with the
 * peer's name for the forwarded messages.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ctrlmsg.h"
#include "common/key.h"
#include "dc/fqdn.h"

struct dc_ctrl;
struct dc_csess;

enum {
	FEDRELAY_PAIRS_MAX = 256,
};

/* One cross-domain pair with a relay session: a plain value. */
struct fedrelay_pair {
	bool used;
	bool here; /* our relay (we allocated it) */
	int idx;   /* the peer's [Federation] section */
	struct ntm_key node, peer;
	char peer_fqdn[DC_FQDN_SIZE];
	uint32_t session_id;
};

struct fedrelay_pairs {
	struct fedrelay_pair p[FEDRELAY_PAIRS_MAX];
	size_t next;
};

/*
 * Offers our node `t` and the node `peer_key` (`peer_fqdn`) of federated
 * domain `idx` a session on one of our relays, avoiding
 * avoid[0..n_avoid): RELAY_OFFER on side `side` to t, FED_RELAY with the
 * other side to the other DC. With `delegate`, an allocation that fails
 * later sends FED_RELAY_NEED to the other DC. Returns 0 (offered or on its
 * way) or -ENOENT (no usable relay here: nothing was sent), -ENOMEM, -EBUSY.
 */
int dc_fedrelay_offer(struct dc_ctrl *c, int idx, const struct dc_csess *t,
		      const uint8_t peer_key[NTM_KEY_LEN], const char *peer_fqdn, uint8_t side,
		      const struct ntm_ctrl_addr *avoid, size_t n_avoid, bool delegate);

/* True when a relay here could take the pair now (the FED_HAS_RELAY / FED_NO_RELAY flags). */
bool dc_fedrelay_usable(const struct dc_ctrl *c);

/*
 * A node's RELAY_REQUEST for a node of federated domain `idx`: forwarded
 * to that domain's DC. Returns true with an ERROR in `a` when refused at
 * once, false when the offer follows (or the request was a retransmission).
 */
bool dc_fedrelay_request(struct dc_ctrl *c, struct dc_csess *s, int idx,
			 const struct ntm_ctrl_msg *m, struct ntm_ctrl_msg *a);

/* A node's RELAY_DONE: true when forwarded to the DC that allocated the session. */
bool dc_fedrelay_done(struct dc_ctrl *c, struct dc_csess *s, const struct ntm_ctrl_msg *m);

/* True for the kinds dc_fedrelay_handle() takes. */
bool dc_fedrelay_kind(uint8_t kind);

/*
 * FED_RELAY, FED_RELAY_NEED, FED_RELAY_REQUEST or FED_RELAY_DONE from the
 * DC of federated domain `idx`, on either session between us. Returns true
 * when it concerned a pair we know (nothing is answered).
 */
bool dc_fedrelay_handle(struct dc_ctrl *c, int idx, const struct ntm_ctrl_msg *m);

#endif
