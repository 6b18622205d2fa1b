/* SPDX-License-Identifier: MIT */
#ifndef RCP_AGENT_HOOK_H
#define RCP_AGENT_HOOK_H

/*
 * [Provisioning] OnProvisioned (provision.h): one administrator's command,
 * run through /bin/sh -c once the device got its provisioning, typically
 * `systemctl enable --now ntm-node@ntm0.service`. Blocking, before the
 * agent's loop: the command runs in a process group of its own with stdin
 * from /dev/null and the agent's stdout/stderr; when it has not ended
 * after timeout_ms the group is killed (SIGKILL) and the run fails.
 */

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * Runs `command` with the extra environment `env` ("NAME=value",
 * NULL-terminated, or NULL). 0 when it exited with status 0; -ETIMEDOUT
 * (killed), -EIO (other status or a signal) or the errno of fork, each
 * with why.
 */
NTM_MUST_CHECK int rcp_hook_run(const char *command, const char *const *env, uint32_t timeout_ms,
				char *why, size_t whylen);

#endif
