/* SPDX-License-Identifier: MIT */
#ifndef DC_CTRL_INTERNAL_H
#define DC_CTRL_INTERNAL_H

/*
 * Shared by dc/ctrl.c (sockets, dispatch, handshakes), dc/csess.c (the
 * session table and the per-source limits) and dc/register.c (the messages
 * inside a session).
 */

#include <uv.h>

#include "common/addr.h"
#include "common/cookie.h"
#include "common/ctrl.h"
#include "common/ctrlmsg.h"
#include "common/key.h"
#include "common/log.h"
#include "common/noise.h"
#include "common/timers.h"
#include "dc/ctrl.h"
#include "dc/relays.h"
#include "dc/store.h"

enum {
	DC_CTRL_PROBATION_MAX = 64,	  /* sessions of keys not enrolled (token enrolment) */
	DC_CTRL_PROBATION_MS = 10 * 1000, /* such a session must REGISTER within this */
	DC_CTRL_LOAD_PER_SEC = 200,	  /* initiations per second before mac2 is demanded */
	DC_CTRL_SRC_BUCKETS = 1024, /* per-source token buckets (hashed, shared on collision) */
	DC_CTRL_SRC_RATE = 5,	    /* initiations per second per source address */
	DC_CTRL_SRC_BURST = 10,
	DC_CTRL_SWEEP_MS = 5 * 1000, /* expiry of sessions, flush of last-seen times */
	/*
	 * Rows one sweep writes: a flush runs on the loop, and 50,000 rows in
	 * one transaction (100k nodes) stalled it long enough for keep-alives
	 * to overflow the socket buffer. Changed addresses go first; the rest
	 * of the last-seen times wait for the next sweep.
	 */
	DC_CTRL_FLUSH_MAX = 4096,
	DC_CTRL_RCVBUF = 4 << 20, /* bytes: bursts of initiations and keep-alives */
	DC_CTRL_EPS_MAX = 2 * DC_CONFIG_ADDRS_MAX,
	DC_CTRL_RX_MAX = 2048, /* control messages are at most NTM_CTRL_DATA_MAX_LEN */
	DC_CTRL_TOLD_MAX = 64, /* keys a session was directed to, remembered for revocation */
};

struct dc_ctrl;

/* One bound UDP socket: a Listen address (alt false) or an AltListen address. */
struct dc_ep {
	uv_udp_t udp;
	struct dc_ctrl *c;
	struct ntm_addr addr;
	bool alt;
};

/* A session with one static key (the node's). Owned by the table. */
struct dc_csess {
	struct ntm_ctrl_session *cs;
	struct ntm_key pub;
	uint32_t slot;
	struct dc_csess *hnext; /* key hash chain */
	uint64_t created_ms;
	uint64_t last_rx_ms;
	bool enrolled;	 /* the key was enrolled at handshake (or enrolled since) */
	bool registered; /* REGISTER accepted on this session */
	struct dc_node node;
	struct dc_ep *ep;	 /* where the last authenticated message came in */
	struct ntm_addr from;	 /* and from where: answers go there */
	struct ntm_addr seen[2]; /* outside address seen on a Listen [0] / AltListen [1] socket */
	char real[NTM_ADDR_STRLEN];
	char outside[NTM_ADDR_STRLEN];
	char nat[8];
	bool dirty;	   /* addresses changed since the last store write */
	bool flush_taken;  /* in the batch dc_register_flush is writing */
	int64_t db_seen;   /* wall-clock last_seen as last written */
	int64_t seen_wall; /* wall-clock time of the last message */
	struct ntm_ctrl_addr cand[NTM_CTRL_CANDIDATES_MAX]; /* as the last REGISTER listed them */
	size_t n_cand;
	uint8_t families;	   /* NTM_CTRL_FAMILY_* of the candidates and the outside address */
	uint32_t dir_req_id;	   /* the last DIRECTION_REQUEST served (direction.c) */
	struct ntm_key dir_target; /* and whom it told */
	/*
	 * The nodes this one was given a DIRECTION about (either end of a
	 * request), newest overwriting the oldest when full: only they hear of
	 * a revocation (PEER_REVOKED), nobody else learns the key.
	 */
	struct ntm_key told[DC_CTRL_TOLD_MAX];
	size_t n_told, told_next;
	bool relay; /* the key is a relay's (enroll --relay): rsreg.c */
	char relay_name[DC_FQDN_SIZE];
	uint32_t relay_req_id; /* the last RELAY_REQUEST taken (rsreg.c) */
	int fed;	       /* another domain's DC: 1 + its [Federation] section (fedserver.c) */
	bool fed_hello;	       /* its FED_HELLO was accepted on this session */
	struct ntm_prefix fed_pool4, fed_pool6; /* the pools it announced: its nodes' VIPs */
};

struct dc_src_bucket {
	uint64_t stamp_ms;
	uint32_t tokens;
};

/*
 * MaxSessions slots (dc_config max_sessions). A local index carries its
 * session's slot in the low slot_bits bits (2^slot_bits >= max) and random
 * bits above.
 */
struct dc_ctable {
	struct dc_csess **slots;   /* [max] */
	struct dc_csess **buckets; /* [1 << slot_bits], key hash chains */
	uint32_t *free;		   /* [max]: the free slots, n_free of them, any order */
	size_t n_free;
	size_t max;
	unsigned slot_bits;
	uint8_t hash_key[16];
	size_t n;
	size_t n_probation;
	struct dc_relays *relays; /* told when a relay's session goes */
};

struct dc_ctrl {
	uv_loop_t *loop;
	struct dc_ctrl_config cc;
	struct ntm_noise_identity *id;
	struct ntm_cookie_checker *checker;
	struct dc_ep eps[DC_CTRL_EPS_MAX];
	size_t n_eps;
	uv_timer_t sweep;
	int open_handles;
	void (*done)(void *arg);
	void *done_arg;
	struct dc_ctrl_stats st;
	struct dc_ctable table;
	struct dc_fed *fed; /* the caller's side of federation (dc/federation.h), or NULL */
	size_t flush_next;  /* where dc_register_flush's scan resumes */
	struct ntm_secpool *secpool; /* every session's secrets (common/secpool.h) */
	struct dc_src_bucket src[DC_CTRL_SRC_BUCKETS];
	uint64_t load_start_ms;
	uint32_t load_count;
	struct ntm_ratelimit rl;
	uint8_t rx[DC_CTRL_RX_MAX];
	uint8_t plain[NTM_CTRL_PLAIN_MAX];
	uint8_t tx[DC_CTRL_RX_MAX];
};

/* ---- ctrl.c */
/*
 * PEER_REVOKED about `pubkey` (`fqdn` a hint, both borrowed) to every
 * online node that was told about it; the key's own session stays (a
 * node of another domain has none here: fedrevoke.c). Returns how many.
 */
size_t dc_ctrl_tell_revoked(struct dc_ctrl *c, const struct ntm_key *pubkey, const char *fqdn);

/* ---- csess.c */
/* An empty table of `max` slots (1 to DC_CONFIG_MAX_SESSIONS_MAX). 0 or -ENOMEM. */
NTM_MUST_CHECK int dc_ctable_init(struct dc_ctable *t, size_t max);
/* Destroys every session and frees the table; accepts a table that failed init. */
void dc_ctable_fini(struct dc_ctable *t);
struct dc_csess *dc_ctable_by_key(struct dc_ctable *t, const uint8_t pub[NTM_KEY_LEN]);
struct dc_csess *dc_ctable_by_index(struct dc_ctable *t, uint32_t index);
/*
 * A new session for `pub` (no session for it may exist), evicting the least
 * recently active one (probation sessions first) when the table is full.
 * Returns 0 or -ENOMEM / -EINVAL.
 */
NTM_MUST_CHECK int dc_ctable_add(struct dc_ctrl *c, const uint8_t pub[NTM_KEY_LEN],
				 struct dc_csess **out);
void dc_ctable_remove(struct dc_ctable *t, struct dc_csess *s);
/* A fresh local index for `s`: random high bits (never all zero), slot in the low bits. */
uint32_t dc_ctable_new_index(const struct dc_ctable *t, const struct dc_csess *s);
/* False when the source address of `from` has used up its initiation budget. */
bool dc_ctrl_src_allow(struct dc_ctrl *c, const struct ntm_addr *from, uint64_t now_ms);

/* ---- register.c */
/*
 * Handles one decrypted message on session `s` and writes the answer (a
 * plaintext control message) into ans (cap bytes), *ans_len 0 when there is
 * none. May remove the session (then returns 1: do not touch s).
 */
int dc_register_handle(struct dc_ctrl *c, struct dc_csess *s, const uint8_t *plain, size_t len,
		       uint8_t *ans, size_t cap, size_t *ans_len);
/* The session's NAT class (enum ntm_ctrl_nat), UNKNOWN until both endpoints heard it. */
uint8_t dc_register_nat(const struct dc_csess *s);
/* Makes `a` an ERROR answer to req_id with `code` and `text` (borrowed). Returns 0. */
int dc_register_error(struct ntm_ctrl_msg *a, uint32_t req_id, enum ntm_ctrl_error code,
		      const char *text);
/* Writes the registration state of dirty or stale sessions (one transaction). */
void dc_register_flush(struct dc_ctrl *c, bool all);

/* ---- direction.c */
/* Handles a decoded DIRECTION_REQUEST on `s` and fills the answer `a` (DIRECTION or ERROR). */
void dc_direction_handle(struct dc_ctrl *c, struct dc_csess *s, const struct ntm_ctrl_msg *m,
			 struct ntm_ctrl_msg *a);

/* ---- direction.c */
/* The DIRECTION that describes `peer` (its session) to someone else, into d. 0 or -EINVAL. */
int dc_direction_fill(const struct dc_csess *peer, uint32_t req_id, struct ntm_ctrl_msg *d);

/* Remembers that `s` was told about `peer_key` (for PEER_REVOKED). */
void dc_direction_note_told(struct dc_csess *s, const struct ntm_key *peer_key);

/* True when `s` is registered, heard from recently and able to seal (a direction target). */
bool dc_direction_is_online(const struct dc_ctrl *c, const struct dc_csess *s, uint64_t now_ms);

/* The live, registered session of the node called `name` (any spelling), or NULL. */
struct dc_csess *dc_direction_find_target(struct dc_ctrl *c, const char *name, uint64_t now_ms);

/* ---- rsreg.c */
/*
 * A decoded message on a relay's session (RS_REGISTER, RS_LOAD, the answers
 * to RELAY_ALLOC): fills the answer `a` and returns true, or false when
 * there is none to send.
 */
bool dc_rsreg_handle(struct dc_ctrl *c, struct dc_csess *s, const struct ntm_ctrl_msg *m,
		     struct ntm_ctrl_msg *a);
/* RELAY_REQUEST from a node: true and an ERROR in `a` when refused at once. */
/* RELAY_DONE from a node: its end left the pair's session (released when both did). */
void dc_rsreg_relay_done(struct dc_ctrl *c, struct dc_csess *s, const struct ntm_ctrl_msg *m);
bool dc_rsreg_relay_request(struct dc_ctrl *c, struct dc_csess *s, const struct ntm_ctrl_msg *m,
			    struct ntm_ctrl_msg *a);
/*
 * Allocates a relay session for the pair a-b and offers it to both
 * (RELAY_OFFER, request id 0, a is SIDE A), when a relay grants it: the
 * relay path a DIRECTION chose, or the fallback run in parallel with a punch.
 * Returns 0 or a negative errno (no relay registered, out of memory).
 */
NTM_MUST_CHECK int dc_rsreg_offer_pair(struct dc_ctrl *c, const struct dc_csess *a,
				       const struct dc_csess *b);
/* dc_relays_send_cb for the relays module (arg: the dc_ctrl). */
int dc_rsreg_send(void *arg, void *sess, const struct ntm_ctrl_msg *m);

/* ---- ctrl.c */
/*
 * Seals `plain` (borrowed for the call) on session `s` and sends it to where
 * the node was last heard from. Returns 0, -ENOTCONN (no usable keypair) or
 * -EMSGSIZE. Sending itself is fire and forget (UDP).
 */
NTM_MUST_CHECK int dc_ctrl_send(struct dc_ctrl *c, struct dc_csess *s, const uint8_t *plain,
				size_t len, uint64_t now_ms);

#endif
