/* SPDX-License-Identifier: MIT */
#ifndef EN_RESOLVED_H
#define EN_RESOLVED_H

#include <stdbool.h>

#include "common/err.h"
#include "endnode/config.h"
#include "endnode/resolvedplan.h"

/*
 * Registration of the DNS stub with systemd-resolved (issue 7, "Node DNS
 * stub"): when resolved owns org.freedesktop.resolve1 on the system bus,
 * the TUN link gets the stub's addresses as its DNS servers
 * (SetLinkDNS), the overlay domains as routing-only domains
 * (SetLinkDomains, "~example.net") and DefaultRoute=false
 * (SetLinkDefaultRoute), so names below the overlay domains go to the
 * stub and nothing else does; a clean exit reverts the link (RevertLink).
 * Without resolved nothing is written anywhere: `ntmctl dns-setup` prints
 * the resolv.conf lines instead.
 *
 * [DNS] RegisterResolved: "auto" (default) registers when resolved runs
 * (NameHasOwner at start), "yes" registers regardless (the bus may start
 * resolved; failures are warnings), "no" never. One log line says which.
 * Whenever resolved (re)appears on the bus (NameOwnerChanged) the link is
 * registered again: a new instance may know nothing of it.
 *
 * The event loop never waits for the bus while the node runs: every call is
 * an asynchronous sd-bus call whose socket and timeout are driven by a uv
 * poll and a uv timer (EN_RESOLVED_CALL_TIMEOUT_MS each). The one blocking
 * call is RevertLink at exit, bounded by EN_RESOLVED_REVERT_TIMEOUT_MS.
 *
 * en_resolved_sync() is cheap and may be called whenever the stub's
 * addresses or the domains may have changed: the plan is taken on the next
 * loop turn and sent only when it differs from the registered one.
 * Built without libsystemd (configure --without-libsystemd) the module
 * logs that once and does nothing.
 */
struct en_node;
struct en_resolved;

enum {
	EN_RESOLVED_CALL_TIMEOUT_MS = 5000,
	EN_RESOLVED_REVERT_TIMEOUT_MS = 1000,
};

enum en_resolved_state {
	EN_RESOLVED_OFF,     /* RegisterResolved = no, or built without libsystemd */
	EN_RESOLVED_PROBING, /* asking the bus whether resolved runs */
	EN_RESOLVED_ABSENT,  /* auto: no system bus or no resolved */
	EN_RESOLVED_READY,   /* resolved is there; nothing registered (yet) */
	EN_RESOLVED_ACTIVE,  /* the link carries the last plan */
	EN_RESOLVED_FAILED,  /* the last registration failed (retried on the next change) */
};

/* "off", "probing", "absent", "ready", "active", "failed". */
const char *en_resolved_state_name(enum en_resolved_state st);

/*
 * For node `n` (borrowed, outlives it) with mode `mode`. Connects to the
 * system bus (DBUS_SYSTEM_BUS_ADDRESS or the default socket) and starts
 * the probe; a missing bus is not an error. 0 or -ENOMEM.
 */
NTM_MUST_CHECK int en_resolved_create(struct en_node *n, enum en_config_resolved mode,
				      struct en_resolved **out);

/* The addresses or domains may have changed: re-plan on the next loop turn. Accepts NULL. */
void en_resolved_sync(struct en_resolved *r);

/* The state and the plan last registered (valid while ACTIVE). Accepts NULL (OFF). */
enum en_resolved_state en_resolved_get(const struct en_resolved *r,
				       const struct en_resolved_plan **registered);

/* RevertLink when something is registered (bounded wait), then frees `r` and calls done(arg) later.
 */
void en_resolved_close(struct en_resolved *r, void (*done)(void *arg), void *arg);

#endif
