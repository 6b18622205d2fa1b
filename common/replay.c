/* SPDX-License-Identifier: MIT */
#include "replay.h"

#include <assert.h>
#include <string.h>

#include "wire.h"

/*
 * Counter c lives at bit (c mod RING_BITS) of the ring; w->top is the greatest
 * accepted counter (0 also while nothing was accepted: the two states differ
 * only in bit 0, which the ring itself records). c < REJECT_AFTER_MESSAGES =
 * 2^64 - 2^13 - 1, so c + NTM_REPLAY_WINDOW cannot wrap; that margin is why
 * WireGuard's limit leaves 2^13 counters unused.
 *
 * Invariant: the words [word(top) - (RING_WORDS - 1), word(top)] hold exactly
 * the accepted counters of their range, and no bit above top is set. Every
 * counter in the window [top - WINDOW, top] falls in those words, because the
 * window is one word shorter than the ring.
 */

_Static_assert(NTM_WG_REJECT_AFTER_MESSAGES < UINT64_MAX - NTM_REPLAY_WINDOW,
	       "counter + window must not wrap");
_Static_assert((NTM_REPLAY_RING_WORDS & (NTM_REPLAY_RING_WORDS - 1)) == 0,
	       "ring size must be a power of two");

static uint64_t word_of(uint64_t counter)
{
	return counter / NTM_REPLAY_WORD_BITS;
}

static uint64_t *slot_of(struct ntm_replay *w, uint64_t word)
{
	return &w->ring[word % NTM_REPLAY_RING_WORDS];
}

/* Move top up to counter, zeroing every word the window enters. */
static void advance(struct ntm_replay *w, uint64_t counter)
{
	uint64_t cur = word_of(w->top);
	uint64_t steps = word_of(counter) - cur;

	if (steps > NTM_REPLAY_RING_WORDS) {
		steps = NTM_REPLAY_RING_WORDS;
	}
	for (uint64_t i = 1; i <= steps; i++) {
		*slot_of(w, cur + i) = 0;
	}
	w->top = counter;
}

void ntm_replay_init(struct ntm_replay *w)
{
	memset(w, 0, sizeof(*w));
}

int ntm_replay_check_and_update(struct ntm_replay *w, uint64_t counter)
{
	uint64_t bit, *slot;

	assert(w != NULL);
	if (counter >= NTM_WG_REJECT_AFTER_MESSAGES) {
		return -ERANGE;
	}
	if (counter + NTM_REPLAY_WINDOW < w->top) {
		return -ESTALE;
	}
	/* A counter above top was never accepted, so advancing first is safe. */
	if (counter > w->top) {
		advance(w, counter);
	}
	slot = slot_of(w, word_of(counter));
	bit = UINT64_C(1) << (counter % NTM_REPLAY_WORD_BITS);
	if (*slot & bit) {
		return -EALREADY;
	}
	*slot |= bit;
	return 0;
}
