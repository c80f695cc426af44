/* SPDX-License-Identifier: MIT */
/*
 * nd-hubdetails - wait for one status dumpling from an nd-hub, print its
 * whole payload and exit, as netdumplings 0.5.1's nd-hubdetails does.
 */
#include <stdio.h>

#include <ndl/wire.h>

#include "common.h"

struct details {
	int json;
	int done;
};

enum { OPT_JSON = NDL__OPT_OWN };

static const struct option long_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
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
NDL__HELP_VERSION_HELP
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
	struct ndl__app app;

	return ndl__status_main(&app, "nd-hubdetails", "hubdetails", argc, argv, long_opts,
				usage, &dt.json, &dt, on_dumpling);
}
