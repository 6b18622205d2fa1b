/* SPDX-License-Identifier: MIT */
/*
 * OnProvisioned's runner (recipe/agent/hook.h): status, environment, and
 * the timeout killing the command with what it started.
 */
#include "recipe/agent/hook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ntm_test.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_status(void)
{
	char why[128];

	CU_ASSERT_EQUAL(rcp_hook_run("true", NULL, 5000, why, sizeof(why)), 0);
	CU_ASSERT_STRING_EQUAL(why, "exited 0");
	CU_ASSERT_EQUAL(rcp_hook_run("exit 3", NULL, 5000, why, sizeof(why)), -EIO);
	CU_ASSERT_STRING_EQUAL(why, "exited 3");
	CU_ASSERT_EQUAL(rcp_hook_run("kill -TERM $$", NULL, 5000, why, sizeof(why)), -EIO);
	CU_ASSERT_STRING_EQUAL(why, "killed by signal 15");
	CU_ASSERT_EQUAL(rcp_hook_run("/nonexistent/program", NULL, 5000, why, sizeof(why)), -EIO);
	CU_ASSERT_STRING_EQUAL(why, "exited 127");
}

static void test_env_and_stdin(void)
{
	const char *const env[] = { "NTM_NODE_CONFIG=/etc/ntm/ntm0.conf",
				    "NTM_NODE_NAME=a.example.net", NULL };
	char why[128];

	CU_ASSERT_EQUAL(rcp_hook_run("test \"$NTM_NODE_CONFIG\" = /etc/ntm/ntm0.conf && "
				     "test \"$NTM_NODE_NAME\" = a.example.net",
				     env, 5000, why, sizeof(why)),
			0);
	/* stdin is /dev/null: read gets end of file at once */
	CU_ASSERT_EQUAL(rcp_hook_run("! read x", NULL, 5000, why, sizeof(why)), 0);
	/* the agent's own environment is not changed */
	CU_ASSERT_PTR_NULL(getenv("NTM_NODE_NAME"));
}

static void test_timeout_kills_the_group(void)
{
	char why[128], cmd[256], path[] = "/tmp/ntm-test-hook.XXXXXX";
	double t0;
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	/* a grandchild that would write the file after 1 s, unless it is killed with the group */
	snprintf(cmd, sizeof(cmd), "(sleep 1; echo late >%s) & sleep 30", path);
	t0 = now_s();
	CU_ASSERT_EQUAL(rcp_hook_run(cmd, NULL, 200, why, sizeof(why)), -ETIMEDOUT);
	CU_ASSERT(now_s() - t0 < 5.0);
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "killed"));
	sleep(2);
	{
		FILE *f = fopen(path, "r");
		char buf[16] = "";

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		CU_ASSERT_PTR_NULL(fgets(buf, sizeof(buf), f)); /* still empty */
		fclose(f);
	}
	unlink(path);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_status),
	NTM_TEST(test_env_and_stdin),
	NTM_TEST(test_timeout_kills_the_group),
};

NTM_TEST_MAIN("agent_hook", cases)
