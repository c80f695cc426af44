/* SPDX-License-Identifier: MIT */
/*
 * main.c - nd-sniff, the kitchen: capture packets (live or from a file),
 * hand them to chefs, send their dumplings to the hub (or to stdout).
 *
 * Command-line compatible with netdumplings 0.5.1's nd-sniff; see --help.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <uv.h>
#include <ndl/names.h>
#include <ndl/wire.h>
#include "capture.h"
#include "decode.h"
#include "envelope.h"
#include "hub_client.h"
#include "kitchen.h"

#define MAX_LIST 64

enum exit_status {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
};

struct args {
	const char *kitchen_name;
	const char *hub;
	const char *ifaces[NDL__CAPTURE_MAX_IFACES];
	size_t n_ifaces;
	const char *filter;
	const char *chefs[MAX_LIST];
	size_t n_chefs;
	const char *modules[MAX_LIST];
	size_t n_modules;
	const char *chef_paths[MAX_LIST];
	size_t n_chef_paths;
	const char *options[MAX_LIST];
	size_t n_options;
	bool list;
	double poke;
	const char *read_file;
	bool realtime;
	bool to_stdout;
	int snaplen;
	int buffer_size;
	bool promisc;
	size_t outbox_count;
	size_t outbox_bytes;
	int hub_eater_port;     /* -1: the hub port + 1 */
	bool capture_hub_traffic;
	bool no_reconnect;
	double reconnect_max;   /* seconds */
	double drain_timeout;   /* seconds */
	int verbosity;          /* -1 quiet, 0 default, 1 verbose, 2 debug */
};

struct app {
	struct args a;
	uv_loop_t loop;
	struct ndl_kitchen *k;
	struct ndl__capture *cap;
	struct ndl__hub_client *hub;
	char hub_host[256];
	int hub_port;
	char hub_name[300];      /* HOST:PORT or [V6]:PORT, for messages */
	uv_signal_t sigint, sigterm;
	uv_timer_t stop_timer;
	uv_timer_t drain_timer;  /* bounds the wait for the outbox at the end */
	bool stopping;           /* a stop is under way */
	bool stop_graceful;
	int exit_code;
	bool capture_started;
	bool capture_done;       /* the replay reached its end */
	bool closing_hub;        /* we asked the hub link to close */
	bool finished;
	uint64_t stdout_written;
	bool stdout_failed;
	struct ndl__capture_stats cstats;   /* taken when capture stops */
};

static int verbosity;

static void say(enum ndl_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(enum ndl_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[2048];
	va_list ap;

	if ((int)level > verbosity + 1 && level != NDL_LOG_ERROR)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "nd-sniff: %s%s%s\n", level == NDL_LOG_INFO ? "" : names[level],
		level == NDL_LOG_INFO ? "" : ": ", line);
}

static void log_line(void *arg, enum ndl_log_level level, const char *line)
{
	(void)arg;
	if (level > NDL_LOG_DEBUG)
		level = NDL_LOG_DEBUG;
	say(level, "%s", line);
}

static void hub_log_line(void *arg, int level, const char *line)
{
	(void)arg;
	/* libwebsockets levels: the hub client logs LLL_ERR and LLL_WARN */
	say(level == LLL_WARN ? NDL_LOG_WARN : NDL_LOG_ERROR, "%s", line);
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nd-sniff: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'nd-sniff --help' for more information.\n");
	exit(EXIT_USAGE);
}

static void print_help(void)
{
	printf(
"Usage: nd-sniff [OPTION]...\n"
"Capture packets, hand them to chefs and send the dumplings they make to a\n"
"netdumplings hub.\n"
"\n"
"Where packets come from:\n"
"  -i, --interface IFACE   capture live on IFACE; repeat for several. 'all'\n"
"                          (the default) and 'any' capture on every interface\n"
"                          through the Linux 'any' device\n"
"  -r, --read FILE         replay a pcap or pcapng file instead, as fast as the\n"
"                          hub takes the dumplings; exit when it is done\n"
"      --realtime          replay at the pace of the capture timestamps\n"
"  -f, --filter EXPR       pcap filter (default \"%s\"); \"\" for all\n"
"      --snaplen BYTES     bytes captured per packet (default %d)\n"
"      --buffer-size BYTES kernel capture buffer (default: libpcap's)\n"
"      --promisc           put interfaces in promiscuous mode (default off)\n"
"\n"
"Chefs:\n"
"  -c, --chef NAME         run chef NAME (or MODULE.NAME); repeat for several;\n"
"                          default: every chef found except the opt-in ones\n"
"                          (per-packet firehoses; -l marks them)\n"
"  -m, --chef-module FILE  load the chef module FILE.so; repeat for several;\n"
"                          when given, the default chef folder is not searched\n"
"      --chef-path DIR     search DIR (and its subfolders) for chef modules,\n"
"                          before the default folder; repeatable\n"
"  -l, --chef-list         list the chefs found (name, version, module, what it\n"
"                          does) and exit\n"
"  -o, --option CHEF.KEY=VALUE\n"
"                          set a chef option; repeatable\n"
"  -p, --poke-interval SECONDS\n"
"                          run the chefs' interval handlers this often\n"
"                          (default %.1f); in a replay, in capture time\n"
"\n"
"Where dumplings go:\n"
"  -n, --kitchen-name NAME name of this kitchen (default %s)\n"
"  -h, --hub HOST:PORT     the hub's kitchen port (default %s:%d); HOST may be\n"
"                          a name, an IPv4 address or [an IPv6 address]\n"
"      --stdout            write each dumpling as one JSON line to standard\n"
"                          output instead of sending it to a hub\n"
"      --outbox-max COUNT  most dumplings waiting for the hub (default %u); live\n"
"                          capture drops (and counts) what does not fit, a\n"
"                          replay waits\n"
"      --outbox-bytes BYTES\n"
"                          most bytes waiting for the hub (default %u)\n"
"      --no-reconnect      exit 1 when the hub cannot be reached or the\n"
"                          connection drops; by default the kitchen keeps\n"
"                          capturing into the outbox and reconnects\n"
"      --reconnect-max SECONDS\n"
"                          longest wait between reconnect attempts (default\n"
"                          5); the wait starts at 0.1 s and doubles, with jitter\n"
"      --drain-timeout SECONDS\n"
"                          at the end, wait this long for the outbox to reach\n"
"                          the hub (default 10); exit 1 if some never did\n"
"      --hub-eater-port PORT\n"
"                          the hub's eater port (default: the hub port + 1)\n"
"      --capture-hub-traffic\n"
"                          also capture the hub's own traffic; by default live\n"
"                          capture leaves out TCP to and from the hub's\n"
"                          addresses on its kitchen and eater ports, so that\n"
"                          dumplings about dumplings cannot feed on themselves\n"
"\n"
"Other:\n"
"  -q, --quiet             print errors only, no statistics at exit\n"
"  -v, --verbose           say more; twice for debugging output\n"
"      --version           print the version and exit\n"
"      --help              print this help and exit (-h is --hub)\n"
"\n"
"Live capture needs root or the capabilities CAP_NET_RAW and CAP_NET_ADMIN.\n"
"Exit status: 0 success, 1 failure, 2 bad command line.\n",
	NDL_KITCHEN_DEFAULT_FILTER, NDL__CAPTURE_DEFAULT_SNAPLEN, NDL_KITCHEN_DEFAULT_POKE,
	NDL_KITCHEN_DEFAULT_NAME, NDL_HUB_DEFAULT_ADDRESS, NDL_HUB_DEFAULT_IN_PORT,
	NDL__OUTBOX_DEFAULT_COUNT, NDL__OUTBOX_DEFAULT_BYTES);
}

static long long parse_int(const char *opt, const char *s, long long min, long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end || errno || v < min || v > max)
		usage_error("%s expects an integer in [%lld, %lld], got \"%s\"", opt, min, max, s);
	return v;
}

static void add_to(const char **list, size_t *n, size_t max, const char *opt, const char *v)
{
	if (*n >= max)
		usage_error("%s given more than %zu times", opt, max);
	list[(*n)++] = v;
}

/* Split HOST:PORT, [V6]:PORT, HOST or V6 into out. Returns 0 or -EINVAL. */
static int parse_hub(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon;
	size_t hl;

	*port = NDL_HUB_DEFAULT_IN_PORT;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close == s + 1)
			return -EINVAL;
		hl = (size_t)(close - s - 1);
		if (hl >= hostlen)
			return -EINVAL;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (close[1] == '\0')
			return 0;
		if (close[1] != ':')
			return -EINVAL;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon) {
			/* several colons, no brackets: an IPv6 address alone */
			if (strlen(s) >= hostlen)
				return -EINVAL;
			snprintf(host, hostlen, "%s", s);
			return 0;
		}
		hl = colon ? (size_t)(colon - s) : strlen(s);
		if (hl >= hostlen)
			return -EINVAL;
		memcpy(host, s, hl);
		host[hl] = '\0';
		if (!host[0])
			snprintf(host, hostlen, "%s", NDL_HUB_DEFAULT_ADDRESS);
		if (!colon)
			return 0;
	}
	{
		char *end;
		long v;
		errno = 0;
		v = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || *end || errno || v < 1 || v > 65535)
			return -EINVAL;
		*port = (int)v;
	}
	return 0;
}

enum long_only {
	OPT_CHEF_PATH = 256,
	OPT_REALTIME,
	OPT_STDOUT,
	OPT_SNAPLEN,
	OPT_BUFFER_SIZE,
	OPT_PROMISC,
	OPT_VERSION,
	OPT_HELP,
	OPT_OUTBOX_MAX,
	OPT_OUTBOX_BYTES,
	OPT_HUB_EATER_PORT,
	OPT_CAPTURE_HUB_TRAFFIC,
	OPT_NO_RECONNECT,
	OPT_RECONNECT_MAX,
	OPT_DRAIN_TIMEOUT,
};

static double parse_seconds(const char *opt, const char *s, double min, double max)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !(v >= min && v <= max))
		usage_error("%s expects seconds in [%g, %g], got \"%s\"", opt, min, max, s);
	return v;
}

static void parse_args(struct args *a, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "kitchen-name", required_argument, NULL, 'n' },
		{ "hub", required_argument, NULL, 'h' },
		{ "interface", required_argument, NULL, 'i' },
		{ "filter", required_argument, NULL, 'f' },
		{ "chef", required_argument, NULL, 'c' },
		{ "chef-module", required_argument, NULL, 'm' },
		{ "chef-path", required_argument, NULL, OPT_CHEF_PATH },
		{ "chef-list", no_argument, NULL, 'l' },
		{ "poke-interval", required_argument, NULL, 'p' },
		{ "read", required_argument, NULL, 'r' },
		{ "realtime", no_argument, NULL, OPT_REALTIME },
		{ "stdout", no_argument, NULL, OPT_STDOUT },
		{ "option", required_argument, NULL, 'o' },
		{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
		{ "buffer-size", required_argument, NULL, OPT_BUFFER_SIZE },
		{ "promisc", no_argument, NULL, OPT_PROMISC },
		{ "outbox-max", required_argument, NULL, OPT_OUTBOX_MAX },
		{ "outbox-bytes", required_argument, NULL, OPT_OUTBOX_BYTES },
		{ "hub-eater-port", required_argument, NULL, OPT_HUB_EATER_PORT },
		{ "capture-hub-traffic", no_argument, NULL, OPT_CAPTURE_HUB_TRAFFIC },
		{ "no-reconnect", no_argument, NULL, OPT_NO_RECONNECT },
		{ "reconnect-max", required_argument, NULL, OPT_RECONNECT_MAX },
		{ "drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	a->kitchen_name = NDL_KITCHEN_DEFAULT_NAME;
	a->hub = NULL;
	a->filter = NDL_KITCHEN_DEFAULT_FILTER;
	a->hub_eater_port = -1;
	a->reconnect_max = 5.0;
	a->drain_timeout = 10.0;
	a->poke = NDL_KITCHEN_DEFAULT_POKE;
	a->snaplen = NDL__CAPTURE_DEFAULT_SNAPLEN;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:h:i:f:c:m:lp:r:o:qv", longs, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!*optarg)
				usage_error("--kitchen-name must not be empty");
			a->kitchen_name = optarg;
			break;
		case 'h': a->hub = optarg; break;
		case 'i': add_to(a->ifaces, &a->n_ifaces, NDL__CAPTURE_MAX_IFACES, "-i", optarg); break;
		case 'f': a->filter = optarg; break;
		case 'c': add_to(a->chefs, &a->n_chefs, MAX_LIST, "-c", optarg); break;
		case 'm': add_to(a->modules, &a->n_modules, MAX_LIST, "-m", optarg); break;
		case OPT_CHEF_PATH:
			add_to(a->chef_paths, &a->n_chef_paths, MAX_LIST, "--chef-path", optarg);
			break;
		case 'l': a->list = true; break;
		case 'p': {
			char *end;
			errno = 0;
			a->poke = strtod(optarg, &end);
			if (end == optarg || *end || errno || !isfinite(a->poke) || a->poke < 0.001 ||
			    a->poke > 86400.0)
				usage_error("--poke-interval expects seconds between 0.001 and 86400, "
					    "got \"%s\"", optarg);
			break;
		}
		case 'r': a->read_file = optarg; break;
		case OPT_REALTIME: a->realtime = true; break;
		case OPT_STDOUT: a->to_stdout = true; break;
		case 'o': add_to(a->options, &a->n_options, MAX_LIST, "-o", optarg); break;
		case OPT_SNAPLEN: a->snaplen = (int)parse_int("--snaplen", optarg, 64, 262144); break;
		case OPT_BUFFER_SIZE:
			a->buffer_size = (int)parse_int("--buffer-size", optarg, 0, INT_MAX);
			break;
		case OPT_PROMISC: a->promisc = true; break;
		case OPT_OUTBOX_MAX:
			a->outbox_count = (size_t)parse_int("--outbox-max", optarg, 16, 1LL << 24);
			break;
		case OPT_OUTBOX_BYTES:
			a->outbox_bytes = (size_t)parse_int("--outbox-bytes", optarg, 1 << 20, 1LL << 34);
			break;
		case OPT_HUB_EATER_PORT:
			a->hub_eater_port = (int)parse_int("--hub-eater-port", optarg, 0, 65535);
			break;
		case OPT_CAPTURE_HUB_TRAFFIC: a->capture_hub_traffic = true; break;
		case OPT_NO_RECONNECT: a->no_reconnect = true; break;
		case OPT_RECONNECT_MAX:
			a->reconnect_max = parse_seconds("--reconnect-max", optarg, 0.1, 3600);
			break;
		case OPT_DRAIN_TIMEOUT:
			a->drain_timeout = parse_seconds("--drain-timeout", optarg, 0, 86400);
			break;
		case 'q': a->verbosity = -1; break;
		case 'v': if (a->verbosity >= 0) a->verbosity++; break;
		case OPT_VERSION:
			printf("nd-sniff (netdumplings-c) %s, chef ABI %d.%d\n", NDL_VERSION,
			       NDL_CHEF_ABI_MAJOR, NDL_CHEF_ABI_MINOR);
			exit(EXIT_OK);
		case OPT_HELP:
			print_help();
			exit(EXIT_OK);
		case ':':
			usage_error("option %s needs a value", argv[optind - 1]);
		default:
			if (optopt && optopt < 256)
				usage_error("unknown option -%c", optopt);
			usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument \"%s\"", argv[optind]);
	if (a->read_file && a->n_ifaces)
		usage_error("-r/--read and -i/--interface cannot be used together");
	if (a->realtime && !a->read_file)
		usage_error("--realtime only applies to -r/--read");
	if (a->to_stdout && a->hub)
		usage_error("--stdout and -h/--hub cannot be used together");
}

/* ------------------------------------------------------------------------ */
/* Chefs                                                                     */
/* ------------------------------------------------------------------------ */

/* The folder chefs are searched in by default: the build tree's when this
 * program runs from the build tree, else the installed one. */
static const char *default_chef_dir(void)
{
	char exe[PATH_MAX], dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if (realpath(NDL_BUILD_DIR, dir) && strcmp(dir, exe) == 0)
				return NDL_BUILD_CHEFDIR;
		}
	}
	return NDL_INSTALLED_CHEFDIR;
}

static void warn_cb(void *arg, const char *msg)
{
	(void)arg;
	say(NDL_LOG_WARN, "%s", msg);
}

static int load_catalog(const struct args *a, struct ndl_chef_catalog *cat)
{
	char err[1024];
	int r;

	for (size_t i = 0; i < a->n_modules; i++) {
		r = ndl__chef_catalog_add(cat, a->modules[i], err, sizeof(err));
		if (r < 0) {
			say(NDL_LOG_ERROR, "cannot load chef module %s", err);
			return r;
		}
	}
	for (size_t i = 0; i < a->n_chef_paths; i++) {
		r = ndl__chef_catalog_scan(cat, a->chef_paths[i], warn_cb, NULL);
		if (r < 0) {
			say(NDL_LOG_ERROR, "cannot read chef folder %s: %s", a->chef_paths[i],
			    strerror(-r));
			return r;
		}
	}
	if (a->n_modules == 0) {
		const char *dir = default_chef_dir();
		r = ndl__chef_catalog_scan(cat, dir, warn_cb, NULL);
		if (r < 0 && cat->n == 0)
			say(NDL_LOG_WARN, "cannot read the chef folder %s: %s", dir, strerror(-r));
	}
	return 0;
}

static void list_chefs(const struct ndl_chef_catalog *cat)
{
	for (size_t i = 0; i < cat->n; i++) {
		const struct ndl_chef_module *m = cat->modules[i];
		printf("%-20s %-8s %s  %s%s\n", m->desc->name, m->desc->version, m->path,
		       m->desc->description,
		       ndl__chef_flags(m->desc) & NDL_CHEF_F_OPT_IN ? " (opt-in: runs only with -c)" : "");
		for (size_t j = 0; m->desc->options && m->desc->options[j].key; j++) {
			const struct ndl_chef_option *o = &m->desc->options[j];
			printf("    -o %s.%s=%s  %s\n", m->desc->name, o->key,
			       o->default_value ? o->default_value : "", o->help ? o->help : "");
		}
	}
}

/*
 * The filter live capture uses: the user's, minus the hub's own traffic
 * (TCP between any of the hub's addresses and its kitchen or eater port),
 * unless --capture-hub-traffic. Without this, capturing on the interface
 * that carries the hub connection (lo, any) makes every dumpling sent to the
 * hub, or forwarded by it to a local eater, a packet that chefs turn into
 * further dumplings. Writes into out; returns out.
 */
static const char *capture_filter(const struct app *app, char *out, size_t outlen)
{
	const char *user = app->a.filter ? app->a.filter : "";
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	char hosts[1024] = "";
	size_t used = 0;
	int eater_port = app->a.hub_eater_port >= 0 ? app->a.hub_eater_port : app->hub_port + 1;

	snprintf(out, outlen, "%s", user);
	if (app->a.read_file || app->a.to_stdout || app->a.capture_hub_traffic)
		return out;
	if (getaddrinfo(app->hub_host, NULL, &hints, &res) != 0)
		return out;   /* connecting will say what is wrong */
	for (struct addrinfo *ai = res; ai && used < sizeof(hosts); ai = ai->ai_next) {
		char addr[INET6_ADDRSTRLEN];
		const void *a = ai->ai_family == AF_INET6
			? (const void *)&((struct sockaddr_in6 *)(void *)ai->ai_addr)->sin6_addr
			: (const void *)&((struct sockaddr_in *)(void *)ai->ai_addr)->sin_addr;

		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    !inet_ntop(ai->ai_family, a, addr, sizeof(addr)) || strstr(hosts, addr))
			continue;
		used += (size_t)snprintf(hosts + used, sizeof(hosts) - used, "%shost %s",
					 used ? " or " : "", addr);
	}
	freeaddrinfo(res);
	if (!hosts[0] || used >= sizeof(hosts))
		return out;
	if (eater_port > 0 && eater_port <= 65535 && eater_port != app->hub_port)
		snprintf(out, outlen, "%s%s%snot (tcp and (%s) and (port %d or port %d))",
			 user[0] ? "(" : "", user, user[0] ? ") and " : "", hosts,
			 app->hub_port, eater_port);
	else
		snprintf(out, outlen, "%s%s%snot (tcp and (%s) and port %d)",
			 user[0] ? "(" : "", user, user[0] ? ") and " : "", hosts, app->hub_port);
	return out;
}

static const struct ndl_chef_module *find_chef(const struct ndl_chef_catalog *cat,
					       const char *want)
{
	const char *dot = strchr(want, '.');

	for (size_t i = 0; i < cat->n; i++) {
		const struct ndl_chef_module *m = cat->modules[i];
		if (!dot && strcmp(m->desc->name, want) == 0)
			return m;
		if (dot && strlen(m->module) == (size_t)(dot - want) &&
		    strncmp(m->module, want, (size_t)(dot - want)) == 0 &&
		    strcmp(m->desc->name, dot + 1) == 0)
			return m;
	}
	return NULL;
}

static void chef_names(const struct ndl_chef_catalog *cat, char *out, size_t outlen)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < cat->n && used < outlen; i++)
		used += (size_t)snprintf(out + used, outlen - used, "%s%s", i ? ", " : "",
					 cat->modules[i]->desc->name);
	if (!out[0])
		snprintf(out, outlen, "none");
}

/* ------------------------------------------------------------------------ */
/* Sinks                                                                     */
/* ------------------------------------------------------------------------ */

static void request_stop(struct app *app, int code, bool graceful);

static int stdout_write(void *arg, const char *json, size_t len, enum ndl_driver driver)
{
	struct app *app = arg;

	(void)driver;
	if (app->stdout_failed)
		return -EIO;
	if (fwrite(json, 1, len, stdout) != len || putchar('\n') == EOF) {
		app->stdout_failed = true;
		say(NDL_LOG_ERROR, "cannot write to standard output: %s", strerror(errno));
		request_stop(app, EXIT_FAIL, false);
		return -EIO;
	}
	app->stdout_written++;
	return 0;
}

static int hub_write(void *arg, const char *json, size_t len, enum ndl_driver driver)
{
	struct app *app = arg;
	int r;

	(void)driver;
	if (!app->hub)
		return -ENOBUFS;
	r = ndl__hub_client_send(app->hub, json, len);
	return r == -ENOTCONN ? -ENOBUFS : r;
}

/* ------------------------------------------------------------------------ */
/* Life cycle                                                                */
/* ------------------------------------------------------------------------ */

static void finish(struct app *app)
{
	if (app->finished)
		return;
	app->finished = true;
	if (!uv_is_closing((uv_handle_t *)&app->sigint))
		uv_close((uv_handle_t *)&app->sigint, NULL);
	if (!uv_is_closing((uv_handle_t *)&app->sigterm))
		uv_close((uv_handle_t *)&app->sigterm, NULL);
	if (!uv_is_closing((uv_handle_t *)&app->stop_timer))
		uv_close((uv_handle_t *)&app->stop_timer, NULL);
	if (!uv_is_closing((uv_handle_t *)&app->drain_timer))
		uv_close((uv_handle_t *)&app->drain_timer, NULL);
	if (app->cap)
		ndl__capture_stats(app->cap, &app->cstats);
	ndl__capture_close(app->cap);
	app->cap = NULL;
	ndl__hub_client_shutdown(app->hub);
}

static void on_drain_timeout(uv_timer_t *t)
{
	struct app *app = t->data;
	struct ndl__hub_client_stats hs;

	ndl__hub_client_stats(app->hub, &hs);
	say(NDL_LOG_ERROR, "the hub at %s %s within %g s: %zu dumplings lost", app->hub_name,
	    hs.connected ? "did not take every dumpling" : "did not come back",
	    app->a.drain_timeout, hs.queued);
	app->exit_code = EXIT_FAIL;
	finish(app);
}

static void on_stop_timer(uv_timer_t *t)
{
	struct app *app = t->data;

	if (app->cap) {
		ndl__capture_stats(app->cap, &app->cstats);
		ndl__capture_close(app->cap);
		app->cap = NULL;
		if (app->stop_graceful && app->capture_started) {
			/* the chefs' last word: intervals once more */
			ndl__kitchen_interval(app->k);
		}
	}
	if (app->a.to_stdout || !app->hub) {
		fflush(stdout);
		finish(app);
		return;
	}
	if (app->stop_graceful && !app->closing_hub) {
		app->closing_hub = true;
		ndl__hub_client_close(app->hub);
		uv_timer_start(&app->drain_timer, on_drain_timeout,
			       (uint64_t)llround(app->a.drain_timeout * 1000.0), 0);
		return;    /* on_hub_closed (or the drain timeout) finishes */
	}
	if (!app->stop_graceful)
		finish(app);
}

/* Ask the loop to stop: graceful flushes and closes the hub link properly. */
static void request_stop(struct app *app, int code, bool graceful)
{
	if (code > app->exit_code)
		app->exit_code = code;
	if (app->stopping) {
		if (!graceful && app->stop_graceful) {
			app->stop_graceful = false;
			uv_timer_start(&app->stop_timer, on_stop_timer, 0, 0);
		}
		return;
	}
	app->stopping = true;
	app->stop_graceful = graceful;
	uv_timer_start(&app->stop_timer, on_stop_timer, 0, 0);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct app *app = s->data;

	if (app->stopping) {
		say(NDL_LOG_WARN, "second signal: stopping without flushing");
		request_stop(app, app->exit_code, false);
		return;
	}
	say(NDL_LOG_INFO, "%s: stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
	request_stop(app, EXIT_OK, true);
}

static bool should_pause(void *arg)
{
	struct app *app = arg;

	return app->hub && ndl__hub_client_above_high_water(app->hub);
}

static void on_capture_end(void *arg, int status)
{
	struct app *app = arg;

	if (status == 0)
		app->capture_done = true;
	request_stop(app, status < 0 ? EXIT_FAIL : EXIT_OK, true);
}

static void capture_log(void *arg, enum ndl_log_level level, const char *line)
{
	log_line(arg, level, line);
}

static void start_capture(struct app *app)
{
	if (app->capture_started || app->stopping)
		return;
	if (ndl__capture_start(app->cap) < 0) {
		request_stop(app, EXIT_FAIL, false);
		return;
	}
	app->capture_started = true;
}

static void on_hub_open(void *arg)
{
	struct app *app = arg;

	say(NDL_LOG_INFO, "connected to the hub at %s", app->hub_name);
	start_capture(app);
}

static void on_hub_drain(void *arg)
{
	struct app *app = arg;

	ndl__capture_resume(app->cap);
}

static void on_hub_closed(void *arg, int code, const char *reason, bool by_us)
{
	struct app *app = arg;
	struct ndl__hub_client_stats hs;

	ndl__hub_client_stats(app->hub, &hs);
	if (code == 0) {
		say(NDL_LOG_ERROR, "cannot connect to hub at %s: %s", app->hub_name, reason);
		request_stop(app, EXIT_FAIL, false);
	} else if (by_us) {
		say(NDL_LOG_INFO, "closed the connection to the hub");
		if (hs.queued)
			request_stop(app, EXIT_FAIL, false);
	} else if (app->closing_hub && app->capture_done && hs.queued == 0) {
		say(NDL_LOG_INFO, "the hub closed the connection (%d%s%s) after the replay",
		    code, reason[0] ? ": " : "", reason);
	} else {
		say(NDL_LOG_ERROR, "the hub at %s closed the connection: code %d%s%s",
		    app->hub_name, code, reason[0] ? ", reason: " : "", reason);
		app->exit_code = EXIT_FAIL;
		request_stop(app, EXIT_FAIL, false);
	}
	finish(app);
}

static char *make_hello(const struct app *app, const char *iface)
{
	json_t *hello = json_object(), *chefs = json_array();
	char *s = NULL;

	if (!hello || !chefs)
		goto free_json;
	for (size_t i = 0; i < ndl__kitchen_chef_count(app->k); i++) {
		char name[256];
		snprintf(name, sizeof(name), "%s.%s", ndl__kitchen_chef_module(app->k, i),
			 ndl__kitchen_chef(app->k, i)->name);
		json_array_append_new(chefs, json_string(name));
	}
	json_object_set_new(hello, "kitchen_name", json_string(app->a.kitchen_name));
	json_object_set_new(hello, "interface", json_string(iface));
	json_object_set_new(hello, "filter", json_string(app->a.filter));
	json_object_set(hello, "chefs", chefs);
	json_object_set_new(hello, "poke_interval", json_real(app->a.poke));
	s = ndl_json_compact(hello);
free_json:
	json_decref(chefs);
	json_decref(hello);
	return s;
}

/* ------------------------------------------------------------------------ */
/* Statistics                                                                */
/* ------------------------------------------------------------------------ */

static void print_counter(void *arg, const char *chef, const char *counter, uint64_t value)
{
	(void)arg;
	fprintf(stderr, "nd-sniff:   %s.%s: %llu\n", chef, counter, (unsigned long long)value);
}

static void print_stats(struct app *app)
{
	const struct ndl_kitchen_stats *st = ndl__kitchen_stats(app->k);
	struct ndl__hub_client_stats hs = { 0 };
	uint64_t sent = app->stdout_written;
	bool any = false;

	if (app->hub) {
		ndl__hub_client_stats(app->hub, &hs);
		sent = hs.sent;
	}
	fprintf(stderr, "nd-sniff: %llu packets (%llu bytes), %llu dumplings %s, %llu dropped",
		(unsigned long long)st->packets, (unsigned long long)st->bytes,
		(unsigned long long)sent, app->hub ? "sent" : "written",
		(unsigned long long)st->dumplings_dropped);
	if (hs.queued)
		fprintf(stderr, ", %zu never sent", hs.queued);
	if (hs.reconnects || hs.refused_away)
		fprintf(stderr, ", %llu reconnects, %llu dropped while the hub was away",
			(unsigned long long)hs.reconnects, (unsigned long long)hs.refused_away);
	if (app->cstats.kernel_drops)
		fprintf(stderr, ", %llu packets dropped by the kernel",
			(unsigned long long)app->cstats.kernel_drops);
	fprintf(stderr, "\n");
	for (unsigned int e = 1; e < NDL_DECODE_ERROR_COUNT; e++) {
		if (!st->decode_errors[e])
			continue;
		fprintf(stderr, "%s %s %llu", any ? "," : "nd-sniff: decode errors:",
			ndl_decode_error_name(e), (unsigned long long)st->decode_errors[e]);
		any = true;
	}
	if (any)
		fprintf(stderr, "\n");
	any = false;
	for (unsigned int e = 1; e < NDL_DNS_ERROR_COUNT; e++) {
		if (!st->dns_errors[e])
			continue;
		fprintf(stderr, "%s %s %llu", any ? "," : "nd-sniff: DNS errors:",
			ndl_dns_error_name(e), (unsigned long long)st->dns_errors[e]);
		any = true;
	}
	if (any)
		fprintf(stderr, "\n");
	any = false;
	for (unsigned int e = 1; e < NDL_HTTP_ERROR_COUNT; e++) {
		if (!st->http_errors[e])
			continue;
		fprintf(stderr, "%s %s %llu", any ? "," : "nd-sniff: HTTP errors:",
			ndl_http_error_name(e), (unsigned long long)st->http_errors[e]);
		any = true;
	}
	if (any)
		fprintf(stderr, "\n");
	any = false;
	for (unsigned int e = 1; e < NDL_TLS_ERROR_COUNT; e++) {
		if (!st->tls_errors[e])
			continue;
		fprintf(stderr, "%s %s %llu", any ? "," : "nd-sniff: TLS errors:",
			ndl_tls_error_name(e), (unsigned long long)st->tls_errors[e]);
		any = true;
	}
	if (any)
		fprintf(stderr, "\n");
	for (size_t i = 0; i < ndl__kitchen_chef_count(app->k); i++) {
		struct ndl_kitchen_chef_stats cs;
		ndl__kitchen_chef_stats(app->k, i, &cs);
		fprintf(stderr, "nd-sniff: chef %s: %llu dumplings, %llu dropped (%llu malformed)%s\n",
			ndl__kitchen_chef(app->k, i)->name, (unsigned long long)cs.dumplings,
			(unsigned long long)cs.dropped, (unsigned long long)cs.malformed,
			cs.disabled ? ", disabled" : "");
	}
	ndl__kitchen_foreach_chef_counter(app->k, print_counter, NULL);
}

/* ------------------------------------------------------------------------ */

static void close_leftover(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

int main(int argc, char **argv)
{
	struct app app;
	struct ndl_chef_catalog cat = { 0 };
	struct ndl__capture_config ccfg;
	struct ndl__capture_callbacks ccb;
	struct ndl_sink sink;
	char err[1024], iface[1024], filter[2048];
	char *hello = NULL;
	int r, status = EXIT_FAIL;

	memset(&app, 0, sizeof(app));
	parse_args(&app.a, argc, argv);
	verbosity = app.a.verbosity;
	signal(SIGPIPE, SIG_IGN);
	if (!app.a.to_stdout &&
	    parse_hub(app.a.hub ? app.a.hub : NDL_HUB_DEFAULT_ADDRESS, app.hub_host,
		      sizeof(app.hub_host), &app.hub_port) < 0)
		usage_error("--hub expects HOST:PORT or [IPV6]:PORT, got \"%s\"", app.a.hub);

	snprintf(app.hub_name, sizeof(app.hub_name), strchr(app.hub_host, ':') ? "[%s]:%d" : "%s:%d",
		 app.hub_host, app.hub_port);
	if (load_catalog(&app.a, &cat) < 0)
		goto free_catalog;
	if (app.a.list) {
		list_chefs(&cat);
		status = EXIT_OK;
		goto free_catalog;
	}

	sink.write = app.a.to_stdout ? stdout_write : hub_write;
	sink.arg = &app;
	app.k = ndl__kitchen_new(app.a.kitchen_name, sink);
	if (!app.k) {
		say(NDL_LOG_ERROR, "cannot create the kitchen: %s", strerror(errno));
		goto free_catalog;
	}
	ndl__kitchen_set_log(app.k, log_line, &app);
	for (size_t i = 0; i < app.a.n_options; i++) {
		if (ndl__kitchen_set_option(app.k, app.a.options[i], err, sizeof(err)) < 0) {
			say(NDL_LOG_ERROR, "%s", err);
			status = EXIT_USAGE;
			goto free_kitchen;
		}
	}
	if (app.a.n_chefs) {
		for (size_t i = 0; i < app.a.n_chefs; i++) {
			const struct ndl_chef_module *m = find_chef(&cat, app.a.chefs[i]);
			if (!m) {
				char names[1024];
				chef_names(&cat, names, sizeof(names));
				say(NDL_LOG_ERROR, "unknown chef \"%s\" (available: %s)",
				    app.a.chefs[i], names);
				goto free_kitchen;
			}
			if (ndl__kitchen_add_chef(app.k, m, err, sizeof(err)) < 0) {
				say(NDL_LOG_ERROR, "%s", err);
				goto free_kitchen;
			}
		}
	} else {
		for (size_t i = 0; i < cat.n; i++) {
			if (ndl__chef_flags(cat.modules[i]->desc) & NDL_CHEF_F_OPT_IN)
				continue;
			if (ndl__kitchen_add_chef(app.k, cat.modules[i], err, sizeof(err)) < 0) {
				say(NDL_LOG_ERROR, "%s", err);
				goto free_kitchen;
			}
		}
	}
	if (ndl__kitchen_chef_count(app.k) == 0) {
		say(NDL_LOG_ERROR, "no usable chef found (searched %s%s); see --chef-path and -m",
		    app.a.n_modules ? "the modules given with -m" : default_chef_dir(),
		    app.a.n_chef_paths ? " and --chef-path" : "");
		goto free_kitchen;
	}
	if (ndl__kitchen_start(app.k, err, sizeof(err)) < 0) {
		say(NDL_LOG_ERROR, "%s", err);
		status = EXIT_USAGE;
		goto free_kitchen;
	}
	ndl__kitchen_set_live_clock(app.k, app.a.read_file == NULL);

	r = uv_loop_init(&app.loop);
	if (r < 0) {
		say(NDL_LOG_ERROR, "cannot start the event loop: %s", uv_strerror(r));
		goto free_kitchen;
	}
	memset(&ccfg, 0, sizeof(ccfg));
	if (app.a.n_ifaces == 0) {
		ccfg.ifaces[0] = "any";
		ccfg.n_ifaces = 1;
		snprintf(iface, sizeof(iface), "all");
	} else {
		size_t used = 0;
		iface[0] = '\0';
		for (size_t i = 0; i < app.a.n_ifaces; i++) {
			ccfg.ifaces[i] = strcmp(app.a.ifaces[i], "all") == 0 ? "any" : app.a.ifaces[i];
			used += (size_t)snprintf(iface + used, sizeof(iface) - used, "%s%s",
						 i ? "," : "", app.a.ifaces[i]);
			if (used >= sizeof(iface))
				used = sizeof(iface) - 1;
		}
		ccfg.n_ifaces = app.a.n_ifaces;
	}
	if (app.a.read_file)
		snprintf(iface, sizeof(iface), "%s", app.a.read_file);
	ccfg.read_file = app.a.read_file;
	ccfg.realtime = app.a.realtime;
	ccfg.filter = capture_filter(&app, filter, sizeof(filter));
	if (strcmp(ccfg.filter, app.a.filter ? app.a.filter : "") != 0)
		say(NDL_LOG_INFO, "capture filter: %s", ccfg.filter);
	ccfg.snaplen = app.a.snaplen;
	ccfg.buffer_size = app.a.buffer_size;
	ccfg.promisc = app.a.promisc;
	ccfg.poke_ns = (ndl_time_ns)llround(app.a.poke * 1e9);
	ccb.should_pause = should_pause;
	ccb.on_end = on_capture_end;
	ccb.log = capture_log;
	ccb.arg = &app;
	if (ndl__capture_open(&app.loop, app.k, &ccfg, &ccb, &app.cap, err, sizeof(err)) < 0) {
		say(NDL_LOG_ERROR, "%s", err);
		goto close_loop;
	}

	uv_timer_init(&app.loop, &app.stop_timer);
	app.stop_timer.data = &app;
	uv_timer_init(&app.loop, &app.drain_timer);
	app.drain_timer.data = &app;
	uv_signal_init(&app.loop, &app.sigint);
	app.sigint.data = &app;
	uv_signal_start(&app.sigint, on_signal, SIGINT);
	uv_signal_init(&app.loop, &app.sigterm);
	app.sigterm.data = &app;
	uv_signal_start(&app.sigterm, on_signal, SIGTERM);

	if (app.a.to_stdout) {
		start_capture(&app);
	} else {
		struct ndl__hub_client_config hcfg = { 0 };
		struct ndl__hub_client_callbacks hcb = { 0 };

		hello = make_hello(&app, iface);
		if (!hello) {
			say(NDL_LOG_ERROR, "out of memory");
			request_stop(&app, EXIT_FAIL, false);
		} else {
			hcfg.host = app.hub_host;
			hcfg.port = app.hub_port;
			hcfg.hello = hello;
			hcfg.outbox_count = app.a.outbox_count;
			hcfg.outbox_bytes = app.a.outbox_bytes;
			hcfg.verbose = app.a.verbosity > 0;
			hcfg.lossless = app.a.read_file != NULL;
			hcfg.reconnect = !app.a.no_reconnect;
			hcfg.reconnect_max_ms = (uint64_t)llround(app.a.reconnect_max * 1000.0);
			hcb.on_open = on_hub_open;
			hcb.on_drain = on_hub_drain;
			hcb.on_closed = on_hub_closed;
			hcb.log = hub_log_line;
			hcb.arg = &app;
			if (ndl__hub_client_new(&app.loop, &hcfg, &hcb, &app.hub, err,
						sizeof(err)) < 0) {
				say(NDL_LOG_ERROR, "%s", err);
				request_stop(&app, EXIT_FAIL, false);
			} else if (hcfg.reconnect) {
				/* capture never waits for the network: the outbox
				 * holds (or, live, counts what it drops) meanwhile */
				start_capture(&app);
			}
		}
	}

	uv_run(&app.loop, UV_RUN_DEFAULT);
	status = app.exit_code;

	if (verbosity >= 0)
		print_stats(&app);

close_loop:
	ndl__capture_close(app.cap);
	app.cap = NULL;
	ndl__hub_client_free(app.hub);
	app.hub = NULL;
	uv_run(&app.loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&app.loop) == UV_EBUSY) {
		uv_walk(&app.loop, close_leftover, NULL);
		uv_run(&app.loop, UV_RUN_DEFAULT);
		uv_loop_close(&app.loop);
	}
free_kitchen:
	ndl__kitchen_free(app.k);
free_catalog:
	ndl__chef_catalog_free(&cat);
	free(hello);
	fflush(stdout);
	return status;
}
