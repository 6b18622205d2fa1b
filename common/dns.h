/* SPDX-License-Identifier: MIT */
#ifndef NTM_DNS_H
#define NTM_DNS_H

/*
 * Asynchronous DNS client: c-ares 1.18 driven by the daemon's libuv loop.
 *
 * One struct ntm_dns wraps one c-ares channel. c-ares reports every socket it
 * opens through ARES_OPT_SOCK_STATE_CB; each gets a uv_poll_t, and one
 * uv_timer_t is re-armed from ares_timeout() after every call into c-ares.
 * Both call ares_process_fd(). Nothing here blocks the loop and nothing calls
 * getaddrinfo(3).
 *
 * Choosing servers (for daemons):
 *   - Pass explicit servers when the daemon has its own notion of upstream:
 *     the node's DNS stub forwards to its [DNS] Upstream servers (it must not
 *     use resolv.conf, which may point back at the stub itself), and a DC that
 *     locates other DCs should use the validating resolver named in its
 *     config. With explicit servers the resolv.conf search list is not used:
 *     every name is absolute.
 *   - A DC that needs the resolver's DNSSEC verdict (the AD bit) builds its own
 *     query with AD set (RFC 6840 5.7) and sends it with ntm_dns_forward():
 *     c-ares 1.18's own queries (ntm_dns_query) do not ask for it.
 *   - Pass no servers (cfg NULL or n_servers 0) to follow the system's
 *     /etc/resolv.conf (servers, search list, ndots, timeout and attempts), as
 *     getaddrinfo(3) would; e.g. for a DC Endpoint name in a node config.
 *   - Both read /etc/hosts first in ntm_dns_resolve(); ntm_dns_query(),
 *     ntm_dns_query_srv() and ntm_dns_forward() only ask the servers.
 *
 * Callback contract (every query function):
 *   - A query function returns 0 when the query was started: its callback then
 *     runs exactly once, never before the query function has returned (an
 *     answer that c-ares produces at once, e.g. from /etc/hosts or a numeric
 *     address, is delivered on the next loop iteration). A negative return
 *     means nothing was started and the callback never runs.
 *   - Results handed to a callback are borrowed: they are valid only during
 *     the callback; copy what must outlive it.
 *   - Callbacks may call any ntm_dns function, ntm_dns_close() included; a
 *     query function called once the resolver is closing returns -ECANCELED.
 *   - There is no per-query cancel (c-ares 1.18 has none). A caller whose
 *     context dies before the answer must keep `arg` valid until the callback
 *     (e.g. with its own refcount) or close the whole ntm_dns.
 *   - After ntm_dns_close() every callback that has not run yet runs with
 *     -ECANCELED, either inside ntm_dns_close() itself or (when close is called
 *     from inside a callback) as soon as that callback returns; in any case
 *     before the close callback.
 *
 * Errors (c-ares ARES_* codes are translated here and nowhere else):
 *   ARES_ENOTFOUND, ARES_ENONAME (NXDOMAIN, unknown host)   -ENOENT
 *   ARES_ENODATA (the name exists, no record of that type)  -ENODATA
 *   ARES_ETIMEOUT                                            -ETIMEDOUT
 *   ARES_ECONNREFUSED (no server gave a usable answer: each
 *     refused the connection or answered SERVFAIL, REFUSED
 *     or NOTIMP; c-ares 1.18 reports all of these so)       -ECONNREFUSED
 *   ARES_ENOMEM                                              -ENOMEM
 *   ARES_ECANCELLED, ARES_EDESTRUCTION                       -ECANCELED
 *   ARES_EBADRESP (malformed answer)                         -EBADMSG
 *   ARES_EBADNAME, _EBADQUERY, _EBADFAMILY, _EBADFLAGS,
 *   _EBADHINTS, _EBADSTR (refused as a bad request)          -EINVAL
 *   everything else (ARES_ESERVFAIL, _EFORMERR, _EOF, ...)   -EIO
 * Our own failures use the same space (-ENOMEM, -EINVAL, -EAFNOSUPPORT).
 *
 * Timeouts: c-ares tries each server in turn, doubling the per-try timeout on
 * every round, so one query fails with -ETIMEDOUT after at most
 * timeout_ms * n_servers * (2^tries - 1) ms (200 ms, 1 server, 2 tries:
 * 600 ms). ntm_dns_resolve() with a search list may repeat that per suffix.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "err.h"

struct ntm_dns;

enum ntm_dns_limits {
	NTM_DNS_MAX_SERVERS = 16,
	NTM_DNS_MAX_TRIES = 8,
	NTM_DNS_MAX_TIMEOUT_MS = 60000,
	NTM_DNS_MAX_NAME = 253,	     /* RFC 1035 2.3.4, presentation form without the root dot */
	NTM_DNS_HEADER_LEN = 12,     /* RFC 1035 4.1.1 */
	NTM_DNS_MAX_MSG = 65535,     /* RFC 1035 4.2.2: TCP length prefix */
	NTM_DNS_MAX_SERVER_STR = 64, /* longer than any "[v6]:port" */
};

/*
 * Creation parameters; a value type, read only during ntm_dns_create().
 * servers: NULL/0 for resolv.conf, otherwise "ip", "ip:port", "v6", "[v6]" or
 * "[v6]:port" (numeric only, port 1-65535, default 53), tried in order.
 * timeout_ms: the first try's timeout (0: c-ares/resolv.conf default).
 * tries: rounds over the server list (0: c-ares/resolv.conf default).
 */
struct ntm_dns_config {
	const char *const *servers;
	size_t n_servers;
	unsigned int timeout_ms;
	unsigned int tries;
};

/* One address of a name; port is 0. */
struct ntm_dns_addr {
	struct sockaddr_storage ss; /* AF_INET (sockaddr_in) or AF_INET6 (sockaddr_in6) */
	socklen_t len;
	uint32_t ttl; /* seconds; 0 for /etc/hosts and numeric names */
};

/* One SRV record (RFC 2782). target is "" for the root name ("service not available"). */
struct ntm_dns_srv {
	const char *target;
	uint16_t priority;
	uint16_t weight;
	uint16_t port;
};

/*
 * addrs: n >= 1 entries when err == 0, NULL/0 otherwise; borrowed, valid only
 * during the callback. Order: c-ares' RFC 6724 destination sort.
 */
typedef void (*ntm_dns_resolve_cb)(int err, const struct ntm_dns_addr *addrs, size_t n, void *arg);

/*
 * A whole DNS message (header included), borrowed, valid only during the
 * callback. For ntm_dns_query() it is present when the server answered: with
 * err 0, and also with -ENOENT/-ENODATA (the authority section's SOA); it is
 * NULL/0 when no usable answer came (timeout, cancel, SERVFAIL, ...).
 * For ntm_dns_forward() it is present exactly when err == 0.
 */
typedef void (*ntm_dns_msg_cb)(int err, const uint8_t *msg, size_t len, void *arg);

/*
 * srv: n >= 1 records when err == 0, sorted by priority ascending, then weight
 * descending, then target; callers that want RFC 2782's weighted random choice
 * within a priority do it themselves. Borrowed, valid only during the callback.
 */
typedef void (*ntm_dns_srv_cb)(int err, const struct ntm_dns_srv *srv, size_t n, void *arg);

typedef void (*ntm_dns_close_cb)(void *arg);

/*
 * Create a resolver on `loop` (borrowed; must outlive the resolver). `cfg` may
 * be NULL (system configuration) and is only read during the call. On success
 * *out owns the resolver until ntm_dns_close(); on failure *out is NULL and no
 * handle was left on the loop. -EINVAL for a malformed server or an
 * out-of-range timeout/tries, -ENOMEM, -EIO when c-ares cannot initialise.
 */
NTM_MUST_CHECK int ntm_dns_create(uv_loop_t *loop, const struct ntm_dns_config *cfg,
				  struct ntm_dns **out);

/*
 * Addresses of `name` (borrowed for the call), from /etc/hosts or A/AAAA
 * queries. family: AF_INET, AF_INET6 or AF_UNSPEC (both). -EAFNOSUPPORT for
 * another family, -EINVAL for an empty or over-long name, -ECANCELED once
 * closing, -ENOMEM.
 */
NTM_MUST_CHECK int ntm_dns_resolve(struct ntm_dns *dns, const char *name, int family,
				   ntm_dns_resolve_cb cb, void *arg);

/*
 * One query for (name, dnsclass, type), e.g. class 1 (IN) and type 16 (TXT);
 * `name` is borrowed for the call. No search list, no /etc/hosts: the caller
 * parses the answer message itself.
 */
NTM_MUST_CHECK int ntm_dns_query(struct ntm_dns *dns, const char *name, int dnsclass, int type,
				 ntm_dns_msg_cb cb, void *arg);

/* SRV records of `name` (class IN; borrowed for the call), e.g. "_ntm-dc._udp.example.net". */
NTM_MUST_CHECK int ntm_dns_query_srv(struct ntm_dns *dns, const char *name, ntm_dns_srv_cb cb,
				     void *arg);

/*
 * Send a complete DNS query message (`query`, `len` bytes, borrowed for the
 * call, NTM_DNS_HEADER_LEN..NTM_DNS_MAX_MSG) to the servers and deliver the
 * response message unchanged except for its ID: the query goes upstream with
 * a fresh random ID (the client's may be guessable) and the response comes
 * back with the query's own ID. A response with rcode NXDOMAIN is a success
 * (err 0); SERVFAIL/REFUSED/NOTIMP make c-ares try the next server and, from
 * the last one, end in -ECONNREFUSED, so a stub should then answer SERVFAIL
 * itself. A truncated UDP answer is retried over TCP by c-ares. The message is
 * not validated beyond its length: the caller checks it is a query.
 */
NTM_MUST_CHECK int ntm_dns_forward(struct ntm_dns *dns, const uint8_t *query, size_t len,
				   ntm_dns_msg_cb cb, void *arg);

/*
 * Cancel every pending query (each callback runs once with -ECANCELED, see
 * above), close every uv handle, and free the resolver in the last close
 * callback, which then calls done_cb(arg) if done_cb is not NULL. After this
 * call `dns` may only be passed to query functions from callbacks that are
 * still to run (they return -ECANCELED). Call once; NULL does nothing.
 */
void ntm_dns_close(struct ntm_dns *dns, ntm_dns_close_cb done_cb, void *arg);

/* Translate a c-ares status (ARES_*) to a negative errno (0 for ARES_SUCCESS). */
int ntm_dns_errno(int ares_status);

#endif
