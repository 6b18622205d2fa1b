/* SPDX-License-Identifier: MIT */
#ifndef NTM_DNSRR_H
#define NTM_DNSRR_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Address records built with ldns, shared by the DC's authoritative zone
 * (dc/dnszone.c) and the node's DNS stub answers (endnode/dnsmsg.c).
 *
 * Pushes an A (`v6` false, 4 bytes at `ip`) or AAAA (16 bytes) record of
 * class IN for `owner` with `ttl` into the answer section of `p`. Takes
 * `owner` (may be NULL after a failed allocation: then false); false when
 * out of memory, with nothing left allocated.
 */
bool ntm_dnsrr_push_addr(ldns_pkt *p, ldns_rdf *owner, bool v6, const uint8_t *ip, uint32_t ttl);

/*
 * The wire form of `p` into out[cap] and its length into *len. Returns
 * -ENOMEM when ldns cannot build it, -EMSGSIZE when it does not fit.
 */
int ntm_dnsrr_emit(const ldns_pkt *p, uint8_t *out, size_t cap, size_t *len);

#endif
