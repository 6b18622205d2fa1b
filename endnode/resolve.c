/* SPDX-License-Identifier: MIT */
#include "resolve.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "endnode/dcclient.h"
#include "endnode/node_internal.h"
#include "endnode/path.h"
#include "endnode/peer_internal.h"
#include "endnode/receive.h"

enum {
	TICK_MS = 100, /* retransmissions and timeouts are checked this often */
	RETRY_SHIFT_MAX = 4,
};

/* One `resolve` waiting for its direction, then for its handshake. */
struct pending {
	struct pending *next;
	struct en_resolver *r;
	struct ntm_ctl_req *req; /* the control command, or NULL for a lookup (cb) */
	en_resolver_cb cb;
	void *cb_arg;
	uint64_t timeout_ms;
	char fqdn[NTM_CTRL_FQDN_MAX + 1];
	uint32_t req_id;
	uint64_t start_ms, next_tx_ms;
	unsigned tries;
	bool directed; /* the DIRECTION came: waiting for the handshake */
	uint8_t path;  /* enum ntm_ctrl_path the DC chose */
	bool until_direct; /* ping --until-direct: answer only once the path is not the relay */
	bool up;	   /* the tunnel is usable, on the relay: waiting for the direct path */
	uint8_t peer_key[NTM_WG_KEY_LEN];
	uint8_t vip4[4], vip6[16];
};

/* A peer that a DIRECTION added (static peers are never here): it ages out when idle. */
struct learned {
	struct learned *next;
	uint8_t key[NTM_WG_KEY_LEN];
	char fqdn[NTM_CTRL_FQDN_MAX + 1];
	uint64_t bytes;		      /* rx + tx at the last sweep */
	uint64_t active_ms;	      /* when they last moved */
	struct en_resolver_path path; /* as the last DIRECTION said */
	uint64_t refresh_ms;	      /* the last en_resolver_refresh request; 0 none */
};

struct en_resolver {
	struct en_node *n;
	uv_timer_t timer; /* retransmissions and timeouts, while requests are pending */
	uv_timer_t age;	  /* idle learned peers, every EN_RESOLVE_SWEEP_MS */
	int open_handles;
	struct pending *pending;
	size_t n_pending;
	struct learned *learned;
	void (*done)(void *arg);
	void *done_arg;
};

static void on_age(uv_timer_t *t);

int en_resolver_create(struct en_node *n, struct en_resolver **out)
{
	struct en_resolver *r = ntm_calloc(1, sizeof(*r));

	*out = NULL;
	if (r == NULL) {
		return -ENOMEM;
	}
	r->n = n;
	uv_timer_init(n->loop, &r->timer);
	r->timer.data = r;
	uv_timer_init(n->loop, &r->age);
	r->age.data = r;
	r->open_handles = 2;
	uv_timer_start(&r->age, on_age, EN_RESOLVE_SWEEP_MS, EN_RESOLVE_SWEEP_MS);
	*out = r;
	return 0;
}

/* Unlinks and frees `p`; its request must have been answered. */
static void drop_pending(struct pending *p)
{
	struct en_resolver *r = p->r;

	for (struct pending **pp = &r->pending; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	r->n_pending--;
	ntm_free(p);
	if (r->n_pending == 0) {
		uv_timer_stop(&r->timer);
	}
}

static void fail(struct pending *p, enum ntm_ctl_code code, const char *why)
{
	ntm_log_info("resolve %s: %s", p->fqdn, why);
	if (p->req != NULL) {
		ntm_ctl_reply_err(p->req, code, "%s: %s", p->fqdn, why);
	} else {
		p->cb(p->cb_arg,
		      code == NTM_CTL_E_UNKNOWN	  ? -ENOENT
		      : code == NTM_CTL_E_TIMEOUT ? -ETIMEDOUT
						  : -EIO,
		      NULL);
	}
	drop_pending(p);
}

static void succeed(struct pending *p)
{
	char v4[INET_ADDRSTRLEN] = "", v6[INET6_ADDRSTRLEN] = "";
	uint64_t ms = en_node_now(p->r->n) - p->start_ms;
	json_object *o = json_object_new_object();
	struct en_path_info pi;
	/* The path the handshake went over (the path manager's), else the DC's word. */
	uint8_t path = en_pathmgr_get(p->r->n->pathmgr, p->peer_key, &pi) ? pi.active : p->path;

	if (p->until_direct && path == NTM_CTRL_PATH_RELAY) {
		if (!p->up) {
			p->up = true; /* the tick answers once the direct path is proven */
			en_pathmgr_probe_direct(p->r->n->pathmgr, p->peer_key);
		}
		json_object_put(o);
		return;
	}

	inet_ntop(AF_INET, p->vip4, v4, sizeof(v4));
	inet_ntop(AF_INET6, p->vip6, v6, sizeof(v6));
	json_object_object_add(o, "fqdn", json_object_new_string(p->fqdn));
	json_object_object_add(o, "vip4", json_object_new_string(v4));
	json_object_object_add(o, "vip6", json_object_new_string(v6));
	json_object_object_add(o, "path", json_object_new_string(ntm_ctrl_path_name(path)));
	json_object_object_add(o, "ms", json_object_new_int64((int64_t)ms));
	ntm_log_info("resolve %s: tunnel up (%s, %s) in %llu ms", p->fqdn, v4, v6,
		     (unsigned long long)ms);
	if (p->req != NULL) {
		ntm_ctl_reply_ok(p->req, o);
	} else {
		struct en_resolve_result res = { .ms = ms };

		memcpy(res.vip4, p->vip4, sizeof(res.vip4));
		memcpy(res.vip6, p->vip6, sizeof(res.vip6));
		json_object_put(o);
		p->cb(p->cb_arg, 0, &res);
	}
	drop_pending(p);
}

static void on_closed(uv_handle_t *h)
{
	struct en_resolver *r = h->data;
	void (*done)(void *arg) = r->done;
	void *arg = r->done_arg;

	if (--r->open_handles > 0) {
		return;
	}
	while (r->learned != NULL) {
		struct learned *l = r->learned;

		r->learned = l->next;
		ntm_free(l);
	}
	ntm_free(r);
	if (done != NULL) {
		done(arg);
	}
}

void en_resolver_close(struct en_resolver *r, void (*done)(void *arg), void *arg)
{
	while (r->pending != NULL) {
		fail(r->pending, NTM_CTL_E_ERROR, "the node is shutting down");
	}
	r->done = done;
	r->done_arg = arg;
	uv_close((uv_handle_t *)&r->timer, on_closed);
	uv_close((uv_handle_t *)&r->age, on_closed);
}

/* Sends (or re-sends) the request; when the DC is not there yet, the next tick tries again. */
static void transmit(struct pending *p, uint64_t now)
{
	unsigned shift = p->tries < RETRY_SHIFT_MAX ? p->tries : RETRY_SHIFT_MAX;
	struct en_dcclient *dc = p->r->n->dc;

	if (dc != NULL && en_dcclient_direction_request(dc, p->req_id, p->fqdn) == 0) {
		p->tries++;
		p->next_tx_ms = now + ((uint64_t)EN_RESOLVE_RETRY_MS << shift);
	} else {
		p->next_tx_ms = now + TICK_MS;
	}
}

static void on_tick(uv_timer_t *t)
{
	struct en_resolver *r = t->data;
	uint64_t now = en_node_now(r->n);
	struct pending *p = r->pending, *next;

	for (; p != NULL; p = next) {
		next = p->next;
		if (now - p->start_ms >= p->timeout_ms) {
			fail(p, NTM_CTL_E_TIMEOUT,
			     p->up	     ? "the path is still the relay"
			     : p->directed ? "the handshake did not complete"
					   : "no answer from the DC");
		} else if (p->up) {
			succeed(p); /* answers (and frees p) once the path is no longer the relay */
		} else if (!p->directed && now >= p->next_tx_ms) {
			transmit(p, now);
		}
	}
}

static void start(struct en_resolver *r, struct pending *p, const char *name);

static void on_cancel(struct ntm_ctl_req *req, void *arg)
{
	struct pending *p = arg;

	(void)req;
	fail(p, NTM_CTL_E_ERROR, "cancelled");
}

void en_resolver_request(struct en_resolver *r, struct ntm_ctl_req *req)
{
	json_object *v = NULL;
	const char *name;
	struct pending *p;

	if (!json_object_object_get_ex(ntm_ctl_req_args(req), "fqdn", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    (name = json_object_get_string(v))[0] == '\0' || strlen(name) > NTM_CTRL_FQDN_MAX) {
		ntm_ctl_reply_err(req, NTM_CTL_E_INVALID, "resolve wants {\"fqdn\": NAME}");
		return;
	}
	if (r->n_pending >= EN_RESOLVE_PENDING_MAX || (p = ntm_calloc(1, sizeof(*p))) == NULL) {
		ntm_ctl_reply_err(req, NTM_CTL_E_ERROR, "too many resolves in progress");
		return;
	}
	p->req = req;
	if (json_object_object_get_ex(ntm_ctl_req_args(req), "until_direct", &v)) {
		p->until_direct = json_object_get_boolean(v);
	}
	p->timeout_ms = EN_RESOLVE_TIMEOUT_MS;
	ntm_ctl_req_set_cancel(req, on_cancel, p);
	start(r, p, name);
}

/* Links `p` (allocated, its answer path set) in and sends the first request. */
static void start(struct en_resolver *r, struct pending *p, const char *name)
{
	p->r = r;
	snprintf(p->fqdn, sizeof(p->fqdn), "%s", name);
	p->req_id = randombytes_random() | 1;
	p->start_ms = en_node_now(r->n);
	p->next = r->pending;
	r->pending = p;
	r->n_pending++;
	if (!uv_is_active((uv_handle_t *)&r->timer)) {
		uv_timer_start(&r->timer, on_tick, TICK_MS, TICK_MS);
	}
	transmit(p, p->start_ms);
}

int en_resolver_lookup(struct en_resolver *r, const char *fqdn, uint64_t timeout_ms,
		       en_resolver_cb cb, void *arg, struct en_resolve_op **op)
{
	struct pending *p;

	*op = NULL;
	if (fqdn[0] == '\0' || strlen(fqdn) > NTM_CTRL_FQDN_MAX) {
		return -EINVAL;
	}
	if (r->n_pending >= EN_RESOLVE_PENDING_MAX || (p = ntm_calloc(1, sizeof(*p))) == NULL) {
		return -ENOBUFS;
	}
	p->cb = cb;
	p->cb_arg = arg;
	p->timeout_ms = timeout_ms;
	start(r, p, fqdn);
	*op = (struct en_resolve_op *)p;
	return 0;
}

void en_resolver_cancel(struct en_resolve_op *op)
{
	if (op != NULL) {
		drop_pending((struct pending *)op);
	}
}

/* ---------------------------------------------------------------- idle peers */

static uint64_t peer_bytes(const struct en_peer *peer)
{
	struct en_peer_info info;

	en_peer_get_info(peer, &info);
	return info.rx_bytes + info.tx_bytes;
}

static struct learned *find_learned(const struct en_resolver *r, const uint8_t *key)
{
	struct learned *l = r->learned;

	while (l != NULL && sodium_memcmp(l->key, key, sizeof(l->key)) != 0) {
		l = l->next;
	}
	return l;
}

/* What a DIRECTION says of the path; an older DC's (no PATH) means direct. */
static struct en_resolver_path path_of(const struct ntm_ctrl_msg *m)
{
	struct en_resolver_path p = { .path = NTM_CTRL_PATH_DIRECT };

	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_PATH)) {
		p = (struct en_resolver_path){ m->path, m->nat, m->nat_peer };
	}
	return p;
}

static void track(struct en_resolver *r, const struct en_peer *peer, const struct ntm_ctrl_msg *m)
{
	const char *fqdn = m->fqdn;
	struct learned *l = find_learned(r, peer->public_key);

	if (l != NULL) { /* learned again after it was removed: one entry */
		l->path = path_of(m);
		snprintf(l->fqdn, sizeof(l->fqdn), "%s", fqdn);
		l->bytes = peer_bytes(peer);
		l->active_ms = en_node_now(r->n);
		return;
	}
	l = ntm_calloc(1, sizeof(*l));
	if (l == NULL) {
		return; /* the peer then stays until restart: harmless */
	}
	memcpy(l->key, peer->public_key, sizeof(l->key));
	snprintf(l->fqdn, sizeof(l->fqdn), "%s", fqdn);
	l->path = path_of(m);
	l->bytes = peer_bytes(peer);
	l->active_ms = en_node_now(r->n);
	l->next = r->learned;
	r->learned = l;
}

/* True when `l` is to be forgotten: its peer is gone, or idle too long and now removed. */
static bool is_expired(struct en_resolver *r, struct learned *l, uint64_t now)
{
	struct en_peer *peer = en_peer_find(r->n, l->key);
	uint64_t bytes;

	if (peer == NULL) {
		return true;
	}
	bytes = peer_bytes(peer);
	if (bytes != l->bytes) {
		l->bytes = bytes;
		l->active_ms = now;
		return false;
	}
	if (now - l->active_ms < EN_RESOLVE_IDLE_MS) {
		return false;
	}
	ntm_log_info("%s: %s idle for %d s: removed with its routes (resolve it again)",
		     peer->label, l->fqdn, EN_RESOLVE_IDLE_MS / 1000);
	en_node_forget_peer(r->n, peer);
	return true;
}

static void on_age(uv_timer_t *t)
{
	struct en_resolver *r = t->data;
	uint64_t now = en_node_now(r->n);
	struct learned **pp = &r->learned;

	while (*pp != NULL) {
		struct learned *l = *pp;

		if (is_expired(r, l, now)) {
			*pp = l->next;
			ntm_free(l);
		} else {
			pp = &l->next;
		}
	}
}

static void unlink_learned(struct en_resolver *r, struct learned *gone)
{
	for (struct learned **pp = &r->learned; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == gone) {
			*pp = gone->next;
			ntm_free(gone);
			return;
		}
	}
}

void en_resolver_revoke(struct en_resolver *r, const struct ntm_ctrl_msg *m)
{
	struct learned *l;
	struct en_peer *peer;

	if (r == NULL || (l = find_learned(r, m->pubkey)) == NULL) {
		return; /* not a peer the DC taught us: static peers are the admin's */
	}
	peer = en_peer_find(r->n, m->pubkey);
	if (peer != NULL) {
		ntm_log_info("%s: %s was revoked at the DC: removed", peer->label, l->fqdn);
		en_node_forget_peer(r->n, peer);
	}
	unlink_learned(r, l);
}

bool en_resolver_learned_path(const struct en_resolver *r, const uint8_t *key,
			      struct en_resolver_path *out)
{
	const struct learned *l = r != NULL ? find_learned(r, key) : NULL;

	memset(out, 0, sizeof(*out));
	if (l == NULL) {
		return false;
	}
	*out = l->path;
	return true;
}

const char *en_resolver_learned_fqdn(const struct en_resolver *r, const uint8_t *key)
{
	const struct learned *l = r != NULL ? find_learned(r, key) : NULL;

	return l != NULL ? l->fqdn : NULL;
}

/* ---------------------------------------------------------------- directions */

/* The peer's address to send to (see resolve.h). */
static int pick_endpoint(const struct en_resolver *r, const struct ntm_ctrl_msg *m,
			 struct ntm_addr *out)
{
	struct en_dcclient_info info;
	int fam = 4;

	if (r->n->dc != NULL) {
		en_dcclient_get_info(r->n->dc, &info);
		fam = info.outside.len > 0 && info.outside.sa.sa_family == AF_INET6 ? 6 : 4;
	}
	/* Behind the same NAT: the peer's own (private) address first (route optimisation). */
	for (size_t i = 0; ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_PATH) &&
			   m->path == NTM_CTRL_PATH_SAME_NAT && i < m->n_cand;
	     i++) {
		if (m->cand[i].family == fam) {
			return ntm_ctrl_addr_to(out, &m->cand[i]);
		}
	}
	if (m->outside.family == fam) {
		return ntm_ctrl_addr_to(out, &m->outside);
	}
	for (size_t i = 0; i < m->n_cand; i++) {
		if (m->cand[i].family == fam) {
			return ntm_ctrl_addr_to(out, &m->cand[i]);
		}
	}
	return ntm_ctrl_addr_to(out, &m->outside);
}

/* The peer stopped answering (reach.h): its session proves nothing about its address. */
static bool is_down(const struct en_resolver *r, struct en_peer *peer)
{
	return en_reach_get(&peer->reach, en_node_now(r->n)) == EN_REACH_UNREACHABLE;
}

/* Adds the peer of a DIRECTION, or points an existing one at its new address. */
static struct en_peer *learn_peer(struct en_resolver *r, const struct ntm_ctrl_msg *m)
{
	struct ntm_prefix vips[2] = { { .family = AF_INET, .prefix_len = 32 },
				      { .family = AF_INET6, .prefix_len = 128 } };
	struct en_config_peer cp = { .allowed_ips = vips, .n_allowed_ips = 2 };
	struct en_peer *peer = en_peer_find(r->n, m->pubkey);
	char ep[NTM_ADDR_STRLEN] = "?";
	int rc;

	if (pick_endpoint(r, m, &cp.endpoint) < 0) {
		return NULL;
	}
	if (ntm_addr_format(&cp.endpoint, ep, sizeof(ep)) < 0) {
		snprintf(ep, sizeof(ep), "?");
	}
	if (peer != NULL) {
		struct learned *l = find_learned(r, m->pubkey);

		if (l != NULL) {
			l->path = path_of(m);
		}
		/*
		 * A usable session keeps the address its packets authenticated from
		 * (behind an endpoint-dependent NAT the DC's view is another port).
		 */
		if (en_peer_send_keypair(peer, en_node_now(r->n)) == NULL || is_down(r, peer) ||
		    ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_MOVED)) {
			/* MOVED: that address is dead; the DC's view is the new one. */
			en_peer_set_endpoint(peer, &cp.endpoint);
		}
		en_pathmgr_on_direction(r->n->pathmgr, peer, m);
		ntm_log_debug("%s: direction for %s", peer->label, m->fqdn);
		return peer;
	}
	memcpy(cp.public_key, m->pubkey, sizeof(cp.public_key));
	memcpy(vips[0].addr, m->vip4, 4);
	memcpy(vips[1].addr, m->vip6, 16);
	rc = en_peer_add(r->n, &cp, &peer);
	if (rc < 0) {
		ntm_log_warn("direction for %s: cannot add the peer: %s", m->fqdn,
			     ntm_strerror(rc));
		return NULL;
	}
	ntm_log_info("%s: learned %s from the DC at %s", peer->label, m->fqdn, ep);
	track(r, peer, m);
	en_pathmgr_on_direction(r->n->pathmgr, peer, m);
	en_receive_release_held(r->n); /* its initiation may have come first */
	return peer;
}

static struct pending *find_pending(struct en_resolver *r, uint32_t req_id)
{
	for (struct pending *p = r->pending; p != NULL; p = p->next) {
		if (req_id != 0 && p->req_id == req_id) {
			return p;
		}
	}
	return NULL;
}

static void on_direction(struct en_resolver *r, const struct ntm_ctrl_msg *m)
{
	struct pending *p = find_pending(r, m->req_id);
	struct en_peer *peer = learn_peer(r, m);
	uint64_t now = en_node_now(r->n);

	if (p == NULL || p->directed) {
		return; /* unsolicited (the other side resolved us), or a repeated answer */
	}
	if (peer == NULL) {
		fail(p, NTM_CTL_E_ERROR, "cannot add the peer");
		return;
	}
	p->directed = true;
	p->path = path_of(m).path;
	memcpy(p->peer_key, m->pubkey, sizeof(p->peer_key));
	memcpy(p->vip4, m->vip4, sizeof(p->vip4));
	memcpy(p->vip6, m->vip6, sizeof(p->vip6));
	if (en_peer_send_keypair(peer, now) != NULL && !is_down(r, peer)) {
		succeed(p); /* the tunnel is up already */
		return;
	}
	ntm_timers_want_handshake(peer->timers, now);
	en_peer_drive(peer);
}

void en_resolver_on_message(struct en_resolver *r, const struct ntm_ctrl_msg *m)
{
	struct pending *p;

	if (m->kind == NTM_CTRL_DIRECTION) {
		on_direction(r, m);
		return;
	}
	p = find_pending(r, m->req_id);
	if (m->kind != NTM_CTRL_ERROR || p == NULL || p->directed) {
		return;
	}
	if (m->error_code == NTM_CTRL_E_UNKNOWN_NAME) {
		fail(p, NTM_CTL_E_UNKNOWN, "unknown name (not enrolled, or not online)");
	} else {
		ntm_log_info("resolve %s: the DC refused: %s", p->fqdn,
			     ntm_ctrl_error_name(m->error_code));
		fail(p, NTM_CTL_E_ERROR, ntm_ctrl_error_name(m->error_code));
	}
}

void en_resolver_handshake_done(struct en_resolver *r, const struct en_peer *peer)
{
	struct pending *p = r->pending, *next;

	for (; p != NULL; p = next) {
		next = p->next;
		if (p->directed && memcmp(p->peer_key, peer->public_key, NTM_WG_KEY_LEN) == 0) {
			succeed(p);
		}
	}
}

/* The answer to a refresh changes the peer (learn_peer); the result itself is not needed. */
static void on_refreshed(void *arg, int err, const struct en_resolve_result *res)
{
	(void)arg;
	(void)res;
	if (err < 0) {
		ntm_log_debug("refresh of an unreachable peer: %s", ntm_strerror(err));
	}
}

void en_resolver_refresh(struct en_resolver *r, const struct en_peer *peer)
{
	struct learned *l = r != NULL ? find_learned(r, peer->public_key) : NULL;
	struct en_dcclient_info info;
	struct en_resolve_op *op;
	uint64_t now;
	int rc;

	if (l == NULL || r->n->dc == NULL) {
		return; /* a static peer: nobody to ask */
	}
	en_dcclient_get_info(r->n->dc, &info);
	if (info.state != EN_DC_REGISTERED) {
		return; /* the DC is away: a request would only hold a slot until it times out */
	}
	now = en_node_now(r->n);
	if (l->refresh_ms != 0 && now - l->refresh_ms < EN_RESOLVE_REFRESH_MS) {
		return;
	}
	l->refresh_ms = now;
	ntm_log_info("%s: %s does not answer: asking the DC where it is now", peer->label, l->fqdn);
	rc = en_resolver_lookup(r, l->fqdn, EN_RESOLVE_REFRESH_MS, on_refreshed, NULL, &op);
	if (rc < 0) {
		ntm_log_debug("%s: cannot ask the DC for %s again: %s", peer->label, l->fqdn,
			      ntm_strerror(rc));
	}
}
