/* SPDX-License-Identifier: MIT */
#include "dmapi.h"

#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "recipe/web/jreq.h"

enum { WHY_MAX = 256 };

static void add_str(struct json_object *o, const char *k, const char *v)
{
	(void)json_object_object_add(o, k, json_object_new_string(v));
}

static unsigned status_of(int rc)
{
	switch (rc) {
	case -EEXIST:
		return 409;
	case -ENOENT:
		return 404;
	case -EINVAL:
	case -EMSGSIZE:
		return 400;
	default:
		return 500;
	}
}

static void post_model(struct rcp_dm_api *api, const struct rcp_http_req *req,
		       struct rcp_http_resp *resp)
{
	struct rcp_dm_model *m = ntm_malloc(sizeof(*m));
	char why[WHY_MAX] = "";
	int rc = m != NULL ? rcp_dm_parse_model(req->body, req->body_len, m, why, sizeof(why))
			   : -ENOMEM;
	struct json_object *o;

	if (rc == 0) {
		rc = rcp_dm_store_put_model(api->store, m, why, sizeof(why));
	}
	if (rc < 0) {
		rcp_http_error(resp, status_of(rc), "%s", why);
	} else {
		ntm_log_info("model %s: API list stored", m->name);
		o = json_object_new_object();
		add_str(o, "name", m->name);
		rcp_http_json(resp, 201, o);
	}
	ntm_free(m);
}

static void post_device(struct rcp_dm_api *api, const struct rcp_http_req *req,
			struct rcp_http_resp *resp)
{
	struct rcp_dm_device d;
	uint8_t hash[RCP_TOKEN_HASH];
	char secret[RCP_TOKEN_TEXT], why[WHY_MAX] = "";
	struct json_object *o;
	int rc = rcp_dm_parse_device(req->body, req->body_len, &d, why, sizeof(why));

	if (rc == 0) {
		rcp_token_generate(secret);
		rcp_token_hash(secret, hash);
		rc = rcp_dm_store_add_device(api->store, &d, hash, why, sizeof(why));
	}
	if (rc < 0) {
		rcp_http_error(resp, status_of(rc), "%s", why);
		return;
	}
	ntm_log_info("device %s (%s, model %s) added", d.id, d.fqdn, d.model);
	o = json_object_new_object();
	add_str(o, "id", d.id);
	add_str(o, "provisioning_secret", secret);
	rcp_http_json(resp, 201, o);
	sodium_memzero(secret, sizeof(secret));
}

static void get_device(struct rcp_dm_api *api, const char *id, struct rcp_http_resp *resp)
{
	struct rcp_dm_model *m = ntm_malloc(sizeof(*m));
	struct rcp_dm_device d;
	char why[WHY_MAX] = "";
	struct json_object *o;
	int rc = -ENOMEM;

	if (m != NULL) {
		rc = rcp_jreq_is_ident(id, RCP_DM_ID_MAX)
			     ? rcp_dm_store_get_device(api->store, id, &d, m, why, sizeof(why))
			     : (snprintf(why, sizeof(why), "no such device"), -ENOENT);
	}
	if (rc < 0) {
		rcp_http_error(resp, status_of(rc), "%s", why);
	} else {
		o = json_object_new_object();
		add_str(o, "id", d.id);
		add_str(o, "model", d.model);
		add_str(o, "fqdn", d.fqdn);
		add_str(o, "links", m->links);
		rcp_http_json(resp, 200, o);
	}
	ntm_free(m);
}

static void get_provisioning(struct rcp_dm_api *api, const char *token, struct rcp_http_resp *resp)
{
	struct rcp_dm_device d;
	uint8_t hash[RCP_TOKEN_HASH];
	char why[WHY_MAX] = "";
	struct json_object *o, *dc;
	int rc;

	if (!rcp_token_is_valid(token)) {
		rcp_http_error(resp, 401, "a device provisioning secret is required");
		return;
	}
	rcp_token_hash(token, hash);
	rc = rcp_dm_store_find_secret(api->store, hash, &d, why, sizeof(why));
	if (rc == -ENOENT) {
		rcp_http_error(resp, 401, "unknown provisioning secret");
		return;
	}
	if (rc < 0) {
		rcp_http_error(resp, 500, "%s", why);
		return;
	}
	ntm_log_info("device %s fetched its provisioning", d.id);
	o = json_object_new_object();
	dc = json_object_new_object();
	add_str(o, "id", d.id);
	add_str(o, "fqdn", d.fqdn);
	add_str(o, "public_key", d.public_key);
	add_str(dc, "endpoint", d.dc_endpoint);
	add_str(dc, "public_key", d.dc_key);
	(void)json_object_object_add(o, "dc", dc);
	add_str(o, "recipe_server", d.recipe_server);
	rcp_http_json(resp, 200, o);
}

static bool is_method(const struct rcp_http_req *req, const char *m, struct rcp_http_resp *resp)
{
	if (strcmp(req->method, m) != 0) {
		rcp_http_error(resp, 405, "use %s", m);
		return false;
	}
	return true;
}

static bool is_admin(struct rcp_dm_api *api, const struct rcp_http_req *req,
		     struct rcp_http_resp *resp)
{
	if (!rcp_token_matches(req->token, api->admin_hash)) {
		rcp_http_error(resp, 401, "the admin token is required");
		return false;
	}
	return true;
}

void rcp_dm_api_handle(void *ctx, const struct rcp_http_req *req, struct rcp_http_resp *resp)
{
	static const char devices[] = "/v1/devices/";
	struct rcp_dm_api *api = ctx;

	if (strcmp(req->path, "/v1/models") == 0) {
		if (is_admin(api, req, resp) && is_method(req, "POST", resp)) {
			post_model(api, req, resp);
		}
	} else if (strcmp(req->path, "/v1/devices") == 0) {
		if (is_admin(api, req, resp) && is_method(req, "POST", resp)) {
			post_device(api, req, resp);
		}
	} else if (strncmp(req->path, devices, sizeof(devices) - 1) == 0) {
		if (!rcp_token_matches(req->token, api->server_hash)) {
			rcp_http_error(resp, 401, "a recipe-server token is required");
		} else if (is_method(req, "GET", resp)) {
			get_device(api, req->path + sizeof(devices) - 1, resp);
		}
	} else if (strcmp(req->path, "/v1/provisioning") == 0) {
		if (req->token == NULL) {
			rcp_http_error(resp, 401, "a device provisioning secret is required");
		} else if (is_method(req, "GET", resp)) {
			get_provisioning(api, req->token, resp);
		}
	} else {
		rcp_http_error(resp, 404, "no such resource");
	}
}
