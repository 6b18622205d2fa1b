/* SPDX-License-Identifier: MIT */
/*
 * Trigger evaluation engine (rules in engine.h). Each registered recipe has
 * one leaf per comparison, in depth-first order, holding whether the
 * comparison is true on the latest reading and since when. Evaluating a
 * trigger walks the tree in the same order (without short-circuit, so the
 * leaf index stays in step).
 */
#include <string.h>

#include "common/alloc.h"
#include "engine.h"
#include "recipe_internal.h"

struct leaf {
	const struct rcp_cond *cmp; /* borrowed from the slot's recipe */
	bool raw;		    /* true on the latest reading */
	uint64_t since;		    /* when raw last became true */
};

struct slot {
	struct rcp_recipe *r; /* owned */
	struct leaf *leaves;
	size_t n_leaves;
	bool was_true; /* trigger at the last evaluation */
	bool has_fired;
	bool touched; /* a resource it reads was just updated */
	uint64_t last_fire;
};

struct reading {
	char *resource;
	struct rcp_value value;
};

struct rcp_engine {
	struct rcp_engine_cfg cfg;
	struct slot *slots;
	size_t n_slots, cap_slots;
	struct reading *readings;
	size_t n_readings, cap_readings;
	uint64_t now;
	uint64_t next_seq;
	bool busy;
};

int rcp_engine_create(const struct rcp_engine_cfg *cfg, struct rcp_engine **out)
{
	struct rcp_engine *e;

	*out = NULL;
	e = ntm_calloc(1, sizeof(*e));
	if (e == NULL) {
		return -ENOMEM;
	}
	e->cfg = *cfg;
	e->next_seq = cfg->first_seq;
	*out = e;
	return 0;
}

static void slot_fini(struct slot *s)
{
	ntm_free(s->leaves);
	rcp_recipe_free(s->r);
}

void rcp_engine_destroy(struct rcp_engine *e)
{
	if (e == NULL) {
		return;
	}
	for (size_t i = 0; i < e->n_slots; i++) {
		slot_fini(&e->slots[i]);
	}
	for (size_t i = 0; i < e->n_readings; i++) {
		ntm_free(e->readings[i].resource);
		rcp_value_fini(&e->readings[i].value);
	}
	ntm_free(e->slots);
	ntm_free(e->readings);
	ntm_free(e);
}

size_t rcp_engine_count(const struct rcp_engine *e)
{
	return e->n_slots;
}

static struct reading *find_reading(const struct rcp_engine *e, const char *resource)
{
	for (size_t i = 0; i < e->n_readings; i++) {
		if (strcmp(e->readings[i].resource, resource) == 0) {
			return &e->readings[i];
		}
	}
	return NULL;
}

const struct rcp_value *rcp_engine_reading(const struct rcp_engine *e, const char *resource)
{
	const struct reading *rd = find_reading(e, resource);

	return rd != NULL && rd->value.type != RCP_VAL_NONE ? &rd->value : NULL;
}

static bool is_read(const struct rcp_engine *e, const char *resource)
{
	for (size_t i = 0; i < e->n_slots; i++) {
		for (size_t k = 0; k < e->slots[i].n_leaves; k++) {
			if (strcmp(e->slots[i].leaves[k].cmp->resource, resource) == 0) {
				return true;
			}
		}
	}
	return false;
}

static void collect_leaves(const struct rcp_cond *c, struct leaf *leaves, size_t *n)
{
	if (c->kind == RCP_COND_CMP) {
		leaves[(*n)++].cmp = c;
		return;
	}
	for (size_t i = 0; i < c->n_kids; i++) {
		collect_leaves(c->kids[i], leaves, n);
	}
}

static void leaf_set(struct leaf *l, const struct rcp_value *v, uint64_t now)
{
	bool raw = rcp_value_compare(v, l->cmp->op, &l->cmp->value) == 1;

	if (raw && !l->raw) {
		l->since = now;
	}
	l->raw = raw;
}

int rcp_engine_add(struct rcp_engine *e, struct rcp_recipe *r, uint64_t now_ms)
{
	struct slot *s;
	size_t n = rcp_cond_count(r->when);
	int rc;

	if (e->busy) {
		return -EBUSY;
	}
	for (size_t i = 0; i < e->n_slots; i++) {
		if (strcmp(e->slots[i].r->name, r->name) == 0) {
			return -EEXIST;
		}
	}
	rc = rcp_grow((void **)&e->slots, &e->cap_slots, e->n_slots, sizeof(*e->slots));
	if (rc < 0) {
		return rc;
	}
	s = &e->slots[e->n_slots];
	memset(s, 0, sizeof(*s));
	s->leaves = ntm_calloc(n, sizeof(*s->leaves));
	if (s->leaves == NULL) {
		return -ENOMEM;
	}
	e->now = now_ms > e->now ? now_ms : e->now;
	collect_leaves(r->when, s->leaves, &s->n_leaves);
	for (size_t k = 0; k < s->n_leaves; k++) {
		const struct reading *rd = find_reading(e, s->leaves[k].cmp->resource);

		leaf_set(&s->leaves[k], rd != NULL ? &rd->value : NULL, e->now);
	}
	s->r = r;
	e->n_slots++;
	return 0;
}

static void prune_readings(struct rcp_engine *e)
{
	for (size_t i = 0; i < e->n_readings;) {
		if (is_read(e, e->readings[i].resource)) {
			i++;
			continue;
		}
		ntm_free(e->readings[i].resource);
		rcp_value_fini(&e->readings[i].value);
		e->readings[i] = e->readings[--e->n_readings];
	}
}

int rcp_engine_remove(struct rcp_engine *e, const char *name)
{
	if (e->busy) {
		return -EBUSY;
	}
	for (size_t i = 0; i < e->n_slots; i++) {
		if (strcmp(e->slots[i].r->name, name) == 0) {
			slot_fini(&e->slots[i]);
			memmove(&e->slots[i], &e->slots[i + 1],
				(e->n_slots - i - 1) * sizeof(*e->slots));
			e->n_slots--;
			prune_readings(e);
			return 0;
		}
	}
	return -ENOENT;
}

static bool eval(const struct rcp_cond *c, const struct leaf *leaves, size_t *idx, uint64_t now)
{
	const struct leaf *l;
	bool v;

	if (c->kind == RCP_COND_CMP) {
		l = &leaves[(*idx)++];
		return l->raw && now - l->since >= l->cmp->for_ms;
	}
	v = c->kind == RCP_COND_AND;
	for (size_t i = 0; i < c->n_kids; i++) {
		bool k = eval(c->kids[i], leaves, idx, now);

		v = c->kind == RCP_COND_AND ? (v && k) : (v || k);
	}
	return v;
}

static bool should_fire(const struct slot *s, bool now_true, uint64_t now)
{
	const struct rcp_recipe *r = s->r;
	bool rate_ok = !s->has_fired || r->every_ms == 0 || now - s->last_fire >= r->every_ms;

	if (!now_true) {
		return false;
	}
	if (r->mode == RCP_MODE_EDGE) {
		return !s->was_true;
	}
	if (!rate_ok) {
		return false;
	}
	/* Level: on the transition, on an update, or when "every" has passed. */
	return !s->was_true || s->touched || r->every_ms > 0;
}

static void fire(struct rcp_engine *e, struct slot *s)
{
	struct rcp_firing f = {
		.recipe = s->r->name,
		.seq = e->next_seq++,
		.count = s->r->n_actions,
		.now_ms = e->now,
		.ttl_ms = s->r->ttl_ms,
	};

	s->has_fired = true;
	s->last_fire = e->now;
	if (e->cfg.fire == NULL) {
		return;
	}
	e->busy = true;
	for (size_t i = 0; i < s->r->n_actions; i++) {
		f.index = i;
		f.action = &s->r->actions[i];
		e->cfg.fire(&f, e->cfg.arg);
	}
	e->busy = false;
}

static void evaluate_all(struct rcp_engine *e)
{
	for (size_t i = 0; i < e->n_slots; i++) {
		struct slot *s = &e->slots[i];
		size_t idx = 0;
		bool t = eval(s->r->when, s->leaves, &idx, e->now);

		if (should_fire(s, t, e->now)) {
			fire(e, s);
		}
		s->was_true = t;
		s->touched = false;
	}
}

static int store_reading(struct rcp_engine *e, const char *resource, const struct rcp_value *v)
{
	struct reading *rd = find_reading(e, resource);
	struct rcp_value copy = { 0 };
	int rc;

	if (v != NULL) {
		rc = rcp_value_copy(&copy, v);
		if (rc < 0) {
			return rc;
		}
	}
	if (rd == NULL) {
		rc = rcp_grow((void **)&e->readings, &e->cap_readings, e->n_readings,
			      sizeof(*e->readings));
		rd = rc == 0 ? &e->readings[e->n_readings] : NULL;
		if (rd == NULL || (rd->resource = ntm_strdup(resource)) == NULL) {
			rcp_value_fini(&copy);
			return -ENOMEM;
		}
		memset(&rd->value, 0, sizeof(rd->value));
		e->n_readings++;
	}
	rcp_value_fini(&rd->value);
	rd->value = copy;
	return 0;
}

int rcp_engine_update(struct rcp_engine *e, const char *resource, const struct rcp_value *v,
		      uint64_t now_ms)
{
	int rc;

	if (e->busy) {
		return -EBUSY;
	}
	e->now = now_ms > e->now ? now_ms : e->now;
	if (!is_read(e, resource)) {
		return 0;
	}
	rc = store_reading(e, resource, v);
	if (rc < 0) {
		return rc;
	}
	for (size_t i = 0; i < e->n_slots; i++) {
		struct slot *s = &e->slots[i];

		for (size_t k = 0; k < s->n_leaves; k++) {
			if (strcmp(s->leaves[k].cmp->resource, resource) == 0) {
				leaf_set(&s->leaves[k], v, e->now);
				s->touched = true;
			}
		}
	}
	evaluate_all(e);
	return 0;
}

int rcp_engine_tick(struct rcp_engine *e, uint64_t now_ms)
{
	if (e->busy) {
		return -EBUSY;
	}
	e->now = now_ms > e->now ? now_ms : e->now;
	evaluate_all(e);
	return 0;
}

static void consider(uint64_t t, uint64_t now, bool *found, uint64_t *best)
{
	if (t > now && (!*found || t < *best)) {
		*best = t;
		*found = true;
	}
}

int rcp_engine_next_deadline(const struct rcp_engine *e, uint64_t *deadline_ms)
{
	bool found = false;
	uint64_t best = 0;

	*deadline_ms = 0;
	for (size_t i = 0; i < e->n_slots; i++) {
		const struct slot *s = &e->slots[i];

		for (size_t k = 0; k < s->n_leaves; k++) {
			const struct leaf *l = &s->leaves[k];

			if (l->raw && l->cmp->for_ms > 0) {
				consider(l->since + l->cmp->for_ms, e->now, &found, &best);
			}
		}
		if (s->r->mode == RCP_MODE_LEVEL && s->r->every_ms > 0 && s->was_true &&
		    s->has_fired) {
			consider(s->last_fire + s->r->every_ms, e->now, &found, &best);
		}
	}
	if (!found) {
		return -ENOENT;
	}
	*deadline_ms = best;
	return 0;
}
