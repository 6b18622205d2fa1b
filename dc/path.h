/* SPDX-License-Identifier: MIT */
#ifndef DC_PATH_H
#define DC_PATH_H

/*
 * The DC's path choice for a pair of nodes (DESIGN "Flows" 3): a pure
 * function over what the DC knows of both ends, no sockets, no state.
 */

#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/ctrlmsg.h"

/* One end as the DC sees it: a plain value. */
struct dc_path_end {
	uint8_t nat;		 /* enum ntm_ctrl_nat */
	uint8_t families;	 /* NTM_CTRL_FAMILY_* bits the node can use */
	struct ntm_addr outside; /* where its control messages come from */
};

struct dc_path_choice {
	uint8_t path; /* enum ntm_ctrl_path */
	bool relay;   /* allocate a relay session too (the path itself, or its fallback) */
};

/*
 * The rules, in order: no common address family -> relay; both behind NAT
 * with the same outside IP address -> same-nat (private candidates first);
 * one end public -> direct; both endpoint-independent (or not classified
 * yet: an optimistic punch, the relay catches a failure) -> punched; else
 * (an endpoint-dependent mapping behind NAT on either side) -> relay. Every
 * path but direct gets a relay session in parallel, so that the first
 * packet never waits for a failed punch.
 */
struct dc_path_choice dc_path_choose(const struct dc_path_end *a, const struct dc_path_end *b);

#endif
