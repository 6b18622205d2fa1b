/* SPDX-License-Identifier: MIT */
#ifndef RCP_HTTPC_H
#define RCP_HTTPC_H

/*
 * A minimal blocking HTTP/1.1 client for JSON APIs (the recipe server asking
 * a devmgr, the ntm-recipe CLI): "http://HOST:PORT" only (no TLS: put a
 * TLS proxy in front), one request per connection (Connection: close),
 * a bounded answer (RCP_HTTPC_RESP_MAX) and a total timeout. Blocking: the
 * recipe server calls it on its loop for a devmgr lookup (see
 * ntm-recipe-server(8), BUGS).
 */

#include <stddef.h>

#include "common/err.h"

enum {
	RCP_HTTPC_RESP_MAX = 1 << 20,
	RCP_HTTPC_TIMEOUT_MS = 5000,
};

/* Plain value: the answer. body is NUL-terminated, owned (ntm_free). */
struct rcp_httpc_resp {
	unsigned status;
	char *body;
	size_t body_len;
};

/*
 * `base` "http://host:port" (borrowed), `path` "/v1/...", `token` (may be
 * NULL) sent as Bearer, `body` (may be NULL) with `ctype`. -EINVAL (bad
 * URL), -EHOSTUNREACH (name not found), -ECONNREFUSED etc., -ETIMEDOUT,
 * -EPROTO (not HTTP), -EMSGSIZE; why says what failed.
 */
NTM_MUST_CHECK int rcp_httpc_request(const char *base, const char *method, const char *path,
				     const char *token, const char *ctype, const char *body,
				     size_t body_len, struct rcp_httpc_resp *out, char *why,
				     size_t whylen);

#endif
