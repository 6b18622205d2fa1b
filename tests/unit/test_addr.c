/* SPDX-License-Identifier: MIT */
#include "common/addr.h"

#include <arpa/inet.h>
#include <string.h>

#include "common/conf.h"
#include "ntm_test.h"

/* Parse, expect success, and expect the formatted text to be `canon`. */
static void expect_addr(const char *text, unsigned flags, int family, uint16_t port,
			const char *canon)
{
	struct ntm_addr a, b;
	char buf[NTM_ADDR_STRLEN];
	char why[128] = "x";

	CU_ASSERT_EQUAL_FATAL(ntm_addr_parse(text, flags, &a, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(why, "");
	CU_ASSERT_EQUAL(a.sa.sa_family, family);
	CU_ASSERT_EQUAL(a.len, family == AF_INET ? sizeof(a.sin) : sizeof(a.sin6));
	CU_ASSERT_EQUAL(ntm_addr_port(&a), port);
	CU_ASSERT_EQUAL(ntm_addr_is_v6(&a), family == AF_INET6);
	CU_ASSERT_EQUAL(ntm_addr_format(&a, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, canon);
	CU_ASSERT_EQUAL(ntm_addr_parse(buf, flags, &b, NULL, 0), 0);
	CU_ASSERT_TRUE(ntm_addr_equal(&a, &b));
}

static void expect_addr_fail(const char *text, unsigned flags, int rc, const char *reason)
{
	struct ntm_addr a;
	char why[256];
	char want[256];

	CU_ASSERT_EQUAL(ntm_addr_parse(text, flags, &a, why, sizeof(why)), rc);
	snprintf(want, sizeof(want), "'%s': %s", text, reason);
	CU_ASSERT_STRING_EQUAL(why, want);
	CU_ASSERT_EQUAL(a.len, 0);
	CU_ASSERT_EQUAL(a.sa.sa_family, AF_UNSPEC);
	/* A NULL reason buffer is allowed. */
	CU_ASSERT_EQUAL(ntm_addr_parse(text, flags, &a, NULL, 0), rc);
}

static void test_addr_parse_good(void)
{
	expect_addr("198.51.100.7:5000", 0, AF_INET, 5000, "198.51.100.7:5000");
	expect_addr("0.0.0.0:1", 0, AF_INET, 1, "0.0.0.0:1");
	expect_addr("1.2.3.4:65535", 0, AF_INET, 65535, "1.2.3.4:65535");
	expect_addr("[2001:db8::1]:7000", 0, AF_INET6, 7000, "[2001:db8::1]:7000");
	expect_addr("[2001:0DB8:0:0::1]:7000", 0, AF_INET6, 7000, "[2001:db8::1]:7000");
	expect_addr("[::ffff:192.0.2.1]:9", 0, AF_INET6, 9, "[::ffff:192.0.2.1]:9");
	expect_addr("[::]:0", NTM_ADDR_PORT_ZERO_OK, AF_INET6, 0, "[::]:0");
	expect_addr("0.0.0.0:0", NTM_ADDR_PORT_ZERO_OK, AF_INET, 0, "0.0.0.0:0");
	expect_addr("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", 0, AF_INET6, 65535,
		    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
}

static void test_addr_parse_bad(void)
{
	expect_addr_fail("[::]:0", 0, -ERANGE, "port out of range 1..65535");
	expect_addr_fail("1.2.3.4:65536", 0, -ERANGE, "port out of range 1..65535");
	expect_addr_fail("1.2.3.4:65536", NTM_ADDR_PORT_ZERO_OK, -ERANGE,
			 "port out of range 0..65535");
	expect_addr_fail("1.2.3.4:99999999999999999999", 0, -ERANGE, "port out of range 1..65535");
	expect_addr_fail("[::1]", 0, -EINVAL, "missing port");
	expect_addr_fail("[::1]:", 0, -EINVAL, "missing port");
	expect_addr_fail("1.2.3.4:", 0, -EINVAL, "missing port");
	expect_addr_fail("1.2.3.4", 0, -EINVAL, "missing port");
	expect_addr_fail("::1:80", 0, -EINVAL,
			 "an IPv6 address with a port needs brackets: [addr]:port");
	expect_addr_fail("::1", 0, -EINVAL,
			 "an IPv6 address with a port needs brackets: [addr]:port");
	expect_addr_fail(" 1.2.3.4:5", 0, -EINVAL, "not a numeric IPv4 address");
	expect_addr_fail("1.2.3.4:5 ", 0, -EINVAL, "port is not a decimal number");
	expect_addr_fail("1.2.3.4:+5", 0, -EINVAL, "port is not a decimal number");
	expect_addr_fail("1.2.3.4:-5", 0, -EINVAL, "port is not a decimal number");
	expect_addr_fail("1.2.3.4:05", 0, -EINVAL, "port is not a decimal number");
	expect_addr_fail("1.2.3.4:0x10", 0, -EINVAL, "port is not a decimal number");
	expect_addr_fail("01.2.3.4:5", 0, -EINVAL, "not a numeric IPv4 address");
	expect_addr_fail("1.2.3:5", 0, -EINVAL, "not a numeric IPv4 address");
	expect_addr_fail("256.1.1.1:5", 0, -EINVAL, "not a numeric IPv4 address");
	expect_addr_fail("example.net:5", 0, -EINVAL, "not a numeric IPv4 address");
	expect_addr_fail("example", 0, -EINVAL, "expected address:port");
	expect_addr_fail("", 0, -EINVAL, "expected address:port");
	expect_addr_fail("[1.2.3.4]:5", 0, -EINVAL, "brackets are only for IPv6 addresses");
	expect_addr_fail("[fe80::1%eth0]:5", 0, -EINVAL, "IPv6 zone ids are not supported");
	expect_addr_fail("[::1]x", 0, -EINVAL, "expected ':' after ']'");
	expect_addr_fail("[::1]:80]", 0, -EINVAL, "port is not a decimal number");
	expect_addr_fail("[::1:80", 0, -EINVAL, "expected [IPv6 address]:port");
	expect_addr_fail("[]:80", 0, -EINVAL, "not a numeric IPv6 address");
	expect_addr_fail("[::g]:80", 0, -EINVAL, "not a numeric IPv6 address");
}

static void test_addr_format_and_equal(void)
{
	struct ntm_addr a, b, none;
	char buf[NTM_ADDR_STRLEN];
	char small[8] = "junk";

	CU_ASSERT_EQUAL_FATAL(ntm_addr_parse("[2001:db8::1]:7000", 0, &a, NULL, 0), 0);
	CU_ASSERT_EQUAL(ntm_addr_format(&a, small, sizeof(small)), -ENOSPC);
	CU_ASSERT_STRING_EQUAL(small, "");
	CU_ASSERT_EQUAL(ntm_addr_format(&a, small, 0), -ENOSPC);
	memset(&none, 0, sizeof(none));
	CU_ASSERT_EQUAL(ntm_addr_format(&none, buf, sizeof(buf)), -EAFNOSUPPORT);
	CU_ASSERT_EQUAL(ntm_addr_port(&none), 0);
	CU_ASSERT_FALSE(ntm_addr_equal(&none, &none));

	CU_ASSERT_EQUAL_FATAL(ntm_addr_parse("[2001:db8::1]:7001", 0, &b, NULL, 0), 0);
	CU_ASSERT_FALSE(ntm_addr_equal(&a, &b));
	CU_ASSERT_EQUAL_FATAL(ntm_addr_parse("[2001:db8::2]:7000", 0, &b, NULL, 0), 0);
	CU_ASSERT_FALSE(ntm_addr_equal(&a, &b));
	CU_ASSERT_EQUAL_FATAL(ntm_addr_parse("192.0.2.1:7000", 0, &b, NULL, 0), 0);
	CU_ASSERT_FALSE(ntm_addr_equal(&a, &b));
	CU_ASSERT_EQUAL_FATAL(ntm_addr_parse("[::ffff:192.0.2.1]:7000", 0, &a, NULL, 0), 0);
	CU_ASSERT_FALSE(ntm_addr_equal(&a, &b)); /* v4-mapped is not the v4 address */
	CU_ASSERT_EQUAL_FATAL(ntm_addr_parse("192.0.2.1:7000", 0, &a, NULL, 0), 0);
	CU_ASSERT_TRUE(ntm_addr_equal(&a, &b));
	CU_ASSERT_EQUAL(ntohl(a.sin.sin_addr.s_addr), 0xc0000201u);
}

static void expect_prefix(const char *text, unsigned flags, int family, unsigned len,
			  const char *canon)
{
	struct ntm_prefix p, q;
	char buf[NTM_PREFIX_STRLEN];

	CU_ASSERT_EQUAL_FATAL(ntm_prefix_parse(text, flags, &p, NULL, 0), 0);
	CU_ASSERT_EQUAL(p.family, family);
	CU_ASSERT_EQUAL(p.prefix_len, len);
	CU_ASSERT_EQUAL(ntm_prefix_format(&p, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, canon);
	CU_ASSERT_EQUAL(ntm_prefix_parse(buf, flags, &q, NULL, 0), 0);
	CU_ASSERT_TRUE(ntm_prefix_equal(&p, &q));
	CU_ASSERT_TRUE(ntm_prefix_contains(&p, family, p.addr));
}

static void expect_prefix_fail(const char *text, unsigned flags, int rc, const char *reason)
{
	struct ntm_prefix p;
	char why[256];
	char want[256];

	CU_ASSERT_EQUAL(ntm_prefix_parse(text, flags, &p, why, sizeof(why)), rc);
	snprintf(want, sizeof(want), "'%s': %s", text, reason);
	CU_ASSERT_STRING_EQUAL(why, want);
	CU_ASSERT_EQUAL(p.family, 0);
	CU_ASSERT_EQUAL(p.prefix_len, 0);
}

static void test_prefix_parse(void)
{
	static const uint8_t pool[4] = { 100, 80, 0, 0 };
	struct ntm_prefix p;

	expect_prefix("100.80.0.0/16", 0, AF_INET, 16, "100.80.0.0/16");
	CU_ASSERT_EQUAL_FATAL(ntm_prefix_parse("100.80.0.0/16", 0, &p, NULL, 0), 0);
	CU_ASSERT_EQUAL(memcmp(p.addr, pool, 4), 0);
	expect_prefix("fd80:1::/64", 0, AF_INET6, 64, "fd80:1::/64");
	expect_prefix("10.1.2.3", 0, AF_INET, 32, "10.1.2.3/32");
	expect_prefix("fd00::1", 0, AF_INET6, 128, "fd00::1/128");
	expect_prefix("0.0.0.0/0", 0, AF_INET, 0, "0.0.0.0/0");
	expect_prefix("::/0", 0, AF_INET6, 0, "::/0");
	expect_prefix("255.255.255.255/32", 0, AF_INET, 32, "255.255.255.255/32");
	expect_prefix("FD80:0001:0000::/48", 0, AF_INET6, 48, "fd80:1::/48");

	expect_prefix_fail("1.2.3.4/33", 0, -ERANGE, "prefix length out of range 0..32");
	expect_prefix_fail("::/129", 0, -ERANGE, "prefix length out of range 0..128");
	expect_prefix_fail("::/1000000000000", 0, -ERANGE, "prefix length out of range 0..128");
	expect_prefix_fail("1.2.3.0/", 0, -EINVAL, "prefix length is not a decimal number");
	expect_prefix_fail("1.2.3.0/08", 0, -EINVAL, "prefix length is not a decimal number");
	expect_prefix_fail("1.2.3.0/-1", 0, -EINVAL, "prefix length is not a decimal number");
	expect_prefix_fail("1.2.3.0/24/1", 0, -EINVAL, "prefix length is not a decimal number");
	expect_prefix_fail("1.2.3.0/ 24", 0, -EINVAL, "prefix length is not a decimal number");
	expect_prefix_fail("/24", 0, -EINVAL, "not a numeric IP address or prefix");
	expect_prefix_fail("", 0, -EINVAL, "not a numeric IP address or prefix");
	expect_prefix_fail("1.2.3/24", 0, -EINVAL, "not a numeric IP address or prefix");
	expect_prefix_fail(" 1.2.3.0/24", 0, -EINVAL, "not a numeric IP address or prefix");
	expect_prefix_fail("[::1]/128", 0, -EINVAL, "not a numeric IP address or prefix");
	expect_prefix_fail("fe80::1%eth0/64", 0, -EINVAL, "IPv6 zone ids are not supported");
	expect_prefix_fail("example.net/24", 0, -EINVAL, "not a numeric IP address or prefix");
}

static void test_prefix_host_bits(void)
{
	struct ntm_prefix p;
	char buf[NTM_PREFIX_STRLEN];

	expect_prefix_fail("100.80.0.1/16", 0, -EINVAL,
			   "host bits set past the prefix length (did you mean 100.80.0.0/16?)");
	expect_prefix_fail("fd80:1::1/64", 0, -EINVAL,
			   "host bits set past the prefix length (did you mean fd80:1::/64?)");
	expect_prefix_fail("128.0.0.0/0", 0, -EINVAL,
			   "host bits set past the prefix length (did you mean 0.0.0.0/0?)");
	expect_prefix_fail("1.2.3.4/24", NTM_PREFIX_MASK_HOST | NTM_PREFIX_KEEP_HOST, -EINVAL,
			   "conflicting host-bit flags");

	expect_prefix("100.80.0.1/16", NTM_PREFIX_MASK_HOST, AF_INET, 16, "100.80.0.0/16");
	expect_prefix("fd80:1::ff/120", NTM_PREFIX_MASK_HOST, AF_INET6, 120, "fd80:1::/120");
	expect_prefix("100.64.0.1/24", NTM_PREFIX_KEEP_HOST, AF_INET, 24, "100.64.0.1/24");
	CU_ASSERT_EQUAL_FATAL(ntm_prefix_parse("100.64.0.1/24", NTM_PREFIX_KEEP_HOST, &p, NULL, 0),
			      0);
	CU_ASSERT_TRUE(ntm_prefix_has_host_bits(&p));
	ntm_prefix_mask(&p);
	CU_ASSERT_FALSE(ntm_prefix_has_host_bits(&p));
	CU_ASSERT_EQUAL(ntm_prefix_format(&p, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "100.64.0.0/24");
	CU_ASSERT_EQUAL(ntm_prefix_format(&p, buf, 5), -ENOSPC);
	CU_ASSERT_STRING_EQUAL(buf, "");
	p.family = AF_UNIX;
	CU_ASSERT_EQUAL(ntm_prefix_format(&p, buf, sizeof(buf)), -EAFNOSUPPORT);
}

static bool in4(const char *prefix, const char *addr)
{
	struct ntm_prefix p;
	uint8_t a[4];

	CU_ASSERT_EQUAL_FATAL(ntm_prefix_parse(prefix, 0, &p, NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET, addr, a), 1);
	return ntm_prefix_contains(&p, AF_INET, a);
}

static bool in6(const char *prefix, const char *addr)
{
	struct ntm_prefix p;
	uint8_t a[16];

	CU_ASSERT_EQUAL_FATAL(ntm_prefix_parse(prefix, 0, &p, NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET6, addr, a), 1);
	return ntm_prefix_contains(&p, AF_INET6, a);
}

static void test_prefix_contains_v4(void)
{
	CU_ASSERT_TRUE(in4("0.0.0.0/0", "0.0.0.0"));
	CU_ASSERT_TRUE(in4("0.0.0.0/0", "255.255.255.255"));
	CU_ASSERT_TRUE(in4("128.0.0.0/1", "128.0.0.0"));
	CU_ASSERT_TRUE(in4("128.0.0.0/1", "255.255.255.255"));
	CU_ASSERT_FALSE(in4("128.0.0.0/1", "127.255.255.255"));
	CU_ASSERT_TRUE(in4("0.0.0.0/1", "127.255.255.255"));
	CU_ASSERT_FALSE(in4("0.0.0.0/1", "128.0.0.0"));
	CU_ASSERT_TRUE(in4("100.64.0.0/10", "100.127.255.255"));
	CU_ASSERT_FALSE(in4("100.64.0.0/10", "100.128.0.0"));
	CU_ASSERT_FALSE(in4("100.64.0.0/10", "100.63.255.255"));
	CU_ASSERT_TRUE(in4("192.0.2.2/31", "192.0.2.2"));
	CU_ASSERT_TRUE(in4("192.0.2.2/31", "192.0.2.3"));
	CU_ASSERT_FALSE(in4("192.0.2.2/31", "192.0.2.1"));
	CU_ASSERT_FALSE(in4("192.0.2.2/31", "192.0.2.4"));
	CU_ASSERT_TRUE(in4("192.0.2.3/32", "192.0.2.3"));
	CU_ASSERT_FALSE(in4("192.0.2.3/32", "192.0.2.2"));
	CU_ASSERT_FALSE(in4("192.0.2.3/32", "192.0.3.3"));
}

static void test_prefix_contains_v6(void)
{
	struct ntm_prefix p;
	uint8_t v4[4] = { 0 };

	CU_ASSERT_TRUE(in6("::/0", "::"));
	CU_ASSERT_TRUE(in6("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	CU_ASSERT_TRUE(in6("8000::/1", "8000::"));
	CU_ASSERT_TRUE(in6("8000::/1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	CU_ASSERT_FALSE(in6("8000::/1", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	CU_ASSERT_TRUE(in6("fd80:1::/64", "fd80:1::ffff:ffff:ffff:ffff"));
	CU_ASSERT_FALSE(in6("fd80:1::/64", "fd80:1:0:1::"));
	CU_ASSERT_TRUE(in6("2001:db8::2/127", "2001:db8::2"));
	CU_ASSERT_TRUE(in6("2001:db8::2/127", "2001:db8::3"));
	CU_ASSERT_FALSE(in6("2001:db8::2/127", "2001:db8::1"));
	CU_ASSERT_FALSE(in6("2001:db8::2/127", "2001:db8::4"));
	CU_ASSERT_TRUE(in6("2001:db8::3/128", "2001:db8::3"));
	CU_ASSERT_FALSE(in6("2001:db8::3/128", "2001:db8::2"));
	CU_ASSERT_FALSE(in6("2001:db8::3/128", "2001:db9::3"));

	/* Family mismatch, and a hand-built value with an impossible length. */
	CU_ASSERT_EQUAL_FATAL(ntm_prefix_parse("::/0", 0, &p, NULL, 0), 0);
	CU_ASSERT_FALSE(ntm_prefix_contains(&p, AF_INET, v4));
	CU_ASSERT_EQUAL_FATAL(ntm_prefix_parse("0.0.0.0/0", 0, &p, NULL, 0), 0);
	CU_ASSERT_TRUE(ntm_prefix_contains(&p, AF_INET, v4));
	p.prefix_len = 33;
	CU_ASSERT_FALSE(ntm_prefix_contains(&p, AF_INET, v4));
}

struct prefix_list {
	struct ntm_prefix p[4];
	size_t n;
};

static int add_prefix(void *ctx, const char *item, char *why, size_t whylen)
{
	struct prefix_list *l = ctx;

	if (l->n == 4) {
		snprintf(why, whylen, "too many prefixes");
		return -E2BIG;
	}
	return ntm_prefix_parse(item, NTM_PREFIX_KEEP_HOST, &l->p[l->n++], why, whylen);
}

/* Lists are split by common/conf with an addr parser per item. */
static void test_prefix_list(void)
{
	struct prefix_list l = { .n = 0 };
	char why[NTM_CONF_WHY_MAX];
	char buf[NTM_PREFIX_STRLEN];

	CU_ASSERT_EQUAL(
		ntm_conf_split_list("100.64.0.1/32, fd00::1/128", add_prefix, &l, why, sizeof(why)),
		0);
	CU_ASSERT_EQUAL_FATAL(l.n, 2);
	CU_ASSERT_EQUAL(ntm_prefix_format(&l.p[1], buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "fd00::1/128");
	l.n = 0;
	CU_ASSERT_EQUAL(
		ntm_conf_split_list("10.0.0.0/8,10.0.0.0/33", add_prefix, &l, why, sizeof(why)),
		-ERANGE);
	CU_ASSERT_STRING_EQUAL(why, "'10.0.0.0/33': prefix length out of range 0..32");
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_addr_parse_good),	      NTM_TEST(test_addr_parse_bad),
	NTM_TEST(test_addr_format_and_equal), NTM_TEST(test_prefix_parse),
	NTM_TEST(test_prefix_host_bits),      NTM_TEST(test_prefix_contains_v4),
	NTM_TEST(test_prefix_contains_v6),    NTM_TEST(test_prefix_list),
};

NTM_TEST_MAIN("addr", cases)
