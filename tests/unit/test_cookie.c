/* SPDX-License-Identifier: MIT */
#include "common/cookie.h"

#include <sodium.h>
#include <string.h>

#include "common/alloc.h"
#include "common/crypto.h"
#include "ntm_test.h"

/*
 * The responder side (checker) and the sender side (maker) talk to each other
 * here; interoperability of the same code with wireguard-go's cookie replies
 * and mac2 was checked by hand against a live peer (see the noise tests).
 */

struct fixture {
	uint8_t pub[32];
	struct ntm_cookie_checker *checker;
	struct ntm_cookie_maker *maker;
	uint8_t msg[NTM_WG_INITIATION_LEN];
};

static const uint8_t addr4[4] = { 198, 51, 100, 7 };

static void setup(struct fixture *f)
{
	uint8_t priv[32];

	CU_ASSERT_FATAL(ntm_crypto_dh_generate(priv, f->pub) == 0);
	CU_ASSERT_FATAL(ntm_cookie_checker_create(f->pub, &f->checker) == 0);
	CU_ASSERT_FATAL(ntm_cookie_maker_create(f->pub, &f->maker) == 0);
	/* Any well-formed initiation: the macs do not care what is inside. */
	randombytes_buf(f->msg, sizeof(f->msg));
	memset(f->msg, 0, 4);
	f->msg[0] = NTM_MSG_WG_INITIATION;
	f->msg[4] = 0x2a; /* sender index 42 */
	f->msg[5] = f->msg[6] = f->msg[7] = 0;
}

static void teardown(struct fixture *f)
{
	ntm_cookie_maker_destroy(f->maker);
	ntm_cookie_checker_destroy(f->checker);
}

static struct ntm_cookie_pkt pkt_of(const struct fixture *f, uint16_t port)
{
	return (struct ntm_cookie_pkt){ f->msg, sizeof(f->msg), addr4, 4, port };
}

static void test_mac1(void)
{
	struct fixture f;
	struct ntm_cookie_pkt pkt;
	uint8_t key[32];
	uint8_t want[16];

	setup(&f);
	CU_ASSERT_EQUAL(ntm_cookie_add_macs(f.maker, f.msg, sizeof(f.msg), 0), 0);
	/* mac1 = MAC(HASH("mac1----" || pub), msg[0:116]); no cookie: mac2 zero. */
	ntm_crypto_hash2(key, "mac1----", 8, f.pub, 32);
	ntm_crypto_mac(want, key, 32, f.msg, 116);
	CU_ASSERT_EQUAL(memcmp(f.msg + 116, want, 16), 0);
	CU_ASSERT(sodium_is_zero(f.msg + 132, 16));
	pkt = pkt_of(&f, 1234);
	CU_ASSERT_EQUAL(ntm_cookie_validate(f.checker, &pkt, 0, false), NTM_COOKIE_MAC1_OK);
	CU_ASSERT_EQUAL(ntm_cookie_validate(f.checker, &pkt, 0, true), NTM_COOKIE_MAC1_OK);
	f.msg[20] ^= 1;
	CU_ASSERT_EQUAL(ntm_cookie_validate(f.checker, &pkt, 0, false), NTM_COOKIE_BAD);
	f.msg[20] ^= 1;
	pkt.len = 147;
	CU_ASSERT_EQUAL(ntm_cookie_validate(f.checker, &pkt, 0, false), NTM_COOKIE_BAD);
	/* A data message is no handshake message. */
	CU_ASSERT_EQUAL(ntm_cookie_add_macs(f.maker, f.msg, 100, 0), -EINVAL);
	teardown(&f);
}

/* The full cookie round: refused without mac2, reply, retry with mac2. */
static void test_cookie_round(void)
{
	struct fixture f;
	struct ntm_cookie_pkt pkt;
	struct ntm_wg_cookie_reply reply;
	uint8_t cookie[16], key[32], want[16];
	struct ntm_crypto_msg m;

	setup(&f);
	CU_ASSERT_EQUAL(ntm_cookie_add_macs(f.maker, f.msg, sizeof(f.msg), 0), 0);
	pkt = pkt_of(&f, 51820);
	CU_ASSERT_EQUAL(ntm_cookie_make_reply(f.checker, &pkt, 0, &reply), 0);
	CU_ASSERT_EQUAL(reply.receiver, 42);
	/* The reply decrypts under HASH("cookie--" || pub) with mac1 as ad. */
	ntm_crypto_hash2(key, "cookie--", 8, f.pub, 32);
	m = (struct ntm_crypto_msg){ cookie, reply.enc_cookie, 32, f.msg + 116, 16 };
	CU_ASSERT_EQUAL(ntm_crypto_xaead_decrypt(&m, key, reply.nonce), 0);

	CU_ASSERT_EQUAL(ntm_cookie_consume_reply(f.maker, &reply, 1000), 0);
	CU_ASSERT_EQUAL(ntm_cookie_consume_reply(f.maker, &reply, 1000), -EBADMSG); /* once */
	CU_ASSERT_EQUAL(ntm_cookie_add_macs(f.maker, f.msg, sizeof(f.msg), 2000), 0);
	ntm_crypto_mac(want, cookie, 16, f.msg, 132);
	CU_ASSERT_EQUAL(memcmp(f.msg + 132, want, 16), 0);
	CU_ASSERT_EQUAL(ntm_cookie_validate(f.checker, &pkt, 2000, true), NTM_COOKIE_MAC2_OK);
	CU_ASSERT_EQUAL(ntm_cookie_validate(f.checker, &pkt, 2000, false), NTM_COOKIE_MAC1_OK);
	/* The cookie is bound to the source address and port. */
	pkt.port = 51821;
	CU_ASSERT_EQUAL(ntm_cookie_validate(f.checker, &pkt, 2000, true), NTM_COOKIE_MAC1_OK);
	pkt = pkt_of(&f, 51820);
	pkt.addr = (const uint8_t *)"\xc6\x33\x64\x08";
	CU_ASSERT_EQUAL(ntm_cookie_validate(f.checker, &pkt, 2000, true), NTM_COOKIE_MAC1_OK);
	pkt = pkt_of(&f, 51820);
	/* The secret is replaced at two minutes: old cookies stop working. */
	CU_ASSERT_EQUAL(ntm_cookie_validate(f.checker, &pkt, 119999, true), NTM_COOKIE_MAC2_OK);
	CU_ASSERT_EQUAL(ntm_cookie_validate(f.checker, &pkt, 120000, true), NTM_COOKIE_MAC1_OK);
	teardown(&f);
}

static void test_maker_cookie_expiry(void)
{
	struct fixture f;
	struct ntm_cookie_pkt pkt;
	struct ntm_wg_cookie_reply reply;

	setup(&f);
	CU_ASSERT_EQUAL(ntm_cookie_add_macs(f.maker, f.msg, sizeof(f.msg), 0), 0);
	pkt = pkt_of(&f, 9);
	CU_ASSERT_EQUAL(ntm_cookie_make_reply(f.checker, &pkt, 0, &reply), 0);
	CU_ASSERT_EQUAL(ntm_cookie_consume_reply(f.maker, &reply, 10000), 0);
	/* Used for Cookie-Secret-Max-Age - Cookie-Latency = 115 s after receipt. */
	CU_ASSERT_EQUAL(ntm_cookie_add_macs(f.maker, f.msg, sizeof(f.msg), 10000 + 114999), 0);
	CU_ASSERT(!sodium_is_zero(f.msg + 132, 16));
	CU_ASSERT_EQUAL(ntm_cookie_add_macs(f.maker, f.msg, sizeof(f.msg), 10000 + 115000), 0);
	CU_ASSERT(sodium_is_zero(f.msg + 132, 16));
	teardown(&f);
}

static void test_bad_replies(void)
{
	struct fixture f;
	struct ntm_cookie_pkt pkt;
	struct ntm_wg_cookie_reply reply, bad;

	setup(&f);
	pkt = pkt_of(&f, 9);
	/* Any bit flip in nonce or ciphertext fails the XAEAD. */
	CU_ASSERT_EQUAL(ntm_cookie_add_macs(f.maker, f.msg, sizeof(f.msg), 0), 0);
	CU_ASSERT_EQUAL(ntm_cookie_make_reply(f.checker, &pkt, 0, &reply), 0);
	for (size_t i = 0; i < sizeof(reply.nonce) + sizeof(reply.enc_cookie); i++) {
		bad = reply;
		if (i < sizeof(bad.nonce)) {
			bad.nonce[i] ^= 0x80;
		} else {
			bad.enc_cookie[i - sizeof(bad.nonce)] ^= 0x80;
		}
		CU_ASSERT_EQUAL(ntm_cookie_consume_reply(f.maker, &bad, 0), -EBADMSG);
	}
	/* A reply to an earlier message (another mac1) does not authenticate. */
	f.msg[50] ^= 1;
	CU_ASSERT_EQUAL(ntm_cookie_add_macs(f.maker, f.msg, sizeof(f.msg), 0), 0);
	CU_ASSERT_EQUAL(ntm_cookie_consume_reply(f.maker, &reply, 0), -EBADMSG);
	/* make_reply input checks. */
	pkt.addr_len = 5;
	CU_ASSERT_EQUAL(ntm_cookie_make_reply(f.checker, &pkt, 0, &reply), -EINVAL);
	pkt = pkt_of(&f, 9);
	pkt.len = 92;
	CU_ASSERT_EQUAL(ntm_cookie_make_reply(f.checker, &pkt, 0, &reply), -EBADMSG);
	teardown(&f);
}

static void test_maker_without_reply_sent(void)
{
	struct fixture f;
	struct ntm_wg_cookie_reply reply = { 0 };

	setup(&f);
	CU_ASSERT_EQUAL(ntm_cookie_consume_reply(f.maker, &reply, 0), -EBADMSG);
	teardown(&f);
}

static void test_ipv6_and_alloc_failure(void)
{
	static const uint8_t addr6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	struct fixture f;
	struct ntm_cookie_pkt pkt;
	struct ntm_wg_cookie_reply reply;
	struct ntm_cookie_maker *m = (void *)1;

	setup(&f);
	CU_ASSERT_EQUAL(ntm_cookie_add_macs(f.maker, f.msg, sizeof(f.msg), 0), 0);
	pkt = (struct ntm_cookie_pkt){ f.msg, sizeof(f.msg), addr6, 16, 443 };
	CU_ASSERT_EQUAL(ntm_cookie_make_reply(f.checker, &pkt, 0, &reply), 0);
	CU_ASSERT_EQUAL(ntm_cookie_consume_reply(f.maker, &reply, 0), 0);
	CU_ASSERT_EQUAL(ntm_cookie_add_macs(f.maker, f.msg, sizeof(f.msg), 0), 0);
	CU_ASSERT_EQUAL(ntm_cookie_validate(f.checker, &pkt, 0, true), NTM_COOKIE_MAC2_OK);
	teardown(&f);

	ntm_alloc_fail_after(0);
	CU_ASSERT_EQUAL(ntm_cookie_maker_create(f.pub, &m), -ENOMEM);
	ntm_alloc_fail_reset();
	CU_ASSERT_PTR_NULL(m);
	ntm_cookie_maker_destroy(NULL);
	ntm_cookie_checker_destroy(NULL);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_mac1),
	NTM_TEST(test_cookie_round),
	NTM_TEST(test_maker_cookie_expiry),
	NTM_TEST(test_bad_replies),
	NTM_TEST(test_maker_without_reply_sent),
	NTM_TEST(test_ipv6_and_alloc_failure),
};

int main(void)
{
	if (ntm_crypto_init() < 0) {
		return 99;
	}
	return ntm_test_run("cookie", cases, sizeof(cases) / sizeof(cases[0]));
}
