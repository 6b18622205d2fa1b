/* SPDX-License-Identifier: MIT */
/*
 * ntm-devmgr's request bodies. The first byte picks the parser (model or
 * device); the rest is the body. Accepted input must satisfy the checks
 * the store relies on; a rejection must say why and leave the record zeroed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "recipe/devmgr/dmreq.h"
#include "recipe/web/jreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok) {
		abort();
	}
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		if (b[i] != 0) {
			return false;
		}
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rcp_dm_model m;
	struct rcp_dm_device d;
	char why[256] = "";
	const char *body = (const char *)data + 1;
	int rc;

	if (size < 1) {
		return 0;
	}
	if (data[0] & 1) {
		rc = rcp_dm_parse_device(body, size - 1, &d, why, sizeof(why));
		if (rc == 0) {
			check(rcp_jreq_is_ident(d.id, RCP_DM_ID_MAX));
			check(rcp_jreq_is_fqdn(d.fqdn));
			check(strlen(d.public_key) == NTM_KEY_B64_SIZE - 1);
		} else {
			check(why[0] != '\0' && all_zero(&d, sizeof(d)));
		}
	} else {
		rc = rcp_dm_parse_model(body, size - 1, &m, why, sizeof(why));
		if (rc == 0) {
			check(rcp_jreq_is_ident(m.name, RCP_DM_ID_MAX));
			check(rcp_dm_links_ok(m.links));
		} else {
			check(why[0] != '\0' && m.name[0] == '\0');
		}
	}
	return 0;
}
