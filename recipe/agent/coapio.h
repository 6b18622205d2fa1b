/* SPDX-License-Identifier: MIT */
#ifndef RCP_AGENT_COAPIO_H
#define RCP_AGENT_COAPIO_H

/*
 * libcoap on the daemon's libuv loop, without a thread: Debian's libcoap is
 * built with epoll, so all of a context's sockets sit behind one epoll fd
 * (coap_context_get_coap_fd). A uv_poll_t watches that fd and a uv_timer_t
 * fires at libcoap's next deadline (retransmissions, observe notifications);
 * both run coap_io_process(ctx, COAP_IO_NO_WAIT) and re-arm the timer from
 * coap_io_prepare_epoll().
 */

#include <coap3/coap.h>
#include <uv.h>

#include "common/err.h"

struct rcp_coapio;

typedef void (*rcp_coapio_closed_cb)(void *arg);

/*
 * Drive ctx (borrowed: it must outlive the glue) on loop. *out is released
 * with rcp_coapio_close(). -ENOTSUP when libcoap has no epoll fd, or a libuv
 * error.
 */
NTM_MUST_CHECK int rcp_coapio_create(uv_loop_t *loop, coap_context_t *ctx,
				     struct rcp_coapio **out);

/*
 * Process libcoap's work soon (on the next loop iteration). Call it after
 * coap_send() or coap_resource_notify_observers() outside a libcoap
 * callback, so that the new deadline is taken into account. Safe anywhere.
 */
void rcp_coapio_kick(struct rcp_coapio *io);

/* Close both handles; free in the last close callback, then done(arg). NULL-safe. */
void rcp_coapio_close(struct rcp_coapio *io, rcp_coapio_closed_cb done, void *arg);

#endif
