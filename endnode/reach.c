/* SPDX-License-Identifier: MIT */
#include "reach.h"

bool en_reach_received(struct en_reach *r, uint64_t now)
{
	bool was_down = r->down;

	r->last_rx_ms = now;
	r->heard = true;
	r->waiting = false;
	r->down = false;
	return was_down;
}

void en_reach_wanted(struct en_reach *r, uint64_t now)
{
	if (!r->waiting) { /* the oldest unanswered one counts */
		r->waiting = true;
		r->waiting_since_ms = now;
	}
}

enum en_reach_state en_reach_get(const struct en_reach *r, uint64_t now)
{
	if (r->waiting && now - r->waiting_since_ms >= EN_REACH_TIMEOUT_MS) {
		return EN_REACH_UNREACHABLE;
	}
	if (!r->heard) {
		return EN_REACH_UNKNOWN;
	}
	return now - r->last_rx_ms >= EN_REACH_IDLE_MS ? EN_REACH_IDLE : EN_REACH_REACHABLE;
}

bool en_reach_check(struct en_reach *r, uint64_t now, enum en_reach_state *state)
{
	bool first;

	*state = en_reach_get(r, now);
	first = *state == EN_REACH_UNREACHABLE && !r->down;
	if (*state == EN_REACH_UNREACHABLE) {
		r->down = true;
	}
	return first;
}

int64_t en_reach_idle_ms(const struct en_reach *r, uint64_t now)
{
	return r->heard ? (int64_t)(now - r->last_rx_ms) : -1;
}

static const char *const names[] = {
	[EN_REACH_UNKNOWN] = "unknown",
	[EN_REACH_REACHABLE] = "reachable",
	[EN_REACH_UNREACHABLE] = "unreachable",
	[EN_REACH_IDLE] = "idle",
};

const char *en_reach_name(enum en_reach_state s)
{
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}
