/* SPDX-License-Identifier: MIT */
#ifndef RCP_AGENT_RSTORE_H
#define RCP_AGENT_RSTORE_H

/*
 * The recipes the recipe server installed on this agent (install.c), kept
 * in the agent's database so that a restart keeps them: one row per recipe
 * name with its canonical text, its state and the reason of a refusal.
 * Its own connection (WAL, synchronous=FULL), one autocommit statement per
 * call, like the outbox.
 */

#include <stddef.h>

#include "common/err.h"

enum rcp_inst_state {
	RCP_INST_VERIFYING, /* stored; the trigger device waits for its action devices */
	RCP_INST_ACTIVE,    /* checked here (and by the action devices): in use */
	RCP_INST_REFUSED,   /* kept only to answer the server with the reason */
};

enum { RCP_INST_REASON_MAX = 511 };

struct rcp_rstore;

/* Plain value handed to the load callback; pointers valid during the call only. */
struct rcp_rstore_row {
	const char *name, *text, *reason;
	enum rcp_inst_state state;
};

NTM_MUST_CHECK int rcp_rstore_open(const char *path, struct rcp_rstore **out, char *why,
				   size_t whylen);
void rcp_rstore_close(struct rcp_rstore *s); /* NULL-safe */

/* Insert or replace the row of `name` (committed when it returns). 0 or -EIO. */
NTM_MUST_CHECK int rcp_rstore_put(struct rcp_rstore *s, const char *name, const char *text,
				  enum rcp_inst_state state, const char *reason);
/* Delete the row of `name` (committed when it returns; none is fine). 0 or -EIO. */
NTM_MUST_CHECK int rcp_rstore_delete(struct rcp_rstore *s, const char *name);
/* Every row, oldest first; a negative return of cb stops and is returned. */
NTM_MUST_CHECK int rcp_rstore_load(struct rcp_rstore *s,
				   int (*cb)(const struct rcp_rstore_row *row, void *arg),
				   void *arg);

/* "verifying", "active", "refused". */
const char *rcp_inst_state_str(enum rcp_inst_state st);

#endif
