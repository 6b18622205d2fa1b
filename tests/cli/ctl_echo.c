/* SPDX-License-Identifier: MIT */
/*
 * A tiny daemon for tests/cli/ntmctl.sh: serves a control socket with canned
 * answers so that ntmctl's remote path (request building, renderers, exit
 * codes, client timeout) is tested against the real server code.
 *
 *   status   an object               peers    an array of objects (table)
 *   nodes    an empty array          resolve  a.example -> object, else "unknown"
 *   whois    code "timeout"          ping     never answers (client timeout)
 *   enroll   WRITE, echoes its args  token.create  echoes its args
 *
 * Usage: ctl_echo SOCKET [GID]. With GID the socket is mode 0660 and owned
 * by that group. Runs until SIGTERM or SIGINT, then shuts down cleanly;
 * exits 1 if the loop does not close.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ctlserver.h"
#include "common/log.h"

struct echo {
	uv_loop_t loop;
	uv_signal_t sigterm, sigint;
	struct ntm_ctl_server *srv;
	unsigned held;
};

static json_object *peer(const char *fqdn, const char *vip4, const char *path, int ms)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "fqdn", json_object_new_string(fqdn));
	json_object_object_add(o, "vip4", json_object_new_string(vip4));
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "ms", json_object_new_int(ms));
	return o;
}

static void h_status(struct ntm_ctl_req *req, void *user)
{
	struct echo *e = user;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string("ctl_echo"));
	json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(o, "held", json_object_new_int((int)e->held));
	ntm_ctl_reply_ok(req, o);
}

static void h_peers(struct ntm_ctl_req *req, void *user)
{
	json_object *a = json_object_new_array();

	json_object_array_add(a, peer("a.example", "100.64.0.2", "direct", 3));
	json_object_array_add(a, peer("longer-name.example", "100.64.0.3", "relay", 41));
	ntm_ctl_reply_ok(req, a);
}

static void h_nodes(struct ntm_ctl_req *req, void *user)
{
	ntm_ctl_reply_ok(req, json_object_new_array());
}

static void h_resolve(struct ntm_ctl_req *req, void *user)
{
	json_object *fqdn = json_object_object_get(ntm_ctl_req_args(req), "fqdn");
	const char *name = json_object_get_string(fqdn);
	json_object *o;

	if (name == NULL || strcmp(name, "a.example") != 0) {
		ntm_ctl_reply_err(req, NTM_CTL_E_UNKNOWN, "%s: no such name", name ? name : "?");
		return;
	}
	o = peer("a.example", "100.64.0.2", "direct", 3);
	json_object_object_add(o, "vip6", json_object_new_string("fd00::2"));
	ntm_ctl_reply_ok(req, o);
}

static void h_whois(struct ntm_ctl_req *req, void *user)
{
	ntm_ctl_reply_err(req, NTM_CTL_E_TIMEOUT, "gave up waiting");
}

static void on_ping_cancel(struct ntm_ctl_req *req, void *arg)
{
	struct echo *e = arg;

	e->held--;
	ntm_ctl_reply_err(req, NTM_CTL_E_ERROR, "cancelled");
}

static void h_ping(struct ntm_ctl_req *req, void *user)
{
	struct echo *e = user;

	e->held++;
	ntm_ctl_req_set_cancel(req, on_ping_cancel, e);
}

static void h_echo(struct ntm_ctl_req *req, void *user)
{
	ntm_ctl_reply_ok(req, json_object_get(ntm_ctl_req_args(req)));
}

static const struct ntm_ctl_cmd cmds[] = {
	{ "status", NTM_CTL_READ, h_status, "an object" },
	{ "peers", NTM_CTL_READ, h_peers, "an array of objects" },
	{ "nodes", NTM_CTL_READ, h_nodes, "an empty array" },
	{ "resolve", NTM_CTL_READ, h_resolve, "a.example or code unknown" },
	{ "whois", NTM_CTL_READ, h_whois, "code timeout" },
	{ "ping", NTM_CTL_READ, h_ping, "never answers" },
	{ "enroll", NTM_CTL_WRITE, h_echo, "echoes its arguments" },
	{ "token.create", NTM_CTL_WRITE, h_echo, "echoes its arguments" },
};

static void on_signal(uv_signal_t *s, int signum)
{
	struct echo *e = s->data;

	ntm_log_info("signal %d: shutting down", signum);
	uv_close((uv_handle_t *)&e->sigterm, NULL);
	uv_close((uv_handle_t *)&e->sigint, NULL);
	ntm_ctl_server_close(e->srv, NULL, NULL);
	e->srv = NULL;
}

int main(int argc, char **argv)
{
	struct echo e = { .held = 0 };
	struct ntm_ctl_config cfg = { .cmds = cmds,
				      .n_cmds = sizeof(cmds) / sizeof(cmds[0]),
				      .user = &e };

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s SOCKET [GID]\n", argv[0]);
		return 1;
	}
	if (argc == 3) {
		cfg.has_group = true;
		cfg.group = (gid_t)strtoul(argv[2], NULL, 10);
	}
	ntm_log_init("ctl_echo", true, NTM_LOG_INFO);
	signal(SIGPIPE, SIG_IGN);
	cfg.path = argv[1];
	if (uv_loop_init(&e.loop) != 0) {
		return 1;
	}
	if (ntm_ctl_server_create(&e.loop, &cfg, &e.srv) < 0) {
		uv_run(&e.loop, UV_RUN_DEFAULT);
		uv_loop_close(&e.loop);
		return 1;
	}
	uv_signal_init(&e.loop, &e.sigterm);
	uv_signal_init(&e.loop, &e.sigint);
	e.sigterm.data = &e;
	e.sigint.data = &e;
	uv_signal_start(&e.sigterm, on_signal, SIGTERM);
	uv_signal_start(&e.sigint, on_signal, SIGINT);
	uv_run(&e.loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&e.loop) != 0 || e.held != 0) {
		ntm_log_err("unclean shutdown");
		return 1;
	}
	return 0;
}
