/* SPDX-License-Identifier: MIT */
#ifndef RCP_AGENT_COMMAND_H
#define RCP_AGENT_COMMAND_H

/*
 * The command driver's runner: one configured program, started with
 * uv_spawn (an argv, never a shell) in a process group of its own, with
 * stdin from /dev/null, a clean environment, stdout captured up to
 * RCP_COMMAND_OUT_MAX bytes and the first line of stderr kept for the log.
 * A program still running at its timeout is killed (SIGKILL to the process
 * group we created, i.e. the PID we spawned and whatever it started) and
 * the run fails with -ETIMEDOUT.
 *
 * A reading is the program's stdout: one value (rcp_command_parse_reading).
 * An action gets the value as its last argument; its first stdout line, if
 * any, is the result text.
 */

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "recipe/agent/config.h"

struct rcp_command;

enum {
	RCP_COMMAND_OUT_MAX = 256, /* bytes of stdout kept; more is a failure */
	RCP_COMMAND_ERR_MAX = 160, /* bytes of stderr's first line kept */
	RCP_COMMAND_WHY_MAX = 320,
	RCP_COMMAND_ENV_MAX = 4, /* NAME=value entries the caller may add */
};

struct rcp_command_spec {
	const char *const *argv; /* NULL-terminated, argv[0] absolute; read during the call */
	const char *const *env;	 /* extra "NAME=value" (<= ENV_MAX), NULL-terminated, or NULL */
	uint64_t timeout_ms;
};

/*
 * The outcome: rc 0 when the program exited with status 0 and its stdout
 * fit, else -ETIMEDOUT (killed at the timeout), -EIO (non-zero status or a
 * signal), -EFBIG (stdout over RCP_COMMAND_OUT_MAX) or a libuv error; why
 * says so in words, with the stderr line. out/why are valid only during the
 * callback; out is NUL-terminated.
 */
struct rcp_command_result {
	int rc;
	int64_t pid;
	const char *out;
	size_t len;
	const char *why;
};

typedef void (*rcp_command_done_cb)(const struct rcp_command_result *res, void *arg);

/*
 * Start spec on loop; done(res, arg) is called exactly once, later, unless
 * the run is cancelled first. The object frees itself after done returns.
 * On failure (nothing started, done never called) *out is NULL and why
 * (whylen bytes) says what failed. *out is only for rcp_command_cancel and
 * rcp_command_pid and is invalid once done has been called.
 */
NTM_MUST_CHECK int rcp_command_start(uv_loop_t *loop, const struct rcp_command_spec *spec,
				     rcp_command_done_cb done, void *arg, struct rcp_command **out,
				     char *why, size_t whylen);

/* Kill the program and free the run; done is not called. NULL-safe. */
void rcp_command_cancel(struct rcp_command *c);

int64_t rcp_command_pid(const struct rcp_command *c);

/*
 * A reading from a program's stdout (len bytes, need not be terminated):
 * one value of p's type on one line, surrounding blanks and one final
 * newline allowed. *out is zeroed on entry; -EINVAL with why on anything
 * else (empty, two lines, NUL bytes, not a value of the type).
 */
NTM_MUST_CHECK int rcp_command_parse_reading(const struct rcp_point_conf *p, const char *s,
					     size_t len, struct rcp_value *out, char *why,
					     size_t whylen);

/*
 * The result text of an action from its stdout: the first line, printable
 * ASCII only (others become '?'), at most cap - 1 bytes; "done" when empty.
 */
void rcp_command_result_text(const char *s, size_t len, char *out, size_t cap);

#endif
