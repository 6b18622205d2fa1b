/* SPDX-License-Identifier: MIT */
#include "fqdn.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int fail(char *why, size_t whylen, const char *msg)
{
	if (whylen > 0) {
		snprintf(why, whylen, "%s", msg);
	}
	return -EINVAL;
}

static bool is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* One label of `len` lower-case bytes at `s`. */
static int check_label(const char *s, size_t len, char *why, size_t whylen)
{
	if (len == 0) {
		return fail(why, whylen, "empty label");
	}
	if (len > DC_FQDN_LABEL_MAX) {
		return fail(why, whylen, "a label is longer than 63 characters");
	}
	if (s[0] == '-' || s[len - 1] == '-') {
		return fail(why, whylen, "a label starts or ends with '-'");
	}
	for (size_t i = 0; i < len; i++) {
		if (!is_ldh(s[i])) {
			return fail(why, whylen,
				    "only letters, digits, '-' and '.' are allowed in a name");
		}
	}
	return 0;
}

int dc_fqdn_normalize(const char *in, unsigned flags, char out[DC_FQDN_SIZE], char *why,
		      size_t whylen)
{
	size_t len = strlen(in);
	size_t start = 0, labels = 0;
	int rc;

	out[0] = '\0';
	if (len > 0 && in[len - 1] == '.') {
		len--;
	}
	if (len == 0) {
		return fail(why, whylen, "empty name");
	}
	if (len > DC_FQDN_MAX) {
		return fail(why, whylen, "longer than 253 characters");
	}
	for (size_t i = 0; i < len; i++) {
		out[i] = (char)tolower((unsigned char)in[i]);
	}
	out[len] = '\0';
	for (size_t i = 0; i <= len; i++) {
		if (i < len && out[i] != '.') {
			continue;
		}
		rc = check_label(out + start, i - start, why, whylen);
		if (rc < 0) {
			out[0] = '\0';
			return rc;
		}
		labels++;
		if (i == len && strspn(out + start, "0123456789") == i - start) {
			out[0] = '\0';
			return fail(why, whylen, "the top-level label is all digits");
		}
		start = i + 1;
	}
	if (labels < 2 && !(flags & DC_FQDN_SINGLE_LABEL_OK)) {
		out[0] = '\0';
		return fail(why, whylen, "a single label is not a domain name");
	}
	return 0;
}

bool dc_fqdn_is_under(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	return d > 0 && n > d + 1 && name[n - d - 1] == '.' && strcmp(name + n - d, domain) == 0;
}
