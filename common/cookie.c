/* SPDX-License-Identifier: MIT */
#include "cookie.h"

#include <sodium.h>
#include <string.h>

#include "alloc.h"
#include "crypto.h"

static const char LABEL_MAC1[8] = { 'm', 'a', 'c', '1', '-', '-', '-', '-' };
static const char LABEL_COOKIE[8] = { 'c', 'o', 'o', 'k', 'i', 'e', '-', '-' };

struct ntm_cookie_checker {
	uint8_t mac1_key[NTM_WG_HASH_LEN];   /* HASH("mac1----" || our public) */
	uint8_t cookie_key[NTM_WG_HASH_LEN]; /* HASH("cookie--" || our public) */
	uint8_t secret[NTM_WG_HASH_LEN];     /* random, replaced every 2 minutes */
	uint64_t secret_birth_ms;
	bool has_secret;
};

struct ntm_cookie_maker {
	uint8_t mac1_key[NTM_WG_HASH_LEN];   /* HASH("mac1----" || peer public) */
	uint8_t cookie_key[NTM_WG_HASH_LEN]; /* HASH("cookie--" || peer public) */
	uint8_t cookie[NTM_WG_COOKIE_LEN];
	uint64_t cookie_birth_ms;
	bool has_cookie;
	uint8_t last_mac1[NTM_WG_MAC_LEN];
	bool has_sent_mac1;
};

static void derive_keys(uint8_t mac1_key[32], uint8_t cookie_key[32], const uint8_t pub[32])
{
	ntm_crypto_hash2(mac1_key, LABEL_MAC1, sizeof(LABEL_MAC1), pub, NTM_WG_KEY_LEN);
	ntm_crypto_hash2(cookie_key, LABEL_COOKIE, sizeof(LABEL_COOKIE), pub, NTM_WG_KEY_LEN);
}

/*
 * Whole initiation or response, WireGuard's or the control channel's (same
 * layouts; mac1 covers the type byte, so the two never pass for each other).
 */
static bool is_handshake_msg(const uint8_t *msg, size_t len)
{
	enum ntm_msg_type type;

	if (ntm_wire_classify(msg, len, &type) < 0) {
		return false;
	}
	return type == NTM_MSG_WG_INITIATION || type == NTM_MSG_WG_RESPONSE ||
	       type == NTM_MSG_CTRL_INITIATION || type == NTM_MSG_CTRL_RESPONSE;
}

static bool has_expired(uint64_t birth_ms, uint64_t now_ms, uint64_t age_ms)
{
	return now_ms < birth_ms || now_ms - birth_ms >= age_ms;
}

int ntm_cookie_checker_create(const uint8_t local_pub[NTM_WG_KEY_LEN],
			      struct ntm_cookie_checker **out)
{
	struct ntm_cookie_checker *c;

	*out = NULL;
	c = ntm_crypto_secure_alloc(sizeof(*c));
	if (c == NULL) {
		return -ENOMEM;
	}
	derive_keys(c->mac1_key, c->cookie_key, local_pub);
	*out = c;
	return 0;
}

void ntm_cookie_checker_destroy(struct ntm_cookie_checker *c)
{
	ntm_crypto_secure_free(c); /* sodium_free wipes */
}

/* cookie = MAC(secret, address || port); the secret is renewed when 2 minutes old. */
static void make_cookie(struct ntm_cookie_checker *c, const struct ntm_cookie_pkt *pkt,
			uint64_t now_ms, uint8_t cookie[NTM_WG_COOKIE_LEN])
{
	uint8_t src[16 + 2];

	if (!c->has_secret ||
	    has_expired(c->secret_birth_ms, now_ms, NTM_COOKIE_SECRET_MAX_AGE_MS)) {
		randombytes_buf(c->secret, sizeof(c->secret));
		c->secret_birth_ms = now_ms;
		c->has_secret = true;
	}
	memcpy(src, pkt->addr, pkt->addr_len);
	src[pkt->addr_len] = (uint8_t)(pkt->port >> 8);
	src[pkt->addr_len + 1] = (uint8_t)pkt->port;
	ntm_crypto_mac(cookie, c->secret, sizeof(c->secret), src, pkt->addr_len + 2);
}

static bool is_addr_len(size_t n)
{
	return n == 4 || n == 16;
}

enum ntm_cookie_verdict ntm_cookie_validate(struct ntm_cookie_checker *c,
					    const struct ntm_cookie_pkt *pkt, uint64_t now_ms,
					    bool check_mac2)
{
	uint8_t mac[NTM_WG_MAC_LEN];
	uint8_t cookie[NTM_WG_COOKIE_LEN];
	size_t mac1_off, mac2_off;
	int bad;

	if (!is_handshake_msg(pkt->msg, pkt->len)) {
		return NTM_COOKIE_BAD;
	}
	mac1_off = pkt->len - NTM_WG_MACS_LEN;
	mac2_off = pkt->len - NTM_WG_MAC_LEN;
	ntm_crypto_mac(mac, c->mac1_key, sizeof(c->mac1_key), pkt->msg, mac1_off);
	if (crypto_verify_16(mac, pkt->msg + mac1_off) != 0) {
		return NTM_COOKIE_BAD;
	}
	if (!check_mac2 || !is_addr_len(pkt->addr_len)) {
		return NTM_COOKIE_MAC1_OK;
	}
	make_cookie(c, pkt, now_ms, cookie);
	ntm_crypto_mac(mac, cookie, sizeof(cookie), pkt->msg, mac2_off);
	bad = crypto_verify_16(mac, pkt->msg + mac2_off);
	sodium_memzero(cookie, sizeof(cookie));
	return bad ? NTM_COOKIE_MAC1_OK : NTM_COOKIE_MAC2_OK;
}

int ntm_cookie_make_reply(struct ntm_cookie_checker *c, const struct ntm_cookie_pkt *pkt,
			  uint64_t now_ms, struct ntm_wg_cookie_reply *out)
{
	uint8_t cookie[NTM_WG_COOKIE_LEN];
	struct ntm_crypto_msg m;
	struct ntm_rbuf r;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!is_handshake_msg(pkt->msg, pkt->len)) {
		return -EBADMSG;
	}
	if (!is_addr_len(pkt->addr_len)) {
		return -EINVAL;
	}
	/* Both handshake messages carry their sender index right after the header. */
	ntm_rbuf_init(&r, pkt->msg, pkt->len);
	if (ntm_rbuf_skip(&r, NTM_WG_HEADER_LEN) < 0 || ntm_rbuf_get_le32(&r, &out->receiver) < 0) {
		return -EBADMSG;
	}
	randombytes_buf(out->nonce, sizeof(out->nonce));
	make_cookie(c, pkt, now_ms, cookie);
	m = (struct ntm_crypto_msg){ .dst = out->enc_cookie,
				     .src = cookie,
				     .src_len = sizeof(cookie),
				     .ad = pkt->msg + pkt->len - NTM_WG_MACS_LEN,
				     .ad_len = NTM_WG_MAC_LEN };
	rc = ntm_crypto_xaead_encrypt(&m, c->cookie_key, out->nonce);
	sodium_memzero(cookie, sizeof(cookie));
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

int ntm_cookie_maker_create(const uint8_t peer_pub[NTM_WG_KEY_LEN], struct ntm_cookie_maker **out)
{
	struct ntm_cookie_maker *m;

	/* Nothing here is a long-term secret (keys derive from a public key and the
	 * cookie lives two minutes), so plain heap memory, wiped on destroy. */
	*out = NULL;
	m = ntm_calloc(1, sizeof(*m));
	if (m == NULL) {
		return -ENOMEM;
	}
	derive_keys(m->mac1_key, m->cookie_key, peer_pub);
	*out = m;
	return 0;
}

void ntm_cookie_maker_destroy(struct ntm_cookie_maker *m)
{
	if (m == NULL) {
		return;
	}
	sodium_memzero(m, sizeof(*m));
	ntm_free(m);
}

int ntm_cookie_add_macs(struct ntm_cookie_maker *m, uint8_t *msg, size_t len, uint64_t now_ms)
{
	size_t mac1_off, mac2_off;
	bool fresh;

	if (!is_handshake_msg(msg, len)) {
		return -EINVAL;
	}
	mac1_off = len - NTM_WG_MACS_LEN;
	mac2_off = len - NTM_WG_MAC_LEN;
	ntm_crypto_mac(msg + mac1_off, m->mac1_key, sizeof(m->mac1_key), msg, mac1_off);
	memcpy(m->last_mac1, msg + mac1_off, NTM_WG_MAC_LEN);
	m->has_sent_mac1 = true;

	fresh = m->has_cookie && !has_expired(m->cookie_birth_ms, now_ms,
					      NTM_COOKIE_SECRET_MAX_AGE_MS - NTM_COOKIE_LATENCY_MS);
	if (fresh) {
		ntm_crypto_mac(msg + mac2_off, m->cookie, sizeof(m->cookie), msg, mac2_off);
	} else {
		memset(msg + mac2_off, 0, NTM_WG_MAC_LEN);
	}
	return 0;
}

int ntm_cookie_consume_reply(struct ntm_cookie_maker *m, const struct ntm_wg_cookie_reply *r,
			     uint64_t now_ms)
{
	uint8_t cookie[NTM_WG_COOKIE_LEN];
	struct ntm_crypto_msg cm = { .dst = cookie,
				     .src = r->enc_cookie,
				     .src_len = sizeof(r->enc_cookie),
				     .ad = m->last_mac1,
				     .ad_len = sizeof(m->last_mac1) };

	if (!m->has_sent_mac1) {
		return -EBADMSG;
	}
	if (ntm_crypto_xaead_decrypt(&cm, m->cookie_key, r->nonce) < 0) {
		sodium_memzero(cookie, sizeof(cookie));
		return -EBADMSG;
	}
	memcpy(m->cookie, cookie, sizeof(cookie));
	sodium_memzero(cookie, sizeof(cookie));
	m->cookie_birth_ms = now_ms;
	m->has_cookie = true;
	m->has_sent_mac1 = false;
	return 0;
}
