/* SPDX-License-Identifier: MIT */
/*
 * The ntm-dc.conf schema (dc/config.c) on any bytes. A failure must leave no
 * record and one message naming the file; a success must give a record that
 * obeys the schema's promises (normalised domain, usable pools, at least one
 * Listen address, keep-alive in range, absolute database path, distinct
 * federation domains other than our own).
 *
 * The seeds use PrivateKeyFile = /tmp/ntm-fuzz-dc.key, which this target
 * writes (mode 0600) before the first input, so that good files get past
 * the key and into the later checks. A config parsed from a buffer is never
 * private, so an inline PrivateKey is always refused here.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"
#include "dc/config.h"
#include "dc/pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ensure_key_file(void)
{
	static const char key[] = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n";
	int fd = open("/tmp/ntm-fuzz-dc.key", O_WRONLY | O_CREAT | O_EXCL, 0600);

	if (fd >= 0) {
		if (write(fd, key, sizeof(key) - 1) != (ssize_t)sizeof(key) - 1) {
			abort();
		}
		close(fd);
	}
}

static void check_record(const struct dc_config *cfg)
{
	char norm[DC_FQDN_SIZE];
	struct dc_pool p;

	if (dc_fqdn_normalize(cfg->domain, 0, norm, NULL, 0) < 0 ||
	    strcmp(norm, cfg->domain) != 0) {
		abort();
	}
	/* Pool6 may be absent (family 0): the DC then uses a stored random one. */
	if (dc_pool_init(&p, &cfg->pool4, NULL, 0) < 0 || dc_pool_family(&p) != AF_INET ||
	    (cfg->pool6.family != 0 &&
	     (dc_pool_init(&p, &cfg->pool6, NULL, 0) < 0 || dc_pool_family(&p) != AF_INET6))) {
		abort();
	}
	for (size_t i = 0; i < cfg->n_federation; i++) {
		if (cfg->federation[i].n_allow > DC_FEDPOLICY_RULES_MAX ||
		    cfg->federation[i].endpoints.n > DC_CONFIG_ADDRS_MAX) {
			abort();
		}
	}
	if (cfg->listen.n == 0 || cfg->listen.n > DC_CONFIG_ADDRS_MAX ||
	    cfg->keepalive < DC_CONFIG_KEEPALIVE_MIN || cfg->keepalive > DC_CONFIG_KEEPALIVE_MAX ||
	    cfg->database == NULL || cfg->database[0] != '/' || cfg->private_key == NULL) {
		abort();
	}
	for (size_t i = 0; i < cfg->n_federation; i++) {
		if (strcmp(cfg->federation[i].domain, cfg->domain) == 0) {
			abort();
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cfg->federation[i].domain, cfg->federation[j].domain) == 0) {
				abort();
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntm_conf_err err;
	struct ntm_conf *conf;
	struct dc_config *cfg;
	int rc;

	ensure_key_file();
	if (ntm_conf_parse("fuzz.conf", (const char *)data, size, &conf, &err) < 0) {
		return 0;
	}
	rc = dc_config_from_conf(conf, &cfg, &err);
	if (rc < 0) {
		if (cfg != NULL || strncmp(err.msg, "fuzz.conf", 9) != 0 ||
		    strchr(err.msg, '\n') != NULL) {
			abort();
		}
	} else {
		if (cfg == NULL) {
			abort();
		}
		check_record(cfg);
	}
	dc_config_destroy(cfg);
	ntm_conf_destroy(conf);
	return 0;
}
