/* SPDX-License-Identifier: MIT */
#ifndef EN_LOCALADDR_H
#define EN_LOCALADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

/*
 * The host's addresses a peer or the DC might reach the node on, with
 * `port`: every global IPv4 and IPv6 address of an interface that is up,
 * except loopback, link-local and the interface `skip_ifname` (the TUN; may
 * be NULL), and only of the families set in `v4`/`v6`. At most `cap`.
 */
size_t en_localaddr_candidates(uint16_t port, bool v4, bool v6, const char *skip_ifname,
			       struct ntm_addr *out, size_t cap);

#endif
