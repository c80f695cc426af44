/* SPDX-License-Identifier: MIT */
/*
 * nd-print - print the dumplings an nd-hub sends: as netdumplings 0.5.1's
 * nd-print does (a heading line per dumpling, then its payload), exactly
 * as received (json), or as one line per dumpling (summary).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ndl/wire.h>

#include "common.h"
#include "summary.h"

enum { FORMAT_PRETTY, FORMAT_JSON, FORMAT_SUMMARY };

struct printer {
	int color;
	int payload;
	int format;          /* FORMAT_* */
	int utc;             /* --utc: times in UTC */
	long long count;     /* 0: no limit */
	long long printed;
	long long drop_notices_out;  /* drop notices printed as dumplings */
};

enum {
	OPT_PAYLOAD = NDL__OPT_OWN, OPT_NO_PAYLOAD, OPT_COLOR, OPT_NO_COLOR, OPT_JSON,
	OPT_COUNT, OPT_FORMAT, OPT_UTC,
};

static const struct option long_opts[] = {
	{ "payload", no_argument, NULL, OPT_PAYLOAD },
	{ "no-payload", no_argument, NULL, OPT_NO_PAYLOAD },
	{ "color", no_argument, NULL, OPT_COLOR },
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "utc", no_argument, NULL, OPT_UTC },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fputs(
"Usage: nd-print [OPTIONS]\n"
"\n"
"Connect to an nd-hub as an eater and print every dumpling it sends.\n"
"\n"
"Options:\n"
NDL__HUB_OPTIONS_HELP
NDL__SUB_OPTIONS_HELP("print", NDL_EATER_DEFAULT_NAME, "exit 1")
"      --format FORMAT           how to print each dumpling:\n"
"                                pretty (default): a line saying when, driver,\n"
"                                chef and kitchen, then the payload as indented\n"
"                                JSON, as netdumplings' nd-print;\n"
"                                json: each dumpling exactly as received, one\n"
"                                per line;\n"
"                                summary: one line per dumpling, \"TIME - WHAT\",\n"
"                                written for the built-in chefs (NetwatchChef,\n"
"                                HTTPRequestChef, TLSClientHelloChef,\n"
"                                DNSLookupChef, ARPChef, FlowChef,\n"
"                                PacketCountChef, the hub's status and drop\n"
"                                notices), other chefs' as their name and\n"
"                                compact payload cut at " NDL__STR(NDL__SUMMARY_GENERIC_MAX) " bytes\n"
"      --json                    the same as --format json\n"
"      --[no-]payload            pretty: print each payload (default on)\n"
"      --[no-]color              pretty: bold chef and kitchen names; summary:\n"
"                                dim time, bold kind (default: when stdout is a\n"
"                                terminal and NO_COLOR is not set)\n"
"      --utc                     times in UTC instead of local time (TZ)\n"
"      --count N                 exit after printing N dumplings\n"
NDL__HELP_VERSION_HELP, f);
	fputs(
"\n"
"Times are metadata.creation_time, the kitchen's clock. In the summary every\n"
"text taken from a dumpling is printed with control characters escaped (\\n,\n"
"\\xNN, \\u{XXXX}), so that no name seen on the network can move the cursor\n"
"or forge a line.\n"
"\n"
"-c, -k and the driver choice are also sent to the hub as a subscription, so\n"
"it sends only those dumplings; a hub without subscriptions sends everything\n"
"and nd-print filters them itself.\n"
"\n"
"When the hub drops dumplings for this eater because it reads too slowly,\n"
"nd-print says so on stderr (\"hub dropped N dumplings for this eater (queue\n"
"full)\"); with --format json or summary the hub's drop notices (chef\n"
"SystemDropsChef) are printed like dumplings instead. Dumplings missing\n"
"from a kitchen's sequence numbers are reported on stderr too. On exit, a\n"
"line on stderr sums up drops, gaps and reconnects when there were any.\n"
"\n"
"Exits 0 on SIGINT/SIGTERM or after --count dumplings, 1 when the hub cannot\n"
"be reached or closes the connection.\n", f);
}

/* Python's '{:8s}'.format(s): pad to 8 code points, never truncate. */
static void print_padded(const char *s, int width)
{
	int cps = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			cps++;
	fputs(s, stdout);
	for (; cps < width; cps++)
		putchar(' ');
}

static void print_name(const char *s, int color)
{
	if (color)
		printf("\033[1m%s\033[0m", s);
	else
		fputs(s, stdout);
}

static void on_connect(struct ndl_eater *e)
{
	struct printer *pr = ndl__app_of(e)->data;

	if (pr->format != FORMAT_PRETTY)
		return;
	printf("Connected to nd-hub at %s\nWaiting for dumplings...\n\n", ndl_eater_url(e));
	fflush(stdout);
}

/* netdumplings' look: "TIME [DRIVER  ] CHEF from KITCHEN", then the payload. */
static void print_pretty(const struct printer *pr, const struct ndl_dumpling *d)
{
	char when[64];

	ndl__py_localtime(d->creation_time, 'T', 0, when, sizeof(when));
	printf("%s [", when);
	print_padded(d->driver ? d->driver : "None", 8);
	fputs("] ", stdout);
	print_name(d->chef, pr->color);
	fputs(" from ", stdout);
	print_name(d->kitchen ? d->kitchen : "None", pr->color);
	putchar('\n');
	if (pr->payload) {
		putchar('\n');
		ndl__pyjson_dump(stdout, d->payload);
		fputs("\n\n", stdout);
	}
}

static void on_dumpling(struct ndl_eater *e, const struct ndl_dumpling *d)
{
	struct ndl__app *app = ndl__app_of(e);
	struct printer *pr = app->data;
	int notice = !d->kitchen && strcmp(d->chef, NDL_DROPS_CHEF) == 0;

	if (pr->count && pr->printed >= pr->count)
		return;
	/* drop notices only reach here with json or summary (else hidden) */
	if (pr->format == FORMAT_JSON) {
		fwrite(d->raw, 1, d->raw_len, stdout);
		putchar('\n');
	} else if (pr->format == FORMAT_SUMMARY) {
		ndl__summary_line(stdout, d, pr->color);
	} else {
		print_pretty(pr, d);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ndl__app_fail(app, "cannot write to stdout");
		return;
	}
	if (notice) {
		pr->drop_notices_out++;  /* printed, but not one of --count's */
		return;
	}
	pr->printed++;
	if (pr->count && pr->printed >= pr->count)
		ndl__app_full(app);
}

static int own_opt(void *ctx, int opt, const char *arg)
{
	struct printer *pr = ctx;

	switch (opt) {
	case OPT_PAYLOAD: pr->payload = 1; return 0;
	case OPT_NO_PAYLOAD: pr->payload = 0; return 0;
	case OPT_COLOR: pr->color = 1; return 0;
	case OPT_NO_COLOR: pr->color = 0; return 0;
	case OPT_JSON: pr->format = FORMAT_JSON; return 0;
	case OPT_UTC: pr->utc = 1; return 0;
	case OPT_COUNT: return ndl__parse_count("nd-print", arg, &pr->count);
	case OPT_FORMAT:
		if (strcmp(arg, "pretty") == 0) {
			pr->format = FORMAT_PRETTY;
		} else if (strcmp(arg, "json") == 0) {
			pr->format = FORMAT_JSON;
		} else if (strcmp(arg, "summary") == 0) {
			pr->format = FORMAT_SUMMARY;
		} else {
			fprintf(stderr, "nd-print: --format wants pretty, json or summary, not"
				" '%s'\n", arg);
			return -EINVAL;
		}
		return 0;
	default:
		return -EINVAL;
	}
}

int main(int argc, char **argv)
{
	struct printer pr = { .color = -1, .payload = 1, .format = FORMAT_PRETTY };
	struct ndl__eater_opts o;
	struct ndl__app app;
	const char *no_color = getenv("NO_COLOR");
	int r;

	r = ndl__eater_opts_parse(&o, "nd-print", NDL_EATER_DEFAULT_NAME, NDL__EO_SUB, argc,
				  argv, "", long_opts, usage, own_opt, &pr);
	if (r != 0)
		return r > 0 ? 0 : 1;
	if (pr.color < 0)  /* https://no-color.org: set and not empty */
		pr.color = isatty(STDOUT_FILENO) && !(no_color && *no_color);
	if (pr.utc && setenv("TZ", "UTC0", 1) < 0) {
		fprintf(stderr, "nd-print: cannot set TZ for --utc: %s\n", strerror(errno));
		return 1;
	}
	if (ndl__app_setup(&app, &o) < 0)
		return 1;
	app.data = &pr;
	/* with json and summary the notices are in the output */
	app.drop_notices = pr.format == FORMAT_PRETTY;
	app.gap_notices = 1;
	ndl_eater_set_drop_notices(app.eater, pr.format == FORMAT_PRETTY ?
				   NDL_EATER_DROPS_HIDE : NDL_EATER_DROPS_DELIVER);
	r = ndl__app_run(&app, on_connect, on_dumpling);
	if (app.stats.drop_notices || app.stats.gaps || app.stats.reconnects ||
	    app.stats.parse_errors)
		fprintf(stderr, "nd-print: %lld dumplings printed; hub dropped %" PRIu64
			" (in %" PRIu64 " notices); %" PRIu64 " gaps, %" PRIu64
			" dumplings missing; %" PRIu64 " reconnects; %" PRIu64
			" not dumplings\n", pr.printed, app.stats.hub_dropped,
			app.stats.drop_notices, app.stats.gaps, app.stats.gap_dumplings,
			app.stats.reconnects, app.stats.parse_errors);
	return r;
}
