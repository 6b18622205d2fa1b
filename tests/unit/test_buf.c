/* SPDX-License-Identifier: MIT */
#include "common/buf.h"

#include <string.h>

#include "ntm_test.h"

static void test_read_endianness(void)
{
	static const uint8_t b[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
	struct ntm_rbuf r;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;

	ntm_rbuf_init(&r, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_rbuf_get_be16(&r, &v16), 0);
	CU_ASSERT_EQUAL(v16, 0x0102);
	CU_ASSERT_EQUAL(ntm_rbuf_get_le16(&r, &v16), 0);
	CU_ASSERT_EQUAL(v16, 0x0403);
	CU_ASSERT_EQUAL(ntm_rbuf_get_be32(&r, &v32), 0);
	CU_ASSERT_EQUAL(v32, 0x05060708);
	CU_ASSERT_EQUAL(ntm_rbuf_remaining(&r), 0);

	ntm_rbuf_init(&r, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_rbuf_get_le32(&r, &v32), 0);
	CU_ASSERT_EQUAL(v32, 0x04030201);
	ntm_rbuf_init(&r, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_rbuf_get_be64(&r, &v64), 0);
	CU_ASSERT_EQUAL(v64, 0x0102030405060708ULL);
	ntm_rbuf_init(&r, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_rbuf_get_le64(&r, &v64), 0);
	CU_ASSERT_EQUAL(v64, 0x0807060504030201ULL);
}

static void test_short_read_does_not_advance(void)
{
	static const uint8_t b[] = { 0xaa, 0xbb, 0xcc };
	struct ntm_rbuf r;
	uint32_t v32 = 7;
	uint8_t out[4];
	const uint8_t *p = b;

	ntm_rbuf_init(&r, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_rbuf_get_be32(&r, &v32), -EBADMSG);
	CU_ASSERT_EQUAL(v32, 0);
	CU_ASSERT_EQUAL(r.off, 0);
	CU_ASSERT_EQUAL(ntm_rbuf_get_bytes(&r, out, 4), -EBADMSG);
	CU_ASSERT_EQUAL(ntm_rbuf_get_ref(&r, &p, 4), -EBADMSG);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_EQUAL(ntm_rbuf_skip(&r, 3), 0);
	CU_ASSERT_EQUAL(ntm_rbuf_remaining(&r), 0);
	CU_ASSERT_EQUAL(ntm_rbuf_skip(&r, 1), -EBADMSG);
	/* SIZE_MAX must not wrap the bounds check. */
	ntm_rbuf_init(&r, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_rbuf_skip(&r, 1), 0);
	CU_ASSERT_EQUAL(ntm_rbuf_skip(&r, (size_t)-1), -EBADMSG);
	CU_ASSERT_EQUAL(r.off, 1);
}

static void test_write_and_overflow(void)
{
	uint8_t b[7];
	struct ntm_wbuf w;
	uint8_t *slot;

	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_wbuf_put_be16(&w, 0x0102), 0);
	CU_ASSERT_EQUAL(ntm_wbuf_put_le32(&w, 0x06050403), 0);
	CU_ASSERT_EQUAL(memcmp(b, "\x01\x02\x03\x04\x05\x06", 6), 0);
	CU_ASSERT_EQUAL(ntm_wbuf_put_be16(&w, 0xffff), -EMSGSIZE);
	CU_ASSERT_EQUAL(w.len, 6);
	CU_ASSERT_EQUAL(ntm_wbuf_reserve(&w, &slot, 2), -EMSGSIZE);
	CU_ASSERT_PTR_NULL(slot);
	CU_ASSERT_EQUAL(ntm_wbuf_put_u8(&w, 0x07), 0);
	CU_ASSERT_EQUAL(ntm_wbuf_remaining(&w), 0);
	CU_ASSERT_EQUAL(ntm_wbuf_put_bytes(&w, "x", 1), -EMSGSIZE);
	CU_ASSERT_EQUAL(ntm_wbuf_put_zero(&w, 0), 0);
}

static void test_round_trip(void)
{
	uint8_t b[32];
	struct ntm_wbuf w;
	struct ntm_rbuf r;
	uint64_t v64;
	uint32_t v32;
	uint16_t v16;
	uint8_t v8;

	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_wbuf_put_u8(&w, 0xfe), 0);
	CU_ASSERT_EQUAL(ntm_wbuf_put_le16(&w, 0xbeef), 0);
	CU_ASSERT_EQUAL(ntm_wbuf_put_be64(&w, 0x1122334455667788ULL), 0);
	CU_ASSERT_EQUAL(ntm_wbuf_put_le64(&w, 0x8877665544332211ULL), 0);
	CU_ASSERT_EQUAL(ntm_wbuf_put_be32(&w, 0xdeadbeef), 0);
	ntm_rbuf_init(&r, b, w.len);
	CU_ASSERT(ntm_rbuf_get_u8(&r, &v8) == 0 && v8 == 0xfe);
	CU_ASSERT(ntm_rbuf_get_le16(&r, &v16) == 0 && v16 == 0xbeef);
	CU_ASSERT(ntm_rbuf_get_be64(&r, &v64) == 0 && v64 == 0x1122334455667788ULL);
	CU_ASSERT(ntm_rbuf_get_le64(&r, &v64) == 0 && v64 == 0x8877665544332211ULL);
	CU_ASSERT(ntm_rbuf_get_be32(&r, &v32) == 0 && v32 == 0xdeadbeef);
	CU_ASSERT_EQUAL(ntm_rbuf_remaining(&r), 0);
}

static void test_null_buffers(void)
{
	struct ntm_rbuf r;
	struct ntm_wbuf w;
	uint8_t v;

	ntm_rbuf_init(&r, NULL, 10);
	CU_ASSERT_EQUAL(ntm_rbuf_remaining(&r), 0);
	CU_ASSERT_EQUAL(ntm_rbuf_get_u8(&r, &v), -EBADMSG);
	ntm_wbuf_init(&w, NULL, 10);
	CU_ASSERT_EQUAL(ntm_wbuf_put_u8(&w, 1), -EMSGSIZE);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_read_endianness),
	NTM_TEST(test_short_read_does_not_advance),
	NTM_TEST(test_write_and_overflow),
	NTM_TEST(test_round_trip),
	NTM_TEST(test_null_buffers),
};

NTM_TEST_MAIN("buf", cases)
