/* SPDX-License-Identifier: MIT */
#ifndef EN_PKTQ_H
#define EN_PKTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * Packets from the TUN held for a destination that has no tunnel yet, while
 * the DC is asked for its direction (DESIGN "Flows" 2: "the packet is
 * queued, not dropped"). Pure data structure: no uv, no sockets.
 *
 * Bounded three ways: at most EN_PKTQ_DESTS_MAX destinations, `per_dest`
 * packets per destination and `total` packets in all. A full destination
 * drops its own oldest packet; a full queue drops the oldest packet of
 * all; both count as dropped_oldest. A new destination when every slot is
 * taken is refused (counted). A destination stays until it is taken (the
 * tunnel is there) or discarded (no such node), even when drops emptied it.
 */
struct en_pktq;

enum {
	EN_PKTQ_DESTS_MAX = 32,
	EN_PKTQ_PER_DEST_CAP = 16, /* upper limit of per_dest */
};

struct en_pktq_stats {
	uint64_t queued;	 /* packets accepted */
	uint64_t dropped_oldest; /* pushed out by newer ones */
	uint64_t refused;	 /* no destination slot left */
	size_t packets;		 /* held now */
	size_t dests;		 /* destinations now */
};

/* Called for each packet of a destination, oldest first; `pkt` valid during the call. */
typedef void (*en_pktq_cb)(void *ctx, const uint8_t *pkt, size_t len);

/*
 * A queue of at most `per_dest` (1..EN_PKTQ_PER_DEST_CAP) packets per
 * destination and `total` (>= 1) in all. Returns 0, -EINVAL or -ENOMEM.
 * Free with en_pktq_destroy().
 */
NTM_MUST_CHECK int en_pktq_create(size_t per_dest, size_t total, struct en_pktq **out);

/* Frees every held packet; accepts NULL. */
void en_pktq_destroy(struct en_pktq *q);

/*
 * Holds a copy of `pkt` (borrowed) for `dst` (4 bytes for AF_INET, 16 for
 * AF_INET6). Returns 1 when the destination is new (the caller asks for its
 * direction), 0 when it was waiting already, -ENOSPC when no destination
 * slot is free (the packet is not held), -EINVAL (bad family or length 0)
 * or -ENOMEM.
 */
NTM_MUST_CHECK int en_pktq_push(struct en_pktq *q, int family, const uint8_t *dst,
				const uint8_t *pkt, size_t len);

/* True when `dst` is waiting. */
bool en_pktq_has(const struct en_pktq *q, int family, const uint8_t *dst);

/*
 * Removes the destination and hands its packets to cb (may be NULL: they
 * are just freed), oldest first. Returns how many there were (0 also when
 * the destination was not waiting). The callback may push to `q` again.
 */
size_t en_pktq_take(struct en_pktq *q, int family, const uint8_t *dst, en_pktq_cb cb, void *ctx);

void en_pktq_get_stats(const struct en_pktq *q, struct en_pktq_stats *out);

#endif
