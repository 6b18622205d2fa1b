/* SPDX-License-Identifier: MIT */
#include "mobility.h"

#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/timers.h"
#include "endnode/dcclient.h"
#include "endnode/localaddr.h"
#include "endnode/nl.h"
#include "endnode/node_internal.h"
#include "endnode/path.h"
#include "endnode/peer_internal.h"
#include "endnode/resolve.h"
#include "endnode/send.h"
#include "endnode/tun.h"
#include "endnode/udp.h"

/* What a move is decided on: compared as a whole. */
struct mob_state {
	struct ntm_addr cand[EN_MOB_STATE_MAX];
	size_t n_cand;
	struct ntm_addr source;
};

/* One peer being moved, by key (the peer object may go meanwhile). */
struct mob_peer {
	uint8_t key[NTM_WG_KEY_LEN];
	uint64_t rx_bytes; /* at the move */
	struct timespec last_handshake;
	bool answered;
	unsigned redirects;
};

/* The probe schedule after a move, in ms: probes, then re-direction checks. */
static const uint32_t schedule_ms[] = { EN_MOB_PROBE1_MS,	2 * EN_MOB_PROBE1_MS,
					4 * EN_MOB_PROBE1_MS,	EN_MOB_REDIRECT_MS,
					2 * EN_MOB_REDIRECT_MS, 3 * EN_MOB_REDIRECT_MS };

enum {
	N_STEPS = sizeof(schedule_ms) / sizeof(schedule_ms[0]),
};

struct en_mobility {
	struct en_node *n;
	struct nl_sock *sock;
	uv_poll_t poll;
	uv_timer_t settle;
	uv_timer_t probe;
	uint64_t burst_start_ms; /* first event of the burst being settled; 0: none */
	struct mob_state state;	 /* of the last move (or the start) */
	uint64_t moves;
	uint64_t move_ms;
	uint64_t prev_move_ms; /* the move before */
	unsigned step;	       /* the next entry of schedule_ms */
	struct mob_peer *peers;
	size_t n_peers;
	unsigned pending; /* handles still closing */
	void (*done)(void *arg);
	void *done_arg;
};

/* ---------------------------------------------------------------- state */

/* The source address the kernel picks towards `to` (port cleared); len 0 when none. */
static void source_towards(const struct ntm_addr *to, struct ntm_addr *out)
{
	socklen_t len = sizeof(out->ss);
	int fd;

	memset(out, 0, sizeof(*out));
	if (to->len == 0) {
		return;
	}
	fd = socket(to->sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return;
	}
	if (connect(fd, &to->sa, to->len) == 0 && getsockname(fd, &out->sa, &len) == 0) {
		out->len = len;
		if (out->sa.sa_family == AF_INET) {
			out->sin.sin_port = 0;
		} else {
			out->sin6.sin6_port = 0;
		}
	} else {
		memset(out, 0, sizeof(*out));
	}
	close(fd);
}

/* Towards the DC in use, else the first peer with an endpoint. */
static void read_state(const struct en_mobility *m, struct mob_state *s)
{
	struct en_node *n = m->n;
	struct en_dcclient_info info;
	const struct ntm_addr *to = NULL;

	memset(s, 0, sizeof(*s));
	s->n_cand = en_localaddr_candidates(en_udp_port(n->udp), en_udp_has_family(n->udp, AF_INET),
					    en_udp_has_family(n->udp, AF_INET6), n->ifname, s->cand,
					    EN_MOB_STATE_MAX);
	if (n->dc != NULL) {
		en_dcclient_get_info(n->dc, &info);
		to = &info.endpoint;
	}
	for (struct en_peer *p = n->peers; (to == NULL || to->len == 0) && p != NULL; p = p->next) {
		to = &p->endpoint;
	}
	if (to != NULL) {
		source_towards(to, &s->source);
	}
}

static bool same_state(const struct mob_state *a, const struct mob_state *b)
{
	if (a->n_cand != b->n_cand || !ntm_addr_equal(&a->source, &b->source)) {
		return false;
	}
	for (size_t i = 0; i < a->n_cand; i++) {
		if (!ntm_addr_equal(&a->cand[i], &b->cand[i])) {
			return false;
		}
	}
	return true;
}

static const char *addr_text(const struct ntm_addr *a, char *buf, size_t cap)
{
	if (a->len == 0 || ntm_addr_format(a, buf, cap) < 0) {
		snprintf(buf, cap, "none");
	}
	return buf;
}

/* ---------------------------------------------------------------- peers */

static bool peer_answered(struct mob_peer *mp, const struct en_peer *p)
{
	mp->answered = mp->answered || p->rx_bytes != mp->rx_bytes ||
		       p->last_handshake.tv_sec != mp->last_handshake.tv_sec ||
		       p->last_handshake.tv_nsec != mp->last_handshake.tv_nsec;
	return mp->answered;
}

/*
 * A keep-alive on a usable session (authenticated from the new address: a
 * public peer roams at once) and an initiation (answered by the peer, which
 * tells us the tunnel works from here).
 */
static void probe_peer(struct en_peer *p, uint64_t now)
{
	if (p->endpoint.len == 0) {
		return;
	}
	if (en_peer_send_keypair(p, now) != NULL) {
		en_send_keepalive(p);
	}
	en_send_initiation(p);
	en_peer_drive(p);
}

/* Snapshots every peer and probes it. */
static void start_peers(struct en_mobility *m, uint64_t now)
{
	struct en_node *n = m->n;
	size_t i = 0;

	ntm_free(m->peers);
	m->n_peers = 0;
	m->peers = n->n_peers > 0 ? ntm_calloc(n->n_peers, sizeof(*m->peers)) : NULL;
	if (m->peers == NULL) {
		return;
	}
	for (struct en_peer *p = n->peers; p != NULL && i < n->n_peers; p = p->next, i++) {
		memcpy(m->peers[i].key, p->public_key, NTM_WG_KEY_LEN);
		m->peers[i].rx_bytes = p->rx_bytes;
		m->peers[i].last_handshake = p->last_handshake;
	}
	m->n_peers = i;
	for (i = 0; i < m->n_peers; i++) {
		struct en_peer *p = en_peer_find(n, m->peers[i].key);

		if (p != NULL) {
			probe_peer(p, now);
		}
	}
}

/* The DC tells both ends again; a relay bridges while they punch anew. */
static void redirect_peer(struct en_mobility *m, struct mob_peer *mp, struct en_peer *p)
{
	const char *fqdn = en_resolver_learned_fqdn(m->n->resolver, mp->key);
	int rc;

	if (fqdn == NULL || m->n->dc == NULL || mp->redirects >= EN_MOB_REDIRECT_TRIES) {
		return;
	}
	mp->redirects++;
	rc = en_dcclient_redirect(m->n->dc, randombytes_random() | 1, fqdn);
	if (rc < 0) {
		ntm_log_info("%s: no answer since the move; re-direction: %s", p->label,
			     ntm_strerror(rc));
		return;
	}
	ntm_log_info("%s: no answer since the move; asking the DC to re-direct %s", p->label, fqdn);
}

/*
 * The DC said the peer is behind a NAT and the path is not the relay (which
 * follows us through the re-bound session): its NAT filters our new
 * address, so the probes cannot get through and waiting EN_MOB_REDIRECT_MS
 * would only lengthen the gap.
 */
static bool behind_filter(const struct en_mobility *m, const struct mob_peer *mp)
{
	struct en_resolver_path rp;

	if (!en_resolver_learned_path(m->n->resolver, mp->key, &rp)) {
		return false;
	}
	return rp.path != NTM_CTRL_PATH_RELAY && rp.nat_peer != NTM_CTRL_NAT_PUBLIC;
}

static void on_probe(uv_timer_t *t)
{
	struct en_mobility *m = t->data;
	uint64_t now = en_node_now(m->n);
	bool redirect = schedule_ms[m->step] >= EN_MOB_REDIRECT_MS;

	for (size_t i = 0; i < m->n_peers; i++) {
		struct en_peer *p = en_peer_find(m->n, m->peers[i].key);

		if (p == NULL || peer_answered(&m->peers[i], p)) {
			continue;
		}
		if (redirect || (m->step == 0 && behind_filter(m, &m->peers[i]))) {
			redirect_peer(m, &m->peers[i], p);
		}
		if (!redirect) {
			probe_peer(p, now);
		}
	}
	if (++m->step < N_STEPS) {
		uint64_t due = m->move_ms + schedule_ms[m->step];

		uv_timer_start(&m->probe, on_probe, due > now ? due - now : 0, 0);
	}
}

/* ---------------------------------------------------------------- moves */

static void on_settle(uv_timer_t *t);

static void log_move(const struct en_mobility *m, const struct mob_state *s)
{
	char src[NTM_ADDR_STRLEN], c0[NTM_ADDR_STRLEN];

	ntm_log_info("%s: address change: source %s, %zu candidate(s)%s%s; moving %zu tunnel(s)",
		     m->n->ifname, addr_text(&s->source, src, sizeof(src)), s->n_cand,
		     s->n_cand > 0 ? ", first " : "",
		     s->n_cand > 0 ? addr_text(&s->cand[0], c0, sizeof(c0)) : "", m->n->n_peers);
}

/* `s` NULL: the NAT rebound (no local change, no new registration). */
static void move(struct en_mobility *m, const struct mob_state *s)
{
	uint64_t now = en_node_now(m->n);

	if (s != NULL) {
		log_move(m, s);
		m->state = *s;
	}
	m->moves++;
	m->prev_move_ms = m->move_ms;
	m->move_ms = now;
	if (m->n->dc != NULL && s != NULL) {
		en_dcclient_moved(m->n->dc);
	}
	en_pathmgr_moved(m->n->pathmgr);
	start_peers(m, now);
	m->step = 0;
	uv_timer_start(&m->probe, on_probe, schedule_ms[0], 0);
}

static void on_settle(uv_timer_t *t)
{
	en_mobility_check(t->data);
}

void en_mobility_check(struct en_mobility *m)
{
	uint64_t now = en_node_now(m->n), hold;
	struct mob_state s;

	m->burst_start_ms = 0;
	read_state(m, &s);
	if (same_state(&s, &m->state)) {
		ntm_log_debug("%s: address events settled; nothing moved", m->n->ifname);
		return;
	}
	if (s.source.len == 0 && s.n_cand == 0) {
		/* Nowhere to move to: the next address is the move. */
		ntm_log_info("%s: no usable address; waiting for one", m->n->ifname);
		m->state = s;
		return;
	}
	/* Flapping: two moves within EN_MOB_FLAP_WINDOW_MS, then one per EN_MOB_SETTLE_MAX_MS. */
	hold = m->move_ms + EN_MOB_SETTLE_MAX_MS;
	if (m->moves >= 2 && now - m->prev_move_ms < EN_MOB_FLAP_WINDOW_MS && now < hold) {
		uv_timer_start(&m->settle, on_settle, hold - now, 0);
		return;
	}
	move(m, &s);
}

/* Restarts the settle timer, within EN_MOB_SETTLE_MAX_MS of the burst's first event. */
static void note_event(struct en_mobility *m)
{
	uint64_t now = en_node_now(m->n), wait = EN_MOB_SETTLE_MS;

	if (m->burst_start_ms == 0) {
		m->burst_start_ms = now;
	}
	if (now + wait > m->burst_start_ms + EN_MOB_SETTLE_MAX_MS) {
		wait = m->burst_start_ms + EN_MOB_SETTLE_MAX_MS > now
			       ? m->burst_start_ms + EN_MOB_SETTLE_MAX_MS - now
			       : 0;
	}
	uv_timer_start(&m->settle, on_settle, wait, 0);
}

/* ---------------------------------------------------------------- netlink */

/* Addresses of other interfaces than the TUN and lo; default routes (any table). */
static bool is_relevant(const struct en_mobility *m, const struct nlmsghdr *h)
{
	int tun = m->n->tun != NULL ? en_tun_ifindex(m->n->tun) : 0;

	if (h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR) {
		const struct ifaddrmsg *ifa = nlmsg_data(h);
		char name[IF_NAMESIZE];

		if (!nlmsg_valid_hdr(h, sizeof(*ifa)) || (int)ifa->ifa_index == tun) {
			return false;
		}
		/* A gone interface has no name any more: relevant. */
		return if_indextoname(ifa->ifa_index, name) == NULL || strcmp(name, "lo") != 0;
	}
	if (h->nlmsg_type == RTM_NEWROUTE || h->nlmsg_type == RTM_DELROUTE) {
		const struct rtmsg *rt = nlmsg_data(h);

		return nlmsg_valid_hdr(h, sizeof(*rt)) && rt->rtm_dst_len == 0 &&
		       rt->rtm_type == RTN_UNICAST;
	}
	return false;
}

static int on_nl_msg(struct nl_msg *msg, void *arg)
{
	struct en_mobility *m = arg;

	if (is_relevant(m, nlmsg_hdr(msg))) {
		note_event(m);
	}
	return NL_OK;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct en_mobility *m = h->data;
	int rc;

	(void)events;
	if (status < 0) {
		ntm_log_warn("netlink watch: %s", uv_strerror(status));
		return;
	}
	for (int i = 0; i < 64; i++) {
		rc = nl_recvmsgs_default(m->sock);
		if (rc == -NLE_AGAIN) {
			return;
		}
		if (rc < 0) {
			/* Overrun (ENOBUFS) or a bad message: events were lost, look at the state.
			 */
			ntm_log_debug("netlink watch: %s", nl_geterror(rc));
			note_event(m);
		}
	}
}

static int open_socket(struct en_mobility *m)
{
	int rc;

	m->sock = nl_socket_alloc();
	if (m->sock == NULL) {
		return -ENOMEM;
	}
	nl_socket_disable_seq_check(m->sock);
	nl_socket_disable_auto_ack(m->sock);
	rc = nl_socket_modify_cb(m->sock, NL_CB_VALID, NL_CB_CUSTOM, on_nl_msg, m);
	if (rc == 0) {
		rc = nl_connect(m->sock, NETLINK_ROUTE);
	}
	if (rc == 0) {
		rc = nl_socket_add_memberships(m->sock, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
					       RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, 0);
	}
	if (rc == 0) {
		rc = nl_socket_set_nonblocking(m->sock);
	}
	return en_nl_errno(rc);
}

int en_mobility_create(struct en_node *n, struct en_mobility **out)
{
	struct en_mobility *m = ntm_calloc(1, sizeof(*m));
	int rc;

	*out = NULL;
	if (m == NULL) {
		return -ENOMEM;
	}
	m->n = n;
	rc = open_socket(m);
	if (rc == 0) {
		rc = uv_poll_init(n->loop, &m->poll, nl_socket_get_fd(m->sock));
	}
	if (rc < 0) {
		nl_socket_free(m->sock);
		ntm_free(m);
		return rc;
	}
	m->poll.data = m;
	uv_timer_init(n->loop, &m->settle);
	m->settle.data = m;
	uv_timer_init(n->loop, &m->probe);
	m->probe.data = m;
	uv_poll_start(&m->poll, UV_READABLE, on_readable);
	read_state(m, &m->state);
	*out = m;
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	struct en_mobility *m = h->data;
	void (*done)(void *arg) = m->done;
	void *arg = m->done_arg;

	if (--m->pending > 0) {
		return;
	}
	nl_socket_free(m->sock);
	ntm_free(m->peers);
	ntm_free(m);
	if (done != NULL) {
		done(arg);
	}
}

void en_mobility_close(struct en_mobility *m, void (*done)(void *arg), void *arg)
{
	m->done = done;
	m->done_arg = arg;
	m->pending = 3;
	uv_close((uv_handle_t *)&m->poll, on_closed);
	uv_close((uv_handle_t *)&m->settle, on_closed);
	uv_close((uv_handle_t *)&m->probe, on_closed);
}

void en_mobility_outside_changed(struct en_mobility *m)
{
	uint64_t now = en_node_now(m->n);
	struct mob_state s;

	if ((m->moves > 0 && now - m->move_ms < EN_MOB_OWN_CHANGE_MS) || m->burst_start_ms != 0) {
		return;
	}
	read_state(m, &s);
	if (!same_state(&s, &m->state)) {
		note_event(m); /* a local change the events have not shown yet */
		return;
	}
	ntm_log_info("%s: the DC sees a new outside address without a local change (NAT "
		     "rebinding); moving %zu tunnel(s)",
		     m->n->ifname, m->n->n_peers);
	move(m, NULL);
}

void en_mobility_get_info(const struct en_mobility *m, struct en_mobility_info *out)
{
	memset(out, 0, sizeof(*out));
	out->last_move_ms = -1;
	if (m == NULL) {
		return;
	}
	out->moves = m->moves;
	out->source = m->state.source;
	if (m->moves > 0) {
		out->last_move_ms = (int64_t)(en_node_now(m->n) - m->move_ms);
	}
}
