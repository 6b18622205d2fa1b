/* SPDX-License-Identifier: MIT */
#include "common/noise.h"

#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#include "common/alloc.h"
#include "common/cookie.h"
#include "common/crypto.h"
#include "common/transport.h"
#include "common/wire.h"
#include "ntm_test.h"

/*
 * Known-answer vectors. No published WireGuard handshake vector was found,
 * so these come from an independent model: a one-off Python script written
 * from the whitepaper (section 5.4) on hashlib.blake2s, hmac and the
 * `cryptography` package's X25519 and ChaCha20Poly1305. Keys are
 * sha256("ntm test initiator static") etc.; the timestamp is
 * TAI64N(1700000000 s, 123456789 ns whitened); indices 0x11223344
 * (initiator) and 0xa1b2c3d4 (responder); mac2 zero. The transport messages
 * are the initiator's keepalive (counter 0) and "abc" padded to 16 bytes
 * (counter 1). The psk only changes message 2 and the keys.
 */
static const char kat_si[] = "bca0d2ee44b8a89830e04f65f722a9729e3fa80b7011c18b49f3a9d6f736357e";
static const char kat_sr[] = "675012bc13b33754300a51030c7e93b0fd21d5dca497696f38ac1ad56ccabe98";
static const char kat_ei[] = "9c39ba8eb301bfc3c85cf50943de6d64ed27974f8d1917432b1d0260348d9b5b";
static const char kat_er[] = "1b45370038af56e89b5512967f03372205042c10ab327492e090018e09aca646";
static const char kat_psk[] = "0ed6d7b6f47eeb5ddaf45b2973ca64ca0aeaff24bd14f0862a3f699ae994e880";
static const char kat_ts[] = "400000006553f10a07000000";
static const char kat_init[] = "010000004433221108216771d08a1b844bf449a50f32a1f02f7f014b8a902ccc"
			       "c5dc4f27b239112f8e0d9ebae3df36bdc452371a8b96c00ce2d25531f908b887"
			       "bcbb45967aa93e04a8d8492095f7ec8a8c112f90ef5c05685ca7ff5769038919"
			       "a76c796bfd08a974a8777147ea3962e1327c4e4a3e5c7015d751df9ce033b5d4"
			       "2c17f20400000000000000000000000000000000";

struct kat {
	const char *psk; /* NULL: none */
	const char *resp, *i_send, *i_recv, *keepalive, *abc;
};

static const struct kat kat_nopsk = {
	.psk = NULL,
	.resp = "02000000d4c3b2a144332211715f78496479497883c35ad57f866cd7e46b87ca"
		"6ba13ec91a3f8079173bf43f33d0c5e9ce1f77237697c0968267955e8e73e1c0"
		"1dff6d8652f524d78ffd611d00000000000000000000000000000000",
	.i_send = "5b460a6585b5785f975ecfdfff8fb71bb47e046f46d67110790b6de1e06d6b03",
	.i_recv = "041afcaaf884212a4caca0e5ee71e035acf9c23d73d03478496197e465fc7a9a",
	.keepalive = "04000000d4c3b2a100000000000000000a525dfd01d7746c0605f69edce6dc7a",
	.abc = "04000000d4c3b2a10100000000000000bff7feb7d260b848f01678c27659d66c"
	       "87d46c768b3a43107552f005de0a7f5b",
};

static const struct kat kat_withpsk = {
	.psk = kat_psk,
	.resp = "02000000d4c3b2a144332211715f78496479497883c35ad57f866cd7e46b87ca"
		"6ba13ec91a3f8079173bf43f0113b177d9a6194413173227d06008e3c1eaf992"
		"e2f5ab746c6e468f391b0e1700000000000000000000000000000000",
	.i_send = "926055aa462fced4a663b1bce0389784c1989cc01362538d004bf1f1a2a22f5a",
	.i_recv = "ccd7e49bd3997da8852d345cc879ed0f059f341a193989704915b398547cb999",
	.keepalive = "04000000d4c3b2a100000000000000002bf0fc10283e87fa65fb611e794c7c7d",
	.abc = "04000000d4c3b2a101000000000000005c67148fb26025f6866c0339bed13c42"
	       "dbbe6fca3893bc07df0e768518b9f26b",
};

enum { I_IDX = 0x11223344, R_IDX = 0xa1b2c3d4 };

/* Two in-process peers: everything each side of the wire owns. */
struct side {
	struct ntm_noise_identity *id;
	struct ntm_noise_handshake *hs; /* with the other side */
	struct ntm_cookie_checker *checker;
	struct ntm_cookie_maker *maker; /* macs for messages to the other side */
	struct ntm_noise_keypair kp;
	uint8_t pub[32];
};

struct pair {
	struct side i, r;
};

static struct ntm_noise_handshake *lookup_one(void *ctx, const uint8_t *static_pub)
{
	struct side *s = ctx; /* the responder: knows exactly one peer */
	uint8_t peer[32];

	if (s->hs == NULL) {
		return NULL;
	}
	ntm_noise_handshake_peer_public(s->hs, peer);
	return memcmp(peer, static_pub, 32) == 0 ? s->hs : NULL;
}

static void side_init(struct side *s, const uint8_t priv[32])
{
	memset(s, 0, sizeof(*s));
	CU_ASSERT_FATAL(ntm_noise_identity_create(priv, &s->id) == 0);
	ntm_noise_identity_public(s->id, s->pub);
	CU_ASSERT_FATAL(ntm_cookie_checker_create(s->pub, &s->checker) == 0);
}

static void side_peer(struct side *s, const struct side *other, const uint8_t *psk)
{
	CU_ASSERT_FATAL(ntm_noise_handshake_create(s->id, other->pub, psk, s, &s->hs) == 0);
	CU_ASSERT_FATAL(ntm_cookie_maker_create(other->pub, &s->maker) == 0);
	CU_ASSERT_PTR_EQUAL(ntm_noise_handshake_owner(s->hs), s);
}

static void side_fini(struct side *s)
{
	ntm_noise_handshake_destroy(s->hs);
	ntm_cookie_maker_destroy(s->maker);
	ntm_cookie_checker_destroy(s->checker);
	ntm_noise_identity_destroy(s->id);
	ntm_noise_keypair_wipe(&s->kp);
}

static void pair_init(struct pair *p, const uint8_t *psk)
{
	uint8_t a[32], b[32];

	randombytes_buf(a, sizeof(a));
	randombytes_buf(b, sizeof(b));
	side_init(&p->i, a);
	side_init(&p->r, b);
	side_peer(&p->i, &p->r, psk);
	side_peer(&p->r, &p->i, psk);
}

static void pair_fini(struct pair *p)
{
	side_fini(&p->i);
	side_fini(&p->r);
}

static const uint8_t src_addr[4] = { 192, 0, 2, 1 };

/* Initiator side: message 1 as bytes, macs included. */
static void make_init(struct side *s, uint32_t idx, const uint8_t ts[12], uint8_t out[148])
{
	struct ntm_wg_initiation m;
	struct ntm_wbuf w;

	CU_ASSERT_FATAL(ntm_noise_create_initiation(s->hs, idx, ts, NULL, &m) == 0);
	ntm_wbuf_init(&w, out, 148);
	CU_ASSERT_FATAL(ntm_wire_encode_initiation(&w, &m) == 0 && w.len == 148);
	CU_ASSERT_FATAL(ntm_cookie_add_macs(s->maker, out, 148, 1000) == 0);
}

/* Responder's whole receive path for message 1: dispatcher, macs, decode, handshake. */
static int recv_init(struct side *s, const uint8_t *buf, size_t len, bool under_load)
{
	struct ntm_cookie_pkt pkt = { buf, len, src_addr, 4, 51820 };
	struct ntm_noise_handshake *hs;
	struct ntm_wg_initiation m;
	enum ntm_msg_type type;
	enum ntm_cookie_verdict v;
	int rc;

	if (ntm_wire_classify(buf, len, &type) < 0 || type != NTM_MSG_WG_INITIATION) {
		return -EBADMSG;
	}
	v = ntm_cookie_validate(s->checker, &pkt, 1000, under_load);
	if (v == NTM_COOKIE_BAD || (under_load && v != NTM_COOKIE_MAC2_OK)) {
		return -EAGAIN;
	}
	rc = ntm_wire_decode_initiation(buf, len, &m);
	if (rc == 0) {
		rc = ntm_noise_consume_initiation(s->id, &m, lookup_one, s, &hs);
	}
	return rc;
}

static void make_resp(struct side *s, uint32_t idx, uint8_t out[92])
{
	struct ntm_wg_response m;
	struct ntm_wbuf w;

	CU_ASSERT_FATAL(ntm_noise_create_response(s->hs, idx, NULL, &m) == 0);
	ntm_wbuf_init(&w, out, 92);
	CU_ASSERT_FATAL(ntm_wire_encode_response(&w, &m) == 0 && w.len == 92);
	CU_ASSERT_FATAL(ntm_cookie_add_macs(s->maker, out, 92, 1000) == 0);
}

/* Initiator's receive path for message 2; our one handshake has index `idx`. */
static int recv_resp(struct side *s, uint32_t idx, const uint8_t *buf, size_t len, bool under_load)
{
	struct ntm_cookie_pkt pkt = { buf, len, src_addr, 4, 51820 };
	struct ntm_wg_response m;
	enum ntm_msg_type type;
	enum ntm_cookie_verdict v;

	if (ntm_wire_classify(buf, len, &type) < 0 || type != NTM_MSG_WG_RESPONSE) {
		return -EBADMSG;
	}
	v = ntm_cookie_validate(s->checker, &pkt, 1000, under_load);
	if (v == NTM_COOKIE_BAD || (under_load && v != NTM_COOKIE_MAC2_OK)) {
		return -EAGAIN;
	}
	if (ntm_wire_decode_response(buf, len, &m) < 0) {
		return -EBADMSG;
	}
	if (m.receiver != idx) {
		return -ENOENT; /* the caller's index table has no such entry */
	}
	return ntm_noise_consume_response(s->hs, &m);
}

/* `to` answers `msg` (sent by `from`) with a cookie reply, which `from` takes in. */
static void give_cookie(struct side *from, struct side *to, const uint8_t *msg, size_t len)
{
	struct ntm_cookie_pkt pkt = { msg, len, src_addr, 4, 51820 };
	struct ntm_wg_cookie_reply reply;

	CU_ASSERT_FATAL(ntm_cookie_make_reply(to->checker, &pkt, 1000, &reply) == 0);
	CU_ASSERT_FATAL(ntm_cookie_consume_reply(from->maker, &reply, 1000) == 0);
}

static void check_data(struct side *a, struct side *b, uint64_t counter)
{
	static const uint8_t msg[] = "hello through the tunnel";
	uint8_t buf[128], out[128];
	struct ntm_transport_pkt p = { msg, sizeof(msg), 1420, counter };
	struct ntm_wg_data d;
	struct ntm_wbuf w;
	size_t n;

	ntm_wbuf_init(&w, buf, sizeof(buf));
	CU_ASSERT_FATAL(ntm_transport_encrypt(&a->kp, &p, &w) == 0);
	CU_ASSERT_EQUAL(w.len, 16 + 32 + 16);
	CU_ASSERT_FATAL(ntm_wire_decode_data(buf, w.len, &d) == 0);
	CU_ASSERT_EQUAL(d.counter, counter);
	CU_ASSERT_EQUAL(ntm_transport_decrypt(&b->kp, &d, out, sizeof(out), &n), 0);
	CU_ASSERT(n == 32 && memcmp(out, msg, sizeof(msg)) == 0);
}

static void full_handshake(bool with_psk)
{
	uint8_t psk[32], ts[12], m1[148], m2[92];
	struct pair p;

	randombytes_buf(psk, sizeof(psk));
	pair_init(&p, with_psk ? psk : NULL);
	ntm_crypto_tai64n_now(ts);
	make_init(&p.i, 7, ts, m1);
	CU_ASSERT_EQUAL(recv_init(&p.r, m1, sizeof(m1), false), 0);
	make_resp(&p.r, 9, m2);
	CU_ASSERT_EQUAL(ntm_noise_begin_session(p.r.hs, 5000, &p.r.kp), 0);
	CU_ASSERT_EQUAL(recv_resp(&p.i, 7, m2, sizeof(m2), false), 0);
	CU_ASSERT_EQUAL(ntm_noise_begin_session(p.i.hs, 6000, &p.i.kp), 0);

	CU_ASSERT_EQUAL(memcmp(p.i.kp.send_key, p.r.kp.recv_key, 32), 0);
	CU_ASSERT_EQUAL(memcmp(p.i.kp.recv_key, p.r.kp.send_key, 32), 0);
	CU_ASSERT(memcmp(p.i.kp.send_key, p.i.kp.recv_key, 32) != 0);
	CU_ASSERT(p.i.kp.is_initiator && !p.r.kp.is_initiator);
	CU_ASSERT(p.i.kp.local_index == 7 && p.i.kp.remote_index == 9);
	CU_ASSERT(p.r.kp.local_index == 9 && p.r.kp.remote_index == 7);
	CU_ASSERT(p.i.kp.created_ms == 6000 && p.r.kp.created_ms == 5000);
	check_data(&p.i, &p.r, 0);
	check_data(&p.r, &p.i, 0);
	check_data(&p.i, &p.r, 1);
	/* The session began: the handshake is spent. */
	CU_ASSERT_EQUAL(ntm_noise_begin_session(p.i.hs, 0, &p.i.kp), -EPROTO);
	CU_ASSERT_EQUAL(recv_resp(&p.i, 7, m2, sizeof(m2), false), -EPROTO);
	pair_fini(&p);
}

static void test_handshake_no_psk(void)
{
	full_handshake(false);
}

static void test_handshake_psk(void)
{
	full_handshake(true);
}

static void run_kat(const struct kat *k)
{
	uint8_t si[32], sr[32], ei[32], er[32], psk[32], ts[12], buf[148];
	struct ntm_noise_handshake *hs;
	struct ntm_wg_initiation m1;
	struct ntm_wg_response m2;
	struct ntm_transport_pkt pkt = { (const uint8_t *)"abc", 3, 0, 1 };
	struct ntm_wbuf w;
	struct pair p;

	ntm_test_unhex(si, 32, kat_si);
	ntm_test_unhex(sr, 32, kat_sr);
	ntm_test_unhex(ei, 32, kat_ei);
	ntm_test_unhex(er, 32, kat_er);
	ntm_test_unhex(ts, 12, kat_ts);
	if (k->psk != NULL) {
		ntm_test_unhex(psk, 32, k->psk);
	}
	side_init(&p.i, si);
	side_init(&p.r, sr);
	side_peer(&p.i, &p.r, k->psk ? psk : NULL);
	side_peer(&p.r, &p.i, k->psk ? psk : NULL);

	CU_ASSERT_FATAL(ntm_noise_create_initiation(p.i.hs, I_IDX, ts, ei, &m1) == 0);
	ntm_wbuf_init(&w, buf, sizeof(buf));
	CU_ASSERT_FATAL(ntm_wire_encode_initiation(&w, &m1) == 0);
	CU_ASSERT_FATAL(ntm_cookie_add_macs(p.i.maker, buf, w.len, 0) == 0);
	CU_ASSERT(ntm_test_eq_hex(buf, w.len, kat_init));

	CU_ASSERT_FATAL(ntm_noise_consume_initiation(p.r.id, &m1, lookup_one, &p.r, &hs) == 0);
	CU_ASSERT_PTR_EQUAL(hs, p.r.hs);
	CU_ASSERT_FATAL(ntm_noise_create_response(p.r.hs, R_IDX, er, &m2) == 0);
	ntm_wbuf_init(&w, buf, sizeof(buf));
	CU_ASSERT_FATAL(ntm_wire_encode_response(&w, &m2) == 0);
	CU_ASSERT_FATAL(ntm_cookie_add_macs(p.r.maker, buf, w.len, 0) == 0);
	CU_ASSERT(ntm_test_eq_hex(buf, w.len, k->resp));

	CU_ASSERT_FATAL(ntm_noise_consume_response(p.i.hs, &m2) == 0);
	CU_ASSERT_FATAL(ntm_noise_begin_session(p.i.hs, 0, &p.i.kp) == 0);
	CU_ASSERT(ntm_test_eq_hex(p.i.kp.send_key, 32, k->i_send));
	CU_ASSERT(ntm_test_eq_hex(p.i.kp.recv_key, 32, k->i_recv));

	ntm_wbuf_init(&w, buf, sizeof(buf));
	pkt.counter = 0;
	pkt.len = 0;
	CU_ASSERT(ntm_transport_encrypt(&p.i.kp, &pkt, &w) == 0 && w.len == 32);
	CU_ASSERT(ntm_test_eq_hex(buf, w.len, k->keepalive));
	ntm_wbuf_init(&w, buf, sizeof(buf));
	pkt.counter = 1;
	pkt.len = 3;
	CU_ASSERT(ntm_transport_encrypt(&p.i.kp, &pkt, &w) == 0 && w.len == 48);
	CU_ASSERT(ntm_test_eq_hex(buf, w.len, k->abc));
	side_fini(&p.i);
	side_fini(&p.r);
}

static void test_kat_no_psk(void)
{
	run_kat(&kat_nopsk);
}

static void test_kat_psk(void)
{
	run_kat(&kat_withpsk);
}

/*
 * Every byte of an initiation counts: with the responder under load (mac2
 * demanded, the initiator holding a cookie) any single bit flip is refused
 * somewhere on the receive path, and refusals leave no trace.
 */
static void test_tamper_initiation(void)
{
	uint8_t ts[12], m1[148], bad[148];
	struct pair p;

	pair_init(&p, NULL);
	ntm_crypto_tai64n_now(ts);
	make_init(&p.i, 1, ts, m1);
	give_cookie(&p.i, &p.r, m1, sizeof(m1));
	make_init(&p.i, 1, ts, m1);
	for (size_t pos = 0; pos < sizeof(m1); pos++) {
		for (int bit = 0; bit < 8; bit += 3) {
			memcpy(bad, m1, sizeof(bad));
			bad[pos] ^= (uint8_t)(1u << bit);
			CU_ASSERT_NOT_EQUAL(recv_init(&p.r, bad, sizeof(bad), true), 0);
		}
	}
	/* The noise layer alone authenticates e, s and t (bytes 8..115). */
	for (size_t pos = 8; pos < NTM_WG_INITIATION_MAC1_OFF; pos++) {
		struct ntm_wg_initiation m;
		struct ntm_noise_handshake *hs;

		memcpy(bad, m1, sizeof(bad));
		bad[pos] ^= 0x40;
		CU_ASSERT_FATAL(ntm_wire_decode_initiation(bad, sizeof(bad), &m) == 0);
		CU_ASSERT_NOT_EQUAL(ntm_noise_consume_initiation(p.r.id, &m, lookup_one, &p.r, &hs),
				    0);
		CU_ASSERT_PTR_NULL(hs);
	}
	/* Nothing above allocated or changed state: the original still goes through. */
	ntm_alloc_fail_after(0);
	CU_ASSERT_EQUAL(recv_init(&p.r, m1, sizeof(m1), true), 0);
	ntm_alloc_fail_reset();
	CU_ASSERT_EQUAL(recv_init(&p.r, m1, sizeof(m1) - 1, false), -EBADMSG);
	pair_fini(&p);
}

static void test_tamper_response(void)
{
	uint8_t ts[12], m1[148], m2[92], bad[92];
	struct pair p;

	pair_init(&p, NULL);
	ntm_crypto_tai64n_now(ts);
	make_init(&p.i, 3, ts, m1);
	CU_ASSERT_FATAL(recv_init(&p.r, m1, sizeof(m1), false) == 0);
	make_resp(&p.r, 4, m2);
	give_cookie(&p.r, &p.i, m2, sizeof(m2));
	/* A response is a one-shot: rebuild it (the same initiation, consumed anew). */
	ntm_crypto_tai64n(ts, 2000000000, 0);
	make_init(&p.i, 3, ts, m1);
	CU_ASSERT_FATAL(recv_init(&p.r, m1, sizeof(m1), false) == 0);
	make_resp(&p.r, 4, m2);
	for (size_t pos = 0; pos < sizeof(m2); pos++) {
		for (int bit = 0; bit < 8; bit += 3) {
			memcpy(bad, m2, sizeof(bad));
			bad[pos] ^= (uint8_t)(1u << bit);
			CU_ASSERT_NOT_EQUAL(recv_resp(&p.i, 3, bad, sizeof(bad), true), 0);
		}
	}
	CU_ASSERT_EQUAL(recv_resp(&p.i, 3, m2, sizeof(m2), true), 0);
	pair_fini(&p);
}

static void test_replayed_initiation(void)
{
	uint8_t ts[12], m1[148], m1_old[148];
	struct pair p;

	pair_init(&p, NULL);
	ntm_crypto_tai64n(ts, 1700000000, 0);
	make_init(&p.i, 1, ts, m1_old);
	CU_ASSERT_EQUAL(recv_init(&p.r, m1_old, sizeof(m1_old), false), 0);
	/* The very same datagram again, and a fresh one with the same timestamp. */
	CU_ASSERT_EQUAL(recv_init(&p.r, m1_old, sizeof(m1_old), false), -ESTALE);
	make_init(&p.i, 2, ts, m1);
	CU_ASSERT_EQUAL(recv_init(&p.r, m1, sizeof(m1), false), -ESTALE);
	/* Within the same 2^24 ns whitening slot counts as the same time. */
	ntm_crypto_tai64n(ts, 1700000000, 1000);
	make_init(&p.i, 3, ts, m1);
	CU_ASSERT_EQUAL(recv_init(&p.r, m1, sizeof(m1), false), -ESTALE);
	ntm_crypto_tai64n(ts, 1700000001, 0);
	make_init(&p.i, 4, ts, m1);
	CU_ASSERT_EQUAL(recv_init(&p.r, m1, sizeof(m1), false), 0);
	CU_ASSERT_EQUAL(recv_init(&p.r, m1_old, sizeof(m1_old), false), -ESTALE);
	pair_fini(&p);
}

static void test_response_state_and_index(void)
{
	uint8_t ts[12], m1[148];
	struct ntm_wg_response r;
	struct pair p;

	pair_init(&p, NULL);
	ntm_crypto_tai64n_now(ts);
	/* No initiation consumed / sent yet. */
	CU_ASSERT_EQUAL(ntm_noise_create_response(p.r.hs, 1, NULL, &r), -EPROTO);
	CU_ASSERT_EQUAL(ntm_noise_begin_session(p.r.hs, 0, &p.r.kp), -EPROTO);
	make_init(&p.i, 10, ts, m1);
	CU_ASSERT_FATAL(recv_init(&p.r, m1, sizeof(m1), false) == 0);
	CU_ASSERT_EQUAL(ntm_noise_begin_session(p.r.hs, 0, &p.r.kp), -EPROTO);
	CU_ASSERT_FATAL(ntm_noise_create_response(p.r.hs, 11, NULL, &r) == 0);
	CU_ASSERT_EQUAL(r.receiver, 10);
	/* A response naming another index of ours is refused by the engine too. */
	r.receiver = 99;
	CU_ASSERT_EQUAL(ntm_noise_consume_response(p.i.hs, &r), -ENOENT);
	r.receiver = 10;
	CU_ASSERT_EQUAL(ntm_noise_consume_response(p.r.hs, &r), -EPROTO);
	CU_ASSERT_EQUAL(ntm_noise_consume_response(p.i.hs, &r), 0);
	/* A new initiation replaces the old one: the old response is refused. */
	make_init(&p.i, 12, ts, m1);
	CU_ASSERT_EQUAL(ntm_noise_consume_response(p.i.hs, &r), -ENOENT);
	/* After a clear (e.g. a handshake timeout) nothing is outstanding. */
	ntm_noise_handshake_clear(p.i.hs);
	r.receiver = 12;
	CU_ASSERT_EQUAL(ntm_noise_consume_response(p.i.hs, &r), -EPROTO);
	pair_fini(&p);
}

static void test_wrong_static_key(void)
{
	uint8_t ts[12], m1[148], k[32];
	struct ntm_noise_handshake *hs;
	struct ntm_wg_initiation m;
	struct side stranger, other;
	struct pair p;

	pair_init(&p, NULL);
	randombytes_buf(k, sizeof(k));
	side_init(&stranger, k);
	randombytes_buf(k, sizeof(k));
	side_init(&other, k);
	ntm_crypto_tai64n_now(ts);

	/* Sent to a responder whose key it is not: mac1 and the static AEAD both fail. */
	make_init(&p.i, 1, ts, m1);
	CU_ASSERT_EQUAL(recv_init(&other, m1, sizeof(m1), false), -EAGAIN);
	CU_ASSERT_FATAL(ntm_wire_decode_initiation(m1, sizeof(m1), &m) == 0);
	CU_ASSERT_EQUAL(ntm_noise_consume_initiation(other.id, &m, lookup_one, &other, &hs),
			-EBADMSG);
	/* From an initiator the responder does not know. */
	side_peer(&stranger, &p.r, NULL);
	make_init(&stranger, 1, ts, m1);
	CU_ASSERT_EQUAL(recv_init(&p.r, m1, sizeof(m1), false), -ENOKEY);
	/* A peer key giving a zero DH is refused at create. */
	memset(k, 0, sizeof(k));
	CU_ASSERT_EQUAL(ntm_noise_handshake_create(p.i.id, k, NULL, NULL, &hs), -EINVAL);
	CU_ASSERT_PTR_NULL(hs);
	side_fini(&stranger);
	side_fini(&other);
	pair_fini(&p);
}

static void test_psk_mismatch(void)
{
	uint8_t ts[12], m1[148], m2[92], psk[32] = { 1 };
	struct pair p;

	pair_init(&p, NULL);
	ntm_noise_handshake_set_psk(p.r.hs, psk);
	ntm_crypto_tai64n_now(ts);
	make_init(&p.i, 1, ts, m1);
	CU_ASSERT_EQUAL(recv_init(&p.r, m1, sizeof(m1), false), 0);
	make_resp(&p.r, 2, m2);
	CU_ASSERT_EQUAL(recv_resp(&p.i, 1, m2, sizeof(m2), false), -EBADMSG);
	pair_fini(&p);
}

static void test_transport_errors(void)
{
	uint8_t buf[128], out[128];
	struct ntm_noise_keypair a = { .local_index = 1, .remote_index = 2 };
	struct ntm_noise_keypair b = { .local_index = 2, .remote_index = 1 };
	struct ntm_transport_pkt p = { (const uint8_t *)"0123456789abcdef0", 17, 0, 5 };
	struct ntm_wg_data d;
	struct ntm_wbuf w;
	size_t n = 99;

	randombytes_buf(a.send_key, 32);
	memcpy(b.recv_key, a.send_key, 32);
	ntm_wbuf_init(&w, buf, sizeof(buf));
	CU_ASSERT_FATAL(ntm_transport_encrypt(&a, &p, &w) == 0);
	CU_ASSERT_EQUAL(w.len, ntm_transport_msg_len(17, 0));
	CU_ASSERT_EQUAL(w.len, 16 + 32 + 16);
	CU_ASSERT_FATAL(ntm_wire_decode_data(buf, w.len, &d) == 0);
	CU_ASSERT_EQUAL(ntm_transport_decrypt(&a, &d, out, sizeof(out), &n), -ENOKEY);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(ntm_transport_decrypt(&b, &d, out, 31, &n), -EMSGSIZE);
	d.counter = 6;
	CU_ASSERT_EQUAL(ntm_transport_decrypt(&b, &d, out, sizeof(out), &n), -EBADMSG);
	d.counter = NTM_WG_REJECT_AFTER_MESSAGES;
	CU_ASSERT_EQUAL(ntm_transport_decrypt(&b, &d, out, sizeof(out), &n), -ERANGE);
	d.counter = 5;
	/* In place, as a receive path decrypting inside its datagram buffer would. */
	CU_ASSERT_EQUAL(ntm_transport_decrypt(&b, &d, (uint8_t *)d.payload, 32, &n), 0);
	CU_ASSERT(n == 32 && memcmp(buf + 16, "0123456789abcdef0", 17) == 0);
	CU_ASSERT(sodium_is_zero(buf + 16 + 17, 15));

	p.counter = NTM_WG_REJECT_AFTER_MESSAGES;
	ntm_wbuf_init(&w, buf, sizeof(buf));
	CU_ASSERT_EQUAL(ntm_transport_encrypt(&a, &p, &w), -ERANGE);
	p.counter = NTM_WG_REJECT_AFTER_MESSAGES - 1;
	ntm_wbuf_init(&w, buf, 63);
	CU_ASSERT_EQUAL(ntm_transport_encrypt(&a, &p, &w), -EMSGSIZE);
	CU_ASSERT_EQUAL(w.len, 0);
}

static void test_lengths_and_padding(void)
{
	CU_ASSERT_EQUAL(ntm_transport_msg_len(0, 0), 32);
	CU_ASSERT_EQUAL(ntm_transport_msg_len(1, 0), 48);
	CU_ASSERT_EQUAL(ntm_transport_msg_len(16, 0), 48);
	CU_ASSERT_EQUAL(ntm_transport_msg_len(17, 0), 64);
	CU_ASSERT_EQUAL(ntm_transport_padded_len(1419, 1420), 1420);
	CU_ASSERT_EQUAL(ntm_transport_padded_len(1420, 1420), 1420);
	CU_ASSERT_EQUAL(ntm_transport_padded_len(1410, 1420), 1420);
	CU_ASSERT_EQUAL(ntm_transport_padded_len(1409, 1420), 1420);
	CU_ASSERT_EQUAL(ntm_transport_padded_len(1407, 1420), 1408);
	CU_ASSERT_EQUAL(ntm_transport_padded_len(1421, 1420), 1421 + 15);
	CU_ASSERT_EQUAL(NTM_WG_INITIATION_LEN, 148);
	CU_ASSERT_EQUAL(NTM_WG_RESPONSE_LEN, 92);
	CU_ASSERT_EQUAL(NTM_WG_COOKIE_REPLY_LEN, 64);
	CU_ASSERT_EQUAL(NTM_WG_DATA_MIN_LEN, 32);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_kat_no_psk),	    NTM_TEST(test_kat_psk),
	NTM_TEST(test_handshake_no_psk),    NTM_TEST(test_handshake_psk),
	NTM_TEST(test_tamper_initiation),   NTM_TEST(test_tamper_response),
	NTM_TEST(test_replayed_initiation), NTM_TEST(test_response_state_and_index),
	NTM_TEST(test_wrong_static_key),    NTM_TEST(test_psk_mismatch),
	NTM_TEST(test_transport_errors),    NTM_TEST(test_lengths_and_padding),
};

int main(void)
{
	if (ntm_crypto_init() < 0) {
		return 99;
	}
	return ntm_test_run("noise", cases, sizeof(cases) / sizeof(cases[0]));
}
