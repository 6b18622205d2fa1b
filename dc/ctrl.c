/* SPDX-License-Identifier: MIT */
/*
 * The control channel server: sockets, the one dispatcher, handshakes and
 * data. Sessions live in csess.c, the messages inside them in register.c.
 */
#include "ctrl_internal.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/secpool.h"
#include "dc/federation.h"
#include "dc/fedrevoke.h"

static void count_close(struct dc_ctrl *c)
{
	void (*done)(void *) = c->done;
	void *arg = c->done_arg;

	if (--c->open_handles > 0) {
		return;
	}
	dc_ctable_fini(&c->table);
	ntm_cookie_checker_destroy(c->checker);
	ntm_noise_identity_destroy(c->id);
	ntm_secpool_destroy(c->secpool); /* after every session and handshake in it */
	ntm_free(c);
	if (done != NULL) {
		done(arg);
	}
}

static void on_closed(uv_handle_t *h)
{
	count_close(((struct dc_ep *)h->data)->c);
}

static void on_timer_closed(uv_handle_t *h)
{
	count_close(h->data);
}

static void send_to(struct dc_ep *ep, const struct ntm_addr *to, const uint8_t *p, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)p, (unsigned)len);

	/* Best effort, as UDP: a full socket buffer drops the answer, the node retries. */
	(void)uv_udp_try_send(&ep->udp, &b, 1, &to->sa);
}

/* ---------------------------------------------------------------- handshakes */

struct lookup_ctx {
	struct dc_ctrl *c;
	struct dc_csess *fresh; /* created by this lookup: removed again if the handshake fails */
	struct dc_csess *stale; /* of a key revoked since: removed after the refusal */
	uint64_t now_ms;
};

/*
 * The initiator's static key decrypted: its session, or a new one. A key
 * that is not enrolled gets a probation session (it may enrol with a token),
 * at most DC_CTRL_PROBATION_MAX of them at once.
 */
static struct ntm_noise_handshake *lookup(void *arg, const uint8_t *pub)
{
	struct lookup_ctx *lc = arg;
	struct dc_ctrl *c = lc->c;
	struct dc_csess *s = dc_ctable_by_key(&c->table, pub);
	char relay[DC_FQDN_SIZE] = "";
	struct dc_node node;
	struct ntm_key key;
	int rc;

	memcpy(key.b, pub, NTM_KEY_LEN);
	rc = dc_store_node_by_key(c->cc.store, &key, &node);
	if (rc == -ENOENT && dc_store_relay_by_key(c->cc.store, &key, relay) == 0) {
		rc = 1; /* a relay (enroll --relay): rsreg.c */
	}
	if (rc == -ENOENT && dc_fed_by_key(c->cc.cfg, pub) >= 0) {
		rc = 2; /* another domain's DC, by its pinned key: fedserver.c */
	}
	ntm_key_wipe(&key);
	if (s != NULL && s->enrolled && rc == -ENOENT) {
		lc->stale = s; /* revoked: its rekey is refused, the session goes */
		return NULL;
	}
	if (s != NULL) {
		return ntm_ctrl_session_handshake(s->cs);
	}
	if ((rc < 0 && rc != -ENOENT) ||
	    (rc == -ENOENT && c->table.n_probation >= DC_CTRL_PROBATION_MAX) ||
	    dc_ctable_add(c, pub, &s) < 0) {
		return NULL;
	}
	if (rc >= 0) {
		s->enrolled = true;
		c->table.n_probation--;
		s->node = node;
		s->relay = rc == 1;
		snprintf(s->relay_name, sizeof(s->relay_name), "%s", relay);
		s->fed = rc == 2 ? 1 + dc_fed_by_key(c->cc.cfg, pub) : 0;
	}
	s->created_ms = lc->now_ms;
	s->last_rx_ms = lc->now_ms;
	lc->fresh = s;
	return ntm_ctrl_session_handshake(s->cs);
}

static void fill_cookie_pkt(struct ntm_cookie_pkt *pkt, const uint8_t *buf, size_t len,
			    const struct ntm_addr *from)
{
	bool v6 = from->sa.sa_family == AF_INET6;

	pkt->msg = buf;
	pkt->len = len;
	pkt->addr =
		v6 ? (const uint8_t *)&from->sin6.sin6_addr : (const uint8_t *)&from->sin.sin_addr;
	pkt->addr_len = v6 ? 16 : 4;
	pkt->port = ntohs(v6 ? from->sin6.sin6_port : from->sin.sin_port);
}

static bool is_under_load(struct dc_ctrl *c, uint64_t now_ms)
{
	if (now_ms - c->load_start_ms >= 1000) {
		c->load_start_ms = now_ms;
		c->load_count = 0;
	}
	return c->load_count > DC_CTRL_LOAD_PER_SEC;
}

static void send_cookie(struct dc_ctrl *c, struct dc_ep *ep, const struct ntm_cookie_pkt *pkt,
			const struct ntm_addr *from, uint64_t now_ms)
{
	struct ntm_wg_cookie_reply r;
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, c->tx, sizeof(c->tx));
	if (ntm_cookie_make_reply(c->checker, pkt, now_ms, &r) == 0 &&
	    ntm_wire_encode_ctrl_cookie_reply(&w, &r) == 0) {
		send_to(ep, from, w.data, w.len);
		c->st.cookie_sent++;
	}
}

/* mac1, load and per-source limits: true when the initiation may reach Noise. */
static bool admit_initiation(struct dc_ctrl *c, struct dc_ep *ep, const uint8_t *buf, size_t len,
			     const struct ntm_addr *from, uint64_t now_ms)
{
	struct ntm_cookie_pkt pkt;
	bool load = is_under_load(c, now_ms);
	enum ntm_cookie_verdict v;

	fill_cookie_pkt(&pkt, buf, len, from);
	v = ntm_cookie_validate(c->checker, &pkt, now_ms, load);
	if (v == NTM_COOKIE_BAD) {
		c->st.bad_mac++;
		return false;
	}
	if (load && v != NTM_COOKIE_MAC2_OK) {
		send_cookie(c, ep, &pkt, from, now_ms);
		return false;
	}
	if (!dc_ctrl_src_allow(c, from, now_ms)) {
		c->st.ratelimited++;
		return false;
	}
	c->load_count++;
	return true;
}

static void on_initiation(struct dc_ctrl *c, struct dc_ep *ep, const uint8_t *buf, size_t len,
			  const struct ntm_addr *from, uint64_t now_ms)
{
	struct lookup_ctx lc = { .c = c, .now_ms = now_ms };
	struct ntm_wg_initiation m;
	struct ntm_noise_handshake *hs;
	struct dc_csess *s;
	struct ntm_wbuf w;
	int rc;

	if (!admit_initiation(c, ep, buf, len, from, now_ms)) {
		return;
	}
	if (ntm_wire_decode_ctrl_initiation(buf, len, &m) < 0) {
		c->st.malformed++;
		return;
	}
	rc = ntm_noise_consume_initiation(c->id, &m, lookup, &lc, &hs);
	if (rc < 0) {
		*(rc == -ESTALE ? &c->st.replayed : &c->st.hs_refused) += 1;
		if (lc.fresh != NULL || lc.stale != NULL) {
			dc_ctable_remove(&c->table, lc.fresh != NULL ? lc.fresh : lc.stale);
		}
		ntm_log_ratelimited(&c->rl, now_ms, NTM_LOG_DEBUG, "control initiation refused: %s",
				    ntm_strerror(rc));
		return;
	}
	s = ntm_ctrl_session_owner(ntm_noise_handshake_owner(hs));
	ntm_wbuf_init(&w, c->tx, sizeof(c->tx));
	if (ntm_ctrl_session_respond(s->cs, dc_ctable_new_index(&c->table, s), now_ms, &w) < 0) {
		c->st.hs_refused++;
		return;
	}
	s->ep = ep;
	s->from = *from;
	send_to(ep, from, w.data, w.len);
	c->st.handshakes++;
}

/* ---------------------------------------------------------------- data */

int dc_ctrl_send(struct dc_ctrl *c, struct dc_csess *s, const uint8_t *plain, size_t len,
		 uint64_t now_ms)
{
	struct ntm_wbuf w;
	int rc;

	if (s->ep == NULL) {
		return -ENOTCONN;
	}
	ntm_wbuf_init(&w, c->tx, sizeof(c->tx));
	rc = ntm_ctrl_session_seal(s->cs, plain, len, now_ms, &w);
	if (rc == 0) {
		send_to(s->ep, &s->from, w.data, w.len);
	}
	return rc;
}

static void on_data(struct dc_ctrl *c, struct dc_ep *ep, const uint8_t *buf, size_t len,
		    const struct ntm_addr *from, uint64_t now_ms)
{
	uint8_t ans[NTM_CTRL_PLAIN_MAX];
	struct ntm_wg_data d;
	struct dc_csess *s;
	size_t plen = 0, alen = 0;
	int rc;

	if (ntm_wire_decode_ctrl_data(buf, len, &d) < 0) {
		c->st.malformed++;
		return;
	}
	s = dc_ctable_by_index(&c->table, d.receiver);
	if (s == NULL) {
		c->st.no_session++;
		return;
	}
	rc = ntm_ctrl_session_open(s->cs, &d, now_ms, c->plain, sizeof(c->plain), &plen);
	if (rc < 0) {
		*(rc == -EALREADY || rc == -ESTALE ? &c->st.replayed : &c->st.bad_data) += 1;
		return;
	}
	/* Authenticated: the node may have roamed; answer where it is now. */
	s->last_rx_ms = now_ms;
	if (!ep->alt || s->from.len == 0) {
		/* A message to AltListen only classifies the NAT: keep answering the main binding.
		 */
		s->ep = ep;
		s->from = *from;
	}
	if (!ep->alt && !ntm_addr_equal(&s->seen[0], from)) {
		/*
		 * A new mapping (a restart on another port, a move, a rebinding):
		 * the AltListen view belongs to the old one, and comparing the two
		 * would call an endpoint-independent NAT dependent. Classify again
		 * when the node's next AltListen message comes.
		 */
		s->seen[1].len = 0;
	}
	s->seen[ep->alt ? 1 : 0] = *from;
	rc = dc_register_handle(c, s, c->plain, plen, ans, sizeof(ans), &alen);
	if (alen > 0) {
		(void)!dc_ctrl_send(c, s, ans, alen, now_ms); /* a lost answer is retransmitted */
	}
	if (rc == 1) {
		dc_ctable_remove(&c->table, s);
	}
}

/* ---------------------------------------------------------------- sockets */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct dc_ep *ep = h->data;

	(void)suggested;
	*buf = uv_buf_init((char *)ep->c->rx, sizeof(ep->c->rx));
}

static void dispatch(struct dc_ctrl *c, struct dc_ep *ep, const uint8_t *buf, size_t len,
		     const struct ntm_addr *from)
{
	uint64_t now = uv_now(c->loop);
	enum ntm_msg_type type;

	c->st.rx++;
	if (ntm_wire_classify(buf, len, &type) < 0) {
		c->st.malformed++;
		ntm_log_ratelimited(&c->rl, now, NTM_LOG_DEBUG,
				    "dropping a malformed datagram "
				    "of %zu bytes",
				    len);
		return;
	}
	switch (type) {
	case NTM_MSG_CTRL_INITIATION:
		on_initiation(c, ep, buf, len, from, now);
		break;
	case NTM_MSG_CTRL_DATA:
		on_data(c, ep, buf, len, from, now);
		break;
	default:
		c->st.unexpected++;
		break;
	}
}

static void on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *sa,
		    unsigned flags)
{
	struct dc_ep *ep = h->data;
	struct ntm_addr from = { 0 };

	if (n <= 0 || sa == NULL) {
		return; /* nothing more, or a transient error: libuv keeps receiving */
	}
	if ((flags & UV_UDP_PARTIAL) != 0 ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
		ep->c->st.rx++;
		ep->c->st.malformed++;
		return;
	}
	from.len = sa->sa_family == AF_INET ? sizeof(from.sin) : sizeof(from.sin6);
	memcpy(&from.ss, sa, from.len);
	dispatch(ep->c, ep, (const uint8_t *)buf->base, (size_t)n, &from);
}

/*
 * The default receive buffer (rmem_default, ~208 KiB) overflowed under
 * 100k nodes' keep-alives in the dcload benchmark. SO_RCVBUFFORCE passes
 * rmem_max when the DC runs with CAP_NET_ADMIN; otherwise the kernel's cap
 * applies, which is still no worse than before.
 */
static void grow_rcvbuf(struct dc_ep *ep)
{
	int size = DC_CTRL_RCVBUF;
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)&ep->udp, &fd) < 0) {
		return;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0) {
		ntm_log_debug("control socket: cannot grow its receive buffer");
	}
}

static int open_ep(struct dc_ctrl *c, const struct ntm_addr *a, bool alt, char *why, size_t whylen)
{
	struct dc_ep *ep = &c->eps[c->n_eps];
	char text[NTM_ADDR_STRLEN] = "?";
	int rc;

	ep->c = c;
	ep->addr = *a;
	ep->alt = alt;
	rc = uv_udp_init_ex(c->loop, &ep->udp, a->sa.sa_family);
	if (rc < 0) {
		goto fail;
	}
	ep->udp.data = ep;
	c->n_eps++;
	c->open_handles++;
	rc = uv_udp_bind(&ep->udp, &a->sa, a->sa.sa_family == AF_INET6 ? UV_UDP_IPV6ONLY : 0);
	if (rc == 0) {
		grow_rcvbuf(ep);
		rc = uv_udp_recv_start(&ep->udp, on_alloc, on_recv);
	}
	if (rc == 0) {
		return 0;
	}
fail:
	if (ntm_addr_format(a, text, sizeof(text)) < 0) {
		snprintf(text, sizeof(text), "?");
	}
	snprintf(why, whylen, "%s %s: %s", alt ? "AltListen" : "Listen", text, ntm_strerror(rc));
	return rc;
}

/* ---------------------------------------------------------------- life cycle */

static void on_sweep(uv_timer_t *t)
{
	struct dc_ctrl *c = t->data;
	uint64_t now = uv_now(c->loop);

	for (size_t i = 0; i < c->table.max; i++) {
		struct dc_csess *s = c->table.slots[i];

		if (s == NULL) {
			continue;
		}
		if ((!s->enrolled && now - s->created_ms >= DC_CTRL_PROBATION_MS) ||
		    now - s->last_rx_ms >= NTM_TIMERS_REJECT_AFTER_TIME_MS) {
			dc_ctable_remove(&c->table, s);
		}
	}
	dc_register_flush(c, false);
}

static int start(struct dc_ctrl *c, const struct dc_config *cfg, char *why, size_t whylen)
{
	int rc = ntm_noise_identity_create_profile(cfg->private_key->b, NTM_NOISE_CONTROL, &c->id);
	uint8_t pub[NTM_KEY_LEN];

	if (rc == 0) {
		rc = dc_ctable_init(&c->table, cfg->max_sessions);
		c->table.relays = c->cc.relays;
	}
	if (rc == 0) {
		rc = ntm_secpool_create(&c->secpool);
	}
	if (rc == 0) {
		ntm_noise_identity_set_pool(c->id, c->secpool);
		ntm_noise_identity_public(c->id, pub);
		rc = ntm_cookie_checker_create(pub, &c->checker);
	}
	if (rc < 0) {
		snprintf(why, whylen, "control channel: %s", ntm_strerror(rc));
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < cfg->listen.n; i++) {
		rc = open_ep(c, &cfg->listen.addrs[i], false, why, whylen);
	}
	for (size_t i = 0; rc == 0 && i < cfg->alt_listen.n; i++) {
		rc = open_ep(c, &cfg->alt_listen.addrs[i], true, why, whylen);
	}
	return rc;
}

int dc_ctrl_open(uv_loop_t *loop, const struct dc_ctrl_config *cc, struct dc_ctrl **out, char *why,
		 size_t whylen)
{
	struct dc_ctrl *c;
	int rc;

	*out = NULL;
	c = ntm_calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(why, whylen, "control channel: %s", ntm_strerror(-ENOMEM));
		return -ENOMEM;
	}
	c->loop = loop;
	c->cc = *cc;
	c->rl = (struct ntm_ratelimit)NTM_RATELIMIT_INIT(5000, 10);
	if (cc->relays != NULL) {
		dc_relays_set_sender(cc->relays, dc_rsreg_send, c);
	}
	uv_timer_init(loop, &c->sweep);
	c->sweep.data = c;
	c->open_handles = 1;
	rc = start(c, cc->cfg, why, whylen);
	if (rc < 0) {
		dc_ctrl_close(c, NULL, NULL);
		return rc;
	}
	uv_timer_start(&c->sweep, on_sweep, DC_CTRL_SWEEP_MS, DC_CTRL_SWEEP_MS);
	*out = c;
	return 0;
}

void dc_ctrl_close(struct dc_ctrl *c, void (*done)(void *arg), void *arg)
{
	if (ntm_close_null(c, done, arg)) {
		return;
	}
	c->done = done;
	c->done_arg = arg;
	if (c->cc.relays != NULL) {
		dc_relays_cancel(c->cc.relays); /* no allocation may call back into us now */
		dc_relays_set_sender(c->cc.relays, NULL, NULL);
	}
	if (c->id != NULL) {
		dc_register_flush(c, true);
	}
	for (size_t i = 0; i < c->n_eps; i++) {
		uv_close((uv_handle_t *)&c->eps[i].udp, on_closed);
	}
	uv_close((uv_handle_t *)&c->sweep, on_timer_closed);
}

void dc_ctrl_set_fed(struct dc_ctrl *c, struct dc_fed *fed)
{
	if (c != NULL) {
		c->fed = fed;
	}
}

void dc_ctrl_get_stats(const struct dc_ctrl *c, struct dc_ctrl_stats *out)
{
	uint64_t now = uv_now(c->loop);

	*out = c->st;
	out->sessions = c->table.n;
	for (size_t i = 0; i < c->table.max; i++) {
		const struct dc_csess *s = c->table.slots[i];

		if (s != NULL && s->registered) {
			out->registered_now++;
			out->online_now += dc_direction_is_online(c, s, now) ? 1 : 0;
		}
	}
}

/* Sends PEER_REVOKED about `key` to `s`, if it was told about that key. */
static bool tell_revoked(struct dc_ctrl *c, struct dc_csess *s, const struct ntm_key *key,
			 const char *fqdn, uint64_t now)
{
	uint8_t plain[NTM_CTRL_PLAIN_MAX];
	struct ntm_ctrl_msg m;
	struct ntm_wbuf w;
	bool told = false;

	for (size_t i = 0; i < s->n_told && !told; i++) {
		told = ntm_key_equal(&s->told[i], key);
	}
	if (!told || !dc_direction_is_online(c, s, now)) {
		return false;
	}
	ntm_ctrl_msg_init(&m, NTM_CTRL_PEER_REVOKED, 0);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_PUBKEY);
	memcpy(m.pubkey, key->b, sizeof(m.pubkey));
	if (fqdn != NULL && fqdn[0] != '\0' && strlen(fqdn) < sizeof(m.fqdn)) {
		m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN);
		snprintf(m.fqdn, sizeof(m.fqdn), "%s", fqdn);
	}
	ntm_wbuf_init(&w, plain, sizeof(plain));
	if (ntm_ctrl_msg_encode(&w, &m) < 0 || dc_ctrl_send(c, s, w.data, w.len, now) < 0) {
		return false;
	}
	/* A datagram may be lost: the node's peer then ages out as an idle one would. */
	c->st.revoked_sent++;
	return true;
}

size_t dc_ctrl_revoke(struct dc_ctrl *c, const struct ntm_key *pubkey, const char *fqdn)
{
	struct dc_csess *gone;

	if (c == NULL) {
		return 0;
	}
	gone = dc_ctable_by_key(&c->table, pubkey->b);
	if (gone != NULL) {
		dc_ctable_remove(&c->table, gone); /* its keys are wiped: the session ends now */
	}
	return dc_ctrl_tell_revoked(c, pubkey, fqdn) + dc_fedrevoke_revoked(c, pubkey, fqdn);
}

size_t dc_ctrl_tell_revoked(struct dc_ctrl *c, const struct ntm_key *pubkey, const char *fqdn)
{
	uint64_t now = uv_now(c->loop);
	size_t n = 0;

	for (size_t i = 0; i < c->table.max; i++) {
		struct dc_csess *s = c->table.slots[i];

		if (s != NULL && tell_revoked(c, s, pubkey, fqdn, now)) {
			n++;
		}
	}
	return n;
}
