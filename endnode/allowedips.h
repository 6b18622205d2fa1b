/* SPDX-License-Identifier: MIT */
#ifndef EN_ALLOWEDIPS_H
#define EN_ALLOWEDIPS_H

#include <stdint.h>

#include "common/addr.h"
#include "common/err.h"

/*
 * Cryptokey routing (WireGuard whitepaper 2, "Cryptokey Routing"): a table
 * from IP prefixes to peers, with longest-prefix match, one binary trie per
 * address family. Outbound, the destination of a packet from the TUN picks
 * the peer; inbound, the source of a decrypted packet must map back to the
 * peer that sent it.
 *
 * A prefix belongs to at most one peer: inserting a prefix that another peer
 * holds moves it (as `wg set ... allowed-ips` does). Peers are opaque
 * pointers here, borrowed: the caller removes a peer's prefixes before it
 * frees the peer.
 */
struct en_allowedips;
struct en_peer;

/* Returns 0 or -ENOMEM. Free with en_allowedips_destroy(). */
NTM_MUST_CHECK int en_allowedips_create(struct en_allowedips **out);
/* Frees every node; accepts NULL. */
void en_allowedips_destroy(struct en_allowedips *t);

/*
 * Map `p` (host bits must be clear, see ntm_prefix_mask) to `peer` (not
 * NULL). Returns 0, -EINVAL for a bad family, length or host bits, or
 * -ENOMEM (the table is unchanged then).
 */
NTM_MUST_CHECK int en_allowedips_insert(struct en_allowedips *t, const struct ntm_prefix *p,
					struct en_peer *peer);

/* Remove exactly `p`. Returns 0 or -ENOENT. */
NTM_MUST_CHECK int en_allowedips_remove(struct en_allowedips *t, const struct ntm_prefix *p);

/* Remove every prefix of `peer`. */
void en_allowedips_remove_peer(struct en_allowedips *t, const struct en_peer *peer);

/*
 * The peer of the longest prefix that contains `addr` (4 bytes for AF_INET,
 * 16 for AF_INET6, network order), or NULL.
 */
struct en_peer *en_allowedips_lookup(const struct en_allowedips *t, int family,
				     const uint8_t *addr);

/* Called for each prefix of one peer; `p` is valid during the call only. */
typedef void (*en_allowedips_each_cb)(void *ctx, const struct ntm_prefix *p);

/* Every prefix of `peer`, IPv4 first, each family in address order. */
void en_allowedips_foreach(const struct en_allowedips *t, const struct en_peer *peer,
			   en_allowedips_each_cb cb, void *ctx);

#endif
