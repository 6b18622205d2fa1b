/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <fcntl.h>
#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/alloc.h"
#include "recipe/web/jreq.h"

/* The [Server] target is handed to the rcp_webconf setters as-is. */
_Static_assert(offsetof(struct rcp_rs_config, web) == 0, "struct rcp_webconf must come first");

static int set_flagged(void *t, const char *value, char *why, size_t whylen)
{
	return ntm_conf_parse_bool(value, &((struct rcp_rs_config *)t)->allow_flagged, why, whylen);
}

static int set_policy(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_rs_config *cfg = t;
	struct rcp_error err;
	char *text = ntm_malloc(RCP_TEXT_MAX + 1);
	int fd = open(value, O_RDONLY | O_CLOEXEC | O_NONBLOCK), rc;
	ssize_t n = -1;

	if (fd >= 0 && text != NULL) {
		n = read(fd, text, RCP_TEXT_MAX + 1);
	}
	if (fd < 0 || n < 0 || n > RCP_TEXT_MAX) {
		snprintf(why, whylen, "%s: cannot read (or over %d bytes)", value, RCP_TEXT_MAX);
		rc = -EINVAL;
	} else {
		rc = rcp_policy_parse(text, (size_t)n, &cfg->policy, &err);
		if (rc < 0) {
			snprintf(why, whylen, "%s:%u:%u: %s", value, err.line, err.col, err.msg);
		}
	}
	if (fd >= 0) {
		close(fd);
	}
	ntm_free(text);
	return rc;
}

static int set_node_socket(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_rs_config *cfg = t;

	if (value[0] == '\0' || strlen(value) >= sizeof(cfg->node_socket)) {
		snprintf(why, whylen, "expected a path of at most %zu bytes",
			 sizeof(cfg->node_socket) - 1);
		return -EINVAL;
	}
	snprintf(cfg->node_socket, sizeof(cfg->node_socket), "%s", value);
	return 0;
}

static int open_device(void *ctx, void **target, char *why, size_t whylen)
{
	struct rcp_rs_config *cfg = ctx;

	if (cfg->n_devices == RCP_RS_STATIC_DEVICES_MAX) {
		snprintf(why, whylen, "at most %d [Device] sections", RCP_RS_STATIC_DEVICES_MAX);
		return -E2BIG;
	}
	*target = &cfg->devices[cfg->n_devices++];
	return 0;
}

static int set_device_name(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_rs_static_device *d = t;

	if (!rcp_jreq_is_fqdn(value)) {
		snprintf(why, whylen, "expected an FQDN");
		return -EINVAL;
	}
	snprintf(d->fqdn, sizeof(d->fqdn), "%s", value);
	return 0;
}

static int set_device_addr(void *t, const char *value, char *why, size_t whylen)
{
	return ntm_addr_parse(value, 0, &((struct rcp_rs_static_device *)t)->addr, why, whylen);
}

static int open_vendor(void *ctx, void **target, char *why, size_t whylen)
{
	struct rcp_rs_config *cfg = ctx;

	if (cfg->n_vendors == RCP_RS_VENDORS_MAX) {
		snprintf(why, whylen, "at most %d [DevMgr] sections", RCP_RS_VENDORS_MAX);
		return -E2BIG;
	}
	*target = &cfg->vendors[cfg->n_vendors++];
	return 0;
}

static int set_vendor(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_rs_vendor *v = t;

	if (!rcp_jreq_is_ident(value, RCP_RS_NAME_MAX)) {
		snprintf(why, whylen, "expected [A-Za-z0-9._:-], at most %d", RCP_RS_NAME_MAX);
		return -EINVAL;
	}
	snprintf(v->vendor, sizeof(v->vendor), "%s", value);
	return 0;
}

static int set_url(void *t, const char *value, char *why, size_t whylen)
{
	struct rcp_rs_vendor *v = t;

	if (strncmp(value, "http://", 7) != 0 || strlen(value) >= sizeof(v->url)) {
		snprintf(why, whylen, "expected http://HOST:PORT");
		return -EINVAL;
	}
	snprintf(v->url, sizeof(v->url), "%s", value);
	return 0;
}

static int set_token(void *t, const char *value, char *why, size_t whylen)
{
	return rcp_token_read_file(value, ((struct rcp_rs_vendor *)t)->token, why, whylen);
}

int rcp_rs_config_from_conf(struct rcp_rs_config *cfg, const struct ntm_conf *conf,
			    struct ntm_conf_err *err)
{
	const struct ntm_conf_key_def server[] = {
		{ "Listen", NTM_CONF_KEY_ONCE, rcp_webconf_set_listen, true },
		{ "Database", NTM_CONF_KEY_ONCE, rcp_webconf_set_database, true },
		{ "AdminTokenFile", NTM_CONF_KEY_ONCE, rcp_webconf_set_admin, true },
		{ "PolicyFile", NTM_CONF_KEY_ONCE, set_policy, false },
		{ "AllowFlagged", NTM_CONF_KEY_ONCE, set_flagged, false },
		{ "NodeSocket", NTM_CONF_KEY_ONCE, set_node_socket, false },
		{ .name = NULL },
	};
	const struct ntm_conf_key_def device[] = {
		{ "Name", NTM_CONF_KEY_ONCE, set_device_name, true },
		{ "Address", NTM_CONF_KEY_ONCE, set_device_addr, true },
		{ .name = NULL },
	};
	const struct ntm_conf_key_def devmgr[] = {
		{ "Vendor", NTM_CONF_KEY_ONCE, set_vendor, true },
		{ "URL", NTM_CONF_KEY_ONCE, set_url, true },
		{ "TokenFile", NTM_CONF_KEY_ONCE, set_token, true },
		{ .name = NULL },
	};
	const struct ntm_conf_section_def sections[] = {
		{ .name = "Server",
		  .keys = server,
		  .flags = NTM_CONF_SECTION_REQUIRED,
		  .target = cfg },
		{ .name = "DevMgr",
		  .keys = devmgr,
		  .flags = NTM_CONF_SECTION_REPEAT,
		  .open = open_vendor,
		  .ctx = cfg },
		{ .name = "Device",
		  .keys = device,
		  .flags = NTM_CONF_SECTION_REPEAT,
		  .open = open_device,
		  .ctx = cfg },
		{ .name = NULL },
	};
	const struct ntm_conf_schema schema = { .sections = sections };

	memset(cfg, 0, sizeof(*cfg));
	return ntm_conf_apply(conf, &schema, err);
}

static int build(void *ctx, const struct ntm_conf *conf, struct ntm_conf_err *err)
{
	return rcp_rs_config_from_conf(ctx, conf, err);
}

int rcp_rs_config_load(const char *path, struct rcp_rs_config *cfg, struct ntm_conf_err *err)
{
	return ntm_conf_load_build(path, build, cfg, err);
}

void rcp_rs_config_fini(struct rcp_rs_config *cfg)
{
	rcp_policy_free(cfg->policy);
	cfg->policy = NULL;
	sodium_memzero(cfg->vendors, sizeof(cfg->vendors));
}
