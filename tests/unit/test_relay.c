/* SPDX-License-Identifier: MIT */
/*
 * The relay messages (common/relay.h: relay frame, BIND, BIND_OK) and the
 * relay kinds of the control channel (common/ctrlmsg.h, 0x20-0x3f).
 */
#include "common/crypto.h"
#include "common/ctrlmsg.h"
#include "common/relay.h"
#include "common/wire.h"
#include "ntm_test.h"

static const uint8_t cred[NTM_RELAY_CRED_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };

static void test_frame_layout(void)
{
	uint8_t buf[64];
	struct ntm_relay_frame f;
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, buf, sizeof(buf));
	CU_ASSERT_EQUAL(ntm_relay_encode_frame_header(&w, 0x01020304), 0);
	CU_ASSERT_EQUAL(w.len, NTM_RELAY_OVERHEAD);
	CU_ASSERT(ntm_test_eq_hex(buf, 8, "8400000001020304"));
	CU_ASSERT_EQUAL(ntm_wbuf_put_le32(&w, NTM_MSG_WG_DATA), 0);
	CU_ASSERT_EQUAL(ntm_wbuf_put_zero(&w, 28), 0);
	CU_ASSERT_EQUAL(ntm_relay_decode_frame(buf, w.len, &f), 0);
	CU_ASSERT_EQUAL(f.session, 0x01020304);
	CU_ASSERT_PTR_EQUAL(f.payload, buf + 8);
	CU_ASSERT_EQUAL(f.payload_len, 32);
	/* the smallest frame: a bare 4-byte WireGuard header */
	CU_ASSERT_EQUAL(ntm_relay_decode_frame(buf, NTM_RELAY_FRAME_MIN_LEN, &f), 0);
	CU_ASSERT_EQUAL(ntm_relay_decode_frame(buf, NTM_RELAY_FRAME_MIN_LEN - 1, &f), -EBADMSG);
	CU_ASSERT_EQUAL(f.session, 0);
	CU_ASSERT_PTR_NULL(f.payload);
	/* a full buffer writes nothing */
	ntm_wbuf_init(&w, buf, 7);
	CU_ASSERT_EQUAL(ntm_relay_encode_frame_header(&w, 1), -EMSGSIZE);
	CU_ASSERT_EQUAL(w.len, 0);
}

static void test_frame_refused(void)
{
	uint8_t buf[40] = { NTM_MSG_RELAY_FRAME, 0, 0, 0, 0, 0, 0, 7, NTM_MSG_WG_DATA };
	struct ntm_relay_frame f;

	CU_ASSERT_EQUAL(ntm_relay_decode_frame(buf, sizeof(buf), &f), 0);
	buf[1] = 1; /* reserved byte */
	CU_ASSERT_EQUAL(ntm_relay_decode_frame(buf, sizeof(buf), &f), -EBADMSG);
	buf[1] = 0;
	buf[7] = 0; /* session 0 */
	CU_ASSERT_EQUAL(ntm_relay_decode_frame(buf, sizeof(buf), &f), -EBADMSG);
	buf[7] = 7;
	for (int t = 0; t < 256; t++) {
		buf[8] = (uint8_t)t; /* only WireGuard rides inside: no nested relay frames */
		CU_ASSERT_EQUAL(ntm_relay_decode_frame(buf, sizeof(buf), &f),
				t >= 1 && t <= 4 ? 0 : -EBADMSG);
	}
	buf[8] = NTM_MSG_WG_DATA;
	buf[0] = NTM_MSG_RELAY_BIND;
	CU_ASSERT_EQUAL(ntm_relay_decode_frame(buf, sizeof(buf), &f), -EBADMSG);
	CU_ASSERT_EQUAL(ntm_relay_decode_frame(NULL, 0, &f), -EBADMSG);
}

static void test_bind_layout_and_mac(void)
{
	const struct ntm_relay_bind b = { .session = 0xa1b2c3d4,
					  .side = NTM_RELAY_SIDE_B,
					  .counter = 0x0102030405060708ull };
	uint8_t buf[NTM_RELAY_BIND_LEN], want[16];
	struct ntm_relay_bind d;
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, buf, sizeof(buf));
	CU_ASSERT_EQUAL(ntm_relay_encode_bind(&w, false, &b, cred), 0);
	CU_ASSERT_EQUAL(w.len, NTM_RELAY_BIND_LEN);
	CU_ASSERT(ntm_test_eq_hex(buf, 20, "85000000a1b2c3d4010000000102030405060708"));
	/* the mac is keyed BLAKE2s-128 over the first 20 bytes */
	ntm_crypto_mac(want, cred, sizeof(cred), buf, 20);
	CU_ASSERT_EQUAL(memcmp(want, buf + 20, 16), 0);
	CU_ASSERT(ntm_relay_bind_verify(buf, sizeof(buf), cred));
	CU_ASSERT_EQUAL(ntm_relay_decode_bind(buf, sizeof(buf), false, &d), 0);
	CU_ASSERT_EQUAL(d.session, b.session);
	CU_ASSERT_EQUAL(d.side, NTM_RELAY_SIDE_B);
	CU_ASSERT_EQUAL(d.counter, b.counter);
	CU_ASSERT_EQUAL(memcmp(d.mac, buf + 20, 16), 0);
	/* a BIND is no BIND_OK: the type byte is covered by the mac */
	CU_ASSERT_EQUAL(ntm_relay_decode_bind(buf, sizeof(buf), true, &d), -EBADMSG);
	buf[0] = NTM_MSG_RELAY_BIND_OK;
	CU_ASSERT_EQUAL(ntm_relay_decode_bind(buf, sizeof(buf), true, &d), 0);
	CU_ASSERT_FALSE(ntm_relay_bind_verify(buf, sizeof(buf), cred));
	buf[0] = NTM_MSG_RELAY_BIND;
	/* every byte counts */
	for (size_t i = 0; i < sizeof(buf); i++) {
		buf[i] ^= 0x40;
		CU_ASSERT_FALSE(ntm_relay_bind_verify(buf, sizeof(buf), cred));
		buf[i] ^= 0x40;
	}
	{
		uint8_t other[NTM_RELAY_CRED_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12 };

		CU_ASSERT_FALSE(ntm_relay_bind_verify(buf, sizeof(buf), other));
	}
	CU_ASSERT_FALSE(ntm_relay_bind_verify(buf, sizeof(buf) - 1, cred));
}

static void test_bind_refused(void)
{
	struct ntm_relay_bind b = { .session = 9, .side = 0, .counter = 1 }, d;
	uint8_t buf[NTM_RELAY_BIND_LEN + 1];
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, buf, sizeof(buf));
	CU_ASSERT_EQUAL(ntm_relay_encode_bind(&w, true, &b, cred), 0);
	CU_ASSERT_EQUAL(ntm_relay_decode_bind(buf, NTM_RELAY_BIND_LEN, true, &d), 0);
	CU_ASSERT_TRUE(ntm_relay_bind_verify(buf, NTM_RELAY_BIND_LEN, cred));
	CU_ASSERT_EQUAL(ntm_relay_decode_bind(buf, NTM_RELAY_BIND_LEN + 1, true, &d), -EBADMSG);
	CU_ASSERT_EQUAL(ntm_relay_decode_bind(buf, NTM_RELAY_BIND_LEN - 1, true, &d), -EBADMSG);
	buf[8] = 2; /* side */
	CU_ASSERT_EQUAL(ntm_relay_decode_bind(buf, NTM_RELAY_BIND_LEN, true, &d), -EBADMSG);
	buf[8] = 0;
	buf[10] = 1; /* reserved */
	CU_ASSERT_EQUAL(ntm_relay_decode_bind(buf, NTM_RELAY_BIND_LEN, true, &d), -EBADMSG);
	CU_ASSERT_EQUAL(d.session, 0);
	b.side = 2;
	ntm_wbuf_init(&w, buf, sizeof(buf));
	CU_ASSERT_EQUAL(ntm_relay_encode_bind(&w, false, &b, cred), -EINVAL);
	b.side = 1;
	b.session = 0;
	CU_ASSERT_EQUAL(ntm_relay_encode_bind(&w, false, &b, cred), -EINVAL);
	b.session = 1;
	ntm_wbuf_init(&w, buf, NTM_RELAY_BIND_LEN - 1);
	CU_ASSERT_EQUAL(ntm_relay_encode_bind(&w, false, &b, cred), -EMSGSIZE);
	CU_ASSERT_EQUAL(w.len, 0);
}

static void make_addr(struct ntm_ctrl_addr *a, uint8_t family, uint8_t last, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	a->ip[family == 4 ? 3 : 15] = last;
	a->ip[0] = family == 4 ? 192 : 0x20;
	a->port = port;
}

static void round_trip(const struct ntm_ctrl_msg *m)
{
	uint8_t buf[NTM_CTRL_PLAIN_MAX];
	struct ntm_ctrl_msg d;
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, buf, sizeof(buf));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, m), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(buf, w.len, &d), 0);
	CU_ASSERT_EQUAL(memcmp(&d, m, sizeof(d)), 0);
}

static void test_ctrl_rs_register_and_load(void)
{
	struct ntm_ctrl_msg m;

	ntm_ctrl_msg_init(&m, NTM_CTRL_RS_REGISTER, 77);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_RELAY_ADDR) | NTM_CTRL_BIT(NTM_CTRL_ATTR_LOAD);
	make_addr(&m.relay_addr[0], 4, 10, 7100);
	make_addr(&m.relay_addr[1], 6, 10, 7100);
	m.n_relay_addr = 2;
	m.load = (struct ntm_ctrl_load){ 3, 4096, 1000, 123456789012ull, 250 };
	round_trip(&m);
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_kind_name(m.kind), "RS_REGISTER");
	/* more sessions than capacity, or CPU above 1000 permille, is nonsense */
	m.load.sessions = 4097;
	{
		uint8_t buf[256];
		struct ntm_wbuf w;

		ntm_wbuf_init(&w, buf, sizeof(buf));
		CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
		m.load.sessions = 1;
		m.load.cpu = 1001;
		CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
		m.load.cpu = 0;
		m.n_relay_addr = 0; /* RELAY_ADDR bit without an address */
		CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	}
	ntm_ctrl_msg_init(&m, NTM_CTRL_RS_LOAD, 78);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_LOAD);
	m.load.capacity = 10;
	round_trip(&m);
	ntm_ctrl_msg_init(&m, NTM_CTRL_RS_REGISTER_OK, 77);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_KEEPALIVE);
	m.keepalive = 10;
	round_trip(&m);
	ntm_ctrl_msg_init(&m, NTM_CTRL_RS_LOAD_ACK, 78);
	round_trip(&m);
}

static void test_ctrl_relay_alloc(void)
{
	uint8_t buf[256];
	struct ntm_ctrl_msg m, d;
	struct ntm_wbuf w;

	ntm_ctrl_msg_init(&m, NTM_CTRL_RELAY_ALLOC, 5);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_SESSION_ID) | NTM_CTRL_BIT(NTM_CTRL_ATTR_CREDENTIAL) |
		   NTM_CTRL_BIT(NTM_CTRL_ATTR_LIFETIME);
	m.session_id = 0xdeadbeef;
	memcpy(m.credential, cred, sizeof(cred));
	m.lifetime = 60;
	round_trip(&m);
	ntm_wbuf_init(&w, buf, sizeof(buf));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), 0);
	/* header, then SESSION_ID 22, CREDENTIAL 23, LIFETIME 24 */
	CU_ASSERT(ntm_test_eq_hex(buf, 12,
				  "200000000005"
				  "1604deadbeef"));
	CU_ASSERT_EQUAL(buf[12], NTM_CTRL_ATTR_CREDENTIAL);
	CU_ASSERT_EQUAL(buf[13], 32);
	CU_ASSERT(ntm_test_eq_hex(buf + 46, 4, "1802003c"));
	/* session id 0 on the wire is malformed */
	buf[8] = buf[9] = buf[10] = buf[11] = 0;
	CU_ASSERT_EQUAL(ntm_ctrl_msg_decode(buf, w.len, &d), -EBADMSG);
	/* a required attribute missing */
	m.attrs &= ~(NTM_CTRL_BIT(NTM_CTRL_ATTR_CREDENTIAL));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_CREDENTIAL);
	m.lifetime = NTM_CTRL_LIFETIME_MAX + 1;
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);

	ntm_ctrl_msg_init(&m, NTM_CTRL_RELAY_ALLOC_OK, 5);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_SESSION_ID);
	m.session_id = 1;
	round_trip(&m);
	m.kind = NTM_CTRL_RELAY_RELEASE;
	round_trip(&m);
	m.kind = NTM_CTRL_RELAY_RELEASE_OK;
	round_trip(&m);
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_kind_name(NTM_CTRL_RELAY_ALLOC), "RELAY_ALLOC");
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_error_name(NTM_CTRL_E_RELAY_FULL), "RELAY_FULL");
	/* a credential is not allowed in a node's REGISTER */
	ntm_ctrl_msg_init(&m, NTM_CTRL_REGISTER, 5);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN) | NTM_CTRL_BIT(NTM_CTRL_ATTR_CREDENTIAL);
	snprintf(m.fqdn, sizeof(m.fqdn), "a.example");
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
}

static void test_ctrl_relay_offer(void)
{
	struct ntm_ctrl_msg m;
	uint8_t buf[512];
	struct ntm_wbuf w;

	ntm_ctrl_msg_init(&m, NTM_CTRL_RELAY_REQUEST, 9);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN);
	snprintf(m.fqdn, sizeof(m.fqdn), "b.example.net");
	round_trip(&m);
	ntm_ctrl_msg_init(&m, NTM_CTRL_RELAY_OFFER, 0);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN) | NTM_CTRL_BIT(NTM_CTRL_ATTR_PUBKEY) |
		   NTM_CTRL_BIT(NTM_CTRL_ATTR_RELAY_ADDR) | NTM_CTRL_BIT(NTM_CTRL_ATTR_SESSION_ID) |
		   NTM_CTRL_BIT(NTM_CTRL_ATTR_CREDENTIAL) | NTM_CTRL_BIT(NTM_CTRL_ATTR_LIFETIME) |
		   NTM_CTRL_BIT(NTM_CTRL_ATTR_SIDE);
	snprintf(m.fqdn, sizeof(m.fqdn), "a.example.net");
	memset(m.pubkey, 0x11, sizeof(m.pubkey));
	make_addr(&m.relay_addr[0], 6, 7, 7100);
	m.n_relay_addr = 1;
	m.session_id = 77;
	memcpy(m.credential, cred, sizeof(cred));
	m.lifetime = 120;
	m.side = NTM_RELAY_SIDE_B;
	round_trip(&m);
	m.side = 2;
	ntm_wbuf_init(&w, buf, sizeof(buf));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	m.side = 1;
	m.attrs &= ~(NTM_CTRL_BIT(NTM_CTRL_ATTR_SIDE)); /* required */
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
}

static void test_ctrl_relay_addr_limit(void)
{
	uint8_t buf[256] = { NTM_CTRL_RS_REGISTER, 0, 0, 0, 0, 1 };
	size_t len = 6;
	struct ntm_ctrl_msg d;
	const uint8_t load[] = { NTM_CTRL_ATTR_LOAD, 22, 0, 0, 0, 0, 0, 0, 0, 1 };
	const uint8_t addr[] = { NTM_CTRL_ATTR_RELAY_ADDR, 7, 4, 192, 0, 2, 1, 0x1b, 0xbc };

	memcpy(buf + len, load, sizeof(load));
	len += 2 + 22;
	for (int i = 0; i < NTM_CTRL_RELAY_ADDRS_MAX; i++) {
		memcpy(buf + len, addr, sizeof(addr));
		len += sizeof(addr);
	}
	CU_ASSERT_EQUAL(ntm_ctrl_msg_decode(buf, len, &d), 0);
	CU_ASSERT_EQUAL(d.n_relay_addr, NTM_CTRL_RELAY_ADDRS_MAX);
	CU_ASSERT_EQUAL(d.relay_addr[3].port, 7100);
	memcpy(buf + len, addr, sizeof(addr));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_decode(buf, len + sizeof(addr), &d), -EBADMSG);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_frame_layout),
	NTM_TEST(test_frame_refused),
	NTM_TEST(test_bind_layout_and_mac),
	NTM_TEST(test_bind_refused),
	NTM_TEST(test_ctrl_rs_register_and_load),
	NTM_TEST(test_ctrl_relay_alloc),
	NTM_TEST(test_ctrl_relay_offer),
	NTM_TEST(test_ctrl_relay_addr_limit),
};

NTM_TEST_MAIN("relay", cases)
