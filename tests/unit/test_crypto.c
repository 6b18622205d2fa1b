/* SPDX-License-Identifier: MIT */
#include "common/crypto.h"

#include <blake2.h>
#include <stdbool.h>
#include <sodium.h>
#include <string.h>

#include "ntm_test.h"

/*
 * Known-answer tests. Sources: RFC 7693 Appendix B (BLAKE2s "abc"), the
 * BLAKE2 reference blake2s-kat.txt keyed vectors (key 00..1f), RFC 7748
 * section 6.1 (X25519), RFC 8439 section 2.8.2 (ChaCha20-Poly1305),
 * draft-irtf-cfrg-xchacha-03 A.3.1 (XChaCha20-Poly1305). Values marked
 * "python" were derived independently, in a one-off, with Python's
 * hashlib.blake2s / hmac and the `cryptography` package's ChaCha20Poly1305.
 */

static const char ladies[] = "Ladies and Gentlemen of the class of '99: If I could offer you only "
			     "one tip for the future, sunscreen would be it.";
static const char ladies_ad[] = "50515253c0c1c2c3c4c5c6c7";

static void test_hash_rfc7693(void)
{
	uint8_t out[32];

	ntm_crypto_hash(out, "abc", 3);
	CU_ASSERT(ntm_test_eq_hex(out, 32,
			 "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"));
	ntm_crypto_hash2(out, "a", 1, "bc", 2);
	CU_ASSERT(ntm_test_eq_hex(out, 32,
			 "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"));
}

static void test_keyed_blake2s_kat(void)
{
	uint8_t key[32], in[64], out[32];

	for (int i = 0; i < 64; i++) {
		in[i] = (uint8_t)i;
		if (i < 32) {
			key[i] = (uint8_t)i;
		}
	}
	/* blake2s-kat.txt, keyed: the library under MAC, with the full 32-byte output. */
	blake2s(out, NULL, key, 32, 0, 32);
	CU_ASSERT(ntm_test_eq_hex(out, 32,
			 "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49"));
	blake2s(out, in, key, 32, 1, 32);
	CU_ASSERT(ntm_test_eq_hex(out, 32,
			 "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1"));
	blake2s(out, in, key, 32, 63, 32);
	CU_ASSERT(ntm_test_eq_hex(out, 32,
			 "c65382513f07460da39833cb666c5ed82e61b9e998f4b0c4287cee56c3cc9bcd"));
	/* MAC is keyed BLAKE2s-128 (python: blake2s(msg, key=k, digest_size=16)). */
	ntm_crypto_mac(out, key, 32, "WireGuard mac test", 18);
	CU_ASSERT(ntm_test_eq_hex(out, 16, "eb8d5c020c865c5d4da64485e2b1a63b"));
	ntm_crypto_mac(out, key, 16, "cookie mac", 10);
	CU_ASSERT(ntm_test_eq_hex(out, 16, "8ba76acc05f6c2faccabc3ac468f70d3"));
}

static void test_hmac_and_kdf(void)
{
	static const char fox[] = "The quick brown fox jumps over the lazy dog";
	uint8_t key[100], out[32], t1[32], t2[32], t3[32];

	for (int i = 0; i < 100; i++) {
		key[i] = (uint8_t)i;
	}
	/* python: hmac.new(bytes(range(32)), fox, hashlib.blake2s) */
	ntm_crypto_hmac(out, key, 32, fox, strlen(fox));
	CU_ASSERT(ntm_test_eq_hex(out, 32,
			 "f4660dee21c6a48e2a3d695ceedc26693e37b64b5ac5227476578517ee87fe6d"));
	/* python: a key longer than the 64-byte block is hashed first */
	ntm_crypto_hmac(out, key, 100, "abc", 3);
	CU_ASSERT(ntm_test_eq_hex(out, 32,
			 "c1b751501db12b753069a918627b623179be55c8cc7ca5c4e14bdf32274ac656"));

	/* python: t0 = HMAC(k, "input"); t1 = HMAC(t0, 01); t_i = HMAC(t0, t_{i-1} || i) */
	ntm_crypto_kdf3(t1, t2, t3, key, "input", 5);
	CU_ASSERT(
		ntm_test_eq_hex(t1, 32, "87b7f70b24183c6db5dc4f6d9f4c47cdb203321aa2a0bef714896adb3107a040"));
	CU_ASSERT(
		ntm_test_eq_hex(t2, 32, "538a02e1eb2e31b7e4d4b82476d1fe2acf50085d3fb584537279195f5d1f5824"));
	CU_ASSERT(
		ntm_test_eq_hex(t3, 32, "9ad858025593be88de0f9442a589cfe84a88dc19e4753d93684d1c5efc4837f9"));
	memset(t2, 0, 32);
	ntm_crypto_kdf2(t1, t2, key, "input", 5);
	CU_ASSERT(
		ntm_test_eq_hex(t2, 32, "538a02e1eb2e31b7e4d4b82476d1fe2acf50085d3fb584537279195f5d1f5824"));
	/* Output aliasing the key, as the handshake's C = KDF1(C, x) does. */
	memcpy(t1, key, 32);
	ntm_crypto_kdf1(t1, t1, "input", 5);
	CU_ASSERT(
		ntm_test_eq_hex(t1, 32, "87b7f70b24183c6db5dc4f6d9f4c47cdb203321aa2a0bef714896adb3107a040"));
}

static void test_x25519_rfc7748(void)
{
	uint8_t a[32], b[32], pa[32], pb[32], s1[32], s2[32];
	static const uint8_t zero[32];

	ntm_test_unhex(a, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	ntm_test_unhex(b, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	CU_ASSERT_EQUAL(ntm_crypto_dh_public(pa, a), 0);
	CU_ASSERT_EQUAL(ntm_crypto_dh_public(pb, b), 0);
	CU_ASSERT(
		ntm_test_eq_hex(pa, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
	CU_ASSERT(
		ntm_test_eq_hex(pb, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"));
	CU_ASSERT_EQUAL(ntm_crypto_dh(s1, a, pb), 0);
	CU_ASSERT_EQUAL(ntm_crypto_dh(s2, b, pa), 0);
	CU_ASSERT(
		ntm_test_eq_hex(s1, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"));
	CU_ASSERT_EQUAL(memcmp(s1, s2, 32), 0);
	/* A small-order point (here: zero) gives an all-zero result: rejected. */
	memset(s1, 0xaa, 32);
	CU_ASSERT_EQUAL(ntm_crypto_dh(s1, a, zero), -EINVAL);
	CU_ASSERT_EQUAL(memcmp(s1, zero, 32), 0);
}

static void test_dh_generate(void)
{
	uint8_t p1[32], q1[32], p2[32], q2[32], s1[32], s2[32];

	CU_ASSERT_EQUAL(ntm_crypto_dh_generate(p1, q1), 0);
	CU_ASSERT_EQUAL(ntm_crypto_dh_generate(p2, q2), 0);
	CU_ASSERT((p1[0] & 7) == 0 && (p1[31] & 0x80) == 0 && (p1[31] & 0x40) != 0);
	CU_ASSERT(memcmp(p1, p2, 32) != 0);
	CU_ASSERT_EQUAL(ntm_crypto_dh(s1, p1, q2), 0);
	CU_ASSERT_EQUAL(ntm_crypto_dh(s2, p2, q1), 0);
	CU_ASSERT_EQUAL(memcmp(s1, s2, 32), 0);
}

static void test_chacha_rfc8439(void)
{
	uint8_t key[32], nonce[12], ad[12], ct[200];
	size_t n = strlen(ladies);
	unsigned long long clen;

	ntm_test_unhex(key, 32, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
	ntm_test_unhex(nonce, 12, "070000004041424344454647");
	ntm_test_unhex(ad, 12, ladies_ad);
	/* RFC 8439 2.8.2 on the library (its nonce has a non-zero constant,
	 * which WireGuard's nonce layout cannot express). */
	crypto_aead_chacha20poly1305_ietf_encrypt(ct, &clen, (const uint8_t *)ladies, n, ad, 12,
						  NULL, nonce, key);
	CU_ASSERT_EQUAL(clen, n + 16);
	CU_ASSERT(ntm_test_eq_hex(
		ct, clen,
		"d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9"
		"671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee3"
		"28091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
		"1ae10b594f09e26a7e902ecbd0600691"));
}

/* Our nonce layout (python: nonce = 4 zero bytes || struct.pack("<Q", counter)). */
static void test_aead_wireguard_nonce(void)
{
	uint8_t key[32], ad[12], ct[200], pt[200];
	size_t n = strlen(ladies);
	struct ntm_crypto_msg m = {
		.dst = ct, .src = (const uint8_t *)ladies, .src_len = n, .ad = ad, .ad_len = 12
	};

	ntm_test_unhex(key, 32, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
	ntm_test_unhex(ad, 12, ladies_ad);
	CU_ASSERT_EQUAL(ntm_crypto_aead_encrypt(&m, key, 0x0102030405060708ULL), 0);
	CU_ASSERT(ntm_test_eq_hex(
		ct, n + 16,
		"b8d08ad235a97bbc4dd551cc6b1911b3961e31851245f58e7f581dbe0627e811f7465bd39dd9"
		"4d5546bf48ac1a2dd43cbda6f795d215ec93abb888192adfa41a10ee4bb956f2bbbe7294b33f"
		"513dbeeba962d9c2f8cc18c88a9171bebc9ffb116a4383f49408e055ad9ca5fa75dccb65b94f"
		"d963bce6a7bfba85f5b845fd1ee7f5f1"));
	m = (struct ntm_crypto_msg){
		.dst = pt, .src = ct, .src_len = n + 16, .ad = ad, .ad_len = 12
	};
	CU_ASSERT_EQUAL(ntm_crypto_aead_decrypt(&m, key, 0x0102030405060708ULL), 0);
	CU_ASSERT_EQUAL(memcmp(pt, ladies, n), 0);
	/* Wrong counter, flipped bit, short input: all rejected. */
	CU_ASSERT_EQUAL(ntm_crypto_aead_decrypt(&m, key, 0x0102030405060709ULL), -EBADMSG);
	ct[5] ^= 1;
	CU_ASSERT_EQUAL(ntm_crypto_aead_decrypt(&m, key, 0x0102030405060708ULL), -EBADMSG);
	m.src_len = 15;
	CU_ASSERT_EQUAL(ntm_crypto_aead_decrypt(&m, key, 0), -EBADMSG);
	/* python: empty plaintext, no ad, counter 0 -> the tag alone */
	m = (struct ntm_crypto_msg){ .dst = ct, .src = pt, .src_len = 0 };
	CU_ASSERT_EQUAL(ntm_crypto_aead_encrypt(&m, key, 0), 0);
	CU_ASSERT(ntm_test_eq_hex(ct, 16, "3ae5d3f2a376d317eaea5aef0215ba54"));
}

static void test_aead_in_place(void)
{
	uint8_t key[32] = { 1 }, buf[64 + 16], copy[64];
	struct ntm_crypto_msg m = { .dst = buf, .src = buf, .src_len = 64 };

	for (int i = 0; i < 64; i++) {
		buf[i] = copy[i] = (uint8_t)(i * 7);
	}
	CU_ASSERT_EQUAL(ntm_crypto_aead_encrypt(&m, key, 42), 0);
	CU_ASSERT(memcmp(buf, copy, 64) != 0);
	m.src_len = 80;
	CU_ASSERT_EQUAL(ntm_crypto_aead_decrypt(&m, key, 42), 0);
	CU_ASSERT_EQUAL(memcmp(buf, copy, 64), 0);
}

static void test_xchacha_draft(void)
{
	uint8_t key[32], nonce[24], ad[12], ct[200], pt[200];
	size_t n = strlen(ladies);
	struct ntm_crypto_msg m = {
		.dst = ct, .src = (const uint8_t *)ladies, .src_len = n, .ad = ad, .ad_len = 12
	};

	ntm_test_unhex(key, 32, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
	ntm_test_unhex(nonce, 24, "404142434445464748494a4b4c4d4e4f5051525354555657");
	ntm_test_unhex(ad, 12, ladies_ad);
	CU_ASSERT_EQUAL(ntm_crypto_xaead_encrypt(&m, key, nonce), 0);
	CU_ASSERT(ntm_test_eq_hex(
		ct, n + 16,
		"bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4a"
		"a6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b9"
		"82c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e"
		"c0875924c1c7987947deafd8780acf49"));
	m = (struct ntm_crypto_msg){
		.dst = pt, .src = ct, .src_len = n + 16, .ad = ad, .ad_len = 12
	};
	CU_ASSERT_EQUAL(ntm_crypto_xaead_decrypt(&m, key, nonce), 0);
	CU_ASSERT_EQUAL(memcmp(pt, ladies, n), 0);
	ad[0] ^= 1;
	CU_ASSERT_EQUAL(ntm_crypto_xaead_decrypt(&m, key, nonce), -EBADMSG);
}

static void test_tai64n(void)
{
	uint8_t a[12], b[12];

	ntm_crypto_tai64n(a, 0, 0);
	CU_ASSERT(ntm_test_eq_hex(a, 12, "400000000000000a00000000"));
	/* 1700000000 s, 123456789 ns -> ns rounded down to a multiple of 2^24 (117440512). */
	ntm_crypto_tai64n(a, 1700000000, 123456789);
	CU_ASSERT(ntm_test_eq_hex(a, 12, "400000006553f10a07000000"));
	ntm_crypto_tai64n(b, 1700000000, 117440512 + 16777215);
	CU_ASSERT_EQUAL(memcmp(a, b, 12), 0);
	ntm_crypto_tai64n(b, 1700000000, 999999999);
	CU_ASSERT(ntm_test_eq_hex(b, 12, "400000006553f10a3b000000"));
	CU_ASSERT(memcmp(b, a, 12) > 0);
	/* Wall clock: later than 2020-01-01 and strictly ordered by seconds. */
	ntm_crypto_tai64n(a, 1577836800, 0);
	ntm_crypto_tai64n_now(b);
	CU_ASSERT(memcmp(b, a, 12) > 0);
}

static void test_secure_alloc(void)
{
	uint8_t *p = ntm_crypto_secure_alloc(100);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (int i = 0; i < 100; i++) {
		CU_ASSERT_EQUAL(p[i], 0);
	}
	ntm_crypto_secure_free(p);
	ntm_crypto_secure_free(NULL);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_hash_rfc7693),	     NTM_TEST(test_keyed_blake2s_kat),
	NTM_TEST(test_hmac_and_kdf),	     NTM_TEST(test_x25519_rfc7748),
	NTM_TEST(test_dh_generate),	     NTM_TEST(test_chacha_rfc8439),
	NTM_TEST(test_aead_wireguard_nonce), NTM_TEST(test_aead_in_place),
	NTM_TEST(test_xchacha_draft),	     NTM_TEST(test_tai64n),
	NTM_TEST(test_secure_alloc),
};

int main(void)
{
	if (ntm_crypto_init() < 0) {
		return 99;
	}
	return ntm_test_run("crypto", cases, sizeof(cases) / sizeof(cases[0]));
}
