/* SPDX-License-Identifier: MIT */
#ifndef NTM_CTLCLIENT_H
#define NTM_CTLCLIENT_H

/*
 * Blocking client of the control socket (protocol: ctl.h), for ntmctl and
 * tests. Never call it on a daemon's loop thread.
 */

#include <json-c/json.h>

#include "ctl.h"

/*
 * Sends one request {"cmd":cmd,"args":args} to the socket at `path` and
 * waits for the response. `args` is borrowed and may be NULL. `timeout_ms`
 * bounds the whole call (connect, send, receive); a negative value waits
 * forever.
 *
 * Returns 0 with *response set to the response object, whose shape has been
 * checked (read it with ntm_ctl_response_decode; release it with
 * json_object_put). A failure response from the daemon ({"ok":false}) is a
 * successful call. On error *response is NULL and the result is a negative
 * errno: -ENOENT (no socket: the daemon is not running), -ECONNREFUSED (a
 * stale socket), -EACCES (no permission on the socket), -ETIMEDOUT,
 * -ECONNRESET (the daemon closed the connection without answering),
 * -EMSGSIZE (response over NTM_CTL_RESPONSE_MAX), -EBADMSG (not a valid
 * response), -ENAMETOOLONG, -ENOMEM.
 */
NTM_MUST_CHECK int ntm_ctl_call(const char *path, const char *cmd, json_object *args,
				int timeout_ms, json_object **response);

#endif
