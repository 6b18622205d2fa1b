/* SPDX-License-Identifier: MIT */
/*
 * The outbox writer (obwriter.h): a queue on the loop, one uv_work_t at a
 * time in libuv's thread pool. The batch a work item writes is moved out
 * of the queue before it is queued, so the loop and the thread never share
 * a list; the thread touches only its batch and its own connection.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/agent/obwriter.h"

struct pending {
	struct pending *next;
	struct rcp_outbox_entry e; /* e.payload owned */
	int rc;
};

struct rcp_obwriter {
	uv_loop_t *loop;
	struct rcp_outbox *ob; /* used by the pool thread alone */
	rcp_obwriter_done_cb cb;
	void *arg;
	uv_work_t work;
	struct pending *queue, **tail; /* waiting for the next work item */
	struct pending *batch;	       /* being written */
	size_t n_pending;
	bool busy, closing;
	rcp_obwriter_closed_cb closed;
	void *closed_arg;
};

static void free_list(struct pending *p)
{
	while (p != NULL) {
		struct pending *next = p->next;

		ntm_free(p->e.payload);
		ntm_free(p);
		p = next;
	}
}

static void destroy(struct rcp_obwriter *w)
{
	rcp_obwriter_closed_cb closed = w->closed;
	void *arg = w->closed_arg;

	free_list(w->queue);
	rcp_outbox_close(w->ob);
	ntm_free(w);
	if (closed != NULL) {
		closed(arg);
	}
}

int rcp_obwriter_open(uv_loop_t *loop, const char *path, rcp_obwriter_done_cb cb, void *arg,
		      struct rcp_obwriter **out, char *why, size_t whylen)
{
	struct rcp_obwriter *w = ntm_calloc(1, sizeof(*w));
	int rc;

	*out = NULL;
	if (w == NULL) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	rc = rcp_outbox_open(path, &w->ob, why, whylen);
	if (rc < 0) {
		ntm_free(w);
		return rc;
	}
	w->loop = loop;
	w->cb = cb;
	w->arg = arg;
	w->tail = &w->queue;
	w->work.data = w;
	*out = w;
	return 0;
}

/* In the pool thread: one transaction for the whole batch. */
static void write_batch(uv_work_t *req)
{
	struct rcp_obwriter *w = req->data;
	int rc = rcp_outbox_batch_begin(w->ob);

	for (struct pending *p = w->batch; p != NULL; p = p->next) {
		p->rc = rc < 0 ? rc : rcp_outbox_put(w->ob, &p->e);
		p->rc = p->rc == -EEXIST ? 0 : p->rc; /* on disk already */
	}
	if (rc == 0) {
		rc = rcp_outbox_batch_commit(w->ob);
	}
	for (struct pending *p = w->batch; rc < 0 && p != NULL; p = p->next) {
		p->rc = rc; /* nothing of the batch is stored */
	}
}

static void batch_done(uv_work_t *req, int status);

static void start_batch(struct rcp_obwriter *w)
{
	int rc;

	if (w->busy || w->queue == NULL) {
		return;
	}
	w->batch = w->queue;
	w->queue = NULL;
	w->tail = &w->queue;
	w->busy = true;
	rc = uv_queue_work(w->loop, &w->work, write_batch, batch_done);
	if (rc < 0) {
		/* Cannot happen with a valid loop and callbacks; reported as a failed write. */
		for (struct pending *p = w->batch; p != NULL; p = p->next) {
			p->rc = -EIO;
		}
		w->busy = false;
		batch_done(&w->work, 0);
	}
}

static void batch_done(uv_work_t *req, int status)
{
	struct rcp_obwriter *w = req->data;
	struct pending *batch = w->batch;

	(void)status; /* never cancelled */
	w->busy = false;
	w->batch = NULL;
	for (struct pending *p = batch; p != NULL; p = p->next) {
		w->n_pending--;
		w->cb(p->e.key, p->rc, w->arg);
	}
	free_list(batch);
	start_batch(w);
	if (w->closing && !w->busy) {
		destroy(w);
	}
}

int rcp_obwriter_put(struct rcp_obwriter *w, const struct rcp_outbox_entry *e)
{
	struct pending *p;

	if (w->closing) {
		return -ESHUTDOWN;
	}
	if (e->key[0] == '\0' || strlen(e->key) > RCP_IDEM_KEY_MAX ||
	    strlen(e->target) > RCP_OUTBOX_TARGET_MAX || e->len > RCP_OUTBOX_PAYLOAD_MAX) {
		return -EMSGSIZE;
	}
	p = ntm_calloc(1, sizeof(*p));
	if (p == NULL || (p->e.payload = ntm_malloc(e->len > 0 ? e->len : 1)) == NULL) {
		ntm_free(p);
		return -ENOMEM;
	}
	memcpy(p->e.key, e->key, sizeof(p->e.key));
	memcpy(p->e.target, e->target, sizeof(p->e.target));
	memcpy(p->e.payload, e->payload, e->len);
	p->e.len = e->len;
	p->e.fired_s = e->fired_s;
	p->e.expires_s = e->expires_s;
	*w->tail = p;
	w->tail = &p->next;
	w->n_pending++;
	start_batch(w);
	return 0;
}

size_t rcp_obwriter_pending(const struct rcp_obwriter *w)
{
	return w != NULL ? w->n_pending : 0;
}

void rcp_obwriter_close(struct rcp_obwriter *w, rcp_obwriter_closed_cb closed, void *arg)
{
	if (w == NULL) {
		if (closed != NULL) {
			closed(arg);
		}
		return;
	}
	w->closing = true;
	w->closed = closed;
	w->closed_arg = arg;
	if (!w->busy) {
		destroy(w); /* nothing queued either: a put always starts a batch */
	}
}
