/* SPDX-License-Identifier: MIT */
#ifndef NTM_ERR_H
#define NTM_ERR_H

#include <errno.h>

/*
 * One error space for all of ntm: 0 is success, a negative errno is failure.
 * libuv codes are negative errnos already and pass through unchanged; c-ares
 * and libnl codes are translated inside the module that wraps each library.
 */

#define NTM_MUST_CHECK __attribute__((warn_unused_result))

/* Human-readable text for a negative errno (or 0). Returns a static string. */
const char *ntm_strerror(int err);

#endif
