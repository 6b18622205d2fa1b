/* SPDX-License-Identifier: MIT */
#include "jreq.h"

#include <stdio.h>
#include <string.h>

/*
 * json-c's strict mode still takes 'single-quoted' strings: outside double
 * quotes only JSON's own bytes may appear (structure, literals, numbers).
 */
static bool is_json_bytes(const char *text, size_t len)
{
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		if (in_string) {
			if (text[i] == '\\') {
				i++;
			} else if (text[i] == '"') {
				in_string = false;
			}
		} else if (text[i] == '"') {
			in_string = true;
		} else if (strchr("{}[]:,-+.0123456789eEtrualsfn \t\r\n", text[i]) == NULL) {
			return false;
		}
	}
	return true;
}

int rcp_jreq_parse(const char *text, size_t len, size_t max, struct json_object **out, char *why,
		   size_t whylen)
{
	struct json_tokener *tok;
	struct json_object *o;
	size_t used;

	*out = NULL;
	if (len > max) {
		snprintf(why, whylen, "body over %zu bytes", max);
		return -EMSGSIZE;
	}
	if (len == 0 || memchr(text, '\0', len) != NULL || !is_json_bytes(text, len)) {
		snprintf(why, whylen, "body: expected a JSON object");
		return -EINVAL;
	}
	tok = json_tokener_new_ex(RCP_JREQ_DEPTH_MAX);
	if (tok == NULL) {
		return -ENOMEM;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)len);
	used = json_tokener_get_parse_end(tok);
	if (o == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		snprintf(why, whylen, "body: invalid JSON at byte %zu", used);
		json_object_put(o);
		json_tokener_free(tok);
		return -EINVAL;
	}
	json_tokener_free(tok);
	for (; used < len; used++) {
		if (strchr(" \t\r\n", text[used]) == NULL) {
			snprintf(why, whylen, "body: trailing data at byte %zu", used);
			json_object_put(o);
			return -EINVAL;
		}
	}
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(why, whylen, "body: expected a JSON object");
		json_object_put(o);
		return -EINVAL;
	}
	*out = o;
	return 0;
}

int rcp_jreq_only(struct json_object *o, const char *const *allowed, char *why, size_t whylen)
{
	json_object_object_foreach(o, key, val)
	{
		size_t i;

		(void)val;
		for (i = 0; allowed[i] != NULL && strcmp(allowed[i], key) != 0; i++) {
		}
		if (allowed[i] == NULL) {
			/* The key is the client's text: bounded and printed as data. */
			snprintf(why, whylen, "unknown key \"%.32s\"", key);
			return -EINVAL;
		}
	}
	return 0;
}

static bool is_printable(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) {
			return false;
		}
	}
	return true;
}

int rcp_jreq_string(struct json_object *o, const char *key, size_t max, bool required,
		    const char **out, char *why, size_t whylen)
{
	struct json_object *v;
	size_t len;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v)) {
		if (required) {
			snprintf(why, whylen, "missing \"%s\"", key);
			return -EINVAL;
		}
		return 0;
	}
	if (!json_object_is_type(v, json_type_string)) {
		snprintf(why, whylen, "\"%s\": expected a string", key);
		return -EINVAL;
	}
	len = (size_t)json_object_get_string_len(v);
	if (len == 0 || len > max || !is_printable(json_object_get_string(v), len)) {
		snprintf(why, whylen, "\"%s\": expected 1..%zu printable ASCII characters", key,
			 max);
		return -EINVAL;
	}
	*out = json_object_get_string(v);
	return 0;
}

bool rcp_jreq_is_ident(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len == 0 || len > max) {
		return false;
	}
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") ==
	       len;
}

bool rcp_jreq_is_fqdn(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.') {
		return false;
	}
	for (size_t i = 0; i <= len; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-') {
				return false;
			}
			label = 0;
		} else if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
				  s[i]) == NULL) {
			return false;
		} else {
			label++;
		}
	}
	return true;
}

int rcp_jreq_parse_only(const char *text, size_t len, size_t max, const char *const *allowed,
			struct json_object **out, char *why, size_t whylen)
{
	int rc = rcp_jreq_parse(text, len, max, out, why, whylen);

	if (rc == 0) {
		rc = rcp_jreq_only(*out, allowed, why, whylen);
	}
	return rc;
}
