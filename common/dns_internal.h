/* SPDX-License-Identifier: MIT */
#ifndef NTM_DNS_INTERNAL_H
#define NTM_DNS_INTERNAL_H

/*
 * For common/dns*.c and their tests only: conversions between c-ares data and
 * ntm values (dns_data.c). Nothing outside the dns module includes ares.h.
 */

#include <ares.h>

#include "dns.h"

/*
 * Parse one configured server: "ip", "ip:port", "v6", "[v6]" or "[v6]:port",
 * numeric only, port 1-65535 (default 53). Fills *node (next = NULL) or
 * returns -EINVAL. `s` is borrowed for the call.
 */
NTM_MUST_CHECK int ntm_dns_parse_server(const char *s, struct ares_addr_port_node *node);

/*
 * The IPv4/IPv6 addresses of an ares_getaddrinfo() result (borrowed) as a new
 * array that the caller frees with ntm_free(). -ENODATA when there are none,
 * -ENOMEM. *out and *n_out are NULL/0 on failure.
 */
NTM_MUST_CHECK int ntm_dns_copy_addrs(const struct ares_addrinfo *ai, struct ntm_dns_addr **out,
				      size_t *n_out);

/*
 * The records of an ares_parse_srv_reply() list (borrowed), sorted as
 * ntm_dns_srv_cb promises, as a new array that the caller frees with
 * ntm_free(); its targets point into `replies`, so free the array first.
 * -ENODATA when empty, -ENOMEM.
 */
NTM_MUST_CHECK int ntm_dns_copy_srv(const struct ares_srv_reply *replies, struct ntm_dns_srv **out,
				    size_t *n_out);

#endif
