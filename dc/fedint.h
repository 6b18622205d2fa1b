/* SPDX-License-Identifier: MIT */
#ifndef DC_FEDINT_H
#define DC_FEDINT_H

/* Shared by dc/fedclient.c (sessions, queries) and dc/fedlookup.c (DNS). */

#include "ctrl_internal.h"

#include "common/ctrlclient.h"
#include "common/dns.h"
#include "dc/federation.h"
#include "dc/fedrelay.h"
#include "dc/fedrevoke.h"

/* One federated domain, as the caller sees its DC. */
struct fed_dom {
	struct dc_fed *f;
	int idx; /* its [Federation] section */
	struct ntm_ctrlclient *cc;
	bool ready;   /* FED_HELLO_OK on the current session */
	bool refused; /* the other DC refused us: the session ends at the next sweep */
	struct ntm_prefix pool4, pool6; /* as its FED_HELLO_OK announced them */
	bool looking;			/* a DNS lookup runs */
	bool srv_pending;		/* SRV (then its addresses) not answered yet */
	bool txt_pending;		/* the key record not answered yet */
	uint16_t srv_port;
	struct ntm_addr eps[NTM_CTRLCLIENT_ENDPOINTS_MAX];
	size_t n_eps;
	bool has_dns_key, dns_key_ad;
	struct ntm_key dns_key;
	struct ntm_key key; /* the one we trust (pinned, or validated) */
	uint64_t failed_ms; /* when the last lookup failed; 0: never */
	char why[160];	    /* why the last lookup failed */
};

struct fed_query {
	bool used;
	struct fed_dom *d;
	uint32_t qid;	      /* FED_QUERY request id */
	uint32_t node_req_id; /* the node's DIRECTION_REQUEST */
	struct ntm_key node;  /* the requesting node's key */
	char target[NTM_CTRL_FQDN_MAX + 1];
	uint64_t deadline_ms;
};

struct dc_fed {
	uv_loop_t *loop;
	const struct dc_config *cfg;
	const struct dc_pool *pool4, *pool6;
	struct dc_ctrl *ctrl;
	struct ntm_dns *dns;
	uv_udp_t udp[2]; /* IPv4, IPv6 */
	bool udp_open[2];
	uv_timer_t sweep;
	struct fed_dom *doms; /* cfg->n_federation */
	struct fed_query q[DC_FED_PENDING_MAX];
	struct fedrelay_pairs pairs;	/* cross-domain relay sessions (fedrelay.c) */
	struct fedrevoke_table revoked; /* who was told about which key (fedrevoke.c) */
	bool closing;
	int open; /* handles and clients still closing */
	void (*done)(void *arg);
	void *done_arg;
	uint8_t rx[2048];
};

const char *fed_dom_name(const struct fed_dom *d);
/* Makes sure a session to the DC of domain idx is on its way (fedclient.c). */
void fed_dom_kick(struct dc_fed *f, int idx);
/*
 * Sends m (wiped after) to the DC of domain idx, on our session to it or on
 * its session to us (fedrelay.c). 0 or a negative errno (-ENOTCONN: none up).
 */
int dc_fedrelay_send_dc(struct dc_ctrl *c, int idx, struct ntm_ctrl_msg *m);
/* A lookup answer came: when all are in, connect or fail. */
void fed_dom_lookup_step(struct fed_dom *d);
/* Start the SRV (+ addresses) or the key lookup. 0 or a negative errno. */
int fed_lookup_endpoints(struct fed_dom *d);
int fed_lookup_key(struct fed_dom *d);
/* A TXT query for _ntm-key.DOMAIN with the AD bit set; cb as ntm_dns_forward's. */
int fed_key_query(struct dc_fed *f, const char *domain, ntm_dns_msg_cb cb, void *arg);
/* The key of a key record answer and whether the resolver validated it (AD). */
void fed_key_parse(int err, const uint8_t *msg, size_t len, struct ntm_key *key, bool *found,
		   bool *ad);

#endif
