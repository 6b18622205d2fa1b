/* SPDX-License-Identifier: MIT */
#ifndef RCP_DMSTORE_H
#define RCP_DMSTORE_H

/*
 * ntm-devmgr's SQLite database: models (name, CoRE link format API list)
 * and devices (vendor id, model, public key, FQDN, DC endpoint and key,
 * recipe-server URL, and the BLAKE2b hash of the device's provisioning
 * secret). Every change is one transaction.
 */

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "dmreq.h"
#include "recipe/web/token.h"

struct rcp_dm_store;

/* Open/create `path` (see rcp_db_open). *out closed with rcp_dm_store_close(). */
NTM_MUST_CHECK int rcp_dm_store_open(const char *path, struct rcp_dm_store **out, char *why,
				     size_t whylen);
void rcp_dm_store_close(struct rcp_dm_store *s); /* NULL-safe */

/* Add a model, or replace the API list of an existing one. -EIO. */
NTM_MUST_CHECK int rcp_dm_store_put_model(struct rcp_dm_store *s, const struct rcp_dm_model *m,
					  char *why, size_t whylen);

/* Add a device. -EEXIST (id, key or FQDN taken), -ENOENT (no such model), -EIO. */
NTM_MUST_CHECK int rcp_dm_store_add_device(struct rcp_dm_store *s, const struct rcp_dm_device *d,
					   const uint8_t secret_hash[RCP_TOKEN_HASH], char *why,
					   size_t whylen);

/* A device and its model's links (into *links, owned by the caller). -ENOENT, -EIO. */
NTM_MUST_CHECK int rcp_dm_store_get_device(struct rcp_dm_store *s, const char *id,
					   struct rcp_dm_device *d, struct rcp_dm_model *m,
					   char *why, size_t whylen);

/* The device whose provisioning secret hashes to `hash`. -ENOENT, -EIO. */
NTM_MUST_CHECK int rcp_dm_store_find_secret(struct rcp_dm_store *s,
					    const uint8_t hash[RCP_TOKEN_HASH],
					    struct rcp_dm_device *d, char *why, size_t whylen);

#endif
