/* SPDX-License-Identifier: MIT */
/*
 * Receive-side coalescing (endnode/gro.c): sequences of TCP segments go in,
 * the packets written come out. Every super-packet is checked field by field
 * (virtio-net header, lengths, checksums) and then cut back with
 * en_gso_split(), which must give the original segments byte for byte, in
 * their order within each flow.
 */
#include "endnode/gro.h"

#include <netinet/in.h>
#include <string.h>

#include "ntm_test.h"

enum {
	SEGS_MAX = 160,
	PKT_CAP = 2048,
	OUT_MAX = 160,
	FLAT_CAP = 65536 + 128,
	IP4 = 20,
	IP6 = 40,
	ACK = 0x10,
	PSH = 0x08,
	FIN = 0x01,
	SYN = 0x02,
	RST = 0x04,
};

/* How one test segment is built; zero values give a plain in-order data segment. */
struct spec {
	bool v6;
	int flow;	  /* 0, 1, ...: the source port differs */
	uint32_t seq;	  /* offset from the base sequence number */
	uint16_t id;	  /* offset from the base IPv4 id */
	size_t payload;	  /* bytes */
	uint8_t flags;	  /* 0: ACK */
	int opts;	  /* 0: timestamp, 1: none, 2: MSS+SACK-permitted+NOPs (12 bytes) */
	uint32_t tsval;	  /* timestamp value */
	uint8_t ttl;	  /* 0: 64 */
	uint32_t ack;	  /* offset from the base acknowledgement number */
	uint16_t win;	  /* offset from the base window */
	uint8_t tos;	  /* IPv4 TOS */
	uint8_t proto;	  /* 0: TCP */
	bool bad_csum;	  /* TCP checksum off by one */
	bool bad_ip_csum; /* IPv4 header checksum off by one */
	bool more_frags;  /* IPv4 MF set */
};

struct seg {
	uint8_t pkt[PKT_CAP];
	size_t len;
};

/* One packet written by the coalescer, flattened. */
struct out {
	void *owner;
	struct en_gso g;
	size_t iovcnt;
	size_t len;
	uint8_t *bytes; /* in the shared flat buffer */
};

struct world {
	struct en_gro *gro;
	size_t n_in;
	struct seg in[SEGS_MAX];
	size_t n_out;
	struct out out[OUT_MAX];
	size_t flat_used;
	uint8_t flat[OUT_MAX * 4096 + FLAT_CAP];
	/* Segments obtained back by splitting the written packets, in write order. */
	size_t n_back;
	struct seg back[SEGS_MAX];
};

static struct world W;

static int owner_a, owner_b;

/* ---------------------------------------------------------------- building packets */

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

/* A plain big-endian RFC 1071 sum, independent of the module's. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2) {
		sum += be16(p + i);
	}
	if (len % 2 == 1) {
		sum += (uint32_t)p[len - 1] << 8;
	}
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16) {
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)sum;
}

static uint32_t pseudo(const uint8_t *pkt, bool v6, size_t l4)
{
	uint32_t sum = v6 ? sum16(0, pkt + 8, 32) : sum16(0, pkt + 12, 8);

	return sum + IPPROTO_TCP + (uint32_t)(l4 & 0xffff) + (uint32_t)(l4 >> 16);
}

static size_t build_tcp_header(uint8_t *th, const struct spec *s)
{
	static const uint8_t other[12] = { 2, 4, 5, 0xb4, 1, 1, 4, 2, 1, 1, 1, 1 };
	size_t tcp = s->opts == 1 ? 20 : 32;

	put16(th, 40000 + (uint32_t)s->flow);
	put16(th + 2, 5201);
	put32(th + 4, 0xfffff000u + s->seq); /* wraps within the longer tests */
	put32(th + 8, 0x10000000u + s->ack);
	th[12] = (uint8_t)((tcp / 4) << 4);
	th[13] = s->flags != 0 ? s->flags : ACK;
	put16(th + 14, 1024u + s->win);
	if (s->opts == 0) {
		memcpy(th + 20, "\x01\x01\x08\x0a", 4);
		put32(th + 24, 1000 + s->tsval);
		put32(th + 28, 77);
	} else if (s->opts == 2) {
		memcpy(th + 20, other, sizeof(other));
	}
	return tcp;
}

static void build_ip_header(uint8_t *p, const struct spec *s, size_t len)
{
	uint8_t proto = s->proto != 0 ? s->proto : IPPROTO_TCP;

	if (s->v6) {
		p[0] = 0x60;
		p[1] = 0x0a; /* traffic class and flow label bits too */
		p[3] = 0x42;
		put16(p + 4, (uint32_t)(len - IP6));
		p[6] = proto;
		p[7] = s->ttl != 0 ? s->ttl : 64;
		p[8] = 0xfd;
		p[23] = 1;
		p[24] = 0xfd;
		p[39] = 2;
		return;
	}
	p[0] = 0x45;
	p[1] = s->tos;
	put16(p + 2, (uint32_t)len);
	put16(p + 4, (0xfff0u + s->id) & 0xffff); /* wraps too */
	p[6] = s->more_frags ? 0x60 : 0x40;
	p[8] = s->ttl != 0 ? s->ttl : 64;
	p[9] = proto;
	memcpy(p + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	put16(p + 10, (uint16_t)~fold(sum16(0, p, IP4)) + (s->bad_ip_csum ? 1u : 0u));
}

/* Appends one segment to W.in and returns it. */
static const struct seg *add_seg(const struct spec *s)
{
	struct seg *g = &W.in[W.n_in++];
	size_t ip = s->v6 ? IP6 : IP4;
	size_t tcp = build_tcp_header(g->pkt + ip, s);
	uint8_t *th = g->pkt + ip;

	g->len = ip + tcp + s->payload;
	for (size_t i = 0; i < s->payload; i++) {
		g->pkt[ip + tcp + i] = (uint8_t)((s->seq + i) * 13 + 5);
	}
	build_ip_header(g->pkt, s, g->len);
	put16(th + 16, (uint16_t)~fold(sum16(pseudo(g->pkt, s->v6, g->len - ip), th, g->len - ip)) +
			       (s->bad_csum ? 1u : 0u));
	return g;
}

/* ---------------------------------------------------------------- capturing and checking */

static void on_write(void *arg, void *owner, const struct en_gso *g, const struct iovec *iov,
		     size_t iovcnt)
{
	struct world *w = arg;
	struct out *o = &w->out[w->n_out];

	CU_ASSERT_FATAL(w->n_out < OUT_MAX);
	CU_ASSERT(iovcnt >= 1 && iovcnt <= EN_GRO_IOV_MAX);
	*o = (struct out){ .owner = owner, .g = *g, .iovcnt = iovcnt };
	o->bytes = w->flat + w->flat_used;
	for (size_t i = 0; i < iovcnt; i++) {
		CU_ASSERT_FATAL(w->flat_used + o->len + iov[i].iov_len <= sizeof(w->flat));
		memcpy(o->bytes + o->len, iov[i].iov_base, iov[i].iov_len);
		o->len += iov[i].iov_len;
	}
	w->flat_used += o->len;
	w->n_out++;
}

static void on_back(void *arg, uint8_t *seg, size_t len)
{
	struct world *w = arg;

	CU_ASSERT_FATAL(w->n_back < SEGS_MAX && len <= PKT_CAP);
	memcpy(w->back[w->n_back].pkt, seg, len);
	w->back[w->n_back].len = len;
	w->n_back++;
}

static void setup(void)
{
	en_gro_destroy(W.gro);
	memset(&W, 0, sizeof(W));
	CU_ASSERT_FATAL(en_gro_create(on_write, &W, &W.gro) == 0);
}

static void teardown(void)
{
	en_gro_destroy(W.gro);
	W.gro = NULL;
}

/* Feeds W.in[from..W.n_in) to the coalescer, all from `owner`. */
static void feed(size_t from, void *owner)
{
	for (size_t i = from; i < W.n_in; i++) {
		en_gro_add(W.gro, owner, W.in[i].pkt, W.in[i].len);
	}
}

/* The headers of a super-packet, as gro.h promises them. */
static void check_super(const struct out *o)
{
	bool v6 = o->g.type == EN_GSO_TCP6;
	size_t ip = v6 ? IP6 : IP4;
	const uint8_t *th = o->bytes + ip;
	size_t tcp = (size_t)(th[12] >> 4) * 4;

	CU_ASSERT(o->g.type == EN_GSO_TCP4 || o->g.type == EN_GSO_TCP6);
	CU_ASSERT(o->g.needs_csum);
	CU_ASSERT_EQUAL(o->g.csum_start, ip);
	CU_ASSERT_EQUAL(o->g.csum_offset, 16);
	CU_ASSERT_EQUAL(o->g.hdr_len, ip + tcp);
	CU_ASSERT(o->g.gso_size > 0 && o->len > ip + tcp + o->g.gso_size);
	CU_ASSERT(o->len <= 65535);
	CU_ASSERT_EQUAL(o->iovcnt, 1 + (o->len - ip - tcp + o->g.gso_size - 1) / o->g.gso_size);
	if (v6) {
		CU_ASSERT_EQUAL(be16(o->bytes + 4), o->len - IP6);
	} else {
		CU_ASSERT_EQUAL(be16(o->bytes + 2), o->len);
		CU_ASSERT_EQUAL(fold(sum16(0, o->bytes, IP4)), 0xffff);
	}
	/* NEEDS_CSUM: the field holds the folded pseudo-header sum, not inverted. */
	CU_ASSERT_EQUAL(be16(th + 16), fold(pseudo(o->bytes, v6, o->len - ip)));
}

/* Splits every written packet back into W.back (as-is packets are copied). */
static void split_all(void)
{
	static uint8_t scratch[FLAT_CAP];

	W.n_back = 0;
	for (size_t i = 0; i < W.n_out; i++) {
		struct out *o = &W.out[i];

		if (o->g.type == EN_GSO_NONE) {
			CU_ASSERT(!o->g.needs_csum);
			CU_ASSERT_EQUAL(o->iovcnt, 1);
			on_back(&W, o->bytes, o->len);
			continue;
		}
		check_super(o);
		memcpy(scratch, o->bytes, o->len);
		CU_ASSERT_EQUAL(en_gso_split(scratch, o->len, &o->g, on_back, &W), 0);
	}
}

/*
 * The writes hold `groups` segments each (n_groups writes), and cutting them
 * back gives W.in[order[0]], W.in[order[1]]... byte for byte.
 */
static void expect(const size_t *groups, size_t n_groups, const size_t *order)
{
	size_t total = 0;

	en_gro_flush(W.gro);
	CU_ASSERT_EQUAL_FATAL(W.n_out, n_groups);
	for (size_t i = 0; i < n_groups; i++) {
		CU_ASSERT_EQUAL(W.out[i].g.type == EN_GSO_NONE ? 1 : W.out[i].iovcnt - 1,
				groups[i]);
		total += groups[i];
	}
	split_all();
	CU_ASSERT_EQUAL_FATAL(W.n_back, total);
	CU_ASSERT_EQUAL_FATAL(total, W.n_in);
	for (size_t i = 0; i < total; i++) {
		const struct seg *want = &W.in[order != NULL ? order[i] : i];

		CU_ASSERT_EQUAL(W.back[i].len, want->len);
		CU_ASSERT(W.back[i].len == want->len &&
			  memcmp(W.back[i].pkt, want->pkt, want->len) == 0);
	}
}

#define GROUPS(...)	   ((const size_t[]){ __VA_ARGS__ })
#define N_GROUPS(...)	   (sizeof(GROUPS(__VA_ARGS__)) / sizeof(size_t))
#define EXPECT(order, ...) expect(GROUPS(__VA_ARGS__), N_GROUPS(__VA_ARGS__), order)

/* `n` segments of `payload` bytes of one flow, in order, from W.in[W.n_in] on. */
static void add_run(const struct spec *base, size_t n, size_t payload)
{
	for (size_t i = 0; i < n; i++) {
		struct spec s = *base;

		s.seq = base->seq + (uint32_t)(i * payload);
		s.id = (uint16_t)(base->id + i);
		s.payload = payload;
		add_seg(&s);
	}
}

/* ---------------------------------------------------------------- tests */

static void test_in_order_v4(void)
{
	struct spec s = { 0 };

	setup();
	add_run(&s, 4, 1000);
	s = (struct spec){ .seq = 4000, .id = 4, .payload = 300, .flags = ACK | PSH };
	add_seg(&s);
	feed(0, &owner_a);
	EXPECT(NULL, 5);
	CU_ASSERT_EQUAL(W.out[0].g.type, EN_GSO_TCP4);
	CU_ASSERT_EQUAL(W.out[0].g.gso_size, 1000);
	CU_ASSERT_EQUAL(W.out[0].len, IP4 + 32 + 4300);
	CU_ASSERT(W.out[0].owner == &owner_a);
	CU_ASSERT_EQUAL(W.out[0].bytes[IP4 + 13], ACK | PSH);
	teardown();
}

static void test_in_order_v6(void)
{
	struct spec s = { .v6 = true, .opts = 1 };

	setup();
	add_run(&s, 3, 1220);
	feed(0, &owner_a);
	EXPECT(NULL, 3);
	CU_ASSERT_EQUAL(W.out[0].g.type, EN_GSO_TCP6);
	CU_ASSERT_EQUAL(W.out[0].g.hdr_len, IP6 + 20);
	teardown();
}

/* A lone segment and a pure ACK go out as they came, without GSO. */
static void test_single(void)
{
	struct spec s = { .payload = 100 };

	setup();
	add_seg(&s);
	s = (struct spec){ .flow = 1 };
	add_seg(&s);
	feed(0, &owner_a);
	EXPECT(NULL, 1, 1);
	CU_ASSERT_EQUAL(W.out[0].g.type, EN_GSO_NONE);
	CU_ASSERT_EQUAL(W.out[1].g.type, EN_GSO_NONE);
	teardown();
}

static void test_out_of_order(void)
{
	const struct spec s[] = {
		{ .seq = 0, .id = 0, .payload = 1000 },
		{ .seq = 2000, .id = 2, .payload = 1000 },
		{ .seq = 1000, .id = 1, .payload = 1000 },
		{ .seq = 3000, .id = 3, .payload = 1000 },
	};

	setup();
	for (size_t i = 0; i < 4; i++) {
		add_seg(&s[i]);
	}
	feed(0, &owner_a);
	/* 3000 follows 2000, but 1000 came between: nothing joins across it. */
	EXPECT(NULL, 1, 1, 1, 1);
	teardown();
}

/* Interleaved flows join separately; each comes out where its first segment was. */
static void test_mixed_flows(void)
{
	const struct spec s[] = {
		{ .flow = 0, .seq = 0, .id = 0, .payload = 800 },
		{ .flow = 1, .seq = 0, .id = 0, .payload = 900 },
		{ .flow = 0, .seq = 800, .id = 1, .payload = 800 },
		{ .flow = 1, .seq = 900, .id = 1, .payload = 900 },
		{ .flow = 0, .seq = 1600, .id = 2, .payload = 800 },
		{ .v6 = true, .flow = 0, .seq = 0, .payload = 700 },
		{ .v6 = true, .flow = 0, .seq = 700, .payload = 700 },
	};

	setup();
	for (size_t i = 0; i < 7; i++) {
		add_seg(&s[i]);
	}
	feed(0, &owner_a);
	EXPECT(((const size_t[]){ 0, 2, 4, 1, 3, 5, 6 }), 3, 2, 2);
	teardown();
}

/* The same flow from two peers never joins. */
static void test_owners(void)
{
	struct spec s = { 0 };

	setup();
	add_run(&s, 2, 1000);
	en_gro_add(W.gro, &owner_a, W.in[0].pkt, W.in[0].len);
	en_gro_add(W.gro, &owner_b, W.in[1].pkt, W.in[1].len);
	EXPECT(NULL, 1, 1);
	CU_ASSERT(W.out[0].owner == &owner_a && W.out[1].owner == &owner_b);
	teardown();
}

/* A smaller segment ends a packet; a larger one cannot follow a smaller first one. */
static void test_sizes(void)
{
	const struct spec s[] = {
		{ .seq = 0, .id = 0, .payload = 1000 },
		{ .seq = 1000, .id = 1, .payload = 1000 },
		{ .seq = 2000, .id = 2, .payload = 500 },
		{ .seq = 2500, .id = 3, .payload = 100 },
		{ .seq = 2600, .id = 4, .payload = 1000 },
		{ .seq = 3600, .id = 5, .payload = 1000 },
		{ .seq = 4600, .id = 6, .payload = 1000 },
	};

	setup();
	for (size_t i = 0; i < 7; i++) {
		add_seg(&s[i]);
	}
	feed(0, &owner_a);
	EXPECT(NULL, 3, 1, 3);
	teardown();
}

/* FIN, RST, SYN go alone; PSH ends a packet; nothing joins across any of them. */
static void test_flags(void)
{
	const uint8_t stop[] = { ACK | FIN, RST, ACK | RST, ACK | SYN, ACK | 0x80, ACK | 0x20 };

	for (size_t f = 0; f < sizeof(stop); f++) {
		struct spec s = { 0 };

		setup();
		add_run(&s, 2, 1000);
		s = (struct spec){ .seq = 2000, .id = 2, .payload = 1000, .flags = stop[f] };
		add_seg(&s);
		s = (struct spec){ .seq = 3000, .id = 3 };
		add_run(&s, 2, 1000);
		feed(0, &owner_a);
		EXPECT(NULL, 2, 1, 2);
		teardown();
	}
	setup();
	{
		struct spec s = { 0 };

		add_run(&s, 2, 1000);
		s = (struct spec){ .seq = 2000, .id = 2, .payload = 1000, .flags = ACK | PSH };
		add_seg(&s);
		s = (struct spec){ .seq = 3000, .id = 3 };
		add_run(&s, 2, 1000);
		feed(0, &owner_a);
		EXPECT(NULL, 3, 2);
	}
	teardown();
}

/* Header fields that must match, changed one at a time on the third segment. */
static void test_mismatch(void)
{
	struct spec diff[] = {
		{ .tsval = 1 }, { .opts = 1 }, { .opts = 2 }, { .ttl = 63 }, { .ack = 1 },
		{ .id = 7 },	{ .seq = 1 },  { .win = 1 },  { .tos = 2 },
	};

	for (size_t d = 0; d < sizeof(diff) / sizeof(diff[0]); d++) {
		struct spec s = { 0 };

		setup();
		add_run(&s, 2, 1000);
		s = diff[d];
		s.seq += 2000;
		s.id = (uint16_t)(s.id + 2);
		s.payload = 1000;
		add_seg(&s);
		feed(0, &owner_a);
		EXPECT(NULL, 2, 1);
		teardown();
	}
}

/* Other options than a timestamp are never joined, even when identical. */
static void test_other_options(void)
{
	struct spec s = { .opts = 2 };

	setup();
	add_run(&s, 3, 1000);
	feed(0, &owner_a);
	EXPECT(NULL, 1, 1, 1);
	teardown();
}

/* A bad checksum must reach the kernel unchanged (to be dropped there). */
static void test_bad_checksums(void)
{
	const struct spec s[] = {
		{ .seq = 0, .id = 0, .payload = 1000 },
		{ .seq = 1000, .id = 1, .payload = 1000, .bad_csum = true },
		{ .seq = 2000, .id = 2, .payload = 1000 },
		{ .seq = 3000, .id = 3, .payload = 1000, .bad_ip_csum = true },
		{ .seq = 4000, .id = 4, .payload = 1000 },
		{ .seq = 5000, .id = 5, .payload = 1000 },
	};

	setup();
	for (size_t i = 0; i < 6; i++) {
		add_seg(&s[i]);
	}
	feed(0, &owner_a);
	/* Cut back, the bad ones would be "repaired": compare them as written instead. */
	en_gro_flush(W.gro);
	CU_ASSERT_EQUAL_FATAL(W.n_out, 5);
	CU_ASSERT(W.out[1].len == W.in[1].len &&
		  memcmp(W.out[1].bytes, W.in[1].pkt, W.in[1].len) == 0);
	CU_ASSERT(W.out[3].len == W.in[3].len &&
		  memcmp(W.out[3].bytes, W.in[3].pkt, W.in[3].len) == 0);
	CU_ASSERT_EQUAL(W.out[4].iovcnt, 3); /* the last two joined */
	teardown();
}

/* UDP between the segments of a flow does not stop it; a TCP fragment does. */
static void test_other_packets(void)
{
	const struct spec s[] = {
		{ .seq = 0, .id = 0, .payload = 1000 },
		{ .flow = 3, .proto = IPPROTO_UDP, .opts = 1, .payload = 50 },
		{ .seq = 1000, .id = 1, .payload = 1000 },
		{ .flow = 3, .more_frags = true, .payload = 64 },
		{ .seq = 2000, .id = 2, .payload = 1000 },
	};

	setup();
	for (size_t i = 0; i < 5; i++) {
		add_seg(&s[i]);
	}
	feed(0, &owner_a);
	EXPECT(((const size_t[]){ 0, 2, 1, 3, 4 }), 2, 1, 1, 1);
	teardown();
}

/* 64 KiB at most: 1452-byte packets, 45 more payloads fit behind the first. */
static void test_size_bound(void)
{
	struct spec s = { 0 };

	setup();
	add_run(&s, 50, 1400);
	feed(0, &owner_a);
	EXPECT(NULL, 46, 4);
	teardown();
}

/* EN_GRO_SEGS_MAX segments at most, EN_GRO_ITEMS_MAX held packets at most. */
static void test_count_bounds(void)
{
	struct spec s = { .opts = 1 };

	setup();
	add_run(&s, EN_GRO_SEGS_MAX + 6, 100);
	feed(0, &owner_a);
	EXPECT(NULL, EN_GRO_SEGS_MAX, 6);
	teardown();

	setup();
	for (int f = 0; f < EN_GRO_ITEMS_MAX + 3; f++) {
		s = (struct spec){ .flow = f, .payload = 10 };
		add_seg(&s);
	}
	feed(0, &owner_a);
	CU_ASSERT_EQUAL(W.n_out, EN_GRO_ITEMS_MAX); /* flushed early, in order */
	en_gro_flush(W.gro);
	CU_ASSERT_EQUAL(W.n_out, EN_GRO_ITEMS_MAX + 3);
	split_all();
	CU_ASSERT_EQUAL_FATAL(W.n_back, W.n_in);
	for (size_t i = 0; i < W.n_in; i++) {
		CU_ASSERT(memcmp(W.back[i].pkt, W.in[i].pkt, W.in[i].len) == 0);
	}
	teardown();
}

/* Flushing twice writes nothing twice; the coalescer is reusable. */
static void test_flush_reuse(void)
{
	struct spec s = { .v6 = true };

	setup();
	add_run(&s, 2, 600);
	feed(0, &owner_a);
	en_gro_flush(W.gro);
	en_gro_flush(W.gro);
	CU_ASSERT_EQUAL(W.n_out, 1);
	W.n_out = 0;
	W.flat_used = 0;
	feed(0, &owner_a);
	EXPECT(NULL, 2);
	teardown();
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_in_order_v4),   NTM_TEST(test_in_order_v6),   NTM_TEST(test_single),
	NTM_TEST(test_out_of_order),  NTM_TEST(test_mixed_flows),   NTM_TEST(test_owners),
	NTM_TEST(test_sizes),	      NTM_TEST(test_flags),	    NTM_TEST(test_mismatch),
	NTM_TEST(test_other_options), NTM_TEST(test_bad_checksums), NTM_TEST(test_other_packets),
	NTM_TEST(test_size_bound),    NTM_TEST(test_count_bounds),  NTM_TEST(test_flush_reuse),
};

NTM_TEST_MAIN("gro", cases)
