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
#include "dc/fedrelay.h"
#include "dc/fedrevoke.h"
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

/*
 * No usable relay here for a pair that wants one (dc/fedrelay.h): the
 * caller's relays then (FED_NO_RELAY), the relay path kept only when the
 * caller said it has one; else a punch, best effort.
 */
static void fed_no_relay(struct ntm_ctrl_msg *a, const struct ntm_ctrl_msg *m, const char *from,
			 const char *to)
{
	a->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FED_NO_RELAY);
	if (a->path == NTM_CTRL_PATH_RELAY && !ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_FED_HAS_RELAY)) {
		a->path = NTM_CTRL_PATH_PUNCHED;
	}
	ntm_log_info("federation: %s -> %s: no usable relay here, %s", from, to,
		     ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_FED_HAS_RELAY) ? "the caller's relays"
								      : "none there either");
}

/*
 * Our relay for the pair, after our node heard of its peer (the offer
 * follows its DIRECTION); a later failure sends FED_RELAY_NEED.
 */
static void fed_relay_here(struct dc_ctrl *c, struct dc_csess *s, struct dc_csess *t,
			   const struct ntm_ctrl_msg *m, const char *from)
{
	int rc = dc_fedrelay_offer(c, s->fed - 1, t, m->pubkey, from, NTM_RELAY_SIDE_B, NULL, 0,
				   true);

	if (rc < 0) {
		ntm_log_info("federation: relay for %s: %s", from, ntm_strerror(rc));
	}
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
	if (pc.relay && !dc_fedrelay_usable(c)) {
		fed_no_relay(a, m, from, to);
		pc.path = a->path;
	}
	if (m->req_id == s->dir_req_id) {
		return true; /* a retransmission: our node was told already */
	}
	if (!tell_target(c, t, m, pc.path, now_ms)) {
		return refuse(c, a, m->req_id, NTM_CTRL_E_UNKNOWN_NAME,
			      "the node cannot be reached");
	}
	if (pc.relay && !ntm_ctrl_msg_has(a, NTM_CTRL_ATTR_FED_NO_RELAY)) {
		fed_relay_here(c, s, t, m, from);
	}
	dc_direction_note_told(t, (const struct ntm_key *)m->pubkey); /* fedrelay.c checks it */
	dc_fedrevoke_note(c, s->fed - 1, true, t->pub.b); /* FED_REVOKED if t is revoked */
	dc_fedrevoke_note(c, s->fed - 1, false, m->pubkey);
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
	case NTM_CTRL_FED_REVOKED:
		if (s->fed_hello) {
			(void)dc_fedrevoke_handle(c, s->fed - 1, m); /* fedrevoke.c; not answered */
		}
		return false;
	case NTM_CTRL_FED_RELAY:
	case NTM_CTRL_FED_RELAY_NEED:
	case NTM_CTRL_FED_RELAY_REQUEST:
	case NTM_CTRL_FED_RELAY_DONE:
		if (s->fed_hello) {
			(void)dc_fedrelay_handle(c, s->fed - 1, m); /* fedrelay.c; not answered */
		}
		return false;
	default:
		c->st.unsupported++;
		return refuse(c, a, m->req_id, NTM_CTRL_E_UNSUPPORTED, "not a DC<->DC request");
	}
}
