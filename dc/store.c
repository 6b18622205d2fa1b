/* SPDX-License-Identifier: MIT */
/*
 * The store's plumbing: opening the file with safe modes, SQLite settings,
 * schema migrations and the transaction helpers. The records themselves are
 * in store_node.c.
 */
#include "store_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/privfile.h"

enum { BUSY_TIMEOUT_MS = 1000 };

/*
 * migrations[i] takes the schema from version i to i + 1. Append, never
 * edit: a database in the field is at some version and replays the rest.
 */
static const char *const migrations[DC_STORE_SCHEMA_VERSION] = {
	/* 0 -> 1 */
	"CREATE TABLE schema_version (version INTEGER NOT NULL);"
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE nodes ("
	" id INTEGER PRIMARY KEY,"
	" fqdn TEXT NOT NULL UNIQUE,"
	" pubkey BLOB NOT NULL UNIQUE CHECK (length(pubkey) = 32),"
	" vip4 TEXT NOT NULL UNIQUE,"
	" vip6 TEXT NOT NULL UNIQUE,"
	" enrolled_at INTEGER NOT NULL,"
	" real_addr TEXT,"
	" outside_addr TEXT,"
	" nat TEXT CHECK (nat IN ('public', 'eim', 'edm')),"
	" last_seen INTEGER);"
	"CREATE TABLE relays ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" pubkey BLOB NOT NULL UNIQUE CHECK (length(pubkey) = 32),"
	" enrolled_at INTEGER NOT NULL);"
	"CREATE TABLE tokens ("
	" id INTEGER PRIMARY KEY,"
	" fqdn TEXT NOT NULL,"
	" hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" used INTEGER);"
	"CREATE INDEX tokens_fqdn ON tokens (fqdn);",
	/* 1 -> 2: per-node opt-in to the DC's public DNS zone (dc/dnszone.h) */
	"ALTER TABLE nodes ADD COLUMN published INTEGER NOT NULL DEFAULT 0 "
	"CHECK (published IN (0, 1));"
	/* DNS queries for names with nothing at them look below them: only among these */
	"CREATE INDEX nodes_published ON nodes (fqdn) WHERE published = 1;",
};

int dc_store_fail(char *why, size_t whylen, int rc, const char *fmt, ...)
{
	va_list ap;

	if (whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

int dc_store_fail_db(struct dc_store *s, char *why, size_t whylen)
{
	return dc_store_fail(why, whylen, -EIO, "%s: %s", s->path, sqlite3_errmsg(s->db));
}

static int exec(struct dc_store *s, const char *sql, char *why, size_t whylen)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		return dc_store_fail_db(s, why, whylen);
	}
	return 0;
}

int dc_store_begin(struct dc_store *s, char *why, size_t whylen)
{
	return exec(s, "BEGIN IMMEDIATE", why, whylen);
}

int dc_store_commit(struct dc_store *s, char *why, size_t whylen)
{
	int rc = exec(s, "COMMIT", why, whylen);

	if (rc < 0) {
		dc_store_rollback(s);
	}
	return rc;
}

void dc_store_rollback(struct dc_store *s)
{
	if (!sqlite3_get_autocommit(s->db)) {
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
}

int dc_store_prepare(struct dc_store *s, const char *sql, sqlite3_stmt **st, char *why,
		     size_t whylen)
{
	*st = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
		sqlite3_finalize(*st);
		*st = NULL;
		return dc_store_fail_db(s, why, whylen);
	}
	return 0;
}

/*
 * The database never exists with a wider mode than 0600 (see privfile.h); an
 * existing one open to others is only worth a warning: it holds no secret,
 * but token hashes and the node directory are nobody else's business.
 */
static int make_private(const char *path, char *why, size_t whylen)
{
	mode_t mode;
	int rc = ntm_privfile_make(path, &mode, why, whylen);

	if (rc == 0 && (mode & 077)) {
		ntm_log_warn("database %s has mode %04o; 0600 is enough (chmod 600 it)", path,
			     (unsigned)mode);
	}
	return rc;
}

static int settings(struct dc_store *s, char *why, size_t whylen)
{
	sqlite3_stmt *st;
	int rc;

	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	rc = dc_store_prepare(s, "PRAGMA journal_mode = WAL", &st, why, whylen);
	if (rc < 0) {
		return rc;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = dc_store_fail_db(s, why, whylen);
	} else if (sqlite3_column_text(st, 0) == NULL ||
		   strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
		rc = dc_store_fail(why, whylen, -EIO, "%s: cannot switch to WAL mode", s->path);
	}
	sqlite3_finalize(st);
	if (rc == 0) {
		rc = exec(s, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", why, whylen);
	}
	return rc;
}

/* The schema version: 0 for a new database (no schema_version table yet). */
static int read_version(struct dc_store *s, int64_t *version, char *why, size_t whylen)
{
	sqlite3_stmt *st;
	int rc;

	*version = 0;
	rc = dc_store_prepare(s,
			      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
			      "name = 'schema_version'",
			      &st, why, whylen);
	if (rc < 0) {
		return rc;
	}
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = dc_store_fail_db(s, why, whylen);
	} else if (sqlite3_column_int(st, 0) == 1) {
		sqlite3_finalize(st);
		rc = dc_store_prepare(s, "SELECT max(version) FROM schema_version", &st, why,
				      whylen);
		if (rc == 0 && sqlite3_step(st) != SQLITE_ROW) {
			rc = dc_store_fail_db(s, why, whylen);
		}
		*version = rc == 0 ? sqlite3_column_int64(st, 0) : 0;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Brings the schema to DC_STORE_SCHEMA_VERSION in one transaction. */
static int migrate(struct dc_store *s, char *why, size_t whylen)
{
	char sql[96];
	int64_t v;
	int rc = dc_store_begin(s, why, whylen);

	if (rc == 0) {
		rc = read_version(s, &v, why, whylen);
	}
	if (rc == 0 && (v < 0 || v > DC_STORE_SCHEMA_VERSION)) {
		rc = dc_store_fail(why, whylen, -EPROTO,
				   "%s: schema version %lld is not one this ntm-dc knows (%d)",
				   s->path, (long long)v, DC_STORE_SCHEMA_VERSION);
	}
	if (rc == 0 && v == DC_STORE_SCHEMA_VERSION) {
		dc_store_rollback(s);
		return 0;
	}
	for (; rc == 0 && v < DC_STORE_SCHEMA_VERSION; v++) {
		rc = exec(s, migrations[v], why, whylen);
	}
	if (rc == 0) {
		snprintf(sql, sizeof(sql),
			 "DELETE FROM schema_version; INSERT INTO schema_version VALUES (%d)",
			 DC_STORE_SCHEMA_VERSION);
		rc = exec(s, sql, why, whylen);
	}
	if (rc == 0) {
		ntm_log_info("database %s: schema at version %d", s->path, DC_STORE_SCHEMA_VERSION);
		return dc_store_commit(s, why, whylen);
	}
	dc_store_rollback(s);
	return rc;
}

int dc_store_open(const char *path, struct dc_store **out, char *why, size_t whylen)
{
	struct dc_store *s;
	int rc;

	*out = NULL;
	rc = make_private(path, why, whylen);
	if (rc < 0) {
		return rc;
	}
	s = ntm_calloc(1, sizeof(*s));
	if (s == NULL || (s->path = ntm_strdup(path)) == NULL) {
		ntm_free(s);
		return dc_store_fail(why, whylen, -ENOMEM, "%s: out of memory", path);
	}
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
			    NULL) != SQLITE_OK) {
		rc = s->db != NULL ? dc_store_fail_db(s, why, whylen)
				   : dc_store_fail(why, whylen, -ENOMEM, "%s: out of memory", path);
	}
	if (rc == 0) {
		rc = settings(s, why, whylen);
	}
	if (rc == 0) {
		rc = migrate(s, why, whylen);
	}
	if (rc < 0) {
		dc_store_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

void dc_store_close(struct dc_store *s)
{
	if (s == NULL) {
		return;
	}
	/* sqlite3_close_v2 cannot fail for lack of finalised statements: each call finalises its
	 * own. */
	sqlite3_close_v2(s->db);
	ntm_free(s->path);
	ntm_free(s);
}
