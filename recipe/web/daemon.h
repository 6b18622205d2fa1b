/* SPDX-License-Identifier: MIT */
#ifndef RCP_WEB_DAEMON_H
#define RCP_WEB_DAEMON_H
/*
 * The main() of an HTTP/JSON daemon (ntm-devmgr, ntm-recipe-server):
 * options, the loop, SIGTERM/SIGINT (stop serving, let the loop drain) and
 * SIGHUP (nothing to reload). The program supplies its config, store and
 * handler through the hooks; everything else is the same for both.
 */

#include "common/daemon.h"
#include "recipe/web/httpd.h"

/* Filled by the setup hook: what rcp_httpd_start serves. */
struct rcp_daemon_http {
	const char *listen; /* borrowed from the program's config */
	rcp_httpd_handler handler;
	void *ctx;
};

/* Plain value; the hooks receive `app`. */
struct rcp_daemon_app {
	const struct ntm_daemon_spec *spec;
	/*
	 * Load the config at path and open the store; ntm_fatal() on error.
	 * loop (borrowed) is the daemon's, for handles of the program's own.
	 */
	void (*setup)(void *app, uv_loop_t *loop, const char *path, struct rcp_daemon_http *http);
	/* Log the "listening" line once serving on `port`. */
	void (*started)(void *app, unsigned port);
	/* SIGTERM/SIGINT: close the program's own handles (may be NULL). */
	void (*stop)(void *app);
	/* After the loop has drained: close the store, free the config. */
	void (*teardown)(void *app);
	void *app;
};

/* Run the daemon; the exit status for main(). One per process. */
int rcp_daemon_main(const struct rcp_daemon_app *app, int argc, char **argv);

#endif
