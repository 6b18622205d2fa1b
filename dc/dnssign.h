/* SPDX-License-Identifier: MIT */
#ifndef DC_DNSSIGN_H
#define DC_DNSSIGN_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * DNSSEC online signing of the DC's zone (dc/dnszone.h uses it; RFC 4033-4035).
 *
 * One combined signing key (CSK: flags 257, zone key and SEP) of algorithm
 * 13, ECDSAP256SHA256 (RFC 6605), which ldns 1.8 and every validating
 * resolver (unbound, BIND, Knot) support. The key lives in a 0600 file in
 * the BIND private-key format ldns reads and writes ("Private-key-format:
 * v1.2"); it is generated at the first start when the file is missing or
 * empty. The parent zone (or a resolver's trust anchor) takes the DS
 * record dc_dnssign_ds() prints.
 *
 * Signatures are valid DC_DNSSIGN_VALIDITY seconds from an inception
 * DC_DNSSIGN_BACKDATE seconds in the past (clocks of validators drift), and
 * are made again once less than DC_DNSSIGN_REFRESH is left. Time is the
 * wall clock (validity is wall-clock time by definition), injectable for
 * tests.
 *
 * Authenticated denial is NSEC with "minimally covering" records built per
 * answer (RFC 4470, "white lies"): the NXDOMAIN rcode is kept, and the
 * NSECs cover only the queried name and the wildcard at its closest
 * encloser, so that a resolver's aggressive NSEC cache (RFC 8198) can
 * deny nothing else. The neighbours: the NSEC of a name that does not
 * exist runs from dc_dnssign_prev_name() to dc_dnssign_after_name() (the
 * first name past NAME and everything below it: the first label with an
 * octet \000 appended; a next name below NAME would say NAME is an empty
 * non-terminal); the NSEC at an existing name without the type runs to
 * dc_dnssign_next_name(), "\000.NAME" (RFC 4471 3.1.2.1). The predecessor
 * lowers the last octet of the first label and appends an octet \255, or,
 * when that octet is \000, drops it and goes one label deeper with "\255".
 * Every name strictly between such a predecessor and NAME has a \255
 * octet in a label, and every name between NAME and its "after" lies below
 * NAME, so no other host name (and none of the zone's own names) is ever
 * covered.
 *
 * The answers built per query (a published node's A/AAAA, the NSECs)
 * have their signatures cached by the exact RRset (DC_DNSSIGN_CACHE_SLOTS
 * slots, direct mapped by a keyed hash): a repeated query costs no
 * signature, a new name one ECDSA signature.
 */
struct dc_dnssign;

enum {
	DC_DNSSIGN_ALGORITHM = LDNS_ECDSAP256SHA256, /* 13 */
	DC_DNSSIGN_KEY_FLAGS = LDNS_KEY_ZONE_KEY | LDNS_KEY_SEP_KEY,
	DC_DNSSIGN_VALIDITY = 14 * 86400,
	DC_DNSSIGN_REFRESH = 7 * 86400,
	DC_DNSSIGN_BACKDATE = 3600,
	DC_DNSSIGN_DNSKEY_TTL = 3600,
	DC_DNSSIGN_CACHE_SLOTS = 1024,
	DC_DNSSIGN_DS_TEXT_MAX = 512,
	DC_DNSSIGN_NAME_MAX = 255, /* wire octets of a domain name */
};

/* The wall clock in seconds since the epoch. */
typedef uint32_t (*dc_dnssign_clock_cb)(void *ctx);

/* Read during dc_dnssign_create() only (clock_ctx is kept). */
struct dc_dnssign_config {
	const char *zone;	   /* the apex, normalised, no trailing dot */
	const char *key_path;	   /* NULL: a fresh key kept in memory only */
	dc_dnssign_clock_cb clock; /* NULL: time(NULL) */
	void *clock_ctx;
};

struct dc_dnssign_stats {
	uint64_t signatures; /* ECDSA signatures made */
	uint64_t cache_hits; /* signatures of per-query RRsets served from the cache */
};

/*
 * Loads the key at cfg->key_path, creating the file (0600, its directory
 * 0700 when missing) with a new key when it is missing or empty. A key file
 * that group or others may access, or that holds another algorithm, is
 * refused. On failure *out is NULL, why[whylen] says why (naming the
 * path), and the return is -ENOMEM, -EINVAL, -EACCES or an errno of the
 * file system. *created tells whether a key was generated (may be NULL).
 * Free with dc_dnssign_destroy().
 */
NTM_MUST_CHECK int dc_dnssign_create(const struct dc_dnssign_config *cfg, struct dc_dnssign **out,
				     bool *created, char *why, size_t whylen);

/* Wipes nothing ldns does not (its key holds an OpenSSL EVP_PKEY); NULL ok. */
void dc_dnssign_destroy(struct dc_dnssign *s);

uint32_t dc_dnssign_now(const struct dc_dnssign *s);

/* The DNSKEY record (owner the apex, TTL DC_DNSSIGN_DNSKEY_TTL); borrowed, lives with s. */
const ldns_rr *dc_dnssign_dnskey(const struct dc_dnssign *s);

uint16_t dc_dnssign_keytag(const struct dc_dnssign *s);

/* The DS record (SHA-256, RFC 4509) in presentation form, one line without newline. */
NTM_MUST_CHECK int dc_dnssign_ds(const struct dc_dnssign *s, char *out, size_t cap);

/*
 * A new RRSIG over `rrset` (one owner, type and class; borrowed) valid from
 * now: *sig is the caller's to free with ldns_rr_free(). -EINVAL for an
 * empty set, -ENOMEM, -EIO when ldns cannot sign.
 */
NTM_MUST_CHECK int dc_dnssign_sign(struct dc_dnssign *s, const ldns_rr_list *rrset, ldns_rr **sig);

/*
 * The same through the cache: *sig is borrowed, valid until the next call
 * on s. A cached signature is reused until it is due (dc_dnssign_is_due).
 */
NTM_MUST_CHECK int dc_dnssign_cached(struct dc_dnssign *s, const ldns_rr_list *rrset,
				     const ldns_rr **sig);

/* Whether a signature expiring at `expiration` must be made again now. */
bool dc_dnssign_is_due(const struct dc_dnssign *s, uint32_t expiration);

/* The expiration field of an RRSIG (0 when rr is not one). */
uint32_t dc_dnssign_expiration(const ldns_rr *rrsig);

void dc_dnssign_get_stats(const struct dc_dnssign *s, struct dc_dnssign_stats *out);

/*
 * The neighbours of `name` for a covering NSEC (see above), new rdfs the
 * caller frees, or NULL when the neighbour would not fit in
 * DC_DNSSIGN_NAME_MAX octets (or name is the root). `name` is borrowed and
 * compared canonically (RFC 4034 6.1: ASCII letters as lower case).
 */
ldns_rdf *dc_dnssign_prev_name(const ldns_rdf *name);
ldns_rdf *dc_dnssign_next_name(const ldns_rdf *name);
ldns_rdf *dc_dnssign_after_name(const ldns_rdf *name);

/*
 * An NSEC record owner -> next (both borrowed, copied) whose type bitmap
 * lists types[n] plus RRSIG and NSEC; the caller frees it. NULL: no memory.
 */
ldns_rr *dc_dnssign_nsec(const ldns_rdf *owner, const ldns_rdf *next, const ldns_rr_type *types,
			 size_t n, uint32_t ttl);

#endif
