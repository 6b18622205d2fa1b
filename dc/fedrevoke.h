/* SPDX-License-Identifier: MIT */
#ifndef DC_FEDREVOKE_H
#define DC_FEDREVOKE_H

/*
 * Revocation across domains (dc/fedrevoke.c, ntm-dc(8) "Federation"). A
 * small table remembers which federated domain was told about which of our
 * nodes (we answered its FED_QUERY) and which keys we learned from which
 * domain (its FED_ANSWER, or the requester of its FED_QUERY). When the
 * admin revokes or deletes one of our nodes, every domain told about it
 * gets FED_REVOKED (queued while no session is up, retried for
 * FEDREVOKE_RETRY_MS); a FED_REVOKED is taken only for a name under the
 * sender's domain and a key learned from it, and becomes PEER_REVOKED to
 * our nodes that were told about that key (dc_ctrl_tell_revoked).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ctrlmsg.h"
#include "common/key.h"
#include "dc/fqdn.h"

struct dc_ctrl;

enum {
	FEDREVOKE_MAX = 256,		/* entries, the oldest overwritten */
	FEDREVOKE_RETRY_MS = 60 * 1000, /* a FED_REVOKED that found no session is dropped after */
};

/* One (domain, key) pair: a plain value. */
struct fedrevoke_entry {
	bool used;
	bool ours;    /* our node, told to domain idx; else a key learned from it */
	bool pending; /* FED_REVOKED to send (ours only) */
	int idx;      /* the [Federation] section */
	struct ntm_key key;
	char fqdn[DC_FQDN_SIZE]; /* pending: the revoked node's name */
	uint64_t until_ms;	 /* pending: give up then */
};

struct fedrevoke_table {
	struct fedrevoke_entry e[FEDREVOKE_MAX];
	size_t next;
};

/* Domain idx was told about our node `key` (ours) or told us about its node `key`. */
void dc_fedrevoke_note(struct dc_ctrl *c, int idx, bool ours, const uint8_t key[NTM_KEY_LEN]);

/* Our node `key` (`fqdn`) was revoked: FED_REVOKED to every domain told. Returns how many. */
size_t dc_fedrevoke_revoked(struct dc_ctrl *c, const struct ntm_key *key, const char *fqdn);

/* The sweep: sends the queued FED_REVOKED whose session came up, drops the expired. */
void dc_fedrevoke_retry(struct dc_ctrl *c);

/* FED_REVOKED from the DC of domain idx. True when accepted (nothing is answered). */
bool dc_fedrevoke_handle(struct dc_ctrl *c, int idx, const struct ntm_ctrl_msg *m);

#endif
