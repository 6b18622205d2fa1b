/* SPDX-License-Identifier: MIT */
#ifndef NTM_PRIVFILE_H
#define NTM_PRIVFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/*
 * Makes sure `path` is a private regular file before anything (SQLite, say)
 * opens it, so that it never exists with a wider mode: the parent directory
 * is created 0700 when missing, the file 0600 when missing, and never through
 * a symlink. An existing file must be a regular one; its permission bits go
 * to *mode (0600 for a new file), so that the caller decides whether a mode
 * open to others is worth a warning or a chmod. Returns 0, or a negative
 * errno with the reason, naming the path, in `why`.
 */
NTM_MUST_CHECK int ntm_privfile_make(const char *path, mode_t *mode, char *why, size_t whylen);

#endif
