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
#include "dc/dnssign.h"
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
	struct dc_dnssign *sign; /* NULL: unsigned */
	ldns_rr_list *sigs;	 /* RRSIGs of the RRsets in rrs */
	uint32_t sigs_expire;	 /* the earliest of their expirations */
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
	if (rc == 0 && z->sign != NULL) {
		ldns_rr *k = ldns_rr_clone(dc_dnssign_dnskey(z->sign));

		if (k == NULL || !ldns_rr_list_push_rr(z->rrs, k)) {
			ldns_rr_free(k);
			rc = -ENOMEM;
		}
	}
	return rc;
}

/* -------------------------------------------------------------- signing */

/* The records of `l` with this owner and type: a shallow list (free with ldns_rr_list_free). */
static ldns_rr_list *rrset_of(const ldns_rr_list *l, const ldns_rdf *owner, ldns_rr_type t)
{
	ldns_rr_list *set = ldns_rr_list_new();

	for (size_t i = 0; set != NULL && i < ldns_rr_list_rr_count(l); i++) {
		ldns_rr *rr = ldns_rr_list_rr(l, i);

		if (ldns_rr_get_type(rr) == t &&
		    ldns_dname_compare(ldns_rr_owner(rr), owner) == 0 &&
		    !ldns_rr_list_push_rr(set, rr)) {
			ldns_rr_list_free(set);
			return NULL;
		}
	}
	return set;
}

/* Whether rrs[i] is the first record of its RRset in l. */
static bool is_first_of_set(const ldns_rr_list *l, size_t i)
{
	const ldns_rr *rr = ldns_rr_list_rr(l, i);

	for (size_t j = 0; j < i; j++) {
		const ldns_rr *o = ldns_rr_list_rr(l, j);

		if (ldns_rr_get_type(o) == ldns_rr_get_type(rr) &&
		    ldns_dname_compare(ldns_rr_owner(o), ldns_rr_owner(rr)) == 0) {
			return false;
		}
	}
	return true;
}

/* A new signature of the zone's own RRset of rrs[i]. */
static int sign_static_set(struct dc_dnszone *z, const ldns_rr *rr, ldns_rr **sig)
{
	ldns_rr_list *set = rrset_of(z->rrs, ldns_rr_owner(rr), ldns_rr_get_type(rr));
	int rc = set != NULL ? dc_dnssign_sign(z->sign, set, sig) : -ENOMEM;

	ldns_rr_list_free(set);
	return rc;
}

/* The earliest expiration of the zone's own signatures: when all are made again. */
static void note_expiry(struct dc_dnszone *z, const ldns_rr *sig, bool first)
{
	uint32_t e = dc_dnssign_expiration(sig);

	if (first || (int32_t)(e - z->sigs_expire) < 0) {
		z->sigs_expire = e;
	}
}

/* Every RRset of the zone's own records, signed now (at creation and once due). */
static int sign_static(struct dc_dnszone *z)
{
	ldns_rr_list *old = z->sigs;
	int rc = 0;

	z->sigs = ldns_rr_list_new();
	for (size_t i = 0; rc == 0 && z->sigs != NULL && i < ldns_rr_list_rr_count(z->rrs); i++) {
		ldns_rr *sig = NULL;

		if (!is_first_of_set(z->rrs, i)) {
			continue;
		}
		rc = sign_static_set(z, ldns_rr_list_rr(z->rrs, i), &sig);
		if (rc == 0 && !ldns_rr_list_push_rr(z->sigs, sig)) {
			ldns_rr_free(sig);
			rc = -ENOMEM;
		}
		if (rc == 0) {
			note_expiry(z, sig, ldns_rr_list_rr_count(z->sigs) == 1);
		}
	}
	if (z->sigs == NULL || rc < 0) {
		ldns_rr_list_deep_free(z->sigs);
		z->sigs = old;
		return rc < 0 ? rc : -ENOMEM;
	}
	ldns_rr_list_deep_free(old);
	return 0;
}

/* The index in z->sigs of the signature over (owner, type), or -1. */
static ssize_t static_sig(const struct dc_dnszone *z, const ldns_rdf *owner, ldns_rr_type t)
{
	for (size_t i = 0; z->sigs != NULL && i < ldns_rr_list_rr_count(z->sigs); i++) {
		const ldns_rr *sig = ldns_rr_list_rr(z->sigs, i);

		if (ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig)) == t &&
		    ldns_dname_compare(ldns_rr_owner(sig), owner) == 0) {
			return (ssize_t)i;
		}
	}
	return -1;
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
	z->sign = cfg->signer;
	snprintf(apex, sizeof(apex), "%s.", z->domain);
	if (rc == 0) {
		z->apex = ldns_dname_new_frm_str(apex);
		z->rrs = ldns_rr_list_new();
		rc = z->apex == NULL || z->rrs == NULL ? -ENOMEM : build(z, cfg);
	}
	if (rc == 0 && z->sign != NULL) {
		rc = sign_static(z);
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
	ldns_rr_list_deep_free(z->sigs);
	ntm_free(z);
}

void dc_dnszone_set_serial(struct dc_dnszone *z, uint32_t serial)
{
	ldns_rdf *old = ldns_rr_rdf(ldns_rr_list_rr(z->rrs, 0), 2);
	ldns_rdf *v = ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32, serial);

	ssize_t i;
	ldns_rr *sig = NULL;

	if (v != NULL && old != NULL) {
		ldns_rr_set_rdf(ldns_rr_list_rr(z->rrs, 0), v, 2);
		ldns_rdf_deep_free(old);
		z->serial = serial;
	} else {
		ldns_rdf_deep_free(v);
	}
	i = static_sig(z, z->apex, LDNS_RR_TYPE_SOA);
	if (z->sign == NULL || i < 0) {
		return;
	}
	/* Without memory or a signature, the next signed answer signs everything again. */
	if (sign_static_set(z, ldns_rr_list_rr(z->rrs, 0), &sig) == 0) {
		ldns_rr_free(ldns_rr_list_set_rr(z->sigs, sig, (size_t)i));
		note_expiry(z, sig, false);
	} else {
		z->sigs_expire = dc_dnssign_now(z->sign); /* due: all are made again */
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

/* What the store says of the name `qname`: an enum dc_dnszone_found or a negative errno. */
static int node_lookup(const struct dc_dnszone *z, const ldns_rdf *qname, char norm[DC_FQDN_SIZE],
		       uint8_t vip4[4], uint8_t vip6[16])
{
	char *text = ldns_rdf2str(qname);
	size_t n = text != NULL ? strlen(text) : 0;
	int found = DC_DNSZONE_NONE;

	if (text == NULL) {
		return -ENOMEM;
	}
	if (n > 0 && text[n - 1] == '.') {
		text[n - 1] = '\0';
	}
	/* A name that is no host name (escapes, underscores) cannot be a node's. */
	if (dc_fqdn_normalize(text, 0, norm, NULL, 0) == 0 && z->lookup != NULL) {
		found = z->lookup(z->ctx, norm, vip4, vip6);
	}
	free(text);
	return found;
}

/* The node name `qname` (not a name of the zone's own records); returns the rcode. */
static int answer_node(const struct dc_dnszone *z, ldns_pkt *p, const ldns_rdf *qname,
		       ldns_rr_type qtype)
{
	char norm[DC_FQDN_SIZE];
	uint8_t vip4[4], vip6[16];
	int found = node_lookup(z, qname, norm, vip4, vip6);
	bool ok = true;

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

/* ------------------------------------------------------- DNSSEC answers */

enum { TYPES_MAX = 16 };

/*
 * The types at `name` (the zone's own records, or a published node's A and
 * AAAA) into types[*n]: 1 when the name exists (with records or as an empty
 * non-terminal), 0 when not, or a negative errno.
 */
static int types_at(const struct dc_dnszone *z, const ldns_rdf *name, ldns_rr_type *types,
		    size_t *n)
{
	char norm[DC_FQDN_SIZE];
	uint8_t vip4[4], vip6[16];
	bool found = false;
	int rc;

	*n = 0;
	for (size_t i = 0; i < ldns_rr_list_rr_count(z->rrs); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(z->rrs, i);

		if (ldns_dname_compare(ldns_rr_owner(rr), name) == 0) {
			found = true;
			if (is_first_of_set(z->rrs, i) && *n < TYPES_MAX) {
				types[(*n)++] = ldns_rr_get_type(rr);
			}
		}
	}
	if (found || is_static_ent(z, name)) {
		return 1;
	}
	rc = node_lookup(z, name, norm, vip4, vip6);
	if (rc == DC_DNSZONE_NODE) {
		types[(*n)++] = LDNS_RR_TYPE_A;
		types[(*n)++] = LDNS_RR_TYPE_AAAA;
	}
	return rc < 0 ? rc : rc != DC_DNSZONE_NONE;
}

/* An NSEC owner -> next with the types at owner, into section `sec`. */
static int push_nsec(const struct dc_dnszone *z, ldns_pkt *p, ldns_pkt_section sec,
		     const ldns_rdf *owner, const ldns_rdf *next)
{
	ldns_rr_type types[TYPES_MAX];
	size_t n;
	int rc = types_at(z, owner, types, &n);
	ldns_rr *nsec;

	if (rc < 0) {
		return rc;
	}
	nsec = dc_dnssign_nsec(owner, next, types, n, DC_DNSZONE_NEG_TTL);
	if (nsec == NULL || !ldns_pkt_push_rr(p, sec, nsec)) {
		ldns_rr_free(nsec);
		return -ENOMEM;
	}
	return 0;
}

/*
 * NODATA: the NSEC at the name itself, next its immediate successor. A
 * query for the type NSEC gets that record as its answer (without the SOA).
 */
static int deny_type(const struct dc_dnszone *z, ldns_pkt *p, const ldns_rdf *qname,
		     ldns_rr_type qtype)
{
	ldns_rdf *next = dc_dnssign_next_name(qname);
	ldns_pkt_section sec = LDNS_SECTION_AUTHORITY;
	int rc = 0;

	if (next != NULL && qtype == LDNS_RR_TYPE_NSEC) {
		ldns_rr_list_deep_free(ldns_pkt_authority(p));
		ldns_pkt_set_authority(p, ldns_rr_list_new());
		ldns_pkt_set_nscount(p, 0);
		sec = LDNS_SECTION_ANSWER;
	}
	if (next != NULL) { /* too long: no proof */
		rc = ldns_pkt_authority(p) != NULL ? push_nsec(z, p, sec, qname, next) : -ENOMEM;
	}
	ldns_rdf_deep_free(next);
	return rc;
}

/* The minimally covering NSEC of a name that does not exist. */
static int cover(const struct dc_dnszone *z, ldns_pkt *p, const ldns_rdf *name)
{
	ldns_rdf *prev = dc_dnssign_prev_name(name), *next = dc_dnssign_after_name(name);
	int rc = prev != NULL && next != NULL ? push_nsec(z, p, LDNS_SECTION_AUTHORITY, prev, next)
					      : 0;

	ldns_rdf_deep_free(prev);
	ldns_rdf_deep_free(next);
	return rc;
}

/* The closest existing ancestor of `qname` (at worst the apex): *ce is the caller's. */
static int closest_encloser(const struct dc_dnszone *z, const ldns_rdf *qname, ldns_rdf **ce)
{
	ldns_rdf *n = ldns_dname_left_chop(qname), *up;
	ldns_rr_type types[TYPES_MAX];
	size_t k;
	int rc = 0;

	while (n != NULL && ldns_dname_compare(n, z->apex) != 0 &&
	       (rc = types_at(z, n, types, &k)) == 0) {
		up = ldns_dname_left_chop(n);
		ldns_rdf_deep_free(n);
		n = up;
	}
	if (n == NULL || rc < 0) {
		ldns_rdf_deep_free(n);
		return rc < 0 ? rc : -ENOMEM;
	}
	*ce = n;
	return 0;
}

/*
 * NXDOMAIN: NSECs covering the next closer name (the closest encloser's
 * child on the way to the name: covering the name itself would place an
 * NSEC owner below names that do not exist) and the wildcard at the
 * closest encloser.
 */
static int deny_name(const struct dc_dnszone *z, ldns_pkt *p, const ldns_rdf *qname)
{
	uint8_t wire[DC_DNSSIGN_NAME_MAX + 2] = { 1, '*' };
	ldns_rdf *ce = NULL, *wc = NULL, *nc = NULL;
	int rc = closest_encloser(z, qname, &ce);

	if (rc == 0) {
		nc = ldns_dname_clone_from(qname, ldns_dname_label_count(qname) -
							  ldns_dname_label_count(ce) - 1);
		rc = nc == NULL ? -ENOMEM : cover(z, p, nc);
	}
	if (rc == 0 && ldns_rdf_size(ce) + 2 <= DC_DNSSIGN_NAME_MAX) {
		memcpy(wire + 2, ldns_rdf_data(ce), ldns_rdf_size(ce));
		wc = ldns_dname_new_frm_data((uint16_t)(ldns_rdf_size(ce) + 2), wire);
		rc = wc == NULL ? -ENOMEM : ldns_dname_compare(wc, nc) == 0 ? 0 : cover(z, p, wc);
	}
	ldns_rdf_deep_free(nc);
	ldns_rdf_deep_free(wc);
	ldns_rdf_deep_free(ce);
	return rc;
}

/* An RRSIG for every RRset of a section: the zone's own, or one from the signer's cache. */
static int sign_section(struct dc_dnszone *z, ldns_pkt *p, ldns_pkt_section sec,
			const ldns_rr_list *l)
{
	size_t n = ldns_rr_list_rr_count(l);

	for (size_t i = 0; i < n; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l, i), *sig = NULL;
		ldns_rr_type t = ldns_rr_get_type(rr);
		ssize_t k;
		int rc = 0;

		if (t == LDNS_RR_TYPE_RRSIG || !is_first_of_set(l, i)) {
			continue;
		}
		k = static_sig(z, ldns_rr_owner(rr), t);
		if (k >= 0) {
			sig = ldns_rr_list_rr(z->sigs, (size_t)k);
		} else {
			ldns_rr_list *set = rrset_of(l, ldns_rr_owner(rr), t);

			rc = set != NULL ? dc_dnssign_cached(z->sign, set, &sig) : -ENOMEM;
			ldns_rr_list_free(set);
		}
		if (rc < 0) {
			return rc;
		}
		if (!push_clone(p, sec, sig)) {
			return -ENOMEM;
		}
	}
	return 0;
}

/* The proofs and signatures of an authoritative answer to a query with DO. */
static int secure(struct dc_dnszone *z, const ldns_pkt *q, ldns_pkt *p, int rcode)
{
	const ldns_rr *qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
	const ldns_rdf *qname = ldns_rr_owner(qrr);
	int rc = 0;

	if (dc_dnssign_is_due(z->sign, z->sigs_expire)) {
		rc = sign_static(z);
	}
	if (rc == 0 && rcode == LDNS_RCODE_NXDOMAIN) {
		rc = deny_name(z, p, qname);
	} else if (rc == 0 && ldns_pkt_ancount(p) == 0) {
		rc = deny_type(z, p, qname, ldns_rr_get_type(qrr));
	}
	if (rc == 0) {
		rc = sign_section(z, p, LDNS_SECTION_ANSWER, ldns_pkt_answer(p));
	}
	if (rc == 0) {
		rc = sign_section(z, p, LDNS_SECTION_AUTHORITY, ldns_pkt_authority(p));
	}
	if (rc == 0) {
		rc = sign_section(z, p, LDNS_SECTION_ADDITIONAL, ldns_pkt_additional(p));
	}
	return rc;
}

/* Records of a failed answer go: SERVFAIL carries none. */
static void strip(ldns_pkt *p)
{
	ldns_rr_list_deep_free(ldns_pkt_answer(p));
	ldns_rr_list_deep_free(ldns_pkt_authority(p));
	ldns_rr_list_deep_free(ldns_pkt_additional(p));
	ldns_pkt_set_answer(p, ldns_rr_list_new());
	ldns_pkt_set_authority(p, ldns_rr_list_new());
	ldns_pkt_set_additional(p, ldns_rr_list_new());
	ldns_pkt_set_ancount(p, 0);
	ldns_pkt_set_nscount(p, 0);
	ldns_pkt_set_arcount(p, 0);
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

static ldns_pkt *new_reply(const ldns_pkt *q, bool dnssec)
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
		ldns_pkt_set_edns_do(p, dnssec);
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
	ldns_pkt *t = new_reply(q, ldns_pkt_edns_do(full));
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
	res->dnssec = z->sign != NULL && ldns_pkt_edns(qp) && ldns_pkt_edns_do(qp);
	p = new_reply(qp, res->dnssec);
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
	if (res->dnssec && ldns_pkt_aa(p) &&
	    (res->rcode == LDNS_RCODE_NOERROR || res->rcode == LDNS_RCODE_NXDOMAIN) &&
	    secure(z, qp, p, res->rcode) < 0) {
		strip(p);
		res->rcode = LDNS_RCODE_SERVFAIL;
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
