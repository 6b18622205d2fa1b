/* SPDX-License-Identifier: MIT */
#include "ip.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "common/buf.h"

enum {
	IP4_MIN_MTU = 576,   /* RFC 1812 4.3.2.3: quote up to this */
	IP6_MIN_MTU = 1280,  /* RFC 4443 2.4 (c) */
	ICMP_HEADER_LEN = 8, /* type, code, checksum, 4 unused bytes */
	ICMP4_UNREACH = 3,
	ICMP4_HOST_UNREACH = 1,
	ICMP6_UNREACH = 1,
	ICMP6_ADDR_UNREACH = 3,
	IPPROTO_ICMP4 = 1,
	IPPROTO_ICMP6 = 58,
	TTL = 64,
};

/*
 * IPv4 (RFC 791 3.1)              IPv6 (RFC 8200 3)
 *  0  version:4 ihl:4               0  version:4 class:8 flow:20
 *  2  total length                  4  payload length
 *  6  flags:3 fragment offset:13    6  next header, 7 hop limit
 *  9  protocol                      8  source (16)
 * 12  source (4), 16 destination    24 destination (16)
 */
static int parse_v4(struct ntm_rbuf *r, size_t cap, struct en_ip_info *out)
{
	uint8_t vihl;
	uint16_t total;
	int rc = ntm_rbuf_get_u8(r, &vihl);

	rc = rc ? rc : ntm_rbuf_skip(r, 1);
	rc = rc ? rc : ntm_rbuf_get_be16(r, &total);
	rc = rc ? rc : ntm_rbuf_skip(r, 8);
	rc = rc ? rc : ntm_rbuf_get_ref(r, &out->src, 4);
	rc = rc ? rc : ntm_rbuf_get_ref(r, &out->dst, 4);
	if (rc < 0 || (vihl & 0x0f) < 5 || total < (vihl & 0x0f) * 4 || total > cap) {
		return -EBADMSG;
	}
	out->family = AF_INET;
	out->len = total;
	return 0;
}

static int parse_v6(struct ntm_rbuf *r, size_t cap, struct en_ip_info *out)
{
	uint16_t payload;
	int rc = ntm_rbuf_skip(r, 4);

	rc = rc ? rc : ntm_rbuf_get_be16(r, &payload);
	rc = rc ? rc : ntm_rbuf_skip(r, 2);
	rc = rc ? rc : ntm_rbuf_get_ref(r, &out->src, 16);
	rc = rc ? rc : ntm_rbuf_get_ref(r, &out->dst, 16);
	if (rc < 0 || (size_t)payload + EN_IP6_HEADER_LEN > cap) {
		return -EBADMSG;
	}
	out->family = AF_INET6;
	out->len = (size_t)payload + EN_IP6_HEADER_LEN;
	return 0;
}

int en_ip_parse(const uint8_t *pkt, size_t cap, struct en_ip_info *out)
{
	struct ntm_rbuf r;

	memset(out, 0, sizeof(*out));
	if (cap == 0) {
		return -EBADMSG;
	}
	ntm_rbuf_init(&r, pkt, cap);
	switch (pkt[0] >> 4) {
	case 4:
		return parse_v4(&r, cap, out);
	case 6:
		return parse_v6(&r, cap, out);
	default:
		return -EBADMSG;
	}
}

/* RFC 1071 one's-complement sum, continued from `sum`. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2) {
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	}
	if (len & 1) {
		sum += (uint32_t)(p[len - 1] << 8);
	}
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16) {
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)~sum;
}

static void put_csum(uint8_t *at, uint16_t c)
{
	at[0] = (uint8_t)(c >> 8);
	at[1] = (uint8_t)c;
}

/* RFC 1122 3.2.2 / RFC 4443 2.4 (e): never answer an ICMP error or a non-unicast source. */
static bool may_answer(const struct en_ip_info *ip, const uint8_t *orig)
{
	if (ip->family == AF_INET) {
		size_t ihl = (size_t)(orig[0] & 0x0f) * 4;
		bool is_frag = ((orig[6] & 0x1f) | orig[7]) != 0;
		bool icmp_err = orig[9] == IPPROTO_ICMP4 && ip->len > ihl && orig[ihl] != 0 &&
				orig[ihl] != 8;

		return !is_frag && !icmp_err && ip->src[0] != 0 && ip->src[0] < 224;
	}
	return !(orig[6] == IPPROTO_ICMP6 && ip->len > EN_IP6_HEADER_LEN &&
		 orig[EN_IP6_HEADER_LEN] < 128) &&
	       ip->src[0] != 0xff && !(ip->src[0] == 0 && memcmp(ip->src, ip->src + 1, 15) == 0);
}

static size_t build_v4(struct ntm_wbuf *w, const struct en_ip_info *ip, const uint8_t *orig,
		       size_t quote)
{
	uint16_t total = (uint16_t)(EN_IP4_HEADER_MIN + ICMP_HEADER_LEN + quote);
	int rc = ntm_wbuf_put_u8(w, 0x45);

	rc = rc ? rc : ntm_wbuf_put_u8(w, 0);
	rc = rc ? rc : ntm_wbuf_put_be16(w, total);
	rc = rc ? rc : ntm_wbuf_put_zero(w, 4); /* id, flags, fragment offset */
	rc = rc ? rc : ntm_wbuf_put_u8(w, TTL);
	rc = rc ? rc : ntm_wbuf_put_u8(w, IPPROTO_ICMP4);
	rc = rc ? rc : ntm_wbuf_put_zero(w, 2); /* header checksum, below */
	rc = rc ? rc : ntm_wbuf_put_bytes(w, ip->dst, 4);
	rc = rc ? rc : ntm_wbuf_put_bytes(w, ip->src, 4);
	rc = rc ? rc : ntm_wbuf_put_u8(w, ICMP4_UNREACH);
	rc = rc ? rc : ntm_wbuf_put_u8(w, ICMP4_HOST_UNREACH);
	rc = rc ? rc : ntm_wbuf_put_zero(w, 6); /* checksum, unused */
	rc = rc ? rc : ntm_wbuf_put_bytes(w, orig, quote);
	if (rc < 0) {
		return 0;
	}
	put_csum(w->data + 10, csum_fold(csum_add(0, w->data, EN_IP4_HEADER_MIN)));
	put_csum(w->data + EN_IP4_HEADER_MIN + 2,
		 csum_fold(csum_add(0, w->data + EN_IP4_HEADER_MIN, ICMP_HEADER_LEN + quote)));
	return w->len;
}

static size_t build_v6(struct ntm_wbuf *w, const struct en_ip_info *ip, const uint8_t *orig,
		       size_t quote)
{
	uint16_t plen = (uint16_t)(ICMP_HEADER_LEN + quote);
	uint8_t pseudo[8] = { 0, 0, (uint8_t)(plen >> 8), (uint8_t)plen, 0, 0, 0, IPPROTO_ICMP6 };
	int rc = ntm_wbuf_put_be32(w, 0x60000000);
	uint32_t sum;

	rc = rc ? rc : ntm_wbuf_put_be16(w, plen);
	rc = rc ? rc : ntm_wbuf_put_u8(w, IPPROTO_ICMP6);
	rc = rc ? rc : ntm_wbuf_put_u8(w, TTL);
	rc = rc ? rc : ntm_wbuf_put_bytes(w, ip->dst, 16);
	rc = rc ? rc : ntm_wbuf_put_bytes(w, ip->src, 16);
	rc = rc ? rc : ntm_wbuf_put_u8(w, ICMP6_UNREACH);
	rc = rc ? rc : ntm_wbuf_put_u8(w, ICMP6_ADDR_UNREACH);
	rc = rc ? rc : ntm_wbuf_put_zero(w, 6);
	rc = rc ? rc : ntm_wbuf_put_bytes(w, orig, quote);
	if (rc < 0) {
		return 0;
	}
	/* RFC 8200 8.1 pseudo-header: source, destination, length, next header. */
	sum = csum_add(0, w->data + 8, 32);
	sum = csum_add(sum, pseudo, sizeof(pseudo));
	sum = csum_add(sum, w->data + EN_IP6_HEADER_LEN, plen);
	put_csum(w->data + EN_IP6_HEADER_LEN + 2, csum_fold(sum));
	return w->len;
}

size_t en_ip_unreachable(uint8_t *out, size_t cap, const struct en_ip_info *info,
			 const uint8_t *orig)
{
	size_t hdr =
		(info->family == AF_INET ? EN_IP4_HEADER_MIN : EN_IP6_HEADER_LEN) + ICMP_HEADER_LEN;
	size_t limit = info->family == AF_INET ? IP4_MIN_MTU : IP6_MIN_MTU;
	size_t quote = info->len;
	struct ntm_wbuf w;

	if (!may_answer(info, orig)) {
		return 0;
	}
	if (quote > limit - hdr) {
		quote = limit - hdr;
	}
	ntm_wbuf_init(&w, out, cap);
	if (info->family == AF_INET) {
		return build_v4(&w, info, orig, quote);
	}
	return build_v6(&w, info, orig, quote);
}
