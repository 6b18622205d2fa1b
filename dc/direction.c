/* SPDX-License-Identifier: MIT */
/*
 * Directed tunnel construction at the DC (DESIGN "Flows" 2): a registered
 * node asks for the way to a name of the domain; the DC answers it with the
 * target's key, VIPs, outside address and candidates, and sends the same
 * about the requester to the target over the target's own session
 * (unsolicited, request id 0), so that both ends add each other as peers.
 *
 * Authorization: the requester must hold a registered session and its key
 * must still be enrolled (a revoked key is refused even while its session
 * lives). Policy of who may reach whom is "everyone in the domain" for now.
 * The target must be enrolled and online: registered on a live session that
 * the DC can seal for, heard from within DC_DIR_ONLINE_KEEPALIVES keep-alive
 * intervals; otherwise the requester gets ERROR/UNKNOWN_NAME.
 *
 * Idempotency: a retransmitted request (same request id and target as the
 * last one on the session) gets the same answer, but the target is told
 * only once. A new request (new id) tells the target again, which is how a
 * lost unsolicited DIRECTION is repaired.
 */
#include "ctrl_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dc/fqdn.h"
#include "dc/path.h"

enum {
	DC_DIR_ONLINE_KEEPALIVES = 3,
};

/* The DIRECTION that describes `peer` (its session) to someone else. */
int dc_direction_fill(const struct dc_csess *peer, uint32_t req_id, struct ntm_ctrl_msg *d)
{
	ntm_ctrl_msg_init(d, NTM_CTRL_DIRECTION, req_id);
	d->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN) | NTM_CTRL_BIT(NTM_CTRL_ATTR_PUBKEY) |
		    NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP4) | NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP6) |
		    NTM_CTRL_BIT(NTM_CTRL_ATTR_OUTSIDE);
	snprintf(d->fqdn, sizeof(d->fqdn), "%s", peer->node.fqdn);
	memcpy(d->pubkey, peer->pub.b, sizeof(d->pubkey));
	if (inet_pton(AF_INET, peer->node.vip4, d->vip4) != 1 ||
	    inet_pton(AF_INET6, peer->node.vip6, d->vip6) != 1 ||
	    ntm_ctrl_addr_from(&d->outside, &peer->from) < 0) {
		return -EINVAL;
	}
	memcpy(d->cand, peer->cand, peer->n_cand * sizeof(d->cand[0]));
	d->n_cand = peer->n_cand;
	if (d->n_cand > 0) {
		d->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_CANDIDATE);
	}
	return 0;
}

bool dc_direction_is_online(const struct dc_ctrl *c, const struct dc_csess *s, uint64_t now_ms)
{
	uint64_t window = (uint64_t)c->cc.cfg->keepalive * 1000 * DC_DIR_ONLINE_KEEPALIVES;

	return s->registered && now_ms - s->last_rx_ms <= window &&
	       ntm_ctrl_session_is_established(s->cs, now_ms);
}

struct dc_csess *dc_direction_find_target(struct dc_ctrl *c, const char *name, uint64_t now_ms)
{
	char norm[DC_FQDN_SIZE];
	struct dc_node node;
	struct dc_csess *t;

	if (dc_fqdn_normalize(name, 0, norm, NULL, 0) < 0 ||
	    !dc_fqdn_is_under(norm, c->cc.cfg->domain) ||
	    dc_store_node_by_fqdn(c->cc.store, norm, &node) < 0) {
		return NULL;
	}
	t = dc_ctable_by_key(&c->table, node.pubkey.b);
	return t != NULL && dc_direction_is_online(c, t, now_ms) ? t : NULL;
}

/* The live session of the node that holds `vip` (4 or 16 bytes per family), or NULL. */
static struct dc_csess *find_target_vip(struct dc_ctrl *c, uint8_t family, const uint8_t *vip,
					uint64_t now_ms)
{
	char text[INET6_ADDRSTRLEN];
	int af = family == 4 ? AF_INET : AF_INET6;

	if (inet_ntop(af, vip, text, sizeof(text)) == NULL) {
		return NULL;
	}
	/* Only online nodes can be targets, and those all have a session: scan the table. */
	for (size_t i = 0; i < c->table.max; i++) {
		struct dc_csess *t = c->table.slots[i];

		if (t != NULL && t->registered &&
		    strcmp(af == AF_INET ? t->node.vip4 : t->node.vip6, text) == 0) {
			return dc_direction_is_online(c, t, now_ms) ? t : NULL;
		}
	}
	return NULL;
}

void dc_direction_note_told(struct dc_csess *s, const struct ntm_key *peer_key)
{
	for (size_t i = 0; i < s->n_told; i++) {
		if (ntm_key_equal(&s->told[i], peer_key)) {
			return;
		}
	}
	s->told[s->told_next] = *peer_key;
	s->told_next = (s->told_next + 1) % DC_CTRL_TOLD_MAX;
	if (s->n_told < DC_CTRL_TOLD_MAX) {
		s->n_told++;
	}
}

/* The pair's path (dc/path.h) from what the DC knows of both sessions. */
static struct dc_path_choice choose(const struct dc_csess *s, const struct dc_csess *t)
{
	const struct dc_path_end a = { dc_register_nat(s), s->families, s->from };
	const struct dc_path_end b = { dc_register_nat(t), t->families, t->from };

	return dc_path_choose(&a, &b);
}

/* The path the DC chose, the receiver's (`self`) and the peer's NAT class, into d. */
static void add_path(struct ntm_ctrl_msg *d, const struct dc_csess *self,
		     const struct dc_csess *peer, uint8_t path)
{
	d->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_PATH) | NTM_CTRL_BIT(NTM_CTRL_ATTR_NAT) |
		    NTM_CTRL_BIT(NTM_CTRL_ATTR_NAT_PEER);
	d->path = path;
	d->nat = dc_register_nat(self);
	d->nat_peer = dc_register_nat(peer);
}

/* Tells the target about the requester (`moved`: it moved). False when that cannot be sent. */
static bool tell_target(struct dc_ctrl *c, struct dc_csess *s, struct dc_csess *t, uint8_t path,
			bool moved, uint64_t now_ms)
{
	uint8_t plain[NTM_CTRL_PLAIN_MAX];
	struct ntm_ctrl_msg d;
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, plain, sizeof(plain));
	if (dc_direction_fill(s, 0, &d) < 0) {
		return false;
	}
	add_path(&d, t, s, path);
	if (moved) {
		d.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_MOVED);
	}
	if (ntm_ctrl_msg_encode(&w, &d) < 0) {
		return false;
	}
	return dc_ctrl_send(c, t, w.data, w.len, now_ms) == 0;
}

void dc_direction_handle(struct dc_ctrl *c, struct dc_csess *s, const struct ntm_ctrl_msg *m,
			 struct ntm_ctrl_msg *a)
{
	uint64_t now_ms = uv_now(c->loop);
	struct dc_node self;
	struct dc_path_choice pc;
	struct dc_csess *t;
	bool repeat = m->req_id != 0 && m->req_id == s->dir_req_id;
	bool moved = ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_MOVED);

	if (!s->registered || dc_store_node_by_key(c->cc.store, &s->pub, &self) < 0) {
		c->st.errors_sent++;
		c->st.not_registered++;
		(void)dc_register_error(a, m->req_id, NTM_CTRL_E_NOT_REGISTERED, "register first");
		return;
	}
	t = ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_TARGET_VIP)
		    ? find_target_vip(c, m->target_family, m->target_vip, now_ms)
		    : dc_direction_find_target(c, m->fqdn, now_ms);
	if (t == NULL || t == s || dc_direction_fill(t, m->req_id, a) < 0) {
		c->st.errors_sent++;
		(void)dc_register_error(a, m->req_id, NTM_CTRL_E_UNKNOWN_NAME,
					"no such node online");
		return;
	}
	pc = choose(s, t);
	add_path(a, s, t, pc.path);
	if (moved) {
		/* DESIGN "Flows" 5: both ends start the path anew (a relay bridges meanwhile). */
		a->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_MOVED);
	}
	if (repeat && memcmp(s->dir_target.b, t->pub.b, NTM_KEY_LEN) == 0) {
		return; /* answered before: same answer, the target was told already */
	}
	if (!tell_target(c, s, t, pc.path, moved, now_ms)) {
		c->st.errors_sent++;
		(void)dc_register_error(a, m->req_id, NTM_CTRL_E_UNKNOWN_NAME,
					"the node cannot be reached");
		return;
	}
	s->dir_req_id = m->req_id;
	s->dir_target = t->pub;
	dc_direction_note_told(s, &t->pub);
	dc_direction_note_told(t, &s->pub);
	c->st.directions++;
	ntm_log_info("direction: %s -> %s: %s (%s, %s)%s%s", s->node.fqdn, t->node.fqdn,
		     ntm_ctrl_path_name(pc.path), ntm_ctrl_nat_name(dc_register_nat(s)),
		     ntm_ctrl_nat_name(dc_register_nat(t)), pc.relay ? ", relay in parallel" : "",
		     moved ? " (re-direction: the requester moved)" : "");
	if (pc.relay && dc_rsreg_offer_pair(c, s, t) < 0) {
		ntm_log_info("direction: %s -> %s: no relay to fall back on", s->node.fqdn,
			     t->node.fqdn);
	}
}
