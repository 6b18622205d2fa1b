/* SPDX-License-Identifier: MIT */
#ifndef EN_TUN_H
#define EN_TUN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <uv.h>

#include "common/err.h"
#include "endnode/gso.h"

/*
 * The node's TUN interface: a layer-3 device without packet information
 * (IFF_NO_PI), read on the loop through a uv_poll_t. Every packet carries a
 * virtio-net header (IFF_VNET_HDR) so that the kernel may hand over TCP
 * super-packets (TSO) with partial checksums: each read is one packet, cut
 * here into ordinary IP packets (gso.h). Packets are handed to the callback
 * one at a time, within a per-wakeup budget so that a busy TUN cannot starve
 * the UDP side of the loop; the end of each burst is signalled, so that the
 * consumer can send what it gathered in one go.
 */
struct en_tun;

/* `pkt` is valid only during the callback; it may be modified in place. */
typedef void (*en_tun_packet_cb)(void *arg, uint8_t *pkt, size_t len);
typedef void (*en_tun_burst_cb)(void *arg);
typedef void (*en_tun_closed_cb)(void *arg);

struct en_tun_ops {
	en_tun_packet_cb packet;
	en_tun_burst_cb burst_end; /* after the packets of one wakeup */
	void *arg;		   /* borrowed, passed to both */
};

/*
 * Creates (or attaches to) the TUN device `ifname` (at most IFNAMSIZ-1
 * bytes). Needs CAP_NET_ADMIN. `ops` is copied. Reading starts at once. The
 * caller closes the result with en_tun_close().
 */
NTM_MUST_CHECK int en_tun_create(uv_loop_t *loop, const char *ifname, const struct en_tun_ops *ops,
				 struct en_tun **out);

/* Kernel name and index of the device (valid until close). */
const char *en_tun_name(const struct en_tun *tun);
int en_tun_ifindex(const struct en_tun *tun);

/*
 * Writes one IP packet to the kernel. A full TUN queue (-EAGAIN) drops the
 * packet, as a congested link would; the caller counts it.
 */
NTM_MUST_CHECK int en_tun_write(struct en_tun *tun, const uint8_t *pkt, size_t len);

enum {
	/* Pieces of one packet given to en_tun_write_gso at most. */
	EN_TUN_IOV_MAX = 72,
};

/*
 * Writes one packet made of `iovcnt` (at most EN_TUN_IOV_MAX) pieces, all
 * borrowed for the call, behind a virtio-net header saying `g`: with
 * EN_GSO_TCP4/6 a TCP super-packet that the kernel takes as if its own GRO
 * had joined it (gro.h). Returns 0, -EINVAL, or the write error as
 * en_tun_write.
 */
NTM_MUST_CHECK int en_tun_write_gso(struct en_tun *tun, const struct en_gso *g,
				    const struct iovec *iov, size_t iovcnt);

/* Stops reading, closes the device (it disappears unless persistent) and
 * frees `tun` once libuv has released the poll handle; then calls `done`. */
void en_tun_close(struct en_tun *tun, en_tun_closed_cb done, void *arg);

#endif
