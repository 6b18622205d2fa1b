/* SPDX-License-Identifier: MIT */
/*
 * ntm-agent.conf: the schema of ntm_conf_apply() and the checks across keys.
 * Arrays are allocated at their limit up front, so that a pointer handed to
 * the section's setters stays valid while later sections are read.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "recipe/agent/config.h"

static int why_set(char *why, size_t whylen, int rc, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return rc;
}

/* An FQDN as the recipe language accepts it, stored in lower case. */
static int set_fqdn(char dst[RCP_FQDN_MAX + 1], const char *value, char *why, size_t whylen)
{
	char ref[RCP_FQDN_MAX + 3];
	size_t n = strlen(value);

	if (n > RCP_FQDN_MAX || strchr(value, '/') != NULL) {
		return why_set(why, whylen, -EINVAL, "not a fully qualified domain name");
	}
	snprintf(ref, sizeof(ref), "%s/x", value);
	if (!rcp_is_resource_ref(ref, n + 2)) {
		return why_set(why, whylen, -EINVAL, "not a fully qualified domain name");
	}
	for (size_t i = 0; i <= n; i++) {
		char ch = value[i];

		dst[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	return 0;
}

static int set_str(char **dst, const char *value, char *why, size_t whylen)
{
	if (value[0] == '\0') {
		return why_set(why, whylen, -EINVAL, "empty");
	}
	*dst = ntm_strdup(value);
	return *dst == NULL ? -ENOMEM : 0;
}

/* ---------------------------------------------------------------- [Agent] */

static int set_name(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_agent_config *cfg = t;

	return set_fqdn(cfg->fqdn, value, why, whylen);
}

static int set_listen(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_agent_config *cfg = t;

	return ntm_addr_parse(value, 0, &cfg->listen, why, whylen);
}

static int set_database(void *t, const char *value, char *why, size_t whylen)
{
	return set_str(&((struct rcp_agent_config *)t)->database, value, why, whylen);
}

static int set_recipes(void *t, const char *value, char *why, size_t whylen)
{
	return set_str(&((struct rcp_agent_config *)t)->recipes, value, why, whylen);
}

static int set_policy(void *t, const char *value, char *why, size_t whylen)
{
	return set_str(&((struct rcp_agent_config *)t)->policy, value, why, whylen);
}

static int set_node_socket(void *t, const char *value, char *why, size_t whylen)
{
	return set_str(&((struct rcp_agent_config *)t)->node_socket, value, why, whylen);
}

/* The FQDN of the only sender that may install recipes (install.c). */
static int set_recipe_server(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_agent_config *cfg = t;
	size_t n = strlen(value);

	for (size_t i = 0; i < n; i++) {
		char c = value[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '.')) {
			snprintf(why, whylen, "RecipeServer: expected an FQDN");
			return -EINVAL;
		}
	}
	if (n == 0 || n > RCP_FQDN_MAX) {
		snprintf(why, whylen, "RecipeServer: expected an FQDN");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		cfg->recipe_server[i] = (value[i] >= 'A' && value[i] <= 'Z')
						? (char)(value[i] - 'A' + 'a')
						: value[i];
	}
	cfg->recipe_server[n] = '\0';
	return 0;
}

static int set_poll(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_agent_config *cfg = t;

	return ntm_conf_parse_u32(value, 10, 3600000, &cfg->poll_ms, why, whylen);
}

static int set_policy_fetch(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_agent_config *cfg = t;

	return ntm_conf_parse_u32(value, 50, 60000, &cfg->policy_fetch_ms, why, whylen);
}

static int set_deadline(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_agent_config *cfg = t;

	return ntm_conf_parse_u32(value, 1, 86400, &cfg->deadline_s, why, whylen);
}

static int set_retention(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_agent_config *cfg = t;

	return ntm_conf_parse_u32(value, RCP_AGENT_RETENTION_MIN_S, 3650 * 86400, &cfg->retention_s,
				  why, whylen);
}

/* ---------------------------------------------------------- [Sensor]/[Action] */

static bool is_segment(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > RCP_PATH_MAX || s[0] == '.') {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '~' || c == '-')) {
			return false;
		}
	}
	return true;
}

static int set_point_name(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_point_conf *p = t;

	if (!is_segment(value)) {
		return why_set(why, whylen, -EINVAL,
			       "one path segment of letters, digits and _ . ~ - (not starting "
			       "with a dot)");
	}
	return set_str(&p->name, value, why, whylen);
}

static int set_type(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_point_conf *p = t;

	if (strcasecmp(value, "number") == 0) {
		p->type = RCP_POINT_NUMBER;
	} else if (strcasecmp(value, "boolean") == 0) {
		p->type = RCP_POINT_BOOLEAN;
	} else if (strcasecmp(value, "enum") == 0) {
		p->type = RCP_POINT_ENUM;
	} else {
		return why_set(why, whylen, -EINVAL, "number, boolean or enum");
	}
	return 0;
}

static int add_value(void *ctx, const char *item, char *why, size_t whylen)
{
	struct rcp_point_conf *p = ctx;

	if (p->n_values == RCP_AGENT_VALUES_MAX) {
		return why_set(why, whylen, -E2BIG, "too many words");
	}
	if (!rcp_is_ident(item, strlen(item)) || rcp_is_keyword(item, strlen(item))) {
		return why_set(why, whylen, -EINVAL,
			       "a word is not an identifier of the recipe language");
	}
	p->values[p->n_values] = ntm_strdup(item);
	if (p->values[p->n_values] == NULL) {
		return -ENOMEM;
	}
	p->n_values++;
	return 0;
}

static int set_values(void *t, const char *value, char *why, size_t whylen)
{
	return ntm_conf_split_list(value, add_value, t, why, whylen);
}

static int set_driver(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_point_conf *p = t;

	if (strcasecmp(value, "simulated") == 0) {
		p->driver = RCP_DRIVER_SIMULATED;
	} else if (strcasecmp(value, "command") == 0) {
		p->driver = RCP_DRIVER_COMMAND;
	} else {
		return why_set(why, whylen, -EINVAL, "simulated or command");
	}
	return 0;
}

static int set_state(void *t, const char *value, char *why, size_t whylen)
{
	return set_str(&((struct rcp_point_conf *)t)->state, value, why, whylen);
}

/*
 * "/usr/lib/ntm/thermo --bus 1": words separated by blanks, no quoting and
 * no shell; the first is an absolute path.
 */
static int set_program(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_point_conf *p = t;
	size_t n = 0;

	if (value[0] != '/') {
		return why_set(why, whylen, -EINVAL, "an absolute path");
	}
	for (const char *s = value; *s != '\0';) {
		size_t len = strcspn(s, " \t");

		if (len == 0) {
			s++;
			continue;
		}
		if (n == RCP_AGENT_ARGS_MAX) {
			return why_set(why, whylen, -E2BIG, "more than 16 words");
		}
		p->argv[n] = ntm_strndup(s, len);
		if (p->argv[n++] == NULL) {
			return -ENOMEM;
		}
		s += len;
	}
	return set_str(&p->program, value, why, whylen);
}

static int set_timeout(void *t, const char *value, char *why, size_t whylen)
{
	return ntm_conf_parse_u32(value, 1, 3600, &((struct rcp_point_conf *)t)->timeout_s, why,
				  whylen);
}

static int open_point(struct rcp_agent_config *cfg, enum rcp_point_kind kind, void **target,
		      char *why, size_t whylen)
{
	struct rcp_point_conf *p;

	if (cfg->n_points == RCP_AGENT_POINTS_MAX) {
		return why_set(why, whylen, -E2BIG, "too many [Sensor] and [Action] sections");
	}
	p = &cfg->points[cfg->n_points++];
	p->kind = kind;
	p->timeout_s = RCP_AGENT_TIMEOUT_DEFAULT_S;
	*target = p;
	return 0;
}

static int open_sensor(void *ctx, void **target, char *why, size_t whylen)
{
	return open_point(ctx, RCP_POINT_SENSOR, target, why, whylen);
}

static int open_action(void *ctx, void **target, char *why, size_t whylen)
{
	return open_point(ctx, RCP_POINT_ACTION, target, why, whylen);
}

static int check_point(void *t, char *why, size_t whylen)
{
	struct rcp_point_conf *p = t;

	if ((p->type == RCP_POINT_ENUM) != (p->n_values > 0)) {
		return why_set(why, whylen, -EINVAL,
			       "Values is required with Type = enum, and only there");
	}
	if (p->driver == RCP_DRIVER_SIMULATED && (p->state == NULL || p->program != NULL)) {
		return why_set(why, whylen, -EINVAL,
			       "Driver = simulated needs State and no Program");
	}
	if (p->driver == RCP_DRIVER_COMMAND && (p->program == NULL || p->state != NULL)) {
		return why_set(why, whylen, -EINVAL, "Driver = command needs Program and no State");
	}
	return 0;
}

/* ---------------------------------------------------------------- [Peer] */

static int set_device(void *t, const char *value, char *why, size_t whylen)
{
	return set_fqdn(((struct rcp_peer_conf *)t)->fqdn, value, why, whylen);
}

/*
 * "198.51.100.7:5684" or "[2001:db8::7]:5684", or an address alone
 * ("198.51.100.7", "2001:db8::7") for CoAP's default port.
 */
static int set_address(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_peer_conf *p = t;
	char buf[NTM_ADDR_STRLEN + 8];

	if (ntm_addr_parse(value, 0, &p->addr, NULL, 0) == 0) {
		return 0;
	}
	if (strlen(value) >= INET6_ADDRSTRLEN || value[0] == '[') {
		return why_set(why, whylen, -EINVAL, "not an IP address");
	}
	snprintf(buf, sizeof(buf), strchr(value, ':') != NULL ? "[%s]:%d" : "%s:%d", value,
		 RCP_AGENT_COAP_PORT);
	return ntm_addr_parse(buf, 0, &p->addr, why, whylen);
}

static int set_peer_deadline(void *t, const char *value, char *why, size_t whylen)
{
	return ntm_conf_parse_u32(value, 1, 86400, &((struct rcp_peer_conf *)t)->deadline_s, why,
				  whylen);
}

static int open_peer(void *ctx, void **target, char *why, size_t whylen)
{
	struct rcp_agent_config *cfg = ctx;

	if (cfg->n_peers == RCP_AGENT_PEERS_MAX) {
		return why_set(why, whylen, -E2BIG, "too many [Peer] sections");
	}
	cfg->peers[cfg->n_peers].line = 0;
	cfg->peers[cfg->n_peers].deadline_s = 0;
	*target = &cfg->peers[cfg->n_peers++];
	return 0;
}

static const struct ntm_conf_key_def agent_keys[] = {
	{ "Name", NTM_CONF_KEY_ONCE, set_name, true },
	{ "Listen", NTM_CONF_KEY_ONCE, set_listen, true },
	{ "Database", NTM_CONF_KEY_ONCE, set_database, true },
	{ "Recipes", NTM_CONF_KEY_ONCE, set_recipes, false },
	{ "Policy", NTM_CONF_KEY_ONCE, set_policy, false },
	{ "NodeSocket", NTM_CONF_KEY_ONCE, set_node_socket, false },
	{ "RecipeServer", NTM_CONF_KEY_ONCE, set_recipe_server, false },
	{ "PollInterval", NTM_CONF_KEY_ONCE, set_poll, false },
	{ "ActionDeadline", NTM_CONF_KEY_ONCE, set_deadline, false },
	{ "KeyRetention", NTM_CONF_KEY_ONCE, set_retention, false },
	{ "PolicyFetchTimeout", NTM_CONF_KEY_ONCE, set_policy_fetch, false },
	{ NULL, 0, NULL, false },
};

static int set_prov_devmgr(void *t, const char *value, char *why, size_t whylen)
{
	if (strncmp(value, "http://", 7) != 0) {
		snprintf(why, whylen, "expected http://HOST:PORT");
		return -EINVAL;
	}
	return set_str(&((struct rcp_agent_config *)t)->prov_devmgr, value, why, whylen);
}

static int set_prov_secret(void *t, const char *value, char *why, size_t whylen)
{
	return set_str(&((struct rcp_agent_config *)t)->prov_secret_file, value, why, whylen);
}

static int set_prov_node_config(void *t, const char *value, char *why, size_t whylen)
{
	return set_str(&((struct rcp_agent_config *)t)->prov_node_config, value, why, whylen);
}

static int set_prov_node_key(void *t, const char *value, char *why, size_t whylen)
{
	return set_str(&((struct rcp_agent_config *)t)->prov_node_key, value, why, whylen);
}

static int set_prov_hook(void *t, const char *value, char *why, size_t whylen)
{
	return set_str(&((struct rcp_agent_config *)t)->prov_hook, value, why, whylen);
}

static int set_prov_hook_timeout(void *t, const char *value, char *why, size_t whylen)
{
	return ntm_conf_parse_u32(
		value, 1, 3600, &((struct rcp_agent_config *)t)->prov_hook_timeout_s, why, whylen);
}

static const struct ntm_conf_key_def prov_keys[] = {
	{ "DevMgr", NTM_CONF_KEY_ONCE, set_prov_devmgr, true },
	{ "SecretFile", NTM_CONF_KEY_ONCE, set_prov_secret, true },
	{ "NodeConfig", NTM_CONF_KEY_ONCE, set_prov_node_config, true },
	{ "NodeKeyFile", NTM_CONF_KEY_ONCE, set_prov_node_key, true },
	{ "OnProvisioned", NTM_CONF_KEY_ONCE, set_prov_hook, false },
	{ "OnProvisionedTimeout", NTM_CONF_KEY_ONCE, set_prov_hook_timeout, false },
	{ NULL, 0, NULL, false },
};

static const struct ntm_conf_key_def point_keys[] = {
	{ "Name", NTM_CONF_KEY_ONCE, set_point_name, true },
	{ "Type", NTM_CONF_KEY_ONCE, set_type, true },
	{ "Values", NTM_CONF_KEY_ONCE, set_values, false },
	{ "Driver", NTM_CONF_KEY_ONCE, set_driver, true },
	{ "State", NTM_CONF_KEY_ONCE, set_state, false },
	{ "Program", NTM_CONF_KEY_ONCE, set_program, false },
	{ "Timeout", NTM_CONF_KEY_ONCE, set_timeout, false },
	{ NULL, 0, NULL, false },
};

static const struct ntm_conf_key_def peer_keys[] = {
	{ "Device", NTM_CONF_KEY_ONCE, set_device, true },
	{ "Address", NTM_CONF_KEY_ONCE, set_address, false }, /* required without NodeSocket */
	{ "ActionDeadline", NTM_CONF_KEY_ONCE, set_peer_deadline, false },
	{ NULL, 0, NULL, false },
};

/*
 * Names must be unique per kind, devices and addresses per [Peer]; a [Peer]
 * without Address is resolved through the node, so only with NodeSocket.
 */
static int check_unique(const struct ntm_conf *conf, struct rcp_agent_config *cfg,
			struct ntm_conf_err *err)
{
	for (size_t i = 0; i < cfg->n_points; i++) {
		const struct rcp_point_conf *p = &cfg->points[i];

		if (rcp_agent_config_point(cfg, p->kind, p->name) != p) {
			snprintf(err->msg, sizeof(err->msg), "%s: two %s sections named '%s'",
				 ntm_conf_name(conf),
				 p->kind == RCP_POINT_SENSOR ? "[Sensor]" : "[Action]", p->name);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct rcp_peer_conf *p = &cfg->peers[i];
		bool has_addr = p->addr.len != 0;

		if (!has_addr && cfg->node_socket == NULL) {
			snprintf(err->msg, sizeof(err->msg),
				 "%s: [Peer] %s: Address is required without [Agent] NodeSocket",
				 ntm_conf_name(conf), p->fqdn);
			return -EINVAL;
		}
		if (rcp_agent_config_peer_by_fqdn(cfg, p->fqdn) != p ||
		    (has_addr && rcp_agent_config_peer_by_ip(cfg, &p->addr.sa) != p) ||
		    strcmp(p->fqdn, cfg->fqdn) == 0) {
			snprintf(err->msg, sizeof(err->msg),
				 "%s: [Peer] %s: device or address repeated, or this agent's own "
				 "Name",
				 ntm_conf_name(conf), p->fqdn);
			return -EINVAL;
		}
	}
	return 0;
}

static int apply(const struct ntm_conf *conf, struct rcp_agent_config *cfg,
		 struct ntm_conf_err *err)
{
	const struct ntm_conf_section_def sections[] = {
		{ "Agent", agent_keys, NTM_CONF_SECTION_REQUIRED, cfg, NULL, NULL, NULL },
		{ "Sensor", point_keys, NTM_CONF_SECTION_REPEAT, NULL, open_sensor, cfg,
		  check_point },
		{ "Action", point_keys, NTM_CONF_SECTION_REPEAT, NULL, open_action, cfg,
		  check_point },
		{ "Peer", peer_keys, NTM_CONF_SECTION_REPEAT, NULL, open_peer, cfg, NULL },
		{ "Provisioning", prov_keys, 0, cfg, NULL, NULL, NULL },
		{ NULL, NULL, 0, NULL, NULL, NULL, NULL },
	};
	const struct ntm_conf_schema schema = { .sections = sections };
	int rc = ntm_conf_apply(conf, &schema, err);

	return rc < 0 ? rc : check_unique(conf, cfg, err);
}

int rcp_agent_config_from_conf(const struct ntm_conf *conf, struct rcp_agent_config **out,
			       struct ntm_conf_err *err)
{
	struct rcp_agent_config *cfg;
	int rc;

	*out = NULL;
	memset(err, 0, sizeof(*err));
	cfg = ntm_calloc(1, sizeof(*cfg));
	if (cfg != NULL) {
		cfg->points = ntm_calloc(RCP_AGENT_POINTS_MAX, sizeof(*cfg->points));
		cfg->peers = ntm_calloc(RCP_AGENT_PEERS_MAX, sizeof(*cfg->peers));
	}
	if (cfg == NULL || cfg->points == NULL || cfg->peers == NULL) {
		rcp_agent_config_destroy(cfg);
		snprintf(err->msg, sizeof(err->msg), "%s: out of memory", ntm_conf_name(conf));
		return -ENOMEM;
	}
	cfg->poll_ms = RCP_AGENT_POLL_DEFAULT_MS;
	cfg->deadline_s = RCP_AGENT_DEADLINE_DEFAULT_S;
	cfg->retention_s = RCP_AGENT_RETENTION_DEFAULT_S;
	cfg->prov_hook_timeout_s = RCP_AGENT_HOOK_TIMEOUT_DEFAULT_S;
	cfg->policy_fetch_ms = RCP_AGENT_POLICY_FETCH_DEFAULT_MS;
	rc = apply(conf, cfg, err);
	if (rc < 0) {
		rcp_agent_config_destroy(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

int rcp_agent_config_load(const char *path, struct rcp_agent_config **out, struct ntm_conf_err *err)
{
	struct ntm_conf *conf;
	int rc;

	*out = NULL;
	rc = ntm_conf_load(path, &conf, err);
	if (rc < 0) {
		return rc;
	}
	rc = rcp_agent_config_from_conf(conf, out, err);
	ntm_conf_destroy(conf);
	return rc;
}

void rcp_agent_config_destroy(struct rcp_agent_config *cfg)
{
	if (cfg == NULL) {
		return;
	}
	for (size_t i = 0; cfg->points != NULL && i < cfg->n_points; i++) {
		struct rcp_point_conf *p = &cfg->points[i];

		ntm_free(p->name);
		ntm_free(p->state);
		ntm_free(p->program);
		for (size_t k = 0; k < RCP_AGENT_ARGS_MAX && p->argv[k] != NULL; k++) {
			ntm_free(p->argv[k]);
		}
		for (size_t k = 0; k < p->n_values; k++) {
			ntm_free(p->values[k]);
		}
	}
	ntm_free(cfg->points);
	ntm_free(cfg->peers);
	ntm_free(cfg->database);
	ntm_free(cfg->recipes);
	ntm_free(cfg->policy);
	ntm_free(cfg->node_socket);
	ntm_free(cfg->prov_devmgr);
	ntm_free(cfg->prov_secret_file);
	ntm_free(cfg->prov_node_config);
	ntm_free(cfg->prov_node_key);
	ntm_free(cfg->prov_hook);
	ntm_free(cfg);
}

const struct rcp_point_conf *rcp_agent_config_point(const struct rcp_agent_config *cfg,
						    enum rcp_point_kind kind, const char *name)
{
	for (size_t i = 0; i < cfg->n_points; i++) {
		if (cfg->points[i].kind == kind && cfg->points[i].name != NULL &&
		    strcmp(cfg->points[i].name, name) == 0) {
			return &cfg->points[i];
		}
	}
	return NULL;
}

const struct rcp_peer_conf *rcp_agent_config_peer_by_fqdn(const struct rcp_agent_config *cfg,
							  const char *fqdn)
{
	for (size_t i = 0; i < cfg->n_peers; i++) {
		if (strcasecmp(cfg->peers[i].fqdn, fqdn) == 0) {
			return &cfg->peers[i];
		}
	}
	return NULL;
}

static bool same_ip(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family) {
		return false;
	}
	if (a->sa_family == AF_INET) {
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
	}
	return false;
}

const struct rcp_peer_conf *rcp_agent_config_peer_by_ip(const struct rcp_agent_config *cfg,
							const struct sockaddr *sa)
{
	for (size_t i = 0; i < cfg->n_peers; i++) {
		if (same_ip(&cfg->peers[i].addr.sa, sa)) {
			return &cfg->peers[i];
		}
	}
	return NULL;
}

int rcp_point_parse_value(const struct rcp_point_conf *p, const char *s, size_t len,
			  struct rcp_value *out)
{
	memset(out, 0, sizeof(*out));
	switch (p->type) {
	case RCP_POINT_NUMBER:
		return rcp_value_parse_number(s, len, out) < 0 ? -EINVAL : 0;
	case RCP_POINT_BOOLEAN:
		out->type = RCP_VAL_BOOL;
		if ((len == 4 && memcmp(s, "true", 4) == 0) ||
		    (len == 2 && memcmp(s, "on", 2) == 0) || (len == 1 && s[0] == '1')) {
			out->b = true;
			return 0;
		}
		if ((len == 5 && memcmp(s, "false", 5) == 0) ||
		    (len == 3 && memcmp(s, "off", 3) == 0) || (len == 1 && s[0] == '0')) {
			return 0;
		}
		out->type = RCP_VAL_NONE;
		return -EINVAL;
	case RCP_POINT_ENUM:
		for (size_t i = 0; i < p->n_values; i++) {
			if (strlen(p->values[i]) == len && memcmp(p->values[i], s, len) == 0) {
				return rcp_value_set_text(out, p->values[i]);
			}
		}
		return -EINVAL;
	}
	return -EINVAL;
}

bool rcp_point_accepts(const struct rcp_point_conf *p, const struct rcp_value *v)
{
	switch (p->type) {
	case RCP_POINT_NUMBER:
		return v->type == RCP_VAL_NUMBER;
	case RCP_POINT_BOOLEAN:
		return v->type == RCP_VAL_BOOL;
	case RCP_POINT_ENUM:
		for (size_t i = 0; v->type == RCP_VAL_TEXT && i < p->n_values; i++) {
			if (strcmp(p->values[i], v->text) == 0) {
				return true;
			}
		}
		return false;
	}
	return false;
}
