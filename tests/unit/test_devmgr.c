/* SPDX-License-Identifier: MIT */
/*
 * ntm-devmgr: request parsers, tokens, the SQLite store and the API handler
 * (called as a function with real SQLite in a temporary directory).
 */
#include <json-c/json.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "ntm_test.h"
#include "recipe/devmgr/config.h"
#include "recipe/devmgr/dmapi.h"
#include "recipe/devmgr/dmreq.h"
#include "recipe/devmgr/dmstore.h"
#include "recipe/web/jreq.h"
#include "recipe/web/token.h"

static const char PUB_A[] = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=";
static const char PUB_DC[] = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
static const char MODEL[] = "{\"name\":\"lamp-2\",\"links\":\"</light>;rt=\\\"light\\\"\"}";

static char dir[64];
static char admin[RCP_TOKEN_TEXT], server[RCP_TOKEN_TEXT];

static void device_json(char *buf, size_t cap, const char *id, const char *fqdn)
{
	snprintf(buf, cap,
		 "{\"id\":\"%s\",\"model\":\"lamp-2\",\"public_key\":\"%s\",\"fqdn\":\"%s\","
		 "\"dc_endpoint\":\"198.51.100.1:51820\",\"dc_key\":\"%s\","
		 "\"recipe_server\":\"http://127.0.0.1:8480\"}",
		 id, PUB_A, fqdn, PUB_DC);
}

static void test_token(void)
{
	char t[RCP_TOKEN_TEXT], u[RCP_TOKEN_TEXT];
	uint8_t h[RCP_TOKEN_HASH];

	rcp_token_generate(t);
	rcp_token_generate(u);
	CU_ASSERT_TRUE(rcp_token_is_valid(t));
	CU_ASSERT_STRING_NOT_EQUAL(t, u);
	rcp_token_hash(t, h);
	CU_ASSERT_TRUE(rcp_token_matches(t, h));
	CU_ASSERT_FALSE(rcp_token_matches(u, h));
	CU_ASSERT_FALSE(rcp_token_matches(NULL, h));
	CU_ASSERT_FALSE(rcp_token_matches("abc", h));
	t[0] = 'G';
	CU_ASSERT_FALSE(rcp_token_is_valid(t));
}

static void test_token_file(void)
{
	char path[128], why[256] = "", t[RCP_TOKEN_TEXT];
	uint8_t h[RCP_TOKEN_HASH];
	FILE *f;

	rcp_token_generate(t);
	snprintf(path, sizeof(path), "%s/tok", dir);
	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	fprintf(f, "%s\n", t);
	fclose(f);
	CU_ASSERT_EQUAL(chmod(path, 0644), 0);
	CU_ASSERT_EQUAL(rcp_token_load_file(path, h, why, sizeof(why)), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "chmod 600"));
	CU_ASSERT_EQUAL(chmod(path, 0600), 0);
	CU_ASSERT_EQUAL(rcp_token_load_file(path, h, why, sizeof(why)), 0);
	CU_ASSERT_TRUE(rcp_token_matches(t, h));
	unlink(path);
}

static void test_jreq(void)
{
	struct json_object *o;
	char why[256];

	CU_ASSERT_EQUAL(rcp_jreq_parse("{\"a\":1}", 7, 100, &o, why, sizeof(why)), 0);
	json_object_put(o);
	CU_ASSERT_EQUAL(rcp_jreq_parse("{\"a\":1}  \n", 10, 100, &o, why, sizeof(why)), 0);
	json_object_put(o);
	CU_ASSERT_EQUAL(rcp_jreq_parse("{\"a\":1}x", 8, 100, &o, why, sizeof(why)), -EINVAL);
	CU_ASSERT_PTR_NULL(o);
	CU_ASSERT_EQUAL(rcp_jreq_parse("{'a':1}", 7, 100, &o, why, sizeof(why)), -EINVAL);
	CU_ASSERT_EQUAL(rcp_jreq_parse("[1]", 3, 100, &o, why, sizeof(why)), -EINVAL);
	CU_ASSERT_EQUAL(rcp_jreq_parse("{\"a\":1}", 7, 6, &o, why, sizeof(why)), -EMSGSIZE);
	CU_ASSERT_TRUE(rcp_jreq_is_fqdn("lamp.home.example"));
	CU_ASSERT_FALSE(rcp_jreq_is_fqdn("-lamp.example"));
	CU_ASSERT_FALSE(rcp_jreq_is_fqdn("lamp..example"));
	CU_ASSERT_FALSE(rcp_jreq_is_fqdn("la mp.example"));
}

static void test_parse(void)
{
	struct rcp_dm_model m;
	struct rcp_dm_device d;
	char body[1024], why[256];

	CU_ASSERT_EQUAL(rcp_dm_parse_model(MODEL, strlen(MODEL), &m, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(m.name, "lamp-2");
	CU_ASSERT_STRING_EQUAL(m.links, "</light>;rt=\"light\"");
	CU_ASSERT_EQUAL(
		rcp_dm_parse_model("{\"name\":\"x\",\"links\":\"a\"}", 24, &m, why, sizeof(why)),
		-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "links"));
	device_json(body, sizeof(body), "SN-1", "lamp.home.example");
	CU_ASSERT_EQUAL(rcp_dm_parse_device(body, strlen(body), &d, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(d.id, "SN-1");
	CU_ASSERT_STRING_EQUAL(d.dc_key, PUB_DC);
	device_json(body, sizeof(body), "SN 1", "lamp.home.example");
	CU_ASSERT_EQUAL(rcp_dm_parse_device(body, strlen(body), &d, why, sizeof(why)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(d.id, "");
	CU_ASSERT_TRUE(rcp_dm_links_ok("</a>;rt=\"x,y\",</b>"));
	CU_ASSERT_FALSE(rcp_dm_links_ok("</a>,"));
	CU_ASSERT_FALSE(rcp_dm_links_ok("</a>;rt=\"x"));
}

/* Call the handler like the HTTP server does; returns the status, body in *out. */
static unsigned call(struct rcp_dm_api *api, const char *method, const char *path,
		     const char *token, const char *body, struct json_object **out)
{
	struct rcp_http_req req = { method, path, token, body, strlen(body) };
	struct rcp_http_resp resp = { 0 };

	rcp_dm_api_handle(api, &req, &resp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(resp.body);
	*out = json_tokener_parse(resp.body);
	CU_ASSERT_PTR_NOT_NULL(*out);
	ntm_free(resp.body);
	return resp.status;
}

static const char *str(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

static void test_api(void)
{
	struct rcp_dm_api api = { 0 };
	struct rcp_dm_store *s;
	struct json_object *o, *dc;
	char path[128], why[256], body[1024], secret[RCP_TOKEN_TEXT];

	snprintf(path, sizeof(path), "%s/db/devmgr.db", dir);
	CU_ASSERT_EQUAL_FATAL(rcp_dm_store_open(path, &s, why, sizeof(why)), 0);
	api.store = s;
	rcp_token_hash(admin, api.admin_hash);
	rcp_token_hash(server, api.server_hash);

	CU_ASSERT_EQUAL(call(&api, "POST", "/v1/models", NULL, MODEL, &o), 401);
	json_object_put(o);
	CU_ASSERT_EQUAL(call(&api, "POST", "/v1/models", server, MODEL, &o), 401);
	json_object_put(o);
	CU_ASSERT_EQUAL(call(&api, "POST", "/v1/models", admin, MODEL, &o), 201);
	json_object_put(o);
	device_json(body, sizeof(body), "SN-1", "lamp.home.example");
	CU_ASSERT_EQUAL(call(&api, "POST", "/v1/devices", admin, body, &o), 201);
	snprintf(secret, sizeof(secret), "%s", str(o, "provisioning_secret"));
	CU_ASSERT_TRUE(rcp_token_is_valid(secret));
	json_object_put(o);
	/* Same id again: conflict, nothing changed. */
	CU_ASSERT_EQUAL(call(&api, "POST", "/v1/devices", admin, body, &o), 409);
	json_object_put(o);
	CU_ASSERT_EQUAL(call(&api, "POST", "/v1/devices", admin, "{\"id\":", &o), 400);
	json_object_put(o);

	CU_ASSERT_EQUAL(call(&api, "GET", "/v1/devices/SN-1", admin, "", &o), 401);
	json_object_put(o);
	CU_ASSERT_EQUAL(call(&api, "GET", "/v1/devices/SN-1", server, "", &o), 200);
	CU_ASSERT_STRING_EQUAL(str(o, "links"), "</light>;rt=\"light\"");
	CU_ASSERT_STRING_EQUAL(str(o, "fqdn"), "lamp.home.example");
	json_object_put(o);
	CU_ASSERT_EQUAL(call(&api, "GET", "/v1/devices/SN-2", server, "", &o), 404);
	json_object_put(o);

	CU_ASSERT_EQUAL(call(&api, "GET", "/v1/provisioning", server, "", &o), 401);
	json_object_put(o);
	CU_ASSERT_EQUAL(call(&api, "GET", "/v1/provisioning", secret, "", &o), 200);
	CU_ASSERT_STRING_EQUAL(str(o, "id"), "SN-1");
	CU_ASSERT_TRUE(json_object_object_get_ex(o, "dc", &dc));
	CU_ASSERT_STRING_EQUAL(str(dc, "public_key"), PUB_DC);
	CU_ASSERT_STRING_EQUAL(str(o, "recipe_server"), "http://127.0.0.1:8480");
	json_object_put(o);
	CU_ASSERT_EQUAL(call(&api, "GET", "/v1/nothing", admin, "", &o), 404);
	json_object_put(o);
	rcp_dm_store_close(s);

	/* Persisted: a new handle finds the device. */
	CU_ASSERT_EQUAL_FATAL(rcp_dm_store_open(path, &s, why, sizeof(why)), 0);
	api.store = s;
	CU_ASSERT_EQUAL(call(&api, "GET", "/v1/provisioning", secret, "", &o), 200);
	json_object_put(o);
	rcp_dm_store_close(s);
}

/* Parse `text` as a config named "dm.conf"; the error message in err. */
static int conf(const char *text, struct rcp_dm_config *cfg, struct ntm_conf_err *err)
{
	struct ntm_conf *c;
	int rc = ntm_conf_parse("dm.conf", text, strlen(text), &c, err);

	if (rc == 0) {
		rc = rcp_dm_config_from_conf(cfg, c, err);
		ntm_conf_destroy(c);
	}
	return rc;
}

static void test_config(void)
{
	struct rcp_dm_config cfg;
	struct ntm_conf_err err;
	char tok[128], text[1024], t[RCP_TOKEN_TEXT];
	FILE *f;

	snprintf(tok, sizeof(tok), "%s/cfgtok", dir);
	f = fopen(tok, "w");
	CU_ASSERT_FATAL(f != NULL);
	rcp_token_generate(t);
	fprintf(f, "%s\n", t);
	fclose(f);
	CU_ASSERT_EQUAL(chmod(tok, 0600), 0);
	snprintf(text, sizeof(text),
		 "[DevMgr]\nListen = 127.0.0.1:0\nDatabase = /x/db\nAdminTokenFile = %s\n"
		 "ServerTokenFile = %s\n",
		 tok, tok);
	CU_ASSERT_EQUAL(conf(text, &cfg, &err), 0);
	CU_ASSERT_STRING_EQUAL(cfg.web.listen, "127.0.0.1:0");
	CU_ASSERT_TRUE(rcp_token_matches(t, cfg.web.admin_hash));
	CU_ASSERT_NOT_EQUAL(conf("[DevMgr]\nListen = nowhere\n", &cfg, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "dm.conf:2: invalid Listen"));
	CU_ASSERT_NOT_EQUAL(conf("[DevMgr]\nListen = 127.0.0.1:1\n", &cfg, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing key"));
	snprintf(text, sizeof(text), "[DevMgr]\nAdminTokenFile = %s\n", tok);
	CU_ASSERT_EQUAL(chmod(tok, 0640), 0);
	CU_ASSERT_NOT_EQUAL(conf(text, &cfg, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "dm.conf:2: invalid AdminTokenFile"));
	unlink(tok);
}

int main(void)
{
	static const struct ntm_test_case cases[] = {
		NTM_TEST(test_token), NTM_TEST(test_token_file), NTM_TEST(test_jreq),
		NTM_TEST(test_parse), NTM_TEST(test_api),	 NTM_TEST(test_config),
	};
	char cmd[96];
	int rc;

	if (sodium_init() < 0) {
		return 99;
	}
	snprintf(dir, sizeof(dir), "/tmp/test_devmgr.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		return 99;
	}
	rcp_token_generate(admin);
	rcp_token_generate(server);
	rc = ntm_test_run("devmgr", cases, sizeof(cases) / sizeof(cases[0]));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
	return rc;
}
