/* SPDX-License-Identifier: MIT */
#include "gso.h"

#include <netinet/in.h>
#include <string.h>

#include "endnode/csum.h"

enum {
	IP4_HEADER_MIN = 20,
	IP6_HEADER = 40,
	TCP_HEADER_MIN = 20,
	TCP_FIN = 0x01,
	TCP_PSH = 0x08,
	TCP_CWR = 0x80,
};

/* Where the headers of a TCP super-packet end. */
struct tcp_layout {
	bool v6;
	size_t ip_len;	/* IP header bytes (IPv4 with options, or 40) */
	size_t tcp_len; /* TCP header bytes with options */
	size_t hdr_len; /* both */
};

/* ---------------------------------------------------------------- fields and checksums */

/*
 * A checksum over `len` bytes at `p` for the packet's own transport (the
 * TUN's NEEDS_CSUM without GSO): 0 means "no checksum" to UDP, so it is sent
 * as 0xffff, the same value in ones' complement.
 */
static void store_l4(uint8_t *field, const uint8_t *p, size_t len)
{
	uint16_t c = (uint16_t)~en_csum_fold(en_csum_add(0, p, len));

	if (c == 0) {
		c = 0xffff;
	}
	memcpy(field, &c, 2);
}

/* ---------------------------------------------------------------- segmentation */

static int parse_layout(const uint8_t *pkt, size_t len, const struct en_gso *g,
			struct tcp_layout *t)
{
	memset(t, 0, sizeof(*t));
	t->v6 = g->type == EN_GSO_TCP6;
	if (len < IP6_HEADER + TCP_HEADER_MIN || g->gso_size == 0) {
		return -EBADMSG;
	}
	if (t->v6) {
		if (pkt[0] >> 4 != 6 || pkt[6] != IPPROTO_TCP) {
			return -EBADMSG; /* extension headers are not segmented here */
		}
		t->ip_len = IP6_HEADER;
	} else {
		if (pkt[0] >> 4 != 4 || pkt[9] != IPPROTO_TCP) {
			return -EBADMSG;
		}
		t->ip_len = (size_t)(pkt[0] & 0x0f) * 4;
		if (t->ip_len < IP4_HEADER_MIN) {
			return -EBADMSG;
		}
	}
	if (t->ip_len + TCP_HEADER_MIN > len) {
		return -EBADMSG;
	}
	t->tcp_len = (size_t)(pkt[t->ip_len + 12] >> 4) * 4;
	t->hdr_len = t->ip_len + t->tcp_len;
	if (t->tcp_len < TCP_HEADER_MIN || t->hdr_len > len || t->hdr_len > EN_GSO_HEADERS_MAX) {
		return -EBADMSG;
	}
	return 0;
}

/* Segment `i` of the original `hdr` (copied to `seg` already) with `plen` payload bytes. */
static void fix_segment(uint8_t *seg, const struct tcp_layout *t, const uint8_t *hdr, size_t i,
			size_t plen, size_t gso_size, bool last)
{
	uint8_t *th = seg + t->ip_len;
	size_t l4_len = t->tcp_len + plen;
	uint8_t flags = th[13];

	if (t->v6) {
		en_csum_put_field(seg + 4, 2, (uint32_t)l4_len);
	} else {
		en_csum_put_field(seg + 2, 2, (uint32_t)(t->ip_len + l4_len));
		en_csum_put_field(seg + 4, 2, en_csum_get_field(hdr + 4, 2) + (uint32_t)i);
		memset(seg + 10, 0, 2);
		en_csum_store(seg + 10, en_csum_add(0, seg, t->ip_len));
	}
	en_csum_put_field(th + 4, 4, en_csum_get_field(hdr + t->ip_len + 4, 4) + (uint32_t)(i * gso_size));
	if (!last) {
		flags &= (uint8_t) ~(TCP_FIN | TCP_PSH);
	}
	if (i > 0) {
		flags &= (uint8_t)~TCP_CWR;
	}
	th[13] = flags;
	memset(th + 16, 0, 2);
	en_csum_store(th + 16, en_csum_add(en_csum_pseudo_tcp(seg, t->v6, l4_len), th, l4_len));
}

static int split_tcp(uint8_t *pkt, size_t len, const struct en_gso *g, en_gso_segment_cb cb,
		     void *arg)
{
	uint8_t hdr[EN_GSO_HEADERS_MAX];
	struct tcp_layout t;
	size_t payload, off;
	int rc = parse_layout(pkt, len, g, &t);

	if (rc < 0) {
		return rc;
	}
	memcpy(hdr, pkt, t.hdr_len);
	payload = len - t.hdr_len;
	for (off = 0; off == 0 || off < payload; off += g->gso_size) {
		size_t plen = payload - off < g->gso_size ? payload - off : g->gso_size;
		uint8_t *seg = pkt + off;

		/* Over the tail of the previous segment, which the callback has finished with. */
		memmove(seg, hdr, t.hdr_len);
		fix_segment(seg, &t, hdr, off / g->gso_size, plen, g->gso_size,
			    off + plen >= payload);
		cb(arg, seg, t.hdr_len + plen);
	}
	return 0;
}

int en_gso_split(uint8_t *pkt, size_t len, const struct en_gso *g, en_gso_segment_cb cb, void *arg)
{
	size_t field = (size_t)g->csum_start + g->csum_offset;

	if (g->type == EN_GSO_TCP4 || g->type == EN_GSO_TCP6) {
		return split_tcp(pkt, len, g, cb, arg);
	}
	if (g->type != EN_GSO_NONE) {
		return -EBADMSG;
	}
	if (g->needs_csum) {
		if (g->csum_start >= len || field + 2 > len) {
			return -EBADMSG;
		}
		store_l4(pkt + field, pkt + g->csum_start, len - g->csum_start);
	}
	cb(arg, pkt, len);
	return 0;
}
