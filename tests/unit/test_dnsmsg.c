/* SPDX-License-Identifier: MIT */
/*
 * The node stub's messages (endnode/dnsmsg.h): which queries are overlay
 * queries, the answers the stub makes itself, the VIP answers, truncation.
 * Queries are built and answers parsed with ldns.
 */
#include "endnode/dnsmsg.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "ntm_test.h"

static const char *const domains[] = { "example.net", "other.example" };

/* A query for (name, type) into buf; returns its length. */
static size_t query(uint8_t *buf, size_t cap, const char *name, ldns_rr_type type, uint16_t edns,
		    ldns_rr_class cls)
{
	ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type, cls, LDNS_RD);
	uint8_t *wire = NULL;
	size_t len = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	ldns_pkt_set_id(q, 0xbeef);
	if (edns > 0) {
		ldns_pkt_set_edns_udp_size(q, edns);
	}
	CU_ASSERT_EQUAL_FATAL(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
	CU_ASSERT_FATAL(len <= cap);
	memcpy(buf, wire, len);
	free(wire);
	ldns_pkt_free(q);
	return len;
}

static enum en_dnsmsg_kind kind_of(const char *name, ldns_rr_type type, ldns_rr_class cls,
				   struct en_dnsmsg_query *cq)
{
	uint8_t q[512], ans[512];
	size_t len = query(q, sizeof(q), name, type, 0, cls), alen;

	CU_ASSERT_EQUAL_FATAL(en_dnsmsg_classify(q, len, domains, 2, cq, ans, sizeof(ans), &alen),
			      0);
	return cq->kind;
}

static void test_classify(void)
{
	struct en_dnsmsg_query cq;

	CU_ASSERT_EQUAL(kind_of("B.Example.NET.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, &cq),
			EN_DNSMSG_OVERLAY);
	CU_ASSERT_STRING_EQUAL(cq.name, "b.example.net");
	CU_ASSERT_EQUAL(cq.qtype, LDNS_RR_TYPE_A);
	CU_ASSERT_EQUAL(kind_of("x.y.other.example.", LDNS_RR_TYPE_AAAA, LDNS_RR_CLASS_IN, &cq),
			EN_DNSMSG_OVERLAY);
	CU_ASSERT_EQUAL(kind_of("b.example.net.", LDNS_RR_TYPE_ANY, LDNS_RR_CLASS_IN, &cq),
			EN_DNSMSG_OVERLAY);
	/* other types of an overlay name: answered at once, without records */
	CU_ASSERT_EQUAL(kind_of("b.example.net.", LDNS_RR_TYPE_MX, LDNS_RR_CLASS_IN, &cq),
			EN_DNSMSG_ANSWER);
	/* the domain itself, service names, other domains, other classes: upstream */
	CU_ASSERT_EQUAL(kind_of("example.net.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, &cq),
			EN_DNSMSG_FORWARD);
	CU_ASSERT_EQUAL(kind_of("_ntm._udp.example.net.", LDNS_RR_TYPE_SRV, LDNS_RR_CLASS_IN, &cq),
			EN_DNSMSG_FORWARD);
	CU_ASSERT_EQUAL(kind_of("www.other.test.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, &cq),
			EN_DNSMSG_FORWARD);
	CU_ASSERT_EQUAL(kind_of("bexample.net.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, &cq),
			EN_DNSMSG_FORWARD);
	CU_ASSERT_EQUAL(kind_of("b.example.net.", LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_CH, &cq),
			EN_DNSMSG_FORWARD);
	CU_ASSERT_TRUE(en_dnsmsg_is_under("a.b", "b"));
	CU_ASSERT_FALSE(en_dnsmsg_is_under("b", "b"));
	CU_ASSERT_FALSE(en_dnsmsg_is_under("ab", "b"));
	CU_ASSERT_FALSE(en_dnsmsg_is_under("a.b", ""));
}

static void test_own_answers(void)
{
	static const uint8_t response[12] = { 1, 2, 0x80, 0, 0, 1 };
	static const uint8_t bad[13] = { 1, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x3f };
	struct en_dnsmsg_query cq;
	uint8_t q[512], ans[512];
	ldns_pkt *p = NULL;
	size_t len, alen;

	CU_ASSERT_EQUAL(en_dnsmsg_classify(response, sizeof(response), domains, 2, &cq, ans,
					   sizeof(ans), &alen),
			0);
	CU_ASSERT_EQUAL(cq.kind, EN_DNSMSG_DROP);
	CU_ASSERT_EQUAL(en_dnsmsg_classify(bad, 11, domains, 2, &cq, ans, sizeof(ans), &alen), 0);
	CU_ASSERT_EQUAL(cq.kind, EN_DNSMSG_DROP);
	CU_ASSERT_EQUAL(
		en_dnsmsg_classify(bad, sizeof(bad), domains, 2, &cq, ans, sizeof(ans), &alen), 0);
	CU_ASSERT_EQUAL(cq.kind, EN_DNSMSG_ANSWER);
	CU_ASSERT_EQUAL(alen, 12);
	CU_ASSERT_EQUAL(ans[3] & 0xf, LDNS_RCODE_FORMERR);
	len = query(q, sizeof(q), "b.example.net.", LDNS_RR_TYPE_MX, 0, LDNS_RR_CLASS_IN);
	CU_ASSERT_EQUAL(en_dnsmsg_classify(q, len, domains, 2, &cq, ans, sizeof(ans), &alen), 0);
	CU_ASSERT_EQUAL_FATAL(ldns_wire2pkt(&p, ans, alen), LDNS_STATUS_OK);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CU_ASSERT_EQUAL(ldns_pkt_ancount(p), 0);
	CU_ASSERT_EQUAL(ldns_pkt_id(p), 0xbeef);
	CU_ASSERT_TRUE(ldns_pkt_ra(p));
	ldns_pkt_free(p);
	q[2] = (uint8_t)(q[2] | 5 << 3); /* opcode UPDATE */
	CU_ASSERT_EQUAL(en_dnsmsg_classify(q, len, domains, 2, &cq, ans, sizeof(ans), &alen), 0);
	CU_ASSERT_EQUAL(cq.kind, EN_DNSMSG_ANSWER);
	CU_ASSERT_EQUAL(ans[3] & 0xf, LDNS_RCODE_NOTIMPL);
}

static void test_vip_answers(void)
{
	uint8_t q[512], ans[512], v4[4], v6[16];
	char *text;
	ldns_pkt *p = NULL;
	size_t len, alen;

	CU_ASSERT_EQUAL(inet_pton(AF_INET, "100.80.0.3", v4), 1);
	CU_ASSERT_EQUAL(inet_pton(AF_INET6, "fd80:1::3", v6), 1);
	len = query(q, sizeof(q), "b.example.net.", LDNS_RR_TYPE_ANY, 0, LDNS_RR_CLASS_IN);
	CU_ASSERT_EQUAL_FATAL(en_dnsmsg_answer(q, len, 0, v4, v6, ans, sizeof(ans), &alen), 0);
	CU_ASSERT_EQUAL_FATAL(ldns_wire2pkt(&p, ans, alen), LDNS_STATUS_OK);
	CU_ASSERT_EQUAL_FATAL(ldns_pkt_ancount(p), 2);
	text = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(p), 0));
	CU_ASSERT_STRING_EQUAL(text, "b.example.net.\t60\tIN\tA\t100.80.0.3\n");
	free(text);
	text = ldns_rr2str(ldns_rr_list_rr(ldns_pkt_answer(p), 1));
	CU_ASSERT_STRING_EQUAL(text, "b.example.net.\t60\tIN\tAAAA\tfd80:1::3\n");
	free(text);
	ldns_pkt_free(p);
	len = query(q, sizeof(q), "b.example.net.", LDNS_RR_TYPE_AAAA, 1232, LDNS_RR_CLASS_IN);
	CU_ASSERT_EQUAL_FATAL(en_dnsmsg_answer(q, len, 0, v4, v6, ans, sizeof(ans), &alen), 0);
	CU_ASSERT_EQUAL_FATAL(ldns_wire2pkt(&p, ans, alen), LDNS_STATUS_OK);
	CU_ASSERT_EQUAL(ldns_pkt_ancount(p), 1);
	CU_ASSERT_TRUE(ldns_pkt_edns(p));
	ldns_pkt_free(p);
	CU_ASSERT_EQUAL(en_dnsmsg_udp_limit(q, len), 1232);
	CU_ASSERT_EQUAL_FATAL(
		en_dnsmsg_answer(q, len, LDNS_RCODE_NXDOMAIN, NULL, NULL, ans, sizeof(ans), &alen),
		0);
	CU_ASSERT_EQUAL_FATAL(ldns_wire2pkt(&p, ans, alen), LDNS_STATUS_OK);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	CU_ASSERT_EQUAL(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
	CU_ASSERT_EQUAL_FATAL(en_dnsmsg_truncated(q, len, 0, ans, sizeof(ans), &alen), 0);
	CU_ASSERT_EQUAL_FATAL(ldns_wire2pkt(&p, ans, alen), LDNS_STATUS_OK);
	CU_ASSERT_TRUE(ldns_pkt_tc(p));
	CU_ASSERT_EQUAL(ldns_pkt_qdcount(p), 1);
	ldns_pkt_free(p);
	len = query(q, sizeof(q), "b.example.net.", LDNS_RR_TYPE_A, 0, LDNS_RR_CLASS_IN);
	CU_ASSERT_EQUAL(en_dnsmsg_udp_limit(q, len), 512);
	CU_ASSERT_EQUAL(en_dnsmsg_answer(q, 5, 0, v4, v6, ans, sizeof(ans), &alen), -EBADMSG);
	CU_ASSERT_EQUAL(en_dnsmsg_answer(q, len, 0, v4, v6, ans, 12, &alen), -EMSGSIZE);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_classify),
	NTM_TEST(test_own_answers),
	NTM_TEST(test_vip_answers),
};

NTM_TEST_MAIN("dnsmsg", cases)
