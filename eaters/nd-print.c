/* SPDX-License-Identifier: MIT */
/*
 * nd-print - print the dumplings an nd-hub sends, as netdumplings 0.5.1's
 * nd-print does: a summary line per dumpling, then its payload.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ndl/wire.h>

#include "common.h"

struct printer {
	int color;
	int payload;
	int json;
	long long count;     /* 0: no limit */
	long long printed;
	long long drop_notices_out;  /* drop notices passed through with --json */
};

enum {
	OPT_HELP = 256, OPT_VERSION, OPT_INTERVAL, OPT_NO_INTERVAL, OPT_PACKET,
	OPT_NO_PACKET, OPT_PAYLOAD, OPT_NO_PAYLOAD, OPT_COLOR, OPT_NO_COLOR,
	OPT_JSON, OPT_COUNT, OPT_TOKEN_FILE, OPT_HUB_CA, OPT_RECONNECT, OPT_NO_RECONNECT,
	OPT_RECONNECT_MAX, OPT_NO_BATCH,
};

static const struct option long_opts[] = {
	{ "hub", required_argument, NULL, 'h' },
	{ "chef", required_argument, NULL, 'c' },
	{ "kitchen", required_argument, NULL, 'k' },
	{ "eater-name", required_argument, NULL, 'n' },
	{ "interval-dumplings", no_argument, NULL, OPT_INTERVAL },
	{ "no-interval-dumplings", no_argument, NULL, OPT_NO_INTERVAL },
	{ "packet-dumplings", no_argument, NULL, OPT_PACKET },
	{ "no-packet-dumplings", no_argument, NULL, OPT_NO_PACKET },
	{ "payload", no_argument, NULL, OPT_PAYLOAD },
	{ "no-payload", no_argument, NULL, OPT_NO_PAYLOAD },
	{ "color", no_argument, NULL, OPT_COLOR },
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "hub-ca", required_argument, NULL, OPT_HUB_CA },
	{ "reconnect", no_argument, NULL, OPT_RECONNECT },
	{ "no-reconnect", no_argument, NULL, OPT_NO_RECONNECT },
	{ "reconnect-max", required_argument, NULL, OPT_RECONNECT_MAX },
	{ "no-batch", no_argument, NULL, OPT_NO_BATCH },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: nd-print [OPTIONS]\n"
"\n"
"Connect to an nd-hub as an eater and print every dumpling it sends.\n"
"\n"
"Options:\n"
NDL__HUB_OPTIONS_HELP
"  -c, --chef NAME               only dumplings from this chef (repeatable)\n"
"  -k, --kitchen NAME            only dumplings from this kitchen (repeatable)\n"
"  -n, --eater-name NAME         name sent to the hub (default printereater)\n"
"      --[no-]interval-dumplings print interval dumplings (default on)\n"
"      --[no-]packet-dumplings   print packet dumplings (default on)\n"
"      --[no-]payload            print each payload as indented JSON (default on)\n"
"      --[no-]color              bold chef and kitchen names (default: when\n"
"                                stdout is a terminal)\n"
"      --json                    print each dumpling exactly as received, one\n"
"                                per line, instead of the summary and payload\n"
"      --count N                 exit after printing N dumplings\n"
"      --[no-]reconnect          when the hub cannot be reached or the connection\n"
"                                ends, try again with a growing, jittered delay\n"
"                                (default off: exit 1)\n"
"      --reconnect-max SECONDS   longest delay between attempts (default 30)\n"
"      --no-batch                ask for one dumpling per message instead of\n"
"                                offering the batch subprotocol\n"
"      --help                    show this help and exit\n"
"      --version                 show the version and exit\n"
"\n"
"-c, -k and the driver choice are also sent to the hub as a subscription, so\n"
"it sends only those dumplings; a hub without subscriptions sends everything\n"
"and nd-print filters them itself.\n"
"\n"
"When the hub drops dumplings for this eater because it reads too slowly,\n"
"nd-print says so on stderr (\"hub dropped N dumplings for this eater (queue\n"
"full)\"); with --json the hub's drop notices (chef SystemDropsChef) are\n"
"printed like dumplings instead. Dumplings missing from a kitchen's sequence\n"
"numbers are reported on stderr too. On exit, a line on stderr sums up drops,\n"
"gaps and reconnects when there were any.\n"
"\n"
"Exits 0 on SIGINT/SIGTERM or after --count dumplings, 1 when the hub cannot\n"
"be reached or closes the connection.\n");
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

	if (pr->json)
		return;
	printf("Connected to nd-hub at %s\nWaiting for dumplings...\n\n", ndl_eater_url(e));
	fflush(stdout);
}

static void on_dumpling(struct ndl_eater *e, const struct ndl_dumpling *d)
{
	struct ndl__app *app = ndl__app_of(e);
	struct printer *pr = app->data;
	char when[64];

	if (pr->count && pr->printed >= pr->count)
		return;
	if (!d->kitchen && strcmp(d->chef, NDL_DROPS_CHEF) == 0) {
		/* only reaches here with --json (else hidden): pass it through */
		fwrite(d->raw, 1, d->raw_len, stdout);
		putchar('\n');
		if (fflush(stdout) != 0 || ferror(stdout))
			ndl__app_fail(app, "cannot write to stdout");
		pr->drop_notices_out++;
		return;
	}
	if (pr->json) {
		fwrite(d->raw, 1, d->raw_len, stdout);
		putchar('\n');
	} else {
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
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ndl__app_fail(app, "cannot write to stdout");
		return;
	}
	pr->printed++;
	if (pr->count && pr->printed >= pr->count)
		ndl__app_full(app);
}

int main(int argc, char **argv)
{
	struct printer pr = { .color = -1, .payload = 1 };
	const char *hub = NDL__DEFAULT_HUB, *name = NDL_EATER_DEFAULT_NAME;
	const char *chefs[NDL_EATER_MAX_FILTER_NAMES + 1], *kitchens[NDL_EATER_MAX_FILTER_NAMES + 1];
	int nchefs = 0, nkitchens = 0, interval = 1, packet = 1, opt, r;
	int reconnect = 0, batch = 1;
	const char *token_file = NULL, *ca_file = NULL;
	double reconnect_max = NDL_EATER_RECONNECT_MAX_MS / 1000.0;
	unsigned drivers;
	struct ndl__app app;

	while ((opt = getopt_long(argc, argv, "h:c:k:n:", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'h': hub = optarg; break;
		case 'n': name = optarg; break;
		case 'c':
			if (nchefs == NDL_EATER_MAX_FILTER_NAMES) {
				fprintf(stderr, "nd-print: too many --chef filters (at most %d)\n",
					NDL_EATER_MAX_FILTER_NAMES);
				return 1;
			}
			chefs[nchefs++] = optarg;
			break;
		case 'k':
			if (nkitchens == NDL_EATER_MAX_FILTER_NAMES) {
				fprintf(stderr, "nd-print: too many --kitchen filters (at most %d)\n",
					NDL_EATER_MAX_FILTER_NAMES);
				return 1;
			}
			kitchens[nkitchens++] = optarg;
			break;
		case OPT_INTERVAL: interval = 1; break;
		case OPT_NO_INTERVAL: interval = 0; break;
		case OPT_PACKET: packet = 1; break;
		case OPT_NO_PACKET: packet = 0; break;
		case OPT_PAYLOAD: pr.payload = 1; break;
		case OPT_NO_PAYLOAD: pr.payload = 0; break;
		case OPT_COLOR: pr.color = 1; break;
		case OPT_NO_COLOR: pr.color = 0; break;
		case OPT_JSON: pr.json = 1; break;
		case OPT_COUNT:
			if (ndl__parse_count("nd-print", optarg, &pr.count) < 0)
				return 1;
			break;
		case OPT_TOKEN_FILE: token_file = optarg; break;
		case OPT_HUB_CA: ca_file = optarg; break;
		case OPT_RECONNECT: reconnect = 1; break;
		case OPT_NO_RECONNECT: reconnect = 0; break;
		case OPT_NO_BATCH: batch = 0; break;
		case OPT_RECONNECT_MAX: {
			char *end;

			reconnect_max = strtod(optarg, &end);
			if (end == optarg || *end || !(reconnect_max >= 0.25) ||
			    reconnect_max > NDL_EATER_RECONNECT_LIMIT_MS / 1000.0) {
				fprintf(stderr, "nd-print: --reconnect-max wants seconds between 0.25"
					" and %u, not '%s'\n", NDL_EATER_RECONNECT_LIMIT_MS / 1000,
					optarg);
				return 1;
			}
			break;
		}
		case OPT_HELP: usage(stdout); return 0;
		case OPT_VERSION: printf("nd-print %s\n", NDL_VERSION); return 0;
		default:
			fprintf(stderr, "Try 'nd-print --help' for more information.\n");
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nd-print: unexpected argument '%s'\n"
			"Try 'nd-print --help' for more information.\n", argv[optind]);
		return 1;
	}
	if (pr.color < 0)
		pr.color = isatty(STDOUT_FILENO);

	if (ndl__app_init(&app, "nd-print", name, hub) < 0)
		return 1;
	app.data = &pr;
	if (ndl__app_security(&app, token_file, ca_file) < 0) {
		ndl_eater_free(app.eater);
		return 1;
	}
	app.drop_notices = !pr.json;  /* with --json the notices are in the output */
	app.gap_notices = 1;
	ndl_eater_set_drop_notices(app.eater, pr.json ? NDL_EATER_DROPS_DELIVER : NDL_EATER_DROPS_HIDE);
	ndl_eater_set_batch(app.eater, batch);
	if (reconnect) {
		unsigned max_ms = (unsigned)(reconnect_max * 1000.0);

		ndl_eater_set_reconnect(app.eater, 1, max_ms < NDL_EATER_RECONNECT_MIN_MS ?
					max_ms : NDL_EATER_RECONNECT_MIN_MS, max_ms);
	}
	for (int i = 0; i < nchefs; i++)
		ndl_eater_filter_chef(app.eater, chefs[i]);
	for (int i = 0; i < nkitchens; i++)
		ndl_eater_filter_kitchen(app.eater, kitchens[i]);
	ndl_eater_filter_drivers(app.eater, NDL_EATER_DRIVER_OTHER |
				 (packet ? NDL_EATER_DRIVER_PACKET : 0) |
				 (interval ? NDL_EATER_DRIVER_INTERVAL : 0));
	/*
	 * The same choice as a server-side subscription, so the hub does not
	 * send what would be thrown away here; the filters above still apply,
	 * for hubs that send everything. With neither driver wanted nothing
	 * is printed anyway: subscribe to both and let the filter drop them.
	 */
	chefs[nchefs] = NULL;
	kitchens[nkitchens] = NULL;
	drivers = packet == interval ? 0 :
		  packet ? NDL_EATER_DRIVER_PACKET : NDL_EATER_DRIVER_INTERVAL;
	if (nchefs || nkitchens || drivers) {
		r = ndl_eater_subscribe(app.eater, chefs, kitchens, drivers);
		if (r < 0)
			fprintf(stderr, "nd-print: warning: cannot ask the hub to filter (%s);"
				" filtering here only\n", strerror(-r));
	}
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
