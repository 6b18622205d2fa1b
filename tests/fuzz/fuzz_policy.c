/* SPDX-License-Identifier: MIT */
/*
 * Policy parser and checkpoint. Whatever parses must survive parse -> print
 * -> parse unchanged; then fixed recipes are checked against it at
 * registration time (the static reasoning in logic.c) and fixed actions at
 * run time against a fixed state, checking the report invariants.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/policy.h"
#include "recipe/recipe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char recipes_text[] =
	"recipe \"a\"\nwhen p.example.net/state == absent and t.example.net/c > 20\n"
	"do w.example.net/open true\ndo h.example.net/t 35\n"
	"recipe \"b\"\nwhen (p.example.net/state != home or t.example.net/c <= 5.5) and "
	"(w.example.net/open == false or t.example.net/c >= 30 for 1m)\n"
	"do w.example.net/open\ndo h.example.net/t 20 mode=eco\nnotify owner\n"
	"recipe \"c\"\nwhen t.example.net/c < 0 or t.example.net/c > 0 or t.example.net/c == 0\n"
	"do v.example.net/open off\n";

static void check(bool ok)
{
	if (!ok) {
		abort();
	}
}

static const struct rcp_value *lookup(const char *resource, void *arg)
{
	const struct rcp_file *f = arg;
	const struct rcp_cond *c = f->recipes[0]->when;

	/* The state: the constants of recipe "a", nothing else is known. */
	for (size_t i = 0; i < c->n_kids; i++) {
		if (strcmp(c->kids[i]->resource, resource) == 0) {
			return &c->kids[i]->value;
		}
	}
	return NULL;
}

static void check_all(const struct rcp_policy *p, struct rcp_file *f)
{
	struct rcp_report rep;
	int rc;

	for (size_t i = 0; i < f->n; i++) {
		const struct rcp_recipe *r = f->recipes[i];

		rc = rcp_policy_check_recipe(p, r, &rep);
		check((rc == 0) == (rep.verdict == RCP_VERDICT_OK));
		check((rep.verdict == RCP_VERDICT_OK) == (rep.reason[0] == '\0'));
		for (size_t k = 0; k < r->n_actions; k++) {
			rc = rcp_policy_check_action(p, lookup, f, &r->actions[k], &rep);
			check(rc == 0 || (rc == -EPERM && rep.reason[0] != '\0'));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rcp_policy *p = NULL, *q = NULL;
	struct rcp_file *f = NULL;
	struct rcp_error err;
	char *text = NULL;
	int rc = rcp_policy_parse((const char *)data, size, &p, &err);

	if (rc != 0) {
		check(p == NULL && err.msg[0] != '\0');
		check(rc != -EINVAL || err.line >= 1);
		return 0;
	}
	check(rcp_policy_print(p, &text) == 0);
	check(rcp_policy_parse(text, strlen(text), &q, NULL) == 0);
	check(rcp_policy_eq(p, q));
	check(rcp_parse(recipes_text, sizeof(recipes_text) - 1, &f, NULL) == 0);
	check_all(p, f);
	rcp_file_free(f);
	rcp_policy_free(q);
	rcp_policy_free(p);
	ntm_free(text);
	return 0;
}
