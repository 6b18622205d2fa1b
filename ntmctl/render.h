/* SPDX-License-Identifier: MIT */
#ifndef NTMCTL_RENDER_H
#define NTMCTL_RENDER_H

#include <json-c/json.h>
#include <stdio.h>

/*
 * Human-readable output of a response's data, so that any daemon's commands
 * read well without a dedicated renderer: an array of objects becomes an
 * aligned table with a header, an object `key: value` lines, an array of
 * scalars one value per line (an empty one "(none)"), a scalar itself, null
 * nothing. Lists of scalars in a cell read "a,b", counter objects "k=v"
 * without their zero members, anything deeper compact JSON. Control
 * characters from the daemon are shown as '?' so that they cannot drive the
 * terminal. `data` is borrowed.
 */
void ntmctl_render(FILE *out, json_object *data);

/* `resolve`: "FQDN VIP4 VIP6 PATH MS" on one line, "-" for a missing field. */
void ntmctl_render_resolve(FILE *out, json_object *data);

/* --json: the data as one pretty-printed JSON document and a newline. */
void ntmctl_render_json(FILE *out, json_object *data);

/* Writes text with control bytes replaced by '?' (for daemon-supplied strings). */
void ntmctl_render_text(FILE *out, const char *text);

#endif
