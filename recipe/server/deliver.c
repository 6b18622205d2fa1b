/* SPDX-License-Identifier: MIT */
#include "recipe/server/deliver.h"

#include <coap3/coap.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/log.h"
#include "recipe/agent/coapio.h"
#include "recipe/agent/nodesock.h"

enum { TOKEN_LEN = 8, TEXT_MAX = 640 };

/* A device deliveries go to: its address and CoAP session. */
struct dev {
	struct dev *next;
	struct rcp_rs_deliver *d;
	char fqdn[RCP_FQDN_MAX + 1];
	struct ntm_addr addr; /* len 0: not known yet */
	bool is_static, resolving;
	uint64_t addr_expires_ms, resolve_after_ms;
	coap_session_t *session;
};

/* What a delivery's state asks of the device. */
enum req_kind {
	REQ_POST,   /* pending: install the text */
	REQ_GET,    /* verifying: its state there */
	REQ_DELETE, /* deleting: drop it */
};

/* One (recipe, device) delivery the server is following. */
struct job {
	struct job *next;
	int64_t recipe, version;
	char name[RCP_NAME_MAX + 1];
	struct dev *dev;
	uint8_t token[TOKEN_LEN];
	bool inflight, seen;
	enum req_kind kind; /* of the request in flight */
	uint64_t sent_ms, next_ms, backoff_ms;
};

struct rcp_rs_deliver {
	uv_loop_t *loop;
	struct rcp_rs_store *store;
	const struct rcp_rs_config *cfg;
	coap_context_t *coap;
	struct rcp_coapio *io;
	struct rcp_nodesock *ns;
	uv_timer_t timer;
	struct dev *devs;
	struct job *jobs;
	unsigned pending_close;
	bool closing;
};

/* ---------------------------------------------------------------- devices */

static struct dev *dev_get(struct rcp_rs_deliver *d, const char *fqdn)
{
	struct dev *v;

	for (v = d->devs; v != NULL; v = v->next) {
		if (strcasecmp(v->fqdn, fqdn) == 0) {
			return v;
		}
	}
	v = ntm_calloc(1, sizeof(*v));
	if (v == NULL) {
		return NULL;
	}
	v->d = d;
	snprintf(v->fqdn, sizeof(v->fqdn), "%s", fqdn);
	for (size_t i = 0; i < d->cfg->n_devices; i++) {
		if (strcasecmp(d->cfg->devices[i].fqdn, fqdn) == 0) {
			v->addr = d->cfg->devices[i].addr;
			v->is_static = true;
		}
	}
	v->next = d->devs;
	d->devs = v;
	return v;
}

static void drop_session(struct dev *v)
{
	if (v->session != NULL) {
		coap_session_release(v->session);
		v->session = NULL;
	}
}

static void on_resolved(void *ctx, int rc, json_object *resp)
{
	struct dev *v = ctx;
	struct rcp_rs_deliver *d = v->d;
	struct rcp_resolved r;
	struct ntm_addr addr;
	char why[160] = "";

	if (rc == -ECANCELED) {
		return;
	}
	v->resolving = false;
	if (rc == 0) {
		rc = rcp_nodesock_parse_resolve(resp, v->fqdn, &r, why, sizeof(why));
		json_object_put(resp);
	}
	if (rc == 0) {
		rc = rcp_nodesock_pick(&r, AF_INET, true, RCP_RS_COAP_PORT, &addr);
	}
	if (rc < 0) {
		v->resolve_after_ms = uv_now(d->loop) + RCP_RS_DELIVER_RETRY_MS;
		ntm_log_info("resolve %s: %s%s%s", v->fqdn, ntm_strerror(rc), why[0] ? ": " : "",
			     why);
		return;
	}
	if (v->addr.len != addr.len || memcmp(&v->addr.ss, &addr.ss, addr.len) != 0) {
		drop_session(v);
		v->addr = addr;
	}
	v->addr_expires_ms = uv_now(d->loop) + RCP_RESOLVE_TTL_MS;
	rcp_rs_deliver_kick(d);
}

/* The device's address is usable now; when not, a resolve is started. */
static bool dev_ready(struct rcp_rs_deliver *d, struct dev *v)
{
	uint64_t now = uv_now(d->loop);

	if (v->is_static || (v->addr.len != 0 && now < v->addr_expires_ms)) {
		return true;
	}
	if (d->ns != NULL && !v->resolving && now >= v->resolve_after_ms) {
		if (rcp_nodesock_call(d->ns, "resolve", "fqdn", v->fqdn,
				      RCP_NODESOCK_RESOLVE_TIMEOUT_MS, on_resolved, v) == 0) {
			v->resolving = true;
		}
	}
	return v->addr.len != 0;
}

static coap_session_t *dev_session(struct rcp_rs_deliver *d, struct dev *v)
{
	coap_address_t dst;

	if (v->session == NULL) {
		coap_address_init(&dst);
		dst.size = v->addr.len;
		memcpy(&dst.addr, &v->addr.ss, v->addr.len);
		v->session = coap_new_client_session(d->coap, NULL, &dst, COAP_PROTO_UDP);
		if (v->session != NULL) {
			coap_session_set_ack_timeout(v->session, (coap_fixed_point_t){ 1, 0 });
			coap_session_set_max_retransmit(v->session, 4);
		}
	}
	return v->session;
}

/* ---------------------------------------------------------------- requests */

static void back_off(struct rcp_rs_deliver *d, struct job *j)
{
	j->inflight = false;
	j->next_ms = uv_now(d->loop) + j->backoff_ms;
	j->backoff_ms = j->backoff_ms * 2 > RCP_RS_DELIVER_RETRY_MAX_MS
				? RCP_RS_DELIVER_RETRY_MAX_MS
				: j->backoff_ms * 2;
}

static void release_text(coap_session_t *session, void *app_ptr)
{
	ntm_free(app_ptr);
}

/*
 * The body: block-wise (Block1) when the text does not fit one message;
 * libcoap sends the blocks and keeps a copy of the text until the last.
 */
static bool add_text(coap_session_t *s, coap_pdu_t *pdu, const char *text)
{
	uint8_t fmt[4];
	char *copy;

	if (coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT,
			    coap_encode_var_safe(fmt, sizeof(fmt), COAP_MEDIATYPE_TEXT_PLAIN),
			    fmt) == 0 ||
	    (copy = ntm_strdup(text)) == NULL) {
		return false;
	}
	/* On failure libcoap calls release_text itself. */
	return coap_add_data_large_request(s, pdu, strlen(copy), (const uint8_t *)copy,
					   release_text, copy) != 0;
}

static const coap_pdu_code_t req_code[] = {
	[REQ_POST] = COAP_REQUEST_CODE_POST,
	[REQ_GET] = COAP_REQUEST_CODE_GET,
	[REQ_DELETE] = COAP_REQUEST_CODE_DELETE,
};

/* POST the recipe text, GET its state or DELETE it, as the delivery's state says. */
static void send_request(struct rcp_rs_deliver *d, struct job *j, const char *text,
			 enum req_kind kind)
{
	char q[RCP_NAME_MAX + 8];
	coap_session_t *s;
	coap_pdu_t *pdu;

	if (!dev_ready(d, j->dev)) {
		j->next_ms = uv_now(d->loop) + RCP_RS_DELIVER_RETRY_MS;
		return;
	}
	s = dev_session(d, j->dev);
	pdu = s != NULL ? coap_pdu_init(COAP_MESSAGE_CON, req_code[kind], coap_new_message_id(s),
					coap_session_max_pdu_size(s))
			: NULL;
	back_off(d, j);
	randombytes_buf(j->token, sizeof(j->token));
	snprintf(q, sizeof(q), "name=%s", j->name);
	if (pdu == NULL || coap_add_token(pdu, sizeof(j->token), j->token) == 0 ||
	    coap_add_option(pdu, COAP_OPTION_URI_PATH, 7, (const uint8_t *)"recipes") == 0 ||
	    (kind != REQ_POST &&
	     coap_add_option(pdu, COAP_OPTION_URI_QUERY, strlen(q), (const uint8_t *)q) == 0)) {
		coap_delete_pdu(pdu);
		ntm_log_err("recipe %s to %s: cannot build the request", j->name, j->dev->fqdn);
		return;
	}
	if (kind == REQ_POST && !add_text(s, pdu, text)) {
		coap_delete_pdu(pdu);
		ntm_log_err("recipe %s to %s: cannot add the text", j->name, j->dev->fqdn);
		return;
	}
	if (coap_send(s, pdu) == COAP_INVALID_MID) {
		return;
	}
	j->inflight = true;
	j->kind = kind;
	j->sent_ms = uv_now(d->loop);
	rcp_coapio_kick(d->io);
}

static struct job *job_get(struct rcp_rs_deliver *d, const struct rcp_rs_delivery *dl)
{
	struct job *j;

	for (j = d->jobs; j != NULL; j = j->next) {
		if (j->recipe == dl->recipe && strcasecmp(j->dev->fqdn, dl->fqdn) == 0) {
			return j;
		}
	}
	j = ntm_calloc(1, sizeof(*j));
	if (j == NULL || (j->dev = dev_get(d, dl->fqdn)) == NULL) {
		ntm_free(j);
		return NULL;
	}
	j->recipe = dl->recipe;
	j->version = dl->version;
	snprintf(j->name, sizeof(j->name), "%s", dl->name);
	j->backoff_ms = RCP_RS_DELIVER_RETRY_MS;
	j->next = d->jobs;
	d->jobs = j;
	return j;
}

static int on_due(const struct rcp_rs_delivery *dl, void *arg)
{
	struct rcp_rs_deliver *d = arg;
	struct job *j = job_get(d, dl);
	uint64_t now = uv_now(d->loop);
	enum req_kind want;

	if (j == NULL) {
		return -ENOMEM;
	}
	want = strcmp(dl->status, "pending") == 0    ? REQ_POST
	       : strcmp(dl->status, "deleting") == 0 ? REQ_DELETE
						     : REQ_GET;
	j->seen = true;
	/* Replaced or deleted meanwhile: what is in flight is about the past. */
	if (j->version != dl->version || (j->inflight && j->kind != want)) {
		j->version = dl->version;
		j->inflight = false;
		j->next_ms = 0;
		j->backoff_ms = RCP_RS_DELIVER_RETRY_MS;
	}
	if (j->inflight && now - j->sent_ms >= RCP_RS_DELIVER_ATTEMPT_MAX_MS) {
		j->inflight = false;
	}
	if (!j->inflight && now >= j->next_ms) {
		send_request(d, j, dl->text, want);
	}
	return 0;
}

/* Deliveries no longer due (or gone) are forgotten. */
static void prune_jobs(struct rcp_rs_deliver *d)
{
	for (struct job **pp = &d->jobs; *pp != NULL;) {
		struct job *j = *pp;

		if (!j->seen && !j->inflight) {
			*pp = j->next;
			ntm_free(j);
			continue;
		}
		j->seen = false;
		pp = &j->next;
	}
}

static void on_tick(uv_timer_t *t)
{
	struct rcp_rs_deliver *d = t->data;
	int rc;

	for (struct job *j = d->jobs; j != NULL; j = j->next) {
		j->seen = false;
	}
	rc = rcp_rs_store_due(d->store, on_due, d);
	if (rc < 0) {
		ntm_log_err("deliveries: %s", ntm_strerror(rc));
	}
	prune_jobs(d);
}

void rcp_rs_deliver_kick(struct rcp_rs_deliver *d)
{
	if (d == NULL || d->closing) {
		return;
	}
	for (struct job *j = d->jobs; j != NULL; j = j->next) {
		if (!j->inflight) {
			j->next_ms = 0;
		}
	}
	uv_timer_start(&d->timer, on_tick, 0, RCP_RS_DELIVER_TICK_MS);
}

/* ---------------------------------------------------------------- answers */

static struct job *by_token(struct rcp_rs_deliver *d, const coap_pdu_t *pdu)
{
	coap_bin_const_t tok = coap_pdu_get_token(pdu);

	for (struct job *j = d->jobs; j != NULL; j = j->next) {
		if (j->inflight && tok.length == TOKEN_LEN &&
		    memcmp(tok.s, j->token, TOKEN_LEN) == 0) {
			return j;
		}
	}
	return NULL;
}

static void report(struct rcp_rs_deliver *d, struct job *j, const char *status, const char *reason)
{
	char why[160];

	if (rcp_rs_store_set_delivery(d->store, j->recipe, j->version, j->dev->fqdn, status, reason,
				      why, sizeof(why)) < 0) {
		ntm_log_err("recipe %s on %s: cannot store %s: %s", j->name, j->dev->fqdn, status,
			    why);
		return;
	}
	ntm_log_info("recipe %s on %s: %s%s%s", j->name, j->dev->fqdn, status,
		     reason[0] != '\0' ? ": " : "", reason);
	j->backoff_ms = RCP_RS_DELIVER_RETRY_MS;
	j->next_ms = uv_now(d->loop) + RCP_RS_DELIVER_RETRY_MS;
}

/* The device's state, from its answer text: "active", "verifying", "refused: WHY". */
static void interpret(struct rcp_rs_deliver *d, struct job *j, unsigned code, const char *text)
{
	if (j->kind == REQ_DELETE) {
		if ((code >> 5) == 2) {
			report(d, j, "deleted", "");
		} else {
			ntm_log_info("recipe %s on %s: deletion answered %u.%02u %s (retrying)",
				     j->name, j->dev->fqdn, code >> 5, code & 31, text);
		}
		return;
	}
	if ((code >> 5) == 2 && (strcmp(text, "active") == 0 || strcmp(text, "verifying") == 0)) {
		report(d, j, text, "");
	} else if ((code >> 5) == 2 || code == COAP_RESPONSE_CODE(403) ||
		   code == COAP_RESPONSE_CODE(400) || code == COAP_RESPONSE_CODE(413)) {
		report(d, j, "refused",
		       strncmp(text, "refused: ", 9) == 0 ? text + 9
		       : text[0]			  ? text
							  : "refused");
	} else if (code == COAP_RESPONSE_CODE(404) && j->kind == REQ_GET) {
		report(d, j, "pending", "the device lost it; delivered again");
	} else {
		ntm_log_info("recipe %s on %s: %u.%02u %s (retrying)", j->name, j->dev->fqdn,
			     code >> 5, code & 31, text);
		if (code == COAP_RESPONSE_CODE(503)) {
			j->next_ms = uv_now(d->loop);
		}
	}
}

static coap_response_t on_response(coap_session_t *session, const coap_pdu_t *sent,
				   const coap_pdu_t *received, const coap_mid_t mid)
{
	struct rcp_rs_deliver *d = coap_get_app_data(coap_session_get_context(session));
	struct job *j = by_token(d, received);
	unsigned code = coap_pdu_get_code(received);
	char text[TEXT_MAX];
	const uint8_t *data = NULL;
	size_t len = 0, k = 0;

	if (j == NULL || code == 0) {
		return COAP_RESPONSE_OK;
	}
	j->inflight = false;
	(void)coap_get_data(received, &len, &data);
	for (size_t i = 0; i < len && k + 1 < sizeof(text); i++) {
		text[k++] = data[i] >= 0x20 && data[i] < 0x7f ? (char)data[i] : '?';
	}
	text[k] = '\0';
	interpret(d, j, code, text);
	return COAP_RESPONSE_OK;
}

static void on_nack(coap_session_t *session, const coap_pdu_t *sent,
		    const coap_nack_reason_t reason, const coap_mid_t mid)
{
	struct rcp_rs_deliver *d = coap_get_app_data(coap_session_get_context(session));
	struct job *j = sent != NULL ? by_token(d, sent) : NULL;

	if (j != NULL) {
		j->inflight = false; /* next_ms was set by back_off */
		if (!j->dev->is_static) {
			j->dev->addr_expires_ms = 0; /* its VIP may have changed */
		}
		ntm_log_info("recipe %s to %s: no answer (reason %d), retrying", j->name,
			     j->dev->fqdn, (int)reason);
	}
}

/* ---------------------------------------------------------------- life cycle */

int rcp_rs_deliver_create(uv_loop_t *loop, struct rcp_rs_store *store,
			  const struct rcp_rs_config *cfg, struct rcp_rs_deliver **out, char *why,
			  size_t whylen)
{
	struct rcp_rs_deliver *d = ntm_calloc(1, sizeof(*d));
	int rc = 0;

	*out = NULL;
	if (d == NULL) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	d->loop = loop;
	d->store = store;
	d->cfg = cfg;
	d->coap = coap_new_context(NULL);
	if (d->coap == NULL) {
		snprintf(why, whylen, "coap: cannot create a context");
		ntm_free(d);
		return -ENOMEM;
	}
	coap_set_app_data(d->coap, d);
	/* Recipes over one message go block-wise (RFC 7959), reassembled by the device. */
	coap_context_set_block_mode(d->coap, COAP_BLOCK_USE_LIBCOAP | COAP_BLOCK_SINGLE_BODY);
	coap_register_response_handler(d->coap, on_response);
	coap_register_nack_handler(d->coap, on_nack);
	uv_timer_init(loop, &d->timer);
	d->timer.data = d;
	rc = rcp_coapio_create(loop, d->coap, &d->io);
	if (rc == 0 && cfg->node_socket[0] != '\0') {
		rc = rcp_nodesock_create(loop, cfg->node_socket, &d->ns);
	}
	if (rc < 0) {
		snprintf(why, whylen, "deliveries: %s", ntm_strerror(rc));
		rcp_rs_deliver_close(d);
		return rc;
	}
	uv_timer_start(&d->timer, on_tick, 0, RCP_RS_DELIVER_TICK_MS);
	*out = d;
	return 0;
}

static void free_deliver(struct rcp_rs_deliver *d)
{
	while (d->jobs != NULL) {
		struct job *j = d->jobs;

		d->jobs = j->next;
		ntm_free(j);
	}
	while (d->devs != NULL) {
		struct dev *v = d->devs;

		d->devs = v->next;
		drop_session(v);
		ntm_free(v);
	}
	coap_free_context(d->coap);
	ntm_free(d);
}

static void on_closed(void *arg)
{
	struct rcp_rs_deliver *d = arg;

	if (--d->pending_close == 0) {
		free_deliver(d);
	}
}

static void on_timer_closed(uv_handle_t *h)
{
	on_closed(h->data);
}

void rcp_rs_deliver_close(struct rcp_rs_deliver *d)
{
	if (d == NULL) {
		return;
	}
	d->closing = true;
	d->pending_close = 3;
	uv_close((uv_handle_t *)&d->timer, on_timer_closed);
	rcp_coapio_close(d->io, on_closed, d);
	d->io = NULL;
	rcp_nodesock_close(d->ns, on_closed, d);
	d->ns = NULL;
}
