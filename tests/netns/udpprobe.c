/* SPDX-License-Identifier: MIT */
/*
 * udpprobe: the small UDP tool of the NAT tests (a STUN-like mapping probe).
 *
 *   udpprobe server [-4|-6] [-t MS] PORT
 *       answers each datagram with "ADDR PORT", the sender's address as seen
 *       here, and logs "from ADDR PORT: TEXT" on stdout.
 *   udpprobe query [-b LPORT] [-t MS] [-T TTL] HOST PORT [HOST PORT...]
 *       asks each server from ONE socket and prints
 *       "HOST PORT -> MAPPED_ADDR MAPPED_PORT" or "HOST PORT timeout".
 *   udpprobe send [-b LPORT] [-T TTL] HOST PORT [TEXT]
 *       fires one datagram and exits.
 *   udpprobe listen [-4|-6] [-t MS] PORT
 *       prints "ADDR PORT TEXT" for the first datagram and exits 0, or exits
 *       1 after MS.
 *
 * Exit status: 0 success, 1 timeout or send failure, 2 usage error.
 * Every socket sets SO_REUSEADDR and SO_REUSEPORT, so a test can send from a
 * server's port while the server runs (e.g. an unsolicited datagram from
 * S1:3478). HOST is a numeric IPv4 or IPv6 address. Sockets are dual-stack
 * unless -4/-6; IPv4-mapped addresses are printed as plain IPv4.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"

enum {
	DEFAULT_TIMEOUT_MS = 1000,
	MAX_TIMEOUT_MS = 600000,
	RESEND_MS = 200,
	MAX_TARGETS = 16,
	TEXT_MAX = 512,
	EXIT_TIMEOUT = 1,
	EXIT_USAGE = 2,
};

struct probe_opts {
	int family;	/* AF_UNSPEC: dual-stack */
	int timeout_ms; /* -1: forever (server only) */
	int local_port;
	int ttl; /* 0: system default */
};

static void usage(void)
{
	fprintf(stderr,
		"usage: udpprobe server [-4|-6] [-t MS] PORT\n"
		"       udpprobe query [-b LPORT] [-t MS] [-T TTL] HOST PORT [HOST PORT...]\n"
		"       udpprobe send [-b LPORT] [-T TTL] HOST PORT [TEXT]\n"
		"       udpprobe listen [-4|-6] [-t MS] PORT\n");
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	*out = 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

/* Stores an IPv4 address as ::ffff:a.b.c.d, so that one form fits all. */
static void map_v4(const struct in_addr *a4, uint16_t port_be, struct sockaddr_in6 *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin6_family = AF_INET6;
	sa->sin6_port = port_be;
	sa->sin6_addr.s6_addr[10] = 0xff;
	sa->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&sa->sin6_addr.s6_addr[12], a4, 4);
}

/* Parses numeric HOST and PORT into the v6 form. */
static int parse_target(const char *host, const char *port, struct sockaddr_in6 *sa)
{
	struct in_addr a4;
	int p;

	memset(sa, 0, sizeof(*sa));
	sa->sin6_family = AF_INET6;
	if (parse_int(port, 1, 65535, &p) < 0) {
		return -EINVAL;
	}
	sa->sin6_port = htons((uint16_t)p);
	if (inet_pton(AF_INET6, host, &sa->sin6_addr) == 1) {
		return 0;
	}
	if (inet_pton(AF_INET, host, &a4) != 1) {
		return -EINVAL;
	}
	map_v4(&a4, sa->sin6_port, sa);
	return 0;
}

static bool is_mapped(const struct sockaddr_in6 *sa)
{
	return IN6_IS_ADDR_V4MAPPED(&sa->sin6_addr);
}

/* Formats "ADDR PORT" into buf (at least INET6_ADDRSTRLEN + 8 bytes). */
static void format_addr(const struct sockaddr_in6 *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (is_mapped(sa)) {
		inet_ntop(AF_INET, &sa->sin6_addr.s6_addr[12], a, sizeof(a));
	} else {
		inet_ntop(AF_INET6, &sa->sin6_addr, a, sizeof(a));
	}
	snprintf(buf, len, "%s %u", a, ntohs(sa->sin6_port));
}

static int set_ttl(int fd, int family, int ttl)
{
	if (ttl <= 0) {
		return 0;
	}
	if (setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)) < 0) {
		return -errno;
	}
	if (family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl)) < 0) {
		return -errno;
	}
	return 0;
}

/*
 * Opens the probe socket: AF_INET for -4, otherwise AF_INET6 (v6-only for -6,
 * dual-stack else), bound to the wildcard address and `port` (0: any).
 * The caller closes the result.
 */
static int open_socket(const struct probe_opts *o, int *out_fd)
{
	int family = o->family == AF_INET ? AF_INET : AF_INET6;
	int one = 1, v6only = o->family == AF_INET6, fd, rc;
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in sa4 = { .sin_family = AF_INET };
	struct sockaddr *sa = family == AF_INET ? (struct sockaddr *)&sa4 : (struct sockaddr *)&sa6;
	socklen_t salen = family == AF_INET ? sizeof(sa4) : sizeof(sa6);

	*out_fd = -1;
	sa4.sin_port = sa6.sin6_port = htons((uint16_t)o->local_port);
	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    (family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0) ||
	    bind(fd, sa, salen) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = set_ttl(fd, family, o->ttl);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*out_fd = fd;
	return 0;
}

/* Sends to a v6-form address, converting it back for an AF_INET socket. */
static int send_to(int fd, const struct probe_opts *o, const struct sockaddr_in6 *dst,
		   const char *text)
{
	struct sockaddr_in sa4 = { .sin_family = AF_INET, .sin_port = dst->sin6_port };
	const struct sockaddr *sa = (const struct sockaddr *)dst;
	socklen_t salen = sizeof(*dst);

	if (o->family == AF_INET) {
		if (!is_mapped(dst)) {
			return -EAFNOSUPPORT;
		}
		memcpy(&sa4.sin_addr, &dst->sin6_addr.s6_addr[12], 4);
		sa = (const struct sockaddr *)&sa4;
		salen = sizeof(sa4);
	}
	if (sendto(fd, text, strlen(text), 0, sa, salen) < 0) {
		return -errno;
	}
	return 0;
}

/*
 * Receives one datagram within `timeout_ms` (-1: forever) into text (NUL
 * terminated, control characters replaced) and its source into `from`
 * (v6 form). Returns the length, -ETIMEDOUT or another negative errno.
 */
static int recv_text(int fd, int timeout_ms, char *text, size_t len, struct sockaddr_in6 *from)
{
	struct sockaddr_storage ss;
	socklen_t slen = sizeof(ss);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int rc;

	rc = poll(&pfd, 1, timeout_ms);
	if (rc <= 0) {
		return rc == 0 ? -ETIMEDOUT : -errno;
	}
	n = recvfrom(fd, text, len - 1, 0, (struct sockaddr *)&ss, &slen);
	if (n < 0) {
		return -errno;
	}
	text[n] = '\0';
	for (ssize_t i = 0; i < n; i++) {
		if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] == 0x7f) {
			text[i] = '.';
		}
	}
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;

		map_v4(&s4->sin_addr, s4->sin_port, from);
	} else {
		memcpy(from, &ss, sizeof(*from));
	}
	return (int)n;
}

static bool same_endpoint(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b)
{
	return a->sin6_port == b->sin6_port &&
	       memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0;
}

/* Asks one server, resending every RESEND_MS, until o->timeout_ms. */
static int query_one(int fd, const struct probe_opts *o, const struct sockaddr_in6 *dst,
		     char *answer, size_t len)
{
	int64_t end = now_ms() + o->timeout_ms, next_send = 0, now;
	struct sockaddr_in6 from;
	int rc;

	while ((now = now_ms()) < end) {
		if (now >= next_send) {
			rc = send_to(fd, o, dst, "udpprobe query");
			if (rc < 0) {
				return rc;
			}
			next_send = now + RESEND_MS;
		}
		rc = recv_text(fd, (int)((next_send < end ? next_send : end) - now), answer, len,
			       &from);
		if (rc >= 0 && same_endpoint(&from, dst)) {
			return 0;
		}
		if (rc < 0 && rc != -ETIMEDOUT) {
			return rc;
		}
	}
	return -ETIMEDOUT;
}

/* A socket family that can reach every target: v4 only if all are v4. */
static int family_for(struct sockaddr_in6 *dst, int n)
{
	for (int i = 0; i < n; i++) {
		if (!is_mapped(&dst[i])) {
			return AF_UNSPEC;
		}
	}
	return AF_INET;
}

static int parse_targets(char **argv, int argc, struct sockaddr_in6 *dst)
{
	for (int i = 0; i < argc / 2; i++) {
		if (parse_target(argv[2 * i], argv[2 * i + 1], &dst[i]) < 0) {
			ntm_log_err("bad target %s %s", argv[2 * i], argv[2 * i + 1]);
			return -EINVAL;
		}
	}
	return 0;
}

static int cmd_query(struct probe_opts *o, int argc, char **argv)
{
	struct sockaddr_in6 dst[MAX_TARGETS];
	char answer[TEXT_MAX];
	int fd, i, rc, status = 0;

	if (argc < 2 || argc % 2 || argc / 2 > MAX_TARGETS || parse_targets(argv, argc, dst) < 0) {
		return EXIT_USAGE;
	}
	o->family = family_for(dst, argc / 2);
	rc = open_socket(o, &fd);
	if (rc < 0) {
		ntm_log_err("socket: %s", ntm_strerror(rc));
		return EXIT_TIMEOUT;
	}
	for (i = 0; i < argc / 2; i++) {
		rc = query_one(fd, o, &dst[i], answer, sizeof(answer));
		if (rc == 0) {
			printf("%s %s -> %s\n", argv[2 * i], argv[2 * i + 1], answer);
		} else {
			printf("%s %s %s\n", argv[2 * i], argv[2 * i + 1],
			       rc == -ETIMEDOUT ? "timeout" : ntm_strerror(rc));
			status = EXIT_TIMEOUT;
		}
		fflush(stdout);
	}
	close(fd);
	return status;
}

static int cmd_send(struct probe_opts *o, int argc, char **argv)
{
	struct sockaddr_in6 dst;
	int fd, rc;

	if (argc < 2 || argc > 3 || parse_targets(argv, 2, &dst) < 0) {
		return EXIT_USAGE;
	}
	o->family = family_for(&dst, 1);
	rc = open_socket(o, &fd);
	if (rc == 0) {
		rc = send_to(fd, o, &dst, argc == 3 ? argv[2] : "udpprobe");
		close(fd);
	}
	if (rc < 0) {
		ntm_log_err("send to %s %s: %s", argv[0], argv[1], ntm_strerror(rc));
		return EXIT_TIMEOUT;
	}
	return 0;
}

/*
 * server (answer = true) answers until its timeout (forever without -t) and
 * fails only on socket errors; listen stops at the first datagram and fails
 * on timeout.
 */
static int serve(struct probe_opts *o, int argc, char **argv, bool answer)
{
	int64_t end = now_ms() + o->timeout_ms;
	struct sockaddr_in6 from;
	char text[TEXT_MAX], addr[INET6_ADDRSTRLEN + 8];
	int fd, n, rc;

	if (argc != 1 || parse_int(argv[0], 1, 65535, &o->local_port) < 0) {
		return EXIT_USAGE;
	}
	n = open_socket(o, &fd);
	if (n < 0) {
		ntm_log_err("bind %s: %s", argv[0], ntm_strerror(n));
		return EXIT_TIMEOUT;
	}
	do {
		n = -ETIMEDOUT;
		if (o->timeout_ms < 0 || end > now_ms()) {
			n = recv_text(fd, o->timeout_ms < 0 ? -1 : (int)(end - now_ms()), text,
				      sizeof(text), &from);
		}
		if (n < 0) {
			continue;
		}
		format_addr(&from, addr, sizeof(addr));
		printf(answer ? "from %s: %s\n" : "%s %s\n", addr, text);
		fflush(stdout);
		rc = answer ? send_to(fd, o, &from, addr) : 0;
		if (rc < 0) {
			ntm_log_warn("reply to %s: %s", addr, ntm_strerror(rc));
		}
	} while (answer ? (n >= 0 || n == -EINTR) : n == -EINTR);
	close(fd);
	if (answer) {
		return n == -ETIMEDOUT ? 0 : EXIT_TIMEOUT;
	}
	if (n == -ETIMEDOUT) {
		printf("timeout\n");
	}
	return n >= 0 ? 0 : EXIT_TIMEOUT;
}

static int parse_opts(int argc, char **argv, struct probe_opts *o)
{
	int c, rc = 0;

	while (rc == 0 && (c = getopt(argc, argv, "+46b:t:T:")) != -1) {
		switch (c) {
		case '4':
			o->family = AF_INET;
			break;
		case '6':
			o->family = AF_INET6;
			break;
		case 'b':
			rc = parse_int(optarg, 0, 65535, &o->local_port);
			break;
		case 't':
			rc = parse_int(optarg, 1, MAX_TIMEOUT_MS, &o->timeout_ms);
			break;
		case 'T':
			rc = parse_int(optarg, 1, 255, &o->ttl);
			break;
		default:
			return -EINVAL;
		}
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct probe_opts o = { .family = AF_UNSPEC, .timeout_ms = DEFAULT_TIMEOUT_MS };
	const char *cmd;

	ntm_log_init("udpprobe", true, NTM_LOG_INFO);
	if (argc < 2) {
		usage();
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "server") == 0) {
		o.timeout_ms = -1;
	}
	optind = 2;
	if (parse_opts(argc, argv, &o) < 0) {
		usage();
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "server") == 0) {
		return serve(&o, argc, argv, true);
	}
	if (strcmp(cmd, "listen") == 0) {
		return serve(&o, argc, argv, false);
	}
	if (strcmp(cmd, "query") == 0) {
		return cmd_query(&o, argc, argv);
	}
	if (strcmp(cmd, "send") == 0) {
		return cmd_send(&o, argc, argv);
	}
	usage();
	return EXIT_USAGE;
}
