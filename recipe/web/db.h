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

/* ROLLBACK if a transaction is open. */
void rcp_db_rollback(sqlite3 *db);

#endif
