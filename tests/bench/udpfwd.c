/* SPDX-License-Identifier: MIT */
/*
 * udpfwd: the minimal UDP forwarder tests/bench/relay.sh measures ntm-rs
 * against. One dual-stack socket on [::]:PORT; every datagram that arrives
 * goes out unchanged to DEST (IPv4 arrivals are v4-mapped, so it crosses
 * families like the relay does). recvmmsg/sendmmsg in batches of BATCH, no
 * parsing, no lookup, no rate limit: the floor of what forwarding costs.
 * Prints "forwarded N" on SIGTERM/SIGINT.
 *
 *   udpfwd PORT DEST_ADDR DEST_PORT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { BATCH = 64, DGRAM_MAX = 2048 };

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* DEST as a v6 address (v4 becomes v4-mapped). */
static int parse_dest(const char *addr, const char *port, struct sockaddr_in6 *out)
{
	struct in_addr a4;

	memset(out, 0, sizeof(*out));
	out->sin6_family = AF_INET6;
	out->sin6_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET6, addr, &out->sin6_addr) == 1) {
		return 0;
	}
	if (inet_pton(AF_INET, addr, &a4) != 1) {
		return -1;
	}
	out->sin6_addr.s6_addr[10] = 0xff;
	out->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&out->sin6_addr.s6_addr[12], &a4, 4);
	return 0;
}

static int open_socket(int port)
{
	struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	int fd = socket(AF_INET6, SOCK_DGRAM, 0), off = 0;

	if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0 ||
	    bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0) {
		return -1;
	}
	/* The kernel's default buffer sizes, as ntm-rs uses them: the same footing. */
	return fd;
}

int main(int argc, char **argv)
{
	static unsigned char bufs[BATCH][DGRAM_MAX];
	struct mmsghdr in[BATCH], out[BATCH];
	struct iovec iov[BATCH], oiov[BATCH];
	struct sockaddr_in6 dest;
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long long fwd = 0;
	int fd;

	if (argc != 4 || parse_dest(argv[2], argv[3], &dest) < 0) {
		fprintf(stderr, "usage: udpfwd PORT DEST_ADDR DEST_PORT\n");
		return 2;
	}
	fd = open_socket(atoi(argv[1]));
	if (fd < 0) {
		perror("udpfwd: socket");
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: recvmmsg returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = DGRAM_MAX };
		in[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
		out[i].msg_hdr = (struct msghdr){ .msg_name = &dest,
						  .msg_namelen = sizeof(dest),
						  .msg_iov = &oiov[i],
						  .msg_iovlen = 1 };
	}
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		int n = recvmmsg(fd, in, BATCH, MSG_WAITFORONE, NULL);

		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			perror("udpfwd: recvmmsg");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			oiov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = in[i].msg_len };
		}
		for (int done = 0; done < n;) {
			int k = sendmmsg(fd, out + done, (unsigned)(n - done), 0);

			if (k <= 0) {
				break; /* a full buffer: the rest of the batch is lost, as it would
					  be */
			}
			done += k;
			fwd += (unsigned)k;
		}
	}
	printf("forwarded %llu\n", fwd);
	return 0;
}
