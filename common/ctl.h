/* SPDX-License-Identifier: MIT */
#ifndef NTM_CTL_H
#define NTM_CTL_H

/*
 * Control socket: every daemon serves one UNIX stream socket that ntmctl (and
 * scripts) talk to. This comment is the protocol, an internal contract
 * between the daemons and ntmctl. This module holds the pure codecs;
 * ctlserver.h is the daemon side (libuv), ctlclient.h the blocking client.
 *
 * Framing: newline-delimited JSON. Each request and each response is one JSON
 * object encoded on one line and terminated by "\n" (JSON_C_TO_STRING_PLAIN
 * escapes control characters inside strings, so a document never holds a raw
 * newline). A line may end in "\r\n"; blank lines are ignored. UTF-8 only.
 *
 *   request:  {"cmd":"NAME","args":{...}}
 *             cmd: 1..NTM_CTL_CMD_MAX characters of [a-z0-9_.-];
 *             args: an object, may be omitted (same as {}); no other keys.
 *   success:  {"ok":true,"data":VALUE}        VALUE is any JSON value or null
 *   failure:  {"ok":false,"code":"CODE","error":"human readable text"}
 *             CODE is one of unknown, timeout, denied, invalid, error
 *             (enum ntm_ctl_code; ntmctl maps unknown -> exit 2,
 *             timeout -> exit 3, the rest -> exit 1).
 *
 * A connection carries any number of requests. They are answered in order,
 * one at a time: while a request waits for its (possibly late) reply the
 * server reads nothing more from that connection. A line longer than
 * NTM_CTL_REQUEST_MAX bytes, or one that is not a valid request, gets a
 * failure response with code "invalid" and the server then closes the
 * connection. An unknown command gets code "invalid" and the list of
 * commands; the connection stays open. At most NTM_CTL_CONN_MAX connections
 * are served at once; further ones are closed at once. End of input from the
 * client (shutdown(SHUT_WR)) still lets the pending requests be answered, so
 * `printf '{"cmd":"status"}\n' | socat - UNIX-CONNECT:SOCK` works.
 *
 * Built-in command: "help" -> data is an array of {"name","perm","help"}
 * with perm "read" or "write".
 *
 * Permissions: the socket is mode 0600, or 0660 with the admin's group.
 * NTM_CTL_READ commands are allowed to any peer that could connect;
 * NTM_CTL_WRITE commands only to a peer whose SO_PEERCRED uid is 0 or the
 * daemon's effective uid (code "denied" otherwise).
 */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

enum {
	NTM_CTL_REQUEST_MAX = 64 * 1024,	 /* bytes per request line, without "\n" */
	NTM_CTL_RESPONSE_MAX = 16 * 1024 * 1024, /* bytes the client accepts */
	NTM_CTL_CONN_MAX = 64,			 /* concurrent connections per server */
	NTM_CTL_CMD_MAX = 64,			 /* characters in a command name */
	NTM_CTL_JSON_DEPTH = 32,		 /* nesting depth the parser accepts */
};

enum ntm_ctl_code {
	NTM_CTL_E_UNKNOWN, /* the name asked about does not exist */
	NTM_CTL_E_TIMEOUT, /* the daemon gave up waiting (e.g. for a tunnel) */
	NTM_CTL_E_DENIED,  /* the peer may not run this command */
	NTM_CTL_E_INVALID, /* malformed request, unknown command, bad arguments */
	NTM_CTL_E_ERROR,   /* anything else */
};

enum ntm_ctl_perm {
	NTM_CTL_READ,
	NTM_CTL_WRITE,
};

/* "unknown", "timeout", ... Static strings. */
const char *ntm_ctl_code_name(enum ntm_ctl_code code);
/* Inverse of ntm_ctl_code_name; an unrecognised name maps to NTM_CTL_E_ERROR. */
enum ntm_ctl_code ntm_ctl_code_from_name(const char *name);
/* "read" or "write". */
const char *ntm_ctl_perm_name(enum ntm_ctl_perm perm);

/* The permission rule (see the top comment), pure so that tests cover it. */
bool ntm_ctl_perm_allows(enum ntm_ctl_perm perm, uid_t peer_uid, uid_t daemon_uid);

/*
 * Parses one JSON document that fills buf[0..len) (trailing whitespace
 * allowed, NUL bytes and invalid UTF-8 refused, depth capped at
 * NTM_CTL_JSON_DEPTH). On success *out is a new reference the caller
 * releases with json_object_put; on failure *out is NULL and -EBADMSG is
 * returned. `buf` need not be NUL-terminated.
 */
NTM_MUST_CHECK int ntm_ctl_json_parse(const char *buf, size_t len, json_object **out);

/* A decoded request. Value type; fini releases what it holds. */
struct ntm_ctl_request {
	char cmd[NTM_CTL_CMD_MAX + 1];
	json_object *args; /* owned reference; an object, never NULL after a successful parse */
};

/*
 * Pure request decoder: buf[0..len) is one request line without its "\n"
 * (a trailing "\r" is tolerated). Returns 0, or -EMSGSIZE (longer than
 * NTM_CTL_REQUEST_MAX) / -EBADMSG (not a valid request) with `why` pointing
 * at a static reason. `req` is initialised on entry; call
 * ntm_ctl_request_fini on success (harmless on failure).
 */
NTM_MUST_CHECK int ntm_ctl_request_parse(const char *buf, size_t len, struct ntm_ctl_request *req,
					 const char **why);
void ntm_ctl_request_fini(struct ntm_ctl_request *req);

/*
 * Encodes {"cmd":..,"args":..} plus "\n". `args` is borrowed and may be NULL.
 * Returns a NUL-terminated string the caller frees with ntm_free, length in
 * *len; NULL on allocation failure.
 */
char *ntm_ctl_request_encode(const char *cmd, json_object *args, size_t *len);

/*
 * Serialises `obj` (borrowed) as one protocol line with its "\n". Returns a
 * NUL-terminated string the caller frees with ntm_free; NULL on failure.
 */
char *ntm_ctl_json_line(json_object *obj, size_t *len);

/* A decoded response: a view whose pointers borrow from the response object. */
struct ntm_ctl_response {
	bool ok;
	json_object *data;	/* ok: the data (may be NULL for JSON null) */
	enum ntm_ctl_code code; /* !ok */
	const char *error;	/* !ok: the message */
};

/*
 * Checks the shape of a response object (see the top comment) and fills `r`
 * with borrowed pointers, valid while `obj` is. Returns -EBADMSG if the
 * shape is wrong. An unknown code string maps to NTM_CTL_E_ERROR.
 */
NTM_MUST_CHECK int ntm_ctl_response_decode(json_object *obj, struct ntm_ctl_response *r);

/*
 * Pure response decoder: parses one line (without or with its "\n") and
 * checks its shape. On success *out is a new reference (json_object_put);
 * on failure NULL and -EBADMSG (or -ENOMEM).
 */
NTM_MUST_CHECK int ntm_ctl_response_parse(const char *buf, size_t len, json_object **out);

#endif
