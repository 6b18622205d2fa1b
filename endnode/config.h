/* SPDX-License-Identifier: MIT */
#ifndef EN_CONFIG_H
#define EN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/conf.h"
#include "common/err.h"
#include "common/wire.h"

/*
 * ntm-node.conf, static part, in wg-quick's format (see ntm-node.conf(5)):
 *
 *   [Interface]  PrivateKey | PrivateKeyFile, ListenPort, Address, MTU, Name
 *   [Peer]       PublicKey, PresharedKey, Endpoint, AllowedIPs, PersistentKeepalive
 *   [DC]         Endpoint, PublicKey, Token (at most one section)
 *   [DNS]        Listen, Upstream, Domains, RegisterResolved (at most one section; the DNS stub)
 *
 * With a [DC] section the node registers at its Direction Coordinator and
 * gets its addresses (VIPs) from it, so Address is optional and Name (the
 * node's FQDN) is required. A Token, like an inline key, is refused in a file
 * that group or others may read.
 *
 * wg-quick's own keys (DNS, Table, PreUp, PostUp, PreDown, PostDown,
 * SaveConfig) and FwMark are accepted with a warning and ignored. An inline
 * PrivateKey in a file that group or others may read is refused, and so is a
 * PrivateKeyFile with such a mode. Endpoints are numeric ("198.51.100.7:51820",
 * "[2001:db8::1]:51820"): host names are not resolved yet.
 *
 * The result is a plain record. Keys live in sodium_malloc'd memory and are
 * wiped by en_config_destroy().
 */

enum {
	EN_CONFIG_MTU_DEFAULT = 1420,
	EN_CONFIG_MTU_MIN = 576,
	EN_CONFIG_MTU_MAX = 65535,
	EN_CONFIG_PEERS_MAX = 4096,	/* [Peer] sections per file */
	EN_CONFIG_PREFIXES_MAX = 1024,	/* Address or AllowedIPs entries per section */
	EN_CONFIG_DC_ENDPOINTS_MAX = 8, /* [DC] Endpoint entries */
	EN_CONFIG_NAME_MAX = 253,	/* Name: an FQDN, without the trailing dot */
	EN_CONFIG_TOKEN_MAX = 64,	/* = NTM_CTRL_TOKEN_MAX */
	EN_CONFIG_PATH_MAX = 4095,	/* StateFile */
	EN_CONFIG_DNS_LISTEN_MAX = 4,
	EN_CONFIG_DNS_UPSTREAM_MAX = 8,
	EN_CONFIG_DNS_DOMAINS_MAX = 8,
	EN_CONFIG_DNS_SERVER_MAX = 64, /* = NTM_DNS_MAX_SERVER_STR */
};

/*
 * The [DNS] section (endnode/dnsstub.h): where the stub listens (none: the
 * second address of each pool, port 53), the resolvers it forwards other
 * names to (none: the nameservers of /etc/resolv.conf other than its own
 * addresses), the domains whose names are overlay names besides the ones
 * the DC announces. Domains are lower case without a trailing dot.
 */
/* [DNS] RegisterResolved (endnode/resolved.h). */
enum en_config_resolved {
	EN_CONFIG_RESOLVED_AUTO, /* when systemd-resolved runs (the default) */
	EN_CONFIG_RESOLVED_YES,
	EN_CONFIG_RESOLVED_NO,
};

struct en_config_dns {
	struct ntm_addr listen[EN_CONFIG_DNS_LISTEN_MAX];
	size_t n_listen;
	char upstream[EN_CONFIG_DNS_UPSTREAM_MAX][EN_CONFIG_DNS_SERVER_MAX];
	size_t n_upstream;
	char domains[EN_CONFIG_DNS_DOMAINS_MAX][EN_CONFIG_NAME_MAX + 1];
	size_t n_domains;
	enum en_config_resolved register_resolved;
};

/* The [DC] section. */
struct en_config_dc {
	struct ntm_addr endpoints[EN_CONFIG_DC_ENDPOINTS_MAX];
	size_t n_endpoints;
	uint8_t public_key[NTM_WG_KEY_LEN];
	char *token;	  /* EN_CONFIG_TOKEN_MAX + 1 bytes of secure memory, or NULL */
	unsigned line;	  /* of the [DC] header, for messages */
	char *state_file; /* StateFile: the peer cache (peercache.h), or NULL */
};

struct en_config_peer {
	uint8_t public_key[NTM_WG_KEY_LEN];
	uint8_t *preshared_key;	  /* NTM_WG_KEY_LEN bytes of secure memory, or NULL */
	struct ntm_addr endpoint; /* family AF_UNSPEC when there is none */
	struct ntm_prefix *allowed_ips;
	size_t n_allowed_ips;
	uint16_t persistent_keepalive; /* seconds, 0 = off */
	unsigned line;		       /* of the [Peer] header, for messages */
};

struct en_config {
	uint8_t *private_key; /* NTM_WG_KEY_LEN bytes of secure memory */
	uint16_t listen_port; /* 0: random */
	struct ntm_prefix *addresses;
	size_t n_addresses;
	uint32_t mtu;
	struct en_config_peer *peers;
	size_t n_peers;
	char name[EN_CONFIG_NAME_MAX + 1]; /* lower case; "" when not set */
	bool has_dc;
	struct en_config_dc dc; /* valid when has_dc */
	bool has_dns;		/* a [DNS] section (the stub also runs without one, with a DC) */
	struct en_config_dns dns;
};

/*
 * Load and check the file at `path` (borrowed). On success *out is a new
 * record the caller frees with en_config_destroy(). On failure *out is NULL,
 * err->msg holds one line "file:line: reason" (or "file: reason") and the
 * return is a negative errno. Warnings (ignored keys) go to the log.
 */
NTM_MUST_CHECK int en_config_load(const char *path, struct en_config **out,
				  struct ntm_conf_err *err);

/*
 * The same on an already parsed conf (borrowed; e.g. from ntm_conf_parse for
 * tests). An inline PrivateKey is accepted only when ntm_conf_is_private().
 */
NTM_MUST_CHECK int en_config_from_conf(const struct ntm_conf *conf, struct en_config **out,
				       struct ntm_conf_err *err);

/* Wipes the keys and frees everything; accepts NULL. */
void en_config_destroy(struct en_config *cfg);

#endif
