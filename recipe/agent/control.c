/* SPDX-License-Identifier: MIT */
/*
 * The agent's control socket (ctlserver.h), read-only: `status` (identity
 * and the counters of struct rcp_agent_stats), `recipes` (each recipe and
 * whether this device triggers it) and `outbox` (the action requests
 * waiting for their device). `ntmctl -s SOCKET status` shows them.
 */
#include <time.h>

#include "common/ctlserver.h"
#include "recipe/agent/agent_internal.h"

static void add_u64(json_object *o, const char *name, uint64_t v)
{
	json_object_object_add(o, name, json_object_new_int64((int64_t)v));
}

static void add_stats(json_object *o, const struct rcp_agent_stats *st)
{
	add_u64(o, "fired", st->fired);
	add_u64(o, "sent", st->sent);
	add_u64(o, "acknowledged", st->acknowledged);
	add_u64(o, "acknowledged_first_attempt", st->acked_first);
	add_u64(o, "refused", st->refused);
	add_u64(o, "unauthorised", st->unauthorised);
	add_u64(o, "failed", st->failed);
	add_u64(o, "expired", st->expired);
	add_u64(o, "reloaded", st->reloaded);
	add_u64(o, "performed", st->performed);
	add_u64(o, "duplicates", st->duplicates);
	add_u64(o, "command_runs", st->command_runs);
	add_u64(o, "command_failures", st->command_failures);
	add_u64(o, "command_timeouts", st->command_timeouts);
	add_u64(o, "pruned", st->pruned);
}

static void cmd_status(struct ntm_ctl_req *req, void *user)
{
	struct rcp_agent *a = user;
	json_object *o = json_object_new_object();
	size_t jobs = 0;
	uint64_t keys = 0;

	for (struct job *j = a->jobs; j != NULL; j = j->next) {
		jobs += j->finished ? 0 : 1;
	}
	if (rcp_idem_count(a->idem, &keys) < 0) {
		json_object_put(o);
		ntm_ctl_reply_err(req, NTM_CTL_E_ERROR, "%s: cannot count records",
				  a->cfg->database);
		return;
	}
	json_object_object_add(o, "name", json_object_new_string(a->cfg->fqdn));
	add_u64(o, "points", a->n_points);
	add_u64(o, "peers", a->n_peers); /* [Peer]s and devices resolved through the node */
	add_u64(o, "recipes", (a->recipes != NULL ? a->recipes->n : 0) + a->n_inst);
	add_u64(o, "outbox", a->n_out);
	add_u64(o, "programs_running", jobs);
	add_u64(o, "idempotency_records", keys);
	add_stats(o, &a->stats);
	ntm_ctl_reply_ok(req, o);
}

static void cmd_recipes(struct ntm_ctl_req *req, void *user)
{
	struct rcp_agent *a = user;
	json_object *arr = json_object_new_array();

	for (size_t i = 0; a->recipes != NULL && i < a->recipes->n; i++) {
		const struct rcp_recipe *r = a->recipes->recipes[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(r->name));
		json_object_object_add(
			o, "triggered_here",
			json_object_new_boolean(rcp_agent_cond_reads_host(r->when, a->cfg->fqdn)));
		add_u64(o, "actions", r->n_actions);
		json_object_object_add(o, "source", json_object_new_string("config"));
		json_object_object_add(o, "state", json_object_new_string("active"));
		json_object_array_add(arr, o);
	}
	for (const struct installed *in = a->inst; in != NULL; in = in->next) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(in->name));
		json_object_object_add(o, "triggered_here",
				       json_object_new_boolean(rcp_agent_cond_reads_host(
					       in->recipe->when, a->cfg->fqdn)));
		add_u64(o, "actions", in->recipe->n_actions);
		json_object_object_add(o, "source", json_object_new_string("recipe-server"));
		json_object_object_add(o, "state",
				       json_object_new_string(rcp_inst_state_str(in->state)));
		json_object_object_add(o, "reason", json_object_new_string(in->reason));
		json_object_array_add(arr, o);
	}
	ntm_ctl_reply_ok(req, arr);
}

static void cmd_outbox(struct ntm_ctl_req *req, void *user)
{
	struct rcp_agent *a = user;
	json_object *arr = json_object_new_array();
	int64_t now = (int64_t)time(NULL);

	for (const struct outgoing *o = a->out; o != NULL; o = o->next) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "key", json_object_new_string(o->key));
		json_object_object_add(e, "target", json_object_new_string(o->target));
		add_u64(e, "attempts", o->attempts);
		json_object_object_add(e, "age_s", json_object_new_int64(now - o->fired_s));
		json_object_object_add(e, "expires_in_s",
				       json_object_new_int64(o->expires_s - now));
		json_object_array_add(arr, e);
	}
	ntm_ctl_reply_ok(req, arr);
}

static const struct ntm_ctl_cmd commands[] = {
	{ "status", NTM_CTL_READ, cmd_status, "name, outbox size and delivery/driver counters" },
	{ "recipes", NTM_CTL_READ, cmd_recipes,
	  "the recipes and whether this device triggers them" },
	{ "outbox", NTM_CTL_READ, cmd_outbox, "action requests waiting for their device" },
};

int rcp_agent_control_open(struct rcp_agent *a, const char *path)
{
	const struct ntm_ctl_config cfg = {
		.path = path,
		.cmds = commands,
		.n_cmds = sizeof(commands) / sizeof(commands[0]),
		.user = a,
	};

	return ntm_ctl_server_create(a->loop, &cfg, &a->ctl);
}

void rcp_agent_control_close(struct rcp_agent *a, void (*done)(void *arg), void *arg)
{
	struct ntm_ctl_server *srv = a->ctl;

	a->ctl = NULL;
	if (srv == NULL) {
		done(arg);
		return;
	}
	ntm_ctl_server_close(srv, done, arg);
}
