/* SPDX-License-Identifier: MIT */
/*
 * Readings of other devices for the run-time policy check (DESIGN
 * "Recipes", sekisho). A rule such as
 *
 *   forbid window.example.net/open when presence.example.net/state == absent
 *
 * is checked on the window right before it acts, but the reading belongs to
 * another device. Before the action is performed, each such reading that a
 * matching rule needs is fetched with a CoAP GET to coap://FQDN/PATH over
 * the overlay, all at once, on the sessions the agent already has for its
 * peers (resolved through the node like an action's device). The action is
 * performed when every reading is in, or at [Agent] PolicyFetchTimeout: a
 * reading still missing then, or answered with anything but 2.05 and a
 * value, is unknown, and the policy fails closed on it (perform.c says why
 * in the refusal).
 *
 * The GETs are non-confirmable, sent again every RCP_AGENT_POLICY_RESEND_MS
 * until answered: a confirmable one would count against libcoap's NSTART
 * of 1 on the device's session, so one unanswered GET would hold back the
 * next requests to that device (actions included) for up to 45 s of
 * retransmissions, long after this check gave up.
 *
 * There is no cache: a value the action device saw earlier (even an
 * observed one) may be stale exactly when it matters, and one fetch costs
 * a round trip to a device on the same overlay.
 *
 * The request that asked waits as a libcoap async (separate response, as
 * for a command job); an action fired on this device itself waits without
 * one. Nothing is recorded before the readings are in: a restart meanwhile
 * loses nothing, the sender's retry asks again.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "recipe/agent/actreq.h"
#include "recipe/agent/agent_internal.h"

/* One reading of another device. */
struct polinput {
	char resource[RCP_RESOURCE_MAX + 1];
	struct peer *peer;
	uint8_t token[RCP_AGENT_TOKEN_LEN];
	bool sent, done;
	uint64_t sent_ms;	/* last transmission (uv_now) */
	struct rcp_value value; /* NONE unless read */
	char why[96];		/* why it is unknown, once done without a value */
};

struct polcheck {
	struct polcheck *next;
	struct rcp_agent *agent;
	char key[RCP_IDEM_KEY_MAX + 1];
	char sender[RCP_FQDN_MAX + 1];
	char target[RCP_RESOURCE_MAX + 1];
	char *payload; /* owned: the action (actreq.h), decoded again to perform it */
	size_t len;
	struct polinput in[RCP_AGENT_POLICY_INPUTS_MAX];
	size_t n_in, n_left;
	uint64_t started_ms, deadline_ms;
	uint64_t started_ns;	 /* uv_hrtime, for the timing line */
	coap_session_t *session; /* referenced while the request waits, or NULL */
	uint8_t token[8];
	size_t token_len;
	bool finished; /* performed; the answer waits for libcoap's re-call */
	unsigned code;
	char result[RCP_IDEM_RESULT_MAX + 1];
};

static void free_check(struct rcp_agent *a, struct polcheck *pc)
{
	for (struct polcheck **pp = &a->polchecks; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == pc) {
			*pp = pc->next;
			break;
		}
	}
	for (size_t i = 0; i < pc->n_in; i++) {
		rcp_value_fini(&pc->in[i].value);
	}
	if (pc->session != NULL) {
		coap_session_release(pc->session);
	}
	ntm_free(pc->payload);
	ntm_free(pc);
}

/* The timer fires at the earliest deadline or resend of the checks still reading. */
static void arm(struct rcp_agent *a)
{
	uint64_t now = uv_now(a->loop), first = UINT64_MAX;

	for (struct polcheck *pc = a->polchecks; pc != NULL; pc = pc->next) {
		if (!pc->finished && pc->deadline_ms < first) {
			first = pc->deadline_ms;
		}
		for (size_t i = 0; !pc->finished && i < pc->n_in; i++) {
			const struct polinput *in = &pc->in[i];

			if (in->sent && !in->done &&
			    in->sent_ms + RCP_AGENT_POLICY_RESEND_MS < first) {
				first = in->sent_ms + RCP_AGENT_POLICY_RESEND_MS;
			}
		}
	}
	if (first == UINT64_MAX) {
		uv_timer_stop(&a->polcheck_timer);
		return;
	}
	uv_timer_start(&a->polcheck_timer, rcp_agent_polcheck_on_timer,
		       first > now ? first - now : 0, 0);
}

static void input_done(struct polcheck *pc, struct polinput *in, const char *why)
{
	if (in->done) {
		return;
	}
	in->done = true;
	pc->n_left--;
	if (why != NULL) {
		snprintf(in->why, sizeof(in->why), "%s", why);
		ntm_log_warn("action %s on %s: policy: cannot read %s: %s", pc->key, pc->target,
			     in->resource, why);
	}
}

/* Perform the action now that its readings are in (or late), and answer. */
static void complete(struct rcp_agent *a, struct polcheck *pc)
{
	char why[RCP_ACTREQ_WHY_MAX];
	struct rcp_actreq req;
	struct job *job = NULL;
	coap_async_t *async;
	int rc;

	for (size_t i = 0; i < pc->n_in; i++) {
		input_done(pc, &pc->in[i],
			   pc->in[i].sent ? "timeout" : "no address for its device");
	}
	/* For tests/netns/recipe_policy.sh: what the fetch added. */
	ntm_log_debug("timing: %s policy inputs after %llu us", pc->key,
		      (unsigned long long)((uv_hrtime() - pc->started_ns) / 1000));
	rc = rcp_actreq_decode(pc->payload, pc->len, &req, why, sizeof(why));
	if (rc < 0) {
		pc->code = COAP_RESPONSE_CODE(500);
		snprintf(pc->result, sizeof(pc->result), "failed: %s", why);
	} else {
		req.action.target = pc->target; /* borrowed, as in serve.c */
		rc = rcp_agent_perform(a, pc->sender, pc->key, &req.action, pc, &pc->code,
				       pc->result, sizeof(pc->result), &job);
		req.action.target = NULL;
		rcp_actreq_fini(&req);
	}
	if (rc == -EINPROGRESS && pc->session != NULL && job != NULL) {
		/* A program acts: the waiting request is the job's to answer now. */
		job->session = pc->session;
		memcpy(job->token, pc->token, pc->token_len);
		job->token_len = pc->token_len;
		pc->session = NULL;
	}
	async = rc != -EINPROGRESS && pc->session != NULL
			? coap_find_async(pc->session,
					  (coap_bin_const_t){ pc->token_len, pc->token })
			: NULL;
	if (async == NULL) {
		free_check(a, pc);
		return;
	}
	pc->finished = true;
	coap_async_trigger(async);
	rcp_coapio_kick(a->io);
}

static void transmit(struct rcp_agent *a, struct polcheck *pc, struct polinput *in)
{
	coap_session_t *s;
	coap_pdu_t *pdu;

	if (in->done || (in->sent && uv_now(a->loop) - in->sent_ms < RCP_AGENT_POLICY_RESEND_MS)) {
		return;
	}
	if (!rcp_agent_send_ready(a, in->peer)) {
		if (in->sent) {
			in->sent_ms = uv_now(a->loop); /* no resend due until it is ready */
		}
		return; /* sent when the resolve ends (rcp_agent_polcheck_kick) */
	}
	s = rcp_agent_peer_session(a, in->peer);
	pdu = s != NULL ? coap_pdu_init(COAP_MESSAGE_NON, COAP_REQUEST_CODE_GET,
					coap_new_message_id(s), coap_session_max_pdu_size(s))
			: NULL;
	if (pdu == NULL || coap_add_token(pdu, sizeof(in->token), in->token) == 0 ||
	    rcp_agent_add_path(pdu, strchr(in->resource, '/') + 1) < 0) {
		coap_delete_pdu(pdu);
		input_done(pc, in, "cannot build the request");
		return;
	}
	in->sent = true;
	in->sent_ms = uv_now(a->loop);
	if (coap_send(s, pdu) == COAP_INVALID_MID) {
		input_done(pc, in, "send failed");
		return;
	}
	rcp_coapio_kick(a->io);
}

/* The host of "fqdn/path" is this device. */
static bool is_local(const struct rcp_agent *a, const char *resource)
{
	size_t n = strlen(a->cfg->fqdn);

	return strncasecmp(resource, a->cfg->fqdn, n) == 0 && resource[n] == '/';
}

/* Fill pc's inputs: the readings of other devices; -E2BIG when too many. */
static int add_inputs(struct rcp_agent *a, struct polcheck *pc, const struct rcp_action *act)
{
	const char *res[RCP_AGENT_POLICY_INPUTS_MAX];
	char host[RCP_FQDN_MAX + 1];
	int n = rcp_policy_inputs(a->policy, act, res, RCP_AGENT_POLICY_INPUTS_MAX);

	for (int i = 0; i < n; i++) {
		struct polinput *in;
		const char *slash = strchr(res[i], '/');

		if (is_local(a, res[i]) || slash == NULL) {
			continue;
		}
		in = &pc->in[pc->n_in++];
		snprintf(in->resource, sizeof(in->resource), "%s", res[i]);
		snprintf(host, sizeof(host), "%.*s", (int)(slash - res[i]), res[i]);
		rcp_agent_add_peer(a, res[i]);
		in->peer = rcp_agent_peer_by_host(a, host);
		randombytes_buf(in->token, sizeof(in->token));
	}
	return n < 0 ? n : 0;
}

int rcp_agent_polcheck_start(struct rcp_agent *a, const char *sender, const char *key,
			     const struct rcp_action *act, struct polcheck **out)
{
	struct polcheck *pc = ntm_calloc(1, sizeof(*pc));
	int rc;

	*out = NULL;
	if (pc == NULL) {
		return -ENOMEM;
	}
	pc->agent = a;
	rc = add_inputs(a, pc, act);
	if (rc == 0 && pc->n_in == 0) {
		ntm_free(pc);
		return -ENOENT;
	}
	if (rc == 0) {
		rc = rcp_actreq_encode(key, act, &pc->payload, &pc->len);
	}
	if (rc < 0) {
		/* Too many readings: unknown ones, so the check fails closed. */
		ntm_free(pc);
		return rc == -E2BIG ? -ENOENT : rc;
	}
	snprintf(pc->key, sizeof(pc->key), "%s", key);
	snprintf(pc->sender, sizeof(pc->sender), "%s", sender);
	snprintf(pc->target, sizeof(pc->target), "%s", act->target);
	pc->n_left = pc->n_in;
	pc->started_ms = uv_now(a->loop);
	pc->started_ns = uv_hrtime();
	pc->deadline_ms = pc->started_ms + a->cfg->policy_fetch_ms;
	pc->next = a->polchecks;
	a->polchecks = pc;
	for (size_t i = 0; i < pc->n_in; i++) {
		if (pc->in[i].peer == NULL) {
			input_done(pc, &pc->in[i], "no address for its device");
		}
		transmit(a, pc, &pc->in[i]);
	}
	if (pc->n_left == 0) {
		pc->deadline_ms = pc->started_ms; /* performed from the timer, refused */
	}
	*out = pc;
	arm(a);
	return 0;
}

struct polcheck *rcp_agent_polcheck_find(struct rcp_agent *a, const char *key)
{
	for (struct polcheck *pc = a->polchecks; pc != NULL; pc = pc->next) {
		if (!pc->finished && strcmp(pc->key, key) == 0) {
			return pc;
		}
	}
	return NULL;
}

bool rcp_agent_polcheck_wait(struct polcheck *pc, coap_session_t *session,
			     const coap_pdu_t *request)
{
	coap_bin_const_t tok = coap_pdu_get_token(request);

	if (pc->session != NULL || tok.length > sizeof(pc->token) ||
	    coap_register_async(session, request, 0) == NULL) {
		return false;
	}
	pc->session = coap_session_reference(session);
	memcpy(pc->token, tok.s, tok.length);
	pc->token_len = tok.length;
	return true;
}

int rcp_agent_polcheck_answer(struct rcp_agent *a, coap_session_t *session,
			      const coap_pdu_t *request, unsigned *code, char *result, size_t cap)
{
	coap_bin_const_t tok = coap_pdu_get_token(request);

	for (struct polcheck *pc = a->polchecks; pc != NULL; pc = pc->next) {
		if (pc->session == session && pc->token_len == tok.length &&
		    memcmp(pc->token, tok.s, tok.length) == 0) {
			if (!pc->finished) {
				return 0;
			}
			*code = pc->code;
			snprintf(result, cap, "%s", pc->result);
			free_check(a, pc);
			return 1;
		}
	}
	return -ENOENT;
}

static struct polinput *by_token(struct rcp_agent *a, const coap_pdu_t *pdu,
				 struct polcheck **owner)
{
	coap_bin_const_t tok = coap_pdu_get_token(pdu);

	for (struct polcheck *pc = a->polchecks; pc != NULL; pc = pc->next) {
		for (size_t i = 0; !pc->finished && i < pc->n_in; i++) {
			if (tok.length == RCP_AGENT_TOKEN_LEN &&
			    memcmp(tok.s, pc->in[i].token, RCP_AGENT_TOKEN_LEN) == 0) {
				*owner = pc;
				return &pc->in[i];
			}
		}
	}
	return NULL;
}

/* The reading in a 2.05's text/plain payload, or why there is none. */
static void take_value(struct polcheck *pc, struct polinput *in, const coap_pdu_t *pdu)
{
	unsigned code = coap_pdu_get_code(pdu);
	const uint8_t *data = NULL;
	size_t len = 0;
	char why[64];

	(void)coap_get_data(pdu, &len, &data);
	if (code != COAP_RESPONSE_CODE(205)) {
		snprintf(why, sizeof(why), "the device answered %u.%02u", code >> 5, code & 31);
		input_done(pc, in, why);
		return;
	}
	if (rcp_value_parse_reading((const char *)data, len, &in->value) < 0) {
		input_done(pc, in, "not a value");
		return;
	}
	input_done(pc, in, NULL);
}

bool rcp_agent_polcheck_response(struct rcp_agent *a, const coap_pdu_t *received)
{
	struct polcheck *pc = NULL;
	struct polinput *in = by_token(a, received, &pc);

	if (in == NULL) {
		return false;
	}
	if (coap_pdu_get_code(received) == 0 || in->done) {
		return true; /* an empty ACK, or the answer to a resend of one that is in */
	}
	take_value(pc, in, received);
	if (pc->n_left == 0) {
		complete(a, pc);
		arm(a);
	}
	return true;
}

bool rcp_agent_polcheck_nack(struct rcp_agent *a, const coap_pdu_t *sent)
{
	struct polcheck *pc = NULL;
	struct polinput *in = sent != NULL ? by_token(a, sent, &pc) : NULL;

	if (in == NULL || in->done) {
		return in != NULL;
	}
	input_done(pc, in, "unreachable");
	if (pc->n_left == 0) {
		complete(a, pc);
		arm(a);
	}
	return true;
}

void rcp_agent_polcheck_kick(struct rcp_agent *a)
{
	for (struct polcheck *pc = a->polchecks; pc != NULL; pc = pc->next) {
		for (size_t i = 0; !pc->finished && i < pc->n_in; i++) {
			transmit(a, pc, &pc->in[i]);
		}
	}
}

void rcp_agent_polcheck_on_timer(uv_timer_t *t)
{
	struct rcp_agent *a = t->data;
	uint64_t now = uv_now(a->loop);
	struct polcheck *pc = a->polchecks, *next;

	for (; pc != NULL; pc = next) {
		next = pc->next;
		if (!pc->finished && now >= pc->deadline_ms) {
			complete(a, pc);
			next = a->polchecks; /* complete() may have freed it */
		}
	}
	rcp_agent_polcheck_kick(a); /* the resends that are due */
	arm(a);
}

const struct rcp_value *rcp_agent_polcheck_value(const struct polcheck *pc, const char *resource,
						 const char **why)
{
	*why = NULL;
	for (size_t i = 0; pc != NULL && i < pc->n_in; i++) {
		if (strcmp(pc->in[i].resource, resource) == 0) {
			*why = pc->in[i].why[0] != '\0' ? pc->in[i].why : NULL;
			return pc->in[i].value.type != RCP_VAL_NONE ? &pc->in[i].value : NULL;
		}
	}
	return NULL;
}

void rcp_agent_polcheck_fini(struct rcp_agent *a)
{
	while (a->polchecks != NULL) {
		if (!a->polchecks->finished) {
			ntm_log_info("action %s on %s: dropped at shutdown while reading the "
				     "policy's inputs; nothing recorded, the sender retries",
				     a->polchecks->key, a->polchecks->target);
		}
		free_check(a, a->polchecks);
	}
}
