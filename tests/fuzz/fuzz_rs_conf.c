/* SPDX-License-Identifier: MIT */
/*
 * The ntm-rs.conf schema (rs/config.c) on any bytes. A failure must leave no
 * record and a message naming the file; a success must give a record that
 * keeps the schema's promises (a key, 1..4 Listen addresses, as many
 * advertised addresses, DC endpoints, values in range).
 *
 * The seeds use PrivateKeyFile = /tmp/ntm-fuzz-rs.key, which this target
 * writes (mode 0600) before the first input. A config parsed from a buffer
 * is never private, so an inline PrivateKey is always refused here.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"
#include "rs/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ensure_key_file(void)
{
	static const char key[] = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n";
	int fd = open("/tmp/ntm-fuzz-rs.key", O_WRONLY | O_CREAT | O_EXCL, 0600);

	if (fd >= 0) {
		if (write(fd, key, sizeof(key) - 1) != (ssize_t)sizeof(key) - 1) {
			abort();
		}
		close(fd);
	}
}

static void check_record(const struct rs_config *c)
{
	if (c->private_key == NULL || c->n_listen == 0 || c->n_listen > RS_CONFIG_ADDRS_MAX ||
	    c->n_address == 0 || c->n_address > RS_CONFIG_ADDRS_MAX || c->n_dc_endpoints == 0 ||
	    c->n_dc_endpoints > RS_CONFIG_DC_ENDPOINTS_MAX || c->sessions == 0 ||
	    c->sessions > RS_CONFIG_SESSIONS_MAX || c->idle_s < RS_CONFIG_IDLE_MIN ||
	    c->idle_s > RS_CONFIG_IDLE_MAX || c->rate_kbit > RS_CONFIG_RATE_MAX) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntm_conf_err err;
	struct ntm_conf *conf;
	struct rs_config *cfg;

	ensure_key_file();
	if (ntm_conf_parse("fuzz.conf", (const char *)data, size, &conf, &err) < 0) {
		return 0;
	}
	if (rs_config_from_conf(conf, &cfg, &err) == 0) {
		check_record(cfg);
		rs_config_destroy(cfg);
	} else if (cfg != NULL || strncmp(err.msg, "fuzz.conf", 9) != 0) {
		abort();
	}
	ntm_conf_destroy(conf);
	return 0;
}
