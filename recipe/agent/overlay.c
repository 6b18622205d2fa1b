/* SPDX-License-Identifier: MIT */
/*
 * The agent over ntm-node ([Agent] NodeSocket): a device's address is the
 * VIP `resolve FQDN` returns (the node builds the tunnel first), and the
 * sender of an action request is the FQDN `whois` gives for the datagram's
 * source address, never anything the request says. Both calls go to the
 * node's control socket off the loop (nodesock.h says why).
 *
 * VIP family: the one of Listen (the agent's requests leave from it); with
 * a wildcard Listen, the other family when the device has no VIP of Listen's.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/agent/agent_internal.h"

int rcp_agent_overlay_init(struct rcp_agent *a, char *why, size_t whylen)
{
	int rc;

	if (a->cfg->node_socket == NULL) {
		return 0;
	}
	rc = rcp_nodesock_create(a->loop, a->cfg->node_socket, &a->ns);
	if (rc == 0) {
		rc = rcp_whocache_create(&a->whos);
	}
	if (rc < 0) {
		snprintf(why, whylen, "node socket: %s", ntm_strerror(rc));
	}
	return rc;
}

static bool listen_is_any(const struct rcp_agent *a)
{
	const struct ntm_addr *l = &a->cfg->listen;
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	return l->sa.sa_family == AF_INET ? l->sin.sin_addr.s_addr == htonl(INADDR_ANY)
					  : memcmp(&l->sin6.sin6_addr, &any6, sizeof(any6)) == 0;
}

/* ---------------------------------------------------------------- resolve */

static void on_resolved(void *ctx, int rc, json_object *resp)
{
	struct peer *p = ctx;
	struct rcp_agent *a = p->agent;
	struct rcp_resolved r;
	struct ntm_addr addr;
	char why[160], text[NTM_ADDR_STRLEN];

	if (rc == -ECANCELED) {
		return; /* the agent closes */
	}
	p->resolving = false;
	if (rc == 0) {
		rc = rcp_nodesock_parse_resolve(resp, p->conf.fqdn, &r, why, sizeof(why));
		json_object_put(resp);
	} else {
		snprintf(why, sizeof(why), "node socket %s: %s", a->cfg->node_socket,
			 ntm_strerror(rc));
	}
	if (rc == 0) {
		rc = rcp_nodesock_pick(&r, a->cfg->listen.sa.sa_family, listen_is_any(a),
				       RCP_AGENT_COAP_PORT, &addr);
		snprintf(why, sizeof(why), "no VIP of Listen's address family");
	}
	if (rc < 0) {
		p->resolve_after_ms = uv_now(a->loop) + RCP_AGENT_RETRY_MS;
		ntm_log_ratelimited(&a->rl, uv_now(a->loop), NTM_LOG_WARN,
				    "resolve %s: %s; its actions wait", p->conf.fqdn, why);
		return;
	}
	p->addr_expires_ms = uv_now(a->loop) + RCP_RESOLVE_TTL_MS;
	if (p->addr.len == addr.len && memcmp(&p->addr.ss, &addr.ss, addr.len) == 0) {
		return; /* same VIP: the session stays */
	}
	p->addr = addr;
	if (ntm_addr_format(&addr, text, sizeof(text)) < 0) {
		text[0] = '\0';
	}
	ntm_log_info("resolve %s: %s (%s path, %llu ms)", p->conf.fqdn, text, r.path,
		     (unsigned long long)r.ms);
	rcp_agent_send_readdress(a, p);
}

void rcp_agent_overlay_resolve(struct rcp_agent *a, struct peer *p)
{
	int rc;

	if (a->ns == NULL || p->resolving || uv_now(a->loop) < p->resolve_after_ms) {
		return;
	}
	p->agent = a;
	rc = rcp_nodesock_call(a->ns, "resolve", "fqdn", p->conf.fqdn,
			       RCP_NODESOCK_RESOLVE_TIMEOUT_MS, on_resolved, p);
	if (rc < 0) {
		p->resolve_after_ms = uv_now(a->loop) + RCP_AGENT_RETRY_MS;
		ntm_log_warn("resolve %s: %s", p->conf.fqdn, ntm_strerror(rc));
		return;
	}
	p->resolving = true;
}

/* ---------------------------------------------------------------- whois */

/* One whois in flight: the VIP asked. */
struct who_call {
	struct rcp_agent *a;
	char ip[INET6_ADDRSTRLEN];
};

static void on_whois(void *ctx, int rc, json_object *resp)
{
	struct who_call *w = ctx;
	struct rcp_agent *a = w->a;
	struct rcp_whois who;
	char why[160];

	if (rc == -ECANCELED) {
		ntm_free(w); /* the agent closes */
		return;
	}
	if (rc == 0) {
		rc = rcp_nodesock_parse_whois(resp, w->ip, &who, why, sizeof(why));
		json_object_put(resp);
	} else {
		snprintf(why, sizeof(why), "node socket %s: %s", a->cfg->node_socket,
			 ntm_strerror(rc));
	}
	if (rc == 0) {
		rcp_whocache_put(a->whos, w->ip, who.fqdn, uv_now(a->loop));
		ntm_log_debug("whois %s: %s", w->ip, who.fqdn[0] != '\0' ? who.fqdn : "(no name)");
	} else {
		rcp_whocache_forget(a->whos, w->ip);
		if (rc == -ENOENT) {
			/* Its peers changed: no cached answer is to be trusted now. */
			(void)rcp_whocache_flush(a->whos);
		}
		ntm_log_ratelimited(&a->rl, uv_now(a->loop), NTM_LOG_INFO, "whois %s: %s", w->ip,
				    why);
	}
	rcp_agent_whowait_done(a, w->ip);
	ntm_free(w);
}

static int start_whois(struct rcp_agent *a, const char *ip)
{
	struct who_call *w;
	int rc = rcp_whocache_pending(a->whos, ip, uv_now(a->loop));

	if (rc < 0) {
		return rc;
	}
	w = ntm_calloc(1, sizeof(*w));
	if (w != NULL) {
		w->a = a;
		snprintf(w->ip, sizeof(w->ip), "%s", ip);
		rc = rcp_nodesock_call(a->ns, "whois", "vip", ip, RCP_NODESOCK_WHOIS_TIMEOUT_MS,
				       on_whois, w);
	}
	if (w == NULL || rc < 0) {
		ntm_free(w);
		rcp_whocache_forget(a->whos, ip);
		return -ENOMEM;
	}
	return 0;
}

int rcp_agent_overlay_sender(struct rcp_agent *a, const struct sockaddr *sa,
			     char fqdn[RCP_FQDN_MAX + 1])
{
	char ip[INET6_ADDRSTRLEN];
	int rc = rcp_nodesock_ip_text(sa, ip, sizeof(ip));

	if (rc < 0) {
		return rc;
	}
	switch (rcp_whocache_get(a->whos, ip, uv_now(a->loop), fqdn)) {
	case RCP_WHO_HIT:
		return 0;
	case RCP_WHO_STALE:
		(void)start_whois(a, ip); /* refreshed in the back; this answer stands */
		return 0;
	case RCP_WHO_PENDING:
		return -EAGAIN;
	case RCP_WHO_MISS:
	default:
		rc = start_whois(a, ip);
		return rc < 0 ? rc : -EAGAIN;
	}
}

void rcp_agent_overlay_close(struct rcp_agent *a, void (*done)(void *arg), void *arg)
{
	struct rcp_nodesock *ns = a->ns;

	/* Calls in flight end with -ECANCELED before done: the peers live until then. */
	a->ns = NULL;
	rcp_whocache_destroy(a->whos);
	a->whos = NULL;
	rcp_nodesock_close(ns, done, arg);
}
