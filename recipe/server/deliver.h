/* SPDX-License-Identifier: MIT */
#ifndef RCP_RS_DELIVER_H
#define RCP_RS_DELIVER_H

/*
 * Distribution of registered recipes to their devices, over the overlay.
 * The server pushes: every 'pending' delivery is a confirmable CoAP POST
 * of the recipe's canonical text to coap://DEVICE/recipes, and every
 * 'verifying' one is followed with GET /recipes?name=NAME, until the device
 * reports 'active' or 'refused: REASON' (see ntm-agent(8), RECIPES); every
 * 'deleting' one is a confirmable DELETE /recipes?name=NAME until the
 * device answers 2.xx ('deleted'). A text over one CoAP message goes
 * block-wise (Block1, libcoap's block mode). An answer about an older
 * version of the text, or to a request the state no longer asks for, is
 * ignored (rcp_rs_store_set_delivery). The
 * device identifies the server by the overlay (the node's whois of the
 * source VIP), so only this server can install recipes there.
 *
 * A device's address is its VIP from the server's own ntm-node
 * ([Server] NodeSocket: `resolve FQDN` builds the tunnel), or a [Device]
 * Address. A device that does not answer is tried again with a doubling
 * pause (1 s .. 30 s) for as long as the delivery is pending.
 */

#include <uv.h>

#include "recipe/server/config.h"
#include "recipe/server/rsstore.h"

enum {
	RCP_RS_DELIVER_TICK_MS = 500,
	RCP_RS_DELIVER_RETRY_MS = 1000,
	RCP_RS_DELIVER_RETRY_MAX_MS = 30000,
	RCP_RS_DELIVER_ATTEMPT_MAX_MS = 60000,
};

struct rcp_rs_deliver;

/*
 * Start delivering on loop; store and cfg are borrowed and outlive it.
 * 0, or a negative errno with why.
 */
NTM_MUST_CHECK int rcp_rs_deliver_create(uv_loop_t *loop, struct rcp_rs_store *store,
					 const struct rcp_rs_config *cfg,
					 struct rcp_rs_deliver **out, char *why, size_t whylen);
/* Look at the pending deliveries now (a recipe was registered). NULL-safe. */
void rcp_rs_deliver_kick(struct rcp_rs_deliver *d);
/* Close every handle; freed in the last callback. NULL-safe. */
void rcp_rs_deliver_close(struct rcp_rs_deliver *d);

#endif
