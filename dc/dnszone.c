/* SPDX-License-Identifier: MIT */
/*
 * The zone's records and the answer to one query (dnszone.h). Messages are
 * parsed and built with ldns (RFC 1035 4.1, EDNS0 RFC 6891); negative
 * answers follow RFC 2308 (SOA in the authority section), truncation
 * RFC 1035 4.2.1 and RFC 6891 6.2.5.
 */
#include "dnszone.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/dnsrr.h"
#include "dc/fqdn.h"

enum {
	HEADER_LEN = 12,
	QR_BIT = 0x80, /* in header byte 2 */
	RECORD_TEXT_MAX = 640,
	SRV_TARGETS_MAX = DC_CONFIG_ADDRS_MAX,
	BADVERS_HIGH = 1, /* RFC 6891 6.1.3: extended rcode 16 = high bits 1, low 0 */
};

struct dc_dnszone {
	char domain[DC_FQDN_SIZE];
	ldns_rdf *apex;
	ldns_rr_list *rrs; /* every static record, the SOA first */
	char key_b64[NTM_KEY_B64_SIZE];
	uint32_t serial;
	dc_dnszone_lookup_cb lookup;
	void *ctx;
};

/* One record from its presentation form (our own text: domain and key are checked). */
static int add_text(struct dc_dnszone *z, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int add_text(struct dc_dnszone *z, const char *fmt, ...)
{
	char text[RECORD_TEXT_MAX];
	ldns_rr *rr = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(text)) {
		return -EINVAL;
	}
	if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) != LDNS_STATUS_OK) {
		return -EINVAL;
	}
	if (!ldns_rr_list_push_rr(z->rrs, rr)) {
		ldns_rr_free(rr);
		return -ENOMEM;
	}
	return 0;
}

static bool is_unspecified(const struct ntm_addr *a)
{
	static const struct in6_addr any6 = IN6ADDR_ANY_INIT;

	if (a->sa.sa_family == AF_INET) {
		return a->sin.sin_addr.s_addr == htonl(INADDR_ANY);
	}
	return memcmp(&a->sin6.sin6_addr, &any6, sizeof(any6)) == 0;
}

/* A/AAAA records for `owner` (a label under the zone) from the addresses with `port` (0: any). */
static int add_addrs(struct dc_dnszone *z, const char *owner, const struct dc_addr_list *l,
		     uint16_t port)
{
	char ip[INET6_ADDRSTRLEN];
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < l->n; i++) {
		const struct ntm_addr *a = &l->addrs[i];
		bool v6 = a->sa.sa_family == AF_INET6;

		if ((port != 0 && ntm_addr_port(a) != port) || is_unspecified(a)) {
			continue;
		}
		if (inet_ntop(a->sa.sa_family,
			      v6 ? (const void *)&a->sin6.sin6_addr
				 : (const void *)&a->sin.sin_addr,
			      ip, sizeof(ip)) == NULL) {
			return -EINVAL;
		}
		rc = add_text(z, "%s.%s. %d IN %s %s", owner, z->domain, DC_DNSZONE_TTL,
			      v6 ? "AAAA" : "A", ip);
	}
	return rc;
}

/* One SRV record per distinct Listen port, each with its own target name. */
static int add_srv(struct dc_dnszone *z, const struct dc_addr_list *l)
{
	uint16_t ports[SRV_TARGETS_MAX];
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < l->n && n < SRV_TARGETS_MAX; i++) {
		uint16_t p = ntm_addr_port(&l->addrs[i]);
		size_t j = 0;

		while (j < n && ports[j] != p) {
			j++;
		}
		if (j == n && !is_unspecified(&l->addrs[i])) {
			ports[n++] = p;
		}
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char target[16];

		snprintf(target, sizeof(target), i == 0 ? "dc" : "dc-%zu", i + 1);
		rc = add_text(z, "_ntm._udp.%s. %d IN SRV 0 0 %u %s.%s.", z->domain, DC_DNSZONE_TTL,
			      ports[i], target, z->domain);
		if (rc == 0) {
			rc = add_addrs(z, target, l, ports[i]);
		}
	}
	return rc;
}

static int add_soa(struct dc_dnszone *z)
{
	return add_text(z, "%s. %d IN SOA ns.%s. hostmaster.%s. %u 3600 600 604800 %d", z->domain,
			DC_DNSZONE_TTL, z->domain, z->domain, z->serial, DC_DNSZONE_NEG_TTL);
}

static int build(struct dc_dnszone *z, const struct dc_dnszone_config *cfg)
{
	int rc = add_soa(z);

	if (rc == 0) {
		rc = add_text(z, "%s. %d IN NS ns.%s.", z->domain, DC_DNSZONE_TTL, z->domain);
	}
	if (rc == 0) {
		rc = add_addrs(z, "ns", cfg->dns_listen, 0);
	}
	if (rc == 0) {
		rc = add_srv(z, cfg->ctrl_listen);
	}
	if (rc == 0) {
		rc = add_text(z, "_ntm-key.%s. %d IN TXT \"v=ntm1; k=%s\"", z->domain,
			      DC_DNSZONE_TTL, z->key_b64);
	}
	return rc;
}

int dc_dnszone_create(const struct dc_dnszone_config *cfg, struct dc_dnszone **out)
{
	char apex[DC_FQDN_SIZE + 1];
	struct dc_dnszone *z;
	int rc;

	*out = NULL;
	z = ntm_calloc(1, sizeof(*z));
	if (z == NULL) {
		return -ENOMEM;
	}
	rc = dc_fqdn_normalize(cfg->domain, 0, z->domain, NULL, 0);
	ntm_key_to_base64(z->key_b64, cfg->pubkey);
	z->serial = cfg->serial;
	z->lookup = cfg->lookup;
	z->ctx = cfg->ctx;
	snprintf(apex, sizeof(apex), "%s.", z->domain);
	if (rc == 0) {
		z->apex = ldns_dname_new_frm_str(apex);
		z->rrs = ldns_rr_list_new();
		rc = z->apex == NULL || z->rrs == NULL ? -ENOMEM : build(z, cfg);
	}
	if (rc < 0) {
		dc_dnszone_destroy(z);
		return rc;
	}
	*out = z;
	return 0;
}

void dc_dnszone_destroy(struct dc_dnszone *z)
{
	if (z == NULL) {
		return;
	}
	ldns_rdf_deep_free(z->apex);
	ldns_rr_list_deep_free(z->rrs);
	ntm_free(z);
}

void dc_dnszone_set_serial(struct dc_dnszone *z, uint32_t serial)
{
	ldns_rdf *old = ldns_rr_rdf(ldns_rr_list_rr(z->rrs, 0), 2);
	ldns_rdf *v = ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32, serial);

	if (v != NULL && old != NULL) {
		ldns_rr_set_rdf(ldns_rr_list_rr(z->rrs, 0), v, 2);
		ldns_rdf_deep_free(old);
		z->serial = serial;
	} else {
		ldns_rdf_deep_free(v);
	}
}

/* --------------------------------------------------------------- answering */

static bool push_clone(ldns_pkt *p, ldns_pkt_section sec, const ldns_rr *rr)
{
	ldns_rr *c = ldns_rr_clone(rr);

	if (c == NULL || !ldns_pkt_push_rr(p, sec, c)) {
		ldns_rr_free(c);
		return false;
	}
	return true;
}

static bool push_soa(const struct dc_dnszone *z, ldns_pkt *p)
{
	return push_clone(p, LDNS_SECTION_AUTHORITY, ldns_rr_list_rr(z->rrs, 0));
}

/* A/AAAA of `target` into the additional section (SRV and NS targets). */
static bool push_glue(const struct dc_dnszone *z, ldns_pkt *p, const ldns_rdf *target)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(z->rrs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(z->rrs, i);
		ldns_rr_type t = ldns_rr_get_type(rr);

		if ((t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA) &&
		    ldns_dname_compare(ldns_rr_owner(rr), target) == 0 &&
		    !push_clone(p, LDNS_SECTION_ADDITIONAL, rr)) {
			return false;
		}
	}
	return true;
}

/* The records of the zone itself at `qname`: 1 found the name, 0 not, -ENOMEM. */
static int answer_static(const struct dc_dnszone *z, ldns_pkt *p, const ldns_rdf *qname,
			 ldns_rr_type qtype)
{
	bool found = false, any = false;

	for (size_t i = 0; i < ldns_rr_list_rr_count(z->rrs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(z->rrs, i);
		ldns_rr_type t = ldns_rr_get_type(rr);

		if (ldns_dname_compare(ldns_rr_owner(rr), qname) != 0) {
			continue;
		}
		found = true;
		if (qtype != LDNS_RR_TYPE_ANY && qtype != t) {
			continue;
		}
		any = true;
		if (!push_clone(p, LDNS_SECTION_ANSWER, rr) ||
		    (t == LDNS_RR_TYPE_SRV && !push_glue(z, p, ldns_rr_rdf(rr, 3))) ||
		    (t == LDNS_RR_TYPE_NS && !push_glue(z, p, ldns_rr_rdf(rr, 0)))) {
			return -ENOMEM;
		}
	}
	if (found && !any && !push_soa(z, p)) {
		return -ENOMEM;
	}
	return found ? 1 : 0;
}

/* An empty non-terminal: some record of the zone lies strictly below `qname`. */
static bool is_static_ent(const struct dc_dnszone *z, const ldns_rdf *qname)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(z->rrs); i++) {
		if (ldns_dname_is_subdomain(ldns_rr_owner(ldns_rr_list_rr(z->rrs, i)), qname)) {
			return true;
		}
	}
	return false;
}

/* An A or AAAA record of a published node, owned by the (lower-case) name. */
static bool push_vip(ldns_pkt *p, const char *fqdn, bool v6, const uint8_t *vip)
{
	char owner[DC_FQDN_SIZE + 1];

	snprintf(owner, sizeof(owner), "%s.", fqdn);
	return ntm_dnsrr_push_addr(p, ldns_dname_new_frm_str(owner), v6, vip, DC_DNSZONE_NODE_TTL);
}

/* The node name `qname` (not a name of the zone's own records); returns the rcode. */
static int answer_node(const struct dc_dnszone *z, ldns_pkt *p, const ldns_rdf *qname,
		       ldns_rr_type qtype)
{
	char norm[DC_FQDN_SIZE], *text = ldns_rdf2str(qname);
	uint8_t vip4[4], vip6[16];
	size_t n = text != NULL ? strlen(text) : 0;
	int found = DC_DNSZONE_NONE;
	bool ok = true;

	if (text == NULL) {
		return LDNS_RCODE_SERVFAIL;
	}
	if (n > 0 && text[n - 1] == '.') {
		text[n - 1] = '\0';
	}
	/* A name that is no host name (escapes, underscores) cannot be a node's. */
	if (dc_fqdn_normalize(text, 0, norm, NULL, 0) == 0 && z->lookup != NULL) {
		found = z->lookup(z->ctx, norm, vip4, vip6);
	}
	free(text);
	if (found < 0) {
		return LDNS_RCODE_SERVFAIL;
	}
	if (found == DC_DNSZONE_NODE) {
		bool any = qtype == LDNS_RR_TYPE_ANY;

		if (any || qtype == LDNS_RR_TYPE_A) {
			ok = push_vip(p, norm, false, vip4);
		}
		if (ok && (any || qtype == LDNS_RR_TYPE_AAAA)) {
			ok = push_vip(p, norm, true, vip6);
		}
		if (ok && ldns_pkt_ancount(p) == 0) {
			ok = push_soa(z, p);
		}
		return ok ? LDNS_RCODE_NOERROR : LDNS_RCODE_SERVFAIL;
	}
	ok = push_soa(z, p);
	if (!ok) {
		return LDNS_RCODE_SERVFAIL;
	}
	return found == DC_DNSZONE_ENT ? LDNS_RCODE_NOERROR : LDNS_RCODE_NXDOMAIN;
}

/* Fills `p` (header already set) for the query `q`; returns the rcode. */
static int decide(const struct dc_dnszone *z, const ldns_pkt *q, ldns_pkt *p)
{
	const ldns_rr *qrr;
	const ldns_rdf *qname;
	ldns_rr_type qtype;
	ldns_rr_class qclass;
	int rc;

	if (ldns_pkt_qdcount(q) != 1 || ldns_rr_list_rr_count(ldns_pkt_question(q)) != 1) {
		return ldns_pkt_get_opcode(q) != LDNS_PACKET_QUERY ? LDNS_RCODE_NOTIMPL
								   : LDNS_RCODE_FORMERR;
	}
	qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	if (!push_clone(p, LDNS_SECTION_QUESTION, qrr)) {
		return LDNS_RCODE_SERVFAIL;
	}
	if (ldns_pkt_get_opcode(q) != LDNS_PACKET_QUERY) {
		return LDNS_RCODE_NOTIMPL;
	}
	qname = ldns_rr_owner(qrr);
	qtype = ldns_rr_get_type(qrr);
	qclass = ldns_rr_get_class(qrr);
	if ((qclass != LDNS_RR_CLASS_IN && qclass != LDNS_RR_CLASS_ANY) || qname == NULL ||
	    (ldns_dname_compare(qname, z->apex) != 0 && !ldns_dname_is_subdomain(qname, z->apex)) ||
	    qtype == LDNS_RR_TYPE_AXFR || qtype == LDNS_RR_TYPE_IXFR) {
		return LDNS_RCODE_REFUSED;
	}
	ldns_pkt_set_aa(p, true);
	rc = answer_static(z, p, qname, qtype);
	if (rc < 0) {
		return LDNS_RCODE_SERVFAIL;
	}
	if (rc > 0) {
		return LDNS_RCODE_NOERROR;
	}
	if (is_static_ent(z, qname)) {
		return push_soa(z, p) ? LDNS_RCODE_NOERROR : LDNS_RCODE_SERVFAIL;
	}
	return answer_node(z, p, qname, qtype);
}

/* A bare header answer for a query ldns could not parse: FORMERR, same id, no records. */
static int formerr(const uint8_t *q, uint8_t *out, size_t cap, struct dc_dnszone_result *res)
{
	if (cap < HEADER_LEN) {
		return -EMSGSIZE;
	}
	memset(out, 0, HEADER_LEN);
	out[0] = q[0];
	out[1] = q[1];
	out[2] = (uint8_t)(QR_BIT | (q[2] & 0x79)); /* opcode and RD kept */
	out[3] = LDNS_RCODE_FORMERR;
	res->len = HEADER_LEN;
	res->rcode = LDNS_RCODE_FORMERR;
	return 0;
}

static ldns_pkt *new_reply(const ldns_pkt *q)
{
	ldns_pkt *p = ldns_pkt_new();

	if (p == NULL) {
		return NULL;
	}
	ldns_pkt_set_id(p, ldns_pkt_id(q));
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_opcode(p, ldns_pkt_get_opcode(q));
	ldns_pkt_set_rd(p, ldns_pkt_rd(q));
	if (ldns_pkt_edns(q)) {
		ldns_pkt_set_edns_udp_size(p, DC_DNSZONE_EDNS_SIZE);
	}
	return p;
}

/* The largest UDP answer the client takes. */
static size_t udp_limit(const ldns_pkt *q)
{
	size_t n = ldns_pkt_edns(q) ? ldns_pkt_edns_udp_size(q) : DC_DNSZONE_UDP_MIN;

	if (n > DC_DNSZONE_EDNS_SIZE) {
		n = DC_DNSZONE_EDNS_SIZE;
	}
	return n < DC_DNSZONE_UDP_MIN ? DC_DNSZONE_UDP_MIN : n;
}

/* The same header and question with TC set and no records (RFC 2181 9). */
static int emit_truncated(const ldns_pkt *q, const ldns_pkt *full, uint8_t *out, size_t cap,
			  struct dc_dnszone_result *res)
{
	ldns_pkt *t = new_reply(q);
	const ldns_rr_list *qs = ldns_pkt_question(full);
	int rc;

	if (t == NULL) {
		return -ENOMEM;
	}
	ldns_pkt_set_aa(t, ldns_pkt_aa(full));
	ldns_pkt_set_rcode(t, ldns_pkt_get_rcode(full));
	ldns_pkt_set_tc(t, true);
	for (size_t i = 0; i < ldns_rr_list_rr_count(qs); i++) {
		if (!push_clone(t, LDNS_SECTION_QUESTION, ldns_rr_list_rr(qs, i))) {
			ldns_pkt_free(t);
			return -ENOMEM;
		}
	}
	rc = ntm_dnsrr_emit(t, out, cap, &res->len);
	res->truncated = rc == 0;
	ldns_pkt_free(t);
	return rc;
}

int dc_dnszone_answer(struct dc_dnszone *z, const uint8_t *q, size_t qlen, bool udp, uint8_t *out,
		      size_t cap, struct dc_dnszone_result *res)
{
	ldns_pkt *qp = NULL, *p;
	int rc;

	memset(res, 0, sizeof(*res));
	if (q == NULL || qlen < HEADER_LEN || qlen > DC_DNSZONE_MSG_MAX || (q[2] & QR_BIT) != 0) {
		return -EBADMSG;
	}
	if (ldns_wire2pkt(&qp, q, qlen) != LDNS_STATUS_OK || qp == NULL) {
		return formerr(q, out, cap, res);
	}
	p = new_reply(qp);
	if (p == NULL) {
		ldns_pkt_free(qp);
		return -ENOMEM;
	}
	if (ldns_pkt_edns(qp) && ldns_pkt_edns_version(qp) > 0) {
		ldns_pkt_set_edns_extended_rcode(p, BADVERS_HIGH);
		res->rcode = BADVERS_HIGH << 4; /* BADVERS (16): nothing else is answered */
	} else {
		res->rcode = decide(z, qp, p);
	}
	ldns_pkt_set_rcode(p, (uint8_t)(res->rcode & 0xf));
	rc = ntm_dnsrr_emit(p, out, cap, &res->len);
	if (rc == 0 && udp && res->len > udp_limit(qp)) {
		rc = emit_truncated(qp, p, out, cap, res);
	}
	ldns_pkt_free(p);
	ldns_pkt_free(qp);
	return rc;
}
