/* SPDX-License-Identifier: MIT */
#include "nl.h"

#include <linux/if_addr.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "common/alloc.h"

struct en_nl {
	struct nl_sock *sock;
};

int en_nl_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case 0:
		return 0;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENODEV;
	case NLE_PERM:
		return -EPERM;
	case NLE_INVAL:
	case NLE_RANGE:
		return -EINVAL;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	case NLE_AGAIN:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

int en_nl_open(struct en_nl **out)
{
	struct en_nl *nl;
	int rc;

	*out = NULL;
	nl = ntm_calloc(1, sizeof(*nl));
	if (nl == NULL) {
		return -ENOMEM;
	}
	nl->sock = nl_socket_alloc();
	if (nl->sock == NULL) {
		ntm_free(nl);
		return -ENOMEM;
	}
	rc = nl_connect(nl->sock, NETLINK_ROUTE);
	if (rc < 0) {
		nl_socket_free(nl->sock);
		ntm_free(nl);
		return en_nl_errno(rc);
	}
	*out = nl;
	return 0;
}

void en_nl_close(struct en_nl *nl)
{
	if (nl == NULL) {
		return;
	}
	nl_socket_free(nl->sock);
	ntm_free(nl);
}

int en_nl_link_up(struct en_nl *nl, int ifindex, unsigned mtu)
{
	struct rtnl_link *orig = rtnl_link_alloc();
	struct rtnl_link *change = rtnl_link_alloc();
	int rc = -ENOMEM;

	if (orig == NULL || change == NULL) {
		goto out;
	}
	rtnl_link_set_ifindex(orig, ifindex);
	rtnl_link_set_flags(change, IFF_UP);
	if (mtu > 0) {
		rtnl_link_set_mtu(change, mtu);
	}
	rc = en_nl_errno(rtnl_link_change(nl->sock, orig, change, 0));
out:
	rtnl_link_put(change);
	rtnl_link_put(orig);
	return rc;
}

static struct nl_addr *make_addr(const struct ntm_prefix *p)
{
	struct nl_addr *a;
	size_t len = p->family == AF_INET ? 4 : 16;

	a = nl_addr_build(p->family, p->addr, len);
	if (a != NULL) {
		nl_addr_set_prefixlen(a, p->prefix_len);
	}
	return a;
}

static int addr_change(struct en_nl *nl, int ifindex, const struct ntm_prefix *p, bool add,
		       bool host)
{
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *local = make_addr(p);
	int rc = -ENOMEM;

	if (ra == NULL || local == NULL) {
		goto out;
	}
	rtnl_addr_set_ifindex(ra, ifindex);
	rtnl_addr_set_family(ra, p->family);
	rc = en_nl_errno(rtnl_addr_set_local(ra, local));
	if (rc < 0) {
		goto out;
	}
	if (p->family == AF_INET6) {
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
	}
	if (host) {
		rtnl_addr_set_scope(ra, RT_SCOPE_HOST);
	}
	if (add) {
		rc = en_nl_errno(rtnl_addr_add(nl->sock, ra, 0));
		if (rc == -EEXIST) {
			rc = 0;
		}
	} else {
		rc = en_nl_errno(rtnl_addr_delete(nl->sock, ra, 0));
	}
out:
	nl_addr_put(local);
	rtnl_addr_put(ra);
	return rc;
}

int en_nl_addr_add(struct en_nl *nl, int ifindex, const struct ntm_prefix *p)
{
	return addr_change(nl, ifindex, p, true, false);
}

int en_nl_addr_add_host(struct en_nl *nl, int ifindex, const struct ntm_prefix *p)
{
	return addr_change(nl, ifindex, p, true, true);
}

int en_nl_addr_del(struct en_nl *nl, int ifindex, const struct ntm_prefix *p)
{
	return addr_change(nl, ifindex, p, false, false);
}

/* Adds (NLM_F_REPLACE) or deletes the route to `dst` through the interface. */
static int route_change(struct en_nl *nl, int ifindex, const struct ntm_prefix *dst, bool add)
{
	struct rtnl_route *route = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *d = make_addr(dst);
	int rc = -ENOMEM;

	if (route == NULL || nh == NULL || d == NULL) {
		rtnl_route_nh_free(nh);
		goto out;
	}
	rtnl_route_set_family(route, dst->family);
	rtnl_route_set_table(route, RT_TABLE_MAIN);
	rtnl_route_set_scope(route, RT_SCOPE_LINK);
	rtnl_route_set_protocol(route, RTPROT_STATIC);
	rc = en_nl_errno(rtnl_route_set_dst(route, d));
	if (rc < 0) {
		rtnl_route_nh_free(nh);
		goto out;
	}
	rtnl_route_nh_set_ifindex(nh, ifindex);
	/* The route owns the nexthop from here on. */
	rtnl_route_add_nexthop(route, nh);
	rc = en_nl_errno(add ? rtnl_route_add(nl->sock, route, NLM_F_REPLACE)
			     : rtnl_route_delete(nl->sock, route, 0));
out:
	nl_addr_put(d);
	rtnl_route_put(route);
	return rc;
}

int en_nl_route_add(struct en_nl *nl, int ifindex, const struct ntm_prefix *dst)
{
	return route_change(nl, ifindex, dst, true);
}

int en_nl_route_del(struct en_nl *nl, int ifindex, const struct ntm_prefix *dst)
{
	int rc = route_change(nl, ifindex, dst, false);

	return rc == -ENODEV || rc == -ESRCH ? -ENOENT : rc;
}
