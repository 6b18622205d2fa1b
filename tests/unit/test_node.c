/* SPDX-License-Identifier: MIT */
/*
 * Two nodes in one process, wired together through the output hooks of
 * en_node_set_io(): no sockets, no TUN. The loop is never run while packets
 * move (its clock stands still), only at the end to close the nodes.
 */
#include "endnode/node.h"

#include <arpa/inet.h>
#include <string.h>

#include "common/alloc.h"
#include "common/crypto.h"
#include "common/key.h"
#include "endnode/node_internal.h"
#include "endnode/peer.h"
#include "endnode/receive.h"
#include "endnode/resolve.h"
#include "endnode/send.h"
#include "endnode/trigger.h"
#include "ntm_test.h"

enum { QMAX = 64, PKT_MAX = 2048 };

struct queue {
	uint8_t buf[QMAX][PKT_MAX];
	size_t len[QMAX];
	struct ntm_addr to[QMAX];
	int n;
};

struct side {
	struct en_node *node;
	struct ntm_addr addr; /* its outer address */
	struct queue udp, tun;
	struct ntm_key priv, pub;
};

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

static void add_peer(struct en_config *cfg, const struct side *peer, const char *endpoint,
		     const char *allowed)
{
	struct en_config_peer *p;

	cfg->peers = ntm_calloc(1, sizeof(*cfg->peers));
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg->peers);
	cfg->n_peers = 1;
	p = &cfg->peers[0];
	memcpy(p->public_key, peer->pub.b, 32);
	if (endpoint != NULL) {
		set_addr(&p->endpoint, endpoint);
	}
	p->allowed_ips = ntm_calloc(1, sizeof(*p->allowed_ips));
	CU_ASSERT_PTR_NOT_NULL_FATAL(p->allowed_ips);
	p->n_allowed_ips = 1;
	CU_ASSERT_EQUAL(ntm_prefix_parse(allowed, 0, p->allowed_ips, NULL, 0), 0);
}

static struct en_config *make_config(const struct side *self, const struct side *peer,
				     const char *endpoint, const char *allowed)
{
	struct en_config *cfg = ntm_calloc(1, sizeof(*cfg));

	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	cfg->mtu = 1420;
	cfg->private_key = ntm_crypto_secure_alloc(32);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg->private_key);
	memcpy(cfg->private_key, self->priv.b, 32);
	add_peer(cfg, peer, endpoint, allowed);
	return cfg;
}

static void make_keys(struct side *s, const char *addr)
{
	memset(s, 0, sizeof(*s));
	CU_ASSERT_EQUAL_FATAL(ntm_key_generate(&s->priv), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_key_public(&s->pub, &s->priv), 0);
	set_addr(&s->addr, addr);
}

/* A (10.0.0.1, knows B at 192.0.2.2:2) and B (10.0.0.2, does not know A's endpoint). */
static void make_pair(uv_loop_t *loop, struct side *a, struct side *b)
{
	struct en_config *ca, *cb;
	struct en_node_io io;

	CU_ASSERT_EQUAL_FATAL(ntm_crypto_init(), 0);
	make_keys(a, "192.0.2.1:1");
	make_keys(b, "192.0.2.2:2");
	ca = make_config(a, b, "192.0.2.2:2", "10.0.0.2/32");
	cb = make_config(b, a, NULL, "10.0.0.1/32");
	CU_ASSERT_EQUAL_FATAL(en_node_create(loop, ca, &a->node), 0);
	CU_ASSERT_EQUAL_FATAL(en_node_create(loop, cb, &b->node), 0);
	en_config_destroy(ca);
	en_config_destroy(cb);
	io = (struct en_node_io){ cap_udp, cap_tun, a };
	en_node_set_io(a->node, &io);
	io.ctx = b;
	en_node_set_io(b->node, &io);
}

static void close_pair(uv_loop_t *loop, struct side *a, struct side *b)
{
	en_node_close(a->node, NULL, NULL);
	en_node_close(b->node, NULL, NULL);
	CU_ASSERT_EQUAL(uv_run(loop, UV_RUN_DEFAULT), 0);
	CU_ASSERT_EQUAL(uv_loop_close(loop), 0);
}

/* Delivers (and removes) the oldest datagram `from` sent; returns its length. */
static size_t deliver(struct side *from, struct side *to)
{
	uint8_t buf[PKT_MAX];
	size_t len;

	CU_ASSERT_FATAL(from->udp.n > 0);
	len = from->udp.len[0];
	memcpy(buf, from->udp.buf[0], len);
	memmove(&from->udp.buf[0], &from->udp.buf[1], (size_t)(from->udp.n - 1) * PKT_MAX);
	memmove(&from->udp.len[0], &from->udp.len[1], (size_t)(from->udp.n - 1) * sizeof(size_t));
	memmove(&from->udp.to[0], &from->udp.to[1],
		(size_t)(from->udp.n - 1) * sizeof(from->udp.to[0]));
	from->udp.n--;
	en_receive_datagram(to->node, buf, len, &from->addr);
	return len;
}

/* A minimal IPv4 packet (header + 8 payload bytes). */
static size_t ip4(uint8_t *p, const char *src, const char *dst)
{
	memset(p, 0, 28);
	p[0] = 0x45;
	p[3] = 28;
	p[8] = 64;
	p[9] = 17;
	CU_ASSERT_EQUAL(inet_pton(AF_INET, src, p + 12), 1);
	CU_ASSERT_EQUAL(inet_pton(AF_INET, dst, p + 16), 1);
	memcpy(p + 20, "payload!", 8);
	return 28;
}

/* Handshake started by a packet, then that packet delivered. */
static void handshake(struct side *a, struct side *b, const uint8_t *pkt, size_t len)
{
	en_send_tun_packet(a->node, pkt, len);
	CU_ASSERT_EQUAL_FATAL(a->udp.n, 1);
	CU_ASSERT_EQUAL(a->udp.len[0], 148);
	CU_ASSERT(ntm_addr_equal(&a->udp.to[0], &b->addr));
	deliver(a, b);
	/* The responder answers and sends nothing else: its keypair is not confirmed yet. */
	CU_ASSERT_EQUAL_FATAL(b->udp.n, 1);
	CU_ASSERT_EQUAL(b->udp.len[0], 92);
	CU_ASSERT(ntm_addr_equal(&b->udp.to[0], &a->addr)); /* learnt from the initiation */
	deliver(b, a);
	/* The initiator sends the staged packet at once; it confirms the session. */
	CU_ASSERT_EQUAL_FATAL(a->udp.n, 1);
	CU_ASSERT_EQUAL(a->udp.len[0], 16 + 32 + 16);
	deliver(a, b);
	CU_ASSERT_EQUAL_FATAL(b->tun.n, 1);
	CU_ASSERT_EQUAL(b->tun.len[0], len);
	CU_ASSERT_EQUAL(memcmp(b->tun.buf[0], pkt, len), 0);
}

static void test_handshake_and_data(void)
{
	uv_loop_t loop;
	struct side a, b;
	struct en_peer_info info;
	uint8_t pkt[64];
	size_t len;

	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	make_pair(&loop, &a, &b);
	len = ip4(pkt, "10.0.0.1", "10.0.0.2");
	handshake(&a, &b, pkt, len);
	/* Now B may send on the confirmed session. */
	len = ip4(pkt, "10.0.0.2", "10.0.0.1");
	en_send_tun_packet(b.node, pkt, len);
	CU_ASSERT_EQUAL_FATAL(b.udp.n, 1);
	deliver(&b, &a);
	CU_ASSERT_EQUAL_FATAL(a.tun.n, 1);
	CU_ASSERT_EQUAL(memcmp(a.tun.buf[0], pkt, len), 0);
	en_peer_get_info(en_peer_first(b.node), &info);
	CU_ASSERT(ntm_addr_equal(&info.endpoint, &a.addr));
	CU_ASSERT(info.last_handshake.tv_sec != 0);
	CU_ASSERT(info.rx_bytes > 0 && info.tx_bytes > 0);
	CU_ASSERT_EQUAL(info.drops_total, 0);
	close_pair(&loop, &a, &b);
}

/*
 * DESIGN "Flows" 2: B has a [DC] and no peers. A's initiation arrives before
 * the DC's direction about A: B holds it, and answers it as soon as the
 * direction has added A.
 */
static void test_held_initiation(void)
{
	struct en_config *ca, *cb = ntm_calloc(1, sizeof(*cb));
	struct ntm_ctrl_msg d;
	struct ntm_key dc_priv, dc_pub;
	struct en_node_io io;
	struct side a, b;
	uv_loop_t loop;
	uint8_t pkt[64];
	size_t len;

	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_crypto_init(), 0);
	make_keys(&a, "192.0.2.1:1");
	make_keys(&b, "192.0.2.2:2");
	CU_ASSERT_EQUAL_FATAL(ntm_key_generate(&dc_priv), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_key_public(&dc_pub, &dc_priv), 0);
	ca = make_config(&a, &b, "192.0.2.2:2", "10.0.0.2/32");
	CU_ASSERT_PTR_NOT_NULL_FATAL(cb);
	cb->mtu = 1420;
	cb->private_key = ntm_crypto_secure_alloc(32);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cb->private_key);
	memcpy(cb->private_key, b.priv.b, 32);
	snprintf(cb->name, sizeof(cb->name), "b.example.net");
	cb->has_dc = true;
	memcpy(cb->dc.public_key, dc_pub.b, 32);
	set_addr(&cb->dc.endpoints[0], "198.51.100.1:7000");
	cb->dc.n_endpoints = 1;
	CU_ASSERT_EQUAL_FATAL(en_node_create(&loop, ca, &a.node), 0);
	CU_ASSERT_EQUAL_FATAL(en_node_create(&loop, cb, &b.node), 0);
	en_config_destroy(ca);
	en_config_destroy(cb);
	io = (struct en_node_io){ cap_udp, cap_tun, &a };
	en_node_set_io(a.node, &io);
	io.ctx = &b;
	en_node_set_io(b.node, &io);

	len = ip4(pkt, "10.0.0.1", "10.0.0.2");
	en_send_tun_packet(a.node, pkt, len);
	CU_ASSERT_EQUAL_FATAL(a.udp.n, 1);
	deliver(&a, &b);
	CU_ASSERT_EQUAL(b.udp.n, 0); /* held: no peer for that key yet */

	ntm_ctrl_msg_init(&d, NTM_CTRL_DIRECTION, 0);
	d.attrs = NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN) | NTM_CTRL_BIT(NTM_CTRL_ATTR_PUBKEY) |
		  NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP4) | NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP6) |
		  NTM_CTRL_BIT(NTM_CTRL_ATTR_OUTSIDE);
	snprintf(d.fqdn, sizeof(d.fqdn), "a.example.net");
	memcpy(d.pubkey, a.pub.b, 32);
	CU_ASSERT_EQUAL(inet_pton(AF_INET, "10.0.0.1", d.vip4), 1);
	CU_ASSERT_EQUAL(inet_pton(AF_INET6, "fd00::1", d.vip6), 1);
	d.outside = (struct ntm_ctrl_addr){ .family = 4, .ip = { 192, 0, 2, 1 }, .port = 1 };
	en_resolver_on_message(b.node->resolver, &d);
	CU_ASSERT_PTR_NOT_NULL(en_peer_first(b.node));
	/* The held initiation is answered now; the session then carries A's packet. */
	CU_ASSERT_EQUAL_FATAL(b.udp.n, 1);
	CU_ASSERT_EQUAL(b.udp.len[0], 92);
	deliver(&b, &a);
	CU_ASSERT_EQUAL_FATAL(a.udp.n, 1);
	deliver(&a, &b);
	CU_ASSERT_EQUAL_FATAL(b.tun.n, 1);
	CU_ASSERT_EQUAL(memcmp(b.tun.buf[0], pkt, len), 0);
	/* The same direction again changes nothing. */
	en_resolver_on_message(b.node->resolver, &d);
	CU_ASSERT_EQUAL(b.node->n_peers, 1);
	close_pair(&loop, &a, &b);
}

/* A with only a [DC] section (no peers), B a static node that knows A's key. */
static void make_dc_pair(uv_loop_t *loop, struct side *a, struct side *b)
{
	struct en_config *ca = ntm_calloc(1, sizeof(*ca)), *cb;
	struct ntm_key dc_priv, dc_pub;
	struct en_node_io io;

	CU_ASSERT_EQUAL_FATAL(ntm_crypto_init(), 0);
	make_keys(a, "192.0.2.1:1");
	make_keys(b, "192.0.2.2:2");
	CU_ASSERT_EQUAL_FATAL(ntm_key_generate(&dc_priv), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_key_public(&dc_pub, &dc_priv), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ca);
	ca->mtu = 1420;
	ca->private_key = ntm_crypto_secure_alloc(32);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ca->private_key);
	memcpy(ca->private_key, a->priv.b, 32);
	snprintf(ca->name, sizeof(ca->name), "a.example.net");
	ca->has_dc = true;
	memcpy(ca->dc.public_key, dc_pub.b, 32);
	set_addr(&ca->dc.endpoints[0], "198.51.100.1:7000");
	ca->dc.n_endpoints = 1;
	cb = make_config(b, a, NULL, "10.0.0.1/32");
	CU_ASSERT_EQUAL_FATAL(en_node_create(loop, ca, &a->node), 0);
	CU_ASSERT_EQUAL_FATAL(en_node_create(loop, cb, &b->node), 0);
	en_config_destroy(ca);
	en_config_destroy(cb);
	io = (struct en_node_io){ cap_udp, cap_tun, a };
	en_node_set_io(a->node, &io);
	io.ctx = b;
	en_node_set_io(b->node, &io);
}

/* DESIGN "Flows" 2: a packet to a pool VIP without a peer is queued, then carried. */
static void test_triggered_packet(void)
{
	struct ntm_prefix pool = { .family = AF_INET, .addr = { 10, 0, 0, 0 }, .prefix_len = 24 };
	struct en_trigger_stats st;
	struct ntm_ctrl_msg d;
	struct side a, b;
	uv_loop_t loop;
	uint8_t p1[64], p2[64], other[64];
	size_t len;

	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	make_dc_pair(&loop, &a, &b);
	en_trigger_set_pools(a.node->trigger, &pool, NULL);
	len = ip4(p1, "10.0.0.1", "10.0.0.2");
	ip4(p2, "10.0.0.1", "10.0.0.2");
	p2[20] = 'P'; /* tells the two apart */
	en_send_tun_packet(a.node, p1, len);
	en_send_tun_packet(a.node, p2, len);
	CU_ASSERT_EQUAL(a.udp.n, 0); /* no peer yet (and no DC session to ask here) */
	CU_ASSERT_EQUAL(a.tun.n, 0); /* queued: no ICMP */
	CU_ASSERT_EQUAL(en_node_drop_count(a.node, EN_DROP_NO_PEER), 0);
	en_trigger_get_stats(a.node->trigger, &st);
	CU_ASSERT_EQUAL(st.queued, 2);
	CU_ASSERT_EQUAL(st.waiting, 1);
	CU_ASSERT_EQUAL(st.requests, 1);
	/* Outside the pools nothing changed: dropped with ICMP. */
	ip4(other, "10.0.0.1", "10.9.9.9");
	en_send_tun_packet(a.node, other, len);
	CU_ASSERT_EQUAL(en_node_drop_count(a.node, EN_DROP_NO_PEER), 1);
	CU_ASSERT_EQUAL(a.tun.n, 1);
	a.tun.n = 0;

	/* The DIRECTION adds B; the queued packets go to it in order. */
	ntm_ctrl_msg_init(&d, NTM_CTRL_DIRECTION, 0);
	d.attrs = NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN) | NTM_CTRL_BIT(NTM_CTRL_ATTR_PUBKEY) |
		  NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP4) | NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP6) |
		  NTM_CTRL_BIT(NTM_CTRL_ATTR_OUTSIDE);
	snprintf(d.fqdn, sizeof(d.fqdn), "b.example.net");
	memcpy(d.pubkey, b.pub.b, 32);
	CU_ASSERT_EQUAL(inet_pton(AF_INET, "10.0.0.2", d.vip4), 1);
	CU_ASSERT_EQUAL(inet_pton(AF_INET6, "fd00::2", d.vip6), 1);
	d.outside = (struct ntm_ctrl_addr){ .family = 4, .ip = { 192, 0, 2, 2 }, .port = 2 };
	en_resolver_on_message(a.node->resolver, &d);
	en_trigger_on_message(a.node->trigger, &d);
	CU_ASSERT_EQUAL_FATAL(a.udp.n, 1);
	CU_ASSERT_EQUAL(a.udp.len[0], 148); /* the handshake initiation */
	deliver(&a, &b);
	CU_ASSERT_EQUAL_FATAL(b.udp.n, 1);
	deliver(&b, &a);
	CU_ASSERT_EQUAL_FATAL(a.udp.n, 2);
	deliver(&a, &b);
	deliver(&a, &b);
	CU_ASSERT_EQUAL_FATAL(b.tun.n, 2);
	CU_ASSERT_EQUAL(memcmp(b.tun.buf[0], p1, len), 0);
	CU_ASSERT_EQUAL(memcmp(b.tun.buf[1], p2, len), 0);
	en_trigger_get_stats(a.node->trigger, &st);
	CU_ASSERT_EQUAL(st.flushed, 2);
	CU_ASSERT_EQUAL(st.directed, 1);
	CU_ASSERT_EQUAL(st.waiting, 0);
	close_pair(&loop, &a, &b);
}

/* No direction within EN_TRIGGER_TIMEOUT_MS: ICMP for the queued packet, then at once. */
static void test_triggered_timeout(void)
{
	struct ntm_prefix pool = { .family = AF_INET, .addr = { 10, 0, 0, 0 }, .prefix_len = 24 };
	struct en_trigger_stats st;
	struct side a, b;
	uv_loop_t loop;
	uint8_t pkt[64];
	size_t len;
	uint64_t start;

	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	make_dc_pair(&loop, &a, &b);
	en_trigger_set_pools(a.node->trigger, &pool, NULL);
	len = ip4(pkt, "10.0.0.1", "10.0.0.9");
	en_send_tun_packet(a.node, pkt, len);
	CU_ASSERT_EQUAL(a.tun.n, 0);
	start = uv_now(&loop);
	while (a.tun.n == 0 && uv_now(&loop) - start < EN_TRIGGER_TIMEOUT_MS + 2000) {
		uv_run(&loop, UV_RUN_ONCE);
	}
	CU_ASSERT_EQUAL_FATAL(a.tun.n, 1);
	CU_ASSERT(uv_now(&loop) - start >= EN_TRIGGER_TIMEOUT_MS);
	CU_ASSERT_EQUAL(a.tun.buf[0][20], 3); /* ICMP destination unreachable */
	CU_ASSERT_EQUAL(memcmp(a.tun.buf[0] + 12, pkt + 16, 4), 0);
	/* Now cached as negative: answered at once, no new request. */
	en_send_tun_packet(a.node, pkt, len);
	CU_ASSERT_EQUAL(a.tun.n, 2);
	en_trigger_get_stats(a.node->trigger, &st);
	CU_ASSERT_EQUAL(st.timeouts, 1);
	CU_ASSERT_EQUAL(st.negative_hits, 1);
	CU_ASSERT_EQUAL(st.requests, 1);
	CU_ASSERT_EQUAL(st.unreachable, 1);
	close_pair(&loop, &a, &b);
}

static void test_bad_data_is_dropped(void)
{
	uv_loop_t loop;
	struct side a, b;
	uint8_t pkt[64], saved[PKT_MAX];
	size_t len, slen;

	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	make_pair(&loop, &a, &b);
	len = ip4(pkt, "10.0.0.1", "10.0.0.2");
	handshake(&a, &b, pkt, len);

	/* Replayed: authenticates, but the counter was seen. */
	en_send_tun_packet(a.node, pkt, len);
	slen = a.udp.len[0];
	memcpy(saved, a.udp.buf[0], slen);
	deliver(&a, &b);
	CU_ASSERT_EQUAL(b.tun.n, 2);
	en_receive_datagram(b.node, saved, slen, &a.addr);
	CU_ASSERT_EQUAL(en_node_drop_count(b.node, EN_DROP_REPLAY), 1);

	/* Tampered: does not authenticate. */
	en_send_tun_packet(a.node, pkt, len);
	a.udp.buf[0][20] ^= 1;
	deliver(&a, &b);
	CU_ASSERT_EQUAL(en_node_drop_count(b.node, EN_DROP_AUTH), 1);

	/* Unknown receiver index. */
	en_send_tun_packet(a.node, pkt, len);
	a.udp.buf[0][4] ^= 0xff;
	deliver(&a, &b);
	CU_ASSERT_EQUAL(en_node_drop_count(b.node, EN_DROP_UNKNOWN_INDEX), 1);

	/* Inner source outside A's AllowedIPs (at B): A does not check, B does. */
	len = ip4(pkt, "10.0.0.99", "10.0.0.2");
	en_send_tun_packet(a.node, pkt, len);
	deliver(&a, &b);
	CU_ASSERT_EQUAL(en_node_drop_count(b.node, EN_DROP_SOURCE), 1);
	CU_ASSERT_EQUAL(b.tun.n, 2);

	/* Garbage. */
	memset(saved, 0x04, 40);
	en_receive_datagram(b.node, saved, 40, &a.addr);
	en_receive_datagram(b.node, saved, 3, &a.addr);
	CU_ASSERT_EQUAL(en_node_drop_count(b.node, EN_DROP_MALFORMED), 2);
	close_pair(&loop, &a, &b);
}

static void test_no_peer_gets_icmp(void)
{
	uv_loop_t loop;
	struct side a, b;
	uint8_t pkt[64];
	size_t len;

	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	make_pair(&loop, &a, &b);
	len = ip4(pkt, "10.0.0.1", "10.0.0.77");
	en_send_tun_packet(a.node, pkt, len);
	CU_ASSERT_EQUAL(en_node_drop_count(a.node, EN_DROP_NO_PEER), 1);
	CU_ASSERT_EQUAL(a.udp.n, 0);
	CU_ASSERT_EQUAL_FATAL(a.tun.n, 1);
	CU_ASSERT_EQUAL(a.tun.len[0], 20 + 8 + 28);
	CU_ASSERT_EQUAL(a.tun.buf[0][9], 1);			    /* ICMP */
	CU_ASSERT_EQUAL(a.tun.buf[0][20], 3);			    /* destination unreachable */
	CU_ASSERT_EQUAL(memcmp(a.tun.buf[0] + 12, pkt + 16, 4), 0); /* from 10.0.0.77 */
	CU_ASSERT_EQUAL(memcmp(a.tun.buf[0] + 16, pkt + 12, 4), 0); /* to 10.0.0.1 */
	/* Never an ICMP error about an ICMP error. */
	en_send_tun_packet(a.node, a.tun.buf[0], a.tun.len[0]);
	CU_ASSERT_EQUAL(a.tun.n, 1);
	close_pair(&loop, &a, &b);
}

static void test_macs_and_load(void)
{
	uv_loop_t loop;
	struct side a, b;
	uint8_t pkt[64], init[148], copy[148];
	size_t len;

	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
	make_pair(&loop, &a, &b);
	len = ip4(pkt, "10.0.0.1", "10.0.0.2");
	en_send_tun_packet(a.node, pkt, len);
	CU_ASSERT_EQUAL_FATAL(a.udp.len[0], 148);
	memcpy(init, a.udp.buf[0], sizeof(init));
	/* A bad mac1 is dropped before anything else. */
	memcpy(copy, init, sizeof(copy));
	copy[120] ^= 1;
	en_receive_datagram(b.node, copy, sizeof(copy), &a.addr);
	CU_ASSERT_EQUAL(en_node_drop_count(b.node, EN_DROP_MAC1), 1);
	CU_ASSERT_EQUAL(b.udp.n, 0);
	/* The first copy is answered, the next ones are replays (same timestamp). */
	for (int i = 0; i < 200; i++) {
		memcpy(copy, init, sizeof(copy));
		en_receive_datagram(b.node, copy, sizeof(copy), &a.addr);
	}
	CU_ASSERT_EQUAL(b.udp.len[0], 92);
	CU_ASSERT(en_node_drop_count(b.node, EN_DROP_HANDSHAKE_REPLAY) +
			  en_node_drop_count(b.node, EN_DROP_FLOOD) >=
		  100);
	/* Over the load threshold, no mac2: cookie replies instead. */
	CU_ASSERT(en_node_drop_count(b.node, EN_DROP_COOKIE) > 0);
	CU_ASSERT_EQUAL_FATAL(b.udp.len[b.udp.n - 1], 64);
	/* A takes the cookie (its last message with macs is that initiation). */
	memcpy(copy, b.udp.buf[b.udp.n - 1], 64);
	en_receive_datagram(a.node, copy, 64, &b.addr);
	CU_ASSERT_EQUAL(en_node_drop_count(a.node, EN_DROP_HANDSHAKE), 0);
	CU_ASSERT_EQUAL(en_node_drop_count(a.node, EN_DROP_UNKNOWN_INDEX), 0);
	close_pair(&loop, &a, &b);
}

static void test_create_alloc_failures(void)
{
	struct side a, b;
	struct en_config *cfg;

	CU_ASSERT_EQUAL_FATAL(ntm_crypto_init(), 0);
	make_keys(&a, "192.0.2.1:1");
	make_keys(&b, "192.0.2.2:2");
	cfg = make_config(&a, &b, "192.0.2.2:2", "10.0.0.2/32");
	for (long k = 0; k < 64; k++) {
		uv_loop_t loop;
		struct en_node *n;
		int rc;

		CU_ASSERT_EQUAL_FATAL(uv_loop_init(&loop), 0);
		ntm_alloc_fail_after(k);
		rc = en_node_create(&loop, cfg, &n);
		ntm_alloc_fail_reset();
		CU_ASSERT(rc == 0 || rc == -ENOMEM);
		if (rc == 0) {
			en_node_close(n, NULL, NULL);
		}
		CU_ASSERT_EQUAL(uv_run(&loop, UV_RUN_DEFAULT), 0);
		CU_ASSERT_EQUAL(uv_loop_close(&loop), 0);
		if (rc == 0) {
			break;
		}
	}
	en_config_destroy(cfg);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_handshake_and_data),    NTM_TEST(test_bad_data_is_dropped),
	NTM_TEST(test_no_peer_gets_icmp),     NTM_TEST(test_macs_and_load),
	NTM_TEST(test_create_alloc_failures), NTM_TEST(test_held_initiation),
	NTM_TEST(test_triggered_packet),      NTM_TEST(test_triggered_timeout),
};

NTM_TEST_MAIN("node", cases)
