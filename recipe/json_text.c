/* SPDX-License-Identifier: MIT */
/* JSON text <-> AST: strict json-c tokenizing around json_in.c / json_out.c. */
#include "common/alloc.h"
#include "json.h"
#include "recipe_internal.h"

int rcp_json_parse(const char *text, size_t len, struct rcp_file **out, struct rcp_error *err)
{
	struct json_tokener *tok;
	struct json_object *j;
	int rc;

	*out = NULL;
	rcp_error_clear(err);
	if (len > RCP_JSON_MAX) {
		rcp_error_set(err, 0, 0, "$: JSON text longer than %d bytes", RCP_JSON_MAX);
		return -EMSGSIZE;
	}
	tok = json_tokener_new_ex(64);
	if (tok == NULL) {
		return -ENOMEM;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	j = json_tokener_parse_ex(tok, text, (int)len);
	if (j == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		rcp_error_set(err, 0, 0, "$: bad JSON at byte %zu: %s",
			      json_tokener_get_parse_end(tok),
			      j == NULL && json_tokener_get_error(tok) == json_tokener_continue
				      ? "unexpected end of input"
				      : json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(j);
		json_tokener_free(tok);
		return -EINVAL;
	}
	json_tokener_free(tok);
	rc = rcp_json_to_file(j, out, err);
	json_object_put(j);
	return rc;
}

int rcp_json_print(const struct rcp_file *f, char **out)
{
	struct json_object *j;
	const char *s;
	int rc;

	*out = NULL;
	rc = rcp_json_from_file(f, &j);
	if (rc < 0) {
		return rc;
	}
	s = json_object_to_json_string_ext(j,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	*out = s != NULL ? ntm_strdup(s) : NULL;
	json_object_put(j);
	return *out != NULL ? 0 : -ENOMEM;
}
