/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/crypto.h"
#include "common/key.h"

/*
 * The schema of ntm-node.conf on top of common/conf.h. Every setter gets the
 * one parse state below: the record being filled, the conf (for the privacy
 * check of inline secrets) and the [Peer] occurrence being applied.
 */
struct parse {
	struct en_config *cfg;
	const struct ntm_conf *conf;
	struct en_config_peer *cur; /* the [Peer] being applied */
	bool key_inline;
	bool key_file;
};

static int why_set(char *why, size_t whylen, int rc, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return rc;
}

static int alloc_secret(uint8_t **slot)
{
	if (*slot == NULL) {
		*slot = ntm_crypto_secure_alloc(NTM_WG_KEY_LEN);
	}
	return *slot == NULL ? -ENOMEM : 0;
}

/* A base64 key (44 characters) into out[32]; nothing is echoed into `why`. */
static int parse_key(const char *value, uint8_t *out, char *why, size_t whylen)
{
	struct ntm_key key;
	int rc = ntm_key_from_base64(&key, value, strlen(value));

	if (rc < 0) {
		ntm_key_wipe(&key);
		return why_set(why, whylen, rc, "not a base64 key of 32 bytes (44 characters)");
	}
	memcpy(out, key.b, NTM_WG_KEY_LEN);
	ntm_key_wipe(&key);
	return 0;
}

/* An inline secret is refused unless the file is private (0600/0400). */
static int set_inline_secret(struct parse *p, const char *value, uint8_t **slot, char *why,
			     size_t whylen)
{
	int rc;

	if (!ntm_conf_is_private(p->conf)) {
		return why_set(why, whylen, -EPERM,
			       "the file may be read by group or others (chmod 600 it, or use "
			       "PrivateKeyFile)");
	}
	rc = alloc_secret(slot);
	if (rc < 0) {
		return rc;
	}
	return parse_key(value, *slot, why, whylen);
}

static int set_private_key(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	p->key_inline = true;
	return set_inline_secret(p, value, &p->cfg->private_key, why, whylen);
}

static int set_private_key_file(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;
	struct ntm_key key;
	int rc;

	p->key_file = true;
	rc = alloc_secret(&p->cfg->private_key);
	if (rc < 0) {
		return rc;
	}
	rc = ntm_key_load_file(value, &key, why, whylen);
	if (rc == 0) {
		memcpy(p->cfg->private_key, key.b, NTM_WG_KEY_LEN);
	}
	ntm_key_wipe(&key);
	return rc;
}

static int set_listen_port(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;
	uint32_t v;
	int rc = ntm_conf_parse_u32(value, 0, 65535, &v, why, whylen);

	p->cfg->listen_port = (uint16_t)v;
	return rc;
}

static int set_mtu(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	return ntm_conf_parse_u32(value, EN_CONFIG_MTU_MIN, EN_CONFIG_MTU_MAX, &p->cfg->mtu, why,
				  whylen);
}

/* Appends one prefix to a growing array (list, count). */
static int push_prefix(struct ntm_prefix **list, size_t *n, const struct ntm_prefix *pf, char *why,
		       size_t whylen)
{
	struct ntm_prefix *grown;

	for (size_t i = 0; i < *n; i++) {
		if (ntm_prefix_equal(&(*list)[i], pf)) {
			return why_set(why, whylen, -EEXIST, "listed twice");
		}
	}
	if (*n >= EN_CONFIG_PREFIXES_MAX) {
		return why_set(why, whylen, -E2BIG, "too many entries");
	}
	grown = ntm_realloc(*list, (*n + 1) * sizeof(*grown));
	if (grown == NULL) {
		return -ENOMEM;
	}
	grown[*n] = *pf;
	*list = grown;
	(*n)++;
	return 0;
}

static int add_address(void *t, const char *item, char *why, size_t whylen)
{
	struct parse *p = t;
	struct ntm_prefix pf;
	int rc = ntm_prefix_parse(item, NTM_PREFIX_KEEP_HOST, &pf, why, whylen);

	if (rc < 0) {
		return rc;
	}
	return push_prefix(&p->cfg->addresses, &p->cfg->n_addresses, &pf, why, whylen);
}

static int set_address(void *t, const char *value, char *why, size_t whylen)
{
	return ntm_conf_split_list(value, add_address, t, why, whylen);
}

static int check_interface(void *t, char *why, size_t whylen)
{
	struct parse *p = t;

	if (p->key_inline && p->key_file) {
		return why_set(why, whylen, -EINVAL,
			       "PrivateKey and PrivateKeyFile exclude each other");
	}
	if (!p->key_inline && !p->key_file) {
		return why_set(why, whylen, -EINVAL, "PrivateKey or PrivateKeyFile is required");
	}
	return 0;
}

static int open_peer(void *ctx, void **target, char *why, size_t whylen)
{
	struct parse *p = ctx;
	struct en_config *cfg = p->cfg;
	struct en_config_peer *grown;

	if (cfg->n_peers >= EN_CONFIG_PEERS_MAX) {
		return why_set(why, whylen, -E2BIG, "too many peers");
	}
	grown = ntm_realloc(cfg->peers, (cfg->n_peers + 1) * sizeof(*grown));
	if (grown == NULL) {
		return -ENOMEM;
	}
	cfg->peers = grown;
	p->cur = &grown[cfg->n_peers++];
	memset(p->cur, 0, sizeof(*p->cur));
	*target = p;
	return 0;
}

static int set_public_key(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	return parse_key(value, p->cur->public_key, why, whylen);
}

static int set_preshared_key(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	return set_inline_secret(p, value, &p->cur->preshared_key, why, whylen);
}

static int set_endpoint(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;
	int rc = ntm_addr_parse(value, 0, &p->cur->endpoint, why, whylen);

	if (rc < 0 && value[0] != '[' && strspn(value, "0123456789.:") != strlen(value)) {
		/* Looks like a host name: say what is missing rather than a parse error. */
		return why_set(why, whylen, -EINVAL,
			       "host names are not supported yet; use a numeric address");
	}
	return rc;
}

static int add_allowed_ip(void *t, const char *item, char *why, size_t whylen)
{
	struct parse *p = t;
	struct ntm_prefix pf;
	int rc = ntm_prefix_parse(item, NTM_PREFIX_MASK_HOST, &pf, why, whylen);

	if (rc < 0) {
		return rc;
	}
	return push_prefix(&p->cur->allowed_ips, &p->cur->n_allowed_ips, &pf, why, whylen);
}

static int set_allowed_ips(void *t, const char *value, char *why, size_t whylen)
{
	return ntm_conf_split_list(value, add_allowed_ip, t, why, whylen);
}

static int set_keepalive(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;
	uint32_t v = 0;
	int rc;

	if (strcasecmp(value, "off") == 0) {
		p->cur->persistent_keepalive = 0;
		return 0;
	}
	rc = ntm_conf_parse_u32(value, 0, 65535, &v, why, whylen);
	p->cur->persistent_keepalive = (uint16_t)v;
	return rc;
}

static int check_peer(void *t, char *why, size_t whylen)
{
	struct parse *p = t;
	struct en_config *cfg = p->cfg;

	for (struct en_config_peer *q = cfg->peers; q < p->cur; q++) {
		if (sodium_memcmp(q->public_key, p->cur->public_key, NTM_WG_KEY_LEN) == 0) {
			return why_set(why, whylen, -EEXIST,
				       "the same PublicKey as an earlier peer");
		}
	}
	return 0;
}

/*
 * Name: an FQDN in letters, digits and hyphens, labels of 1..63 separated
 * by dots, at most EN_CONFIG_NAME_MAX bytes; one trailing dot is dropped.
 * Stored in lower case (the DC compares names that way).
 */
static int norm_name(const char *value, char out[EN_CONFIG_NAME_MAX + 1], char *why, size_t whylen)
{
	size_t len = strlen(value), label = 0;

	if (len > 0 && value[len - 1] == '.') {
		len--;
	}
	if (len == 0 || len > EN_CONFIG_NAME_MAX) {
		return why_set(why, whylen, -EINVAL, "not a host name of 1..253 characters");
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c == '.') {
			if (label == 0) {
				return why_set(why, whylen, -EINVAL, "empty label");
			}
			label = 0;
			out[i] = '.';
			continue;
		}
		if (!isalnum(c) && c != '-') {
			return why_set(why, whylen, -EINVAL,
				       "only letters, digits, '-' and '.' are allowed");
		}
		if (++label > 63) {
			return why_set(why, whylen, -EINVAL,
				       "a label is longer than 63 characters");
		}
		out[i] = (char)tolower(c);
	}
	if (label == 0) {
		return why_set(why, whylen, -EINVAL, "empty label");
	}
	out[len] = '\0';
	return 0;
}

static int set_name(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	return norm_name(value, p->cfg->name, why, whylen);
}

/* ---------------------------------------------------------------- [DNS] */

static int add_dns_listen(void *t, const char *item, char *why, size_t whylen)
{
	struct en_config_dns *d = &((struct parse *)t)->cfg->dns;
	struct ntm_addr a;
	int rc = ntm_addr_parse(item, 0, &a, why, whylen);

	if (rc < 0) {
		return rc;
	}
	for (size_t i = 0; i < d->n_listen; i++) {
		if (ntm_addr_equal(&d->listen[i], &a)) {
			return why_set(why, whylen, -EEXIST, "listed twice");
		}
	}
	if (d->n_listen >= EN_CONFIG_DNS_LISTEN_MAX) {
		return why_set(why, whylen, -E2BIG, "too many entries (at most 4)");
	}
	d->listen[d->n_listen++] = a;
	return 0;
}

static int set_dns_listen(void *t, const char *value, char *why, size_t whylen)
{
	return ntm_conf_split_list(value, add_dns_listen, t, why, whylen);
}

/* A resolver: "ip", "ip:port", "v6" or "[v6]:port" (c-ares' forms, numeric only). */
static int add_upstream(void *t, const char *item, char *why, size_t whylen)
{
	struct en_config_dns *d = &((struct parse *)t)->cfg->dns;
	unsigned char ip[16];
	struct ntm_addr a;

	if (strlen(item) >= EN_CONFIG_DNS_SERVER_MAX ||
	    (inet_pton(AF_INET, item, ip) != 1 && inet_pton(AF_INET6, item, ip) != 1 &&
	     ntm_addr_parse(item, 0, &a, NULL, 0) < 0)) {
		return why_set(why, whylen, -EINVAL,
			       "not a numeric resolver address (IP, IP:PORT or [IPv6]:PORT)");
	}
	if (d->n_upstream >= EN_CONFIG_DNS_UPSTREAM_MAX) {
		return why_set(why, whylen, -E2BIG, "too many entries (at most 8)");
	}
	snprintf(d->upstream[d->n_upstream++], EN_CONFIG_DNS_SERVER_MAX, "%s", item);
	return 0;
}

static int set_upstream(void *t, const char *value, char *why, size_t whylen)
{
	return ntm_conf_split_list(value, add_upstream, t, why, whylen);
}

static int add_domain(void *t, const char *item, char *why, size_t whylen)
{
	struct en_config_dns *d = &((struct parse *)t)->cfg->dns;
	char norm[EN_CONFIG_NAME_MAX + 1];
	int rc = norm_name(item, norm, why, whylen);

	if (rc < 0) {
		return rc;
	}
	for (size_t i = 0; i < d->n_domains; i++) {
		if (strcmp(d->domains[i], norm) == 0) {
			return why_set(why, whylen, -EEXIST, "listed twice");
		}
	}
	if (d->n_domains >= EN_CONFIG_DNS_DOMAINS_MAX) {
		return why_set(why, whylen, -E2BIG, "too many entries (at most 8)");
	}
	memcpy(d->domains[d->n_domains++], norm, sizeof(norm));
	return 0;
}

static int set_domains(void *t, const char *value, char *why, size_t whylen)
{
	return ntm_conf_split_list(value, add_domain, t, why, whylen);
}

static int set_register_resolved(void *t, const char *value, char *why, size_t whylen)
{
	static const char *const names[] = { "auto", "yes", "no" };
	struct en_config_dns *d = &((struct parse *)t)->cfg->dns;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(value, names[i]) == 0) {
			d->register_resolved = (enum en_config_resolved)i;
			return 0;
		}
	}
	return why_set(why, whylen, -EINVAL, "not auto, yes or no");
}

static int open_dns(void *ctx, void **target, char *why, size_t whylen)
{
	struct parse *p = ctx;

	(void)why;
	(void)whylen;
	p->cfg->has_dns = true;
	*target = p;
	return 0;
}

static int open_dc(void *ctx, void **target, char *why, size_t whylen)
{
	struct parse *p = ctx;

	(void)why;
	(void)whylen;
	p->cfg->has_dc = true;
	*target = p;
	return 0;
}

static int add_dc_endpoint(void *t, const char *item, char *why, size_t whylen)
{
	struct en_config_dc *dc = &((struct parse *)t)->cfg->dc;
	struct ntm_addr a;
	int rc = ntm_addr_parse(item, 0, &a, why, whylen);

	if (rc < 0) {
		return rc;
	}
	for (size_t i = 0; i < dc->n_endpoints; i++) {
		if (ntm_addr_equal(&dc->endpoints[i], &a)) {
			return why_set(why, whylen, -EEXIST, "listed twice");
		}
	}
	if (dc->n_endpoints >= EN_CONFIG_DC_ENDPOINTS_MAX) {
		return why_set(why, whylen, -E2BIG, "too many entries (at most 8)");
	}
	dc->endpoints[dc->n_endpoints++] = a;
	return 0;
}

static int set_dc_endpoint(void *t, const char *value, char *why, size_t whylen)
{
	return ntm_conf_split_list(value, add_dc_endpoint, t, why, whylen);
}

static int set_dc_public_key(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	return parse_key(value, p->cfg->dc.public_key, why, whylen);
}

/* The cache of known peers (peercache.h): a path, kept as given. */
static int set_dc_state_file(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	if (value[0] == '\0' || strlen(value) > EN_CONFIG_PATH_MAX) {
		return why_set(why, whylen, -EINVAL, "not a path of 1..4095 characters");
	}
	p->cfg->dc.state_file = ntm_strdup(value);
	return p->cfg->dc.state_file != NULL ? 0 : -ENOMEM;
}

/* A one-time enrolment token: a secret, so only from a private file, and never echoed. */
static int set_dc_token(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;
	size_t len = strlen(value);

	if (!ntm_conf_is_private(p->conf)) {
		return why_set(why, whylen, -EPERM,
			       "the file may be read by group or others (chmod 600 it)");
	}
	if (len == 0 || len > EN_CONFIG_TOKEN_MAX) {
		return why_set(why, whylen, -EINVAL, "not a token of 1..64 characters");
	}
	for (size_t i = 0; i < len; i++) {
		if (value[i] < 0x21 || value[i] > 0x7e) {
			return why_set(why, whylen, -EINVAL,
				       "a token is printable ASCII without spaces");
		}
	}
	p->cfg->dc.token = ntm_crypto_secure_alloc(EN_CONFIG_TOKEN_MAX + 1);
	if (p->cfg->dc.token == NULL) {
		return -ENOMEM;
	}
	memcpy(p->cfg->dc.token, value, len + 1);
	return 0;
}

static const struct ntm_conf_key_def interface_keys[] = {
	{ "PrivateKey", NTM_CONF_KEY_ONCE, set_private_key, false },
	{ "PrivateKeyFile", NTM_CONF_KEY_ONCE, set_private_key_file, false },
	{ "ListenPort", NTM_CONF_KEY_ONCE, set_listen_port, false },
	{ "Address", NTM_CONF_KEY_MULTI, set_address, false },
	{ "MTU", NTM_CONF_KEY_ONCE, set_mtu, false },
	{ "Name", NTM_CONF_KEY_ONCE, set_name, false },
	{ "DNS", NTM_CONF_KEY_IGNORED, NULL, false },
	{ "Table", NTM_CONF_KEY_IGNORED, NULL, false },
	{ "PreUp", NTM_CONF_KEY_IGNORED, NULL, false },
	{ "PostUp", NTM_CONF_KEY_IGNORED, NULL, false },
	{ "PreDown", NTM_CONF_KEY_IGNORED, NULL, false },
	{ "PostDown", NTM_CONF_KEY_IGNORED, NULL, false },
	{ "SaveConfig", NTM_CONF_KEY_IGNORED, NULL, false },
	{ "FwMark", NTM_CONF_KEY_IGNORED, NULL, false },
	{ NULL, 0, NULL, false },
};

static const struct ntm_conf_key_def peer_keys[] = {
	{ "PublicKey", NTM_CONF_KEY_ONCE, set_public_key, true },
	{ "PresharedKey", NTM_CONF_KEY_ONCE, set_preshared_key, false },
	{ "Endpoint", NTM_CONF_KEY_ONCE, set_endpoint, false },
	{ "AllowedIPs", NTM_CONF_KEY_MULTI, set_allowed_ips, false },
	{ "PersistentKeepalive", NTM_CONF_KEY_ONCE, set_keepalive, false },
	{ NULL, 0, NULL, false },
};

static const struct ntm_conf_key_def dns_keys[] = {
	{ "Listen", NTM_CONF_KEY_MULTI, set_dns_listen, false },
	{ "Upstream", NTM_CONF_KEY_MULTI, set_upstream, false },
	{ "Domains", NTM_CONF_KEY_MULTI, set_domains, false },
	{ "RegisterResolved", NTM_CONF_KEY_ONCE, set_register_resolved, false },
	{ NULL, 0, NULL, false },
};

static const struct ntm_conf_key_def dc_keys[] = {
	{ "Endpoint", NTM_CONF_KEY_MULTI, set_dc_endpoint, true },
	{ "PublicKey", NTM_CONF_KEY_ONCE, set_dc_public_key, true },
	{ "Token", NTM_CONF_KEY_ONCE, set_dc_token, false },
	{ "StateFile", NTM_CONF_KEY_ONCE, set_dc_state_file, false },
	{ NULL, 0, NULL, false },
};

/* After the whole file: the own key must differ from every peer's (wg refuses that too). */
static int check_all(struct parse *p, struct ntm_conf_err *err)
{
	uint8_t pub[NTM_WG_KEY_LEN];
	const struct en_config *cfg = p->cfg;

	if (ntm_crypto_dh_public(pub, cfg->private_key) < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s: PrivateKey is not a usable key",
			 ntm_conf_name(p->conf));
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		if (sodium_memcmp(pub, cfg->peers[i].public_key, sizeof(pub)) == 0) {
			err->line = cfg->peers[i].line;
			snprintf(err->msg, sizeof(err->msg),
				 "%s:%u: [Peer]: PublicKey is the interface's own key",
				 ntm_conf_name(p->conf), cfg->peers[i].line);
			return -EINVAL;
		}
	}
	if (cfg->has_dc && cfg->name[0] == '\0') {
		err->line = cfg->dc.line;
		snprintf(err->msg, sizeof(err->msg),
			 "%s:%u: [DC]: Name (the node's FQDN) is required in [Interface]",
			 ntm_conf_name(p->conf), cfg->dc.line);
		return -EINVAL;
	}
	return 0;
}

/* The line of each [Peer] and [DC] header, for later messages ("peer at line 12"). */
static void note_section_lines(const struct ntm_conf *conf, struct en_config *cfg)
{
	size_t k = 0;

	for (size_t i = 0; i < ntm_conf_section_count(conf); i++) {
		const struct ntm_conf_section *s = ntm_conf_section_at(conf, i);

		if (strcasecmp(ntm_conf_section_name(s), "Peer") == 0 && k < cfg->n_peers) {
			cfg->peers[k++].line = ntm_conf_section_line(s);
		} else if (strcasecmp(ntm_conf_section_name(s), "DC") == 0) {
			cfg->dc.line = ntm_conf_section_line(s);
		}
	}
}

int en_config_from_conf(const struct ntm_conf *conf, struct en_config **out,
			struct ntm_conf_err *err)
{
	struct parse p = { .conf = conf };
	const struct ntm_conf_section_def sections[] = {
		{ .name = "Interface",
		  .keys = interface_keys,
		  .flags = NTM_CONF_SECTION_REQUIRED,
		  .target = &p,
		  .check = check_interface },
		{ .name = "Peer",
		  .keys = peer_keys,
		  .flags = NTM_CONF_SECTION_REPEAT,
		  .open = open_peer,
		  .ctx = &p,
		  .check = check_peer },
		{ .name = "DC", .keys = dc_keys, .open = open_dc, .ctx = &p },
		{ .name = "DNS", .keys = dns_keys, .open = open_dns, .ctx = &p },
		{ .name = NULL },
	};
	const struct ntm_conf_schema schema = { .sections = sections };
	int rc;

	*out = NULL;
	p.cfg = ntm_calloc(1, sizeof(*p.cfg));
	if (p.cfg == NULL) {
		snprintf(err->msg, sizeof(err->msg), "%s: out of memory", ntm_conf_name(conf));
		return -ENOMEM;
	}
	p.cfg->mtu = EN_CONFIG_MTU_DEFAULT;
	rc = ntm_conf_apply(conf, &schema, err);
	if (rc == 0) {
		note_section_lines(conf, p.cfg);
		rc = check_all(&p, err);
	}
	if (rc < 0) {
		en_config_destroy(p.cfg);
		return rc;
	}
	*out = p.cfg;
	return 0;
}

int en_config_load(const char *path, struct en_config **out, struct ntm_conf_err *err)
{
	struct ntm_conf *conf;
	int rc;

	*out = NULL;
	rc = ntm_conf_load(path, &conf, err);
	if (rc < 0) {
		return rc;
	}
	rc = en_config_from_conf(conf, out, err);
	ntm_conf_destroy(conf);
	return rc;
}

void en_config_destroy(struct en_config *cfg)
{
	if (cfg == NULL) {
		return;
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		ntm_crypto_secure_free(cfg->peers[i].preshared_key);
		ntm_free(cfg->peers[i].allowed_ips);
	}
	ntm_free(cfg->peers);
	ntm_free(cfg->addresses);
	ntm_crypto_secure_free(cfg->dc.token);
	ntm_free(cfg->dc.state_file);
	ntm_crypto_secure_free(cfg->private_key);
	ntm_free(cfg);
}
