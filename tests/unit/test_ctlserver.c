/* SPDX-License-Identifier: MIT */
/*
 * Control socket server and client. The server runs on a uv loop in the test
 * thread while a client thread talks to it, through ntm_ctl_call or a raw
 * socket. The client thread only records what it saw (a log line and a few
 * atomics); every assertion runs in the test thread after the join, and
 * every test ends with uv_loop_close() == 0 and the socket unlinked.
 */
#include "common/ctlserver.h"
#include "common/ctlclient.h"

#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/alloc.h"
#include "ntm_test.h"

struct fx {
	uv_loop_t loop;
	uv_async_t done;
	uv_timer_t timer;
	struct ntm_ctl_server *srv;
	char dir[64];
	char path[128];
	void (*client)(struct fx *f);
	/* Loop thread only. */
	struct ntm_ctl_req *later; /* answered by the timer */
	bool closing;
	/* Shared between the threads. */
	atomic_int handled;
	atomic_int cancels;
	atomic_int cancels_before_close;
	atomic_int done_sent;
	atomic_int server_closed;
	/* Client thread until the join. */
	char log[4096];
	char text[512];
};

/* ------------------------------------------------------ server side (loop) */

static void h_echo(struct ntm_ctl_req *req, void *user)
{
	struct fx *f = user;

	f->handled++;
	ntm_ctl_reply_ok(req, json_object_get(ntm_ctl_req_args(req)));
}

static void h_fail(struct ntm_ctl_req *req, void *user)
{
	ntm_ctl_reply_err(req, NTM_CTL_E_UNKNOWN, "no such name: %s", "x.example");
}

static void h_set(struct ntm_ctl_req *req, void *user)
{
	ntm_ctl_reply_ok(req, json_object_new_string("written"));
}

static void on_timer(uv_timer_t *t)
{
	struct fx *f = t->data;
	struct ntm_ctl_req *req = f->later;
	json_object *o = json_object_new_object();

	f->later = NULL;
	json_object_object_add(o, "late", json_object_new_boolean(true));
	ntm_ctl_reply_ok(req, o);
}

static void h_later(struct ntm_ctl_req *req, void *user)
{
	struct fx *f = user;

	f->handled++;
	f->later = req;
	uv_timer_start(&f->timer, on_timer, 50, 0);
}

static void on_cancel(struct ntm_ctl_req *req, void *arg)
{
	struct fx *f = arg;

	f->cancels++;
	if (!f->closing) {
		f->cancels_before_close++;
	}
	CU_ASSERT_FALSE(ntm_ctl_req_is_live(req));
	ntm_ctl_reply_err(req, NTM_CTL_E_ERROR, "cancelled");
}

static void h_hold(struct ntm_ctl_req *req, void *user)
{
	struct fx *f = user;

	f->handled++;
	CU_ASSERT_TRUE(ntm_ctl_req_is_live(req));
	CU_ASSERT_EQUAL(ntm_ctl_req_peer_uid(req), getuid());
	CU_ASSERT_STRING_EQUAL(ntm_ctl_req_cmd(req), "hold");
	ntm_ctl_req_set_cancel(req, on_cancel, f);
}

static const struct ntm_ctl_cmd cmds[] = {
	{ "echo", NTM_CTL_READ, h_echo, "echo the arguments" },
	{ "fail", NTM_CTL_READ, h_fail, "always unknown" },
	{ "set", NTM_CTL_WRITE, h_set, "a changing command" },
	{ "later", NTM_CTL_READ, h_later, "answer after 50 ms" },
	{ "hold", NTM_CTL_READ, h_hold, "answer only when cancelled" },
};

static void on_server_closed(void *arg)
{
	struct fx *f = arg;

	f->server_closed++;
}

static void on_client_done(uv_async_t *a)
{
	struct fx *f = a->data;

	f->closing = true;
	if (f->later != NULL) {
		struct ntm_ctl_req *req = f->later;

		f->later = NULL;
		ntm_ctl_reply_err(req, NTM_CTL_E_ERROR, "shutting down");
	}
	uv_close((uv_handle_t *)&f->timer, NULL);
	uv_close((uv_handle_t *)&f->done, NULL);
	if (f->srv != NULL) {
		ntm_ctl_server_close(f->srv, on_server_closed, f);
		f->srv = NULL;
	}
}

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	signal(SIGPIPE, SIG_IGN);
	snprintf(f->dir, sizeof(f->dir), "/tmp/ntm_test_ctl.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(f->dir) != NULL);
	snprintf(f->path, sizeof(f->path), "%s/ctl.sock", f->dir);
	CU_ASSERT_FATAL(uv_loop_init(&f->loop) == 0);
	uv_async_init(&f->loop, &f->done, on_client_done);
	f->done.data = f;
	uv_timer_init(&f->loop, &f->timer);
	f->timer.data = f;
}

static int fx_listen(struct fx *f)
{
	struct ntm_ctl_config cfg = {
		.path = f->path, .cmds = cmds, .n_cmds = sizeof(cmds) / sizeof(cmds[0]), .user = f
	};

	return ntm_ctl_server_create(&f->loop, &cfg, &f->srv);
}

static void client_done(struct fx *f)
{
	if (atomic_exchange(&f->done_sent, 1) == 0) {
		uv_async_send(&f->done);
	}
}

static void client_main(void *arg)
{
	struct fx *f = arg;

	f->client(f);
	client_done(f);
}

/* Runs `client` in a thread against the served loop; checks a clean end. */
static void fx_run(struct fx *f, void (*client)(struct fx *f))
{
	uv_thread_t t;

	f->client = client;
	CU_ASSERT_FATAL(uv_thread_create(&t, client_main, f) == 0);
	CU_ASSERT_EQUAL(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
	uv_thread_join(&t);
	CU_ASSERT_EQUAL(uv_loop_close(&f->loop), 0);
	CU_ASSERT_EQUAL(f->server_closed, 1);
	CU_ASSERT_EQUAL(access(f->path, F_OK), -1); /* unlinked on close */
	rmdir(f->dir);
}

/* --------------------------------------------------- client side (thread) */

static void logf_(struct fx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void logf_(struct fx *f, const char *fmt, ...)
{
	size_t used = strlen(f->log);
	va_list ap;

	if (used > 0 && used + 1 < sizeof(f->log)) {
		f->log[used++] = '|';
		f->log[used] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(f->log + used, sizeof(f->log) - used, fmt, ap);
	va_end(ap);
}

static void log_response(struct fx *f, json_object *resp)
{
	struct ntm_ctl_response r;

	if (ntm_ctl_response_decode(resp, &r) < 0) {
		logf_(f, "malformed");
	} else if (r.ok) {
		logf_(f, "ok:%s",
		      r.data ? json_object_to_json_string_ext(r.data, JSON_C_TO_STRING_PLAIN)
			     : "null");
	} else {
		logf_(f, "err:%s", ntm_ctl_code_name(r.code));
		snprintf(f->text, sizeof(f->text), "%s", r.error);
	}
}

static void call_log(struct fx *f, const char *cmd, const char *args_json, int timeout_ms)
{
	json_object *args = args_json ? json_tokener_parse(args_json) : NULL;
	json_object *resp = NULL;
	int rc = ntm_ctl_call(f->path, cmd, args, timeout_ms, &resp);

	json_object_put(args);
	if (rc < 0) {
		logf_(f, "rc:%s",
		      rc == -ETIMEDOUT	  ? "ETIMEDOUT"
		      : rc == -ENOENT	  ? "ENOENT"
		      : rc == -ECONNRESET ? "ECONNRESET"
					  : ntm_strerror(rc));
		return;
	}
	log_response(f, resp);
	json_object_put(resp);
}

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 3 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(sa.sun_path)) {
		close(fd);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void raw_send(int fd, const char *s, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n <= 0) {
			return; /* the server may close first: that is what we test */
		}
		s += n;
		len -= (size_t)n;
	}
}

/* Reads one response line and logs it; "closed" for EOF or reset. */
static void raw_read_log(struct fx *f, int fd)
{
	char line[1024];
	size_t len = 0;
	json_object *resp;

	while (len + 1 < sizeof(line)) {
		ssize_t n = recv(fd, line + len, 1, 0);

		if (n <= 0) {
			logf_(f, n == 0 || errno == ECONNRESET ? "closed" : "timeout");
			return;
		}
		if (line[len] == '\n') {
			break;
		}
		len++;
	}
	if (ntm_ctl_response_parse(line, len, &resp) < 0) {
		logf_(f, "malformed");
		return;
	}
	log_response(f, resp);
	json_object_put(resp);
}

static void wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 300 && *v < want; i++) {
		usleep(10000);
	}
}

/* ------------------------------------------------------------------- tests */

static void client_basic(struct fx *f)
{
	call_log(f, "echo", "{\"a\":1}", 2000);
	call_log(f, "fail", NULL, 2000);
	call_log(f, "set", NULL, 2000); /* root may run changing commands */
	call_log(f, "nosuch", NULL, 2000);
	call_log(f, "help", NULL, 2000);
}

static void test_request_response(void)
{
	struct fx f;

	fx_init(&f);
	CU_ASSERT_EQUAL_FATAL(fx_listen(&f), 0);
	fx_run(&f, client_basic);
	CU_ASSERT_STRING_EQUAL(f.log,
			       "ok:{\"a\":1}|err:unknown|ok:\"written\"|err:invalid|"
			       "ok:[{\"name\":\"help\",\"perm\":\"read\",\"help\":\"list the "
			       "commands\"},{\"name\":\"echo\",\"perm\":\"read\",\"help\":"
			       "\"echo the arguments\"},{\"name\":\"fail\",\"perm\":\"read\","
			       "\"help\":\"always unknown\"},{\"name\":\"set\",\"perm\":"
			       "\"write\",\"help\":\"a changing command\"},{\"name\":\"later\","
			       "\"perm\":\"read\",\"help\":\"answer after 50 ms\"},{\"name\":"
			       "\"hold\",\"perm\":\"read\",\"help\":\"answer only when "
			       "cancelled\"}]");
	/* The unknown-command error lists the commands. */
	CU_ASSERT_STRING_EQUAL(f.text, "unknown command 'nosuch' (commands: help, echo, fail, set, "
				       "later, hold)");
}

static void client_async(struct fx *f)
{
	int fd;

	call_log(f, "later", NULL, 2000);
	/* Half-close after the request: the answer still comes, then EOF. */
	fd = raw_connect(f->path);
	raw_send(fd, "{\"cmd\":\"later\"}\n", 16);
	shutdown(fd, SHUT_WR);
	raw_read_log(f, fd);
	raw_read_log(f, fd);
	close(fd);
	/* The last request may lack its newline when input ends. */
	fd = raw_connect(f->path);
	raw_send(fd, "{\"cmd\":\"echo\"}", 14);
	shutdown(fd, SHUT_WR);
	raw_read_log(f, fd);
	close(fd);
}

static void test_async_reply(void)
{
	struct fx f;

	fx_init(&f);
	CU_ASSERT_EQUAL_FATAL(fx_listen(&f), 0);
	fx_run(&f, client_async);
	CU_ASSERT_STRING_EQUAL(f.log, "ok:{\"late\":true}|ok:{\"late\":true}|closed|ok:{}");
}

static void client_pipeline(struct fx *f)
{
	static const char reqs[] = "{\"cmd\":\"echo\",\"args\":{\"n\":1}}\r\n"
				   "\n"
				   "{\"cmd\":\"later\"}\n"
				   "  \r\n"
				   "{\"cmd\":\"nosuch\"}\n"
				   "{\"cmd\":\"echo\",\"args\":{\"n\":2}}\n";
	int fd = raw_connect(f->path);

	raw_send(fd, reqs, sizeof(reqs) - 1);
	for (int i = 0; i < 4; i++) {
		raw_read_log(f, fd);
	}
	close(fd);
}

/* Several requests in one write are answered in order, async ones included. */
static void test_pipelining(void)
{
	struct fx f;

	fx_init(&f);
	CU_ASSERT_EQUAL_FATAL(fx_listen(&f), 0);
	fx_run(&f, client_pipeline);
	CU_ASSERT_STRING_EQUAL(f.log, "ok:{\"n\":1}|ok:{\"late\":true}|err:invalid|ok:{\"n\":2}");
}

static void client_disconnect(struct fx *f)
{
	int fd;

	/* A held request is cancelled when its client goes away. */
	fd = raw_connect(f->path);
	raw_send(fd, "{\"cmd\":\"hold\"}\n", 15);
	wait_for(&f->handled, 1);
	close(fd);
	wait_for(&f->cancels, 1);
	logf_(f, "cancels:%d", (int)f->cancels);
	/* A late reply to a client that has gone is dropped. */
	fd = raw_connect(f->path);
	raw_send(fd, "{\"cmd\":\"later\"}\n", 16);
	wait_for(&f->handled, 2);
	close(fd);
	usleep(150 * 1000);
	/* The server still serves. */
	call_log(f, "echo", "{\"still\":true}", 2000);
}

static void test_disconnect_before_async_reply(void)
{
	struct fx f;

	fx_init(&f);
	CU_ASSERT_EQUAL_FATAL(fx_listen(&f), 0);
	fx_run(&f, client_disconnect);
	CU_ASSERT_STRING_EQUAL(f.log, "cancels:1|ok:{\"still\":true}");
	CU_ASSERT_EQUAL(f.cancels_before_close, 1);
	CU_ASSERT_PTR_NULL(f.later);
}

static void client_malformed(struct fx *f)
{
	static const char *const bad[] = {
		"{bad\n",
		"{\"cmd\":\"echo\",\"extra\":1}\n",
		"[1,2,3]\n",
		"{\"cmd\":\"echo\"}\0\n",
	};
	static const size_t len[] = { 5, 25, 8, 16 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = raw_connect(f->path);

		/* A valid request first: it is answered before the bad one. */
		raw_send(fd, "{\"cmd\":\"echo\"}\n", 15);
		raw_send(fd, bad[i], len[i]);
		raw_send(fd, "{\"cmd\":\"echo\"}\n", 15);
		raw_read_log(f, fd);
		raw_read_log(f, fd);
		raw_read_log(f, fd); /* closed: nothing after the bad line is read */
		close(fd);
	}
}

static void test_malformed_json(void)
{
	struct fx f;

	fx_init(&f);
	CU_ASSERT_EQUAL_FATAL(fx_listen(&f), 0);
	fx_run(&f, client_malformed);
	CU_ASSERT_STRING_EQUAL(f.log, "ok:{}|err:invalid|closed|ok:{}|err:invalid|closed|"
				      "ok:{}|err:invalid|closed|ok:{}|err:invalid|closed");
}

static void client_oversize(struct fx *f)
{
	size_t cap = NTM_CTL_REQUEST_MAX + 4096;
	char *big = ntm_malloc(cap);
	int fd, n;

	/* Exactly NTM_CTL_REQUEST_MAX bytes before the newline: accepted. */
	memset(big, ' ', cap);
	n = snprintf(big, cap, "{\"cmd\":\"echo\",\"args\":{\"k\":\"v\"}}");
	big[n] = ' ';
	big[NTM_CTL_REQUEST_MAX] = '\n';
	fd = raw_connect(f->path);
	raw_send(fd, big, NTM_CTL_REQUEST_MAX + 1);
	raw_read_log(f, fd);
	/* One byte more, without a newline: refused, connection closed. */
	memset(big, 'a', cap);
	raw_send(fd, big, cap);
	raw_read_log(f, fd);
	raw_read_log(f, fd);
	close(fd);
	ntm_free(big);
}

static void test_oversize_request(void)
{
	struct fx f;

	fx_init(&f);
	CU_ASSERT_EQUAL_FATAL(fx_listen(&f), 0);
	fx_run(&f, client_oversize);
	CU_ASSERT_STRING_EQUAL(f.log, "ok:{\"k\":\"v\"}|err:invalid|closed");
	CU_ASSERT_STRING_EQUAL(f.text, "request too large");
}

static void client_limit(struct fx *f)
{
	int fds[NTM_CTL_CONN_MAX + 1];

	for (int i = 0; i <= NTM_CTL_CONN_MAX; i++) {
		fds[i] = raw_connect(f->path);
	}
	/* The one over the limit is closed at once; the others are served. */
	raw_read_log(f, fds[NTM_CTL_CONN_MAX]);
	raw_send(fds[0], "{\"cmd\":\"echo\"}\n", 15);
	raw_read_log(f, fds[0]);
	raw_send(fds[NTM_CTL_CONN_MAX - 1], "{\"cmd\":\"echo\"}\n", 15);
	raw_read_log(f, fds[NTM_CTL_CONN_MAX - 1]);
	for (int i = 0; i <= NTM_CTL_CONN_MAX; i++) {
		close(fds[i]);
	}
	/* Once they are gone, new connections are served again. */
	usleep(100 * 1000);
	call_log(f, "echo", NULL, 2000);
}

static void test_connection_limit(void)
{
	struct fx f;

	fx_init(&f);
	CU_ASSERT_EQUAL_FATAL(fx_listen(&f), 0);
	fx_run(&f, client_limit);
	CU_ASSERT_STRING_EQUAL(f.log, "closed|ok:{}|ok:{}|ok:{}");
}

static void client_close_pending(struct fx *f)
{
	int fd = raw_connect(f->path);

	raw_send(fd, "{\"cmd\":\"hold\"}\n", 15);
	wait_for(&f->handled, 1);
	client_done(f); /* the loop closes the server while the request waits */
	raw_read_log(f, fd);
	close(fd);
}

static void test_server_close_cancels_pending(void)
{
	struct fx f;

	fx_init(&f);
	CU_ASSERT_EQUAL_FATAL(fx_listen(&f), 0);
	fx_run(&f, client_close_pending);
	CU_ASSERT_STRING_EQUAL(f.log, "closed");
	CU_ASSERT_EQUAL(f.cancels, 1);
	CU_ASSERT_EQUAL(f.cancels_before_close, 0);
}

static void client_timeout(struct fx *f)
{
	char missing[256];

	call_log(f, "hold", NULL, 100);
	snprintf(missing, sizeof(missing), "%s/missing.sock", f->dir);
	json_object *resp = (json_object *)1;
	int rc = ntm_ctl_call(missing, "status", NULL, 1000, &resp);

	logf_(f, "%s:%s", rc == -ENOENT ? "ENOENT" : ntm_strerror(rc), resp ? "set" : "null");
	wait_for(&f->cancels, 1);
}

static void test_client_timeout_and_missing(void)
{
	struct fx f;
	json_object *resp;
	char longpath[200];

	fx_init(&f);
	CU_ASSERT_EQUAL_FATAL(fx_listen(&f), 0);
	fx_run(&f, client_timeout);
	CU_ASSERT_STRING_EQUAL(f.log, "rc:ETIMEDOUT|ENOENT:null");
	CU_ASSERT_EQUAL(f.cancels_before_close, 1); /* the client went away */
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	CU_ASSERT_EQUAL(ntm_ctl_call(longpath, "status", NULL, 100, &resp), -ENAMETOOLONG);
}

static void client_nothing(struct fx *f)
{
}

static void test_socket_mode(void)
{
	struct ntm_ctl_config cfg = { .cmds = cmds, .n_cmds = 1 };
	struct ntm_ctl_server *srv2 = NULL;
	char sub[160], path2[200];
	mode_t old = umask(0);
	struct stat st;
	struct fx f;

	fx_init(&f);
	CU_ASSERT_EQUAL_FATAL(fx_listen(&f), 0);
	CU_ASSERT_EQUAL(stat(f.path, &st), 0);
	CU_ASSERT_TRUE(S_ISSOCK(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	/* A group socket, in a parent directory made 0755 despite umask 077. */
	umask(077);
	snprintf(sub, sizeof(sub), "%s/run", f.dir);
	snprintf(path2, sizeof(path2), "%s/grp.sock", sub);
	cfg.path = path2;
	cfg.has_group = true;
	cfg.group = getgid();
	CU_ASSERT_EQUAL(ntm_ctl_server_create(&f.loop, &cfg, &srv2), 0);
	umask(old);
	CU_ASSERT_EQUAL(stat(sub, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0755);
	CU_ASSERT_EQUAL(stat(path2, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0660);
	CU_ASSERT_EQUAL(st.st_gid, getgid());
	ntm_ctl_server_close(srv2, NULL, NULL);
	fx_run(&f, client_nothing);
	CU_ASSERT_EQUAL(access(path2, F_OK), -1);
	rmdir(sub);
	rmdir(f.dir);
}

static void test_stale_socket_replaced(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fx f;
	int fd;

	fx_init(&f);
	/* A socket file nobody listens on, as a crashed daemon leaves it. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(strlen(f.path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, f.path, strlen(f.path) + 1);
	CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	CU_ASSERT_EQUAL(access(f.path, F_OK), 0);
	CU_ASSERT_EQUAL_FATAL(fx_listen(&f), 0);
	fx_run(&f, client_basic);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.log, "ok:{\"a\":1}"));
}

static void test_live_socket_refused(void)
{
	struct ntm_ctl_config cfg = { .cmds = cmds, .n_cmds = 1 };
	struct ntm_ctl_server *srv2 = (struct ntm_ctl_server *)1;
	char file[200];
	struct stat st;
	struct fx f;
	FILE *fp;

	fx_init(&f);
	CU_ASSERT_EQUAL_FATAL(fx_listen(&f), 0);
	cfg.path = f.path;
	CU_ASSERT_EQUAL(ntm_ctl_server_create(&f.loop, &cfg, &srv2), -EADDRINUSE);
	CU_ASSERT_PTR_NULL(srv2);
	/* Something that is not a socket is never removed. */
	snprintf(file, sizeof(file), "%s/file", f.dir);
	fp = fopen(file, "w");
	fclose(fp);
	cfg.path = file;
	CU_ASSERT_EQUAL(ntm_ctl_server_create(&f.loop, &cfg, &srv2), -EEXIST);
	CU_ASSERT_EQUAL(stat(file, &st), 0);
	CU_ASSERT_TRUE(S_ISREG(st.st_mode));
	unlink(file);
	/* A "help" in the table would hide the built-in one. */
	static const struct ntm_ctl_cmd dup[] = { { "help", NTM_CTL_READ, h_echo, "" } };
	cfg.path = file;
	cfg.cmds = dup;
	CU_ASSERT_EQUAL(ntm_ctl_server_create(&f.loop, &cfg, &srv2), -EINVAL);
	/* The first server is unharmed. */
	fx_run(&f, client_basic);
	CU_ASSERT_PTR_NOT_NULL(strstr(f.log, "ok:{\"a\":1}"));
}

static void test_create_alloc_failure(void)
{
	for (long n = 0; n < 4; n++) {
		struct fx f;
		int rc;

		fx_init(&f);
		ntm_alloc_fail_after(n);
		rc = fx_listen(&f);
		ntm_alloc_fail_reset();
		CU_ASSERT_TRUE(rc == 0 || rc == -ENOMEM);
		if (n == 0) {
			CU_ASSERT_EQUAL(rc, -ENOMEM);
		}
		if (rc < 0) {
			f.server_closed = 1; /* nothing to close */
		}
		fx_run(&f, client_nothing);
	}
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_request_response),
	NTM_TEST(test_async_reply),
	NTM_TEST(test_pipelining),
	NTM_TEST(test_disconnect_before_async_reply),
	NTM_TEST(test_malformed_json),
	NTM_TEST(test_oversize_request),
	NTM_TEST(test_connection_limit),
	NTM_TEST(test_server_close_cancels_pending),
	NTM_TEST(test_client_timeout_and_missing),
	NTM_TEST(test_socket_mode),
	NTM_TEST(test_stale_socket_replaced),
	NTM_TEST(test_live_socket_refused),
	NTM_TEST(test_create_alloc_failure),
};

NTM_TEST_MAIN("ctlserver", cases)
