/* SPDX-License-Identifier: MIT */
/*
 * dcload: a load generator for ntm-dc (issue 5 benchmark; not a test).
 * It simulates N nodes, each with its own static key, against a real
 * ntm-dc: the real control handshake (common/ctrl.h, cookie replies under
 * load included), REGISTER, then KEEPALIVEs at a fixed interval, and reads
 * the DC's CPU time and RSS from /proc. tests/bench/dcload.sh runs it.
 *
 *   dcload enrol --db PATH --count N [--seed S] [--domain D] [--pool4 P] [--pool6 P]
 *       enrols nodes n0.D .. n(N-1).D with keys derived from S into the DC's
 *       database (run before ntm-dc starts).
 *   dcload run --dc ADDR:PORT --dc-key PUB --count N [--seed S] [--domain D]
 *              [--src-base A] [--src-count K] [--window W] [--keepalive SECS]
 *              [--duration SECS] [--dc-pid PID]
 *       registers all N nodes (at most W handshakes or REGISTERs in flight;
 *       defaults: S ntm, D example.net, A 127.1.0.1, K 4096, W 192, 10 s, 30 s),
 *       then keeps them alive for SECS; prints "name value" lines.
 *
 * Keys: node i's private key is BLAKE2b-256("ntm-dcload" || S || i), so both
 * subcommands agree without a key file.
 *
 * Sources: the DC limits initiations per source address (dc/ctrl.c), as it
 * should. The nodes are spread over K UDP sockets bound to K consecutive
 * IPv4 addresses from A (127.x addresses need no configuration on lo), one
 * socket per address shared by ~N/K nodes, which the receiver index of every
 * answer tells apart (node i always uses local index i + 1).
 *
 * Enrolment: dc_store_enroll() rescans every lease per call (O(N) each, so
 * O(N^2) in all: hours for 100,000 nodes), so `enrol` opens the store with
 * the DC's own code (schema, migrations) and inserts the rows in one
 * transaction, with the addresses dc_pool_format() gives for consecutive
 * indices, and moves the next-fit cursors past them, as enrolment would;
 * then it reads the first and last node back through dc_store_node_by_key().
 *
 * Limits: sessions are not rekeyed (a node's keypair expires 180 s after its
 * handshake), so a run must end within ~120 s of the first registration;
 * responses are not mac1-checked (the Noise response authenticates anyway).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/addr.h"
#include "common/crypto.h"
#include "common/ctrl.h"
#include "common/ctrlmsg.h"
#include "common/key.h"
#include "common/noise.h"
#include "common/secpool.h"
#include "dc/pool.h"
#include "dc/store.h"
#include "dc/store_internal.h"

enum {
	RTO_MS = 1000,
	TRIES = 8,
	BUF = 2048,
	SCAN_MS = 10,
};

enum state { S_IDLE, S_HS, S_REG, S_UP, S_KA, S_FAILED };

struct opts {
	const char *db, *dc, *dc_key, *seed, *domain, *pool4, *pool6, *src_base;
	unsigned long count, src_count, window, keepalive, duration;
	long dc_pid;
};

struct sim {
	struct ntm_noise_identity *id;
	struct ntm_ctrl_session *s;
	uint32_t req_id;
	uint32_t sock;
	uint8_t state;
	uint8_t tries;
};

struct counters {
	uint64_t ok, failed, failed_hs, cookies, retrans, errors, send_drops, seal_failed;
	uint64_t ka_sent, ka_acked, ka_lost;
};

struct gen {
	struct opts o;
	struct sim *n;
	uint64_t *due; /* per node: next timer (ms), UINT64_MAX none */
	int *fds;
	struct ntm_addr *local; /* of each socket */
	int ep;
	struct ntm_addr dc;
	struct ntm_key dc_pub;
	struct ntm_secpool *pool;
	size_t next_start, inflight;
	struct counters c;
	uint8_t buf[BUF], plain[NTM_CTRL_PLAIN_MAX];
};

static void die(const char *what)
{
	fprintf(stderr, "dcload: %s\n", what);
	exit(1);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void node_key(const char *seed, size_t i, struct ntm_key *priv, struct ntm_key *pub)
{
	crypto_generichash_state st;
	uint64_t le = i;

	crypto_generichash_init(&st, NULL, 0, NTM_KEY_LEN);
	crypto_generichash_update(&st, (const uint8_t *)"ntm-dcload", 10);
	crypto_generichash_update(&st, (const uint8_t *)seed, strlen(seed));
	crypto_generichash_update(&st, (const uint8_t *)&le, sizeof(le));
	crypto_generichash_final(&st, priv->b, NTM_KEY_LEN);
	if (ntm_key_public(pub, priv) < 0) {
		die("derived an invalid key");
	}
}

/* ---------------------------------------------------------------- enrol */

static void pool_of(const char *text, struct dc_pool *pool)
{
	struct ntm_prefix pf;
	char why[256];

	if (ntm_prefix_parse(text, 0, &pf, why, sizeof(why)) < 0 ||
	    dc_pool_init(pool, &pf, why, sizeof(why)) < 0) {
		die(why);
	}
}

static void insert_node(struct dc_store *st, sqlite3_stmt *ins, const struct opts *o, size_t i,
			const struct dc_pool *p4, const struct dc_pool *p6)
{
	struct ntm_key priv, pub;
	char fqdn[DC_FQDN_SIZE], v4[INET6_ADDRSTRLEN], v6[INET6_ADDRSTRLEN];

	node_key(o->seed, i, &priv, &pub);
	ntm_key_wipe(&priv);
	snprintf(fqdn, sizeof(fqdn), "n%zu.%s", i, o->domain);
	if (dc_pool_format(p4, p4->first + i, v4, sizeof(v4)) < 0 ||
	    dc_pool_format(p6, p6->first + i, v6, sizeof(v6)) < 0 || p4->first + i > p4->last ||
	    p6->first + i > p6->last) {
		die("a pool is too small for --count");
	}
	sqlite3_reset(ins);
	if (sqlite3_bind_text(ins, 1, fqdn, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_blob(ins, 2, pub.b, NTM_KEY_LEN, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(ins, 3, v4, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_text(ins, 4, v6, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_int64(ins, 5, (sqlite3_int64)time(NULL)) != SQLITE_OK ||
	    sqlite3_step(ins) != SQLITE_DONE) {
		fprintf(stderr, "dcload: insert %s: %s\n", fqdn, sqlite3_errmsg(st->db));
		exit(1);
	}
}

static void set_cursor(struct dc_store *st, const char *key, const struct dc_pool *p, size_t n)
{
	char text[INET6_ADDRSTRLEN], sql[256];

	if (dc_pool_format(p, p->first + n - 1, text, sizeof(text)) < 0) {
		die("cursor");
	}
	snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO meta (key, value) VALUES ('%s', '%s')",
		 key, text);
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		die(sqlite3_errmsg(st->db));
	}
}

static int do_enrol(const struct opts *o)
{
	struct dc_pool p4, p6;
	struct dc_store *st;
	sqlite3_stmt *ins;
	struct ntm_key priv, pub;
	struct dc_node node;
	char why[DC_STORE_WHY_MAX];
	uint64_t t0 = now_ms();

	pool_of(o->pool4, &p4);
	pool_of(o->pool6, &p6);
	if (dc_store_open(o->db, &st, why, sizeof(why)) < 0 ||
	    dc_store_begin(st, why, sizeof(why)) < 0 ||
	    dc_store_prepare(st,
			     "INSERT INTO nodes (fqdn, pubkey, vip4, vip6, enrolled_at) "
			     "VALUES (?1, ?2, ?3, ?4, ?5)",
			     &ins, why, sizeof(why)) < 0) {
		die(why);
	}
	for (size_t i = 0; i < o->count; i++) {
		insert_node(st, ins, o, i, &p4, &p6);
	}
	sqlite3_finalize(ins);
	set_cursor(st, "cursor4", &p4, o->count);
	set_cursor(st, "cursor6", &p6, o->count);
	if (dc_store_commit(st, why, sizeof(why)) < 0) {
		die(why);
	}
	for (int k = 0; k < 2; k++) {
		node_key(o->seed, k == 0 ? 0 : o->count - 1, &priv, &pub);
		ntm_key_wipe(&priv);
		if (dc_store_node_by_key(st, &pub, &node) < 0) {
			die("an enrolled node does not read back");
		}
	}
	dc_store_close(st);
	printf("enrolled %lu\nenrol_ms %llu\n", o->count, (unsigned long long)(now_ms() - t0));
	return 0;
}

/* ---------------------------------------------------------------- /proc */

static long long proc_cpu_ms(long pid)
{
	char path[64], line[1024], *p;
	unsigned long long ut = 0, stime = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (f == NULL || fgets(line, sizeof(line), f) == NULL) {
		if (f != NULL) {
			fclose(f);
		}
		return -1;
	}
	fclose(f);
	p = strrchr(line, ')');
	/* After ") ": state is field 3; utime and stime are fields 14 and 15. */
	if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
				&stime) != 2) {
		return -1;
	}
	return (long long)((ut + stime) * 1000 / (unsigned long long)sysconf(_SC_CLK_TCK));
}

static long proc_rss_kib(long pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) {
			break;
		}
	}
	if (f != NULL) {
		fclose(f);
	}
	return kib;
}

/* ---------------------------------------------------------------- sending */

static void finish(struct gen *g, size_t i, bool ok);

static void send_dc(struct gen *g, size_t i, const uint8_t *p, size_t len)
{
	if (sendto(g->fds[g->n[i].sock], p, len, 0, &g->dc.sa, g->dc.len) < 0) {
		g->c.send_drops++;
	}
}

static void send_initiation(struct gen *g, size_t i, uint64_t now)
{
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, g->buf, sizeof(g->buf));
	if (ntm_ctrl_session_initiate(g->n[i].s, (uint32_t)i + 1, NULL, now, &w) < 0) {
		die("cannot build an initiation");
	}
	send_dc(g, i, w.data, w.len);
	g->due[i] = now + RTO_MS;
}

/* False when the session cannot seal (its keypair expired: no rekeying here, see above). */
static bool send_msg(struct gen *g, size_t i, const struct ntm_ctrl_msg *m, uint64_t now)
{
	struct ntm_wbuf pw, w;

	ntm_wbuf_init(&pw, g->plain, sizeof(g->plain));
	ntm_wbuf_init(&w, g->buf, sizeof(g->buf));
	if (ntm_ctrl_msg_encode(&pw, m) < 0) {
		die("cannot encode a message");
	}
	if (ntm_ctrl_session_seal(g->n[i].s, g->plain, pw.len, now, &w) < 0) {
		g->c.seal_failed++;
		return false;
	}
	send_dc(g, i, w.data, w.len);
	return true;
}

static void send_register(struct gen *g, size_t i, uint64_t now)
{
	struct sim *n = &g->n[i];
	struct ntm_ctrl_msg m;

	ntm_ctrl_msg_init(&m, NTM_CTRL_REGISTER, n->req_id);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_FQDN);
	snprintf(m.fqdn, sizeof(m.fqdn), "n%zu.%s", i, g->o.domain);
	if (ntm_ctrl_addr_from(&m.cand[0], &g->local[n->sock]) == 0) {
		m.n_cand = 1;
		m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_CANDIDATE);
	}
	g->due[i] = now + RTO_MS;
	if (!send_msg(g, i, &m, now)) {
		finish(g, i, false);
	}
}

static void send_keepalive(struct gen *g, size_t i, uint64_t now)
{
	struct sim *n = &g->n[i];
	struct ntm_ctrl_msg m;

	if (n->state == S_KA) {
		g->c.ka_lost++; /* the previous one got no ACK within an interval */
	}
	ntm_ctrl_msg_init(&m, NTM_CTRL_KEEPALIVE, ++n->req_id);
	g->due[i] = now + g->o.keepalive * 1000;
	if (!send_msg(g, i, &m, now)) {
		n->state = S_FAILED; /* expired: it would have to handshake again */
		g->due[i] = UINT64_MAX;
		return;
	}
	n->state = S_KA;
	g->c.ka_sent++;
}

/* ---------------------------------------------------------------- node life */

static void start_node(struct gen *g, size_t i, uint64_t now)
{
	struct sim *n = &g->n[i];
	struct ntm_key priv, pub;

	node_key(g->o.seed, i, &priv, &pub);
	if (ntm_noise_identity_create_in(g->pool, priv.b, NTM_NOISE_CONTROL, &n->id) < 0) {
		die("out of memory (identity)");
	}
	ntm_key_wipe(&priv);
	ntm_noise_identity_set_pool(n->id, g->pool);
	if (ntm_ctrl_session_create(n->id, g->dc_pub.b, n, &n->s) < 0) {
		die("out of memory (session)");
	}
	n->sock = (uint32_t)(i % g->o.src_count);
	n->req_id = randombytes_random() | 1;
	n->state = S_HS;
	g->inflight++;
	send_initiation(g, i, now);
}

static void finish(struct gen *g, size_t i, bool ok)
{
	struct sim *n = &g->n[i];

	n->state = ok ? S_UP : S_FAILED;
	*(ok ? &g->c.ok : &g->c.failed) += 1;
	g->inflight--;
	g->due[i] = UINT64_MAX;
}

static void on_timeout(struct gen *g, size_t i, uint64_t now)
{
	struct sim *n = &g->n[i];

	if (n->state == S_UP || n->state == S_KA) {
		send_keepalive(g, i, now);
		return;
	}
	if (++n->tries >= TRIES) {
		g->c.failed_hs += n->state == S_HS;
		finish(g, i, false);
		return;
	}
	g->c.retrans++;
	if (n->state == S_HS) {
		send_initiation(g, i, now);
	} else {
		send_register(g, i, now);
	}
}

static void on_answer(struct gen *g, size_t i, const struct ntm_ctrl_msg *m)
{
	struct sim *n = &g->n[i];

	if (m->req_id != n->req_id) {
		return;
	}
	if (n->state == S_REG && m->kind == NTM_CTRL_REGISTER_OK) {
		finish(g, i, true);
	} else if (n->state == S_KA && m->kind == NTM_CTRL_KEEPALIVE_ACK) {
		n->state = S_UP;
		g->c.ka_acked++;
	} else if (m->kind == NTM_CTRL_ERROR) {
		g->c.errors++;
		if (n->state == S_REG) {
			finish(g, i, false);
		}
	}
}

/* The node a datagram is for: its receiver index is the node's number + 1. */
static struct sim *node_of(struct gen *g, uint32_t receiver, size_t *i)
{
	*i = (size_t)receiver - 1;
	return receiver >= 1 && *i < g->o.count && g->n[*i].s != NULL ? &g->n[*i] : NULL;
}

static void on_datagram(struct gen *g, const uint8_t *p, size_t len, uint64_t now)
{
	enum ntm_msg_type type;
	struct ntm_wg_response r;
	struct ntm_wg_cookie_reply ck;
	struct ntm_wg_data d;
	struct ntm_ctrl_msg m;
	struct sim *n;
	size_t i, plen;

	if (ntm_wire_classify(p, len, &type) < 0) {
		return;
	}
	if (type == NTM_MSG_CTRL_RESPONSE && ntm_wire_decode_ctrl_response(p, len, &r) == 0 &&
	    (n = node_of(g, r.receiver, &i)) != NULL && n->state == S_HS &&
	    ntm_ctrl_session_consume_response(n->s, p, len, now) == 0) {
		n->state = S_REG;
		n->tries = 0;
		send_register(g, i, now);
	} else if (type == NTM_MSG_CTRL_COOKIE_REPLY &&
		   ntm_wire_decode_ctrl_cookie_reply(p, len, &ck) == 0 &&
		   (n = node_of(g, ck.receiver, &i)) != NULL && n->state == S_HS &&
		   ntm_ctrl_session_consume_cookie(n->s, p, len, now) == 0) {
		g->c.cookies++;
		send_initiation(g, i, now); /* at once, now with mac2 */
	} else if (type == NTM_MSG_CTRL_DATA && ntm_wire_decode_ctrl_data(p, len, &d) == 0 &&
		   (n = node_of(g, d.receiver, &i)) != NULL &&
		   ntm_ctrl_session_open(n->s, &d, now, g->plain, sizeof(g->plain), &plen) == 0 &&
		   ntm_ctrl_msg_decode(g->plain, plen, &m) == 0) {
		on_answer(g, i, &m);
	}
}

/* ---------------------------------------------------------------- loop */

static void drain(struct gen *g, int fd)
{
	uint8_t in[BUF]; /* not g->buf: that one carries the answer */

	for (int k = 0; k < 64; k++) {
		ssize_t n = recv(fd, in, sizeof(in), MSG_DONTWAIT);

		if (n <= 0) {
			return;
		}
		on_datagram(g, in, (size_t)n, now_ms());
	}
}

static void poll_once(struct gen *g, int timeout_ms)
{
	struct epoll_event ev[64];
	int n = epoll_wait(g->ep, ev, 64, timeout_ms);

	for (int k = 0; k < n; k++) {
		drain(g, g->fds[ev[k].data.u32]);
	}
}

static void scan_timers(struct gen *g, size_t upto, uint64_t now)
{
	for (size_t i = 0; i < upto; i++) {
		if (g->due[i] <= now) {
			on_timeout(g, i, now);
		}
	}
}

static void open_sockets(struct gen *g)
{
	struct ntm_addr base = { .len = sizeof(base.sin) };

	base.sin.sin_family = AF_INET;
	if (inet_pton(AF_INET, g->o.src_base, &base.sin.sin_addr) != 1) {
		die("--src-base: not an IPv4 address");
	}
	g->ep = epoll_create1(0);
	for (size_t j = 0; j < g->o.src_count; j++) {
		struct ntm_addr a = base;
		int rcv = 1 << 20;
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)j };

		a.sin.sin_addr.s_addr = htonl(ntohl(base.sin.sin_addr.s_addr) + (uint32_t)j);
		g->fds[j] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		if (g->fds[j] < 0 || bind(g->fds[j], &a.sa, a.len) < 0 ||
		    setsockopt(g->fds[j], SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)) < 0 ||
		    epoll_ctl(g->ep, EPOLL_CTL_ADD, g->fds[j], &ev) < 0) {
			die("cannot open a source socket (too many files? raise ulimit -n)");
		}
		g->local[j].len = sizeof(g->local[j].ss);
		if (getsockname(g->fds[j], &g->local[j].sa, &g->local[j].len) < 0) {
			die("getsockname");
		}
	}
}

static void phase_register(struct gen *g)
{
	uint64_t next_scan = 0, now;

	while (g->c.ok + g->c.failed < g->o.count) {
		now = now_ms();
		while (g->inflight < g->o.window && g->next_start < g->o.count) {
			start_node(g, g->next_start++, now);
		}
		if (now >= next_scan) {
			scan_timers(g, g->next_start, now);
			next_scan = now + SCAN_MS;
		}
		poll_once(g, 2);
	}
}

static void phase_keepalive(struct gen *g)
{
	uint64_t start = now_ms(), end = start + g->o.duration * 1000, next_scan = 0, now;
	uint64_t ka_ms = g->o.keepalive * 1000;

	/* Spread the first keep-alives evenly over one interval. */
	for (size_t i = 0; i < g->o.count; i++) {
		g->due[i] = g->n[i].state == S_UP ? start + i * ka_ms / g->o.count : UINT64_MAX;
	}
	while ((now = now_ms()) < end) {
		if (now >= next_scan) {
			scan_timers(g, g->o.count, now);
			next_scan = now + SCAN_MS;
		}
		poll_once(g, 2);
	}
	/* Late ACKs of the last round. */
	for (uint64_t stop = now_ms() + 500; now_ms() < stop;) {
		poll_once(g, 10);
	}
}

static void setup_run(struct gen *g)
{
	char why[128];
	struct rlimit rl;

	if (g->o.dc == NULL || g->o.dc_key == NULL ||
	    ntm_addr_parse(g->o.dc, 0, &g->dc, why, sizeof(why)) < 0 ||
	    ntm_key_from_base64(&g->dc_pub, g->o.dc_key, strlen(g->o.dc_key)) < 0) {
		die("--dc ADDR:PORT and --dc-key PUB are required");
	}
	if (g->o.src_count == 0 || g->o.src_count > g->o.count) {
		g->o.src_count = g->o.count;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < g->o.src_count + 64) {
		rl.rlim_cur = g->o.src_count + 64;
		rl.rlim_max = rl.rlim_max < rl.rlim_cur ? rl.rlim_cur : rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	g->n = calloc(g->o.count, sizeof(*g->n));
	g->due = malloc(g->o.count * sizeof(*g->due));
	g->fds = calloc(g->o.src_count, sizeof(*g->fds));
	g->local = calloc(g->o.src_count, sizeof(*g->local));
	if (g->n == NULL || g->due == NULL || g->fds == NULL || g->local == NULL ||
	    ntm_secpool_create(&g->pool) < 0) {
		die("out of memory");
	}
	for (size_t i = 0; i < g->o.count; i++) {
		g->due[i] = UINT64_MAX;
	}
	open_sockets(g);
}

static void report_line(const char *name, double v)
{
	printf("%s %.3f\n", name, v);
}

static int do_run(struct gen *g)
{
	long pid = g->o.dc_pid;
	long long cpu0, cpu1, cpu2;
	long rss0, rss1, rss2;
	uint64_t t0, t1, t2;

	setup_run(g);
	rss0 = pid > 0 ? proc_rss_kib(pid) : -1;
	cpu0 = pid > 0 ? proc_cpu_ms(pid) : -1;
	t0 = now_ms();
	phase_register(g);
	t1 = now_ms();
	cpu1 = pid > 0 ? proc_cpu_ms(pid) : -1;
	rss1 = pid > 0 ? proc_rss_kib(pid) : -1;
	phase_keepalive(g);
	t2 = now_ms();
	cpu2 = pid > 0 ? proc_cpu_ms(pid) : -1;
	rss2 = pid > 0 ? proc_rss_kib(pid) : -1;

	report_line("nodes", (double)g->o.count);
	report_line("registered", (double)g->c.ok);
	report_line("failed", (double)g->c.failed);
	report_line("failed_in_handshake", (double)g->c.failed_hs);
	report_line("reg_s", (double)(t1 - t0) / 1000);
	report_line("reg_per_s", (double)g->c.ok * 1000 / (double)(t1 - t0 + (t1 == t0)));
	report_line("cookies", (double)g->c.cookies);
	report_line("retransmits", (double)g->c.retrans);
	report_line("errors", (double)g->c.errors);
	report_line("send_drops", (double)g->c.send_drops);
	report_line("seal_failed", (double)g->c.seal_failed);
	report_line("ka_sent", (double)g->c.ka_sent);
	report_line("ka_acked", (double)g->c.ka_acked);
	report_line("ka_lost", (double)g->c.ka_lost);
	report_line("ka_s", (double)(t2 - t1) / 1000);
	if (pid > 0) {
		report_line("dc_cpu_reg_ms", (double)(cpu1 - cpu0));
		report_line("dc_cpu_per_reg_us",
			    (double)(cpu1 - cpu0) * 1000 / (double)(g->c.ok + !g->c.ok));
		report_line("dc_cpu_ka_ms", (double)(cpu2 - cpu1));
		report_line("dc_cpu_per_ka_us", (double)(cpu2 - cpu1) * 1000 /
							(double)(g->c.ka_acked + !g->c.ka_acked));
		report_line("dc_rss_base_kib", (double)rss0);
		report_line("dc_rss_reg_kib", (double)rss1);
		report_line("dc_rss_end_kib", (double)rss2);
		report_line("dc_rss_per_node_b",
			    (double)(rss1 - rss0) * 1024 / (double)(g->c.ok + !g->c.ok));
	}
	return g->c.failed == 0 ? 0 : 2;
}

/* ---------------------------------------------------------------- options */

static void usage(void)
{
	fprintf(stderr,
		"usage: dcload enrol --db PATH --count N [--seed S] [--domain D] [--pool4 P] "
		"[--pool6 P]\n"
		"       dcload run --dc ADDR:PORT --dc-key PUB --count N [--seed S] [--domain D]\n"
		"                  [--src-base A] [--src-count K] [--window W] [--keepalive SECS]\n"
		"                  [--duration SECS] [--dc-pid PID]\n");
	exit(1);
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "db", 1, NULL, 'b' },	      { "dc", 1, NULL, 'd' },
		{ "dc-key", 1, NULL, 'K' },   { "seed", 1, NULL, 's' },
		{ "domain", 1, NULL, 'D' },   { "pool4", 1, NULL, '4' },
		{ "pool6", 1, NULL, '6' },    { "src-base", 1, NULL, 'a' },
		{ "count", 1, NULL, 'n' },    { "src-count", 1, NULL, 'k' },
		{ "window", 1, NULL, 'w' },   { "keepalive", 1, NULL, 'i' },
		{ "duration", 1, NULL, 't' }, { "dc-pid", 1, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char **str[128] = {
		['b'] = &o->db,	    ['d'] = &o->dc,    ['K'] = &o->dc_key, ['s'] = &o->seed,
		['D'] = &o->domain, ['4'] = &o->pool4, ['6'] = &o->pool6,  ['a'] = &o->src_base
	};
	unsigned long *num[128] = { ['n'] = &o->count,
				    ['k'] = &o->src_count,
				    ['w'] = &o->window,
				    ['i'] = &o->keepalive,
				    ['t'] = &o->duration };
	int ch;

	*o = (struct opts){ .seed = "ntm", .domain = "example.net", .pool4 = "100.64.0.0/10" };
	o->pool6 = "fd80:1::/64";
	o->src_base = "127.1.0.1";
	o->src_count = 4096;
	o->window = 192;
	o->keepalive = 10;
	o->duration = 30;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (ch == 'p') {
			o->dc_pid = strtol(optarg, NULL, 10);
		} else if (ch > 0 && ch < 128 && str[ch] != NULL) {
			*str[ch] = optarg;
		} else if (ch > 0 && ch < 128 && num[ch] != NULL) {
			*num[ch] = strtoul(optarg, NULL, 10);
		} else {
			usage();
		}
	}
	if (optind + 1 != argc || o->count == 0 || o->window == 0 || o->keepalive == 0) {
		usage();
	}
}

int main(int argc, char **argv)
{
	static struct gen g;

	if (ntm_crypto_init() < 0) {
		die("libsodium");
	}
	parse(argc, argv, &g.o);
	if (strcmp(argv[optind], "enrol") == 0) {
		if (g.o.db == NULL) {
			usage();
		}
		return do_enrol(&g.o);
	}
	if (strcmp(argv[optind], "run") == 0) {
		return do_run(&g);
	}
	usage();
	return 1;
}
