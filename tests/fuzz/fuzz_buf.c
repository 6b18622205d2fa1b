/* SPDX-License-Identifier: MIT */
/*
 * Drives the read cursor with a little program taken from the input itself:
 * each opcode byte selects a getter, so the fuzzer explores every width and
 * endianness at every offset, and checks the invariants a decoder relies on.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_step(struct ntm_rbuf *r, uint8_t op)
{
	size_t before = r->off;
	size_t want[] = { 1, 2, 4, 8, 2, 4, 8, 3 };
	size_t n = want[op % 8];
	int rc = 0;
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	uint8_t tmp[3];

	switch (op % 8) {
	case 0: rc = ntm_rbuf_get_u8(r, &v8); break;
	case 1: rc = ntm_rbuf_get_be16(r, &v16); break;
	case 2: rc = ntm_rbuf_get_be32(r, &v32); break;
	case 3: rc = ntm_rbuf_get_be64(r, &v64); break;
	case 4: rc = ntm_rbuf_get_le16(r, &v16); break;
	case 5: rc = ntm_rbuf_get_le32(r, &v32); break;
	case 6: rc = ntm_rbuf_get_le64(r, &v64); break;
	default: rc = ntm_rbuf_get_bytes(r, tmp, sizeof(tmp)); break;
	}
	if (rc == 0) {
		if (r->off != before + n) {
			abort();
		}
	} else if (rc != -EBADMSG || r->off != before) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntm_rbuf prog, r;
	uint8_t op;

	if (size < 1) {
		return 0;
	}
	/* The first byte splits the input into an opcode stream and a payload. */
	size_t split = data[0] % size;

	ntm_rbuf_init(&prog, data + 1, split > 0 ? split - 1 : 0);
	ntm_rbuf_init(&r, data + split, size - split);
	while (ntm_rbuf_get_u8(&prog, &op) == 0) {
		check_step(&r, op);
	}
	return 0;
}
