/* SPDX-License-Identifier: MIT */
/*
 * ntm-recipe-server: the registration checks and the API handler, with a
 * real SQLite store and a real devmgr (its handler and store) behind the
 * lookup callback instead of a socket.
 */
#include <json-c/json.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "ntm_test.h"
#include "recipe/devmgr/dmapi.h"
#include "recipe/server/check.h"
#include "recipe/server/rsapi.h"

static const char KEY_A[] = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=";
static const char KEY_B[] = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";

static char dir[64];
static struct rcp_dm_api dm;
static struct rcp_rs_config cfg;
static struct rcp_rs_api api;
static char admin[RCP_TOKEN_TEXT], dm_admin[RCP_TOKEN_TEXT];
static unsigned lookups;

/* The devmgr answers in-process: the same handler ntm-devmgr serves. */
static int lookup(void *ctx, const struct rcp_rs_vendor *v, const char *id,
		  struct rcp_http_resp *resp, char *why, size_t whylen)
{
	char path[128];
	struct rcp_http_req req = { "GET", path, v->token, "", 0 };

	lookups++;
	snprintf(path, sizeof(path), "/v1/devices/%s", id);
	rcp_dm_api_handle(&dm, &req, resp);
	return 0;
}

static unsigned call(const char *method, const char *path, const char *token, const char *body,
		     struct json_object **out)
{
	struct rcp_http_req req = { method, path, token, body, strlen(body) };
	struct rcp_http_resp resp = { 0 };

	rcp_rs_api_handle(&api, &req, &resp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(resp.body);
	*out = json_tokener_parse(resp.body);
	CU_ASSERT_PTR_NOT_NULL(*out);
	ntm_free(resp.body);
	return resp.status;
}

static unsigned dm_call(const char *path, const char *body)
{
	struct rcp_http_req req = { "POST", path, dm_admin, body, strlen(body) };
	struct rcp_http_resp resp = { 0 };

	rcp_dm_api_handle(&dm, &req, &resp);
	ntm_free(resp.body);
	return resp.status;
}

static const char *str(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static size_t count(const char *path, const char *token)
{
	struct json_object *o;
	size_t n;

	CU_ASSERT_EQUAL(call("GET", path, token, "", &o), 200);
	n = json_object_array_length(o);
	json_object_put(o);
	return n;
}

/* A fresh devmgr and recipe server, their databases named after `tag`. */
static void setup(const char *tag)
{
	char path[128], why[256], body[1024];
	struct rcp_dm_store *dms;
	struct rcp_rs_store *rss;
	static const char policy[] = "forbid lamp.home.example/light when "
				     "sensor.home.example/presence == absent\n";
	struct rcp_error err;

	snprintf(path, sizeof(path), "%s/%s-dm.db", dir, tag);
	CU_ASSERT_EQUAL_FATAL(rcp_dm_store_open(path, &dms, why, sizeof(why)), 0);
	dm.store = dms;
	rcp_token_generate(dm_admin);
	rcp_token_hash(dm_admin, dm.admin_hash);
	rcp_token_generate(cfg.vendors[0].token);
	rcp_token_hash(cfg.vendors[0].token, dm.server_hash);
	snprintf(cfg.vendors[0].vendor, sizeof(cfg.vendors[0].vendor), "acme");
	snprintf(cfg.vendors[0].url, sizeof(cfg.vendors[0].url), "http://unused:1");
	cfg.n_vendors = 1;
	rcp_token_generate(admin);
	rcp_token_hash(admin, cfg.web.admin_hash);
	CU_ASSERT_EQUAL_FATAL(rcp_policy_parse(policy, strlen(policy), &cfg.policy, &err), 0);
	cfg.allow_flagged = true;

	CU_ASSERT_EQUAL(dm_call("/v1/models", "{\"name\":\"sensor\",\"links\":\"</presence>\"}"),
			201);
	CU_ASSERT_EQUAL(dm_call("/v1/models", "{\"name\":\"lamp\",\"links\":\"</light>\"}"), 201);
	snprintf(body, sizeof(body),
		 "{\"id\":\"SN-A\",\"model\":\"sensor\",\"public_key\":\"%s\",\"fqdn\":"
		 "\"sensor.home.example\",\"dc_endpoint\":\"10.0.0.1:51820\",\"dc_key\":\"%s\","
		 "\"recipe_server\":\"http://127.0.0.1:1\"}",
		 KEY_A, KEY_B);
	CU_ASSERT_EQUAL(dm_call("/v1/devices", body), 201);
	snprintf(body, sizeof(body),
		 "{\"id\":\"SN-B\",\"model\":\"lamp\",\"public_key\":\"%s\",\"fqdn\":"
		 "\"lamp.home.example\",\"dc_endpoint\":\"10.0.0.1:51820\",\"dc_key\":\"%s\","
		 "\"recipe_server\":\"http://127.0.0.1:1\"}",
		 KEY_B, KEY_A);
	CU_ASSERT_EQUAL(dm_call("/v1/devices", body), 201);

	snprintf(path, sizeof(path), "%s/%s-rs.db", dir, tag);
	CU_ASSERT_EQUAL_FATAL(rcp_rs_store_open(path, &rss, why, sizeof(why)), 0);
	api = (struct rcp_rs_api){ .store = rss, .cfg = &cfg, .lookup = lookup };
}

static void test_devices_of(void)
{
	struct rcp_file *f;
	char fq[RCP_RS_DEVICES_MAX][RCP_FQDN_MAX + 1];
	static const char text[] =
		"recipe \"r\"\n  when a.example/t > 1 and b.example/u == on\n"
		"  do c.example/p on\n  do a.example/q off\n  notify owner \"x\"\n";
	size_t n = 0;

	CU_ASSERT_EQUAL_FATAL(rcp_parse(text, strlen(text), &f, NULL), 0);
	CU_ASSERT_EQUAL(rcp_rs_recipe_devices(f->recipes[0], fq, RCP_RS_DEVICES_MAX, &n), 0);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_STRING_EQUAL(fq[0], "a.example");
	CU_ASSERT_STRING_EQUAL(fq[1], "b.example");
	CU_ASSERT_STRING_EQUAL(fq[2], "c.example");
	rcp_file_free(f);
}

static void test_flow(void)
{
	static const char good[] = "recipe \"welcome\"\n"
				   "  when sensor.home.example/presence == home\n"
				   "  do lamp.home.example/light on\n";
	static const char bad[] = "recipe \"broken\"\n"
				  "  when sensor.home.example/presence ==\n"
				  "  do lamp.home.example/light on\n";
	static const char refused[] = "recipe \"night\"\n"
				      "  when sensor.home.example/presence == absent\n"
				      "  do lamp.home.example/light on\n";
	static const char loop[] = "recipe \"echo\"\n"
				   "  when lamp.home.example/light == on\n"
				   "  do sensor.home.example/presence home\n";
	struct json_object *o, *d;
	char token[RCP_TOKEN_TEXT];

	setup("flow");
	/* Users come from the admin only. */
	CU_ASSERT_EQUAL(call("POST", "/v1/users", NULL, "{\"name\":\"alice\"}", &o), 401);
	json_object_put(o);
	CU_ASSERT_EQUAL(call("POST", "/v1/users", admin, "{\"name\":\"alice\"}", &o), 201);
	snprintf(token, sizeof(token), "%s", str(o, "token"));
	json_object_put(o);
	CU_ASSERT_TRUE(rcp_token_is_valid(token));
	CU_ASSERT_EQUAL(call("POST", "/v1/users", admin, "{\"name\":\"alice\"}", &o), 409);
	json_object_put(o);

	/* No token, a wrong token, the admin's token: 401, nothing looked up. */
	CU_ASSERT_EQUAL(call("GET", "/v1/devices", NULL, "", &o), 401);
	json_object_put(o);
	CU_ASSERT_EQUAL(call("GET", "/v1/devices", admin, "", &o), 401);
	json_object_put(o);
	CU_ASSERT_EQUAL(
		call("POST", "/v1/devices", "0123", "{\"vendor\":\"acme\",\"id\":\"SN-A\"}", &o),
		401);
	json_object_put(o);
	CU_ASSERT_EQUAL(lookups, 0);

	/* Binding asks the vendor's devmgr for the API list. */
	CU_ASSERT_EQUAL(
		call("POST", "/v1/devices", token, "{\"vendor\":\"acme\",\"id\":\"SN-A\"}", &o),
		201);
	CU_ASSERT_STRING_EQUAL(str(o, "fqdn"), "sensor.home.example");
	CU_ASSERT_STRING_EQUAL(str(o, "links"), "</presence>");
	json_object_put(o);
	CU_ASSERT_EQUAL(
		call("POST", "/v1/devices", token, "{\"vendor\":\"acme\",\"id\":\"SN-Z\"}", &o),
		404);
	json_object_put(o);
	CU_ASSERT_EQUAL(
		call("POST", "/v1/devices", token, "{\"vendor\":\"other\",\"id\":\"SN-B\"}", &o),
		404);
	json_object_put(o);
	CU_ASSERT_EQUAL(count("/v1/devices", token), 1);

	/* A recipe naming a device not yet bound is refused. */
	CU_ASSERT_EQUAL(call("POST", "/v1/recipes", token, good, &o), 400);
	CU_ASSERT_PTR_NOT_NULL(strstr(str(o, "error"), "lamp.home.example is not bound"));
	json_object_put(o);
	CU_ASSERT_EQUAL(call("POST", "/v1/devices", token, "{\"id\":\"SN-B\"}", &o), 201);
	json_object_put(o);

	CU_ASSERT_EQUAL(call("POST", "/v1/recipes", token, good, &o), 201);
	json_object_put(o);
	CU_ASSERT_EQUAL(call("GET", "/v1/recipes/welcome", token, "", &o), 200);
	CU_ASSERT_TRUE(json_object_object_get_ex(o, "deliveries", &d));
	CU_ASSERT_EQUAL(json_object_array_length(d), 2);
	CU_ASSERT_STRING_EQUAL(str(json_object_array_get_idx(d, 0), "status"), "pending");
	json_object_put(o);

	/* Malformed: line and column, nothing stored. */
	CU_ASSERT_EQUAL(call("POST", "/v1/recipes", token, bad, &o), 400);
	CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(o, "line")), 2);
	CU_ASSERT_TRUE(json_object_get_int(json_object_object_get(o, "col")) > 0);
	json_object_put(o);
	CU_ASSERT_EQUAL(call("POST", "/v1/recipes", token, good, &o), 409);
	json_object_put(o);
	CU_ASSERT_EQUAL(call("POST", "/v1/recipes", token, refused, &o), 422);
	CU_ASSERT_PTR_NOT_NULL(strstr(str(o, "error"), "safety policy"));
	json_object_put(o);
	CU_ASSERT_EQUAL(call("POST", "/v1/recipes", token, loop, &o), 422);
	CU_ASSERT_PTR_NOT_NULL(strstr(str(o, "error"), "loop"));
	json_object_put(o);
	CU_ASSERT_EQUAL(count("/v1/recipes", token), 1);
	CU_ASSERT_EQUAL(count("/v1/events", token), 3);
	CU_ASSERT_EQUAL(call("GET", "/v1/recipes/nothing", token, "", &o), 404);
	json_object_put(o);

	rcp_rs_store_close(api.store);
	rcp_dm_store_close(dm.store);
	rcp_rs_config_fini(&cfg);
}

/* The version and status the deliverer sees for (name, fqdn): "" when not due. */
struct due_q {
	const char *name, *fqdn;
	int64_t recipe, version;
	char status[16];
};

static int due_cb(const struct rcp_rs_delivery *d, void *arg)
{
	struct due_q *q = arg;

	if (strcmp(d->name, q->name) == 0 && strcmp(d->fqdn, q->fqdn) == 0) {
		q->recipe = d->recipe;
		q->version = d->version;
		snprintf(q->status, sizeof(q->status), "%s", d->status);
	}
	return 0;
}

static struct due_q due(const char *name, const char *fqdn)
{
	struct due_q q = { .name = name, .fqdn = fqdn };

	CU_ASSERT_EQUAL(rcp_rs_store_due(api.store, due_cb, &q), 0);
	return q;
}

/* The device reports `status` about version v. */
static void report(const struct due_q *q, int64_t v, const char *status)
{
	char why[128];

	CU_ASSERT_EQUAL(rcp_rs_store_set_delivery(api.store, q->recipe, v, q->fqdn, status, "", why,
						  sizeof(why)),
			0);
}

/* The status of fqdn's delivery of `name`, as GET shows it. */
static const char *shown(const char *token, const char *name, const char *fqdn, char state[16])
{
	static char st[16];
	struct json_object *o, *d;
	char path[96];

	snprintf(path, sizeof(path), "/v1/recipes/%s", name);
	st[0] = '\0';
	CU_ASSERT_EQUAL_FATAL(call("GET", path, token, "", &o), 200);
	snprintf(state, 16, "%s", str(o, "state"));
	CU_ASSERT_TRUE(json_object_object_get_ex(o, "deliveries", &d));
	for (size_t i = 0; i < json_object_array_length(d); i++) {
		if (strcmp(str(json_object_array_get_idx(d, i), "device"), fqdn) == 0) {
			snprintf(st, sizeof(st), "%s",
				 str(json_object_array_get_idx(d, i), "status"));
		}
	}
	json_object_put(o);
	return st;
}

static bool has_event(const char *token, const char *text)
{
	struct json_object *o;
	bool found = false;

	CU_ASSERT_EQUAL(call("GET", "/v1/events", token, "", &o), 200);
	for (size_t i = 0; i < json_object_array_length(o); i++) {
		found |= strcmp(str(json_object_array_get_idx(o, i), "text"), text) == 0;
	}
	json_object_put(o);
	return found;
}

static void new_user(const char *name, char token[RCP_TOKEN_TEXT])
{
	struct json_object *o;
	char body[64];

	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
	CU_ASSERT_EQUAL(call("POST", "/v1/users", admin, body, &o), 201);
	snprintf(token, RCP_TOKEN_TEXT, "%s", str(o, "token"));
	json_object_put(o);
}

/* A recipe of 16 actions with 8 long parameters each: over RCP_INSTALL_MAX. */
static char *huge_recipe(void)
{
	size_t cap = 64 * 1024, n;
	char *t = ntm_malloc(cap), pad[201];

	memset(pad, 'x', 200);
	pad[200] = '\0';
	n = (size_t)snprintf(t, cap,
			     "recipe \"huge\"\n  when sensor.home.example/presence == home\n");
	for (int i = 0; i < 16; i++) {
		n += (size_t)snprintf(t + n, cap - n, "  do lamp.home.example/light on");
		for (int k = 0; k < 8; k++) {
			n += (size_t)snprintf(t + n, cap - n, " p%d=\"%s\"", k, pad);
		}
		n += (size_t)snprintf(t + n, cap - n, "\n");
	}
	return t;
}

static void test_delete_replace(void)
{
	static const char v1[] = "recipe \"welcome\"\n"
				 "  when sensor.home.example/presence == home\n"
				 "  do lamp.home.example/light on\n";
	static const char v2[] = "recipe \"welcome\"\n"
				 "  when sensor.home.example/presence == away\n"
				 "  do lamp.home.example/light off\n";
	static const char v3[] = "recipe \"welcome\"\n"
				 "  when sensor.home.example/presence == home\n"
				 "  notify owner \"home\"\n";
	static const char other[] = "recipe \"other\"\n"
				    "  when sensor.home.example/presence == home\n"
				    "  do lamp.home.example/light on\n";
	static const char refused[] = "recipe \"welcome\"\n"
				      "  when sensor.home.example/presence == absent\n"
				      "  do lamp.home.example/light on\n";
	char alice[RCP_TOKEN_TEXT], bob[RCP_TOKEN_TEXT], state[16], *big;
	struct json_object *o;
	struct due_q s, l;

	setup("dr");
	new_user("alice", alice);
	new_user("bob", bob);
	CU_ASSERT_EQUAL(call("POST", "/v1/devices", alice, "{\"id\":\"SN-A\"}", &o), 201);
	json_object_put(o);
	CU_ASSERT_EQUAL(call("POST", "/v1/devices", alice, "{\"id\":\"SN-B\"}", &o), 201);
	json_object_put(o);
	CU_ASSERT_EQUAL(call("POST", "/v1/recipes", alice, v1, &o), 201);
	json_object_put(o);
	s = due("welcome", "sensor.home.example");
	l = due("welcome", "lamp.home.example");
	CU_ASSERT_EQUAL(s.version, 1);
	CU_ASSERT_STRING_EQUAL(s.status, "pending");
	report(&s, 1, "active");
	report(&l, 1, "active");
	CU_ASSERT_STRING_EQUAL(shown(alice, "welcome", "lamp.home.example", state), "active");
	CU_ASSERT_STRING_EQUAL(state, "live");

	/* Another user's token, an unknown name: 404, nothing changes. */
	CU_ASSERT_EQUAL(call("DELETE", "/v1/recipes/welcome", bob, "", &o), 404);
	json_object_put(o);
	CU_ASSERT_EQUAL(call("PUT", "/v1/recipes/welcome", bob, v2, &o), 404);
	json_object_put(o);
	CU_ASSERT_EQUAL(call("DELETE", "/v1/recipes/nothing", alice, "", &o), 404);
	json_object_put(o);
	CU_ASSERT_EQUAL(call("PUT", "/v1/recipes/nothing", alice,
			     "recipe \"nothing\"\n  when sensor.home.example/presence == home\n"
			     "  notify owner\n",
			     &o),
			404);
	json_object_put(o);
	CU_ASSERT_EQUAL(call("PATCH", "/v1/recipes/welcome", alice, "", &o), 405);
	json_object_put(o);

	/* A replacement is checked like a registration, and must keep its name. */
	CU_ASSERT_EQUAL(call("PUT", "/v1/recipes/welcome", alice, other, &o), 400);
	json_object_put(o);
	CU_ASSERT_EQUAL(call("PUT", "/v1/recipes/welcome", alice, refused, &o), 422);
	json_object_put(o);
	CU_ASSERT_STRING_EQUAL(shown(alice, "welcome", "lamp.home.example", state), "active");

	/* Replaced: version 2 pending everywhere; a late answer about version 1 does not count. */
	CU_ASSERT_EQUAL(call("PUT", "/v1/recipes/welcome", alice, v2, &o), 200);
	CU_ASSERT_EQUAL(json_object_get_int(json_object_object_get(o, "version")), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(str(o, "text"), "== away"));
	json_object_put(o);
	l = due("welcome", "lamp.home.example");
	CU_ASSERT_EQUAL(l.version, 2);
	CU_ASSERT_STRING_EQUAL(l.status, "pending");
	report(&l, 1, "active");
	CU_ASSERT_STRING_EQUAL(shown(alice, "welcome", "lamp.home.example", state), "pending");
	report(&l, 2, "active");
	CU_ASSERT_STRING_EQUAL(shown(alice, "welcome", "lamp.home.example", state), "active");
	CU_ASSERT_TRUE(
		has_event(alice, "recipe welcome replaced for 2 device(s); delivery pending"));

	/* A device the new text no longer names is told to delete it. */
	CU_ASSERT_EQUAL(call("PUT", "/v1/recipes/welcome", alice, v3, &o), 200);
	json_object_put(o);
	l = due("welcome", "lamp.home.example");
	CU_ASSERT_STRING_EQUAL(l.status, "deleting");
	report(&l, 3, "active"); /* an answer to the old POST: ignored */
	CU_ASSERT_STRING_EQUAL(shown(alice, "welcome", "lamp.home.example", state), "deleting");
	report(&l, 3, "deleted");
	CU_ASSERT_STRING_EQUAL(shown(alice, "welcome", "lamp.home.example", state), "deleted");
	CU_ASSERT_STRING_EQUAL(state, "live");
	l = due("welcome", "lamp.home.example");
	CU_ASSERT_STRING_EQUAL(l.status, "");

	/* Deleted: deleting until every device confirmed, then deleted; the name is free. */
	s = due("welcome", "sensor.home.example");
	report(&s, 3, "active");
	CU_ASSERT_EQUAL(call("DELETE", "/v1/recipes/welcome", alice, "", &o), 202);
	CU_ASSERT_STRING_EQUAL(str(o, "state"), "deleting");
	json_object_put(o);
	CU_ASSERT_EQUAL(call("DELETE", "/v1/recipes/welcome", alice, "", &o), 202);
	json_object_put(o);
	CU_ASSERT_EQUAL(call("PUT", "/v1/recipes/welcome", alice, v1, &o), 404);
	json_object_put(o);
	CU_ASSERT_EQUAL(call("POST", "/v1/recipes", alice, v1, &o), 409);
	json_object_put(o);
	s = due("welcome", "sensor.home.example");
	CU_ASSERT_STRING_EQUAL(s.status, "deleting");
	report(&s, 3, "active");
	CU_ASSERT_STRING_EQUAL(shown(alice, "welcome", "sensor.home.example", state), "deleting");
	report(&s, 3, "deleted");
	CU_ASSERT_STRING_EQUAL(shown(alice, "welcome", "sensor.home.example", state), "deleted");
	CU_ASSERT_STRING_EQUAL(state, "deleted");
	CU_ASSERT_TRUE(has_event(alice, "recipe welcome on sensor.home.example: deleted"));
	CU_ASSERT_TRUE(has_event(alice, "recipe welcome deleted from every device"));
	CU_ASSERT_EQUAL(call("DELETE", "/v1/recipes/welcome", alice, "", &o), 404);
	json_object_put(o);
	CU_ASSERT_EQUAL(call("POST", "/v1/recipes", alice, v1, &o), 201);
	json_object_put(o);
	CU_ASSERT_EQUAL(due("welcome", "lamp.home.example").version, 1);
	CU_ASSERT_STRING_EQUAL(shown(alice, "welcome", "lamp.home.example", state), "pending");

	/* Over RCP_INSTALL_MAX bytes: 413, nothing stored. */
	big = huge_recipe();
	CU_ASSERT_EQUAL(call("POST", "/v1/recipes", alice, big, &o), 413);
	CU_ASSERT_PTR_NOT_NULL(strstr(str(o, "error"), "over the 16384 a device installs"));
	json_object_put(o);
	ntm_free(big);
	CU_ASSERT_EQUAL(count("/v1/recipes", alice), 1);

	rcp_rs_store_close(api.store);
	rcp_dm_store_close(dm.store);
	rcp_rs_config_fini(&cfg);
}

static int conf(const char *text, struct rcp_rs_config *c, struct ntm_conf_err *err)
{
	struct ntm_conf *nc;
	int rc = ntm_conf_parse("rs.conf", text, strlen(text), &nc, err);

	if (rc == 0) {
		rc = rcp_rs_config_from_conf(c, nc, err);
		ntm_conf_destroy(nc);
	}
	return rc;
}

static void test_config(void)
{
	struct rcp_rs_config c;
	struct ntm_conf_err err;
	char tok[128], pol[128], text[1024], t[RCP_TOKEN_TEXT];
	FILE *f;

	snprintf(tok, sizeof(tok), "%s/tok", dir);
	snprintf(pol, sizeof(pol), "%s/policy", dir);
	f = fopen(tok, "w");
	CU_ASSERT_FATAL(f != NULL);
	rcp_token_generate(t);
	fprintf(f, "%s", t);
	fclose(f);
	CU_ASSERT_EQUAL(chmod(tok, 0600), 0);
	f = fopen(pol, "w");
	CU_ASSERT_FATAL(f != NULL);
	fprintf(f, "forbid a.example/x when b.example/y == on\nforbid oops\n");
	fclose(f);
	snprintf(text, sizeof(text),
		 "[Server]\nListen = 127.0.0.1:0\nDatabase = /x\nAdminTokenFile = %s\n"
		 "[DevMgr]\nVendor = acme\nURL = http://127.0.0.1:1\nTokenFile = %s\n"
		 "[DevMgr]\nVendor = other\nURL = http://127.0.0.1:2\nTokenFile = %s\n",
		 tok, tok, tok);
	CU_ASSERT_EQUAL(conf(text, &c, &err), 0);
	CU_ASSERT_EQUAL(c.n_vendors, 2);
	CU_ASSERT_STRING_EQUAL(c.vendors[1].vendor, "other");
	CU_ASSERT_STRING_EQUAL(c.vendors[0].token, t);
	CU_ASSERT_PTR_NULL(c.policy);
	rcp_rs_config_fini(&c);
	snprintf(text, sizeof(text), "[Server]\nPolicyFile = %s\n", pol);
	CU_ASSERT_NOT_EQUAL(conf(text, &c, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "rs.conf:2: invalid PolicyFile"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "policy:2:"));
	rcp_rs_config_fini(&c);
	CU_ASSERT_NOT_EQUAL(conf("[DevMgr]\nURL = ftp://x\n", &c, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "rs.conf:2: invalid URL"));
	rcp_rs_config_fini(&c);
}

int main(void)
{
	static const struct ntm_test_case cases[] = {
		NTM_TEST(test_devices_of),
		NTM_TEST(test_flow),
		NTM_TEST(test_delete_replace),
		NTM_TEST(test_config),
	};
	char cmd[96];
	int rc;

	if (sodium_init() < 0) {
		return 99;
	}
	snprintf(dir, sizeof(dir), "/tmp/test_rserver.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		return 99;
	}
	rc = ntm_test_run("recipe_server", cases, sizeof(cases) / sizeof(cases[0]));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
	return rc;
}
