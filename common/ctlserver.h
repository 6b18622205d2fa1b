/* SPDX-License-Identifier: MIT */
#ifndef NTM_CTLSERVER_H
#define NTM_CTLSERVER_H

/*
 * The daemon side of the control socket (protocol: ctl.h). One server per
 * daemon, on the daemon's loop; handlers answer at once or later.
 *
 * Lifetime: the server owns its listening handle and one uv_pipe_t per
 * connection. A connection is refcounted (_get/_put, private to
 * ctlserver.c): one reference for its handle (dropped in the close
 * callback), one for the request in flight (dropped by the reply) and one per
 * queued write. So a handler's `struct ntm_ctl_req *` stays valid until it
 * replies, whatever happens to the client or to the server meanwhile.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

#include "addr.h"
#include "ctl.h"

struct ntm_ctl_server;
struct ntm_ctl_req;

/*
 * A command handler. It answers, now or later, with exactly one of
 * ntm_ctl_reply_ok / ntm_ctl_reply_err; `req` stays valid until then, even if
 * the client goes away or the server is closed meanwhile (the reply is then
 * dropped). A handler that answers later should register a cancel callback to
 * learn that nobody waits any more.
 */
typedef void (*ntm_ctl_handler_cb)(struct ntm_ctl_req *req, void *user);

/*
 * Called at most once, on the loop thread, when the client of a pending
 * request disconnects or the server is closed. The request must still be
 * answered (the reply is dropped); the callback may do that itself.
 */
typedef void (*ntm_ctl_cancel_cb)(struct ntm_ctl_req *req, void *arg);

typedef void (*ntm_ctl_server_closed_cb)(void *arg);

struct ntm_ctl_cmd {
	const char *name;
	enum ntm_ctl_perm perm;
	ntm_ctl_handler_cb fn;
	const char *help; /* one line, shown by the built-in "help" */
};

struct ntm_ctl_config {
	const char *path; /* socket path; copied */
	bool has_group;	  /* mode 0660 and this group instead of 0600 */
	gid_t group;
	const struct ntm_ctl_cmd *cmds; /* borrowed: must outlive the server */
	size_t n_cmds;
	void *user; /* passed to every handler */
};

/*
 * Creates the socket (parent directory made 0755 if missing, stale socket
 * replaced, a live one refused with -EADDRINUSE, anything else at the path
 * refused with -EEXIST), sets its mode before listening, and serves it on
 * `loop`. `cfg` is read during the call only (but cfg->cmds is kept). On
 * failure *out is NULL, the reason is logged and a negative errno returned;
 * a handle may still be closing then, so the caller runs the loop before
 * uv_loop_close as usual. The process must ignore SIGPIPE (daemons do so in
 * main.c): a client may vanish before its answer is written.
 */
NTM_MUST_CHECK int ntm_ctl_server_create(uv_loop_t *loop, const struct ntm_ctl_config *cfg,
					 struct ntm_ctl_server **out);

/*
 * Stops listening, unlinks the socket (if it is still the one we bound),
 * cancels pending requests, closes every connection and frees the server in
 * the last close callback, then calls done(arg) (done may be NULL). Pending
 * requests outlive the server until they are answered.
 */
void ntm_ctl_server_close(struct ntm_ctl_server *srv, ntm_ctl_server_closed_cb done, void *arg);

/* Number of open connections (tests). */
size_t ntm_ctl_server_conn_count(const struct ntm_ctl_server *srv);

/* Arguments of the request: an object, never NULL; borrowed until the reply. */
json_object *ntm_ctl_req_args(const struct ntm_ctl_req *req);
const char *ntm_ctl_req_cmd(const struct ntm_ctl_req *req);
uid_t ntm_ctl_req_peer_uid(const struct ntm_ctl_req *req);
/* False once the client has gone or the server is closing. */
bool ntm_ctl_req_is_live(const struct ntm_ctl_req *req);
void ntm_ctl_req_set_cancel(struct ntm_ctl_req *req, ntm_ctl_cancel_cb cb, void *arg);

/* Answers with {"ok":true,"data":data}; takes ownership of `data` (NULL = null). */
void ntm_ctl_reply_ok(struct ntm_ctl_req *req, json_object *data);
/* Answers with {"ok":false,...}. The message is formatted now. */
void ntm_ctl_reply_err(struct ntm_ctl_req *req, enum ntm_ctl_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Pieces of the daemons' status replies (dc/admin.c, rs/control.c,
 * endnode/control.c), so that the same field reads the same everywhere.
 * ntm_ctl_json_addr: "addr:port", or NULL (JSON null) for an unset address.
 * ntm_ctl_json_count: adds a counter `key` to `o`.
 * ntm_ctl_json_contact: adds "last_contact" (seconds since the last answer
 * from the DC, null if never: last_contact_ms < 0) and "error" (the DC's
 * last refusal by name, null if none), the tail of the "dc" object of
 * ntm-rs's and ntm-node's status.
 */
json_object *ntm_ctl_json_addr(const struct ntm_addr *a);
void ntm_ctl_json_count(json_object *o, const char *key, uint64_t v);
void ntm_ctl_json_contact(json_object *o, int64_t last_contact_ms, uint16_t last_error);

#endif
