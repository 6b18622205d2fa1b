/* SPDX-License-Identifier: MIT */
#include "path.h"

#include <sodium.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/relay.h"
#include "common/timers.h"
#include "endnode/dcclient.h"
#include "endnode/node_internal.h"
#include "endnode/peer_internal.h"
#include "endnode/receive.h"
#include "endnode/send.h"
#include "endnode/udp.h"

/* One directed peer, by key (the peer object may come and go). */
struct entry {
	struct entry *next;
	uint8_t key[NTM_WG_KEY_LEN];
	uint8_t chosen;		 /* enum ntm_ctrl_path from the DC */
	bool relay_active;	 /* datagrams go through the relay */
	bool proven;		 /* an authenticated direct packet came since the last direction */
	uint64_t start_ms;	 /* the direct attempt began */
	uint64_t upgrade_ms;	 /* the next direct probe while on the relay */
	uint64_t hs_ms;		 /* the last initiation this module sent through the relay */
	unsigned hs_tries;	 /* of those, since the move to the relay */
	uint64_t punch_until_ms; /* initiations wait while the punch probes open the mappings */
	bool init_wanted;	 /* this end initiates once the wait is over */
	bool initiator;		 /* this end is the one to initiate on the direct path */
	bool moved;		 /* a MOVED direction: initiate even over a usable session */
	uint64_t init_ms;	 /* the last initiation sent on the direct path */
	bool has_relay;
	bool bound;
	uint32_t session;
	uint8_t side;
	uint8_t *cred; /* NTM_RELAY_CRED_LEN bytes, sodium_malloc'ed */
	struct ntm_addr rs;
	uint64_t counter;  /* of the last BIND sent */
	uint64_t bind_ms;  /* when it was sent */
	uint64_t bound_ms; /* when the last BIND_OK came */
	char reason[EN_PATH_REASON_MAX];
	char fqdn[NTM_CTRL_FQDN_MAX + 1]; /* the peer's, from the offer: for RELAY_REQUEST */
	/* Relay liveness: see relay_watch(). */
	uint64_t wait_ms; /* the first datagram to the RS since it last spoke (0: none) */
	bool dead;	  /* the RS went silent: a new relay session is being asked for */
	uint64_t req_ms;  /* the next RELAY_REQUEST while dead */
	unsigned failovers;
	/* Leaving the relay for a proven direct path: see relay_leave(). */
	uint64_t direct_ms;   /* when direct was proven (valid while proven) */
	uint64_t relay_rx_ms; /* the last authenticated packet over the relay */
	bool left;	      /* left the session: RELAY_REQUEST when a relay is needed again */
	uint64_t init_us;     /* uv_hrtime/1000 when this end last sent an initiation (0: none) */
	int64_t rtt_us;	      /* of the last handshake this end initiated (-1: none yet) */
	/* Direct path lost: see direct_watch(). */
	uint64_t dwait_ms; /* first unanswered send on the proven direct path (0: none) */
	bool dprobed;	   /* the probe initiation of this silence went out */
};

struct en_pathmgr {
	struct en_node *n;
	uv_timer_t tick;
	struct entry *entries;
	bool rx_relayed;   /* the receive path is inside a relay frame */
	bool force_direct; /* a probe of the direct path is being sent */
	void (*done)(void *arg);
	void *done_arg;
};

static void on_tick(uv_timer_t *t);
static void initiate(struct en_pathmgr *pm, struct entry *e, uint64_t now);

int en_pathmgr_create(struct en_node *n, struct en_pathmgr **out)
{
	struct en_pathmgr *pm = ntm_calloc(1, sizeof(*pm));

	*out = NULL;
	if (pm == NULL) {
		return -ENOMEM;
	}
	pm->n = n;
	uv_timer_init(n->loop, &pm->tick);
	pm->tick.data = pm;
	uv_timer_start(&pm->tick, on_tick, EN_PATH_TICK_MS, EN_PATH_TICK_MS);
	*out = pm;
	return 0;
}

static void free_entry(struct entry *e)
{
	if (e->cred != NULL) {
		sodium_free(e->cred); /* wipes */
	}
	ntm_free(e);
}

static void on_closed(uv_handle_t *h)
{
	struct en_pathmgr *pm = h->data;
	void (*done)(void *arg) = pm->done;
	void *arg = pm->done_arg;

	while (pm->entries != NULL) {
		struct entry *e = pm->entries;

		pm->entries = e->next;
		free_entry(e);
	}
	ntm_free(pm);
	if (done != NULL) {
		done(arg);
	}
}

void en_pathmgr_close(struct en_pathmgr *pm, void (*done)(void *arg), void *arg)
{
	pm->done = done;
	pm->done_arg = arg;
	uv_close((uv_handle_t *)&pm->tick, on_closed);
}

static struct entry *find(const struct en_pathmgr *pm, const uint8_t *key)
{
	for (struct entry *e = pm->entries; e != NULL; e = e->next) {
		if (memcmp(e->key, key, NTM_WG_KEY_LEN) == 0) {
			return e;
		}
	}
	return NULL;
}

static struct entry *find_or_add(struct en_pathmgr *pm, const uint8_t *key)
{
	struct entry *e = find(pm, key);

	if (e != NULL) {
		return e;
	}
	e = ntm_calloc(1, sizeof(*e));
	if (e == NULL) {
		return NULL;
	}
	memcpy(e->key, key, NTM_WG_KEY_LEN);
	e->rtt_us = -1;
	e->next = pm->entries;
	pm->entries = e;
	return e;
}

static const char *peer_name(const struct en_pathmgr *pm, const struct entry *e)
{
	struct en_peer *p = en_peer_find(pm->n, e->key);

	return p != NULL ? p->label : "peer (gone)";
}

/*
 * Which end initiates when both would (punch, same-NAT, a new relay path):
 * the smaller public key. Two crossing initiations overwrite each other's
 * handshake state (one handshake per peer, as in WireGuard) and neither
 * response matches; the other end only opens its mapping and answers.
 */
static bool we_initiate(const struct en_pathmgr *pm, const struct entry *e)
{
	return memcmp(pm->n->public_key, e->key, NTM_WG_KEY_LEN) < 0;
}

/* ---------------------------------------------------------------- relay session */

/* Wall-clock ms, and above the last counter: the RS takes only rising BIND counters. */
static uint64_t next_counter(const struct entry *e)
{
	struct timespec ts;
	uint64_t ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	return ms > e->counter ? ms : e->counter + 1;
}

static void send_bind(struct en_pathmgr *pm, struct entry *e)
{
	struct ntm_relay_bind b = { .session = e->session, .side = e->side };
	uint8_t buf[NTM_RELAY_BIND_LEN];
	struct ntm_wbuf w;
	int rc;

	b.counter = next_counter(e);
	ntm_wbuf_init(&w, buf, sizeof(buf));
	rc = ntm_relay_encode_bind(&w, false, &b, e->cred);
	if (rc == 0) {
		rc = en_node_udp_send(pm->n, &e->rs, buf, w.len);
	}
	if (rc < 0) {
		ntm_log_debug("relay session %08x: BIND: %s", e->session, ntm_strerror(rc));
	}
	e->counter = b.counter;
	e->bind_ms = en_node_now(pm->n);
	if (e->wait_ms == 0) {
		e->wait_ms = e->bind_ms;
	}
}

/* The RS address of a family this node can use: that of its DC binding first. */
static int pick_rs(struct en_pathmgr *pm, const struct ntm_ctrl_msg *m, struct ntm_addr *out)
{
	struct en_dcclient_info info = { 0 };
	uint8_t fam = 4;

	if (pm->n->dc != NULL) {
		en_dcclient_get_info(pm->n->dc, &info);
		fam = info.outside.len > 0 && info.outside.sa.sa_family == AF_INET6 ? 6 : 4;
	}
	for (size_t i = 0; i < m->n_relay_addr; i++) {
		if (m->relay_addr[i].family == fam) {
			return ntm_ctrl_addr_to(out, &m->relay_addr[i]);
		}
	}
	return m->n_relay_addr > 0 ? ntm_ctrl_addr_to(out, &m->relay_addr[0]) : -EINVAL;
}

void en_pathmgr_on_offer(struct en_pathmgr *pm, const struct ntm_ctrl_msg *m)
{
	struct entry *e = pm != NULL ? find_or_add(pm, m->pubkey) : NULL;
	char rs[NTM_ADDR_STRLEN] = "?";

	if (e == NULL) {
		return;
	}
	if (e->cred == NULL && (e->cred = sodium_malloc(NTM_RELAY_CRED_LEN)) == NULL) {
		return;
	}
	if (pick_rs(pm, m, &e->rs) < 0) {
		ntm_log_warn("relay offer for %s: no usable relay address", m->fqdn);
		return;
	}
	/*
	 * The pair's session offered again (dc/relays.h): keep it. A bound one
	 * keeps its side too: a DC that gave the sides by request order would
	 * swap them, and the RS refuses a side whose other side is our own
	 * address, which would leave a working relay unbound.
	 */
	if (e->has_relay && !e->dead && e->session == m->session_id &&
	    (e->side == m->side || e->bound) &&
	    sodium_memcmp(e->cred, m->credential, NTM_RELAY_CRED_LEN) == 0) {
		send_bind(pm, e);
		return;
	}
	memcpy(e->cred, m->credential, NTM_RELAY_CRED_LEN);
	e->left = false;
	/* A new session counts as heard now: relay_leave waits EN_PATH_RELAY_LEAVE_MS. */
	e->relay_rx_ms = en_node_now(pm->n);
	if (e->dead || (e->has_relay && e->session != m->session_id && e->relay_active)) {
		e->failovers++; /* the path stays on the relay: the new session takes over */
	}
	snprintf(e->fqdn, sizeof(e->fqdn), "%s", m->fqdn);
	e->dead = false;
	e->wait_ms = 0;
	e->session = m->session_id;
	e->side = m->side;
	e->has_relay = true;
	e->bound = false;
	e->counter = 0;
	(void)!ntm_addr_format(&e->rs, rs, sizeof(rs));
	ntm_log_info("relay offer for %s: session %08x on %s, side %c", m->fqdn, e->session, rs,
		     e->side == NTM_RELAY_SIDE_A ? 'A' : 'B');
	send_bind(pm, e);
}

/*
 * An initiation through the relay. The first ones are repeated every
 * EN_PATH_BIND_RETRY_MS (not WireGuard's 5 s): the other end may bind a
 * moment later, and the RS drops what it cannot forward yet.
 */
static void relay_initiation(struct en_pathmgr *pm, struct entry *e, struct en_peer *peer,
			     uint64_t now)
{
	(void)pm;
	e->hs_ms = now;
	e->hs_tries++;
	en_send_initiation(peer);
}

/* Makes the relay the active path of `e` and handshakes through it at once. */
static void move_to_relay(struct en_pathmgr *pm, struct entry *e, const char *why)
{
	struct en_peer *peer = en_peer_find(pm->n, e->key);
	uint64_t now = en_node_now(pm->n);

	e->relay_active = true;
	e->upgrade_ms = now + EN_PATH_UPGRADE_MS;
	if (why != NULL) {
		snprintf(e->reason, sizeof(e->reason), "%s", why);
	}
	if (peer == NULL) {
		return;
	}
	ntm_log_info("%s: path relay (session %08x)%s%s", peer->label, e->session,
		     why != NULL ? ": " : "", why != NULL ? why : "");
	e->hs_tries = 0;
	if (en_peer_send_keypair(peer, now) == NULL) {
		if (we_initiate(pm, e)) {
			relay_initiation(pm, e, peer, now);
		}
	} else {
		en_send_keepalive(peer);
	}
	en_peer_drive(peer);
}

static void on_bind_ok(struct en_pathmgr *pm, const uint8_t *buf, size_t len,
		       const struct ntm_addr *from)
{
	struct ntm_relay_bind b;

	if (ntm_relay_decode_bind(buf, len, true, &b) < 0) {
		en_node_drop(pm->n, NULL, EN_DROP_MALFORMED);
		return;
	}
	for (struct entry *e = pm->entries; e != NULL; e = e->next) {
		if (!e->has_relay || e->session != b.session || e->counter != b.counter ||
		    !ntm_addr_equal(&e->rs, from) || !ntm_relay_bind_verify(buf, len, e->cred)) {
			continue;
		}
		e->bound_ms = en_node_now(pm->n);
		e->wait_ms = 0;
		e->dead = false;
		if (!e->bound) {
			e->bound = true;
			ntm_log_info("relay session %08x: bound (%s)", e->session,
				     peer_name(pm, e));
			if (e->chosen == NTM_CTRL_PATH_RELAY) {
				move_to_relay(pm, e, NULL);
			}
		}
		return;
	}
	en_node_drop(pm->n, NULL, EN_DROP_MALFORMED); /* stale or forged */
}

static void on_frame(struct en_pathmgr *pm, uint8_t *buf, size_t len, const struct ntm_addr *from)
{
	struct ntm_relay_frame f;

	if (ntm_relay_decode_frame(buf, len, &f) < 0) {
		en_node_drop(pm->n, NULL, EN_DROP_MALFORMED);
		return;
	}
	for (struct entry *e = pm->entries; e != NULL; e = e->next) {
		if (e->has_relay && e->session == f.session && ntm_addr_equal(&e->rs, from)) {
			pm->rx_relayed = true;
			en_receive_datagram(pm->n, buf + NTM_RELAY_HEADER_LEN,
					    len - NTM_RELAY_HEADER_LEN, from);
			pm->rx_relayed = false;
			return;
		}
	}
	en_node_drop(pm->n, NULL, EN_DROP_MALFORMED);
}

void en_pathmgr_receive(struct en_pathmgr *pm, uint8_t *buf, size_t len,
			const struct ntm_addr *from)
{
	if (pm == NULL || pm->rx_relayed || len == 0) {
		en_node_drop(pm != NULL ? pm->n : NULL, NULL, EN_DROP_MALFORMED);
		return;
	}
	if (buf[0] == NTM_MSG_RELAY_FRAME) {
		on_frame(pm, buf, len, from);
	} else if (buf[0] == NTM_MSG_RELAY_BIND_OK) {
		on_bind_ok(pm, buf, len, from);
	} else {
		en_node_drop(pm->n, NULL, EN_DROP_MALFORMED);
	}
}

/* ---------------------------------------------------------------- path choice */

/* This node has no NAT (the DC's verdict, or its own outside address is local). */
static bool is_public(const struct en_pathmgr *pm)
{
	struct en_dcclient_info info;

	if (pm->n->dc == NULL) {
		return false;
	}
	en_dcclient_get_info(pm->n->dc, &info);
	return info.nat == NTM_CTRL_NAT_PUBLIC;
}

/* One datagram with a TTL that opens our mapping and dies in the core. */
static void punch_probe(struct en_pathmgr *pm, const struct en_peer *peer)
{
	static const uint8_t probe[1] = { 0 };
	int rc;

	if (pm->n->udp == NULL || !pm->n->io_gso) {
		return; /* the sockets are a test's (en_node_set_io) */
	}
	rc = en_udp_send_ttl(pm->n->udp, &peer->endpoint, probe, sizeof(probe), EN_PATH_PUNCH_TTL);
	if (rc < 0) {
		ntm_log_debug("%s: punch probe: %s", peer->label, ntm_strerror(rc));
	}
}

bool en_pathmgr_hold_initiation(struct en_pathmgr *pm, const struct en_peer *peer)
{
	struct entry *e = pm != NULL ? find(pm, peer->public_key) : NULL;

	if (e == NULL || pm->force_direct || e->relay_active ||
	    en_node_now(pm->n) >= e->punch_until_ms) {
		if (e != NULL && !e->relay_active) {
			e->init_ms = en_node_now(pm->n);
		}
		if (e != NULL) {
			e->init_us = uv_hrtime() / 1000; /* sent now: the RTT sample starts */
		}
		return false;
	}
	/* Held; the initiating end sends one when the wait is over, the other none. */
	return true;
}

void en_pathmgr_on_direction(struct en_pathmgr *pm, struct en_peer *peer,
			     const struct ntm_ctrl_msg *m)
{
	struct entry *e = pm != NULL ? find_or_add(pm, peer->public_key) : NULL;
	uint8_t chosen = ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_PATH) ? m->path : NTM_CTRL_PATH_DIRECT;

	if (e == NULL || ((e->relay_active || e->proven) && e->chosen == chosen &&
			  !ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_MOVED))) {
		return; /* a repeated direction: the path in use stays (unless an end moved) */
	}
	e->chosen = chosen;
	e->proven = false;
	e->moved = ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_MOVED);
	e->start_ms = en_node_now(pm->n);
	e->dwait_ms = 0; /* the direct attempt starts over: its own deadline applies */
	if (e->fqdn[0] == '\0') {
		/* For a RELAY_REQUEST before any offer (direct_lost). */
		snprintf(e->fqdn, sizeof(e->fqdn), "%s", m->fqdn);
	}
	e->reason[0] = '\0';
	/*
	 * Both ends initiate towards each other (the NATed end of a direct pair
	 * connects out; a punch needs both mappings); a punch first sends a
	 * low-TTL probe and lets the initiations wait a moment, so that a
	 * router without an input firewall has our mapping before the peer's
	 * first packet arrives (DESIGN "Flows" 3).
	 */
	if (!ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_PATH)) {
		/* An older DC: no word on the path; WireGuard's own rules, no waiting. */
		e->initiator = true;
		e->init_wanted = false;
		e->punch_until_ms = e->start_ms;
		return;
	}
	e->initiator = we_initiate(pm, e);
	if (chosen == NTM_CTRL_PATH_DIRECT &&
	    is_public(pm) != (m->nat_peer == NTM_CTRL_NAT_PUBLIC)) {
		e->initiator = !is_public(pm); /* the NATed end connects out */
	}
	e->init_wanted = chosen != NTM_CTRL_PATH_RELAY && e->initiator;
	/* The other end stays silent a moment, so that the two initiations do not cross. */
	e->punch_until_ms = e->start_ms + (e->initiator ? 0 : EN_PATH_SILENT_MS);
	if (chosen == NTM_CTRL_PATH_PUNCHED) {
		punch_probe(pm, peer);
		e->punch_until_ms = e->start_ms + EN_PATH_PUNCH_WAIT_MS +
				    (e->initiator ? 0 : EN_PATH_SILENT_MS);
	}
	/* Relay: as soon as it is bound. Otherwise direct first, the relay as the fallback. */
	e->relay_active = e->chosen == NTM_CTRL_PATH_RELAY && e->bound;
	if (e->moved && en_peer_send_keypair(peer, e->start_ms) != NULL) {
		en_send_keepalive(peer); /* opens our mapping towards the new address at once */
	}
	/*
	 * No wait: initiate now, not at the next tick (up to EN_PATH_TICK_MS
	 * later, most of a round trip's worth on a LAN). The target of a
	 * direction has no resolver request to send it.
	 */
	if (e->init_wanted && e->start_ms >= e->punch_until_ms) {
		initiate(pm, e, e->start_ms);
	}
}

uint32_t en_pathmgr_route(struct en_pathmgr *pm, const struct en_peer *peer,
			  const struct ntm_addr **to)
{
	struct entry *e = pm != NULL ? find(pm, peer->public_key) : NULL;

	*to = &peer->endpoint;
	if (e == NULL || !e->relay_active || !e->has_relay || pm->force_direct) {
		return 0;
	}
	if (e->wait_ms == 0) {
		e->wait_ms = en_node_now(pm->n); /* the RS owes us a sign of life from now on */
	}
	*to = &e->rs;
	return e->session;
}

/* ---------------------------------------------------------------- direct path lost */

static void request_relay(struct en_pathmgr *pm, struct entry *e, uint64_t now);

void en_pathmgr_note_wanted(struct en_pathmgr *pm, const struct en_peer *peer)
{
	struct entry *e = pm != NULL ? find(pm, peer->public_key) : NULL;

	/* Only sends on the proven direct path are evidence (not a relay probe's). */
	if (e != NULL && e->proven && !e->relay_active && !pm->force_direct && e->dwait_ms == 0) {
		e->dwait_ms = en_node_now(pm->n);
	}
}

/*
 * Gives up the proven direct path of `e` for the relay: the bound session
 * at once; otherwise the path is no longer proven and the fallback of a
 * failed direct attempt takes over (tick_one: the relay once bound). With
 * no session (left, or a direct pair that never had one) the node asks the
 * DC for one (RELAY_REQUEST, repeated by tick_one until an offer comes).
 */
static void direct_lost(struct en_pathmgr *pm, struct entry *e, uint64_t now, const char *why)
{
	e->proven = false;
	e->dwait_ms = 0;
	e->dprobed = false;
	e->start_ms = now - EN_PATH_DIRECT_DEADLINE_MS;
	if (e->has_relay && e->bound && !e->dead) {
		move_to_relay(pm, e, why);
		return;
	}
	snprintf(e->reason, sizeof(e->reason), "%s", why);
	if (!e->has_relay) {
		/* None (left, or a direct pair's): ask now, and again until one comes. */
		e->left = true;
		request_relay(pm, e, now);
	}
}

/*
 * Direct path lost (path.h): a proven direct path with a send unanswered
 * for EN_PATH_DIRECT_QUIET_MS gets one initiation as a probe; with none
 * answered for EN_PATH_DIRECT_LOST_MS the traffic goes to the relay.
 */
static void direct_watch(struct en_pathmgr *pm, struct entry *e, uint64_t now)
{
	struct en_peer *peer;

	if (e->relay_active || !e->proven || e->dwait_ms == 0 ||
	    now - e->dwait_ms < EN_PATH_DIRECT_QUIET_MS ||
	    (peer = en_peer_find(pm->n, e->key)) == NULL) {
		return;
	}
	if (now - e->dwait_ms >= EN_PATH_DIRECT_LOST_MS) {
		ntm_log_warn("direct path to %s silent for %u s while sending: falling back to "
			     "the relay",
			     peer->label, (unsigned)((now - e->dwait_ms) / 1000));
		direct_lost(pm, e, now, "the direct path went silent while sending");
	} else if (!e->dprobed) {
		e->dprobed = true;
		en_send_initiation(peer); /* a live path answers within an RTT */
		en_peer_drive(peer);
	}
}

/*
 * The peer came through the relay while our direct sends have gone
 * unanswered for EN_PATH_DIRECT_QUIET_MS: it gave the direct path up;
 * follow rather than wait for our own EN_PATH_DIRECT_LOST_MS. (A younger
 * wait is the normal upgrade: the peer leaves the relay once our direct
 * packet reaches it, an RTT later.)
 */
static void direct_follow_peer(struct en_pathmgr *pm, struct entry *e)
{
	uint64_t now = en_node_now(pm->n);

	if (!e->relay_active && e->proven && e->dwait_ms != 0 &&
	    now - e->dwait_ms >= EN_PATH_DIRECT_QUIET_MS && e->has_relay && e->bound && !e->dead) {
		ntm_log_warn("direct path to %s silent while sending and the peer is on the "
			     "relay: falling back to the relay",
			     peer_name(pm, e));
		direct_lost(pm, e, now, "the peer moved to the relay");
	}
}

void en_pathmgr_note_rx(struct en_pathmgr *pm, struct en_peer *peer, const struct ntm_addr *from,
			bool relayed)
{
	struct entry *e = pm != NULL ? find(pm, peer->public_key) : NULL;

	relayed = relayed || (pm != NULL && pm->rx_relayed);
	if (e == NULL) {
		if (!relayed) {
			en_peer_set_endpoint(peer, from);
		}
		return;
	}
	if (relayed) {
		e->wait_ms = 0; /* an authenticated reply over the relay: it is alive */
		e->relay_rx_ms = en_node_now(pm->n);
		/* The peer speaks through the relay: answer there unless direct is proven. */
		if (!e->relay_active && !e->proven && e->has_relay) {
			move_to_relay(pm, e, "the peer came through the relay");
		}
		direct_follow_peer(pm, e);
		return;
	}
	e->dwait_ms = 0; /* the direct path answered */
	e->dprobed = false;
	en_peer_set_endpoint(peer, from);
	if (!e->proven) {
		e->direct_ms = en_node_now(pm->n);
	}
	e->proven = true;
	if (e->relay_active) {
		e->relay_active = false;
		e->reason[0] = '\0';
		ntm_log_info("%s: path %s (an authenticated packet proved it)", peer->label,
			     ntm_ctrl_path_name(e->chosen == NTM_CTRL_PATH_RELAY
							? NTM_CTRL_PATH_DIRECT
							: e->chosen));
	}
}

void en_pathmgr_handshake_done(struct en_pathmgr *pm, struct en_peer *peer)
{
	struct entry *e = pm != NULL ? find(pm, peer->public_key) : NULL;
	const struct en_keypair *k;

	if (e == NULL) {
		return;
	}
	if (!e->relay_active && !e->proven) {
		e->direct_ms = en_node_now(pm->n);
		e->proven = true;
	}
	/* Our initiation answered (not the peer's confirmed): initiation to response. */
	k = en_peer_send_keypair(peer, en_node_now(pm->n));
	if (k != NULL && k->kp.is_initiator && e->init_us != 0) {
		e->rtt_us = (int64_t)(uv_hrtime() / 1000 - e->init_us);
		e->init_us = 0;
	}
}

/* ---------------------------------------------------------------- timer */

/* On the relay: try the direct path again with a handshake sent straight to the peer. */
static void probe_direct(struct en_pathmgr *pm, struct entry *e, uint64_t now)
{
	struct en_peer *peer = en_peer_find(pm->n, e->key);

	e->upgrade_ms = now + EN_PATH_UPGRADE_MS;
	if (peer == NULL || peer->endpoint.len == 0) {
		return;
	}
	pm->force_direct = true;
	en_send_initiation(peer);
	pm->force_direct = false;
	en_peer_drive(peer);
}

/* Asks the DC for a new relay session with the peer; the offer comes to both ends. */
static void request_relay(struct en_pathmgr *pm, struct entry *e, uint64_t now)
{
	int rc = -ENOTCONN;

	e->req_ms = now + EN_PATH_RELAY_REQ_MS;
	if (pm->n->dc != NULL && e->fqdn[0] != '\0') {
		rc = en_dcclient_relay_request(pm->n->dc, randombytes_random() | 1, e->fqdn,
					       e->dead ? &e->rs : NULL);
	}
	ntm_log_info("relay session %08x (%s): %s a new relay%s%s", e->session, e->fqdn,
		     rc == 0 ? "asked the DC for" : "cannot ask the DC for", rc == 0 ? "" : ": ",
		     rc == 0 ? "" : ntm_strerror(rc));
}

/*
 * Relay liveness (RS failover): once a datagram went to the RS, an
 * authenticated answer over the relay or a BIND_OK must follow. After
 * EN_PATH_RELAY_QUIET_MS of silence a BIND goes out every
 * EN_PATH_BIND_RETRY_MS as a probe; after EN_PATH_RELAY_DEAD_MS the RS
 * counts as gone and the node asks the DC for a new session (the DC
 * allocates on a relay that answers). The end that initiates (smaller key)
 * asks at once, the other only EN_PATH_RELAY_REQ_MS * 2 later if no offer
 * came by then, so that one new session serves the pair. WireGuard's
 * session stays: the tunnel, and the TCP connections inside, only pause.
 */
static void relay_watch(struct en_pathmgr *pm, struct entry *e, uint64_t now)
{
	char rs[NTM_ADDR_STRLEN] = "?";

	if (e->dead) {
		if (now >= e->req_ms) {
			request_relay(pm, e, now);
		}
		return;
	}
	/*
	 * An offered session that never bound counts as dead alike: it may
	 * have expired on the RS (the DC offers a pair's session again).
	 */
	if (e->has_relay && !e->bound && e->wait_ms != 0 &&
	    now - e->wait_ms >= EN_PATH_RELAY_DEAD_MS) {
		/* dead: below */
	} else if (!e->relay_active || !e->bound || e->wait_ms == 0 ||
		   now - e->wait_ms < EN_PATH_RELAY_QUIET_MS) {
		return;
	} else if (now - e->wait_ms < EN_PATH_RELAY_DEAD_MS) {
		if (now - e->bind_ms >= EN_PATH_BIND_RETRY_MS) {
			send_bind(pm, e);
		}
		return;
	}
	(void)!ntm_addr_format(&e->rs, rs, sizeof(rs));
	ntm_log_warn("relay session %08x (%s): relay %s silent for %u ms", e->session, e->fqdn, rs,
		     (unsigned)(now - e->wait_ms));
	e->dead = true;
	e->bound = false;
	e->req_ms = now + (we_initiate(pm, e) ? 0 : 2 * EN_PATH_RELAY_REQ_MS);
	if (now >= e->req_ms) {
		request_relay(pm, e, now);
	}
}

/*
 * Leaving the relay (issue 6): once the direct path is proven and nothing
 * came over the relay for EN_PATH_RELAY_LEAVE_MS, the node stops refreshing
 * its BIND and tells the DC (RELAY_DONE), which releases the session when
 * the other end left it too. Should a later direct attempt fail, the node
 * asks for a relay again (RELAY_REQUEST): the DC offers the pair's session
 * if the other end still holds it, a new one otherwise.
 */
static void relay_leave(struct en_pathmgr *pm, struct entry *e, uint64_t now)
{
	uint64_t quiet = e->direct_ms > e->relay_rx_ms ? e->direct_ms : e->relay_rx_ms;

	if (!e->has_relay || e->dead || e->relay_active || !e->proven ||
	    now - quiet < EN_PATH_RELAY_LEAVE_MS || pm->n->dc == NULL ||
	    en_dcclient_relay_done(pm->n->dc, randombytes_random() | 1, e->key, e->session) < 0) {
		return;
	}
	ntm_log_info("relay session %08x (%s): left for the direct path", e->session, e->fqdn);
	e->has_relay = false;
	e->bound = false;
	e->left = true;
	e->wait_ms = 0;
	sodium_memzero(e->cred, NTM_RELAY_CRED_LEN);
}

/* The initiation this end owes once its wait is over (init_wanted). */
static void initiate(struct en_pathmgr *pm, struct entry *e, uint64_t now)
{
	struct en_peer *peer = en_peer_find(pm->n, e->key);

	e->init_wanted = false;
	/* Not when an initiation just left (the resolver's): it would replace that one. */
	if (peer != NULL && !e->relay_active &&
	    (en_peer_send_keypair(peer, now) == NULL || e->moved) &&
	    (e->init_ms == 0 || now - e->init_ms >= EN_PATH_BIND_RETRY_MS || e->moved)) {
		e->moved = false;
		en_send_initiation(peer);
		en_peer_drive(peer);
	}
}

static void tick_one(struct en_pathmgr *pm, struct entry *e, uint64_t now)
{
	struct en_peer *peer;

	if (e->relay_active && e->bound && e->hs_tries > 0 &&
	    e->hs_tries < EN_PATH_RELAY_HS_TRIES && now - e->hs_ms >= EN_PATH_BIND_RETRY_MS &&
	    (peer = en_peer_find(pm->n, e->key)) != NULL &&
	    en_peer_send_keypair(peer, now) == NULL) {
		relay_initiation(pm, e, peer, now);
		en_peer_drive(peer);
	}
	if (e->has_relay && !e->bound && now - e->bind_ms >= EN_PATH_BIND_RETRY_MS) {
		send_bind(pm, e);
	} else if (e->bound && now - e->bind_ms >= (uint64_t)NTM_RELAY_REFRESH_S * 1000) {
		send_bind(pm, e);
	}
	relay_watch(pm, e, now);
	direct_watch(pm, e, now);
	if (e->init_wanted && now >= e->punch_until_ms) {
		initiate(pm, e, now);
	}
	if (e->chosen != NTM_CTRL_PATH_RELAY && !e->relay_active && !e->proven && e->bound &&
	    now - e->start_ms >= EN_PATH_DIRECT_DEADLINE_MS) {
		/* A reason set already (direct_lost) is kept. */
		move_to_relay(pm, e,
			      e->reason[0] != '\0'
				      ? NULL
				      : "no authenticated answer on the direct path within 3 s");
	} else if (e->relay_active && now >= e->upgrade_ms) {
		probe_direct(pm, e, now);
	} else if (e->left && !e->has_relay && !e->proven &&
		   now - e->start_ms >= EN_PATH_DIRECT_DEADLINE_MS && now >= e->req_ms) {
		request_relay(pm, e, now); /* the session it left may be gone */
	}
	relay_leave(pm, e, now);
}

static void on_tick(uv_timer_t *t)
{
	struct en_pathmgr *pm = t->data;
	uint64_t now = en_node_now(pm->n);

	for (struct entry *e = pm->entries; e != NULL; e = e->next) {
		tick_one(pm, e, now);
	}
}

void en_pathmgr_moved(struct en_pathmgr *pm)
{
	for (struct entry *e = pm != NULL ? pm->entries : NULL; e != NULL; e = e->next) {
		if (e->has_relay && e->cred != NULL) {
			send_bind(pm, e); /* the RS learns the new address (rising counter) */
		}
		e->dwait_ms = 0; /* mobility re-proves the direct path first: no fallback yet */
	}
}

void en_pathmgr_probe_direct(struct en_pathmgr *pm, const uint8_t *key)
{
	struct entry *e = pm != NULL ? find(pm, key) : NULL;

	if (e != NULL && e->relay_active) {
		e->upgrade_ms = en_node_now(pm->n); /* the next tick probes */
	}
}

bool en_pathmgr_get(const struct en_pathmgr *pm, const uint8_t *key, struct en_path_info *out)
{
	const struct entry *e = pm != NULL ? find(pm, key) : NULL;

	memset(out, 0, sizeof(*out));
	if (e == NULL) {
		return false;
	}
	out->chosen = e->chosen;
	out->active = e->relay_active			 ? NTM_CTRL_PATH_RELAY
		      : e->chosen == NTM_CTRL_PATH_RELAY ? NTM_CTRL_PATH_DIRECT
							 : e->chosen;
	out->has_relay = e->has_relay;
	out->bound = e->bound;
	if (e->has_relay) {
		out->rs = e->rs;
		out->session = e->session;
		out->relay_dead = e->dead;
		out->failovers = e->failovers;
	}
	snprintf(out->reason, sizeof(out->reason), "%s", e->reason);
	out->rtt_us = e->rtt_us;
	return true;
}
