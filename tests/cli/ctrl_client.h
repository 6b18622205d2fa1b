/* SPDX-License-Identifier: MIT */
#ifndef TESTS_CTRL_CLIENT_H
#define TESTS_CTRL_CLIENT_H

/* Shared by ctrl_client.c (registration) and ctrl_relay.c (the node side of a relay). */

#include <stdint.h>

#include "common/addr.h"
#include "common/cookie.h"
#include "common/ctrl.h"
#include "common/ctrlmsg.h"
#include "common/noise.h"

enum { TRIES = 5, BUF = 2048, EXIT_TIMEOUT = 3 };

struct client {
	int fd;
	struct ntm_addr dc, alt;
	struct ntm_noise_identity *id;
	struct ntm_cookie_checker *checker;
	struct ntm_ctrl_session *s;
	const char *save_init;
	uint32_t next_req;
};

struct opts {
	const char *key, *dc_key, *dc, *alt, *save_init, *token, *to;
	const char
		*via; /* --flood: frames go here instead of to the relay (a baseline forwarder) */
	int port, keepalives, frames, flood;
	int size; /* --flood: datagram size in bytes (0: 1208) */
};

uint64_t now_ms(void);
void die(const char *what) __attribute__((noreturn));
void send_to(struct client *c, const struct ntm_addr *to, const uint8_t *p, size_t len);
/* One datagram within `ms`, or 0 bytes on timeout. */
size_t recv_within(struct client *c, uint8_t *buf, size_t cap, int ms);
int handshake(struct client *c);
int request(struct client *c, const struct ntm_addr *to, const struct ntm_ctrl_msg *req,
	    struct ntm_ctrl_msg *ans);
void print_addr(const char *name, const struct ntm_ctrl_addr *a);
int check_answer(const struct ntm_ctrl_msg *a, uint8_t want);
void parse_addr(const char *text, struct ntm_addr *out);
int do_register(struct client *c, const char *fqdn, const char *token, int keepalives);

/* ctrl_relay.c */
int do_relay(struct client *c, const char *fqdn, const struct opts *o);
int do_relay_attack(struct client *c, uint32_t session);
int do_relay_flood(struct client *c, uint32_t session, int secs, long pps);

#endif
