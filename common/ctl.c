/* SPDX-License-Identifier: MIT */
/*
 * Control protocol codecs (pure, fuzzed by tests/fuzz/fuzz_ctl.c). The server
 * lives in ctlserver.c and the client in ctlclient.c; the protocol itself is
 * described at the top of ctl.h.
 */
#include "ctl.h"

#include <json-c/json_visit.h>
#include <math.h>
#include <string.h>

#include "alloc.h"

static const char *const code_names[] = {
	[NTM_CTL_E_UNKNOWN] = "unknown", [NTM_CTL_E_TIMEOUT] = "timeout",
	[NTM_CTL_E_DENIED] = "denied",	 [NTM_CTL_E_INVALID] = "invalid",
	[NTM_CTL_E_ERROR] = "error",
};

const char *ntm_ctl_code_name(enum ntm_ctl_code code)
{
	if ((unsigned)code >= sizeof(code_names) / sizeof(code_names[0])) {
		return "error";
	}
	return code_names[code];
}

enum ntm_ctl_code ntm_ctl_code_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(code_names) / sizeof(code_names[0]); i++) {
		if (name != NULL && strcmp(name, code_names[i]) == 0) {
			return (enum ntm_ctl_code)i;
		}
	}
	return NTM_CTL_E_ERROR;
}

const char *ntm_ctl_perm_name(enum ntm_ctl_perm perm)
{
	return perm == NTM_CTL_READ ? "read" : "write";
}

bool ntm_ctl_perm_allows(enum ntm_ctl_perm perm, uid_t peer_uid, uid_t daemon_uid)
{
	if (perm == NTM_CTL_READ) {
		return true;
	}
	return peer_uid == 0 || peer_uid == daemon_uid;
}

static bool is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int check_finite(json_object *o, int flags, json_object *parent, const char *key,
			size_t *index, void *arg)
{
	if (json_object_is_type(o, json_type_double) && !isfinite(json_object_get_double(o))) {
		return JSON_C_VISIT_RETURN_ERROR;
	}
	return JSON_C_VISIT_RETURN_CONTINUE;
}

int ntm_ctl_json_parse(const char *buf, size_t len, json_object **out)
{
	struct json_tokener *tok;
	json_object *obj;
	size_t end;

	*out = NULL;
	/* json-c takes an int length and stops at a NUL; refuse both cases. */
	if (len == 0 || len > NTM_CTL_RESPONSE_MAX || memchr(buf, '\0', len) != NULL) {
		return -EBADMSG;
	}
	tok = json_tokener_new_ex(NTM_CTL_JSON_DEPTH);
	if (tok == NULL) {
		return -ENOMEM;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (obj == NULL || json_tokener_get_error(tok) != json_tokener_success) {
		/* A bare number at the end of input is "continue", i.e. incomplete. */
		json_object_put(obj);
		json_tokener_free(tok);
		return -EBADMSG;
	}
	json_tokener_free(tok);
	while (end < len && is_json_space(buf[end])) {
		end++;
	}
	/* json-c reads NaN, Infinity and 1e999, which are not JSON: they could
	 * not be echoed back in a response. */
	if (end != len || json_c_visit(obj, 0, check_finite, NULL) != 0) {
		json_object_put(obj);
		return -EBADMSG;
	}
	*out = obj;
	return 0;
}

static bool is_cmd_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static int decode_cmd(struct ntm_ctl_request *req, json_object *v, const char **why)
{
	const char *s;
	size_t n;

	if (!json_object_is_type(v, json_type_string)) {
		*why = "\"cmd\" is not a string";
		return -EBADMSG;
	}
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (n == 0 || n > NTM_CTL_CMD_MAX) {
		*why = "\"cmd\" is empty or too long";
		return -EBADMSG;
	}
	for (size_t i = 0; i < n; i++) {
		if (!is_cmd_char(s[i])) {
			*why = "\"cmd\" holds characters other than [a-z0-9_.-]";
			return -EBADMSG;
		}
	}
	memcpy(req->cmd, s, n);
	req->cmd[n] = '\0';
	return 0;
}

static int decode_request(struct ntm_ctl_request *req, json_object *obj, const char **why)
{
	bool have_cmd = false;
	int rc;

	if (!json_object_is_type(obj, json_type_object)) {
		*why = "request is not a JSON object";
		return -EBADMSG;
	}
	json_object_object_foreach(obj, key, val)
	{
		if (strcmp(key, "cmd") == 0) {
			rc = decode_cmd(req, val, why);
			if (rc < 0) {
				return rc;
			}
			have_cmd = true;
		} else if (strcmp(key, "args") == 0) {
			if (val != NULL && !json_object_is_type(val, json_type_object)) {
				*why = "\"args\" is not an object";
				return -EBADMSG;
			}
			json_object_put(req->args);
			req->args = json_object_get(val);
		} else {
			*why = "unknown key in request (only \"cmd\" and \"args\")";
			return -EBADMSG;
		}
	}
	if (!have_cmd) {
		*why = "request has no \"cmd\"";
		return -EBADMSG;
	}
	if (req->args == NULL) {
		req->args = json_object_new_object();
		if (req->args == NULL) {
			*why = "out of memory";
			return -ENOMEM;
		}
	}
	return 0;
}

int ntm_ctl_request_parse(const char *buf, size_t len, struct ntm_ctl_request *req,
			  const char **why)
{
	json_object *obj;
	int rc;

	memset(req, 0, sizeof(*req));
	*why = NULL;
	if (len > NTM_CTL_REQUEST_MAX) {
		*why = "request too large";
		return -EMSGSIZE;
	}
	rc = ntm_ctl_json_parse(buf, len, &obj);
	if (rc < 0) {
		*why = rc == -ENOMEM ? "out of memory" : "request is not valid JSON";
		return rc;
	}
	rc = decode_request(req, obj, why);
	json_object_put(obj);
	if (rc < 0) {
		ntm_ctl_request_fini(req);
	}
	return rc;
}

void ntm_ctl_request_fini(struct ntm_ctl_request *req)
{
	json_object_put(req->args);
	memset(req, 0, sizeof(*req));
}

/* Serialises `obj` on one line plus "\n" into a new ntm_malloc'd string. */
char *ntm_ctl_json_line(json_object *obj, size_t *len)
{
	const char *s;
	size_t n;
	char *out;

	*len = 0;
	s = json_object_to_json_string_ext(obj,
					   JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s == NULL) {
		return NULL;
	}
	n = strlen(s);
	out = ntm_malloc(n + 2);
	if (out == NULL) {
		return NULL;
	}
	memcpy(out, s, n);
	out[n] = '\n';
	out[n + 1] = '\0';
	*len = n + 1;
	return out;
}

char *ntm_ctl_request_encode(const char *cmd, json_object *args, size_t *len)
{
	json_object *obj = json_object_new_object();
	json_object *name = json_object_new_string(cmd);
	char *out = NULL;

	*len = 0;
	if (obj == NULL || name == NULL || json_object_object_add(obj, "cmd", name) != 0) {
		json_object_put(name);
		goto out;
	}
	if (args != NULL && json_object_object_add(obj, "args", json_object_get(args)) != 0) {
		json_object_put(args);
		goto out;
	}
	out = ntm_ctl_json_line(obj, len);
out:
	json_object_put(obj);
	return out;
}

static int decode_error(struct ntm_ctl_response *r, json_object *obj)
{
	json_object *code, *error;

	if (!json_object_object_get_ex(obj, "code", &code) ||
	    !json_object_is_type(code, json_type_string) ||
	    !json_object_object_get_ex(obj, "error", &error) ||
	    !json_object_is_type(error, json_type_string)) {
		return -EBADMSG;
	}
	r->code = ntm_ctl_code_from_name(json_object_get_string(code));
	r->error = json_object_get_string(error);
	return 0;
}

int ntm_ctl_response_decode(json_object *obj, struct ntm_ctl_response *r)
{
	json_object *ok;

	memset(r, 0, sizeof(*r));
	r->code = NTM_CTL_E_ERROR;
	if (!json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean)) {
		return -EBADMSG;
	}
	r->ok = json_object_get_boolean(ok);
	if (!r->ok) {
		return decode_error(r, obj);
	}
	if (!json_object_object_get_ex(obj, "data", &r->data)) {
		return -EBADMSG;
	}
	return 0;
}

int ntm_ctl_response_parse(const char *buf, size_t len, json_object **out)
{
	struct ntm_ctl_response r;
	json_object *obj;
	int rc;

	*out = NULL;
	rc = ntm_ctl_json_parse(buf, len, &obj);
	if (rc < 0) {
		return rc;
	}
	rc = ntm_ctl_response_decode(obj, &r);
	if (rc < 0) {
		json_object_put(obj);
		return rc;
	}
	*out = obj;
	return 0;
}
