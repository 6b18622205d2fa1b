/* SPDX-License-Identifier: MIT */
#include "daemon.h"

#include <uv.h>

#include "common/log.h"

struct daemon {
	uv_loop_t loop;
	const struct rcp_daemon_app *app;
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
	if (d->app->stop != NULL) {
		d->app->stop(d->app->app);
	}
}

static void on_hup(void *arg, int signum)
{
	ntm_log_info("SIGHUP: nothing to reload (restart to change the config)");
}

static void start(struct daemon *d, const char *path)
{
	struct rcp_daemon_http h = { 0 };
	char why[512] = "";

	d->app->setup(d->app->app, &d->loop, path, &h);
	if (rcp_httpd_start(&d->loop, h.listen, h.handler, h.ctx, &d->http, why, sizeof(why)) < 0) {
		ntm_fatal("%s", why);
	}
	ntm_daemon_signals_start(&d->loop, &d->sig, on_stop, on_hup, d);
	d->app->started(d->app->app, rcp_httpd_port(d->http));
}

int rcp_daemon_main(const struct rcp_daemon_app *app, int argc, char **argv)
{
	/* Static: the signal handles point at it until the loop is closed. */
	static struct daemon d;
	struct ntm_daemon_opts o;
	int rc = ntm_daemon_parse_options(app->spec, argc, argv, &o);

	if (rc >= 0) {
		return rc;
	}
	ntm_daemon_init(app->spec, &o);
	d.app = app;
	rc = uv_loop_init(&d.loop);
	if (rc < 0) {
		ntm_fatal("uv_loop_init: %s", ntm_strerror(rc));
	}
	start(&d, o.config);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	app->teardown(app->app);
	rc = uv_loop_close(&d.loop);
	if (rc < 0) {
		ntm_log_err("uv_loop_close: %s", ntm_strerror(rc));
		return 1;
	}
	return 0;
}
