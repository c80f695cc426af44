/* SPDX-License-Identifier: MIT */
/*
 * logline.h - what nd-hub and nd-sniff share for their log lines: cutting
 * and checking UTF-8 from peers, and the --log-format json line
 *   {"time":"2026-11-22T08:30:00.123Z","level":"info","program":"nd-hub",
 *    "message":"..."}
 * Internal (ndl__); no state, any thread.
 */
#ifndef NDL_PROTO_LOGLINE_H
#define NDL_PROTO_LOGLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * The length of the longest prefix of the NUL-terminated string s that is
 * at most max bytes and does not end inside a UTF-8 sequence.
 */
size_t ndl__utf8_cut(const char *s, size_t max);

/* True when the len bytes at buf are valid UTF-8 (RFC 3629). */
bool ndl__utf8_valid(const void *buf, size_t len);

/*
 * Replace in place every byte of the NUL-terminated line that does not
 * start a valid UTF-8 sequence with '?'.
 */
void ndl__utf8_scrub(char *line);

/*
 * Write msg as one JSON log line to f, as above; level is a name such as
 * "error" or "info". Bytes of msg that are not UTF-8 are replaced in place
 * with '?' first, so a peer's bytes cannot cost the line.
 */
void ndl__log_json_line(FILE *f, const char *program, const char *level, char *msg);

#endif /* NDL_PROTO_LOGLINE_H */
