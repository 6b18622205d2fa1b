/* SPDX-License-Identifier: MIT */
/*
 * The control channel: message codec (ctrlmsg.h), control wire types
 * (wire.h 0x80-0x83), the control Noise profile, and the session engine
 * (ctrl.h) both ways in process.
 */
#include "common/ctrl.h"

#include <string.h>
#include <sys/socket.h>

#include "common/cookie.h"
#include "common/crypto.h"
#include "common/ctrlmsg.h"
#include "common/timers.h"
#include "ntm_test.h"

#define A(x) NTM_CTRL_BIT(x)

/* ---------------------------------------------------------------- codec */

static void make_addr(struct ntm_ctrl_addr *a, uint8_t family, uint8_t last, uint16_t port)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	a->ip[0] = family == 4 ? 198 : 0x20;
	a->ip[family == 4 ? 3 : 15] = last;
	a->port = port;
}

static void sample(struct ntm_ctrl_msg *m, enum ntm_ctrl_kind kind)
{
	ntm_ctrl_msg_init(m, kind, 0x01020304);
	switch (kind) {
	case NTM_CTRL_REGISTER:
		m->attrs =
			A(NTM_CTRL_ATTR_FQDN) | A(NTM_CTRL_ATTR_TOKEN) | A(NTM_CTRL_ATTR_CANDIDATE);
		strcpy(m->fqdn, "a.example.net");
		strcpy(m->token, "J0hBqQY4RWVe7jrRLjhW2y9hM-I4qKT6E-tJDgjRbP0");
		make_addr(&m->cand[0], 4, 7, 5000);
		make_addr(&m->cand[1], 6, 9, 5001);
		m->n_cand = 2;
		break;
	case NTM_CTRL_REGISTER_OK:
		m->attrs = A(NTM_CTRL_ATTR_VIP4) | A(NTM_CTRL_ATTR_VIP6) |
			   A(NTM_CTRL_ATTR_OUTSIDE) | A(NTM_CTRL_ATTR_KEEPALIVE);
		memcpy(m->vip4, "\x64\x50\x00\x02", 4);
		m->vip6[0] = 0xfd;
		m->vip6[15] = 2;
		make_addr(&m->outside, 4, 11, 40000);
		m->keepalive = 25;
		m->attrs |= A(NTM_CTRL_ATTR_POOL4) | A(NTM_CTRL_ATTR_POOL6);
		m->pool4.family = AF_INET;
		memcpy(m->pool4.addr, "\x64\x50\x00\x00", 4);
		m->pool4.prefix_len = 16;
		m->pool6.family = AF_INET6;
		m->pool6.addr[0] = 0xfd;
		m->pool6.prefix_len = 64;
		break;
	case NTM_CTRL_KEEPALIVE_ACK:
		m->attrs = A(NTM_CTRL_ATTR_OUTSIDE);
		make_addr(&m->outside, 6, 11, 40000);
		break;
	case NTM_CTRL_ERROR:
		m->attrs = A(NTM_CTRL_ATTR_ERROR_CODE) | A(NTM_CTRL_ATTR_ERROR_TEXT);
		m->error_code = NTM_CTRL_E_NOT_ENROLLED;
		strcpy(m->error_text, "this key is not enrolled");
		break;
	case NTM_CTRL_DIRECTION_REQUEST:
		m->attrs = A(NTM_CTRL_ATTR_FQDN);
		strcpy(m->fqdn, "b.example.net");
		break;
	case NTM_CTRL_DIRECTION:
		m->attrs = A(NTM_CTRL_ATTR_FQDN) | A(NTM_CTRL_ATTR_PUBKEY) | A(NTM_CTRL_ATTR_VIP4) |
			   A(NTM_CTRL_ATTR_VIP6) | A(NTM_CTRL_ATTR_OUTSIDE) |
			   A(NTM_CTRL_ATTR_CANDIDATE);
		strcpy(m->fqdn, "b.example.net");
		memset(m->pubkey, 0x42, sizeof(m->pubkey));
		memcpy(m->vip4, "\x64\x50\x00\x03", 4);
		m->vip6[0] = 0xfd;
		m->vip6[15] = 3;
		make_addr(&m->outside, 4, 12, 40001);
		make_addr(&m->cand[0], 4, 12, 40001);
		make_addr(&m->cand[1], 6, 12, 40001);
		m->n_cand = 2;
		break;
	case NTM_CTRL_PEER_REVOKED:
		m->attrs = A(NTM_CTRL_ATTR_PUBKEY) | A(NTM_CTRL_ATTR_FQDN);
		memset(m->pubkey, 0x43, sizeof(m->pubkey));
		strcpy(m->fqdn, "c.example.net");
		break;
	default:
		break;
	}
}

static void test_msg_round_trip(void)
{
	static const enum ntm_ctrl_kind kinds[] = { NTM_CTRL_REGISTER,	NTM_CTRL_REGISTER_OK,
						    NTM_CTRL_KEEPALIVE, NTM_CTRL_KEEPALIVE_ACK,
						    NTM_CTRL_ERROR,	NTM_CTRL_DIRECTION_REQUEST,
						    NTM_CTRL_DIRECTION, NTM_CTRL_PEER_REVOKED };
	uint8_t b1[NTM_CTRL_PLAIN_MAX], b2[NTM_CTRL_PLAIN_MAX];
	struct ntm_ctrl_msg m, d;
	struct ntm_wbuf w1, w2;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		sample(&m, kinds[i]);
		ntm_wbuf_init(&w1, b1, sizeof(b1));
		CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w1, &m), 0);
		CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b1, w1.len, &d), 0);
		CU_ASSERT_EQUAL(memcmp(&m, &d, sizeof(m)), 0);
		ntm_wbuf_init(&w2, b2, sizeof(b2));
		CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w2, &d), 0);
		CU_ASSERT_EQUAL(w1.len, w2.len);
		CU_ASSERT_EQUAL(memcmp(b1, b2, w1.len), 0);
		/* Zero padding (as control data pads to 16) is accepted. */
		memset(b1 + w1.len, 0, 16);
		CU_ASSERT_EQUAL(ntm_ctrl_msg_decode(b1, w1.len + 16, &d), 0);
		CU_ASSERT_EQUAL(memcmp(&m, &d, sizeof(m)), 0);
	}
}

static void test_msg_layout(void)
{
	/* KEEPALIVE_ACK, req 0x0a0b0c0d, OUTSIDE 198.0.0.11:40000. */
	static const uint8_t want[] = { 4, 0,	0x0a, 0x0b, 0x0c, 0x0d, 6,   7,
					4, 198, 0,    0,    11,	  0x9c, 0x40 };
	uint8_t b[64];
	struct ntm_ctrl_msg m;
	struct ntm_wbuf w;

	ntm_ctrl_msg_init(&m, NTM_CTRL_KEEPALIVE_ACK, 0x0a0b0c0d);
	m.attrs = A(NTM_CTRL_ATTR_OUTSIDE);
	make_addr(&m.outside, 4, 11, 40000);
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL_FATAL(w.len, sizeof(want));
	CU_ASSERT_EQUAL(memcmp(b, want, sizeof(want)), 0);
}

static int decode_bytes(const uint8_t *b, size_t len)
{
	struct ntm_ctrl_msg m;

	return ntm_ctrl_msg_decode(b, len, &m);
}

static void test_msg_refused(void)
{
	/* REGISTER with FQDN "a" */
	uint8_t ok[] = { 1, 0, 0, 0, 0, 1, 1, 1, 'a' };
	uint8_t b[64];
	struct ntm_ctrl_msg m;

	CU_ASSERT_EQUAL(decode_bytes(ok, sizeof(ok)), 0);
	CU_ASSERT_EQUAL(decode_bytes(ok, 5), -EBADMSG);		     /* short header */
	CU_ASSERT_EQUAL(decode_bytes(ok, 6), -EBADMSG);		     /* FQDN required */
	CU_ASSERT_EQUAL(decode_bytes(ok, sizeof(ok) - 1), -EBADMSG); /* value cut */
	memcpy(b, ok, sizeof(ok));
	b[1] = 1; /* flags */
	CU_ASSERT_EQUAL(decode_bytes(b, sizeof(ok)), -EBADMSG);
	memcpy(b, ok, sizeof(ok));
	memcpy(b + sizeof(ok),
	       "\x01\x01"
	       "b",
	       3); /* repeated FQDN */
	CU_ASSERT_EQUAL(decode_bytes(b, sizeof(ok) + 3), -EBADMSG);
	memcpy(b + sizeof(ok),
	       "\x04\x04"
	       "abcd",
	       6); /* VIP4 is not for a REGISTER */
	CU_ASSERT_EQUAL(decode_bytes(b, sizeof(ok) + 6), -EBADMSG);
	memcpy(b + sizeof(ok),
	       "\x7f\x01"
	       "x",
	       3); /* unknown mandatory attribute */
	CU_ASSERT_EQUAL(decode_bytes(b, sizeof(ok) + 3), -EBADMSG);
	memcpy(b + sizeof(ok),
	       "\x90\x01"
	       "x",
	       3); /* unknown optional one: skipped */
	CU_ASSERT_EQUAL(decode_bytes(b, sizeof(ok) + 3), 0);
	memcpy(b + sizeof(ok), "\x00\x00\x01", 3); /* padding that is not zero */
	CU_ASSERT_EQUAL(decode_bytes(b, sizeof(ok) + 3), -EBADMSG);
	memcpy(b + sizeof(ok), "\x03\x07\x05\x01\x02\x03\x04\x00\x50", 9); /* family 5 */
	CU_ASSERT_EQUAL(decode_bytes(b, sizeof(ok) + 9), -EBADMSG);
	memcpy(b + sizeof(ok), "\x03\x07\x04\x01\x02\x03\x04\x00\x00", 9); /* port 0 */
	CU_ASSERT_EQUAL(decode_bytes(b, sizeof(ok) + 9), -EBADMSG);
	memcpy(b, ok, sizeof(ok));
	b[8] = ' '; /* a space in a name */
	CU_ASSERT_EQUAL(decode_bytes(b, sizeof(ok)), -EBADMSG);
	memcpy(b, ok, sizeof(ok));
	b[0] = 0x1f; /* a kind of a later version */
	CU_ASSERT_EQUAL(ntm_ctrl_msg_decode(b, sizeof(ok), &m), -ENOTSUP);
	CU_ASSERT_EQUAL(m.kind, 0x1f);
	CU_ASSERT_EQUAL(m.attrs, 0);
	CU_ASSERT_EQUAL(decode_bytes(NULL, 0), -EBADMSG);
}

static void test_msg_direction(void)
{
	/* DIRECTION_REQUEST, req 7, FQDN "b" */
	static const uint8_t req[] = { 0x10, 0, 0, 0, 0, 7, 1, 1, 'b' };
	uint8_t b[128], out[128];
	struct ntm_ctrl_msg m;
	struct ntm_wbuf w;
	size_t len;

	CU_ASSERT_EQUAL(ntm_ctrl_msg_decode(req, sizeof(req), &m), 0);
	CU_ASSERT_EQUAL(m.kind, NTM_CTRL_DIRECTION_REQUEST);
	CU_ASSERT_EQUAL(m.req_id, 7);
	CU_ASSERT_STRING_EQUAL(m.fqdn, "b");
	CU_ASSERT_EQUAL(decode_bytes(req, 6), -EBADMSG); /* FQDN required */
	/* A DIRECTION needs the key, both VIPs and the outside address. */
	sample(&m, NTM_CTRL_DIRECTION);
	ntm_wbuf_init(&w, out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	len = w.len;
	CU_ASSERT_EQUAL(out[6 + 2 + 13], NTM_CTRL_ATTR_PUBKEY); /* after the FQDN */
	CU_ASSERT_EQUAL(out[6 + 2 + 13 + 1], 32);
	memcpy(b, out, len);
	b[6 + 2 + 13 + 1] = 31; /* a short key */
	CU_ASSERT_EQUAL(decode_bytes(b, len), -EBADMSG);
	for (int attr = NTM_CTRL_ATTR_VIP4; attr <= NTM_CTRL_ATTR_OUTSIDE; attr++) {
		sample(&m, NTM_CTRL_DIRECTION);
		m.attrs &= ~A(attr);
		ntm_wbuf_init(&w, b, sizeof(b));
		CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	}
	sample(&m, NTM_CTRL_DIRECTION);
	m.attrs &= ~A(NTM_CTRL_ATTR_PUBKEY);
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	sample(&m, NTM_CTRL_DIRECTION_REQUEST);
	m.attrs |= A(NTM_CTRL_ATTR_PUBKEY); /* not for a request */
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_kind_name(NTM_CTRL_DIRECTION), "DIRECTION");
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_error_name(NTM_CTRL_E_UNKNOWN_NAME), "UNKNOWN_NAME");
}

/* The path attributes (26-30): NAT class, families, AltListen, the DC's path choice. */
static void test_msg_path_attrs(void)
{
	uint8_t b[256];
	struct ntm_ctrl_msg m, d;
	struct ntm_wbuf w;
	size_t len;

	sample(&m, NTM_CTRL_DIRECTION);
	m.attrs |= A(NTM_CTRL_ATTR_PATH) | A(NTM_CTRL_ATTR_NAT) | A(NTM_CTRL_ATTR_NAT_PEER);
	m.path = NTM_CTRL_PATH_RELAY;
	m.nat = NTM_CTRL_NAT_EDM;
	m.nat_peer = NTM_CTRL_NAT_EIM;
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	len = w.len;
	/* Last in canonical order: NAT 27, NAT_PEER 28, PATH 29, one byte each. */
	CU_ASSERT_EQUAL(b[len - 3], NTM_CTRL_ATTR_PATH);
	CU_ASSERT_EQUAL(b[len - 2], 1);
	CU_ASSERT_EQUAL(b[len - 1], NTM_CTRL_PATH_RELAY);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b, len, &d), 0);
	CU_ASSERT_EQUAL(memcmp(&m, &d, sizeof(m)), 0);
	b[len - 1] = NTM_CTRL_PATH_MAX + 1; /* an unknown path */
	CU_ASSERT_EQUAL(decode_bytes(b, len), -EBADMSG);
	m.nat = NTM_CTRL_NAT_MAX + 1;
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);

	sample(&m, NTM_CTRL_REGISTER_OK);
	m.attrs |= A(NTM_CTRL_ATTR_ALT_ENDPOINT) | A(NTM_CTRL_ATTR_NAT) | A(NTM_CTRL_ATTR_FAMILIES);
	make_addr(&m.alt_endpoint, 4, 1, 7001);
	m.nat = NTM_CTRL_NAT_EIM;
	m.families = NTM_CTRL_FAMILY_V4 | NTM_CTRL_FAMILY_V6;
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b, w.len, &d), 0);
	CU_ASSERT_EQUAL(memcmp(&m, &d, sizeof(m)), 0);
	m.families = 4; /* no such family bit */
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);

	sample(&m, NTM_CTRL_KEEPALIVE_ACK);
	m.attrs |= A(NTM_CTRL_ATTR_NAT);
	m.nat = NTM_CTRL_NAT_EDM;
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b, w.len, &d), 0);
	CU_ASSERT_EQUAL(d.nat, NTM_CTRL_NAT_EDM);
	/* Not for a request: PATH in a KEEPALIVE. */
	sample(&m, NTM_CTRL_KEEPALIVE);
	m.attrs |= A(NTM_CTRL_ATTR_PATH);
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
}

/* MOVED (DESIGN "Flows" 5): an empty flag on DIRECTION_REQUEST and DIRECTION only. */
static void test_msg_moved(void)
{
	uint8_t b[256];
	struct ntm_ctrl_msg m, d;
	struct ntm_wbuf w;
	size_t len;

	sample(&m, NTM_CTRL_DIRECTION_REQUEST);
	m.attrs |= A(NTM_CTRL_ATTR_MOVED);
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	len = w.len;
	CU_ASSERT_EQUAL(b[len - 2], NTM_CTRL_ATTR_MOVED);
	CU_ASSERT_EQUAL(b[len - 1], 0);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b, len, &d), 0);
	CU_ASSERT(ntm_ctrl_msg_has(&d, NTM_CTRL_ATTR_MOVED));
	CU_ASSERT_EQUAL(memcmp(&m, &d, sizeof(m)), 0);
	/* A value is malformed: the flag has none. */
	b[len - 1] = 1;
	b[len] = 0xff;
	CU_ASSERT_EQUAL(decode_bytes(b, len + 1), -EBADMSG);

	sample(&m, NTM_CTRL_DIRECTION);
	m.attrs |= A(NTM_CTRL_ATTR_MOVED) | A(NTM_CTRL_ATTR_PATH);
	m.path = NTM_CTRL_PATH_PUNCHED;
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b, w.len, &d), 0);
	CU_ASSERT(ntm_ctrl_msg_has(&d, NTM_CTRL_ATTR_MOVED));
	CU_ASSERT_EQUAL(d.path, NTM_CTRL_PATH_PUNCHED);

	/* Not allowed elsewhere. */
	sample(&m, NTM_CTRL_KEEPALIVE);
	m.attrs |= A(NTM_CTRL_ATTR_MOVED);
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
}

/* REGISTER_OK's pools, DIRECTION_REQUEST by VIP, PEER_REVOKED. */
static void test_msg_trigger_kinds(void)
{
	/* DIRECTION_REQUEST, req 9, TARGET_VIP 100.80.0.3 */
	static const uint8_t by_vip[] = { 0x10, 0, 0, 0, 0, 9, 13, 4, 100, 80, 0, 3 };
	/* PEER_REVOKED, req 0, PUBKEY 32 x 0x41 */
	uint8_t revoked[6 + 2 + 32] = { 0x12, 0, 0, 0, 0, 0, 10, 32 };
	uint8_t b[128];
	struct ntm_ctrl_msg m;
	struct ntm_wbuf w;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(by_vip, sizeof(by_vip), &m), 0);
	CU_ASSERT_EQUAL(m.target_family, 4);
	CU_ASSERT_EQUAL(memcmp(m.target_vip, "\x64\x50\x00\x03", 4), 0);
	CU_ASSERT_FALSE(ntm_ctrl_msg_has(&m, NTM_CTRL_ATTR_FQDN));
	memcpy(b, by_vip, sizeof(by_vip));
	b[7] = 5; /* a VIP of 5 bytes */
	CU_ASSERT_EQUAL(decode_bytes(b, sizeof(by_vip) + 1), -EBADMSG);
	memcpy(b, by_vip, sizeof(by_vip));
	memcpy(b + sizeof(by_vip), "\x01\x01z", 3); /* FQDN and VIP: exactly one */
	CU_ASSERT_EQUAL(decode_bytes(b, sizeof(by_vip) + 3), -EBADMSG);
	CU_ASSERT_EQUAL(decode_bytes(by_vip, 6), -EBADMSG); /* neither */
	ntm_ctrl_msg_init(&m, NTM_CTRL_DIRECTION_REQUEST, 9);
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL); /* neither */
	m.attrs = A(NTM_CTRL_ATTR_TARGET_VIP);
	m.target_family = 6;
	m.target_vip[0] = 0xfd;
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL(w.len, 6 + 2 + 16);
	m.target_family = 5;
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);

	memset(revoked + 8, 0x41, 32);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(revoked, sizeof(revoked), &m), 0);
	CU_ASSERT_EQUAL(m.kind, NTM_CTRL_PEER_REVOKED);
	CU_ASSERT_EQUAL(m.pubkey[31], 0x41);
	CU_ASSERT_EQUAL(decode_bytes(revoked, 6), -EBADMSG); /* PUBKEY required */
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_kind_name(NTM_CTRL_PEER_REVOKED), "PEER_REVOKED");

	/* Pools: host bits and lengths past the family's are refused both ways. */
	sample(&m, NTM_CTRL_REGISTER_OK);
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	len = w.len;
	CU_ASSERT_EQUAL(b[len - 26], NTM_CTRL_ATTR_POOL4);
	CU_ASSERT_EQUAL(b[len - 25], NTM_CTRL_POOL4_LEN);
	b[len - 21] = 1; /* 100.80.0.1/16 */
	CU_ASSERT_EQUAL(decode_bytes(b, len), -EBADMSG);
	b[len - 21] = 0;
	b[len - 20] = 33; /* /33 */
	CU_ASSERT_EQUAL(decode_bytes(b, len), -EBADMSG);
	b[len - 20] = 16;
	CU_ASSERT_EQUAL(decode_bytes(b, len), 0);
	m.pool6.prefix_len = 129;
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	m.pool6.prefix_len = 8;
	m.pool6.addr[1] = 1; /* host bits */
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	/* Pools are optional: a DC of the last version sends none. */
	sample(&m, NTM_CTRL_REGISTER_OK);
	m.attrs &= ~(A(NTM_CTRL_ATTR_POOL4) | A(NTM_CTRL_ATTR_POOL6));
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL(decode_bytes(b, w.len), 0);
}

/* REGISTER_OK's optional DOMAIN attributes: round trip, limits, skipped where not known. */
static void test_msg_domains(void)
{
	uint8_t b[NTM_CTRL_PLAIN_MAX];
	struct ntm_ctrl_msg m, d;
	struct ntm_wbuf w;
	char big[NTM_CTRL_FQDN_MAX + 1];
	size_t len;

	sample(&m, NTM_CTRL_REGISTER_OK);
	CU_ASSERT_EQUAL(ntm_ctrl_msg_add_domain(&m, "example.net"), 0);
	CU_ASSERT_EQUAL(ntm_ctrl_msg_add_domain(&m, "other.example"), 0);
	CU_ASSERT_EQUAL(ntm_ctrl_msg_add_domain(&m, "Upper.example"), -EINVAL);
	CU_ASSERT_EQUAL(ntm_ctrl_msg_add_domain(&m, ""), -EINVAL);
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	len = w.len;
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b, len, &d), 0);
	CU_ASSERT_TRUE(ntm_ctrl_msg_has(&d, NTM_CTRL_ATTR_DOMAIN));
	CU_ASSERT_EQUAL_FATAL(d.n_domains, 2);
	CU_ASSERT_STRING_EQUAL(d.domains[0], "example.net");
	CU_ASSERT_STRING_EQUAL(d.domains[1], "other.example");
	CU_ASSERT_EQUAL(memcmp(&d, &m, sizeof(m)), 0);
	/* the last attribute is the second DOMAIN: 0x88, 13, "other.example" */
	CU_ASSERT_EQUAL(b[len - 15], NTM_CTRL_ATTR_DOMAIN);
	CU_ASSERT_EQUAL(b[len - 14], 13);
	b[len - 13] = 'O'; /* not a lower-case host name: malformed */
	CU_ASSERT_EQUAL(ntm_ctrl_msg_decode(b, len, &d), -EBADMSG);
	/* in a kind that does not take it, a DOMAIN is an unknown hint: skipped */
	sample(&m, NTM_CTRL_KEEPALIVE_ACK);
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_wbuf_put_u8(&w, NTM_CTRL_ATTR_DOMAIN), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_wbuf_put_u8(&w, 1), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_wbuf_put_u8(&w, 'X'), 0);
	CU_ASSERT_EQUAL(ntm_ctrl_msg_decode(b, w.len, &d), 0);
	CU_ASSERT_EQUAL(d.n_domains, 0);
	CU_ASSERT_FALSE(ntm_ctrl_msg_has(&d, NTM_CTRL_ATTR_DOMAIN));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_add_domain(&m, "example.net"), 0);
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	/* four of the longest fit; a fifth does not */
	sample(&m, NTM_CTRL_REGISTER_OK);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (size_t i = 0; i < NTM_CTRL_DOMAINS_MAX; i++) {
		big[0] = (char)('a' + i);
		CU_ASSERT_EQUAL(ntm_ctrl_msg_add_domain(&m, big), 0);
	}
	CU_ASSERT_EQUAL(ntm_ctrl_msg_add_domain(&m, "example.net"), -E2BIG);
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL(ntm_ctrl_msg_decode(b, w.len, &d), 0);
	CU_ASSERT_EQUAL(d.n_domains, NTM_CTRL_DOMAINS_MAX);
	/* a fifth on the wire is malformed */
	sample(&m, NTM_CTRL_REGISTER_OK);
	for (size_t i = 0; i < NTM_CTRL_DOMAINS_MAX; i++) {
		CU_ASSERT_EQUAL(ntm_ctrl_msg_add_domain(&m, "x.example"), 0);
	}
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_wbuf_put_u8(&w, NTM_CTRL_ATTR_DOMAIN), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_wbuf_put_u8(&w, 1), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_wbuf_put_u8(&w, 'y'), 0);
	CU_ASSERT_EQUAL(ntm_ctrl_msg_decode(b, w.len, &d), -EBADMSG);
}

/* The DC <-> DC kinds (0x40-0x43) and their attributes (46, 47) round-trip and are checked. */
static void test_msg_federation(void)
{
	uint8_t b[NTM_CTRL_PLAIN_MAX];
	struct ntm_ctrl_msg m, d;
	struct ntm_wbuf w;

	ntm_ctrl_msg_init(&m, NTM_CTRL_FED_HELLO, 7);
	m.attrs = A(NTM_CTRL_ATTR_FED_DOMAIN) | A(NTM_CTRL_ATTR_POOL4) | A(NTM_CTRL_ATTR_POOL6);
	strcpy(m.fed_domain, "a.example");
	CU_ASSERT_EQUAL(ntm_prefix_parse("100.64.0.0/16", 0, &m.pool4, NULL, 0), 0);
	CU_ASSERT_EQUAL(ntm_prefix_parse("fd01::/64", 0, &m.pool6, NULL, 0), 0);
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b, w.len, &d), 0);
	CU_ASSERT_EQUAL(memcmp(&m, &d, sizeof(m)), 0);
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_kind_name(d.kind), "FED_HELLO");
	/* FED_DOMAIN is a lower-case host name */
	strcpy(m.fed_domain, "A.example");
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	/* a query: the target and the requester as a DIRECTION describes it */
	sample(&m, NTM_CTRL_DIRECTION);
	m.kind = NTM_CTRL_FED_QUERY;
	m.attrs |= A(NTM_CTRL_ATTR_FED_TARGET) | A(NTM_CTRL_ATTR_NAT) | A(NTM_CTRL_ATTR_FAMILIES);
	strcpy(m.fed_target, "x.b.example");
	m.nat = NTM_CTRL_NAT_EIM;
	m.families = NTM_CTRL_FAMILY_V4;
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b, w.len, &d), 0);
	CU_ASSERT_EQUAL(memcmp(&m, &d, sizeof(m)), 0);
	/* without its target it is malformed; an answer needs PATH and takes no target */
	m.attrs &= ~A(NTM_CTRL_ATTR_FED_TARGET);
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	m.kind = NTM_CTRL_FED_ANSWER;
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	m.attrs |= A(NTM_CTRL_ATTR_PATH);
	m.path = NTM_CTRL_PATH_PUNCHED;
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b, w.len, &d), 0);
	CU_ASSERT_EQUAL(d.path, NTM_CTRL_PATH_PUNCHED);
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_error_name(NTM_CTRL_E_FED_POOL_OVERLAP),
			       "FED_POOL_OVERLAP");
	/* the callee's relay grant for the caller's node */
	ntm_ctrl_msg_init(&m, NTM_CTRL_FED_RELAY, 0);
	m.attrs = A(NTM_CTRL_ATTR_FQDN) | A(NTM_CTRL_ATTR_FED_TARGET) | A(NTM_CTRL_ATTR_PUBKEY) |
		  A(NTM_CTRL_ATTR_RELAY_ADDR) | A(NTM_CTRL_ATTR_SESSION_ID) |
		  A(NTM_CTRL_ATTR_CREDENTIAL) | A(NTM_CTRL_ATTR_LIFETIME);
	strcpy(m.fqdn, "n1.a.example");
	strcpy(m.fed_target, "z.b.example");
	memset(m.pubkey, 0x11, sizeof(m.pubkey));
	make_addr(&m.relay_addr[0], 4, 20, 7100);
	m.n_relay_addr = 1;
	m.session_id = 0x01020304;
	memset(m.credential, 0x22, sizeof(m.credential));
	m.lifetime = 120;
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b, w.len, &d), 0);
	CU_ASSERT_EQUAL(memcmp(&m, &d, sizeof(m)), 0);
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_kind_name(NTM_CTRL_FED_RELAY), "FED_RELAY");
	m.attrs &= ~A(NTM_CTRL_ATTR_FED_TARGET);
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
}

/* Relay through either domain's RS: the flags, FED_RELAY's SIDE, NEED, REQUEST and DONE. */
static void test_msg_fed_relay(void)
{
	uint8_t b[NTM_CTRL_PLAIN_MAX + 16];
	struct ntm_ctrl_msg m, d;
	struct ntm_wbuf w;

	/* FED_HAS_RELAY on a query, FED_NO_RELAY on an answer: 0-byte flags */
	sample(&m, NTM_CTRL_DIRECTION);
	m.kind = NTM_CTRL_FED_QUERY;
	m.attrs |= A(NTM_CTRL_ATTR_FED_TARGET) | A(NTM_CTRL_ATTR_FED_HAS_RELAY);
	strcpy(m.fed_target, "z.b.example");
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b, w.len, &d), 0);
	CU_ASSERT_EQUAL(memcmp(&m, &d, sizeof(m)), 0);
	CU_ASSERT(ntm_ctrl_msg_has(&d, NTM_CTRL_ATTR_FED_HAS_RELAY));
	/* not on an answer; FED_NO_RELAY not on a query */
	m.kind = NTM_CTRL_FED_ANSWER;
	m.attrs &= ~(A(NTM_CTRL_ATTR_FED_TARGET) | A(NTM_CTRL_ATTR_FED_HAS_RELAY));
	m.attrs |= A(NTM_CTRL_ATTR_PATH) | A(NTM_CTRL_ATTR_FED_NO_RELAY) |
		   A(NTM_CTRL_ATTR_FED_HAS_RELAY);
	m.fed_target[0] = '\0';
	m.path = NTM_CTRL_PATH_RELAY;
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	m.attrs &= ~A(NTM_CTRL_ATTR_FED_HAS_RELAY);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b, w.len, &d), 0);
	CU_ASSERT_EQUAL(d.attrs, m.attrs);
	CU_ASSERT(ntm_ctrl_msg_has(&d, NTM_CTRL_ATTR_FED_NO_RELAY));
	CU_ASSERT_EQUAL(d.path, NTM_CTRL_PATH_RELAY);
	/* a flag with a value is malformed: the last attribute is FED_NO_RELAY, length 0 */
	CU_ASSERT_EQUAL_FATAL(b[w.len - 2], NTM_CTRL_ATTR_FED_NO_RELAY);
	CU_ASSERT_EQUAL_FATAL(b[w.len - 1], 0);
	b[w.len - 1] = 1;
	b[w.len] = 0x55;
	CU_ASSERT_EQUAL(ntm_ctrl_msg_decode(b, w.len + 1, &d), -EBADMSG);

	/* FED_RELAY with the receiver's SIDE */
	ntm_ctrl_msg_init(&m, NTM_CTRL_FED_RELAY, 0);
	m.attrs = A(NTM_CTRL_ATTR_FQDN) | A(NTM_CTRL_ATTR_FED_TARGET) | A(NTM_CTRL_ATTR_PUBKEY) |
		  A(NTM_CTRL_ATTR_RELAY_ADDR) | A(NTM_CTRL_ATTR_SESSION_ID) |
		  A(NTM_CTRL_ATTR_CREDENTIAL) | A(NTM_CTRL_ATTR_LIFETIME) | A(NTM_CTRL_ATTR_SIDE);
	strcpy(m.fqdn, "z.b.example");
	strcpy(m.fed_target, "n1.a.example");
	memset(m.pubkey, 0x11, sizeof(m.pubkey));
	make_addr(&m.relay_addr[0], 4, 20, 7100);
	m.n_relay_addr = 1;
	m.session_id = 0x0a0b0c0d;
	memset(m.credential, 0x22, sizeof(m.credential));
	m.lifetime = 120;
	m.side = 1;
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b, w.len, &d), 0);
	CU_ASSERT_EQUAL(memcmp(&m, &d, sizeof(m)), 0);

	/* NEED and REQUEST: the pair and the relays to avoid (optional, repeatable) */
	for (uint8_t k = NTM_CTRL_FED_RELAY_NEED; k <= NTM_CTRL_FED_RELAY_REQUEST; k++) {
		ntm_ctrl_msg_init(&m, k, 0);
		m.attrs = A(NTM_CTRL_ATTR_FQDN) | A(NTM_CTRL_ATTR_FED_TARGET) |
			  A(NTM_CTRL_ATTR_PUBKEY);
		strcpy(m.fqdn, "n1.a.example");
		strcpy(m.fed_target, "z.b.example");
		memset(m.pubkey, 0x33, sizeof(m.pubkey));
		ntm_wbuf_init(&w, b, sizeof(b));
		CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
		CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b, w.len, &d), 0);
		CU_ASSERT_EQUAL(memcmp(&m, &d, sizeof(m)), 0);
		m.attrs |= A(NTM_CTRL_ATTR_RELAY_ADDR);
		make_addr(&m.relay_addr[0], 4, 20, 7100);
		make_addr(&m.relay_addr[1], 6, 21, 7100);
		m.n_relay_addr = 2;
		ntm_wbuf_init(&w, b, sizeof(b));
		CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
		CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b, w.len, &d), 0);
		CU_ASSERT_EQUAL(memcmp(&m, &d, sizeof(m)), 0);
		/* no credentials in these, and not without the sender's node */
		m.attrs |= A(NTM_CTRL_ATTR_SESSION_ID);
		m.session_id = 1;
		ntm_wbuf_init(&w, b, sizeof(b));
		CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
		m.attrs &= ~(A(NTM_CTRL_ATTR_SESSION_ID) | A(NTM_CTRL_ATTR_FED_TARGET));
		CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	}
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_kind_name(NTM_CTRL_FED_RELAY_NEED), "FED_RELAY_NEED");
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_kind_name(NTM_CTRL_FED_RELAY_REQUEST), "FED_RELAY_REQUEST");
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_kind_name(NTM_CTRL_FED_RELAY_DONE), "FED_RELAY_DONE");
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_kind_name(NTM_CTRL_FED_REVOKED), "FED_REVOKED");
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_kind_name(0x49), "?");

	/* DONE: the receiver's node by name, the sender's by key, the session */
	ntm_ctrl_msg_init(&m, NTM_CTRL_FED_RELAY_DONE, 0);
	m.attrs = A(NTM_CTRL_ATTR_FQDN) | A(NTM_CTRL_ATTR_PUBKEY) | A(NTM_CTRL_ATTR_SESSION_ID);
	strcpy(m.fqdn, "z.b.example");
	memset(m.pubkey, 0x44, sizeof(m.pubkey));
	m.session_id = 0x01020304;
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b, w.len, &d), 0);
	CU_ASSERT_EQUAL(memcmp(&m, &d, sizeof(m)), 0);
	m.attrs &= ~A(NTM_CTRL_ATTR_SESSION_ID);
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	/* REVOKED: the sender's node by key and name, both required, nothing else */
	ntm_ctrl_msg_init(&m, NTM_CTRL_FED_REVOKED, 0);
	m.attrs = A(NTM_CTRL_ATTR_FQDN) | A(NTM_CTRL_ATTR_PUBKEY);
	strcpy(m.fqdn, "x.b.example");
	memset(m.pubkey, 0x55, sizeof(m.pubkey));
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_encode(&w, &m), 0);
	CU_ASSERT_EQUAL(b[0], 0x48);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_msg_decode(b, w.len, &d), 0);
	CU_ASSERT_EQUAL(memcmp(&m, &d, sizeof(m)), 0);
	m.attrs = A(NTM_CTRL_ATTR_PUBKEY);
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	m.attrs = A(NTM_CTRL_ATTR_FQDN) | A(NTM_CTRL_ATTR_PUBKEY) | A(NTM_CTRL_ATTR_SESSION_ID);
	m.session_id = 7;
	ntm_wbuf_init(&w, b, sizeof(b));
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	/* an unknown kind after them: -ENOTSUP */
	b[0] = 0x49;
	CU_ASSERT_EQUAL(ntm_ctrl_msg_decode(b, 6, &d), -ENOTSUP);
}

static void test_msg_limits(void)
{
	uint8_t b[NTM_CTRL_PLAIN_MAX + 16];
	struct ntm_ctrl_msg m;
	struct ntm_wbuf w;
	size_t len = 6;

	/* Nine candidates: one too many. */
	memcpy(b,
	       "\x01\x00\x00\x00\x00\x01\x01\x01"
	       "a",
	       9);
	len = 9;
	for (int i = 0; i < NTM_CTRL_CANDIDATES_MAX + 1; i++) {
		memcpy(b + len, "\x03\x07\x04\x01\x02\x03\x04\x00\x50", 9);
		len += 9;
		CU_ASSERT_EQUAL(decode_bytes(b, len), i < NTM_CTRL_CANDIDATES_MAX ? 0 : -EBADMSG);
	}
	CU_ASSERT_EQUAL(decode_bytes(b, NTM_CTRL_PLAIN_MAX + 1), -EBADMSG);
	/* The encoder refuses what the decoder would. */
	sample(&m, NTM_CTRL_REGISTER);
	ntm_wbuf_init(&w, b, sizeof(b));
	m.attrs &= ~A(NTM_CTRL_ATTR_FQDN);
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	sample(&m, NTM_CTRL_REGISTER);
	m.attrs |= A(NTM_CTRL_ATTR_VIP4);
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	sample(&m, NTM_CTRL_REGISTER);
	m.cand[1].port = 0;
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	sample(&m, NTM_CTRL_REGISTER_OK);
	m.keepalive = 0;
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EINVAL);
	CU_ASSERT_EQUAL(w.len, 0);
	sample(&m, NTM_CTRL_REGISTER);
	ntm_wbuf_init(&w, b, 20); /* too small: nothing written */
	CU_ASSERT_EQUAL(ntm_ctrl_msg_encode(&w, &m), -EMSGSIZE);
	CU_ASSERT_EQUAL(w.len, 0);
}

static void test_addr_conversion(void)
{
	struct ntm_addr a, back;
	struct ntm_ctrl_addr c;

	CU_ASSERT_FATAL(ntm_addr_parse("[2001:db8::7]:7000", 0, &a, NULL, 0) == 0);
	CU_ASSERT_EQUAL(ntm_ctrl_addr_from(&c, &a), 0);
	CU_ASSERT_EQUAL(c.family, 6);
	CU_ASSERT_EQUAL(c.port, 7000);
	CU_ASSERT_EQUAL(ntm_ctrl_addr_to(&back, &c), 0);
	CU_ASSERT(ntm_addr_equal(&a, &back));
	CU_ASSERT_FATAL(ntm_addr_parse("198.51.100.7:5000", 0, &a, NULL, 0) == 0);
	CU_ASSERT_EQUAL(ntm_ctrl_addr_from(&c, &a), 0);
	CU_ASSERT_EQUAL(ntm_ctrl_addr_to(&back, &c), 0);
	CU_ASSERT(ntm_addr_equal(&a, &back));
	c.family = 5;
	CU_ASSERT_EQUAL(ntm_ctrl_addr_to(&back, &c), -EINVAL);
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_error_name(NTM_CTRL_E_BAD_TOKEN), "BAD_TOKEN");
	CU_ASSERT_STRING_EQUAL(ntm_ctrl_kind_name(NTM_CTRL_REGISTER_OK), "REGISTER_OK");
}

/* ---------------------------------------------------------------- wire types */

static void test_classify_ctrl(void)
{
	static uint8_t b[NTM_CTRL_DATA_MAX_LEN + 1];
	enum ntm_msg_type t;

	memset(b, 0x55, sizeof(b));
	memset(b + 1, 0, 3);
	b[0] = NTM_MSG_CTRL_INITIATION;
	CU_ASSERT_EQUAL(ntm_wire_classify(b, 148, &t), 0);
	CU_ASSERT_EQUAL(t, NTM_MSG_CTRL_INITIATION);
	CU_ASSERT_EQUAL(ntm_wire_classify(b, 149, &t), -EBADMSG);
	b[0] = NTM_MSG_CTRL_RESPONSE;
	CU_ASSERT_EQUAL(ntm_wire_classify(b, 92, &t), 0);
	CU_ASSERT_EQUAL(ntm_wire_classify(b, 91, &t), -EBADMSG);
	b[0] = NTM_MSG_CTRL_COOKIE_REPLY;
	CU_ASSERT_EQUAL(ntm_wire_classify(b, 64, &t), 0);
	CU_ASSERT_EQUAL(ntm_wire_classify(b, 65, &t), -EBADMSG);
	b[0] = NTM_MSG_CTRL_DATA;
	CU_ASSERT_EQUAL(ntm_wire_classify(b, 31, &t), -EBADMSG);
	CU_ASSERT_EQUAL(ntm_wire_classify(b, 32, &t), 0);
	CU_ASSERT_EQUAL(ntm_wire_classify(b, NTM_CTRL_DATA_MAX_LEN, &t), 0);
	CU_ASSERT_EQUAL(ntm_wire_classify(b, NTM_CTRL_DATA_MAX_LEN + 1, &t), -EBADMSG);
	b[0] = 0x87; /* reserved, no row yet */
	CU_ASSERT_EQUAL(ntm_wire_classify(b, 148, &t), -EBADMSG);
	b[0] = NTM_MSG_CTRL_INITIATION;
	b[2] = 1;
	CU_ASSERT_EQUAL(ntm_wire_classify(b, 148, &t), -EBADMSG);
}

static void test_wire_ctrl_round_trip(void)
{
	uint8_t b[160], out[160];
	struct ntm_wg_initiation i1, i2;
	struct ntm_wg_response r1;
	struct ntm_wg_cookie_reply c1;
	struct ntm_wg_data d;
	struct ntm_wbuf w;

	memset(b, 0x33, sizeof(b));
	memset(b + 1, 0, 3);
	b[0] = NTM_MSG_CTRL_INITIATION;
	CU_ASSERT_EQUAL_FATAL(ntm_wire_decode_ctrl_initiation(b, 148, &i1), 0);
	CU_ASSERT_EQUAL(ntm_wire_decode_initiation(b, 148, &i2), -EBADMSG); /* not type 1 */
	ntm_wbuf_init(&w, out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(ntm_wire_encode_ctrl_initiation(&w, &i1), 0);
	CU_ASSERT_EQUAL(w.len, 148);
	CU_ASSERT_EQUAL(memcmp(out, b, 148), 0);
	b[0] = NTM_MSG_CTRL_RESPONSE;
	CU_ASSERT_EQUAL_FATAL(ntm_wire_decode_ctrl_response(b, 92, &r1), 0);
	ntm_wbuf_init(&w, out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(ntm_wire_encode_ctrl_response(&w, &r1), 0);
	CU_ASSERT_EQUAL(memcmp(out, b, 92), 0);
	b[0] = NTM_MSG_CTRL_COOKIE_REPLY;
	CU_ASSERT_EQUAL_FATAL(ntm_wire_decode_ctrl_cookie_reply(b, 64, &c1), 0);
	ntm_wbuf_init(&w, out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(ntm_wire_encode_ctrl_cookie_reply(&w, &c1), 0);
	CU_ASSERT_EQUAL(memcmp(out, b, 64), 0);
	b[0] = NTM_MSG_CTRL_DATA;
	CU_ASSERT_EQUAL_FATAL(ntm_wire_decode_ctrl_data(b, 100, &d), 0);
	CU_ASSERT_EQUAL(d.payload_len, 84);
	ntm_wbuf_init(&w, out, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(ntm_wire_encode_ctrl_data(&w, &d), 0);
	CU_ASSERT_EQUAL(memcmp(out, b, 100), 0);
	d.payload_len = NTM_CTRL_DATA_MAX_LEN; /* would exceed the control maximum */
	CU_ASSERT_EQUAL(ntm_wire_encode_ctrl_data(&w, &d), -EINVAL);
}

/* ---------------------------------------------------------------- sessions */

struct side {
	struct ntm_noise_identity *id;
	struct ntm_cookie_checker *checker;
	struct ntm_ctrl_session *s;
	uint8_t pub[32];
};

struct pair {
	struct side node, dc;
};

static void side_init(struct side *sd, uint8_t seed)
{
	uint8_t priv[32];

	memset(priv, seed, sizeof(priv));
	CU_ASSERT_FATAL(ntm_noise_identity_create_profile(priv, NTM_NOISE_CONTROL, &sd->id) == 0);
	ntm_noise_identity_public(sd->id, sd->pub);
	CU_ASSERT_FATAL(ntm_cookie_checker_create(sd->pub, &sd->checker) == 0);
}

static void pair_init(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	side_init(&p->node, 1);
	side_init(&p->dc, 2);
	CU_ASSERT_FATAL(ntm_ctrl_session_create(p->node.id, p->dc.pub, NULL, &p->node.s) == 0);
	CU_ASSERT_FATAL(ntm_ctrl_session_create(p->dc.id, p->node.pub, NULL, &p->dc.s) == 0);
}

static void pair_fini(struct pair *p)
{
	struct side *sides[] = { &p->node, &p->dc };

	for (int i = 0; i < 2; i++) {
		ntm_ctrl_session_destroy(sides[i]->s);
		ntm_cookie_checker_destroy(sides[i]->checker);
		ntm_noise_identity_destroy(sides[i]->id);
	}
}

static struct ntm_noise_handshake *dc_lookup(void *ctx, const uint8_t *pub)
{
	struct pair *p = ctx;

	return memcmp(pub, p->node.pub, 32) == 0 ? ntm_ctrl_session_handshake(p->dc.s) : NULL;
}

static bool mac_ok(struct side *to, const uint8_t *msg, size_t len)
{
	struct ntm_cookie_pkt pkt = { .msg = msg, .len = len };

	return ntm_cookie_validate(to->checker, &pkt, 0, false) != NTM_COOKIE_BAD;
}

/* The DC's half of a handshake: 0, or the consume error. */
static int dc_take_initiation(struct pair *p, const uint8_t *init, uint64_t now, uint8_t *resp)
{
	struct ntm_wg_initiation m;
	struct ntm_noise_handshake *hs;
	struct ntm_wbuf w;
	int rc;

	CU_ASSERT_FATAL(mac_ok(&p->dc, init, 148));
	CU_ASSERT_FATAL(ntm_wire_decode_ctrl_initiation(init, 148, &m) == 0);
	rc = ntm_noise_consume_initiation(p->dc.id, &m, dc_lookup, p, &hs);
	if (rc < 0) {
		return rc;
	}
	ntm_wbuf_init(&w, resp, 92);
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_session_respond(p->dc.s, 0x2000 + (uint32_t)now, now, &w),
			      0);
	CU_ASSERT_EQUAL(w.len, 92);
	CU_ASSERT_EQUAL(resp[0], NTM_MSG_CTRL_RESPONSE);
	return 0;
}

static void handshake(struct pair *p, uint64_t now, uint8_t init[148])
{
	uint8_t resp[92], ts[12];
	struct ntm_wbuf w;

	/* The test's clock: TAI64N of the wall clock is coarse (two handshakes in a row). */
	ntm_crypto_tai64n(ts, 1700000000 + (int64_t)(now / 1000), (long)(now % 1000) * 1000000);
	ntm_wbuf_init(&w, init, 148);
	CU_ASSERT_EQUAL_FATAL(
		ntm_ctrl_session_initiate(p->node.s, 0x1000 + (uint32_t)now, ts, now, &w), 0);
	CU_ASSERT_EQUAL(init[0], NTM_MSG_CTRL_INITIATION);
	CU_ASSERT_EQUAL_FATAL(dc_take_initiation(p, init, now, resp), 0);
	CU_ASSERT_FATAL(mac_ok(&p->node, resp, sizeof(resp)));
	CU_ASSERT_EQUAL_FATAL(ntm_ctrl_session_consume_response(p->node.s, resp, sizeof(resp), now),
			      0);
}

/* Seals `text` on `from` into msg[*len]. */
static void seal(struct ntm_ctrl_session *from, const char *text, uint64_t now, uint8_t *msg,
		 size_t *len)
{
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, msg, NTM_CTRL_DATA_MAX_LEN);
	CU_ASSERT_EQUAL_FATAL(
		ntm_ctrl_session_seal(from, (const uint8_t *)text, strlen(text), now, &w), 0);
	*len = w.len;
}

static int open_msg(struct ntm_ctrl_session *to, const uint8_t *msg, size_t len, uint64_t now,
		    char *text)
{
	uint8_t out[NTM_CTRL_PLAIN_MAX];
	struct ntm_wg_data d;
	size_t n;
	int rc;

	if (ntm_wire_decode_ctrl_data(msg, len, &d) < 0) {
		return -EBADMSG;
	}
	rc = ntm_ctrl_session_open(to, &d, now, out, sizeof(out), &n);
	if (rc == 0) {
		CU_ASSERT_EQUAL(n % 16, 0);
		memcpy(text, out, n);
		text[n] = '\0';
	}
	return rc;
}

static void test_session_both_ways(void)
{
	uint8_t init[148], msg[NTM_CTRL_DATA_MAX_LEN];
	char text[NTM_CTRL_PLAIN_MAX + 1];
	struct ntm_wbuf w;
	struct pair p;
	size_t len;

	pair_init(&p);
	CU_ASSERT(!ntm_ctrl_session_needs_handshake(p.node.s, 0)); /* never initiated */
	handshake(&p, 1000, init);
	CU_ASSERT(ntm_ctrl_session_is_established(p.node.s, 1000));
	CU_ASSERT(!ntm_ctrl_session_needs_handshake(p.node.s, 1000));
	/* The responder waits for the initiator's first message. */
	ntm_wbuf_init(&w, msg, sizeof(msg));
	CU_ASSERT_EQUAL(ntm_ctrl_session_seal(p.dc.s, (const uint8_t *)"x", 1, 1000, &w),
			-ENOTCONN);
	seal(p.node.s, "register please", 1001, msg, &len);
	CU_ASSERT_EQUAL(msg[0], NTM_MSG_CTRL_DATA);
	CU_ASSERT_EQUAL(len, 16 + 16 + 16);
	CU_ASSERT_EQUAL(open_msg(p.dc.s, msg, len, 1002, text), 0);
	CU_ASSERT_STRING_EQUAL(text, "register please");
	CU_ASSERT(ntm_ctrl_session_is_established(p.dc.s, 1002));
	seal(p.dc.s, "ok", 1003, msg, &len);
	CU_ASSERT_EQUAL(open_msg(p.node.s, msg, len, 1004, text), 0);
	CU_ASSERT_STRING_EQUAL(text, "ok");
	/* Replays are refused; tampering is refused and does not move the window. */
	CU_ASSERT_EQUAL(open_msg(p.node.s, msg, len, 1005, text), -EALREADY);
	seal(p.dc.s, "second", 1006, msg, &len);
	msg[len - 1] ^= 1;
	CU_ASSERT_EQUAL(open_msg(p.node.s, msg, len, 1007, text), -EBADMSG);
	msg[len - 1] ^= 1;
	msg[8] ^= 1; /* the counter: another nonce */
	CU_ASSERT_EQUAL(open_msg(p.node.s, msg, len, 1007, text), -EBADMSG);
	msg[8] ^= 1;
	msg[4] ^= 1; /* the receiver index */
	CU_ASSERT_EQUAL(open_msg(p.node.s, msg, len, 1007, text), -ENOKEY);
	msg[4] ^= 1;
	CU_ASSERT_EQUAL(open_msg(p.node.s, msg, len, 1008, text), 0);
	CU_ASSERT_STRING_EQUAL(text, "second");
	pair_fini(&p);
}

static void test_session_replayed_initiation(void)
{
	uint8_t init[148], resp[92];
	struct pair p;

	pair_init(&p);
	handshake(&p, 1000, init);
	CU_ASSERT_EQUAL(dc_take_initiation(&p, init, 2000, resp), -ESTALE);
	pair_fini(&p);
}

static void test_session_rekey_and_expiry(void)
{
	uint8_t init[148], old_msg[NTM_CTRL_DATA_MAX_LEN], msg[NTM_CTRL_DATA_MAX_LEN];
	char text[NTM_CTRL_PLAIN_MAX + 1];
	size_t old_len, len;
	struct ntm_wbuf w;
	struct pair p;
	uint64_t t0 = 1000, t1 = t0 + NTM_TIMERS_REKEY_AFTER_TIME_MS;

	pair_init(&p);
	handshake(&p, t0, init);
	seal(p.node.s, "first", t0, msg, &len);
	CU_ASSERT_EQUAL(open_msg(p.dc.s, msg, len, t0, text), 0);
	CU_ASSERT(!ntm_ctrl_session_needs_handshake(p.node.s, t1 - 1));
	CU_ASSERT(ntm_ctrl_session_needs_handshake(p.node.s, t1));
	seal(p.node.s, "in flight", t1, old_msg, &old_len); /* on the old keypair */
	handshake(&p, t1, init);
	/* The DC still answers on the old keypair until the node speaks on the new one. */
	seal(p.dc.s, "old", t1, msg, &len);
	CU_ASSERT_EQUAL(open_msg(p.node.s, msg, len, t1, text), 0);
	seal(p.node.s, "new", t1, msg, &len);
	CU_ASSERT_EQUAL(open_msg(p.dc.s, msg, len, t1, text), 0);
	CU_ASSERT_STRING_EQUAL(text, "new");
	CU_ASSERT_EQUAL(open_msg(p.dc.s, old_msg, old_len, t1, text), 0); /* previous keypair */
	CU_ASSERT_STRING_EQUAL(text, "in flight");
	seal(p.dc.s, "on new", t1, msg, &len);
	CU_ASSERT_EQUAL(open_msg(p.node.s, msg, len, t1, text), 0);
	/* Reject-After-Time: nothing goes any more. */
	seal(p.node.s, "late", t1, msg, &len);
	CU_ASSERT_EQUAL(open_msg(p.dc.s, msg, len, t1 + NTM_TIMERS_REJECT_AFTER_TIME_MS, text),
			-ETIMEDOUT);
	ntm_wbuf_init(&w, msg, sizeof(msg));
	CU_ASSERT_EQUAL(ntm_ctrl_session_seal(p.node.s, (const uint8_t *)"x", 1,
					      t1 + NTM_TIMERS_REJECT_AFTER_TIME_MS, &w),
			-ENOTCONN);
	CU_ASSERT(!ntm_ctrl_session_is_established(p.node.s, t1 + NTM_TIMERS_REJECT_AFTER_TIME_MS));
	pair_fini(&p);
}

static void test_session_cookie(void)
{
	uint8_t init[148], reply[64], from[4] = { 192, 0, 2, 1 };
	struct ntm_cookie_pkt pkt = {
		.msg = init, .len = 148, .addr = from, .addr_len = 4, .port = 5000
	};
	struct ntm_wg_cookie_reply r;
	struct ntm_wbuf w;
	struct pair p;

	pair_init(&p);
	ntm_wbuf_init(&w, init, sizeof(init));
	CU_ASSERT_FATAL(ntm_ctrl_session_initiate(p.node.s, 7, NULL, 1000, &w) == 0);
	CU_ASSERT_EQUAL(ntm_cookie_validate(p.dc.checker, &pkt, 1000, true), NTM_COOKIE_MAC1_OK);
	CU_ASSERT_FATAL(ntm_cookie_make_reply(p.dc.checker, &pkt, 1000, &r) == 0);
	ntm_wbuf_init(&w, reply, sizeof(reply));
	CU_ASSERT_FATAL(ntm_wire_encode_ctrl_cookie_reply(&w, &r) == 0);
	CU_ASSERT_EQUAL(ntm_ctrl_session_consume_cookie(p.node.s, reply, sizeof(reply), 1001), 0);
	CU_ASSERT_EQUAL(ntm_ctrl_session_consume_cookie(p.node.s, reply, sizeof(reply), 1001),
			-EBADMSG); /* used once */
	ntm_wbuf_init(&w, init, sizeof(init));
	CU_ASSERT_FATAL(ntm_ctrl_session_initiate(p.node.s, 8, NULL, 1002, &w) == 0);
	CU_ASSERT_EQUAL(ntm_cookie_validate(p.dc.checker, &pkt, 1002, true), NTM_COOKIE_MAC2_OK);
	pair_fini(&p);
}

/* A control initiation never completes as WireGuard's, nor passes WireGuard's mac1. */
static void test_profiles_separate(void)
{
	uint8_t priv[32], init[148];
	struct ntm_noise_identity *wg;
	struct ntm_noise_handshake *hs;
	struct ntm_wg_initiation m;
	struct ntm_wbuf w;
	struct pair p;

	pair_init(&p);
	memset(priv, 2, sizeof(priv)); /* the DC's key under the WireGuard profile */
	CU_ASSERT_FATAL(ntm_noise_identity_create(priv, &wg) == 0);
	CU_ASSERT_EQUAL(ntm_noise_identity_profile(wg), NTM_NOISE_WIREGUARD);
	ntm_wbuf_init(&w, init, sizeof(init));
	CU_ASSERT_FATAL(ntm_ctrl_session_initiate(p.node.s, 7, NULL, 1000, &w) == 0);
	CU_ASSERT_FATAL(ntm_wire_decode_ctrl_initiation(init, 148, &m) == 0);
	CU_ASSERT_EQUAL(ntm_noise_consume_initiation(wg, &m, dc_lookup, &p, &hs), -EBADMSG);
	init[0] = NTM_MSG_WG_INITIATION; /* relabelled: mac1 covers the type byte */
	CU_ASSERT_FALSE(mac_ok(&p.dc, init, 148));
	/* A session refuses an identity of the WireGuard profile. */
	{
		struct ntm_ctrl_session *s;
		struct ntm_noise_identity *bad;

		CU_ASSERT_EQUAL(ntm_ctrl_session_create(wg, p.node.pub, NULL, &s), -EINVAL);
		CU_ASSERT_PTR_NULL(s);
		CU_ASSERT_EQUAL(ntm_noise_identity_create_profile(priv, 7, &bad), -EINVAL);
		CU_ASSERT_PTR_NULL(bad);
	}
	ntm_noise_identity_destroy(wg);
	pair_fini(&p);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_msg_round_trip),
	NTM_TEST(test_msg_layout),
	NTM_TEST(test_msg_refused),
	NTM_TEST(test_msg_direction),
	NTM_TEST(test_msg_path_attrs),
	NTM_TEST(test_msg_moved),
	NTM_TEST(test_msg_trigger_kinds),
	NTM_TEST(test_msg_domains),
	NTM_TEST(test_msg_federation),
	NTM_TEST(test_msg_fed_relay),
	NTM_TEST(test_msg_limits),
	NTM_TEST(test_addr_conversion),
	NTM_TEST(test_classify_ctrl),
	NTM_TEST(test_wire_ctrl_round_trip),
	NTM_TEST(test_session_both_ways),
	NTM_TEST(test_session_replayed_initiation),
	NTM_TEST(test_session_rekey_and_expiry),
	NTM_TEST(test_session_cookie),
	NTM_TEST(test_profiles_separate),
};

int main(void)
{
	if (ntm_crypto_init() < 0) {
		return 99;
	}
	return ntm_test_run("ctrl", cases, sizeof(cases) / sizeof(cases[0]));
}
