/* SPDX-License-Identifier: MIT */
#ifndef RCP_AGENT_OUTBOX_H
#define RCP_AGENT_OUTBOX_H

/*
 * The sender's durable outbox in the agent's SQLite database: every action
 * request to another device is stored (and committed, synchronous=FULL;
 * obwriter.h does it on a worker thread while the first transmission
 * goes out) and deleted when the device has answered or its TTL has
 * passed, so a request survives a restart of the sender and a
 * device that sleeps or is offline gets it when it is back within the TTL.
 * The action device's idempotency record (idem.h) makes the redelivery
 * harmless.
 *
 * Times are wall-clock seconds since the epoch: a TTL that must survive a
 * restart cannot live on the loop's monotonic clock.
 */

#include <stddef.h>
#include <stdint.h>

#include "recipe/agent/idem.h"
#include "recipe/recipe.h"

struct rcp_outbox;

enum {
	RCP_OUTBOX_TARGET_MAX = RCP_FQDN_MAX + 1 + RCP_PATH_MAX, /* "fqdn/path" */
	RCP_OUTBOX_PAYLOAD_MAX = 1024,				 /* bytes of an action request */
};

/* One stored request. */
struct rcp_outbox_entry {
	char key[RCP_IDEM_KEY_MAX + 1];
	char target[RCP_OUTBOX_TARGET_MAX + 1];
	char *payload; /* the CoAP payload (actreq.h); see each function for ownership */
	size_t len;
	int64_t fired_s, expires_s;
};

/*
 * Open (creating the table if needed) the database at path (borrowed). *out
 * is freed with rcp_outbox_close(). On failure *out is NULL and why says
 * what failed.
 */
NTM_MUST_CHECK int rcp_outbox_open(const char *path, struct rcp_outbox **out, char *why,
				   size_t whylen);
void rcp_outbox_close(struct rcp_outbox *ob);

/*
 * Store e (borrowed, payload included) and commit. -EEXIST when the key is
 * stored already, -EMSGSIZE for an over-long key, target or payload, -EIO.
 */
NTM_MUST_CHECK int rcp_outbox_put(struct rcp_outbox *ob, const struct rcp_outbox_entry *e);
/*
 * Delete the request with this key and commit without waiting for the disk
 * (synchronous=NORMAL): a removal a crash loses only sends an answered
 * request again, which its device answers from its idempotency record.
 * -ENOENT, -EIO.
 */
NTM_MUST_CHECK int rcp_outbox_remove(struct rcp_outbox *ob, const char *key);
/*
 * Group the puts between these two into one transaction: one durable
 * commit (one disk sync) for all of them. After a failed commit none of
 * them is stored. -EIO.
 */
NTM_MUST_CHECK int rcp_outbox_batch_begin(struct rcp_outbox *ob);
NTM_MUST_CHECK int rcp_outbox_batch_commit(struct rcp_outbox *ob);
NTM_MUST_CHECK int rcp_outbox_count(struct rcp_outbox *ob, uint64_t *n);

/*
 * Called once per stored request, oldest first. e is borrowed for the call,
 * but e->payload is a fresh copy the callback owns (ntm_free). A negative
 * return stops the load and is returned by rcp_outbox_load.
 */
typedef int (*rcp_outbox_load_cb)(struct rcp_outbox_entry *e, void *arg);

/* Every stored request, to cb. -ENOMEM (a payload copy failed), -EIO. */
NTM_MUST_CHECK int rcp_outbox_load(struct rcp_outbox *ob, rcp_outbox_load_cb cb, void *arg);

/*
 * Delete every request whose expires_s <= now_s, after giving each to cb
 * as rcp_outbox_load does (cb owns e->payload; its return is ignored) so
 * that the failure is reported. *n says how many. -EIO. Used at start-up for
 * requests whose TTL ran out while the agent was stopped.
 */
NTM_MUST_CHECK int rcp_outbox_expire(struct rcp_outbox *ob, int64_t now_s, rcp_outbox_load_cb cb,
				     void *arg, uint64_t *n);

#endif
