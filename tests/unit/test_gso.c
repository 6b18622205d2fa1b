/* SPDX-License-Identifier: MIT */
#include "endnode/gso.h"

#include <netinet/in.h>
#include <string.h>

#include "ntm_test.h"

enum {
	SEGS_MAX = 8,
	SEG_CAP = 1600,
	IP4 = 20,
	IP6 = 40,
	TCP = 32, /* with 12 bytes of options */
};

/* What the callback saw (segments are copied: the buffer is reused). */
struct seen {
	unsigned count;
	size_t len[SEGS_MAX];
	uint8_t seg[SEGS_MAX][SEG_CAP];
};

static void on_segment(void *arg, uint8_t *seg, size_t len)
{
	struct seen *s = arg;

	if (s->count < SEGS_MAX && len <= SEG_CAP) {
		memcpy(s->seg[s->count], seg, len);
		s->len[s->count] = len;
	}
	s->count++;
}

static uint32_t be16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t be32(const uint8_t *p)
{
	return be16(p) << 16 | be16(p + 2);
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
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

static bool folds_to_ffff(uint32_t sum)
{
	while (sum >> 16) {
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum == 0xffff;
}

static bool l4_csum_ok(const uint8_t *pkt, size_t len, bool v6, uint8_t proto)
{
	size_t ip = v6 ? IP6 : IP4;
	size_t l4 = len - ip;
	uint32_t sum = v6 ? sum16(0, pkt + 8, 32) : sum16(0, pkt + 12, 8);

	sum += proto + (uint32_t)(l4 & 0xffff) + (uint32_t)(l4 >> 16);
	return folds_to_ffff(sum16(sum, pkt + ip, l4));
}

static size_t build_tcp(uint8_t *pkt, bool v6, size_t payload, uint8_t flags)
{
	size_t ip = v6 ? IP6 : IP4;
	uint8_t *th = pkt + ip;

	memset(pkt, 0, ip + TCP);
	if (v6) {
		pkt[0] = 0x60;
		put16(pkt + 4, (uint32_t)(TCP + payload));
		pkt[6] = IPPROTO_TCP;
		pkt[7] = 64;
		pkt[8] = 0xfd;
		pkt[23] = 1;
		pkt[24] = 0xfd;
		pkt[39] = 2;
	} else {
		pkt[0] = 0x45;
		put16(pkt + 2, (uint32_t)(ip + TCP + payload));
		put16(pkt + 4, 0xfffe); /* the id wraps within the segments */
		pkt[6] = 0x40;
		pkt[8] = 64;
		pkt[9] = IPPROTO_TCP;
		memcpy(pkt + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	}
	put16(th, 40000);
	put16(th + 2, 5201);
	memcpy(th + 4, "\xff\xff\xfc\x00", 4); /* sequence numbers wrap too */
	th[12] = (TCP / 4) << 4;
	th[13] = flags;
	put16(th + 14, 512);
	memcpy(th + 20, "\x01\x01\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x02", 12);
	for (size_t i = 0; i < payload; i++) {
		pkt[ip + TCP + i] = (uint8_t)(i * 7 + 3);
	}
	return ip + TCP + payload;
}

static void check_split(bool v6, size_t payload, size_t gso, unsigned want)
{
	static uint8_t pkt[8192], orig[8192];
	static struct seen s;
	struct en_gso g = { .type = v6 ? EN_GSO_TCP6 : EN_GSO_TCP4, .gso_size = (uint16_t)gso };
	size_t ip = v6 ? IP6 : IP4, hdr = ip + TCP;
	size_t len = build_tcp(pkt, v6, payload, 0x80 | 0x10 | 0x08 | 0x01); /* CWR ACK PSH FIN */

	memcpy(orig, pkt, len);
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(en_gso_split(pkt, len, &g, on_segment, &s), 0);
	CU_ASSERT_EQUAL_FATAL(s.count, want);
	for (unsigned i = 0; i < want; i++) {
		const uint8_t *seg = s.seg[i], *th = seg + ip;
		size_t plen = i + 1 < want ? gso : payload - gso * (want - 1);
		uint8_t flags = 0x10 | (i == 0 ? 0x80 : 0) | (i + 1 == want ? 0x09 : 0);

		CU_ASSERT_EQUAL(s.len[i], hdr + plen);
		CU_ASSERT_EQUAL(be16(seg + (v6 ? 4 : 2)), v6 ? TCP + plen : hdr + plen);
		if (!v6) {
			CU_ASSERT_EQUAL(be16(seg + 4), (0xfffe + i) & 0xffff);
			CU_ASSERT(folds_to_ffff(sum16(0, seg, IP4)));
		}
		CU_ASSERT_EQUAL(be32(th + 4), (uint32_t)(0xfffffc00u + i * gso));
		CU_ASSERT_EQUAL(th[13], flags);
		CU_ASSERT_EQUAL(memcmp(th + 20, orig + ip + 20, TCP - 20), 0);
		CU_ASSERT_EQUAL(memcmp(seg + hdr, orig + hdr + i * gso, plen), 0);
		CU_ASSERT(l4_csum_ok(seg, s.len[i], v6, IPPROTO_TCP));
	}
}

static void test_split_tcp4(void)
{
	check_split(false, 3000, 1000, 3);
	check_split(false, 1000, 1000, 1);
	check_split(false, 2001, 1000, 3);
}

static void test_split_tcp6(void)
{
	check_split(true, 2500, 1000, 3);
	check_split(true, 1399, 1400, 1);
}

/* No GSO, but a partial checksum to complete (UDP over IPv4, odd length). */
static void test_complete_checksum(void)
{
	uint8_t pkt[IP4 + 8 + 11] = { 0x45 };
	struct en_gso g = {
		.type = EN_GSO_NONE, .needs_csum = true, .csum_start = IP4, .csum_offset = 6
	};
	struct seen s = { 0 };
	uint32_t pseudo;

	pkt[9] = IPPROTO_UDP;
	memcpy(pkt + 12, "\xc0\x00\x02\x01\xc6\x33\x64\x07", 8);
	put16(pkt + IP4, 53);
	put16(pkt + IP4 + 2, 5353);
	put16(pkt + IP4 + 4, sizeof(pkt) - IP4);
	memcpy(pkt + IP4 + 8, "hello world", 11);
	/* As the kernel leaves it: the folded pseudo-header sum, not inverted. */
	pseudo = sum16(IPPROTO_UDP + (uint32_t)(sizeof(pkt) - IP4), pkt + 12, 8);
	while (pseudo >> 16) {
		pseudo = (pseudo & 0xffff) + (pseudo >> 16);
	}
	put16(pkt + IP4 + 6, pseudo);
	CU_ASSERT_EQUAL(en_gso_split(pkt, sizeof(pkt), &g, on_segment, &s), 0);
	CU_ASSERT_EQUAL_FATAL(s.count, 1);
	CU_ASSERT_EQUAL(s.len[0], sizeof(pkt));
	CU_ASSERT(l4_csum_ok(s.seg[0], s.len[0], false, IPPROTO_UDP));
}

static void test_rejects(void)
{
	static uint8_t pkt[4096];
	struct en_gso g = { .type = EN_GSO_TCP4, .gso_size = 0 };
	struct seen s = { 0 };
	size_t len = build_tcp(pkt, false, 2000, 0x10);

	CU_ASSERT_EQUAL(en_gso_split(pkt, len, &g, on_segment, &s), -EBADMSG);
	g.gso_size = 1000;
	pkt[9] = IPPROTO_UDP;
	CU_ASSERT_EQUAL(en_gso_split(pkt, len, &g, on_segment, &s), -EBADMSG);
	len = build_tcp(pkt, true, 2000, 0x10);
	CU_ASSERT_EQUAL(en_gso_split(pkt, len, &g, on_segment, &s), -EBADMSG); /* v4 type */
	g.type = EN_GSO_TCP6;
	CU_ASSERT_EQUAL(en_gso_split(pkt, 50, &g, on_segment, &s), -EBADMSG);
	g = (struct en_gso){
		.type = EN_GSO_NONE, .needs_csum = true, .csum_start = 60, .csum_offset = 6
	};
	CU_ASSERT_EQUAL(en_gso_split(pkt, 64, &g, on_segment, &s), -EBADMSG);
	CU_ASSERT_EQUAL(s.count, 0);
}

static const struct ntm_test_case cases[] = {
	NTM_TEST(test_split_tcp4),
	NTM_TEST(test_split_tcp6),
	NTM_TEST(test_complete_checksum),
	NTM_TEST(test_rejects),
};

NTM_TEST_MAIN("gso", cases)
