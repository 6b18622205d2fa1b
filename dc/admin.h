/* SPDX-License-Identifier: MIT */
#ifndef DC_ADMIN_H
#define DC_ADMIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "common/err.h"
#include "common/key.h"
#include "dc/config.h"
#include "dc/pool.h"
#include "dc/relays.h"
#include "dc/store.h"

/*
 * The DC's control socket (common/ctl.h): the admin commands ntmctl sends.
 *
 *   enroll {"fqdn","pubkey"[,"publish"]}  write -> {fqdn, pubkey, vip4, vip6, published}
 *   enroll {"relay","pubkey"}        write  -> {relay, pubkey}
 *   revoke {"fqdn"}                  write  -> {fqdn, vip4, vip6}; code unknown if absent
 *   publish {"fqdn","on"}            write  -> {fqdn, published}; code unknown if absent
 *   nodes {}                         read   -> [{fqdn, vip4, vip6, real, outside, nat,
 *                                               last_seen, online, published}]
 *   token.create {"fqdn"[,"ttl"]}    write  -> {fqdn, token, expires, ttl}
 *   status {}                        read   -> {domain, listen, alt_listen, enrolled,
 *                                               registered, online, sessions, counters,
 *                                               drops_total, drops{reason: n}, dns{...,
 *                                               dnssec, keytag, signed_answers, signatures,
 *                                               signature_cache_hits}}
 *   ds {}                            read   -> {zone, ds} (the DS record's presentation form;
 *                                               an error when the zone is not signed)
 *   relays {}                        read   -> [{relay, pubkey, addresses, sessions,
 *                                               capacity, pps, bps, cpu, allocated,
 *                                               report_age}] (registered relays)
 *
 * revoke also ends the node's control session and tells the nodes that had
 * a direction about it (dc_ctrl_revoke).
 *
 * Handlers answer at once: the store is synchronous (store.h says why that
 * is fine here).
 */

struct dc_admin;
struct dc_ctrl;
struct dc_dnsserver;

typedef void (*dc_admin_closed_cb)(void *arg);

/* What the handlers work on; everything borrowed and must outlive the admin socket. */
struct dc_admin_env {
	struct dc_store *store;
	const struct dc_pool *pool4;
	const struct dc_pool *pool6;
	const char *domain;		 /* normalised */
	const struct ntm_key *dc_pubkey; /* nodes may not enrol with it */
	uint32_t keepalive;		 /* seconds; "online" = seen within 3 intervals */
	const struct dc_config *cfg;	 /* Listen and AltListen for status */
	struct dc_ctrl *const *ctrl;	 /* the control channel once open (*ctrl may be NULL) */
	const struct dc_relays *relays;	 /* registered relays (may be NULL) */
	struct dc_dnsserver *const *dns; /* the DNS server once open (NULL or *dns NULL: none) */
};

struct dc_admin_config {
	const char *path; /* socket path; copied */
	bool has_group;	  /* 0660 with this group instead of 0600 */
	gid_t group;
	struct dc_admin_env env;
};

/*
 * Serve the control socket on `loop`. `cfg` is read during the call (its
 * env pointers are kept). On success *out is the admin socket, closed with
 * dc_admin_close(); on failure *out is NULL, the reason is logged, a negative
 * errno returned, and the loop must still run before uv_loop_close.
 */
NTM_MUST_CHECK int dc_admin_open(uv_loop_t *loop, const struct dc_admin_config *cfg,
				 struct dc_admin **out);

/* Close the socket and every connection; done(arg) (may be NULL) runs when all is freed. */
void dc_admin_close(struct dc_admin *a, dc_admin_closed_cb done, void *arg);

#endif
