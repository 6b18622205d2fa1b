/* SPDX-License-Identifier: MIT */
/*
 * The INI reader on any bytes. A failure must leave no conf and a message
 * that names the file; a success must iterate to sections and entries that
 * obey the syntax rules (valid names, trimmed values without control bytes
 * or '#', lines in file order). Then the apply step runs a small node/DC
 * schema whose setters use the value helpers and the addr parsers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_PEERS = 64 };

struct target {
	uint32_t port;
	bool flag;
	struct ntm_prefix prefix;
	struct ntm_addr addr;
	int peers;
	int warnings;
};

static bool is_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NTM_CONF_NAME_MAX) {
		return false;
	}
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

static void check_value(const char *v)
{
	size_t n = strlen(v);

	if (strchr(v, '#') != NULL || (n > 0 && (v[0] == ' ' || v[0] == '\t')) ||
	    (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')) || n > NTM_CONF_LINE_MAX) {
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			abort();
		}
	}
}

static void walk(const struct ntm_conf *conf)
{
	unsigned last = 0;

	for (size_t i = 0; i < ntm_conf_section_count(conf); i++) {
		const struct ntm_conf_section *s = ntm_conf_section_at(conf, i);

		if (!is_name(ntm_conf_section_name(s)) || ntm_conf_section_line(s) <= last) {
			abort();
		}
		last = ntm_conf_section_line(s);
		for (size_t j = 0; j < ntm_conf_entry_count(s); j++) {
			const struct ntm_conf_entry *e = ntm_conf_entry_at(s, j);

			if (!is_name(ntm_conf_entry_key(e)) || ntm_conf_entry_line(e) <= last) {
				abort();
			}
			last = ntm_conf_entry_line(e);
			check_value(ntm_conf_entry_value(e));
		}
		if (ntm_conf_entry_at(s, ntm_conf_entry_count(s)) != NULL) {
			abort();
		}
	}
	if (ntm_conf_section_at(conf, ntm_conf_section_count(conf)) != NULL) {
		abort();
	}
}

static int set_port(void *t, const char *v, char *why, size_t whylen)
{
	return ntm_conf_parse_u32(v, 1, 65535, &((struct target *)t)->port, why, whylen);
}

static int set_flag(void *t, const char *v, char *why, size_t whylen)
{
	return ntm_conf_parse_bool(v, &((struct target *)t)->flag, why, whylen);
}

static int add_prefix(void *t, const char *item, char *why, size_t whylen)
{
	return ntm_prefix_parse(item, NTM_PREFIX_MASK_HOST, &((struct target *)t)->prefix, why,
				whylen);
}

static int set_prefixes(void *t, const char *v, char *why, size_t whylen)
{
	return ntm_conf_split_list(v, add_prefix, t, why, whylen);
}

static int set_pool(void *t, const char *v, char *why, size_t whylen)
{
	return ntm_prefix_parse(v, 0, &((struct target *)t)->prefix, why, whylen);
}

static int add_addr(void *t, const char *item, char *why, size_t whylen)
{
	return ntm_addr_parse(item, NTM_ADDR_PORT_ZERO_OK, &((struct target *)t)->addr, why,
			      whylen);
}

static int set_addrs(void *t, const char *v, char *why, size_t whylen)
{
	return ntm_conf_split_list(v, add_addr, t, why, whylen);
}

static int set_any(void *t, const char *v, char *why, size_t whylen)
{
	return 0;
}

static int open_peer(void *ctx, void **t, char *why, size_t whylen)
{
	struct target *tg = ctx;

	if (tg->peers == MAX_PEERS) {
		return -E2BIG;
	}
	tg->peers++;
	*t = tg;
	return 0;
}

static void count_warning(void *ctx, const char *msg)
{
	((struct target *)ctx)->warnings++;
	if (strncmp(msg, "fuzz.conf:", 10) != 0) {
		abort();
	}
}

static void apply(const struct ntm_conf *conf)
{
	static const struct ntm_conf_key_def iface[] = {
		{ "PrivateKey", NTM_CONF_KEY_ONCE, set_any, false },
		{ "ListenPort", NTM_CONF_KEY_ONCE, set_port, false },
		{ "Address", NTM_CONF_KEY_MULTI, set_prefixes, false },
		{ "Enabled", NTM_CONF_KEY_ONCE, set_flag, false },
		{ "DNS", NTM_CONF_KEY_IGNORED, NULL, false },
		{ "PostUp", NTM_CONF_KEY_IGNORED, NULL, false },
		{ NULL, 0, NULL, false },
	};
	static const struct ntm_conf_key_def peer[] = {
		{ "PublicKey", NTM_CONF_KEY_ONCE, set_any, true },
		{ "AllowedIPs", NTM_CONF_KEY_MULTI, set_prefixes, false },
		{ "Endpoint", NTM_CONF_KEY_ONCE, set_addrs, false },
		{ "PersistentKeepalive", NTM_CONF_KEY_ONCE, set_port, false },
		{ NULL, 0, NULL, false },
	};
	static const struct ntm_conf_key_def dc[] = {
		{ "Domain", NTM_CONF_KEY_ONCE, set_any, true },
		{ "Listen", NTM_CONF_KEY_MULTI, set_addrs, false },
		{ "Pool4", NTM_CONF_KEY_ONCE, set_pool, false },
		{ "Pool6", NTM_CONF_KEY_ONCE, set_pool, false },
		{ NULL, 0, NULL, false },
	};
	static const struct ntm_conf_key_def fed[] = {
		{ "Domain", NTM_CONF_KEY_ONCE, set_any, true },
		{ "PublicKey", NTM_CONF_KEY_ONCE, set_any, false },
		{ NULL, 0, NULL, false },
	};
	static const struct ntm_conf_key_def dns[] = {
		{ "Listen", NTM_CONF_KEY_MULTI, set_addrs, false },
		{ NULL, 0, NULL, false },
	};
	struct target tg = { .port = 0 };
	const struct ntm_conf_section_def sections[] = {
		{ .name = "Interface", .keys = iface, .target = &tg },
		{ .name = "Peer",
		  .keys = peer,
		  .flags = NTM_CONF_SECTION_REPEAT,
		  .open = open_peer,
		  .ctx = &tg },
		{ .name = "DC", .keys = dc, .target = &tg },
		{ .name = "Federation",
		  .keys = fed,
		  .flags = NTM_CONF_SECTION_REPEAT,
		  .open = open_peer,
		  .ctx = &tg },
		{ .name = "DNS", .keys = dns, .target = &tg },
		{ .name = NULL },
	};
	const struct ntm_conf_schema schema = { .sections = sections,
						.warn = count_warning,
						.warn_ctx = &tg };
	struct ntm_conf_err err;
	int rc = ntm_conf_apply(conf, &schema, &err);

	if (rc > 0 || (rc < 0 && strncmp(err.msg, "fuzz.conf", 9) != 0) ||
	    (rc == 0 && err.msg[0] != '\0')) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntm_conf_err err;
	struct ntm_conf *conf;
	int rc = ntm_conf_parse("fuzz.conf", (const char *)data, size, &conf, &err);

	if (rc < 0) {
		if (conf != NULL || strncmp(err.msg, "fuzz.conf:", 10) != 0) {
			abort();
		}
		return 0;
	}
	if (conf == NULL || err.msg[0] != '\0' || ntm_conf_is_private(conf)) {
		abort();
	}
	walk(conf);
	apply(conf);
	ntm_conf_destroy(conf);
	return 0;
}
