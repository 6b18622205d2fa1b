/* SPDX-License-Identifier: MIT */
#include "ctlclient.h"

#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"

enum {
	RECV_INITIAL = 4096,
	RECV_MAX = NTM_CTL_RESPONSE_MAX + 1, /* the longest line plus its "\n" */
	CONNECT_RETRY_MS = 10,
};

struct deadline {
	bool forever;
	struct timespec end;
};

static void deadline_init(struct deadline *d, int timeout_ms)
{
	d->forever = timeout_ms < 0;
	clock_gettime(CLOCK_MONOTONIC, &d->end);
	if (!d->forever) {
		d->end.tv_sec += timeout_ms / 1000;
		d->end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (d->end.tv_nsec >= 1000000000L) {
			d->end.tv_sec++;
			d->end.tv_nsec -= 1000000000L;
		}
	}
}

/* Milliseconds left (rounded up), 0 when expired, -1 for no deadline. */
static int deadline_left(const struct deadline *d)
{
	struct timespec now;
	long long ms;

	if (d->forever) {
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(d->end.tv_sec - now.tv_sec) * 1000 +
	     (d->end.tv_nsec - now.tv_nsec + 999999L) / 1000000L;
	return ms <= 0 ? 0 : (ms > 1000000000LL ? 1000000000 : (int)ms);
}

/* Waits for `events` on fd; -ETIMEDOUT when the deadline passes. */
static int wait_fd(int fd, short events, const struct deadline *d)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int left = deadline_left(d);
		int n;

		if (left == 0) {
			return -ETIMEDOUT;
		}
		n = poll(&p, 1, left);
		if (n > 0) {
			return 0;
		}
		if (n < 0 && errno != EINTR) {
			return -errno;
		}
	}
}

static int connect_to(const char *path, const struct deadline *d, int *fdp)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	int fd;

	*fdp = -1;
	if (n == 0 || n >= sizeof(sa.sun_path)) {
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, n + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return -errno;
	}
	/* A full backlog gives EAGAIN on a non-blocking UNIX socket: retry. */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int rc = -errno;

		if (rc != -EAGAIN && rc != -EINTR) {
			close(fd);
			return rc;
		}
		if (deadline_left(d) == 0) {
			close(fd);
			return -ETIMEDOUT;
		}
		poll(NULL, 0, CONNECT_RETRY_MS);
	}
	*fdp = fd;
	return 0;
}

static int send_all(int fd, const char *p, size_t len, const struct deadline *d)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		int rc;

		if (n >= 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (errno != EAGAIN && errno != EINTR) {
			return -errno;
		}
		rc = wait_fd(fd, POLLOUT, d);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

/* Makes room for at least one more byte, up to RECV_MAX. */
static int grow(char **buf, size_t *cap, size_t len)
{
	size_t ncap;
	char *p;

	if (len < *cap) {
		return 0;
	}
	if (*cap >= RECV_MAX) {
		return -EMSGSIZE;
	}
	ncap = *cap == 0 ? RECV_INITIAL : *cap * 2;
	ncap = ncap > RECV_MAX ? RECV_MAX : ncap;
	p = ntm_realloc(*buf, ncap);
	if (p == NULL) {
		return -ENOMEM;
	}
	*buf = p;
	*cap = ncap;
	return 0;
}

/* Reads up to the first "\n"; *line (ntm_free) holds *len bytes without it. */
static int recv_line(int fd, const struct deadline *d, char **line, size_t *len)
{
	size_t cap = 0, used = 0;
	char *buf = NULL;
	int rc;

	for (;;) {
		ssize_t n;

		rc = grow(&buf, &cap, used);
		if (rc < 0) {
			break;
		}
		n = recv(fd, buf + used, cap - used, 0);
		if (n > 0) {
			char *nl = memchr(buf + used, '\n', (size_t)n);

			used += (size_t)n;
			if (nl != NULL) {
				*line = buf;
				*len = (size_t)(nl - buf);
				return 0;
			}
			continue;
		}
		if (n == 0) {
			rc = -ECONNRESET;
			break;
		}
		if (errno != EAGAIN && errno != EINTR) {
			rc = -errno;
			break;
		}
		rc = wait_fd(fd, POLLIN, d);
		if (rc < 0) {
			break;
		}
	}
	ntm_free(buf);
	return rc;
}

int ntm_ctl_call(const char *path, const char *cmd, json_object *args, int timeout_ms,
		 json_object **response)
{
	struct deadline d;
	char *req = NULL, *line = NULL;
	size_t req_len = 0, line_len = 0;
	int fd = -1, rc;

	*response = NULL;
	deadline_init(&d, timeout_ms);
	req = ntm_ctl_request_encode(cmd, args, &req_len);
	if (req == NULL) {
		return -ENOMEM;
	}
	rc = connect_to(path, &d, &fd);
	if (rc == 0) {
		rc = send_all(fd, req, req_len, &d);
	}
	if (rc == 0) {
		rc = recv_line(fd, &d, &line, &line_len);
	}
	if (rc == 0) {
		rc = ntm_ctl_response_parse(line, line_len, response);
	}
	if (fd >= 0) {
		close(fd);
	}
	ntm_free(line);
	ntm_free(req);
	return rc;
}
