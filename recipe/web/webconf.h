/* SPDX-License-Identifier: MIT */
#ifndef RCP_WEBCONF_H
#define RCP_WEBCONF_H
/*
 * The config keys every web daemon has (Listen, Database, AdminTokenFile),
 * so that ntm-devmgr.conf and ntm-recipe-server.conf accept exactly the
 * same forms. A program's config struct has a struct rcp_webconf as its
 * FIRST member and names these setters in its ntm_conf_key_def table; the
 * section target is the program's struct, which is then also a
 * struct rcp_webconf.
 */

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "recipe/web/token.h"

enum { RCP_WEBCONF_LISTEN_MAX = 64, RCP_WEBCONF_PATH_MAX = 4096 };

/* Plain value. */
struct rcp_webconf {
	char listen[RCP_WEBCONF_LISTEN_MAX];
	char database[RCP_WEBCONF_PATH_MAX];
	uint8_t admin_hash[RCP_TOKEN_HASH];
};

/* Listen = ADDR:PORT (port 0 picks one). */
NTM_MUST_CHECK int rcp_webconf_set_listen(void *t, const char *value, char *why, size_t whylen);
/* Database = an absolute path: -EINVAL if relative, -ENAMETOOLONG. */
NTM_MUST_CHECK int rcp_webconf_set_database(void *t, const char *value, char *why, size_t whylen);
/* AdminTokenFile = a token file (rcp_token_load_file). */
NTM_MUST_CHECK int rcp_webconf_set_admin(void *t, const char *value, char *why, size_t whylen);

#endif
