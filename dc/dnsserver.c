/* SPDX-License-Identifier: MIT */
/*
 * Sockets around dc/dnszone.c. Each UDP socket and TCP listener is a handle
 * of the server; each TCP connection owns its socket and idle timer and is
 * freed when both have closed. The server frees itself when every handle
 * it counted has closed.
 */
#include "dnsserver.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/dnstcp.h"
#include "common/log.h"
#include "dc/dnssign.h"
#include "dc/dnszone.h"

enum { RCODE_NXDOMAIN = 3, RCODE_REFUSED = 5, TCP_BACKLOG = 64 };

struct src_bucket {
	uint64_t stamp_ms;
	uint32_t tokens;
};

struct dns_tcp;

struct dns_udp {
	uv_udp_t h;
	struct dc_dnsserver *d;
};

struct dns_listener {
	uv_tcp_t h;
	struct dc_dnsserver *d;
};

struct dc_dnsserver {
	uv_loop_t *loop;
	struct dc_dnszone *zone;
	struct dc_dnssign *sign; /* NULL: unsigned */
	struct dc_store *store;
	struct dns_udp udp[DC_CONFIG_ADDRS_MAX];
	struct dns_listener tcp[DC_CONFIG_ADDRS_MAX];
	size_t n_udp, n_tcp;
	struct dns_tcp *conns;
	uint32_t serial;
	uint8_t hash_key[crypto_shorthash_KEYBYTES];
	struct src_bucket src[DC_DNS_SRC_BUCKETS];
	struct dc_dnsserver_stats st;
	struct ntm_ratelimit rl;
	unsigned open_handles;
	bool closing;
	void (*done)(void *arg);
	void *done_arg;
	uint8_t rx[DC_DNSZONE_MSG_MAX];
	uint8_t tx[DC_DNSZONE_MSG_MAX];
};

/* One TCP connection: the length-prefixed messages are collected in buf. */
struct dns_tcp {
	uv_tcp_t h;
	uv_timer_t idle;
	struct dc_dnsserver *d;
	struct dns_tcp *next, **pprev;
	struct ntm_addr peer;
	unsigned open, writes;
	bool closing;
	size_t have;
	uint8_t buf[2 + DC_DNSZONE_MSG_MAX];
};

/* An answer on its way out over TCP: freed in the write callback. */
struct dns_write {
	uv_write_t req;
	struct dns_tcp *c;
	uint8_t data[];
};

/* ------------------------------------------------------------ lifecycle */

static void maybe_free(struct dc_dnsserver *d)
{
	void (*done)(void *arg) = d->done;
	void *arg = d->done_arg;

	if (!d->closing || d->open_handles > 0 || d->conns != NULL) {
		return;
	}
	dc_dnszone_destroy(d->zone);
	dc_dnssign_destroy(d->sign);
	ntm_free(d);
	if (done != NULL) {
		done(arg);
	}
}

static void on_udp_closed(uv_handle_t *h)
{
	struct dns_udp *u = h->data;

	u->d->open_handles--;
	maybe_free(u->d);
}

static void on_listener_closed(uv_handle_t *h)
{
	struct dns_listener *l = h->data;

	l->d->open_handles--;
	maybe_free(l->d);
}

static void on_conn_closed(uv_handle_t *h)
{
	struct dns_tcp *c = h->data;
	struct dc_dnsserver *d = c->d;

	/* libuv ran the write callbacks of a closed stream (UV_ECANCELED) already */
	if (--c->open > 0) {
		return;
	}
	*c->pprev = c->next;
	if (c->next != NULL) {
		c->next->pprev = c->pprev;
	}
	d->st.tcp_now--;
	ntm_free(c);
	maybe_free(d);
}

static void conn_close(struct dns_tcp *c)
{
	if (c->closing) {
		return;
	}
	c->closing = true;
	uv_close((uv_handle_t *)&c->h, on_conn_closed);
	uv_close((uv_handle_t *)&c->idle, on_conn_closed);
}

void dc_dnsserver_close(struct dc_dnsserver *d, void (*done)(void *arg), void *arg)
{
	if (ntm_close_null(d, done, arg)) {
		return;
	}
	d->closing = true;
	d->done = done;
	d->done_arg = arg;
	for (size_t i = 0; i < d->n_udp; i++) {
		uv_close((uv_handle_t *)&d->udp[i].h, on_udp_closed);
	}
	for (size_t i = 0; i < d->n_tcp; i++) {
		uv_close((uv_handle_t *)&d->tcp[i].h, on_listener_closed);
	}
	for (struct dns_tcp *c = d->conns; c != NULL; c = c->next) {
		conn_close(c);
	}
	maybe_free(d);
}

/* ------------------------------------------------------------ answering */

/* A token bucket per hashed source (IPv4 address, IPv6 /64); collisions share one. */
static bool src_allow(struct dc_dnsserver *d, const struct ntm_addr *from)
{
	bool v6 = from->sa.sa_family == AF_INET6;
	const void *ip =
		v6 ? (const void *)&from->sin6.sin6_addr : (const void *)&from->sin.sin_addr;
	uint64_t now = uv_now(d->loop), refill;
	uint8_t h[crypto_shorthash_BYTES];
	struct src_bucket *b;

	crypto_shorthash(h, ip, v6 ? 8 : 4, d->hash_key);
	b = &d->src[(size_t)(h[0] << 8 | h[1]) % DC_DNS_SRC_BUCKETS];
	if (b->stamp_ms == 0 || now < b->stamp_ms) {
		b->tokens = DC_DNS_SRC_BURST;
		b->stamp_ms = now;
	}
	refill = (now - b->stamp_ms) * DC_DNS_SRC_RATE / 1000;
	if (refill > 0) {
		b->tokens = b->tokens + refill > DC_DNS_SRC_BURST ? DC_DNS_SRC_BURST
								  : b->tokens + (uint32_t)refill;
		b->stamp_ms = now;
	}
	if (b->tokens == 0) {
		return false;
	}
	b->tokens--;
	return true;
}

/* Answers `q` into d->tx; returns the length, 0 when nothing is to be sent. */
static size_t answer(struct dc_dnsserver *d, const uint8_t *q, size_t len, bool udp,
		     const struct ntm_addr *from)
{
	struct dc_dnszone_result res;
	int rc;

	d->st.queries++;
	if (!src_allow(d, from)) {
		d->st.ratelimited++;
		return 0;
	}
	rc = dc_dnszone_answer(d->zone, q, len, udp, d->tx, sizeof(d->tx), &res);
	if (rc < 0) {
		d->st.dropped++;
		ntm_log_ratelimited(&d->rl, uv_now(d->loop), NTM_LOG_DEBUG,
				    "dns: dropped a message: %s", ntm_strerror(rc));
		return 0;
	}
	d->st.nxdomain += res.rcode == RCODE_NXDOMAIN;
	d->st.refused += res.rcode == RCODE_REFUSED;
	d->st.truncated += res.truncated;
	d->st.signed_answers += res.dnssec;
	return res.len;
}

static void on_udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct dns_udp *u = h->data;

	(void)hint;
	*buf = uv_buf_init((char *)u->d->rx, sizeof(u->d->rx));
}

static void on_udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
			unsigned flags)
{
	struct dns_udp *u = h->data;
	struct dc_dnsserver *d = u->d;
	struct ntm_addr from = { .len = 0 };
	uv_buf_t out;
	size_t len;

	if (n <= 0 || addr == NULL || (flags & UV_UDP_PARTIAL) != 0 || d->closing) {
		return;
	}
	from.len = addr->sa_family == AF_INET6 ? sizeof(from.sin6) : sizeof(from.sin);
	memcpy(&from.ss, addr, from.len);
	len = answer(d, (const uint8_t *)buf->base, (size_t)n, true, &from);
	if (len == 0) {
		return;
	}
	out = uv_buf_init((char *)d->tx, (unsigned)len);
	if (uv_udp_try_send(h, &out, 1, addr) < 0) {
		d->st.send_failed++;
		return;
	}
	d->st.answers++;
}

/* ------------------------------------------------------------ TCP */

static void on_written(uv_write_t *req, int status)
{
	struct dns_write *w = req->data;
	struct dns_tcp *c = w->c;

	(void)status;
	c->writes--;
	ntm_free(w);
}

static void send_tcp(struct dns_tcp *c, size_t len)
{
	struct dc_dnsserver *d = c->d;
	struct dns_write *w;
	uv_buf_t b;

	if (c->writes >= DC_DNS_TCP_WRITES_MAX) {
		conn_close(c); /* the client does not read its answers */
		return;
	}
	w = ntm_malloc(sizeof(*w) + 2 + len);
	if (w == NULL) {
		conn_close(c);
		return;
	}
	w->c = c;
	w->req.data = w;
	w->data[0] = (uint8_t)(len >> 8);
	w->data[1] = (uint8_t)len;
	memcpy(w->data + 2, d->tx, len);
	b = uv_buf_init((char *)w->data, (unsigned)(2 + len));
	if (uv_write(&w->req, (uv_stream_t *)&c->h, &b, 1, on_written) < 0) {
		ntm_free(w);
		conn_close(c);
		return;
	}
	c->writes++;
	d->st.answers++;
}

/* Every complete message in the buffer; the rest moves to the front. */
static void drain(struct dns_tcp *c)
{
	const uint8_t *msg;
	size_t off = 0, mlen, len;
	int rc;

	while (!c->closing && (rc = ntm_dnstcp_next(c->buf, c->have, &off, &msg, &mlen)) != 0) {
		if (rc < 0) {
			conn_close(c);
			return;
		}
		len = answer(c->d, msg, mlen, false, &c->peer);
		if (len > 0) {
			send_tcp(c, len);
		}
		uv_timer_again(&c->idle);
	}
	c->have = ntm_dnstcp_keep(c->buf, c->have, off);
}

static void on_tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct dns_tcp *c = h->data;

	(void)hint;
	*buf = uv_buf_init((char *)c->buf + c->have, (unsigned)(sizeof(c->buf) - c->have));
}

static void on_tcp_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct dns_tcp *c = s->data;

	(void)buf;
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->have += (size_t)n;
	drain(c);
}

static void on_idle(uv_timer_t *t)
{
	conn_close(t->data);
}

static void accept_one(struct dc_dnsserver *d, uv_stream_t *server)
{
	struct dns_tcp *c = ntm_calloc(1, sizeof(*c));
	int len = sizeof(struct sockaddr_storage);

	if (c == NULL) {
		return;
	}
	c->d = d;
	uv_tcp_init(d->loop, &c->h);
	uv_timer_init(d->loop, &c->idle);
	c->h.data = c;
	c->idle.data = c;
	c->open = 2;
	c->next = d->conns;
	c->pprev = &d->conns;
	if (d->conns != NULL) {
		d->conns->pprev = &c->next;
	}
	d->conns = c;
	d->st.tcp_now++;
	if (uv_accept(server, (uv_stream_t *)&c->h) < 0 ||
	    uv_tcp_getpeername(&c->h, &c->peer.sa, &len) < 0 || d->st.tcp_now > DC_DNS_TCP_MAX) {
		d->st.tcp_refused += d->st.tcp_now > DC_DNS_TCP_MAX;
		conn_close(c);
		return;
	}
	c->peer.len = (socklen_t)len;
	uv_timer_start(&c->idle, on_idle, DC_DNS_TCP_IDLE_MS, DC_DNS_TCP_IDLE_MS);
	if (uv_read_start((uv_stream_t *)&c->h, on_tcp_alloc, on_tcp_read) < 0) {
		conn_close(c);
	}
}

static void on_connection(uv_stream_t *server, int status)
{
	struct dns_listener *l = server->data;

	if (status < 0 || l->d->closing) {
		return;
	}
	accept_one(l->d, server);
}

/* ------------------------------------------------------------ setup */

static int lookup(void *ctx, const char *fqdn, uint8_t vip4[4], uint8_t vip6[16])
{
	struct dc_dnsserver *d = ctx;
	struct dc_node n;
	int rc = dc_store_published_lookup(d->store, fqdn, &n);

	if (rc == 1 &&
	    (inet_pton(AF_INET, n.vip4, vip4) != 1 || inet_pton(AF_INET6, n.vip6, vip6) != 1)) {
		return -EINVAL;
	}
	return rc == 1 ? DC_DNSZONE_NODE : rc == 2 ? DC_DNSZONE_ENT : rc;
}

static int bind_one(struct dc_dnsserver *d, const struct ntm_addr *a)
{
	bool v6 = a->sa.sa_family == AF_INET6;
	struct dns_udp *u = &d->udp[d->n_udp];
	struct dns_listener *l = &d->tcp[d->n_tcp];
	int rc;

	uv_udp_init(d->loop, &u->h);
	u->h.data = u;
	u->d = d;
	d->n_udp++;
	d->open_handles++;
	uv_tcp_init(d->loop, &l->h);
	l->h.data = l;
	l->d = d;
	d->n_tcp++;
	d->open_handles++;
	rc = uv_udp_bind(&u->h, &a->sa, v6 ? UV_UDP_IPV6ONLY : 0);
	if (rc == 0) {
		rc = uv_udp_recv_start(&u->h, on_udp_alloc, on_udp_recv);
	}
	if (rc == 0) {
		rc = uv_tcp_bind(&l->h, &a->sa, v6 ? UV_TCP_IPV6ONLY : 0);
	}
	if (rc == 0) {
		rc = uv_listen((uv_stream_t *)&l->h, TCP_BACKLOG, on_connection);
	}
	return rc;
}

/* The zone signing key ([DNS] ZoneKey), loaded or created; none for ZoneKey = none. */
static int open_signer(struct dc_dnsserver *d, const struct dc_config *cfg, char *why,
		       size_t whylen)
{
	char ds[DC_DNSSIGN_DS_TEXT_MAX];
	bool created = false;
	int rc;

	if (cfg->zone_key == NULL) {
		ntm_log_info("DNS: ZoneKey = none: the zone %s is not signed", cfg->domain);
		return 0;
	}
	rc = dc_dnssign_create(
		&(struct dc_dnssign_config){ .zone = cfg->domain, .key_path = cfg->zone_key },
		&d->sign, &created, why, whylen);
	if (rc < 0) {
		return rc;
	}
	if (dc_dnssign_ds(d->sign, ds, sizeof(ds)) < 0) {
		snprintf(ds, sizeof(ds), "?");
	}
	ntm_log_info("DNSSEC: zone %s signed with key tag %u (%s %s); DS for the parent: %s",
		     cfg->domain, dc_dnssign_keytag(d->sign), created ? "new key in" : "key",
		     cfg->zone_key, ds);
	return 0;
}

int dc_dnsserver_open(uv_loop_t *loop, const struct dc_dnsserver_config *dc,
		      struct dc_dnsserver **out, char *why, size_t whylen)
{
	const struct dc_addr_list *l = &dc->cfg->dns_listen;
	struct dc_dnsserver *d;
	int rc = 0;

	*out = NULL;
	if (l->n == 0) {
		return 0;
	}
	d = ntm_calloc(1, sizeof(*d));
	if (d == NULL) {
		snprintf(why, whylen, "DNS server: out of memory");
		return -ENOMEM;
	}
	d->loop = loop;
	d->store = dc->store;
	d->serial = (uint32_t)time(NULL);
	d->rl = (struct ntm_ratelimit)NTM_RATELIMIT_INIT(5000, 10);
	randombytes_buf(d->hash_key, sizeof(d->hash_key));
	rc = open_signer(d, dc->cfg, why, whylen);
	if (rc == 0) {
		rc = dc_dnszone_create(&(struct dc_dnszone_config){ .domain = dc->cfg->domain,
								    .pubkey = dc->pubkey,
								    .ctrl_listen = &dc->cfg->listen,
								    .dns_listen = l,
								    .serial = d->serial,
								    .lookup = lookup,
								    .ctx = d,
								    .signer = d->sign },
				       &d->zone);
		if (rc < 0) {
			snprintf(why, whylen, "DNS zone %s: %s", dc->cfg->domain, ntm_strerror(rc));
		}
	}
	if (rc < 0) {
		dc_dnssign_destroy(d->sign);
		ntm_free(d);
		return rc;
	}
	for (size_t i = 0; rc == 0 && i < l->n; i++) {
		rc = bind_one(d, &l->addrs[i]);
		if (rc < 0) {
			char text[NTM_ADDR_STRLEN] = "?";

			if (ntm_addr_format(&l->addrs[i], text, sizeof(text)) < 0) {
				text[0] = '\0';
			}
			snprintf(why, whylen, "[DNS] Listen %s: %s", text, ntm_strerror(rc));
		}
	}
	if (rc < 0) {
		dc_dnsserver_close(d, NULL, NULL);
		return rc;
	}
	*out = d;
	return 0;
}

void dc_dnsserver_zone_changed(struct dc_dnsserver *d)
{
	uint32_t now = (uint32_t)time(NULL);

	if (d == NULL) {
		return;
	}
	/* Serials only grow (RFC 1982 arithmetic aside, a clock step back must not reuse one). */
	d->serial = now > d->serial ? now : d->serial + 1;
	dc_dnszone_set_serial(d->zone, d->serial);
}

void dc_dnsserver_get_stats(const struct dc_dnsserver *d, struct dc_dnsserver_stats *out)
{
	struct dc_dnssign_stats ss;

	memset(out, 0, sizeof(*out));
	if (d == NULL) {
		return;
	}
	*out = d->st;
	if (d->sign != NULL) {
		dc_dnssign_get_stats(d->sign, &ss);
		out->dnssec = true;
		out->keytag = dc_dnssign_keytag(d->sign);
		out->signatures = ss.signatures;
		out->sig_cache_hits = ss.cache_hits;
	}
}

int dc_dnsserver_ds(const struct dc_dnsserver *d, char *out, size_t cap)
{
	if (d == NULL || d->sign == NULL) {
		return -ENOENT;
	}
	return dc_dnssign_ds(d->sign, out, cap);
}
