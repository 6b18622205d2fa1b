/* SPDX-License-Identifier: MIT */
/*
 * Values and the lexical rules shared by the text and JSON forms: numbers
 * (fixed point, exact), text (UTF-8, no control characters), identifiers,
 * keywords, recipe names and FQDN/resource references.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe_internal.h"

static const char *const keywords[] = {
	"recipe", "when",  "do",     "notify", "and",	"or", "for", "edge",
	"level",  "every", "forbid", "true",   "false", "on", "off", "within",
};

void rcp_value_fini(struct rcp_value *v)
{
	if (v == NULL) {
		return;
	}
	ntm_free(v->text);
	memset(v, 0, sizeof(*v));
}

int rcp_value_copy(struct rcp_value *dst, const struct rcp_value *src)
{
	*dst = *src;
	if (src->type != RCP_VAL_TEXT) {
		dst->text = NULL;
		return 0;
	}
	dst->text = ntm_strdup(src->text);
	if (dst->text == NULL) {
		dst->type = RCP_VAL_NONE;
		return -ENOMEM;
	}
	return 0;
}

int rcp_value_set_text(struct rcp_value *dst, const char *s)
{
	memset(dst, 0, sizeof(*dst));
	if (rcp_text_problem(s, strlen(s)) != NULL) {
		return -EINVAL;
	}
	dst->text = ntm_strdup(s);
	if (dst->text == NULL) {
		return -ENOMEM;
	}
	dst->type = RCP_VAL_TEXT;
	return 0;
}

int rcp_value_set_double(struct rcp_value *dst, double d)
{
	/* 10^12 is the first value with 13 integer digits. */
	const double lim = 1e12;

	memset(dst, 0, sizeof(*dst));
	if (!(d > -lim && d < lim)) {
		return -ERANGE;
	}
	/* Round half away from zero; |d * 10^6| < 10^18 fits an int64_t. */
	dst->num = (int64_t)(d * RCP_NUM_SCALE + (d < 0 ? -0.5 : 0.5));
	if (dst->num <= -1000000000000000000LL || dst->num >= 1000000000000000000LL) {
		dst->num = 0;
		return -ERANGE;
	}
	dst->type = RCP_VAL_NUMBER;
	return 0;
}

bool rcp_value_eq(const struct rcp_value *a, const struct rcp_value *b)
{
	if (a->type != b->type) {
		return false;
	}
	switch (a->type) {
	case RCP_VAL_NUMBER:
		return a->num == b->num;
	case RCP_VAL_BOOL:
		return a->b == b->b;
	case RCP_VAL_TEXT:
		return strcmp(a->text, b->text) == 0;
	default:
		return true;
	}
}

static int order(int c, enum rcp_op op)
{
	switch (op) {
	case RCP_OP_EQ:
		return c == 0;
	case RCP_OP_NE:
		return c != 0;
	case RCP_OP_LT:
		return c < 0;
	case RCP_OP_LE:
		return c <= 0;
	case RCP_OP_GT:
		return c > 0;
	default:
		return c >= 0;
	}
}

int rcp_value_compare(const struct rcp_value *x, enum rcp_op op, const struct rcp_value *c)
{
	bool ordering = op != RCP_OP_EQ && op != RCP_OP_NE;

	if (x == NULL || x->type == RCP_VAL_NONE || x->type != c->type) {
		return -1;
	}
	switch (c->type) {
	case RCP_VAL_NUMBER:
		return order((x->num > c->num) - (x->num < c->num), op);
	case RCP_VAL_BOOL:
		return ordering ? -1 : order(x->b != c->b, op);
	case RCP_VAL_TEXT:
		return ordering ? -1 : order(strcmp(x->text, c->text) != 0, op);
	default:
		return -1;
	}
}

const char *rcp_op_str(enum rcp_op op)
{
	static const char *const s[] = { "==", "!=", "<", "<=", ">", ">=" };

	return (unsigned)op < sizeof(s) / sizeof(s[0]) ? s[op] : "?";
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static size_t count_digits(const char *s, size_t len)
{
	size_t n = 0;

	while (n < len && is_digit(s[n])) {
		n++;
	}
	return n;
}

int rcp_number_parse(const char *s, size_t len, int64_t *out)
{
	size_t i = 0, n, f;
	bool neg = false;
	int64_t ip = 0, fp = 0;

	*out = 0;
	if (len > 0 && s[0] == '-') {
		neg = true;
		i = 1;
	}
	n = count_digits(s + i, len - i);
	if (n == 0) {
		return -EINVAL;
	}
	for (size_t k = 0; k < n; k++) {
		ip = ip < 1000000000000LL ? ip * 10 + (s[i + k] - '0') : ip;
	}
	i += n;
	f = 0;
	if (i < len && s[i] == '.') {
		f = count_digits(s + i + 1, len - i - 1);
		if (f == 0) {
			return -EINVAL;
		}
		for (size_t k = 0; k < f && k < RCP_FRAC_DIGITS_MAX; k++) {
			fp = fp * 10 + (s[i + 1 + k] - '0');
		}
		i += f + 1;
	}
	if (i != len) {
		return -EINVAL;
	}
	if (ip >= 1000000000000LL || f > RCP_FRAC_DIGITS_MAX) {
		return -ERANGE;
	}
	for (size_t k = f; k < RCP_FRAC_DIGITS_MAX; k++) {
		fp *= 10;
	}
	*out = (ip * RCP_NUM_SCALE + fp) * (neg ? -1 : 1);
	return 0;
}

void rcp_number_format(int64_t v, char buf[RCP_NUMBUF])
{
	/* |v| < 10^18 by construction, so negation cannot overflow. */
	uint64_t a = v < 0 ? (uint64_t)-v : (uint64_t)v;
	uint64_t ip = a / RCP_NUM_SCALE, fp = a % RCP_NUM_SCALE;
	int w = RCP_FRAC_DIGITS_MAX;

	if (fp == 0) {
		snprintf(buf, RCP_NUMBUF, "%s%llu", v < 0 ? "-" : "", (unsigned long long)ip);
		return;
	}
	while (fp % 10 == 0) {
		fp /= 10;
		w--;
	}
	snprintf(buf, RCP_NUMBUF, "%s%llu.%0*llu", v < 0 ? "-" : "", (unsigned long long)ip, w,
		 (unsigned long long)fp);
}

bool rcp_duration_is_valid(uint64_t ms)
{
	return ms > 0 && ms <= (uint64_t)RCP_DURATION_MAX_S * 1000;
}

/* Length of the UTF-8 sequence at s (shortest form, no surrogates), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80) {
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2, cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3, cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n) {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			return 0;
		}
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff)) {
		return 0;
	}
	return n;
}

const char *rcp_text_problem(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	if (len > RCP_STRING_MAX) {
		return "text longer than 256 bytes";
	}
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq(u + i, len - i);

		if (n == 0) {
			return "invalid UTF-8";
		}
		if (u[i] < 0x20 || u[i] == 0x7f) {
			return "control character in text";
		}
		i += n;
	}
	return NULL;
}

bool rcp_is_keyword(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (strlen(keywords[i]) == len && memcmp(keywords[i], s, len) == 0) {
			return true;
		}
	}
	return false;
}

bool rcp_is_ident(const char *s, size_t len)
{
	if (len == 0 || len > RCP_IDENT_MAX || !(is_alpha(s[0]) || s[0] == '_')) {
		return false;
	}
	for (size_t i = 1; i < len; i++) {
		if (!(is_alpha(s[i]) || is_digit(s[i]) || s[i] == '_' || s[i] == '-')) {
			return false;
		}
	}
	return true;
}

bool rcp_is_recipe_name(const char *s, size_t len)
{
	if (len == 0 || len > RCP_NAME_MAX || !(is_alpha(s[0]) || is_digit(s[0]))) {
		return false;
	}
	for (size_t i = 1; i < len; i++) {
		if (!(is_alpha(s[i]) || is_digit(s[i]) || strchr("_.-", s[i]) != NULL) ||
		    s[i] == '\0') {
			return false;
		}
	}
	return true;
}

/* RFC 1035 host name: LDH labels of 1..63, no leading/trailing hyphen. */
static const char *fqdn_problem(const char *s, size_t len)
{
	size_t start = 0, labels = 0;

	if (len > RCP_FQDN_MAX) {
		return "host name longer than 253 bytes";
	}
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '.') {
			if (!(is_alpha(s[i]) || is_digit(s[i]) || s[i] == '-')) {
				return "host name may hold only letters, digits, '-' and '.'";
			}
			continue;
		}
		if (i == start) {
			return "empty label in host name";
		}
		if (i - start > RCP_LABEL_MAX) {
			return "host name label longer than 63 bytes";
		}
		if (s[start] == '-' || s[i - 1] == '-') {
			return "host name label starts or ends with '-'";
		}
		labels++;
		start = i + 1;
	}
	return labels < 2 ? "host name needs at least two labels (an FQDN)" : NULL;
}

static const char *path_problem(const char *s, size_t len)
{
	if (len == 0) {
		return "missing resource after '/'";
	}
	if (len > RCP_PATH_MAX) {
		return "resource path longer than 128 bytes";
	}
	for (size_t i = 0; i < len; i++) {
		size_t seg = 0;

		while ((i == 0 || s[i - 1] == '/') && i + seg < len && s[i + seg] != '/') {
			seg++;
		}

		if (s[i] == '/' && (i + 1 == len || s[i + 1] == '/')) {
			return "empty segment in resource path";
		}
		if ((seg == 1 && s[i] == '.') || (seg == 2 && s[i] == '.' && s[i + 1] == '.')) {
			return "'.' or '..' segment in resource path";
		}
		if (!(is_alpha(s[i]) || is_digit(s[i]) || strchr("_.~-/", s[i]) != NULL) ||
		    s[i] == '\0') {
			return "resource path may hold only letters, digits and _ . ~ - /";
		}
	}
	return NULL;
}

const char *rcp_ref_problem(const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);
	const char *why;

	if (slash == NULL) {
		return "expected FQDN/resource";
	}
	why = fqdn_problem(s, (size_t)(slash - s));
	if (why == NULL) {
		why = path_problem(slash + 1, len - (size_t)(slash - s) - 1);
	}
	return why;
}

bool rcp_is_resource_ref(const char *s, size_t len)
{
	return rcp_ref_problem(s, len) == NULL;
}

int rcp_grow(void **arr, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap) {
		return 0;
	}
	ncap = *cap ? *cap * 2 : 4;
	p = ntm_realloc(*arr, ncap * size);
	if (p == NULL) {
		return -ENOMEM;
	}
	*arr = p;
	*cap = ncap;
	return 0;
}
