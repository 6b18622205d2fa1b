/* SPDX-License-Identifier: MIT */
#include "dmstore.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/web/db.h"

/* The db handle first: rcp_db_store_open() fills it. */
struct rcp_dm_store {
	sqlite3 *db;
};

static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE models ("
	" name TEXT PRIMARY KEY,"
	" links TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE devices ("
	" id TEXT PRIMARY KEY,"
	" model TEXT NOT NULL REFERENCES models (name),"
	" pubkey TEXT NOT NULL UNIQUE,"
	" fqdn TEXT NOT NULL UNIQUE,"
	" dc_endpoint TEXT NOT NULL,"
	" dc_key TEXT NOT NULL,"
	" recipe_server TEXT NOT NULL,"
	" secret_hash BLOB NOT NULL UNIQUE CHECK (length(secret_hash) = 32)) WITHOUT ROWID;",
};

int rcp_dm_store_open(const char *path, struct rcp_dm_store **out, char *why, size_t whylen)
{
	void *s;
	int rc = rcp_db_store_open(path, migrations, 1, sizeof(**out), &s, why, whylen);

	*out = s;
	return rc;
}

void rcp_dm_store_close(struct rcp_dm_store *s)
{
	rcp_db_store_close(s);
}

static int step_done(sqlite3 *db, sqlite3_stmt *st, char *why, size_t whylen)
{
	return rcp_db_step_done(db, st, "already exists (identifier, key or FQDN)", "unknown model",
				why, whylen);
}

int rcp_dm_store_put_model(struct rcp_dm_store *s, const struct rcp_dm_model *m, char *why,
			   size_t whylen)
{
	sqlite3_stmt *st;
	int rc = rcp_db_prepare(s->db,
				"INSERT INTO models (name, links) VALUES (?1, ?2) "
				"ON CONFLICT (name) DO UPDATE SET links = excluded.links",
				&st, why, whylen);

	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->links, -1, SQLITE_STATIC);
	return step_done(s->db, st, why, whylen);
}

int rcp_dm_store_add_device(struct rcp_dm_store *s, const struct rcp_dm_device *d,
			    const uint8_t secret_hash[RCP_TOKEN_HASH], char *why, size_t whylen)
{
	sqlite3_stmt *st;
	int rc = rcp_db_prepare(
		s->db,
		"INSERT INTO devices (id, model, pubkey, fqdn, dc_endpoint, dc_key,"
		" recipe_server, secret_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
		&st, why, whylen);

	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_text(st, 1, d->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->model, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, d->public_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, d->fqdn, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, d->dc_endpoint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, d->dc_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, d->recipe_server, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 8, secret_hash, RCP_TOKEN_HASH, SQLITE_STATIC);
	return step_done(s->db, st, why, whylen);
}

static void copy_col(sqlite3_stmt *st, int i, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	snprintf(dst, cap, "%s", t != NULL ? (const char *)t : "");
}

static const char DEVICE_COLS[] =
	"SELECT d.id, d.model, d.pubkey, d.fqdn, d.dc_endpoint, d.dc_key, d.recipe_server,"
	" m.links FROM devices d JOIN models m ON m.name = d.model ";

/* One row of DEVICE_COLS into d (and m when not NULL). */
static int read_device(sqlite3 *db, sqlite3_stmt *st, struct rcp_dm_device *d,
		       struct rcp_dm_model *m, char *why, size_t whylen)
{
	int r = sqlite3_step(st), rc = 0;

	memset(d, 0, sizeof(*d));
	if (r == SQLITE_ROW) {
		copy_col(st, 0, d->id, sizeof(d->id));
		copy_col(st, 1, d->model, sizeof(d->model));
		copy_col(st, 2, d->public_key, sizeof(d->public_key));
		copy_col(st, 3, d->fqdn, sizeof(d->fqdn));
		copy_col(st, 4, d->dc_endpoint, sizeof(d->dc_endpoint));
		copy_col(st, 5, d->dc_key, sizeof(d->dc_key));
		copy_col(st, 6, d->recipe_server, sizeof(d->recipe_server));
		if (m != NULL) {
			copy_col(st, 1, m->name, sizeof(m->name));
			copy_col(st, 7, m->links, sizeof(m->links));
		}
	} else if (r == SQLITE_DONE) {
		snprintf(why, whylen, "no such device");
		rc = -ENOENT;
	} else {
		snprintf(why, whylen, "database: %s", sqlite3_errmsg(db));
		rc = -EIO;
	}
	sqlite3_finalize(st);
	return rc;
}

/* The device matching `where` (a condition on ?1): a text key when
 * keylen < 0, else a blob of keylen bytes. */
static int device_where(struct rcp_dm_store *s, const char *where, const void *key, int keylen,
			struct rcp_dm_device *d, struct rcp_dm_model *m, char *why, size_t whylen)
{
	char sql[sizeof(DEVICE_COLS) + 32];
	sqlite3_stmt *st;
	int rc;

	snprintf(sql, sizeof(sql), "%sWHERE %s", DEVICE_COLS, where);
	rc = rcp_db_prepare(s->db, sql, &st, why, whylen);
	if (rc < 0) {
		return rc;
	}
	if (keylen < 0) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_blob(st, 1, key, keylen, SQLITE_STATIC);
	}
	return read_device(s->db, st, d, m, why, whylen);
}

int rcp_dm_store_get_device(struct rcp_dm_store *s, const char *id, struct rcp_dm_device *d,
			    struct rcp_dm_model *m, char *why, size_t whylen)
{
	return device_where(s, "d.id = ?1", id, -1, d, m, why, whylen);
}

int rcp_dm_store_find_secret(struct rcp_dm_store *s, const uint8_t hash[RCP_TOKEN_HASH],
			     struct rcp_dm_device *d, char *why, size_t whylen)
{
	return device_where(s, "d.secret_hash = ?1", hash, RCP_TOKEN_HASH, d, NULL, why, whylen);
}
