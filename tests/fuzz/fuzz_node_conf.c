/* SPDX-License-Identifier: MIT */
/*
 * The ntm-node.conf schema (endnode/config.c) on any text: the INI reader,
 * then every setter (keys, endpoints, prefixes, numbers, lists) and the
 * cross checks. A failure must leave no record and name the file; a success
 * must hold a private key and consistent counts. Each input is written to
 * one private (0600) temporary file, so that inline keys are accepted as in
 * a real config. Inputs that name a PrivateKeyFile are skipped: the fuzzer
 * must not open files of the host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/log.h"
#include "endnode/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool names_key_file(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	bool found;

	if (text == NULL) {
		abort();
	}
	memcpy(text, data, size);
	text[size] = '\0';
	for (size_t i = 0; i < size; i++) {
		text[i] = text[i] >= 'A' && text[i] <= 'Z' ? (char)(text[i] - 'A' + 'a') : text[i];
		text[i] = text[i] == '\0' ? ' ' : text[i];
	}
	found = strstr(text, "privatekeyfile") != NULL;
	free(text);
	return found;
}

static void check(const struct en_config *cfg)
{
	if (cfg->private_key == NULL || cfg->mtu < EN_CONFIG_MTU_MIN ||
	    cfg->n_peers > EN_CONFIG_PEERS_MAX || cfg->n_addresses > EN_CONFIG_PREFIXES_MAX) {
		abort();
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct en_config_peer *p = &cfg->peers[i];

		if (p->n_allowed_ips > EN_CONFIG_PREFIXES_MAX || p->line == 0) {
			abort();
		}
		for (size_t j = 0; j < p->n_allowed_ips; j++) {
			if (ntm_prefix_has_host_bits(&p->allowed_ips[j])) {
				abort();
			}
		}
	}
}

/* The one scratch file, made at the first input and removed at exit. */
static char scratch[64];

static void remove_scratch(void)
{
	unlink(scratch);
}

static int scratch_fd(void)
{
	static int fd = -1;
	const char *dir = getenv("TMPDIR");

	if (fd < 0) {
		snprintf(scratch, sizeof(scratch), "%s/fuzz_node_conf.XXXXXX",
			 dir != NULL && strlen(dir) < 32 ? dir : "/tmp");
		fd = mkstemp(scratch); /* mode 0600 */
		if (fd < 0 || ntm_crypto_init() < 0) {
			abort();
		}
		atexit(remove_scratch);
		ntm_log_set_level(NTM_LOG_ERR); /* no warning per input */
	}
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = scratch_fd();
	struct ntm_conf_err err;
	struct en_config *cfg;
	int rc;

	if (names_key_file(data, size)) {
		return 0;
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size) {
		abort();
	}
	rc = en_config_load(scratch, &cfg, &err);
	if (rc < 0) {
		if (cfg != NULL || strncmp(err.msg, scratch, strlen(scratch)) != 0) {
			abort();
		}
		return 0;
	}
	check(cfg);
	en_config_destroy(cfg);
	return 0;
}
