/* SPDX-License-Identifier: MIT */
/*
 * What DNSSEC costs the DC's zone (dc/dnszone.h, dc/dnssign.h), in
 * process, without sockets: the key generation, building the zone with and
 * without signing it, and the time per answer and the answer size of each
 * kind of query, with DO (signed) and without (the unsigned baseline, in the
 * same run). "NXDOMAIN, new names" asks a new name every time, so every
 * answer needs two fresh signatures; the other rows hit the zone's own
 * signatures or the signer's cache after the first query.
 *
 * Usage: dnssec [RUNS [QUERIES]]  (defaults 7 and 2000). Prints tables of
 * median/min/avg/max over RUNS; not a pass/fail test.
 */
#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dc/dnssign.h"
#include "dc/dnszone.h"

enum { RUNS_MAX = 64 };

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	double med, min, avg, max;
};

static struct stats summarize(double *v, int n)
{
	struct stats s = { 0, v[0], 0, v[0] };

	qsort(v, (size_t)n, sizeof(*v), cmp);
	for (int i = 0; i < n; i++) {
		s.avg += v[i] / n;
	}
	s.min = v[0];
	s.max = v[n - 1];
	s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

static int lookup(void *ctx, const char *fqdn, uint8_t vip4[4], uint8_t vip6[16])
{
	(void)ctx;
	if (strcmp(fqdn, "node.example.net") == 0) {
		inet_pton(AF_INET, "100.80.0.3", vip4);
		inet_pton(AF_INET6, "fd80:1::3", vip6);
		return DC_DNSZONE_NODE;
	}
	return DC_DNSZONE_NONE;
}

struct bench {
	struct dc_addr_list ctrl, dns;
	struct ntm_key key;
};

static struct dc_dnszone *make_zone(struct bench *b, struct dc_dnssign *s)
{
	struct dc_dnszone *z = NULL;

	if (dc_dnszone_create(&(struct dc_dnszone_config){ .domain = "example.net",
							   .pubkey = &b->key,
							   .ctrl_listen = &b->ctrl,
							   .dns_listen = &b->dns,
							   .serial = 1,
							   .lookup = lookup,
							   .signer = s },
			      &z) < 0) {
		fprintf(stderr, "dnssec: cannot build the zone\n");
		exit(1);
	}
	return z;
}

static struct dc_dnssign *make_signer(void)
{
	struct dc_dnssign *s = NULL;
	char why[128];

	if (dc_dnssign_create(&(struct dc_dnssign_config){ .zone = "example.net" }, &s, NULL, why,
			      sizeof(why)) < 0) {
		fprintf(stderr, "dnssec: %s\n", why);
		exit(1);
	}
	return s;
}

static size_t query(uint8_t *out, size_t cap, const char *name, ldns_rr_type t, bool dnssec)
{
	ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str(name), t, LDNS_RR_CLASS_IN, 0);
	uint8_t *wire = NULL;
	size_t len = 0;

	ldns_pkt_set_edns_udp_size(q, 1232);
	ldns_pkt_set_edns_do(q, dnssec);
	if (ldns_pkt2wire(&wire, q, &len) != LDNS_STATUS_OK || len > cap) {
		exit(1);
	}
	memcpy(out, wire, len);
	free(wire);
	ldns_pkt_free(q);
	return len;
}

struct kind {
	const char *label;
	const char *name; /* NULL: a new name per query */
	ldns_rr_type type;
};

/* Microseconds per answer over n queries; *size is the last answer's length. */
static double run(struct dc_dnszone *z, const struct kind *k, bool dnssec, int n, size_t *size,
		  unsigned *seq)
{
	static uint8_t out[DC_DNSZONE_MSG_MAX];
	uint8_t q[512];
	struct dc_dnszone_result res;
	char name[64];
	size_t len = k->name != NULL ? query(q, sizeof(q), k->name, k->type, dnssec) : 0;
	double t = 0;

	for (int i = 0; i < n; i++) {
		double t0;

		if (k->name == NULL) {
			snprintf(name, sizeof(name), "n%u.example.net.", (*seq)++);
			len = query(q, sizeof(q), name, k->type, dnssec);
		}
		t0 = now_us();
		if (dc_dnszone_answer(z, q, len, true, out, sizeof(out), &res) < 0) {
			fprintf(stderr, "dnssec: no answer\n");
			exit(1);
		}
		t += now_us() - t0;
	}
	*size = res.len;
	return t / n;
}

static void bench_load(struct bench *b, int runs)
{
	double gen[RUNS_MAX], plain[RUNS_MAX], sig[RUNS_MAX];
	struct stats g, p, s;

	for (int i = 0; i < runs; i++) {
		double t0 = now_us();
		struct dc_dnssign *k = make_signer();
		struct dc_dnszone *z;

		gen[i] = (now_us() - t0) / 1000;
		t0 = now_us();
		z = make_zone(b, NULL);
		plain[i] = (now_us() - t0) / 1000;
		dc_dnszone_destroy(z);
		t0 = now_us();
		z = make_zone(b, k);
		sig[i] = (now_us() - t0) / 1000;
		dc_dnszone_destroy(z);
		dc_dnssign_destroy(k);
	}
	g = summarize(gen, runs);
	p = summarize(plain, runs);
	s = summarize(sig, runs);
	printf("Zone load (ms, %d runs; signed: 7 RRsets, SOA NS DNSKEY SRV TXT 2xA)\n", runs);
	printf("%-28s %8s %8s %8s %8s\n", "step", "median", "min", "avg", "max");
	printf("%-28s %8.3f %8.3f %8.3f %8.3f\n", "key generation (P-256)", g.med, g.min, g.avg,
	       g.max);
	printf("%-28s %8.3f %8.3f %8.3f %8.3f\n", "zone build, unsigned", p.med, p.min, p.avg,
	       p.max);
	printf("%-28s %8.3f %8.3f %8.3f %8.3f\n", "zone build + signing", s.med, s.min, s.avg,
	       s.max);
	printf("signing at load costs %.2f ms over the unsigned build\n\n", s.med - p.med);
}

int main(int argc, char **argv)
{
	static const struct kind kinds[] = {
		{ "SRV _ntm._udp (+glue)", "_ntm._udp.example.net.", LDNS_RR_TYPE_SRV },
		{ "TXT _ntm-key", "_ntm-key.example.net.", LDNS_RR_TYPE_TXT },
		{ "DNSKEY apex", "example.net.", LDNS_RR_TYPE_DNSKEY },
		{ "A published node", "node.example.net.", LDNS_RR_TYPE_A },
		{ "NODATA dc TXT", "dc.example.net.", LDNS_RR_TYPE_TXT },
		{ "NXDOMAIN, same name", "nobody.example.net.", LDNS_RR_TYPE_A },
		{ "NXDOMAIN, new names", NULL, LDNS_RR_TYPE_A },
	};
	int runs = argc > 1 ? atoi(argv[1]) : 7, n = argc > 2 ? atoi(argv[2]) : 2000;
	struct bench b = { .ctrl.n = 1, .dns.n = 1 };
	struct dc_dnssign *s;
	struct dc_dnszone *plain, *sig;
	unsigned seq = 0;

	if (runs < 1 || runs > RUNS_MAX || n < 1) {
		fprintf(stderr, "usage: dnssec [RUNS (1..%d) [QUERIES]]\n", RUNS_MAX);
		return 2;
	}
	memset(b.key.b, 7, sizeof(b.key.b));
	if (ntm_addr_parse("198.51.100.1:7000", 0, &b.ctrl.addrs[0], NULL, 0) < 0 ||
	    ntm_addr_parse("198.51.100.1:53", 0, &b.dns.addrs[0], NULL, 0) < 0) {
		return 1;
	}
	bench_load(&b, runs);
	s = make_signer();
	plain = make_zone(&b, NULL);
	sig = make_zone(&b, s);
	printf("Per answer (us; %d runs of %d queries; UDP, EDNS 1232; the baseline is the "
	       "same query without DO to an unsigned zone)\n",
	       runs, n);
	printf("%-24s %8s %8s %8s %8s %8s %7s %6s %6s\n", "query", "median", "min", "avg", "max",
	       "base-med", "ratio", "bytes", "base");
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		double t[RUNS_MAX], base[RUNS_MAX];
		size_t size = 0, bsize = 0;
		struct stats st, bs;

		for (int r = 0; r < runs; r++) {
			base[r] = run(plain, &kinds[i], false, n, &bsize, &seq);
			t[r] = run(sig, &kinds[i], true, n, &size, &seq);
		}
		st = summarize(t, runs);
		bs = summarize(base, runs);
		printf("%-24s %8.1f %8.1f %8.1f %8.1f %8.1f %6.1fx %6zu %6zu\n", kinds[i].label,
		       st.med, st.min, st.avg, st.max, bs.med, st.med / bs.med, size, bsize);
	}
	dc_dnszone_destroy(sig);
	dc_dnszone_destroy(plain);
	dc_dnssign_destroy(s);
	return 0;
}
