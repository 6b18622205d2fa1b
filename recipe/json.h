/* SPDX-License-Identifier: MIT */
#ifndef RCP_JSON_H
#define RCP_JSON_H

/*
 * JSON form of recipes (for the recipe server's API), with json-c. It holds
 * exactly what the text form holds and is checked by the same rules; errors
 * name the JSON path ("$[0].when.all[1].value: expected number, boolean or
 * string"), with line and column 0.
 *
 *   recipe = { "name": NAME, "when": cond, "mode": "edge" | "level",
 *              "every_ms": INT, "actions": [ action, ... ] }
 *   cond   = { "resource": "fqdn/path", "op": "==", "value": value,
 *              "for_ms": INT }  |  { "all": [ cond, cond, ... ] }
 *                               |  { "any": [ cond, cond, ... ] }
 *   action = { "do": "fqdn/path", "value": value, "params": { NAME: value } }
 *          | { "notify": "owner" | "fqdn/path", "message": STRING }
 *   value  = number | true | false | string
 *
 * "mode" defaults to "edge"; "every_ms" needs "level"; "for_ms", "every_ms",
 * "value", "params" and "message" are optional. Unknown keys are errors; a
 * key repeated in one object cannot be seen (json-c keeps the last one).
 * Numbers keep their decimal text (json-c keeps it), so they are exact.
 */

#include <json-c/json.h>

#include "recipe.h"

enum { RCP_JSON_MAX = 4 * RCP_TEXT_MAX }; /* bytes of JSON text accepted */

/*
 * AST -> JSON. *out is a new json-c object (reference count 1) the caller
 * releases with json_object_put(). -ENOMEM on failure, *out NULL.
 */
NTM_MUST_CHECK int rcp_json_from_recipe(const struct rcp_recipe *r, struct json_object **out);
/* A file becomes a JSON array of recipes. */
NTM_MUST_CHECK int rcp_json_from_file(const struct rcp_file *f, struct json_object **out);

/*
 * JSON -> AST. `j` is borrowed (not const: json-c caches number text in
 * it). On success *out is a new recipe (or file) owned by the caller; on
 * failure it is NULL and err names the path.
 * Returns 0, -EINVAL or -ENOMEM.
 */
NTM_MUST_CHECK int rcp_json_to_recipe(struct json_object *j, struct rcp_recipe **out,
				      struct rcp_error *err);
/* An array of recipes, or a single recipe object (a file of one). */
NTM_MUST_CHECK int rcp_json_to_file(struct json_object *j, struct rcp_file **out,
				    struct rcp_error *err);

/*
 * JSON text <-> AST: parse strict JSON text (len bytes, at most RCP_JSON_MAX)
 * into a file, or print a file as compact JSON text (an array). *out of the
 * printer is a NUL-terminated string the caller frees with ntm_free().
 */
NTM_MUST_CHECK int rcp_json_parse(const char *text, size_t len, struct rcp_file **out,
				  struct rcp_error *err);
NTM_MUST_CHECK int rcp_json_print(const struct rcp_file *f, char **out);

#endif
