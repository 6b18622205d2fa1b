/* SPDX-License-Identifier: MIT */
#ifndef NTM_REPLAY_H
#define NTM_REPLAY_H

#include <stdint.h>

#include "err.h"

/*
 * Sliding replay window for the 64-bit counters of WireGuard transport data
 * messages (whitepaper section 5.4.6: a receiver refuses counters it has seen,
 * keeping a sliding window of recent ones). The window follows RFC 6479,
 * "IPsec Anti-Replay Algorithm without Bit Shifting".
 *
 * The bitmap is a ring of 64-bit words; bit (n mod NTM_REPLAY_RING_BITS)
 * records counter n. Moving the window forward only zeroes the words it
 * enters; nothing is ever shifted. The window is one word shorter than the
 * ring (NTM_REPLAY_WINDOW counters behind the greatest), so the word being
 * reused never holds a counter that is still inside the window.
 *
 * A counter c is accepted exactly when:
 *   c < NTM_WG_REJECT_AFTER_MESSAGES (wire.h),
 *   no counter has been accepted yet, or c + NTM_REPLAY_WINDOW >= greatest accepted,
 *   and c has not been accepted before.
 */
enum ntm_replay_size {
	NTM_REPLAY_WORD_BITS = 64,
	NTM_REPLAY_RING_WORDS = 128,
	NTM_REPLAY_RING_BITS = NTM_REPLAY_RING_WORDS * NTM_REPLAY_WORD_BITS, /* 8192 = 2^13 */
	NTM_REPLAY_WINDOW = NTM_REPLAY_RING_BITS - NTM_REPLAY_WORD_BITS,     /* 8128 */
};

/*
 * Embedded value type: one per receiving keypair, initialised with
 * ntm_replay_init() when the keypair is derived. It owns no resources, so there
 * is no fini. The fields are private to replay.c.
 *
 * Not thread safe: the caller serialises every check on one window (the
 * receive path of the loop thread in ntm).
 */
struct ntm_replay {
	uint64_t top; /* greatest accepted counter; 0 while nothing was accepted */
	uint64_t ring[NTM_REPLAY_RING_WORDS];
};

/* Reset the window to "nothing received yet". */
void ntm_replay_init(struct ntm_replay *w);

/*
 * Check a received counter and, if it is accepted, record it.
 * Call this only AFTER the packet's AEAD tag verified: an unauthenticated
 * counter must never move the window (it could push it forward and make every
 * genuine packet look too old).
 *
 * Returns 0 when accepted (and recorded), or, with the window unchanged:
 *   -ERANGE    counter >= NTM_WG_REJECT_AFTER_MESSAGES: never valid; the
 *              keypair must not be used any longer for this counter space,
 *   -ESTALE    counter is more than NTM_REPLAY_WINDOW behind the greatest
 *              accepted counter: too old to tell, so refused,
 *   -EALREADY  counter was accepted before: a replay (or a duplicate).
 * Every error means "drop the packet".
 */
NTM_MUST_CHECK int ntm_replay_check_and_update(struct ntm_replay *w, uint64_t counter);

#endif
