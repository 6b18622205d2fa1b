/* SPDX-License-Identifier: MIT */
/*
 * Strict recursive-descent parser of recipe text (reference: ntm-recipe(5)).
 *
 *   file    = { recipe | NL } EOF ;
 *   recipe  = "recipe" STRING NL { NL }
 *             "when" cond [ mode ] [ "within" DURATION ] NL { NL }
 *             action { { NL } action } ;
 *   mode    = "edge" | "level" [ "every" DURATION ] ;
 *   action  = ( do | notify ) ( NL | EOF ) ;
 *   do      = "do" REF [ value ] { WORD "=" value } ;
 *   notify  = "notify" ( "owner" | REF ) [ STRING ] ;
 *   cond    = conj { "or" { NL } conj } ;
 *   conj    = primary { "and" { NL } primary } ;
 *   primary = "(" cond ")" | cmp ;
 *   cmp     = REF OP value [ "for" DURATION ] ;
 *   value   = NUMBER | "true" | "false" | "on" | "off" | WORD | STRING ;
 *   OP      = "==" | "!=" | "<" | "<=" | ">" | ">=" ;
 *
 * Tokens are described in lexer.c; NL is not produced inside parentheses.
 * The recipe name is 1..64 of
 * [A-Za-z0-9_.-] starting with a letter or digit and unique in the file;
 * ordering operators need a number; a parameter name appears once per
 * action; limits are the enum rcp_limit constants. The first error stops the
 * parse and nothing is returned.
 */
#include <string.h>

#include "common/alloc.h"
#include "recipe_internal.h"

static int parse_mode(struct rcp_parser *p, struct rcp_recipe *r)
{
	int rc;

	if (rcp_tok_is_kw(&p->tok, "edge")) {
		return rcp_parser_advance(p);
	}
	if (!rcp_tok_is_kw(&p->tok, "level")) {
		return 0;
	}
	r->mode = RCP_MODE_LEVEL;
	rc = rcp_parser_advance(p);
	if (rc < 0 || !rcp_tok_is_kw(&p->tok, "every")) {
		return rc;
	}
	rc = rcp_parser_advance(p);
	if (rc < 0) {
		return rc;
	}
	if (p->tok.type != RCP_TOK_DURATION) {
		return rcp_parser_fail(p, "expected a duration after 'every' (e.g. 5m)");
	}
	r->every_ms = p->tok.ms;
	return rcp_parser_advance(p);
}

/* "within D": the delivery TTL of the recipe's actions (1 s .. 1 day). */
static int parse_ttl(struct rcp_parser *p, struct rcp_recipe *r)
{
	int rc;

	if (!rcp_tok_is_kw(&p->tok, "within")) {
		return 0;
	}
	rc = rcp_parser_advance(p);
	if (rc < 0) {
		return rc;
	}
	if (p->tok.type != RCP_TOK_DURATION || p->tok.ms < RCP_TTL_MIN_S * 1000ULL ||
	    p->tok.ms > RCP_TTL_MAX_S * 1000ULL) {
		return rcp_parser_fail(p, "expected a duration of 1s to 24h after 'within'");
	}
	r->ttl_ms = p->tok.ms;
	return rcp_parser_advance(p);
}

static int parse_header(struct rcp_parser *p, struct rcp_recipe *r)
{
	char d[80];
	int rc;

	r->line = p->tok.line;
	r->col = p->tok.col;
	rc = rcp_parser_advance(p);
	if (rc < 0) {
		return rc;
	}
	if (p->tok.type != RCP_TOK_STRING) {
		return rcp_parser_fail(p, "expected a quoted recipe name after 'recipe'");
	}
	if (!rcp_is_recipe_name(p->tok.str, p->tok.str_len)) {
		return rcp_parser_fail(p, "bad recipe name (1-64 of A-Z a-z 0-9 _ . -, "
					  "starting with a letter or digit)");
	}
	r->name = ntm_strndup(p->tok.str, p->tok.str_len);
	if (r->name == NULL) {
		return -ENOMEM;
	}
	rc = rcp_parser_advance(p);
	if (rc == 0) {
		rc = rcp_parser_eol(p, "the recipe name");
	}
	if (rc == 0) {
		rc = rcp_parser_skip_nl(p);
	}
	if (rc < 0) {
		return rc;
	}
	if (!rcp_tok_is_kw(&p->tok, "when")) {
		return rcp_parser_fail(p, "expected 'when', found %s",
				       rcp_tok_desc(&p->tok, d, sizeof(d)));
	}
	rc = rcp_parser_advance(p);
	if (rc == 0) {
		rc = rcp_parse_cond(p, &r->when);
	}
	if (rc == 0) {
		rc = parse_mode(p, r);
	}
	if (rc == 0) {
		rc = parse_ttl(p, r);
	}
	return rc < 0 ? rc : rcp_parser_eol(p, "the condition");
}

static int parse_param(struct rcp_parser *p, struct rcp_action *a, size_t *cap)
{
	const struct rcp_tok *next;
	struct rcp_param *pm;
	char d[80];
	int rc;

	rc = rcp_parser_peek(p, &next);
	if (rc < 0) {
		return rc;
	}
	if (next->type != RCP_TOK_ASSIGN || rcp_is_keyword(p->tok.p, p->tok.len)) {
		return rcp_parser_fail(p, "expected name=value, found %s",
				       rcp_tok_desc(&p->tok, d, sizeof(d)));
	}
	for (size_t i = 0; i < a->n_params; i++) {
		if (strlen(a->params[i].name) == p->tok.len &&
		    memcmp(a->params[i].name, p->tok.p, p->tok.len) == 0) {
			return rcp_parser_fail(p, "duplicate parameter %s",
					       rcp_tok_desc(&p->tok, d, sizeof(d)));
		}
	}
	if (a->n_params == RCP_PARAMS_MAX) {
		return rcp_parser_fail(p, "more than 8 parameters");
	}
	rc = rcp_grow((void **)&a->params, cap, a->n_params, sizeof(*a->params));
	if (rc < 0) {
		return rc;
	}
	pm = &a->params[a->n_params];
	memset(pm, 0, sizeof(*pm));
	pm->name = ntm_strndup(p->tok.p, p->tok.len);
	if (pm->name == NULL) {
		return -ENOMEM;
	}
	a->n_params++;
	rc = rcp_parser_advance(p);
	if (rc == 0) {
		rc = rcp_parser_advance(p);
	}
	return rc < 0 ? rc : rcp_parse_value(p, &pm->value);
}

/* A value follows unless the next thing is already "name=". */
static int has_value(struct rcp_parser *p, bool *yes)
{
	const struct rcp_tok *next;
	int rc;

	*yes = false;
	if (p->tok.type == RCP_TOK_NUMBER || p->tok.type == RCP_TOK_STRING) {
		*yes = true;
		return 0;
	}
	if (p->tok.type != RCP_TOK_WORD) {
		return 0;
	}
	rc = rcp_parser_peek(p, &next);
	*yes = rc == 0 && next->type != RCP_TOK_ASSIGN;
	return rc;
}

static int parse_do(struct rcp_parser *p, struct rcp_action *a)
{
	size_t cap = 0;
	bool value;
	int rc;

	a->kind = RCP_ACT_DO;
	rc = rcp_parser_advance(p);
	if (rc < 0) {
		return rc;
	}
	if (p->tok.type != RCP_TOK_REF) {
		return rcp_parser_fail(p, "expected FQDN/resource after 'do'");
	}
	a->target = rcp_ref_dup(&p->tok);
	if (a->target == NULL) {
		return -ENOMEM;
	}
	rc = rcp_parser_advance(p);
	if (rc == 0) {
		rc = has_value(p, &value);
	}
	if (rc == 0 && value) {
		rc = rcp_parse_value(p, &a->value);
	}
	while (rc == 0 && p->tok.type == RCP_TOK_WORD) {
		rc = parse_param(p, a, &cap);
	}
	return rc;
}

static int parse_notify(struct rcp_parser *p, struct rcp_action *a)
{
	int rc;

	a->kind = RCP_ACT_NOTIFY;
	rc = rcp_parser_advance(p);
	if (rc < 0) {
		return rc;
	}
	if (rcp_tok_is_kw(&p->tok, "owner")) {
		a->target = ntm_strdup("owner");
	} else if (p->tok.type == RCP_TOK_REF) {
		a->target = rcp_ref_dup(&p->tok);
	} else {
		return rcp_parser_fail(p, "expected 'owner' or FQDN/resource after 'notify'");
	}
	if (a->target == NULL) {
		return -ENOMEM;
	}
	rc = rcp_parser_advance(p);
	if (rc < 0 || p->tok.type != RCP_TOK_STRING) {
		return rc;
	}
	a->value.text = ntm_strndup(p->tok.str, p->tok.str_len);
	if (a->value.text == NULL) {
		return -ENOMEM;
	}
	a->value.type = RCP_VAL_TEXT;
	return rcp_parser_advance(p);
}

static int parse_actions(struct rcp_parser *p, struct rcp_recipe *r)
{
	struct rcp_action *a;
	size_t cap = 0;
	char d[80];
	int rc = 0;

	for (;;) {
		rc = rcp_parser_skip_nl(p);
		if (rc < 0) {
			return rc;
		}
		if (!rcp_tok_is_kw(&p->tok, "do") && !rcp_tok_is_kw(&p->tok, "notify")) {
			break;
		}
		if (r->n_actions == RCP_ACTIONS_MAX) {
			return rcp_parser_fail(p, "more than 16 actions in one recipe");
		}
		rc = rcp_grow((void **)&r->actions, &cap, r->n_actions, sizeof(*r->actions));
		if (rc < 0) {
			return rc;
		}
		a = &r->actions[r->n_actions++];
		memset(a, 0, sizeof(*a));
		a->line = p->tok.line;
		a->col = p->tok.col;
		rc = rcp_tok_is_kw(&p->tok, "do") ? parse_do(p, a) : parse_notify(p, a);
		if (rc == 0) {
			rc = rcp_parser_eol(p, "the action");
		}
		if (rc < 0) {
			return rc;
		}
	}
	if (r->n_actions == 0) {
		return rcp_parser_fail(p, "expected 'do' or 'notify', found %s",
				       rcp_tok_desc(&p->tok, d, sizeof(d)));
	}
	return 0;
}

static int check_name(struct rcp_parser *p, const struct rcp_file *f, const struct rcp_recipe *r)
{
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->recipes[i]->name, r->name) == 0) {
			return rcp_error_set(p->err, r->line, r->col,
					     "duplicate recipe name \"%s\" (first at line %u)",
					     r->name, f->recipes[i]->line);
		}
	}
	return 0;
}

static int parse_recipe(struct rcp_parser *p, struct rcp_file *f, size_t *cap)
{
	struct rcp_recipe *r;
	int rc;

	if (f->n == RCP_RECIPES_MAX) {
		return rcp_parser_fail(p, "more than 256 recipes");
	}
	r = ntm_calloc(1, sizeof(*r));
	if (r == NULL) {
		return -ENOMEM;
	}
	rc = parse_header(p, r);
	if (rc == 0) {
		rc = parse_actions(p, r);
	}
	if (rc == 0) {
		rc = check_name(p, f, r);
	}
	if (rc == 0) {
		rc = rcp_grow((void **)&f->recipes, cap, f->n, sizeof(*f->recipes));
	}
	if (rc < 0) {
		rcp_recipe_free(r);
		return rc;
	}
	f->recipes[f->n++] = r;
	return 0;
}

int rcp_parse(const char *text, size_t len, struct rcp_file **out, struct rcp_error *err)
{
	struct rcp_parser p;
	struct rcp_file *f;
	size_t cap = 0;
	char d[80];
	int rc;

	*out = NULL;
	rcp_error_clear(err);
	if (len > RCP_TEXT_MAX) {
		rcp_error_set(err, 1, 1, "text longer than 65536 bytes");
		return -EMSGSIZE;
	}
	f = ntm_calloc(1, sizeof(*f));
	if (f == NULL) {
		rcp_error_set(err, 0, 0, "out of memory");
		return -ENOMEM;
	}
	rc = rcp_parser_start(&p, text, len, err);
	while (rc == 0) {
		rc = rcp_parser_skip_nl(&p);
		if (rc < 0 || p.tok.type == RCP_TOK_EOF) {
			break;
		}
		if (!rcp_tok_is_kw(&p.tok, "recipe")) {
			rc = rcp_parser_fail(&p, "expected %s, found %s",
					     f->n ? "'do', 'notify' or 'recipe'" : "'recipe'",
					     rcp_tok_desc(&p.tok, d, sizeof(d)));
			break;
		}
		rc = parse_recipe(&p, f, &cap);
	}
	if (rc < 0) {
		if (rc == -ENOMEM) {
			rcp_error_set(err, p.tok.line, p.tok.col, "out of memory");
		}
		rcp_file_free(f);
		return rc;
	}
	*out = f;
	return 0;
}
