/* SPDX-License-Identifier: MIT */
#include "rsstore.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "recipe/recipe.h"
#include "recipe/web/db.h"

/* The db handle first: rcp_db_store_open() fills it. */
struct rcp_rs_store {
	sqlite3 *db;
};

static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32));"
	"CREATE TABLE devices ("
	" id INTEGER PRIMARY KEY,"
	" user INTEGER NOT NULL REFERENCES users (id),"
	" vendor TEXT NOT NULL,"
	" vendor_id TEXT NOT NULL,"
	" fqdn TEXT NOT NULL UNIQUE,"
	" model TEXT NOT NULL,"
	" links TEXT NOT NULL,"
	" UNIQUE (vendor, vendor_id));"
	"CREATE TABLE recipes ("
	" id INTEGER PRIMARY KEY,"
	" user INTEGER NOT NULL REFERENCES users (id),"
	" name TEXT NOT NULL,"
	" text TEXT NOT NULL,"
	" UNIQUE (user, name));"
	"CREATE TABLE deliveries ("
	" recipe INTEGER NOT NULL REFERENCES recipes (id),"
	" fqdn TEXT NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'verified', 'failed')),"
	" PRIMARY KEY (recipe, fqdn));"
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY,"
	" user INTEGER NOT NULL REFERENCES users (id),"
	" time INTEGER NOT NULL,"
	" text TEXT NOT NULL);",
	/*
	 * 1 -> 2: the devices report the state of a delivered recipe: pending
	 * (not delivered yet), verifying (the trigger device waits for its
	 * action devices), active, refused (with the device's reason).
	 */
	"CREATE TABLE deliveries2 ("
	" recipe INTEGER NOT NULL REFERENCES recipes (id),"
	" fqdn TEXT NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('pending', 'verifying', 'active', 'refused')),"
	" reason TEXT NOT NULL DEFAULT '',"
	" PRIMARY KEY (recipe, fqdn));"
	"INSERT INTO deliveries2 (recipe, fqdn, status) SELECT recipe, fqdn, 'pending'"
	" FROM deliveries;"
	"DROP TABLE deliveries;"
	"ALTER TABLE deliveries2 RENAME TO deliveries;",
	/*
	 * 2 -> 3: recipes are deleted and replaced. A recipe is live, deleting
	 * (its devices are told to drop it) or deleted (every device dropped
	 * it: the row stays to show it until the name is taken again); its
	 * version counts the replacements, so that an answer about an older
	 * text is not taken for the newer one. A delivery is 'deleting' until
	 * the device confirms the removal ('deleted').
	 */
	"CREATE TABLE deliveries3 ("
	" recipe INTEGER NOT NULL REFERENCES recipes (id),"
	" fqdn TEXT NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('pending', 'verifying', 'active', 'refused',"
	" 'deleting', 'deleted')),"
	" reason TEXT NOT NULL DEFAULT '',"
	" PRIMARY KEY (recipe, fqdn));"
	"INSERT INTO deliveries3 (recipe, fqdn, status, reason)"
	" SELECT recipe, fqdn, status, reason FROM deliveries;"
	"DROP TABLE deliveries;"
	"ALTER TABLE deliveries3 RENAME TO deliveries;"
	"ALTER TABLE recipes ADD COLUMN state TEXT NOT NULL DEFAULT 'live'"
	" CHECK (state IN ('live', 'deleting', 'deleted'));"
	"ALTER TABLE recipes ADD COLUMN version INTEGER NOT NULL DEFAULT 1;",
};

int rcp_rs_store_open(const char *path, struct rcp_rs_store **out, char *why, size_t whylen)
{
	void *s;
	int rc = rcp_db_store_open(path, migrations,
				   (int)(sizeof(migrations) / sizeof(migrations[0])), sizeof(**out),
				   &s, why, whylen);

	*out = s;
	return rc;
}

void rcp_rs_store_close(struct rcp_rs_store *s)
{
	rcp_db_store_close(s);
}

/* Step a bound write statement to completion and finalise it. */
static int step_done(sqlite3 *db, sqlite3_stmt *st, char *why, size_t whylen)
{
	return rcp_db_step_done(db, st, "already exists", NULL, why, whylen);
}

int rcp_rs_store_add_user(struct rcp_rs_store *s, const char *name,
			  const uint8_t hash[RCP_TOKEN_HASH], char *why, size_t whylen)
{
	sqlite3_stmt *st;
	int rc = rcp_db_prepare(s->db, "INSERT INTO users (name, token_hash) VALUES (?1, ?2)", &st,
				why, whylen);

	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, hash, RCP_TOKEN_HASH, SQLITE_STATIC);
	return step_done(s->db, st, why, whylen);
}

int rcp_rs_store_find_user(struct rcp_rs_store *s, const uint8_t hash[RCP_TOKEN_HASH], int64_t *uid,
			   char *why, size_t whylen)
{
	sqlite3_stmt *st;
	int r, rc = rcp_db_prepare(s->db, "SELECT id FROM users WHERE token_hash = ?1", &st, why,
				   whylen);

	*uid = 0;
	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_blob(st, 1, hash, RCP_TOKEN_HASH, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*uid = sqlite3_column_int64(st, 0);
	} else {
		rc = r == SQLITE_DONE ? -ENOENT : -EIO;
	}
	sqlite3_finalize(st);
	return rc;
}

static int add_event_tx(struct rcp_rs_store *s, int64_t uid, const char *text)
{
	sqlite3_stmt *st;
	char why[64];
	int rc = rcp_db_prepare(s->db, "INSERT INTO events (user, time, text) VALUES (?1, ?2, ?3)",
				&st, why, sizeof(why));

	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
	sqlite3_bind_text(st, 3, text, -1, SQLITE_TRANSIENT);
	return step_done(s->db, st, why, sizeof(why));
}

int rcp_rs_store_add_event(struct rcp_rs_store *s, int64_t uid, const char *text)
{
	return add_event_tx(s, uid, text);
}

/* Run fn inside BEGIN IMMEDIATE .. COMMIT; roll back on failure. */
static int commit_or_rollback(struct rcp_rs_store *s, int rc, char *why, size_t whylen)
{
	if (rc == 0) {
		rc = rcp_db_exec(s->db, "COMMIT", why, whylen);
	}
	rcp_db_rollback(s->db);
	return rc;
}

int rcp_rs_store_add_device(struct rcp_rs_store *s, int64_t uid, const struct rcp_rs_device *d,
			    char *why, size_t whylen)
{
	char ev[512];
	sqlite3_stmt *st;
	int rc = rcp_db_exec(s->db, "BEGIN IMMEDIATE", why, whylen);

	if (rc == 0) {
		rc = rcp_db_prepare(
			s->db,
			"INSERT INTO devices (user, vendor, vendor_id, fqdn, model, links)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
			&st, why, whylen);
	}
	if (rc == 0) {
		sqlite3_bind_int64(st, 1, uid);
		sqlite3_bind_text(st, 2, d->vendor, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, d->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, d->fqdn, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, d->model, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, d->links, -1, SQLITE_STATIC);
		rc = step_done(s->db, st, why, whylen);
	}
	if (rc == 0) {
		snprintf(ev, sizeof(ev), "device %s %s bound as %s (model %s)", d->vendor, d->id,
			 d->fqdn, d->model);
		rc = add_event_tx(s, uid, ev);
	}
	return commit_or_rollback(s, rc, why, whylen);
}

int rcp_rs_store_owns_fqdn(struct rcp_rs_store *s, int64_t uid, const char *fqdn)
{
	sqlite3_stmt *st;
	char why[64];
	int r, rc = rcp_db_prepare(s->db, "SELECT 1 FROM devices WHERE user = ?1 AND fqdn = ?2",
				   &st, why, sizeof(why));

	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, fqdn, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	rc = r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -EIO;
	sqlite3_finalize(st);
	return rc;
}

/*
 * Rows of `sql` (first parameter uid, optional second `arg`) as an array of
 * objects keyed by `cols`; integer columns stay integers.
 */
static int list(struct rcp_rs_store *s, const char *sql, int64_t uid, const char *arg,
		const char *const *cols, struct json_object **out)
{
	struct json_object *arr = json_object_new_array(), *o;
	sqlite3_stmt *st;
	char why[64];
	int r, rc = rcp_db_prepare(s->db, sql, &st, why, sizeof(why));

	*out = NULL;
	if (rc < 0 || arr == NULL) {
		json_object_put(arr);
		sqlite3_finalize(st);
		return rc < 0 ? rc : -ENOMEM;
	}
	sqlite3_bind_int64(st, 1, uid);
	if (arg != NULL) {
		sqlite3_bind_text(st, 2, arg, -1, SQLITE_STATIC);
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		o = json_object_new_object();
		for (int i = 0; cols[i] != NULL; i++) {
			json_object_object_add(
				o, cols[i],
				sqlite3_column_type(st, i) == SQLITE_INTEGER
					? json_object_new_int64(sqlite3_column_int64(st, i))
					: json_object_new_string(
						  (const char *)sqlite3_column_text(st, i)));
		}
		json_object_array_add(arr, o);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		json_object_put(arr);
		return -EIO;
	}
	*out = arr;
	return 0;
}

int rcp_rs_store_list_devices(struct rcp_rs_store *s, int64_t uid, struct json_object **out)
{
	static const char *const cols[] = { "vendor", "id", "fqdn", "model", "links", NULL };

	return list(s,
		    "SELECT vendor, vendor_id, fqdn, model, links FROM devices WHERE user = ?1"
		    " ORDER BY id",
		    uid, NULL, cols, out);
}

int rcp_rs_store_list_recipes(struct rcp_rs_store *s, int64_t uid, struct json_object **out)
{
	static const char *const cols[] = { "name", "devices", "state", NULL };

	return list(s,
		    "SELECT r.name, (SELECT count(*) FROM deliveries d WHERE d.recipe = r.id"
		    " AND d.status != 'deleted'), r.state"
		    " FROM recipes r WHERE r.user = ?1 ORDER BY r.id",
		    uid, NULL, cols, out);
}

int rcp_rs_store_list_events(struct rcp_rs_store *s, int64_t uid, struct json_object **out)
{
	static const char *const cols[] = { "id", "time", "text", NULL };

	return list(s, "SELECT id, time, text FROM events WHERE user = ?1 ORDER BY id", uid, NULL,
		    cols, out);
}

int rcp_rs_store_get_recipe(struct rcp_rs_store *s, int64_t uid, const char *name,
			    struct json_object **out)
{
	static const char *const rcols[] = { "name", "text", "state", "version", NULL };
	static const char *const dcols[] = { "device", "status", "reason", NULL };
	struct json_object *r, *d;
	int rc;

	*out = NULL;
	rc = list(s, "SELECT name, text, state, version FROM recipes WHERE user = ?1 AND name = ?2",
		  uid, name, rcols, &r);
	if (rc < 0) {
		return rc;
	}
	if (json_object_array_length(r) != 1) {
		json_object_put(r);
		return -ENOENT;
	}
	rc = list(s,
		  "SELECT d.fqdn, d.status, d.reason FROM deliveries d JOIN recipes r ON r.id = "
		  "d.recipe"
		  " WHERE r.user = ?1 AND r.name = ?2 ORDER BY d.fqdn",
		  uid, name, dcols, &d);
	if (rc == 0) {
		*out = json_object_get(json_object_array_get_idx(r, 0));
		json_object_object_add(*out, "deliveries", d);
	}
	json_object_put(r);
	return rc;
}

int rcp_rs_store_recipe_texts(struct rcp_rs_store *s, int64_t uid, const char *except, char **out)
{
	sqlite3_stmt *st;
	char why[64], *buf = ntm_strdup(""), *nb;
	size_t len = 0, n;
	int r, rc = rcp_db_prepare(s->db,
				   "SELECT text FROM recipes WHERE user = ?1 AND state = 'live'"
				   " AND name != ?2 ORDER BY id",
				   &st, why, sizeof(why));

	*out = NULL;
	if (rc < 0 || buf == NULL) {
		ntm_free(buf);
		return rc < 0 ? rc : -ENOMEM;
	}
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, except != NULL ? except : "", -1, SQLITE_STATIC);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		n = (size_t)sqlite3_column_bytes(st, 0);
		nb = ntm_realloc(buf, len + n + 2);
		if (nb == NULL) {
			r = SQLITE_NOMEM;
			break;
		}
		buf = nb;
		memcpy(buf + len, sqlite3_column_text(st, 0), n);
		len += n;
		buf[len++] = '\n';
		buf[len] = '\0';
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		ntm_free(buf);
		return r == SQLITE_NOMEM ? -ENOMEM : -EIO;
	}
	*out = buf;
	return 0;
}

/* Run one statement with (?1 int64, ?2 text) bound; text may be NULL. */
static int run_it(struct rcp_rs_store *s, const char *sql, int64_t a, const char *b, char *why,
		  size_t whylen)
{
	sqlite3_stmt *st;
	int rc = rcp_db_prepare(s->db, sql, &st, why, whylen);

	if (rc == 0) {
		sqlite3_bind_int64(st, 1, a);
		if (b != NULL) {
			sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
		}
		rc = step_done(s->db, st, why, whylen);
	}
	return rc;
}

/* A pending delivery of recipe rid to each device (again pending when it was there). */
static int add_deliveries(struct rcp_rs_store *s, int64_t rid, const char *const *fqdns, size_t n,
			  char *why, size_t whylen)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = run_it(s,
			    "INSERT INTO deliveries (recipe, fqdn, status, reason)"
			    " VALUES (?1, ?2, 'pending', '') ON CONFLICT (recipe, fqdn)"
			    " DO UPDATE SET status = 'pending', reason = ''",
			    rid, fqdns[i], why, whylen);
	}
	return rc;
}

int rcp_rs_store_add_recipe(struct rcp_rs_store *s, int64_t uid, const char *name, const char *text,
			    const char *const *fqdns, size_t n, char *why, size_t whylen)
{
	sqlite3_stmt *st;
	char ev[256];
	int64_t rid = 0;
	int rc = rcp_db_exec(s->db, "BEGIN IMMEDIATE", why, whylen);

	/* A recipe deleted from every device leaves its name free. */
	if (rc == 0) {
		rc = run_it(s,
			    "DELETE FROM deliveries WHERE recipe IN (SELECT id FROM recipes"
			    " WHERE user = ?1 AND name = ?2 AND state = 'deleted')",
			    uid, name, why, whylen);
	}
	if (rc == 0) {
		rc = run_it(
			s,
			"DELETE FROM recipes WHERE user = ?1 AND name = ?2 AND state = 'deleted'",
			uid, name, why, whylen);
	}
	if (rc == 0) {
		rc = rcp_db_prepare(s->db,
				    "INSERT INTO recipes (user, name, text) VALUES (?1, ?2, ?3)",
				    &st, why, whylen);
	}
	if (rc == 0) {
		sqlite3_bind_int64(st, 1, uid);
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
		rc = step_done(s->db, st, why, whylen);
		rid = sqlite3_last_insert_rowid(s->db);
	}
	if (rc == 0) {
		rc = add_deliveries(s, rid, fqdns, n, why, whylen);
	}
	if (rc == 0) {
		snprintf(ev, sizeof(ev),
			 "recipe %.64s registered for %zu device(s); delivery pending", name, n);
		rc = add_event_tx(s, uid, ev);
	}
	return commit_or_rollback(s, rc, why, whylen);
}

/* The id and state of uid's recipe `name`, or -ENOENT. */
static int find_recipe(struct rcp_rs_store *s, int64_t uid, const char *name, int64_t *rid,
		       char state[16], char *why, size_t whylen)
{
	sqlite3_stmt *st;
	int r, rc = rcp_db_prepare(s->db,
				   "SELECT id, state FROM recipes WHERE user = ?1 AND name = ?2",
				   &st, why, whylen);

	if (rc < 0) {
		return rc;
	}
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*rid = sqlite3_column_int64(st, 0);
		snprintf(state, 16, "%s", (const char *)sqlite3_column_text(st, 1));
	} else {
		snprintf(why, whylen, "no such recipe");
		rc = r == SQLITE_DONE ? -ENOENT : -EIO;
	}
	sqlite3_finalize(st);
	return rc;
}

/* When no delivery of a deleting recipe is left, it is deleted (and the user told). */
static int finish_deletion(struct rcp_rs_store *s, int64_t uid, int64_t rid, const char *name,
			   char *why, size_t whylen)
{
	char ev[256];
	int rc = run_it(s,
			"UPDATE recipes SET state = 'deleted' WHERE id = ?1 AND state = 'deleting'"
			" AND NOT EXISTS (SELECT 1 FROM deliveries WHERE recipe = ?1"
			" AND status != 'deleted')",
			rid, NULL, why, whylen);

	if (rc == 0 && sqlite3_changes(s->db) > 0) {
		snprintf(ev, sizeof(ev), "recipe %.64s deleted from every device", name);
		rc = add_event_tx(s, uid, ev);
	}
	return rc;
}

int rcp_rs_store_delete_recipe(struct rcp_rs_store *s, int64_t uid, const char *name, char *why,
			       size_t whylen)
{
	char state[16] = "", ev[256];
	int64_t rid = 0;
	int rc = rcp_db_exec(s->db, "BEGIN IMMEDIATE", why, whylen);

	if (rc == 0) {
		rc = find_recipe(s, uid, name, &rid, state, why, whylen);
	}
	if (rc == 0 && strcmp(state, "deleted") == 0) {
		snprintf(why, whylen, "no such recipe (deleted already)");
		rc = -ENOENT;
	}
	if (rc == 0 && strcmp(state, "live") == 0) {
		rc = run_it(s, "UPDATE recipes SET state = 'deleting' WHERE id = ?1", rid, NULL,
			    why, whylen);
		if (rc == 0) {
			rc = run_it(s,
				    "UPDATE deliveries SET status = 'deleting', reason = ''"
				    " WHERE recipe = ?1 AND status != 'deleted'",
				    rid, NULL, why, whylen);
		}
		if (rc == 0) {
			snprintf(ev, sizeof(ev), "recipe %.64s: deletion from its devices pending",
				 name);
			rc = add_event_tx(s, uid, ev);
		}
		if (rc == 0) {
			rc = finish_deletion(s, uid, rid, name, why, whylen);
		}
	}
	return commit_or_rollback(s, rc, why, whylen);
}

int rcp_rs_store_replace_recipe(struct rcp_rs_store *s, int64_t uid, const char *name,
				const char *text, const char *const *fqdns, size_t n, char *why,
				size_t whylen)
{
	char state[16] = "", ev[256];
	int64_t rid = 0;
	int rc = rcp_db_exec(s->db, "BEGIN IMMEDIATE", why, whylen);

	if (rc == 0) {
		rc = find_recipe(s, uid, name, &rid, state, why, whylen);
	}
	if (rc == 0 && strcmp(state, "live") != 0) {
		snprintf(why, whylen, "no such recipe (%s)", state);
		rc = -ENOENT;
	}
	if (rc == 0) {
		rc = run_it(s, "UPDATE recipes SET text = ?2, version = version + 1 WHERE id = ?1",
			    rid, text, why, whylen);
	}
	/* Devices the new text no longer names drop it; the others get it again. */
	if (rc == 0) {
		rc = run_it(s,
			    "UPDATE deliveries SET status = 'deleting', reason = ''"
			    " WHERE recipe = ?1 AND status != 'deleted'",
			    rid, NULL, why, whylen);
	}
	if (rc == 0) {
		rc = add_deliveries(s, rid, fqdns, n, why, whylen);
	}
	if (rc == 0) {
		snprintf(ev, sizeof(ev),
			 "recipe %.64s replaced for %zu device(s); delivery pending", name, n);
		rc = add_event_tx(s, uid, ev);
	}
	return commit_or_rollback(s, rc, why, whylen);
}

int rcp_rs_store_due(struct rcp_rs_store *s, int (*cb)(const struct rcp_rs_delivery *d, void *arg),
		     void *arg)
{
	sqlite3_stmt *st;
	char why[64];
	int r, rc = rcp_db_prepare(
		       s->db,
		       "SELECT r.id, r.name, r.text, d.fqdn, d.status, r.version FROM deliveries d"
		       " JOIN recipes r ON r.id = d.recipe"
		       " WHERE d.status IN ('pending', 'verifying', 'deleting') ORDER BY r.id, "
		       "d.fqdn",
		       &st, why, sizeof(why));

	if (rc < 0) {
		return rc;
	}
	while (rc == 0 && (r = sqlite3_step(st)) == SQLITE_ROW) {
		const struct rcp_rs_delivery d = {
			.recipe = sqlite3_column_int64(st, 0),
			.name = (const char *)sqlite3_column_text(st, 1),
			.text = (const char *)sqlite3_column_text(st, 2),
			.fqdn = (const char *)sqlite3_column_text(st, 3),
			.status = (const char *)sqlite3_column_text(st, 4),
			.version = sqlite3_column_int64(st, 5),
		};

		if (d.name == NULL || d.text == NULL || d.fqdn == NULL || d.status == NULL) {
			rc = -ENOMEM;
			break;
		}
		rc = cb(&d, arg);
	}
	if (rc == 0 && r != SQLITE_DONE) {
		rc = -EIO;
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Only an answer to what the server asked for counts: about this version of
 * the text, 'deleted' for a delivery being deleted, the other states for one
 * being delivered.
 */
static int update_delivery(struct rcp_rs_store *s, int64_t recipe, int64_t version,
			   const char *fqdn, const char *status, const char *reason, char *why,
			   size_t whylen)
{
	sqlite3_stmt *st;
	int rc =
		rcp_db_prepare(s->db,
			       "UPDATE deliveries SET status = ?3, reason = ?4"
			       " WHERE recipe = ?1 AND fqdn = ?2 AND (status != ?3 OR reason != ?4)"
			       " AND (SELECT version FROM recipes WHERE id = ?1) = ?5"
			       " AND ((?3 = 'deleted' AND status = 'deleting') OR"
			       " (?3 != 'deleted' AND status IN ('pending', 'verifying')))",
			       &st, why, whylen);

	if (rc == 0) {
		sqlite3_bind_int64(st, 1, recipe);
		sqlite3_bind_text(st, 2, fqdn, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, version);
		rc = step_done(s->db, st, why, whylen);
	}
	return rc < 0 ? rc : sqlite3_changes(s->db);
}

int rcp_rs_store_set_delivery(struct rcp_rs_store *s, int64_t recipe, int64_t version,
			      const char *fqdn, const char *status, const char *reason, char *why,
			      size_t whylen)
{
	sqlite3_stmt *st;
	char ev[1024], name[RCP_NAME_MAX + 1] = "";
	int64_t uid = 0;
	int changed = 0, rc = rcp_db_exec(s->db, "BEGIN IMMEDIATE", why, whylen);

	if (rc == 0) {
		changed = update_delivery(s, recipe, version, fqdn, status, reason, why, whylen);
		rc = changed < 0 ? changed : 0;
	}
	if (rc == 0 && changed > 0) {
		rc = rcp_db_prepare(s->db, "SELECT user, name FROM recipes WHERE id = ?1", &st, why,
				    whylen);
		if (rc == 0) {
			sqlite3_bind_int64(st, 1, recipe);
			if (sqlite3_step(st) == SQLITE_ROW) {
				uid = sqlite3_column_int64(st, 0);
				snprintf(name, sizeof(name), "%s",
					 (const char *)sqlite3_column_text(st, 1));
				snprintf(ev, sizeof(ev), "recipe %.64s on %.253s: %s%s%.400s", name,
					 fqdn, status, reason[0] != '\0' ? ": " : "", reason);
			}
			sqlite3_finalize(st);
		}
	}
	if (rc == 0 && uid > 0) {
		rc = add_event_tx(s, uid, ev);
	}
	if (rc == 0 && uid > 0 && strcmp(status, "deleted") == 0) {
		rc = finish_deletion(s, uid, recipe, name, why, whylen);
	}
	return commit_or_rollback(s, rc, why, whylen);
}
