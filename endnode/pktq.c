/* SPDX-License-Identifier: MIT */
#include "pktq.h"

#include <string.h>
#include <sys/socket.h>

#include "common/alloc.h"

struct held {
	uint8_t *data;
	size_t len;
	uint64_t seq; /* arrival order over the whole queue: the oldest goes first */
};

struct dest {
	bool used;
	int family;
	uint8_t addr[16];
	struct held ring[EN_PKTQ_PER_DEST_CAP];
	unsigned head, count;
};

struct en_pktq {
	size_t per_dest, total;
	uint64_t seq;
	struct en_pktq_stats st;
	struct dest d[EN_PKTQ_DESTS_MAX];
};

int en_pktq_create(size_t per_dest, size_t total, struct en_pktq **out)
{
	struct en_pktq *q;

	*out = NULL;
	if (per_dest == 0 || per_dest > EN_PKTQ_PER_DEST_CAP || total == 0) {
		return -EINVAL;
	}
	q = ntm_calloc(1, sizeof(*q));
	if (q == NULL) {
		return -ENOMEM;
	}
	q->per_dest = per_dest;
	q->total = total;
	*out = q;
	return 0;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static struct dest *find(const struct en_pktq *q, int family, const uint8_t *dst)
{
	size_t n = addr_len(family);

	for (size_t i = 0; n > 0 && i < EN_PKTQ_DESTS_MAX; i++) {
		const struct dest *d = &q->d[i];

		if (d->used && d->family == family && memcmp(d->addr, dst, n) == 0) {
			return (struct dest *)d;
		}
	}
	return NULL;
}

/* Removes the oldest packet of `d` (it has one). */
static void drop_head(struct en_pktq *q, struct dest *d)
{
	ntm_free(d->ring[d->head].data);
	d->ring[d->head].data = NULL;
	d->head = (d->head + 1) % EN_PKTQ_PER_DEST_CAP;
	d->count--;
	q->st.packets--;
	q->st.dropped_oldest++;
}

/* The queue is full: the oldest packet of all goes. */
static void drop_oldest(struct en_pktq *q)
{
	struct dest *victim = NULL;

	for (size_t i = 0; i < EN_PKTQ_DESTS_MAX; i++) {
		struct dest *d = &q->d[i];

		if (d->used && d->count > 0 &&
		    (victim == NULL || d->ring[d->head].seq < victim->ring[victim->head].seq)) {
			victim = d;
		}
	}
	if (victim != NULL) {
		drop_head(q, victim);
	}
}

static struct dest *add_dest(struct en_pktq *q, int family, const uint8_t *dst)
{
	for (size_t i = 0; i < EN_PKTQ_DESTS_MAX; i++) {
		struct dest *d = &q->d[i];

		if (!d->used) {
			memset(d, 0, sizeof(*d));
			d->used = true;
			d->family = family;
			memcpy(d->addr, dst, addr_len(family));
			q->st.dests++;
			return d;
		}
	}
	return NULL;
}

int en_pktq_push(struct en_pktq *q, int family, const uint8_t *dst, const uint8_t *pkt,
		 size_t len)
{
	struct dest *d;
	uint8_t *copy;
	int fresh = 0;

	if (addr_len(family) == 0 || len == 0) {
		return -EINVAL;
	}
	copy = ntm_malloc(len); /* first: a failure leaves no destination without a packet */
	if (copy == NULL) {
		return -ENOMEM;
	}
	memcpy(copy, pkt, len);
	d = find(q, family, dst);
	if (d == NULL) {
		d = add_dest(q, family, dst);
		if (d == NULL) {
			ntm_free(copy);
			q->st.refused++;
			return -ENOSPC;
		}
		fresh = 1;
	}
	if (d->count == q->per_dest) {
		drop_head(q, d);
	} else if (q->st.packets >= q->total) {
		drop_oldest(q);
	}
	d->ring[(d->head + d->count) % EN_PKTQ_PER_DEST_CAP] =
		(struct held){ .data = copy, .len = len, .seq = q->seq++ };
	d->count++;
	q->st.packets++;
	q->st.queued++;
	return fresh;
}

bool en_pktq_has(const struct en_pktq *q, int family, const uint8_t *dst)
{
	return find(q, family, dst) != NULL;
}

size_t en_pktq_take(struct en_pktq *q, int family, const uint8_t *dst, en_pktq_cb cb, void *ctx)
{
	struct dest *slot = find(q, family, dst);
	struct dest d;
	size_t n = 0;

	if (slot == NULL) {
		return 0;
	}
	/* Moved out first: the callback may push to the queue again (even this slot). */
	d = *slot;
	memset(slot, 0, sizeof(*slot));
	q->st.dests--;
	q->st.packets -= d.count;
	while (d.count > 0) {
		struct held *h = &d.ring[d.head];

		if (cb != NULL) {
			cb(ctx, h->data, h->len);
		}
		ntm_free(h->data);
		d.head = (d.head + 1) % EN_PKTQ_PER_DEST_CAP;
		d.count--;
		n++;
	}
	return n;
}

void en_pktq_get_stats(const struct en_pktq *q, struct en_pktq_stats *out)
{
	*out = q->st;
}

void en_pktq_destroy(struct en_pktq *q)
{
	if (q == NULL) {
		return;
	}
	for (size_t i = 0; i < EN_PKTQ_DESTS_MAX; i++) {
		if (q->d[i].used) {
			(void)en_pktq_take(q, q->d[i].family, q->d[i].addr, NULL, NULL);
		}
	}
	ntm_free(q);
}
