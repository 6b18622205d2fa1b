/* SPDX-License-Identifier: MIT */
/*
 * Safety checkpoint ("sekisho"): policy parser, printer and the two checks
 * (semantics in policy.h; the static reasoning is in logic.c).
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "policy.h"
#include "recipe_internal.h"

static void rule_fini(struct rcp_rule *rule)
{
	ntm_free(rule->resource);
	rcp_value_fini(&rule->value);
	rcp_cond_free(rule->when);
}

void rcp_policy_free(struct rcp_policy *p)
{
	if (p == NULL) {
		return;
	}
	for (size_t i = 0; i < p->n; i++) {
		rule_fini(&p->rules[i]);
	}
	ntm_free(p->rules);
	ntm_free(p);
}

static int parse_rule_value(struct rcp_parser *p, struct rcp_rule *rule)
{
	unsigned line, col;
	int rc;

	rule->has_value = true;
	rule->op = p->tok.op;
	rc = rcp_parser_advance(p);
	line = p->tok.line;
	col = p->tok.col;
	rc = rc ? rc : rcp_parse_value(p, &rule->value);
	if (rc == 0 && rule->op != RCP_OP_EQ && rule->op != RCP_OP_NE &&
	    rule->value.type != RCP_VAL_NUMBER) {
		rc = rcp_error_set(p->err, line, col, "'%s' needs a number", rcp_op_str(rule->op));
	}
	return rc;
}

static int parse_rule(struct rcp_parser *p, struct rcp_rule *rule)
{
	char d[80];
	int rc;

	rule->line = p->tok.line;
	rule->col = p->tok.col;
	rc = rcp_parser_advance(p);
	if (rc < 0) {
		return rc;
	}
	if (p->tok.type != RCP_TOK_REF) {
		return rcp_parser_fail(p, "expected FQDN/resource after 'forbid'");
	}
	rule->resource = rcp_ref_dup(&p->tok);
	if (rule->resource == NULL) {
		return -ENOMEM;
	}
	rc = rcp_parser_advance(p);
	if (rc == 0 && p->tok.type == RCP_TOK_OP) {
		rc = parse_rule_value(p, rule);
	}
	if (rc < 0) {
		return rc;
	}
	if (!rcp_tok_is_kw(&p->tok, "when")) {
		return rcp_parser_fail(p, "expected 'when', found %s",
				       rcp_tok_desc(&p->tok, d, sizeof(d)));
	}
	rc = rcp_parser_advance(p);
	rc = rc ? rc : rcp_parse_cond(p, &rule->when);
	return rc ? rc : rcp_parser_eol(p, "the condition");
}

static int parse_rules(struct rcp_parser *p, struct rcp_policy *pol)
{
	size_t cap = 0;
	char d[80];
	int rc = 0;

	p->allow_for = false;
	for (;;) {
		rc = rcp_parser_skip_nl(p);
		if (rc < 0 || p->tok.type == RCP_TOK_EOF) {
			return rc;
		}
		if (!rcp_tok_is_kw(&p->tok, "forbid")) {
			return rcp_parser_fail(p, "expected 'forbid', found %s",
					       rcp_tok_desc(&p->tok, d, sizeof(d)));
		}
		if (pol->n == RCP_RULES_MAX) {
			return rcp_parser_fail(p, "more than 256 rules");
		}
		rc = rcp_grow((void **)&pol->rules, &cap, pol->n, sizeof(*pol->rules));
		if (rc < 0) {
			return rc;
		}
		memset(&pol->rules[pol->n], 0, sizeof(pol->rules[0]));
		pol->n++;
		rc = parse_rule(p, &pol->rules[pol->n - 1]);
		if (rc < 0) {
			return rc;
		}
	}
}

int rcp_policy_parse(const char *text, size_t len, struct rcp_policy **out, struct rcp_error *err)
{
	struct rcp_parser p;
	struct rcp_policy *pol;
	int rc;

	*out = NULL;
	rcp_error_clear(err);
	if (len > RCP_TEXT_MAX) {
		rcp_error_set(err, 1, 1, "text longer than 65536 bytes");
		return -EMSGSIZE;
	}
	pol = ntm_calloc(1, sizeof(*pol));
	if (pol == NULL) {
		rcp_error_set(err, 0, 0, "out of memory");
		return -ENOMEM;
	}
	rc = rcp_parser_start(&p, text, len, err);
	rc = rc ? rc : parse_rules(&p, pol);
	if (rc < 0) {
		if (rc == -ENOMEM) {
			rcp_error_set(err, p.tok.line, p.tok.col, "out of memory");
		}
		rcp_policy_free(pol);
		return rc;
	}
	*out = pol;
	return 0;
}

bool rcp_policy_eq(const struct rcp_policy *a, const struct rcp_policy *b)
{
	if (a == NULL || b == NULL) {
		return a == b;
	}
	if (a->n != b->n) {
		return false;
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct rcp_rule *x = &a->rules[i], *y = &b->rules[i];

		if (strcmp(x->resource, y->resource) != 0 || x->has_value != y->has_value ||
		    (x->has_value && (x->op != y->op || !rcp_value_eq(&x->value, &y->value))) ||
		    !rcp_cond_eq(x->when, y->when)) {
			return false;
		}
	}
	return true;
}

static void sb_rule(struct rcp_sb *sb, const struct rcp_rule *rule)
{
	rcp_sb_printf(sb, "forbid %s", rule->resource);
	if (rule->has_value) {
		rcp_sb_printf(sb, " %s ", rcp_op_str(rule->op));
		rcp_sb_value(sb, &rule->value);
	}
	rcp_sb_puts(sb, " when ");
	rcp_sb_cond(sb, rule->when);
}

int rcp_policy_print(const struct rcp_policy *p, char **out)
{
	struct rcp_sb sb = { 0 };

	*out = NULL;
	for (size_t i = 0; i < p->n; i++) {
		sb_rule(&sb, &p->rules[i]);
		rcp_sb_puts(&sb, "\n");
	}
	return rcp_sb_finish(&sb, out);
}

/* The rule applies to the action (unknown/mismatched values match). */
static bool rule_matches(const struct rcp_rule *rule, const struct rcp_action *a)
{
	if (a->kind != RCP_ACT_DO || strcmp(rule->resource, a->target) != 0) {
		return false;
	}
	if (!rule->has_value || a->value.type == RCP_VAL_NONE) {
		return true;
	}
	return rcp_value_compare(&a->value, rule->op, &rule->value) != 0;
}

/*
 * Fill the report: `head` (built by the caller in sb) followed by the rule's
 * text; a reason too long for the report ends in "...".
 */
static void report_set(struct rcp_report *rep, enum rcp_verdict v, const struct rcp_rule *rule,
		       const struct rcp_action *a, struct rcp_sb *sb)
{
	char *s = NULL;
	size_t n;

	rep->verdict = v;
	rep->rule_line = rule->line;
	rep->recipe_line = a->line;
	sb_rule(sb, rule);
	if (rcp_sb_finish(sb, &s) < 0) {
		snprintf(rep->reason, sizeof(rep->reason), "forbidden by policy line %u",
			 rule->line);
		return;
	}
	n = strlen(s);
	if (n >= sizeof(rep->reason)) {
		n = sizeof(rep->reason) - 4;
		memcpy(rep->reason + n, "...", 4);
	} else {
		rep->reason[n] = '\0';
	}
	memcpy(rep->reason, s, n);
	ntm_free(s);
}

/* The first resource c reads on a device other than host ("fqdn"), or NULL. */
static const char *other_device(const struct rcp_cond *c, const char *host, size_t n)
{
	const char *r;

	if (c->kind == RCP_COND_CMP) {
		return strncmp(c->resource, host, n) == 0 && c->resource[n] == '/' ? NULL
										   : c->resource;
	}
	for (size_t i = 0; i < c->n_kids; i++) {
		r = other_device(c->kids[i], host, n);
		if (r != NULL) {
			return r;
		}
	}
	return NULL;
}

static void check_one(const struct rcp_recipe *r, const struct rcp_action *a,
		      const struct rcp_rule *rule, struct rcp_report *rep)
{
	struct rcp_sb sb = { 0 };
	bool complex = false, complex2 = false;
	enum rcp_verdict v;

	if (!rcp_logic_may_hold_both(r->when, rule->when, &complex)) {
		return;
	}
	v = rcp_logic_implies(r->when, rule->when, &complex2) ? RCP_VERDICT_REFUSED
							      : RCP_VERDICT_FLAGGED;
	if (v <= rep->verdict) {
		return;
	}
	rcp_sb_printf(&sb, "recipe \"%s\"", r->name);
	if (a->line > 0) {
		rcp_sb_printf(&sb, " line %u", a->line);
	}
	if (v == RCP_VERDICT_REFUSED) {
		rcp_sb_printf(&sb,
			      ": \"do %s\" would act in a forbidden state whenever it fires; "
			      "policy line %u: ",
			      a->target, rule->line);
	} else {
		const char *slash = strchr(a->target, '/');
		const char *other = other_device(rule->when, a->target,
						 slash != NULL ? (size_t)(slash - a->target) : 0);

		rcp_sb_printf(&sb,
			      ": \"do %s\" may act in a forbidden state (the trigger does "
			      "not exclude it%s%s%s); policy line %u: ",
			      a->target, complex ? ", too complex to analyse" : "",
			      other != NULL ? "; checked at run time with a fresh reading of " : "",
			      other != NULL ? other : "", rule->line);
	}
	report_set(rep, v, rule, a, &sb);
}

int rcp_policy_check_recipe(const struct rcp_policy *p, const struct rcp_recipe *r,
			    struct rcp_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	for (size_t i = 0; i < r->n_actions; i++) {
		for (size_t k = 0; k < p->n; k++) {
			if (rule_matches(&p->rules[k], &r->actions[i])) {
				check_one(r, &r->actions[i], &p->rules[k], rep);
			}
		}
	}
	return rep->verdict == RCP_VERDICT_OK ? 0 : -EPERM;
}

/* Kleene logic: 1 true, 0 false, -1 unknown (first unknown resource kept). */
static int eval3(const struct rcp_cond *c, rcp_state_lookup_cb lookup, void *arg,
		 const char **unknown)
{
	bool all = c->kind == RCP_COND_AND;
	int res, k;

	if (c->kind == RCP_COND_CMP) {
		res = rcp_value_compare(lookup(c->resource, arg), c->op, &c->value);
		if (res < 0 && *unknown == NULL) {
			*unknown = c->resource;
		}
		return res;
	}
	/* AND: false wins, then unknown. OR: true wins, then unknown. */
	res = all ? 1 : 0;
	for (size_t i = 0; i < c->n_kids; i++) {
		k = eval3(c->kids[i], lookup, arg, unknown);
		if (k == (all ? 0 : 1)) {
			return k;
		}
		if (k < 0) {
			res = -1;
		}
	}
	return res;
}

int rcp_policy_check_action(const struct rcp_policy *p, rcp_state_lookup_cb lookup, void *arg,
			    const struct rcp_action *a, struct rcp_report *rep)
{
	struct rcp_sb sb = { 0 };
	const char *unknown = NULL;
	int t = 0;
	size_t k;

	memset(rep, 0, sizeof(*rep));
	for (k = 0; k < p->n && t == 0; k++) {
		unknown = NULL;
		if (rule_matches(&p->rules[k], a)) {
			t = eval3(p->rules[k].when, lookup, arg, &unknown);
		}
	}
	if (t == 0) {
		return 0;
	}
	if (t > 0) {
		rcp_sb_printf(&sb,
			      "\"do %s\" refused: forbidden now by policy line %u: ", a->target,
			      p->rules[k - 1].line);
	} else {
		snprintf(rep->unknown, sizeof(rep->unknown), "%s", unknown);
		rcp_sb_printf(&sb,
			      "\"do %s\" refused: %s is unknown, so policy line %u "
			      "cannot be checked (fail closed): ",
			      a->target, unknown, p->rules[k - 1].line);
	}
	report_set(rep, RCP_VERDICT_REFUSED, &p->rules[k - 1], a, &sb);
	return -EPERM;
}

/* Add c's resources not yet in out[0..*n); -E2BIG when one does not fit. */
static int collect(const struct rcp_cond *c, const char **out, size_t max, size_t *n)
{
	int rc = 0;

	if (c->kind != RCP_COND_CMP) {
		for (size_t i = 0; i < c->n_kids && rc == 0; i++) {
			rc = collect(c->kids[i], out, max, n);
		}
		return rc;
	}
	for (size_t i = 0; i < *n; i++) {
		if (strcmp(out[i], c->resource) == 0) {
			return 0;
		}
	}
	if (*n == max) {
		return -E2BIG;
	}
	out[(*n)++] = c->resource;
	return 0;
}

int rcp_policy_inputs(const struct rcp_policy *p, const struct rcp_action *a, const char **out,
		      size_t max)
{
	size_t n = 0;
	int rc = 0;

	for (size_t k = 0; k < p->n && rc == 0; k++) {
		if (a == NULL || rule_matches(&p->rules[k], a)) {
			rc = collect(p->rules[k].when, out, max, &n);
		}
	}
	return rc < 0 ? rc : (int)n;
}
