/* SPDX-License-Identifier: MIT */
#include "crypto.h"

#include <assert.h>
#include <blake2.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "alloc.h"

/*
 * WireGuard whitepaper section 5.4 defines the primitives; the constants
 * below are the ones it fixes (TAI64N label 2^62 + 10, see the TAI64 format,
 * and the 2^24 ns whitening granularity that the Linux and Go
 * implementations both use).
 */
enum {
	TAI64N_WHITEN_MASK = (1 << 24) - 1,
	HMAC_IPAD = 0x36,
	HMAC_OPAD = 0x5c,
};

static const uint64_t TAI64_LABEL = 0x400000000000000aULL;

_Static_assert(NTM_CRYPTO_TAG_LEN == crypto_aead_chacha20poly1305_ietf_ABYTES, "tag length");
_Static_assert(NTM_CRYPTO_XNONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce");
_Static_assert(NTM_CRYPTO_KEY_LEN == crypto_scalarmult_curve25519_BYTES, "x25519 length");

int ntm_crypto_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

void ntm_crypto_hash(uint8_t out[NTM_CRYPTO_HASH_LEN], const void *in, size_t len)
{
	ntm_crypto_hash2(out, in, len, NULL, 0);
}

void ntm_crypto_hash2(uint8_t out[NTM_CRYPTO_HASH_LEN], const void *a, size_t alen, const void *b,
		      size_t blen)
{
	blake2s_state st;

	blake2s_init(&st, NTM_CRYPTO_HASH_LEN);
	blake2s_update(&st, a, alen);
	blake2s_update(&st, b, blen);
	blake2s_final(&st, out, NTM_CRYPTO_HASH_LEN);
	sodium_memzero(&st, sizeof(st));
}

void ntm_crypto_mac(uint8_t out[NTM_CRYPTO_MAC_LEN], const uint8_t *key, size_t keylen,
		    const void *in, size_t len)
{
	blake2s_state st;

	assert(keylen > 0 && keylen <= BLAKE2S_KEYBYTES);
	blake2s_init_key(&st, NTM_CRYPTO_MAC_LEN, key, keylen);
	blake2s_update(&st, in, len);
	blake2s_final(&st, out, NTM_CRYPTO_MAC_LEN);
	sodium_memzero(&st, sizeof(st));
}

/* RFC 2104: H((K ^ opad) || H((K ^ ipad) || text)), block size 64. */
void ntm_crypto_hmac(uint8_t out[NTM_CRYPTO_HASH_LEN], const uint8_t *key, size_t keylen,
		     const void *in, size_t len)
{
	uint8_t k[NTM_CRYPTO_BLAKE2S_BLOCK] = { 0 };
	uint8_t pad[NTM_CRYPTO_BLAKE2S_BLOCK];
	uint8_t inner[NTM_CRYPTO_HASH_LEN];

	if (keylen > sizeof(k)) {
		ntm_crypto_hash(k, key, keylen);
	} else if (keylen > 0) {
		memcpy(k, key, keylen);
	}
	for (size_t i = 0; i < sizeof(pad); i++) {
		pad[i] = k[i] ^ HMAC_IPAD;
	}
	ntm_crypto_hash2(inner, pad, sizeof(pad), in, len);
	for (size_t i = 0; i < sizeof(pad); i++) {
		pad[i] = k[i] ^ HMAC_OPAD;
	}
	ntm_crypto_hash2(out, pad, sizeof(pad), inner, sizeof(inner));
	sodium_memzero(k, sizeof(k));
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
}

/* Whitepaper 5.4: the HKDF expansion with a counter byte; t1..t3 may be NULL. */
static void kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t key[32], const void *in,
		size_t len)
{
	uint8_t prk[NTM_CRYPTO_HASH_LEN];
	uint8_t buf[NTM_CRYPTO_HASH_LEN + 1];
	uint8_t *outs[3] = { t1, t2, t3 };

	ntm_crypto_hmac(prk, key, NTM_CRYPTO_KEY_LEN, in, len);
	for (uint8_t i = 0; i < 3 && outs[i] != NULL; i++) {
		/* t_i = HMAC(prk, t_{i-1} || i), with t_0 the empty string. */
		size_t off = i == 0 ? NTM_CRYPTO_HASH_LEN : 0;

		buf[NTM_CRYPTO_HASH_LEN] = (uint8_t)(i + 1);
		ntm_crypto_hmac(buf, prk, sizeof(prk), buf + off, sizeof(buf) - off);
		memcpy(outs[i], buf, NTM_CRYPTO_HASH_LEN);
	}
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(buf, sizeof(buf));
}

void ntm_crypto_kdf1(uint8_t t1[32], const uint8_t key[32], const void *in, size_t len)
{
	kdf(t1, NULL, NULL, key, in, len);
}

void ntm_crypto_kdf2(uint8_t t1[32], uint8_t t2[32], const uint8_t key[32], const void *in,
		     size_t len)
{
	kdf(t1, t2, NULL, key, in, len);
}

void ntm_crypto_kdf3(uint8_t t1[32], uint8_t t2[32], uint8_t t3[32], const uint8_t key[32],
		     const void *in, size_t len)
{
	kdf(t1, t2, t3, key, in, len);
}

int ntm_crypto_dh(uint8_t out[32], const uint8_t priv[32], const uint8_t pub[32])
{
	/* libsodium already fails on an all-zero result; check again regardless. */
	if (crypto_scalarmult_curve25519(out, priv, pub) != 0 || sodium_is_zero(out, 32)) {
		sodium_memzero(out, 32);
		return -EINVAL;
	}
	return 0;
}

int ntm_crypto_dh_public(uint8_t pub[32], const uint8_t priv[32])
{
	if (crypto_scalarmult_curve25519_base(pub, priv) != 0 || sodium_is_zero(pub, 32)) {
		memset(pub, 0, 32);
		return -EINVAL;
	}
	return 0;
}

int ntm_crypto_dh_generate(uint8_t priv[32], uint8_t pub[32])
{
	randombytes_buf(priv, 32);
	/* Clamp as RFC 7748 section 5 (and `wg genkey`) do. */
	priv[0] &= 248;
	priv[31] = (uint8_t)((priv[31] & 127) | 64);
	return ntm_crypto_dh_public(pub, priv);
}

static void make_nonce(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++) {
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
	}
}

int ntm_crypto_aead_encrypt(const struct ntm_crypto_msg *m, const uint8_t key[32], uint64_t counter)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];

	if (m->src_len > crypto_aead_chacha20poly1305_ietf_MESSAGEBYTES_MAX) {
		return -EMSGSIZE;
	}
	make_nonce(nonce, counter);
	crypto_aead_chacha20poly1305_ietf_encrypt(m->dst, NULL, m->src, m->src_len, m->ad,
						  m->ad_len, NULL, nonce, key);
	return 0;
}

int ntm_crypto_aead_decrypt(const struct ntm_crypto_msg *m, const uint8_t key[32], uint64_t counter)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];

	if (m->src_len < NTM_CRYPTO_TAG_LEN) {
		return -EBADMSG;
	}
	make_nonce(nonce, counter);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(m->dst, NULL, NULL, m->src, m->src_len, m->ad,
						      m->ad_len, nonce, key) != 0) {
		return -EBADMSG;
	}
	return 0;
}

int ntm_crypto_xaead_encrypt(const struct ntm_crypto_msg *m, const uint8_t key[32],
			     const uint8_t nonce[NTM_CRYPTO_XNONCE_LEN])
{
	if (m->src_len > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX) {
		return -EMSGSIZE;
	}
	crypto_aead_xchacha20poly1305_ietf_encrypt(m->dst, NULL, m->src, m->src_len, m->ad,
						   m->ad_len, NULL, nonce, key);
	return 0;
}

int ntm_crypto_xaead_decrypt(const struct ntm_crypto_msg *m, const uint8_t key[32],
			     const uint8_t nonce[NTM_CRYPTO_XNONCE_LEN])
{
	if (m->src_len < NTM_CRYPTO_TAG_LEN) {
		return -EBADMSG;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(m->dst, NULL, NULL, m->src, m->src_len,
						       m->ad, m->ad_len, nonce, key) != 0) {
		return -EBADMSG;
	}
	return 0;
}

void ntm_crypto_tai64n(uint8_t out[NTM_CRYPTO_TAI64N_LEN], int64_t sec, long nsec)
{
	uint64_t s = TAI64_LABEL + (uint64_t)sec;
	uint32_t ns = (uint32_t)nsec & ~(uint32_t)TAI64N_WHITEN_MASK;

	for (int i = 0; i < 8; i++) {
		out[i] = (uint8_t)(s >> (56 - 8 * i));
	}
	for (int i = 0; i < 4; i++) {
		out[8 + i] = (uint8_t)(ns >> (24 - 8 * i));
	}
}

void ntm_crypto_tai64n_now(uint8_t out[NTM_CRYPTO_TAI64N_LEN])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ntm_crypto_tai64n(out, (int64_t)ts.tv_sec, ts.tv_nsec);
}

void *ntm_crypto_secure_alloc(size_t n)
{
	void *p;

	/* sodium_malloc needs sodium_init (page size); the call is idempotent. */
	if (ntm_alloc_should_fail() || sodium_init() < 0) {
		return NULL;
	}
	p = sodium_malloc(n);
	if (p != NULL) {
		memset(p, 0, n);
	}
	return p;
}

void ntm_crypto_secure_free(void *p)
{
	sodium_free(p);
}
