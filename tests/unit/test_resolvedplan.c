/* SPDX-License-Identifier: MIT */
/*
 * What the node registers with systemd-resolved (endnode/resolvedplan.h):
 * which stub addresses become the link's DNS servers, the domains as
 * routing-only domains, comparison with the registered plan.
 */
#include "endnode/resolvedplan.h"

#include <arpa/inet.h>
#include <string.h>

#include "ntm_test.h"

static struct ntm_addr v4(const char *ip, uint16_t port)
{
	struct ntm_addr a;

	memset(&a, 0, sizeof(a));
	a.sin.sin_family = AF_INET;
	a.sin.sin_port = htons(port);
	inet_pton(AF_INET, ip, &a.sin.sin_addr);
	a.len = sizeof(a.sin);
	return a;
}

static struct ntm_addr v6(const char *ip, uint16_t port)
{
	struct ntm_addr a;

	memset(&a, 0, sizeof(a));
	a.sin6.sin6_family = AF_INET6;
	a.sin6.sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &a.sin6.sin6_addr);
	a.len = sizeof(a.sin6);
	return a;
}

static void test_servers(void)
{
	struct ntm_addr listen[] = { v4("100.80.0.1", 53), v6("fd00::1", 53), v4("127.0.0.1", 53),
				     v4("100.80.0.2", 5353), v4("100.80.0.1", 53) };
	struct ntm_addr usable[] = { v4("100.80.0.1", 0), v6("fd00::1", 0), v4("100.80.0.2", 0) };
	struct en_resolved_plan p;
	uint8_t want[4];

	en_resolved_plan_build(&p, 7, listen, 5, usable, 3, NULL, 0);
	CU_ASSERT_EQUAL(p.ifindex, 7);
	/* 127.0.0.1 is not on the link, IPv6 and port 5353 cannot be named, the repeat is one */
	CU_ASSERT_EQUAL_FATAL(p.n_servers, 1);
	inet_pton(AF_INET, "100.80.0.1", want);
	CU_ASSERT_EQUAL(p.servers[0].family, AF_INET);
	CU_ASSERT_EQUAL(p.servers[0].len, 4);
	CU_ASSERT_EQUAL(memcmp(p.servers[0].addr, want, 4), 0);
	CU_ASSERT_FALSE(en_resolved_plan_empty(&p));
	en_resolved_plan_build(&p, 7, listen, 5, NULL, 0, NULL, 0);
	CU_ASSERT_TRUE(en_resolved_plan_empty(&p));
}

static void test_domains(void)
{
	const char *d[] = { "example.net", "", "b.example", "example.net", ".", NULL };
	struct ntm_addr listen = v4("100.80.0.1", 53);
	struct en_resolved_plan p, q;

	en_resolved_plan_build(&p, 3, &listen, 1, &listen, 1, d, 6);
	CU_ASSERT_EQUAL_FATAL(p.n_domains, 2);
	CU_ASSERT_STRING_EQUAL(p.domains[0], "~example.net");
	CU_ASSERT_STRING_EQUAL(p.domains[1], "~b.example");
	en_resolved_plan_build(&q, 3, &listen, 1, &listen, 1, d, 3);
	CU_ASSERT_TRUE(en_resolved_plan_equal(&p, &q));
	en_resolved_plan_build(&q, 3, &listen, 1, &listen, 1, d, 1); /* the DC's domain left */
	CU_ASSERT_FALSE(en_resolved_plan_equal(&p, &q));
	en_resolved_plan_build(&q, 4, &listen, 1, &listen, 1, d, 6); /* another link */
	CU_ASSERT_FALSE(en_resolved_plan_equal(&p, &q));
	en_resolved_plan_build(&q, 3, NULL, 0, NULL, 0, d, 6); /* the stub address went */
	CU_ASSERT_FALSE(en_resolved_plan_equal(&p, &q));
}

static void test_limits(void)
{
	char names[EN_RESOLVED_DOMAINS_MAX + 3][16];
	const char *d[EN_RESOLVED_DOMAINS_MAX + 3];
	char longname[300];
	struct en_resolved_plan p;

	for (size_t i = 0; i < EN_RESOLVED_DOMAINS_MAX + 2; i++) {
		snprintf(names[i], sizeof(names[i]), "d%zu.example", i);
		d[i] = names[i];
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	d[EN_RESOLVED_DOMAINS_MAX + 2] = longname;
	en_resolved_plan_build(&p, 1, NULL, 0, NULL, 0, d, EN_RESOLVED_DOMAINS_MAX + 3);
	CU_ASSERT_EQUAL(p.n_domains, EN_RESOLVED_DOMAINS_MAX);
	CU_ASSERT_STRING_EQUAL(p.domains[EN_RESOLVED_DOMAINS_MAX - 1], "~d11.example");
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_servers),
	NTM_TEST(test_domains),
	NTM_TEST(test_limits),
};

NTM_TEST_MAIN("resolvedplan", cases)
