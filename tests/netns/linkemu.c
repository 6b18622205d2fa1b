/* SPDX-License-Identifier: MIT */
/*
 * linkemu: a user-space "wire" with delay and loss, the testbed's substitute
 * for tc netem (which these machines do not have).
 *
 * It runs in a middle namespace that holds one end of two veth pairs. Every
 * frame that arrives on one interface is read with an AF_PACKET socket and
 * written to the other after the configured one-way delay, or dropped with
 * the configured probability. Both directions are independent and identical,
 * so a ping across the wire sees RTT = 2 x delay and a loss of
 * 1 - (1 - p)^2.
 *
 * Invariants and pitfalls:
 * - One FIFO per direction. A frame's deadline is never earlier than the one
 *   before it, so the wire never reorders (jitter included).
 * - Deadlines are absolute CLOCK_MONOTONIC times; one timerfd, armed with
 *   TFD_TIMER_ABSTIME for the earliest head, so errors do not accumulate.
 * - Sockets use PACKET_VNET_HDR: a frame captured from a veth may carry a
 *   partial checksum (TX checksum offload) or be a GSO super-frame. The
 *   virtio-net header describes both and is handed back to the kernel with
 *   the frame, which then completes the checksum or segments as needed.
 *   tests/netns/lib.sh additionally turns offloads off on the four veth ends
 *   so that delay and loss apply per wire-sized frame.
 * - Frames we send ourselves come back to packet taps as PACKET_OUTGOING;
 *   they are ignored.
 * - Queues are bounded (--limit frames per direction); overflow drops and
 *   counts, like netem's limit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/err.h"
#include "common/log.h"

enum {
	VNET_HDR_LEN = sizeof(struct virtio_net_hdr),
	FRAME_MAX = VNET_HDR_LEN + 65536 + 64,
	READ_BUDGET = 64,
	DEFAULT_LIMIT = 1000,
	MAX_LIMIT = 1000000,
	MAX_DELAY_MS = 60000,
	SOCK_BUF = 4 * 1024 * 1024,
	RT_PRIORITY = 10,
};

enum ev_tag { EV_PORT0, EV_PORT1, EV_TIMER, EV_SIGNAL };

/* One queued frame: the virtio-net header followed by the Ethernet frame. */
struct frame {
	struct frame *next;
	uint64_t due_ns;
	size_t len;
	uint8_t data[];
};

struct queue {
	struct frame *head;
	struct frame *tail;
	unsigned int len;
	uint64_t last_due_ns;
};

struct dir_stats {
	uint64_t rx;
	uint64_t tx;
	uint64_t lost;
	uint64_t overflow;
	uint64_t txerr;
	uint64_t bad;
};

struct opts {
	const char *ifname[2];
	double delay_ms;
	double jitter_ms;
	double loss_pct;
	unsigned int limit;
	uint64_t seed;
	bool seeded;
	bool realtime;
};

/* Direction i carries frames received on port i out of port 1 - i. */
struct wire {
	struct opts opt;
	int fd[2];
	struct queue q[2];
	struct dir_stats st[2];
	uint64_t delay_ns;
	uint64_t jitter_ns;
	double loss;
	uint64_t rng;
	uint64_t armed_ns;
	int tfd;
	int sfd;
	int epfd;
	uint8_t buf[FRAME_MAX];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: test-grade randomness, reproducible with --seed. */
static double rand_unit(struct wire *w)
{
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return (double)((w->rng * 0x2545F4914F6CDD1DULL) >> 11) * 0x1.0p-53;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: linkemu IFACE_A IFACE_B [--delay MS] [--loss PCT] [--jitter MS]\n"
		"               [--limit FRAMES] [--seed N]\n"
		"Forwards every frame between IFACE_A and IFACE_B (a transparent wire).\n"
		"  --delay MS     one-way delay per direction, float (ping RTT = 2 x MS)\n"
		"  --loss PCT     random loss per direction, 0-100 (ping loses 1-(1-p)^2)\n"
		"  --jitter MS    uniform +/- MS added to the delay; never reorders\n"
		"  --limit N      queue limit per direction in frames (default %d)\n"
		"  --seed N       seed of the loss/jitter generator (default random)\n"
		"  --realtime     run with SCHED_FIFO priority %d, so that a busy machine\n"
		"                 does not delay the wire (it sleeps between frames)\n"
		"Prints 'ready' on stdout once both sockets are bound, and its counters\n"
		"on stderr when it exits (SIGTERM, SIGINT).\n",
		DEFAULT_LIMIT, RT_PRIORITY);
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	*out = 0;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi)) {
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "loss", required_argument, NULL, 'l' },
		{ "jitter", required_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'L' },
		{ "seed", required_argument, NULL, 's' },
		{ "realtime", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int c, rc = 0;

	*o = (struct opts){ .limit = DEFAULT_LIMIT };
	while (rc == 0 && (c = getopt_long(argc, argv, "d:l:j:L:s:rh", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			rc = parse_double(optarg, 0, MAX_DELAY_MS, &o->delay_ms);
			break;
		case 'l':
			rc = parse_double(optarg, 0, 100, &o->loss_pct);
			break;
		case 'j':
			rc = parse_double(optarg, 0, MAX_DELAY_MS, &o->jitter_ms);
			break;
		case 'L':
			rc = parse_double(optarg, 1, MAX_LIMIT, &v);
			o->limit = (unsigned int)v;
			break;
		case 's':
			rc = parse_double(optarg, 0, 9007199254740992.0, &v);
			o->seed = (uint64_t)v;
			o->seeded = true;
			break;
		case 'r':
			o->realtime = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (rc == 0 && argc - optind != 2) {
		rc = -EINVAL;
	}
	if (rc == 0) {
		o->ifname[0] = argv[optind];
		o->ifname[1] = argv[optind + 1];
	}
	return rc;
}

/*
 * Bind with protocol 0 first and switch to ETH_P_ALL in bind(), so that no
 * frame of another interface is queued on the socket in between.
 */
static int open_port(const char *ifname, int *out_fd)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	struct packet_mreq mr = { .mr_type = PACKET_MR_PROMISC };
	int one = 1, bufsz = SOCK_BUF, fd, rc;

	*out_fd = -1;
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (sll.sll_ifindex == 0) {
		return -ENODEV;
	}
	mr.mr_ifindex = sll.sll_ifindex;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0 ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	/* Best effort: larger buffers and no qdisc only help throughput. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz));
	(void)setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	*out_fd = fd;
	return 0;
}

static void transmit(struct wire *w, int dir, const uint8_t *data, size_t len)
{
	if (send(w->fd[1 - dir], data, len, MSG_DONTWAIT) == (ssize_t)len) {
		w->st[dir].tx++;
	} else {
		/* EAGAIN/ENOBUFS (full), EMSGSIZE: a real wire drops too. */
		w->st[dir].txerr++;
	}
}

static uint64_t deadline(struct wire *w, int dir, uint64_t now)
{
	uint64_t due = now + w->delay_ns;

	if (w->jitter_ns) {
		double off = (rand_unit(w) * 2.0 - 1.0) * (double)w->jitter_ns;

		due = (off < 0 && (uint64_t)-off > due - now) ? now : due + (int64_t)off;
	}
	if (due < w->q[dir].last_due_ns) {
		due = w->q[dir].last_due_ns;
	}
	return due;
}

static void enqueue(struct wire *w, int dir, size_t len, uint64_t now)
{
	struct queue *q = &w->q[dir];
	struct frame *f;

	if (q->len >= w->opt.limit) {
		w->st[dir].overflow++;
		return;
	}
	f = ntm_malloc(sizeof(*f) + len);
	if (!f) {
		w->st[dir].overflow++;
		return;
	}
	f->next = NULL;
	f->len = len;
	f->due_ns = deadline(w, dir, now);
	memcpy(f->data, w->buf, len);
	q->last_due_ns = f->due_ns;
	if (q->tail) {
		q->tail->next = f;
	} else {
		q->head = f;
	}
	q->tail = f;
	q->len++;
}

/* Reads at most READ_BUDGET frames; the level-triggered epoll calls again. */
static int read_port(struct wire *w, int dir)
{
	struct sockaddr_ll sll;
	socklen_t slen;
	ssize_t n;
	int i;

	for (i = 0; i < READ_BUDGET; i++) {
		slen = sizeof(sll);
		n = recvfrom(w->fd[dir], w->buf, sizeof(w->buf), MSG_TRUNC, (struct sockaddr *)&sll,
			     &slen);
		if (n < 0) {
			/*
			 * ENETDOWN is a pending socket error (an end was down for
			 * a moment); reading reports and clears it.
			 */
			if (errno == EAGAIN || errno == EINTR || errno == ENETDOWN) {
				return 0;
			}
			return -errno;
		}
		if (sll.sll_pkttype == PACKET_OUTGOING) {
			continue;
		}
		w->st[dir].rx++;
		if ((size_t)n > sizeof(w->buf) || n < VNET_HDR_LEN + ETH_HLEN) {
			w->st[dir].bad++;
		} else if (w->loss > 0 && rand_unit(w) < w->loss) {
			w->st[dir].lost++;
		} else {
			enqueue(w, dir, (size_t)n, now_ns());
		}
	}
	return 0;
}

static void flush_due(struct wire *w, int dir, uint64_t now)
{
	struct queue *q = &w->q[dir];
	struct frame *f;

	while ((f = q->head) && f->due_ns <= now) {
		q->head = f->next;
		if (!q->head) {
			q->tail = NULL;
		}
		q->len--;
		transmit(w, dir, f->data, f->len);
		ntm_free(f);
	}
}

static int arm_timer(struct wire *w)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };
	uint64_t next = 0;
	int dir;

	for (dir = 0; dir < 2; dir++) {
		if (w->q[dir].head && (!next || w->q[dir].head->due_ns < next)) {
			next = w->q[dir].head->due_ns;
		}
	}
	if (next == w->armed_ns) {
		return 0;
	}
	/* An all-zero it_value disarms; a due time is never 0 on a live clock. */
	its.it_value.tv_sec = (time_t)(next / 1000000000u);
	its.it_value.tv_nsec = (long)(next % 1000000000u);
	if (timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
		return -errno;
	}
	w->armed_ns = next;
	return 0;
}

static int handle_event(struct wire *w, uint32_t tag)
{
	uint64_t ticks;

	switch (tag) {
	case EV_PORT0:
	case EV_PORT1:
		return read_port(w, (int)tag);
	case EV_TIMER:
		if (read(w->tfd, &ticks, sizeof(ticks)) < 0) {
			/* EAGAIN after a re-arm: only the wake-up mattered. */
		}
		w->armed_ns = 0;
		return 0;
	default:
		return 1; /* a termination signal */
	}
}

static int run(struct wire *w)
{
	struct epoll_event ev[4];
	uint64_t now;
	int i, n, rc = 0;

	while (rc == 0) {
		n = epoll_wait(w->epfd, ev, 4, -1);
		if (n < 0 && errno != EINTR) {
			return -errno;
		}
		for (i = 0; i < n && rc == 0; i++) {
			rc = handle_event(w, ev[i].data.u32);
		}
		now = now_ns();
		flush_due(w, 0, now);
		flush_due(w, 1, now);
		if (rc == 0) {
			rc = arm_timer(w);
		}
	}
	return rc > 0 ? 0 : rc;
}

static int watch(struct wire *w, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static int setup(struct wire *w)
{
	sigset_t mask;
	int i, rc;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
		return -errno;
	}
	w->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->sfd < 0 || w->tfd < 0 || w->epfd < 0) {
		return -errno;
	}
	for (i = 0; i < 2; i++) {
		rc = open_port(w->opt.ifname[i], &w->fd[i]);
		if (rc < 0) {
			ntm_log_err("%s: %s", w->opt.ifname[i], ntm_strerror(rc));
			return rc;
		}
		rc = watch(w, w->fd[i], i == 0 ? EV_PORT0 : EV_PORT1);
		if (rc < 0) {
			return rc;
		}
	}
	rc = watch(w, w->tfd, EV_TIMER);
	return rc < 0 ? rc : watch(w, w->sfd, EV_SIGNAL);
}

static void print_stats(const struct wire *w)
{
	int d;

	for (d = 0; d < 2; d++) {
		const struct dir_stats *s = &w->st[d];

		ntm_log_info("%s -> %s: rx %" PRIu64 " tx %" PRIu64 " lost %" PRIu64
			     " overflow %" PRIu64 " txerr %" PRIu64 " bad %" PRIu64 " queued %u",
			     w->opt.ifname[d], w->opt.ifname[1 - d], s->rx, s->tx, s->lost,
			     s->overflow, s->txerr, s->bad, w->q[d].len);
	}
}

static void wire_destroy(struct wire *w)
{
	struct frame *f;
	int d;

	if (!w) {
		return;
	}
	for (d = 0; d < 2; d++) {
		while ((f = w->q[d].head)) {
			w->q[d].head = f->next;
			ntm_free(f);
		}
		if (w->fd[d] >= 0) {
			close(w->fd[d]);
		}
	}
	if (w->tfd >= 0) {
		close(w->tfd);
	}
	if (w->sfd >= 0) {
		close(w->sfd);
	}
	if (w->epfd >= 0) {
		close(w->epfd);
	}
	ntm_free(w);
}

static struct wire *wire_create(const struct opts *o)
{
	struct wire *w = ntm_calloc(1, sizeof(*w));

	if (!w) {
		return NULL;
	}
	w->opt = *o;
	w->fd[0] = w->fd[1] = w->tfd = w->sfd = w->epfd = -1;
	w->delay_ns = (uint64_t)(o->delay_ms * 1e6);
	w->jitter_ns = (uint64_t)(o->jitter_ms * 1e6);
	w->loss = o->loss_pct / 100.0;
	w->rng = o->seed;
	if (!o->seeded && getrandom(&w->rng, sizeof(w->rng), 0) != sizeof(w->rng)) {
		w->rng = (uint64_t)now_ns();
	}
	w->rng |= 1; /* xorshift must not start at 0 */
	return w;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct wire *w;
	int rc;

	ntm_log_init("linkemu", true, NTM_LOG_INFO);
	if (parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	w = wire_create(&o);
	if (!w) {
		ntm_fatal("out of memory");
	}
	if (o.realtime) {
		struct sched_param sp = { .sched_priority = RT_PRIORITY };

		if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) {
			ntm_log_warn("SCHED_FIFO: %s (continuing)", ntm_strerror(-errno));
		}
	}
	rc = setup(w);
	if (rc < 0) {
		wire_destroy(w);
		ntm_fatal("setup: %s", ntm_strerror(rc));
	}
	printf("ready %s <-> %s delay %.3f ms jitter %.3f ms loss %.2f %% limit %u\n", o.ifname[0],
	       o.ifname[1], o.delay_ms, o.jitter_ms, o.loss_pct, o.limit);
	fflush(stdout);
	rc = run(w);
	print_stats(w);
	if (rc < 0) {
		ntm_log_err("%s", ntm_strerror(rc));
	}
	wire_destroy(w);
	return rc < 0 ? 1 : 0;
}
