/* SPDX-License-Identifier: MIT */
/*
 * Control socket server (protocol in ctl.h, lifetimes in ctlserver.h).
 *
 * Invariants: a connection has at most one request in flight (conn->req);
 * while it is pending, further input is only buffered, so responses go out
 * in request order. conn->srv is valid until the connection's handle is closed;
 * after that only the refcount, the request and `closing` are touched, so a
 * late reply works after the server is gone.
 */
#include "ctlserver.h"

#include <assert.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc.h"
#include "ctlsock.h"
#include "ctrlmsg.h"
#include "log.h"

enum {
	CONN_BUF_INITIAL = 1024,
	CONN_BUF_MAX = NTM_CTL_REQUEST_MAX + 1, /* the longest line plus its "\n" */
	LISTEN_BACKLOG = 16,
	ERR_TEXT_MAX = 1024,
};

struct ctl_conn;

struct ntm_ctl_req {
	struct ctl_conn *conn;
	struct ntm_ctl_request msg;
	bool pending;
	ntm_ctl_cancel_cb cancel;
	void *cancel_arg;
};

struct ctl_conn {
	uv_pipe_t pipe;
	struct ntm_ctl_server *srv; /* NULL once the handle is closed */
	struct ctl_conn *prev, *next;
	unsigned refs;
	unsigned id;
	uid_t uid;
	char *buf; /* unread input, len bytes of cap */
	size_t len, cap;
	unsigned writes; /* queued uv_write_t */
	bool reading, eof, closing, close_after_write, in_process;
	struct ntm_ctl_req req;
};

struct ctl_write {
	uv_write_t w;
	struct ctl_conn *conn;
	char *line; /* ntm_malloc'd */
};

struct ntm_ctl_server {
	uv_pipe_t listener;
	char *path;
	struct ntm_ctlsock_id id; /* the file we bound, for a safe unlink */
	const struct ntm_ctl_cmd *cmds;
	size_t n_cmds;
	void *user;
	struct ctl_conn *conns; /* live (not closing) connections */
	size_t n_conns;
	unsigned handles; /* initialised handles whose close_cb has not run */
	unsigned next_id;
	bool closing;
	ntm_ctl_server_closed_cb done;
	void *done_arg;
};

static void process(struct ctl_conn *c);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);

static void conn_get(struct ctl_conn *c)
{
	c->refs++;
}

static void conn_put(struct ctl_conn *c)
{
	assert(c->refs > 0);
	if (--c->refs == 0) {
		assert(!c->req.pending);
		ntm_free(c->buf);
		ntm_free(c);
	}
}

static void maybe_finish(struct ntm_ctl_server *srv)
{
	ntm_ctl_server_closed_cb done = srv->done;
	void *arg = srv->done_arg;

	if (!srv->closing || srv->handles > 0) {
		return;
	}
	ntm_free(srv->path);
	ntm_free(srv);
	if (done != NULL) {
		done(arg);
	}
}

static void on_conn_closed(uv_handle_t *h)
{
	struct ctl_conn *c = h->data;
	struct ntm_ctl_server *srv = c->srv;

	c->srv = NULL;
	srv->handles--;
	maybe_finish(srv);
	conn_put(c);
}

static void close_conn(struct ctl_conn *c)
{
	struct ntm_ctl_server *srv = c->srv;

	if (c->closing) {
		return;
	}
	c->closing = true;
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		srv->conns = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
	srv->n_conns--;
	conn_get(c);
	if (c->req.pending && c->req.cancel != NULL) {
		ntm_ctl_cancel_cb cb = c->req.cancel;

		c->req.cancel = NULL;
		cb(&c->req, c->req.cancel_arg);
	}
	uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
	conn_put(c);
}

/*
 * Reading goes on while a request is pending (so that a client that goes
 * away is noticed and the request cancelled) until the buffer is full. With
 * nothing left to do, a finished or failed connection closes.
 */
static void update_state(struct ctl_conn *c)
{
	bool want_read;

	if (c->closing) {
		return;
	}
	want_read = !c->eof && !c->close_after_write && !(c->req.pending && c->len >= CONN_BUF_MAX);
	if (!want_read && c->reading) {
		uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = false;
	}
	if (!c->req.pending && c->writes == 0 &&
	    (c->close_after_write || (c->eof && c->len == 0))) {
		close_conn(c);
		return;
	}
	if (want_read && !c->reading) {
		/* Fails only on a closing handle; then nothing more to read. */
		c->reading = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) == 0;
	}
}

static void on_write(uv_write_t *w, int status)
{
	struct ctl_write *cw = w->data;
	struct ctl_conn *c = cw->conn;

	ntm_free(cw->line);
	ntm_free(cw);
	c->writes--;
	if (status < 0 && !c->closing) {
		ntm_log_debug("ctl conn %u: write: %s", c->id, ntm_strerror(status));
		close_conn(c);
	}
	update_state(c);
	conn_put(c);
}

/* Queues one response; takes ownership of `resp`. */
static void send_json(struct ctl_conn *c, json_object *resp)
{
	struct ctl_write *cw = NULL;
	char *line = NULL;
	size_t len = 0;
	uv_buf_t b;

	if (resp != NULL) {
		line = ntm_ctl_json_line(resp, &len);
		json_object_put(resp);
	}
	cw = line != NULL ? ntm_malloc(sizeof(*cw)) : NULL;
	if (cw == NULL) {
		ntm_free(line);
		ntm_log_err("ctl conn %u: out of memory for a response", c->id);
		close_conn(c);
		return;
	}
	cw->conn = c;
	cw->line = line;
	cw->w.data = cw;
	b = uv_buf_init(line, (unsigned)len);
	if (uv_write(&cw->w, (uv_stream_t *)&c->pipe, &b, 1, on_write) != 0) {
		ntm_free(line);
		ntm_free(cw);
		close_conn(c);
		return;
	}
	conn_get(c);
	c->writes++;
}

static json_object *error_response(enum ntm_ctl_code code, const char *text)
{
	json_object *r = json_object_new_object();

	if (r == NULL) {
		return NULL;
	}
	if (json_object_object_add(r, "ok", json_object_new_boolean(false)) != 0 ||
	    json_object_object_add(r, "code", json_object_new_string(ntm_ctl_code_name(code))) !=
		    0 ||
	    json_object_object_add(r, "error", json_object_new_string(text)) != 0) {
		json_object_put(r);
		return NULL;
	}
	return r;
}

/* Called first by every reply: a failing send closes the connection, and
 * that must not call the cancel callback of the request being answered. */
static bool begin_reply(struct ntm_ctl_req *req)
{
	assert(req->pending); /* exactly one reply per request */
	req->cancel = NULL;
	return req->pending;
}

static void finish_req(struct ntm_ctl_req *req)
{
	struct ctl_conn *c = req->conn;

	req->pending = false;
	ntm_ctl_request_fini(&req->msg);
	/* A late reply resumes the connection; a reply from inside the handler
	 * returns to process(), which goes on by itself. */
	if (!c->closing && !c->in_process) {
		process(c);
	}
	conn_put(c);
}

void ntm_ctl_reply_ok(struct ntm_ctl_req *req, json_object *data)
{
	struct ctl_conn *c = req->conn;
	json_object *r;

	if (!begin_reply(req)) {
		json_object_put(data);
		return;
	}
	if (c->closing) {
		json_object_put(data);
		finish_req(req);
		return;
	}
	r = json_object_new_object();
	if (r == NULL || json_object_object_add(r, "ok", json_object_new_boolean(true)) != 0 ||
	    json_object_object_add(r, "data", data) != 0) {
		/* json-c keeps no reference to a value it failed to add. */
		json_object_put(data);
		json_object_put(r);
		r = NULL;
	}
	send_json(c, r);
	finish_req(req);
}

void ntm_ctl_reply_err(struct ntm_ctl_req *req, enum ntm_ctl_code code, const char *fmt, ...)
{
	struct ctl_conn *c = req->conn;
	char text[ERR_TEXT_MAX];
	va_list ap;

	if (!begin_reply(req)) {
		return;
	}
	if (!c->closing) {
		va_start(ap, fmt);
		vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
		send_json(c, error_response(code, text));
	}
	finish_req(req);
}

json_object *ntm_ctl_req_args(const struct ntm_ctl_req *req)
{
	return req->msg.args;
}

const char *ntm_ctl_req_cmd(const struct ntm_ctl_req *req)
{
	return req->msg.cmd;
}

uid_t ntm_ctl_req_peer_uid(const struct ntm_ctl_req *req)
{
	return req->conn->uid;
}

bool ntm_ctl_req_is_live(const struct ntm_ctl_req *req)
{
	return !req->conn->closing;
}

void ntm_ctl_req_set_cancel(struct ntm_ctl_req *req, ntm_ctl_cancel_cb cb, void *arg)
{
	req->cancel = cb;
	req->cancel_arg = arg;
}

static json_object *help_data(const struct ntm_ctl_server *srv)
{
	json_object *list = json_object_new_array();

	for (size_t i = 0; list != NULL && i <= srv->n_cmds; i++) {
		const char *name = i == 0 ? "help" : srv->cmds[i - 1].name;
		enum ntm_ctl_perm perm = i == 0 ? NTM_CTL_READ : srv->cmds[i - 1].perm;
		const char *help = i == 0 ? "list the commands" : srv->cmds[i - 1].help;
		json_object *o = json_object_new_object();

		if (o == NULL || json_object_array_add(list, o) != 0) {
			json_object_put(o);
			json_object_put(list);
			return NULL;
		}
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "perm", json_object_new_string(ntm_ctl_perm_name(perm)));
		json_object_object_add(o, "help", json_object_new_string(help ? help : ""));
	}
	return list;
}

static void reply_unknown_cmd(struct ntm_ctl_req *req, const struct ntm_ctl_server *srv)
{
	char names[ERR_TEXT_MAX / 2] = "help";
	size_t used = strlen(names);

	for (size_t i = 0; i < srv->n_cmds && used < sizeof(names); i++) {
		int n = snprintf(names + used, sizeof(names) - used, ", %s", srv->cmds[i].name);

		used += n > 0 ? (size_t)n : 0;
	}
	ntm_ctl_reply_err(req, NTM_CTL_E_INVALID, "unknown command '%s' (commands: %s)",
			  req->msg.cmd, names);
}

static void dispatch(struct ctl_conn *c)
{
	struct ntm_ctl_server *srv = c->srv;
	struct ntm_ctl_req *req = &c->req;
	const struct ntm_ctl_cmd *cmd = NULL;

	req->pending = true;
	conn_get(c);
	if (strcmp(req->msg.cmd, "help") == 0) {
		json_object *data = help_data(srv);

		if (data == NULL) {
			ntm_ctl_reply_err(req, NTM_CTL_E_ERROR, "out of memory");
		} else {
			ntm_ctl_reply_ok(req, data);
		}
		return;
	}
	for (size_t i = 0; i < srv->n_cmds && cmd == NULL; i++) {
		if (strcmp(srv->cmds[i].name, req->msg.cmd) == 0) {
			cmd = &srv->cmds[i];
		}
	}
	if (cmd == NULL) {
		reply_unknown_cmd(req, srv);
	} else if (!ntm_ctl_perm_allows(cmd->perm, c->uid, geteuid())) {
		ntm_ctl_reply_err(req, NTM_CTL_E_DENIED,
				  "'%s' changes state: only root or uid %u may run it", cmd->name,
				  (unsigned)geteuid());
	} else {
		cmd->fn(req, srv->user);
	}
}

static bool is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
			return false;
		}
	}
	return true;
}

static void handle_line(struct ctl_conn *c, const char *line, size_t len)
{
	const char *why = NULL;
	int rc;

	if (is_blank(line, len)) {
		return;
	}
	rc = ntm_ctl_request_parse(line, len, &c->req.msg, &why);
	if (rc < 0) {
		ntm_log_debug("ctl conn %u: bad request: %s", c->id, why);
		send_json(c, error_response(NTM_CTL_E_INVALID, why));
		c->close_after_write = true;
		return;
	}
	dispatch(c);
}

static void consume(struct ctl_conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* Handles the complete lines in the buffer, one request at a time. */
static void process(struct ctl_conn *c)
{
	conn_get(c);
	c->in_process = true;
	while (!c->closing && !c->req.pending && !c->close_after_write) {
		char *nl = c->len > 0 ? memchr(c->buf, '\n', c->len) : NULL;

		if (nl != NULL) {
			handle_line(c, c->buf, (size_t)(nl - c->buf));
			consume(c, (size_t)(nl - c->buf) + 1);
		} else if (c->len > NTM_CTL_REQUEST_MAX) {
			send_json(c, error_response(NTM_CTL_E_INVALID, "request too large"));
			c->close_after_write = true;
		} else if (c->eof && c->len > 0) {
			/* The last request may lack its newline. */
			handle_line(c, c->buf, c->len);
			consume(c, c->len);
		} else {
			break;
		}
	}
	c->in_process = false;
	update_state(c);
	conn_put(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct ctl_conn *c = h->data;

	if (c->len == c->cap && c->cap < CONN_BUF_MAX) {
		size_t cap = c->cap == 0 ? CONN_BUF_INITIAL : c->cap * 2;
		char *p;

		cap = cap > CONN_BUF_MAX ? CONN_BUF_MAX : cap;
		p = ntm_realloc(c->buf, cap);
		if (p != NULL) {
			c->buf = p;
			c->cap = cap;
		}
	}
	/* A zero-length buffer makes libuv report UV_ENOBUFS: then we close. */
	*b = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

/* After EOF: did the peer close entirely (not just shutdown(SHUT_WR))? */
static bool peer_is_gone(struct ctl_conn *c)
{
	struct pollfd p = { .events = POLLOUT };
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0) {
		return true;
	}
	p.fd = fd;
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) != 0;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct ctl_conn *c = s->data;

	if (nread > 0) {
		c->len += (size_t)nread;
		process(c);
	} else if (nread == UV_EOF) {
		c->eof = true;
		if (peer_is_gone(c)) {
			close_conn(c);
			return;
		}
		process(c);
	} else if (nread < 0) {
		ntm_log_debug("ctl conn %u: read: %s", c->id, ntm_strerror((int)nread));
		close_conn(c);
	}
}

static int read_peer_uid(struct ctl_conn *c)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;
	int rc;

	rc = uv_fileno((uv_handle_t *)&c->pipe, &fd);
	if (rc < 0) {
		return rc;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		return -errno;
	}
	c->uid = cred.uid;
	return 0;
}

static void on_connection(uv_stream_t *listener, int status)
{
	struct ntm_ctl_server *srv = listener->data;
	struct ctl_conn *c;
	int rc;

	if (status < 0) {
		ntm_log_warn("control socket %s: accept: %s", srv->path, ntm_strerror(status));
		return;
	}
	c = ntm_calloc(1, sizeof(*c));
	if (c == NULL) {
		/* Left unaccepted, libuv stops listening until a uv_accept; with
		 * no memory for a handle there is nothing better to do. */
		ntm_log_err("control socket %s: out of memory, not accepting", srv->path);
		return;
	}
	c->refs = 1;
	c->srv = srv;
	c->id = ++srv->next_id;
	c->req.conn = c;
	uv_pipe_init(listener->loop, &c->pipe, 0);
	c->pipe.data = c;
	srv->handles++;
	c->next = srv->conns;
	if (c->next != NULL) {
		c->next->prev = c;
	}
	srv->conns = c;
	srv->n_conns++;
	rc = uv_accept(listener, (uv_stream_t *)&c->pipe);
	if (rc == 0) {
		rc = srv->n_conns > NTM_CTL_CONN_MAX ? -EMFILE : read_peer_uid(c);
	}
	if (rc < 0) {
		ntm_log_debug("control socket %s: connection refused: %s", srv->path,
			      ntm_strerror(rc));
		close_conn(c);
		return;
	}
	ntm_log_debug("ctl conn %u: uid %u connected", c->id, (unsigned)c->uid);
	update_state(c);
}

/* Binds, fixes mode and group before listen(): nobody can connect meanwhile. */
static int bind_and_listen(struct ntm_ctl_server *srv, const struct ntm_ctl_config *cfg)
{
	int rc;

	rc = uv_pipe_bind(&srv->listener, srv->path);
	if (rc == 0) {
		rc = ntm_ctlsock_secure(srv->path, cfg->has_group, cfg->group, &srv->id);
	}
	if (rc == 0) {
		rc = uv_listen((uv_stream_t *)&srv->listener, LISTEN_BACKLOG, on_connection);
	}
	return rc;
}

static int check_config(const struct ntm_ctl_config *cfg)
{
	if (cfg->path == NULL || (cfg->n_cmds > 0 && cfg->cmds == NULL)) {
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->n_cmds; i++) {
		if (cfg->cmds[i].name == NULL || cfg->cmds[i].fn == NULL ||
		    strcmp(cfg->cmds[i].name, "help") == 0) {
			return -EINVAL;
		}
	}
	return 0;
}

int ntm_ctl_server_create(uv_loop_t *loop, const struct ntm_ctl_config *cfg,
			  struct ntm_ctl_server **out)
{
	struct ntm_ctl_server *srv;
	int rc;

	*out = NULL;
	rc = check_config(cfg);
	if (rc < 0) {
		ntm_log_err("control socket %s: bad configuration: %s", cfg->path ? cfg->path : "",
			    ntm_strerror(rc));
		return rc;
	}
	srv = ntm_calloc(1, sizeof(*srv));
	if (srv == NULL) {
		return -ENOMEM;
	}
	srv->path = ntm_strdup(cfg->path);
	if (srv->path == NULL) {
		ntm_free(srv);
		return -ENOMEM;
	}
	srv->cmds = cfg->cmds;
	srv->n_cmds = cfg->n_cmds;
	srv->user = cfg->user;
	rc = ntm_ctlsock_prepare(srv->path);
	if (rc < 0) {
		ntm_log_err("control socket %s: %s", srv->path, ntm_ctlsock_strerror(rc));
		ntm_free(srv->path);
		ntm_free(srv);
		return rc;
	}
	uv_pipe_init(loop, &srv->listener, 0);
	srv->listener.data = srv;
	srv->handles = 1;
	rc = bind_and_listen(srv, cfg);
	if (rc < 0) {
		ntm_log_err("control socket %s: %s", srv->path, ntm_strerror(rc));
		/* The handle exists: free through the normal close path. */
		ntm_ctl_server_close(srv, NULL, NULL);
		return rc;
	}
	*out = srv;
	return 0;
}

static void on_listener_closed(uv_handle_t *h)
{
	struct ntm_ctl_server *srv = h->data;

	srv->handles--;
	maybe_finish(srv);
}

void ntm_ctl_server_close(struct ntm_ctl_server *srv, ntm_ctl_server_closed_cb done, void *arg)
{
	if (srv == NULL) {
		return;
	}
	assert(!srv->closing);
	srv->closing = true;
	srv->done = done;
	srv->done_arg = arg;
	ntm_ctlsock_unlink(srv->path, &srv->id);
	uv_close((uv_handle_t *)&srv->listener, on_listener_closed);
	while (srv->conns != NULL) {
		close_conn(srv->conns);
	}
}

size_t ntm_ctl_server_conn_count(const struct ntm_ctl_server *srv)
{
	return srv->n_conns;
}

json_object *ntm_ctl_json_addr(const struct ntm_addr *a)
{
	char text[NTM_ADDR_STRLEN];

	if (a->len == 0 || ntm_addr_format(a, text, sizeof(text)) < 0) {
		return NULL;
	}
	return json_object_new_string(text);
}

void ntm_ctl_json_count(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

void ntm_ctl_json_contact(json_object *o, int64_t last_contact_ms, uint16_t last_error)
{
	json_object_object_add(o, "last_contact",
			       last_contact_ms < 0 ? NULL
						   : json_object_new_int64(last_contact_ms / 1000));
	json_object_object_add(
		o, "error",
		last_error == 0 ? NULL : json_object_new_string(ntm_ctrl_error_name(last_error)));
}
