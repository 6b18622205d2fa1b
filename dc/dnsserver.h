/* SPDX-License-Identifier: MIT */
#ifndef DC_DNSSERVER_H
#define DC_DNSSERVER_H

#include <stdint.h>
#include <uv.h>

#include "common/err.h"
#include "common/key.h"
#include "dc/config.h"
#include "dc/store.h"

/*
 * The DC's authoritative DNS server for its domain (dc/dnszone.h has the
 * records and the answer rules): UDP and TCP (RFC 7766, two-byte length
 * prefix) on every [DNS] Listen address. With [DNS] ZoneKey (the default)
 * the zone is signed (dc/dnssign.h): the key file is loaded, or created
 * at the first start, when the server opens.
 *
 * Abuse limits: a token bucket per source address (IPv4 /32, IPv6 /64;
 * DC_DNS_SRC_RATE queries a second, bursts of DC_DNS_SRC_BURST; queries
 * over it are dropped and counted), at most DC_DNS_TCP_MAX TCP connections
 * (more are accepted and closed at once), each closed after DC_DNS_TCP_IDLE_MS
 * without a query or with more than DC_DNS_TCP_WRITES_MAX answers unsent.
 * Answers over UDP are sent with uv_udp_try_send: a full socket buffer
 * drops the answer (the client retries) instead of queueing memory.
 */
struct dc_dnsserver;

enum {
	DC_DNS_SRC_RATE = 100, /* queries per second per source */
	DC_DNS_SRC_BURST = 200,
	DC_DNS_SRC_BUCKETS = 1024,
	DC_DNS_TCP_MAX = 64,
	DC_DNS_TCP_IDLE_MS = 10 * 1000,
	DC_DNS_TCP_WRITES_MAX = 16,
};

struct dc_dnsserver_config {
	const struct dc_config *cfg;  /* Domain, Listen, [DNS] Listen; borrowed */
	const struct ntm_key *pubkey; /* the DC's public key; read during open */
	struct dc_store *store;	      /* published nodes; borrowed, outlives the server */
};

/* Counters for status: plain values. */
struct dc_dnsserver_stats {
	uint64_t queries;	 /* messages received (UDP datagrams and TCP messages) */
	uint64_t answers;	 /* answers sent */
	uint64_t dropped;	 /* not a query (a response, or shorter than a header) */
	uint64_t ratelimited;	 /* over the per-source budget */
	uint64_t nxdomain;	 /* answers with NXDOMAIN */
	uint64_t refused;	 /* answers with REFUSED (outside the zone, transfers) */
	uint64_t truncated;	 /* UDP answers sent with TC */
	uint64_t send_failed;	 /* UDP answers the socket did not take */
	uint64_t tcp_refused;	 /* connections over DC_DNS_TCP_MAX */
	uint64_t tcp_now;	 /* open connections */
	bool dnssec;		 /* the zone is signed */
	uint16_t keytag;	 /* of its key */
	uint64_t signed_answers; /* answers to queries with DO, with RRSIGs */
	uint64_t signatures;	 /* ECDSA signatures made (at load, per change, per new name) */
	uint64_t sig_cache_hits; /* per-query RRsets whose signature was cached */
};

/*
 * Binds every [DNS] Listen address (UDP and TCP) and starts serving. On
 * failure *out is NULL, why[whylen] names the address, and the return is a
 * negative errno (the loop must still run before uv_loop_close). With no
 * [DNS] Listen addresses *out is NULL and the return is 0.
 */
NTM_MUST_CHECK int dc_dnsserver_open(uv_loop_t *loop, const struct dc_dnsserver_config *dc,
				     struct dc_dnsserver **out, char *why, size_t whylen);

/* Closes every handle and connection, frees in the last close callback, then done(arg). NULL ok. */
void dc_dnsserver_close(struct dc_dnsserver *d, void (*done)(void *arg), void *arg);

/* The zone changed (a node published or withdrawn): a new SOA serial. NULL ok. */
void dc_dnsserver_zone_changed(struct dc_dnsserver *d);

void dc_dnsserver_get_stats(const struct dc_dnsserver *d, struct dc_dnsserver_stats *out);

/*
 * The DS record of the zone's key for the parent zone (or a resolver's
 * trust anchor), one line of presentation form into out[cap]: 0, -ENOENT
 * when the zone is not signed (or d is NULL), -EMSGSIZE, -ENOMEM.
 */
NTM_MUST_CHECK int dc_dnsserver_ds(const struct dc_dnsserver *d, char *out, size_t cap);

#endif
