/* SPDX-License-Identifier: MIT */
#ifndef DC_RELAYS_H
#define DC_RELAYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/ctrlmsg.h"
#include "common/err.h"
#include "common/key.h"
#include "dc/fqdn.h"

/*
 * The Relay Servers registered with this DC and relay session allocation
 * (DESIGN "Flows" 4). A relay is here while its control session lives and
 * it has registered (RS_REGISTER; dc/rsreg.c feeds this module); its load
 * is what it last reported, plus the sessions allocated since.
 *
 * dc_relay_allocate() picks the registered relay with the lowest load
 * (the larger of session-table use and CPU use, both in parts per million;
 * then fewer sessions, then fewer packets/s), draws a random session id and
 * a random 32-byte credential, sends RELAY_ALLOC over the relay's session
 * and calls back with the relay's addresses, the id and the credential once
 * the relay answered ALLOC_OK. It retransmits the same request (the relay
 * treats it idempotently) every DC_RELAY_RETRY_MS, up to DC_RELAY_TRIES
 * times; a relay that is full or silent, or whose session ends, is skipped
 * for the next one (a silent one stays the last choice for later
 * allocations too, until its next load report); a taken id is drawn again. When no relay is left
 * the callback gets -ENOENT (none registered or all failed) or -ETIMEDOUT.
 *
 * The module never sees tunnel keys: a credential only lets a node bind its
 * own address to one side of one relay session.
 */
struct dc_relays;

enum {
	DC_RELAYS_MAX = 64,	    /* registered relays */
	DC_RELAY_PENDING_MAX = 256, /* allocations in flight */
	DC_RELAY_RELEASES_MAX = 64, /* releases awaiting RELEASE_OK */
	DC_RELAY_LEASES_MAX = 512,  /* pairs of nodes with a session (or one in flight) */
	DC_RELAY_RETRY_MS = 1000,
	DC_RELAY_TRIES = 3,
	DC_RELAY_REPORT_S = 10,		 /* the load report interval the DC asks for */
	DC_RELAY_LIFETIME_DEFAULT = 120, /* seconds without traffic before a session expires */
};

/* Sends `m` (borrowed for the call) on the relay session `sess`; 0 or a negative errno. */
typedef int (*dc_relays_send_cb)(void *arg, void *sess, const struct ntm_ctrl_msg *m);

/* A granted relay session: a plain value. The credential is secret: wipe it after use. */
struct dc_relay_grant {
	char relay[DC_FQDN_SIZE]; /* the relay's enrolled name */
	struct ntm_ctrl_addr addrs[NTM_CTRL_RELAY_ADDRS_MAX];
	size_t n_addrs;
	uint32_t session_id;
	uint8_t credential[NTM_CTRL_CRED_LEN];
	uint16_t lifetime;
};

/* 0 and the grant (borrowed for the call), or a negative errno and NULL. */
typedef void (*dc_relay_allocated_cb)(void *arg, int status, const struct dc_relay_grant *g);

/* What `relays` shows for one registered relay: a plain value. */
struct dc_relay_info {
	char name[DC_FQDN_SIZE];
	struct ntm_key pubkey;
	struct ntm_ctrl_addr addrs[NTM_CTRL_RELAY_ADDRS_MAX];
	size_t n_addrs;
	struct ntm_ctrl_load load;
	uint64_t allocated; /* sessions granted on it by this DC */
	int64_t report_age_ms;
};

/* Returns 0 or -ENOMEM. `loop` borrowed. Close with dc_relays_close(). */
NTM_MUST_CHECK int dc_relays_create(uv_loop_t *loop, struct dc_relays **out);
/* Fails pending allocations (-ECANCELED), frees in the timer's close callback. Accepts NULL. */
void dc_relays_close(struct dc_relays *r, void (*done)(void *arg), void *arg);

/* Ends every pending allocation now, each callback with -ECANCELED. */
void dc_relays_cancel(struct dc_relays *r);

/* How RELAY_ALLOC reaches a relay (dc/ctrl.c sets it; NULL: nothing is sent). */
void dc_relays_set_sender(struct dc_relays *r, dc_relays_send_cb send, void *arg);

/*
 * RS_REGISTER on session `sess` (an opaque handle, valid until
 * dc_relays_gone) of the relay `name` with key `pub`: addresses and load
 * from `m`. Returns 0 or -ENOSPC (DC_RELAYS_MAX reached).
 */
NTM_MUST_CHECK int dc_relays_register(struct dc_relays *r, void *sess, const char *name,
				      const struct ntm_key *pub, const struct ntm_ctrl_msg *m);
/* RS_LOAD. -ENOENT when `sess` has not registered. */
NTM_MUST_CHECK int dc_relays_report(struct dc_relays *r, void *sess,
				    const struct ntm_ctrl_load *load);
/* ALLOC_OK, RELEASE_OK or ERROR from the relay on `sess`. */
void dc_relays_answer(struct dc_relays *r, void *sess, const struct ntm_ctrl_msg *m);
/* The session `sess` ended: the relay is gone, its pending allocations move on. */
void dc_relays_gone(struct dc_relays *r, void *sess);

/*
 * Allocates a relay session of `lifetime_s` seconds (1..NTM_CTRL_LIFETIME_MAX)
 * as above; `cb` runs later (never within this call). Returns 0, -ENOENT
 * (no relay registered), -EBUSY (DC_RELAY_PENDING_MAX in flight) or -EINVAL.
 */
NTM_MUST_CHECK int dc_relay_allocate(struct dc_relays *r, uint16_t lifetime_s,
				     dc_relay_allocated_cb cb, void *arg);

/*
 * The same, but a relay with one of the addresses avoid[0..n_avoid) (a
 * node found it silent) is not the first pick unless it is the only one;
 * when the first pick fails, the avoided relays are tried like the rest
 * (a single relay that restarted keeps its address).
 */
NTM_MUST_CHECK int dc_relay_allocate_avoiding(struct dc_relays *r, uint16_t lifetime_s,
					      const struct ntm_ctrl_addr *avoid, size_t n_avoid,
					      dc_relay_allocated_cb cb, void *arg);

/*
 * Ends session `id` on the relay named `relay` (a grant's) at once, e.g.
 * when the tunnel went direct: RELAY_RELEASE, sent again every
 * DC_RELAY_RETRY_MS until RELEASE_OK (or an ERROR) answers it, at most
 * DC_RELAY_TRIES times (an unreleased session still expires when idle).
 * Returns 0, -ENOENT (no such relay registered), -EBUSY
 * (DC_RELAY_RELEASES_MAX in flight) or the sender's error.
 */
NTM_MUST_CHECK int dc_relay_release(struct dc_relays *r, const char *relay, uint32_t id);

/*
 * One session per pair of nodes (issue 6). dc_relay_allocate_pair() is
 * dc_relay_allocate_avoiding() for the pair {a, b} (keys in either order),
 * and the grant is remembered for the pair: dc_relay_lease_get() hands the
 * same session out again (a second DIRECTION, a retried RELAY_REQUEST)
 * while its relay stays registered and the session cannot have expired on
 * it (less than its lifetime since it was last offered: the nodes BIND when
 * offered and refresh while they hold it), unless the relay is one of
 * avoid[0..n_avoid) (a node found it silent). A new grant for a pair
 * releases the pair's previous session. dc_relay_lease_done() notes that
 * one end of the pair left the session for a direct path; when both ends
 * did, the session is released and forgotten. A relay that goes away takes
 * its pairs' sessions with it.
 */
/* 0 and the pair's session in `out` (wipe it), -EINPROGRESS (an allocation for the pair is in
 * flight) or -ENOENT. */
NTM_MUST_CHECK int dc_relay_lease_get(struct dc_relays *r, const struct ntm_key *a,
				      const struct ntm_key *b, const struct ntm_ctrl_addr *avoid,
				      size_t n_avoid, struct dc_relay_grant *out);
/* As dc_relay_allocate_avoiding(); also -EINPROGRESS (the pair has one in flight). */
NTM_MUST_CHECK int dc_relay_allocate_pair(struct dc_relays *r, uint16_t lifetime_s,
					  const struct ntm_key *a, const struct ntm_key *b,
					  const struct ntm_ctrl_addr *avoid, size_t n_avoid,
					  dc_relay_allocated_cb cb, void *arg);
/*
 * `self` left session `id` of the pair {self, peer}: 1 when both ends have
 * now left it and it is released, 0 when the other end still holds it,
 * -ENOENT when the pair has no such session.
 */
NTM_MUST_CHECK int dc_relay_lease_done(struct dc_relays *r, const struct ntm_key *self,
				       const struct ntm_key *peer, uint32_t id);
/* Pairs with a session (for `relays` and tests). */
size_t dc_relay_lease_count(const struct dc_relays *r);

/*
 * True when a registered relay could take a session now as a first pick:
 * not full, not silent (the last choice) and none of whose addresses is in
 * avoid[0..n_avoid). Federation (dc/fedrelay.c) asks the other domain's DC
 * rather than retry a relay that is only a last choice here.
 */
bool dc_relays_usable(const struct dc_relays *r, const struct ntm_ctrl_addr *avoid, size_t n_avoid);

/* Calls cb for every registered relay in registration order; `info` valid during the call. */
void dc_relays_foreach(const struct dc_relays *r,
		       void (*cb)(void *ctx, const struct dc_relay_info *info), void *ctx);
size_t dc_relays_count(const struct dc_relays *r);

#endif
