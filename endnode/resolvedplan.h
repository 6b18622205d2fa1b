/* SPDX-License-Identifier: MIT */
#ifndef EN_RESOLVEDPLAN_H
#define EN_RESOLVEDPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

/*
 * What the node asks systemd-resolved for its TUN link (endnode/resolved.h),
 * as plain data, so it can be compared with what was registered last and
 * tested without a bus: the DNS servers (the stub's addresses that resolved
 * can reach out of the link: IPv4 at port 53, SetLinkDNS has no port) and
 * the overlay domains as routing-only domains ("~example.net": queries
 * below them go to this link, no search list).
 */
enum {
	EN_RESOLVED_SERVERS_MAX = 4,  /* = EN_DNSSTUB_LISTEN_MAX */
	EN_RESOLVED_DOMAINS_MAX = 12, /* [DNS] Domains + the DC's */
	EN_RESOLVED_DOMAIN_SIZE = 1 + 253 + 1,
};

struct en_resolved_server {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	size_t len; /* 4 or 16 */
};

struct en_resolved_plan {
	int ifindex;
	struct en_resolved_server servers[EN_RESOLVED_SERVERS_MAX];
	size_t n_servers;
	char domains[EN_RESOLVED_DOMAINS_MAX][EN_RESOLVED_DOMAIN_SIZE]; /* "~" + name */
	size_t n_domains;
};

/*
 * The plan for link `ifindex`: the servers among `listen` (n_listen) that
 * `usable` (n_usable: the addresses the node put on its link) holds, IPv4 at
 * port 53 only, and `domains` (n_domains; lower case, no trailing dot, as
 * the config and the DC give them) with "~" in front. Duplicates, empty
 * names and the root are left out; what does not fit is dropped.
 */
void en_resolved_plan_build(struct en_resolved_plan *p, int ifindex, const struct ntm_addr *listen,
			    size_t n_listen, const struct ntm_addr *usable, size_t n_usable,
			    const char *const *domains, size_t n_domains);

bool en_resolved_plan_equal(const struct en_resolved_plan *a, const struct en_resolved_plan *b);

/* Nothing to register: no server (the link's configuration is reverted instead). */
bool en_resolved_plan_empty(const struct en_resolved_plan *p);

#endif
