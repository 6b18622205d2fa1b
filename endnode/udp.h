/* SPDX-License-Identifier: MIT */
#ifndef EN_UDP_H
#define EN_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/addr.h"
#include "common/err.h"

/*
 * The node's UDP sockets: ONE per address family, both bound to the same
 * port (DESIGN "Transport and demultiplexing"), the IPv6 one with
 * IPV6_V6ONLY. Every datagram goes through them: tunnel data now, DC control
 * and relay frames later. The raw sockets are watched with uv_poll_t, for
 * what libuv 1.44 lacks: reads with UDP_GRO (the kernel coalesces a burst
 * from one sender into one read) and sends with UDP_SEGMENT (GSO). Sending
 * is synchronous: a full socket buffer drops the datagram, as a congested
 * link would.
 */
struct en_udp;

/*
 * `from` and `buf` are valid only during the callback; `buf` (len bytes) is
 * the module's receive buffer and may be modified in place.
 */
typedef void (*en_udp_recv_cb)(void *arg, uint8_t *buf, size_t len, const struct ntm_addr *from);
typedef void (*en_udp_read_end_cb)(void *arg);
typedef void (*en_udp_closed_cb)(void *arg);

struct en_udp_ops {
	en_udp_recv_cb datagram;
	/*
	 * After the datagrams of one read (several with UDP_GRO), before the
	 * receive buffer is reused: what the callbacks kept of it must go now.
	 */
	en_udp_read_end_cb read_end;
	void *arg; /* borrowed, passed to both */
};

/*
 * Binds both sockets to `port` (0: the kernel picks one for IPv4 and IPv6
 * takes the same). A host without IPv6 runs with IPv4 only (logged). `ops`
 * is copied. Returns 0 or a negative errno; on failure nothing is left open.
 * Close with en_udp_close().
 */
NTM_MUST_CHECK int en_udp_open(uv_loop_t *loop, uint16_t port, const struct en_udp_ops *ops,
			       struct en_udp **out);

/* The bound port (host order). */
uint16_t en_udp_port(const struct en_udp *u);
bool en_udp_has_family(const struct en_udp *u, int family);

/*
 * Sends one datagram (`buf` borrowed for the call) on the socket of the
 * family of `to`. Returns 0, -EDESTADDRREQ when `to` has no family,
 * -EAFNOSUPPORT when that family has no socket, or the send error (-EAGAIN
 * for a full buffer).
 */
NTM_MUST_CHECK int en_udp_send(struct en_udp *u, const struct ntm_addr *to, const uint8_t *buf,
			       size_t len);

/*
 * Sends `len` bytes (`buf` borrowed for the call) as datagrams of `seg`
 * bytes each, the last possibly shorter, in one sendmsg with UDP_SEGMENT
 * (UDP GSO); one by one when the kernel cannot. Returns 0 or a negative
 * errno as en_udp_send (the last error when sent one by one).
 */
NTM_MUST_CHECK int en_udp_send_gso(struct en_udp *u, const struct ntm_addr *to, const uint8_t *buf,
				   size_t len, size_t seg);

/*
 * As en_udp_send, with the IP TTL (IPv6 hop limit) `ttl` for this one
 * datagram: a hole-punching probe that opens the own NAT mapping and dies
 * before the peer's router (DESIGN "Flows" 3). The socket's default is
 * restored before returning.
 */
NTM_MUST_CHECK int en_udp_send_ttl(struct en_udp *u, const struct ntm_addr *to, const uint8_t *buf,
				   size_t len, int ttl);

/* Closes both sockets, frees `u` in the last close callback, then calls `done`. */
void en_udp_close(struct en_udp *u, en_udp_closed_cb done, void *arg);

#endif
