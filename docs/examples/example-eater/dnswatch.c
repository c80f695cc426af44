/* SPDX-License-Identifier: MIT */
/*
 * dnswatch - an example eater: print the DNS lookups an nd-hub's kitchens
 * see, one line each, as they happen.
 *
 *   dnswatch [-t TOKEN_FILE] [-a CA_FILE] [-c COUNT] [HUB]
 *
 * HUB is HOST:PORT, ws://HOST:PORT or wss://HOST:PORT (default
 * localhost:11348). It shows the parts of the eater SDK a long-running
 * eater needs:
 *
 *   - reconnecting: it keeps coming back when the hub restarts or is not
 *     up yet, saying so on stderr;
 *   - gaps: when a kitchen's sequence numbers jump (dumplings lost on the
 *     way, or sent while we were away), it says how many on stderr;
 *   - drop notices: when the hub had to drop dumplings because we read too
 *     slowly, it says so on stderr;
 *   - a clean stop on Ctrl-C (SIGINT) or SIGTERM, and a summary then.
 *
 * Build it with the Makefile beside it (pkg-config netdumplings-eater).
 * Every callback runs on the eater's libuv loop, in the thread that
 * called ndl_eater_run(): no locking is needed anywhere.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ndl/eater.h>  /* also brings <jansson.h> and <uv.h> */

/* What the program keeps between callbacks (given to the SDK as userdata). */
struct watch {
	long count;        /* stop after this many lookups; 0: never */
	long printed;
	int gave_up;       /* the eater ended on an error: exit 1 */
	uv_signal_t sigint, sigterm;
};

/*
 * Print text that came from the network. A host name in a DNS packet is
 * whatever its sender wanted; written to a terminal as it is, ESC
 * sequences in it could move the cursor or rewrite earlier lines. Every
 * byte outside printable ASCII is therefore shown as \xNN.
 */
static void put_text(const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f)
			putchar(c);
		else
			printf("\\x%02x", c);
	}
}

/* "HH:MM:SS" of an epoch time, local time. */
static void clock_time(double t, char *buf, size_t n)
{
	time_t secs = (time_t)t;
	struct tm tm;

	if (localtime_r(&secs, &tm))
		strftime(buf, n, "%H:%M:%S", &tm);
	else
		snprintf(buf, n, "?");
}

/* Called once per connection, after the hello went out. */
static void on_connect(struct ndl_eater *e)
{
	fprintf(stderr, "dnswatch: connected to %s\n", ndl_eater_url(e));
}

/*
 * Called for each dumpling that passed the filters (here: DNSLookupChef
 * only). d and everything in it are borrowed for this call only: copy
 * what you want to keep (json_incref(d->payload) keeps the payload).
 *
 * A packet dumpling of DNSLookupChef (docs/chefs/DNSLookupChef.md):
 *   {"lookup": {"hostname": "example.com", "qtype": "A",
 *               "is_response": false, ...}}
 * Its interval dumplings ({"lookups_seen": ...}) are left out by the
 * driver filter set in main().
 */
static void on_dumpling(struct ndl_eater *e, const struct ndl_dumpling *d)
{
	struct watch *w = ndl_eater_userdata(e);
	json_t *lookup = json_object_get(d->payload, "lookup");
	const char *qtype = json_string_value(json_object_get(lookup, "qtype"));
	char when[16];

	if (!json_is_object(lookup) || json_is_true(json_object_get(lookup, "is_response")))
		return;  /* questions only: each answer repeats its question */
	clock_time(d->creation_time, when, sizeof(when));
	printf("%s ", when);
	put_text(d->kitchen ? d->kitchen : "?");
	printf(" asked %s", qtype ? "" : "?");
	put_text(qtype);
	putchar(' ');
	put_text(json_string_value(json_object_get(lookup, "hostname")));
	putchar('\n');
	fflush(stdout);  /* one line at a time, also into a pipe */

	if (w->count && ++w->printed == w->count)
		/* 4102: "dumpling eater is full", the normal way to leave */
		ndl_eater_close(e, NDL_EATER_CLOSE_FULL, "dumpling eater is full");
}

/* Drop notices, sequence gaps and lost connections (ndl_eater_set_event_cb). */
static void on_event(struct ndl_eater *e, const struct ndl_eater_event *ev)
{
	switch (ev->type) {
	case NDL_EATER_EVENT_DROPS:
		fprintf(stderr, "dnswatch: the hub dropped %" PRIu64 " dumplings for us"
			" (we read too slowly)\n", ev->dropped);
		break;
	case NDL_EATER_EVENT_GAP:
		fprintf(stderr, "dnswatch: %" PRIu64 " dumplings from kitchen %s never"
			" arrived\n", ev->seq - ev->expected_seq, ev->kitchen);
		break;
	case NDL_EATER_EVENT_DISCONNECTED:
		fprintf(stderr, "dnswatch: lost %s (%s); trying again in %.1f s\n",
			ndl_eater_url(e), ev->close->reason[0] ? ev->close->reason : "no reason",
			ev->delay_ms / 1000.0);
		break;
	}
}

/*
 * Called once, when the eater is done for good: after ndl_eater_close(),
 * or when the hub refused us (a bad token, say). With reconnecting on, a
 * hub that merely goes away does not end up here.
 */
static void on_close(struct ndl_eater *e, const struct ndl_eater_close_info *info)
{
	struct watch *w = ndl_eater_userdata(e);
	struct ndl_eater_stats st;

	if (info->status != 0) {
		fprintf(stderr, "dnswatch: giving up: %s\n", info->reason);
		w->gave_up = 1;
	}
	/* The counters; pass sizeof so that older and newer SDKs agree. */
	if (ndl_eater_get_stats(e, &st, sizeof(st)) == 0)
		fprintf(stderr, "dnswatch: %ld lookups printed; %" PRIu64 " dumplings received,"
			" %" PRIu64 " missing in %" PRIu64 " gaps, %" PRIu64 " reconnects\n",
			w->printed, st.dumplings, st.gap_dumplings, st.gaps, st.reconnects);
	/* Nothing else may keep the loop running, so ndl_eater_run() returns. */
	uv_close((uv_handle_t *)&w->sigint, NULL);
	uv_close((uv_handle_t *)&w->sigterm, NULL);
}

/* SIGINT/SIGTERM: close politely (4101 "cancelled"); on_close follows. */
static void on_signal(uv_signal_t *s, int signum)
{
	(void)signum;
	ndl_eater_close(s->data, NDL_EATER_CLOSE_CANCELLED, "eater cancelled");
}

int main(int argc, char **argv)
{
	struct watch w = { 0 };
	const char *token_file = NULL, *ca_file = NULL, *hub = "localhost:11348";
	struct ndl_eater *e;
	int opt, r;

	while ((opt = getopt(argc, argv, "t:a:c:")) != -1) {
		switch (opt) {
		case 't': token_file = optarg; break;
		case 'a': ca_file = optarg; break;
		case 'c': w.count = atol(optarg); break;
		default:
			fprintf(stderr, "usage: dnswatch [-t TOKEN_FILE] [-a CA_FILE] [-c COUNT] [HUB]\n");
			return 2;
		}
	}
	if (optind < argc)
		hub = argv[optind];

	/* NULL loop: the eater makes its own; ndl_eater_loop() gives it. */
	e = ndl_eater_new(NULL, "dnswatch", hub);
	if (!e) {
		fprintf(stderr, "dnswatch: bad hub address '%s'\n", hub);
		return 1;
	}
	ndl_eater_set_userdata(e, &w);
	if (token_file && ndl_eater_set_token_file(e, token_file) < 0) {
		fprintf(stderr, "dnswatch: no usable token in %s\n", token_file);
		goto free_eater;
	}
	if (ca_file && ndl_eater_set_ca_file(e, ca_file) < 0) {
		fprintf(stderr, "dnswatch: cannot use CA file %s\n", ca_file);
		goto free_eater;
	}

	/* Keep coming back: 250 ms, doubling (with jitter) up to 30 s. */
	ndl_eater_set_reconnect(e, 1, 0, 0);
	ndl_eater_set_event_cb(e, on_event);

	/*
	 * Only DNSLookupChef's packet dumplings, filtered here in the SDK.
	 * ndl_eater_subscribe() would have the hub filter instead, which
	 * saves bandwidth; but then the hub leaves dumplings out on purpose
	 * and the SDK can no longer tell lost dumplings from skipped ones,
	 * so there would be no gap reports. Choose what matters to you.
	 */
	ndl_eater_filter_chef(e, "DNSLookupChef");
	ndl_eater_filter_drivers(e, NDL_EATER_DRIVER_PACKET);

	/* Signals are watched on the eater's loop, like everything else. */
	uv_signal_init(ndl_eater_loop(e), &w.sigint);
	uv_signal_init(ndl_eater_loop(e), &w.sigterm);
	w.sigint.data = w.sigterm.data = e;
	uv_signal_start(&w.sigint, on_signal, SIGINT);
	uv_signal_start(&w.sigterm, on_signal, SIGTERM);
	signal(SIGPIPE, SIG_IGN);  /* a closed stdout is an error, not a kill */

	r = ndl_eater_start(e, on_connect, on_dumpling, on_close);
	if (r < 0) {
		fprintf(stderr, "dnswatch: cannot start: %s\n", strerror(-r));
		uv_close((uv_handle_t *)&w.sigint, NULL);
		uv_close((uv_handle_t *)&w.sigterm, NULL);
		uv_run(ndl_eater_loop(e), UV_RUN_DEFAULT);  /* finish closing them */
		goto free_eater;
	}
	ndl_eater_run(e);  /* returns once on_close ran and the loop is empty */
	ndl_eater_free(e);
	return w.gave_up ? 1 : 0;

free_eater:
	ndl_eater_free(e);
	return 1;
}
