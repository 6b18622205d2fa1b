/* SPDX-License-Identifier: MIT */
#ifndef EN_PEER_INTERNAL_H
#define EN_PEER_INTERNAL_H

/*
 * The body of struct en_peer and the keypair rotation, for the data-plane
 * modules of endnode/ (peer.c, send.c, receive.c, status.c).
 */
#include <uv.h>

#include "common/cookie.h"
#include "common/noise.h"
#include "common/replay.h"
#include "common/timers.h"
#include "endnode/index.h"
#include "endnode/node.h"
#include "endnode/peer.h"
#include "endnode/reach.h"

enum {
	/* Packets kept per peer while no session is usable (the oldest goes first). */
	EN_PEER_STAGED_MAX = 16,
	/* At most one initiation per peer is consumed within this (whitepaper 5.3). */
	EN_PEER_INITIATION_MIN_MS = 20,
	EN_PEER_LABEL_MAX = 16 + NTM_ADDR_STRLEN,
};

/*
 * One session. Lives in sodium_malloc'd memory because of the keys; the
 * index entry makes it findable by the receiver index of data messages.
 */
struct en_keypair {
	struct ntm_noise_keypair kp;
	struct ntm_replay replay;
	uint64_t send_counter; /* next nonce to use */
	struct en_index_entry entry;
};

struct en_staged {
	uint8_t *pkt[EN_PEER_STAGED_MAX];
	size_t len[EN_PEER_STAGED_MAX];
	unsigned head;
	unsigned count;
};

struct en_peer {
	struct en_peer *prev, *next; /* the node's list */
	struct en_node *node;	     /* borrowed: the node outlives its peers */
	uint32_t id;
	uint8_t public_key[NTM_WG_KEY_LEN];
	struct ntm_noise_handshake *hs;
	struct en_index_entry hs_entry; /* index of the handshake in flight */
	struct ntm_cookie_maker *cookie;
	struct ntm_timers *timers;
	uv_timer_t timer;
	struct en_keypair *current, *previous, *next_kp;
	struct ntm_addr endpoint;
	uint16_t persistent_keepalive;
	struct en_staged staged;
	uint64_t rx_bytes, tx_bytes;
	uint64_t drops[EN_DROP_COUNT];
	struct timespec last_handshake;
	struct en_reach reach;		/* is it answering? (reach.h) */
	uint64_t last_initiation_rx_ms; /* flood limit; 0 = never */
	bool driving; /* inside en_peer_drive: nested calls return at once */
	struct ntm_ratelimit rl;
	char label[EN_PEER_LABEL_MAX]; /* "peer 3 (198.51.100.7:5000)" */
};

/*
 * Runs the timer engine after every event on the peer: carries out the due
 * actions and re-arms the uv timer. Callers report events first, then call
 * this once; calls nested inside it return at once.
 */
void en_peer_drive(struct en_peer *peer);

/* Sets the endpoint (roaming: only after authentication) and the label. */
void en_peer_set_endpoint(struct en_peer *peer, const struct ntm_addr *ep);

/*
 * Installs the keys of a completed handshake (`kp` is copied and wiped by the
 * caller), taking over the handshake's index. As initiator the new keypair is
 * current at once; as responder it is `next` until the first data message on
 * it arrives (en_peer_confirm_keypair). Returns 0 or -ENOMEM.
 */
NTM_MUST_CHECK int en_peer_install_keypair(struct en_peer *peer,
					   const struct ntm_noise_keypair *kp);

/*
 * A data message authenticated on `kp`: if it is the `next` keypair, rotate
 * (next -> current -> previous) and return true: the handshake is complete.
 */
bool en_peer_confirm_keypair(struct en_peer *peer, struct en_keypair *kp);

/* The keypair to send with: current, when it is still usable; else NULL. */
struct en_keypair *en_peer_send_keypair(struct en_peer *peer, uint64_t now_ms);

/* Wipes every keypair and the handshake state (timer action ZERO_KEYS). */
void en_peer_zero_keys(struct en_peer *peer);

/* Gives the handshake a fresh random index (dropping the old one) and returns it. */
uint32_t en_peer_new_handshake_index(struct en_peer *peer);

/*
 * Staged packets: append a copy (dropping the oldest when full); take the
 * oldest (the caller frees *pkt with ntm_free); drop them all (counted).
 */
void en_peer_stage(struct en_peer *peer, const uint8_t *pkt, size_t len);
bool en_peer_unstage(struct en_peer *peer, uint8_t **pkt, size_t *len);
void en_peer_purge_staged(struct en_peer *peer);

#endif
