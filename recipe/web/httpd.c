/* SPDX-License-Identifier: MIT */
/*
 * libmicrohttpd under the uv loop. MHD runs with MHD_USE_EPOLL and no
 * thread of its own: its epoll fd is watched by a uv_poll_t, and after
 * every MHD_run() the uv_timer_t is set from MHD_get_timeout() (which is 0
 * when MHD still has ready connections it did not finish, so nothing waits
 * on an edge that already passed).
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <json-c/json.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/addr.h"
#include "common/alloc.h"
#include "common/log.h"

struct rcp_httpd {
	uv_loop_t *loop;
	struct MHD_Daemon *mhd;
	uv_poll_t poll;
	uv_timer_t timer;
	rcp_httpd_handler handler;
	void *ctx;
	unsigned port;
	int pending_close;
	void (*done)(void *arg);
	void *done_arg;
};

/* Per connection: the body collected so far. */
struct conn {
	char *body;
	size_t len;
	bool too_big;
};

void rcp_http_error(struct rcp_http_resp *resp, unsigned status, const char *fmt, ...)
{
	char msg[512];
	struct json_object *o = json_object_new_object();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	resp->status = status;
	resp->body = NULL;
	if (o != NULL && json_object_object_add(o, "error", json_object_new_string(msg)) == 0) {
		resp->body = ntm_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	}
	json_object_put(o);
}

void rcp_http_json(struct rcp_http_resp *resp, unsigned status, struct json_object *o)
{
	resp->status = status;
	resp->body = o != NULL
			     ? ntm_strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN))
			     : NULL;
	json_object_put(o);
}

const char *rcp_http_bearer(const char *header)
{
	if (header == NULL || strncasecmp(header, "Bearer ", 7) != 0) {
		return NULL;
	}
	header += 7;
	while (*header == ' ') {
		header++;
	}
	return *header != '\0' ? header : NULL;
}

static enum MHD_Result send_resp(struct MHD_Connection *c, struct rcp_http_resp *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	const char *body = resp->body != NULL ? resp->body : "";

	if (resp->body == NULL) {
		resp->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	if (r == NULL) {
		return MHD_NO;
	}
	if (resp->status == MHD_HTTP_UNAUTHORIZED) {
		(void)MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	}
	(void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	ret = MHD_queue_response(c, resp->status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result collect(struct conn *cn, const char *data, size_t *size)
{
	char *p;

	if (cn->too_big || cn->len + *size > RCP_HTTP_BODY_MAX) {
		cn->too_big = true;
		*size = 0;
		return MHD_YES;
	}
	p = ntm_realloc(cn->body, cn->len + *size + 1);
	if (p == NULL) {
		return MHD_NO;
	}
	memcpy(p + cn->len, data, *size);
	cn->body = p;
	cn->len += *size;
	cn->body[cn->len] = '\0';
	*size = 0;
	return MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
				 const char *method, const char *version, const char *data,
				 size_t *size, void **con_cls)
{
	struct rcp_httpd *h = cls;
	struct conn *cn = *con_cls;
	struct rcp_http_resp resp = { 0 };
	struct rcp_http_req req;
	enum MHD_Result ret;

	if (cn == NULL) {
		cn = ntm_calloc(1, sizeof(*cn));
		*con_cls = cn;
		return cn != NULL ? MHD_YES : MHD_NO;
	}
	if (*size > 0) {
		return collect(cn, data, size);
	}
	if (cn->too_big) {
		rcp_http_error(&resp, 413, "body over %d bytes", RCP_HTTP_BODY_MAX);
	} else if (strlen(url) > RCP_HTTP_PATH_MAX) {
		rcp_http_error(&resp, MHD_HTTP_URI_TOO_LONG, "path too long");
	} else {
		req = (struct rcp_http_req){
			.method = method,
			.path = url,
			.token = rcp_http_bearer(MHD_lookup_connection_value(
				c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION)),
			.body = cn->body != NULL ? cn->body : "",
			.body_len = cn->len,
		};
		h->handler(h->ctx, &req, &resp);
	}
	ret = send_resp(c, &resp);
	ntm_free(resp.body);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct conn *cn = *con_cls;

	if (cn != NULL) {
		ntm_free(cn->body);
		ntm_free(cn);
		*con_cls = NULL;
	}
}

static void on_timer(uv_timer_t *t);

static void run_mhd(struct rcp_httpd *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	(void)MHD_run(h->mhd);
	if (MHD_get_timeout(h->mhd, &ms) == MHD_YES) {
		uv_timer_start(&h->timer, on_timer, ms, 0);
	} else {
		uv_timer_stop(&h->timer);
	}
}

static void on_timer(uv_timer_t *t)
{
	run_mhd(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	run_mhd(p->data);
}

static void on_closed(uv_handle_t *handle)
{
	struct rcp_httpd *h = handle->data;

	if (--h->pending_close == 0) {
		void (*done)(void *arg) = h->done;
		void *arg = h->done_arg;

		ntm_free(h);
		if (done != NULL) {
			done(arg);
		}
	}
}

void rcp_httpd_close(struct rcp_httpd *h, void (*done)(void *arg), void *arg)
{
	if (h == NULL) {
		return;
	}
	h->done = done;
	h->done_arg = arg;
	h->pending_close = 2;
	uv_close((uv_handle_t *)&h->poll, on_closed);
	uv_close((uv_handle_t *)&h->timer, on_closed);
	/* After the poll handle is closed: MHD closes the epoll fd. */
	MHD_stop_daemon(h->mhd);
	h->mhd = NULL;
}

unsigned rcp_httpd_port(const struct rcp_httpd *h)
{
	return h->port;
}

/* MHD's own messages (bind failures, broken connections) go to our log. */
__attribute__((format(printf, 2, 0))) static void log_mhd(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	ntm_log_warn("http: %s", msg);
}

static struct MHD_Daemon *start_mhd(struct rcp_httpd *h, const struct ntm_addr *a)
{
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	if (ntm_addr_is_v6(a)) {
		flags |= MHD_USE_IPv6;
	}
	return MHD_start_daemon(
		flags, ntm_addr_port(a), NULL, NULL, on_access, h, MHD_OPTION_SOCK_ADDR, &a->sa,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_EXTERNAL_LOGGER, log_mhd,
		h, MHD_OPTION_CONNECTION_LIMIT, (unsigned)RCP_HTTP_CONNS_MAX,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)RCP_HTTP_TIMEOUT_S, MHD_OPTION_END);
}

int rcp_httpd_start(uv_loop_t *loop, const char *listen, rcp_httpd_handler handler, void *ctx,
		    struct rcp_httpd **out, char *why, size_t whylen)
{
	const union MHD_DaemonInfo *info;
	struct rcp_httpd *h;
	struct ntm_addr a;
	int rc;

	*out = NULL;
	rc = ntm_addr_parse(listen, NTM_ADDR_PORT_ZERO_OK, &a, why, whylen);
	if (rc < 0) {
		return rc;
	}
	h = ntm_calloc(1, sizeof(*h));
	if (h == NULL) {
		return -ENOMEM;
	}
	*h = (struct rcp_httpd){ .loop = loop, .handler = handler, .ctx = ctx };
	h->mhd = start_mhd(h, &a);
	if (h->mhd == NULL) {
		snprintf(why, whylen, "%s: cannot listen (address in use or not local?)", listen);
		ntm_free(h);
		return -EADDRINUSE;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info != NULL ? info->port : ntm_addr_port(&a);
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	rc = info != NULL ? uv_poll_init(loop, &h->poll, info->epoll_fd) : -EIO;
	if (rc < 0) {
		snprintf(why, whylen, "%s: cannot watch the HTTP server: %s", listen,
			 ntm_strerror(rc));
		MHD_stop_daemon(h->mhd);
		ntm_free(h);
		return rc;
	}
	uv_timer_init(loop, &h->timer);
	h->poll.data = h->timer.data = h;
	uv_poll_start(&h->poll, UV_READABLE, on_poll);
	run_mhd(h);
	*out = h;
	return 0;
}
