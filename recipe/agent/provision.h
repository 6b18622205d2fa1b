/* SPDX-License-Identifier: MIT */
#ifndef RCP_AGENT_PROVISION_H
#define RCP_AGENT_PROVISION_H

/*
 * A device's provisioning ([Provisioning] in ntm-agent.conf(5)): when the
 * agent starts and the device has none yet, it fetches it from its vendor's
 * ntm-devmgr(8) with the provisioning secret it was manufactured with
 * (GET /v1/provisioning), keeps it in the agent's database, and writes the
 * node's configuration (ntm-node.conf(5): Name, PrivateKeyFile, [DC]
 * Endpoint and PublicKey) unless that file exists. The recipe server's
 * host becomes the agent's RecipeServer when the config names none. Done
 * once: a later start reads the stored copy and asks nobody.
 *
 * Right after the provisioning is stored, OnProvisioned (hook.h) runs once,
 * with NTM_NODE_CONFIG and NTM_NODE_NAME in its environment: it starts the
 * node (the shipped ntm-agent.service documents `systemctl enable --now
 * ntm-node@ntm0.service`, so later boots start the node by themselves).
 * Its result is logged; a failure does not stop the agent.
 */

#include <stddef.h>

#include "common/err.h"
#include "recipe/agent/config.h"

enum {
	RCP_PROVISION_TRIES = 30, /* the devmgr may come up after the device */
	RCP_PROVISION_PAUSE_MS = 1000,
};

/*
 * Before the loop (blocking, bounded: at most RCP_PROVISION_TRIES requests).
 * cfg->recipe_server may be set. 0 (also without [Provisioning]), or a
 * negative errno with why.
 */
NTM_MUST_CHECK int rcp_provision_run(struct rcp_agent_config *cfg, char *why, size_t whylen);

/*
 * Check a devmgr's provisioning answer (outside input: fuzzed) and pull out
 * what the device needs. Strings are copied into the caller's buffers.
 */
struct rcp_provisioning {
	char fqdn[RCP_FQDN_MAX + 1];
	char dc_endpoint[256];
	char dc_key[64];
	char recipe_host[RCP_FQDN_MAX + 1]; /* host of the recipe_server URL, "" if none */
};
NTM_MUST_CHECK int rcp_provision_parse(const char *body, size_t len, struct rcp_provisioning *out,
				       char *why, size_t whylen);

#endif
