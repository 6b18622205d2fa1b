/* SPDX-License-Identifier: MIT */
/*
 * Conversions between c-ares values and ntm's, kept apart from the loop glue
 * in dns.c so that they can be fuzzed without a loop or a socket.
 */
#include "dns_internal.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

int ntm_dns_errno(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return 0;
	case ARES_ENOTFOUND:
	case ARES_ENONAME:
		return -ENOENT;
	case ARES_ENODATA:
		return -ENODATA;
	case ARES_ETIMEOUT:
		return -ETIMEDOUT;
	case ARES_ECONNREFUSED:
		return -ECONNREFUSED;
	case ARES_ENOMEM:
		return -ENOMEM;
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		return -ECANCELED;
	case ARES_EBADRESP:
		return -EBADMSG;
	case ARES_EBADNAME:
	case ARES_EBADQUERY:
	case ARES_EBADFAMILY:
	case ARES_EBADFLAGS:
	case ARES_EBADHINTS:
	case ARES_EBADSTR:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static int parse_port(const char *s, int *port)
{
	unsigned long v = 0;

	if (*s == '\0') {
		return -EINVAL;
	}
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9') {
			return -EINVAL;
		}
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535) {
			return -EINVAL;
		}
	}
	if (v == 0) {
		return -EINVAL;
	}
	*port = (int)v;
	return 0;
}

/* "ip", "ip:port", "v6", "[v6]", "[v6]:port" (numeric only). */
int ntm_dns_parse_server(const char *s, struct ares_addr_port_node *node)
{
	char buf[NTM_DNS_MAX_SERVER_STR];
	size_t len = strnlen(s, sizeof(buf));
	char *host = buf;
	char *port = NULL;
	char *p;
	bool v6_only = false;
	int rc;

	memset(node, 0, sizeof(*node));
	if (len == 0 || len == sizeof(buf)) {
		return -EINVAL;
	}
	memcpy(buf, s, len + 1);
	if (buf[0] == '[') {
		p = strchr(buf, ']');
		if (p == NULL || (p[1] != '\0' && p[1] != ':')) {
			return -EINVAL;
		}
		*p = '\0';
		host = buf + 1;
		port = p[1] == ':' ? p + 2 : NULL;
		v6_only = true;
	} else if ((p = strchr(buf, ':')) != NULL && strchr(p + 1, ':') == NULL) {
		*p = '\0';
		port = p + 1;
	}
	node->udp_port = 53;
	if (port != NULL && (rc = parse_port(port, &node->udp_port)) < 0) {
		return rc;
	}
	node->tcp_port = node->udp_port;
	if (!v6_only && inet_pton(AF_INET, host, &node->addr.addr4) == 1) {
		node->family = AF_INET;
		return 0;
	}
	if (port != NULL && !v6_only) {
		return -EINVAL; /* "v4:port" with a bad v4, or "v6:port" without [] */
	}
	if (inet_pton(AF_INET6, host, &node->addr.addr6) == 1) {
		node->family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

int ntm_dns_copy_addrs(const struct ares_addrinfo *ai, struct ntm_dns_addr **out, size_t *n_out)
{
	const struct ares_addrinfo_node *node;
	struct ntm_dns_addr *addrs;
	size_t n = 0;

	*out = NULL;
	*n_out = 0;
	for (node = ai ? ai->nodes : NULL; node != NULL; node = node->ai_next) {
		n++;
	}
	if (n == 0) {
		return -ENODATA;
	}
	addrs = ntm_calloc(n, sizeof(*addrs));
	if (addrs == NULL) {
		return -ENOMEM;
	}
	n = 0;
	for (node = ai->nodes; node != NULL; node = node->ai_next) {
		if ((node->ai_family != AF_INET && node->ai_family != AF_INET6) ||
		    node->ai_addr == NULL || node->ai_addrlen > sizeof(addrs[n].ss)) {
			continue;
		}
		memcpy(&addrs[n].ss, node->ai_addr, node->ai_addrlen);
		addrs[n].len = node->ai_addrlen;
		addrs[n].ttl = node->ai_ttl > 0 ? (uint32_t)node->ai_ttl : 0;
		n++;
	}
	if (n == 0) {
		ntm_free(addrs);
		return -ENODATA;
	}
	*out = addrs;
	*n_out = n;
	return 0;
}

static int cmp_srv(const void *a, const void *b)
{
	const struct ntm_dns_srv *x = a;
	const struct ntm_dns_srv *y = b;

	if (x->priority != y->priority) {
		return x->priority < y->priority ? -1 : 1;
	}
	if (x->weight != y->weight) {
		return x->weight > y->weight ? -1 : 1;
	}
	return strcmp(x->target, y->target);
}

int ntm_dns_copy_srv(const struct ares_srv_reply *replies, struct ntm_dns_srv **out, size_t *n_out)
{
	const struct ares_srv_reply *r;
	struct ntm_dns_srv *srv;
	size_t n = 0;

	*out = NULL;
	*n_out = 0;
	for (r = replies; r != NULL; r = r->next) {
		n++;
	}
	if (n == 0) {
		return -ENODATA;
	}
	srv = ntm_calloc(n, sizeof(*srv));
	if (srv == NULL) {
		return -ENOMEM;
	}
	n = 0;
	for (r = replies; r != NULL; r = r->next, n++) {
		srv[n].target = r->host ? r->host : "";
		srv[n].priority = r->priority;
		srv[n].weight = r->weight;
		srv[n].port = r->port;
	}
	qsort(srv, n, sizeof(*srv), cmp_srv);
	*out = srv;
	*n_out = n;
	return 0;
}
