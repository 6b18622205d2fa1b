/* SPDX-License-Identifier: MIT */
/*
 * nodesock.h: the strict decoders of the node's whois and resolve answers,
 * the choice of a VIP, the whois cache (expiry, refresh, flush, capacity)
 * and calls through a real control-socket server on the same loop (the
 * blocking client runs in the thread pool while the loop serves).
 */
#include "recipe/agent/nodesock.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/ctl.h"
#include "common/ctlserver.h"
#include "ntm_test.h"

static json_object *resp(const char *line)
{
	json_object *o = NULL;

	CU_ASSERT_EQUAL_FATAL(ntm_ctl_response_parse(line, strlen(line), &o), 0);
	return o;
}

static int whois(const char *line, const char *vip, struct rcp_whois *w)
{
	json_object *o = resp(line);
	char why[128];
	int rc = rcp_nodesock_parse_whois(o, vip, w, why, sizeof(why));

	json_object_put(o);
	return rc;
}

static int resolve(const char *line, const char *fqdn, struct rcp_resolved *r)
{
	json_object *o = resp(line);
	char why[128];
	int rc = rcp_nodesock_parse_resolve(o, fqdn, r, why, sizeof(why));

	json_object_put(o);
	return rc;
}

static void test_whois(void)
{
	struct rcp_whois w;

	CU_ASSERT_EQUAL(
		whois("{\"ok\":true,\"data\":{\"vip\":\"100.80.0.7\",\"fqdn\":\"A.Home.Example\","
		      "\"vip4\":\"100.80.0.7\",\"vip6\":\"fd00::7\",\"source\":\"dc\"}}",
		      "100.80.0.7", &w),
		0);
	CU_ASSERT_STRING_EQUAL(w.fqdn, "a.home.example");
	/* the same address written otherwise */
	CU_ASSERT_EQUAL(whois("{\"ok\":true,\"data\":{\"vip\":\"fd00:0::7\",\"fqdn\":\"a.b\"}}",
			      "fd00::7", &w),
			0);
	/* a static peer has no name: known, but nobody a recipe can name */
	CU_ASSERT_EQUAL(whois("{\"ok\":true,\"data\":{\"vip\":\"100.80.0.7\",\"fqdn\":null}}",
			      "100.80.0.7", &w),
			0);
	CU_ASSERT_STRING_EQUAL(w.fqdn, "");
	CU_ASSERT_EQUAL(whois("{\"ok\":false,\"code\":\"unknown\",\"error\":\"no peer\"}",
			      "100.80.0.7", &w),
			-ENOENT);
	CU_ASSERT_EQUAL(whois("{\"ok\":false,\"code\":\"timeout\",\"error\":\"x\"}", "1.2.3.4", &w),
			-ETIMEDOUT);
	CU_ASSERT_EQUAL(whois("{\"ok\":false,\"code\":\"denied\",\"error\":\"x\"}", "1.2.3.4", &w),
			-EIO);
}

static void test_whois_strict(void)
{
	static const char *const bad[] = {
		"{\"ok\":true,\"data\":null}",
		"{\"ok\":true,\"data\":[1]}",
		"{\"ok\":true,\"data\":{\"fqdn\":\"a.b\"}}",			    /* no vip */
		"{\"ok\":true,\"data\":{\"vip\":\"100.80.0.8\",\"fqdn\":\"a.b\"}}", /* not asked */
		"{\"ok\":true,\"data\":{\"vip\":7,\"fqdn\":\"a.b\"}}",
		"{\"ok\":true,\"data\":{\"vip\":\"100.80.0.7\",\"fqdn\":\"a.b/c\"}}",
		"{\"ok\":true,\"data\":{\"vip\":\"100.80.0.7\",\"fqdn\":\"\"}}",
		"{\"ok\":true,\"data\":{\"vip\":\"100.80.0.7\",\"fqdn\":\"a b\"}}",
		"{\"ok\":true,\"data\":{\"vip\":\"100.80.0.7\",\"fqdn\":\"a.b\\u0000c.d\"}}",
		"{\"ok\":true,\"data\":{\"vip\":\"100.80.0.7\",\"fqdn\":[\"a.b\"]}}",
		"{\"ok\":true,\"data\":{\"vip\":\"100.80.0.7\",\"fqdn\":\"a.b\",\"vip4\":\"fd00::"
		"1\"}}",
		"{\"ok\":true,\"data\":{\"vip\":\"100.80.0.7\",\"fqdn\":\"a.b\",\"vip6\":\"1.2.3."
		"4\"}}",
	};
	struct rcp_whois w;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(whois(bad[i], "100.80.0.7", &w), -EBADMSG);
		CU_ASSERT_STRING_EQUAL(w.fqdn, "");
	}
	CU_ASSERT_EQUAL(rcp_nodesock_parse_whois(NULL, "1.2.3.4", &w, NULL, 0), -EBADMSG);
}

static void test_resolve(void)
{
	struct rcp_resolved r;
	char text[INET6_ADDRSTRLEN];

	CU_ASSERT_EQUAL(
		resolve("{\"ok\":true,\"data\":{\"fqdn\":\"b.home.example\",\"vip4\":"
			"\"100.80.0.9\",\"vip6\":\"fd00::9\",\"path\":\"direct\",\"ms\":12}}",
			"B.home.example", &r),
		0);
	CU_ASSERT(r.has4 && r.has6);
	CU_ASSERT_STRING_EQUAL(r.path, "direct");
	CU_ASSERT_EQUAL(r.ms, 12);
	inet_ntop(AF_INET6, &r.vip6, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "fd00::9");
	/* the node writes the unspecified address for a family it has none of */
	CU_ASSERT_EQUAL(resolve("{\"ok\":true,\"data\":{\"fqdn\":\"b.c\",\"vip4\":\"100.80.0.9\","
				"\"vip6\":\"::\",\"path\":\"direct\",\"ms\":0}}",
				"b.c", &r),
			0);
	CU_ASSERT(r.has4 && !r.has6);
	CU_ASSERT_EQUAL(resolve("{\"ok\":false,\"code\":\"unknown\",\"error\":\"x\"}", "b.c", &r),
			-ENOENT);
	CU_ASSERT_EQUAL(resolve("{\"ok\":false,\"code\":\"timeout\",\"error\":\"x\"}", "b.c", &r),
			-ETIMEDOUT);
}

static void test_resolve_strict(void)
{
	static const char *const bad[] = {
		/* another name than asked */
		"{\"fqdn\":\"x.c\",\"vip4\":\"100.80.0.9\",\"path\":\"direct\",\"ms\":1}",
		"{\"vip4\":\"100.80.0.9\",\"path\":\"direct\",\"ms\":1}",
		"{\"fqdn\":\"b.c\",\"vip4\":\"0.0.0.0\",\"vip6\":\"::\",\"path\":\"direct\",\"ms\":"
		"1}",
		"{\"fqdn\":\"b.c\",\"path\":\"direct\",\"ms\":1}",
		"{\"fqdn\":\"b.c\",\"vip4\":\"100.80.0.300\",\"path\":\"direct\",\"ms\":1}",
		"{\"fqdn\":\"b.c\",\"vip4\":\"100.80.0.9\",\"path\":\"Direct!\",\"ms\":1}",
		"{\"fqdn\":\"b.c\",\"vip4\":\"100.80.0.9\",\"path\":\"\",\"ms\":1}",
		"{\"fqdn\":\"b.c\",\"vip4\":\"100.80.0.9\",\"ms\":1}",
		"{\"fqdn\":\"b.c\",\"vip4\":\"100.80.0.9\",\"path\":\"direct\",\"ms\":-1}",
		"{\"fqdn\":\"b.c\",\"vip4\":\"100.80.0.9\",\"path\":\"direct\",\"ms\":\"1\"}",
		"{\"fqdn\":\"b.c\",\"vip4\":\"100.80.0.9\",\"path\":\"direct\",\"ms\":1.5}",
	};
	struct rcp_resolved r;
	char line[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line), "{\"ok\":true,\"data\":%s}", bad[i]);
		CU_ASSERT_EQUAL(resolve(line, "b.c", &r), -EBADMSG);
		CU_ASSERT(!r.has4 && !r.has6);
	}
}

static void test_pick(void)
{
	struct rcp_resolved r = { .has4 = true, .has6 = true };
	struct ntm_addr a;

	CU_ASSERT_EQUAL(inet_pton(AF_INET, "100.80.0.9", &r.vip4), 1);
	CU_ASSERT_EQUAL(inet_pton(AF_INET6, "fd00::9", &r.vip6), 1);
	CU_ASSERT_EQUAL(rcp_nodesock_pick(&r, AF_INET6, false, 5683, &a), 0);
	CU_ASSERT_EQUAL(a.sa.sa_family, AF_INET6);
	CU_ASSERT_EQUAL(ntohs(a.sin6.sin6_port), 5683);
	CU_ASSERT_EQUAL(rcp_nodesock_pick(&r, AF_INET, false, 5683, &a), 0);
	CU_ASSERT_EQUAL(a.sa.sa_family, AF_INET);
	CU_ASSERT_EQUAL(a.len, sizeof(struct sockaddr_in));
	r.has6 = false;
	CU_ASSERT_EQUAL(rcp_nodesock_pick(&r, AF_INET6, false, 5683, &a), -EAFNOSUPPORT);
	CU_ASSERT_EQUAL(rcp_nodesock_pick(&r, AF_INET6, true, 5683, &a), 0);
	CU_ASSERT_EQUAL(a.sa.sa_family, AF_INET);
	r.has6 = true;
	r.has4 = false;
	CU_ASSERT_EQUAL(rcp_nodesock_pick(&r, AF_INET, false, 5683, &a), -EAFNOSUPPORT);
	CU_ASSERT_EQUAL(rcp_nodesock_pick(&r, AF_INET, true, 5683, &a), 0);
	CU_ASSERT_EQUAL(a.sa.sa_family, AF_INET6);
}

static void test_ip_text(void)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	struct sockaddr sa = { .sa_family = AF_UNIX };
	char t[INET6_ADDRSTRLEN];

	CU_ASSERT_EQUAL(inet_pton(AF_INET6, "::ffff:100.80.0.7", &s6.sin6_addr), 1);
	CU_ASSERT_EQUAL(rcp_nodesock_ip_text((struct sockaddr *)&s6, t, sizeof(t)), 0);
	CU_ASSERT_STRING_EQUAL(t, "100.80.0.7");
	CU_ASSERT_EQUAL(inet_pton(AF_INET6, "fd00::7", &s6.sin6_addr), 1);
	CU_ASSERT_EQUAL(rcp_nodesock_ip_text((struct sockaddr *)&s6, t, sizeof(t)), 0);
	CU_ASSERT_STRING_EQUAL(t, "fd00::7");
	CU_ASSERT_EQUAL(inet_pton(AF_INET, "100.80.0.8", &s4.sin_addr), 1);
	s4.sin_port = htons(9);
	CU_ASSERT_EQUAL(rcp_nodesock_ip_text((struct sockaddr *)&s4, t, sizeof(t)), 0);
	CU_ASSERT_STRING_EQUAL(t, "100.80.0.8");
	CU_ASSERT_EQUAL(rcp_nodesock_ip_text(&sa, t, sizeof(t)), -EAFNOSUPPORT);
}

static void test_cache(void)
{
	struct rcp_whocache *c;
	char f[RCP_FQDN_MAX + 1];
	uint64_t t = 1000;

	CU_ASSERT_EQUAL_FATAL(rcp_whocache_create(&c), 0);
	CU_ASSERT_EQUAL(rcp_whocache_get(c, "100.80.0.7", t, f), RCP_WHO_MISS);
	CU_ASSERT_EQUAL(rcp_whocache_pending(c, "100.80.0.7", t), 0);
	CU_ASSERT_EQUAL(rcp_whocache_get(c, "100.80.0.7", t, f), RCP_WHO_PENDING);
	rcp_whocache_put(c, "100.80.0.7", "a.b", t);
	CU_ASSERT_EQUAL(rcp_whocache_get(c, "100.80.0.7", t + 1, f), RCP_WHO_HIT);
	CU_ASSERT_STRING_EQUAL(f, "a.b");
	CU_ASSERT_EQUAL(rcp_whocache_get(c, "100.80.0.8", t, f), RCP_WHO_MISS);
	/* refreshed in the back after REFRESH, while the answer is still used */
	t += RCP_WHOCACHE_REFRESH_MS;
	CU_ASSERT_EQUAL(rcp_whocache_get(c, "100.80.0.7", t, f), RCP_WHO_STALE);
	CU_ASSERT_EQUAL(rcp_whocache_pending(c, "100.80.0.7", t), 0);
	CU_ASSERT_EQUAL(rcp_whocache_get(c, "100.80.0.7", t, f), RCP_WHO_HIT);
	rcp_whocache_put(c, "100.80.0.7", "a.b", t);
	/* gone after the TTL */
	t += RCP_WHOCACHE_TTL_MS;
	CU_ASSERT_EQUAL(rcp_whocache_get(c, "100.80.0.7", t, f), RCP_WHO_MISS);
	/* "unknown" flushes every answer */
	rcp_whocache_put(c, "100.80.0.7", "a.b", t);
	rcp_whocache_put(c, "100.80.0.8", "", t);
	CU_ASSERT_EQUAL(rcp_whocache_get(c, "100.80.0.8", t, f), RCP_WHO_HIT);
	CU_ASSERT_STRING_EQUAL(f, "");
	CU_ASSERT_EQUAL(rcp_whocache_flush(c), 2);
	CU_ASSERT_EQUAL(rcp_whocache_get(c, "100.80.0.7", t, f), RCP_WHO_MISS);
	CU_ASSERT_EQUAL(rcp_whocache_pending(c, "100.80.0.9", t), 0);
	rcp_whocache_forget(c, "100.80.0.9");
	CU_ASSERT_EQUAL(rcp_whocache_get(c, "100.80.0.9", t, f), RCP_WHO_MISS);
	rcp_whocache_destroy(c);
}

static void test_cache_full(void)
{
	struct rcp_whocache *c;
	char ip[32], f[RCP_FQDN_MAX + 1];

	CU_ASSERT_EQUAL_FATAL(rcp_whocache_create(&c), 0);
	rcp_whocache_put(c, "10.0.0.1", "old.example", 1);
	for (int i = 0; i < RCP_WHOCACHE_MAX - 1; i++) {
		snprintf(ip, sizeof(ip), "10.1.0.%d", i);
		rcp_whocache_put(c, ip, "x.example", 100);
	}
	/* full: the oldest answer makes room */
	CU_ASSERT_EQUAL(rcp_whocache_pending(c, "10.2.0.1", 200), 0);
	CU_ASSERT_EQUAL(rcp_whocache_get(c, "10.0.0.1", 200, f), RCP_WHO_MISS);
	CU_ASSERT_EQUAL(rcp_whocache_get(c, "10.1.0.0", 200, f), RCP_WHO_HIT);
	rcp_whocache_destroy(c);
	/* pending lookups are never evicted: at most RCP_WHOCACHE_MAX in flight */
	CU_ASSERT_EQUAL_FATAL(rcp_whocache_create(&c), 0);
	for (int i = 0; i < RCP_WHOCACHE_MAX; i++) {
		snprintf(ip, sizeof(ip), "10.1.0.%d", i);
		CU_ASSERT_EQUAL(rcp_whocache_pending(c, ip, 1), 0);
	}
	CU_ASSERT_EQUAL(rcp_whocache_pending(c, "10.2.0.1", 1), -EBUSY);
	rcp_whocache_destroy(c);
}

/* ---------------------------------------------------------------- calls */

struct env {
	uv_loop_t loop;
	struct ntm_ctl_server *srv;
	struct rcp_nodesock *ns;
	char path[64];
	int answers, rc;
	struct rcp_whois who;
	bool closed;
};

static void cmd_whois(struct ntm_ctl_req *req, void *user)
{
	json_object *o = json_object_new_object();

	(void)user;
	json_object_object_add(o, "vip", json_object_new_string("100.80.0.7"));
	json_object_object_add(o, "fqdn", json_object_new_string("a.home.example"));
	ntm_ctl_reply_ok(req, o);
}

static const struct ntm_ctl_cmd cmds[] = {
	{ "whois", NTM_CTL_READ, cmd_whois, "test" },
};

static void on_answer(void *ctx, int rc, json_object *resp)
{
	struct env *e = ctx;
	char why[128];

	e->answers++;
	e->rc = rc;
	if (rc == 0) {
		e->rc = rcp_nodesock_parse_whois(resp, "100.80.0.7", &e->who, why, sizeof(why));
		json_object_put(resp);
	}
	if (e->srv != NULL) {
		ntm_ctl_server_close(e->srv, NULL, NULL);
		e->srv = NULL;
	}
}

static void on_closed(void *arg)
{
	((struct env *)arg)->closed = true;
}

static void test_call(void)
{
	struct env e = { 0 };
	struct ntm_ctl_config cc = { .cmds = cmds, .n_cmds = 1 };

	signal(SIGPIPE, SIG_IGN);
	snprintf(e.path, sizeof(e.path), "/tmp/test_nodesock.%d.sock", (int)getpid());
	cc.path = e.path;
	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&e.loop), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_ctl_server_create(&e.loop, &cc, &e.srv), 0);
	CU_ASSERT_EQUAL_FATAL(rcp_nodesock_create(&e.loop, e.path, &e.ns), 0);
	CU_ASSERT_EQUAL(rcp_nodesock_call(e.ns, "whois", "vip", "100.80.0.7", 2000, on_answer, &e),
			0);
	CU_ASSERT_EQUAL(e.answers, 0); /* never from inside the call */
	CU_ASSERT_EQUAL(rcp_nodesock_pending(e.ns), 1);
	CU_ASSERT_EQUAL(uv_run(&e.loop, UV_RUN_DEFAULT), 0);
	CU_ASSERT_EQUAL(e.answers, 1);
	CU_ASSERT_EQUAL(e.rc, 0);
	CU_ASSERT_STRING_EQUAL(e.who.fqdn, "a.home.example");
	/* the server is gone: the socket no longer exists */
	CU_ASSERT_EQUAL(rcp_nodesock_call(e.ns, "whois", "vip", "100.80.0.7", 2000, on_answer, &e),
			0);
	CU_ASSERT_EQUAL(uv_run(&e.loop, UV_RUN_DEFAULT), 0);
	CU_ASSERT_EQUAL(e.answers, 2);
	CU_ASSERT_EQUAL(e.rc, -ENOENT);
	/* closing with a call in flight: it ends cancelled, then done */
	CU_ASSERT_EQUAL(rcp_nodesock_call(e.ns, "whois", "vip", "100.80.0.7", 2000, on_answer, &e),
			0);
	rcp_nodesock_close(e.ns, on_closed, &e);
	CU_ASSERT(!e.closed);
	CU_ASSERT_EQUAL(uv_run(&e.loop, UV_RUN_DEFAULT), 0);
	CU_ASSERT(e.closed);
	CU_ASSERT_EQUAL(e.answers, 3);
	CU_ASSERT_EQUAL(e.rc, -ECANCELED);
	CU_ASSERT_EQUAL(uv_loop_close(&e.loop), 0);
}

int main(void)
{
	static const struct ntm_test_case cases[] = {
		NTM_TEST(test_whois),	       NTM_TEST(test_whois_strict), NTM_TEST(test_resolve),
		NTM_TEST(test_resolve_strict), NTM_TEST(test_pick),	    NTM_TEST(test_ip_text),
		NTM_TEST(test_cache),	       NTM_TEST(test_cache_full),   NTM_TEST(test_call),
	};

	return ntm_test_run("agent_nodesock", cases, sizeof(cases) / sizeof(cases[0]));
}
