/* SPDX-License-Identifier: MIT */
#include "trigger.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "endnode/dcclient.h"
#include "endnode/ip.h"
#include "endnode/node_internal.h"
#include "endnode/pktq.h"
#include "endnode/send.h"

enum {
	TICK_MS = 100, /* retransmissions and timeouts are checked this often */
	RETRY_SHIFT_MAX = 3,
};

/* A destination waiting for its direction (one per queued destination). */
struct want {
	bool used;
	int family;
	uint8_t addr[16];
	uint32_t req_id;
	uint64_t start_ms, next_tx_ms;
	unsigned tries;
};

struct negative {
	int family; /* 0: free */
	uint8_t addr[16];
	uint64_t until_ms;
};

struct en_trigger {
	struct en_node *n;
	uv_timer_t timer; /* runs while destinations wait */
	struct en_pktq *q;
	bool has_pool4, has_pool6;
	struct ntm_prefix pool4, pool6;
	struct want w[EN_PKTQ_DESTS_MAX];
	size_t n_wants;
	struct negative neg[EN_TRIGGER_NEGATIVE_MAX];
	struct en_trigger_stats st;
	struct ntm_ratelimit rl;
	void (*done)(void *arg);
	void *done_arg;
};

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

int en_trigger_create(struct en_node *n, struct en_trigger **out)
{
	struct en_trigger *t = ntm_calloc(1, sizeof(*t));

	*out = NULL;
	if (t == NULL || en_pktq_create(EN_TRIGGER_PER_DEST, EN_TRIGGER_TOTAL, &t->q) < 0) {
		ntm_free(t);
		return -ENOMEM;
	}
	t->n = n;
	t->rl = (struct ntm_ratelimit)NTM_RATELIMIT_INIT(5000, 5);
	uv_timer_init(n->loop, &t->timer);
	t->timer.data = t;
	*out = t;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct en_trigger *t = h->data;
	void (*done)(void *arg) = t->done;
	void *arg = t->done_arg;

	en_pktq_destroy(t->q);
	ntm_free(t);
	if (done != NULL) {
		done(arg);
	}
}

void en_trigger_close(struct en_trigger *t, void (*done)(void *arg), void *arg)
{
	t->done = done;
	t->done_arg = arg;
	uv_close((uv_handle_t *)&t->timer, on_closed);
}

void en_trigger_set_pools(struct en_trigger *t, const struct ntm_prefix *pool4,
			  const struct ntm_prefix *pool6)
{
	t->has_pool4 = pool4 != NULL;
	t->has_pool6 = pool6 != NULL;
	if (pool4 != NULL) {
		t->pool4 = *pool4;
	}
	if (pool6 != NULL) {
		t->pool6 = *pool6;
	}
}

bool en_trigger_get_pool(const struct en_trigger *t, int family, struct ntm_prefix *out)
{
	bool has = family == AF_INET ? t->has_pool4 : t->has_pool6;

	if (has) {
		*out = family == AF_INET ? t->pool4 : t->pool6;
	}
	return has;
}

void en_trigger_get_stats(const struct en_trigger *t, struct en_trigger_stats *out)
{
	struct en_pktq_stats q;

	*out = t->st;
	en_pktq_get_stats(t->q, &q);
	out->queued = q.queued;
	out->dropped_oldest = q.dropped_oldest;
	out->refused = q.refused;
	out->waiting = t->n_wants;
}

/* ---------------------------------------------------------------- negative cache */

static struct negative *find_negative(struct en_trigger *t, int family, const uint8_t *addr,
				      uint64_t now)
{
	for (size_t i = 0; i < EN_TRIGGER_NEGATIVE_MAX; i++) {
		struct negative *c = &t->neg[i];

		if (c->family == family && now < c->until_ms &&
		    memcmp(c->addr, addr, alen(family)) == 0) {
			return c;
		}
	}
	return NULL;
}

/* Caches `addr` as negative: its own entry renewed, else a free or the soonest-expiring one. */
static void add_negative(struct en_trigger *t, int family, const uint8_t *addr, uint64_t now)
{
	struct negative *c = find_negative(t, family, addr, now);

	if (c == NULL) {
		c = &t->neg[0];
		for (size_t i = 1; i < EN_TRIGGER_NEGATIVE_MAX; i++) {
			if (t->neg[i].until_ms < c->until_ms) {
				c = &t->neg[i];
			}
		}
	}
	c->family = family;
	memcpy(c->addr, addr, alen(family));
	c->until_ms = now + EN_TRIGGER_NEGATIVE_MS;
}

/* ---------------------------------------------------------------- requests */

static void on_tick(uv_timer_t *timer);

static struct want *find_want(struct en_trigger *t, int family, const uint8_t *addr)
{
	for (size_t i = 0; i < EN_PKTQ_DESTS_MAX; i++) {
		struct want *w = &t->w[i];

		if (w->used && w->family == family && memcmp(w->addr, addr, alen(family)) == 0) {
			return w;
		}
	}
	return NULL;
}

static struct want *find_want_id(struct en_trigger *t, uint32_t req_id)
{
	for (size_t i = 0; req_id != 0 && i < EN_PKTQ_DESTS_MAX; i++) {
		if (t->w[i].used && t->w[i].req_id == req_id) {
			return &t->w[i];
		}
	}
	return NULL;
}

/* Sends (or re-sends) the request; when the DC is not there yet, the next tick tries again. */
static void transmit(struct en_trigger *t, struct want *w, uint64_t now)
{
	unsigned shift = w->tries < RETRY_SHIFT_MAX ? w->tries : RETRY_SHIFT_MAX;
	struct en_dcclient *dc = t->n->dc;

	if (dc != NULL &&
	    en_dcclient_direction_request_vip(dc, w->req_id, w->family, w->addr) == 0) {
		w->tries++;
		w->next_tx_ms = now + ((uint64_t)EN_TRIGGER_RETRY_MS << shift);
	} else {
		w->next_tx_ms = now + TICK_MS;
	}
}

static void add_want(struct en_trigger *t, int family, const uint8_t *addr, uint64_t now)
{
	struct want *w = NULL;

	for (size_t i = 0; w == NULL && i < EN_PKTQ_DESTS_MAX; i++) {
		w = t->w[i].used ? NULL : &t->w[i];
	}
	if (w == NULL) {
		return; /* cannot happen: as many slots as the queue has destinations */
	}
	memset(w, 0, sizeof(*w));
	w->used = true;
	w->family = family;
	memcpy(w->addr, addr, alen(family));
	w->req_id = randombytes_random() | 1;
	w->start_ms = now;
	t->n_wants++;
	t->st.requests++;
	if (!uv_is_active((uv_handle_t *)&t->timer)) {
		uv_timer_start(&t->timer, on_tick, TICK_MS, TICK_MS);
	}
	transmit(t, w, now);
}

static void drop_want(struct en_trigger *t, struct want *w)
{
	w->used = false;
	t->n_wants--;
	if (t->n_wants == 0) {
		uv_timer_stop(&t->timer);
	}
}

static void answer_unreachable(void *ctx, const uint8_t *pkt, size_t len)
{
	struct en_trigger *t = ctx;

	t->st.unreachable++;
	en_node_drop(t->n, NULL, EN_DROP_NO_PEER);
	en_send_unreachable(t->n, pkt, len);
}

/* Nobody is there (UNKNOWN_NAME, a refusal, or no answer): drop, answer, cache. */
static void give_up(struct en_trigger *t, struct want *w, const char *why)
{
	char text[INET6_ADDRSTRLEN] = "?";
	uint64_t now = en_node_now(t->n);

	inet_ntop(w->family, w->addr, text, sizeof(text));
	ntm_log_ratelimited(&t->rl, now, NTM_LOG_INFO, "%s: %s; unreachable for %d s", text, why,
			    EN_TRIGGER_NEGATIVE_MS / 1000);
	add_negative(t, w->family, w->addr, now);
	(void)en_pktq_take(t->q, w->family, w->addr, answer_unreachable, t);
	drop_want(t, w);
}

static void on_tick(uv_timer_t *timer)
{
	struct en_trigger *t = timer->data;
	uint64_t now = en_node_now(t->n);

	for (size_t i = 0; i < EN_PKTQ_DESTS_MAX; i++) {
		struct want *w = &t->w[i];

		if (!w->used) {
			continue;
		}
		if (now - w->start_ms >= EN_TRIGGER_TIMEOUT_MS) {
			t->st.timeouts++;
			give_up(t, w, "no direction from the DC");
		} else if (now >= w->next_tx_ms) {
			transmit(t, w, now);
		}
	}
}

/* ---------------------------------------------------------------- packets */

static bool in_pool(const struct en_trigger *t, const struct en_ip_info *ip)
{
	if (ip->family == AF_INET) {
		return t->has_pool4 && ntm_prefix_contains(&t->pool4, AF_INET, ip->dst);
	}
	return t->has_pool6 && ntm_prefix_contains(&t->pool6, AF_INET6, ip->dst);
}

bool en_trigger_packet(struct en_trigger *t, const struct en_ip_info *ip, const uint8_t *pkt)
{
	uint64_t now = en_node_now(t->n);
	int rc;

	if (!in_pool(t, ip)) {
		return false;
	}
	if (find_negative(t, ip->family, ip->dst, now) != NULL) {
		t->st.negative_hits++;
		en_node_drop(t->n, NULL, EN_DROP_NO_PEER);
		en_send_unreachable(t->n, pkt, ip->len);
		return true;
	}
	rc = en_pktq_push(t->q, ip->family, ip->dst, pkt, ip->len);
	if (rc == 1) {
		add_want(t, ip->family, ip->dst, now);
	} else if (rc < 0) {
		en_node_drop(t->n, NULL, EN_DROP_QUEUE); /* too many destinations at once */
	}
	return true;
}

/* Hands one queued packet to the send path: its peer exists now. */
static void flush_one(void *ctx, const uint8_t *pkt, size_t len)
{
	struct en_trigger *t = ctx;

	t->st.flushed++;
	en_send_tun_queue(t->n, pkt, len);
}

/* The peer that holds `addr` now takes its queued packets (if the DIRECTION added it). */
static void flush(struct en_trigger *t, int family, const uint8_t *addr)
{
	struct want *w = find_want(t, family, addr);

	if (w == NULL) {
		return;
	}
	if (en_allowedips_lookup(t->n->allowedips, family, addr) == NULL) {
		give_up(t, w, "the direction did not add a peer");
		return;
	}
	t->st.directed++;
	drop_want(t, w);
	(void)en_pktq_take(t->q, family, addr, flush_one, t);
	en_send_flush(t->n);
}

void en_trigger_on_message(struct en_trigger *t, const struct ntm_ctrl_msg *m)
{
	struct want *w;

	if (m->kind == NTM_CTRL_DIRECTION) {
		/* Answered or unsolicited (both ends asked at once): the VIPs say whom. */
		flush(t, AF_INET, m->vip4);
		flush(t, AF_INET6, m->vip6);
		return;
	}
	w = find_want_id(t, m->req_id);
	if (m->kind != NTM_CTRL_ERROR || w == NULL) {
		return;
	}
	if (m->error_code == NTM_CTRL_E_UNKNOWN_NAME) {
		t->st.unknown++;
		give_up(t, w, "no such node online");
	} else {
		give_up(t, w, ntm_ctrl_error_name(m->error_code));
	}
}
