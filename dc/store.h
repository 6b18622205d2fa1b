/* SPDX-License-Identifier: MIT */
#ifndef DC_STORE_H
#define DC_STORE_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/err.h"
#include "common/key.h"
#include "dc/fqdn.h"
#include "dc/pool.h"
#include "dc/token.h"

/*
 * The DC's persistent state in SQLite: enrolled nodes with their VIP leases,
 * relays, enrolment tokens (hashes only), and the allocation cursors. The
 * schema is versioned (table schema_version) and migrated forward at open.
 * The database runs in WAL mode with synchronous=FULL: a change is one
 * transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on any error), so a
 * crash or SIGKILL leaves either the old state or the new one, never half.
 *
 * Calls are synchronous and run on the daemon's loop thread. That is fine
 * for what they serve today: admin commands and start-up checks, a few
 * milliseconds each. The busy timeout is 1 s, so an admin holding the
 * database open in sqlite3(1) cannot stall the loop for longer than that.
 *
 * Times are wall-clock seconds since the epoch (enrolment dates and token
 * expiries are dates, not protocol timers); the caller passes them in, so
 * tests control the clock.
 *
 * Names are normalised FQDNs (fqdn.h); callers normalise before calling.
 */

struct dc_store;

/* A node as stored: a plain record, filled by the calls below. */
struct dc_node {
	int64_t id;
	char fqdn[DC_FQDN_SIZE];
	struct ntm_key pubkey;
	char vip4[INET_ADDRSTRLEN];
	char vip6[INET6_ADDRSTRLEN];
	int64_t enrolled_at;
	/* Registration state (dc_store_node_seen): "" / 0 = unknown. */
	char real[NTM_ADDR_STRLEN];    /* the address the node reports */
	char outside[NTM_ADDR_STRLEN]; /* the address the DC sees */
	char nat[8];		       /* "public", "eim", "edm" */
	int64_t last_seen;
	bool published; /* its name and VIPs are in the public DNS zone */
};

/* One enrolment (admin command, or later a node presenting a token). */
struct dc_enrolment {
	const char *fqdn;	      /* normalised; borrowed */
	const struct ntm_key *pubkey; /* borrowed */
	const struct dc_pool *pool4;  /* borrowed */
	const struct dc_pool *pool6;  /* borrowed */
	const uint8_t *token_hash;    /* DC_TOKEN_HASH_LEN bytes to consume, or NULL (admin) */
	int64_t now;
	bool publish; /* put the name in the public DNS zone (dc_store_publish) */
};

struct dc_token_rec {
	const char *fqdn; /* normalised; borrowed */
	uint8_t hash[DC_TOKEN_HASH_LEN];
	int64_t created;
	int64_t expires;
};

enum {
	DC_STORE_SCHEMA_VERSION = 2,
	DC_STORE_WHY_MAX = 256, /* a `why` buffer of this size is always enough */
};

/*
 * Open (creating if needed) the database at `path` (borrowed). A missing
 * parent directory is created with mode 0700 (its own parent must exist); a
 * missing database file is created with mode 0600. On success *out is the
 * store, freed by dc_store_close(). On failure *out is NULL, why[whylen]
 * says what went wrong in one line naming the path, and the return is a
 * negative errno (-EIO for an SQLite error, -EPROTO for a database written
 * by a newer ntm-dc).
 */
NTM_MUST_CHECK int dc_store_open(const char *path, struct dc_store **out, char *why, size_t whylen);

/* Closes the database; accepts NULL. */
void dc_store_close(struct dc_store *s);

/*
 * Enrol a node: check that neither the name nor the key is taken (by a node
 * or, for the key, a relay), consume the token if one is given, allocate one
 * address from each pool (pool.h: next-fit), store the node. One
 * transaction. On success *out holds the new node. Errors, with a reason in
 * why[whylen]: -EEXIST (name or key taken), -ENOSPC (a pool is exhausted),
 * -EACCES (token unknown, for another name, already used or expired), -EIO.
 * *out is zeroed on entry.
 */
NTM_MUST_CHECK int dc_store_enroll(struct dc_store *s, const struct dc_enrolment *req,
				   struct dc_node *out, char *why, size_t whylen);

/*
 * Enrol a relay server under `name` (a label or FQDN, normalised) with
 * `pubkey`. -EEXIST when the name is a relay's or the key is anyone's.
 */
NTM_MUST_CHECK int dc_store_enroll_relay(struct dc_store *s, const char *name,
					 const struct ntm_key *pubkey, int64_t now, char *why,
					 size_t whylen);

/* The name of the relay enrolled with `pubkey` into name. -ENOENT when there is none, -EIO. */
NTM_MUST_CHECK int dc_store_relay_by_key(struct dc_store *s, const struct ntm_key *pubkey,
					 char name[DC_FQDN_SIZE]);

/*
 * Remove the node `fqdn` and its unused tokens; its addresses go back to the
 * pools (see pool.h for when they are reused). *out (zeroed on entry)
 * receives the removed node. -ENOENT when there is no such node.
 */
NTM_MUST_CHECK int dc_store_revoke(struct dc_store *s, const char *fqdn, struct dc_node *out,
				   char *why, size_t whylen);

/* Look a node up by name or by key. -ENOENT when there is none; *out zeroed on entry. */
NTM_MUST_CHECK int dc_store_node_by_fqdn(struct dc_store *s, const char *fqdn, struct dc_node *out);
NTM_MUST_CHECK int dc_store_node_by_key(struct dc_store *s, const struct ntm_key *pubkey,
					struct dc_node *out);

/* Called for each node in name order; `node` is valid during the call. Non-zero stops. */
typedef int (*dc_store_node_cb)(void *ctx, const struct dc_node *node);

/* Returns 0, the callback's non-zero value, or -EIO. */
NTM_MUST_CHECK int dc_store_foreach_node(struct dc_store *s, dc_store_node_cb cb, void *ctx);

/*
 * Store a token hash for `t->fqdn`. The name must not be enrolled (-EEXIST).
 * Earlier unused tokens for the same name are replaced, and expired tokens
 * of any name are purged, in the same transaction.
 */
NTM_MUST_CHECK int dc_store_token_add(struct dc_store *s, const struct dc_token_rec *t, char *why,
				      size_t whylen);

/*
 * What the control channel saw of a registered node (dc/ctrl.c): the
 * address it reports (its first candidate), the address the DC saw, its
 * NAT class ("public", "eim", "edm", or "" for unknown), and the wall-clock
 * time of its last message. All strings borrowed for the call.
 */
struct dc_seen {
	int64_t id; /* dc_node.id */
	const char *real;
	const char *outside;
	const char *nat;
	int64_t last_seen;
};

/*
 * Records `n` observations in one transaction (one fsync for a whole batch:
 * the DC flushes keep-alive times periodically, see dc/ctrl.c). A node that
 * was revoked meanwhile is skipped silently. Returns 0 or -EIO with a reason.
 */
NTM_MUST_CHECK int dc_store_node_seen(struct dc_store *s, const struct dc_seen *v, size_t n,
				      char *why, size_t whylen);

/*
 * Whether node `fqdn` is published in the DC's DNS zone (its name answers
 * with its VIPs to anyone). Nodes are not published unless the admin says
 * so. *changed (may be NULL) tells whether the flag moved. -ENOENT with a
 * reason when there is no such node.
 */
NTM_MUST_CHECK int dc_store_publish(struct dc_store *s, const char *fqdn, bool on, bool *changed,
				    char *why, size_t whylen);

/*
 * For the DNS zone: 1 when `fqdn` is a published node (*out filled), 2 when
 * it is not but a published node lies below it, 0 for neither (an
 * unpublished node included), -EIO.
 */
NTM_MUST_CHECK int dc_store_published_lookup(struct dc_store *s, const char *fqdn,
					     struct dc_node *out);

/* Number of tokens stored for `fqdn` (any state) into *n; for tests and status. */
/*
 * The default Pool6 (no Pool6 in the config): the RFC 4193 /64 picked at
 * random on the first call and kept in the database, read back afterwards.
 * Returns 0 or a negative errno with a reason.
 */
NTM_MUST_CHECK int dc_store_default_pool6(struct dc_store *s, struct ntm_prefix *out, char *why,
					  size_t whylen);

NTM_MUST_CHECK int dc_store_token_count(struct dc_store *s, const char *fqdn, size_t *n);

#endif
