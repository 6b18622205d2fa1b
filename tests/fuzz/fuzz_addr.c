/* SPDX-License-Identifier: MIT */
/*
 * Endpoint and prefix parsers. The first input byte selects the mode (its low
 * four bits, so the ASCII digits '0'..'9' in a seed name it):
 *   bit 0  NTM_ADDR_PORT_ZERO_OK for ntm_addr_parse
 *   bit 1  NTM_PREFIX_MASK_HOST for ntm_prefix_parse
 *   bit 2  NTM_PREFIX_KEEP_HOST (bits 1 and 2 together must be refused)
 *   bit 3  treat the rest as a comma list, split by ntm_conf_split_list
 * The rest is the text. Whatever parses must format, re-parse to the same
 * value and format to the same text again; a prefix must contain its own
 * address and every address that differs only past the prefix length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/addr.h"
#include "common/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_TEXT = 512 };

static void check_addr(const char *text, unsigned flags)
{
	struct ntm_addr a, b;
	char why[128] = "x", buf[NTM_ADDR_STRLEN], buf2[NTM_ADDR_STRLEN];
	int rc = ntm_addr_parse(text, flags, &a, why, sizeof(why));

	if (rc < 0) {
		if ((rc != -EINVAL && rc != -ERANGE) || why[0] == '\0' || a.len != 0) {
			abort();
		}
		return;
	}
	if (why[0] != '\0' || a.len != (ntm_addr_is_v6(&a) ? sizeof(a.sin6) : sizeof(a.sin))) {
		abort();
	}
	if (ntm_addr_port(&a) == 0 && !(flags & NTM_ADDR_PORT_ZERO_OK)) {
		abort();
	}
	if (ntm_addr_format(&a, buf, sizeof(buf)) != 0 ||
	    ntm_addr_parse(buf, flags, &b, NULL, 0) != 0 || !ntm_addr_equal(&a, &b) ||
	    ntm_addr_format(&b, buf2, sizeof(buf2)) != 0 || strcmp(buf, buf2) != 0) {
		abort();
	}
}

static void flip_bit(uint8_t *addr, unsigned bit)
{
	addr[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
}

static void check_contains(const struct ntm_prefix *p)
{
	unsigned max = p->family == AF_INET ? 32 : 128;
	uint8_t a[16];

	memcpy(a, p->addr, sizeof(a));
	if (!ntm_prefix_contains(p, p->family, a)) {
		abort();
	}
	for (unsigned bit = 0; bit < max; bit++) {
		flip_bit(a, bit);
		if (ntm_prefix_contains(p, p->family, a) != (bit >= p->prefix_len)) {
			abort();
		}
		flip_bit(a, bit);
	}
	if (ntm_prefix_contains(p, p->family == AF_INET ? AF_INET6 : AF_INET, a)) {
		abort();
	}
}

static void check_prefix(const char *text, unsigned flags)
{
	struct ntm_prefix p, q;
	char why[128] = "x", buf[NTM_PREFIX_STRLEN], buf2[NTM_PREFIX_STRLEN];
	int rc = ntm_prefix_parse(text, flags, &p, why, sizeof(why));
	bool both = (flags & NTM_PREFIX_MASK_HOST) && (flags & NTM_PREFIX_KEEP_HOST);

	if (rc < 0) {
		if ((rc != -EINVAL && rc != -ERANGE) || why[0] == '\0' || p.family != 0) {
			abort();
		}
		return;
	}
	if (both || why[0] != '\0' || (p.family != AF_INET && p.family != AF_INET6) ||
	    p.prefix_len > (p.family == AF_INET ? 32 : 128)) {
		abort();
	}
	if (!(flags & NTM_PREFIX_KEEP_HOST) && ntm_prefix_has_host_bits(&p)) {
		abort();
	}
	if (ntm_prefix_format(&p, buf, sizeof(buf)) != 0 ||
	    ntm_prefix_parse(buf, flags, &q, NULL, 0) != 0 || !ntm_prefix_equal(&p, &q) ||
	    ntm_prefix_format(&q, buf2, sizeof(buf2)) != 0 || strcmp(buf, buf2) != 0) {
		abort();
	}
	check_contains(&p);
}

struct mode {
	unsigned addr_flags;
	unsigned prefix_flags;
};

static int check_item(void *ctx, const char *item, char *why, size_t whylen)
{
	const struct mode *m = ctx;

	if (item[0] == '\0' || item[0] == ' ' || item[strlen(item) - 1] == ' ' ||
	    strchr(item, ',') != NULL) {
		abort();
	}
	check_addr(item, m->addr_flags);
	check_prefix(item, m->prefix_flags);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[MAX_TEXT + 1];
	char why[NTM_CONF_WHY_MAX];
	struct mode m;

	if (size < 1 || size - 1 > MAX_TEXT) {
		return 0;
	}
	m.addr_flags = (data[0] & 0x01) ? NTM_ADDR_PORT_ZERO_OK : 0;
	m.prefix_flags = ((data[0] & 0x02) ? NTM_PREFIX_MASK_HOST : 0) |
			 ((data[0] & 0x04) ? NTM_PREFIX_KEEP_HOST : 0);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0'; /* an embedded NUL just ends the string early */
	if (data[0] & 0x08) {
		if (ntm_conf_split_list(text, check_item, &m, why, sizeof(why)) < 0 &&
		    why[0] == '\0') {
			abort();
		}
		return 0;
	}
	check_addr(text, m.addr_flags);
	check_prefix(text, m.prefix_flags);
	return 0;
}
