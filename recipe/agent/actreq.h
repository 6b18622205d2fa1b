/* SPDX-License-Identifier: MIT */
#ifndef RCP_AGENT_ACTREQ_H
#define RCP_AGENT_ACTREQ_H

/*
 * The payload of an action request: the body of the confirmable CoAP POST
 * to an action resource (content format application/json, 50). The action's
 * target is the request's URI path on the receiving device, never something
 * the payload says.
 *
 *   { "key": KEY, "value": VALUE, "params": { NAME: VALUE, ... } }
 *
 *   KEY    1..RCP_IDEM_KEY_MAX bytes of printable ASCII without space
 *          (0x21-0x7e); agents send "FQDN/RECIPE/SEQ/INDEX"
 *   VALUE  true | false | a number in the recipe language's decimal form |
 *          a string allowed as a recipe text value; optional
 *   NAME   an identifier of the recipe language; at most RCP_PARAMS_MAX
 *
 * The decoder is strict: the whole text must be one JSON object of at most
 * RCP_ACTREQ_MAX bytes, with no unknown members ("params"
 * included; a repeated member cannot be seen: json-c keeps the last) and
 * no NUL byte.
 */

#include <stddef.h>

#include "recipe/agent/idem.h"
#include "recipe/recipe.h"

enum {
	RCP_ACTREQ_MAX = 2048,	  /* bytes of a request payload */
	RCP_ACTREQ_WHY_MAX = 160, /* bytes of a decoder's reason */
};

struct rcp_actreq {
	char key[RCP_IDEM_KEY_MAX + 1];
	/* kind RCP_ACT_DO, target NULL: the receiver sets it from the URI. */
	struct rcp_action action;
};

/*
 * Decode len bytes of data (borrowed). On success *req owns its action's
 * value and params (free with rcp_actreq_fini); on failure *req is empty and
 * why (whylen bytes) says why. 0, -EBADMSG (malformed or not allowed),
 * -EMSGSIZE (too long), -ENOMEM.
 */
NTM_MUST_CHECK int rcp_actreq_decode(const void *data, size_t len, struct rcp_actreq *req,
				     char *why, size_t whylen);

/*
 * Encode key and a's value and params (both borrowed; a->target is not sent)
 * as a NUL-terminated payload the caller frees with ntm_free(); *len is its
 * length. -EINVAL for a key the decoder would refuse, -EMSGSIZE, -ENOMEM.
 */
NTM_MUST_CHECK int rcp_actreq_encode(const char *key, const struct rcp_action *a, char **out,
				     size_t *len);

/* Free the owned parts of req and empty it (NULL-safe). */
void rcp_actreq_fini(struct rcp_actreq *req);

/* Whether key is allowed (see KEY above). */
bool rcp_actreq_key_is_valid(const char *key, size_t len);

#endif
