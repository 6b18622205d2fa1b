/* SPDX-License-Identifier: MIT */
/*
 * ctrl_client: a test client of the control channel (common/ctrl.h) until
 * ntm-node speaks it. Blocking sockets and poll(): it is a test tool, not a
 * daemon.
 *
 *   ctrl_client --key FILE --dc-key PUB --dc ADDR:PORT [--alt ADDR:PORT]
 *               [--port N] [--keepalives N] [--save-init FILE]
 *               register FQDN [--token T]
 *       prints vip4, vip6, outside, keepalive (and ack_outside,
 *       alt_outside) as "name value" lines; exit 0, 1 on an ERROR answer
 *       (printed to stderr), 3 on timeout.
 *   ctrl_client --dc ADDR:PORT send FILE      send a saved datagram; exit 0
 *       when no answer came within 2 s, 1 when one did (replay test)
 *   ctrl_client --dc ADDR:PORT garbage N      send N malformed datagrams
 *   ctrl_client ... relay FQDN [--to PEER] [--frames N]   (ctrl_relay.c)
 *   ctrl_client --dc RS:PORT relay-attack SESSION             (ctrl_relay.c)
 *   ctrl_client --dc RS:PORT relay-flood SESSION SECONDS PPS  (ctrl_relay.c)
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cookie.h"
#include "common/crypto.h"
#include "common/ctrl.h"
#include "common/ctrlmsg.h"
#include "common/key.h"
#include "tests/cli/ctrl_client.h"

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void die(const char *what)
{
	fprintf(stderr, "ctrl_client: %s\n", what);
	exit(1);
}

void send_to(struct client *c, const struct ntm_addr *to, const uint8_t *p, size_t len)
{
	if (sendto(c->fd, p, len, 0, &to->sa, to->len) < 0) {
		perror("ctrl_client: sendto");
	}
}

/* One datagram within `ms`, or 0 bytes on timeout. */
size_t recv_within(struct client *c, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, ms) <= 0) {
		return 0;
	}
	n = recv(c->fd, buf, cap, 0);
	return n > 0 ? (size_t)n : 0;
}

static void save(const char *path, const uint8_t *p, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(p, 1, len, f) != len || fclose(f) != 0) {
		die("cannot save the initiation");
	}
}

/* Handshake with retries; a cookie reply makes the next initiation carry mac2. */
int handshake(struct client *c)
{
	uint8_t out[BUF], in[BUF];
	struct ntm_wbuf w;
	enum ntm_msg_type type;

	for (int i = 0; i < TRIES; i++) {
		ntm_wbuf_init(&w, out, sizeof(out));
		if (ntm_ctrl_session_initiate(c->s, randombytes_random() | 1, NULL, now_ms(), &w) <
		    0) {
			die("cannot build an initiation");
		}
		if (c->save_init != NULL) {
			save(c->save_init, out, w.len);
		}
		send_to(c, &c->dc, out, w.len);
		for (size_t n; (n = recv_within(c, in, sizeof(in), 1000 << i)) > 0;) {
			struct ntm_cookie_pkt pkt = {
				.msg = in, .len = n, .addr = in, .addr_len = 4
			};

			if (ntm_wire_classify(in, n, &type) < 0) {
				continue;
			}
			if (type == NTM_MSG_CTRL_COOKIE_REPLY &&
			    ntm_ctrl_session_consume_cookie(c->s, in, n, now_ms()) == 0) {
				break; /* retry at once, now with mac2 */
			}
			if (type == NTM_MSG_CTRL_RESPONSE &&
			    ntm_cookie_validate(c->checker, &pkt, now_ms(), false) !=
				    NTM_COOKIE_BAD &&
			    ntm_ctrl_session_consume_response(c->s, in, n, now_ms()) == 0) {
				return 0;
			}
		}
	}
	return -ETIMEDOUT;
}

/* Sends `req` to `to` until an answer with its request id arrives. */
int request(struct client *c, const struct ntm_addr *to, const struct ntm_ctrl_msg *req,
	    struct ntm_ctrl_msg *ans)
{
	uint8_t plain[NTM_CTRL_PLAIN_MAX], out[BUF], in[BUF];
	struct ntm_wbuf pw, w;
	struct ntm_wg_data d;
	size_t plen;

	ntm_wbuf_init(&pw, plain, sizeof(plain));
	if (ntm_ctrl_msg_encode(&pw, req) < 0) {
		die("cannot encode the request");
	}
	for (int i = 0; i < TRIES; i++) {
		ntm_wbuf_init(&w, out, sizeof(out));
		if (ntm_ctrl_session_seal(c->s, plain, pw.len, now_ms(), &w) < 0) {
			die("cannot seal the request");
		}
		send_to(c, to, out, w.len);
		for (size_t n; (n = recv_within(c, in, sizeof(in), 1000 << i)) > 0;) {
			if (ntm_wire_decode_ctrl_data(in, n, &d) == 0 &&
			    ntm_ctrl_session_open(c->s, &d, now_ms(), plain, sizeof(plain),
						  &plen) == 0 &&
			    ntm_ctrl_msg_decode(plain, plen, ans) == 0 &&
			    ans->req_id == req->req_id) {
				return 0;
			}
		}
	}
	return -ETIMEDOUT;
}

void print_addr(const char *name, const struct ntm_ctrl_addr *a)
{
	struct ntm_addr sa;
	char text[NTM_ADDR_STRLEN];

	if (ntm_ctrl_addr_to(&sa, a) == 0 && ntm_addr_format(&sa, text, sizeof(text)) == 0) {
		printf("%s %s\n", name, text);
	}
}

int check_answer(const struct ntm_ctrl_msg *a, uint8_t want)
{
	if (a->kind == NTM_CTRL_ERROR) {
		fprintf(stderr, "ctrl_client: error %s: %s\n", ntm_ctrl_error_name(a->error_code),
			a->error_text);
		return 1;
	}
	return a->kind == want ? 0 : 1;
}

/* The local address the kernel would use towards the DC, with our port. */
static void add_candidate(struct client *c, struct ntm_ctrl_msg *m)
{
	struct ntm_addr local = { .len = sizeof(local.ss) }, bound = { .len = sizeof(bound.ss) };
	int probe = socket(c->dc.sa.sa_family, SOCK_DGRAM, 0);

	if (probe < 0 || connect(probe, &c->dc.sa, c->dc.len) < 0 ||
	    getsockname(probe, &local.sa, &local.len) < 0 ||
	    getsockname(c->fd, &bound.sa, &bound.len) < 0) {
		die("cannot find the local address");
	}
	close(probe);
	if (local.sa.sa_family == AF_INET) {
		local.sin.sin_port = bound.sin.sin_port;
	} else {
		local.sin6.sin6_port = bound.sin6.sin6_port;
	}
	if (ntm_ctrl_addr_from(&m->cand[0], &local) == 0) {
		m->n_cand = 1;
		m->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_CANDIDATE);
	}
}

int do_register(struct client *c, const char *fqdn, const char *token, int keepalives)
{
	struct ntm_ctrl_msg req, a;
	int rc;

	if (handshake(c) < 0) {
		fprintf(stderr, "ctrl_client: no handshake response\n");
		return EXIT_TIMEOUT;
	}
	ntm_ctrl_msg_init(&req, NTM_CTRL_REGISTER, c->next_req++);
	req.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN);
	snprintf(req.fqdn, sizeof(req.fqdn), "%s", fqdn);
	if (token != NULL) {
		req.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_TOKEN);
		snprintf(req.token, sizeof(req.token), "%s", token);
	}
	add_candidate(c, &req);
	if (request(c, &c->dc, &req, &a) < 0) {
		return EXIT_TIMEOUT;
	}
	rc = check_answer(&a, NTM_CTRL_REGISTER_OK);
	if (rc != 0) {
		return rc;
	}
	char v4[INET_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];

	printf("vip4 %s\n", inet_ntop(AF_INET, a.vip4, v4, sizeof(v4)));
	printf("vip6 %s\n", inet_ntop(AF_INET6, a.vip6, v6, sizeof(v6)));
	print_addr("outside", &a.outside);
	printf("keepalive %u\n", a.keepalive);
	for (int i = 0; rc == 0 && i <= keepalives; i++) {
		const struct ntm_addr *to = i == keepalives ? &c->alt : &c->dc;

		if (to->len == 0) {
			break;
		}
		ntm_ctrl_msg_init(&req, NTM_CTRL_KEEPALIVE, c->next_req++);
		rc = request(c, to, &req, &a) < 0 ? EXIT_TIMEOUT
						  : check_answer(&a, NTM_CTRL_KEEPALIVE_ACK);
		if (rc == 0) {
			print_addr(i == keepalives ? "alt_outside" : "ack_outside", &a.outside);
		}
	}
	return rc;
}

static int do_send(struct client *c, const char *path)
{
	uint8_t buf[BUF];
	FILE *f = fopen(path, "rb");
	size_t n = f != NULL ? fread(buf, 1, sizeof(buf), f) : 0;

	if (f != NULL) {
		fclose(f);
	}
	if (n == 0) {
		die("cannot read the datagram");
	}
	send_to(c, &c->dc, buf, n);
	return recv_within(c, buf, sizeof(buf), 2000) > 0 ? 1 : 0;
}

/* Malformed on purpose: wrong lengths, unknown types, bad macs, bogus data indices. */
static int do_garbage(struct client *c, int count)
{
	static const uint8_t types[] = { 0x80, 0x81, 0x82, 0x83, 0x84, 0xbf, 1, 4, 0 };
	uint8_t buf[BUF];

	for (int i = 0; i < count; i++) {
		size_t len = randombytes_uniform(300);

		randombytes_buf(buf, len);
		if (len > 4) {
			buf[0] = types[i % sizeof(types)];
			memset(buf + 1, 0, 3);
		}
		if (i % 3 == 0) {
			len = buf[0] == 0x80 ? 148 : 48; /* right length, wrong content */
		}
		send_to(c, &c->dc, buf, len);
	}
	return 0;
}

void parse_addr(const char *text, struct ntm_addr *out)
{
	char why[128];

	if (ntm_addr_parse(text, 0, out, why, sizeof(why)) < 0) {
		die(why);
	}
}

static void setup(struct client *c, const struct opts *o)
{
	struct ntm_key priv, pub, dc_pub;
	struct ntm_addr any = { 0 };
	char why[256];

	parse_addr(o->dc, &c->dc);
	if (o->alt != NULL) {
		parse_addr(o->alt, &c->alt);
	}
	c->fd = socket(c->dc.sa.sa_family, SOCK_DGRAM, 0);
	any.ss.ss_family = c->dc.sa.sa_family;
	any.sin.sin_port = htons((uint16_t)o->port); /* same offset in sin6 */
	any.len = c->dc.len;
	if (c->fd < 0 || bind(c->fd, &any.sa, any.len) < 0) {
		die("cannot bind the UDP socket");
	}
	c->next_req = randombytes_random() | 1;
	if (o->key == NULL) {
		return;
	}
	if (o->dc_key == NULL || ntm_key_from_base64(&dc_pub, o->dc_key, strlen(o->dc_key)) < 0) {
		die("--dc-key: not a base64 public key");
	}
	if (ntm_key_load_file(o->key, &priv, why, sizeof(why)) < 0) {
		die(why);
	}
	if (ntm_noise_identity_create_profile(priv.b, NTM_NOISE_CONTROL, &c->id) < 0 ||
	    ntm_key_public(&pub, &priv) < 0 || ntm_cookie_checker_create(pub.b, &c->checker) < 0 ||
	    ntm_ctrl_session_create(c->id, dc_pub.b, c, &c->s) < 0) {
		die("cannot set up the session");
	}
	ntm_key_wipe(&priv);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ctrl_client --key FILE --dc-key PUB --dc ADDR:PORT [--alt ADDR:PORT]"
		" [--port N] [--keepalives N] [--save-init FILE]\n"
		"                   register FQDN [--token T]\n"
		"                   relay FQDN [--to PEER] [--frames N] [--flood SECONDS [--size B]"
		" [--via ADDR:PORT]]\n"
		"       ctrl_client --dc ADDR:PORT send FILE | garbage N | relay-attack SESSION\n"
		"       ctrl_client --dc ADDR:PORT relay-flood SESSION SECONDS PPS\n");
	exit(1);
}

/* GNU getopt permutes: options may come after the command words too. */
static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "dc-key", required_argument, NULL, 'K' },
		{ "dc", required_argument, NULL, 'd' },
		{ "alt", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "keepalives", required_argument, NULL, 'n' },
		{ "save-init", required_argument, NULL, 's' },
		{ "token", required_argument, NULL, 't' },
		{ "to", required_argument, NULL, 'T' },
		{ "frames", required_argument, NULL, 'f' },
		{ "flood", required_argument, NULL, 'F' },
		{ "via", required_argument, NULL, 'v' },
		{ "size", required_argument, NULL, 'z' },
		{ NULL, 0, NULL, 0 },
	};
	const char **str[] = {
		['k'] = &o->key,       ['K'] = &o->dc_key, ['d'] = &o->dc, ['a'] = &o->alt,
		['s'] = &o->save_init, ['t'] = &o->token,  ['T'] = &o->to, ['v'] = &o->via
	};
	int ch;

	memset(o, 0, sizeof(*o));
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'z') {
			o->size = atoi(optarg);
		} else if (ch == 'p' || ch == 'n' || ch == 'f' || ch == 'F') {
			*(ch == 'p'   ? &o->port
			  : ch == 'n' ? &o->keepalives
			  : ch == 'f' ? &o->frames
				      : &o->flood) = atoi(optarg);
		} else if (ch > 0 && ch < (int)(sizeof(str) / sizeof(str[0])) && str[ch] != NULL) {
			*str[ch] = optarg;
		} else {
			usage();
		}
	}
	/* One word after the command; relay-flood takes three. */
	if (o->dc == NULL || optind + 1 >= argc ||
	    optind + (strcmp(argv[optind], "relay-flood") == 0 ? 4 : 2) != argc) {
		usage();
	}
}

int main(int argc, char **argv)
{
	struct client c = { .fd = -1 };
	struct opts o;
	int rc;

	if (ntm_crypto_init() < 0) {
		die("libsodium");
	}
	parse(argc, argv, &o);
	c.save_init = o.save_init;
	if (strcmp(argv[optind], "register") == 0) {
		if (o.key == NULL) {
			usage();
		}
		setup(&c, &o);
		rc = do_register(&c, argv[optind + 1], o.token, o.keepalives);
	} else if (strcmp(argv[optind], "send") == 0) {
		setup(&c, &o);
		rc = do_send(&c, argv[optind + 1]);
	} else if (strcmp(argv[optind], "relay") == 0 && o.key != NULL) {
		setup(&c, &o);
		rc = do_relay(&c, argv[optind + 1], &o);
	} else if (strcmp(argv[optind], "relay-attack") == 0) {
		setup(&c, &o);
		rc = do_relay_attack(&c, (uint32_t)strtoul(argv[optind + 1], NULL, 16));
	} else if (strcmp(argv[optind], "relay-flood") == 0) {
		setup(&c, &o);
		rc = do_relay_flood(&c, (uint32_t)strtoul(argv[optind + 1], NULL, 16),
				    atoi(argv[optind + 2]), atol(argv[optind + 3]));
	} else if (strcmp(argv[optind], "garbage") == 0) {
		setup(&c, &o);
		rc = do_garbage(&c, atoi(argv[optind + 1]));
	} else {
		usage();
	}
	ntm_ctrl_session_destroy(c.s);
	ntm_cookie_checker_destroy(c.checker);
	ntm_noise_identity_destroy(c.id);
	close(c.fd);
	return rc;
}
