/* SPDX-License-Identifier: MIT */
/*
 * common/dns against a fake DNS server (fake_dns.h) that runs on the test's
 * own uv loop, one loop per test; every test checks uv_loop_close() == 0.
 */
#include "common/dns.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include "common/alloc.h"
#include "fake_dns.h"
#include "ntm_test.h"

enum {
	GUARD_MS = 5000,
	NAME_CAP = 256,
	MAX_RESULTS = 8,
	MSG_CAP = FAKE_DNS_MSG_CAP,
};

/* ---------------------------------------------------------------- fixture */

struct fx {
	uv_loop_t loop;
	struct fake_dns fake;
	uv_timer_t guard;
	struct ntm_dns *dns; /* NULL once ntm_dns_close() was called */
	int closes;	     /* ntm_dns_close() calls */
	int closed;	     /* close callbacks seen */
};

/* One callback's record: everything is copied, the callback's data is borrowed. */
struct result {
	struct fx *fx;
	bool started; /* the query function has returned 0 */
	int calls;
	int err;
	struct ntm_dns_addr addrs[MAX_RESULTS];
	struct ntm_dns_srv srv[MAX_RESULTS];
	char targets[MAX_RESULTS][NAME_CAP];
	size_t n;
	uint8_t msg[MSG_CAP];
	size_t len;
	int *total;	  /* optional: counts calls over several results */
	bool close_here;  /* call ntm_dns_close() from this callback */
	int resubmit_err; /* what a query started from this callback returned */
};

static void on_guard(uv_timer_t *t)
{
	CU_FAIL("test guard timer expired");
	uv_stop(t->loop);
}

static void on_dns_closed(void *arg)
{
	struct fx *fx = arg;

	fx->closed++;
}

static bool fx_start(struct fx *fx, enum fake_dns_mode mode, int family)
{
	memset(fx, 0, sizeof(*fx));
	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&fx->loop), 0);
	uv_timer_init(&fx->loop, &fx->guard);
	uv_timer_start(&fx->guard, on_guard, GUARD_MS, 0);
	uv_unref((uv_handle_t *)&fx->guard);
	if (fake_dns_start(&fx->loop, &fx->fake, family) < 0) {
		return false;
	}
	fx->fake.mode = mode;
	return true;
}

static int fx_create_dns(struct fx *fx, unsigned timeout_ms, unsigned tries)
{
	const char *servers[] = { fx->fake.server };
	struct ntm_dns_config cfg = { servers, 1, timeout_ms, tries };

	return ntm_dns_create(&fx->loop, &cfg, &fx->dns);
}

static bool fx_init_family(struct fx *fx, enum fake_dns_mode mode, int family, unsigned timeout_ms,
			   unsigned tries)
{
	if (!fx_start(fx, mode, family)) {
		return false;
	}
	CU_ASSERT_EQUAL_FATAL(fx_create_dns(fx, timeout_ms, tries), 0);
	return true;
}

static void fx_init(struct fx *fx, enum fake_dns_mode mode)
{
	CU_ASSERT_FATAL(fx_init_family(fx, mode, AF_INET, 300, 2));
}

/* Closes everything and checks that the loop closes cleanly. */
static void fx_close_dns(struct fx *fx)
{
	ntm_dns_close(fx->dns, on_dns_closed, fx);
	fx->dns = NULL;
	fx->closes++;
}

static void fx_fini(struct fx *fx)
{
	if (fx->dns != NULL) {
		fx_close_dns(fx);
		CU_ASSERT_EQUAL(fx->closed, 0); /* only from the last close callback */
	}
	uv_close((uv_handle_t *)&fx->fake.udp, NULL);
	uv_close((uv_handle_t *)&fx->guard, NULL);
	CU_ASSERT_EQUAL(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
	CU_ASSERT_EQUAL(fx->closed, fx->closes);
	CU_ASSERT_EQUAL(uv_loop_close(&fx->loop), 0);
}

/* Runs the loop until `*count` reaches `want` (the guard timer bounds it). */
static void run_until(struct fx *fx, const int *count, int want)
{
	uv_ref((uv_handle_t *)&fx->guard);
	while (*count < want) {
		if (uv_run(&fx->loop, UV_RUN_ONCE) == 0 && *count < want) {
			CU_FAIL("loop ran dry");
			break;
		}
		if (!uv_is_active((uv_handle_t *)&fx->guard)) {
			break;
		}
	}
	uv_unref((uv_handle_t *)&fx->guard);
}

static void on_resolved(int err, const struct ntm_dns_addr *addrs, size_t n, void *arg);

static void record(struct result *r, int err)
{
	CU_ASSERT(r->started); /* never from inside the query function */
	r->calls++;
	r->err = err;
	if (r->total != NULL) {
		(*r->total)++;
	}
	if (r->close_here) {
		struct ntm_dns *dns = r->fx->dns;

		fx_close_dns(r->fx);
		r->resubmit_err = ntm_dns_resolve(dns, "a.test", AF_INET, on_resolved, r);
	}
}

static void on_resolved(int err, const struct ntm_dns_addr *addrs, size_t n, void *arg)
{
	struct result *r = arg;

	CU_ASSERT_EQUAL(err == 0, addrs != NULL && n > 0);
	r->n = n < MAX_RESULTS ? n : MAX_RESULTS;
	if (r->n > 0) {
		memcpy(r->addrs, addrs, r->n * sizeof(*addrs));
	}
	record(r, err);
}

static void on_msg(int err, const uint8_t *msg, size_t len, void *arg)
{
	struct result *r = arg;

	CU_ASSERT_EQUAL(msg == NULL, len == 0);
	r->len = len < sizeof(r->msg) ? len : sizeof(r->msg);
	if (r->len > 0) {
		memcpy(r->msg, msg, r->len);
	}
	record(r, err);
}

static void on_srv(int err, const struct ntm_dns_srv *srv, size_t n, void *arg)
{
	struct result *r = arg;

	CU_ASSERT_EQUAL(err == 0, srv != NULL && n > 0);
	r->n = n < MAX_RESULTS ? n : MAX_RESULTS;
	for (size_t i = 0; i < r->n; i++) {
		r->srv[i] = srv[i];
		snprintf(r->targets[i], sizeof(r->targets[i]), "%s", srv[i].target);
		r->srv[i].target = r->targets[i];
	}
	record(r, err);
}

static void start_resolve(struct fx *fx, struct result *r, const char *name, int family)
{
	memset(r, 0, sizeof(*r));
	r->fx = fx;
	CU_ASSERT_EQUAL_FATAL(ntm_dns_resolve(fx->dns, name, family, on_resolved, r), 0);
	r->started = true;
}

static void resolve(struct fx *fx, struct result *r, const char *name, int family)
{
	start_resolve(fx, r, name, family);
	run_until(fx, &r->calls, 1);
	CU_ASSERT_EQUAL(r->calls, 1);
}

static void query(struct fx *fx, struct result *r, const char *name, int type)
{
	memset(r, 0, sizeof(*r));
	r->fx = fx;
	CU_ASSERT_EQUAL_FATAL(ntm_dns_query(fx->dns, name, FAKE_C_IN, type, on_msg, r), 0);
	r->started = true;
	run_until(fx, &r->calls, 1);
	CU_ASSERT_EQUAL(r->calls, 1);
}

static void query_srv(struct fx *fx, struct result *r, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->fx = fx;
	CU_ASSERT_EQUAL_FATAL(ntm_dns_query_srv(fx->dns, name, on_srv, r), 0);
	r->started = true;
	run_until(fx, &r->calls, 1);
	CU_ASSERT_EQUAL(r->calls, 1);
}

static bool has_addr(const struct result *r, const char *ip)
{
	char buf[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < r->n; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&r->addrs[i].ss;

		if (sa->sa_family == AF_INET) {
			uv_ip4_name((const struct sockaddr_in *)sa, buf, sizeof(buf));
			CU_ASSERT_EQUAL(r->addrs[i].len, sizeof(struct sockaddr_in));
		} else {
			uv_ip6_name((const struct sockaddr_in6 *)sa, buf, sizeof(buf));
			CU_ASSERT_EQUAL(r->addrs[i].len, sizeof(struct sockaddr_in6));
		}
		if (strcmp(buf, ip) == 0) {
			return true;
		}
	}
	return false;
}

/* ---------------------------------------------------------------- tests */

static void test_errno_map(void)
{
	CU_ASSERT_EQUAL(ntm_dns_errno(ARES_SUCCESS), 0);
	CU_ASSERT_EQUAL(ntm_dns_errno(ARES_ENOTFOUND), -ENOENT);
	CU_ASSERT_EQUAL(ntm_dns_errno(ARES_ENONAME), -ENOENT);
	CU_ASSERT_EQUAL(ntm_dns_errno(ARES_ENODATA), -ENODATA);
	CU_ASSERT_EQUAL(ntm_dns_errno(ARES_ETIMEOUT), -ETIMEDOUT);
	CU_ASSERT_EQUAL(ntm_dns_errno(ARES_ECONNREFUSED), -ECONNREFUSED);
	CU_ASSERT_EQUAL(ntm_dns_errno(ARES_ENOMEM), -ENOMEM);
	CU_ASSERT_EQUAL(ntm_dns_errno(ARES_ECANCELLED), -ECANCELED);
	CU_ASSERT_EQUAL(ntm_dns_errno(ARES_EDESTRUCTION), -ECANCELED);
	CU_ASSERT_EQUAL(ntm_dns_errno(ARES_EBADRESP), -EBADMSG);
	CU_ASSERT_EQUAL(ntm_dns_errno(ARES_EBADNAME), -EINVAL);
	CU_ASSERT_EQUAL(ntm_dns_errno(ARES_ESERVFAIL), -EIO);
	CU_ASSERT_EQUAL(ntm_dns_errno(ARES_EREFUSED), -EIO);
	CU_ASSERT_EQUAL(ntm_dns_errno(12345), -EIO);
}

static void expect_config(int want, const char *server, unsigned timeout_ms, unsigned tries)
{
	uv_loop_t loop;
	struct ntm_dns *dns = (struct ntm_dns *)&loop;
	const char *servers[] = { server };
	struct ntm_dns_config cfg = { servers, server ? 1 : 0, timeout_ms, tries };

	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	CU_ASSERT_EQUAL(ntm_dns_create(&loop, &cfg, &dns), want);
	CU_ASSERT_EQUAL(dns == NULL, want != 0);
	ntm_dns_close(dns, NULL, NULL);
	CU_ASSERT_EQUAL(uv_run(&loop, UV_RUN_DEFAULT), 0);
	CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
}

static void test_config(void)
{
	static const char *const bad[] = {
		"",
		"1.2.3.4:0",
		"1.2.3.4:65536",
		"1.2.3.4:",
		"1.2.3.4:5x",
		"[::1",
		"[::1]x",
		"[::1]:",
		"[1.2.3.4]:53",
		"dns.example:53",
		"1.2.3.256",
		"fe80::1%eth0",
		"0123456789012345678901234567890123456789012345678901234567890123456789",
	};
	static const char *const good[] = {
		"192.0.2.1",	 "192.0.2.1:5353",	"2001:db8::1",
		"[2001:db8::1]", "[2001:db8::1]:65535",
	};
	const char *many[NTM_DNS_MAX_SERVERS + 1];
	struct ntm_dns_config cfg = { many, NTM_DNS_MAX_SERVERS + 1, 0, 0 };
	struct ntm_dns *dns = NULL;
	uv_loop_t loop;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_config(-EINVAL, bad[i], 0, 0);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		expect_config(0, good[i], 0, 0);
	}
	expect_config(0, NULL, 0, 0); /* resolv.conf */
	expect_config(-EINVAL, "192.0.2.1", NTM_DNS_MAX_TIMEOUT_MS + 1, 0);
	expect_config(-EINVAL, "192.0.2.1", 0, NTM_DNS_MAX_TRIES + 1);
	expect_config(0, "192.0.2.1", NTM_DNS_MAX_TIMEOUT_MS, NTM_DNS_MAX_TRIES);

	for (size_t i = 0; i < NTM_DNS_MAX_SERVERS + 1; i++) {
		many[i] = "192.0.2.1";
	}
	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	CU_ASSERT_EQUAL(ntm_dns_create(&loop, &cfg, &dns), -EINVAL);
	cfg.n_servers = NTM_DNS_MAX_SERVERS;
	CU_ASSERT_EQUAL(ntm_dns_create(&loop, &cfg, &dns), 0);
	ntm_dns_close(dns, NULL, NULL);
	CU_ASSERT_EQUAL(ntm_dns_create(&loop, NULL, &dns), 0); /* NULL cfg: the system's */
	ntm_dns_close(dns, NULL, NULL);
	CU_ASSERT_EQUAL(uv_run(&loop, UV_RUN_DEFAULT), 0);
	CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
}

static void test_bad_arguments(void)
{
	struct fx fx;
	char longname[NTM_DNS_MAX_NAME + 3];
	uint8_t q[MSG_CAP];

	fx_init(&fx, FAKE_ANSWER);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CU_ASSERT_EQUAL(ntm_dns_resolve(fx.dns, "", AF_INET, on_resolved, NULL), -EINVAL);
	CU_ASSERT_EQUAL(ntm_dns_resolve(fx.dns, NULL, AF_INET, on_resolved, NULL), -EINVAL);
	CU_ASSERT_EQUAL(ntm_dns_resolve(fx.dns, longname, AF_INET, on_resolved, NULL), -EINVAL);
	CU_ASSERT_EQUAL(ntm_dns_resolve(fx.dns, "a.test", AF_UNIX, on_resolved, NULL),
			-EAFNOSUPPORT);
	CU_ASSERT_EQUAL(ntm_dns_query(fx.dns, "a.test", FAKE_C_IN, 0x10000, on_msg, NULL), -EINVAL);
	CU_ASSERT_EQUAL(ntm_dns_query_srv(fx.dns, longname, on_srv, NULL), -EINVAL);
	CU_ASSERT_EQUAL(ntm_dns_forward(fx.dns, q, NTM_DNS_HEADER_LEN - 1, on_msg, NULL), -EINVAL);
	CU_ASSERT_EQUAL(ntm_dns_forward(fx.dns, NULL, 0, on_msg, NULL), -EINVAL);
	CU_ASSERT_EQUAL(fx.fake.queries, 0);
	fx_fini(&fx);
}

static void check_a_aaaa(struct fx *fx)
{
	struct result r;

	resolve(fx, &r, "a.test", AF_INET);
	CU_ASSERT_EQUAL(r.err, 0);
	CU_ASSERT_EQUAL(r.n, 2);
	CU_ASSERT(has_addr(&r, "192.0.2.1"));
	CU_ASSERT(has_addr(&r, "192.0.2.2"));
	CU_ASSERT_EQUAL(r.addrs[0].ttl, FAKE_DNS_TTL);

	resolve(fx, &r, "a.test", AF_INET6);
	CU_ASSERT_EQUAL(r.err, 0);
	CU_ASSERT_EQUAL(r.n, 1);
	CU_ASSERT(has_addr(&r, "2001:db8::1"));

	resolve(fx, &r, "A.Test.", AF_UNSPEC);
	CU_ASSERT_EQUAL(r.err, 0);
	CU_ASSERT_EQUAL(r.n, 3);
	CU_ASSERT(has_addr(&r, "192.0.2.2") && has_addr(&r, "2001:db8::1"));
	CU_ASSERT_EQUAL(fx->fake.queries, 4);
}

static void test_resolve_v4_server(void)
{
	struct fx fx;

	fx_init(&fx, FAKE_ANSWER);
	check_a_aaaa(&fx);
	fx_fini(&fx);
}

static void test_resolve_v6_server(void)
{
	struct fx fx;

	if (!fx_init_family(&fx, FAKE_ANSWER, AF_INET6, 300, 2)) {
		fprintf(stderr, "(no IPv6 loopback: skipped) ");
		fx_fini(&fx);
		return;
	}
	check_a_aaaa(&fx);
	fx_fini(&fx);
}

/* c-ares answers numeric names itself: still never before ntm_dns_resolve returns. */
static void test_resolve_numeric_is_deferred(void)
{
	struct fx fx;
	struct result r;

	fx_init(&fx, FAKE_ANSWER);
	start_resolve(&fx, &r, "192.0.2.77", AF_INET);
	CU_ASSERT_EQUAL(r.calls, 0);
	run_until(&fx, &r.calls, 1);
	CU_ASSERT_EQUAL(r.calls, 1);
	CU_ASSERT_EQUAL(r.err, 0);
	CU_ASSERT_EQUAL(r.n, 1);
	CU_ASSERT(has_addr(&r, "192.0.2.77"));
	CU_ASSERT_EQUAL(r.addrs[0].ttl, 0);
	CU_ASSERT_EQUAL(fx.fake.queries, 0);
	fx_fini(&fx);
}

static void test_nxdomain_nodata(void)
{
	struct fx fx;
	struct result r;

	fx_init(&fx, FAKE_ANSWER);
	resolve(&fx, &r, "nx.test", AF_INET);
	CU_ASSERT_EQUAL(r.err, -ENOENT);
	CU_ASSERT_EQUAL(r.n, 0);

	query(&fx, &r, "nx.test", FAKE_T_A);
	CU_ASSERT_EQUAL(r.err, -ENOENT);
	CU_ASSERT_FATAL(r.len >= NTM_DNS_HEADER_LEN); /* the answer came with the error */
	CU_ASSERT_EQUAL(fake_dns_msg_rcode(r.msg, r.len), FAKE_RCODE_NXDOMAIN);

	query_srv(&fx, &r, "_none._udp.test");
	CU_ASSERT_EQUAL(r.err, -ENOENT);
	CU_ASSERT_EQUAL(r.n, 0);

	query(&fx, &r, "v4only.test", FAKE_T_AAAA);
	CU_ASSERT_EQUAL(r.err, -ENODATA);
	query_srv(&fx, &r, "a.test");
	CU_ASSERT_EQUAL(r.err, -ENODATA);

	query(&fx, &r, "a.test", FAKE_T_A);
	CU_ASSERT_EQUAL(r.err, 0);
	CU_ASSERT_EQUAL(r.len, fx.fake.last_resp_len);
	fx_fini(&fx);
}

static void test_srv_order(void)
{
	static const struct {
		const char *target;
		uint16_t priority, weight, port;
	} want[] = {
		{ "a.test", 10, 60, 3000 },
		{ "aa.test", 10, 60, 3001 },
		{ "b.test", 10, 10, 2000 },
		{ "c.test", 20, 5, 1000 },
	};
	struct fx fx;
	struct result r;

	fx_init(&fx, FAKE_ANSWER);
	query_srv(&fx, &r, "_svc._udp.test");
	CU_ASSERT_EQUAL(r.err, 0);
	CU_ASSERT_EQUAL_FATAL(r.n, 4);
	for (size_t i = 0; i < 4; i++) {
		CU_ASSERT_STRING_EQUAL(r.srv[i].target, want[i].target);
		CU_ASSERT_EQUAL(r.srv[i].priority, want[i].priority);
		CU_ASSERT_EQUAL(r.srv[i].weight, want[i].weight);
		CU_ASSERT_EQUAL(r.srv[i].port, want[i].port);
	}
	fx_fini(&fx);
}

static void test_timeout(void)
{
	struct fx fx;
	struct result r;
	uint64_t start;
	uint64_t elapsed;

	/* 200 ms, one server, two tries: the bound is 200 * (2^2 - 1) = 600 ms. */
	CU_ASSERT_FATAL(fx_init_family(&fx, FAKE_SILENT, AF_INET, 200, 2));
	uv_update_time(&fx.loop);
	start = uv_now(&fx.loop);
	resolve(&fx, &r, "a.test", AF_INET);
	uv_update_time(&fx.loop);
	elapsed = uv_now(&fx.loop) - start;
	CU_ASSERT_EQUAL(r.err, -ETIMEDOUT);
	CU_ASSERT_EQUAL(fx.fake.queries, 2);
	CU_ASSERT(elapsed >= 200);
	CU_ASSERT(elapsed <= 600 + 400);

	start = uv_now(&fx.loop);
	query(&fx, &r, "a.test", FAKE_T_TXT);
	uv_update_time(&fx.loop);
	CU_ASSERT_EQUAL(r.err, -ETIMEDOUT);
	CU_ASSERT_PTR_NULL(r.len ? r.msg : NULL);
	CU_ASSERT(uv_now(&fx.loop) - start <= 600 + 400);
	fx_fini(&fx);
}

static void forward(struct fx *fx, struct result *r, const uint8_t *q, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->fx = fx;
	CU_ASSERT_EQUAL_FATAL(ntm_dns_forward(fx->dns, q, len, on_msg, r), 0);
	r->started = true;
	run_until(fx, &r->calls, 1);
	CU_ASSERT_EQUAL(r->calls, 1);
}

static void test_forward_roundtrip(void)
{
	struct fx fx;
	struct result r;
	uint8_t q[MSG_CAP];
	size_t len;
	uint16_t wire_id;

	fx_init(&fx, FAKE_ANSWER);
	len = fake_dns_build_query(q, sizeof(q), 0xbeef, "a.test", FAKE_T_A);
	forward(&fx, &r, q, len);
	CU_ASSERT_EQUAL(r.err, 0);
	CU_ASSERT_EQUAL_FATAL(r.len, fx.fake.last_resp_len);
	CU_ASSERT_EQUAL(fake_dns_msg_id(r.msg, r.len), 0xbeef);
	/* Byte for byte what the server sent, except the ID c-ares chose. */
	CU_ASSERT_EQUAL(fake_dns_msg_id(fx.fake.last_resp, fx.fake.last_resp_len), fx.fake.last_id);
	CU_ASSERT_EQUAL(memcmp(r.msg + 2, fx.fake.last_resp + 2, r.len - 2), 0);
	/* Upstream saw a random ID, not the client's (false alarm: 2^-32). */
	wire_id = fx.fake.last_id;
	forward(&fx, &r, q, len);
	CU_ASSERT_EQUAL(fake_dns_msg_id(r.msg, r.len), 0xbeef);
	CU_ASSERT(wire_id != 0xbeef || fx.fake.last_id != 0xbeef);

	/* NXDOMAIN is an answer like any other for a forwarder. */
	len = fake_dns_build_query(q, sizeof(q), 0x0102, "nx.test", FAKE_T_AAAA);
	forward(&fx, &r, q, len);
	CU_ASSERT_EQUAL(r.err, 0);
	CU_ASSERT_EQUAL_FATAL(r.len, fx.fake.last_resp_len);
	CU_ASSERT_EQUAL(fake_dns_msg_id(r.msg, r.len), 0x0102);
	CU_ASSERT_EQUAL(fake_dns_msg_rcode(r.msg, r.len), FAKE_RCODE_NXDOMAIN);
	CU_ASSERT_EQUAL(memcmp(r.msg + 2, fx.fake.last_resp + 2, r.len - 2), 0);
	fx_fini(&fx);
}

static void test_garbage_answers(void)
{
	struct fx fx;
	struct result r;
	uint8_t q[MSG_CAP];
	size_t len;

	/* A record cut short: whoever parses it reports -EBADMSG. */
	fx_init(&fx, FAKE_TRUNCATED);
	resolve(&fx, &r, "a.test", AF_INET);
	CU_ASSERT_EQUAL(r.err, -EBADMSG);
	query_srv(&fx, &r, "_svc._udp.test");
	CU_ASSERT_EQUAL(r.err, -EBADMSG);
	query(&fx, &r, "a.test", FAKE_T_A); /* the raw query does not parse records */
	CU_ASSERT_EQUAL(r.err, 0);
	CU_ASSERT_EQUAL(r.len, fx.fake.last_resp_len);
	fx_fini(&fx);

	/* Packets that cannot be an answer to the query are dropped: timeout. */
	CU_ASSERT_FATAL(fx_init_family(&fx, FAKE_GARBAGE_SHORT, AF_INET, 100, 1));
	resolve(&fx, &r, "a.test", AF_UNSPEC);
	CU_ASSERT_EQUAL(r.err, -ETIMEDOUT);
	fx_fini(&fx);
	CU_ASSERT_FATAL(fx_init_family(&fx, FAKE_GARBAGE_ID, AF_INET, 100, 1));
	resolve(&fx, &r, "a.test", AF_INET);
	CU_ASSERT_EQUAL(r.err, -ETIMEDOUT);
	len = fake_dns_build_query(q, sizeof(q), 7, "a.test", FAKE_T_A);
	forward(&fx, &r, q, len);
	CU_ASSERT_EQUAL(r.err, -ETIMEDOUT);
	CU_ASSERT_EQUAL(r.len, 0);
	fx_fini(&fx);
}

/* Starts one query of every kind; returns how many were started (0 or -ENOMEM each). */
static int start_all(struct fx *fx, struct result *r, int *total, const char *name)
{
	uint8_t q[MSG_CAP];
	size_t len = fake_dns_build_query(q, sizeof(q), 0x4242, name, FAKE_T_A);
	char srv_name[NAME_CAP];
	int rc[6];
	int started = 0;

	snprintf(srv_name, sizeof(srv_name), "_x._udp.%s", name);
	for (int i = 0; i < 6; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].fx = fx;
		r[i].total = total;
	}
	rc[0] = ntm_dns_resolve(fx->dns, name, AF_UNSPEC, on_resolved, &r[0]);
	rc[1] = ntm_dns_resolve(fx->dns, name, AF_INET6, on_resolved, &r[1]);
	rc[2] = ntm_dns_query(fx->dns, name, FAKE_C_IN, FAKE_T_TXT, on_msg, &r[2]);
	rc[3] = ntm_dns_query_srv(fx->dns, srv_name, on_srv, &r[3]);
	rc[4] = ntm_dns_forward(fx->dns, q, len, on_msg, &r[4]);
	rc[5] = ntm_dns_resolve(fx->dns, "192.0.2.99", AF_INET, on_resolved, &r[5]);
	for (int i = 0; i < 6; i++) {
		CU_ASSERT(rc[i] == 0 || rc[i] == -ENOMEM);
		r[i].started = rc[i] == 0;
		r[i].calls = rc[i] == 0 ? 0 : 1; /* a refused query counts as done */
		started += rc[i] == 0;
	}
	CU_ASSERT_EQUAL(*total, 0);
	return started;
}

static void test_close_in_flight(void)
{
	struct fx fx;
	struct result r[6];
	int total = 0;

	fx_init(&fx, FAKE_SILENT);
	CU_ASSERT_EQUAL(start_all(&fx, r, &total, "a.test"), 6);
	/* Let A, AAAA twice, TXT, SRV and the forward reach the wire, then start
	 * another numeric one, which is still deferred when we close. */
	run_until(&fx, &fx.fake.queries, 6);
	CU_ASSERT_EQUAL(total, 1);
	CU_ASSERT_EQUAL(r[5].err, 0);
	total = 0;
	memset(&r[5], 0, sizeof(r[5]));
	r[5].fx = &fx;
	r[5].total = &total;
	CU_ASSERT_EQUAL(ntm_dns_resolve(fx.dns, "192.0.2.98", AF_INET, on_resolved, &r[5]), 0);
	r[5].started = true;
	fx_close_dns(&fx);
	/* Every callback ran inside ntm_dns_close(), once, with -ECANCELED. */
	CU_ASSERT_EQUAL(total, 6);
	for (int i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(r[i].calls, 1);
		CU_ASSERT_EQUAL(r[i].err, -ECANCELED);
		CU_ASSERT_EQUAL(r[i].n, 0);
		CU_ASSERT_EQUAL(r[i].len, 0);
	}
	CU_ASSERT_EQUAL(fx.closed, 0);
	fx_fini(&fx);
	CU_ASSERT_EQUAL(total, 6);
}

static void test_close_from_callback(void)
{
	struct fx fx;
	struct result r[6];
	struct result trigger;
	int total = 0;

	/* From an answer's callback, i.e. inside ares_process_fd(). */
	fx_init(&fx, FAKE_ANSWER);
	CU_ASSERT_EQUAL(start_all(&fx, r, &total, "silent.test"), 6);
	run_until(&fx, &total, 1); /* the numeric one, from the idle handle */
	CU_ASSERT_EQUAL(r[5].err, 0);
	memset(&trigger, 0, sizeof(trigger));
	trigger.fx = &fx;
	trigger.close_here = true;
	CU_ASSERT_EQUAL_FATAL(
		ntm_dns_query(fx.dns, "a.test", FAKE_C_IN, FAKE_T_A, on_msg, &trigger), 0);
	trigger.started = true;
	run_until(&fx, &trigger.calls, 1);
	CU_ASSERT_EQUAL(trigger.err, 0);
	CU_ASSERT_EQUAL(trigger.resubmit_err, -ECANCELED);
	CU_ASSERT_EQUAL(total, 6); /* the teardown ran when the callback returned */
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(r[i].calls, 1);
		CU_ASSERT_EQUAL(r[i].err, -ECANCELED);
	}
	fx_fini(&fx);
	CU_ASSERT_EQUAL(trigger.calls, 1);
	CU_ASSERT_EQUAL(total, 6);

	/* From a deferred delivery, i.e. from the idle handle. */
	fx_init(&fx, FAKE_ANSWER);
	total = 0;
	CU_ASSERT_EQUAL(start_all(&fx, r, &total, "silent.test"), 6);
	r[5].close_here = true;
	run_until(&fx, &total, 6);
	CU_ASSERT_EQUAL(r[5].err, 0);
	CU_ASSERT_EQUAL(r[5].resubmit_err, -ECANCELED);
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(r[i].calls, 1);
		CU_ASSERT_EQUAL(r[i].err, -ECANCELED);
	}
	fx_fini(&fx);
	CU_ASSERT_EQUAL(total, 6);
}

/* Make the n-th of our allocations fail, for every n up to a clean run. */
static void test_alloc_failure(void)
{
	bool clean = false;

	for (long n = 0; n < 64 && !clean; n++) {
		struct fx fx;
		struct result r[6];
		int total = 0;
		int started;
		int rc;

		CU_ASSERT_FATAL(fx_start(&fx, FAKE_ANSWER, AF_INET));
		ntm_alloc_fail_after(n);
		rc = fx_create_dns(&fx, 100, 1);
		if (rc < 0) {
			ntm_alloc_fail_reset();
			CU_ASSERT_EQUAL(rc, -ENOMEM);
			CU_ASSERT_PTR_NULL(fx.dns);
			fx_fini(&fx);
			continue;
		}
		started = start_all(&fx, r, &total, "a.test");
		run_until(&fx, &total, started);
		clean = true;
		for (int i = 0; i < 6; i++) {
			CU_ASSERT_EQUAL(r[i].calls, 1);
			clean &= r[i].started && r[i].err != -ENOMEM && r[i].err != -ETIMEDOUT;
		}
		ntm_alloc_fail_reset();
		fx_fini(&fx);
		CU_ASSERT_EQUAL(total, started);
	}
	CU_ASSERT(clean);
}

/* c-ares 1.18 reports "every server answered SERVFAIL" as ARES_ECONNREFUSED. */
static void test_servfail(void)
{
	struct fx fx;
	struct result r;
	uint8_t q[MSG_CAP];
	size_t len;

	fx_init(&fx, FAKE_SERVFAIL);
	resolve(&fx, &r, "a.test", AF_INET);
	CU_ASSERT_EQUAL(r.err, -ECONNREFUSED);
	query(&fx, &r, "a.test", FAKE_T_A);
	CU_ASSERT_EQUAL(r.err, -ECONNREFUSED);
	CU_ASSERT_EQUAL(r.len, 0);
	len = fake_dns_build_query(q, sizeof(q), 7, "a.test", FAKE_T_A);
	forward(&fx, &r, q, len);
	CU_ASSERT_EQUAL(r.err, -ECONNREFUSED);
	CU_ASSERT_EQUAL(r.len, 0);
	CU_ASSERT_EQUAL(fx.fake.queries, 3 * 2); /* every try went out */
	fx_fini(&fx);
}

/* A server port where nothing listens: ICMP port unreachable. */
static void test_connection_refused(void)
{
	struct fx fx;
	struct result r;

	CU_ASSERT_FATAL(fx_start(&fx, FAKE_ANSWER, AF_INET));
	uv_close((uv_handle_t *)&fx.fake.udp, NULL); /* frees the port, keeps fake.server */
	CU_ASSERT_EQUAL(uv_run(&fx.loop, UV_RUN_NOWAIT), 0);
	CU_ASSERT_EQUAL_FATAL(uv_udp_init(&fx.loop, &fx.fake.udp), 0); /* for fx_fini */
	CU_ASSERT_EQUAL_FATAL(fx_create_dns(&fx, 1000, 1), 0);
	resolve(&fx, &r, "a.test", AF_INET);
	CU_ASSERT_EQUAL(r.err, -ECONNREFUSED);
	fx_fini(&fx);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_errno_map),
	NTM_TEST(test_config),
	NTM_TEST(test_bad_arguments),
	NTM_TEST(test_resolve_v4_server),
	NTM_TEST(test_resolve_v6_server),
	NTM_TEST(test_resolve_numeric_is_deferred),
	NTM_TEST(test_nxdomain_nodata),
	NTM_TEST(test_srv_order),
	NTM_TEST(test_timeout),
	NTM_TEST(test_forward_roundtrip),
	NTM_TEST(test_garbage_answers),
	NTM_TEST(test_servfail),
	NTM_TEST(test_connection_refused),
	NTM_TEST(test_close_in_flight),
	NTM_TEST(test_close_from_callback),
	NTM_TEST(test_alloc_failure),
};

NTM_TEST_MAIN("dns", cases)
