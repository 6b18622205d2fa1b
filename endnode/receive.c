/* SPDX-License-Identifier: MIT */
#include "receive.h"

#include <string.h>
#include <time.h>

#include "common/transport.h"
#include "common/wire.h"
#include "endnode/gro.h"
#include "endnode/ip.h"
#include "endnode/node_internal.h"
#include "endnode/path.h"
#include "endnode/peer_internal.h"
#include "endnode/resolve.h"
#include "endnode/restore.h"
#include "endnode/send.h"

/* ---------------------------------------------------------------- reachability */

/* An authenticated packet from `peer`: it answers (reach.h). */
static void note_heard(struct en_peer *peer, uint64_t now)
{
	if (en_reach_received(&peer->reach, now)) {
		ntm_log_info("%s: reachable again", peer->label);
	}
}

/* ---------------------------------------------------------------- handshake macs and load */

/*
 * Whether the node is under load before this message (see EN_LOAD_*), and
 * counting the message when `count`.
 */
static bool is_under_load(struct en_node *n, uint64_t now)
{
	return now < n->load.until_ms;
}

static void count_handshake(struct en_node *n, uint64_t now)
{
	struct en_load *l = &n->load;

	if (now - l->window_start_ms >= EN_LOAD_WINDOW_MS) {
		l->window_start_ms = now;
		l->count = 0;
	}
	if (++l->count > EN_LOAD_HANDSHAKES_PER_SEC) {
		l->until_ms = now + EN_LOAD_WINDOW_MS;
	}
}

static void cookie_pkt_of(struct ntm_cookie_pkt *pkt, const uint8_t *buf, size_t len,
			  const struct ntm_addr *from)
{
	*pkt = (struct ntm_cookie_pkt){ .msg = buf, .len = len, .port = ntm_addr_port(from) };
	if (from->sa.sa_family == AF_INET6) {
		pkt->addr = from->sin6.sin6_addr.s6_addr;
		pkt->addr_len = 16;
	} else {
		pkt->addr = (const uint8_t *)&from->sin.sin_addr.s_addr;
		pkt->addr_len = 4;
	}
}

/*
 * Whitepaper 5.3/5.4.7: mac1 first (a bad one is dropped without a word);
 * under load, mac2 must prove the source address, otherwise the sender gets
 * a cookie reply instead of a handshake. Returns true to go on.
 */
static bool check_macs(struct en_node *n, const uint8_t *buf, size_t len,
		       const struct ntm_addr *from)
{
	uint64_t now = en_node_now(n);
	bool load = is_under_load(n, now);
	struct ntm_cookie_pkt pkt;
	enum ntm_cookie_verdict v;

	cookie_pkt_of(&pkt, buf, len, from);
	v = ntm_cookie_validate(n->checker, &pkt, now, load);
	if (v == NTM_COOKIE_BAD) {
		en_node_drop(n, NULL, EN_DROP_MAC1);
		return false;
	}
	count_handshake(n, now);
	if (load && v != NTM_COOKIE_MAC2_OK) {
		en_node_drop(n, NULL, EN_DROP_COOKIE);
		en_send_cookie_reply(n, &pkt, from);
		return false;
	}
	return true;
}

static void mark_handshake_complete(struct en_peer *peer, uint64_t now)
{
	ntm_timers_handshake_complete(peer->timers, now);
	clock_gettime(CLOCK_REALTIME, &peer->last_handshake);
	ntm_log_info("%s: handshake complete", peer->label);
	en_pathmgr_handshake_done(peer->node->pathmgr, peer);
	if (peer->node->resolver != NULL) {
		en_resolver_handshake_done(peer->node->resolver, peer);
	}
	en_restore_note_handshake(peer->node, peer);
}

/* ---------------------------------------------------------------- initiation */

struct lookup_ctx {
	struct en_node *n;
	struct en_peer *peer; /* the key's peer, even when refused */
	bool flood;
	bool looked_up; /* the initiation decrypted to a static key */
};

/* Whitepaper 5.3: at most one initiation per peer per EN_PEER_INITIATION_MIN_MS. */
static struct ntm_noise_handshake *lookup_peer(void *ctx, const uint8_t *static_pub)
{
	struct lookup_ctx *lc = ctx;
	uint64_t now = en_node_now(lc->n);
	struct en_peer *peer = en_peer_find(lc->n, static_pub);

	lc->looked_up = true;
	lc->peer = peer;
	if (peer == NULL) {
		return NULL;
	}
	if (peer->last_initiation_rx_ms != 0 &&
	    now < peer->last_initiation_rx_ms + EN_PEER_INITIATION_MIN_MS) {
		lc->flood = true;
		return NULL;
	}
	return peer->hs;
}

/* Keeps an initiation from a key not known yet (node_internal.h), overwriting the oldest. */
static void hold_initiation(struct en_node *n, const uint8_t *buf, size_t len,
			    const struct ntm_addr *from)
{
	struct en_held *slot = &n->held[0];

	for (int i = 0; i < EN_HELD_MAX; i++) {
		if (!n->held[i].used || n->held[i].at_ms < slot->at_ms) {
			slot = &n->held[i];
			if (!slot->used) {
				break;
			}
		}
	}
	memcpy(slot->buf, buf, len);
	slot->from = *from;
	slot->at_ms = en_node_now(n);
	slot->used = true;
	ntm_log_ratelimited(&n->rl, slot->at_ms, NTM_LOG_DEBUG,
			    "initiation from an unknown key held for a direction");
}

static void on_initiation(struct en_node *n, const uint8_t *buf, size_t len,
			  const struct ntm_addr *from)
{
	struct lookup_ctx lc = { .n = n };
	struct ntm_noise_handshake *hs;
	struct ntm_wg_initiation m;
	struct en_peer *peer;
	uint64_t now;
	int rc;

	if (!check_macs(n, buf, len, from) || ntm_wire_decode_initiation(buf, len, &m) < 0) {
		return;
	}
	rc = ntm_noise_consume_initiation(n->id, &m, lookup_peer, &lc, &hs);
	if (rc == -ENOKEY && lc.looked_up && lc.peer == NULL && n->resolver != NULL &&
	    len == NTM_WG_INITIATION_LEN) {
		hold_initiation(n, buf, len, from);
		return;
	}
	if (rc < 0) {
		en_node_drop(n, lc.peer,
			     lc.flood	     ? EN_DROP_FLOOD
			     : rc == -ESTALE ? EN_DROP_HANDSHAKE_REPLAY
					     : EN_DROP_HANDSHAKE);
		return;
	}
	peer = ntm_noise_handshake_owner(hs);
	now = en_node_now(n);
	peer->last_initiation_rx_ms = now;
	en_pathmgr_note_rx(n->pathmgr, peer, from, false);
	ntm_log_debug("%s: handshake initiation received", peer->label);
	ntm_timers_any_authenticated_packet_received(peer->timers, now);
	note_heard(peer, now);
	ntm_timers_any_authenticated_packet_traversal(peer->timers, now);
	rc = en_send_response(peer);
	if (rc < 0) {
		en_node_drop(n, peer, EN_DROP_HANDSHAKE);
		ntm_log_debug("%s: cannot answer: %s", peer->label, ntm_strerror(rc));
	}
	en_peer_drive(peer);
}

/* ---------------------------------------------------------------- response */

static void on_response(struct en_node *n, const uint8_t *buf, size_t len,
			const struct ntm_addr *from)
{
	struct ntm_noise_keypair kp;
	struct ntm_wg_response m;
	struct en_index_entry *e;
	struct en_peer *peer;
	uint64_t now = en_node_now(n);
	int rc;

	if (!check_macs(n, buf, len, from) || ntm_wire_decode_response(buf, len, &m) < 0) {
		return;
	}
	e = en_index_lookup(n->index, m.receiver, EN_INDEX_HANDSHAKE);
	if (e == NULL) {
		en_node_drop(n, NULL, EN_DROP_UNKNOWN_INDEX);
		return;
	}
	peer = e->peer;
	rc = ntm_noise_consume_response(peer->hs, &m);
	if (rc == 0) {
		rc = ntm_noise_begin_session(peer->hs, now, &kp);
		if (rc == 0) {
			rc = en_peer_install_keypair(peer, &kp);
		}
		ntm_noise_keypair_wipe(&kp);
	}
	if (rc < 0) {
		en_node_drop(n, peer, EN_DROP_HANDSHAKE);
		return;
	}
	en_pathmgr_note_rx(n->pathmgr, peer, from, false);
	ntm_timers_any_authenticated_packet_received(peer->timers, now);
	note_heard(peer, now);
	ntm_timers_any_authenticated_packet_traversal(peer->timers, now);
	ntm_timers_session_derived(peer->timers, now);
	mark_handshake_complete(peer, now);
	/* Confirms the session to the responder (it sends nothing before this arrives). */
	en_send_keepalive(peer);
	en_peer_drive(peer);
}

/* ---------------------------------------------------------------- cookie reply */

static void on_cookie_reply(struct en_node *n, const uint8_t *buf, size_t len)
{
	struct ntm_wg_cookie_reply r;
	struct en_index_entry *e;

	if (ntm_wire_decode_cookie_reply(buf, len, &r) < 0) {
		return;
	}
	e = en_index_lookup(n->index, r.receiver, EN_INDEX_HANDSHAKE | EN_INDEX_KEYPAIR);
	if (e == NULL) {
		en_node_drop(n, NULL, EN_DROP_UNKNOWN_INDEX);
		return;
	}
	if (ntm_cookie_consume_reply(e->peer->cookie, &r, en_node_now(n)) < 0) {
		en_node_drop(n, e->peer, EN_DROP_HANDSHAKE);
		return;
	}
	ntm_log_debug("%s: cookie received (the peer is under load)", e->peer->label);
}

/* ---------------------------------------------------------------- data */

/* The decrypted payload: a keepalive, or an IP packet from the peer's AllowedIPs. */
static void deliver(struct en_peer *peer, const uint8_t *plain, size_t len)
{
	struct en_node *n = peer->node;
	struct en_ip_info ip;

	if (en_ip_parse(plain, len, &ip) < 0) {
		en_node_drop(n, peer, EN_DROP_INNER);
		return;
	}
	if (en_allowedips_lookup(n->allowedips, ip.family, ip.src) != peer) {
		en_node_drop(n, peer, EN_DROP_SOURCE);
		ntm_log_ratelimited(&peer->rl, en_node_now(n), NTM_LOG_DEBUG,
				    "%s: inner source address not in its AllowedIPs", peer->label);
		return;
	}
	if (n->gro != NULL) {
		en_gro_add(n->gro, peer, plain, ip.len);
		return;
	}
	if (n->io.tun_write == NULL || n->io.tun_write(n->io.ctx, plain, ip.len) < 0) {
		en_node_drop(n, peer, EN_DROP_TUN_WRITE);
	}
}

/* Timer events and key rotation after an authenticated data message (wg receive.c). */
static void on_authenticated(struct en_peer *peer, struct en_keypair *k, uint64_t counter,
			     size_t plain_len)
{
	uint64_t now = en_node_now(peer->node);
	struct ntm_timers_session s = { .birth_ms = k->kp.created_ms,
					.counter = counter,
					.is_initiator = k->kp.is_initiator };

	if (en_peer_confirm_keypair(peer, k)) {
		mark_handshake_complete(peer, now);
		en_send_staged(peer);
	}
	if (ntm_timers_should_rekey_on_receive(&s, now)) {
		ntm_timers_want_handshake_on_receive(peer->timers, now);
	}
	ntm_timers_any_authenticated_packet_received(peer->timers, now);
	note_heard(peer, now);
	ntm_timers_any_authenticated_packet_traversal(peer->timers, now);
	if (plain_len > 0) {
		ntm_timers_data_received(peer->timers, now);
	}
}

static void on_data(struct en_node *n, uint8_t *buf, size_t len, const struct ntm_addr *from)
{
	uint8_t *plain = buf + NTM_WG_DATA_HEADER_LEN;
	struct ntm_timers_session s;
	struct ntm_wg_data m;
	struct en_index_entry *e;
	struct en_keypair *k;
	struct en_peer *peer;
	size_t plain_len;

	if (ntm_wire_decode_data(buf, len, &m) < 0) {
		return;
	}
	e = en_index_lookup(n->index, m.receiver, EN_INDEX_KEYPAIR);
	if (e == NULL) {
		en_node_drop(n, NULL, EN_DROP_UNKNOWN_INDEX);
		return;
	}
	k = e->obj;
	s = (struct ntm_timers_session){ .birth_ms = k->kp.created_ms, .counter = m.counter };
	if (!ntm_timers_session_is_usable(&s, en_node_now(n))) {
		en_node_drop(n, e->peer, EN_DROP_EXPIRED);
		return;
	}
	if (ntm_transport_decrypt(&k->kp, &m, plain, len - NTM_WG_DATA_HEADER_LEN, &plain_len) <
	    0) {
		en_node_drop(n, e->peer, EN_DROP_AUTH);
		return;
	}
	if (ntm_replay_check_and_update(&k->replay, m.counter) < 0) {
		en_node_drop(n, e->peer, EN_DROP_REPLAY);
		return;
	}
	peer = e->peer;
	en_pathmgr_note_rx(n->pathmgr, peer, from, false);
	peer->rx_bytes += len;
	on_authenticated(peer, k, m.counter, plain_len);
	if (plain_len > 0) {
		deliver(peer, plain, plain_len);
	} else {
		ntm_log_ratelimited(&peer->rl, en_node_now(n), NTM_LOG_DEBUG,
				    "%s: keepalive received", peer->label);
	}
	en_peer_drive(peer);
}

/* ---------------------------------------------------------------- dispatch */

void en_receive_datagram(struct en_node *n, uint8_t *buf, size_t len, const struct ntm_addr *from)
{
	enum ntm_msg_type type;

	if (ntm_wire_classify(buf, len, &type) < 0) {
		en_node_drop(n, NULL, EN_DROP_MALFORMED);
		ntm_log_ratelimited(&n->rl, en_node_now(n), NTM_LOG_DEBUG,
				    "dropping a malformed datagram of %zu bytes", len);
		return;
	}
	switch (type) {
	case NTM_MSG_WG_INITIATION:
		on_initiation(n, buf, len, from);
		break;
	case NTM_MSG_WG_RESPONSE:
		on_response(n, buf, len, from);
		break;
	case NTM_MSG_WG_COOKIE_REPLY:
		on_cookie_reply(n, buf, len);
		break;
	case NTM_MSG_WG_DATA:
		on_data(n, buf, len, from);
		break;
	case NTM_MSG_RELAY_FRAME:
	case NTM_MSG_RELAY_BIND_OK:
		/* Unwrapped before WireGuard sees it; no path manager (no DC): nothing relayed. */
		if (n->pathmgr == NULL) {
			en_node_drop(n, NULL, EN_DROP_MALFORMED);
		} else {
			en_pathmgr_receive(n->pathmgr, buf, len, from);
		}
		break;
	case NTM_MSG_CTRL_INITIATION:
	case NTM_MSG_CTRL_RESPONSE:
	case NTM_MSG_CTRL_COOKIE_REPLY:
	case NTM_MSG_CTRL_DATA:
		en_node_dc_receive(n, buf, len, from);
		break;
	default:
		en_node_drop(n, NULL, EN_DROP_MALFORMED);
		break;
	}
}

void en_receive_release_held(struct en_node *n)
{
	struct en_held held[EN_HELD_MAX];
	uint64_t now = en_node_now(n);

	/* A copy: an initiation still from an unknown key is held again. */
	memcpy(held, n->held, sizeof(held));
	memset(n->held, 0, sizeof(n->held));
	for (int i = 0; i < EN_HELD_MAX; i++) {
		if (!held[i].used) {
			continue;
		}
		if (now - held[i].at_ms <= EN_HELD_MS) {
			on_initiation(n, held[i].buf, sizeof(held[i].buf), &held[i].from);
		} else {
			en_node_drop(n, NULL, EN_DROP_HANDSHAKE);
		}
	}
}
