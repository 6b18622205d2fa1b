/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/crypto.h"

/* The parse state every setter gets. */
struct parse {
	struct rs_config *cfg;
	const struct ntm_conf *conf;
	struct ntm_addr *list; /* where an address item goes */
	size_t *n;
	size_t max;
	bool key_inline, key_file;
};

static int set_key(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	p->key_inline = true;
	return ntm_conf_private_key(p->conf, &p->cfg->private_key, value, false, why, whylen);
}

static int set_key_file(void *t, const char *value, char *why, size_t whylen)
{
	struct parse *p = t;

	p->key_file = true;
	return ntm_conf_private_key(p->conf, &p->cfg->private_key, value, true, why, whylen);
}

static int add_item(void *t, const char *item, char *why, size_t whylen)
{
	struct parse *p = t;

	return ntm_conf_addr_list_add(p->list, p->n, p->max, item, why, whylen);
}

static int add_list(struct parse *p, struct ntm_addr *list, size_t *n, size_t max,
		    const char *value, char *why, size_t whylen)
{
	p->list = list;
	p->n = n;
	p->max = max;
	return ntm_conf_split_list(value, add_item, p, why, whylen);
}

static int set_listen(void *t, const char *value, char *why, size_t whylen)
{
	struct rs_config *c = ((struct parse *)t)->cfg;

	return add_list(t, c->listen, &c->n_listen, RS_CONFIG_ADDRS_MAX, value, why, whylen);
}

static int set_address(void *t, const char *value, char *why, size_t whylen)
{
	struct rs_config *c = ((struct parse *)t)->cfg;

	return add_list(t, c->address, &c->n_address, RS_CONFIG_ADDRS_MAX, value, why, whylen);
}

static int set_endpoint(void *t, const char *value, char *why, size_t whylen)
{
	struct rs_config *c = ((struct parse *)t)->cfg;

	return add_list(t, c->dc_endpoints, &c->n_dc_endpoints, RS_CONFIG_DC_ENDPOINTS_MAX, value,
			why, whylen);
}

static int set_sessions(void *t, const char *value, char *why, size_t whylen)
{
	return ntm_conf_parse_u32(value, 1, RS_CONFIG_SESSIONS_MAX,
				  &((struct parse *)t)->cfg->sessions, why, whylen);
}

static int set_idle(void *t, const char *value, char *why, size_t whylen)
{
	return ntm_conf_parse_u32(value, RS_CONFIG_IDLE_MIN, RS_CONFIG_IDLE_MAX,
				  &((struct parse *)t)->cfg->idle_s, why, whylen);
}

static int set_rate(void *t, const char *value, char *why, size_t whylen)
{
	return ntm_conf_parse_u32(value, 0, RS_CONFIG_RATE_MAX,
				  &((struct parse *)t)->cfg->rate_kbit, why, whylen);
}

static int set_group(void *t, const char *value, char *why, size_t whylen)
{
	struct rs_config *c = ((struct parse *)t)->cfg;
	int rc = ntm_conf_parse_group(value, &c->group, why, whylen);

	c->has_group = rc == 0;
	return rc;
}

static int set_dc_key(void *t, const char *value, char *why, size_t whylen)
{
	struct rs_config *c = ((struct parse *)t)->cfg;

	if (ntm_key_from_base64(&c->dc_public_key, value, strlen(value)) < 0) {
		return ntm_conf_fail(why, whylen, -EINVAL,
				     "not a base64 key of 32 bytes (44 characters)");
	}
	return 0;
}

static bool is_wildcard(const struct ntm_addr *a)
{
	if (a->sa.sa_family == AF_INET) {
		return a->sin.sin_addr.s_addr == htonl(INADDR_ANY);
	}
	return IN6_IS_ADDR_UNSPECIFIED(&a->sin6.sin6_addr);
}

static int check_rs(void *t, char *why, size_t whylen)
{
	struct parse *p = t;
	struct rs_config *c = p->cfg;

	if (p->key_inline == p->key_file) {
		return ntm_conf_fail(why, whylen, -EINVAL,
				     p->key_inline
					     ? "PrivateKey and PrivateKeyFile exclude each other"
					     : "PrivateKey or PrivateKeyFile is required");
	}
	if (c->n_address > 0) {
		return 0;
	}
	for (size_t i = 0; i < c->n_listen; i++) {
		if (is_wildcard(&c->listen[i]) || ntm_addr_port(&c->listen[i]) == 0) {
			return ntm_conf_fail(
				why, whylen, -EINVAL,
				"a Listen address is a wildcard or has port 0: name the "
				"addresses nodes reach with Address");
		}
		c->address[c->n_address++] = c->listen[i];
	}
	return 0;
}

static const struct ntm_conf_key_def rs_keys[] = {
	{ "PrivateKey", NTM_CONF_KEY_ONCE, set_key, false },
	{ "PrivateKeyFile", NTM_CONF_KEY_ONCE, set_key_file, false },
	{ "Listen", NTM_CONF_KEY_MULTI, set_listen, true },
	{ "Address", NTM_CONF_KEY_MULTI, set_address, false },
	{ "Sessions", NTM_CONF_KEY_ONCE, set_sessions, false },
	{ "IdleTimeout", NTM_CONF_KEY_ONCE, set_idle, false },
	{ "SessionRate", NTM_CONF_KEY_ONCE, set_rate, false },
	{ "ControlGroup", NTM_CONF_KEY_ONCE, set_group, false },
	{ NULL, 0, NULL, false },
};

static const struct ntm_conf_key_def dc_keys[] = {
	{ "Endpoint", NTM_CONF_KEY_MULTI, set_endpoint, true },
	{ "PublicKey", NTM_CONF_KEY_ONCE, set_dc_key, true },
	{ NULL, 0, NULL, false },
};

int rs_config_from_conf(const struct ntm_conf *conf, struct rs_config **out,
			struct ntm_conf_err *err)
{
	struct parse p = { .conf = conf };
	const struct ntm_conf_section_def sections[] = {
		{ .name = "RS",
		  .keys = rs_keys,
		  .flags = NTM_CONF_SECTION_REQUIRED,
		  .target = &p,
		  .check = check_rs },
		{ .name = "DC", .keys = dc_keys, .flags = NTM_CONF_SECTION_REQUIRED, .target = &p },
		{ .name = NULL },
	};
	const struct ntm_conf_schema schema = { .sections = sections };
	int rc;

	*out = NULL;
	p.cfg = ntm_conf_alloc_config(conf, sizeof(*p.cfg), err);
	if (p.cfg == NULL) {
		return -ENOMEM;
	}
	p.cfg->sessions = RS_CONFIG_SESSIONS_DEFAULT;
	p.cfg->idle_s = RS_CONFIG_IDLE_DEFAULT;
	p.cfg->rate_kbit = RS_CONFIG_RATE_DEFAULT;
	rc = ntm_conf_apply(conf, &schema, err);
	if (rc < 0) {
		rs_config_destroy(p.cfg);
		return rc;
	}
	*out = p.cfg;
	return 0;
}

static int build(void *ctx, const struct ntm_conf *conf, struct ntm_conf_err *err)
{
	return rs_config_from_conf(conf, ctx, err);
}

int rs_config_load(const char *path, struct rs_config **out, struct ntm_conf_err *err)
{
	*out = NULL;
	return ntm_conf_load_build(path, build, out, err);
}

void rs_config_destroy(struct rs_config *cfg)
{
	if (cfg == NULL) {
		return;
	}
	ntm_crypto_secure_free(cfg->private_key);
	ntm_key_wipe(&cfg->dc_public_key);
	ntm_free(cfg);
}
