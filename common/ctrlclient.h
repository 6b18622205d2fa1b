/* SPDX-License-Identifier: MIT */
#ifndef NTM_CTRLCLIENT_H
#define NTM_CTRLCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "addr.h"
#include "ctrlmsg.h"
#include "err.h"
#include "wire.h"

/*
 * The initiator's side of a control channel (ctrl.h) with a DC, shared by
 * the node (endnode/dcclient.c: REGISTER, KEEPALIVE) and the Relay Server
 * (rs/dcclient.c: RS_REGISTER, RS_LOAD). It owns the session, the timer and
 * the attempt rules; the caller decides which requests to send.
 *
 * An attempt is: a control handshake with one endpoint, then ops.connected,
 * where the caller sends its first request (ntm_ctrlclient_request). Every
 * message of an attempt (initiation, request) is sent up to
 * NTM_CTRLCLIENT_TRIES times, waiting NTM_CTRLCLIENT_RETRY_MS, then twice
 * as long, and so on. The answer (same request id) goes to ops.answer; the
 * caller then waits (ntm_ctrlclient_idle) or sends the next request. When
 * the last try goes unanswered, or the caller gives up on a refusal
 * (ntm_ctrlclient_fail), the attempt has failed: ops.failed, then the next
 * configured endpoint after a backoff of NTM_CTRLCLIENT_BACKOFF_MIN_MS
 * doubling up to NTM_CTRLCLIENT_BACKOFF_MAX_MS, each with +-25% jitter. A
 * request answered resets the backoff. When an idle wait ends and the keys
 * are due for renewal (ctrl.h key rules), a handshake runs first and
 * ops.connected follows it again; otherwise ops.idle.
 *
 * Time comes from ops.now (uv_now in the daemon); the client arms its own uv
 * timer for the next deadline, whose callback is ntm_ctrlclient_poll(), so
 * tests can move a fake clock and call poll themselves.
 */
struct ntm_ctrlclient;

enum {
	NTM_CTRLCLIENT_TRIES = 3,
	NTM_CTRLCLIENT_RETRY_MS = 1000,
	NTM_CTRLCLIENT_BACKOFF_MIN_MS = 1000,
	NTM_CTRLCLIENT_BACKOFF_MAX_MS = 60 * 1000,
	NTM_CTRLCLIENT_ENDPOINTS_MAX = 8,
};

struct ntm_ctrlclient_ops {
	/* Sends one datagram (`buf` borrowed for the call); 0 or a negative errno. */
	int (*send)(void *arg, const struct ntm_addr *to, const uint8_t *buf, size_t len);
	/* Monotonic time in ms. */
	uint64_t (*now)(void *arg);
	/* A handshake completed: send a request now. */
	void (*connected)(void *arg);
	/*
	 * The answer to the outstanding request (`m` borrowed for the call).
	 * Return false when it is not an answer the request can have (counted
	 * as a drop; the request stays outstanding).
	 */
	bool (*answer)(void *arg, const struct ntm_ctrl_msg *m);
	/* Any other authenticated message; false: counted as a drop. May be NULL. */
	bool (*message)(void *arg, const struct ntm_ctrl_msg *m);
	/* The wait of ntm_ctrlclient_idle() is over (and the keys are fresh). */
	void (*idle)(void *arg);
	/* The attempt failed (`answered`: refused; else silent). Before the backoff. */
	void (*failed)(void *arg, bool answered);
	void *arg; /* borrowed, passed to every hook */
};

struct ntm_ctrlclient_config {
	const uint8_t *private_key;	  /* 32 bytes, read during create */
	const uint8_t *peer_public;	  /* 32 bytes, read during create */
	const struct ntm_addr *endpoints; /* copied */
	size_t n_endpoints;		  /* 1..NTM_CTRLCLIENT_ENDPOINTS_MAX */
};

/*
 * Returns 0, -EINVAL or -ENOMEM. `loop` and the ops context are borrowed
 * and must outlive the client. Nothing is sent before ntm_ctrlclient_start().
 */
NTM_MUST_CHECK int ntm_ctrlclient_create(uv_loop_t *loop, const struct ntm_ctrlclient_config *cfg,
					 const struct ntm_ctrlclient_ops *ops,
					 struct ntm_ctrlclient **out);

/* Starts the first attempt now. */
void ntm_ctrlclient_start(struct ntm_ctrlclient *c);

/*
 * One control datagram (types 0x80-0x83) from `from`; both borrowed for the
 * call. Anything that does not authenticate or answers nothing outstanding
 * is dropped and counted.
 */
void ntm_ctrlclient_receive(struct ntm_ctrlclient *c, const uint8_t *buf, size_t len,
			    const struct ntm_addr *from);

/* Does what is due at ops.now() and re-arms the timer. */
void ntm_ctrlclient_poll(struct ntm_ctrlclient *c);

/*
 * Makes `m` (read during the call) the outstanding request and sends its
 * first try. When it cannot be encoded or sealed, the attempt fails.
 */
void ntm_ctrlclient_request(struct ntm_ctrlclient *c, const struct ntm_ctrl_msg *m);

/* Nothing outstanding: ops.idle (or a rekey first) after `ms`. */
void ntm_ctrlclient_idle(struct ntm_ctrlclient *c, uint64_t ms);

/* Ends the attempt (the caller's refusal); `answered` as in ops.failed. */
void ntm_ctrlclient_fail(struct ntm_ctrlclient *c, bool answered);

/*
 * Seals and sends `m` once, outside the request/answer pairing (an answer
 * to the DC's own request, or a request the caller retries itself).
 * Returns 0, -ENOTCONN (no usable keys: try later) or -EINVAL.
 */
NTM_MUST_CHECK int ntm_ctrlclient_send(struct ntm_ctrlclient *c, const struct ntm_ctrl_msg *m);

/*
 * As ntm_ctrlclient_send, but to `to` (borrowed for the call; NULL: the
 * endpoint in use): another address of the same DC, on the same session
 * (its AltListen endpoint, which classifies the NAT).
 */
NTM_MUST_CHECK int ntm_ctrlclient_send_to(struct ntm_ctrlclient *c, const struct ntm_ctrl_msg *m,
					  const struct ntm_addr *to);

/* The endpoint in use. */
const struct ntm_addr *ntm_ctrlclient_endpoint(const struct ntm_ctrlclient *c);
/* ms since the last authenticated message; -1: never. */
int64_t ntm_ctrlclient_last_contact(const struct ntm_ctrlclient *c);
/* Datagrams dropped (unauthenticated, stale, unexpected). */
uint64_t ntm_ctrlclient_drops(const struct ntm_ctrlclient *c);
/* "DC 198.51.100.1:7000" style text of the endpoint in use into buf. */
const char *ntm_ctrlclient_endpoint_text(const struct ntm_ctrlclient *c, char *buf, size_t cap);

typedef void (*ntm_ctrlclient_closed_cb)(void *arg);

/* Stops the timer, wipes the keys and frees `c` in the close callback; then `done`. */
void ntm_ctrlclient_close(struct ntm_ctrlclient *c, ntm_ctrlclient_closed_cb done, void *arg);

#endif
