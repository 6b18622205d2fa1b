/* SPDX-License-Identifier: MIT */
#ifndef RCP_RSSTORE_H
#define RCP_RSSTORE_H

/*
 * ntm-recipe-server's SQLite database: users (name, BLAKE2b hash of the API
 * token), their devices (vendor, vendor id, FQDN, model, API list as the
 * vendor's devmgr returned it), their recipes (canonical text), one delivery
 * row per (recipe, device) with the state the device reported (deliver.h),
 * and the user's event list.
 * Listing calls return json-c arrays the caller releases (json_object_put).
 */

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "recipe/web/token.h"

struct rcp_rs_store;

NTM_MUST_CHECK int rcp_rs_store_open(const char *path, struct rcp_rs_store **out, char *why,
				     size_t whylen);
void rcp_rs_store_close(struct rcp_rs_store *s); /* NULL-safe */

/* -EEXIST for a taken name. */
NTM_MUST_CHECK int rcp_rs_store_add_user(struct rcp_rs_store *s, const char *name,
					 const uint8_t hash[RCP_TOKEN_HASH], char *why,
					 size_t whylen);
/* The user whose token hashes to `hash`: *uid > 0, or -ENOENT. */
NTM_MUST_CHECK int rcp_rs_store_find_user(struct rcp_rs_store *s,
					  const uint8_t hash[RCP_TOKEN_HASH], int64_t *uid,
					  char *why, size_t whylen);

/* Plain value: a bound device. */
struct rcp_rs_device {
	const char *vendor, *id, *fqdn, *model, *links; /* borrowed */
};

/* Bind a device to uid and log an event, in one transaction. -EEXIST when bound (anyone). */
NTM_MUST_CHECK int rcp_rs_store_add_device(struct rcp_rs_store *s, int64_t uid,
					   const struct rcp_rs_device *d, char *why, size_t whylen);
/* Does uid own a device with this FQDN? 1 yes, 0 no, -EIO. */
NTM_MUST_CHECK int rcp_rs_store_owns_fqdn(struct rcp_rs_store *s, int64_t uid, const char *fqdn);

/* [{"vendor","id","fqdn","model","links"}, ...] */
NTM_MUST_CHECK int rcp_rs_store_list_devices(struct rcp_rs_store *s, int64_t uid,
					     struct json_object **out);

/*
 * The canonical texts of uid's live recipes but the one named `except`
 * (NULL: none), concatenated (ntm_free).
 */
NTM_MUST_CHECK int rcp_rs_store_recipe_texts(struct rcp_rs_store *s, int64_t uid,
					     const char *except, char **out);

/*
 * Store one recipe (canonical text), a pending delivery per device FQDN in
 * fqdns[0..n), and an event, in one transaction. -EEXIST for a taken name
 * (a recipe still being deleted keeps its name; a deleted one frees it).
 */
NTM_MUST_CHECK int rcp_rs_store_add_recipe(struct rcp_rs_store *s, int64_t uid, const char *name,
					   const char *text, const char *const *fqdns, size_t n,
					   char *why, size_t whylen);

/*
 * Delete uid's recipe `name`: it becomes 'deleting' and so does each of its
 * deliveries, until each device confirmed ('deleted'); then the recipe is
 * 'deleted' (an event each time). Again while deleting: 0, nothing changes.
 * -ENOENT for an unknown name or a recipe deleted already.
 */
NTM_MUST_CHECK int rcp_rs_store_delete_recipe(struct rcp_rs_store *s, int64_t uid, const char *name,
					      char *why, size_t whylen);
/*
 * Replace the text of uid's live recipe `name` (version + 1): every device
 * it names now gets a pending delivery of the new text; a device only the
 * old text named gets its deletion. -ENOENT unless live.
 */
NTM_MUST_CHECK int rcp_rs_store_replace_recipe(struct rcp_rs_store *s, int64_t uid,
					       const char *name, const char *text,
					       const char *const *fqdns, size_t n, char *why,
					       size_t whylen);

/* [{"name","devices":N,"state"}, ...]; devices counts those not deleted. */
NTM_MUST_CHECK int rcp_rs_store_list_recipes(struct rcp_rs_store *s, int64_t uid,
					     struct json_object **out);
/*
 * {"name","text","state","version","deliveries":[{"device","status","reason"}]},
 * or -ENOENT. state: live, deleting, deleted.
 */
NTM_MUST_CHECK int rcp_rs_store_get_recipe(struct rcp_rs_store *s, int64_t uid, const char *name,
					   struct json_object **out);

/* Plain value: one delivery the server still has to make or to follow. */
struct rcp_rs_delivery {
	int64_t recipe;				 /* recipe id */
	int64_t version;			 /* of its text: answers name it */
	const char *name, *text, *fqdn, *status; /* borrowed for the callback */
};

/*
 * Every delivery that is 'pending', 'verifying' or 'deleting', in order; a
 * negative return of cb stops and is returned.
 */
NTM_MUST_CHECK int rcp_rs_store_due(struct rcp_rs_store *s,
				    int (*cb)(const struct rcp_rs_delivery *d, void *arg),
				    void *arg);
/*
 * The device's report about `version` of the recipe's text: status
 * 'pending', 'verifying', 'active' or 'refused' with its reason (may be "")
 * for a delivery that is pending or verifying, 'deleted' for one that is
 * deleting; anything else (an answer that came too late) is ignored. A
 * change is logged as an event for the recipe's owner, in the same
 * transaction, and so is the end of a deletion.
 */
NTM_MUST_CHECK int rcp_rs_store_set_delivery(struct rcp_rs_store *s, int64_t recipe,
					     int64_t version, const char *fqdn, const char *status,
					     const char *reason, char *why, size_t whylen);

/* Append an event for uid (time is wall clock, for the user). */
NTM_MUST_CHECK int rcp_rs_store_add_event(struct rcp_rs_store *s, int64_t uid, const char *text);
/* [{"id","time","text"}, ...] oldest first. */
NTM_MUST_CHECK int rcp_rs_store_list_events(struct rcp_rs_store *s, int64_t uid,
					    struct json_object **out);

#endif
