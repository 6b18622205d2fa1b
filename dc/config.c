/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/crypto.h"
#include "dc/pool.h"

/*
 * The schema of ntm-dc.conf on top of common/conf.h. Every setter gets the
 * one parse state below: the record being filled, the conf (for the privacy
 * check of an inline key) and the [Federation] occurrence being applied.
 */
struct parse {
	struct dc_config *cfg;
	const struct ntm_conf *conf;
	struct dc_federation *cur;
	struct dc_addr_list *list; /* the list an address item goes to */
	bool key_inline;
	bool key_file;
	bool unsigned_zone; /* ZoneKey = none */
};

static int set_domain(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	return dc_fqdn_normalize(value, 0, p->cfg->domain, why, whylen);
}

static int set_private_key(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	p->key_inline = true;
	return ntm_conf_private_key(p->conf, &p->cfg->private_key, value, false, why, whylen);
}

static int set_private_key_file(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	p->key_file = true;
	return ntm_conf_private_key(p->conf, &p->cfg->private_key, value, true, why, whylen);
}

static int add_addr(void *t, const char *item, char *why, size_t whylen)
{
	struct dc_addr_list *l = ((struct parse *)t)->list;

	return ntm_conf_addr_list_add(l->addrs, &l->n, DC_CONFIG_ADDRS_MAX, item, why, whylen);
}

static int set_addrs(struct parse *p, struct dc_addr_list *l, const char *value, char *why,
		     size_t whylen)
{
	p->list = l;
	return ntm_conf_split_list(value, add_addr, p, why, whylen);
}

static int set_listen(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	return set_addrs(p, &p->cfg->listen, value, why, whylen);
}

static int set_alt_listen(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	return set_addrs(p, &p->cfg->alt_listen, value, why, whylen);
}

static int set_dns_listen(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	return set_addrs(p, &p->cfg->dns_listen, value, why, whylen);
}

static int set_pool(struct ntm_prefix *pf, int family, const char *value, char *why, size_t whylen)
{
	struct dc_pool pool;
	int rc = ntm_prefix_parse(value, 0, pf, why, whylen);

	if (rc == 0 && pf->family != family) {
		rc = ntm_conf_fail(why, whylen, -EINVAL,
				   family == AF_INET ? "not an IPv4 prefix" : "not an IPv6 prefix");
	}
	if (rc == 0) {
		rc = dc_pool_init(&pool, pf, why, whylen);
	}
	return rc;
}

static int set_pool4(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	return set_pool(&p->cfg->pool4, AF_INET, value, why, whylen);
}

static int set_pool6(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	return set_pool(&p->cfg->pool6, AF_INET6, value, why, whylen);
}

static int set_path(char **dst, const char *value, char *why, size_t whylen)
{
	char *copy;

	if (value[0] != '/') {
		return ntm_conf_fail(why, whylen, -EINVAL, "must be an absolute path");
	}
	if (strlen(value) > DC_CONFIG_PATH_MAX) {
		return ntm_conf_fail(why, whylen, -ENAMETOOLONG, "path too long");
	}
	copy = ntm_strdup(value);
	if (copy == NULL) {
		return -ENOMEM;
	}
	ntm_free(*dst);
	*dst = copy;
	return 0;
}

static int set_database(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	return set_path(&p->cfg->database, value, why, whylen);
}

static int set_zone_key(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	p->unsigned_zone = strcasecmp(value, "none") == 0;
	return p->unsigned_zone ? 0 : set_path(&p->cfg->zone_key, value, why, whylen);
}

/* ZoneKey's default: zone-DOMAIN.key beside the Database. */
static int default_zone_key(struct dc_config *cfg)
{
	const char *slash = strrchr(cfg->database, '/');
	int dir = (int)(slash - cfg->database);
	int n = snprintf(NULL, 0, "%.*s/" DC_CONFIG_ZONE_KEY_DEFAULT, dir, cfg->database,
			 cfg->domain);

	cfg->zone_key = ntm_malloc((size_t)n + 1);
	if (cfg->zone_key == NULL) {
		return -ENOMEM;
	}
	snprintf(cfg->zone_key, (size_t)n + 1, "%.*s/" DC_CONFIG_ZONE_KEY_DEFAULT, dir,
		 cfg->database, cfg->domain);
	return 0;
}

static int set_keepalive(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	return ntm_conf_parse_u32(value, DC_CONFIG_KEEPALIVE_MIN, DC_CONFIG_KEEPALIVE_MAX,
				  &p->cfg->keepalive, why, whylen);
}

static int set_max_sessions(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	return ntm_conf_parse_u32(value, DC_CONFIG_MAX_SESSIONS_MIN, DC_CONFIG_MAX_SESSIONS_MAX,
				  &p->cfg->max_sessions, why, whylen);
}

/* A group name, or a number for a group that has none. */
static int set_group(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;
	int rc = ntm_conf_parse_group(value, &p->cfg->group, why, whylen);

	p->cfg->has_group = rc == 0;
	return rc;
}

static int check_dc(void *t, char *why, size_t whylen)
{
	struct parse *p = t;
	const struct dc_config *cfg = p->cfg;

	if (p->key_inline && p->key_file) {
		return ntm_conf_fail(why, whylen, -EINVAL,
				     "PrivateKey and PrivateKeyFile exclude each other");
	}
	if (!p->key_inline && !p->key_file) {
		return ntm_conf_fail(why, whylen, -EINVAL,
				     "PrivateKey or PrivateKeyFile is required");
	}
	for (size_t i = 0; i < cfg->alt_listen.n; i++) {
		for (size_t j = 0; j < cfg->listen.n; j++) {
			if (ntm_addr_equal(&cfg->alt_listen.addrs[i], &cfg->listen.addrs[j])) {
				return ntm_conf_fail(
					why, whylen, -EINVAL,
					"an AltListen address is also a Listen address");
			}
		}
	}
	return 0;
}

static int open_federation(void *ctx, void **target, char *why, size_t whylen)
{
	struct parse *p = ctx;
	struct dc_config *cfg = p->cfg;
	struct dc_federation *grown;

	if (cfg->n_federation >= DC_CONFIG_FEDERATION_MAX) {
		return ntm_conf_fail(why, whylen, -E2BIG, "too many [Federation] sections");
	}
	grown = ntm_realloc(cfg->federation, (cfg->n_federation + 1) * sizeof(*grown));
	if (grown == NULL) {
		return -ENOMEM;
	}
	cfg->federation = grown;
	p->cur = &grown[cfg->n_federation++];
	memset(p->cur, 0, sizeof(*p->cur));
	*target = p;
	return 0;
}

static int set_fed_domain(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	return dc_fqdn_normalize(value, 0, p->cur->domain, why, whylen);
}

static int set_fed_key(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	if (ntm_key_from_base64(&p->cur->public_key, value, strlen(value)) < 0) {
		return ntm_conf_fail(why, whylen, -EINVAL,
				     "not a base64 key of 32 bytes (44 characters)");
	}
	p->cur->has_key = true;
	return 0;
}

static int set_fed_endpoint(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	return set_addrs(p, &p->cur->endpoints, value, why, whylen);
}

static int set_fed_allow(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	if (p->cur->n_allow >= DC_FEDPOLICY_RULES_MAX) {
		return ntm_conf_fail(why, whylen, -E2BIG, "too many Allow lines");
	}
	return dc_fedrule_parse(value, &p->cur->allow[p->cur->n_allow++], why, whylen);
}

static int check_federation(void *t, char *why, size_t whylen)
{
	struct parse *p = t;

	for (const struct dc_federation *f = p->cfg->federation; f < p->cur; f++) {
		if (strcmp(f->domain, p->cur->domain) == 0) {
			return ntm_conf_fail(why, whylen, -EEXIST,
					     "the same Domain as an earlier section");
		}
	}
	return 0;
}

static const struct ntm_conf_key_def dc_keys[] = {
	{ "Domain", NTM_CONF_KEY_ONCE, set_domain, true },
	{ "PrivateKey", NTM_CONF_KEY_ONCE, set_private_key, false },
	{ "PrivateKeyFile", NTM_CONF_KEY_ONCE, set_private_key_file, false },
	{ "Listen", NTM_CONF_KEY_MULTI, set_listen, true },
	{ "AltListen", NTM_CONF_KEY_MULTI, set_alt_listen, false },
	{ "Pool4", NTM_CONF_KEY_ONCE, set_pool4, true },
	{ "Pool6", NTM_CONF_KEY_ONCE, set_pool6, false },
	{ "Database", NTM_CONF_KEY_ONCE, set_database, false },
	{ "KeepaliveInterval", NTM_CONF_KEY_ONCE, set_keepalive, false },
	{ "ControlGroup", NTM_CONF_KEY_ONCE, set_group, false },
	{ "MaxSessions", NTM_CONF_KEY_ONCE, set_max_sessions, false },
	{ NULL, 0, NULL, false },
};

static const struct ntm_conf_key_def dns_keys[] = {
	{ "Listen", NTM_CONF_KEY_MULTI, set_dns_listen, false },
	{ "ZoneKey", NTM_CONF_KEY_ONCE, set_zone_key, false },
	{ NULL, 0, NULL, false },
};

static const struct ntm_conf_key_def federation_keys[] = {
	{ "Domain", NTM_CONF_KEY_ONCE, set_fed_domain, true },
	{ "PublicKey", NTM_CONF_KEY_ONCE, set_fed_key, false },
	{ "Endpoint", NTM_CONF_KEY_MULTI, set_fed_endpoint, false },
	{ "Allow", NTM_CONF_KEY_MULTI, set_fed_allow, false },
	{ NULL, 0, NULL, false },
};

/* After the whole file: checks that need [DC] and [Federation] together. */
static int check_all(const struct ntm_conf *conf, struct dc_config *cfg, struct ntm_conf_err *err)
{
	size_t k = 0;

	for (size_t i = 0; i < ntm_conf_section_count(conf) && k < cfg->n_federation; i++) {
		const struct ntm_conf_section *s = ntm_conf_section_at(conf, i);

		if (strcasecmp(ntm_conf_section_name(s), "Federation") == 0) {
			cfg->federation[k++].line = ntm_conf_section_line(s);
		}
	}
	for (size_t i = 0; i < cfg->n_federation; i++) {
		if (strcmp(cfg->federation[i].domain, cfg->domain) == 0) {
			err->line = cfg->federation[i].line;
			snprintf(err->msg, sizeof(err->msg),
				 "%s:%u: [Federation]: Domain is this DC's own domain",
				 ntm_conf_name(conf), err->line);
			return -EINVAL;
		}
	}
	return 0;
}

int dc_config_from_conf(const struct ntm_conf *conf, struct dc_config **out,
			struct ntm_conf_err *err)
{
	struct parse p = { .conf = conf };
	const struct ntm_conf_section_def sections[] = {
		{ .name = "DC",
		  .keys = dc_keys,
		  .flags = NTM_CONF_SECTION_REQUIRED,
		  .target = &p,
		  .check = check_dc },
		{ .name = "DNS", .keys = dns_keys, .target = &p },
		{ .name = "Federation",
		  .keys = federation_keys,
		  .flags = NTM_CONF_SECTION_REPEAT,
		  .open = open_federation,
		  .ctx = &p,
		  .check = check_federation },
		{ .name = NULL },
	};
	const struct ntm_conf_schema schema = { .sections = sections };
	int rc;

	*out = NULL;
	p.cfg = ntm_conf_alloc_config(conf, sizeof(*p.cfg), err);
	if (p.cfg == NULL) {
		return -ENOMEM;
	}
	p.cfg->keepalive = DC_CONFIG_KEEPALIVE_DEFAULT;
	p.cfg->max_sessions = DC_CONFIG_MAX_SESSIONS_DEFAULT;
	rc = ntm_conf_apply(conf, &schema, err);
	if (rc == 0) {
		rc = check_all(conf, p.cfg, err);
	}
	if (rc == 0 && p.cfg->database == NULL) {
		p.cfg->database = ntm_strdup(DC_CONFIG_DATABASE_DEFAULT);
		if (p.cfg->database == NULL) {
			snprintf(err->msg, sizeof(err->msg), "%s: out of memory",
				 ntm_conf_name(conf));
			rc = -ENOMEM;
		}
	}
	if (rc == 0 && !p.unsigned_zone && p.cfg->zone_key == NULL && default_zone_key(p.cfg) < 0) {
		snprintf(err->msg, sizeof(err->msg), "%s: out of memory", ntm_conf_name(conf));
		rc = -ENOMEM;
	}
	if (rc < 0) {
		dc_config_destroy(p.cfg);
		return rc;
	}
	*out = p.cfg;
	return 0;
}

static int build(void *ctx, const struct ntm_conf *conf, struct ntm_conf_err *err)
{
	return dc_config_from_conf(conf, ctx, err);
}

int dc_config_load(const char *path, struct dc_config **out, struct ntm_conf_err *err)
{
	*out = NULL;
	return ntm_conf_load_build(path, build, out, err);
}

void dc_config_destroy(struct dc_config *cfg)
{
	if (cfg == NULL) {
		return;
	}
	ntm_crypto_secure_free(cfg->private_key);
	ntm_free(cfg->federation);
	ntm_free(cfg->database);
	ntm_free(cfg->zone_key);
	ntm_free(cfg);
}
