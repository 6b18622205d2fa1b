/* SPDX-License-Identifier: MIT */
#ifndef EN_DCCLIENT_H
#define EN_DCCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/addr.h"
#include "common/ctrlmsg.h"
#include "common/err.h"
#include "endnode/config.h"

/*
 * The node's side of registration (DESIGN "Flows" 1 and 6): one control
 * session (common/ctrl.h) with the Direction Coordinator of the [DC]
 * section, spoken over the node's own UDP sockets (through ops.send), so
 * that the NAT binding the DC sees is the one peers punch to.
 *
 * An attempt is: a control handshake with one DC endpoint, then REGISTER
 * (FQDN, the one-time token until the first success, the node's local
 * candidate addresses). REGISTER_OK brings the VIPs (put on the interface
 * through ops.set_vips), the outside address the DC saw and the keep-alive
 * interval. From then on a KEEPALIVE goes out every interval (it holds the
 * NAT binding and the node's presence); a handshake precedes it when the
 * session's keys are due for renewal (ctrl.h key rules).
 *
 * Every message of an attempt (initiation, REGISTER, KEEPALIVE) is sent up
 * to EN_DC_TRIES times, waiting EN_DC_RETRY_MS, then twice as long, and so
 * on. When the last try goes unanswered, or the DC refuses the registration,
 * the attempt has failed: the client moves to the next configured endpoint
 * (v4 and v6 in the order of the file) and starts over after a backoff of
 * EN_DC_BACKOFF_MIN_MS doubling up to EN_DC_BACKOFF_MAX_MS, each with +-25%
 * jitter. A success resets the backoff. The node's tunnels do not depend on
 * any of this: losing the DC changes nothing in the data plane (Flow 6).
 *
 * Time comes from ops.now (uv_now in the daemon); the client arms its own uv
 * timer for the next deadline, whose callback is en_dcclient_poll(), so
 * tests can move a fake clock and call poll themselves without running the
 * loop.
 */
struct en_dcclient;

enum {
	EN_DC_TRIES = 3,
	EN_DC_RETRY_MS = 1000,
	EN_DC_BACKOFF_MIN_MS = 1000,
	EN_DC_BACKOFF_MAX_MS = 60 * 1000,
	EN_DC_CANDIDATES_MAX = 8, /* = NTM_CTRL_CANDIDATES_MAX */
};

enum en_dc_state {
	EN_DC_REGISTERING, /* no answer yet, or refused */
	EN_DC_REGISTERED,  /* REGISTER_OK, keep-alives answered */
	EN_DC_UNREACHABLE, /* the last attempt went unanswered; retrying */
};

/* The VIPs assigned by the DC: a plain value. */
struct en_dc_vips {
	uint8_t vip4[4];
	uint8_t vip6[16];
};

struct en_dcclient_ops {
	/* Sends one datagram (`buf` borrowed for the call); 0 or a negative errno. */
	int (*send)(void *arg, const struct ntm_addr *to, const uint8_t *buf, size_t len);
	/*
	 * Puts `vips` on the interface, replacing `old` (NULL the first time);
	 * both borrowed for the call. Called only when they change.
	 */
	void (*set_vips)(void *arg, const struct en_dc_vips *old, const struct en_dc_vips *vips);
	/* The node's local candidate addresses into out[cap]; returns how many. */
	size_t (*candidates)(void *arg, struct ntm_addr *out, size_t cap);
	/* Monotonic time in ms. */
	uint64_t (*now)(void *arg);
	void *arg; /* borrowed, passed to every hook */
	/*
	 * A DIRECTION, RELAY_OFFER or PEER_REVOKED, or an ERROR that answers none of the
	 * client's own requests (so maybe a direction request's), from the DC;
	 * `m` borrowed for the call. May be NULL.
	 */
	void (*message)(void *arg, const struct ntm_ctrl_msg *m);
	/*
	 * The domain's pools as REGISTER_OK listed them (NULL: not sent, an
	 * older DC); borrowed for the call. Called when they change. May be NULL.
	 */
	void (*set_pools)(void *arg, const struct ntm_prefix *pool4,
			  const struct ntm_prefix *pool6);
	/*
	 * The outside address the DC sees changed from one of the same family
	 * it had told before (the new one borrowed for the call): the node
	 * moved, or its NAT forgot the mapping and made a new one. May be NULL.
	 */
	void (*outside_changed)(void *arg, const struct ntm_addr *outside);
};

/* What `ntmctl status` shows: a plain value. */
struct en_dcclient_info {
	enum en_dc_state state;
	struct ntm_addr endpoint; /* the endpoint in use */
	bool has_vips;
	struct en_dc_vips vips;
	struct ntm_addr outside; /* len 0 until the DC told us */
	bool is_public;		 /* the outside address is one of our candidates */
	uint8_t nat;		 /* enum ntm_ctrl_nat: public, or the DC's eim/edm verdict */
	uint8_t families;	 /* NTM_CTRL_FAMILY_* bits the DC sees we can use */
	int64_t last_contact_ms; /* ms since the last authenticated message; -1: never */
	uint16_t last_error;	 /* enum ntm_ctrl_error of the last refusal, 0 if none */
	uint64_t drops;		 /* control datagrams dropped (unauthenticated, stale) */
};

/*
 * A client for cfg's [DC] section (cfg->has_dc must be true) under the
 * node's private key; everything is copied (the token into secure memory).
 * `loop` and the `ops` context are borrowed and must outlive the client.
 * Nothing is sent before en_dcclient_start(). Returns 0, -EINVAL or -ENOMEM.
 * Close with en_dcclient_close().
 */
NTM_MUST_CHECK int en_dcclient_create(uv_loop_t *loop, const struct en_config *cfg,
				      const struct en_dcclient_ops *ops, struct en_dcclient **out);

/* Starts the first attempt now. */
void en_dcclient_start(struct en_dcclient *dc);

/*
 * One control datagram (types 0x80-0x83) from `from`; both borrowed for the
 * call. Anything that does not authenticate or answers nothing outstanding
 * is dropped and counted.
 */
void en_dcclient_receive(struct en_dcclient *dc, const uint8_t *buf, size_t len,
			 const struct ntm_addr *from);

/* Does what is due at ops.now() (retransmission, timeout, keep-alive) and re-arms the timer. */
void en_dcclient_poll(struct en_dcclient *dc);

void en_dcclient_get_info(const struct en_dcclient *dc, struct en_dcclient_info *out);

/*
 * Sends one DIRECTION_REQUEST for `fqdn` (borrowed for the call) with
 * `req_id` (non-zero) on the registered session; the answer comes through
 * ops.message. Retransmission is the caller's (same req_id: the DC answers
 * it again without telling the target twice). Returns 0, -ENOTCONN (not
 * registered, or no usable keys right now: try later) or -EINVAL.
 */
NTM_MUST_CHECK int en_dcclient_direction_request(struct en_dcclient *dc, uint32_t req_id,
						 const char *fqdn);

/*
 * As en_dcclient_direction_request, marked MOVED (DESIGN "Flows" 5): this
 * node moved and its tunnel to `fqdn` is dead; the DC tells both ends
 * again and both start the path anew.
 */
NTM_MUST_CHECK int en_dcclient_redirect(struct en_dcclient *dc, uint32_t req_id, const char *fqdn);

/*
 * The node's addresses changed (mobility.h): registers again at once with
 * the new candidates (on the session when there is one, else with a new
 * attempt without waiting for the backoff) and classifies the NAT again.
 */
void en_dcclient_moved(struct en_dcclient *dc);

/* The same by VIP: `family` AF_INET or AF_INET6, `vip` 4 or 16 bytes (borrowed). */
NTM_MUST_CHECK int en_dcclient_direction_request_vip(struct en_dcclient *dc, uint32_t req_id,
						     int family, const uint8_t *vip);

/*
 * Sends one RELAY_REQUEST for the peer `fqdn` (borrowed) with `req_id`
 * (non-zero): the DC allocates a new relay session for the pair and offers
 * it to both ends (RELAY_OFFER through ops.message). Used when the relay in
 * use went silent: `avoid` (borrowed, may be NULL) is its address, which
 * the DC then allocates on only when no other relay can. Returns 0,
 * -ENOTCONN or -EINVAL, as above.
 */
NTM_MUST_CHECK int en_dcclient_relay_request(struct en_dcclient *dc, uint32_t req_id,
					     const char *fqdn, const struct ntm_addr *avoid);

/*
 * RELAY_DONE: this node left relay session `session` with the peer `peer`
 * (NTM_KEY_LEN bytes) for a proven direct path. Sent once, not answered.
 * Returns 0, -ENOTCONN or -EINVAL, as above.
 */
NTM_MUST_CHECK int en_dcclient_relay_done(struct en_dcclient *dc, uint32_t req_id,
					  const uint8_t *peer, uint32_t session);

/*
 * The overlay domains the DC announced in its last REGISTER_OK (its own
 * first, then federated ones), as pointers into the client, valid until the
 * next call into the client; at most `cap`. Returns how many (0 before
 * registration, from an older DC, or with dc NULL).
 */
size_t en_dcclient_domains(const struct en_dcclient *dc, const char **out, size_t cap);

/*
 * The VIPs the node had before a restart (its peer cache; `vips` borrowed),
 * already on the interface: ops.set_vips then runs only when the DC assigns
 * others. Ignored once the client has VIPs of its own.
 */
void en_dcclient_preset_vips(struct en_dcclient *dc, const struct en_dc_vips *vips);

/* "registering", "registered", "unreachable". */
const char *en_dc_state_name(enum en_dc_state s);

typedef void (*en_dcclient_closed_cb)(void *arg);

/* Stops the timer, wipes the keys and frees `dc` in the close callback; then `done`. */
void en_dcclient_close(struct en_dcclient *dc, en_dcclient_closed_cb done, void *arg);

#endif
