/* SPDX-License-Identifier: MIT */
#include "admin.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/ctlserver.h"
#include "common/log.h"
#include "dc/ctrl.h"
#include "dc/dnsserver.h"
#include "dc/fqdn.h"
#include "dc/token.h"

struct dc_admin {
	struct ntm_ctl_server *srv;
	struct dc_admin_env env;
	dc_admin_closed_cb done;
	void *done_arg;
};

enum { ONLINE_INTERVALS = 3, TIME_TEXT_SIZE = 32 };

/* Refuse argument names other than `allowed` (NULL-terminated), so typos do not pass silently. */
static bool args_known(struct ntm_ctl_req *req, const char *const *allowed)
{
	json_object_object_foreach(ntm_ctl_req_args(req), key, val)
	{
		const char *const *a = allowed;

		(void)val;
		while (*a != NULL && strcmp(*a, key) != 0) {
			a++;
		}
		if (*a == NULL) {
			ntm_ctl_reply_err(req, NTM_CTL_E_INVALID, "unexpected argument '%s'", key);
			return false;
		}
	}
	return true;
}

/* A string argument, or NULL after replying "invalid". */
static const char *arg_str(struct ntm_ctl_req *req, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(ntm_ctl_req_args(req), key, &v) ||
	    !json_object_is_type(v, json_type_string)) {
		ntm_ctl_reply_err(req, NTM_CTL_E_INVALID, "argument '%s' (a string) is missing",
				  key);
		return NULL;
	}
	return json_object_get_string(v);
}

/* A node name of the DC's domain, normalised into out; false after replying. */
static bool arg_node_name(struct ntm_ctl_req *req, const struct dc_admin_env *env,
			  char out[DC_FQDN_SIZE])
{
	const char *s = arg_str(req, "fqdn");
	char why[128];

	if (s == NULL) {
		return false;
	}
	if (dc_fqdn_normalize(s, 0, out, why, sizeof(why)) < 0) {
		ntm_ctl_reply_err(req, NTM_CTL_E_INVALID, "'%s' is not a valid name: %s", s, why);
		return false;
	}
	if (!dc_fqdn_is_under(out, env->domain)) {
		ntm_ctl_reply_err(req, NTM_CTL_E_INVALID, "%s is not under this DC's domain %s",
				  out, env->domain);
		return false;
	}
	return true;
}

static bool arg_pubkey(struct ntm_ctl_req *req, const struct dc_admin_env *env, struct ntm_key *key)
{
	const char *s = arg_str(req, "pubkey");

	if (s == NULL) {
		return false;
	}
	if (ntm_key_from_base64(key, s, strlen(s)) < 0) {
		ntm_ctl_reply_err(req, NTM_CTL_E_INVALID,
				  "not a public key (44 characters of base64)");
		return false;
	}
	if (ntm_key_equal(key, env->dc_pubkey)) {
		ntm_ctl_reply_err(req, NTM_CTL_E_INVALID, "this is the DC's own key");
		return false;
	}
	return true;
}

static json_object *str_or_null(const char *s)
{
	return s[0] != '\0' ? json_object_new_string(s) : NULL;
}

static json_object *key_json(const struct ntm_key *key)
{
	char text[NTM_KEY_B64_SIZE];

	ntm_key_to_base64(text, key);
	return json_object_new_string(text);
}

/* An optional boolean argument (default false); false after replying "invalid". */
static bool arg_bool(struct ntm_ctl_req *req, const char *key, bool *out)
{
	json_object *v = NULL;

	*out = false;
	if (!json_object_object_get_ex(ntm_ctl_req_args(req), key, &v)) {
		return true;
	}
	if (!json_object_is_type(v, json_type_boolean)) {
		ntm_ctl_reply_err(req, NTM_CTL_E_INVALID, "argument '%s' must be true or false",
				  key);
		return false;
	}
	*out = json_object_get_boolean(v);
	return true;
}

static struct dc_dnsserver *dns_of(const struct dc_admin *a)
{
	return a->env.dns != NULL ? *a->env.dns : NULL;
}

static void enroll_relay(struct ntm_ctl_req *req, struct dc_admin *a)
{
	const char *s = arg_str(req, "relay");
	char name[DC_FQDN_SIZE], why[DC_STORE_WHY_MAX];
	struct ntm_key key;
	json_object *o;

	if (s == NULL || !arg_pubkey(req, &a->env, &key)) {
		return;
	}
	if (dc_fqdn_normalize(s, DC_FQDN_SINGLE_LABEL_OK, name, why, sizeof(why)) < 0) {
		ntm_ctl_reply_err(req, NTM_CTL_E_INVALID, "'%s' is not a valid name: %s", s, why);
		return;
	}
	if (dc_store_enroll_relay(a->env.store, name, &key, time(NULL), why, sizeof(why)) < 0) {
		ntm_ctl_reply_err(req, NTM_CTL_E_ERROR, "%s", why);
		return;
	}
	ntm_log_info("relay %s enrolled", name);
	o = json_object_new_object();
	json_object_object_add(o, "relay", json_object_new_string(name));
	json_object_object_add(o, "pubkey", key_json(&key));
	ntm_ctl_reply_ok(req, o);
}

static void cmd_enroll(struct ntm_ctl_req *req, void *user)
{
	static const char *const allowed[] = { "fqdn", "relay", "pubkey", "publish", NULL };
	struct dc_admin *a = user;
	char name[DC_FQDN_SIZE], why[DC_STORE_WHY_MAX];
	struct dc_enrolment e = { .fqdn = name, .pool4 = a->env.pool4, .pool6 = a->env.pool6 };
	struct ntm_key key;
	struct dc_node node;
	json_object *o;

	if (!args_known(req, allowed)) {
		return;
	}
	if (json_object_object_get_ex(ntm_ctl_req_args(req), "relay", NULL)) {
		enroll_relay(req, a);
		return;
	}
	if (!arg_node_name(req, &a->env, name) || !arg_pubkey(req, &a->env, &key) ||
	    !arg_bool(req, "publish", &e.publish)) {
		return;
	}
	e.pubkey = &key;
	e.now = time(NULL);
	if (dc_store_enroll(a->env.store, &e, &node, why, sizeof(why)) < 0) {
		ntm_log_warn("enroll %s: %s", name, why);
		ntm_ctl_reply_err(req, NTM_CTL_E_ERROR, "%s", why);
		return;
	}
	ntm_log_info("node %s enrolled: %s, %s%s", node.fqdn, node.vip4, node.vip6,
		     node.published ? ", published in DNS" : "");
	if (node.published) {
		dc_dnsserver_zone_changed(dns_of(a));
	}
	o = json_object_new_object();
	json_object_object_add(o, "fqdn", json_object_new_string(node.fqdn));
	json_object_object_add(o, "pubkey", key_json(&node.pubkey));
	json_object_object_add(o, "vip4", json_object_new_string(node.vip4));
	json_object_object_add(o, "vip6", json_object_new_string(node.vip6));
	json_object_object_add(o, "published", json_object_new_boolean(node.published));
	ntm_ctl_reply_ok(req, o);
}

static void cmd_revoke(struct ntm_ctl_req *req, void *user)
{
	static const char *const allowed[] = { "fqdn", NULL };
	struct dc_admin *a = user;
	char name[DC_FQDN_SIZE], why[DC_STORE_WHY_MAX];
	struct dc_node node;
	json_object *o;
	size_t told;
	int rc;

	if (!args_known(req, allowed) || !arg_node_name(req, &a->env, name)) {
		return;
	}
	rc = dc_store_revoke(a->env.store, name, &node, why, sizeof(why));
	if (rc < 0) {
		ntm_ctl_reply_err(req, rc == -ENOENT ? NTM_CTL_E_UNKNOWN : NTM_CTL_E_ERROR, "%s",
				  why);
		return;
	}
	if (node.published) {
		dc_dnsserver_zone_changed(dns_of(a));
	}
	told = dc_ctrl_revoke(a->env.ctrl != NULL ? *a->env.ctrl : NULL, &node.pubkey, node.fqdn);
	ntm_log_info("node %s revoked: %s, %s back to the pools; %zu peer(s) told", node.fqdn,
		     node.vip4, node.vip6, told);
	o = json_object_new_object();
	json_object_object_add(o, "fqdn", json_object_new_string(node.fqdn));
	json_object_object_add(o, "vip4", json_object_new_string(node.vip4));
	json_object_object_add(o, "vip6", json_object_new_string(node.vip6));
	json_object_object_add(o, "peers_told", json_object_new_int64((int64_t)told));
	ntm_ctl_reply_ok(req, o);
}

/* Opt a node in to (or out of) the public DNS zone (dc/dnszone.h). */
static void cmd_publish(struct ntm_ctl_req *req, void *user)
{
	static const char *const allowed[] = { "fqdn", "on", NULL };
	struct dc_admin *a = user;
	char name[DC_FQDN_SIZE], why[DC_STORE_WHY_MAX];
	json_object *v = NULL, *o;
	bool on, changed;
	int rc;

	if (!args_known(req, allowed) || !arg_node_name(req, &a->env, name)) {
		return;
	}
	if (!json_object_object_get_ex(ntm_ctl_req_args(req), "on", &v) ||
	    !json_object_is_type(v, json_type_boolean)) {
		ntm_ctl_reply_err(req, NTM_CTL_E_INVALID,
				  "argument 'on' (true or false) is missing");
		return;
	}
	on = json_object_get_boolean(v);
	rc = dc_store_publish(a->env.store, name, on, &changed, why, sizeof(why));
	if (rc < 0) {
		ntm_ctl_reply_err(req, rc == -ENOENT ? NTM_CTL_E_UNKNOWN : NTM_CTL_E_ERROR, "%s",
				  why);
		return;
	}
	if (changed) {
		ntm_log_info("node %s %s the public DNS zone", name,
			     on ? "added to" : "removed from");
		dc_dnsserver_zone_changed(dns_of(a));
	}
	o = json_object_new_object();
	json_object_object_add(o, "fqdn", json_object_new_string(name));
	json_object_object_add(o, "published", json_object_new_boolean(on));
	ntm_ctl_reply_ok(req, o);
}

struct nodes_walk {
	json_object *rows;
	const struct dc_admin_env *env;
	int64_t now;
};

static int add_node_row(void *ctx, const struct dc_node *n)
{
	struct nodes_walk *w = ctx;
	json_object *o = json_object_new_object();
	bool online = n->last_seen != 0 &&
		      w->now - n->last_seen <= (int64_t)ONLINE_INTERVALS * w->env->keepalive;

	if (o == NULL) {
		return -ENOMEM;
	}
	json_object_object_add(o, "fqdn", json_object_new_string(n->fqdn));
	json_object_object_add(o, "vip4", json_object_new_string(n->vip4));
	json_object_object_add(o, "vip6", json_object_new_string(n->vip6));
	json_object_object_add(o, "real", str_or_null(n->real));
	json_object_object_add(o, "outside", str_or_null(n->outside));
	json_object_object_add(o, "nat", str_or_null(n->nat));
	/* Seconds since the last keep-alive, like the node's latest_handshake. */
	json_object_object_add(o, "last_seen",
			       n->last_seen != 0 ? json_object_new_int64(w->now - n->last_seen)
						 : NULL);
	json_object_object_add(o, "online", json_object_new_boolean(online));
	json_object_object_add(o, "published", json_object_new_boolean(n->published));
	return json_object_array_add(w->rows, o) == 0 ? 0 : -ENOMEM;
}

static void cmd_nodes(struct ntm_ctl_req *req, void *user)
{
	static const char *const allowed[] = { NULL };
	struct dc_admin *a = user;
	struct nodes_walk w = { .rows = json_object_new_array(),
				.env = &a->env,
				.now = time(NULL) };
	int rc;

	if (!args_known(req, allowed)) {
		json_object_put(w.rows);
		return;
	}
	rc = w.rows != NULL ? dc_store_foreach_node(a->env.store, add_node_row, &w) : -ENOMEM;
	if (rc < 0) {
		json_object_put(w.rows);
		ntm_ctl_reply_err(req, NTM_CTL_E_ERROR, "cannot list the nodes: %s",
				  ntm_strerror(rc));
		return;
	}
	ntm_ctl_reply_ok(req, w.rows);
}

static void add_relay_row(void *ctx, const struct dc_relay_info *r)
{
	json_object *o = json_object_new_object(), *addrs = json_object_new_array();
	char text[NTM_ADDR_STRLEN];
	struct ntm_addr a;

	for (size_t i = 0; addrs != NULL && i < r->n_addrs; i++) {
		if (ntm_ctrl_addr_to(&a, &r->addrs[i]) == 0 &&
		    ntm_addr_format(&a, text, sizeof(text)) == 0) {
			json_object_array_add(addrs, json_object_new_string(text));
		}
	}
	json_object_object_add(o, "relay", json_object_new_string(r->name));
	json_object_object_add(o, "pubkey", key_json(&r->pubkey));
	json_object_object_add(o, "addresses", addrs);
	json_object_object_add(o, "sessions", json_object_new_int64(r->load.sessions));
	json_object_object_add(o, "capacity", json_object_new_int64(r->load.capacity));
	json_object_object_add(o, "pps", json_object_new_int64(r->load.pps));
	json_object_object_add(o, "bps", json_object_new_int64((int64_t)r->load.bps));
	json_object_object_add(o, "cpu", json_object_new_int64(r->load.cpu));
	json_object_object_add(o, "allocated", json_object_new_int64((int64_t)r->allocated));
	json_object_object_add(o, "report_age", json_object_new_int64(r->report_age_ms / 1000));
	json_object_array_add(ctx, o);
}

static void cmd_relays(struct ntm_ctl_req *req, void *user)
{
	static const char *const allowed[] = { NULL };
	struct dc_admin *a = user;
	json_object *rows;

	if (!args_known(req, allowed)) {
		return;
	}
	rows = json_object_new_array();
	if (a->env.relays != NULL && rows != NULL) {
		dc_relays_foreach(a->env.relays, add_relay_row, rows);
	}
	ntm_ctl_reply_ok(req, rows);
}

/* The optional "ttl" in seconds: 1..DC_TOKEN_TTL_MAX; false after replying. */
static bool arg_ttl(struct ntm_ctl_req *req, int64_t *ttl)
{
	json_object *v = NULL;

	*ttl = DC_TOKEN_TTL_DEFAULT;
	if (!json_object_object_get_ex(ntm_ctl_req_args(req), "ttl", &v)) {
		return true;
	}
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
	    json_object_get_int64(v) > DC_TOKEN_TTL_MAX) {
		ntm_ctl_reply_err(req, NTM_CTL_E_INVALID, "ttl must be 1 to %d seconds",
				  DC_TOKEN_TTL_MAX);
		return false;
	}
	*ttl = json_object_get_int64(v);
	return true;
}

static void format_utc(int64_t t, char out[TIME_TEXT_SIZE])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, TIME_TEXT_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		snprintf(out, TIME_TEXT_SIZE, "%lld", (long long)t);
	}
}

static void cmd_token_create(struct ntm_ctl_req *req, void *user)
{
	static const char *const allowed[] = { "fqdn", "ttl", NULL };
	struct dc_admin *a = user;
	char name[DC_FQDN_SIZE], why[DC_STORE_WHY_MAX], text[DC_TOKEN_TEXT_SIZE];
	char expires[TIME_TEXT_SIZE];
	struct dc_token_rec t = { .fqdn = name, .created = time(NULL) };
	int64_t ttl;
	json_object *o;

	if (!args_known(req, allowed) || !arg_node_name(req, &a->env, name) ||
	    !arg_ttl(req, &ttl)) {
		return;
	}
	t.expires = t.created + ttl;
	dc_token_generate(text, t.hash);
	if (dc_store_token_add(a->env.store, &t, why, sizeof(why)) < 0) {
		sodium_memzero(text, sizeof(text));
		ntm_ctl_reply_err(req, NTM_CTL_E_ERROR, "%s", why);
		return;
	}
	format_utc(t.expires, expires);
	ntm_log_info("enrolment token for %s created, valid until %s", name, expires);
	o = json_object_new_object();
	json_object_object_add(o, "fqdn", json_object_new_string(name));
	json_object_object_add(o, "token", json_object_new_string(text));
	json_object_object_add(o, "expires", json_object_new_string(expires));
	json_object_object_add(o, "ttl", json_object_new_int64(ttl));
	sodium_memzero(text, sizeof(text));
	ntm_ctl_reply_ok(req, o);
}

static int count_node(void *ctx, const struct dc_node *n)
{
	(void)n;
	++*(int64_t *)ctx;
	return 0;
}

static json_object *addrs_json(const struct dc_addr_list *l)
{
	json_object *a = json_object_new_array();
	char text[NTM_ADDR_STRLEN];

	for (size_t i = 0; a != NULL && i < l->n; i++) {
		if (ntm_addr_format(&l->addrs[i], text, sizeof(text)) == 0) {
			json_object_array_add(a, json_object_new_string(text));
		}
	}
	return a;
}

/* Dropped control datagrams and messages by reason (dc/ctrl.h), and their sum. */
static void add_drops(json_object *o, const struct dc_ctrl_stats *st)
{
	const struct {
		const char *name;
		uint64_t v;
	} d[] = {
		{ "malformed", st->malformed },	    { "unexpected_type", st->unexpected },
		{ "bad_mac1", st->bad_mac },	    { "cookie_sent", st->cookie_sent },
		{ "ratelimited", st->ratelimited }, { "bad_handshake", st->hs_refused },
		{ "replay", st->replayed },	    { "unknown_receiver", st->no_session },
		{ "decrypt_failed", st->bad_data }, { "not_registered", st->not_registered },
		{ "unsupported", st->unsupported },
	};
	json_object *drops = json_object_new_object();
	uint64_t total = 0;

	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		ntm_ctl_json_count(drops, d[i].name, d[i].v);
		total += d[i].v;
	}
	ntm_ctl_json_count(o, "drops_total", total);
	json_object_object_add(o, "drops", drops);
}

/* The DNS server's counters, or null when [DNS] Listen is not set. */
static json_object *dns_json(const struct dc_admin *a)
{
	const struct dc_dnsserver *d = dns_of(a);
	struct dc_dnsserver_stats st;
	json_object *o;

	if (d == NULL) {
		return NULL;
	}
	dc_dnsserver_get_stats(d, &st);
	o = json_object_new_object();
	json_object_object_add(o, "listen", addrs_json(&a->env.cfg->dns_listen));
	ntm_ctl_json_count(o, "queries", st.queries);
	ntm_ctl_json_count(o, "answers", st.answers);
	ntm_ctl_json_count(o, "nxdomain", st.nxdomain);
	ntm_ctl_json_count(o, "refused", st.refused);
	ntm_ctl_json_count(o, "truncated", st.truncated);
	ntm_ctl_json_count(o, "dropped", st.dropped);
	ntm_ctl_json_count(o, "ratelimited", st.ratelimited);
	ntm_ctl_json_count(o, "send_failed", st.send_failed);
	ntm_ctl_json_count(o, "tcp_connections", st.tcp_now);
	ntm_ctl_json_count(o, "tcp_refused", st.tcp_refused);
	json_object_object_add(o, "dnssec", json_object_new_boolean(st.dnssec));
	if (st.dnssec) {
		ntm_ctl_json_count(o, "keytag", st.keytag);
		ntm_ctl_json_count(o, "signed_answers", st.signed_answers);
		ntm_ctl_json_count(o, "signatures", st.signatures);
		ntm_ctl_json_count(o, "signature_cache_hits", st.sig_cache_hits);
	}
	return o;
}

/* The DS record of the zone signing key, for the parent zone or a trust anchor. */
static void cmd_ds(struct ntm_ctl_req *req, void *user)
{
	static const char *const allowed[] = { NULL };
	struct dc_admin *a = user;
	char ds[512];
	json_object *o;
	int rc;

	if (!args_known(req, allowed)) {
		return;
	}
	rc = dc_dnsserver_ds(dns_of(a), ds, sizeof(ds));
	if (rc == -ENOENT) {
		ntm_ctl_reply_err(req, NTM_CTL_E_ERROR,
				  "the zone %s is not signed (no [DNS] Listen, or ZoneKey = none)",
				  a->env.domain);
		return;
	}
	if (rc < 0) {
		ntm_ctl_reply_err(req, NTM_CTL_E_ERROR, "DS record: %s", ntm_strerror(rc));
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "zone", json_object_new_string(a->env.domain));
	json_object_object_add(o, "ds", json_object_new_string(ds));
	ntm_ctl_reply_ok(req, o);
}

static void cmd_status(struct ntm_ctl_req *req, void *user)
{
	static const char *const allowed[] = { NULL };
	struct dc_admin *a = user;
	const struct dc_ctrl *c = a->env.ctrl != NULL ? *a->env.ctrl : NULL;
	struct dc_ctrl_stats st = { 0 };
	int64_t enrolled = 0;
	json_object *o;

	if (!args_known(req, allowed)) {
		return;
	}
	if (dc_store_foreach_node(a->env.store, count_node, &enrolled) < 0) {
		ntm_ctl_reply_err(req, NTM_CTL_E_ERROR, "cannot count the nodes");
		return;
	}
	if (c != NULL) {
		dc_ctrl_get_stats(c, &st);
	}
	o = json_object_new_object();
	json_object_object_add(o, "domain", json_object_new_string(a->env.domain));
	json_object_object_add(o, "listen", addrs_json(&a->env.cfg->listen));
	json_object_object_add(o, "alt_listen", addrs_json(&a->env.cfg->alt_listen));
	ntm_ctl_json_count(o, "enrolled", (uint64_t)enrolled);
	ntm_ctl_json_count(o, "registered", st.registered_now);
	ntm_ctl_json_count(o, "online", st.online_now);
	ntm_ctl_json_count(o, "sessions", st.sessions);
	ntm_ctl_json_count(o, "rx", st.rx);
	ntm_ctl_json_count(o, "handshakes", st.handshakes);
	ntm_ctl_json_count(o, "registrations", st.registered);
	ntm_ctl_json_count(o, "directions", st.directions);
	ntm_ctl_json_count(o, "revocations_sent", st.revoked_sent);
	ntm_ctl_json_count(o, "errors_sent", st.errors_sent);
	add_drops(o, &st);
	json_object_object_add(o, "dns", dns_json(a));
	ntm_ctl_reply_ok(req, o);
}

static const struct ntm_ctl_cmd commands[] = {
	{ "enroll", NTM_CTL_WRITE, cmd_enroll,
	  "enrol a node (fqdn, pubkey) or a relay (relay, pubkey)" },
	{ "revoke", NTM_CTL_WRITE, cmd_revoke,
	  "remove a node: its session ends, its peers drop it, its VIPs go back to the pools" },
	{ "publish", NTM_CTL_WRITE, cmd_publish,
	  "put a node's name and VIPs in the public DNS zone (on) or take them out (off)" },
	{ "nodes", NTM_CTL_READ, cmd_nodes, "enrolled nodes: VIPs, addresses, NAT, presence" },
	{ "token.create", NTM_CTL_WRITE, cmd_token_create, "one-time enrolment token for a name" },
	{ "status", NTM_CTL_READ, cmd_status,
	  "domain, listen addresses, node counts, dropped control packets by reason" },
	{ "relays", NTM_CTL_READ, cmd_relays, "registered relay servers: addresses and load" },
	{ "ds", NTM_CTL_READ, cmd_ds, "the DS record of the DNSSEC zone key, for the parent zone" },
};

int dc_admin_open(uv_loop_t *loop, const struct dc_admin_config *cfg, struct dc_admin **out)
{
	struct ntm_ctl_config cc = {
		.path = cfg->path,
		.has_group = cfg->has_group,
		.group = cfg->group,
		.cmds = commands,
		.n_cmds = sizeof(commands) / sizeof(commands[0]),
	};
	struct dc_admin *a = ntm_calloc(1, sizeof(*a));
	int rc;

	*out = NULL;
	if (a == NULL) {
		return -ENOMEM;
	}
	a->env = cfg->env;
	cc.user = a;
	rc = ntm_ctl_server_create(loop, &cc, &a->srv);
	if (rc < 0) {
		ntm_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

static void on_server_closed(void *arg)
{
	struct dc_admin *a = arg;
	dc_admin_closed_cb done = a->done;
	void *done_arg = a->done_arg;

	ntm_free(a);
	if (done != NULL) {
		done(done_arg);
	}
}

void dc_admin_close(struct dc_admin *a, dc_admin_closed_cb done, void *arg)
{
	if (ntm_close_null(a, done, arg)) {
		return;
	}
	a->done = done;
	a->done_arg = arg;
	ntm_ctl_server_close(a->srv, on_server_closed, a);
}
