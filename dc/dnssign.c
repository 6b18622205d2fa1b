/* SPDX-License-Identifier: MIT */
/*
 * The zone signing key, RRSIGs (RFC 4034 3, RFC 6605) and minimally
 * covering NSECs (RFC 4470, RFC 4471) for dc/dnszone.c; see dnssign.h.
 */
#include "dnssign.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/privfile.h"

enum {
	KEY_FILE_MAX = 4096,
	KEY_BITS = 256,
	LABEL_MAX = 63,
	OCTET_MAX = 0xff,
	UPPER_FIRST = 'A',
	UPPER_LAST = 'Z',
	BELOW_UPPER = '@', /* the greatest octet below 'A' */
	ABOVE_UPPER = '[', /* the least octet above 'Z' */
};

struct cache_slot {
	uint8_t *key; /* the RRset's canonical wire form */
	size_t len;
	ldns_rr *sig;
};

struct dc_dnssign {
	ldns_key *key;
	ldns_key_list *keys; /* holds key */
	ldns_rr *dnskey;
	dc_dnssign_clock_cb clock;
	void *clock_ctx;
	uint8_t hash_key[crypto_shorthash_KEYBYTES];
	struct dc_dnssign_stats st;
	struct cache_slot cache[DC_DNSSIGN_CACHE_SLOTS];
};

/* ------------------------------------------------------------ the key file */

static int fail(char *why, size_t whylen, int rc, const char *path, const char *what)
{
	snprintf(why, whylen, "zone key %s: %s", path, what);
	return rc;
}

/* A new key written to the (empty, private) file open at fd. */
static int generate(int fd, const char *path, ldns_key **out, char *why, size_t whylen)
{
	ldns_key *k = ldns_key_new_frm_algorithm(LDNS_SIGN_ECDSAP256SHA256, KEY_BITS);
	FILE *fp;
	int rc = 0;

	if (k == NULL) {
		return fail(why, whylen, -EIO, path, "ldns cannot generate an ECDSAP256SHA256 key");
	}
	fp = fdopen(dup(fd), "w");
	if (fp == NULL) {
		ldns_key_deep_free(k);
		return fail(why, whylen, -errno, path, strerror(errno));
	}
	ldns_key_print(fp, k);
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
		rc = fail(why, whylen, -errno, path, strerror(errno));
	}
	if (fclose(fp) != 0 && rc == 0) {
		rc = fail(why, whylen, -errno, path, strerror(errno));
	}
	if (rc < 0) {
		ldns_key_deep_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

static int parse(int fd, const char *path, ldns_key **out, char *why, size_t whylen)
{
	FILE *fp = fdopen(dup(fd), "r");
	ldns_key *k = NULL;
	ldns_status st;

	if (fp == NULL) {
		return fail(why, whylen, -errno, path, strerror(errno));
	}
	st = ldns_key_new_frm_fp(&k, fp);
	fclose(fp);
	if (st != LDNS_STATUS_OK) {
		return fail(why, whylen, -EINVAL, path, ldns_get_errorstr_by_id(st));
	}
	if (ldns_key_algorithm(k) != LDNS_SIGN_ECDSAP256SHA256) {
		ldns_key_deep_free(k);
		return fail(why, whylen, -EINVAL, path,
			    "not an ECDSAP256SHA256 (algorithm 13) key");
	}
	*out = k;
	return 0;
}

/* Loads the key, or makes one when the file is missing or empty. */
static int load_key(const char *path, ldns_key **out, bool *created, char *why, size_t whylen)
{
	struct stat st;
	mode_t mode = 0;
	int fd, rc;

	rc = ntm_privfile_make(path, &mode, why, whylen);
	if (rc < 0) {
		return rc;
	}
	if ((mode & 077) != 0) {
		return fail(why, whylen, -EACCES, path,
			    "group or others may access it (chmod 600)");
	}
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		return fail(why, whylen, -errno, path, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		rc = fail(why, whylen, -errno, path, strerror(errno));
	} else if (st.st_size > KEY_FILE_MAX) {
		rc = fail(why, whylen, -EINVAL, path, "too large for a key file");
	} else if (st.st_size == 0) {
		rc = generate(fd, path, out, why, whylen);
		*created = rc == 0;
	} else {
		rc = parse(fd, path, out, why, whylen);
	}
	close(fd);
	return rc;
}

/* Owner, flags, the DNSKEY record and its key tag. */
static int setup(struct dc_dnssign *s, const char *zone)
{
	char apex[DC_DNSSIGN_NAME_MAX + 2];
	ldns_rdf *owner;

	snprintf(apex, sizeof(apex), "%s.", zone);
	owner = ldns_dname_new_frm_str(apex);
	if (owner == NULL) {
		return -EINVAL;
	}
	ldns_key_set_pubkey_owner(s->key, owner);
	ldns_key_set_flags(s->key, DC_DNSSIGN_KEY_FLAGS);
	ldns_key_set_use(s->key, true);
	s->dnskey = ldns_key2rr(s->key);
	if (s->dnskey == NULL) {
		return -ENOMEM;
	}
	ldns_rr_set_ttl(s->dnskey, DC_DNSSIGN_DNSKEY_TTL);
	ldns_key_set_keytag(s->key, ldns_calc_keytag(s->dnskey));
	s->keys = ldns_key_list_new();
	if (s->keys == NULL || !ldns_key_list_push_key(s->keys, s->key)) {
		return -ENOMEM;
	}
	return 0;
}

static uint32_t wall_clock(void *ctx)
{
	(void)ctx;
	return (uint32_t)time(NULL);
}

int dc_dnssign_create(const struct dc_dnssign_config *cfg, struct dc_dnssign **out, bool *created,
		      char *why, size_t whylen)
{
	struct dc_dnssign *s;
	bool made = false;
	int rc = 0;

	*out = NULL;
	if (created != NULL) {
		*created = false;
	}
	if (sodium_init() < 0) {
		return fail(why, whylen, -EIO, "-", "libsodium");
	}
	s = ntm_calloc(1, sizeof(*s));
	if (s == NULL) {
		return fail(why, whylen, -ENOMEM, cfg->zone, "out of memory");
	}
	s->clock = cfg->clock != NULL ? cfg->clock : wall_clock;
	s->clock_ctx = cfg->clock_ctx;
	randombytes_buf(s->hash_key, sizeof(s->hash_key));
	if (cfg->key_path != NULL) {
		rc = load_key(cfg->key_path, &s->key, &made, why, whylen);
	} else {
		s->key = ldns_key_new_frm_algorithm(LDNS_SIGN_ECDSAP256SHA256, KEY_BITS);
		rc = s->key == NULL ? fail(why, whylen, -EIO, "(memory)", "cannot generate") : 0;
	}
	if (rc == 0) {
		rc = setup(s, cfg->zone);
		if (rc < 0) {
			fail(why, whylen, rc, cfg->zone, "cannot set the key up for this zone");
		}
	}
	if (rc < 0) {
		if (s->keys == NULL && s->key != NULL) {
			ldns_key_deep_free(s->key); /* not NULL-safe */
			s->key = NULL;
		}
		dc_dnssign_destroy(s);
		return rc;
	}
	if (created != NULL) {
		*created = made;
	}
	*out = s;
	return 0;
}

void dc_dnssign_destroy(struct dc_dnssign *s)
{
	if (s == NULL) {
		return;
	}
	for (size_t i = 0; i < DC_DNSSIGN_CACHE_SLOTS; i++) {
		ntm_free(s->cache[i].key);
		ldns_rr_free(s->cache[i].sig);
	}
	ldns_rr_free(s->dnskey);
	if (s->keys != NULL) {
		ldns_key_list_free(s->keys); /* frees the key too */
	}
	sodium_memzero(s->hash_key, sizeof(s->hash_key));
	ntm_free(s);
}

uint32_t dc_dnssign_now(const struct dc_dnssign *s)
{
	return s->clock(s->clock_ctx);
}

const ldns_rr *dc_dnssign_dnskey(const struct dc_dnssign *s)
{
	return s->dnskey;
}

uint16_t dc_dnssign_keytag(const struct dc_dnssign *s)
{
	return ldns_key_keytag(s->key);
}

int dc_dnssign_ds(const struct dc_dnssign *s, char *out, size_t cap)
{
	ldns_rr *ds = ldns_key_rr2ds(s->dnskey, LDNS_SHA256);
	char *text = ds != NULL ? ldns_rr2str(ds) : NULL;
	size_t n;
	int rc = 0;

	ldns_rr_free(ds);
	if (text == NULL) {
		return -ENOMEM;
	}
	n = strcspn(text, "\n");
	text[n] = '\0';
	for (char *p = text; *p != '\0'; p++) {
		*p = *p == '\t' ? ' ' : *p;
	}
	if (n >= cap) {
		rc = -EMSGSIZE;
	} else {
		memcpy(out, text, n + 1);
	}
	free(text);
	return rc;
}

/* ------------------------------------------------------------ signatures */

int dc_dnssign_sign(struct dc_dnssign *s, const ldns_rr_list *rrset, ldns_rr **sig)
{
	uint32_t now = dc_dnssign_now(s);
	ldns_rr_list *copy, *sigs;

	*sig = NULL;
	if (ldns_rr_list_rr_count(rrset) == 0) {
		return -EINVAL;
	}
	copy = ldns_rr_list_clone(rrset);
	if (copy == NULL) {
		return -ENOMEM;
	}
	ldns_key_set_inception(s->key, now - DC_DNSSIGN_BACKDATE);
	ldns_key_set_expiration(s->key, now + DC_DNSSIGN_VALIDITY);
	sigs = ldns_sign_public(copy, s->keys);
	ldns_rr_list_deep_free(copy);
	if (sigs == NULL || ldns_rr_list_rr_count(sigs) != 1) {
		ldns_rr_list_deep_free(sigs);
		return -EIO;
	}
	*sig = ldns_rr_list_pop_rr(sigs);
	ldns_rr_list_free(sigs);
	s->st.signatures++;
	return 0;
}

uint32_t dc_dnssign_expiration(const ldns_rr *rrsig)
{
	const ldns_rdf *e;

	if (rrsig == NULL || ldns_rr_get_type(rrsig) != LDNS_RR_TYPE_RRSIG) {
		return 0;
	}
	e = ldns_rr_rrsig_expiration(rrsig);
	return e != NULL ? ldns_rdf2native_time_t(e) : 0;
}

bool dc_dnssign_is_due(const struct dc_dnssign *s, uint32_t expiration)
{
	uint32_t now = dc_dnssign_now(s);

	/* RFC 1982 arithmetic: a wrapped clock still compares right */
	return (int32_t)(expiration - now) < DC_DNSSIGN_REFRESH;
}

/* The RRset's canonical wire form (lower-case names, sorted): the cache key. */
static int canonical_wire(const ldns_rr_list *rrset, uint8_t **out, size_t *len)
{
	ldns_rr_list *c = ldns_rr_list_clone(rrset);
	ldns_buffer *b = ldns_buffer_new(LDNS_MAX_PACKETLEN);
	int rc = -ENOMEM;

	*out = NULL;
	if (c != NULL && b != NULL) {
		for (size_t i = 0; i < ldns_rr_list_rr_count(c); i++) {
			ldns_rr2canonical(ldns_rr_list_rr(c, i));
		}
		ldns_rr_list_sort(c);
		rc = ldns_rr_list2buffer_wire(b, c) == LDNS_STATUS_OK ? 0 : -EMSGSIZE;
	}
	if (rc == 0) {
		*len = ldns_buffer_position(b);
		*out = ntm_malloc(*len);
		rc = *out == NULL ? -ENOMEM : 0;
		if (rc == 0) {
			memcpy(*out, ldns_buffer_begin(b), *len);
		}
	}
	ldns_buffer_free(b);
	ldns_rr_list_deep_free(c);
	return rc;
}

int dc_dnssign_cached(struct dc_dnssign *s, const ldns_rr_list *rrset, const ldns_rr **sig)
{
	uint8_t h[crypto_shorthash_BYTES];
	struct cache_slot *slot;
	ldns_rr *fresh = NULL;
	uint8_t *key;
	size_t len;
	int rc;

	*sig = NULL;
	rc = canonical_wire(rrset, &key, &len);
	if (rc < 0) {
		return rc;
	}
	crypto_shorthash(h, key, len, s->hash_key);
	slot = &s->cache[((size_t)h[0] << 8 | h[1]) % DC_DNSSIGN_CACHE_SLOTS];
	if (slot->sig != NULL && slot->len == len && memcmp(slot->key, key, len) == 0 &&
	    !dc_dnssign_is_due(s, dc_dnssign_expiration(slot->sig))) {
		ntm_free(key);
		s->st.cache_hits++;
		*sig = slot->sig;
		return 0;
	}
	rc = dc_dnssign_sign(s, rrset, &fresh);
	if (rc < 0) {
		ntm_free(key);
		return rc;
	}
	ntm_free(slot->key);
	ldns_rr_free(slot->sig);
	slot->key = key;
	slot->len = len;
	slot->sig = fresh;
	*sig = fresh;
	return 0;
}

void dc_dnssign_get_stats(const struct dc_dnssign *s, struct dc_dnssign_stats *out)
{
	*out = s->st;
}

/* ------------------------------------------------------------ denial */

/* name's canonical wire octets into buf; returns the length, 0 for the root or none. */
static size_t canonical_octets(const ldns_rdf *name, uint8_t buf[DC_DNSSIGN_NAME_MAX])
{
	size_t n = ldns_rdf_size(name);

	if (ldns_rdf_get_type(name) != LDNS_RDF_TYPE_DNAME || n < 2 || n > DC_DNSSIGN_NAME_MAX) {
		return 0;
	}
	memcpy(buf, ldns_rdf_data(name), n);
	for (size_t i = 0; i < n;) {
		size_t l = buf[i];

		if (l == 0 || i + 1 + l > n) {
			break;
		}
		for (size_t j = i + 1; j <= i + l; j++) {
			if (buf[j] >= UPPER_FIRST && buf[j] <= UPPER_LAST) {
				buf[j] = (uint8_t)(buf[j] - UPPER_FIRST + 'a');
			}
		}
		i += 1 + l;
	}
	return buf[0] == 0 ? 0 : n;
}

static ldns_rdf *from_octets(const uint8_t *d, size_t n)
{
	return n <= DC_DNSSIGN_NAME_MAX ? ldns_dname_new_frm_data((uint16_t)n, d) : NULL;
}

ldns_rdf *dc_dnssign_next_name(const ldns_rdf *name)
{
	uint8_t in[DC_DNSSIGN_NAME_MAX], out[DC_DNSSIGN_NAME_MAX + 2];
	size_t n = canonical_octets(name, in);

	if (n == 0) {
		return NULL;
	}
	out[0] = 1;
	out[1] = 0;
	memcpy(out + 2, in, n);
	return from_octets(out, n + 2);
}

/*
 * The first name after NAME and all names below it: the first label with an
 * octet \000 appended, or, for a full label, its last octet raised (past
 * the upper-case letters, which sort as lower case).
 */
ldns_rdf *dc_dnssign_after_name(const ldns_rdf *name)
{
	uint8_t in[DC_DNSSIGN_NAME_MAX], out[DC_DNSSIGN_NAME_MAX + 1];
	size_t n = canonical_octets(name, in), l;
	uint8_t c;

	if (n == 0) {
		return NULL;
	}
	l = in[0];
	if (l == LABEL_MAX) {
		c = in[l];
		if (c == OCTET_MAX) {
			return NULL;
		}
		c = (uint8_t)(c + 1);
		in[l] = c >= UPPER_FIRST && c <= UPPER_LAST ? ABOVE_UPPER : c;
		return from_octets(in, n);
	}
	memcpy(out, in, 1 + l);
	out[0] = (uint8_t)(l + 1);
	out[1 + l] = 0;
	memcpy(out + 2 + l, in + 1 + l, n - 1 - l);
	return from_octets(out, n + 1);
}

/*
 * Lowers the first label's last octet c (skipping upper-case letters, which
 * sort as lower case) and appends \255, or, for a full label, prepends the
 * label "\255". For c = 0 the shorter label is the neighbour's parent:
 * "\255.LABEL-WITHOUT-C.REST"; for the label "\000" itself, the parent.
 */
ldns_rdf *dc_dnssign_prev_name(const ldns_rdf *name)
{
	uint8_t in[DC_DNSSIGN_NAME_MAX], out[DC_DNSSIGN_NAME_MAX + 2];
	size_t n = canonical_octets(name, in), l, rest;
	uint8_t c;

	if (n == 0) {
		return NULL;
	}
	l = in[0];
	rest = n - 1 - l;
	c = in[l];
	if (c == 0 && l == 1) {
		return from_octets(in + 2, rest);
	}
	if (c == 0 || l == LABEL_MAX) {
		out[0] = 1;
		out[1] = OCTET_MAX;
		memcpy(out + 2, in, n);
		if (c == 0) {
			out[2] = (uint8_t)(l - 1);
			memmove(out + 2 + l, out + 3 + l, rest); /* drop the \000 octet */
			return from_octets(out, n + 1);
		}
		c = (uint8_t)(c - 1);
		out[2 + l] = c >= UPPER_FIRST && c <= UPPER_LAST ? BELOW_UPPER : c;
		return from_octets(out, n + 2);
	}
	c = (uint8_t)(c - 1);
	memcpy(out, in, 1 + l);
	out[0] = (uint8_t)(l + 1);
	out[l] = c >= UPPER_FIRST && c <= UPPER_LAST ? BELOW_UPPER : c;
	out[l + 1] = OCTET_MAX;
	memcpy(out + l + 2, in + 1 + l, rest);
	return from_octets(out, n + 1);
}

ldns_rr *dc_dnssign_nsec(const ldns_rdf *owner, const ldns_rdf *next, const ldns_rr_type *types,
			 size_t n, uint32_t ttl)
{
	ldns_rr_type all[LDNS_RDATA_FIELD_DESCRIPTORS_COMMON + 2];
	ldns_rr *rr = ldns_rr_new();
	ldns_rdf *o = ldns_rdf_clone(owner), *x = ldns_rdf_clone(next), *bm;
	size_t k = 0;

	for (size_t i = 0; i < n && k < sizeof(all) / sizeof(all[0]) - 2; i++) {
		all[k++] = types[i];
	}
	all[k++] = LDNS_RR_TYPE_RRSIG;
	all[k++] = LDNS_RR_TYPE_NSEC;
	bm = ldns_dnssec_create_nsec_bitmap(all, k, LDNS_RR_TYPE_NSEC);
	if (rr == NULL || o == NULL || x == NULL || bm == NULL) {
		ldns_rr_free(rr);
		ldns_rdf_deep_free(o);
		ldns_rdf_deep_free(x);
		ldns_rdf_deep_free(bm);
		return NULL;
	}
	ldns_dname2canonical(o);
	ldns_dname2canonical(x);
	ldns_rr_set_owner(rr, o);
	ldns_rr_set_type(rr, LDNS_RR_TYPE_NSEC);
	ldns_rr_set_ttl(rr, ttl);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	if (!ldns_rr_push_rdf(rr, x)) {
		ldns_rdf_deep_free(x);
		ldns_rdf_deep_free(bm);
		ldns_rr_free(rr);
		return NULL;
	}
	if (!ldns_rr_push_rdf(rr, bm)) {
		ldns_rdf_deep_free(bm);
		ldns_rr_free(rr);
		return NULL;
	}
	return rr;
}
