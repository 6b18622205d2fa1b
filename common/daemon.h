/* SPDX-License-Identifier: MIT */
#ifndef NTM_DAEMON_H
#define NTM_DAEMON_H

#include <stdbool.h>
#include <uv.h>

#include "err.h"

/*
 * What every ntm daemon's thin main.c shares: DESIGN's command line
 * (`-c FILE [-f] [-v] [-s SOCKET]`, plus `-i IFNAME` where the daemon has an
 * interface), the start-up steps before the loop, and the SIGTERM/SIGINT/
 * SIGHUP handles on the loop.
 */

struct ntm_daemon_spec {
	const char *name;	 /* "ntm-node": log ident and messages */
	const char *conf_page;	 /* "ntm-node.conf(5)", for --help */
	const char *socket_help; /* "/run/ntm/dc.sock", for --help */
	const char *socket;	 /* default socket, or NULL: the caller derives one */
	bool has_ifname;	 /* accept -i IFNAME (default "ntm0") */
	const char *help_extra;	 /* further --help lines (config notes), or NULL */
};

/* Parsed options; strings point into argv or the spec (borrowed). */
struct ntm_daemon_opts {
	const char *config;
	const char *socket;
	const char *ifname;
	bool foreground;
	bool verbose;
};

/*
 * Parses argv. Returns -1 when the daemon should go on, otherwise the exit
 * status (0 after --help or --version, 1 after a usage error, with the
 * message on stderr).
 */
int ntm_daemon_parse_options(const struct ntm_daemon_spec *spec, int argc, char **argv,
			     struct ntm_daemon_opts *o);

/* Logger (stderr with -f, syslog otherwise; debug with -v), libsodium, SIGPIPE
 * ignored. Fatal on failure: start-up only. */
void ntm_daemon_init(const struct ntm_daemon_spec *spec, const struct ntm_daemon_opts *o);

/*
 * The steps around the loop that every daemon's main() takes (dc, rs, node,
 * agent): detach unless -f, initialise the loop (both fatal on failure:
 * start-up only), and close the loop at the end. ntm_daemon_loop_close()
 * logs a loop that does not close cleanly and returns -1 then, 0 otherwise.
 */
void ntm_daemon_detach(const struct ntm_daemon_opts *o);
void ntm_daemon_loop_init(uv_loop_t *loop);
NTM_MUST_CHECK int ntm_daemon_loop_close(uv_loop_t *loop);

typedef void (*ntm_daemon_signal_cb)(void *arg, int signum);

/*
 * The loop's signal handles, embedded in the daemon's context. SIGTERM and
 * SIGINT call `stop`, SIGHUP calls `hup`; the daemon closes them with
 * ntm_daemon_signals_close() as part of its shutdown.
 */
struct ntm_daemon_signals {
	uv_signal_t term, intr, hup;
	ntm_daemon_signal_cb stop;
	ntm_daemon_signal_cb hup_cb;
	void *arg;
};

void ntm_daemon_signals_start(uv_loop_t *loop, struct ntm_daemon_signals *s,
			      ntm_daemon_signal_cb stop, ntm_daemon_signal_cb hup, void *arg);
void ntm_daemon_signals_close(struct ntm_daemon_signals *s);

#endif
