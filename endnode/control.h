/* SPDX-License-Identifier: MIT */
#ifndef EN_CONTROL_H
#define EN_CONTROL_H

#include "common/err.h"

/*
 * The node's control socket (protocol: common/ctl.h), served on the node's
 * loop. Read-only commands so far:
 *
 *   status  {} -> {"interface","public_key","listen_port","mtu","addresses":[...],
 *                  "peers","drops_total","drops":{REASON: N, ...}}
 *   peers   {} -> [{"id","public_key","endpoint","allowed_ips":[...],
 *                   "latest_handshake","rx_bytes","tx_bytes","path","drops",
 *                   "persistent_keepalive"}, ...]
 *
 * latest_handshake is in seconds ago (null: never); path is "direct" for
 * static peers; drop reasons are the names of en_drop_name().
 */
struct en_node;
struct en_control;

/*
 * Serves `path` (borrowed, copied) for node `n`, which then owns the server
 * and closes it in en_node_close(). Returns 0 or a negative errno (logged).
 */
NTM_MUST_CHECK int en_control_open(struct en_node *n, const char *path);

typedef void (*en_control_closed_cb)(void *arg);

/* Closes the server and frees `c`; then done(arg). For en_node_close(). */
void en_control_close(struct en_control *c, en_control_closed_cb done, void *arg);

#endif
