/* SPDX-License-Identifier: MIT */
/*
 * The callee's side of federation (dc/federation.h): another domain's DC
 * opened a control session with the pinned key of one of our [Federation]
 * sections. It says FED_HELLO (its domain and pools) first; then each
 * FED_QUERY asks for one of our nodes on behalf of one of its nodes. The
 * query is served when the requester's name lies under the caller's domain,
 * an Allow rule of that section lets it reach the target, and the target is
 * online; we then direct the target toward the requester (DIRECTION,
 * request id 0, over the target's own session) and answer FED_ANSWER.
 */
#include "ctrl_internal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/relay.h"
#include "dc/federation.h"
#include "dc/fqdn.h"
#include "dc/path.h"

static const struct dc_federation *section(const struct dc_ctrl *c, const struct dc_csess *s)
{
	return &c->cc.cfg->federation[s->fed - 1];
}

static bool refuse(struct dc_ctrl *c, struct ntm_ctrl_msg *a, uint32_t req_id,
		   enum ntm_ctrl_error code, const char *text)
{
	c->st.errors_sent++;
	(void)dc_register_error(a, req_id, code, text);
	return true;
}

/* The first of our pools that overlaps one the caller announced, into why; false: none. */
static bool pools_overlap(const struct dc_ctrl *c, const struct ntm_ctrl_msg *m, char *why,
			  size_t cap)
{
	const struct ntm_prefix *ours[2] = { &c->cc.pool4->prefix, &c->cc.pool6->prefix };
	const struct ntm_prefix *theirs[2] = { &m->pool4, &m->pool6 };
	char a[NTM_PREFIX_STRLEN], b[NTM_PREFIX_STRLEN];

	for (size_t i = 0; i < 2; i++) {
		if (dc_fed_prefix_overlap(ours[i], theirs[i])) {
			if (ntm_prefix_format(theirs[i], a, sizeof(a)) < 0 ||
			    ntm_prefix_format(ours[i], b, sizeof(b)) < 0) {
				a[0] = b[0] = '\0';
			}
			snprintf(why, cap, "VIP pool %s of %.30s overlaps pool %s of %.30s", a,
				 m->fed_domain, b, c->cc.cfg->domain);
			return true;
		}
	}
	return false;
}

static bool on_hello(struct dc_ctrl *c, struct dc_csess *s, const struct ntm_ctrl_msg *m,
		     struct ntm_ctrl_msg *a)
{
	const struct dc_federation *f = section(c, s);
	char why[NTM_CTRL_ERROR_TEXT_MAX + 1];

	if (strcmp(m->fed_domain, f->domain) != 0) {
		ntm_log_warn("federation: the DC of %s calls itself %s: refused", f->domain,
			     m->fed_domain);
		return refuse(c, a, m->req_id, NTM_CTRL_E_FED_NOT_ALLOWED,
			      "not the domain of this key");
	}
	if (pools_overlap(c, m, why, sizeof(why))) {
		ntm_log_err("federation: %s refused: %s", f->domain, why);
		return refuse(c, a, m->req_id, NTM_CTRL_E_FED_POOL_OVERLAP, why);
	}
	if (!s->fed_hello) {
		ntm_log_info("federation: the DC of %s connected", f->domain);
	}
	s->fed_hello = true;
	s->fed_pool4 = m->pool4;
	s->fed_pool6 = m->pool6;
	ntm_ctrl_msg_init(a, NTM_CTRL_FED_HELLO_OK, m->req_id);
	a->attrs = NTM_CTRL_BIT(NTM_CTRL_ATTR_FED_DOMAIN) | NTM_CTRL_BIT(NTM_CTRL_ATTR_POOL4) |
		   NTM_CTRL_BIT(NTM_CTRL_ATTR_POOL6);
	snprintf(a->fed_domain, sizeof(a->fed_domain), "%s", c->cc.cfg->domain);
	a->pool4 = c->cc.pool4->prefix;
	a->pool6 = c->cc.pool6->prefix;
	return true;
}

/* The requester, as the query describes it, toward our node t (DIRECTION, request id 0). */
static bool tell_target(struct dc_ctrl *c, struct dc_csess *t, const struct ntm_ctrl_msg *m,
			uint8_t path, uint64_t now_ms)
{
	uint8_t plain[NTM_CTRL_PLAIN_MAX];
	struct ntm_ctrl_msg d;
	struct ntm_wbuf w;

	ntm_ctrl_msg_init(&d, NTM_CTRL_DIRECTION, 0);
	d.attrs = m->attrs &
		  (NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN) | NTM_CTRL_BIT(NTM_CTRL_ATTR_PUBKEY) |
		   NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP4) | NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP6) |
		   NTM_CTRL_BIT(NTM_CTRL_ATTR_OUTSIDE) | NTM_CTRL_BIT(NTM_CTRL_ATTR_CANDIDATE));
	d.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_PATH) | NTM_CTRL_BIT(NTM_CTRL_ATTR_NAT) |
		   NTM_CTRL_BIT(NTM_CTRL_ATTR_NAT_PEER);
	memcpy(d.fqdn, m->fqdn, sizeof(d.fqdn));
	memcpy(d.pubkey, m->pubkey, sizeof(d.pubkey));
	memcpy(d.vip4, m->vip4, sizeof(d.vip4));
	memcpy(d.vip6, m->vip6, sizeof(d.vip6));
	d.outside = m->outside;
	memcpy(d.cand, m->cand, sizeof(d.cand));
	d.n_cand = m->n_cand;
	d.path = path;
	d.nat = dc_register_nat(t);
	d.nat_peer = m->nat;
	ntm_wbuf_init(&w, plain, sizeof(plain));
	return ntm_ctrl_msg_encode(&w, &d) == 0 && dc_ctrl_send(c, t, w.data, w.len, now_ms) == 0;
}

/* The path for the pair (dc/path.h). */
static struct dc_path_choice choose(const struct dc_csess *t, const struct ntm_ctrl_msg *m)
{
	struct dc_path_end a = { .nat = m->nat, .families = m->families };
	const struct dc_path_end b = { dc_register_nat(t), t->families, t->from };
	struct dc_path_choice pc;

	if (ntm_ctrl_addr_to(&a.outside, &m->outside) < 0 || a.families == 0) {
		a.families = NTM_CTRL_FAMILY_V4 | NTM_CTRL_FAMILY_V6;
	}
	pc = dc_path_choose(&a, &b);
	return pc;
}

/* What a relay allocation for a federated pair must remember: keys and names, not sessions. */
struct fed_offer {
	struct dc_ctrl *c;
	struct ntm_key dc;     /* the calling DC's session */
	struct ntm_key target; /* our node */
	struct ntm_key requester;
	char requester_fqdn[DC_FQDN_SIZE];
};

static void grant_into(struct ntm_ctrl_msg *m, const struct dc_relay_grant *g)
{
	m->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_RELAY_ADDR) |
		    NTM_CTRL_BIT(NTM_CTRL_ATTR_SESSION_ID) |
		    NTM_CTRL_BIT(NTM_CTRL_ATTR_CREDENTIAL) | NTM_CTRL_BIT(NTM_CTRL_ATTR_LIFETIME);
	memcpy(m->relay_addr, g->addrs, sizeof(m->relay_addr));
	m->n_relay_addr = g->n_addrs;
	m->session_id = g->session_id;
	memcpy(m->credential, g->credential, sizeof(m->credential));
	m->lifetime = g->lifetime;
}

static bool seal_send(struct dc_ctrl *c, struct dc_csess *s, struct ntm_ctrl_msg *m)
{
	uint8_t plain[NTM_CTRL_PLAIN_MAX];
	struct ntm_wbuf w;
	bool ok;

	ntm_wbuf_init(&w, plain, sizeof(plain));
	ok = ntm_ctrl_msg_encode(&w, m) == 0 &&
	     dc_ctrl_send(c, s, w.data, w.len, uv_now(c->loop)) == 0;
	sodium_memzero(m, sizeof(*m));
	sodium_memzero(plain, sizeof(plain));
	return ok;
}

/* Side B to our node (naming the requester), FED_RELAY to the calling DC (side A). */
static void on_allocated(void *arg, int status, const struct dc_relay_grant *g)
{
	struct fed_offer *o = arg;
	struct dc_csess *dc = status == 0 ? dc_ctable_by_key(&o->c->table, o->dc.b) : NULL;
	struct dc_csess *t = status == 0 ? dc_ctable_by_key(&o->c->table, o->target.b) : NULL;
	struct ntm_ctrl_msg m;

	if (dc != NULL && t != NULL && t->registered) {
		ntm_ctrl_msg_init(&m, NTM_CTRL_RELAY_OFFER, 0);
		m.attrs = NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN) | NTM_CTRL_BIT(NTM_CTRL_ATTR_PUBKEY) |
			  NTM_CTRL_BIT(NTM_CTRL_ATTR_SIDE);
		snprintf(m.fqdn, sizeof(m.fqdn), "%s", o->requester_fqdn);
		memcpy(m.pubkey, o->requester.b, sizeof(m.pubkey));
		m.side = NTM_RELAY_SIDE_B;
		grant_into(&m, g);
		if (seal_send(o->c, t, &m)) {
			ntm_ctrl_msg_init(&m, NTM_CTRL_FED_RELAY, 0);
			m.attrs = NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN) |
				  NTM_CTRL_BIT(NTM_CTRL_ATTR_FED_TARGET) |
				  NTM_CTRL_BIT(NTM_CTRL_ATTR_PUBKEY);
			snprintf(m.fqdn, sizeof(m.fqdn), "%s", o->requester_fqdn);
			snprintf(m.fed_target, sizeof(m.fed_target), "%s", t->node.fqdn);
			memcpy(m.pubkey, t->pub.b, sizeof(m.pubkey));
			grant_into(&m, g);
			if (seal_send(o->c, dc, &m)) {
				o->c->st.relay_offers++;
				ntm_log_info(
					"relay %s: session %08x offered to %s and (through its "
					"DC) %s",
					g->relay, g->session_id, t->node.fqdn, o->requester_fqdn);
			}
		}
	} else if (status != -ECANCELED) {
		ntm_log_info("federation: relay for %s: %s", o->requester_fqdn,
			     status < 0 ? ntm_strerror(status) : "a party went away");
	}
	sodium_memzero(o, sizeof(*o));
	ntm_free(o);
}

/* A relay session on one of our relays for the pair; 0 or a negative errno (none registered). */
static int offer_relay(struct dc_ctrl *c, struct dc_csess *s, struct dc_csess *t,
		       const struct ntm_ctrl_msg *m, const char *from)
{
	struct fed_offer *o;
	int rc;

	if (c->cc.relays == NULL || (o = ntm_calloc(1, sizeof(*o))) == NULL) {
		return -ENOMEM;
	}
	*o = (struct fed_offer){ .c = c, .dc = s->pub, .target = t->pub };
	memcpy(o->requester.b, m->pubkey, NTM_KEY_LEN);
	snprintf(o->requester_fqdn, sizeof(o->requester_fqdn), "%s", from);
	rc = dc_relay_allocate(c->cc.relays, DC_RELAY_LIFETIME_DEFAULT, on_allocated, o);
	if (rc < 0) {
		ntm_free(o);
	}
	return rc;
}

static bool on_query(struct dc_ctrl *c, struct dc_csess *s, const struct ntm_ctrl_msg *m,
		     struct ntm_ctrl_msg *a)
{
	const struct dc_federation *f = section(c, s);
	uint64_t now_ms = uv_now(c->loop);
	char from[DC_FQDN_SIZE], to[DC_FQDN_SIZE];
	struct dc_csess *t;
	struct dc_path_choice pc;

	if (!s->fed_hello) {
		return refuse(c, a, m->req_id, NTM_CTRL_E_NOT_REGISTERED, "FED_HELLO first");
	}
	if (dc_fqdn_normalize(m->fqdn, 0, from, NULL, 0) < 0 ||
	    !dc_fqdn_is_under(from, f->domain)) {
		return refuse(c, a, m->req_id, NTM_CTRL_E_FED_NOT_ALLOWED,
			      "the requester is not of your domain");
	}
	if (!ntm_prefix_contains(&s->fed_pool4, AF_INET, m->vip4) ||
	    !ntm_prefix_contains(&s->fed_pool6, AF_INET6, m->vip6)) {
		ntm_log_warn("federation: %s: the DC of %s gives VIPs outside its pools: refused",
			     from, f->domain);
		return refuse(c, a, m->req_id, NTM_CTRL_E_FED_NOT_ALLOWED,
			      "VIPs outside your announced pools");
	}
	t = dc_direction_find_target(c, m->fed_target, now_ms);
	if (t == NULL) {
		return refuse(c, a, m->req_id, NTM_CTRL_E_UNKNOWN_NAME, "no such node online");
	}
	if (dc_fqdn_normalize(t->node.fqdn, 0, to, NULL, 0) < 0 ||
	    !dc_fedpolicy_allows(f->allow, f->n_allow, from, to)) {
		ntm_log_warn("federation: %s -> %s denied by policy ([Federation] %s Allow)", from,
			     to, f->domain);
		return refuse(c, a, m->req_id, NTM_CTRL_E_FED_DENIED, "denied by policy");
	}
	pc = choose(t, m);
	if (dc_direction_fill(t, m->req_id, a) < 0) {
		return refuse(c, a, m->req_id, NTM_CTRL_E_UNKNOWN_NAME, "no such node online");
	}
	a->kind = NTM_CTRL_FED_ANSWER;
	a->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_PATH) | NTM_CTRL_BIT(NTM_CTRL_ATTR_NAT) |
		    NTM_CTRL_BIT(NTM_CTRL_ATTR_FAMILIES);
	a->path = pc.path;
	a->nat = dc_register_nat(t);
	a->families = t->families != 0 ? t->families : NTM_CTRL_FAMILY_V4 | NTM_CTRL_FAMILY_V6;
	if (m->req_id == s->dir_req_id) {
		return true; /* a retransmission: our node was told already */
	}
	if (pc.relay && offer_relay(c, s, t, m, from) < 0 && pc.path == NTM_CTRL_PATH_RELAY) {
		/* No relay of ours: punch, best effort (the caller's relays are not ours to use).
		 */
		pc.path = NTM_CTRL_PATH_PUNCHED;
		pc.relay = false;
		a->path = pc.path;
		ntm_log_info("federation: %s -> %s needs a relay and none is registered here", from,
			     to);
	}
	if (!tell_target(c, t, m, pc.path, now_ms)) {
		return refuse(c, a, m->req_id, NTM_CTRL_E_UNKNOWN_NAME,
			      "the node cannot be reached");
	}
	s->dir_req_id = m->req_id;
	c->st.directions++;
	ntm_log_info("direction: %s -> %s (for the DC of %s): %s%s", from, to, f->domain,
		     ntm_ctrl_path_name(pc.path), pc.relay ? ", relay in parallel" : "");
	return true;
}

bool dc_fedserver_handle(struct dc_ctrl *c, struct dc_csess *s, const struct ntm_ctrl_msg *m,
			 struct ntm_ctrl_msg *a)
{
	switch (m->kind) {
	case NTM_CTRL_FED_HELLO:
		return on_hello(c, s, m, a);
	case NTM_CTRL_FED_QUERY:
		return on_query(c, s, m, a);
	case NTM_CTRL_ERROR:
		return false;
	default:
		c->st.unsupported++;
		return refuse(c, a, m->req_id, NTM_CTRL_E_UNSUPPORTED, "not a DC<->DC request");
	}
}
