/* SPDX-License-Identifier: MIT */
#include "pool.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *why, size_t whylen, int rc, const char *msg)
{
	if (whylen > 0) {
		snprintf(why, whylen, "%s", msg);
	}
	return rc;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static unsigned host_bits(const struct dc_pool *pool)
{
	return (unsigned)(addr_len(pool->prefix.family) * 8 - pool->prefix.prefix_len);
}

int dc_pool_init(struct dc_pool *pool, const struct ntm_prefix *pf, char *why, size_t whylen)
{
	bool v4 = pf->family == AF_INET;
	unsigned bits;

	memset(pool, 0, sizeof(*pool));
	if (pf->family != AF_INET && pf->family != AF_INET6) {
		return fail(why, whylen, -EINVAL, "not an IP prefix");
	}
	if (v4 && (pf->prefix_len < DC_POOL4_LEN_MIN || pf->prefix_len > DC_POOL4_LEN_MAX)) {
		return fail(why, whylen, -EINVAL, "an IPv4 pool must be /8 to /30");
	}
	if (!v4 && (pf->prefix_len < DC_POOL6_LEN_MIN || pf->prefix_len > DC_POOL6_LEN_MAX)) {
		return fail(why, whylen, -EINVAL, "an IPv6 pool must be /64 to /120");
	}
	if (ntm_prefix_has_host_bits(pf)) {
		return fail(why, whylen, -EINVAL, "bits are set past the prefix length");
	}
	pool->prefix = *pf;
	bits = host_bits(pool);
	/* 2^bits - 1 without shifting a 64-bit value by 64. */
	pool->last = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
	pool->last -= v4 ? 1 : DC_POOL6_ANYCAST_TOP;
	pool->first = DC_POOL_DC_INDEX + 1;
	return 0;
}

int dc_pool_family(const struct dc_pool *pool)
{
	return pool->prefix.family;
}

uint64_t dc_pool_capacity(const struct dc_pool *pool)
{
	return pool->last - pool->first + 1;
}

void dc_pool_addr(const struct dc_pool *pool, uint64_t index, uint8_t out[16])
{
	size_t len = addr_len(pool->prefix.family);

	memset(out, 0, 16);
	memcpy(out, pool->prefix.addr, len);
	/* The index fills the low bytes; the host part of the prefix is zero. */
	for (size_t i = 0; i < 8 && index != 0; i++) {
		out[len - 1 - i] |= (uint8_t)(index & 0xff);
		index >>= 8;
	}
}

bool dc_pool_index(const struct dc_pool *pool, int family, const uint8_t *addr, uint64_t *index)
{
	size_t len = addr_len(pool->prefix.family);
	unsigned bits = host_bits(pool);
	uint64_t v = 0;

	*index = 0;
	if (!ntm_prefix_contains(&pool->prefix, family, addr)) {
		return false;
	}
	/* Host parts are at most 64 bits: the low 8 bytes of an IPv6 address. */
	for (size_t i = len == 16 ? 8 : 0; i < len; i++) {
		v = (v << 8) | addr[i];
	}
	*index = bits == 64 ? v : v & ((UINT64_C(1) << bits) - 1);
	return true;
}

bool dc_pool_is_usable(const struct dc_pool *pool, uint64_t index)
{
	return index >= pool->first && index <= pool->last;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The first index >= from (and <= last) that is not in sorted used[]. */
static bool find_from(const uint64_t *used, size_t n, uint64_t from, uint64_t last, uint64_t *out)
{
	uint64_t c = from;

	for (size_t i = 0; i < n; i++) {
		if (used[i] < c) {
			continue;
		}
		if (used[i] > c) {
			break;
		}
		if (c == last) {
			return false;
		}
		c++;
	}
	*out = c;
	return true;
}

int dc_pool_pick(const struct dc_pool *pool, uint64_t *used, size_t n_used, uint64_t start,
		 uint64_t *out)
{
	*out = 0;
	if (n_used > 0) {
		qsort(used, n_used, sizeof(*used), cmp_u64);
	}
	if (!dc_pool_is_usable(pool, start)) {
		start = pool->first;
	}
	if (find_from(used, n_used, start, pool->last, out)) {
		return 0;
	}
	if (start != pool->first && find_from(used, n_used, pool->first, pool->last, out)) {
		return 0;
	}
	*out = 0;
	return -ENOSPC;
}

int dc_pool_format(const struct dc_pool *pool, uint64_t index, char *buf, size_t cap)
{
	char text[INET6_ADDRSTRLEN];
	uint8_t a[16];

	if (cap > 0) {
		buf[0] = '\0';
	}
	dc_pool_addr(pool, index, a);
	if (inet_ntop(pool->prefix.family, a, text, sizeof(text)) == NULL) {
		return -EAFNOSUPPORT;
	}
	if (strlen(text) >= cap) {
		return -ENOSPC;
	}
	memcpy(buf, text, strlen(text) + 1);
	return 0;
}

int dc_pool_parse(const struct dc_pool *pool, const char *text, uint64_t *index)
{
	uint8_t a[16];

	*index = 0;
	if (inet_pton(pool->prefix.family, text, a) != 1) {
		return -EINVAL;
	}
	return dc_pool_index(pool, pool->prefix.family, a, index) ? 0 : -ERANGE;
}
