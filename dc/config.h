/* SPDX-License-Identifier: MIT */
#ifndef DC_CONFIG_H
#define DC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/addr.h"
#include "common/conf.h"
#include "common/err.h"
#include "common/key.h"
#include "dc/fedpolicy.h"
#include "dc/fqdn.h"

/*
 * ntm-dc.conf (see ntm-dc.conf(5)):
 *
 *   [DC]          Domain, PrivateKey | PrivateKeyFile, Listen, AltListen, Pool4,
 *                 Pool6, Database, KeepaliveInterval, ControlGroup, MaxSessions
 *   [DNS]         Listen, ZoneKey
 *   [Federation]  (repeatable) Domain, PublicKey, Endpoint, Allow
 *
 * Listen and AltListen are the control channel's UDP endpoints (dc/ctrl.h);
 * [DNS] Listen is the authoritative DNS server's (dc/dnsserver.h); each
 * [Federation] section names a domain whose DC may be asked and may ask
 * (dc/federation.h). Pool6 is optional: without it the DC picks a random
 * RFC 4193 prefix once and keeps it in its database (dc/main.c).
 * The result is a plain record; the private key lives in sodium_malloc'd
 * memory and is wiped by dc_config_destroy().
 */

enum {
	DC_CONFIG_KEEPALIVE_DEFAULT = 25, /* seconds */
	DC_CONFIG_KEEPALIVE_MIN = 5,
	DC_CONFIG_KEEPALIVE_MAX = 600,
	/* Control sessions held at once (one per online node); see dc/csess.c. */
	DC_CONFIG_MAX_SESSIONS_DEFAULT = 65536,
	DC_CONFIG_MAX_SESSIONS_MIN = 16,
	DC_CONFIG_MAX_SESSIONS_MAX = 1 << 20,
	DC_CONFIG_ADDRS_MAX = 16,	 /* addresses per Listen-type key */
	DC_CONFIG_FEDERATION_MAX = 1024, /* [Federation] sections */
	DC_CONFIG_PATH_MAX = 4095,
};

#define DC_CONFIG_DATABASE_DEFAULT "/var/lib/ntm/dc.db"
/* ZoneKey's default: this file (with the Domain) in the Database's directory. */
#define DC_CONFIG_ZONE_KEY_DEFAULT "zone-%s.key"

struct dc_addr_list {
	struct ntm_addr addrs[DC_CONFIG_ADDRS_MAX];
	size_t n;
};

struct dc_federation {
	char domain[DC_FQDN_SIZE];
	bool has_key; /* pinned; without it only a DNSSEC-validated key is trusted */
	struct ntm_key public_key;
	struct dc_addr_list endpoints; /* Endpoint: skip the DNS lookup of the DC */
	struct dc_fedrule allow[DC_FEDPOLICY_RULES_MAX];
	size_t n_allow;
	unsigned line; /* of the [Federation] header */
};

struct dc_config {
	char domain[DC_FQDN_SIZE];
	struct ntm_key *private_key; /* sodium_malloc'd */
	struct dc_addr_list listen;
	struct dc_addr_list alt_listen;
	struct dc_addr_list dns_listen;
	struct ntm_prefix pool4;
	struct ntm_prefix pool6; /* family 0 when not configured (a stored random one) */
	char *database;		 /* absolute path */
	char *zone_key;		 /* DNSSEC key file, absolute; NULL: unsigned (ZoneKey = none) */
	uint32_t keepalive;
	uint32_t max_sessions;
	bool has_group; /* ControlGroup given: socket mode 0660 with this group */
	gid_t group;
	struct dc_federation *federation;
	size_t n_federation;
};

/*
 * Load and check the file at `path` (borrowed). On success *out is a new
 * record the caller frees with dc_config_destroy(). On failure *out is NULL,
 * err->msg holds one line "file:line: reason" (or "file: reason") and the
 * return is a negative errno.
 */
NTM_MUST_CHECK int dc_config_load(const char *path, struct dc_config **out,
				  struct ntm_conf_err *err);

/*
 * The same on an already parsed conf (borrowed; e.g. from ntm_conf_parse in
 * tests and the fuzzer). An inline PrivateKey is accepted only when
 * ntm_conf_is_private(conf).
 */
NTM_MUST_CHECK int dc_config_from_conf(const struct ntm_conf *conf, struct dc_config **out,
				       struct ntm_conf_err *err);

/* Wipes the key and frees everything; accepts NULL. */
void dc_config_destroy(struct dc_config *cfg);

#endif
