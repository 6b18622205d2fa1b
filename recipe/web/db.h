/* SPDX-License-Identifier: MIT */
#ifndef RCP_DB_H
#define RCP_DB_H

/*
 * SQLite as ntm-dc uses it (dc/store.c), for the devmgr and recipe-server
 * stores: the parent directory created 0700, the file 0600 (O_EXCL, no
 * symlinks), WAL, synchronous=FULL, foreign keys, and schema migrations
 * applied in one transaction up to `n` (schema_version table).
 */

#include <sqlite3.h>
#include <stddef.h>

#include "common/err.h"

/*
 * Open (creating) the database at `path` and migrate: migrations[v] takes
 * version v to v+1. *db is closed with sqlite3_close_v2(). Errors name the
 * path in why: -EIO, -EPROTO (a newer schema), -ENOMEM, -errno.
 */
NTM_MUST_CHECK int rcp_db_open(const char *path, const char *const *migrations, int n, sqlite3 **db,
			       char *why, size_t whylen);

/* Run one SQL text; -EIO with sqlite's message in why. */
NTM_MUST_CHECK int rcp_db_exec(sqlite3 *db, const char *sql, char *why, size_t whylen);

/* Prepare; *st NULL on failure (-EIO). */
NTM_MUST_CHECK int rcp_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *why,
				  size_t whylen);

/*
 * Step a bound write statement to completion and finalise it. 0, or
 * -EEXIST with `exists` in why (a primary-key or unique clash), -ENOENT
 * with `missing` for a foreign-key miss when `missing` is not NULL, else
 * -EIO with sqlite's message.
 */
NTM_MUST_CHECK int rcp_db_step_done(sqlite3 *db, sqlite3_stmt *st, const char *exists,
				    const char *missing, char *why, size_t whylen);

/*
 * A store object is a struct whose FIRST member is its sqlite3 *. Allocate
 * `size` zeroed bytes and rcp_db_open() into that member; *out is NULL on
 * failure (-ENOMEM or rcp_db_open's errors). Free with rcp_db_store_close.
 */
NTM_MUST_CHECK int rcp_db_store_open(const char *path, const char *const *migrations, int n,
				     size_t size, void **out, char *why, size_t whylen);
/* Close the database and free the object; NULL is accepted. */
void rcp_db_store_close(void *store);

/* ROLLBACK if a transaction is open. */
void rcp_db_rollback(sqlite3 *db);

#endif
