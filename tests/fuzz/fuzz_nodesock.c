/* SPDX-License-Identifier: MIT */
/*
 * The node's answers to whois and resolve as the agent decodes them
 * (nodesock.h): one line from the control socket. Whatever is accepted
 * must hold what the decoders promise: a lower-case FQDN the recipe
 * language accepts (or none), at least one VIP, a short lower-case path.
 * The first byte picks the decoder; the rest is the line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctl.h"
#include "recipe/agent/nodesock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok) {
		abort();
	}
}

static void check_fqdn(const char *f, bool may_be_empty)
{
	char ref[RCP_FQDN_MAX + 3];
	size_t n = strlen(f);

	if (n == 0) {
		check(may_be_empty);
		return;
	}
	check(n <= RCP_FQDN_MAX);
	for (size_t i = 0; i < n; i++) {
		check(!(f[i] >= 'A' && f[i] <= 'Z'));
	}
	memcpy(ref, f, n);
	memcpy(ref + n, "/x", 3);
	check(rcp_is_resource_ref(ref, n + 2));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rcp_resolved r;
	struct rcp_whois w;
	struct ntm_addr a;
	json_object *o;
	char why[160];

	if (size < 1 || ntm_ctl_response_parse((const char *)data + 1, size - 1, &o) < 0) {
		return 0;
	}
	if (data[0] & 1) {
		if (rcp_nodesock_parse_resolve(o, "b.home.example", &r, why, sizeof(why)) == 0) {
			check(strcmp(r.fqdn, "b.home.example") == 0);
			check(r.has4 || r.has6);
			check(r.path[0] != '\0' &&
			      strspn(r.path, "abcdefghijklmnopqrstuvwxyz") == strlen(r.path));
			check(rcp_nodesock_pick(&r, AF_INET6, true, 5683, &a) == 0);
			check(rcp_nodesock_pick(&r, AF_INET, true, 5683, &a) == 0);
		} else {
			check(!r.has4 && !r.has6 && r.fqdn[0] == '\0');
		}
	} else {
		if (rcp_nodesock_parse_whois(o, "100.80.0.7", &w, why, sizeof(why)) == 0) {
			check_fqdn(w.fqdn, true);
		} else {
			check(w.fqdn[0] == '\0');
		}
	}
	json_object_put(o);
	return 0;
}
