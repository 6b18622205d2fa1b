/* SPDX-License-Identifier: MIT */
/*
 * Lexer of the recipe and policy languages (see parser.c for the grammar).
 *
 * Tokens: NL, words ([A-Za-z_][A-Za-z0-9_-]*), resource references
 * (FQDN "/" path), numbers (-?D+(.D+)?), durations (D+ followed by ms, s, m
 * or h), quoted strings ("..." with \" and \\ only), ( ) = and the
 * comparison operators == != < <= > >=. '#' starts a comment to the end of
 * the line. Spaces and tabs separate tokens; CR is allowed only before LF.
 * A newline inside parentheses is white space. Columns count bytes from 1.
 */
#include <stdio.h>
#include <string.h>

#include "recipe_internal.h"

void rcp_error_clear(struct rcp_error *err)
{
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
	}
}

int rcp_error_set(struct rcp_error *err, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		err->line = line;
		err->col = col;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void rcp_lexer_init(struct rcp_lexer *lx, const char *src, size_t len, struct rcp_error *err)
{
	memset(lx, 0, sizeof(*lx));
	lx->src = src;
	lx->len = len;
	lx->line = 1;
	lx->col = 1;
	lx->err = err;
}

static char peek_at(const struct rcp_lexer *lx, size_t off)
{
	return lx->pos + off < lx->len ? lx->src[lx->pos + off] : '\0';
}

static void bump(struct rcp_lexer *lx, size_t n)
{
	lx->pos += n;
	lx->col += (unsigned)n;
}

static void newline(struct rcp_lexer *lx, size_t n)
{
	lx->pos += n;
	lx->line++;
	lx->col = 1;
}

static bool is_run_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

static int lex_fail(struct rcp_lexer *lx, const struct rcp_tok *t, const char *what)
{
	return rcp_error_set(lx->err, t->line, t->col, "%s", what);
}

/*
 * Skip blanks and comments. Returns true when a clause-ending newline was
 * consumed (outside parentheses) and sets *t's position to it.
 */
static bool skip_blank(struct rcp_lexer *lx, struct rcp_tok *t)
{
	for (;;) {
		char c = peek_at(lx, 0);

		if (lx->pos >= lx->len) {
			return false;
		}
		if (c == ' ' || c == '\t') {
			bump(lx, 1);
		} else if (c == '#') {
			while (lx->pos < lx->len && lx->src[lx->pos] != '\n') {
				bump(lx, 1);
			}
		} else if (c == '\n' || (c == '\r' && peek_at(lx, 1) == '\n')) {
			t->line = lx->line;
			t->col = lx->col;
			newline(lx, c == '\r' ? 2 : 1);
			if (lx->paren == 0) {
				return true;
			}
		} else {
			return false;
		}
	}
}

static int lex_string(struct rcp_lexer *lx, struct rcp_tok *t)
{
	const char *why;

	bump(lx, 1);
	t->str_len = 0;
	for (;;) {
		unsigned char c = (unsigned char)peek_at(lx, 0);

		if (lx->pos >= lx->len || c == '\n' || c == '\r') {
			return lex_fail(lx, t, "unterminated string");
		}
		if (c == '"') {
			bump(lx, 1);
			break;
		}
		if (c == '\\') {
			c = (unsigned char)peek_at(lx, 1);
			if (c != '"' && c != '\\') {
				return rcp_error_set(
					lx->err, lx->line, lx->col,
					"unknown escape in string (only \\\" and \\\\)");
			}
			bump(lx, 1);
		}
		if (t->str_len == RCP_STRING_MAX) {
			return lex_fail(lx, t, "string longer than 256 bytes");
		}
		t->str[t->str_len++] = (char)c;
		bump(lx, 1);
	}
	t->str[t->str_len] = '\0';
	why = rcp_text_problem(t->str, t->str_len);
	if (why != NULL) {
		return lex_fail(lx, t, why);
	}
	t->type = RCP_TOK_STRING;
	return 0;
}

static int lex_op(struct rcp_lexer *lx, struct rcp_tok *t)
{
	char c = peek_at(lx, 0);
	bool eq = peek_at(lx, 1) == '=';

	t->type = RCP_TOK_OP;
	switch (c) {
	case '=':
		t->type = eq ? RCP_TOK_OP : RCP_TOK_ASSIGN;
		t->op = RCP_OP_EQ;
		break;
	case '!':
		if (!eq) {
			return lex_fail(lx, t, "unexpected '!' (did you mean '!='?)");
		}
		t->op = RCP_OP_NE;
		break;
	case '<':
		t->op = eq ? RCP_OP_LE : RCP_OP_LT;
		break;
	default:
		t->op = eq ? RCP_OP_GE : RCP_OP_GT;
		break;
	}
	bump(lx, eq ? 2 : 1);
	return 0;
}

static int lex_duration(struct rcp_lexer *lx, struct rcp_tok *t, size_t digits)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 } };
	const char *u = t->p + digits;
	size_t ulen = t->len - digits;
	uint64_t n = 0;

	for (size_t i = 0; i < digits; i++) {
		n = n < 1000000000ULL ? n * 10 + (uint64_t)(t->p[i] - '0') : n;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strlen(units[i].unit) == ulen && memcmp(units[i].unit, u, ulen) == 0) {
			t->type = RCP_TOK_DURATION;
			t->ms = n * units[i].ms;
			if (!rcp_duration_is_valid(t->ms)) {
				return lex_fail(lx, t,
						"duration must be more than 0 and at most 1 week");
			}
			return 0;
		}
	}
	return rcp_error_set(lx->err, t->line, t->col, "bad number or duration '%.*s'",
			     (int)(t->len > 40 ? 40 : t->len), t->p);
}

static int lex_number(struct rcp_lexer *lx, struct rcp_tok *t)
{
	size_t digits = 0;
	int rc;

	while (digits < t->len && t->p[digits] >= '0' && t->p[digits] <= '9') {
		digits++;
	}
	if (digits > 0 && digits < t->len && t->p[digits] != '.') {
		return lex_duration(lx, t, digits);
	}
	rc = rcp_number_parse(t->p, t->len, &t->num);
	if (rc == -ERANGE) {
		return lex_fail(lx, t, "number out of range (at most 12 digits, 6 decimals)");
	}
	if (rc < 0) {
		return rcp_error_set(lx->err, t->line, t->col, "bad number '%.*s'",
				     (int)(t->len > 40 ? 40 : t->len), t->p);
	}
	t->type = RCP_TOK_NUMBER;
	return 0;
}

static int lex_run(struct rcp_lexer *lx, struct rcp_tok *t)
{
	const char *why;
	size_t n = 0;
	bool ref = false;

	for (;; n++) {
		char c = peek_at(lx, n);

		if (c == '/') {
			ref = true;
		} else if (!is_run_char(c) && !(ref && c == '~')) {
			break;
		}
	}
	t->p = lx->src + lx->pos;
	t->len = n;
	bump(lx, n);
	if (ref) {
		why = rcp_ref_problem(t->p, t->len);
		if (why != NULL) {
			return rcp_error_set(lx->err, t->line, t->col, "bad resource '%.*s': %s",
					     (int)(n > 60 ? 60 : n), t->p, why);
		}
		t->type = RCP_TOK_REF;
		return 0;
	}
	if (t->p[0] == '-' || (t->p[0] >= '0' && t->p[0] <= '9')) {
		return lex_number(lx, t);
	}
	if (!rcp_is_ident(t->p, t->len)) {
		return rcp_error_set(lx->err, t->line, t->col,
				     n > RCP_IDENT_MAX
					     ? "word longer than 32 bytes: '%.*s'"
					     : "'%.*s' is not a word (a resource is FQDN/name)",
				     (int)(n > 40 ? 40 : n), t->p);
	}
	t->type = RCP_TOK_WORD;
	return 0;
}

static int lex_token(struct rcp_lexer *lx, struct rcp_tok *t)
{
	unsigned char c = (unsigned char)peek_at(lx, 0);

	t->p = lx->src + lx->pos;
	t->len = 1;
	if (c == '(' || c == ')') {
		t->type = c == '(' ? RCP_TOK_LPAREN : RCP_TOK_RPAREN;
		if (c == '(') {
			lx->paren++;
		} else if (lx->paren > 0) {
			lx->paren--;
		}
		bump(lx, 1);
		return 0;
	}
	if (c == '"') {
		return lex_string(lx, t);
	}
	if (c == '=' || c == '!' || c == '<' || c == '>') {
		return lex_op(lx, t);
	}
	if (is_run_char((char)c) && c != '.') {
		return lex_run(lx, t);
	}
	if (c >= 0x21 && c < 0x7f) {
		return rcp_error_set(lx->err, t->line, t->col, "unexpected character '%c'", c);
	}
	return rcp_error_set(lx->err, t->line, t->col, "unexpected byte 0x%02x", c);
}

int rcp_lexer_next(struct rcp_lexer *lx, struct rcp_tok *t)
{
	memset(t, 0, offsetof(struct rcp_tok, str));
	t->str[0] = '\0';
	t->str_len = 0;
	if (skip_blank(lx, t)) {
		/* Positioned at the newline: "1:12: unexpected end of line". */
		t->type = RCP_TOK_NL;
		return 0;
	}
	t->line = lx->line;
	t->col = lx->col;
	if (lx->pos >= lx->len) {
		t->type = RCP_TOK_EOF;
		return 0;
	}
	return lex_token(lx, t);
}
