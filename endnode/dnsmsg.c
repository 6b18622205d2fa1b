/* SPDX-License-Identifier: MIT */
/*
 * The stub's own answers (dnsmsg.h): RFC 1035 4.1 messages through ldns.
 * RA is set: to its clients the stub is a recursive service.
 */
#include "dnsmsg.h"

#include <ctype.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/dnsrr.h"

enum { HEADER_LEN = 12, QR_BIT = 0x80 };

bool en_dnsmsg_is_under(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	return d > 0 && n > d + 1 && name[n - d - 1] == '.' && strcmp(name + n - d, domain) == 0;
}

/* A lower-case host name of `rdf` into out, or false (escapes, underscores, the root). */
static bool host_name(const ldns_rdf *rdf, char out[EN_DNSMSG_NAME_SIZE])
{
	char *text = ldns_rdf2str(rdf);
	size_t n = text != NULL ? strlen(text) : 0;
	bool ok = n > 1 && n <= EN_DNSMSG_NAME_SIZE;

	if (ok && text[n - 1] == '.') {
		text[--n] = '\0';
	}
	for (size_t i = 0; ok && i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		ok = isalnum(c) || c == '-' || (c == '.' && i > 0 && text[i - 1] != '.');
		out[i] = (char)tolower(c);
	}
	if (ok) {
		out[n] = '\0';
	}
	free(text);
	return ok;
}

static ldns_pkt *reply_to(const ldns_pkt *q)
{
	ldns_pkt *p = ldns_pkt_new();
	const ldns_rr_list *qs = ldns_pkt_question(q);

	if (p == NULL) {
		return NULL;
	}
	ldns_pkt_set_id(p, ldns_pkt_id(q));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_opcode(p, ldns_pkt_get_opcode(q));
	ldns_pkt_set_rd(p, ldns_pkt_rd(q));
	ldns_pkt_set_ra(p, true);
	if (ldns_pkt_edns(q)) {
		ldns_pkt_set_edns_udp_size(p, EN_DNSMSG_UDP_MAX);
	}
	for (size_t i = 0; qs != NULL && i < ldns_rr_list_rr_count(qs) && i < 1; i++) {
		ldns_rr *c = ldns_rr_clone(ldns_rr_list_rr(qs, i));

		if (c == NULL || !ldns_pkt_push_rr(p, LDNS_SECTION_QUESTION, c)) {
			ldns_rr_free(c);
			ldns_pkt_free(p);
			return NULL;
		}
	}
	return p;
}

/* An answer without records: `rcode` for the query `q`. */
static int answer_empty(const ldns_pkt *q, int rcode, uint8_t *out, size_t cap, size_t *len)
{
	ldns_pkt *p = reply_to(q);
	int rc;

	if (p == NULL) {
		return -ENOMEM;
	}
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	rc = ntm_dnsrr_emit(p, out, cap, len);
	ldns_pkt_free(p);
	return rc;
}

static int formerr(const uint8_t *q, uint8_t *out, size_t cap, size_t *len)
{
	if (cap < HEADER_LEN) {
		return -EMSGSIZE;
	}
	memset(out, 0, HEADER_LEN);
	out[0] = q[0];
	out[1] = q[1];
	out[2] = (uint8_t)(QR_BIT | (q[2] & 0x79));
	out[3] = 0x80 | LDNS_RCODE_FORMERR; /* RA */
	*len = HEADER_LEN;
	return 0;
}

/* Which overlay domain, if any, the question is under; fills out. */
static bool is_overlay(const ldns_rr *qrr, const char *const *domains, size_t n,
		       struct en_dnsmsg_query *out)
{
	ldns_rr_class cls = ldns_rr_get_class(qrr);

	if ((cls != LDNS_RR_CLASS_IN && cls != LDNS_RR_CLASS_ANY) ||
	    !host_name(ldns_rr_owner(qrr), out->name)) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (en_dnsmsg_is_under(out->name, domains[i])) {
			out->qtype = (uint16_t)ldns_rr_get_type(qrr);
			return true;
		}
	}
	return false;
}

int en_dnsmsg_classify(const uint8_t *q, size_t len, const char *const *domains, size_t n,
		       struct en_dnsmsg_query *out, uint8_t *ans, size_t cap, size_t *ans_len)
{
	ldns_pkt *qp = NULL;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	*ans_len = 0;
	if (q == NULL || len < HEADER_LEN || len > EN_DNSMSG_MSG_MAX || (q[2] & QR_BIT) != 0) {
		out->kind = EN_DNSMSG_DROP;
		return 0;
	}
	out->kind = EN_DNSMSG_ANSWER;
	if (ldns_wire2pkt(&qp, q, len) != LDNS_STATUS_OK || qp == NULL) {
		return formerr(q, ans, cap, ans_len);
	}
	if (ldns_pkt_get_opcode(qp) != LDNS_PACKET_QUERY) {
		rc = answer_empty(qp, LDNS_RCODE_NOTIMPL, ans, cap, ans_len);
	} else if (ldns_pkt_qdcount(qp) != 1 || ldns_rr_list_rr_count(ldns_pkt_question(qp)) != 1) {
		rc = answer_empty(qp, LDNS_RCODE_FORMERR, ans, cap, ans_len);
	} else if (!is_overlay(ldns_rr_list_rr(ldns_pkt_question(qp), 0), domains, n, out)) {
		memset(out, 0, sizeof(*out));
		out->kind = EN_DNSMSG_FORWARD;
	} else if (out->qtype == LDNS_RR_TYPE_A || out->qtype == LDNS_RR_TYPE_AAAA ||
		   out->qtype == LDNS_RR_TYPE_ANY) {
		out->kind = EN_DNSMSG_OVERLAY;
	} else {
		rc = answer_empty(qp, LDNS_RCODE_NOERROR, ans, cap, ans_len);
	}
	ldns_pkt_free(qp);
	return rc;
}

static bool push_addr(ldns_pkt *p, const ldns_rdf *owner, bool v6, const uint8_t *vip)
{
	return ntm_dnsrr_push_addr(p, ldns_rdf_clone(owner), v6, vip, EN_DNSMSG_TTL);
}

int en_dnsmsg_answer(const uint8_t *q, size_t len, int rcode, const uint8_t *vip4,
		     const uint8_t *vip6, uint8_t *out, size_t cap, size_t *out_len)
{
	ldns_pkt *qp = NULL, *p;
	const ldns_rr *qrr;
	ldns_rr_type t;
	bool ok = true;
	int rc;

	*out_len = 0;
	if (q == NULL || len < HEADER_LEN || ldns_wire2pkt(&qp, q, len) != LDNS_STATUS_OK) {
		return -EBADMSG;
	}
	if (ldns_rr_list_rr_count(ldns_pkt_question(qp)) != 1 || (p = reply_to(qp)) == NULL) {
		ldns_pkt_free(qp);
		return -EBADMSG;
	}
	qrr = ldns_rr_list_rr(ldns_pkt_question(qp), 0);
	t = ldns_rr_get_type(qrr);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	if (rcode == LDNS_RCODE_NOERROR && vip4 != NULL &&
	    (t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_ANY)) {
		ok = push_addr(p, ldns_rr_owner(qrr), false, vip4);
	}
	if (ok && rcode == LDNS_RCODE_NOERROR && vip6 != NULL &&
	    (t == LDNS_RR_TYPE_AAAA || t == LDNS_RR_TYPE_ANY)) {
		ok = push_addr(p, ldns_rr_owner(qrr), true, vip6);
	}
	rc = ok ? ntm_dnsrr_emit(p, out, cap, out_len) : -ENOMEM;
	ldns_pkt_free(p);
	ldns_pkt_free(qp);
	return rc;
}

size_t en_dnsmsg_udp_limit(const uint8_t *q, size_t len)
{
	ldns_pkt *qp = NULL;
	size_t n = 512;

	if (ldns_wire2pkt(&qp, q, len) == LDNS_STATUS_OK && ldns_pkt_edns(qp) &&
	    ldns_pkt_edns_udp_size(qp) > n) {
		n = ldns_pkt_edns_udp_size(qp);
	}
	ldns_pkt_free(qp);
	return n > EN_DNSMSG_UDP_MAX ? EN_DNSMSG_UDP_MAX : n;
}

int en_dnsmsg_truncated(const uint8_t *q, size_t len, int rcode, uint8_t *out, size_t cap,
			size_t *out_len)
{
	ldns_pkt *qp = NULL, *p;
	int rc;

	*out_len = 0;
	if (ldns_wire2pkt(&qp, q, len) != LDNS_STATUS_OK || (p = reply_to(qp)) == NULL) {
		ldns_pkt_free(qp);
		return -EBADMSG;
	}
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	ldns_pkt_set_tc(p, true);
	rc = ntm_dnsrr_emit(p, out, cap, out_len);
	ldns_pkt_free(p);
	ldns_pkt_free(qp);
	return rc;
}
