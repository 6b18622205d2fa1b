/* SPDX-License-Identifier: MIT */
/*
 * Recipe text parser. Whatever parses must survive parse -> print -> parse
 * and parse -> JSON -> parse unchanged; a rejected input must name a line.
 * Accepted recipes are also run through the engine, the loop finder and
 * the checkpoint, so the fuzzer reaches them with well-formed ASTs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/engine.h"
#include "recipe/json.h"
#include "recipe/loop.h"
#include "recipe/policy.h"
#include "recipe/recipe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char policy_text[] =
	"forbid w.example.net/open when p.example.net/state == absent\n"
	"forbid h.example.net/t > 30 when w.example.net/open == true or t.example.net/c > 25\n";

static void check(bool ok)
{
	if (!ok) {
		abort();
	}
}

static void text_round_trip(const struct rcp_file *f)
{
	struct rcp_file *g = NULL;
	char *text = NULL;

	check(rcp_file_print(f, &text) == 0);
	check(rcp_parse(text, strlen(text), &g, NULL) == 0);
	check(rcp_file_eq(f, g));
	rcp_file_free(g);
	ntm_free(text);
}

static void json_round_trip(const struct rcp_file *f)
{
	struct rcp_file *g = NULL;
	char *json = NULL;

	check(rcp_json_print(f, &json) == 0);
	check(rcp_json_parse(json, strlen(json), &g, NULL) == 0);
	check(rcp_file_eq(f, g));
	rcp_file_free(g);
	ntm_free(json);
}

static void feed_constants(struct rcp_engine *e, const struct rcp_cond *c, uint64_t now)
{
	if (c->kind == RCP_COND_CMP) {
		check(rcp_engine_update(e, c->resource, &c->value, now) == 0);
		return;
	}
	for (size_t i = 0; i < c->n_kids; i++) {
		feed_constants(e, c->kids[i], now);
	}
}

/* Sequence numbers only grow, and every action of a firing is delivered. */
static void on_fire(const struct rcp_firing *fi, void *arg)
{
	uint64_t *last = arg;

	check(fi->index < fi->count && fi->action != NULL);
	check(fi->seq >= *last);
	*last = fi->seq;
}

static void run_engine(struct rcp_file *f)
{
	uint64_t last_seq = 0, now = 0, when;
	struct rcp_engine_cfg cfg = { .fire = on_fire, .arg = &last_seq };
	struct rcp_engine *e = NULL;

	check(rcp_engine_create(&cfg, &e) == 0);
	for (size_t i = 0; i < f->n; i++) {
		struct rcp_recipe *r = rcp_file_take(f, i);

		now += 700;
		check(rcp_engine_add(e, r, now) == 0);
		feed_constants(e, r->when, now); /* r stays alive inside the engine */
	}
	/* Deadlines lie after the latest time the engine was given. */
	for (int k = 0; k < 8 && rcp_engine_next_deadline(e, &when) == 0; k++) {
		check(when > now);
		now = when;
		check(rcp_engine_tick(e, now) == 0);
	}
	rcp_engine_destroy(e);
}

static void exercise(struct rcp_file *f)
{
	struct rcp_policy *p = NULL;
	struct rcp_report rep;
	char path[RCP_LOOP_PATH_MAX];
	int rc;

	rc = rcp_loop_find((const struct rcp_recipe *const *)f->recipes, f->n, path, sizeof(path));
	check(rc == 0 || (rc == -ELOOP && path[0] != '\0'));
	check(rcp_policy_parse(policy_text, sizeof(policy_text) - 1, &p, NULL) == 0);
	for (size_t i = 0; i < f->n; i++) {
		rc = rcp_policy_check_recipe(p, f->recipes[i], &rep);
		check((rc == 0) == (rep.verdict == RCP_VERDICT_OK));
	}
	rcp_policy_free(p);
	run_engine(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rcp_file *f = NULL;
	struct rcp_error err;
	int rc = rcp_parse((const char *)data, size, &f, &err);

	if (rc != 0) {
		check(f == NULL && err.msg[0] != '\0');
		check(rc != -EINVAL || err.line >= 1);
		return 0;
	}
	text_round_trip(f);
	json_round_trip(f);
	exercise(f);
	rcp_file_free(f);
	return 0;
}
