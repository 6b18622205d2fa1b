/* SPDX-License-Identifier: MIT */
/*
 * The session table: `capacity` slots allocated once (credentials in
 * sodium_malloc'd memory), a free list, and a chained hash by session id.
 * Ids are chosen by the DC at random, so the chains stay short; a datagram
 * can only look a session up, never add one.
 */
#include "relay.h"

#include <sodium.h>
#include <string.h>

#include "common/alloc.h"
#include "common/crypto.h"

struct side {
	struct ntm_addr ep; /* len 0: unbound */
	unsigned via;	    /* the local socket it bound through */
	uint64_t counter;   /* of the last accepted BIND */
};

struct sess {
	uint32_t id; /* 0: free slot */
	uint32_t lifetime_ms;
	uint64_t last_ms;
	struct side side[2];
	uint64_t tokens; /* bytes */
	uint64_t stamp_ms;
	struct sess *next; /* hash chain, or free list */
};

struct rs_relay {
	struct rs_relay_config cfg;
	struct sess *slots;
	uint8_t (*creds)[NTM_RELAY_CRED_LEN]; /* per slot; secure memory */
	struct sess **buckets;
	uint32_t n_buckets; /* a power of two */
	struct sess *free;
	struct rs_relay_stats st;
};

static uint32_t bucket_of(const struct rs_relay *r, uint32_t id)
{
	return (id * 0x9e3779b1u) & (r->n_buckets - 1);
}

static const uint8_t *cred_of(const struct rs_relay *r, const struct sess *s)
{
	return r->creds[s - r->slots];
}

int rs_relay_create(const struct rs_relay_config *cfg, struct rs_relay **out)
{
	struct rs_relay *r;

	*out = NULL;
	if (cfg->capacity == 0 || cfg->capacity > RS_RELAY_CAPACITY_MAX || cfg->idle_max_s == 0) {
		return -EINVAL;
	}
	r = ntm_calloc(1, sizeof(*r));
	if (r == NULL) {
		return -ENOMEM;
	}
	r->cfg = *cfg;
	r->n_buckets = 1;
	while (r->n_buckets < cfg->capacity) {
		r->n_buckets <<= 1;
	}
	r->slots = ntm_calloc(cfg->capacity, sizeof(*r->slots));
	r->buckets = ntm_calloc(r->n_buckets, sizeof(*r->buckets));
	r->creds = ntm_crypto_secure_alloc((size_t)cfg->capacity * NTM_RELAY_CRED_LEN);
	if (r->slots == NULL || r->buckets == NULL || r->creds == NULL) {
		rs_relay_destroy(r);
		return -ENOMEM;
	}
	for (uint32_t i = cfg->capacity; i-- > 0;) {
		r->slots[i].next = r->free;
		r->free = &r->slots[i];
	}
	*out = r;
	return 0;
}

void rs_relay_destroy(struct rs_relay *r)
{
	if (r == NULL) {
		return;
	}
	ntm_crypto_secure_free(r->creds); /* sodium_free wipes */
	ntm_free(r->buckets);
	ntm_free(r->slots);
	ntm_free(r);
}

uint32_t rs_relay_capacity(const struct rs_relay *r)
{
	return r->cfg.capacity;
}

static struct sess *find(const struct rs_relay *r, uint32_t id)
{
	struct sess *s = r->buckets[bucket_of(r, id)];

	while (s != NULL && s->id != id) {
		s = s->next;
	}
	return s;
}

int rs_relay_alloc(struct rs_relay *r, uint32_t id, const uint8_t cred[NTM_RELAY_CRED_LEN],
		   uint32_t lifetime_s, uint64_t now_ms)
{
	struct sess *s;
	uint32_t b;

	if (id == 0 || lifetime_s == 0) {
		return -EINVAL;
	}
	s = find(r, id);
	if (s != NULL && sodium_memcmp(cred_of(r, s), cred, NTM_RELAY_CRED_LEN) == 0) {
		return 0; /* the DC's retransmission: the same session */
	}
	if (s != NULL || r->free == NULL) {
		r->st.alloc_refused++;
		return s == NULL ? -ENOSPC : -EEXIST;
	}
	s = r->free;
	r->free = s->next;
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->lifetime_ms = (lifetime_s < r->cfg.idle_max_s ? lifetime_s : r->cfg.idle_max_s) * 1000u;
	s->last_ms = now_ms;
	s->tokens = r->cfg.burst_bytes;
	s->stamp_ms = now_ms;
	memcpy(r->creds[s - r->slots], cred, NTM_RELAY_CRED_LEN);
	b = bucket_of(r, id);
	s->next = r->buckets[b];
	r->buckets[b] = s;
	r->st.sessions++;
	r->st.allocated++;
	return 0;
}

static bool is_bound(const struct sess *s)
{
	return s->side[0].ep.len > 0 && s->side[1].ep.len > 0;
}

static void unlink_sess(struct rs_relay *r, struct sess *s)
{
	struct sess **pp = &r->buckets[bucket_of(r, s->id)];

	while (*pp != s) {
		pp = &(*pp)->next;
	}
	*pp = s->next;
	if (is_bound(s)) {
		r->st.bound_sessions--;
	}
	sodium_memzero(r->creds[s - r->slots], NTM_RELAY_CRED_LEN);
	memset(s, 0, sizeof(*s));
	s->next = r->free;
	r->free = s;
	r->st.sessions--;
}

int rs_relay_release(struct rs_relay *r, uint32_t id)
{
	struct sess *s = id != 0 ? find(r, id) : NULL;

	if (s == NULL) {
		return -ENOENT;
	}
	unlink_sess(r, s);
	r->st.released++;
	return 0;
}

size_t rs_relay_expire(struct rs_relay *r, uint64_t now_ms)
{
	size_t n = 0;

	for (uint32_t i = 0; i < r->cfg.capacity; i++) {
		struct sess *s = &r->slots[i];

		if (s->id != 0 && now_ms - s->last_ms >= s->lifetime_ms) {
			unlink_sess(r, s);
			n++;
		}
	}
	r->st.expired += n;
	return n;
}

/* The session's token bucket: true when `len` bytes may pass now. */
static bool charge(const struct rs_relay *r, struct sess *s, size_t len, uint64_t now_ms)
{
	uint64_t refill;

	if (r->cfg.rate_bytes_s == 0) {
		return true;
	}
	if (now_ms > s->stamp_ms) {
		refill = (now_ms - s->stamp_ms) * r->cfg.rate_bytes_s / 1000;
		s->tokens = s->tokens + refill > r->cfg.burst_bytes ? r->cfg.burst_bytes
								    : s->tokens + refill;
		s->stamp_ms = now_ms;
	}
	if (s->tokens < len) {
		return false;
	}
	s->tokens -= len;
	return true;
}

static enum rs_relay_action drop(uint64_t *counter)
{
	(*counter)++;
	return RS_RELAY_DROP;
}

static enum rs_relay_action on_frame(struct rs_relay *r, const struct rs_relay_pkt *pkt,
				     uint64_t now_ms, struct rs_relay_out *out)
{
	const struct ntm_addr *from = pkt->from;
	struct ntm_relay_frame f;
	struct sess *s;
	int to;

	if (ntm_relay_decode_frame(pkt->buf, pkt->len, &f) < 0) {
		return drop(&r->st.drop_malformed);
	}
	s = find(r, f.session);
	if (s == NULL) {
		return drop(&r->st.drop_no_session);
	}
	if (s->side[0].ep.len > 0 && ntm_addr_equal(from, &s->side[0].ep)) {
		to = 1;
	} else if (s->side[1].ep.len > 0 && ntm_addr_equal(from, &s->side[1].ep)) {
		to = 0;
	} else {
		return drop(&r->st.drop_not_bound); /* a spoofed or stale sender */
	}
	if (s->side[to].ep.len == 0) {
		return drop(&r->st.drop_peer_unbound);
	}
	if (!charge(r, s, pkt->len, now_ms)) {
		return drop(&r->st.drop_ratelimited);
	}
	s->last_ms = now_ms;
	out->action = RS_RELAY_FORWARD;
	out->to = s->side[to].ep;
	out->via = s->side[to].via;
	r->st.forwarded++;
	r->st.forwarded_bytes += pkt->len;
	return RS_RELAY_FORWARD;
}

/* Binds (or moves) b's side of `s` to `from` and writes the BIND_OK. */
static enum rs_relay_action accept_bind(struct rs_relay *r, struct sess *s,
					const struct ntm_relay_bind *b,
					const struct rs_relay_pkt *pkt, uint64_t now_ms,
					struct rs_relay_out *out)
{
	struct ntm_wbuf w;
	bool was_bound = is_bound(s);

	ntm_wbuf_init(&w, out->reply, sizeof(out->reply));
	if (ntm_relay_encode_bind(&w, true, b, cred_of(r, s)) < 0) {
		return drop(&r->st.drop_malformed); /* cannot happen: decoded fields */
	}
	s->side[b->side].ep = *pkt->from;
	s->side[b->side].via = pkt->via;
	s->side[b->side].counter = b->counter;
	s->last_ms = now_ms;
	if (!was_bound && is_bound(s)) {
		r->st.bound_sessions++;
	}
	out->action = RS_RELAY_REPLY;
	out->to = *pkt->from;
	out->via = pkt->via;
	out->reply_len = w.len;
	r->st.bind_ok++;
	return RS_RELAY_REPLY;
}

static enum rs_relay_action on_bind(struct rs_relay *r, const struct rs_relay_pkt *pkt,
				    uint64_t now_ms, struct rs_relay_out *out)
{
	const struct side *other;
	struct ntm_relay_bind b;
	struct sess *s;

	if (ntm_relay_decode_bind(pkt->buf, pkt->len, false, &b) < 0) {
		return drop(&r->st.drop_malformed);
	}
	s = find(r, b.session);
	if (s == NULL) {
		return drop(&r->st.drop_no_session);
	}
	if (!ntm_relay_bind_verify(pkt->buf, pkt->len, cred_of(r, s))) {
		return drop(&r->st.drop_bad_mac);
	}
	if (b.counter <= s->side[b.side].counter) {
		return drop(&r->st.drop_replay);
	}
	other = &s->side[1 - b.side];
	if (other->ep.len > 0 && ntm_addr_equal(&other->ep, pkt->from)) {
		return drop(&r->st.drop_bind_conflict); /* would relay to itself */
	}
	return accept_bind(r, s, &b, pkt, now_ms, out);
}

enum rs_relay_action rs_relay_input(struct rs_relay *r, const struct rs_relay_pkt *pkt,
				    uint64_t now_ms, struct rs_relay_out *out)
{
	enum ntm_msg_type type;

	memset(out, 0, sizeof(*out));
	r->st.rx++;
	if (ntm_wire_classify(pkt->buf, pkt->len, &type) < 0) {
		return drop(&r->st.drop_malformed);
	}
	switch (type) {
	case NTM_MSG_RELAY_FRAME:
		return on_frame(r, pkt, now_ms, out);
	case NTM_MSG_RELAY_BIND:
		return on_bind(r, pkt, now_ms, out);
	default:
		return drop(&r->st.drop_malformed); /* nothing else is for a relay */
	}
}

void rs_relay_get_stats(const struct rs_relay *r, struct rs_relay_stats *out)
{
	*out = r->st;
}
