/* SPDX-License-Identifier: MIT */
/* ntm-rs.conf (rs/config.c): a good file, the defaults, and errors with file:line: reason. */
#include "rs/config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crypto.h"
#include "ntm_test.h"

#define KEY	"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define PUB	"HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
#define DC_PART "[DC]\nEndpoint = 192.0.2.1:7000, [2001:db8::1]:7000\nPublicKey = " PUB "\n"

static int parse(const char *text, struct rs_config **cfg, struct ntm_conf_err *err)
{
	struct ntm_conf *conf;
	int rc = ntm_conf_parse("rs.conf", text, strlen(text), &conf, err);

	*cfg = NULL;
	if (rc < 0) {
		return rc;
	}
	rc = rs_config_from_conf(conf, cfg, err);
	ntm_conf_destroy(conf);
	return rc;
}

static void test_good_file(void)
{
	char dir[] = "/tmp/test_rs_config.XXXXXX", path[128];
	const char text[] = "[RS]\nPrivateKey = " KEY "\nListen = 192.0.2.9:7100\n"
			    "Listen = [2001:db8::9]:7100\nSessions = 100\nIdleTimeout = 5\n"
			    "SessionRate = 0\n" DC_PART;
	struct ntm_conf_err err;
	struct rs_config *cfg;
	char a[NTM_ADDR_STRLEN];
	int fd;

	CU_ASSERT_EQUAL_FATAL(ntm_crypto_init(), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rs.conf", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	CU_ASSERT_EQUAL_FATAL(rs_config_load(path, &cfg, &err), 0);
	CU_ASSERT_EQUAL(cfg->n_listen, 2);
	CU_ASSERT_EQUAL(cfg->n_address, 2); /* Address defaults to the Listen addresses */
	CU_ASSERT_EQUAL(ntm_addr_format(&cfg->address[1], a, sizeof(a)), 0);
	CU_ASSERT_STRING_EQUAL(a, "[2001:db8::9]:7100");
	CU_ASSERT_EQUAL(cfg->sessions, 100);
	CU_ASSERT_EQUAL(cfg->idle_s, 5);
	CU_ASSERT_EQUAL(cfg->rate_kbit, 0);
	CU_ASSERT_EQUAL(cfg->n_dc_endpoints, 2);
	rs_config_destroy(cfg);
	/* the same file readable by others: the inline key is refused */
	CU_ASSERT_EQUAL(chmod(path, 0644), 0);
	CU_ASSERT_EQUAL(rs_config_load(path, &cfg, &err), -EPERM);
	CU_ASSERT_PTR_NULL(cfg);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "rs.conf:2: invalid PrivateKey in [RS]"));
	unlink(path);
	rmdir(dir);
}

static void test_defaults(void)
{
	struct ntm_conf_err err;
	struct rs_config *cfg;
	char kf[] = "/tmp/test_rs_config.key.XXXXXX", text[512];
	int fd = mkstemp(kf);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, KEY "\n", sizeof(KEY)), (ssize_t)sizeof(KEY));
	close(fd);
	snprintf(text, sizeof(text),
		 "[RS]\nPrivateKeyFile = %s\nListen = 0.0.0.0:7100\nAddress = "
		 "192.0.2.9:7100\n" DC_PART,
		 kf);
	CU_ASSERT_EQUAL_FATAL(parse(text, &cfg, &err), 0);
	CU_ASSERT_EQUAL(cfg->sessions, RS_CONFIG_SESSIONS_DEFAULT);
	CU_ASSERT_EQUAL(cfg->idle_s, RS_CONFIG_IDLE_DEFAULT);
	CU_ASSERT_EQUAL(cfg->rate_kbit, RS_CONFIG_RATE_DEFAULT);
	CU_ASSERT_EQUAL(cfg->n_address, 1);
	CU_ASSERT_FALSE(cfg->has_group);
	rs_config_destroy(cfg);
	snprintf(
		text, sizeof(text),
		"[RS]\nPrivateKeyFile = %s\nListen = 192.0.2.9:7100\nControlGroup = 4242\n" DC_PART,
		kf);
	CU_ASSERT_EQUAL_FATAL(parse(text, &cfg, &err), 0);
	CU_ASSERT_TRUE(cfg->has_group);
	CU_ASSERT_EQUAL(cfg->group, 4242);
	rs_config_destroy(cfg);
	unlink(kf);
}

static void expect_error(const char *text, const char *msg)
{
	struct ntm_conf_err err;
	struct rs_config *cfg;

	CU_ASSERT(parse(text, &cfg, &err) < 0);
	CU_ASSERT_PTR_NULL(cfg);
	if (strcmp(err.msg, msg) != 0) {
		fprintf(stderr, "\nwant: %s\ngot:  %s\n", msg, err.msg);
		CU_FAIL("error text");
	}
}

static void test_errors(void)
{
	expect_error("[RS]\nListen = 192.0.2.9:7100\n" DC_PART,
		     "rs.conf:1: [RS]: PrivateKey or PrivateKeyFile is required");
	expect_error("[RS]\nPrivateKey = " KEY "\nListen = 192.0.2.9:7100\n" DC_PART,
		     "rs.conf:2: invalid PrivateKey in [RS]: the file may be read by group or "
		     "others (chmod 600 it, or use PrivateKeyFile)");
	expect_error("[RS]\nPrivateKeyFile = /nonexistent/key\nListen = 0.0.0.0:7100\n" DC_PART,
		     "rs.conf:2: invalid PrivateKeyFile in [RS]: /nonexistent/key: No such file "
		     "or directory");
	expect_error("[RS]\nListen = 192.0.2.9:7100, 192.0.2.9:7100\n",
		     "rs.conf:2: invalid Listen in [RS]: an address is listed twice");
	expect_error("[RS]\nSessions = 0\n", "rs.conf:2: invalid Sessions in [RS]: out of range "
					     "1..1048576");
	expect_error("[RS]\nIdleTimeout = 3601\n",
		     "rs.conf:2: invalid IdleTimeout in [RS]: out of range 1..3600");
	expect_error("[RS]\nFoo = 1\n", "rs.conf:2: unknown key 'Foo' in [RS]");
	expect_error("[RS]\nControlGroup = no-such-group-ntm\n",
		     "rs.conf:2: invalid ControlGroup in [RS]: no such group");
	expect_error("[DC]\nPublicKey = xyz\n",
		     "rs.conf:2: invalid PublicKey in [DC]: not a base64 key of 32 bytes (44 "
		     "characters)");
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_good_file),
	NTM_TEST(test_defaults),
	NTM_TEST(test_errors),
};

NTM_TEST_MAIN("rs_config", cases)
