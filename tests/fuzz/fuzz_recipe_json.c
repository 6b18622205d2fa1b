/* SPDX-License-Identifier: MIT */
/*
 * Recipe JSON form. Whatever is accepted must survive JSON -> AST -> JSON ->
 * AST and AST -> text -> AST unchanged; a rejection must name a JSON path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/json.h"
#include "recipe/recipe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rcp_file *f = NULL, *g = NULL, *h = NULL;
	struct rcp_error err;
	char *json = NULL, *text = NULL;
	int rc = rcp_json_parse((const char *)data, size, &f, &err);

	if (rc != 0) {
		check(f == NULL && err.msg[0] == '$' && err.line == 0);
		return 0;
	}
	check(rcp_json_print(f, &json) == 0);
	check(rcp_json_parse(json, strlen(json), &g, NULL) == 0);
	check(rcp_file_eq(f, g));
	check(rcp_file_print(f, &text) == 0);
	check(rcp_parse(text, strlen(text), &h, NULL) == 0);
	check(rcp_file_eq(f, h));
	ntm_free(text);
	ntm_free(json);
	rcp_file_free(h);
	rcp_file_free(g);
	rcp_file_free(f);
	return 0;
}
