/* SPDX-License-Identifier: MIT */
/*
 * The DC's zone (dc/dnszone.h) as a pure function: queries built with ldns,
 * answers parsed with ldns and checked record by record. A fake lookup
 * stands in for the store: b.example.net is published, a.example.net is
 * enrolled but not (the zone must not tell it from a name nobody has).
 */
#include "dc/dnszone.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ntm_test.h"

static const char pubkey_b64[] = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=";

struct fake {
	bool fail;
	int calls;
};

static int fake_lookup(void *ctx, const char *fqdn, uint8_t vip4[4], uint8_t vip6[16])
{
	struct fake *f = ctx;

	f->calls++;
	if (f->fail) {
		return -EIO;
	}
	if (strcmp(fqdn, "b.example.net") == 0) {
		CU_ASSERT_EQUAL(inet_pton(AF_INET, "100.80.0.3", vip4), 1);
		CU_ASSERT_EQUAL(inet_pton(AF_INET6, "fd80:1::3", vip6), 1);
		return DC_DNSZONE_NODE;
	}
	if (strcmp(fqdn, "sub.example.net") == 0) {
		return DC_DNSZONE_ENT; /* c.sub.example.net would be published */
	}
	return DC_DNSZONE_NONE; /* a.example.net is enrolled, unpublished: the same */
}

struct zfx {
	struct dc_config cfg;
	struct ntm_key key;
	struct fake fake;
	struct dc_dnszone *z;
	uint8_t out[DC_DNSZONE_MSG_MAX];
	struct dc_dnszone_result res;
};

static void add(struct dc_addr_list *l, const char *text)
{
	CU_ASSERT_EQUAL_FATAL(ntm_addr_parse(text, 0, &l->addrs[l->n++], NULL, 0), 0);
}

static void zfx_init(struct zfx *f, int extra_ports)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->cfg.domain, sizeof(f->cfg.domain), "example.net");
	CU_ASSERT_EQUAL_FATAL(ntm_key_from_base64(&f->key, pubkey_b64, strlen(pubkey_b64)), 0);
	add(&f->cfg.listen, "198.51.100.1:7000");
	add(&f->cfg.listen, "[2001:db8::1]:7000");
	add(&f->cfg.listen, "0.0.0.0:7002"); /* unspecified: never published */
	for (int i = 0; i < extra_ports; i++) {
		char text[64];

		snprintf(text, sizeof(text), "[2001:db8:ffff::%d]:%d", i + 10, 8000 + i);
		add(&f->cfg.listen, text);
	}
	add(&f->cfg.dns_listen, "198.51.100.1:53");
	add(&f->cfg.dns_listen, "[2001:db8::1]:53");
	CU_ASSERT_EQUAL_FATAL(
		dc_dnszone_create(&(struct dc_dnszone_config){ .domain = "example.net",
							       .pubkey = &f->key,
							       .ctrl_listen = &f->cfg.listen,
							       .dns_listen = &f->cfg.dns_listen,
							       .serial = 2026120301,
							       .lookup = fake_lookup,
							       .ctx = &f->fake },
				  &f->z),
		0);
}

/* Asks (name, type) with optional EDNS and parses the answer; NULL when nothing came back. */
static ldns_pkt *ask(struct zfx *f, const char *name, ldns_rr_type type, uint16_t edns, bool udp)
{
	ldns_rdf *qname = ldns_dname_new_frm_str(name);
	ldns_pkt *q = ldns_pkt_query_new(qname, type, LDNS_RR_CLASS_IN, LDNS_RD);
	ldns_pkt *a = NULL;
	uint8_t *wire = NULL;
	size_t len = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	ldns_pkt_set_id(q, 0x1234);
	if (edns > 0) {
		ldns_pkt_set_edns_udp_size(q, edns);
	}
	CU_ASSERT_EQUAL_FATAL(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
	ldns_pkt_free(q);
	if (dc_dnszone_answer(f->z, wire, len, udp, f->out, sizeof(f->out), &f->res) == 0) {
		CU_ASSERT_EQUAL(ldns_wire2pkt(&a, f->out, f->res.len), LDNS_STATUS_OK);
		CU_ASSERT_EQUAL(ldns_pkt_id(a), 0x1234);
		CU_ASSERT_TRUE(ldns_pkt_qr(a));
	}
	free(wire);
	return a;
}

/* The presentation form of record `i` of `section`, without the trailing newline. */
static void rr_text(const ldns_pkt *p, ldns_pkt_section sec, size_t i, char *out, size_t cap)
{
	const ldns_rr_list *l = sec == LDNS_SECTION_ANSWER	? ldns_pkt_answer(p)
				: sec == LDNS_SECTION_AUTHORITY ? ldns_pkt_authority(p)
								: ldns_pkt_additional(p);
	char *s;
	size_t n;

	CU_ASSERT_FATAL(i < ldns_rr_list_rr_count(l));
	s = ldns_rr2str(ldns_rr_list_rr(l, i));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n')) {
		s[--n] = '\0';
	}
	snprintf(out, cap, "%s", s);
	free(s);
}

static void expect_soa_authority(const ldns_pkt *p)
{
	char t[256];

	CU_ASSERT_EQUAL_FATAL(ldns_pkt_nscount(p), 1);
	rr_text(p, LDNS_SECTION_AUTHORITY, 0, t, sizeof(t));
	CU_ASSERT_STRING_EQUAL(t, "example.net.\t3600\tIN\tSOA\tns.example.net. "
				  "hostmaster.example.net. 2026120301 3600 600 604800 60");
}

static void test_apex(void)
{
	struct zfx f;
	ldns_pkt *p;
	char t[256];

	zfx_init(&f, 0);
	p = ask(&f, "EXAMPLE.net.", LDNS_RR_TYPE_SOA, 0, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CU_ASSERT_TRUE(ldns_pkt_aa(p));
	CU_ASSERT_TRUE(ldns_pkt_rd(p));
	CU_ASSERT_FALSE(ldns_pkt_ra(p));
	CU_ASSERT_EQUAL_FATAL(ldns_pkt_ancount(p), 1);
	rr_text(p, LDNS_SECTION_ANSWER, 0, t, sizeof(t));
	/* names compress against the question, so its case comes back (RFC 4343) */
	CU_ASSERT_EQUAL(strcasecmp(t, "example.net.\t3600\tIN\tSOA\tns.example.net. "
				      "hostmaster.example.net. 2026120301 3600 600 604800 60"),
			0);
	ldns_pkt_free(p);
	dc_dnszone_set_serial(f.z, 2026120302);
	p = ask(&f, "example.net.", LDNS_RR_TYPE_NS, 0, true);
	CU_ASSERT_EQUAL_FATAL(ldns_pkt_ancount(p), 1);
	rr_text(p, LDNS_SECTION_ANSWER, 0, t, sizeof(t));
	CU_ASSERT_STRING_EQUAL(t, "example.net.\t3600\tIN\tNS\tns.example.net.");
	CU_ASSERT_EQUAL_FATAL(ldns_pkt_arcount(p), 2);
	rr_text(p, LDNS_SECTION_ADDITIONAL, 0, t, sizeof(t));
	CU_ASSERT_STRING_EQUAL(t, "ns.example.net.\t3600\tIN\tA\t198.51.100.1");
	rr_text(p, LDNS_SECTION_ADDITIONAL, 1, t, sizeof(t));
	CU_ASSERT_STRING_EQUAL(t, "ns.example.net.\t3600\tIN\tAAAA\t2001:db8::1");
	ldns_pkt_free(p);
	p = ask(&f, "example.net.", LDNS_RR_TYPE_SOA, 0, true);
	rr_text(p, LDNS_SECTION_ANSWER, 0, t, sizeof(t));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, " 2026120302 "));
	ldns_pkt_free(p);
	dc_dnszone_destroy(f.z);
}

static void test_srv_and_key(void)
{
	struct zfx f;
	ldns_pkt *p;
	char t[256], want[256];

	zfx_init(&f, 0);
	p = ask(&f, "_ntm._udp.example.net.", LDNS_RR_TYPE_SRV, 1232, true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_TRUE(ldns_pkt_aa(p));
	CU_ASSERT_TRUE(ldns_pkt_edns(p));
	CU_ASSERT_EQUAL_FATAL(ldns_pkt_ancount(p), 1);
	rr_text(p, LDNS_SECTION_ANSWER, 0, t, sizeof(t));
	CU_ASSERT_STRING_EQUAL(t,
			       "_ntm._udp.example.net.\t3600\tIN\tSRV\t0 0 7000 dc.example.net.");
	CU_ASSERT_EQUAL_FATAL(ldns_pkt_arcount(p), 2);
	rr_text(p, LDNS_SECTION_ADDITIONAL, 0, t, sizeof(t));
	CU_ASSERT_STRING_EQUAL(t, "dc.example.net.\t3600\tIN\tA\t198.51.100.1");
	rr_text(p, LDNS_SECTION_ADDITIONAL, 1, t, sizeof(t));
	CU_ASSERT_STRING_EQUAL(t, "dc.example.net.\t3600\tIN\tAAAA\t2001:db8::1");
	ldns_pkt_free(p);
	p = ask(&f, "_ntm-key.example.net.", LDNS_RR_TYPE_TXT, 0, true);
	CU_ASSERT_EQUAL_FATAL(ldns_pkt_ancount(p), 1);
	rr_text(p, LDNS_SECTION_ANSWER, 0, t, sizeof(t));
	snprintf(want, sizeof(want), "_ntm-key.example.net.\t3600\tIN\tTXT\t\"v=ntm1; k=%s\"",
		 pubkey_b64);
	CU_ASSERT_STRING_EQUAL(t, want);
	ldns_pkt_free(p);
	/* The target's addresses answer on their own too; AAAA of ns only its own. */
	p = ask(&f, "dc.example.net.", LDNS_RR_TYPE_A, 0, true);
	CU_ASSERT_EQUAL(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
	dc_dnszone_destroy(f.z);
}

/* Negative answers: NXDOMAIN and NODATA, each with the SOA; no lookup for zone names. */
static void test_negative(void)
{
	struct zfx f;
	ldns_pkt *p;

	zfx_init(&f, 0);
	p = ask(&f, "nobody.example.net.", LDNS_RR_TYPE_A, 0, true);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	CU_ASSERT_TRUE(ldns_pkt_aa(p));
	CU_ASSERT_EQUAL(ldns_pkt_ancount(p), 0);
	expect_soa_authority(p);
	ldns_pkt_free(p);
	/* An empty non-terminal of the zone's own names. */
	p = ask(&f, "_udp.example.net.", LDNS_RR_TYPE_A, 0, true);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CU_ASSERT_EQUAL(ldns_pkt_ancount(p), 0);
	expect_soa_authority(p);
	ldns_pkt_free(p);
	/* ... and one of published nodes (the store says so). */
	p = ask(&f, "sub.example.net.", LDNS_RR_TYPE_A, 0, true);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	expect_soa_authority(p);
	ldns_pkt_free(p);
	/* An existing name without the type. */
	p = ask(&f, "_ntm-key.example.net.", LDNS_RR_TYPE_A, 0, true);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CU_ASSERT_EQUAL(ldns_pkt_ancount(p), 0);
	expect_soa_authority(p);
	ldns_pkt_free(p);
	/* Not a host name: never a node, never looked up. */
	f.fake.calls = 0;
	p = ask(&f, "_x.example.net.", LDNS_RR_TYPE_A, 0, true);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	CU_ASSERT_EQUAL(f.fake.calls, 0);
	ldns_pkt_free(p);
	dc_dnszone_destroy(f.z);
}

/* The privacy rule: an unpublished node's answer is byte for byte a stranger's. */
static void test_unpublished_reveals_nothing(void)
{
	struct zfx f;
	uint8_t first[DC_DNSZONE_MSG_MAX];
	size_t first_len;
	ldns_pkt *p;
	char t[256];

	zfx_init(&f, 0);
	p = ask(&f, "a.example.net.", LDNS_RR_TYPE_A, 0, true);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
	memcpy(first, f.out, f.res.len);
	first_len = f.res.len;
	p = ask(&f, "z.example.net.", LDNS_RR_TYPE_A, 0, true);
	ldns_pkt_free(p);
	CU_ASSERT_EQUAL_FATAL(first_len, f.res.len);
	/* the question name differs in one letter at offset 12 + 1 */
	CU_ASSERT_EQUAL(first[13], 'a');
	first[13] = 'z';
	CU_ASSERT_EQUAL(memcmp(first, f.out, first_len), 0);
	/* A published node answers A and AAAA with its VIPs; other types NODATA. */
	p = ask(&f, "B.example.net.", LDNS_RR_TYPE_A, 0, true);
	CU_ASSERT_EQUAL_FATAL(ldns_pkt_ancount(p), 1);
	rr_text(p, LDNS_SECTION_ANSWER, 0, t, sizeof(t));
	CU_ASSERT_EQUAL(strcasecmp(t, "b.example.net.\t60\tIN\tA\t100.80.0.3"), 0);
	ldns_pkt_free(p);
	p = ask(&f, "b.example.net.", LDNS_RR_TYPE_AAAA, 0, true);
	CU_ASSERT_EQUAL_FATAL(ldns_pkt_ancount(p), 1);
	rr_text(p, LDNS_SECTION_ANSWER, 0, t, sizeof(t));
	CU_ASSERT_STRING_EQUAL(t, "b.example.net.\t60\tIN\tAAAA\tfd80:1::3");
	ldns_pkt_free(p);
	p = ask(&f, "b.example.net.", LDNS_RR_TYPE_MX, 0, true);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CU_ASSERT_EQUAL(ldns_pkt_ancount(p), 0);
	expect_soa_authority(p);
	ldns_pkt_free(p);
	f.fake.fail = true;
	p = ask(&f, "b.example.net.", LDNS_RR_TYPE_A, 0, true);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	ldns_pkt_free(p);
	dc_dnszone_destroy(f.z);
}

static void test_refused_and_malformed(void)
{
	static const uint8_t response[12] = { 0x12, 0x34, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t garbage[14] = {
		0xab, 0xcd, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x3f, 'x'
	};
	struct zfx f;
	ldns_pkt *p;

	zfx_init(&f, 0);
	p = ask(&f, "www.other.test.", LDNS_RR_TYPE_A, 0, true);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	CU_ASSERT_FALSE(ldns_pkt_aa(p));
	CU_ASSERT_EQUAL(ldns_pkt_ancount(p) + ldns_pkt_nscount(p), 0);
	ldns_pkt_free(p);
	p = ask(&f, "net.", LDNS_RR_TYPE_A, 0, true); /* the parent is outside too */
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
	p = ask(&f, "example.net.", LDNS_RR_TYPE_AXFR, 0, false);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
	CU_ASSERT_EQUAL(dc_dnszone_answer(f.z, response, sizeof(response), true, f.out,
					  sizeof(f.out), &f.res),
			-EBADMSG);
	CU_ASSERT_EQUAL(dc_dnszone_answer(f.z, garbage, 11, true, f.out, sizeof(f.out), &f.res),
			-EBADMSG);
	CU_ASSERT_EQUAL_FATAL(dc_dnszone_answer(f.z, garbage, sizeof(garbage), true, f.out,
						sizeof(f.out), &f.res),
			      0);
	CU_ASSERT_EQUAL(f.res.rcode, LDNS_RCODE_FORMERR);
	CU_ASSERT_EQUAL(f.res.len, 12);
	CU_ASSERT_EQUAL(f.out[0], 0xab);
	CU_ASSERT_EQUAL(f.out[2] & 0x80, 0x80);
	CU_ASSERT_EQUAL(f.out[3] & 0xf, LDNS_RCODE_FORMERR);
	CU_ASSERT_EQUAL(dc_dnszone_answer(f.z, garbage, sizeof(garbage), true, f.out, 11, &f.res),
			-EMSGSIZE);
	dc_dnszone_destroy(f.z);
}

/* Opcodes other than QUERY and EDNS versions other than 0. */
static void test_opcode_and_edns_version(void)
{
	struct zfx f;
	ldns_rdf *qname = ldns_dname_new_frm_str("example.net.");
	ldns_pkt *q = ldns_pkt_query_new(qname, LDNS_RR_TYPE_SOA, LDNS_RR_CLASS_IN, 0), *a = NULL;
	uint8_t *wire = NULL;
	size_t len = 0;

	zfx_init(&f, 0);
	ldns_pkt_set_opcode(q, LDNS_PACKET_STATUS);
	CU_ASSERT_EQUAL_FATAL(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
	CU_ASSERT_EQUAL_FATAL(dc_dnszone_answer(f.z, wire, len, true, f.out, sizeof(f.out), &f.res),
			      0);
	CU_ASSERT_EQUAL(f.res.rcode, LDNS_RCODE_NOTIMPL);
	free(wire);
	ldns_pkt_set_opcode(q, LDNS_PACKET_QUERY);
	ldns_pkt_set_edns_udp_size(q, 4096);
	ldns_pkt_set_edns_version(q, 1);
	CU_ASSERT_EQUAL_FATAL(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
	CU_ASSERT_EQUAL_FATAL(dc_dnszone_answer(f.z, wire, len, true, f.out, sizeof(f.out), &f.res),
			      0);
	CU_ASSERT_EQUAL(f.res.rcode, 16);
	CU_ASSERT_EQUAL(ldns_wire2pkt(&a, f.out, f.res.len), LDNS_STATUS_OK);
	CU_ASSERT_EQUAL(ldns_pkt_edns_extended_rcode(a), 1);
	CU_ASSERT_EQUAL(ldns_pkt_ancount(a), 0);
	free(wire);
	ldns_pkt_free(a);
	ldns_pkt_free(q);
	dc_dnszone_destroy(f.z);
}

/* Many Listen ports: one SRV per port; too big for 512 bytes of UDP, whole over TCP. */
static void test_truncation(void)
{
	struct zfx f;
	ldns_pkt *p;
	char t[256];

	zfx_init(&f, 12);
	p = ask(&f, "_ntm._udp.example.net.", LDNS_RR_TYPE_SRV, 0, true);
	CU_ASSERT_TRUE(ldns_pkt_tc(p));
	CU_ASSERT_TRUE(f.res.truncated);
	CU_ASSERT_TRUE(f.res.len <= 512);
	CU_ASSERT_EQUAL(ldns_pkt_qdcount(p), 1);
	CU_ASSERT_EQUAL(ldns_pkt_ancount(p) + ldns_pkt_nscount(p) + ldns_pkt_arcount(p), 0);
	ldns_pkt_free(p);
	p = ask(&f, "_ntm._udp.example.net.", LDNS_RR_TYPE_SRV, 0, false);
	CU_ASSERT_FALSE(ldns_pkt_tc(p));
	CU_ASSERT_TRUE(f.res.len > 512);
	CU_ASSERT_EQUAL_FATAL(ldns_pkt_ancount(p), 13);
	rr_text(p, LDNS_SECTION_ANSWER, 12, t, sizeof(t));
	CU_ASSERT_STRING_EQUAL(
		t, "_ntm._udp.example.net.\t3600\tIN\tSRV\t0 0 8011 dc-13.example.net.");
	CU_ASSERT_EQUAL(ldns_pkt_arcount(p), 14); /* dc: A + AAAA, dc-2..dc-13: one AAAA each */
	ldns_pkt_free(p);
	/* EDNS lets a larger UDP answer through. */
	p = ask(&f, "_ntm._udp.example.net.", LDNS_RR_TYPE_SRV, 4096, true);
	CU_ASSERT_FALSE(ldns_pkt_tc(p));
	CU_ASSERT_EQUAL(ldns_pkt_ancount(p), 13);
	ldns_pkt_free(p);
	dc_dnszone_destroy(f.z);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_apex),
	NTM_TEST(test_srv_and_key),
	NTM_TEST(test_negative),
	NTM_TEST(test_unpublished_reveals_nothing),
	NTM_TEST(test_refused_and_malformed),
	NTM_TEST(test_opcode_and_edns_version),
	NTM_TEST(test_truncation),
};

NTM_TEST_MAIN("dc_dnszone", cases)
