/* SPDX-License-Identifier: MIT */
#include "ctrl.h"

#include <sodium.h>
#include <string.h>

#include "cookie.h"
#include "crypto.h"
#include "replay.h"
#include "secpool.h"
#include "timers.h"
#include "transport.h"

/* One keypair with its sending counter and replay window. */
struct slot {
	struct ntm_noise_keypair kp;
	struct ntm_replay replay;
	uint64_t send_counter;
	bool live;
};

/* The whole session is secure memory (the identity's pool, or sodium_malloc): it holds keys. */
struct ntm_ctrl_session {
	const struct ntm_noise_identity *id; /* borrowed */
	struct ntm_secpool *pool;	     /* the identity's, when created */
	struct ntm_noise_handshake *hs;
	struct ntm_cookie_maker *maker;
	void *owner;
	uint8_t peer_pub[NTM_WG_KEY_LEN];
	bool initiated;	   /* we have been the initiator at least once */
	uint32_t hs_index; /* local index of the handshake in progress, 0 if none */
	struct slot cur, next, prev;
};

int ntm_ctrl_session_create(const struct ntm_noise_identity *id,
			    const uint8_t peer_pub[NTM_WG_KEY_LEN], void *owner,
			    struct ntm_ctrl_session **out)
{
	struct ntm_ctrl_session *s;
	int rc;

	*out = NULL;
	if (ntm_noise_identity_profile(id) != NTM_NOISE_CONTROL) {
		return -EINVAL;
	}
	s = ntm_secpool_alloc(ntm_noise_identity_pool(id), sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	s->id = id;
	s->pool = ntm_noise_identity_pool(id);
	s->owner = owner;
	memcpy(s->peer_pub, peer_pub, sizeof(s->peer_pub));
	rc = ntm_noise_handshake_create(id, peer_pub, NULL, s, &s->hs);
	if (rc == 0) {
		rc = ntm_cookie_maker_create(peer_pub, &s->maker);
	}
	if (rc < 0) {
		ntm_ctrl_session_destroy(s);
		return rc;
	}
	*out = s;
	return 0;
}

void ntm_ctrl_session_destroy(struct ntm_ctrl_session *s)
{
	if (s == NULL) {
		return;
	}
	ntm_noise_handshake_destroy(s->hs);
	ntm_cookie_maker_destroy(s->maker);
	ntm_secpool_free(s->pool, s); /* wipes the keys */
}

void *ntm_ctrl_session_owner(const struct ntm_ctrl_session *s)
{
	return s->owner;
}

void ntm_ctrl_session_peer_public(const struct ntm_ctrl_session *s, uint8_t pub[NTM_WG_KEY_LEN])
{
	memcpy(pub, s->peer_pub, NTM_WG_KEY_LEN);
}

struct ntm_noise_handshake *ntm_ctrl_session_handshake(struct ntm_ctrl_session *s)
{
	return s->hs;
}

static void slot_wipe(struct slot *sl)
{
	sodium_memzero(sl, sizeof(*sl));
}

static void slot_set(struct slot *sl, const struct ntm_noise_keypair *kp)
{
	slot_wipe(sl);
	sl->kp = *kp;
	ntm_replay_init(&sl->replay);
	sl->live = true;
}

static bool slot_is_usable(const struct slot *sl, uint64_t now_ms)
{
	return sl->live && now_ms >= sl->kp.created_ms &&
	       now_ms - sl->kp.created_ms < NTM_TIMERS_REJECT_AFTER_TIME_MS;
}

/* Appends the encoded handshake message in `msg` (len bytes) after adding its macs. */
static int put_with_macs(struct ntm_ctrl_session *s, uint8_t *msg, size_t len, uint64_t now_ms,
			 struct ntm_wbuf *w)
{
	if (ntm_cookie_add_macs(s->maker, msg, len, now_ms) < 0) {
		return -EINVAL;
	}
	return ntm_wbuf_put_bytes(w, msg, len);
}

int ntm_ctrl_session_initiate(struct ntm_ctrl_session *s, uint32_t local_index,
			      const uint8_t *timestamp, uint64_t now_ms, struct ntm_wbuf *w)
{
	struct ntm_wg_initiation m;
	uint8_t ts[NTM_WG_TIMESTAMP_LEN], buf[NTM_WG_INITIATION_LEN];
	struct ntm_wbuf mb;
	int rc;

	if (ntm_wbuf_remaining(w) < sizeof(buf)) {
		return -EMSGSIZE;
	}
	if (timestamp == NULL) {
		ntm_crypto_tai64n_now(ts);
		timestamp = ts;
	}
	rc = ntm_noise_create_initiation(s->hs, local_index, timestamp, NULL, &m);
	ntm_wbuf_init(&mb, buf, sizeof(buf));
	if (rc == 0) {
		rc = ntm_wire_encode_ctrl_initiation(&mb, &m) < 0 ? -EINVAL : 0;
	}
	if (rc == 0) {
		rc = put_with_macs(s, buf, sizeof(buf), now_ms, w);
	}
	if (rc == 0) {
		s->initiated = true;
		s->hs_index = local_index;
	} else {
		ntm_noise_handshake_clear(s->hs);
	}
	sodium_memzero(&m, sizeof(m));
	return rc;
}

int ntm_ctrl_session_consume_response(struct ntm_ctrl_session *s, const uint8_t *buf, size_t len,
				      uint64_t now_ms)
{
	struct ntm_wg_response m;
	struct ntm_noise_keypair kp;
	int rc;

	if (ntm_wire_decode_ctrl_response(buf, len, &m) < 0) {
		return -EBADMSG;
	}
	rc = ntm_noise_consume_response(s->hs, &m);
	if (rc == 0) {
		rc = ntm_noise_begin_session(s->hs, now_ms, &kp);
	}
	if (rc == 0) {
		slot_wipe(&s->prev);
		s->prev = s->cur;
		slot_set(&s->cur, &kp);
		slot_wipe(&s->next);
		s->hs_index = 0;
	}
	ntm_noise_keypair_wipe(&kp);
	return rc;
}

int ntm_ctrl_session_consume_cookie(struct ntm_ctrl_session *s, const uint8_t *buf, size_t len,
				    uint64_t now_ms)
{
	struct ntm_wg_cookie_reply r;

	if (ntm_wire_decode_ctrl_cookie_reply(buf, len, &r) < 0 ||
	    ntm_cookie_consume_reply(s->maker, &r, now_ms) < 0) {
		return -EBADMSG;
	}
	return 0;
}

int ntm_ctrl_session_respond(struct ntm_ctrl_session *s, uint32_t local_index, uint64_t now_ms,
			     struct ntm_wbuf *w)
{
	struct ntm_wg_response m;
	struct ntm_noise_keypair kp;
	uint8_t buf[NTM_WG_RESPONSE_LEN];
	struct ntm_wbuf mb;
	int rc;

	memset(&kp, 0, sizeof(kp));
	if (ntm_wbuf_remaining(w) < sizeof(buf)) {
		return -EMSGSIZE;
	}
	rc = ntm_noise_create_response(s->hs, local_index, NULL, &m);
	ntm_wbuf_init(&mb, buf, sizeof(buf));
	if (rc == 0) {
		rc = ntm_wire_encode_ctrl_response(&mb, &m) < 0 ? -EINVAL : 0;
	}
	if (rc == 0) {
		rc = ntm_noise_begin_session(s->hs, now_ms, &kp);
	}
	if (rc == 0) {
		rc = put_with_macs(s, buf, sizeof(buf), now_ms, w);
	}
	if (rc == 0) {
		slot_set(&s->next, &kp);
	}
	ntm_noise_keypair_wipe(&kp);
	sodium_memzero(&m, sizeof(m));
	return rc;
}

/* The 16-byte header of a control data message: also the AEAD's associated data. */
static int make_header(uint8_t hdr[NTM_WG_DATA_HEADER_LEN], uint32_t receiver, uint64_t counter)
{
	struct ntm_wbuf hw;

	ntm_wbuf_init(&hw, hdr, NTM_WG_DATA_HEADER_LEN);
	return ntm_wire_encode_ctrl_data_header(&hw, receiver, counter);
}

int ntm_ctrl_session_seal(struct ntm_ctrl_session *s, const uint8_t *plain, size_t len,
			  uint64_t now_ms, struct ntm_wbuf *w)
{
	struct slot *sl = &s->cur;
	struct ntm_crypto_msg m = { 0 };
	size_t padded = ntm_transport_padded_len(len, 0);
	uint8_t *p;

	if (len > NTM_CTRL_PLAIN_MAX || (len > 0 && plain == NULL)) {
		return -EINVAL;
	}
	if (!slot_is_usable(sl, now_ms) || sl->send_counter >= NTM_WG_REJECT_AFTER_MESSAGES) {
		return -ENOTCONN;
	}
	if (ntm_wbuf_remaining(w) < NTM_WG_DATA_HEADER_LEN + padded + NTM_WG_TAG_LEN) {
		return -EMSGSIZE;
	}
	if (ntm_wbuf_reserve(w, &p, NTM_WG_DATA_HEADER_LEN + padded + NTM_WG_TAG_LEN) < 0 ||
	    make_header(p, sl->kp.remote_index, sl->send_counter) < 0) {
		return -EMSGSIZE; /* unreachable: room was checked */
	}
	m.dst = p + NTM_WG_DATA_HEADER_LEN;
	m.src = m.dst;
	m.src_len = padded;
	m.ad = p;
	m.ad_len = NTM_WG_DATA_HEADER_LEN;
	if (len > 0) {
		memmove(m.dst, plain, len);
	}
	memset(m.dst + len, 0, padded - len);
	if (ntm_crypto_aead_encrypt(&m, sl->kp.send_key, sl->send_counter) < 0) {
		return -EMSGSIZE;
	}
	sl->send_counter++;
	return 0;
}

static struct slot *find_slot(struct ntm_ctrl_session *s, uint32_t index)
{
	struct slot *slots[] = { &s->cur, &s->next, &s->prev };

	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		if (slots[i]->live && slots[i]->kp.local_index == index) {
			return slots[i];
		}
	}
	return NULL;
}

/* The first message on the responder's new keypair confirms it (see ctrl.h). */
static void rotate_to_next(struct ntm_ctrl_session *s)
{
	slot_wipe(&s->prev);
	s->prev = s->cur;
	s->cur = s->next;
	slot_wipe(&s->next);
}

int ntm_ctrl_session_open(struct ntm_ctrl_session *s, const struct ntm_wg_data *msg,
			  uint64_t now_ms, uint8_t *out, size_t cap, size_t *out_len)
{
	struct slot *sl = find_slot(s, msg->receiver);
	uint8_t hdr[NTM_WG_DATA_HEADER_LEN];
	struct ntm_crypto_msg m = { 0 };
	int rc;

	*out_len = 0;
	if (sl == NULL) {
		return -ENOKEY;
	}
	if (!slot_is_usable(sl, now_ms)) {
		return -ETIMEDOUT;
	}
	if (msg->counter >= NTM_WG_REJECT_AFTER_MESSAGES) {
		return -ERANGE;
	}
	if (msg->payload_len < NTM_WG_TAG_LEN || cap < msg->payload_len - NTM_WG_TAG_LEN) {
		return msg->payload_len < NTM_WG_TAG_LEN ? -EBADMSG : -EMSGSIZE;
	}
	if (make_header(hdr, msg->receiver, msg->counter) < 0) {
		return -EBADMSG;
	}
	m = (struct ntm_crypto_msg){ .dst = out,
				     .src = msg->payload,
				     .src_len = msg->payload_len,
				     .ad = hdr,
				     .ad_len = sizeof(hdr) };
	if (ntm_crypto_aead_decrypt(&m, sl->kp.recv_key, msg->counter) < 0) {
		return -EBADMSG;
	}
	rc = ntm_replay_check_and_update(&sl->replay, msg->counter);
	if (rc < 0) {
		sodium_memzero(out, msg->payload_len - NTM_WG_TAG_LEN);
		return rc;
	}
	if (sl == &s->next) {
		rotate_to_next(s);
	}
	*out_len = msg->payload_len - NTM_WG_TAG_LEN;
	return 0;
}

bool ntm_ctrl_session_has_index(const struct ntm_ctrl_session *s, uint32_t index)
{
	return (s->hs_index != 0 && s->hs_index == index) ||
	       (s->cur.live && s->cur.kp.local_index == index) ||
	       (s->next.live && s->next.kp.local_index == index) ||
	       (s->prev.live && s->prev.kp.local_index == index);
}

bool ntm_ctrl_session_is_established(const struct ntm_ctrl_session *s, uint64_t now_ms)
{
	return slot_is_usable(&s->cur, now_ms) &&
	       s->cur.send_counter < NTM_WG_REJECT_AFTER_MESSAGES;
}

bool ntm_ctrl_session_needs_handshake(const struct ntm_ctrl_session *s, uint64_t now_ms)
{
	const struct slot *sl = &s->cur;

	if (!s->initiated) {
		return false;
	}
	return !slot_is_usable(sl, now_ms) ||
	       now_ms - sl->kp.created_ms >= NTM_TIMERS_REKEY_AFTER_TIME_MS ||
	       sl->send_counter >= NTM_WG_REKEY_AFTER_MESSAGES;
}
