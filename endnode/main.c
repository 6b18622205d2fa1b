/* SPDX-License-Identifier: MIT */
/*
 * ntm-node: options, configuration, the loop and signals. Everything else
 * lives in the node context (node.c) and its modules.
 */
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include <config.h> /* autoconf: PACKAGE_VERSION (endnode/config.h is the node's config) */

#include "common/crypto.h"
#include "common/log.h"
#include "endnode/config.h"
#include "endnode/control.h"
#include "endnode/node.h"

struct options {
	const char *config;
	const char *ifname;
	const char *socket;
	bool foreground;
	bool verbose;
};

/* The daemon: the loop, the node, and the signal handles. */
struct daemon {
	uv_loop_t loop;
	struct en_node *node;
	uv_signal_t sig_term, sig_int, sig_hup;
	char socket[108];
	int exit_code;
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: ntm-node -c FILE [-f] [-v] [-s SOCKET] [-i IFNAME]\n"
		     "  -c, --config FILE   configuration (ntm-node.conf(5))\n"
		     "  -f, --foreground    stay in the foreground and log to stderr\n"
		     "  -s, --socket PATH   control socket (default /run/ntm/node-IFNAME.sock)\n"
		     "  -i, --interface IF  TUN interface name (default ntm0)\n"
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
		{ "interface", required_argument, NULL, 'i' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){ .ifname = "ntm0" };
	while ((c = getopt_long(argc, argv, "c:fs:i:vh", longopts, NULL)) != -1) {
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
		case 'i':
			o->ifname = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ntm-node %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc || o->config == NULL) {
		fprintf(stderr, "ntm-node: %s\n",
			optind != argc ? "unexpected argument" : "-c FILE is required");
		usage(stderr);
		return 1;
	}
	if (strlen(o->ifname) == 0 || strlen(o->ifname) >= IF_NAMESIZE) {
		fprintf(stderr, "ntm-node: interface name must be 1..%d bytes\n", IF_NAMESIZE - 1);
		return 1;
	}
	return -1;
}

static void on_node_closed(void *arg)
{
	struct daemon *d = arg;

	d->node = NULL;
}

static void shutdown_daemon(struct daemon *d)
{
	uv_close((uv_handle_t *)&d->sig_term, NULL);
	uv_close((uv_handle_t *)&d->sig_int, NULL);
	uv_close((uv_handle_t *)&d->sig_hup, NULL);
	en_node_close(d->node, on_node_closed, d);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	if (signum == SIGHUP) {
		ntm_log_warn("SIGHUP: reloading the configuration is not supported yet");
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

/* Start-up with a loop: node, TUN, sockets, control socket. Returns 0 or exits. */
static int start(struct daemon *d, const struct options *o, const struct en_config *cfg)
{
	int rc = en_node_create(&d->loop, cfg, &d->node);

	if (rc < 0) {
		ntm_fatal("%s: %s", o->config, ntm_strerror(rc));
	}
	start_signal(d, &d->sig_term, SIGTERM);
	start_signal(d, &d->sig_int, SIGINT);
	start_signal(d, &d->sig_hup, SIGHUP);
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
	struct options o;
	int rc = parse_options(argc, argv, &o);

	if (rc >= 0) {
		return rc;
	}
	ntm_log_init("ntm-node", o.foreground, o.verbose ? NTM_LOG_DEBUG : NTM_LOG_INFO);
	if (ntm_crypto_init() < 0) {
		ntm_fatal("libsodium initialisation failed");
	}
	signal(SIGPIPE, SIG_IGN);
	cfg = load_config(o.config);
	if (!o.foreground && daemon(0, 0) < 0) {
		ntm_fatal("daemon: %s", strerror(errno));
	}
	rc = uv_loop_init(&d.loop);
	if (rc < 0) {
		ntm_fatal("uv_loop_init: %s", ntm_strerror(rc));
	}
	(void)start(&d, &o, cfg);
	en_config_destroy(cfg);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	rc = uv_loop_close(&d.loop);
	if (rc < 0) {
		ntm_log_err("loop did not close cleanly: %s", ntm_strerror(rc));
		return 1;
	}
	return d.exit_code;
}
