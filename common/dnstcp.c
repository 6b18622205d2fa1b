/* SPDX-License-Identifier: MIT */
#include "dnstcp.h"

#include <errno.h>
#include <string.h>

int ntm_dnstcp_next(const uint8_t *buf, size_t have, size_t *off, const uint8_t **msg, size_t *len)
{
	size_t mlen;

	if (have - *off < 2) {
		return 0;
	}
	mlen = (size_t)buf[*off] << 8 | buf[*off + 1];
	if (mlen == 0) {
		return -EBADMSG;
	}
	if (have - *off - 2 < mlen) {
		return 0;
	}
	*msg = buf + *off + 2;
	*len = mlen;
	*off += 2 + mlen;
	return 1;
}

size_t ntm_dnstcp_keep(uint8_t *buf, size_t have, size_t off)
{
	memmove(buf, buf + off, have - off);
	return have - off;
}
