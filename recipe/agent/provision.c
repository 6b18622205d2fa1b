/* SPDX-License-Identifier: MIT */
#include "recipe/agent/provision.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "recipe/agent/hook.h"
#include "recipe/web/httpc.h"
#include "recipe/web/jreq.h"
#include "recipe/web/token.h"

enum { BODY_MAX = 8192 };

/* "http://HOST[:PORT][/...]" -> HOST; "" for anything else. */
static void url_host(const char *url, char host[RCP_FQDN_MAX + 1])
{
	const char *h = strncmp(url, "http://", 7) == 0 ? url + 7 : NULL;
	size_t n = h != NULL ? strcspn(h, ":/") : 0;

	host[0] = '\0';
	if (n > 0 && n <= RCP_FQDN_MAX) {
		memcpy(host, h, n);
		host[n] = '\0';
		for (size_t i = 0; i < n; i++) {
			host[i] = host[i] >= 'A' && host[i] <= 'Z' ? (char)(host[i] - 'A' + 'a')
								   : host[i];
		}
		if (!rcp_jreq_is_fqdn(host)) {
			host[0] = '\0';
		}
	}
}

int rcp_provision_parse(const char *body, size_t len, struct rcp_provisioning *out, char *why,
			size_t whylen)
{
	static const char *const keys[] = {
		"id", "fqdn", "public_key", "dc", "recipe_server", NULL
	};
	static const char *const dckeys[] = { "endpoint", "public_key", NULL };
	const char *fqdn = NULL, *ep = NULL, *key = NULL, *rs = NULL;
	struct json_object *o = NULL, *dc = NULL;
	int rc = rcp_jreq_parse_only(body, len, BODY_MAX, keys, &o, why, whylen);

	memset(out, 0, sizeof(*out));
	if (rc == 0) {
		rc = rcp_jreq_string(o, "fqdn", RCP_FQDN_MAX, true, &fqdn, why, whylen);
	}
	if (rc == 0) {
		rc = rcp_jreq_string(o, "recipe_server", 255, false, &rs, why, whylen);
	}
	if (rc == 0 && (!json_object_object_get_ex(o, "dc", &dc) ||
			!json_object_is_type(dc, json_type_object))) {
		snprintf(why, whylen, "\"dc\": expected an object");
		rc = -EINVAL;
	}
	if (rc == 0) {
		rc = rcp_jreq_only(dc, dckeys, why, whylen);
	}
	if (rc == 0) {
		rc = rcp_jreq_string(dc, "endpoint", sizeof(out->dc_endpoint) - 1, true, &ep, why,
				     whylen);
	}
	if (rc == 0) {
		rc = rcp_jreq_string(dc, "public_key", sizeof(out->dc_key) - 1, true, &key, why,
				     whylen);
	}
	if (rc == 0 && (!rcp_jreq_is_fqdn(fqdn) || strpbrk(ep, " \t=#;[]") == ep ||
			strpbrk(key, " \t#;") != NULL)) {
		snprintf(why, whylen, "invalid fqdn, DC endpoint or DC key");
		rc = -EINVAL;
	}
	if (rc == 0) {
		snprintf(out->fqdn, sizeof(out->fqdn), "%s", fqdn);
		snprintf(out->dc_endpoint, sizeof(out->dc_endpoint), "%s", ep);
		snprintf(out->dc_key, sizeof(out->dc_key), "%s", key);
		if (rs != NULL) {
			url_host(rs, out->recipe_host);
		}
	}
	json_object_put(o);
	return rc;
}

/* ---------------------------------------------------------------- store */

static int db_open(const char *path, sqlite3 **db, char *why, size_t whylen)
{
	if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
		    SQLITE_OK ||
	    sqlite3_busy_timeout(*db, 5000) != SQLITE_OK ||
	    sqlite3_exec(*db,
			 "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
			 "CREATE TABLE IF NOT EXISTS provisioning ("
			 " id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);",
			 NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(why, whylen, "%s: provisioning: %s", path,
			 *db != NULL ? sqlite3_errmsg(*db) : "out of memory");
		return -EIO;
	}
	return 0;
}

/* The stored answer (ntm_free), or NULL when the device has none yet. */
static int db_load(sqlite3 *db, char **body)
{
	sqlite3_stmt *st = NULL;
	int r;

	*body = NULL;
	if (sqlite3_prepare_v2(db, "SELECT body FROM provisioning WHERE id = 1", -1, &st, NULL) !=
	    SQLITE_OK) {
		return -EIO;
	}
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*body = ntm_strdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	return r == SQLITE_ROW ? (*body != NULL ? 0 : -ENOMEM) : r == SQLITE_DONE ? 0 : -EIO;
}

static int db_store(sqlite3 *db, const char *body)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO provisioning (id, body) VALUES (1, ?1)",
			       -1, &st, NULL) != SQLITE_OK) {
		return -EIO;
	}
	sqlite3_bind_text(st, 1, body, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -EIO;
}

/* ---------------------------------------------------------------- fetch */

static int fetch(const struct rcp_agent_config *cfg, char **body, char *why, size_t whylen)
{
	const struct timespec pause = { RCP_PROVISION_PAUSE_MS / 1000,
					(RCP_PROVISION_PAUSE_MS % 1000) * 1000000L };
	struct rcp_httpc_resp r = { 0 };
	char secret[RCP_TOKEN_TEXT];
	int rc = rcp_token_read_file(cfg->prov_secret_file, secret, why, whylen);

	*body = NULL;
	for (unsigned i = 0; rc == 0 && i < RCP_PROVISION_TRIES; i++) {
		rc = rcp_httpc_request(cfg->prov_devmgr, "GET", "/v1/provisioning", secret, NULL,
				       NULL, 0, &r, why, whylen);
		if (rc == 0 && r.status == 200) {
			*body = r.body;
			break;
		}
		if (rc == 0) {
			snprintf(why, whylen, "%s answered %u", cfg->prov_devmgr, r.status);
			ntm_free(r.body);
			rc = r.status == 401 ? -EACCES : -EPROTO;
			break; /* an answer that is not 200 will not change */
		}
		ntm_log_info("provisioning: %s; trying again", why);
		rc = 0;
		nanosleep(&pause, NULL);
	}
	if (rc == 0 && *body == NULL) {
		rc = -ETIMEDOUT;
	}
	sodium_memzero(secret, sizeof(secret));
	return rc;
}

/* The node's configuration, written once (0600, atomically). */
static int write_node_config(const struct rcp_agent_config *cfg, const struct rcp_provisioning *p,
			     char *why, size_t whylen)
{
	char tmp[4096];
	FILE *f;
	int fd;

	if (access(cfg->prov_node_config, F_OK) == 0) {
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "%s.new", cfg->prov_node_config);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (f == NULL) {
		snprintf(why, whylen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		return -EIO;
	}
	fprintf(f, "# written by ntm-agent from the provisioning of %s\n", cfg->prov_devmgr);
	fprintf(f, "[Interface]\nPrivateKeyFile = %s\nName = %s\n\n", cfg->prov_node_key, p->fqdn);
	fprintf(f, "[DC]\nEndpoint = %s\nPublicKey = %s\n", p->dc_endpoint, p->dc_key);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 ||
	    rename(tmp, cfg->prov_node_config) != 0) {
		snprintf(why, whylen, "%s: %s", cfg->prov_node_config, strerror(errno));
		return -EIO;
	}
	ntm_log_info("provisioning: wrote %s", cfg->prov_node_config);
	return 0;
}

/*
 * OnProvisioned, after the provisioning is stored: the device's init starts
 * the node from here (e.g. systemctl enable --now ntm-node@ntm0). Its
 * failure is logged, not fatal: the agent serves its resources either way
 * and the administrator can start the node by hand.
 */
static void run_hook(const struct rcp_agent_config *cfg, const struct rcp_provisioning *p)
{
	char conf[4096 + 32], fqdn[RCP_FQDN_MAX + 32], why[256];
	const char *const env[] = { conf, fqdn, NULL };
	int rc;

	if (cfg->prov_hook == NULL) {
		ntm_log_info("provisioning: no OnProvisioned; start ntm-node with %s",
			     cfg->prov_node_config);
		return;
	}
	snprintf(conf, sizeof(conf), "NTM_NODE_CONFIG=%s", cfg->prov_node_config);
	snprintf(fqdn, sizeof(fqdn), "NTM_NODE_NAME=%s", p->fqdn);
	ntm_log_info("provisioning: running OnProvisioned: %s", cfg->prov_hook);
	rc = rcp_hook_run(cfg->prov_hook, env, cfg->prov_hook_timeout_s * 1000u, why, sizeof(why));
	if (rc == 0) {
		ntm_log_info("provisioning: OnProvisioned %s", why);
	} else {
		ntm_log_err("provisioning: OnProvisioned failed: %s", why);
	}
}

int rcp_provision_run(struct rcp_agent_config *cfg, char *why, size_t whylen)
{
	struct rcp_provisioning p;
	sqlite3 *db = NULL;
	char *body = NULL;
	bool fetched = false;
	int rc;

	if (cfg->prov_devmgr == NULL) {
		return 0;
	}
	rc = db_open(cfg->database, &db, why, whylen);
	if (rc == 0) {
		rc = db_load(db, &body);
	}
	if (rc == 0 && body == NULL) {
		ntm_log_info("provisioning: asking %s", cfg->prov_devmgr);
		rc = fetch(cfg, &body, why, whylen);
		fetched = rc == 0;
	}
	if (rc == 0) {
		rc = rcp_provision_parse(body, strlen(body), &p, why, whylen);
	}
	if (rc == 0 && strcasecmp(p.fqdn, cfg->fqdn) != 0) {
		snprintf(why, whylen, "provisioning is for %.253s, not %.253s", p.fqdn, cfg->fqdn);
		rc = -EINVAL;
	}
	if (rc == 0) {
		rc = write_node_config(cfg, &p, why, whylen);
	}
	if (rc == 0 && fetched) {
		rc = db_store(db, body);
		if (rc < 0) {
			snprintf(why, whylen, "%s: cannot store the provisioning", cfg->database);
		} else {
			ntm_log_info("provisioning: %s, DC %s, recipe server %s", p.fqdn,
				     p.dc_endpoint, p.recipe_host[0] ? p.recipe_host : "none");
			run_hook(cfg, &p);
		}
	}
	if (rc == 0 && cfg->recipe_server[0] == '\0') {
		snprintf(cfg->recipe_server, sizeof(cfg->recipe_server), "%s", p.recipe_host);
	}
	ntm_free(body);
	sqlite3_close(db);
	return rc;
}
