/* SPDX-License-Identifier: MIT */
#ifndef NTM_FAKE_DNS_H
#define NTM_FAKE_DNS_H

/*
 * A tiny DNS server for unit tests, driven by the test's own uv loop: one UDP
 * socket on 127.0.0.1:0 or [::1]:0. Its zone (answers built with ntm_wbuf,
 * TTL FAKE_DNS_TTL, the question echoed, answers compressed against it):
 *   a.test          A 192.0.2.1, A 192.0.2.2, AAAA 2001:db8::1
 *   v4only.test     A 192.0.2.9 (AAAA: NOERROR, no data)
 *   _svc._udp.test  SRV 20 5 1000 c.test, 10 10 2000 b.test,
 *                   10 60 3001 aa.test, 10 60 3000 a.test (in this order)
 * Any other name gets NXDOMAIN; a name containing "silent" gets no answer.
 * The mode turns every answer into something else (see enum fake_dns_mode).
 */

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

enum fake_dns_const {
	FAKE_T_A = 1,
	FAKE_T_TXT = 16,
	FAKE_T_AAAA = 28,
	FAKE_T_SRV = 33,
	FAKE_C_IN = 1,
	FAKE_RCODE_SERVFAIL = 2,
	FAKE_RCODE_NXDOMAIN = 3,
	FAKE_DNS_TTL = 300,
	FAKE_DNS_MSG_CAP = 1024,
};

enum fake_dns_mode {
	FAKE_ANSWER,
	FAKE_SILENT,	    /* no answers at all */
	FAKE_GARBAGE_SHORT, /* 7 bytes: shorter than a header */
	FAKE_GARBAGE_ID,    /* the query's ID, then junk */
	FAKE_TRUNCATED,	    /* the real answer cut 3 bytes short (inside the last record) */
	FAKE_SERVFAIL,	    /* rcode SERVFAIL, no records */
};

struct fake_dns {
	uv_udp_t udp; /* the test closes it with uv_close(), close callback NULL */
	enum fake_dns_mode mode;
	int queries;			     /* well-formed queries received */
	uint16_t last_id;		     /* the last query's ID, as on the wire */
	uint8_t last_resp[FAKE_DNS_MSG_CAP]; /* the last datagram sent */
	size_t last_resp_len;
	char server[64]; /* "127.0.0.1:port" or "[::1]:port" */
	uint8_t rx[FAKE_DNS_MSG_CAP];
};

/*
 * Bind to the loopback of `family` (AF_INET or AF_INET6) and start answering.
 * The handle is initialised even on failure (e.g. no IPv6 loopback: the uv
 * error is returned), so the caller always closes f->udp.
 */
int fake_dns_start(uv_loop_t *loop, struct fake_dns *f, int family);

/* A query for (name, type, class IN) with `id` and RD set; returns its length, 0 if too big. */
size_t fake_dns_build_query(uint8_t *buf, size_t cap, uint16_t id, const char *name, uint16_t type);

/* Header fields of a message of `len` bytes; 0xffff / 0xff when it is too short. */
uint16_t fake_dns_msg_id(const uint8_t *msg, size_t len);
unsigned int fake_dns_msg_rcode(const uint8_t *msg, size_t len);

#endif
