/* SPDX-License-Identifier: MIT */
/*
 * ntm-rs: options, configuration, the loop and signals. The session table
 * lives in relay.c, the sockets in server.c, the DC registration in
 * dcclient.c, the control socket in control.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/daemon.h"
#include "common/log.h"
#include "rs/config.h"
#include "rs/control.h"
#include "rs/dcclient.h"
#include "rs/relay.h"
#include "rs/server.h"

static const struct ntm_daemon_spec spec = {
	.name = "ntm-rs",
	.conf_page = "ntm-rs.conf(5)",
	.socket_help = "/run/ntm/rs.sock",
	.socket = "/run/ntm/rs.sock",
};

/* The daemon: everything main owns, torn down in reverse order. */
struct daemon {
	uv_loop_t loop;
	struct rs_config *cfg;
	struct ntm_key pubkey;
	struct rs_relay *relay;
	struct rs_control_env env;
	struct rs_control *control;
	struct rs_server *server;
	struct rs_dcclient *dc;
	struct ntm_daemon_signals sig;
	int exit_code;
};

static void prepare(struct daemon *d, const struct ntm_daemon_opts *o)
{
	struct rs_relay_config rc;
	struct ntm_conf_err err;
	char pub[NTM_KEY_B64_SIZE];

	if (rs_config_load(o->config, &d->cfg, &err) < 0) {
		ntm_fatal("%s", err.msg);
	}
	rc = (struct rs_relay_config){
		.capacity = d->cfg->sessions,
		.idle_max_s = d->cfg->idle_s,
		.rate_bytes_s = (uint64_t)d->cfg->rate_kbit * 1000 / 8,
	};
	/* A quarter second of the rate, and at least one maximal datagram. */
	rc.burst_bytes = rc.rate_bytes_s / 4 > 65536 ? rc.rate_bytes_s / 4 : 65536;
	if (ntm_key_public(&d->pubkey, d->cfg->private_key) < 0 ||
	    rs_relay_create(&rc, &d->relay) < 0) {
		ntm_fatal("%s: bad key, or no memory for %u sessions", o->config, d->cfg->sessions);
	}
	ntm_key_to_base64(pub, &d->pubkey);
	ntm_log_info("relay server, public key %s, %u sessions", pub, d->cfg->sessions);
}

static void on_closed(void *arg)
{
	(void)arg; /* the loop ends when the last handle is gone */
}

static void shutdown_daemon(struct daemon *d)
{
	ntm_daemon_signals_close(&d->sig);
	if (d->dc != NULL) {
		rs_dcclient_close(d->dc, on_closed, d);
	}
	d->dc = d->env.dcclient = NULL;
	rs_server_close(d->server, on_closed, d);
	d->server = d->env.server = NULL;
	rs_control_close(d->control, on_closed, d);
	d->control = NULL;
}

static void on_stop(void *arg, int signum)
{
	ntm_log_info("%s: shutting down", strsignal(signum));
	shutdown_daemon(arg);
}

static void on_hup(void *arg, int signum)
{
	(void)arg;
	(void)signum;
	ntm_log_info("SIGHUP: nothing is reloadable yet; restart ntm-rs to apply "
		     "configuration changes");
}

/* ---- the DC client's hooks */

static int dc_send(void *arg, const struct ntm_addr *to, const uint8_t *buf, size_t len)
{
	struct daemon *d = arg;

	return d->server != NULL ? rs_server_send(d->server, to, buf, len) : -ENOTCONN;
}

static uint64_t dc_now(void *arg)
{
	return uv_now(&((struct daemon *)arg)->loop);
}

static void dc_load(void *arg, struct ntm_ctrl_load *out)
{
	rs_server_load(((struct daemon *)arg)->server, out);
}

static int dc_alloc(void *arg, uint32_t id, const uint8_t *cred, uint32_t lifetime_s)
{
	struct daemon *d = arg;

	return rs_relay_alloc(d->relay, id, cred, lifetime_s, uv_now(&d->loop));
}

static int dc_release(void *arg, uint32_t id)
{
	return rs_relay_release(((struct daemon *)arg)->relay, id);
}

static void on_ctrl(void *arg, const uint8_t *buf, size_t len, const struct ntm_addr *from)
{
	struct daemon *d = arg;

	if (d->dc != NULL) {
		rs_dcclient_receive(d->dc, buf, len, from);
	}
}

static int start_relay(struct daemon *d)
{
	const struct rs_dcclient_ops ops = { dc_send, dc_now, dc_load, dc_alloc, dc_release, d };
	char why[256];
	int rc = rs_server_open(&d->loop, d->cfg, d->relay, &d->server, why, sizeof(why));

	if (rc < 0) {
		ntm_log_err("%s", why);
		return rc;
	}
	d->env.server = d->server;
	rc = rs_dcclient_create(&d->loop, d->cfg, &ops, &d->dc);
	if (rc < 0) {
		ntm_log_err("DC client: %s", ntm_strerror(rc));
		return rc;
	}
	d->env.dcclient = d->dc;
	rs_server_set_ctrl(d->server, on_ctrl, d);
	rs_dcclient_start(d->dc);
	ntm_log_info("relaying on %zu Listen addresses", d->cfg->n_listen);
	return 0;
}

static void start(struct daemon *d, const struct ntm_daemon_opts *o)
{
	int rc;

	d->env = (struct rs_control_env){ .pubkey = &d->pubkey, .cfg = d->cfg, .relay = d->relay };
	ntm_daemon_signals_start(&d->loop, &d->sig, on_stop, on_hup, d);
	rc = rs_control_open(&d->loop, o->socket, d->cfg->has_group, d->cfg->group, &d->env,
			     &d->control);
	if (rc < 0) {
		ntm_log_err("control socket %s: %s", o->socket, ntm_strerror(rc));
	} else {
		ntm_log_info("control socket %s ready", o->socket);
		rc = start_relay(d);
	}
	if (rc < 0) {
		d->exit_code = 1;
		shutdown_daemon(d);
	}
}

int main(int argc, char **argv)
{
	struct daemon d = { .exit_code = 0 };
	struct ntm_daemon_opts o;
	int rc = ntm_daemon_parse_options(&spec, argc, argv, &o);

	if (rc >= 0) {
		return rc;
	}
	ntm_daemon_init(&spec, &o);
	prepare(&d, &o);
	ntm_daemon_detach(&o);
	ntm_daemon_loop_init(&d.loop);
	start(&d, &o);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	rs_relay_destroy(d.relay);
	rs_config_destroy(d.cfg);
	ntm_key_wipe(&d.pubkey);
	if (ntm_daemon_loop_close(&d.loop) < 0) {
		return 1;
	}
	ntm_log_info("stopped");
	return d.exit_code;
}
