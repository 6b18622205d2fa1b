/* SPDX-License-Identifier: MIT */
#ifndef NTM_SECPOOL_H
#define NTM_SECPOOL_H

#include <stddef.h>

#include "err.h"

/*
 * A pool of small objects that hold secrets, for servers with many of them
 * (the DC's control sessions). sodium_malloc costs at least two pages of
 * memory, three or four mappings and one mlock per object: 100,000 sessions
 * of three objects each would need ~2.4 GB and more mappings than
 * vm.max_map_count allows. The pool carves objects out of slabs instead;
 * each slab is one sodium_malloc region (guard pages around it, locked,
 * excluded from core dumps), so the secrets keep the same protection
 * against swapping and linear overruns out of the slab. What the pool does
 * not give is a guard page between two objects of one slab.
 *
 * Objects are zeroed on allocation and wiped (sodium_memzero) when freed; a
 * slab whose objects are all free goes back to sodium_free (wiped again)
 * unless it is the last one of its size class. Every ntm_secpool_alloc()
 * counts as one allocation for the ntm_alloc failure-injection hooks.
 *
 * A pool is owned by one thread (no locking), like everything on a loop.
 */

struct ntm_secpool;

enum {
	NTM_SECPOOL_SLAB_BYTES = 64 * 1024,
	NTM_SECPOOL_OBJ_MAX = 4096 - 16, /* larger objects: ntm_crypto_secure_alloc() */
};

struct ntm_secpool_stats {
	size_t objects; /* allocated now */
	size_t slabs;	/* sodium_malloc regions held */
	size_t bytes;	/* NTM_SECPOOL_SLAB_BYTES per slab */
};

/* A new, empty pool. Returns 0 or -ENOMEM. Free with ntm_secpool_destroy(). */
NTM_MUST_CHECK int ntm_secpool_create(struct ntm_secpool **out);

/*
 * Wipes and frees every slab; accepts NULL. Objects still allocated become
 * invalid (their owners must be gone: a leak is the caller's bug).
 */
void ntm_secpool_destroy(struct ntm_secpool *p);

/*
 * `n` zeroed bytes (16-byte aligned) from the pool, or NULL (out of memory,
 * injected failure, or n > NTM_SECPOOL_OBJ_MAX). With p == NULL this is
 * ntm_crypto_secure_alloc(n), so a module can take an optional pool.
 * Free with ntm_secpool_free() on the same pool.
 */
void *ntm_secpool_alloc(struct ntm_secpool *p, size_t n);

/* Wipes the object and returns it to the pool; accepts NULL obj. p NULL: ntm_crypto_secure_free. */
void ntm_secpool_free(struct ntm_secpool *p, void *obj);

void ntm_secpool_get_stats(const struct ntm_secpool *p, struct ntm_secpool_stats *out);

#endif
