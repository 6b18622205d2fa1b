/* SPDX-License-Identifier: MIT */
#include "httpc.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"

enum { HOST_MAX = 256, HEAD_MAX = 1024 };

static int split_url(const char *base, char *host, char *port, char *why, size_t whylen)
{
	const char *p, *colon;

	if (strncmp(base, "http://", 7) != 0) {
		snprintf(why, whylen, "%s: only http://HOST:PORT URLs", base);
		return -EINVAL;
	}
	p = base + 7;
	if (*p == '[') {
		colon = strstr(p, "]:");
		p++;
		if (colon == NULL) {
			snprintf(why, whylen, "%s: expected [V6]:PORT", base);
			return -EINVAL;
		}
		colon++;
	} else {
		colon = strrchr(p, ':');
	}
	if (colon == NULL || colon == p || (size_t)(colon - p) >= HOST_MAX || colon[1] == '\0' ||
	    strlen(colon + 1) > 5 || strspn(colon + 1, "0123456789") != strlen(colon + 1)) {
		snprintf(why, whylen, "%s: expected http://HOST:PORT", base);
		return -EINVAL;
	}
	memcpy(host, p, (size_t)(colon - p));
	host[colon - p - (p[-1] == '[' ? 1 : 0)] = '\0';
	snprintf(port, 6, "%s", colon + 1);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for `events` on fd until the deadline; -ETIMEDOUT. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left = deadline - now_ms();
	int n;

	if (left <= 0) {
		return -ETIMEDOUT;
	}
	n = poll(&pfd, 1, (int)left);
	return n > 0 ? 0 : n == 0 ? -ETIMEDOUT : -errno;
}

static int connect_to(const char *host, const char *port, int64_t deadline, int *fd)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int rc = -EHOSTUNREACH, s, err;
	socklen_t len = sizeof(err);

	*fd = -1;
	if (getaddrinfo(host, port, &hints, &res) != 0) {
		return -EHOSTUNREACH;
	}
	for (ai = res; ai != NULL && *fd < 0; ai = ai->ai_next) {
		s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (s < 0) {
			rc = -errno;
			continue;
		}
		if (connect(s, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			rc = -errno;
		} else if ((rc = wait_fd(s, POLLOUT, deadline)) == 0 &&
			   getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == 0) {
			rc = -err;
		}
		if (rc == 0) {
			*fd = s;
		} else {
			close(s);
		}
	}
	freeaddrinfo(res);
	return rc;
}

static int send_all(int fd, const char *p, size_t n, int64_t deadline)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			return -errno;
		}
		if (w < 0) {
			int rc = wait_fd(fd, POLLOUT, deadline);

			if (rc < 0) {
				return rc;
			}
			continue;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read until EOF into *buf (NUL-terminated). */
static int recv_all(int fd, char **buf, size_t *len, int64_t deadline)
{
	size_t cap = 4096;
	char *b = ntm_malloc(cap + 1), *nb;
	int rc = 0;

	*len = 0;
	while (b != NULL && rc == 0) {
		ssize_t r = recv(fd, b + *len, cap - *len, 0);

		if (r == 0) {
			break;
		}
		if (r < 0) {
			rc = errno == EAGAIN || errno == EINTR ? wait_fd(fd, POLLIN, deadline)
							       : -errno;
			continue;
		}
		*len += (size_t)r;
		if (*len == cap) {
			nb = cap >= RCP_HTTPC_RESP_MAX ? NULL : ntm_realloc(b, 2 * cap + 1);
			rc = nb == NULL ? -EMSGSIZE : 0;
			b = nb != NULL ? nb : b;
			cap *= 2;
		}
	}
	if (b == NULL) {
		return -ENOMEM;
	}
	b[*len] = '\0';
	*buf = b;
	return rc;
}

static int parse_resp(char *raw, size_t len, struct rcp_httpc_resp *out)
{
	char *body = strstr(raw, "\r\n\r\n");
	unsigned status;

	if (body == NULL || sscanf(raw, "HTTP/1.%*1[01] %3u", &status) != 1 || status < 100) {
		return -EPROTO;
	}
	body += 4;
	out->status = status;
	out->body_len = len - (size_t)(body - raw);
	out->body = ntm_malloc(out->body_len + 1);
	if (out->body == NULL) {
		return -ENOMEM;
	}
	memcpy(out->body, body, out->body_len + 1);
	return 0;
}

int rcp_httpc_request(const char *base, const char *method, const char *path, const char *token,
		      const char *ctype, const char *body, size_t body_len,
		      struct rcp_httpc_resp *out, char *why, size_t whylen)
{
	char host[HOST_MAX], port[6], head[HEAD_MAX + 2 * HOST_MAX];
	int64_t deadline = now_ms() + RCP_HTTPC_TIMEOUT_MS;
	char *raw = NULL;
	size_t len;
	int fd, rc = split_url(base, host, port, why, whylen);

	*out = (struct rcp_httpc_resp){ 0 };
	if (rc < 0) {
		return rc;
	}
	if (strlen(path) > HEAD_MAX / 2) {
		return -EINVAL;
	}
	snprintf(head, sizeof(head),
		 "%s %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n%s%s%s"
		 "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
		 method, path, host, port, token != NULL ? "Authorization: Bearer " : "",
		 token != NULL ? token : "", token != NULL ? "\r\n" : "",
		 ctype != NULL ? ctype : "application/json", body != NULL ? body_len : 0);
	rc = connect_to(host, port, deadline, &fd);
	if (rc == 0) {
		rc = send_all(fd, head, strlen(head), deadline);
		if (rc == 0 && body != NULL) {
			rc = send_all(fd, body, body_len, deadline);
		}
		if (rc == 0) {
			rc = recv_all(fd, &raw, &len, deadline);
		}
		close(fd);
	}
	if (rc == 0) {
		rc = parse_resp(raw, len, out);
	}
	ntm_free(raw);
	if (rc < 0) {
		snprintf(why, whylen, "%s%s: %s", base, path, ntm_strerror(rc));
	}
	return rc;
}
