/* SPDX-License-Identifier: MIT */
/*
 * The node stub's query handling (endnode/dnsmsg.c) on any bytes: the
 * classification, and for overlay queries the VIP, NXDOMAIN and truncated
 * answers. Whatever comes in, an answer must parse back with ldns, keep
 * the query's id, have QR set, and an overlay name must be a lower-case
 * host name strictly below one of the domains.
 */
#include <ctype.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

#include "endnode/dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const domains[] = { "example.net", "b.other.example" };

static void check_answer(const uint8_t *q, const uint8_t *a, size_t alen)
{
	ldns_pkt *p = NULL;

	if (alen < 12 || a[0] != q[0] || a[1] != q[1] || (a[2] & 0x80) == 0 ||
	    ldns_wire2pkt(&p, a, alen) != LDNS_STATUS_OK) {
		abort();
	}
	ldns_pkt_free(p);
}

static void check_overlay(const struct en_dnsmsg_query *cq)
{
	bool under = false;

	for (const char *c = cq->name; *c != '\0'; c++) {
		if (!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '-' ||
		      *c == '.')) {
			abort();
		}
	}
	for (size_t i = 0; i < 2; i++) {
		under = under || en_dnsmsg_is_under(cq->name, domains[i]);
	}
	if (!under) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[EN_DNSMSG_MSG_MAX];
	static const uint8_t v4[4] = { 100, 80, 0, 3 }, v6[16] = { 0xfd, 0x80 };
	struct en_dnsmsg_query cq;
	size_t len;

	if (en_dnsmsg_classify(data, size, domains, 2, &cq, out, sizeof(out), &len) < 0) {
		return 0;
	}
	if (cq.kind == EN_DNSMSG_ANSWER) {
		check_answer(data, out, len);
	}
	if (cq.kind != EN_DNSMSG_OVERLAY) {
		return 0;
	}
	check_overlay(&cq);
	if (en_dnsmsg_answer(data, size, 0, v4, v6, out, sizeof(out), &len) == 0) {
		check_answer(data, out, len);
	}
	if (en_dnsmsg_answer(data, size, 3, NULL, NULL, out, sizeof(out), &len) == 0) {
		check_answer(data, out, len);
	}
	if (en_dnsmsg_truncated(data, size, 2, out, sizeof(out), &len) == 0) {
		check_answer(data, out, len);
	}
	(void)en_dnsmsg_udp_limit(data, size);
	return 0;
}
