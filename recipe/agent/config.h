/* SPDX-License-Identifier: MIT */
#ifndef RCP_AGENT_CONFIG_H
#define RCP_AGENT_CONFIG_H

/*
 * ntm-agent's configuration (ntm-agent.conf(5)): the device's name, its CoAP
 * endpoint and database, its sensors and actions with their drivers, and the
 * peers it may talk to. A plain value type: the loader fills it, the agent
 * reads it.
 *
 *   [Agent]  Name, Listen, Database, Recipes, Policy, NodeSocket,
 *            RecipeServer, PollInterval, ActionDeadline, KeyRetention,
 *            PolicyFetchTimeout
 *   [Sensor] / [Action] (repeat)  Name, Type, Values, Driver, State,
 *            Program, Timeout
 *   [Peer] (repeat)  Device, Address, ActionDeadline
 *   [Provisioning]   DevMgr, SecretFile, NodeConfig, NodeKeyFile, OnProvisioned,
 *                    OnProvisionedTimeout
 *
 * [Peer] maps a device's FQDN to an address. With NodeSocket the node's
 * control socket replaces it: `resolve` gives a device's VIP and `whois`
 * names the sender of a request; a [Peer] then only needs an Address for a
 * device outside the overlay.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/addr.h"
#include "common/conf.h"
#include "recipe/recipe.h"

enum {
	RCP_AGENT_POINTS_MAX = 64,	  /* [Sensor] + [Action] sections */
	RCP_AGENT_PEERS_MAX = 256,	  /* [Peer] sections */
	RCP_AGENT_VALUES_MAX = 16,	  /* words of an enum Type */
	RCP_AGENT_COAP_PORT = 5683,	  /* RFC 7252 default, when Address has no port */
	RCP_AGENT_POLL_DEFAULT_MS = 1000, /* PollInterval */
	RCP_AGENT_DEADLINE_DEFAULT_S = 60,
	RCP_AGENT_TIMEOUT_DEFAULT_S = 5,	   /* Timeout of a command driver */
	RCP_AGENT_ARGS_MAX = 16,		   /* words of Program, the program included */
	RCP_AGENT_HOOK_TIMEOUT_DEFAULT_S = 60,	   /* OnProvisionedTimeout */
	RCP_AGENT_RETENTION_DEFAULT_S = 7 * 86400, /* KeyRetention */
	RCP_AGENT_RETENTION_MIN_S = 86400,	   /* the longest ActionDeadline */
	RCP_AGENT_POLICY_FETCH_DEFAULT_MS = 2000,  /* PolicyFetchTimeout */
};

enum rcp_point_kind {
	RCP_POINT_SENSOR,
	RCP_POINT_ACTION,
};

enum rcp_point_type {
	RCP_POINT_NUMBER,
	RCP_POINT_BOOLEAN,
	RCP_POINT_ENUM,
};

enum rcp_driver_kind {
	RCP_DRIVER_SIMULATED, /* a state file holds the value */
	RCP_DRIVER_COMMAND,   /* a program reads or sets it */
};

/* One [Sensor] or [Action]. Strings are owned by the config. */
struct rcp_point_conf {
	enum rcp_point_kind kind;
	unsigned line;
	char *name; /* the resource path: one segment of [A-Za-z0-9_.~-] */
	enum rcp_point_type type;
	char *values[RCP_AGENT_VALUES_MAX]; /* ENUM: the allowed words */
	size_t n_values;
	enum rcp_driver_kind driver;
	char *state;			    /* SIMULATED: the state file */
	char *program;			    /* COMMAND: Program as written */
	char *argv[RCP_AGENT_ARGS_MAX + 1]; /* COMMAND: its words, NULL-terminated */
	uint32_t timeout_s;
};

struct rcp_peer_conf {
	unsigned line;
	char fqdn[RCP_FQDN_MAX + 1]; /* lower case */
	struct ntm_addr addr;	     /* len 0: none (resolved through NodeSocket) */
	uint32_t deadline_s;	     /* ActionDeadline of this device, 0: the [Agent] one */
};

struct rcp_agent_config {
	char fqdn[RCP_FQDN_MAX + 1]; /* lower case */
	struct ntm_addr listen;
	char *database;
	char *recipes;	   /* file in the recipe language, or NULL */
	char *policy;	   /* file in the policy language, or NULL */
	char *node_socket; /* the ntm-node's control socket, or NULL: [Peer] addresses only */
	char recipe_server[RCP_FQDN_MAX + 1]; /* RecipeServer (lower case), "" when none */
	/* [Provisioning] (provision.h), all NULL without it */
	char *prov_devmgr, *prov_secret_file, *prov_node_config, *prov_node_key;
	char *prov_hook;	      /* OnProvisioned: a /bin/sh command, or NULL */
	uint32_t prov_hook_timeout_s; /* OnProvisionedTimeout */
	uint32_t poll_ms;
	uint32_t deadline_s;	  /* ActionDeadline: the outbox TTL of a request */
	uint32_t retention_s;	  /* KeyRetention: age at which idempotency records go */
	uint32_t policy_fetch_ms; /* PolicyFetchTimeout: reading another device for the policy */
	struct rcp_point_conf *points; /* owned array */
	size_t n_points;
	struct rcp_peer_conf *peers; /* owned array */
	size_t n_peers;
};

/*
 * Apply a parsed conf (borrowed). On success *out is a new config the caller
 * frees with rcp_agent_config_destroy(); on failure *out is NULL and err
 * names file, line and reason. 0, -EINVAL, -ENOMEM.
 */
NTM_MUST_CHECK int rcp_agent_config_from_conf(const struct ntm_conf *conf,
					      struct rcp_agent_config **out,
					      struct ntm_conf_err *err);
/* ntm_conf_load + rcp_agent_config_from_conf. */
NTM_MUST_CHECK int rcp_agent_config_load(const char *path, struct rcp_agent_config **out,
					 struct ntm_conf_err *err);
void rcp_agent_config_destroy(struct rcp_agent_config *cfg);

/* The point called name of that kind, or NULL; borrowed from cfg. */
const struct rcp_point_conf *rcp_agent_config_point(const struct rcp_agent_config *cfg,
						    enum rcp_point_kind kind, const char *name);
/* The [Peer] with this FQDN / this IP address (port ignored), or NULL. */
const struct rcp_peer_conf *rcp_agent_config_peer_by_fqdn(const struct rcp_agent_config *cfg,
							  const char *fqdn);
const struct rcp_peer_conf *rcp_agent_config_peer_by_ip(const struct rcp_agent_config *cfg,
							const struct sockaddr *sa);

/*
 * Convert a driver's text (trimmed by the caller) into a value of the point's
 * type: a number; true/false/on/off/1/0; or one of the enum words. *out is
 * zeroed on entry; -EINVAL (wrong type or not an allowed word), -ENOMEM.
 */
NTM_MUST_CHECK int rcp_point_parse_value(const struct rcp_point_conf *p, const char *s, size_t len,
					 struct rcp_value *out);
/* Whether v is of the point's type (and, for ENUM, one of its words). */
bool rcp_point_accepts(const struct rcp_point_conf *p, const struct rcp_value *v);

#endif
