/* SPDX-License-Identifier: MIT */
/*
 * Relay Servers on the DC's control channel (DESIGN "Flows" 4): a session
 * whose key is enrolled as a relay (`enroll --relay`) may register
 * (RS_REGISTER: its relay addresses and load) and report its load
 * (RS_LOAD); the DC sends it RELAY_ALLOC (dc/relays.c) and takes the
 * answers here. A node's RELAY_REQUEST allocates a session on the least
 * loaded relay and offers it to both ends.
 *
 * A node key can never reach the relay messages (and a relay key never the
 * node's): which handler runs is decided by the key the handshake proved.
 *
 * RELAY_REQUEST idempotency: the request id of the last request taken on a
 * session is kept, and a retransmission of it is ignored (the offer is on
 * its way, or was lost: then the node asks again with a new id and gets the
 * pair's session again). A pair has one session (dc/relays.h): a second
 * DIRECTION or request re-offers it, unless the request names its relay as
 * silent (then a new one replaces it and the old one is released).
 */
#include "ctrl_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/relay.h"

int dc_rsreg_send(void *arg, void *sess, const struct ntm_ctrl_msg *m)
{
	struct dc_ctrl *c = arg;
	uint8_t plain[NTM_CTRL_PLAIN_MAX];
	struct ntm_wbuf w;
	int rc;

	ntm_wbuf_init(&w, plain, sizeof(plain));
	rc = ntm_ctrl_msg_encode(&w, m);
	if (rc == 0) {
		rc = dc_ctrl_send(c, sess, plain, w.len, uv_now(c->loop));
	}
	sodium_memzero(plain, sizeof(plain));
	return rc;
}

bool dc_rsreg_handle(struct dc_ctrl *c, struct dc_csess *s, const struct ntm_ctrl_msg *m,
		     struct ntm_ctrl_msg *a)
{
	switch (m->kind) {
	case NTM_CTRL_RS_REGISTER:
		if (dc_relays_register(c->cc.relays, s, s->relay_name, &s->pub, m) < 0) {
			(void)dc_register_error(a, m->req_id, NTM_CTRL_E_INTERNAL,
						"too many relays");
			return true;
		}
		s->registered = true;
		ntm_ctrl_msg_init(a, NTM_CTRL_RS_REGISTER_OK, m->req_id);
		a->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_KEEPALIVE);
		a->keepalive = DC_RELAY_REPORT_S;
		return true;
	case NTM_CTRL_RS_LOAD:
		if (!s->registered || dc_relays_report(c->cc.relays, s, &m->load) < 0) {
			(void)dc_register_error(a, m->req_id, NTM_CTRL_E_NOT_REGISTERED,
						"register first");
			return true;
		}
		ntm_ctrl_msg_init(a, NTM_CTRL_RS_LOAD_ACK, m->req_id);
		return true;
	case NTM_CTRL_RELAY_ALLOC_OK:
	case NTM_CTRL_RELAY_RELEASE_OK:
	case NTM_CTRL_ERROR:
		dc_relays_answer(c->cc.relays, s, m);
		return false;
	default:
		(void)dc_register_error(a, m->req_id, NTM_CTRL_E_UNSUPPORTED,
					"not a request for a DC");
		return true;
	}
}

/* What an allocation started by a RELAY_REQUEST must remember: keys, not sessions. */
struct offer_ctx {
	struct dc_ctrl *c;
	struct ntm_key from, to;
	uint32_t req_id;
};

/*
 * The side of `self` in the pair's session: A for the smaller key, whoever
 * asked. The pair's session is offered again when the other end asks
 * (dc/relays.h); sides by request order would swap both ends' bindings on
 * the RS under a working tunnel, and lose what crossed it meanwhile.
 */
static uint8_t side_of(const struct ntm_key *self, const struct ntm_key *peer)
{
	return memcmp(self->b, peer->b, sizeof(self->b)) <= 0 ? NTM_RELAY_SIDE_A : NTM_RELAY_SIDE_B;
}

/* Offers the grant to the session of `self`, naming `peer` (req_id: the requester's). */
static bool offer(struct offer_ctx *o, const struct ntm_key *self, const struct ntm_key *peer,
		  uint32_t req_id, const struct dc_relay_grant *g)
{
	uint8_t side = side_of(self, peer);
	struct dc_csess *s = dc_ctable_by_key(&o->c->table, self->b);
	struct dc_csess *p = dc_ctable_by_key(&o->c->table, peer->b);
	struct ntm_ctrl_msg m;
	int rc;

	if (s == NULL || p == NULL || !s->registered || !p->registered) {
		return false;
	}
	ntm_ctrl_msg_init(&m, NTM_CTRL_RELAY_OFFER, req_id);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN) | NTM_CTRL_BIT(NTM_CTRL_ATTR_PUBKEY) |
		   NTM_CTRL_BIT(NTM_CTRL_ATTR_RELAY_ADDR) | NTM_CTRL_BIT(NTM_CTRL_ATTR_SESSION_ID) |
		   NTM_CTRL_BIT(NTM_CTRL_ATTR_CREDENTIAL) | NTM_CTRL_BIT(NTM_CTRL_ATTR_LIFETIME) |
		   NTM_CTRL_BIT(NTM_CTRL_ATTR_SIDE);
	snprintf(m.fqdn, sizeof(m.fqdn), "%s", p->node.fqdn);
	memcpy(m.pubkey, peer->b, sizeof(m.pubkey));
	memcpy(m.relay_addr, g->addrs, sizeof(m.relay_addr));
	m.n_relay_addr = g->n_addrs;
	m.session_id = g->session_id;
	memcpy(m.credential, g->credential, sizeof(m.credential));
	m.lifetime = g->lifetime;
	m.side = side;
	rc = dc_rsreg_send(o->c, s, &m);
	sodium_memzero(&m, sizeof(m));
	return rc == 0;
}

/* Offers the grant to both ends, or tells the requester why there is none. */
static void deliver(struct offer_ctx *o, int status, const struct dc_relay_grant *g)
{
	struct dc_csess *s;
	struct ntm_ctrl_msg a;

	if (status == 0 && offer(o, &o->from, &o->to, o->req_id, g) &&
	    offer(o, &o->to, &o->from, 0, g)) {
		o->c->st.relay_offers++;
		ntm_log_info("relay %s: session %08x offered to both ends", g->relay,
			     g->session_id);
	} else if (o->req_id == 0) {
		ntm_log_info("relay for a directed pair: %s",
			     status < 0 ? ntm_strerror(status) : "a node went away");
	} else if ((s = dc_ctable_by_key(&o->c->table, o->from.b)) != NULL) {
		(void)dc_register_error(&a, o->req_id, NTM_CTRL_E_RELAY_FULL,
					status < 0 ? "no relay could allocate a session"
						   : "a node went away");
		o->c->st.errors_sent++;
		(void)!dc_rsreg_send(o->c, s, &a);
	}
}

static void on_allocated(void *arg, int status, const struct dc_relay_grant *g)
{
	struct offer_ctx *o = arg;

	if (status != -ECANCELED) { /* else shutting down: the DC's sessions may be gone */
		deliver(o, status, g);
	}
	ntm_free(o);
}

/*
 * Offers from-to a session, avoiding the relays of `req` (a RELAY_REQUEST
 * naming silent relays; NULL: none): the pair's live one again (one
 * session per pair, dc/relays.h), else a new one that on_allocated offers
 * (nothing when one is being allocated for the pair: that offer reaches
 * both ends). 0 or a negative errno.
 */
static int allocate_for(struct dc_ctrl *c, const struct ntm_key *from, const struct ntm_key *to,
			uint32_t req_id, const struct ntm_ctrl_msg *req)
{
	const struct ntm_ctrl_addr *avoid = req != NULL ? req->relay_addr : NULL;
	size_t n_avoid = req != NULL ? req->n_relay_addr : 0;
	struct offer_ctx *o = ntm_calloc(1, sizeof(*o));
	struct dc_relay_grant g;
	int rc;

	if (o == NULL) {
		return -ENOMEM;
	}
	*o = (struct offer_ctx){ .c = c, .from = *from, .to = *to, .req_id = req_id };
	rc = dc_relay_lease_get(c->cc.relays, from, to, avoid, n_avoid, &g);
	if (rc == 0) {
		ntm_log_info("relay %s: session %08x offered again", g.relay, g.session_id);
		deliver(o, 0, &g);
		sodium_memzero(&g, sizeof(g));
	} else if (rc != -EINPROGRESS) {
		rc = dc_relay_allocate_pair(c->cc.relays, DC_RELAY_LIFETIME_DEFAULT, from, to,
					    avoid, n_avoid, on_allocated, o);
		if (rc == 0) {
			return 0; /* o is on_allocated's now */
		}
	}
	ntm_free(o);
	return rc == -EINPROGRESS ? 0 : rc;
}

int dc_rsreg_offer_pair(struct dc_ctrl *c, const struct dc_csess *a, const struct dc_csess *b)
{
	return allocate_for(c, &a->pub, &b->pub, 0, NULL);
}

bool dc_rsreg_relay_request(struct dc_ctrl *c, struct dc_csess *s, const struct ntm_ctrl_msg *m,
			    struct ntm_ctrl_msg *a)
{
	struct dc_csess *t;
	int rc;

	if (!s->registered) {
		(void)dc_register_error(a, m->req_id, NTM_CTRL_E_NOT_REGISTERED, "register first");
		return true;
	}
	if (m->req_id != 0 && m->req_id == s->relay_req_id) {
		return false; /* a retransmission: the offer is on its way */
	}
	t = dc_direction_find_target(c, m->fqdn, uv_now(c->loop));
	if (t == NULL || t == s) {
		(void)dc_register_error(a, m->req_id, NTM_CTRL_E_UNKNOWN_NAME,
					"no such node online");
		return true;
	}
	rc = allocate_for(c, &s->pub, &t->pub, m->req_id, m);
	if (rc == -ENOMEM) {
		(void)dc_register_error(a, m->req_id, NTM_CTRL_E_INTERNAL, "out of memory");
		return true;
	}
	if (rc < 0) {
		(void)dc_register_error(a, m->req_id, NTM_CTRL_E_RELAY_FULL, "no relay registered");
		return true;
	}
	s->relay_req_id = m->req_id;
	return false;
}

void dc_rsreg_relay_done(struct dc_ctrl *c, struct dc_csess *s, const struct ntm_ctrl_msg *m)
{
	struct ntm_key peer;
	int rc;

	if (!s->registered) {
		return;
	}
	memcpy(peer.b, m->pubkey, sizeof(peer.b));
	rc = dc_relay_lease_done(c->cc.relays, &s->pub, &peer, m->session_id);
	ntm_log_debug("relay session %08x: %s left it%s", m->session_id, s->node.fqdn,
		      rc > 0	? ", released"
		      : rc == 0 ? " (the peer still holds it)"
				: " (not the pair's session)");
}
