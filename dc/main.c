/* SPDX-License-Identifier: MIT */
/*
 * ntm-dc: options, configuration, the database, the loop and signals. The
 * admin commands live in admin.c, the state in store.c, the pools in pool.c,
 * the control channel with the nodes in ctrl.c and register.c.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/daemon.h"
#include "common/log.h"
#include "dc/admin.h"
#include "dc/config.h"
#include "dc/ctrl.h"
#include "dc/dnsserver.h"
#include "dc/federation.h"
#include "dc/pool.h"
#include "dc/store.h"

static const struct ntm_daemon_spec spec = {
	.name = "ntm-dc",
	.conf_page = "ntm-dc.conf(5)",
	.socket_help = "/run/ntm/dc.sock",
	.socket = "/run/ntm/dc.sock",
};

/* The daemon: everything main owns, torn down in reverse order. */
struct daemon {
	uv_loop_t loop;
	struct dc_config *cfg;
	struct dc_store *store;
	struct dc_pool pool4, pool6;
	struct ntm_key pubkey;
	struct dc_relays *relays;
	struct dc_admin *admin;
	struct dc_ctrl *ctrl;
	struct dc_dnsserver *dns;
	struct dc_fed *fed;
	struct ntm_daemon_signals sig;
	int exit_code;
};

static void open_store(struct daemon *d)
{
	char why[DC_STORE_WHY_MAX];

	if (dc_store_open(d->cfg->database, &d->store, why, sizeof(why)) < 0) {
		ntm_fatal("database: %s", why);
	}
}

/* A node keeps its VIPs when the pool shrinks; say so once at start-up. */
static int warn_outside(void *ctx, const struct dc_node *n)
{
	struct daemon *d = ctx;
	uint64_t idx;

	if (dc_pool_parse(&d->pool4, n->vip4, &idx) < 0) {
		ntm_log_warn("node %s keeps %s, which is outside Pool4", n->fqdn, n->vip4);
	}
	if (dc_pool_parse(&d->pool6, n->vip6, &idx) < 0) {
		ntm_log_warn("node %s keeps %s, which is outside Pool6", n->fqdn, n->vip6);
	}
	return 0;
}

/* Start-up before the loop: everything here may be fatal. */
static void prepare(struct daemon *d, const struct ntm_daemon_opts *o)
{
	struct ntm_conf_err err;
	char why[128];
	char pub[NTM_KEY_B64_SIZE];

	if (dc_config_load(o->config, &d->cfg, &err) < 0) {
		ntm_fatal("%s", err.msg);
	}
	open_store(d);
	if (d->cfg->pool6.family == 0 &&
	    dc_store_default_pool6(d->store, &d->cfg->pool6, why, sizeof(why)) < 0) {
		ntm_fatal("database %s: the default Pool6: %s", d->cfg->database, why);
	}
	if (dc_pool_init(&d->pool4, &d->cfg->pool4, why, sizeof(why)) < 0 ||
	    dc_pool_init(&d->pool6, &d->cfg->pool6, why, sizeof(why)) < 0 ||
	    ntm_key_public(&d->pubkey, d->cfg->private_key) < 0) {
		ntm_fatal("%s: bad pool or key", o->config);
	}
	if (dc_store_foreach_node(d->store, warn_outside, d) < 0) {
		ntm_fatal("database %s: cannot read the nodes", d->cfg->database);
	}
	ntm_key_to_base64(pub, &d->pubkey);
	ntm_log_info("DC for %s, public key %s, database %s", d->cfg->domain, pub,
		     d->cfg->database);
}

static void on_admin_closed(void *arg)
{
	struct daemon *d = arg;

	d->admin = NULL;
}

static void on_relays_closed(void *arg)
{
	struct daemon *d = arg;

	d->relays = NULL;
}

/* The relays go after the control channel: its sessions tell them when they end. */
static void on_ctrl_closed(void *arg)
{
	struct daemon *d = arg;

	d->ctrl = NULL;
	dc_relays_close(d->relays, on_relays_closed, d);
}

static void on_dns_closed(void *arg)
{
	struct daemon *d = arg;

	d->dns = NULL;
}

static void on_fed_closed(void *arg)
{
	struct daemon *d = arg;

	d->fed = NULL;
}

static void shutdown_daemon(struct daemon *d)
{
	ntm_daemon_signals_close(&d->sig);
	dc_ctrl_set_fed(d->ctrl, NULL);
	if (d->fed != NULL) {
		dc_fed_close(d->fed, on_fed_closed, d);
	}
	dc_dnsserver_close(d->dns, on_dns_closed, d);
	dc_ctrl_close(d->ctrl, on_ctrl_closed, d);
	dc_admin_close(d->admin, on_admin_closed, d);
}

static void on_stop(void *arg, int signum)
{
	ntm_log_info("%s: shutting down", strsignal(signum));
	shutdown_daemon(arg);
}

static void on_hup(void *arg, int signum)
{
	ntm_log_info("SIGHUP: nothing is reloadable yet; restart ntm-dc to apply "
		     "configuration changes");
}

/* The authoritative DNS server of the domain ([DNS] Listen), if configured. */
static void start_dns(struct daemon *d)
{
	const struct dc_dnsserver_config dc = { .cfg = d->cfg,
						.pubkey = &d->pubkey,
						.store = d->store };
	char why[256];
	int rc = dc_dnsserver_open(&d->loop, &dc, &d->dns, why, sizeof(why));

	if (rc < 0) {
		ntm_log_err("%s", why);
		d->exit_code = 1;
		shutdown_daemon(d);
		return;
	}
	if (d->dns != NULL) {
		ntm_log_info("serving DNS for %s on %zu [DNS] Listen addresses", d->cfg->domain,
			     d->cfg->dns_listen.n);
	}
}

/* The node-facing UDP endpoints (Listen, AltListen). */
static void start_ctrl(struct daemon *d)
{
	const struct dc_ctrl_config cc = { .cfg = d->cfg,
					   .store = d->store,
					   .pool4 = &d->pool4,
					   .pool6 = &d->pool6,
					   .relays = d->relays };
	char why[256];
	int rc = dc_ctrl_open(&d->loop, &cc, &d->ctrl, why, sizeof(why));

	if (rc < 0) {
		ntm_log_err("%s", why);
		d->exit_code = 1;
		shutdown_daemon(d);
		return;
	}
	ntm_log_info("serving nodes on %zu Listen and %zu AltListen addresses", d->cfg->listen.n,
		     d->cfg->alt_listen.n);
	if (d->cfg->n_federation > 0) {
		rc = dc_fed_open(&d->loop, d->cfg, &d->pool4, &d->pool6, d->ctrl, &d->fed);
		if (rc < 0) {
			ntm_log_err("federation: %s", ntm_strerror(rc));
			d->exit_code = 1;
			shutdown_daemon(d);
			return;
		}
		dc_ctrl_set_fed(d->ctrl, d->fed);
		ntm_log_info("federation with %zu domain(s)", d->cfg->n_federation);
	}
	start_dns(d);
}

static void start(struct daemon *d, const struct ntm_daemon_opts *o)
{
	const struct dc_admin_config ac = {
		.path = o->socket,
		.has_group = d->cfg->has_group,
		.group = d->cfg->group,
		.env = { .store = d->store,
			 .pool4 = &d->pool4,
			 .pool6 = &d->pool6,
			 .domain = d->cfg->domain,
			 .dc_pubkey = &d->pubkey,
			 .keepalive = d->cfg->keepalive,
			 .cfg = d->cfg,
			 .ctrl = &d->ctrl,
			 .relays = d->relays,
			 .dns = &d->dns },
	};
	int rc;

	ntm_daemon_signals_start(&d->loop, &d->sig, on_stop, on_hup, d);
	rc = dc_admin_open(&d->loop, &ac, &d->admin);
	if (rc < 0) {
		ntm_log_err("control socket %s: %s", o->socket, ntm_strerror(rc));
		d->exit_code = 1;
		shutdown_daemon(d);
		return;
	}
	ntm_log_info("control socket %s ready", o->socket);
	start_ctrl(d);
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
	if (!o.foreground) {
		/* An SQLite connection must not cross fork(): reopen in the child. */
		dc_store_close(d.store);
		ntm_daemon_detach(&o);
		open_store(&d);
	}
	ntm_daemon_loop_init(&d.loop);
	if (dc_relays_create(&d.loop, &d.relays) < 0) {
		ntm_fatal("out of memory");
	}
	start(&d, &o);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	dc_store_close(d.store);
	dc_config_destroy(d.cfg);
	ntm_key_wipe(&d.pubkey);
	if (ntm_daemon_loop_close(&d.loop) < 0) {
		return 1;
	}
	ntm_log_info("stopped");
	return d.exit_code;
}
