/* SPDX-License-Identifier: MIT */
#ifndef EN_DNSSTUB_H
#define EN_DNSSTUB_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/err.h"
#include "endnode/config.h"

/*
 * The node's DNS stub (DESIGN "Flows" 2: name resolution = tunnel
 * construction), UDP and TCP on every listen address.
 *
 * Overlay names (endnode/dnsmsg.h: host names below [DNS] Domains or below
 * a domain the DC announced in REGISTER_OK) run the construction of
 * `ntmctl resolve` (endnode/resolve.h): the answer carries the peer's VIPs
 * once the tunnel is usable, NXDOMAIN when the DC does not know the name
 * (or it is offline), SERVFAIL when no tunnel came up within
 * EN_DNSSTUB_TIMEOUT_MS. Queries for one name share one construction.
 *
 * Every other query is forwarded unchanged through c-ares (common/dns.h) to
 * [DNS] Upstream, or else to the nameservers of /etc/resolv.conf other than
 * the stub's own addresses (read at the first forward, at most three), and
 * the answer comes back unchanged (TC and no records when it is larger
 * than the client takes over UDP). Without any upstream the answer is
 * SERVFAIL.
 *
 * The stub serves the host only: queries from pool addresses other than
 * the node's own (another node's VIP, through its tunnel) are dropped.
 *
 * Listen addresses that are not local yet are put on the host while the
 * node runs (node.c en_node_add_local: IPv4 on the TUN with scope host,
 * IPv6 on lo): the pool route into the TUN covers them, but the kernel's
 * local route wins, so packets to them are delivered locally and none goes
 * into a tunnel, scope host keeps them from becoming the source address of
 * packets into the tunnels, and on the TUN they are reachable by queries
 * sent out of that link (systemd-resolved's per-link servers, resolved.h). At most
 * EN_DNSSTUB_QUERIES_MAX queries wait at once (more get SERVFAIL), at most EN_DNSSTUB_TCP_MAX TCP
 * connections are open, each closed after EN_DNSSTUB_TCP_IDLE_MS idle.
 */
struct en_node;
struct en_dnsstub;

enum {
	EN_DNSSTUB_TIMEOUT_MS = 4000, /* below a resolver's usual 5 s per try */
	EN_DNSSTUB_QUERIES_MAX = 256,
	EN_DNSSTUB_TCP_MAX = 32,
	EN_DNSSTUB_TCP_IDLE_MS = 10 * 1000,
	EN_DNSSTUB_LISTEN_MAX = 4,
	EN_DNSSTUB_UPSTREAM_MAX = 8,
};

/* Counters and settings for `ntmctl dns`: plain values. */
struct en_dnsstub_info {
	struct ntm_addr listen[EN_DNSSTUB_LISTEN_MAX];
	size_t n_listen;
	uint64_t queries, overlay, forwarded, nxdomain, servfail, dropped;
};

/*
 * A stub for node `n` (borrowed; outlives it) with the [DNS] settings `cfg`
 * (copied; NULL for none). No socket yet: en_dnsstub_listen(). 0 or -ENOMEM.
 */
NTM_MUST_CHECK int en_dnsstub_create(struct en_node *n, const struct en_config_dns *cfg,
				     struct en_dnsstub **out);

/*
 * Starts listening where the configuration says: the [DNS] Listen
 * addresses at once (pools NULL, from en_node_start), or without them the
 * second address of each pool (borrowed; from REGISTER_OK), port 53: the
 * address the DC reserves for itself, which no node ever gets. An address
 * that is not local yet goes on the host first (see above). Failures are logged; the
 * node runs on without a stub there. Accepts s == NULL.
 */
void en_dnsstub_start(struct en_dnsstub *s, const struct ntm_prefix *pool4,
		      const struct ntm_prefix *pool6);

/* Binds UDP and TCP on `a` (borrowed). 0, -EEXIST (listening already), -E2BIG, or uv's error. */
NTM_MUST_CHECK int en_dnsstub_listen(struct en_dnsstub *s, const struct ntm_addr *a);

/*
 * The overlay domains now ([DNS] Domains, then the DC's), as pointers valid
 * until the next call into the node; at most cap. Returns how many.
 */
size_t en_dnsstub_domains(const struct en_dnsstub *s, const char **out, size_t cap);

/* The upstream resolvers in use ("" until the first forward read resolv.conf); at most cap. */
size_t en_dnsstub_upstream(const struct en_dnsstub *s, const char **out, size_t cap);

void en_dnsstub_get_info(const struct en_dnsstub *s, struct en_dnsstub_info *out);

/*
 * Answers nothing more: pending lookups are cancelled, forwards end with
 * their callbacks, every handle is closed; frees `s` in the last close
 * callback, then done(arg). Accepts NULL.
 */
void en_dnsstub_close(struct en_dnsstub *s, void (*done)(void *arg), void *arg);

#endif
