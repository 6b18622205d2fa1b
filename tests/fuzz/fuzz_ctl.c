/* SPDX-License-Identifier: MIT */
/*
 * The control protocol decoders, on input straight from a socket: the first
 * byte picks the request or the response decoder. A request that decodes is
 * re-encoded and decoded again and must come back the same (round trip); a
 * response that decodes must have a consistent view.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(const char *buf, size_t len)
{
	struct ntm_ctl_request req, again;
	const char *why;
	size_t n;
	char *line;

	if (ntm_ctl_request_parse(buf, len, &req, &why) != 0) {
		if (why == NULL || req.args != NULL) {
			abort();
		}
		return;
	}
	if (req.cmd[0] == '\0' || strlen(req.cmd) > NTM_CTL_CMD_MAX ||
	    !json_object_is_type(req.args, json_type_object)) {
		abort();
	}
	line = ntm_ctl_request_encode(req.cmd, req.args, &n);
	if (line == NULL || n == 0 || line[n - 1] != '\n' || memchr(line, '\n', n - 1) != NULL) {
		abort();
	}
	/* The re-encoding may grow (escapes), so it may exceed the limit. */
	if (n - 1 <= NTM_CTL_REQUEST_MAX) {
		if (ntm_ctl_request_parse(line, n - 1, &again, &why) != 0 ||
		    strcmp(again.cmd, req.cmd) != 0 || !json_object_equal(again.args, req.args)) {
			abort();
		}
		ntm_ctl_request_fini(&again);
	}
	ntm_free(line);
	ntm_ctl_request_fini(&req);
}

static void check_response(const char *buf, size_t len)
{
	struct ntm_ctl_response r;
	json_object *obj;

	if (ntm_ctl_response_parse(buf, len, &obj) != 0) {
		if (obj != NULL) {
			abort();
		}
		return;
	}
	if (ntm_ctl_response_decode(obj, &r) != 0 || (!r.ok && r.error == NULL)) {
		abort();
	}
	json_object_put(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) {
		return 0;
	}
	if (data[0] & 1) {
		check_response((const char *)data + 1, size - 1);
	} else {
		check_request((const char *)data + 1, size - 1);
	}
	return 0;
}
