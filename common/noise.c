/* SPDX-License-Identifier: MIT */
#include "noise.h"

#include <sodium.h>
#include <string.h>

#include "crypto.h"
#include "secpool.h"

/*
 * Noise_IKpsk2 as WireGuard runs it (whitepaper 5.4.2-5.4.5):
 *
 *   <- s
 *   ...
 *   -> e, es, s, ss, {t}
 *   <- e, ee, se, psk, {}
 *
 * C = HASH(CONSTRUCTION), H = HASH(HASH(C || IDENTIFIER) || responder static).
 * Every public key sent is mixed into H, every DH result into C through KDF;
 * AEAD uses H as associated data and counter 0 (each key is used once).
 */
static const char CONSTRUCTION[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char IDENTIFIER_WG[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
static const char IDENTIFIER_CTRL[] = "ntm control v1";

_Static_assert((int)NTM_WG_KEY_LEN == (int)NTM_CRYPTO_KEY_LEN, "key length");
_Static_assert((int)NTM_WG_TIMESTAMP_LEN == (int)NTM_CRYPTO_TAI64N_LEN, "timestamp length");
_Static_assert((int)NTM_WG_TAG_LEN == (int)NTM_CRYPTO_TAG_LEN, "tag length");

enum hs_state {
	HS_ZEROED = 0,
	HS_CREATED_INITIATION,
	HS_CONSUMED_INITIATION,
	HS_CREATED_RESPONSE,
	HS_CONSUMED_RESPONSE,
};

struct ntm_noise_identity {
	enum ntm_noise_profile profile;
	struct ntm_secpool *home; /* borrowed; holds the identity itself (NULL: sodium_malloc) */
	struct ntm_secpool *pool; /* borrowed; where its handshakes live (NULL: sodium_malloc) */
	uint8_t priv[NTM_WG_KEY_LEN];
	uint8_t pub[NTM_WG_KEY_LEN];
};

struct ntm_noise_handshake {
	const struct ntm_noise_identity *id; /* borrowed */
	struct ntm_secpool *pool;	     /* id->pool when it was created */
	void *owner;
	enum hs_state state;
	uint8_t peer_pub[NTM_WG_KEY_LEN];
	uint8_t psk[NTM_WG_KEY_LEN];
	uint8_t ss[NTM_WG_KEY_LEN]; /* DH(our static, peer static), precomputed */
	uint8_t latest_ts[NTM_WG_TIMESTAMP_LEN];
	/* Handshake in progress; zeroed in HS_ZEROED. */
	uint8_t hash[NTM_WG_HASH_LEN];
	uint8_t ck[NTM_WG_HASH_LEN];
	uint8_t eph_priv[NTM_WG_KEY_LEN];
	uint8_t remote_eph[NTM_WG_KEY_LEN];
	uint32_t local_index;
	uint32_t remote_index;
};

/* The symmetric state of one message being built or read: on the stack, wiped by its user. */
struct sym {
	uint8_t h[NTM_WG_HASH_LEN];
	uint8_t ck[NTM_WG_HASH_LEN];
	uint8_t k[NTM_WG_KEY_LEN];
};

static void mix_hash(struct sym *s, const uint8_t *data, size_t len)
{
	ntm_crypto_hash2(s->h, s->h, sizeof(s->h), data, len);
}

/* C = HASH(CONSTRUCTION), H = HASH(HASH(C || profile identifier) || responder static). */
static void sym_init(struct sym *s, enum ntm_noise_profile profile,
		     const uint8_t responder_pub[NTM_WG_KEY_LEN])
{
	const char *ident = profile == NTM_NOISE_CONTROL ? IDENTIFIER_CTRL : IDENTIFIER_WG;
	size_t ident_len = profile == NTM_NOISE_CONTROL ? sizeof(IDENTIFIER_CTRL) - 1
							: sizeof(IDENTIFIER_WG) - 1;

	memset(s->k, 0, sizeof(s->k));
	ntm_crypto_hash(s->ck, CONSTRUCTION, sizeof(CONSTRUCTION) - 1);
	ntm_crypto_hash2(s->h, s->ck, sizeof(s->ck), ident, ident_len);
	mix_hash(s, responder_pub, NTM_WG_KEY_LEN);
}

static void sym_load(struct sym *s, const struct ntm_noise_handshake *hs)
{
	memcpy(s->h, hs->hash, sizeof(s->h));
	memcpy(s->ck, hs->ck, sizeof(s->ck));
	memset(s->k, 0, sizeof(s->k));
}

static void sym_store(struct ntm_noise_handshake *hs, const struct sym *s)
{
	memcpy(hs->hash, s->h, sizeof(hs->hash));
	memcpy(hs->ck, s->ck, sizeof(hs->ck));
}

/*
 * A message was built: keep the transcript and our ephemeral in the
 * handshake, which now waits in `state` under `sender_index`.
 */
static void commit_created(struct ntm_noise_handshake *hs, const struct sym *s,
			   const uint8_t *e_priv, uint32_t sender_index, enum hs_state state)
{
	sym_store(hs, s);
	memcpy(hs->eph_priv, e_priv, sizeof(hs->eph_priv));
	hs->local_index = sender_index;
	hs->state = state;
}

/* e: H = HASH(H || e), C = KDF1(C, e). */
static void mix_ephemeral(struct sym *s, const uint8_t e[NTM_WG_KEY_LEN])
{
	mix_hash(s, e, NTM_WG_KEY_LEN);
	ntm_crypto_kdf1(s->ck, s->ck, e, NTM_WG_KEY_LEN);
}

/* es, ss (message 1): (C, k) = KDF2(C, dh). */
static void mix_key2(struct sym *s, const uint8_t dh[NTM_WG_KEY_LEN])
{
	ntm_crypto_kdf2(s->ck, s->k, s->ck, dh, NTM_WG_KEY_LEN);
}

/* DH then mix: KDF2 into (C, k) for message 1, KDF1 into C for message 2. */
static int mix_dh(struct sym *s, const uint8_t priv[32], const uint8_t pub[32], bool with_key)
{
	uint8_t dh[NTM_WG_KEY_LEN];
	int rc = ntm_crypto_dh(dh, priv, pub);

	if (rc == 0 && with_key) {
		mix_key2(s, dh);
	} else if (rc == 0) {
		ntm_crypto_kdf1(s->ck, s->ck, dh, sizeof(dh));
	}
	sodium_memzero(dh, sizeof(dh));
	return rc;
}

/* psk: (C, t, k) = KDF3(C, Q), H = HASH(H || t). */
static void mix_psk(struct sym *s, const uint8_t psk[NTM_WG_KEY_LEN])
{
	uint8_t t[NTM_WG_HASH_LEN];

	ntm_crypto_kdf3(s->ck, t, s->k, s->ck, psk, NTM_WG_KEY_LEN);
	mix_hash(s, t, sizeof(t));
	sodium_memzero(t, sizeof(t));
}

/* dst = AEAD(k, 0, src, H), H = HASH(H || dst); dst holds len + 16 bytes. */
static int encrypt_and_hash(struct sym *s, uint8_t *dst, const uint8_t *src, size_t len)
{
	struct ntm_crypto_msg m = {
		.dst = dst, .src = src, .src_len = len, .ad = s->h, .ad_len = sizeof(s->h)
	};
	int rc = ntm_crypto_aead_encrypt(&m, s->k, 0);

	if (rc == 0) {
		mix_hash(s, dst, len + NTM_WG_TAG_LEN);
	}
	return rc;
}

/* The inverse: dst receives ct_len - 16 bytes; -EBADMSG when it does not authenticate. */
static int decrypt_and_hash(struct sym *s, uint8_t *dst, const uint8_t *ct, size_t ct_len)
{
	struct ntm_crypto_msg m = {
		.dst = dst, .src = ct, .src_len = ct_len, .ad = s->h, .ad_len = sizeof(s->h)
	};

	if (ntm_crypto_aead_decrypt(&m, s->k, 0) < 0) {
		return -EBADMSG;
	}
	mix_hash(s, ct, ct_len);
	return 0;
}

/* A fresh ephemeral key, or the caller's fixed one (known-answer tests). */
static int make_ephemeral(uint8_t priv[32], uint8_t pub[32], const uint8_t *fixed)
{
	if (fixed == NULL) {
		return ntm_crypto_dh_generate(priv, pub);
	}
	memcpy(priv, fixed, NTM_WG_KEY_LEN);
	return ntm_crypto_dh_public(pub, priv);
}

int ntm_noise_identity_create(const uint8_t static_priv[NTM_WG_KEY_LEN],
			      struct ntm_noise_identity **out)
{
	return ntm_noise_identity_create_profile(static_priv, NTM_NOISE_WIREGUARD, out);
}

int ntm_noise_identity_create_profile(const uint8_t static_priv[NTM_WG_KEY_LEN],
				      enum ntm_noise_profile profile,
				      struct ntm_noise_identity **out)
{
	return ntm_noise_identity_create_in(NULL, static_priv, profile, out);
}

int ntm_noise_identity_create_in(struct ntm_secpool *home,
				 const uint8_t static_priv[NTM_WG_KEY_LEN],
				 enum ntm_noise_profile profile, struct ntm_noise_identity **out)
{
	struct ntm_noise_identity *id;

	*out = NULL;
	if (profile != NTM_NOISE_WIREGUARD && profile != NTM_NOISE_CONTROL) {
		return -EINVAL;
	}
	id = ntm_secpool_alloc(home, sizeof(*id));
	if (id == NULL) {
		return -ENOMEM;
	}
	id->home = home;
	id->profile = profile;
	memcpy(id->priv, static_priv, sizeof(id->priv));
	if (ntm_crypto_dh_public(id->pub, id->priv) < 0) {
		ntm_secpool_free(home, id);
		return -EINVAL;
	}
	*out = id;
	return 0;
}

void ntm_noise_identity_destroy(struct ntm_noise_identity *id)
{
	if (id != NULL) {
		ntm_secpool_free(id->home, id);
	}
}

void ntm_noise_identity_set_pool(struct ntm_noise_identity *id, struct ntm_secpool *pool)
{
	id->pool = pool;
}

struct ntm_secpool *ntm_noise_identity_pool(const struct ntm_noise_identity *id)
{
	return id->pool;
}

enum ntm_noise_profile ntm_noise_identity_profile(const struct ntm_noise_identity *id)
{
	return id->profile;
}

void ntm_noise_identity_public(const struct ntm_noise_identity *id, uint8_t pub[NTM_WG_KEY_LEN])
{
	memcpy(pub, id->pub, NTM_WG_KEY_LEN);
}

int ntm_noise_handshake_create(const struct ntm_noise_identity *id,
			       const uint8_t peer_pub[NTM_WG_KEY_LEN], const uint8_t *psk,
			       void *owner, struct ntm_noise_handshake **out)
{
	struct ntm_noise_handshake *hs;

	*out = NULL;
	hs = ntm_secpool_alloc(id->pool, sizeof(*hs));
	if (hs == NULL) {
		return -ENOMEM;
	}
	hs->id = id;
	hs->pool = id->pool;
	hs->owner = owner;
	memcpy(hs->peer_pub, peer_pub, sizeof(hs->peer_pub));
	ntm_noise_handshake_set_psk(hs, psk);
	if (ntm_crypto_dh(hs->ss, id->priv, peer_pub) < 0) {
		ntm_secpool_free(hs->pool, hs);
		return -EINVAL;
	}
	*out = hs;
	return 0;
}

void ntm_noise_handshake_destroy(struct ntm_noise_handshake *hs)
{
	if (hs != NULL) {
		ntm_secpool_free(hs->pool, hs);
	}
}

void *ntm_noise_handshake_owner(const struct ntm_noise_handshake *hs)
{
	return hs->owner;
}

void ntm_noise_handshake_peer_public(const struct ntm_noise_handshake *hs,
				     uint8_t pub[NTM_WG_KEY_LEN])
{
	memcpy(pub, hs->peer_pub, NTM_WG_KEY_LEN);
}

void ntm_noise_handshake_set_psk(struct ntm_noise_handshake *hs, const uint8_t *psk)
{
	if (psk != NULL) {
		memcpy(hs->psk, psk, sizeof(hs->psk));
	} else {
		sodium_memzero(hs->psk, sizeof(hs->psk));
	}
}

void ntm_noise_handshake_clear(struct ntm_noise_handshake *hs)
{
	sodium_memzero(hs->hash, sizeof(hs->hash));
	sodium_memzero(hs->ck, sizeof(hs->ck));
	sodium_memzero(hs->eph_priv, sizeof(hs->eph_priv));
	sodium_memzero(hs->remote_eph, sizeof(hs->remote_eph));
	hs->local_index = 0;
	hs->remote_index = 0;
	hs->state = HS_ZEROED;
}

void ntm_noise_keypair_wipe(struct ntm_noise_keypair *kp)
{
	sodium_memzero(kp, sizeof(*kp));
}

int ntm_noise_create_initiation(struct ntm_noise_handshake *hs, uint32_t sender_index,
				const uint8_t *timestamp, const uint8_t *ephemeral_priv,
				struct ntm_wg_initiation *out)
{
	struct sym s;
	uint8_t e_priv[NTM_WG_KEY_LEN];
	int rc;

	memset(out, 0, sizeof(*out));
	ntm_noise_handshake_clear(hs);
	sym_init(&s, hs->id->profile, hs->peer_pub);
	rc = make_ephemeral(e_priv, out->ephemeral, ephemeral_priv);
	if (rc < 0) {
		goto out;
	}
	mix_ephemeral(&s, out->ephemeral);
	/* es */
	rc = mix_dh(&s, e_priv, hs->peer_pub, true);
	if (rc < 0) {
		goto out;
	}
	/* s */
	rc = encrypt_and_hash(&s, out->enc_static, hs->id->pub, NTM_WG_KEY_LEN);
	if (rc < 0) {
		goto out;
	}
	/* ss, then {t} */
	mix_key2(&s, hs->ss);
	rc = encrypt_and_hash(&s, out->enc_timestamp, timestamp, NTM_WG_TIMESTAMP_LEN);
	if (rc < 0) {
		goto out;
	}
	out->sender = sender_index;
	commit_created(hs, &s, e_priv, sender_index, HS_CREATED_INITIATION);
out:
	sodium_memzero(&s, sizeof(s));
	sodium_memzero(e_priv, sizeof(e_priv));
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

/* The part of message 1 that needs no peer: e, es, s. Fills the initiator's static key. */
static int read_initiation_static(struct sym *s, const struct ntm_noise_identity *id,
				  const struct ntm_wg_initiation *msg, uint8_t spub[32])
{
	sym_init(s, id->profile, id->pub);
	mix_ephemeral(s, msg->ephemeral);
	if (mix_dh(s, id->priv, msg->ephemeral, true) < 0) {
		return -EBADMSG; /* a small-order ephemeral from the wire */
	}
	return decrypt_and_hash(s, spub, msg->enc_static, sizeof(msg->enc_static));
}

/* Commits a consumed initiation into the peer's handshake. */
static void accept_initiation(struct ntm_noise_handshake *hs, const struct sym *s,
			      const struct ntm_wg_initiation *msg, const uint8_t ts[12])
{
	ntm_noise_handshake_clear(hs);
	sym_store(hs, s);
	memcpy(hs->remote_eph, msg->ephemeral, sizeof(hs->remote_eph));
	memcpy(hs->latest_ts, ts, sizeof(hs->latest_ts));
	hs->remote_index = msg->sender;
	hs->state = HS_CONSUMED_INITIATION;
}

int ntm_noise_consume_initiation(const struct ntm_noise_identity *id,
				 const struct ntm_wg_initiation *msg, ntm_noise_lookup_cb lookup,
				 void *ctx, struct ntm_noise_handshake **out)
{
	struct ntm_noise_handshake *hs;
	struct sym s;
	uint8_t spub[NTM_WG_KEY_LEN];
	uint8_t ts[NTM_WG_TIMESTAMP_LEN];
	int rc;

	*out = NULL;
	rc = read_initiation_static(&s, id, msg, spub);
	if (rc < 0) {
		goto out;
	}
	hs = lookup(ctx, spub);
	if (hs == NULL || hs->id != id || sodium_memcmp(hs->peer_pub, spub, sizeof(spub)) != 0) {
		rc = -ENOKEY;
		goto out;
	}
	/* ss, then {t} */
	mix_key2(&s, hs->ss);
	rc = decrypt_and_hash(&s, ts, msg->enc_timestamp, sizeof(msg->enc_timestamp));
	if (rc < 0) {
		goto out;
	}
	/* TAI64N is big-endian, so byte order is time order. */
	if (memcmp(ts, hs->latest_ts, sizeof(ts)) <= 0) {
		rc = -ESTALE;
		goto out;
	}
	accept_initiation(hs, &s, msg, ts);
	*out = hs;
out:
	sodium_memzero(&s, sizeof(s));
	sodium_memzero(spub, sizeof(spub));
	sodium_memzero(ts, sizeof(ts));
	return rc;
}

int ntm_noise_create_response(struct ntm_noise_handshake *hs, uint32_t sender_index,
			      const uint8_t *ephemeral_priv, struct ntm_wg_response *out)
{
	static const uint8_t nothing[1];
	struct sym s;
	uint8_t e_priv[NTM_WG_KEY_LEN];
	int rc;

	memset(out, 0, sizeof(*out));
	if (hs->state != HS_CONSUMED_INITIATION) {
		return -EPROTO;
	}
	sym_load(&s, hs);
	rc = make_ephemeral(e_priv, out->ephemeral, ephemeral_priv);
	if (rc < 0) {
		goto out;
	}
	mix_ephemeral(&s, out->ephemeral);
	/* ee, se */
	rc = mix_dh(&s, e_priv, hs->remote_eph, false);
	if (rc == 0) {
		rc = mix_dh(&s, e_priv, hs->peer_pub, false);
	}
	if (rc < 0) {
		goto out;
	}
	/* psk, then {} */
	mix_psk(&s, hs->psk);
	rc = encrypt_and_hash(&s, out->enc_nothing, nothing, 0);
	if (rc < 0) {
		goto out;
	}
	out->sender = sender_index;
	out->receiver = hs->remote_index;
	commit_created(hs, &s, e_priv, sender_index, HS_CREATED_RESPONSE);
out:
	sodium_memzero(&s, sizeof(s));
	sodium_memzero(e_priv, sizeof(e_priv));
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

int ntm_noise_consume_response(struct ntm_noise_handshake *hs, const struct ntm_wg_response *msg)
{
	uint8_t nothing[1];
	struct sym s;
	int rc;

	if (hs->state != HS_CREATED_INITIATION) {
		return -EPROTO;
	}
	if (msg->receiver != hs->local_index) {
		return -ENOENT;
	}
	sym_load(&s, hs);
	mix_ephemeral(&s, msg->ephemeral);
	/* ee, se: a small-order ephemeral from the wire is a bad message. */
	if (mix_dh(&s, hs->eph_priv, msg->ephemeral, false) < 0 ||
	    mix_dh(&s, hs->id->priv, msg->ephemeral, false) < 0) {
		rc = -EBADMSG;
		goto out;
	}
	mix_psk(&s, hs->psk);
	rc = decrypt_and_hash(&s, nothing, msg->enc_nothing, sizeof(msg->enc_nothing));
	if (rc < 0) {
		goto out;
	}
	sym_store(hs, &s);
	memcpy(hs->remote_eph, msg->ephemeral, sizeof(hs->remote_eph));
	hs->remote_index = msg->sender;
	hs->state = HS_CONSUMED_RESPONSE;
out:
	sodium_memzero(&s, sizeof(s));
	return rc;
}

int ntm_noise_begin_session(struct ntm_noise_handshake *hs, uint64_t now_ms,
			    struct ntm_noise_keypair *kp)
{
	uint8_t first[NTM_WG_KEY_LEN], second[NTM_WG_KEY_LEN];
	bool initiator;

	memset(kp, 0, sizeof(*kp));
	if (hs->state != HS_CONSUMED_RESPONSE && hs->state != HS_CREATED_RESPONSE) {
		return -EPROTO;
	}
	initiator = hs->state == HS_CONSUMED_RESPONSE;
	/* (T_send_i = T_recv_r, T_recv_i = T_send_r) = KDF2(C, empty) */
	ntm_crypto_kdf2(first, second, hs->ck, NULL, 0);
	memcpy(kp->send_key, initiator ? first : second, sizeof(kp->send_key));
	memcpy(kp->recv_key, initiator ? second : first, sizeof(kp->recv_key));
	kp->local_index = hs->local_index;
	kp->remote_index = hs->remote_index;
	kp->created_ms = now_ms;
	kp->is_initiator = initiator;
	sodium_memzero(first, sizeof(first));
	sodium_memzero(second, sizeof(second));
	ntm_noise_handshake_clear(hs);
	return 0;
}
