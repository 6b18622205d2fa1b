/* SPDX-License-Identifier: MIT */
/* Recipe JSON form: round trips with the text form, and path-naming errors. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/json.h"
#include "recipe/recipe.h"

#include "ntm_test.h"

static const char sample[] =
	"recipe \"cool-down\"\n"
	"  when sensor-a.example.net/temperature > 28 for 60s\n"
	"  do aircon-b.example.net/power on\n"
	"  notify owner\n"
	"\n"
	"recipe \"night\"\n"
	"  when (door.example.net/open == true or (pir.example.net/motion == true and "
	"pir.example.net/lux < 0.25 for 500ms)) and presence.example.net/state != absent "
	"level every 5m\n"
	"  do lamp.example.net/level 40.5 fade=2 scene=\"warm white\" quiet=off\n"
	"  do lamp.example.net/power\n"
	"  notify phone.example.net/alerts \"door \\\"open\\\"\"\n";

static struct rcp_file *text_ok(const char *text)
{
	struct rcp_file *f = NULL;
	struct rcp_error err;

	CU_ASSERT_EQUAL(rcp_parse(text, strlen(text), &f, &err), 0);
	return f;
}

static struct rcp_file *json_ok(const char *text)
{
	struct rcp_file *f = NULL;
	struct rcp_error err;
	int rc = rcp_json_parse(text, strlen(text), &f, &err);

	if (rc != 0) {
		fprintf(stderr, "\nunexpected JSON error: %s\n", err.msg);
	}
	CU_ASSERT_EQUAL(rc, 0);
	return f;
}

static void test_round_trip(void)
{
	struct rcp_file *f = text_ok(sample), *g, *h;
	char *json, *text;

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_EQUAL_FATAL(rcp_json_print(f, &json), 0);
	g = json_ok(json);
	CU_ASSERT_TRUE(rcp_file_eq(f, g));
	/* ... and the JSON-born AST prints as text that parses back to it */
	CU_ASSERT_EQUAL_FATAL(rcp_file_print(g, &text), 0);
	h = text_ok(text);
	CU_ASSERT_TRUE(rcp_file_eq(g, h));
	ntm_free(text);
	ntm_free(json);
	rcp_file_free(h);
	rcp_file_free(g);
	rcp_file_free(f);
}

static void test_json_shape(void)
{
	static const char want[] =
		"[{\"name\":\"cool-down\",\"when\":{\"resource\":\"sensor-a.example.net/"
		"temperature\","
		"\"op\":\">\",\"value\":28,\"for_ms\":60000},\"mode\":\"edge\",\"actions\":[{"
		"\"do\":"
		"\"aircon-b.example.net/power\",\"value\":true},{\"notify\":\"owner\"}]}]";
	struct rcp_file *f = text_ok("recipe \"cool-down\"\n"
				     "  when sensor-a.example.net/temperature > 28 for 60s\n"
				     "  do aircon-b.example.net/power on\n"
				     "  notify owner\n");
	char *json;

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_EQUAL_FATAL(rcp_json_print(f, &json), 0);
	CU_ASSERT_STRING_EQUAL(json, want);
	ntm_free(json);
	rcp_file_free(f);
}

static void test_single_object_and_numbers(void)
{
	struct rcp_file *f = json_ok("{\"name\":\"n\",\"when\":{\"all\":[{\"resource\":\"A.Example."
				     "NET/t\",\"op\":\">=\","
				     "\"value\":28.50},{\"resource\":\"a.example.net/"
				     "u\",\"op\":\"==\",\"value\":-0.1}]},"
				     "\"actions\":[{\"do\":\"b.example.net/"
				     "x\",\"value\":\"heat\",\"params\":{\"p\":1}}]}");
	const struct rcp_cond *c;

	CU_ASSERT_FATAL(f != NULL && f->n == 1);
	c = f->recipes[0]->when;
	CU_ASSERT_EQUAL(c->kind, RCP_COND_AND);
	CU_ASSERT_STRING_EQUAL(c->kids[0]->resource, "a.example.net/t");
	CU_ASSERT_EQUAL(c->kids[0]->value.num, 28500000);
	CU_ASSERT_EQUAL(c->kids[1]->value.num, -100000);
	CU_ASSERT_EQUAL(f->recipes[0]->mode, RCP_MODE_EDGE);
	CU_ASSERT_EQUAL(f->recipes[0]->line, 0);
	rcp_file_free(f);
}

static void expect_error(const char *json, const char *want)
{
	struct rcp_file *f = (struct rcp_file *)1;
	struct rcp_error err;
	int rc = rcp_json_parse(json, strlen(json), &f, &err);

	if (strcmp(err.msg, want) != 0) {
		fprintf(stderr, "\ninput: %s\nwant:  %s\ngot:   %s\n", json, want, err.msg);
	}
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NULL(f);
	CU_ASSERT_EQUAL(err.line, 0);
	CU_ASSERT_STRING_EQUAL(err.msg, want);
}

#define CMP(r, op, v) "{\"resource\":\"" r "\",\"op\":\"" op "\",\"value\":" v "}"
#define DO	      "\"actions\":[{\"do\":\"b.example.net/x\"}]"

static void test_errors(void)
{
	static const struct {
		const char *json, *want;
	} cases[] = {
		{ "{\"name\":\"a\",\"when\":{\"all\":[" CMP("a.example.net/t", ">", "1") "," CMP(
			  "a.example.net/t", ">", "\"hot\"") "]}," DO "}",
		  "$.when.all[1].value: expected number for '>'" },
		{ "{\"name\":\"a\",\"when\":" CMP("a.example.net/t", "==", "1e3") "," DO "}",
		  "$.when.value: expected a plain decimal number" },
		{ "{\"name\":\"a\",\"when\":" CMP("a.example.net/t", "==", "1234567890123") "," DO
											    "}",
		  "$.when.value: number out of range (at most 12 digits, 6 decimals)" },
		{ "{\"name\":\"a\",\"when\":" CMP("a.example.net/t", "==", "null") "," DO "}",
		  "$.when.value: expected number, boolean or string" },
		{ "{\"name\":\"a\",\"when\":" CMP("a.example.net/t", "~", "1") "," DO "}",
		  "$.when.op: expected one of == != < <= > >=" },
		{ "{\"name\":\"a\",\"when\":" CMP("localhost/t", "==", "1") "," DO "}",
		  "$.when.resource: host name needs at least two labels (an FQDN)" },
		{ "{\"name\":\"a\",\"when\":{\"resource\":\"a.example.net/t\",\"op\":\"==\"}," DO
		  "}",
		  "$.when.value: missing" },
		{ "{\"name\":\"a\",\"when\":{\"all\":[" CMP("a.example.net/t", "==", "1") "]}," DO
											  "}",
		  "$.when.all: expected an array of at least 2 conditions" },
		{ "{\"name\":\"a\",\"when\":{\"any\":[],\"all\":[]}," DO "}",
		  "$.when.any: unknown key" },
		{ "{\"name\":\"a\",\"when\":{\"resource\":\"a.example.net/t\",\"op\":\"==\","
		  "\"value\":1,\"for_ms\":0}," DO "}",
		  "$.when.for_ms: expected whole milliseconds, 1 to 604800000" },
		{ "{\"name\":\"a\",\"when\":{\"resource\":\"a.example.net/t\",\"op\":\"==\","
		  "\"value\":1,\"for_ms\":\"60s\"}," DO "}",
		  "$.when.for_ms: expected whole milliseconds, 1 to 604800000" },
		{ "{\"name\":\"a\",\"when\":" CMP("a.example.net/t",
						  "==", "1") ",\"every_ms\":5," DO "}",
		  "$.every_ms: needs \"mode\": \"level\"" },
		{ "{\"name\":\"a\",\"when\":" CMP("a.example.net/t",
						  "==", "1") ",\"mode\":\"pulse\"," DO "}",
		  "$.mode: expected \"edge\" or \"level\"" },
		{ "{\"name\":\"a b\",\"when\":" CMP("a.example.net/t", "==", "1") "," DO "}",
		  "$.name: bad recipe name" },
		{ "{\"when\":" CMP("a.example.net/t", "==", "1") "," DO "}", "$.name: missing" },
		{ "{\"name\":\"a\",\"when\":" CMP("a.example.net/t", "==", "1") ",\"actions\":[]}",
		  "$.actions: expected an array of 1 to 16 actions" },
		{ "{\"name\":\"a\",\"when\":" CMP("a.example.net/t",
						  "==", "1") ",\"actions\":[{}]}",
		  "$.actions[0]: expected \"do\" or \"notify\"" },
		{ "{\"name\":\"a\",\"when\":" CMP(
			  "a.example.net/t",
			  "==", "1") ",\"actions\":[{\"do\":"
				     "\"b.example.net/x\",\"params\":{\"for\":1}}]}",
		  "$.actions[0].params.for: bad parameter name" },
		{ "{\"name\":\"a\",\"when\":" CMP(
			  "a.example.net/t",
			  "==", "1") ",\"actions\":[{\"do\":"
				     "\"b.example.net/x\",\"params\":{\"p\":[1]}}]}",
		  "$.actions[0].params.p: expected number, boolean or string" },
		{ "{\"name\":\"a\",\"when\":" CMP("a.example.net/t",
						  "==", "1") ",\"actions\":[{\"notify\":"
							     "\"owner\",\"message\":3}]}",
		  "$.actions[0].message: expected string" },
		{ "{\"name\":\"a\",\"when\":" CMP("a.example.net/t", "==", "\"a\\u0000b\"") "," DO
											    "}",
		  "$.when.value: control character in text" },
		{ "{\"name\":\"a\",\"when\":" CMP("a.example.net/t", "==", "\"a\\nb\"") "," DO "}",
		  "$.when.value: control character in text" },
		{ "[{\"name\":\"a\",\"when\":" CMP(
			  "a.example.net/t", "==", "1") "," DO "},"
							"{\"name\":\"a\",\"when\":" CMP(
								"a.example.net/t", "==", "1") "," DO
											      "}]",
		  "$[1].name: duplicate recipe name" },
		{ "{\"name\":\"a\",\"extra\":1}", "$.extra: unknown key" },
		{ "[1]", "$[0]: expected a recipe object" },
		{ "{\"name\":\"a\"", "$: bad JSON at byte 11: unexpected end of input" },
		{ "{\"name\":\"a\"} x", "$: bad JSON at byte 13: unexpected character" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_error(cases[i].json, cases[i].want);
	}
}

/* {"name":"d","when": {"any":[CMP, {"any":[CMP, ... ]}]} ...} with `levels` any's */
static char *nested_json(unsigned levels)
{
	char *s = ntm_malloc(200 + levels * 100);
	size_t len = (size_t)sprintf(s, "{\"name\":\"d\",\"when\":");

	for (unsigned i = 0; i < levels; i++) {
		len += (size_t)sprintf(s + len, "{\"any\":[" CMP("a.example.net/t", "==", "%u") ",",
				       i);
	}
	len += (size_t)sprintf(s + len, CMP("a.example.net/t", "==", "1"));
	for (unsigned i = 0; i < levels; i++) {
		len += (size_t)sprintf(s + len, "]}");
	}
	sprintf(s + len, "," DO "}");
	return s;
}

static void test_limits(void)
{
	/* Outermost any/all is level 1 and needs no parentheses in text. */
	char *ok = nested_json(RCP_DEPTH_MAX + 1), *bad = nested_json(RCP_DEPTH_MAX + 2);
	struct rcp_file *f = json_ok(ok), *g;
	char *text;

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_EQUAL_FATAL(rcp_file_print(f, &text), 0);
	g = text_ok(text);
	CU_ASSERT_TRUE(rcp_file_eq(f, g));
	expect_error(bad, "$.when.any[1].any[1].any[1].any[1].any[1].any[1].any[1].any[1].any[1]."
			  "any: conditions nested deeper than 8");
	ntm_free(text);
	rcp_file_free(g);
	rcp_file_free(f);
	ntm_free(ok);
	ntm_free(bad);
}

static void test_alloc_failure(void)
{
	struct rcp_file *ref = text_ok(sample), *f;
	struct json_object *j;
	struct rcp_error err;
	long n;
	int rc = -ENOMEM;

	CU_ASSERT_EQUAL_FATAL(rcp_json_from_file(ref, &j), 0);
	for (n = 0; rc == -ENOMEM && n < 10000; n++) {
		f = (struct rcp_file *)1;
		ntm_alloc_fail_after(n);
		rc = rcp_json_to_file(j, &f, &err);
		ntm_alloc_fail_reset();
		if (rc == -ENOMEM) {
			CU_ASSERT_PTR_NULL(f);
		}
	}
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_TRUE(rcp_file_eq(f, ref));
	rcp_file_free(f);
	json_object_put(j);
	rcp_file_free(ref);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_round_trip),
	NTM_TEST(test_json_shape),
	NTM_TEST(test_single_object_and_numbers),
	NTM_TEST(test_errors),
	NTM_TEST(test_limits),
	NTM_TEST(test_alloc_failure),
};

NTM_TEST_MAIN("recipe_json", cases)
