/* SPDX-License-Identifier: MIT */
#ifndef RCP_AGENT_AGENT_INTERNAL_H
#define RCP_AGENT_AGENT_INTERNAL_H

/*
 * Shared by agent.c (life cycle, points, trigger engine), serve.c (the CoAP
 * resources: reads and the action handler) and send.c (delivery of fired
 * actions). One struct rcp_agent owns all of it.
 */

#include <coap3/coap.h>

#include "recipe/agent/agent.h"
#include "recipe/agent/coapio.h"
#include "recipe/agent/idem.h"
#include "common/log.h"
#include "recipe/engine.h"
#include "recipe/policy.h"

enum {
	RCP_RESOURCE_MAX = RCP_FQDN_MAX + 1 + RCP_PATH_MAX, /* "fqdn/path" */
	RCP_AGENT_TOKEN_LEN = 8,
	RCP_AGENT_RETRY_MS = 1000,	 /* after libcoap gave up on one attempt */
	RCP_AGENT_SWEEP_MS = 250,	 /* how often deadlines and retries are checked */
};

/* One sensor or action: its configuration and its last known value. */
struct point {
	struct rcp_agent *agent;
	const struct rcp_point_conf *conf;
	char resource[RCP_RESOURCE_MAX + 1]; /* "fqdn/name" */
	struct rcp_value value;		     /* NONE until read */
	coap_resource_t *res;		     /* owned by the CoAP context */
};

/* A fired action on its way to another device. */
struct outgoing {
	struct outgoing *next;
	char key[RCP_IDEM_KEY_MAX + 1];
	char target[RCP_RESOURCE_MAX + 1];
	const struct rcp_peer_conf *peer;
	char *payload; /* owned JSON (actreq.h) */
	size_t len;
	uint8_t token[RCP_AGENT_TOKEN_LEN];
	uint64_t fired_ms, deadline_ms, retry_ms;
	bool inflight;
	unsigned attempts;
};

struct rcp_agent {
	uv_loop_t *loop;
	const struct rcp_agent_config *cfg;
	struct rcp_idem *idem;
	struct rcp_policy *policy; /* owned; an empty policy when none is configured */
	struct rcp_file *recipes;  /* owned: all recipes, for authorisation */
	struct rcp_engine *engine; /* the recipes this device triggers */
	uint64_t seq_stored;
	coap_context_t *coap;
	struct rcp_coapio *io;
	coap_session_t **sessions; /* one per [Peer], made on first use */
	struct point *points;
	size_t n_points;
	struct outgoing *out;
	uint64_t next_token;
	uv_timer_t poll_timer, engine_timer, sweep_timer;
	unsigned pending_close;
	rcp_agent_closed_cb done;
	void *done_arg;
	struct ntm_ratelimit rl;
};

/* serve.c: resources in the CoAP context (called once at start). */
NTM_MUST_CHECK int rcp_agent_serve_init(struct rcp_agent *a, char *why, size_t whylen);
/* A point's value changed: tell its observers. */
void rcp_agent_serve_changed(struct rcp_agent *a, struct point *p);

/*
 * Run an action on this device under the idempotency key: record, check
 * the policy, act, store the result. *code and result (cap bytes) are the
 * answer; `sender` is the FQDN that asked. act is borrowed (its target is
 * "fqdn/name" of this device).
 */
void rcp_agent_perform(struct rcp_agent *a, const char *sender, const char *key,
		       const struct rcp_action *act, unsigned *code, char *result, size_t cap);

/* send.c */
NTM_MUST_CHECK int rcp_agent_send_init(struct rcp_agent *a);
/* Queue a fired action for its device and send it. */
void rcp_agent_send_action(struct rcp_agent *a, const char *key, const struct rcp_action *act);
/* Deadlines and retries (the sweep timer). */
void rcp_agent_send_sweep(struct rcp_agent *a);
/* Drop every pending request (shutdown), logging each as abandoned. */
void rcp_agent_send_fini(struct rcp_agent *a);

/* agent.c */
struct point *rcp_agent_point(struct rcp_agent *a, enum rcp_point_kind kind, const char *name);
/* Store a new value of p (v copied) and feed it to the engine. */
void rcp_agent_point_set(struct rcp_agent *a, struct point *p, const struct rcp_value *v);

#endif
