/* SPDX-License-Identifier: MIT */
#ifndef RCP_HTTPD_H
#define RCP_HTTPD_H

/*
 * The HTTP/JSON front of ntm-devmgr and ntm-recipe-server: libmicrohttpd
 * driven by the daemon's uv loop (MHD's epoll fd under one uv_poll_t, its
 * timeout in one uv_timer_t; no threads). A request is collected whole
 * (at most RCP_HTTP_BODY_MAX bytes of body, otherwise 413 before the
 * handler runs) and handed to the daemon's handler as a plain value, so the
 * handlers are pure functions of (state, request) that unit tests call
 * directly.
 */

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "common/err.h"

enum {
	RCP_HTTP_BODY_MAX = 256 * 1024, /* bytes of a request body */
	RCP_HTTP_PATH_MAX = 512,	/* bytes of a request path */
	RCP_HTTP_CONNS_MAX = 64,	/* concurrent connections */
	RCP_HTTP_TIMEOUT_S = 10,	/* idle connection timeout */
};

/* One request; every pointer is borrowed for the handler call only. */
struct rcp_http_req {
	const char *method; /* "GET", "POST", ... */
	const char *path;   /* without the query string */
	const char *token;  /* the Bearer token of Authorization, or NULL */
	const char *body;   /* NUL-terminated (the NUL is not counted) */
	size_t body_len;
};

/* The answer: status and a JSON text the handler allocated (ntm_malloc). */
struct rcp_http_resp {
	unsigned status;
	char *body; /* owned; freed by the caller of the handler */
};

typedef void (*rcp_httpd_handler)(void *ctx, const struct rcp_http_req *req,
				  struct rcp_http_resp *resp);

/*
 * Fill resp with `status` and the JSON object {"error": msg} (msg copied,
 * escaped). Returns nothing: out of memory leaves body NULL, which the
 * server sends as an empty 500.
 */
void rcp_http_error(struct rcp_http_resp *resp, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct json_object;

/*
 * Fill resp with `status` and o serialised as the body, and release o.
 * o NULL (a failed allocation upstream) or out of memory leaves body NULL.
 */
void rcp_http_json(struct rcp_http_resp *resp, unsigned status, struct json_object *o);

struct rcp_httpd;

/*
 * Listen on `listen` ("127.0.0.1:8080", "[::1]:0"; port 0 picks one) and
 * serve through handler(ctx, ...) on `loop` (borrowed, outlives the server).
 * *out is closed with rcp_httpd_close(). -EINVAL with why for a bad
 * address, -EADDRINUSE/-EIO when MHD cannot start.
 */
NTM_MUST_CHECK int rcp_httpd_start(uv_loop_t *loop, const char *listen, rcp_httpd_handler handler,
				   void *ctx, struct rcp_httpd **out, char *why, size_t whylen);

/* The bound port (useful with port 0). */
unsigned rcp_httpd_port(const struct rcp_httpd *h);

/* Stop MHD, close the uv handles; the object is freed in the last close
 * callback, then done(arg) runs. NULL is accepted (done is not called). */
void rcp_httpd_close(struct rcp_httpd *h, void (*done)(void *arg), void *arg);

/*
 * "Bearer TOKEN" -> TOKEN (a pointer into `header`), NULL for anything
 * else. Pure, for the tests.
 */
const char *rcp_http_bearer(const char *header);

#endif
