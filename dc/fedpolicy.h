/* SPDX-License-Identifier: MIT */
#ifndef DC_FEDPOLICY_H
#define DC_FEDPOLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "dc/fqdn.h"

/*
 * Per-node federation policy (ntm-dc.conf(5), [Federation] Allow): which
 * names of another domain may build a tunnel to which of our nodes. One
 * rule is `REMOTE -> LOCAL`, two shell-style patterns (fnmatch(3) without
 * FNM_PATHNAME, so `*` also matches dots) over normalised (lower-case)
 * FQDNs: `*.a.example -> cam*.b.example`. A request is allowed when any
 * rule of the caller's domain matches both names; no rule denies all.
 * Pure: no I/O, no state.
 */

enum {
	DC_FEDPOLICY_RULES_MAX = 32, /* Allow lines per [Federation] section */
};

struct dc_fedrule {
	char remote[DC_FQDN_SIZE];
	char local[DC_FQDN_SIZE];
};

/*
 * Parses one `REMOTE -> LOCAL` value (borrowed) into *out. Patterns are
 * 1..253 characters of letters, digits, '-', '.', '*', '?' and '[...]'
 * classes, folded to lower case. Returns 0 or -EINVAL with a reason.
 */
NTM_MUST_CHECK int dc_fedrule_parse(const char *value, struct dc_fedrule *out, char *why,
				    size_t whylen);

/* True when a rule of rules[n] lets `remote` reach `local` (both normalised). */
bool dc_fedpolicy_allows(const struct dc_fedrule *rules, size_t n, const char *remote,
			 const char *local);

#endif
