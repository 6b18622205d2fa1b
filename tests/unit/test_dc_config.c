/* SPDX-License-Identifier: MIT */
/*
 * ntm-dc.conf: a full good file with every key, the defaults, and every
 * error with its exact text (file, line, reason).
 */
#include "dc/config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/crypto.h"
#include "ntm_test.h"

#define KEY "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define PUB "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
#define DC_MIN                                                                              \
	"[DC]\nDomain = example.net\nPrivateKeyFile = @KEYFILE@\nListen = 192.0.2.1:7000\n" \
	"Pool4 = 100.80.0.0/16\nPool6 = fd80:1::/64\n"

static int parse(const char *text, struct dc_config **cfg, struct ntm_conf_err *err)
{
	struct ntm_conf *conf;
	int rc = ntm_conf_parse("t.conf", text, strlen(text), &conf, err);

	*cfg = NULL;
	if (rc < 0) {
		return rc;
	}
	rc = dc_config_from_conf(conf, cfg, err);
	ntm_conf_destroy(conf);
	return rc;
}

/* Writes `text` to a new file with `mode` in a temporary directory; path into out. */
static void write_file(char *dir, const char *name, const char *text, mode_t mode, char *out,
		       size_t cap)
{
	int fd;

	snprintf(out, cap, "%s/%s", dir, name);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	CU_ASSERT_EQUAL(fchmod(fd, mode), 0);
	close(fd);
}

static void test_good_file(void)
{
	char dir[] = "/tmp/test_dc_config.XXXXXX", keyfile[128], conffile[128], text[1024];
	struct ntm_conf_err err;
	struct dc_config *cfg;
	char a[NTM_ADDR_STRLEN], b64[NTM_KEY_B64_SIZE];

	CU_ASSERT_EQUAL_FATAL(ntm_crypto_init(), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	write_file(dir, "dc.key", KEY "\n", 0600, keyfile, sizeof(keyfile));
	snprintf(text, sizeof(text),
		 "# a DC\n"
		 "[DC]\n"
		 "Domain = Example.NET.\n"
		 "PrivateKeyFile = %s\n"
		 "Listen = 198.51.100.1:7000, [2001:db8::1]:7000\n"
		 "Listen = 198.51.100.2:7000\n"
		 "AltListen = 198.51.100.1:7001\n"
		 "Pool4 = 100.80.0.0/16\n"
		 "Pool6 = fd80:1::/64\n"
		 "Database = /var/lib/ntm/test.db\n"
		 "KeepaliveInterval = 30\n"
		 "ControlGroup = 4242\n"
		 "MaxSessions = 200000\n"
		 "[DNS]\n"
		 "Listen = 198.51.100.1:53, [2001:db8::1]:53\n"
		 "[Federation]\n"
		 "Domain = other.example\n"
		 "PublicKey = " PUB "\n"
		 "[federation]\n"
		 "domain = third.example\n"
		 "Endpoint = 203.0.113.9:7000\n"
		 "Allow = *.third.example -> CAM*.example.net\n"
		 "Allow = boss.third.example->*\n",
		 keyfile);
	write_file(dir, "dc.conf", text, 0644, conffile, sizeof(conffile));
	CU_ASSERT_EQUAL_FATAL(dc_config_load(conffile, &cfg, &err), 0);
	CU_ASSERT_STRING_EQUAL(cfg->domain, "example.net");
	ntm_key_to_base64(b64, cfg->private_key);
	CU_ASSERT_STRING_EQUAL(b64, KEY);
	CU_ASSERT_EQUAL(cfg->listen.n, 3);
	CU_ASSERT_EQUAL(ntm_addr_format(&cfg->listen.addrs[1], a, sizeof(a)), 0);
	CU_ASSERT_STRING_EQUAL(a, "[2001:db8::1]:7000");
	CU_ASSERT_EQUAL(cfg->alt_listen.n, 1);
	CU_ASSERT_EQUAL(cfg->dns_listen.n, 2);
	CU_ASSERT_EQUAL(cfg->pool4.prefix_len, 16);
	CU_ASSERT_EQUAL(cfg->pool6.prefix_len, 64);
	CU_ASSERT_STRING_EQUAL(cfg->database, "/var/lib/ntm/test.db");
	CU_ASSERT_EQUAL(cfg->keepalive, 30);
	CU_ASSERT_EQUAL(cfg->max_sessions, 200000);
	CU_ASSERT_TRUE(cfg->has_group);
	CU_ASSERT_EQUAL(cfg->group, 4242);
	CU_ASSERT_EQUAL(cfg->n_federation, 2);
	CU_ASSERT_STRING_EQUAL(cfg->federation[0].domain, "other.example");
	CU_ASSERT_TRUE(cfg->federation[0].has_key);
	ntm_key_to_base64(b64, &cfg->federation[0].public_key);
	CU_ASSERT_STRING_EQUAL(b64, PUB);
	CU_ASSERT_EQUAL(cfg->federation[0].line, 16);
	CU_ASSERT_FALSE(cfg->federation[1].has_key);
	CU_ASSERT_EQUAL(cfg->federation[1].line, 19);
	CU_ASSERT_EQUAL(cfg->federation[0].endpoints.n, 0);
	CU_ASSERT_EQUAL(cfg->federation[0].n_allow, 0);
	CU_ASSERT_EQUAL(cfg->federation[1].endpoints.n, 1);
	CU_ASSERT_EQUAL(cfg->federation[1].n_allow, 2);
	CU_ASSERT_STRING_EQUAL(cfg->federation[1].allow[0].remote, "*.third.example");
	CU_ASSERT_STRING_EQUAL(cfg->federation[1].allow[0].local, "cam*.example.net");
	CU_ASSERT_TRUE(dc_fedpolicy_allows(cfg->federation[1].allow, 2, "x.third.example",
					   "cam1.example.net"));
	CU_ASSERT_FALSE(dc_fedpolicy_allows(cfg->federation[1].allow, 2, "x.third.example",
					    "door.example.net"));
	CU_ASSERT_TRUE(dc_fedpolicy_allows(cfg->federation[1].allow, 2, "boss.third.example",
					   "door.example.net"));
	CU_ASSERT_FALSE(dc_fedpolicy_allows(cfg->federation[0].allow, 0, "a.other.example",
					    "door.example.net"));
	dc_config_destroy(cfg);
	unlink(keyfile);
	unlink(conffile);
	rmdir(dir);
}

static void test_defaults_and_group_name(void)
{
	char dir[] = "/tmp/test_dc_config.XXXXXX", conffile[128];
	struct ntm_conf_err err;
	struct dc_config *cfg;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	/* An inline key needs a private file: 0600 passes. */
	write_file(dir, "dc.conf",
		   "[DC]\nDomain = example.net\nPrivateKey = " KEY "\nListen = 192.0.2.1:7000\n"
		   "Pool4 = 10.0.0.0/30\nPool6 = fd80::/120\nControlGroup = root\n",
		   0600, conffile, sizeof(conffile));
	CU_ASSERT_EQUAL_FATAL(dc_config_load(conffile, &cfg, &err), 0);
	CU_ASSERT_STRING_EQUAL(cfg->database, DC_CONFIG_DATABASE_DEFAULT);
	/* DNSSEC on by default: the zone key beside the database */
	CU_ASSERT_STRING_EQUAL(cfg->zone_key, "/var/lib/ntm/zone-example.net.key");
	CU_ASSERT_EQUAL(cfg->keepalive, DC_CONFIG_KEEPALIVE_DEFAULT);
	CU_ASSERT_EQUAL(cfg->max_sessions, DC_CONFIG_MAX_SESSIONS_DEFAULT);
	CU_ASSERT_EQUAL(cfg->alt_listen.n, 0);
	CU_ASSERT_EQUAL(cfg->n_federation, 0);
	CU_ASSERT_TRUE(cfg->has_group);
	CU_ASSERT_EQUAL(cfg->group, 0);
	dc_config_destroy(cfg);
	/* The same file readable by others: the inline key is refused. */
	CU_ASSERT_EQUAL(chmod(conffile, 0640), 0);
	CU_ASSERT_EQUAL(dc_config_load(conffile, &cfg, &err), -EPERM);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg,
				      "dc.conf:3: invalid PrivateKey in [DC]: the file may "
				      "be read by group or others (chmod 600 it, or use "
				      "PrivateKeyFile)"));
	unlink(conffile);
	rmdir(dir);
}

struct bad_case {
	const char *text;
	const char *msg;
};

/* Each text replaces or extends the minimal [DC] section; the message is exact. */
static const struct bad_case bad[] = {
	{ "", "t.conf: missing section [DC]" },
	{ "[DC]\nDomain = example.net\n", "t.conf:1: missing key 'Listen' in [DC]" },
	{ DC_MIN "Foo = 1\n", "t.conf:7: unknown key 'Foo' in [DC]" },
	{ DC_MIN "[Peer]\n", "t.conf:7: unknown section [Peer]" },
	{ DC_MIN "[DC]\n", "t.conf:7: duplicate section [DC] (first at line 1)" },
	{ DC_MIN "Pool4 = 10.0.0.0/8\n",
	  "t.conf:7: duplicate key 'Pool4' in [DC] (first at line 5)" },
	{ "[DC]\nDomain = example\nPrivateKeyFile = /x\nListen = 192.0.2.1:7000\n",
	  "t.conf:2: invalid Domain in [DC]: a single label is not a domain name" },
	{ "[DC]\nDomain = ex_ample.net\n",
	  "t.conf:2: invalid Domain in [DC]: only letters, digits, '-' and '.' are allowed in a "
	  "name" },
	{ "[DC]\nDomain = -a.net\n",
	  "t.conf:2: invalid Domain in [DC]: a label starts or ends with '-'" },
	{ "[DC]\nDomain = a..net\n", "t.conf:2: invalid Domain in [DC]: empty label" },
	{ "[DC]\nDomain = a.b.123\n",
	  "t.conf:2: invalid Domain in [DC]: the top-level label is all digits" },
	{ "[DC]\nPrivateKey = " KEY "\n",
	  "t.conf:2: invalid PrivateKey in [DC]: the file may be read by group or others (chmod "
	  "600 it, or use PrivateKeyFile)" },
	{ "[DC]\nDomain = example.net\nListen = 192.0.2.1:7000\nPool4 = 100.80.0.0/16\n"
	  "Pool6 = fd80:1::/64\n",
	  "t.conf:1: [DC]: PrivateKey or PrivateKeyFile is required" },
	{ "[DC]\nListen = 192.0.2.1\n",
	  "t.conf:2: invalid Listen in [DC]: '192.0.2.1': missing port" },
	{ "[DC]\nListen = 192.0.2.1:7000, 192.0.2.1:7000\n",
	  "t.conf:2: invalid Listen in [DC]: an address is listed twice" },
	{ "[DC]\nListen = 192.0.2.1:0\n",
	  "t.conf:2: invalid Listen in [DC]: '192.0.2.1:0': port out of range 1..65535" },
	{ DC_MIN "AltListen = 192.0.2.1:7000\n",
	  "t.conf:1: [DC]: an AltListen address is also a Listen address" },
	{ "[DC]\nPool4 = fd80::/64\n", "t.conf:2: invalid Pool4 in [DC]: not an IPv4 prefix" },
	{ "[DC]\nPool4 = 10.0.0.0/31\n",
	  "t.conf:2: invalid Pool4 in [DC]: an IPv4 pool must be /8 to /30" },
	{ "[DC]\nPool4 = 10.0.0.1/24\n", "t.conf:2: invalid Pool4 in [DC]: '10.0.0.1/24': host "
					 "bits set past the prefix length (did "
					 "you mean 10.0.0.0/24?)" },
	{ "[DC]\nPool6 = 10.0.0.0/24\n", "t.conf:2: invalid Pool6 in [DC]: not an IPv6 prefix" },
	{ "[DC]\nPool6 = fd80::/48\n",
	  "t.conf:2: invalid Pool6 in [DC]: an IPv6 pool must be /64 to /120" },
	{ "[DC]\nDatabase = dc.db\n",
	  "t.conf:2: invalid Database in [DC]: must be an absolute path" },
	{ "[DC]\nKeepaliveInterval = 4\n",
	  "t.conf:2: invalid KeepaliveInterval in [DC]: out of range 5..600" },
	{ "[DC]\nMaxSessions = 15\n",
	  "t.conf:2: invalid MaxSessions in [DC]: out of range 16..1048576" },
	{ "[DC]\nMaxSessions = 1048577\n",
	  "t.conf:2: invalid MaxSessions in [DC]: out of range 16..1048576" },
	{ "[DC]\nKeepaliveInterval = 25s\n",
	  "t.conf:2: invalid KeepaliveInterval in [DC]: not a decimal number" },
	{ "[DC]\nControlGroup = no-such-group-ntm\n",
	  "t.conf:2: invalid ControlGroup in [DC]: no such group" },
	{ "[DC]\nPrivateKeyFile = /nonexistent-ntm/key\n",
	  "t.conf:2: invalid PrivateKeyFile in [DC]: /nonexistent-ntm/key: No such file or "
	  "directory" },
	{ DC_MIN "[DNS]\nZoneKey = zone.key\n",
	  "t.conf:8: invalid ZoneKey in [DNS]: must be an absolute path" },
	{ DC_MIN "[DNS]\nListen = [::1]\n",
	  "t.conf:8: invalid Listen in [DNS]: '[::1]': missing port" },
	{ DC_MIN "[Federation]\nDomain = o.example\nAllow = *.o.example\n",
	  "t.conf:9: invalid Allow in [Federation]: expected REMOTE-PATTERN -> LOCAL-PATTERN" },
	{ DC_MIN "[Federation]\nDomain = o.example\nAllow = * -> a b\n",
	  "t.conf:9: invalid Allow in [Federation]: the local pattern holds a character not "
	  "allowed" },
	{ DC_MIN "[Federation]\nDomain = o.example\nAllow =  -> *\n",
	  "t.conf:9: invalid Allow in [Federation]: the remote pattern is empty or too long" },
	{ DC_MIN "[Federation]\nDomain = o.example\nEndpoint = o.example:7000\n",
	  "t.conf:9: invalid Endpoint in [Federation]: 'o.example:7000': not a numeric IPv4 "
	  "address" },
	{ DC_MIN "[Federation]\nPublicKey = " PUB "\n",
	  "t.conf:7: missing key 'Domain' in [Federation]" },
	{ DC_MIN "[Federation]\nDomain = o.example\nPublicKey = abc\n",
	  "t.conf:9: invalid PublicKey in [Federation]: not a base64 key of 32 bytes (44 "
	  "characters)" },
	{ DC_MIN "[Federation]\nDomain = o.example\n[Federation]\nDomain = O.example.\n",
	  "t.conf:9: [Federation]: the same Domain as an earlier section" },
};

/* `text` with @KEYFILE@ replaced by `keyfile`, into out[cap]. */
static void substitute(const char *text, const char *keyfile, char *out, size_t cap)
{
	const char *at = strstr(text, "@KEYFILE@");

	if (at == NULL) {
		snprintf(out, cap, "%s", text);
		return;
	}
	snprintf(out, cap, "%.*s%s%s", (int)(at - text), text, keyfile, at + strlen("@KEYFILE@"));
}

static void test_errors(void)
{
	char dir[] = "/tmp/test_dc_config.XXXXXX", keyfile[128], text[2048];
	struct ntm_conf_err err;
	struct dc_config *cfg;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	write_file(dir, "dc.key", KEY "\n", 0600, keyfile, sizeof(keyfile));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc;

		substitute(bad[i].text, keyfile, text, sizeof(text));
		rc = parse(text, &cfg, &err);
		CU_ASSERT_TRUE(rc < 0);
		CU_ASSERT_PTR_NULL(cfg);
		if (strcmp(err.msg, bad[i].msg) != 0) {
			fprintf(stderr, "case %zu:\n  got  '%s'\n  want '%s'\n", i, err.msg,
				bad[i].msg);
			CU_FAIL("error text");
		}
		dc_config_destroy(cfg);
	}
	/* And the minimal file itself is good. */
	substitute(DC_MIN, keyfile, text, sizeof(text));
	CU_ASSERT_EQUAL(parse(text, &cfg, &err), 0);
	dc_config_destroy(cfg);
	/* ZoneKey: a path, or none for an unsigned zone */
	substitute(DC_MIN "Database = /srv/dc/x.db\n[DNS]\nZoneKey = none\n", keyfile, text,
		   sizeof(text));
	CU_ASSERT_EQUAL_FATAL(parse(text, &cfg, &err), 0);
	CU_ASSERT_PTR_NULL(cfg->zone_key);
	dc_config_destroy(cfg);
	substitute(DC_MIN "Database = /srv/dc/x.db\n", keyfile, text, sizeof(text));
	CU_ASSERT_EQUAL_FATAL(parse(text, &cfg, &err), 0);
	CU_ASSERT_STRING_EQUAL(cfg->zone_key, "/srv/dc/zone-example.net.key");
	dc_config_destroy(cfg);
	substitute(DC_MIN "[DNS]\nZoneKey = /etc/ntm/zsk\n", keyfile, text, sizeof(text));
	CU_ASSERT_EQUAL_FATAL(parse(text, &cfg, &err), 0);
	CU_ASSERT_STRING_EQUAL(cfg->zone_key, "/etc/ntm/zsk");
	dc_config_destroy(cfg);
	unlink(keyfile);
	rmdir(dir);
}

/* Needs a key file that exists, so it cannot live in the table above. */
static void test_cross_checks(void)
{
	char dir[] = "/tmp/test_dc_config.XXXXXX", keyfile[128], text[1024];
	struct ntm_conf_err err;
	struct dc_config *cfg;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	write_file(dir, "dc.key", KEY "\n", 0644, keyfile, sizeof(keyfile));
	snprintf(text, sizeof(text), "[DC]\nPrivateKeyFile = %s\n", keyfile);
	CU_ASSERT_EQUAL(parse(text, &cfg, &err), -EACCES);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "t.conf:2: invalid PrivateKeyFile in [DC]: "));
	CU_ASSERT_EQUAL(chmod(keyfile, 0600), 0);
	snprintf(text, sizeof(text),
		 "[DC]\nDomain = example.net\nPrivateKeyFile = %s\nPrivateKey = " KEY "\n",
		 keyfile);
	CU_ASSERT_EQUAL(parse(text, &cfg, &err), -EPERM); /* the buffer is not a private file */
	snprintf(text, sizeof(text),
		 "[Federation]\nDomain = Example.NET\n[DC]\nDomain = example.net\n"
		 "PrivateKeyFile = %s\nListen = 192.0.2.1:7000\nPool4 = 100.80.0.0/16\n"
		 "Pool6 = fd80:1::/64\n",
		 keyfile);
	CU_ASSERT_EQUAL(parse(text, &cfg, &err), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "t.conf:1: [Federation]: Domain is this DC's own domain");
	CU_ASSERT_EQUAL(err.line, 1);
	unlink(keyfile);
	rmdir(dir);
}

/* Every allocation failing in turn: -ENOMEM and no record, or success; ASan checks leaks. */
static void test_alloc_failures(void)
{
	char dir[] = "/tmp/test_dc_config.XXXXXX", keyfile[128], text[2048];
	struct ntm_conf_err err;
	struct dc_config *cfg;
	bool succeeded = false;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	write_file(dir, "dc.key", KEY "\n", 0600, keyfile, sizeof(keyfile));
	substitute(DC_MIN "[Federation]\nDomain = a.example\n[Federation]\nDomain = b.example\n",
		   keyfile, text, sizeof(text));
	for (long n = 0; n < 64 && !succeeded; n++) {
		int rc;

		ntm_alloc_fail_after(n);
		rc = parse(text, &cfg, &err);
		ntm_alloc_fail_reset();
		CU_ASSERT_TRUE(rc == 0 || rc == -ENOMEM);
		CU_ASSERT_TRUE((rc == 0) == (cfg != NULL));
		succeeded = rc == 0;
		dc_config_destroy(cfg);
	}
	CU_ASSERT_TRUE(succeeded);
	unlink(keyfile);
	rmdir(dir);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_good_file),    NTM_TEST(test_defaults_and_group_name), NTM_TEST(test_errors),
	NTM_TEST(test_cross_checks), NTM_TEST(test_alloc_failures),
};

NTM_TEST_MAIN("dc_config", cases)
