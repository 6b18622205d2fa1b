/* SPDX-License-Identifier: MIT */
#ifndef EN_DNSMSG_H
#define EN_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * The DNS stub's messages (endnode/dnsstub.h), pure functions over buffers,
 * parsed and built with ldns: which queries are the overlay's, and the
 * answers the stub makes itself.
 *
 * An overlay query is one question of class IN (or ANY) for a host name
 * (letters, digits, '-') strictly below one of the overlay domains. For A,
 * AAAA and ANY the stub builds the tunnel and answers the VIPs; for other
 * types it answers NOERROR without records at once (a node has nothing but
 * addresses). Every other query, the overlay domains themselves and names
 * such as _ntm._udp.DOMAIN included, goes upstream unchanged.
 */

enum en_dnsmsg_kind {
	EN_DNSMSG_DROP,	   /* a response or a fragment: nothing to send */
	EN_DNSMSG_ANSWER,  /* the answer is ready (FORMERR, NOTIMP, NODATA) */
	EN_DNSMSG_FORWARD, /* not ours: forward upstream */
	EN_DNSMSG_OVERLAY, /* an overlay name: build the tunnel, then en_dnsmsg_answer */
};

enum {
	EN_DNSMSG_TTL = 60, /* of the VIP records: VIPs are stable, tunnels rebuild on demand */
	EN_DNSMSG_UDP_MAX = 1232,
	EN_DNSMSG_NAME_SIZE = 254,
	EN_DNSMSG_MSG_MAX = 65535,
	EN_DNSMSG_RCODE_NOERROR = 0,
	EN_DNSMSG_RCODE_SERVFAIL = 2,
	EN_DNSMSG_RCODE_NXDOMAIN = 3,
};

struct en_dnsmsg_query {
	enum en_dnsmsg_kind kind;
	char name[EN_DNSMSG_NAME_SIZE]; /* OVERLAY: lower case, no trailing dot */
	uint16_t qtype;			/* OVERLAY: 1 (A), 28 (AAAA) or 255 (ANY) */
};

/*
 * Classifies the query q[len] (borrowed) against `domains` (n lower-case
 * names, borrowed). For EN_DNSMSG_ANSWER the answer is in out[cap] with
 * *out_len bytes. Returns 0, -EMSGSIZE (cap too small) or -ENOMEM.
 */
NTM_MUST_CHECK int en_dnsmsg_classify(const uint8_t *q, size_t len, const char *const *domains,
				      size_t n, struct en_dnsmsg_query *out, uint8_t *ans,
				      size_t cap, size_t *ans_len);

/*
 * The answer to the query q[len] (classified before): `rcode`, and with
 * NOERROR the A record of vip4 and/or the AAAA record of vip6 as the
 * question asks (both borrowed, 4 and 16 bytes, or NULL). Two records fit
 * any UDP answer. Returns 0, -EBADMSG (not a query ldns parses), -EMSGSIZE
 * or -ENOMEM.
 */
NTM_MUST_CHECK int en_dnsmsg_answer(const uint8_t *q, size_t len, int rcode, const uint8_t *vip4,
				    const uint8_t *vip6, uint8_t *out, size_t cap, size_t *out_len);

/*
 * The largest UDP answer the client of q[len] takes: 512, or its EDNS0 size
 * up to EN_DNSMSG_UDP_MAX (forwarded answers may be larger: c-ares fetched
 * them over TCP).
 */
size_t en_dnsmsg_udp_limit(const uint8_t *q, size_t len);

/* The header and question of q[len] with TC set and `rcode` (RFC 2181 9). */
NTM_MUST_CHECK int en_dnsmsg_truncated(const uint8_t *q, size_t len, int rcode, uint8_t *out,
				       size_t cap, size_t *out_len);

/* True when the normalised `name` lies strictly below `domain` (both lower case). */
bool en_dnsmsg_is_under(const char *name, const char *domain);

#endif
