/* SPDX-License-Identifier: MIT */
#include "path.h"

#include <string.h>

/* The same IP address (ports aside): two nodes behind one NAT. */
static bool same_ip(const struct ntm_addr *a, const struct ntm_addr *b)
{
	if (a->len == 0 || b->len == 0 || a->sa.sa_family != b->sa.sa_family) {
		return false;
	}
	if (a->sa.sa_family == AF_INET) {
		return a->sin.sin_addr.s_addr == b->sin.sin_addr.s_addr;
	}
	return memcmp(&a->sin6.sin6_addr, &b->sin6.sin6_addr, sizeof(a->sin6.sin6_addr)) == 0;
}

static bool may_punch(uint8_t nat)
{
	return nat == NTM_CTRL_NAT_EIM || nat == NTM_CTRL_NAT_UNKNOWN;
}

struct dc_path_choice dc_path_choose(const struct dc_path_end *a, const struct dc_path_end *b)
{
	struct dc_path_choice c = { .path = NTM_CTRL_PATH_RELAY, .relay = true };
	bool a_public = a->nat == NTM_CTRL_NAT_PUBLIC, b_public = b->nat == NTM_CTRL_NAT_PUBLIC;

	if ((a->families & b->families) == 0) {
		return c; /* IPv4-only <-> IPv6-only: only a dual-stack relay joins them */
	}
	if (!a_public && !b_public && same_ip(&a->outside, &b->outside)) {
		c.path = NTM_CTRL_PATH_SAME_NAT;
	} else if (a_public || b_public) {
		c.path = NTM_CTRL_PATH_DIRECT;
		c.relay = false;
	} else if (may_punch(a->nat) && may_punch(b->nat)) {
		c.path = NTM_CTRL_PATH_PUNCHED;
	}
	return c;
}
