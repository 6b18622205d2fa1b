/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>

/* The logger's settings are the one process-wide mutable state STYLE allows. */
static bool log_foreground = true;
static enum ntm_log_level log_max = NTM_LOG_INFO;
static const char *log_ident = "ntm";

static const char *level_name(enum ntm_log_level level)
{
	switch (level) {
	case NTM_LOG_ERR:
		return "error";
	case NTM_LOG_WARN:
		return "warning";
	case NTM_LOG_INFO:
		return "info";
	case NTM_LOG_DEBUG:
		return "debug";
	}
	return "?";
}

void ntm_log_init(const char *ident, bool foreground, enum ntm_log_level max_level)
{
	log_ident = ident;
	log_foreground = foreground;
	log_max = max_level;
	if (!foreground) {
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	}
}

void ntm_log_set_level(enum ntm_log_level max_level)
{
	log_max = max_level;
}

bool ntm_log_enabled(enum ntm_log_level level)
{
	return level <= log_max;
}

__attribute__((format(printf, 2, 0))) static void vlog(enum ntm_log_level level,
							 const char *fmt, va_list ap)
{
	if (!log_foreground) {
		vsyslog((int)level, fmt, ap);
		return;
	}
	/* One fprintf per line keeps concurrent writers (several daemons in a
	 * test sharing a terminal) from interleaving inside a line. */
	char msg[1024];
	struct timespec ts;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	localtime_r(&ts.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%03ld %s %s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
		ts.tv_nsec / 1000000, log_ident, level_name(level), msg);
}

void ntm_log(enum ntm_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!ntm_log_enabled(level)) {
		return;
	}
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void ntm_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(NTM_LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

bool ntm_ratelimit_allow(struct ntm_ratelimit *rl, uint64_t now_ms)
{
	if (!rl->started) {
		rl->started = true;
		rl->tokens = rl->burst;
		rl->last_ms = now_ms;
	}
	if (rl->interval_ms > 0 && now_ms > rl->last_ms) {
		uint64_t refill = (now_ms - rl->last_ms) / rl->interval_ms;

		if (refill > 0) {
			uint64_t t = rl->tokens + refill;

			rl->tokens = t > rl->burst ? rl->burst : (uint32_t)t;
			rl->last_ms += refill * rl->interval_ms;
		}
	}
	if (rl->tokens == 0) {
		rl->suppressed++;
		return false;
	}
	rl->tokens--;
	return true;
}

void ntm_log_ratelimited(struct ntm_ratelimit *rl, uint64_t now_ms, enum ntm_log_level level,
			 const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	if (!ntm_log_enabled(level) || !ntm_ratelimit_allow(rl, now_ms)) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (rl->suppressed > 0) {
		ntm_log(level, "%s (%u similar messages suppressed)", msg, rl->suppressed);
		rl->suppressed = 0;
	} else {
		ntm_log(level, "%s", msg);
	}
}
