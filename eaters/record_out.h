/* SPDX-License-Identifier: MIT */
/*
 * record_out.h - the output files of nd-record: names made from a pattern,
 * files that get their name only once complete, rotation by size and age,
 * and durability on request.
 *
 * A file is written as "NAME.part" (created with O_EXCL, so nothing is
 * ever overwritten) and, when closed, flushed (fsync'ed with --fsync),
 * then given its final NAME with link(2), which fails instead of
 * replacing a file that appeared meanwhile; then the ".part" name is
 * removed. A reader that only looks at names without ".part" therefore
 * only sees complete files.
 *
 * Everything here runs on the recorder's loop thread.
 */
#ifndef NDL_EATERS_RECORD_OUT_H
#define NDL_EATERS_RECORD_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What every output file of one run shares. */
struct ndl__rec_out {
	const char *prog;        /* program name for messages */
	const char *pattern;     /* -o: strftime pattern with {chef} and {n}; borrowed */
	uint64_t rotate_size;    /* bytes; 0: no size rotation */
	uint64_t rotate_ms;      /* milliseconds; 0: no time rotation */
	int do_fsync;            /* --fsync */
	int verbose;             /* say each finished file on stderr */
	uint64_t next_n;         /* {n} of the next file, from 1 */
	uint64_t files_done;     /* files completed and named */
	uint64_t files_failed;   /* files that could not be finished */
};

/* One output file (or stdout). */
struct ndl__rec_file {
	FILE *f;                 /* NULL when closed */
	int is_stdout;
	char *name;              /* final name (malloc'd); NULL for stdout */
	char *part;              /* name while written (malloc'd) */
	char *base;              /* the pattern's name, before any "-1" (malloc'd) */
	unsigned suffix;         /* the "-N" name has; 0: none */
	uint64_t bytes;          /* bytes written to this file */
	uint64_t lines;          /* records written to this file */
	uint64_t opened_ms;      /* loop time when opened */
	uint64_t unflushed;      /* bytes written since the last flush */
};

/*
 * Expand out->pattern for one new file: strftime(3) conversions in local
 * time at now, "{chef}" by chef (characters other than letters, digits,
 * '.', '_' and '-' become '_'; NULL gives "all"), "{n}" by the file's
 * number in this run zero-padded to 6 digits. Returns a malloc'd string the
 * caller frees, or NULL with errno set (ENAMETOOLONG, ENOMEM).
 */
char *ndl__rec_expand(const char *pattern, const char *chef, uint64_t n, time_t now);

/*
 * Check before connecting that files can be created where out->pattern
 * points (its directory exists and is writable). Prints the path and the
 * reason on stderr and returns a negative errno when not; 0 otherwise.
 */
int ndl__rec_out_check(const struct ndl__rec_out *out, const char *chef_example);

/*
 * Open a new file for chef (NULL for JSON Lines) at loop time now_ms.
 * rf must be closed. Returns 0, or a negative errno after printing the
 * path and the reason on stderr.
 */
int ndl__rec_file_open(struct ndl__rec_out *out, struct ndl__rec_file *rf,
		       const char *chef, uint64_t now_ms);

/* Make rf write to standard output (never rotated nor renamed). */
void ndl__rec_file_stdout(struct ndl__rec_file *rf, uint64_t now_ms);

/*
 * Write len bytes (one or more whole records) to the open file rf.
 * Returns 0, or a negative errno (the message is the caller's to print).
 */
int ndl__rec_file_write(struct ndl__rec_file *rf, const void *buf, size_t len);

/*
 * Whether rf should be closed before a record of len bytes is added: its
 * age reached out->rotate_ms, or it holds data and len more bytes would
 * take it past out->rotate_size. Never for stdout.
 */
int ndl__rec_file_due(const struct ndl__rec_out *out, const struct ndl__rec_file *rf,
		      size_t len, uint64_t now_ms);

/*
 * Push buffered bytes to the kernel (and to the disk with --fsync).
 * Returns 0 or a negative errno. A closed rf is a no-op.
 */
int ndl__rec_file_flush(const struct ndl__rec_out *out, struct ndl__rec_file *rf);

/*
 * Finish rf: flush, fsync with --fsync, close, give it its final name
 * (with "-1", "-2"... before the extension should that name exist by now)
 * and fsync the directory with --fsync. A closed rf is a no-op. On
 * failure prints the path and the reason, keeps whatever was written
 * under the ".part" name and returns a negative errno. Frees the names.
 */
int ndl__rec_file_close(struct ndl__rec_out *out, struct ndl__rec_file *rf);

#endif /* NDL_EATERS_RECORD_OUT_H */
