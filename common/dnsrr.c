/* SPDX-License-Identifier: MIT */
#include "dnsrr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool ntm_dnsrr_push_addr(ldns_pkt *p, ldns_rdf *owner, bool v6, const uint8_t *ip, uint32_t ttl)
{
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *data =
		ldns_rdf_new_frm_data(v6 ? LDNS_RDF_TYPE_AAAA : LDNS_RDF_TYPE_A, v6 ? 16 : 4, ip);

	if (rr == NULL || owner == NULL || data == NULL) {
		ldns_rr_free(rr);
		ldns_rdf_deep_free(owner);
		ldns_rdf_deep_free(data);
		return false;
	}
	ldns_rr_set_owner(rr, owner);
	ldns_rr_set_type(rr, v6 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	ldns_rr_push_rdf(rr, data);
	if (!ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr)) {
		ldns_rr_free(rr);
		return false;
	}
	return true;
}

int ntm_dnsrr_emit(const ldns_pkt *p, uint8_t *out, size_t cap, size_t *len)
{
	uint8_t *wire = NULL;
	size_t n = 0;
	int rc = 0;

	if (ldns_pkt2wire(&wire, p, &n) != LDNS_STATUS_OK || wire == NULL) {
		rc = -ENOMEM;
	} else if (n > cap) {
		rc = -EMSGSIZE;
	} else {
		memcpy(out, wire, n);
		*len = n;
	}
	free(wire); /* ldns allocates with malloc */
	return rc;
}
