/* SPDX-License-Identifier: MIT */
#include "gro.h"

#include <netinet/in.h>
#include <string.h>

#include "common/alloc.h"
#include "endnode/csum.h"

enum {
	IP4_HEADER = 20, /* without options: the only IPv4 header joined */
	IP6_HEADER = 40,
	TCP_HEADER = 20,
	TCP_HEADER_TS = 32, /* NOP, NOP, timestamp (RFC 7323 appendix A) */
	TCP_PSH = 0x08,
	TCP_ACK = 0x10,
	IP4_MF_OFFSET = 0x3fff, /* more-fragments flag and fragment offset */
	GRO_MAX_LEN = 65535,
	TCP_CSUM_OFFSET = 16,
};

/* One received packet as far as coalescing is concerned. */
struct seg {
	const uint8_t *pkt; /* borrowed */
	size_t len;
	bool v6;
	bool keyed;	/* TCP with addresses and ports readable: it belongs to a flow */
	bool barrier;	/* might be TCP, flow unknown: nothing joins across it */
	bool joinable;	/* passes every per-packet check (gro.h) */
	size_t ip_len;	/* IP header bytes */
	size_t hdr_len; /* IP and TCP header bytes */
	size_t payload;
	uint32_t seq;
	uint16_t id; /* IPv4 identification */
	uint8_t flags;
};

/* A packet to write: one segment as it came, or several joined. */
struct item {
	void *owner;
	struct seg head; /* the first segment */
	bool open;	 /* the next segment of the flow may still join */
	bool psh;	 /* the last segment joined had PSH */
	uint16_t gso_size;
	uint32_t next_seq;
	uint16_t next_id;
	size_t len;  /* bytes in all */
	size_t nseg; /* segments joined; iov[1..nseg] hold their payloads */
	uint8_t hdr[EN_GSO_HEADERS_MAX];
	struct iovec iov[EN_GRO_IOV_MAX];
};

struct en_gro {
	en_gro_write_cb cb;
	void *arg;
	size_t n; /* items held */
	struct item items[EN_GRO_ITEMS_MAX];
};

/* ---------------------------------------------------------------- fields */

/* ---------------------------------------------------------------- parsing */

/*
 * The IP header (RFC 791 3.1, RFC 8200 3): sets ip_len, or returns false
 * when the packet carries no TCP; marks a barrier when it might carry TCP
 * that cannot be told apart (IPv4 options or fragments, IPv6 extensions).
 */
static bool parse_ip(struct seg *s)
{
	const uint8_t *p = s->pkt;

	if (s->len >= IP4_HEADER && p[0] >> 4 == 4) {
		if (p[9] != IPPROTO_TCP) {
			return false;
		}
		s->barrier = p[0] != 0x45 || (en_csum_get_field(p + 6, 2) & IP4_MF_OFFSET) != 0 ||
			     en_csum_get_field(p + 2, 2) != s->len;
		s->ip_len = IP4_HEADER;
		s->id = (uint16_t)en_csum_get_field(p + 4, 2);
		return !s->barrier;
	}
	if (s->len >= IP6_HEADER && p[0] >> 4 == 6) {
		s->v6 = true;
		if (p[6] == IPPROTO_UDP || p[6] == IPPROTO_ICMPV6) {
			return false;
		}
		s->barrier = p[6] != IPPROTO_TCP || en_csum_get_field(p + 4, 2) + IP6_HEADER != s->len;
		s->ip_len = IP6_HEADER;
		return !s->barrier;
	}
	s->barrier = true; /* not IP: cannot happen behind en_ip_parse */
	return false;
}

static bool has_joinable_options(const uint8_t *th, size_t tcp_len)
{
	static const uint8_t ts_prefix[4] = { 1, 1, 8, 10 };

	return tcp_len == TCP_HEADER ||
	       (tcp_len == TCP_HEADER_TS && memcmp(th + TCP_HEADER, ts_prefix, 4) == 0);
}

/* Every check that one segment passes or fails on its own (gro.h). */
static bool is_joinable(const struct seg *s)
{
	const uint8_t *th = s->pkt + s->ip_len;
	size_t l4_len = s->len - s->ip_len;

	if ((s->flags & ~TCP_PSH) != TCP_ACK || s->payload == 0 ||
	    !has_joinable_options(th, s->hdr_len - s->ip_len)) {
		return false;
	}
	if (!s->v6 && !en_csum_is_valid(en_csum_add(0, s->pkt, IP4_HEADER))) {
		return false;
	}
	return en_csum_is_valid(en_csum_add(en_csum_pseudo_tcp(s->pkt, s->v6, l4_len), th, l4_len));
}

static void parse_seg(struct seg *s, const uint8_t *pkt, size_t len)
{
	size_t tcp_len;

	memset(s, 0, sizeof(*s));
	s->pkt = pkt;
	s->len = len;
	if (!parse_ip(s)) {
		return;
	}
	if (s->len < s->ip_len + TCP_HEADER) {
		s->barrier = true;
		return;
	}
	tcp_len = (size_t)(pkt[s->ip_len + 12] >> 4) * 4;
	if (tcp_len < TCP_HEADER || s->ip_len + tcp_len > len) {
		s->barrier = true;
		return;
	}
	s->keyed = true;
	s->hdr_len = s->ip_len + tcp_len;
	s->payload = len - s->hdr_len;
	s->seq = en_csum_get_field(pkt + s->ip_len + 4, 4);
	s->flags = pkt[s->ip_len + 13];
	s->joinable = is_joinable(s);
}

/* ---------------------------------------------------------------- joining */

static bool is_same_flow(const struct item *it, void *owner, const struct seg *s)
{
	const uint8_t *a = it->head.pkt, *b = s->pkt;
	size_t addr_off = s->v6 ? 8 : 12, addr_len = s->v6 ? 32 : 8;

	return it->owner == owner && it->head.keyed && it->head.v6 == s->v6 &&
	       memcmp(a + addr_off, b + addr_off, addr_len) == 0 &&
	       memcmp(a + it->head.ip_len, b + s->ip_len, 4) == 0;
}

/* The latest packet of the flow of `s`, or NULL (none, or a barrier after it). */
static struct item *find_flow(struct en_gro *gro, void *owner, const struct seg *s)
{
	for (size_t i = gro->n; i-- > 0;) {
		struct item *it = &gro->items[i];

		if (it->head.barrier) {
			return NULL;
		}
		if (is_same_flow(it, owner, s)) {
			return it;
		}
	}
	return NULL;
}

/* Whether the headers of `s` are those en_gso_split would make for the next segment of `it`. */
static bool headers_match(const struct item *it, const struct seg *s)
{
	const uint8_t *a = it->head.pkt, *b = s->pkt;
	const uint8_t *ta = a + it->head.ip_len, *tb = b + s->ip_len;

	if (s->v6) {
		/* Version, traffic class, flow label; next header, hop limit. */
		if (memcmp(a, b, 4) != 0 || memcmp(a + 6, b + 6, 2) != 0) {
			return false;
		}
	} else if (memcmp(a, b, 2) != 0 || memcmp(a + 6, b + 6, 4) != 0 || s->id != it->next_id) {
		return false; /* version/IHL, TOS; DF and offset, TTL, protocol; id */
	}
	/* Acknowledgement number and data offset; window; urgent pointer; options. */
	return s->seq == it->next_seq && s->hdr_len == it->head.hdr_len &&
	       memcmp(ta + 8, tb + 8, 5) == 0 && memcmp(ta + 14, tb + 14, 2) == 0 &&
	       memcmp(ta + 18, tb + 18, s->hdr_len - s->ip_len - 18) == 0;
}

static bool can_join(const struct item *it, const struct seg *s)
{
	return it->open && s->joinable && it->nseg < EN_GRO_SEGS_MAX &&
	       s->payload <= it->gso_size && it->len + s->payload <= GRO_MAX_LEN &&
	       headers_match(it, s);
}

static void join(struct item *it, const struct seg *s)
{
	it->nseg++;
	it->iov[it->nseg] =
		(struct iovec){ .iov_base = (void *)(s->pkt + s->hdr_len), .iov_len = s->payload };
	it->len += s->payload;
	it->next_seq += (uint32_t)s->payload;
	it->next_id++;
	it->psh = (s->flags & TCP_PSH) != 0;
	it->open = !it->psh && s->payload == it->gso_size;
}

static void start_item(struct item *it, void *owner, const struct seg *s)
{
	it->owner = owner;
	it->head = *s;
	it->len = s->len;
	it->nseg = 1;
	it->psh = (s->flags & TCP_PSH) != 0;
	it->open = s->joinable && !it->psh && s->payload <= UINT16_MAX;
	if (it->open) {
		it->gso_size = (uint16_t)s->payload;
		it->next_seq = s->seq + (uint32_t)s->payload;
		it->next_id = (uint16_t)(s->id + 1);
		it->iov[1] = (struct iovec){ .iov_base = (void *)(s->pkt + s->hdr_len),
					     .iov_len = s->payload };
	}
}

void en_gro_add(struct en_gro *gro, void *owner, const uint8_t *pkt, size_t len)
{
	struct item *it = NULL;
	struct seg s;

	parse_seg(&s, pkt, len);
	if (s.keyed) {
		it = find_flow(gro, owner, &s);
	}
	if (it != NULL && can_join(it, &s)) {
		join(it, &s);
		return;
	}
	if (gro->n == EN_GRO_ITEMS_MAX) {
		en_gro_flush(gro);
	}
	start_item(&gro->items[gro->n++], owner, &s);
}

/* ---------------------------------------------------------------- writing */

/*
 * The headers of the super-packet: lengths and IPv4 checksum for the whole,
 * PSH when the last segment had it, and the TCP checksum field holding the
 * pseudo-header sum that NEEDS_CSUM asks for (virtio 1.x 5.1.6.2).
 */
static void write_joined(struct en_gro *gro, struct item *it)
{
	const struct seg *h = &it->head;
	uint8_t *th = it->hdr + h->ip_len;
	uint16_t partial;
	struct en_gso g = { .type = h->v6 ? EN_GSO_TCP6 : EN_GSO_TCP4,
			    .needs_csum = true,
			    .csum_start = (uint16_t)h->ip_len,
			    .csum_offset = TCP_CSUM_OFFSET,
			    .gso_size = it->gso_size,
			    .hdr_len = (uint16_t)h->hdr_len };

	memcpy(it->hdr, h->pkt, h->hdr_len);
	if (h->v6) {
		en_csum_put_field(it->hdr + 4, 2, (uint32_t)it->len - IP6_HEADER);
	} else {
		en_csum_put_field(it->hdr + 2, 2, (uint32_t)it->len);
		memset(it->hdr + 10, 0, 2);
		en_csum_store(it->hdr + 10, en_csum_add(0, it->hdr, IP4_HEADER));
	}
	if (it->psh) {
		th[13] |= TCP_PSH;
	}
	partial = en_csum_fold(en_csum_pseudo_tcp(it->hdr, h->v6, it->len - h->ip_len));
	memcpy(th + TCP_CSUM_OFFSET, &partial, 2);
	it->iov[0] = (struct iovec){ .iov_base = it->hdr, .iov_len = h->hdr_len };
	gro->cb(gro->arg, it->owner, &g, it->iov, it->nseg + 1);
}

void en_gro_flush(struct en_gro *gro)
{
	static const struct en_gso as_is = { .type = EN_GSO_NONE };

	for (size_t i = 0; i < gro->n; i++) {
		struct item *it = &gro->items[i];
		struct iovec one = { .iov_base = (void *)it->head.pkt, .iov_len = it->head.len };

		if (it->nseg > 1) {
			write_joined(gro, it);
		} else {
			gro->cb(gro->arg, it->owner, &as_is, &one, 1);
		}
	}
	gro->n = 0;
}

int en_gro_create(en_gro_write_cb cb, void *arg, struct en_gro **out)
{
	struct en_gro *gro;

	*out = NULL;
	gro = ntm_calloc(1, sizeof(*gro));
	if (gro == NULL) {
		return -ENOMEM;
	}
	gro->cb = cb;
	gro->arg = arg;
	*out = gro;
	return 0;
}

void en_gro_destroy(struct en_gro *gro)
{
	ntm_free(gro);
}
