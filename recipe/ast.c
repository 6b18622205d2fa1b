/* SPDX-License-Identifier: MIT */
/* Freeing and comparing recipe ASTs. */
#include <string.h>

#include "common/alloc.h"
#include "recipe_internal.h"

void rcp_cond_free(struct rcp_cond *c)
{
	if (c == NULL) {
		return;
	}
	for (size_t i = 0; i < c->n_kids; i++) {
		rcp_cond_free(c->kids[i]);
	}
	ntm_free(c->kids);
	ntm_free(c->resource);
	rcp_value_fini(&c->value);
	ntm_free(c);
}

static void action_fini(struct rcp_action *a)
{
	for (size_t i = 0; i < a->n_params; i++) {
		ntm_free(a->params[i].name);
		rcp_value_fini(&a->params[i].value);
	}
	ntm_free(a->params);
	ntm_free(a->target);
	rcp_value_fini(&a->value);
}

void rcp_recipe_free(struct rcp_recipe *r)
{
	if (r == NULL) {
		return;
	}
	for (size_t i = 0; i < r->n_actions; i++) {
		action_fini(&r->actions[i]);
	}
	ntm_free(r->actions);
	rcp_cond_free(r->when);
	ntm_free(r->name);
	ntm_free(r);
}

void rcp_file_free(struct rcp_file *f)
{
	if (f == NULL) {
		return;
	}
	for (size_t i = 0; i < f->n; i++) {
		rcp_recipe_free(f->recipes[i]);
	}
	ntm_free(f->recipes);
	ntm_free(f);
}

struct rcp_recipe *rcp_file_take(struct rcp_file *f, size_t i)
{
	struct rcp_recipe *r;

	if (f == NULL || i >= f->n) {
		return NULL;
	}
	r = f->recipes[i];
	f->recipes[i] = NULL;
	return r;
}

static bool str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL) {
		return a == b;
	}
	return strcmp(a, b) == 0;
}

bool rcp_cond_eq(const struct rcp_cond *a, const struct rcp_cond *b)
{
	if (a == NULL || b == NULL) {
		return a == b;
	}
	if (a->kind != b->kind) {
		return false;
	}
	if (a->kind == RCP_COND_CMP) {
		return str_eq(a->resource, b->resource) && a->op == b->op &&
		       rcp_value_eq(&a->value, &b->value) && a->for_ms == b->for_ms;
	}
	if (a->n_kids != b->n_kids) {
		return false;
	}
	for (size_t i = 0; i < a->n_kids; i++) {
		if (!rcp_cond_eq(a->kids[i], b->kids[i])) {
			return false;
		}
	}
	return true;
}

static bool action_eq(const struct rcp_action *a, const struct rcp_action *b)
{
	if (a->kind != b->kind || !str_eq(a->target, b->target) ||
	    !rcp_value_eq(&a->value, &b->value) || a->n_params != b->n_params) {
		return false;
	}
	for (size_t i = 0; i < a->n_params; i++) {
		if (!str_eq(a->params[i].name, b->params[i].name) ||
		    !rcp_value_eq(&a->params[i].value, &b->params[i].value)) {
			return false;
		}
	}
	return true;
}

bool rcp_recipe_eq(const struct rcp_recipe *a, const struct rcp_recipe *b)
{
	if (a == NULL || b == NULL) {
		return a == b;
	}
	if (!str_eq(a->name, b->name) || a->mode != b->mode || a->every_ms != b->every_ms ||
	    a->ttl_ms != b->ttl_ms || a->n_actions != b->n_actions ||
	    !rcp_cond_eq(a->when, b->when)) {
		return false;
	}
	for (size_t i = 0; i < a->n_actions; i++) {
		if (!action_eq(&a->actions[i], &b->actions[i])) {
			return false;
		}
	}
	return true;
}

bool rcp_file_eq(const struct rcp_file *a, const struct rcp_file *b)
{
	if (a == NULL || b == NULL) {
		return a == b;
	}
	if (a->n != b->n) {
		return false;
	}
	for (size_t i = 0; i < a->n; i++) {
		if (!rcp_recipe_eq(a->recipes[i], b->recipes[i])) {
			return false;
		}
	}
	return true;
}

size_t rcp_cond_count(const struct rcp_cond *c)
{
	size_t n = 0;

	if (c == NULL) {
		return 0;
	}
	if (c->kind == RCP_COND_CMP) {
		return 1;
	}
	for (size_t i = 0; i < c->n_kids; i++) {
		n += rcp_cond_count(c->kids[i]);
	}
	return n;
}
