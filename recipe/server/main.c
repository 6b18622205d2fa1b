/* SPDX-License-Identifier: MIT */
/*
 * ntm-recipe-server: users, their devices and recipes. Options, config, the
 * loop and signals; the API is rsapi.c, the checks check.c, the database
 * rsstore.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/daemon.h"
#include "common/log.h"
#include "recipe/web/httpd.h"
#include "recipe/server/config.h"
#include "recipe/server/rsapi.h"
#include "recipe/server/rsstore.h"

static const struct ntm_daemon_spec spec = {
	.name = "ntm-recipe-server",
	.conf_page = "ntm-recipe-server.conf(5)",
	.socket_help = "none: ntm-recipe-server has no control socket, -s is ignored",
	.socket = NULL,
};

struct daemon {
	uv_loop_t loop;
	struct rcp_rs_config cfg;
	struct rcp_rs_store *store;
	struct rcp_rs_api api;
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

	if (rcp_rs_config_load(path, &d->cfg, &err) < 0) {
		ntm_fatal("%s", err.msg);
	}
	if (rcp_rs_store_open(d->cfg.database, &d->store, why, sizeof(why)) < 0) {
		ntm_fatal("%s", why);
	}
	d->api = (struct rcp_rs_api){
		.store = d->store,
		.cfg = &d->cfg,
		.lookup = rcp_rs_devmgr_lookup,
	};
	if (rcp_httpd_start(&d->loop, d->cfg.listen, rcp_rs_api_handle, &d->api, &d->http, why,
			    sizeof(why)) < 0) {
		ntm_fatal("%s", why);
	}
	ntm_daemon_signals_start(&d->loop, &d->sig, on_stop, on_hup, d);
	ntm_log_info("recipe server listening on port %u (%zu vendor(s), policy %s)",
		     rcp_httpd_port(d->http), d->cfg.n_vendors,
		     d->cfg.policy != NULL ? "on" : "off");
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
	rcp_rs_store_close(d.store);
	rcp_rs_config_fini(&d.cfg);
	rc = uv_loop_close(&d.loop);
	if (rc < 0) {
		ntm_log_err("uv_loop_close: %s", ntm_strerror(rc));
		return 1;
	}
	return 0;
}
