/* SPDX-License-Identifier: MIT */
#include "udp.h"

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"

enum {
	UDP_RX_MAX = 65536,
	/* Socket buffers: enough for a burst at line rate on the loop thread. */
	UDP_SOCKBUF = 4 << 20,
	/* A random port that IPv6 cannot have too (taken there) is retried this often. */
	UDP_BIND_TRIES = 16,
};

struct sock {
	uv_udp_t h;
	bool open;
	int family;
	struct en_udp *u;
};

struct en_udp {
	struct sock s4, s6;
	uint16_t port;
	en_udp_recv_cb cb;
	void *arg;
	unsigned pending;
	en_udp_closed_cb done;
	void *done_arg;
	struct ntm_ratelimit rl;
	uint8_t rx[UDP_RX_MAX];
};

static void set_bufsize(int fd, int opt_force, int opt)
{
	int size = UDP_SOCKBUF;

	/* The FORCE variant passes rmem_max/wmem_max (CAP_NET_ADMIN); else best effort. */
	if (setsockopt(fd, SOL_SOCKET, opt_force, &size, sizeof(size)) < 0) {
		(void)setsockopt(fd, SOL_SOCKET, opt, &size, sizeof(size));
	}
}

/* A bound, non-blocking socket, or a negative errno. `port` is in host order. */
static int bind_socket(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1;
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		return -errno;
	}
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		len = sizeof(*s4);
	}
	set_bufsize(fd, SO_RCVBUFFORCE, SO_RCVBUF);
	set_bufsize(fd, SO_SNDBUFFORCE, SO_SNDBUF);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int bound_port(int fd)
{
	struct sockaddr_in s4;
	socklen_t len = sizeof(s4);

	if (getsockname(fd, (struct sockaddr *)&s4, &len) < 0) {
		return -errno;
	}
	return ntohs(s4.sin_port);
}

/*
 * Both fds on one port. With port 0 the IPv4 socket picks it; if IPv6 has
 * it taken, try another. *fd6 is -1 when the host has no IPv6.
 */
static int bind_pair(uint16_t port, int *fd4, int *fd6)
{
	int rc = -EADDRINUSE;

	for (int i = 0; i < UDP_BIND_TRIES && rc == -EADDRINUSE; i++) {
		*fd4 = bind_socket(AF_INET, port);
		if (*fd4 < 0) {
			return *fd4;
		}
		rc = bound_port(*fd4);
		*fd6 = rc < 0 ? rc : bind_socket(AF_INET6, (uint16_t)rc);
		if (*fd6 == -EAFNOSUPPORT || *fd6 == -EADDRNOTAVAIL) {
			ntm_log_warn("no IPv6 on this host: listening on IPv4 only");
			*fd6 = -1;
			return 0;
		}
		rc = *fd6 < 0 ? *fd6 : 0;
		if (rc < 0) {
			close(*fd4);
			*fd4 = -1;
			if (port != 0) {
				break;
			}
		}
	}
	return rc;
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct sock *s = h->data;

	*buf = uv_buf_init((char *)s->u->rx, sizeof(s->u->rx));
}

static void recv_cb(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *sa,
		    unsigned flags)
{
	struct sock *s = h->data;
	struct en_udp *u = s->u;
	struct ntm_addr from;

	if (nread < 0) {
		ntm_log_ratelimited(&u->rl, uv_now(h->loop), NTM_LOG_DEBUG, "udp receive: %s",
				    ntm_strerror((int)nread));
		return;
	}
	if (sa == NULL || (flags & UV_UDP_PARTIAL)) {
		return; /* nothing read, or a datagram larger than any ntm message */
	}
	memset(&from, 0, sizeof(from));
	from.len = sa->sa_family == AF_INET6 ? sizeof(from.sin6) : sizeof(from.sin);
	memcpy(&from.ss, sa, from.len);
	u->cb(u->arg, u->rx, (size_t)nread, &from);
}

static int start_sock(uv_loop_t *loop, struct en_udp *u, struct sock *s, int fd)
{
	int rc = uv_udp_init(loop, &s->h);

	if (rc < 0) {
		close(fd);
		return rc;
	}
	s->open = true;
	s->u = u;
	s->h.data = s;
	rc = uv_udp_open(&s->h, fd);
	if (rc < 0) {
		close(fd); /* the handle does not own it yet */
		return rc;
	}
	return uv_udp_recv_start(&s->h, alloc_cb, recv_cb);
}

int en_udp_open(uv_loop_t *loop, uint16_t port, en_udp_recv_cb cb, void *arg, struct en_udp **out)
{
	struct en_udp *u;
	int fd4, fd6, rc;

	*out = NULL;
	u = ntm_calloc(1, sizeof(*u));
	if (u == NULL) {
		return -ENOMEM;
	}
	rc = bind_pair(port, &fd4, &fd6);
	if (rc < 0) {
		ntm_free(u);
		return rc;
	}
	u->port = (uint16_t)bound_port(fd4);
	u->cb = cb;
	u->arg = arg;
	u->rl = (struct ntm_ratelimit)NTM_RATELIMIT_INIT(1000, 5);
	u->s4.family = AF_INET;
	u->s6.family = AF_INET6;
	rc = start_sock(loop, u, &u->s4, fd4);
	if (rc == 0 && fd6 >= 0) {
		rc = start_sock(loop, u, &u->s6, fd6);
	} else if (fd6 >= 0) {
		close(fd6);
	}
	if (rc < 0) {
		en_udp_close(u, NULL, NULL);
		return rc;
	}
	*out = u;
	return 0;
}

uint16_t en_udp_port(const struct en_udp *u)
{
	return u->port;
}

bool en_udp_has_family(const struct en_udp *u, int family)
{
	return family == AF_INET ? u->s4.open : family == AF_INET6 ? u->s6.open : false;
}

int en_udp_send(struct en_udp *u, const struct ntm_addr *to, const uint8_t *buf, size_t len)
{
	struct sock *s;
	uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
	int rc;

	if (to->sa.sa_family != AF_INET && to->sa.sa_family != AF_INET6) {
		return -EDESTADDRREQ;
	}
	s = to->sa.sa_family == AF_INET ? &u->s4 : &u->s6;
	if (!s->open) {
		return -EAFNOSUPPORT;
	}
	rc = uv_udp_try_send(&s->h, &b, 1, &to->sa);
	return rc < 0 ? rc : 0;
}

static void on_closed(uv_handle_t *h)
{
	struct sock *s = h->data;
	struct en_udp *u = s->u;

	if (--u->pending > 0) {
		return;
	}
	if (u->done != NULL) {
		u->done(u->done_arg);
	}
	ntm_free(u);
}

void en_udp_close(struct en_udp *u, en_udp_closed_cb done, void *arg)
{
	if (u == NULL) {
		if (done != NULL) {
			done(arg);
		}
		return;
	}
	u->done = done;
	u->done_arg = arg;
	u->pending = (u->s4.open ? 1 : 0) + (u->s6.open ? 1 : 0);
	if (u->pending == 0) {
		ntm_free(u);
		if (done != NULL) {
			done(arg);
		}
		return;
	}
	if (u->s4.open) {
		uv_close((uv_handle_t *)&u->s4.h, on_closed);
	}
	if (u->s6.open) {
		uv_close((uv_handle_t *)&u->s6.h, on_closed);
	}
}
