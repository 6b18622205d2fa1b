/* SPDX-License-Identifier: MIT */
#include "endnode/config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/key.h"
#include "ntm_test.h"

/* Two valid keys and a private key file (0600) the configs below refer to. */
struct fixture {
	char priv[NTM_KEY_B64_SIZE], pub[NTM_KEY_B64_SIZE], peer[NTM_KEY_B64_SIZE];
	char keyfile[64];
};

static struct fixture fx;

static void make_key(char *priv_b64, char *pub_b64)
{
	struct ntm_key k, p;

	CU_ASSERT_EQUAL_FATAL(ntm_key_generate(&k), 0);
	CU_ASSERT_EQUAL_FATAL(ntm_key_public(&p, &k), 0);
	if (priv_b64 != NULL) {
		ntm_key_to_base64(priv_b64, &k);
	}
	ntm_key_to_base64(pub_b64, &p);
	ntm_key_wipe(&k);
}

static void write_file(char *path, const char *text, mode_t mode)
{
	int fd;

	strcpy(path, "/tmp/ntm-test-node-config.XXXXXX");
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	CU_ASSERT_EQUAL_FATAL(fchmod(fd, mode), 0);
	close(fd);
}

static void setup(void)
{
	char line[NTM_KEY_B64_SIZE + 1];

	CU_ASSERT_EQUAL_FATAL(ntm_crypto_init(), 0);
	make_key(fx.priv, fx.pub);
	make_key(NULL, fx.peer);
	snprintf(line, sizeof(line), "%s\n", fx.priv);
	write_file(fx.keyfile, line, 0600);
}

/* Parses `text` (a buffer: never "private") as file "x.conf" and applies the schema. */
static int apply(const char *text, struct en_config **cfg, struct ntm_conf_err *err)
{
	struct ntm_conf *conf;
	int rc = ntm_conf_parse("x.conf", text, strlen(text), &conf, err);

	*cfg = NULL;
	if (rc == 0) {
		rc = en_config_from_conf(conf, cfg, err);
		ntm_conf_destroy(conf);
	}
	return rc;
}

/* Expects failure with exactly `msg`. The text is built with printf from fmt. */
static void expect_error(const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void expect_error(const char *msg, const char *fmt, ...)
{
	char text[2048];
	struct ntm_conf_err err;
	struct en_config *cfg;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	CU_ASSERT(apply(text, &cfg, &err) < 0);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_STRING_EQUAL(err.msg, msg);
	if (strcmp(err.msg, msg) != 0) {
		fprintf(stderr, "\n  got:      %s\n  expected: %s\n", err.msg, msg);
	}
}

static void test_full_config(void)
{
	char text[2048], path[64], other[NTM_KEY_B64_SIZE];
	struct ntm_conf_err err;
	struct en_config *cfg;
	const struct en_config_peer *p;

	setup();
	make_key(NULL, other);
	snprintf(text, sizeof(text),
		 "[Interface]\nPrivateKey = %s\nListenPort = 51820\n"
		 "Address = 10.0.0.1/24, fd00::1/64\nAddress = 10.1.0.1/16\n"
		 "DNS = 1.1.1.1\nPostUp = echo hi\nTable = off\nFwMark = 1\nSaveConfig = true\n"
		 "[Peer]\nPublicKey = %s\nPresharedKey = %s\nEndpoint = [2001:db8::1]:7000\n"
		 "AllowedIPs = 10.0.0.2/32, fd00::2/128\nAllowedIPs = 10.9.0.5/16\n"
		 "PersistentKeepalive = 25\n"
		 "[Peer]\nPublicKey = %s\nEndpoint = 192.0.2.1:51820\nPersistentKeepalive = off\n",
		 fx.priv, fx.peer, fx.priv, other);
	write_file(path, text, 0600);
	CU_ASSERT_EQUAL_FATAL(en_config_load(path, &cfg, &err), 0);
	unlink(path);
	CU_ASSERT_EQUAL(cfg->listen_port, 51820);
	CU_ASSERT_EQUAL(cfg->mtu, EN_CONFIG_MTU_DEFAULT);
	CU_ASSERT_EQUAL(cfg->n_addresses, 3);
	CU_ASSERT_EQUAL(cfg->addresses[1].family, AF_INET6);
	CU_ASSERT_EQUAL(cfg->addresses[0].prefix_len, 24);
	CU_ASSERT_EQUAL(cfg->addresses[0].addr[3], 1); /* host bits kept */
	CU_ASSERT_EQUAL_FATAL(cfg->n_peers, 2);
	p = &cfg->peers[0];
	CU_ASSERT_EQUAL(p->line, 11);
	CU_ASSERT_PTR_NOT_NULL(p->preshared_key);
	CU_ASSERT_EQUAL(ntm_addr_port(&p->endpoint), 7000);
	CU_ASSERT(ntm_addr_is_v6(&p->endpoint));
	CU_ASSERT_EQUAL(p->n_allowed_ips, 3);
	CU_ASSERT_EQUAL(p->allowed_ips[2].addr[2], 0); /* host bits masked */
	CU_ASSERT_EQUAL(p->persistent_keepalive, 25);
	CU_ASSERT_PTR_NULL(cfg->peers[1].preshared_key);
	CU_ASSERT_EQUAL(cfg->peers[1].persistent_keepalive, 0);
	CU_ASSERT_EQUAL(cfg->peers[1].endpoint.sa.sa_family, AF_INET);
	en_config_destroy(cfg);
	unlink(fx.keyfile);
}

static void test_minimal_and_mtu(void)
{
	char text[512];
	struct ntm_conf_err err;
	struct en_config *cfg;

	setup();
	snprintf(text, sizeof(text), "[Interface]\nPrivateKeyFile = %s\nMTU = 1280\n", fx.keyfile);
	CU_ASSERT_EQUAL_FATAL(apply(text, &cfg, &err), 0);
	CU_ASSERT_EQUAL(cfg->mtu, 1280);
	CU_ASSERT_EQUAL(cfg->listen_port, 0);
	CU_ASSERT_EQUAL(cfg->n_peers, 0);
	en_config_destroy(cfg);
	unlink(fx.keyfile);
}

static void test_schema_errors(void)
{
	setup();
	expect_error("x.conf:3: unknown key 'Foo' in [Interface]",
		     "[Interface]\nPrivateKeyFile = %s\nFoo = bar\n", fx.keyfile);
	expect_error("x.conf:4: unknown section [Peers]",
		     "[Interface]\nPrivateKeyFile = %s\n\n[Peers]\n", fx.keyfile);
	expect_error("x.conf: missing section [Interface]", "[Peer]\nPublicKey = %s\n", fx.peer);
	expect_error("x.conf:1: [Interface]: PrivateKey or PrivateKeyFile is required",
		     "[Interface]\nListenPort = 1\n%s", "");
	expect_error("x.conf:3: duplicate key 'PrivateKeyFile' in [Interface] (first at line 2)",
		     "[Interface]\nPrivateKeyFile = %s\nPrivateKeyFile = %s\n", fx.keyfile,
		     fx.keyfile);
	expect_error("x.conf:4: missing key 'PublicKey' in [Peer]",
		     "[Interface]\nPrivateKeyFile = %s\n\n[Peer]\nEndpoint = 192.0.2.1:1\n",
		     fx.keyfile);
	expect_error("x.conf:5: invalid PublicKey in [Peer]: not a base64 key of 32 bytes "
		     "(44 characters)",
		     "[Interface]\nPrivateKeyFile = %s\n\n[Peer]\nPublicKey = abc\n", fx.keyfile);
	expect_error("x.conf:3: invalid MTU in [Interface]: out of range 576..65535",
		     "[Interface]\nPrivateKeyFile = %s\nMTU = 100\n", fx.keyfile);
	expect_error("x.conf:6: invalid Endpoint in [Peer]: host names are not supported yet; "
		     "use a numeric address",
		     "[Interface]\nPrivateKeyFile = %s\n\n[Peer]\nPublicKey = %s\n"
		     "Endpoint = vpn.example.net:51820\n",
		     fx.keyfile, fx.peer);
	expect_error("x.conf:6: invalid AllowedIPs in [Peer]: listed twice",
		     "[Interface]\nPrivateKeyFile = %s\n[Peer]\nPublicKey = %s\n"
		     "AllowedIPs = 10.0.0.0/8\nAllowedIPs = 10.1.0.0/8\n",
		     fx.keyfile, fx.peer);
	expect_error("x.conf:5: [Peer]: the same PublicKey as an earlier peer",
		     "[Interface]\nPrivateKeyFile = %s\n[Peer]\nPublicKey = %s\n[Peer]\n"
		     "PublicKey = %s\n",
		     fx.keyfile, fx.peer, fx.peer);
	expect_error("x.conf:3: [Peer]: PublicKey is the interface's own key",
		     "[Interface]\nPrivateKeyFile = %s\n[Peer]\nPublicKey = %s\n", fx.keyfile,
		     fx.pub);
	unlink(fx.keyfile);
}

static void test_secrets_need_private_files(void)
{
	char text[512], path[64], msg[256];
	struct ntm_conf_err err;
	struct en_config *cfg;

	setup();
	/* A buffer is never private: inline secrets are refused. */
	expect_error("x.conf:2: invalid PrivateKey in [Interface]: the file may be read by group "
		     "or others (chmod 600 it, or use PrivateKeyFile)",
		     "[Interface]\nPrivateKey = %s\n", fx.priv);
	expect_error("x.conf:5: invalid PresharedKey in [Peer]: the file may be read by group "
		     "or others (chmod 600 it, or use PrivateKeyFile)",
		     "[Interface]\nPrivateKeyFile = %s\n[Peer]\nPublicKey = %s\n"
		     "PresharedKey = %s\n",
		     fx.keyfile, fx.peer, fx.priv);
	snprintf(text, sizeof(text), "[Interface]\nPrivateKey = %s\n", fx.priv);
	write_file(path, text, 0640);
	CU_ASSERT_EQUAL(en_config_load(path, &cfg, &err), -EPERM);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ":2: invalid PrivateKey in [Interface]"));
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0400), 0);
	CU_ASSERT_EQUAL(en_config_load(path, &cfg, &err), 0);
	en_config_destroy(cfg);
	unlink(path);
	/* Both forms at once (only a private file gets that far). */
	snprintf(text, sizeof(text), "[Interface]\nPrivateKey = %s\nPrivateKeyFile = %s\n", fx.priv,
		 fx.keyfile);
	write_file(path, text, 0600);
	CU_ASSERT_EQUAL(en_config_load(path, &cfg, &err), -EINVAL);
	snprintf(msg, sizeof(msg),
		 "%s:1: [Interface]: PrivateKey and PrivateKeyFile exclude each other", path);
	CU_ASSERT_STRING_EQUAL(err.msg, msg);
	unlink(path);
	/* A PrivateKeyFile that group may read is refused too. */
	CU_ASSERT_EQUAL_FATAL(chmod(fx.keyfile, 0640), 0);
	snprintf(text, sizeof(text), "[Interface]\nPrivateKeyFile = %s\n", fx.keyfile);
	CU_ASSERT_EQUAL(apply(text, &cfg, &err), -EACCES);
	snprintf(msg, sizeof(msg), "x.conf:2: invalid PrivateKeyFile in [Interface]: %s: mode 0640",
		 fx.keyfile);
	CU_ASSERT_EQUAL(strncmp(err.msg, msg, strlen(msg)), 0);
	unlink(fx.keyfile);
}

static void test_dc_section(void)
{
	char text[1024], path[64];
	struct ntm_conf_err err;
	struct en_config *cfg;

	setup();
	snprintf(text, sizeof(text),
		 "[Interface]\nPrivateKeyFile = %s\nName = A.Example.NET.\n\n"
		 "[DC]\nEndpoint = 198.51.100.1:7000, [2001:db8::1]:7000\nPublicKey = %s\n"
		 "Token = abc-DEF_123\n",
		 fx.keyfile, fx.peer);
	write_file(path, text, 0600);
	CU_ASSERT_EQUAL_FATAL(en_config_load(path, &cfg, &err), 0);
	unlink(path);
	CU_ASSERT_STRING_EQUAL(cfg->name, "a.example.net");
	CU_ASSERT(cfg->has_dc);
	CU_ASSERT_EQUAL(cfg->dc.line, 5);
	CU_ASSERT_EQUAL_FATAL(cfg->dc.n_endpoints, 2);
	CU_ASSERT_EQUAL(ntm_addr_port(&cfg->dc.endpoints[0]), 7000);
	CU_ASSERT(ntm_addr_is_v6(&cfg->dc.endpoints[1]));
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg->dc.token);
	CU_ASSERT_STRING_EQUAL(cfg->dc.token, "abc-DEF_123");
	CU_ASSERT_EQUAL(cfg->n_addresses, 0);
	en_config_destroy(cfg);

	/* Without a token; Endpoint repeatable. */
	snprintf(text, sizeof(text),
		 "[Interface]\nPrivateKeyFile = %s\nName = b.example.net\n[DC]\n"
		 "Endpoint = 198.51.100.1:7000\nEndpoint = 198.51.100.1:7001\nPublicKey = %s\n",
		 fx.keyfile, fx.peer);
	CU_ASSERT_EQUAL_FATAL(apply(text, &cfg, &err), 0);
	CU_ASSERT_EQUAL(cfg->dc.n_endpoints, 2);
	CU_ASSERT_PTR_NULL(cfg->dc.token);
	CU_ASSERT_PTR_NULL(cfg->dc.state_file);
	en_config_destroy(cfg);

	/* StateFile: the peer cache, kept as given. */
	snprintf(text, sizeof(text),
		 "[Interface]\nPrivateKeyFile = %s\nName = b.example.net\n[DC]\n"
		 "Endpoint = 198.51.100.1:7000\nPublicKey = %s\nStateFile = /var/lib/ntm/p.db\n",
		 fx.keyfile, fx.peer);
	CU_ASSERT_EQUAL_FATAL(apply(text, &cfg, &err), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg->dc.state_file);
	CU_ASSERT_STRING_EQUAL(cfg->dc.state_file, "/var/lib/ntm/p.db");
	en_config_destroy(cfg);
	unlink(fx.keyfile);
}

static void test_dc_errors(void)
{
	setup();
	expect_error("x.conf:3: [DC]: Name (the node's FQDN) is required in [Interface]",
		     "[Interface]\nPrivateKeyFile = %s\n[DC]\nEndpoint = 192.0.2.1:7000\n"
		     "PublicKey = %s\n",
		     fx.keyfile, fx.peer);
	expect_error("x.conf:4: missing key 'Endpoint' in [DC]",
		     "[Interface]\nPrivateKeyFile = %s\nName = a.example.net\n[DC]\n"
		     "PublicKey = %s\n",
		     fx.keyfile, fx.peer);
	expect_error("x.conf:4: missing key 'PublicKey' in [DC]",
		     "[Interface]\nPrivateKeyFile = %s\nName = a.example.net\n[DC]\n"
		     "Endpoint = 192.0.2.1:7000\n",
		     fx.keyfile);
	expect_error("x.conf:8: duplicate key 'StateFile' in [DC] (first at line 7)",
		     "[Interface]\nPrivateKeyFile = %s\nName = a.example.net\n[DC]\n"
		     "PublicKey = %s\nEndpoint = 192.0.2.1:7000\nStateFile = /a\nStateFile = /b\n",
		     fx.keyfile, fx.peer);
	expect_error("x.conf:6: invalid Endpoint in [DC]: listed twice",
		     "[Interface]\nPrivateKeyFile = %s\nName = a.example.net\n[DC]\n"
		     "PublicKey = %s\nEndpoint = 192.0.2.1:7000, 192.0.2.1:7000\n",
		     fx.keyfile, fx.peer);
	expect_error("x.conf:6: invalid Endpoint in [DC]: too many entries (at most 8)",
		     "[Interface]\nPrivateKeyFile = %s\nName = a.example.net\n[DC]\n"
		     "PublicKey = %s\nEndpoint = 192.0.2.1:1, 192.0.2.1:2, 192.0.2.1:3, "
		     "192.0.2.1:4, 192.0.2.1:5, 192.0.2.1:6, 192.0.2.1:7, 192.0.2.1:8, "
		     "192.0.2.1:9\n",
		     fx.keyfile, fx.peer);
	expect_error("x.conf:6: invalid Token in [DC]: the file may be read by group or others "
		     "(chmod 600 it)",
		     "[Interface]\nPrivateKeyFile = %s\nName = a.example.net\n[DC]\n"
		     "PublicKey = %s\nToken = secret\nEndpoint = 192.0.2.1:7000\n",
		     fx.keyfile, fx.peer);
	expect_error("x.conf:3: invalid Name in [Interface]: only letters, digits, '-' and '.' "
		     "are allowed",
		     "[Interface]\nPrivateKeyFile = %s\nName = a_b.example.net\n", fx.keyfile);
	expect_error("x.conf:3: invalid Name in [Interface]: empty label",
		     "[Interface]\nPrivateKeyFile = %s\nName = a..example.net\n", fx.keyfile);
	expect_error("x.conf:3: invalid Name in [Interface]: not a host name of 1..253 characters",
		     "[Interface]\nPrivateKeyFile = %s\nName = .\n", fx.keyfile);
	expect_error("x.conf:7: duplicate section [DC] (first at line 4)",
		     "[Interface]\nPrivateKeyFile = %s\nName = a.example.net\n[DC]\n"
		     "PublicKey = %s\nEndpoint = 192.0.2.1:7000\n[DC]\n",
		     fx.keyfile, fx.peer);
	unlink(fx.keyfile);
}

static void test_dns_section(void)
{
	char text[1024];
	struct ntm_conf_err err;
	struct en_config *cfg;

	setup();
	snprintf(text, sizeof(text),
		 "[Interface]\nPrivateKeyFile = %s\nName = a.example.net\n[DNS]\n"
		 "Listen = 127.0.0.1:5353, [::1]:5353\nUpstream = 192.0.2.53, [2001:db8::53]:5353\n"
		 "Upstream = 192.0.2.54:53\nDomains = Corp.Example., example.org\n",
		 fx.keyfile);
	CU_ASSERT_EQUAL_FATAL(apply(text, &cfg, &err), 0);
	CU_ASSERT(cfg->has_dns);
	CU_ASSERT_EQUAL_FATAL(cfg->dns.n_listen, 2);
	CU_ASSERT_EQUAL(ntm_addr_port(&cfg->dns.listen[1]), 5353);
	CU_ASSERT_EQUAL_FATAL(cfg->dns.n_upstream, 3);
	CU_ASSERT_STRING_EQUAL(cfg->dns.upstream[1], "[2001:db8::53]:5353");
	CU_ASSERT_EQUAL_FATAL(cfg->dns.n_domains, 2);
	CU_ASSERT_STRING_EQUAL(cfg->dns.domains[0], "corp.example");
	CU_ASSERT_EQUAL(cfg->dns.register_resolved, EN_CONFIG_RESOLVED_AUTO);
	en_config_destroy(cfg);
	snprintf(text, sizeof(text),
		 "[Interface]\nPrivateKeyFile = %s\nName = a.example.net\n[DNS]\n"
		 "RegisterResolved = No\n",
		 fx.keyfile);
	CU_ASSERT_EQUAL_FATAL(apply(text, &cfg, &err), 0);
	CU_ASSERT_EQUAL(cfg->dns.register_resolved, EN_CONFIG_RESOLVED_NO);
	en_config_destroy(cfg);
	snprintf(text, sizeof(text),
		 "[Interface]\nPrivateKeyFile = %s\nName = a.example.net\n[DNS]\n"
		 "RegisterResolved = yes\n",
		 fx.keyfile);
	CU_ASSERT_EQUAL_FATAL(apply(text, &cfg, &err), 0);
	CU_ASSERT_EQUAL(cfg->dns.register_resolved, EN_CONFIG_RESOLVED_YES);
	en_config_destroy(cfg);
	expect_error("x.conf:5: invalid RegisterResolved in [DNS]: not auto, yes or no",
		     "[Interface]\nPrivateKeyFile = %s\nName = a.example.net\n[DNS]\n"
		     "RegisterResolved = maybe\n",
		     fx.keyfile);
	expect_error("x.conf:5: invalid Upstream in [DNS]: not a numeric resolver address (IP, "
		     "IP:PORT or [IPv6]:PORT)",
		     "[Interface]\nPrivateKeyFile = %s\nName = a.example.net\n[DNS]\n"
		     "Upstream = dns.example\n",
		     fx.keyfile);
	expect_error("x.conf:5: invalid Domains in [DNS]: listed twice",
		     "[Interface]\nPrivateKeyFile = %s\nName = a.example.net\n[DNS]\n"
		     "Domains = a.test, A.test.\n",
		     fx.keyfile);
	expect_error("x.conf:5: invalid Domains in [DNS]: only letters, digits, '-' and '.' are "
		     "allowed",
		     "[Interface]\nPrivateKeyFile = %s\nName = a.example.net\n[DNS]\n"
		     "Domains = a_b.test\n",
		     fx.keyfile);
	expect_error("x.conf:5: invalid Listen in [DNS]: too many entries (at most 4)",
		     "[Interface]\nPrivateKeyFile = %s\nName = a.example.net\n[DNS]\n"
		     "Listen = 127.0.0.1:1, 127.0.0.1:2, 127.0.0.1:3, 127.0.0.1:4, 127.0.0.1:5\n",
		     fx.keyfile);
	unlink(fx.keyfile);
}

static void test_dc_token_needs_private_file(void)
{
	char text[1024], path[64], msg[256];
	struct ntm_conf_err err;
	struct en_config *cfg;

	setup();
	snprintf(text, sizeof(text),
		 "[Interface]\nPrivateKeyFile = %s\nName = a.example.net\n[DC]\n"
		 "Endpoint = 192.0.2.1:7000\nPublicKey = %s\nToken = secret\n",
		 fx.keyfile, fx.peer);
	write_file(path, text, 0644);
	CU_ASSERT_EQUAL(en_config_load(path, &cfg, &err), -EPERM);
	CU_ASSERT_PTR_NULL(cfg);
	snprintf(msg, sizeof(msg),
		 "%s:7: invalid Token in [DC]: the file may be read by group or others "
		 "(chmod 600 it)",
		 path);
	CU_ASSERT_STRING_EQUAL(err.msg, msg);
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0600), 0);
	CU_ASSERT_EQUAL(en_config_load(path, &cfg, &err), 0);
	en_config_destroy(cfg);
	unlink(path);
	unlink(fx.keyfile);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_full_config),
	NTM_TEST(test_minimal_and_mtu),
	NTM_TEST(test_schema_errors),
	NTM_TEST(test_secrets_need_private_files),
	NTM_TEST(test_dc_section),
	NTM_TEST(test_dc_errors),
	NTM_TEST(test_dc_token_needs_private_file),
	NTM_TEST(test_dns_section),
};

NTM_TEST_MAIN("node_config", cases)
