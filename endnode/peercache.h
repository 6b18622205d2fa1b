/* SPDX-License-Identifier: MIT */
#ifndef EN_PEERCACHE_H
#define EN_PEERCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ctrlmsg.h"
#include "common/err.h"

/*
 * The node's cache of what it needs to rebuild its tunnels without the DC
 * (DESIGN "Flows" 6; issue 8, item 3): its own VIPs, and for every peer the
 * DC taught it whose handshake completed: FQDN, public key, VIPs, the
 * address its packets last authenticated from, and the path and NAT
 * classes. After a restart while the DC is away, the node puts its VIPs back
 * on the interface and rebuilds the tunnels from here; the DC's word
 * replaces all of it as soon as the DC answers again.
 *
 * A SQLite file ([DC] StateFile): created 0600 (never through a symlink),
 * WAL journal, synchronous FULL, one transaction per change, so the file is
 * never half-written, also when the node is killed. Writes are rare (a
 * completed handshake of a learned peer, about every two minutes per active
 * peer; a VIP change; a revocation) and run on the loop thread. A cache
 * written under another key (the node's key changed) is emptied on open.
 * At most EN_PEERCACHE_MAX peers are kept (the least recently updated go).
 * No uv, no sockets: unit-testable on its own.
 */
struct en_peercache;

enum {
	EN_PEERCACHE_MAX = 256,
};

/* One cached peer: a plain value. */
struct en_peercache_entry {
	uint8_t public_key[32];
	char fqdn[NTM_CTRL_FQDN_MAX + 1];
	uint8_t vip4[4];
	uint8_t vip6[16];
	struct ntm_ctrl_addr endpoint; /* where its packets last authenticated from */
	uint8_t path;		       /* enum ntm_ctrl_path in use then */
	uint8_t nat, nat_peer;	       /* enum ntm_ctrl_nat: ours and the peer's, as the DC said */
};

/*
 * Opens (creating it 0600, with its directory 0700, when missing) the cache
 * at `path` for the node with public key `own_key` (32 bytes); both
 * borrowed. On failure *out is NULL and why[whylen] says why. Returns 0,
 * -EINVAL (not a regular file, not a cache), -EIO or -ENOMEM. Close with
 * en_peercache_close.
 */
NTM_MUST_CHECK int en_peercache_open(const char *path, const uint8_t *own_key,
				     struct en_peercache **out, char *why, size_t whylen);

/* Closes the database and frees `c`; accepts NULL. */
void en_peercache_close(struct en_peercache *c);

/* Inserts or replaces the entry for e->public_key (`e` borrowed). 0 or -EIO. */
NTM_MUST_CHECK int en_peercache_put(struct en_peercache *c, const struct en_peercache_entry *e);

/* Removes the peer with this key (32 bytes, borrowed), if cached. 0 or -EIO. */
NTM_MUST_CHECK int en_peercache_remove(struct en_peercache *c, const uint8_t *public_key);

/* Called for each cached peer, most recently updated first; `e` valid during the call. */
typedef void (*en_peercache_cb)(void *arg, const struct en_peercache_entry *e);

/* Hands every valid cached peer to cb; returns how many, or -EIO. Broken rows are skipped. */
NTM_MUST_CHECK int en_peercache_load(struct en_peercache *c, en_peercache_cb cb, void *arg);

/* The node's own VIPs: store them; read them back (-ENOENT when none are cached). */
NTM_MUST_CHECK int en_peercache_put_self(struct en_peercache *c, const uint8_t *vip4,
					 const uint8_t *vip6);
NTM_MUST_CHECK int en_peercache_get_self(struct en_peercache *c, uint8_t *vip4, uint8_t *vip6);

#endif
