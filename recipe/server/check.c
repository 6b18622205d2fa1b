/* SPDX-License-Identifier: MIT */
#include "check.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/json.h"
#include "recipe/loop.h"

typedef char fqdn_buf[RCP_FQDN_MAX + 1];

/* Add the host part of "fqdn/path" to the set. */
static int add_ref(const char *ref, fqdn_buf *set, size_t cap, size_t *n)
{
	size_t len = strcspn(ref, "/");

	if (len > RCP_FQDN_MAX) {
		return -EINVAL;
	}
	for (size_t i = 0; i < *n; i++) {
		if (strlen(set[i]) == len && strncmp(set[i], ref, len) == 0) {
			return 0;
		}
	}
	if (*n == cap) {
		return -E2BIG;
	}
	memcpy(set[*n], ref, len);
	set[(*n)++][len] = '\0';
	return 0;
}

static int add_cond(const struct rcp_cond *c, fqdn_buf *set, size_t cap, size_t *n)
{
	int rc = 0;

	if (c->kind == RCP_COND_CMP) {
		return add_ref(c->resource, set, cap, n);
	}
	for (size_t i = 0; rc == 0 && i < c->n_kids; i++) {
		rc = add_cond(c->kids[i], set, cap, n);
	}
	return rc;
}

int rcp_rs_recipe_devices(const struct rcp_recipe *r, char (*fqdns)[RCP_FQDN_MAX + 1], size_t cap,
			  size_t *n)
{
	int rc = add_cond(r->when, fqdns, cap, n);

	for (size_t i = 0; rc == 0 && i < r->n_actions; i++) {
		if (strcmp(r->actions[i].target, "owner") != 0) {
			rc = add_ref(r->actions[i].target, fqdns, cap, n);
		}
	}
	return rc;
}

static int parse_body(const char *body, size_t len, struct rcp_file **f, struct rcp_rs_verdict *v)
{
	struct rcp_error err = { 0 };
	size_t i = 0;
	int rc;

	while (i < len && strchr(" \t\r\n", body[i]) != NULL && body[i] != '\0') {
		i++;
	}
	if (i < len && (body[i] == '{' || body[i] == '[')) {
		rc = rcp_json_parse(body, len, f, &err);
	} else {
		rc = rcp_parse(body, len, f, &err);
	}
	if (rc < 0) {
		v->status = 400;
		v->line = err.line;
		v->col = err.col;
		if (err.line > 0) {
			snprintf(v->msg, sizeof(v->msg), "line %u, column %u: %s", err.line,
				 err.col, err.msg);
		} else {
			snprintf(v->msg, sizeof(v->msg), "%s", err.msg);
		}
	}
	return rc;
}

static int check_devices(const struct rcp_recipe *r, rcp_rs_owns_cb owns, void *ctx,
			 struct rcp_rs_verdict *v)
{
	fqdn_buf set[RCP_RS_DEVICES_MAX];
	size_t n = 0;
	int rc = rcp_rs_recipe_devices(r, set, RCP_RS_DEVICES_MAX, &n);

	for (size_t i = 0; rc >= 0 && i < n; i++) {
		rc = owns(ctx, set[i]);
		if (rc == 0) {
			v->status = 400;
			snprintf(v->msg, sizeof(v->msg),
				 "recipe \"%.64s\" (line %u): device %.253s is not bound to you",
				 r->name, r->line, set[i]);
			return -EINVAL;
		}
	}
	return rc < 0 ? rc : 0;
}

static int check_policy(const struct rcp_recipe *r, const struct rcp_policy *p, bool allow_flagged,
			struct rcp_rs_verdict *v)
{
	struct rcp_report rep;
	int rc = rcp_policy_check_recipe(p, r, &rep);

	if (rc < 0 && rc != -EPERM) {
		return rc;
	}
	if (rep.verdict == RCP_VERDICT_REFUSED ||
	    (rep.verdict == RCP_VERDICT_FLAGGED && !allow_flagged)) {
		v->status = 422;
		snprintf(v->msg, sizeof(v->msg),
			 "recipe \"%s\": safety policy (rule at line %u): %s", r->name,
			 rep.rule_line, rep.reason);
		return -EPERM;
	}
	return 0;
}

/* The canonical text must fit what a device installs (block-wise CoAP, bounded). */
static int check_size(const struct rcp_recipe *r, struct rcp_rs_verdict *v)
{
	char *text = NULL;
	size_t n;
	int rc = rcp_recipe_print(r, &text);

	if (rc < 0) {
		return rc;
	}
	n = strlen(text);
	ntm_free(text);
	if (n > RCP_INSTALL_MAX) {
		v->status = 413;
		snprintf(
			v->msg, sizeof(v->msg),
			"recipe \"%s\": %zu bytes in canonical form, over the %d a device installs",
			r->name, n, RCP_INSTALL_MAX);
		return -EMSGSIZE;
	}
	return 0;
}

/* Names unique against the stored ones, then the loop check over both sets. */
static int check_with_existing(const struct rcp_file *f, const char *existing,
			       struct rcp_rs_verdict *v)
{
	struct rcp_file *old = NULL;
	const struct rcp_recipe **all = NULL;
	char path[RCP_LOOP_PATH_MAX];
	size_t n = 0;
	int rc = rcp_parse(existing, strlen(existing), &old, NULL);

	if (rc == 0 && (all = ntm_calloc(old->n + f->n + 1, sizeof(*all))) == NULL) {
		rc = -ENOMEM;
	}
	for (size_t i = 0; rc == 0 && i < old->n; i++) {
		for (size_t j = 0; j < f->n; j++) {
			if (strcmp(old->recipes[i]->name, f->recipes[j]->name) == 0) {
				v->status = 409;
				snprintf(v->msg, sizeof(v->msg), "recipe \"%s\" already exists",
					 f->recipes[j]->name);
				rc = -EEXIST;
			}
		}
		all[n++] = old->recipes[i];
	}
	for (size_t j = 0; rc == 0 && j < f->n; j++) {
		all[n++] = f->recipes[j];
	}
	if (rc == 0) {
		rc = rcp_loop_find(all, n, path, sizeof(path));
		if (rc == -ELOOP) {
			v->status = 422;
			snprintf(v->msg, sizeof(v->msg), "recipes would loop: %s", path);
		}
	}
	ntm_free(all);
	rcp_file_free(old);
	return rc;
}

int rcp_rs_check(const char *body, size_t len, const char *existing,
		 const struct rcp_policy *policy, bool allow_flagged, rcp_rs_owns_cb owns,
		 void *ctx, struct rcp_file **out, struct rcp_rs_verdict *v)
{
	struct rcp_file *f = NULL;
	int rc;

	*out = NULL;
	*v = (struct rcp_rs_verdict){ .status = 500 };
	rc = parse_body(body, len, &f, v);
	if (rc == 0 && f->n == 0) {
		v->status = 400;
		snprintf(v->msg, sizeof(v->msg), "no recipe in the request");
		rc = -EINVAL;
	}
	for (size_t i = 0; rc == 0 && i < f->n; i++) {
		rc = check_devices(f->recipes[i], owns, ctx, v);
		if (rc == 0) {
			rc = check_size(f->recipes[i], v);
		}
		if (rc == 0 && policy != NULL) {
			rc = check_policy(f->recipes[i], policy, allow_flagged, v);
		}
	}
	if (rc == 0) {
		rc = check_with_existing(f, existing, v);
	}
	if (rc < 0) {
		if (v->msg[0] == '\0') {
			snprintf(v->msg, sizeof(v->msg), "%s", ntm_strerror(rc));
		}
		rcp_file_free(f);
		return rc;
	}
	*out = f;
	return 0;
}

int rcp_rs_check_replace(const char *name, const char *body, size_t len, const char *others,
			 const struct rcp_policy *policy, bool allow_flagged, rcp_rs_owns_cb owns,
			 void *ctx, struct rcp_file **out, struct rcp_rs_verdict *v)
{
	int rc = rcp_rs_check(body, len, others, policy, allow_flagged, owns, ctx, out, v);

	if (rc == 0 && ((*out)->n != 1 || strcmp((*out)->recipes[0]->name, name) != 0)) {
		v->status = 400;
		snprintf(v->msg, sizeof(v->msg),
			 "a replacement is exactly one recipe named \"%.64s\"", name);
		rcp_file_free(*out);
		*out = NULL;
		rc = -EINVAL;
	}
	return rc;
}
