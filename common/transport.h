/* SPDX-License-Identifier: MIT */
#ifndef NTM_TRANSPORT_H
#define NTM_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "noise.h"
#include "wire.h"

/*
 * WireGuard transport data messages (whitepaper 5.4.6): type 4, the peer's
 * receiver index, a 64-bit counter that is also the AEAD nonce, and the
 * plaintext zero-padded to a multiple of 16 bytes (capped at the tunnel MTU,
 * as the Linux module does), encrypted with the keypair's sending key and no
 * associated data. A keepalive is an empty plaintext (32 bytes on the wire).
 *
 * Counters and the replay window are the caller's: it picks the sending
 * counter, and on receipt checks msg->counter against its window only AFTER
 * ntm_transport_decrypt() returned 0 (an unauthenticated counter must never
 * move the window).
 */

/* Plaintext length after padding, and the whole type-4 message length. */
size_t ntm_transport_padded_len(size_t len, size_t mtu);
size_t ntm_transport_msg_len(size_t len, size_t mtu);

/* One packet to send; `plain` is borrowed and may be NULL when len is 0. */
struct ntm_transport_pkt {
	const uint8_t *plain;
	size_t len;
	size_t mtu;	  /* tunnel MTU: caps the padding; 0 pads without a cap */
	uint64_t counter; /* the caller's sending counter for kp */
};

/*
 * Appends the encrypted type-4 message (ntm_transport_msg_len bytes) to `w`,
 * or nothing. Returns 0, -ERANGE when the counter has reached
 * Reject-After-Messages, -EMSGSIZE when the message does not fit `w` or would
 * exceed NTM_WG_MSG_MAX_LEN.
 */
NTM_MUST_CHECK int ntm_transport_encrypt(const struct ntm_noise_keypair *kp,
					 const struct ntm_transport_pkt *p, struct ntm_wbuf *w);

/*
 * Decrypts a decoded type-4 message into `out` (cap bytes; it may be the very
 * memory of msg->payload for in-place decryption, but must not overlap it
 * otherwise). *out_len (0 on entry) is the padded plaintext length,
 * msg->payload_len - 16. Returns 0, -ENOKEY when msg->receiver is not
 * kp->local_index, -ERANGE for a counter at or past Reject-After-Messages,
 * -EMSGSIZE when `cap` is too small, or -EBADMSG when the message does not
 * authenticate (out then holds nothing usable).
 */
NTM_MUST_CHECK int ntm_transport_decrypt(const struct ntm_noise_keypair *kp,
					 const struct ntm_wg_data *msg, uint8_t *out, size_t cap,
					 size_t *out_len);

#endif
