/* SPDX-License-Identifier: MIT */
#ifndef RCP_RS_CONFIG_H
#define RCP_RS_CONFIG_H

/*
 * ntm-recipe-server.conf(5):
 *
 *   [Server]
 *   Listen = 127.0.0.1:8480
 *   Database = /var/lib/ntm/recipe-server.db
 *   AdminTokenFile = /etc/ntm/recipe-admin.token   (creates users)
 *   PolicyFile = /etc/ntm/policy                   (optional safety policy)
 *   AllowFlagged = no                              (optional)
 *   NodeSocket = /run/ntm/node-ntm0.sock           (deliver over the overlay)
 *
 *   [DevMgr]                      one per vendor
 *   Vendor = acme
 *   URL = http://devmgr.acme.example:8470
 *   TokenFile = /etc/ntm/acme.token                (this server's token there)
 *
 *   [Device]                      a device's CoAP address outside the overlay
 *   Name = lamp.example.net
 *   Address = 192.0.2.7:5683
 */

#include <stdbool.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/conf.h"
#include "recipe/web/token.h"
#include "recipe/web/webconf.h"
#include "recipe/policy.h"

enum {
	RCP_RS_VENDORS_MAX = 16,
	RCP_RS_NAME_MAX = 64,
	RCP_RS_URL_MAX = 256,
	RCP_RS_STATIC_DEVICES_MAX = 64,
	RCP_RS_COAP_PORT = 5683,
	RCP_RS_SOCKET_MAX = 108, /* sun_path */
};

/* Plain value: a [Device]. */
struct rcp_rs_static_device {
	char fqdn[RCP_FQDN_MAX + 1];
	struct ntm_addr addr;
};

/* Plain value. */
struct rcp_rs_vendor {
	char vendor[RCP_RS_NAME_MAX + 1];
	char url[RCP_RS_URL_MAX];
	char token[RCP_TOKEN_TEXT];
};

struct rcp_rs_config {
	struct rcp_webconf web;	   /* first: the [Server] target is also this */
	struct rcp_policy *policy; /* owned, NULL without PolicyFile */
	bool allow_flagged;
	struct rcp_rs_vendor vendors[RCP_RS_VENDORS_MAX];
	size_t n_vendors;
	char node_socket[RCP_RS_SOCKET_MAX]; /* "" without NodeSocket */
	struct rcp_rs_static_device devices[RCP_RS_STATIC_DEVICES_MAX];
	size_t n_devices;
};

/* Errors "file:line: reason". Free with rcp_rs_config_fini (also after failure). */
NTM_MUST_CHECK int rcp_rs_config_from_conf(struct rcp_rs_config *cfg, const struct ntm_conf *conf,
					   struct ntm_conf_err *err);
NTM_MUST_CHECK int rcp_rs_config_load(const char *path, struct rcp_rs_config *cfg,
				      struct ntm_conf_err *err);
/* Frees the policy and wipes the tokens. */
void rcp_rs_config_fini(struct rcp_rs_config *cfg);

#endif
