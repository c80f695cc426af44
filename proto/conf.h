/* SPDX-License-Identifier: MIT */
/*
 * conf.h - configuration files for nd-hub and nd-sniff.
 *
 * A configuration file names the program's long options, one a line:
 *
 *   # comment (a line whose first non-blank character is '#')
 *   kitchen-name = edge-1
 *   filter = "tcp port 53"       # NOT a comment: the quotes end the value
 *   interface = eth0
 *   interface = eth1             (repeatable options: repeat the key)
 *   promisc                      (flags: the bare key)
 *
 * Blank lines are ignored. A value runs from the first non-blank character
 * after '=' to the last one on the line; within double quotes it is taken
 * as written, with \" and \\ for a quote and a backslash, and nothing but
 * blanks may follow the closing quote. '#' starts a comment only at the
 * start of a line, so values may hold it.
 *
 * Each entry becomes one "--key=value" (or "--key") element of an argv-like
 * list placed before the command line's own arguments, so the program parses
 * both with its usual getopt_long loop and the command line wins over (or
 * adds to) the file. ndl__conf_check() rejects, with FILE:LINE, keys that are
 * no long option (abbreviations included), flags given a value and options
 * without one; ndl__conf_origin() says which line an element came from, so a
 * value the program refuses later is reported as FILE:LINE too.
 *
 * Internal (ndl__); no global state, so any thread may use its own conf.
 */
#ifndef NDL_PROTO_CONF_H
#define NDL_PROTO_CONF_H

#include <stddef.h>

struct option;

/* Longest line, in bytes, line feed excluded. */
#define NDL__CONF_LINE_MAX 4096
/* Largest file, in bytes. */
#define NDL__CONF_FILE_MAX (1024 * 1024)
/* Most entries (over every file loaded into one conf). */
#define NDL__CONF_ENTRIES_MAX 1024
/* Longest key, in bytes. */
#define NDL__CONF_KEY_MAX 64

struct ndl__conf;

/* An empty conf. Returns NULL (errno ENOMEM) when out of memory. */
struct ndl__conf *ndl__conf_new(void);

/* Free conf and every string it made (argv included). NULL is a no-op. */
void ndl__conf_free(struct ndl__conf *c);

/*
 * Parse len bytes of text as a configuration file named name (used in
 * messages and origins; copied) and append its entries. Returns 0, or
 * -EINVAL (syntax), -E2BIG (a limit above) or -ENOMEM with one line in err,
 * "NAME:LINE: what is wrong" (or "NAME: ..." for the whole file). On
 * failure no entry of this text is kept.
 */
int ndl__conf_parse(struct ndl__conf *c, const char *name, const char *text, size_t len,
		    char *err, size_t errlen);

/*
 * Read the file at path and parse it (ndl__conf_parse, named path). Returns
 * 0, or a negative errno with one line in err naming the file: -ENOENT,
 * -EACCES... when it cannot be read, -E2BIG when it is larger than
 * NDL__CONF_FILE_MAX, or what ndl__conf_parse returns.
 */
int ndl__conf_load(struct ndl__conf *c, const char *path, char *err, size_t errlen);

/* Number of entries so far. */
size_t ndl__conf_count(const struct ndl__conf *c);

/*
 * Entry i (0 <= i < count): its key, value (NULL for a bare key) and
 * origin "NAME:LINE". Borrowed from c, valid until ndl__conf_free.
 * Returns NULL for i out of range.
 */
const char *ndl__conf_key(const struct ndl__conf *c, size_t i);
const char *ndl__conf_value(const struct ndl__conf *c, size_t i);
const char *ndl__conf_entry_origin(const struct ndl__conf *c, size_t i);

/*
 * Check every entry against a getopt_long option table (terminated by a
 * NULL name): the key must be one of its names exactly (getopt_long would
 * take an abbreviation), a no_argument option must have no value and a
 * required_argument one must have one. Returns 0, or -EINVAL with
 * "NAME:LINE: ..." in err for the first wrong entry.
 */
int ndl__conf_check(const struct ndl__conf *c, const struct option *longs,
		    char *err, size_t errlen);

/*
 * Build the list to give getopt_long: argv[0], then one element per entry
 * ("--key=value" or "--key"), then argv[1..argc-1], then NULL. *out_argv
 * is owned by c (the command line's strings stay the caller's); getopt_long
 * may reorder it. Returns 0, or -ENOMEM.
 */
int ndl__conf_argv(struct ndl__conf *c, int argc, char **argv, int *out_argc,
		   char ***out_argv);

/*
 * Where element arg of the list from ndl__conf_argv came from: "NAME:LINE"
 * when arg is one of the pointers that list made from the entries, NULL for
 * anything else (the command line's own arguments). Compares pointers, so
 * it stays right when getopt_long reorders the list.
 */
const char *ndl__conf_origin(const struct ndl__conf *c, const char *arg);

#endif /* NDL_PROTO_CONF_H */
