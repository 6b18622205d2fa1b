/* SPDX-License-Identifier: MIT */
#include "index.h"

#include <assert.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/alloc.h"

/*
 * A chained hash table. Indices are uniformly random, so their low bits are
 * the hash. The table does not grow: each peer holds at most four indices
 * (one handshake, three keypairs), so 4096 buckets keep chains short for
 * thousands of peers.
 */
enum { INDEX_BUCKETS = 4096 };

struct en_index {
	struct en_index_entry *bucket[INDEX_BUCKETS];
};

static struct en_index_entry **bucket_of(const struct en_index *t, uint32_t index)
{
	return (struct en_index_entry **)&t->bucket[index & (INDEX_BUCKETS - 1)];
}

int en_index_create(struct en_index **out)
{
	*out = ntm_calloc(1, sizeof(**out));
	return *out == NULL ? -ENOMEM : 0;
}

void en_index_destroy(struct en_index *t)
{
	ntm_free(t);
}

static bool is_used(const struct en_index *t, uint32_t index)
{
	for (const struct en_index_entry *e = *bucket_of(t, index); e != NULL; e = e->next) {
		if (e->index == index) {
			return true;
		}
	}
	return false;
}

void en_index_insert(struct en_index *t, struct en_index_entry *e)
{
	struct en_index_entry **b;
	uint32_t index;

	assert(e->index == 0);
	do {
		index = randombytes_random();
	} while (index == 0 || is_used(t, index));
	e->index = index;
	b = bucket_of(t, index);
	e->next = *b;
	*b = e;
}

void en_index_remove(struct en_index *t, struct en_index_entry *e)
{
	if (e->index == 0) {
		return;
	}
	for (struct en_index_entry **p = bucket_of(t, e->index); *p != NULL; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			break;
		}
	}
	e->next = NULL;
	e->index = 0;
}

void en_index_replace(struct en_index *t, struct en_index_entry *old, struct en_index_entry *repl)
{
	assert(old->index != 0 && repl->index == 0);
	for (struct en_index_entry **p = bucket_of(t, old->index); *p != NULL; p = &(*p)->next) {
		if (*p == old) {
			repl->index = old->index;
			repl->next = old->next;
			*p = repl;
			break;
		}
	}
	old->next = NULL;
	old->index = 0;
}

struct en_index_entry *en_index_lookup(const struct en_index *t, uint32_t index, unsigned kinds)
{
	if (index == 0) {
		return NULL;
	}
	for (struct en_index_entry *e = *bucket_of(t, index); e != NULL; e = e->next) {
		if (e->index == index) {
			return (e->kind & kinds) ? e : NULL;
		}
	}
	return NULL;
}
