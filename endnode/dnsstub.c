/* SPDX-License-Identifier: MIT */
/*
 * The stub's sockets and queries (dnsstub.h). Ownership: a query belongs
 * to the stub's list from its arrival to its answer; while it waits for an
 * overlay lookup it is also on the lookup's list, while it is forwarded
 * the c-ares callback holds it (common/dns.h has no cancel), so a TCP
 * connection that closes only unhooks its queries (q->conn = NULL) and the
 * callback frees them later.
 */
#include "dnsstub.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/dnstcp.h"
#include "common/dns.h"
#include "common/log.h"
#include "endnode/dcclient.h"
#include "endnode/dnsmsg.h"
#include "endnode/node_internal.h"
#include "endnode/resolve.h"
#include "endnode/trigger.h"

enum { DOMAINS_MAX = EN_CONFIG_DNS_DOMAINS_MAX + NTM_CTRL_DOMAINS_MAX, RESOLV_NS_MAX = 3 };

struct stub_tcp;
struct lookup;

struct stub_udp {
	uv_udp_t h;
	struct en_dnsstub *s;
};

struct stub_listener {
	uv_tcp_t h;
	struct en_dnsstub *s;
};

struct query {
	struct query *next, **pprev; /* the stub's list */
	struct query *lnext;	     /* the lookup's waiters */
	struct en_dnsstub *s;
	struct stub_tcp *conn; /* NULL: UDP (or a closed connection, see `udp`) */
	struct stub_udp *udp;  /* the socket of a UDP query */
	struct ntm_addr from;  /* the UDP client */
	bool forwarded;	       /* c-ares holds it until its callback */
	size_t len;
	uint8_t msg[];
};

struct lookup {
	struct lookup *next;
	struct en_dnsstub *s;
	char name[EN_DNSMSG_NAME_SIZE];
	struct en_resolve_op *op;
	struct query *waiters;
};

struct stub_tcp {
	uv_tcp_t h;
	uv_timer_t idle;
	struct en_dnsstub *s;
	struct stub_tcp *next, **pprev;
	unsigned open;
	bool closing;
	struct ntm_addr peer;
	size_t have;
	uint8_t buf[2 + EN_DNSMSG_MSG_MAX];
};

struct en_dnsstub {
	struct en_node *n;
	struct en_config_dns cfg;
	/* Handle slots: a failed bind keeps its slot (closed at the end), so twice the addresses.
	 */
	struct stub_udp udp[2 * EN_DNSSTUB_LISTEN_MAX];
	struct stub_listener tcp[2 * EN_DNSSTUB_LISTEN_MAX];
	size_t n_slots;
	struct ntm_addr listen[EN_DNSSTUB_LISTEN_MAX];
	size_t n_listen;
	struct stub_tcp *conns;
	size_t n_conns;
	struct query *queries;
	size_t n_queries;
	struct lookup *lookups;
	struct ntm_dns *dns;
	bool dns_tried; /* upstream chosen (dns may still be NULL: none) */
	char upstream[EN_DNSSTUB_UPSTREAM_MAX][EN_CONFIG_DNS_SERVER_MAX];
	size_t n_upstream;
	unsigned open_handles;
	bool closing;
	void (*done)(void *arg);
	void *done_arg;
	struct en_dnsstub_info st;
	struct ntm_ratelimit rl;
	uint8_t rx[EN_DNSMSG_MSG_MAX];
	uint8_t tx[EN_DNSMSG_MSG_MAX];
};

static void maybe_free(struct en_dnsstub *s);

int en_dnsstub_create(struct en_node *n, const struct en_config_dns *cfg, struct en_dnsstub **out)
{
	struct en_dnsstub *s = ntm_calloc(1, sizeof(*s));

	*out = NULL;
	if (s == NULL) {
		return -ENOMEM;
	}
	s->n = n;
	if (cfg != NULL) {
		s->cfg = *cfg;
	}
	s->rl = (struct ntm_ratelimit)NTM_RATELIMIT_INIT(5000, 10);
	*out = s;
	return 0;
}

size_t en_dnsstub_domains(const struct en_dnsstub *s, const char **out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < s->cfg.n_domains && n < cap; i++) {
		out[n++] = s->cfg.domains[i];
	}
	if (n < cap) {
		n += en_dcclient_domains(s->n->dc, out + n, cap - n);
	}
	return n;
}

size_t en_dnsstub_upstream(const struct en_dnsstub *s, const char **out, size_t cap)
{
	size_t n = 0;

	for (; n < s->n_upstream && n < cap; n++) {
		out[n] = s->upstream[n];
	}
	return n;
}

void en_dnsstub_get_info(const struct en_dnsstub *s, struct en_dnsstub_info *out)
{
	*out = s->st;
	memcpy(out->listen, s->listen, sizeof(out->listen));
	out->n_listen = s->n_listen;
}

/* ------------------------------------------------------------ answers */

static void query_free(struct query *q)
{
	struct en_dnsstub *s = q->s;

	*q->pprev = q->next;
	if (q->next != NULL) {
		q->next->pprev = q->pprev;
	}
	s->n_queries--;
	ntm_free(q);
	maybe_free(s);
}

struct tcp_write {
	uv_write_t req;
	uint8_t data[];
};

static void on_tcp_written(uv_write_t *req, int status)
{
	(void)status;
	ntm_free(req->data);
}

static void conn_close(struct stub_tcp *c);

static void send_tcp(struct stub_tcp *c, const uint8_t *msg, size_t len)
{
	struct tcp_write *w = ntm_malloc(sizeof(*w) + 2 + len);
	uv_buf_t b;

	if (w == NULL) {
		conn_close(c);
		return;
	}
	w->req.data = w;
	w->data[0] = (uint8_t)(len >> 8);
	w->data[1] = (uint8_t)len;
	memcpy(w->data + 2, msg, len);
	b = uv_buf_init((char *)w->data, (unsigned)(2 + len));
	if (uv_write(&w->req, (uv_stream_t *)&c->h, &b, 1, on_tcp_written) < 0) {
		ntm_free(w);
		conn_close(c);
	}
}

/* Over UDP an answer larger than the client takes goes out truncated (TC, no records). */
static void send_udp(struct query *q, const uint8_t *msg, size_t len)
{
	struct en_dnsstub *s = q->s;
	size_t tlen;
	uv_buf_t b;

	if (len > en_dnsmsg_udp_limit(q->msg, q->len) &&
	    en_dnsmsg_truncated(q->msg, q->len, msg[3] & 0xf, s->tx, sizeof(s->tx), &tlen) == 0) {
		msg = s->tx;
		len = tlen;
	}
	b = uv_buf_init((char *)msg, (unsigned)len);
	if (uv_udp_try_send(&q->udp->h, &b, 1, &q->from.sa) < 0) {
		s->st.dropped++;
	}
}

/* Sends `msg` to the query's client (over its transport) and frees the query. */
static void reply(struct query *q, const uint8_t *msg, size_t len)
{
	struct stub_tcp *c = q->conn;

	if (q->s->closing) {
		query_free(q);
		return;
	}
	if (c != NULL) {
		q->conn = NULL; /* a failing send closes c, which must not free q too */
		send_tcp(c, msg, len);
	} else if (q->udp != NULL) {
		send_udp(q, msg, len);
	}
	query_free(q);
}

/* An answer of ours: `rcode`, with the VIPs for NOERROR. */
static void reply_rcode(struct query *q, int rcode, const struct en_resolve_result *res)
{
	struct en_dnsstub *s = q->s;
	size_t len;

	s->st.nxdomain += rcode == EN_DNSMSG_RCODE_NXDOMAIN;
	s->st.servfail += rcode == EN_DNSMSG_RCODE_SERVFAIL;
	if (en_dnsmsg_answer(q->msg, q->len, rcode, res != NULL ? res->vip4 : NULL,
			     res != NULL ? res->vip6 : NULL, s->tx, sizeof(s->tx), &len) < 0) {
		query_free(q);
		return;
	}
	reply(q, s->tx, len);
}

/* ------------------------------------------------------------ overlay names */

static void unlink_lookup(struct lookup *lk)
{
	for (struct lookup **pp = &lk->s->lookups; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == lk) {
			*pp = lk->next;
			return;
		}
	}
}

static void on_lookup(void *arg, int err, const struct en_resolve_result *res)
{
	struct lookup *lk = arg;
	int rcode = err == 0	     ? EN_DNSMSG_RCODE_NOERROR
		    : err == -ENOENT ? EN_DNSMSG_RCODE_NXDOMAIN
				     : EN_DNSMSG_RCODE_SERVFAIL;

	unlink_lookup(lk);
	while (lk->waiters != NULL) {
		struct query *q = lk->waiters;

		lk->waiters = q->lnext;
		reply_rcode(q, rcode, res);
	}
	ntm_free(lk);
}

static void overlay(struct query *q, const char *name)
{
	struct en_dnsstub *s = q->s;
	struct lookup *lk = s->lookups;

	s->st.overlay++;
	while (lk != NULL && strcmp(lk->name, name) != 0) {
		lk = lk->next;
	}
	if (lk == NULL) {
		lk = ntm_calloc(1, sizeof(*lk));
		if (lk == NULL || s->n->resolver == NULL ||
		    en_resolver_lookup(s->n->resolver, name, EN_DNSSTUB_TIMEOUT_MS, on_lookup, lk,
				       &lk->op) < 0) {
			ntm_free(lk);
			reply_rcode(q, EN_DNSMSG_RCODE_SERVFAIL, NULL);
			return;
		}
		lk->s = s;
		snprintf(lk->name, sizeof(lk->name), "%s", name);
		lk->next = s->lookups;
		s->lookups = lk;
	}
	q->lnext = lk->waiters;
	lk->waiters = q;
}

/* A query leaves its lookup (its TCP connection went); the lookup stays for the others. */
static void leave_lookup(struct query *q)
{
	for (struct lookup *lk = q->s->lookups; lk != NULL; lk = lk->next) {
		for (struct query **pp = &lk->waiters; *pp != NULL; pp = &(*pp)->lnext) {
			if (*pp == q) {
				*pp = q->lnext;
				return;
			}
		}
	}
}

/* ------------------------------------------------------------ forwarding */

static bool is_own(const struct en_dnsstub *s, const char *ip)
{
	char text[INET6_ADDRSTRLEN];

	for (size_t i = 0; i < s->n_listen; i++) {
		const struct ntm_addr *a = &s->listen[i];
		const void *p = a->sa.sa_family == AF_INET6 ? (const void *)&a->sin6.sin6_addr
							    : (const void *)&a->sin.sin_addr;

		if (inet_ntop(a->sa.sa_family, p, text, sizeof(text)) != NULL &&
		    strcmp(text, ip) == 0) {
			return true;
		}
	}
	return false;
}

/* The nameservers of /etc/resolv.conf that are not the stub itself (numeric, no zone). */
static void read_resolv_conf(struct en_dnsstub *s)
{
	FILE *f = fopen("/etc/resolv.conf", "re");
	char line[256], ip[64];
	unsigned char bin[16];

	while (f != NULL && fgets(line, sizeof(line), f) != NULL && s->n_upstream < RESOLV_NS_MAX) {
		if (sscanf(line, " nameserver %63s", ip) != 1 ||
		    (inet_pton(AF_INET, ip, bin) != 1 && inet_pton(AF_INET6, ip, bin) != 1) ||
		    is_own(s, ip)) {
			continue;
		}
		snprintf(s->upstream[s->n_upstream++], EN_CONFIG_DNS_SERVER_MAX, "%s", ip);
	}
	if (f != NULL) {
		fclose(f);
	}
}

/* The c-ares channel, made at the first forward (the listen addresses are known by then). */
static struct ntm_dns *upstream(struct en_dnsstub *s)
{
	const char *servers[EN_DNSSTUB_UPSTREAM_MAX];
	struct ntm_dns_config dc = { .servers = servers, .timeout_ms = 1000, .tries = 2 };
	int rc;

	if (s->dns_tried) {
		return s->dns;
	}
	s->dns_tried = true;
	for (size_t i = 0; i < s->cfg.n_upstream; i++) {
		snprintf(s->upstream[s->n_upstream++], EN_CONFIG_DNS_SERVER_MAX, "%s",
			 s->cfg.upstream[i]);
	}
	if (s->n_upstream == 0) {
		read_resolv_conf(s);
	}
	for (size_t i = 0; i < s->n_upstream; i++) {
		servers[i] = s->upstream[i];
	}
	dc.n_servers = s->n_upstream;
	if (dc.n_servers == 0) {
		ntm_log_warn("dns: no upstream resolver (set [DNS] Upstream): other names fail");
		return NULL;
	}
	rc = ntm_dns_create(s->n->loop, &dc, &s->dns);
	if (rc < 0) {
		ntm_log_warn("dns: upstream resolvers: %s", ntm_strerror(rc));
	}
	return s->dns;
}

static void on_forwarded(int err, const uint8_t *msg, size_t len, void *arg)
{
	struct query *q = arg;

	if (err < 0 || msg == NULL) {
		reply_rcode(q, EN_DNSMSG_RCODE_SERVFAIL, NULL);
		return;
	}
	reply(q, msg, len);
}

static void forward(struct query *q)
{
	struct ntm_dns *dns = upstream(q->s);

	q->s->st.forwarded++;
	if (dns == NULL || ntm_dns_forward(dns, q->msg, q->len, on_forwarded, q) < 0) {
		reply_rcode(q, EN_DNSMSG_RCODE_SERVFAIL, NULL);
		return;
	}
	q->forwarded = true;
}

/* ------------------------------------------------------------ dispatch */

/*
 * The stub is the host's, not the overlay's: a query from another node's
 * VIP (a peer can route a packet to our stub address through its tunnel)
 * is dropped, so that peers cannot use us as a resolver or make us ask the
 * DC. Sources inside the pools other than our own VIPs are such VIPs.
 */
static bool is_from_peer(const struct en_dnsstub *s, const struct ntm_addr *from)
{
	int fam = from->sa.sa_family;
	const uint8_t *ip = fam == AF_INET6 ? (const uint8_t *)&from->sin6.sin6_addr
					    : (const uint8_t *)&from->sin.sin_addr;
	struct en_dcclient_info info;
	struct ntm_prefix pool;

	if (s->n->trigger == NULL || s->n->dc == NULL ||
	    !en_trigger_get_pool(s->n->trigger, fam, &pool) ||
	    !ntm_prefix_contains(&pool, fam, ip)) {
		return false;
	}
	for (size_t i = 0; i < s->n_listen; i++) {
		const struct ntm_addr *a = &s->listen[i];

		if (a->sa.sa_family == fam &&
		    memcmp(fam == AF_INET6 ? (const void *)&a->sin6.sin6_addr
					   : (const void *)&a->sin.sin_addr,
			   ip, fam == AF_INET6 ? 16 : 4) == 0) {
			return false;
		}
	}
	en_dcclient_get_info(s->n->dc, &info);
	return !info.has_vips || memcmp(fam == AF_INET6 ? info.vips.vip6 : info.vips.vip4, ip,
					fam == AF_INET6 ? 16 : 4) != 0;
}

static void handle(struct en_dnsstub *s, const uint8_t *msg, size_t len, struct stub_udp *udp,
		   const struct ntm_addr *from, struct stub_tcp *conn)
{
	const char *domains[DOMAINS_MAX];
	size_t nd = en_dnsstub_domains(s, domains, DOMAINS_MAX), alen;
	struct en_dnsmsg_query cq;
	struct query *q;

	s->st.queries++;
	if (is_from_peer(s, from)) {
		s->st.dropped++;
		ntm_log_ratelimited(&s->rl, uv_now(s->n->loop), NTM_LOG_INFO,
				    "dns: a query from another node's VIP dropped");
		return;
	}
	if (en_dnsmsg_classify(msg, len, domains, nd, &cq, s->tx, sizeof(s->tx), &alen) < 0 ||
	    cq.kind == EN_DNSMSG_DROP) {
		s->st.dropped++;
		return;
	}
	q = s->n_queries < EN_DNSSTUB_QUERIES_MAX ? ntm_calloc(1, sizeof(*q) + len) : NULL;
	if (q == NULL) {
		s->st.dropped++;
		ntm_log_ratelimited(&s->rl, uv_now(s->n->loop), NTM_LOG_INFO,
				    "dns: too many queries waiting; one dropped");
		return;
	}
	q->s = s;
	q->conn = conn;
	q->udp = udp;
	q->from = *from;
	q->len = len;
	memcpy(q->msg, msg, len);
	q->next = s->queries;
	q->pprev = &s->queries;
	if (s->queries != NULL) {
		s->queries->pprev = &q->next;
	}
	s->queries = q;
	s->n_queries++;
	if (cq.kind == EN_DNSMSG_ANSWER) {
		reply(q, s->tx, alen);
	} else if (cq.kind == EN_DNSMSG_OVERLAY) {
		overlay(q, cq.name);
	} else {
		forward(q);
	}
}

/* ------------------------------------------------------------ sockets */

static void on_udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct stub_udp *u = h->data;

	(void)hint;
	*buf = uv_buf_init((char *)u->s->rx, sizeof(u->s->rx));
}

static void on_udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
			unsigned flags)
{
	struct stub_udp *u = h->data;
	struct ntm_addr from = { .len = 0 };

	if (n <= 0 || addr == NULL || (flags & UV_UDP_PARTIAL) != 0 || u->s->closing) {
		return;
	}
	from.len = addr->sa_family == AF_INET6 ? sizeof(from.sin6) : sizeof(from.sin);
	memcpy(&from.ss, addr, from.len);
	handle(u->s, (const uint8_t *)buf->base, (size_t)n, u, &from, NULL);
}

static void on_conn_closed(uv_handle_t *h)
{
	struct stub_tcp *c = h->data;
	struct en_dnsstub *s = c->s;

	if (--c->open > 0) {
		return;
	}
	*c->pprev = c->next;
	if (c->next != NULL) {
		c->next->pprev = c->pprev;
	}
	s->n_conns--;
	ntm_free(c);
	maybe_free(s);
}

/* Its waiting queries are answered nowhere: overlay ones go now, forwarded ones at their callback.
 */
static void conn_close(struct stub_tcp *c)
{
	struct query *q, *next;

	if (c->closing) {
		return;
	}
	c->closing = true;
	for (q = c->s->queries; q != NULL; q = next) {
		next = q->next;
		if (q->conn != c) {
			continue;
		}
		q->conn = NULL; /* and q->udp is NULL: the answer goes nowhere */
		if (!q->forwarded) {
			leave_lookup(q);
			query_free(q);
		}
	}
	uv_close((uv_handle_t *)&c->h, on_conn_closed);
	uv_close((uv_handle_t *)&c->idle, on_conn_closed);
}

static void drain(struct stub_tcp *c)
{
	const uint8_t *msg;
	size_t off = 0, mlen;
	int rc;

	while (!c->closing && (rc = ntm_dnstcp_next(c->buf, c->have, &off, &msg, &mlen)) != 0) {
		if (rc < 0) {
			conn_close(c);
			return;
		}
		handle(c->s, msg, mlen, NULL, &c->peer, c);
		uv_timer_again(&c->idle);
	}
	c->have = ntm_dnstcp_keep(c->buf, c->have, off);
}

static void on_tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct stub_tcp *c = h->data;

	(void)hint;
	*buf = uv_buf_init((char *)c->buf + c->have, (unsigned)(sizeof(c->buf) - c->have));
}

static void on_tcp_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct stub_tcp *c = st->data;

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

static void on_connection(uv_stream_t *server, int status)
{
	struct stub_listener *l = server->data;
	struct en_dnsstub *s = l->s;
	int len = sizeof(struct sockaddr_storage);
	struct stub_tcp *c;

	if (status < 0 || s->closing || (c = ntm_calloc(1, sizeof(*c))) == NULL) {
		return;
	}
	c->s = s;
	uv_tcp_init(s->n->loop, &c->h);
	uv_timer_init(s->n->loop, &c->idle);
	c->h.data = c;
	c->idle.data = c;
	c->open = 2;
	c->next = s->conns;
	c->pprev = &s->conns;
	if (s->conns != NULL) {
		s->conns->pprev = &c->next;
	}
	s->conns = c;
	s->n_conns++;
	if (uv_accept(server, (uv_stream_t *)&c->h) < 0 || s->n_conns > EN_DNSSTUB_TCP_MAX ||
	    uv_tcp_getpeername(&c->h, &c->peer.sa, &len) < 0) {
		conn_close(c);
		return;
	}
	c->peer.len = (socklen_t)len;
	uv_timer_start(&c->idle, on_idle, EN_DNSSTUB_TCP_IDLE_MS, EN_DNSSTUB_TCP_IDLE_MS);
	if (uv_read_start((uv_stream_t *)&c->h, on_tcp_alloc, on_tcp_read) < 0) {
		conn_close(c);
	}
}

static void on_udp_closed(uv_handle_t *h)
{
	struct stub_udp *u = h->data;

	u->s->open_handles--;
	maybe_free(u->s);
}

static void on_listener_closed(uv_handle_t *h)
{
	struct stub_listener *l = h->data;

	l->s->open_handles--;
	maybe_free(l->s);
}

int en_dnsstub_listen(struct en_dnsstub *s, const struct ntm_addr *a)
{
	bool v6 = a->sa.sa_family == AF_INET6;
	struct stub_udp *u;
	struct stub_listener *l;
	int rc;

	for (size_t i = 0; i < s->n_listen; i++) {
		if (ntm_addr_equal(&s->listen[i], a)) {
			return -EEXIST;
		}
	}
	if (s->n_listen == EN_DNSSTUB_LISTEN_MAX || s->n_slots == 2 * EN_DNSSTUB_LISTEN_MAX) {
		return -E2BIG;
	}
	u = &s->udp[s->n_slots];
	l = &s->tcp[s->n_slots++];
	uv_udp_init(s->n->loop, &u->h);
	uv_tcp_init(s->n->loop, &l->h);
	u->h.data = u;
	u->s = s;
	l->h.data = l;
	l->s = s;
	rc = uv_udp_bind(&u->h, &a->sa, v6 ? UV_UDP_IPV6ONLY : 0);
	if (rc == 0) {
		rc = uv_tcp_bind(&l->h, &a->sa, v6 ? UV_TCP_IPV6ONLY : 0);
	}
	if (rc == 0) {
		rc = uv_listen((uv_stream_t *)&l->h, 16, on_connection);
	}
	if (rc == 0) {
		rc = uv_udp_recv_start(&u->h, on_udp_alloc, on_udp_recv);
	}
	s->open_handles += 2;
	if (rc < 0) {
		return rc; /* the slot's handles stay idle until en_dnsstub_close */
	}
	s->listen[s->n_listen++] = *a;
	return 0;
}

/* Listens on `a`, putting its address on the host first when it is not local. */
static void listen_on(struct en_dnsstub *s, const struct ntm_addr *a)
{
	char text[NTM_ADDR_STRLEN] = "?";
	int rc = en_dnsstub_listen(s, a);

	if (rc == -EADDRNOTAVAIL) {
		rc = en_node_add_local(s->n, a);
		if (rc == 0 || rc == -EEXIST) {
			rc = en_dnsstub_listen(s, a);
		}
	}
	if (ntm_addr_format(a, text, sizeof(text)) < 0) {
		snprintf(text, sizeof(text), "?");
	}
	if (rc == -EEXIST) {
		return;
	}
	if (rc < 0) {
		ntm_log_warn("dns: cannot listen on %s: %s", text, ntm_strerror(rc));
		return;
	}
	ntm_log_info("dns: stub listening on %s (UDP and TCP)", text);
}

/* The second address of `pool` (network + 1) at port 53. */
static void pool_address(const struct ntm_prefix *pool, struct ntm_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (pool->family == AF_INET6) {
		a->sin6.sin6_family = AF_INET6;
		memcpy(&a->sin6.sin6_addr, pool->addr, 16);
		a->sin6.sin6_addr.s6_addr[15] |= 1;
		a->sin6.sin6_port = htons(53);
		a->len = sizeof(a->sin6);
	} else {
		a->sin.sin_family = AF_INET;
		memcpy(&a->sin.sin_addr, pool->addr, 4);
		((uint8_t *)&a->sin.sin_addr)[3] |= 1;
		a->sin.sin_port = htons(53);
		a->len = sizeof(a->sin);
	}
}

void en_dnsstub_start(struct en_dnsstub *s, const struct ntm_prefix *pool4,
		      const struct ntm_prefix *pool6)
{
	const struct ntm_prefix *pools[2] = { pool4, pool6 };
	struct ntm_addr a;

	if (s == NULL || s->closing) {
		return;
	}
	if (s->cfg.n_listen > 0) {
		for (size_t i = 0; pool4 == NULL && pool6 == NULL && i < s->cfg.n_listen; i++) {
			listen_on(s, &s->cfg.listen[i]);
		}
		return;
	}
	for (int i = 0; i < 2; i++) {
		/* a pool of one or two addresses has no second address to spare */
		if (pools[i] != NULL &&
		    pools[i]->prefix_len < (pools[i]->family == AF_INET6 ? 127 : 31)) {
			pool_address(pools[i], &a);
			listen_on(s, &a);
		}
	}
}

/* ------------------------------------------------------------ shutdown */

static void maybe_free(struct en_dnsstub *s)
{
	void (*done)(void *arg) = s->done;
	void *arg = s->done_arg;

	if (!s->closing || s->open_handles > 0 || s->conns != NULL || s->queries != NULL ||
	    s->dns != NULL) {
		return;
	}
	ntm_free(s);
	if (done != NULL) {
		done(arg);
	}
}

static void on_dns_closed(void *arg)
{
	struct en_dnsstub *s = arg;

	s->dns = NULL;
	maybe_free(s);
}

void en_dnsstub_close(struct en_dnsstub *s, void (*done)(void *arg), void *arg)
{
	if (ntm_close_null(s, done, arg)) {
		return;
	}
	s->closing = true;
	s->done = done;
	s->done_arg = arg;
	/* Overlay queries: their lookups are cancelled, the queries go unanswered. */
	while (s->lookups != NULL) {
		struct lookup *lk = s->lookups;

		s->lookups = lk->next;
		en_resolver_cancel(lk->op);
		while (lk->waiters != NULL) {
			struct query *q = lk->waiters;

			lk->waiters = q->lnext;
			query_free(q);
		}
		ntm_free(lk);
	}
	for (size_t i = 0; i < s->n_slots; i++) {
		uv_close((uv_handle_t *)&s->udp[i].h, on_udp_closed);
		uv_close((uv_handle_t *)&s->tcp[i].h, on_listener_closed);
	}
	for (struct stub_tcp *c = s->conns; c != NULL; c = c->next) {
		conn_close(c);
	}
	if (s->dns != NULL) {
		ntm_dns_close(s->dns, on_dns_closed,
			      s); /* forwarded queries end in their callbacks */
	} else {
		maybe_free(s);
	}
}
