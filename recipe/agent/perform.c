/* SPDX-License-Identifier: MIT */
/*
 * Performing an action on this device (the action device's side of
 * DESIGN "Recipes"), and the command driver's runs. The key is recorded
 * (PENDING, committed) before anything acts; the result is stored (DONE)
 * before the answer leaves. A simulated action is done at once. A command
 * action runs its program (command.h) with the value as last argument; the
 * CoAP request that asked waits for it as a separate response (also a
 * request held for its sender's whois first), and a retry of the same key
 * meanwhile is told 5.03 "in progress", which the sender retries, so the
 * program still runs once.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/agent/agent_internal.h"
#include "recipe/agent/driver.h"

/* What the policy check sees: this device's points, and the readings fetched. */
struct state {
	struct rcp_agent *agent;
	const struct polcheck *inputs; /* or NULL */
};

static const struct rcp_value *lookup_state(const char *resource, void *arg)
{
	const struct state *st = arg;
	struct rcp_agent *a = st->agent;
	const char *why;

	for (size_t i = 0; i < a->n_points; i++) {
		if (strcmp(a->points[i].resource, resource) == 0) {
			return a->points[i].value.type != RCP_VAL_NONE ? &a->points[i].value : NULL;
		}
	}
	return rcp_agent_polcheck_value(st->inputs, resource, &why);
}

/* Policy and type: 0 when the action may run, else the refusal's code. */
static unsigned check(struct rcp_agent *a, struct point *p, const struct rcp_action *act,
		      const struct polcheck *inputs, char *result, size_t cap)
{
	struct state st = { .agent = a, .inputs = inputs };
	struct rcp_report rep;
	const char *why = NULL;

	if (rcp_policy_check_action(a->policy, lookup_state, &st, act, &rep) < 0) {
		if (rep.unknown[0] != '\0') {
			(void)rcp_agent_polcheck_value(inputs, rep.unknown, &why);
		}
		if (why != NULL) {
			/* The other device could not be read: say so first. */
			snprintf(result, cap, "refused: policy: cannot read %s: %s; %s",
				 rep.unknown, why, rep.reason);
		} else {
			snprintf(result, cap, "refused: %s", rep.reason);
		}
		return COAP_RESPONSE_CODE(403);
	}
	if (!rcp_point_accepts(p->conf, &act->value)) {
		snprintf(result, cap, "failed: the value is not of the action's type");
		return COAP_RESPONSE_CODE(400);
	}
	return 0;
}

/* ---------------------------------------------------------------- command jobs */

struct job *rcp_agent_job_find(struct rcp_agent *a, const char *key)
{
	for (struct job *j = a->jobs; j != NULL; j = j->next) {
		if (!j->finished && strcmp(j->key, key) == 0) {
			return j;
		}
	}
	return NULL;
}

static void free_job(struct rcp_agent *a, struct job *j)
{
	for (struct job **pp = &a->jobs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	if (j->session != NULL) {
		coap_session_release(j->session);
	}
	rcp_value_fini(&j->value);
	ntm_free(j);
}

static void count_failure(struct rcp_agent *a, int rc)
{
	if (rc == -ETIMEDOUT) {
		a->stats.command_timeouts++;
	} else {
		a->stats.command_failures++;
	}
}

/*
 * The answer of a request whose libcoap async is gone (job_wait): our own
 * separate response, confirmable, with the request's token (RFC 7252
 * 5.2.2); libcoap retransmits it until the sender acknowledges it.
 */
static void send_separate(struct rcp_agent *a, struct job *j, unsigned code, const char *result)
{
	coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, (coap_pdu_code_t)code,
					coap_new_message_id(j->session),
					coap_session_max_pdu_size(j->session));

	if (pdu == NULL || coap_add_token(pdu, j->token_len, j->token) == 0) {
		coap_delete_pdu(pdu);
		ntm_log_err("action %s: cannot build the answer; the sender's retry gets it",
			    j->key);
		return;
	}
	rcp_agent_reply(pdu, code, result);
	if (coap_send(j->session, pdu) == COAP_INVALID_MID) {
		ntm_log_warn("action %s: cannot send the answer; the sender's retry gets it",
			     j->key);
		return;
	}
	rcp_coapio_kick(a->io);
}

static void on_job_done(const struct rcp_command_result *res, void *arg)
{
	struct job *j = arg;
	struct rcp_agent *a = j->agent;
	char result[RCP_IDEM_RESULT_MAX + 1], text[RCP_IDEM_RESULT_MAX - 16];
	unsigned code = COAP_RESPONSE_CODE(204);
	coap_async_t *async;

	j->cmd = NULL;
	if (res->rc == 0) {
		rcp_command_result_text(res->out, res->len, result, sizeof(result));
		rcp_agent_point_set(a, j->point, &j->value);
	} else {
		count_failure(a, res->rc);
		code = COAP_RESPONSE_CODE(500);
		snprintf(text, sizeof(text), "%s", res->why);
		snprintf(result, sizeof(result), "failed: %s", text);
	}
	if (rcp_idem_finish(a->idem, j->key, code, result) < 0) {
		ntm_log_err("action %s on %s: cannot store the result", j->key, j->point->resource);
	}
	ntm_log(res->rc == 0 ? NTM_LOG_INFO : NTM_LOG_ERR, "action %s from %s on %s: %s", j->key,
		j->sender, j->point->resource, result);
	if (j->separate) {
		send_separate(a, j, code, result);
		free_job(a, j);
		return;
	}
	async = j->session != NULL
			? coap_find_async(j->session, (coap_bin_const_t){ j->token_len, j->token })
			: NULL;
	if (async == NULL) {
		free_job(a, j);
		return;
	}
	/* libcoap calls the POST handler again, which takes the answer (job_answer). */
	j->finished = true;
	j->code = code;
	snprintf(j->result, sizeof(j->result), "%s", result);
	coap_async_trigger(async);
	rcp_coapio_kick(a->io);
}

bool rcp_agent_job_answer(struct rcp_agent *a, coap_session_t *session, const coap_pdu_t *request,
			  unsigned *code, char *result, size_t cap)
{
	coap_bin_const_t tok = coap_pdu_get_token(request);

	for (struct job *j = a->jobs; j != NULL; j = j->next) {
		if (j->finished && j->session == session && j->token_len == tok.length &&
		    memcmp(j->token, tok.s, tok.length) == 0) {
			*code = j->code;
			snprintf(result, cap, "%s", j->result);
			free_job(a, j);
			return true;
		}
	}
	return false;
}

/* argv of p's program, plus `extra` (the action's value) when not NULL. */
static void build_argv(const struct rcp_point_conf *p, const char *extra,
		       const char *argv[RCP_AGENT_ARGS_MAX + 2])
{
	size_t n = 0;

	while (n < RCP_AGENT_ARGS_MAX && p->argv[n] != NULL) {
		argv[n] = p->argv[n];
		n++;
	}
	if (extra != NULL) {
		argv[n++] = extra;
	}
	argv[n] = NULL;
}

static int start_job(struct rcp_agent *a, struct point *p, const char *sender, const char *key,
		     const struct rcp_value *v, struct job **out, char *why, size_t whylen)
{
	char text[RCP_VALUE_TEXT_MAX + 1], env_key[RCP_IDEM_KEY_MAX + 16], env_point[128];
	const char *argv[RCP_AGENT_ARGS_MAX + 2], *env[] = { env_key, env_point, NULL };
	struct rcp_command_spec spec = { .argv = argv, .env = env };
	struct job *j = ntm_calloc(1, sizeof(*j));
	int rc;

	*out = NULL;
	if (j == NULL || rcp_value_copy(&j->value, v) < 0 ||
	    rcp_value_format(v, text, sizeof(text)) < 0) {
		ntm_free(j);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	snprintf(env_key, sizeof(env_key), "NTM_KEY=%s", key);
	snprintf(env_point, sizeof(env_point), "NTM_POINT=%s", p->conf->name);
	build_argv(p->conf, text, argv);
	spec.timeout_ms = (uint64_t)p->conf->timeout_s * 1000;
	j->agent = a;
	j->point = p;
	snprintf(j->key, sizeof(j->key), "%s", key);
	snprintf(j->sender, sizeof(j->sender), "%s", sender);
	rc = rcp_command_start(a->loop, &spec, on_job_done, j, &j->cmd, why, whylen);
	a->stats.command_runs++;
	if (rc < 0) {
		a->stats.command_failures++;
		rcp_value_fini(&j->value);
		ntm_free(j);
		return rc;
	}
	j->next = a->jobs;
	a->jobs = j;
	*out = j;
	return 0;
}

bool rcp_agent_job_wait(struct job *job, coap_session_t *session, const coap_pdu_t *request,
			coap_pdu_t *response)
{
	coap_bin_const_t tok = coap_pdu_get_token(request);

	if (job->session != NULL || tok.length > sizeof(job->token)) {
		return false; /* the sender's retry gets the stored result */
	}
	if (coap_find_async(session, tok) != NULL) {
		/*
		 * Handled again after its sender's whois (whowait.c): its empty
		 * ACK went out already, and libcoap frees this async when the
		 * handler returns, so the answer will be our own separate
		 * response; nothing goes now (a NON without a code is dropped).
		 */
		job->separate = true;
		coap_pdu_set_type(response, COAP_MESSAGE_NON);
	} else if (coap_register_async(session, request, 0) == NULL) {
		return false;
	}
	job->session = coap_session_reference(session);
	memcpy(job->token, tok.s, tok.length);
	job->token_len = tok.length;
	return true;
}

void rcp_agent_jobs_cancel(struct rcp_agent *a)
{
	while (a->jobs != NULL) {
		if (!a->jobs->finished) {
			ntm_log_warn("action %s on %s: program killed at shutdown; the key stays "
				     "unfinished and is not repeated",
				     a->jobs->key, a->jobs->point->resource);
		}
		rcp_command_cancel(a->jobs->cmd);
		free_job(a, a->jobs);
	}
	for (size_t i = 0; i < a->n_points; i++) {
		rcp_command_cancel(a->points[i].reading);
		a->points[i].reading = NULL;
	}
}

/* ---------------------------------------------------------------- command reads */

static void on_read_done(const struct rcp_command_result *res, void *arg)
{
	struct point *p = arg;
	struct rcp_agent *a = p->agent;
	char why[128];
	struct rcp_value v;
	int rc = res->rc;

	p->reading = NULL;
	if (rc == 0) {
		rc = rcp_command_parse_reading(p->conf, res->out, res->len, &v, why, sizeof(why));
		if (rc < 0) {
			a->stats.command_failures++;
			ntm_log_ratelimited(&a->rl, uv_now(a->loop), NTM_LOG_WARN, "%s: %s: %s",
					    p->resource, p->conf->argv[0], why);
			return;
		}
		rcp_agent_point_set(a, p, &v);
		rcp_value_fini(&v);
		return;
	}
	count_failure(a, rc);
	ntm_log_ratelimited(&a->rl, uv_now(a->loop), NTM_LOG_WARN, "%s: read failed: %s",
			    p->resource, res->why);
}

void rcp_agent_command_read(struct rcp_agent *a, struct point *p)
{
	char env_point[128], why[RCP_COMMAND_WHY_MAX];
	const char *argv[RCP_AGENT_ARGS_MAX + 2], *env[] = { env_point, NULL };
	struct rcp_command_spec spec = { .argv = argv, .env = env };

	if (p->reading != NULL || a->pending_close > 0) {
		return;
	}
	snprintf(env_point, sizeof(env_point), "NTM_POINT=%s", p->conf->name);
	build_argv(p->conf, NULL, argv);
	spec.timeout_ms = (uint64_t)p->conf->timeout_s * 1000;
	a->stats.command_runs++;
	if (rcp_command_start(a->loop, &spec, on_read_done, p, &p->reading, why, sizeof(why)) < 0) {
		a->stats.command_failures++;
		ntm_log_ratelimited(&a->rl, uv_now(a->loop), NTM_LOG_WARN, "%s: %s", p->resource,
				    why);
	}
}

/* ---------------------------------------------------------------- perform */

/* Act on a new key: 0 with the answer in *code/result, or -EINPROGRESS. */
static int act(struct rcp_agent *a, struct point *p, const char *sender, const char *key,
	       const struct rcp_action *action, const struct polcheck *inputs, unsigned *code,
	       char *result, size_t cap, struct job **job)
{
	char why[RCP_COMMAND_WHY_MAX];

	*code = check(a, p, action, inputs, result, cap);
	if (*code != 0) {
		return 0;
	}
	a->stats.performed++;
	if (p->conf->driver == RCP_DRIVER_COMMAND) {
		if (start_job(a, p, sender, key, &action->value, job, why, sizeof(why)) == 0) {
			return -EINPROGRESS;
		}
		snprintf(result, cap, "failed: %s", why);
		*code = COAP_RESPONSE_CODE(500);
		return 0;
	}
	if (rcp_driver_write(p->conf, &action->value, why, sizeof(why)) < 0) {
		snprintf(result, cap, "failed: %s", why);
		*code = COAP_RESPONSE_CODE(500);
		return 0;
	}
	rcp_agent_point_set(a, p, &action->value);
	snprintf(result, cap, "done");
	*code = COAP_RESPONSE_CODE(204);
	return 0;
}

/* A key seen before: the stored answer, or "in progress" while its program runs. */
static void answer_known(struct rcp_agent *a, const char *sender, const char *key,
			 const struct rcp_action *action, const struct rcp_idem_record *rec,
			 unsigned *code, char *result, size_t cap)
{
	if (rec->state == RCP_IDEM_PENDING && rcp_agent_job_find(a, key) != NULL) {
		*code = COAP_RESPONSE_CODE(503);
		snprintf(result, cap, "in progress: the program is still running");
		return;
	}
	a->stats.duplicates++;
	*code = rec->state == RCP_IDEM_DONE ? rec->code : COAP_RESPONSE_CODE(500);
	snprintf(result, cap, "%s",
		 rec->state == RCP_IDEM_DONE
			 ? rec->result
			 : "interrupted: the device stopped while acting; not repeated");
	ntm_log_info("action %s from %s on %s: duplicate key, answered from the record", key,
		     sender, action->target);
}

int rcp_agent_perform(struct rcp_agent *a, const char *sender, const char *key,
		      const struct rcp_action *action, const struct polcheck *inputs,
		      unsigned *code, char *result, size_t cap, struct job **job)
{
	const char *name = strchr(action->target, '/') + 1;
	struct point *p = rcp_agent_point(a, RCP_POINT_ACTION, name);
	struct rcp_idem_record rec;
	int rc;

	*job = NULL;
	if (p == NULL) {
		*code = COAP_RESPONSE_CODE(404);
		snprintf(result, cap, "failed: no action %s on this device", name);
		ntm_log_err("action %s on %s: %s", key, action->target, result);
		return 0;
	}
	rc = rcp_idem_begin(a->idem, key, sender, action->target, &rec);
	if (rc == -EEXIST) {
		answer_known(a, sender, key, action, &rec, code, result, cap);
		return 0;
	}
	if (rc < 0) {
		/* Nothing recorded, nothing done: the sender's retry may succeed. */
		*code = COAP_RESPONSE_CODE(503);
		snprintf(result, cap, "failed: cannot record the key (%s)", ntm_strerror(rc));
		ntm_log_err("action %s on %s: %s", key, action->target, result);
		return 0;
	}
	if (act(a, p, sender, key, action, inputs, code, result, cap, job) == -EINPROGRESS) {
		ntm_log_info("action %s from %s on %s: started %s (pid %lld)", key, sender,
			     action->target, p->conf->argv[0],
			     (long long)rcp_command_pid((*job)->cmd));
		return -EINPROGRESS;
	}
	if (rcp_idem_finish(a->idem, key, *code, result) < 0) {
		ntm_log_err("action %s on %s: cannot store the result", key, action->target);
	}
	/* For tests/bench/coop.sh: CLOCK_MONOTONIC, shared by the devices of one host. */
	ntm_log_debug("timing: %s performed at %llu us", key,
		      (unsigned long long)(uv_hrtime() / 1000));
	ntm_log_info("action %s from %s on %s: %s", key, sender, action->target, result);
	return 0;
}
