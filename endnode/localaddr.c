/* SPDX-License-Identifier: MIT */
#include "localaddr.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>

static bool is_candidate_ip(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const uint8_t *b = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;

		return b[0] != 127 && b[0] != 0 && !(b[0] == 169 && b[1] == 254);
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		return !IN6_IS_ADDR_LOOPBACK(a) && !IN6_IS_ADDR_LINKLOCAL(a) &&
		       !IN6_IS_ADDR_UNSPECIFIED(a) && !IN6_IS_ADDR_MULTICAST(a) &&
		       !IN6_IS_ADDR_V4MAPPED(a);
	}
	return false;
}

static void set_candidate(struct ntm_addr *out, const struct sockaddr *sa, uint16_t port)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		out->sin = *(const struct sockaddr_in *)sa;
		out->sin.sin_port = htons(port);
		out->len = sizeof(out->sin);
	} else {
		out->sin6 = *(const struct sockaddr_in6 *)sa;
		out->sin6.sin6_port = htons(port);
		out->sin6.sin6_scope_id = 0;
		out->sin6.sin6_flowinfo = 0;
		out->len = sizeof(out->sin6);
	}
}

size_t en_localaddr_candidates(uint16_t port, bool v4, bool v6, const char *skip_ifname,
			       struct ntm_addr *out, size_t cap)
{
	struct ifaddrs *list, *i;
	size_t n = 0;

	if (port == 0 || getifaddrs(&list) < 0) {
		return 0;
	}
	for (i = list; i != NULL && n < cap; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr;

		if (sa == NULL || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK) ||
		    (skip_ifname != NULL && strcmp(i->ifa_name, skip_ifname) == 0) ||
		    !is_candidate_ip(sa) || (sa->sa_family == AF_INET && !v4) ||
		    (sa->sa_family == AF_INET6 && !v6)) {
			continue;
		}
		set_candidate(&out[n++], sa, port);
	}
	freeifaddrs(list);
	return n;
}
