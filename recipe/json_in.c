/* SPDX-License-Identifier: MIT */
/*
 * JSON -> AST with the text form's rules (schema in json.h). Every error
 * names the JSON path of the offending member.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "json.h"
#include "recipe_internal.h"

struct jctx {
	struct rcp_error *err;
	char path[256];
	size_t len;
	size_t n_cmp;
};

static size_t path_push(struct jctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t path_push(struct jctx *c, const char *fmt, ...)
{
	size_t mark = c->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(c->path + c->len, sizeof(c->path) - c->len, fmt, ap);
	va_end(ap);
	if (n > 0) {
		c->len += (size_t)n;
		if (c->len >= sizeof(c->path)) {
			c->len = sizeof(c->path) - 1;
		}
	}
	return mark;
}

static void path_pop(struct jctx *c, size_t mark)
{
	c->len = mark;
	c->path[mark] = '\0';
}

static int jfail(struct jctx *c, const char *what)
{
	return rcp_error_set(c->err, 0, 0, "%s: %s", c->path, what);
}

/* Fail at path + ".key". */
static int jfail_at(struct jctx *c, const char *key, const char *what)
{
	size_t mark = path_push(c, ".%s", key);
	int rc = jfail(c, what);

	path_pop(c, mark);
	return rc;
}

static int check_keys(struct jctx *c, struct json_object *o, const char *const *allowed)
{
	json_object_object_foreach(o, key, val)
	{
		const char *const *a = allowed;

		(void)val;
		while (*a != NULL && strcmp(*a, key) != 0) {
			a++;
		}
		if (*a == NULL) {
			return jfail_at(c, key, "unknown key");
		}
	}
	return 0;
}

/* A string member without NUL bytes; *s stays valid while o lives. */
static int get_str(struct jctx *c, struct json_object *o, const char *key, const char **s)
{
	struct json_object *v;

	*s = NULL;
	if (!json_object_object_get_ex(o, key, &v)) {
		return jfail_at(c, key, "missing");
	}
	if (!json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) != strlen(json_object_get_string(v))) {
		return jfail_at(c, key, "expected string");
	}
	*s = json_object_get_string(v);
	return 0;
}

static int get_ms(struct jctx *c, struct json_object *v, const char *key, uint64_t *ms)
{
	int64_t n;

	*ms = 0;
	n = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
	if (n <= 0 || !rcp_duration_is_valid((uint64_t)n)) {
		return jfail_at(c, key, "expected whole milliseconds, 1 to 604800000");
	}
	*ms = (uint64_t)n;
	return 0;
}

static int get_ref(struct jctx *c, struct json_object *o, const char *key, char **out)
{
	const char *s, *why;
	int rc = get_str(c, o, key, &s);

	*out = NULL;
	if (rc < 0) {
		return rc;
	}
	why = rcp_ref_problem(s, strlen(s));
	if (why != NULL) {
		return jfail_at(c, key, why);
	}
	*out = ntm_strdup(s);
	if (*out == NULL) {
		return -ENOMEM;
	}
	for (char *p = *out; *p != '\0' && *p != '/'; p++) {
		if (*p >= 'A' && *p <= 'Z') {
			*p = (char)(*p - 'A' + 'a');
		}
	}
	return 0;
}

static int json_number(struct jctx *c, struct json_object *j, struct rcp_value *out)
{
	const char *s = json_object_get_string(j);
	int rc;

	/* json-c keeps a parsed number's text: use it, not a rounded double. */
	rc = rcp_number_parse(s, strlen(s), &out->num);
	if (rc == -ERANGE) {
		return jfail(c, "number out of range (at most 12 digits, 6 decimals)");
	}
	if (rc < 0) {
		return jfail(c, "expected a plain decimal number");
	}
	out->type = RCP_VAL_NUMBER;
	return 0;
}

static int json_value(struct jctx *c, struct json_object *j, struct rcp_value *out)
{
	const char *s, *why;

	memset(out, 0, sizeof(*out));
	switch (json_object_get_type(j)) {
	case json_type_boolean:
		out->type = RCP_VAL_BOOL;
		out->b = json_object_get_boolean(j);
		return 0;
	case json_type_int:
	case json_type_double:
		return json_number(c, j, out);
	case json_type_string:
		s = json_object_get_string(j);
		/* The full length: an embedded NUL is a control character. */
		why = rcp_text_problem(s, (size_t)json_object_get_string_len(j));
		if (why != NULL) {
			return jfail(c, why);
		}
		out->text = ntm_strdup(s);
		if (out->text == NULL) {
			return -ENOMEM;
		}
		out->type = RCP_VAL_TEXT;
		return 0;
	default:
		return jfail(c, "expected number, boolean or string");
	}
}

static int member_value(struct jctx *c, struct json_object *o, const char *key,
			struct rcp_value *out)
{
	struct json_object *v;
	size_t mark;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!json_object_object_get_ex(o, key, &v)) {
		return jfail_at(c, key, "missing");
	}
	mark = path_push(c, ".%s", key);
	rc = json_value(c, v, out);
	path_pop(c, mark);
	return rc;
}

static int json_cond(struct jctx *c, struct json_object *j, unsigned depth, struct rcp_cond **out);

static int get_op(struct jctx *c, struct json_object *o, enum rcp_op *op)
{
	const char *s;
	int rc = get_str(c, o, "op", &s);

	for (int i = RCP_OP_EQ; rc == 0 && i <= RCP_OP_GE; i++) {
		if (strcmp(s, rcp_op_str((enum rcp_op)i)) == 0) {
			*op = (enum rcp_op)i;
			return 0;
		}
	}
	return rc < 0 ? rc : jfail_at(c, "op", "expected one of == != < <= > >=");
}

static int cmp_fields(struct jctx *c, struct json_object *j, struct rcp_cond *n)
{
	static const char *const keys[] = { "resource", "op", "value", "for_ms", NULL };
	struct json_object *v;
	char msg[40];
	int rc;

	rc = check_keys(c, j, keys);
	rc = rc ? rc : get_ref(c, j, "resource", &n->resource);
	rc = rc ? rc : get_op(c, j, &n->op);
	rc = rc ? rc : member_value(c, j, "value", &n->value);
	if (rc < 0) {
		return rc;
	}
	if (n->op != RCP_OP_EQ && n->op != RCP_OP_NE && n->value.type != RCP_VAL_NUMBER) {
		snprintf(msg, sizeof(msg), "expected number for '%s'", rcp_op_str(n->op));
		return jfail_at(c, "value", msg);
	}
	if (json_object_object_get_ex(j, "for_ms", &v)) {
		return get_ms(c, v, "for_ms", &n->for_ms);
	}
	return 0;
}

static int compound_fields(struct jctx *c, struct json_object *arr, unsigned depth,
			   struct rcp_cond *n)
{
	size_t len, mark;
	int rc = 0;

	if (!json_object_is_type(arr, json_type_array) ||
	    (len = json_object_array_length(arr)) < 2) {
		return jfail(c, "expected an array of at least 2 conditions");
	}
	/* The outermost all/any needs no parentheses in text: depth 1 = none. */
	if (depth > RCP_DEPTH_MAX + 1) {
		return jfail(c, "conditions nested deeper than 8");
	}
	if (len > RCP_CONDS_MAX) {
		return jfail(c, "more than 32 comparisons in one condition");
	}
	n->kids = ntm_calloc(len, sizeof(*n->kids));
	if (n->kids == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; rc == 0 && i < len; i++) {
		mark = path_push(c, "[%zu]", i);
		rc = json_cond(c, json_object_array_get_idx(arr, i), depth, &n->kids[i]);
		path_pop(c, mark);
		n->n_kids += rc == 0;
	}
	return rc;
}

static int json_cond(struct jctx *c, struct json_object *j, unsigned depth, struct rcp_cond **out)
{
	struct rcp_cond *n;
	struct json_object *arr;
	bool all = false;
	size_t mark;
	int rc;

	*out = NULL;
	if (!json_object_is_type(j, json_type_object)) {
		return jfail(c, "expected a condition object");
	}
	n = ntm_calloc(1, sizeof(*n));
	if (n == NULL) {
		return -ENOMEM;
	}
	if (json_object_object_get_ex(j, "resource", NULL)) {
		n->kind = RCP_COND_CMP;
		rc = c->n_cmp++ == RCP_CONDS_MAX
			     ? jfail(c, "more than 32 comparisons in one condition")
			     : cmp_fields(c, j, n);
	} else if ((all = json_object_object_get_ex(j, "all", &arr)) ||
		   json_object_object_get_ex(j, "any", &arr)) {
		static const char *const k_all[] = { "all", NULL };
		static const char *const k_any[] = { "any", NULL };

		n->kind = all ? RCP_COND_AND : RCP_COND_OR;
		rc = check_keys(c, j, all ? k_all : k_any);
		mark = path_push(c, all ? ".all" : ".any");
		rc = rc ? rc : compound_fields(c, arr, depth + 1, n);
		path_pop(c, mark);
	} else {
		rc = jfail(c, "expected \"resource\", \"all\" or \"any\"");
	}
	if (rc < 0) {
		rcp_cond_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

static int json_params(struct jctx *c, struct json_object *o, struct rcp_action *a)
{
	size_t n = (size_t)json_object_object_length(o), mark, i = 0;
	int rc = 0;

	if (n > RCP_PARAMS_MAX) {
		return jfail(c, "more than 8 parameters");
	}
	a->params = ntm_calloc(n, sizeof(*a->params));
	if (a->params == NULL) {
		return -ENOMEM;
	}
	json_object_object_foreach(o, key, val)
	{
		if (rc < 0) {
			break;
		}
		if (!rcp_is_ident(key, strlen(key)) || rcp_is_keyword(key, strlen(key))) {
			return jfail_at(c, key, "bad parameter name");
		}
		a->params[i].name = ntm_strdup(key);
		if (a->params[i].name == NULL) {
			return -ENOMEM;
		}
		a->n_params = ++i;
		mark = path_push(c, ".%s", key);
		rc = json_value(c, val, &a->params[i - 1].value);
		path_pop(c, mark);
	}
	return rc;
}

static int json_do(struct jctx *c, struct json_object *j, struct rcp_action *a)
{
	static const char *const keys[] = { "do", "value", "params", NULL };
	struct json_object *v;
	size_t mark;
	int rc;

	a->kind = RCP_ACT_DO;
	rc = check_keys(c, j, keys);
	rc = rc ? rc : get_ref(c, j, "do", &a->target);
	if (rc == 0 && json_object_object_get_ex(j, "value", NULL)) {
		rc = member_value(c, j, "value", &a->value);
	}
	if (rc < 0 || !json_object_object_get_ex(j, "params", &v)) {
		return rc;
	}
	mark = path_push(c, ".params");
	if (json_object_is_type(v, json_type_object)) {
		rc = json_params(c, v, a);
	} else {
		rc = jfail(c, "expected an object");
	}
	path_pop(c, mark);
	return rc;
}

static int json_notify(struct jctx *c, struct json_object *j, struct rcp_action *a)
{
	static const char *const keys[] = { "notify", "message", NULL };
	const char *s;
	int rc;

	a->kind = RCP_ACT_NOTIFY;
	rc = check_keys(c, j, keys);
	rc = rc ? rc : get_str(c, j, "notify", &s);
	if (rc < 0) {
		return rc;
	}
	if (strcmp(s, "owner") == 0) {
		a->target = ntm_strdup(s);
		rc = a->target == NULL ? -ENOMEM : 0;
	} else {
		rc = get_ref(c, j, "notify", &a->target);
	}
	if (rc < 0 || !json_object_object_get_ex(j, "message", NULL)) {
		return rc;
	}
	rc = member_value(c, j, "message", &a->value);
	if (rc == 0 && a->value.type != RCP_VAL_TEXT) {
		rc = jfail_at(c, "message", "expected string");
	}
	return rc;
}

static int json_actions(struct jctx *c, struct json_object *o, struct rcp_recipe *r)
{
	struct json_object *arr, *j;
	size_t len, mark;
	int rc = 0;

	if (!json_object_object_get_ex(o, "actions", &arr)) {
		return jfail_at(c, "actions", "missing");
	}
	if (!json_object_is_type(arr, json_type_array) ||
	    (len = json_object_array_length(arr)) == 0 || len > RCP_ACTIONS_MAX) {
		return jfail_at(c, "actions", "expected an array of 1 to 16 actions");
	}
	r->actions = ntm_calloc(len, sizeof(*r->actions));
	if (r->actions == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; rc == 0 && i < len; i++) {
		mark = path_push(c, ".actions[%zu]", i);
		j = json_object_array_get_idx(arr, i);
		r->n_actions++;
		if (!json_object_is_type(j, json_type_object)) {
			rc = jfail(c, "expected an action object");
		} else if (json_object_object_get_ex(j, "do", NULL)) {
			rc = json_do(c, j, &r->actions[i]);
		} else if (json_object_object_get_ex(j, "notify", NULL)) {
			rc = json_notify(c, j, &r->actions[i]);
		} else {
			rc = jfail(c, "expected \"do\" or \"notify\"");
		}
		path_pop(c, mark);
	}
	return rc;
}

static int json_mode(struct jctx *c, struct json_object *o, struct rcp_recipe *r)
{
	struct json_object *v;
	const char *s;
	int rc;

	if (json_object_object_get_ex(o, "mode", NULL)) {
		rc = get_str(c, o, "mode", &s);
		if (rc < 0) {
			return rc;
		}
		if (strcmp(s, "level") == 0) {
			r->mode = RCP_MODE_LEVEL;
		} else if (strcmp(s, "edge") != 0) {
			return jfail_at(c, "mode", "expected \"edge\" or \"level\"");
		}
	}
	if (json_object_object_get_ex(o, "ttl_ms", &v)) {
		rc = get_ms(c, v, "ttl_ms", &r->ttl_ms);
		if (rc < 0) {
			return rc;
		}
		if (r->ttl_ms < RCP_TTL_MIN_S * 1000ULL || r->ttl_ms > RCP_TTL_MAX_S * 1000ULL) {
			return jfail_at(c, "ttl_ms", "expected 1000 to 86400000");
		}
	}
	if (!json_object_object_get_ex(o, "every_ms", &v)) {
		return 0;
	}
	if (r->mode != RCP_MODE_LEVEL) {
		return jfail_at(c, "every_ms", "needs \"mode\": \"level\"");
	}
	return get_ms(c, v, "every_ms", &r->every_ms);
}

static int json_recipe(struct jctx *c, struct json_object *o, struct rcp_recipe **out)
{
	static const char *const keys[] = { "name",   "when",	 "mode", "every_ms",
					    "ttl_ms", "actions", NULL };
	struct rcp_recipe *r;
	struct json_object *w;
	const char *name;
	size_t mark;
	int rc;

	*out = NULL;
	if (!json_object_is_type(o, json_type_object)) {
		return jfail(c, "expected a recipe object");
	}
	rc = check_keys(c, o, keys);
	rc = rc ? rc : get_str(c, o, "name", &name);
	if (rc == 0 && !rcp_is_recipe_name(name, strlen(name))) {
		rc = jfail_at(c, "name", "bad recipe name");
	}
	if (rc == 0 && !json_object_object_get_ex(o, "when", &w)) {
		rc = jfail_at(c, "when", "missing");
	}
	if (rc < 0) {
		return rc;
	}
	r = ntm_calloc(1, sizeof(*r));
	if (r == NULL || (r->name = ntm_strdup(name)) == NULL) {
		ntm_free(r);
		return -ENOMEM;
	}
	mark = path_push(c, ".when");
	c->n_cmp = 0;
	rc = json_cond(c, w, 0, &r->when);
	path_pop(c, mark);
	rc = rc ? rc : json_mode(c, o, r);
	rc = rc ? rc : json_actions(c, o, r);
	if (rc < 0) {
		rcp_recipe_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

static void jctx_init(struct jctx *c, struct rcp_error *err)
{
	memset(c, 0, sizeof(*c));
	c->err = err;
	c->path[0] = '$';
	c->len = 1;
	rcp_error_clear(err);
}

int rcp_json_to_recipe(struct json_object *j, struct rcp_recipe **out, struct rcp_error *err)
{
	struct jctx c;

	jctx_init(&c, err);
	return json_recipe(&c, j, out);
}

static int add_recipe(struct jctx *c, struct rcp_file *f, struct json_object *j)
{
	struct rcp_recipe *r;
	size_t mark = path_push(c, "[%zu]", f->n);
	int rc = json_recipe(c, j, &r);

	for (size_t i = 0; rc == 0 && i < f->n; i++) {
		if (strcmp(f->recipes[i]->name, r->name) == 0) {
			rc = jfail_at(c, "name", "duplicate recipe name");
			rcp_recipe_free(r);
		}
	}
	path_pop(c, mark);
	if (rc == 0) {
		f->recipes[f->n++] = r;
	}
	return rc;
}

int rcp_json_to_file(struct json_object *j, struct rcp_file **out, struct rcp_error *err)
{
	struct rcp_file *f;
	struct jctx c;
	size_t len = 1;
	bool arr = json_object_is_type(j, json_type_array);
	int rc = 0;

	*out = NULL;
	jctx_init(&c, err);
	if (arr && (len = json_object_array_length(j)) > RCP_RECIPES_MAX) {
		return jfail(&c, "more than 256 recipes");
	}
	f = ntm_calloc(1, sizeof(*f));
	if (f == NULL || (f->recipes = ntm_calloc(len, sizeof(*f->recipes))) == NULL) {
		ntm_free(f);
		return -ENOMEM;
	}
	if (!arr) {
		rc = json_recipe(&c, j, &f->recipes[0]);
		f->n = rc == 0;
	}
	for (size_t i = 0; arr && rc == 0 && i < len; i++) {
		rc = add_recipe(&c, f, json_object_array_get_idx(j, i));
	}
	if (rc < 0) {
		rcp_file_free(f);
		return rc;
	}
	*out = f;
	return 0;
}
