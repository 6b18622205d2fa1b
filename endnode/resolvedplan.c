/* SPDX-License-Identifier: MIT */
#include "resolvedplan.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static bool same_ip(const struct ntm_addr *a, const struct ntm_addr *b)
{
	return a->sa.sa_family == AF_INET && b->sa.sa_family == AF_INET &&
	       a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
}

static void add_server(struct en_resolved_plan *p, const struct ntm_addr *a)
{
	struct en_resolved_server *s;

	for (size_t i = 0; i < p->n_servers; i++) {
		if (memcmp(p->servers[i].addr, &a->sin.sin_addr, 4) == 0) {
			return;
		}
	}
	if (p->n_servers == EN_RESOLVED_SERVERS_MAX) {
		return;
	}
	s = &p->servers[p->n_servers++];
	s->family = AF_INET;
	s->len = 4;
	memcpy(s->addr, &a->sin.sin_addr, 4);
}

static void add_domain(struct en_resolved_plan *p, const char *d)
{
	char routing[EN_RESOLVED_DOMAIN_SIZE];
	int k;

	if (d == NULL || d[0] == '\0' || strcmp(d, ".") == 0) {
		return;
	}
	k = snprintf(routing, sizeof(routing), "~%s", d);
	if (k < 0 || (size_t)k >= sizeof(routing)) {
		return;
	}
	for (size_t i = 0; i < p->n_domains; i++) {
		if (strcmp(p->domains[i], routing) == 0) {
			return;
		}
	}
	if (p->n_domains < EN_RESOLVED_DOMAINS_MAX) {
		memcpy(p->domains[p->n_domains++], routing, (size_t)k + 1);
	}
}

void en_resolved_plan_build(struct en_resolved_plan *p, int ifindex, const struct ntm_addr *listen,
			    size_t n_listen, const struct ntm_addr *usable, size_t n_usable,
			    const char *const *domains, size_t n_domains)
{
	memset(p, 0, sizeof(*p));
	p->ifindex = ifindex;
	for (size_t i = 0; i < n_listen; i++) {
		if (listen[i].sa.sa_family != AF_INET || ntohs(listen[i].sin.sin_port) != 53) {
			continue;
		}
		for (size_t j = 0; j < n_usable; j++) {
			if (same_ip(&listen[i], &usable[j])) {
				add_server(p, &listen[i]);
				break;
			}
		}
	}
	for (size_t i = 0; i < n_domains; i++) {
		add_domain(p, domains[i]);
	}
}

bool en_resolved_plan_equal(const struct en_resolved_plan *a, const struct en_resolved_plan *b)
{
	if (a->ifindex != b->ifindex || a->n_servers != b->n_servers ||
	    a->n_domains != b->n_domains) {
		return false;
	}
	for (size_t i = 0; i < a->n_servers; i++) {
		if (a->servers[i].family != b->servers[i].family ||
		    memcmp(a->servers[i].addr, b->servers[i].addr, a->servers[i].len) != 0) {
			return false;
		}
	}
	for (size_t i = 0; i < a->n_domains; i++) {
		if (strcmp(a->domains[i], b->domains[i]) != 0) {
			return false;
		}
	}
	return true;
}

bool en_resolved_plan_empty(const struct en_resolved_plan *p)
{
	return p->n_servers == 0;
}
