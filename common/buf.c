/* SPDX-License-Identifier: MIT */
#include "buf.h"

#include <string.h>

void ntm_rbuf_init(struct ntm_rbuf *r, const void *data, size_t len)
{
	r->data = data;
	r->len = data ? len : 0;
	r->off = 0;
}

size_t ntm_rbuf_remaining(const struct ntm_rbuf *r)
{
	return r->len - r->off;
}

const uint8_t *ntm_rbuf_cursor(const struct ntm_rbuf *r)
{
	return r->data + r->off;
}

int ntm_rbuf_get_ref(struct ntm_rbuf *r, const uint8_t **p, size_t n)
{
	*p = NULL;
	if (n > ntm_rbuf_remaining(r)) {
		return -EBADMSG;
	}
	*p = r->data + r->off;
	r->off += n;
	return 0;
}

int ntm_rbuf_skip(struct ntm_rbuf *r, size_t n)
{
	const uint8_t *p;

	return ntm_rbuf_get_ref(r, &p, n);
}

int ntm_rbuf_get_bytes(struct ntm_rbuf *r, void *out, size_t n)
{
	const uint8_t *p;
	int rc = ntm_rbuf_get_ref(r, &p, n);

	if (rc == 0 && n > 0) {
		memcpy(out, p, n);
	}
	return rc;
}

/* Integer readers assemble bytes explicitly: no casts of packet memory, no
 * alignment or host-endianness assumptions. */
static int get_uint(struct ntm_rbuf *r, size_t n, bool big, uint64_t *v)
{
	const uint8_t *p;
	uint64_t x = 0;

	*v = 0;
	if (ntm_rbuf_get_ref(r, &p, n) < 0) {
		return -EBADMSG;
	}
	for (size_t i = 0; i < n; i++) {
		size_t idx = big ? i : n - 1 - i;

		x = (x << 8) | p[idx];
	}
	*v = x;
	return 0;
}

int ntm_rbuf_get_u8(struct ntm_rbuf *r, uint8_t *v)
{
	uint64_t x;
	int rc = get_uint(r, 1, true, &x);

	*v = (uint8_t)x;
	return rc;
}

#define DEFINE_GET(name, type, n, big)                          \
	int name(struct ntm_rbuf *r, type *v)                   \
	{                                                       \
		uint64_t x;                                     \
		int rc = get_uint(r, n, big, &x);               \
		*v = (type)x;                                   \
		return rc;                                      \
	}

DEFINE_GET(ntm_rbuf_get_be16, uint16_t, 2, true)
DEFINE_GET(ntm_rbuf_get_be32, uint32_t, 4, true)
DEFINE_GET(ntm_rbuf_get_be64, uint64_t, 8, true)
DEFINE_GET(ntm_rbuf_get_le16, uint16_t, 2, false)
DEFINE_GET(ntm_rbuf_get_le32, uint32_t, 4, false)
DEFINE_GET(ntm_rbuf_get_le64, uint64_t, 8, false)

void ntm_wbuf_init(struct ntm_wbuf *w, void *data, size_t cap)
{
	w->data = data;
	w->cap = data ? cap : 0;
	w->len = 0;
}

size_t ntm_wbuf_remaining(const struct ntm_wbuf *w)
{
	return w->cap - w->len;
}

int ntm_wbuf_reserve(struct ntm_wbuf *w, uint8_t **p, size_t n)
{
	*p = NULL;
	if (n > ntm_wbuf_remaining(w)) {
		return -EMSGSIZE;
	}
	*p = w->data + w->len;
	w->len += n;
	return 0;
}

int ntm_wbuf_put_bytes(struct ntm_wbuf *w, const void *src, size_t n)
{
	uint8_t *p;
	int rc = ntm_wbuf_reserve(w, &p, n);

	if (rc == 0 && n > 0) {
		memcpy(p, src, n);
	}
	return rc;
}

int ntm_wbuf_put_zero(struct ntm_wbuf *w, size_t n)
{
	uint8_t *p;
	int rc = ntm_wbuf_reserve(w, &p, n);

	if (rc == 0 && n > 0) {
		memset(p, 0, n);
	}
	return rc;
}

static int put_uint(struct ntm_wbuf *w, size_t n, bool big, uint64_t v)
{
	uint8_t *p;

	if (ntm_wbuf_reserve(w, &p, n) < 0) {
		return -EMSGSIZE;
	}
	for (size_t i = 0; i < n; i++) {
		size_t idx = big ? n - 1 - i : i;

		p[idx] = (uint8_t)(v >> (8 * i));
	}
	return 0;
}

int ntm_wbuf_put_u8(struct ntm_wbuf *w, uint8_t v)
{
	return put_uint(w, 1, true, v);
}

int ntm_wbuf_put_be16(struct ntm_wbuf *w, uint16_t v)
{
	return put_uint(w, 2, true, v);
}

int ntm_wbuf_put_be32(struct ntm_wbuf *w, uint32_t v)
{
	return put_uint(w, 4, true, v);
}

int ntm_wbuf_put_be64(struct ntm_wbuf *w, uint64_t v)
{
	return put_uint(w, 8, true, v);
}

int ntm_wbuf_put_le16(struct ntm_wbuf *w, uint16_t v)
{
	return put_uint(w, 2, false, v);
}

int ntm_wbuf_put_le32(struct ntm_wbuf *w, uint32_t v)
{
	return put_uint(w, 4, false, v);
}

int ntm_wbuf_put_le64(struct ntm_wbuf *w, uint64_t v)
{
	return put_uint(w, 8, false, v);
}
