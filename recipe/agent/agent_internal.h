/* SPDX-License-Identifier: MIT */
#ifndef RCP_AGENT_AGENT_INTERNAL_H
#define RCP_AGENT_AGENT_INTERNAL_H

/*
 * Shared by agent.c (life cycle, points, trigger engine), serve.c (the CoAP
 * resources: reads and the action handler), perform.c (running an action
 * here, through its driver), send.c (delivery of fired actions through the
 * outbox) and control.c (the control socket). One struct rcp_agent owns all
 * of it.
 */

#include <coap3/coap.h>

#include "recipe/agent/agent.h"
#include "recipe/agent/coapio.h"
#include "recipe/agent/command.h"
#include "recipe/agent/idem.h"
#include "recipe/agent/nodesock.h"
#include "recipe/agent/obwriter.h"
#include "recipe/agent/outbox.h"
#include "recipe/agent/rstore.h"
#include "common/log.h"
#include "recipe/engine.h"
#include "recipe/policy.h"

enum {
	RCP_RESOURCE_MAX = RCP_FQDN_MAX + 1 + RCP_PATH_MAX, /* "fqdn/path" */
	RCP_AGENT_TOKEN_LEN = 8,
	RCP_AGENT_RETRY_MS = 1000,	/* first pause after libcoap gave up on one attempt */
	RCP_AGENT_RETRY_MAX_MS = 30000, /* the pause doubles up to this */
	RCP_AGENT_SWEEP_MS = 250,	/* how often deadlines and retries are checked */
	/*
	 * An attempt still unanswered after this is given up by us: libcoap's
	 * own retransmissions end within 46.5 s (ACK timeout 1 s, random factor
	 * 1.5, 4 retransmissions), but after an empty ACK a separate answer
	 * that is lost would leave the request waiting forever.
	 */
	RCP_AGENT_ATTEMPT_MAX_MS = 60000,
	RCP_AGENT_PRUNE_MS = 3600 * 1000, /* how often old idempotency records go */
	RCP_AGENT_INSTALLED_PEERS = 64,	  /* devices that installed recipes may add */
	/*
	 * Firing sequence numbers are reserved (stored, synced) this many at a
	 * time, at start and when a block is used up, not once per firing.
	 */
	RCP_AGENT_SEQ_BLOCK = 64,
	RCP_AGENT_WHOWAIT_MAX = 32,	  /* requests held for their sender's whois; then 5.03 */
	RCP_AGENT_POLICY_INPUTS_MAX = 16, /* readings of other devices one action's check needs */
	RCP_AGENT_POLICY_RESEND_MS = 400, /* a reading's unanswered GET is sent again after this */
};

/* What `ntmctl status` shows; counted since the agent started. */
struct rcp_agent_stats {
	uint64_t fired;		   /* actions fired by the engine (notify excluded) */
	uint64_t sent;		   /* CoAP attempts of outgoing requests */
	uint64_t acknowledged;	   /* 2.xx answers */
	uint64_t acked_first;	   /* of those, to the first attempt (no retry) */
	uint64_t refused;	   /* 4.03 answers */
	uint64_t unauthorised;	   /* action requests we refused: no recipe names the sender */
	uint64_t failed;	   /* other final answers, and requests that could not be queued */
	uint64_t expired;	   /* TTL (ActionDeadline) passed without an answer */
	uint64_t reloaded;	   /* requests taken from the outbox at start */
	uint64_t performed;	   /* actions run here (new keys) */
	uint64_t duplicates;	   /* keys answered from the record */
	uint64_t command_runs;	   /* programs started (reads and actions) */
	uint64_t command_failures; /* non-zero exit, signal, oversized or bad output */
	uint64_t command_timeouts; /* killed at Timeout */
	uint64_t pruned;	   /* idempotency records removed after KeyRetention */
};

struct ntm_ctl_server;
struct whowait;
struct polcheck;

/* One sensor or action: its configuration and its last known value. */
struct point {
	struct rcp_agent *agent;
	const struct rcp_point_conf *conf;
	char resource[RCP_RESOURCE_MAX + 1]; /* "fqdn/name" */
	struct rcp_value value;		     /* NONE until read */
	coap_resource_t *res;		     /* owned by the CoAP context */
	struct rcp_command *reading;	     /* a command driver's read in progress */
};

/*
 * An action run by a program (Driver = command), from its start to the
 * program's end. A CoAP request that started it waits as a libcoap async
 * (separate response, RFC 7252 5.2.2): session is referenced until then.
 */
struct job {
	struct job *next;
	struct rcp_agent *agent;
	struct point *point;
	char key[RCP_IDEM_KEY_MAX + 1];
	char sender[RCP_FQDN_MAX + 1];
	struct rcp_value value; /* owned copy of the action's value */
	struct rcp_command *cmd;
	coap_session_t *session; /* referenced, or NULL (a local action) */
	uint8_t token[8];
	size_t token_len;
	bool finished; /* the program ended; the answer waits for libcoap's re-call */
	bool separate; /* no async left: the answer is sent by send_separate (perform.c) */
	unsigned code;
	char result[RCP_IDEM_RESULT_MAX + 1];
};

/*
 * A device this agent sends actions to: a [Peer], or (with NodeSocket) a
 * device a recipe acts on, whose VIP the node resolves.
 */
struct peer {
	struct rcp_agent *agent;
	struct rcp_peer_conf conf; /* copy; conf.addr.len 0: resolved through the node */
	coap_session_t *session;   /* made on first use, for addr */
	struct ntm_addr addr;	   /* where its requests go; len 0: not known yet */
	uint64_t addr_expires_ms;  /* resolved: asked again after this (uv_now) */
	uint64_t resolve_after_ms; /* a failed resolve: not before this */
	bool resolving;		   /* a resolve is in flight */
};

/* A fired action on its way to another device. */
struct outgoing {
	struct outgoing *next;
	char key[RCP_IDEM_KEY_MAX + 1];
	char target[RCP_RESOURCE_MAX + 1];
	struct peer *peer;
	char *payload; /* owned JSON (actreq.h) */
	size_t len;
	uint8_t token[RCP_AGENT_TOKEN_LEN];
	int64_t fired_s, expires_s; /* wall clock, as stored in the outbox */
	uint64_t queued_ms, sent_ms, retry_ms, backoff_ms;
	bool inflight;
	unsigned attempts;
	/*
	 * On disk (obwriter.h), and the answer that came before it was: the
	 * request counts as acknowledged once both are true.
	 */
	bool stored, answered;
	unsigned answer_code;
	char answer[RCP_IDEM_RESULT_MAX + 1];
};

/* A recipe the recipe server installed (install.c). */
struct installed {
	struct installed *next;
	char name[RCP_NAME_MAX + 1];
	char *text;		   /* owned canonical text */
	struct rcp_recipe *recipe; /* owned parse, for authorisation (the engine has its own) */
	enum rcp_inst_state state;
	char reason[RCP_INST_REASON_MAX + 1];
	bool in_engine;
	/* Triggered here: the other devices it acts on, which must confirm it. */
	char devs[RCP_ACTIONS_MAX][RCP_FQDN_MAX + 1];
	bool confirmed[RCP_ACTIONS_MAX];
	size_t n_devs, asking;
	uint8_t token[RCP_AGENT_TOKEN_LEN];
	bool inflight;
	uint64_t sent_ms, next_ms;
};

struct rcp_agent {
	uv_loop_t *loop;
	const struct rcp_agent_config *cfg;
	struct rcp_idem *idem;
	struct rcp_outbox *outbox;
	struct rcp_obwriter *obw; /* the outbox's durable puts, off the loop */
	struct ntm_ctl_server *ctl;
	struct rcp_policy *policy; /* owned; an empty policy when none is configured */
	struct rcp_file *recipes;  /* owned: all recipes, for authorisation */
	struct rcp_engine *engine; /* the recipes this device triggers */
	uint64_t seq_stored;	   /* reserved on disk: no key leaves with a larger one */
	uint64_t seq_last;	   /* the last one used */
	coap_context_t *coap;
	struct rcp_coapio *io;
	struct peer *peers;	   /* owned: [Peer]s, then the devices resolved through the node */
	size_t n_peers, peers_cap; /* fixed capacity: requests and calls point into it */
	struct rcp_rstore *rstore;
	struct installed *inst; /* owned: the recipes the recipe server installed */
	size_t n_inst;
	struct rcp_nodesock *ns;   /* NodeSocket, or NULL */
	struct rcp_whocache *whos; /* NodeSocket: the senders' FQDNs by VIP */
	struct whowait *whowaits;  /* owned: requests held for a whois (whowait.c) */
	size_t n_whowaits;
	struct point *points;
	size_t n_points;
	struct outgoing *out;
	size_t n_out;
	struct job *jobs;
	struct polcheck *polchecks; /* owned: actions waiting for other devices' readings */
	uint64_t next_token;
	struct rcp_agent_stats stats;
	uv_timer_t poll_timer, engine_timer, sweep_timer, prune_timer, polcheck_timer;
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
 * The sender's FQDN into name: 0 (name "" when unknown), or -EAGAIN when
 * the node is being asked (answer with rcp_agent_retry_soon).
 */
int rcp_agent_sender_of(struct rcp_agent *a, coap_session_t *session, char name[RCP_FQDN_MAX + 1]);
/* Answer code with a text/plain text (none when NULL or ""). */
void rcp_agent_reply(coap_pdu_t *response, unsigned code, const char *text);
/* 5.03 with Max-Age 0: ask again at once. */
void rcp_agent_retry_soon(coap_pdu_t *response, const char *text);

/* whowait.c: action requests held while their sender's whois is in flight. */
/*
 * Hold request (a libcoap async: the handler then leaves the response
 * empty) until the whois of its source address ends. false when it cannot
 * be held (answer 5.03 then).
 */
bool rcp_agent_whowait_hold(struct rcp_agent *a, coap_session_t *session,
			    const coap_pdu_t *request);
/* The whois of ip ended (answered or failed): its held requests are handled again. */
void rcp_agent_whowait_done(struct rcp_agent *a, const char *ip);
/*
 * libcoap re-called the handler of a held request: 0 with its payload
 * (owned by the caller, NULL when empty), and the hold ends; -EBUSY when
 * it is still held (a retransmission), -ENOENT when none matches.
 */
int rcp_agent_whowait_take(struct rcp_agent *a, coap_session_t *session, const coap_pdu_t *request,
			   uint8_t **data, size_t *len);
/* Shutdown: every held request goes, unanswered. */
void rcp_agent_whowait_fini(struct rcp_agent *a);

/* install.c: recipes from the recipe server ([Agent] RecipeServer). */
/* Load the installed recipes (the active ones triggered here enter the engine). */
NTM_MUST_CHECK int rcp_agent_install_open(struct rcp_agent *a, char *why, size_t whylen);
/* The /recipes resource. */
NTM_MUST_CHECK int rcp_agent_install_serve(struct rcp_agent *a);
/* Peers for the action devices of the installed recipes (from make_peers). */
void rcp_agent_install_peers(struct rcp_agent *a);
/* Ask the action devices of the recipes still verifying (the sweep timer). */
void rcp_agent_install_sweep(struct rcp_agent *a);
/* Ask at once (a recipe arrived, or a peer's address became known). */
void rcp_agent_kick_verify(struct rcp_agent *a);
/* A CoAP answer or nack for a verification request: true when it was one. */
bool rcp_agent_install_response(struct rcp_agent *a, const coap_pdu_t *received);
bool rcp_agent_install_nack(struct rcp_agent *a, const coap_pdu_t *sent);
/* An active installed recipe read on sender acts on resource. */
bool rcp_agent_install_authorises(const struct rcp_agent *a, const char *sender,
				  const char *resource);
void rcp_agent_install_fini(struct rcp_agent *a);

/* perform.c */
/*
 * Run an action on this device under the idempotency key: record, check
 * the policy, act, store the result. *code and result (cap bytes) are the
 * answer; `sender` is the FQDN that asked. act is borrowed (its target is
 * "fqdn/name" of this device); inputs (borrowed, or NULL) are the readings
 * of other devices fetched for the policy. Returns 0 when answered, or
 * -EINPROGRESS when a program now performs it: *job is then the running
 * job, which stores the result when the program ends (rcp_agent_job_wait
 * to answer a CoAP request then).
 */
int rcp_agent_perform(struct rcp_agent *a, const char *sender, const char *key,
		      const struct rcp_action *act, const struct polcheck *inputs, unsigned *code,
		      char *result, size_t cap, struct job **job);
/*
 * Answer `session`'s request (with this token) when job ends: a separate
 * response, also for a request handled again after its whois (then
 * `response` is made to send nothing now). false when libcoap cannot hold
 * it (answer "in progress" now).
 */
bool rcp_agent_job_wait(struct job *job, coap_session_t *session, const coap_pdu_t *request,
			coap_pdu_t *response);
/*
 * libcoap re-called the handler of a request that waited (its copy has no
 * payload): the finished job's answer into *code/result, and the job is
 * freed. false when no finished job matches.
 */
bool rcp_agent_job_answer(struct rcp_agent *a, coap_session_t *session, const coap_pdu_t *request,
			  unsigned *code, char *result, size_t cap);
/* The running (unfinished) job with this key, or NULL. */
struct job *rcp_agent_job_find(struct rcp_agent *a, const char *key);
/* Kill every running program (shutdown); their keys stay PENDING. */
void rcp_agent_jobs_cancel(struct rcp_agent *a);
/* Start a command driver's read of p unless one runs. */
void rcp_agent_command_read(struct rcp_agent *a, struct point *p);

/* polfetch.c: other devices' readings for the run-time policy check. */
/*
 * When the policy's rules for act (borrowed; target set) read other
 * devices, start fetching those readings: 0 and *out, and the action is
 * performed (rcp_agent_perform) once they are in or at PolicyFetchTimeout.
 * -ENOENT when none is needed (perform at once), -ENOMEM.
 */
NTM_MUST_CHECK int rcp_agent_polcheck_start(struct rcp_agent *a, const char *sender,
					    const char *key, const struct rcp_action *act,
					    struct polcheck **out);
/* The check still reading for key, or NULL. */
struct polcheck *rcp_agent_polcheck_find(struct rcp_agent *a, const char *key);
/* Answer this request when pc is performed (separate response); false when it cannot wait. */
bool rcp_agent_polcheck_wait(struct polcheck *pc, coap_session_t *session,
			     const coap_pdu_t *request);
/*
 * libcoap re-called the handler of a request that waited: 1 with the
 * answer (the check is freed), 0 when it still reads (no answer yet),
 * -ENOENT when none matches.
 */
int rcp_agent_polcheck_answer(struct rcp_agent *a, coap_session_t *session,
			      const coap_pdu_t *request, unsigned *code, char *result, size_t cap);
/* A CoAP answer or nack for a reading's GET: true when it was one. */
bool rcp_agent_polcheck_response(struct rcp_agent *a, const coap_pdu_t *received);
bool rcp_agent_polcheck_nack(struct rcp_agent *a, const coap_pdu_t *sent);
/* Send the GETs whose device's address became known. */
void rcp_agent_polcheck_kick(struct rcp_agent *a);
/* The deadline timer (polcheck_timer). */
void rcp_agent_polcheck_on_timer(uv_timer_t *t);
/*
 * The reading of resource fetched for pc (NULL when unknown or pc is
 * NULL); *why says why it is unknown, or NULL.
 */
const struct rcp_value *rcp_agent_polcheck_value(const struct polcheck *pc, const char *resource,
						 const char **why);
/* Shutdown: every check goes, unanswered and unrecorded. */
void rcp_agent_polcheck_fini(struct rcp_agent *a);

/* send.c */
/* Uri-Path options of path ("a/b") into pdu; -EMSGSIZE. */
NTM_MUST_CHECK int rcp_agent_add_path(coap_pdu_t *pdu, const char *path);
/* Handlers, and the requests stored in the outbox (expired ones reported). */
NTM_MUST_CHECK int rcp_agent_send_init(struct rcp_agent *a, char *why, size_t whylen);
/*
 * Queue a fired action for its device and send it. ttl_s: the recipe's
 * "within" (0: the device's ActionDeadline).
 */
void rcp_agent_send_action(struct rcp_agent *a, const char *key, const struct rcp_action *act,
			   uint32_t ttl_s);
/* obwriter.h's callback: a fired request is on disk (rc 0) or not (rc < 0). */
void rcp_agent_send_stored(const char *key, int rc, void *arg);
/* Deadlines and retries (the sweep timer). */
void rcp_agent_send_sweep(struct rcp_agent *a);
/* Free the requests in memory (shutdown); they stay in the outbox. */
void rcp_agent_send_fini(struct rcp_agent *a);

/*
 * A fired action's peer is usable now (address known and fresh); when not,
 * its resolve is started (with NodeSocket) and every request waiting for it
 * is transmitted once it is known.
 */
bool rcp_agent_send_ready(struct rcp_agent *a, struct peer *p);
/* A peer for the device of target ("fqdn/path"), with NodeSocket, unless known or this one. */
void rcp_agent_add_peer(struct rcp_agent *a, const char *target);
/* The peer of the device host, or NULL. */
struct peer *rcp_agent_peer_by_host(struct rcp_agent *a, const char *host);
/* The CoAP session to p (made on first use), or NULL. */
coap_session_t *rcp_agent_peer_session(struct rcp_agent *a, struct peer *p);
/* The peer's address is new (or gone): its session goes, waiting requests are sent. */
void rcp_agent_send_readdress(struct rcp_agent *a, struct peer *p);

/* overlay.c: the agent over ntm-node (NodeSocket). */
NTM_MUST_CHECK int rcp_agent_overlay_init(struct rcp_agent *a, char *why, size_t whylen);
/* Start resolving p's FQDN unless one is in flight or a failure is too recent. */
void rcp_agent_overlay_resolve(struct rcp_agent *a, struct peer *p);
/*
 * The FQDN of the node that sent from sa: 0 with fqdn set ("" for a node
 * without a name); -EAGAIN when a whois was started or is in flight (ask
 * again later), -EBUSY when too many are, -EAFNOSUPPORT.
 */
int rcp_agent_overlay_sender(struct rcp_agent *a, const struct sockaddr *sa,
			     char fqdn[RCP_FQDN_MAX + 1]);
/* Calls in flight finish unseen; done(arg) when they have. */
void rcp_agent_overlay_close(struct rcp_agent *a, void (*done)(void *arg), void *arg);

/* control.c (rcp_agent_control_open is in agent.h). Close it; done(arg) when its handles are closed
 * (at once without one). */
void rcp_agent_control_close(struct rcp_agent *a, void (*done)(void *arg), void *arg);

/* agent.c */
/* Whether c reads a resource of the device fqdn (the recipe is triggered there). */
bool rcp_agent_cond_reads_host(const struct rcp_cond *c, const char *fqdn);
struct point *rcp_agent_point(struct rcp_agent *a, enum rcp_point_kind kind, const char *name);
/* Store a new value of p (v copied) and feed it to the engine. */
void rcp_agent_point_set(struct rcp_agent *a, struct point *p, const struct rcp_value *v);

#endif
