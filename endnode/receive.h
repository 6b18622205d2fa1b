/* SPDX-License-Identifier: MIT */
#ifndef EN_RECEIVE_H
#define EN_RECEIVE_H

#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"

/*
 * The receiving half of the data plane: one UDP datagram in, classified by
 * ntm_wire_classify() and handed to the handler of its type. Handshake
 * messages are checked for mac1 first (and mac2 under load); data messages
 * are authenticated, then replay-checked, then their inner source address
 * must belong to the sending peer's AllowedIPs. Anything else is dropped and
 * counted, with no allocation and at most rate-limited debug logging.
 */
struct en_node;

/*
 * `buf` (len bytes) is writable memory owned by the caller: data messages
 * are decrypted in place. With en_node_set_io() hooks (tests, fuzzing)
 * every packet is written before the call returns and `buf` is needed for
 * the call only. With the node's own sockets the decrypted packets are held
 * for coalescing (gro.h) until the UDP module's read-end callback, so `buf`
 * must stay untouched until then (it is the UDP module's receive buffer).
 * `from` is borrowed for the call.
 */
void en_receive_datagram(struct en_node *n, uint8_t *buf, size_t len, const struct ntm_addr *from);

/*
 * Replays the held initiations (node_internal.h, DESIGN "Flows" 2) after a
 * peer was learned from the DC; those older than EN_HELD_MS are dropped and
 * counted, those still from unknown keys are held again.
 */
void en_receive_release_held(struct en_node *n);

#endif
