/* SPDX-License-Identifier: MIT */
#include "recipe/agent/rstore.h"

#include <sqlite3.h>
#include <stdio.h>

#include "common/alloc.h"

static const char schema_sql[] =
	"PRAGMA journal_mode = WAL;"
	"PRAGMA synchronous = FULL;"
	"CREATE TABLE IF NOT EXISTS installed ("
	" name TEXT PRIMARY KEY NOT NULL, text TEXT NOT NULL,"
	" state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 2), reason TEXT NOT NULL);";

struct rcp_rstore {
	sqlite3 *db;
	sqlite3_stmt *put, *load, *del;
};

const char *rcp_inst_state_str(enum rcp_inst_state st)
{
	switch (st) {
	case RCP_INST_ACTIVE:
		return "active";
	case RCP_INST_REFUSED:
		return "refused";
	case RCP_INST_VERIFYING:
	default:
		return "verifying";
	}
}

void rcp_rstore_close(struct rcp_rstore *s)
{
	if (s == NULL) {
		return;
	}
	sqlite3_finalize(s->put);
	sqlite3_finalize(s->load);
	sqlite3_finalize(s->del);
	sqlite3_close(s->db);
	ntm_free(s);
}

int rcp_rstore_open(const char *path, struct rcp_rstore **out, char *why, size_t whylen)
{
	struct rcp_rstore *s = ntm_calloc(1, sizeof(*s));

	*out = NULL;
	if (s == NULL) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
		    SQLITE_OK ||
	    sqlite3_busy_timeout(s->db, 5000) != SQLITE_OK ||
	    sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
			       "INSERT OR REPLACE INTO installed (name, text, state, reason)"
			       " VALUES (?1, ?2, ?3, ?4)",
			       -1, &s->put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db,
			       "SELECT name, text, state, reason FROM installed ORDER BY rowid", -1,
			       &s->load, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->db, "DELETE FROM installed WHERE name = ?1", -1, &s->del, NULL) !=
		    SQLITE_OK) {
		snprintf(why, whylen, "%s: installed recipes: %s", path,
			 s->db != NULL ? sqlite3_errmsg(s->db) : "out of memory");
		rcp_rstore_close(s);
		return -EIO;
	}
	*out = s;
	return 0;
}

int rcp_rstore_put(struct rcp_rstore *s, const char *name, const char *text,
		   enum rcp_inst_state state, const char *reason)
{
	int r;

	sqlite3_bind_text(s->put, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->put, 2, text, -1, SQLITE_STATIC);
	sqlite3_bind_int(s->put, 3, (int)state);
	sqlite3_bind_text(s->put, 4, reason != NULL ? reason : "", -1, SQLITE_STATIC);
	r = sqlite3_step(s->put);
	sqlite3_reset(s->put);
	sqlite3_clear_bindings(s->put);
	return r == SQLITE_DONE ? 0 : -EIO;
}

int rcp_rstore_delete(struct rcp_rstore *s, const char *name)
{
	int r;

	sqlite3_bind_text(s->del, 1, name, -1, SQLITE_STATIC);
	r = sqlite3_step(s->del);
	sqlite3_reset(s->del);
	sqlite3_clear_bindings(s->del);
	return r == SQLITE_DONE ? 0 : -EIO;
}

int rcp_rstore_load(struct rcp_rstore *s, int (*cb)(const struct rcp_rstore_row *row, void *arg),
		    void *arg)
{
	int r, rc = 0;

	while (rc == 0 && (r = sqlite3_step(s->load)) == SQLITE_ROW) {
		int st = sqlite3_column_int(s->load, 2);
		const struct rcp_rstore_row row = {
			.name = (const char *)sqlite3_column_text(s->load, 0),
			.text = (const char *)sqlite3_column_text(s->load, 1),
			.state = st >= 0 && st <= 2 ? (enum rcp_inst_state)st : RCP_INST_REFUSED,
			.reason = (const char *)sqlite3_column_text(s->load, 3),
		};

		if (row.name == NULL || row.text == NULL || row.reason == NULL) {
			rc = -ENOMEM;
			break;
		}
		rc = cb(&row, arg);
	}
	if (rc == 0 && r != SQLITE_DONE) {
		rc = -EIO;
	}
	sqlite3_reset(s->load);
	return rc;
}
