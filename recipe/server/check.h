/* SPDX-License-Identifier: MIT */
#ifndef RCP_RS_CHECK_H
#define RCP_RS_CHECK_H

/*
 * What ntm-recipe-server checks before it stores anything a user submits
 * (pure: no I/O; the caller passes the user's state in):
 *   1. syntax: text form, or JSON form when the body starts with '{' or '['
 *      (errors carry line and column, or the JSON path);
 *   2. every resource the recipes read or act on is on a device bound to
 *      this user;
 *   3. no name is already taken by one of the user's recipes;
 *   4. each recipe's canonical text fits RCP_INSTALL_MAX bytes (413);
 *   5. the safety policy (when there is one): REFUSED is refused; FLAGGED
 *      is refused too unless `allow_flagged` (then the run-time check on
 *      the device is what stops a forbidden action);
 *   6. no loop among the user's recipes plus the new ones.
 */

#include <stdbool.h>
#include <stddef.h>

#include "recipe/policy.h"
#include "recipe/recipe.h"

enum { RCP_RS_MSG_MAX = 768, RCP_RS_DEVICES_MAX = 2 * RCP_CONDS_MAX + RCP_ACTIONS_MAX };

/* Plain value: why a submission was refused. */
struct rcp_rs_verdict {
	unsigned status;    /* HTTP status: 400 syntax/devices, 409 name, 413 size,
			       422 policy/loop */
	unsigned line, col; /* 1-based for text syntax errors, else 0 */
	char msg[RCP_RS_MSG_MAX];
};

/* 1 when the user owns a device with this FQDN, 0 when not, <0 on error. */
typedef int (*rcp_rs_owns_cb)(void *ctx, const char *fqdn);

/*
 * Check `body` (len bytes) against the user's `existing` recipe texts
 * (canonical, concatenated; may be ""), `policy` (NULL: none) and the owns
 * callback. On success *out is the parsed file (rcp_file_free); on failure
 * *out is NULL, *v says why and the return is -EINVAL, -EEXIST, -EPERM,
 * -EMSGSIZE, -ELOOP, or -ENOMEM/-EIO.
 */
NTM_MUST_CHECK int rcp_rs_check(const char *body, size_t len, const char *existing,
				const struct rcp_policy *policy, bool allow_flagged,
				rcp_rs_owns_cb owns, void *ctx, struct rcp_file **out,
				struct rcp_rs_verdict *v);

/*
 * A replacement of the recipe `name`: the same checks against the user's
 * other recipes (`others`), and the body must hold exactly that one recipe
 * (400 otherwise).
 */
NTM_MUST_CHECK int rcp_rs_check_replace(const char *name, const char *body, size_t len,
					const char *others, const struct rcp_policy *policy,
					bool allow_flagged, rcp_rs_owns_cb owns, void *ctx,
					struct rcp_file **out, struct rcp_rs_verdict *v);

/*
 * The distinct device FQDNs recipe r reads or acts on, into fqdns[0..*n)
 * (each a buffer of RCP_FQDN_MAX + 1 bytes the caller provides). -E2BIG.
 */
NTM_MUST_CHECK int rcp_rs_recipe_devices(const struct rcp_recipe *r,
					 char (*fqdns)[RCP_FQDN_MAX + 1], size_t cap, size_t *n);

#endif
