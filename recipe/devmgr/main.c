/* SPDX-License-Identifier: MIT */
/*
 * ntm-devmgr: a vendor's device-management server. Options, config, the
 * loop and signals; the API is dmapi.c, the database dmstore.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/daemon.h"
#include "common/log.h"
#include "recipe/devmgr/config.h"
#include "recipe/devmgr/dmapi.h"
#include "recipe/devmgr/dmstore.h"
#include "recipe/web/httpd.h"

static const struct ntm_daemon_spec spec = {
	.name = "ntm-devmgr",
	.conf_page = "ntm-devmgr.conf(5)",
	.socket_help = "none: ntm-devmgr has no control socket, -s is ignored",
	.socket = NULL,
};

struct daemon {
	uv_loop_t loop;
	struct rcp_dm_config cfg;
	struct rcp_dm_store *store;
	struct rcp_dm_api api;
	struct rcp_httpd *http;
	struct ntm_daemon_signals sig;
};

static void on_stop(void *arg, int signum)
{
	struct daemon *d = arg;

	ntm_log_info("signal %d: shutting down", signum);
	ntm_daemon_signals_close(&d->sig);
	rcp_httpd_close(d->http, NULL, NULL);
	d->http = NULL;
}

static void on_hup(void *arg, int signum)
{
	ntm_log_info("SIGHUP: nothing to reload (restart to change the config)");
}

static void start(struct daemon *d, const char *path)
{
	struct ntm_conf_err err;
	char why[512] = "";

	if (rcp_dm_config_load(path, &d->cfg, &err) < 0) {
		ntm_fatal("%s", err.msg);
	}
	if (rcp_dm_store_open(d->cfg.database, &d->store, why, sizeof(why)) < 0) {
		ntm_fatal("%s", why);
	}
	d->api.store = d->store;
	memcpy(d->api.admin_hash, d->cfg.admin_hash, sizeof(d->api.admin_hash));
	memcpy(d->api.server_hash, d->cfg.server_hash, sizeof(d->api.server_hash));
	if (rcp_httpd_start(&d->loop, d->cfg.listen, rcp_dm_api_handle, &d->api, &d->http, why,
			    sizeof(why)) < 0) {
		ntm_fatal("%s", why);
	}
	ntm_daemon_signals_start(&d->loop, &d->sig, on_stop, on_hup, d);
	ntm_log_info("device-management server listening on port %u", rcp_httpd_port(d->http));
}

int main(int argc, char **argv)
{
	static struct daemon d;
	struct ntm_daemon_opts o;
	int rc = ntm_daemon_parse_options(&spec, argc, argv, &o);

	if (rc >= 0) {
		return rc;
	}
	ntm_daemon_init(&spec, &o);
	rc = uv_loop_init(&d.loop);
	if (rc < 0) {
		ntm_fatal("uv_loop_init: %s", ntm_strerror(rc));
	}
	start(&d, o.config);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	rcp_dm_store_close(d.store);
	rc = uv_loop_close(&d.loop);
	if (rc < 0) {
		ntm_log_err("uv_loop_close: %s", ntm_strerror(rc));
		return 1;
	}
	return 0;
}
