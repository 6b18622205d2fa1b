/* SPDX-License-Identifier: MIT */
#ifndef EN_GSO_H
#define EN_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * Segmentation offload done in user space. With IFF_VNET_HDR and TSO
 * enabled on the TUN, the kernel hands the node TCP "super-packets" of up to
 * 64 KiB (one IP and TCP header, then many MSS-sized chunks) and leaves
 * checksums for us to complete (the virtio-net header, virtio spec 5.1.6.2).
 * The peer must see ordinary IP packets, so each one is cut here into the
 * packets the kernel would have sent: headers copied, lengths, IPv4 id, TCP
 * sequence number and flags adjusted, and every checksum computed in full.
 */
enum en_gso_type {
	EN_GSO_NONE,
	EN_GSO_TCP4,
	EN_GSO_TCP6,
};

/* What the TUN said about one packet (decoded from its virtio-net header). */
struct en_gso {
	enum en_gso_type type;
	bool needs_csum;      /* checksum at csum_start + csum_offset is partial */
	uint16_t csum_start;  /* where the checksummed bytes start */
	uint16_t csum_offset; /* where the checksum field is, from csum_start */
	uint16_t gso_size;    /* TCP payload bytes per segment */
	uint16_t hdr_len;     /* IP and TCP header bytes (a hint for the kernel) */
};

enum {
	/* IPv4 (60) or IPv6 (40) header plus a TCP header with options (60). */
	EN_GSO_HEADERS_MAX = 120,
};

/*
 * One finished IP packet. `seg` (len bytes) lies inside the buffer given to
 * en_gso_split and is valid only during the callback; the callback may
 * modify those bytes but no others.
 */
typedef void (*en_gso_segment_cb)(void *arg, uint8_t *seg, size_t len);

/*
 * Cuts `pkt` (len bytes, modified in place: each segment's headers are
 * written over the last bytes of the previous segment's payload once that
 * segment has been handed out) into IP packets and calls `cb` for each, in
 * order. A packet that needs no segmentation is handed out as is, its
 * checksum completed when `g->needs_csum`. Returns 0, or -EBADMSG (nothing
 * handed out) when the headers do not match `g` (not TCP, IPv6 extension
 * headers, fields out of bounds, gso_size 0).
 */
NTM_MUST_CHECK int en_gso_split(uint8_t *pkt, size_t len, const struct en_gso *g,
				en_gso_segment_cb cb, void *arg);

#endif
