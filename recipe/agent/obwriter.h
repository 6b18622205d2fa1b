/* SPDX-License-Identifier: MIT */
#ifndef RCP_AGENT_OBWRITER_H
#define RCP_AGENT_OBWRITER_H

/*
 * The outbox's durable writes off the event loop. A fired request is
 * handed here and sent at once; a thread of libuv's pool commits it
 * (outbox.h, synchronous=FULL) meanwhile, so the disk sync overlaps the
 * network round trip instead of preceding it. Requests handed in while a
 * commit runs go together in the next one (one sync for all). The loop is
 * told when each is on disk; the sender counts a request as acknowledged
 * only once both its answer came and it is on disk (send.c), so a crash
 * before that leaves it in the outbox (or, if it was never written, never
 * acknowledged). The writer has its own connection to the database, used
 * by one pool thread at a time and never by the loop.
 */

#include <stddef.h>
#include <uv.h>

#include "recipe/agent/outbox.h"

struct rcp_obwriter;

/* On the loop: key's request is on disk (rc 0) or could not be stored (rc < 0). */
typedef void (*rcp_obwriter_done_cb)(const char *key, int rc, void *arg);
typedef void (*rcp_obwriter_closed_cb)(void *arg);

/*
 * Open the writer on the database at path (borrowed), reporting to cb with
 * arg. *out is freed by rcp_obwriter_close(). why says what failed.
 */
NTM_MUST_CHECK int rcp_obwriter_open(uv_loop_t *loop, const char *path, rcp_obwriter_done_cb cb,
				     void *arg, struct rcp_obwriter **out, char *why,
				     size_t whylen);

/*
 * Queue e (copied, payload included) for a durable commit. cb follows on
 * the loop once the pool thread is done (from inside this call only if
 * libuv refused the work item, with rc -EIO). -ENOMEM, -EMSGSIZE (limits of
 * rcp_outbox_put), -ESHUTDOWN after rcp_obwriter_close.
 */
NTM_MUST_CHECK int rcp_obwriter_put(struct rcp_obwriter *w, const struct rcp_outbox_entry *e);

/* Requests queued or being written (status, tests). */
size_t rcp_obwriter_pending(const struct rcp_obwriter *w);

/*
 * Finish every queued write (their cb still run), then free the writer and
 * call closed(arg) on the loop; at once when nothing is pending. w may be
 * NULL (closed is called at once).
 */
void rcp_obwriter_close(struct rcp_obwriter *w, rcp_obwriter_closed_cb closed, void *arg);

#endif
