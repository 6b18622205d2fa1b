/* SPDX-License-Identifier: MIT */
#include "server.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/wire.h"

/* What goes out of one socket after a batch. */
struct txq {
	struct mmsghdr msgs[RS_SERVER_BATCH];
	struct iovec iov[RS_SERVER_BATCH];
	struct sockaddr_storage to[RS_SERVER_BATCH];
	uint8_t reply[RS_SERVER_BATCH][NTM_RELAY_BIND_LEN];
	unsigned n;
};

struct sock {
	int fd;
	uv_poll_t poll;
	struct rs_server *s;
	struct ntm_addr addr;
	struct txq q;
};

struct rs_server {
	uv_loop_t *loop;
	struct rs_relay *relay;
	struct sock socks[RS_CONFIG_ADDRS_MAX];
	unsigned n_socks;
	uv_timer_t expire;
	int open_handles;
	rs_server_ctrl_cb ctrl;
	void *ctrl_arg;
	struct rs_server_stats st;
	/* the receive batch */
	struct mmsghdr rmsgs[RS_SERVER_BATCH];
	struct iovec riov[RS_SERVER_BATCH];
	struct sockaddr_storage rfrom[RS_SERVER_BATCH];
	uint8_t slots[RS_SERVER_BATCH][RS_SERVER_SLOT];
	/* the load over the last second, and where that second started */
	struct ntm_ctrl_load load;
	uint64_t load_ms, load_pkts, load_bytes, load_cpu_us;
	void (*done)(void *arg);
	void *done_arg;
};

/* ---------------------------------------------------------------- sending */

static void flush(struct rs_server *s, struct sock *k)
{
	unsigned off = 0;

	while (off < k->q.n) {
		int n = sendmmsg(k->fd, k->q.msgs + off, k->q.n - off, MSG_DONTWAIT);

		if (n <= 0) {
			s->st.tx_errors++; /* skip the one that failed, go on with the rest */
			off++;
			continue;
		}
		s->st.tx += (unsigned)n;
		off += (unsigned)n;
	}
	k->q.n = 0;
}

/* Queues `buf` (valid until the flush) for `to` on socket k. */
static void enqueue(struct rs_server *s, struct sock *k, const struct ntm_addr *to, const void *buf,
		    size_t len)
{
	unsigned i;

	if (k->q.n == RS_SERVER_BATCH) {
		flush(s, k);
	}
	i = k->q.n++;
	memcpy(&k->q.to[i], &to->ss, to->len);
	k->q.iov[i] = (struct iovec){ .iov_base = (void *)buf, .iov_len = len };
	k->q.msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &k->q.to[i],
						      .msg_namelen = to->len,
						      .msg_iov = &k->q.iov[i],
						      .msg_iovlen = 1 } };
}

int rs_server_send(struct rs_server *s, const struct ntm_addr *to, const uint8_t *buf, size_t len)
{
	for (unsigned i = 0; i < s->n_socks; i++) {
		if (s->socks[i].addr.sa.sa_family == to->sa.sa_family) {
			return sendto(s->socks[i].fd, buf, len, MSG_DONTWAIT, &to->sa, to->len) < 0
				       ? -errno
				       : 0;
		}
	}
	return -EAFNOSUPPORT;
}

/* ---------------------------------------------------------------- receiving */

static void handle(struct rs_server *s, struct sock *k, const uint8_t *buf, size_t len,
		   const struct ntm_addr *from)
{
	const struct rs_relay_pkt pkt = { buf, len, from, (unsigned)(k - s->socks) };
	struct rs_relay_out out;
	struct sock *to;

	if (len >= 1 && buf[0] >= NTM_MSG_CTRL_INITIATION && buf[0] <= NTM_MSG_CTRL_DATA) {
		if (s->ctrl != NULL) {
			s->st.ctrl_rx++;
			s->ctrl(s->ctrl_arg, buf, len, from);
		}
		return;
	}
	switch (rs_relay_input(s->relay, &pkt, uv_now(s->loop), &out)) {
	case RS_RELAY_FORWARD:
		enqueue(s, &s->socks[out.via], &out.to, buf, len);
		break;
	case RS_RELAY_REPLY:
		to = &s->socks[out.via];
		if (to->q.n == RS_SERVER_BATCH) {
			flush(s, to);
		}
		memcpy(to->q.reply[to->q.n], out.reply, out.reply_len);
		enqueue(s, to, &out.to, to->q.reply[to->q.n], out.reply_len);
		break;
	default:
		break; /* counted by the engine */
	}
}

/* One recvmmsg batch; false when the socket is drained. */
static bool read_batch(struct rs_server *s, struct sock *k)
{
	int n;

	for (unsigned i = 0; i < RS_SERVER_BATCH; i++) {
		s->riov[i] = (struct iovec){ .iov_base = s->slots[i], .iov_len = RS_SERVER_SLOT };
		s->rmsgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_name = &s->rfrom[i],
							     .msg_namelen = sizeof(s->rfrom[i]),
							     .msg_iov = &s->riov[i],
							     .msg_iovlen = 1 } };
	}
	n = recvmmsg(k->fd, s->rmsgs, RS_SERVER_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0) {
		return false;
	}
	s->st.rx_batches++;
	for (int i = 0; i < n; i++) {
		struct ntm_addr from = { .len = s->rmsgs[i].msg_hdr.msg_namelen };

		if ((s->rmsgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0 ||
		    from.len > sizeof(from.ss)) {
			s->st.truncated++;
			continue;
		}
		memcpy(&from.ss, &s->rfrom[i], from.len);
		handle(s, k, s->slots[i], s->rmsgs[i].msg_len, &from);
	}
	for (unsigned i = 0; i < s->n_socks; i++) {
		flush(s, &s->socks[i]); /* before the slots are reused */
	}
	return n == RS_SERVER_BATCH;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct sock *k = h->data;

	(void)events;
	if (status < 0) {
		return;
	}
	for (int b = 0; b < RS_SERVER_BUDGET && read_batch(k->s, k); b++) {
	}
}

/* ---------------------------------------------------------------- load */

static uint64_t cpu_us(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0) {
		return 0;
	}
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

/* Rates since the previous sample (about RS_SERVER_EXPIRE_MS ago). */
static void sample_load(struct rs_server *s)
{
	struct rs_relay_stats st;
	uint64_t now = uv_now(s->loop), cpu = cpu_us();
	uint64_t ms = now > s->load_ms ? now - s->load_ms : 1;
	uint64_t permille;

	rs_relay_get_stats(s->relay, &st);
	s->load.pps = (uint32_t)((st.forwarded - s->load_pkts) * 1000 / ms);
	s->load.bps = (st.forwarded_bytes - s->load_bytes) * 1000 / ms;
	permille = (cpu - s->load_cpu_us) / ms; /* us per ms = permille */
	s->load.cpu = (uint16_t)(permille > NTM_CTRL_CPU_MAX ? NTM_CTRL_CPU_MAX : permille);
	s->load_ms = now;
	s->load_pkts = st.forwarded;
	s->load_bytes = st.forwarded_bytes;
	s->load_cpu_us = cpu;
}

void rs_server_load(struct rs_server *s, struct ntm_ctrl_load *out)
{
	struct rs_relay_stats st;

	rs_relay_get_stats(s->relay, &st);
	*out = s->load;
	out->sessions = st.sessions;
	out->capacity = rs_relay_capacity(s->relay);
}

static void on_expire(uv_timer_t *t)
{
	struct rs_server *s = t->data;
	size_t n = rs_relay_expire(s->relay, uv_now(s->loop));

	sample_load(s);
	if (n > 0) {
		ntm_log_debug("%zu idle relay sessions expired", n);
	}
}

/* ---------------------------------------------------------------- life cycle */

static int open_sock(struct rs_server *s, const struct ntm_addr *a, char *why, size_t whylen)
{
	struct sock *k = &s->socks[s->n_socks];
	int one = 1, rc = 0;
	socklen_t len = sizeof(k->addr.ss);
	char text[NTM_ADDR_STRLEN] = "?";

	k->s = s;
	k->fd = socket(a->sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (k->fd < 0 ||
	    (a->sa.sa_family == AF_INET6 &&
	     setsockopt(k->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(k->fd, &a->sa, a->len) < 0 || getsockname(k->fd, &k->addr.sa, &len) < 0) {
		rc = -errno;
	}
	k->addr.len = len;
	if (rc == 0) {
		rc = uv_poll_init(s->loop, &k->poll, k->fd);
	}
	if (rc < 0 && k->fd >= 0) {
		close(k->fd); /* no handle owns it yet */
	}
	if (rc == 0) {
		k->poll.data = k; /* from here the handle's close callback closes the fd */
		s->n_socks++;
		s->open_handles++;
		rc = uv_poll_start(&k->poll, UV_READABLE, on_readable);
	}
	if (rc < 0) {
		(void)!ntm_addr_format(a, text, sizeof(text));
		snprintf(why, whylen, "Listen %s: %s", text, ntm_strerror(rc));
	}
	return rc;
}

static void count_close(struct rs_server *s)
{
	void (*done)(void *) = s->done;
	void *arg = s->done_arg;

	if (--s->open_handles > 0) {
		return;
	}
	ntm_free(s);
	if (done != NULL) {
		done(arg);
	}
}

static void on_sock_closed(uv_handle_t *h)
{
	struct sock *k = h->data;
	struct rs_server *s = k->s;

	close(k->fd);
	count_close(s);
}

static void on_timer_closed(uv_handle_t *h)
{
	count_close(h->data);
}

int rs_server_open(uv_loop_t *loop, const struct rs_config *cfg, struct rs_relay *relay,
		   struct rs_server **out, char *why, size_t whylen)
{
	struct rs_server *s = ntm_calloc(1, sizeof(*s));
	int rc = 0;

	*out = NULL;
	if (s == NULL) {
		snprintf(why, whylen, "relay sockets: %s", ntm_strerror(-ENOMEM));
		return -ENOMEM;
	}
	s->loop = loop;
	s->relay = relay;
	s->load_ms = uv_now(loop);
	s->load_cpu_us = cpu_us();
	uv_timer_init(loop, &s->expire);
	s->expire.data = s;
	s->open_handles = 1;
	for (size_t i = 0; rc == 0 && i < cfg->n_listen; i++) {
		rc = open_sock(s, &cfg->listen[i], why, whylen);
	}
	if (rc < 0) {
		rs_server_close(s, NULL, NULL);
		return rc;
	}
	uv_timer_start(&s->expire, on_expire, RS_SERVER_EXPIRE_MS, RS_SERVER_EXPIRE_MS);
	*out = s;
	return 0;
}

void rs_server_close(struct rs_server *s, void (*done)(void *arg), void *arg)
{
	if (ntm_close_null(s, done, arg)) {
		return;
	}
	s->done = done;
	s->done_arg = arg;
	for (unsigned i = 0; i < s->n_socks; i++) {
		uv_close((uv_handle_t *)&s->socks[i].poll, on_sock_closed);
	}
	uv_close((uv_handle_t *)&s->expire, on_timer_closed);
}

void rs_server_set_ctrl(struct rs_server *s, rs_server_ctrl_cb cb, void *arg)
{
	s->ctrl = cb;
	s->ctrl_arg = arg;
}

void rs_server_get_stats(const struct rs_server *s, struct rs_server_stats *out)
{
	*out = s->st;
}

size_t rs_server_addrs(const struct rs_server *s, struct ntm_addr *out, size_t cap)
{
	size_t n = 0;

	for (unsigned i = 0; i < s->n_socks && n < cap; i++) {
		out[n++] = s->socks[i].addr;
	}
	return n;
}
