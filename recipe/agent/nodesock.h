/* SPDX-License-Identifier: MIT */
#ifndef RCP_AGENT_NODESOCK_H
#define RCP_AGENT_NODESOCK_H

/*
 * The agent's view of its ntm-node's control socket ([Agent] NodeSocket):
 * the two read-only calls it makes, `resolve FQDN` (a device's VIPs, the
 * tunnel built) and `whois VIP` (the FQDN of the node behind a source
 * address), run off the loop; strict decoders of their answers; and the
 * short-lived cache of whois answers, keyed by the VIP.
 *
 * The node is trusted (it is this device's own daemon), but its answers are
 * still checked field by field: a name that is not an FQDN, or an address
 * that is not one, is rejected rather than passed to authorisation.
 */

#include <json-c/json.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/addr.h"
#include "common/err.h"
#include "recipe/recipe.h"

enum {
	RCP_NODESOCK_WHOIS_TIMEOUT_MS = 2000,	 /* whois answers from memory */
	RCP_NODESOCK_RESOLVE_TIMEOUT_MS = 35000, /* the node itself gives up after 30 s */
	RCP_WHOCACHE_TTL_MS = 30000,		 /* "briefly": a VIP's owner is asked again after */
	RCP_WHOCACHE_REFRESH_MS = 15000, /* a hit older than this is refreshed in the back */
	RCP_WHOCACHE_MAX = 64,		 /* VIPs remembered, pending lookups included */
	RCP_RESOLVE_TTL_MS = 300000,	 /* a resolved VIP is used this long */
	RCP_NODESOCK_PATH_MAX = 16,	 /* "direct", "relay" */
};

/* ---------------------------------------------------------------- answers */

struct rcp_whois {
	char fqdn[RCP_FQDN_MAX + 1]; /* lower case; "" when the node knows no name for it */
};

struct rcp_resolved {
	char fqdn[RCP_FQDN_MAX + 1]; /* lower case, the name asked */
	bool has4, has6;
	struct in_addr vip4;
	struct in6_addr vip6;
	char path[RCP_NODESOCK_PATH_MAX + 1];
	uint64_t ms; /* how long the node took */
};

/*
 * Decode the node's answer `resp` (a response object, borrowed) to
 * `whois vip`. The data must be an object whose "vip" is the address asked,
 * whose "fqdn" is an FQDN or null, and whose "vip4"/"vip6", when present,
 * are addresses of their family. 0; -ENOENT (code unknown: no peer has that
 * VIP), -ETIMEDOUT (code timeout), -EIO (another failure answer), -EBADMSG
 * (malformed); why says what (whylen bytes).
 */
NTM_MUST_CHECK int rcp_nodesock_parse_whois(json_object *resp, const char *vip,
					    struct rcp_whois *out, char *why, size_t whylen);
/*
 * Decode the answer to `resolve fqdn`: "fqdn" must be the name asked (case
 * ignored), "vip4" an IPv4 and "vip6" an IPv6 address (the unspecified
 * address or "" meaning none, and one at least), "path" a short word, "ms"
 * a non-negative integer. Same returns as rcp_nodesock_parse_whois.
 */
NTM_MUST_CHECK int rcp_nodesock_parse_resolve(json_object *resp, const char *fqdn,
					      struct rcp_resolved *out, char *why, size_t whylen);
/*
 * The VIP to send to, with `port`: the one of `family` (AF_INET or
 * AF_INET6), or, when `any_family`, the other one if the device has none of
 * that family. -EAFNOSUPPORT when there is none to use.
 */
NTM_MUST_CHECK int rcp_nodesock_pick(const struct rcp_resolved *r, int family, bool any_family,
				     uint16_t port, struct ntm_addr *out);
/*
 * The text whois wants for a datagram's source: the address without port,
 * an IPv4-mapped IPv6 address as IPv4. -EAFNOSUPPORT for other families.
 */
NTM_MUST_CHECK int rcp_nodesock_ip_text(const struct sockaddr *sa, char *buf, size_t cap);

/* ---------------------------------------------------------------- calls */

struct rcp_nodesock;

/*
 * The answer of one call: rc is 0 with resp (a response object, owned by
 * the callback: json_object_put it) or a negative errno from ntm_ctl_call
 * with resp NULL; -ECANCELED when ns is closing (free ctx, nothing else).
 */
typedef void (*rcp_nodesock_cb)(void *ctx, int rc, json_object *resp);

NTM_MUST_CHECK int rcp_nodesock_create(uv_loop_t *loop, const char *path,
				       struct rcp_nodesock **out);
/*
 * Send {"cmd":cmd,"args":{key:value}} and call cb(ctx, ...) on the loop
 * with the answer. 0, -ENOMEM. Never calls cb from inside this call.
 */
NTM_MUST_CHECK int rcp_nodesock_call(struct rcp_nodesock *ns, const char *cmd, const char *key,
				     const char *value, int timeout_ms, rcp_nodesock_cb cb,
				     void *ctx);
/* Calls in flight (not answered yet). */
unsigned rcp_nodesock_pending(const struct rcp_nodesock *ns);
/*
 * Calls in flight end with -ECANCELED (as they return from the socket);
 * then ns is freed and done(arg) called (at once when none). ns may be NULL.
 */
void rcp_nodesock_close(struct rcp_nodesock *ns, void (*done)(void *arg), void *arg);

/* ---------------------------------------------------------------- whois cache */

struct rcp_whocache;

enum rcp_whocache_state {
	RCP_WHO_MISS,	 /* nothing known: ask (rcp_whocache_pending first) */
	RCP_WHO_PENDING, /* a whois for it is in flight */
	RCP_WHO_HIT,	 /* fqdn is its owner ("" when the node knows no name) */
	RCP_WHO_STALE,	 /* a hit older than RCP_WHOCACHE_REFRESH_MS: use it, and ask again */
};

NTM_MUST_CHECK int rcp_whocache_create(struct rcp_whocache **out);
void rcp_whocache_destroy(struct rcp_whocache *c);
/* What is known of `ip` (text as rcp_nodesock_ip_text) at now_ms; fqdn gets a HIT's name. */
enum rcp_whocache_state rcp_whocache_get(struct rcp_whocache *c, const char *ip, uint64_t now_ms,
					 char fqdn[RCP_FQDN_MAX + 1]);
/*
 * Note a whois in flight for ip (a HIT stays usable meanwhile). -EBUSY when
 * RCP_WHOCACHE_MAX lookups are already in flight.
 */
NTM_MUST_CHECK int rcp_whocache_pending(struct rcp_whocache *c, const char *ip, uint64_t now_ms);
/* The owner of ip as of now_ms (fqdn may be ""). */
void rcp_whocache_put(struct rcp_whocache *c, const char *ip, const char *fqdn, uint64_t now_ms);
/* The whois of ip failed: forget it. */
void rcp_whocache_forget(struct rcp_whocache *c, const char *ip);
/*
 * The node said "unknown": its peers changed, so every cached answer goes
 * (pending lookups stay pending). Returns how many went.
 */
size_t rcp_whocache_flush(struct rcp_whocache *c);

#endif
