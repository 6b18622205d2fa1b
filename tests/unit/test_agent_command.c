/* SPDX-License-Identifier: MIT */
/*
 * The command driver's runner with real child processes: shell scripts the
 * test writes to a temporary directory, run on a private loop. Success and
 * its reading, a non-zero exit with stderr's first line, a timeout that
 * kills the child and what it started, oversized output, argv without a
 * shell, a clean environment, cancel, a missing program, allocation
 * failure, and the reading parser. Every loop must close cleanly.
 */
#include "recipe/agent/command.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "ntm_test.h"

struct fixture {
	char dir[64];
	uv_loop_t loop;
	int calls;
	int rc;
	int64_t pid;
	char out[RCP_COMMAND_OUT_MAX + 1];
	size_t len;
	char why[RCP_COMMAND_WHY_MAX];
};

static void fx_init(struct fixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_agent_command.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(fx->dir));
	CU_ASSERT_EQUAL_FATAL(uv_loop_init(&fx->loop), 0);
}

static void fx_fini(struct fixture *fx)
{
	char cmd[128];

	CU_ASSERT_EQUAL(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
	CU_ASSERT_EQUAL(uv_loop_close(&fx->loop), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

/* DIR/name with "#!/bin/sh" and body, mode 0755; its path in path. */
static void script(struct fixture *fx, const char *name, const char *body, char *path, size_t cap)
{
	FILE *f;

	snprintf(path, cap, "%s/%s", fx->dir, name);
	f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0755), 0);
}

static void on_done(const struct rcp_command_result *res, void *arg)
{
	struct fixture *fx = arg;

	fx->calls++;
	fx->rc = res->rc;
	fx->pid = res->pid;
	CU_ASSERT(res->len <= RCP_COMMAND_OUT_MAX);
	memcpy(fx->out, res->out, res->len + 1);
	fx->len = res->len;
	snprintf(fx->why, sizeof(fx->why), "%s", res->why);
}

/* Run argv with a timeout to completion; returns what start returned. */
static int run(struct fixture *fx, const char *const *argv, const char *const *env, uint64_t ms)
{
	const struct rcp_command_spec spec = { .argv = argv, .env = env, .timeout_ms = ms };
	struct rcp_command *c;
	char why[RCP_COMMAND_WHY_MAX];
	int rc = rcp_command_start(&fx->loop, &spec, on_done, fx, &c, why, sizeof(why));

	if (rc < 0) {
		snprintf(fx->why, sizeof(fx->why), "%s", why);
		CU_ASSERT_PTR_NULL(c);
	}
	CU_ASSERT_EQUAL(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
	return rc;
}

/* The process is gone: no /proc entry, or a zombie nobody of ours waits for. */
static bool is_gone(long pid)
{
	char path[64], buf[256];
	FILE *f;
	bool gone = true;

	for (int i = 0; i < 200; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		f = fopen(path, "r");
		if (f == NULL) {
			return true;
		}
		gone = fgets(buf, sizeof(buf), f) != NULL && strstr(buf, ") Z ") != NULL;
		fclose(f);
		if (gone) {
			return true;
		}
		usleep(10000);
	}
	return false;
}

static long read_pid(struct fixture *fx, const char *name)
{
	char path[128];
	long pid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	f = fopen(path, "r");
	if (f != NULL) {
		if (fscanf(f, "%ld", &pid) != 1) {
			pid = -1;
		}
		fclose(f);
	}
	return pid;
}

static void test_success(void)
{
	struct fixture fx;
	char prog[128];
	const char *argv[] = { prog, NULL };
	struct rcp_point_conf p = { .type = RCP_POINT_NUMBER };
	struct rcp_value v;

	fx_init(&fx);
	script(&fx, "thermo", "echo 21.5", prog, sizeof(prog));
	CU_ASSERT_EQUAL(run(&fx, argv, NULL, 5000), 0);
	CU_ASSERT_EQUAL(fx.calls, 1);
	CU_ASSERT_EQUAL(fx.rc, 0);
	CU_ASSERT_STRING_EQUAL(fx.out, "21.5\n");
	CU_ASSERT(fx.pid > 0);
	CU_ASSERT_EQUAL(rcp_command_parse_reading(&p, fx.out, fx.len, &v, fx.why, sizeof(fx.why)),
			0);
	CU_ASSERT_EQUAL(v.type, RCP_VAL_NUMBER);
	CU_ASSERT_EQUAL(v.num, 215 * RCP_NUM_SCALE / 10);
	rcp_value_fini(&v);
	fx_fini(&fx);
}

static void test_nonzero_exit(void)
{
	struct fixture fx;
	char prog[128];
	const char *argv[] = { prog, NULL };

	fx_init(&fx);
	script(&fx, "bad", "echo 7\necho 'bus error on i2c-1' >&2\necho second line >&2\nexit 3",
	       prog, sizeof(prog));
	CU_ASSERT_EQUAL(run(&fx, argv, NULL, 5000), 0);
	CU_ASSERT_EQUAL(fx.calls, 1);
	CU_ASSERT_EQUAL(fx.rc, -EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.why, "exited with status 3: bus error on i2c-1"));
	CU_ASSERT_PTR_NULL(strstr(fx.why, "second"));
	fx_fini(&fx);
}

static void test_timeout_kills(void)
{
	struct fixture fx;
	char prog[128], body[512];
	const char *argv[] = { prog, NULL };
	long pid, gpid;

	fx_init(&fx);
	/* The child and a grandchild that keeps stdout open: both must die. */
	snprintf(body, sizeof(body),
		 "echo $$ > %s/pid\nsleep 60 &\necho $! > %s/gpid\necho partial\nwait", fx.dir,
		 fx.dir);
	script(&fx, "hang", body, prog, sizeof(prog));
	CU_ASSERT_EQUAL(run(&fx, argv, NULL, 300), 0);
	CU_ASSERT_EQUAL(fx.calls, 1);
	CU_ASSERT_EQUAL(fx.rc, -ETIMEDOUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.why, "timed out after 300 ms, killed"));
	pid = read_pid(&fx, "pid");
	gpid = read_pid(&fx, "gpid");
	CU_ASSERT_EQUAL(pid, fx.pid);
	CU_ASSERT(pid > 0 && gpid > 0);
	CU_ASSERT(is_gone(pid));
	CU_ASSERT(is_gone(gpid));
	fx_fini(&fx);
}

static void test_oversized(void)
{
	struct fixture fx;
	char prog[128];
	const char *argv[] = { prog, NULL };

	fx_init(&fx);
	script(&fx, "chatty", "i=0; while [ $i -lt 100 ]; do echo 0123456789; i=$((i+1)); done",
	       prog, sizeof(prog));
	CU_ASSERT_EQUAL(run(&fx, argv, NULL, 5000), 0);
	CU_ASSERT_EQUAL(fx.calls, 1);
	CU_ASSERT_EQUAL(fx.rc, -EFBIG);
	CU_ASSERT_EQUAL(fx.len, RCP_COMMAND_OUT_MAX);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.why, "more than 256 bytes"));
	fx_fini(&fx);
}

static void test_argv_and_env(void)
{
	struct fixture fx;
	char prog[128];
	const char *argv[] = { prog, "a b;c", "$(id)", NULL };
	const char *env[] = { "NTM_KEY=a.example.net/r/1/0", NULL };

	fx_init(&fx);
	script(&fx, "args",
	       "printf '%s|%s|%s|%s' \"$#\" \"$1\" \"$2\" \"$NTM_KEY:${HOME:-nohome}\"", prog,
	       sizeof(prog));
	CU_ASSERT_EQUAL(run(&fx, argv, env, 5000), 0);
	CU_ASSERT_EQUAL(fx.rc, 0);
	CU_ASSERT_STRING_EQUAL(fx.out, "2|a b;c|$(id)|a.example.net/r/1/0:nohome");
	fx_fini(&fx);
}

static void test_cancel(void)
{
	struct fixture fx;
	char prog[128], body[256];
	const char *argv[] = { prog, NULL };
	const struct rcp_command_spec spec = { .argv = argv, .timeout_ms = 60000 };
	struct rcp_command *c;
	long pid = -1;

	fx_init(&fx);
	snprintf(body, sizeof(body), "echo $$ > %s/pid\nexec sleep 60", fx.dir);
	script(&fx, "sleepy", body, prog, sizeof(prog));
	CU_ASSERT_EQUAL_FATAL(
		rcp_command_start(&fx.loop, &spec, on_done, &fx, &c, fx.why, sizeof(fx.why)), 0);
	for (int i = 0; i < 200 && pid <= 0; i++) {
		uv_run(&fx.loop, UV_RUN_NOWAIT);
		usleep(10000);
		pid = read_pid(&fx, "pid");
	}
	CU_ASSERT_EQUAL(pid, rcp_command_pid(c));
	rcp_command_cancel(c);
	CU_ASSERT_EQUAL(uv_run(&fx.loop, UV_RUN_DEFAULT), 0);
	CU_ASSERT_EQUAL(fx.calls, 0);
	CU_ASSERT(is_gone(pid));
	fx_fini(&fx);
}

static void test_start_failures(void)
{
	struct fixture fx;
	const char *missing[] = { "/nonexistent/ntm-test-program", NULL };
	const char *relative[] = { "sh", NULL };
	const char *sh[] = { "/bin/sh", "-c", "true", NULL };

	fx_init(&fx);
	CU_ASSERT_EQUAL(run(&fx, missing, NULL, 1000), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(fx.why, "cannot start"));
	CU_ASSERT_EQUAL(run(&fx, relative, NULL, 1000), -EINVAL);
	ntm_alloc_fail_after(0);
	CU_ASSERT_EQUAL(run(&fx, sh, NULL, 1000), -ENOMEM);
	ntm_alloc_fail_reset();
	CU_ASSERT_EQUAL(fx.calls, 0);
	CU_ASSERT_EQUAL(run(&fx, sh, NULL, 1000), 0);
	CU_ASSERT_EQUAL(fx.calls, 1);
	CU_ASSERT_EQUAL(fx.rc, 0);
	fx_fini(&fx);
}

static void test_parse_reading(void)
{
	char *words[] = { "open", "closed" };
	struct rcp_point_conf num = { .type = RCP_POINT_NUMBER };
	struct rcp_point_conf b = { .type = RCP_POINT_BOOLEAN };
	struct rcp_point_conf e = { .type = RCP_POINT_ENUM,
				    .values = { words[0], words[1] },
				    .n_values = 2 };
	struct rcp_value v;
	char why[128], text[16];

	CU_ASSERT_EQUAL(rcp_command_parse_reading(&num, "  -3.25 \r\n", 10, &v, why, sizeof(why)),
			0);
	CU_ASSERT_EQUAL(v.num, -325 * RCP_NUM_SCALE / 100);
	CU_ASSERT_EQUAL(rcp_command_parse_reading(&b, "on\n", 3, &v, why, sizeof(why)), 0);
	CU_ASSERT(v.b);
	CU_ASSERT_EQUAL(rcp_command_parse_reading(&e, "closed", 6, &v, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(v.text, "closed");
	rcp_value_fini(&v);
	CU_ASSERT_EQUAL(rcp_command_parse_reading(&num, "1\n2\n", 4, &v, why, sizeof(why)),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(why, "stdout is not one line");
	CU_ASSERT_EQUAL(rcp_command_parse_reading(&num, " \n", 2, &v, why, sizeof(why)), -EINVAL);
	CU_ASSERT_EQUAL(rcp_command_parse_reading(&num, "1\0002", 3, &v, why, sizeof(why)),
			-EINVAL);
	CU_ASSERT_EQUAL(rcp_command_parse_reading(&e, "ajar", 4, &v, why, sizeof(why)), -EINVAL);
	CU_ASSERT_EQUAL(v.type, RCP_VAL_NONE);
	rcp_command_result_text("switched\nmore", 13, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "switched");
	rcp_command_result_text("", 0, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "done");
	rcp_command_result_text("a\x01verylongresultline", 21, text, sizeof(text));
	CU_ASSERT_STRING_EQUAL(text, "a?verylongresul");
}

int main(void)
{
	static const struct ntm_test_case cases[] = {
		NTM_TEST(test_success),	       NTM_TEST(test_nonzero_exit),
		NTM_TEST(test_timeout_kills),  NTM_TEST(test_oversized),
		NTM_TEST(test_argv_and_env),   NTM_TEST(test_cancel),
		NTM_TEST(test_start_failures), NTM_TEST(test_parse_reading),
	};

	signal(SIGPIPE, SIG_IGN);
	return ntm_test_run("agent_command", cases, sizeof(cases) / sizeof(cases[0]));
}
