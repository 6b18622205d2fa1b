/* SPDX-License-Identifier: MIT */
#include "wire.h"

#include <string.h>

/*
 * Classification table: one row per accepted type. `exact` rows must have
 * precisely `len` bytes, the others at least `len` and at most `max`.
 */
struct wire_rule {
	uint8_t type;
	bool exact;
	size_t len;
	size_t max;
};

static const struct wire_rule wire_rules[] = {
	{ NTM_MSG_WG_INITIATION, true, NTM_WG_INITIATION_LEN, NTM_WG_INITIATION_LEN },
	{ NTM_MSG_WG_RESPONSE, true, NTM_WG_RESPONSE_LEN, NTM_WG_RESPONSE_LEN },
	{ NTM_MSG_WG_COOKIE_REPLY, true, NTM_WG_COOKIE_REPLY_LEN, NTM_WG_COOKIE_REPLY_LEN },
	{ NTM_MSG_WG_DATA, false, NTM_WG_DATA_MIN_LEN, NTM_WG_MSG_MAX_LEN },
	{ NTM_MSG_CTRL_INITIATION, true, NTM_WG_INITIATION_LEN, NTM_WG_INITIATION_LEN },
	{ NTM_MSG_CTRL_RESPONSE, true, NTM_WG_RESPONSE_LEN, NTM_WG_RESPONSE_LEN },
	{ NTM_MSG_CTRL_COOKIE_REPLY, true, NTM_WG_COOKIE_REPLY_LEN, NTM_WG_COOKIE_REPLY_LEN },
	{ NTM_MSG_CTRL_DATA, false, NTM_CTRL_DATA_MIN_LEN, NTM_CTRL_DATA_MAX_LEN },
	{ NTM_MSG_RELAY_FRAME, false, NTM_RELAY_FRAME_MIN_LEN, NTM_RELAY_FRAME_MAX_LEN },
	{ NTM_MSG_RELAY_BIND, true, NTM_RELAY_BIND_LEN, NTM_RELAY_BIND_LEN },
	{ NTM_MSG_RELAY_BIND_OK, true, NTM_RELAY_BIND_LEN, NTM_RELAY_BIND_LEN },
};

_Static_assert(NTM_WG_INITIATION_LEN == NTM_WG_HEADER_LEN + 4 + NTM_WG_KEY_LEN +
						NTM_WG_ENC_STATIC_LEN + NTM_WG_ENC_TIMESTAMP_LEN +
						NTM_WG_MACS_LEN,
	       "initiation layout");
_Static_assert(NTM_WG_RESPONSE_LEN == NTM_WG_HEADER_LEN + 8 + NTM_WG_KEY_LEN +
					      NTM_WG_ENC_NOTHING_LEN + NTM_WG_MACS_LEN,
	       "response layout");
_Static_assert(NTM_WG_COOKIE_REPLY_LEN ==
		       NTM_WG_HEADER_LEN + 4 + NTM_WG_COOKIE_NONCE_LEN + NTM_WG_ENC_COOKIE_LEN,
	       "cookie reply layout");

bool ntm_wire_is_ntm_type(uint8_t type)
{
	return type >= NTM_MSG_NTM_FIRST && type <= NTM_MSG_NTM_LAST;
}

int ntm_wire_classify(const uint8_t *buf, size_t len, enum ntm_msg_type *type)
{
	*type = 0;
	if (buf == NULL || len < NTM_WG_HEADER_LEN || len > NTM_WG_MSG_MAX_LEN) {
		return -EBADMSG;
	}
	if (buf[1] != 0 || buf[2] != 0 || buf[3] != 0) {
		return -EBADMSG;
	}
	for (size_t i = 0; i < sizeof(wire_rules) / sizeof(wire_rules[0]); i++) {
		const struct wire_rule *r = &wire_rules[i];

		if (buf[0] != r->type) {
			continue;
		}
		if (r->exact ? len != r->len : len < r->len || len > r->max) {
			return -EBADMSG;
		}
		*type = (enum ntm_msg_type)r->type;
		return 0;
	}
	return -EBADMSG;
}

/* Classifies, demands `want`, and positions `r` after the 4-byte header. */
static int open_msg(struct ntm_rbuf *r, const uint8_t *buf, size_t len, enum ntm_msg_type want)
{
	enum ntm_msg_type type;

	if (ntm_wire_classify(buf, len, &type) < 0 || type != want) {
		return -EBADMSG;
	}
	ntm_rbuf_init(r, buf, len);
	return ntm_rbuf_skip(r, NTM_WG_HEADER_LEN);
}

/*
 * Handshake initiation, whitepaper 5.4.2 (148 bytes, integers little-endian):
 *
 *   0        1        2        3
 *   +--------+--------+--------+--------+
 *   | type=1 |     reserved (zero)      |  0
 *   +--------+--------+--------+--------+
 *   |           sender index            |  4
 *   +-----------------------------------+
 *   |   unencrypted_ephemeral (32)      |  8
 *   +-----------------------------------+
 *   |   encrypted_static (32 + 16)      |  40
 *   +-----------------------------------+
 *   |   encrypted_timestamp (12 + 16)   |  88
 *   +-----------------------------------+
 *   |   mac1 (16)                       |  116
 *   +-----------------------------------+
 *   |   mac2 (16)                       |  132
 *   +-----------------------------------+  148
 */
static int decode_initiation(const uint8_t *buf, size_t len, enum ntm_msg_type type,
			     struct ntm_wg_initiation *out)
{
	struct ntm_rbuf r;

	memset(out, 0, sizeof(*out));
	if (open_msg(&r, buf, len, type) < 0 || ntm_rbuf_get_le32(&r, &out->sender) < 0 ||
	    ntm_rbuf_get_bytes(&r, out->ephemeral, sizeof(out->ephemeral)) < 0 ||
	    ntm_rbuf_get_bytes(&r, out->enc_static, sizeof(out->enc_static)) < 0 ||
	    ntm_rbuf_get_bytes(&r, out->enc_timestamp, sizeof(out->enc_timestamp)) < 0 ||
	    ntm_rbuf_get_bytes(&r, out->mac1, sizeof(out->mac1)) < 0 ||
	    ntm_rbuf_get_bytes(&r, out->mac2, sizeof(out->mac2)) < 0) {
		memset(out, 0, sizeof(*out));
		return -EBADMSG;
	}
	return 0;
}

/*
 * Handshake response, whitepaper 5.4.3 (92 bytes):
 *
 *   +--------+--------+--------+--------+
 *   | type=2 |     reserved (zero)      |  0
 *   +--------+--------+--------+--------+
 *   |           sender index            |  4
 *   +-----------------------------------+
 *   |          receiver index           |  8
 *   +-----------------------------------+
 *   |   unencrypted_ephemeral (32)      |  12
 *   +-----------------------------------+
 *   |   encrypted_nothing (0 + 16)      |  44
 *   +-----------------------------------+
 *   |   mac1 (16)                       |  60
 *   +-----------------------------------+
 *   |   mac2 (16)                       |  76
 *   +-----------------------------------+  92
 */
static int decode_response(const uint8_t *buf, size_t len, enum ntm_msg_type type,
			   struct ntm_wg_response *out)
{
	struct ntm_rbuf r;

	memset(out, 0, sizeof(*out));
	if (open_msg(&r, buf, len, type) < 0 || ntm_rbuf_get_le32(&r, &out->sender) < 0 ||
	    ntm_rbuf_get_le32(&r, &out->receiver) < 0 ||
	    ntm_rbuf_get_bytes(&r, out->ephemeral, sizeof(out->ephemeral)) < 0 ||
	    ntm_rbuf_get_bytes(&r, out->enc_nothing, sizeof(out->enc_nothing)) < 0 ||
	    ntm_rbuf_get_bytes(&r, out->mac1, sizeof(out->mac1)) < 0 ||
	    ntm_rbuf_get_bytes(&r, out->mac2, sizeof(out->mac2)) < 0) {
		memset(out, 0, sizeof(*out));
		return -EBADMSG;
	}
	return 0;
}

/*
 * Cookie reply, whitepaper 5.4.7 (64 bytes):
 *
 *   +--------+--------+--------+--------+
 *   | type=3 |     reserved (zero)      |  0
 *   +--------+--------+--------+--------+
 *   |          receiver index           |  4
 *   +-----------------------------------+
 *   |   nonce (24)                      |  8
 *   +-----------------------------------+
 *   |   encrypted_cookie (16 + 16)      |  32
 *   +-----------------------------------+  64
 */
static int decode_cookie_reply(const uint8_t *buf, size_t len, enum ntm_msg_type type,
			       struct ntm_wg_cookie_reply *out)
{
	struct ntm_rbuf r;

	memset(out, 0, sizeof(*out));
	if (open_msg(&r, buf, len, type) < 0 || ntm_rbuf_get_le32(&r, &out->receiver) < 0 ||
	    ntm_rbuf_get_bytes(&r, out->nonce, sizeof(out->nonce)) < 0 ||
	    ntm_rbuf_get_bytes(&r, out->enc_cookie, sizeof(out->enc_cookie)) < 0) {
		memset(out, 0, sizeof(*out));
		return -EBADMSG;
	}
	return 0;
}

/*
 * Transport data, whitepaper 5.4.6 (at least 32 bytes):
 *
 *   +--------+--------+--------+--------+
 *   | type=4 |     reserved (zero)      |  0
 *   +--------+--------+--------+--------+
 *   |          receiver index           |  4
 *   +-----------------------------------+
 *   |          counter (64 bits)        |  8
 *   +-----------------------------------+
 *   |   encrypted packet (len + 16)     |  16
 *   +-----------------------------------+
 */
static int decode_data(const uint8_t *buf, size_t len, enum ntm_msg_type type,
		       struct ntm_wg_data *out)
{
	struct ntm_rbuf r;

	memset(out, 0, sizeof(*out));
	if (open_msg(&r, buf, len, type) < 0 || ntm_rbuf_get_le32(&r, &out->receiver) < 0 ||
	    ntm_rbuf_get_le64(&r, &out->counter) < 0) {
		memset(out, 0, sizeof(*out));
		return -EBADMSG;
	}
	out->payload_len = ntm_rbuf_remaining(&r);
	out->payload = ntm_rbuf_cursor(&r);
	return 0;
}

/* Types 1-4 and their control twins 0x80-0x83 share the layouts above. */
int ntm_wire_decode_initiation(const uint8_t *buf, size_t len, struct ntm_wg_initiation *out)
{
	return decode_initiation(buf, len, NTM_MSG_WG_INITIATION, out);
}

int ntm_wire_decode_ctrl_initiation(const uint8_t *buf, size_t len, struct ntm_wg_initiation *out)
{
	return decode_initiation(buf, len, NTM_MSG_CTRL_INITIATION, out);
}

int ntm_wire_decode_response(const uint8_t *buf, size_t len, struct ntm_wg_response *out)
{
	return decode_response(buf, len, NTM_MSG_WG_RESPONSE, out);
}

int ntm_wire_decode_ctrl_response(const uint8_t *buf, size_t len, struct ntm_wg_response *out)
{
	return decode_response(buf, len, NTM_MSG_CTRL_RESPONSE, out);
}

int ntm_wire_decode_cookie_reply(const uint8_t *buf, size_t len, struct ntm_wg_cookie_reply *out)
{
	return decode_cookie_reply(buf, len, NTM_MSG_WG_COOKIE_REPLY, out);
}

int ntm_wire_decode_ctrl_cookie_reply(const uint8_t *buf, size_t len,
				      struct ntm_wg_cookie_reply *out)
{
	return decode_cookie_reply(buf, len, NTM_MSG_CTRL_COOKIE_REPLY, out);
}

int ntm_wire_decode_data(const uint8_t *buf, size_t len, struct ntm_wg_data *out)
{
	return decode_data(buf, len, NTM_MSG_WG_DATA, out);
}

/* Control data: the header is the AEAD's associated data (ctrl.c), the rest as type 4. */
int ntm_wire_decode_ctrl_data(const uint8_t *buf, size_t len, struct ntm_wg_data *out)
{
	return decode_data(buf, len, NTM_MSG_CTRL_DATA, out);
}

static int put_header(struct ntm_wbuf *w, enum ntm_msg_type type)
{
	if (ntm_wbuf_put_u8(w, (uint8_t)type) < 0 || ntm_wbuf_put_zero(w, 3) < 0) {
		return -EMSGSIZE;
	}
	return 0;
}

/* Every encoder checks room for the whole message first, so a failure writes nothing. */
static int encode_initiation(struct ntm_wbuf *w, enum ntm_msg_type type,
			     const struct ntm_wg_initiation *m)
{
	if (ntm_wbuf_remaining(w) < NTM_WG_INITIATION_LEN) {
		return -EMSGSIZE;
	}
	if (put_header(w, type) < 0 || ntm_wbuf_put_le32(w, m->sender) < 0 ||
	    ntm_wbuf_put_bytes(w, m->ephemeral, sizeof(m->ephemeral)) < 0 ||
	    ntm_wbuf_put_bytes(w, m->enc_static, sizeof(m->enc_static)) < 0 ||
	    ntm_wbuf_put_bytes(w, m->enc_timestamp, sizeof(m->enc_timestamp)) < 0 ||
	    ntm_wbuf_put_bytes(w, m->mac1, sizeof(m->mac1)) < 0 ||
	    ntm_wbuf_put_bytes(w, m->mac2, sizeof(m->mac2)) < 0) {
		return -EMSGSIZE; /* unreachable: room was checked */
	}
	return 0;
}

static int encode_response(struct ntm_wbuf *w, enum ntm_msg_type type,
			   const struct ntm_wg_response *m)
{
	if (ntm_wbuf_remaining(w) < NTM_WG_RESPONSE_LEN) {
		return -EMSGSIZE;
	}
	if (put_header(w, type) < 0 || ntm_wbuf_put_le32(w, m->sender) < 0 ||
	    ntm_wbuf_put_le32(w, m->receiver) < 0 ||
	    ntm_wbuf_put_bytes(w, m->ephemeral, sizeof(m->ephemeral)) < 0 ||
	    ntm_wbuf_put_bytes(w, m->enc_nothing, sizeof(m->enc_nothing)) < 0 ||
	    ntm_wbuf_put_bytes(w, m->mac1, sizeof(m->mac1)) < 0 ||
	    ntm_wbuf_put_bytes(w, m->mac2, sizeof(m->mac2)) < 0) {
		return -EMSGSIZE;
	}
	return 0;
}

static int encode_cookie_reply(struct ntm_wbuf *w, enum ntm_msg_type type,
			       const struct ntm_wg_cookie_reply *m)
{
	if (ntm_wbuf_remaining(w) < NTM_WG_COOKIE_REPLY_LEN) {
		return -EMSGSIZE;
	}
	if (put_header(w, type) < 0 || ntm_wbuf_put_le32(w, m->receiver) < 0 ||
	    ntm_wbuf_put_bytes(w, m->nonce, sizeof(m->nonce)) < 0 ||
	    ntm_wbuf_put_bytes(w, m->enc_cookie, sizeof(m->enc_cookie)) < 0) {
		return -EMSGSIZE;
	}
	return 0;
}

static int encode_data_header(struct ntm_wbuf *w, enum ntm_msg_type type, uint32_t receiver,
			      uint64_t counter)
{
	if (ntm_wbuf_remaining(w) < NTM_WG_DATA_HEADER_LEN) {
		return -EMSGSIZE;
	}
	if (put_header(w, type) < 0 || ntm_wbuf_put_le32(w, receiver) < 0 ||
	    ntm_wbuf_put_le64(w, counter) < 0) {
		return -EMSGSIZE;
	}
	return 0;
}

static int encode_data(struct ntm_wbuf *w, enum ntm_msg_type type, size_t max,
		       const struct ntm_wg_data *m)
{
	if (m->payload_len < NTM_WG_TAG_LEN || m->payload_len > max - NTM_WG_DATA_HEADER_LEN) {
		return -EINVAL;
	}
	if (ntm_wbuf_remaining(w) < NTM_WG_DATA_HEADER_LEN + m->payload_len) {
		return -EMSGSIZE;
	}
	if (encode_data_header(w, type, m->receiver, m->counter) < 0 ||
	    ntm_wbuf_put_bytes(w, m->payload, m->payload_len) < 0) {
		return -EMSGSIZE;
	}
	return 0;
}

int ntm_wire_encode_initiation(struct ntm_wbuf *w, const struct ntm_wg_initiation *m)
{
	return encode_initiation(w, NTM_MSG_WG_INITIATION, m);
}

int ntm_wire_encode_ctrl_initiation(struct ntm_wbuf *w, const struct ntm_wg_initiation *m)
{
	return encode_initiation(w, NTM_MSG_CTRL_INITIATION, m);
}

int ntm_wire_encode_response(struct ntm_wbuf *w, const struct ntm_wg_response *m)
{
	return encode_response(w, NTM_MSG_WG_RESPONSE, m);
}

int ntm_wire_encode_ctrl_response(struct ntm_wbuf *w, const struct ntm_wg_response *m)
{
	return encode_response(w, NTM_MSG_CTRL_RESPONSE, m);
}

int ntm_wire_encode_cookie_reply(struct ntm_wbuf *w, const struct ntm_wg_cookie_reply *m)
{
	return encode_cookie_reply(w, NTM_MSG_WG_COOKIE_REPLY, m);
}

int ntm_wire_encode_ctrl_cookie_reply(struct ntm_wbuf *w, const struct ntm_wg_cookie_reply *m)
{
	return encode_cookie_reply(w, NTM_MSG_CTRL_COOKIE_REPLY, m);
}

int ntm_wire_encode_data_header(struct ntm_wbuf *w, uint32_t receiver, uint64_t counter)
{
	return encode_data_header(w, NTM_MSG_WG_DATA, receiver, counter);
}

int ntm_wire_encode_ctrl_data_header(struct ntm_wbuf *w, uint32_t receiver, uint64_t counter)
{
	return encode_data_header(w, NTM_MSG_CTRL_DATA, receiver, counter);
}

int ntm_wire_encode_data(struct ntm_wbuf *w, const struct ntm_wg_data *m)
{
	return encode_data(w, NTM_MSG_WG_DATA, NTM_WG_MSG_MAX_LEN, m);
}

int ntm_wire_encode_ctrl_data(struct ntm_wbuf *w, const struct ntm_wg_data *m)
{
	return encode_data(w, NTM_MSG_CTRL_DATA, NTM_CTRL_DATA_MAX_LEN, m);
}
