/* SPDX-License-Identifier: MIT */
#ifndef RCP_DMREQ_H
#define RCP_DMREQ_H

/*
 * ntm-devmgr's records and the parsers of its admin request bodies
 * (outside input: fuzzed by tests/fuzz/fuzz_devmgr_req.c).
 *
 *   POST /v1/models   {"name": MODEL, "links": "</temp>;rt=\"temperature\",..."}
 *   POST /v1/devices  {"id": VENDORID, "model": MODEL, "public_key": B64,
 *                      "fqdn": FQDN, "dc_endpoint": "host:port",
 *                      "dc_key": B64, "recipe_server": URL}
 */

#include <stddef.h>

#include "common/err.h"
#include "common/key.h"

enum {
	RCP_DM_ID_MAX = 64, /* vendor identifier, model name */
	RCP_DM_FQDN_MAX = 253,
	RCP_DM_ENDPOINT_MAX = 255, /* "host:port" */
	RCP_DM_URL_MAX = 255,
	RCP_DM_LINKS_MAX = 8192, /* CoRE link format text of one model */
};

/* Plain value: a model and its API list. */
struct rcp_dm_model {
	char name[RCP_DM_ID_MAX + 1];
	char links[RCP_DM_LINKS_MAX + 1];
};

/* Plain value: a device as manufactured (the provisioning secret is apart). */
struct rcp_dm_device {
	char id[RCP_DM_ID_MAX + 1];
	char model[RCP_DM_ID_MAX + 1];
	char public_key[NTM_KEY_B64_SIZE];
	char fqdn[RCP_DM_FQDN_MAX + 1];
	char dc_endpoint[RCP_DM_ENDPOINT_MAX + 1];
	char dc_key[NTM_KEY_B64_SIZE];
	char recipe_server[RCP_DM_URL_MAX + 1];
};

/*
 * Parse a request body (len bytes, not NUL-terminated) into *out (zeroed on
 * entry). 0, or -EINVAL/-EMSGSIZE/-ENOMEM with the reason in why.
 */
NTM_MUST_CHECK int rcp_dm_parse_model(const char *body, size_t len, struct rcp_dm_model *out,
				      char *why, size_t whylen);
NTM_MUST_CHECK int rcp_dm_parse_device(const char *body, size_t len, struct rcp_dm_device *out,
				       char *why, size_t whylen);

/*
 * A light check of CoRE link format (RFC 6690): comma-separated entries,
 * each "<uri-reference>" followed by ";param" parts, printable ASCII, commas
 * inside quoted strings allowed. True when it looks like one.
 */
bool rcp_dm_links_ok(const char *s);

#endif
