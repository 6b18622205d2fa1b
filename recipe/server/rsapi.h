/* SPDX-License-Identifier: MIT */
#ifndef RCP_RSAPI_H
#define RCP_RSAPI_H

/*
 * ntm-recipe-server's HTTP/JSON API, a pure function of (state, request):
 *
 *   POST /v1/users        admin token  {"name"} -> 201 {"name","token"}
 *   POST /v1/devices      user token   {"vendor","id"} -> 201 device
 *        (the device's FQDN, model and API list come from the vendor's devmgr;
 *        "vendor" may be left out when the server knows only one)
 *   GET  /v1/devices      user token   -> [device, ...]
 *   POST /v1/recipes      user token   recipe text or JSON -> 201
 *        {"registered":[NAME,...]}; 400 {"error","line","col"} on a syntax
 *        error, 400 for a device not bound to the user, 409 for a taken
 *        name, 413 for a recipe over RCP_INSTALL_MAX bytes (canonical),
 *        422 for the safety policy or a loop. Nothing is stored then.
 *   GET  /v1/recipes      user token   -> [{"name","devices","state"}, ...]
 *   GET  /v1/recipes/NAME user token   -> {"name","text","state","version",
 *                                          "deliveries":[...]}
 *   PUT  /v1/recipes/NAME user token   one recipe named NAME -> 200 recipe;
 *        checked like a registration against the user's other recipes; the
 *        new version goes to its devices as a new registration would (each
 *        device drops the old text when the new one arrives: never both);
 *        a device only the old text named is told to delete it.
 *   DELETE /v1/recipes/NAME user token -> 202 recipe ("state":"deleting");
 *        each device is told to drop it (deliveries 'deleting' -> 'deleted'),
 *        then the recipe is 'deleted' and its name free again.
 *   A recipe of another user is 404, like an unknown one.
 *   GET  /v1/events       user token   -> [{"id","time","text"}, ...]
 *
 * A missing or unknown token is 401 before anything else.
 */

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "recipe/web/httpd.h"
#include "rsstore.h"

/*
 * Ask vendor `v` for device `id`: 0 with the devmgr's HTTP status and JSON
 * body in *resp (body ntm_malloc'd), or a negative errno with why (not
 * reachable). The daemon uses rcp_rs_devmgr_lookup; tests inject their own.
 */
typedef int (*rcp_rs_lookup_cb)(void *ctx, const struct rcp_rs_vendor *v, const char *id,
				struct rcp_http_resp *resp, char *why, size_t whylen);

struct rcp_rs_api {
	struct rcp_rs_store *store;	 /* borrowed */
	const struct rcp_rs_config *cfg; /* borrowed: admin hash, policy, vendors */
	rcp_rs_lookup_cb lookup;
	void *lookup_ctx;
};

/* The real lookup: GET URL/v1/devices/ID with the vendor token (blocking, bounded). */
int rcp_rs_devmgr_lookup(void *ctx, const struct rcp_rs_vendor *v, const char *id,
			 struct rcp_http_resp *resp, char *why, size_t whylen);

/* An rcp_httpd_handler; ctx is a struct rcp_rs_api. */
void rcp_rs_api_handle(void *ctx, const struct rcp_http_req *req, struct rcp_http_resp *resp);

/*
 * Parse a devmgr's answer {"id","model","fqdn","links"} strictly (outside
 * input: fuzzed). Pointers in *d point into *owner, released by the caller.
 */
NTM_MUST_CHECK int rcp_rs_parse_devmgr_device(const char *body, size_t len,
					      struct json_object **owner, struct rcp_rs_device *d,
					      char *why, size_t whylen);

#endif
