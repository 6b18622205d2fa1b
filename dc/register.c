/* SPDX-License-Identifier: MIT */
/*
 * The messages inside a node's control session (DESIGN "Flows" 1):
 * REGISTER (enrolled key, or a one-time token that enrols it on the spot)
 * answered with REGISTER_OK or ERROR, KEEPALIVE answered with KEEPALIVE_ACK;
 * DIRECTION_REQUEST is dc/direction.c's.
 *
 * Requests are idempotent: a retransmitted REGISTER finds the node enrolled
 * (the token was consumed by the first one) and gets the same answer.
 *
 * The store is written when a REGISTER changes what it holds (real or
 * outside address, NAT class) and otherwise in batches: every sweep
 * (DC_CTRL_SWEEP_MS) writes, in one transaction, the last-seen time of each
 * node whose stored time is at least one KeepaliveInterval old. So the
 * database sees about one write per node per KeepaliveInterval, batched,
 * never one per keep-alive, and `nodes` lags by at most KeepaliveInterval +
 * 5 s (a node counts as online for 3 intervals).
 */
#include "ctrl_internal.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "dc/fqdn.h"
#include "dc/federation.h"
#include "dc/fedrelay.h"
#include "dc/token.h"

int dc_register_error(struct ntm_ctrl_msg *a, uint32_t req_id, enum ntm_ctrl_error code,
		      const char *text)
{
	ntm_ctrl_msg_init(a, NTM_CTRL_ERROR, req_id);
	a->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_ERROR_CODE) | NTM_CTRL_BIT(NTM_CTRL_ATTR_ERROR_TEXT);
	a->error_code = (uint16_t)code;
	snprintf(a->error_text, sizeof(a->error_text), "%s", text);
	return 0;
}

static void format_addr(char *buf, size_t cap, const struct ntm_addr *a)
{
	if (a->len == 0 || ntm_addr_format(a, buf, cap) < 0) {
		buf[0] = '\0';
	}
}

/* RFC 5780 style: the mappings seen on a Listen and an AltListen socket. */
static const char *classify(const struct dc_csess *s, bool is_public)
{
	const struct ntm_addr *a = &s->seen[0], *b = &s->seen[1];

	if (is_public) {
		return "public";
	}
	if (a->len == 0 || b->len == 0 || a->sa.sa_family != b->sa.sa_family) {
		return "";
	}
	return ntm_addr_port(a) == ntm_addr_port(b) ? "eim" : "edm";
}

/* Updates the session's view; true when it differs from what the store holds. */
static bool note_addresses(struct dc_csess *s, const char *real, bool is_public)
{
	char outside[NTM_ADDR_STRLEN];
	const char *nat = classify(s, is_public);
	bool changed;

	format_addr(outside, sizeof(outside), &s->from);
	if (real == NULL) {
		real = s->real;
	}
	changed = strcmp(outside, s->outside) != 0 || strcmp(real, s->real) != 0 ||
		  (nat[0] != '\0' && strcmp(nat, s->nat) != 0);
	if (real != s->real) {
		snprintf(s->real, sizeof(s->real), "%s", real);
	}
	snprintf(s->outside, sizeof(s->outside), "%s", outside);
	if (nat[0] != '\0') {
		snprintf(s->nat, sizeof(s->nat), "%s", nat);
	}
	s->seen_wall = time(NULL);
	s->dirty = s->dirty || changed;
	return changed;
}

uint8_t dc_register_nat(const struct dc_csess *s)
{
	if (strcmp(s->nat, "public") == 0) {
		return NTM_CTRL_NAT_PUBLIC;
	}
	if (strcmp(s->nat, "eim") == 0) {
		return NTM_CTRL_NAT_EIM;
	}
	return strcmp(s->nat, "edm") == 0 ? NTM_CTRL_NAT_EDM : NTM_CTRL_NAT_UNKNOWN;
}

static uint8_t family_bit(uint8_t family)
{
	return family == 4 ? NTM_CTRL_FAMILY_V4 : family == 6 ? NTM_CTRL_FAMILY_V6 : 0;
}

/* The families the node can use: those of its candidates and of its outside address. */
static uint8_t families_of(const struct dc_csess *s)
{
	uint8_t f = s->from.sa.sa_family == AF_INET6 ? NTM_CTRL_FAMILY_V6 : NTM_CTRL_FAMILY_V4;

	for (size_t i = 0; i < s->n_cand; i++) {
		const struct ntm_ctrl_addr *a = &s->cand[i];

		/* A link-local IPv6 address reaches no one across a router. */
		if (a->family == 6 && a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0x80) {
			continue;
		}
		f |= family_bit(a->family);
	}
	return f;
}

/* What the node learns of its own NAT: the class (once known) and its families. */
static void add_nat(const struct dc_csess *s, struct ntm_ctrl_msg *a)
{
	a->nat = dc_register_nat(s);
	if (a->nat != NTM_CTRL_NAT_UNKNOWN) {
		a->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_NAT);
	}
	a->families = s->families;
	if (a->families != 0) {
		a->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FAMILIES);
	}
}

/* The DC's AltListen endpoint of the family the node registered over, if any. */
static void add_alt(const struct dc_ctrl *c, const struct dc_csess *s, struct ntm_ctrl_msg *a)
{
	for (size_t i = 0; i < c->n_eps; i++) {
		const struct dc_ep *ep = &c->eps[i];

		if (ep->alt && ep->addr.sa.sa_family == s->from.sa.sa_family &&
		    ntm_ctrl_addr_from(&a->alt_endpoint, &ep->addr) == 0) {
			a->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_ALT_ENDPOINT);
			return;
		}
	}
}

static void write_one(struct dc_ctrl *c, struct dc_csess *s)
{
	const struct dc_seen v = { .id = s->node.id,
				   .real = s->real,
				   .outside = s->outside,
				   .nat = s->nat,
				   .last_seen = s->seen_wall };
	char why[DC_STORE_WHY_MAX];

	if (dc_store_node_seen(c->cc.store, &v, 1, why, sizeof(why)) < 0) {
		ntm_log_warn("node %s: cannot record its addresses: %s", s->node.fqdn, why);
		return;
	}
	s->dirty = false;
	s->db_seen = s->seen_wall;
}

/* The node behind the session's key, enrolling it with the token if it is not yet. */
static enum ntm_ctrl_error find_or_enroll(struct dc_ctrl *c, struct dc_csess *s,
					  const struct ntm_ctrl_msg *m, const char *name,
					  struct dc_node *node)
{
	struct dc_enrolment req = { .fqdn = name,
				    .pubkey = &s->pub,
				    .pool4 = c->cc.pool4,
				    .pool6 = c->cc.pool6,
				    .now = time(NULL) };
	uint8_t hash[DC_TOKEN_HASH_LEN];
	char why[DC_STORE_WHY_MAX];
	int rc = dc_store_node_by_key(c->cc.store, &s->pub, node);

	if (rc == 0) {
		return strcmp(node->fqdn, name) == 0 ? 0 : NTM_CTRL_E_NAME_MISMATCH;
	}
	if (rc != -ENOENT) {
		return NTM_CTRL_E_INTERNAL;
	}
	if (!ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_TOKEN)) {
		return NTM_CTRL_E_NOT_ENROLLED;
	}
	if (dc_token_hash(m->token, strlen(m->token), hash) < 0) {
		return NTM_CTRL_E_BAD_TOKEN;
	}
	req.token_hash = hash;
	rc = dc_store_enroll(c->cc.store, &req, node, why, sizeof(why));
	sodium_memzero(hash, sizeof(hash));
	if (rc < 0) {
		ntm_log_info("token enrolment of %s refused: %s", name, why);
	}
	switch (rc) {
	case 0:
		ntm_log_info("node %s enrolled with a token: %s, %s", name, node->vip4, node->vip6);
		return 0;
	case -EACCES:
		return NTM_CTRL_E_BAD_TOKEN;
	case -EEXIST:
		return NTM_CTRL_E_NAME_MISMATCH;
	case -ENOSPC:
		return NTM_CTRL_E_POOL_EXHAUSTED;
	default:
		return NTM_CTRL_E_INTERNAL;
	}
}

static const char *error_text(enum ntm_ctrl_error e)
{
	switch (e) {
	case NTM_CTRL_E_NOT_ENROLLED:
		return "this key is not enrolled";
	case NTM_CTRL_E_NAME_MISMATCH:
		return "the name does not belong to this key";
	case NTM_CTRL_E_BAD_TOKEN:
		return "the token is not valid for this name";
	case NTM_CTRL_E_POOL_EXHAUSTED:
		return "no virtual address left in the pool";
	default:
		return "internal error";
	}
}

static bool is_from_candidate(const struct dc_csess *s, const struct ntm_ctrl_msg *m)
{
	struct ntm_addr a;

	for (size_t i = 0; i < m->n_cand; i++) {
		if (ntm_ctrl_addr_to(&a, &m->cand[i]) == 0 && ntm_addr_equal(&a, &s->from)) {
			return true;
		}
	}
	return false;
}

static int fill_ok(struct dc_ctrl *c, struct dc_csess *s, uint32_t req_id, struct ntm_ctrl_msg *a)
{
	ntm_ctrl_msg_init(a, NTM_CTRL_REGISTER_OK, req_id);
	a->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP4) | NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP6) |
		    NTM_CTRL_BIT(NTM_CTRL_ATTR_OUTSIDE) | NTM_CTRL_BIT(NTM_CTRL_ATTR_KEEPALIVE);
	a->keepalive = (uint16_t)c->cc.cfg->keepalive;
	if (inet_pton(AF_INET, s->node.vip4, a->vip4) != 1 ||
	    inet_pton(AF_INET6, s->node.vip6, a->vip6) != 1 ||
	    ntm_ctrl_addr_from(&a->outside, &s->from) < 0) {
		return dc_register_error(a, req_id, NTM_CTRL_E_INTERNAL, "bad stored address");
	}
	/* The pools, so that the node routes them and builds tunnels on the first packet. */
	a->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_POOL4) | NTM_CTRL_BIT(NTM_CTRL_ATTR_POOL6);
	a->pool4 = c->cc.pool4->prefix;
	a->pool6 = c->cc.pool6->prefix;
	add_alt(c, s, a);
	add_nat(s, a);
	/* The domains whose names are overlay names: ours, then federated ones that fit. */
	if (ntm_ctrl_msg_add_domain(a, c->cc.cfg->domain) < 0) {
		return dc_register_error(a, req_id, NTM_CTRL_E_INTERNAL, "bad domain");
	}
	for (size_t i = 0; i < c->cc.cfg->n_federation; i++) {
		if (ntm_ctrl_msg_add_domain(a, c->cc.cfg->federation[i].domain) < 0) {
			break;
		}
	}
	return 0;
}

/* Returns 1 when the session must go after the answer (a refused probation key). */
static int on_register(struct dc_ctrl *c, struct dc_csess *s, const struct ntm_ctrl_msg *m,
		       struct ntm_ctrl_msg *a)
{
	char name[DC_FQDN_SIZE], why[128], real[NTM_ADDR_STRLEN] = "";
	struct dc_node node;
	enum ntm_ctrl_error e;
	struct ntm_addr ra;

	if (dc_fqdn_normalize(m->fqdn, 0, name, why, sizeof(why)) < 0) {
		dc_register_error(a, m->req_id, NTM_CTRL_E_NAME_MISMATCH, "not a valid name");
		return s->enrolled ? 0 : 1;
	}
	e = find_or_enroll(c, s, m, name, &node);
	if (e != 0) {
		c->st.errors_sent++;
		ntm_log_ratelimited(&c->rl, uv_now(c->loop), NTM_LOG_INFO,
				    "registration of %s refused: %s", name, ntm_ctrl_error_name(e));
		dc_register_error(a, m->req_id, e, error_text(e));
		return s->enrolled && e != NTM_CTRL_E_NOT_ENROLLED ? 0 : 1;
	}
	if (!s->enrolled) {
		s->enrolled = true;
		c->table.n_probation--;
	}
	s->registered = true;
	s->node = node;
	memcpy(s->cand, m->cand, sizeof(s->cand));
	s->n_cand = m->n_cand;
	s->families = families_of(s);
	if (m->n_cand > 0 && ntm_ctrl_addr_to(&ra, &m->cand[0]) == 0) {
		format_addr(real, sizeof(real), &ra);
	}
	if (note_addresses(s, real, is_from_candidate(s, m)) || s->db_seen == 0) {
		write_one(c, s);
	}
	ntm_log_info("node %s registered from %s", node.fqdn, s->outside);
	c->st.registered++;
	return fill_ok(c, s, m->req_id, a);
}

static void on_keepalive(struct dc_ctrl *c, struct dc_csess *s, const struct ntm_ctrl_msg *m,
			 struct ntm_ctrl_msg *a)
{
	if (!s->registered) {
		c->st.errors_sent++;
		c->st.not_registered++;
		dc_register_error(a, m->req_id, NTM_CTRL_E_NOT_REGISTERED, "register first");
		return;
	}
	if (note_addresses(s, NULL, strcmp(s->nat, "public") == 0)) {
		write_one(c, s); /* the node moved: record it at once */
	}
	ntm_ctrl_msg_init(a, NTM_CTRL_KEEPALIVE_ACK, m->req_id);
	if (ntm_ctrl_addr_from(&a->outside, &s->from) == 0) {
		a->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_OUTSIDE);
	}
	add_nat(s, a);
}

int dc_register_handle(struct dc_ctrl *c, struct dc_csess *s, const uint8_t *plain, size_t len,
		       uint8_t *ans, size_t cap, size_t *ans_len)
{
	struct ntm_ctrl_msg m, a;
	struct ntm_wbuf w;
	int rc = ntm_ctrl_msg_decode(plain, len, &m), drop = 0;

	*ans_len = 0;
	if (rc == 0 && s->fed != 0) {
		if (!dc_fedserver_handle(c, s, &m, &a)) {
			sodium_memzero(&m, sizeof(m));
			return 0;
		}
	} else if (rc == 0 && m.kind == NTM_CTRL_DIRECTION_REQUEST && c->fed != NULL &&
		   ntm_ctrl_msg_has(&m, NTM_CTRL_ATTR_FQDN) &&
		   dc_fed_domain_of(c->cc.cfg, m.fqdn) >= 0) {
		if (!dc_fed_direction(c->fed, s, dc_fed_domain_of(c->cc.cfg, m.fqdn), &m, &a)) {
			return 0; /* the DIRECTION follows when the other domain's DC answered */
		}
	} else if (rc == 0 && (m.kind & 0xf0) == NTM_CTRL_FED_HELLO) {
		/* A DC without a pinned key here: only a DNSSEC-validated key record admits it. */
		if (!dc_fed_verify_caller(c->fed, s, &m, &a)) {
			return 0;
		}
		c->st.errors_sent++;
		drop = s->enrolled ? 0 : 1;
	} else if (rc == 0 && s->relay) {
		if (!dc_rsreg_handle(c, s, &m, &a)) {
			sodium_memzero(&m, sizeof(m));
			return 0; /* an answer to our own request: nothing to say */
		}
	} else if (rc == -ENOTSUP) {
		c->st.unsupported++;
		dc_register_error(&a, m.req_id, NTM_CTRL_E_UNSUPPORTED, "unknown message kind");
	} else if (rc < 0) {
		c->st.malformed++;
		dc_register_error(&a, 0, NTM_CTRL_E_MALFORMED, "malformed message");
	} else if (m.kind == NTM_CTRL_REGISTER) {
		drop = on_register(c, s, &m, &a);
	} else if (m.kind == NTM_CTRL_KEEPALIVE) {
		on_keepalive(c, s, &m, &a);
	} else if (m.kind == NTM_CTRL_DIRECTION_REQUEST) {
		dc_direction_handle(c, s, &m, &a);
	} else if (m.kind == NTM_CTRL_RS_REGISTER || m.kind == NTM_CTRL_RS_LOAD) {
		c->st.errors_sent++; /* a relay key would have a relay session (rsreg.c) */
		dc_register_error(&a, m.req_id, NTM_CTRL_E_NOT_ENROLLED, "not enrolled as a relay");
		drop = s->enrolled ? 0 : 1;
	} else if (m.kind == NTM_CTRL_RELAY_DONE) {
		if (!dc_fedrelay_done(c, s, &m)) { /* another domain's relay: fedrelay.c */
			dc_rsreg_relay_done(c, s, &m);
		}
		return 0; /* not answered */
	} else if (m.kind == NTM_CTRL_RELAY_REQUEST && c->fed != NULL &&
		   dc_fed_domain_of(c->cc.cfg, m.fqdn) >= 0) {
		if (!dc_fedrelay_request(c, s, dc_fed_domain_of(c->cc.cfg, m.fqdn), &m, &a)) {
			return 0; /* the offer follows from either domain's DC (fedrelay.c) */
		}
	} else if (m.kind == NTM_CTRL_RELAY_REQUEST) {
		if (!dc_rsreg_relay_request(c, s, &m, &a)) {
			return 0; /* the offer follows when a relay allocated the session */
		}
	} else {
		c->st.unsupported++;
		dc_register_error(&a, m.req_id, NTM_CTRL_E_UNSUPPORTED, "not a request for a DC");
	}
	ntm_wbuf_init(&w, ans, cap);
	if (ntm_ctrl_msg_encode(&w, &a) == 0) {
		*ans_len = w.len;
	}
	return drop;
}

/* Sessions whose stored state is stale: addresses changed, or last_seen a keepalive old. */
static bool needs_write(const struct dc_ctrl *c, const struct dc_csess *s, bool all)
{
	if (!s->registered || s->seen_wall == s->db_seen) {
		return false;
	}
	return all || s->dirty || s->seen_wall - s->db_seen >= (int64_t)c->cc.cfg->keepalive;
}

/*
 * Adds sessions that need a write to v/who, from n up to `cap`, scanning
 * the table from slot c->flush_next round; returns the new count. Run twice,
 * dirty sessions first, then stale ones; `flush_taken` keeps the second
 * pass from taking a session again. The scan resumes where the last stale
 * pass stopped, so at 100k nodes every last-seen time is still written in
 * turn.
 */
static size_t collect_seen(struct dc_ctrl *c, bool all, bool dirty_only, struct dc_seen *v,
			   struct dc_csess **who, size_t n, size_t cap)
{
	size_t j;

	for (j = 0; n < cap && j < c->table.max; j++) {
		struct dc_csess *s = c->table.slots[(c->flush_next + j) % c->table.max];

		if (s == NULL || s->flush_taken || !needs_write(c, s, all) ||
		    (dirty_only && !s->dirty)) {
			continue;
		}
		v[n] = (struct dc_seen){ .id = s->node.id,
					 .real = s->real,
					 .outside = s->outside,
					 .nat = s->nat,
					 .last_seen = s->seen_wall };
		s->flush_taken = true;
		who[n++] = s;
	}
	if (!dirty_only) {
		c->flush_next = (c->flush_next + j) % c->table.max;
	}
	return n;
}

void dc_register_flush(struct dc_ctrl *c, bool all)
{
	size_t cap = all ? c->table.n
			 : (c->table.n < DC_CTRL_FLUSH_MAX ? c->table.n : DC_CTRL_FLUSH_MAX);
	struct dc_seen *v = NULL;
	struct dc_csess **who = NULL;
	char why[DC_STORE_WHY_MAX];
	size_t n = 0, taken;

	if (cap == 0) {
		return;
	}
	v = ntm_calloc(cap, sizeof(*v));
	who = ntm_calloc(cap, sizeof(*who));
	if (v != NULL && who != NULL) {
		n = collect_seen(c, all, true, v, who, 0, cap);
		n = collect_seen(c, all, false, v, who, n, cap);
	}
	taken = n;
	if (n > 0 && dc_store_node_seen(c->cc.store, v, n, why, sizeof(why)) < 0) {
		ntm_log_warn("cannot record when %zu nodes were last seen: %s", n, why);
		n = 0;
	}
	for (size_t i = 0; i < taken; i++) {
		who[i]->flush_taken = false;
		if (i < n) {
			who[i]->dirty = false;
			who[i]->db_seen = who[i]->seen_wall;
		}
	}
	ntm_free(v);
	ntm_free(who);
}
