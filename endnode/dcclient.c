/* SPDX-License-Identifier: MIT */
#include "dcclient.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <string.h>

#include "common/alloc.h"
#include "common/crypto.h"
#include "common/ctrlclient.h"
#include "common/ctrlmsg.h"
#include "common/key.h"
#include "common/log.h"
#include "common/wire.h"

struct en_dcclient {
	struct ntm_ctrlclient *cc;
	struct en_dcclient_ops ops;
	uint8_t public_key[NTM_WG_KEY_LEN];
	char name[EN_CONFIG_NAME_MAX + 1];
	char *token; /* secure memory; freed after the first REGISTER_OK */

	enum en_dc_state state;
	bool session_registered; /* REGISTER_OK on this session: keep-alives go on it */
	uint8_t req_kind;	 /* NTM_CTRL_REGISTER or NTM_CTRL_KEEPALIVE */

	bool has_vips;
	struct en_dc_vips vips;
	uint64_t pools_attrs; /* POOL4/POOL6 bits of the last REGISTER_OK */
	struct ntm_prefix pool4, pool6;
	char domains[NTM_CTRL_DOMAINS_MAX][NTM_CTRL_FQDN_MAX + 1]; /* DOMAINs of REGISTER_OK */
	size_t n_domains;
	struct ntm_addr outside;
	bool is_public;
	struct ntm_addr alt; /* the DC's AltListen endpoint (len 0: none) */
	uint8_t nat;	     /* enum ntm_ctrl_nat as the DC classified us */
	uint8_t families;    /* NTM_CTRL_FAMILY_* as the DC sees them */
	uint32_t alt_req_id; /* of the last AltListen probe: its answer is not a drop */
	bool reprobe;	     /* moved: probe AltListen after the next REGISTER_OK */
	struct ntm_addr sent_cands[EN_DC_CANDIDATES_MAX];
	size_t n_sent_cands;
	uint16_t keepalive_s;
	uint16_t last_error;
	uint64_t drops; /* answers of the wrong kind */

	en_dcclient_closed_cb done;
	void *done_arg;
};

static const char *const state_names[] = {
	[EN_DC_REGISTERING] = "registering",
	[EN_DC_REGISTERED] = "registered",
	[EN_DC_UNREACHABLE] = "unreachable",
};

const char *en_dc_state_name(enum en_dc_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

/* "DC 198.51.100.1:7000" for messages. */
static const char *ep_text(const struct en_dcclient *dc, char *buf, size_t cap)
{
	return ntm_ctrlclient_endpoint_text(dc->cc, buf, cap);
}

/* ---------------------------------------------------------------- hooks (below) */

static void on_connected(void *arg);
static bool on_answer(void *arg, const struct ntm_ctrl_msg *m);
static bool on_message(void *arg, const struct ntm_ctrl_msg *m);
static void on_idle(void *arg);
static void on_failed(void *arg, bool answered);

/* ---------------------------------------------------------------- create / close */

static int copy_config(struct en_dcclient *dc, const struct en_config *cfg)
{
	size_t len;

	snprintf(dc->name, sizeof(dc->name), "%s", cfg->name);
	if (cfg->dc.n_endpoints == 0 || dc->name[0] == '\0') {
		return -EINVAL;
	}
	if (cfg->dc.token == NULL) {
		return 0;
	}
	len = strlen(cfg->dc.token);
	dc->token = ntm_crypto_secure_alloc(len + 1);
	if (dc->token == NULL) {
		return -ENOMEM;
	}
	memcpy(dc->token, cfg->dc.token, len + 1);
	return 0;
}

static void free_client(struct en_dcclient *dc)
{
	ntm_crypto_secure_free(dc->token);
	ntm_free(dc);
}

static uint64_t hook_now(void *arg)
{
	struct en_dcclient *dc = arg;

	return dc->ops.now(dc->ops.arg);
}

static int hook_send(void *arg, const struct ntm_addr *to, const uint8_t *buf, size_t len)
{
	struct en_dcclient *dc = arg;

	return dc->ops.send(dc->ops.arg, to, buf, len);
}

int en_dcclient_create(uv_loop_t *loop, const struct en_config *cfg,
		       const struct en_dcclient_ops *ops, struct en_dcclient **out)
{
	const struct ntm_ctrlclient_config ccfg = {
		.private_key = cfg->private_key,
		.peer_public = cfg->dc.public_key,
		.endpoints = cfg->dc.endpoints,
		.n_endpoints = cfg->dc.n_endpoints,
	};
	struct ntm_ctrlclient_ops cops = { hook_send,  hook_now, on_connected, on_answer,
					   on_message, on_idle,	 on_failed,    NULL };
	struct en_dcclient *dc;
	struct ntm_key priv, pub;
	int rc;

	*out = NULL;
	if (!cfg->has_dc || cfg->private_key == NULL) {
		return -EINVAL;
	}
	dc = ntm_calloc(1, sizeof(*dc));
	if (dc == NULL) {
		return -ENOMEM;
	}
	dc->ops = *ops;
	cops.arg = dc;
	rc = copy_config(dc, cfg);
	if (rc == 0) {
		memcpy(priv.b, cfg->private_key, sizeof(priv.b));
		rc = ntm_key_public(&pub, &priv);
		memcpy(dc->public_key, pub.b, sizeof(dc->public_key));
		ntm_key_wipe(&priv);
	}
	if (rc == 0) {
		rc = ntm_ctrlclient_create(loop, &ccfg, &cops, &dc->cc);
	}
	if (rc < 0) {
		free_client(dc);
		return rc;
	}
	*out = dc;
	return 0;
}

static void on_closed(void *arg)
{
	struct en_dcclient *dc = arg;
	en_dcclient_closed_cb done = dc->done;
	void *done_arg = dc->done_arg;

	free_client(dc);
	if (done != NULL) {
		done(done_arg);
	}
}

void en_dcclient_close(struct en_dcclient *dc, en_dcclient_closed_cb done, void *arg)
{
	dc->done = done;
	dc->done_arg = arg;
	ntm_ctrlclient_close(dc->cc, on_closed, dc);
}

/* ---------------------------------------------------------------- requests */

static uint32_t new_req_id(void)
{
	return randombytes_random() | 1;
}

/* Local candidates, those of the endpoint's family first (the DC takes the first as "real"). */
static void add_candidates(struct en_dcclient *dc, struct ntm_ctrl_msg *m)
{
	struct ntm_addr all[EN_DC_CANDIDATES_MAX];
	size_t n = dc->ops.candidates(dc->ops.arg, all, EN_DC_CANDIDATES_MAX);
	int fam = ntm_ctrlclient_endpoint(dc->cc)->sa.sa_family;

	dc->n_sent_cands = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n && i < EN_DC_CANDIDATES_MAX; i++) {
			if ((all[i].sa.sa_family == fam) != (pass == 0) ||
			    ntm_ctrl_addr_from(&m->cand[m->n_cand], &all[i]) < 0) {
				continue;
			}
			m->n_cand++;
			dc->sent_cands[dc->n_sent_cands++] = all[i];
		}
	}
	if (m->n_cand > 0) {
		m->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_CANDIDATE);
	}
}

static void send_register(struct en_dcclient *dc)
{
	struct ntm_ctrl_msg m;

	ntm_ctrl_msg_init(&m, NTM_CTRL_REGISTER, new_req_id());
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN);
	snprintf(m.fqdn, sizeof(m.fqdn), "%s", dc->name);
	if (dc->token != NULL) {
		m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_TOKEN);
		snprintf(m.token, sizeof(m.token), "%s", dc->token);
	}
	add_candidates(dc, &m);
	dc->req_kind = NTM_CTRL_REGISTER;
	ntm_ctrlclient_request(dc->cc, &m);
	sodium_memzero(m.token, sizeof(m.token));
}

static void send_keepalive(struct en_dcclient *dc)
{
	struct ntm_ctrl_msg m;

	ntm_ctrl_msg_init(&m, NTM_CTRL_KEEPALIVE, new_req_id());
	dc->req_kind = NTM_CTRL_KEEPALIVE;
	ntm_ctrlclient_request(dc->cc, &m);
}

/*
 * One KEEPALIVE on the same session to the DC's AltListen endpoint: the DC
 * compares its mapping with the main one (RFC 5780 style) and answers
 * (through the main endpoint) with the NAT class. Sent outside the
 * request pairing; a lost one is repeated with the next keep-alive.
 */
static void probe_alt(struct en_dcclient *dc)
{
	struct ntm_ctrl_msg m;

	if (dc->alt.len == 0 || (dc->nat != NTM_CTRL_NAT_UNKNOWN && !dc->reprobe)) {
		return;
	}
	dc->reprobe = false;
	dc->alt_req_id = new_req_id();
	ntm_ctrl_msg_init(&m, NTM_CTRL_KEEPALIVE, dc->alt_req_id);
	(void)!ntm_ctrlclient_send_to(dc->cc, &m, &dc->alt);
}

/* ---------------------------------------------------------------- attempts */

void en_dcclient_start(struct en_dcclient *dc)
{
	char ep[NTM_ADDR_STRLEN];

	dc->state = EN_DC_REGISTERING;
	dc->session_registered = false;
	ntm_log_info("DC %s: registering as %s", ep_text(dc, ep, sizeof(ep)), dc->name);
	ntm_ctrlclient_start(dc->cc);
}

/* The handshake is done: register, or (a rekey) go on with keep-alives. */
static void on_connected(void *arg)
{
	struct en_dcclient *dc = arg;

	if (dc->session_registered) {
		send_keepalive(dc);
	} else {
		send_register(dc);
	}
}

static void on_idle(void *arg)
{
	send_keepalive(arg);
	probe_alt(arg);
}

/* The attempt is over: `answered` when the DC refused (it is reachable), else it went silent. */
static void on_failed(void *arg, bool answered)
{
	struct en_dcclient *dc = arg;
	char ep[NTM_ADDR_STRLEN];

	if (!answered) {
		if (dc->state != EN_DC_UNREACHABLE) {
			ntm_log_warn("DC %s: no answer; the DC is unreachable (tunnels are not "
				     "affected), retrying",
				     ep_text(dc, ep, sizeof(ep)));
		}
		dc->state = EN_DC_UNREACHABLE;
	} else {
		dc->state = EN_DC_REGISTERING;
	}
	dc->session_registered = false;
}

void en_dcclient_moved(struct en_dcclient *dc)
{
	/* The NAT may be another kind now: classify again after the REGISTER_OK. */
	dc->reprobe = true;
	if (dc->session_registered) {
		send_register(dc); /* on the session we have: one round trip */
		return;
	}
	dc->state = EN_DC_REGISTERING;
	ntm_ctrlclient_start(dc->cc); /* no session (or a dead one): a new attempt now */
}

void en_dcclient_poll(struct en_dcclient *dc)
{
	ntm_ctrlclient_poll(dc->cc);
}

/* ---------------------------------------------------------------- answers */

static void log_vips(const struct en_dcclient *dc, const char *what)
{
	char v4[INET_ADDRSTRLEN] = "?", v6[INET6_ADDRSTRLEN] = "?", out[NTM_ADDR_STRLEN] = "?";
	char ep[NTM_ADDR_STRLEN];

	inet_ntop(AF_INET, dc->vips.vip4, v4, sizeof(v4));
	inet_ntop(AF_INET6, dc->vips.vip6, v6, sizeof(v6));
	if (dc->outside.len > 0 && ntm_addr_format(&dc->outside, out, sizeof(out)) < 0) {
		snprintf(out, sizeof(out), "?");
	}
	ntm_log_info("DC %s: %s as %s: VIPs %s and %s, outside address %s%s",
		     ep_text(dc, ep, sizeof(ep)), what, dc->name, v4, v6, out,
		     dc->is_public ? " (no NAT)" : "");
}

static void note_outside(struct en_dcclient *dc, const struct ntm_ctrl_msg *m)
{
	struct ntm_addr a;
	bool changed;

	if (!ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_OUTSIDE) || ntm_ctrl_addr_to(&a, &m->outside) < 0) {
		return;
	}
	if (dc->outside.len > 0 && !ntm_addr_equal(&a, &dc->outside)) {
		char text[NTM_ADDR_STRLEN];

		if (ntm_addr_format(&a, text, sizeof(text)) == 0) {
			ntm_log_info("DC: the outside address is now %s", text);
		}
	}
	/* Another family is another DC endpoint in use, not a new mapping. */
	changed = dc->outside.len > 0 && a.sa.sa_family == dc->outside.sa.sa_family &&
		  !ntm_addr_equal(&a, &dc->outside);
	dc->outside = a;
	dc->is_public = false;
	for (size_t i = 0; i < dc->n_sent_cands; i++) {
		dc->is_public = dc->is_public || ntm_addr_equal(&a, &dc->sent_cands[i]);
	}
	if (changed && dc->ops.outside_changed != NULL) {
		dc->ops.outside_changed(dc->ops.arg, &a);
	}
}

/* The NAT class and families the DC sees (REGISTER_OK, KEEPALIVE_ACK). */
static void note_nat(struct en_dcclient *dc, const struct ntm_ctrl_msg *m)
{
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_FAMILIES)) {
		dc->families = m->families;
	}
	if (!ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_NAT) || m->nat == dc->nat) {
		return;
	}
	dc->nat = m->nat;
	ntm_log_info("DC: NAT class %s (%s%s)", ntm_ctrl_nat_name(dc->nat),
		     dc->families & NTM_CTRL_FAMILY_V4 ? "IPv4" : "",
		     dc->families == (NTM_CTRL_FAMILY_V4 | NTM_CTRL_FAMILY_V6) ? " and IPv6"
		     : dc->families & NTM_CTRL_FAMILY_V6		       ? "IPv6"
									       : "");
}

static void note_pools(struct en_dcclient *dc, const struct ntm_ctrl_msg *m)
{
	uint64_t bits =
		m->attrs & (NTM_CTRL_BIT(NTM_CTRL_ATTR_POOL4) | NTM_CTRL_BIT(NTM_CTRL_ATTR_POOL6));
	bool has4 = ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_POOL4);
	bool has6 = ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_POOL6);

	if (bits == dc->pools_attrs && (!has4 || ntm_prefix_equal(&m->pool4, &dc->pool4)) &&
	    (!has6 || ntm_prefix_equal(&m->pool6, &dc->pool6))) {
		return;
	}
	dc->pools_attrs = bits;
	dc->pool4 = m->pool4;
	dc->pool6 = m->pool6;
	if (dc->ops.set_pools != NULL) {
		dc->ops.set_pools(dc->ops.arg, has4 ? &dc->pool4 : NULL, has6 ? &dc->pool6 : NULL);
	}
}

/* The overlay domains the DC announced (none from an older DC). */
static void note_domains(struct en_dcclient *dc, const struct ntm_ctrl_msg *m)
{
	if (m->n_domains != dc->n_domains ||
	    memcmp(m->domains, dc->domains, m->n_domains * sizeof(m->domains[0])) != 0) {
		for (size_t i = 0; i < m->n_domains; i++) {
			ntm_log_info("DC: names under %s are overlay names", m->domains[i]);
		}
	}
	memcpy(dc->domains, m->domains, sizeof(dc->domains));
	dc->n_domains = m->n_domains;
}

size_t en_dcclient_domains(const struct en_dcclient *dc, const char **out, size_t cap)
{
	size_t n = 0;

	for (; dc != NULL && n < dc->n_domains && n < cap; n++) {
		out[n] = dc->domains[n];
	}
	return n;
}

static void on_register_ok(struct en_dcclient *dc, const struct ntm_ctrl_msg *m)
{
	struct en_dc_vips v;
	bool was_registered = dc->state == EN_DC_REGISTERED;
	bool changed;

	memcpy(v.vip4, m->vip4, sizeof(v.vip4));
	memcpy(v.vip6, m->vip6, sizeof(v.vip6));
	changed = dc->has_vips && sodium_memcmp(&v, &dc->vips, sizeof(v)) != 0;
	if (!dc->has_vips || changed) {
		if (changed) {
			ntm_log_warn("DC: the VIPs changed; replacing them on the interface");
		}
		dc->ops.set_vips(dc->ops.arg, dc->has_vips ? &dc->vips : NULL, &v);
		dc->vips = v;
		dc->has_vips = true;
	}
	note_pools(dc, m);
	note_domains(dc, m);
	note_outside(dc, m);
	note_nat(dc, m);
	dc->alt.len = 0;
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_ALT_ENDPOINT) &&
	    ntm_ctrl_addr_to(&dc->alt, &m->alt_endpoint) < 0) {
		dc->alt.len = 0;
	}
	dc->keepalive_s = m->keepalive;
	dc->state = EN_DC_REGISTERED;
	dc->session_registered = true;
	dc->last_error = 0;
	ntm_crypto_secure_free(dc->token); /* one-time: enrolled now */
	dc->token = NULL;
	if (!was_registered || changed) {
		log_vips(dc, "registered");
	}
	ntm_ctrlclient_idle(dc->cc, (uint64_t)dc->keepalive_s * 1000);
	probe_alt(dc);
}

static void on_error(struct en_dcclient *dc, const struct ntm_ctrl_msg *m)
{
	char ep[NTM_ADDR_STRLEN], pub[NTM_KEY_B64_SIZE];
	struct ntm_key k;

	if (m->error_code == NTM_CTRL_E_NOT_REGISTERED && dc->req_kind == NTM_CTRL_KEEPALIVE) {
		dc->session_registered = false; /* the DC forgot us: register again at once */
		send_register(dc);
		return;
	}
	ep_text(dc, ep, sizeof(ep));
	if (m->error_code != dc->last_error) {
		ntm_log_err("DC %s: %s refused: %s%s%s%s", ep, ntm_ctrl_kind_name(dc->req_kind),
			    ntm_ctrl_error_name(m->error_code), m->error_text[0] ? " (" : "",
			    m->error_text, m->error_text[0] ? ")" : "");
		if (m->error_code == NTM_CTRL_E_NOT_ENROLLED) {
			memcpy(k.b, dc->public_key, sizeof(k.b));
			ntm_key_to_base64(pub, &k);
			ntm_log_err("DC %s: this node's key is not enrolled; on the DC run: "
				    "ntmctl -s DC_SOCKET enroll %s %s (or configure a Token)",
				    ep, dc->name, pub);
		}
	}
	dc->last_error = m->error_code;
	ntm_ctrlclient_fail(dc->cc, true);
}

/* The answer to our outstanding request. */
static bool on_answer(void *arg, const struct ntm_ctrl_msg *m)
{
	struct en_dcclient *dc = arg;

	if (m->kind == NTM_CTRL_ERROR) {
		on_error(dc, m);
	} else if (m->kind == NTM_CTRL_REGISTER_OK && dc->req_kind == NTM_CTRL_REGISTER) {
		on_register_ok(dc, m);
	} else if (m->kind == NTM_CTRL_KEEPALIVE_ACK && dc->req_kind == NTM_CTRL_KEEPALIVE) {
		note_outside(dc, m);
		note_nat(dc, m);
		dc->state = EN_DC_REGISTERED;
		ntm_ctrlclient_idle(dc->cc, (uint64_t)dc->keepalive_s * 1000);
	} else {
		return false;
	}
	return true;
}

/* Directions, PEER_REVOKED, or an ERROR that answers a direction request (endnode/resolve.c). */
static bool on_message(void *arg, const struct ntm_ctrl_msg *m)
{
	struct en_dcclient *dc = arg;

	if (m->kind == NTM_CTRL_KEEPALIVE_ACK && m->req_id != 0 && m->req_id == dc->alt_req_id) {
		note_nat(dc, m); /* the answer to the probe of AltListen */
		dc->alt_req_id = 0;
		return true;
	}
	if ((m->kind == NTM_CTRL_DIRECTION || m->kind == NTM_CTRL_RELAY_OFFER ||
	     m->kind == NTM_CTRL_ERROR || m->kind == NTM_CTRL_PEER_REVOKED) &&
	    dc->ops.message != NULL) {
		dc->ops.message(dc->ops.arg, m);
		return true;
	}
	return false;
}

/* ---------------------------------------------------------------- receive */

void en_dcclient_receive(struct en_dcclient *dc, const uint8_t *buf, size_t len,
			 const struct ntm_addr *from)
{
	ntm_ctrlclient_receive(dc->cc, buf, len, from);
}

void en_dcclient_get_info(const struct en_dcclient *dc, struct en_dcclient_info *out)
{
	memset(out, 0, sizeof(*out));
	out->state = dc->state;
	out->endpoint = *ntm_ctrlclient_endpoint(dc->cc);
	out->has_vips = dc->has_vips;
	out->vips = dc->vips;
	out->outside = dc->outside;
	out->is_public = dc->is_public;
	out->nat = dc->is_public ? NTM_CTRL_NAT_PUBLIC : dc->nat;
	out->families = dc->families;
	out->last_contact_ms = ntm_ctrlclient_last_contact(dc->cc);
	out->last_error = dc->last_error;
	out->drops = ntm_ctrlclient_drops(dc->cc) + dc->drops;
}

/* Seals and sends one DIRECTION_REQUEST or RELAY_REQUEST `m` on the registered session. */
static int send_direction_request(struct en_dcclient *dc, const struct ntm_ctrl_msg *m)
{
	if (dc->state != EN_DC_REGISTERED || !dc->session_registered) {
		return -ENOTCONN;
	}
	if (m->req_id == 0) {
		return -EINVAL;
	}
	return ntm_ctrlclient_send(dc->cc, m);
}

int en_dcclient_direction_request(struct en_dcclient *dc, uint32_t req_id, const char *fqdn)
{
	struct ntm_ctrl_msg m;

	ntm_ctrl_msg_init(&m, NTM_CTRL_DIRECTION_REQUEST, req_id);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN);
	snprintf(m.fqdn, sizeof(m.fqdn), "%s", fqdn);
	return send_direction_request(dc, &m);
}

int en_dcclient_redirect(struct en_dcclient *dc, uint32_t req_id, const char *fqdn)
{
	struct ntm_ctrl_msg m;

	ntm_ctrl_msg_init(&m, NTM_CTRL_DIRECTION_REQUEST, req_id);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN) | NTM_CTRL_BIT(NTM_CTRL_ATTR_MOVED);
	snprintf(m.fqdn, sizeof(m.fqdn), "%s", fqdn);
	return send_direction_request(dc, &m);
}

int en_dcclient_relay_done(struct en_dcclient *dc, uint32_t req_id, const uint8_t *peer,
			   uint32_t session)
{
	struct ntm_ctrl_msg m;

	ntm_ctrl_msg_init(&m, NTM_CTRL_RELAY_DONE, req_id);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_PUBKEY) | NTM_CTRL_BIT(NTM_CTRL_ATTR_SESSION_ID);
	memcpy(m.pubkey, peer, sizeof(m.pubkey));
	m.session_id = session;
	return send_direction_request(dc, &m);
}

int en_dcclient_relay_request(struct en_dcclient *dc, uint32_t req_id, const char *fqdn,
			      const struct ntm_addr *avoid)
{
	struct ntm_ctrl_msg m;

	ntm_ctrl_msg_init(&m, NTM_CTRL_RELAY_REQUEST, req_id);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN);
	snprintf(m.fqdn, sizeof(m.fqdn), "%s", fqdn);
	if (avoid != NULL && ntm_ctrl_addr_from(&m.relay_addr[0], avoid) == 0) {
		m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_RELAY_ADDR);
		m.n_relay_addr = 1;
	}
	return send_direction_request(dc, &m);
}

int en_dcclient_direction_request_vip(struct en_dcclient *dc, uint32_t req_id, int family,
				      const uint8_t *vip)
{
	struct ntm_ctrl_msg m;

	if (family != AF_INET && family != AF_INET6) {
		return -EINVAL;
	}
	ntm_ctrl_msg_init(&m, NTM_CTRL_DIRECTION_REQUEST, req_id);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_TARGET_VIP);
	m.target_family = family == AF_INET ? 4 : 6;
	memcpy(m.target_vip, vip, family == AF_INET ? 4 : 16);
	return send_direction_request(dc, &m);
}

void en_dcclient_preset_vips(struct en_dcclient *dc, const struct en_dc_vips *vips)
{
	if (!dc->has_vips) {
		dc->vips = *vips;
		dc->has_vips = true;
	}
}
