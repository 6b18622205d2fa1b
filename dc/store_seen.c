/* SPDX-License-Identifier: MIT */
/*
 * Registration state of the nodes: real and outside address, NAT class, last
 * seen. Written by the control channel in batches (dc/ctrl.c), one
 * transaction per batch.
 */
#include "store_internal.h"

static int bind_text_or_null(sqlite3_stmt *st, int col, const char *t)
{
	if (t == NULL || t[0] == '\0') {
		return sqlite3_bind_null(st, col);
	}
	return sqlite3_bind_text(st, col, t, -1, SQLITE_STATIC);
}

static int update_one(struct dc_store *s, sqlite3_stmt *st, const struct dc_seen *v, char *why,
		      size_t whylen)
{
	if (sqlite3_reset(st) != SQLITE_OK || sqlite3_bind_int64(st, 1, v->id) != SQLITE_OK ||
	    bind_text_or_null(st, 2, v->real) != SQLITE_OK ||
	    bind_text_or_null(st, 3, v->outside) != SQLITE_OK ||
	    bind_text_or_null(st, 4, v->nat) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, v->last_seen) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		return dc_store_fail_db(s, why, whylen);
	}
	return 0;
}

int dc_store_node_seen(struct dc_store *s, const struct dc_seen *v, size_t n, char *why,
		       size_t whylen)
{
	static const char sql[] = "UPDATE nodes SET real_addr = ?2, outside_addr = ?3, nat = ?4,"
				  " last_seen = ?5 WHERE id = ?1";
	sqlite3_stmt *st = NULL;
	int rc;

	if (n == 0) {
		return 0;
	}
	rc = dc_store_begin(s, why, whylen);
	if (rc < 0) {
		return rc;
	}
	rc = dc_store_prepare(s, sql, &st, why, whylen);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = update_one(s, st, &v[i], why, whylen);
	}
	sqlite3_finalize(st);
	if (rc == 0) {
		return dc_store_commit(s, why, whylen);
	}
	dc_store_rollback(s);
	return rc;
}
