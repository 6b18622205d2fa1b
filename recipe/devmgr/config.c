/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "common/addr.h"

static int set_listen(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_dm_config *cfg = t;
	struct ntm_addr a;
	int rc = ntm_addr_parse(value, NTM_ADDR_PORT_ZERO_OK, &a, why, whylen);

	if (rc == 0) {
		snprintf(cfg->listen, sizeof(cfg->listen), "%s", value);
	}
	return rc;
}

static int set_database(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_dm_config *cfg = t;

	if (value[0] != '/') {
		snprintf(why, whylen, "expected an absolute path");
		return -EINVAL;
	}
	if (strlen(value) >= sizeof(cfg->database)) {
		return -ENAMETOOLONG;
	}
	snprintf(cfg->database, sizeof(cfg->database), "%s", value);
	return 0;
}

static int set_admin(void *t, const char *value, char *why, size_t whylen)
{
	return rcp_token_load_file(value, ((struct rcp_dm_config *)t)->admin_hash, why, whylen);
}

static int set_server(void *t, const char *value, char *why, size_t whylen)
{
	return rcp_token_load_file(value, ((struct rcp_dm_config *)t)->server_hash, why, whylen);
}

int rcp_dm_config_from_conf(struct rcp_dm_config *cfg, const struct ntm_conf *conf,
			    struct ntm_conf_err *err)
{
	const struct ntm_conf_key_def keys[] = {
		{ "Listen", NTM_CONF_KEY_ONCE, set_listen, true },
		{ "Database", NTM_CONF_KEY_ONCE, set_database, true },
		{ "AdminTokenFile", NTM_CONF_KEY_ONCE, set_admin, true },
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
