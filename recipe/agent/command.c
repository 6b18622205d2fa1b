/* SPDX-License-Identifier: MIT */
/*
 * The command driver's runner (command.h). A run owns four handles (the
 * process, two pipes, the timeout timer) and ends when the process has
 * exited and both pipes are at end of file; then done() is called once and
 * the handles are closed, the last close callback freeing the run. At the
 * timeout the process group is killed and the pipes are no longer waited
 * for, so a grandchild that keeps stdout open cannot hold the run either.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/agent/command.h"

enum { PROG_NAME_MAX = 128, SCRATCH = 512 };

struct rcp_command {
	uv_process_t proc;
	uv_pipe_t out_pipe, err_pipe;
	uv_timer_t timer;
	unsigned pending_close;
	bool exited, out_eof, err_eof, timed_out, oversize, finished, err_line_done;
	int64_t status;
	int term_signal;
	uint64_t timeout_ms;
	rcp_command_done_cb done;
	void *arg;
	char prog[PROG_NAME_MAX + 1];
	char out[RCP_COMMAND_OUT_MAX + 1];
	size_t out_len;
	char err[RCP_COMMAND_ERR_MAX + 1];
	size_t err_len;
	char scratch[SCRATCH];
};

static void on_closed(uv_handle_t *h)
{
	struct rcp_command *c = h->data;

	if (--c->pending_close == 0) {
		ntm_free(c);
	}
}

static void close_all(struct rcp_command *c)
{
	c->pending_close = 4;
	uv_close((uv_handle_t *)&c->proc, on_closed);
	uv_close((uv_handle_t *)&c->out_pipe, on_closed);
	uv_close((uv_handle_t *)&c->err_pipe, on_closed);
	uv_close((uv_handle_t *)&c->timer, on_closed);
}

static int describe(struct rcp_command *c, char *why, size_t cap)
{
	const char *err = c->err_len > 0 ? c->err : "(nothing on stderr)";

	if (c->timed_out) {
		snprintf(why, cap, "%s: timed out after %llu ms, killed (pid %d)", c->prog,
			 (unsigned long long)c->timeout_ms, c->proc.pid);
		return -ETIMEDOUT;
	}
	if (c->term_signal != 0) {
		snprintf(why, cap, "%s: killed by signal %d: %s", c->prog, c->term_signal, err);
		return -EIO;
	}
	if (c->status != 0) {
		snprintf(why, cap, "%s: exited with status %lld: %s", c->prog, (long long)c->status,
			 err);
		return -EIO;
	}
	if (c->oversize) {
		snprintf(why, cap, "%s: more than %d bytes on stdout", c->prog,
			 RCP_COMMAND_OUT_MAX);
		return -EFBIG;
	}
	snprintf(why, cap, "%s: ok", c->prog);
	return 0;
}

static void maybe_finish(struct rcp_command *c)
{
	char why[RCP_COMMAND_WHY_MAX];
	struct rcp_command_result res;

	if (c->finished || !c->exited || !c->out_eof || !c->err_eof) {
		return;
	}
	c->finished = true;
	uv_timer_stop(&c->timer);
	res.rc = describe(c, why, sizeof(why));
	res.pid = c->proc.pid;
	res.out = c->out;
	res.len = c->out_len;
	res.why = why;
	c->out[c->out_len] = '\0';
	if (c->done != NULL) {
		c->done(&res, c->arg);
	}
	close_all(c);
}

static void on_exit(uv_process_t *p, int64_t status, int term_signal)
{
	struct rcp_command *c = p->data;

	c->exited = true;
	c->status = status;
	c->term_signal = term_signal;
	maybe_finish(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct rcp_command *c = h->data;

	(void)suggested;
	if ((uv_pipe_t *)h == &c->out_pipe && c->out_len < RCP_COMMAND_OUT_MAX) {
		*buf = uv_buf_init(c->out + c->out_len,
				   (unsigned)(RCP_COMMAND_OUT_MAX - c->out_len));
	} else {
		*buf = uv_buf_init(c->scratch, sizeof(c->scratch));
	}
}

/* Keep the first line of stderr, printable bytes only (it goes to the log). */
static void keep_err(struct rcp_command *c, const char *s, size_t n)
{
	for (size_t i = 0; i < n && !c->err_line_done; i++) {
		if (s[i] == '\n' || c->err_len == RCP_COMMAND_ERR_MAX) {
			c->err_line_done = c->err_len > 0 || s[i] != '\n';
			continue;
		}
		c->err[c->err_len++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
		c->err[c->err_len] = '\0';
	}
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct rcp_command *c = st->data;
	bool is_out = (uv_pipe_t *)st == &c->out_pipe;

	if (n < 0) {
		uv_read_stop(st);
		*(is_out ? &c->out_eof : &c->err_eof) = true;
		maybe_finish(c);
		return;
	}
	if (!is_out) {
		keep_err(c, buf->base, (size_t)n);
	} else if (buf->base == c->scratch) {
		c->oversize |= n > 0;
	} else {
		c->out_len += (size_t)n;
	}
}

static void on_timeout(uv_timer_t *t)
{
	struct rcp_command *c = t->data;

	/* Also after the exit: then something it started still holds the pipes. */
	c->timed_out = true;
	if (!c->exited) {
		/* The group setsid() made for it, and the child itself if it had no time to. */
		(void)uv_kill(-c->proc.pid, SIGKILL);
		(void)uv_process_kill(&c->proc, SIGKILL);
	}
	uv_read_stop((uv_stream_t *)&c->out_pipe);
	uv_read_stop((uv_stream_t *)&c->err_pipe);
	c->out_eof = c->err_eof = true;
	maybe_finish(c);
}

static int spawn(uv_loop_t *loop, struct rcp_command *c, const struct rcp_command_spec *spec)
{
	const char *env[RCP_COMMAND_ENV_MAX + 2] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin" };
	uv_stdio_container_t stdio[3];
	uv_process_options_t o;
	size_t n = 1;

	for (size_t i = 0; spec->env != NULL && spec->env[i] != NULL; i++) {
		if (n > RCP_COMMAND_ENV_MAX) {
			return -E2BIG;
		}
		env[n++] = spec->env[i];
	}
	memset(&o, 0, sizeof(o));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&c->out_pipe;
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&c->err_pipe;
	o.exit_cb = on_exit;
	o.file = spec->argv[0];
	o.args = (char **)spec->argv;
	o.env = (char **)env;
	o.stdio = stdio;
	o.stdio_count = 3;
	o.flags = UV_PROCESS_DETACHED; /* setsid: a process group to kill at the timeout */
	return uv_spawn(loop, &c->proc, &o);
}

int rcp_command_start(uv_loop_t *loop, const struct rcp_command_spec *spec,
		      rcp_command_done_cb done, void *arg, struct rcp_command **out, char *why,
		      size_t whylen)
{
	struct rcp_command *c;
	int rc;

	*out = NULL;
	if (spec->argv == NULL || spec->argv[0] == NULL || spec->argv[0][0] != '/') {
		snprintf(why, whylen, "the program is not an absolute path");
		return -EINVAL;
	}
	c = ntm_calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(why, whylen, "%s: out of memory", spec->argv[0]);
		return -ENOMEM;
	}
	snprintf(c->prog, sizeof(c->prog), "%s", spec->argv[0]);
	c->done = done;
	c->arg = arg;
	c->timeout_ms = spec->timeout_ms;
	uv_pipe_init(loop, &c->out_pipe, 0);
	uv_pipe_init(loop, &c->err_pipe, 0);
	uv_timer_init(loop, &c->timer);
	c->proc.data = c->out_pipe.data = c->err_pipe.data = c->timer.data = c;
	rc = spawn(loop, c, spec);
	if (rc < 0) {
		/* uv_spawn initialised the process handle: it is closed like the others. */
		snprintf(why, whylen, "%s: cannot start: %s", c->prog, ntm_strerror(rc));
		c->proc.data = c;
		close_all(c);
		return rc;
	}
	uv_read_start((uv_stream_t *)&c->out_pipe, on_alloc, on_read);
	uv_read_start((uv_stream_t *)&c->err_pipe, on_alloc, on_read);
	uv_timer_start(&c->timer, on_timeout, spec->timeout_ms, 0);
	*out = c;
	return 0;
}

void rcp_command_cancel(struct rcp_command *c)
{
	if (c == NULL || c->finished) {
		return;
	}
	c->done = NULL;
	c->timeout_ms = 0;
	if (!c->exited) {
		(void)uv_kill(-c->proc.pid, SIGKILL);
		(void)uv_process_kill(&c->proc, SIGKILL);
	}
	/* The exit callback still comes (SIGKILL) and reaps the child; then it is freed. */
	uv_read_stop((uv_stream_t *)&c->out_pipe);
	uv_read_stop((uv_stream_t *)&c->err_pipe);
	c->out_eof = c->err_eof = true;
	maybe_finish(c);
}

int64_t rcp_command_pid(const struct rcp_command *c)
{
	return c->proc.pid;
}

int rcp_command_parse_reading(const struct rcp_point_conf *p, const char *s, size_t len,
			      struct rcp_value *out, char *why, size_t whylen)
{
	size_t b = 0;

	memset(out, 0, sizeof(*out));
	if (len > 0 && s[len - 1] == '\n') {
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r')) {
		len--;
	}
	while (b < len && (s[b] == ' ' || s[b] == '\t')) {
		b++;
	}
	if (b == len) {
		snprintf(why, whylen, "no value on stdout");
		return -EINVAL;
	}
	if (memchr(s + b, '\n', len - b) != NULL || memchr(s + b, '\0', len - b) != NULL ||
	    memchr(s + b, '\r', len - b) != NULL) {
		snprintf(why, whylen, "stdout is not one line");
		return -EINVAL;
	}
	if (rcp_point_parse_value(p, s + b, len - b, out) < 0) {
		snprintf(why, whylen, "stdout is not a value of the configured type");
		return -EINVAL;
	}
	return 0;
}

void rcp_command_result_text(const char *s, size_t len, char *out, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < len && s[i] != '\n' && k + 1 < cap; i++) {
		if (s[i] == '\r' && (i + 1 == len || s[i + 1] == '\n')) {
			break;
		}
		out[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	}
	out[k] = '\0';
	if (k == 0) {
		snprintf(out, cap, "done");
	}
}
