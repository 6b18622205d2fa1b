/* SPDX-License-Identifier: MIT */
/*
 * The idempotency store (idem.h) on SQLite. Statements are prepared once;
 * each call is one autocommit statement. The connection runs in WAL mode
 * with synchronous=FULL (every commit waits for the disk), except
 * rcp_idem_finish(), which switches to NORMAL for its one statement: the
 * result is written to the WAL but not synced, and the next FULL commit
 * (or a checkpoint) syncs it with everything before it, in order.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/agent/idem.h"

enum stmt_id {
	ST_INSERT,
	ST_SELECT,
	ST_FINISH,
	ST_COUNT,
	ST_SEQ_LOAD,
	ST_SEQ_STORE,
	ST_PRUNE,
	ST_SEQ_SET,
	ST_SYNC_NORMAL,
	ST_SYNC_FULL,
	ST_MAX,
};

static const char *const stmt_sql[ST_MAX] = {
	[ST_INSERT] = "INSERT INTO action(key, sender, resource, state, code, result) "
		      "VALUES (?1, ?2, ?3, 0, 0, '') ON CONFLICT(key) DO NOTHING",
	[ST_SELECT] = "SELECT state, code, result FROM action WHERE key = ?1",
	[ST_FINISH] = "UPDATE action SET state = 1, code = ?2, result = ?3 "
		      "WHERE key = ?1 AND state = 0",
	[ST_COUNT] = "SELECT count(*) FROM action",
	[ST_SEQ_LOAD] = "SELECT value FROM meta WHERE name = 'seq'",
	[ST_SEQ_STORE] = "INSERT INTO meta(name, value) VALUES ('seq', ?1) "
			 "ON CONFLICT(name) DO UPDATE SET value = max(value, excluded.value)",
	[ST_PRUNE] =
		"DELETE FROM action WHERE created < CAST(strftime('%s', 'now') AS INTEGER) - ?1",
	[ST_SEQ_SET] = "INSERT INTO meta(name, value) VALUES ('seq', ?1) "
		       "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
	[ST_SYNC_NORMAL] = "PRAGMA synchronous = NORMAL",
	[ST_SYNC_FULL] = "PRAGMA synchronous = FULL",
};

static const char schema_sql[] =
	"PRAGMA journal_mode = WAL;"
	"PRAGMA synchronous = FULL;"
	"CREATE TABLE IF NOT EXISTS action ("
	" key TEXT PRIMARY KEY NOT NULL, sender TEXT NOT NULL, resource TEXT NOT NULL,"
	" state INTEGER NOT NULL, code INTEGER NOT NULL, result TEXT NOT NULL,"
	" created INTEGER NOT NULL DEFAULT (strftime('%s', 'now')));"
	"CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);";

struct rcp_idem {
	sqlite3 *db;
	sqlite3_stmt *st[ST_MAX];
};

void rcp_idem_close(struct rcp_idem *s)
{
	if (s == NULL) {
		return;
	}
	for (size_t i = 0; i < ST_MAX; i++) {
		sqlite3_finalize(s->st[i]);
	}
	sqlite3_close(s->db);
	ntm_free(s);
}

static int prepare(struct rcp_idem *s, char *why, size_t whylen)
{
	if (sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(why, whylen, "schema: %s", sqlite3_errmsg(s->db));
		return -EIO;
	}
	for (size_t i = 0; i < ST_MAX; i++) {
		if (sqlite3_prepare_v2(s->db, stmt_sql[i], -1, &s->st[i], NULL) != SQLITE_OK) {
			snprintf(why, whylen, "prepare: %s", sqlite3_errmsg(s->db));
			return -EIO;
		}
	}
	return 0;
}

int rcp_idem_open(const char *path, struct rcp_idem **out, char *why, size_t whylen)
{
	struct rcp_idem *s;
	int rc;

	*out = NULL;
	s = ntm_calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(why, whylen, "%s: %s", path,
			 s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
		rcp_idem_close(s);
		return -EIO;
	}
	sqlite3_busy_timeout(s->db, 5000);
	rc = prepare(s, why, whylen);
	if (rc < 0) {
		rcp_idem_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* Step a statement that returns no row; reset it whatever happens. */
static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int lookup(struct rcp_idem *s, const char *key, struct rcp_idem_record *rec)
{
	sqlite3_stmt *st = s->st[ST_SELECT];
	const unsigned char *txt;
	int rc;

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rec->state = sqlite3_column_int(st, 0) == 1 ? RCP_IDEM_DONE : RCP_IDEM_PENDING;
		rec->code = (unsigned)sqlite3_column_int(st, 1);
		txt = sqlite3_column_text(st, 2);
		snprintf(rec->result, sizeof(rec->result), "%s",
			 txt != NULL ? (const char *)txt : "");
		rc = 0;
	} else {
		rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int rcp_idem_begin(struct rcp_idem *s, const char *key, const char *sender, const char *resource,
		   struct rcp_idem_record *rec)
{
	sqlite3_stmt *st = s->st[ST_INSERT];
	int rc;

	memset(rec, 0, sizeof(*rec));
	if (strlen(key) > RCP_IDEM_KEY_MAX || key[0] == '\0') {
		return -EINVAL;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sender, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, resource, -1, SQLITE_STATIC);
	rc = step_done(st);
	if (rc < 0) {
		return rc;
	}
	if (sqlite3_changes(s->db) == 1) {
		return 0;
	}
	rc = lookup(s, key, rec);
	return rc < 0 ? -EIO : -EEXIST;
}

int rcp_idem_finish(struct rcp_idem *s, const char *key, unsigned code, const char *result)
{
	sqlite3_stmt *st = s->st[ST_FINISH];
	size_t n = strlen(result);
	int rc, changes;

	/* Not synced: a result lost in a crash leaves the key PENDING, never re-run. */
	rc = step_done(s->st[ST_SYNC_NORMAL]);
	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)code);
	sqlite3_bind_text(st, 3, result, (int)(n > RCP_IDEM_RESULT_MAX ? RCP_IDEM_RESULT_MAX : n),
			  SQLITE_STATIC);
	rc = step_done(st);
	changes = sqlite3_changes(s->db);
	/* Back to FULL, or the next begin would not be durable before its action. */
	if (step_done(s->st[ST_SYNC_FULL]) < 0) {
		return -EIO;
	}
	if (rc < 0) {
		return rc;
	}
	return changes == 1 ? 0 : -ENOENT;
}

static int one_int(sqlite3_stmt *st, uint64_t *out)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int rcp_idem_count(struct rcp_idem *s, uint64_t *n)
{
	*n = 0;
	return one_int(s->st[ST_COUNT], n);
}

int rcp_idem_seq_load(struct rcp_idem *s, uint64_t *seq)
{
	*seq = 0;
	return one_int(s->st[ST_SEQ_LOAD], seq);
}

int rcp_idem_seq_store(struct rcp_idem *s, uint64_t seq)
{
	sqlite3_stmt *st = s->st[ST_SEQ_STORE];

	if (seq > INT64_MAX) {
		return -ERANGE;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	return step_done(st);
}

int rcp_idem_seq_set(struct rcp_idem *s, uint64_t seq)
{
	sqlite3_stmt *st = s->st[ST_SEQ_SET];

	if (seq > INT64_MAX) {
		return -ERANGE;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	return step_done(st);
}

int rcp_idem_prune(struct rcp_idem *s, uint32_t age_s, uint64_t *removed)
{
	sqlite3_stmt *st = s->st[ST_PRUNE];
	int rc;

	*removed = 0;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)age_s);
	rc = step_done(st);
	if (rc == 0) {
		*removed = (uint64_t)sqlite3_changes(s->db);
	}
	return rc;
}
