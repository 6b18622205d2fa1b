/* SPDX-License-Identifier: MIT */
#include "transport.h"

#include <string.h>

#include "crypto.h"

size_t ntm_transport_padded_len(size_t len, size_t mtu)
{
	size_t last = len, padded;

	/* As the Linux module: pad the last MTU-sized unit, never beyond the MTU. */
	if (mtu != 0 && last > mtu) {
		last %= mtu;
	}
	padded = (last + NTM_WG_DATA_PADDING - 1) / NTM_WG_DATA_PADDING * NTM_WG_DATA_PADDING;
	if (mtu != 0 && padded > mtu) {
		padded = mtu;
	}
	if (padded < last) {
		padded = last;
	}
	return len + (padded - last);
}

size_t ntm_transport_msg_len(size_t len, size_t mtu)
{
	return NTM_WG_DATA_HEADER_LEN + ntm_transport_padded_len(len, mtu) + NTM_WG_TAG_LEN;
}

int ntm_transport_encrypt(const struct ntm_noise_keypair *kp, const struct ntm_transport_pkt *p,
			  struct ntm_wbuf *w)
{
	struct ntm_crypto_msg m = { 0 };
	size_t padded, total;
	uint8_t *body;

	if (p->counter >= NTM_WG_REJECT_AFTER_MESSAGES) {
		return -ERANGE;
	}
	if (p->len > NTM_WG_MSG_MAX_LEN) {
		return -EMSGSIZE;
	}
	padded = ntm_transport_padded_len(p->len, p->mtu);
	total = NTM_WG_DATA_HEADER_LEN + padded + NTM_WG_TAG_LEN;
	if (total > NTM_WG_MSG_MAX_LEN || total > ntm_wbuf_remaining(w)) {
		return -EMSGSIZE;
	}
	if (ntm_wire_encode_data_header(w, kp->remote_index, p->counter) < 0 ||
	    ntm_wbuf_reserve(w, &body, padded + NTM_WG_TAG_LEN) < 0) {
		return -EMSGSIZE; /* unreachable: room was checked */
	}
	/* Pad in place, then encrypt in place. */
	if (p->len > 0) {
		memmove(body, p->plain, p->len);
	}
	memset(body + p->len, 0, padded - p->len);
	m.dst = body;
	m.src = body;
	m.src_len = padded;
	return ntm_crypto_aead_encrypt(&m, kp->send_key, p->counter);
}

int ntm_transport_decrypt(const struct ntm_noise_keypair *kp, const struct ntm_wg_data *msg,
			  uint8_t *out, size_t cap, size_t *out_len)
{
	struct ntm_crypto_msg m = { 0 };

	*out_len = 0;
	if (msg->receiver != kp->local_index) {
		return -ENOKEY;
	}
	if (msg->counter >= NTM_WG_REJECT_AFTER_MESSAGES) {
		return -ERANGE;
	}
	if (msg->payload_len < NTM_WG_TAG_LEN) {
		return -EBADMSG;
	}
	if (cap < msg->payload_len - NTM_WG_TAG_LEN) {
		return -EMSGSIZE;
	}
	m.dst = out;
	m.src = msg->payload;
	m.src_len = msg->payload_len;
	if (ntm_crypto_aead_decrypt(&m, kp->recv_key, msg->counter) < 0) {
		return -EBADMSG;
	}
	*out_len = msg->payload_len - NTM_WG_TAG_LEN;
	return 0;
}
