/* SPDX-License-Identifier: MIT */
#ifndef NTM_BUF_H
#define NTM_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * Bounds-checked cursors over borrowed memory. Every wire decoder reads
 * through ntm_rbuf and every encoder writes through ntm_wbuf; nothing else in
 * ntm deals with byte order. A get that would run past the end returns
 * -EBADMSG and leaves the cursor where it was; a put that does not fit returns
 * -EMSGSIZE and writes nothing.
 */
struct ntm_rbuf {
	const uint8_t *data; /* borrowed */
	size_t len;
	size_t off;
};

struct ntm_wbuf {
	uint8_t *data; /* borrowed */
	size_t cap;
	size_t len;
};

void ntm_rbuf_init(struct ntm_rbuf *r, const void *data, size_t len);
size_t ntm_rbuf_remaining(const struct ntm_rbuf *r);
/* Pointer to the next unread byte (valid while the underlying buffer is). */
const uint8_t *ntm_rbuf_cursor(const struct ntm_rbuf *r);

NTM_MUST_CHECK int ntm_rbuf_get_u8(struct ntm_rbuf *r, uint8_t *v);
NTM_MUST_CHECK int ntm_rbuf_get_be16(struct ntm_rbuf *r, uint16_t *v);
NTM_MUST_CHECK int ntm_rbuf_get_be32(struct ntm_rbuf *r, uint32_t *v);
NTM_MUST_CHECK int ntm_rbuf_get_be64(struct ntm_rbuf *r, uint64_t *v);
NTM_MUST_CHECK int ntm_rbuf_get_le16(struct ntm_rbuf *r, uint16_t *v);
NTM_MUST_CHECK int ntm_rbuf_get_le32(struct ntm_rbuf *r, uint32_t *v);
NTM_MUST_CHECK int ntm_rbuf_get_le64(struct ntm_rbuf *r, uint64_t *v);
/* Copies n bytes out. */
NTM_MUST_CHECK int ntm_rbuf_get_bytes(struct ntm_rbuf *r, void *out, size_t n);
/* Borrows n bytes in place: *p points into the buffer. */
NTM_MUST_CHECK int ntm_rbuf_get_ref(struct ntm_rbuf *r, const uint8_t **p, size_t n);
NTM_MUST_CHECK int ntm_rbuf_skip(struct ntm_rbuf *r, size_t n);

void ntm_wbuf_init(struct ntm_wbuf *w, void *data, size_t cap);
size_t ntm_wbuf_remaining(const struct ntm_wbuf *w);

NTM_MUST_CHECK int ntm_wbuf_put_u8(struct ntm_wbuf *w, uint8_t v);
NTM_MUST_CHECK int ntm_wbuf_put_be16(struct ntm_wbuf *w, uint16_t v);
NTM_MUST_CHECK int ntm_wbuf_put_be32(struct ntm_wbuf *w, uint32_t v);
NTM_MUST_CHECK int ntm_wbuf_put_be64(struct ntm_wbuf *w, uint64_t v);
NTM_MUST_CHECK int ntm_wbuf_put_le16(struct ntm_wbuf *w, uint16_t v);
NTM_MUST_CHECK int ntm_wbuf_put_le32(struct ntm_wbuf *w, uint32_t v);
NTM_MUST_CHECK int ntm_wbuf_put_le64(struct ntm_wbuf *w, uint64_t v);
NTM_MUST_CHECK int ntm_wbuf_put_bytes(struct ntm_wbuf *w, const void *src, size_t n);
NTM_MUST_CHECK int ntm_wbuf_put_zero(struct ntm_wbuf *w, size_t n);
/* Reserves n bytes to be filled later (e.g. a MAC over what precedes it). */
NTM_MUST_CHECK int ntm_wbuf_reserve(struct ntm_wbuf *w, uint8_t **p, size_t n);

#endif
