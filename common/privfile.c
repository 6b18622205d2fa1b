/* SPDX-License-Identifier: MIT */
#include "privfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"

static int make_parent(const char *path, char *why, size_t whylen)
{
	char *copy = ntm_strdup(path);
	int rc = 0;

	const char *dir;

	if (copy == NULL) {
		snprintf(why, whylen, "%s: out of memory", path);
		return -ENOMEM;
	}
	dir = dirname(copy);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(why, whylen, "%s: cannot create the directory: %s", dir, strerror(errno));
	}
	ntm_free(copy);
	return rc;
}

int ntm_privfile_make(const char *path, mode_t *mode, char *why, size_t whylen)
{
	struct stat st;
	int fd, rc = make_parent(path, why, whylen);

	if (rc < 0) {
		return rc;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		close(fd);
		*mode = 0600;
		return 0;
	}
	if (errno != EEXIST) {
		rc = -errno;
		snprintf(why, whylen, "%s: cannot create: %s", path, strerror(errno));
		return rc;
	}
	if (lstat(path, &st) < 0) {
		rc = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s: not a regular file", path);
		return -EINVAL;
	}
	*mode = st.st_mode & 07777;
	return 0;
}
