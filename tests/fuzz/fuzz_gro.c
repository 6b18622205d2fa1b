/* SPDX-License-Identifier: MIT */
/*
 * Receive-side coalescing (endnode/gro.c) on any sequence of packets. The
 * input is a list of records:
 *   u8 ctl | be16 len | len bytes
 * ctl bit 0 picks the owner (two peers); with bit 1 set, the harness first
 * completes the packet's IP length fields and checksums (IPv4 header and
 * TCP), so that the fuzzer reaches joins without solving checksums. All
 * packets are flushed at the end. Then every packet written is cut back
 * (en_gso_split for super-packets) and the pieces must be exactly the input
 * packets, each once, a super-packet holding one owner's packets in input
 * order; checksum fields are compared as ones' complement values (0x0000
 * and 0xffff are the same number).
 */
#include <assert.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "endnode/csum.h"
#include "endnode/gro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	PKTS_MAX = 256,
	PKT_MAX = 4096,
	SUPER_MAX = 65536,
};

struct input {
	uint8_t pkt[PKT_MAX];
	size_t len;
	int owner;
	bool used;
};

struct harness {
	size_t n;
	struct input in[PKTS_MAX];
	int owners[2];
	size_t last; /* input index of the previous piece of the current write */
	void *owner; /* of the current write */
	uint8_t flat[SUPER_MAX + 128];
};

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void fix_tcp(uint8_t *p, size_t len, size_t ip_len, bool v6)
{
	if (ip_len + 20 > len) {
		return;
	}
	memset(p + ip_len + 16, 0, 2);
	en_csum_store(p + ip_len + 16, en_csum_add(en_csum_pseudo_tcp(p, v6, len - ip_len),
						   p + ip_len, len - ip_len));
}

static void fixup(uint8_t *p, size_t len)
{
	if (len >= 20 && p[0] >> 4 == 4) {
		size_t ihl = (size_t)(p[0] & 0x0f) * 4;

		put16(p + 2, len);
		if (ihl >= 20 && ihl <= len) {
			memset(p + 10, 0, 2);
			en_csum_store(p + 10, en_csum_add(0, p, ihl));
			if (p[9] == IPPROTO_TCP) {
				fix_tcp(p, len, ihl, false);
			}
		}
	} else if (len >= 40 && p[0] >> 4 == 6) {
		put16(p + 4, len - 40);
		if (p[6] == IPPROTO_TCP) {
			fix_tcp(p, len, 40, true);
		}
	}
}

/* Equal but for checksum fields holding the other ones' complement zero. */
static bool same_packet(const uint8_t *a, const uint8_t *b, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (a[i] != b[i]) {
			bool v6 = len >= 40 && a[0] >> 4 == 6;
			size_t tcp_csum = v6 ? 40 + 16 : (size_t)(a[0] & 0x0f) * 4 + 16;
			size_t at = i & ~(size_t)1;
			bool csum_field = (!v6 && at == 10) || at == tcp_csum;
			uint16_t x = (uint16_t)(a[at] << 8 | a[at + 1]);
			uint16_t y = (uint16_t)(b[at] << 8 | b[at + 1]);

			if (!csum_field || (x | y) != 0xffff || (x & y) != 0) {
				return false;
			}
			i = at + 1;
		}
	}
	return true;
}

/* A piece that came back: it must be the first unused input equal to it, of the same owner. */
static void on_piece(void *arg, uint8_t *seg, size_t len)
{
	struct harness *h = arg;

	for (size_t i = 0; i < h->n; i++) {
		struct input *in = &h->in[i];

		if (!in->used && in->len == len && &h->owners[in->owner] == h->owner &&
		    same_packet(in->pkt, seg, len)) {
			assert(h->last == SIZE_MAX || i > h->last);
			in->used = true;
			h->last = i;
			return;
		}
	}
	abort(); /* not an input packet */
}

static void on_write(void *arg, void *owner, const struct en_gso *g, const struct iovec *iov,
		     size_t iovcnt)
{
	struct harness *h = arg;
	size_t len = 0;

	assert(iovcnt >= 1 && iovcnt <= EN_GRO_IOV_MAX);
	for (size_t i = 0; i < iovcnt; i++) {
		assert(len + iov[i].iov_len <= sizeof(h->flat));
		memcpy(h->flat + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	h->owner = owner;
	h->last = SIZE_MAX;
	if (g->type == EN_GSO_NONE) {
		assert(iovcnt == 1 && !g->needs_csum);
		on_piece(h, h->flat, len);
		return;
	}
	assert(g->needs_csum && g->csum_offset == 16 && g->gso_size > 0 && len <= 65535);
	assert(g->csum_start == (g->type == EN_GSO_TCP6 ? 40 : 20) && g->hdr_len < len);
	assert(en_gso_split(h->flat, len, g, on_piece, h) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness h;
	struct en_gro *gro;
	size_t off = 0;

	memset(&h, 0, sizeof(h));
	if (en_gro_create(on_write, &h, &gro) < 0) {
		return 0;
	}
	while (h.n < PKTS_MAX && off + 3 <= size) {
		struct input *in = &h.in[h.n++];
		uint8_t ctl = data[off];
		size_t len = ((size_t)data[off + 1] << 8 | data[off + 2]) % PKT_MAX;

		off += 3;
		len = len < size - off ? len : size - off;
		memcpy(in->pkt, data + off, len);
		in->len = len;
		in->owner = ctl & 1;
		off += len;
		if (ctl & 2) {
			fixup(in->pkt, len);
		}
		en_gro_add(gro, &h.owners[in->owner], in->pkt, len);
	}
	en_gro_flush(gro);
	for (size_t i = 0; i < h.n; i++) {
		assert(h.in[i].used);
	}
	en_gro_destroy(gro);
	return 0;
}
