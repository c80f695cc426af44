/* SPDX-License-Identifier: MIT */
/*
 * args.h - command-line values shared by the benchmark's load programs.
 */
#ifndef NDL_BENCH_ARGS_H
#define NDL_BENCH_ARGS_H

#include <stddef.h>

/*
 * Split "HOST:PORT" (the last colon) into host (hostlen bytes) and *port
 * (1 to 65535). Returns 0 or -EINVAL.
 */
int ndl__bench_parse_hostport(const char *s, char *host, size_t hostlen, int *port);

/*
 * Read s as a number from min to max into *out. Returns 0, or -EINVAL
 * after saying on stderr, as prog, what was wrong with opt's value.
 */
int ndl__bench_parse_num(const char *prog, const char *opt, const char *s, double min,
			 double max, double *out);

#endif /* NDL_BENCH_ARGS_H */
