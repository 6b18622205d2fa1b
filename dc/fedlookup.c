/* SPDX-License-Identifier: MIT */
/*
 * Locating another domain's DC through DNS (dc/federation.h): the SRV
 * record _ntm._udp.DOMAIN and its target's addresses (c-ares through
 * common/dns.h), and the key record _ntm-key.DOMAIN (TXT "v=ntm1; k=KEY"),
 * sent as our own query with the AD bit set (RFC 6840 section 5.7) so that
 * a validating resolver tells us whether it validated the answer.
 */
#include "fedint.h"

#include <ldns/ldns.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"

/* The key out of one TXT record's strings ("v=ntm1; k=BASE64"). */
static bool txt_key(const ldns_rr *rr, struct ntm_key *out)
{
	char text[256] = "";
	size_t len = 0;
	const char *k;

	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *rd = ldns_rr_rdf(rr, i);
		const uint8_t *d = ldns_rdf_data(rd);
		size_t n = ldns_rdf_size(rd);

		if (n < 1 || d[0] != n - 1 || len + d[0] >= sizeof(text)) {
			return false;
		}
		memcpy(text + len, d + 1, d[0]);
		len += d[0];
	}
	text[len] = '\0';
	if (strncmp(text, "v=ntm1;", 7) != 0 || (k = strstr(text, "k=")) == NULL) {
		return false;
	}
	k += 2;
	return ntm_key_from_base64(out, k, strcspn(k, "; ")) == 0;
}

void fed_key_parse(int err, const uint8_t *msg, size_t len, struct ntm_key *key, bool *found,
		   bool *ad)
{
	ldns_pkt *p = NULL;

	*found = *ad = false;
	if (err == 0 && ldns_wire2pkt(&p, msg, len) == LDNS_STATUS_OK &&
	    ldns_pkt_get_rcode(p) == LDNS_RCODE_NOERROR) {
		ldns_rr_list *ans = ldns_pkt_answer(p);

		for (size_t i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(ans, i);

			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_TXT && txt_key(rr, key)) {
				*found = true;
				*ad = ldns_pkt_ad(p);
				break;
			}
		}
	}
	ldns_pkt_free(p);
}

/* The answer to our TXT query: the key and the AD bit. */
static void on_txt(int err, const uint8_t *msg, size_t len, void *arg)
{
	struct fed_dom *d = arg;

	d->txt_pending = false;
	if (d->f->closing) {
		return;
	}
	fed_key_parse(err, msg, len, &d->dns_key, &d->has_dns_key, &d->dns_key_ad);
	ntm_log_debug("federation: %s: key record: %s%s%s", fed_dom_name(d),
		      err < 0 ? ntm_strerror(err) : "answered",
		      d->has_dns_key ? ", key found" : ", no key", d->dns_key_ad ? ", AD" : "");
	fed_dom_lookup_step(d);
}

int fed_key_query(struct dc_fed *f, const char *domain, ntm_dns_msg_cb cb, void *arg)
{
	char name[NTM_DNS_MAX_NAME + 16];
	ldns_rdf *owner;
	ldns_pkt *q = NULL;
	uint8_t *wire = NULL;
	size_t len = 0;
	int rc = -ENOMEM;

	snprintf(name, sizeof(name), "_ntm-key.%s.", domain);
	owner = ldns_dname_new_frm_str(name);
	if (owner != NULL) {
		q = ldns_pkt_query_new(owner, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN,
				       LDNS_RD | LDNS_AD);
	}
	if (q == NULL) {
		ldns_rdf_deep_free(owner);
		return rc;
	}
	ldns_pkt_set_id(q, (uint16_t)randombytes_uniform(65536));
	if (ldns_pkt2wire(&wire, q, &len) == LDNS_STATUS_OK) {
		rc = ntm_dns_forward(f->dns, wire, len, cb, arg);
	}
	LDNS_FREE(wire);
	ldns_pkt_free(q);
	return rc;
}

int fed_lookup_key(struct fed_dom *d)
{
	int rc;

	d->txt_pending = true;
	rc = fed_key_query(d->f, fed_dom_name(d), on_txt, d);
	d->txt_pending = rc == 0;
	return rc;
}

static void on_addrs(int err, const struct ntm_dns_addr *addrs, size_t n, void *arg)
{
	struct fed_dom *d = arg;

	d->srv_pending = false;
	if (d->f->closing) {
		return;
	}
	for (size_t i = 0; err == 0 && i < n && d->n_eps < NTM_CTRLCLIENT_ENDPOINTS_MAX; i++) {
		struct ntm_addr *a = &d->eps[d->n_eps];

		memset(a, 0, sizeof(*a));
		memcpy(&a->ss, &addrs[i].ss, addrs[i].len);
		a->len = addrs[i].len;
		if (a->sa.sa_family == AF_INET) {
			a->sin.sin_port = htons(d->srv_port);
		} else {
			a->sin6.sin6_port = htons(d->srv_port);
		}
		d->n_eps++;
	}
	if (err < 0) {
		snprintf(d->why, sizeof(d->why), "the SRV target's addresses: %s",
			 ntm_strerror(err));
	}
	fed_dom_lookup_step(d);
}

static void on_srv(int err, const struct ntm_dns_srv *srv, size_t n, void *arg)
{
	struct fed_dom *d = arg;

	if (d->f->closing) {
		d->srv_pending = false;
		return;
	}
	if (err == 0 && n > 0 && srv[0].target[0] != '\0') {
		d->srv_port = srv[0].port;
		if (ntm_dns_resolve(d->f->dns, srv[0].target, AF_UNSPEC, on_addrs, d) == 0) {
			return; /* srv_pending until the addresses came */
		}
	}
	d->srv_pending = false;
	snprintf(d->why, sizeof(d->why), "no usable SRV record _ntm._udp.%s: %s", fed_dom_name(d),
		 err < 0 ? ntm_strerror(err) : "empty");
	fed_dom_lookup_step(d);
}

int fed_lookup_endpoints(struct fed_dom *d)
{
	char name[NTM_DNS_MAX_NAME + 16];
	int rc;

	snprintf(name, sizeof(name), "_ntm._udp.%s", fed_dom_name(d));
	d->srv_pending = true;
	rc = ntm_dns_query_srv(d->f->dns, name, on_srv, d);
	d->srv_pending = rc == 0;
	return rc;
}
