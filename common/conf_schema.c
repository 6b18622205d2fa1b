/* SPDX-License-Identifier: MIT */
/*
 * The schema-driven apply step and the value helpers of common/conf.h. This
 * file sees a parsed conf only through the public iteration API.
 */
#include "conf.h"

#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "log.h"

struct apply {
	const struct ntm_conf *conf;
	const struct ntm_conf_schema *schema;
	struct ntm_conf_err *err;
};

/* "file:line: ..." or "file: ..." into buf. */
static void vformat(char *buf, size_t cap, const char *name, unsigned line, const char *fmt,
		    va_list ap) __attribute__((format(printf, 5, 0)));

static void vformat(char *buf, size_t cap, const char *name, unsigned line, const char *fmt,
		    va_list ap)
{
	int n;

	if (line > 0) {
		n = snprintf(buf, cap, "%s:%u: ", name, line);
	} else {
		n = snprintf(buf, cap, "%s: ", name);
	}
	if (n >= 0 && (size_t)n < cap) {
		vsnprintf(buf + n, cap - (size_t)n, fmt, ap);
	}
}

__attribute__((format(printf, 4, 5))) static int fail(const struct apply *ap, int rc, unsigned line,
						      const char *fmt, ...)
{
	va_list va;

	ap->err->line = line;
	va_start(va, fmt);
	vformat(ap->err->msg, sizeof(ap->err->msg), ntm_conf_name(ap->conf), line, fmt, va);
	va_end(va);
	return rc < 0 ? rc : -EINVAL;
}

__attribute__((format(printf, 3, 4))) static void warn_line(const struct apply *ap, unsigned line,
							    const char *fmt, ...)
{
	char msg[NTM_CONF_ERR_MAX];
	va_list va;

	va_start(va, fmt);
	vformat(msg, sizeof(msg), ntm_conf_name(ap->conf), line, fmt, va);
	va_end(va);
	if (ap->schema->warn != NULL) {
		ap->schema->warn(ap->schema->warn_ctx, msg);
	} else {
		ntm_log_warn("%s", msg);
	}
}

/* ASCII only: the locale must not change what a key means (Turkish 'I'). */
static bool name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a + 32) : *a;
		char y = (*b >= 'A' && *b <= 'Z') ? (char)(*b + 32) : *b;

		if (x != y) {
			return false;
		}
		if (x == '\0') {
			return true;
		}
	}
}

static int find_section(const struct ntm_conf_schema *schema, const char *name)
{
	for (int i = 0; schema->sections[i].name != NULL; i++) {
		if (name_eq(schema->sections[i].name, name)) {
			return i;
		}
	}
	return -1;
}

static int find_key(const struct ntm_conf_section_def *def, const char *key)
{
	for (int i = 0; def->keys[i].name != NULL; i++) {
		if (name_eq(def->keys[i].name, key)) {
			return i;
		}
	}
	return -1;
}

static const char *reason(const char *why, int rc)
{
	return why[0] != '\0' ? why : ntm_strerror(rc < 0 ? rc : -EINVAL);
}

/* Programmer errors in a schema are reported like config errors, never abort. */
static int check_schema(const struct apply *ap)
{
	const struct ntm_conf_section_def *defs = ap->schema->sections;
	size_t i, k;

	for (i = 0; defs != NULL && defs[i].name != NULL; i++) {
		const struct ntm_conf_section_def *d = &defs[i];

		if (i == NTM_CONF_SCHEMA_SECTIONS_MAX) {
			return fail(ap, -EINVAL, 0, "schema: too many sections");
		}
		if (d->keys == NULL) {
			return fail(ap, -EINVAL, 0, "schema: [%s] has no key table", d->name);
		}
		if ((d->flags & NTM_CONF_SECTION_REPEAT) && d->open == NULL) {
			return fail(ap, -EINVAL, 0, "schema: repeatable [%s] needs open", d->name);
		}
		for (k = 0; d->keys[k].name != NULL; k++) {
			if (k == NTM_CONF_SCHEMA_KEYS_MAX) {
				return fail(ap, -EINVAL, 0, "schema: too many keys in [%s]",
					    d->name);
			}
			if (d->keys[k].set == NULL && d->keys[k].kind != NTM_CONF_KEY_IGNORED) {
				return fail(ap, -EINVAL, 0,
					    "schema: key '%s' in [%s] has no setter",
					    d->keys[k].name, d->name);
			}
		}
	}
	if (defs == NULL) {
		return fail(ap, -EINVAL, 0, "schema: no section table");
	}
	return 0;
}

/*
 * One entry of one occurrence. seen[k] is the line where key k was first set
 * in this occurrence (0: not yet), for duplicate and required-key checks.
 */
static int apply_entry(const struct apply *ap, const struct ntm_conf_section_def *def, void *target,
		       const struct ntm_conf_entry *e, unsigned *seen)
{
	const struct ntm_conf_key_def *kd;
	char why[NTM_CONF_WHY_MAX] = "";
	unsigned line = ntm_conf_entry_line(e);
	int k = find_key(def, ntm_conf_entry_key(e));
	int rc;

	if (k < 0) {
		return fail(ap, -EINVAL, line, "unknown key '%s' in [%s]", ntm_conf_entry_key(e),
			    def->name);
	}
	kd = &def->keys[k];
	if (kd->kind == NTM_CONF_KEY_IGNORED) {
		warn_line(ap, line, "ignoring unsupported key '%s' in [%s]", kd->name, def->name);
		seen[k] = seen[k] ? seen[k] : line;
		return 0;
	}
	if (kd->kind == NTM_CONF_KEY_ONCE && seen[k] != 0) {
		return fail(ap, -EINVAL, line, "duplicate key '%s' in [%s] (first at line %u)",
			    kd->name, def->name, seen[k]);
	}
	seen[k] = seen[k] ? seen[k] : line;
	rc = kd->set(target, ntm_conf_entry_value(e), why, sizeof(why));
	if (rc != 0) {
		return fail(ap, rc, line, "invalid %s in [%s]: %s", kd->name, def->name,
			    reason(why, rc));
	}
	return 0;
}

static int apply_occurrence(const struct apply *ap, const struct ntm_conf_section_def *def,
			    const struct ntm_conf_section *s)
{
	unsigned seen[NTM_CONF_SCHEMA_KEYS_MAX] = { 0 };
	unsigned line = ntm_conf_section_line(s);
	char why[NTM_CONF_WHY_MAX] = "";
	void *target = def->target;
	int rc;

	if (def->open != NULL) {
		rc = def->open(def->ctx, &target, why, sizeof(why));
		if (rc != 0) {
			return fail(ap, rc, line, "[%s]: %s", def->name, reason(why, rc));
		}
	}
	for (size_t i = 0; i < ntm_conf_entry_count(s); i++) {
		rc = apply_entry(ap, def, target, ntm_conf_entry_at(s, i), seen);
		if (rc < 0) {
			return rc;
		}
	}
	for (size_t k = 0; def->keys[k].name != NULL; k++) {
		if (def->keys[k].required && seen[k] == 0) {
			return fail(ap, -EINVAL, line, "missing key '%s' in [%s]",
				    def->keys[k].name, def->name);
		}
	}
	if (def->check != NULL) {
		rc = def->check(target, why, sizeof(why));
		if (rc != 0) {
			return fail(ap, rc, line, "[%s]: %s", def->name, reason(why, rc));
		}
	}
	return 0;
}

int ntm_conf_apply(const struct ntm_conf *conf, const struct ntm_conf_schema *schema,
		   struct ntm_conf_err *err)
{
	const struct apply ap = { .conf = conf, .schema = schema, .err = err };
	unsigned first[NTM_CONF_SCHEMA_SECTIONS_MAX] = { 0 };
	int rc;

	err->line = 0;
	err->msg[0] = '\0';
	rc = check_schema(&ap);
	if (rc < 0) {
		return rc;
	}
	for (size_t i = 0; i < ntm_conf_section_count(conf); i++) {
		const struct ntm_conf_section *s = ntm_conf_section_at(conf, i);
		unsigned line = ntm_conf_section_line(s);
		int d = find_section(schema, ntm_conf_section_name(s));

		if (d < 0) {
			return fail(&ap, -EINVAL, line, "unknown section [%s]",
				    ntm_conf_section_name(s));
		}
		if (first[d] != 0 && !(schema->sections[d].flags & NTM_CONF_SECTION_REPEAT)) {
			return fail(&ap, -EINVAL, line, "duplicate section [%s] (first at line %u)",
				    schema->sections[d].name, first[d]);
		}
		first[d] = first[d] ? first[d] : line;
		rc = apply_occurrence(&ap, &schema->sections[d], s);
		if (rc < 0) {
			return rc;
		}
	}
	for (size_t d = 0; schema->sections[d].name != NULL; d++) {
		if ((schema->sections[d].flags & NTM_CONF_SECTION_REQUIRED) && first[d] == 0) {
			return fail(&ap, -EINVAL, 0, "missing section [%s]",
				    schema->sections[d].name);
		}
	}
	return 0;
}

static void set_why(char *why, size_t whylen, const char *reason_text)
{
	if (why != NULL && whylen > 0) {
		snprintf(why, whylen, "%s", reason_text);
	}
}

int ntm_conf_parse_u32(const char *value, uint32_t min, uint32_t max, uint32_t *out, char *why,
		       size_t whylen)
{
	uint64_t v = 0;
	const char *p = value;

	*out = 0;
	set_why(why, whylen, "");
	/* Decimal only: no sign, no leading zeros (no octal surprises), no junk. */
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] != '\0')) {
		set_why(why, whylen, "not a decimal number");
		return -EINVAL;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v <= UINT32_MAX) {
			v = v * 10 + (uint64_t)(*p - '0');
		}
	}
	if (*p != '\0') {
		set_why(why, whylen, "not a decimal number");
		return -EINVAL;
	}
	if (v < min || v > max) {
		if (why != NULL && whylen > 0) {
			snprintf(why, whylen, "out of range %u..%u", min, max);
		}
		return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

enum { GROUP_BUF_SIZE = 16384 };

int ntm_conf_parse_group(const char *value, gid_t *out, char *why, size_t whylen)
{
	struct group gr, *res = NULL;
	uint32_t gid;
	char *buf;
	int rc;

	*out = 0;
	if (value[0] >= '0' && value[0] <= '9') {
		rc = ntm_conf_parse_u32(value, 0, UINT32_MAX - 1, &gid, why, whylen);
		*out = (gid_t)gid;
		return rc;
	}
	buf = ntm_malloc(GROUP_BUF_SIZE);
	if (buf == NULL) {
		return -ENOMEM;
	}
	rc = -getgrnam_r(value, &gr, buf, GROUP_BUF_SIZE, &res);
	if (rc == 0 && res == NULL) {
		snprintf(why, whylen, "no such group");
		rc = -ENOENT;
	}
	if (rc == 0) {
		*out = gr.gr_gid;
	}
	ntm_free(buf);
	return rc;
}

int ntm_conf_parse_bool(const char *value, bool *out, char *why, size_t whylen)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	*out = false;
	set_why(why, whylen, "");
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (name_eq(value, yes[i])) {
			*out = true;
			return 0;
		}
		if (name_eq(value, no[i])) {
			return 0;
		}
	}
	set_why(why, whylen, "expected true/false, yes/no, on/off or 1/0");
	return -EINVAL;
}

int ntm_conf_split_list(const char *value, ntm_conf_item_cb cb, void *ctx, char *why, size_t whylen)
{
	char item[NTM_CONF_LINE_MAX + 1];
	const char *p = value;
	int rc;

	set_why(why, whylen, "");
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		while (n > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
			n--;
		}
		if (n == 0) {
			set_why(why, whylen, "empty item in list");
			return -EINVAL;
		}
		if (n > NTM_CONF_LINE_MAX) {
			set_why(why, whylen, "list item too long");
			return -E2BIG;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		rc = cb(ctx, item, why, whylen);
		if (rc != 0) {
			return rc < 0 ? rc : -EINVAL;
		}
		if (comma == NULL) {
			return 0;
		}
		p = comma + 1;
	}
}
