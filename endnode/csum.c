/* SPDX-License-Identifier: MIT */
#include "csum.h"

#include <netinet/in.h>
#include <string.h>

#include "common/buf.h"

uint64_t en_csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	uint8_t tail[2] = { 0, 0 };
	uint64_t w64;
	uint32_t w32;
	uint16_t w16;

	/* Two 32-bit halves per step: no carry can be lost in 64 bits below 2^32 steps. */
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w64, p, 8);
		sum += (w64 & 0xffffffffu) + (w64 >> 32);
	}
	if (len >= 4) {
		memcpy(&w32, p, 4);
		sum += w32;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&w16, p, 2);
		sum += w16;
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		tail[0] = *p;
		memcpy(&w16, tail, 2);
		sum += w16;
	}
	return sum;
}

uint16_t en_csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

uint64_t en_csum_pseudo_tcp(const uint8_t *ip, bool v6, size_t l4_len)
{
	uint8_t tail[8] = { 0 };
	struct ntm_wbuf w;
	int rc;

	/* RFC 8200 8.1: 32-bit length, 3 zero bytes, next header; RFC 9293 3.1: 0, 6, length. */
	ntm_wbuf_init(&w, tail, sizeof(tail));
	if (v6) {
		rc = ntm_wbuf_put_be32(&w, (uint32_t)l4_len);
		tail[7] = IPPROTO_TCP;
		return rc < 0 ? 0 : en_csum_add(en_csum_add(0, ip + 8, 32), tail, 8);
	}
	rc = ntm_wbuf_put_be16(&w, IPPROTO_TCP);
	if (rc == 0) {
		rc = ntm_wbuf_put_be16(&w, (uint16_t)l4_len);
	}
	return rc < 0 ? 0 : en_csum_add(en_csum_add(0, ip + 12, 8), tail, 4);
}

uint32_t en_csum_get_field(const uint8_t *p, size_t n)
{
	struct ntm_rbuf r;
	uint32_t v32 = 0;
	uint16_t v16 = 0;

	ntm_rbuf_init(&r, p, n);
	if (n == 2) {
		return ntm_rbuf_get_be16(&r, &v16) < 0 ? 0 : v16;
	}
	return ntm_rbuf_get_be32(&r, &v32) < 0 ? 0 : v32;
}

void en_csum_put_field(uint8_t *p, size_t n, uint32_t v)
{
	struct ntm_wbuf w;

	ntm_wbuf_init(&w, p, n);
	if (n == 2 ? ntm_wbuf_put_be16(&w, (uint16_t)v) < 0 : ntm_wbuf_put_be32(&w, v) < 0) {
		memset(p, 0, n); /* unreachable: n bytes were given */
	}
}
