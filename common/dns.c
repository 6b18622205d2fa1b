/* SPDX-License-Identifier: MIT */
#include "dns.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "dns_internal.h"
#include "log.h"

/*
 * Re-entrancy rules, the reason for most of this file:
 *   - c-ares must not be destroyed from inside one of its own callbacks, and
 *     a user callback must never run inside the query function that started
 *     it. `depth` counts our calls into c-ares that are still on the stack.
 *   - A completion that arrives while its own submit call is on the stack
 *     (c-ares answers /etc/hosts names, numeric names and some failures at
 *     once) is saved on the `deferred` list and delivered from the `defer`
 *     idle handle on the next loop iteration.
 *   - ntm_dns_close() marks the resolver closing; the c-ares teardown (cancel,
 *     destroy, close the handles) runs at once when depth is 0, otherwise when
 *     the outermost call into c-ares returns. Every delivery after the mark
 *     reports -ECANCELED.
 *   - The resolver is freed in the last uv close callback: one per socket
 *     watcher, plus the timer and the idle handle.
 */

enum req_kind {
	REQ_RESOLVE,
	REQ_QUERY,
	REQ_SRV,
	REQ_FORWARD,
};

struct dns_req {
	struct ntm_dns *dns;
	enum req_kind kind;
	union {
		ntm_dns_resolve_cb resolve;
		ntm_dns_msg_cb msg;
		ntm_dns_srv_cb srv;
	} cb;
	void *arg;
	bool submitting; /* its submit call is still on the stack */
	uint16_t msg_id; /* forward: the caller's message ID */
	/* A completion saved while submitting (see above). */
	int status;		  /* ARES_* */
	struct ares_addrinfo *ai; /* owned */
	uint8_t *msg;		  /* owned copy */
	size_t msg_len;
	struct dns_req *next;
};

/* One socket c-ares asked us to watch. Freed in its close callback. */
struct dns_sock {
	uv_poll_t poll;
	struct ntm_dns *dns;
	ares_socket_t fd;
	struct dns_sock *next;
};

struct ntm_dns {
	uv_loop_t *loop; /* borrowed */
	ares_channel channel;
	uv_timer_t timer;	/* re-armed from ares_timeout() */
	uv_idle_t defer;	/* runs while `deferred` is not empty */
	struct dns_sock *socks; /* watched; a closing watcher is unlinked */
	struct dns_req *deferred_head;
	struct dns_req *deferred_tail;
	unsigned int depth;
	unsigned int closes_pending;
	bool closing;
	bool torn_down;
	ntm_dns_close_cb close_cb;
	void *close_arg;
};

static void teardown(struct ntm_dns *dns);

/* ---------------------------------------------------------------- config */

static int set_servers(struct ntm_dns *dns, const struct ntm_dns_config *cfg)
{
	struct ares_addr_port_node *nodes;
	int rc = 0;

	nodes = ntm_calloc(cfg->n_servers, sizeof(*nodes));
	if (nodes == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->n_servers; i++) {
		rc = cfg->servers[i] ? ntm_dns_parse_server(cfg->servers[i], &nodes[i]) : -EINVAL;
		if (rc < 0) {
			ntm_log_err("dns: bad server \"%s\" (expected ip[:port] or [ipv6]:port)",
				    cfg->servers[i] ? cfg->servers[i] : "(null)");
			goto out;
		}
		nodes[i].next = i + 1 < cfg->n_servers ? &nodes[i + 1] : NULL;
	}
	rc = ntm_dns_errno(ares_set_servers_ports(dns->channel, nodes));
out:
	ntm_free(nodes);
	return rc;
}

static int check_config(const struct ntm_dns_config *cfg)
{
	if (cfg->n_servers > NTM_DNS_MAX_SERVERS || (cfg->n_servers > 0 && !cfg->servers)) {
		return -EINVAL;
	}
	if (cfg->timeout_ms > NTM_DNS_MAX_TIMEOUT_MS || cfg->tries > NTM_DNS_MAX_TRIES) {
		return -EINVAL;
	}
	return 0;
}

/* ---------------------------------------------------------------- sockets */

static void maybe_free(struct ntm_dns *dns)
{
	ntm_dns_close_cb cb = dns->close_cb;
	void *arg = dns->close_arg;

	if (!dns->torn_down || dns->closes_pending > 0) {
		return;
	}
	ntm_free(dns);
	ares_library_cleanup();
	if (cb != NULL) {
		cb(arg);
	}
}

static void on_handle_closed(uv_handle_t *h)
{
	struct ntm_dns *dns = h->data;

	dns->closes_pending--;
	maybe_free(dns);
}

static void on_sock_closed(uv_handle_t *h)
{
	struct dns_sock *s = h->data;
	struct ntm_dns *dns = s->dns;

	ntm_free(s);
	dns->closes_pending--;
	maybe_free(dns);
}

/* Stop at once (c-ares closes the fd right after telling us), free later. */
static void unwatch(struct dns_sock *s)
{
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, on_sock_closed);
	s->dns->closes_pending++;
}

static void leave(struct ntm_dns *dns);

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct dns_sock *s = h->data;
	struct ntm_dns *dns = s->dns;
	ares_socket_t rfd = ARES_SOCKET_BAD;
	ares_socket_t wfd = ARES_SOCKET_BAD;

	/* On a poll error let c-ares find the socket error itself. */
	if (status < 0 || (events & UV_READABLE)) {
		rfd = s->fd;
	}
	if (status < 0 || (events & UV_WRITABLE)) {
		wfd = s->fd;
	}
	dns->depth++;
	ares_process_fd(dns->channel, rfd, wfd); /* may unwatch (and later free) s */
	leave(dns);
}

static struct dns_sock *watch(struct ntm_dns *dns, ares_socket_t fd)
{
	struct dns_sock *s = ntm_calloc(1, sizeof(*s));
	int rc;

	if (s == NULL) {
		/* The socket's queries end in -ETIMEDOUT: the timer still runs. */
		ntm_log_err("dns: socket %d: %s", (int)fd, ntm_strerror(-ENOMEM));
		return NULL;
	}
	rc = uv_poll_init_socket(dns->loop, &s->poll, fd);
	if (rc < 0) {
		ntm_log_err("dns: socket %d: %s", (int)fd, ntm_strerror(rc));
		ntm_free(s);
		return NULL;
	}
	s->poll.data = s;
	s->dns = dns;
	s->fd = fd;
	s->next = dns->socks;
	dns->socks = s;
	return s;
}

/* ARES_OPT_SOCK_STATE_CB: c-ares wants (readable, writable) events on fd. */
static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct ntm_dns *dns = data;
	struct dns_sock **pp = &dns->socks;
	struct dns_sock *s;
	int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
	int rc;

	while (*pp != NULL && (*pp)->fd != fd) {
		pp = &(*pp)->next;
	}
	s = *pp;
	if (events == 0) {
		if (s != NULL) {
			*pp = s->next;
			unwatch(s);
		}
		return;
	}
	if (s == NULL && (s = watch(dns, fd)) == NULL) {
		return;
	}
	rc = uv_poll_start(&s->poll, events, on_poll);
	if (rc < 0) {
		ntm_log_err("dns: socket %d: poll: %s", (int)fd, ntm_strerror(rc));
	}
}

/* ---------------------------------------------------------------- timer */

static void on_timer(uv_timer_t *t)
{
	struct ntm_dns *dns = t->data;

	dns->depth++;
	ares_process_fd(dns->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	leave(dns);
}

static void arm_timer(struct ntm_dns *dns)
{
	struct timeval tv;
	uint64_t ms;

	if (ares_timeout(dns->channel, NULL, &tv) == NULL) {
		uv_timer_stop(&dns->timer);
		return;
	}
	/* Round up: waking before c-ares' deadline would only spin. */
	ms = (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000;
	uv_timer_start(&dns->timer, on_timer, ms, 0);
}

/* The outermost call into c-ares has returned: tear down or re-arm. */
static void leave(struct ntm_dns *dns)
{
	assert(dns->depth > 0);
	if (--dns->depth > 0) {
		return;
	}
	if (dns->closing) {
		teardown(dns);
	} else {
		arm_timer(dns);
	}
}

/* ---------------------------------------------------------------- delivery */

static void deliver_addrs(struct dns_req *req, int err, const struct ares_addrinfo *ai)
{
	struct ntm_dns_addr *addrs = NULL;
	size_t n = 0;

	if (err == 0) {
		err = ntm_dns_copy_addrs(ai, &addrs, &n);
	}
	req->cb.resolve(err, addrs, n, req->arg);
	ntm_free(addrs);
}

static void deliver_srv(struct dns_req *req, int err, const uint8_t *msg, size_t len)
{
	struct ares_srv_reply *replies = NULL;
	struct ntm_dns_srv *srv = NULL;
	size_t n = 0;

	if (err == 0) {
		err = ntm_dns_errno(ares_parse_srv_reply(msg, (int)len, &replies));
	}
	if (err == 0) {
		err = ntm_dns_copy_srv(replies, &srv, &n);
	}
	req->cb.srv(err, srv, n, req->arg);
	ntm_free(srv);
	if (replies != NULL) {
		ares_free_data(replies);
	}
}

/*
 * The message went out with our random ID (send_with_random_id); give the
 * caller's back. The buffer is c-ares' (non-const in ares_callback, not read
 * after the callback) or our deferred copy.
 */
static void deliver_forward(struct dns_req *req, int err, uint8_t *msg, size_t len)
{
	struct ntm_wbuf w;

	if (err == 0 && (msg == NULL || len < NTM_DNS_HEADER_LEN)) {
		err = -EBADMSG;
	}
	if (err == 0) {
		ntm_wbuf_init(&w, msg, 2);
		err = ntm_wbuf_put_be16(&w, req->msg_id);
	}
	req->cb.msg(err, err == 0 ? msg : NULL, err == 0 ? len : 0, req->arg);
}

/* Runs the user callback once and frees the request. */
static void deliver(struct dns_req *req, int status, uint8_t *msg, size_t len,
		    struct ares_addrinfo *ai)
{
	int err = req->dns->closing ? -ECANCELED : ntm_dns_errno(status);

	if (err == -ECANCELED) {
		msg = NULL;
		len = 0;
	}
	switch (req->kind) {
	case REQ_RESOLVE:
		deliver_addrs(req, err, ai);
		break;
	case REQ_QUERY:
		req->cb.msg(err, msg, msg ? len : 0, req->arg);
		break;
	case REQ_SRV:
		deliver_srv(req, err, msg, len);
		break;
	case REQ_FORWARD:
		deliver_forward(req, err, msg, len);
		break;
	}
	if (ai != NULL) {
		ares_freeaddrinfo(ai);
	}
	ntm_free(req->msg);
	ntm_free(req);
}

static struct dns_req *pop_deferred(struct ntm_dns *dns)
{
	struct dns_req *req = dns->deferred_head;

	if (req != NULL) {
		dns->deferred_head = req->next;
		if (dns->deferred_head == NULL) {
			dns->deferred_tail = NULL;
		}
		req->next = NULL;
	}
	return req;
}

static void on_defer(uv_idle_t *h)
{
	struct ntm_dns *dns = h->data;
	struct dns_req *batch = dns->deferred_head;
	struct dns_req *req;

	/* Only this batch: a callback that re-submits must not starve the loop. */
	dns->deferred_head = NULL;
	dns->deferred_tail = NULL;
	while ((req = batch) != NULL) {
		batch = req->next;
		deliver(req, req->status, req->msg, req->msg_len, req->ai);
	}
	if (!dns->closing && dns->deferred_head == NULL) {
		uv_idle_stop(h);
	}
}

static void defer(struct dns_req *req, int status, const uint8_t *msg, size_t len,
		  struct ares_addrinfo *ai)
{
	struct ntm_dns *dns = req->dns;

	req->status = status;
	req->ai = ai;
	if (msg != NULL && len > 0) {
		req->msg = ntm_malloc(len);
		if (req->msg == NULL) {
			req->status = ARES_ENOMEM;
		} else {
			memcpy(req->msg, msg, len);
			req->msg_len = len;
		}
	}
	if (dns->deferred_tail != NULL) {
		dns->deferred_tail->next = req;
	} else {
		dns->deferred_head = req;
	}
	dns->deferred_tail = req;
	uv_idle_start(&dns->defer, on_defer);
}

static void complete(struct dns_req *req, int status, uint8_t *msg, int len,
		     struct ares_addrinfo *ai)
{
	size_t n = msg != NULL && len > 0 ? (size_t)len : 0;

	if (req->submitting) {
		defer(req, status, msg, n, ai);
	} else {
		deliver(req, status, n ? msg : NULL, n, ai);
	}
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	complete(arg, status, NULL, 0, ai);
}

static void on_msg(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	complete(arg, status, abuf, alen, NULL);
}

/* ---------------------------------------------------------------- queries */

static int check_name(const struct ntm_dns *dns, const char *name)
{
	size_t len;

	if (dns->closing) {
		return -ECANCELED;
	}
	if (name == NULL) {
		return -EINVAL;
	}
	len = strnlen(name, NTM_DNS_MAX_NAME + 2);
	if (len == 0 || len > NTM_DNS_MAX_NAME + 1 ||
	    (len == NTM_DNS_MAX_NAME + 1 && name[len - 1] != '.')) {
		return -EINVAL;
	}
	return 0;
}

static struct dns_req *new_req(struct ntm_dns *dns, enum req_kind kind, void *arg)
{
	struct dns_req *req = ntm_calloc(1, sizeof(*req));

	if (req != NULL) {
		req->dns = dns;
		req->kind = kind;
		req->arg = arg;
		req->submitting = true;
		dns->depth++;
	}
	return req;
}

/* After the c-ares submit call: later completions are delivered directly. */
static void submitted(struct dns_req *req)
{
	struct ntm_dns *dns = req->dns;

	req->submitting = false; /* req may be deferred, never freed, before this */
	leave(dns);
}

int ntm_dns_resolve(struct ntm_dns *dns, const char *name, int family, ntm_dns_resolve_cb cb,
		    void *arg)
{
	struct ares_addrinfo_hints hints;
	struct dns_req *req;
	int rc = check_name(dns, name);

	if (rc < 0) {
		return rc;
	}
	if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC) {
		return -EAFNOSUPPORT;
	}
	req = new_req(dns, REQ_RESOLVE, arg);
	if (req == NULL) {
		return -ENOMEM;
	}
	req->cb.resolve = cb;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	ares_getaddrinfo(dns->channel, name, NULL, &hints, on_addrinfo, req);
	submitted(req);
	return 0;
}

static int start_query(struct ntm_dns *dns, const char *name, int dnsclass, int type,
		       struct dns_req *req)
{
	if (req == NULL) {
		return -ENOMEM;
	}
	ares_query(dns->channel, name, dnsclass, type, on_msg, req);
	submitted(req);
	return 0;
}

int ntm_dns_query(struct ntm_dns *dns, const char *name, int dnsclass, int type, ntm_dns_msg_cb cb,
		  void *arg)
{
	struct dns_req *req;
	int rc = check_name(dns, name);

	if (rc < 0) {
		return rc;
	}
	if (dnsclass < 0 || dnsclass > 0xffff || type < 0 || type > 0xffff) {
		return -EINVAL;
	}
	req = new_req(dns, REQ_QUERY, arg);
	if (req != NULL) {
		req->cb.msg = cb;
	}
	return start_query(dns, name, dnsclass, type, req);
}

int ntm_dns_query_srv(struct ntm_dns *dns, const char *name, ntm_dns_srv_cb cb, void *arg)
{
	enum { CLASS_IN = 1, TYPE_SRV = 33 }; /* RFC 1035 3.2.4, RFC 2782 */
	struct dns_req *req;
	int rc = check_name(dns, name);

	if (rc < 0) {
		return rc;
	}
	req = new_req(dns, REQ_SRV, arg);
	if (req != NULL) {
		req->cb.srv = cb;
	}
	return start_query(dns, name, CLASS_IN, TYPE_SRV, req);
}

/*
 * c-ares 1.18 picks random unique IDs in ares_query() but ares_send() puts the
 * message's own ID on the wire, and its one UDP socket per server gives no
 * source-port entropy. A client-chosen (say sequential) ID would then be all
 * that stands between the upstream answer and a spoofer, so the forwarded copy
 * gets a fresh random ID; deliver_forward() puts the caller's back. An ID that
 * collides with another in-flight query is still safe: c-ares also matches the
 * question, and the loser times out.
 */
static int send_with_random_id(struct ntm_dns *dns, const uint8_t *query, size_t len,
			       struct dns_req *req)
{
	uint8_t *copy = ntm_malloc(len);
	uint16_t id;
	struct ntm_wbuf w;
	int rc;

	if (copy == NULL) {
		return -ENOMEM;
	}
	memcpy(copy, query, len);
	rc = uv_random(NULL, NULL, &id, sizeof(id), 0, NULL);
	ntm_wbuf_init(&w, copy, 2);
	if (rc == 0) {
		rc = ntm_wbuf_put_be16(&w, id);
	}
	if (rc == 0) {
		ares_send(dns->channel, copy, (int)len, on_msg, req); /* copies the message */
	}
	ntm_free(copy);
	return rc;
}

int ntm_dns_forward(struct ntm_dns *dns, const uint8_t *query, size_t len, ntm_dns_msg_cb cb,
		    void *arg)
{
	struct ntm_rbuf r;
	struct dns_req *req;
	uint16_t id;
	int rc;

	if (dns->closing) {
		return -ECANCELED;
	}
	ntm_rbuf_init(&r, query, len);
	if (len < NTM_DNS_HEADER_LEN || len > NTM_DNS_MAX_MSG || ntm_rbuf_get_be16(&r, &id) < 0) {
		return -EINVAL;
	}
	req = new_req(dns, REQ_FORWARD, arg);
	if (req == NULL) {
		return -ENOMEM;
	}
	req->cb.msg = cb;
	req->msg_id = id;
	rc = send_with_random_id(dns, query, len, req);
	if (rc < 0) {
		/* Not handed to c-ares: no callback. */
		req->submitting = false;
		ntm_free(req);
		leave(dns);
		return rc;
	}
	submitted(req);
	return 0;
}

/* ---------------------------------------------------------------- life cycle */

static int init_channel(struct ntm_dns *dns, const struct ntm_dns_config *cfg)
{
	struct ares_options opts;
	int mask = ARES_OPT_SOCK_STATE_CB;
	int rc;

	memset(&opts, 0, sizeof(opts));
	opts.sock_state_cb = on_sock_state;
	opts.sock_state_cb_data = dns;
	if (cfg->timeout_ms > 0) {
		opts.timeout = (int)cfg->timeout_ms;
		mask |= ARES_OPT_TIMEOUTMS;
	}
	if (cfg->tries > 0) {
		opts.tries = (int)cfg->tries;
		mask |= ARES_OPT_TRIES;
	}
	if (cfg->n_servers > 0) {
		mask |= ARES_OPT_DOMAINS; /* ndomains 0: no search list, names are absolute */
	}
	rc = ntm_dns_errno(ares_library_init(ARES_LIB_INIT_ALL));
	if (rc < 0) {
		return rc;
	}
	rc = ntm_dns_errno(ares_init_options(&dns->channel, &opts, mask));
	if (rc < 0) {
		goto err_lib;
	}
	if (cfg->n_servers > 0 && (rc = set_servers(dns, cfg)) < 0) {
		goto err_channel;
	}
	return 0;

err_channel:
	ares_destroy(dns->channel);
	dns->channel = NULL;
err_lib:
	ares_library_cleanup();
	return rc;
}

int ntm_dns_create(uv_loop_t *loop, const struct ntm_dns_config *cfg, struct ntm_dns **out)
{
	static const struct ntm_dns_config defaults;
	struct ntm_dns *dns;
	int rc;

	*out = NULL;
	if (loop == NULL) {
		return -EINVAL;
	}
	if (cfg == NULL) {
		cfg = &defaults;
	}
	rc = check_config(cfg);
	if (rc < 0) {
		return rc;
	}
	dns = ntm_calloc(1, sizeof(*dns));
	if (dns == NULL) {
		return -ENOMEM;
	}
	dns->loop = loop;
	rc = init_channel(dns, cfg);
	if (rc < 0) {
		ntm_free(dns);
		return rc;
	}
	/* Cannot fail; done last so that no error path has a handle to close. */
	uv_timer_init(loop, &dns->timer);
	dns->timer.data = dns;
	uv_idle_init(loop, &dns->defer);
	dns->defer.data = dns;
	*out = dns;
	return 0;
}

/*
 * Every pending c-ares query ends here (ECANCELLED from ares_cancel; ares_destroy
 * would say EDESTRUCTION to any left), then the deferred ones, all reported as
 * -ECANCELED because `closing` is set. c-ares closes its sockets through
 * on_sock_state, which unwatches them.
 */
static void teardown(struct ntm_dns *dns)
{
	struct dns_req *req;
	struct dns_sock *s;

	if (dns->torn_down) {
		return;
	}
	dns->torn_down = true;
	ares_cancel(dns->channel);
	ares_destroy(dns->channel);
	dns->channel = NULL;
	while ((req = pop_deferred(dns)) != NULL) {
		deliver(req, ARES_ECANCELLED, NULL, 0, req->ai);
	}
	while ((s = dns->socks) != NULL) {
		dns->socks = s->next;
		unwatch(s);
	}
	uv_close((uv_handle_t *)&dns->timer, on_handle_closed);
	uv_close((uv_handle_t *)&dns->defer, on_handle_closed);
	dns->closes_pending += 2;
}

void ntm_dns_close(struct ntm_dns *dns, ntm_dns_close_cb done_cb, void *arg)
{
	if (dns == NULL) {
		return;
	}
	assert(!dns->closing);
	dns->closing = true;
	dns->close_cb = done_cb;
	dns->close_arg = arg;
	if (dns->depth == 0) {
		teardown(dns);
	}
}
