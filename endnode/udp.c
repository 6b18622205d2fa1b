/* SPDX-License-Identifier: MIT */
#include "udp.h"

#include <linux/udp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"

enum {
	UDP_RX_MAX = 65536,
	/* Socket buffers: enough for a burst at line rate on the loop thread. */
	UDP_SOCKBUF = 4 << 20,
	/* A random port that IPv6 cannot have too (taken there) is retried this often. */
	UDP_BIND_TRIES = 16,
	/* Reads per poll wakeup before yielding back to the loop. */
	UDP_READ_BUDGET = 64,
};

struct sock {
	uv_poll_t poll;
	int fd;
	bool open;
	int family;
	struct en_udp *u;
};

struct en_udp {
	struct sock s4, s6;
	uint16_t port;
	struct en_udp_ops ops;
	unsigned pending;
	bool no_gso; /* the kernel refused UDP_SEGMENT: send one by one */
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

/* The GRO segment size of a coalesced read (UDP_GRO), or 0 for a single datagram. */
static size_t gro_size(struct msghdr *mh)
{
	int size;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(size))) {
			memcpy(&size, CMSG_DATA(c), sizeof(size));
			return size > 0 ? (size_t)size : 0;
		}
	}
	return 0;
}

/*
 * One read: a datagram, or with UDP_GRO several of one sender coalesced by
 * the kernel, all `seg` bytes but the last. Returns 0, or a negative errno
 * to stop reading (-EAGAIN when the socket is drained).
 */
static int receive_one(struct sock *s)
{
	struct en_udp *u = s->u;
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct ntm_addr from;
	struct iovec iov = { .iov_base = u->rx, .iov_len = sizeof(u->rx) };
	struct msghdr mh = { .msg_name = &from.ss,
			     .msg_namelen = sizeof(from.ss),
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	ssize_t n;
	size_t seg;

	memset(&from, 0, sizeof(from));
	n = recvmsg(s->fd, &mh, 0);
	if (n < 0) {
		return -errno;
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || n == 0) {
		return 0; /* larger than any ntm message, or an empty datagram */
	}
	from.len = mh.msg_namelen;
	seg = gro_size(&mh);
	if (seg == 0) {
		seg = (size_t)n;
	}
	for (size_t off = 0; off < (size_t)n; off += seg) {
		size_t len = (size_t)n - off < seg ? (size_t)n - off : seg;

		u->ops.datagram(u->ops.arg, u->rx + off, len, &from);
	}
	/* Before the next read overwrites what the datagrams were decrypted into. */
	u->ops.read_end(u->ops.arg);
	return 0;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct sock *s = h->data;
	struct en_udp *u = s->u;
	int rc = status;

	for (int i = 0; rc == 0 && i < UDP_READ_BUDGET; i++) {
		rc = receive_one(s);
	}
	if (rc < 0 && rc != -EAGAIN && rc != -EINTR) {
		ntm_log_ratelimited(&u->rl, uv_now(h->loop), NTM_LOG_DEBUG, "udp receive: %s",
				    ntm_strerror(rc));
	}
}

static int start_sock(uv_loop_t *loop, struct en_udp *u, struct sock *s, int fd)
{
	int one = 1;
	int rc;

	/* Best effort: without GRO every datagram is a read of its own. */
	(void)setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof(one));
	s->fd = fd;
	rc = uv_poll_init(loop, &s->poll, fd);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	s->open = true;
	s->u = u;
	s->poll.data = s;
	return uv_poll_start(&s->poll, UV_READABLE, on_readable);
}

int en_udp_open(uv_loop_t *loop, uint16_t port, const struct en_udp_ops *ops, struct en_udp **out)
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
	u->ops = *ops;
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

/* The socket for `to`, or NULL with *err set. */
static struct sock *sock_for(struct en_udp *u, const struct ntm_addr *to, int *err)
{
	struct sock *s;

	*err = 0;
	if (to->sa.sa_family != AF_INET && to->sa.sa_family != AF_INET6) {
		*err = -EDESTADDRREQ;
		return NULL;
	}
	s = to->sa.sa_family == AF_INET ? &u->s4 : &u->s6;
	if (!s->open) {
		*err = -EAFNOSUPPORT;
		return NULL;
	}
	return s;
}

int en_udp_send(struct en_udp *u, const struct ntm_addr *to, const uint8_t *buf, size_t len)
{
	int rc;
	struct sock *s = sock_for(u, to, &rc);

	if (s == NULL) {
		return rc;
	}
	if (sendto(s->fd, buf, len, 0, &to->sa, to->len) < 0) {
		return -errno;
	}
	return 0;
}

int en_udp_send_ttl(struct en_udp *u, const struct ntm_addr *to, const uint8_t *buf, size_t len,
		    int ttl)
{
	int rc, level, opt, old = -1;
	socklen_t olen = sizeof(old);
	struct sock *s = sock_for(u, to, &rc);

	if (s == NULL) {
		return rc;
	}
	level = to->sa.sa_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
	opt = to->sa.sa_family == AF_INET ? IP_TTL : IPV6_UNICAST_HOPS;
	if (level == IPPROTO_IP && getsockopt(s->fd, level, opt, &old, &olen) < 0) {
		return -errno;
	}
	if (setsockopt(s->fd, level, opt, &ttl, sizeof(ttl)) < 0) {
		return -errno;
	}
	rc = sendto(s->fd, buf, len, 0, &to->sa, to->len) < 0 ? -errno : 0;
	/* IPv6: -1 is "the route's default"; IPv4: the value read before. */
	(void)setsockopt(s->fd, level, opt, &old, sizeof(old));
	return rc;
}

static int send_each(struct en_udp *u, const struct ntm_addr *to, const uint8_t *buf, size_t len,
		     size_t seg)
{
	int rc = 0;

	for (size_t off = 0; off < len; off += seg) {
		int r = en_udp_send(u, to, buf + off, len - off < seg ? len - off : seg);

		rc = r < 0 ? r : rc;
	}
	return rc;
}

static int send_segmented(struct sock *s, const struct ntm_addr *to, const uint8_t *buf, size_t len,
			  size_t seg)
{
	union {
		struct cmsghdr align;
		uint8_t buf[CMSG_SPACE(sizeof(uint16_t))];
	} ctl;
	uint16_t size = (uint16_t)seg;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_name = (void *)&to->ss,
			     .msg_namelen = to->len,
			     .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;

	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = IPPROTO_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(size));
	memcpy(CMSG_DATA(c), &size, sizeof(size));
	return sendmsg(s->fd, &mh, 0) < 0 ? -errno : 0;
}

int en_udp_send_gso(struct en_udp *u, const struct ntm_addr *to, const uint8_t *buf, size_t len,
		    size_t seg)
{
	int rc;
	struct sock *s = sock_for(u, to, &rc);

	if (s == NULL) {
		return rc;
	}
	if (u->no_gso || len <= seg || seg == 0 || seg > UINT16_MAX) {
		return seg == 0 ? -EINVAL : send_each(u, to, buf, len, seg);
	}
	rc = send_segmented(s, to, buf, len, seg);
	if (rc == -EAGAIN || rc == -ENOBUFS || rc == 0) {
		return rc;
	}
	/* EIO: no checksum offload on the route; EINVAL: a segment over the path MTU. */
	if (rc != -EINVAL) {
		ntm_log_warn("udp: no segmentation offload (%s): sending one by one",
			     ntm_strerror(rc));
		u->no_gso = true;
	}
	return send_each(u, to, buf, len, seg);
}

static void on_closed(uv_handle_t *h)
{
	struct sock *s = h->data;
	struct en_udp *u = s->u;

	close(s->fd);
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
	if (ntm_close_null(u, done, arg)) {
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
		uv_close((uv_handle_t *)&u->s4.poll, on_closed);
	}
	if (u->s6.open) {
		uv_close((uv_handle_t *)&u->s6.poll, on_closed);
	}
}
