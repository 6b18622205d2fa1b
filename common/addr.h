/* SPDX-License-Identifier: MIT */
#ifndef NTM_ADDR_H
#define NTM_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"

/*
 * Numeric socket addresses ("198.51.100.7:5000", "[2001:db8::1]:7000") and
 * IP prefixes ("100.80.0.0/16", "fd80:1::/64"). Host names are not accepted
 * here: they are resolved elsewhere with c-ares. IPv6 zone ids ("%eth0") are
 * rejected, because a zone only means something relative to one host's
 * interfaces and nothing in ntm configures link-local endpoints.
 *
 * Every parser takes a NUL-terminated string with no surrounding whitespace
 * (the config reader trims values already) and, optionally, a `why` buffer
 * that receives a one-line reason on failure ("'::1:80': an IPv6 address
 * with a port needs brackets"). `why` may be NULL when `whylen` is 0.
 * Failures return -EINVAL, or -ERANGE for an out-of-range port or length.
 * Comma-separated lists are split with ntm_conf_split_list() (common/conf.h)
 * with one of these parsers as the per-item step.
 */

enum {
	/* "[" + INET6_ADDRSTRLEN - 1 + "]:" + 5 digits + NUL */
	NTM_ADDR_STRLEN = INET6_ADDRSTRLEN + 8,
	/* INET6_ADDRSTRLEN - 1 + "/128" + NUL */
	NTM_PREFIX_STRLEN = INET6_ADDRSTRLEN + 4,
};

/* A socket address value: AF_INET or AF_INET6, `len` bytes of it valid. */
struct ntm_addr {
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
		struct sockaddr_storage ss;
	};
	socklen_t len;
};

enum ntm_addr_flags {
	/* Accept port 0 (a listen address that lets the kernel choose). */
	NTM_ADDR_PORT_ZERO_OK = 1 << 0,
};

/*
 * Parse "a.b.c.d:port" or "[v6]:port" into *out (zeroed on entry, so a
 * failure leaves an AF_UNSPEC value with len 0). The port is 1..65535 in
 * decimal without sign or leading zeros, or 0..65535 with
 * NTM_ADDR_PORT_ZERO_OK. Brackets are required for IPv6 and refused for IPv4.
 */
NTM_MUST_CHECK int ntm_addr_parse(const char *text, unsigned flags, struct ntm_addr *out, char *why,
				  size_t whylen);

/*
 * Write "198.51.100.7:5000" or "[2001:db8::1]:7000" into buf (cap bytes,
 * NTM_ADDR_STRLEN is always enough). Returns -EAFNOSUPPORT for another
 * family, -ENOSPC when cap is too small (buf then holds "").
 */
NTM_MUST_CHECK int ntm_addr_format(const struct ntm_addr *a, char *buf, size_t cap);

bool ntm_addr_is_v6(const struct ntm_addr *a);
/* Port in host byte order (0 for an unset address). */
uint16_t ntm_addr_port(const struct ntm_addr *a);
/* Same family, address, port (and, for IPv6, scope id). */
bool ntm_addr_equal(const struct ntm_addr *a, const struct ntm_addr *b);

/*
 * An IP prefix value. `addr` holds 4 (AF_INET) or 16 (AF_INET6) bytes in
 * network order, the rest zero. `prefix_len` is 0..32 or 0..128.
 */
struct ntm_prefix {
	sa_family_t family;
	uint8_t addr[16];
	uint8_t prefix_len;
};

/*
 * What to do with bits set past the prefix length ("100.80.0.1/16"). The
 * default (0) rejects them: right for pools and routes, where they are
 * usually a typo. wg-quick accepts them in AllowedIPs and the kernel masks
 * them; NTM_PREFIX_MASK_HOST does the same. An interface Address
 * ("100.64.0.1/24") is an address plus its on-link prefix length and keeps
 * them: NTM_PREFIX_KEEP_HOST. Setting both flags is -EINVAL.
 */
enum ntm_prefix_flags {
	NTM_PREFIX_MASK_HOST = 1 << 0,
	NTM_PREFIX_KEEP_HOST = 1 << 1,
};

/*
 * Parse "addr/len", or a bare "addr" meaning /32 or /128, into *out (zeroed
 * on entry). The length is decimal without sign or leading zeros.
 */
NTM_MUST_CHECK int ntm_prefix_parse(const char *text, unsigned flags, struct ntm_prefix *out,
				    char *why, size_t whylen);

/* Write "addr/len" (always with the length) into buf; errors as ntm_addr_format. */
NTM_MUST_CHECK int ntm_prefix_format(const struct ntm_prefix *p, char *buf, size_t cap);

/* Clear the bits past prefix_len (the normalising step of NTM_PREFIX_MASK_HOST). */
void ntm_prefix_mask(struct ntm_prefix *p);
bool ntm_prefix_has_host_bits(const struct ntm_prefix *p);

/*
 * True when the first prefix_len bits of `addr` (4 or 16 bytes, network
 * order, per `family`) match the prefix. A family mismatch is false; /0
 * contains every address of its family.
 */
bool ntm_prefix_contains(const struct ntm_prefix *p, int family, const uint8_t *addr);

bool ntm_prefix_equal(const struct ntm_prefix *a, const struct ntm_prefix *b);

#endif
