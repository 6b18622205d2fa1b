/* SPDX-License-Identifier: MIT */
#include "common/wire.h"

#include <string.h>

#include "ntm_test.h"

/* A message of `len` bytes: type byte, zero reserved, then 0x10, 0x11, ... */
static void fill(uint8_t *b, size_t len, uint8_t type)
{
	memset(b, 0, len);
	b[0] = type;
	for (size_t i = 4; i < len; i++) {
		b[i] = (uint8_t)(0x10 + i);
	}
}

static void test_classify_lengths(void)
{
	static const struct {
		uint8_t type;
		size_t len;
		bool exact;
	} t[] = { { 1, 148, true }, { 2, 92, true }, { 3, 64, true }, { 4, 32, false } };
	static uint8_t b[NTM_WG_MSG_MAX_LEN + 1];
	enum ntm_msg_type type;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		fill(b, sizeof(b), t[i].type);
		CU_ASSERT_EQUAL(ntm_wire_classify(b, t[i].len, &type), 0);
		CU_ASSERT_EQUAL(type, t[i].type);
		CU_ASSERT_EQUAL(ntm_wire_classify(b, t[i].len - 1, &type), -EBADMSG);
		CU_ASSERT_EQUAL(type, 0);
		CU_ASSERT_EQUAL(ntm_wire_classify(b, t[i].len + 1, &type),
				t[i].exact ? -EBADMSG : 0);
	}
	fill(b, sizeof(b), NTM_MSG_WG_DATA);
	CU_ASSERT_EQUAL(ntm_wire_classify(b, NTM_WG_MSG_MAX_LEN, &type), 0);
	CU_ASSERT_EQUAL(ntm_wire_classify(b, NTM_WG_MSG_MAX_LEN + 1, &type), -EBADMSG);
	CU_ASSERT_EQUAL(ntm_wire_classify(b, 3, &type), -EBADMSG);
	CU_ASSERT_EQUAL(ntm_wire_classify(NULL, 32, &type), -EBADMSG);
}

static void test_classify_type_and_reserved(void)
{
	uint8_t b[148];
	enum ntm_msg_type type;

	for (int t = 0; t < 256; t++) {
		fill(b, sizeof(b), (uint8_t)t);
		CU_ASSERT_EQUAL(
			ntm_wire_classify(b, 148, &type),
			(t == 1 || t == 4 || t == 0x80 || t == 0x83 || t == 0x84) ? 0 : -EBADMSG);
		CU_ASSERT_EQUAL(ntm_wire_is_ntm_type((uint8_t)t), t >= 0x80 && t <= 0xbf);
	}
	for (int pos = 1; pos < 4; pos++) {
		fill(b, sizeof(b), NTM_MSG_WG_INITIATION);
		b[pos] = 1;
		CU_ASSERT_EQUAL(ntm_wire_classify(b, 148, &type), -EBADMSG);
	}
}

static void test_initiation_round_trip(void)
{
	uint8_t b[148], out[160];
	struct ntm_wg_initiation m, m2;
	struct ntm_wbuf w;

	fill(b, sizeof(b), NTM_MSG_WG_INITIATION);
	CU_ASSERT_FATAL(ntm_wire_decode_initiation(b, sizeof(b), &m) == 0);
	/* Little-endian sender; fields at their whitepaper offsets. */
	CU_ASSERT_EQUAL(m.sender, 0x17161514u);
	CU_ASSERT_EQUAL(m.ephemeral[0], 0x18);
	CU_ASSERT_EQUAL(m.enc_static[0], (uint8_t)(0x10 + 40));
	CU_ASSERT_EQUAL(m.enc_timestamp[0], (uint8_t)(0x10 + 88));
	CU_ASSERT_EQUAL(m.mac1[0], (uint8_t)(0x10 + 116));
	CU_ASSERT_EQUAL(m.mac2[15], (uint8_t)(0x10 + 147));
	ntm_wbuf_init(&w, out, sizeof(out));
	CU_ASSERT_EQUAL(ntm_wire_encode_initiation(&w, &m), 0);
	CU_ASSERT(w.len == 148 && memcmp(out, b, 148) == 0);
	CU_ASSERT_EQUAL(ntm_wire_decode_initiation(out, w.len, &m2), 0);
	CU_ASSERT_EQUAL(memcmp(&m, &m2, sizeof(m)), 0);
	/* Wrong type for this decoder, or wrong length: nothing decoded. */
	b[0] = NTM_MSG_WG_RESPONSE;
	CU_ASSERT_EQUAL(ntm_wire_decode_initiation(b, sizeof(b), &m), -EBADMSG);
	CU_ASSERT_EQUAL(m.sender, 0);
	CU_ASSERT_EQUAL(ntm_wire_decode_initiation(out, 147, &m), -EBADMSG);
}

static void test_response_round_trip(void)
{
	uint8_t b[92], out[92];
	struct ntm_wg_response m, m2;
	struct ntm_wbuf w;

	fill(b, sizeof(b), NTM_MSG_WG_RESPONSE);
	CU_ASSERT_FATAL(ntm_wire_decode_response(b, sizeof(b), &m) == 0);
	CU_ASSERT_EQUAL(m.sender, 0x17161514u);
	CU_ASSERT_EQUAL(m.receiver, 0x1b1a1918u);
	CU_ASSERT_EQUAL(m.ephemeral[0], 0x1c);
	CU_ASSERT_EQUAL(m.enc_nothing[0], (uint8_t)(0x10 + 44));
	CU_ASSERT_EQUAL(m.mac1[0], (uint8_t)(0x10 + 60));
	CU_ASSERT_EQUAL(m.mac2[0], (uint8_t)(0x10 + 76));
	ntm_wbuf_init(&w, out, sizeof(out));
	CU_ASSERT_EQUAL(ntm_wire_encode_response(&w, &m), 0);
	CU_ASSERT(w.len == 92 && memcmp(out, b, 92) == 0);
	CU_ASSERT_EQUAL(ntm_wire_decode_response(out, w.len, &m2), 0);
	CU_ASSERT_EQUAL(memcmp(&m, &m2, sizeof(m)), 0);
}

static void test_cookie_reply_round_trip(void)
{
	uint8_t b[64], out[64];
	struct ntm_wg_cookie_reply m, m2;
	struct ntm_wbuf w;

	fill(b, sizeof(b), NTM_MSG_WG_COOKIE_REPLY);
	CU_ASSERT_FATAL(ntm_wire_decode_cookie_reply(b, sizeof(b), &m) == 0);
	CU_ASSERT_EQUAL(m.receiver, 0x17161514u);
	CU_ASSERT_EQUAL(m.nonce[0], 0x18);
	CU_ASSERT_EQUAL(m.enc_cookie[31], (uint8_t)(0x10 + 63));
	ntm_wbuf_init(&w, out, sizeof(out));
	CU_ASSERT_EQUAL(ntm_wire_encode_cookie_reply(&w, &m), 0);
	CU_ASSERT(w.len == 64 && memcmp(out, b, 64) == 0);
	CU_ASSERT_EQUAL(ntm_wire_decode_cookie_reply(out, w.len, &m2), 0);
	CU_ASSERT_EQUAL(memcmp(&m, &m2, sizeof(m)), 0);
}

static void test_data_round_trip(void)
{
	uint8_t b[48], out[64];
	struct ntm_wg_data m, m2;
	struct ntm_wbuf w;

	fill(b, sizeof(b), NTM_MSG_WG_DATA);
	CU_ASSERT_FATAL(ntm_wire_decode_data(b, sizeof(b), &m) == 0);
	CU_ASSERT_EQUAL(m.receiver, 0x17161514u);
	CU_ASSERT_EQUAL(m.counter, 0x1f1e1d1c1b1a1918ull);
	CU_ASSERT_PTR_EQUAL(m.payload, b + 16);
	CU_ASSERT_EQUAL(m.payload_len, 32);
	ntm_wbuf_init(&w, out, sizeof(out));
	CU_ASSERT_EQUAL(ntm_wire_encode_data(&w, &m), 0);
	CU_ASSERT(w.len == 48 && memcmp(out, b, 48) == 0);
	CU_ASSERT_EQUAL(ntm_wire_decode_data(out, w.len, &m2), 0);
	CU_ASSERT(m2.receiver == m.receiver && m2.counter == m.counter);
	CU_ASSERT(m2.payload_len == 32 && memcmp(m2.payload, m.payload, 32) == 0);
	/* Keepalive: the minimum; a payload shorter than a tag is no message. */
	CU_ASSERT_EQUAL(ntm_wire_decode_data(b, 32, &m), 0);
	CU_ASSERT_EQUAL(m.payload_len, 16);
	CU_ASSERT_EQUAL(ntm_wire_decode_data(b, 31, &m), -EBADMSG);
	CU_ASSERT_PTR_NULL(m.payload);
	m2.payload_len = 15;
	ntm_wbuf_init(&w, out, sizeof(out));
	CU_ASSERT_EQUAL(ntm_wire_encode_data(&w, &m2), -EINVAL);
	CU_ASSERT_EQUAL(w.len, 0);
}

/* An encoder that does not fit writes nothing at all. */
static void test_encoders_are_atomic(void)
{
	uint8_t out[200];
	struct ntm_wg_initiation i = { 0 };
	struct ntm_wg_response r = { 0 };
	struct ntm_wg_cookie_reply c = { 0 };
	struct ntm_wg_data d = { .payload = out, .payload_len = 16 };
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, out, 147);
	CU_ASSERT(ntm_wire_encode_initiation(&w, &i) == -EMSGSIZE && w.len == 0);
	ntm_wbuf_init(&w, out, 91);
	CU_ASSERT(ntm_wire_encode_response(&w, &r) == -EMSGSIZE && w.len == 0);
	ntm_wbuf_init(&w, out, 63);
	CU_ASSERT(ntm_wire_encode_cookie_reply(&w, &c) == -EMSGSIZE && w.len == 0);
	ntm_wbuf_init(&w, out + 100, 31);
	CU_ASSERT(ntm_wire_encode_data(&w, &d) == -EMSGSIZE && w.len == 0);
	ntm_wbuf_init(&w, out, 15);
	CU_ASSERT(ntm_wire_encode_data_header(&w, 1, 2) == -EMSGSIZE && w.len == 0);
	ntm_wbuf_init(&w, out, 16);
	CU_ASSERT(ntm_wire_encode_data_header(&w, 0x01020304, 5) == 0 && w.len == 16);
	CU_ASSERT_EQUAL(memcmp(out, "\x04\0\0\0\x04\x03\x02\x01\x05\0\0\0\0\0\0\0", 16), 0);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_classify_lengths),	NTM_TEST(test_classify_type_and_reserved),
	NTM_TEST(test_initiation_round_trip),	NTM_TEST(test_response_round_trip),
	NTM_TEST(test_cookie_reply_round_trip), NTM_TEST(test_data_round_trip),
	NTM_TEST(test_encoders_are_atomic),
};

NTM_TEST_MAIN("wire", cases)
