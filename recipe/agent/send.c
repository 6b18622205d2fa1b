/* SPDX-License-Identifier: MIT */
/*
 * Delivery of fired actions (at least once). Each fired "do" becomes a
 * confirmable POST to the action device's resource, carrying the
 * idempotency key "FQDN/RECIPE/SEQ/INDEX". libcoap retransmits one attempt
 * (ACK timeout 1 s, 4 retransmissions); when it gives up, the request is
 * sent again, with the same key, every RCP_AGENT_RETRY_MS until it is
 * answered or ActionDeadline passes, which is reported as a failure. Any
 * answer ends the delivery: 2.xx is the acknowledgement of a done action,
 * 4.03 a refusal (the action device's policy or authorisation), anything
 * else a failure; all are logged with the device's reason. A late answer to
 * an attempt after the deadline is ignored.
 *
 * An action for this device itself runs at once through the same
 * idempotent path, without CoAP. Requests live in memory: a restart of the
 * sender abandons the ones in flight (a durable outbox comes with the TTL
 * queue for sleeping devices).
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/agent/actreq.h"
#include "recipe/agent/agent_internal.h"

static struct outgoing *find_token(struct rcp_agent *a, const coap_pdu_t *pdu)
{
	coap_bin_const_t tok = coap_pdu_get_token(pdu);

	for (struct outgoing *o = a->out; o != NULL; o = o->next) {
		if (tok.length == RCP_AGENT_TOKEN_LEN &&
		    memcmp(tok.s, o->token, RCP_AGENT_TOKEN_LEN) == 0) {
			return o;
		}
	}
	return NULL;
}

static void unlink_free(struct rcp_agent *a, struct outgoing *o)
{
	for (struct outgoing **pp = &a->out; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	}
	ntm_free(o->payload);
	ntm_free(o);
}

static coap_session_t *session_for(struct rcp_agent *a, const struct rcp_peer_conf *peer)
{
	size_t i = (size_t)(peer - a->cfg->peers);
	coap_address_t dst, local;
	coap_session_t *s;

	if (a->sessions[i] != NULL) {
		return a->sessions[i];
	}
	coap_address_init(&dst);
	dst.size = peer->addr.len;
	memcpy(&dst.addr, &peer->addr.ss, peer->addr.len);
	/*
	 * From the Listen address (any port), so that the action device sees
	 * the address its [Peer] names; a wildcard Listen leaves it to routing.
	 */
	coap_address_init(&local);
	local.size = a->cfg->listen.len;
	memcpy(&local.addr, &a->cfg->listen.ss, a->cfg->listen.len);
	if (local.addr.sa.sa_family == AF_INET) {
		local.addr.sin.sin_port = 0;
	} else {
		local.addr.sin6.sin6_port = 0;
	}
	s = coap_new_client_session(a->coap, coap_address_isany(&local) ? NULL : &local, &dst,
				    COAP_PROTO_UDP);
	if (s != NULL) {
		coap_session_set_ack_timeout(s, (coap_fixed_point_t){ 1, 0 });
		coap_session_set_max_retransmit(s, 4);
		a->sessions[i] = s;
	}
	return s;
}

static int add_path(coap_pdu_t *pdu, const char *path)
{
	while (*path != '\0') {
		const char *end = strchr(path, '/');
		size_t n = end != NULL ? (size_t)(end - path) : strlen(path);

		if (coap_add_option(pdu, COAP_OPTION_URI_PATH, n, (const uint8_t *)path) == 0) {
			return -EMSGSIZE;
		}
		path += n + (end != NULL ? 1 : 0);
	}
	return 0;
}

static void transmit(struct rcp_agent *a, struct outgoing *o)
{
	coap_session_t *s = session_for(a, o->peer);
	uint8_t fmt[4];
	coap_pdu_t *pdu;

	o->attempts++;
	o->inflight = false;
	o->retry_ms = uv_now(a->loop) + RCP_AGENT_RETRY_MS;
	pdu = s != NULL ? coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST,
					coap_new_message_id(s), coap_session_max_pdu_size(s)) :
			  NULL;
	if (pdu == NULL) {
		ntm_log_warn("action %s: cannot build a request (will retry)", o->key);
		return;
	}
	if (coap_add_token(pdu, RCP_AGENT_TOKEN_LEN, o->token) == 0 ||
	    add_path(pdu, strchr(o->target, '/') + 1) < 0 ||
	    coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT,
			    coap_encode_var_safe(fmt, sizeof(fmt), COAP_MEDIATYPE_APPLICATION_JSON),
			    fmt) == 0 ||
	    coap_add_data(pdu, o->len, (const uint8_t *)o->payload) == 0) {
		coap_delete_pdu(pdu);
		ntm_log_err("action %s: the request does not fit one CoAP message", o->key);
		return;
	}
	if (coap_send(s, pdu) == COAP_INVALID_MID) {
		ntm_log_warn("action %s: send failed (will retry)", o->key);
		return;
	}
	o->inflight = true;
	rcp_coapio_kick(a->io);
}

/* The decision of the action device, in its own words (printable ASCII only). */
static void answer_text(const coap_pdu_t *pdu, char *out, size_t cap)
{
	const uint8_t *data = NULL;
	size_t len = 0, k = 0;

	(void)coap_get_data(pdu, &len, &data);
	for (size_t i = 0; i < len && k + 1 < cap; i++) {
		out[k++] = (data[i] >= 0x20 && data[i] < 0x7f) ? (char)data[i] : '?';
	}
	out[k] = '\0';
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
				   const coap_pdu_t *received, const coap_mid_t mid)
{
	struct rcp_agent *a = coap_get_app_data(coap_session_get_context(session));
	struct outgoing *o = find_token(a, received);
	unsigned code = coap_pdu_get_code(received);
	char text[RCP_IDEM_RESULT_MAX + 1];
	uint64_t ms;

	if (o == NULL) {
		return COAP_RESPONSE_OK;
	}
	answer_text(received, text, sizeof(text));
	ms = uv_now(a->loop) - o->fired_ms;
	if (code >> 5 == 2) {
		ntm_log_info("action %s on %s: acknowledged %u.%02u after %llu ms, %u attempt(s): %s",
			     o->key, o->target, code >> 5, code & 31, (unsigned long long)ms,
			     o->attempts, text);
	} else if (code == COAP_RESPONSE_CODE(403)) {
		ntm_log_warn("action %s on %s: refused by the device (%u.%02u): %s", o->key,
			     o->target, code >> 5, code & 31, text);
	} else {
		ntm_log_err("action %s on %s: failed (%u.%02u): %s", o->key, o->target, code >> 5,
			    code & 31, text);
	}
	unlink_free(a, o);
	return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent,
		    const coap_nack_reason_t reason, const coap_mid_t mid)
{
	struct rcp_agent *a = coap_get_app_data(coap_session_get_context(session));
	struct outgoing *o = sent != NULL ? find_token(a, sent) : NULL;

	if (o != NULL) {
		/* The sweep sends it again, with the same key, until the deadline. */
		o->inflight = false;
		o->retry_ms = uv_now(a->loop) + RCP_AGENT_RETRY_MS;
		ntm_log_info("action %s on %s: no answer to attempt %u (reason %d), retrying",
			     o->key, o->target, o->attempts, (int)reason);
	}
}

int rcp_agent_send_init(struct rcp_agent *a)
{
	a->sessions = ntm_calloc(a->cfg->n_peers > 0 ? a->cfg->n_peers : 1, sizeof(*a->sessions));
	if (a->sessions == NULL) {
		return -ENOMEM;
	}
	coap_register_response_handler(a->coap, on_response);
	coap_register_nack_handler(a->coap, on_nack);
	return 0;
}

static void run_local(struct rcp_agent *a, const char *key, const struct rcp_action *act)
{
	char result[RCP_IDEM_RESULT_MAX + 1];
	unsigned code;

	rcp_agent_perform(a, a->cfg->fqdn, key, act, &code, result, sizeof(result));
}

static int make_outgoing(struct rcp_agent *a, const char *key, const struct rcp_action *act,
			 const struct rcp_peer_conf *peer, struct outgoing **out)
{
	struct outgoing *o = ntm_calloc(1, sizeof(*o));
	uint64_t t = ++a->next_token;
	int rc;

	*out = NULL;
	if (o == NULL) {
		return -ENOMEM;
	}
	rc = rcp_actreq_encode(key, act, &o->payload, &o->len);
	if (rc < 0) {
		ntm_free(o);
		return rc;
	}
	snprintf(o->key, sizeof(o->key), "%s", key);
	snprintf(o->target, sizeof(o->target), "%s", act->target);
	o->peer = peer;
	randombytes_buf(o->token, 4);
	memcpy(o->token + 4, &t, 4);
	o->fired_ms = uv_now(a->loop);
	o->deadline_ms = o->fired_ms + (uint64_t)a->cfg->deadline_s * 1000;
	*out = o;
	return 0;
}

void rcp_agent_send_action(struct rcp_agent *a, const char *key, const struct rcp_action *act)
{
	char host[RCP_FQDN_MAX + 1];
	const char *slash = strchr(act->target, '/');
	const struct rcp_peer_conf *peer;
	struct outgoing *o;
	int rc;

	snprintf(host, sizeof(host), "%.*s", (int)(slash - act->target), act->target);
	if (strcmp(host, a->cfg->fqdn) == 0) {
		run_local(a, key, act);
		return;
	}
	peer = rcp_agent_config_peer_by_fqdn(a->cfg, host);
	if (peer == NULL) {
		ntm_log_err("action %s on %s: failed: no [Peer] gives the address of %s", key,
			    act->target, host);
		return;
	}
	rc = make_outgoing(a, key, act, peer, &o);
	if (rc < 0) {
		ntm_log_err("action %s on %s: failed: %s", key, act->target, ntm_strerror(rc));
		return;
	}
	o->next = a->out;
	a->out = o;
	transmit(a, o);
}

void rcp_agent_send_sweep(struct rcp_agent *a)
{
	uint64_t now = uv_now(a->loop);
	struct outgoing *o = a->out, *next;

	for (; o != NULL; o = next) {
		next = o->next;
		if (now >= o->deadline_ms) {
			ntm_log_err("action %s on %s: failed: not acknowledged within %u s "
				    "(%u attempts)",
				    o->key, o->target, a->cfg->deadline_s, o->attempts);
			unlink_free(a, o);
		} else if (!o->inflight && now >= o->retry_ms) {
			transmit(a, o);
		}
	}
}

void rcp_agent_send_fini(struct rcp_agent *a)
{
	while (a->out != NULL) {
		ntm_log_warn("action %s on %s: abandoned at shutdown", a->out->key, a->out->target);
		unlink_free(a, a->out);
	}
}
