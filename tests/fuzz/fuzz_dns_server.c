/* SPDX-License-Identifier: MIT */
/*
 * The DC's DNS query handling (dc/dnszone.c) on any bytes, over "UDP" and
 * "TCP". Whatever comes in, an answer that is produced must be a message
 * ldns parses back, with the query's id, QR set, exactly the rcode reported,
 * and (over UDP) no larger than the EDNS limit; an unpublished name must
 * never leak an address. The zone is built once, signed (dc/dnssign.h, a
 * fresh key, a fixed clock), with a fake lookup in which b.example.net is
 * published and a.example.net is not. A signed answer (a query with DO)
 * must carry one RRSIG per RRset of its answer section.
 */
#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "dc/dnssign.h"
#include "dc/dnszone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lookup(void *ctx, const char *fqdn, uint8_t vip4[4], uint8_t vip6[16])
{
	(void)ctx;
	if (strcmp(fqdn, "b.example.net") == 0) {
		memcpy(vip4, "\x64\x50\x00\x03", 4);
		memcpy(vip6, "\xfd\x80\x00\x01\0\0\0\0\0\0\0\0\0\0\0\x03", 16);
		return DC_DNSZONE_NODE;
	}
	return strcmp(fqdn, "sub.example.net") == 0 ? DC_DNSZONE_ENT : DC_DNSZONE_NONE;
}

static uint32_t fixed_clock(void *ctx)
{
	(void)ctx;
	return 1796000000;
}

static struct dc_dnssign *signer(void)
{
	struct dc_dnssign *s = NULL;
	char why[128];

	if (dc_dnssign_create(
		    &(struct dc_dnssign_config){ .zone = "example.net", .clock = fixed_clock }, &s,
		    NULL, why, sizeof(why)) < 0) {
		abort();
	}
	return s;
}

static struct dc_dnszone *zone(void)
{
	static struct dc_dnszone *z;
	static struct dc_addr_list ctrl, dns;
	static struct ntm_key key;

	if (z != NULL) {
		return z;
	}
	memset(key.b, 7, sizeof(key.b));
	if (ntm_addr_parse("198.51.100.1:7000", 0, &ctrl.addrs[0], NULL, 0) < 0 ||
	    ntm_addr_parse("[2001:db8::1]:7001", 0, &ctrl.addrs[1], NULL, 0) < 0 ||
	    ntm_addr_parse("198.51.100.1:53", 0, &dns.addrs[0], NULL, 0) < 0) {
		abort();
	}
	ctrl.n = 2;
	dns.n = 1;
	if (dc_dnszone_create(&(struct dc_dnszone_config){ .domain = "example.net",
							   .pubkey = &key,
							   .ctrl_listen = &ctrl,
							   .dns_listen = &dns,
							   .serial = 1,
							   .lookup = lookup,
							   .signer = signer() },
			      &z) < 0) {
		abort();
	}
	return z;
}

/* Distinct RRsets other than RRSIG in l, and the RRSIGs. */
static void count_sets(const ldns_rr_list *l, size_t *sets, size_t *sigs)
{
	*sets = *sigs = 0;
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l, i);
		bool first = true;

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG) {
			(*sigs)++;
			continue;
		}
		for (size_t j = 0; first && j < i; j++) {
			const ldns_rr *o = ldns_rr_list_rr(l, j);

			first = ldns_rr_get_type(o) != ldns_rr_get_type(rr) ||
				ldns_dname_compare(ldns_rr_owner(o), ldns_rr_owner(rr)) != 0;
		}
		*sets += first;
	}
}

static void check(const uint8_t *q, size_t n, bool udp)
{
	static uint8_t out[DC_DNSZONE_MSG_MAX];
	struct dc_dnszone_result res;
	ldns_pkt *a = NULL;
	int rc = dc_dnszone_answer(zone(), q, n, udp, out, sizeof(out), &res);

	if (rc < 0) {
		if (rc != -EBADMSG || (n >= 12 && (q[2] & 0x80) == 0)) {
			abort(); /* only responses and fragments are dropped */
		}
		return;
	}
	if (res.len < 12 || res.len > sizeof(out) || (udp && res.len > DC_DNSZONE_EDNS_SIZE) ||
	    out[0] != q[0] || out[1] != q[1] || (out[2] & 0x80) == 0 ||
	    (out[3] & 0xf) != (res.rcode & 0xf)) {
		abort();
	}
	if (ldns_wire2pkt(&a, out, res.len) != LDNS_STATUS_OK) {
		abort();
	}
	if (res.dnssec && !res.truncated && res.rcode == LDNS_RCODE_NOERROR) {
		size_t sets, sigs;

		count_sets(ldns_pkt_answer(a), &sets, &sigs);
		if (sets != sigs) {
			abort(); /* an RRset without its signature */
		}
	}
	for (size_t i = 0; i < ldns_rr_list_rr_count(ldns_pkt_answer(a)); i++) {
		char *owner = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_answer(a), i)));

		/* the unpublished node: never in an answer */
		if (owner != NULL && strcasecmp(owner, "a.example.net.") == 0) {
			abort();
		}
		free(owner);
	}
	ldns_pkt_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size, true);
	check(data, size, false);
	return 0;
}
