/* SPDX-License-Identifier: MIT */
#ifndef RCP_DMAPI_H
#define RCP_DMAPI_H

/*
 * ntm-devmgr's HTTP/JSON API, as a pure function of (store, tokens, request):
 *
 *   POST /v1/models           admin token   {"name","links"}       -> 201
 *   POST /v1/devices          admin token   device (dmreq.h)       -> 201
 *        {"id": ..., "provisioning_secret": HEX}  (shown once; stored hashed)
 *   GET  /v1/devices/{id}     server token  -> 200 {"id","model","fqdn","links"}
 *   GET  /v1/provisioning     the device's provisioning secret
 *        -> 200 {"id","fqdn","public_key","dc":{"endpoint","public_key"},
 *                "recipe_server"}
 *
 * A missing or wrong token is 401 before anything else is looked at; bad
 * bodies are 400 with the reason, unknown paths 404, wrong methods 405.
 */

#include <stdint.h>

#include "dmstore.h"
#include "recipe/web/httpd.h"
#include "recipe/web/token.h"

struct rcp_dm_api {
	struct rcp_dm_store *store; /* borrowed */
	uint8_t admin_hash[RCP_TOKEN_HASH];
	uint8_t server_hash[RCP_TOKEN_HASH];
};

/* An rcp_httpd_handler; ctx is a struct rcp_dm_api. */
void rcp_dm_api_handle(void *ctx, const struct rcp_http_req *req, struct rcp_http_resp *resp);

#endif
