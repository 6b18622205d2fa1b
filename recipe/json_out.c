/* SPDX-License-Identifier: MIT */
/* AST -> JSON (schema in json.h). */
#include <string.h>

#include "common/alloc.h"
#include "json.h"
#include "recipe_internal.h"

/* Add `val` under `key`; consumes val even on failure. */
static int put(struct json_object *o, const char *key, struct json_object *val)
{
	if (val == NULL) {
		return -ENOMEM;
	}
	if (json_object_object_add(o, key, val) != 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

static int append(struct json_object *arr, struct json_object *val)
{
	if (val == NULL) {
		return -ENOMEM;
	}
	if (json_object_array_add(arr, val) != 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

/* A number keeps its exact decimal text; whole numbers become JSON ints. */
static struct json_object *value_json(const struct rcp_value *v)
{
	char num[RCP_NUMBUF];

	switch (v->type) {
	case RCP_VAL_NUMBER:
		if (v->num % RCP_NUM_SCALE == 0) {
			return json_object_new_int64(v->num / RCP_NUM_SCALE);
		}
		rcp_number_format(v->num, num);
		return json_object_new_double_s((double)v->num / RCP_NUM_SCALE, num);
	case RCP_VAL_BOOL:
		return json_object_new_boolean(v->b);
	case RCP_VAL_TEXT:
		return json_object_new_string(v->text);
	default:
		return NULL;
	}
}

static struct json_object *cond_json(const struct rcp_cond *c)
{
	struct json_object *o = json_object_new_object(), *arr;
	int rc;

	if (o == NULL) {
		return NULL;
	}
	if (c->kind == RCP_COND_CMP) {
		rc = put(o, "resource", json_object_new_string(c->resource));
		rc = rc ? rc : put(o, "op", json_object_new_string(rcp_op_str(c->op)));
		rc = rc ? rc : put(o, "value", value_json(&c->value));
		if (rc == 0 && c->for_ms > 0) {
			rc = put(o, "for_ms", json_object_new_int64((int64_t)c->for_ms));
		}
	} else {
		arr = json_object_new_array();
		rc = put(o, c->kind == RCP_COND_AND ? "all" : "any", arr);
		for (size_t i = 0; rc == 0 && i < c->n_kids; i++) {
			rc = append(arr, cond_json(c->kids[i]));
		}
	}
	if (rc < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int params_json(struct json_object *o, const struct rcp_action *a)
{
	struct json_object *params;
	int rc;

	if (a->n_params == 0) {
		return 0;
	}
	params = json_object_new_object();
	rc = put(o, "params", params);
	for (size_t i = 0; rc == 0 && i < a->n_params; i++) {
		rc = put(params, a->params[i].name, value_json(&a->params[i].value));
	}
	return rc;
}

static struct json_object *action_json(const struct rcp_action *a)
{
	struct json_object *o = json_object_new_object();
	bool notify = a->kind == RCP_ACT_NOTIFY;
	int rc;

	if (o == NULL) {
		return NULL;
	}
	rc = put(o, notify ? "notify" : "do", json_object_new_string(a->target));
	if (rc == 0 && a->value.type != RCP_VAL_NONE) {
		rc = put(o, notify ? "message" : "value", value_json(&a->value));
	}
	if (rc == 0 && !notify) {
		rc = params_json(o, a);
	}
	if (rc < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int rcp_json_from_recipe(const struct rcp_recipe *r, struct json_object **out)
{
	struct json_object *o = json_object_new_object(), *arr;
	int rc;

	*out = NULL;
	if (o == NULL) {
		return -ENOMEM;
	}
	rc = put(o, "name", json_object_new_string(r->name));
	rc = rc ? rc : put(o, "when", cond_json(r->when));
	rc = rc ? rc
		: put(o, "mode",
		      json_object_new_string(r->mode == RCP_MODE_LEVEL ? "level" : "edge"));
	if (rc == 0 && r->every_ms > 0) {
		rc = put(o, "every_ms", json_object_new_int64((int64_t)r->every_ms));
	}
	if (rc == 0 && r->ttl_ms > 0) {
		rc = put(o, "ttl_ms", json_object_new_int64((int64_t)r->ttl_ms));
	}
	arr = rc ? NULL : json_object_new_array();
	rc = rc ? rc : put(o, "actions", arr);
	for (size_t i = 0; rc == 0 && i < r->n_actions; i++) {
		rc = append(arr, action_json(&r->actions[i]));
	}
	if (rc < 0) {
		json_object_put(o);
		return rc;
	}
	*out = o;
	return 0;
}

int rcp_json_from_file(const struct rcp_file *f, struct json_object **out)
{
	struct json_object *arr = json_object_new_array(), *o;
	int rc = 0;

	*out = NULL;
	if (arr == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; rc == 0 && i < f->n; i++) {
		rc = rcp_json_from_recipe(f->recipes[i], &o);
		rc = rc ? rc : append(arr, o);
	}
	if (rc < 0) {
		json_object_put(arr);
		return rc;
	}
	*out = arr;
	return 0;
}
