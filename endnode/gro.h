/* SPDX-License-Identifier: MIT */
#ifndef EN_GRO_H
#define EN_GRO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "common/err.h"
#include "endnode/gso.h"

/*
 * Receive-side coalescing done in user space (the inverse of gso.h). Every
 * packet written into the TUN runs the receiving TCP stack inline, so the
 * decrypted packets of one UDP read are first gathered here: consecutive
 * in-order TCP segments of one flow from one peer are joined into one
 * super-packet, written in one go with a virtio-net GSO header, exactly as
 * the kernel's own GRO joins what a NIC receives. Everything else is written
 * as it came.
 *
 * A segment joins the latest packet of its flow only when the result is
 * what en_gso_split() would cut back into the very same segments: IPv4
 * without options or fragmentation, its id one more than the previous
 * segment's, or IPv6 without extension headers; the same addresses, ports,
 * TOS/traffic class, flow label, TTL/hop limit, DF, acknowledgement number,
 * window and urgent pointer; TCP flags ACK only (PSH allowed on the last
 * segment, which ends the packet); no options or only a timestamp option,
 * byte-identical; the next sequence number; payload no larger than the
 * first segment's (a smaller one ends the packet); valid IPv4 header and TCP
 * checksums (a bad one must still reach the kernel to be dropped there); at
 * most 64 KiB in all. A packet that fails a check goes out alone, unchanged,
 * and nothing of its flow joins anything before it.
 */
struct en_gro;

enum {
	/* Segments joined into one super-packet at most. */
	EN_GRO_SEGS_MAX = 64,
	/* Packets held between two flushes at most: more flush early. */
	EN_GRO_ITEMS_MAX = 64,
	/* iovec entries of one written packet: its headers, then one per segment payload. */
	EN_GRO_IOV_MAX = EN_GRO_SEGS_MAX + 1,
};

/*
 * Writes one packet: `iovcnt` pieces (borrowed for the call) to be written
 * back to back, described by `g` (EN_GSO_NONE and no checksum to complete
 * for a packet that goes out as it came; otherwise a TCP super-packet whose
 * TCP checksum holds the pseudo-header sum, NEEDS_CSUM). `owner` is what
 * en_gro_add() was given for its first segment.
 */
typedef void (*en_gro_write_cb)(void *arg, void *owner, const struct en_gso *g,
				const struct iovec *iov, size_t iovcnt);

/* Makes an empty coalescer; `cb` and `arg` (borrowed) receive every packet. */
NTM_MUST_CHECK int en_gro_create(en_gro_write_cb cb, void *arg, struct en_gro **out);

/*
 * Takes one IP packet (`len` bytes, exactly its IP length). `pkt` and
 * `owner` (the sending peer: segments of different owners never join) are
 * borrowed until the next en_gro_flush(), and the bytes must not change
 * before then. Flushes by itself when the table is full.
 */
void en_gro_add(struct en_gro *gro, void *owner, const uint8_t *pkt, size_t len);

/* Writes every held packet, in the order their first segments came; then holds nothing. */
void en_gro_flush(struct en_gro *gro);

/* Frees `gro` (NULL accepted); packets still held are dropped unwritten. */
void en_gro_destroy(struct en_gro *gro);

#endif
