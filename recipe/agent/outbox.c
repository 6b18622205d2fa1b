/* SPDX-License-Identifier: MIT */
/*
 * The outbox (outbox.h) on SQLite: its own connection to the agent's
 * database file (WAL, synchronous=FULL), one autocommit statement per call
 * or one transaction per batch; a removal switches to synchronous=NORMAL
 * for its one statement.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/agent/outbox.h"

enum stmt_id {
	ST_PUT,
	ST_REMOVE,
	ST_COUNT,
	ST_LOAD,
	ST_EXPIRED,
	ST_DELETE_EXPIRED,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SYNC_NORMAL,
	ST_SYNC_FULL,
	ST_MAX,
};

static const char *const stmt_sql[ST_MAX] = {
	[ST_PUT] = "INSERT INTO outbox(key, target, payload, fired, expires) "
		   "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(key) DO NOTHING",
	[ST_REMOVE] = "DELETE FROM outbox WHERE key = ?1",
	[ST_COUNT] = "SELECT count(*) FROM outbox",
	[ST_LOAD] = "SELECT key, target, payload, fired, expires FROM outbox ORDER BY fired, rowid",
	[ST_EXPIRED] = "SELECT key, target, payload, fired, expires FROM outbox "
		       "WHERE expires <= ?1 ORDER BY fired, rowid",
	[ST_DELETE_EXPIRED] = "DELETE FROM outbox WHERE expires <= ?1",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
	[ST_SYNC_FULL] = "PRAGMA synchronous = FULL",
};

static const char schema_sql[] =
	"PRAGMA journal_mode = WAL;"
	"PRAGMA synchronous = FULL;"
	"CREATE TABLE IF NOT EXISTS outbox ("
	" key TEXT PRIMARY KEY NOT NULL, target TEXT NOT NULL, payload BLOB NOT NULL,"
	" fired INTEGER NOT NULL, expires INTEGER NOT NULL);";

struct rcp_outbox {
	sqlite3 *db;
	sqlite3_stmt *st[ST_MAX];
};

void rcp_outbox_close(struct rcp_outbox *ob)
{
	if (ob == NULL) {
		return;
	}
	for (size_t i = 0; i < ST_MAX; i++) {
		sqlite3_finalize(ob->st[i]);
	}
	sqlite3_close(ob->db);
	ntm_free(ob);
}

static int prepare(struct rcp_outbox *ob, char *why, size_t whylen)
{
	if (sqlite3_exec(ob->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(why, whylen, "outbox schema: %s", sqlite3_errmsg(ob->db));
		return -EIO;
	}
	for (size_t i = 0; i < ST_MAX; i++) {
		if (sqlite3_prepare_v2(ob->db, stmt_sql[i], -1, &ob->st[i], NULL) != SQLITE_OK) {
			snprintf(why, whylen, "outbox prepare: %s", sqlite3_errmsg(ob->db));
			return -EIO;
		}
	}
	return 0;
}

int rcp_outbox_open(const char *path, struct rcp_outbox **out, char *why, size_t whylen)
{
	struct rcp_outbox *ob;
	int rc;

	*out = NULL;
	ob = ntm_calloc(1, sizeof(*ob));
	if (ob == NULL) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	if (sqlite3_open_v2(path, &ob->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(why, whylen, "%s: %s", path,
			 ob->db != NULL ? sqlite3_errmsg(ob->db) : "out of memory");
		rcp_outbox_close(ob);
		return -EIO;
	}
	sqlite3_busy_timeout(ob->db, 5000);
	rc = prepare(ob, why, whylen);
	if (rc < 0) {
		rcp_outbox_close(ob);
		return rc;
	}
	*out = ob;
	return 0;
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int delete_expired(struct rcp_outbox *ob, int64_t now_s)
{
	sqlite3_stmt *st = ob->st[ST_DELETE_EXPIRED];

	sqlite3_bind_int64(st, 1, now_s);
	return step_done(st);
}

int rcp_outbox_put(struct rcp_outbox *ob, const struct rcp_outbox_entry *e)
{
	sqlite3_stmt *st = ob->st[ST_PUT];
	int rc;

	if (e->key[0] == '\0' || strlen(e->key) > RCP_IDEM_KEY_MAX ||
	    strlen(e->target) > RCP_OUTBOX_TARGET_MAX || e->len > RCP_OUTBOX_PAYLOAD_MAX) {
		return -EMSGSIZE;
	}
	sqlite3_bind_text(st, 1, e->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, e->target, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, e->len > 0 ? e->payload : "", (int)e->len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, e->fired_s);
	sqlite3_bind_int64(st, 5, e->expires_s);
	rc = step_done(st);
	if (rc < 0) {
		return rc;
	}
	return sqlite3_changes(ob->db) == 1 ? 0 : -EEXIST;
}

int rcp_outbox_remove(struct rcp_outbox *ob, const char *key)
{
	sqlite3_stmt *st = ob->st[ST_REMOVE];
	int rc, changes;

	/* Not synced: a removal lost in a crash only repeats an answered delivery. */
	rc = step_done(ob->st[ST_SYNC_NORMAL]);
	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = step_done(st);
	changes = sqlite3_changes(ob->db);
	if (step_done(ob->st[ST_SYNC_FULL]) < 0) {
		return -EIO; /* the next put would not be durable */
	}
	if (rc < 0) {
		return rc;
	}
	return changes == 1 ? 0 : -ENOENT;
}

int rcp_outbox_batch_begin(struct rcp_outbox *ob)
{
	return step_done(ob->st[ST_BEGIN]);
}

int rcp_outbox_batch_commit(struct rcp_outbox *ob)
{
	int rc = step_done(ob->st[ST_COMMIT]);

	if (rc < 0 && !sqlite3_get_autocommit(ob->db)) {
		(void)step_done(ob->st[ST_ROLLBACK]);
	}
	return rc;
}

int rcp_outbox_count(struct rcp_outbox *ob, uint64_t *n)
{
	sqlite3_stmt *st = ob->st[ST_COUNT];
	int rc = sqlite3_step(st);

	*n = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

/* One row into e; the payload is copied. A row that breaks a limit is skipped (-EBADMSG). */
static int read_row(sqlite3_stmt *st, struct rcp_outbox_entry *e)
{
	const unsigned char *key = sqlite3_column_text(st, 0);
	const unsigned char *target = sqlite3_column_text(st, 1);
	const void *blob = sqlite3_column_blob(st, 2);
	int len = sqlite3_column_bytes(st, 2);

	memset(e, 0, sizeof(*e));
	if (key == NULL || target == NULL || strlen((const char *)key) > RCP_IDEM_KEY_MAX ||
	    strlen((const char *)target) > RCP_OUTBOX_TARGET_MAX || len <= 0 ||
	    len > RCP_OUTBOX_PAYLOAD_MAX || blob == NULL) {
		return -EBADMSG;
	}
	snprintf(e->key, sizeof(e->key), "%s", (const char *)key);
	snprintf(e->target, sizeof(e->target), "%s", (const char *)target);
	e->fired_s = sqlite3_column_int64(st, 3);
	e->expires_s = sqlite3_column_int64(st, 4);
	e->payload = ntm_malloc((size_t)len + 1);
	if (e->payload == NULL) {
		return -ENOMEM;
	}
	memcpy(e->payload, blob, (size_t)len);
	e->payload[len] = '\0';
	e->len = (size_t)len;
	return 0;
}

static int each_row(sqlite3_stmt *st, rcp_outbox_load_cb cb, void *arg)
{
	struct rcp_outbox_entry e;
	int rc, step;

	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		rc = read_row(st, &e);
		if (rc == -EBADMSG) {
			continue;
		}
		if (rc == 0) {
			rc = cb(&e, arg);
		}
		if (rc < 0) {
			sqlite3_reset(st);
			return rc;
		}
	}
	sqlite3_reset(st);
	return step == SQLITE_DONE ? 0 : -EIO;
}

int rcp_outbox_load(struct rcp_outbox *ob, rcp_outbox_load_cb cb, void *arg)
{
	return each_row(ob->st[ST_LOAD], cb, arg);
}

struct expired {
	rcp_outbox_load_cb cb;
	void *arg;
	uint64_t n;
};

static int expire_one(struct rcp_outbox_entry *e, void *arg)
{
	struct expired *x = arg;

	(void)x->cb(e, x->arg);
	x->n++;
	return 0;
}

int rcp_outbox_expire(struct rcp_outbox *ob, int64_t now_s, rcp_outbox_load_cb cb, void *arg,
		      uint64_t *n)
{
	struct expired x = { .cb = cb, .arg = arg };
	sqlite3_stmt *st = ob->st[ST_EXPIRED];
	int rc;

	*n = 0;
	sqlite3_bind_int64(st, 1, now_s);
	rc = each_row(st, expire_one, &x);
	sqlite3_clear_bindings(st);
	if (rc < 0) {
		return rc;
	}
	/* Deleted after the walk, with the same bound: nobody else writes meanwhile. */
	*n = x.n;
	return delete_expired(ob, now_s);
}
