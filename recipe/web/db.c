/* SPDX-License-Identifier: MIT */
#include "db.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/privfile.h"

enum { BUSY_TIMEOUT_MS = 1000 };

int rcp_db_exec(sqlite3 *db, const char *sql, char *why, size_t whylen)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(why, whylen, "%s: %s", sqlite3_db_filename(db, "main"),
			 sqlite3_errmsg(db));
		return -EIO;
	}
	return 0;
}

int rcp_db_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *why, size_t whylen)
{
	*st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		snprintf(why, whylen, "%s: %s", sqlite3_db_filename(db, "main"),
			 sqlite3_errmsg(db));
		sqlite3_finalize(*st);
		*st = NULL;
		return -EIO;
	}
	return 0;
}

void rcp_db_rollback(sqlite3 *db)
{
	if (!sqlite3_get_autocommit(db)) {
		(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
}

/* The database file, private; an existing one with a wider mode is only worth a warning. */
static int make_file(const char *path, char *why, size_t whylen)
{
	mode_t mode;
	int rc = ntm_privfile_make(path, &mode, why, whylen);

	if (rc == 0 && (mode & 077) != 0) {
		ntm_log_warn("database %s has mode %04o; 0600 is enough", path, (unsigned)mode);
	}
	return rc;
}

static int settings(sqlite3 *db, char *why, size_t whylen)
{
	sqlite3_stmt *st;
	int rc;

	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	rc = rcp_db_prepare(db, "PRAGMA journal_mode = WAL", &st, why, whylen);
	if (rc == 0 && (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_text(st, 0) == NULL ||
			strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0)) {
		snprintf(why, whylen, "%s: cannot switch to WAL mode",
			 sqlite3_db_filename(db, "main"));
		rc = -EIO;
	}
	sqlite3_finalize(st);
	if (rc == 0) {
		rc = rcp_db_exec(db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", why,
				 whylen);
	}
	return rc;
}

static int read_version(sqlite3 *db, int *v, char *why, size_t whylen)
{
	sqlite3_stmt *st;
	int rc = rcp_db_prepare(db,
				"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
				"name = 'schema_version'",
				&st, why, whylen);

	*v = 0;
	if (rc == 0 && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1) {
		sqlite3_finalize(st);
		rc = rcp_db_prepare(db, "SELECT max(version) FROM schema_version", &st, why,
				    whylen);
		if (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
			*v = sqlite3_column_int(st, 0);
		}
	}
	sqlite3_finalize(st);
	return rc;
}

static int migrate(sqlite3 *db, const char *const *migrations, int n, char *why, size_t whylen)
{
	char sql[192];
	int v, rc = rcp_db_exec(db, "BEGIN IMMEDIATE", why, whylen);

	if (rc == 0) {
		rc = read_version(db, &v, why, whylen);
	}
	if (rc == 0 && (v < 0 || v > n)) {
		snprintf(why, whylen, "%s: schema version %d is newer than this program's (%d)",
			 sqlite3_db_filename(db, "main"), v, n);
		rc = -EPROTO;
	}
	for (; rc == 0 && v < n; v++) {
		rc = rcp_db_exec(db, migrations[v], why, whylen);
		snprintf(sql, sizeof(sql),
			 "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);"
			 "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)",
			 v + 1);
		if (rc == 0) {
			rc = rcp_db_exec(db, sql, why, whylen);
		}
	}
	if (rc == 0) {
		rc = rcp_db_exec(db, "COMMIT", why, whylen);
	}
	rcp_db_rollback(db);
	return rc;
}

int rcp_db_open(const char *path, const char *const *migrations, int n, sqlite3 **db, char *why,
		size_t whylen)
{
	int rc;

	*db = NULL;
	rc = make_file(path, why, whylen);
	if (rc < 0) {
		return rc;
	}
	if (sqlite3_open_v2(path, db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
			    NULL) != SQLITE_OK) {
		snprintf(why, whylen, "%s: %s", path,
			 *db != NULL ? sqlite3_errmsg(*db) : "out of memory");
		rc = -EIO;
	}
	if (rc == 0) {
		rc = settings(*db, why, whylen);
	}
	if (rc == 0) {
		rc = migrate(*db, migrations, n, why, whylen);
	}
	if (rc < 0) {
		sqlite3_close_v2(*db);
		*db = NULL;
	}
	return rc;
}

int rcp_db_step_done(sqlite3 *db, sqlite3_stmt *st, const char *exists, const char *missing,
		     char *why, size_t whylen)
{
	int r = sqlite3_step(st), rc = 0;

	if (r == SQLITE_CONSTRAINT_PRIMARYKEY || r == SQLITE_CONSTRAINT_UNIQUE) {
		snprintf(why, whylen, "%s", exists);
		rc = -EEXIST;
	} else if (r == SQLITE_CONSTRAINT_FOREIGNKEY && missing != NULL) {
		snprintf(why, whylen, "%s", missing);
		rc = -ENOENT;
	} else if (r != SQLITE_DONE) {
		snprintf(why, whylen, "database: %s", sqlite3_errmsg(db));
		rc = -EIO;
	}
	sqlite3_finalize(st);
	return rc;
}

int rcp_db_store_open(const char *path, const char *const *migrations, int n, size_t size,
		      void **out, char *why, size_t whylen)
{
	sqlite3 **s = ntm_calloc(1, size);
	int rc;

	*out = NULL;
	if (s == NULL) {
		return -ENOMEM;
	}
	rc = rcp_db_open(path, migrations, n, s, why, whylen);
	if (rc < 0) {
		ntm_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void rcp_db_store_close(void *store)
{
	sqlite3 **s = store;

	if (s != NULL) {
		sqlite3_close_v2(*s);
		ntm_free(s);
	}
}
