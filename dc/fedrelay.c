/* SPDX-License-Identifier: MIT */
/*
 * Relay through either domain's RS (dc/fedrelay.h): the allocation for a
 * cross-domain pair, the messages between the two DCs about it, and the
 * forwarding of a node's RELAY_REQUEST and RELAY_DONE. Everything here
 * carries relay credentials only: the tunnel keys stay on the nodes.
 */
#include "fedint.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/relay.h"
#include "dc/fedrelay.h"

/* ---- the session between the two DCs, whichever of them opened it */

static struct dc_csess *callee_sess(struct dc_ctrl *c, int idx)
{
	const struct dc_federation *fc = &c->cc.cfg->federation[idx];
	struct dc_csess *s = NULL;

	if (fc->has_key) {
		s = dc_ctable_by_key(&c->table, fc->public_key.b);
	}
	for (size_t i = 0; !fc->has_key && s == NULL && i < c->table.max; i++) {
		if (c->table.slots[i] != NULL && c->table.slots[i]->fed == idx + 1) {
			s = c->table.slots[i]; /* a DNSSEC-validated key (fedverify.c) */
		}
	}
	return s != NULL && s->fed == idx + 1 && s->fed_hello ? s : NULL;
}

/* Sends m (wiped after) to the DC of domain idx: on our session to it, else on its session. */
static int send_dc(struct dc_ctrl *c, int idx, struct ntm_ctrl_msg *m)
{
	struct fed_dom *d = c->fed != NULL ? &c->fed->doms[idx] : NULL;
	uint8_t plain[NTM_CTRL_PLAIN_MAX];
	struct dc_csess *s;
	struct ntm_wbuf w;
	int rc = -ENOTCONN;

	if (d != NULL && d->cc != NULL && d->ready) {
		rc = ntm_ctrlclient_send(d->cc, m);
	}
	if (rc < 0 && (s = callee_sess(c, idx)) != NULL) {
		ntm_wbuf_init(&w, plain, sizeof(plain));
		rc = ntm_ctrl_msg_encode(&w, m);
		if (rc == 0) {
			rc = dc_ctrl_send(c, s, w.data, w.len, uv_now(c->loop));
		}
		sodium_memzero(plain, sizeof(plain));
	}
	if (rc < 0) {
		ntm_log_info("federation: %s to the DC of %s not sent: %s",
			     ntm_ctrl_kind_name(m->kind), c->cc.cfg->federation[idx].domain,
			     ntm_strerror(rc));
	}
	sodium_memzero(m, sizeof(*m));
	return rc;
}

int dc_fedrelay_send_dc(struct dc_ctrl *c, int idx, struct ntm_ctrl_msg *m)
{
	return send_dc(c, idx, m);
}

/* The message carries a relay credential: wiped once sent. */
static int send_node(struct dc_ctrl *c, struct dc_csess *s, struct ntm_ctrl_msg *m)
{
	int rc = dc_rsreg_send(c, s, m);

	sodium_memzero(m, sizeof(*m));
	return rc;
}

/* ---- the pairs table */

static struct fedrelay_pair *pair_find(struct dc_ctrl *c, const uint8_t *node, const uint8_t *peer)
{
	for (size_t i = 0; c->fed != NULL && i < FEDRELAY_PAIRS_MAX; i++) {
		struct fedrelay_pair *p = &c->fed->pairs.p[i];

		if (p->used && sodium_memcmp(p->node.b, node, NTM_KEY_LEN) == 0 &&
		    sodium_memcmp(p->peer.b, peer, NTM_KEY_LEN) == 0) {
			return p;
		}
	}
	return NULL;
}

static void pair_note(struct dc_ctrl *c, int idx, bool here, const struct ntm_key *node,
		      const uint8_t *peer, const char *peer_fqdn, uint32_t session_id)
{
	struct fedrelay_pairs *t;
	struct fedrelay_pair *p;

	if (c->fed == NULL) {
		return;
	}
	t = &c->fed->pairs;
	p = pair_find(c, node->b, peer);
	if (p == NULL) {
		p = &t->p[t->next];
		t->next = (t->next + 1) % FEDRELAY_PAIRS_MAX;
	}
	*p = (struct fedrelay_pair){
		.used = true, .here = here, .idx = idx, .node = *node, .session_id = session_id
	};
	memcpy(p->peer.b, peer, NTM_KEY_LEN);
	snprintf(p->peer_fqdn, sizeof(p->peer_fqdn), "%s", peer_fqdn);
}

/* ---- allocating on our relays */

struct offer_ctx {
	struct dc_ctrl *c;
	int idx;
	struct ntm_key node, peer;
	char peer_fqdn[DC_FQDN_SIZE];
	uint8_t side; /* our node's */
	bool delegate;
	struct ntm_ctrl_addr avoid[NTM_CTRL_RELAY_ADDRS_MAX];
	size_t n_avoid;
};

static void grant_into(struct ntm_ctrl_msg *m, const struct dc_relay_grant *g)
{
	m->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_RELAY_ADDR) |
		    NTM_CTRL_BIT(NTM_CTRL_ATTR_SESSION_ID) |
		    NTM_CTRL_BIT(NTM_CTRL_ATTR_CREDENTIAL) | NTM_CTRL_BIT(NTM_CTRL_ATTR_LIFETIME) |
		    NTM_CTRL_BIT(NTM_CTRL_ATTR_SIDE);
	memcpy(m->relay_addr, g->addrs, sizeof(m->relay_addr));
	m->n_relay_addr = g->n_addrs;
	m->session_id = g->session_id;
	memcpy(m->credential, g->credential, sizeof(m->credential));
	m->lifetime = g->lifetime;
}

/* The pair message (FQDN: the other DC's node; FED_TARGET, PUBKEY: ours) of `kind` into m. */
static void pair_msg(struct ntm_ctrl_msg *m, uint8_t kind, const char *peer_fqdn,
		     const struct dc_csess *t)
{
	ntm_ctrl_msg_init(m, kind, 0);
	m->attrs = NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN) | NTM_CTRL_BIT(NTM_CTRL_ATTR_FED_TARGET) |
		   NTM_CTRL_BIT(NTM_CTRL_ATTR_PUBKEY);
	snprintf(m->fqdn, sizeof(m->fqdn), "%s", peer_fqdn);
	snprintf(m->fed_target, sizeof(m->fed_target), "%s", t->node.fqdn);
	memcpy(m->pubkey, t->pub.b, sizeof(m->pubkey));
}

static void add_avoid(struct ntm_ctrl_msg *m, const struct ntm_ctrl_addr *avoid, size_t n)
{
	if (n > 0) {
		m->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_RELAY_ADDR);
		memcpy(m->relay_addr, avoid, n * sizeof(avoid[0]));
		m->n_relay_addr = n;
	}
}

/* Our node's RELAY_OFFER and the other DC's FED_RELAY; or FED_RELAY_NEED when allowed. */
static void deliver(struct offer_ctx *o, int status, const struct dc_relay_grant *g)
{
	struct dc_csess *t = dc_ctable_by_key(&o->c->table, o->node.b);
	struct ntm_ctrl_msg m;

	if (t == NULL || !t->registered) {
		ntm_log_info("federation: relay for %s: our node went away", o->peer_fqdn);
		return;
	}
	if (status < 0) {
		ntm_log_info("federation: relay for %s - %s: %s%s", t->node.fqdn, o->peer_fqdn,
			     ntm_strerror(status),
			     o->delegate ? "; asking the other domain's DC" : "");
		if (o->delegate) {
			pair_msg(&m, NTM_CTRL_FED_RELAY_NEED, o->peer_fqdn, t);
			add_avoid(&m, o->avoid, o->n_avoid);
			(void)send_dc(o->c, o->idx, &m);
		}
		return;
	}
	ntm_ctrl_msg_init(&m, NTM_CTRL_RELAY_OFFER, 0);
	m.attrs = NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN) | NTM_CTRL_BIT(NTM_CTRL_ATTR_PUBKEY);
	snprintf(m.fqdn, sizeof(m.fqdn), "%s", o->peer_fqdn);
	memcpy(m.pubkey, o->peer.b, sizeof(m.pubkey));
	grant_into(&m, g);
	m.side = o->side;
	if (send_node(o->c, t, &m) < 0) {
		return;
	}
	pair_msg(&m, NTM_CTRL_FED_RELAY, o->peer_fqdn, t);
	grant_into(&m, g);
	m.side = o->side == NTM_RELAY_SIDE_A ? NTM_RELAY_SIDE_B : NTM_RELAY_SIDE_A;
	if (send_dc(o->c, o->idx, &m) == 0) {
		pair_note(o->c, o->idx, true, &t->pub, o->peer.b, o->peer_fqdn, g->session_id);
		o->c->st.relay_offers++;
		ntm_log_info("relay %s: session %08x offered to %s and (through its DC) %s",
			     g->relay, g->session_id, t->node.fqdn, o->peer_fqdn);
	}
}

static void on_allocated(void *arg, int status, const struct dc_relay_grant *g)
{
	struct offer_ctx *o = arg;

	if (status != -ECANCELED) { /* else shutting down: sessions may be gone */
		deliver(o, status, g);
	}
	sodium_memzero(o, sizeof(*o));
	ntm_free(o);
}

bool dc_fedrelay_usable(const struct dc_ctrl *c)
{
	return dc_relays_usable(c->cc.relays, NULL, 0);
}

int dc_fedrelay_offer(struct dc_ctrl *c, int idx, const struct dc_csess *t,
		      const uint8_t peer_key[NTM_KEY_LEN], const char *peer_fqdn, uint8_t side,
		      const struct ntm_ctrl_addr *avoid, size_t n_avoid, bool delegate)
{
	struct offer_ctx *o;
	struct dc_relay_grant g;
	int rc;

	if (c->cc.relays == NULL || (o = ntm_calloc(1, sizeof(*o))) == NULL) {
		return c->cc.relays == NULL ? -ENOENT : -ENOMEM;
	}
	n_avoid = n_avoid < NTM_CTRL_RELAY_ADDRS_MAX ? n_avoid : NTM_CTRL_RELAY_ADDRS_MAX;
	*o = (struct offer_ctx){
		.c = c, .idx = idx, .node = t->pub, .side = side, .delegate = delegate
	};
	memcpy(o->peer.b, peer_key, NTM_KEY_LEN);
	snprintf(o->peer_fqdn, sizeof(o->peer_fqdn), "%s", peer_fqdn);
	if (n_avoid > 0) {
		memcpy(o->avoid, avoid, n_avoid * sizeof(avoid[0]));
		o->n_avoid = n_avoid;
	}
	rc = dc_relay_lease_get(c->cc.relays, &o->node, &o->peer, avoid, n_avoid, &g);
	if (rc == 0) {
		deliver(o, 0, &g); /* the pair's live session again */
		sodium_memzero(&g, sizeof(g));
	} else if (rc != -EINPROGRESS && !dc_relays_usable(c->cc.relays, avoid, n_avoid)) {
		rc = -ENOENT; /* only silent, full or avoided relays: the other domain's then */
	} else if (rc != -EINPROGRESS) {
		rc = dc_relay_allocate_pair(c->cc.relays, DC_RELAY_LIFETIME_DEFAULT, &o->node,
					    &o->peer, avoid, n_avoid, on_allocated, o);
		if (rc == 0) {
			return 0; /* o is on_allocated's now */
		}
	}
	sodium_memzero(o, sizeof(*o));
	ntm_free(o);
	return rc == -EINPROGRESS ? 0 : rc;
}

/* ---- a node's requests */

bool dc_fedrelay_request(struct dc_ctrl *c, struct dc_csess *s, int idx,
			 const struct ntm_ctrl_msg *m, struct ntm_ctrl_msg *a)
{
	struct ntm_ctrl_msg f;

	if (!s->registered) {
		(void)dc_register_error(a, m->req_id, NTM_CTRL_E_NOT_REGISTERED, "register first");
		return true;
	}
	if (m->req_id != 0 && m->req_id == s->relay_req_id) {
		return false; /* a retransmission: forwarded already */
	}
	pair_msg(&f, NTM_CTRL_FED_RELAY_REQUEST, m->fqdn, s);
	add_avoid(&f, m->relay_addr, m->n_relay_addr);
	if (send_dc(c, idx, &f) < 0) {
		c->st.errors_sent++;
		(void)dc_register_error(a, m->req_id, NTM_CTRL_E_RELAY_FULL,
					"the peer's DC is not connected");
		return true;
	}
	s->relay_req_id = m->req_id;
	ntm_log_info("relay request of %s for %s: forwarded to the DC of %s", s->node.fqdn, m->fqdn,
		     c->cc.cfg->federation[idx].domain);
	return false;
}

bool dc_fedrelay_done(struct dc_ctrl *c, struct dc_csess *s, const struct ntm_ctrl_msg *m)
{
	struct fedrelay_pair *p = s->registered ? pair_find(c, s->pub.b, m->pubkey) : NULL;
	struct ntm_ctrl_msg f;

	if (p == NULL || p->here || p->session_id != m->session_id) {
		return false; /* ours (or unknown): dc_rsreg_relay_done */
	}
	ntm_ctrl_msg_init(&f, NTM_CTRL_FED_RELAY_DONE, 0);
	f.attrs = NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN) | NTM_CTRL_BIT(NTM_CTRL_ATTR_PUBKEY) |
		  NTM_CTRL_BIT(NTM_CTRL_ATTR_SESSION_ID);
	snprintf(f.fqdn, sizeof(f.fqdn), "%s", p->peer_fqdn);
	memcpy(f.pubkey, s->pub.b, sizeof(f.pubkey));
	f.session_id = m->session_id;
	(void)send_dc(c, p->idx, &f);
	return true;
}

/* ---- the other DC's messages */

bool dc_fedrelay_kind(uint8_t kind)
{
	return kind >= NTM_CTRL_FED_RELAY && kind <= NTM_CTRL_FED_RELAY_DONE;
}

static bool was_told(const struct dc_csess *s, const uint8_t key[NTM_KEY_LEN])
{
	for (size_t i = 0; i < s->n_told; i++) {
		if (sodium_memcmp(s->told[i].b, key, NTM_KEY_LEN) == 0) {
			return true;
		}
	}
	return false;
}

/* FED_RELAY: the other DC's relay for our node t and its node: offered to t. */
static void on_relay(struct dc_ctrl *c, int idx, struct dc_csess *t, const struct ntm_ctrl_msg *m)
{
	struct ntm_ctrl_msg o = *m;

	o.kind = NTM_CTRL_RELAY_OFFER;
	o.attrs &= ~NTM_CTRL_BIT(NTM_CTRL_ATTR_FED_TARGET);
	o.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_SIDE);
	o.side = ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_SIDE) ? m->side : NTM_RELAY_SIDE_A;
	snprintf(o.fqdn, sizeof(o.fqdn), "%s", m->fed_target);
	o.fed_target[0] = '\0';
	if (send_node(c, t, &o) == 0) {
		pair_note(c, idx, false, &t->pub, m->pubkey, m->fed_target, m->session_id);
		c->st.relay_offers++;
		ntm_log_info("relay of %s: session %08x offered to %s (peer %s) on side %c",
			     c->cc.cfg->federation[idx].domain, m->session_id, t->node.fqdn,
			     m->fed_target,
			     ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_SIDE) && m->side ? 'B' : 'A');
	}
}

/* FED_RELAY_DONE: the other DC's node left a session of ours. */
static bool on_done(struct dc_ctrl *c, int idx, const struct ntm_ctrl_msg *m)
{
	struct dc_csess *t = dc_direction_find_target(c, m->fqdn, uv_now(c->loop));
	struct fedrelay_pair *p = t != NULL ? pair_find(c, t->pub.b, m->pubkey) : NULL;
	struct ntm_key peer;

	if (p == NULL || !p->here || p->idx != idx || p->session_id != m->session_id) {
		return false;
	}
	memcpy(peer.b, m->pubkey, sizeof(peer.b));
	if (dc_relay_lease_done(c->cc.relays, &peer, &t->pub, m->session_id) > 0) {
		ntm_log_info("relay session %08x: both ends left it (%s, %s): released",
			     m->session_id, t->node.fqdn, p->peer_fqdn);
	}
	return true;
}

bool dc_fedrelay_handle(struct dc_ctrl *c, int idx, const struct ntm_ctrl_msg *m)
{
	struct dc_csess *t;
	const char *dom = c->cc.cfg->federation[idx].domain;

	if (m->kind == NTM_CTRL_FED_RELAY_DONE) {
		return on_done(c, idx, m);
	}
	t = dc_direction_find_target(c, m->fqdn, uv_now(c->loop));
	if (t == NULL || dc_fed_domain_of(c->cc.cfg, m->fed_target) != idx ||
	    !was_told(t, m->pubkey)) {
		ntm_log_info("federation: %s from the DC of %s for %s - %s: not a pair we know",
			     ntm_ctrl_kind_name(m->kind), dom, m->fqdn, m->fed_target);
		return false;
	}
	switch (m->kind) {
	case NTM_CTRL_FED_RELAY:
		on_relay(c, idx, t, m);
		return true;
	case NTM_CTRL_FED_RELAY_NEED:
		/* The other DC has no usable relay: ours, our node on side A; never NEED back. */
		if (dc_fedrelay_offer(c, idx, t, m->pubkey, m->fed_target, NTM_RELAY_SIDE_A,
				      m->relay_addr, m->n_relay_addr, false) < 0) {
			ntm_log_warn("federation: no usable relay in %s nor in %s for %s - %s", dom,
				     c->cc.cfg->domain, t->node.fqdn, m->fed_target);
		}
		return true;
	case NTM_CTRL_FED_RELAY_REQUEST:
		/* Its node asks (late fallback): ours first, its DC's relays second. */
		ntm_log_info("relay request of %s (DC of %s) for %s", m->fed_target, dom,
			     t->node.fqdn);
		if (dc_fedrelay_offer(c, idx, t, m->pubkey, m->fed_target, NTM_RELAY_SIDE_B,
				      m->relay_addr, m->n_relay_addr, true) == -ENOENT) {
			struct ntm_ctrl_msg n;

			ntm_log_info("federation: no usable relay here for %s - %s (%zu named "
				     "silent): FED_RELAY_NEED to the DC of %s",
				     t->node.fqdn, m->fed_target, m->n_relay_addr, dom);
			pair_msg(&n, NTM_CTRL_FED_RELAY_NEED, m->fed_target, t);
			add_avoid(&n, m->relay_addr, m->n_relay_addr);
			(void)send_dc(c, idx, &n);
		}
		return true;
	default:
		return false;
	}
}
