/* SPDX-License-Identifier: MIT */
/* Control protocol codecs and the permission rule (pure; no sockets). */
#include "common/ctl.h"

#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "ntm_test.h"

static void test_perm_allows(void)
{
	CU_ASSERT_TRUE(ntm_ctl_perm_allows(NTM_CTL_READ, 1000, 0));
	CU_ASSERT_TRUE(ntm_ctl_perm_allows(NTM_CTL_READ, 1000, 2000));
	CU_ASSERT_TRUE(ntm_ctl_perm_allows(NTM_CTL_WRITE, 0, 2000));
	CU_ASSERT_TRUE(ntm_ctl_perm_allows(NTM_CTL_WRITE, 2000, 2000));
	CU_ASSERT_TRUE(ntm_ctl_perm_allows(NTM_CTL_WRITE, 0, 0));
	CU_ASSERT_FALSE(ntm_ctl_perm_allows(NTM_CTL_WRITE, 1000, 2000));
	CU_ASSERT_FALSE(ntm_ctl_perm_allows(NTM_CTL_WRITE, 1000, 0));
}

static int parse(const char *s, struct ntm_ctl_request *req)
{
	const char *why = NULL;
	int rc = ntm_ctl_request_parse(s, strlen(s), req, &why);

	CU_ASSERT_TRUE(rc == 0 ? why == NULL : why != NULL);
	return rc;
}

static void test_request_parse(void)
{
	static const char *const bad[] = {
		"",
		"{",
		"[]",
		"\"peers\"",
		"{}",
		"{\"cmd\":1}",
		"{\"cmd\":\"\"}",
		"{\"cmd\":\"Peers\"}",
		"{\"cmd\":\"a b\"}",
		"{\"cmd\":\"a\\u0000b\"}",
		"{\"cmd\":\"peers\",\"args\":[]}",
		"{\"cmd\":\"peers\",\"args\":1}",
		"{\"cmd\":\"peers\",\"x\":1}",
		"{\"cmd\":\"peers\"} {}",
		"{\"cmd\":\"peers\"}x",
		"{\"cmd\":\"peers\",}",
		"{\"cmd\":\"\xff\"}",
		"{\"cmd\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
	};
	struct ntm_ctl_request req;

	CU_ASSERT_EQUAL(parse("{\"cmd\":\"peers\"}", &req), 0);
	CU_ASSERT_STRING_EQUAL(req.cmd, "peers");
	CU_ASSERT_TRUE(json_object_is_type(req.args, json_type_object));
	CU_ASSERT_EQUAL(json_object_object_length(req.args), 0);
	ntm_ctl_request_fini(&req);
	CU_ASSERT_EQUAL(
		parse(" {\"args\":{\"fqdn\":\"a.example\"},\"cmd\":\"token.create\"} \r", &req), 0);
	CU_ASSERT_STRING_EQUAL(req.cmd, "token.create");
	CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_object_get(req.args, "fqdn")),
			       "a.example");
	ntm_ctl_request_fini(&req);
	CU_ASSERT_EQUAL(parse("{\"cmd\":\"x\",\"args\":null}", &req), 0);
	CU_ASSERT_PTR_NOT_NULL(req.args);
	ntm_ctl_request_fini(&req);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(parse(bad[i], &req), -EBADMSG);
		CU_ASSERT_PTR_NULL(req.args);
	}
	/* A NUL byte inside the line. */
	const char *why;
	CU_ASSERT_EQUAL(ntm_ctl_request_parse("{\"cmd\":\"a\"}\0", 12, &req, &why), -EBADMSG);
	/* Depth beyond NTM_CTL_JSON_DEPTH. */
	char deep[256];
	int n = snprintf(deep, sizeof(deep), "{\"cmd\":\"a\",\"args\":{\"x\":");
	for (int i = 0; i < 40; i++) {
		deep[n++] = '[';
	}
	deep[n] = '\0';
	CU_ASSERT_EQUAL(parse(deep, &req), -EBADMSG);
}

static void test_request_size_limit(void)
{
	size_t len = NTM_CTL_REQUEST_MAX + 1;
	char *big = ntm_malloc(len);
	struct ntm_ctl_request req;
	const char *why;
	int n;

	CU_ASSERT_FATAL(big != NULL);
	/* Exactly at the limit: a valid request padded with spaces. */
	memset(big, ' ', len);
	n = snprintf(big, len, "{\"cmd\":\"a\"}");
	big[n] = ' ';
	CU_ASSERT_EQUAL(ntm_ctl_request_parse(big, NTM_CTL_REQUEST_MAX, &req, &why), 0);
	ntm_ctl_request_fini(&req);
	CU_ASSERT_EQUAL(ntm_ctl_request_parse(big, NTM_CTL_REQUEST_MAX + 1, &req, &why), -EMSGSIZE);
	ntm_free(big);
}

static void test_request_encode_round_trip(void)
{
	json_object *args = json_object_new_object();
	struct ntm_ctl_request req;
	size_t len;
	char *line;

	json_object_object_add(args, "fqdn", json_object_new_string("a\nb\"c/d"));
	line = ntm_ctl_request_encode("resolve", args, &len);
	CU_ASSERT_FATAL(line != NULL);
	CU_ASSERT_EQUAL(strlen(line), len);
	/* One line: the only newline is the terminator. */
	CU_ASSERT_PTR_EQUAL(strchr(line, '\n'), line + len - 1);
	CU_ASSERT_EQUAL(parse(line, &req), 0);
	CU_ASSERT_STRING_EQUAL(req.cmd, "resolve");
	CU_ASSERT_TRUE(json_object_equal(req.args, args));
	ntm_ctl_request_fini(&req);
	ntm_free(line);
	json_object_put(args);
	line = ntm_ctl_request_encode("status", NULL, &len);
	CU_ASSERT_STRING_EQUAL(line, "{\"cmd\":\"status\"}\n");
	ntm_free(line);
}

static void test_response_parse(void)
{
	static const char *const bad[] = {
		"{}",
		"[]",
		"{\"ok\":1}",
		"{\"ok\":true}",
		"{\"ok\":false}",
		"{\"ok\":false,\"code\":\"unknown\"}",
		"{\"ok\":false,\"code\":1,\"error\":\"x\"}",
		"{\"ok\":true,\"data\":1",
		"",
	};
	struct ntm_ctl_response r;
	json_object *obj;
	const char *s;

	s = "{\"ok\":true,\"data\":[1,2]}\n";
	CU_ASSERT_EQUAL(ntm_ctl_response_parse(s, strlen(s), &obj), 0);
	CU_ASSERT_EQUAL(ntm_ctl_response_decode(obj, &r), 0);
	CU_ASSERT_TRUE(r.ok);
	CU_ASSERT_EQUAL(json_object_array_length(r.data), 2);
	json_object_put(obj);
	s = "{\"ok\":true,\"data\":null}";
	CU_ASSERT_EQUAL(ntm_ctl_response_parse(s, strlen(s), &obj), 0);
	CU_ASSERT_EQUAL(ntm_ctl_response_decode(obj, &r), 0);
	CU_ASSERT_PTR_NULL(r.data);
	json_object_put(obj);
	s = "{\"ok\":false,\"code\":\"timeout\",\"error\":\"slow\"}";
	CU_ASSERT_EQUAL(ntm_ctl_response_parse(s, strlen(s), &obj), 0);
	CU_ASSERT_EQUAL(ntm_ctl_response_decode(obj, &r), 0);
	CU_ASSERT_FALSE(r.ok);
	CU_ASSERT_EQUAL(r.code, NTM_CTL_E_TIMEOUT);
	CU_ASSERT_STRING_EQUAL(r.error, "slow");
	json_object_put(obj);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(ntm_ctl_response_parse(bad[i], strlen(bad[i]), &obj), -EBADMSG);
		CU_ASSERT_PTR_NULL(obj);
	}
}

static void test_code_names(void)
{
	for (int c = NTM_CTL_E_UNKNOWN; c <= NTM_CTL_E_ERROR; c++) {
		CU_ASSERT_EQUAL(ntm_ctl_code_from_name(ntm_ctl_code_name(c)), c);
	}
	CU_ASSERT_STRING_EQUAL(ntm_ctl_code_name(NTM_CTL_E_UNKNOWN), "unknown");
	CU_ASSERT_EQUAL(ntm_ctl_code_from_name("whatever"), NTM_CTL_E_ERROR);
	CU_ASSERT_EQUAL(ntm_ctl_code_from_name(NULL), NTM_CTL_E_ERROR);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_perm_allows),	   NTM_TEST(test_request_parse),
	NTM_TEST(test_request_size_limit), NTM_TEST(test_request_encode_round_trip),
	NTM_TEST(test_response_parse),	   NTM_TEST(test_code_names),
};

NTM_TEST_MAIN("ctl", cases)
