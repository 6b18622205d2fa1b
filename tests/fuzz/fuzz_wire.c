/* SPDX-License-Identifier: MIT */
/*
 * WireGuard and control channel codecs (wire.h): whatever the dispatcher accepts must decode,
 * decode -> encode must give back the very same bytes, which must decode to
 * the same value again; whatever it refuses, every decoder must refuse too.
 */
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Encoded bytes must equal the input; a second decode must equal the first. */
static void check_same(const uint8_t *a, size_t alen, const struct ntm_wbuf *w)
{
	if (w->len != alen || memcmp(w->data, a, alen) != 0) {
		abort();
	}
}

static void round_trip(const uint8_t *data, size_t size, enum ntm_msg_type type, uint8_t *out)
{
	struct ntm_wbuf w;
	union {
		struct ntm_wg_initiation i;
		struct ntm_wg_response r;
		struct ntm_wg_cookie_reply c;
		struct ntm_wg_data d;
	} a, b;

	ntm_wbuf_init(&w, out, NTM_WG_MSG_MAX_LEN);
	switch (type) {
	case NTM_MSG_WG_INITIATION:
		if (ntm_wire_decode_initiation(data, size, &a.i) < 0 ||
		    ntm_wire_encode_initiation(&w, &a.i) < 0 ||
		    ntm_wire_decode_initiation(out, w.len, &b.i) < 0 ||
		    memcmp(&a.i, &b.i, sizeof(a.i)) != 0) {
			abort();
		}
		break;
	case NTM_MSG_WG_RESPONSE:
		if (ntm_wire_decode_response(data, size, &a.r) < 0 ||
		    ntm_wire_encode_response(&w, &a.r) < 0 ||
		    ntm_wire_decode_response(out, w.len, &b.r) < 0 ||
		    memcmp(&a.r, &b.r, sizeof(a.r)) != 0) {
			abort();
		}
		break;
	case NTM_MSG_WG_COOKIE_REPLY:
		if (ntm_wire_decode_cookie_reply(data, size, &a.c) < 0 ||
		    ntm_wire_encode_cookie_reply(&w, &a.c) < 0 ||
		    ntm_wire_decode_cookie_reply(out, w.len, &b.c) < 0 ||
		    memcmp(&a.c, &b.c, sizeof(a.c)) != 0) {
			abort();
		}
		break;
	case NTM_MSG_WG_DATA:
		if (ntm_wire_decode_data(data, size, &a.d) < 0 ||
		    ntm_wire_encode_data(&w, &a.d) < 0 ||
		    ntm_wire_decode_data(out, w.len, &b.d) < 0 || a.d.receiver != b.d.receiver ||
		    a.d.counter != b.d.counter || a.d.payload_len != b.d.payload_len ||
		    memcmp(a.d.payload, b.d.payload, a.d.payload_len) != 0) {
			abort();
		}
		break;
	case NTM_MSG_CTRL_INITIATION:
		if (ntm_wire_decode_ctrl_initiation(data, size, &a.i) < 0 ||
		    ntm_wire_encode_ctrl_initiation(&w, &a.i) < 0 ||
		    ntm_wire_decode_ctrl_initiation(out, w.len, &b.i) < 0 ||
		    memcmp(&a.i, &b.i, sizeof(a.i)) != 0) {
			abort();
		}
		break;
	case NTM_MSG_CTRL_RESPONSE:
		if (ntm_wire_decode_ctrl_response(data, size, &a.r) < 0 ||
		    ntm_wire_encode_ctrl_response(&w, &a.r) < 0 ||
		    ntm_wire_decode_ctrl_response(out, w.len, &b.r) < 0 ||
		    memcmp(&a.r, &b.r, sizeof(a.r)) != 0) {
			abort();
		}
		break;
	case NTM_MSG_CTRL_COOKIE_REPLY:
		if (ntm_wire_decode_ctrl_cookie_reply(data, size, &a.c) < 0 ||
		    ntm_wire_encode_ctrl_cookie_reply(&w, &a.c) < 0 ||
		    ntm_wire_decode_ctrl_cookie_reply(out, w.len, &b.c) < 0 ||
		    memcmp(&a.c, &b.c, sizeof(a.c)) != 0) {
			abort();
		}
		break;
	case NTM_MSG_CTRL_DATA:
		if (ntm_wire_decode_ctrl_data(data, size, &a.d) < 0 ||
		    ntm_wire_encode_ctrl_data(&w, &a.d) < 0 ||
		    ntm_wire_decode_ctrl_data(out, w.len, &b.d) < 0 ||
		    a.d.receiver != b.d.receiver || a.d.counter != b.d.counter ||
		    a.d.payload_len != b.d.payload_len ||
		    memcmp(a.d.payload, b.d.payload, a.d.payload_len) != 0) {
			abort();
		}
		break;
	case NTM_MSG_RELAY_FRAME:
	case NTM_MSG_RELAY_BIND:
	case NTM_MSG_RELAY_BIND_OK:
		return; /* relay.h's codecs: fuzz_relay */
	default:
		abort(); /* the dispatcher returned a type without a codec */
	}
	check_same(data, size, &w);
}

static void all_refuse(const uint8_t *data, size_t size)
{
	struct ntm_wg_initiation i;
	struct ntm_wg_response r;
	struct ntm_wg_cookie_reply c;
	struct ntm_wg_data d;

	if (ntm_wire_decode_initiation(data, size, &i) == 0 ||
	    ntm_wire_decode_response(data, size, &r) == 0 ||
	    ntm_wire_decode_cookie_reply(data, size, &c) == 0 ||
	    ntm_wire_decode_data(data, size, &d) == 0 ||
	    ntm_wire_decode_ctrl_initiation(data, size, &i) == 0 ||
	    ntm_wire_decode_ctrl_response(data, size, &r) == 0 ||
	    ntm_wire_decode_ctrl_cookie_reply(data, size, &c) == 0 ||
	    ntm_wire_decode_ctrl_data(data, size, &d) == 0) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum ntm_msg_type type;
	uint8_t *out;

	if (ntm_wire_classify(data, size, &type) < 0) {
		all_refuse(data, size);
		return 0;
	}
	out = malloc(NTM_WG_MSG_MAX_LEN);
	if (out == NULL) {
		return 0;
	}
	round_trip(data, size, type, out);
	free(out);
	return 0;
}
