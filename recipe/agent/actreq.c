/* SPDX-License-Identifier: MIT */
/*
 * Action request payload codec (actreq.h), with json-c in strict mode.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/agent/actreq.h"

static int fail(char *why, size_t whylen, int rc, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return rc;
}

bool rcp_actreq_key_is_valid(const char *key, size_t len)
{
	if (len == 0 || len > RCP_IDEM_KEY_MAX) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (key[i] < 0x21 || key[i] > 0x7e) {
			return false;
		}
	}
	return true;
}

static int decode_value(struct json_object *j, struct rcp_value *out, char *why, size_t whylen)
{
	const char *s;
	size_t n;

	memset(out, 0, sizeof(*out));
	switch (json_object_get_type(j)) {
	case json_type_boolean:
		out->type = RCP_VAL_BOOL;
		out->b = json_object_get_boolean(j);
		return 0;
	case json_type_int:
	case json_type_double:
		/* json-c keeps a parsed number's text: exact, not a rounded double. */
		s = json_object_get_string(j);
		if (rcp_value_parse_number(s, strlen(s), out) < 0) {
			return fail(why, whylen, -EBADMSG, "value: not a plain decimal number in range");
		}
		return 0;
	case json_type_string:
		s = json_object_get_string(j);
		n = (size_t)json_object_get_string_len(j);
		if (strlen(s) != n) {
			return fail(why, whylen, -EBADMSG, "value: NUL in a string");
		}
		if (rcp_value_set_text(out, s) < 0) {
			return fail(why, whylen, -EBADMSG, "value: text not allowed");
		}
		return 0;
	default:
		return fail(why, whylen, -EBADMSG, "value: expected number, boolean or string");
	}
}

static int decode_params(struct json_object *j, struct rcp_action *a, char *why, size_t whylen)
{
	size_t n;
	int rc;

	if (!json_object_is_type(j, json_type_object)) {
		return fail(why, whylen, -EBADMSG, "params: expected an object");
	}
	n = (size_t)json_object_object_length(j);
	if (n > RCP_PARAMS_MAX) {
		return fail(why, whylen, -EBADMSG, "params: too many");
	}
	if (n == 0) {
		return 0;
	}
	a->params = ntm_calloc(n, sizeof(*a->params));
	if (a->params == NULL) {
		return -ENOMEM;
	}
	json_object_object_foreach(j, name, v)
	{
		struct rcp_param *p = &a->params[a->n_params];

		if (!rcp_is_ident(name, strlen(name)) || rcp_is_keyword(name, strlen(name))) {
			return fail(why, whylen, -EBADMSG, "params: a name is not an identifier");
		}
		rc = decode_value(v, &p->value, why, whylen);
		if (rc < 0) {
			return rc;
		}
		p->name = ntm_strdup(name);
		if (p->name == NULL) {
			rcp_value_fini(&p->value);
			return -ENOMEM;
		}
		a->n_params++;
	}
	return 0;
}

static int decode_members(struct json_object *o, struct rcp_actreq *req, char *why, size_t whylen)
{
	const char *key;
	int rc = 0;

	if (!json_object_is_type(o, json_type_object)) {
		return fail(why, whylen, -EBADMSG, "expected an object");
	}
	json_object_object_foreach(o, name, v)
	{
		if (strcmp(name, "key") == 0) {
			key = json_object_get_string(v);
			if (!json_object_is_type(v, json_type_string) ||
			    (size_t)json_object_get_string_len(v) != strlen(key) ||
			    !rcp_actreq_key_is_valid(key, strlen(key))) {
				return fail(why, whylen, -EBADMSG, "key: not a valid key");
			}
			memcpy(req->key, key, strlen(key) + 1);
		} else if (strcmp(name, "value") == 0) {
			rc = decode_value(v, &req->action.value, why, whylen);
		} else if (strcmp(name, "params") == 0) {
			rc = decode_params(v, &req->action, why, whylen);
		} else {
			return fail(why, whylen, -EBADMSG, "unknown member");
		}
		if (rc < 0) {
			return rc;
		}
	}
	return req->key[0] == '\0' ? fail(why, whylen, -EBADMSG, "key: missing") : 0;
}

int rcp_actreq_decode(const void *data, size_t len, struct rcp_actreq *req, char *why,
		      size_t whylen)
{
	struct json_tokener *tok;
	struct json_object *o;
	int rc;

	memset(req, 0, sizeof(*req));
	req->action.kind = RCP_ACT_DO;
	if (len > RCP_ACTREQ_MAX) {
		return fail(why, whylen, -EMSGSIZE, "payload too long");
	}
	if (len == 0 || memchr(data, '\0', len) != NULL) {
		return fail(why, whylen, -EBADMSG, "empty payload or NUL byte");
	}
	tok = json_tokener_new_ex(8);
	if (tok == NULL) {
		return -ENOMEM;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, data, (int)len);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		rc = fail(why, whylen, -EBADMSG, "not one strict JSON object");
	} else {
		rc = decode_members(o, req, why, whylen);
	}
	json_object_put(o);
	json_tokener_free(tok);
	if (rc < 0) {
		rcp_actreq_fini(req);
	}
	return rc;
}

static struct json_object *encode_value(const struct rcp_value *v)
{
	char buf[RCP_VALUE_TEXT_MAX];

	switch (v->type) {
	case RCP_VAL_BOOL:
		return json_object_new_boolean(v->b);
	case RCP_VAL_NUMBER:
		/* The exact decimal text, kept by json-c as the number's text. */
		if (rcp_value_format(v, buf, sizeof(buf)) < 0) {
			return NULL;
		}
		return json_object_new_double_s((double)v->num / RCP_NUM_SCALE, buf);
	case RCP_VAL_TEXT:
		return json_object_new_string(v->text);
	default:
		return NULL;
	}
}

static int add(struct json_object *o, const char *name, struct json_object *v)
{
	if (v == NULL) {
		return -ENOMEM;
	}
	if (json_object_object_add(o, name, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int build(struct json_object *o, const char *key, const struct rcp_action *a)
{
	struct json_object *params;
	int rc = add(o, "key", json_object_new_string(key));

	if (rc == 0 && a->value.type != RCP_VAL_NONE) {
		rc = add(o, "value", encode_value(&a->value));
	}
	if (rc < 0 || a->n_params == 0) {
		return rc;
	}
	params = json_object_new_object();
	rc = add(o, "params", params);
	for (size_t i = 0; rc == 0 && i < a->n_params; i++) {
		rc = add(params, a->params[i].name, encode_value(&a->params[i].value));
	}
	return rc;
}

int rcp_actreq_encode(const char *key, const struct rcp_action *a, char **out, size_t *len)
{
	struct json_object *o;
	const char *text;
	int rc;

	*out = NULL;
	*len = 0;
	if (!rcp_actreq_key_is_valid(key, strlen(key)) || a->n_params > RCP_PARAMS_MAX) {
		return -EINVAL;
	}
	o = json_object_new_object();
	if (o == NULL) {
		return -ENOMEM;
	}
	rc = build(o, key, a);
	if (rc == 0) {
		size_t n;

		text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		n = text != NULL ? strlen(text) : 0;
		rc = text == NULL ? -ENOMEM : n > RCP_ACTREQ_MAX ? -EMSGSIZE : 0;
		if (rc == 0) {
			*out = ntm_strdup(text);
			rc = *out == NULL ? -ENOMEM : 0;
			*len = rc == 0 ? n : 0;
		}
	}
	json_object_put(o);
	return rc;
}

void rcp_actreq_fini(struct rcp_actreq *req)
{
	struct rcp_action *a;

	if (req == NULL) {
		return;
	}
	a = &req->action;
	for (size_t i = 0; i < a->n_params; i++) {
		ntm_free(a->params[i].name);
		rcp_value_fini(&a->params[i].value);
	}
	ntm_free(a->params);
	rcp_value_fini(&a->value);
	ntm_free(a->target);
	memset(req, 0, sizeof(*req));
	req->action.kind = RCP_ACT_DO;
}
