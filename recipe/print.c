/* SPDX-License-Identifier: MIT */
/*
 * Canonical text printer. The output re-parses to an equal AST:
 *  - a text value is printed bare when it is an identifier and not a keyword,
 *    quoted (with \" and \\) otherwise;
 *  - a compound condition inside another one is parenthesised, so the tree
 *    shape survives (AND/OR nodes are never flattened or re-associated);
 *  - durations use the largest unit that divides them (h, m, s, ms);
 *  - numbers drop trailing decimal zeros; edge mode, the default, is omitted.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe_internal.h"

static void sb_reserve(struct rcp_sb *sb, size_t more)
{
	size_t ncap;
	char *p;

	if (sb->err != 0 || sb->len + more + 1 <= sb->cap) {
		return;
	}
	ncap = sb->cap ? sb->cap : 256;
	while (ncap < sb->len + more + 1) {
		ncap *= 2;
	}
	p = ntm_realloc(sb->buf, ncap);
	if (p == NULL) {
		sb->err = -ENOMEM;
		return;
	}
	sb->buf = p;
	sb->cap = ncap;
}

static void sb_putn(struct rcp_sb *sb, const char *s, size_t n)
{
	sb_reserve(sb, n);
	if (sb->err == 0) {
		memcpy(sb->buf + sb->len, s, n);
		sb->len += n;
		sb->buf[sb->len] = '\0';
	}
}

void rcp_sb_puts(struct rcp_sb *sb, const char *s)
{
	sb_putn(sb, s, strlen(s));
}

void rcp_sb_printf(struct rcp_sb *sb, const char *fmt, ...)
{
	va_list ap, ap2;
	int n;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0) {
		sb->err = sb->err ? sb->err : -EINVAL;
	} else {
		sb_reserve(sb, (size_t)n);
	}
	if (n >= 0 && sb->err == 0) {
		vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap2);
		sb->len += (size_t)n;
	}
	va_end(ap2);
	va_end(ap);
}

static void sb_quoted(struct rcp_sb *sb, const char *s)
{
	rcp_sb_puts(sb, "\"");
	for (const char *c = s; *c != '\0'; c++) {
		if (*c == '"' || *c == '\\') {
			sb_putn(sb, "\\", 1);
		}
		sb_putn(sb, c, 1);
	}
	rcp_sb_puts(sb, "\"");
}

void rcp_sb_value(struct rcp_sb *sb, const struct rcp_value *v)
{
	char num[RCP_NUMBUF];
	size_t n;

	switch (v->type) {
	case RCP_VAL_NUMBER:
		rcp_number_format(v->num, num);
		rcp_sb_puts(sb, num);
		break;
	case RCP_VAL_BOOL:
		rcp_sb_puts(sb, v->b ? "true" : "false");
		break;
	case RCP_VAL_TEXT:
		n = strlen(v->text);
		if (rcp_is_ident(v->text, n) && !rcp_is_keyword(v->text, n)) {
			rcp_sb_puts(sb, v->text);
		} else {
			sb_quoted(sb, v->text);
		}
		break;
	default:
		break;
	}
}

void rcp_sb_duration(struct rcp_sb *sb, uint64_t ms)
{
	if (ms % 3600000 == 0) {
		rcp_sb_printf(sb, "%lluh", (unsigned long long)(ms / 3600000));
	} else if (ms % 60000 == 0) {
		rcp_sb_printf(sb, "%llum", (unsigned long long)(ms / 60000));
	} else if (ms % 1000 == 0) {
		rcp_sb_printf(sb, "%llus", (unsigned long long)(ms / 1000));
	} else {
		rcp_sb_printf(sb, "%llums", (unsigned long long)ms);
	}
}

void rcp_sb_cond(struct rcp_sb *sb, const struct rcp_cond *c)
{
	if (c->kind == RCP_COND_CMP) {
		rcp_sb_printf(sb, "%s %s ", c->resource, rcp_op_str(c->op));
		rcp_sb_value(sb, &c->value);
		if (c->for_ms > 0) {
			rcp_sb_puts(sb, " for ");
			rcp_sb_duration(sb, c->for_ms);
		}
		return;
	}
	for (size_t i = 0; i < c->n_kids; i++) {
		bool paren = c->kids[i]->kind != RCP_COND_CMP;

		if (i > 0) {
			rcp_sb_puts(sb, c->kind == RCP_COND_AND ? " and " : " or ");
		}
		rcp_sb_puts(sb, paren ? "(" : "");
		rcp_sb_cond(sb, c->kids[i]);
		rcp_sb_puts(sb, paren ? ")" : "");
	}
}

int rcp_sb_finish(struct rcp_sb *sb, char **out)
{
	*out = NULL;
	if (sb->err == 0 && sb->buf == NULL) {
		sb_putn(sb, "", 0);
	}
	if (sb->err != 0) {
		int err = sb->err;

		ntm_free(sb->buf);
		memset(sb, 0, sizeof(*sb));
		return err;
	}
	*out = sb->buf;
	memset(sb, 0, sizeof(*sb));
	return 0;
}

static void sb_action(struct rcp_sb *sb, const struct rcp_action *a)
{
	rcp_sb_printf(sb, "  %s %s", a->kind == RCP_ACT_DO ? "do" : "notify", a->target);
	if (a->kind == RCP_ACT_NOTIFY && a->value.type == RCP_VAL_TEXT) {
		/* A message is always quoted, whatever it looks like. */
		rcp_sb_puts(sb, " ");
		sb_quoted(sb, a->value.text);
	} else if (a->value.type != RCP_VAL_NONE) {
		rcp_sb_puts(sb, " ");
		rcp_sb_value(sb, &a->value);
	}
	for (size_t i = 0; i < a->n_params; i++) {
		rcp_sb_printf(sb, " %s=", a->params[i].name);
		rcp_sb_value(sb, &a->params[i].value);
	}
	rcp_sb_puts(sb, "\n");
}

static void sb_recipe(struct rcp_sb *sb, const struct rcp_recipe *r)
{
	rcp_sb_printf(sb, "recipe \"%s\"\n  when ", r->name);
	rcp_sb_cond(sb, r->when);
	if (r->mode == RCP_MODE_LEVEL) {
		rcp_sb_puts(sb, " level");
		if (r->every_ms > 0) {
			rcp_sb_puts(sb, " every ");
			rcp_sb_duration(sb, r->every_ms);
		}
	}
	if (r->ttl_ms > 0) {
		rcp_sb_puts(sb, " within ");
		rcp_sb_duration(sb, r->ttl_ms);
	}
	rcp_sb_puts(sb, "\n");
	for (size_t i = 0; i < r->n_actions; i++) {
		sb_action(sb, &r->actions[i]);
	}
}

int rcp_recipe_print(const struct rcp_recipe *r, char **out)
{
	struct rcp_sb sb = { 0 };

	*out = NULL;
	sb_recipe(&sb, r);
	return rcp_sb_finish(&sb, out);
}

int rcp_file_print(const struct rcp_file *f, char **out)
{
	struct rcp_sb sb = { 0 };

	*out = NULL;
	for (size_t i = 0; i < f->n; i++) {
		rcp_sb_puts(&sb, i > 0 ? "\n" : "");
		sb_recipe(&sb, f->recipes[i]);
	}
	return rcp_sb_finish(&sb, out);
}
