/* SPDX-License-Identifier: MIT */
#ifndef RCP_DM_CONFIG_H
#define RCP_DM_CONFIG_H

/*
 * ntm-devmgr.conf(5):
 *
 *   [DevMgr]
 *   Listen = 127.0.0.1:8470        HTTP listen address (port 0: any)
 *   Database = /var/lib/ntm/devmgr.db
 *   AdminTokenFile = /etc/ntm/devmgr-admin.token    (0600, 64 hex chars)
 *   ServerTokenFile = /etc/ntm/devmgr-server.token  (0600; recipe servers)
 *
 * Token files are read when the config is loaded; only their hashes are kept.
 */

#include <stdint.h>

#include "common/conf.h"
#include "recipe/web/token.h"
#include "recipe/web/webconf.h"

/* Plain value. */
struct rcp_dm_config {
	struct rcp_webconf web; /* first: the [DevMgr] target is also this */
	uint8_t server_hash[RCP_TOKEN_HASH];
};

/* Parse conf into *cfg (zeroed on entry); errors "file:line: reason". */
NTM_MUST_CHECK int rcp_dm_config_from_conf(struct rcp_dm_config *cfg, const struct ntm_conf *conf,
					   struct ntm_conf_err *err);
/* Load and parse the file at path. */
NTM_MUST_CHECK int rcp_dm_config_load(const char *path, struct rcp_dm_config *cfg,
				      struct ntm_conf_err *err);

#endif
