/* SPDX-License-Identifier: MIT */
/*
 * Parser plumbing shared by the recipe and policy grammars, and the
 * condition and value productions (grammar in parser.c):
 *
 *   cond    = conj { "or" { NL } conj } ;
 *   conj    = primary { "and" { NL } primary } ;
 *   primary = "(" cond ")" | cmp ;
 *   cmp     = REF OP value [ "for" DURATION ] ;
 *   value   = NUMBER | "true" | "false" | "on" | "off" | WORD | STRING ;
 *
 * "and" binds tighter than "or"; a condition continues on the next line
 * inside parentheses or after a line-ending "and"/"or" (lexer.c, and NL is
 * skipped after the operator here). A chain of one operator becomes one n-ary
 * node, a parenthesised group stays a child node, so printing puts the
 * parentheses back where they were and the AST round-trips exactly.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe_internal.h"

int rcp_parser_start(struct rcp_parser *p, const char *text, size_t len, struct rcp_error *err)
{
	memset(p, 0, sizeof(*p));
	p->err = err;
	p->allow_for = true;
	rcp_lexer_init(&p->lx, text, len, err);
	return rcp_lexer_next(&p->lx, &p->tok);
}

int rcp_parser_advance(struct rcp_parser *p)
{
	if (p->has_ahead) {
		p->tok = p->ahead;
		p->has_ahead = false;
		return 0;
	}
	return rcp_lexer_next(&p->lx, &p->tok);
}

int rcp_parser_peek(struct rcp_parser *p, const struct rcp_tok **out)
{
	int rc;

	*out = NULL;
	if (!p->has_ahead) {
		rc = rcp_lexer_next(&p->lx, &p->ahead);
		if (rc < 0) {
			return rc;
		}
		p->has_ahead = true;
	}
	*out = &p->ahead;
	return 0;
}

int rcp_parser_skip_nl(struct rcp_parser *p)
{
	int rc = 0;

	while (rc == 0 && p->tok.type == RCP_TOK_NL) {
		rc = rcp_parser_advance(p);
	}
	return rc;
}

bool rcp_tok_is_kw(const struct rcp_tok *t, const char *kw)
{
	return t->type == RCP_TOK_WORD && strlen(kw) == t->len && memcmp(kw, t->p, t->len) == 0;
}

const char *rcp_tok_desc(const struct rcp_tok *t, char *buf, size_t cap)
{
	switch (t->type) {
	case RCP_TOK_EOF:
		return "end of input";
	case RCP_TOK_NL:
		return "end of line";
	case RCP_TOK_STRING:
		return "string";
	case RCP_TOK_NUMBER:
		return "number";
	case RCP_TOK_DURATION:
		return "duration";
	case RCP_TOK_OP:
		snprintf(buf, cap, "'%s'", rcp_op_str(t->op));
		return buf;
	default:
		snprintf(buf, cap, "'%.*s'", (int)(t->len > 60 ? 60 : t->len), t->p);
		return buf;
	}
}

int rcp_parser_fail(struct rcp_parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err != NULL) {
		p->err->line = p->tok.line;
		p->err->col = p->tok.col;
		va_start(ap, fmt);
		vsnprintf(p->err->msg, sizeof(p->err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int rcp_parser_eol(struct rcp_parser *p, const char *clause)
{
	char d[80];

	if (p->tok.type == RCP_TOK_EOF) {
		return 0;
	}
	if (p->tok.type == RCP_TOK_NL) {
		return rcp_parser_advance(p);
	}
	return rcp_parser_fail(p, "unexpected %s after %s", rcp_tok_desc(&p->tok, d, sizeof(d)),
			       clause);
}

char *rcp_ref_dup(const struct rcp_tok *t)
{
	char *s = ntm_strndup(t->p, t->len);

	/* DNS names are case-insensitive: store the host part in lower case. */
	for (char *c = s; c != NULL && *c != '\0' && *c != '/'; c++) {
		if (*c >= 'A' && *c <= 'Z') {
			*c = (char)(*c - 'A' + 'a');
		}
	}
	return s;
}

static int value_from_word(struct rcp_parser *p, struct rcp_value *out)
{
	static const char *const bools[] = { "true", "on", "false", "off" };
	char d[80];

	for (size_t i = 0; i < 4; i++) {
		if (rcp_tok_is_kw(&p->tok, bools[i])) {
			out->type = RCP_VAL_BOOL;
			out->b = i < 2;
			return 0;
		}
	}
	if (rcp_is_keyword(p->tok.p, p->tok.len)) {
		return rcp_parser_fail(p, "expected a value, found keyword %s",
				       rcp_tok_desc(&p->tok, d, sizeof(d)));
	}
	out->text = ntm_strndup(p->tok.p, p->tok.len);
	if (out->text == NULL) {
		return -ENOMEM;
	}
	out->type = RCP_VAL_TEXT;
	return 0;
}

int rcp_parse_value(struct rcp_parser *p, struct rcp_value *out)
{
	char d[80];
	int rc;

	memset(out, 0, sizeof(*out));
	switch (p->tok.type) {
	case RCP_TOK_NUMBER:
		out->type = RCP_VAL_NUMBER;
		out->num = p->tok.num;
		break;
	case RCP_TOK_WORD:
		rc = value_from_word(p, out);
		if (rc < 0) {
			return rc;
		}
		break;
	case RCP_TOK_STRING:
		out->text = ntm_strndup(p->tok.str, p->tok.str_len);
		if (out->text == NULL) {
			return -ENOMEM;
		}
		out->type = RCP_VAL_TEXT;
		break;
	default:
		return rcp_parser_fail(p, "expected a value, found %s",
				       rcp_tok_desc(&p->tok, d, sizeof(d)));
	}
	return rcp_parser_advance(p);
}

static int parse_for(struct rcp_parser *p, struct rcp_cond *c)
{
	int rc;

	if (!p->allow_for) {
		return rcp_parser_fail(p, "'for' is not allowed here (a policy is checked on "
					  "the current state)");
	}
	rc = rcp_parser_advance(p);
	if (rc < 0) {
		return rc;
	}
	if (p->tok.type != RCP_TOK_DURATION) {
		return rcp_parser_fail(p, "expected a duration after 'for' (e.g. 60s)");
	}
	c->for_ms = p->tok.ms;
	return rcp_parser_advance(p);
}

static int parse_cmp_body(struct rcp_parser *p, struct rcp_cond *c)
{
	unsigned vline, vcol;
	char d[80];
	int rc;

	rc = rcp_parser_advance(p);
	if (rc < 0) {
		return rc;
	}
	if (p->tok.type != RCP_TOK_OP) {
		return rcp_parser_fail(p, "expected a comparison operator, found %s",
				       rcp_tok_desc(&p->tok, d, sizeof(d)));
	}
	c->op = p->tok.op;
	rc = rcp_parser_advance(p);
	vline = p->tok.line;
	vcol = p->tok.col;
	if (rc == 0) {
		rc = rcp_parse_value(p, &c->value);
	}
	if (rc < 0) {
		return rc;
	}
	if (c->op != RCP_OP_EQ && c->op != RCP_OP_NE && c->value.type != RCP_VAL_NUMBER) {
		return rcp_error_set(p->err, vline, vcol, "'%s' needs a number", rcp_op_str(c->op));
	}
	return rcp_tok_is_kw(&p->tok, "for") ? parse_for(p, c) : 0;
}

static int parse_cmp(struct rcp_parser *p, struct rcp_cond **out)
{
	struct rcp_cond *c;
	int rc;

	if (p->n_cmp == RCP_CONDS_MAX) {
		return rcp_parser_fail(p, "more than 32 comparisons in one condition");
	}
	p->n_cmp++;
	c = ntm_calloc(1, sizeof(*c));
	if (c == NULL) {
		return -ENOMEM;
	}
	c->kind = RCP_COND_CMP;
	c->line = p->tok.line;
	c->col = p->tok.col;
	c->resource = rcp_ref_dup(&p->tok);
	rc = c->resource == NULL ? -ENOMEM : parse_cmp_body(p, c);
	if (rc < 0) {
		rcp_cond_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

static int parse_or(struct rcp_parser *p, unsigned depth, struct rcp_cond **out);

static int parse_primary(struct rcp_parser *p, unsigned depth, struct rcp_cond **out)
{
	char d[80];
	int rc;

	if (p->tok.type == RCP_TOK_REF) {
		return parse_cmp(p, out);
	}
	if (p->tok.type != RCP_TOK_LPAREN) {
		return rcp_parser_fail(p, "expected FQDN/resource or '(', found %s",
				       rcp_tok_desc(&p->tok, d, sizeof(d)));
	}
	if (depth == RCP_DEPTH_MAX) {
		return rcp_parser_fail(p, "parentheses nested deeper than 8");
	}
	rc = rcp_parser_advance(p);
	if (rc == 0) {
		rc = parse_or(p, depth + 1, out);
	}
	if (rc < 0) {
		return rc;
	}
	if (p->tok.type != RCP_TOK_RPAREN) {
		rc = rcp_parser_fail(p, "expected ')', found %s",
				     rcp_tok_desc(&p->tok, d, sizeof(d)));
	} else {
		rc = rcp_parser_advance(p);
	}
	if (rc < 0) {
		rcp_cond_free(*out);
		*out = NULL;
	}
	return rc;
}

static int add_kid(struct rcp_cond *node, struct rcp_cond *kid, size_t *cap)
{
	int rc = rcp_grow((void **)&node->kids, cap, node->n_kids, sizeof(*node->kids));

	if (rc < 0) {
		rcp_cond_free(kid);
		return rc;
	}
	node->kids[node->n_kids++] = kid;
	return 0;
}

static int parse_chain(struct rcp_parser *p, unsigned depth, enum rcp_cond_kind kind,
		       struct rcp_cond **out);

/* An operand of an "or" chain is an "and" chain; of an "and" chain, a primary. */
static int parse_operand(struct rcp_parser *p, unsigned depth, enum rcp_cond_kind kind,
			 struct rcp_cond **out)
{
	*out = NULL;
	if (kind == RCP_COND_OR) {
		return parse_chain(p, depth, RCP_COND_AND, out);
	}
	return parse_primary(p, depth, out);
}

/* "x OP y OP z" for OP = "and" or "or"; a single operand is returned as is. */
static int parse_chain(struct rcp_parser *p, unsigned depth, enum rcp_cond_kind kind,
		       struct rcp_cond **out)
{
	const char *kw = kind == RCP_COND_OR ? "or" : "and";
	struct rcp_cond *first, *node, *kid;
	size_t cap = 0;
	int rc;

	*out = NULL;
	rc = parse_operand(p, depth, kind, &first);
	if (rc < 0 || !rcp_tok_is_kw(&p->tok, kw)) {
		*out = first;
		return rc;
	}
	node = ntm_calloc(1, sizeof(*node));
	if (node == NULL) {
		rcp_cond_free(first);
		return -ENOMEM;
	}
	node->kind = kind;
	node->line = first->line;
	node->col = first->col;
	rc = add_kid(node, first, &cap);
	while (rc == 0 && rcp_tok_is_kw(&p->tok, kw)) {
		/* A line ending in "and"/"or" continues on the next one. */
		rc = rcp_parser_advance(p);
		rc = rc ? rc : rcp_parser_skip_nl(p);
		if (rc == 0) {
			rc = parse_operand(p, depth, kind, &kid);
		}
		if (rc == 0) {
			rc = add_kid(node, kid, &cap);
		}
	}
	if (rc < 0) {
		rcp_cond_free(node);
		return rc;
	}
	*out = node;
	return 0;
}

static int parse_or(struct rcp_parser *p, unsigned depth, struct rcp_cond **out)
{
	return parse_chain(p, depth, RCP_COND_OR, out);
}

int rcp_parse_cond(struct rcp_parser *p, struct rcp_cond **out)
{
	*out = NULL;
	p->n_cmp = 0;
	return parse_or(p, 0, out);
}
