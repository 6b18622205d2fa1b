/* SPDX-License-Identifier: MIT */
/* Safety checkpoint (policy parser, registration and run-time checks) and loops. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/loop.h"
#include "recipe/policy.h"
#include "recipe/recipe.h"

#include "ntm_test.h"

static const char policy_text[] =
	"# sekisho\n"
	"forbid window.example.net/open when presence.example.net/state == absent\n"
	"forbid heater.example.net/target > 30 when window.example.net/open == true\n"
	"forbid valve.example.net/open when tank.example.net/level > 90 or "
	"(tank.example.net/level > 80 and pump.example.net/on == false)\n";

static struct rcp_policy *policy(void)
{
	struct rcp_policy *p = NULL;
	struct rcp_error err;

	CU_ASSERT_EQUAL_FATAL(rcp_policy_parse(policy_text, strlen(policy_text), &p, &err), 0);
	return p;
}

static struct rcp_file *recipes(const char *text)
{
	struct rcp_file *f = NULL;
	struct rcp_error err;
	int rc = rcp_parse(text, strlen(text), &f, &err);

	if (rc != 0) {
		fprintf(stderr, "\n%u:%u: %s\n", err.line, err.col, err.msg);
	}
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	return f;
}

static void test_policy_parse_and_print(void)
{
	struct rcp_policy *p = policy(), *q = NULL;
	struct rcp_error err;
	char *text;

	CU_ASSERT_EQUAL_FATAL(p->n, 3);
	CU_ASSERT_STRING_EQUAL(p->rules[0].resource, "window.example.net/open");
	CU_ASSERT_FALSE(p->rules[0].has_value);
	CU_ASSERT_EQUAL(p->rules[0].line, 2);
	CU_ASSERT_TRUE(p->rules[1].has_value);
	CU_ASSERT_EQUAL(p->rules[1].op, RCP_OP_GT);
	CU_ASSERT_EQUAL(p->rules[1].value.num, 30 * RCP_NUM_SCALE);
	CU_ASSERT_EQUAL(p->rules[2].when->kind, RCP_COND_OR);
	CU_ASSERT_EQUAL_FATAL(rcp_policy_print(p, &text), 0);
	CU_ASSERT_EQUAL(rcp_policy_parse(text, strlen(text), &q, &err), 0);
	CU_ASSERT_TRUE(rcp_policy_eq(p, q));
	ntm_free(text);
	rcp_policy_free(q);
	rcp_policy_free(p);
}

static void test_policy_errors(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "forbid a.example.net/x when b.example.net/y == 1 for 5s\n",
		  "1:50: 'for' is not allowed here (a policy is checked on the current state)" },
		{ "forbid a.example.net/x\n", "1:23: expected 'when', found end of line" },
		{ "forbid a.example.net/x > on when b.example.net/y == 1\n",
		  "1:26: '>' needs a number" },
		{ "allow a.example.net/x when b.example.net/y == 1\n",
		  "1:1: expected 'forbid', found 'allow'" },
		{ "forbid when b.example.net/y == 1\n",
		  "1:8: expected FQDN/resource after 'forbid'" },
		{ "forbid a.example.net/x when b.example.net/y == 1 x\n",
		  "1:50: unexpected 'x' after the condition" },
	};
	struct rcp_policy *p;
	struct rcp_error err;
	char got[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = (struct rcp_policy *)1;
		CU_ASSERT_EQUAL(rcp_policy_parse(cases[i].text, strlen(cases[i].text), &p, &err),
				-EINVAL);
		CU_ASSERT_PTR_NULL(p);
		snprintf(got, sizeof(got), "%u:%u: %s", err.line, err.col, err.msg);
		if (strcmp(got, cases[i].want) != 0) {
			fprintf(stderr, "\nwant: %s\ngot:  %s\n", cases[i].want, got);
		}
		CU_ASSERT_STRING_EQUAL(got, cases[i].want);
	}
}

/* Each recipe is named after the verdict the checkpoint must give it. */
static const char registration[] =
	"recipe \"ok-home\"\nwhen outside.example.net/air == fresh and "
	"presence.example.net/state == home\ndo window.example.net/open true\n"
	"recipe \"flag-fresh\"\nwhen outside.example.net/air == fresh\n"
	"do aircon.example.net/power off\ndo window.example.net/open true\n"
	"recipe \"refuse-away\"\nwhen presence.example.net/state == absent\n"
	"do window.example.net/open\n"
	"recipe \"flag-not-home\"\nwhen presence.example.net/state != home\n"
	"do window.example.net/open\n"
	"recipe \"ok-mild\"\nwhen t.example.net/c < 18\ndo heater.example.net/target 25\n"
	"recipe \"ok-shut\"\nwhen window.example.net/open == false\n"
	"do heater.example.net/target 35\n"
	"recipe \"flag-hot\"\nwhen t.example.net/c < 18\ndo heater.example.net/target 35\n"
	"recipe \"flag-novalue\"\nwhen t.example.net/c < 18\ndo heater.example.net/target\n"
	"recipe \"ok-low\"\nwhen tank.example.net/level <= 80\ndo valve.example.net/open\n"
	"recipe \"ok-pumping\"\nwhen tank.example.net/level <= 90 and pump.example.net/on == true\n"
	"do valve.example.net/open\n"
	"recipe \"refuse-full\"\nwhen tank.example.net/level >= 95\ndo valve.example.net/open\n"
	"recipe \"flag-edge\"\nwhen tank.example.net/level >= 90\ndo valve.example.net/open\n"
	"recipe \"refuse-both\"\nwhen (presence.example.net/state == absent and "
	"rain.example.net/now == false) or (presence.example.net/state == absent and "
	"t.example.net/c > 25)\ndo window.example.net/open\n"
	"recipe \"flag-either\"\nwhen presence.example.net/state == absent or "
	"presence.example.net/state == away\ndo window.example.net/open\n"
	"recipe \"ok-notify\"\nwhen presence.example.net/state == absent\n"
	"notify window.example.net/open\n"
	"recipe \"ok-contradiction\"\nwhen t.example.net/c > 5 and t.example.net/c < 5\n"
	"do window.example.net/open\n";

static void test_registration_check(void)
{
	struct rcp_policy *p = policy();
	struct rcp_file *f = recipes(registration);
	struct rcp_report rep;

	for (size_t i = 0; i < f->n; i++) {
		const struct rcp_recipe *r = f->recipes[i];
		enum rcp_verdict want = strncmp(r->name, "ok", 2) == 0	   ? RCP_VERDICT_OK
					: strncmp(r->name, "flag", 4) == 0 ? RCP_VERDICT_FLAGGED
									   : RCP_VERDICT_REFUSED;
		int rc = rcp_policy_check_recipe(p, r, &rep);

		if (rep.verdict != want) {
			fprintf(stderr, "\n%s: verdict %d, want %d (%s)\n", r->name, rep.verdict,
				want, rep.reason);
		}
		CU_ASSERT_EQUAL(rep.verdict, want);
		CU_ASSERT_EQUAL(rc, want == RCP_VERDICT_OK ? 0 : -EPERM);
		CU_ASSERT_EQUAL(rep.reason[0] == '\0', want == RCP_VERDICT_OK);
	}
	rcp_file_free(f);
	rcp_policy_free(p);
}

static void test_registration_reason(void)
{
	struct rcp_policy *p = policy();
	struct rcp_file *f = recipes(registration);
	struct rcp_report rep;

	CU_ASSERT_EQUAL(rcp_policy_check_recipe(p, f->recipes[1], &rep), -EPERM);
	CU_ASSERT_EQUAL(rep.rule_line, 2);
	CU_ASSERT_EQUAL(rep.recipe_line, 7);
	CU_ASSERT_STRING_EQUAL(
		rep.reason,
		"recipe \"flag-fresh\" line 7: \"do window.example.net/open\" may act "
		"in a forbidden state (the trigger does not exclude it; checked at "
		"run time with a fresh reading of presence.example.net/state); policy "
		"line 2: forbid window.example.net/open when presence.example.net/state "
		"== absent");
	CU_ASSERT_EQUAL(rcp_policy_check_recipe(p, f->recipes[2], &rep), -EPERM);
	CU_ASSERT_STRING_EQUAL(
		rep.reason, "recipe \"refuse-away\" line 10: \"do window.example.net/open\" would "
			    "act in a forbidden state whenever it fires; policy line 2: forbid "
			    "window.example.net/open when presence.example.net/state == absent");
	rcp_file_free(f);
	rcp_policy_free(p);
}

struct state {
	const char *res[4];
	struct rcp_value val[4];
	size_t n;
};

static const struct rcp_value *lookup(const char *resource, void *arg)
{
	const struct state *s = arg;

	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->res[i], resource) == 0) {
			return &s->val[i];
		}
	}
	return NULL;
}

static void set_state(struct state *s, const char *res, const struct rcp_value *v)
{
	size_t i = 0;

	while (i < s->n && strcmp(s->res[i], res) != 0) {
		i++;
	}
	if (i == s->n) {
		s->res[s->n++] = res;
	} else {
		rcp_value_fini(&s->val[i]);
	}
	CU_ASSERT_EQUAL(rcp_value_copy(&s->val[i], v), 0);
}

static void set_word(struct state *s, const char *res, const char *w)
{
	struct rcp_value v;

	CU_ASSERT_EQUAL_FATAL(rcp_value_set_text(&v, w), 0);
	set_state(s, res, &v);
	rcp_value_fini(&v);
}

static void set_num(struct state *s, const char *res, double d)
{
	struct rcp_value v;

	CU_ASSERT_EQUAL_FATAL(rcp_value_set_double(&v, d), 0);
	set_state(s, res, &v);
}

static void test_runtime_check(void)
{
	struct rcp_policy *p = policy();
	struct rcp_file *f = recipes("recipe \"r\"\nwhen a.example.net/x == 1\n"
				     "do window.example.net/open true\n"
				     "do heater.example.net/target 25\n"
				     "do heater.example.net/target 35\n"
				     "do valve.example.net/open\n");
	const struct rcp_action *win = &f->recipes[0]->actions[0];
	const struct rcp_action *mild = &f->recipes[0]->actions[1];
	const struct rcp_action *hot = &f->recipes[0]->actions[2];
	const struct rcp_action *valve = &f->recipes[0]->actions[3];
	struct state st = { 0 };
	struct rcp_value yes = { .type = RCP_VAL_BOOL, .b = true };
	struct rcp_report rep;

	/* fail closed: presence unknown */
	CU_ASSERT_EQUAL(rcp_policy_check_action(p, lookup, &st, win, &rep), -EPERM);
	CU_ASSERT_STRING_EQUAL(rep.reason,
			       "\"do window.example.net/open\" refused: "
			       "presence.example.net/state is unknown, so policy line 2 cannot be "
			       "checked (fail closed): forbid window.example.net/open when "
			       "presence.example.net/state == absent");
	set_word(&st, "presence.example.net/state", "home");
	CU_ASSERT_EQUAL(rcp_policy_check_action(p, lookup, &st, win, &rep), 0);
	CU_ASSERT_EQUAL(rep.verdict, RCP_VERDICT_OK);
	/* the state changes between registration and action */
	set_word(&st, "presence.example.net/state", "absent");
	CU_ASSERT_EQUAL(rcp_policy_check_action(p, lookup, &st, win, &rep), -EPERM);
	CU_ASSERT_EQUAL(rep.verdict, RCP_VERDICT_REFUSED);
	CU_ASSERT_EQUAL(rep.rule_line, 2);
	CU_ASSERT_EQUAL(rep.recipe_line, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(rep.reason, "forbidden now by policy line 2"));
	/* a reading of the wrong type cannot be checked either */
	set_num(&st, "presence.example.net/state", 0);
	CU_ASSERT_EQUAL(rcp_policy_check_action(p, lookup, &st, win, &rep), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(rep.reason, "is unknown"));

	/* the rule with a value only matches values that satisfy it */
	set_state(&st, "window.example.net/open", &yes);
	CU_ASSERT_EQUAL(rcp_policy_check_action(p, lookup, &st, mild, &rep), 0);
	CU_ASSERT_EQUAL(rcp_policy_check_action(p, lookup, &st, hot, &rep), -EPERM);

	/* OR: one false and one unknown branch is unknown; false AND unknown is false */
	set_num(&st, "tank.example.net/level", 85);
	CU_ASSERT_EQUAL(rcp_policy_check_action(p, lookup, &st, valve, &rep), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(rep.reason, "pump.example.net/on is unknown"));
	set_num(&st, "tank.example.net/level", 50);
	CU_ASSERT_EQUAL(rcp_policy_check_action(p, lookup, &st, valve, &rep), 0);
	set_num(&st, "tank.example.net/level", 95);
	CU_ASSERT_EQUAL(rcp_policy_check_action(p, lookup, &st, valve, &rep), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(rep.reason, "forbidden now by policy line 4"));

	for (size_t i = 0; i < st.n; i++) {
		rcp_value_fini(&st.val[i]);
	}
	rcp_file_free(f);
	rcp_policy_free(p);
}

/* The readings an action's check needs, from every matching rule, once each. */
static void test_inputs(void)
{
	struct rcp_policy *p = policy();
	struct rcp_file *f = recipes("recipe \"r\"\nwhen a.example.net/x == 1\n"
				     "do window.example.net/open true\n"
				     "do heater.example.net/target 25\n"
				     "do heater.example.net/target 35\n"
				     "do valve.example.net/open\n"
				     "do lamp.example.net/on\n");
	const struct rcp_action *act = f->recipes[0]->actions;
	const char *res[8];

	CU_ASSERT_EQUAL(rcp_policy_inputs(p, &act[0], res, 8), 1);
	CU_ASSERT_STRING_EQUAL(res[0], "presence.example.net/state");
	CU_ASSERT_EQUAL(rcp_policy_inputs(p, &act[1], res, 8), 0); /* 25: no rule */
	CU_ASSERT_EQUAL(rcp_policy_inputs(p, &act[2], res, 8), 1);
	CU_ASSERT_STRING_EQUAL(res[0], "window.example.net/open");
	/* tank.example.net/level is read twice by the rule, listed once */
	CU_ASSERT_EQUAL(rcp_policy_inputs(p, &act[3], res, 8), 2);
	CU_ASSERT_STRING_EQUAL(res[0], "tank.example.net/level");
	CU_ASSERT_STRING_EQUAL(res[1], "pump.example.net/on");
	CU_ASSERT_EQUAL(rcp_policy_inputs(p, &act[3], res, 1), -E2BIG);
	CU_ASSERT_STRING_EQUAL(res[0], "tank.example.net/level");
	CU_ASSERT_EQUAL(rcp_policy_inputs(p, &act[4], res, 8), 0);
	/* every rule: what an agent must be able to reach */
	CU_ASSERT_EQUAL(rcp_policy_inputs(p, NULL, res, 8), 4);
	CU_ASSERT_STRING_EQUAL(res[1], "window.example.net/open");
	rcp_file_free(f);
	rcp_policy_free(p);
}

/*
 * The run-time check with a reading of another device, as the action
 * device fetched it: present, changed, or not fetched (fail closed, and
 * the report names the resource so the agent can say why).
 */
static void test_remote_reading(void)
{
	struct rcp_policy *p = policy();
	struct rcp_file *f = recipes("recipe \"r\"\nwhen a.example.net/x == 1\n"
				     "do window.example.net/open true\n");
	const struct rcp_action *win = &f->recipes[0]->actions[0];
	struct state st = { 0 };
	struct rcp_value v;
	struct rcp_report rep;

	CU_ASSERT_EQUAL(rcp_policy_check_action(p, lookup, &st, win, &rep), -EPERM);
	CU_ASSERT_STRING_EQUAL(rep.unknown, "presence.example.net/state");
	CU_ASSERT_EQUAL_FATAL(rcp_value_parse_reading("home", 4, &v), 0);
	set_state(&st, "presence.example.net/state", &v);
	rcp_value_fini(&v);
	CU_ASSERT_EQUAL(rcp_policy_check_action(p, lookup, &st, win, &rep), 0);
	CU_ASSERT_STRING_EQUAL(rep.unknown, "");
	CU_ASSERT_EQUAL_FATAL(rcp_value_parse_reading("absent", 6, &v), 0);
	set_state(&st, "presence.example.net/state", &v);
	rcp_value_fini(&v);
	CU_ASSERT_EQUAL(rcp_policy_check_action(p, lookup, &st, win, &rep), -EPERM);
	CU_ASSERT_STRING_EQUAL(rep.unknown, "");
	CU_ASSERT_PTR_NOT_NULL(strstr(rep.reason, "forbidden now by policy line 2"));
	/* a reading that parsed as another type: unknown, refused */
	CU_ASSERT_EQUAL_FATAL(rcp_value_parse_reading("true", 4, &v), 0);
	set_state(&st, "presence.example.net/state", &v);
	rcp_value_fini(&v);
	CU_ASSERT_EQUAL(rcp_policy_check_action(p, lookup, &st, win, &rep), -EPERM);
	CU_ASSERT_STRING_EQUAL(rep.unknown, "presence.example.net/state");
	for (size_t i = 0; i < st.n; i++) {
		rcp_value_fini(&st.val[i]);
	}
	rcp_file_free(f);
	rcp_policy_free(p);
}

/* What another device's GET answer holds, without a declared type. */
static void test_parse_reading(void)
{
	static const struct {
		const char *text;
		enum rcp_value_type type;
	} ok[] = {
		{ "true", RCP_VAL_BOOL },     { "false", RCP_VAL_BOOL },
		{ "28.5", RCP_VAL_NUMBER },   { "-3", RCP_VAL_NUMBER },
		{ "absent", RCP_VAL_TEXT },   { "True", RCP_VAL_TEXT },
		{ "eco-mode", RCP_VAL_TEXT },
	};
	static const char *const bad[] = { "", "a\nb", "\xff", "tab\there" };
	char text[RCP_VALUE_TEXT_MAX];
	struct rcp_value v;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(rcp_value_parse_reading(ok[i].text, strlen(ok[i].text), &v),
				      0);
		CU_ASSERT_EQUAL(v.type, ok[i].type);
		CU_ASSERT_TRUE(rcp_value_format(&v, text, sizeof(text)) > 0);
		CU_ASSERT_STRING_EQUAL(text, ok[i].text);
		rcp_value_fini(&v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(rcp_value_parse_reading(bad[i], strlen(bad[i]), &v), -EINVAL);
		CU_ASSERT_EQUAL(v.type, RCP_VAL_NONE);
	}
	CU_ASSERT_EQUAL(rcp_value_parse_reading("ab\0c", 4, &v), -EINVAL);
	memset(text, 'x', sizeof(text));
	CU_ASSERT_EQUAL(rcp_value_parse_reading(text, sizeof(text), &v), -EINVAL);
}

static int find_loop(const char *text, char *path, size_t cap)
{
	struct rcp_file *f = recipes(text);
	int rc = rcp_loop_find((const struct rcp_recipe *const *)f->recipes, f->n, path, cap);

	rcp_file_free(f);
	return rc;
}

static void test_loops(void)
{
	char path[RCP_LOOP_PATH_MAX];

	CU_ASSERT_EQUAL(find_loop("recipe \"cool-down\"\nwhen s.example.net/temp > 28\n"
				  "do ac.example.net/power on\n"
				  "recipe \"heat-up\"\nwhen ac.example.net/power == on\n"
				  "do s.example.net/temp 30\n",
				  path, sizeof(path)),
			-ELOOP);
	CU_ASSERT_STRING_EQUAL(path, "cool-down -> heat-up -> cool-down");

	CU_ASSERT_EQUAL(
		find_loop("recipe \"x\"\nwhen q.example.net/q == 1\ndo r.example.net/r\n"
			  "recipe \"a\"\nwhen a.example.net/in > 1\ndo b.example.net/in 1\n"
			  "recipe \"b\"\nwhen b.example.net/in > 1 or z.example.net/z == 1\n"
			  "notify owner\ndo c.example.net/in 1\n"
			  "recipe \"c\"\nwhen c.example.net/in > 1\ndo a.example.net/in 1\n",
			  path, sizeof(path)),
		-ELOOP);
	CU_ASSERT_STRING_EQUAL(path, "a -> b -> c -> a");

	CU_ASSERT_EQUAL(find_loop("recipe \"self\"\nwhen t.example.net/power == off\n"
				  "do t.example.net/power on\n",
				  path, sizeof(path)),
			-ELOOP);
	CU_ASSERT_STRING_EQUAL(path, "self -> self");

	/* a chain, a notify and a diamond are not loops */
	CU_ASSERT_EQUAL(find_loop("recipe \"a\"\nwhen a.example.net/in > 1\ndo b.example.net/in 1\n"
				  "do c.example.net/in 1\n"
				  "recipe \"b\"\nwhen b.example.net/in > 1\ndo d.example.net/in 1\n"
				  "recipe \"c\"\nwhen c.example.net/in > 1\ndo d.example.net/in 2\n"
				  "recipe \"d\"\nwhen d.example.net/in > 1\n"
				  "notify a.example.net/in\n",
				  path, sizeof(path)),
			0);
	CU_ASSERT_STRING_EQUAL(path, "");

	/* a path longer than the buffer is cut with "..." */
	CU_ASSERT_EQUAL(find_loop("recipe \"a-long-name\"\nwhen a.example.net/in > 1\n"
				  "do b.example.net/in 1\n"
				  "recipe \"b-long-name\"\nwhen b.example.net/in > 1\n"
				  "do a.example.net/in 1\n",
				  path, 16),
			-ELOOP);
	CU_ASSERT_STRING_EQUAL(path, "a-long-name ...");
}

static void test_alloc_failure(void)
{
	struct rcp_policy *p = NULL, *ref = policy();
	struct rcp_error err;
	int rc = -ENOMEM;

	for (long n = 0; rc == -ENOMEM && n < 10000; n++) {
		ntm_alloc_fail_after(n);
		rc = rcp_policy_parse(policy_text, strlen(policy_text), &p, &err);
		ntm_alloc_fail_reset();
		if (rc == -ENOMEM) {
			CU_ASSERT_PTR_NULL(p);
		}
	}
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_TRUE(rcp_policy_eq(p, ref));
	rcp_policy_free(p);
	rcp_policy_free(ref);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_policy_parse_and_print), NTM_TEST(test_policy_errors),
	NTM_TEST(test_registration_check),     NTM_TEST(test_registration_reason),
	NTM_TEST(test_runtime_check),	       NTM_TEST(test_loops),
	NTM_TEST(test_alloc_failure),	       NTM_TEST(test_inputs),
	NTM_TEST(test_remote_reading),	       NTM_TEST(test_parse_reading),
};

NTM_TEST_MAIN("recipe_policy", cases)
