/* SPDX-License-Identifier: MIT */
/* Recipe text: parser (good and bad input, precedence, limits), printer, OOM. */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/json.h"
#include "recipe/recipe.h"

#include "ntm_test.h"

static struct rcp_file *parse_ok(const char *text)
{
	struct rcp_file *f = NULL;
	struct rcp_error err;
	int rc = rcp_parse(text, strlen(text), &f, &err);

	if (rc != 0) {
		fprintf(stderr, "\nunexpected error %u:%u: %s\n", err.line, err.col, err.msg);
	}
	CU_ASSERT_EQUAL(rc, 0);
	return f;
}

static void expect_error(const char *text, const char *want)
{
	struct rcp_file *f = (struct rcp_file *)1;
	struct rcp_error err;
	char got[256];
	int rc = rcp_parse(text, strlen(text), &f, &err);

	snprintf(got, sizeof(got), "%u:%u: %s", err.line, err.col, err.msg);
	if (strcmp(got, want) != 0) {
		fprintf(stderr, "\ninput: %s\nwant:  %s\ngot:   %s\n", text, want, got);
	}
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NULL(f);
	CU_ASSERT_STRING_EQUAL(got, want);
}

/* Print, re-parse, compare; returns the printed text (caller frees). */
static char *round_trip(const struct rcp_file *f)
{
	struct rcp_file *g = NULL;
	char *text = NULL;

	CU_ASSERT_EQUAL_FATAL(rcp_file_print(f, &text), 0);
	g = parse_ok(text);
	CU_ASSERT_TRUE(rcp_file_eq(f, g));
	rcp_file_free(g);
	return text;
}

static void test_issue_example(void)
{
	static const char text[] = "recipe \"cool-down\"\n"
				   "  when sensor-a.example.net/temperature > 28 for 60s\n"
				   "  do aircon-b.example.net/power on\n"
				   "  notify owner\n";
	struct rcp_file *f = parse_ok(text);
	const struct rcp_recipe *r;

	CU_ASSERT_FATAL(f != NULL && f->n == 1);
	r = f->recipes[0];
	CU_ASSERT_STRING_EQUAL(r->name, "cool-down");
	CU_ASSERT_EQUAL(r->line, 1);
	CU_ASSERT_EQUAL(r->when->kind, RCP_COND_CMP);
	CU_ASSERT_STRING_EQUAL(r->when->resource, "sensor-a.example.net/temperature");
	CU_ASSERT_EQUAL(r->when->op, RCP_OP_GT);
	CU_ASSERT_EQUAL(r->when->value.type, RCP_VAL_NUMBER);
	CU_ASSERT_EQUAL(r->when->value.num, 28 * RCP_NUM_SCALE);
	CU_ASSERT_EQUAL(r->when->for_ms, 60000);
	CU_ASSERT_EQUAL(r->mode, RCP_MODE_EDGE);
	CU_ASSERT_EQUAL_FATAL(r->n_actions, 2);
	CU_ASSERT_EQUAL(r->actions[0].kind, RCP_ACT_DO);
	CU_ASSERT_STRING_EQUAL(r->actions[0].target, "aircon-b.example.net/power");
	CU_ASSERT_EQUAL(r->actions[0].value.type, RCP_VAL_BOOL);
	CU_ASSERT_TRUE(r->actions[0].value.b);
	CU_ASSERT_EQUAL(r->actions[0].line, 3);
	CU_ASSERT_EQUAL(r->actions[1].kind, RCP_ACT_NOTIFY);
	CU_ASSERT_STRING_EQUAL(r->actions[1].target, "owner");
	CU_ASSERT_EQUAL(r->actions[1].value.type, RCP_VAL_NONE);
	ntm_free(round_trip(f));
	rcp_file_free(f);
}

static void test_values_and_layout(void)
{
	static const char text[] =
		"# two recipes, CRLF, comments, blank lines\r\n"
		"\r\n"
		"recipe \"a.1\"   # trailing comment\r\n"
		"when X.Example.NET/t <= -0.50 and s.example.net/m == \"say \\\"hi\\\"\"\r\n"
		"do d.example.net/mode heat speed=3 quiet=off label=\"two words\"\r\n"
		"\r\n"
		"recipe \"b\"\n"
		"when s.example.net/state != absent\n"
		"do d.example.net/x speed=-12.000125\n"
		"notify phone.example.net/alerts \"window open\"\n";
	struct rcp_file *f = parse_ok(text);
	const struct rcp_cond *c;
	const struct rcp_action *a;

	CU_ASSERT_FATAL(f != NULL && f->n == 2);
	c = f->recipes[0]->when;
	CU_ASSERT_EQUAL_FATAL(c->kind, RCP_COND_AND);
	CU_ASSERT_STRING_EQUAL(c->kids[0]->resource, "x.example.net/t");
	CU_ASSERT_EQUAL(c->kids[0]->value.num, -500000);
	CU_ASSERT_STRING_EQUAL(c->kids[1]->value.text, "say \"hi\"");
	a = &f->recipes[0]->actions[0];
	CU_ASSERT_STRING_EQUAL(a->value.text, "heat");
	CU_ASSERT_EQUAL_FATAL(a->n_params, 3);
	CU_ASSERT_STRING_EQUAL(a->params[0].name, "speed");
	CU_ASSERT_EQUAL(a->params[0].value.num, 3000000);
	CU_ASSERT_EQUAL(a->params[1].value.type, RCP_VAL_BOOL);
	CU_ASSERT_FALSE(a->params[1].value.b);
	CU_ASSERT_STRING_EQUAL(a->params[2].value.text, "two words");
	CU_ASSERT_EQUAL(f->recipes[1]->line, 7);
	a = &f->recipes[1]->actions[0];
	CU_ASSERT_EQUAL(a->value.type, RCP_VAL_NONE);
	CU_ASSERT_EQUAL(a->params[0].value.num, -12000125);
	a = &f->recipes[1]->actions[1];
	CU_ASSERT_STRING_EQUAL(a->target, "phone.example.net/alerts");
	CU_ASSERT_STRING_EQUAL(a->value.text, "window open");
	ntm_free(round_trip(f));
	rcp_file_free(f);
}

static void test_precedence(void)
{
	struct rcp_file *f;
	const struct rcp_cond *c;

	/* and binds tighter than or */
	f = parse_ok("recipe \"p\"\nwhen a.x.y/1 == 1 or a.x.y/2 == 2 and a.x.y/3 == 3\n"
		     "do a.x.y/z\n");
	CU_ASSERT_FATAL(f != NULL);
	c = f->recipes[0]->when;
	CU_ASSERT_EQUAL_FATAL(c->kind, RCP_COND_OR);
	CU_ASSERT_EQUAL_FATAL(c->n_kids, 2);
	CU_ASSERT_EQUAL(c->kids[0]->kind, RCP_COND_CMP);
	CU_ASSERT_EQUAL(c->kids[1]->kind, RCP_COND_AND);
	CU_ASSERT_EQUAL(c->kids[1]->n_kids, 2);
	rcp_file_free(f);

	/* parentheses override it, may span lines, and keep their shape */
	f = parse_ok("recipe \"p\"\nwhen (a.x.y/1 == 1 or\n   a.x.y/2 == 2) and a.x.y/3 == 3 and "
		     "a.x.y/4 == 4\ndo a.x.y/z\n");
	CU_ASSERT_FATAL(f != NULL);
	c = f->recipes[0]->when;
	CU_ASSERT_EQUAL_FATAL(c->kind, RCP_COND_AND);
	CU_ASSERT_EQUAL_FATAL(c->n_kids, 3);
	CU_ASSERT_EQUAL(c->kids[0]->kind, RCP_COND_OR);
	CU_ASSERT_EQUAL(c->kids[0]->kids[1]->line, 3);
	CU_ASSERT_EQUAL(c->kids[0]->kids[1]->col, 4);
	ntm_free(round_trip(f));
	rcp_file_free(f);

	/* (a and b) and c is not flattened: the printer keeps the group */
	f = parse_ok("recipe \"p\"\nwhen ((a.x.y/1 == 1 and a.x.y/2 == 2)) and a.x.y/3 == 3\n"
		     "do a.x.y/z\n");
	CU_ASSERT_FATAL(f != NULL);
	c = f->recipes[0]->when;
	CU_ASSERT_EQUAL(c->n_kids, 2);
	CU_ASSERT_EQUAL(c->kids[0]->kind, RCP_COND_AND);
	rcp_file_free(f);
}

static void test_canonical_print(void)
{
	static const char in[] =
		"recipe \"r\"\nwhen a.example.net/t>=20.500 for 3600000ms or "
		"(b.example.net/s==\"on\" "
		"and b.example.net/n==true) level every 90s\n do c.example.net/p off   x=ok\n"
		"notify owner \"done\"\n";
	static const char want[] =
		"recipe \"r\"\n"
		"  when a.example.net/t >= 20.5 for 1h or (b.example.net/s == \"on\" and "
		"b.example.net/n == true) level every 90s\n"
		"  do c.example.net/p false x=ok\n"
		"  notify owner \"done\"\n";
	struct rcp_file *f = parse_ok(in);
	char *text;

	CU_ASSERT_FATAL(f != NULL);
	text = round_trip(f);
	CU_ASSERT_STRING_EQUAL(text, want);
	ntm_free(text);
	rcp_file_free(f);
}

/* "within D": the recipe's delivery TTL, printed back and kept by JSON. */
static void test_within(void)
{
	static const char in[] = "recipe \"t\"\nwhen a.example.net/t > 1 level every 1m "
				 "within 90s\ndo b.example.net/p on\n";
	struct rcp_file *f = parse_ok(in), *g = NULL;
	struct rcp_error err;
	char *text, *json = NULL;

	CU_ASSERT_FATAL(f != NULL);
	CU_ASSERT_EQUAL(f->recipes[0]->ttl_ms, 90000);
	text = round_trip(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, " level every 1m within 90s\n"));
	ntm_free(text);
	CU_ASSERT_EQUAL_FATAL(rcp_json_print(f, &json), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"ttl_ms\":90000"));
	CU_ASSERT_EQUAL(rcp_json_parse(json, strlen(json), &g, &err), 0);
	CU_ASSERT_TRUE(rcp_file_eq(f, g));
	rcp_file_free(g);
	ntm_free(json);
	rcp_file_free(f);
	expect_error("recipe \"a\"\nwhen a.b.c/t == 1 within 25h\ndo a.b.c/x\n",
		     "2:26: expected a duration of 1s to 24h after 'within'");
	expect_error("recipe \"a\"\nwhen a.b.c/t == 1 within 500ms\ndo a.b.c/x\n",
		     "2:26: expected a duration of 1s to 24h after 'within'");
	expect_error("recipe \"a\"\nwhen a.b.c/t == within\ndo a.b.c/x\n",
		     "2:17: expected a value, found keyword 'within'");
}

static void test_errors(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "recipe \"a\"\nwhen a.b.c/t > 1 for 0s\ndo a.b.c/x\n",
		  "2:22: duration must be more than 0 and at most 1 week" },
		{ "recipe \"a\"\nwhen a.b.c/t > 1 junk\ndo a.b.c/x\n",
		  "2:18: unexpected 'junk' after the condition" },
		{ "recipe \"a\"\nwhen a.b.c/t > 1\ndo a.b.c/x on 5\n",
		  "3:15: unexpected number after the action" },
		{ "recipe \"a\"\nwhen a.b.c/t > 1\ndo a.b.c/x\n\nrecipe \"a\"\nwhen a.b.c/t > 1\n"
		  "do a.b.c/x\n",
		  "5:1: duplicate recipe name \"a\" (first at line 1)" },
		{ "recipe \"a\"\nwhen a/t > 1\ndo a.b.c/x\n",
		  "2:6: bad resource 'a/t': host name needs at least two labels (an FQDN)" },
		{ "recipe \"a\"\nwhen a-.b.c/t > 1\ndo a.b.c/x\n",
		  "2:6: bad resource 'a-.b.c/t': host name label starts or ends with '-'" },
		{ "recipe \"a\"\nwhen a..b/t > 1\ndo a.b.c/x\n",
		  "2:6: bad resource 'a..b/t': empty label in host name" },
		{ "recipe \"a\"\nwhen a.b.c/ > 1\ndo a.b.c/x\n",
		  "2:6: bad resource 'a.b.c/': missing resource after '/'" },
		{ "recipe \"a\"\nwhen a.b.c/t > hot\ndo a.b.c/x\n", "2:16: '>' needs a number" },
		{ "recipe \"a\"\nwhen a.b.c/t = 1\ndo a.b.c/x\n",
		  "2:14: expected a comparison operator, found '='" },
		{ "recipe \"a\"\nwhen (a.b.c/t == 1\ndo a.b.c/x\n",
		  "3:1: expected ')', found 'do'" },
		{ "recipe \"a\"\nwhen a.b.c/t == 1\nfoo a.b.c/x\n",
		  "3:1: expected 'do' or 'notify', found 'foo'" },
		{ "recipe \"a\"\nwhen a.b.c/t == 1\n",
		  "3:1: expected 'do' or 'notify', found end of input" },
		{ "recipe \"a\"\ndo a.b.c/x\n", "2:1: expected 'when', found 'do'" },
		{ "recipe a\n", "1:8: expected a quoted recipe name after 'recipe'" },
		{ "recipe \"a b\"\n",
		  "1:8: bad recipe name (1-64 of A-Z a-z 0-9 _ . -, starting with a "
		  "letter or digit)" },
		{ "when a.b.c/t == 1\n", "1:1: expected 'recipe', found 'when'" },
		{ "recipe \"a\"\nwhen a.b.c/t == 1\ndo a.b.c/x\nwhen a.b.c/t == 2\n",
		  "4:1: expected 'do', 'notify' or 'recipe', found 'when'" },
		{ "recipe \"a\"\nwhen a.b.c/t == for\ndo a.b.c/x\n",
		  "2:17: expected a value, found keyword 'for'" },
		{ "recipe \"a\"\nwhen a.b.c/t == 1 for 1.5s\ndo a.b.c/x\n",
		  "2:23: bad number '1.5s'" },
		{ "recipe \"a\"\nwhen a.b.c/t == 1 for 10d\ndo a.b.c/x\n",
		  "2:23: bad number or duration '10d'" },
		{ "recipe \"a\"\nwhen a.b.c/t == 1 for 169h\ndo a.b.c/x\n",
		  "2:23: duration must be more than 0 and at most 1 week" },
		{ "recipe \"a\"\nwhen a.b.c/t == 1 level every\ndo a.b.c/x\n",
		  "2:30: expected a duration after 'every' (e.g. 5m)" },
		{ "recipe \"a\"\nwhen a.b.c/t == \"x\ndo a.b.c/x\n", "2:17: unterminated string" },
		{ "recipe \"a\"\nwhen a.b.c/t == \"a\\tb\"\ndo a.b.c/x\n",
		  "2:19: unknown escape in string (only \\\" and \\\\)" },
		{ "recipe \"a\"\nwhen a.b.c/t == 1\ndo a.b.c/x a=1 a=2\n",
		  "3:16: duplicate parameter 'a'" },
		{ "recipe \"a\"\nwhen a.b.c/t == 1\ndo a.b.c/x for=1\n",
		  "3:12: expected name=value, found 'for'" },
		{ "recipe \"a\"\nwhen a.b.c/t == 1\nnotify someone\n",
		  "3:8: expected 'owner' or FQDN/resource after 'notify'" },
		{ "recipe \"a\"\nwhen a.b.c/t == 1 & a.b.c/u == 2\ndo a.b.c/x\n",
		  "2:19: unexpected character '&'" },
		{ "recipe \"a\"\nwhen a.b.c/t == 1\ndo a.b.c/x \x01\n",
		  "3:12: unexpected byte 0x01" },
		{ "recipe \"a\"\nwhen a.b.c/t == 1234567890123\ndo a.b.c/x\n",
		  "2:17: number out of range (at most 12 digits, 6 decimals)" },
		{ "recipe \"a\"\nwhen a.b.c/t == 1.1234567\ndo a.b.c/x\n",
		  "2:17: number out of range (at most 12 digits, 6 decimals)" },
		{ "recipe \"a\"\nwhen a.b.c/t == foo.bar\ndo a.b.c/x\n",
		  "2:17: 'foo.bar' is not a word (a resource is FQDN/name)" },
		{ "recipe \"a\"\nwhen a.b.c/t == \"\xc3\x28\"\ndo a.b.c/x\n",
		  "2:17: invalid UTF-8" },
		{ "recipe \"a\"\nwhen a.b.c/t == 1)\ndo a.b.c/x\n",
		  "2:18: unexpected ')' after the condition" },
		{ "recipe \"a\"\nwhen a.b.c/t ! 1\ndo a.b.c/x\n",
		  "2:14: unexpected '!' (did you mean '!='?)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_error(cases[i].text, cases[i].want);
	}
}

/* "recipe \"l\"\nwhen " + n comparisons joined by " and " + "\ndo a.b.c/x\n" */
static char *many_conds(size_t n)
{
	char *s = ntm_malloc(64 + n * 40);
	size_t len;

	len = (size_t)sprintf(s, "recipe \"l\"\nwhen ");
	for (size_t i = 0; i < n; i++) {
		len += (size_t)sprintf(s + len, "%sa.b.c/r%zu == %zu", i ? " and " : "", i, i);
	}
	sprintf(s + len, "\ndo a.b.c/x\n");
	return s;
}

static char *nested(unsigned depth)
{
	char *s = ntm_malloc(256 + depth * 40);
	size_t len = (size_t)sprintf(s, "recipe \"n\"\nwhen ");

	for (unsigned i = 0; i < depth; i++) {
		len += (size_t)sprintf(s + len, "(a.b.c/r%u == 1 or ", i);
	}
	len += (size_t)sprintf(s + len, "a.b.c/x == 1");
	for (unsigned i = 0; i < depth; i++) {
		s[len++] = ')';
	}
	sprintf(s + len, "\ndo a.b.c/x\n");
	return s;
}

static void check_limit(char *ok, char *bad, const char *want)
{
	struct rcp_file *f = parse_ok(ok);

	ntm_free(round_trip(f));
	rcp_file_free(f);
	expect_error(bad, want);
	ntm_free(ok);
	ntm_free(bad);
}

static char *actions(size_t n, size_t params)
{
	char *s = ntm_malloc(64 + n * 20 + params * 8);
	size_t len = (size_t)sprintf(s, "recipe \"a\"\nwhen a.b.c/t == 1\n");

	for (size_t i = 0; i < n; i++) {
		len += (size_t)sprintf(s + len, "do a.b.c/x");
		for (size_t k = 0; k < params; k++) {
			len += (size_t)sprintf(s + len, " p%zu=%zu", k, k);
		}
		len += (size_t)sprintf(s + len, "\n");
	}
	return s;
}

static char *name_of(size_t n)
{
	char *s = ntm_malloc(n + 64);

	strcpy(s, "recipe \"");
	memset(s + 8, 'n', n);
	strcpy(s + 8 + n, "\"\nwhen a.b.c/t == 1\ndo a.b.c/x\n");
	return s;
}

static void test_limits(void)
{
	char *big;
	struct rcp_file *f = (struct rcp_file *)1;
	struct rcp_error err;

	check_limit(many_conds(RCP_CONDS_MAX), many_conds(RCP_CONDS_MAX + 1),
		    "2:626: more than 32 comparisons in one condition");
	check_limit(nested(RCP_DEPTH_MAX), nested(RCP_DEPTH_MAX + 1),
		    "2:150: parentheses nested deeper than 8");
	check_limit(actions(RCP_ACTIONS_MAX, 0), actions(RCP_ACTIONS_MAX + 1, 0),
		    "19:1: more than 16 actions in one recipe");
	check_limit(actions(1, RCP_PARAMS_MAX), actions(1, RCP_PARAMS_MAX + 1),
		    "3:52: more than 8 parameters");
	check_limit(name_of(RCP_NAME_MAX), name_of(RCP_NAME_MAX + 1),
		    "1:8: bad recipe name (1-64 of A-Z a-z 0-9 _ . -, starting with a letter or "
		    "digit)");

	/* Text larger than RCP_TEXT_MAX is refused before parsing. */
	big = ntm_calloc(1, RCP_TEXT_MAX + 2);
	memset(big, '\n', RCP_TEXT_MAX + 1);
	CU_ASSERT_EQUAL(rcp_parse(big, RCP_TEXT_MAX + 1, &f, &err), -EMSGSIZE);
	CU_ASSERT_PTR_NULL(f);
	CU_ASSERT_EQUAL(rcp_parse(big, RCP_TEXT_MAX, &f, &err), 0);
	CU_ASSERT_EQUAL(f->n, 0);
	rcp_file_free(f);
	ntm_free(big);
}

static void test_identifier_and_string_limits(void)
{
	char text[1024];
	char word[RCP_IDENT_MAX + 2];
	char str[RCP_STRING_MAX + 2];
	struct rcp_file *f;

	memset(word, 'w', sizeof(word) - 1);
	word[RCP_IDENT_MAX] = '\0';
	snprintf(text, sizeof(text), "recipe \"a\"\nwhen a.b.c/t == %s\ndo a.b.c/x\n", word);
	f = parse_ok(text);
	rcp_file_free(f);
	word[RCP_IDENT_MAX] = 'w';
	word[RCP_IDENT_MAX + 1] = '\0';
	snprintf(text, sizeof(text), "recipe \"a\"\nwhen a.b.c/t == %s\ndo a.b.c/x\n", word);
	expect_error(text, "2:17: word longer than 32 bytes: 'wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww'");

	memset(str, 's', sizeof(str) - 1);
	str[RCP_STRING_MAX] = '\0';
	snprintf(text, sizeof(text), "recipe \"a\"\nwhen a.b.c/t == \"%s\"\ndo a.b.c/x\n", str);
	f = parse_ok(text);
	rcp_file_free(f);
	str[RCP_STRING_MAX] = 's';
	str[RCP_STRING_MAX + 1] = '\0';
	snprintf(text, sizeof(text), "recipe \"a\"\nwhen a.b.c/t == \"%s\"\ndo a.b.c/x\n", str);
	expect_error(text, "2:17: string longer than 256 bytes");
}

static void test_alloc_failure(void)
{
	static const char text[] =
		"recipe \"a\"\nwhen (a.b.c/t > 1 or a.b.c/u == x) and a.b.c/v != "
		"\"s\"\ndo a.b.c/x heat p=1 q=\"r\"\nnotify owner \"m\"\n\n"
		"recipe \"b\"\nwhen a.b.c/t > 2 level every 1m\ndo a.b.c/y\n";
	struct rcp_file *f, *ref = parse_ok(text);
	struct rcp_error err;
	char *s;
	long n;
	int rc = -ENOMEM;

	for (n = 0; rc == -ENOMEM && n < 10000; n++) {
		f = (struct rcp_file *)1;
		ntm_alloc_fail_after(n);
		rc = rcp_parse(text, sizeof(text) - 1, &f, &err);
		ntm_alloc_fail_reset();
		if (rc == -ENOMEM) {
			CU_ASSERT_PTR_NULL(f);
			CU_ASSERT_STRING_EQUAL(err.msg, "out of memory");
		}
	}
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(n > 10);
	CU_ASSERT_TRUE(rcp_file_eq(f, ref));
	rcp_file_free(f);

	rc = -ENOMEM;
	for (n = 0; rc == -ENOMEM && n < 1000; n++) {
		ntm_alloc_fail_after(n);
		rc = rcp_file_print(ref, &s);
		ntm_alloc_fail_reset();
		if (rc == -ENOMEM) {
			CU_ASSERT_PTR_NULL(s);
		}
	}
	CU_ASSERT_EQUAL(rc, 0);
	ntm_free(s);
	rcp_file_free(ref);
}

static void test_value_helpers(void)
{
	struct rcp_value v, w;

	CU_ASSERT_EQUAL(rcp_value_set_double(&v, 21.25), 0);
	CU_ASSERT_EQUAL(v.num, 21250000);
	CU_ASSERT_EQUAL(rcp_value_set_double(&v, -0.0000004), 0);
	CU_ASSERT_EQUAL(v.num, 0);
	CU_ASSERT_EQUAL(rcp_value_set_double(&v, 1e12), -ERANGE);
	CU_ASSERT_EQUAL(rcp_value_set_double(&v, 0.0 / 0.0), -ERANGE);
	CU_ASSERT_EQUAL(rcp_value_set_text(&v, "bad\ntext"), -EINVAL);
	CU_ASSERT_EQUAL(rcp_value_set_text(&v, "absent"), 0);
	CU_ASSERT_EQUAL(rcp_value_copy(&w, &v), 0);
	CU_ASSERT_TRUE(rcp_value_eq(&v, &w));
	CU_ASSERT_EQUAL(rcp_value_compare(&w, RCP_OP_EQ, &v), 1);
	CU_ASSERT_EQUAL(rcp_value_compare(&w, RCP_OP_NE, &v), 0);
	CU_ASSERT_EQUAL(rcp_value_compare(NULL, RCP_OP_NE, &v), -1);
	rcp_value_fini(&w);
	CU_ASSERT_EQUAL(rcp_value_set_double(&w, 3), 0);
	CU_ASSERT_EQUAL(rcp_value_compare(&w, RCP_OP_NE, &v), -1);
	rcp_value_fini(&v);
	CU_ASSERT_TRUE(rcp_is_resource_ref("a.example.net/x/y~z", 19));
	CU_ASSERT_FALSE(rcp_is_resource_ref("a.example.net/x/../y", 20));
	CU_ASSERT_FALSE(rcp_is_resource_ref("a.example.net/x//y", 18));
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_issue_example), NTM_TEST(test_values_and_layout),
	NTM_TEST(test_precedence),    NTM_TEST(test_canonical_print),
	NTM_TEST(test_within),	      NTM_TEST(test_errors),
	NTM_TEST(test_limits),	      NTM_TEST(test_identifier_and_string_limits),
	NTM_TEST(test_alloc_failure), NTM_TEST(test_value_helpers),
};

NTM_TEST_MAIN("recipe_parse", cases)
