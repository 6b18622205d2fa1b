/* SPDX-License-Identifier: MIT */
/*
 * The records: nodes and their VIP leases, relays, tokens. Every change runs
 * in one transaction (store_internal.h); a failure at any step rolls it
 * back, so the database never holds half an enrolment.
 */
#include "store_internal.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"

#define NODE_COLS                                                                              \
	"id, fqdn, pubkey, vip4, vip6, enrolled_at, real_addr, outside_addr, nat, last_seen, " \
	"published"

enum bind_kind { B_TEXT, B_BLOB, B_INT };

/* One statement parameter; `p`/`len` are borrowed until the statement is finalised. */
struct bind {
	enum bind_kind kind;
	const void *p;
	size_t len;
	int64_t i;
};

static struct bind b_text(const char *s)
{
	return (struct bind){ .kind = B_TEXT, .p = s };
}

static struct bind b_blob(const void *p, size_t len)
{
	return (struct bind){ .kind = B_BLOB, .p = p, .len = len };
}

static struct bind b_int(int64_t v)
{
	return (struct bind){ .kind = B_INT, .i = v };
}

/* Prepares `sql` and binds b[0..n) to ?1..?n. */
static int prepare(struct dc_store *s, const char *sql, const struct bind *b, size_t n,
		   sqlite3_stmt **st, char *why, size_t whylen)
{
	int rc = dc_store_prepare(s, sql, st, why, whylen);

	for (size_t i = 0; rc == 0 && i < n; i++) {
		int col = (int)i + 1, r;

		if (b[i].kind == B_TEXT) {
			r = sqlite3_bind_text(*st, col, b[i].p, -1, SQLITE_STATIC);
		} else if (b[i].kind == B_BLOB) {
			r = sqlite3_bind_blob(*st, col, b[i].p, (int)b[i].len, SQLITE_STATIC);
		} else {
			r = sqlite3_bind_int64(*st, col, b[i].i);
		}
		if (r != SQLITE_OK) {
			rc = dc_store_fail_db(s, why, whylen);
			sqlite3_finalize(*st);
			*st = NULL;
		}
	}
	return rc;
}

/* A statement without result rows. */
static int run(struct dc_store *s, const char *sql, const struct bind *b, size_t n, char *why,
	       size_t whylen)
{
	sqlite3_stmt *st;
	int rc = prepare(s, sql, b, n, &st, why, whylen);

	if (rc == 0 && sqlite3_step(st) != SQLITE_DONE) {
		rc = dc_store_fail_db(s, why, whylen);
	}
	sqlite3_finalize(st);
	return rc;
}

/* A query for one integer: *out = the first column of the first row, or 0 without rows. */
static int query_int(struct dc_store *s, const char *sql, const struct bind *b, size_t n,
		     int64_t *out, char *why, size_t whylen)
{
	sqlite3_stmt *st;
	int rc = prepare(s, sql, b, n, &st, why, whylen);
	int step = rc == 0 ? sqlite3_step(st) : SQLITE_ERROR;

	*out = 0;
	if (rc == 0 && step == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
	} else if (rc == 0 && step != SQLITE_DONE) {
		rc = dc_store_fail_db(s, why, whylen);
	}
	sqlite3_finalize(st);
	return rc;
}

static void copy_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, cap, "%s", t != NULL ? (const char *)t : "");
}

static void read_node(sqlite3_stmt *st, struct dc_node *n)
{
	const void *key = sqlite3_column_blob(st, 2);

	memset(n, 0, sizeof(*n));
	n->id = sqlite3_column_int64(st, 0);
	copy_text(n->fqdn, sizeof(n->fqdn), st, 1);
	if (key != NULL && sqlite3_column_bytes(st, 2) == NTM_KEY_LEN) {
		memcpy(n->pubkey.b, key, NTM_KEY_LEN);
	}
	copy_text(n->vip4, sizeof(n->vip4), st, 3);
	copy_text(n->vip6, sizeof(n->vip6), st, 4);
	n->enrolled_at = sqlite3_column_int64(st, 5);
	copy_text(n->real, sizeof(n->real), st, 6);
	copy_text(n->outside, sizeof(n->outside), st, 7);
	copy_text(n->nat, sizeof(n->nat), st, 8);
	n->last_seen = sqlite3_column_int64(st, 9);
	n->published = sqlite3_column_int(st, 10) != 0;
}

/* One node by a query over NODE_COLS: 0, -ENOENT or -EIO. */
static int query_node(struct dc_store *s, const char *sql, const struct bind *b,
		      struct dc_node *out)
{
	sqlite3_stmt *st;
	int rc = prepare(s, sql, b, 1, &st, NULL, 0);
	int step = rc == 0 ? sqlite3_step(st) : SQLITE_ERROR;

	memset(out, 0, sizeof(*out));
	if (rc == 0 && step == SQLITE_ROW) {
		read_node(st, out);
	} else if (rc == 0) {
		rc = step == SQLITE_DONE ? -ENOENT : -EIO;
	}
	sqlite3_finalize(st);
	return rc;
}

int dc_store_node_by_fqdn(struct dc_store *s, const char *fqdn, struct dc_node *out)
{
	const struct bind b[] = { b_text(fqdn) };

	return query_node(s, "SELECT " NODE_COLS " FROM nodes WHERE fqdn = ?1", b, out);
}

int dc_store_node_by_key(struct dc_store *s, const struct ntm_key *pubkey, struct dc_node *out)
{
	const struct bind b[] = { b_blob(pubkey->b, NTM_KEY_LEN) };

	return query_node(s, "SELECT " NODE_COLS " FROM nodes WHERE pubkey = ?1", b, out);
}

int dc_store_relay_by_key(struct dc_store *s, const struct ntm_key *pubkey, char name[DC_FQDN_SIZE])
{
	const struct bind b[] = { b_blob(pubkey->b, NTM_KEY_LEN) };
	sqlite3_stmt *st;
	char why[DC_STORE_WHY_MAX];
	int rc = prepare(s, "SELECT name FROM relays WHERE pubkey = ?1", b, 1, &st, why,
			 sizeof(why));

	name[0] = '\0';
	if (rc < 0) {
		return rc;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		copy_text(name, DC_FQDN_SIZE, st, 0);
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	sqlite3_finalize(st);
	return rc;
}

/* -EEXIST when the key belongs to a node or a relay. */
static int check_key_free(struct dc_store *s, const struct ntm_key *pubkey, char *why,
			  size_t whylen)
{
	const struct bind b[] = { b_blob(pubkey->b, NTM_KEY_LEN) };
	struct dc_node other;
	sqlite3_stmt *st;
	int rc = dc_store_node_by_key(s, pubkey, &other);

	if (rc == 0) {
		return dc_store_fail(why, whylen, -EEXIST, "this key is already enrolled as %s",
				     other.fqdn);
	}
	if (rc != -ENOENT) {
		return dc_store_fail_db(s, why, whylen);
	}
	rc = prepare(s, "SELECT name FROM relays WHERE pubkey = ?1", b, 1, &st, why, whylen);
	if (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(st, 0);

		rc = dc_store_fail(why, whylen, -EEXIST, "this key is already enrolled as relay %s",
				   name != NULL ? (const char *)name : "?");
	}
	sqlite3_finalize(st);
	return rc;
}

/* The token must exist, be for this name, unused and unexpired; then it is used up. */
static int consume_token(struct dc_store *s, const struct dc_enrolment *req, char *why,
			 size_t whylen)
{
	const struct bind b[] = { b_blob(req->token_hash, DC_TOKEN_HASH_LEN) };
	const struct bind u[] = { b_int(req->now), b_blob(req->token_hash, DC_TOKEN_HASH_LEN) };
	sqlite3_stmt *st;
	int rc = prepare(s, "SELECT fqdn, expires, used FROM tokens WHERE hash = ?1", b, 1, &st,
			 why, whylen);

	if (rc < 0) {
		return rc;
	}
	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_text(st, 0) == NULL ||
	    strcmp((const char *)sqlite3_column_text(st, 0), req->fqdn) != 0) {
		rc = dc_store_fail(why, whylen, -EACCES, "no such token for %s", req->fqdn);
	} else if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
		rc = dc_store_fail(why, whylen, -EACCES, "the token for %s was used already",
				   req->fqdn);
	} else if (sqlite3_column_int64(st, 1) <= req->now) {
		rc = dc_store_fail(why, whylen, -EACCES, "the token for %s has expired", req->fqdn);
	}
	sqlite3_finalize(st);
	if (rc == 0) {
		rc = run(s, "UPDATE tokens SET used = ?1 WHERE hash = ?2", u, 2, why, whylen);
	}
	return rc;
}

/* The indices of the pool's addresses held by nodes, into a new array (ntm_free). */
static int collect_used(struct dc_store *s, const struct dc_pool *pool, uint64_t **used, size_t *n,
			char *why, size_t whylen)
{
	bool v4 = dc_pool_family(pool) == AF_INET;
	size_t cap = 0;
	sqlite3_stmt *st;
	int rc = prepare(s, v4 ? "SELECT vip4 FROM nodes" : "SELECT vip6 FROM nodes", NULL, 0, &st,
			 why, whylen);
	int step;
	uint64_t idx;

	*used = NULL;
	*n = 0;
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 0);

		if (text == NULL || dc_pool_parse(pool, text, &idx) < 0) {
			continue; /* outside a shrunk pool: still held, but not in this one */
		}
		if (*n == cap) {
			uint64_t *grown = ntm_realloc(*used, (cap * 2 + 64) * sizeof(*grown));

			if (grown == NULL) {
				rc = dc_store_fail(why, whylen, -ENOMEM, "out of memory");
				break;
			}
			*used = grown;
			cap = cap * 2 + 64;
		}
		(*used)[(*n)++] = idx;
	}
	if (rc == 0 && step != SQLITE_DONE) {
		rc = dc_store_fail_db(s, why, whylen);
	}
	sqlite3_finalize(st);
	return rc;
}

/* Where next-fit starts: one past the last address handed out from this pool. */
static int read_cursor(struct dc_store *s, const char *key, const struct dc_pool *pool,
		       uint64_t *start, char *why, size_t whylen)
{
	const struct bind b[] = { b_text(key) };
	sqlite3_stmt *st;
	uint64_t idx;
	int rc = prepare(s, "SELECT value FROM meta WHERE key = ?1", b, 1, &st, why, whylen);

	*start = pool->first;
	if (rc == 0 && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL &&
	    dc_pool_parse(pool, (const char *)sqlite3_column_text(st, 0), &idx) == 0) {
		*start = idx + 1; /* past `last` means `first`: dc_pool_pick wraps */
	}
	sqlite3_finalize(st);
	return rc;
}

/* One address from `pool` into text[cap], and the cursor moved past it. */
static int allocate(struct dc_store *s, const struct dc_pool *pool, char *text, size_t cap,
		    char *why, size_t whylen)
{
	bool v4 = dc_pool_family(pool) == AF_INET;
	const char *key = v4 ? "cursor4" : "cursor6";
	char pfx[NTM_PREFIX_STRLEN];
	uint64_t *used, start, idx;
	size_t n;
	int rc = collect_used(s, pool, &used, &n, why, whylen);

	if (rc == 0) {
		rc = read_cursor(s, key, pool, &start, why, whylen);
	}
	if (rc == 0 && dc_pool_pick(pool, used, n, start, &idx) < 0) {
		if (ntm_prefix_format(&pool->prefix, pfx, sizeof(pfx)) < 0) {
			pfx[0] = '\0';
		}
		rc = dc_store_fail(why, whylen, -ENOSPC, "the IPv%c pool %s is exhausted",
				   v4 ? '4' : '6', pfx);
	}
	ntm_free(used);
	if (rc == 0) {
		rc = dc_pool_format(pool, idx, text, cap);
	}
	if (rc == 0) {
		const struct bind b[] = { b_text(key), b_text(text) };

		rc = run(s, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", b, 2, why,
			 whylen);
	}
	return rc;
}

static int enroll_steps(struct dc_store *s, const struct dc_enrolment *req, struct dc_node *out,
			char *why, size_t whylen)
{
	char vip4[INET6_ADDRSTRLEN], vip6[INET6_ADDRSTRLEN];
	const struct bind ins[] = { b_text(req->fqdn), b_blob(req->pubkey->b, NTM_KEY_LEN),
				    b_text(vip4),      b_text(vip6),
				    b_int(req->now),   b_int(req->publish ? 1 : 0) };
	const struct bind del[] = { b_text(req->fqdn) };
	int rc = dc_store_node_by_fqdn(s, req->fqdn, out);

	if (rc == 0) {
		return dc_store_fail(why, whylen, -EEXIST, "%s is already enrolled", req->fqdn);
	}
	rc = rc == -ENOENT ? check_key_free(s, req->pubkey, why, whylen)
			   : dc_store_fail_db(s, why, whylen);
	if (rc == 0 && req->token_hash != NULL) {
		rc = consume_token(s, req, why, whylen);
	}
	if (rc == 0) {
		rc = allocate(s, req->pool4, vip4, sizeof(vip4), why, whylen);
	}
	if (rc == 0) {
		rc = allocate(s, req->pool6, vip6, sizeof(vip6), why, whylen);
	}
	if (rc == 0) {
		rc = run(s,
			 "INSERT INTO nodes (fqdn, pubkey, vip4, vip6, enrolled_at, published) "
			 "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			 ins, 6, why, whylen);
	}
	if (rc == 0) {
		rc = run(s, "DELETE FROM tokens WHERE fqdn = ?1 AND used IS NULL", del, 1, why,
			 whylen);
	}
	if (rc == 0 && dc_store_node_by_fqdn(s, req->fqdn, out) < 0) {
		rc = dc_store_fail_db(s, why, whylen);
	}
	return rc;
}

int dc_store_enroll(struct dc_store *s, const struct dc_enrolment *req, struct dc_node *out,
		    char *why, size_t whylen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = dc_store_begin(s, why, whylen);
	if (rc < 0) {
		return rc;
	}
	rc = enroll_steps(s, req, out, why, whylen);
	if (rc == 0) {
		rc = dc_store_commit(s, why, whylen);
	}
	if (rc < 0) {
		dc_store_rollback(s);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

int dc_store_enroll_relay(struct dc_store *s, const char *name, const struct ntm_key *pubkey,
			  int64_t now, char *why, size_t whylen)
{
	const struct bind b[] = { b_text(name), b_blob(pubkey->b, NTM_KEY_LEN), b_int(now) };
	int64_t taken;
	int rc = dc_store_begin(s, why, whylen);

	if (rc < 0) {
		return rc;
	}
	rc = query_int(s, "SELECT count(*) FROM relays WHERE name = ?1", b, 1, &taken, why, whylen);
	if (rc == 0 && taken > 0) {
		rc = dc_store_fail(why, whylen, -EEXIST, "relay %s is already enrolled", name);
	}
	if (rc == 0) {
		rc = check_key_free(s, pubkey, why, whylen);
	}
	if (rc == 0) {
		rc = run(s, "INSERT INTO relays (name, pubkey, enrolled_at) VALUES (?1, ?2, ?3)", b,
			 3, why, whylen);
	}
	if (rc == 0) {
		return dc_store_commit(s, why, whylen);
	}
	dc_store_rollback(s);
	return rc;
}

int dc_store_revoke(struct dc_store *s, const char *fqdn, struct dc_node *out, char *why,
		    size_t whylen)
{
	const struct bind b[] = { b_text(fqdn) };
	int rc = dc_store_begin(s, why, whylen);

	memset(out, 0, sizeof(*out));
	if (rc < 0) {
		return rc;
	}
	rc = dc_store_node_by_fqdn(s, fqdn, out);
	if (rc == -ENOENT) {
		rc = dc_store_fail(why, whylen, -ENOENT, "%s is not enrolled", fqdn);
	} else if (rc < 0) {
		rc = dc_store_fail_db(s, why, whylen);
	}
	if (rc == 0) {
		rc = run(s, "DELETE FROM nodes WHERE fqdn = ?1", b, 1, why, whylen);
	}
	if (rc == 0) {
		rc = run(s, "DELETE FROM tokens WHERE fqdn = ?1", b, 1, why, whylen);
	}
	if (rc == 0) {
		rc = dc_store_commit(s, why, whylen);
	}
	if (rc < 0) {
		dc_store_rollback(s);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

int dc_store_foreach_node(struct dc_store *s, dc_store_node_cb cb, void *ctx)
{
	struct dc_node node;
	sqlite3_stmt *st;
	int rc = prepare(s, "SELECT " NODE_COLS " FROM nodes ORDER BY fqdn", NULL, 0, &st, NULL, 0);
	int step;

	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		read_node(st, &node);
		rc = cb(ctx, &node);
	}
	if (rc == 0 && step != SQLITE_DONE) {
		rc = -EIO;
	}
	sqlite3_finalize(st);
	return rc;
}

int dc_store_token_add(struct dc_store *s, const struct dc_token_rec *t, char *why, size_t whylen)
{
	const struct bind purge[] = { b_int(t->created), b_text(t->fqdn) };
	const struct bind ins[] = { b_text(t->fqdn), b_blob(t->hash, DC_TOKEN_HASH_LEN),
				    b_int(t->created), b_int(t->expires) };
	struct dc_node node;
	int rc = dc_store_begin(s, why, whylen);

	if (rc < 0) {
		return rc;
	}
	rc = dc_store_node_by_fqdn(s, t->fqdn, &node);
	if (rc == 0) {
		rc = dc_store_fail(why, whylen, -EEXIST, "%s is already enrolled (revoke it first)",
				   t->fqdn);
	} else {
		rc = rc == -ENOENT ? 0 : dc_store_fail_db(s, why, whylen);
	}
	if (rc == 0) {
		rc = run(s,
			 "DELETE FROM tokens WHERE expires <= ?1 OR (fqdn = ?2 AND used IS NULL)",
			 purge, 2, why, whylen);
	}
	if (rc == 0) {
		rc = run(
			s,
			"INSERT INTO tokens (fqdn, hash, created, expires) VALUES (?1, ?2, ?3, ?4)",
			ins, 4, why, whylen);
	}
	if (rc == 0) {
		return dc_store_commit(s, why, whylen);
	}
	dc_store_rollback(s);
	return rc;
}

int dc_store_token_count(struct dc_store *s, const char *fqdn, size_t *n)
{
	const struct bind b[] = { b_text(fqdn) };
	int64_t v;
	int rc = query_int(s, "SELECT count(*) FROM tokens WHERE fqdn = ?1", b, 1, &v, NULL, 0);

	*n = rc == 0 ? (size_t)v : 0;
	return rc;
}

int dc_store_publish(struct dc_store *s, const char *fqdn, bool on, bool *changed, char *why,
		     size_t whylen)
{
	const struct bind b[] = { b_int(on ? 1 : 0), b_text(fqdn) };
	struct dc_node node;
	int rc = dc_store_begin(s, why, whylen);

	if (changed != NULL) {
		*changed = false;
	}
	if (rc < 0) {
		return rc;
	}
	rc = dc_store_node_by_fqdn(s, fqdn, &node);
	if (rc == -ENOENT) {
		rc = dc_store_fail(why, whylen, -ENOENT, "%s is not enrolled", fqdn);
	} else if (rc < 0) {
		rc = dc_store_fail_db(s, why, whylen);
	}
	if (rc == 0 && node.published != on) {
		rc = run(s, "UPDATE nodes SET published = ?1 WHERE fqdn = ?2", b, 2, why, whylen);
		if (rc == 0 && changed != NULL) {
			*changed = true;
		}
	}
	if (rc == 0) {
		return dc_store_commit(s, why, whylen);
	}
	dc_store_rollback(s);
	return rc;
}

int dc_store_published_lookup(struct dc_store *s, const char *fqdn, struct dc_node *out)
{
	const struct bind b[] = { b_text(fqdn) };
	int64_t below;
	int rc = dc_store_node_by_fqdn(s, fqdn, out);

	if (rc == 0 && out->published) {
		return 1;
	}
	memset(out, 0, sizeof(*out));
	if (rc < 0 && rc != -ENOENT) {
		return -EIO;
	}
	/* Names are LDH only (fqdn.h), so a suffix compare needs no LIKE escaping. */
	rc = query_int(s,
		       "SELECT count(*) FROM nodes WHERE published = 1 AND "
		       "substr(fqdn, -length(?1) - 1) = '.' || ?1",
		       b, 1, &below, NULL, 0);
	if (rc < 0) {
		return -EIO;
	}
	return below > 0 ? 2 : 0;
}
