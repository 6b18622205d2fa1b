/* SPDX-License-Identifier: MIT */
#ifndef DC_STORE_INTERNAL_H
#define DC_STORE_INTERNAL_H

/* Shared by store.c (open, schema, transactions) and store_node.c (the records). */

#include <sqlite3.h>

#include "dc/store.h"

struct dc_store {
	sqlite3 *db;
	char *path;
};

/* A reason into why[whylen] (printf format); returns rc. */
int dc_store_fail(char *why, size_t whylen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* SQLite's message for the last error on s->db, as "PATH: MESSAGE"; returns -EIO. */
int dc_store_fail_db(struct dc_store *s, char *why, size_t whylen);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Rollback is best effort and never fails. */
NTM_MUST_CHECK int dc_store_begin(struct dc_store *s, char *why, size_t whylen);
NTM_MUST_CHECK int dc_store_commit(struct dc_store *s, char *why, size_t whylen);
void dc_store_rollback(struct dc_store *s);

/* sqlite3_prepare_v2 of `sql`; *st is NULL on failure (then -EIO with a reason). */
NTM_MUST_CHECK int dc_store_prepare(struct dc_store *s, const char *sql, sqlite3_stmt **st,
				    char *why, size_t whylen);

#endif
