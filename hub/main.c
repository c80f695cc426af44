/* SPDX-License-Identifier: MIT */
/*
 * main.c - nd-hub: command line, signals and the libuv loop around the hub.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ndl/wire.h>
#include "hub.h"
#include "log.h"

#ifndef NDL_VERSION
#define NDL_VERSION "unknown"
#endif

enum {
	OPT_MAX_FRAME = 0x100,
	OPT_EATER_QUEUE,
	OPT_EATER_QUEUE_BYTES,
	OPT_MAX_CLIENTS,
	OPT_HELLO_TIMEOUT,
	OPT_VERSION,
	OPT_HELP,
};

static const struct option long_opts[] = {
	{ "address", required_argument, NULL, 'a' },
	{ "in-port", required_argument, NULL, 'i' },
	{ "out-port", required_argument, NULL, 'o' },
	{ "status-freq", required_argument, NULL, 'f' },
	{ "max-frame", required_argument, NULL, OPT_MAX_FRAME },
	{ "eater-queue", required_argument, NULL, OPT_EATER_QUEUE },
	{ "eater-queue-bytes", required_argument, NULL, OPT_EATER_QUEUE_BYTES },
	{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
	{ "hello-timeout", required_argument, NULL, OPT_HELLO_TIMEOUT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: nd-hub [OPTION]...\n"
"The netdumplings hub: kitchens send dumplings in, every eater gets them all.\n"
"Speaks the netdumplings 0.5.1 wire protocol (WebSocket text frames of JSON).\n"
"\n"
"  -a, --address ADDR       host name or numeric IPv4/IPv6 address to listen on;\n"
"                           a name is resolved and every address it has is used\n"
"                           (default %s)\n"
"  -i, --in-port PORT       port kitchens connect to (default %d; 0: any free port)\n"
"  -o, --out-port PORT      port eaters connect to (default %d; 0: any free port)\n"
"  -f, --status-freq SECS   seconds between SystemStatusChef dumplings, the first\n"
"                           at start-up (default %d)\n"
"      --max-frame BYTES    largest message accepted from a client; larger ones\n"
"                           are closed with 1009 (default %u = 16M)\n"
"      --eater-queue N      dumplings queued per eater at most; beyond it new\n"
"                           dumplings are dropped for that eater and counted\n"
"                           (default 4096)\n"
"      --eater-queue-bytes BYTES\n"
"                           bytes queued per eater at most (default 64M)\n"
"      --max-clients N      connections per port at most; more are closed with\n"
"                           1013 (default 1024)\n"
"      --hello-timeout SECS seconds a client has to send its hello before it is\n"
"                           closed with 1008; 0 waits forever (default 30)\n"
"  -q, --quiet              log errors only\n"
"  -v, --verbose            log more, including libwebsockets' own messages\n"
"      --version            print the version and exit\n"
"      --help               print this help and exit\n"
"\n"
"BYTES accept a K, M or G suffix (powers of 1024). Logs go to stderr, one line\n"
"per event. SIGINT or SIGTERM closes every connection with 1001 and exits 0.\n",
		NDL_HUB_DEFAULT_ADDRESS, NDL_HUB_DEFAULT_IN_PORT, NDL_HUB_DEFAULT_OUT_PORT,
		NDL_HUB_DEFAULT_STATUS_FREQ, NDL_DEFAULT_MAX_FRAME);
}

static int bad_value(const char *opt, const char *val, const char *why)
{
	fprintf(stderr, "nd-hub: invalid value '%s' for %s: %s\n", val, opt, why);
	return -EINVAL;
}

static int parse_port(const char *opt, const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 65535)
		return bad_value(opt, s, "a port is a number from 0 to 65535");
	*out = (int)v;
	return 0;
}

static int parse_count(const char *opt, const char *s, size_t min, size_t *out, bool suffix)
{
	unsigned long long v, mul = 1;
	char *end;

	errno = 0;
	if (*s == '-' || *s == '+')
		return bad_value(opt, s, "expected a positive whole number");
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return bad_value(opt, s, "expected a positive whole number");
	if (suffix && *end) {
		switch (*end) {
		case 'k': case 'K': mul = 1ull << 10; break;
		case 'm': case 'M': mul = 1ull << 20; break;
		case 'g': case 'G': mul = 1ull << 30; break;
		default: return bad_value(opt, s, "unknown suffix (use K, M or G)");
		}
		end++;
		if (!strcasecmp(end, "ib") || !strcasecmp(end, "b"))
			end += strlen(end);
	} else if (suffix && (!strcasecmp(end, "b"))) {
		end++;
	}
	if (*end)
		return bad_value(opt, s, "trailing characters");
	if (v > SIZE_MAX / mul || v * mul < min) {
		char why[64];

		snprintf(why, sizeof(why), "must be at least %zu", min);
		return bad_value(opt, s, v > SIZE_MAX / mul ? "too large" : why);
	}
	*out = (size_t)(v * mul);
	return 0;
}

static int parse_seconds(const char *opt, const char *s, bool zero_ok, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || (!zero_ok && v == 0) ||
	    v > 86400.0 * 365)
		return bad_value(opt, s, zero_ok ? "expected seconds, 0 or more" :
				 "expected a number of seconds greater than 0");
	if (!zero_ok && v < 0.01)
		return bad_value(opt, s, "at least 0.01 seconds");
	*out = v;
	return 0;
}

struct app {
	uv_loop_t loop;
	uv_signal_t sigint, sigterm;
	struct ndl_hub *hub;
	int signalled;
};

static void hub_done(void *arg)
{
	struct app *app = arg;

	uv_close((uv_handle_t *)&app->sigint, NULL);
	uv_close((uv_handle_t *)&app->sigterm, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct app *app = s->data;

	if (app->signalled++)
		return;
	ndl__hub_log(NDL_HUB_LOG_INFO, "%s received, shutting down",
		     signum == SIGINT ? "SIGINT" : "SIGTERM");
	ndl_hub_shutdown(app->hub, hub_done, app);
}

/* "[a]" for an IPv6 address, "a" otherwise (RFC 3986 section 3.2.2). */
static const char *bracket(char *buf, size_t len, const char *addr)
{
	snprintf(buf, len, strchr(addr, ':') ? "[%s]" : "%s", addr);
	return buf;
}

static void print_listening(const struct ndl_hub *hub)
{
	char first[80], also[256] = "", a[80];
	size_t n = 0;

	for (int i = 1; ndl_hub_address(hub, i); i++) {
		int w = snprintf(also + n, sizeof(also) - n, "%s%s", i == 1 ? " (also on " : ", ",
				 bracket(a, sizeof(a), ndl_hub_address(hub, i)));

		if (w < 0 || (size_t)w >= sizeof(also) - n - 1)
			break;
		n += (size_t)w;
	}
	if (n)
		snprintf(also + n, sizeof(also) - n, ")");
	bracket(first, sizeof(first), ndl_hub_address(hub, 0));
	if (ndl__hub_log_level() >= NDL_HUB_LOG_INFO)
		fprintf(stderr, "nd-hub listening for kitchens on %s:%d and eaters on %s:%d%s\n",
			first, ndl_hub_in_port(hub), first, ndl_hub_out_port(hub), also);
}

int main(int argc, char **argv)
{
	struct ndl_hub_config cfg;
	struct app app;
	char err[512];
	int opt, verbosity = NDL_HUB_LOG_INFO, ret = 0, r;

	ndl_hub_config_defaults(&cfg);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":a:i:o:f:qv", long_opts, NULL)) != -1) {
		r = 0;
		switch (opt) {
		case 'a':
			if (!*optarg)
				r = bad_value("--address", optarg, "empty address");
			cfg.address = optarg;
			break;
		case 'i': r = parse_port("--in-port", optarg, &cfg.in_port); break;
		case 'o': r = parse_port("--out-port", optarg, &cfg.out_port); break;
		case 'f': r = parse_seconds("--status-freq", optarg, false, &cfg.status_freq); break;
		case OPT_MAX_FRAME:
			r = parse_count("--max-frame", optarg, 64, &cfg.max_frame, true);
			if (!r && cfg.max_frame > INT32_MAX)
				r = bad_value("--max-frame", optarg, "at most 2G - 1");
			break;
		case OPT_EATER_QUEUE:
			r = parse_count("--eater-queue", optarg, 1, &cfg.eater_queue, false);
			break;
		case OPT_EATER_QUEUE_BYTES:
			r = parse_count("--eater-queue-bytes", optarg, 1, &cfg.eater_queue_bytes, true);
			break;
		case OPT_MAX_CLIENTS:
			r = parse_count("--max-clients", optarg, 1, &cfg.max_clients, false);
			break;
		case OPT_HELLO_TIMEOUT:
			r = parse_seconds("--hello-timeout", optarg, true, &cfg.hello_timeout);
			break;
		case 'q': verbosity = NDL_HUB_LOG_ERR; break;
		case 'v': verbosity = NDL_HUB_LOG_DEBUG; break;
		case OPT_VERSION:
			printf("nd-hub (netdumplings-c) %s\n", NDL_VERSION);
			return 0;
		case OPT_HELP:
			usage(stdout);
			return 0;
		case ':':
			fprintf(stderr, "nd-hub: option %s needs a value\n", argv[optind - 1]);
			return 2;
		default:
			if (optopt == 'h')
				fprintf(stderr, "nd-hub: unknown option -h (help is --help)\n");
			else if (optopt)
				fprintf(stderr, "nd-hub: unknown option -%c (see --help)\n", optopt);
			else
				fprintf(stderr, "nd-hub: unknown option %s (see --help)\n",
					argv[optind - 1]);
			return 2;
		}
		if (r)
			return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "nd-hub: unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}
	ndl__hub_log_set_level(verbosity);

	/* A peer vanishing mid-write must be an EPIPE, not our death. */
	signal(SIGPIPE, SIG_IGN);

	memset(&app, 0, sizeof(app));
	r = uv_loop_init(&app.loop);
	if (r) {
		fprintf(stderr, "hub error: cannot start the event loop: %s\n", uv_strerror(r));
		return 1;
	}
	uv_signal_init(&app.loop, &app.sigint);
	uv_signal_init(&app.loop, &app.sigterm);
	app.sigint.data = app.sigterm.data = &app;

	app.hub = ndl_hub_new(&app.loop, &cfg);
	if (!app.hub) {
		fprintf(stderr, "hub error: out of memory\n");
		uv_close((uv_handle_t *)&app.sigint, NULL);
		uv_close((uv_handle_t *)&app.sigterm, NULL);
		uv_run(&app.loop, UV_RUN_DEFAULT);
		uv_loop_close(&app.loop);
		return 1;
	}
	r = ndl_hub_start(app.hub, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "hub error: %s\n", err);
		ret = 1;
		ndl_hub_shutdown(app.hub, hub_done, &app);
	} else {
		uv_signal_start(&app.sigint, on_signal, SIGINT);
		uv_signal_start(&app.sigterm, on_signal, SIGTERM);
		print_listening(app.hub);
	}

	uv_run(&app.loop, UV_RUN_DEFAULT);
	ndl_hub_free(app.hub);
	r = uv_loop_close(&app.loop);
	if (r) {
		/* Something is still on the loop: a bug, but exit cleanly anyway. */
		ndl__hub_log(NDL_HUB_LOG_ERR, "event loop not empty at exit: %s", uv_strerror(r));
	}
	if (!ret)
		ndl__hub_log(NDL_HUB_LOG_INFO, "stopped");
	return ret;
}
