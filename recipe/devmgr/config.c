/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The [DevMgr] target is handed to the rcp_webconf setters as-is. */
_Static_assert(offsetof(struct rcp_dm_config, web) == 0, "struct rcp_webconf must come first");

static int set_server(void *t, const char *value, char *why, size_t whylen)
{
	return rcp_token_load_file(value, ((struct rcp_dm_config *)t)->server_hash, why, whylen);
}

int rcp_dm_config_from_conf(struct rcp_dm_config *cfg, const struct ntm_conf *conf,
			    struct ntm_conf_err *err)
{
	const struct ntm_conf_key_def keys[] = {
		{ "Listen", NTM_CONF_KEY_ONCE, rcp_webconf_set_listen, true },
		{ "Database", NTM_CONF_KEY_ONCE, rcp_webconf_set_database, true },
		{ "AdminTokenFile", NTM_CONF_KEY_ONCE, rcp_webconf_set_admin, true },
		{ "ServerTokenFile", NTM_CONF_KEY_ONCE, set_server, true },
		{ .name = NULL },
	};
	const struct ntm_conf_section_def sections[] = {
		{ .name = "DevMgr",
		  .keys = keys,
		  .flags = NTM_CONF_SECTION_REQUIRED,
		  .target = cfg },
		{ .name = NULL },
	};
	const struct ntm_conf_schema schema = { .sections = sections };

	memset(cfg, 0, sizeof(*cfg));
	return ntm_conf_apply(conf, &schema, err);
}

static int build(void *ctx, const struct ntm_conf *conf, struct ntm_conf_err *err)
{
	return rcp_dm_config_from_conf(ctx, conf, err);
}

int rcp_dm_config_load(const char *path, struct rcp_dm_config *cfg, struct ntm_conf_err *err)
{
	return ntm_conf_load_build(path, build, cfg, err);
}
