/* SPDX-License-Identifier: MIT */
/*
 * pktgrab: captures the payloads of IPv4 UDP datagrams to a port, for
 * replaying them from elsewhere (tests/netns/mobility.sh: a replayed packet
 * must never move a tunnel). There is no tcpdump in the testbed.
 *
 *   pktgrab IFNAME DPORT COUNT PREFIX
 *
 * Creates PREFIX.ready once listening, then writes the UDP payload of each
 * of the next COUNT datagrams to DPORT seen on IFNAME (either direction) to
 * PREFIX.0, PREFIX.1, ... and exits 0. Exit 1 on errors, 2 on usage.
 */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int open_capture(const char *ifname)
{
	/* ETH_P_ALL: a protocol-bound packet socket sees only incoming packets. */
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	int fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));

	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (fd < 0 || sll.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror("pktgrab: socket");
		return -1;
	}
	return fd;
}

/* The UDP payload of an IPv4 packet to `port`, or NULL. */
static const unsigned char *udp_payload(const unsigned char *p, size_t len, unsigned port,
					size_t *plen)
{
	const struct iphdr *ip = (const void *)p;
	const struct udphdr *udp;
	size_t hl;

	if (len < sizeof(*ip) || ip->version != 4 || ip->protocol != IPPROTO_UDP) {
		return NULL;
	}
	hl = (size_t)ip->ihl * 4;
	if (hl < sizeof(*ip) || len < hl + sizeof(*udp) || (ntohs(ip->frag_off) & 0x1fff) != 0) {
		return NULL;
	}
	udp = (const void *)(p + hl);
	if (ntohs(udp->dest) != port || ntohs(udp->len) < sizeof(*udp) ||
	    hl + ntohs(udp->len) > len) {
		return NULL;
	}
	*plen = ntohs(udp->len) - sizeof(*udp);
	return p + hl + sizeof(*udp);
}

static int write_file(const char *path, const unsigned char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(buf, 1, len, f) != len) {
		perror(path);
		if (f != NULL) {
			fclose(f);
		}
		return -1;
	}
	return fclose(f);
}

int main(int argc, char **argv)
{
	static unsigned char buf[65536];
	char path[4096];
	long port, count;
	int fd;

	if (argc != 5 || (port = strtol(argv[2], NULL, 10)) <= 0 || port > 65535 ||
	    (count = strtol(argv[3], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: pktgrab IFNAME DPORT COUNT PREFIX\n");
		return 2;
	}
	fd = open_capture(argv[1]);
	snprintf(path, sizeof(path), "%s.ready", argv[4]);
	if (fd < 0 || write_file(path, buf, 0) < 0) {
		return 1;
	}
	for (long n = 0; n < count;) {
		struct sockaddr_ll from;
		socklen_t flen = sizeof(from);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		const unsigned char *pl;
		size_t plen;

		if (r < 0) {
			perror("pktgrab: recv");
			return 1;
		}
		if (from.sll_protocol != htons(ETH_P_IP)) {
			continue;
		}
		pl = udp_payload(buf, (size_t)r, (unsigned)port, &plen);
		if (pl == NULL || plen == 0) {
			continue;
		}
		snprintf(path, sizeof(path), "%s.%ld", argv[4], n++);
		if (write_file(path, pl, plen) < 0) {
			return 1;
		}
	}
	close(fd);
	return 0;
}
