/* SPDX-License-Identifier: MIT */
#ifndef DC_DNSZONE_H
#define DC_DNSZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/key.h"
#include "dc/config.h"

/*
 * The DC's zone as an authoritative DNS server answers it (DESIGN "Flows" 2,
 * ntm-dc.conf(5) "DNS"): a pure function from one query message to one
 * answer message, built and parsed with ldns; dc/dnsserver.c puts sockets
 * around it, tests/fuzz/fuzz_dns_server.c feeds it bytes.
 *
 * The records, for the zone Z (the DC's Domain), with TTL DC_DNSZONE_TTL
 * unless said otherwise:
 *
 *   Z                 SOA   ns.Z. hostmaster.Z. SERIAL 3600 600 604800 NEG_TTL
 *   Z                 NS    ns.Z.
 *   ns.Z              A/AAAA  the [DNS] Listen addresses
 *   _ntm._udp.Z       SRV   0 0 PORT dc.Z.   (one record per Listen port;
 *                                             the first port's target is dc.Z,
 *                                             the others dc-2.Z, dc-3.Z, ...)
 *   dc.Z (dc-N.Z)     A/AAAA  the [DC] Listen addresses with that port
 *   _ntm-key.Z        TXT   "v=ntm1; k=BASE64" (the DC's Curve25519 public
 *                           key in WireGuard's base64 form)
 *   NODE.Z            A/AAAA  the node's VIPs, TTL DC_DNSZONE_NODE_TTL, only
 *                           for nodes the admin published (`ntmctl publish`)
 *
 * These names are what another DC needs to find this one (federation, a
 * later step): the SRV record for the control endpoints and the TXT record
 * for the key (to be trusted only with DNSSEC or a pinned key).
 * Unspecified Listen addresses (0.0.0.0, ::) are not published.
 *
 * Answers: names outside Z, classes other than IN (and ANY), zone transfers
 * get REFUSED; opcodes other than QUERY NOTIMP; a query that is not exactly
 * one question FORMERR. A name that has no records is NXDOMAIN with the SOA
 * in the authority section, an existing name (or an empty non-terminal such
 * as _udp.Z) without records of the type NOERROR/NODATA with the SOA. An
 * unpublished node's name is answered exactly as a name that does not exist,
 * so that anonymous queries reveal nothing (the directory answers only
 * authenticated direction requests). Responses (QR set) and messages ldns
 * cannot parse without even a header are dropped: nothing is sent back.
 *
 * DNSSEC (dc/dnssign.h) when the zone has a signer: the apex has a DNSKEY
 * record, and a query with the DO bit (RFC 3225) gets an RRSIG for every
 * RRset of the answer, authority and additional sections, plus the NSECs
 * of authenticated denial: a NODATA answer has an NSEC at the name (its
 * types, RRSIG, NSEC; next "\000.NAME"), an NXDOMAIN answer (the rcode
 * stays NXDOMAIN) one minimally covering NSEC for the name and one for the
 * wildcard at its closest encloser (RFC 4470). The RRsets of the zone
 * itself are signed at creation and when the serial changes, and made
 * again once due; the per-query ones come from the signer's cache. A name
 * too long for a covering neighbour (near 255 octets) gets no NSEC: a
 * validator finds such an answer bogus.
 *
 * Over UDP the answer is at most 512 bytes, or the EDNS0 size the query
 * offers (capped at DC_DNSZONE_EDNS_SIZE); a larger one is sent truncated
 * (TC, no records) so that the client retries over TCP.
 */
struct dc_dnszone;
struct dc_dnssign;

enum {
	DC_DNSZONE_TTL = 3600,
	DC_DNSZONE_NODE_TTL = 60,
	DC_DNSZONE_NEG_TTL = 60, /* SOA minimum: publishing a node shows within a minute */
	DC_DNSZONE_EDNS_SIZE = 1232,
	DC_DNSZONE_UDP_MIN = 512,
	DC_DNSZONE_MSG_MAX = 65535,
};

/* What the lookup found for a name under the zone. */
enum dc_dnszone_found {
	DC_DNSZONE_NONE = 0, /* nothing (or an unpublished node: the same thing) */
	DC_DNSZONE_NODE = 1, /* a published node: vip4 and vip6 filled */
	DC_DNSZONE_ENT = 2,  /* no node, but published nodes below it */
};

/*
 * `fqdn` is normalised (dc/fqdn.h) and lies under the zone; borrowed for
 * the call. Returns an enum dc_dnszone_found, or a negative errno (the
 * answer is then SERVFAIL).
 */
typedef int (*dc_dnszone_lookup_cb)(void *ctx, const char *fqdn, uint8_t vip4[4], uint8_t vip6[16]);

/* Creation parameters, read during dc_dnszone_create() only. */
struct dc_dnszone_config {
	const char *domain;			/* normalised */
	const struct ntm_key *pubkey;		/* the DC's public key */
	const struct dc_addr_list *ctrl_listen; /* [DC] Listen: SRV targets */
	const struct dc_addr_list *dns_listen;	/* [DNS] Listen: ns.Z */
	uint32_t serial;
	dc_dnszone_lookup_cb lookup; /* NULL: no node is published */
	struct dc_dnssign *signer;   /* NULL: unsigned; borrowed, must outlive the zone */
	void *ctx;		     /* for lookup; borrowed, must outlive the zone */
};

/* What one answer was, for counters and tests. */
struct dc_dnszone_result {
	size_t len;	/* bytes written to out */
	int rcode;	/* DNS rcode of the answer */
	bool truncated; /* TC set: too large for UDP */
	bool dnssec;	/* signed: the query had DO and the zone a signer */
};

/*
 * 0, -EINVAL (a bad domain), -ENOMEM, or -EIO (the signer failed). Free
 * with dc_dnszone_destroy().
 */
NTM_MUST_CHECK int dc_dnszone_create(const struct dc_dnszone_config *cfg, struct dc_dnszone **out);

void dc_dnszone_destroy(struct dc_dnszone *z);

/* A new SOA serial (e.g. after a node was published); the SOA is signed again. */
void dc_dnszone_set_serial(struct dc_dnszone *z, uint32_t serial);

/*
 * Answers the query `q` (qlen bytes, borrowed for the call) into out[cap]
 * (cap >= DC_DNSZONE_MSG_MAX is always enough). `udp` applies the UDP size
 * rule above. Returns 0 with res filled, -EBADMSG when nothing is to be sent
 * (a response, a fragment shorter than a header), -EMSGSIZE when cap is too
 * small, -ENOMEM.
 */
NTM_MUST_CHECK int dc_dnszone_answer(struct dc_dnszone *z, const uint8_t *q, size_t qlen, bool udp,
				     uint8_t *out, size_t cap, struct dc_dnszone_result *res);

#endif
