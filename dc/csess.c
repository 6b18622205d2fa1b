/* SPDX-License-Identifier: MIT */
/*
 * The control sessions of the DC: a fixed table of DC_CTRL_SESSIONS_MAX
 * slots. A session's local indices carry its slot in the low 16 bits, so a
 * data message finds its session in O(1); a keyed hash (random key) of the
 * node's static key finds it for an initiation. When the table is full the
 * least recently active session is evicted (sessions of keys on probation
 * first); the evicted node simply handshakes again.
 */
#include "ctrl_internal.h"

#include <sodium.h>
#include <string.h>

#include "common/alloc.h"

_Static_assert(DC_CTRL_SESSIONS_MAX <= 65536, "slot in the low 16 bits of an index");

void dc_ctable_init(struct dc_ctable *t)
{
	memset(t, 0, sizeof(*t));
	randombytes_buf(t->hash_key, sizeof(t->hash_key));
}

static size_t key_bucket(const struct dc_ctable *t, const uint8_t pub[NTM_KEY_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v = 0;

	crypto_shorthash(h, pub, NTM_KEY_LEN, t->hash_key);
	for (size_t i = 0; i < sizeof(v); i++) {
		v = v << 8 | h[i];
	}
	return (size_t)(v % DC_CTRL_SESSIONS_MAX);
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
	struct dc_csess *s = t->slots[index & 0xffff & (DC_CTRL_SESSIONS_MAX - 1)];

	if (s == NULL || (index & 0xffff) != s->slot || !ntm_ctrl_session_has_index(s->cs, index)) {
		return NULL;
	}
	return s;
}

uint32_t dc_ctable_new_index(const struct dc_csess *s)
{
	uint32_t hi = randombytes_uniform(0xffff) + 1;

	return hi << 16 | s->slot;
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
	for (size_t i = 0; i < DC_CTRL_SESSIONS_MAX; i++) {
		if (t->slots[i] != NULL) {
			dc_ctable_remove(t, t->slots[i]);
		}
	}
}

/* Least recently active, probation sessions first (only called when the table is full). */
static struct dc_csess *pick_victim(struct dc_ctable *t)
{
	struct dc_csess *best = NULL;

	for (size_t i = 0; i < DC_CTRL_SESSIONS_MAX; i++) {
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

static size_t free_slot(struct dc_ctable *t)
{
	/* Random start: slots (and so indices) do not tell how many nodes there are. */
	size_t start = randombytes_uniform(DC_CTRL_SESSIONS_MAX);

	for (size_t i = 0; i < DC_CTRL_SESSIONS_MAX; i++) {
		size_t k = (start + i) % DC_CTRL_SESSIONS_MAX;

		if (t->slots[k] == NULL) {
			return k;
		}
	}
	return DC_CTRL_SESSIONS_MAX;
}

int dc_ctable_add(struct dc_ctrl *c, const uint8_t pub[NTM_KEY_LEN], struct dc_csess **out)
{
	struct dc_ctable *t = &c->table;
	struct dc_csess *s;
	size_t slot, b;
	int rc;

	*out = NULL;
	if (t->n == DC_CTRL_SESSIONS_MAX) {
		dc_ctable_remove(t, pick_victim(t));
	}
	slot = free_slot(t);
	s = ntm_calloc(1, sizeof(*s));
	if (s == NULL || slot == DC_CTRL_SESSIONS_MAX) {
		ntm_free(s);
		return -ENOMEM;
	}
	rc = ntm_ctrl_session_create(c->id, pub, s, &s->cs);
	if (rc < 0) {
		ntm_free(s);
		return rc;
	}
	memcpy(s->pub.b, pub, NTM_KEY_LEN);
	s->slot = (uint32_t)slot;
	b = key_bucket(t, pub);
	s->hnext = t->buckets[b];
	t->buckets[b] = s;
	t->slots[slot] = s;
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
