/* SPDX-License-Identifier: MIT */
/*
 * The action request payload (actreq.h), the only thing the agent parses
 * from the network: whatever decodes must encode, and decode again to the
 * same key, value and parameters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/agent/actreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rcp_actreq req, again;
	char why[RCP_ACTREQ_WHY_MAX];
	char *out;
	size_t len;

	if (rcp_actreq_decode(data, size, &req, why, sizeof(why)) < 0) {
		check(req.key[0] == '\0' && req.action.n_params == 0);
		return 0;
	}
	check(rcp_actreq_key_is_valid(req.key, strlen(req.key)));
	check(rcp_actreq_encode(req.key, &req.action, &out, &len) == 0);
	check(rcp_actreq_decode(out, len, &again, why, sizeof(why)) == 0);
	check(strcmp(req.key, again.key) == 0);
	check(rcp_value_eq(&req.action.value, &again.action.value));
	check(req.action.n_params == again.action.n_params);
	for (size_t i = 0; i < req.action.n_params; i++) {
		check(strcmp(req.action.params[i].name, again.action.params[i].name) == 0);
		check(rcp_value_eq(&req.action.params[i].value, &again.action.params[i].value));
	}
	ntm_free(out);
	rcp_actreq_fini(&again);
	rcp_actreq_fini(&req);
	return 0;
}
