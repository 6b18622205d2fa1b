/* SPDX-License-Identifier: MIT */
/*
 * The node's control socket as the agent uses it (nodesock.h).
 *
 * Why uv_queue_work with the blocking ntm_ctl_call and not a uv_pipe client
 * on the loop: `resolve` may take seconds (it builds the tunnel through the
 * DC), the blocking client is the one ntmctl already uses and tests, with
 * its response checks, size limit and timeout, and the calls are few (one
 * per new device or sender VIP, then cached), so a thread-pool slot per
 * call costs little. The loop only queues the call and, in the after-work
 * callback, decodes the answer; nothing on the loop waits on the socket.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/ctl.h"
#include "common/ctlclient.h"
#include "recipe/agent/nodesock.h"

/* ---------------------------------------------------------------- answers */

static int why_set(char *why, size_t whylen, int rc, const char *msg, const char *field)
{
	snprintf(why, whylen, "%s%s%s", field != NULL ? field : "", field != NULL ? ": " : "", msg);
	return rc;
}

/* The data object of a success answer, or the failure mapped to an errno. */
static int answer_data(json_object *resp, json_object **data, char *why, size_t whylen)
{
	struct ntm_ctl_response r;

	if (resp == NULL || ntm_ctl_response_decode(resp, &r) < 0) {
		return why_set(why, whylen, -EBADMSG, "not a control-socket response", NULL);
	}
	if (!r.ok) {
		snprintf(why, whylen, "%s: %s", ntm_ctl_code_name(r.code),
			 r.error != NULL ? r.error : "");
		return r.code == NTM_CTL_E_UNKNOWN   ? -ENOENT
		       : r.code == NTM_CTL_E_TIMEOUT ? -ETIMEDOUT
						     : -EIO;
	}
	if (r.data == NULL || !json_object_is_type(r.data, json_type_object)) {
		return why_set(why, whylen, -EBADMSG, "data is not an object", NULL);
	}
	*data = r.data;
	return 0;
}

/* A string member (NULL when absent or JSON null); -EBADMSG for another type. */
static int opt_string(json_object *o, const char *key, const char **out)
{
	json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || v == NULL) {
		return 0;
	}
	if (!json_object_is_type(v, json_type_string)) {
		return -EBADMSG;
	}
	*out = json_object_get_string(v);
	/* An embedded NUL would make the C string shorter than the JSON one. */
	return strlen(*out) == (size_t)json_object_get_string_len(v) ? 0 : -EBADMSG;
}

/* An FQDN as the recipe language accepts it, in lower case. */
static bool fqdn_copy(char dst[RCP_FQDN_MAX + 1], const char *s)
{
	char ref[RCP_FQDN_MAX + 3];
	size_t n = strlen(s);

	if (n == 0 || n > RCP_FQDN_MAX || strchr(s, '/') != NULL) {
		return false;
	}
	snprintf(ref, sizeof(ref), "%s/x", s);
	if (!rcp_is_resource_ref(ref, n + 2)) {
		return false;
	}
	for (size_t i = 0; i <= n; i++) {
		dst[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	}
	return true;
}

/* An optional address member of one family; *has false for absent, "" or unspecified. */
static int opt_ip(json_object *o, const char *key, int family, void *addr, bool *has)
{
	static const uint8_t zero[16];
	const char *s;

	*has = false;
	if (opt_string(o, key, &s) < 0) {
		return -EBADMSG;
	}
	if (s == NULL || s[0] == '\0') {
		return 0;
	}
	if (inet_pton(family, s, addr) != 1) {
		return -EBADMSG;
	}
	*has = memcmp(addr, zero, family == AF_INET ? 4 : 16) != 0;
	return 0;
}

static bool same_ip_text(const char *a, const char *b)
{
	uint8_t x[16], y[16];

	if (inet_pton(AF_INET, a, x) == 1) {
		return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
	}
	return inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, b, y) == 1 &&
	       memcmp(x, y, 16) == 0;
}

int rcp_nodesock_parse_whois(json_object *resp, const char *vip, struct rcp_whois *out, char *why,
			     size_t whylen)
{
	json_object *data;
	const char *s;
	uint8_t a6[16];
	bool has;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = answer_data(resp, &data, why, whylen);
	if (rc < 0) {
		return rc;
	}
	if (opt_string(data, "vip", &s) < 0 || s == NULL || !same_ip_text(s, vip)) {
		return why_set(why, whylen, -EBADMSG, "not the address asked", "vip");
	}
	if (opt_ip(data, "vip4", AF_INET, a6, &has) < 0) {
		return why_set(why, whylen, -EBADMSG, "not an IPv4 address", "vip4");
	}
	if (opt_ip(data, "vip6", AF_INET6, a6, &has) < 0) {
		return why_set(why, whylen, -EBADMSG, "not an IPv6 address", "vip6");
	}
	if (opt_string(data, "fqdn", &s) < 0 || (s != NULL && !fqdn_copy(out->fqdn, s))) {
		return why_set(why, whylen, -EBADMSG, "not a domain name", "fqdn");
	}
	return 0;
}

static int parse_resolved(json_object *data, struct rcp_resolved *out, char *why, size_t whylen)
{
	json_object *v;
	const char *s;
	int64_t ms;

	if (opt_ip(data, "vip4", AF_INET, &out->vip4, &out->has4) < 0) {
		return why_set(why, whylen, -EBADMSG, "not an IPv4 address", "vip4");
	}
	if (opt_ip(data, "vip6", AF_INET6, &out->vip6, &out->has6) < 0) {
		return why_set(why, whylen, -EBADMSG, "not an IPv6 address", "vip6");
	}
	if (!out->has4 && !out->has6) {
		return why_set(why, whylen, -EBADMSG, "no VIP in the answer", NULL);
	}
	if (opt_string(data, "path", &s) < 0 || s == NULL || s[0] == '\0' ||
	    strlen(s) > RCP_NODESOCK_PATH_MAX ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyz") != strlen(s)) {
		return why_set(why, whylen, -EBADMSG, "not a path word", "path");
	}
	snprintf(out->path, sizeof(out->path), "%s", s);
	if (!json_object_object_get_ex(data, "ms", &v) || !json_object_is_type(v, json_type_int) ||
	    (ms = json_object_get_int64(v)) < 0) {
		return why_set(why, whylen, -EBADMSG, "not a non-negative integer", "ms");
	}
	out->ms = (uint64_t)ms;
	return 0;
}

int rcp_nodesock_parse_resolve(json_object *resp, const char *fqdn, struct rcp_resolved *out,
			       char *why, size_t whylen)
{
	json_object *data;
	const char *s;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = answer_data(resp, &data, why, whylen);
	if (rc < 0) {
		return rc;
	}
	if (opt_string(data, "fqdn", &s) < 0 || s == NULL || !fqdn_copy(out->fqdn, s) ||
	    strcasecmp(out->fqdn, fqdn) != 0) {
		memset(out, 0, sizeof(*out));
		return why_set(why, whylen, -EBADMSG, "not the name asked", "fqdn");
	}
	rc = parse_resolved(data, out, why, whylen);
	if (rc < 0) {
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

int rcp_nodesock_pick(const struct rcp_resolved *r, int family, bool any_family, uint16_t port,
		      struct ntm_addr *out)
{
	bool want6 = family == AF_INET6;
	bool has_wanted = want6 ? r->has6 : r->has4;
	bool v6 = has_wanted || !any_family ? want6 : !want6;

	memset(out, 0, sizeof(*out));
	if (v6 && r->has6) {
		out->sin6.sin6_family = AF_INET6;
		out->sin6.sin6_addr = r->vip6;
		out->sin6.sin6_port = htons(port);
		out->len = sizeof(out->sin6);
		return 0;
	}
	if (!v6 && r->has4) {
		out->sin.sin_family = AF_INET;
		out->sin.sin_addr = r->vip4;
		out->sin.sin_port = htons(port);
		out->len = sizeof(out->sin);
		return 0;
	}
	return -EAFNOSUPPORT;
}

int rcp_nodesock_ip_text(const struct sockaddr *sa, char *buf, size_t cap)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
	const void *a;
	int fam = sa->sa_family;

	if (fam == AF_INET) {
		a = &((const struct sockaddr_in *)sa)->sin_addr;
	} else if (fam == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		fam = AF_INET;
		a = &s6->sin6_addr.s6_addr[12];
	} else if (fam == AF_INET6) {
		a = &s6->sin6_addr;
	} else {
		return -EAFNOSUPPORT;
	}
	return inet_ntop(fam, a, buf, (socklen_t)cap) != NULL ? 0 : -ENOSPC;
}

/* ---------------------------------------------------------------- calls */

struct rcp_nodesock {
	uv_loop_t *loop;
	char *path;
	unsigned pending;
	bool closing;
	void (*done)(void *arg);
	void *done_arg;
};

struct call {
	uv_work_t work;
	struct rcp_nodesock *ns;
	char *cmd;
	json_object *args;
	int timeout_ms;
	int rc;
	json_object *resp;
	rcp_nodesock_cb cb;
	void *ctx;
};

int rcp_nodesock_create(uv_loop_t *loop, const char *path, struct rcp_nodesock **out)
{
	struct rcp_nodesock *ns = ntm_calloc(1, sizeof(*ns));

	*out = NULL;
	if (ns == NULL || (ns->path = ntm_strdup(path)) == NULL) {
		ntm_free(ns);
		return -ENOMEM;
	}
	ns->loop = loop;
	*out = ns;
	return 0;
}

/* On a thread-pool thread: touches only the call's own fields. */
static void on_work(uv_work_t *w)
{
	struct call *c = w->data;

	c->rc = ntm_ctl_call(c->ns->path, c->cmd, c->args, c->timeout_ms, &c->resp);
}

static void free_ns(struct rcp_nodesock *ns)
{
	void (*done)(void *arg) = ns->done;
	void *arg = ns->done_arg;

	ntm_free(ns->path);
	ntm_free(ns);
	if (done != NULL) {
		done(arg);
	}
}

static void on_after_work(uv_work_t *w, int status)
{
	struct call *c = w->data;
	struct rcp_nodesock *ns = c->ns;

	ns->pending--;
	if (status < 0 && c->rc == 0) {
		c->rc = status; /* cancelled before it ran */
	}
	if (ns->closing) {
		c->rc = -ECANCELED;
	}
	c->cb(c->ctx, c->rc, c->rc == 0 ? c->resp : NULL);
	c->resp = c->rc == 0 ? NULL : c->resp;
	if (c->resp != NULL) {
		json_object_put(c->resp);
	}
	json_object_put(c->args);
	ntm_free(c->cmd);
	ntm_free(c);
	if (ns->closing && ns->pending == 0) {
		free_ns(ns);
	}
}

int rcp_nodesock_call(struct rcp_nodesock *ns, const char *cmd, const char *key, const char *value,
		      int timeout_ms, rcp_nodesock_cb cb, void *ctx)
{
	struct call *c = ntm_calloc(1, sizeof(*c));
	json_object *v;

	if (c == NULL) {
		return -ENOMEM;
	}
	c->ns = ns;
	c->cmd = ntm_strdup(cmd);
	c->args = json_object_new_object();
	v = json_object_new_string(value);
	if (c->cmd == NULL || c->args == NULL || v == NULL ||
	    json_object_object_add(c->args, key, v) < 0) {
		json_object_put(v);
		json_object_put(c->args);
		ntm_free(c->cmd);
		ntm_free(c);
		return -ENOMEM;
	}
	c->timeout_ms = timeout_ms;
	c->cb = cb;
	c->ctx = ctx;
	c->work.data = c;
	if (uv_queue_work(ns->loop, &c->work, on_work, on_after_work) < 0) {
		json_object_put(c->args);
		ntm_free(c->cmd);
		ntm_free(c);
		return -ENOMEM;
	}
	ns->pending++;
	return 0;
}

unsigned rcp_nodesock_pending(const struct rcp_nodesock *ns)
{
	return ns->pending;
}

void rcp_nodesock_close(struct rcp_nodesock *ns, void (*done)(void *arg), void *arg)
{
	if (ns == NULL) {
		if (done != NULL) {
			done(arg);
		}
		return;
	}
	ns->closing = true;
	ns->done = done;
	ns->done_arg = arg;
	if (ns->pending == 0) {
		free_ns(ns);
	}
}

/* ---------------------------------------------------------------- whois cache */

struct who {
	char ip[INET6_ADDRSTRLEN];
	char fqdn[RCP_FQDN_MAX + 1];
	bool known, pending;
	uint64_t at_ms; /* when known */
};

struct rcp_whocache {
	struct who e[RCP_WHOCACHE_MAX];
};

int rcp_whocache_create(struct rcp_whocache **out)
{
	*out = ntm_calloc(1, sizeof(**out));
	return *out == NULL ? -ENOMEM : 0;
}

void rcp_whocache_destroy(struct rcp_whocache *c)
{
	ntm_free(c);
}

static struct who *find(struct rcp_whocache *c, const char *ip)
{
	for (size_t i = 0; i < RCP_WHOCACHE_MAX; i++) {
		if ((c->e[i].known || c->e[i].pending) && strcmp(c->e[i].ip, ip) == 0) {
			return &c->e[i];
		}
	}
	return NULL;
}

/* A free slot, else the oldest answer not waiting for a lookup, else NULL. */
static struct who *slot(struct rcp_whocache *c)
{
	struct who *old = NULL;

	for (size_t i = 0; i < RCP_WHOCACHE_MAX; i++) {
		struct who *w = &c->e[i];

		if (!w->known && !w->pending) {
			return w;
		}
		if (!w->pending && (old == NULL || w->at_ms < old->at_ms)) {
			old = w;
		}
	}
	return old;
}

enum rcp_whocache_state rcp_whocache_get(struct rcp_whocache *c, const char *ip, uint64_t now_ms,
					 char fqdn[RCP_FQDN_MAX + 1])
{
	struct who *w = find(c, ip);

	if (w != NULL && w->known && now_ms - w->at_ms >= RCP_WHOCACHE_TTL_MS) {
		w->known = false; /* expired */
	}
	if (w == NULL || !w->known) {
		return w != NULL && w->pending ? RCP_WHO_PENDING : RCP_WHO_MISS;
	}
	snprintf(fqdn, RCP_FQDN_MAX + 1, "%s", w->fqdn);
	return !w->pending && now_ms - w->at_ms >= RCP_WHOCACHE_REFRESH_MS ? RCP_WHO_STALE
									   : RCP_WHO_HIT;
}

int rcp_whocache_pending(struct rcp_whocache *c, const char *ip, uint64_t now_ms)
{
	struct who *w = find(c, ip);

	(void)now_ms;
	if (w == NULL) {
		w = slot(c);
		if (w == NULL) {
			return -EBUSY;
		}
		memset(w, 0, sizeof(*w));
		snprintf(w->ip, sizeof(w->ip), "%s", ip);
	}
	w->pending = true;
	return 0;
}

void rcp_whocache_put(struct rcp_whocache *c, const char *ip, const char *fqdn, uint64_t now_ms)
{
	struct who *w = find(c, ip);

	if (w == NULL && (w = slot(c)) != NULL) {
		memset(w, 0, sizeof(*w));
		snprintf(w->ip, sizeof(w->ip), "%s", ip);
	}
	if (w != NULL) {
		snprintf(w->fqdn, sizeof(w->fqdn), "%s", fqdn);
		w->known = true;
		w->pending = false;
		w->at_ms = now_ms;
	}
}

void rcp_whocache_forget(struct rcp_whocache *c, const char *ip)
{
	struct who *w = find(c, ip);

	if (w != NULL) {
		memset(w, 0, sizeof(*w));
	}
}

size_t rcp_whocache_flush(struct rcp_whocache *c)
{
	size_t n = 0;

	for (size_t i = 0; i < RCP_WHOCACHE_MAX; i++) {
		if (c->e[i].known) {
			c->e[i].known = false;
			n++;
		}
	}
	return n;
}
