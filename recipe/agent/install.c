/* SPDX-License-Identifier: MIT */
/*
 * Recipes the recipe server installs over the overlay ([Agent]
 * RecipeServer), and the check of the cooperation between the devices.
 *
 *   POST /recipes            body: one recipe, canonical text (text/plain),
 *                            at most RCP_INSTALL_MAX bytes, block-wise
 *                            (Block1) when over one message
 *   GET  /recipes?name=NAME  its state here: "active", "verifying" or
 *                            "refused: REASON"; with &sum=HEX (a device
 *                            verifying its version) 4.04 when the text
 *                            here is another version
 *   DELETE /recipes?name=NAME  drop it: 2.02 "deleted" (also when it is
 *                            not here, so that a repeated request is fine)
 *
 * A new text under a name installed already replaces the old one at once:
 * the old one leaves the engine before the new one is checked, so a device
 * never runs both (the new one runs once it is active).
 *
 * Only the recipe server may POST or DELETE: the sender is identified like an
 * action's (the node's whois of the datagram's source VIP, or a [Peer]'s
 * Address), never by what the message says. GET is answered to the recipe
 * server and to the devices the recipe names.
 *
 * Each device checks its own part when the recipe arrives: the sensors it
 * reads here exist, the actions it does here exist and take their values,
 * and this device's safety policy does not refuse them. A recipe that is
 * triggered here and acts on other devices then stays "verifying": this
 * device asks each action device with GET /recipes?name=NAME until every one
 * answers "active" (the recipe is then active and enters the engine) or one
 * refuses it (refused here too, with that device's reason). The recipe
 * server reads the final state the same way. Every state is in the agent's
 * database (rstore.h) before it is answered, so a restart keeps them.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "recipe/agent/agent_internal.h"

enum {
	SUM_HEX = 32, /* hex digits of a text's digest */
	VERIFY_RETRY_MS = 1000,
	VERIFY_ATTEMPT_MAX_MS = 60000,
};

/* The host part of "fqdn/path" is `fqdn` (case ignored). */
static bool on_host(const char *ref, const char *fqdn)
{
	size_t n = strlen(fqdn);

	return strncasecmp(ref, fqdn, n) == 0 && ref[n] == '/';
}

static bool names_host(const struct rcp_recipe *r, const char *fqdn)
{
	if (rcp_agent_cond_reads_host(r->when, fqdn)) {
		return true;
	}
	for (size_t k = 0; k < r->n_actions; k++) {
		if (r->actions[k].kind == RCP_ACT_DO && on_host(r->actions[k].target, fqdn)) {
			return true;
		}
	}
	return false;
}

/* Every sensor this device is read for exists here. */
static bool conds_ok(const struct rcp_agent *a, const struct rcp_cond *c, char *why, size_t cap)
{
	const char *path;

	if (c->kind != RCP_COND_CMP) {
		for (size_t i = 0; i < c->n_kids; i++) {
			if (!conds_ok(a, c->kids[i], why, cap)) {
				return false;
			}
		}
		return true;
	}
	if (!on_host(c->resource, a->cfg->fqdn)) {
		return true;
	}
	path = c->resource + strlen(a->cfg->fqdn) + 1;
	if (rcp_agent_config_point(a->cfg, RCP_POINT_SENSOR, path) == NULL &&
	    rcp_agent_config_point(a->cfg, RCP_POINT_ACTION, path) == NULL) {
		snprintf(why, cap, "%.100s has no sensor %.100s", a->cfg->fqdn, path);
		return false;
	}
	return true;
}

/* The part of r on this device: 0, or -EPERM with why. */
static int check_here(const struct rcp_agent *a, const struct rcp_recipe *r, char *why, size_t cap)
{
	struct rcp_report rep;

	if (!names_host(r, a->cfg->fqdn)) {
		snprintf(why, cap, "the recipe does not name %.200s", a->cfg->fqdn);
		return -EPERM;
	}
	if (!conds_ok(a, r->when, why, cap)) {
		return -EPERM;
	}
	for (size_t k = 0; k < r->n_actions; k++) {
		const struct rcp_action *act = &r->actions[k];
		const struct rcp_point_conf *p;

		if (act->kind != RCP_ACT_DO || !on_host(act->target, a->cfg->fqdn)) {
			continue;
		}
		p = rcp_agent_config_point(a->cfg, RCP_POINT_ACTION,
					   act->target + strlen(a->cfg->fqdn) + 1);
		if (p == NULL ||
		    (act->value.type != RCP_VAL_NONE && !rcp_point_accepts(p, &act->value))) {
			snprintf(why, cap, "%.200s: %s", act->target,
				 p == NULL ? "no such action here" : "value of the wrong type");
			return -EPERM;
		}
	}
	if (rcp_policy_check_recipe(a->policy, r, &rep) < 0 && rep.verdict == RCP_VERDICT_REFUSED) {
		snprintf(why, cap, "policy of %.64s: %.160s", a->cfg->fqdn, rep.reason);
		return -EPERM;
	}
	return 0;
}

/* The other devices r acts on, when r is triggered here (they must confirm). */
static void collect_devices(struct rcp_agent *a, struct installed *in)
{
	const struct rcp_recipe *r = in->recipe;

	in->n_devs = 0;
	if (!rcp_agent_cond_reads_host(r->when, a->cfg->fqdn)) {
		return;
	}
	for (size_t k = 0; k < r->n_actions; k++) {
		const char *t = r->actions[k].target, *slash = strchr(t, '/');
		bool seen = false;

		if (r->actions[k].kind != RCP_ACT_DO || on_host(t, a->cfg->fqdn) || slash == NULL ||
		    (size_t)(slash - t) > RCP_FQDN_MAX) {
			continue;
		}
		for (size_t i = 0; i < in->n_devs; i++) {
			seen |= strncasecmp(in->devs[i], t, (size_t)(slash - t)) == 0 &&
				in->devs[i][slash - t] == '\0';
		}
		if (!seen) {
			snprintf(in->devs[in->n_devs], RCP_FQDN_MAX + 1, "%.*s", (int)(slash - t),
				 t);
			in->confirmed[in->n_devs++] = false;
			rcp_agent_add_peer(a, t);
		}
	}
}

/* The engine gets its own parse of the text (it owns what it is given). */
static void engine_add(struct rcp_agent *a, struct installed *in)
{
	struct rcp_file *f = NULL;
	struct rcp_error err;
	struct rcp_recipe *r;
	int rc;

	if (in->in_engine || !rcp_agent_cond_reads_host(in->recipe->when, a->cfg->fqdn)) {
		return;
	}
	rc = rcp_parse(in->text, strlen(in->text), &f, &err);
	if (rc == 0 && f->n == 1) {
		r = rcp_file_take(f, 0);
		rc = rcp_engine_add(a->engine, r, uv_now(a->loop));
		if (rc < 0) {
			rcp_recipe_free(r);
		}
	}
	rcp_file_free(f);
	if (rc < 0) {
		ntm_log_err("recipe %s: cannot enter the engine: %s", in->name, ntm_strerror(rc));
		return;
	}
	in->in_engine = true;
	ntm_log_info("recipe %s: active, triggered here", in->name);
}

static void set_state(struct rcp_agent *a, struct installed *in, enum rcp_inst_state st,
		      const char *reason)
{
	in->state = st;
	snprintf(in->reason, sizeof(in->reason), "%s", reason != NULL ? reason : "");
	if (rcp_rstore_put(a->rstore, in->name, in->text, st, in->reason) < 0) {
		ntm_log_err("recipe %s: cannot store its state in %s", in->name, a->cfg->database);
	}
	if (st == RCP_INST_ACTIVE) {
		engine_add(a, in);
	} else if (st == RCP_INST_REFUSED) {
		ntm_log_warn("recipe %s: refused: %s", in->name, in->reason);
	}
}

static void free_installed(struct rcp_agent *a, struct installed *in)
{
	if (in->in_engine && rcp_engine_remove(a->engine, in->name) < 0) {
		ntm_log_err("recipe %s: not in the engine", in->name);
	}
	rcp_recipe_free(in->recipe);
	ntm_free(in->text);
	ntm_free(in);
}

static struct installed *find(struct rcp_agent *a, const char *name)
{
	for (struct installed *in = a->inst; in != NULL; in = in->next) {
		if (strcmp(in->name, name) == 0) {
			return in;
		}
	}
	return NULL;
}

static void unlink_installed(struct rcp_agent *a, struct installed *gone)
{
	for (struct installed **pp = &a->inst; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == gone) {
			*pp = gone->next;
			a->n_inst--;
			return;
		}
	}
}

/* A new installed recipe from its canonical text (r owned by it from now on); no state yet. */
static struct installed *add(struct rcp_agent *a, struct rcp_recipe *r, const char *text)
{
	struct installed *in = ntm_calloc(1, sizeof(*in));

	if (in == NULL || (in->text = ntm_strdup(text)) == NULL) {
		ntm_free(in);
		return NULL;
	}
	snprintf(in->name, sizeof(in->name), "%s", r->name);
	in->recipe = r;
	randombytes_buf(in->token, sizeof(in->token));
	in->next = a->inst;
	a->inst = in;
	a->n_inst++;
	return in;
}

/* Parse one recipe; -EINVAL with why unless the text holds exactly one. */
static int parse_one(const char *text, size_t len, struct rcp_recipe **out, char *why, size_t cap)
{
	struct rcp_file *f = NULL;
	struct rcp_error err;
	int rc = rcp_parse(text, len, &f, &err);

	*out = NULL;
	if (rc < 0) {
		snprintf(why, cap, "bad recipe: %u:%u: %s", err.line, err.col, err.msg);
		return rc == -ENOMEM ? rc : -EINVAL;
	}
	if (f->n != 1) {
		snprintf(why, cap, "bad recipe: expected exactly one, got %zu", f->n);
		rcp_file_free(f);
		return -EINVAL;
	}
	*out = rcp_file_take(f, 0);
	rcp_file_free(f);
	return 0;
}

static bool configured(const struct rcp_agent *a, const char *name)
{
	for (size_t i = 0; i < a->recipes->n; i++) {
		if (strcmp(a->recipes->recipes[i]->name, name) == 0) {
			return true;
		}
	}
	return false;
}

/* Install text (len bytes): *code and msg are the answer to the recipe server. */
static void install(struct rcp_agent *a, const char *text, size_t len, unsigned *code, char *msg,
		    size_t cap)
{
	char why[RCP_INST_REASON_MAX + 1] = "", *canon = NULL;
	struct rcp_recipe *r = NULL;
	struct installed *in, *old;
	int rc = parse_one(text, len, &r, msg, cap);

	*code = COAP_RESPONSE_CODE(400);
	if (rc < 0) {
		return;
	}
	if (configured(a, r->name)) {
		snprintf(msg, cap, "refused: %s is configured locally under that name", r->name);
		*code = COAP_RESPONSE_CODE(403);
		rcp_recipe_free(r);
		return;
	}
	if (rcp_recipe_print(r, &canon) < 0) {
		rcp_recipe_free(r);
		*code = COAP_RESPONSE_CODE(500);
		return;
	}
	old = find(a, r->name);
	if (old != NULL && strcmp(old->text, canon) == 0) {
		rcp_recipe_free(r); /* sent again (a lost answer): the state as it is */
		in = old;
	} else {
		if (old != NULL) {
			ntm_log_info("recipe %s: replaced by the recipe server", old->name);
			unlink_installed(a, old);
			free_installed(a, old);
		}
		in = add(a, r, canon);
		if (in == NULL) {
			rcp_recipe_free(r);
			ntm_free(canon);
			*code = COAP_RESPONSE_CODE(500);
			return;
		}
		ntm_log_info("recipe %s: received from the recipe server", in->name);
		collect_devices(a, in);
		if (check_here(a, in->recipe, why, sizeof(why)) < 0) {
			set_state(a, in, RCP_INST_REFUSED, why);
		} else {
			set_state(a, in, in->n_devs > 0 ? RCP_INST_VERIFYING : RCP_INST_ACTIVE, "");
		}
	}
	ntm_free(canon);
	*code = in->state == RCP_INST_REFUSED ? COAP_RESPONSE_CODE(403) : COAP_RESPONSE_CODE(201);
	if (in->state == RCP_INST_REFUSED) {
		snprintf(msg, cap, "refused: %s", in->reason);
	} else {
		snprintf(msg, cap, "%s", rcp_inst_state_str(in->state));
	}
	rcp_agent_kick_verify(a);
}

/* ---------------------------------------------------------------- CoAP handlers */

static bool is_server(const struct rcp_agent *a, const char *sender)
{
	return a->cfg->recipe_server[0] != '\0' && strcasecmp(sender, a->cfg->recipe_server) == 0;
}

static void on_post(coap_resource_t *res, coap_session_t *session, const coap_pdu_t *request,
		    const coap_string_t *query, coap_pdu_t *response)
{
	struct rcp_agent *a = coap_resource_get_userdata(res);
	char sender[RCP_FQDN_MAX + 1], msg[RCP_INST_REASON_MAX + 64];
	const uint8_t *data = NULL;
	size_t len = 0, off = 0, total = 0;
	unsigned code;

	if (rcp_agent_sender_of(a, session, sender) == -EAGAIN) {
		rcp_agent_retry_soon(response, "busy: identifying the sender");
		return;
	}
	if (!is_server(a, sender)) {
		a->stats.unauthorised++;
		ntm_log_ratelimited(
			&a->rl, uv_now(a->loop), NTM_LOG_WARN,
			"recipe from %s refused: only the recipe server installs recipes",
			sender[0] != '\0' ? sender : "an unknown device");
		rcp_agent_reply(response, COAP_RESPONSE_CODE(403),
				"refused: only the recipe server installs recipes");
		return;
	}
	/* Block-wise: libcoap reassembled the body (single-body block mode). */
	if (coap_get_data_large(request, &len, &data, &off, &total) == 0 || len == 0 || off != 0) {
		rcp_agent_reply(response, COAP_RESPONSE_CODE(400), "bad recipe: empty");
		return;
	}
	if (total > RCP_INSTALL_MAX || len > RCP_INSTALL_MAX) {
		snprintf(msg, sizeof(msg), "bad recipe: %zu bytes, over the %d installed here",
			 total > len ? total : len, RCP_INSTALL_MAX);
		rcp_agent_reply(response, COAP_RESPONSE_CODE(413), msg);
		return;
	}
	install(a, (const char *)data, len, &code, msg, sizeof(msg));
	rcp_agent_reply(response, code, msg);
}

/* A digest of a recipe text, to tell its versions apart ("sum=" in a GET). */
static void text_sum(const char *text, char out[SUM_HEX + 1])
{
	uint8_t h[SUM_HEX / 2];

	crypto_generichash(h, sizeof(h), (const uint8_t *)text, strlen(text), NULL, 0);
	sodium_bin2hex(out, SUM_HEX + 1, h, sizeof(h));
}

/* "name=NAME" -> NAME into out; false for anything else. */
static bool query_name(const coap_string_t *query, char out[RCP_NAME_MAX + 1])
{
	static const char key[] = "name=";
	size_t n;

	if (query == NULL || query->length <= sizeof(key) - 1 ||
	    memcmp(query->s, key, sizeof(key) - 1) != 0) {
		return false;
	}
	n = query->length - (sizeof(key) - 1);
	if (n > RCP_NAME_MAX || !rcp_is_recipe_name((const char *)query->s + sizeof(key) - 1, n)) {
		return false;
	}
	memcpy(out, query->s + sizeof(key) - 1, n);
	out[n] = '\0';
	return true;
}

/*
 * "name=NAME" or "name=NAME&sum=HEX" (a device verifying asks about its own
 * version of the text): NAME into name, HEX into sum ("" when absent).
 */
static bool query_name_sum(const coap_string_t *query, char name[RCP_NAME_MAX + 1],
			   char sum[SUM_HEX + 1])
{
	static const char key[] = "&sum=";
	const uint8_t *amp = query != NULL ? memchr(query->s, '&', query->length) : NULL;
	coap_string_t head;
	size_t n;

	sum[0] = '\0';
	if (amp == NULL) {
		return query_name(query, name);
	}
	head = (coap_string_t){ .length = (size_t)(amp - query->s), .s = query->s };
	n = query->length - head.length;
	if (!query_name(&head, name) || n != sizeof(key) - 1 + SUM_HEX ||
	    memcmp(amp, key, sizeof(key) - 1) != 0) {
		return false;
	}
	memcpy(sum, amp + sizeof(key) - 1, SUM_HEX);
	sum[SUM_HEX] = '\0';
	return true;
}

static void on_get(coap_resource_t *res, coap_session_t *session, const coap_pdu_t *request,
		   const coap_string_t *query, coap_pdu_t *response)
{
	struct rcp_agent *a = coap_resource_get_userdata(res);
	char sender[RCP_FQDN_MAX + 1], name[RCP_NAME_MAX + 1], msg[RCP_INST_REASON_MAX + 64];
	char sum[SUM_HEX + 1], mine[SUM_HEX + 1];
	const struct installed *in;

	if (!query_name_sum(query, name, sum)) {
		rcp_agent_reply(response, COAP_RESPONSE_CODE(400), "expected ?name=RECIPE");
		return;
	}
	if (rcp_agent_sender_of(a, session, sender) == -EAGAIN) {
		rcp_agent_retry_soon(response, "busy: identifying the sender");
		return;
	}
	in = find(a, name);
	if (in == NULL) {
		rcp_agent_reply(response, COAP_RESPONSE_CODE(404), "unknown recipe");
		return;
	}
	if (!is_server(a, sender) && (sender[0] == '\0' || !names_host(in->recipe, sender))) {
		a->stats.unauthorised++;
		rcp_agent_reply(response, COAP_RESPONSE_CODE(403),
				"not for you: the recipe does not name the sender");
		return;
	}
	/* A replaced recipe: the asker's version is not (yet) the one here. */
	text_sum(in->text, mine);
	if (sum[0] != '\0' && strcasecmp(sum, mine) != 0) {
		rcp_agent_reply(response, COAP_RESPONSE_CODE(404), "another version here");
		return;
	}
	if (in->state == RCP_INST_REFUSED) {
		snprintf(msg, sizeof(msg), "refused: %s", in->reason);
	} else {
		snprintf(msg, sizeof(msg), "%s", rcp_inst_state_str(in->state));
	}
	rcp_agent_reply(response, COAP_RESPONSE_CODE(205), msg);
}

/* Drop an installed recipe: out of the engine, out of the database. */
static int uninstall(struct rcp_agent *a, const char *name)
{
	struct installed *in = find(a, name);

	if (in == NULL) {
		return 0;
	}
	if (rcp_rstore_delete(a->rstore, name) < 0) {
		ntm_log_err("recipe %s: cannot delete it from %s", name, a->cfg->database);
		return -EIO;
	}
	unlink_installed(a, in);
	free_installed(a, in);
	ntm_log_info("recipe %s: deleted by the recipe server", name);
	return 0;
}

static void on_delete(coap_resource_t *res, coap_session_t *session, const coap_pdu_t *request,
		      const coap_string_t *query, coap_pdu_t *response)
{
	struct rcp_agent *a = coap_resource_get_userdata(res);
	char sender[RCP_FQDN_MAX + 1], name[RCP_NAME_MAX + 1];

	if (!query_name(query, name)) {
		rcp_agent_reply(response, COAP_RESPONSE_CODE(400), "expected ?name=RECIPE");
		return;
	}
	if (rcp_agent_sender_of(a, session, sender) == -EAGAIN) {
		rcp_agent_retry_soon(response, "busy: identifying the sender");
		return;
	}
	if (!is_server(a, sender)) {
		a->stats.unauthorised++;
		ntm_log_ratelimited(&a->rl, uv_now(a->loop), NTM_LOG_WARN,
				    "deletion from %s refused: only the recipe server deletes",
				    sender[0] != '\0' ? sender : "an unknown device");
		rcp_agent_reply(response, COAP_RESPONSE_CODE(403),
				"refused: only the recipe server deletes recipes");
		return;
	}
	if (uninstall(a, name) < 0) {
		rcp_agent_reply(response, COAP_RESPONSE_CODE(500), "database error");
		return;
	}
	rcp_agent_reply(response, COAP_RESPONSE_CODE(202), "deleted");
}

int rcp_agent_install_serve(struct rcp_agent *a)
{
	static const char path[] = "recipes";
	coap_str_const_t *uri = coap_new_str_const((const uint8_t *)path, sizeof(path) - 1);
	coap_resource_t *r =
		uri != NULL ? coap_resource_init(uri, COAP_RESOURCE_FLAGS_RELEASE_URI) : NULL;

	if (r == NULL) {
		return -ENOMEM;
	}
	coap_resource_set_userdata(r, a);
	coap_register_request_handler(r, COAP_REQUEST_POST, on_post);
	coap_register_request_handler(r, COAP_REQUEST_GET, on_get);
	coap_register_request_handler(r, COAP_REQUEST_DELETE, on_delete);
	coap_add_resource(a->coap, r);
	/*
	 * A recipe over one message arrives block-wise (Block1): libcoap
	 * acknowledges each block and hands on_post the whole body.
	 */
	coap_context_set_block_mode(a->coap, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
	return 0;
}

/* ---------------------------------------------------------------- verification */

static void ask(struct rcp_agent *a, struct installed *in)
{
	char q[RCP_NAME_MAX + 8], sq[SUM_HEX + 8], sum[SUM_HEX + 1];
	struct peer *p = NULL;
	coap_session_t *s;
	coap_pdu_t *pdu;
	size_t i = 0;

	while (i < in->n_devs && in->confirmed[i]) {
		i++;
	}
	if (i == in->n_devs) {
		set_state(a, in, RCP_INST_ACTIVE, "");
		return;
	}
	in->asking = i;
	in->next_ms = uv_now(a->loop) + VERIFY_RETRY_MS;
	p = rcp_agent_peer_by_host(a, in->devs[i]);
	if (p == NULL || !rcp_agent_send_ready(a, p)) {
		if (p == NULL) {
			ntm_log_ratelimited(&a->rl, uv_now(a->loop), NTM_LOG_WARN,
					    "recipe %s: no address for %s ([Peer] or NodeSocket)",
					    in->name, in->devs[i]);
		}
		return;
	}
	s = rcp_agent_peer_session(a, p);
	pdu = s != NULL ? coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET,
					coap_new_message_id(s), coap_session_max_pdu_size(s))
			: NULL;
	snprintf(q, sizeof(q), "name=%s", in->name);
	text_sum(in->text, sum);
	snprintf(sq, sizeof(sq), "sum=%s", sum);
	if (pdu == NULL || coap_add_token(pdu, sizeof(in->token), in->token) == 0 ||
	    coap_add_option(pdu, COAP_OPTION_URI_PATH, 7, (const uint8_t *)"recipes") == 0 ||
	    coap_add_option(pdu, COAP_OPTION_URI_QUERY, strlen(q), (const uint8_t *)q) == 0 ||
	    coap_add_option(pdu, COAP_OPTION_URI_QUERY, strlen(sq), (const uint8_t *)sq) == 0) {
		coap_delete_pdu(pdu);
		return;
	}
	if (coap_send(s, pdu) == COAP_INVALID_MID) {
		return;
	}
	in->inflight = true;
	in->sent_ms = uv_now(a->loop);
	rcp_coapio_kick(a->io);
}

/*
 * Behind a NAT the tunnel to the recipe server must be opened from here:
 * its FQDN is resolved through the node (and again when the VIP gets old).
 */
static void reach_server(struct rcp_agent *a)
{
	struct peer *p;

	if (a->ns == NULL || a->cfg->recipe_server[0] == '\0') {
		return;
	}
	p = rcp_agent_peer_by_host(a, a->cfg->recipe_server);
	if (p != NULL) {
		(void)rcp_agent_send_ready(a, p);
	}
}

void rcp_agent_install_sweep(struct rcp_agent *a)
{
	uint64_t now = uv_now(a->loop);

	reach_server(a);
	for (struct installed *in = a->inst; in != NULL; in = in->next) {
		if (in->state != RCP_INST_VERIFYING) {
			continue;
		}
		if (in->inflight && now - in->sent_ms >= VERIFY_ATTEMPT_MAX_MS) {
			in->inflight = false;
		}
		if (!in->inflight && now >= in->next_ms) {
			ask(a, in);
		}
	}
}

void rcp_agent_kick_verify(struct rcp_agent *a)
{
	for (struct installed *in = a->inst; in != NULL; in = in->next) {
		if (in->state == RCP_INST_VERIFYING && !in->inflight) {
			in->next_ms = 0;
		}
	}
	rcp_agent_install_sweep(a);
}

static struct installed *by_token(struct rcp_agent *a, coap_bin_const_t tok)
{
	for (struct installed *in = a->inst; in != NULL; in = in->next) {
		if (in->inflight && tok.length == sizeof(in->token) &&
		    memcmp(tok.s, in->token, sizeof(in->token)) == 0) {
			return in;
		}
	}
	return NULL;
}

bool rcp_agent_install_response(struct rcp_agent *a, const coap_pdu_t *received)
{
	struct installed *in = by_token(a, coap_pdu_get_token(received));
	unsigned code = coap_pdu_get_code(received);
	char text[RCP_INST_REASON_MAX + 1], why[RCP_INST_REASON_MAX + 1];
	const uint8_t *data = NULL;
	size_t len = 0;

	if (in == NULL) {
		return false;
	}
	if (code == 0) {
		return true; /* an empty ACK: the answer follows */
	}
	in->inflight = false;
	(void)coap_get_data(received, &len, &data);
	snprintf(text, sizeof(text), "%.*s", (int)(len < sizeof(text) ? len : sizeof(text) - 1),
		 (const char *)data);
	for (size_t i = 0; text[i] != '\0'; i++) {
		text[i] = text[i] >= 0x20 && text[i] < 0x7f ? text[i] : '?';
	}
	if (code == COAP_RESPONSE_CODE(205) && strcmp(text, "active") == 0) {
		ntm_log_info("recipe %s: %s confirmed it", in->name, in->devs[in->asking]);
		in->confirmed[in->asking] = true;
		in->next_ms = 0;
		ask(a, in);
	} else if (code == COAP_RESPONSE_CODE(205) && strncmp(text, "refused", 7) == 0) {
		snprintf(why, sizeof(why), "%.64s %.180s", in->devs[in->asking], text);
		set_state(a, in, RCP_INST_REFUSED, why);
	} else {
		/* Not delivered there yet (4.04), still verifying, or busy: asked again. */
		ntm_log_debug("recipe %s: %s answered %u.%02u %s", in->name, in->devs[in->asking],
			      code >> 5, code & 31, text);
	}
	return true;
}

bool rcp_agent_install_nack(struct rcp_agent *a, const coap_pdu_t *sent)
{
	struct installed *in = sent != NULL ? by_token(a, coap_pdu_get_token(sent)) : NULL;

	if (in == NULL) {
		return false;
	}
	in->inflight = false;
	in->next_ms = uv_now(a->loop) + VERIFY_RETRY_MS;
	return true;
}

/* ---------------------------------------------------------------- start and stop */

static int load_row(const struct rcp_rstore_row *row, void *arg)
{
	struct rcp_agent *a = arg;
	char why[160];
	struct rcp_recipe *r;
	struct installed *in;
	int rc = parse_one(row->text, strlen(row->text), &r, why, sizeof(why));

	if (rc < 0) {
		ntm_log_err("installed recipe %s: %s; ignored", row->name, why);
		return rc == -ENOMEM ? rc : 0;
	}
	in = add(a, r, row->text);
	if (in == NULL) {
		rcp_recipe_free(r);
		return -ENOMEM;
	}
	in->state = row->state;
	snprintf(in->reason, sizeof(in->reason), "%s", row->reason);
	if (in->state == RCP_INST_ACTIVE) {
		engine_add(a, in);
	}
	ntm_log_info("recipe %s: kept from the last run (%s)", in->name,
		     rcp_inst_state_str(in->state));
	return 0;
}

int rcp_agent_install_open(struct rcp_agent *a, char *why, size_t whylen)
{
	int rc = rcp_rstore_open(a->cfg->database, &a->rstore, why, whylen);

	if (rc == 0) {
		rc = rcp_rstore_load(a->rstore, load_row, a);
		if (rc < 0) {
			snprintf(why, whylen, "%s: installed recipes: %s", a->cfg->database,
				 ntm_strerror(rc));
		}
	}
	return rc;
}

void rcp_agent_install_peers(struct rcp_agent *a)
{
	for (struct installed *in = a->inst; in != NULL; in = in->next) {
		collect_devices(a, in);
	}
}

void rcp_agent_install_fini(struct rcp_agent *a)
{
	while (a->inst != NULL) {
		struct installed *in = a->inst;

		a->inst = in->next;
		in->in_engine = false; /* the engine goes with the agent */
		free_installed(a, in);
	}
	a->n_inst = 0;
	rcp_rstore_close(a->rstore);
	a->rstore = NULL;
}

bool rcp_agent_install_authorises(const struct rcp_agent *a, const char *sender,
				  const char *resource)
{
	for (const struct installed *in = a->inst; in != NULL; in = in->next) {
		const struct rcp_recipe *r = in->recipe;
		bool acts = false;

		if (in->state != RCP_INST_ACTIVE) {
			continue;
		}
		for (size_t k = 0; k < r->n_actions; k++) {
			acts |= r->actions[k].kind == RCP_ACT_DO &&
				strcasecmp(r->actions[k].target, resource) == 0;
		}
		if (acts && rcp_agent_cond_reads_host(r->when, sender)) {
			return true;
		}
	}
	return false;
}
