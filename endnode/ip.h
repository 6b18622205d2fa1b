/* SPDX-License-Identifier: MIT */
#ifndef EN_IP_H
#define EN_IP_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * The little the data plane reads of the IP packets it carries: version,
 * total length, source and destination (RFC 791 section 3.1, RFC 8200
 * section 3), and the ICMP errors it writes back into the TUN.
 */
enum {
	EN_IP4_HEADER_MIN = 20,
	EN_IP6_HEADER_LEN = 40,
};

struct en_ip_info {
	int family;	    /* AF_INET or AF_INET6 */
	const uint8_t *src; /* 4 or 16 bytes inside the packet (borrowed) */
	const uint8_t *dst;
	size_t len; /* the packet's own length (total length, or 40 + payload length) */
};

/*
 * Parses the header of the packet at `pkt` (`cap` bytes available, e.g.
 * padded plaintext). Returns 0, or -EBADMSG when the version is not 4 or 6,
 * the header is short, or the length field exceeds `cap`. `out` is zeroed
 * on entry.
 */
NTM_MUST_CHECK int en_ip_parse(const uint8_t *pkt, size_t cap, struct en_ip_info *out);

/*
 * Builds an ICMP "destination unreachable" (ICMPv4 type 3 code 1, ICMPv6 type
 * 1 code 3) for the packet `orig` (borrowed, parsed as `info`) back to its
 * source, quoting as much of `orig` as fits in the minimum MTU. The error
 * comes from the unreachable address itself: written into the TUN, a packet
 * from one of our own addresses would be dropped by the kernel as a martian.
 * Writes it to `out` (cap bytes) and returns its length, or 0 when it does
 * not fit or the original must not be answered (an ICMP error itself, a
 * fragment, a non-unicast source).
 */
size_t en_ip_unreachable(uint8_t *out, size_t cap, const struct en_ip_info *info,
			 const uint8_t *orig);

#endif
