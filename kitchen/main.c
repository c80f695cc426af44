/* SPDX-License-Identifier: MIT */
/*
 * main.c - nd-sniff, the kitchen: capture packets (live or from a file),
 * hand them to chefs, send their dumplings to the hub (or to stdout).
 *
 * Command-line compatible with netdumplings 0.5.1's nd-sniff; see --help.
 */
#define _GNU_SOURCE   /* sched_getaffinity */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
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
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <pcap/pcap.h>
#include <uv.h>
#include <ndl/names.h>
#include <ndl/wire.h>
#include "capture.h"
#include "nmsg_input.h"
#include "conf.h"
#include "decode.h"
#include "envelope.h"
#include "hub_client.h"
#include "kitchen.h"
#include "logline.h"
#include "privdrop.h"

#define MAX_LIST 64
/* A token file is read up to this many bytes; a token is at most TOKEN_MAX. */
#define TOKEN_FILE_MAX 65536
#define TOKEN_MAX 1024

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
	int chef_threads;         /* 0: one per CPU */
	const char *read_file;
	const char *nmsg_file;    /* --nmsg FILE|- */
	const char *nmsg_listen;  /* --nmsg-listen ADDR/PORT */
	const char *nmsg_filter;  /* --nmsg-filter VENDOR[:TYPE] */
	bool realtime;
	bool to_stdout;
	int snaplen;
	int buffer_size;
	bool promisc;
	const char *fanout;     /* --fanout GROUP[:MODE] */
	unsigned int fanout_group;
	enum ndl__fanout_mode fanout_mode;
	size_t outbox_count;
	size_t outbox_bytes;
	int hub_eater_port;     /* -1: the hub port + 1 */
	bool capture_hub_traffic;
	bool no_reconnect;
	double reconnect_max;   /* seconds */
	double drain_timeout;   /* seconds */
	int verbosity;          /* -1 quiet, 0 default, 1 verbose, 2 debug */
	/* the hub, parsed from --hub (or the default) */
	char hub_host[256];
	int hub_port;
	bool hub_tls;           /* wss:// */
	const char *hub_ca;
	const char *token_file;
	bool no_batch;
	bool log_json;          /* --log-format json */
	size_t batch_bytes;
	const char *user;
	const char *group;
	const char *config;     /* --config FILE */
	bool test_config;
};

struct app {
	struct args a;
	uv_loop_t loop;
	struct ndl_kitchen *k;
	struct ndl__capture *cap;
	struct ndl__hub_client *hub;
	char hub_name[320];      /* [wss://]HOST:PORT or [V6]:PORT, for messages */
	char token[TOKEN_MAX + 1];  /* from --token-file; never logged */
	uv_signal_t sigint, sigterm;
	uv_timer_t stop_timer;
	uv_timer_t drain_timer;  /* bounds the wait for the outbox at the end */
	uv_async_t kitchen_wake; /* a chef thread has dumplings to send */
	bool kitchen_wake_init;
	bool lossless_hub;       /* a replay to a hub: the outbox must not overflow */
	bool stopping;           /* a stop is under way */
	bool stop_graceful;
	int exit_code;
	bool capture_started;
	bool capture_done;       /* the replay reached its end */
	bool closing_hub;        /* we asked the hub link to close */
	bool finished;
	uint64_t stdout_written;
	uint64_t stdout_flushed;   /* stdout_written at the last fflush */
	bool stdout_failed;
	struct ndl__capture_stats cstats;   /* taken when capture stops */
	struct ndl__nmsg_input *nmsg;       /* instead of cap, with --nmsg(-listen) */
	struct ndl__nmsg_input_stats nstats;
};

static int verbosity;
static bool log_json;

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
	if (log_json)
		ndl__log_json_line(stderr, "nd-sniff", names[level], line);
	else
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
	/*
	 * The hub client's own lines are LLL_ERR or LLL_WARN; libwebsockets'
	 * lines (with -v) may also be LLL_NOTICE or LLL_INFO.
	 */
	say(level == LLL_ERR ? NDL_LOG_ERROR : level == LLL_WARN ? NDL_LOG_WARN : NDL_LOG_INFO,
	    "%s", line);
}

/* The configuration file's line of the option being parsed, for messages. */
static const char *cur_origin;
/* --test-config: every error is a "the configuration is wrong", exit 1. */
static bool testing_config;

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nd-sniff: %s%s", cur_origin ? cur_origin : "", cur_origin ? ": " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'nd-sniff --help' for more information.\n");
	exit(testing_config ? EXIT_FAIL : EXIT_USAGE);
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
"      --nmsg FILE         read packets from an NMSG file instead (\"-\": standard\n"
"                          input): base:packet (raw IP), base:pkt (frames),\n"
"                          base:ipconn (as header-only packets), stamped with\n"
"                          the payloads' times; exit when it is done\n"
"      --nmsg-listen ADDR/PORT\n"
"                          receive NMSG over UDP on ADDR/PORT instead (e.g.\n"
"                          127.0.0.1/8430, ::1/8430); fragments are reassembled\n"
"                          and sequence gaps counted\n"
"      --nmsg-filter VENDOR[:TYPE]\n"
"                          only NMSG payloads of this vendor and type, by name\n"
"                          (base:packet, base:pkt, base:ipconn) or number (1:12)\n"
"  -f, --filter EXPR       pcap filter (default \"%s\"); \"\" for all\n"
"      --snaplen BYTES     bytes captured per packet (default %d)\n"
"      --buffer-size BYTES\n"
"                          kernel capture buffer per interface (default %d);\n"
"                          packets that find it full are dropped and counted\n"
"      --promisc           put interfaces in promiscuous mode (default off)\n"
"      --fanout GROUP[:MODE]\n"
"                          share the interfaces' packets with the other\n"
"                          kitchens in Linux fanout group GROUP (0 to 65535;\n"
"                          the n-th interface joins GROUP+n-1): each packet\n"
"                          goes to one of them. MODE hash (the default) keeps\n"
"                          each flow at one kitchen; cpu and qm follow the CPU\n"
"                          or the receive queue a packet came in on\n"
"\n",
	NDL_KITCHEN_DEFAULT_FILTER, NDL__CAPTURE_DEFAULT_SNAPLEN, NDL__CAPTURE_DEFAULT_BUFFER);
	printf(
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
"      --chef-threads N|auto\n"
"                          run the chefs on up to N threads, the main one\n"
"                          included (auto, the default: one per CPU; 1: all\n"
"                          on the main thread; never more than one per chef\n"
"                          module, plus the main one). After the first %d\n"
"                          packets the chefs are spread by the time each\n"
"                          took; a chef's packets stay in order\n"
"\n", NDL_KITCHEN_DEFAULT_POKE, NDL_KITCHEN_CALIBRATE);
	printf(
"Where dumplings go:\n"
"  -n, --kitchen-name NAME\n"
"                          name of this kitchen (default %s)\n"
"  -h, --hub HOST:PORT     the hub's kitchen port (default %s:%d);\n"
"                          HOST may be a name, an IPv4 address or [an IPv6\n"
"                          address].\n"
"                          wss://HOST:PORT connects with TLS and verifies the\n"
"                          hub's certificate and name; ws://HOST:PORT is the\n"
"                          same as HOST:PORT\n"
"      --hub-ca FILE       PEM file of the CA(s) that signed the hub's\n"
"                          certificate (default: the system's store); wss only\n"
"      --token-file FILE   send the token in FILE (its first line that is not\n"
"                          blank or a '#' comment) in the hello; a hub that\n"
"                          refuses it closes with 4104 and the kitchen exits 1\n"
"                          without retrying. The token is never printed\n"
"      --batch-bytes BYTES\n"
"                          when the hub takes batch mode, send as many\n"
"                          dumplings per message as fit in BYTES (default %u,\n"
"                          1024 to 16 MiB); a larger dumpling goes alone\n"
"      --no-batch          do not offer batch mode: one dumpling per message\n"
"                          (what a hub that does not know batch mode gets\n"
"                          anyway)\n"
"      --stdout            write each dumpling as one JSON line to standard\n"
"                          output instead of sending it to a hub\n"
"      --outbox-max COUNT  most dumplings waiting for the hub (default %u);\n"
"                          live capture drops (and counts) what does not fit,\n"
"                          a replay waits\n"
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
"\n",
	NDL_KITCHEN_DEFAULT_NAME, NDL_HUB_DEFAULT_ADDRESS, NDL_HUB_DEFAULT_IN_PORT,
	NDL__BATCH_DEFAULT_BYTES, NDL__OUTBOX_DEFAULT_COUNT, NDL__OUTBOX_DEFAULT_BYTES);
	printf(
"Configuration and privileges:\n"
"      --config FILE       read options from FILE first: one 'name = value' a\n"
"                          line, names being the long options above (no\n"
"                          dashes), a bare name for a flag, repeated names for\n"
"                          repeatable options, '#' comment lines, values\n"
"                          optionally in double quotes. The command line\n"
"                          overrides the file (or adds, for lists)\n"
"      --test-config       check the configuration (file and command line):\n"
"                          chefs load, filter compiles, files and user exist;\n"
"                          print it and \"configuration OK\" (exit 0) or the\n"
"                          problems (exit 1). Captures and connects nothing\n"
"      --user USER         once capture is open, chefs loaded and the token\n"
"                          read, become USER (name or uid) for good: no way\n"
"                          back to root, no capabilities, no_new_privs. Needs\n"
"                          root (or already being USER)\n"
"      --group GROUP       the group for --user (default: USER's primary group)\n"
"\n"
"Other:\n"
"  -q, --quiet             print errors only, no statistics at exit\n"
"      --log-format FORMAT\n"
"                          'text' (default) or 'json': each log line, the\n"
"                          statistics at exit included, as one JSON object\n"
"                          {\"time\", \"level\", \"program\", \"message\"}\n"
"  -v, --verbose           say more; twice for debugging output\n"
"      --version           print the version and exit\n"
"      --help              print this help and exit (-h is --hub)\n"
"\n"
"Live capture needs root or the capabilities CAP_NET_RAW and CAP_NET_ADMIN.\n"
"Started without --user but with capabilities, nd-sniff drops them all once\n"
"capture is open.\n"
"Exit status: 0 success, 1 failure, 2 bad command line.\n");
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

/*
 * Split [ws://|wss://]HOST:PORT, [V6]:PORT, HOST or V6 (a trailing "/"
 * allowed after a scheme) into out. Returns 0 or -EINVAL.
 */
static int parse_hub(const char *in, char *host, size_t hostlen, int *port, bool *tls)
{
	const char *colon, *s = in;
	char buf[300];
	size_t hl;

	*port = NDL_HUB_DEFAULT_IN_PORT;
	*tls = false;
	if (strncmp(s, "wss://", 6) == 0 || strncmp(s, "ws://", 5) == 0) {
		*tls = s[2] == 's';
		s += *tls ? 6 : 5;
		hl = strlen(s);
		if (hl && s[hl - 1] == '/')
			hl--;
		if (!hl || hl >= sizeof(buf) || memchr(s, '/', hl))
			return -EINVAL;
		memcpy(buf, s, hl);
		buf[hl] = '\0';
		s = buf;
	} else if (strstr(s, "://")) {
		return -EINVAL;
	}
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
	OPT_CONFIG,
	OPT_TEST_CONFIG,
	OPT_USER,
	OPT_GROUP,
	OPT_TOKEN_FILE,
	OPT_HUB_CA,
	OPT_BATCH_BYTES,
	OPT_NO_BATCH,
	OPT_LOG_FORMAT,
	OPT_NMSG,
	OPT_NMSG_LISTEN,
	OPT_NMSG_FILTER,
	OPT_CHEF_THREADS,
	OPT_FANOUT,
};

/* Every option; a configuration file's keys are these long names. */
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
	{ "chef-threads", required_argument, NULL, OPT_CHEF_THREADS },
	{ "read", required_argument, NULL, 'r' },
	{ "realtime", no_argument, NULL, OPT_REALTIME },
	{ "nmsg", required_argument, NULL, OPT_NMSG },
	{ "nmsg-listen", required_argument, NULL, OPT_NMSG_LISTEN },
	{ "nmsg-filter", required_argument, NULL, OPT_NMSG_FILTER },
	{ "stdout", no_argument, NULL, OPT_STDOUT },
	{ "option", required_argument, NULL, 'o' },
	{ "snaplen", required_argument, NULL, OPT_SNAPLEN },
	{ "buffer-size", required_argument, NULL, OPT_BUFFER_SIZE },
	{ "promisc", no_argument, NULL, OPT_PROMISC },
	{ "fanout", required_argument, NULL, OPT_FANOUT },
	{ "outbox-max", required_argument, NULL, OPT_OUTBOX_MAX },
	{ "outbox-bytes", required_argument, NULL, OPT_OUTBOX_BYTES },
	{ "hub-eater-port", required_argument, NULL, OPT_HUB_EATER_PORT },
	{ "capture-hub-traffic", no_argument, NULL, OPT_CAPTURE_HUB_TRAFFIC },
	{ "no-reconnect", no_argument, NULL, OPT_NO_RECONNECT },
	{ "reconnect-max", required_argument, NULL, OPT_RECONNECT_MAX },
	{ "drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "test-config", no_argument, NULL, OPT_TEST_CONFIG },
	{ "user", required_argument, NULL, OPT_USER },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "hub-ca", required_argument, NULL, OPT_HUB_CA },
	{ "batch-bytes", required_argument, NULL, OPT_BATCH_BYTES },
	{ "no-batch", no_argument, NULL, OPT_NO_BATCH },
	{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};
static const char short_opts[] = ":n:h:i:f:c:m:lp:r:o:qv";

/* The configuration file's entries; the option values point into it. */
static struct ndl__conf *conf;

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

/* First pass over the command line: only --config and --test-config. */
static void find_config(struct args *a, int argc, char **argv)
{
	int c;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, short_opts, longs, NULL)) != -1) {
		if (c == OPT_CONFIG)
			a->config = optarg;
		else if (c == OPT_TEST_CONFIG)
			a->test_config = true;
	}
}

/* Read --config into conf and return the list to parse: file, then argv. */
static char **with_config(const struct args *a, int *argc, char **argv)
{
	char err[1024];
	char **all;

	conf = ndl__conf_new();
	if (!conf) {
		fprintf(stderr, "nd-sniff: out of memory\n");
		exit(EXIT_FAIL);
	}
	if (ndl__conf_load(conf, a->config, err, sizeof(err)) < 0 ||
	    ndl__conf_check(conf, longs, err, sizeof(err)) < 0)
		usage_error("%s", err);
	if (ndl__conf_argv(conf, *argc, argv, argc, &all) < 0) {
		fprintf(stderr, "nd-sniff: out of memory\n");
		exit(EXIT_FAIL);
	}
	return all;
}

static void parse_args(struct args *a, int argc, char **argv)
{
	int c, n_config = 0;
	bool hub_from_file = false, stdout_from_file = false;
	bool ifaces_from_file = false, read_from_file = false, quiet_from_file = false;
	bool fanout_from_file = false;

	a->kitchen_name = NDL_KITCHEN_DEFAULT_NAME;
	a->hub = NULL;
	a->filter = NDL_KITCHEN_DEFAULT_FILTER;
	a->hub_eater_port = -1;
	a->reconnect_max = 5.0;
	a->drain_timeout = 10.0;
	a->poke = NDL_KITCHEN_DEFAULT_POKE;
	a->snaplen = NDL__CAPTURE_DEFAULT_SNAPLEN;
	a->batch_bytes = NDL__BATCH_DEFAULT_BYTES;
	find_config(a, argc, argv);
	testing_config = a->test_config;
	if (a->config)
		argv = with_config(a, &argc, argv);
	opterr = 0;
	optind = 0;
	for (;;) {
		c = getopt_long(argc, argv, short_opts, longs, NULL);
		if (c == -1)
			break;
		/* entries of the file are single "--key=value" elements */
		cur_origin = optind > 0 && optind <= argc && strncmp(argv[optind - 1], "--", 2) == 0
			     ? ndl__conf_origin(conf, argv[optind - 1]) : NULL;
		switch (c) {
		case 'n':
			if (!*optarg)
				usage_error("--kitchen-name must not be empty");
			a->kitchen_name = optarg;
			break;
		case 'h':
			if (parse_hub(optarg, a->hub_host, sizeof(a->hub_host), &a->hub_port,
				      &a->hub_tls) < 0)
				usage_error("--hub expects HOST:PORT, [IPV6]:PORT, ws://HOST:PORT or "
					    "wss://HOST:PORT, got \"%s\"", optarg);
			a->hub = optarg;
			hub_from_file = cur_origin != NULL;
			break;
		case 'i':
			if (ifaces_from_file && !cur_origin) {
				/* the command line's interfaces replace the file's */
				a->n_ifaces = 0;
				ifaces_from_file = false;
			}
			if (!a->n_ifaces)
				ifaces_from_file = cur_origin != NULL;
			add_to(a->ifaces, &a->n_ifaces, NDL__CAPTURE_MAX_IFACES, "-i", optarg);
			break;
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
		case 'r':
			a->read_file = optarg;
			read_from_file = cur_origin != NULL;
			break;
		case OPT_REALTIME: a->realtime = true; break;
		case OPT_NMSG: a->nmsg_file = optarg; break;
		case OPT_NMSG_LISTEN: {
			struct sockaddr_storage sa;
			if (ndl__nmsg_parse_addr(optarg, &sa) < 0)
				usage_error("--nmsg-listen expects ADDR/PORT (e.g. 127.0.0.1/8430 or "
					    "::1/8430), got \"%s\"", optarg);
			a->nmsg_listen = optarg;
			break;
		}
		case OPT_NMSG_FILTER: {
			struct ndl__nmsg_reader_config rc = { 0 };
			if (ndl__nmsg_parse_filter(optarg, &rc) < 0)
				usage_error("--nmsg-filter expects VENDOR[:TYPE] (e.g. base:packet, "
					    "base, 1:12), got \"%s\"", optarg);
			a->nmsg_filter = optarg;
			break;
		}
		case OPT_STDOUT:
			a->to_stdout = true;
			stdout_from_file = cur_origin != NULL;
			break;
		case 'o': add_to(a->options, &a->n_options, MAX_LIST, "-o", optarg); break;
		case OPT_SNAPLEN: a->snaplen = (int)parse_int("--snaplen", optarg, 64, 262144); break;
		case OPT_CHEF_THREADS:
			a->chef_threads = strcmp(optarg, "auto") == 0 ? 0 :
				(int)parse_int("--chef-threads", optarg, 1, NDL_KITCHEN_MAX_THREADS);
			break;
		case OPT_BUFFER_SIZE:
			a->buffer_size = (int)parse_int("--buffer-size", optarg, 0, INT_MAX);
			break;
		case OPT_PROMISC: a->promisc = true; break;
		case OPT_FANOUT:
			if (ndl__fanout_parse(optarg, &a->fanout_group, &a->fanout_mode) < 0)
				usage_error("--fanout expects GROUP[:MODE], GROUP 0 to %d and MODE "
					    "hash, cpu or qm (e.g. 7, 7:cpu), got \"%s\"",
					    NDL__FANOUT_MAX_GROUP, optarg);
			a->fanout = optarg;
			fanout_from_file = cur_origin != NULL;
			break;
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
		case OPT_CONFIG:
			if (cur_origin)
				usage_error("a configuration file cannot name another (config)");
			if (++n_config > 1)
				usage_error("--config given more than once");
			break;
		case OPT_TEST_CONFIG: a->test_config = true; break;
		case OPT_USER:
			if (!*optarg)
				usage_error("--user must not be empty");
			a->user = optarg;
			break;
		case OPT_GROUP:
			if (!*optarg)
				usage_error("--group must not be empty");
			a->group = optarg;
			break;
		case OPT_TOKEN_FILE: a->token_file = optarg; break;
		case OPT_HUB_CA: a->hub_ca = optarg; break;
		case OPT_BATCH_BYTES:
			a->batch_bytes = (size_t)parse_int("--batch-bytes", optarg, 1024,
							   NDL_DEFAULT_MAX_FRAME);
			break;
		case OPT_NO_BATCH: a->no_batch = true; break;
		case OPT_LOG_FORMAT:
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				usage_error("--log-format must be text or json, not '%s'", optarg);
			a->log_json = !strcmp(optarg, "json");
			break;
		case 'q':
			a->verbosity = -1;
			quiet_from_file = cur_origin != NULL;
			break;
		case 'v':
			if (a->verbosity < 0 && quiet_from_file && !cur_origin)
				a->verbosity = 0;   /* the command line wins */
			if (a->verbosity >= 0)
				a->verbosity++;
			break;
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
	cur_origin = NULL;
	if (optind < argc)
		usage_error("unexpected argument \"%s\"", argv[optind]);
	/* what the command line says wins over what the file says */
	if (a->read_file && a->n_ifaces && read_from_file != ifaces_from_file) {
		if (read_from_file)
			a->read_file = NULL;
		else
			a->n_ifaces = 0;
	}
	if (a->to_stdout && a->hub && stdout_from_file != hub_from_file) {
		if (stdout_from_file)
			a->to_stdout = false;
		else
			a->hub = NULL;
	}
	if (a->read_file && a->n_ifaces)
		usage_error("-r/--read and -i/--interface cannot be used together");
	if ((a->nmsg_file || a->nmsg_listen) && (a->read_file || a->n_ifaces))
		usage_error("--nmsg/--nmsg-listen and -r/--read or -i/--interface cannot be used "
			    "together");
	if (a->nmsg_file && a->nmsg_listen)
		usage_error("--nmsg and --nmsg-listen cannot be used together");
	if (a->nmsg_filter && !a->nmsg_file && !a->nmsg_listen)
		usage_error("--nmsg-filter only applies to --nmsg or --nmsg-listen");
	if (a->realtime && !a->read_file)
		usage_error("--realtime only applies to -r/--read");
	/* a kitchen's file may share its interface; a replay asked for on
	 * the command line has nothing to share */
	if (a->fanout && fanout_from_file && (a->read_file || a->nmsg_file || a->nmsg_listen))
		a->fanout = NULL;
	if (a->fanout && (a->read_file || a->nmsg_file || a->nmsg_listen))
		usage_error("--fanout only applies to live capture (-i/--interface)");
	if (a->fanout && a->n_ifaces &&
	    a->fanout_group + a->n_ifaces - 1 > NDL__FANOUT_MAX_GROUP)
		usage_error("--fanout %u with %zu interfaces needs groups up to %zu; the last "
			    "is %d", a->fanout_group, a->n_ifaces,
			    a->fanout_group + a->n_ifaces - 1, NDL__FANOUT_MAX_GROUP);
	if (a->to_stdout && a->hub)
		usage_error("--stdout and -h/--hub cannot be used together");
	if (!a->hub) {
		bool tls;
		parse_hub(NDL_HUB_DEFAULT_ADDRESS, a->hub_host, sizeof(a->hub_host), &a->hub_port,
			  &tls);
		a->hub_tls = false;
	}
	if (a->hub_ca && !a->hub_tls && !a->to_stdout)
		usage_error("--hub-ca only applies to a wss:// hub (-h wss://HOST:PORT)");
	if (a->group && !a->user)
		usage_error("--group only applies with --user");
	if (a->test_config && a->list)
		usage_error("--test-config and -l/--chef-list cannot be used together");
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

/* Whether dir is one of the first n --chef-path folders (the same folder,
 * however named): scanning it again would only repeat its warnings. */
static bool scanned_before(const struct args *a, size_t n, const char *dir)
{
	struct stat st, seen;

	if (stat(dir, &st) < 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (stat(a->chef_paths[i], &seen) == 0 && seen.st_dev == st.st_dev &&
		    seen.st_ino == st.st_ino)
			return true;
	}
	return false;
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
		if (scanned_before(a, i, a->chef_paths[i]))
			continue;
		r = ndl__chef_catalog_scan(cat, a->chef_paths[i], warn_cb, NULL);
		if (r < 0) {
			say(NDL_LOG_ERROR, "cannot read chef folder %s: %s", a->chef_paths[i],
			    strerror(-r));
			return r;
		}
	}
	if (a->n_modules == 0) {
		const char *dir = default_chef_dir();

		if (scanned_before(a, a->n_chef_paths, dir))
			return 0;
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
	int eater_port = app->a.hub_eater_port >= 0 ? app->a.hub_eater_port : app->a.hub_port + 1;

	snprintf(out, outlen, "%s", user);
	if (app->a.read_file || app->a.to_stdout || app->a.capture_hub_traffic)
		return out;
	if (getaddrinfo(app->a.hub_host, NULL, &hints, &res) != 0)
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
	if (eater_port > 0 && eater_port <= 65535 && eater_port != app->a.hub_port)
		snprintf(out, outlen, "%s%s%snot (tcp and (%s) and (port %d or port %d))",
			 user[0] ? "(" : "", user, user[0] ? ") and " : "", hosts,
			 app->a.hub_port, eater_port);
	else
		snprintf(out, outlen, "%s%s%snot (tcp and (%s) and port %d)",
			 user[0] ? "(" : "", user, user[0] ? ") and " : "", hosts, app->a.hub_port);
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
	/* unlocked: no other thread writes to stdout (the capture thread
	 * only reads packets) */
	if (fwrite_unlocked(json, 1, len, stdout) != len || putc_unlocked('\n', stdout) == EOF) {
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
	/* nothing more from the chef threads: they stop, and stop waking us */
	ndl__kitchen_halt(app->k);
	if (app->kitchen_wake_init && !uv_is_closing((uv_handle_t *)&app->kitchen_wake))
		uv_close((uv_handle_t *)&app->kitchen_wake, NULL);
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
	if (app->nmsg)
		ndl__nmsg_input_stats(app->nmsg, &app->nstats);
	ndl__nmsg_input_close(app->nmsg);
	app->nmsg = NULL;
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

	if (app->nmsg) {
		ndl__nmsg_input_stats(app->nmsg, &app->nstats);
		ndl__nmsg_input_close(app->nmsg);
		app->nmsg = NULL;
		if (app->stop_graceful && app->capture_started)
			ndl__kitchen_interval(app->k);
	}
	if (app->cap) {
		if (app->stop_graceful)
			ndl__capture_drain(app->cap);    /* live: what was captured */
		ndl__capture_stats(app->cap, &app->cstats);
		ndl__capture_close(app->cap);
		app->cap = NULL;
		if (app->stop_graceful && app->capture_started) {
			/* the chefs' last word: intervals once more */
			ndl__kitchen_interval(app->k);
		}
	}
	if (app->stop_graceful && app->lossless_hub) {
		/* a replay's outbox never overflows: the chef threads' last
		 * dumplings go as fast as the hub takes them */
		ndl__kitchen_flush(app->k);
		if (!ndl__kitchen_idle(app->k)) {
			uv_timer_start(&app->stop_timer, on_stop_timer, 10, 0);
			return;
		}
	}
	if (app->stop_graceful)
		ndl__kitchen_sync(app->k);   /* what the chef threads still had */
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
	/* live: the kernel hands over a partly filled buffer after a timeout */
	uv_timer_start(&app->stop_timer, on_stop_timer,
		       graceful && app->a.n_ifaces ? NDL__CAPTURE_STOP_WAIT_MS : 0, 0);
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

/* Standard output, written in large blocks when it is not a terminal,
 * need not hold dumplings back once the kitchen has caught up. */
static void flush_stdout(struct app *app)
{
	if (app->a.to_stdout && app->stdout_written != app->stdout_flushed) {
		app->stdout_flushed = app->stdout_written;
		if (fflush(stdout) == EOF && !app->stdout_failed) {
			app->stdout_failed = true;
			say(NDL_LOG_ERROR, "cannot write to standard output: %s", strerror(errno));
			request_stop(app, EXIT_FAIL, false);
		}
	}
}

/* Every captured packet has been handed over. */
static void on_caught_up(void *arg)
{
	struct app *app = arg;

	ndl__kitchen_flush(app->k);
	flush_stdout(app);
}

/* From a chef thread, through the async handle: dumplings to send. */
static void wake_kitchen(void *arg)
{
	struct app *app = arg;

	uv_async_send(&app->kitchen_wake);
}

static void on_kitchen_wake(uv_async_t *h)
{
	struct app *app = h->data;

	ndl__kitchen_flush(app->k);
	ndl__capture_kitchen_ready(app->cap);
	ndl__nmsg_input_resume(app->nmsg);
	if (!app->cap || !ndl__capture_busy(app->cap))
		flush_stdout(app);
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
	if (app->nmsg ? ndl__nmsg_input_start(app->nmsg) < 0 : ndl__capture_start(app->cap) < 0) {
		request_stop(app, EXIT_FAIL, false);
		return;
	}
	app->capture_started = true;
}

static void on_hub_open(void *arg)
{
	struct app *app = arg;
	struct ndl__hub_client_stats hs;

	ndl__hub_client_stats(app->hub, &hs);
	say(NDL_LOG_INFO, "connected to the hub at %s%s", app->hub_name,
	    hs.batch ? " (batch mode)" : "");
	start_capture(app);
}

static void on_hub_drain(void *arg)
{
	struct app *app = arg;

	ndl__kitchen_flush(app->k);      /* what the chef threads held back */
	ndl__capture_resume(app->cap);
	ndl__nmsg_input_resume(app->nmsg);
}

static void on_hub_closed(void *arg, int code, const char *reason, bool by_us)
{
	struct app *app = arg;
	struct ndl__hub_client_stats hs;

	ndl__hub_client_stats(app->hub, &hs);
	if (code == 0) {
		say(NDL_LOG_ERROR, "cannot connect to hub at %s: %s", app->hub_name, reason);
		request_stop(app, EXIT_FAIL, false);
	} else if (code == NDL_CLOSE_UNAUTHORIZED) {
		/* also when it crossed our own close: nothing we sent was taken */
		say(NDL_LOG_ERROR, "the hub at %s refused the token%s (close 4104%s%s); not "
		    "retrying", app->hub_name, app->token[0] ? " of --token-file" :
		    ": it wants one (--token-file)", reason[0] ? ": " : "", reason);
		app->exit_code = EXIT_FAIL;
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
	if (app->token[0])   /* docs/protocol.md section 12 */
		json_object_set_new(hello, "token", json_string(app->token));
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
	fprintf((FILE *)arg, "nd-sniff:   %s.%s: %llu\n", chef, counter, (unsigned long long)value);
}

/*
 * With -v: the CPU time of each of the kitchen's threads, e.g.
 * "CPU seconds by thread: main 0.83, nd-capture 0.21, nd-chefs-1 0.66
 * (1.70 in all)". The busiest thread bounds the kitchen's speed however
 * many CPUs it has (docs/operations.md, chef threads).
 */
static void print_thread_cpu(struct app *app, FILE *out)
{
	uint64_t chefs[NDL_KITCHEN_MAX_THREADS];
	unsigned int n = ndl__kitchen_thread_cpu(app->k, chefs, NDL_KITCHEN_MAX_THREADS);
	uint64_t main_ns = ndl__clock_ns(CLOCK_THREAD_CPUTIME_ID);
	uint64_t all = main_ns + app->cstats.thread_cpu_ns;

	fprintf(out, "nd-sniff: CPU seconds by thread: main %.2f", main_ns / 1e9);
	if (app->cstats.thread_cpu_ns)
		fprintf(out, ", nd-capture %.2f", app->cstats.thread_cpu_ns / 1e9);
	for (unsigned int i = 0; i < n; i++) {
		fprintf(out, ", nd-chefs-%u %.2f", i + 1, chefs[i] / 1e9);
		all += chefs[i];
	}
	fprintf(out, " (%.2f in all)\n", all / 1e9);
}

/* The statistics at exit, as lines "nd-sniff: ..." written to out. */
static void print_stats(struct app *app, FILE *out)
{
	const struct ndl_kitchen_stats *st = ndl__kitchen_stats(app->k);
	struct ndl__hub_client_stats hs = { 0 };
	uint64_t sent = app->stdout_written;
	bool any = false;

	if (app->hub) {
		ndl__hub_client_stats(app->hub, &hs);
		sent = hs.sent;
	}
	fprintf(out, "nd-sniff: %llu packets (%llu bytes), %llu dumplings %s, %llu dropped",
		(unsigned long long)st->packets, (unsigned long long)st->bytes,
		(unsigned long long)sent, app->hub ? "sent" : "written",
		(unsigned long long)st->dumplings_dropped);
	if (hs.queued)
		fprintf(out, ", %zu never sent", hs.queued);
	if (hs.reconnects || hs.refused_away)
		fprintf(out, ", %llu reconnects, %llu dropped while the hub was away",
			(unsigned long long)hs.reconnects, (unsigned long long)hs.refused_away);
	if (app->cstats.kernel_drops)
		fprintf(out, ", %llu packets dropped by the kernel",
			(unsigned long long)app->cstats.kernel_drops);
	if (app->cstats.before_fanout)
		fprintf(out, ", %llu captured before joining the fanout group left out",
			(unsigned long long)app->cstats.before_fanout);
	fprintf(out, "\n");
	for (unsigned int e = 1; e < NDL_DECODE_ERROR_COUNT; e++) {
		if (!st->decode_errors[e])
			continue;
		fprintf(out, "%s %s %llu", any ? "," : "nd-sniff: decode errors:",
			ndl_decode_error_name(e), (unsigned long long)st->decode_errors[e]);
		any = true;
	}
	if (any)
		fprintf(out, "\n");
	any = false;
	for (unsigned int e = 1; e < NDL_DNS_ERROR_COUNT; e++) {
		if (!st->dns_errors[e])
			continue;
		fprintf(out, "%s %s %llu", any ? "," : "nd-sniff: DNS errors:",
			ndl_dns_error_name(e), (unsigned long long)st->dns_errors[e]);
		any = true;
	}
	if (any)
		fprintf(out, "\n");
	any = false;
	for (unsigned int e = 1; e < NDL_HTTP_ERROR_COUNT; e++) {
		if (!st->http_errors[e])
			continue;
		fprintf(out, "%s %s %llu", any ? "," : "nd-sniff: HTTP errors:",
			ndl_http_error_name(e), (unsigned long long)st->http_errors[e]);
		any = true;
	}
	if (any)
		fprintf(out, "\n");
	any = false;
	for (unsigned int e = 1; e < NDL_TLS_ERROR_COUNT; e++) {
		if (!st->tls_errors[e])
			continue;
		fprintf(out, "%s %s %llu", any ? "," : "nd-sniff: TLS errors:",
			ndl_tls_error_name(e), (unsigned long long)st->tls_errors[e]);
		any = true;
	}
	if (any)
		fprintf(out, "\n");
	for (size_t i = 0; i < ndl__kitchen_chef_count(app->k); i++) {
		struct ndl_kitchen_chef_stats cs;
		ndl__kitchen_chef_stats(app->k, i, &cs);
		fprintf(out, "nd-sniff: chef %s: %llu dumplings, %llu dropped (%llu malformed)%s\n",
			ndl__kitchen_chef(app->k, i)->name, (unsigned long long)cs.dumplings,
			(unsigned long long)cs.dropped, (unsigned long long)cs.malformed,
			cs.disabled ? ", disabled" : "");
	}
	ndl__kitchen_foreach_chef_counter(app->k, print_counter, out);
	ndl__nmsg_input_print_stats(&app->nstats, out);
	if (verbosity >= 1)
		print_thread_cpu(app, out);
}


/* Log the statistics at exit: as they are, or one JSON line each. */
static void log_stats(struct app *app)
{
	static const char prefix[] = "nd-sniff: ";
	size_t len = 0;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	print_stats(app, f);
	if (fclose(f)) {
		free(buf);
		return;
	}
	if (!log_json) {
		fputs(buf, stderr);
	} else {
		for (char *line = buf, *nl; *line; line = nl) {
			nl = strchr(line, '\n');
			if (nl)
				*nl++ = '\0';
			else
				nl = line + strlen(line);
			if (!strncmp(line, prefix, sizeof(prefix) - 1))
				line += sizeof(prefix) - 1;
			ndl__log_json_line(stderr, "nd-sniff", "info", line);
		}
	}
	free(buf);
}

/* ------------------------------------------------------------------------ */
/* Secrets, privileges, --test-config                                        */
/* ------------------------------------------------------------------------ */

/*
 * The token of a token file: its first line that is neither blank nor a
 * comment ('#'), without surrounding blanks. Returns 0, or a negative errno
 * with the reason in err (which never shows the token).
 */
static int read_token(const char *path, char *out, size_t outlen, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n;
	int r = -ENOENT;
	struct stat st;

	out[0] = '\0';
	if (!f) {
		r = -errno;
		snprintf(err, errlen, "cannot read the token file %s: %s", path, strerror(errno));
		return r;
	}
	setvbuf(f, NULL, _IONBF, 0);   /* no stdio copy of the token to wipe */
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & S_IROTH) && verbosity >= 0)
		say(NDL_LOG_WARN, "the token file %s is readable by every user", path);
	buf = malloc(TOKEN_FILE_MAX + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto close_file;
	}
	n = fread(buf, 1, TOKEN_FILE_MAX + 1, f);
	if (ferror(f)) {
		r = -EIO;
		snprintf(err, errlen, "cannot read the token file %s: %s", path, strerror(errno));
		goto free_buf;
	}
	if (n > TOKEN_FILE_MAX) {
		r = -E2BIG;
		snprintf(err, errlen, "the token file %s is larger than %d bytes", path,
			 TOKEN_FILE_MAX);
		goto free_buf;
	}
	buf[n] = '\0';
	for (char *line = buf, *next; line; line = next) {
		char *end;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line += strspn(line, " \t\r");
		end = line + strlen(line);
		while (end > line && strchr(" \t\r", end[-1]))
			end--;
		*end = '\0';
		if (!*line || *line == '#')
			continue;
		if ((size_t)(end - line) >= outlen || (size_t)(end - line) > TOKEN_MAX) {
			r = -E2BIG;
			snprintf(err, errlen, "the token in %s is longer than %d bytes", path,
				 TOKEN_MAX);
			goto free_buf;
		}
		for (const char *p = line; p < end; p++) {
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				r = -EINVAL;
				snprintf(err, errlen, "the token in %s holds a control character",
					 path);
				goto free_buf;
			}
		}
		memcpy(out, line, (size_t)(end - line) + 1);
		r = 0;
		goto free_buf;
	}
	r = -ENODATA;
	snprintf(err, errlen, "the token file %s holds no token (only blank or '#' lines)", path);
free_buf:
	if (buf)
		explicit_bzero(buf, TOKEN_FILE_MAX + 1);
	free(buf);
close_file:
	fclose(f);
	return r;
}

/*
 * After every capture handle, chef module, token and CA file is open or
 * read: become --user (target), or, without it, give up the capabilities a
 * non-root kitchen was started with. Returns 0 or -1 (said why).
 */
static int drop_privileges(const struct ndl__privdrop_target *target)
{
	char err[512];
	bool dropped;

	if (target) {
		if (ndl__privdrop_become(target, err, sizeof(err)) < 0) {
			say(NDL_LOG_ERROR, "cannot drop privileges: %s", err);
			return -1;
		}
		say(NDL_LOG_INFO, "running as user %s, group %s, without capabilities",
		    target->user, target->group);
		return 0;
	}
	if (ndl__privdrop_caps(&dropped, err, sizeof(err)) < 0) {
		say(NDL_LOG_ERROR, "%s", err);
		return -1;
	}
	if (dropped)
		say(NDL_LOG_INFO, "capture is open: dropped every capability");
	return 0;
}

static void print_setting(const char *key, const char *value)
{
	if (!value) {
		printf("%s\n", key);
		return;
	}
	/* quoted only when reading it back needs the quotes */
	if (*value && *value != '"' && !strchr(" \t", *value) &&
	    !strchr(" \t", value[strlen(value) - 1])) {
		printf("%s = %s\n", key, value);
		return;
	}
	printf("%s = \"", key);
	for (const char *p = value; *p; p++)
		printf(*p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
	printf("\"\n");
}

/* The configuration in effect, in the configuration file's format. */
static void print_effective(const struct app *app)
{
	const struct args *a = &app->a;
	char num[64];

	printf("# nd-sniff %s: the configuration in effect (file, command line, defaults)\n",
	       NDL_VERSION);
	if (a->config)
		printf("# read from %s\n", a->config);
	print_setting("kitchen-name", a->kitchen_name);
	if (a->read_file)
		print_setting("read", a->read_file);
	if (a->realtime)
		print_setting("realtime", NULL);
	if (a->nmsg_file)
		print_setting("nmsg", a->nmsg_file);
	if (a->nmsg_listen)
		print_setting("nmsg-listen", a->nmsg_listen);
	if (a->nmsg_filter)
		print_setting("nmsg-filter", a->nmsg_filter);
	for (size_t i = 0; i < a->n_ifaces; i++)
		print_setting("interface", a->ifaces[i]);
	if (!a->read_file && !a->n_ifaces && !a->nmsg_file && !a->nmsg_listen)
		print_setting("interface", "all");
	print_setting("filter", a->filter);
	snprintf(num, sizeof(num), "%d", a->snaplen);
	print_setting("snaplen", num);
	if (a->buffer_size) {
		snprintf(num, sizeof(num), "%d", a->buffer_size);
		print_setting("buffer-size", num);
	}
	if (a->promisc)
		print_setting("promisc", NULL);
	if (a->fanout) {
		snprintf(num, sizeof(num), "%u:%s", a->fanout_group,
			 ndl__fanout_mode_name(a->fanout_mode));
		print_setting("fanout", num);
	}
	for (size_t i = 0; i < a->n_chef_paths; i++)
		print_setting("chef-path", a->chef_paths[i]);
	for (size_t i = 0; i < a->n_modules; i++)
		print_setting("chef-module", a->modules[i]);
	for (size_t i = 0; i < ndl__kitchen_chef_count(app->k); i++) {
		char name[256];
		snprintf(name, sizeof(name), "%s.%s", ndl__kitchen_chef_module(app->k, i),
			 ndl__kitchen_chef(app->k, i)->name);
		print_setting("chef", name);
	}
	if (a->chef_threads) {
		snprintf(num, sizeof(num), "%d", a->chef_threads);
		print_setting("chef-threads", num);
	} else {
		print_setting("chef-threads", "auto");
	}
	for (size_t i = 0; i < a->n_options; i++)
		print_setting("option", a->options[i]);
	snprintf(num, sizeof(num), "%g", a->poke);
	print_setting("poke-interval", num);
	if (a->to_stdout) {
		print_setting("stdout", NULL);
	} else {
		print_setting("hub", app->hub_name);
		if (a->hub_ca)
			print_setting("hub-ca", a->hub_ca);
		if (a->token_file)
			print_setting("token-file", a->token_file);   /* never the token */
		if (a->no_batch)
			print_setting("no-batch", NULL);
		snprintf(num, sizeof(num), "%zu", a->batch_bytes);
		print_setting("batch-bytes", num);
		snprintf(num, sizeof(num), "%zu",
			 a->outbox_count ? a->outbox_count : (size_t)NDL__OUTBOX_DEFAULT_COUNT);
		print_setting("outbox-max", num);
		snprintf(num, sizeof(num), "%zu",
			 a->outbox_bytes ? a->outbox_bytes : (size_t)NDL__OUTBOX_DEFAULT_BYTES);
		print_setting("outbox-bytes", num);
		if (a->no_reconnect)
			print_setting("no-reconnect", NULL);
		snprintf(num, sizeof(num), "%g", a->reconnect_max);
		print_setting("reconnect-max", num);
		snprintf(num, sizeof(num), "%g", a->drain_timeout);
		print_setting("drain-timeout", num);
		snprintf(num, sizeof(num), "%d",
			 a->hub_eater_port >= 0 ? a->hub_eater_port : a->hub_port + 1);
		print_setting("hub-eater-port", num);
		if (a->capture_hub_traffic)
			print_setting("capture-hub-traffic", NULL);
	}
	if (a->user)
		print_setting("user", a->user);
	if (a->group)
		print_setting("group", a->group);
	if (a->log_json)
		print_setting("log-format", "json");
	if (a->verbosity < 0)
		print_setting("quiet", NULL);
	for (int i = 0; i < a->verbosity; i++)
		print_setting("verbose", NULL);
}

/* Compile the capture filter for the link type the capture would have. */
static int check_filter(const struct app *app, char *err, size_t errlen)
{
	char filter[2048], perr[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	pcap_t *p;
	int r = 0;

	capture_filter(app, filter, sizeof(filter));
	if (app->a.read_file) {
		p = pcap_open_offline(app->a.read_file, perr);
		if (!p) {
			snprintf(err, errlen, "cannot read %s: %s", app->a.read_file, perr);
			return -ENOENT;
		}
	} else {
		/* live: 'any' is Linux cooked capture; one interface, Ethernet */
		bool any = app->a.n_ifaces == 0 || strcmp(app->a.ifaces[0], "any") == 0 ||
			   strcmp(app->a.ifaces[0], "all") == 0;
		p = pcap_open_dead(any ? DLT_LINUX_SLL : DLT_EN10MB, app->a.snaplen);
		if (!p) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "bad capture filter \"%.700s\": %.200s", filter, pcap_geterr(p));
		r = -EINVAL;
	} else {
		pcap_freecode(&prog);
	}
	pcap_close(p);
	return r;
}

/*
 * --test-config: check everything nd-sniff would use without capturing or
 * connecting, print the configuration in effect and "configuration OK"
 * (exit 0), or every problem found (exit 1).
 */
static int test_config(struct app *app)
{
	const struct args *a = &app->a;
	struct ndl_chef_catalog cat = { 0 };
	struct ndl_sink sink = { stdout_write, app };
	struct ndl__privdrop_target target;
	char err[1024];
	int problems = 0;

#define PROBLEM(...) do { say(NDL_LOG_ERROR, __VA_ARGS__); problems++; } while (0)
	if (a->user && ndl__privdrop_resolve(a->user, a->group, &target, err, sizeof(err)) < 0)
		PROBLEM("%s", err);
	if (!a->to_stdout && a->token_file &&
	    read_token(a->token_file, app->token, sizeof(app->token), err, sizeof(err)) < 0)
		PROBLEM("%s", err);
	if (!a->to_stdout && a->hub_ca && access(a->hub_ca, R_OK) < 0)
		PROBLEM("cannot read the CA file %s: %s", a->hub_ca, strerror(errno));
	for (size_t i = 0; i < a->n_ifaces; i++) {
		if (strcmp(a->ifaces[i], "all") && strcmp(a->ifaces[i], "any") &&
		    if_nametoindex(a->ifaces[i]) == 0)
			PROBLEM("no interface \"%s\"", a->ifaces[i]);
	}
	if (check_filter(app, err, sizeof(err)) < 0)
		PROBLEM("%s", err);

	/* the chefs: load, choose, set options, init, as a run would */
	app->k = ndl__kitchen_new(a->kitchen_name, sink);
	if (!app->k) {
		PROBLEM("cannot create the kitchen: %s", strerror(errno));
		goto free_catalog;
	}
	ndl__kitchen_set_log(app->k, log_line, app);
	if (load_catalog(a, &cat) < 0) {
		problems++;
		goto free_kitchen;
	}
	for (size_t i = 0; i < a->n_options; i++)
		if (ndl__kitchen_set_option(app->k, a->options[i], err, sizeof(err)) < 0)
			PROBLEM("%s", err);
	if (a->n_chefs) {
		for (size_t i = 0; i < a->n_chefs; i++) {
			const struct ndl_chef_module *m = find_chef(&cat, a->chefs[i]);
			if (!m)
				PROBLEM("unknown chef \"%s\"", a->chefs[i]);
			else if (ndl__kitchen_add_chef(app->k, m, err, sizeof(err)) < 0)
				PROBLEM("%s", err);
		}
	} else {
		for (size_t i = 0; i < cat.n; i++) {
			if (ndl__chef_flags(cat.modules[i]->desc) & NDL_CHEF_F_OPT_IN)
				continue;
			if (ndl__kitchen_add_chef(app->k, cat.modules[i], err, sizeof(err)) < 0)
				PROBLEM("%s", err);
		}
	}
	if (ndl__kitchen_chef_count(app->k) == 0 && !a->n_chefs)
		PROBLEM("no usable chef found (searched %s%s)",
			a->n_modules ? "the modules given with -m" : default_chef_dir(),
			a->n_chef_paths ? " and --chef-path" : "");
	else if (!problems && ndl__kitchen_chef_count(app->k) &&
		 ndl__kitchen_start(app->k, err, sizeof(err)) < 0)
		PROBLEM("%s", err);
	if (!problems) {
		if (verbosity >= 0)    /* -q: only the verdict */
			print_effective(app);
		printf("configuration OK\n");
	} else {
		fprintf(stderr, "nd-sniff: %d problem%s in the configuration\n", problems,
			problems == 1 ? "" : "s");
	}
#undef PROBLEM
free_kitchen:
	ndl__kitchen_free(app->k);
	app->k = NULL;
free_catalog:
	ndl__chef_catalog_free(&cat);
	return problems ? EXIT_FAIL : EXIT_OK;
}

/* ------------------------------------------------------------------------ */

/* CPUs this process may run on (its affinity mask), at least 1. */
static unsigned int cpus_available(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned int)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned int)n : 1;
}

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
	struct ndl__privdrop_target target;
	char err[1024], iface[1024], filter[2048];
	char *hello = NULL;
	int r, status = EXIT_FAIL;
	bool start_now = false;

	memset(&app, 0, sizeof(app));
	parse_args(&app.a, argc, argv);
	verbosity = app.a.verbosity;
	log_json = app.a.log_json;
	signal(SIGPIPE, SIG_IGN);
	snprintf(app.hub_name, sizeof(app.hub_name),
		 strchr(app.a.hub_host, ':') ? "%s[%s]:%d" : "%s%s:%d",
		 app.a.hub_tls ? "wss://" : "", app.a.hub_host, app.a.hub_port);
	if (app.a.test_config) {
		status = test_config(&app);
		goto free_conf;
	}
	if (app.a.user &&
	    ndl__privdrop_resolve(app.a.user, app.a.group, &target, err, sizeof(err)) < 0) {
		say(NDL_LOG_ERROR, "%s", err);
		goto free_conf;
	}
	if (!app.a.to_stdout && app.a.token_file &&
	    read_token(app.a.token_file, app.token, sizeof(app.token), err, sizeof(err)) < 0) {
		say(NDL_LOG_ERROR, "%s", err);
		goto free_conf;
	}
	if (load_catalog(&app.a, &cat) < 0)
		goto free_catalog;
	if (app.a.list) {
		list_chefs(&cat);
		status = EXIT_OK;
		goto free_catalog;
	}

	sink.write = app.a.to_stdout ? stdout_write : hub_write;
	if (app.a.to_stdout && !isatty(STDOUT_FILENO)) {
		/* large writes; on_caught_up flushes whenever capture is idle */
		static char stdout_buf[256 * 1024];

		setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	}
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
	ndl__kitchen_set_live_clock(app.k, app.a.read_file == NULL && app.a.nmsg_file == NULL);

	r = uv_loop_init(&app.loop);
	if (r < 0) {
		say(NDL_LOG_ERROR, "cannot start the event loop: %s", uv_strerror(r));
		goto free_kitchen;
	}
	uv_async_init(&app.loop, &app.kitchen_wake, on_kitchen_wake);
	app.kitchen_wake.data = &app;
	app.kitchen_wake_init = true;
	ndl__kitchen_set_wake(app.k, wake_kitchen, &app);
	ndl__kitchen_set_threads(app.k, app.a.chef_threads ? (unsigned int)app.a.chef_threads :
				 cpus_available(), NDL_KITCHEN_CALIBRATE);
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
	ccfg.fanout = app.a.fanout != NULL;
	ccfg.fanout_group = app.a.fanout_group;
	ccfg.fanout_mode = app.a.fanout_mode;
	ccfg.poke_ns = (ndl_time_ns)llround(app.a.poke * 1e9);
	ccb.should_pause = should_pause;
	ccb.on_caught_up = on_caught_up;
	ccb.on_end = on_capture_end;
	ccb.log = capture_log;
	ccb.arg = &app;
	if (app.a.nmsg_file || app.a.nmsg_listen) {
		struct ndl__nmsg_input_config ncfg = {
			.file = app.a.nmsg_file, .listen = app.a.nmsg_listen,
			.filter = app.a.nmsg_filter, .bpf = app.a.filter, .poke_ns = ccfg.poke_ns,
		};
		snprintf(iface, sizeof(iface), "nmsg:%s", app.a.nmsg_file ? app.a.nmsg_file :
			 app.a.nmsg_listen);
		if (ndl__nmsg_input_open(&app.loop, app.k, &ncfg, &ccb, &app.nmsg, err,
					 sizeof(err)) < 0) {
			say(NDL_LOG_ERROR, "%s", err);
			goto close_loop;
		}
	} else if (ndl__capture_open(&app.loop, app.k, &ccfg, &ccb, &app.cap, err,
				     sizeof(err)) < 0) {
		say(NDL_LOG_ERROR, "%s", err);
		goto close_loop;
	} else if (ccfg.fanout) {
		for (size_t i = 0; i < ccfg.n_ifaces; i++)
			say(NDL_LOG_INFO, "%s: in fanout group %zu (%s)",
			    app.a.n_ifaces ? app.a.ifaces[i] : "all",
			    ccfg.fanout_group + i, ndl__fanout_mode_name(ccfg.fanout_mode));
	}
	/*
	 * Everything that needs privileges is open now, but the hub client's
	 * TLS context, which reads the CA file, and which the loop creates
	 * below: the drop comes after it, before the loop runs.
	 */

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
		start_now = true;
	} else {
		struct ndl__hub_client_config hcfg = { 0 };
		struct ndl__hub_client_callbacks hcb = { 0 };

		hello = make_hello(&app, iface);
		if (!hello) {
			say(NDL_LOG_ERROR, "out of memory");
			request_stop(&app, EXIT_FAIL, false);
		} else {
			hcfg.host = app.a.hub_host;
			hcfg.port = app.a.hub_port;
			hcfg.hello = hello;
			hcfg.outbox_count = app.a.outbox_count;
			hcfg.outbox_bytes = app.a.outbox_bytes;
			hcfg.verbose = app.a.verbosity > 0;
			hcfg.lossless = app.a.read_file != NULL || app.a.nmsg_file != NULL;
			if (hcfg.lossless) {
				/* the chef threads' dumplings wait too */
				app.lossless_hub = true;
				ndl__kitchen_set_hold(app.k, should_pause, &app);
			}
			hcfg.reconnect = !app.a.no_reconnect;
			hcfg.reconnect_max_ms = (uint64_t)llround(app.a.reconnect_max * 1000.0);
			hcfg.tls = app.a.hub_tls;
			hcfg.ca_file = app.a.hub_ca;
			hcfg.batch = !app.a.no_batch;
			hcfg.batch_bytes = app.a.batch_bytes;
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
				start_now = true;
			}
		}
	}

	if (drop_privileges(app.a.user ? &target : NULL) < 0) {
		/* the hub client may have started connecting: end it unsent */
		app.exit_code = EXIT_FAIL;
		app.stopping = true;
		finish(&app);
	} else if (start_now) {
		/* after the drop: the capture thread starts without privileges */
		start_capture(&app);
	}
	uv_run(&app.loop, UV_RUN_DEFAULT);
	status = app.exit_code;
	ndl__kitchen_halt(app.k);

	if (verbosity >= 0)
		log_stats(&app);

close_loop:
	ndl__kitchen_halt(app.k);
	if (app.kitchen_wake_init && !uv_is_closing((uv_handle_t *)&app.kitchen_wake))
		uv_close((uv_handle_t *)&app.kitchen_wake, NULL);
	ndl__capture_close(app.cap);
	app.cap = NULL;
	ndl__nmsg_input_close(app.nmsg);
	app.nmsg = NULL;
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
	if (hello)
		explicit_bzero(hello, strlen(hello));
	free(hello);
free_conf:
	explicit_bzero(app.token, sizeof(app.token));
	ndl__conf_free(conf);
	fflush(stdout);
	return status;
}
