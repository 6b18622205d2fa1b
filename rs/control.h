/* SPDX-License-Identifier: MIT */
#ifndef RS_CONTROL_H
#define RS_CONTROL_H

#include <stdbool.h>
#include <sys/types.h>
#include <uv.h>

#include "common/err.h"
#include "common/key.h"
#include "rs/dcclient.h"
#include "rs/relay.h"
#include "rs/server.h"

/*
 * The RS's control socket (common/ctlserver.h), read-only:
 *
 *   status {}  -> {public_key, listen[], address[], sessions, bound, capacity,
 *                  load {pps, bps, cpu}, counters {...}, dc {...}}
 *
 * `counters` has one member per rs_relay_stats / rs_server_stats counter,
 * every drop reason included.
 */
struct rs_control;

/* What status reads; all borrowed and must outlive the socket. */
struct rs_control_env {
	const struct ntm_key *pubkey;
	const struct rs_config *cfg;
	struct rs_relay *relay;
	struct rs_server *server;     /* NULL until open */
	struct rs_dcclient *dcclient; /* NULL until open */
};

/*
 * Serves `path` (copied; mode 0600, or 0660 with `group` when has_group).
 * `env` is borrowed and may be filled in later. Returns 0 or a negative
 * errno (logged). Close with rs_control_close().
 */
NTM_MUST_CHECK int rs_control_open(uv_loop_t *loop, const char *path, bool has_group, gid_t group,
				   const struct rs_control_env *env, struct rs_control **out);

/* Closes the socket; done(arg) when all is freed. Accepts NULL. */
void rs_control_close(struct rs_control *c, void (*done)(void *arg), void *arg);

#endif
