/* SPDX-License-Identifier: MIT */
/*
 * DNSSEC online signing (dc/dnssign.h) and the signed zone (dc/dnszone.h
 * with a signer): the key file, the DS record, signatures checked with
 * ldns's own verifier against the DNSKEY the zone serves, the signature
 * cache and its refresh on an injected clock, the neighbours of covering
 * NSECs in canonical order, and signed answers with their denial proofs.
 */
#include "dc/dnssign.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dc/dnszone.h"
#include "ntm_test.h"

static const uint32_t T0 = 1796000000; /* 2026-11 */

struct clock {
	uint32_t now;
};

static uint32_t fake_clock(void *ctx)
{
	return ((struct clock *)ctx)->now;
}

static struct dc_dnssign *signer(struct clock *c, const char *path, bool *created)
{
	struct dc_dnssign *s = NULL;
	char why[256] = "";
	int rc = dc_dnssign_create(&(struct dc_dnssign_config){ .zone = "example.net",
								.key_path = path,
								.clock = fake_clock,
								.clock_ctx = c },
				   &s, created, why, sizeof(why));

	if (rc != 0) {
		fprintf(stderr, "dc_dnssign_create: %s\n", why);
	}
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	return s;
}

static ldns_rr_list *set_of(const char *const *texts, size_t n)
{
	ldns_rr_list *l = ldns_rr_list_new();

	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = NULL;

		CU_ASSERT_EQUAL_FATAL(ldns_rr_new_frm_str(&rr, texts[i], 0, NULL, NULL),
				      LDNS_STATUS_OK);
		ldns_rr_list_push_rr(l, rr);
	}
	return l;
}

/* sig over set verifies with the signer's DNSKEY. */
static void expect_valid(const struct dc_dnssign *s, const ldns_rr_list *set, const ldns_rr *sig)
{
	ldns_rr_list *keys = ldns_rr_list_new();

	ldns_rr_list_push_rr(keys, ldns_rr_clone(dc_dnssign_dnskey(s)));
	CU_ASSERT_EQUAL(ldns_verify_rrsig_keylist_notime(set, sig, keys, NULL), LDNS_STATUS_OK);
	ldns_rr_list_deep_free(keys);
}

static char *tmpdir(void)
{
	static char dir[] = "/tmp/test_dc_dnssign.XXXXXX";

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	return dir;
}

static void test_key_file(void)
{
	struct clock c = { T0 };
	char path[256], ds1[DC_DNSSIGN_DS_TEXT_MAX], ds2[DC_DNSSIGN_DS_TEXT_MAX];
	const char *dir = tmpdir();
	struct dc_dnssign *s, *bad = NULL;
	struct stat st;
	bool created = false;
	char why[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/keys/zone.key", dir);
	s = signer(&c, path, &created);
	CU_ASSERT_TRUE(created);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(dc_dnssign_ds(s, ds1, sizeof(ds1)), 0);
	CU_ASSERT_EQUAL(ldns_rr_dnskey_flags(dc_dnssign_dnskey(s)) != NULL, true);
	CU_ASSERT_EQUAL(ldns_calc_keytag(dc_dnssign_dnskey(s)), dc_dnssign_keytag(s));
	dc_dnssign_destroy(s);

	/* the same key again, not a new one */
	s = signer(&c, path, &created);
	CU_ASSERT_FALSE(created);
	CU_ASSERT_EQUAL(dc_dnssign_ds(s, ds2, sizeof(ds2)), 0);
	CU_ASSERT_STRING_EQUAL(ds1, ds2);
	CU_ASSERT_EQUAL(dc_dnssign_ds(s, ds2, 10), -EMSGSIZE);
	dc_dnssign_destroy(s);

	/* readable by others: refused */
	CU_ASSERT_EQUAL(chmod(path, 0644), 0);
	CU_ASSERT_EQUAL(dc_dnssign_create(&(struct dc_dnssign_config){ .zone = "example.net",
								       .key_path = path },
					  &bad, NULL, why, sizeof(why)),
			-EACCES);
	CU_ASSERT_PTR_NULL(bad);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "chmod 600"));

	/* not a key */
	CU_ASSERT_EQUAL(chmod(path, 0600), 0);
	fp = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	fputs("Private-key-format: v1.2\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: !!\n", fp);
	fclose(fp);
	CU_ASSERT_EQUAL(dc_dnssign_create(&(struct dc_dnssign_config){ .zone = "example.net",
								       .key_path = path },
					  &bad, NULL, why, sizeof(why)),
			-EINVAL);
	CU_ASSERT_PTR_NULL(bad);
	unlink(path);
	snprintf(path, sizeof(path), "%s/keys", dir);
	rmdir(path);
	rmdir(dir);
}

static void test_ds_matches_dnskey(void)
{
	struct clock c = { T0 };
	struct dc_dnssign *s = signer(&c, NULL, NULL);
	char ds[DC_DNSSIGN_DS_TEXT_MAX], want[64];
	ldns_rr *rr = NULL;

	CU_ASSERT_EQUAL_FATAL(dc_dnssign_ds(s, ds, sizeof(ds)), 0);
	snprintf(want, sizeof(want), "example.net. 3600 IN DS %u 13 2 ", dc_dnssign_keytag(s));
	CU_ASSERT_EQUAL(strncmp(ds, want, strlen(want)), 0);
	CU_ASSERT_EQUAL(strlen(ds), strlen(want) + 64);
	CU_ASSERT_EQUAL_FATAL(ldns_rr_new_frm_str(&rr, ds, 0, NULL, NULL), LDNS_STATUS_OK);
	CU_ASSERT_TRUE(ldns_rr_compare_ds(rr, dc_dnssign_dnskey(s)));
	/* a CSK: zone key and secure entry point, algorithm 13 */
	CU_ASSERT_EQUAL(ldns_rdf2native_int16(ldns_rr_dnskey_flags(dc_dnssign_dnskey(s))), 257);
	CU_ASSERT_EQUAL(ldns_rdf2native_int8(ldns_rr_dnskey_algorithm(dc_dnssign_dnskey(s))), 13);
	ldns_rr_free(rr);
	dc_dnssign_destroy(s);
}

static void test_sign_and_cache(void)
{
	static const char *const txt[] = { "_ntm-key.example.net. 3600 IN TXT \"v=ntm1; k=x\"" };
	static const char *const two[] = { "n.example.net. 60 IN A 100.80.0.3",
					   "N.example.net. 60 IN A 100.80.0.4" };
	struct clock c = { T0 };
	struct dc_dnssign *s = signer(&c, NULL, NULL);
	ldns_rr_list *set = set_of(txt, 1), *set2 = set_of(two, 2), *empty = ldns_rr_list_new();
	struct dc_dnssign_stats st;
	const ldns_rr *sig, *again;
	ldns_rr *own = NULL;

	CU_ASSERT_EQUAL(dc_dnssign_sign(s, empty, &own), -EINVAL);
	CU_ASSERT_EQUAL_FATAL(dc_dnssign_sign(s, set, &own), 0);
	expect_valid(s, set, own);
	CU_ASSERT_EQUAL(ldns_rdf2native_time_t(ldns_rr_rrsig_inception(own)),
			T0 - DC_DNSSIGN_BACKDATE);
	CU_ASSERT_EQUAL(dc_dnssign_expiration(own), T0 + DC_DNSSIGN_VALIDITY);
	CU_ASSERT_EQUAL(ldns_rdf2native_int32(ldns_rr_rrsig_origttl(own)), 3600);
	ldns_rr_free(own);

	CU_ASSERT_EQUAL_FATAL(dc_dnssign_cached(s, set2, &sig), 0);
	expect_valid(s, set2, sig);
	CU_ASSERT_EQUAL_FATAL(dc_dnssign_cached(s, set2, &again), 0);
	CU_ASSERT_PTR_EQUAL(sig, again); /* the owner's case does not matter either */
	dc_dnssign_get_stats(s, &st);
	CU_ASSERT_EQUAL(st.signatures, 2);
	CU_ASSERT_EQUAL(st.cache_hits, 1);

	/* due once less than DC_DNSSIGN_REFRESH is left, not before */
	c.now = T0 + DC_DNSSIGN_VALIDITY - DC_DNSSIGN_REFRESH + 1;
	CU_ASSERT_FALSE(dc_dnssign_is_due(s, T0 + DC_DNSSIGN_VALIDITY + 1));
	CU_ASSERT_TRUE(dc_dnssign_is_due(s, T0 + DC_DNSSIGN_VALIDITY));
	CU_ASSERT_EQUAL_FATAL(dc_dnssign_cached(s, set2, &again), 0);
	CU_ASSERT_EQUAL(dc_dnssign_expiration(again), c.now + DC_DNSSIGN_VALIDITY);
	dc_dnssign_get_stats(s, &st);
	CU_ASSERT_EQUAL(st.signatures, 3);
	ldns_rr_list_deep_free(set);
	ldns_rr_list_deep_free(set2);
	ldns_rr_list_free(empty);
	dc_dnssign_destroy(s);
}

static char *name_text(const ldns_rdf *r)
{
	char *t = r != NULL ? ldns_rdf2str(r) : NULL;

	return t != NULL ? t : strdup("(null)");
}

/* prev(name) < name < after(name), name < next(name) < after(name); the texts as given. */
static void expect_neighbours(const char *name, const char *prev, const char *after)
{
	ldns_rdf *n = ldns_dname_new_frm_str(name);
	ldns_rdf *p = dc_dnssign_prev_name(n), *a = dc_dnssign_after_name(n);
	ldns_rdf *x = dc_dnssign_next_name(n);
	char *pt = name_text(p), *at = name_text(a);

	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	if (strcmp(pt, prev) != 0 || strcmp(at, after) != 0) {
		fprintf(stderr, "%s: prev %s (want %s), after %s (want %s)\n", name, pt, prev, at,
			after);
	}
	CU_ASSERT_STRING_EQUAL(pt, prev);
	CU_ASSERT_STRING_EQUAL(at, after);
	CU_ASSERT_FATAL(p != NULL && a != NULL && x != NULL);
	CU_ASSERT_TRUE(ldns_dname_compare(p, n) < 0);
	CU_ASSERT_TRUE(ldns_dname_compare(n, a) < 0);
	CU_ASSERT_TRUE(ldns_dname_compare(n, x) < 0);
	CU_ASSERT_TRUE(ldns_dname_compare(x, a) < 0);
	CU_ASSERT_TRUE(ldns_dname_is_subdomain(x, n));
	CU_ASSERT_FALSE(ldns_dname_is_subdomain(a, n));
	free(pt);
	free(at);
	ldns_rdf_deep_free(n);
	ldns_rdf_deep_free(p);
	ldns_rdf_deep_free(a);
	ldns_rdf_deep_free(x);
}

static void test_neighbours(void)
{
	char label63[64], name[128], prev[160], after[160];
	uint8_t longname[DC_DNSSIGN_NAME_MAX];
	ldns_rdf *n;

	expect_neighbours("nobody.example.net.", "nobodx\\255.example.net.",
			  "nobody\\000.example.net.");
	/* upper case sorts as lower case: the query's case does not matter */
	expect_neighbours("NoBody.example.net.", "nobodx\\255.example.net.",
			  "nobody\\000.example.net.");
	/* below '[' come the upper-case letters, which are lower case: skip to '@' */
	expect_neighbours("a[.example.net.", "a@\\255.example.net.", "a[\\000.example.net.");
	expect_neighbours("*.example.net.", "\\)\\255.example.net.", "*\\000.example.net.");
	/* a last octet \000: one label deeper below the shorter label */
	expect_neighbours("ab\\000.example.net.", "\\255.ab.example.net.",
			  "ab\\000\\000.example.net.");
	expect_neighbours("\\000.example.net.", "example.net.", "\\000\\000.example.net.");
	/* a full label: no octet can be appended */
	memset(label63, 'k', 63);
	label63[63] = '\0';
	snprintf(name, sizeof(name), "%s.example.net.", label63);
	snprintf(prev, sizeof(prev), "\\255.%.62sj.example.net.", label63);
	snprintf(after, sizeof(after), "%.62sl.example.net.", label63);
	expect_neighbours(name, prev, after);

	/* the root has none; a name near 255 octets no successor below it */
	n = ldns_dname_new_frm_str(".");
	CU_ASSERT_PTR_NULL(dc_dnssign_prev_name(n));
	CU_ASSERT_PTR_NULL(dc_dnssign_next_name(n));
	ldns_rdf_deep_free(n);
	for (size_t i = 0; i < 252; i += 63) {
		longname[i] = 62;
		memset(longname + i + 1, 'z', 62);
	}
	longname[252] = 1;
	longname[253] = 'q';
	longname[254] = 0;
	n = ldns_dname_new_frm_data(sizeof(longname), longname);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_PTR_NULL(dc_dnssign_next_name(n));
	CU_ASSERT_PTR_NULL(dc_dnssign_after_name(n));
	CU_ASSERT_PTR_NULL(dc_dnssign_prev_name(n));
	ldns_rdf_deep_free(n);
}

static void test_nsec_record(void)
{
	ldns_rdf *o = ldns_dname_new_frm_str("DC.example.net."),
		 *x = ldns_dname_new_frm_str("\\000.dc.example.net.");
	ldns_rr_type types[] = { LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA };
	ldns_rr *nsec = dc_dnssign_nsec(o, x, types, 2, 60);
	char *t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(nsec);
	t = ldns_rr2str(nsec);
	CU_ASSERT_STRING_EQUAL(t, "dc.example.net.\t60\tIN\tNSEC\t\\000.dc.example.net. A AAAA "
				  "RRSIG NSEC \n");
	free(t);
	ldns_rr_free(nsec);
	ldns_rdf_deep_free(o);
	ldns_rdf_deep_free(x);
}

/* ------------------------------------------------------------ signed zone */

static int fake_lookup(void *ctx, const char *fqdn, uint8_t vip4[4], uint8_t vip6[16])
{
	(void)ctx;
	if (strcmp(fqdn, "b.example.net") == 0) {
		CU_ASSERT_EQUAL(inet_pton(AF_INET, "100.80.0.3", vip4), 1);
		CU_ASSERT_EQUAL(inet_pton(AF_INET6, "fd80:1::3", vip6), 1);
		return DC_DNSZONE_NODE;
	}
	return strcmp(fqdn, "sub.example.net") == 0 ? DC_DNSZONE_ENT : DC_DNSZONE_NONE;
}

struct zfx {
	struct clock c;
	struct dc_dnssign *s;
	struct dc_addr_list ctrl, dns;
	struct ntm_key key;
	struct dc_dnszone *z;
	uint8_t out[DC_DNSZONE_MSG_MAX];
	struct dc_dnszone_result res;
};

static void zfx_init(struct zfx *f)
{
	memset(f, 0, sizeof(*f));
	f->c.now = T0;
	f->s = signer(&f->c, NULL, NULL);
	memset(f->key.b, 7, sizeof(f->key.b));
	CU_ASSERT_EQUAL_FATAL(ntm_addr_parse("198.51.100.1:7000", 0, &f->ctrl.addrs[0], NULL, 0),
			      0);
	CU_ASSERT_EQUAL_FATAL(ntm_addr_parse("198.51.100.1:53", 0, &f->dns.addrs[0], NULL, 0), 0);
	f->ctrl.n = f->dns.n = 1;
	CU_ASSERT_EQUAL_FATAL(
		dc_dnszone_create(&(struct dc_dnszone_config){ .domain = "example.net",
							       .pubkey = &f->key,
							       .ctrl_listen = &f->ctrl,
							       .dns_listen = &f->dns,
							       .serial = 7,
							       .lookup = fake_lookup,
							       .signer = f->s },
				  &f->z),
		0);
}

static void zfx_fini(struct zfx *f)
{
	dc_dnszone_destroy(f->z);
	dc_dnssign_destroy(f->s);
}

static ldns_pkt *ask(struct zfx *f, const char *name, ldns_rr_type type, bool dnssec)
{
	ldns_pkt *q = ldns_pkt_query_new(ldns_dname_new_frm_str(name), type, LDNS_RR_CLASS_IN, 0);
	ldns_pkt *a = NULL;
	uint8_t *wire = NULL;
	size_t len = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	ldns_pkt_set_edns_udp_size(q, 1232);
	ldns_pkt_set_edns_do(q, dnssec);
	CU_ASSERT_EQUAL_FATAL(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
	ldns_pkt_free(q);
	CU_ASSERT_EQUAL_FATAL(
		dc_dnszone_answer(f->z, wire, len, true, f->out, sizeof(f->out), &f->res), 0);
	free(wire);
	CU_ASSERT_FALSE(f->res.truncated);
	CU_ASSERT_EQUAL(f->res.dnssec, dnssec);
	CU_ASSERT_EQUAL_FATAL(ldns_wire2pkt(&a, f->out, f->res.len), LDNS_STATUS_OK);
	CU_ASSERT_EQUAL(ldns_pkt_edns_do(a), dnssec);
	return a;
}

static size_t count_type(const ldns_rr_list *l, ldns_rr_type t)
{
	size_t n = 0;

	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		n += ldns_rr_get_type(ldns_rr_list_rr(l, i)) == t;
	}
	return n;
}

/* Every RRset of the section has one RRSIG, and it verifies with the zone's DNSKEY. */
static void expect_signed(const struct zfx *f, const ldns_rr_list *l)
{
	ldns_rr_list *keys = ldns_rr_list_new();

	ldns_rr_list_push_rr(keys, ldns_rr_clone(dc_dnssign_dnskey(f->s)));
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l, i);
		ldns_rr_list *set = ldns_rr_list_new(), *sigs = ldns_rr_list_new();

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG) {
			ldns_rr_list_free(set);
			ldns_rr_list_free(sigs);
			continue;
		}
		for (size_t j = 0; j < ldns_rr_list_rr_count(l); j++) {
			ldns_rr *o = ldns_rr_list_rr(l, j);

			if (ldns_dname_compare(ldns_rr_owner(o), ldns_rr_owner(rr)) != 0) {
				continue;
			}
			if (ldns_rr_get_type(o) == ldns_rr_get_type(rr)) {
				ldns_rr_list_push_rr(set, o);
			} else if (ldns_rr_get_type(o) == LDNS_RR_TYPE_RRSIG &&
				   ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(o)) ==
					   ldns_rr_get_type(rr)) {
				ldns_rr_list_push_rr(sigs, o);
			}
		}
		CU_ASSERT_EQUAL(ldns_rr_list_rr_count(sigs), 1);
		if (ldns_rr_list_rr_count(sigs) == 1) {
			CU_ASSERT_EQUAL(
				ldns_verify_rrsig_keylist_time(set, ldns_rr_list_rr(sigs, 0), keys,
							       (time_t)f->c.now, NULL),
				LDNS_STATUS_OK);
		}
		ldns_rr_list_free(set);
		ldns_rr_list_free(sigs);
	}
	ldns_rr_list_deep_free(keys);
}

/* Some NSEC of the authority section covers (or, with `at`, is at) `name`. */
static const ldns_rr *nsec_for(const ldns_pkt *p, const char *name, bool at)
{
	ldns_rdf *n = ldns_dname_new_frm_str(name);
	const ldns_rr_list *l = ldns_pkt_authority(p);
	const ldns_rr *found = NULL;

	ldns_dname2canonical(n);
	for (size_t i = 0; found == NULL && i < ldns_rr_list_rr_count(l); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(l, i);

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NSEC) {
			continue;
		}
		if (at ? ldns_dname_compare(ldns_rr_owner(rr), n) == 0
		       : ldns_nsec_covers_name(rr, n)) {
			found = rr;
		}
	}
	ldns_rdf_deep_free(n);
	return found;
}

static void test_zone_signed_answers(void)
{
	struct zfx f;
	ldns_pkt *p;

	zfx_init(&f);
	/* without DO: exactly the unsigned answer */
	p = ask(&f, "_ntm._udp.example.net.", LDNS_RR_TYPE_SRV, false);
	CU_ASSERT_EQUAL(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_RRSIG), 0);
	CU_ASSERT_EQUAL(count_type(ldns_pkt_additional(p), LDNS_RR_TYPE_RRSIG), 0);
	ldns_pkt_free(p);

	p = ask(&f, "_ntm._udp.example.net.", LDNS_RR_TYPE_SRV, true);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CU_ASSERT_EQUAL(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_RRSIG), 1);
	CU_ASSERT_EQUAL(count_type(ldns_pkt_additional(p), LDNS_RR_TYPE_RRSIG), 1); /* dc A */
	expect_signed(&f, ldns_pkt_answer(p));
	expect_signed(&f, ldns_pkt_additional(p));
	ldns_pkt_free(p);

	p = ask(&f, "example.net.", LDNS_RR_TYPE_DNSKEY, true);
	CU_ASSERT_EQUAL_FATAL(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_DNSKEY), 1);
	CU_ASSERT_EQUAL(
		ldns_rr_compare(ldns_rr_list_rr(ldns_pkt_answer(p), 0), dc_dnssign_dnskey(f.s)), 0);
	expect_signed(&f, ldns_pkt_answer(p));
	ldns_pkt_free(p);

	/* a published node: signed from the cache, the second time without a signature */
	p = ask(&f, "b.example.net.", LDNS_RR_TYPE_A, true);
	CU_ASSERT_EQUAL(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_A), 1);
	expect_signed(&f, ldns_pkt_answer(p));
	ldns_pkt_free(p);
	{
		struct dc_dnssign_stats a, b;

		dc_dnssign_get_stats(f.s, &a);
		p = ask(&f, "b.example.net.", LDNS_RR_TYPE_A, true);
		dc_dnssign_get_stats(f.s, &b);
		CU_ASSERT_EQUAL(b.signatures, a.signatures);
		CU_ASSERT_EQUAL(b.cache_hits, a.cache_hits + 1);
		ldns_pkt_free(p);
	}
	zfx_fini(&f);
}

static void test_zone_denial(void)
{
	struct zfx f;
	const ldns_rr *nsec;
	ldns_pkt *p;

	zfx_init(&f);
	/* NXDOMAIN stays NXDOMAIN: the name and the wildcard at the apex covered */
	p = ask(&f, "nobody.example.net.", LDNS_RR_TYPE_A, true);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	CU_ASSERT_EQUAL(count_type(ldns_pkt_authority(p), LDNS_RR_TYPE_NSEC), 2);
	CU_ASSERT_PTR_NOT_NULL(nsec_for(p, "nobody.example.net.", false));
	CU_ASSERT_PTR_NOT_NULL(nsec_for(p, "*.example.net.", false));
	/* minimal: no name of the zone is covered */
	CU_ASSERT_PTR_NULL(nsec_for(p, "ns.example.net.", false));
	CU_ASSERT_PTR_NULL(nsec_for(p, "nobod.example.net.", false));
	CU_ASSERT_PTR_NULL(nsec_for(p, "nobodyy.example.net.", false));
	expect_signed(&f, ldns_pkt_authority(p));
	ldns_pkt_free(p);

	/* deeper: the next closer name under the closest encloser (the ENT sub) */
	p = ask(&f, "x.y.sub.example.net.", LDNS_RR_TYPE_A, true);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	CU_ASSERT_PTR_NOT_NULL(nsec_for(p, "y.sub.example.net.", false));
	CU_ASSERT_PTR_NOT_NULL(nsec_for(p, "*.sub.example.net.", false));
	CU_ASSERT_PTR_NULL(nsec_for(p, "c.sub.example.net.", false));
	expect_signed(&f, ldns_pkt_authority(p));
	ldns_pkt_free(p);

	/* the unpublished node a.example.net: denied like any name */
	p = ask(&f, "a.example.net.", LDNS_RR_TYPE_A, true);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	CU_ASSERT_PTR_NOT_NULL(nsec_for(p, "a.example.net.", false));
	ldns_pkt_free(p);

	/* NODATA: the NSEC at the name lists what is there */
	p = ask(&f, "dc.example.net.", LDNS_RR_TYPE_TXT, true);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CU_ASSERT_EQUAL(ldns_pkt_ancount(p), 0);
	nsec = nsec_for(p, "dc.example.net.", true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(nsec);
	CU_ASSERT_TRUE(ldns_nsec_bitmap_covers_type(ldns_rr_rdf(nsec, 1), LDNS_RR_TYPE_A));
	CU_ASSERT_FALSE(ldns_nsec_bitmap_covers_type(ldns_rr_rdf(nsec, 1), LDNS_RR_TYPE_TXT));
	expect_signed(&f, ldns_pkt_authority(p));
	ldns_pkt_free(p);
	/* the type NSEC itself: the record is the answer */
	p = ask(&f, "dc.example.net.", LDNS_RR_TYPE_NSEC, true);
	CU_ASSERT_EQUAL(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	CU_ASSERT_EQUAL(count_type(ldns_pkt_answer(p), LDNS_RR_TYPE_NSEC), 1);
	CU_ASSERT_EQUAL(count_type(ldns_pkt_authority(p), LDNS_RR_TYPE_SOA), 0);
	expect_signed(&f, ldns_pkt_answer(p));
	ldns_pkt_free(p);
	p = ask(&f, "b.example.net.", LDNS_RR_TYPE_TXT, true); /* a node */
	nsec = nsec_for(p, "b.example.net.", true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(nsec);
	CU_ASSERT_TRUE(ldns_nsec_bitmap_covers_type(ldns_rr_rdf(nsec, 1), LDNS_RR_TYPE_AAAA));
	ldns_pkt_free(p);
	p = ask(&f, "_udp.example.net.", LDNS_RR_TYPE_SRV, true); /* an empty non-terminal */
	nsec = nsec_for(p, "_udp.example.net.", true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(nsec);
	CU_ASSERT_FALSE(ldns_nsec_bitmap_covers_type(ldns_rr_rdf(nsec, 1), LDNS_RR_TYPE_SRV));
	ldns_pkt_free(p);
	zfx_fini(&f);
}

static void test_zone_resign(void)
{
	struct zfx f;
	struct dc_dnssign_stats a, b;
	ldns_pkt *p;

	zfx_init(&f);
	/* a new serial: the SOA signed again (one signature), and it verifies */
	dc_dnssign_get_stats(f.s, &a);
	dc_dnszone_set_serial(f.z, 8);
	dc_dnssign_get_stats(f.s, &b);
	CU_ASSERT_EQUAL(b.signatures, a.signatures + 1);
	p = ask(&f, "example.net.", LDNS_RR_TYPE_SOA, true);
	CU_ASSERT_EQUAL(
		ldns_rdf2native_int32(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(p), 0), 2)), 8);
	expect_signed(&f, ldns_pkt_answer(p));
	ldns_pkt_free(p);

	/* eight days on, every signature of the zone is made again before it expires */
	f.c.now = T0 + 8 * 86400;
	p = ask(&f, "_ntm-key.example.net.", LDNS_RR_TYPE_TXT, true);
	CU_ASSERT_EQUAL(dc_dnssign_expiration(ldns_rr_list_rr(ldns_pkt_answer(p), 1)),
			f.c.now + DC_DNSSIGN_VALIDITY);
	expect_signed(&f, ldns_pkt_answer(p));
	ldns_pkt_free(p);
	zfx_fini(&f);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_key_file),       NTM_TEST(test_ds_matches_dnskey),
	NTM_TEST(test_sign_and_cache), NTM_TEST(test_neighbours),
	NTM_TEST(test_nsec_record),    NTM_TEST(test_zone_signed_answers),
	NTM_TEST(test_zone_denial),    NTM_TEST(test_zone_resign),
};

NTM_TEST_MAIN("dc_dnssign", cases)
