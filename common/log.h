/* SPDX-License-Identifier: MIT */
#ifndef NTM_LOG_H
#define NTM_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum ntm_log_level {
	NTM_LOG_ERR = 3,   /* same numbers as syslog's LOG_ERR... */
	NTM_LOG_WARN = 4,
	NTM_LOG_INFO = 6,
	NTM_LOG_DEBUG = 7,
};

/*
 * Configure the logger once at start-up. `ident` is borrowed for the life of
 * the process (syslog keeps the pointer). With `foreground` the log goes to
 * stderr, otherwise to syslog (LOG_DAEMON). Messages above `max_level` are
 * discarded.
 */
void ntm_log_init(const char *ident, bool foreground, enum ntm_log_level max_level);
void ntm_log_set_level(enum ntm_log_level max_level);
bool ntm_log_enabled(enum ntm_log_level level);

void ntm_log(enum ntm_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define ntm_log_err(...) ntm_log(NTM_LOG_ERR, __VA_ARGS__)
#define ntm_log_warn(...) ntm_log(NTM_LOG_WARN, __VA_ARGS__)
#define ntm_log_info(...) ntm_log(NTM_LOG_INFO, __VA_ARGS__)
#define ntm_log_debug(...) ntm_log(NTM_LOG_DEBUG, __VA_ARGS__)

/* Log at error level and exit(1). Start-up errors only (config, TUN, bind). */
void ntm_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Token bucket for per-packet messages: at most `burst` messages, refilled at
 * one per `interval_ms`. The caller owns the state (one per message site or
 * per peer); `now_ms` is the loop's monotonic clock (uv_now). Messages that
 * are suppressed are counted and the count is reported with the next one that
 * passes.
 */
struct ntm_ratelimit {
	uint32_t interval_ms;
	uint32_t burst;
	uint32_t tokens;
	uint32_t suppressed;
	uint64_t last_ms;
	bool started;
};

#define NTM_RATELIMIT_INIT(interval, b) { .interval_ms = (interval), .burst = (b) }

void ntm_log_ratelimited(struct ntm_ratelimit *rl, uint64_t now_ms, enum ntm_log_level level,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* True when a message may pass now; consumes a token. Exposed for tests. */
bool ntm_ratelimit_allow(struct ntm_ratelimit *rl, uint64_t now_ms);

#endif
