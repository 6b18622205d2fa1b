/* SPDX-License-Identifier: MIT */
#ifndef RS_SERVER_H
#define RS_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/addr.h"
#include "common/ctrlmsg.h"
#include "common/err.h"
#include "rs/config.h"
#include "rs/relay.h"

/*
 * The Relay Server's UDP side: one non-blocking socket per Listen address
 * (v6 sockets are v6-only), each under a uv_poll_t, read with recvmmsg in
 * batches of RS_SERVER_BATCH and written with sendmmsg. Every datagram of a
 * batch goes through the relay engine (rs/relay.h) or, for control
 * channel types (0x80-0x83), to the control hook (the DC client); the
 * engine's forwards and BIND_OKs are queued per outgoing socket and sent
 * with one sendmmsg per socket after the batch, so a forward refers to the
 * received bytes without a copy. A datagram that does not fit a slot
 * (RS_SERVER_SLOT) is dropped and counted.
 *
 * The server also drives the engine's idle expiry (every second) and
 * measures the load the RS reports to its DC.
 */
struct rs_server;

enum {
	RS_SERVER_BATCH = 32,
	RS_SERVER_SLOT = 4096,
	RS_SERVER_BUDGET = 8, /* batches per socket per poll callback */
	RS_SERVER_EXPIRE_MS = 1000,
};

struct rs_server_stats {
	uint64_t rx_batches;
	uint64_t tx;
	uint64_t tx_errors; /* sendmmsg refused (buffer full, unreachable): dropped */
	uint64_t truncated; /* datagrams larger than a slot */
	uint64_t ctrl_rx;   /* control channel datagrams handed to the DC client */
};

/* Control datagrams (types 0x80-0x83); `buf` and `from` borrowed for the call. */
typedef void (*rs_server_ctrl_cb)(void *arg, const uint8_t *buf, size_t len,
				  const struct ntm_addr *from);

/*
 * Binds every Listen address of `cfg` (read during the call) and serves
 * `relay` (borrowed; must outlive the server). Returns 0 or a negative
 * errno with the reason in why[whylen]. Close with rs_server_close().
 */
NTM_MUST_CHECK int rs_server_open(uv_loop_t *loop, const struct rs_config *cfg,
				  struct rs_relay *relay, struct rs_server **out, char *why,
				  size_t whylen);

/* Where control datagrams go (before that: dropped). */
void rs_server_set_ctrl(struct rs_server *s, rs_server_ctrl_cb cb, void *arg);

/* Sends one datagram from the first socket of to's family. 0 or a negative errno. */
NTM_MUST_CHECK int rs_server_send(struct rs_server *s, const struct ntm_addr *to,
				  const uint8_t *buf, size_t len);

/*
 * The load: packets and bytes forwarded per second and the CPU this process
 * used (permille of one CPU), over the last second; sessions and capacity now.
 */
void rs_server_load(struct rs_server *s, struct ntm_ctrl_load *out);

void rs_server_get_stats(const struct rs_server *s, struct rs_server_stats *out);

/* The bound addresses (ports resolved), for status. */
size_t rs_server_addrs(const struct rs_server *s, struct ntm_addr *out, size_t cap);

/* Closes every handle; frees in the last close callback, then done(arg). Accepts NULL. */
void rs_server_close(struct rs_server *s, void (*done)(void *arg), void *arg);

#endif
