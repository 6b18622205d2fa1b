/* SPDX-License-Identifier: MIT */
/*
 * The DC client's state machine without sockets: its output hooks capture
 * datagrams, a fake clock moves time, and an in-process DC (a control
 * session as responder, common/ctrl.h) answers. The loop runs only at the
 * end, to close the client.
 */
#include "endnode/dcclient.h"

#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/cookie.h"
#include "common/crypto.h"
#include "common/ctrl.h"
#include "common/ctrlmsg.h"
#include "common/key.h"
#include "common/noise.h"
#include "ntm_test.h"

enum { QMAX = 16, PKT_MAX = 2048 };

struct world {
	uint64_t now;
	uint8_t buf[QMAX][PKT_MAX];
	size_t len[QMAX];
	struct ntm_addr to[QMAX];
	int n;
	int vip_calls;
	bool old_was_null;
	struct en_dc_vips vips, old;
	struct ntm_addr cand;
	int msgs; /* ops.message calls */
	struct ntm_ctrl_msg msg;
	int outside_calls; /* ops.outside_changed calls */
	struct ntm_addr outside;
};

/* The in-process DC: its identity and its session with the node's key. */
struct fake_dc {
	struct ntm_noise_identity *id;
	struct ntm_cookie_checker *checker;
	struct ntm_ctrl_session *s;
	struct ntm_key priv, pub;
	uint32_t next_index; /* a fresh local index per handshake, as a real DC */
};

static int cap_send(void *arg, const struct ntm_addr *to, const uint8_t *buf, size_t len)
{
	struct world *w = arg;

	if (w->n == QMAX || len > PKT_MAX) {
		return -ENOBUFS;
	}
	memcpy(w->buf[w->n], buf, len);
	w->len[w->n] = len;
	w->to[w->n++] = *to;
	return 0;
}

static void cap_vips(void *arg, const struct en_dc_vips *old, const struct en_dc_vips *vips)
{
	struct world *w = arg;

	w->vip_calls++;
	w->old_was_null = old == NULL;
	if (old != NULL) {
		w->old = *old;
	}
	w->vips = *vips;
}

static size_t one_candidate(void *arg, struct ntm_addr *out, size_t cap)
{
	struct world *w = arg;

	if (cap == 0) {
		return 0;
	}
	out[0] = w->cand;
	return 1;
}

static void cap_outside(void *arg, const struct ntm_addr *outside)
{
	struct world *w = arg;

	w->outside_calls++;
	w->outside = *outside;
}

static void cap_msg(void *arg, const struct ntm_ctrl_msg *m)
{
	struct world *w = arg;

	w->msgs++;
	w->msg = *m;
}

static uint64_t fake_now(void *arg)
{
	return ((struct world *)arg)->now;
}

/* Removes the oldest captured datagram into buf; returns its length (0: none). */
static size_t pop(struct world *w, uint8_t *buf, struct ntm_addr *to)
{
	size_t len;

	if (w->n == 0) {
		return 0;
	}
	len = w->len[0];
	memcpy(buf, w->buf[0], len);
	if (to != NULL) {
		*to = w->to[0];
	}
	memmove(&w->buf[0], &w->buf[1], (size_t)(w->n - 1) * sizeof(w->buf[0]));
	memmove(&w->len[0], &w->len[1], (size_t)(w->n - 1) * sizeof(w->len[0]));
	memmove(&w->to[0], &w->to[1], (size_t)(w->n - 1) * sizeof(w->to[0]));
	w->n--;
	return len;
}

static struct ntm_noise_handshake *lookup(void *ctx, const uint8_t *static_pub)
{
	struct fake_dc *dc = ctx;
	uint8_t pub[NTM_WG_KEY_LEN];

	ntm_ctrl_session_peer_public(dc->s, pub);
	return memcmp(pub, static_pub, sizeof(pub)) == 0 ? ntm_ctrl_session_handshake(dc->s) : NULL;
}

static void fake_dc_init(struct fake_dc *dc, const struct ntm_key *node_pub)
{
	memset(dc, 0, sizeof(*dc));
	CU_ASSERT_EQUAL_FATAL(ntm_key_generate(&dc->priv), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_key_public(&dc->pub, &dc->priv), 0);
	CU_ASSERT_EQUAL_FATAL(
		ntm_noise_identity_create_profile(dc->priv.b, NTM_NOISE_CONTROL, &dc->id), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_cookie_checker_create(dc->pub.b, &dc->checker), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_session_create(dc->id, node_pub->b, dc, &dc->s), 0);
}

static void fake_dc_fini(struct fake_dc *dc)
{
	ntm_ctrl_session_destroy(dc->s);
	ntm_cookie_checker_destroy(dc->checker);
	ntm_noise_identity_destroy(dc->id);
}

/* The DC side of a handshake: takes the node's initiation and delivers the response. */
static void dc_handshake(struct world *w, struct fake_dc *dc, struct en_dcclient *c)
{
	uint8_t in[PKT_MAX], out[PKT_MAX];
	struct ntm_addr to;
	struct ntm_wg_initiation m;
	struct ntm_noise_handshake *hs;
	struct ntm_cookie_pkt pkt;
	struct ntm_wbuf wb;
	size_t len = pop(w, in, &to);

	CU_ASSERT_EQUAL_FATAL(len, NTM_WG_INITIATION_LEN);
	CU_ASSERT_EQUAL(in[0], NTM_MSG_CTRL_INITIATION);
	pkt = (struct ntm_cookie_pkt){ .msg = in, .len = len, .addr = in, .addr_len = 4 };
	CU_ASSERT_NOT_EQUAL(ntm_cookie_validate(dc->checker, &pkt, w->now, false), NTM_COOKIE_BAD);
	CU_ASSERT_EQUAL_FATAL(ntm_wire_decode_ctrl_initiation(in, len, &m), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_noise_consume_initiation(dc->id, &m, lookup, dc, &hs), 0);
	ntm_wbuf_init(&wb, out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_session_respond(dc->s, ++dc->next_index, w->now, &wb), 0);
	en_dcclient_receive(c, out, wb.len, &to);
}

/* The DC reads the node's next request. */
static void dc_read(struct world *w, struct fake_dc *dc, struct ntm_ctrl_msg *m)
{
	uint8_t in[PKT_MAX], plain[NTM_CTRL_PLAIN_MAX];
	struct ntm_wg_data d;
	size_t len = pop(w, in, NULL), plen;

	CU_ASSERT_FATAL(len > 0);
	CU_ASSERT_EQUAL_FATAL(ntm_wire_decode_ctrl_data(in, len, &d), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_session_open(dc->s, &d, w->now, plain, sizeof(plain), &plen),
			      0);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(plain, plen, m), 0);
}

static void dc_send(struct world *w, struct fake_dc *dc, struct en_dcclient *c,
		    const struct ntm_ctrl_msg *m)
{
	uint8_t plain[NTM_CTRL_PLAIN_MAX], out[PKT_MAX];
	struct ntm_wbuf pw, wb;
	struct ntm_addr from;

	CU_ASSERT_EQUAL_FATAL(ntm_addr_parse("198.51.100.1:7000", 0, &from, NULL, 0), 0);
	ntm_wbuf_init(&pw, plain, sizeof(plain));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&pw, m), 0);
	ntm_wbuf_init(&wb, out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_session_seal(dc->s, plain, pw.len, w->now, &wb), 0);
	en_dcclient_receive(c, out, wb.len, &from);
}

static void register_ok(struct ntm_ctrl_msg *a, uint32_t req_id, uint8_t last_byte)
{
	ntm_ctrl_msg_init(a, NTM_CTRL_REGISTER_OK, req_id);
	a->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP4) | NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP6) |
		    NTM_CTRL_BIT(NTM_CTRL_ATTR_OUTSIDE) | NTM_CTRL_BIT(NTM_CTRL_ATTR_KEEPALIVE);
	CU_ASSERT_EQUAL(inet_pton(AF_INET, "100.80.0.2", a->vip4), 1);
	CU_ASSERT_EQUAL(inet_pton(AF_INET6, "fd80:1::2", a->vip6), 1);
	a->vip4[3] = last_byte;
	a->vip6[15] = last_byte;
	a->outside = (struct ntm_ctrl_addr){ .family = 4, .ip = { 203, 0, 113, 9 }, .port = 4444 };
	a->keepalive = 25;
	CU_ASSERT_EQUAL(ntm_ctrl_msg_add_domain(a, "example.net"), 0);
	CU_ASSERT_EQUAL(ntm_ctrl_msg_add_domain(a, "other.example"), 0);
}

static void error_msg(struct ntm_ctrl_msg *a, uint32_t req_id, enum ntm_ctrl_error code)
{
	ntm_ctrl_msg_init(a, NTM_CTRL_ERROR, req_id);
	a->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_ERROR_CODE);
	a->error_code = (uint16_t)code;
}

/* A config for `priv` with two DC endpoints (v4, v6) and an optional token. */
static struct en_config *make_config(const struct ntm_key *priv, const struct ntm_key *dc_pub,
				     const char *token)
{
	struct en_config *cfg = ntm_calloc(1, sizeof(*cfg));

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	cfg->private_key = ntm_crypto_secure_alloc(NTM_WG_KEY_LEN);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg->private_key);
	memcpy(cfg->private_key, priv->b, NTM_WG_KEY_LEN);
	snprintf(cfg->name, sizeof(cfg->name), "a.example.net");
	cfg->has_dc = true;
	memcpy(cfg->dc.public_key, dc_pub->b, NTM_WG_KEY_LEN);
	CU_ASSERT_EQUAL(ntm_addr_parse("198.51.100.1:7000", 0, &cfg->dc.endpoints[0], NULL, 0), 0);
	CU_ASSERT_EQUAL(ntm_addr_parse("[2001:db8::1]:7000", 0, &cfg->dc.endpoints[1], NULL, 0), 0);
	cfg->dc.n_endpoints = 2;
	if (token != NULL) {
		cfg->dc.token = ntm_crypto_secure_alloc(EN_CONFIG_TOKEN_MAX + 1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(cfg->dc.token);
		snprintf(cfg->dc.token, EN_CONFIG_TOKEN_MAX + 1, "%s", token);
	}
	return cfg;
}

struct fixture {
	uv_loop_t loop;
	struct world w;
	struct fake_dc dc;
	struct ntm_key priv, pub;
	struct en_dcclient *c;
};

static void setup(struct fixture *f, const char *token)
{
	const struct en_dcclient_ops ops = { cap_send, cap_vips, one_candidate, fake_now,
					     &f->w,    cap_msg,	 NULL,		cap_outside };
	struct en_config *cfg;

	memset(f, 0, sizeof(*f));
	CU_ASSERT_EQUAL_FATAL(ntm_crypto_init(), 0);
	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&f->loop), 0);
	f->w.now = 1000000;
	CU_ASSERT_EQUAL_FATAL(ntm_addr_parse("192.0.2.50:4000", 0, &f->w.cand, NULL, 0), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_key_generate(&f->priv), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_key_public(&f->pub, &f->priv), 0);
	fake_dc_init(&f->dc, &f->pub);
	cfg = make_config(&f->priv, &f->dc.pub, token);
	CU_ASSERT_EQUAL_FATAL(en_dcclient_create(&f->loop, cfg, &ops, &f->c), 0);
	en_config_destroy(cfg);
}

static void teardown(struct fixture *f)
{
	en_dcclient_close(f->c, NULL, NULL);
	CU_ASSERT_EQUAL(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
	CU_ASSERT_EQUAL(uv_loop_close(&f->loop), 0);
	fake_dc_fini(&f->dc);
}

static enum en_dc_state state_of(struct en_dcclient *c)
{
	struct en_dcclient_info info;

	en_dcclient_get_info(c, &info);
	return info.state;
}

/* Moves the clock by `ms` and lets the client act. */
static void advance(struct fixture *f, uint64_t ms)
{
	f->w.now += ms;
	en_dcclient_poll(f->c);
}

/* start -> handshake -> REGISTER (with token) -> REGISTER_OK. */
static void register_once(struct fixture *f, uint8_t vip_byte, bool expect_token)
{
	struct ntm_ctrl_msg m, a;

	dc_handshake(&f->w, &f->dc, f->c);
	dc_read(&f->w, &f->dc, &m);
	CU_ASSERT_EQUAL(m.kind, NTM_CTRL_REGISTER);
	CU_ASSERT_STRING_EQUAL(m.fqdn, "a.example.net");
	CU_ASSERT_EQUAL(ntm_ctrl_msg_has(&m, NTM_CTRL_ATTR_TOKEN), expect_token);
	CU_ASSERT_EQUAL(m.n_cand, 1);
	CU_ASSERT_EQUAL(m.cand[0].port, 4000);
	register_ok(&a, m.req_id, vip_byte);
	dc_send(&f->w, &f->dc, f->c, &a);
}

static void test_register_and_keepalive(void)
{
	struct fixture f;
	struct en_dcclient_info info;
	struct ntm_ctrl_msg m, a;
	char text[NTM_ADDR_STRLEN];
	const char *domains[4];

	setup(&f, "tok-1");
	en_dcclient_start(f.c);
	CU_ASSERT_EQUAL(state_of(f.c), EN_DC_REGISTERING);
	CU_ASSERT_EQUAL(en_dcclient_domains(f.c, domains, 4), 0);
	register_once(&f, 2, true);
	/* the overlay domains the DC announced */
	CU_ASSERT_EQUAL_FATAL(en_dcclient_domains(f.c, domains, 4), 2);
	CU_ASSERT_STRING_EQUAL(domains[0], "example.net");
	CU_ASSERT_STRING_EQUAL(domains[1], "other.example");
	CU_ASSERT_EQUAL(en_dcclient_domains(f.c, domains, 1), 1);
	en_dcclient_get_info(f.c, &info);
	CU_ASSERT_EQUAL(info.state, EN_DC_REGISTERED);
	CU_ASSERT_EQUAL(f.w.vip_calls, 1);
	CU_ASSERT(f.w.old_was_null);
	CU_ASSERT_EQUAL(f.w.vips.vip4[3], 2);
	CU_ASSERT(info.has_vips);
	CU_ASSERT_EQUAL(ntm_addr_format(&info.outside, text, sizeof(text)), 0);
	CU_ASSERT_STRING_EQUAL(text, "203.0.113.9:4444");
	CU_ASSERT_FALSE(info.is_public);
	CU_ASSERT_EQUAL(info.last_contact_ms, 0);

	/* Nothing before the keep-alive interval; then a KEEPALIVE. */
	advance(&f, 24000);
	CU_ASSERT_EQUAL(f.w.n, 0);
	advance(&f, 1000);
	dc_read(&f.w, &f.dc, &m);
	CU_ASSERT_EQUAL(m.kind, NTM_CTRL_KEEPALIVE);
	/* A retransmission after 1 s, answered late: the answer to the first id still counts. */
	advance(&f, 1000);
	dc_read(&f.w, &f.dc, &a);
	CU_ASSERT_EQUAL(a.req_id, m.req_id);
	ntm_ctrl_msg_init(&a, NTM_CTRL_KEEPALIVE_ACK, m.req_id);
	dc_send(&f.w, &f.dc, f.c, &a);
	CU_ASSERT_EQUAL(state_of(f.c), EN_DC_REGISTERED);
	/* A duplicate answer is dropped. */
	dc_send(&f.w, &f.dc, f.c, &a);
	en_dcclient_get_info(f.c, &info);
	CU_ASSERT_EQUAL(info.drops, 1);
	CU_ASSERT_EQUAL(f.w.vip_calls, 1);
	teardown(&f);
}

/* REGISTER_OK names AltListen: one KEEPALIVE goes there, its answer sets the NAT class. */
static void test_alt_probe_learns_nat(void)
{
	struct fixture f;
	struct en_dcclient_info info;
	struct ntm_ctrl_msg m, a;
	struct ntm_addr to;
	uint8_t buf[PKT_MAX];
	char text[NTM_ADDR_STRLEN];

	setup(&f, NULL);
	en_dcclient_start(f.c);
	dc_handshake(&f.w, &f.dc, f.c);
	dc_read(&f.w, &f.dc, &m);
	register_ok(&a, m.req_id, 2);
	a.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_ALT_ENDPOINT) | NTM_CTRL_BIT(NTM_CTRL_ATTR_FAMILIES);
	a.alt_endpoint =
		(struct ntm_ctrl_addr){ .family = 4, .ip = { 198, 51, 100, 1 }, .port = 7001 };
	a.families = NTM_CTRL_FAMILY_V4;
	dc_send(&f.w, &f.dc, f.c, &a);
	en_dcclient_get_info(f.c, &info);
	CU_ASSERT_EQUAL(info.nat, NTM_CTRL_NAT_UNKNOWN);
	CU_ASSERT_EQUAL(info.families, NTM_CTRL_FAMILY_V4);
	CU_ASSERT_EQUAL_FATAL(f.w.n, 1);
	CU_ASSERT_EQUAL(ntm_addr_format(&f.w.to[0], text, sizeof(text)), 0);
	CU_ASSERT_STRING_EQUAL(text, "198.51.100.1:7001");
	dc_read(&f.w, &f.dc, &m);
	CU_ASSERT_EQUAL(m.kind, NTM_CTRL_KEEPALIVE);
	ntm_ctrl_msg_init(&a, NTM_CTRL_KEEPALIVE_ACK, m.req_id);
	a.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_NAT);
	a.nat = NTM_CTRL_NAT_EDM;
	dc_send(&f.w, &f.dc, f.c, &a);
	en_dcclient_get_info(f.c, &info);
	CU_ASSERT_EQUAL(info.nat, NTM_CTRL_NAT_EDM);
	CU_ASSERT_EQUAL(info.drops, 0);
	/* Classified: the next keep-alive goes to the main endpoint only. */
	advance(&f, 25000);
	CU_ASSERT_EQUAL(f.w.n, 1);
	CU_ASSERT(pop(&f.w, buf, &to) > 0);
	CU_ASSERT_EQUAL(ntm_addr_port(&to), 7000);
	teardown(&f);
}

static void direction_msg(struct ntm_ctrl_msg *d, uint32_t req_id)
{
	ntm_ctrl_msg_init(d, NTM_CTRL_DIRECTION, req_id);
	d->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN) | NTM_CTRL_BIT(NTM_CTRL_ATTR_PUBKEY) |
		    NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP4) | NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP6) |
		    NTM_CTRL_BIT(NTM_CTRL_ATTR_OUTSIDE);
	snprintf(d->fqdn, sizeof(d->fqdn), "b.example.net");
	memset(d->pubkey, 7, sizeof(d->pubkey));
	d->vip4[0] = 100;
	d->vip6[0] = 0xfd;
	d->outside = (struct ntm_ctrl_addr){ .family = 4, .ip = { 203, 0, 113, 7 }, .port = 5555 };
}

/* Direction requests go out on the registered session; DIRECTIONs and foreign ERRORs come back. */
static void test_direction(void)
{
	struct fixture f;
	struct ntm_ctrl_msg m, k, a;

	setup(&f, NULL);
	en_dcclient_start(f.c);
	CU_ASSERT_EQUAL(en_dcclient_direction_request(f.c, 11, "b.example.net"), -ENOTCONN);
	register_once(&f, 2, false);
	CU_ASSERT_EQUAL(en_dcclient_direction_request(f.c, 0, "b.example.net"), -EINVAL);
	CU_ASSERT_EQUAL(en_dcclient_direction_request(f.c, 11, "b.example.net"), 0);
	dc_read(&f.w, &f.dc, &m);
	CU_ASSERT_EQUAL(m.kind, NTM_CTRL_DIRECTION_REQUEST);
	CU_ASSERT_EQUAL(m.req_id, 11);
	CU_ASSERT_STRING_EQUAL(m.fqdn, "b.example.net");
	/* While a keep-alive is outstanding, the answer and an unsolicited one reach the hook. */
	advance(&f, 25000);
	dc_read(&f.w, &f.dc, &k);
	CU_ASSERT_EQUAL(k.kind, NTM_CTRL_KEEPALIVE);
	direction_msg(&a, 11);
	dc_send(&f.w, &f.dc, f.c, &a);
	CU_ASSERT_EQUAL(f.w.msgs, 1);
	CU_ASSERT_EQUAL(f.w.msg.kind, NTM_CTRL_DIRECTION);
	CU_ASSERT_EQUAL(f.w.msg.req_id, 11);
	CU_ASSERT_EQUAL(f.w.msg.pubkey[31], 7);
	direction_msg(&a, 0);
	dc_send(&f.w, &f.dc, f.c, &a);
	CU_ASSERT_EQUAL(f.w.msgs, 2);
	error_msg(&a, 13, NTM_CTRL_E_UNKNOWN_NAME);
	dc_send(&f.w, &f.dc, f.c, &a);
	CU_ASSERT_EQUAL(f.w.msgs, 3);
	CU_ASSERT_EQUAL(f.w.msg.error_code, NTM_CTRL_E_UNKNOWN_NAME);
	/* The keep-alive's own answer is still the client's. */
	ntm_ctrl_msg_init(&a, NTM_CTRL_KEEPALIVE_ACK, k.req_id);
	dc_send(&f.w, &f.dc, f.c, &a);
	CU_ASSERT_EQUAL(f.w.msgs, 3);
	CU_ASSERT_EQUAL(state_of(f.c), EN_DC_REGISTERED);
	teardown(&f);
}

static void test_dc_lost_and_back(void)
{
	struct fixture f;
	struct en_dcclient_info info;
	struct ntm_ctrl_msg m;

	setup(&f, "tok-2");
	en_dcclient_start(f.c);
	register_once(&f, 2, true);
	/* The DC goes silent: the keep-alive and its 2 retries go unanswered. */
	advance(&f, 25000);
	CU_ASSERT_EQUAL(f.w.n, 1);
	advance(&f, 1000);
	advance(&f, 2000);
	CU_ASSERT_EQUAL(f.w.n, 3);
	CU_ASSERT_EQUAL(state_of(f.c), EN_DC_REGISTERED);
	advance(&f, 4000);
	CU_ASSERT_EQUAL(state_of(f.c), EN_DC_UNREACHABLE);
	f.w.n = 0;
	/* Backoff of 1 s +-25%, then the next endpoint (IPv6). */
	advance(&f, 700);
	CU_ASSERT_EQUAL(f.w.n, 0);
	advance(&f, 600);
	CU_ASSERT_EQUAL_FATAL(f.w.n, 1);
	CU_ASSERT(ntm_addr_is_v6(&f.w.to[0]));
	en_dcclient_get_info(f.c, &info);
	CU_ASSERT(ntm_addr_is_v6(&info.endpoint));
	/* The handshake retries twice, then waits ~2 s and goes back to IPv4. */
	advance(&f, 1000);
	advance(&f, 2000);
	CU_ASSERT_EQUAL(f.w.n, 3);
	advance(&f, 4000);
	f.w.n = 0;
	usleep(20000); /* the next initiation needs a newer TAI64N timestamp than the first */
	advance(&f, 2600);
	CU_ASSERT_EQUAL_FATAL(f.w.n, 1);
	CU_ASSERT_FALSE(ntm_addr_is_v6(&f.w.to[0]));
	/* The DC is back: the same VIPs, no token (consumed), no set_vips call. */
	register_once(&f, 2, false);
	CU_ASSERT_EQUAL(state_of(f.c), EN_DC_REGISTERED);
	CU_ASSERT_EQUAL(f.w.vip_calls, 1);
	/* The DC forgot the registration: KEEPALIVE -> NOT_REGISTERED -> REGISTER at once. */
	advance(&f, 25000);
	dc_read(&f.w, &f.dc, &m);
	CU_ASSERT_EQUAL(m.kind, NTM_CTRL_KEEPALIVE);
	{
		struct ntm_ctrl_msg a;

		error_msg(&a, m.req_id, NTM_CTRL_E_NOT_REGISTERED);
		dc_send(&f.w, &f.dc, f.c, &a);
		dc_read(&f.w, &f.dc, &m);
		CU_ASSERT_EQUAL(m.kind, NTM_CTRL_REGISTER);
		/* Different VIPs (they should not change, but if they do, they are replaced). */
		register_ok(&a, m.req_id, 9);
		dc_send(&f.w, &f.dc, f.c, &a);
	}
	CU_ASSERT_EQUAL(f.w.vip_calls, 2);
	CU_ASSERT_FALSE(f.w.old_was_null);
	CU_ASSERT_EQUAL(f.w.old.vip4[3], 2);
	CU_ASSERT_EQUAL(f.w.vips.vip6[15], 9);
	teardown(&f);
}

static void test_refused(void)
{
	struct fixture f;
	struct en_dcclient_info info;
	struct ntm_ctrl_msg m, a;

	setup(&f, NULL);
	en_dcclient_start(f.c);
	dc_handshake(&f.w, &f.dc, f.c);
	dc_read(&f.w, &f.dc, &m);
	CU_ASSERT_EQUAL(m.kind, NTM_CTRL_REGISTER);
	CU_ASSERT_FALSE(ntm_ctrl_msg_has(&m, NTM_CTRL_ATTR_TOKEN));
	error_msg(&a, m.req_id, NTM_CTRL_E_NOT_ENROLLED);
	dc_send(&f.w, &f.dc, f.c, &a);
	en_dcclient_get_info(f.c, &info);
	CU_ASSERT_EQUAL(info.state, EN_DC_REGISTERING);
	CU_ASSERT_EQUAL(info.last_error, NTM_CTRL_E_NOT_ENROLLED);
	CU_ASSERT_FALSE(info.has_vips);
	CU_ASSERT_EQUAL(f.w.vip_calls, 0);
	/* It keeps trying, with the next endpoint, after the backoff. */
	CU_ASSERT_EQUAL(f.w.n, 0);
	advance(&f, 1300);
	CU_ASSERT_EQUAL(f.w.n, 1);
	CU_ASSERT_EQUAL(f.w.buf[0][0], NTM_MSG_CTRL_INITIATION);
	teardown(&f);
}

static void test_garbage_is_dropped(void)
{
	struct fixture f;
	struct en_dcclient_info info;
	struct ntm_addr from;
	uint8_t junk[148] = { NTM_MSG_CTRL_RESPONSE };

	setup(&f, NULL);
	CU_ASSERT_EQUAL_FATAL(ntm_addr_parse("198.51.100.1:7000", 0, &from, NULL, 0), 0);
	en_dcclient_start(f.c);
	en_dcclient_receive(f.c, junk, 92, &from); /* bad mac1 */
	junk[0] = NTM_MSG_CTRL_DATA;
	en_dcclient_receive(f.c, junk, 48, &from); /* unknown index */
	junk[0] = NTM_MSG_CTRL_INITIATION;
	en_dcclient_receive(f.c, junk, sizeof(junk), &from); /* a DC never initiates */
	en_dcclient_receive(f.c, junk, 3, &from);	     /* too short */
	en_dcclient_get_info(f.c, &info);
	CU_ASSERT_EQUAL(info.drops, 4);
	CU_ASSERT_EQUAL(info.state, EN_DC_REGISTERING);
	CU_ASSERT_EQUAL(info.last_contact_ms, -1);
	teardown(&f);
}

/*
 * Mobility: a move registers again at once on the session (no handshake);
 * a changed outside address in a KEEPALIVE_ACK is reported once; a
 * re-direction request carries MOVED.
 */
static void test_moved_and_outside(void)
{
	struct fixture f;
	struct ntm_ctrl_msg m, a;
	char text[NTM_ADDR_STRLEN];

	setup(&f, "tok-1");
	en_dcclient_start(f.c);
	register_once(&f, 2, true);
	CU_ASSERT_EQUAL(f.w.outside_calls, 0);

	en_dcclient_moved(f.c);
	dc_read(&f.w, &f.dc, &m);
	CU_ASSERT_EQUAL(m.kind, NTM_CTRL_REGISTER);
	CU_ASSERT_FALSE(ntm_ctrl_msg_has(&m, NTM_CTRL_ATTR_TOKEN)); /* used up */
	CU_ASSERT_EQUAL(m.n_cand, 1);
	register_ok(&a, m.req_id, 2);
	dc_send(&f.w, &f.dc, f.c, &a);
	CU_ASSERT_EQUAL(state_of(f.c), EN_DC_REGISTERED);
	CU_ASSERT_EQUAL(f.w.outside_calls, 0); /* the same outside address */

	advance(&f, 25000);
	dc_read(&f.w, &f.dc, &m);
	CU_ASSERT_EQUAL(m.kind, NTM_CTRL_KEEPALIVE);
	ntm_ctrl_msg_init(&a, NTM_CTRL_KEEPALIVE_ACK, m.req_id);
	a.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_OUTSIDE);
	a.outside = (struct ntm_ctrl_addr){ .family = 4, .ip = { 203, 0, 113, 9 }, .port = 5555 };
	dc_send(&f.w, &f.dc, f.c, &a);
	CU_ASSERT_EQUAL_FATAL(f.w.outside_calls, 1);
	CU_ASSERT_EQUAL(ntm_addr_format(&f.w.outside, text, sizeof(text)), 0);
	CU_ASSERT_STRING_EQUAL(text, "203.0.113.9:5555");

	CU_ASSERT_EQUAL(en_dcclient_redirect(f.c, 77, "b.example.net"), 0);
	dc_read(&f.w, &f.dc, &m);
	CU_ASSERT_EQUAL(m.kind, NTM_CTRL_DIRECTION_REQUEST);
	CU_ASSERT_EQUAL(m.req_id, 77);
	CU_ASSERT(ntm_ctrl_msg_has(&m, NTM_CTRL_ATTR_MOVED));
	CU_ASSERT_STRING_EQUAL(m.fqdn, "b.example.net");
	teardown(&f);
}

/* Every allocation of en_dcclient_create() may fail; nothing leaks (ASan) and the loop closes. */
static void test_create_alloc_failures(void)
{
	const struct en_dcclient_ops ops = { cap_send, cap_vips, one_candidate, fake_now,
					     NULL,     NULL,	 NULL,		NULL };
	struct ntm_key priv, dc_pub;
	struct en_config *cfg;
	bool done = false;

	CU_ASSERT_EQUAL_FATAL(ntm_crypto_init(), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_key_generate(&priv), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_key_generate(&dc_pub), 0);
	cfg = make_config(&priv, &dc_pub, "tok");
	for (long k = 0; k < 64 && !done; k++) {
		struct en_dcclient *c;
		uv_loop_t loop;
		int rc;

		CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
		ntm_alloc_fail_after(k);
		rc = en_dcclient_create(&loop, cfg, &ops, &c);
		ntm_alloc_fail_reset();
		CU_ASSERT(rc == 0 || rc == -ENOMEM);
		CU_ASSERT((rc == 0) == (c != NULL));
		if (rc == 0) {
			en_dcclient_close(c, NULL, NULL);
			done = true;
		}
		CU_ASSERT_EQUAL(uv_run(&loop, UV_RUN_DEFAULT), 0);
		CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
	}
	CU_ASSERT(done);
	en_config_destroy(cfg);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_register_and_keepalive),
	NTM_TEST(test_alt_probe_learns_nat),
	NTM_TEST(test_direction),
	NTM_TEST(test_dc_lost_and_back),
	NTM_TEST(test_refused),
	NTM_TEST(test_garbage_is_dropped),
	NTM_TEST(test_moved_and_outside),
	NTM_TEST(test_create_alloc_failures),
};

NTM_TEST_MAIN("dcclient", cases)
