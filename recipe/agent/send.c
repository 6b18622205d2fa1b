/* SPDX-License-Identifier: MIT */
/*
 * Delivery of fired actions (at least once). Each fired "do" becomes a
 * confirmable POST to the action device's resource, carrying the
 * idempotency key "FQDN/RECIPE/SEQ/INDEX". The request is written to the
 * outbox (outbox.h, committed) by a pool thread (obwriter.h) while its
 * first transmission goes out, so the disk sync overlaps the round trip;
 * an answer that comes first waits for the write, and only then is the
 * request acknowledged, so a crash before that leaves it to the outbox (or
 * unacknowledged), and a restart of this agent sends it again. It leaves
 * the outbox when the device answers or its TTL (ActionDeadline, per
 * [Peer] or for the agent) passes.
 *
 * libcoap retransmits one attempt (ACK timeout 1 s, 4 retransmissions);
 * when it gives up, the request is sent again with the same key after a
 * pause that starts at RCP_AGENT_RETRY_MS and doubles up to
 * RCP_AGENT_RETRY_MAX_MS, so a device that sleeps or is offline gets it
 * when it is back within the TTL. An answer ends the delivery: 2.xx is the
 * acknowledgement of a done action, 4.03 a refusal (the action device's
 * policy or authorisation), 5.03 "busy" (its program still runs, or it
 * could not record the key) asks for a retry, anything else is a failure;
 * all are logged with the device's reason and counted (ntmctl status). A
 * late answer after the TTL is ignored.
 *
 * An action for this device itself runs at once through the same
 * idempotent path, without CoAP or outbox.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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
			a->n_out--;
			break;
		}
	}
	ntm_free(o->payload);
	ntm_free(o);
}

/* The delivery is over (answered or expired): out of the outbox, then out of memory. */
static void finish(struct rcp_agent *a, struct outgoing *o)
{
	int rc = rcp_outbox_remove(a->outbox, o->key);

	if (rc < 0 && rc != -ENOENT) {
		ntm_log_err("action %s: cannot remove it from the outbox: %s", o->key,
			    ntm_strerror(rc));
	}
	unlink_free(a, o);
}

/* Wall-clock seconds: the TTL must survive a restart, unlike uv_now(). */
static int64_t wall_s(void)
{
	return (int64_t)time(NULL);
}

static uint32_t ttl_of(const struct rcp_agent *a, const struct peer *peer)
{
	return peer->conf.deadline_s != 0 ? peer->conf.deadline_s : a->cfg->deadline_s;
}

/* The next pause after a failed attempt: doubling, capped. */
static void back_off(struct rcp_agent *a, struct outgoing *o)
{
	o->inflight = false;
	o->retry_ms = uv_now(a->loop) + o->backoff_ms;
	o->backoff_ms = o->backoff_ms * 2 > RCP_AGENT_RETRY_MAX_MS ? RCP_AGENT_RETRY_MAX_MS
								   : o->backoff_ms * 2;
}

coap_session_t *rcp_agent_peer_session(struct rcp_agent *a, struct peer *peer)
{
	coap_address_t dst, local;
	coap_session_t *s;

	if (peer->session != NULL) {
		return peer->session;
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
		peer->session = s;
	}
	return s;
}

int rcp_agent_add_path(coap_pdu_t *pdu, const char *path)
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
	uint8_t fmt[4];
	coap_session_t *s;
	coap_pdu_t *pdu;

	if (!rcp_agent_send_ready(a, o->peer)) {
		/* Not an attempt: sent when the resolve ends, or at the sweep after a failure. */
		o->retry_ms = uv_now(a->loop) + RCP_AGENT_RETRY_MS;
		return;
	}
	s = rcp_agent_peer_session(a, o->peer);
	o->attempts++;
	a->stats.sent++;
	o->sent_ms = uv_now(a->loop);
	back_off(a, o);
	pdu = s != NULL ? coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_POST,
					coap_new_message_id(s), coap_session_max_pdu_size(s))
			: NULL;
	if (pdu == NULL) {
		ntm_log_warn("action %s: cannot build a request (will retry)", o->key);
		return;
	}
	if (coap_add_token(pdu, RCP_AGENT_TOKEN_LEN, o->token) == 0 ||
	    rcp_agent_add_path(pdu, strchr(o->target, '/') + 1) < 0 ||
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

/* The time is counted from the firing, or from the reload after a restart. */
static void log_answer(struct rcp_agent *a, struct outgoing *o, unsigned code, const char *text)
{
	if (code >> 5 == 2) {
		a->stats.acknowledged++;
		a->stats.acked_first += o->attempts == 1 ? 1 : 0;
		ntm_log_debug("timing: %s acknowledged at %llu us", o->key,
			      (unsigned long long)(uv_hrtime() / 1000));
		ntm_log_info(
			"action %s on %s: acknowledged %u.%02u after %llu ms, %u attempt(s): %s",
			o->key, o->target, code >> 5, code & 31,
			(unsigned long long)(uv_now(a->loop) - o->queued_ms), o->attempts, text);
	} else if (code == COAP_RESPONSE_CODE(403)) {
		a->stats.refused++;
		ntm_log_warn("action %s on %s: refused by the device (%u.%02u): %s", o->key,
			     o->target, code >> 5, code & 31, text);
	} else {
		a->stats.failed++;
		ntm_log_err("action %s on %s: failed (%u.%02u): %s", o->key, o->target, code >> 5,
			    code & 31, text);
	}
}

/* A 5.03's Max-Age (RFC 7252 5.9.3.4: when to retry), or -1 without one. */
static long max_age_s(const coap_pdu_t *pdu)
{
	coap_opt_iterator_t it;
	coap_opt_t *opt = coap_check_option(pdu, COAP_OPTION_MAXAGE, &it);

	if (opt == NULL) {
		return -1;
	}
	return (long)coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt));
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
				   const coap_pdu_t *received, const coap_mid_t mid)
{
	struct rcp_agent *a = coap_get_app_data(coap_session_get_context(session));
	struct outgoing *o = find_token(a, received);
	unsigned code = coap_pdu_get_code(received);
	char text[RCP_IDEM_RESULT_MAX + 1];

	if (o == NULL &&
	    (rcp_agent_install_response(a, received) || rcp_agent_polcheck_response(a, received))) {
		return COAP_RESPONSE_OK;
	}
	if (o == NULL || code == 0) {
		return COAP_RESPONSE_OK; /* unknown, or the empty ACK before a separate answer */
	}
	answer_text(received, text, sizeof(text));
	if (code == COAP_RESPONSE_CODE(503)) {
		ntm_log_info("action %s on %s: device busy (%s), retrying", o->key, o->target,
			     text);
		o->inflight = false; /* the retry time transmit() set stands, */
		if (max_age_s(received) == 0) {
			/* unless the device asks to retry at once: the next sweep. */
			o->retry_ms = uv_now(a->loop);
		}
		return COAP_RESPONSE_OK;
	}
	if (!o->stored) {
		/* Before the outbox write ended: acknowledged once it is on disk. */
		o->inflight = false;
		o->answered = true;
		o->answer_code = code;
		snprintf(o->answer, sizeof(o->answer), "%s", text);
		return COAP_RESPONSE_OK;
	}
	log_answer(a, o, code, text);
	finish(a, o);
	return COAP_RESPONSE_OK;
}

void rcp_agent_send_stored(const char *key, int rc, void *arg)
{
	struct rcp_agent *a = arg;
	struct outgoing *o = a->out;

	while (o != NULL && strcmp(o->key, key) != 0) {
		o = o->next;
	}
	if (rc < 0) {
		/* Still delivered from memory; only a restart of this agent would lose it. */
		ntm_log_err("action %s: cannot store it in the outbox (%s); sending anyway", key,
			    ntm_strerror(rc));
	}
	if (o == NULL) {
		return;
	}
	o->stored = true;
	if (o->answered) {
		log_answer(a, o, o->answer_code, o->answer);
		finish(a, o);
	}
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent,
		    const coap_nack_reason_t reason, const coap_mid_t mid)
{
	struct rcp_agent *a = coap_get_app_data(coap_session_get_context(session));
	struct outgoing *o = sent != NULL ? find_token(a, sent) : NULL;

	if (o == NULL && (rcp_agent_install_nack(a, sent) || rcp_agent_polcheck_nack(a, sent))) {
		return;
	}
	if (o != NULL && o->inflight && o->peer->conf.addr.len == 0 &&
	    o->peer->session == session) {
		/* Its VIP may have changed (the node re-enrolled): resolved again first. */
		o->peer->addr_expires_ms = uv_now(a->loop);
	}
	if (o != NULL && o->inflight) { /* ICMP errors may nack one attempt twice */
		/* The sweep sends it again, with the same key, until the TTL passes. */
		o->inflight = false;
		o->retry_ms = uv_now(a->loop) + o->backoff_ms / 2;
		ntm_log_info("action %s on %s: no answer to attempt %u (reason %d), retrying "
			     "in %llu ms",
			     o->key, o->target, o->attempts, (int)reason,
			     (unsigned long long)(o->backoff_ms / 2));
	}
}

/* Here too the policy may need other devices' readings first (polfetch.c). */
static void run_local(struct rcp_agent *a, const char *key, const struct rcp_action *act)
{
	char result[RCP_IDEM_RESULT_MAX + 1];
	struct polcheck *pc;
	struct job *job;
	unsigned code;

	if (rcp_agent_polcheck_start(a, a->cfg->fqdn, key, act, &pc) == 0) {
		return;
	}
	(void)rcp_agent_perform(a, a->cfg->fqdn, key, act, NULL, &code, result, sizeof(result),
				&job);
}

/* A new outgoing request for target (payload owned by o from now on). */
static struct outgoing *new_outgoing(struct rcp_agent *a, const char *key, const char *target,
				     struct peer *peer)
{
	struct outgoing *o = ntm_calloc(1, sizeof(*o));
	uint32_t t = (uint32_t)++a->next_token;

	if (o == NULL) {
		return NULL;
	}
	snprintf(o->key, sizeof(o->key), "%s", key);
	snprintf(o->target, sizeof(o->target), "%s", target);
	o->peer = peer;
	randombytes_buf(o->token, 4);
	memcpy(o->token + 4, &t, 4);
	o->queued_ms = uv_now(a->loop);
	o->retry_ms = o->queued_ms;
	o->backoff_ms = RCP_AGENT_RETRY_MS;
	return o;
}

static void enqueue(struct rcp_agent *a, struct outgoing *o)
{
	struct outgoing **pp = &a->out;

	while (*pp != NULL) {
		pp = &(*pp)->next; /* oldest first, as they were fired */
	}
	*pp = o;
	a->n_out++;
}

struct peer *rcp_agent_peer_by_host(struct rcp_agent *a, const char *fqdn)
{
	for (size_t i = 0; i < a->n_peers; i++) {
		if (strcasecmp(a->peers[i].conf.fqdn, fqdn) == 0) {
			return &a->peers[i];
		}
	}
	return NULL;
}

/* The device part of "fqdn/path" into host; false when there is none. */
static bool host_of(const char *target, char host[RCP_FQDN_MAX + 1])
{
	const char *slash = strchr(target, '/');

	if (slash == NULL || slash == target || (size_t)(slash - target) > RCP_FQDN_MAX) {
		return false;
	}
	snprintf(host, RCP_FQDN_MAX + 1, "%.*s", (int)(slash - target), target);
	return true;
}

static struct peer *peer_of(struct rcp_agent *a, const char *target)
{
	char host[RCP_FQDN_MAX + 1];

	return host_of(target, host) ? rcp_agent_peer_by_host(a, host) : NULL;
}

/* A request stored by an earlier run: queued again with its key and TTL. */
static int reload_one(struct rcp_outbox_entry *e, void *arg)
{
	struct rcp_agent *a = arg;
	struct peer *peer = peer_of(a, e->target);
	struct outgoing *o = peer != NULL ? new_outgoing(a, e->key, e->target, peer) : NULL;

	if (o == NULL) {
		ntm_log_err("action %s on %s: failed: %s", e->key, e->target,
			    peer == NULL ? "no [Peer] or recipe for its device any more; dropped"
					 : "out of memory");
		a->stats.failed++;
		ntm_free(e->payload);
		if (peer == NULL && rcp_outbox_remove(a->outbox, e->key) < 0) {
			ntm_log_err("action %s: cannot remove it from the outbox", e->key);
		}
		return peer == NULL ? 0 : -ENOMEM;
	}
	o->payload = e->payload;
	o->len = e->len;
	o->stored = true;
	o->fired_s = e->fired_s;
	o->expires_s = e->expires_s;
	enqueue(a, o);
	a->stats.reloaded++;
	ntm_log_info("action %s on %s: reloaded from the outbox, %lld s left", o->key, o->target,
		     (long long)(o->expires_s - wall_s()));
	return 0;
}

static int expired_while_stopped(struct rcp_outbox_entry *e, void *arg)
{
	struct rcp_agent *a = arg;

	a->stats.expired++;
	ntm_log_err("action %s on %s: failed: not acknowledged within its TTL "
		    "(expired while the agent was stopped)",
		    e->key, e->target);
	ntm_free(e->payload);
	return 0;
}

void rcp_agent_add_peer(struct rcp_agent *a, const char *target)
{
	size_t cap = a->peers_cap;
	char host[RCP_FQDN_MAX + 1];
	struct peer *p;

	if (a->ns == NULL || !host_of(target, host) || strcasecmp(host, a->cfg->fqdn) == 0 ||
	    rcp_agent_peer_by_host(a, host) != NULL || a->n_peers == cap) {
		return;
	}
	for (size_t i = 0; host[i] != '\0'; i++) {
		host[i] =
			(host[i] >= 'A' && host[i] <= 'Z') ? (char)(host[i] - 'A' + 'a') : host[i];
	}
	p = &a->peers[a->n_peers++];
	snprintf(p->conf.fqdn, sizeof(p->conf.fqdn), "%s", host);
}

/* The devices whose readings the policy reads (polfetch.c), with NodeSocket. */
static void policy_peers(struct rcp_agent *a)
{
	const char *res[RCP_AGENT_POLICY_INPUTS_MAX];
	int n = rcp_policy_inputs(a->policy, NULL, res, RCP_AGENT_POLICY_INPUTS_MAX);

	for (int i = 0; i < (n < 0 ? RCP_AGENT_POLICY_INPUTS_MAX : n); i++) {
		rcp_agent_add_peer(a, res[i]);
	}
}

/*
 * The [Peer]s first (a static Address wins), then, with NodeSocket, every
 * other device named by a "do" of a recipe this device triggers: its
 * address comes from `resolve`.
 */
static int make_peers(struct rcp_agent *a)
{
	size_t cap = a->cfg->n_peers;

	for (size_t i = 0; a->ns != NULL && i < a->recipes->n; i++) {
		cap += a->recipes->recipes[i]->n_actions;
	}
	if (a->ns != NULL) {
		cap += RCP_AGENT_INSTALLED_PEERS + RCP_AGENT_POLICY_INPUTS_MAX;
	}
	a->peers = ntm_calloc(cap > 0 ? cap : 1, sizeof(*a->peers));
	if (a->peers == NULL) {
		return -ENOMEM;
	}
	a->peers_cap = cap;
	for (size_t i = 0; i < a->cfg->n_peers; i++) {
		a->peers[i].conf = a->cfg->peers[i];
		a->peers[i].addr = a->cfg->peers[i].addr;
	}
	a->n_peers = a->cfg->n_peers;
	for (size_t i = 0; a->ns != NULL && i < a->recipes->n; i++) {
		const struct rcp_recipe *r = a->recipes->recipes[i];

		if (!rcp_agent_cond_reads_host(r->when, a->cfg->fqdn)) {
			continue; /* fired elsewhere: this agent never sends its actions */
		}
		for (size_t k = 0; k < r->n_actions; k++) {
			if (r->actions[k].kind == RCP_ACT_DO) {
				rcp_agent_add_peer(a, r->actions[k].target);
			}
		}
	}
	rcp_agent_install_peers(a);
	policy_peers(a);
	if (a->cfg->recipe_server[0] != '\0') {
		char t[RCP_FQDN_MAX + 10];

		snprintf(t, sizeof(t), "%s/recipes", a->cfg->recipe_server);
		rcp_agent_add_peer(a, t);
	}
	return 0;
}

bool rcp_agent_send_ready(struct rcp_agent *a, struct peer *p)
{
	if (p->conf.addr.len != 0) {
		return true; /* a static Address */
	}
	if (p->addr.len != 0 && uv_now(a->loop) < p->addr_expires_ms) {
		return true;
	}
	rcp_agent_overlay_resolve(a, p);
	/* An expired VIP is still used while the node is asked again. */
	return p->addr.len != 0;
}

int rcp_agent_send_init(struct rcp_agent *a, char *why, size_t whylen)
{
	uint64_t n;
	int rc;

	rc = make_peers(a);
	if (rc < 0) {
		snprintf(why, whylen, "out of memory");
		return rc;
	}
	coap_register_response_handler(a->coap, on_response);
	coap_register_nack_handler(a->coap, on_nack);
	rc = rcp_outbox_expire(a->outbox, wall_s(), expired_while_stopped, a, &n);
	if (rc == 0) {
		rc = rcp_outbox_load(a->outbox, reload_one, a);
	}
	if (rc < 0) {
		snprintf(why, whylen, "%s: outbox: %s", a->cfg->database, ntm_strerror(rc));
	}
	return rc;
}

void rcp_agent_send_action(struct rcp_agent *a, const char *key, const struct rcp_action *act,
			   uint32_t ttl_s)
{
	struct peer *peer;
	struct rcp_outbox_entry e;
	struct outgoing *o;
	int rc;

	if (strncmp(act->target, a->cfg->fqdn, strlen(a->cfg->fqdn)) == 0 &&
	    act->target[strlen(a->cfg->fqdn)] == '/') {
		run_local(a, key, act);
		return;
	}
	ntm_log_debug("timing: %s fired at %llu us", key, (unsigned long long)(uv_hrtime() / 1000));
	peer = peer_of(a, act->target);
	if (peer == NULL) {
		a->stats.failed++;
		ntm_log_err("action %s on %s: failed: no [Peer] gives the address of its device%s",
			    key, act->target, a->ns != NULL ? " (nor a recipe)" : "");
		return;
	}
	o = new_outgoing(a, key, act->target, peer);
	rc = o != NULL ? rcp_actreq_encode(key, act, &o->payload, &o->len) : -ENOMEM;
	if (rc < 0) {
		a->stats.failed++;
		ntm_log_err("action %s on %s: failed: %s", key, act->target, ntm_strerror(rc));
		ntm_free(o);
		return;
	}
	o->fired_s = wall_s();
	o->expires_s = o->fired_s + (ttl_s != 0 ? ttl_s : ttl_of(a, peer));
	memset(&e, 0, sizeof(e));
	snprintf(e.key, sizeof(e.key), "%s", o->key);
	snprintf(e.target, sizeof(e.target), "%s", o->target);
	e.payload = o->payload;
	e.len = o->len;
	e.fired_s = o->fired_s;
	e.expires_s = o->expires_s;
	/* The write and the first transmission at once: rcp_agent_send_stored follows. */
	rc = rcp_obwriter_put(a->obw, &e);
	if (rc < 0) {
		/* Still delivered from memory; only a restart of this agent would lose it. */
		ntm_log_err("action %s on %s: cannot store it in the outbox (%s); sending anyway",
			    key, act->target, ntm_strerror(rc));
		o->stored = true;
	}
	enqueue(a, o);
	transmit(a, o);
}

/*
 * An expired request must not leave any more: libcoap may still hold its
 * last attempt for retransmission, and has no call to cancel one message,
 * so the device's session goes (its other requests are nacked and sent
 * again on a new session).
 */
static void drop_session(struct rcp_agent *a, struct peer *peer)
{
	coap_session_t *s = peer->session;

	(void)a;
	if (s != NULL) {
		peer->session = NULL;
		coap_session_disconnected(s, COAP_NACK_NOT_DELIVERABLE);
		coap_session_release(s);
	}
}

void rcp_agent_send_sweep(struct rcp_agent *a)
{
	uint64_t now = uv_now(a->loop);
	int64_t wall = wall_s();
	struct outgoing *o = a->out, *next;
	struct peer *peer;
	bool sent;

	for (; o != NULL; o = next) {
		next = o->next;
		if (o->answered) {
			continue; /* waits for its outbox write alone */
		}
		/* Not before it is on disk, or the write would bring it back. */
		if (wall >= o->expires_s && o->stored) {
			a->stats.expired++;
			ntm_log_err("action %s on %s: failed: not acknowledged within its TTL of "
				    "%lld s (%u attempts); removed from the outbox",
				    o->key, o->target, (long long)(o->expires_s - o->fired_s),
				    o->attempts);
			peer = o->peer;
			sent = o->attempts > 0;
			finish(a, o);
			if (sent) {
				drop_session(a, peer);
			}
			next = a->out; /* the list may have changed: nacked ones retry */
			continue;
		}
		if (o->inflight && now - o->sent_ms >= RCP_AGENT_ATTEMPT_MAX_MS) {
			ntm_log_info("action %s on %s: attempt %u unanswered for %u s, retrying",
				     o->key, o->target, o->attempts,
				     RCP_AGENT_ATTEMPT_MAX_MS / 1000);
			o->inflight = false;
		}
		if (!o->inflight && now >= o->retry_ms) {
			transmit(a, o);
		}
	}
}

void rcp_agent_send_fini(struct rcp_agent *a)
{
	if (a->out != NULL) {
		ntm_log_info("%zu action request(s) stay in the outbox for the next start",
			     a->n_out);
	}
	while (a->out != NULL) {
		unlink_free(a, a->out);
	}
}

void rcp_agent_send_readdress(struct rcp_agent *a, struct peer *p)
{
	drop_session(a, p);
	rcp_agent_kick_verify(a);
	rcp_agent_polcheck_kick(a);
	for (struct outgoing *o = a->out; o != NULL; o = o->next) {
		if (o->peer == p && !o->inflight && !o->answered && p->addr.len != 0) {
			transmit(a, o);
		}
	}
}
