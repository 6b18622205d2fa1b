/* SPDX-License-Identifier: MIT */
/*
 * Action requests that wait for the whois of their sender (serve.c). The
 * first request from a VIP the whois cache does not know used to be
 * answered 5.03 at once, and the sender's retry came a sweep or a second
 * later; now it is held as a libcoap async (an empty ACK goes out, the
 * answer follows as a separate response, RFC 7252 5.2.2) and handled again
 * as soon as the node answered, within its round trip on the control
 * socket. libcoap's copy of a held request carries no payload, so the
 * payload is kept here, by session and token.
 */
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "recipe/agent/agent_internal.h"

struct whowait {
	struct whowait *next;
	coap_session_t *session; /* referenced */
	uint8_t token[8];
	size_t token_len;
	char ip[INET6_ADDRSTRLEN];
	uint8_t *data; /* owned copy of the request's payload */
	size_t len;
	bool triggered;
};

static void free_wait(struct whowait *w)
{
	coap_session_release(w->session);
	ntm_free(w->data);
	ntm_free(w);
}

bool rcp_agent_whowait_hold(struct rcp_agent *a, coap_session_t *session, const coap_pdu_t *request)
{
	const coap_address_t *ra = coap_session_get_addr_remote(session);
	coap_bin_const_t tok = coap_pdu_get_token(request);
	const uint8_t *data = NULL;
	char fqdn[RCP_FQDN_MAX + 1];
	struct whowait *w;
	size_t len = 0;

	if (ra == NULL || a->n_whowaits >= RCP_AGENT_WHOWAIT_MAX || tok.length > sizeof(w->token) ||
	    coap_find_async(session, tok) != NULL) {
		return false;
	}
	(void)coap_get_data(request, &len, &data);
	w = ntm_calloc(1, sizeof(*w));
	if (w == NULL || (len > 0 && (w->data = ntm_malloc(len)) == NULL) ||
	    rcp_nodesock_ip_text(&ra->addr.sa, w->ip, sizeof(w->ip)) < 0 ||
	    /* Only while a whois for it is in flight: its end releases the hold. */
	    a->whos == NULL ||
	    rcp_whocache_get(a->whos, w->ip, uv_now(a->loop), fqdn) != RCP_WHO_PENDING ||
	    coap_register_async(session, request, 0) == NULL) {
		if (w != NULL) {
			ntm_free(w->data);
		}
		ntm_free(w);
		return false;
	}
	if (len > 0) {
		memcpy(w->data, data, len);
	}
	w->len = len;
	memcpy(w->token, tok.s, tok.length);
	w->token_len = tok.length;
	w->session = coap_session_reference(session);
	w->next = a->whowaits;
	a->whowaits = w;
	a->n_whowaits++;
	ntm_log_debug("action request from %s held until its whois ends", w->ip);
	return true;
}

void rcp_agent_whowait_done(struct rcp_agent *a, const char *ip)
{
	struct whowait **pp = &a->whowaits, *w;
	coap_async_t *async;
	bool kick = false;

	while ((w = *pp) != NULL) {
		if (w->triggered || strcmp(w->ip, ip) != 0) {
			pp = &w->next;
			continue;
		}
		async = coap_find_async(w->session, (coap_bin_const_t){ w->token_len, w->token });
		if (async == NULL) {
			*pp = w->next; /* the session went: nobody to answer */
			a->n_whowaits--;
			free_wait(w);
			continue;
		}
		/* libcoap calls the POST handler again, which takes the payload. */
		w->triggered = true;
		coap_async_trigger(async);
		kick = true;
		pp = &w->next;
	}
	if (kick) {
		rcp_coapio_kick(a->io);
	}
}

int rcp_agent_whowait_take(struct rcp_agent *a, coap_session_t *session, const coap_pdu_t *request,
			   uint8_t **data, size_t *len)
{
	coap_bin_const_t tok = coap_pdu_get_token(request);

	for (struct whowait **pp = &a->whowaits, *w; (w = *pp) != NULL; pp = &w->next) {
		if (w->session == session && w->token_len == tok.length &&
		    memcmp(w->token, tok.s, tok.length) == 0) {
			if (!w->triggered) {
				return -EBUSY;
			}
			*pp = w->next;
			a->n_whowaits--;
			*data = w->data;
			*len = w->len;
			w->data = NULL;
			free_wait(w);
			return 0;
		}
	}
	return -ENOENT;
}

void rcp_agent_whowait_fini(struct rcp_agent *a)
{
	while (a->whowaits != NULL) {
		struct whowait *w = a->whowaits;

		a->whowaits = w->next;
		free_wait(w);
	}
	a->n_whowaits = 0;
}
