/* SPDX-License-Identifier: MIT */
#include "ctrlclient.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "cookie.h"
#include "ctrl.h"
#include "log.h"
#include "noise.h"

/*
 * What the client waits for. BACKOFF: the start of the next attempt.
 * HANDSHAKE: the response to our initiation. REQUEST: the answer to c->req.
 * IDLE: the caller's next request (ops.idle).
 */
enum phase { PH_STOPPED, PH_BACKOFF, PH_HANDSHAKE, PH_REQUEST, PH_IDLE };

struct ntm_ctrlclient {
	uv_timer_t timer;
	struct ntm_ctrlclient_ops ops;
	struct ntm_noise_identity *id;
	struct ntm_cookie_checker *checker; /* mac1 of responses, keyed by our public key */
	struct ntm_ctrl_session *s;
	struct ntm_addr eps[NTM_CTRLCLIENT_ENDPOINTS_MAX];
	size_t n_eps, ep;

	enum phase phase;
	uint64_t deadline;
	unsigned tries;	   /* sends of the current message */
	unsigned failures; /* consecutive failed attempts */
	bool cookie_retried;
	uint32_t req_id;
	uint8_t req[NTM_CTRL_PLAIN_MAX];
	size_t req_len;

	uint64_t last_contact;
	bool contacted; /* last_contact is set */
	uint64_t drops;

	ntm_ctrlclient_closed_cb done;
	void *done_arg;
};

static uint64_t now_of(const struct ntm_ctrlclient *c)
{
	return c->ops.now(c->ops.arg);
}

const char *ntm_ctrlclient_endpoint_text(const struct ntm_ctrlclient *c, char *buf, size_t cap)
{
	if (ntm_addr_format(&c->eps[c->ep], buf, cap) < 0) {
		snprintf(buf, cap, "?");
	}
	return buf;
}

/* ---------------------------------------------------------------- timer */

static void on_timer(uv_timer_t *t)
{
	ntm_ctrlclient_poll(t->data);
}

static void arm(struct ntm_ctrlclient *c, enum phase ph, uint64_t deadline)
{
	uint64_t now = now_of(c);

	c->phase = ph;
	c->deadline = deadline;
	(void)uv_timer_start(&c->timer, on_timer, deadline > now ? deadline - now : 0, 0);
}

/* The wait after try number `tries` (1-based): NTM_CTRLCLIENT_RETRY_MS, doubled per try. */
static uint64_t retry_wait(unsigned tries)
{
	return (uint64_t)NTM_CTRLCLIENT_RETRY_MS << (tries > 0 ? tries - 1 : 0);
}

/* ---------------------------------------------------------------- create / close */

static void free_client(struct ntm_ctrlclient *c)
{
	ntm_ctrl_session_destroy(c->s);
	ntm_cookie_checker_destroy(c->checker);
	ntm_noise_identity_destroy(c->id);
	sodium_memzero(c->req, sizeof(c->req));
	ntm_free(c);
}

int ntm_ctrlclient_create(uv_loop_t *loop, const struct ntm_ctrlclient_config *cfg,
			  const struct ntm_ctrlclient_ops *ops, struct ntm_ctrlclient **out)
{
	uint8_t pub[NTM_WG_KEY_LEN];
	struct ntm_ctrlclient *c;
	int rc;

	*out = NULL;
	if (cfg->n_endpoints == 0 || cfg->n_endpoints > NTM_CTRLCLIENT_ENDPOINTS_MAX) {
		return -EINVAL;
	}
	c = ntm_calloc(1, sizeof(*c));
	if (c == NULL) {
		return -ENOMEM;
	}
	c->ops = *ops;
	memcpy(c->eps, cfg->endpoints, cfg->n_endpoints * sizeof(c->eps[0]));
	c->n_eps = cfg->n_endpoints;
	rc = ntm_noise_identity_create_profile(cfg->private_key, NTM_NOISE_CONTROL, &c->id);
	if (rc == 0) {
		ntm_noise_identity_public(c->id, pub);
		rc = ntm_cookie_checker_create(pub, &c->checker);
	}
	if (rc == 0) {
		rc = ntm_ctrl_session_create(c->id, cfg->peer_public, c, &c->s);
	}
	if (rc == 0) {
		rc = uv_timer_init(loop, &c->timer);
	}
	if (rc < 0) {
		free_client(c);
		return rc;
	}
	c->timer.data = c;
	*out = c;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct ntm_ctrlclient *c = h->data;
	ntm_ctrlclient_closed_cb done = c->done;
	void *arg = c->done_arg;

	free_client(c);
	if (done != NULL) {
		done(arg);
	}
}

void ntm_ctrlclient_close(struct ntm_ctrlclient *c, ntm_ctrlclient_closed_cb done, void *arg)
{
	c->done = done;
	c->done_arg = arg;
	c->phase = PH_STOPPED;
	uv_close((uv_handle_t *)&c->timer, on_closed);
}

/* ---------------------------------------------------------------- sending */

static void send_datagram(struct ntm_ctrlclient *c, const uint8_t *buf, size_t len)
{
	char ep[NTM_ADDR_STRLEN];
	int rc = c->ops.send(c->ops.arg, &c->eps[c->ep], buf, len);

	if (rc < 0) {
		ntm_log_debug("DC %s: send: %s", ntm_ctrlclient_endpoint_text(c, ep, sizeof(ep)),
			      ntm_strerror(rc));
	}
}

static void send_initiation(struct ntm_ctrlclient *c)
{
	uint8_t out[NTM_WG_INITIATION_LEN];
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, out, sizeof(out));
	if (ntm_ctrl_session_initiate(c->s, randombytes_random() | 1, NULL, now_of(c), &w) == 0) {
		send_datagram(c, out, w.len);
	}
	arm(c, PH_HANDSHAKE, now_of(c) + retry_wait(c->tries));
}

/* Seals and sends c->req; false when the session cannot seal (keys gone). */
static bool send_request(struct ntm_ctrlclient *c)
{
	uint8_t out[NTM_CTRL_DATA_MAX_LEN];
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, out, sizeof(out));
	if (ntm_ctrl_session_seal(c->s, c->req, c->req_len, now_of(c), &w) < 0) {
		return false;
	}
	send_datagram(c, out, w.len);
	arm(c, PH_REQUEST, now_of(c) + retry_wait(c->tries));
	return true;
}

void ntm_ctrlclient_request(struct ntm_ctrlclient *c, const struct ntm_ctrl_msg *m)
{
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, c->req, sizeof(c->req));
	if (ntm_ctrl_msg_encode(&w, m) < 0) {
		ntm_log_err("DC: cannot encode %s", ntm_ctrl_kind_name(m->kind));
		ntm_ctrlclient_fail(c, false);
		return;
	}
	c->req_len = w.len;
	c->req_id = m->req_id;
	c->tries = 1;
	if (!send_request(c)) {
		ntm_ctrlclient_fail(c, false);
	}
}

int ntm_ctrlclient_send(struct ntm_ctrlclient *c, const struct ntm_ctrl_msg *m)
{
	return ntm_ctrlclient_send_to(c, m, NULL);
}

int ntm_ctrlclient_send_to(struct ntm_ctrlclient *c, const struct ntm_ctrl_msg *m,
			   const struct ntm_addr *to)
{
	uint8_t plain[NTM_CTRL_PLAIN_MAX], out[NTM_CTRL_DATA_MAX_LEN];
	struct ntm_wbuf w;
	size_t len;
	int rc;

	ntm_wbuf_init(&w, plain, sizeof(plain));
	if (ntm_ctrl_msg_encode(&w, m) < 0) {
		return -EINVAL;
	}
	len = w.len;
	ntm_wbuf_init(&w, out, sizeof(out));
	rc = ntm_ctrl_session_seal(c->s, plain, len, now_of(c), &w);
	sodium_memzero(plain, sizeof(plain));
	if (rc < 0) {
		return -ENOTCONN;
	}
	if (to == NULL) {
		send_datagram(c, out, w.len);
	} else if ((rc = c->ops.send(c->ops.arg, to, out, w.len)) < 0) {
		ntm_log_debug("DC: send to its second endpoint: %s", ntm_strerror(rc));
	}
	return 0;
}

void ntm_ctrlclient_idle(struct ntm_ctrlclient *c, uint64_t ms)
{
	c->failures = 0;
	arm(c, PH_IDLE, now_of(c) + ms);
}

/* ---------------------------------------------------------------- attempts */

static void begin_handshake(struct ntm_ctrlclient *c)
{
	c->tries = 1;
	c->cookie_retried = false;
	send_initiation(c);
}

void ntm_ctrlclient_start(struct ntm_ctrlclient *c)
{
	begin_handshake(c);
}

/* +-25% around `ms`. */
static uint64_t jitter(uint64_t ms)
{
	uint32_t span = (uint32_t)(ms / 2);

	return ms - ms / 4 + (span > 0 ? randombytes_uniform(span + 1) : 0);
}

void ntm_ctrlclient_fail(struct ntm_ctrlclient *c, bool answered)
{
	char ep[NTM_ADDR_STRLEN];
	unsigned shift = c->failures < 6 ? c->failures : 6;
	uint64_t wait = (uint64_t)NTM_CTRLCLIENT_BACKOFF_MIN_MS << shift;

	wait = jitter(wait < NTM_CTRLCLIENT_BACKOFF_MAX_MS ? wait : NTM_CTRLCLIENT_BACKOFF_MAX_MS);
	c->failures++;
	c->ops.failed(c->ops.arg, answered);
	c->ep = (c->ep + 1) % c->n_eps;
	ntm_log_debug("DC: next attempt with %s in %llu ms",
		      ntm_ctrlclient_endpoint_text(c, ep, sizeof(ep)), (unsigned long long)wait);
	arm(c, PH_BACKOFF, now_of(c) + wait);
}

void ntm_ctrlclient_poll(struct ntm_ctrlclient *c)
{
	uint64_t now = now_of(c);

	if (c->phase == PH_STOPPED) {
		return;
	}
	if (now < c->deadline) {
		arm(c, c->phase, c->deadline);
		return;
	}
	switch (c->phase) {
	case PH_BACKOFF:
		begin_handshake(c);
		break;
	case PH_HANDSHAKE:
		if (c->tries++ < NTM_CTRLCLIENT_TRIES) {
			send_initiation(c);
		} else {
			ntm_ctrlclient_fail(c, false);
		}
		break;
	case PH_REQUEST:
		if (c->tries++ >= NTM_CTRLCLIENT_TRIES || !send_request(c)) {
			ntm_ctrlclient_fail(c, false);
		}
		break;
	case PH_IDLE:
		if (ntm_ctrl_session_needs_handshake(c->s, now)) {
			begin_handshake(c); /* ops.connected follows on the new keys */
		} else {
			c->ops.idle(c->ops.arg);
		}
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------- receive */

static void on_response(struct ntm_ctrlclient *c, const uint8_t *buf, size_t len,
			const struct ntm_addr *from)
{
	struct ntm_cookie_pkt pkt = { .msg = buf, .len = len, .port = ntm_addr_port(from) };
	uint64_t now = now_of(c);

	if (from->sa.sa_family == AF_INET6) {
		pkt.addr = from->sin6.sin6_addr.s6_addr;
		pkt.addr_len = 16;
	} else {
		pkt.addr = (const uint8_t *)&from->sin.sin_addr.s_addr;
		pkt.addr_len = 4;
	}
	if (c->phase != PH_HANDSHAKE ||
	    ntm_cookie_validate(c->checker, &pkt, now, false) == NTM_COOKIE_BAD ||
	    ntm_ctrl_session_consume_response(c->s, buf, len, now) < 0) {
		c->drops++;
		return;
	}
	c->last_contact = now;
	c->contacted = true;
	c->ops.connected(c->ops.arg);
}

static void on_cookie_reply(struct ntm_ctrlclient *c, const uint8_t *buf, size_t len)
{
	if (c->phase != PH_HANDSHAKE ||
	    ntm_ctrl_session_consume_cookie(c->s, buf, len, now_of(c)) < 0) {
		c->drops++;
		return;
	}
	if (!c->cookie_retried) {
		c->cookie_retried = true; /* the DC is under load: once more, now with mac2 */
		send_initiation(c);
	}
}

static void on_message(struct ntm_ctrlclient *c, const struct ntm_ctrl_msg *m)
{
	bool mine = c->phase == PH_REQUEST && m->req_id == c->req_id;
	bool taken;

	if (mine) {
		taken = c->ops.answer(c->ops.arg, m);
	} else {
		taken = c->ops.message != NULL && c->ops.message(c->ops.arg, m);
	}
	if (!taken) {
		c->drops++; /* e.g. a late answer to a retransmission */
	}
}

static void on_data(struct ntm_ctrlclient *c, const uint8_t *buf, size_t len)
{
	uint8_t plain[NTM_CTRL_PLAIN_MAX];
	struct ntm_ctrl_msg m;
	struct ntm_wg_data d;
	uint64_t now = now_of(c);
	size_t plen = 0;

	if (ntm_wire_decode_ctrl_data(buf, len, &d) < 0 ||
	    ntm_ctrl_session_open(c->s, &d, now, plain, sizeof(plain), &plen) < 0) {
		c->drops++;
		return;
	}
	c->last_contact = now;
	c->contacted = true;
	if (ntm_ctrl_msg_decode(plain, plen, &m) < 0) {
		c->drops++;
	} else {
		on_message(c, &m);
	}
	sodium_memzero(plain, plen);
	sodium_memzero(&m, sizeof(m)); /* a relay credential, a token */
}

void ntm_ctrlclient_receive(struct ntm_ctrlclient *c, const uint8_t *buf, size_t len,
			    const struct ntm_addr *from)
{
	enum ntm_msg_type type;

	if (c->phase == PH_STOPPED || ntm_wire_classify(buf, len, &type) < 0) {
		c->drops++;
		return;
	}
	switch (type) {
	case NTM_MSG_CTRL_RESPONSE:
		on_response(c, buf, len, from);
		break;
	case NTM_MSG_CTRL_COOKIE_REPLY:
		on_cookie_reply(c, buf, len);
		break;
	case NTM_MSG_CTRL_DATA:
		on_data(c, buf, len);
		break;
	default:
		c->drops++; /* a DC never initiates; nobody else may */
		break;
	}
}

const struct ntm_addr *ntm_ctrlclient_endpoint(const struct ntm_ctrlclient *c)
{
	return &c->eps[c->ep];
}

int64_t ntm_ctrlclient_last_contact(const struct ntm_ctrlclient *c)
{
	return c->contacted ? (int64_t)(now_of(c) - c->last_contact) : -1;
}

uint64_t ntm_ctrlclient_drops(const struct ntm_ctrlclient *c)
{
	return c->drops;
}
