/* SPDX-License-Identifier: MIT */
/*
 * Static reasoning over conditions for the registration-time checkpoint.
 *
 * A condition is true on a state when one of its conjunctive "terms" (a way
 * of picking one kid of every OR) has all its comparisons true. A backtracking
 * search enumerates terms goal by goal and prunes a branch as soon as the
 * comparisons picked on one resource contradict each other:
 *  - a resource has one value of one type, so constants of different types
 *    on one resource contradict;
 *  - numbers: the bounds (with ==) must leave a non-empty interval of the
 *    reals, and a single remaining point must not be excluded by !=;
 *    treating the domain as the reals (not 10^-6 steps) can only make us
 *    answer "satisfiable" more often, which is the safe direction;
 *  - booleans: true or false must survive; text: == pins one string, != alone
 *    never empties the infinite set of strings.
 * A step budget bounds the search; running out answers the safe way ("may
 * hold both", "not implied") and sets *complex.
 */
#include <string.h>

#include "recipe_internal.h"

enum { ATOMS_MAX = 2 * RCP_CONDS_MAX + 1, GOALS_MAX = 4 * RCP_CONDS_MAX, STEP_BUDGET = 4096 };

/* What the atoms on one resource allow. */
struct range {
	bool typed, conflict;
	enum rcp_value_type type;
	const struct rcp_value *eq;
	bool has_lo, lo_strict, has_hi, hi_strict;
	int64_t lo, hi;
	const struct rcp_value *ne[ATOMS_MAX];
	size_t n_ne;
};

static void range_lower(struct range *g, int64_t v, bool strict)
{
	if (!g->has_lo || v > g->lo || (v == g->lo && strict)) {
		g->lo = v;
		g->lo_strict = strict;
		g->has_lo = true;
	}
}

static void range_upper(struct range *g, int64_t v, bool strict)
{
	if (!g->has_hi || v < g->hi || (v == g->hi && strict)) {
		g->hi = v;
		g->hi_strict = strict;
		g->has_hi = true;
	}
}

static void range_add(struct range *g, enum rcp_op op, const struct rcp_value *v)
{
	if (g->typed && g->type != v->type) {
		g->conflict = true;
		return;
	}
	g->typed = true;
	g->type = v->type;
	switch (op) {
	case RCP_OP_EQ:
		g->conflict |= g->eq != NULL && !rcp_value_eq(g->eq, v);
		g->eq = v;
		break;
	case RCP_OP_NE:
		g->ne[g->n_ne++] = v;
		break;
	case RCP_OP_LT:
	case RCP_OP_LE:
		range_upper(g, v->num, op == RCP_OP_LT);
		break;
	default:
		range_lower(g, v->num, op == RCP_OP_GT);
		break;
	}
}

static bool excluded(const struct range *g, const struct rcp_value *v)
{
	for (size_t i = 0; i < g->n_ne; i++) {
		if (rcp_value_eq(g->ne[i], v)) {
			return true;
		}
	}
	return false;
}

static bool number_ok(const struct range *g)
{
	struct rcp_value p = { .type = RCP_VAL_NUMBER };

	if (g->eq != NULL) {
		p.num = g->eq->num;
		return !(g->has_lo && (p.num < g->lo || (p.num == g->lo && g->lo_strict))) &&
		       !(g->has_hi && (p.num > g->hi || (p.num == g->hi && g->hi_strict))) &&
		       !excluded(g, &p);
	}
	if (!g->has_lo || !g->has_hi || g->lo < g->hi) {
		return true; /* an interval with an interior: infinitely many values */
	}
	if (g->lo > g->hi || g->lo_strict || g->hi_strict) {
		return false;
	}
	p.num = g->lo;
	return !excluded(g, &p);
}

static bool range_ok(const struct range *g)
{
	struct rcp_value t = { .type = RCP_VAL_BOOL, .b = true };
	struct rcp_value f = { .type = RCP_VAL_BOOL, .b = false };

	if (g->conflict) {
		return false;
	}
	switch (g->type) {
	case RCP_VAL_NUMBER:
		return number_ok(g);
	case RCP_VAL_BOOL:
		if (g->eq != NULL) {
			return !excluded(g, g->eq);
		}
		return !excluded(g, &t) || !excluded(g, &f);
	case RCP_VAL_TEXT:
		return g->eq == NULL || !excluded(g, g->eq);
	default:
		return true;
	}
}

struct solver {
	const struct rcp_cond *goals[GOALS_MAX];
	size_t n_goals;
	const struct rcp_cond *atoms[ATOMS_MAX];
	size_t n_atoms;
	unsigned steps;
	bool exhausted;
	const struct rcp_cond *entail; /* implication mode: the consequent */
};

/* The atoms on `resource` (plus an optional extra one) are consistent. */
static bool atoms_ok(const struct solver *s, const char *resource, enum rcp_op xop,
		     const struct rcp_value *xv)
{
	struct range g;

	memset(&g, 0, sizeof(g));
	for (size_t i = 0; i < s->n_atoms; i++) {
		if (strcmp(s->atoms[i]->resource, resource) == 0) {
			range_add(&g, s->atoms[i]->op, &s->atoms[i]->value);
		}
	}
	if (xv != NULL) {
		range_add(&g, xop, xv);
	}
	return range_ok(&g);
}

static enum rcp_op negate(enum rcp_op op)
{
	static const enum rcp_op neg[] = { RCP_OP_NE, RCP_OP_EQ, RCP_OP_GE,
					   RCP_OP_GT, RCP_OP_LE, RCP_OP_LT };

	return neg[op];
}

/* The chosen atoms force the comparison c to be true. */
static bool atom_entailed(const struct solver *s, const struct rcp_cond *c)
{
	const struct rcp_value *type = NULL;

	for (size_t i = 0; i < s->n_atoms; i++) {
		if (strcmp(s->atoms[i]->resource, c->resource) == 0) {
			type = &s->atoms[i]->value;
		}
	}
	/* No atom on it: its value may be unknown, and then c is false. */
	if (type == NULL || type->type != c->value.type) {
		return false;
	}
	return !atoms_ok(s, c->resource, negate(c->op), &c->value);
}

static bool entailed(const struct solver *s, const struct rcp_cond *c)
{
	bool all = c->kind == RCP_COND_AND;

	if (c->kind == RCP_COND_CMP) {
		return atom_entailed(s, c);
	}
	for (size_t i = 0; i < c->n_kids; i++) {
		if (entailed(s, c->kids[i]) != all) {
			return !all;
		}
	}
	return all;
}

/*
 * Search for a consistent term of the pending goals. In implication mode a
 * term only counts when it does NOT entail s->entail (a counterexample).
 */
static bool solve(struct solver *s)
{
	const struct rcp_cond *g;
	bool found = false;

	if (++s->steps > STEP_BUDGET) {
		s->exhausted = true;
		return true;
	}
	if (s->n_goals == 0) {
		return s->entail == NULL || !entailed(s, s->entail);
	}
	g = s->goals[--s->n_goals];
	if (g->kind == RCP_COND_CMP) {
		s->atoms[s->n_atoms++] = g;
		found = atoms_ok(s, g->resource, RCP_OP_EQ, NULL) && solve(s);
		s->n_atoms--;
	} else if (g->kind == RCP_COND_AND) {
		for (size_t i = g->n_kids; i-- > 0;) {
			s->goals[s->n_goals++] = g->kids[i];
		}
		found = solve(s);
		s->n_goals -= g->n_kids;
	} else {
		for (size_t i = 0; i < g->n_kids && !found; i++) {
			s->goals[s->n_goals++] = g->kids[i];
			found = solve(s);
			s->n_goals--;
		}
	}
	s->goals[s->n_goals++] = g;
	return found;
}

bool rcp_logic_may_hold_both(const struct rcp_cond *a, const struct rcp_cond *b, bool *complex)
{
	struct solver s;
	bool found;

	memset(&s, 0, sizeof(s));
	s.goals[s.n_goals++] = b;
	s.goals[s.n_goals++] = a;
	found = solve(&s);
	*complex = s.exhausted;
	return found;
}

bool rcp_logic_implies(const struct rcp_cond *a, const struct rcp_cond *b, bool *complex)
{
	struct solver s;
	bool counterexample;

	memset(&s, 0, sizeof(s));
	s.goals[s.n_goals++] = a;
	s.entail = b;
	counterexample = solve(&s);
	*complex = s.exhausted;
	return !counterexample;
}
