/* SPDX-License-Identifier: MIT */
#include "relay.h"

#include <sodium.h>
#include <string.h>

#include "crypto.h"

_Static_assert((int)NTM_RELAY_MAC_LEN == (int)NTM_CRYPTO_MAC_LEN, "relay mac is the crypto MAC");
_Static_assert(NTM_RELAY_BIND_LEN == 4 + 4 + 4 + 8 + NTM_RELAY_MAC_LEN, "bind layout");

enum { BIND_MAC_OFF = NTM_RELAY_BIND_LEN - NTM_RELAY_MAC_LEN };

/*
 * Relay frame (DESIGN "Transport and demultiplexing"; integers big-endian):
 *
 *   0        1        2        3
 *   +--------+--------+--------+--------+
 *   |type=84h|     reserved (zero)      |  0
 *   +--------+--------+--------+--------+
 *   |          session id (be32)        |  4
 *   +-----------------------------------+
 *   |  WireGuard message (type 1-4,     |  8
 *   |  forwarded as is)                 |
 *   +-----------------------------------+
 *
 * Overhead: NTM_RELAY_OVERHEAD = 8 bytes. The RS forwards the whole frame,
 * header included, so the receiver knows the session it came through.
 */
int ntm_relay_decode_frame(const uint8_t *buf, size_t len, struct ntm_relay_frame *out)
{
	enum ntm_msg_type type;
	struct ntm_rbuf r;
	uint8_t inner;

	memset(out, 0, sizeof(*out));
	if (ntm_wire_classify(buf, len, &type) < 0 || type != NTM_MSG_RELAY_FRAME) {
		return -EBADMSG;
	}
	ntm_rbuf_init(&r, buf, len);
	if (ntm_rbuf_skip(&r, NTM_WG_HEADER_LEN) < 0 || ntm_rbuf_get_be32(&r, &out->session) < 0 ||
	    out->session == 0) {
		memset(out, 0, sizeof(*out));
		return -EBADMSG;
	}
	inner = buf[NTM_RELAY_HEADER_LEN];
	if (inner < NTM_MSG_WG_INITIATION || inner > NTM_MSG_WG_DATA) {
		memset(out, 0, sizeof(*out));
		return -EBADMSG; /* only WireGuard is relayed: no loops of relay frames */
	}
	out->payload = ntm_rbuf_cursor(&r);
	out->payload_len = ntm_rbuf_remaining(&r);
	return 0;
}

int ntm_relay_encode_frame_header(struct ntm_wbuf *w, uint32_t session)
{
	size_t start = w->len;

	if (ntm_wbuf_put_u8(w, NTM_MSG_RELAY_FRAME) < 0 || ntm_wbuf_put_zero(w, 3) < 0 ||
	    ntm_wbuf_put_be32(w, session) < 0) {
		w->len = start;
		return -EMSGSIZE;
	}
	return 0;
}

/*
 * BIND (node -> RS) and BIND_OK (RS -> node), 36 bytes, big-endian:
 *
 *   0        1        2        3
 *   +--------+--------+--------+--------+
 *   |85h/86h |     reserved (zero)      |  0
 *   +--------+--------+--------+--------+
 *   |          session id (be32)        |  4
 *   +--------+--------+--------+--------+
 *   |  side  |     reserved (zero)      |  8   side: 0 = A, 1 = B
 *   +--------+--------+--------+--------+
 *   |          counter (be64)           |  12
 *   |                                   |
 *   +-----------------------------------+
 *   |  mac (16) = MAC(credential,       |  20
 *   |             bytes 0..19)          |
 *   +-----------------------------------+  36
 *
 * MAC is keyed BLAKE2s-128 (crypto.h). The type byte is covered, so a BIND
 * cannot be reflected as a BIND_OK.
 */
int ntm_relay_decode_bind(const uint8_t *buf, size_t len, bool ok, struct ntm_relay_bind *out)
{
	enum ntm_msg_type type;
	struct ntm_rbuf r;
	uint8_t zero[3];

	memset(out, 0, sizeof(*out));
	if (ntm_wire_classify(buf, len, &type) < 0 ||
	    type != (ok ? NTM_MSG_RELAY_BIND_OK : NTM_MSG_RELAY_BIND)) {
		return -EBADMSG;
	}
	ntm_rbuf_init(&r, buf, len);
	if (ntm_rbuf_skip(&r, NTM_WG_HEADER_LEN) < 0 || ntm_rbuf_get_be32(&r, &out->session) < 0 ||
	    ntm_rbuf_get_u8(&r, &out->side) < 0 || ntm_rbuf_get_bytes(&r, zero, 3) < 0 ||
	    ntm_rbuf_get_be64(&r, &out->counter) < 0 ||
	    ntm_rbuf_get_bytes(&r, out->mac, sizeof(out->mac)) < 0 || out->session == 0 ||
	    out->side > NTM_RELAY_SIDE_B || (zero[0] | zero[1] | zero[2]) != 0) {
		memset(out, 0, sizeof(*out));
		return -EBADMSG;
	}
	return 0;
}

int ntm_relay_encode_bind(struct ntm_wbuf *w, bool ok, const struct ntm_relay_bind *b,
			  const uint8_t cred[NTM_RELAY_CRED_LEN])
{
	size_t start = w->len;
	uint8_t *msg, *mac;

	if (b->session == 0 || b->side > NTM_RELAY_SIDE_B) {
		return -EINVAL;
	}
	if (ntm_wbuf_put_u8(w, ok ? NTM_MSG_RELAY_BIND_OK : NTM_MSG_RELAY_BIND) < 0 ||
	    ntm_wbuf_put_zero(w, 3) < 0 || ntm_wbuf_put_be32(w, b->session) < 0 ||
	    ntm_wbuf_put_u8(w, b->side) < 0 || ntm_wbuf_put_zero(w, 3) < 0 ||
	    ntm_wbuf_put_be64(w, b->counter) < 0 ||
	    ntm_wbuf_reserve(w, &mac, NTM_RELAY_MAC_LEN) < 0) {
		w->len = start;
		return -EMSGSIZE;
	}
	msg = w->data + start;
	ntm_crypto_mac(mac, cred, NTM_RELAY_CRED_LEN, msg, BIND_MAC_OFF);
	return 0;
}

bool ntm_relay_bind_verify(const uint8_t *buf, size_t len, const uint8_t cred[NTM_RELAY_CRED_LEN])
{
	uint8_t want[NTM_RELAY_MAC_LEN];
	bool ok;

	if (len != NTM_RELAY_BIND_LEN) {
		return false;
	}
	ntm_crypto_mac(want, cred, NTM_RELAY_CRED_LEN, buf, BIND_MAC_OFF);
	ok = crypto_verify_16(want, buf + BIND_MAC_OFF) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}
