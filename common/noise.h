/* SPDX-License-Identifier: MIT */
#ifndef NTM_NOISE_H
#define NTM_NOISE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "wire.h"

struct ntm_secpool;

/*
 * WireGuard's handshake, Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s (whitepaper
 * 5.4.2-5.4.5), as a pure engine: messages in, messages and keys out. No
 * sockets, no timers, no clock (times are the caller's monotonic ms, the
 * TAI64N timestamp is the caller's), no allocation outside create.
 *
 *   initiator                                responder
 *   create_initiation  --- initiation --->   consume_initiation (lookup cb)
 *                                            create_response
 *   consume_response   <--- response -----   begin_session
 *   begin_session
 *
 * The macs (cookie.h) and the encoding (wire.h) are separate steps: encode
 * the struct, then ntm_cookie_add_macs() on the bytes; on receipt, check the
 * macs on the bytes, then decode and consume. Index allocation and index ->
 * handshake lookup, flood limits, retries and rekeying belong to the caller.
 */

/*
 * Protocol profiles: the same Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s handshake
 * under another identifier string (mixed into the hash as WireGuard's
 * "Identifier", i.e. the prologue), so that a handshake of one profile can
 * never complete as one of the other. WIREGUARD is the wire-compatible data
 * plane ("WireGuard v1 zx2c4 Jason@zx2c4.com"); CONTROL is ntm's node<->DC,
 * node<->RS, RS<->DC and DC<->DC control channel ("ntm control v1", message
 * types NTM_MSG_CTRL_* in wire.h, see ctrl.h).
 */
enum ntm_noise_profile {
	NTM_NOISE_WIREGUARD = 0,
	NTM_NOISE_CONTROL = 1,
};

/*
 * Our static key pair under one profile. Kept in sodium_malloc'd memory. A
 * daemon that speaks both profiles with one key creates two identities.
 */
struct ntm_noise_identity;

/*
 * Copies `static_priv`. Returns 0, -EINVAL when the key yields no valid
 * public key (or an unknown profile), or -ENOMEM. Free with
 * ntm_noise_identity_destroy(). ntm_noise_identity_create() is the WIREGUARD
 * profile. Handshakes created on an identity run its profile.
 */
NTM_MUST_CHECK int ntm_noise_identity_create(const uint8_t static_priv[NTM_WG_KEY_LEN],
					     struct ntm_noise_identity **out);
NTM_MUST_CHECK int ntm_noise_identity_create_profile(const uint8_t static_priv[NTM_WG_KEY_LEN],
						     enum ntm_noise_profile profile,
						     struct ntm_noise_identity **out);
/*
 * The same, with the identity itself carved out of `home` (borrowed; NULL:
 * sodium_malloc), for programs that hold very many identities (the DC load
 * generator). Handshakes still follow ntm_noise_identity_set_pool().
 */
NTM_MUST_CHECK int ntm_noise_identity_create_in(struct ntm_secpool *home,
						const uint8_t static_priv[NTM_WG_KEY_LEN],
						enum ntm_noise_profile profile,
						struct ntm_noise_identity **out);
enum ntm_noise_profile ntm_noise_identity_profile(const struct ntm_noise_identity *id);
/* Wipes and frees; accepts NULL. Every handshake using it must be gone first. */
void ntm_noise_identity_destroy(struct ntm_noise_identity *id);
void ntm_noise_identity_public(const struct ntm_noise_identity *id, uint8_t pub[NTM_WG_KEY_LEN]);
/*
 * Handshakes created on `id` from now on (and the control sessions of
 * ctrl.h) are carved out of `pool` (borrowed: it must outlive every one of
 * them) instead of one sodium_malloc each; NULL goes back to that. A server
 * with many peers (the DC) sets one; see secpool.h.
 */
void ntm_noise_identity_set_pool(struct ntm_noise_identity *id, struct ntm_secpool *pool);
struct ntm_secpool *ntm_noise_identity_pool(const struct ntm_noise_identity *id);

/* The handshake state with one peer; the peer owns it. Kept in sodium_malloc'd (or pool) memory. */
struct ntm_noise_handshake;

/*
 * `id` is borrowed and must outlive the handshake; `peer_pub` and `psk`
 * (NULL: all zeros, i.e. no preshared key) are copied; `owner` is an opaque
 * back pointer for the caller (usually its peer), returned by
 * ntm_noise_handshake_owner(). Returns 0, -EINVAL when DH(our static, peer
 * static) is zero (an invalid peer key), or -ENOMEM.
 */
NTM_MUST_CHECK int ntm_noise_handshake_create(const struct ntm_noise_identity *id,
					      const uint8_t peer_pub[NTM_WG_KEY_LEN],
					      const uint8_t *psk, void *owner,
					      struct ntm_noise_handshake **out);
/* Wipes and frees; accepts NULL. */
void ntm_noise_handshake_destroy(struct ntm_noise_handshake *hs);
void *ntm_noise_handshake_owner(const struct ntm_noise_handshake *hs);
void ntm_noise_handshake_peer_public(const struct ntm_noise_handshake *hs,
				     uint8_t pub[NTM_WG_KEY_LEN]);
/* Replaces the preshared key (NULL: none). Takes effect with the next handshake. */
void ntm_noise_handshake_set_psk(struct ntm_noise_handshake *hs, const uint8_t *psk);
/* Forgets any handshake in progress (ephemeral keys wiped); keeps the replay timestamp. */
void ntm_noise_handshake_clear(struct ntm_noise_handshake *hs);

/*
 * The session keys of one completed handshake: a plain value that holds
 * secrets. Keep it in sodium_malloc'd memory (the caller's peer) and wipe it
 * with ntm_noise_keypair_wipe() when it is retired.
 */
struct ntm_noise_keypair {
	uint8_t send_key[NTM_WG_KEY_LEN];
	uint8_t recv_key[NTM_WG_KEY_LEN];
	uint32_t local_index;  /* receiver index the peer puts in messages to us */
	uint32_t remote_index; /* receiver index we put in messages to the peer */
	uint64_t created_ms;   /* the caller's monotonic clock at begin_session */
	bool is_initiator;
};

void ntm_noise_keypair_wipe(struct ntm_noise_keypair *kp);

/*
 * Initiator, message 1. `sender_index` is our fresh local index (the caller
 * allocates it and maps it to this handshake), `timestamp` is TAI64N (12
 * bytes, ntm_crypto_tai64n_now() in production), `ephemeral_priv` is NULL in
 * production (a fresh key is generated; tests pass a fixed key for
 * known-answer tests). mac1/mac2 are left zero for ntm_cookie_add_macs().
 * Replaces any handshake in progress. Returns 0 or -EINVAL (invalid keys).
 */
NTM_MUST_CHECK int ntm_noise_create_initiation(struct ntm_noise_handshake *hs,
					       uint32_t sender_index, const uint8_t *timestamp,
					       const uint8_t *ephemeral_priv,
					       struct ntm_wg_initiation *out);

/*
 * Looks a peer up by the static public key an initiation decrypted to. Returns
 * the peer's handshake, or NULL to refuse: unknown key, or the caller's flood
 * limit for that peer. `static_pub` is valid during the call only.
 */
typedef struct ntm_noise_handshake *(*ntm_noise_lookup_cb)(void *ctx, const uint8_t *static_pub);

/*
 * Responder, message 1. On success *out is the initiator's handshake (now in
 * "initiation consumed" state, its replay timestamp advanced). Errors, with
 * *out NULL and no state changed: -EBADMSG (does not decrypt: not for us,
 * corrupted), -ENOKEY (lookup refused), -ESTALE (timestamp not newer than the
 * last accepted one from that peer: a replay), -EINVAL (invalid keys).
 */
NTM_MUST_CHECK int ntm_noise_consume_initiation(const struct ntm_noise_identity *id,
						const struct ntm_wg_initiation *msg,
						ntm_noise_lookup_cb lookup, void *ctx,
						struct ntm_noise_handshake **out);

/*
 * Responder, message 2, after consume_initiation. `sender_index` and
 * `ephemeral_priv` as for the initiation. Returns 0, -EPROTO when no
 * initiation was consumed, or -EINVAL (invalid keys).
 */
NTM_MUST_CHECK int ntm_noise_create_response(struct ntm_noise_handshake *hs, uint32_t sender_index,
					     const uint8_t *ephemeral_priv,
					     struct ntm_wg_response *out);

/*
 * Initiator, message 2 (the caller found `hs` through msg->receiver). Returns
 * 0, -EPROTO when no initiation is outstanding, -ENOENT when msg->receiver is
 * not the index of the outstanding initiation, -EBADMSG when the response
 * does not authenticate, -EINVAL (invalid keys); the state is unchanged on
 * error.
 */
NTM_MUST_CHECK int ntm_noise_consume_response(struct ntm_noise_handshake *hs,
					      const struct ntm_wg_response *msg);

/*
 * Derives the transport keys once the handshake is complete (initiator after
 * consume_response, responder after create_response), and wipes the
 * handshake's ephemeral state. Returns 0 or -EPROTO; `kp` is zeroed on entry.
 */
NTM_MUST_CHECK int ntm_noise_begin_session(struct ntm_noise_handshake *hs, uint64_t now_ms,
					   struct ntm_noise_keypair *kp);

#endif
