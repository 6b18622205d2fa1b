/* SPDX-License-Identifier: MIT */
/*
 * Values the DC picks once and keeps (the meta table): the default Pool6, a
 * random RFC 4193 prefix, so that two DCs that federate do not collide by
 * accident as they would with one fixed default.
 */
#include "store_internal.h"

#include <sodium.h>
#include <string.h>

static const char pool6_key[] = "default_pool6";

/* The stored prefix text into buf[cap]; -ENOENT when there is none. */
static int read_text(struct dc_store *s, char *buf, size_t cap, char *why, size_t whylen)
{
	sqlite3_stmt *st = NULL;
	int rc = dc_store_prepare(s, "SELECT value FROM meta WHERE key = ?1", &st, why, whylen);
	const unsigned char *t;

	if (rc < 0) {
		return rc;
	}
	rc = -ENOENT;
	if (sqlite3_bind_text(st, 1, pool6_key, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && (t = sqlite3_column_text(st, 0)) != NULL &&
	    strlen((const char *)t) < cap) {
		memcpy(buf, t, strlen((const char *)t) + 1);
		rc = 0;
	}
	sqlite3_finalize(st);
	return rc;
}

static int write_text(struct dc_store *s, const char *text, char *why, size_t whylen)
{
	sqlite3_stmt *st = NULL;
	int rc = dc_store_prepare(s, "INSERT INTO meta (key, value) VALUES (?1, ?2)", &st, why,
				  whylen);

	if (rc == 0 && (sqlite3_bind_text(st, 1, pool6_key, -1, SQLITE_STATIC) != SQLITE_OK ||
			sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC) != SQLITE_OK ||
			sqlite3_step(st) != SQLITE_DONE)) {
		rc = dc_store_fail_db(s, why, whylen);
	}
	sqlite3_finalize(st);
	return rc;
}

/* fd00::/8 with a random 40-bit Global ID (RFC 4193 section 3.2), subnet 0, as a /64. */
static void random_ula(struct ntm_prefix *out)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_INET6;
	out->prefix_len = 64;
	out->addr[0] = 0xfd;
	randombytes_buf(out->addr + 1, 5);
}

int dc_store_default_pool6(struct dc_store *s, struct ntm_prefix *out, char *why, size_t whylen)
{
	char text[NTM_PREFIX_STRLEN];
	int rc = read_text(s, text, sizeof(text), why, whylen);

	if (rc == 0) {
		if (ntm_prefix_parse(text, 0, out, why, whylen) < 0 || out->family != AF_INET6) {
			return dc_store_fail(why, whylen, -EINVAL,
					     "stored %s is not an IPv6 prefix", pool6_key);
		}
		return 0;
	}
	if (rc != -ENOENT) {
		return rc;
	}
	random_ula(out);
	rc = ntm_prefix_format(out, text, sizeof(text));
	return rc < 0 ? rc : write_text(s, text, why, whylen);
}
