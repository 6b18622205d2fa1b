/* SPDX-License-Identifier: MIT */
/*
 * ntmctl: the admin CLI. `genkey` and `pubkey` work locally, byte for byte
 * like `wg genkey` / `wg pubkey`; every other command is one request on a
 * daemon's control socket (protocol: common/ctl.h). The request names and
 * arguments below are the contract with the daemons:
 *
 *   node: status {}, peers {}, resolve {"fqdn"}, ping {"fqdn","until_direct"},
 *         whois {"vip"}, dns {} (also behind dns-setup)
 *   DC:   enroll {"fqdn","pubkey"[,"publish"]} or {"relay","pubkey"}, revoke {"fqdn"},
 *         publish {"fqdn","on"}, nodes {}, relays {}, token.create {"fqdn"[,"ttl"]}, status {},
 *         ds {}
 *   any:  help {} (built into every server)
 */
#include "config.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/ctlclient.h"
#include "common/key.h"
#include "ntmctl/dnssetup.h"
#include "ntmctl/render.h"

enum {
	EXIT_ERR = 1,
	EXIT_UNKNOWN = 2,
	EXIT_TIMEOUT = 3,
	DEFAULT_TIMEOUT_MS = 10000,
	WAIT_TIMEOUT_MS = 30000, /* resolve and ping wait for a tunnel */
	FQDN_MAX = 253,
	TTL_MAX = 366 * 24 * 3600,
};

enum family {
	FAM_LOCAL,
	FAM_NODE,
	FAM_DC,
	FAM_AGENT,
	FAM_ANY,
};

struct opts {
	const char *socket; /* NULL: the command family's default */
	bool json;
	int timeout_ms; /* -1: the command's default */
};

/* One remote call, built from the command line. */
struct call {
	const char *cmd;
	json_object *args;
	int timeout_ms;
	void (*render)(FILE *out, json_object *data);
	/* Instead of render (also with --json): works with the answer, returns the exit status. */
	int (*finish)(json_object *data, const struct call *call);
	bool apply;	  /* dns-setup --apply */
	const char *file; /* dns-setup --file */
	bool json;	  /* --json */
};

struct command {
	const char *name;
	enum family family;
	int (*local)(int argc, char **argv);
	int (*build)(int argc, char **argv, struct call *call); /* 0 or a usage error */
	const char *usage;
};

static const char *const family_socket[] = {
	[FAM_NODE] = "/run/ntm/node-ntm0.sock",
	[FAM_DC] = "/run/ntm/dc.sock",
	[FAM_AGENT] = "/run/ntm/agent.sock",
	[FAM_ANY] = "/run/ntm/node-ntm0.sock",
};

static const char *const family_title[] = {
	[FAM_LOCAL] = "Keys (local, like wg genkey / wg pubkey)",
	[FAM_NODE] = "Node commands (ntm-node)",
	[FAM_DC] = "DC commands (ntm-dc)",
	[FAM_AGENT] = "M2M agent commands (ntm-agent)",
	[FAM_ANY] = "Any daemon",
};

static const char *const family_daemon[] = {
	[FAM_NODE] = "ntm-node",
	[FAM_DC] = "ntm-dc",
	[FAM_AGENT] = "ntm-agent",
	[FAM_ANY] = "the daemon",
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints the message and the pointer to --help; returns exit status 1. */
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ntmctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'ntmctl --help' for more information.\n", stderr);
	return EXIT_ERR;
}

/* ------------------------------------------------------------ local commands */

static int finish_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("ntmctl: stdout");
		return EXIT_ERR;
	}
	return 0;
}

static int cmd_genkey(int argc, char **argv)
{
	char text[NTM_KEY_B64_SIZE];
	struct ntm_key key;
	struct stat st;

	if (argc != 1) {
		return usage_error("usage: %s", "ntmctl genkey");
	}
	/* wg's warning, for the same case: a regular file others may access. */
	if (fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & S_IRWXO)) {
		fputs("Warning: writing to world accessible file.\n"
		      "Consider setting the umask to 077 and trying again.\n",
		      stderr);
	}
	if (ntm_key_generate(&key) < 0) {
		fputs("ntmctl: cannot initialise libsodium\n", stderr);
		return EXIT_ERR;
	}
	ntm_key_to_base64(text, &key);
	ntm_key_wipe(&key);
	puts(text);
	sodium_memzero(text, sizeof(text));
	return finish_stdout();
}

/*
 * Like `wg pubkey`: exactly 44 characters of key, then only whitespace or
 * NUL bytes up to end of input. The trailing part is streamed in chunks.
 */
static int read_private_key(struct ntm_key *key)
{
	char buf[NTM_KEY_B64_LEN + 256];
	size_t n;
	int rc;

	n = fread(buf, 1, NTM_KEY_B64_LEN, stdin);
	rc = n == NTM_KEY_B64_LEN ? 0 : -EINVAL;
	while (rc == 0) {
		n = fread(buf + NTM_KEY_B64_LEN, 1, sizeof(buf) - NTM_KEY_B64_LEN, stdin);
		rc = ntm_key_from_text(key, buf, NTM_KEY_B64_LEN + n);
		if (n == 0) {
			break;
		}
	}
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

static int cmd_pubkey(int argc, char **argv)
{
	char text[NTM_KEY_B64_SIZE];
	struct ntm_key key;
	int rc;

	if (argc != 1) {
		return usage_error("usage: %s", "ntmctl pubkey < PRIVATE_KEY");
	}
	rc = read_private_key(&key);
	if (rc == -EBADMSG) {
		fputs("ntmctl: Trailing characters found after key\n", stderr);
		return EXIT_ERR;
	}
	if (rc == 0) {
		rc = ntm_key_public(&key, &key);
	}
	if (rc < 0) {
		ntm_key_wipe(&key);
		fputs("ntmctl: Key is not the correct length or format\n", stderr);
		return EXIT_ERR;
	}
	ntm_key_to_base64(text, &key);
	ntm_key_wipe(&key);
	puts(text);
	return finish_stdout();
}

/* ------------------------------------------------------- argument builders */

static int add_str(json_object *args, const char *key, const char *val)
{
	json_object *s = json_object_new_string(val);

	if (s == NULL || json_object_object_add(args, key, s) != 0) {
		json_object_put(s);
		return usage_error("%s", "out of memory");
	}
	return 0;
}

static int check_fqdn(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > FQDN_MAX || s[0] == '-') {
		return usage_error("'%s' is not a domain name", s);
	}
	return 0;
}

static int check_pubkey(const char *s)
{
	struct ntm_key key;

	if (ntm_key_from_base64(&key, s, strlen(s)) < 0) {
		return usage_error("'%s' is not a public key (44 base64 characters)", s);
	}
	return 0;
}

static int build_none(int argc, char **argv, struct call *call)
{
	if (argc != 1) {
		return usage_error("'%s' takes no arguments", argv[0]);
	}
	return 0;
}

/* COMMAND FQDN: the name goes to args[key] after a check. */
static int build_fqdn(int argc, char **argv, struct call *call)
{
	if (argc != 2) {
		return usage_error("usage: ntmctl %s FQDN", argv[0]);
	}
	return check_fqdn(argv[1]) ? EXIT_ERR : add_str(call->args, "fqdn", argv[1]);
}

static int build_resolve(int argc, char **argv, struct call *call)
{
	call->timeout_ms = WAIT_TIMEOUT_MS;
	call->render = ntmctl_render_resolve;
	return build_fqdn(argc, argv, call);
}

static int build_ping(int argc, char **argv, struct call *call)
{
	const char *fqdn = NULL;
	bool until_direct = false;

	call->timeout_ms = WAIT_TIMEOUT_MS;
	call->render = ntmctl_render_resolve; /* the same line: FQDN VIP4 VIP6 PATH MS */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--until-direct") == 0) {
			until_direct = true;
		} else if (fqdn == NULL && argv[i][0] != '-') {
			fqdn = argv[i];
		} else {
			return usage_error("usage: %s", "ntmctl ping FQDN [--until-direct]");
		}
	}
	if (fqdn == NULL) {
		return usage_error("usage: %s", "ntmctl ping FQDN [--until-direct]");
	}
	if (check_fqdn(fqdn) != 0 || add_str(call->args, "fqdn", fqdn) != 0) {
		return EXIT_ERR;
	}
	json_object_object_add(call->args, "until_direct", json_object_new_boolean(until_direct));
	return 0;
}

static int build_whois(int argc, char **argv, struct call *call)
{
	unsigned char addr[16];

	if (argc != 2) {
		return usage_error("usage: %s", "ntmctl whois VIP");
	}
	if (inet_pton(AF_INET, argv[1], addr) != 1 && inet_pton(AF_INET6, argv[1], addr) != 1) {
		return usage_error("'%s' is not an IPv4 or IPv6 address", argv[1]);
	}
	return add_str(call->args, "vip", argv[1]);
}

static int build_enroll(int argc, char **argv, struct call *call)
{
	static const char use[] =
		"usage: ntmctl enroll FQDN PUBKEY [--publish] | enroll --relay NAME PUBKEY";
	bool relay = argc == 4 && strcmp(argv[1], "--relay") == 0;
	bool publish = !relay && argc == 4 && strcmp(argv[3], "--publish") == 0;
	const char *name = relay ? argv[2] : argv[1];

	if (publish) {
		argc--; /* the key is argv[2] */
		json_object_object_add(call->args, "publish", json_object_new_boolean(true));
	}
	if (argc != (relay ? 4 : 3)) {
		return usage_error("%s", use);
	}
	if (check_fqdn(name) != 0 || check_pubkey(argv[argc - 1]) != 0) {
		return EXIT_ERR;
	}
	if (add_str(call->args, relay ? "relay" : "fqdn", name) != 0) {
		return EXIT_ERR;
	}
	return add_str(call->args, "pubkey", argv[argc - 1]);
}

static int build_publish(int argc, char **argv, struct call *call)
{
	bool on = argc == 3 && strcmp(argv[2], "on") == 0;

	if (argc != 3 || (!on && strcmp(argv[2], "off") != 0)) {
		return usage_error("usage: %s", "ntmctl publish FQDN on|off");
	}
	if (check_fqdn(argv[1]) != 0 || add_str(call->args, "fqdn", argv[1]) != 0) {
		return EXIT_ERR;
	}
	json_object_object_add(call->args, "on", json_object_new_boolean(on));
	return 0;
}

/* The DS line alone (--json: the whole answer), ready for the parent zone. */
static int finish_ds(json_object *data, const struct call *call)
{
	json_object *ds = NULL;

	if (call->json) {
		ntmctl_render_json(stdout, data);
	} else if (json_object_object_get_ex(data, "ds", &ds)) {
		ntmctl_render_text(stdout, json_object_get_string(ds));
		fputc('\n', stdout);
	}
	return finish_stdout();
}

static int build_ds(int argc, char **argv, struct call *call)
{
	call->finish = finish_ds;
	return build_none(argc, argv, call);
}

static int finish_dns_setup(json_object *data, const struct call *call)
{
	return ntmctl_dns_setup(data, call->apply, call->file);
}

static int build_dns_setup(int argc, char **argv, struct call *call)
{
	static const char use[] = "usage: ntmctl dns-setup [--apply] [--file PATH]";

	call->cmd = "dns";
	call->finish = finish_dns_setup;
	call->file = "/etc/resolv.conf";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--apply") == 0) {
			call->apply = true;
		} else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc) {
			call->file = argv[++i];
		} else {
			return usage_error("%s", use);
		}
	}
	return 0;
}

static int parse_ttl(const char *s, long *ttl)
{
	char *end;

	errno = 0;
	*ttl = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *ttl <= 0 || *ttl > TTL_MAX) {
		return usage_error("--ttl '%s': want seconds, 1 to one year", s);
	}
	return 0;
}

static int build_token(int argc, char **argv, struct call *call)
{
	static const char use[] = "usage: ntmctl token create FQDN [--ttl SECONDS]";
	long ttl = 0;

	call->cmd = "token.create";
	if (argc < 3 || strcmp(argv[1], "create") != 0) {
		return usage_error("%s", use);
	}
	if (argc == 5 && strcmp(argv[3], "--ttl") == 0) {
		if (parse_ttl(argv[4], &ttl) != 0) {
			return EXIT_ERR;
		}
	} else if (argc != 3) {
		return usage_error("%s", use);
	}
	if (check_fqdn(argv[2]) != 0 || add_str(call->args, "fqdn", argv[2]) != 0) {
		return EXIT_ERR;
	}
	if (ttl > 0) {
		json_object_object_add(call->args, "ttl", json_object_new_int64(ttl));
	}
	return 0;
}

static const struct command commands[] = {
	{ "genkey", FAM_LOCAL, cmd_genkey, NULL, "genkey" },
	{ "pubkey", FAM_LOCAL, cmd_pubkey, NULL, "pubkey < PRIVATE_KEY" },
	{ "status", FAM_NODE, NULL, build_none, "status   (a DC's too: -s DC_SOCKET status)" },
	{ "peers", FAM_NODE, NULL, build_none, "peers" },
	{ "resolve", FAM_NODE, NULL, build_resolve, "resolve FQDN" },
	{ "ping", FAM_NODE, NULL, build_ping, "ping FQDN [--until-direct]" },
	{ "whois", FAM_NODE, NULL, build_whois, "whois VIP" },
	{ "dns", FAM_NODE, NULL, build_none,
	  "dns      (the DNS stub: addresses, domains, upstream)" },
	{ "dns-setup", FAM_NODE, NULL, build_dns_setup,
	  "dns-setup [--apply] [--file PATH]  (resolv.conf for the DNS stub)" },
	{ "enroll", FAM_DC, NULL, build_enroll,
	  "enroll FQDN PUBKEY [--publish] | enroll --relay NAME PUBKEY" },
	{ "revoke", FAM_DC, NULL, build_fqdn, "revoke FQDN" },
	{ "publish", FAM_DC, NULL, build_publish, "publish FQDN on|off" },
	{ "nodes", FAM_DC, NULL, build_none, "nodes" },
	{ "relays", FAM_DC, NULL, build_none, "relays" },
	{ "ds", FAM_DC, NULL, build_ds, "ds       (the DS record of the DC's DNSSEC zone key)" },
	{ "token", FAM_DC, NULL, build_token, "token create FQDN [--ttl SECONDS]" },
	{ "recipes", FAM_AGENT, NULL, build_none, "recipes" },
	{ "outbox", FAM_AGENT, NULL, build_none, "outbox" },
	{ "help", FAM_ANY, NULL, build_none, "help" },
};

/* ---------------------------------------------------------- remote commands */

static int report_call_error(const char *path, enum family fam, int rc, int timeout_ms)
{
	if (rc == -ETIMEDOUT) {
		fprintf(stderr, "ntmctl: %s: no answer within %d ms\n", path, timeout_ms);
		return EXIT_TIMEOUT;
	}
	if (rc == -ENOENT || rc == -ECONNREFUSED) {
		fprintf(stderr, "ntmctl: %s: %s (is %s running?)\n", path, ntm_strerror(rc),
			family_daemon[fam]);
	} else if (rc == -EACCES) {
		fprintf(stderr, "ntmctl: %s: %s (run as root or as the daemon's user)\n", path,
			ntm_strerror(rc));
	} else {
		fprintf(stderr, "ntmctl: %s: %s\n", path, ntm_strerror(rc));
	}
	return EXIT_ERR;
}

static int show_response(json_object *resp, const struct call *call, bool json)
{
	struct ntm_ctl_response r;

	if (ntm_ctl_response_decode(resp, &r) < 0) {
		fputs("ntmctl: malformed response\n", stderr);
		return EXIT_ERR;
	}
	if (!r.ok) {
		/* Daemons quote names back in errors: no control bytes reach the tty. */
		fputs("ntmctl: ", stderr);
		ntmctl_render_text(stderr, r.error);
		fputc('\n', stderr);
		return r.code == NTM_CTL_E_UNKNOWN   ? EXIT_UNKNOWN
		       : r.code == NTM_CTL_E_TIMEOUT ? EXIT_TIMEOUT
						     : EXIT_ERR;
	}
	if (call->finish != NULL) {
		return call->finish(r.data, call);
	}
	if (json) {
		ntmctl_render_json(stdout, r.data);
	} else {
		call->render(stdout, r.data);
	}
	return finish_stdout();
}

static int run_remote(const struct command *c, const struct opts *o, int argc, char **argv)
{
	struct call call = { .cmd = c->name,
			     .timeout_ms = DEFAULT_TIMEOUT_MS,
			     .render = ntmctl_render,
			     .json = o->json };
	const char *path = o->socket ? o->socket : family_socket[c->family];
	json_object *resp = NULL;
	int rc;

	call.args = json_object_new_object();
	if (call.args == NULL) {
		return usage_error("%s", "out of memory");
	}
	rc = c->build(argc, argv, &call);
	if (rc != 0) {
		json_object_put(call.args);
		return rc;
	}
	if (o->timeout_ms >= 0) {
		call.timeout_ms = o->timeout_ms;
	}
	rc = ntm_ctl_call(path, call.cmd, call.args, call.timeout_ms, &resp);
	json_object_put(call.args);
	if (rc < 0) {
		return report_call_error(path, c->family, rc, call.timeout_ms);
	}
	rc = show_response(resp, &call, o->json);
	json_object_put(resp);
	return rc;
}

/* ------------------------------------------------------------------- main */

static void print_help(FILE *out)
{
	fputs("Usage: ntmctl [-s SOCKET] [--json] [--timeout MS] COMMAND [ARGS]\n"
	      "\n"
	      "Options (before the command):\n"
	      "  -s, --socket SOCKET  control socket (default: /run/ntm/node-ntm0.sock for\n"
	      "                       node commands, /run/ntm/dc.sock for DC commands,\n"
	      "                       /run/ntm/agent.sock for agent commands)\n"
	      "  -j, --json           print the daemon's answer as JSON\n"
	      "  -t, --timeout MS     give up after MS milliseconds (exit status 3)\n"
	      "  -h, --help           show this help\n"
	      "  -V, --version        show the version\n",
	      out);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (i == 0 || commands[i].family != commands[i - 1].family) {
			fprintf(out, "\n%s:\n", family_title[commands[i].family]);
		}
		fprintf(out, "  %s\n", commands[i].usage);
	}
	fputs("\nExit status: 0 ok, 1 error, 2 unknown name, 3 timeout.\n", out);
}

static int parse_timeout(const char *s, int *ms)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > INT_MAX) {
		return usage_error("--timeout '%s': want milliseconds", s);
	}
	*ms = (int)v;
	return 0;
}

/* Returns -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },  { "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },	     { NULL, 0, NULL, 0 },
	};
	int c;

	/* "+": stop at the command, so that its own options stay its own. */
	while ((c = getopt_long(argc, argv, "+s:jt:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->socket = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 't':
			if (parse_timeout(optarg, &o->timeout_ms) != 0) {
				return EXIT_ERR;
			}
			break;
		case 'h':
			print_help(stdout);
			return finish_stdout();
		case 'V':
			printf("ntmctl %s\n", PACKAGE_VERSION);
			return finish_stdout();
		default:
			fputs("Try 'ntmctl --help' for more information.\n", stderr);
			return EXIT_ERR;
		}
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o = { .socket = NULL, .json = false, .timeout_ms = -1 };
	int rc;

	rc = parse_options(argc, argv, &o);
	if (rc >= 0) {
		return rc;
	}
	if (optind >= argc) {
		return usage_error("%s", "no command given");
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		const struct command *c = &commands[i];

		if (strcmp(argv[optind], c->name) != 0) {
			continue;
		}
		if (c->local != NULL) {
			return c->local(argc - optind, argv + optind);
		}
		return run_remote(c, &o, argc - optind, argv + optind);
	}
	return usage_error("unknown command '%s'", argv[optind]);
}
