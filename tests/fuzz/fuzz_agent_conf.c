/* SPDX-License-Identifier: MIT */
/*
 * The ntm-agent.conf schema (recipe/agent/config.c) on any text: the INI
 * reader, every setter (names, types, enum words, drivers, Program split
 * into words, timeouts, TTLs, KeyRetention, peers) and the cross checks. A
 * failure must leave no config and name the file; a success must respect
 * every limit the agent relies on. The text is parsed from memory: the
 * agent's config names files but reads none while loading.
 */
#include <stdlib.h>
#include <string.h>

#include "common/conf.h"
#include "recipe/agent/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_point(const struct rcp_point_conf *p)
{
	size_t n = 0;

	if (p->name == NULL || p->n_values > RCP_AGENT_VALUES_MAX ||
	    (p->type == RCP_POINT_ENUM) != (p->n_values > 0) || p->timeout_s < 1 ||
	    p->timeout_s > 3600) {
		abort();
	}
	if (p->driver == RCP_DRIVER_SIMULATED && (p->state == NULL || p->program != NULL)) {
		abort();
	}
	if (p->driver == RCP_DRIVER_COMMAND) {
		if (p->program == NULL || p->argv[0] == NULL || p->argv[0][0] != '/') {
			abort();
		}
		while (n < RCP_AGENT_ARGS_MAX && p->argv[n] != NULL) {
			if (p->argv[n][0] == '\0' || strpbrk(p->argv[n], " \t") != NULL) {
				abort();
			}
			n++;
		}
	}
}

static void check(const struct rcp_agent_config *cfg)
{
	if (cfg->database == NULL || cfg->n_points > RCP_AGENT_POINTS_MAX ||
	    cfg->n_peers > RCP_AGENT_PEERS_MAX || cfg->retention_s < RCP_AGENT_RETENTION_MIN_S ||
	    cfg->deadline_s < 1 || cfg->deadline_s > 86400) {
		abort();
	}
	for (size_t i = 0; i < cfg->n_points; i++) {
		check_point(&cfg->points[i]);
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		if (cfg->peers[i].deadline_s > 86400 ||
		    rcp_agent_config_peer_by_fqdn(cfg, cfg->peers[i].fqdn) != &cfg->peers[i]) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rcp_agent_config *cfg = (void *)1;
	struct ntm_conf_err err;
	struct ntm_conf *conf;

	if (ntm_conf_parse("fuzz.conf", (const char *)data, size, &conf, &err) < 0) {
		return 0;
	}
	if (rcp_agent_config_from_conf(conf, &cfg, &err) < 0) {
		if (cfg != NULL || strncmp(err.msg, "fuzz.conf", 9) != 0) {
			abort();
		}
	} else {
		check(cfg);
		rcp_agent_config_destroy(cfg);
	}
	ntm_conf_destroy(conf);
	return 0;
}
