/* SPDX-License-Identifier: MIT */
#include "dcclient.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "common/ctrlclient.h"
#include "common/key.h"
#include "common/log.h"

struct rs_dcclient {
	struct ntm_ctrlclient *cc;
	struct rs_dcclient_ops ops;
	struct ntm_key pub; /* ours, for the enrolment hint */
	struct ntm_ctrl_addr addrs[NTM_CTRL_RELAY_ADDRS_MAX];
	size_t n_addrs;
	enum rs_dc_state state;
	bool session_registered; /* RS_REGISTER_OK on this session */
	uint8_t req_kind;
	struct rs_dcclient_info info;
	void (*done)(void *arg);
	void *done_arg;
};

const char *rs_dc_state_name(enum rs_dc_state s)
{
	switch (s) {
	case RS_DC_REGISTERING:
		return "registering";
	case RS_DC_REGISTERED:
		return "registered";
	case RS_DC_UNREACHABLE:
		return "unreachable";
	default:
		return "?";
	}
}

static void request(struct rs_dcclient *dc, enum ntm_ctrl_kind kind)
{
	struct ntm_ctrl_msg m;

	ntm_ctrl_msg_init(&m, kind, randombytes_random() | 1);
	m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_LOAD);
	dc->ops.load(dc->ops.arg, &m.load);
	if (kind == NTM_CTRL_RS_REGISTER) {
		m.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_RELAY_ADDR);
		memcpy(m.relay_addr, dc->addrs, sizeof(m.relay_addr));
		m.n_relay_addr = dc->n_addrs;
	}
	dc->req_kind = (uint8_t)kind;
	ntm_ctrlclient_request(dc->cc, &m);
}

static void on_connected(void *arg)
{
	struct rs_dcclient *dc = arg;

	request(dc, dc->session_registered ? NTM_CTRL_RS_LOAD : NTM_CTRL_RS_REGISTER);
}

static void on_idle(void *arg)
{
	request(arg, NTM_CTRL_RS_LOAD);
}

static void on_failed(void *arg, bool answered)
{
	struct rs_dcclient *dc = arg;
	char ep[NTM_ADDR_STRLEN];

	if (!answered && dc->state != RS_DC_UNREACHABLE) {
		ntm_log_warn("DC %s: no answer; retrying (relayed sessions are not affected)",
			     ntm_ctrlclient_endpoint_text(dc->cc, ep, sizeof(ep)));
	}
	dc->state = answered ? RS_DC_REGISTERING : RS_DC_UNREACHABLE;
	dc->session_registered = false;
}

static void on_refused(struct rs_dcclient *dc, const struct ntm_ctrl_msg *m)
{
	char ep[NTM_ADDR_STRLEN], pub[NTM_KEY_B64_SIZE];

	if (m->error_code == NTM_CTRL_E_NOT_REGISTERED && dc->req_kind == NTM_CTRL_RS_LOAD) {
		dc->session_registered = false; /* the DC restarted: register again at once */
		request(dc, NTM_CTRL_RS_REGISTER);
		return;
	}
	ntm_ctrlclient_endpoint_text(dc->cc, ep, sizeof(ep));
	if (m->error_code != dc->info.last_error) {
		ntm_log_err("DC %s: %s refused: %s", ep, ntm_ctrl_kind_name(dc->req_kind),
			    ntm_ctrl_error_name(m->error_code));
		if (m->error_code == NTM_CTRL_E_NOT_ENROLLED) {
			ntm_key_to_base64(pub, &dc->pub);
			ntm_log_err("DC %s: this relay's key is not enrolled; on the DC run: "
				    "ntmctl -s DC_SOCKET enroll --relay NAME %s",
				    ep, pub);
		}
	}
	dc->info.last_error = m->error_code;
	ntm_ctrlclient_fail(dc->cc, true);
}

static bool on_answer(void *arg, const struct ntm_ctrl_msg *m)
{
	struct rs_dcclient *dc = arg;
	char ep[NTM_ADDR_STRLEN];

	if (m->kind == NTM_CTRL_ERROR) {
		on_refused(dc, m);
		return true;
	}
	if (m->kind == NTM_CTRL_RS_REGISTER_OK && dc->req_kind == NTM_CTRL_RS_REGISTER) {
		if (dc->state != RS_DC_REGISTERED) {
			ntm_log_info("DC %s: registered; reporting the load every %u s",
				     ntm_ctrlclient_endpoint_text(dc->cc, ep, sizeof(ep)),
				     m->keepalive);
		}
		dc->info.interval_s = m->keepalive;
		dc->session_registered = true;
	} else if (m->kind == NTM_CTRL_RS_LOAD_ACK && dc->req_kind == NTM_CTRL_RS_LOAD) {
		dc->info.reports++;
	} else {
		return false;
	}
	dc->state = RS_DC_REGISTERED;
	dc->info.last_error = 0;
	ntm_ctrlclient_idle(dc->cc, (uint64_t)dc->info.interval_s * 1000);
	return true;
}

static void answer_error(struct ntm_ctrl_msg *a, uint32_t req_id, enum ntm_ctrl_error e)
{
	ntm_ctrl_msg_init(a, NTM_CTRL_ERROR, req_id);
	a->attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_ERROR_CODE);
	a->error_code = (uint16_t)e;
}

/* RELAY_ALLOC or RELAY_RELEASE from the DC: serve it and answer with the same id. */
static bool on_message(void *arg, const struct ntm_ctrl_msg *m)
{
	struct rs_dcclient *dc = arg;
	struct ntm_ctrl_msg a;
	bool alloc = m->kind == NTM_CTRL_RELAY_ALLOC;
	int rc;

	if (!alloc && m->kind != NTM_CTRL_RELAY_RELEASE) {
		return false;
	}
	rc = alloc ? dc->ops.alloc(dc->ops.arg, m->session_id, m->credential, m->lifetime)
		   : dc->ops.release(dc->ops.arg, m->session_id);
	if (rc == 0) {
		ntm_ctrl_msg_init(&a, alloc ? NTM_CTRL_RELAY_ALLOC_OK : NTM_CTRL_RELAY_RELEASE_OK,
				  m->req_id);
		a.attrs |= NTM_CTRL_BIT(NTM_CTRL_ATTR_SESSION_ID);
		a.session_id = m->session_id;
		*(alloc ? &dc->info.allocs : &dc->info.releases) += 1;
	} else {
		answer_error(&a, m->req_id,
			     rc == -ENOSPC   ? NTM_CTRL_E_RELAY_FULL
			     : rc == -EEXIST ? NTM_CTRL_E_RELAY_EXISTS
					     : NTM_CTRL_E_NO_SESSION);
	}
	if (ntm_ctrlclient_send(dc->cc, &a) < 0) {
		ntm_log_debug("DC: cannot answer %s now", ntm_ctrl_kind_name(m->kind));
	}
	return true;
}

static uint64_t hook_now(void *arg)
{
	struct rs_dcclient *dc = arg;

	return dc->ops.now(dc->ops.arg);
}

static int hook_send(void *arg, const struct ntm_addr *to, const uint8_t *buf, size_t len)
{
	struct rs_dcclient *dc = arg;

	return dc->ops.send(dc->ops.arg, to, buf, len);
}

int rs_dcclient_create(uv_loop_t *loop, const struct rs_config *cfg,
		       const struct rs_dcclient_ops *ops, struct rs_dcclient **out)
{
	const struct ntm_ctrlclient_config ccfg = {
		.private_key = cfg->private_key->b,
		.peer_public = cfg->dc_public_key.b,
		.endpoints = cfg->dc_endpoints,
		.n_endpoints = cfg->n_dc_endpoints,
	};
	struct ntm_ctrlclient_ops cops = { hook_send,  hook_now, on_connected, on_answer,
					   on_message, on_idle,	 on_failed,    NULL };
	struct rs_dcclient *dc = ntm_calloc(1, sizeof(*dc));
	int rc = dc != NULL ? 0 : -ENOMEM;

	*out = NULL;
	for (size_t i = 0; rc == 0 && i < cfg->n_address && i < NTM_CTRL_RELAY_ADDRS_MAX; i++) {
		rc = ntm_ctrl_addr_from(&dc->addrs[dc->n_addrs++], &cfg->address[i]);
	}
	if (rc == 0) {
		dc->ops = *ops;
		cops.arg = dc;
		rc = ntm_key_public(&dc->pub, cfg->private_key);
	}
	if (rc == 0) {
		rc = ntm_ctrlclient_create(loop, &ccfg, &cops, &dc->cc);
	}
	if (rc < 0) {
		ntm_free(dc);
		return rc;
	}
	*out = dc;
	return 0;
}

void rs_dcclient_start(struct rs_dcclient *dc)
{
	char ep[NTM_ADDR_STRLEN];

	ntm_log_info("DC %s: registering this relay",
		     ntm_ctrlclient_endpoint_text(dc->cc, ep, sizeof(ep)));
	ntm_ctrlclient_start(dc->cc);
}

void rs_dcclient_receive(struct rs_dcclient *dc, const uint8_t *buf, size_t len,
			 const struct ntm_addr *from)
{
	ntm_ctrlclient_receive(dc->cc, buf, len, from);
}

void rs_dcclient_get_info(const struct rs_dcclient *dc, struct rs_dcclient_info *out)
{
	*out = dc->info;
	out->state = dc->state;
	out->endpoint = *ntm_ctrlclient_endpoint(dc->cc);
	out->last_contact_ms = ntm_ctrlclient_last_contact(dc->cc);
	out->drops = ntm_ctrlclient_drops(dc->cc);
}

static void on_closed(void *arg)
{
	struct rs_dcclient *dc = arg;
	void (*done)(void *) = dc->done;
	void *done_arg = dc->done_arg;

	ntm_free(dc);
	if (done != NULL) {
		done(done_arg);
	}
}

void rs_dcclient_close(struct rs_dcclient *dc, void (*done)(void *arg), void *arg)
{
	dc->done = done;
	dc->done_arg = arg;
	ntm_ctrlclient_close(dc->cc, on_closed, dc);
}
