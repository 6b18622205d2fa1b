/* SPDX-License-Identifier: MIT */
#ifndef EN_RESTORE_H
#define EN_RESTORE_H

#include <stdbool.h>

#include "common/err.h"
#include "endnode/dcclient.h"

/*
 * The node's side of the peer cache (peercache.h; [DC] StateFile): what
 * goes in, and the rebuild from it at start-up (DESIGN "Flows" 6, issue 8
 * item 3).
 *
 * In: the node's VIPs whenever the DC assigns them; a peer the DC taught us
 * each time a handshake with it completes (fqdn, key, VIPs, the endpoint it
 * authenticated from, the path in use; relayed peers are not cached: their
 * relay session dies with us). Out: a peer the node forgets (revoked at the
 * DC, idle too long) leaves the cache too; a node shut down keeps them.
 *
 * At start-up, before the first registration: the cached VIPs go on the
 * interface (so the node can talk at once even while the DC is away), and
 * every cached peer is learned again as though the DC had directed it, on a
 * direct path to its last endpoint, and a handshake starts at once: a peer
 * that still runs answers, replacing its stale session with us, and the
 * tunnel is back without the DC. When the DC answers, its word replaces
 * the cache's (other VIPs, new directions).
 *
 * Every function does nothing when the node has no cache.
 */
struct en_node;
struct en_peer;

/*
 * Opens the cache at `path` (borrowed) into n->peercache. Returns 0 or the
 * negative errno (logged with the reason).
 */
NTM_MUST_CHECK int en_restore_open(struct en_node *n, const char *path);

/* Closes n->peercache. */
void en_restore_close(struct en_node *n);

/* The cached VIPs into *out: true when there are some. */
bool en_restore_vips(struct en_node *n, struct en_dc_vips *out);

/* Learns every cached peer again and starts a handshake with each (the node is started). */
void en_restore_peers(struct en_node *n);

/* The DC assigned `vips` (borrowed). */
void en_restore_note_vips(struct en_node *n, const struct en_dc_vips *vips);

/* A handshake with `peer` (borrowed) completed: cache it if the DC taught it to us. */
void en_restore_note_handshake(struct en_node *n, const struct en_peer *peer);

/* The node forgets `peer` (borrowed) for good: it leaves the cache. */
void en_restore_note_forget(struct en_node *n, const struct en_peer *peer);

#endif
