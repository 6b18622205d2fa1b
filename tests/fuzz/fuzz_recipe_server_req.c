/* SPDX-License-Identifier: MIT */
/*
 * ntm-recipe-server's outside input: a devmgr's device answer (first byte
 * even) or a submitted recipe body run through every registration check
 * (first byte odd; all devices count as bound): a POST /v1/recipes body,
 * or with bit 1 set a PUT /v1/recipes/welcome body (a replacement). Accepted input must meet
 * what the store relies on; a refusal must carry a status and a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/web/jreq.h"
#include "recipe/server/check.h"
#include "recipe/server/rsapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok) {
		abort();
	}
}

static int owns_all(void *ctx, const char *fqdn)
{
	return 1;
}

static void fuzz_submission(const char *body, size_t len, bool replace)
{
	struct rcp_rs_verdict v;
	struct rcp_file *f = NULL;
	int rc = replace ? rcp_rs_check_replace("welcome", body, len, "", NULL, false, owns_all,
						NULL, &f, &v)
			 : rcp_rs_check(body, len, "", NULL, false, owns_all, NULL, &f, &v);

	if (rc == 0 && replace) {
		check(f->n == 1 && strcmp(f->recipes[0]->name, "welcome") == 0);
	}
	if (rc == 0) {
		char fq[RCP_RS_DEVICES_MAX][RCP_FQDN_MAX + 1];

		check(f != NULL && f->n > 0);
		for (size_t i = 0; i < f->n; i++) {
			size_t n = 0;

			check(rcp_rs_recipe_devices(f->recipes[i], fq, RCP_RS_DEVICES_MAX, &n) ==
			      0);
		}
		rcp_file_free(f);
	} else {
		check(f == NULL && v.status >= 400 && v.msg[0] != '\0');
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *owner = NULL;
	struct rcp_rs_device d;
	char why[256] = "";

	if (size < 1) {
		return 0;
	}
	if (data[0] & 1) {
		fuzz_submission((const char *)data + 1, size - 1, (data[0] & 2) != 0);
		return 0;
	}
	if (rcp_rs_parse_devmgr_device((const char *)data + 1, size - 1, &owner, &d, why,
				       sizeof(why)) == 0) {
		check(rcp_jreq_is_fqdn(d.fqdn) && d.id != NULL && d.links != NULL);
		json_object_put(owner);
	} else {
		check(owner == NULL && why[0] != '\0');
	}
	return 0;
}
