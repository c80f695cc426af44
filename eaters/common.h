/* SPDX-License-Identifier: MIT */
/*
 * common.h - what nd-print, nd-hubstatus and nd-hubdetails share: output
 * formats that match netdumplings 0.5.1 (Python's json.dumps and
 * datetime.isoformat) and the run/signal/error plumbing around the SDK.
 */
#ifndef NDL_EATERS_COMMON_H
#define NDL_EATERS_COMMON_H

#include <stdio.h>
#include <jansson.h>
#include <uv.h>
#include <ndl/eater.h>

#ifndef NDL_VERSION
#define NDL_VERSION "unknown"
#endif

#define NDL__DEFAULT_HUB "localhost:11348"

/*
 * Write v as Python's json.dumps(v, sort_keys=True, indent=4,
 * separators=(',', ': ')) would (ensure_ascii on: non-ASCII as \uXXXX,
 * floats in repr's shortest round-trip form), without a final newline.
 * Returns 0, or -EIO when writing to f failed. v is borrowed.
 */
int ndl__pyjson_dump(FILE *f, const json_t *v);

/*
 * Format epoch seconds t as Python's datetime.fromtimestamp(t).isoformat()
 * in local time ("YYYY-MM-DDTHH:MM:SS[.ffffff]", microseconds rounded half
 * to even, omitted when zero). With sep ' ' and no_micro set, gives
 * "YYYY-MM-DD HH:MM:SS" instead. Writes at most n bytes to buf.
 */
void ndl__py_localtime(double t, char sep, int no_micro, char *buf, size_t n);

/* Format seconds as "HH:MM:SS" (hours grow past 99 as needed). */
void ndl__fmt_uptime(double seconds, char *buf, size_t n);

/* One running eater program. */
struct ndl__app {
	const char *prog;          /* program name for messages */
	struct ndl_eater *eater;
	uv_signal_t sigint;
	uv_signal_t sigterm;
	int exit_code;             /* what main returns */
	void *data;                /* the program's own state */
	int drop_notices;          /* say on stderr what the hub dropped */
	int gap_notices;           /* say on stderr what never arrived */
	struct ndl_eater_stats stats;  /* the eater's counters when it closed */
};

/*
 * Create the eater on a private loop for hub (HOST:PORT) with the given
 * eater name. On failure prints a one-line message on stderr and returns
 * a negative errno; on success returns 0 and the program may add filters
 * to app->eater before ndl__app_run().
 */
int ndl__app_init(struct ndl__app *app, const char *prog, const char *name, const char *hub);

/*
 * Start the eater and run until it is closed: SIGINT and SIGTERM close it
 * with 4101 (cancelled) and exit 0; a hub that cannot be reached or that
 * closes the link prints one line on stderr and exits 1. Frees the eater.
 * Returns the exit status for main.
 */
int ndl__app_run(struct ndl__app *app, ndl_eater_connect_cb on_connect,
		 ndl_eater_dumpling_cb on_dumpling);

/*
 * Apply the options every eater program takes: --token-file FILE (the
 * token goes into the hello; it is never printed) and --hub-ca FILE (CA
 * for wss:// hubs). NULL leaves either out. On failure prints a one-line
 * message on stderr and returns a negative errno.
 */
int ndl__app_security(struct ndl__app *app, const char *token_file, const char *ca_file);

/* The lines of --help that describe -h/--hub, --token-file and --hub-ca. */
#define NDL__HUB_OPTIONS_HELP \
"  -h, --hub HOST:PORT           hub to connect to (default " NDL__DEFAULT_HUB ");\n" \
"                                IPv6 as [ADDR]:PORT; ws://HOST:PORT too, and\n" \
"                                wss://HOST:PORT for TLS\n" \
"      --token-file FILE         send the token in FILE (its first line that is\n" \
"                                not blank or a # comment) to a hub that wants one\n" \
"      --hub-ca FILE             check a wss:// hub's certificate against the CA\n" \
"                                certificates in FILE (PEM) instead of the\n" \
"                                system's\n"

/* The app an eater belongs to (for callbacks). */
struct ndl__app *ndl__app_of(struct ndl_eater *e);

/* Close the eater because it got what it wanted (4102); exit 0. */
void ndl__app_full(struct ndl__app *app);

/* Close the eater after a local failure (e.g. stdout gone); exit 1. */
void ndl__app_fail(struct ndl__app *app, const char *what);

/*
 * Parse a positive count for --count; returns 0, or -EINVAL (after
 * printing a message) when s is not an integer in 1..2^62.
 */
int ndl__parse_count(const char *prog, const char *s, long long *out);

#endif /* NDL_EATERS_COMMON_H */
