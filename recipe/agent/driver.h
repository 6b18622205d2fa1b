/* SPDX-License-Identifier: MIT */
#ifndef RCP_AGENT_DRIVER_H
#define RCP_AGENT_DRIVER_H

/*
 * Device drivers. The simulated driver keeps a point's value as text in its
 * State file (one value, a trailing newline allowed): a test or a demo
 * changes a sensor by writing the file and reads an action's effect from it.
 * Reads and writes are small local file operations done on the loop thread.
 * The command driver runs programs and is asynchronous: command.h, used by
 * perform.c; these two functions refuse a Driver = command point.
 */

#include "recipe/agent/config.h"

enum { RCP_DRIVER_TEXT_MAX = 256 }; /* bytes of a state file */

/*
 * Read p's current value into *out (zeroed on entry; caller finis it).
 * -ENOENT when the file does not exist yet, -EINVAL when its text is not a
 * value of p's type, other negative errnos from the file system; why says
 * what went wrong.
 */
NTM_MUST_CHECK int rcp_driver_read(const struct rcp_point_conf *p, struct rcp_value *out,
				   char *why, size_t whylen);

/*
 * Set p to v (borrowed): the state file is replaced atomically (write to a
 * temporary file, fsync, rename), so a reader never sees half a value.
 */
NTM_MUST_CHECK int rcp_driver_write(const struct rcp_point_conf *p, const struct rcp_value *v,
				    char *why, size_t whylen);

#endif
