/* SPDX-License-Identifier: MIT */
/*
 * Control messages (common/ctrlmsg.h): whatever decodes must encode, and
 * decode -> encode -> decode must give the same value; what does not decode
 * leaves the output zeroed (or only kind and request id for -ENOTSUP). The
 * control layouts of wire.h (0x80-0x83) are covered by fuzz_wire.
 */
#include <stdlib.h>
#include <string.h>

#include "common/ctrlmsg.h"
#include "common/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ntm_ctrl_msg zero;
	struct ntm_ctrl_msg a, b;
	uint8_t out[NTM_CTRL_PLAIN_MAX];
	struct ntm_wbuf w;
	int rc = ntm_ctrl_msg_decode(data, size, &a);

	if (rc == -ENOTSUP) {
		if (a.attrs != 0 || a.n_cand != 0) {
			abort();
		}
		return 0;
	}
	if (rc < 0) {
		if (memcmp(&a, &zero, sizeof(a)) != 0) {
			abort();
		}
		return 0;
	}
	ntm_wbuf_init(&w, out, sizeof(out));
	if (ntm_ctrl_msg_encode(&w, &a) < 0 || w.len > size ||
	    ntm_ctrl_msg_decode(out, w.len, &b) < 0 || memcmp(&a, &b, sizeof(a)) != 0) {
		abort();
	}
	return 0;
}
