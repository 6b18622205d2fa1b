/* SPDX-License-Identifier: MIT */
#include "node.h"

#include <sodium.h>
#include <string.h>

#include "common/alloc.h"
#include "common/log.h"
#include "endnode/batch.h"
#include "endnode/control.h"
#include "endnode/dcclient.h"
#include "endnode/dnsstub.h"
#include "endnode/resolved.h"
#include "endnode/resolve.h"
#include "endnode/restore.h"
#include "endnode/gro.h"
#include "endnode/localaddr.h"
#include "endnode/mobility.h"
#include "endnode/nl.h"
#include "endnode/path.h"
#include "endnode/node_internal.h"
#include "endnode/peer_internal.h"
#include "endnode/receive.h"
#include "endnode/send.h"
#include "endnode/trigger.h"
#include "endnode/tun.h"
#include "endnode/udp.h"

static const char *const drop_names[EN_DROP_COUNT] = {
	[EN_DROP_MALFORMED] = "malformed",
	[EN_DROP_MAC1] = "bad_mac1",
	[EN_DROP_COOKIE] = "cookie_sent",
	[EN_DROP_HANDSHAKE] = "bad_handshake",
	[EN_DROP_HANDSHAKE_REPLAY] = "handshake_replay",
	[EN_DROP_FLOOD] = "handshake_flood",
	[EN_DROP_UNKNOWN_INDEX] = "unknown_index",
	[EN_DROP_AUTH] = "bad_auth",
	[EN_DROP_REPLAY] = "replay",
	[EN_DROP_EXPIRED] = "expired_keypair",
	[EN_DROP_SOURCE] = "source_not_allowed",
	[EN_DROP_INNER] = "bad_inner_packet",
	[EN_DROP_NO_PEER] = "no_peer",
	[EN_DROP_NO_ENDPOINT] = "no_endpoint",
	[EN_DROP_QUEUE] = "queue",
	[EN_DROP_SEND] = "send_failed",
	[EN_DROP_TUN_WRITE] = "tun_write",
};

const char *en_drop_name(enum en_drop reason)
{
	return (unsigned)reason < EN_DROP_COUNT ? drop_names[reason] : "unknown";
}

uint64_t en_node_drop_count(const struct en_node *n, enum en_drop reason)
{
	return (unsigned)reason < EN_DROP_COUNT ? n->drops[reason] : 0;
}

void en_node_drop(struct en_node *n, struct en_peer *peer, enum en_drop reason)
{
	n->drops[reason]++;
	if (peer != NULL) {
		peer->drops[reason]++;
	}
}

uint64_t en_node_now(const struct en_node *n)
{
	return uv_now(n->loop);
}

int en_node_udp_send(struct en_node *n, const struct ntm_addr *to, const uint8_t *buf, size_t len)
{
	if (to->sa.sa_family != AF_INET && to->sa.sa_family != AF_INET6) {
		return -EDESTADDRREQ;
	}
	if (n->io.udp_send == NULL) {
		return -ENOTCONN;
	}
	return n->io.udp_send(n->io.ctx, to, buf, len);
}

int en_node_udp_send_gso(struct en_node *n, const struct ntm_addr *to, const uint8_t *buf,
			 size_t len, size_t seg)
{
	int rc = 0;

	if (n->io_gso && (to->sa.sa_family == AF_INET || to->sa.sa_family == AF_INET6)) {
		return en_udp_send_gso(n->udp, to, buf, len, seg);
	}
	for (size_t off = 0; off < len; off += seg) {
		int r = en_node_udp_send(n, to, buf + off, len - off < seg ? len - off : seg);

		rc = r < 0 ? r : rc;
	}
	return rc;
}

void en_node_set_io(struct en_node *n, const struct en_node_io *io)
{
	n->io = *io;
	n->io_gso = false;
}

static int init_tables(struct en_node *n, const struct en_config *cfg)
{
	int rc;

	if (cfg->n_addresses > 0) {
		n->addresses = ntm_calloc(cfg->n_addresses, sizeof(*n->addresses));
		if (n->addresses == NULL) {
			return -ENOMEM;
		}
		memcpy(n->addresses, cfg->addresses, cfg->n_addresses * sizeof(*n->addresses));
		n->n_addresses = cfg->n_addresses;
	}
	rc = ntm_noise_identity_create(cfg->private_key, &n->id);
	if (rc < 0) {
		return rc;
	}
	ntm_noise_identity_public(n->id, n->public_key);
	rc = ntm_cookie_checker_create(n->public_key, &n->checker);
	if (rc == 0) {
		rc = en_index_create(&n->index);
	}
	if (rc == 0) {
		rc = en_allowedips_create(&n->allowedips);
	}
	if (rc == 0) {
		rc = en_batch_create(&n->batch);
	}
	return rc;
}

static void free_tables(struct en_node *n)
{
	en_gro_destroy(n->gro);
	en_batch_destroy(n->batch);
	en_allowedips_destroy(n->allowedips);
	en_index_destroy(n->index);
	ntm_cookie_checker_destroy(n->checker);
	ntm_noise_identity_destroy(n->id);
	ntm_free(n->addresses);
	en_restore_close(n);
	ntm_free(n);
}

/* Printable prefix for messages ("?" if it cannot be formatted). */
static const char *prefix_text(const struct ntm_prefix *p, char *buf, size_t cap)
{
	if (ntm_prefix_format(p, buf, cap) < 0) {
		snprintf(buf, cap, "?");
	}
	return buf;
}

/* ---------------------------------------------------------------- DC client hooks */

static int dc_send(void *arg, const struct ntm_addr *to, const uint8_t *buf, size_t len)
{
	return en_node_udp_send(arg, to, buf, len);
}

static uint64_t dc_now(void *arg)
{
	return en_node_now(arg);
}

static size_t dc_candidates(void *arg, struct ntm_addr *out, size_t cap)
{
	struct en_node *n = arg;

	if (n->udp == NULL) {
		return 0;
	}
	return en_localaddr_candidates(en_udp_port(n->udp), en_udp_has_family(n->udp, AF_INET),
				       en_udp_has_family(n->udp, AF_INET6), n->ifname, out, cap);
}

/* The VIPs as host addresses (/32, /128) on the TUN; routes come from the peers. */
static void vip_prefixes(const struct en_dc_vips *v, struct ntm_prefix p[2])
{
	memset(p, 0, 2 * sizeof(*p));
	p[0].family = AF_INET;
	memcpy(p[0].addr, v->vip4, 4);
	p[0].prefix_len = 32;
	p[1].family = AF_INET6;
	memcpy(p[1].addr, v->vip6, 16);
	p[1].prefix_len = 128;
}

/*
 * The new VIPs go on before the old ones come off: when the last IPv4
 * address of a device goes, the kernel flushes every IPv4 route through it
 * (the peers' and the pool's), and nothing would put them back.
 */
static void dc_set_vips(void *arg, const struct en_dc_vips *old, const struct en_dc_vips *vips)
{
	struct en_node *n = arg;
	struct ntm_prefix del[2], add[2];
	char text[NTM_PREFIX_STRLEN];
	int ifindex, rc;

	en_restore_note_vips(n, vips);
	if (n->nl == NULL || n->tun == NULL) {
		return;
	}
	ifindex = en_tun_ifindex(n->tun);
	vip_prefixes(vips, add);
	for (int i = 0; i < 2; i++) {
		rc = en_nl_addr_add(n->nl, ifindex, &add[i]);
		if (rc < 0) {
			ntm_log_err("%s: VIP %s: %s", n->ifname,
				    prefix_text(&add[i], text, sizeof(text)), ntm_strerror(rc));
		}
	}
	if (old == NULL) {
		return;
	}
	vip_prefixes(old, del);
	for (int i = 0; i < 2; i++) {
		if (!ntm_prefix_equal(&del[i], &add[i]) &&
		    (rc = en_nl_addr_del(n->nl, ifindex, &del[i])) < 0) {
			ntm_log_warn("%s: removing %s: %s", n->ifname,
				     prefix_text(&del[i], text, sizeof(text)), ntm_strerror(rc));
		}
	}
}

void en_node_dc_receive(struct en_node *n, const uint8_t *buf, size_t len,
			const struct ntm_addr *from)
{
	if (n->dc == NULL) {
		en_node_drop(n, NULL, EN_DROP_MALFORMED);
		return;
	}
	en_dcclient_receive(n->dc, buf, len, from);
}

static void dc_message(void *arg, const struct ntm_ctrl_msg *m)
{
	struct en_node *n = arg;

	if (m->kind == NTM_CTRL_PEER_REVOKED) {
		en_resolver_revoke(n->resolver, m);
		return;
	}
	if (m->kind == NTM_CTRL_RELAY_OFFER) {
		en_pathmgr_on_offer(n->pathmgr, m);
		return;
	}
	/* The resolver first: a DIRECTION adds the peer the trigger's packets go to. */
	en_resolver_on_message(n->resolver, m);
	en_trigger_on_message(n->trigger, m);
}

/* Adds (add) or removes the route of one pool through the TUN. */
static void pool_route(struct en_node *n, const struct ntm_prefix *p, bool add)
{
	char text[NTM_PREFIX_STRLEN];
	int ifindex = en_tun_ifindex(n->tun);
	int rc = add ? en_nl_route_add(n->nl, ifindex, p) : en_nl_route_del(n->nl, ifindex, p);

	if (rc < 0 && rc != -ENOENT) {
		ntm_log_warn("%s: %s the route of pool %s: %s", n->ifname,
			     add ? "adding" : "removing", prefix_text(p, text, sizeof(text)),
			     ntm_strerror(rc));
	} else if (add) {
		ntm_log_info("%s: pool %s routed into the tunnel (packets to it build tunnels)",
			     n->ifname, prefix_text(p, text, sizeof(text)));
	}
}

/* The domain's pools from REGISTER_OK: routed into the TUN, known to the trigger. */
static void dc_set_pools(void *arg, const struct ntm_prefix *pool4, const struct ntm_prefix *pool6)
{
	const struct ntm_prefix *now[2] = { pool4, pool6 };
	const int fam[2] = { AF_INET, AF_INET6 };
	struct en_node *n = arg;
	struct ntm_prefix old;

	for (int i = 0; i < 2 && n->nl != NULL && n->tun != NULL; i++) {
		bool had = en_trigger_get_pool(n->trigger, fam[i], &old);

		if (had && (now[i] == NULL || !ntm_prefix_equal(&old, now[i]))) {
			pool_route(n, &old, false);
		}
		if (now[i] != NULL && now[i]->prefix_len > 0) {
			pool_route(n, now[i], true);
		}
	}
	en_trigger_set_pools(n->trigger, pool4, pool6);
	if (n->tun != NULL) {
		en_dnsstub_start(n->dnsstub, pool4, pool6);
	}
	/* every REGISTER_OK comes here; its domains are noted before the next loop turn */
	en_resolved_sync(n->resolved);
}

/*
 * IPv4 on the TUN with scope host: the local route delivers packets to it,
 * also those sent "out of the link" (systemd-resolved binds the queries for
 * a link's DNS server to the link, and a local route on another device does
 * not match such a lookup), and scope host keeps it from ever becoming the
 * source of packets into the tunnels, which the peers would drop (it is in
 * no AllowedIPs). IPv6 has no scope host: on lo.
 */
static int local_ifindex(const struct en_node *n, int family)
{
	return family == AF_INET ? (n->tun != NULL ? en_tun_ifindex(n->tun) : 0)
				 : (int)if_nametoindex("lo");
}

int en_node_add_local(struct en_node *n, const struct ntm_addr *a)
{
	struct ntm_prefix p = { .family = a->sa.sa_family };
	int ifindex = local_ifindex(n, a->sa.sa_family);
	int rc;

	if (n->nl == NULL || ifindex <= 0 || n->n_local == EN_NODE_LOCAL_MAX) {
		return n->nl == NULL ? -ENOTCONN : ifindex <= 0 ? -ENODEV : -E2BIG;
	}
	if (a->sa.sa_family == AF_INET6) {
		memcpy(p.addr, &a->sin6.sin6_addr, 16);
		p.prefix_len = 128;
		rc = en_nl_addr_add(n->nl, ifindex, &p);
	} else {
		memcpy(p.addr, &a->sin.sin_addr, 4);
		p.prefix_len = 32;
		rc = en_nl_addr_add_host(n->nl, ifindex, &p);
	}
	if (rc == 0) {
		n->local[n->n_local++] = p; /* ours to remove at close */
	}
	return rc;
}

/* The addresses en_node_add_local put on lo go with the node (those on the TUN go with it). */
static void remove_local(struct en_node *n)
{
	for (size_t i = 0; n->nl != NULL && i < n->n_local; i++) {
		int ifindex = local_ifindex(n, n->local[i].family);

		if (ifindex > 0) {
			(void)!en_nl_addr_del(n->nl, ifindex, &n->local[i]);
		}
	}
	n->n_local = 0;
}

/* A NAT rebinding (or our own move) as the DC saw it: mobility.h decides. */
static void dc_outside_changed(void *arg, const struct ntm_addr *outside)
{
	struct en_node *n = arg;

	(void)outside;
	if (n->mobility != NULL) {
		en_mobility_outside_changed(n->mobility);
	}
}

static int create_dc(struct en_node *n, const struct en_config *cfg)
{
	const struct en_dcclient_ops ops = {
		dc_send, dc_set_vips, dc_candidates, dc_now,
		n,	 dc_message,  dc_set_pools,  dc_outside_changed
	};
	int rc;

	if (!cfg->has_dc) {
		return 0;
	}
	rc = en_resolver_create(n, &n->resolver);
	if (rc == 0) {
		rc = en_trigger_create(n, &n->trigger);
	}
	if (rc == 0) {
		rc = en_pathmgr_create(n, &n->pathmgr);
	}
	if (rc == 0) {
		rc = en_dcclient_create(n->loop, cfg, &ops, &n->dc);
	}
	if (rc == 0 && cfg->dc.state_file != NULL) {
		rc = en_restore_open(n, cfg->dc.state_file);
	}
	if (rc == 0) {
		rc = en_dnsstub_create(n, cfg->has_dns ? &cfg->dns : NULL, &n->dnsstub);
	}
	if (rc == 0) {
		rc = en_resolved_create(n, cfg->dns.register_resolved, &n->resolved);
	}
	return rc;
}

int en_node_create(uv_loop_t *loop, const struct en_config *cfg, struct en_node **out)
{
	struct en_node *n;
	int rc;

	*out = NULL;
	n = ntm_calloc(1, sizeof(*n));
	if (n == NULL) {
		return -ENOMEM;
	}
	n->loop = loop;
	n->mtu = cfg->mtu;
	n->listen_port = cfg->listen_port;
	n->rl = (struct ntm_ratelimit)NTM_RATELIMIT_INIT(1000, 5);
	n->rl_icmp = (struct ntm_ratelimit)NTM_RATELIMIT_INIT(10, 100);
	rc = init_tables(n, cfg);
	if (rc < 0) {
		free_tables(n);
		return rc;
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		rc = en_peer_add(n, &cfg->peers[i], NULL);
		if (rc < 0) {
			ntm_log_err("peer at line %u: %s", cfg->peers[i].line, ntm_strerror(rc));
			/* Peers own uv timers: the node goes away asynchronously. */
			en_node_close(n, NULL, NULL);
			return rc;
		}
	}
	rc = create_dc(n, cfg);
	if (rc < 0) {
		ntm_log_err("[DC]: %s", ntm_strerror(rc));
		en_node_close(n, NULL, NULL);
		return rc;
	}
	*out = n;
	return 0;
}

/* ---------------------------------------------------------------- start */

static void on_udp(void *arg, uint8_t *buf, size_t len, const struct ntm_addr *from)
{
	en_receive_datagram(arg, buf, len, from);
}

/* The decrypted packets of one read were held in n->gro: they go into the TUN now. */
static void on_udp_read_end(void *arg)
{
	struct en_node *n = arg;

	en_gro_flush(n->gro);
}

/* A super-packet that the TUN refuses counts as one drop, however many segments it held. */
static void on_gro_write(void *arg, void *owner, const struct en_gso *g, const struct iovec *iov,
			 size_t iovcnt)
{
	struct en_node *n = arg;

	if (n->tun == NULL || en_tun_write_gso(n->tun, g, iov, iovcnt) < 0) {
		en_node_drop(n, owner, EN_DROP_TUN_WRITE);
	}
}

static void on_tun(void *arg, uint8_t *pkt, size_t len)
{
	en_send_tun_queue(arg, pkt, len);
}

static void on_tun_burst_end(void *arg)
{
	en_send_flush(arg);
}

static int io_udp_send(void *ctx, const struct ntm_addr *to, const uint8_t *buf, size_t len)
{
	return en_udp_send(((struct en_node *)ctx)->udp, to, buf, len);
}

static int io_tun_write(void *ctx, const uint8_t *pkt, size_t len)
{
	return en_tun_write(((struct en_node *)ctx)->tun, pkt, len);
}

struct route_ctx {
	struct en_node *n;
	int rc;
};

static void add_route(void *ctx, const struct ntm_prefix *p)
{
	struct route_ctx *rc = ctx;
	char text[NTM_PREFIX_STRLEN];
	int err;

	prefix_text(p, text, sizeof(text));
	if (p->prefix_len == 0) {
		/* A default route would also capture the tunnel's own UDP packets. */
		ntm_log_warn("%s: no route added for %s (needs policy routing; add it yourself)",
			     rc->n->ifname, text);
		return;
	}
	err = en_nl_route_add(rc->n->nl, en_tun_ifindex(rc->n->tun), p);
	if (err < 0) {
		ntm_log_err("%s: route %s: %s", rc->n->ifname, text, ntm_strerror(err));
		rc->rc = rc->rc < 0 ? rc->rc : err;
	}
}

/* Routes for every AllowedIPs prefix of `peer` through the TUN. */
int en_node_add_routes(struct en_node *n, const struct en_peer *peer)
{
	struct route_ctx rc = { .n = n };

	if (n->nl == NULL || n->tun == NULL) {
		return 0;
	}
	en_allowedips_foreach(n->allowedips, peer, add_route, &rc);
	return rc.rc;
}

static void del_route(void *ctx, const struct ntm_prefix *p)
{
	struct en_node *n = ctx;
	char text[NTM_PREFIX_STRLEN];
	int rc;

	if (p->prefix_len == 0) {
		return; /* never added (add_route) */
	}
	rc = en_nl_route_del(n->nl, en_tun_ifindex(n->tun), p);
	if (rc < 0 && rc != -ENOENT) {
		ntm_log_warn("%s: removing route %s: %s", n->ifname,
			     prefix_text(p, text, sizeof(text)), ntm_strerror(rc));
	}
}

void en_node_forget_peer(struct en_node *n, struct en_peer *peer)
{
	if (n->nl != NULL && n->tun != NULL) {
		en_allowedips_foreach(n->allowedips, peer, del_route, n);
	}
	en_restore_note_forget(n, peer);
	en_peer_remove(peer);
}

static int setup_link(struct en_node *n)
{
	int ifindex = en_tun_ifindex(n->tun);
	char text[NTM_PREFIX_STRLEN];
	int rc;

	for (size_t i = 0; i < n->n_addresses; i++) {
		rc = en_nl_addr_add(n->nl, ifindex, &n->addresses[i]);
		if (rc < 0) {
			ntm_log_err("%s: address %s: %s", n->ifname,
				    prefix_text(&n->addresses[i], text, sizeof(text)),
				    ntm_strerror(rc));
			return rc;
		}
	}
	rc = en_nl_link_up(n->nl, ifindex, n->mtu);
	if (rc < 0) {
		ntm_log_err("%s: link up with MTU %u: %s", n->ifname, n->mtu, ntm_strerror(rc));
		return rc;
	}
	for (struct en_peer *p = n->peers; p != NULL; p = p->next) {
		rc = en_node_add_routes(n, p);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

/*
 * With a peer cache (restore.h): the VIPs of the last registration and the
 * known peers come back before the DC is asked, which may be away.
 */
static void start_cached(struct en_node *n)
{
	struct en_dc_vips vips;

	if (en_restore_vips(n, &vips)) {
		dc_set_vips(n, NULL, &vips);
		en_dcclient_preset_vips(n->dc, &vips);
	}
	en_restore_peers(n);
}

int en_node_start(struct en_node *n, const char *ifname)
{
	const struct en_node_io io = { io_udp_send, io_tun_write, n };
	const struct en_tun_ops ops = { on_tun, on_tun_burst_end, n };
	const struct en_udp_ops udp_ops = { on_udp, on_udp_read_end, n };
	char pub[sodium_base64_ENCODED_LEN(NTM_WG_KEY_LEN, sodium_base64_VARIANT_ORIGINAL)];
	int rc;

	rc = en_tun_create(n->loop, ifname, &ops, &n->tun);
	if (rc < 0) {
		ntm_log_err("tun %s: %s", ifname, ntm_strerror(rc));
		return rc;
	}
	snprintf(n->ifname, sizeof(n->ifname), "%s", en_tun_name(n->tun));
	rc = en_nl_open(&n->nl);
	if (rc < 0) {
		ntm_log_err("netlink: %s", ntm_strerror(rc));
		return rc;
	}
	rc = setup_link(n);
	if (rc < 0) {
		return rc;
	}
	rc = en_gro_create(on_gro_write, n, &n->gro);
	if (rc < 0) {
		return rc;
	}
	rc = en_udp_open(n->loop, n->listen_port, &udp_ops, &n->udp);
	if (rc < 0) {
		ntm_log_err("udp port %u: %s", n->listen_port, ntm_strerror(rc));
		return rc;
	}
	n->io = io;
	n->io_gso = true;
	sodium_bin2base64(pub, sizeof(pub), n->public_key, NTM_WG_KEY_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
	ntm_log_info("%s: up, MTU %u, listening on UDP port %u, public key %s, %zu peer(s)",
		     n->ifname, n->mtu, en_udp_port(n->udp), pub, n->n_peers);
	for (struct en_peer *p = n->peers; p != NULL; p = p->next) {
		en_peer_start(p);
	}
	if (n->dc != NULL) {
		start_cached(n);
		en_dnsstub_start(n->dnsstub, NULL, NULL); /* explicit [DNS] Listen: now */
		en_resolved_sync(n->resolved);
		en_dcclient_start(n->dc);
	}
	rc = en_mobility_create(n, &n->mobility);
	if (rc < 0) {
		/* Tunnels work without it; they just do not follow address changes. */
		ntm_log_warn("netlink address watch: %s (mobility off)", ntm_strerror(rc));
	}
	return 0;
}

/* ---------------------------------------------------------------- close */

void en_node_close_done(struct en_node *n)
{
	en_node_closed_cb done;
	void *arg;

	if (--n->pending_closes > 0 || !n->closing) {
		return;
	}
	done = n->done;
	arg = n->done_arg;
	free_tables(n);
	if (done != NULL) {
		done(arg);
	}
}

static void on_handle_closed(void *arg)
{
	en_node_close_done(arg);
}

void en_node_close(struct en_node *n, en_node_closed_cb done, void *arg)
{
	if (ntm_close_null(n, done, arg)) {
		return;
	}
	n->closing = true;
	n->done = done;
	n->done_arg = arg;
	n->pending_closes++; /* held until every close below was started */
	while (n->peers != NULL) {
		en_peer_remove(n->peers);
	}
	if (n->ctl != NULL) {
		n->pending_closes++;
		en_control_close(n->ctl, on_handle_closed, n);
		n->ctl = NULL;
	}
	if (n->resolved != NULL) { /* RevertLink while the link still exists */
		n->pending_closes++;
		en_resolved_close(n->resolved, on_handle_closed, n);
		n->resolved = NULL;
	}
	if (n->dnsstub != NULL) { /* before the resolver: it cancels its lookups there */
		n->pending_closes++;
		en_dnsstub_close(n->dnsstub, on_handle_closed, n);
		n->dnsstub = NULL;
	}
	if (n->mobility != NULL) {
		n->pending_closes++;
		en_mobility_close(n->mobility, on_handle_closed, n);
		n->mobility = NULL;
	}
	if (n->pathmgr != NULL) {
		n->pending_closes++;
		en_pathmgr_close(n->pathmgr, on_handle_closed, n);
		n->pathmgr = NULL;
	}
	if (n->resolver != NULL) {
		n->pending_closes++;
		en_resolver_close(n->resolver, on_handle_closed, n);
		n->resolver = NULL;
	}
	if (n->trigger != NULL) {
		n->pending_closes++;
		en_trigger_close(n->trigger, on_handle_closed, n);
		n->trigger = NULL;
	}
	if (n->dc != NULL) {
		n->pending_closes++;
		en_dcclient_close(n->dc, on_handle_closed, n);
		n->dc = NULL;
	}
	if (n->udp != NULL) {
		n->pending_closes++;
		en_udp_close(n->udp, on_handle_closed, n);
		n->udp = NULL;
	}
	if (n->tun != NULL) {
		n->pending_closes++;
		en_tun_close(n->tun, on_handle_closed, n);
		n->tun = NULL;
	}
	remove_local(n);
	en_nl_close(n->nl);
	n->nl = NULL;
	memset(&n->io, 0, sizeof(n->io));
	en_node_close_done(n);
}
