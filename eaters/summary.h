/* SPDX-License-Identifier: MIT */
/*
 * summary.h - nd-print --format summary: one line per dumpling, in the
 * spirit of chains' netwatch and urlwatch views, with a formatter for each
 * built-in chef and a generic one for the rest. Every string taken from a
 * dumpling is written through ndl__put_safe(), so nothing received can
 * move the cursor, clear the screen or start a new line.
 */
#ifndef NDL_EATERS_SUMMARY_H
#define NDL_EATERS_SUMMARY_H

#include <stddef.h>
#include <stdio.h>
#include <ndl/eater.h>

/* Longest compact payload the generic formatter shows, in bytes. */
#define NDL__SUMMARY_GENERIC_MAX 160

/*
 * Write s (len bytes; UTF-8 expected) to f with everything that could
 * steer a terminal escaped: C0 controls and DEL as \n, \r, \t or \xNN, C1
 * controls and the bidirectional overrides and isolates (U+202A..U+202E,
 * U+2066..U+2069) and line/paragraph separators as \u{XXXX}, and bytes
 * that are not UTF-8 as \xNN. Writes at most max bytes of s (0: all),
 * then "..." when it stopped early. s is borrowed; thread: any.
 */
void ndl__put_safe(FILE *f, const char *s, size_t len, size_t max);

/*
 * Write the summary line of d to f, newline included: "TIME - TEXT",
 * TIME being metadata.creation_time as "YYYY-MM-DD HH:MM:SS" in local time
 * (TZ; nd-print --utc sets it to UTC). With color, the time is dim and the
 * line's kind bold (ANSI SGR). d is borrowed. Returns 0, or -EIO when
 * writing to f failed.
 */
int ndl__summary_line(FILE *f, const struct ndl_dumpling *d, int color);

#endif /* NDL_EATERS_SUMMARY_H */
