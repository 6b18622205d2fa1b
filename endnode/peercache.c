/* SPDX-License-Identifier: MIT */
#include "peercache.h"

#include <errno.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/privfile.h"

enum {
	BUSY_TIMEOUT_MS = 1000,
	KEY_LEN = 32,
};

struct en_peercache {
	sqlite3 *db;
};

/* Schema: everything a tunnel needs, one row per peer; meta holds the owner and its VIPs. */
static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS peers ("
	" pubkey BLOB PRIMARY KEY CHECK (length(pubkey) = 32),"
	" fqdn TEXT NOT NULL,"
	" vip4 BLOB NOT NULL,"
	" vip6 BLOB NOT NULL,"
	" ep_family INTEGER NOT NULL,"
	" ep_ip BLOB NOT NULL,"
	" ep_port INTEGER NOT NULL,"
	" path INTEGER NOT NULL,"
	" nat INTEGER NOT NULL,"
	" nat_peer INTEGER NOT NULL,"
	" updated INTEGER NOT NULL) WITHOUT ROWID;";

/* The cache file, private: a wider mode is narrowed (it names every peer and its address). */
static int make_file(const char *path, char *why, size_t whylen)
{
	mode_t mode;
	int rc = ntm_privfile_make(path, &mode, why, whylen);

	if (rc == 0 && (mode & 077) != 0 && chmod(path, 0600) < 0) {
		snprintf(why, whylen, "%s: mode %04o, and chmod 600 failed", path, (unsigned)mode);
		return -EINVAL;
	}
	return rc;
}

static int exec(struct en_peercache *c, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		ntm_log_warn("peer cache: %s", msg != NULL ? msg : sqlite3_errmsg(c->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

static int prepare(struct en_peercache *c, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(c->db, sql, -1, st, NULL) != SQLITE_OK) {
		ntm_log_warn("peer cache: %s", sqlite3_errmsg(c->db));
		*st = NULL;
		return -EIO;
	}
	return 0;
}

/* Runs a statement that returns no rows and finalizes it. */
static int step_done(struct en_peercache *c, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;

	if (rc < 0) {
		ntm_log_warn("peer cache: %s", sqlite3_errmsg(c->db));
	}
	sqlite3_finalize(st);
	return rc;
}

static int put_meta(struct en_peercache *c, const char *key, const void *val, size_t len)
{
	sqlite3_stmt *st;
	int rc = prepare(c, "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", &st);

	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, val, (int)len, SQLITE_STATIC);
	return step_done(c, st);
}

/* meta[key] into out[len]: 0, -ENOENT (missing, or not len bytes) or -EIO. */
static int get_meta(struct en_peercache *c, const char *key, void *out, size_t len)
{
	sqlite3_stmt *st;
	int rc = prepare(c, "SELECT value FROM meta WHERE key = ?1", &st);

	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && (size_t)sqlite3_column_bytes(st, 0) == len) {
		memcpy(out, sqlite3_column_blob(st, 0), len);
		rc = 0;
	} else {
		rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	sqlite3_finalize(st);
	return rc;
}

/* A cache of another key (the node was re-keyed) describes another node: start empty. */
static int claim(struct en_peercache *c, const uint8_t *own_key)
{
	uint8_t key[KEY_LEN];
	int rc = get_meta(c, "owner", key, sizeof(key));

	if (rc == 0 && sodium_memcmp(key, own_key, KEY_LEN) == 0) {
		return 0;
	}
	if (rc == 0) {
		ntm_log_info("peer cache: written under another key: emptied");
	}
	rc = exec(c, "BEGIN; DELETE FROM peers; DELETE FROM meta;");
	if (rc == 0) {
		rc = put_meta(c, "owner", own_key, KEY_LEN);
	}
	return rc == 0 ? exec(c, "COMMIT") : (exec(c, "ROLLBACK"), rc);
}

static int settings(struct en_peercache *c)
{
	sqlite3_stmt *st;
	int rc;

	sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
	rc = prepare(c, "PRAGMA journal_mode = WAL", &st);
	if (rc == 0 && (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_text(st, 0) == NULL ||
			strcmp((const char *)sqlite3_column_text(st, 0), "wal") != 0)) {
		rc = -EIO;
	}
	sqlite3_finalize(st);
	return rc == 0 ? exec(c, "PRAGMA synchronous = FULL") : rc;
}

int en_peercache_open(const char *path, const uint8_t *own_key, struct en_peercache **out,
		      char *why, size_t whylen)
{
	struct en_peercache *c;
	int rc;

	*out = NULL;
	snprintf(why, whylen, "%s: cannot open", path);
	rc = make_file(path, why, whylen);
	if (rc < 0) {
		return rc;
	}
	c = ntm_calloc(1, sizeof(*c));
	if (c == NULL) {
		return -ENOMEM;
	}
	if (sqlite3_open_v2(path, &c->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_EXRESCODE,
			    NULL) != SQLITE_OK) {
		snprintf(why, whylen, "%s: %s", path,
			 c->db != NULL ? sqlite3_errmsg(c->db) : "out of memory");
		rc = -EIO;
	}
	if (rc == 0) {
		rc = settings(c);
	}
	if (rc == 0) {
		rc = exec(c, schema);
	}
	if (rc == 0) {
		rc = claim(c, own_key);
	}
	if (rc < 0) {
		if (c->db != NULL) {
			snprintf(why, whylen, "%s: %s", path, sqlite3_errmsg(c->db));
		}
		en_peercache_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void en_peercache_close(struct en_peercache *c)
{
	if (c == NULL) {
		return;
	}
	sqlite3_close_v2(c->db);
	ntm_free(c);
}

static const char put_sql[] =
	"INSERT OR REPLACE INTO peers (pubkey, fqdn, vip4, vip6, ep_family, ep_ip, ep_port, path,"
	" nat, nat_peer, updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
	" (SELECT coalesce(max(updated), 0) + 1 FROM peers))";

/* The least recently updated beyond EN_PEERCACHE_MAX go. */
static const char prune_sql[] = "DELETE FROM peers WHERE pubkey NOT IN"
				" (SELECT pubkey FROM peers ORDER BY updated DESC LIMIT 256)";
_Static_assert(EN_PEERCACHE_MAX == 256, "prune_sql spells the limit out");

int en_peercache_put(struct en_peercache *c, const struct en_peercache_entry *e)
{
	sqlite3_stmt *st;
	int rc = exec(c, "BEGIN");

	if (rc == 0) {
		rc = prepare(c, put_sql, &st);
	}
	if (rc == 0) {
		sqlite3_bind_blob(st, 1, e->public_key, KEY_LEN, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, e->fqdn, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, e->vip4, sizeof(e->vip4), SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, e->vip6, sizeof(e->vip6), SQLITE_STATIC);
		sqlite3_bind_int(st, 5, e->endpoint.family);
		sqlite3_bind_blob(st, 6, e->endpoint.ip, sizeof(e->endpoint.ip), SQLITE_STATIC);
		sqlite3_bind_int(st, 7, e->endpoint.port);
		sqlite3_bind_int(st, 8, e->path);
		sqlite3_bind_int(st, 9, e->nat);
		sqlite3_bind_int(st, 10, e->nat_peer);
		rc = step_done(c, st);
	}
	if (rc == 0) {
		rc = exec(c, prune_sql);
	}
	return rc == 0 ? exec(c, "COMMIT") : (exec(c, "ROLLBACK"), rc);
}

int en_peercache_remove(struct en_peercache *c, const uint8_t *public_key)
{
	sqlite3_stmt *st;
	int rc = prepare(c, "DELETE FROM peers WHERE pubkey = ?1", &st);

	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_blob(st, 1, public_key, KEY_LEN, SQLITE_STATIC);
	return step_done(c, st);
}

static bool blob_into(sqlite3_stmt *st, int col, void *out, size_t len)
{
	if ((size_t)sqlite3_column_bytes(st, col) != len) {
		return false;
	}
	memcpy(out, sqlite3_column_blob(st, col), len);
	return true;
}

/* One row into *e; false when it does not hold a usable entry. */
static bool read_row(sqlite3_stmt *st, struct en_peercache_entry *e)
{
	const unsigned char *fqdn = sqlite3_column_text(st, 1);
	int family = sqlite3_column_int(st, 4);
	int port = sqlite3_column_int(st, 6);
	int path = sqlite3_column_int(st, 7);

	memset(e, 0, sizeof(*e));
	if (fqdn == NULL || fqdn[0] == '\0' || strlen((const char *)fqdn) > NTM_CTRL_FQDN_MAX ||
	    (family != 4 && family != 6) || port <= 0 || port > 65535 || path < 0 ||
	    path > NTM_CTRL_PATH_MAX) {
		return false;
	}
	snprintf(e->fqdn, sizeof(e->fqdn), "%s", (const char *)fqdn);
	e->endpoint.family = (uint8_t)family;
	e->endpoint.port = (uint16_t)port;
	e->path = (uint8_t)path;
	e->nat = (uint8_t)sqlite3_column_int(st, 8);
	e->nat_peer = (uint8_t)sqlite3_column_int(st, 9);
	return blob_into(st, 0, e->public_key, KEY_LEN) &&
	       blob_into(st, 2, e->vip4, sizeof(e->vip4)) &&
	       blob_into(st, 3, e->vip6, sizeof(e->vip6)) &&
	       blob_into(st, 5, e->endpoint.ip, sizeof(e->endpoint.ip));
}

/* The rows are read first and handed out after: the callback may write to the cache. */
int en_peercache_load(struct en_peercache *c, en_peercache_cb cb, void *arg)
{
	struct en_peercache_entry *e = ntm_calloc(EN_PEERCACHE_MAX, sizeof(*e));
	sqlite3_stmt *st;
	int rc, n = 0;

	if (e == NULL) {
		return -ENOMEM;
	}
	rc = prepare(c,
		     "SELECT pubkey, fqdn, vip4, vip6, ep_family, ep_ip, ep_port, path, nat,"
		     " nat_peer FROM peers ORDER BY updated DESC LIMIT 256",
		     &st);
	if (rc < 0) {
		ntm_free(e);
		return rc;
	}
	while (n < EN_PEERCACHE_MAX && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (read_row(st, &e[n])) {
			n++;
		}
	}
	sqlite3_finalize(st);
	rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? n : -EIO;
	for (int i = 0; rc >= 0 && i < n; i++) {
		cb(arg, &e[i]);
	}
	ntm_free(e);
	return rc;
}

int en_peercache_put_self(struct en_peercache *c, const uint8_t *vip4, const uint8_t *vip6)
{
	uint8_t both[20];

	memcpy(both, vip4, 4);
	memcpy(both + 4, vip6, 16);
	return put_meta(c, "vips", both, sizeof(both));
}

int en_peercache_get_self(struct en_peercache *c, uint8_t *vip4, uint8_t *vip6)
{
	uint8_t both[20];
	int rc = get_meta(c, "vips", both, sizeof(both));

	if (rc == 0) {
		memcpy(vip4, both, 4);
		memcpy(vip6, both + 4, 16);
	}
	return rc;
}
