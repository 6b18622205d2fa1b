/* SPDX-License-Identifier: MIT */
#ifndef RCP_ENGINE_H
#define RCP_ENGINE_H

/*
 * Trigger evaluation: sensor readings and clock ticks in, fired actions out.
 * No I/O and no clock of its own: the caller passes its monotonic time
 * (uv_now) to every call and arms one timer at rcp_engine_next_deadline().
 *
 * Rules (also in ntm-recipe(5)):
 *  - A comparison is true only when the resource has a reading of the same
 *    type as the constant and the operator holds; a missing reading, a
 *    reading of another type, or one cleared with a NULL value is false.
 *  - "for D": the comparison must have been true continuously for D; any
 *    reading that makes it false restarts the clock. A recipe added while a
 *    comparison already holds starts its clock at the time of the add.
 *  - The recipes are evaluated on every update (all of them, at its time)
 *    and on every tick. Edge recipes fire when the trigger goes from false
 *    to true and re-arm when it is false again. Level recipes fire on that
 *    transition, then again on every update of a resource the trigger reads
 *    while it stays true; with "every D" at most once per D, and a firing held
 *    back by that limit happens at the tick when D has passed (so "level
 *    every 5m" repeats every 5 minutes while true). Initially a trigger is
 *    false, so a recipe whose trigger already holds fires at the next
 *    evaluation.
 *  - Each firing gets the next sequence number; its actions are delivered in
 *    order, one callback each, with that number and the action index: the
 *    agent's idempotency key is (its FQDN, seq, index). Seeding first_seq
 *    from persistent storage keeps keys unique across restarts.
 *  - Time never goes backwards: a now_ms older than one seen before counts as
 *    the latest one.
 *  - Only readings of resources that some registered recipe reads are kept.
 *  - Resources are compared as strings in the parser's canonical form
 *    ("fqdn/path", host part in lower case).
 */

#include <stdbool.h>
#include <stdint.h>

#include "recipe.h"

struct rcp_engine;

struct rcp_firing {
	const char *recipe;		 /* borrowed: valid during the callback */
	uint64_t seq;			 /* same for every action of one firing */
	size_t index;			 /* of the action in the recipe */
	size_t count;			 /* actions in this firing */
	const struct rcp_action *action; /* borrowed: valid during the callback */
	uint64_t ttl_ms;		 /* the recipe's "within", 0 when none */
	uint64_t now_ms;
};

/* Must not call back into the engine (those calls return -EBUSY). */
typedef void (*rcp_engine_fire_cb)(const struct rcp_firing *f, void *arg);

struct rcp_engine_cfg {
	rcp_engine_fire_cb fire;
	void *arg; /* passed to fire, borrowed */
	uint64_t first_seq;
};

/* *out is freed with rcp_engine_destroy(); cfg is copied. */
NTM_MUST_CHECK int rcp_engine_create(const struct rcp_engine_cfg *cfg, struct rcp_engine **out);
/* Frees the engine and every recipe it owns. NULL is ignored. */
void rcp_engine_destroy(struct rcp_engine *e);

/*
 * Register a recipe. On success the engine owns r (freed on remove or
 * destroy); on failure the caller still does. -EEXIST if a recipe of that
 * name is registered, -ENOMEM, -EBUSY from inside the callback.
 */
NTM_MUST_CHECK int rcp_engine_add(struct rcp_engine *e, struct rcp_recipe *r, uint64_t now_ms);
/* Unregister and free the recipe `name`; -ENOENT if there is none. */
NTM_MUST_CHECK int rcp_engine_remove(struct rcp_engine *e, const char *name);
size_t rcp_engine_count(const struct rcp_engine *e);

/*
 * A new reading of `resource` (v copied; NULL = unknown), then evaluate.
 * Fired actions are delivered before it returns.
 */
NTM_MUST_CHECK int rcp_engine_update(struct rcp_engine *e, const char *resource,
				     const struct rcp_value *v, uint64_t now_ms);
/* Evaluate at now_ms (call it at the deadline). */
NTM_MUST_CHECK int rcp_engine_tick(struct rcp_engine *e, uint64_t now_ms);
/* When to tick next: 0 and *deadline_ms, or -ENOENT when nothing is pending. */
NTM_MUST_CHECK int rcp_engine_next_deadline(const struct rcp_engine *e, uint64_t *deadline_ms);
/* The kept reading of resource, or NULL; valid until the next engine call. */
const struct rcp_value *rcp_engine_reading(const struct rcp_engine *e, const char *resource);

#endif
