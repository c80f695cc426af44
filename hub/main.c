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
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ndl/wire.h>
#include "auth.h"
#include "conf.h"
#include "hub.h"
#include "log.h"

#ifndef NDL_VERSION
#define NDL_VERSION "unknown"
#endif
#ifndef NDL_BUILD_DIR
#define NDL_BUILD_DIR "."
#define NDL_BUILD_WWWDIR "www"
#define NDL_BUILD_SDKDIR "sdk"
#define NDL_INSTALLED_WWWDIR "/usr/local/share/netdumplings/www"
#define NDL_INSTALLED_SDKDIR "/usr/local/share/netdumplings/sdk"
#endif

enum {
	OPT_MAX_FRAME = 0x100,
	OPT_EATER_QUEUE,
	OPT_EATER_QUEUE_BYTES,
	OPT_MAX_CLIENTS,
	OPT_HELLO_TIMEOUT,
	OPT_BATCH_BYTES,
	OPT_LAG_POLICY,
	OPT_MAX_PER_ADDRESS,
	OPT_KITCHEN_RATE,
	OPT_KITCHEN_TOKEN_FILE,
	OPT_EATER_TOKEN_FILE,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_ALLOW_ORIGIN,
	OPT_NO_METRICS,
	OPT_WWW,
	OPT_NO_DASHBOARD,
	OPT_LOG_FORMAT,
	OPT_CONFIG,
	OPT_TEST_CONFIG,
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
	{ "batch-bytes", required_argument, NULL, OPT_BATCH_BYTES },
	{ "lag-policy", required_argument, NULL, OPT_LAG_POLICY },
	{ "max-per-address", required_argument, NULL, OPT_MAX_PER_ADDRESS },
	{ "kitchen-rate", required_argument, NULL, OPT_KITCHEN_RATE },
	{ "kitchen-token-file", required_argument, NULL, OPT_KITCHEN_TOKEN_FILE },
	{ "eater-token-file", required_argument, NULL, OPT_EATER_TOKEN_FILE },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "allow-origin", required_argument, NULL, OPT_ALLOW_ORIGIN },
	{ "no-metrics", no_argument, NULL, OPT_NO_METRICS },
	{ "www", required_argument, NULL, OPT_WWW },
	{ "no-dashboard", no_argument, NULL, OPT_NO_DASHBOARD },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "test-config", no_argument, NULL, OPT_TEST_CONFIG },
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
"The netdumplings hub: kitchens send dumplings in, eaters get them.\n"
"Speaks the netdumplings 0.5.1 wire protocol (WebSocket text frames of JSON)\n"
"and its extensions (docs/protocol.md): subscriptions, batch mode, tokens, TLS.\n"
"\n"
"Where to listen:\n"
"  -a, --address ADDR       host name or numeric IPv4/IPv6 address to listen on;\n"
"                           a name is resolved and every address it has is used\n"
"                           (default %s)\n"
"  -i, --in-port PORT       port kitchens connect to (default %d; 0: any free\n"
"                           port)\n"
"  -o, --out-port PORT      port eaters connect to (default %d; 0: any free\n"
"                           port); it also serves GET /metrics\n"
"  -f, --status-freq SECS   seconds between SystemStatusChef dumplings, the first\n"
"                           at start-up (default %d)\n"
"\n"
"Limits:\n"
"      --max-frame BYTES    largest message accepted from a client; larger ones\n"
"                           are closed with 1009 (default %u = 16M)\n"
"      --eater-queue N      dumplings queued per eater at most (default 4096)\n"
"      --eater-queue-bytes BYTES\n"
"                           bytes queued per eater at most (default 64M)\n"
"      --lag-policy POLICY  when an eater's queue is full: 'drop-oldest' drops\n"
"                           its oldest dumplings and sends it a SystemDropsChef\n"
"                           notice saying how many it missed (default);\n"
"                           'disconnect' closes it with 4103\n"
"      --batch-bytes BYTES  largest message written to a batch-mode eater\n"
"                           (default 64K)\n"
"      --max-clients N      connections per port at most; more are closed with\n"
"                           1013 (default 1024)\n"
"      --max-per-address N  connections from one address at most, both ports\n"
"                           together; more are closed with 1013 (default 256;\n"
"                           0: no limit)\n"
"      --kitchen-rate N     dumplings per second one kitchen may send; more are\n"
"                           dropped and counted (default: no limit)\n"
"      --hello-timeout SECS\n"
"                           seconds a client has to send its hello before it is\n"
"                           closed with 1008; 0 waits forever (default 30)\n",
		NDL_HUB_DEFAULT_ADDRESS, NDL_HUB_DEFAULT_IN_PORT, NDL_HUB_DEFAULT_OUT_PORT,
		NDL_HUB_DEFAULT_STATUS_FREQ, NDL_DEFAULT_MAX_FRAME);
	fputs(
"\n"
"Security:\n"
"      --kitchen-token-file FILE\n"
"                           kitchens must send one of the tokens in FILE (one per\n"
"                           line, '#' comments) in their hello, or are closed\n"
"                           with 4104\n"
"      --eater-token-file FILE\n"
"                           the same for eaters, with their own tokens\n"
"      --tls-cert FILE      PEM certificate (chain): both ports speak wss:// only\n"
"      --tls-key FILE       PEM private key of --tls-cert\n"
"      --allow-origin ORIGIN\n"
"                           a browser page from ORIGIN (e.g.\n"
"                           https://dash.example) may connect; repeatable; '*'\n"
"                           allows any. Pages from the hub itself and\n"
"                           non-browser clients always may\n"
"\n"
"Operation:\n"
"      --config FILE        read options from FILE first: one\n"
"                           'long-option = value' (or a bare flag) a line, '#'\n"
"                           comments; the command line adds to and overrides\n"
"                           it. SIGHUP reads it again\n"
"      --test-config        check the options, the config file, the token and TLS\n"
"                           files, print the settings and exit (0: all good)\n"
"      --no-metrics         do not serve GET /metrics (Prometheus text format)\n"
"      --www DIR            serve the dashboard from DIR at http://HOST:OUT-PORT/\n"
"                           (default: the installed one)\n"
"      --no-dashboard       serve neither the dashboard nor the browser SDK\n"
"      --log-format FORMAT  'text' (default) or 'json': one JSON object a line\n"
"  -q, --quiet              log errors only\n"
"  -v, --verbose            log more, including libwebsockets' own messages\n"
"      --version            print the version and exit\n"
"      --help               print this help and exit\n"
"\n"
"BYTES accept a K, M or G suffix (powers of 1024). Logs go to stderr, one line\n"
"per event. SIGINT or SIGTERM closes every connection with 1001 and exits 0.\n"
"SIGHUP reloads the config file and the token files: limits, policy, origins,\n"
"tokens, status frequency and logging change at once; the address, the ports\n"
"and TLS need a restart.\n", f);
}

/* Where the option being parsed came from ("FILE:LINE: " or ""). */
static const char *where = "";

static int bad_value(const char *opt, const char *val, const char *why)
{
	ndl__hub_log(NDL_HUB_LOG_ERR, "%sinvalid value '%s' for %s: %s", where, val, opt, why);
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

/* Everything the command line and the config file say. */
struct settings {
	struct ndl_hub_config cfg;
	struct ndl__conf *conf;       /* owns the strings cfg borrows from the file */
	const char **origins;         /* --allow-origin values, NULL-terminated */
	size_t norigins;
	const char *config;           /* --config FILE, or NULL */
	int verbosity;
	bool json_logs;
	bool test_config;
	bool no_dashboard;
};

/* True when this program runs from the build tree. */
static bool in_build_tree(void)
{
	char exe[PATH_MAX], dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return false;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return false;
	*slash = '\0';
	return realpath(NDL_BUILD_DIR, dir) && !strcmp(dir, exe);
}

static void settings_free(struct settings *st)
{
	ndl__conf_free(st->conf);
	free(st->origins);
	memset(st, 0, sizeof(*st));
}

static int parse_policy(const char *s, enum ndl_hub_lag_policy *out)
{
	if (!strcmp(s, "drop-oldest"))
		*out = NDL_HUB_LAG_DROP_OLDEST;
	else if (!strcmp(s, "disconnect"))
		*out = NDL_HUB_LAG_DISCONNECT;
	else
		return bad_value("--lag-policy", s, "expected drop-oldest or disconnect");
	return 0;
}

static int parse_rate(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e9)
		return bad_value("--kitchen-rate", s, "expected dumplings per second, 0 for none");
	*out = v;
	return 0;
}

static int add_origin(struct settings *st, const char *o)
{
	const char **v;

	if (!*o)
		return bad_value("--allow-origin", o, "empty origin");
	v = realloc(st->origins, (st->norigins + 2) * sizeof(*v));
	if (!v) {
		ndl__hub_log(NDL_HUB_LOG_ERR, "out of memory");
		return -ENOMEM;
	}
	v[st->norigins++] = o;
	v[st->norigins] = NULL;
	st->origins = v;
	return 0;
}

/* The --config value, found before parsing (the file goes first). */
static const char *find_config(int argc, char **argv)
{
	const char *path = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			path = argv[++i];
		else if (!strncmp(argv[i], "--config=", 9))
			path = argv[i] + 9;
	}
	return path;
}

/*
 * Parse the config file (when --config names one) and the command line
 * into *st. Returns 0; 1 when the program should exit 0 (--help,
 * --version); -1 on a bad option or value (already reported).
 */
static int parse_settings(struct settings *st, int argc, char **argv)
{
	char err[512], **av = argv;
	int ac = argc, opt, r;

	memset(st, 0, sizeof(*st));
	ndl_hub_config_defaults(&st->cfg);
	st->verbosity = NDL_HUB_LOG_INFO;
	st->config = find_config(argc, argv);
	st->conf = ndl__conf_new();
	if (!st->conf) {
		ndl__hub_log(NDL_HUB_LOG_ERR, "out of memory");
		return -1;
	}
	if (st->config) {
		r = ndl__conf_load(st->conf, st->config, err, sizeof(err));
		if (!r)
			r = ndl__conf_check(st->conf, long_opts, err, sizeof(err));
		if (r) {
			ndl__hub_log(NDL_HUB_LOG_ERR, "%s", err);
			return -1;
		}
	}
	if (ndl__conf_argv(st->conf, argc, argv, &ac, &av)) {
		ndl__hub_log(NDL_HUB_LOG_ERR, "out of memory");
		return -1;
	}

	opterr = 0;
	optind = 0;   /* glibc: start over, also on a reload */
	while ((opt = getopt_long(ac, av, ":a:i:o:f:qv", long_opts, NULL)) != -1) {
		const char *origin = optind > 0 && optind <= ac ?
			ndl__conf_origin(st->conf, av[optind - 1]) : NULL;
		char wbuf[300];

		snprintf(wbuf, sizeof(wbuf), "%s%s", origin ? origin : "", origin ? ": " : "");
		where = wbuf;
		r = 0;
		switch (opt) {
		case 'a':
			if (!*optarg)
				r = bad_value("--address", optarg, "empty address");
			st->cfg.address = optarg;
			break;
		case 'i': r = parse_port("--in-port", optarg, &st->cfg.in_port); break;
		case 'o': r = parse_port("--out-port", optarg, &st->cfg.out_port); break;
		case 'f':
			r = parse_seconds("--status-freq", optarg, false, &st->cfg.status_freq);
			break;
		case OPT_MAX_FRAME:
			r = parse_count("--max-frame", optarg, 64, &st->cfg.max_frame, true);
			if (!r && st->cfg.max_frame > INT32_MAX)
				r = bad_value("--max-frame", optarg, "at most 2G - 1");
			break;
		case OPT_EATER_QUEUE:
			r = parse_count("--eater-queue", optarg, 1, &st->cfg.eater_queue, false);
			break;
		case OPT_EATER_QUEUE_BYTES:
			r = parse_count("--eater-queue-bytes", optarg, 1, &st->cfg.eater_queue_bytes,
					true);
			break;
		case OPT_MAX_CLIENTS:
			r = parse_count("--max-clients", optarg, 1, &st->cfg.max_clients, false);
			break;
		case OPT_HELLO_TIMEOUT:
			r = parse_seconds("--hello-timeout", optarg, true, &st->cfg.hello_timeout);
			break;
		case OPT_BATCH_BYTES:
			r = parse_count("--batch-bytes", optarg, 1024, &st->cfg.batch_bytes, true);
			if (!r && st->cfg.batch_bytes > INT32_MAX)
				r = bad_value("--batch-bytes", optarg, "at most 2G - 1");
			break;
		case OPT_LAG_POLICY: r = parse_policy(optarg, &st->cfg.lag_policy); break;
		case OPT_MAX_PER_ADDRESS:
			r = parse_count("--max-per-address", optarg, 0, &st->cfg.max_per_address,
					false);
			break;
		case OPT_KITCHEN_RATE: r = parse_rate(optarg, &st->cfg.kitchen_rate); break;
		case OPT_KITCHEN_TOKEN_FILE: st->cfg.kitchen_token_file = optarg; break;
		case OPT_EATER_TOKEN_FILE: st->cfg.eater_token_file = optarg; break;
		case OPT_TLS_CERT: st->cfg.tls_cert = optarg; break;
		case OPT_TLS_KEY: st->cfg.tls_key = optarg; break;
		case OPT_ALLOW_ORIGIN: r = add_origin(st, optarg); break;
		case OPT_NO_METRICS: st->cfg.metrics = false; break;
		case OPT_WWW: st->cfg.www_dir = optarg; break;
		case OPT_NO_DASHBOARD: st->no_dashboard = true; break;
		case OPT_LOG_FORMAT:
			if (!strcmp(optarg, "json") || !strcmp(optarg, "text"))
				st->json_logs = !strcmp(optarg, "json");
			else
				r = bad_value("--log-format", optarg, "expected text or json");
			break;
		case OPT_CONFIG:
			if (origin) {
				ndl__hub_log(NDL_HUB_LOG_ERR, "%sa config file cannot name another",
					where);
				r = -EINVAL;
			}
			break;
		case OPT_TEST_CONFIG: st->test_config = true; break;
		case 'q': st->verbosity = NDL_HUB_LOG_ERR; break;
		case 'v': st->verbosity = NDL_HUB_LOG_DEBUG; break;
		case OPT_VERSION:
			printf("nd-hub (netdumplings-c) %s\n", NDL_VERSION);
			return 1;
		case OPT_HELP:
			usage(stdout);
			return 1;
		case ':':
			ndl__hub_log(NDL_HUB_LOG_ERR, "%soption %s needs a value", where, av[optind - 1]);
			return -1;
		default:
			if (optopt == 'h')
				ndl__hub_log(NDL_HUB_LOG_ERR, "unknown option -h (help is --help)");
			else if (optopt)
				ndl__hub_log(NDL_HUB_LOG_ERR, "unknown option -%c (see --help)", optopt);
			else
				ndl__hub_log(NDL_HUB_LOG_ERR, "%sunknown option %s (see --help)", where,
					av[optind - 1]);
			return -1;
		}
		where = "";
		if (r)
			return -1;
	}
	if (optind < ac) {
		ndl__hub_log(NDL_HUB_LOG_ERR, "unexpected argument '%s' (see --help)", av[optind]);
		return -1;
	}
	st->cfg.allow_origins = st->origins;
	if (st->no_dashboard) {
		st->cfg.www_dir = st->cfg.sdk_dir = NULL;
	} else {
		bool build = in_build_tree();

		if (!st->cfg.www_dir)
			st->cfg.www_dir = build ? NDL_BUILD_WWWDIR : NDL_INSTALLED_WWWDIR;
		st->cfg.sdk_dir = build ? NDL_BUILD_SDKDIR : NDL_INSTALLED_SDKDIR;
	}
	return 0;
}

/* --test-config: check what can be checked without listening. */
static int test_config(const struct settings *st)
{
	const struct ndl_hub_config *c = &st->cfg;
	const char *files[2] = { c->kitchen_token_file, c->eater_token_file };
	struct addrinfo hints = { 0 }, *res;
	char err[512];
	int bad = 0, r;

	for (int i = 0; i < 2; i++) {
		struct ndl_hub_tokens t = { 0 };

		if (!files[i])
			continue;
		if (ndl__hub_tokens_load(&t, files[i], err, sizeof(err)) < 0) {
			ndl__hub_log(NDL_HUB_LOG_ERR, "%s", err);
			bad = 1;
		}
		ndl__hub_tokens_clear(&t);
	}
	if (!c->tls_cert != !c->tls_key) {
		ndl__hub_log(NDL_HUB_LOG_ERR, "TLS needs both --tls-cert and --tls-key");
		bad = 1;
	}
	for (int i = 0; c->tls_cert && i < 2; i++) {
		const char *f = i ? c->tls_key : c->tls_cert;

		if (f && access(f, R_OK) < 0) {
			ndl__hub_log(NDL_HUB_LOG_ERR, "cannot read TLS %s %s: %s", i ? "key" : "certificate",
				f, strerror(errno));
			bad = 1;
		}
	}
	if (!bad && c->tls_cert && c->tls_key &&
	    ndl__hub_tls_check(c->tls_cert, c->tls_key, err, sizeof(err)) < 0) {
		ndl__hub_log(NDL_HUB_LOG_ERR, "%s", err);
		bad = 1;
	}
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(c->address, NULL, &hints, &res);
	if (r) {
		ndl__hub_log(NDL_HUB_LOG_ERR, "cannot resolve address '%s': %s", c->address,
			gai_strerror(r));
		bad = 1;
	} else {
		freeaddrinfo(res);
	}

	printf("config %s\naddress %s\nin-port %d\nout-port %d\nstatus-freq %g\n"
	       "max-frame %zu\neater-queue %zu\neater-queue-bytes %zu\nlag-policy %s\n"
	       "batch-bytes %zu\nmax-clients %zu\nmax-per-address %zu\nkitchen-rate %g\n"
	       "hello-timeout %g\nkitchen-token-file %s\neater-token-file %s\ntls %s\n"
	       "metrics %s\nlog-format %s\ndashboard %s\n",
	       st->config ? st->config : "(none)", c->address, c->in_port, c->out_port,
	       c->status_freq, c->max_frame, c->eater_queue, c->eater_queue_bytes,
	       c->lag_policy == NDL_HUB_LAG_DISCONNECT ? "disconnect" : "drop-oldest",
	       c->batch_bytes, c->max_clients, c->max_per_address, c->kitchen_rate,
	       c->hello_timeout, c->kitchen_token_file ? c->kitchen_token_file : "(none)",
	       c->eater_token_file ? c->eater_token_file : "(none)",
	       c->tls_cert ? c->tls_cert : "off", c->metrics ? "on" : "off",
	       st->json_logs ? "json" : "text", c->www_dir ? c->www_dir : "off");
	for (size_t i = 0; i < st->norigins; i++)
		printf("allow-origin %s\n", st->origins[i]);
	if (bad) {
		ndl__hub_log(NDL_HUB_LOG_ERR, "configuration has errors");
		return 1;
	}
	printf("configuration OK\n");
	return 0;
}

struct app {
	uv_loop_t loop;
	uv_signal_t sigint, sigterm, sighup;
	struct ndl_hub *hub;
	struct settings st;
	int argc;
	char **argv;
	int signalled;
};

static void hub_done(void *arg)
{
	struct app *app = arg;

	uv_close((uv_handle_t *)&app->sigint, NULL);
	uv_close((uv_handle_t *)&app->sigterm, NULL);
	uv_close((uv_handle_t *)&app->sighup, NULL);
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

/* SIGHUP: read the config file and the token files again. */
static void on_reload(uv_signal_t *s, int signum)
{
	struct app *app = s->data;
	struct settings st;
	char err[512];
	int r;

	(void)signum;
	ndl__hub_log(NDL_HUB_LOG_INFO, "SIGHUP received, reloading%s%s",
		     app->st.config ? " " : "", app->st.config ? app->st.config : "");
	r = parse_settings(&st, app->argc, app->argv);
	if (r == 0 && st.test_config)
		r = -1;
	if (r != 0) {
		ndl__hub_log(NDL_HUB_LOG_ERR, "reload failed: the settings above are wrong;"
			     " running on with the old ones");
		settings_free(&st);
		return;
	}
	r = ndl_hub_reconfigure(app->hub, &st.cfg, err, sizeof(err));
	if (r < 0) {
		ndl__hub_log(NDL_HUB_LOG_ERR, "reload failed: %s; running on with the old"
			     " settings", err);
		settings_free(&st);
		return;
	}
	/* The hub now borrows the new strings; the old ones can go. */
	settings_free(&app->st);
	app->st = st;
	ndl__hub_log_set_level(st.verbosity);
	ndl__hub_log_set_json(st.json_logs);
	ndl__hub_log(NDL_HUB_LOG_INFO, "reloaded");
}

/* "[a]" for an IPv6 address, "a" otherwise (RFC 3986 section 3.2.2). */
static const char *bracket(char *buf, size_t len, const char *addr)
{
	snprintf(buf, len, strchr(addr, ':') ? "[%s]" : "%s", addr);
	return buf;
}

static void print_listening(const struct ndl_hub *hub, bool tls, bool json)
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
	if (json)
		ndl__hub_log(NDL_HUB_LOG_INFO, "listening for kitchens on %s:%d and eaters on"
			     " %s:%d%s%s", first, ndl_hub_in_port(hub), first,
			     ndl_hub_out_port(hub), also, tls ? " (TLS)" : "");
	else if (ndl__hub_log_level() >= NDL_HUB_LOG_INFO)
		fprintf(stderr, "nd-hub listening for kitchens on %s:%d and eaters on %s:%d%s%s\n",
			first, ndl_hub_in_port(hub), first, ndl_hub_out_port(hub), also,
			tls ? " (TLS)" : "");
}

int main(int argc, char **argv)
{
	struct app app;
	char err[512];
	int ret = 0, r;

	memset(&app, 0, sizeof(app));
	app.argc = argc;
	app.argv = argv;
	r = parse_settings(&app.st, argc, argv);
	if (r) {
		settings_free(&app.st);
		return r > 0 ? 0 : 2;
	}
	if (app.st.test_config) {
		ret = test_config(&app.st);
		settings_free(&app.st);
		return ret;
	}
	ndl__hub_log_set_level(app.st.verbosity);
	ndl__hub_log_set_json(app.st.json_logs);

	/* A peer vanishing mid-write must be an EPIPE, not our death. */
	signal(SIGPIPE, SIG_IGN);

	r = uv_loop_init(&app.loop);
	if (r) {
		fprintf(stderr, "hub error: cannot start the event loop: %s\n", uv_strerror(r));
		settings_free(&app.st);
		return 1;
	}
	uv_signal_init(&app.loop, &app.sigint);
	uv_signal_init(&app.loop, &app.sigterm);
	uv_signal_init(&app.loop, &app.sighup);
	app.sigint.data = app.sigterm.data = app.sighup.data = &app;

	app.hub = ndl_hub_new(&app.loop, &app.st.cfg);
	if (!app.hub) {
		fprintf(stderr, "hub error: out of memory\n");
		hub_done(&app);
		uv_run(&app.loop, UV_RUN_DEFAULT);
		uv_loop_close(&app.loop);
		settings_free(&app.st);
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
		uv_signal_start(&app.sighup, on_reload, SIGHUP);
		print_listening(app.hub, app.st.cfg.tls_cert != NULL, app.st.json_logs);
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
	settings_free(&app.st);
	return ret;
}
