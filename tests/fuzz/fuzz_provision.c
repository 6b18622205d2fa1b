/* SPDX-License-Identifier: MIT */
/*
 * A devmgr's provisioning answer as ntm-agent reads it (provision.h):
 * accepted input must yield an FQDN, a DC endpoint and key without
 * characters that would break the node configuration written from them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recipe/agent/provision.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rcp_provisioning p;
	char why[256];

	if (rcp_provision_parse((const char *)data, size, &p, why, sizeof(why)) == 0) {
		if (p.fqdn[0] == '\0' || p.dc_endpoint[0] == '\0' || p.dc_key[0] == '\0' ||
		    strpbrk(p.dc_key, "\n#;") != NULL || strchr(p.dc_endpoint, '\n') != NULL ||
		    strchr(p.fqdn, '\n') != NULL) {
			abort();
		}
	}
	return 0;
}
