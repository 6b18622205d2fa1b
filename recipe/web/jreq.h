/* SPDX-License-Identifier: MIT */
#ifndef RCP_JREQ_H
#define RCP_JREQ_H

/*
 * Strict reading of JSON request bodies (both HTTP servers): one object,
 * RFC 8259 syntax only (json-c's strict mode), nothing but whitespace after
 * it, a size limit, no unknown keys, each field's type and length checked.
 * Messages go into `why` and never quote values (a body may hold a key).
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

enum { RCP_JREQ_DEPTH_MAX = 16 };

/*
 * Parse `len` bytes (at most `max`) into a JSON object; *out is released by
 * the caller with json_object_put(). -EMSGSIZE, -EINVAL (syntax, not an
 * object), -ENOMEM. Does not need a NUL terminator.
 */
NTM_MUST_CHECK int rcp_jreq_parse(const char *text, size_t len, size_t max,
				  struct json_object **out, char *why, size_t whylen);

/*
 * rcp_jreq_parse, then rcp_jreq_only: the start of every request parser.
 * *out is released by the caller with json_object_put() also on failure
 * (NULL when the parse failed).
 */
NTM_MUST_CHECK int rcp_jreq_parse_only(const char *text, size_t len, size_t max,
				       const char *const *allowed, struct json_object **out,
				       char *why, size_t whylen);

/* -EINVAL naming the first key of `o` that is not in the NULL-ended `allowed`. */
NTM_MUST_CHECK int rcp_jreq_only(struct json_object *o, const char *const *allowed, char *why,
				 size_t whylen);

/*
 * The string member `key` of `o`, 1..max bytes, printable ASCII without
 * control bytes. *out points into `o` (valid while `o` lives), NULL when
 * absent and not required. -EINVAL otherwise.
 */
NTM_MUST_CHECK int rcp_jreq_string(struct json_object *o, const char *key, size_t max,
				   bool required, const char **out, char *why, size_t whylen);

/* True when s is 1..max bytes of [A-Za-z0-9._:-] (identifiers, names). */
bool rcp_jreq_is_ident(const char *s, size_t max);

/* True for a DNS name: labels of [A-Za-z0-9-] (1..63, no '-' at an end), <= 253. */
bool rcp_jreq_is_fqdn(const char *s);

#endif
