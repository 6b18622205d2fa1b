/* SPDX-License-Identifier: MIT */
#ifndef NTM_CTLSOCK_H
#define NTM_CTLSOCK_H

/*
 * The life of a daemon's UNIX socket file, apart from the socket itself:
 * a parent directory, a stale file left by a crash, the mode and group set
 * between bind() and listen() (so nobody can connect while it is still too
 * open, whatever the umask), and an unlink that only removes our own file.
 * Used by the control server (ctlserver.c).
 */

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

/* The identity of the file we bound, for ntm_ctlsock_unlink. */
struct ntm_ctlsock_id {
	bool valid;
	dev_t dev;
	ino_t ino;
};

/*
 * Before bind(): makes the parent directory (one level, mode 0755) if it is
 * missing and removes a stale socket (one that refuses connections).
 * Returns -ENAMETOOLONG if `path` does not fit a sockaddr_un, -EADDRINUSE if
 * a daemon listens there, -EEXIST if something other than a socket is there
 * (it is left alone), or another negative errno.
 */
NTM_MUST_CHECK int ntm_ctlsock_prepare(const char *path);

/*
 * After bind(), before listen(): records the file's identity in *id, then
 * sets mode 0600, or 0660 and group `group` when `has_group`.
 */
NTM_MUST_CHECK int ntm_ctlsock_secure(const char *path, bool has_group, gid_t group,
				      struct ntm_ctlsock_id *id);

/* Unlinks `path` if it is still the file described by `id` (a valid id). */
void ntm_ctlsock_unlink(const char *path, const struct ntm_ctlsock_id *id);

/* A message for the errors of ntm_ctlsock_prepare (static string). */
const char *ntm_ctlsock_strerror(int err);

#endif
