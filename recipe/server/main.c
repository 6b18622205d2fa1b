/* SPDX-License-Identifier: MIT */
/*
 * ntm-recipe-server: users, their devices and recipes. Config and store;
 * the daemon skeleton is recipe/web/daemon.c, the API rsapi.c, the checks
 * check.c, the database rsstore.c, the distribution to devices deliver.c.
 */
#include "common/log.h"
#include "recipe/server/config.h"
#include "recipe/server/deliver.h"
#include "recipe/server/rsapi.h"
#include "recipe/server/rsstore.h"
#include "recipe/web/daemon.h"

static const struct ntm_daemon_spec spec = {
	.name = "ntm-recipe-server",
	.conf_page = "ntm-recipe-server.conf(5)",
	.socket_help = "none: ntm-recipe-server has no control socket, -s is ignored",
	.socket = NULL,
};

struct server {
	struct rcp_rs_config cfg;
	struct rcp_rs_store *store;
	struct rcp_rs_api api;
	struct rcp_rs_deliver *deliver;
};

static void setup(void *app, uv_loop_t *loop, const char *path, struct rcp_daemon_http *http)
{
	struct server *s = app;
	struct ntm_conf_err err;
	char why[512] = "";

	if (rcp_rs_config_load(path, &s->cfg, &err) < 0) {
		ntm_fatal("%s", err.msg);
	}
	if (rcp_rs_store_open(s->cfg.web.database, &s->store, why, sizeof(why)) < 0) {
		ntm_fatal("%s", why);
	}
	if (rcp_rs_deliver_create(loop, s->store, &s->cfg, &s->deliver, why, sizeof(why)) < 0) {
		ntm_fatal("%s", why);
	}
	s->api = (struct rcp_rs_api){
		.store = s->store,
		.cfg = &s->cfg,
		.lookup = rcp_rs_devmgr_lookup,
	};
	*http = (struct rcp_daemon_http){ s->cfg.web.listen, rcp_rs_api_handle, &s->api };
}

static void started(void *app, unsigned port)
{
	const struct server *s = app;

	ntm_log_info("recipe server listening on port %u (%zu vendor(s), policy %s, delivery %s)",
		     port, s->cfg.n_vendors, s->cfg.policy != NULL ? "on" : "off",
		     s->cfg.node_socket[0] != '\0' ? "over the overlay" : "to [Device] addresses");
}

static void stop(void *app)
{
	struct server *s = app;

	rcp_rs_deliver_close(s->deliver);
	s->deliver = NULL;
}

static void teardown(void *app)
{
	struct server *s = app;

	rcp_rs_store_close(s->store);
	rcp_rs_config_fini(&s->cfg);
}

int main(int argc, char **argv)
{
	static struct server s;
	const struct rcp_daemon_app app = { &spec, setup, started, stop, teardown, &s };

	return rcp_daemon_main(&app, argc, argv);
}
