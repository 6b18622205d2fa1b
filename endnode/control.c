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
#include "endnode/node_internal.h"
#include "endnode/peer_internal.h"
#include "endnode/resolve.h"
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

static json_object *addr_json(const struct ntm_addr *a)
{
	char text[NTM_ADDR_STRLEN];

	if (a->len == 0 || ntm_addr_format(a, text, sizeof(text)) < 0) {
		return NULL;
	}
	return json_object_new_string(text);
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
	json_object_object_add(o, "endpoint", addr_json(&info.endpoint));
	json_object_object_add(o, "state", json_object_new_string(en_dc_state_name(info.state)));
	json_object_object_add(o, "vip4", ip_json(AF_INET, info.vips.vip4, info.has_vips));
	json_object_object_add(o, "vip6", ip_json(AF_INET6, info.vips.vip6, info.has_vips));
	json_object_object_add(o, "outside", addr_json(&info.outside));
	/* Only "public" is known here; eim/edm is the DC's verdict (ntmctl nodes). */
	json_object_object_add(o, "nat", info.is_public ? json_object_new_string("public") : NULL);
	json_object_object_add(o, "last_contact",
			       info.last_contact_ms < 0
				       ? NULL
				       : json_object_new_int64(info.last_contact_ms / 1000));
	json_object_object_add(o, "error",
			       info.last_error == 0 ? NULL
						    : json_object_new_string(ntm_ctrl_error_name(
							      info.last_error)));
	json_object_object_add(o, "drops", json_object_new_int64((int64_t)info.drops));
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
	ntm_ctl_reply_ok(req, o);
}

static void add_prefix(void *ctx, const struct ntm_prefix *p)
{
	json_object_array_add(ctx, prefix_json(p));
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
	json_object_object_add(o, "rx_bytes", json_object_new_int64((int64_t)info.rx_bytes));
	json_object_object_add(o, "tx_bytes", json_object_new_int64((int64_t)info.tx_bytes));
	json_object_object_add(o, "path", json_object_new_string("direct"));
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

static const struct ntm_ctl_cmd commands[] = {
	{ "status", NTM_CTL_READ, cmd_status, "interface, keys, port, addresses, drop counters" },
	{ "peers", NTM_CTL_READ, cmd_peers, "per peer: endpoint, allowed ips, handshake, traffic" },
	{ "resolve", NTM_CTL_READ, cmd_resolve, "resolve FQDN: tunnel to a node of the domain" },
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
