/* SPDX-License-Identifier: MIT */
/*
 * libcoap <-> libuv (coapio.h). Every entry into libcoap goes through
 * process(), so libcoap runs only on the loop thread and never blocks.
 */
#include "common/alloc.h"
#include "common/log.h"
#include "recipe/agent/coapio.h"

struct rcp_coapio {
	coap_context_t *ctx;
	uv_poll_t poll;
	uv_timer_t timer;
	unsigned pending_close;
	rcp_coapio_closed_cb done;
	void *done_arg;
	struct ntm_ratelimit rl;
};

static void on_timer(uv_timer_t *t);

static void process(struct rcp_coapio *io)
{
	coap_tick_t now;
	unsigned wait_ms;

	if (coap_io_process(io->ctx, COAP_IO_NO_WAIT) < 0) {
		ntm_log_ratelimited(&io->rl, uv_now(io->timer.loop), NTM_LOG_WARN,
				    "coap: I/O processing failed");
	}
	coap_ticks(&now);
	/* Sends what is due and says when the next thing is (0: nothing). */
	wait_ms = coap_io_prepare_epoll(io->ctx, now);
	if (wait_ms == 0) {
		uv_timer_stop(&io->timer);
	} else {
		uv_timer_start(&io->timer, on_timer, wait_ms, 0);
	}
}

static void on_timer(uv_timer_t *t)
{
	process(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct rcp_coapio *io = p->data;

	if (status < 0) {
		ntm_log_ratelimited(&io->rl, uv_now(p->loop), NTM_LOG_WARN, "coap: poll: %s",
				    ntm_strerror(status));
	}
	process(io);
}

int rcp_coapio_create(uv_loop_t *loop, coap_context_t *ctx, struct rcp_coapio **out)
{
	struct rcp_coapio *io;
	int fd = coap_context_get_coap_fd(ctx);
	int rc;

	*out = NULL;
	if (fd < 0) {
		return -ENOTSUP;
	}
	io = ntm_calloc(1, sizeof(*io));
	if (io == NULL) {
		return -ENOMEM;
	}
	io->ctx = ctx;
	io->rl = (struct ntm_ratelimit)NTM_RATELIMIT_INIT(1000, 5);
	rc = uv_poll_init(loop, &io->poll, fd);
	if (rc < 0) {
		ntm_free(io);
		return rc;
	}
	io->poll.data = io;
	uv_timer_init(loop, &io->timer);
	io->timer.data = io;
	rc = uv_poll_start(&io->poll, UV_READABLE, on_poll);
	if (rc < 0) {
		rcp_coapio_close(io, NULL, NULL);
		return rc;
	}
	uv_timer_start(&io->timer, on_timer, 0, 0);
	*out = io;
	return 0;
}

void rcp_coapio_kick(struct rcp_coapio *io)
{
	if (io != NULL && io->pending_close == 0) {
		uv_timer_start(&io->timer, on_timer, 0, 0);
	}
}

static void on_closed(uv_handle_t *h)
{
	struct rcp_coapio *io = h->data;

	if (--io->pending_close > 0) {
		return;
	}
	if (io->done != NULL) {
		io->done(io->done_arg);
	}
	ntm_free(io);
}

void rcp_coapio_close(struct rcp_coapio *io, rcp_coapio_closed_cb done, void *arg)
{
	if (io == NULL) {
		if (done != NULL) {
			done(arg);
		}
		return;
	}
	io->done = done;
	io->done_arg = arg;
	io->pending_close = 2;
	uv_close((uv_handle_t *)&io->poll, on_closed);
	uv_close((uv_handle_t *)&io->timer, on_closed);
}
