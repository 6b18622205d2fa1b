/* SPDX-License-Identifier: MIT */
#include "dcclient.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <string.h>

#include "common/alloc.h"
#include "common/cookie.h"
#include "common/crypto.h"
#include "common/ctrl.h"
#include "common/ctrlmsg.h"
#include "common/key.h"
#include "common/log.h"
#include "common/noise.h"
#include "common/wire.h"

/*
 * What the client waits for. BACKOFF: the start of the next attempt. HANDSHAKE:
 * the response to our initiation. REQUEST: the answer to dc->req. IDLE: the
 * time of the next keep-alive (registered).
 */
enum phase { PH_STOPPED, PH_BACKOFF, PH_HANDSHAKE, PH_REQUEST, PH_IDLE };

struct en_dcclient {
	uv_timer_t timer;
	struct en_dcclient_ops ops;
	struct ntm_noise_identity *id;
	struct ntm_cookie_checker *checker; /* mac1 of responses, keyed by our public key */
	struct ntm_ctrl_session *s;
	uint8_t public_key[NTM_WG_KEY_LEN];
	char name[EN_CONFIG_NAME_MAX + 1];
	char *token; /* secure memory; freed after the first REGISTER_OK */
	struct ntm_addr eps[EN_CONFIG_DC_ENDPOINTS_MAX];
	size_t n_eps, ep;

	enum phase phase;
	enum en_dc_state state;
	uint64_t deadline;
	unsigned tries;	   /* sends of the current message */
	unsigned failures; /* consecutive failed attempts */
	bool cookie_retried;
	bool session_registered; /* REGISTER_OK on this session: keep-alives go on it */
	uint8_t req_kind;	 /* NTM_CTRL_REGISTER or NTM_CTRL_KEEPALIVE */
	uint32_t req_id;
	uint8_t req[NTM_CTRL_PLAIN_MAX];
	size_t req_len;

	bool has_vips;
	struct en_dc_vips vips;
	uint32_t pools_attrs; /* POOL4/POOL6 bits of the last REGISTER_OK */
	struct ntm_prefix pool4, pool6;
	struct ntm_addr outside;
	bool is_public;
	struct ntm_addr sent_cands[EN_DC_CANDIDATES_MAX];
	size_t n_sent_cands;
	uint16_t keepalive_s;
	uint64_t last_contact;
	bool contacted; /* last_contact is set */
	uint16_t last_error;
	uint64_t drops;

	en_dcclient_closed_cb done;
	void *done_arg;
};

static const char *const state_names[] = {
	[EN_DC_REGISTERING] = "registering",
	[EN_DC_REGISTERED] = "registered",
	[EN_DC_UNREACHABLE] = "unreachable",
};

const char *en_dc_state_name(enum en_dc_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

static uint64_t now_of(const struct en_dcclient *dc)
{
	return dc->ops.now(dc->ops.arg);
}

/* "DC 198.51.100.1:7000" for messages. */
static const char *ep_text(const struct en_dcclient *dc, char *buf, size_t cap)
{
	if (ntm_addr_format(&dc->eps[dc->ep], buf, cap) < 0) {
		snprintf(buf, cap, "?");
	}
	return buf;
}

/* ---------------------------------------------------------------- timer */

static void on_timer(uv_timer_t *t)
{
	en_dcclient_poll(t->data);
}

static void arm(struct en_dcclient *dc, enum phase ph, uint64_t deadline)
{
	uint64_t now = now_of(dc);

	dc->phase = ph;
	dc->deadline = deadline;
	(void)uv_timer_start(&dc->timer, on_timer, deadline > now ? deadline - now : 0, 0);
}

/* The wait after try number `tries` (1-based): EN_DC_RETRY_MS, doubled per try. */
static uint64_t retry_wait(unsigned tries)
{
	return (uint64_t)EN_DC_RETRY_MS << (tries > 0 ? tries - 1 : 0);
}

/* ---------------------------------------------------------------- create / close */

static int copy_config(struct en_dcclient *dc, const struct en_config *cfg)
{
	size_t len;

	snprintf(dc->name, sizeof(dc->name), "%s", cfg->name);
	memcpy(dc->eps, cfg->dc.endpoints, sizeof(dc->eps));
	dc->n_eps = cfg->dc.n_endpoints;
	if (dc->n_eps == 0 || dc->name[0] == '\0') {
		return -EINVAL;
	}
	if (cfg->dc.token == NULL) {
		return 0;
	}
	len = strlen(cfg->dc.token);
	dc->token = ntm_crypto_secure_alloc(len + 1);
	if (dc->token == NULL) {
		return -ENOMEM;
	}
	memcpy(dc->token, cfg->dc.token, len + 1);
	return 0;
}

static void free_client(struct en_dcclient *dc)
{
	ntm_ctrl_session_destroy(dc->s);
	ntm_cookie_checker_destroy(dc->checker);
	ntm_noise_identity_destroy(dc->id);
	ntm_crypto_secure_free(dc->token);
	sodium_memzero(dc->req, sizeof(dc->req));
	ntm_free(dc);
}

int en_dcclient_create(uv_loop_t *loop, const struct en_config *cfg,
		       const struct en_dcclient_ops *ops, struct en_dcclient **out)
{
	struct en_dcclient *dc;
	int rc;

	*out = NULL;
	if (!cfg->has_dc || cfg->private_key == NULL) {
		return -EINVAL;
	}
	dc = ntm_calloc(1, sizeof(*dc));
	if (dc == NULL) {
		return -ENOMEM;
	}
	dc->ops = *ops;
	rc = copy_config(dc, cfg);
	if (rc == 0) {
		rc = ntm_noise_identity_create_profile(cfg->private_key, NTM_NOISE_CONTROL,
						       &dc->id);
	}
	if (rc == 0) {
		ntm_noise_identity_public(dc->id, dc->public_key);
		rc = ntm_cookie_checker_create(dc->public_key, &dc->checker);
	}
	if (rc == 0) {
		rc = ntm_ctrl_session_create(dc->id, cfg->dc.public_key, dc, &dc->s);
	}
	if (rc == 0) {
		rc = uv_timer_init(loop, &dc->timer);
	}
	if (rc < 0) {
		free_client(dc);
		return rc;
	}
	dc->timer.data = dc;
	*out = dc;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct en_dcclient *dc = h->data;
	en_dcclient_closed_cb done = dc->done;
	void *arg = dc->done_arg;

	free_client(dc);
	if (done != NULL) {
		done(arg);
	}
}

void en_dcclient_close(struct en_dcclient *dc, en_dcclient_closed_cb done, void *arg)
{
	dc->done = done;
	dc->done_arg = arg;
	dc->phase = PH_STOPPED;
	uv_close((uv_handle_t *)&dc->timer, on_closed);
}

/* ---------------------------------------------------------------- sending */

static void send_datagram(struct en_dcclient *dc, const uint8_t *buf, size_t len)
{
	char ep[NTM_ADDR_STRLEN];
	int rc = dc->ops.send(dc->ops.arg, &dc->eps[dc->ep], buf, len);

	if (rc < 0) {
		ntm_log_debug("DC %s: send: %s", ep_text(dc, ep, sizeof(ep)), ntm_strerror(rc));
	}
}

static void send_initiation(struct en_dcclient *dc)
{
	uint8_t out[NTM_WG_INITIATION_LEN];
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, out, sizeof(out));
	if (ntm_ctrl_session_initiate(dc->s, randombytes_random() | 1, NULL, now_of(dc), &w) == 0) {
		send_datagram(dc, out, w.len);
	}
	arm(dc, PH_HANDSHAKE, now_of(dc) + retry_wait(dc->tries));
}

/* Seals and sends dc->req; false when the session cannot seal (keys gone). */
static bool send_request(struct en_dcclient *dc)
{
	uint8_t out[NTM_CTRL_DATA_MAX_LEN];
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, out, sizeof(out));
	if (ntm_ctrl_session_seal(dc->s, dc->req, dc->req_len, now_of(dc), &w) < 0) {
		return false;
	}
	send_datagram(dc, out, w.len);
	arm(dc, PH_REQUEST, now_of(dc) + retry_wait(dc->tries));
	return true;
}

static void attempt_failed(struct en_dcclient *dc, bool answered);

/* Encodes `m` as the outstanding request and sends its first try. */
static void start_request(struct en_dcclient *dc, struct ntm_ctrl_msg *m)
{
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, dc->req, sizeof(dc->req));
	if (ntm_ctrl_msg_encode(&w, m) < 0) {
		ntm_log_err("DC: cannot encode %s", ntm_ctrl_kind_name(m->kind));
		attempt_failed(dc, false);
		return;
	}
	dc->req_len = w.len;
	dc->req_kind = m->kind;
	dc->req_id = m->req_id;
	dc->tries = 1;
	if (!send_request(dc)) {
		attempt_failed(dc, false);
	}
}

static uint32_t new_req_id(void)
{
	return randombytes_random() | 1;
}

/* Local candidates, those of the endpoint's family first (the DC takes the first as "real"). */
static void add_candidates(struct en_dcclient *dc, struct ntm_ctrl_msg *m)
{
	struct ntm_addr all[EN_DC_CANDIDATES_MAX];
	size_t n = dc->ops.candidates(dc->ops.arg, all, EN_DC_CANDIDATES_MAX);
	int fam = dc->eps[dc->ep].sa.sa_family;

	dc->n_sent_cands = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n && i < EN_DC_CANDIDATES_MAX; i++) {
			if ((all[i].sa.sa_family == fam) != (pass == 0) ||
			    ntm_ctrl_addr_from(&m->cand[m->n_cand], &all[i]) < 0) {
				continue;
			}
			m->n_cand++;
			dc->sent_cands[dc->n_sent_cands++] = all[i];
		}
	}
	if (m->n_cand > 0) {
		m->attrs |= 1u << NTM_CTRL_ATTR_CANDIDATE;
	}
}

static void send_register(struct en_dcclient *dc)
{
	struct ntm_ctrl_msg m;

	ntm_ctrl_msg_init(&m, NTM_CTRL_REGISTER, new_req_id());
	m.attrs |= 1u << NTM_CTRL_ATTR_FQDN;
	snprintf(m.fqdn, sizeof(m.fqdn), "%s", dc->name);
	if (dc->token != NULL) {
		m.attrs |= 1u << NTM_CTRL_ATTR_TOKEN;
		snprintf(m.token, sizeof(m.token), "%s", dc->token);
	}
	add_candidates(dc, &m);
	start_request(dc, &m);
	sodium_memzero(m.token, sizeof(m.token));
}

static void send_keepalive(struct en_dcclient *dc)
{
	struct ntm_ctrl_msg m;

	ntm_ctrl_msg_init(&m, NTM_CTRL_KEEPALIVE, new_req_id());
	start_request(dc, &m);
}

/* ---------------------------------------------------------------- attempts */

static void begin_handshake(struct en_dcclient *dc)
{
	dc->tries = 1;
	dc->cookie_retried = false;
	send_initiation(dc);
}

void en_dcclient_start(struct en_dcclient *dc)
{
	char ep[NTM_ADDR_STRLEN];

	dc->state = EN_DC_REGISTERING;
	dc->session_registered = false;
	ntm_log_info("DC %s: registering as %s", ep_text(dc, ep, sizeof(ep)), dc->name);
	begin_handshake(dc);
}

/* +-25% around `ms`. */
static uint64_t jitter(uint64_t ms)
{
	uint32_t span = (uint32_t)(ms / 2);

	return ms - ms / 4 + (span > 0 ? randombytes_uniform(span + 1) : 0);
}

/*
 * The attempt with the current endpoint is over: `answered` when the DC
 * refused (it is reachable), else it went silent. Next endpoint, after the
 * backoff.
 */
static void attempt_failed(struct en_dcclient *dc, bool answered)
{
	char ep[NTM_ADDR_STRLEN];
	uint64_t wait;
	unsigned shift = dc->failures < 6 ? dc->failures : 6;

	wait = (uint64_t)EN_DC_BACKOFF_MIN_MS << shift;
	wait = jitter(wait < EN_DC_BACKOFF_MAX_MS ? wait : EN_DC_BACKOFF_MAX_MS);
	dc->failures++;
	if (!answered) {
		if (dc->state != EN_DC_UNREACHABLE) {
			ntm_log_warn("DC %s: no answer; the DC is unreachable (tunnels are not "
				     "affected), retrying",
				     ep_text(dc, ep, sizeof(ep)));
		}
		dc->state = EN_DC_UNREACHABLE;
	} else {
		dc->state = EN_DC_REGISTERING;
	}
	dc->session_registered = false;
	dc->ep = (dc->ep + 1) % dc->n_eps;
	ntm_log_debug("DC: next attempt with %s in %llu ms", ep_text(dc, ep, sizeof(ep)),
		      (unsigned long long)wait);
	arm(dc, PH_BACKOFF, now_of(dc) + wait);
}

void en_dcclient_poll(struct en_dcclient *dc)
{
	uint64_t now = now_of(dc);

	if (dc->phase == PH_STOPPED) {
		return;
	}
	if (now < dc->deadline) {
		arm(dc, dc->phase, dc->deadline);
		return;
	}
	switch (dc->phase) {
	case PH_BACKOFF:
		dc->session_registered = false;
		begin_handshake(dc);
		break;
	case PH_HANDSHAKE:
		if (dc->tries++ < EN_DC_TRIES) {
			send_initiation(dc);
		} else {
			attempt_failed(dc, false);
		}
		break;
	case PH_REQUEST:
		if (dc->tries++ >= EN_DC_TRIES || !send_request(dc)) {
			attempt_failed(dc, false);
		}
		break;
	case PH_IDLE:
		if (ntm_ctrl_session_needs_handshake(dc->s, now)) {
			begin_handshake(dc); /* the keep-alive follows on the new keys */
		} else {
			send_keepalive(dc);
		}
		break;
	default:
		break;
	}
}

/* ---------------------------------------------------------------- answers */

static void log_vips(const struct en_dcclient *dc, const char *what)
{
	char v4[INET_ADDRSTRLEN] = "?", v6[INET6_ADDRSTRLEN] = "?", out[NTM_ADDR_STRLEN] = "?";
	char ep[NTM_ADDR_STRLEN];

	inet_ntop(AF_INET, dc->vips.vip4, v4, sizeof(v4));
	inet_ntop(AF_INET6, dc->vips.vip6, v6, sizeof(v6));
	if (dc->outside.len > 0 && ntm_addr_format(&dc->outside, out, sizeof(out)) < 0) {
		snprintf(out, sizeof(out), "?");
	}
	ntm_log_info("DC %s: %s as %s: VIPs %s and %s, outside address %s%s",
		     ep_text(dc, ep, sizeof(ep)), what, dc->name, v4, v6, out,
		     dc->is_public ? " (no NAT)" : "");
}

static void note_outside(struct en_dcclient *dc, const struct ntm_ctrl_msg *m)
{
	struct ntm_addr a;

	if (!ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_OUTSIDE) || ntm_ctrl_addr_to(&a, &m->outside) < 0) {
		return;
	}
	if (dc->outside.len > 0 && !ntm_addr_equal(&a, &dc->outside)) {
		char text[NTM_ADDR_STRLEN];

		if (ntm_addr_format(&a, text, sizeof(text)) == 0) {
			ntm_log_info("DC: the outside address is now %s", text);
		}
	}
	dc->outside = a;
	dc->is_public = false;
	for (size_t i = 0; i < dc->n_sent_cands; i++) {
		dc->is_public = dc->is_public || ntm_addr_equal(&a, &dc->sent_cands[i]);
	}
}

static void note_pools(struct en_dcclient *dc, const struct ntm_ctrl_msg *m)
{
	uint32_t bits = m->attrs & (1u << NTM_CTRL_ATTR_POOL4 | 1u << NTM_CTRL_ATTR_POOL6);
	bool has4 = ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_POOL4);
	bool has6 = ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_POOL6);

	if (bits == dc->pools_attrs && (!has4 || ntm_prefix_equal(&m->pool4, &dc->pool4)) &&
	    (!has6 || ntm_prefix_equal(&m->pool6, &dc->pool6))) {
		return;
	}
	dc->pools_attrs = bits;
	dc->pool4 = m->pool4;
	dc->pool6 = m->pool6;
	if (dc->ops.set_pools != NULL) {
		dc->ops.set_pools(dc->ops.arg, has4 ? &dc->pool4 : NULL, has6 ? &dc->pool6 : NULL);
	}
}

static void on_register_ok(struct en_dcclient *dc, const struct ntm_ctrl_msg *m)
{
	struct en_dc_vips v;
	bool was_registered = dc->state == EN_DC_REGISTERED;
	bool changed;

	memcpy(v.vip4, m->vip4, sizeof(v.vip4));
	memcpy(v.vip6, m->vip6, sizeof(v.vip6));
	changed = dc->has_vips && sodium_memcmp(&v, &dc->vips, sizeof(v)) != 0;
	if (!dc->has_vips || changed) {
		if (changed) {
			ntm_log_warn("DC: the VIPs changed; replacing them on the interface");
		}
		dc->ops.set_vips(dc->ops.arg, dc->has_vips ? &dc->vips : NULL, &v);
		dc->vips = v;
		dc->has_vips = true;
	}
	note_pools(dc, m);
	note_outside(dc, m);
	dc->keepalive_s = m->keepalive;
	dc->state = EN_DC_REGISTERED;
	dc->session_registered = true;
	dc->failures = 0;
	dc->last_error = 0;
	ntm_crypto_secure_free(dc->token); /* one-time: enrolled now */
	dc->token = NULL;
	sodium_memzero(dc->req, sizeof(dc->req)); /* the REGISTER held the token */
	if (!was_registered || changed) {
		log_vips(dc, "registered");
	}
	arm(dc, PH_IDLE, now_of(dc) + (uint64_t)dc->keepalive_s * 1000);
}

static void on_error(struct en_dcclient *dc, const struct ntm_ctrl_msg *m)
{
	char ep[NTM_ADDR_STRLEN], pub[NTM_KEY_B64_SIZE];
	struct ntm_key k;

	if (m->error_code == NTM_CTRL_E_NOT_REGISTERED && dc->req_kind == NTM_CTRL_KEEPALIVE) {
		dc->session_registered = false; /* the DC forgot us: register again at once */
		send_register(dc);
		return;
	}
	ep_text(dc, ep, sizeof(ep));
	if (m->error_code != dc->last_error) {
		ntm_log_err("DC %s: %s refused: %s%s%s%s", ep, ntm_ctrl_kind_name(dc->req_kind),
			    ntm_ctrl_error_name(m->error_code), m->error_text[0] ? " (" : "",
			    m->error_text, m->error_text[0] ? ")" : "");
		if (m->error_code == NTM_CTRL_E_NOT_ENROLLED) {
			memcpy(k.b, dc->public_key, sizeof(k.b));
			ntm_key_to_base64(pub, &k);
			ntm_log_err("DC %s: this node's key is not enrolled; on the DC run: "
				    "ntmctl -s DC_SOCKET enroll %s %s (or configure a Token)",
				    ep, dc->name, pub);
		}
	}
	dc->last_error = m->error_code;
	attempt_failed(dc, true);
}

static void on_answer(struct en_dcclient *dc, const struct ntm_ctrl_msg *m)
{
	bool mine = dc->phase == PH_REQUEST && m->req_id == dc->req_id;

	if (!mine &&
	    (m->kind == NTM_CTRL_DIRECTION || m->kind == NTM_CTRL_ERROR ||
	     m->kind == NTM_CTRL_PEER_REVOKED) &&
	    dc->ops.message != NULL) {
		dc->ops.message(dc->ops.arg, m); /* directions (endnode/resolve.c) */
		return;
	}
	if (!mine) {
		dc->drops++; /* a late answer to a retransmission: nothing outstanding */
		return;
	}
	if (m->kind == NTM_CTRL_ERROR) {
		on_error(dc, m);
	} else if (m->kind == NTM_CTRL_REGISTER_OK && dc->req_kind == NTM_CTRL_REGISTER) {
		on_register_ok(dc, m);
	} else if (m->kind == NTM_CTRL_KEEPALIVE_ACK && dc->req_kind == NTM_CTRL_KEEPALIVE) {
		note_outside(dc, m);
		dc->state = EN_DC_REGISTERED;
		arm(dc, PH_IDLE, now_of(dc) + (uint64_t)dc->keepalive_s * 1000);
	} else {
		dc->drops++;
	}
}

/* ---------------------------------------------------------------- receive */

static void on_response(struct en_dcclient *dc, const uint8_t *buf, size_t len,
			const struct ntm_addr *from)
{
	struct ntm_cookie_pkt pkt = { .msg = buf, .len = len, .port = ntm_addr_port(from) };
	uint64_t now = now_of(dc);

	if (from->sa.sa_family == AF_INET6) {
		pkt.addr = from->sin6.sin6_addr.s6_addr;
		pkt.addr_len = 16;
	} else {
		pkt.addr = (const uint8_t *)&from->sin.sin_addr.s_addr;
		pkt.addr_len = 4;
	}
	if (dc->phase != PH_HANDSHAKE ||
	    ntm_cookie_validate(dc->checker, &pkt, now, false) == NTM_COOKIE_BAD ||
	    ntm_ctrl_session_consume_response(dc->s, buf, len, now) < 0) {
		dc->drops++;
		return;
	}
	dc->last_contact = now;
	dc->contacted = true;
	if (dc->session_registered) {
		send_keepalive(dc); /* a rekey before a keep-alive */
	} else {
		send_register(dc);
	}
}

static void on_cookie_reply(struct en_dcclient *dc, const uint8_t *buf, size_t len)
{
	if (dc->phase != PH_HANDSHAKE ||
	    ntm_ctrl_session_consume_cookie(dc->s, buf, len, now_of(dc)) < 0) {
		dc->drops++;
		return;
	}
	if (!dc->cookie_retried) {
		dc->cookie_retried = true; /* the DC is under load: once more, now with mac2 */
		send_initiation(dc);
	}
}

static void on_data(struct en_dcclient *dc, const uint8_t *buf, size_t len)
{
	uint8_t plain[NTM_CTRL_PLAIN_MAX];
	struct ntm_ctrl_msg m;
	struct ntm_wg_data d;
	uint64_t now = now_of(dc);
	size_t plen = 0;

	if (ntm_wire_decode_ctrl_data(buf, len, &d) < 0 ||
	    ntm_ctrl_session_open(dc->s, &d, now, plain, sizeof(plain), &plen) < 0) {
		dc->drops++;
		return;
	}
	dc->last_contact = now;
	dc->contacted = true;
	if (ntm_ctrl_msg_decode(plain, plen, &m) < 0) {
		dc->drops++;
	} else {
		on_answer(dc, &m);
	}
	sodium_memzero(plain, plen);
	sodium_memzero(&m, sizeof(m));
}

void en_dcclient_receive(struct en_dcclient *dc, const uint8_t *buf, size_t len,
			 const struct ntm_addr *from)
{
	enum ntm_msg_type type;

	if (dc->phase == PH_STOPPED || ntm_wire_classify(buf, len, &type) < 0) {
		dc->drops++;
		return;
	}
	switch (type) {
	case NTM_MSG_CTRL_RESPONSE:
		on_response(dc, buf, len, from);
		break;
	case NTM_MSG_CTRL_COOKIE_REPLY:
		on_cookie_reply(dc, buf, len);
		break;
	case NTM_MSG_CTRL_DATA:
		on_data(dc, buf, len);
		break;
	default:
		dc->drops++; /* a DC never initiates; nobody else may */
		break;
	}
}

void en_dcclient_get_info(const struct en_dcclient *dc, struct en_dcclient_info *out)
{
	uint64_t now = now_of(dc);

	memset(out, 0, sizeof(*out));
	out->state = dc->state;
	out->endpoint = dc->eps[dc->ep];
	out->has_vips = dc->has_vips;
	out->vips = dc->vips;
	out->outside = dc->outside;
	out->is_public = dc->is_public;
	out->last_contact_ms = dc->contacted ? (int64_t)(now - dc->last_contact) : -1;
	out->last_error = dc->last_error;
	out->drops = dc->drops;
}

/* Seals and sends one DIRECTION_REQUEST `m` on the registered session. */
static int send_direction_request(struct en_dcclient *dc, const struct ntm_ctrl_msg *m)
{
	uint8_t plain[NTM_CTRL_PLAIN_MAX], out[NTM_CTRL_DATA_MAX_LEN];
	struct ntm_wbuf w;
	size_t len;

	if (dc->state != EN_DC_REGISTERED || !dc->session_registered) {
		return -ENOTCONN;
	}
	ntm_wbuf_init(&w, plain, sizeof(plain));
	if (m->req_id == 0 || ntm_ctrl_msg_encode(&w, m) < 0) {
		return -EINVAL;
	}
	len = w.len;
	ntm_wbuf_init(&w, out, sizeof(out));
	if (ntm_ctrl_session_seal(dc->s, plain, len, now_of(dc), &w) < 0) {
		return -ENOTCONN;
	}
	send_datagram(dc, out, w.len);
	return 0;
}

int en_dcclient_direction_request(struct en_dcclient *dc, uint32_t req_id, const char *fqdn)
{
	struct ntm_ctrl_msg m;

	ntm_ctrl_msg_init(&m, NTM_CTRL_DIRECTION_REQUEST, req_id);
	m.attrs |= 1u << NTM_CTRL_ATTR_FQDN;
	snprintf(m.fqdn, sizeof(m.fqdn), "%s", fqdn);
	return send_direction_request(dc, &m);
}

int en_dcclient_direction_request_vip(struct en_dcclient *dc, uint32_t req_id, int family,
				      const uint8_t *vip)
{
	struct ntm_ctrl_msg m;

	if (family != AF_INET && family != AF_INET6) {
		return -EINVAL;
	}
	ntm_ctrl_msg_init(&m, NTM_CTRL_DIRECTION_REQUEST, req_id);
	m.attrs |= 1u << NTM_CTRL_ATTR_TARGET_VIP;
	m.target_family = family == AF_INET ? 4 : 6;
	memcpy(m.target_vip, vip, family == AF_INET ? 4 : 16);
	return send_direction_request(dc, &m);
}
