/* SPDX-License-Identifier: MIT */
#ifndef RCP_LOOP_H
#define RCP_LOOP_H

/*
 * Recipe loop detection. Recipe A leads to recipe B when one of A's "do"
 * targets is a resource B's trigger reads (A's action may fire B). A cycle
 * in that graph (A fires B fires A, or A fires itself) is a loop; the recipe
 * server runs this over a user's recipes plus the one being registered.
 */

#include "recipe.h"

enum { RCP_LOOP_PATH_MAX = 512 };

/*
 * Look for a cycle among recipes[0..n) (borrowed). Returns 0 when there is
 * none, -ELOOP when there is one, with its path written to `path` (always
 * NUL-terminated, cut with "..." if longer than cap): "a -> b -> a". The
 * first cycle found in recipe order is reported. -ENOMEM on allocation
 * failure.
 */
NTM_MUST_CHECK int rcp_loop_find(const struct rcp_recipe *const *recipes, size_t n, char *path,
				 size_t cap);

#endif
