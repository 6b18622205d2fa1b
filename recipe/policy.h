/* SPDX-License-Identifier: MIT */
#ifndef RCP_POLICY_H
#define RCP_POLICY_H

/*
 * Safety checkpoint ("sekisho"): a policy of forbidden combinations, e.g.
 *
 *   forbid window.example.net/open when presence.example.net/state == absent
 *   forbid heater.example.net/target > 30 when window.example.net/open == true
 *
 * A rule forbids every "do" action on its resource (or, with OP VALUE, those
 * whose value satisfies it) while its condition holds. The condition uses
 * the recipe grammar without "for" (it is checked on a snapshot). An action
 * without a value, or with a value of another type, matches a rule with
 * OP VALUE: the checkpoint errs on the side of refusing.
 *
 * Two checks:
 *  - at registration, rcp_policy_check_recipe() proves what it can about a
 *    recipe: OK when no rule applies or its trigger excludes every matching
 *    rule's condition; REFUSED when the trigger implies a rule's condition
 *    (every firing would act in the forbidden state); FLAGGED otherwise (the
 *    forbidden state depends on other readings: the run-time check is what
 *    stops it). A strict server refuses both.
 *  - right before acting, rcp_policy_check_action() evaluates the matching
 *    rules on the current state. It fails closed: a rule whose condition
 *    cannot be decided because a reading is unknown refuses the action.
 *
 * A condition may read any device, not only the action device: the agent
 * asks rcp_policy_inputs() which readings an action's check needs and
 * fetches those of other devices right before it acts (ntm-agent(8)).
 */

#include "recipe.h"

struct rcp_rule {
	unsigned line, col;
	char *resource; /* owned "fqdn/path" */
	bool has_value;
	enum rcp_op op;
	struct rcp_value value;
	struct rcp_cond *when; /* owned */
};

struct rcp_policy {
	struct rcp_rule *rules; /* owned array */
	size_t n;
};

enum rcp_verdict {
	RCP_VERDICT_OK,
	RCP_VERDICT_FLAGGED,
	RCP_VERDICT_REFUSED,
};

enum { RCP_REASON_MAX = 512 };

struct rcp_report {
	enum rcp_verdict verdict;
	unsigned rule_line;   /* policy line of the deciding rule, 0 if none */
	unsigned recipe_line; /* recipe text line of the action, 0 if none */
	char reason[RCP_REASON_MAX];
	/* Run-time refusal for an unknown reading: that resource, else "". */
	char unknown[RCP_FQDN_MAX + 1 + RCP_PATH_MAX + 1];
};

/*
 * Parse policy text:
 *
 *   policy = { rule | NL } EOF ;
 *   rule   = "forbid" REF [ OP value ] "when" cond ( NL | EOF ) ;
 *
 * Same lexer, values and condition grammar as recipes, no "for"; at most
 * RCP_RULES_MAX rules. *out is freed with rcp_policy_free(); on failure it
 * is NULL and err names line and column. 0, -EINVAL, -EMSGSIZE or -ENOMEM.
 */
NTM_MUST_CHECK int rcp_policy_parse(const char *text, size_t len, struct rcp_policy **out,
				    struct rcp_error *err);
void rcp_policy_free(struct rcp_policy *p);
/* Structural equality (lines and columns ignored). */
bool rcp_policy_eq(const struct rcp_policy *a, const struct rcp_policy *b);
/* Canonical text, re-parses to an equal policy; caller frees *out with ntm_free. */
NTM_MUST_CHECK int rcp_policy_print(const struct rcp_policy *p, char **out);

/*
 * Registration-time check of one recipe (both borrowed). Fills *rep with the
 * worst verdict over all its actions and rules, and the reason for the first
 * one. Returns 0 when the verdict is OK, -EPERM when FLAGGED or REFUSED.
 */
NTM_MUST_CHECK int rcp_policy_check_recipe(const struct rcp_policy *p, const struct rcp_recipe *r,
					   struct rcp_report *rep);

/*
 * The current reading of `resource`, or NULL when unknown. The result is
 * borrowed and must stay valid until the check returns.
 */
typedef const struct rcp_value *(*rcp_state_lookup_cb)(const char *resource, void *arg);

/*
 * Run-time check of one action against the current state. Returns 0 when it
 * may run, -EPERM when it is refused (rep->verdict REFUSED, rep->reason names
 * the rule and, for an unknown reading, the resource).
 */
NTM_MUST_CHECK int rcp_policy_check_action(const struct rcp_policy *p, rcp_state_lookup_cb lookup,
					   void *arg, const struct rcp_action *a,
					   struct rcp_report *rep);

/*
 * The distinct resources ("fqdn/path", borrowed from p) read by the
 * conditions of the rules that match action a (every rule when a is NULL),
 * in rule order, at most max of them into out. Returns their number, or
 * -E2BIG when there are more than max (out then holds the first max).
 */
NTM_MUST_CHECK int rcp_policy_inputs(const struct rcp_policy *p, const struct rcp_action *a,
				     const char **out, size_t max);

#endif
