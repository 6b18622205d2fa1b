/* SPDX-License-Identifier: MIT */
/*
 * The dns module's own parsing and conversions (common/dns_data.c), without a
 * loop or a socket. The first input byte selects the target:
 *   0: a configured server string: ntm_dns_parse_server(), then format the
 *      result and parse it again (decode -> encode -> decode round trip);
 *   1: an answer message: ares_parse_srv_reply(), then ntm_dns_copy_srv(),
 *      checking the promised order.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/dns_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_server(const uint8_t *d, size_t n)
{
	char s[NTM_DNS_MAX_SERVER_STR + 8];
	char again[NTM_DNS_MAX_SERVER_STR + 8];
	char ip[INET6_ADDRSTRLEN];
	struct ares_addr_port_node a;
	struct ares_addr_port_node b;

	n = n < sizeof(s) ? n : sizeof(s) - 1;
	memcpy(s, d, n);
	s[n] = '\0';
	if (ntm_dns_parse_server(s, &a) < 0) {
		return;
	}
	if ((a.family != AF_INET && a.family != AF_INET6) || a.udp_port < 1 || a.udp_port > 65535 ||
	    a.tcp_port != a.udp_port || a.next != NULL) {
		abort();
	}
	if (inet_ntop(a.family, &a.addr, ip, sizeof(ip)) == NULL) {
		abort();
	}
	snprintf(again, sizeof(again), a.family == AF_INET ? "%s:%d" : "[%s]:%d", ip, a.udp_port);
	if (ntm_dns_parse_server(again, &b) < 0 || b.family != a.family ||
	    b.udp_port != a.udp_port ||
	    memcmp(&a.addr, &b.addr, a.family == AF_INET ? 4 : 16) != 0) {
		abort();
	}
}

static void fuzz_srv(const uint8_t *d, size_t n)
{
	struct ares_srv_reply *replies = NULL;
	struct ntm_dns_srv *srv = NULL;
	size_t count = 0;

	if (n > INT_MAX || ares_parse_srv_reply(d, (int)n, &replies) != ARES_SUCCESS) {
		return;
	}
	if (ntm_dns_copy_srv(replies, &srv, &count) == 0) {
		for (size_t i = 1; i < count; i++) {
			if (srv[i - 1].priority > srv[i].priority ||
			    (srv[i - 1].priority == srv[i].priority &&
			     srv[i - 1].weight < srv[i].weight)) {
				abort();
			}
		}
		for (size_t i = 0; i < count; i++) {
			if (strlen(srv[i].target) > 255 * 4) {
				abort();
			}
		}
		ntm_free(srv);
	}
	ares_free_data(replies);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0) {
		return 0;
	}
	if (data[0] % 2 == 0) {
		fuzz_server(data + 1, size - 1);
	} else {
		fuzz_srv(data + 1, size - 1);
	}
	return 0;
}
