/* SPDX-License-Identifier: MIT */
#ifndef RCP_RECIPE_INTERNAL_H
#define RCP_RECIPE_INTERNAL_H

/*
 * Shared by the files of recipe/ only: the lexer, the condition and value
 * parsers (reused by the policy parser), the string builder behind the
 * canonical printers, and number/duration helpers.
 */

#include <stdarg.h>

#include "recipe.h"

enum rcp_tok_type {
	RCP_TOK_EOF,
	RCP_TOK_NL,
	RCP_TOK_WORD,	  /* identifier or keyword; p/len */
	RCP_TOK_REF,	  /* fqdn/path; p/len */
	RCP_TOK_NUMBER,	  /* num (fixed point) */
	RCP_TOK_DURATION, /* ms (validated: 0 < ms <= one week) */
	RCP_TOK_STRING,	  /* str/str_len (unescaped, validated) */
	RCP_TOK_LPAREN,
	RCP_TOK_RPAREN,
	RCP_TOK_OP, /* op */
	RCP_TOK_ASSIGN,
};

struct rcp_tok {
	enum rcp_tok_type type;
	unsigned line, col;
	const char *p; /* into the source text */
	size_t len;
	int64_t num;
	uint64_t ms;
	enum rcp_op op;
	char str[RCP_STRING_MAX + 1];
	size_t str_len;
};

/*
 * The lexer reads borrowed text. Newlines end clauses, except inside
 * parentheses, where a condition may continue on the next line.
 */
struct rcp_lexer {
	const char *src;
	size_t len, pos;
	unsigned line, col;
	unsigned paren;
	struct rcp_error *err; /* borrowed, may be NULL */
};

void rcp_lexer_init(struct rcp_lexer *lx, const char *src, size_t len, struct rcp_error *err);
/* Next token into *t; -EINVAL with the error filled on a lexical error. */
NTM_MUST_CHECK int rcp_lexer_next(struct rcp_lexer *lx, struct rcp_tok *t);

/* Fill err (NULL-safe) and return -EINVAL. */
int rcp_error_set(struct rcp_error *err, unsigned line, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void rcp_error_clear(struct rcp_error *err);

/* Parser state shared by the recipe and policy grammars (2-token window). */
struct rcp_parser {
	struct rcp_lexer lx;
	struct rcp_tok tok;
	struct rcp_tok ahead;
	bool has_ahead;
	struct rcp_error *err;
	unsigned n_cmp; /* comparisons in the condition being parsed */
	bool allow_for; /* false in policy conditions (checked on a snapshot) */
};

NTM_MUST_CHECK int rcp_parser_start(struct rcp_parser *p, const char *text, size_t len,
				    struct rcp_error *err);
NTM_MUST_CHECK int rcp_parser_advance(struct rcp_parser *p);
NTM_MUST_CHECK int rcp_parser_peek(struct rcp_parser *p, const struct rcp_tok **out);
NTM_MUST_CHECK int rcp_parser_skip_nl(struct rcp_parser *p);
/* The current token ends the clause: NL (consumed) or EOF. */
NTM_MUST_CHECK int rcp_parser_eol(struct rcp_parser *p, const char *clause);
bool rcp_tok_is_kw(const struct rcp_tok *t, const char *kw);
/* "'word'", "end of line", ... for error messages. */
const char *rcp_tok_desc(const struct rcp_tok *t, char *buf, size_t cap);
int rcp_parser_fail(struct rcp_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Owned copy of a REF token, host part lower-cased. NULL on ENOMEM. */
char *rcp_ref_dup(const struct rcp_tok *t);

NTM_MUST_CHECK int rcp_parse_value(struct rcp_parser *p, struct rcp_value *out);
NTM_MUST_CHECK int rcp_parse_cond(struct rcp_parser *p, struct rcp_cond **out);

/* Why s is not a resource reference, or NULL when it is one. */
const char *rcp_ref_problem(const char *s, size_t len);
/* Why s is not an allowed text value, or NULL. */
const char *rcp_text_problem(const char *s, size_t len);
/* Strict decimal "-?D{1,12}(.D{1,6})?" -> fixed point; -EINVAL or -ERANGE. */
NTM_MUST_CHECK int rcp_number_parse(const char *s, size_t len, int64_t *out);
enum { RCP_NUMBUF = 32 };
void rcp_number_format(int64_t v, char buf[RCP_NUMBUF]);
bool rcp_duration_is_valid(uint64_t ms);

/* Grow *arr (elements of `size`) so that it holds at least n + 1 entries. */
NTM_MUST_CHECK int rcp_grow(void **arr, size_t *cap, size_t n, size_t size);

/* A growing string with a sticky error: check once in rcp_sb_finish. */
struct rcp_sb {
	char *buf;
	size_t len, cap;
	int err;
};

void rcp_sb_puts(struct rcp_sb *sb, const char *s);
void rcp_sb_printf(struct rcp_sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rcp_sb_value(struct rcp_sb *sb, const struct rcp_value *v);
void rcp_sb_duration(struct rcp_sb *sb, uint64_t ms);
void rcp_sb_cond(struct rcp_sb *sb, const struct rcp_cond *c);
/* Hand the string to *out (caller frees) or free it and return the error. */
NTM_MUST_CHECK int rcp_sb_finish(struct rcp_sb *sb, char **out);

/*
 * Static reasoning (logic.c). may_hold_both: false only when no state can
 * make a and b true together. implies: true only when every state making a
 * true makes b true. Both answer the safe way and set *complex when the
 * search budget runs out.
 */
bool rcp_logic_may_hold_both(const struct rcp_cond *a, const struct rcp_cond *b, bool *complex);
bool rcp_logic_implies(const struct rcp_cond *a, const struct rcp_cond *b, bool *complex);

/* Number of comparisons in a tree. */
size_t rcp_cond_count(const struct rcp_cond *c);

#endif
