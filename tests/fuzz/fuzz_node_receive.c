/* SPDX-License-Identifier: MIT */
/*
 * The node's receive path (endnode/receive.c) on any datagram, through a
 * node with no sockets (en_node_set_io hooks). At the first input the
 * harness completes a real handshake with the node, acting as its one peer
 * with the common/ noise engine, so that fuzzed bytes can also reach the
 * authenticated part of the path. The first input byte picks the mode:
 *   even: the rest is a raw datagram (classification, macs, index lookup,
 *         handshake and cookie handlers, data authentication);
 *   odd:  the rest is the plaintext of a valid data message on the
 *         established session (keepalive, inner IP parsing, the AllowedIPs
 *         source check, delivery to the TUN hook).
 * Nothing may crash, leak or touch memory out of bounds, and every TUN
 * write must be a whole IP packet from the peer's AllowedIPs.
 */
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/alloc.h"
#include "common/cookie.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/key.h"
#include "common/noise.h"
#include "common/transport.h"
#include "endnode/ip.h"
#include "endnode/node.h"
#include "endnode/receive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { BUF_MAX = 65536 + 64 };

struct harness {
	uv_loop_t loop;
	struct en_node *node;
	struct ntm_noise_identity *id;
	struct ntm_noise_handshake *hs;
	struct ntm_cookie_maker *maker;
	struct ntm_noise_keypair kp;
	uint64_t counter;
	uint8_t response[NTM_WG_RESPONSE_LEN];
	bool have_response;
	struct ntm_addr from;
	uint8_t buf[BUF_MAX];
};

static int on_udp(void *ctx, const struct ntm_addr *to, const uint8_t *buf, size_t len)
{
	struct harness *h = ctx;

	if (len == NTM_WG_RESPONSE_LEN && !h->have_response) {
		memcpy(h->response, buf, len);
		h->have_response = true;
	}
	return 0;
}

static int on_tun(void *ctx, const uint8_t *pkt, size_t len)
{
	struct en_ip_info ip;
	static const uint8_t peer4[4] = { 10, 0, 0, 2 };

	/* Only whole packets from 10.0.0.2/32 or fd00::2/128 may come out. */
	if (en_ip_parse(pkt, len, &ip) < 0 || ip.len != len) {
		abort();
	}
	if (ip.family == AF_INET ? memcmp(ip.src, peer4, 4) != 0
				 : ip.src[0] != 0xfd || ip.src[15] != 2) {
		abort();
	}
	return 0;
}

static struct en_config *make_config(const struct ntm_key *priv, const struct ntm_key *peer)
{
	struct en_config *cfg = ntm_calloc(1, sizeof(*cfg));
	struct en_config_peer *p = ntm_calloc(1, sizeof(*p));
	struct ntm_prefix *aips = ntm_calloc(2, sizeof(*aips));

	if (cfg == NULL || p == NULL || aips == NULL) {
		abort();
	}
	cfg->mtu = 1420;
	cfg->private_key = ntm_crypto_secure_alloc(NTM_KEY_LEN);
	memcpy(cfg->private_key, priv->b, NTM_KEY_LEN);
	cfg->peers = p;
	cfg->n_peers = 1;
	memcpy(p->public_key, peer->b, NTM_KEY_LEN);
	p->allowed_ips = aips;
	p->n_allowed_ips = 2;
	if (ntm_prefix_parse("10.0.0.2/32", 0, &aips[0], NULL, 0) < 0 ||
	    ntm_prefix_parse("fd00::2/128", 0, &aips[1], NULL, 0) < 0) {
		abort();
	}
	return cfg;
}

/* Sends plaintext `p` as the next data message of the session. */
static void send_data(struct harness *h, const uint8_t *p, size_t len)
{
	struct ntm_transport_pkt pkt = {
		.plain = p, .len = len, .mtu = 1420, .counter = h->counter++
	};
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, h->buf, sizeof(h->buf));
	if (ntm_transport_encrypt(&h->kp, &pkt, &w) == 0) {
		en_receive_datagram(h->node, h->buf, w.len, &h->from);
	}
}

/* Initiation from the harness, the node's response, session keys, a keepalive. */
static void handshake(struct harness *h, const struct ntm_key *node_pub)
{
	uint8_t ts[NTM_CRYPTO_TAI64N_LEN];
	struct ntm_wg_initiation init;
	struct ntm_wg_response resp;
	struct ntm_wbuf w;

	ntm_crypto_tai64n_now(ts);
	ntm_wbuf_init(&w, h->buf, sizeof(h->buf));
	if (ntm_noise_create_initiation(h->hs, 0x1234, ts, NULL, &init) < 0 ||
	    ntm_wire_encode_initiation(&w, &init) < 0 ||
	    ntm_cookie_add_macs(h->maker, h->buf, w.len, 0) < 0) {
		abort();
	}
	en_receive_datagram(h->node, h->buf, w.len, &h->from);
	if (!h->have_response ||
	    ntm_wire_decode_response(h->response, sizeof(h->response), &resp) < 0 ||
	    ntm_noise_consume_response(h->hs, &resp) < 0 ||
	    ntm_noise_begin_session(h->hs, 0, &h->kp) < 0) {
		abort();
	}
	send_data(h, NULL, 0); /* confirms the session at the node */
}

static struct harness *setup(void)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct ntm_key node_priv, node_pub, priv;
	struct en_config *cfg;
	struct en_node_io io;

	ntm_log_set_level(NTM_LOG_ERR);
	if (h == NULL || ntm_crypto_init() < 0 || uv_loop_init(&h->loop) < 0 ||
	    ntm_key_generate(&node_priv) < 0 || ntm_key_public(&node_pub, &node_priv) < 0 ||
	    ntm_key_generate(&priv) < 0 || ntm_noise_identity_create(priv.b, &h->id) < 0) {
		abort();
	}
	ntm_noise_identity_public(h->id, priv.b); /* priv now holds our public key */
	cfg = make_config(&node_priv, &priv);
	if (en_node_create(&h->loop, cfg, &h->node) < 0 ||
	    ntm_noise_handshake_create(h->id, node_pub.b, NULL, NULL, &h->hs) < 0 ||
	    ntm_cookie_maker_create(node_pub.b, &h->maker) < 0 ||
	    ntm_addr_parse("192.0.2.2:51820", 0, &h->from, NULL, 0) < 0) {
		abort();
	}
	en_config_destroy(cfg);
	ntm_key_wipe(&node_priv);
	io = (struct en_node_io){ on_udp, on_tun, h };
	en_node_set_io(h->node, &io);
	handshake(h, &node_pub);
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness *h;

	if (h == NULL) {
		h = setup();
	}
	if (size == 0 || size - 1 > BUF_MAX - 64) {
		return 0;
	}
	if (data[0] & 1) {
		send_data(h, data + 1, size - 1);
	} else {
		memcpy(h->buf, data + 1, size - 1);
		en_receive_datagram(h->node, h->buf, size - 1, &h->from);
	}
	return 0;
}
