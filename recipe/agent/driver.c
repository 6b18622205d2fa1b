/* SPDX-License-Identifier: MIT */
/*
 * The simulated driver (driver.h): state files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "recipe/agent/driver.h"

static int fail(char *why, size_t whylen, int rc, const char *what, const char *path)
{
	snprintf(why, whylen, "%s %s: %s", what, path, ntm_strerror(rc));
	return rc;
}

int rcp_driver_read(const struct rcp_point_conf *p, struct rcp_value *out, char *why, size_t whylen)
{
	char buf[RCP_DRIVER_TEXT_MAX + 1];
	ssize_t n;
	size_t len;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	if (p->driver != RCP_DRIVER_SIMULATED) {
		snprintf(why, whylen, "Driver = command is run by command.c, not here");
		return -ENOTSUP;
	}
	fd = open(p->state, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0) {
		return fail(why, whylen, -errno, "open", p->state);
	}
	n = read(fd, buf, sizeof(buf));
	rc = n < 0 ? -errno : 0;
	close(fd);
	if (rc < 0) {
		return fail(why, whylen, rc, "read", p->state);
	}
	if ((size_t)n > RCP_DRIVER_TEXT_MAX) {
		return fail(why, whylen, -EFBIG, "read", p->state);
	}
	len = (size_t)n;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' ')) {
		len--;
	}
	buf[len] = '\0';
	rc = rcp_point_parse_value(p, buf, len, out);
	if (rc < 0) {
		snprintf(why, whylen, "%s: not a value of the configured type", p->state);
	}
	return rc;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno != EINTR) {
			return -errno;
		}
		if (w > 0) {
			s += w;
			n -= (size_t)w;
		}
	}
	return 0;
}

int rcp_driver_write(const struct rcp_point_conf *p, const struct rcp_value *v, char *why,
		     size_t whylen)
{
	char text[RCP_VALUE_TEXT_MAX + 1];
	char tmp[4096];
	int fd, rc, n;

	if (p->driver != RCP_DRIVER_SIMULATED) {
		snprintf(why, whylen, "Driver = command is run by command.c, not here");
		return -ENOTSUP;
	}
	n = rcp_value_format(v, text, sizeof(text) - 1);
	if (n < 0 || (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", p->state) >= sizeof(tmp)) {
		snprintf(why, whylen, "value or path too long");
		return -ENAMETOOLONG;
	}
	text[n++] = '\n';
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		return fail(why, whylen, -errno, "open", tmp);
	}
	/*
	 * Atomic (a temporary file renamed over the state file: a reader sees
	 * the old value or the new one, never half of one) but not synced: a
	 * demo device's state, not user data; the action's durable record is
	 * the idempotency key (idem.h). A crash may bring back the old value.
	 */
	rc = write_all(fd, text, (size_t)n);
	if (close(fd) < 0 && rc == 0) {
		rc = -errno;
	}
	if (rc == 0 && rename(tmp, p->state) < 0) {
		rc = -errno;
	}
	if (rc < 0) {
		unlink(tmp);
		return fail(why, whylen, rc, "write", p->state);
	}
	return 0;
}
