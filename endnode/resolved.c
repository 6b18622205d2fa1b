/* SPDX-License-Identifier: MIT */
/*
 * systemd-resolved registration (resolved.h). sd-bus runs inside the uv
 * loop: a uv_poll on the bus socket and a uv_timer on sd_bus_get_timeout()
 * call sd_bus_process() until it has nothing left, then re-arm both.
 */
#include "resolved.h"

#include <config.h> /* autoconf: HAVE_SD_BUS */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/log.h"
#include "endnode/dnsstub.h"
#include "endnode/node_internal.h"
#include "endnode/tun.h"

const char *en_resolved_state_name(enum en_resolved_state st)
{
	static const char *const names[] = {
		"off", "probing", "absent", "ready", "active", "failed"
	};

	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

/* The plan for the node as it is now: its TUN link, the stub's addresses on it, the domains. */
static void current_plan(const struct en_node *n, struct en_resolved_plan *p)
{
	struct en_dnsstub_info info = { 0 };
	struct ntm_addr usable[EN_NODE_LOCAL_MAX];
	const char *domains[EN_RESOLVED_DOMAINS_MAX];
	size_t n_usable = 0, n_domains = 0;

	if (n->dnsstub != NULL) {
		en_dnsstub_get_info(n->dnsstub, &info);
		n_domains = en_dnsstub_domains(n->dnsstub, domains, EN_RESOLVED_DOMAINS_MAX);
	}
	for (size_t i = 0; i < n->n_local; i++) {
		if (n->local[i].family == AF_INET) { /* on the TUN (node.c en_node_add_local) */
			memset(&usable[n_usable], 0, sizeof(usable[0]));
			usable[n_usable].sin.sin_family = AF_INET;
			memcpy(&usable[n_usable].sin.sin_addr, n->local[i].addr, 4);
			usable[n_usable++].len = sizeof(struct sockaddr_in);
		}
	}
	en_resolved_plan_build(p, n->tun != NULL ? en_tun_ifindex(n->tun) : 0, info.listen,
			       info.n_listen, usable, n_usable, domains, n_domains);
}

#ifdef HAVE_SD_BUS

#include <systemd/sd-bus.h>

#define RESOLVE1	 "org.freedesktop.resolve1"
#define RESOLVE1_PATH	 "/org/freedesktop/resolve1"
#define RESOLVE1_MANAGER "org.freedesktop.resolve1.Manager"

struct en_resolved {
	struct en_node *n;
	enum en_config_resolved mode;
	enum en_resolved_state state;
	sd_bus *bus;
	uv_poll_t poll;
	uv_timer_t bus_timer; /* sd-bus's own timeouts (call replies) */
	uv_timer_t soon;      /* en_resolved_sync: plan on the next loop turn */
	bool poll_open;
	struct en_resolved_plan sent, registered;
	bool has_registered; /* resolved holds `registered` for the link */
	unsigned pending;    /* calls of the current registration still unanswered */
	bool failed;	     /* one of them failed */
	bool again;	     /* a sync came while calls were pending */
	unsigned owner_gen;  /* counts resolved's (re)appearances on the bus */
	unsigned sent_gen;   /* owner_gen when the pending calls were sent */
	unsigned open_handles;
	void (*done)(void *arg);
	void *done_arg;
};

static void bus_arm(struct en_resolved *r);

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The bus went away: nothing can be registered until the node restarts. */
static void bus_lost(struct en_resolved *r, int rc)
{
	ntm_log_warn("dns: system bus: %s; systemd-resolved registration stops", strerror(-rc));
	r->state = EN_RESOLVED_FAILED;
	r->has_registered = false;
	uv_poll_stop(&r->poll);
	uv_timer_stop(&r->bus_timer);
}

static void bus_process(struct en_resolved *r)
{
	int rc;

	do {
		rc = sd_bus_process(r->bus, NULL);
	} while (rc > 0);
	if (rc < 0) {
		bus_lost(r, rc);
		return;
	}
	bus_arm(r);
}

static void on_bus_poll(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	bus_process(h->data);
}

static void on_bus_timer(uv_timer_t *t)
{
	bus_process(t->data);
}

/* Re-arms the poll with the events sd-bus wants and the timer with its next timeout. */
static void bus_arm(struct en_resolved *r)
{
	int ev = sd_bus_get_events(r->bus);
	uint64_t until = UINT64_MAX, now;

	if (ev < 0) {
		bus_lost(r, ev);
		return;
	}
	uv_poll_start(&r->poll,
		      ((ev & POLLIN) ? UV_READABLE : 0) | ((ev & POLLOUT) ? UV_WRITABLE : 0),
		      on_bus_poll);
	if (sd_bus_get_timeout(r->bus, &until) < 0 || until == UINT64_MAX) {
		uv_timer_stop(&r->bus_timer);
		return;
	}
	now = now_usec();
	uv_timer_start(&r->bus_timer, on_bus_timer, until > now ? (until - now + 999) / 1000 : 0,
		       0);
}

static void registration_done(struct en_resolved *r)
{
	const struct en_resolved_plan *p = &r->sent;
	char line[512] = "";
	size_t off = 0;

	if (r->sent_gen != r->owner_gen) {
		/* resolved came or went meanwhile: what it got is not what runs now */
		r->has_registered = false;
	} else if (r->failed) {
		r->state = EN_RESOLVED_FAILED;
		r->has_registered = false;
	} else if (en_resolved_plan_empty(p)) {
		r->state = EN_RESOLVED_READY;
		r->has_registered = false;
		ntm_log_info("dns: systemd-resolved: link %s reverted (no stub address on it)",
			     r->n->ifname);
	} else {
		r->state = EN_RESOLVED_ACTIVE;
		r->registered = *p;
		r->has_registered = true;
		for (size_t i = 0; i < p->n_domains && off < sizeof(line); i++) {
			int k = snprintf(line + off, sizeof(line) - off, "%s%s", i > 0 ? " " : "",
					 p->domains[i]);
			off += k > 0 ? (size_t)k : 0;
		}
		ntm_log_info("dns: systemd-resolved: %s routes %s to the stub (%zu server(s), "
			     "not a default route)",
			     r->n->ifname, p->n_domains > 0 ? line : "no domain yet", p->n_servers);
	}
	if (r->again) {
		r->again = false;
		en_resolved_sync(r);
	}
}

static int on_reply(sd_bus_message *m, void *arg, sd_bus_error *ret)
{
	struct en_resolved *r = arg;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	(void)ret;
	if (e != NULL) {
		ntm_log_warn("dns: systemd-resolved %s on %s: %s", sd_bus_message_get_member(m),
			     r->n->ifname, e->message != NULL ? e->message : e->name);
		r->failed = true;
	}
	if (--r->pending == 0) {
		registration_done(r);
	}
	return 1;
}

static int new_call(struct en_resolved *r, const char *method, sd_bus_message **m)
{
	int rc = sd_bus_message_new_method_call(r->bus, m, RESOLVE1, RESOLVE1_PATH,
						RESOLVE1_MANAGER, method);

	return rc < 0 ? rc : sd_bus_message_append(*m, "i", (int32_t)r->sent.ifindex);
}

static int append_servers(sd_bus_message *m, const struct en_resolved_plan *p)
{
	int rc = sd_bus_message_open_container(m, 'a', "(iay)");

	for (size_t i = 0; rc >= 0 && i < p->n_servers; i++) {
		rc = sd_bus_message_open_container(m, 'r', "iay");
		if (rc >= 0) {
			rc = sd_bus_message_append(m, "i", (int32_t)p->servers[i].family);
		}
		if (rc >= 0) {
			rc = sd_bus_message_append_array(m, 'y', p->servers[i].addr,
							 p->servers[i].len);
		}
		if (rc >= 0) {
			rc = sd_bus_message_close_container(m);
		}
	}
	return rc < 0 ? rc : sd_bus_message_close_container(m);
}

static int append_domains(sd_bus_message *m, const struct en_resolved_plan *p)
{
	int rc = sd_bus_message_open_container(m, 'a', "(sb)");

	for (size_t i = 0; rc >= 0 && i < p->n_domains; i++) {
		/* the leading "~" is the text form; on the bus it is the flag */
		rc = sd_bus_message_append(m, "(sb)", p->domains[i] + 1, 1);
	}
	return rc < 0 ? rc : sd_bus_message_close_container(m);
}

/* Builds and sends one call of the registration (its reply comes to on_reply). */
static int send_call(struct en_resolved *r, const char *method)
{
	sd_bus_message *m = NULL;
	int rc = new_call(r, method, &m);

	if (rc >= 0 && strcmp(method, "SetLinkDNS") == 0) {
		rc = append_servers(m, &r->sent);
	} else if (rc >= 0 && strcmp(method, "SetLinkDomains") == 0) {
		rc = append_domains(m, &r->sent);
	} else if (rc >= 0 && strcmp(method, "SetLinkDefaultRoute") == 0) {
		rc = sd_bus_message_append(m, "b", 0);
	}
	if (rc >= 0) {
		rc = sd_bus_call_async(r->bus, NULL, m, on_reply, r,
				       (uint64_t)EN_RESOLVED_CALL_TIMEOUT_MS * 1000u);
	}
	sd_bus_message_unref(m);
	if (rc >= 0) {
		r->pending++;
	}
	return rc;
}

/* The plan of now differs from the registered one: send it (or revert when it is empty). */
static void on_soon(uv_timer_t *t)
{
	static const char *const set[] = { "SetLinkDNS", "SetLinkDomains", "SetLinkDefaultRoute" };
	struct en_resolved *r = t->data;
	struct en_resolved_plan p;
	int rc = 0;

	if (r->pending > 0) {
		r->again = true;
		return;
	}
	if (r->state != EN_RESOLVED_READY && r->state != EN_RESOLVED_ACTIVE &&
	    r->state != EN_RESOLVED_FAILED) {
		return;
	}
	current_plan(r->n, &p);
	if (p.ifindex <= 0 || (r->state == EN_RESOLVED_ACTIVE && r->has_registered &&
			       en_resolved_plan_equal(&p, &r->registered))) {
		return;
	}
	if (en_resolved_plan_empty(&p) && !r->has_registered) {
		return; /* nothing registered, nothing to register */
	}
	r->sent = p;
	r->sent_gen = r->owner_gen;
	r->failed = false;
	if (en_resolved_plan_empty(&p)) {
		rc = send_call(r, "RevertLink");
	}
	for (size_t i = 0; rc >= 0 && !en_resolved_plan_empty(&p) && i < 3; i++) {
		rc = send_call(r, set[i]);
	}
	if (rc < 0) {
		ntm_log_warn("dns: systemd-resolved registration: %s", strerror(-rc));
		r->failed = true;
		if (r->pending == 0) {
			registration_done(r);
		}
	}
	bus_arm(r);
}

void en_resolved_sync(struct en_resolved *r)
{
	if (r != NULL && r->bus != NULL && r->open_handles == 0) {
		uv_timer_start(&r->soon, on_soon, 0, 0);
	}
}

static int on_probe(sd_bus_message *m, void *arg, sd_bus_error *ret)
{
	struct en_resolved *r = arg;
	int has = 0;

	(void)ret;
	if (sd_bus_message_is_method_error(m, NULL) || sd_bus_message_read(m, "b", &has) < 0) {
		has = 0;
	}
	if (r->state != EN_RESOLVED_PROBING) {
		return 1; /* NameOwnerChanged was first */
	}
	if (!has) {
		ntm_log_info("dns: systemd-resolved is not running: nothing registered until it "
			     "starts (`ntmctl dns-setup` prints the resolv.conf lines)");
		r->state = EN_RESOLVED_ABSENT;
		return 1;
	}
	ntm_log_info("dns: systemd-resolved is running: the overlay domains go to the stub "
		     "through link %s",
		     r->n->ifname[0] != '\0' ? r->n->ifname : "(TUN)");
	r->state = EN_RESOLVED_READY;
	en_resolved_sync(r);
	return 1;
}

/*
 * resolved started, restarted or stopped: a new instance knows nothing of
 * the link (its saved state may be gone), so register again from scratch.
 */
static int on_owner_changed(sd_bus_message *m, void *arg, sd_bus_error *ret)
{
	struct en_resolved *r = arg;
	const char *name = NULL, *old_owner = NULL, *new_owner = NULL;

	(void)ret;
	if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 ||
	    strcmp(name, RESOLVE1) != 0) {
		return 0;
	}
	r->owner_gen++;
	r->has_registered = false;
	if (new_owner[0] == '\0') {
		ntm_log_info(
			"dns: systemd-resolved left the bus; registering again when it is back");
		r->state = EN_RESOLVED_ABSENT;
		return 0;
	}
	ntm_log_info("dns: systemd-resolved %s on the bus: registering link %s",
		     old_owner[0] != '\0' ? "changed" : "appeared", r->n->ifname);
	r->state = EN_RESOLVED_READY;
	en_resolved_sync(r);
	return 0;
}

static int open_bus(struct en_resolved *r)
{
	int rc = sd_bus_open_system(&r->bus);

	if (rc < 0) {
		r->bus = NULL;
		return rc;
	}
	uv_poll_init(r->n->loop, &r->poll, sd_bus_get_fd(r->bus));
	r->poll.data = r;
	r->poll_open = true;
	rc = sd_bus_match_signal_async(r->bus, NULL, "org.freedesktop.DBus",
				       "/org/freedesktop/DBus", "org.freedesktop.DBus",
				       "NameOwnerChanged", on_owner_changed, NULL, r);
	if (rc < 0) {
		return rc;
	}
	if (r->mode == EN_CONFIG_RESOLVED_YES) {
		ntm_log_info("dns: registering the overlay domains with systemd-resolved "
			     "(RegisterResolved = yes)");
		r->state = EN_RESOLVED_READY;
		bus_arm(r);
		return 0;
	}
	r->state = EN_RESOLVED_PROBING;
	rc = sd_bus_call_method_async(r->bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
				      "org.freedesktop.DBus", "NameHasOwner", on_probe, r, "s",
				      RESOLVE1);
	if (rc >= 0) {
		bus_arm(r);
	}
	return rc;
}

int en_resolved_create(struct en_node *n, enum en_config_resolved mode, struct en_resolved **out)
{
	struct en_resolved *r = ntm_calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (r == NULL) {
		return -ENOMEM;
	}
	r->n = n;
	r->mode = mode;
	uv_timer_init(n->loop, &r->bus_timer);
	uv_timer_init(n->loop, &r->soon);
	r->bus_timer.data = r;
	r->soon.data = r;
	if (mode == EN_CONFIG_RESOLVED_NO) {
		ntm_log_info("dns: not registering with systemd-resolved (RegisterResolved = no)");
		r->state = EN_RESOLVED_OFF;
	} else if ((rc = open_bus(r)) < 0) {
		if (mode == EN_CONFIG_RESOLVED_YES) {
			ntm_log_warn("dns: system bus: %s; not registering with systemd-resolved",
				     strerror(-rc));
		} else {
			ntm_log_info("dns: no system bus (%s): not registering with "
				     "systemd-resolved (`ntmctl dns-setup` prints the resolv.conf "
				     "lines)",
				     strerror(-rc));
		}
		r->state = mode == EN_CONFIG_RESOLVED_YES ? EN_RESOLVED_FAILED : EN_RESOLVED_ABSENT;
	}
	*out = r;
	return 0;
}

enum en_resolved_state en_resolved_get(const struct en_resolved *r,
				       const struct en_resolved_plan **registered)
{
	*registered = r != NULL && r->has_registered ? &r->registered : NULL;
	return r != NULL ? r->state : EN_RESOLVED_OFF;
}

/* Exit: the one call that waits, bounded (the loop is ending anyway). */
static void revert(struct en_resolved *r)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	int rc;

	r->sent.ifindex = r->registered.ifindex;
	rc = new_call(r, "RevertLink", &m);
	if (rc >= 0) {
		rc = sd_bus_call(r->bus, m, (uint64_t)EN_RESOLVED_REVERT_TIMEOUT_MS * 1000u, &e,
				 NULL);
	}
	if (rc < 0) {
		ntm_log_warn("dns: systemd-resolved RevertLink on %s: %s", r->n->ifname,
			     e.message != NULL ? e.message : strerror(-rc));
	} else {
		ntm_log_info("dns: systemd-resolved: link %s reverted", r->n->ifname);
	}
	sd_bus_error_free(&e);
	sd_bus_message_unref(m);
}

static void on_closed(uv_handle_t *h)
{
	struct en_resolved *r = h->data;

	if (--r->open_handles > 0) {
		return;
	}
	if (r->done != NULL) {
		r->done(r->done_arg);
	}
	ntm_free(r);
}

void en_resolved_close(struct en_resolved *r, void (*done)(void *arg), void *arg)
{
	if (ntm_close_null(r, done, arg)) {
		return;
	}
	r->done = done;
	r->done_arg = arg;
	if (r->bus != NULL && r->has_registered) {
		revert(r);
	}
	r->open_handles = 2;
	uv_close((uv_handle_t *)&r->bus_timer, on_closed);
	uv_close((uv_handle_t *)&r->soon, on_closed);
	if (r->poll_open) {
		r->open_handles++;
		uv_close((uv_handle_t *)&r->poll,
			 on_closed); /* stops watching before the fd goes */
	}
	if (r->bus != NULL) {
		sd_bus_flush_close_unref(r->bus);
		r->bus = NULL;
	}
}

#else /* !HAVE_SD_BUS */

struct en_resolved {
	uv_timer_t soon; /* only to end asynchronously like the rest of the node */
	void (*done)(void *arg);
	void *done_arg;
};

int en_resolved_create(struct en_node *n, enum en_config_resolved mode, struct en_resolved **out)
{
	struct en_resolved *r = ntm_calloc(1, sizeof(*r));

	*out = NULL;
	if (r == NULL) {
		return -ENOMEM;
	}
	uv_timer_init(n->loop, &r->soon);
	r->soon.data = r;
	if (mode != EN_CONFIG_RESOLVED_NO) {
		ntm_log_info("dns: built without libsystemd: not registering with "
			     "systemd-resolved (`ntmctl dns-setup` prints the resolv.conf lines)");
	}
	(void)current_plan;
	*out = r;
	return 0;
}

void en_resolved_sync(struct en_resolved *r)
{
	(void)r;
}

enum en_resolved_state en_resolved_get(const struct en_resolved *r,
				       const struct en_resolved_plan **registered)
{
	(void)r;
	*registered = NULL;
	return EN_RESOLVED_OFF;
}

static void on_closed(uv_handle_t *h)
{
	struct en_resolved *r = h->data;

	if (r->done != NULL) {
		r->done(r->done_arg);
	}
	ntm_free(r);
}

void en_resolved_close(struct en_resolved *r, void (*done)(void *arg), void *arg)
{
	if (ntm_close_null(r, done, arg)) {
		return;
	}
	r->done = done;
	r->done_arg = arg;
	uv_close((uv_handle_t *)&r->soon, on_closed);
}

#endif
