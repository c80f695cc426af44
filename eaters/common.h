/* SPDX-License-Identifier: MIT */
/*
 * common.h - what nd-print, nd-hubstatus and nd-hubdetails share: output
 * formats that match netdumplings 0.5.1 (Python's json.dumps and
 * datetime.isoformat) and the run/signal/error plumbing around the SDK.
 */
#ifndef NDL_EATERS_COMMON_H
#define NDL_EATERS_COMMON_H

#include <getopt.h>
#include <stdio.h>
#include <jansson.h>
#include <uv.h>
#include <ndl/eater.h>

#ifndef NDL_VERSION
#define NDL_VERSION "unknown"
#endif

#define NDL__DEFAULT_HUB "localhost:11348"

/* A macro's value as a string literal (for --help). */
#define NDL__STR_(x) #x
#define NDL__STR(x) NDL__STR_(x)

/*
 * Write v as Python's json.dumps(v, sort_keys=True, indent=4,
 * separators=(',', ': ')) would (ensure_ascii on: non-ASCII as \uXXXX,
 * floats in repr's shortest round-trip form), without a final newline.
 * Returns 0, or -EIO when writing to f failed. v is borrowed.
 */
int ndl__pyjson_dump(FILE *f, const json_t *v);

/*
 * The keys of object o in strcmp order, in a malloc'd array the caller
 * frees (the strings are o's, valid while o is); *n gets their number.
 * Returns NULL (errno ENOMEM) when out of memory.
 */
const char **ndl__sorted_keys(const json_t *o, size_t *n);

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
"                                not blank or a # comment) to a hub that wants\n" \
"                                one\n" \
"      --hub-ca FILE             check a wss:// hub's certificate against the CA\n" \
"                                certificates in FILE (PEM) instead of the\n" \
"                                system's\n"

/* ------------------------------------------------------------------------ */
/* Options every eater program shares                                       */

/*
 * Long-only option values of the shared options; a program numbers its
 * own long-only options from NDL__OPT_OWN up.
 */
enum {
	NDL__OPT_HELP = 0x1000, NDL__OPT_VERSION, NDL__OPT_TOKEN_FILE, NDL__OPT_HUB_CA,
	NDL__OPT_INTERVAL, NDL__OPT_NO_INTERVAL, NDL__OPT_PACKET, NDL__OPT_NO_PACKET,
	NDL__OPT_RECONNECT, NDL__OPT_NO_RECONNECT, NDL__OPT_RECONNECT_MAX, NDL__OPT_NO_BATCH,
	NDL__OPT_OWN,
};

/* Which shared options a program takes, for ndl__eater_opts_parse(). */
enum {
	NDL__EO_HUB = 0,   /* -h/--hub, -n, --token-file, --hub-ca, --help, --version */
	NDL__EO_SUB = 1,   /* those and -c, -k, the driver choice, reconnecting, --no-batch */
};

/* Most long options a program may add to the shared ones. */
#define NDL__MAX_OWN_OPTS 32

/*
 * The --help lines of -c, -k, the driver choice, reconnecting and
 * --no-batch (NDL__EO_SUB): VERB says what the program does
 * with the dumplings ("print"), NAME is its default eater name and
 * RECONNECT_OFF what happens without --reconnect ("exit 1").
 */
#define NDL__SUB_OPTIONS_HELP(VERB, NAME, RECONNECT_OFF) \
"  -c, --chef NAME               only dumplings from this chef (repeatable)\n" \
"  -k, --kitchen NAME            only dumplings from this kitchen (repeatable)\n" \
"  -n, --eater-name NAME         name sent to the hub (default " NAME ")\n" \
"      --[no-]interval-dumplings\n" \
"                                " VERB " interval dumplings (default on)\n" \
"      --[no-]packet-dumplings   " VERB " packet dumplings (default on)\n" \
"      --[no-]reconnect          when the hub cannot be reached or the\n" \
"                                connection ends, try again with a growing,\n" \
"                                jittered delay\n" \
"                                (default off: " RECONNECT_OFF ")\n" \
"      --reconnect-max SECONDS   longest delay between attempts (default 30)\n" \
"      --no-batch                ask for one dumpling per message instead of\n" \
"                                offering the batch subprotocol\n"

/* The --help and --version lines every program ends its options with. */
#define NDL__HELP_VERSION_HELP \
"      --help                    show this help and exit\n" \
"      --version                 show the version and exit\n"

/* What the shared options asked for. */
struct ndl__eater_opts {
	const char *prog;            /* program name for messages */
	const char *hub;             /* -h (default NDL__DEFAULT_HUB) */
	const char *name;            /* -n */
	const char *token_file;      /* --token-file, or NULL */
	const char *ca_file;         /* --hub-ca, or NULL */
	const char *chefs[NDL_EATER_MAX_FILTER_NAMES + 1];     /* -c, NULL-terminated */
	int nchefs;
	const char *kitchens[NDL_EATER_MAX_FILTER_NAMES + 1];  /* -k, NULL-terminated */
	int nkitchens;
	int interval, packet;        /* drivers wanted (default both) */
	int reconnect;               /* --reconnect */
	double reconnect_max;        /* --reconnect-max, seconds */
	int batch;                   /* offer the batch subprotocol (default on) */
};

/*
 * A program's handler of its own options: returns 0, or a negative errno
 * after printing a one-line message on stderr (the program exits 1).
 */
typedef int (*ndl__own_opt_fn)(void *ctx, int opt, const char *arg);

/*
 * Parse argv with getopt_long into o (set to its defaults first: hub
 * NDL__DEFAULT_HUB, eater name `name`, both drivers, batch on). The shared
 * options of set (NDL__EO_*) are handled here; the program's own, given by
 * shortopts and longopts (at most NDL__MAX_OWN_OPTS, long-only values from
 * NDL__OPT_OWN up), are handed to own(ctx, ...). --help calls
 * usage(stdout); --version prints "PROG VERSION". Unknown options, bad
 * values and positional arguments get a message on stderr. Returns 0 to
 * go on, 1 when the program should exit 0 (help, version), or a negative
 * errno when it should exit 1. o keeps pointers into argv.
 */
int ndl__eater_opts_parse(struct ndl__eater_opts *o, const char *prog, const char *name,
			  int set, int argc, char **argv, const char *shortopts,
			  const struct option *longopts, void (*usage)(FILE *f),
			  ndl__own_opt_fn own, void *ctx);

/*
 * Create app's eater from o (ndl__app_init) and configure it: token and
 * CA (ndl__app_security), batch, reconnect, the chef/kitchen/driver
 * filters, and the same choice as a hub-side subscription (a hub that
 * cannot take one gets a warning on stderr and the filters still apply).
 * On failure prints a one-line message, frees the eater and returns a
 * negative errno. o must outlive nothing: names are copied.
 */
int ndl__app_setup(struct ndl__app *app, const struct ndl__eater_opts *o);

/*
 * The whole main() of a program that watches the hub's status dumplings
 * (nd-hubstatus, nd-hubdetails): parse the options (the NDL__EO_HUB ones
 * and longopts, one flag of the program's own that sets *flag), set the eater up, let only SystemStatusChef through, and run
 * with on_dumpling, app->data being data. Returns the exit status.
 */
int ndl__status_main(struct ndl__app *app, const char *prog, const char *name, int argc,
		     char **argv, const struct option *longopts, void (*usage)(FILE *f),
		     int *flag, void *data, ndl_eater_dumpling_cb on_dumpling);

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
