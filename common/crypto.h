/* SPDX-License-Identifier: MIT */
#ifndef NTM_CRYPTO_H
#define NTM_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * WireGuard's cryptographic functions under the names the whitepaper gives
 * them (section 5.4, "Protocol Messages": HASH, MAC, HMAC, KDFn, DH,
 * DH-GENERATE, AEAD, XAEAD, TAI64N). Everything is libsodium except BLAKE2s,
 * which comes from libb2 because libsodium 1.0.18 does not have it; HMAC is
 * RFC 2104 over BLAKE2s-256 with its 64-byte block. No cipher is implemented
 * here, only glue.
 *
 * Secrets passed in are borrowed and never retained. Callers keep keys on the
 * stack (wiped with sodium_memzero before every return) or in memory from
 * ntm_crypto_secure_alloc().
 */

enum ntm_crypto_len {
	NTM_CRYPTO_KEY_LEN = 32,    /* X25519 keys, AEAD keys, chaining keys */
	NTM_CRYPTO_HASH_LEN = 32,   /* HASH and HMAC output */
	NTM_CRYPTO_MAC_LEN = 16,    /* MAC output (keyed BLAKE2s-128) */
	NTM_CRYPTO_TAG_LEN = 16,    /* Poly1305 tag */
	NTM_CRYPTO_XNONCE_LEN = 24, /* XChaCha20-Poly1305 nonce */
	NTM_CRYPTO_TAI64N_LEN = 12,
	NTM_CRYPTO_BLAKE2S_BLOCK = 64,
};

/* Calls sodium_init(). Returns 0 or -EIO. Idempotent; call once at start-up. */
NTM_MUST_CHECK int ntm_crypto_init(void);

/* HASH(in): BLAKE2s with a 32-byte output. */
void ntm_crypto_hash(uint8_t out[NTM_CRYPTO_HASH_LEN], const void *in, size_t len);

/* HASH(a || b), without building the concatenation. */
void ntm_crypto_hash2(uint8_t out[NTM_CRYPTO_HASH_LEN], const void *a, size_t alen, const void *b,
		      size_t blen);

/* MAC(key, in): keyed BLAKE2s with a 16-byte output; keylen must be 1..32 (asserted). */
void ntm_crypto_mac(uint8_t out[NTM_CRYPTO_MAC_LEN], const uint8_t *key, size_t keylen,
		    const void *in, size_t len);

/* HMAC(key, in): RFC 2104 over BLAKE2s-256; any keylen (hashed when > 64). out may alias in. */
void ntm_crypto_hmac(uint8_t out[NTM_CRYPTO_HASH_LEN], const uint8_t *key, size_t keylen,
		     const void *in, size_t len);

/*
 * KDFn(key, in) as WireGuard defines it (HKDF with HMAC-BLAKE2s):
 *   t0 = HMAC(key, in), t1 = HMAC(t0, 0x1), t2 = HMAC(t0, t1 || 0x2),
 *   t3 = HMAC(t0, t2 || 0x3).
 * kdf1 returns t1, kdf2 t1 and t2, kdf3 all three. Outputs may alias `key`.
 */
void ntm_crypto_kdf1(uint8_t t1[32], const uint8_t key[32], const void *in, size_t len);
void ntm_crypto_kdf2(uint8_t t1[32], uint8_t t2[32], const uint8_t key[32], const void *in,
		     size_t len);
void ntm_crypto_kdf3(uint8_t t1[32], uint8_t t2[32], uint8_t t3[32], const uint8_t key[32],
		     const void *in, size_t len);

/*
 * DH(priv, pub): X25519. Returns -EINVAL when the result is all zeros (a
 * small-order public key), in which case `out` is zeroed too.
 */
NTM_MUST_CHECK int ntm_crypto_dh(uint8_t out[32], const uint8_t priv[32], const uint8_t pub[32]);

/* The public key of a private key. Returns -EINVAL if it is all zeros. */
NTM_MUST_CHECK int ntm_crypto_dh_public(uint8_t pub[32], const uint8_t priv[32]);

/* DH-GENERATE(): a fresh clamped private key and its public key. */
NTM_MUST_CHECK int ntm_crypto_dh_generate(uint8_t priv[32], uint8_t pub[32]);

/*
 * One AEAD operation. Encryption writes src_len + 16 bytes to dst, decryption
 * src_len - 16. dst may equal src (in place) but must not overlap it
 * otherwise. ad may be NULL when ad_len is 0. All pointers are borrowed.
 */
struct ntm_crypto_msg {
	uint8_t *dst;
	const uint8_t *src;
	size_t src_len;
	const uint8_t *ad;
	size_t ad_len;
};

/*
 * AEAD(key, counter, plain, ad): ChaCha20-Poly1305 (RFC 8439) with the 96-bit
 * nonce 32 zero bits || 64-bit little-endian counter. Decryption returns
 * -EBADMSG (and writes nothing usable) when the tag does not verify or the
 * input is shorter than a tag; encryption fails only with -EMSGSIZE.
 */
NTM_MUST_CHECK int ntm_crypto_aead_encrypt(const struct ntm_crypto_msg *m, const uint8_t key[32],
					   uint64_t counter);
NTM_MUST_CHECK int ntm_crypto_aead_decrypt(const struct ntm_crypto_msg *m, const uint8_t key[32],
					   uint64_t counter);

/* XAEAD(key, nonce, plain, ad): XChaCha20-Poly1305 with a 24-byte nonce. */
NTM_MUST_CHECK int ntm_crypto_xaead_encrypt(const struct ntm_crypto_msg *m, const uint8_t key[32],
					    const uint8_t nonce[NTM_CRYPTO_XNONCE_LEN]);
NTM_MUST_CHECK int ntm_crypto_xaead_decrypt(const struct ntm_crypto_msg *m, const uint8_t key[32],
					    const uint8_t nonce[NTM_CRYPTO_XNONCE_LEN]);

/*
 * TAI64N of a wall-clock time: big-endian (2^62 + 10 + seconds since 1970),
 * then big-endian nanoseconds rounded down to a multiple of 2^24 ns, as
 * WireGuard does, so that the timestamp is no fine-grained timing oracle.
 * ntm_crypto_tai64n_now() reads CLOCK_REALTIME: the handshake timestamp is the
 * one place ntm uses wall-clock time.
 */
void ntm_crypto_tai64n(uint8_t out[NTM_CRYPTO_TAI64N_LEN], int64_t sec, long nsec);
void ntm_crypto_tai64n_now(uint8_t out[NTM_CRYPTO_TAI64N_LEN]);

/*
 * Zeroed memory for long-lived secrets (sodium_malloc: guard pages, locked,
 * wiped on free). Returns NULL when out of memory. Free with
 * ntm_crypto_secure_free(), which accepts NULL.
 */
void *ntm_crypto_secure_alloc(size_t n);
void ntm_crypto_secure_free(void *p);

#endif
