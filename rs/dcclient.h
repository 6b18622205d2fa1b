/* SPDX-License-Identifier: MIT */
#ifndef RS_DCCLIENT_H
#define RS_DCCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/addr.h"
#include "common/ctrlmsg.h"
#include "common/err.h"
#include "rs/config.h"

/*
 * The Relay Server's side of its control session with the DC
 * (common/ctrlclient.h does the handshakes, retries and backoff): it
 * registers (RS_REGISTER: the relay addresses of [RS] Address and the
 * load), then reports its load (RS_LOAD) every interval the DC named in
 * RS_REGISTER_OK. It serves the DC's requests on the same session:
 * RELAY_ALLOC and RELAY_RELEASE go to ops.alloc / ops.release and are
 * answered (ALLOC_OK / RELEASE_OK, or ERROR RELAY_FULL / RELAY_EXISTS /
 * NO_SESSION). Only the DC's key can produce these requests, so nothing an
 * outsider sends allocates a session.
 */
struct rs_dcclient;

enum rs_dc_state {
	RS_DC_REGISTERING,
	RS_DC_REGISTERED,
	RS_DC_UNREACHABLE,
};

struct rs_dcclient_ops {
	int (*send)(void *arg, const struct ntm_addr *to, const uint8_t *buf, size_t len);
	uint64_t (*now)(void *arg);
	/* The load to report now. */
	void (*load)(void *arg, struct ntm_ctrl_load *out);
	/* RELAY_ALLOC: 0, -EEXIST or -ENOSPC (rs_relay_alloc). `cred` borrowed for the call. */
	int (*alloc)(void *arg, uint32_t id, const uint8_t *cred, uint32_t lifetime_s);
	/* RELAY_RELEASE: 0 or -ENOENT. */
	int (*release)(void *arg, uint32_t id);
	void *arg;
};

/* What `status` shows: a plain value. */
struct rs_dcclient_info {
	enum rs_dc_state state;
	struct ntm_addr endpoint;
	int64_t last_contact_ms; /* -1: never */
	uint16_t interval_s;	 /* report interval from the DC; 0 before registration */
	uint16_t last_error;	 /* enum ntm_ctrl_error of the last refusal */
	uint64_t reports;	 /* RS_LOAD answered */
	uint64_t allocs;	 /* RELAY_ALLOC served (answered OK) */
	uint64_t releases;	 /* RELAY_RELEASE served */
	uint64_t drops;
};

/*
 * A client for cfg's [DC] section under the RS's key (both read during the
 * call). `loop` and the ops context are borrowed and must outlive it.
 * Returns 0, -EINVAL or -ENOMEM. Close with rs_dcclient_close().
 */
NTM_MUST_CHECK int rs_dcclient_create(uv_loop_t *loop, const struct rs_config *cfg,
				      const struct rs_dcclient_ops *ops, struct rs_dcclient **out);
void rs_dcclient_start(struct rs_dcclient *dc);
/* One control datagram (0x80-0x83) from `from`; both borrowed for the call. */
void rs_dcclient_receive(struct rs_dcclient *dc, const uint8_t *buf, size_t len,
			 const struct ntm_addr *from);
void rs_dcclient_get_info(const struct rs_dcclient *dc, struct rs_dcclient_info *out);
/* "registering", "registered", "unreachable". */
const char *rs_dc_state_name(enum rs_dc_state s);
/* Stops, wipes and frees in the close callback; then done(arg). */
void rs_dcclient_close(struct rs_dcclient *dc, void (*done)(void *arg), void *arg);

#endif
