/* SPDX-License-Identifier: MIT */
#ifndef EN_CSUM_H
#define EN_CSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Header fields and the Internet checksum (RFC 1071) for the user-space
 * segmentation (gso.c) and coalescing (gro.c) of TCP packets. Sums are accumulated in native byte
 * order in 64 bits: the ones' complement sum does not depend on the byte
 * order as long as the folded value is stored back with memcpy, which spares
 * a swap per word. Every region added must start at an even offset of the
 * checksummed stream.
 */

/* Adds `len` bytes at `p` (borrowed) to `sum`; an odd tail is padded with 0. */
uint64_t en_csum_add(uint64_t sum, const uint8_t *p, size_t len);

/* `sum` folded to 16 bits (not complemented), in native order. */
uint16_t en_csum_fold(uint64_t sum);

/*
 * The sum of the TCP pseudo-header (RFC 9293 3.1, RFC 8200 8.1) for
 * `l4_len` bytes of TCP behind the IP header at `ip` (IPv4: 20 bytes
 * readable, IPv6: 40).
 */
uint64_t en_csum_pseudo_tcp(const uint8_t *ip, bool v6, size_t l4_len);

/* Whether `sum`, taken over a checksum field too, verifies (folds to all ones). */
static inline bool en_csum_is_valid(uint64_t sum)
{
	return en_csum_fold(sum) == 0xffff;
}

/* Stores the checksum of `sum` (its complement) at `field` (2 bytes). */
static inline void en_csum_store(uint8_t *field, uint64_t sum)
{
	uint16_t c = (uint16_t)~en_csum_fold(sum);

	memcpy(field, &c, 2);
}

/*
 * A big-endian header field of `n` bytes (2 or 4) at `p`, in a packet whose
 * length the caller has already checked (in-place rewriting of headers).
 */
uint32_t en_csum_get_field(const uint8_t *p, size_t n);
void en_csum_put_field(uint8_t *p, size_t n, uint32_t v);

#endif
