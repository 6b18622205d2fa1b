/* SPDX-License-Identifier: MIT */
#include "ctlsock.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

enum { SUN_PATH_MAX = sizeof(((struct sockaddr_un *)0)->sun_path) };

static int make_parent(const char *path)
{
	char dir[SUN_PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (slash == NULL || slash == path) {
		return 0;
	}
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (mkdir(dir, 0755) == 0) {
		/* The umask may have taken bits away; the mode is a contract. */
		return chmod(dir, 0755) < 0 ? -errno : 0;
	}
	return errno == EEXIST ? 0 : -errno;
}

/* Whatever is at `path` may go only if it is a socket nobody listens on. */
static int clear_stale(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0) {
		return errno == ENOENT ? 0 : -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return -errno;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : -errno;
	close(fd);
	if (rc == 0 || rc == -EAGAIN) {
		return -EADDRINUSE; /* accepted, or a full backlog: alive */
	}
	if (rc != -ECONNREFUSED) {
		return rc;
	}
	ntm_log_info("socket %s: replacing a stale socket", path);
	return unlink(path) < 0 ? -errno : 0;
}

int ntm_ctlsock_prepare(const char *path)
{
	int rc;

	if (path == NULL || path[0] == '\0' || strlen(path) >= SUN_PATH_MAX) {
		return -ENAMETOOLONG;
	}
	rc = make_parent(path);
	return rc < 0 ? rc : clear_stale(path);
}

int ntm_ctlsock_secure(const char *path, bool has_group, gid_t group, struct ntm_ctlsock_id *id)
{
	struct stat st;

	id->valid = false;
	if (stat(path, &st) < 0) {
		return -errno;
	}
	id->valid = true;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	if (chmod(path, has_group ? 0660 : 0600) < 0) {
		return -errno;
	}
	if (has_group && chown(path, (uid_t)-1, group) < 0) {
		return -errno;
	}
	return 0;
}

void ntm_ctlsock_unlink(const char *path, const struct ntm_ctlsock_id *id)
{
	struct stat st;

	if (id->valid && lstat(path, &st) == 0 && st.st_dev == id->dev && st.st_ino == id->ino) {
		unlink(path);
	}
}

const char *ntm_ctlsock_strerror(int err)
{
	switch (err) {
	case -EADDRINUSE:
		return "in use: is the daemon already running?";
	case -EEXIST:
		return "exists and is not a socket";
	case -ENAMETOOLONG:
		return "path empty or too long for a UNIX socket";
	default:
		return ntm_strerror(err);
	}
}
