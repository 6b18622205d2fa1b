/* SPDX-License-Identifier: MIT */
#include "send.h"

#include <sodium.h>
#include <string.h>

#include "common/alloc.h"
#include "common/crypto.h"
#include "common/transport.h"
#include "endnode/batch.h"
#include "endnode/ip.h"
#include "common/relay.h"
#include "endnode/node_internal.h"
#include "endnode/path.h"
#include "endnode/peer_internal.h"
#include "endnode/resolve.h"
#include "endnode/trigger.h"

enum {
	/* ICMP errors are small: the minimum MTU of each family. */
	ICMP_BUF = 1280,
};

/* Sends n->tx[0..len) to the peer; counts the drop reason on failure. */
static int send_to_peer(struct en_peer *peer, size_t len)
{
	struct en_node *n = peer->node;
	const struct ntm_addr *to;
	uint32_t session = en_pathmgr_route(n->pathmgr, peer, &to);
	struct ntm_wbuf w;
	int rc;

	if (session != 0) {
		/* The relay path: the message moves behind a relay frame header (path.h). */
		if (len + NTM_RELAY_HEADER_LEN > sizeof(n->tx)) {
			en_node_drop(n, peer, EN_DROP_SEND);
			return -EMSGSIZE;
		}
		memmove(n->tx + NTM_RELAY_HEADER_LEN, n->tx, len);
		ntm_wbuf_init(&w, n->tx, NTM_RELAY_HEADER_LEN);
		(void)!ntm_relay_encode_frame_header(&w, session);
		len += NTM_RELAY_HEADER_LEN;
	}
	rc = en_node_udp_send(n, to, n->tx, len);

	if (rc < 0) {
		en_node_drop(n, peer, rc == -EDESTADDRREQ ? EN_DROP_NO_ENDPOINT : EN_DROP_SEND);
		ntm_log_ratelimited(&peer->rl, en_node_now(n), NTM_LOG_DEBUG, "%s: send: %s",
				    peer->label, ntm_strerror(rc));
		return rc;
	}
	peer->tx_bytes += len;
	return 0;
}

/* Sends a batch of data messages, in one go where the sockets can (UDP GSO). */
static void send_batch(struct en_node *n, const struct en_batch_out *o)
{
	struct en_peer *peer = o->owner;
	int rc = en_node_udp_send_gso(n, &o->to, o->buf, o->len, o->seg);

	if (rc == 0) {
		peer->tx_bytes += o->len;
		return;
	}
	/* Counted as lost together: a GSO send fails or succeeds as a whole. */
	for (unsigned i = 0; i < o->count; i++) {
		en_node_drop(n, peer, rc == -EDESTADDRREQ ? EN_DROP_NO_ENDPOINT : EN_DROP_SEND);
	}
	ntm_log_ratelimited(&peer->rl, en_node_now(n), NTM_LOG_DEBUG, "%s: send: %s", peer->label,
			    ntm_strerror(rc));
}

void en_send_flush(struct en_node *n)
{
	struct en_batch_out o;

	if (en_batch_take(n->batch, &o)) {
		send_batch(n, &o);
	}
}

/*
 * Encrypts one packet (len 0: a keepalive) on `k` straight into the node's
 * batch (whitepaper 5.4.6). The timers count it as sent from here: a later
 * send failure is a drop, as a full queue is for the Linux module.
 */
static void send_data(struct en_peer *peer, struct en_keypair *k, const uint8_t *pkt, size_t len)
{
	struct en_node *n = peer->node;
	uint64_t now = en_node_now(n);
	struct ntm_transport_pkt p = {
		.plain = pkt, .len = len, .mtu = n->mtu, .counter = k->send_counter
	};
	const struct ntm_addr *to;
	uint32_t session = en_pathmgr_route(n->pathmgr, peer, &to);
	size_t hdr = session != 0 ? NTM_RELAY_HEADER_LEN : 0;
	size_t msg_len = ntm_transport_msg_len(len, n->mtu) + hdr;
	struct ntm_timers_session s;
	struct ntm_wbuf w;
	uint8_t *slot;

	if (msg_len > EN_BATCH_BYTES_MAX) {
		en_node_drop(n, peer, EN_DROP_SEND);
		return;
	}
	if (!en_batch_fits(n->batch, to, peer, msg_len)) {
		en_send_flush(n);
	}
	slot = en_batch_reserve(n->batch, to, peer, msg_len);
	ntm_wbuf_init(&w, slot, msg_len);
	/* Relayed: the frame header first, the data message built in place behind it. */
	if ((hdr > 0 && ntm_relay_encode_frame_header(&w, session) < 0) ||
	    ntm_transport_encrypt(&k->kp, &p, &w) < 0) {
		en_node_drop(n, peer, EN_DROP_SEND);
		return;
	}
	en_batch_commit(n->batch, w.len);
	k->send_counter++;
	ntm_timers_any_authenticated_packet_traversal(peer->timers, now);
	ntm_timers_any_authenticated_packet_sent(peer->timers, now);
	if (len > 0) {
		ntm_timers_data_sent(peer->timers, now);
		en_reach_wanted(&peer->reach, now);
		en_pathmgr_note_wanted(n->pathmgr, peer);
	}
	s = (struct ntm_timers_session){ .birth_ms = k->kp.created_ms,
					 .counter = k->send_counter,
					 .is_initiator = k->kp.is_initiator };
	if (ntm_timers_should_rekey_on_send(&s, now)) {
		ntm_timers_want_handshake(peer->timers, now);
	}
}

void en_send_staged(struct en_peer *peer)
{
	uint64_t now = en_node_now(peer->node);
	struct en_keypair *k;
	uint8_t *pkt;
	size_t len;

	if (peer->staged.count == 0) {
		return;
	}
	k = en_peer_send_keypair(peer, now);
	if (k == NULL) {
		ntm_timers_want_handshake(peer->timers, now);
		return;
	}
	while (en_peer_unstage(peer, &pkt, &len)) {
		send_data(peer, k, pkt, len);
		ntm_free(pkt);
	}
	en_send_flush(peer->node);
}

void en_send_keepalive(struct en_peer *peer)
{
	uint64_t now = en_node_now(peer->node);
	struct en_keypair *k;

	if (peer->staged.count > 0) {
		en_send_staged(peer);
		return;
	}
	k = en_peer_send_keypair(peer, now);
	if (k == NULL) {
		ntm_timers_want_handshake(peer->timers, now);
		return;
	}
	ntm_log_ratelimited(&peer->rl, now, NTM_LOG_DEBUG, "%s: sending keepalive", peer->label);
	send_data(peer, k, NULL, 0);
	en_send_flush(peer->node);
}

/* Whitepaper 5.4.2. The macs go on last, over the encoded bytes (5.4.4). */
void en_send_initiation(struct en_peer *peer)
{
	struct en_node *n = peer->node;
	uint64_t now = en_node_now(n);
	uint8_t ts[NTM_CRYPTO_TAI64N_LEN];
	struct ntm_wg_initiation m;
	struct ntm_wbuf w;
	int rc;

	ntm_crypto_tai64n_now(ts);
	rc = ntm_noise_create_initiation(peer->hs, en_peer_new_handshake_index(peer), ts, NULL, &m);
	ntm_wbuf_init(&w, n->tx, sizeof(n->tx));
	if (rc == 0) {
		rc = ntm_wire_encode_initiation(&w, &m);
	}
	if (rc == 0) {
		rc = ntm_cookie_add_macs(peer->cookie, n->tx, w.len, now);
	}
	if (rc < 0) {
		ntm_log_err("%s: cannot build a handshake initiation: %s", peer->label,
			    ntm_strerror(rc));
		return;
	}
	/* Reported even when the send fails (or waits for a punch), so that the retry timer runs.
	 */
	if (!en_pathmgr_hold_initiation(n->pathmgr, peer)) {
		ntm_log_debug("%s: sending handshake initiation", peer->label);
		(void)send_to_peer(peer, w.len);
	}
	ntm_timers_any_authenticated_packet_traversal(peer->timers, now);
	ntm_timers_any_authenticated_packet_sent(peer->timers, now);
	ntm_timers_handshake_initiated(peer->timers, now);
	en_reach_wanted(&peer->reach, now);
	en_pathmgr_note_wanted(n->pathmgr, peer);
}

/* Whitepaper 5.4.3: the response, then the session keys (5.4.5). */
int en_send_response(struct en_peer *peer)
{
	struct en_node *n = peer->node;
	uint64_t now = en_node_now(n);
	struct ntm_noise_keypair kp;
	struct ntm_wg_response m;
	struct ntm_wbuf w;
	int rc;

	rc = ntm_noise_create_response(peer->hs, en_peer_new_handshake_index(peer), NULL, &m);
	if (rc == 0) {
		rc = ntm_noise_begin_session(peer->hs, now, &kp);
		if (rc == 0) {
			rc = en_peer_install_keypair(peer, &kp);
		}
		ntm_noise_keypair_wipe(&kp);
	}
	ntm_wbuf_init(&w, n->tx, sizeof(n->tx));
	if (rc == 0) {
		rc = ntm_wire_encode_response(&w, &m);
	}
	if (rc == 0) {
		rc = ntm_cookie_add_macs(peer->cookie, n->tx, w.len, now);
	}
	if (rc < 0) {
		return rc;
	}
	ntm_log_debug("%s: sending handshake response", peer->label);
	(void)send_to_peer(peer, w.len);
	ntm_timers_any_authenticated_packet_traversal(peer->timers, now);
	ntm_timers_any_authenticated_packet_sent(peer->timers, now);
	ntm_timers_session_derived(peer->timers, now);
	return 0;
}

void en_send_cookie_reply(struct en_node *n, const struct ntm_cookie_pkt *pkt,
			  const struct ntm_addr *to)
{
	uint8_t buf[NTM_WG_COOKIE_REPLY_LEN];
	struct ntm_wg_cookie_reply r;
	struct ntm_wbuf w;
	int rc;

	rc = ntm_cookie_make_reply(n->checker, pkt, en_node_now(n), &r);
	ntm_wbuf_init(&w, buf, sizeof(buf));
	if (rc == 0) {
		rc = ntm_wire_encode_cookie_reply(&w, &r);
	}
	if (rc == 0) {
		rc = en_node_udp_send(n, to, buf, w.len);
	}
	if (rc < 0) {
		en_node_drop(n, NULL, EN_DROP_SEND);
	}
}

/* "No route to host" back into the TUN, rate-limited (RFC 1812 4.3.2.8). */
static void answer_unreachable(struct en_node *n, const struct en_ip_info *ip, const uint8_t *pkt)
{
	uint8_t out[ICMP_BUF];
	size_t len;

	if (n->io.tun_write == NULL || !ntm_ratelimit_allow(&n->rl_icmp, en_node_now(n))) {
		return;
	}
	len = en_ip_unreachable(out, sizeof(out), ip, pkt);
	if (len > 0 && n->io.tun_write(n->io.ctx, out, len) < 0) {
		en_node_drop(n, NULL, EN_DROP_TUN_WRITE);
	}
}

void en_send_unreachable(struct en_node *n, const uint8_t *pkt, size_t len)
{
	struct en_ip_info ip;

	if (en_ip_parse(pkt, len, &ip) == 0) {
		answer_unreachable(n, &ip, pkt);
	}
}

/*
 * Issue 8, item 4: a peer that stopped answering (reach.h) still gets the
 * packet (its handshake retries are how it comes back), but the sender hears
 * an ICMP unreachable instead of silence, and the DC is asked again where
 * the peer is now (a learned peer may have restarted on another port).
 */
static void check_reach(struct en_node *n, struct en_peer *peer, const struct en_ip_info *ip,
			const uint8_t *pkt)
{
	enum en_reach_state st;

	if (en_reach_check(&peer->reach, en_node_now(n), &st)) {
		ntm_log_info("%s: unreachable (no answer for %d s)", peer->label,
			     EN_REACH_TIMEOUT_MS / 1000);
	}
	if (st == EN_REACH_UNREACHABLE) {
		answer_unreachable(n, ip, pkt);
		en_resolver_refresh(n->resolver, peer);
	}
}

void en_send_tun_packet(struct en_node *n, const uint8_t *pkt, size_t len)
{
	en_send_tun_queue(n, pkt, len);
	en_send_flush(n);
}

void en_send_tun_queue(struct en_node *n, const uint8_t *pkt, size_t len)
{
	struct en_ip_info ip;
	struct en_peer *peer;
	struct en_keypair *k;

	if (en_ip_parse(pkt, len, &ip) < 0) {
		en_node_drop(n, NULL, EN_DROP_INNER);
		return;
	}
	peer = en_allowedips_lookup(n->allowedips, ip.family, ip.dst);
	if (peer == NULL && n->trigger != NULL && en_trigger_packet(n->trigger, &ip, pkt)) {
		return; /* a VIP of the domain: queued while the DC is asked (trigger.h) */
	}
	if (peer == NULL) {
		en_node_drop(n, NULL, EN_DROP_NO_PEER);
		answer_unreachable(n, &ip, pkt);
		return;
	}
	check_reach(n, peer, &ip, pkt);
	k = en_peer_send_keypair(peer, en_node_now(n));
	if (k != NULL && peer->staged.count == 0) {
		send_data(peer, k, pkt, ip.len);
	} else {
		en_peer_stage(peer, pkt, ip.len);
		en_send_staged(peer);
	}
	en_peer_drive(peer);
}
