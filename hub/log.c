/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "logline.h"

static const char *const level_names[] = { "error", "info", "debug" };
static int max_level = NDL_HUB_LOG_INFO;
static bool json_lines;

void ndl__hub_log_set_json(bool on)
{
	json_lines = on;
}

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
	if (json_lines)
		ndl__log_json_line(stderr, "nd-hub", level_names[level < 0 ? 0 : level > 2 ? 2 : level],
				   line);
	else
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
