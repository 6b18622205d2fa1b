/* SPDX-License-Identifier: MIT */
/*
 * The control sessions of the DC: a table of MaxSessions slots. A session's
 * local indices carry its slot in the low slot_bits bits, so a data message
 * finds its session in O(1); a keyed hash (random key) of the node's static
 * key finds it for an initiation. A new session takes a random free slot
 * (slots, and so indices, do not tell how many nodes there are). When the
 * table is full the least recently active session is evicted (sessions of
 * keys on probation first; a linear scan, as it happens only at capacity);
 * the evicted node simply handshakes again. The sessions' secrets come from
 * one secure pool (c->secpool), not one sodium_malloc each.
 */
#include "ctrl_internal.h"

#include <sodium.h>
#include <string.h>

#include "common/alloc.h"

int dc_ctable_init(struct dc_ctable *t, size_t max)
{
	unsigned bits = 4;

	memset(t, 0, sizeof(*t));
	if (max == 0 || max > DC_CONFIG_MAX_SESSIONS_MAX) {
		return -EINVAL;
	}
	while (((size_t)1 << bits) < max) {
		bits++;
	}
	t->slots = ntm_calloc(max, sizeof(*t->slots));
	t->buckets = ntm_calloc((size_t)1 << bits, sizeof(*t->buckets));
	t->free = ntm_calloc(max, sizeof(*t->free));
	if (t->slots == NULL || t->buckets == NULL || t->free == NULL) {
		dc_ctable_fini(t);
		return -ENOMEM;
	}
	t->max = max;
	t->slot_bits = bits;
	for (size_t i = 0; i < max; i++) {
		t->free[i] = (uint32_t)(max - 1 - i);
	}
	t->n_free = max;
	randombytes_buf(t->hash_key, sizeof(t->hash_key));
	return 0;
}

static size_t key_bucket(const struct dc_ctable *t, const uint8_t pub[NTM_KEY_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v = 0;

	crypto_shorthash(h, pub, NTM_KEY_LEN, t->hash_key);
	for (size_t i = 0; i < sizeof(v); i++) {
		v = v << 8 | h[i];
	}
	return (size_t)(v & (((uint64_t)1 << t->slot_bits) - 1));
}

struct dc_csess *dc_ctable_by_key(struct dc_ctable *t, const uint8_t pub[NTM_KEY_LEN])
{
	struct dc_csess *s = t->buckets[key_bucket(t, pub)];

	while (s != NULL && sodium_memcmp(s->pub.b, pub, NTM_KEY_LEN) != 0) {
		s = s->hnext;
	}
	return s;
}

struct dc_csess *dc_ctable_by_index(struct dc_ctable *t, uint32_t index)
{
	uint32_t slot = index & (uint32_t)((1u << t->slot_bits) - 1);
	struct dc_csess *s = slot < t->max ? t->slots[slot] : NULL;

	if (s == NULL || !ntm_ctrl_session_has_index(s->cs, index)) {
		return NULL;
	}
	return s;
}

uint32_t dc_ctable_new_index(const struct dc_ctable *t, const struct dc_csess *s)
{
	uint32_t hi = randombytes_uniform((1u << (32 - t->slot_bits)) - 1) + 1;

	return hi << t->slot_bits | s->slot;
}

static void destroy(struct dc_csess *s)
{
	ntm_ctrl_session_destroy(s->cs);
	ntm_key_wipe(&s->pub);
	ntm_free(s);
}

void dc_ctable_remove(struct dc_ctable *t, struct dc_csess *s)
{
	struct dc_csess **pp = &t->buckets[key_bucket(t, s->pub.b)];

	while (*pp != NULL && *pp != s) {
		pp = &(*pp)->hnext;
	}
	if (*pp == s) {
		*pp = s->hnext;
	}
	t->slots[s->slot] = NULL;
	t->free[t->n_free++] = s->slot;
	t->n--;
	if (s->relay && t->relays != NULL) {
		dc_relays_gone(t->relays, s);
	}
	if (!s->enrolled) {
		t->n_probation--;
	}
	destroy(s);
}

void dc_ctable_fini(struct dc_ctable *t)
{
	for (size_t i = 0; t->slots != NULL && i < t->max; i++) {
		if (t->slots[i] != NULL) {
			dc_ctable_remove(t, t->slots[i]);
		}
	}
	ntm_free(t->slots);
	ntm_free(t->buckets);
	ntm_free(t->free);
	memset(t, 0, sizeof(*t));
}

/* Least recently active, probation sessions first (only called when the table is full). */
static struct dc_csess *pick_victim(struct dc_ctable *t)
{
	struct dc_csess *best = NULL;

	for (size_t i = 0; i < t->max; i++) {
		struct dc_csess *s = t->slots[i];

		if (s == NULL) {
			continue;
		}
		if (best == NULL || (!s->enrolled && best->enrolled) ||
		    (s->enrolled == best->enrolled && s->last_rx_ms < best->last_rx_ms)) {
			best = s;
		}
	}
	return best;
}

/* A random free slot, taken off the free array (O(1)); there is one (the caller checked). */
static uint32_t take_slot(struct dc_ctable *t)
{
	uint32_t k = randombytes_uniform((uint32_t)t->n_free);
	uint32_t slot = t->free[k];

	t->free[k] = t->free[--t->n_free];
	return slot;
}

int dc_ctable_add(struct dc_ctrl *c, const uint8_t pub[NTM_KEY_LEN], struct dc_csess **out)
{
	struct dc_ctable *t = &c->table;
	struct dc_csess *s;
	size_t b;
	int rc;

	*out = NULL;
	if (t->n_free == 0) {
		dc_ctable_remove(t, pick_victim(t));
	}
	s = ntm_calloc(1, sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	rc = ntm_ctrl_session_create(c->id, pub, s, &s->cs);
	if (rc < 0) {
		ntm_free(s);
		return rc;
	}
	memcpy(s->pub.b, pub, NTM_KEY_LEN);
	s->slot = take_slot(t);
	b = key_bucket(t, pub);
	s->hnext = t->buckets[b];
	t->buckets[b] = s;
	t->slots[s->slot] = s;
	t->n++;
	t->n_probation++; /* until the caller marks it enrolled (dc/ctrl.c) */
	*out = s;
	return 0;
}

/* A token bucket per hashed source address (collisions share a bucket: fine for a limit). */
bool dc_ctrl_src_allow(struct dc_ctrl *c, const struct ntm_addr *from, uint64_t now_ms)
{
	bool v6 = from->sa.sa_family == AF_INET6;
	const void *ip =
		v6 ? (const void *)&from->sin6.sin6_addr : (const void *)&from->sin.sin_addr;
	uint8_t h[crypto_shorthash_BYTES];
	struct dc_src_bucket *b;
	uint64_t refill, tokens;

	crypto_shorthash(h, ip, v6 ? 16 : 4, c->table.hash_key);
	b = &c->src[(size_t)(h[0] << 8 | h[1]) % DC_CTRL_SRC_BUCKETS];
	if (b->stamp_ms == 0 || now_ms < b->stamp_ms) {
		b->tokens = DC_CTRL_SRC_BURST;
		b->stamp_ms = now_ms;
	}
	refill = (now_ms - b->stamp_ms) * DC_CTRL_SRC_RATE / 1000;
	if (refill > 0) {
		tokens = b->tokens + refill;
		b->tokens = tokens > DC_CTRL_SRC_BURST ? DC_CTRL_SRC_BURST : (uint32_t)tokens;
		b->stamp_ms = now_ms;
	}
	if (b->tokens == 0) {
		return false;
	}
	b->tokens--;
	return true;
}
