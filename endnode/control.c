/* SPDX-License-Identifier: MIT */
#include "control.h"

#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/ctlserver.h"
#include "common/ctrlmsg.h"
#include "common/key.h"
#include "common/log.h"
#include "endnode/dcclient.h"
#include "endnode/mobility.h"
#include "endnode/dnsstub.h"
#include "endnode/resolved.h"
#include "endnode/path.h"
#include "endnode/node_internal.h"
#include "endnode/peer_internal.h"
#include "endnode/resolve.h"
#include "endnode/trigger.h"
#include "endnode/udp.h"

struct en_control {
	struct ntm_ctl_server *srv;
	en_control_closed_cb done;
	void *done_arg;
};

static json_object *key_json(const uint8_t *b)
{
	struct ntm_key k;
	char text[NTM_KEY_B64_SIZE];

	memcpy(k.b, b, NTM_KEY_LEN);
	ntm_key_to_base64(text, &k);
	return json_object_new_string(text);
}

static json_object *prefix_json(const struct ntm_prefix *p)
{
	char text[NTM_PREFIX_STRLEN];

	if (ntm_prefix_format(p, text, sizeof(text)) < 0) {
		return NULL;
	}
	return json_object_new_string(text);
}

/* {"reason": count} for every reason, or only the non-zero ones. */
static json_object *drops_json(const uint64_t *drops, bool only_nonzero)
{
	json_object *o = json_object_new_object();

	for (int i = 0; o != NULL && i < EN_DROP_COUNT; i++) {
		if (!only_nonzero || drops[i] > 0) {
			json_object_object_add(o, en_drop_name(i),
					       json_object_new_int64((int64_t)drops[i]));
		}
	}
	return o;
}

static json_object *ip_json(int family, const uint8_t *b, bool has)
{
	char text[INET6_ADDRSTRLEN];

	if (!has || inet_ntop(family, b, text, sizeof(text)) == NULL) {
		return NULL;
	}
	return json_object_new_string(text);
}

/* The "dc" object of status: registration at the DC ([DC] section), or null. */
static json_object *dc_json(const struct en_dcclient *dc)
{
	struct en_dcclient_info info;
	json_object *o;

	if (dc == NULL) {
		return NULL;
	}
	en_dcclient_get_info(dc, &info);
	o = json_object_new_object();
	json_object_object_add(o, "endpoint", ntm_ctl_json_addr(&info.endpoint));
	json_object_object_add(o, "state", json_object_new_string(en_dc_state_name(info.state)));
	json_object_object_add(o, "vip4", ip_json(AF_INET, info.vips.vip4, info.has_vips));
	json_object_object_add(o, "vip6", ip_json(AF_INET6, info.vips.vip6, info.has_vips));
	json_object_object_add(o, "outside", ntm_ctl_json_addr(&info.outside));
	/* "public" is known here; eim/edm is the DC's verdict after the AltListen probe. */
	json_object_object_add(o, "nat",
			       info.nat == NTM_CTRL_NAT_UNKNOWN
				       ? NULL
				       : json_object_new_string(ntm_ctrl_nat_name(info.nat)));
	json_object_object_add(o, "ipv4",
			       json_object_new_boolean(info.families & NTM_CTRL_FAMILY_V4));
	json_object_object_add(o, "ipv6",
			       json_object_new_boolean(info.families & NTM_CTRL_FAMILY_V6));
	ntm_ctl_json_contact(o, info.last_contact_ms, info.last_error);
	json_object_object_add(o, "drops", json_object_new_int64((int64_t)info.drops));
	return o;
}

/* The "trigger" object of status: packet-triggered tunnels (trigger.h), or null. */
static json_object *trigger_json(const struct en_trigger *t)
{
	struct en_trigger_stats st;
	struct ntm_prefix pool;
	json_object *o, *pools;

	if (t == NULL) {
		return NULL;
	}
	en_trigger_get_stats(t, &st);
	o = json_object_new_object();
	pools = json_object_new_array();
	if (pools != NULL && en_trigger_get_pool(t, AF_INET, &pool)) {
		json_object_array_add(pools, prefix_json(&pool));
	}
	if (pools != NULL && en_trigger_get_pool(t, AF_INET6, &pool)) {
		json_object_array_add(pools, prefix_json(&pool));
	}
	json_object_object_add(o, "pools", pools);
	json_object_object_add(o, "waiting", json_object_new_int64((int64_t)st.waiting));
	json_object_object_add(o, "requests", json_object_new_int64((int64_t)st.requests));
	json_object_object_add(o, "directed", json_object_new_int64((int64_t)st.directed));
	json_object_object_add(o, "unknown", json_object_new_int64((int64_t)st.unknown));
	json_object_object_add(o, "timeouts", json_object_new_int64((int64_t)st.timeouts));
	json_object_object_add(o, "negative_hits",
			       json_object_new_int64((int64_t)st.negative_hits));
	json_object_object_add(o, "queued", json_object_new_int64((int64_t)st.queued));
	json_object_object_add(o, "flushed", json_object_new_int64((int64_t)st.flushed));
	json_object_object_add(o, "queue_dropped_oldest",
			       json_object_new_int64((int64_t)st.dropped_oldest));
	json_object_object_add(o, "queue_refused", json_object_new_int64((int64_t)st.refused));
	json_object_object_add(o, "unreachable", json_object_new_int64((int64_t)st.unreachable));
	return o;
}

/* The "mobility" object of status: address moves (mobility.h), or null before start. */
static json_object *mobility_json(const struct en_mobility *m)
{
	struct en_mobility_info info;
	json_object *o;

	if (m == NULL) {
		return NULL;
	}
	en_mobility_get_info(m, &info);
	o = json_object_new_object();
	json_object_object_add(o, "source", ntm_ctl_json_addr(&info.source));
	json_object_object_add(o, "moves", json_object_new_int64((int64_t)info.moves));
	json_object_object_add(o, "last_move_ms",
			       info.last_move_ms < 0 ? NULL
						     : json_object_new_int64(info.last_move_ms));
	return o;
}

/* The "resolved" object of status: the systemd-resolved registration (resolved.h), or null. */
static json_object *resolved_json(const struct en_resolved *r)
{
	const struct en_resolved_plan *p;
	enum en_resolved_state st = en_resolved_get(r, &p);
	char text[INET6_ADDRSTRLEN];
	json_object *o, *servers, *domains;

	if (r == NULL) {
		return NULL;
	}
	o = json_object_new_object();
	servers = json_object_new_array();
	domains = json_object_new_array();
	for (size_t i = 0; p != NULL && i < p->n_servers; i++) {
		if (inet_ntop(p->servers[i].family, p->servers[i].addr, text, sizeof(text))) {
			json_object_array_add(servers, json_object_new_string(text));
		}
	}
	for (size_t i = 0; p != NULL && i < p->n_domains; i++) {
		json_object_array_add(domains, json_object_new_string(p->domains[i]));
	}
	json_object_object_add(o, "state", json_object_new_string(en_resolved_state_name(st)));
	json_object_object_add(o, "active", json_object_new_boolean(st == EN_RESOLVED_ACTIVE));
	json_object_object_add(o, "servers", servers);
	json_object_object_add(o, "domains", domains);
	return o;
}

static void cmd_status(struct ntm_ctl_req *req, void *user)
{
	struct en_node *n = user;
	json_object *o = json_object_new_object();
	json_object *addrs = json_object_new_array();
	uint64_t total = 0;

	for (size_t i = 0; addrs != NULL && i < n->n_addresses; i++) {
		json_object_array_add(addrs, prefix_json(&n->addresses[i]));
	}
	for (int i = 0; i < EN_DROP_COUNT; i++) {
		total += n->drops[i];
	}
	json_object_object_add(o, "interface", json_object_new_string(n->ifname));
	json_object_object_add(o, "public_key", key_json(n->public_key));
	json_object_object_add(o, "listen_port",
			       json_object_new_int(n->udp != NULL ? en_udp_port(n->udp) : 0));
	json_object_object_add(
		o, "ipv6",
		json_object_new_boolean(n->udp != NULL && en_udp_has_family(n->udp, AF_INET6)));
	json_object_object_add(o, "mtu", json_object_new_int((int32_t)n->mtu));
	json_object_object_add(o, "addresses", addrs);
	json_object_object_add(o, "peers", json_object_new_int64((int64_t)n->n_peers));
	json_object_object_add(o, "drops_total", json_object_new_int64((int64_t)total));
	json_object_object_add(o, "drops", drops_json(n->drops, false));
	json_object_object_add(o, "dc", dc_json(n->dc));
	json_object_object_add(o, "trigger", trigger_json(n->trigger));
	json_object_object_add(o, "mobility", mobility_json(n->mobility));
	json_object_object_add(o, "resolved", resolved_json(n->resolved));
	ntm_ctl_reply_ok(req, o);
}

static void add_prefix(void *ctx, const struct ntm_prefix *p)
{
	json_object_array_add(ctx, prefix_json(p));
}

/* Path and NAT classes of a peer the DC directed (static peers: direct, no classes). */
static void add_path(const struct en_node *n, const struct en_peer *peer, json_object *o)
{
	struct en_resolver_path p;
	struct en_path_info pi;
	char rtt[32];
	bool dc = en_resolver_learned_path(n->resolver, peer->public_key, &p);
	bool managed = en_pathmgr_get(n->pathmgr, peer->public_key, &pi);

	/* The path in use (the path manager's), and the one the DC chose. */
	json_object_object_add(
		o, "path",
		json_object_new_string(ntm_ctrl_path_name(managed ? pi.active : p.path)));
	json_object_object_add(o, "dc_path",
			       dc ? json_object_new_string(ntm_ctrl_path_name(p.path)) : NULL);
	json_object_object_add(o, "rs", managed && pi.has_relay ? ntm_ctl_json_addr(&pi.rs) : NULL);
	json_object_object_add(o, "relay_session",
			       managed && pi.has_relay ? json_object_new_int64(pi.session) : NULL);
	json_object_object_add(o, "relay_bound", json_object_new_boolean(managed && pi.bound));
	json_object_object_add(o, "relay_dead", json_object_new_boolean(managed && pi.relay_dead));
	json_object_object_add(o, "relay_failovers",
			       json_object_new_int64(managed ? (int64_t)pi.failovers : 0));
	/* Three decimals (µs), not the double's 17 digits. */
	snprintf(rtt, sizeof(rtt), "%.3f", managed ? (double)pi.rtt_us / 1000.0 : 0.0);
	json_object_object_add(o, "rtt_ms",
			       managed && pi.rtt_us >= 0
				       ? json_object_new_double_s((double)pi.rtt_us / 1000.0, rtt)
				       : NULL);
	json_object_object_add(o, "last_direct_failure",
			       managed && pi.reason[0] != '\0' ? json_object_new_string(pi.reason)
							       : NULL);
	json_object_object_add(o, "nat",
			       dc && p.nat != NTM_CTRL_NAT_UNKNOWN
				       ? json_object_new_string(ntm_ctrl_nat_name(p.nat))
				       : NULL);
	json_object_object_add(o, "peer_nat",
			       dc && p.nat_peer != NTM_CTRL_NAT_UNKNOWN
				       ? json_object_new_string(ntm_ctrl_nat_name(p.nat_peer))
				       : NULL);
}

/* Is the peer answering (reach.h), and since when have we not heard from it (s, or null)? */
static void add_reach(const struct en_node *n, const struct en_peer *peer, json_object *o)
{
	uint64_t now = en_node_now(n);
	int64_t idle = en_reach_idle_ms(&peer->reach, now);

	json_object_object_add(
		o, "reach", json_object_new_string(en_reach_name(en_reach_get(&peer->reach, now))));
	json_object_object_add(o, "last_rx", idle < 0 ? NULL : json_object_new_int64(idle / 1000));
}

static json_object *peer_json(const struct en_node *n, const struct en_peer *peer)
{
	json_object *o = json_object_new_object();
	json_object *aips = json_object_new_array();
	char ep[NTM_ADDR_STRLEN];
	struct en_peer_info info;
	struct timespec now;

	en_peer_get_info(peer, &info);
	clock_gettime(CLOCK_REALTIME, &now);
	if (aips != NULL) {
		en_allowedips_foreach(n->allowedips, peer, add_prefix, aips);
	}
	json_object_object_add(o, "id", json_object_new_int64(info.id));
	json_object_object_add(o, "public_key", key_json(info.public_key));
	json_object_object_add(o, "endpoint",
			       ntm_addr_format(&info.endpoint, ep, sizeof(ep)) == 0
				       ? json_object_new_string(ep)
				       : NULL);
	json_object_object_add(o, "allowed_ips", aips);
	json_object_object_add(
		o, "latest_handshake",
		info.last_handshake.tv_sec == 0
			? NULL
			: json_object_new_int64(now.tv_sec - info.last_handshake.tv_sec));
	add_reach(n, peer, o);
	json_object_object_add(o, "rx_bytes", json_object_new_int64((int64_t)info.rx_bytes));
	json_object_object_add(o, "tx_bytes", json_object_new_int64((int64_t)info.tx_bytes));
	add_path(n, peer, o);
	json_object_object_add(o, "persistent_keepalive",
			       json_object_new_int(info.persistent_keepalive));
	json_object_object_add(o, "drops", json_object_new_int64((int64_t)info.drops_total));
	json_object_object_add(o, "drop_reasons", drops_json(info.drops, true));
	return o;
}

static void cmd_peers(struct ntm_ctl_req *req, void *user)
{
	struct en_node *n = user;
	json_object *a = json_object_new_array();

	for (const struct en_peer *p = en_peer_first(n); a != NULL && p != NULL;
	     p = en_peer_next(p)) {
		json_object_array_add(a, peer_json(n, p));
	}
	ntm_ctl_reply_ok(req, a);
}

static void cmd_resolve(struct ntm_ctl_req *req, void *user)
{
	struct en_node *n = user;

	if (n->resolver == NULL) {
		ntm_ctl_reply_err(req, NTM_CTL_E_ERROR, "no [DC] configured: nobody to ask");
		return;
	}
	en_resolver_request(n->resolver, req);
}

/* The host addresses (/32, /128) among a peer's AllowedIPs: its VIPs. */
struct vips_walk {
	json_object *vip4, *vip6, *aips;
};

static void note_vip(void *ctx, const struct ntm_prefix *p)
{
	struct vips_walk *w = ctx;

	json_object_array_add(w->aips, prefix_json(p));
	if (p->family == AF_INET && p->prefix_len == 32 && w->vip4 == NULL) {
		w->vip4 = ip_json(AF_INET, p->addr, true);
	} else if (p->family == AF_INET6 && p->prefix_len == 128 && w->vip6 == NULL) {
		w->vip6 = ip_json(AF_INET6, p->addr, true);
	}
}

/*
 * whois VIP: the peer whose AllowedIPs hold the address (longest prefix,
 * exactly as inbound packets are checked), so a source VIP names its node.
 */
static void cmd_whois(struct ntm_ctl_req *req, void *user)
{
	struct en_node *n = user;
	struct vips_walk w = { .aips = json_object_new_array() };
	json_object *v = NULL, *o;
	const struct en_peer *peer;
	const char *text, *fqdn;
	uint8_t addr[16];
	int fam;

	if (!json_object_object_get_ex(ntm_ctl_req_args(req), "vip", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		json_object_put(w.aips);
		ntm_ctl_reply_err(req, NTM_CTL_E_INVALID, "whois wants {\"vip\": ADDRESS}");
		return;
	}
	text = json_object_get_string(v);
	fam = inet_pton(AF_INET, text, addr) == 1    ? AF_INET
	      : inet_pton(AF_INET6, text, addr) == 1 ? AF_INET6
						     : 0;
	peer = fam != 0 ? en_allowedips_lookup(n->allowedips, fam, addr) : NULL;
	if (peer == NULL) {
		json_object_put(w.aips);
		ntm_ctl_reply_err(req, fam == 0 ? NTM_CTL_E_INVALID : NTM_CTL_E_UNKNOWN,
				  fam == 0 ? "'%s' is not an IP address" : "%s: no peer has it",
				  text);
		return;
	}
	en_allowedips_foreach(n->allowedips, peer, note_vip, &w);
	fqdn = en_resolver_learned_fqdn(n->resolver, peer->public_key);
	o = json_object_new_object();
	json_object_object_add(o, "vip", ip_json(fam, addr, true));
	json_object_object_add(o, "fqdn", fqdn != NULL ? json_object_new_string(fqdn) : NULL);
	json_object_object_add(o, "pubkey", key_json(peer->public_key));
	json_object_object_add(o, "vip4", w.vip4);
	json_object_object_add(o, "vip6", w.vip6);
	json_object_object_add(o, "source", json_object_new_string(fqdn != NULL ? "dc" : "static"));
	json_object_object_add(o, "allowed_ips", w.aips);
	ntm_ctl_reply_ok(req, o);
}

static json_object *strings_json(const char *const *v, size_t n)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; a != NULL && i < n; i++) {
		json_object_array_add(a, json_object_new_string(v[i]));
	}
	return a;
}

/* The DNS stub: where it listens, the overlay domains, the upstream, counters. */
static void cmd_dns(struct ntm_ctl_req *req, void *user)
{
	enum { MAX = 16 };
	struct en_node *n = user;
	struct en_dnsstub_info info;
	const char *v[MAX];
	char text[NTM_ADDR_STRLEN];
	json_object *o, *l;

	if (n->dnsstub == NULL) {
		ntm_ctl_reply_err(req, NTM_CTL_E_ERROR,
				  "no DNS stub (it runs with a [DC] section)");
		return;
	}
	en_dnsstub_get_info(n->dnsstub, &info);
	o = json_object_new_object();
	l = json_object_new_array();
	for (size_t i = 0; i < info.n_listen; i++) {
		if (ntm_addr_format(&info.listen[i], text, sizeof(text)) == 0) {
			json_object_array_add(l, json_object_new_string(text));
		}
	}
	json_object_object_add(o, "interface", json_object_new_string(n->ifname));
	json_object_object_add(o, "listen", l);
	json_object_object_add(o, "domains",
			       strings_json(v, en_dnsstub_domains(n->dnsstub, v, MAX)));
	json_object_object_add(o, "upstream",
			       strings_json(v, en_dnsstub_upstream(n->dnsstub, v, MAX)));
	json_object_object_add(o, "queries", json_object_new_int64((int64_t)info.queries));
	json_object_object_add(o, "overlay", json_object_new_int64((int64_t)info.overlay));
	json_object_object_add(o, "forwarded", json_object_new_int64((int64_t)info.forwarded));
	json_object_object_add(o, "nxdomain", json_object_new_int64((int64_t)info.nxdomain));
	json_object_object_add(o, "servfail", json_object_new_int64((int64_t)info.servfail));
	json_object_object_add(o, "dropped", json_object_new_int64((int64_t)info.dropped));
	ntm_ctl_reply_ok(req, o);
}

static const struct ntm_ctl_cmd commands[] = {
	{ "status", NTM_CTL_READ, cmd_status, "interface, keys, port, addresses, drop counters" },
	{ "peers", NTM_CTL_READ, cmd_peers, "per peer: endpoint, allowed ips, handshake, traffic" },
	{ "resolve", NTM_CTL_READ, cmd_resolve, "resolve FQDN: tunnel to a node of the domain" },
	{ "ping", NTM_CTL_READ, cmd_resolve,
	  "ping FQDN [until_direct]: as resolve; until_direct waits for a path other than relay" },
	{ "whois", NTM_CTL_READ, cmd_whois, "whois VIP: fqdn, public key and VIPs of its peer" },
	{ "dns", NTM_CTL_READ, cmd_dns,
	  "the DNS stub: listen addresses, overlay domains, upstream" },
};

int en_control_open(struct en_node *n, const char *path)
{
	const struct ntm_ctl_config cfg = {
		.path = path,
		.cmds = commands,
		.n_cmds = sizeof(commands) / sizeof(commands[0]),
		.user = n,
	};
	struct en_control *c = ntm_calloc(1, sizeof(*c));
	int rc;

	if (c == NULL) {
		return -ENOMEM;
	}
	rc = ntm_ctl_server_create(n->loop, &cfg, &c->srv);
	if (rc < 0) {
		ntm_free(c);
		return rc;
	}
	n->ctl = c;
	return 0;
}

static void on_server_closed(void *arg)
{
	struct en_control *c = arg;
	en_control_closed_cb done = c->done;
	void *done_arg = c->done_arg;

	ntm_free(c);
	if (done != NULL) {
		done(done_arg);
	}
}

void en_control_close(struct en_control *c, en_control_closed_cb done, void *arg)
{
	c->done = done;
	c->done_arg = arg;
	ntm_ctl_server_close(c->srv, on_server_closed, c);
}
