/* SPDX-License-Identifier: MIT */
#include "relays.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"

enum { TICK_MS = 100 };

_Static_assert(DC_RELAYS_MAX <= 64, "tried relays are a 64-bit mask");

struct relay {
	void *sess; /* NULL: free slot */
	uint64_t seq;
	char name[DC_FQDN_SIZE];
	struct ntm_key pub;
	struct ntm_ctrl_addr addrs[NTM_CTRL_RELAY_ADDRS_MAX];
	size_t n_addrs;
	struct ntm_ctrl_load load;
	uint32_t since_report; /* sessions granted since the last report */
	uint64_t allocated;
	uint64_t report_ms;
	bool silent; /* an allocation went unanswered: last choice until it reports again */
};

/* The session of one pair of nodes (relays.h "One session per pair"). */
struct lease {
	bool used;	     /* false: free slot */
	bool pending;	     /* an allocation for the pair is in flight */
	struct ntm_key k[2]; /* the pair, smaller key first */
	bool has_session;
	int relay;	    /* index of the relay that granted it */
	uint64_t relay_seq; /* and its registration (a slot is reused) */
	uint32_t id;
	uint8_t cred[NTM_CTRL_CRED_LEN];
	uint16_t lifetime;
	uint64_t offered_ms;
	uint8_t left; /* bit i: end k[i] left the session for a direct path */
};

struct pending {
	dc_relay_allocated_cb cb; /* NULL: free slot */
	void *arg;
	int lease;	/* index, -1: not for a pair */
	int relay;	/* index, -1: none chosen yet */
	uint64_t tried; /* relays that failed this allocation */
	uint32_t req_id;
	uint32_t id;
	uint8_t cred[NTM_CTRL_CRED_LEN];
	uint16_t lifetime;
	unsigned tries;
	uint64_t deadline;
	bool answered; /* the relay tried now answered something (a refusal, not silence) */
};

/* A RELAY_RELEASE awaiting its RELEASE_OK. */
struct release {
	void *sess; /* the relay's session; NULL: free slot */
	uint32_t req_id;
	uint32_t id;
	unsigned tries;
	uint64_t deadline;
};

struct dc_relays {
	uv_loop_t *loop;
	uv_timer_t timer;
	dc_relays_send_cb send;
	void *send_arg;
	struct relay relays[DC_RELAYS_MAX];
	struct pending pending[DC_RELAY_PENDING_MAX];
	size_t n_pending;
	struct release releases[DC_RELAY_RELEASES_MAX];
	size_t n_releases;
	struct lease leases[DC_RELAY_LEASES_MAX];
	uint64_t seq;
	void (*done)(void *arg);
	void *done_arg;
};

int dc_relays_create(uv_loop_t *loop, struct dc_relays **out)
{
	struct dc_relays *r = ntm_calloc(1, sizeof(*r));

	*out = NULL;
	if (r == NULL) {
		return -ENOMEM;
	}
	r->loop = loop;
	uv_timer_init(loop, &r->timer);
	r->timer.data = r;
	*out = r;
	return 0;
}

void dc_relays_set_sender(struct dc_relays *r, dc_relays_send_cb send, void *arg)
{
	r->send = send;
	r->send_arg = arg;
}

static struct relay *by_sess(struct dc_relays *r, void *sess)
{
	for (size_t i = 0; sess != NULL && i < DC_RELAYS_MAX; i++) {
		if (r->relays[i].sess == sess) {
			return &r->relays[i];
		}
	}
	return NULL;
}

/* The larger of table use and CPU use, in parts per million. */
static uint64_t score(const struct relay *rl)
{
	uint64_t sessions = (uint64_t)rl->load.sessions + rl->since_report;
	uint64_t use = rl->load.capacity > 0 ? sessions * 1000000u / rl->load.capacity : UINT32_MAX;
	uint64_t cpu = (uint64_t)rl->load.cpu * 1000u;

	return use > cpu ? use : cpu;
}

static bool is_better(const struct relay *a, const struct relay *b)
{
	uint64_t sa = score(a), sb = score(b);

	if (sa != sb) {
		return sa < sb;
	}
	if (a->load.sessions + a->since_report != b->load.sessions + b->since_report) {
		return a->load.sessions + a->since_report < b->load.sessions + b->since_report;
	}
	return a->load.pps != b->load.pps ? a->load.pps < b->load.pps : a->seq < b->seq;
}

/* The least loaded relay not in `tried` (silent ones only with `silent`), or -1. */
static int pick_among(const struct dc_relays *r, uint64_t tried, bool silent)
{
	int best = -1;

	for (int i = 0; i < DC_RELAYS_MAX; i++) {
		const struct relay *rl = &r->relays[i];

		if (rl->sess == NULL || (tried & (UINT64_C(1) << i)) != 0 ||
		    (rl->silent && !silent) ||
		    rl->load.sessions + rl->since_report >= rl->load.capacity) {
			continue;
		}
		if (best < 0 || is_better(rl, &r->relays[best])) {
			best = i;
		}
	}
	return best;
}

/* The least loaded relay not in `tried`; one that went silent only when no other is left. */
static int pick(const struct dc_relays *r, uint64_t tried)
{
	int best = pick_among(r, tried, false);

	return best >= 0 ? best : pick_among(r, tried, true);
}

static void complete(struct dc_relays *r, struct pending *p, int status,
		     const struct dc_relay_grant *g)
{
	dc_relay_allocated_cb cb = p->cb;
	void *arg = p->arg;

	if (p->lease >= 0) {
		struct lease *l = &r->leases[p->lease];

		l->pending = false;
		if (!l->has_session) {
			sodium_memzero(l, sizeof(*l)); /* failed: the pair has nothing */
		}
	}

	sodium_memzero(p, sizeof(*p));
	r->n_pending--;
	cb(arg, status, g);
}

static void send_try(struct dc_relays *r, struct pending *p)
{
	struct ntm_ctrl_msg m;
	int rc = -ENOTCONN;

	ntm_ctrl_msg_init(&m, NTM_CTRL_RELAY_ALLOC, p->req_id);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_SESSION_ID) | NTM_CTRL_BIT(NTM_CTRL_ATTR_CREDENTIAL) |
		   NTM_CTRL_BIT(NTM_CTRL_ATTR_LIFETIME);
	m.session_id = p->id;
	memcpy(m.credential, p->cred, sizeof(m.credential));
	m.lifetime = p->lifetime;
	if (r->send != NULL) {
		rc = r->send(r->send_arg, r->relays[p->relay].sess, &m);
	}
	sodium_memzero(&m, sizeof(m));
	if (rc < 0) {
		ntm_log_debug("relay %s: cannot send RELAY_ALLOC: %s", r->relays[p->relay].name,
			      ntm_strerror(rc));
	}
	p->tries++;
	p->deadline = uv_now(r->loop) + DC_RELAY_RETRY_MS;
}

/* A fresh id and credential (the id was taken, or a new relay is tried). */
static void draw(struct pending *p)
{
	p->id = randombytes_random() | 1;
	randombytes_buf(p->cred, sizeof(p->cred));
	p->req_id = randombytes_random() | 1;
	p->tries = 0;
	p->answered = false;
}

/* Tries the next relay, or ends the allocation when none is left. */
static void next_relay(struct dc_relays *r, struct pending *p)
{
	if (p->relay >= 0) {
		p->tried |= UINT64_C(1) << p->relay;
	}
	p->relay = pick(r, p->tried);
	if (p->relay < 0) {
		complete(r, p, p->tried != 0 ? -ETIMEDOUT : -ENOENT, NULL);
		return;
	}
	draw(p);
	send_try(r, p);
}

static int send_release(struct dc_relays *r, struct release *x)
{
	struct ntm_ctrl_msg m;

	ntm_ctrl_msg_init(&m, NTM_CTRL_RELAY_RELEASE, x->req_id);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_SESSION_ID);
	m.session_id = x->id;
	x->tries++;
	x->deadline = uv_now(r->loop) + DC_RELAY_RETRY_MS;
	return r->send != NULL ? r->send(r->send_arg, x->sess, &m) : -ENOTCONN;
}

static void end_release(struct dc_relays *r, struct release *x)
{
	x->sess = NULL;
	r->n_releases--;
}

/* Unanswered releases go out again (the relay answers a repeated one alike), then give up. */
static void tick_releases(struct dc_relays *r, uint64_t now)
{
	for (size_t i = 0; r->n_releases > 0 && i < DC_RELAY_RELEASES_MAX; i++) {
		struct release *x = &r->releases[i];

		if (x->sess == NULL || now < x->deadline) {
			continue;
		}
		if (x->tries >= DC_RELAY_TRIES) {
			ntm_log_info("relay session %08x: no RELEASE_OK (it expires when idle)",
				     x->id);
			end_release(r, x);
		} else {
			(void)!send_release(r, x);
		}
	}
}

static void on_tick(uv_timer_t *t)
{
	struct dc_relays *r = t->data;
	uint64_t now = uv_now(r->loop);

	tick_releases(r, now);

	for (size_t i = 0; i < DC_RELAY_PENDING_MAX; i++) {
		struct pending *p = &r->pending[i];

		if (p->cb == NULL || now < p->deadline) {
			continue;
		}
		if (p->relay >= 0 && r->relays[p->relay].sess != NULL &&
		    p->tries < DC_RELAY_TRIES) {
			send_try(r,
				 p); /* the same request again: the relay answers it idempotently */
		} else {
			if (p->relay >= 0 && r->relays[p->relay].sess != NULL && !p->answered) {
				/* Crashed, perhaps, with its session not timed out yet. */
				r->relays[p->relay].silent = true;
				ntm_log_info("relay %s: silent; the last choice until it reports",
					     r->relays[p->relay].name);
			}
			next_relay(r, p);
		}
	}
	if (r->n_pending == 0 && r->n_releases == 0) {
		uv_timer_stop(&r->timer);
	}
}

static void start_timer(struct dc_relays *r)
{
	if (!uv_is_active((uv_handle_t *)&r->timer)) {
		uv_timer_start(&r->timer, on_tick, TICK_MS, TICK_MS);
	}
}

/* The relays that have one of the addresses avoid[0..n), as a `tried` mask. */
static uint64_t avoid_mask(const struct dc_relays *r, const struct ntm_ctrl_addr *avoid, size_t n)
{
	uint64_t mask = 0;

	for (size_t i = 0; i < DC_RELAYS_MAX; i++) {
		const struct relay *rl = &r->relays[i];

		for (size_t k = 0; rl->sess != NULL && k < rl->n_addrs; k++) {
			for (size_t j = 0; j < n; j++) {
				if (rl->addrs[k].family == avoid[j].family &&
				    rl->addrs[k].port == avoid[j].port &&
				    memcmp(rl->addrs[k].ip, avoid[j].ip,
					   avoid[j].family == 4 ? 4 : 16) == 0) {
					mask |= UINT64_C(1) << i;
				}
			}
		}
	}
	return mask;
}

bool dc_relays_usable(const struct dc_relays *r, const struct ntm_ctrl_addr *avoid, size_t n_avoid)
{
	return r != NULL && pick_among(r, avoid_mask(r, avoid, n_avoid), false) >= 0;
}

int dc_relay_allocate(struct dc_relays *r, uint16_t lifetime_s, dc_relay_allocated_cb cb, void *arg)
{
	return dc_relay_allocate_avoiding(r, lifetime_s, NULL, 0, cb, arg);
}

/* dc_relay_allocate_avoiding() for the pair leases[lease] (-1: none). */
static int allocate(struct dc_relays *r, uint16_t lifetime_s, const struct ntm_ctrl_addr *avoid,
		    size_t n_avoid, int lease, dc_relay_allocated_cb cb, void *arg)
{
	struct pending *p = NULL;
	uint64_t tried = avoid_mask(r, avoid, n_avoid);

	if (cb == NULL || lifetime_s == 0 || lifetime_s > NTM_CTRL_LIFETIME_MAX) {
		return -EINVAL;
	}
	if (pick(r, 0) < 0) {
		return -ENOENT;
	}
	for (size_t i = 0; p == NULL && i < DC_RELAY_PENDING_MAX; i++) {
		p = r->pending[i].cb == NULL ? &r->pending[i] : NULL;
	}
	if (p == NULL) {
		return -EBUSY;
	}
	/*
	 * The avoided relays only lose the first pick: when that one fails too,
	 * next_relay() may still take them (a single relay that restarted, or
	 * a dead one still registered being the first pick).
	 */
	if (pick(r, tried) < 0) {
		tried = 0;
	}
	*p = (struct pending){ .cb = cb,
			       .arg = arg,
			       .lease = lease,
			       .relay = pick(r, tried),
			       .lifetime = lifetime_s };
	r->n_pending++;
	draw(p);
	send_try(r, p);
	start_timer(r);
	return 0;
}

int dc_relay_allocate_avoiding(struct dc_relays *r, uint16_t lifetime_s,
			       const struct ntm_ctrl_addr *avoid, size_t n_avoid,
			       dc_relay_allocated_cb cb, void *arg)
{
	return allocate(r, lifetime_s, avoid, n_avoid, -1, cb, arg);
}

/* ---------------------------------------------------------------- pairs */

/* The pair {a, b} in lease order (smaller key first); true when a is the first. */
static bool pair_order(const struct ntm_key *a, const struct ntm_key *b, struct ntm_key k[2])
{
	bool a_first = memcmp(a->b, b->b, sizeof(a->b)) <= 0;

	k[0] = a_first ? *a : *b;
	k[1] = a_first ? *b : *a;
	return a_first;
}

static struct lease *lease_find(struct dc_relays *r, const struct ntm_key k[2])
{
	for (size_t i = 0; i < DC_RELAY_LEASES_MAX; i++) {
		struct lease *l = &r->leases[i];

		if (l->used && memcmp(l->k, k, sizeof(l->k)) == 0) {
			return l;
		}
	}
	return NULL;
}

/* The granting relay, when it is still registered (the same registration). */
static struct relay *lease_relay(struct dc_relays *r, const struct lease *l)
{
	struct relay *rl = &r->relays[l->relay];

	return l->has_session && rl->sess != NULL && rl->seq == l->relay_seq ? rl : NULL;
}

/* Ends the pair's session on its relay (when the relay is still there to tell). */
static void lease_release(struct dc_relays *r, struct lease *l)
{
	struct relay *rl = lease_relay(r, l);

	if (rl != NULL && dc_relay_release(r, rl->name, l->id) < 0) {
		ntm_log_info("relay session %08x: cannot release (it expires when idle)", l->id);
	}
	l->has_session = false;
	sodium_memzero(l->cred, sizeof(l->cred));
}

static void lease_granted(struct dc_relays *r, struct lease *l, struct relay *rl,
			  const struct pending *p)
{
	if (l->has_session && l->id != p->id) {
		lease_release(r, l); /* replaced (its relay went silent for a node) */
	}
	l->has_session = true;
	l->relay = (int)(rl - r->relays);
	l->relay_seq = rl->seq;
	l->id = p->id;
	memcpy(l->cred, p->cred, sizeof(l->cred));
	l->lifetime = p->lifetime;
	l->offered_ms = uv_now(r->loop);
	l->left = 0;
}

static bool addr_in(const struct ntm_ctrl_addr *a, const struct ntm_ctrl_addr *set, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		if (a->family == set[j].family && a->port == set[j].port &&
		    memcmp(a->ip, set[j].ip, set[j].family == 4 ? 4 : 16) == 0) {
			return true;
		}
	}
	return false;
}

int dc_relay_lease_get(struct dc_relays *r, const struct ntm_key *a, const struct ntm_key *b,
		       const struct ntm_ctrl_addr *avoid, size_t n_avoid,
		       struct dc_relay_grant *out)
{
	struct ntm_key k[2];
	struct lease *l;
	struct relay *rl;
	uint64_t now = uv_now(r->loop);

	(void)pair_order(a, b, k);
	l = lease_find(r, k);
	memset(out, 0, sizeof(*out));
	if (l == NULL) {
		return -ENOENT;
	}
	if (l->pending) {
		return -EINPROGRESS;
	}
	rl = lease_relay(r, l);
	if (rl == NULL || now - l->offered_ms >= (uint64_t)l->lifetime * 1000) {
		return -ENOENT; /* gone with its relay, or perhaps expired on it */
	}
	for (size_t i = 0; i < rl->n_addrs; i++) {
		if (addr_in(&rl->addrs[i], avoid, n_avoid)) {
			return -ENOENT; /* a node found it silent: a new one replaces it */
		}
	}
	snprintf(out->relay, sizeof(out->relay), "%s", rl->name);
	memcpy(out->addrs, rl->addrs, sizeof(out->addrs));
	out->n_addrs = rl->n_addrs;
	out->session_id = l->id;
	memcpy(out->credential, l->cred, sizeof(out->credential));
	out->lifetime = l->lifetime;
	l->offered_ms = now; /* offered again: both ends BIND anew */
	l->left = 0;
	return 0;
}

int dc_relay_allocate_pair(struct dc_relays *r, uint16_t lifetime_s, const struct ntm_key *a,
			   const struct ntm_key *b, const struct ntm_ctrl_addr *avoid,
			   size_t n_avoid, dc_relay_allocated_cb cb, void *arg)
{
	struct ntm_key k[2];
	struct lease *l;
	int rc;

	(void)pair_order(a, b, k);
	l = lease_find(r, k);
	if (l != NULL && l->pending) {
		return -EINPROGRESS;
	}
	for (size_t i = 0; l == NULL && i < DC_RELAY_LEASES_MAX; i++) {
		l = !r->leases[i].used ? &r->leases[i] : NULL;
	}
	if (l == NULL) {
		/* No room to remember the pair: a session like any other. */
		return allocate(r, lifetime_s, avoid, n_avoid, -1, cb, arg);
	}
	rc = allocate(r, lifetime_s, avoid, n_avoid, (int)(l - r->leases), cb, arg);
	if (rc == 0) {
		if (!l->used) {
			*l = (struct lease){ .used = true, .k = { k[0], k[1] } };
		}
		l->pending = true;
	}
	return rc;
}

int dc_relay_lease_done(struct dc_relays *r, const struct ntm_key *self, const struct ntm_key *peer,
			uint32_t id)
{
	struct ntm_key k[2];
	bool self_first = pair_order(self, peer, k);
	struct lease *l = lease_find(r, k);

	if (l == NULL || !l->has_session || l->id != id) {
		return -ENOENT;
	}
	l->left |= self_first ? 1 : 2;
	if (l->left != 3) {
		return 0;
	}
	ntm_log_info("relay session %08x: both ends went direct, released", l->id);
	lease_release(r, l);
	if (!l->pending) {
		sodium_memzero(l, sizeof(*l));
	}
	return 1;
}

size_t dc_relay_lease_count(const struct dc_relays *r)
{
	size_t n = 0;

	for (size_t i = 0; i < DC_RELAY_LEASES_MAX; i++) {
		n += r->leases[i].used && r->leases[i].has_session;
	}
	return n;
}

/* The relay `rl` went away: its pairs' sessions went with it. */
static void leases_gone(struct dc_relays *r, const struct relay *rl)
{
	for (size_t i = 0; i < DC_RELAY_LEASES_MAX; i++) {
		struct lease *l = &r->leases[i];

		if (l->used && l->has_session && &r->relays[l->relay] == rl) {
			l->has_session = false;
			if (!l->pending) {
				sodium_memzero(l, sizeof(*l));
			}
		}
	}
}

static void grant(struct dc_relays *r, struct pending *p, struct relay *rl)
{
	struct dc_relay_grant g = { .session_id = p->id, .lifetime = p->lifetime };

	snprintf(g.relay, sizeof(g.relay), "%s", rl->name);
	memcpy(g.addrs, rl->addrs, sizeof(g.addrs));
	g.n_addrs = rl->n_addrs;
	memcpy(g.credential, p->cred, sizeof(g.credential));
	rl->since_report++;
	rl->allocated++;
	ntm_log_info("relay %s: session %08x allocated", rl->name, p->id);
	if (p->lease >= 0) {
		lease_granted(r, &r->leases[p->lease], rl, p);
	}
	complete(r, p, 0, &g);
	sodium_memzero(&g, sizeof(g));
}

void dc_relays_answer(struct dc_relays *r, void *sess, const struct ntm_ctrl_msg *m)
{
	struct relay *rl = by_sess(r, sess);

	for (size_t i = 0; m->kind != NTM_CTRL_RELAY_ALLOC_OK && i < DC_RELAY_RELEASES_MAX; i++) {
		struct release *x = &r->releases[i];

		if (x->sess != NULL && x->sess == sess && x->req_id == m->req_id) {
			end_release(r, x); /* RELEASE_OK, or an ERROR (no such session): done */
			return;
		}
	}
	for (size_t i = 0; rl != NULL && i < DC_RELAY_PENDING_MAX; i++) {
		struct pending *p = &r->pending[i];

		if (p->cb == NULL || p->req_id != m->req_id || &r->relays[p->relay] != rl) {
			continue;
		}
		p->answered = true;
		if (m->kind == NTM_CTRL_RELAY_ALLOC_OK && m->session_id == p->id) {
			grant(r, p, rl);
		} else if (m->kind == NTM_CTRL_ERROR && m->error_code == NTM_CTRL_E_RELAY_EXISTS) {
			draw(p);
			send_try(r, p);
		} else if (m->kind == NTM_CTRL_ERROR) {
			ntm_log_info("relay %s refused a session: %s", rl->name,
				     ntm_ctrl_error_name(m->error_code));
			p->tries = DC_RELAY_TRIES; /* the next tick moves on */
			p->deadline = 0;
		}
		return;
	}
}

int dc_relay_release(struct dc_relays *r, const char *relay, uint32_t id)
{
	struct release *x = NULL;

	for (size_t i = 0; i < DC_RELAYS_MAX; i++) {
		struct relay *rl = &r->relays[i];

		if (rl->sess == NULL || strcmp(rl->name, relay) != 0) {
			continue;
		}
		for (size_t k = 0; x == NULL && k < DC_RELAY_RELEASES_MAX; k++) {
			x = r->releases[k].sess == NULL ? &r->releases[k] : NULL;
		}
		if (x == NULL) {
			return -EBUSY;
		}
		*x = (struct release){ .sess = rl->sess,
				       .req_id = randombytes_random() | 1,
				       .id = id };
		r->n_releases++;
		start_timer(r);
		return send_release(r, x);
	}
	return -ENOENT;
}

int dc_relays_register(struct dc_relays *r, void *sess, const char *name, const struct ntm_key *pub,
		       const struct ntm_ctrl_msg *m)
{
	struct relay *rl = by_sess(r, sess);

	for (size_t i = 0; rl == NULL && i < DC_RELAYS_MAX; i++) {
		rl = r->relays[i].sess == NULL ? &r->relays[i] : NULL;
	}
	if (rl == NULL) {
		return -ENOSPC;
	}
	if (rl->sess == NULL) {
		memset(rl, 0, sizeof(*rl));
		rl->sess = sess;
		rl->seq = ++r->seq;
		ntm_log_info("relay %s registered (%zu addresses)", name, m->n_relay_addr);
	}
	snprintf(rl->name, sizeof(rl->name), "%s", name);
	rl->pub = *pub;
	memcpy(rl->addrs, m->relay_addr, sizeof(rl->addrs));
	rl->n_addrs = m->n_relay_addr;
	return dc_relays_report(r, sess, &m->load);
}

int dc_relays_report(struct dc_relays *r, void *sess, const struct ntm_ctrl_load *load)
{
	struct relay *rl = by_sess(r, sess);

	if (rl == NULL) {
		return -ENOENT;
	}
	rl->load = *load;
	rl->since_report = 0;
	rl->silent = false;
	rl->report_ms = uv_now(r->loop);
	return 0;
}

void dc_relays_gone(struct dc_relays *r, void *sess)
{
	struct relay *rl = by_sess(r, sess);

	if (rl == NULL) {
		return;
	}
	for (size_t i = 0; i < DC_RELAY_PENDING_MAX; i++) {
		struct pending *p = &r->pending[i];

		if (p->cb != NULL && p->relay >= 0 && &r->relays[p->relay] == rl) {
			p->tries = DC_RELAY_TRIES; /* the next tick moves on: not from here */
			p->deadline = 0;
		}
	}
	for (size_t i = 0; i < DC_RELAY_RELEASES_MAX; i++) {
		if (r->releases[i].sess == sess) {
			end_release(r, &r->releases[i]); /* its sessions went with it */
		}
	}
	ntm_log_info("relay %s is gone", rl->name);
	leases_gone(r, rl);
	rl->sess = NULL;
}

void dc_relays_foreach(const struct dc_relays *r,
		       void (*cb)(void *ctx, const struct dc_relay_info *info), void *ctx)
{
	uint64_t now = uv_now(r->loop), last = 0;

	for (size_t k = 0; k < DC_RELAYS_MAX; k++) {
		const struct relay *next = NULL;
		struct dc_relay_info info;

		for (size_t i = 0; i < DC_RELAYS_MAX; i++) {
			const struct relay *rl = &r->relays[i];

			if (rl->sess != NULL && rl->seq > last &&
			    (next == NULL || rl->seq < next->seq)) {
				next = rl;
			}
		}
		if (next == NULL) {
			return;
		}
		last = next->seq;
		memset(&info, 0, sizeof(info));
		snprintf(info.name, sizeof(info.name), "%s", next->name);
		info.pubkey = next->pub;
		memcpy(info.addrs, next->addrs, sizeof(info.addrs));
		info.n_addrs = next->n_addrs;
		info.load = next->load;
		info.load.sessions += next->since_report;
		info.allocated = next->allocated;
		info.report_age_ms = (int64_t)(now - next->report_ms);
		cb(ctx, &info);
	}
}

size_t dc_relays_count(const struct dc_relays *r)
{
	size_t n = 0;

	for (size_t i = 0; i < DC_RELAYS_MAX; i++) {
		n += r->relays[i].sess != NULL;
	}
	return n;
}

static void on_closed(uv_handle_t *h)
{
	struct dc_relays *r = h->data;
	void (*done)(void *) = r->done;
	void *arg = r->done_arg;

	ntm_free(r);
	if (done != NULL) {
		done(arg);
	}
}

void dc_relays_cancel(struct dc_relays *r)
{
	for (size_t i = 0; i < DC_RELAY_PENDING_MAX; i++) {
		if (r->pending[i].cb != NULL) {
			complete(r, &r->pending[i], -ECANCELED, NULL);
		}
	}
}

void dc_relays_close(struct dc_relays *r, void (*done)(void *arg), void *arg)
{
	if (ntm_close_null(r, done, arg)) {
		return;
	}
	dc_relays_cancel(r);
	r->done = done;
	r->done_arg = arg;
	uv_close((uv_handle_t *)&r->timer, on_closed);
}
