/* SPDX-License-Identifier: MIT */
/*
 * The agent's CoAP server: every point is a resource named by its Name
 * (GET, observable; text/plain), every action also takes a confirmable POST
 * (actreq.h), and libcoap lists them all at /.well-known/core (RFC 6690)
 * with if="sensor" or if="actuator" and rt="ntm.TYPE".
 *
 * An action request is accepted only from a device one of this agent's
 * recipes names, in a recipe that acts on this resource. The sender is
 * known by the address the datagram came from, never by what it says: the
 * [Peer] with that Address, or with NodeSocket the FQDN the node's `whois`
 * gives for that VIP (the tunnel authenticated it). While a whois is in
 * flight the request is held (whowait.c) and handled when it ends; when
 * it cannot be held it is answered 5.03, which the sending agent retries.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/agent/actreq.h"
#include "recipe/agent/agent_internal.h"
#include "recipe/agent/driver.h"

static const char *const type_rt[] = {
	[RCP_POINT_NUMBER] = "\"ntm.number\"",
	[RCP_POINT_BOOLEAN] = "\"ntm.boolean\"",
	[RCP_POINT_ENUM] = "\"ntm.enum\"",
};

static void reply(coap_pdu_t *response, unsigned code, unsigned format, const char *text)
{
	uint8_t buf[4];

	coap_pdu_set_code(response, (coap_pdu_code_t)code);
	if (text != NULL && text[0] != '\0') {
		coap_add_option(response, COAP_OPTION_CONTENT_FORMAT,
				coap_encode_var_safe(buf, sizeof(buf), format), buf);
		coap_add_data(response, strlen(text), (const uint8_t *)text);
	}
}

void rcp_agent_reply(coap_pdu_t *response, unsigned code, const char *text)
{
	reply(response, code, COAP_MEDIATYPE_TEXT_PLAIN, text);
}

/* 5.03 with Max-Age 0 (RFC 7252 5.9.3.4): ask again at once; options in order. */
void rcp_agent_retry_soon(coap_pdu_t *response, const char *text)
{
	uint8_t buf[4];

	coap_pdu_set_code(response, COAP_RESPONSE_CODE(503));
	coap_add_option(response, COAP_OPTION_CONTENT_FORMAT,
			coap_encode_var_safe(buf, sizeof(buf), COAP_MEDIATYPE_TEXT_PLAIN), buf);
	coap_add_option(response, COAP_OPTION_MAXAGE, 0, NULL);
	coap_add_data(response, strlen(text), (const uint8_t *)text);
}

static void on_get(coap_resource_t *res, coap_session_t *session, const coap_pdu_t *request,
		   const coap_string_t *query, coap_pdu_t *response)
{
	struct point *p = coap_resource_get_userdata(res);
	char text[RCP_VALUE_TEXT_MAX];

	if (p->value.type == RCP_VAL_NONE) {
		reply(response, COAP_RESPONSE_CODE(503), COAP_MEDIATYPE_TEXT_PLAIN,
		      "no reading yet");
		return;
	}
	if (rcp_value_format(&p->value, text, sizeof(text)) < 0) {
		reply(response, COAP_RESPONSE_CODE(500), COAP_MEDIATYPE_TEXT_PLAIN, NULL);
		return;
	}
	reply(response, COAP_RESPONSE_CODE(205), COAP_MEDIATYPE_TEXT_PLAIN, text);
}

/* ---------------------------------------------------------------- actions */

static bool recipe_names(const struct rcp_cond *c, const char *fqdn)
{
	size_t n = strlen(fqdn);

	if (c->kind == RCP_COND_CMP) {
		return strncmp(c->resource, fqdn, n) == 0 && c->resource[n] == '/';
	}
	for (size_t i = 0; i < c->n_kids; i++) {
		if (recipe_names(c->kids[i], fqdn)) {
			return true;
		}
	}
	return false;
}

/* Some recipe reads `sender`'s resources and acts on `resource`. */
static bool is_authorised(const struct rcp_agent *a, const char *sender, const char *resource)
{
	for (size_t i = 0; i < a->recipes->n; i++) {
		const struct rcp_recipe *r = a->recipes->recipes[i];
		bool acts = false;

		for (size_t k = 0; k < r->n_actions; k++) {
			acts |= r->actions[k].kind == RCP_ACT_DO &&
				strcmp(r->actions[k].target, resource) == 0;
		}
		if (acts && recipe_names(r->when, sender)) {
			return true;
		}
	}
	return rcp_agent_install_authorises(a, sender, resource);
}

/* The separate response of an action whose program has ended. */
static void answer_waited(struct rcp_agent *a, coap_session_t *session, const coap_pdu_t *request,
			  coap_pdu_t *response)
{
	char result[RCP_IDEM_RESULT_MAX + 1];
	unsigned code;
	int rc = rcp_agent_polcheck_answer(a, session, request, &code, result, sizeof(result));

	if (rc == 0) {
		return; /* a retransmission while the policy's readings are fetched */
	}
	if (rc < 0 && !rcp_agent_job_answer(a, session, request, &code, result, sizeof(result))) {
		code = COAP_RESPONSE_CODE(500);
		snprintf(result, sizeof(result), "failed: the answer was lost; retry the key");
	}
	reply(response, code, COAP_MEDIATYPE_TEXT_PLAIN, result);
	/*
	 * Not coap_free_async(): libcoap 4.3.1 frees a fired async itself
	 * after this handler returns (coap_check_async).
	 */
}

/*
 * The sender's FQDN into name: 0 (name "" when unknown), or -EAGAIN when
 * the node is being asked.
 */
int rcp_agent_sender_of(struct rcp_agent *a, coap_session_t *session, char name[RCP_FQDN_MAX + 1])
{
	const coap_address_t *ra = coap_session_get_addr_remote(session);
	const struct rcp_peer_conf *peer;
	int rc;

	name[0] = '\0';
	if (ra == NULL) {
		return 0;
	}
	if (a->ns == NULL) {
		peer = rcp_agent_config_peer_by_ip(a->cfg, &ra->addr.sa);
		snprintf(name, RCP_FQDN_MAX + 1, "%s", peer != NULL ? peer->fqdn : "");
		return 0;
	}
	rc = rcp_agent_overlay_sender(a, &ra->addr.sa, name);
	if (rc == -EAGAIN || rc == -EBUSY) {
		return -EAGAIN;
	}
	if (rc < 0) {
		name[0] = '\0';
	}
	return 0;
}

/* The request is not from a device a recipe names: refused, logged, counted. */
static void refuse(struct rcp_agent *a, coap_session_t *session, const char *resource,
		   const char *sender, coap_pdu_t *response)
{
	const coap_address_t *ra = coap_session_get_addr_remote(session);
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ra != NULL && rcp_nodesock_ip_text(&ra->addr.sa, ip, sizeof(ip)) < 0) {
		snprintf(ip, sizeof(ip), "?");
	}
	a->stats.unauthorised++;
	ntm_log_ratelimited(&a->rl, uv_now(a->loop), NTM_LOG_WARN,
			    "action on %s from %s (%s) refused: no recipe names that device",
			    resource, sender[0] != '\0' ? sender : "an unknown device", ip);
	reply(response, COAP_RESPONSE_CODE(403), COAP_MEDIATYPE_TEXT_PLAIN,
	      "refused: no recipe names the sender");
}

/*
 * The policy needs other devices' readings first (polfetch.c): true when
 * the request waits for them (no code: an empty ACK, the answer follows)
 * or was answered 5.03 (the sender retries; the readings are fetched
 * meanwhile and the retry gets the recorded result).
 */
static bool wait_inputs(struct rcp_agent *a, const char *sender, const struct rcp_actreq *req,
			coap_session_t *session, const coap_pdu_t *request, bool again,
			coap_pdu_t *response)
{
	struct polcheck *pc = rcp_agent_polcheck_find(a, req->key);
	int rc;

	if (pc != NULL) {
		rcp_agent_retry_soon(response, "in progress: reading the policy's inputs");
		return true;
	}
	rc = rcp_agent_polcheck_start(a, sender, req->key, &req->action, &pc);
	if (rc == -ENOENT) {
		return false;
	}
	if (rc < 0) {
		rcp_agent_retry_soon(response, "busy: out of memory");
		return true;
	}
	/* A held request's async is still registered: its sender retries. */
	if (again || !rcp_agent_polcheck_wait(pc, session, request)) {
		rcp_agent_retry_soon(response, "in progress: reading the policy's inputs");
	}
	return true;
}

/*
 * An action request, first seen (again false) or handled again after its
 * sender's whois (again true; data is the kept payload).
 */
static void handle_post(struct point *p, coap_session_t *session, const coap_pdu_t *request,
			const uint8_t *data, size_t len, bool again, coap_pdu_t *response)
{
	struct rcp_agent *a = p->agent;
	char why[RCP_ACTREQ_WHY_MAX], result[RCP_IDEM_RESULT_MAX + 1];
	char sender[RCP_FQDN_MAX + 1];
	struct rcp_actreq req;
	struct job *job;
	bool waits = false;
	unsigned code;

	if (rcp_agent_sender_of(a, session, sender) == -EAGAIN) {
		/* Held: an empty ACK now, the answer once the node has told who it is. */
		if (!again && rcp_agent_whowait_hold(a, session, request)) {
			return;
		}
		rcp_agent_retry_soon(response, "busy: identifying the sender");
		return;
	}
	if (sender[0] == '\0' || !is_authorised(a, sender, p->resource)) {
		refuse(a, session, p->resource, sender, response);
		return;
	}
	if (rcp_actreq_decode(data, len, &req, why, sizeof(why)) < 0) {
		ntm_log_ratelimited(&a->rl, uv_now(a->loop), NTM_LOG_DEBUG,
				    "action on %s from %s: bad request: %s", p->resource, sender,
				    why);
		reply(response, COAP_RESPONSE_CODE(400), COAP_MEDIATYPE_TEXT_PLAIN, why);
		return;
	}
	req.action.target = p->resource; /* borrowed for the call; not freed below */
	if (wait_inputs(a, sender, &req, session, request, again, response)) {
		req.action.target = NULL;
		rcp_actreq_fini(&req);
		return;
	}
	if (rcp_agent_perform(a, sender, req.key, &req.action, NULL, &code, result, sizeof(result),
			      &job) == -EINPROGRESS) {
		code = COAP_RESPONSE_CODE(503);
		snprintf(result, sizeof(result), "in progress: the program is still running");
		/* Also a request held for the whois: answered when the program ends. */
		waits = rcp_agent_job_wait(job, session, request, response);
	}
	req.action.target = NULL;
	rcp_actreq_fini(&req);
	if (!waits) {
		reply(response, code, COAP_MEDIATYPE_TEXT_PLAIN, result);
	}
	/* else no code: libcoap sends an empty ACK, the answer follows (RFC 7252 5.2.2) */
}

static void on_post(coap_resource_t *res, coap_session_t *session, const coap_pdu_t *request,
		    const coap_string_t *query, coap_pdu_t *response)
{
	struct point *p = coap_resource_get_userdata(res);
	const uint8_t *data = NULL;
	uint8_t *kept = NULL;
	size_t len = 0;
	int rc;

	/*
	 * libcoap's re-call for a request accepted earlier (an async exists
	 * only for those, on this session: the same source address) is
	 * answered first: a whois cache that expired meanwhile must not turn
	 * the program's result into a 5.03.
	 */
	if (coap_find_async(session, coap_pdu_get_token(request)) != NULL) {
		rc = rcp_agent_whowait_take(p->agent, session, request, &kept, &len);
		if (rc == -EBUSY) {
			return; /* a retransmission of a request still held: empty ACK again */
		}
		if (rc < 0) {
			answer_waited(p->agent, session, request, response);
			return;
		}
		handle_post(p, session, request, kept, len, true, response);
		ntm_free(kept);
		return;
	}
	(void)coap_get_data(request, &len, &data);
	handle_post(p, session, request, data, len, false, response);
}

/* ---------------------------------------------------------------- setup */

static int add_attr(coap_resource_t *r, const char *name, const char *value)
{
	coap_str_const_t *n = coap_new_str_const((const uint8_t *)name, strlen(name));
	coap_str_const_t *v = coap_new_str_const((const uint8_t *)value, strlen(value));

	if (n == NULL || v == NULL ||
	    coap_add_attr(r, n, v, COAP_ATTR_FLAGS_RELEASE_NAME | COAP_ATTR_FLAGS_RELEASE_VALUE) ==
		    NULL) {
		return -ENOMEM;
	}
	return 0;
}

static int add_resource(struct rcp_agent *a, struct point *p)
{
	const char *name = p->conf->name;
	coap_str_const_t *uri = coap_new_str_const((const uint8_t *)name, strlen(name));
	bool action = p->conf->kind == RCP_POINT_ACTION;

	p->res = uri != NULL ? coap_resource_init(uri, COAP_RESOURCE_FLAGS_RELEASE_URI) : NULL;
	if (p->res == NULL) {
		return -ENOMEM;
	}
	coap_resource_set_userdata(p->res, p);
	coap_register_request_handler(p->res, COAP_REQUEST_GET, on_get);
	if (action) {
		coap_register_request_handler(p->res, COAP_REQUEST_POST, on_post);
	}
	coap_resource_set_get_observable(p->res, 1);
	coap_add_resource(a->coap, p->res);
	if (add_attr(p->res, "if", action ? "\"actuator\"" : "\"sensor\"") < 0 ||
	    add_attr(p->res, "rt", type_rt[p->conf->type]) < 0 || add_attr(p->res, "ct", "0") < 0) {
		return -ENOMEM;
	}
	return 0;
}

int rcp_agent_serve_init(struct rcp_agent *a, char *why, size_t whylen)
{
	coap_address_t listen;
	char addr[NTM_ADDR_STRLEN];

	a->coap = coap_new_context(NULL);
	if (a->coap == NULL) {
		snprintf(why, whylen, "coap: cannot create a context");
		return -ENOMEM;
	}
	coap_set_app_data(a->coap, a);
	coap_address_init(&listen);
	listen.size = a->cfg->listen.len;
	memcpy(&listen.addr, &a->cfg->listen.ss, a->cfg->listen.len);
	if (coap_new_endpoint(a->coap, &listen, COAP_PROTO_UDP) == NULL) {
		if (ntm_addr_format(&a->cfg->listen, addr, sizeof(addr)) < 0) {
			addr[0] = '\0';
		}
		snprintf(why, whylen, "coap: cannot listen on %s", addr);
		return -EADDRNOTAVAIL;
	}
	if (rcp_agent_install_serve(a) < 0) {
		snprintf(why, whylen, "coap: out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < a->n_points; i++) {
		if (add_resource(a, &a->points[i]) < 0) {
			snprintf(why, whylen, "coap: out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

void rcp_agent_serve_changed(struct rcp_agent *a, struct point *p)
{
	if (p->res != NULL) {
		coap_resource_notify_observers(p->res, NULL);
		rcp_coapio_kick(a->io);
	}
}
