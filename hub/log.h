/* SPDX-License-Identifier: MIT */
/*
 * log.h - the hub's one-line-per-event log on stderr, with levels and a
 * rate limiter for noisy events (rejected frames).
 */
#ifndef NDL_HUB_LOG_H
#define NDL_HUB_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ndl_hub_log_level {
	NDL_HUB_LOG_ERR = 0,   /* shown even with -q */
	NDL_HUB_LOG_INFO = 1,  /* default: connects, disconnects, rejections */
	NDL_HUB_LOG_DEBUG = 2, /* -v */
};

/* Set the highest level printed (default NDL_HUB_LOG_INFO). Loop thread. */
void ndl__hub_log_set_level(int level);
int ndl__hub_log_level(void);

/*
 * Log lines as JSON objects, one a line, instead of text (--log-format):
 *   {"time":"2026-11-22T08:30:00.123Z","level":"info","program":"nd-hub",
 *    "message":"..."}
 * Loop thread.
 */
void ndl__hub_log_set_json(bool on);

/*
 * Print "nd-hub: <message>" (or its JSON form) on stderr as one line when level is enabled.
 * A trailing newline in fmt is not needed. Loop thread.
 */
void ndl__hub_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A token bucket for one kind of noisy event: burst events pass at once,
 * then rate per second. Zero-initialise with NDL_HUB_RATELIMIT_INIT.
 */
struct ndl_hub_ratelimit {
	double tokens;
	uint64_t last_ns;
	uint64_t suppressed;   /* events refused since the last one allowed */
	double rate;
	double burst;
};

#define NDL_HUB_RATELIMIT_INIT(r, b) { (b), 0, 0, (r), (b) }

/*
 * Returns 1 when an event at now_ns (monotonic) may be logged, else 0 and
 * counts it as suppressed. When it returns 1, *suppressed (if not NULL)
 * receives the number refused since the previous allowed event, and the
 * count restarts. Loop thread.
 */
int ndl__hub_ratelimit(struct ndl_hub_ratelimit *rl, uint64_t now_ns, uint64_t *suppressed);

#endif /* NDL_HUB_LOG_H */
