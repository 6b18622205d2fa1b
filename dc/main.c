/* SPDX-License-Identifier: MIT */
/*
 * ntm-dc: options, configuration, the database, the loop and signals. The
 * admin commands live in admin.c, the state in store.c, the pools in pool.c,
 * the control channel with the nodes in ctrl.c and register.c.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include <config.h> /* autoconf: PACKAGE_VERSION (dc/config.h is the DC's config) */

#include "common/crypto.h"
#include "common/log.h"
#include "dc/admin.h"
#include "dc/config.h"
#include "dc/ctrl.h"
#include "dc/pool.h"
#include "dc/store.h"

struct options {
	const char *config;
	const char *socket;
	bool foreground;
	bool verbose;
};

/* The daemon: everything main owns, torn down in reverse order. */
struct daemon {
	uv_loop_t loop;
	struct dc_config *cfg;
	struct dc_store *store;
	struct dc_pool pool4, pool6;
	struct ntm_key pubkey;
	struct dc_admin *admin;
	struct dc_ctrl *ctrl;
	uv_signal_t sig_term, sig_int, sig_hup;
	int exit_code;
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: ntm-dc -c FILE [-f] [-v] [-s SOCKET]\n"
		     "  -c, --config FILE   configuration (ntm-dc.conf(5))\n"
		     "  -f, --foreground    stay in the foreground and log to stderr\n"
		     "  -s, --socket PATH   control socket (default /run/ntm/dc.sock)\n"
		     "  -v, --verbose       debug logging\n"
		     "  -h, --help          this text\n"
		     "      --version       print the version\n");
}

/* Returns -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ .socket = "/run/ntm/dc.sock" };
	while ((c = getopt_long(argc, argv, "c:fs:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 's':
			o->socket = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ntm-dc %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc || o->config == NULL) {
		fprintf(stderr, "ntm-dc: %s\n",
			optind != argc ? "unexpected argument" : "-c FILE is required");
		usage(stderr);
		return 1;
	}
	return -1;
}

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
static void prepare(struct daemon *d, const struct options *o)
{
	struct ntm_conf_err err;
	char why[128];
	char pub[NTM_KEY_B64_SIZE];

	if (dc_config_load(o->config, &d->cfg, &err) < 0) {
		ntm_fatal("%s", err.msg);
	}
	if (dc_pool_init(&d->pool4, &d->cfg->pool4, why, sizeof(why)) < 0 ||
	    dc_pool_init(&d->pool6, &d->cfg->pool6, why, sizeof(why)) < 0 ||
	    ntm_key_public(&d->pubkey, d->cfg->private_key) < 0) {
		ntm_fatal("%s: bad pool or key", o->config);
	}
	open_store(d);
	if (dc_store_foreach_node(d->store, warn_outside, d) < 0) {
		ntm_fatal("database %s: cannot read the nodes", d->cfg->database);
	}
	ntm_key_to_base64(pub, &d->pubkey);
	ntm_log_info("DC for %s, public key %s, database %s", d->cfg->domain, pub,
		     d->cfg->database);
	ntm_log_info("[DNS] and [Federation] are checked but not served yet");
}

static void on_admin_closed(void *arg)
{
	struct daemon *d = arg;

	d->admin = NULL;
}

static void on_ctrl_closed(void *arg)
{
	struct daemon *d = arg;

	d->ctrl = NULL;
}

static void shutdown_daemon(struct daemon *d)
{
	uv_close((uv_handle_t *)&d->sig_term, NULL);
	uv_close((uv_handle_t *)&d->sig_int, NULL);
	uv_close((uv_handle_t *)&d->sig_hup, NULL);
	dc_ctrl_close(d->ctrl, on_ctrl_closed, d);
	dc_admin_close(d->admin, on_admin_closed, d);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	if (signum == SIGHUP) {
		ntm_log_info("SIGHUP: nothing is reloadable yet; restart ntm-dc to apply "
			     "configuration changes");
		return;
	}
	ntm_log_info("%s: shutting down", strsignal(signum));
	shutdown_daemon(d);
}

static void start_signal(struct daemon *d, uv_signal_t *h, int signum)
{
	uv_signal_init(&d->loop, h);
	h->data = d;
	uv_signal_start(h, on_signal, signum);
}

/* The node-facing UDP endpoints (Listen, AltListen). */
static void start_ctrl(struct daemon *d)
{
	const struct dc_ctrl_config cc = {
		.cfg = d->cfg, .store = d->store, .pool4 = &d->pool4, .pool6 = &d->pool6
	};
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
}

static void start(struct daemon *d, const struct options *o)
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
			 .keepalive = d->cfg->keepalive },
	};
	int rc;

	start_signal(d, &d->sig_term, SIGTERM);
	start_signal(d, &d->sig_int, SIGINT);
	start_signal(d, &d->sig_hup, SIGHUP);
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
	struct options o;
	int rc = parse_options(argc, argv, &o);

	if (rc >= 0) {
		return rc;
	}
	ntm_log_init("ntm-dc", o.foreground, o.verbose ? NTM_LOG_DEBUG : NTM_LOG_INFO);
	if (ntm_crypto_init() < 0) {
		ntm_fatal("libsodium initialisation failed");
	}
	signal(SIGPIPE, SIG_IGN);
	prepare(&d, &o);
	if (!o.foreground) {
		/* An SQLite connection must not cross fork(): reopen in the child. */
		dc_store_close(d.store);
		if (daemon(0, 0) < 0) {
			ntm_fatal("daemon: %s", strerror(errno));
		}
		open_store(&d);
	}
	rc = uv_loop_init(&d.loop);
	if (rc < 0) {
		ntm_fatal("uv_loop_init: %s", ntm_strerror(rc));
	}
	start(&d, &o);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	dc_store_close(d.store);
	dc_config_destroy(d.cfg);
	ntm_key_wipe(&d.pubkey);
	rc = uv_loop_close(&d.loop);
	if (rc < 0) {
		ntm_log_err("loop did not close cleanly: %s", ntm_strerror(rc));
		return 1;
	}
	ntm_log_info("stopped");
	return d.exit_code;
}
