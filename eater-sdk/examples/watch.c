/* SPDX-License-Identifier: MIT */
/*
 * watch - the smallest long-running eater: print one line per DNS lookup,
 * say when the hub dropped dumplings or a kitchen's numbers jumped, and
 * keep coming back when the hub restarts.
 *
 *   cc watch.c $(pkg-config --cflags --libs netdumplings-eater) -o watch
 *   ./watch wss://hub.example:11348 /etc/netdumplings/eater.token
 */
#include <inttypes.h>
#include <stdio.h>

#include <ndl/eater.h>

static void on_dumpling(struct ndl_eater *e, const struct ndl_dumpling *d)
{
	json_t *lookup = json_object_get(d->payload, "lookup");

	(void)e;
	printf("%s looked up %s\n", d->kitchen ? d->kitchen : "?",
	       json_string_value(json_object_get(lookup, "hostname")));
	fflush(stdout);
}

static void on_event(struct ndl_eater *e, const struct ndl_eater_event *ev)
{
	switch (ev->type) {
	case NDL_EATER_EVENT_DROPS:
		fprintf(stderr, "hub dropped %" PRIu64 " dumplings for us\n", ev->dropped);
		break;
	case NDL_EATER_EVENT_GAP:
		fprintf(stderr, "%" PRIu64 " dumplings from %s never arrived\n",
			ev->seq - ev->expected_seq, ev->kitchen);
		break;
	case NDL_EATER_EVENT_DISCONNECTED:
		fprintf(stderr, "lost %s (%s), again in %u ms\n", ndl_eater_url(e),
			ev->close->reason, ev->delay_ms);
		break;
	}
}

static void on_close(struct ndl_eater *e, const struct ndl_eater_close_info *info)
{
	(void)e;
	if (info->status)
		fprintf(stderr, "giving up: %s\n", info->reason);
}

int main(int argc, char **argv)
{
	const char *kitchens[] = { NULL };
	const char *chefs[] = { "DNSLookupChef", NULL };
	struct ndl_eater *e = ndl_eater_new(NULL, "watch", argc > 1 ? argv[1] : "localhost:11348");
	int r;

	if (!e)
		return 1;
	if (argc > 2 && ndl_eater_set_token_file(e, argv[2]) < 0) {
		fprintf(stderr, "no token in %s\n", argv[2]);
		ndl_eater_free(e);
		return 1;
	}
	ndl_eater_set_reconnect(e, 1, 0, 0);  /* 250 ms doubling up to 30 s */
	ndl_eater_set_event_cb(e, on_event);
	ndl_eater_subscribe(e, chefs, kitchens, NDL_EATER_DRIVER_PACKET);  /* the hub filters */
	ndl_eater_filter_chef(e, "DNSLookupChef");  /* and so do we, for 0.5.1 hubs */
	r = ndl_eater_start(e, NULL, on_dumpling, on_close);
	if (r == 0)
		ndl_eater_run(e);
	ndl_eater_free(e);
	return r == 0 ? 0 : 1;
}
