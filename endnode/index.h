/* SPDX-License-Identifier: MIT */
#ifndef EN_INDEX_H
#define EN_INDEX_H

#include <stdint.h>

#include "common/err.h"

/*
 * The node's table of local session indices (WireGuard whitepaper 5.4.1:
 * "sender index", chosen randomly by each side; the peer echoes it as the
 * receiver index). Each index is a random 32-bit value, unique on this node
 * and never 0. It names either a handshake in flight or a keypair.
 *
 * Entries are embedded in their owners (the peer for its handshake, the
 * keypair for itself), so inserting allocates nothing; the owner removes its
 * entry before it goes away.
 */
enum en_index_kind {
	EN_INDEX_HANDSHAKE = 1 << 0,
	EN_INDEX_KEYPAIR = 1 << 1,
};

struct en_peer;

struct en_index_entry {
	struct en_index_entry *next; /* bucket chain, private to index.c */
	uint32_t index;		     /* 0 while not in a table */
	enum en_index_kind kind;
	struct en_peer *peer; /* borrowed */
	void *obj;	      /* the keypair for EN_INDEX_KEYPAIR */
};

struct en_index;

/* Returns 0 or -ENOMEM. Free with en_index_destroy() once it is empty. */
NTM_MUST_CHECK int en_index_create(struct en_index **out);
void en_index_destroy(struct en_index *t);

/*
 * Give `e` a fresh random index and insert it; kind, peer and obj must be set
 * by the caller. `e` must not be in a table already (index 0).
 */
void en_index_insert(struct en_index *t, struct en_index_entry *e);

/* Remove `e` if it is in the table (no-op otherwise) and set its index to 0. */
void en_index_remove(struct en_index *t, struct en_index_entry *e);

/*
 * Put `repl` in place of `old`, under old's index (WireGuard moves the index
 * of a completed handshake to its keypair this way). `old` leaves the table.
 */
void en_index_replace(struct en_index *t, struct en_index_entry *old, struct en_index_entry *repl);

/* The entry for `index` whose kind is in `kinds` (a mask), or NULL. */
struct en_index_entry *en_index_lookup(const struct en_index *t, uint32_t index, unsigned kinds);

#endif
