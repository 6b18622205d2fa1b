/* SPDX-License-Identifier: MIT */
#include "webconf.h"

#include <stdio.h>
#include <string.h>

#include "common/addr.h"

int rcp_webconf_set_listen(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_webconf *wc = t;
	struct ntm_addr a;
	int rc = ntm_addr_parse(value, NTM_ADDR_PORT_ZERO_OK, &a, why, whylen);

	if (rc == 0) {
		snprintf(wc->listen, sizeof(wc->listen), "%s", value);
	}
	return rc;
}

int rcp_webconf_set_database(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_webconf *wc = t;

	if (value[0] != '/') {
		snprintf(why, whylen, "expected an absolute path");
		return -EINVAL;
	}
	if (strlen(value) >= sizeof(wc->database)) {
		return -ENAMETOOLONG;
	}
	snprintf(wc->database, sizeof(wc->database), "%s", value);
	return 0;
}

int rcp_webconf_set_admin(void *t, const char *value, char *why, size_t whylen)
{
	return rcp_token_load_file(value, ((struct rcp_webconf *)t)->admin_hash, why, whylen);
}
