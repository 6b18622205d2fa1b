/* SPDX-License-Identifier: MIT */
/*
 * ntm-agent.conf: a full file, defaults, and each kind of refusal naming
 * the line; the typed value conversion of drivers; the action request
 * codec round trip and its refusals.
 */
#include "recipe/agent/config.h"

#include <string.h>

#include "common/alloc.h"
#include "recipe/agent/actreq.h"
#include "ntm_test.h"

static const char full[] = "[Agent]\n"
			   "Name = B.Example.NET\n"
			   "Listen = 198.51.100.11:5683\n"
			   "Database = /var/lib/ntm/agent.db\n"
			   "Recipes = /etc/ntm/recipes\n"
			   "Policy = /etc/ntm/policy\n"
			   "PollInterval = 200\n"
			   "ActionDeadline = 30\n"
			   "[Sensor]\n"
			   "Name = presence\n"
			   "Type = enum\n"
			   "Values = home, absent\n"
			   "Driver = simulated\n"
			   "State = /run/presence\n"
			   "[Action]\n"
			   "Name = window\n"
			   "Type = boolean\n"
			   "Driver = simulated\n"
			   "State = /run/window\n"
			   "[Peer]\n"
			   "Device = a.example.net\n"
			   "Address = 198.51.100.10\n"
			   "[Peer]\n"
			   "Device = c.example.net\n"
			   "Address = [2001:db8::12]:5684\n";

static int load(const char *text, struct rcp_agent_config **cfg, struct ntm_conf_err *err)
{
	struct ntm_conf *conf;
	int rc = ntm_conf_parse("agent.conf", text, strlen(text), &conf, err);

	if (rc == 0) {
		rc = rcp_agent_config_from_conf(conf, cfg, err);
		ntm_conf_destroy(conf);
	}
	return rc;
}

static void test_full(void)
{
	struct rcp_agent_config *cfg;
	struct ntm_conf_err err;
	const struct rcp_point_conf *p;
	struct rcp_value v;

	CU_ASSERT_EQUAL_FATAL(load(full, &cfg, &err), 0);
	CU_ASSERT_STRING_EQUAL(cfg->fqdn, "b.example.net");
	CU_ASSERT_EQUAL(ntm_addr_port(&cfg->listen), 5683);
	CU_ASSERT_EQUAL(cfg->poll_ms, 200);
	CU_ASSERT_EQUAL(cfg->deadline_s, 30);
	CU_ASSERT_EQUAL(cfg->n_points, 2);
	CU_ASSERT_EQUAL(cfg->n_peers, 2);
	p = rcp_agent_config_point(cfg, RCP_POINT_SENSOR, "presence");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->n_values, 2);
	CU_ASSERT_PTR_NULL(rcp_agent_config_point(cfg, RCP_POINT_ACTION, "presence"));
	CU_ASSERT_EQUAL(rcp_point_parse_value(p, "absent", 6, &v), 0);
	CU_ASSERT_STRING_EQUAL(v.text, "absent");
	CU_ASSERT(rcp_point_accepts(p, &v));
	rcp_value_fini(&v);
	CU_ASSERT_EQUAL(rcp_point_parse_value(p, "away", 4, &v), -EINVAL);
	CU_ASSERT_EQUAL(ntm_addr_port(&cfg->peers[0].addr), RCP_AGENT_COAP_PORT);
	CU_ASSERT_EQUAL(ntm_addr_port(&cfg->peers[1].addr), 5684);
	CU_ASSERT_PTR_EQUAL(rcp_agent_config_peer_by_ip(cfg, &cfg->peers[1].addr.sa),
			    &cfg->peers[1]);
	CU_ASSERT_PTR_EQUAL(rcp_agent_config_peer_by_fqdn(cfg, "A.example.net"), &cfg->peers[0]);
	rcp_agent_config_destroy(cfg);
}

static void test_values(void)
{
	struct rcp_point_conf num = { .type = RCP_POINT_NUMBER };
	struct rcp_point_conf b = { .type = RCP_POINT_BOOLEAN };
	struct rcp_value v;

	CU_ASSERT_EQUAL(rcp_point_parse_value(&num, "28.5", 4, &v), 0);
	CU_ASSERT_EQUAL(v.num, 28500000);
	CU_ASSERT_EQUAL(rcp_point_parse_value(&num, "1e3", 3, &v), -EINVAL);
	CU_ASSERT_EQUAL(rcp_point_parse_value(&b, "on", 2, &v), 0);
	CU_ASSERT(v.b);
	CU_ASSERT_EQUAL(rcp_point_parse_value(&b, "0", 1, &v), 0);
	CU_ASSERT(!v.b);
	CU_ASSERT_EQUAL(rcp_point_parse_value(&b, "yes", 3, &v), -EINVAL);
	CU_ASSERT_EQUAL(v.type, RCP_VAL_NONE);
}

static void expect_error(const char *text, const char *needle)
{
	struct rcp_agent_config *cfg = (void *)1;
	struct ntm_conf_err err;

	CU_ASSERT(load(text, &cfg, &err) < 0);
	CU_ASSERT_PTR_NULL(cfg);
	if (strstr(err.msg, needle) == NULL) {
		fprintf(stderr, "error '%s' lacks '%s'\n", err.msg, needle);
		CU_FAIL("error message");
	}
}

#define AGENT "[Agent]\nName = b.example.net\nListen = 127.0.0.1:5683\nDatabase = /x\n"

static void test_errors(void)
{
	expect_error("[Agent]\nName = b\nListen = 127.0.0.1:1\nDatabase = /x\n", ":2:");
	expect_error(AGENT "Bogus = 1\n", "unknown key 'Bogus'");
	expect_error(AGENT "[Sensor]\nName = t\nType = number\nDriver = simulated\n",
		     "needs State");
	expect_error(AGENT "[Sensor]\nName = t\nType = enum\nDriver = simulated\nState = /s\n",
		     "Values is required");
	expect_error(AGENT "[Sensor]\nName = a/b\nType = number\nDriver = simulated\nState = /s\n",
		     ":6:");
	expect_error(AGENT "[Action]\nName = p\nType = text\nDriver = simulated\nState = /s\n",
		     ":7:");
	expect_error(AGENT "[Action]\nName = p\nType = boolean\nDriver = command\nProgram = rel\n",
		     "absolute");
	expect_error(AGENT "[Sensor]\nName = t\nType = number\nDriver = simulated\nState = /s\n"
			   "[Sensor]\nName = t\nType = number\nDriver = simulated\nState = /s\n",
		     "two [Sensor] sections named 't'");
	expect_error(AGENT "[Peer]\nDevice = a.example.net\nAddress = 10.0.0.1\n"
			   "[Peer]\nDevice = c.example.net\nAddress = 10.0.0.1\n",
		     "repeated");
	expect_error(AGENT "[Peer]\nDevice = b.example.net\nAddress = 10.0.0.1\n", "own Name");
	expect_error(AGENT "[Peer]\nDevice = a.example.net\nAddress = host.example\n", ":7:");
	expect_error("[Sensor]\nName = t\nType = number\nDriver = simulated\nState = /s\n",
		     "missing section [Agent]");
}

/* NodeSocket: [Peer] Address becomes optional (resolved through the node). */
static void test_node_socket(void)
{
	struct rcp_agent_config *cfg;
	struct ntm_conf_err err;

	expect_error(AGENT "[Peer]\nDevice = a.example.net\n",
		     "Address is required without [Agent] NodeSocket");
	expect_error(AGENT "NodeSocket =\n", ":5:");
	CU_ASSERT_EQUAL_FATAL(load(AGENT "NodeSocket = /run/ntm/node.sock\n"
					 "[Peer]\nDevice = A.example.net\nActionDeadline = 9\n"
					 "[Peer]\nDevice = c.example.net\nAddress = 10.0.0.3\n"
					 "[Peer]\nDevice = d.example.net\n",
				   &cfg, &err),
			      0);
	CU_ASSERT_STRING_EQUAL(cfg->node_socket, "/run/ntm/node.sock");
	CU_ASSERT_EQUAL(cfg->n_peers, 3);
	CU_ASSERT_STRING_EQUAL(cfg->peers[0].fqdn, "a.example.net");
	CU_ASSERT_EQUAL(cfg->peers[0].addr.len, 0);
	CU_ASSERT_EQUAL(cfg->peers[0].deadline_s, 9);
	CU_ASSERT_NOT_EQUAL(cfg->peers[1].addr.len, 0);
	rcp_agent_config_destroy(cfg);
	/* without it, today's behaviour */
	CU_ASSERT_EQUAL_FATAL(load(full, &cfg, &err), 0);
	CU_ASSERT_PTR_NULL(cfg->node_socket);
	rcp_agent_config_destroy(cfg);
}

/* Driver = command: Program's words, Timeout, KeyRetention, a [Peer]'s ActionDeadline. */
static void test_command_and_ttl(void)
{
	static const char text[] = AGENT "KeyRetention = 86400\n"
					 "[Sensor]\nName = t\nType = number\nDriver = command\n"
					 "Program = /usr/lib/ntm/thermo  --bus\t1\nTimeout = 2\n"
					 "[Peer]\nDevice = a.example.net\nAddress = 10.0.0.1\n"
					 "ActionDeadline = 600\n";
	struct rcp_agent_config *cfg;
	struct ntm_conf_err err;
	const struct rcp_point_conf *p;

	CU_ASSERT_EQUAL_FATAL(load(text, &cfg, &err), 0);
	p = rcp_agent_config_point(cfg, RCP_POINT_SENSOR, "t");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->driver, RCP_DRIVER_COMMAND);
	CU_ASSERT_STRING_EQUAL(p->argv[0], "/usr/lib/ntm/thermo");
	CU_ASSERT_STRING_EQUAL(p->argv[1], "--bus");
	CU_ASSERT_STRING_EQUAL(p->argv[2], "1");
	CU_ASSERT_PTR_NULL(p->argv[3]);
	CU_ASSERT_EQUAL(p->timeout_s, 2);
	CU_ASSERT_EQUAL(cfg->retention_s, 86400);
	CU_ASSERT_EQUAL(cfg->deadline_s, RCP_AGENT_DEADLINE_DEFAULT_S);
	CU_ASSERT_EQUAL(cfg->peers[0].deadline_s, 600);
	rcp_agent_config_destroy(cfg);
	CU_ASSERT_EQUAL_FATAL(load(AGENT, &cfg, &err), 0);
	CU_ASSERT_EQUAL(cfg->retention_s, 7 * 86400);
	CU_ASSERT_EQUAL(cfg->policy_fetch_ms, RCP_AGENT_POLICY_FETCH_DEFAULT_MS);
	rcp_agent_config_destroy(cfg);
	CU_ASSERT_EQUAL_FATAL(load(AGENT "PolicyFetchTimeout = 750\n", &cfg, &err), 0);
	CU_ASSERT_EQUAL(cfg->policy_fetch_ms, 750);
	rcp_agent_config_destroy(cfg);
	expect_error(AGENT "PolicyFetchTimeout = 10\n", "agent.conf:5:");
	expect_error(AGENT "KeyRetention = 3600\n", "agent.conf:5:");
	expect_error(AGENT "[Peer]\nDevice = a.example.net\nAddress = 10.0.0.1\n"
			   "ActionDeadline = 0\n",
		     "agent.conf:8:");
	expect_error(AGENT "[Sensor]\nName = t\nType = number\nDriver = command\n"
			   "Program = /p 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
		     "agent.conf:9: invalid Program in [Sensor]: more than 16 words");
	expect_error(AGENT "[Sensor]\nName = t\nType = number\nDriver = command\n"
			   "Program = /p\nTimeout = 0\n",
		     "agent.conf:10:");
}

static void test_actreq_roundtrip(void)
{
	const char text[] = "{\"key\":\"a.example.net/cool-down/7/0\",\"value\":21.5,"
			    "\"params\":{\"mode\":\"eco\",\"fast\":true}}";
	struct rcp_actreq req, again;
	char why[RCP_ACTREQ_WHY_MAX];
	char *out;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(rcp_actreq_decode(text, strlen(text), &req, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(req.key, "a.example.net/cool-down/7/0");
	CU_ASSERT_EQUAL(req.action.value.num, 21500000);
	CU_ASSERT_EQUAL(req.action.n_params, 2);
	CU_ASSERT_EQUAL_FATAL(rcp_actreq_encode(req.key, &req.action, &out, &len), 0);
	CU_ASSERT_EQUAL_FATAL(rcp_actreq_decode(out, len, &again, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(again.key, req.key);
	CU_ASSERT(rcp_value_eq(&again.action.value, &req.action.value));
	CU_ASSERT_EQUAL(again.action.n_params, 2);
	ntm_free(out);
	rcp_actreq_fini(&again);
	rcp_actreq_fini(&req);
}

static void expect_bad(const char *text)
{
	struct rcp_actreq req;
	char why[RCP_ACTREQ_WHY_MAX] = "";

	CU_ASSERT_EQUAL(rcp_actreq_decode(text, strlen(text), &req, why, sizeof(why)), -EBADMSG);
	CU_ASSERT(why[0] != '\0');
	CU_ASSERT_EQUAL(req.key[0], '\0');
}

static void test_actreq_bad(void)
{
	expect_bad("");
	expect_bad("[]");
	expect_bad("{}");
	expect_bad("{\"value\":true}");
	expect_bad("{\"key\":\"k\",\"extra\":1}");
	expect_bad("{\"key\":\"has space\"}");
	expect_bad("{\"key\":7}");
	expect_bad("{\"key\":\"k\",\"value\":1e3}");
	expect_bad("{\"key\":\"k\",\"value\":null}");
	expect_bad("{\"key\":\"k\",\"value\":[1]}");
	expect_bad("{\"key\":\"k\",\"params\":{\"and\":1}}");
	expect_bad("{\"key\":\"k\",\"params\":[]}");
	expect_bad("{\"key\":\"k\"} trailing");
	expect_bad("{\"key\":\"k\",}");
	expect_bad("{'key':'k'}");
}

/* [Provisioning] OnProvisioned and its timeout (default 60 s, 1..3600). */
static void test_on_provisioned(void)
{
	struct rcp_agent_config *cfg;
	struct ntm_conf_err err;

	CU_ASSERT_EQUAL_FATAL(load(AGENT
				   "[Provisioning]\nDevMgr = http://192.0.2.1:8470\n"
				   "SecretFile = /s\nNodeConfig = /etc/ntm/ntm0.conf\n"
				   "NodeKeyFile = /k\n"
				   "OnProvisioned = systemctl enable --now ntm-node@ntm0.service\n"
				   "OnProvisionedTimeout = 20\n",
				   &cfg, &err),
			      0);
	CU_ASSERT_STRING_EQUAL(cfg->prov_hook, "systemctl enable --now ntm-node@ntm0.service");
	CU_ASSERT_EQUAL(cfg->prov_hook_timeout_s, 20);
	rcp_agent_config_destroy(cfg);
	CU_ASSERT_EQUAL_FATAL(load(full, &cfg, &err), 0);
	CU_ASSERT_PTR_NULL(cfg->prov_hook);
	CU_ASSERT_EQUAL(cfg->prov_hook_timeout_s, RCP_AGENT_HOOK_TIMEOUT_DEFAULT_S);
	rcp_agent_config_destroy(cfg);
	expect_error(AGENT "[Provisioning]\nDevMgr = http://192.0.2.1:8470\nSecretFile = /s\n"
			   "NodeConfig = /c\nNodeKeyFile = /k\nOnProvisionedTimeout = 0\n",
		     "OnProvisionedTimeout");
	expect_error(AGENT "[Provisioning]\nDevMgr = http://192.0.2.1:8470\nSecretFile = /s\n"
			   "NodeConfig = /c\nNodeKeyFile = /k\nOnProvisioned =\n",
		     "OnProvisioned");
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_full),
	NTM_TEST(test_values),
	NTM_TEST(test_errors),
	NTM_TEST(test_node_socket),
	NTM_TEST(test_command_and_ttl),
	NTM_TEST(test_on_provisioned),
	NTM_TEST(test_actreq_roundtrip),
	NTM_TEST(test_actreq_bad),
};

NTM_TEST_MAIN("agent_config", cases)
