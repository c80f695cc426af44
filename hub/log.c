/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static int max_level = NDL_HUB_LOG_INFO;

void ndl__hub_log_set_level(int level)
{
	max_level = level;
}

int ndl__hub_log_level(void)
{
	return max_level;
}

void ndl__hub_log(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* One event, one line: flatten any newline a peer smuggled in. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "nd-hub: %s\n", line);
}

int ndl__hub_ratelimit(struct ndl_hub_ratelimit *rl, uint64_t now_ns, uint64_t *suppressed)
{
	if (rl->last_ns) {
		double dt = (double)(now_ns - rl->last_ns) / 1e9;

		rl->tokens += dt * rl->rate;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
	}
	rl->last_ns = now_ns;
	if (rl->tokens < 1.0) {
		rl->suppressed++;
		return 0;
	}
	rl->tokens -= 1.0;
	if (suppressed)
		*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return 1;
}
