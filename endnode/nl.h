/* SPDX-License-Identifier: MIT */
#ifndef EN_NL_H
#define EN_NL_H

#include <stdbool.h>

#include "common/addr.h"
#include "common/err.h"

/*
 * Interface, address and route configuration over rtnetlink with libnl-route.
 * Every function is synchronous (one request, one acknowledgement on a
 * private socket) and is meant for start-up and for the rare run-time change
 * (a VIP assigned by the DC). libnl's -NLE_* codes are translated to negative
 * errnos here and nowhere else.
 */
struct en_nl;

/* Opens a NETLINK_ROUTE socket. Needs CAP_NET_ADMIN for the changes below. */
NTM_MUST_CHECK int en_nl_open(struct en_nl **out);
void en_nl_close(struct en_nl *nl);

/* Sets the MTU (0 leaves it) and brings the link up. */
NTM_MUST_CHECK int en_nl_link_up(struct en_nl *nl, int ifindex, unsigned mtu);

/*
 * Adds `p` (address plus on-link prefix length, host bits kept) to the
 * interface. An address that is already there is not an error. IPv6
 * addresses skip duplicate address detection (the TUN is point-to-point and
 * the VIP is unique by assignment), so they are usable at once.
 */
NTM_MUST_CHECK int en_nl_addr_add(struct en_nl *nl, int ifindex, const struct ntm_prefix *p);
/* The same with scope host: never chosen as a source address. */
NTM_MUST_CHECK int en_nl_addr_add_host(struct en_nl *nl, int ifindex, const struct ntm_prefix *p);
NTM_MUST_CHECK int en_nl_addr_del(struct en_nl *nl, int ifindex, const struct ntm_prefix *p);

/* Adds (or replaces) a route to `dst` through the interface, in the main table. */
NTM_MUST_CHECK int en_nl_route_add(struct en_nl *nl, int ifindex, const struct ntm_prefix *dst);

/* Deletes that route again. -ENOENT when there is none. */
NTM_MUST_CHECK int en_nl_route_del(struct en_nl *nl, int ifindex, const struct ntm_prefix *dst);

/* Translate a libnl error (negative NLE_*) to a negative errno. */
int en_nl_errno(int nle);

#endif
