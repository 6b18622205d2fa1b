/* SPDX-License-Identifier: MIT */
#ifndef EN_BATCH_H
#define EN_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/err.h"

/*
 * Outgoing datagrams gathered for one send: consecutive messages to the same
 * endpoint (and the same owner, for accounting) laid out back to back, all of
 * one size except possibly a shorter last one. That is exactly what one
 * sendmsg with UDP_SEGMENT (UDP GSO) takes, and a peer without GSO gets the
 * same datagrams one by one. Messages are encrypted straight into the batch,
 * so a datagram is never copied again before the kernel takes it.
 */
struct en_batch;

enum {
	/* The kernel's UDP_MAX_SEGMENTS, and the most a UDP payload can hold. */
	EN_BATCH_SEGMENTS_MAX = 64,
	EN_BATCH_BYTES_MAX = 65000,
};

/* A full batch, handed out by en_batch_take(). */
struct en_batch_out {
	struct ntm_addr to;
	void *owner;	    /* as given to en_batch_reserve (borrowed) */
	const uint8_t *buf; /* valid until the next en_batch_reserve or destroy */
	size_t len;	    /* bytes in all */
	size_t seg;	    /* size of every datagram but the last */
	unsigned count;	    /* datagrams */
};

/* Returns 0 or -ENOMEM. Free with en_batch_destroy(). */
NTM_MUST_CHECK int en_batch_create(struct en_batch **out);
void en_batch_destroy(struct en_batch *b);

/*
 * Whether a datagram of `len` bytes (1..EN_BATCH_BYTES_MAX) to `to` for
 * `owner` may join the batch; if not, the caller takes (sends) the batch
 * first.
 */
bool en_batch_fits(const struct en_batch *b, const struct ntm_addr *to, const void *owner,
		   size_t len);

/*
 * Room for the next datagram (`len` bytes; en_batch_fits() must hold), or
 * for the first one of an empty batch. It joins only once committed.
 */
uint8_t *en_batch_reserve(struct en_batch *b, const struct ntm_addr *to, void *owner, size_t len);
void en_batch_commit(struct en_batch *b, size_t len);

/* Hands out the datagrams and empties the batch; false when it was empty. */
bool en_batch_take(struct en_batch *b, struct en_batch_out *out);

#endif
