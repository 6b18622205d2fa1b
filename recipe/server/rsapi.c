/* SPDX-License-Identifier: MIT */
#include "rsapi.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "common/alloc.h"
#include "common/log.h"
#include "recipe/devmgr/dmreq.h"
#include "recipe/web/httpc.h"
#include "recipe/web/jreq.h"

enum { WHY_MAX = 512, BODY_MAX = 16384 };

static unsigned status_of(int rc)
{
	return rc == -EEXIST	 ? 409
	       : rc == -ENOENT	 ? 404
	       : rc == -EINVAL	 ? 400
	       : rc == -EMSGSIZE ? 413
				 : 500;
}

int rcp_rs_devmgr_lookup(void *ctx, const struct rcp_rs_vendor *v, const char *id,
			 struct rcp_http_resp *resp, char *why, size_t whylen)
{
	struct rcp_httpc_resp r;
	char path[128];
	int rc;

	snprintf(path, sizeof(path), "/v1/devices/%s", id);
	rc = rcp_httpc_request(v->url, "GET", path, v->token, NULL, NULL, 0, &r, why, whylen);
	if (rc == 0) {
		resp->status = r.status;
		resp->body = r.body;
	}
	return rc;
}

int rcp_rs_parse_devmgr_device(const char *body, size_t len, struct json_object **owner,
			       struct rcp_rs_device *d, char *why, size_t whylen)
{
	static const char *const keys[] = { "id", "model", "fqdn", "links", NULL };
	int rc = rcp_jreq_parse_only(body, len, BODY_MAX, keys, owner, why, whylen);

	memset(d, 0, sizeof(*d));
	if (rc == 0) {
		rc = rcp_jreq_string(*owner, "id", RCP_DM_ID_MAX, true, &d->id, why, whylen);
	}
	if (rc == 0) {
		rc = rcp_jreq_string(*owner, "model", RCP_DM_ID_MAX, true, &d->model, why, whylen);
	}
	if (rc == 0) {
		rc = rcp_jreq_string(*owner, "fqdn", RCP_FQDN_MAX, true, &d->fqdn, why, whylen);
	}
	if (rc == 0) {
		rc = rcp_jreq_string(*owner, "links", RCP_DM_LINKS_MAX, true, &d->links, why,
				     whylen);
	}
	if (rc == 0 && (!rcp_jreq_is_fqdn(d->fqdn) || !rcp_dm_links_ok(d->links))) {
		snprintf(why, whylen, "the devmgr sent an invalid FQDN or API list");
		rc = -EINVAL;
	}
	if (rc < 0) {
		json_object_put(*owner);
		*owner = NULL;
		memset(d, 0, sizeof(*d));
	}
	return rc;
}

static void post_user(struct rcp_rs_api *api, const struct rcp_http_req *req,
		      struct rcp_http_resp *resp)
{
	static const char *const keys[] = { "name", NULL };
	struct json_object *o, *out;
	const char *name = NULL;
	char token[RCP_TOKEN_TEXT], why[WHY_MAX] = "";
	uint8_t hash[RCP_TOKEN_HASH];
	int rc =
		rcp_jreq_parse_only(req->body, req->body_len, BODY_MAX, keys, &o, why, sizeof(why));

	if (rc == 0) {
		rc = rcp_jreq_string(o, "name", RCP_RS_NAME_MAX, true, &name, why, sizeof(why));
	}
	if (rc == 0 && !rcp_jreq_is_ident(name, RCP_RS_NAME_MAX)) {
		snprintf(why, sizeof(why), "\"name\": expected [A-Za-z0-9._:-]");
		rc = -EINVAL;
	}
	if (rc == 0) {
		rcp_token_generate(token);
		rcp_token_hash(token, hash);
		rc = rcp_rs_store_add_user(api->store, name, hash, why, sizeof(why));
	}
	if (rc < 0) {
		rcp_http_error(resp, status_of(rc), "%s", why);
	} else {
		ntm_log_info("user %s created", name);
		out = json_object_new_object();
		json_object_object_add(out, "name", json_object_new_string(name));
		json_object_object_add(out, "token", json_object_new_string(token));
		rcp_http_json(resp, 201, out);
	}
	json_object_put(o);
}

static const struct rcp_rs_vendor *find_vendor(const struct rcp_rs_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_vendors; i++) {
		if (strcmp(cfg->vendors[i].vendor, name) == 0) {
			return &cfg->vendors[i];
		}
	}
	return NULL;
}

/* Ask the vendor's devmgr and bind the device it describes. */
static int bind_device(struct rcp_rs_api *api, int64_t uid, const struct rcp_rs_vendor *v,
		       const char *id, struct json_object **out, char *why, size_t whylen)
{
	struct rcp_http_resp dm = { 0 };
	struct rcp_rs_device d;
	int rc = api->lookup(api->lookup_ctx, v, id, &dm, why, whylen);

	if (rc < 0) {
		return -EHOSTUNREACH;
	}
	if (dm.status == 404) {
		snprintf(why, whylen, "vendor %s does not know device %s", v->vendor, id);
		rc = -ENOENT;
	} else if (dm.status != 200) {
		snprintf(why, whylen, "vendor %s's devmgr answered %u", v->vendor, dm.status);
		rc = -EHOSTUNREACH;
	} else {
		rc = rcp_rs_parse_devmgr_device(dm.body, strlen(dm.body), out, &d, why, whylen);
		if (rc == 0 && strcmp(d.id, id) != 0) {
			snprintf(why, whylen, "the devmgr answered for another device");
			rc = -EPROTO;
		}
	}
	if (rc == 0) {
		d.vendor = v->vendor;
		rc = rcp_rs_store_add_device(api->store, uid, &d, why, whylen);
		json_object_object_add(*out, "vendor", json_object_new_string(v->vendor));
	}
	ntm_free(dm.body);
	return rc;
}

static void post_device(struct rcp_rs_api *api, int64_t uid, const struct rcp_http_req *req,
			struct rcp_http_resp *resp)
{
	static const char *const keys[] = { "vendor", "id", NULL };
	struct json_object *o, *dev = NULL;
	const char *vendor = NULL, *id = NULL;
	const struct rcp_rs_vendor *v = NULL;
	char why[WHY_MAX] = "";
	int rc =
		rcp_jreq_parse_only(req->body, req->body_len, BODY_MAX, keys, &o, why, sizeof(why));

	if (rc == 0) {
		/* With a single vendor configured, "vendor" may be left out. */
		rc = rcp_jreq_string(o, "vendor", RCP_RS_NAME_MAX, api->cfg->n_vendors != 1,
				     &vendor, why, sizeof(why));
	}
	if (rc == 0) {
		rc = rcp_jreq_string(o, "id", RCP_DM_ID_MAX, true, &id, why, sizeof(why));
	}
	if (rc == 0 && !rcp_jreq_is_ident(id, RCP_DM_ID_MAX)) {
		snprintf(why, sizeof(why), "\"id\": expected [A-Za-z0-9._:-]");
		rc = -EINVAL;
	}
	if (rc == 0 && vendor == NULL) {
		vendor = api->cfg->vendors[0].vendor;
	}
	if (rc == 0 && (v = find_vendor(api->cfg, vendor)) == NULL) {
		snprintf(why, sizeof(why), "unknown vendor \"%s\"", vendor);
		rc = -ENOENT;
	}
	if (rc == 0) {
		rc = bind_device(api, uid, v, id, &dev, why, sizeof(why));
	}
	if (rc < 0) {
		rcp_http_error(resp, rc == -EHOSTUNREACH || rc == -EPROTO ? 502 : status_of(rc),
			       "%s", why);
		json_object_put(dev);
	} else {
		ntm_log_info("user %lld: device %s %s bound", (long long)uid, vendor, id);
		rcp_http_json(resp, 201, dev);
	}
	json_object_put(o);
}

struct owns_ctx {
	struct rcp_rs_api *api;
	int64_t uid;
};

static int owns(void *ctx, const char *fqdn)
{
	struct owns_ctx *c = ctx;

	return rcp_rs_store_owns_fqdn(c->api->store, c->uid, fqdn);
}

/* The device FQDNs and canonical text of r (text ntm_malloc'd). */
static int recipe_parts(const struct rcp_recipe *r, char (*fq)[RCP_FQDN_MAX + 1], const char **ptrs,
			size_t *n, char **text)
{
	int rc = rcp_rs_recipe_devices(r, fq, RCP_RS_DEVICES_MAX, n);

	*text = NULL;
	for (size_t j = 0; rc == 0 && j < *n; j++) {
		ptrs[j] = fq[j];
	}
	return rc == 0 ? rcp_recipe_print(r, text) : rc;
}

/* Store each checked recipe with its deliveries; the names go into `names`. */
static int store_recipes(struct rcp_rs_api *api, int64_t uid, const struct rcp_file *f,
			 struct json_object *names, char *why, size_t whylen)
{
	char fq[RCP_RS_DEVICES_MAX][RCP_FQDN_MAX + 1];
	const char *ptrs[RCP_RS_DEVICES_MAX];
	char *text = NULL;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < f->n; i++) {
		size_t n = 0;

		rc = recipe_parts(f->recipes[i], fq, ptrs, &n, &text);
		if (rc == 0) {
			rc = rcp_rs_store_add_recipe(api->store, uid, f->recipes[i]->name, text,
						     ptrs, n, why, whylen);
		}
		ntm_free(text);
		text = NULL;
		if (rc == 0) {
			json_object_array_add(names, json_object_new_string(f->recipes[i]->name));
		}
	}
	return rc;
}

static void send_verdict(struct rcp_http_resp *resp, const struct rcp_rs_verdict *v)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(v->msg));
	json_object_object_add(o, "line", json_object_new_int((int)v->line));
	json_object_object_add(o, "col", json_object_new_int((int)v->col));
	rcp_http_json(resp, v->status, o);
}

/* Check the body against uid's recipes but `except`: 0 with *f, or the verdict sent. */
static int check_body(struct rcp_rs_api *api, int64_t uid, const char *except,
		      const struct rcp_http_req *req, struct rcp_http_resp *resp,
		      struct rcp_file **f)
{
	struct owns_ctx oc = { api, uid };
	struct rcp_rs_verdict v;
	char *existing = NULL;
	int rc = rcp_rs_store_recipe_texts(api->store, uid, except, &existing);

	*f = NULL;
	if (rc < 0) {
		v = (struct rcp_rs_verdict){ .status = 500, .msg = "database" };
	} else if (except == NULL) {
		rc = rcp_rs_check(req->body, req->body_len, existing, api->cfg->policy,
				  api->cfg->allow_flagged, owns, &oc, f, &v);
	} else {
		rc = rcp_rs_check_replace(except, req->body, req->body_len, existing,
					  api->cfg->policy, api->cfg->allow_flagged, owns, &oc, f,
					  &v);
	}
	ntm_free(existing);
	if (rc < 0) {
		send_verdict(resp, &v);
	}
	return rc;
}

static void post_recipes(struct rcp_rs_api *api, int64_t uid, const struct rcp_http_req *req,
			 struct rcp_http_resp *resp)
{
	struct rcp_file *f = NULL;
	struct json_object *o, *names;
	char why[WHY_MAX] = "";
	int rc;

	if (check_body(api, uid, NULL, req, resp, &f) < 0) {
		return;
	}
	o = json_object_new_object();
	names = json_object_new_array();
	json_object_object_add(o, "registered", names);
	rc = store_recipes(api, uid, f, names, why, sizeof(why));
	rcp_file_free(f);
	if (rc < 0) {
		json_object_put(o);
		rcp_http_error(resp, status_of(rc), "%s", why);
		return;
	}
	rcp_http_json(resp, 201, o);
}

/* The recipe as GET shows it, with `status`; or the error. */
static void send_recipe(struct rcp_rs_api *api, int64_t uid, const char *name, unsigned status,
			struct rcp_http_resp *resp)
{
	struct json_object *o = NULL;
	int rc = rcp_rs_store_get_recipe(api->store, uid, name, &o);

	if (rc < 0) {
		rcp_http_error(resp, status_of(rc), "%s",
			       rc == -ENOENT ? "no such recipe" : "database error");
		return;
	}
	rcp_http_json(resp, status, o);
}

/* PUT /v1/recipes/NAME: a new version, delivered again to its devices. */
static void put_recipe(struct rcp_rs_api *api, int64_t uid, const char *name,
		       const struct rcp_http_req *req, struct rcp_http_resp *resp)
{
	char fq[RCP_RS_DEVICES_MAX][RCP_FQDN_MAX + 1], why[WHY_MAX] = "", *text = NULL;
	const char *ptrs[RCP_RS_DEVICES_MAX];
	struct rcp_file *f = NULL;
	struct json_object *cur = NULL;
	size_t n = 0;
	int rc = rcp_rs_store_get_recipe(api->store, uid, name, &cur);

	/* Unknown (or another user's, or being deleted) before anything about the body. */
	if (rc == 0 &&
	    strcmp(json_object_get_string(json_object_object_get(cur, "state")), "live") != 0) {
		rc = -ENOENT;
	}
	json_object_put(cur);
	if (rc < 0) {
		rcp_http_error(resp, status_of(rc), "%s",
			       rc == -ENOENT ? "no such recipe" : "database error");
		return;
	}
	if (check_body(api, uid, name, req, resp, &f) < 0) {
		return;
	}
	rc = recipe_parts(f->recipes[0], fq, ptrs, &n, &text);
	if (rc == 0) {
		rc = rcp_rs_store_replace_recipe(api->store, uid, name, text, ptrs, n, why,
						 sizeof(why));
	}
	ntm_free(text);
	rcp_file_free(f);
	if (rc < 0) {
		rcp_http_error(resp, status_of(rc), "%s", why[0] ? why : ntm_strerror(rc));
		return;
	}
	ntm_log_info("user %lld: recipe %s replaced", (long long)uid, name);
	send_recipe(api, uid, name, 200, resp);
}

/* DELETE /v1/recipes/NAME: its devices are told to drop it. */
static void delete_recipe(struct rcp_rs_api *api, int64_t uid, const char *name,
			  struct rcp_http_resp *resp)
{
	char why[WHY_MAX] = "";
	int rc = rcp_rs_store_delete_recipe(api->store, uid, name, why, sizeof(why));

	if (rc < 0) {
		rcp_http_error(resp, status_of(rc), "%s", why);
		return;
	}
	ntm_log_info("user %lld: recipe %s deleted", (long long)uid, name);
	send_recipe(api, uid, name, 202, resp);
}

/* Routes on /v1/recipes/NAME. */
static void recipe_route(struct rcp_rs_api *api, int64_t uid, const char *name,
			 const struct rcp_http_req *req, struct rcp_http_resp *resp)
{
	if (strlen(name) > RCP_NAME_MAX || !rcp_is_recipe_name(name, strlen(name))) {
		rcp_http_error(resp, 404, "no such recipe");
	} else if (strcmp(req->method, "GET") == 0) {
		send_recipe(api, uid, name, 200, resp);
	} else if (strcmp(req->method, "PUT") == 0) {
		put_recipe(api, uid, name, req, resp);
	} else if (strcmp(req->method, "DELETE") == 0) {
		delete_recipe(api, uid, name, resp);
	} else {
		rcp_http_error(resp, 405, "use GET, PUT or DELETE");
	}
}

static void send_list(struct rcp_http_resp *resp, int rc, struct json_object *o)
{
	if (rc < 0) {
		rcp_http_error(resp, status_of(rc), "%s",
			       rc == -ENOENT ? "no such recipe" : "database error");
		return;
	}
	rcp_http_json(resp, 200, o);
}

/* Routes for an authenticated user. */
static void user_route(struct rcp_rs_api *api, int64_t uid, const struct rcp_http_req *req,
		       struct rcp_http_resp *resp)
{
	static const char recipes[] = "/v1/recipes/";
	bool get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
	struct json_object *o = NULL;
	int rc;

	if (post && strcmp(req->path, "/v1/devices") == 0) {
		post_device(api, uid, req, resp);
		return;
	}
	if (post && strcmp(req->path, "/v1/recipes") == 0) {
		post_recipes(api, uid, req, resp);
		return;
	}
	if (strncmp(req->path, recipes, sizeof(recipes) - 1) == 0) {
		recipe_route(api, uid, req->path + sizeof(recipes) - 1, req, resp);
		return;
	}
	if (!get) {
		rcp_http_error(resp, 404, "no such resource or method");
		return;
	}
	if (strcmp(req->path, "/v1/devices") == 0) {
		rc = rcp_rs_store_list_devices(api->store, uid, &o);
	} else if (strcmp(req->path, "/v1/recipes") == 0) {
		rc = rcp_rs_store_list_recipes(api->store, uid, &o);
	} else if (strcmp(req->path, "/v1/events") == 0) {
		rc = rcp_rs_store_list_events(api->store, uid, &o);
	} else {
		rcp_http_error(resp, 404, "no such resource or method");
		return;
	}
	send_list(resp, rc, o);
}

void rcp_rs_api_handle(void *ctx, const struct rcp_http_req *req, struct rcp_http_resp *resp)
{
	struct rcp_rs_api *api = ctx;
	uint8_t hash[RCP_TOKEN_HASH];
	char why[64];
	int64_t uid;

	if (strcmp(req->path, "/v1/users") == 0) {
		if (!rcp_token_matches(req->token, api->cfg->web.admin_hash)) {
			rcp_http_error(resp, 401, "the admin token is required");
		} else if (strcmp(req->method, "POST") != 0) {
			rcp_http_error(resp, 405, "use POST");
		} else {
			post_user(api, req, resp);
		}
		return;
	}
	if (!rcp_token_is_valid(req->token)) {
		rcp_http_error(resp, 401, "an API token is required");
		return;
	}
	rcp_token_hash(req->token, hash);
	if (rcp_rs_store_find_user(api->store, hash, &uid, why, sizeof(why)) < 0) {
		rcp_http_error(resp, 401, "invalid API token");
		return;
	}
	user_route(api, uid, req, resp);
}
