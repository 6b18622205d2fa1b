/* SPDX-License-Identifier: MIT */
#ifndef RS_CONFIG_H
#define RS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/addr.h"
#include "common/conf.h"
#include "common/err.h"
#include "common/key.h"

/*
 * ntm-rs.conf (see ntm-rs.conf(5)):
 *
 *   [RS]  PrivateKey | PrivateKeyFile, Listen (one or more addr:port, v4
 *         and v6), Address (the addresses nodes are told; default: the
 *         Listen addresses, which then must not be wildcards), Sessions,
 *         IdleTimeout, SessionRate, ControlGroup
 *   [DC]  Endpoint (one or more addr:port), PublicKey
 *
 * The result is a plain record; the private key lives in sodium_malloc'd
 * memory and is wiped by rs_config_destroy().
 */

enum {
	RS_CONFIG_ADDRS_MAX = 4,	/* Listen / Address entries (= NTM_CTRL_RELAY_ADDRS_MAX) */
	RS_CONFIG_DC_ENDPOINTS_MAX = 8, /* = NTM_CTRLCLIENT_ENDPOINTS_MAX */
	RS_CONFIG_SESSIONS_DEFAULT = 4096,
	RS_CONFIG_SESSIONS_MAX = 1 << 20,
	RS_CONFIG_IDLE_DEFAULT = 120, /* seconds */
	RS_CONFIG_IDLE_MIN = 1,
	RS_CONFIG_IDLE_MAX = 3600,
	RS_CONFIG_RATE_DEFAULT = 100000, /* kbit/s per session */
	RS_CONFIG_RATE_MAX = 100000000,	 /* 100 Gbit/s */
};

struct rs_config {
	struct ntm_key *private_key; /* sodium_malloc'd */
	struct ntm_addr listen[RS_CONFIG_ADDRS_MAX];
	size_t n_listen;
	struct ntm_addr address[RS_CONFIG_ADDRS_MAX]; /* advertised to the DC */
	size_t n_address;
	uint32_t sessions;
	uint32_t idle_s;
	uint32_t rate_kbit; /* 0: unlimited */
	bool has_group;	    /* ControlGroup given: socket mode 0660 with this group */
	gid_t group;
	struct ntm_addr dc_endpoints[RS_CONFIG_DC_ENDPOINTS_MAX];
	size_t n_dc_endpoints;
	struct ntm_key dc_public_key;
};

/*
 * Load and check the file at `path` (borrowed). On success *out is a new
 * record the caller frees with rs_config_destroy(). On failure *out is NULL,
 * err->msg holds one line "file:line: reason" (or "file: reason") and the
 * return is a negative errno.
 */
NTM_MUST_CHECK int rs_config_load(const char *path, struct rs_config **out,
				  struct ntm_conf_err *err);

/*
 * The same on an already parsed conf (borrowed; tests and the fuzzer). An
 * inline PrivateKey is accepted only when ntm_conf_is_private(conf).
 */
NTM_MUST_CHECK int rs_config_from_conf(const struct ntm_conf *conf, struct rs_config **out,
				       struct ntm_conf_err *err);

/* Wipes the key and frees everything; accepts NULL. */
void rs_config_destroy(struct rs_config *cfg);

#endif
