/* SPDX-License-Identifier: MIT */
#include "fake_dns.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"

enum {
	HEADER_LEN = 12, /* RFC 1035 4.1.1 */
	NAME_CAP = 256,
	FLAGS_RESPONSE = 0x8480, /* QR, AA, RA */
	FLAG_RD = 0x0100,
};

struct rr {
	const char *name;
	uint16_t type;
	const char *data; /* address or SRV target */
	uint16_t priority, weight, port;
};

static const struct rr zone[] = {
	{ "a.test", FAKE_T_A, "192.0.2.1", 0, 0, 0 },
	{ "a.test", FAKE_T_A, "192.0.2.2", 0, 0, 0 },
	{ "a.test", FAKE_T_AAAA, "2001:db8::1", 0, 0, 0 },
	{ "v4only.test", FAKE_T_A, "192.0.2.9", 0, 0, 0 },
	{ "_svc._udp.test", FAKE_T_SRV, "c.test", 20, 5, 1000 },
	{ "_svc._udp.test", FAKE_T_SRV, "b.test", 10, 10, 2000 },
	{ "_svc._udp.test", FAKE_T_SRV, "aa.test", 10, 60, 3001 },
	{ "_svc._udp.test", FAKE_T_SRV, "a.test", 10, 60, 3000 },
};

enum { ZONE_LEN = sizeof(zone) / sizeof(zone[0]) };

struct question {
	uint16_t id, flags, type, cls;
	char name[NAME_CAP];
	const uint8_t *raw; /* qname..qclass, borrowed from the datagram */
	size_t raw_len;
};

static int put_name(struct ntm_wbuf *w, const char *name)
{
	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);

		if (len == 0 || len > 63 || ntm_wbuf_put_u8(w, (uint8_t)len) < 0 ||
		    ntm_wbuf_put_bytes(w, name, len) < 0) {
			return -EMSGSIZE;
		}
		name += len + (dot ? 1 : 0);
	}
	return ntm_wbuf_put_u8(w, 0);
}

/* Header and the one question (RFC 1035 4.1.1, 4.1.2); no compression in queries. */
static int parse_question(const uint8_t *d, size_t n, struct question *q)
{
	struct ntm_rbuf r;
	uint16_t qdcount;
	size_t off = 0;
	size_t start;
	uint8_t len;

	memset(q, 0, sizeof(*q));
	ntm_rbuf_init(&r, d, n);
	if (ntm_rbuf_get_be16(&r, &q->id) < 0 || ntm_rbuf_get_be16(&r, &q->flags) < 0 ||
	    ntm_rbuf_get_be16(&r, &qdcount) < 0 || ntm_rbuf_skip(&r, 6) < 0 || qdcount != 1) {
		return -EBADMSG;
	}
	start = r.off;
	while (ntm_rbuf_get_u8(&r, &len) == 0 && len != 0) {
		if (len > 63 || off + len + 1 >= sizeof(q->name) ||
		    ntm_rbuf_get_bytes(&r, q->name + off, len) < 0) {
			return -EBADMSG;
		}
		off += len;
		q->name[off++] = '.';
	}
	q->name[off ? off - 1 : 0] = '\0';
	if (ntm_rbuf_get_be16(&r, &q->type) < 0 || ntm_rbuf_get_be16(&r, &q->cls) < 0) {
		return -EBADMSG;
	}
	q->raw = d + start;
	q->raw_len = r.off - start;
	return 0;
}

static int put_rdata(struct ntm_wbuf *w, const struct rr *rr)
{
	uint8_t rdata[NAME_CAP + 6];
	struct ntm_wbuf sub;
	int rc;

	uint8_t a[16];

	ntm_wbuf_init(&sub, rdata, sizeof(rdata));
	if (rr->type == FAKE_T_A || rr->type == FAKE_T_AAAA) {
		int af = rr->type == FAKE_T_A ? AF_INET : AF_INET6;

		if (inet_pton(af, rr->data, a) != 1) {
			return -EINVAL;
		}
		rc = ntm_wbuf_put_bytes(&sub, a, af == AF_INET ? 4 : 16);
	} else {
		rc = ntm_wbuf_put_be16(&sub, rr->priority) ?: ntm_wbuf_put_be16(&sub, rr->weight);
		rc = rc ?: ntm_wbuf_put_be16(&sub, rr->port) ?: put_name(&sub, rr->data);
	}
	return rc ?: ntm_wbuf_put_be16(w, (uint16_t)sub.len) ?: ntm_wbuf_put_bytes(w, rdata, sub.len);
}

static bool rr_matches(const struct rr *rr, const struct question *q)
{
	return strcasecmp(rr->name, q->name) == 0 && rr->type == q->type;
}

/* RFC 1035 4.1: header, the question echoed, answers pointing at its name. */
static int build_answer(const struct question *q, struct ntm_wbuf *w)
{
	uint16_t flags = FLAGS_RESPONSE | (q->flags & FLAG_RD);
	uint16_t an = 0;
	bool known = false;
	int rc;

	for (size_t i = 0; i < ZONE_LEN; i++) {
		known |= strcasecmp(zone[i].name, q->name) == 0;
		an += rr_matches(&zone[i], q);
	}
	flags |= known ? 0 : FAKE_RCODE_NXDOMAIN;
	rc = ntm_wbuf_put_be16(w, q->id) ?: ntm_wbuf_put_be16(w, flags);
	rc = rc ?: ntm_wbuf_put_be16(w, 1) ?: ntm_wbuf_put_be16(w, an);
	rc = rc ?: ntm_wbuf_put_be32(w, 0) ?: ntm_wbuf_put_bytes(w, q->raw, q->raw_len);
	for (size_t i = 0; rc == 0 && i < ZONE_LEN; i++) {
		if (!rr_matches(&zone[i], q)) {
			continue;
		}
		rc = ntm_wbuf_put_be16(w, 0xc000 | HEADER_LEN) ?: ntm_wbuf_put_be16(w, q->type);
		rc = rc ?: ntm_wbuf_put_be16(w, FAKE_C_IN) ?: ntm_wbuf_put_be32(w, FAKE_DNS_TTL);
		rc = rc ?: put_rdata(w, &zone[i]);
	}
	return rc;
}

/* Turns the answer in f->last_resp into what the mode asks for. */
static void apply_mode(struct fake_dns *f, const struct question *q)
{
	struct ntm_wbuf w;

	switch (f->mode) {
	case FAKE_ANSWER:
	case FAKE_SILENT:
		break;
	case FAKE_TRUNCATED:
		f->last_resp_len -= 3;
		break;
	case FAKE_GARBAGE_SHORT:
		memcpy(f->last_resp, "garbage", 7);
		f->last_resp_len = 7;
		break;
	case FAKE_GARBAGE_ID:
		memset(f->last_resp + 2, 0xff, 30);
		f->last_resp_len = 32;
		break;
	case FAKE_SERVFAIL:
		ntm_wbuf_init(&w, f->last_resp, sizeof(f->last_resp));
		if (ntm_wbuf_put_be16(&w, q->id) == 0 &&
		    ntm_wbuf_put_be16(&w, FLAGS_RESPONSE | FAKE_RCODE_SERVFAIL) == 0 &&
		    ntm_wbuf_put_be16(&w, 1) == 0 && ntm_wbuf_put_zero(&w, 6) == 0 &&
		    ntm_wbuf_put_bytes(&w, q->raw, q->raw_len) == 0) {
			f->last_resp_len = w.len;
		}
		break;
	}
}

static void fake_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct fake_dns *f = h->data;

	*buf = uv_buf_init((char *)f->rx, sizeof(f->rx));
}

static void fake_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
		      unsigned flags)
{
	struct fake_dns *f = h->data;
	struct question q;
	struct ntm_wbuf w;
	uv_buf_t out;

	if (nread <= 0 || from == NULL || parse_question(f->rx, (size_t)nread, &q) < 0) {
		return;
	}
	f->queries++;
	f->last_id = q.id;
	if (f->mode == FAKE_SILENT || strstr(q.name, "silent") != NULL) {
		return;
	}
	ntm_wbuf_init(&w, f->last_resp, sizeof(f->last_resp));
	if (build_answer(&q, &w) < 0) {
		fprintf(stderr, "fake_dns: cannot build the answer for %s\n", q.name);
		return;
	}
	f->last_resp_len = w.len;
	apply_mode(f, &q);
	out = uv_buf_init((char *)f->last_resp, (unsigned int)f->last_resp_len);
	if (uv_udp_try_send(h, &out, 1, from) != (int)f->last_resp_len) {
		fprintf(stderr, "fake_dns: send failed\n");
	}
}

static int format_server(struct fake_dns *f, const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		uv_ip4_name(in, ip, sizeof(ip));
		snprintf(f->server, sizeof(f->server), "%s:%u", ip, ntohs(in->sin_port));
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

		uv_ip6_name(in6, ip, sizeof(ip));
		snprintf(f->server, sizeof(f->server), "[%s]:%u", ip, ntohs(in6->sin6_port));
	}
	return 0;
}

int fake_dns_start(uv_loop_t *loop, struct fake_dns *f, int family)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	int rc;

	memset(f, 0, sizeof(*f));
	rc = uv_udp_init(loop, &f->udp);
	if (rc < 0) {
		return rc;
	}
	f->udp.data = f;
	if (family == AF_INET) {
		rc = uv_ip4_addr("127.0.0.1", 0, (struct sockaddr_in *)&ss);
	} else {
		rc = uv_ip6_addr("::1", 0, (struct sockaddr_in6 *)&ss);
	}
	rc = rc ?: uv_udp_bind(&f->udp, (struct sockaddr *)&ss, 0);
	rc = rc ?: uv_udp_getsockname(&f->udp, (struct sockaddr *)&ss, &len);
	rc = rc ?: format_server(f, &ss);
	return rc ?: uv_udp_recv_start(&f->udp, fake_alloc, fake_recv);
}

size_t fake_dns_build_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t type)
{
	struct ntm_wbuf w;
	int rc;

	ntm_wbuf_init(&w, buf, cap);
	rc = ntm_wbuf_put_be16(&w, id) ?: ntm_wbuf_put_be16(&w, FLAG_RD);
	rc = rc ?: ntm_wbuf_put_be16(&w, 1) ?: ntm_wbuf_put_zero(&w, 6);
	rc = rc ?: put_name(&w, name) ?: ntm_wbuf_put_be16(&w, type);
	rc = rc ?: ntm_wbuf_put_be16(&w, FAKE_C_IN);
	return rc == 0 ? w.len : 0;
}

uint16_t fake_dns_msg_id(const uint8_t *msg, size_t len)
{
	struct ntm_rbuf r;
	uint16_t id;

	ntm_rbuf_init(&r, msg, len);
	return ntm_rbuf_get_be16(&r, &id) == 0 ? id : 0xffff;
}

unsigned int fake_dns_msg_rcode(const uint8_t *msg, size_t len)
{
	struct ntm_rbuf r;
	uint16_t flags;

	ntm_rbuf_init(&r, msg, len);
	if (ntm_rbuf_skip(&r, 2) < 0 || ntm_rbuf_get_be16(&r, &flags) < 0) {
		return 0xff;
	}
	return flags & 0x0f;
}
