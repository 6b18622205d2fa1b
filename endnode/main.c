/* SPDX-License-Identifier: MIT */
/*
 * ntm-node: options, configuration, the loop and signals. Everything else
 * lives in the node context (node.c) and its modules.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/daemon.h"
#include "common/log.h"
#include "endnode/config.h"
#include "endnode/control.h"
#include "endnode/node.h"

static const struct ntm_daemon_spec spec = {
	.name = "ntm-node",
	.conf_page = "ntm-node.conf(5)",
	.socket_help = "/run/ntm/node-IFNAME.sock",
	.has_ifname = true,
	.help_extra = "\nDNS: with systemd-resolved running the stub's address and the overlay\n"
		      "domains are registered on the TUN link ([DNS] RegisterResolved =\n"
		      "auto|yes|no, default auto); without it `ntmctl dns-setup` prints the\n"
		      "resolv.conf lines.\n",
};

/* The daemon: the loop, the node, and the signal handles. */
struct daemon {
	uv_loop_t loop;
	struct en_node *node;
	struct ntm_daemon_signals sig;
	char socket[108];
	int exit_code;
};

static void on_node_closed(void *arg)
{
	struct daemon *d = arg;

	d->node = NULL;
}

static void shutdown_daemon(struct daemon *d)
{
	ntm_daemon_signals_close(&d->sig);
	en_node_close(d->node, on_node_closed, d);
}

static void on_stop(void *arg, int signum)
{
	ntm_log_info("%s: shutting down", strsignal(signum));
	shutdown_daemon(arg);
}

static void on_hup(void *arg, int signum)
{
	ntm_log_warn("SIGHUP: reloading the configuration is not supported yet");
}

/* Start-up with a loop: node, TUN, sockets, control socket. Returns 0 or exits. */
static int start(struct daemon *d, const struct ntm_daemon_opts *o, const struct en_config *cfg)
{
	int rc = en_node_create(&d->loop, cfg, &d->node);

	if (rc < 0) {
		ntm_fatal("%s: %s", o->config, ntm_strerror(rc));
	}
	ntm_daemon_signals_start(&d->loop, &d->sig, on_stop, on_hup, d);
	rc = en_node_start(d->node, o->ifname);
	if (rc == 0) {
		if (o->socket != NULL) {
			snprintf(d->socket, sizeof(d->socket), "%s", o->socket);
		} else {
			snprintf(d->socket, sizeof(d->socket), "/run/ntm/node-%s.sock", o->ifname);
		}
		rc = en_control_open(d->node, d->socket);
		if (rc < 0) {
			ntm_log_err("control socket %s: %s", d->socket, ntm_strerror(rc));
		}
	}
	if (rc < 0) {
		/* Close what was opened (the TUN goes away) before exiting. */
		d->exit_code = 1;
		shutdown_daemon(d);
	}
	return rc;
}

static struct en_config *load_config(const char *path)
{
	struct ntm_conf_err err;
	struct en_config *cfg;
	int rc = en_config_load(path, &cfg, &err);

	if (rc < 0) {
		ntm_fatal("%s", err.msg);
	}
	return cfg;
}

int main(int argc, char **argv)
{
	struct daemon d = { .exit_code = 0 };
	struct en_config *cfg;
	struct ntm_daemon_opts o;
	int rc = ntm_daemon_parse_options(&spec, argc, argv, &o);

	if (rc >= 0) {
		return rc;
	}
	ntm_daemon_init(&spec, &o);
	cfg = load_config(o.config);
	ntm_daemon_detach(&o);
	ntm_daemon_loop_init(&d.loop);
	(void)start(&d, &o, cfg);
	en_config_destroy(cfg);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	if (ntm_daemon_loop_close(&d.loop) < 0) {
		return 1;
	}
	return d.exit_code;
}
