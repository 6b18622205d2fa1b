/* SPDX-License-Identifier: MIT */
#ifndef NTMCTL_DNSSETUP_H
#define NTMCTL_DNSSETUP_H

#include <json-c/json.h>
#include <stdbool.h>

/*
 * `ntmctl dns-setup [--apply] [--file PATH]` for systems without
 * systemd-resolved: from the node's `dns` answer (`data`, borrowed: listen
 * addresses, interface, domains) print the resolver configuration that
 * sends every lookup to the node's DNS stub (which answers the overlay
 * names and forwards the rest upstream). With `apply` the file at `path`
 * is rewritten: the stub's nameserver lines first, the old content after
 * them (minus lines naming the stub already), the original kept once as
 * PATH.ntm-backup; a symlinked file (managed by another resolver) is left
 * alone. Nothing else ever writes resolv.conf. Returns an exit status.
 */
int ntmctl_dns_setup(json_object *data, bool apply, const char *path);

#endif
