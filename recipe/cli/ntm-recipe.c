/* SPDX-License-Identifier: MIT */
/*
 * ntm-recipe: the command-line client of ntm-recipe-server (see
 * ntm-recipe(1)). One HTTP request per command; the answer is printed as
 * lines (or the raw JSON with --json). Exit codes as ntmctl: 0 ok, 1 error,
 * 2 unknown name (404), 3 timeout.
 */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "recipe/web/httpc.h"
#include "recipe/web/token.h"
#include "recipe/recipe.h"

enum { EXIT_ERR = 1, EXIT_UNKNOWN = 2, EXIT_TIMEOUT = 3 };

struct cli {
	const char *url, *token_file, *file;
	bool json;
	char token[RCP_TOKEN_TEXT];
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ntm-recipe [-u URL] [-t TOKENFILE] [--json] COMMAND [ARGS]\n"
		"  -u, --url URL          recipe server (default $NTM_RECIPE_URL or\n"
		"                         http://127.0.0.1:8480)\n"
		"  -t, --token FILE       API token file, mode 0600 (default $NTM_RECIPE_TOKEN)\n"
		"      --json             print the server's JSON answer\n"
		"  -h, --help             this text\n"
		"Commands:\n"
		"  device add VENDORID [VENDOR]   bind a device through its vendor's devmgr\n"
		"  device list\n"
		"  recipe add FILE                register recipes (text or JSON; - for stdin)\n"
		"  recipe list\n"
		"  recipe show NAME               its text, then DEVICE STATUS lines\n"
		"  recipe replace NAME FILE       a new version of recipe NAME (text or JSON)\n"
		"  recipe delete NAME             remove it from its devices\n"
		"  events                         the user's notifications\n"
		"  user add NAME                  (admin token) create a user, print its token\n"
		"  gentoken                       print a new random token (for token files)\n"
		"Exit: 0 ok, 1 error, 2 unknown name, 3 timeout. See ntm-recipe(1).\n");
}

/* Read a whole file (or stdin for "-"), at most RCP_TEXT_MAX * 4 bytes. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	size_t cap = 4 * RCP_TEXT_MAX;
	char *buf = ntm_malloc(cap + 1);

	*len = 0;
	if (f == NULL || buf == NULL) {
		fprintf(stderr, "ntm-recipe: %s: %s\n", path, strerror(f == NULL ? errno : ENOMEM));
		ntm_free(buf);
		return NULL;
	}
	*len = fread(buf, 1, cap + 1, f);
	if (f != stdin) {
		fclose(f);
	}
	if (*len > cap) {
		fprintf(stderr, "ntm-recipe: %s: over %zu bytes\n", path, cap);
		ntm_free(buf);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

static const char *field(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : "";
}

/* Print one answer in lines; `kind` selects the layout. */
static void print_rows(const char *kind, struct json_object *o)
{
	size_t n = json_object_is_type(o, json_type_array) ? json_object_array_length(o) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(o, i);

		if (strcmp(kind, "devices") == 0) {
			printf("%s %s %s %s\n", field(e, "vendor"), field(e, "id"),
			       field(e, "fqdn"), field(e, "model"));
		} else if (strcmp(kind, "recipes") == 0) {
			const char *st = field(e, "state");

			/* "NAME DEVICES", and the state unless it is live. */
			printf("%s %s%s%s\n", field(e, "name"), field(e, "devices"),
			       st[0] != '\0' && strcmp(st, "live") != 0 ? " " : "",
			       strcmp(st, "live") != 0 ? st : "");
		} else if (strcmp(kind, "deliveries") == 0) {
			const char *why = field(e, "reason");

			/* "DEVICE STATUS", and the device's reason after a refusal. */
			printf("%s %s%s%s\n", field(e, "device"), field(e, "status"),
			       why[0] != '\0' ? ": " : "", why);
		} else {
			char ts[32];
			time_t t = (time_t)json_object_get_int64(json_object_object_get(e, "time"));

			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
			printf("%s %s\n", ts, field(e, "text"));
		}
	}
}

static void print_ok(const struct cli *c, const char *kind, struct json_object *o)
{
	struct json_object *v;

	if (strcmp(kind, "show") == 0) {
		printf("%s", field(o, "text"));
		if (json_object_object_get_ex(o, "deliveries", &v)) {
			print_rows("deliveries", v);
		}
	} else if (strcmp(kind, "replaced") == 0) {
		printf("replaced %s %s\n", field(o, "name"), field(o, "version"));
	} else if (strcmp(kind, "deleting") == 0) {
		printf("%s %s\n", field(o, "name"), field(o, "state"));
	} else if (strcmp(kind, "user") == 0) {
		printf("%s\n", field(o, "token"));
	} else if (strcmp(kind, "device") == 0) {
		printf("%s %s %s\n", field(o, "fqdn"), field(o, "model"), field(o, "links"));
	} else if (strcmp(kind, "added") == 0) {
		size_t n = json_object_array_length(json_object_object_get(o, "registered"));

		for (size_t i = 0; i < n; i++) {
			printf("registered %s\n",
			       json_object_get_string(json_object_array_get_idx(
				       json_object_object_get(o, "registered"), i)));
		}
	} else {
		print_rows(kind, o);
	}
}

/* The error line; a syntax error from "recipe add" reads FILE:LINE:COL. */
static int print_err(const struct cli *c, unsigned status, struct json_object *o)
{
	int line = json_object_get_int(json_object_object_get(o, "line"));
	int col = json_object_get_int(json_object_object_get(o, "col"));

	if (c->file != NULL && line > 0) {
		const char *msg = field(o, "error"), *p = strstr(msg, ": ");

		fprintf(stderr, "%s:%d:%d: %s\n", c->file, line, col, p != NULL ? p + 2 : msg);
	} else {
		fprintf(stderr, "ntm-recipe: %u: %s\n", status,
			o != NULL ? field(o, "error") : "(no JSON answer)");
	}
	return status == 404 ? EXIT_UNKNOWN : EXIT_ERR;
}

static int run(const struct cli *c, const char *method, const char *path, const char *ctype,
	       const char *body, size_t len, const char *kind)
{
	struct rcp_httpc_resp r;
	struct json_object *o;
	char why[512] = "";
	int rc = rcp_httpc_request(c->url, method, path, c->token[0] ? c->token : NULL, ctype, body,
				   len, &r, why, sizeof(why));

	if (rc < 0) {
		fprintf(stderr, "ntm-recipe: %s\n", why);
		return rc == -ETIMEDOUT ? EXIT_TIMEOUT : EXIT_ERR;
	}
	o = json_tokener_parse(r.body);
	if (r.status >= 200 && r.status < 300 && o != NULL) {
		if (c->json) {
			printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		} else {
			print_ok(c, kind, o);
		}
		rc = 0;
	} else {
		rc = print_err(c, r.status, o);
	}
	json_object_put(o);
	ntm_free(r.body);
	return rc;
}

/* A JSON object body with string members k[i] = v[i] (n of them). */
static char *json_body(const char *const *k, const char *const *v, size_t n)
{
	struct json_object *o = json_object_new_object();
	char *s;

	for (size_t i = 0; i < n; i++) {
		json_object_object_add(o, k[i], json_object_new_string(v[i]));
	}
	s = ntm_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static int cmd_post_json(const struct cli *c, const char *path, const char *const *k,
			 const char *const *v, size_t n, const char *kind)
{
	char *body = json_body(k, v, n);
	int rc = body != NULL ? run(c, "POST", path, NULL, body, strlen(body), kind) : EXIT_ERR;

	ntm_free(body);
	return rc;
}

static int cmd_recipe_add(struct cli *c, const char *file)
{
	size_t len;
	char *text = slurp(file, &len);
	int rc;

	if (text == NULL) {
		return EXIT_ERR;
	}
	c->file = file;
	rc = run(c, "POST", "/v1/recipes", "text/plain", text, len, "added");
	ntm_free(text);
	return rc;
}

/* /v1/recipes/NAME into path; false (and said) for a malformed name. */
static bool recipe_path(const char *name, char path[128])
{
	if (!rcp_is_recipe_name(name, strlen(name)) || strlen(name) > RCP_NAME_MAX) {
		fprintf(stderr, "ntm-recipe: %s: not a recipe name\n", name);
		return false;
	}
	snprintf(path, 128, "/v1/recipes/%s", name);
	return true;
}

static int cmd_recipe_show(const struct cli *c, const char *name)
{
	char path[128];

	return recipe_path(name, path) ? run(c, "GET", path, NULL, NULL, 0, "show") : EXIT_ERR;
}

static int cmd_recipe_delete(const struct cli *c, const char *name)
{
	char path[128];

	return recipe_path(name, path) ? run(c, "DELETE", path, NULL, NULL, 0, "deleting")
				       : EXIT_ERR;
}

static int cmd_recipe_replace(struct cli *c, const char *name, const char *file)
{
	char path[128], *text;
	size_t len;
	int rc;

	if (!recipe_path(name, path) || (text = slurp(file, &len)) == NULL) {
		return EXIT_ERR;
	}
	c->file = file;
	rc = run(c, "PUT", path, "text/plain", text, len, "replaced");
	ntm_free(text);
	return rc;
}

static int dispatch(struct cli *c, int argc, char **argv)
{
	const char *a = argc > 0 ? argv[0] : "", *b = argc > 1 ? argv[1] : "";
	static const char *const dev_keys[] = { "id", "vendor" };
	static const char *const user_keys[] = { "name" };

	if (strcmp(a, "device") == 0 && strcmp(b, "add") == 0 && (argc == 3 || argc == 4)) {
		return cmd_post_json(c, "/v1/devices", dev_keys, (const char *const *)argv + 2,
				     (size_t)argc - 2, "device");
	}
	if (strcmp(a, "device") == 0 && strcmp(b, "list") == 0 && argc == 2) {
		return run(c, "GET", "/v1/devices", NULL, NULL, 0, "devices");
	}
	if (strcmp(a, "recipe") == 0 && strcmp(b, "add") == 0 && argc == 3) {
		return cmd_recipe_add(c, argv[2]);
	}
	if (strcmp(a, "recipe") == 0 && strcmp(b, "list") == 0 && argc == 2) {
		return run(c, "GET", "/v1/recipes", NULL, NULL, 0, "recipes");
	}
	if (strcmp(a, "recipe") == 0 && strcmp(b, "show") == 0 && argc == 3) {
		return cmd_recipe_show(c, argv[2]);
	}
	if (strcmp(a, "recipe") == 0 && strcmp(b, "delete") == 0 && argc == 3) {
		return cmd_recipe_delete(c, argv[2]);
	}
	if (strcmp(a, "recipe") == 0 && strcmp(b, "replace") == 0 && argc == 4) {
		return cmd_recipe_replace(c, argv[2], argv[3]);
	}
	if (strcmp(a, "events") == 0 && argc == 1) {
		return run(c, "GET", "/v1/events", NULL, NULL, 0, "events");
	}
	if (strcmp(a, "user") == 0 && strcmp(b, "add") == 0 && argc == 3) {
		return cmd_post_json(c, "/v1/users", user_keys, (const char *const *)argv + 2, 1,
				     "user");
	}
	fprintf(stderr, "ntm-recipe: unknown command or wrong arguments (see --help)\n");
	return EXIT_ERR;
}

static int load_token(struct cli *c)
{
	char why[512];

	if (c->token_file == NULL) {
		fprintf(stderr, "ntm-recipe: no token file (-t FILE or $NTM_RECIPE_TOKEN)\n");
		return EXIT_ERR;
	}
	if (rcp_token_read_file(c->token_file, c->token, why, sizeof(why)) < 0) {
		fprintf(stderr, "ntm-recipe: %s\n", why);
		return EXIT_ERR;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "token", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { .url = getenv("NTM_RECIPE_URL"),
			 .token_file = getenv("NTM_RECIPE_TOKEN") };
	char fresh[RCP_TOKEN_TEXT];
	int opt, rc;

	if (sodium_init() < 0) {
		return EXIT_ERR;
	}
	while ((opt = getopt_long(argc, argv, "+u:t:h", longs, NULL)) != -1) {
		switch (opt) {
		case 'u':
			c.url = optarg;
			break;
		case 't':
			c.token_file = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_ERR;
		}
	}
	if (c.url == NULL) {
		c.url = "http://127.0.0.1:8480";
	}
	if (optind < argc && strcmp(argv[optind], "gentoken") == 0 && optind + 1 == argc) {
		rcp_token_generate(fresh);
		printf("%s\n", fresh);
		return 0;
	}
	if (optind == argc) {
		usage(stderr);
		return EXIT_ERR;
	}
	rc = load_token(&c);
	if (rc == 0) {
		rc = dispatch(&c, argc - optind, argv + optind);
	}
	sodium_memzero(c.token, sizeof(c.token));
	return rc;
}
