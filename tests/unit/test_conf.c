/* SPDX-License-Identifier: MIT */
#include "common/conf.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/alloc.h"
#include "ntm_test.h"

static const char node_conf[] = "[Interface]\n"
				"PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n"
				"ListenPort = 51820\n"
				"Address = 100.64.0.1/32, fd00::1/128\n"
				"[Peer]\n"
				"PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
				"AllowedIPs = 100.64.0.2/32\n"
				"AllowedIPs = fd00::2/128\n"
				"Endpoint = [2001:db8::2]:51820 # comment\n"
				"PersistentKeepalive = 25\n"
				"\n";

static const char dc_conf[] = "[DC]\n"
			      "Domain = example.net\n"
			      "Listen = 198.51.100.1:7000, [2001:db8::1]:7000\n"
			      "Pool4 = 100.80.0.0/16\n";

/* ---------------------------------------------------------------- a node-like schema */

struct t_peer {
	struct t_peer *next;
	struct ntm_prefix *allowed;
	size_t n_allowed;
	struct ntm_addr endpoint;
	uint32_t keepalive;
	bool has_pub;
};

struct t_node {
	bool has_key, has_keyfile;
	uint32_t port;
	struct ntm_prefix addr[4];
	size_t n_addr;
	struct t_peer *peers, **tail;
	size_t n_peers, max_peers;
	int warnings;
	char last_warn[NTM_CONF_ERR_MAX];
};

static void node_init(struct t_node *n)
{
	memset(n, 0, sizeof(*n));
	n->tail = &n->peers;
	n->max_peers = 100;
}

static void node_fini(struct t_node *n)
{
	while (n->peers != NULL) {
		struct t_peer *p = n->peers;

		n->peers = p->next;
		ntm_free(p->allowed);
		ntm_free(p);
	}
}

static int set_private_key(void *target, const char *value, char *why, size_t whylen)
{
	struct t_node *n = target;

	if (strlen(value) != 44) {
		snprintf(why, whylen, "not a base64 key");
		return -EINVAL;
	}
	n->has_key = true;
	return 0;
}

static int set_key_file(void *target, const char *value, char *why, size_t whylen)
{
	((struct t_node *)target)->has_keyfile = true;
	return 0;
}

static int set_port(void *target, const char *value, char *why, size_t whylen)
{
	return ntm_conf_parse_u32(value, 1, 65535, &((struct t_node *)target)->port, why, whylen);
}

static int add_address(void *ctx, const char *item, char *why, size_t whylen)
{
	struct t_node *n = ctx;

	if (n->n_addr == 4) {
		snprintf(why, whylen, "too many addresses");
		return -E2BIG;
	}
	return ntm_prefix_parse(item, NTM_PREFIX_KEEP_HOST, &n->addr[n->n_addr++], why, whylen);
}

static int set_address(void *target, const char *value, char *why, size_t whylen)
{
	return ntm_conf_split_list(value, add_address, target, why, whylen);
}

static int check_interface(void *target, char *why, size_t whylen)
{
	struct t_node *n = target;

	if (n->has_key == n->has_keyfile) {
		snprintf(why, whylen, "exactly one of PrivateKey and PrivateKeyFile is needed");
		return -EINVAL;
	}
	return 0;
}

static int open_peer(void *ctx, void **target, char *why, size_t whylen)
{
	struct t_node *n = ctx;
	struct t_peer *p;

	if (n->n_peers == n->max_peers) {
		snprintf(why, whylen, "too many peers (at most %zu)", n->max_peers);
		return -E2BIG;
	}
	p = ntm_calloc(1, sizeof(*p));
	if (p == NULL) {
		return -ENOMEM;
	}
	*n->tail = p;
	n->tail = &p->next;
	n->n_peers++;
	*target = p;
	return 0;
}

static int set_public_key(void *target, const char *value, char *why, size_t whylen)
{
	((struct t_peer *)target)->has_pub = true;
	return 0;
}

static int add_allowed(void *ctx, const char *item, char *why, size_t whylen)
{
	struct t_peer *p = ctx;
	struct ntm_prefix *a = ntm_realloc(p->allowed, (p->n_allowed + 1) * sizeof(*a));

	if (a == NULL) {
		return -ENOMEM;
	}
	p->allowed = a;
	if (ntm_prefix_parse(item, NTM_PREFIX_MASK_HOST, &a[p->n_allowed], why, whylen) < 0) {
		return -EINVAL;
	}
	p->n_allowed++;
	return 0;
}

static int set_allowed(void *target, const char *value, char *why, size_t whylen)
{
	return ntm_conf_split_list(value, add_allowed, target, why, whylen);
}

static int set_endpoint(void *target, const char *value, char *why, size_t whylen)
{
	return ntm_addr_parse(value, 0, &((struct t_peer *)target)->endpoint, why, whylen);
}

static int set_keepalive(void *target, const char *value, char *why, size_t whylen)
{
	return ntm_conf_parse_u32(value, 0, 65535, &((struct t_peer *)target)->keepalive, why,
				  whylen);
}

static void count_warning(void *ctx, const char *msg)
{
	struct t_node *n = ctx;

	n->warnings++;
	snprintf(n->last_warn, sizeof(n->last_warn), "%s", msg);
}

static const struct ntm_conf_key_def interface_keys[] = {
	{ "PrivateKey", NTM_CONF_KEY_ONCE, set_private_key, false },
	{ "PrivateKeyFile", NTM_CONF_KEY_ONCE, set_key_file, false },
	{ "ListenPort", NTM_CONF_KEY_ONCE, set_port, false },
	{ "Address", NTM_CONF_KEY_MULTI, set_address, false },
	{ "DNS", NTM_CONF_KEY_IGNORED, NULL, false },
	{ "PostUp", NTM_CONF_KEY_IGNORED, NULL, false },
	{ "Table", NTM_CONF_KEY_IGNORED, NULL, false },
	{ NULL, 0, NULL, false },
};

static const struct ntm_conf_key_def peer_keys[] = {
	{ "PublicKey", NTM_CONF_KEY_ONCE, set_public_key, true },
	{ "AllowedIPs", NTM_CONF_KEY_MULTI, set_allowed, false },
	{ "Endpoint", NTM_CONF_KEY_ONCE, set_endpoint, false },
	{ "PersistentKeepalive", NTM_CONF_KEY_ONCE, set_keepalive, false },
	{ NULL, 0, NULL, false },
};

/* Apply `conf` to the node schema; n must be node_init()ed. */
static int apply_node(const struct ntm_conf *conf, struct t_node *n, struct ntm_conf_err *err)
{
	const struct ntm_conf_section_def sections[] = {
		{ .name = "Interface",
		  .keys = interface_keys,
		  .flags = NTM_CONF_SECTION_REQUIRED,
		  .target = n,
		  .check = check_interface },
		{ .name = "Peer",
		  .keys = peer_keys,
		  .flags = NTM_CONF_SECTION_REPEAT,
		  .open = open_peer,
		  .ctx = n },
		{ .name = NULL },
	};
	const struct ntm_conf_schema schema = { .sections = sections,
						.warn = count_warning,
						.warn_ctx = n };

	return ntm_conf_apply(conf, &schema, err);
}

static int parse_str(const char *text, struct ntm_conf **conf, struct ntm_conf_err *err)
{
	return ntm_conf_parse("t.conf", text, strlen(text), conf, err);
}

/* ---------------------------------------------------------------- parsing */

static void test_parse_good(void)
{
	char text[sizeof(node_conf) + sizeof(dc_conf)];
	const struct ntm_conf_section *s;
	const struct ntm_conf_entry *e;
	struct ntm_conf_err err;
	struct ntm_conf *conf;

	snprintf(text, sizeof(text), "%s%s", node_conf, dc_conf);
	CU_ASSERT_EQUAL_FATAL(parse_str(text, &conf, &err), 0);
	CU_ASSERT_STRING_EQUAL(err.msg, "");
	CU_ASSERT_STRING_EQUAL(ntm_conf_name(conf), "t.conf");
	CU_ASSERT_FALSE(ntm_conf_is_private(conf));
	CU_ASSERT_EQUAL_FATAL(ntm_conf_section_count(conf), 3);
	CU_ASSERT_PTR_NULL(ntm_conf_section_at(conf, 3));

	s = ntm_conf_section_at(conf, 0);
	CU_ASSERT_STRING_EQUAL(ntm_conf_section_name(s), "Interface");
	CU_ASSERT_EQUAL(ntm_conf_section_line(s), 1);
	CU_ASSERT_EQUAL_FATAL(ntm_conf_entry_count(s), 3);
	e = ntm_conf_entry_at(s, 2);
	CU_ASSERT_STRING_EQUAL(ntm_conf_entry_key(e), "Address");
	CU_ASSERT_STRING_EQUAL(ntm_conf_entry_value(e), "100.64.0.1/32, fd00::1/128");
	CU_ASSERT_EQUAL(ntm_conf_entry_line(e), 4);
	CU_ASSERT_PTR_NULL(ntm_conf_entry_at(s, 3));

	s = ntm_conf_section_at(conf, 1);
	CU_ASSERT_STRING_EQUAL(ntm_conf_section_name(s), "Peer");
	CU_ASSERT_EQUAL(ntm_conf_section_line(s), 5);
	CU_ASSERT_EQUAL_FATAL(ntm_conf_entry_count(s), 5);
	e = ntm_conf_entry_at(s, 3);
	CU_ASSERT_STRING_EQUAL(ntm_conf_entry_value(e), "[2001:db8::2]:51820");
	CU_ASSERT_STRING_EQUAL(ntm_conf_entry_value(ntm_conf_entry_at(s, 0)),
			       "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=");

	s = ntm_conf_section_at(conf, 2);
	CU_ASSERT_STRING_EQUAL(ntm_conf_section_name(s), "DC");
	CU_ASSERT_EQUAL(ntm_conf_section_line(s), 12);
	CU_ASSERT_EQUAL(ntm_conf_entry_line(ntm_conf_entry_at(s, 2)), 15);
	ntm_conf_destroy(conf);
	ntm_conf_destroy(NULL);
}

static void test_parse_layout(void)
{
	static const char text[] = "# leading comment\r\n"
				   "\r\n"
				   "  [ peer ]  # trailing comment\r\n"
				   "\tpublickey\t=\tabc=  \r\n"
				   "Empty =\r\n"
				   "Hash = a#b\r\n"
				   "[PEER]\r\n"
				   "Dotted.key-x_y = v = w\r\n"
				   "[Peer]"; /* no final newline */
	const struct ntm_conf_section *s;
	struct ntm_conf_err err;
	struct ntm_conf *conf;

	CU_ASSERT_EQUAL_FATAL(parse_str(text, &conf, &err), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_conf_section_count(conf), 3);
	s = ntm_conf_section_at(conf, 0);
	CU_ASSERT_STRING_EQUAL(ntm_conf_section_name(s), "peer");
	CU_ASSERT_EQUAL(ntm_conf_section_line(s), 3);
	CU_ASSERT_EQUAL_FATAL(ntm_conf_entry_count(s), 3);
	CU_ASSERT_STRING_EQUAL(ntm_conf_entry_key(ntm_conf_entry_at(s, 0)), "publickey");
	CU_ASSERT_STRING_EQUAL(ntm_conf_entry_value(ntm_conf_entry_at(s, 0)), "abc=");
	CU_ASSERT_STRING_EQUAL(ntm_conf_entry_value(ntm_conf_entry_at(s, 1)), "");
	CU_ASSERT_STRING_EQUAL(ntm_conf_entry_value(ntm_conf_entry_at(s, 2)), "a");
	s = ntm_conf_section_at(conf, 1);
	CU_ASSERT_STRING_EQUAL(ntm_conf_entry_key(ntm_conf_entry_at(s, 0)), "Dotted.key-x_y");
	CU_ASSERT_STRING_EQUAL(ntm_conf_entry_value(ntm_conf_entry_at(s, 0)), "v = w");
	s = ntm_conf_section_at(conf, 2);
	CU_ASSERT_EQUAL(ntm_conf_section_line(s), 9);
	CU_ASSERT_EQUAL(ntm_conf_entry_count(s), 0);
	ntm_conf_destroy(conf);

	/* Empty input and comment-only input are valid, empty configs. */
	CU_ASSERT_EQUAL_FATAL(ntm_conf_parse("t.conf", "", 0, &conf, &err), 0);
	CU_ASSERT_EQUAL(ntm_conf_section_count(conf), 0);
	ntm_conf_destroy(conf);
	CU_ASSERT_EQUAL_FATAL(parse_str("# nothing\n\n   \n", &conf, &err), 0);
	CU_ASSERT_EQUAL(ntm_conf_section_count(conf), 0);
	ntm_conf_destroy(conf);
}

static void expect_parse_error(const char *text, size_t len, int rc, const char *msg)
{
	struct ntm_conf_err err;
	struct ntm_conf *conf = (struct ntm_conf *)&err; /* must be reset to NULL, not freed */

	CU_ASSERT_EQUAL(ntm_conf_parse("t.conf", text, len, &conf, &err), rc);
	CU_ASSERT_PTR_NULL(conf);
	CU_ASSERT_STRING_EQUAL(err.msg, msg);
}

#define PARSE_ERROR(text, msg) expect_parse_error(text, sizeof(text) - 1, -EINVAL, msg)

static void test_parse_errors(void)
{
	PARSE_ERROR("Key = v\n", "t.conf:1: entry before any section");
	PARSE_ERROR("# c\n[A]\nhello\n", "t.conf:3: expected '[Section]' or 'Key = Value'");
	PARSE_ERROR("[A]\n = v\n", "t.conf:2: empty key");
	PARSE_ERROR("[A]\nPrivate Key = v\n",
		    "t.conf:2: invalid key (letters, digits, '_', '-', '.' only)");
	PARSE_ERROR("[A]\nk\xc3\xa9y = v\n",
		    "t.conf:2: invalid key (letters, digits, '_', '-', '.' only)");
	/* A private key pasted alone is "key = " with a 43-byte key: never echoed. */
	PARSE_ERROR("[A]\nyAnz5TF1lXXJte14tji3zlMNq1hd2rYUIgJBgB3fBmk=\n",
		    "t.conf:2: key too long (more than 32 bytes)");
	PARSE_ERROR("[Peer\n", "t.conf:1: malformed section header");
	PARSE_ERROR("[Pe er]\n", "t.conf:1: malformed section header");
	PARSE_ERROR("[Peer] x\n", "t.conf:1: malformed section header");
	PARSE_ERROR("[Peer]]\n", "t.conf:1: malformed section header");
	PARSE_ERROR("[\n", "t.conf:1: malformed section header");
	PARSE_ERROR("[]\n", "t.conf:1: empty section name");
	PARSE_ERROR("[ \t]\n", "t.conf:1: empty section name");
	PARSE_ERROR("[A]\nk = a\rb\n", "t.conf:2: control character 0x0d");
	PARSE_ERROR("[A]\nk = v\r\r\n", "t.conf:2: control character 0x0d");
	PARSE_ERROR("[A]\n# \x1b[31m\n", "t.conf:2: control character 0x1b");
	PARSE_ERROR("[A]\nk = \x7f\n", "t.conf:2: control character 0x7f");
	PARSE_ERROR("[A]\n\nk = v\\\n  w\n", "t.conf:4: expected '[Section]' or 'Key = Value'");
	expect_parse_error("[A]\nk = a\0b\n", 12, -EINVAL, "t.conf:2: NUL byte");
	expect_parse_error("[A]\n\0", 5, -EINVAL, "t.conf:2: NUL byte");
}

static void test_parse_limits(void)
{
	size_t n = NTM_CONF_FILE_MAX + 1;
	char *big = malloc(n);
	struct ntm_conf_err err;
	struct ntm_conf *conf;

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	/* "[A]\n" + a comment line of exactly the limit: accepted, with CRLF too. */
	memcpy(big, "[A]\n", 4);
	memset(big + 4, '#', NTM_CONF_LINE_MAX);
	memcpy(big + 4 + NTM_CONF_LINE_MAX, "\r\nk = v\n", 8);
	CU_ASSERT_EQUAL_FATAL(ntm_conf_parse("t.conf", big, 4 + NTM_CONF_LINE_MAX + 8, &conf, &err),
			      0);
	CU_ASSERT_EQUAL(ntm_conf_entry_line(ntm_conf_entry_at(ntm_conf_section_at(conf, 0), 0)), 3);
	ntm_conf_destroy(conf);
	/* One byte more is an error, also on the last line without a newline. */
	memset(big + 4, '#', NTM_CONF_LINE_MAX + 1);
	expect_parse_error(big, 4 + NTM_CONF_LINE_MAX + 1, -EINVAL,
			   "t.conf:2: line too long (more than 4096 bytes)");
	memset(big, '\n', n);
	expect_parse_error(big, n, -EFBIG, "t.conf: file too large (more than 1048576 bytes)");
	CU_ASSERT_EQUAL_FATAL(ntm_conf_parse("t.conf", big, n - 1, &conf, &err), 0);
	ntm_conf_destroy(conf);
	free(big);
}

/* ---------------------------------------------------------------- apply */

static void test_apply_node(void)
{
	struct ntm_conf_err err;
	struct ntm_conf *conf;
	struct t_node n;
	char buf[NTM_ADDR_STRLEN];

	node_init(&n);
	CU_ASSERT_EQUAL_FATAL(parse_str(node_conf, &conf, &err), 0);
	CU_ASSERT_EQUAL(apply_node(conf, &n, &err), 0);
	CU_ASSERT_STRING_EQUAL(err.msg, "");
	CU_ASSERT_TRUE(n.has_key);
	CU_ASSERT_EQUAL(n.port, 51820);
	CU_ASSERT_EQUAL(n.n_addr, 2);
	CU_ASSERT_EQUAL_FATAL(n.n_peers, 1);
	CU_ASSERT_TRUE(n.peers->has_pub);
	CU_ASSERT_EQUAL(n.peers->n_allowed, 2);
	CU_ASSERT_EQUAL(n.peers->keepalive, 25);
	CU_ASSERT_EQUAL(ntm_addr_format(&n.peers->endpoint, buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "[2001:db8::2]:51820");
	CU_ASSERT_EQUAL(n.warnings, 0);
	ntm_conf_destroy(conf);
	node_fini(&n);
}

/* Case-insensitive names, CRLF, repeated [Peer], ignored wg-quick keys. */
static void test_apply_repeat_and_ignored(void)
{
	static const char text[] = "[interface]\r\n"
				   "privatekeyfile = /etc/ntm/key\r\n"
				   "dns = 192.0.2.53\r\n"
				   "POSTUP = iptables -A FORWARD\r\n"
				   "[PEER]\r\n"
				   "PUBLICKEY = a\r\n"
				   "allowedips = 10.0.0.1/8, 10.1.0.0/16\r\n"
				   "[peer]\r\n"
				   "PublicKey = b\r\n"
				   "[Peer]\r\n"
				   "PublicKey = c\r\n";
	struct ntm_conf_err err;
	struct ntm_conf *conf;
	struct t_node n;

	node_init(&n);
	CU_ASSERT_EQUAL_FATAL(parse_str(text, &conf, &err), 0);
	CU_ASSERT_EQUAL(apply_node(conf, &n, &err), 0);
	CU_ASSERT_TRUE(n.has_keyfile);
	CU_ASSERT_EQUAL_FATAL(n.n_peers, 3);
	CU_ASSERT_EQUAL(n.peers->n_allowed, 2);
	CU_ASSERT_EQUAL(n.peers->allowed[0].prefix_len, 8);
	CU_ASSERT_EQUAL(n.peers->allowed[0].addr[3], 0); /* masked like wg-quick */
	CU_ASSERT_EQUAL(n.warnings, 2);
	CU_ASSERT_STRING_EQUAL(n.last_warn,
			       "t.conf:4: ignoring unsupported key 'PostUp' in [Interface]");
	node_fini(&n);

	/* The open callback can refuse an occurrence. */
	node_init(&n);
	n.max_peers = 2;
	CU_ASSERT_EQUAL(apply_node(conf, &n, &err), -E2BIG);
	CU_ASSERT_STRING_EQUAL(err.msg, "t.conf:10: [Peer]: too many peers (at most 2)");
	CU_ASSERT_EQUAL(err.line, 10);
	node_fini(&n);
	ntm_conf_destroy(conf);
}

static void expect_apply_error(const char *text, int rc, const char *msg)
{
	struct ntm_conf_err err;
	struct ntm_conf *conf;
	struct t_node n;

	node_init(&n);
	CU_ASSERT_EQUAL_FATAL(ntm_conf_parse("ntm-node.conf", text, strlen(text), &conf, &err), 0);
	CU_ASSERT_EQUAL(apply_node(conf, &n, &err), rc);
	CU_ASSERT_STRING_EQUAL(err.msg, msg);
	node_fini(&n);
	ntm_conf_destroy(conf);
}

static void test_apply_errors(void)
{
	expect_apply_error("[Interface]\nPrivateKeyFile = k\nFoo = 1\n", -EINVAL,
			   "ntm-node.conf:3: unknown key 'Foo' in [Interface]");
	expect_apply_error("[Interface]\nPrivateKeyFile = k\n\n[Bogus]\n", -EINVAL,
			   "ntm-node.conf:4: unknown section [Bogus]");
	expect_apply_error("[Interface]\nListenPort = 1\nPrivateKeyFile = k\nlistenport = 2\n",
			   -EINVAL,
			   "ntm-node.conf:4: duplicate key 'ListenPort' in [Interface] "
			   "(first at line 2)");
	expect_apply_error("[Interface]\nPrivateKeyFile = k\n[interface]\n", -EINVAL,
			   "ntm-node.conf:3: duplicate section [Interface] (first at line 1)");
	expect_apply_error("[Interface]\nListenPort = 70000\n", -ERANGE,
			   "ntm-node.conf:2: invalid ListenPort in [Interface]: "
			   "out of range 1..65535");
	expect_apply_error("[Interface]\nListenPort = 0x10\n", -EINVAL,
			   "ntm-node.conf:2: invalid ListenPort in [Interface]: "
			   "not a decimal number");
	/* The setter's reason never quotes the (secret) value. */
	expect_apply_error("[Interface]\nPrivateKey = c2VjcmV0\n", -EINVAL,
			   "ntm-node.conf:2: invalid PrivateKey in [Interface]: not a base64 key");
	expect_apply_error("[Interface]\nPrivateKeyFile = k\n[Peer]\nEndpoint = ::1:80\n", -EINVAL,
			   "ntm-node.conf:4: invalid Endpoint in [Peer]: '::1:80': an IPv6 "
			   "address with a port needs brackets: [addr]:port");
	expect_apply_error("[Interface]\nPrivateKeyFile = k\n[Peer]\nAllowedIPs = 10.0.0.0/8, ,\n",
			   -EINVAL,
			   "ntm-node.conf:4: invalid AllowedIPs in [Peer]: empty item in list");
	expect_apply_error("[Interface]\nPrivateKeyFile = k\n\n[Peer]\nAllowedIPs = ::/0\n",
			   -EINVAL, "ntm-node.conf:4: missing key 'PublicKey' in [Peer]");
	expect_apply_error("[Peer]\nPublicKey = a\n", -EINVAL,
			   "ntm-node.conf: missing section [Interface]");
	expect_apply_error("[Interface]\nListenPort = 1\n", -EINVAL,
			   "ntm-node.conf:1: [Interface]: exactly one of PrivateKey and "
			   "PrivateKeyFile is needed");
	expect_apply_error("[Interface]\nAddress = 1.1.1.1, 1.1.1.2\nAddress = 1.1.1.3, 1.1.1.4, "
			   "1.1.1.5\n",
			   -E2BIG,
			   "ntm-node.conf:3: invalid Address in [Interface]: too many addresses");
}

/* ---------------------------------------------------------------- a DC-like schema */

struct t_dc {
	bool has_domain;
	struct ntm_addr listen[4];
	size_t n_listen;
	struct ntm_prefix pool4;
	int federations;
};

static int set_domain(void *target, const char *value, char *why, size_t whylen)
{
	if (value[0] == '\0') {
		snprintf(why, whylen, "empty domain");
		return -EINVAL;
	}
	((struct t_dc *)target)->has_domain = true;
	return 0;
}

static int add_listen(void *ctx, const char *item, char *why, size_t whylen)
{
	struct t_dc *dc = ctx;

	if (dc->n_listen == 4) {
		snprintf(why, whylen, "too many addresses");
		return -E2BIG;
	}
	return ntm_addr_parse(item, 0, &dc->listen[dc->n_listen++], why, whylen);
}

static int set_listen(void *target, const char *value, char *why, size_t whylen)
{
	return ntm_conf_split_list(value, add_listen, target, why, whylen);
}

static int set_pool4(void *target, const char *value, char *why, size_t whylen)
{
	struct t_dc *dc = target;
	int rc = ntm_prefix_parse(value, 0, &dc->pool4, why, whylen);

	if (rc == 0 && dc->pool4.family != AF_INET) {
		snprintf(why, whylen, "not an IPv4 prefix");
		return -EINVAL;
	}
	return rc;
}

static int open_federation(void *ctx, void **target, char *why, size_t whylen)
{
	struct t_dc *dc = ctx;

	dc->federations++;
	*target = dc; /* a real daemon would append a record */
	return 0;
}

static int set_nothing(void *target, const char *value, char *why, size_t whylen)
{
	return 0;
}

static int apply_dc(const char *text, struct t_dc *dc, struct ntm_conf_err *err)
{
	static const struct ntm_conf_key_def dc_keys[] = {
		{ "Domain", NTM_CONF_KEY_ONCE, set_domain, true },
		{ "Listen", NTM_CONF_KEY_MULTI, set_listen, true },
		{ "Pool4", NTM_CONF_KEY_ONCE, set_pool4, false },
		{ NULL, 0, NULL, false },
	};
	static const struct ntm_conf_key_def fed_keys[] = {
		{ "Domain", NTM_CONF_KEY_ONCE, set_nothing, true },
		{ "PublicKey", NTM_CONF_KEY_ONCE, set_nothing, false },
		{ NULL, 0, NULL, false },
	};
	const struct ntm_conf_section_def sections[] = {
		{ .name = "DC", .keys = dc_keys, .flags = NTM_CONF_SECTION_REQUIRED, .target = dc },
		{ .name = "Federation",
		  .keys = fed_keys,
		  .flags = NTM_CONF_SECTION_REPEAT,
		  .open = open_federation,
		  .ctx = dc },
		{ .name = NULL },
	};
	const struct ntm_conf_schema schema = { .sections = sections };
	struct ntm_conf *conf;
	int rc;

	memset(dc, 0, sizeof(*dc));
	rc = ntm_conf_parse("ntm-dc.conf", text, strlen(text), &conf, err);
	if (rc == 0) {
		rc = ntm_conf_apply(conf, &schema, err);
	}
	ntm_conf_destroy(conf);
	return rc;
}

static void test_apply_dc(void)
{
	char text[512];
	char buf[NTM_ADDR_STRLEN];
	struct ntm_conf_err err;
	struct t_dc dc;

	snprintf(text, sizeof(text),
		 "%s\n[Federation]\nDomain = a.example\n"
		 "[Federation]\nDomain = b.example\nPublicKey = x\n",
		 dc_conf);
	CU_ASSERT_EQUAL_FATAL(apply_dc(text, &dc, &err), 0);
	CU_ASSERT_TRUE(dc.has_domain);
	CU_ASSERT_EQUAL_FATAL(dc.n_listen, 2);
	CU_ASSERT_EQUAL(ntm_addr_format(&dc.listen[1], buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "[2001:db8::1]:7000");
	CU_ASSERT_EQUAL(dc.pool4.prefix_len, 16);
	CU_ASSERT_EQUAL(dc.federations, 2);

	CU_ASSERT_EQUAL(apply_dc("[DC]\nDomain = x\nListen = 1.2.3.4:5\nPool4 = 100.80.0.1/16\n",
				 &dc, &err),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "ntm-dc.conf:4: invalid Pool4 in [DC]: "
					"'100.80.0.1/16': host bits set past the prefix length "
					"(did you mean 100.80.0.0/16?)");
	CU_ASSERT_EQUAL(apply_dc("[DC]\nDomain = x\nListen = 1.2.3.4:5\n[Federation]\n", &dc, &err),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "ntm-dc.conf:4: missing key 'Domain' in [Federation]");
}

static int set_fail_silently(void *target, const char *value, char *why, size_t whylen)
{
	return -EACCES;
}

static void test_apply_schema_errors(void)
{
	static const struct ntm_conf_key_def keys[] = {
		{ "A", NTM_CONF_KEY_ONCE, set_fail_silently, false },
		{ "B", NTM_CONF_KEY_ONCE, NULL, false },
		{ NULL, 0, NULL, false },
	};
	static const struct ntm_conf_key_def one[] = {
		{ "A", NTM_CONF_KEY_ONCE, set_fail_silently, false },
		{ NULL, 0, NULL, false },
	};
	static const struct ntm_conf_key_def quiet[] = {
		{ "A", NTM_CONF_KEY_IGNORED, NULL, false },
		{ NULL, 0, NULL, false },
	};
	struct ntm_conf_section_def defs[] = {
		{ .name = "S", .keys = keys, .flags = NTM_CONF_SECTION_REPEAT },
		{ .name = NULL },
	};
	struct ntm_conf_schema schema = { .sections = defs };
	struct ntm_conf_err err;
	struct ntm_conf *conf;

	CU_ASSERT_EQUAL_FATAL(parse_str("[S]\nA = 1\n", &conf, &err), 0);
	CU_ASSERT_EQUAL(ntm_conf_apply(conf, &schema, &err), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "t.conf: schema: repeatable [S] needs open");
	defs[0].flags = 0;
	CU_ASSERT_EQUAL(ntm_conf_apply(conf, &schema, &err), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "t.conf: schema: key 'B' in [S] has no setter");
	defs[0].keys = NULL;
	CU_ASSERT_EQUAL(ntm_conf_apply(conf, &schema, &err), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "t.conf: schema: [S] has no key table");
	defs[0].keys = keys;
	schema.sections = NULL;
	CU_ASSERT_EQUAL(ntm_conf_apply(conf, &schema, &err), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "t.conf: schema: no section table");
	ntm_conf_destroy(conf);

	/* A setter that gives no reason gets ntm_strerror's text. */
	defs[0].keys = one;
	schema.sections = defs;
	CU_ASSERT_EQUAL_FATAL(parse_str("[S]\nA = 1\n", &conf, &err), 0);
	CU_ASSERT_EQUAL(ntm_conf_apply(conf, &schema, &err), -EACCES);
	CU_ASSERT_STRING_EQUAL(err.msg, "t.conf:2: invalid A in [S]: Permission denied");
	ntm_conf_destroy(conf);

	/* Without a warn callback an ignored key goes to the log, and apply succeeds. */
	defs[0].keys = quiet;
	CU_ASSERT_EQUAL_FATAL(parse_str("[S]\nA = 1\n", &conf, &err), 0);
	CU_ASSERT_EQUAL(ntm_conf_apply(conf, &schema, &err), 0);
	CU_ASSERT_STRING_EQUAL(err.msg, "");
	ntm_conf_destroy(conf);
}

/* ---------------------------------------------------------------- values */

static void test_parse_u32(void)
{
	static const char *const bad[] = { "", "-1", "+1", "01", "1x", " 1", "1 ", "0x10", "1.0" };
	char why[NTM_CONF_WHY_MAX];
	uint32_t v = 7;

	CU_ASSERT_EQUAL(ntm_conf_parse_u32("0", 0, 10, &v, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(ntm_conf_parse_u32("4294967295", 0, UINT32_MAX, &v, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(v, UINT32_MAX);
	CU_ASSERT_EQUAL(ntm_conf_parse_u32("4294967296", 0, UINT32_MAX, &v, why, sizeof(why)),
			-ERANGE);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_STRING_EQUAL(why, "out of range 0..4294967295");
	CU_ASSERT_EQUAL(
		ntm_conf_parse_u32("99999999999999999999999", 0, UINT32_MAX, &v, why, sizeof(why)),
		-ERANGE);
	CU_ASSERT_EQUAL(ntm_conf_parse_u32("9", 10, 20, &v, why, sizeof(why)), -ERANGE);
	CU_ASSERT_STRING_EQUAL(why, "out of range 10..20");
	CU_ASSERT_EQUAL(ntm_conf_parse_u32("20", 10, 20, &v, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(ntm_conf_parse_u32("21", 10, 20, &v, NULL, 0), -ERANGE);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(ntm_conf_parse_u32(bad[i], 0, UINT32_MAX, &v, why, sizeof(why)),
				-EINVAL);
		CU_ASSERT_STRING_EQUAL(why, "not a decimal number");
	}
}

static void test_parse_bool(void)
{
	static const char *const t[] = { "true", "yes", "on", "1", "TRUE", "Yes", "oN" };
	static const char *const f[] = { "false", "no", "off", "0", "False", "NO", "Off" };
	static const char *const bad[] = { "", "2", "tru", "truee", "y", "enabled", " on" };
	char why[NTM_CONF_WHY_MAX];
	bool v;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		CU_ASSERT_EQUAL(ntm_conf_parse_bool(t[i], &v, why, sizeof(why)), 0);
		CU_ASSERT_TRUE(v);
		CU_ASSERT_EQUAL(ntm_conf_parse_bool(f[i], &v, why, sizeof(why)), 0);
		CU_ASSERT_FALSE(v);
		CU_ASSERT_EQUAL(ntm_conf_parse_bool(bad[i], &v, why, sizeof(why)), -EINVAL);
		CU_ASSERT_STRING_EQUAL(why, "expected true/false, yes/no, on/off or 1/0");
	}
}

struct items {
	char got[8][16];
	int n;
	int fail_at;
};

static int collect(void *ctx, const char *item, char *why, size_t whylen)
{
	struct items *it = ctx;

	if (it->n == it->fail_at) {
		snprintf(why, whylen, "refused '%s'", item);
		return -EPERM;
	}
	snprintf(it->got[it->n++], sizeof(it->got[0]), "%s", item);
	return 0;
}

static void test_split_list(void)
{
	static const char *const bad[] = { "a, ,b", "a,", ",a", "", " ", "a,,b", "\t,a" };
	struct items it = { .n = 0, .fail_at = -1 };
	char why[NTM_CONF_WHY_MAX];
	char *big;

	CU_ASSERT_EQUAL(ntm_conf_split_list("a, b ,\tc d,e", collect, &it, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL_FATAL(it.n, 4);
	CU_ASSERT_STRING_EQUAL(it.got[0], "a");
	CU_ASSERT_STRING_EQUAL(it.got[1], "b");
	CU_ASSERT_STRING_EQUAL(it.got[2], "c d");
	CU_ASSERT_STRING_EQUAL(it.got[3], "e");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		it.n = 0;
		CU_ASSERT_EQUAL(ntm_conf_split_list(bad[i], collect, &it, why, sizeof(why)),
				-EINVAL);
		CU_ASSERT_STRING_EQUAL(why, "empty item in list");
	}
	/* Items longer than a config line cannot come from a file, only from callers. */
	big = malloc(NTM_CONF_LINE_MAX + 3);

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'x', NTM_CONF_LINE_MAX + 2);
	big[0] = ',';
	big[NTM_CONF_LINE_MAX + 2] = '\0';
	CU_ASSERT_EQUAL(ntm_conf_split_list(big + 1, collect, &it, why, sizeof(why)), -E2BIG);
	CU_ASSERT_STRING_EQUAL(why, "list item too long");
	free(big);
	it.n = 0;
	it.fail_at = 1;
	CU_ASSERT_EQUAL(ntm_conf_split_list("x, y, z", collect, &it, why, sizeof(why)), -EPERM);
	CU_ASSERT_STRING_EQUAL(why, "refused 'y'");
	CU_ASSERT_EQUAL(it.n, 1);
}

/* ---------------------------------------------------------------- files */

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd;

	/* Recreate: a 0400 file is not writable again without root. */
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	CU_ASSERT_EQUAL(fchmod(fd, mode), 0);
	close(fd);
}

static void test_load(void)
{
	static const mode_t private[] = { 0600, 0400, 0700 };
	static const mode_t shared[] = { 0640, 0604, 0644, 0601, 0610, 0660 };
	char dir[] = "/tmp/ntm-test-conf.XXXXXX";
	char path[64], msg[128];
	struct ntm_conf_err err;
	struct ntm_conf *conf;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ntm-node.conf", dir);
	for (size_t i = 0; i < sizeof(private) / sizeof(private[0]); i++) {
		write_file(path, node_conf, private[i]);
		CU_ASSERT_EQUAL_FATAL(ntm_conf_load(path, &conf, &err), 0);
		CU_ASSERT_TRUE(ntm_conf_is_private(conf));
		CU_ASSERT_STRING_EQUAL(ntm_conf_name(conf), path);
		CU_ASSERT_EQUAL(ntm_conf_section_count(conf), 2);
		ntm_conf_destroy(conf);
	}
	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		write_file(path, node_conf, shared[i]);
		CU_ASSERT_EQUAL_FATAL(ntm_conf_load(path, &conf, &err), 0);
		CU_ASSERT_FALSE(ntm_conf_is_private(conf));
		ntm_conf_destroy(conf);
	}
	write_file(path, "[Interface]\nListenPort\n", 0600);
	CU_ASSERT_EQUAL(ntm_conf_load(path, &conf, &err), -EINVAL);
	snprintf(msg, sizeof(msg), "%s:2: expected '[Section]' or 'Key = Value'", path);
	CU_ASSERT_STRING_EQUAL(err.msg, msg);
	CU_ASSERT_EQUAL(err.line, 2);
	CU_ASSERT_PTR_NULL(conf);
	CU_ASSERT_EQUAL(unlink(path), 0);

	CU_ASSERT_EQUAL(ntm_conf_load(path, &conf, &err), -ENOENT);
	snprintf(msg, sizeof(msg), "%s: No such file or directory", path);
	CU_ASSERT_STRING_EQUAL(err.msg, msg);
	CU_ASSERT_EQUAL(ntm_conf_load(dir, &conf, &err), -EINVAL);
	snprintf(msg, sizeof(msg), "%s: not a regular file", dir);
	CU_ASSERT_STRING_EQUAL(err.msg, msg);

	CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
	CU_ASSERT_EQUAL(ntm_conf_load(path, &conf, &err), -EINVAL); /* and does not block */
	snprintf(msg, sizeof(msg), "%s: not a regular file", path);
	CU_ASSERT_STRING_EQUAL(err.msg, msg);
	CU_ASSERT_EQUAL(unlink(path), 0);

	/* Size cap, checked before reading: a sparse file of cap + 1 bytes. */
	write_file(path, "", 0600);
	CU_ASSERT_EQUAL(truncate(path, NTM_CONF_FILE_MAX + 1), 0);
	CU_ASSERT_EQUAL(ntm_conf_load(path, &conf, &err), -EFBIG);
	snprintf(msg, sizeof(msg), "%s: file too large (more than 1048576 bytes)", path);
	CU_ASSERT_STRING_EQUAL(err.msg, msg);
	CU_ASSERT_EQUAL(truncate(path, NTM_CONF_FILE_MAX), 0);
	CU_ASSERT_EQUAL(ntm_conf_load(path, &conf, &err), -EINVAL);
	snprintf(msg, sizeof(msg), "%s:1: line too long (more than 4096 bytes)", path);
	CU_ASSERT_STRING_EQUAL(err.msg, msg);
	CU_ASSERT_EQUAL(unlink(path), 0);
	CU_ASSERT_EQUAL(rmdir(dir), 0);
}

/* ---------------------------------------------------------------- allocation failure */

/* Enough sections and entries that both arrays grow more than once. */
static char *many_peers(void)
{
	size_t cap = 64 * 160, len;
	char *text = malloc(cap);

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	len = (size_t)snprintf(text, cap, "%s", node_conf);
	for (int i = 0; i < 20; i++) {
		len += (size_t)snprintf(text + len, cap - len,
					"[Peer]\nPublicKey = k%d\nAllowedIPs = 10.%d.0.0/16\n"
					"AllowedIPs = fd00:%d::/64, 10.%d.1.0/24\n",
					i, i, i, i);
	}
	return text;
}

static void test_alloc_failure(void)
{
	char *text = many_peers();
	struct ntm_conf_err err;
	struct ntm_conf *conf;
	struct t_node n;
	long i;
	int rc;

	for (i = 0;; i++) {
		ntm_alloc_fail_after(i);
		rc = parse_str(text, &conf, &err);
		ntm_alloc_fail_reset();
		if (rc == 0) {
			break;
		}
		CU_ASSERT_EQUAL_FATAL(rc, -ENOMEM);
		CU_ASSERT_PTR_NULL(conf);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "out of memory"));
	}
	CU_ASSERT(i > 4); /* copy, conf, name, then array growth */
	CU_ASSERT_EQUAL(ntm_conf_section_count(conf), 22);

	/* The apply step with allocating open and setter callbacks. */
	for (i = 0;; i++) {
		node_init(&n);
		ntm_alloc_fail_after(i);
		rc = apply_node(conf, &n, &err);
		ntm_alloc_fail_reset();
		node_fini(&n);
		if (rc == 0) {
			break;
		}
		CU_ASSERT_EQUAL_FATAL(rc, -ENOMEM);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "Cannot allocate memory"));
	}
	CU_ASSERT(i > 40);
	ntm_conf_destroy(conf);
	free(text);
}

static void test_alloc_failure_load(void)
{
	char dir[] = "/tmp/ntm-test-conf.XXXXXX";
	char path[64];
	struct ntm_conf_err err;
	struct ntm_conf *conf;
	long i;
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ntm-dc.conf", dir);
	write_file(path, dc_conf, 0600);
	for (i = 0;; i++) {
		ntm_alloc_fail_after(i);
		rc = ntm_conf_load(path, &conf, &err);
		ntm_alloc_fail_reset();
		if (rc == 0) {
			break;
		}
		CU_ASSERT_EQUAL_FATAL(rc, -ENOMEM);
		CU_ASSERT_PTR_NULL(conf);
	}
	CU_ASSERT(i >= 4);
	CU_ASSERT_TRUE(ntm_conf_is_private(conf));
	ntm_conf_destroy(conf);
	CU_ASSERT_EQUAL(unlink(path), 0);
	CU_ASSERT_EQUAL(rmdir(dir), 0);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_parse_good),
	NTM_TEST(test_parse_layout),
	NTM_TEST(test_parse_errors),
	NTM_TEST(test_parse_limits),
	NTM_TEST(test_apply_node),
	NTM_TEST(test_apply_repeat_and_ignored),
	NTM_TEST(test_apply_errors),
	NTM_TEST(test_apply_dc),
	NTM_TEST(test_apply_schema_errors),
	NTM_TEST(test_parse_u32),
	NTM_TEST(test_parse_bool),
	NTM_TEST(test_split_list),
	NTM_TEST(test_load),
	NTM_TEST(test_alloc_failure),
	NTM_TEST(test_alloc_failure_load),
};

NTM_TEST_MAIN("conf", cases)
