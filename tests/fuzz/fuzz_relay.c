/* SPDX-License-Identifier: MIT */
/*
 * Relay messages (common/relay.h): a frame that decodes re-encodes to the
 * same header and payload; a BIND/BIND_OK that decodes re-encodes to the
 * same 20 bytes, and its mac verifies against a fixed credential only when
 * the input's mac is that credential's. What does not decode leaves the
 * output zeroed.
 */
#include <stdlib.h>
#include <string.h>

#include "common/relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t cred[NTM_RELAY_CRED_LEN] = { 0x42 };

static void check_frame(const uint8_t *data, size_t size)
{
	static const struct ntm_relay_frame zero;
	struct ntm_relay_frame f;
	uint8_t hdr[NTM_RELAY_HEADER_LEN];
	struct ntm_wbuf w;

	if (ntm_relay_decode_frame(data, size, &f) < 0) {
		if (memcmp(&f, &zero, sizeof(f)) != 0) {
			abort();
		}
		return;
	}
	ntm_wbuf_init(&w, hdr, sizeof(hdr));
	if (ntm_relay_encode_frame_header(&w, f.session) < 0 ||
	    memcmp(hdr, data, sizeof(hdr)) != 0 || f.payload != data + NTM_RELAY_HEADER_LEN ||
	    f.payload_len != size - sizeof(hdr)) {
		abort();
	}
}

static void check_bind(const uint8_t *data, size_t size, bool ok)
{
	static const struct ntm_relay_bind zero;
	struct ntm_relay_bind b, c;
	uint8_t out[NTM_RELAY_BIND_LEN];
	struct ntm_wbuf w;

	if (ntm_relay_decode_bind(data, size, ok, &b) < 0) {
		if (memcmp(&b, &zero, sizeof(b)) != 0) {
			abort();
		}
		return;
	}
	ntm_wbuf_init(&w, out, sizeof(out));
	if (ntm_relay_encode_bind(&w, ok, &b, cred) < 0 || memcmp(out, data, 20) != 0 ||
	    ntm_relay_decode_bind(out, w.len, ok, &c) < 0 || c.counter != b.counter ||
	    !ntm_relay_bind_verify(out, w.len, cred) ||
	    ntm_relay_bind_verify(data, size, cred) != (memcmp(out, data, size) == 0)) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_frame(data, size);
	check_bind(data, size, false);
	check_bind(data, size, true);
	return 0;
}
