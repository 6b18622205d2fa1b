/* SPDX-License-Identifier: MIT */
#ifndef NTM_DNSTCP_H
#define NTM_DNSTCP_H

#include <stddef.h>
#include <stdint.h>

/*
 * DNS over TCP framing (RFC 1035 4.2.2: a two-byte length before each
 * message) on a connection's receive buffer, shared by the DC's
 * authoritative server (dc/dnsserver.c) and the node's DNS stub
 * (endnode/dnsstub.c).
 *
 * ntm_dnstcp_next: the next complete message at buf[*off, have). Returns 1
 * with *msg and *len set and *off moved past it; 0 when more bytes are
 * needed; -EBADMSG for a zero length, after which the connection is closed.
 * ntm_dnstcp_keep: moves the bytes from `off` on to the front of `buf` and
 * returns how many there are (the buffer's new fill).
 */
int ntm_dnstcp_next(const uint8_t *buf, size_t have, size_t *off, const uint8_t **msg, size_t *len);
size_t ntm_dnstcp_keep(uint8_t *buf, size_t have, size_t off);

#endif
