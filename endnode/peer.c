/* SPDX-License-Identifier: MIT */
#include "peer.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/crypto.h"
#include "common/log.h"
#include "endnode/node_internal.h"
#include "endnode/peer_internal.h"
#include "endnode/send.h"

static uint32_t jitter(void *ctx, uint32_t upper_bound)
{
	return upper_bound == 0 ? 0 : randombytes_uniform(upper_bound);
}

void en_peer_set_endpoint(struct en_peer *peer, const struct ntm_addr *ep)
{
	char addr[NTM_ADDR_STRLEN] = "no endpoint";
	bool known = peer->endpoint.sa.sa_family != AF_UNSPEC;

	if (ep == NULL || ep->sa.sa_family == AF_UNSPEC) {
		snprintf(peer->label, sizeof(peer->label), "peer %u (%s)", peer->id, addr);
		return;
	}
	if (known && ntm_addr_equal(&peer->endpoint, ep)) {
		return; /* the common case, once per data packet */
	}
	peer->endpoint = *ep;
	if (ntm_addr_format(ep, addr, sizeof(addr)) < 0) {
		snprintf(addr, sizeof(addr), "?");
	}
	if (known) {
		ntm_log_debug("%s: endpoint changed to %s", peer->label, addr);
	}
	snprintf(peer->label, sizeof(peer->label), "peer %u (%s)", peer->id, addr);
}

/* Creates the protocol objects of a peer; its uv timer is initialised last. */
static int init_protocol(struct en_peer *peer, const struct en_config_peer *cp)
{
	struct en_node *n = peer->node;
	int rc;

	rc = ntm_noise_handshake_create(n->id, cp->public_key, cp->preshared_key, peer, &peer->hs);
	if (rc < 0) {
		return rc;
	}
	rc = ntm_cookie_maker_create(cp->public_key, &peer->cookie);
	if (rc < 0) {
		return rc;
	}
	return ntm_timers_create(&peer->timers, jitter, NULL);
}

static void free_protocol(struct en_peer *peer)
{
	ntm_timers_destroy(peer->timers);
	ntm_cookie_maker_destroy(peer->cookie);
	ntm_noise_handshake_destroy(peer->hs);
}

static int map_prefixes(struct en_peer *peer, const struct en_config_peer *cp)
{
	struct en_allowedips *t = peer->node->allowedips;

	for (size_t i = 0; i < cp->n_allowed_ips; i++) {
		int rc = en_allowedips_insert(t, &cp->allowed_ips[i], peer);

		if (rc < 0) {
			en_allowedips_remove_peer(t, peer);
			return rc;
		}
	}
	return 0;
}

static void link_peer(struct en_node *n, struct en_peer *peer)
{
	peer->prev = n->peers_tail;
	if (n->peers_tail != NULL) {
		n->peers_tail->next = peer;
	} else {
		n->peers = peer;
	}
	n->peers_tail = peer;
	n->n_peers++;
}

static void unlink_peer(struct en_node *n, struct en_peer *peer)
{
	if (peer->prev != NULL) {
		peer->prev->next = peer->next;
	} else {
		n->peers = peer->next;
	}
	if (peer->next != NULL) {
		peer->next->prev = peer->prev;
	} else {
		n->peers_tail = peer->prev;
	}
	n->n_peers--;
}

static void on_timer(uv_timer_t *t)
{
	en_peer_drive(t->data);
}

int en_peer_add(struct en_node *n, const struct en_config_peer *cp, struct en_peer **out)
{
	struct en_peer *peer;
	int rc;

	if (out != NULL) {
		*out = NULL;
	}
	if (sodium_memcmp(cp->public_key, n->public_key, NTM_WG_KEY_LEN) == 0 ||
	    en_peer_find(n, cp->public_key) != NULL) {
		return -EEXIST;
	}
	peer = ntm_calloc(1, sizeof(*peer));
	if (peer == NULL) {
		return -ENOMEM;
	}
	peer->node = n;
	peer->id = ++n->next_peer_id;
	memcpy(peer->public_key, cp->public_key, NTM_WG_KEY_LEN);
	peer->persistent_keepalive = cp->persistent_keepalive;
	peer->rl = (struct ntm_ratelimit)NTM_RATELIMIT_INIT(1000, 10);
	en_peer_set_endpoint(peer, &cp->endpoint);
	rc = init_protocol(peer, cp);
	if (rc == 0) {
		rc = map_prefixes(peer, cp);
	}
	if (rc < 0) {
		free_protocol(peer);
		ntm_free(peer);
		return rc;
	}
	/* Cannot fail for a valid loop; from here on the peer is freed in a close callback. */
	uv_timer_init(n->loop, &peer->timer);
	peer->timer.data = peer;
	link_peer(n, peer);
	if (n->tun != NULL) {
		(void)en_node_add_routes(n, peer); /* logged there */
		en_peer_start(peer);
	}
	if (out != NULL) {
		*out = peer;
	}
	return 0;
}

void en_peer_start(struct en_peer *peer)
{
	if (peer->persistent_keepalive > 0) {
		ntm_timers_set_persistent_keepalive(peer->timers, en_node_now(peer->node),
						    peer->persistent_keepalive);
	}
	en_peer_drive(peer);
}

static void on_closed(uv_handle_t *h)
{
	struct en_peer *peer = h->data;
	struct en_node *n = peer->node;

	ntm_free(peer);
	en_node_close_done(n);
}

void en_peer_remove(struct en_peer *peer)
{
	struct en_node *n = peer->node;

	unlink_peer(n, peer);
	en_allowedips_remove_peer(n->allowedips, peer);
	en_peer_zero_keys(peer);
	en_peer_purge_staged(peer);
	free_protocol(peer);
	peer->hs = NULL;
	peer->cookie = NULL;
	peer->timers = NULL;
	n->pending_closes++;
	uv_close((uv_handle_t *)&peer->timer, on_closed);
}

/* ---------------------------------------------------------------- timers */

static void run_actions(struct en_peer *peer, unsigned a)
{
	if (a & NTM_TIMERS_ZERO_KEYS) {
		ntm_log_debug("%s: zeroing keys", peer->label);
		en_peer_zero_keys(peer);
	}
	if (a & NTM_TIMERS_GIVE_UP_HANDSHAKE) {
		ntm_log_info("%s: handshake did not complete, giving up for now", peer->label);
		en_peer_purge_staged(peer);
	}
	if (a & (NTM_TIMERS_SEND_HANDSHAKE_INITIATION | NTM_TIMERS_NEW_HANDSHAKE)) {
		en_send_initiation(peer);
	}
	if (a & (NTM_TIMERS_SEND_KEEPALIVE | NTM_TIMERS_SEND_PERSISTENT_KEEPALIVE)) {
		en_send_keepalive(peer);
	}
}

void en_peer_drive(struct en_peer *peer)
{
	uint64_t now, deadline;

	if (peer->driving || peer->timers == NULL) {
		return;
	}
	peer->driving = true;
	now = en_node_now(peer->node);
	/* Actions report events that may make more timers due now; a few rounds settle it. */
	for (int round = 0; round < 4; round++) {
		unsigned actions = ntm_timers_expire(peer->timers, now);

		if (actions == 0) {
			break;
		}
		run_actions(peer, actions);
	}
	deadline = ntm_timers_next_deadline(peer->timers);
	if (deadline == NTM_TIMERS_NEVER) {
		uv_timer_stop(&peer->timer);
	} else {
		uv_timer_start(&peer->timer, on_timer, deadline > now ? deadline - now : 0, 0);
	}
	peer->driving = false;
}

/* ---------------------------------------------------------------- keypairs */

static void free_keypair(struct en_peer *peer, struct en_keypair *k)
{
	if (k == NULL) {
		return;
	}
	en_index_remove(peer->node->index, &k->entry);
	ntm_noise_keypair_wipe(&k->kp);
	ntm_crypto_secure_free(k);
}

/*
 * Rotation as in the Linux module (noise.c, add_new_keypair): the initiator
 * uses a new keypair at once and keeps the one before as `previous` for
 * packets still in flight; the responder parks it as `next` until the
 * initiator proves it has it (its first data message), and meanwhile keeps
 * sending on `current`.
 */
int en_peer_install_keypair(struct en_peer *peer, const struct ntm_noise_keypair *kp)
{
	struct en_keypair *k;

	if (peer->hs_entry.index == 0 || peer->hs_entry.index != kp->local_index) {
		return -EPROTO;
	}
	k = ntm_crypto_secure_alloc(sizeof(*k));
	if (k == NULL) {
		return -ENOMEM;
	}
	k->kp = *kp;
	ntm_replay_init(&k->replay);
	k->send_counter = 0;
	k->entry = (struct en_index_entry){ .kind = EN_INDEX_KEYPAIR, .peer = peer, .obj = k };
	en_index_replace(peer->node->index, &peer->hs_entry, &k->entry);
	if (kp->is_initiator) {
		if (peer->next_kp != NULL) {
			free_keypair(peer, peer->previous);
			peer->previous = peer->next_kp;
			peer->next_kp = NULL;
			free_keypair(peer, peer->current);
		} else {
			free_keypair(peer, peer->previous);
			peer->previous = peer->current;
		}
		peer->current = k;
	} else {
		free_keypair(peer, peer->next_kp);
		peer->next_kp = k;
		free_keypair(peer, peer->previous);
		peer->previous = NULL;
	}
	return 0;
}

bool en_peer_confirm_keypair(struct en_peer *peer, struct en_keypair *kp)
{
	if (kp != peer->next_kp) {
		return false;
	}
	free_keypair(peer, peer->previous);
	peer->previous = peer->current;
	peer->current = kp;
	peer->next_kp = NULL;
	return true;
}

struct en_keypair *en_peer_send_keypair(struct en_peer *peer, uint64_t now_ms)
{
	struct en_keypair *k = peer->current;
	struct ntm_timers_session s;

	if (k == NULL) {
		return NULL;
	}
	s = (struct ntm_timers_session){ .birth_ms = k->kp.created_ms,
					 .counter = k->send_counter,
					 .is_initiator = k->kp.is_initiator };
	return ntm_timers_session_is_usable(&s, now_ms) ? k : NULL;
}

void en_peer_zero_keys(struct en_peer *peer)
{
	free_keypair(peer, peer->current);
	free_keypair(peer, peer->previous);
	free_keypair(peer, peer->next_kp);
	peer->current = peer->previous = peer->next_kp = NULL;
	en_index_remove(peer->node->index, &peer->hs_entry);
	if (peer->hs != NULL) {
		ntm_noise_handshake_clear(peer->hs);
	}
}

uint32_t en_peer_new_handshake_index(struct en_peer *peer)
{
	struct en_index *t = peer->node->index;

	en_index_remove(t, &peer->hs_entry);
	peer->hs_entry = (struct en_index_entry){ .kind = EN_INDEX_HANDSHAKE, .peer = peer };
	en_index_insert(t, &peer->hs_entry);
	return peer->hs_entry.index;
}

/* ---------------------------------------------------------------- staged packets */

void en_peer_stage(struct en_peer *peer, const uint8_t *pkt, size_t len)
{
	struct en_staged *q = &peer->staged;
	uint8_t *copy;
	unsigned slot;

	if (q->count == EN_PEER_STAGED_MAX) {
		ntm_free(q->pkt[q->head]);
		q->pkt[q->head] = NULL;
		q->head = (q->head + 1) % EN_PEER_STAGED_MAX;
		q->count--;
		en_node_drop(peer->node, peer, EN_DROP_QUEUE);
	}
	copy = ntm_malloc(len > 0 ? len : 1);
	if (copy == NULL) {
		en_node_drop(peer->node, peer, EN_DROP_QUEUE);
		return;
	}
	memcpy(copy, pkt, len);
	slot = (q->head + q->count) % EN_PEER_STAGED_MAX;
	q->pkt[slot] = copy;
	q->len[slot] = len;
	q->count++;
}

bool en_peer_unstage(struct en_peer *peer, uint8_t **pkt, size_t *len)
{
	struct en_staged *q = &peer->staged;

	*pkt = NULL;
	*len = 0;
	if (q->count == 0) {
		return false;
	}
	*pkt = q->pkt[q->head];
	*len = q->len[q->head];
	q->pkt[q->head] = NULL;
	q->head = (q->head + 1) % EN_PEER_STAGED_MAX;
	q->count--;
	return true;
}

void en_peer_purge_staged(struct en_peer *peer)
{
	uint8_t *pkt;
	size_t len;

	while (en_peer_unstage(peer, &pkt, &len)) {
		ntm_free(pkt);
		en_node_drop(peer->node, peer, EN_DROP_QUEUE);
	}
}

/* ---------------------------------------------------------------- lookup and info */

struct en_peer *en_peer_find(const struct en_node *n, const uint8_t *public_key)
{
	for (struct en_peer *p = n->peers; p != NULL; p = p->next) {
		if (sodium_memcmp(p->public_key, public_key, NTM_WG_KEY_LEN) == 0) {
			return p;
		}
	}
	return NULL;
}

struct en_peer *en_peer_first(const struct en_node *n)
{
	return n->peers;
}

struct en_peer *en_peer_next(const struct en_peer *peer)
{
	return peer->next;
}

void en_peer_get_info(const struct en_peer *peer, struct en_peer_info *out)
{
	memset(out, 0, sizeof(*out));
	out->id = peer->id;
	memcpy(out->public_key, peer->public_key, sizeof(out->public_key));
	out->endpoint = peer->endpoint;
	out->persistent_keepalive = peer->persistent_keepalive;
	out->last_handshake = peer->last_handshake;
	out->rx_bytes = peer->rx_bytes;
	out->tx_bytes = peer->tx_bytes;
	out->drops = peer->drops;
	for (int i = 0; i < EN_DROP_COUNT; i++) {
		out->drops_total += peer->drops[i];
	}
}
