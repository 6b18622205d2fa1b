/* SPDX-License-Identifier: MIT */
#ifndef DC_FQDN_H
#define DC_FQDN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/*
 * Domain names as the DC stores and compares them: host names in the
 * letter-digit-hyphen syntax (RFC 1123 section 2.1, RFC 3696 section 2),
 * labels of 1..63 characters that neither start nor end with '-', at most
 * 253 characters in all, at least two labels, a top label that is not all
 * digits. Names are normalised to lower case with no trailing dot, so that
 * "A.Example.NET." and "a.example.net" are one name (DNS compares names
 * case-insensitively, RFC 4343).
 */

enum {
	DC_FQDN_MAX = 253,		/* characters, without a trailing dot */
	DC_FQDN_SIZE = DC_FQDN_MAX + 1, /* buffer size, with the NUL */
	DC_FQDN_LABEL_MAX = 63,
};

enum dc_fqdn_flags {
	/* Accept a name of one label ("rs1"): relay names are labels, not FQDNs. */
	DC_FQDN_SINGLE_LABEL_OK = 1 << 0,
};

/*
 * Check `in` (NUL-terminated, borrowed) and write its normal form into
 * out[DC_FQDN_SIZE] (set to "" on entry). Returns 0, or -EINVAL with a
 * one-line reason in why[whylen] (which may be NULL when whylen is 0). The
 * reason does not quote the input.
 */
NTM_MUST_CHECK int dc_fqdn_normalize(const char *in, unsigned flags, char out[DC_FQDN_SIZE],
				     char *why, size_t whylen);

/*
 * True when the normalised `name` lies strictly below the normalised
 * `domain`: "a.example.net" is under "example.net"; "example.net" and
 * "aexample.net" are not.
 */
bool dc_fqdn_is_under(const char *name, const char *domain);

#endif
