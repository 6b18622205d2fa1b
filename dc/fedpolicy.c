/* SPDX-License-Identifier: MIT */
#include "fedpolicy.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "common/conf.h"

static bool is_pattern_char(char ch)
{
	return isalnum((unsigned char)ch) || strchr("-.*?[]!", ch) != NULL;
}

/* One side of the rule, [p, p + n) with the blanks around it trimmed, into out. */
static int get_pattern(const char *p, size_t n, char out[DC_FQDN_SIZE], const char *side, char *why,
		       size_t whylen)
{
	char msg[64];

	while (n > 0 && isspace((unsigned char)*p)) {
		p++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)p[n - 1])) {
		n--;
	}
	snprintf(msg, sizeof(msg), "the %s pattern is empty or too long", side);
	if (n == 0 || n > DC_FQDN_MAX) {
		return ntm_conf_fail(why, whylen, -EINVAL, msg);
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_pattern_char(p[i])) {
			snprintf(msg, sizeof(msg), "the %s pattern holds a character not allowed",
				 side);
			return ntm_conf_fail(why, whylen, -EINVAL, msg);
		}
		out[i] = (char)tolower((unsigned char)p[i]);
	}
	out[n] = '\0';
	return 0;
}

int dc_fedrule_parse(const char *value, struct dc_fedrule *out, char *why, size_t whylen)
{
	const char *arrow = strstr(value, "->");
	int rc;

	memset(out, 0, sizeof(*out));
	if (arrow == NULL || strstr(arrow + 2, "->") != NULL) {
		return ntm_conf_fail(why, whylen, -EINVAL,
				     "expected REMOTE-PATTERN -> LOCAL-PATTERN");
	}
	rc = get_pattern(value, (size_t)(arrow - value), out->remote, "remote", why, whylen);
	if (rc == 0) {
		rc = get_pattern(arrow + 2, strlen(arrow + 2), out->local, "local", why, whylen);
	}
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

bool dc_fedpolicy_allows(const struct dc_fedrule *rules, size_t n, const char *remote,
			 const char *local)
{
	for (size_t i = 0; i < n; i++) {
		if (fnmatch(rules[i].remote, remote, 0) == 0 &&
		    fnmatch(rules[i].local, local, 0) == 0) {
			return true;
		}
	}
	return false;
}
