/* SPDX-License-Identifier: MIT */
#ifndef DC_POOL_H
#define DC_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/err.h"

/*
 * VIP pools: the arithmetic of Pool4 and Pool6 (ntm-dc.conf(5)). Pure: no
 * I/O, no state beyond the value below; the store (store.c) keeps which
 * addresses are taken and calls dc_pool_pick() inside its transaction.
 *
 * An address of a pool is named by its index, the host part of the address
 * (address minus the prefix). Indices that are never handed to a node:
 *
 *   IPv4   0 (the network address), 1 (the DC's own VIP), the last one (the
 *          broadcast address). Pool4 is /8 to /30; a /30 has one node address.
 *   IPv6   0 (the subnet-router anycast address, RFC 4291 section 2.6.1),
 *          1 (the DC's own VIP), the highest 128 (reserved subnet anycast
 *          addresses, RFC 2526). Pool6 is /64 to /120, so that an index fits
 *          in 64 bits.
 *
 * Allocation is next-fit: the first free index at or after a cursor (one
 * past the last address handed out), wrapping to the start of the pool. A
 * released address is therefore reused only after the rest of the pool has
 * been handed out, which keeps a revoked node's VIP away from a new node for
 * as long as the pool allows, without a timed grace period.
 */

enum {
	DC_POOL4_LEN_MIN = 8,
	DC_POOL4_LEN_MAX = 30,
	DC_POOL6_LEN_MIN = 64,
	DC_POOL6_LEN_MAX = 120,
	DC_POOL_DC_INDEX = 1,	    /* the DC's own address in each pool */
	DC_POOL6_ANYCAST_TOP = 128, /* RFC 2526 reserved addresses at the top */
};

/* A plain value; valid after dc_pool_init() succeeds. */
struct dc_pool {
	struct ntm_prefix prefix;
	uint64_t first; /* lowest index handed to nodes */
	uint64_t last;	/* highest index handed to nodes, first <= last */
};

/*
 * Set up `pool` (zeroed on entry) for the prefix `pf` (borrowed; no host
 * bits). Returns -EINVAL with a reason in why[whylen] for a prefix length
 * outside the ranges above or host bits set.
 */
NTM_MUST_CHECK int dc_pool_init(struct dc_pool *pool, const struct ntm_prefix *pf, char *why,
				size_t whylen);

int dc_pool_family(const struct dc_pool *pool);

/* Number of node addresses (last - first + 1). */
uint64_t dc_pool_capacity(const struct dc_pool *pool);

/* The address (4 or 16 bytes, network order) of `index`; index need not be usable. */
void dc_pool_addr(const struct dc_pool *pool, uint64_t index, uint8_t out[16]);

/*
 * The index of `addr` (4 or 16 bytes per `family`). Returns false (and
 * *index = 0) when the address is outside the prefix or of the other family.
 */
bool dc_pool_index(const struct dc_pool *pool, int family, const uint8_t *addr, uint64_t *index);

/* True when `index` may be handed to a node (first <= index <= last). */
bool dc_pool_is_usable(const struct dc_pool *pool, uint64_t index);

/*
 * The next free index at or after `start` (wrapping from `last` to `first`;
 * a `start` outside the usable range means `first`). `used` holds `n_used`
 * indices in use, in any order, duplicates and unusable ones allowed; it is
 * sorted in place. Returns 0 and *out, or -ENOSPC (*out = 0) when every
 * usable index is taken.
 */
NTM_MUST_CHECK int dc_pool_pick(const struct dc_pool *pool, uint64_t *used, size_t n_used,
				uint64_t start, uint64_t *out);

/* Text of an address of the pool's family ("100.80.0.2", "fd80:1::2") into buf[cap]. */
NTM_MUST_CHECK int dc_pool_format(const struct dc_pool *pool, uint64_t index, char *buf,
				  size_t cap);

/*
 * Parse the text of an address of the pool's family into its index. Returns
 * -EINVAL for text that is not such an address, -ERANGE for one outside the
 * prefix (*index = 0 in both cases).
 */
NTM_MUST_CHECK int dc_pool_parse(const struct dc_pool *pool, const char *text, uint64_t *index);

#endif
