/* SPDX-License-Identifier: MIT */
/* Trigger evaluation engine: thresholds, durations, edge/level, deadlines. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/engine.h"
#include "recipe/recipe.h"

#include "ntm_test.h"

enum { MAX_FIRED = 64 };

struct fired {
	char recipe[RCP_NAME_MAX + 1];
	char target[128];
	uint64_t seq, now;
	size_t index, count;
};

struct sink {
	struct fired f[MAX_FIRED];
	size_t n;
	struct rcp_engine *e; /* set to try re-entering from the callback */
	int reenter_rc;
};

static void on_fire(const struct rcp_firing *f, void *arg)
{
	struct sink *s = arg;
	struct fired *x;

	if (s->e != NULL) {
		s->reenter_rc = rcp_engine_tick(s->e, f->now_ms);
	}
	if (s->n == MAX_FIRED) {
		return;
	}
	x = &s->f[s->n++];
	snprintf(x->recipe, sizeof(x->recipe), "%s", f->recipe);
	snprintf(x->target, sizeof(x->target), "%s", f->action->target);
	x->seq = f->seq;
	x->now = f->now_ms;
	x->index = f->index;
	x->count = f->count;
}

static struct rcp_engine *engine_with(struct sink *s, const char *text, uint64_t now)
{
	struct rcp_engine_cfg cfg = { .fire = on_fire, .arg = s, .first_seq = 100 };
	struct rcp_engine *e = NULL;
	struct rcp_file *f = NULL;
	struct rcp_error err;

	memset(s, 0, sizeof(*s));
	CU_ASSERT_EQUAL_FATAL(rcp_parse(text, strlen(text), &f, &err), 0);
	CU_ASSERT_EQUAL_FATAL(rcp_engine_create(&cfg, &e), 0);
	for (size_t i = 0; i < f->n; i++) {
		struct rcp_recipe *r = rcp_file_take(f, i);

		CU_ASSERT_EQUAL(rcp_engine_add(e, r, now), 0);
	}
	rcp_file_free(f);
	return e;
}

static void num(struct rcp_engine *e, const char *res, double v, uint64_t now)
{
	struct rcp_value val;

	CU_ASSERT_EQUAL_FATAL(rcp_value_set_double(&val, v), 0);
	CU_ASSERT_EQUAL(rcp_engine_update(e, res, &val, now), 0);
}

static void word(struct rcp_engine *e, const char *res, const char *w, uint64_t now)
{
	struct rcp_value val;

	CU_ASSERT_EQUAL_FATAL(rcp_value_set_text(&val, w), 0);
	CU_ASSERT_EQUAL(rcp_engine_update(e, res, &val, now), 0);
	rcp_value_fini(&val);
}

static void flag(struct rcp_engine *e, const char *res, bool b, uint64_t now)
{
	struct rcp_value val = { .type = RCP_VAL_BOOL, .b = b };

	CU_ASSERT_EQUAL(rcp_engine_update(e, res, &val, now), 0);
}

static uint64_t deadline(const struct rcp_engine *e)
{
	uint64_t d = 0;

	CU_ASSERT_EQUAL(rcp_engine_next_deadline(e, &d), 0);
	return d;
}

static const char temp[] = "s.example.net/temp";

static void test_threshold_edge(void)
{
	struct sink s;
	struct rcp_engine *e = engine_with(&s,
					   "recipe \"cool\"\nwhen s.example.net/temp > 28\n"
					   "do ac.example.net/power on\nnotify owner\n",
					   0);
	uint64_t d;

	num(e, temp, 25, 10);
	CU_ASSERT_EQUAL(s.n, 0);
	num(e, temp, 28, 20); /* > is strict */
	CU_ASSERT_EQUAL(s.n, 0);
	num(e, temp, 28.5, 30);
	CU_ASSERT_EQUAL_FATAL(s.n, 2);
	CU_ASSERT_STRING_EQUAL(s.f[0].recipe, "cool");
	CU_ASSERT_STRING_EQUAL(s.f[0].target, "ac.example.net/power");
	CU_ASSERT_STRING_EQUAL(s.f[1].target, "owner");
	CU_ASSERT_EQUAL(s.f[0].seq, 100);
	CU_ASSERT_EQUAL(s.f[1].seq, 100);
	CU_ASSERT_EQUAL(s.f[0].index, 0);
	CU_ASSERT_EQUAL(s.f[1].index, 1);
	CU_ASSERT_EQUAL(s.f[1].count, 2);
	CU_ASSERT_EQUAL(s.f[0].now, 30);
	/* still true: edge fires once */
	num(e, temp, 31, 40);
	CU_ASSERT_EQUAL(rcp_engine_tick(e, 50), 0);
	CU_ASSERT_EQUAL(s.n, 2);
	/* false re-arms; true again fires with the next sequence number */
	num(e, temp, 27, 60);
	num(e, temp, 29, 70);
	CU_ASSERT_EQUAL_FATAL(s.n, 4);
	CU_ASSERT_EQUAL(s.f[2].seq, 101);
	CU_ASSERT_EQUAL(rcp_engine_next_deadline(e, &d), -ENOENT);
	rcp_engine_destroy(e);
}

static void test_for_duration(void)
{
	struct sink s;
	struct rcp_engine *e = engine_with(&s,
					   "recipe \"hold\"\nwhen s.example.net/temp > 28 "
					   "for 60s\ndo ac.example.net/power on\n",
					   0);

	/* continuous: fires exactly when 60 s have passed */
	num(e, temp, 29, 1000);
	CU_ASSERT_EQUAL(s.n, 0);
	CU_ASSERT_EQUAL(deadline(e), 61000);
	num(e, temp, 30, 30000); /* still true: the clock keeps running */
	CU_ASSERT_EQUAL(deadline(e), 61000);
	CU_ASSERT_EQUAL(rcp_engine_tick(e, 60999), 0);
	CU_ASSERT_EQUAL(s.n, 0);
	CU_ASSERT_EQUAL(rcp_engine_tick(e, 61000), 0);
	CU_ASSERT_EQUAL(s.n, 1);
	CU_ASSERT_EQUAL(s.f[0].now, 61000);

	/* interrupted: a false reading restarts the clock */
	num(e, temp, 20, 70000);
	num(e, temp, 29, 80000);
	num(e, temp, 27, 110000);
	CU_ASSERT_EQUAL(rcp_engine_next_deadline(e, &(uint64_t){ 0 }), -ENOENT);
	num(e, temp, 29, 120000);
	CU_ASSERT_EQUAL(deadline(e), 180000);
	CU_ASSERT_EQUAL(rcp_engine_tick(e, 140000), 0);
	CU_ASSERT_EQUAL(s.n, 1);
	/* a late tick fires at its own time; an update past the deadline also fires */
	CU_ASSERT_EQUAL(rcp_engine_tick(e, 180500), 0);
	CU_ASSERT_EQUAL_FATAL(s.n, 2);
	CU_ASSERT_EQUAL(s.f[1].now, 180500);
	rcp_engine_destroy(e);
}

static void test_level(void)
{
	struct sink s;
	struct rcp_engine *e =
		engine_with(&s,
			    "recipe \"lv\"\nwhen s.example.net/temp > 28 level\n"
			    "do ac.example.net/power on\n"
			    "recipe \"ev\"\nwhen s.example.net/temp > 28 level every 10s\n"
			    "do fan.example.net/power on\n",
			    0);

	num(e, temp, 29, 0);
	CU_ASSERT_EQUAL(s.n, 2); /* both fire on the transition */
	num(e, temp, 29, 1000);
	CU_ASSERT_EQUAL(s.n, 3); /* lv again on the update; ev held back */
	CU_ASSERT_STRING_EQUAL(s.f[2].recipe, "lv");
	CU_ASSERT_EQUAL(deadline(e), 10000);
	CU_ASSERT_EQUAL(rcp_engine_tick(e, 5000), 0);
	CU_ASSERT_EQUAL(s.n, 3); /* a tick alone never repeats lv */
	CU_ASSERT_EQUAL(rcp_engine_tick(e, 10000), 0);
	CU_ASSERT_EQUAL_FATAL(s.n, 4);
	CU_ASSERT_STRING_EQUAL(s.f[3].recipe, "ev");
	CU_ASSERT_EQUAL(deadline(e), 20000);
	num(e, temp, 20, 12000);
	CU_ASSERT_EQUAL(rcp_engine_next_deadline(e, &(uint64_t){ 0 }), -ENOENT);
	/* true again at 15 s: lv fires, ev is still inside its 10 s window */
	num(e, temp, 30, 15000);
	CU_ASSERT_EQUAL(s.n, 5);
	CU_ASSERT_EQUAL(deadline(e), 20000);
	CU_ASSERT_EQUAL(rcp_engine_tick(e, 20000), 0);
	CU_ASSERT_EQUAL(s.n, 6);
	CU_ASSERT_STRING_EQUAL(s.f[5].recipe, "ev");
	rcp_engine_destroy(e);
}

static void test_and_or_and_unknown(void)
{
	struct sink s;
	struct rcp_engine *e = engine_with(
		&s,
		"recipe \"vent\"\nwhen s.example.net/temp > 25 and (w.example.net/open == off or "
		"p.example.net/state == absent)\ndo ac.example.net/power on\n",
		0);

	num(e, temp, 26, 1);
	CU_ASSERT_EQUAL(s.n, 0); /* window and presence unknown: false */
	word(e, "p.example.net/state", "home", 2);
	CU_ASSERT_EQUAL(s.n, 0);
	flag(e, "w.example.net/open", true, 3);
	CU_ASSERT_EQUAL(s.n, 0);
	word(e, "p.example.net/state", "absent", 4);
	CU_ASSERT_EQUAL(s.n, 1);
	/* an unknown reading makes its comparison false and re-arms the edge */
	CU_ASSERT_EQUAL(rcp_engine_update(e, temp, NULL, 5), 0);
	CU_ASSERT_PTR_NULL(rcp_engine_reading(e, temp));
	num(e, temp, 26, 6);
	CU_ASSERT_EQUAL(s.n, 2);
	/* a reading of the wrong type is false too */
	word(e, temp, "hot", 7);
	flag(e, "w.example.net/open", false, 8);
	CU_ASSERT_EQUAL(s.n, 2);
	num(e, temp, 26, 9);
	CU_ASSERT_EQUAL(s.n, 3);
	rcp_engine_destroy(e);
}

static void test_multiple_recipes_and_deadlines(void)
{
	struct sink s;
	struct rcp_engine *e =
		engine_with(&s,
			    "recipe \"a\"\nwhen s.example.net/temp > 20 for 30s\n"
			    "do x.example.net/a\n"
			    "recipe \"b\"\nwhen s.example.net/temp > 25 for 10s\n"
			    "do x.example.net/b\n"
			    "recipe \"c\"\nwhen s.example.net/hum < 40\ndo x.example.net/c\n",
			    0);
	uint64_t d;

	CU_ASSERT_EQUAL(rcp_engine_next_deadline(e, &d), -ENOENT);
	CU_ASSERT_EQUAL(rcp_engine_count(e), 3);
	num(e, temp, 26, 1000);
	CU_ASSERT_EQUAL(deadline(e), 11000);
	num(e, "s.example.net/hum", 30, 2000);
	CU_ASSERT_EQUAL(s.n, 1);
	CU_ASSERT_STRING_EQUAL(s.f[0].recipe, "c");
	CU_ASSERT_EQUAL(rcp_engine_tick(e, deadline(e)), 0);
	CU_ASSERT_EQUAL(s.n, 2);
	CU_ASSERT_STRING_EQUAL(s.f[1].recipe, "b");
	CU_ASSERT_EQUAL(deadline(e), 31000);
	CU_ASSERT_EQUAL(rcp_engine_tick(e, 31000), 0);
	CU_ASSERT_EQUAL(s.n, 3);
	CU_ASSERT_STRING_EQUAL(s.f[2].recipe, "a");
	CU_ASSERT_EQUAL(s.f[0].seq, 100);
	CU_ASSERT_EQUAL(s.f[2].seq, 102);
	CU_ASSERT_EQUAL(rcp_engine_next_deadline(e, &d), -ENOENT);

	/* time never goes backwards: an old now_ms counts as the latest one */
	num(e, temp, 10, 40000);
	num(e, temp, 30, 39000);
	CU_ASSERT_EQUAL(deadline(e), 50000);

	CU_ASSERT_EQUAL(rcp_engine_remove(e, "b"), 0);
	CU_ASSERT_EQUAL(rcp_engine_remove(e, "b"), -ENOENT);
	CU_ASSERT_EQUAL(deadline(e), 70000);
	rcp_engine_destroy(e);
}

static void test_registration_rules(void)
{
	struct sink s;
	struct rcp_engine *e = engine_with(&s,
					   "recipe \"a\"\nwhen s.example.net/temp > 20\n"
					   "do x.example.net/a\n",
					   0);
	struct rcp_file *f = NULL;
	struct rcp_error err;
	static const char more[] = "recipe \"a\"\nwhen s.example.net/temp > 1\ndo x.example.net/a\n"
				   "recipe \"late\"\nwhen s.example.net/temp > 20 for 5s\n"
				   "do x.example.net/l\n";

	/* readings nobody reads are not kept */
	num(e, "other.example.net/x", 1, 5);
	CU_ASSERT_PTR_NULL(rcp_engine_reading(e, "other.example.net/x"));
	num(e, temp, 21, 10);
	CU_ASSERT_EQUAL(s.n, 1);
	CU_ASSERT_PTR_NOT_NULL(rcp_engine_reading(e, temp));

	CU_ASSERT_EQUAL_FATAL(rcp_parse(more, strlen(more), &f, &err), 0);
	CU_ASSERT_EQUAL(rcp_engine_add(e, f->recipes[0], 20), -EEXIST);
	/* added while its condition holds: the clock starts at the add */
	CU_ASSERT_EQUAL(rcp_engine_add(e, rcp_file_take(f, 1), 1000), 0);
	CU_ASSERT_EQUAL(deadline(e), 6000);
	CU_ASSERT_EQUAL(rcp_engine_tick(e, 6000), 0);
	CU_ASSERT_EQUAL(s.n, 2);
	CU_ASSERT_STRING_EQUAL(s.f[1].recipe, "late");
	rcp_file_free(f);

	/* the callback may not re-enter the engine */
	s.e = e;
	num(e, temp, 0, 7000);
	num(e, temp, 25, 8000);
	CU_ASSERT_EQUAL(s.reenter_rc, -EBUSY);
	rcp_engine_destroy(e);
}

static void test_alloc_failure(void)
{
	static const char text[] = "recipe \"a\"\nwhen s.example.net/m == \"x\" and "
				   "s.example.net/temp > 1\ndo x.example.net/a\n";
	struct rcp_engine_cfg cfg = { 0 };
	struct rcp_engine *e = NULL;
	struct rcp_file *f = NULL;
	struct rcp_error err;
	struct rcp_value v;
	int rc = -ENOMEM;

	for (long n = 0; rc == -ENOMEM && n < 100; n++) {
		ntm_alloc_fail_after(n);
		rc = rcp_engine_create(&cfg, &e);
		if (rc == 0) {
			rc = rcp_parse(text, sizeof(text) - 1, &f, &err);
		}
		if (rc == 0) {
			rc = rcp_engine_add(e, f->recipes[0], 0);
			f->recipes[0] = rc == 0 ? NULL : f->recipes[0];
		}
		if (rc == 0) {
			rc = rcp_value_set_text(&v, "x");
		}
		if (rc == 0) {
			rc = rcp_engine_update(e, "s.example.net/m", &v, 1);
			rcp_value_fini(&v);
		}
		ntm_alloc_fail_reset();
		rcp_file_free(f);
		f = NULL;
		if (rc != 0) {
			CU_ASSERT_EQUAL(rc, -ENOMEM);
			rcp_engine_destroy(e);
			e = NULL;
		}
	}
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(rcp_engine_reading(e, "s.example.net/m"));
	rcp_engine_destroy(e);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_threshold_edge),
	NTM_TEST(test_for_duration),
	NTM_TEST(test_level),
	NTM_TEST(test_and_or_and_unknown),
	NTM_TEST(test_multiple_recipes_and_deadlines),
	NTM_TEST(test_registration_rules),
	NTM_TEST(test_alloc_failure),
};

NTM_TEST_MAIN("recipe_engine", cases)
