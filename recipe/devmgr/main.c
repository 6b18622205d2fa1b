/* SPDX-License-Identifier: MIT */
/*
 * ntm-devmgr: a vendor's device-management server. Config and store; the
 * daemon skeleton is recipe/web/daemon.c, the API dmapi.c, the database
 * dmstore.c.
 */
#include <string.h>

#include "common/log.h"
#include "recipe/devmgr/config.h"
#include "recipe/devmgr/dmapi.h"
#include "recipe/devmgr/dmstore.h"
#include "recipe/web/daemon.h"

static const struct ntm_daemon_spec spec = {
	.name = "ntm-devmgr",
	.conf_page = "ntm-devmgr.conf(5)",
	.socket_help = "none: ntm-devmgr has no control socket, -s is ignored",
	.socket = NULL,
};

struct devmgr {
	struct rcp_dm_config cfg;
	struct rcp_dm_store *store;
	struct rcp_dm_api api;
};

static void setup(void *app, uv_loop_t *loop, const char *path, struct rcp_daemon_http *http)
{
	struct devmgr *d = app;
	struct ntm_conf_err err;
	char why[512] = "";

	if (rcp_dm_config_load(path, &d->cfg, &err) < 0) {
		ntm_fatal("%s", err.msg);
	}
	if (rcp_dm_store_open(d->cfg.web.database, &d->store, why, sizeof(why)) < 0) {
		ntm_fatal("%s", why);
	}
	d->api.store = d->store;
	memcpy(d->api.admin_hash, d->cfg.web.admin_hash, sizeof(d->api.admin_hash));
	memcpy(d->api.server_hash, d->cfg.server_hash, sizeof(d->api.server_hash));
	*http = (struct rcp_daemon_http){ d->cfg.web.listen, rcp_dm_api_handle, &d->api };
}

static void started(void *app, unsigned port)
{
	ntm_log_info("device-management server listening on port %u", port);
}

static void teardown(void *app)
{
	rcp_dm_store_close(((struct devmgr *)app)->store);
}

int main(int argc, char **argv)
{
	static struct devmgr d;
	const struct rcp_daemon_app app = { &spec, setup, started, NULL, teardown, &d };

	return rcp_daemon_main(&app, argc, argv);
}
