/* SPDX-License-Identifier: MIT */
/*
 * The caller's side of federation (dc/federation.h): a control session per
 * federated domain, opened on demand (the first name asked for), kept warm
 * by a FED_HELLO every DC_FED_IDLE_MS, and the queries of our nodes on it.
 * A node's retransmitted DIRECTION_REQUEST resends the query, which is the
 * query's retry; a query not answered within DC_FED_QUERY_MS fails.
 */
#include "fedint.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/relay.h"
#include "dc/fqdn.h"

enum {
	FED_SWEEP_MS = 500,
};

const char *fed_dom_name(const struct fed_dom *d)
{
	return d->f->cfg->federation[d->idx].domain;
}

int dc_fed_domain_of(const struct dc_config *cfg, const char *name)
{
	char norm[DC_FQDN_SIZE];

	if (dc_fqdn_normalize(name, 0, norm, NULL, 0) < 0) {
		return -1;
	}
	for (size_t i = 0; i < cfg->n_federation; i++) {
		if (dc_fqdn_is_under(norm, cfg->federation[i].domain)) {
			return (int)i;
		}
	}
	return -1;
}

int dc_fed_by_key(const struct dc_config *cfg, const uint8_t pub[NTM_KEY_LEN])
{
	for (size_t i = 0; i < cfg->n_federation; i++) {
		if (cfg->federation[i].has_key &&
		    sodium_memcmp(cfg->federation[i].public_key.b, pub, NTM_KEY_LEN) == 0) {
			return (int)i;
		}
	}
	return -1;
}

bool dc_fed_prefix_overlap(const struct ntm_prefix *a, const struct ntm_prefix *b)
{
	unsigned len = a->prefix_len < b->prefix_len ? a->prefix_len : b->prefix_len;

	if (a->family == 0 || a->family != b->family) {
		return false;
	}
	for (unsigned i = 0; i < len; i++) {
		unsigned mask = 0x80u >> (i % 8);

		if ((a->addr[i / 8] & mask) != (b->addr[i / 8] & mask)) {
			return false;
		}
	}
	return true;
}

/* ---- answers to our nodes */

static struct dc_csess *node_of(struct dc_fed *f, const struct fed_query *q)
{
	struct dc_csess *s = dc_ctable_by_key(&f->ctrl->table, q->node.b);

	return s != NULL && s->registered ? s : NULL;
}

static void send_node(struct dc_fed *f, struct dc_csess *s, const struct ntm_ctrl_msg *m)
{
	uint8_t plain[NTM_CTRL_PLAIN_MAX];
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, plain, sizeof(plain));
	if (ntm_ctrl_msg_encode(&w, m) == 0) {
		if (dc_ctrl_send(f->ctrl, s, w.data, w.len, uv_now(f->loop)) < 0) {
			ntm_log_debug("federation: cannot send to %s now", s->node.fqdn);
		}
	}
}

/* Ends query q with ERROR UNKNOWN_NAME to its node (`why` in the text). */
static void fail_query(struct fed_query *q, const char *why)
{
	struct dc_fed *f = q->d->f;
	struct dc_csess *s = node_of(f, q);
	struct ntm_ctrl_msg a;
	char text[NTM_CTRL_ERROR_TEXT_MAX + 1];

	if (s != NULL) {
		snprintf(text, sizeof(text), "%.60s: %.60s", fed_dom_name(q->d), why);
		(void)dc_register_error(&a, q->node_req_id, NTM_CTRL_E_UNKNOWN_NAME, text);
		f->ctrl->st.errors_sent++;
		send_node(f, s, &a);
	}
	q->used = false;
}

static void fail_dom_queries(struct fed_dom *d, const char *why)
{
	for (size_t i = 0; i < DC_FED_PENDING_MAX; i++) {
		if (d->f->q[i].used && d->f->q[i].d == d) {
			fail_query(&d->f->q[i], why);
		}
	}
}

/* FED_ANSWER: our node gets the DIRECTION to the other domain's node. */
static void answer_query(struct fed_query *q, const struct ntm_ctrl_msg *m)
{
	struct dc_fed *f = q->d->f;
	struct dc_csess *s = node_of(f, q);
	struct ntm_ctrl_msg d = *m;

	q->used = false;
	if (s == NULL) {
		return;
	}
	d.kind = NTM_CTRL_DIRECTION;
	d.req_id = q->node_req_id;
	d.attrs &=
		~(NTM_CTRL_BIT(NTM_CTRL_ATTR_FAMILIES) | NTM_CTRL_BIT(NTM_CTRL_ATTR_FED_NO_RELAY));
	d.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_NAT) | NTM_CTRL_BIT(NTM_CTRL_ATTR_NAT_PEER);
	d.nat_peer = m->nat;
	d.nat = dc_register_nat(s);
	send_node(f, s, &d);
	dc_direction_note_told(s, (const struct ntm_key *)m->pubkey);
	dc_fedrevoke_note(f->ctrl, q->d->idx, false, m->pubkey);
	f->ctrl->st.directions++;
	ntm_log_info("direction: %s -> %s (DC of %s): %s", s->node.fqdn, m->fqdn,
		     fed_dom_name(q->d), ntm_ctrl_path_name(m->path));
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_FED_NO_RELAY) &&
	    dc_fedrelay_offer(f->ctrl, q->d->idx, s, m->pubkey, m->fqdn, NTM_RELAY_SIDE_A, NULL, 0,
			      false) < 0) {
		ntm_log_info("federation: %s -> %s: no usable relay in either domain", s->node.fqdn,
			     m->fqdn);
	}
}

/* ---- the session to the other DC */

static void send_query(struct fed_query *q)
{
	struct dc_csess *s = node_of(q->d->f, q);
	struct ntm_ctrl_msg m;

	if (s == NULL || dc_direction_fill(s, q->qid, &m) < 0) {
		q->used = false;
		return;
	}
	m.kind = NTM_CTRL_FED_QUERY;
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FED_TARGET) | NTM_CTRL_BIT(NTM_CTRL_ATTR_NAT) |
		   NTM_CTRL_BIT(NTM_CTRL_ATTR_FAMILIES);
	snprintf(m.fed_target, sizeof(m.fed_target), "%s", q->target);
	m.nat = dc_register_nat(s);
	m.families = s->families != 0 ? s->families : NTM_CTRL_FAMILY_V4 | NTM_CTRL_FAMILY_V6;
	if (dc_fedrelay_usable(q->d->f->ctrl)) {
		m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FED_HAS_RELAY); /* fedrelay.h */
	}
	dc_fedrevoke_note(q->d->f->ctrl, q->d->idx, true, s->pub.b); /* it learns our node */
	if (ntm_ctrlclient_send(q->d->cc, &m) < 0) {
		ntm_log_debug("federation: %s: query for %s not sent yet", fed_dom_name(q->d),
			      q->target);
	}
}

static void hello(struct fed_dom *d)
{
	struct ntm_ctrl_msg m;

	ntm_ctrl_msg_init(&m, NTM_CTRL_FED_HELLO, randombytes_random() | 1);
	m.attrs = NTM_CTRL_BIT(NTM_CTRL_ATTR_FED_DOMAIN) | NTM_CTRL_BIT(NTM_CTRL_ATTR_POOL4) |
		  NTM_CTRL_BIT(NTM_CTRL_ATTR_POOL6);
	snprintf(m.fed_domain, sizeof(m.fed_domain), "%s", d->f->cfg->domain);
	m.pool4 = d->f->pool4->prefix;
	m.pool6 = d->f->pool6->prefix;
	ntm_ctrlclient_request(d->cc, &m);
}

static void on_connected(void *arg)
{
	hello(arg);
}

static void on_idle(void *arg)
{
	hello(arg);
}

static bool hello_ok(struct fed_dom *d, const struct ntm_ctrl_msg *m)
{
	char a[NTM_PREFIX_STRLEN], b[NTM_PREFIX_STRLEN];

	if (strcmp(m->fed_domain, fed_dom_name(d)) != 0) {
		ntm_log_err("federation: the DC of %s says it serves %s: refused", fed_dom_name(d),
			    m->fed_domain);
		return false;
	}
	for (int i = 0; i < 2; i++) {
		const struct ntm_prefix *ours =
			i == 0 ? &d->f->pool4->prefix : &d->f->pool6->prefix;
		const struct ntm_prefix *theirs = i == 0 ? &m->pool4 : &m->pool6;

		if (dc_fed_prefix_overlap(ours, theirs)) {
			if (ntm_prefix_format(theirs, a, sizeof(a)) < 0 ||
			    ntm_prefix_format(ours, b, sizeof(b)) < 0) {
				a[0] = b[0] = '\0';
			}
			ntm_log_err(
				"federation: %s refused: VIP pool %s of %s overlaps pool %s of %s",
				fed_dom_name(d), a, fed_dom_name(d), b, d->f->cfg->domain);
			return false;
		}
	}
	return true;
}

static bool on_answer(void *arg, const struct ntm_ctrl_msg *m)
{
	struct fed_dom *d = arg;

	if (m->kind == NTM_CTRL_FED_HELLO_OK && hello_ok(d, m)) {
		if (!d->ready) {
			ntm_log_info("federation: session with the DC of %s (%s) ready",
				     fed_dom_name(d),
				     ntm_ctrlclient_endpoint_text(d->cc, d->why, sizeof(d->why)));
		}
		d->ready = true;
		d->pool4 = m->pool4;
		d->pool6 = m->pool6;
		ntm_ctrlclient_idle(d->cc, DC_FED_IDLE_MS);
		for (size_t i = 0; i < DC_FED_PENDING_MAX; i++) {
			if (d->f->q[i].used && d->f->q[i].d == d) {
				send_query(&d->f->q[i]);
			}
		}
		return true;
	}
	if (m->kind == NTM_CTRL_ERROR) {
		ntm_log_err("federation: the DC of %s refused us: %s: %s", fed_dom_name(d),
			    ntm_ctrl_error_name(m->error_code), m->error_text);
		snprintf(d->why, sizeof(d->why), "refused: %s", ntm_ctrl_error_name(m->error_code));
	} else if (m->kind != NTM_CTRL_FED_HELLO_OK) {
		return false;
	} else {
		snprintf(d->why, sizeof(d->why), "refused: its pools or domain");
	}
	d->ready = false;
	d->refused = true; /* no retries against a refusal: a new query asks again later */
	fail_dom_queries(d, d->why);
	ntm_ctrlclient_fail(d->cc, true);
	return true;
}

/*
 * An answer may only describe the node asked for, with VIPs from the pools
 * its DC announced (which do not overlap ours): a DC cannot make our node
 * route one of our own VIPs, or another domain's, to its node.
 */
static bool is_sound(const struct fed_query *q, const struct ntm_ctrl_msg *m)
{
	char want[DC_FQDN_SIZE], got[DC_FQDN_SIZE];
	bool ok = dc_fqdn_normalize(q->target, 0, want, NULL, 0) == 0 &&
		  dc_fqdn_normalize(m->fqdn, 0, got, NULL, 0) == 0 && strcmp(want, got) == 0 &&
		  ntm_prefix_contains(&q->d->pool4, AF_INET, m->vip4) &&
		  ntm_prefix_contains(&q->d->pool6, AF_INET6, m->vip6);

	if (!ok) {
		ntm_log_warn("federation: the DC of %s answered %s when asked for %s, or with VIPs "
			     "outside its pools: refused",
			     fed_dom_name(q->d), m->fqdn, q->target);
	}
	return ok;
}

static bool on_message(void *arg, const struct ntm_ctrl_msg *m)
{
	struct fed_dom *d = arg;
	char why[NTM_CTRL_ERROR_TEXT_MAX + 40];

	if (dc_fedrelay_kind(m->kind)) {
		return dc_fedrelay_handle(d->f->ctrl, d->idx, m);
	}
	if (m->kind == NTM_CTRL_FED_REVOKED) {
		return dc_fedrevoke_handle(d->f->ctrl, d->idx, m);
	}
	for (size_t i = 0; m->req_id != 0 && i < DC_FED_PENDING_MAX; i++) {
		struct fed_query *q = &d->f->q[i];

		if (!q->used || q->d != d || q->qid != m->req_id) {
			continue;
		}
		if (m->kind == NTM_CTRL_FED_ANSWER && !is_sound(q, m)) {
			fail_query(q, "its DC answered for another name or outside its pools");
		} else if (m->kind == NTM_CTRL_FED_ANSWER) {
			answer_query(q, m);
		} else if (m->kind == NTM_CTRL_ERROR) {
			snprintf(why, sizeof(why), "%s (%s)", ntm_ctrl_error_name(m->error_code),
				 m->error_text);
			ntm_log_info("federation: the DC of %s answers %s: %s", fed_dom_name(d),
				     q->target, why);
			fail_query(q, why);
		} else {
			return false;
		}
		return true;
	}
	return false;
}

static void on_failed(void *arg, bool answered)
{
	struct fed_dom *d = arg;

	if (!answered) {
		ntm_log_warn("federation: the DC of %s does not answer (wrong key or unreachable)",
			     fed_dom_name(d));
		fail_dom_queries(d, "its DC does not answer");
	}
	d->ready = false;
}

static int hook_send(void *arg, const struct ntm_addr *to, const uint8_t *buf, size_t len)
{
	struct fed_dom *d = arg;
	int i = to->sa.sa_family == AF_INET6 ? 1 : 0;
	uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
	int rc;

	if (!d->f->udp_open[i]) {
		return -EAFNOSUPPORT;
	}
	rc = uv_udp_try_send(&d->f->udp[i], &b, 1, &to->sa);
	return rc < 0 ? rc : 0;
}

static uint64_t hook_now(void *arg)
{
	struct fed_dom *d = arg;

	return uv_now(d->f->loop);
}

/* Trust and endpoints known: the session starts. */
static void connect_dom(struct fed_dom *d)
{
	const struct ntm_ctrlclient_config cc = {
		.private_key = d->f->cfg->private_key->b,
		.peer_public = d->key.b,
		.endpoints = d->eps,
		.n_endpoints = d->n_eps,
	};
	const struct ntm_ctrlclient_ops ops = { hook_send,  hook_now, on_connected, on_answer,
						on_message, on_idle,  on_failed,    d };
	int rc = ntm_ctrlclient_create(d->f->loop, &cc, &ops, &d->cc);

	if (rc < 0) {
		snprintf(d->why, sizeof(d->why), "cannot start a session: %s", ntm_strerror(rc));
		d->failed_ms = uv_now(d->f->loop) | 1;
		fail_dom_queries(d, d->why);
		return;
	}
	d->f->open++;
	ntm_ctrlclient_start(d->cc);
}

/* What the lookup found decides: trusted key and endpoints, or a refusal. */
static int decide(struct fed_dom *d)
{
	const struct dc_federation *fc = &d->f->cfg->federation[d->idx];
	char pin[NTM_KEY_B64_SIZE], got[NTM_KEY_B64_SIZE];

	if (fc->has_key && d->has_dns_key && !ntm_key_equal(&fc->public_key, &d->dns_key)) {
		ntm_key_to_base64(pin, &fc->public_key);
		ntm_key_to_base64(got, &d->dns_key);
		snprintf(d->why, sizeof(d->why), "DNS has key %s, [Federation] pins %s: refused",
			 got, pin);
		return -EPERM;
	}
	if (!fc->has_key && !(d->has_dns_key && d->dns_key_ad)) {
		snprintf(d->why, sizeof(d->why), "%s",
			 d->has_dns_key ? "key record not DNSSEC-validated (no AD bit) and no "
					  "PublicKey pinned: refused"
					: "no key record _ntm-key and no PublicKey pinned");
		return -EPERM;
	}
	d->key = fc->has_key ? fc->public_key : d->dns_key;
	if (d->n_eps == 0) {
		if (d->why[0] == '\0') {
			snprintf(d->why, sizeof(d->why), "no address for its DC");
		}
		return -ENOENT;
	}
	return 0;
}

void fed_dom_lookup_step(struct fed_dom *d)
{
	if (d->srv_pending || d->txt_pending || !d->looking) {
		return;
	}
	d->looking = false;
	if (decide(d) < 0) {
		ntm_log_err("federation: %s: %s", fed_dom_name(d), d->why);
		d->failed_ms = uv_now(d->f->loop) | 1;
		fail_dom_queries(d, d->why);
		return;
	}
	connect_dom(d);
}

static void kick(struct fed_dom *d);

void fed_dom_kick(struct dc_fed *f, int idx)
{
	if (f != NULL && !f->closing && idx >= 0 && (size_t)idx < f->cfg->n_federation) {
		kick(&f->doms[idx]);
	}
}

/* Makes sure a session to d's DC is on its way. */
static void kick(struct fed_dom *d)
{
	const struct dc_federation *fc = &d->f->cfg->federation[d->idx];
	uint64_t now = uv_now(d->f->loop);
	int rc = 0;

	if (d->cc != NULL || d->looking ||
	    (d->failed_ms != 0 && now - d->failed_ms < DC_FED_LOOKUP_RETRY_MS)) {
		if (d->failed_ms != 0 && d->cc == NULL && !d->looking) {
			fail_dom_queries(d, d->why);
		}
		return;
	}
	d->looking = true;
	d->why[0] = '\0';
	d->has_dns_key = d->dns_key_ad = false;
	d->n_eps = fc->endpoints.n;
	memcpy(d->eps, fc->endpoints.addrs, fc->endpoints.n * sizeof(d->eps[0]));
	if (fc->endpoints.n == 0) {
		rc = fed_lookup_endpoints(d);
	}
	if (rc == 0 && !(fc->endpoints.n > 0 && fc->has_key)) {
		rc = fed_lookup_key(d);
	}
	if (rc < 0) {
		snprintf(d->why, sizeof(d->why), "DNS lookup: %s", ntm_strerror(rc));
		d->looking = d->srv_pending || d->txt_pending;
		if (!d->looking) {
			d->failed_ms = now | 1;
			fail_dom_queries(d, d->why);
		}
		return;
	}
	fed_dom_lookup_step(d);
}

bool dc_fed_direction(struct dc_fed *f, struct dc_csess *s, int idx, const struct ntm_ctrl_msg *m,
		      struct ntm_ctrl_msg *a)
{
	struct fed_dom *d = &f->doms[idx];
	struct fed_query *free_q = NULL;

	if (!s->registered) {
		f->ctrl->st.errors_sent++;
		f->ctrl->st.not_registered++;
		(void)dc_register_error(a, m->req_id, NTM_CTRL_E_NOT_REGISTERED, "register first");
		return false;
	}
	for (size_t i = 0; i < DC_FED_PENDING_MAX; i++) {
		struct fed_query *q = &f->q[i];

		if (q->used && q->node_req_id == m->req_id && ntm_key_equal(&q->node, &s->pub)) {
			if (d->ready) {
				send_query(q); /* the node retried: so do we */
			}
			return true;
		}
		if (!q->used && free_q == NULL) {
			free_q = q;
		}
	}
	if (free_q == NULL) {
		f->ctrl->st.errors_sent++;
		(void)dc_register_error(a, m->req_id, NTM_CTRL_E_UNKNOWN_NAME,
					"too many federated queries in flight");
		return false;
	}
	*free_q = (struct fed_query){ .used = true,
				      .d = d,
				      .qid = randombytes_random() | 1,
				      .node_req_id = m->req_id,
				      .node = s->pub,
				      .deadline_ms = uv_now(f->loop) + DC_FED_QUERY_MS };
	snprintf(free_q->target, sizeof(free_q->target), "%s", m->fqdn);
	if (d->ready) {
		send_query(free_q);
	} else {
		kick(d);
	}
	return true;
}

/* ---- sockets, timer, life cycle */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct dc_fed *f = h->data;

	(void)hint;
	*buf = uv_buf_init((char *)f->rx, sizeof(f->rx));
}

static void on_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *buf, const struct sockaddr *sa,
		    unsigned flags)
{
	struct dc_fed *f = u->data;
	struct ntm_addr from = { 0 };

	if (n <= 0 || sa == NULL || (flags & UV_UDP_PARTIAL) != 0 || f->closing) {
		return;
	}
	from.len = sa->sa_family == AF_INET ? sizeof(from.sin) : sizeof(from.sin6);
	memcpy(&from.ss, sa, from.len);
	for (size_t i = 0; i < f->cfg->n_federation; i++) {
		struct fed_dom *d = &f->doms[i];

		if (d->cc != NULL && ntm_addr_equal(ntm_ctrlclient_endpoint(d->cc), &from)) {
			ntm_ctrlclient_receive(d->cc, (const uint8_t *)buf->base, (size_t)n, &from);
			return;
		}
	}
}

static void on_client_closed(void *arg);

static void on_sweep(uv_timer_t *t)
{
	struct dc_fed *f = t->data;
	uint64_t now = uv_now(f->loop);

	for (size_t i = 0; i < DC_FED_PENDING_MAX; i++) {
		if (f->q[i].used && now >= f->q[i].deadline_ms) {
			fail_query(&f->q[i], "its DC did not answer in time");
		}
	}
	for (size_t i = 0; i < f->cfg->n_federation; i++) {
		struct fed_dom *d = &f->doms[i];

		if (d->refused && d->cc != NULL) {
			ntm_ctrlclient_close(d->cc, on_client_closed, f);
			d->cc = NULL;
			d->refused = false;
			d->failed_ms = now | 1;
		}
	}
	dc_fedrevoke_retry(f->ctrl);
}

static int open_udp(struct dc_fed *f, int i)
{
	struct sockaddr_storage ss = { 0 };
	int rc;

	if (i == 0) {
		rc = uv_ip4_addr("0.0.0.0", 0, (struct sockaddr_in *)&ss);
	} else {
		rc = uv_ip6_addr("::", 0, (struct sockaddr_in6 *)&ss);
	}
	if (rc == 0) {
		rc = uv_udp_init(f->loop, &f->udp[i]);
	}
	if (rc < 0) {
		return rc;
	}
	f->udp[i].data = f;
	f->udp_open[i] = true;
	f->open++;
	rc = uv_udp_bind(&f->udp[i], (const struct sockaddr *)&ss, i == 1 ? UV_UDP_IPV6ONLY : 0);
	if (rc == 0) {
		rc = uv_udp_recv_start(&f->udp[i], on_alloc, on_recv);
	}
	return rc;
}

static void maybe_done(struct dc_fed *f)
{
	void (*done)(void *) = f->done;
	void *arg = f->done_arg;

	if (f->open > 0) {
		return;
	}
	ntm_free(f->doms);
	ntm_free(f);
	if (done != NULL) {
		done(arg);
	}
}

static void on_handle_closed(uv_handle_t *h)
{
	struct dc_fed *f = h->data;

	f->open--;
	maybe_done(f);
}

static void on_client_closed(void *arg)
{
	struct dc_fed *f = arg;

	f->open--;
	maybe_done(f);
}

static void on_dns_closed(void *arg)
{
	struct dc_fed *f = arg;

	f->dns = NULL;
	for (size_t i = 0; i < f->cfg->n_federation; i++) {
		if (f->doms[i].cc != NULL) {
			ntm_ctrlclient_close(f->doms[i].cc, on_client_closed, f);
			f->doms[i].cc = NULL;
		}
	}
	for (int i = 0; i < 2; i++) {
		if (f->udp_open[i]) {
			uv_close((uv_handle_t *)&f->udp[i], on_handle_closed);
		}
	}
	uv_close((uv_handle_t *)&f->sweep, on_handle_closed);
}

void dc_fed_close(struct dc_fed *f, void (*done)(void *arg), void *arg)
{
	if (f == NULL) {
		if (done != NULL) {
			done(arg);
		}
		return;
	}
	f->closing = true;
	f->done = done;
	f->done_arg = arg;
	if (f->dns != NULL) {
		ntm_dns_close(f->dns, on_dns_closed, f);
	} else {
		on_dns_closed(f);
	}
}

int dc_fed_open(uv_loop_t *loop, const struct dc_config *cfg, const struct dc_pool *pool4,
		const struct dc_pool *pool6, struct dc_ctrl *ctrl, struct dc_fed **out)
{
	struct dc_fed *f = ntm_calloc(1, sizeof(*f));
	int rc;

	*out = NULL;
	if (f == NULL) {
		return -ENOMEM;
	}
	*f = (struct dc_fed){
		.loop = loop, .cfg = cfg, .pool4 = pool4, .pool6 = pool6, .ctrl = ctrl
	};
	f->doms = ntm_calloc(cfg->n_federation + 1, sizeof(*f->doms));
	if (f->doms == NULL) {
		ntm_free(f);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->n_federation; i++) {
		f->doms[i] = (struct fed_dom){ .f = f, .idx = (int)i };
	}
	uv_timer_init(loop, &f->sweep);
	f->sweep.data = f;
	f->open++;
	uv_timer_start(&f->sweep, on_sweep, FED_SWEEP_MS, FED_SWEEP_MS);
	rc = open_udp(f, 0);
	if (rc == 0 && open_udp(f, 1) < 0) {
		ntm_log_warn("federation: no IPv6 socket; other DCs are reached over IPv4 only");
	}
	if (rc == 0) {
		rc = ntm_dns_create(loop, NULL, &f->dns);
	}
	if (rc < 0) {
		dc_fed_close(f, NULL, NULL);
		return rc;
	}
	*out = f;
	return 0;
}
