/* SPDX-License-Identifier: MIT */
#ifndef NTM_WIRE_H
#define NTM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

/*
 * Every message type, length and limit ntm puts on the wire, and the codecs
 * for WireGuard's four messages (whitepaper section 5.4, "Protocol
 * Messages"; the same layouts as the Linux module's messages.h).
 *
 * The first byte of every datagram on an ntm UDP socket is a message type.
 * WireGuard's messages start with a little-endian 32-bit type, i.e. the type
 * byte followed by three reserved bytes that must be zero. ntm's own control
 * and relay messages use the type bytes NTM_MSG_NTM_FIRST..NTM_MSG_NTM_LAST,
 * far from WireGuard's 1..4 so that neither protocol can misread the other;
 * every one of them has a row in the classification table in wire.c.
 *
 * Control channel (node<->DC, node<->RS, RS<->DC, DC<->DC; ctrl.h): the
 * same four layouts as WireGuard's, under the type bytes 0x80..0x83, and
 * the same handshake under its own Noise identifier (noise.h,
 * NTM_NOISE_CONTROL). mac1/mac2 cover the type byte, so a control message
 * can never pass a WireGuard mac check or the other way round. Control data
 * differs in two points: its 16-byte header is authenticated (the AEAD's
 * associated data), and its plaintext (a ctrlmsg.h message, padded to 16
 * bytes) is at most NTM_CTRL_PLAIN_MAX bytes, so a control data message is
 * NTM_CTRL_DATA_MIN_LEN..NTM_CTRL_DATA_MAX_LEN bytes.
 */
enum ntm_msg_type {
	NTM_MSG_WG_INITIATION = 1,
	NTM_MSG_WG_RESPONSE = 2,
	NTM_MSG_WG_COOKIE_REPLY = 3,
	NTM_MSG_WG_DATA = 4,
	NTM_MSG_NTM_FIRST = 0x80,	  /* reserved for ntm control and relay messages */
	NTM_MSG_CTRL_INITIATION = 0x80,	  /* layout of type 1, 148 bytes */
	NTM_MSG_CTRL_RESPONSE = 0x81,	  /* layout of type 2, 92 bytes */
	NTM_MSG_CTRL_COOKIE_REPLY = 0x82, /* layout of type 3, 64 bytes */
	NTM_MSG_CTRL_DATA = 0x83,	  /* layout of type 4, 32..1248 bytes */
	NTM_MSG_RELAY_FRAME = 0x84,	  /* relay.h: session id + a WireGuard message */
	NTM_MSG_RELAY_BIND = 0x85,	  /* relay.h: node -> RS, 36 bytes */
	NTM_MSG_RELAY_BIND_OK = 0x86,	  /* relay.h: RS -> node, 36 bytes */
	NTM_MSG_NTM_LAST = 0xbf,
};

enum ntm_ctrl_len {
	NTM_CTRL_PLAIN_MAX = 1216, /* a multiple of NTM_WG_DATA_PADDING */
	NTM_CTRL_DATA_MIN_LEN = 16 + 16,
	NTM_CTRL_DATA_MAX_LEN = 16 + NTM_CTRL_PLAIN_MAX + 16, /* 1248: fits any path MTU >= 1280 */
};

enum ntm_wg_len {
	NTM_WG_KEY_LEN = 32,
	NTM_WG_HASH_LEN = 32,
	NTM_WG_TAG_LEN = 16,
	NTM_WG_TIMESTAMP_LEN = 12,
	NTM_WG_MAC_LEN = 16,
	NTM_WG_COOKIE_LEN = 16,
	NTM_WG_COOKIE_NONCE_LEN = 24,
	NTM_WG_HEADER_LEN = 4, /* type byte + 3 reserved zero bytes */

	NTM_WG_ENC_STATIC_LEN = NTM_WG_KEY_LEN + NTM_WG_TAG_LEN,
	NTM_WG_ENC_TIMESTAMP_LEN = NTM_WG_TIMESTAMP_LEN + NTM_WG_TAG_LEN,
	NTM_WG_ENC_NOTHING_LEN = NTM_WG_TAG_LEN,
	NTM_WG_ENC_COOKIE_LEN = NTM_WG_COOKIE_LEN + NTM_WG_TAG_LEN,

	NTM_WG_INITIATION_LEN = 148,
	NTM_WG_RESPONSE_LEN = 92,
	NTM_WG_COOKIE_REPLY_LEN = 64,
	NTM_WG_DATA_HEADER_LEN = 16,
	NTM_WG_DATA_MIN_LEN = NTM_WG_DATA_HEADER_LEN + NTM_WG_TAG_LEN, /* keepalive: 32 */
	NTM_WG_DATA_PADDING = 16, /* plaintext padded to a multiple of this */

	/* mac1 and mac2 are the last 32 bytes of an initiation or response. */
	NTM_WG_MACS_LEN = 2 * NTM_WG_MAC_LEN,
	NTM_WG_INITIATION_MAC1_OFF = NTM_WG_INITIATION_LEN - NTM_WG_MACS_LEN, /* 116 */
	NTM_WG_INITIATION_MAC2_OFF = NTM_WG_INITIATION_LEN - NTM_WG_MAC_LEN,  /* 132 */
	NTM_WG_RESPONSE_MAC1_OFF = NTM_WG_RESPONSE_LEN - NTM_WG_MACS_LEN,     /* 60 */
	NTM_WG_RESPONSE_MAC2_OFF = NTM_WG_RESPONSE_LEN - NTM_WG_MAC_LEN,      /* 76 */

	/* No datagram (IPv4 or IPv6 UDP payload) is larger; bigger input is refused. */
	NTM_WG_MSG_MAX_LEN = 65535,
};

/* Relay messages (relay.h). */
enum ntm_relay_len {
	NTM_RELAY_HEADER_LEN = 8, /* relay frame: type, 3 zero bytes, be32 session id */
	NTM_RELAY_CRED_LEN = 32,  /* session credential (a BLAKE2s key) */
	NTM_RELAY_MAC_LEN = 16,	  /* keyed BLAKE2s-128 */
	NTM_RELAY_BIND_LEN = 36,  /* BIND and BIND_OK */
	/*
	 * What a relay frame adds to the WireGuard message it carries: a node
	 * whose tunnel may be relayed lowers its tunnel MTU by this much, on top
	 * of WireGuard's 32 bytes and the outer IP/UDP headers (1420 -> 1412).
	 */
	NTM_RELAY_OVERHEAD = NTM_RELAY_HEADER_LEN,
	/* A frame carries at least a WireGuard message (4 bytes: its header). */
	NTM_RELAY_FRAME_MIN_LEN = NTM_RELAY_HEADER_LEN + NTM_WG_HEADER_LEN,
	NTM_RELAY_FRAME_MAX_LEN = NTM_WG_MSG_MAX_LEN,
	NTM_RELAY_REFRESH_S = 20, /* a node re-binds at least this often */
};

/*
 * Whitepaper 5.4.6 / 6.1: a sender must not use a counter at or beyond
 * Reject-After-Messages (2^64 - 2^13 - 1); a receiver rejects such counters.
 * Rekey-After-Messages (2^60) asks for a new handshake. (64-bit values, so
 * these two cannot be enum members.)
 */
#define NTM_WG_REKEY_AFTER_MESSAGES  (UINT64_C(1) << 60)
#define NTM_WG_REJECT_AFTER_MESSAGES (UINT64_MAX - (UINT64_C(1) << 13))

/* Initiation (type 1): decoded value, all fields copied out of the datagram. */
struct ntm_wg_initiation {
	uint32_t sender;
	uint8_t ephemeral[NTM_WG_KEY_LEN];
	uint8_t enc_static[NTM_WG_ENC_STATIC_LEN];
	uint8_t enc_timestamp[NTM_WG_ENC_TIMESTAMP_LEN];
	uint8_t mac1[NTM_WG_MAC_LEN];
	uint8_t mac2[NTM_WG_MAC_LEN];
};

/* Response (type 2). */
struct ntm_wg_response {
	uint32_t sender;
	uint32_t receiver;
	uint8_t ephemeral[NTM_WG_KEY_LEN];
	uint8_t enc_nothing[NTM_WG_ENC_NOTHING_LEN];
	uint8_t mac1[NTM_WG_MAC_LEN];
	uint8_t mac2[NTM_WG_MAC_LEN];
};

/* Cookie reply (type 3). */
struct ntm_wg_cookie_reply {
	uint32_t receiver;
	uint8_t nonce[NTM_WG_COOKIE_NONCE_LEN];
	uint8_t enc_cookie[NTM_WG_ENC_COOKIE_LEN];
};

/*
 * Transport data (type 4). `payload` (ciphertext || tag, payload_len >= 16)
 * is borrowed from the datagram passed to the decoder and is valid only as
 * long as that buffer is.
 */
struct ntm_wg_data {
	uint32_t receiver;
	uint64_t counter;
	const uint8_t *payload;
	size_t payload_len;
};

/*
 * The single dispatcher: checks the type byte, the three reserved zero bytes
 * and the exact (types 1-3, 0x80-0x82) or minimum (types 4, 0x83) length,
 * and the maximum (control data: NTM_CTRL_DATA_MAX_LEN; else
 * NTM_WG_MSG_MAX_LEN), before any handler may look at the message. Sets
 * *type (0 on failure) and returns 0, or -EBADMSG for anything else (types
 * of ntm's reserved range that have no row yet included).
 */
NTM_MUST_CHECK int ntm_wire_classify(const uint8_t *buf, size_t len, enum ntm_msg_type *type);

/* True for a type byte in ntm's own reserved range. */
bool ntm_wire_is_ntm_type(uint8_t type);

/*
 * Decoders: each classifies first, so it accepts exactly what the dispatcher
 * accepts for its type, and returns -EBADMSG for anything else. `out` is
 * zeroed on entry; `buf` is borrowed for the call only (except the payload
 * pointer of ntm_wg_data, see above).
 */
NTM_MUST_CHECK int ntm_wire_decode_initiation(const uint8_t *buf, size_t len,
					      struct ntm_wg_initiation *out);
NTM_MUST_CHECK int ntm_wire_decode_response(const uint8_t *buf, size_t len,
					    struct ntm_wg_response *out);
NTM_MUST_CHECK int ntm_wire_decode_cookie_reply(const uint8_t *buf, size_t len,
						struct ntm_wg_cookie_reply *out);
NTM_MUST_CHECK int ntm_wire_decode_data(const uint8_t *buf, size_t len, struct ntm_wg_data *out);

/*
 * Encoders append one whole message to `w`, or nothing: -EMSGSIZE when it
 * does not fit. Data: -EINVAL when payload_len is below a tag or the message
 * would exceed NTM_WG_MSG_MAX_LEN. ntm_wire_encode_data_header writes only
 * the 16-byte header (the caller encrypts the payload after it).
 */
NTM_MUST_CHECK int ntm_wire_encode_initiation(struct ntm_wbuf *w,
					      const struct ntm_wg_initiation *m);
NTM_MUST_CHECK int ntm_wire_encode_response(struct ntm_wbuf *w, const struct ntm_wg_response *m);
NTM_MUST_CHECK int ntm_wire_encode_cookie_reply(struct ntm_wbuf *w,
						const struct ntm_wg_cookie_reply *m);
NTM_MUST_CHECK int ntm_wire_encode_data(struct ntm_wbuf *w, const struct ntm_wg_data *m);
NTM_MUST_CHECK int ntm_wire_encode_data_header(struct ntm_wbuf *w, uint32_t receiver,
					       uint64_t counter);

/*
 * Control channel codecs: the same values and rules as the WireGuard
 * decoders and encoders above, for the types NTM_MSG_CTRL_*. A control
 * data message decodes into struct ntm_wg_data (payload borrowed likewise);
 * ntm_wire_encode_ctrl_data returns -EINVAL for a payload that would exceed
 * NTM_CTRL_DATA_MAX_LEN.
 */
NTM_MUST_CHECK int ntm_wire_decode_ctrl_initiation(const uint8_t *buf, size_t len,
						   struct ntm_wg_initiation *out);
NTM_MUST_CHECK int ntm_wire_decode_ctrl_response(const uint8_t *buf, size_t len,
						 struct ntm_wg_response *out);
NTM_MUST_CHECK int ntm_wire_decode_ctrl_cookie_reply(const uint8_t *buf, size_t len,
						     struct ntm_wg_cookie_reply *out);
NTM_MUST_CHECK int ntm_wire_decode_ctrl_data(const uint8_t *buf, size_t len,
					     struct ntm_wg_data *out);
NTM_MUST_CHECK int ntm_wire_encode_ctrl_initiation(struct ntm_wbuf *w,
						   const struct ntm_wg_initiation *m);
NTM_MUST_CHECK int ntm_wire_encode_ctrl_response(struct ntm_wbuf *w,
						 const struct ntm_wg_response *m);
NTM_MUST_CHECK int ntm_wire_encode_ctrl_cookie_reply(struct ntm_wbuf *w,
						     const struct ntm_wg_cookie_reply *m);
NTM_MUST_CHECK int ntm_wire_encode_ctrl_data(struct ntm_wbuf *w, const struct ntm_wg_data *m);
NTM_MUST_CHECK int ntm_wire_encode_ctrl_data_header(struct ntm_wbuf *w, uint32_t receiver,
						    uint64_t counter);

#endif
