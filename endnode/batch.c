/* SPDX-License-Identifier: MIT */
#include "batch.h"

#include <assert.h>
#include <string.h>

#include "common/alloc.h"

struct en_batch {
	struct ntm_addr to;
	void *owner;
	size_t len;
	size_t seg;
	unsigned count;
	bool closed; /* a shorter datagram ended it */
	uint8_t buf[EN_BATCH_BYTES_MAX];
};

int en_batch_create(struct en_batch **out)
{
	*out = ntm_malloc(sizeof(**out));
	if (*out == NULL) {
		return -ENOMEM;
	}
	(*out)->count = 0;
	(*out)->len = 0;
	return 0;
}

void en_batch_destroy(struct en_batch *b)
{
	ntm_free(b);
}

bool en_batch_fits(const struct en_batch *b, const struct ntm_addr *to, const void *owner,
		   size_t len)
{
	if (b->count == 0) {
		return true;
	}
	return !b->closed && len <= b->seg && b->owner == owner &&
	       b->count < EN_BATCH_SEGMENTS_MAX && b->len + len <= sizeof(b->buf) &&
	       ntm_addr_equal(&b->to, to);
}

uint8_t *en_batch_reserve(struct en_batch *b, const struct ntm_addr *to, void *owner, size_t len)
{
	assert(len > 0 && len <= sizeof(b->buf) && en_batch_fits(b, to, owner, len));
	if (b->count == 0) {
		b->to = *to;
		b->owner = owner;
		b->seg = len;
		b->closed = false;
		b->len = 0;
	}
	return b->buf + b->len;
}

void en_batch_commit(struct en_batch *b, size_t len)
{
	if (len < b->seg) {
		b->closed = true;
	}
	b->len += len;
	b->count++;
}

bool en_batch_take(struct en_batch *b, struct en_batch_out *out)
{
	memset(out, 0, sizeof(*out));
	if (b->count == 0) {
		return false;
	}
	out->to = b->to;
	out->owner = b->owner;
	out->buf = b->buf;
	out->len = b->len;
	out->seg = b->seg;
	out->count = b->count;
	b->count = 0;
	b->len = 0;
	return true;
}
