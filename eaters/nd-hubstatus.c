/* SPDX-License-Identifier: MIT */
/*
 * nd-hubstatus - show the hub's status dumplings as one line, redrawn in
 * place, as netdumplings 0.5.1's nd-hubstatus does.
 */
#include <stdio.h>
#include <string.h>

#include <ndl/wire.h>

#include "common.h"

struct status {
	int once;
	size_t last_len;   /* length of the line on screen, for redrawing */
};

enum { OPT_ONCE = NDL__OPT_OWN };

static const struct option long_opts[] = {
	{ "once", no_argument, NULL, OPT_ONCE },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: nd-hubstatus [OPTIONS]\n"
"\n"
"Show the status an nd-hub sends every few seconds, as one line redrawn in\n"
"place: time, hub uptime, dumplings in and out, kitchens and eaters.\n"
"\n"
"Options:\n"
NDL__HUB_OPTIONS_HELP
"  -n, --eater-name NAME         name sent to the hub (default hubstatus)\n"
"      --once                    print the first status line with a newline and\n"
"                                exit\n"
NDL__HELP_VERSION_HELP
"\n"
"Exits 0 on SIGINT/SIGTERM or after --once, 1 when the hub cannot be\n"
"reached or closes the connection.\n");
}

static long long int_field(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? (long long)json_number_value(v) : 0;
}

static void on_dumpling(struct ndl_eater *e, const struct ndl_dumpling *d)
{
	struct ndl__app *app = ndl__app_of(e);
	struct status *st = app->data;
	char when[64], uptime[64], line[512];
	int n;

	ndl__py_localtime(d->creation_time, ' ', 1, when, sizeof(when));
	ndl__fmt_uptime(json_number_value(json_object_get(d->payload, "server_uptime")),
			uptime, sizeof(uptime));
	n = snprintf(line, sizeof(line),
		     "%s  uptime: %s  dumplings in: %lld  out: %lld  kitchens: %lld  eaters: %lld",
		     when, uptime, int_field(d->payload, "total_dumplings_in"),
		     int_field(d->payload, "total_dumplings_out"),
		     int_field(d->payload, "dumpling_kitchen_count"),
		     int_field(d->payload, "dumpling_eater_count"));
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	if (st->once) {
		printf("%s\n", line);
	} else {
		/* Overwrite what a longer previous line left behind. */
		printf("\r%s%*s", line, st->last_len > (size_t)n ? (int)(st->last_len - (size_t)n) : 0, "");
		st->last_len = (size_t)n;
	}
	if (fflush(stdout) != 0) {
		ndl__app_fail(app, "cannot write to stdout");
		return;
	}
	if (st->once)
		ndl__app_full(app);
}

int main(int argc, char **argv)
{
	struct status st = { 0 };
	struct ndl__app app;
	int rc;

	rc = ndl__status_main(&app, "nd-hubstatus", "hubstatus", argc, argv, long_opts, usage,
			      &st.once, &st, on_dumpling);
	if (!st.once && st.last_len)
		putchar('\n');  /* leave the shell prompt on its own line */
	return rc;
}
