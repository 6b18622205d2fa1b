/* SPDX-License-Identifier: MIT */
#include "control.h"

#include "common/alloc.h"
#include "common/ctlserver.h"

struct rs_control {
	struct ntm_ctl_server *srv;
	const struct rs_control_env *env;
	void (*done)(void *arg);
	void *done_arg;
};

static json_object *addrs_json(const struct ntm_addr *a, size_t n)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; arr != NULL && i < n; i++) {
		json_object_array_add(arr, ntm_ctl_json_addr(&a[i]));
	}
	return arr;
}

static json_object *counters_json(const struct rs_relay_stats *r, const struct rs_server_stats *s)
{
	json_object *o = json_object_new_object();

	ntm_ctl_json_count(o, "rx", r->rx);
	ntm_ctl_json_count(o, "forwarded", r->forwarded);
	ntm_ctl_json_count(o, "forwarded_bytes", r->forwarded_bytes);
	ntm_ctl_json_count(o, "bind_ok", r->bind_ok);
	ntm_ctl_json_count(o, "drop_malformed", r->drop_malformed);
	ntm_ctl_json_count(o, "drop_no_session", r->drop_no_session);
	ntm_ctl_json_count(o, "drop_bad_mac", r->drop_bad_mac);
	ntm_ctl_json_count(o, "drop_replay", r->drop_replay);
	ntm_ctl_json_count(o, "drop_bind_conflict", r->drop_bind_conflict);
	ntm_ctl_json_count(o, "drop_not_bound", r->drop_not_bound);
	ntm_ctl_json_count(o, "drop_peer_unbound", r->drop_peer_unbound);
	ntm_ctl_json_count(o, "drop_ratelimited", r->drop_ratelimited);
	ntm_ctl_json_count(o, "drop_truncated", s->truncated);
	ntm_ctl_json_count(o, "tx", s->tx);
	ntm_ctl_json_count(o, "tx_errors", s->tx_errors);
	ntm_ctl_json_count(o, "rx_batches", s->rx_batches);
	ntm_ctl_json_count(o, "ctrl_rx", s->ctrl_rx);
	ntm_ctl_json_count(o, "allocated", r->allocated);
	ntm_ctl_json_count(o, "alloc_refused", r->alloc_refused);
	ntm_ctl_json_count(o, "released", r->released);
	ntm_ctl_json_count(o, "expired", r->expired);
	return o;
}

static json_object *dc_json(const struct rs_dcclient *dc)
{
	struct rs_dcclient_info info;
	json_object *o;

	if (dc == NULL) {
		return NULL;
	}
	rs_dcclient_get_info(dc, &info);
	o = json_object_new_object();
	json_object_object_add(o, "endpoint", ntm_ctl_json_addr(&info.endpoint));
	json_object_object_add(o, "state", json_object_new_string(rs_dc_state_name(info.state)));
	ntm_ctl_json_contact(o, info.last_contact_ms, info.last_error);
	ntm_ctl_json_count(o, "interval", info.interval_s);
	ntm_ctl_json_count(o, "reports", info.reports);
	ntm_ctl_json_count(o, "allocs", info.allocs);
	ntm_ctl_json_count(o, "releases", info.releases);
	ntm_ctl_json_count(o, "drops", info.drops);
	return o;
}

static void cmd_status(struct ntm_ctl_req *req, void *user)
{
	const struct rs_control_env *env = ((struct rs_control *)user)->env;
	struct ntm_addr bound[RS_CONFIG_ADDRS_MAX];
	struct rs_server_stats ss = { 0 };
	struct rs_relay_stats rst;
	struct ntm_ctrl_load load = { 0 };
	json_object *o = json_object_new_object(), *l = json_object_new_object();
	char pub[NTM_KEY_B64_SIZE];
	size_t n = 0;

	rs_relay_get_stats(env->relay, &rst);
	if (env->server != NULL) {
		rs_server_get_stats(env->server, &ss);
		n = rs_server_addrs(env->server, bound, RS_CONFIG_ADDRS_MAX);
	}
	ntm_key_to_base64(pub, env->pubkey);
	json_object_object_add(o, "public_key", json_object_new_string(pub));
	json_object_object_add(o, "listen", addrs_json(bound, n));
	json_object_object_add(o, "address", addrs_json(env->cfg->address, env->cfg->n_address));
	ntm_ctl_json_count(o, "sessions", rst.sessions);
	ntm_ctl_json_count(o, "bound", rst.bound_sessions);
	ntm_ctl_json_count(o, "capacity", rs_relay_capacity(env->relay));
	if (env->server != NULL) {
		rs_server_load(env->server, &load);
	}
	ntm_ctl_json_count(l, "pps", load.pps);
	ntm_ctl_json_count(l, "bps", load.bps);
	ntm_ctl_json_count(l, "cpu", load.cpu);
	json_object_object_add(o, "load", l);
	json_object_object_add(o, "counters", counters_json(&rst, &ss));
	json_object_object_add(o, "dc", dc_json(env->dcclient));
	ntm_ctl_reply_ok(req, o);
}

static const struct ntm_ctl_cmd commands[] = {
	{ "status", NTM_CTL_READ, cmd_status, "relay sessions, counters, load, DC registration" },
};

int rs_control_open(uv_loop_t *loop, const char *path, bool has_group, gid_t group,
		    const struct rs_control_env *env, struct rs_control **out)
{
	struct ntm_ctl_config cc = { .path = path,
				     .has_group = has_group,
				     .group = group,
				     .cmds = commands,
				     .n_cmds = sizeof(commands) / sizeof(commands[0]) };
	struct rs_control *c = ntm_calloc(1, sizeof(*c));
	int rc;

	*out = NULL;
	if (c == NULL) {
		return -ENOMEM;
	}
	c->env = env;
	cc.user = c;
	rc = ntm_ctl_server_create(loop, &cc, &c->srv);
	if (rc < 0) {
		ntm_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

static void on_closed(void *arg)
{
	struct rs_control *c = arg;
	void (*done)(void *) = c->done;
	void *done_arg = c->done_arg;

	ntm_free(c);
	if (done != NULL) {
		done(done_arg);
	}
}

void rs_control_close(struct rs_control *c, void (*done)(void *arg), void *arg)
{
	if (ntm_close_null(c, done, arg)) {
		return;
	}
	c->done = done;
	c->done_arg = arg;
	ntm_ctl_server_close(c->srv, on_closed, c);
}
