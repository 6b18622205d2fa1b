/* SPDX-License-Identifier: MIT */
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/*
 * inet_pton() does the address syntax: glibc's is strict (dotted quad only,
 * no octal, no leading zeros, no trailing junk). What is ours is the framing
 * around it: brackets, the port, the prefix length, and the reasons.
 */

static void set_why(char *why, size_t whylen, const char *text, const char *reason)
{
	if (why != NULL && whylen > 0) {
		snprintf(why, whylen, "'%s': %s", text, reason);
	}
}

/* Decimal without sign or leading zeros: -EINVAL if not a number, -ERANGE above max. */
static int parse_dec(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;

	*out = 0;
	if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0')) {
		return -EINVAL;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9') {
			return -EINVAL;
		}
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max) {
			/* Keep scanning would only risk overflow; junk after is moot. */
			return -ERANGE;
		}
	}
	*out = v;
	return 0;
}

/* Copy [s, s + n) into buf (cap bytes) as a string; false when it does not fit. */
static bool copy_part(char *buf, size_t cap, const char *s, size_t n)
{
	if (n >= cap) {
		return false;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	return true;
}

static int parse_port(const char *text, const char *s, unsigned flags, uint16_t *port, char *why,
		      size_t whylen)
{
	unsigned v;
	int rc;

	*port = 0;
	if (*s == '\0') {
		set_why(why, whylen, text, "missing port");
		return -EINVAL;
	}
	rc = parse_dec(s, 65535, &v);
	if (rc == -ERANGE || (rc == 0 && v == 0 && !(flags & NTM_ADDR_PORT_ZERO_OK))) {
		set_why(why, whylen, text,
			(flags & NTM_ADDR_PORT_ZERO_OK) ? "port out of range 0..65535"
							: "port out of range 1..65535");
		return -ERANGE;
	}
	if (rc < 0) {
		set_why(why, whylen, text, "port is not a decimal number");
		return rc;
	}
	*port = (uint16_t)v;
	return 0;
}

static int parse_bracketed(const char *text, unsigned flags, struct ntm_addr *out, char *why,
			   size_t whylen)
{
	const char *close = strchr(text, ']');
	char host[INET6_ADDRSTRLEN];
	struct in_addr v4;
	uint16_t port;
	int rc;

	if (close == NULL || !copy_part(host, sizeof(host), text + 1, (size_t)(close - text - 1))) {
		set_why(why, whylen, text, "expected [IPv6 address]:port");
		return -EINVAL;
	}
	if (strchr(host, '%') != NULL) {
		set_why(why, whylen, text, "IPv6 zone ids are not supported");
		return -EINVAL;
	}
	if (inet_pton(AF_INET6, host, &out->sin6.sin6_addr) != 1) {
		set_why(why, whylen, text,
			inet_pton(AF_INET, host, &v4) == 1 ? "brackets are only for IPv6 addresses"
							   : "not a numeric IPv6 address");
		return -EINVAL;
	}
	if (close[1] != ':') {
		set_why(why, whylen, text,
			close[1] == '\0' ? "missing port" : "expected ':' after ']'");
		return -EINVAL;
	}
	rc = parse_port(text, close + 2, flags, &port, why, whylen);
	if (rc < 0) {
		return rc;
	}
	out->sin6.sin6_family = AF_INET6;
	out->sin6.sin6_port = htons(port);
	out->len = sizeof(out->sin6);
	return 0;
}

static int parse_plain(const char *text, unsigned flags, struct ntm_addr *out, char *why,
		       size_t whylen)
{
	const char *colon = strrchr(text, ':');
	char host[INET_ADDRSTRLEN];
	uint16_t port;
	int rc;

	if (colon != NULL && strchr(text, ':') != colon) {
		set_why(why, whylen, text,
			"an IPv6 address with a port needs brackets: [addr]:port");
		return -EINVAL;
	}
	if (colon == NULL) {
		bool v4 = copy_part(host, sizeof(host), text, strlen(text)) &&
			  inet_pton(AF_INET, host, &out->sin.sin_addr) == 1;

		set_why(why, whylen, text, v4 ? "missing port" : "expected address:port");
		return -EINVAL;
	}
	if (!copy_part(host, sizeof(host), text, (size_t)(colon - text)) ||
	    inet_pton(AF_INET, host, &out->sin.sin_addr) != 1) {
		set_why(why, whylen, text, "not a numeric IPv4 address");
		return -EINVAL;
	}
	rc = parse_port(text, colon + 1, flags, &port, why, whylen);
	if (rc < 0) {
		return rc;
	}
	out->sin.sin_family = AF_INET;
	out->sin.sin_port = htons(port);
	out->len = sizeof(out->sin);
	return 0;
}

int ntm_addr_parse(const char *text, unsigned flags, struct ntm_addr *out, char *why, size_t whylen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (why != NULL && whylen > 0) {
		why[0] = '\0';
	}
	if (text[0] == '[') {
		rc = parse_bracketed(text, flags, out, why, whylen);
	} else {
		rc = parse_plain(text, flags, out, why, whylen);
	}
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

int ntm_addr_format(const struct ntm_addr *a, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];
	int n;

	if (cap > 0) {
		buf[0] = '\0';
	}
	if (a->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &a->sin.sin_addr, host, sizeof(host));
		n = snprintf(buf, cap, "%s:%u", host, ntohs(a->sin.sin_port));
	} else if (a->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &a->sin6.sin6_addr, host, sizeof(host));
		n = snprintf(buf, cap, "[%s]:%u", host, ntohs(a->sin6.sin6_port));
	} else {
		return -EAFNOSUPPORT;
	}
	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0) {
			buf[0] = '\0';
		}
		return -ENOSPC;
	}
	return 0;
}

bool ntm_addr_is_v6(const struct ntm_addr *a)
{
	return a->sa.sa_family == AF_INET6;
}

uint16_t ntm_addr_port(const struct ntm_addr *a)
{
	if (a->sa.sa_family == AF_INET) {
		return ntohs(a->sin.sin_port);
	}
	if (a->sa.sa_family == AF_INET6) {
		return ntohs(a->sin6.sin6_port);
	}
	return 0;
}

bool ntm_addr_equal(const struct ntm_addr *a, const struct ntm_addr *b)
{
	if (a->sa.sa_family != b->sa.sa_family) {
		return false;
	}
	if (a->sa.sa_family == AF_INET) {
		return a->sin.sin_port == b->sin.sin_port &&
		       a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
	}
	if (a->sa.sa_family == AF_INET6) {
		return a->sin6.sin6_port == b->sin6.sin6_port &&
		       a->sin6.sin6_scope_id == b->sin6.sin6_scope_id &&
		       memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr, 16) == 0;
	}
	return false;
}

static unsigned family_bits(int family)
{
	return family == AF_INET ? 32 : (family == AF_INET6 ? 128 : 0);
}

void ntm_prefix_mask(struct ntm_prefix *p)
{
	unsigned bits = p->prefix_len;

	for (unsigned i = 0; i < sizeof(p->addr); i++) {
		if (bits >= 8) {
			bits -= 8;
		} else {
			p->addr[i] &= (uint8_t)(0xff00u >> bits);
			bits = 0;
		}
	}
}

bool ntm_prefix_has_host_bits(const struct ntm_prefix *p)
{
	struct ntm_prefix m = *p;

	ntm_prefix_mask(&m);
	return memcmp(m.addr, p->addr, sizeof(p->addr)) != 0;
}

/* Host bits on a strict parse: reject, naming the prefix that was probably meant. */
static int reject_host_bits(const char *text, const struct ntm_prefix *p, char *why, size_t whylen)
{
	struct ntm_prefix m = *p;
	char fixed[NTM_PREFIX_STRLEN];
	char reason[NTM_PREFIX_STRLEN + 64];

	ntm_prefix_mask(&m);
	if (ntm_prefix_format(&m, fixed, sizeof(fixed)) < 0) {
		fixed[0] = '\0';
	}
	snprintf(reason, sizeof(reason), "host bits set past the prefix length (did you mean %s?)",
		 fixed);
	set_why(why, whylen, text, reason);
	return -EINVAL;
}

static int parse_prefix_addr(const char *text, size_t n, struct ntm_prefix *out, char *why,
			     size_t whylen)
{
	char host[INET6_ADDRSTRLEN];
	bool v6 = memchr(text, ':', n) != NULL;

	if (v6 && memchr(text, '%', n) != NULL) {
		set_why(why, whylen, text, "IPv6 zone ids are not supported");
		return -EINVAL;
	}
	if (!copy_part(host, sizeof(host), text, n) ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, host, out->addr) != 1) {
		set_why(why, whylen, text, "not a numeric IP address or prefix");
		return -EINVAL;
	}
	out->family = v6 ? AF_INET6 : AF_INET;
	return 0;
}

static int parse_prefix(const char *text, unsigned flags, struct ntm_prefix *out, char *why,
			size_t whylen)
{
	const char *slash = strchr(text, '/');
	unsigned max, len;
	int rc;

	if ((flags & NTM_PREFIX_MASK_HOST) && (flags & NTM_PREFIX_KEEP_HOST)) {
		set_why(why, whylen, text, "conflicting host-bit flags");
		return -EINVAL;
	}
	rc = parse_prefix_addr(text, slash ? (size_t)(slash - text) : strlen(text), out, why,
			       whylen);
	if (rc < 0) {
		return rc;
	}
	max = family_bits(out->family);
	len = max;
	if (slash != NULL) {
		rc = parse_dec(slash + 1, max, &len);
		if (rc == -ERANGE) {
			set_why(why, whylen, text,
				max == 32 ? "prefix length out of range 0..32"
					  : "prefix length out of range 0..128");
			return rc;
		}
		if (rc < 0) {
			set_why(why, whylen, text, "prefix length is not a decimal number");
			return rc;
		}
	}
	out->prefix_len = (uint8_t)len;
	if (ntm_prefix_has_host_bits(out)) {
		if (flags & NTM_PREFIX_MASK_HOST) {
			ntm_prefix_mask(out);
		} else if (!(flags & NTM_PREFIX_KEEP_HOST)) {
			return reject_host_bits(text, out, why, whylen);
		}
	}
	return 0;
}

int ntm_prefix_parse(const char *text, unsigned flags, struct ntm_prefix *out, char *why,
		     size_t whylen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (why != NULL && whylen > 0) {
		why[0] = '\0';
	}
	rc = parse_prefix(text, flags, out, why, whylen);
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

int ntm_prefix_format(const struct ntm_prefix *p, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN];
	int n;

	if (cap > 0) {
		buf[0] = '\0';
	}
	if (p->family != AF_INET && p->family != AF_INET6) {
		return -EAFNOSUPPORT;
	}
	inet_ntop(p->family, p->addr, host, sizeof(host));
	n = snprintf(buf, cap, "%s/%u", host, p->prefix_len);
	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0) {
			buf[0] = '\0';
		}
		return -ENOSPC;
	}
	return 0;
}

bool ntm_prefix_contains(const struct ntm_prefix *p, int family, const uint8_t *addr)
{
	unsigned bits = p->prefix_len;
	unsigned whole = bits / 8, rest = bits % 8;

	if (p->family != family || bits > family_bits(family)) {
		return false;
	}
	if (memcmp(p->addr, addr, whole) != 0) {
		return false;
	}
	if (rest == 0) {
		return true;
	}
	return ((p->addr[whole] ^ addr[whole]) & (uint8_t)(0xff00u >> rest)) == 0;
}

bool ntm_prefix_equal(const struct ntm_prefix *a, const struct ntm_prefix *b)
{
	return a->family == b->family && a->prefix_len == b->prefix_len &&
	       memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}
