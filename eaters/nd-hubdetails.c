/* SPDX-License-Identifier: MIT */
/*
 * nd-hubdetails - wait for one status dumpling from an nd-hub, print its
 * whole payload and exit, as netdumplings 0.5.1's nd-hubdetails does.
 */
#include <getopt.h>
#include <stdio.h>

#include <ndl/wire.h>

#include "common.h"

struct details {
	int json;
	int done;
};

enum { OPT_HELP = 256, OPT_VERSION, OPT_JSON, OPT_TOKEN_FILE, OPT_HUB_CA };

static const struct option long_opts[] = {
	{ "hub", required_argument, NULL, 'h' },
	{ "eater-name", required_argument, NULL, 'n' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "hub-ca", required_argument, NULL, OPT_HUB_CA },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: nd-hubdetails [OPTIONS]\n"
"\n"
"Wait for the next status dumpling of an nd-hub, print its whole payload\n"
"(kitchens, eaters, counters) as indented JSON with sorted keys, and exit.\n"
"\n"
"Options:\n"
NDL__HUB_OPTIONS_HELP
"  -n, --eater-name NAME         name sent to the hub (default hubdetails)\n"
"      --json                    print the status dumpling exactly as received\n"
"      --help                    show this help and exit\n"
"      --version                 show the version and exit\n"
"\n"
"Exits 0 after printing (or on SIGINT/SIGTERM), 1 when the hub cannot be\n"
"reached or closes the connection.\n");
}

static void on_dumpling(struct ndl_eater *e, const struct ndl_dumpling *d)
{
	struct ndl__app *app = ndl__app_of(e);
	struct details *dt = app->data;

	if (dt->done)
		return;
	dt->done = 1;
	if (dt->json) {
		fwrite(d->raw, 1, d->raw_len, stdout);
	} else {
		ndl__pyjson_dump(stdout, d->payload);
	}
	putchar('\n');
	if (fflush(stdout) != 0) {
		ndl__app_fail(app, "cannot write to stdout");
		return;
	}
	ndl__app_full(app);
}

int main(int argc, char **argv)
{
	struct details dt = { 0 };
	const char *hub = NDL__DEFAULT_HUB, *name = "hubdetails";
	struct ndl__app app;
	const char *token_file = NULL, *ca_file = NULL;
	int opt;

	while ((opt = getopt_long(argc, argv, "h:n:", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'h': hub = optarg; break;
		case 'n': name = optarg; break;
		case OPT_TOKEN_FILE: token_file = optarg; break;
		case OPT_HUB_CA: ca_file = optarg; break;
		case OPT_JSON: dt.json = 1; break;
		case OPT_HELP: usage(stdout); return 0;
		case OPT_VERSION: printf("nd-hubdetails %s\n", NDL_VERSION); return 0;
		default:
			fprintf(stderr, "Try 'nd-hubdetails --help' for more information.\n");
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nd-hubdetails: unexpected argument '%s'\n"
			"Try 'nd-hubdetails --help' for more information.\n", argv[optind]);
		return 1;
	}
	if (ndl__app_init(&app, "nd-hubdetails", name, hub) < 0)
		return 1;
	app.data = &dt;
	if (ndl__app_security(&app, token_file, ca_file) < 0) {
		ndl_eater_free(app.eater);
		return 1;
	}
	ndl_eater_filter_chef(app.eater, NDL_STATUS_CHEF);
	return ndl__app_run(&app, NULL, on_dumpling);
}
