/* SPDX-License-Identifier: MIT */
#include "restore.h"

#include <sys/socket.h>
#include <string.h>

#include "common/log.h"
#include "endnode/node_internal.h"
#include "endnode/path.h"
#include "endnode/peer_internal.h"
#include "endnode/peercache.h"
#include "endnode/resolve.h"

int en_restore_open(struct en_node *n, const char *path)
{
	char why[256];
	int rc = en_peercache_open(path, n->public_key, &n->peercache, why, sizeof(why));

	if (rc < 0) {
		ntm_log_err("StateFile %s", why);
	}
	return rc;
}

void en_restore_close(struct en_node *n)
{
	en_peercache_close(n->peercache);
	n->peercache = NULL;
}

bool en_restore_vips(struct en_node *n, struct en_dc_vips *out)
{
	memset(out, 0, sizeof(*out));
	return n->peercache != NULL &&
	       en_peercache_get_self(n->peercache, out->vip4, out->vip6) == 0;
}

void en_restore_note_vips(struct en_node *n, const struct en_dc_vips *vips)
{
	if (n->peercache != NULL &&
	    en_peercache_put_self(n->peercache, vips->vip4, vips->vip6) < 0) {
		ntm_log_warn("peer cache: cannot store the VIPs");
	}
}

/* The /32 and /128 of a learned peer (its AllowedIPs are exactly its VIPs). */
static void take_vip(void *ctx, const struct ntm_prefix *p)
{
	struct en_peercache_entry *e = ctx;

	if (p->family == AF_INET && p->prefix_len == 32) {
		memcpy(e->vip4, p->addr, 4);
	} else if (p->family == AF_INET6 && p->prefix_len == 128) {
		memcpy(e->vip6, p->addr, 16);
	}
}

void en_restore_note_handshake(struct en_node *n, const struct en_peer *peer)
{
	const char *fqdn = en_resolver_learned_fqdn(n->resolver, peer->public_key);
	struct en_peercache_entry e = { .path = NTM_CTRL_PATH_DIRECT };
	struct en_resolver_path rp;
	struct en_path_info pi;

	if (n->peercache == NULL || fqdn == NULL ||
	    ntm_ctrl_addr_from(&e.endpoint, &peer->endpoint) < 0) {
		return; /* a static peer, or no endpoint to remember */
	}
	if (en_pathmgr_get(n->pathmgr, peer->public_key, &pi)) {
		e.path = pi.active;
	}
	if (e.path == NTM_CTRL_PATH_RELAY) {
		return; /* the endpoint is the relay's; its session does not outlive us */
	}
	(void)en_resolver_learned_path(n->resolver, peer->public_key, &rp);
	e.nat = rp.nat;
	e.nat_peer = rp.nat_peer;
	memcpy(e.public_key, peer->public_key, sizeof(e.public_key));
	snprintf(e.fqdn, sizeof(e.fqdn), "%s", fqdn);
	en_allowedips_foreach(n->allowedips, peer, take_vip, &e);
	if (en_peercache_put(n->peercache, &e) < 0) {
		ntm_log_warn("%s: peer cache: cannot store %s", peer->label, fqdn);
	}
}

void en_restore_note_forget(struct en_node *n, const struct en_peer *peer)
{
	if (n->peercache != NULL && en_peercache_remove(n->peercache, peer->public_key) < 0) {
		ntm_log_warn("%s: peer cache: cannot remove it", peer->label);
	}
}

/* One cached peer, learned as from a DIRECTION nobody asked for, then a handshake. */
static void restore_peer(void *arg, const struct en_peercache_entry *e)
{
	struct en_node *n = arg;
	struct ntm_ctrl_msg m;
	struct en_peer *peer;

	ntm_ctrl_msg_init(&m, NTM_CTRL_DIRECTION, 0);
	m.attrs = NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN) | NTM_CTRL_BIT(NTM_CTRL_ATTR_PUBKEY) |
		  NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP4) | NTM_CTRL_BIT(NTM_CTRL_ATTR_VIP6) |
		  NTM_CTRL_BIT(NTM_CTRL_ATTR_OUTSIDE);
	snprintf(m.fqdn, sizeof(m.fqdn), "%s", e->fqdn);
	memcpy(m.pubkey, e->public_key, sizeof(m.pubkey));
	memcpy(m.vip4, e->vip4, sizeof(m.vip4));
	memcpy(m.vip6, e->vip6, sizeof(m.vip6));
	/*
	 * Whatever the path was (punched, same-nat): its last endpoint, straight
	 * away. Without a PATH the path manager treats it like an older DC's
	 * direction: direct, and we initiate without waiting for the other end.
	 */
	m.outside = e->endpoint;
	en_resolver_on_message(n->resolver, &m);
	peer = en_peer_find(n, e->public_key);
	if (peer == NULL) {
		ntm_log_warn("peer cache: %s could not be restored", e->fqdn);
		return;
	}
	ntm_log_info("%s: %s restored from the peer cache", peer->label, e->fqdn);
	ntm_timers_want_handshake(peer->timers, en_node_now(n));
	en_peer_drive(peer);
}

void en_restore_peers(struct en_node *n)
{
	int count;

	if (n->peercache == NULL || n->resolver == NULL) {
		return;
	}
	count = en_peercache_load(n->peercache, restore_peer, n);
	if (count < 0) {
		ntm_log_warn("peer cache: cannot read it: %s", ntm_strerror(count));
	}
}
