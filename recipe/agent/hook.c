/* SPDX-License-Identifier: MIT */
#include "recipe/agent/hook.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { POLL_MS = 20 };

/* In the child: never returns. Only async-signal-safe calls and putenv before exec. */
static void child(const char *command, const char *const *env)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	setpgid(0, 0); /* a group of our own: the timeout kills what the command started */
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
	}
	for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
		putenv((char *)env[i]); /* the child's copy of the environment */
	}
	execl("/bin/sh", "sh", "-c", command, (char *)NULL);
	_exit(127);
}

int rcp_hook_run(const char *command, const char *const *env, uint32_t timeout_ms, char *why,
		 size_t whylen)
{
	const struct timespec pause = { 0, POLL_MS * 1000000L };
	pid_t pid = fork();
	int status = 0;

	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		child(command, env);
	}
	setpgid(pid, pid); /* also here: no race with the kill below */
	for (uint32_t waited = 0;; waited += POLL_MS) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid) {
			break;
		}
		if (r < 0 && errno != EINTR) {
			snprintf(why, whylen, "waitpid: %s", strerror(errno));
			return -EIO;
		}
		if (waited >= timeout_ms) {
			kill(-pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
			}
			snprintf(why, whylen, "still running after %u ms: killed", timeout_ms);
			return -ETIMEDOUT;
		}
		nanosleep(&pause, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		snprintf(why, whylen, "exited 0");
		return 0;
	}
	if (WIFEXITED(status)) {
		snprintf(why, whylen, "exited %d", WEXITSTATUS(status));
	} else {
		snprintf(why, whylen, "killed by signal %d", WTERMSIG(status));
	}
	return -EIO;
}
