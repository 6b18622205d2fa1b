/* SPDX-License-Identifier: MIT */
#include "daemon.h"

#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <config.h> /* autoconf: PACKAGE_VERSION */

#include "crypto.h"
#include "log.h"

static void usage(const struct ntm_daemon_spec *spec, FILE *out)
{
	fprintf(out, "Usage: %s -c FILE [-f] [-v] [-s SOCKET]%s\n", spec->name,
		spec->has_ifname ? " [-i IFNAME]" : "");
	fprintf(out, "  -c, --config FILE   configuration (%s)\n", spec->conf_page);
	fprintf(out, "  -f, --foreground    stay in the foreground and log to stderr\n");
	fprintf(out, "  -s, --socket PATH   control socket (default %s)\n", spec->socket_help);
	if (spec->has_ifname) {
		fprintf(out, "  -i, --interface IF  TUN interface name (default ntm0)\n");
	}
	fprintf(out, "  -v, --verbose       debug logging\n"
		     "  -h, --help          this text\n"
		     "      --version       print the version\n");
	if (spec->help_extra != NULL) {
		fputs(spec->help_extra, out);
	}
}

static int check_options(const struct ntm_daemon_spec *spec, int argc,
			 const struct ntm_daemon_opts *o)
{
	if (optind != argc || o->config == NULL) {
		fprintf(stderr, "%s: %s\n", spec->name,
			optind != argc ? "unexpected argument" : "-c FILE is required");
		usage(spec, stderr);
		return 1;
	}
	if (spec->has_ifname && (strlen(o->ifname) == 0 || strlen(o->ifname) >= IF_NAMESIZE)) {
		fprintf(stderr, "%s: interface name must be 1..%d bytes\n", spec->name,
			IF_NAMESIZE - 1);
		return 1;
	}
	return -1;
}

int ntm_daemon_parse_options(const struct ntm_daemon_spec *spec, int argc, char **argv,
			     struct ntm_daemon_opts *o)
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
	const char *shortopts = spec->has_ifname ? "c:fs:i:vh" : "c:fs:vh";
	int c;

	*o = (struct ntm_daemon_opts){ .socket = spec->socket, .ifname = "ntm0" };
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
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
			if (!spec->has_ifname) {
				usage(spec, stderr);
				return 1;
			}
			o->ifname = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(spec, stdout);
			return 0;
		case 'V':
			printf("%s %s\n", spec->name, PACKAGE_VERSION);
			return 0;
		default:
			usage(spec, stderr);
			return 1;
		}
	}
	return check_options(spec, argc, o);
}

void ntm_daemon_init(const struct ntm_daemon_spec *spec, const struct ntm_daemon_opts *o)
{
	ntm_log_init(spec->name, o->foreground, o->verbose ? NTM_LOG_DEBUG : NTM_LOG_INFO);
	if (ntm_crypto_init() < 0) {
		ntm_fatal("libsodium initialisation failed");
	}
	/* A control client that goes away mid-reply must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
}

void ntm_daemon_detach(const struct ntm_daemon_opts *o)
{
	if (!o->foreground && daemon(0, 0) < 0) {
		ntm_fatal("daemon: %s", strerror(errno));
	}
}

void ntm_daemon_loop_init(uv_loop_t *loop)
{
	int rc = uv_loop_init(loop);

	if (rc < 0) {
		ntm_fatal("uv_loop_init: %s", ntm_strerror(rc));
	}
}

int ntm_daemon_loop_close(uv_loop_t *loop)
{
	int rc = uv_loop_close(loop);

	if (rc < 0) {
		ntm_log_err("loop did not close cleanly: %s", ntm_strerror(rc));
		return -1;
	}
	return 0;
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct ntm_daemon_signals *s = h->data;

	if (signum == SIGHUP) {
		s->hup_cb(s->arg, signum);
	} else {
		s->stop(s->arg, signum);
	}
}

static void start_one(uv_loop_t *loop, struct ntm_daemon_signals *s, uv_signal_t *h, int signum)
{
	/* uv_signal_init/start fail only for invalid arguments. */
	(void)uv_signal_init(loop, h);
	h->data = s;
	(void)uv_signal_start(h, on_signal, signum);
}

void ntm_daemon_signals_start(uv_loop_t *loop, struct ntm_daemon_signals *s,
			      ntm_daemon_signal_cb stop, ntm_daemon_signal_cb hup, void *arg)
{
	s->stop = stop;
	s->hup_cb = hup;
	s->arg = arg;
	start_one(loop, s, &s->term, SIGTERM);
	start_one(loop, s, &s->intr, SIGINT);
	start_one(loop, s, &s->hup, SIGHUP);
}

void ntm_daemon_signals_close(struct ntm_daemon_signals *s)
{
	uv_close((uv_handle_t *)&s->term, NULL);
	uv_close((uv_handle_t *)&s->intr, NULL);
	uv_close((uv_handle_t *)&s->hup, NULL);
}
