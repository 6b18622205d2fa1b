/* SPDX-License-Identifier: MIT */
/*
 * The path manager's decisions (endnode/path.c), with two nodes in one
 * process wired through en_node_set_io() and the test playing the DC (it
 * hands the DIRECTION and RELAY_OFFER messages in) and the Relay Server (it
 * answers BINDs and forwards relay frames between the nodes). Time is the
 * loop's: the cases that wait for a deadline run the loop until it passed.
 */
#include "endnode/path.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <string.h>

#include "common/alloc.h"
#include "common/crypto.h"
#include "common/key.h"
#include "common/relay.h"
#include "endnode/node.h"
#include "endnode/node_internal.h"
#include "endnode/peer.h"
#include "endnode/receive.h"
#include "endnode/resolve.h"
#include "endnode/send.h"
#include "ntm_test.h"

enum { QMAX = 64, PKT_MAX = 2048, SESSION1 = 0x1234, SESSION2 = 0x5678 };

struct queue {
	uint8_t buf[QMAX][PKT_MAX];
	size_t len[QMAX];
	struct ntm_addr to[QMAX];
	int n;
};

struct side {
	struct en_node *node;
	const char *name;
	struct ntm_addr addr;
	struct queue udp, tun;
	struct ntm_key priv, pub;
	uint8_t side; /* its relay side */
};

static uint8_t g_cred[NTM_RELAY_CRED_LEN];

static int push(struct queue *q, const struct ntm_addr *to, const uint8_t *buf, size_t len)
{
	if (q->n == QMAX || len > PKT_MAX) {
		return -ENOBUFS;
	}
	memcpy(q->buf[q->n], buf, len);
	q->len[q->n] = len;
	if (to != NULL) {
		q->to[q->n] = *to;
	}
	q->n++;
	return 0;
}

static int cap_udp(void *ctx, const struct ntm_addr *to, const uint8_t *buf, size_t len)
{
	return push(&((struct side *)ctx)->udp, to, buf, len);
}

static int cap_tun(void *ctx, const uint8_t *pkt, size_t len)
{
	return push(&((struct side *)ctx)->tun, NULL, pkt, len);
}

static void set_addr(struct ntm_addr *a, const char *text)
{
	CU_ASSERT_EQUAL_FATAL(ntm_addr_parse(text, 0, a, NULL, 0), 0);
}

/* Removes datagram i of the queue into buf; returns its length and destination. */
static size_t take(struct queue *q, int i, uint8_t *buf, struct ntm_addr *to)
{
	size_t len = q->len[i];

	memcpy(buf, q->buf[i], len);
	if (to != NULL) {
		*to = q->to[i];
	}
	memmove(&q->buf[i], &q->buf[i + 1], (size_t)(q->n - i - 1) * PKT_MAX);
	memmove(&q->len[i], &q->len[i + 1], (size_t)(q->n - i - 1) * sizeof(q->len[0]));
	memmove(&q->to[i], &q->to[i + 1], (size_t)(q->n - i - 1) * sizeof(q->to[0]));
	q->n--;
	return len;
}

/* A node with a [DC] section and no peers. */
static void make_node(uv_loop_t *loop, struct side *s, const char *name, const char *addr)
{
	struct en_config *cfg = ntm_calloc(1, sizeof(*cfg));
	struct ntm_key dc_priv, dc_pub;
	struct en_node_io io = { cap_udp, cap_tun, s };

	memset(s, 0, sizeof(*s));
	s->name = name;
	CU_ASSERT_EQUAL_FATAL(ntm_key_generate(&s->priv), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_key_public(&s->pub, &s->priv), 0);
	set_addr(&s->addr, addr);
	CU_ASSERT_EQUAL_FATAL(ntm_key_generate(&dc_priv), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_key_public(&dc_pub, &dc_priv), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	cfg->mtu = 1420;
	cfg->private_key = ntm_crypto_secure_alloc(32);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg->private_key);
	memcpy(cfg->private_key, s->priv.b, 32);
	snprintf(cfg->name, sizeof(cfg->name), "%s.example.net", name);
	cfg->has_dc = true;
	memcpy(cfg->dc.public_key, dc_pub.b, 32);
	set_addr(&cfg->dc.endpoints[0], "198.51.100.1:7000");
	cfg->dc.n_endpoints = 1;
	CU_ASSERT_EQUAL_FATAL(en_node_create(loop, cfg, &s->node), 0);
	en_config_destroy(cfg);
	en_node_set_io(s->node, &io);
}

/* a is the end with the smaller key (the one that initiates). */
static void make_pair(uv_loop_t *loop, struct side *a, struct side *b)
{
	CU_ASSERT_EQUAL_FATAL(ntm_crypto_init(), 0);
	make_node(loop, a, "a", "192.0.2.1:1");
	make_node(loop, b, "b", "192.0.2.2:2");
	if (memcmp(a->pub.b, b->pub.b, 32) > 0) {
		struct side t = *a;

		*a = *b;
		*b = t;
		/* the io contexts point at the structs: set them again */
		en_node_set_io(a->node, &(struct en_node_io){ cap_udp, cap_tun, a });
		en_node_set_io(b->node, &(struct en_node_io){ cap_udp, cap_tun, b });
	}
	a->side = NTM_RELAY_SIDE_A;
	b->side = NTM_RELAY_SIDE_B;
	randombytes_buf(g_cred, sizeof(g_cred));
}

static void close_pair(uv_loop_t *loop, struct side *a, struct side *b)
{
	en_node_close(a->node, NULL, NULL);
	en_node_close(b->node, NULL, NULL);
	CU_ASSERT_EQUAL(uv_run(loop, UV_RUN_DEFAULT), 0);
	CU_ASSERT_EQUAL(uv_loop_close(loop), 0);
}

/* The DC's DIRECTION about `peer` to `self` with `path`. */
static void direct(struct side *self, const struct side *peer, uint8_t path, int n)
{
	struct ntm_ctrl_msg d;

	ntm_ctrl_msg_init(&d, NTM_CTRL_DIRECTION, 0);
	d.attrs = NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN) | NTM_CTRL_BIT(NTM_CTRL_ATTR_PUBKEY) |
		  NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP4) | NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP6) |
		  NTM_CTRL_BIT(NTM_CTRL_ATTR_OUTSIDE) | NTM_CTRL_BIT(NTM_CTRL_ATTR_PATH) |
		  NTM_CTRL_BIT(NTM_CTRL_ATTR_NAT) | NTM_CTRL_BIT(NTM_CTRL_ATTR_NAT_PEER);
	snprintf(d.fqdn, sizeof(d.fqdn), "%s.example.net", peer->name);
	memcpy(d.pubkey, peer->pub.b, 32);
	d.vip4[0] = 10, d.vip4[3] = (uint8_t)n;
	d.vip6[0] = 0xfd, d.vip6[15] = (uint8_t)n;
	d.outside = (struct ntm_ctrl_addr){ .family = 4, .port = ntm_addr_port(&peer->addr) };
	memcpy(d.outside.ip, &peer->addr.sin.sin_addr, 4);
	d.path = path;
	d.nat = NTM_CTRL_NAT_EDM;
	d.nat_peer = NTM_CTRL_NAT_EDM;
	en_resolver_on_message(self->node->resolver, &d);
	CU_ASSERT_PTR_NOT_NULL(en_peer_find(self->node, peer->pub.b));
}

/* The DC's RELAY_OFFER of `session` on `rs` to `self`, naming `peer`. */
static void offer(struct side *self, const struct side *peer, uint32_t session, const char *rs)
{
	struct ntm_ctrl_msg m;
	struct ntm_addr a;

	set_addr(&a, rs);
	ntm_ctrl_msg_init(&m, NTM_CTRL_RELAY_OFFER, 0);
	snprintf(m.fqdn, sizeof(m.fqdn), "%s.example.net", peer->name);
	memcpy(m.pubkey, peer->pub.b, 32);
	m.relay_addr[0] = (struct ntm_ctrl_addr){ .family = 4, .port = ntm_addr_port(&a) };
	memcpy(m.relay_addr[0].ip, &a.sin.sin_addr, 4);
	m.n_relay_addr = 1;
	m.session_id = session;
	memcpy(m.credential, g_cred, sizeof(g_cred));
	m.side = self->side;
	en_pathmgr_on_offer(self->node->pathmgr, &m);
}

/* How many BINDs `s` sent to `rs` for `session` (left in the queue). */
static int count_binds(const struct side *s, const char *rs, uint32_t session)
{
	struct ntm_relay_bind b;
	struct ntm_addr a;
	int n = 0;

	set_addr(&a, rs);
	for (int i = 0; i < s->udp.n; i++) {
		n += ntm_addr_equal(&s->udp.to[i], &a) &&
		     ntm_relay_decode_bind(s->udp.buf[i], s->udp.len[i], false, &b) == 0 &&
		     b.session == session;
	}
	return n;
}

/*
 * The RS: answers every BIND of `s` to `rs` (BIND_OK, signed with `cred`;
 * from `from`, default the RS) and drops them from the queue unless `keep`.
 */
static void answer(struct side *s, const char *rs, const uint8_t *cred, const char *from, bool keep)
{
	struct ntm_relay_bind b;
	struct ntm_addr a, src;
	uint8_t buf[PKT_MAX], ok[NTM_RELAY_BIND_LEN];
	struct ntm_wbuf w;

	set_addr(&a, rs);
	set_addr(&src, from != NULL ? from : rs);
	for (int i = 0; i < s->udp.n;) {
		if (!ntm_addr_equal(&s->udp.to[i], &a) ||
		    ntm_relay_decode_bind(s->udp.buf[i], s->udp.len[i], false, &b) < 0) {
			i++;
			continue;
		}
		if (keep) {
			i++;
		} else {
			take(&s->udp, i, buf, NULL);
		}
		ntm_wbuf_init(&w, ok, sizeof(ok));
		CU_ASSERT_EQUAL_FATAL(ntm_relay_encode_bind(&w, true, &b, cred), 0);
		en_pathmgr_receive(s->node->pathmgr, ok, w.len, &src);
	}
}

/* The RS: forwards every frame of `from` to `rs` to `to`, unchanged; returns how many. */
static int forward(struct side *from, struct side *to, const char *rs)
{
	struct ntm_addr a, dst;
	uint8_t buf[PKT_MAX];
	int n = 0;

	set_addr(&a, rs);
	for (int i = 0; i < from->udp.n;) {
		if (from->udp.buf[i][0] != NTM_MSG_RELAY_FRAME ||
		    !ntm_addr_equal(&from->udp.to[i], &a)) {
			i++;
			continue;
		}
		size_t len = take(&from->udp, i, buf, &dst);

		en_receive_datagram(to->node, buf, len, &a);
		n++;
	}
	return n;
}

static void answer_binds(struct side *s, const char *rs, const uint8_t *cred, const char *from)
{
	answer(s, rs, cred, from, false);
}

static void get(const struct side *s, const struct side *peer, struct en_path_info *pi)
{
	CU_ASSERT_FATAL(en_pathmgr_get(s->node->pathmgr, peer->pub.b, pi));
}

/* A minimal IPv4 packet from VIP n to VIP m. */
static size_t ip4(uint8_t *p, int from, int to)
{
	memset(p, 0, 28);
	p[0] = 0x45;
	p[3] = 28;
	p[8] = 64;
	p[9] = 17;
	p[12] = 10, p[15] = (uint8_t)from;
	p[16] = 10, p[19] = (uint8_t)to;
	memcpy(p + 20, "payload!", 8);
	return 28;
}

/* Runs the loop until `done(a, b)` or `ms` passed; true when done. */
static bool run_until(uv_loop_t *loop, struct side *a, struct side *b,
		      bool (*done)(struct side *, struct side *), uint64_t ms)
{
	uint64_t start = uv_now(loop);

	while (!done(a, b) && uv_now(loop) - start < ms) {
		uv_run(loop, UV_RUN_ONCE);
	}
	return done(a, b);
}

/* Both relayed on SESSION1 at RS1, with a handshake through it. */
static const char *const RS1 = "203.0.113.1:7100", *const RS2 = "203.0.113.2:7100";

static void relayed_pair(uv_loop_t *loop, struct side *a, struct side *b)
{
	struct en_path_info pi;
	const struct ntm_addr *to;
	uint8_t pkt[64], wrong[NTM_RELAY_CRED_LEN];
	uint64_t drops;
	size_t len;

	make_pair(loop, a, b);
	direct(a, b, NTM_CTRL_PATH_RELAY, 2);
	direct(b, a, NTM_CTRL_PATH_RELAY, 1);
	/* Relay chosen: nothing goes straight to the peer. */
	for (int i = 0; i < a->udp.n; i++) {
		CU_ASSERT(!ntm_addr_equal(&a->udp.to[i], &b->addr));
	}
	offer(a, b, SESSION1, RS1);
	offer(b, a, SESSION1, RS1);
	CU_ASSERT_EQUAL(count_binds(a, RS1, SESSION1), 1);
	CU_ASSERT_EQUAL(count_binds(b, RS1, SESSION1), 1);
	get(a, b, &pi);
	CU_ASSERT(pi.has_relay && !pi.bound);
	CU_ASSERT_EQUAL(pi.session, SESSION1);

	/* A BIND_OK signed with another credential, or from another address: ignored. */
	randombytes_buf(wrong, sizeof(wrong));
	drops = en_node_drop_count(a->node, EN_DROP_MALFORMED);
	answer(a, RS1, wrong, NULL, true);
	answer(a, RS1, g_cred, "203.0.113.9:7100", true);
	get(a, b, &pi);
	CU_ASSERT(!pi.bound);
	CU_ASSERT_EQUAL(en_node_drop_count(a->node, EN_DROP_MALFORMED), drops + 2);
	answer_binds(b, RS1, g_cred, NULL);
	answer_binds(a, RS1, g_cred, NULL);
	get(a, b, &pi);
	CU_ASSERT(pi.bound);
	CU_ASSERT_EQUAL(pi.active, NTM_CTRL_PATH_RELAY);
	CU_ASSERT_EQUAL(en_pathmgr_route(a->node->pathmgr, en_peer_find(a->node, b->pub.b), &to),
			SESSION1);
	/* The initiating end handshakes through the relay; the frames go both ways. */
	for (int i = 0; i < 6; i++) {
		forward(a, b, RS1);
		forward(b, a, RS1);
	}
	len = ip4(pkt, 1, 2);
	a->tun.n = b->tun.n = 0;
	en_send_tun_packet(a->node, pkt, len);
	CU_ASSERT_EQUAL(forward(a, b, RS1), 1);
	CU_ASSERT_EQUAL_FATAL(b->tun.n, 1);
	CU_ASSERT_EQUAL(memcmp(b->tun.buf[0], pkt, len), 0);
	a->udp.n = b->udp.n = 0;
	b->tun.n = 0;
}

static void test_relay_bind_and_forward(void)
{
	uv_loop_t loop;
	struct side a, b;

	struct en_path_info pi;

	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	relayed_pair(&loop, &a, &b);
	/* The initiating end has an RTT sample (initiation to response), the other none. */
	get(&a, &b, &pi);
	CU_ASSERT(pi.rtt_us >= 0);
	get(&b, &a, &pi);
	CU_ASSERT_EQUAL(pi.rtt_us, -1);
	close_pair(&loop, &a, &b);
}

/* An authenticated packet on the direct path moves the peer off the relay. */
static void test_relay_to_direct(void)
{
	struct en_path_info pi;
	uv_loop_t loop;
	struct side a, b;
	uint8_t pkt[64], buf[PKT_MAX], copy[PKT_MAX];
	size_t len;

	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	relayed_pair(&loop, &a, &b);
	/* A frame that does not authenticate, straight from b's address: stays relayed. */
	len = ip4(pkt, 2, 1);
	en_send_tun_packet(b.node, pkt, len);
	CU_ASSERT_EQUAL_FATAL(b.udp.n, 1);
	len = take(&b.udp, 0, buf, NULL);
	memcpy(copy, buf, len); /* the receive path decrypts in place */
	copy[len - 1] ^= 1;
	en_receive_datagram(a.node, copy + 8, len - 8, &b.addr);
	get(&a, &b, &pi);
	CU_ASSERT_EQUAL(pi.active, NTM_CTRL_PATH_RELAY);
	/* The same message intact, unwrapped, from b's own address: the direct path works. */
	en_receive_datagram(a.node, buf + 8, len - 8, &b.addr);
	CU_ASSERT_EQUAL(a.tun.n, 1);
	get(&a, &b, &pi);
	CU_ASSERT_EQUAL(pi.active, NTM_CTRL_PATH_DIRECT);
	en_send_tun_packet(a.node, pkt, ip4(pkt, 1, 2));
	CU_ASSERT_EQUAL_FATAL(a.udp.n, 1);
	CU_ASSERT(ntm_addr_equal(&a.udp.to[0], &b.addr));
	CU_ASSERT_NOT_EQUAL(a.udp.buf[0][0], NTM_MSG_RELAY_FRAME);
	/* A relayed packet after that does not move it back. */
	a.udp.n = 0;
	en_send_tun_packet(b.node, pkt, ip4(pkt, 2, 1));
	CU_ASSERT_EQUAL(forward(&b, &a, RS1), 1);
	CU_ASSERT_EQUAL(a.tun.n, 2);
	get(&a, &b, &pi);
	CU_ASSERT_EQUAL(pi.active, NTM_CTRL_PATH_DIRECT);
	close_pair(&loop, &a, &b);
}

static bool a_dead(struct side *a, struct side *b)
{
	struct en_path_info pi;

	return en_pathmgr_get(a->node->pathmgr, b->pub.b, &pi) && pi.relay_dead;
}

/*
 * RS failover: the relay stops answering; after EN_PATH_RELAY_DEAD_MS of
 * BIND probes it counts as gone; a new offer moves the peer to the new
 * session without a new handshake.
 */
static void test_relay_failover(void)
{
	struct en_path_info pi;
	uv_loop_t loop;
	struct side a, b;
	uint8_t pkt[64];
	struct ntm_relay_frame f;
	uint64_t start;

	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	relayed_pair(&loop, &a, &b);
	en_send_tun_packet(a.node, pkt, ip4(pkt, 1, 2)); /* into the void */
	start = uv_now(&loop);
	CU_ASSERT_FATAL(run_until(&loop, &a, &b, a_dead, EN_PATH_RELAY_DEAD_MS + 3000));
	CU_ASSERT(uv_now(&loop) - start >= EN_PATH_RELAY_DEAD_MS - EN_PATH_TICK_MS);
	CU_ASSERT(count_binds(&a, RS1, SESSION1) >= 2); /* the probes */
	get(&a, &b, &pi);
	CU_ASSERT(!pi.bound);
	CU_ASSERT_EQUAL(pi.active, NTM_CTRL_PATH_RELAY);
	CU_ASSERT_EQUAL(pi.failovers, 0);
	/* The DC's new session on another RS. */
	a.udp.n = 0;
	offer(&a, &b, SESSION2, RS2);
	CU_ASSERT_EQUAL(count_binds(&a, RS2, SESSION2), 1);
	get(&a, &b, &pi);
	CU_ASSERT(!pi.relay_dead);
	CU_ASSERT_EQUAL(pi.failovers, 1);
	CU_ASSERT_EQUAL(pi.session, SESSION2);
	answer_binds(&a, RS2, g_cred, NULL);
	get(&a, &b, &pi);
	CU_ASSERT(pi.bound);
	/* Data goes through the new session at once: the WireGuard session is kept. */
	a.udp.n = 0;
	en_send_tun_packet(a.node, pkt, ip4(pkt, 1, 2));
	CU_ASSERT_EQUAL_FATAL(a.udp.n, 1);
	CU_ASSERT_EQUAL_FATAL(ntm_relay_decode_frame(a.udp.buf[0], a.udp.len[0], &f), 0);
	CU_ASSERT_EQUAL(f.session, SESSION2);
	CU_ASSERT_EQUAL(f.payload[0], NTM_MSG_WG_DATA);
	close_pair(&loop, &a, &b);
}

static bool a_on_relay(struct side *a, struct side *b)
{
	struct en_path_info pi;

	return en_pathmgr_get(a->node->pathmgr, b->pub.b, &pi) && pi.active == NTM_CTRL_PATH_RELAY;
}

/* A punch that gets no answer falls back to the bound relay and says why. */
static void test_punch_falls_back(void)
{
	struct en_path_info pi;
	uv_loop_t loop;
	struct side a, b;
	uint64_t start;

	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	make_pair(&loop, &a, &b);
	direct(&a, &b, NTM_CTRL_PATH_PUNCHED, 2);
	offer(&a, &b, SESSION1, RS1);
	answer_binds(&a, RS1, g_cred, NULL);
	get(&a, &b, &pi);
	CU_ASSERT(pi.bound);
	CU_ASSERT_EQUAL(pi.chosen, NTM_CTRL_PATH_PUNCHED);
	CU_ASSERT_EQUAL(pi.active, NTM_CTRL_PATH_PUNCHED); /* direct first */
	CU_ASSERT_STRING_EQUAL(pi.reason, "");
	start = uv_now(&loop);
	CU_ASSERT_FATAL(run_until(&loop, &a, &b, a_on_relay, EN_PATH_DIRECT_DEADLINE_MS + 2000));
	CU_ASSERT(uv_now(&loop) - start >= EN_PATH_DIRECT_DEADLINE_MS - EN_PATH_TICK_MS);
	get(&a, &b, &pi);
	CU_ASSERT_NOT_EQUAL(pi.reason[0], '\0');
	close_pair(&loop, &a, &b);
}

/*
 * A relayed pair whose direct path is then proven at a (b's data arrives
 * straight from b's address); the relay session stays bound.
 */
static void direct_pair(uv_loop_t *loop, struct side *a, struct side *b)
{
	struct en_path_info pi;
	uint8_t pkt[64], buf[PKT_MAX];
	size_t len;

	relayed_pair(loop, a, b);
	en_send_tun_packet(b->node, pkt, ip4(pkt, 2, 1));
	CU_ASSERT_EQUAL_FATAL(b->udp.n, 1);
	len = take(&b->udp, 0, buf, NULL);
	en_receive_datagram(a->node, buf + NTM_RELAY_HEADER_LEN, len - NTM_RELAY_HEADER_LEN,
			    &b->addr);
	get(a, b, &pi);
	CU_ASSERT_EQUAL_FATAL(pi.active, NTM_CTRL_PATH_DIRECT);
	CU_ASSERT(pi.bound);
	a->udp.n = b->udp.n = 0;
	a->tun.n = 0;
}

/* An idle tunnel on a proven direct path: nothing sent, no evidence, no fallback. */
static void test_direct_idle_stays(void)
{
	struct en_path_info pi;
	uv_loop_t loop;
	struct side a, b;
	uint64_t start;

	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	direct_pair(&loop, &a, &b);
	start = uv_now(&loop);
	CU_ASSERT(!run_until(&loop, &a, &b, a_on_relay, EN_PATH_DIRECT_LOST_MS + 1500));
	CU_ASSERT(uv_now(&loop) - start >= EN_PATH_DIRECT_LOST_MS + 1500);
	get(&a, &b, &pi);
	CU_ASSERT_EQUAL(pi.active, NTM_CTRL_PATH_DIRECT);
	CU_ASSERT_STRING_EQUAL(pi.reason, "");
	close_pair(&loop, &a, &b);
}

/*
 * The proven direct path goes silent while a sends: one initiation probes
 * it after EN_PATH_DIRECT_QUIET_MS, and after EN_PATH_DIRECT_LOST_MS the
 * traffic moves to the bound relay session (same WireGuard session).
 */
static void test_direct_silent_falls_back(void)
{
	struct en_path_info pi;
	const struct ntm_addr *to;
	uv_loop_t loop;
	struct side a, b;
	uint8_t pkt[64];
	uint64_t start;
	int probes = 0;

	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	direct_pair(&loop, &a, &b);
	en_send_tun_packet(a.node, pkt, ip4(pkt, 1, 2)); /* into the void */
	CU_ASSERT_EQUAL_FATAL(a.udp.n, 1);
	CU_ASSERT(ntm_addr_equal(&a.udp.to[0], &b.addr));
	start = uv_now(&loop);
	CU_ASSERT_FATAL(run_until(&loop, &a, &b, a_on_relay, EN_PATH_DIRECT_LOST_MS + 2000));
	CU_ASSERT(uv_now(&loop) - start >= EN_PATH_DIRECT_LOST_MS - EN_PATH_TICK_MS);
	for (int i = 0; i < a.udp.n; i++) {
		probes += ntm_addr_equal(&a.udp.to[i], &b.addr) &&
			  a.udp.buf[i][0] == NTM_MSG_WG_INITIATION;
	}
	CU_ASSERT_EQUAL(probes, 1); /* the probe went straight to the peer */
	get(&a, &b, &pi);
	CU_ASSERT_STRING_EQUAL(pi.reason, "the direct path went silent while sending");
	CU_ASSERT_EQUAL(en_pathmgr_route(a.node->pathmgr, en_peer_find(a.node, b.pub.b), &to),
			SESSION1);
	close_pair(&loop, &a, &b);
}

/*
 * The peer comes through the relay while a's direct sends have gone
 * unanswered for EN_PATH_DIRECT_QUIET_MS: it gave the direct path up; a
 * follows without waiting for its own EN_PATH_DIRECT_LOST_MS.
 */
static void test_direct_follows_peer(void)
{
	struct en_path_info pi;
	uv_loop_t loop;
	struct side a, b;
	uint8_t pkt[64];
	uint64_t start;

	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	direct_pair(&loop, &a, &b);
	en_send_tun_packet(a.node, pkt, ip4(pkt, 1, 2)); /* into the void */
	start = uv_now(&loop);
	while (uv_now(&loop) - start < EN_PATH_DIRECT_QUIET_MS + 2 * EN_PATH_TICK_MS) {
		uv_run(&loop, UV_RUN_ONCE);
	}
	get(&a, &b, &pi);
	CU_ASSERT_EQUAL_FATAL(pi.active, NTM_CTRL_PATH_DIRECT);
	en_send_tun_packet(b.node, pkt, ip4(pkt, 2, 1)); /* b is on the relay */
	CU_ASSERT_EQUAL(forward(&b, &a, RS1), 1);
	CU_ASSERT_EQUAL(a.tun.n, 1);
	get(&a, &b, &pi);
	CU_ASSERT_EQUAL(pi.active, NTM_CTRL_PATH_RELAY);
	CU_ASSERT_STRING_EQUAL(pi.reason, "the peer moved to the relay");
	CU_ASSERT(uv_now(&loop) - start < EN_PATH_DIRECT_LOST_MS);
	close_pair(&loop, &a, &b);
}

int main(void)
{
	static const struct ntm_test_case cases[] = {
		NTM_TEST(test_relay_bind_and_forward), NTM_TEST(test_relay_to_direct),
		NTM_TEST(test_relay_failover),	       NTM_TEST(test_punch_falls_back),
		NTM_TEST(test_direct_idle_stays),      NTM_TEST(test_direct_silent_falls_back),
		NTM_TEST(test_direct_follows_peer),
	};

	return ntm_test_run("path", cases, sizeof(cases) / sizeof(cases[0]));
}
