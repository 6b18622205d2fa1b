/* SPDX-License-Identifier: MIT */
#include "ctrlmsg.h"

#include <arpa/inet.h>
#include <string.h>

#include "wire.h"

#define BIT(a) NTM_CTRL_BIT(a)

/* Which attributes each kind requires and allows (required is a subset of allowed). */
struct kind_rule {
	uint8_t kind;
	uint64_t required;
	uint64_t allowed;
	uint64_t one_of; /* exactly one of these must be present (0: no such rule) */
};

#define OPT_BIT(a) (UINT32_C(1) << ((a)-NTM_CTRL_ATTR_OPTIONAL_FIRST))

/* The known optional attributes a kind takes, bit (attr - 0x80); others are skipped. */
static uint32_t opt_allowed(uint8_t kind)
{
	return kind == NTM_CTRL_REGISTER_OK ? OPT_BIT(NTM_CTRL_ATTR_DOMAIN) : 0;
}

#define DIRECTION_REQUIRED                                                               \
	(BIT(NTM_CTRL_ATTR_FQDN) | BIT(NTM_CTRL_ATTR_PUBKEY) | BIT(NTM_CTRL_ATTR_VIP4) | \
	 BIT(NTM_CTRL_ATTR_VIP6) | BIT(NTM_CTRL_ATTR_OUTSIDE))

#define RELAY_ALLOC_ATTRS                                                \
	(BIT(NTM_CTRL_ATTR_SESSION_ID) | BIT(NTM_CTRL_ATTR_CREDENTIAL) | \
	 BIT(NTM_CTRL_ATTR_LIFETIME))
#define RELAY_OFFER_ATTRS                                                          \
	(RELAY_ALLOC_ATTRS | BIT(NTM_CTRL_ATTR_FQDN) | BIT(NTM_CTRL_ATTR_PUBKEY) | \
	 BIT(NTM_CTRL_ATTR_RELAY_ADDR) | BIT(NTM_CTRL_ATTR_SIDE))
#define RS_REGISTER_ATTRS (BIT(NTM_CTRL_ATTR_RELAY_ADDR) | BIT(NTM_CTRL_ATTR_LOAD))

#define FED_HELLO_ATTRS \
	(BIT(NTM_CTRL_ATTR_FED_DOMAIN) | BIT(NTM_CTRL_ATTR_POOL4) | BIT(NTM_CTRL_ATTR_POOL6))
#define FED_NODE_ATTRS                                                                \
	(DIRECTION_REQUIRED | BIT(NTM_CTRL_ATTR_CANDIDATE) | BIT(NTM_CTRL_ATTR_NAT) | \
	 BIT(NTM_CTRL_ATTR_FAMILIES))

#define FED_RELAY_ATTRS                                                                \
	(RELAY_ALLOC_ATTRS | BIT(NTM_CTRL_ATTR_FQDN) | BIT(NTM_CTRL_ATTR_FED_TARGET) | \
	 BIT(NTM_CTRL_ATTR_PUBKEY) | BIT(NTM_CTRL_ATTR_RELAY_ADDR))
#define FED_PAIR_ATTRS \
	(BIT(NTM_CTRL_ATTR_FQDN) | BIT(NTM_CTRL_ATTR_FED_TARGET) | BIT(NTM_CTRL_ATTR_PUBKEY))
#define FED_DONE_ATTRS \
	(BIT(NTM_CTRL_ATTR_FQDN) | BIT(NTM_CTRL_ATTR_PUBKEY) | BIT(NTM_CTRL_ATTR_SESSION_ID))

/* Attributes that may repeat. */
#define REPEATABLE (BIT(NTM_CTRL_ATTR_CANDIDATE) | BIT(NTM_CTRL_ATTR_RELAY_ADDR))

static const struct kind_rule kind_rules[] = {
	{ NTM_CTRL_REGISTER, BIT(NTM_CTRL_ATTR_FQDN),
	  BIT(NTM_CTRL_ATTR_FQDN) | BIT(NTM_CTRL_ATTR_TOKEN) | BIT(NTM_CTRL_ATTR_CANDIDATE), 0 },
	{ NTM_CTRL_REGISTER_OK,
	  BIT(NTM_CTRL_ATTR_VIP4) | BIT(NTM_CTRL_ATTR_VIP6) | BIT(NTM_CTRL_ATTR_OUTSIDE) |
		  BIT(NTM_CTRL_ATTR_KEEPALIVE),
	  BIT(NTM_CTRL_ATTR_VIP4) | BIT(NTM_CTRL_ATTR_VIP6) | BIT(NTM_CTRL_ATTR_OUTSIDE) |
		  BIT(NTM_CTRL_ATTR_KEEPALIVE) | BIT(NTM_CTRL_ATTR_POOL4) |
		  BIT(NTM_CTRL_ATTR_POOL6) | BIT(NTM_CTRL_ATTR_ALT_ENDPOINT) |
		  BIT(NTM_CTRL_ATTR_NAT) | BIT(NTM_CTRL_ATTR_FAMILIES),
	  0 },
	{ NTM_CTRL_KEEPALIVE, 0, 0, 0 },
	{ NTM_CTRL_KEEPALIVE_ACK, 0,
	  BIT(NTM_CTRL_ATTR_OUTSIDE) | BIT(NTM_CTRL_ATTR_NAT) | BIT(NTM_CTRL_ATTR_FAMILIES), 0 },
	{ NTM_CTRL_ERROR, BIT(NTM_CTRL_ATTR_ERROR_CODE),
	  BIT(NTM_CTRL_ATTR_ERROR_CODE) | BIT(NTM_CTRL_ATTR_ERROR_TEXT), 0 },
	{ NTM_CTRL_DIRECTION_REQUEST, 0,
	  BIT(NTM_CTRL_ATTR_FQDN) | BIT(NTM_CTRL_ATTR_TARGET_VIP) | BIT(NTM_CTRL_ATTR_MOVED),
	  BIT(NTM_CTRL_ATTR_FQDN) | BIT(NTM_CTRL_ATTR_TARGET_VIP) },
	{ NTM_CTRL_DIRECTION, DIRECTION_REQUIRED,
	  DIRECTION_REQUIRED | BIT(NTM_CTRL_ATTR_CANDIDATE) | BIT(NTM_CTRL_ATTR_PATH) |
		  BIT(NTM_CTRL_ATTR_NAT) | BIT(NTM_CTRL_ATTR_NAT_PEER) | BIT(NTM_CTRL_ATTR_MOVED),
	  0 },
	{ NTM_CTRL_PEER_REVOKED, BIT(NTM_CTRL_ATTR_PUBKEY),
	  BIT(NTM_CTRL_ATTR_PUBKEY) | BIT(NTM_CTRL_ATTR_FQDN), 0 },
	{ NTM_CTRL_RELAY_ALLOC, RELAY_ALLOC_ATTRS, RELAY_ALLOC_ATTRS, 0 },
	{ NTM_CTRL_RELAY_ALLOC_OK, BIT(NTM_CTRL_ATTR_SESSION_ID), BIT(NTM_CTRL_ATTR_SESSION_ID),
	  0 },
	{ NTM_CTRL_RELAY_RELEASE, BIT(NTM_CTRL_ATTR_SESSION_ID), BIT(NTM_CTRL_ATTR_SESSION_ID), 0 },
	{ NTM_CTRL_RELAY_RELEASE_OK, BIT(NTM_CTRL_ATTR_SESSION_ID), BIT(NTM_CTRL_ATTR_SESSION_ID),
	  0 },
	{ NTM_CTRL_RELAY_REQUEST, BIT(NTM_CTRL_ATTR_FQDN),
	  BIT(NTM_CTRL_ATTR_FQDN) | BIT(NTM_CTRL_ATTR_RELAY_ADDR), 0 },
	{ NTM_CTRL_RELAY_OFFER, RELAY_OFFER_ATTRS, RELAY_OFFER_ATTRS, 0 },
	{ NTM_CTRL_RELAY_DONE, BIT(NTM_CTRL_ATTR_PUBKEY) | BIT(NTM_CTRL_ATTR_SESSION_ID),
	  BIT(NTM_CTRL_ATTR_PUBKEY) | BIT(NTM_CTRL_ATTR_SESSION_ID), 0 },
	{ NTM_CTRL_RS_REGISTER, RS_REGISTER_ATTRS, RS_REGISTER_ATTRS, 0 },
	{ NTM_CTRL_RS_REGISTER_OK, BIT(NTM_CTRL_ATTR_KEEPALIVE), BIT(NTM_CTRL_ATTR_KEEPALIVE), 0 },
	{ NTM_CTRL_RS_LOAD, BIT(NTM_CTRL_ATTR_LOAD), BIT(NTM_CTRL_ATTR_LOAD), 0 },
	{ NTM_CTRL_RS_LOAD_ACK, 0, 0, 0 },
	{ NTM_CTRL_FED_HELLO, FED_HELLO_ATTRS, FED_HELLO_ATTRS, 0 },
	{ NTM_CTRL_FED_HELLO_OK, FED_HELLO_ATTRS, FED_HELLO_ATTRS, 0 },
	{ NTM_CTRL_FED_QUERY, DIRECTION_REQUIRED | BIT(NTM_CTRL_ATTR_FED_TARGET),
	  FED_NODE_ATTRS | BIT(NTM_CTRL_ATTR_FED_TARGET) | BIT(NTM_CTRL_ATTR_FED_HAS_RELAY), 0 },
	{ NTM_CTRL_FED_ANSWER, DIRECTION_REQUIRED | BIT(NTM_CTRL_ATTR_PATH),
	  FED_NODE_ATTRS | BIT(NTM_CTRL_ATTR_PATH) | BIT(NTM_CTRL_ATTR_FED_NO_RELAY), 0 },
	{ NTM_CTRL_FED_RELAY, FED_RELAY_ATTRS, FED_RELAY_ATTRS | BIT(NTM_CTRL_ATTR_SIDE), 0 },
	{ NTM_CTRL_FED_RELAY_NEED, FED_PAIR_ATTRS, FED_PAIR_ATTRS | BIT(NTM_CTRL_ATTR_RELAY_ADDR),
	  0 },
	{ NTM_CTRL_FED_RELAY_REQUEST, FED_PAIR_ATTRS,
	  FED_PAIR_ATTRS | BIT(NTM_CTRL_ATTR_RELAY_ADDR), 0 },
	{ NTM_CTRL_FED_RELAY_DONE, FED_DONE_ATTRS, FED_DONE_ATTRS, 0 },
	{ NTM_CTRL_FED_REVOKED, BIT(NTM_CTRL_ATTR_PUBKEY) | BIT(NTM_CTRL_ATTR_FQDN),
	  BIT(NTM_CTRL_ATTR_PUBKEY) | BIT(NTM_CTRL_ATTR_FQDN), 0 },
};

/* Every required attribute, and exactly one of the one_of set where there is one. */
static bool has_required(uint64_t attrs, const struct kind_rule *rule)
{
	uint64_t one = attrs & rule->one_of;

	return (attrs & rule->required) == rule->required &&
	       (rule->one_of == 0 || (one != 0 && (one & (one - 1)) == 0));
}

static const struct kind_rule *find_rule(uint8_t kind)
{
	for (size_t i = 0; i < sizeof(kind_rules) / sizeof(kind_rules[0]); i++) {
		if (kind_rules[i].kind == kind) {
			return &kind_rules[i];
		}
	}
	return NULL;
}

void ntm_ctrl_msg_init(struct ntm_ctrl_msg *m, enum ntm_ctrl_kind kind, uint32_t req_id)
{
	memset(m, 0, sizeof(*m));
	m->kind = (uint8_t)kind;
	m->req_id = req_id;
}

bool ntm_ctrl_msg_has(const struct ntm_ctrl_msg *m, enum ntm_ctrl_attr a)
{
	if (a >= NTM_CTRL_ATTR_OPTIONAL_FIRST && a < NTM_CTRL_ATTR_OPTIONAL_KNOWN_END) {
		return (m->opt_attrs & OPT_BIT(a)) != 0;
	}
	return a < 64 && (m->attrs & BIT(a)) != 0;
}

/* A domain as DOMAIN carries it: lower-case letters, digits, '-' and '.'. */
static bool is_domain(const uint8_t *p, size_t n)
{
	if (n < 1 || n > NTM_CTRL_FQDN_MAX) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '-' ||
		      p[i] == '.')) {
			return false;
		}
	}
	return true;
}

int ntm_ctrl_msg_add_domain(struct ntm_ctrl_msg *m, const char *domain)
{
	size_t n = strnlen(domain, NTM_CTRL_FQDN_MAX + 1);

	if (!is_domain((const uint8_t *)domain, n)) {
		return -EINVAL;
	}
	if (m->n_domains == NTM_CTRL_DOMAINS_MAX) {
		return -E2BIG;
	}
	memcpy(m->domains[m->n_domains], domain, n);
	m->domains[m->n_domains++][n] = '\0';
	m->opt_attrs |= OPT_BIT(NTM_CTRL_ATTR_DOMAIN);
	return 0;
}

/* A known optional attribute its kind allows (others were skipped already). */
static int get_opt_attr(struct ntm_ctrl_msg *m, uint8_t attr, const uint8_t *v, size_t n)
{
	if (attr != NTM_CTRL_ATTR_DOMAIN || m->n_domains == NTM_CTRL_DOMAINS_MAX ||
	    !is_domain(v, n)) {
		return -EBADMSG;
	}
	memcpy(m->domains[m->n_domains], v, n);
	m->domains[m->n_domains++][n] = '\0';
	m->opt_attrs |= OPT_BIT(attr);
	return 0;
}

/* Printable ASCII, no NUL; space only where `space_ok`. */
static bool is_text(const uint8_t *p, size_t n, bool space_ok)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] > 0x7e || p[i] < (space_ok ? 0x20 : 0x21)) {
			return false;
		}
	}
	return true;
}

static bool is_text_str(const char *s, size_t min, size_t max, bool space_ok)
{
	size_t n = strnlen(s, max + 1);

	return n >= min && n <= max && is_text((const uint8_t *)s, n, space_ok);
}

static int get_text(char *dst, size_t min, size_t max, const uint8_t *v, size_t n, bool space_ok)
{
	if (n < min || n > max || !is_text(v, n, space_ok)) {
		return -EBADMSG;
	}
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

static bool is_addr(const struct ntm_ctrl_addr *a)
{
	return (a->family == 4 || a->family == 6) && a->port != 0;
}

static int get_addr(struct ntm_ctrl_addr *a, const uint8_t *v, size_t n)
{
	size_t ip_len = n == NTM_CTRL_ADDR4_LEN ? 4 : 16;

	if ((n != NTM_CTRL_ADDR4_LEN && n != NTM_CTRL_ADDR6_LEN) ||
	    v[0] != (n == NTM_CTRL_ADDR4_LEN ? 4 : 6)) {
		return -EBADMSG;
	}
	memset(a, 0, sizeof(*a));
	a->family = v[0];
	memcpy(a->ip, v + 1, ip_len);
	a->port = (uint16_t)(v[1 + ip_len] << 8 | v[2 + ip_len]);
	return a->port != 0 ? 0 : -EBADMSG;
}

static int get_be16(uint16_t *dst, const uint8_t *v, size_t n, uint16_t min, uint16_t max)
{
	uint16_t x;

	if (n != 2) {
		return -EBADMSG;
	}
	x = (uint16_t)(v[0] << 8 | v[1]);
	if (x < min || x > max) {
		return -EBADMSG;
	}
	*dst = x;
	return 0;
}

/* A pool prefix: network address then prefix length; host bits must be clear. */
static int get_pool(struct ntm_prefix *p, int family, const uint8_t *v, size_t n)
{
	size_t alen = family == AF_INET ? 4 : 16;

	if (n != alen + 1 || v[alen] > alen * 8) {
		return -EBADMSG;
	}
	memset(p, 0, sizeof(*p));
	p->family = (uint8_t)family;
	memcpy(p->addr, v, alen);
	p->prefix_len = v[alen];
	return ntm_prefix_has_host_bits(p) ? -EBADMSG : 0;
}

static int get_target(struct ntm_ctrl_msg *m, const uint8_t *v, size_t n)
{
	if (n != 4 && n != 16) {
		return -EBADMSG;
	}
	m->target_family = n == 4 ? 4 : 6;
	memcpy(m->target_vip, v, n);
	return 0;
}

static int get_be32(uint32_t *dst, const uint8_t *v, size_t n)
{
	struct ntm_rbuf r;

	ntm_rbuf_init(&r, v, n);
	return n == 4 && ntm_rbuf_get_be32(&r, dst) == 0 && *dst != 0 ? 0 : -EBADMSG;
}

static int get_load(struct ntm_ctrl_load *l, const uint8_t *v, size_t n)
{
	struct ntm_rbuf r;

	ntm_rbuf_init(&r, v, n);
	if (n != NTM_CTRL_LOAD_LEN || ntm_rbuf_get_be32(&r, &l->sessions) < 0 ||
	    ntm_rbuf_get_be32(&r, &l->capacity) < 0 || ntm_rbuf_get_be32(&r, &l->pps) < 0 ||
	    ntm_rbuf_get_be64(&r, &l->bps) < 0 || ntm_rbuf_get_be16(&r, &l->cpu) < 0) {
		return -EBADMSG;
	}
	return l->sessions <= l->capacity && l->cpu <= NTM_CTRL_CPU_MAX ? 0 : -EBADMSG;
}

/* One byte no greater than max. */
static int get_u8(uint8_t *dst, const uint8_t *v, size_t n, uint8_t max)
{
	if (n != 1 || v[0] > max) {
		return -EBADMSG;
	}
	*dst = v[0];
	return 0;
}

/* The path attributes (26-30) into m. */
static int get_path_attr(struct ntm_ctrl_msg *m, uint8_t attr, const uint8_t *v, size_t n)
{
	switch (attr) {
	case NTM_CTRL_ATTR_ALT_ENDPOINT:
		return get_addr(&m->alt_endpoint, v, n);
	case NTM_CTRL_ATTR_NAT:
		return get_u8(&m->nat, v, n, NTM_CTRL_NAT_MAX);
	case NTM_CTRL_ATTR_NAT_PEER:
		return get_u8(&m->nat_peer, v, n, NTM_CTRL_NAT_MAX);
	case NTM_CTRL_ATTR_PATH:
		return get_u8(&m->path, v, n, NTM_CTRL_PATH_MAX);
	case NTM_CTRL_ATTR_FAMILIES:
		return get_u8(&m->families, v, n, NTM_CTRL_FAMILY_V4 | NTM_CTRL_FAMILY_V6);
	case NTM_CTRL_ATTR_MOVED:
	case NTM_CTRL_ATTR_FED_NO_RELAY:
	case NTM_CTRL_ATTR_FED_HAS_RELAY:
		return n == 0 ? 0 : -EBADMSG; /* a flag */
	case NTM_CTRL_ATTR_FED_DOMAIN:
		if (!is_domain(v, n)) {
			return -EBADMSG;
		}
		memcpy(m->fed_domain, v, n);
		m->fed_domain[n] = '\0';
		return 0;
	case NTM_CTRL_ATTR_FED_TARGET:
		return get_text(m->fed_target, 1, NTM_CTRL_FQDN_MAX, v, n, false);
	default:
		return -EBADMSG;
	}
}

/* The relay attributes (20-25) into m. */
static int get_relay_attr(struct ntm_ctrl_msg *m, uint8_t attr, const uint8_t *v, size_t n)
{
	switch (attr) {
	case NTM_CTRL_ATTR_RELAY_ADDR:
		if (m->n_relay_addr == NTM_CTRL_RELAY_ADDRS_MAX) {
			return -EBADMSG;
		}
		return get_addr(&m->relay_addr[m->n_relay_addr++], v, n);
	case NTM_CTRL_ATTR_LOAD:
		return get_load(&m->load, v, n);
	case NTM_CTRL_ATTR_SESSION_ID:
		return get_be32(&m->session_id, v, n);
	case NTM_CTRL_ATTR_CREDENTIAL:
		if (n != sizeof(m->credential)) {
			return -EBADMSG;
		}
		memcpy(m->credential, v, n);
		return 0;
	case NTM_CTRL_ATTR_LIFETIME:
		return get_be16(&m->lifetime, v, n, 1, NTM_CTRL_LIFETIME_MAX);
	case NTM_CTRL_ATTR_SIDE:
		if (n != 1 || v[0] > 1) {
			return -EBADMSG;
		}
		m->side = v[0];
		return 0;
	default:
		return get_path_attr(m, attr, v, n);
	}
}

/* One known attribute's value into m. */
static int get_attr(struct ntm_ctrl_msg *m, uint8_t attr, const uint8_t *v, size_t n)
{
	switch (attr) {
	case NTM_CTRL_ATTR_FQDN:
		return get_text(m->fqdn, 1, NTM_CTRL_FQDN_MAX, v, n, false);
	case NTM_CTRL_ATTR_TOKEN:
		return get_text(m->token, 1, NTM_CTRL_TOKEN_MAX, v, n, false);
	case NTM_CTRL_ATTR_CANDIDATE:
		if (m->n_cand == NTM_CTRL_CANDIDATES_MAX) {
			return -EBADMSG;
		}
		return get_addr(&m->cand[m->n_cand++], v, n);
	case NTM_CTRL_ATTR_VIP4:
	case NTM_CTRL_ATTR_VIP6:
		if (n != (attr == NTM_CTRL_ATTR_VIP4 ? 4u : 16u)) {
			return -EBADMSG;
		}
		memcpy(attr == NTM_CTRL_ATTR_VIP4 ? m->vip4 : m->vip6, v, n);
		return 0;
	case NTM_CTRL_ATTR_OUTSIDE:
		return get_addr(&m->outside, v, n);
	case NTM_CTRL_ATTR_KEEPALIVE:
		return get_be16(&m->keepalive, v, n, 1, NTM_CTRL_KEEPALIVE_MAX);
	case NTM_CTRL_ATTR_ERROR_CODE:
		return get_be16(&m->error_code, v, n, 1, UINT16_MAX);
	case NTM_CTRL_ATTR_ERROR_TEXT:
		return get_text(m->error_text, 0, NTM_CTRL_ERROR_TEXT_MAX, v, n, true);
	case NTM_CTRL_ATTR_PUBKEY:
		if (n != sizeof(m->pubkey)) {
			return -EBADMSG;
		}
		memcpy(m->pubkey, v, n);
		return 0;
	case NTM_CTRL_ATTR_POOL4:
		return get_pool(&m->pool4, AF_INET, v, n);
	case NTM_CTRL_ATTR_POOL6:
		return get_pool(&m->pool6, AF_INET6, v, n);
	case NTM_CTRL_ATTR_TARGET_VIP:
		return get_target(m, v, n);
	default:
		return get_relay_attr(m, attr, v, n);
	}
}

/* The rest of the buffer after a zero attribute byte must be zero padding. */
static bool is_zero_tail(struct ntm_rbuf *r)
{
	const uint8_t *p = ntm_rbuf_cursor(r);
	size_t n = ntm_rbuf_remaining(r);

	for (size_t i = 0; i < n; i++) {
		if (p[i] != 0) {
			return false;
		}
	}
	return true;
}

/* Reads the attributes up to the end or the padding. */
static int get_attrs(struct ntm_rbuf *r, const struct kind_rule *rule, struct ntm_ctrl_msg *m)
{
	while (ntm_rbuf_remaining(r) > 0) {
		const uint8_t *v;
		uint8_t attr, n;

		if (ntm_rbuf_get_u8(r, &attr) < 0) {
			return -EBADMSG;
		}
		if (attr == NTM_CTRL_ATTR_PAD) {
			return is_zero_tail(r) ? 0 : -EBADMSG;
		}
		if (ntm_rbuf_get_u8(r, &n) < 0 || ntm_rbuf_get_ref(r, &v, n) < 0) {
			return -EBADMSG;
		}
		if (attr >= NTM_CTRL_ATTR_OPTIONAL_FIRST) {
			if (attr < NTM_CTRL_ATTR_OPTIONAL_KNOWN_END &&
			    (opt_allowed(rule->kind) & OPT_BIT(attr)) != 0 &&
			    get_opt_attr(m, attr, v, n) < 0) {
				return -EBADMSG;
			}
			continue; /* otherwise an optional hint from a later version */
		}
		if (attr >= 64 || (rule->allowed & BIT(attr)) == 0 ||
		    ((m->attrs & BIT(attr)) != 0 && (REPEATABLE & BIT(attr)) == 0)) {
			return -EBADMSG;
		}
		m->attrs |= BIT(attr);
		if (get_attr(m, attr, v, n) < 0) {
			return -EBADMSG;
		}
	}
	return 0;
}

int ntm_ctrl_msg_decode(const uint8_t *buf, size_t len, struct ntm_ctrl_msg *out)
{
	const struct kind_rule *rule;
	struct ntm_rbuf r;
	uint8_t flags;
	int rc;

	memset(out, 0, sizeof(*out));
	if (buf == NULL || len > NTM_CTRL_PLAIN_MAX) {
		return -EBADMSG;
	}
	ntm_rbuf_init(&r, buf, len);
	if (ntm_rbuf_get_u8(&r, &out->kind) < 0 || ntm_rbuf_get_u8(&r, &flags) < 0 ||
	    ntm_rbuf_get_be32(&r, &out->req_id) < 0 || flags != 0) {
		memset(out, 0, sizeof(*out));
		return -EBADMSG;
	}
	rule = find_rule(out->kind);
	if (rule == NULL) {
		return -ENOTSUP;
	}
	rc = get_attrs(&r, rule, out);
	if (rc == 0 && !has_required(out->attrs, rule)) {
		rc = -EBADMSG;
	}
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

static int put_attr(struct ntm_wbuf *w, uint8_t attr, const void *v, size_t n)
{
	if (n > UINT8_MAX || ntm_wbuf_put_u8(w, attr) < 0 || ntm_wbuf_put_u8(w, (uint8_t)n) < 0 ||
	    ntm_wbuf_put_bytes(w, v, n) < 0) {
		return -EMSGSIZE;
	}
	return 0;
}

static int put_addr(struct ntm_wbuf *w, uint8_t attr, const struct ntm_ctrl_addr *a)
{
	uint8_t v[NTM_CTRL_ADDR6_LEN];
	size_t ip_len = a->family == 4 ? 4 : 16;

	v[0] = a->family;
	memcpy(v + 1, a->ip, ip_len);
	v[1 + ip_len] = (uint8_t)(a->port >> 8);
	v[2 + ip_len] = (uint8_t)a->port;
	return put_attr(w, attr, v, 3 + ip_len);
}

static int put_be16(struct ntm_wbuf *w, uint8_t attr, uint16_t x)
{
	uint8_t v[2] = { (uint8_t)(x >> 8), (uint8_t)x };

	return put_attr(w, attr, v, sizeof(v));
}

static bool is_pool(const struct ntm_prefix *p, int family)
{
	return p->family == family && p->prefix_len <= (family == AF_INET ? 32 : 128) &&
	       !ntm_prefix_has_host_bits(p);
}

static int put_pool(struct ntm_wbuf *w, uint8_t attr, const struct ntm_prefix *p)
{
	uint8_t v[NTM_CTRL_POOL6_LEN];
	size_t alen = p->family == AF_INET ? 4 : 16;

	memcpy(v, p->addr, alen);
	v[alen] = p->prefix_len;
	return put_attr(w, attr, v, alen + 1);
}

/* The decoder's checks of the relay attributes. */
static bool is_valid_relay(const struct ntm_ctrl_msg *m)
{
	bool ok = m->n_relay_addr <= NTM_CTRL_RELAY_ADDRS_MAX &&
		  (m->n_relay_addr == 0) == !ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_RELAY_ADDR);

	for (size_t i = 0; ok && i < m->n_relay_addr; i++) {
		ok = is_addr(&m->relay_addr[i]);
	}
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_LOAD)) {
		ok = ok && m->load.sessions <= m->load.capacity && m->load.cpu <= NTM_CTRL_CPU_MAX;
	}
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_SESSION_ID)) {
		ok = ok && m->session_id != 0;
	}
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_LIFETIME)) {
		ok = ok && m->lifetime >= 1 && m->lifetime <= NTM_CTRL_LIFETIME_MAX;
	}
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_SIDE)) {
		ok = ok && m->side <= 1;
	}
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_ALT_ENDPOINT)) {
		ok = ok && is_addr(&m->alt_endpoint);
	}
	return ok && m->nat <= NTM_CTRL_NAT_MAX && m->nat_peer <= NTM_CTRL_NAT_MAX &&
	       m->path <= NTM_CTRL_PATH_MAX &&
	       m->families <= (NTM_CTRL_FAMILY_V4 | NTM_CTRL_FAMILY_V6);
}

/* The value checks of the decoder, for what we are about to send. */
static bool is_valid(const struct ntm_ctrl_msg *m, const struct kind_rule *rule)
{
	bool ok = (m->attrs & ~rule->allowed) == 0 && has_required(m->attrs, rule);

	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_FQDN)) {
		ok = ok && is_text_str(m->fqdn, 1, NTM_CTRL_FQDN_MAX, false);
	}
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_TOKEN)) {
		ok = ok && is_text_str(m->token, 1, NTM_CTRL_TOKEN_MAX, false);
	}
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_ERROR_TEXT)) {
		ok = ok && is_text_str(m->error_text, 0, NTM_CTRL_ERROR_TEXT_MAX, true);
	}
	ok = ok && m->n_cand <= NTM_CTRL_CANDIDATES_MAX &&
	     (m->n_cand == 0) == !ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_CANDIDATE);
	for (size_t i = 0; ok && i < m->n_cand; i++) {
		ok = is_addr(&m->cand[i]);
	}
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_OUTSIDE)) {
		ok = ok && is_addr(&m->outside);
	}
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_KEEPALIVE)) {
		ok = ok && m->keepalive >= 1 && m->keepalive <= NTM_CTRL_KEEPALIVE_MAX;
	}
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_ERROR_CODE)) {
		ok = ok && m->error_code != 0;
	}
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_POOL4)) {
		ok = ok && is_pool(&m->pool4, AF_INET);
	}
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_POOL6)) {
		ok = ok && is_pool(&m->pool6, AF_INET6);
	}
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_TARGET_VIP)) {
		ok = ok && (m->target_family == 4 || m->target_family == 6);
	}
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_FED_DOMAIN)) {
		ok = ok && is_domain((const uint8_t *)m->fed_domain,
				     strnlen(m->fed_domain, NTM_CTRL_FQDN_MAX + 1));
	}
	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_FED_TARGET)) {
		ok = ok && is_text_str(m->fed_target, 1, NTM_CTRL_FQDN_MAX, false);
	}
	ok = ok && (m->opt_attrs & ~opt_allowed(rule->kind)) == 0 &&
	     m->n_domains <= NTM_CTRL_DOMAINS_MAX &&
	     (m->n_domains == 0) == !ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_DOMAIN);
	for (size_t i = 0; ok && i < m->n_domains; i++) {
		ok = is_domain((const uint8_t *)m->domains[i],
			       strnlen(m->domains[i], NTM_CTRL_FQDN_MAX + 1));
	}
	return ok && is_valid_relay(m);
}

static int put_load(struct ntm_wbuf *w, const struct ntm_ctrl_load *l)
{
	uint8_t v[NTM_CTRL_LOAD_LEN];
	struct ntm_wbuf b;

	ntm_wbuf_init(&b, v, sizeof(v));
	if (ntm_wbuf_put_be32(&b, l->sessions) < 0 || ntm_wbuf_put_be32(&b, l->capacity) < 0 ||
	    ntm_wbuf_put_be32(&b, l->pps) < 0 || ntm_wbuf_put_be64(&b, l->bps) < 0 ||
	    ntm_wbuf_put_be16(&b, l->cpu) < 0) {
		return -EMSGSIZE;
	}
	return put_attr(w, NTM_CTRL_ATTR_LOAD, v, b.len);
}

static int put_path_attrs(struct ntm_wbuf *w, const struct ntm_ctrl_msg *m)
{
	int rc = 0;

	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_ALT_ENDPOINT)) {
		rc = put_addr(w, NTM_CTRL_ATTR_ALT_ENDPOINT, &m->alt_endpoint);
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_NAT)) {
		rc = put_attr(w, NTM_CTRL_ATTR_NAT, &m->nat, 1);
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_NAT_PEER)) {
		rc = put_attr(w, NTM_CTRL_ATTR_NAT_PEER, &m->nat_peer, 1);
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_PATH)) {
		rc = put_attr(w, NTM_CTRL_ATTR_PATH, &m->path, 1);
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_FAMILIES)) {
		rc = put_attr(w, NTM_CTRL_ATTR_FAMILIES, &m->families, 1);
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_MOVED)) {
		rc = put_attr(w, NTM_CTRL_ATTR_MOVED, &m->families, 0);
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_FED_DOMAIN)) {
		rc = put_attr(w, NTM_CTRL_ATTR_FED_DOMAIN, m->fed_domain, strlen(m->fed_domain));
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_FED_TARGET)) {
		rc = put_attr(w, NTM_CTRL_ATTR_FED_TARGET, m->fed_target, strlen(m->fed_target));
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_FED_NO_RELAY)) {
		rc = put_attr(w, NTM_CTRL_ATTR_FED_NO_RELAY, m->fed_target, 0);
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_FED_HAS_RELAY)) {
		rc = put_attr(w, NTM_CTRL_ATTR_FED_HAS_RELAY, m->fed_target, 0);
	}
	return rc;
}

static int put_relay_attrs(struct ntm_wbuf *w, const struct ntm_ctrl_msg *m)
{
	uint8_t id[4] = { (uint8_t)(m->session_id >> 24), (uint8_t)(m->session_id >> 16),
			  (uint8_t)(m->session_id >> 8), (uint8_t)m->session_id };
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < m->n_relay_addr; i++) {
		rc = put_addr(w, NTM_CTRL_ATTR_RELAY_ADDR, &m->relay_addr[i]);
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_LOAD)) {
		rc = put_load(w, &m->load);
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_SESSION_ID)) {
		rc = put_attr(w, NTM_CTRL_ATTR_SESSION_ID, id, sizeof(id));
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_CREDENTIAL)) {
		rc = put_attr(w, NTM_CTRL_ATTR_CREDENTIAL, m->credential, sizeof(m->credential));
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_LIFETIME)) {
		rc = put_be16(w, NTM_CTRL_ATTR_LIFETIME, m->lifetime);
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_SIDE)) {
		rc = put_attr(w, NTM_CTRL_ATTR_SIDE, &m->side, 1);
	}
	return rc == 0 ? put_path_attrs(w, m) : rc;
}

static int put_attrs(struct ntm_wbuf *w, const struct ntm_ctrl_msg *m)
{
	int rc = 0;

	if (ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_FQDN)) {
		rc = put_attr(w, NTM_CTRL_ATTR_FQDN, m->fqdn, strlen(m->fqdn));
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_TOKEN)) {
		rc = put_attr(w, NTM_CTRL_ATTR_TOKEN, m->token, strlen(m->token));
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_TARGET_VIP)) {
		rc = put_attr(w, NTM_CTRL_ATTR_TARGET_VIP, m->target_vip,
			      m->target_family == 4 ? 4 : 16);
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_PUBKEY)) {
		rc = put_attr(w, NTM_CTRL_ATTR_PUBKEY, m->pubkey, sizeof(m->pubkey));
	}
	for (size_t i = 0; rc == 0 && i < m->n_cand; i++) {
		rc = put_addr(w, NTM_CTRL_ATTR_CANDIDATE, &m->cand[i]);
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_VIP4)) {
		rc = put_attr(w, NTM_CTRL_ATTR_VIP4, m->vip4, sizeof(m->vip4));
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_VIP6)) {
		rc = put_attr(w, NTM_CTRL_ATTR_VIP6, m->vip6, sizeof(m->vip6));
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_OUTSIDE)) {
		rc = put_addr(w, NTM_CTRL_ATTR_OUTSIDE, &m->outside);
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_KEEPALIVE)) {
		rc = put_be16(w, NTM_CTRL_ATTR_KEEPALIVE, m->keepalive);
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_POOL4)) {
		rc = put_pool(w, NTM_CTRL_ATTR_POOL4, &m->pool4);
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_POOL6)) {
		rc = put_pool(w, NTM_CTRL_ATTR_POOL6, &m->pool6);
	}
	for (size_t i = 0; rc == 0 && i < m->n_domains; i++) {
		rc = put_attr(w, NTM_CTRL_ATTR_DOMAIN, m->domains[i], strlen(m->domains[i]));
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_ERROR_CODE)) {
		rc = put_be16(w, NTM_CTRL_ATTR_ERROR_CODE, m->error_code);
	}
	if (rc == 0 && ntm_ctrl_msg_has(m, NTM_CTRL_ATTR_ERROR_TEXT)) {
		rc = put_attr(w, NTM_CTRL_ATTR_ERROR_TEXT, m->error_text, strlen(m->error_text));
	}
	return rc == 0 ? put_relay_attrs(w, m) : rc;
}

int ntm_ctrl_msg_encode(struct ntm_wbuf *w, const struct ntm_ctrl_msg *m)
{
	const struct kind_rule *rule = find_rule(m->kind);
	size_t start = w->len;
	int rc;

	if (rule == NULL || !is_valid(m, rule)) {
		return -EINVAL;
	}
	rc = (ntm_wbuf_put_u8(w, m->kind) < 0 || ntm_wbuf_put_u8(w, 0) < 0 ||
	      ntm_wbuf_put_be32(w, m->req_id) < 0)
		     ? -EMSGSIZE
		     : put_attrs(w, m);
	if (rc == 0 && w->len - start > NTM_CTRL_PLAIN_MAX) {
		rc = -EMSGSIZE;
	}
	if (rc < 0) {
		w->len = start; /* nothing written */
	}
	return rc;
}

int ntm_ctrl_addr_from(struct ntm_ctrl_addr *out, const struct ntm_addr *a)
{
	memset(out, 0, sizeof(*out));
	if (a->sa.sa_family == AF_INET) {
		out->family = 4;
		memcpy(out->ip, &a->sin.sin_addr, 4);
		out->port = ntohs(a->sin.sin_port);
	} else if (a->sa.sa_family == AF_INET6) {
		out->family = 6;
		memcpy(out->ip, &a->sin6.sin6_addr, 16);
		out->port = ntohs(a->sin6.sin6_port);
	} else {
		return -EAFNOSUPPORT;
	}
	return 0;
}

int ntm_ctrl_addr_to(struct ntm_addr *out, const struct ntm_ctrl_addr *a)
{
	memset(out, 0, sizeof(*out));
	if (a->family == 4) {
		out->sin.sin_family = AF_INET;
		memcpy(&out->sin.sin_addr, a->ip, 4);
		out->sin.sin_port = htons(a->port);
		out->len = sizeof(out->sin);
	} else if (a->family == 6) {
		out->sin6.sin6_family = AF_INET6;
		memcpy(&out->sin6.sin6_addr, a->ip, 16);
		out->sin6.sin6_port = htons(a->port);
		out->len = sizeof(out->sin6);
	} else {
		return -EINVAL;
	}
	return 0;
}

static const char *relay_kind_name(uint8_t kind)
{
	switch (kind) {
	case NTM_CTRL_RELAY_ALLOC:
		return "RELAY_ALLOC";
	case NTM_CTRL_RELAY_ALLOC_OK:
		return "RELAY_ALLOC_OK";
	case NTM_CTRL_RELAY_RELEASE:
		return "RELAY_RELEASE";
	case NTM_CTRL_RELAY_RELEASE_OK:
		return "RELAY_RELEASE_OK";
	case NTM_CTRL_RELAY_REQUEST:
		return "RELAY_REQUEST";
	case NTM_CTRL_RELAY_OFFER:
		return "RELAY_OFFER";
	case NTM_CTRL_RELAY_DONE:
		return "RELAY_DONE";
	case NTM_CTRL_RS_REGISTER:
		return "RS_REGISTER";
	case NTM_CTRL_RS_REGISTER_OK:
		return "RS_REGISTER_OK";
	case NTM_CTRL_RS_LOAD:
		return "RS_LOAD";
	case NTM_CTRL_RS_LOAD_ACK:
		return "RS_LOAD_ACK";
	default:
		return "?";
	}
}

static const char *fed_kind_name(uint8_t kind)
{
	static const char *const names[] = {
		"FED_HELLO",	  "FED_HELLO_OK",      "FED_QUERY",	 "FED_ANSWER", "FED_RELAY",
		"FED_RELAY_NEED", "FED_RELAY_REQUEST", "FED_RELAY_DONE", "FED_REVOKED"
	};

	return kind >= NTM_CTRL_FED_HELLO && kind <= NTM_CTRL_FED_REVOKED
		       ? names[kind - NTM_CTRL_FED_HELLO]
		       : "?";
}

const char *ntm_ctrl_kind_name(uint8_t kind)
{
	if (kind >= NTM_CTRL_RELAY_ALLOC && kind <= NTM_CTRL_RS_LOAD_ACK) {
		return relay_kind_name(kind);
	}
	if (kind >= NTM_CTRL_FED_HELLO) {
		return fed_kind_name(kind);
	}
	static const char *const names[] = { "?",	  "REGISTER",	   "REGISTER_OK",
					     "KEEPALIVE", "KEEPALIVE_ACK", "ERROR" };

	if (kind == NTM_CTRL_DIRECTION_REQUEST) {
		return "DIRECTION_REQUEST";
	}
	if (kind == NTM_CTRL_DIRECTION) {
		return "DIRECTION";
	}
	if (kind == NTM_CTRL_PEER_REVOKED) {
		return "PEER_REVOKED";
	}
	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

const char *ntm_ctrl_error_name(uint16_t code)
{
	switch (code) {
	case NTM_CTRL_E_RELAY_FULL:
		return "RELAY_FULL";
	case NTM_CTRL_E_RELAY_EXISTS:
		return "RELAY_EXISTS";
	case NTM_CTRL_E_NO_SESSION:
		return "NO_SESSION";
	case NTM_CTRL_E_FED_NOT_ALLOWED:
		return "FED_NOT_ALLOWED";
	case NTM_CTRL_E_FED_POOL_OVERLAP:
		return "FED_POOL_OVERLAP";
	case NTM_CTRL_E_FED_DENIED:
		return "FED_DENIED";
	default:
		break;
	}
	static const char *const names[] = {
		"?",
		"UNSPEC",
		"MALFORMED",
		"UNSUPPORTED",
		"NOT_ENROLLED",
		"NAME_MISMATCH",
		"BAD_TOKEN",
		"POOL_EXHAUSTED",
		"INTERNAL",
		"NOT_REGISTERED",
		"UNKNOWN_NAME",
	};

	return code < sizeof(names) / sizeof(names[0]) ? names[code] : "?";
}

const char *ntm_ctrl_nat_name(uint8_t nat)
{
	static const char *const names[] = { "", "public", "eim", "edm" };

	return nat <= NTM_CTRL_NAT_MAX ? names[nat] : "";
}

const char *ntm_ctrl_path_name(uint8_t path)
{
	static const char *const names[] = { "direct", "punched", "same-nat", "relay" };

	return path <= NTM_CTRL_PATH_MAX ? names[path] : "direct";
}
