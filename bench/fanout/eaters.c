/* SPDX-License-Identifier: MIT */
/*
 * eaters.c - nd-bench-eaters: the fan-out benchmark's receiving side. One
 * process, one epoll loop, N eater connections to a hub's eater port. It
 * counts the benchmark dumplings every eater receives, checks their
 * numbering (metadata.seq, per kitchen and per eater) for losses, and
 * measures latency from the kitchen's send stamp (metadata.sent_ns,
 * CLOCK_MONOTONIC) to the read that brought the dumpling in.
 *
 * Measurement window: it opens when the first benchmark dumpling has
 * arrived plus --warmup seconds, and closes --duration seconds later (or,
 * with --expect, when every eater has every dumpling). Deliveries and
 * latencies count inside the window only; the hub's CPU time
 * (/proc/PID/stat utime + stime) is read as the window opens and closes.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "args.h"
#include "bws.h"
#include "dumpling.h"

#define SUBPROTO_BATCH "netdumplings.batch.v1"
#define EXIT_NO_BATCH 3
#define EATERS_MAX 10000
#define RX_BUF (256u * 1024u)
#define LOOP_WAIT_MS 2

/*
 * Latency histogram in nanoseconds, log-linear: values below 64 have a
 * bucket each; above, 32 buckets per power of two (about 3 % wide).
 */
#define HIST_LINEAR 64
#define HIST_SUB 32
#define HIST_BUCKETS (HIST_LINEAR + 58 * HIST_SUB)

struct eater {
	int fd;
	unsigned idx;
	struct ndl__bws_rx rx;
	struct bench *b;
	uint64_t next_seq[NDL__BENCH_KITCHENS_MAX];   /* expected next, per kitchen */
	uint64_t received;           /* benchmark dumplings, whole run */
	uint64_t lost;               /* numbers skipped */
	uint64_t out_of_order;       /* numbers at or below one already seen */
	bool complete;               /* --expect reached from every kitchen */
	bool gone;
};

struct opts {
	char host[256];
	int port;
	unsigned eaters;
	unsigned kitchens;
	bool batch;
	double warmup, duration, timeout;
	double start_by;             /* open the window anyway this long after ready */
	double idle;                 /* finish after this long without a dumpling; 0: never */
	uint64_t expect;
	long hub_pid;
};

struct bench {
	struct opts o;
	bool measuring, window_done;
	uint64_t first_ns;           /* first benchmark dumpling; 0 before */
	uint64_t last_ns;            /* latest benchmark dumpling */
	uint64_t win_start, win_end;
	uint64_t deliveries;         /* in the window */
	uint64_t hist[HIST_BUCKETS];
	uint64_t lat_max;
	uint64_t lat_max_at;         /* when the largest latency was seen */
	uint64_t over_5ms;           /* deliveries slower than 5 ms */
	uint64_t other, drop_notices, notified_dropped, malformed;
	unsigned complete, gone, closed_by_hub;
	unsigned close_codes[8];     /* the first few codes seen */
	unsigned ncodes;
	double hub_cpu0, hub_cpu1;   /* seconds, -1 when unreadable */
	uint64_t hub_sched0, hub_sched1;
	double self_cpu0, self_cpu1;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: nd-bench-eaters [OPTION]...\n"
"Connect N eaters to a netdumplings hub and measure what they receive of the\n"
"dumplings nd-bench-kitchen sends: deliveries per second, losses (gaps in\n"
"metadata.seq), latency from the kitchen's send stamp, and the hub's CPU time.\n"
"\n"
"  -h, --hub HOST:PORT    the hub's eater port (default 127.0.0.1:11348)\n"
"  -n, --eaters N         eater connections (default 10, at most %d)\n"
"  -k, --kitchens N       kitchens whose numbering --expect waits for (default 1)\n"
"  -b, --batch            offer the batch subprotocol (netdumplings.batch.v1);\n"
"                         exit 3 if the hub refuses it\n"
"  -w, --warmup SECS      the window opens this long after the first dumpling\n"
"                         (default 1)\n"
"  -d, --duration SECS    how long the window stays open (default 5)\n"
"  -e, --expect N         finish once every eater has dumpling N from every\n"
"                         kitchen (the window then closes early)\n"
"  -s, --start-by SECS    when no dumpling has come this long after 'ready'\n"
"                         plus the warm-up, open the window anyway, so a hub\n"
"                         that delivers nothing is measured as such (default 3)\n"
"  -i, --idle SECS        give up once no dumpling has come for this long\n"
"                         after the first (default 0: wait for the timeout)\n"
"  -t, --timeout SECS     give up after this long in all (default 60)\n"
"  -p, --hub-pid PID      read this process's CPU time as the window opens and\n"
"                         closes\n"
"      --help             print this help and exit\n"
"\n"
"It prints 'ready N' once every eater has sent its hello, then at the end one\n"
"JSON line of results. Exit status: 0 done, 1 error or timeout, 2 usage,\n"
"3 no batch mode.\n", EATERS_MAX);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "hub", required_argument, NULL, 'h' },
		{ "eaters", required_argument, NULL, 'n' },
		{ "kitchens", required_argument, NULL, 'k' },
		{ "batch", no_argument, NULL, 'b' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, 'd' },
		{ "expect", required_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 't' },
		{ "start-by", required_argument, NULL, 's' },
		{ "idle", required_argument, NULL, 'i' },
		{ "hub-pid", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int c;

	snprintf(o->host, sizeof(o->host), "127.0.0.1");
	o->port = 11348;
	o->eaters = 10;
	o->kitchens = 1;
	o->warmup = 1;
	o->duration = 5;
	o->timeout = 60;
	o->start_by = 3;
	while ((c = getopt_long(argc, argv, "h:n:k:bw:d:e:s:i:t:p:", lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			if (ndl__bench_parse_hostport(optarg, o->host, sizeof(o->host), &o->port) < 0) {
				fprintf(stderr, "nd-bench-eaters: invalid value '%s' for --hub "
					"(expected HOST:PORT)\n", optarg);
				return -EINVAL;
			}
			break;
		case 'n':
			if (ndl__bench_parse_num("nd-bench-eaters", "--eaters", optarg, 1, EATERS_MAX, &v) < 0)
				return -EINVAL;
			o->eaters = (unsigned)v;
			break;
		case 'k':
			if (ndl__bench_parse_num("nd-bench-eaters", "--kitchens", optarg, 1, NDL__BENCH_KITCHENS_MAX, &v) < 0)
				return -EINVAL;
			o->kitchens = (unsigned)v;
			break;
		case 'b':
			o->batch = true;
			break;
		case 'w':
			if (ndl__bench_parse_num("nd-bench-eaters", "--warmup", optarg, 0, 3600, &o->warmup) < 0)
				return -EINVAL;
			break;
		case 'd':
			if (ndl__bench_parse_num("nd-bench-eaters", "--duration", optarg, 0.01, 3600, &o->duration) < 0)
				return -EINVAL;
			break;
		case 'e':
			if (ndl__bench_parse_num("nd-bench-eaters", "--expect", optarg, 1, 1e15, &v) < 0)
				return -EINVAL;
			o->expect = (uint64_t)v;
			break;
		case 's':
			if (ndl__bench_parse_num("nd-bench-eaters", "--start-by", optarg, 0, 3600, &o->start_by) < 0)
				return -EINVAL;
			break;
		case 'i':
			if (ndl__bench_parse_num("nd-bench-eaters", "--idle", optarg, 0, 3600, &o->idle) < 0)
				return -EINVAL;
			break;
		case 't':
			if (ndl__bench_parse_num("nd-bench-eaters", "--timeout", optarg, 0.1, 86400, &o->timeout) < 0)
				return -EINVAL;
			break;
		case 'p':
			if (ndl__bench_parse_num("nd-bench-eaters", "--hub-pid", optarg, 1, 4194304, &v) < 0)
				return -EINVAL;
			o->hub_pid = (long)v;
			break;
		case 'H':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "Try 'nd-bench-eaters --help'.\n");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nd-bench-eaters: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

/* ---- CPU time ---- */

/* utime + stime of pid in seconds (proc(5): fields 14 and 15), or -1. */
static double proc_cpu(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');   /* the command name may hold spaces */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Nanoseconds pid's threads spent on a CPU (first field of schedstat), or 0. */
static uint64_t proc_sched_ns(long pid)
{
	char path[64];
	unsigned long long ns = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/schedstat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

static double self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ---- histogram ---- */

static unsigned hist_index(uint64_t v)
{
	int e;

	if (v < HIST_LINEAR)
		return (unsigned)v;
	e = 63 - __builtin_clzll(v);   /* 6 to 63 */
	return HIST_LINEAR + (unsigned)(e - 6) * HIST_SUB +
	       (unsigned)((v >> (e - 5)) - HIST_SUB);
}

/* The middle of bucket i's range. */
static double hist_value(unsigned i)
{
	unsigned e, m;

	if (i < HIST_LINEAR)
		return i;
	e = (i - HIST_LINEAR) / HIST_SUB + 6;
	m = (i - HIST_LINEAR) % HIST_SUB + HIST_SUB;
	return ((double)m + 0.5) * (double)(1ull << (e - 5));
}

static double hist_quantile(const struct bench *b, double q)
{
	uint64_t total = 0, seen = 0, want;

	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		total += b->hist[i];
	if (!total)
		return -1;
	want = (uint64_t)ceil(q * (double)total);
	if (want < 1)
		want = 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += b->hist[i];
		if (seen >= want)
			return hist_value(i);
	}
	return (double)b->lat_max;
}

/* ---- receiving ---- */

static void on_one(struct eater *e, const unsigned char *p, size_t len, uint64_t now)
{
	struct bench *b = e->b;
	struct ndl__bench_seen s;

	switch (ndl__bench_read(p, len, &s)) {
	case NDL__BENCH_OURS: {
		uint64_t *next = &e->next_seq[s.kitchen];

		e->received++;
		b->last_ns = now;
		if (!b->first_ns) {
			b->first_ns = now;
			b->win_start = now + (uint64_t)(b->o.warmup * 1e9);
			b->win_end = b->win_start + (uint64_t)(b->o.duration * 1e9);
		}
		if (s.seq >= *next) {
			e->lost += s.seq - *next;
			*next = s.seq + 1;
		} else {
			e->out_of_order++;
		}
		if (b->o.expect && !e->complete) {
			bool all = true;

			for (unsigned k = 0; k < b->o.kitchens; k++)
				all &= e->next_seq[k] > b->o.expect;
			if (all) {
				e->complete = true;
				b->complete++;
			}
		}
		if (b->measuring) {
			uint64_t lat = now > s.sent_ns ? now - s.sent_ns : 0;

			b->deliveries++;
			b->hist[hist_index(lat)]++;
			if (lat > 5000000u)
				b->over_5ms++;
			if (lat > b->lat_max) {
				b->lat_max = lat;
				b->lat_max_at = now;
			}
		}
		break;
	}
	case NDL__BENCH_DROPS:
		b->drop_notices++;
		b->notified_dropped += s.dropped;
		break;
	default:
		b->other++;
		break;
	}
}

static void on_message(void *arg, const unsigned char *data, size_t len, uint64_t now)
{
	struct eater *e = arg;

	if (!e->b->o.batch) {
		on_one(e, data, len, now);
		return;
	}
	/* docs/protocol.md section 10: one dumpling per line, each ending in LF */
	while (len) {
		const unsigned char *lf = memchr(data, '\n', len);
		size_t n = lf ? (size_t)(lf - data) : len;

		if (!lf)
			e->b->malformed++;
		else
			on_one(e, data, n, now);
		if (!lf)
			break;
		data += n + 1;
		len -= n + 1;
	}
}

static void window_open(struct bench *b)
{
	b->measuring = true;
	b->win_start = ndl__bws_now_ns();
	b->win_end = b->win_start + (uint64_t)(b->o.duration * 1e9);
	b->hub_cpu0 = b->o.hub_pid ? proc_cpu(b->o.hub_pid) : -1;
	b->hub_sched0 = b->o.hub_pid ? proc_sched_ns(b->o.hub_pid) : 0;
	b->self_cpu0 = self_cpu();
}

static void window_close(struct bench *b)
{
	if (!b->measuring)
		window_open(b);   /* finished before it opened: an empty window */
	b->measuring = false;
	b->window_done = true;
	b->win_end = ndl__bws_now_ns();
	b->hub_cpu1 = b->o.hub_pid ? proc_cpu(b->o.hub_pid) : -1;
	b->hub_sched1 = b->o.hub_pid ? proc_sched_ns(b->o.hub_pid) : 0;
	b->self_cpu1 = self_cpu();
}

static void report(struct bench *b, struct eater *es, bool timed_out)
{
	double secs = (double)(b->win_end - b->win_start) / 1e9;
	double hub_cpu = b->hub_cpu0 >= 0 && b->hub_cpu1 >= 0 ? b->hub_cpu1 - b->hub_cpu0 : -1;
	uint64_t received = 0, lost = 0, ooo = 0;

	for (unsigned i = 0; i < b->o.eaters; i++) {
		received += es[i].received;
		lost += es[i].lost;
		ooo += es[i].out_of_order;
	}
	printf("{\"eaters\":%u,\"batch\":%s,\"window_s\":%.4f,\"deliveries\":%" PRIu64 ","
	       "\"rate\":%.1f,\"lat_p50_us\":%.1f,\"lat_p99_us\":%.1f,\"lat_max_us\":%.1f,"
	       "\"received_total\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"out_of_order\":%" PRIu64 ","
	       "\"drop_notices\":%" PRIu64 ",\"notified_dropped\":%" PRIu64 ","
	       "\"other\":%" PRIu64 ",\"malformed\":%" PRIu64 ",\"complete\":%u,"
	       "\"gone\":%u,\"closed_by_hub\":%u,\"close_codes\":[",
	       b->o.eaters, b->o.batch ? "true" : "false", secs, b->deliveries,
	       secs > 0 ? (double)b->deliveries / secs : 0.0,
	       hist_quantile(b, 0.50) / 1e3, hist_quantile(b, 0.99) / 1e3,
	       (double)b->lat_max / 1e3, received, lost, ooo, b->drop_notices,
	       b->notified_dropped, b->other, b->malformed, b->complete, b->gone,
	       b->closed_by_hub);
	for (unsigned i = 0; i < b->ncodes; i++)
		printf("%s%u", i ? "," : "", b->close_codes[i]);
	printf("],\"over_5ms\":%" PRIu64 ",\"lat_max_at_s\":%.3f,", b->over_5ms,
	       b->lat_max_at ? (double)(b->lat_max_at - b->win_start) / 1e9 : -1.0);
	printf("\"hub_cpu_s\":%.3f,\"hub_cpu_us_per_delivery\":%.4f,"
	       "\"hub_sched_cpu_s\":%.4f,\"eaters_cpu_s\":%.3f,\"timed_out\":%s}\n",
	       hub_cpu, hub_cpu >= 0 && b->deliveries ? hub_cpu * 1e6 / (double)b->deliveries : -1,
	       (double)(b->hub_sched1 - b->hub_sched0) / 1e9, b->self_cpu1 - b->self_cpu0,
	       timed_out ? "true" : "false");
	fflush(stdout);
}

static void eater_gone(struct bench *b, int ep, struct eater *e, long why)
{
	if (e->rx.closed) {
		b->closed_by_hub++;
		if (b->ncodes < sizeof(b->close_codes) / sizeof(b->close_codes[0]))
			b->close_codes[b->ncodes++] = e->rx.close_code;
	}
	if (!e->rx.closed && why != -ECONNRESET)
		fprintf(stderr, "nd-bench-eaters: eater %u: %s\n", e->idx, strerror((int)-why));
	epoll_ctl(ep, EPOLL_CTL_DEL, e->fd, NULL);
	e->gone = true;
	b->gone++;
}

int main(int argc, char **argv)
{
	struct bench *b;
	struct eater *es;
	struct epoll_event *evs;
	struct sigaction sa;
	uint64_t deadline, ready_ns = 0;
	unsigned opened = 0;
	bool timed_out = false;
	int ep = -1, status = 1;
	char proto[128], err[256];

	b = calloc(1, sizeof(*b));
	if (!b) {
		fprintf(stderr, "nd-bench-eaters: out of memory\n");
		return 1;
	}
	if (parse_args(argc, argv, &b->o) < 0) {
		free(b);
		return 2;
	}
	es = calloc(b->o.eaters, sizeof(*es));
	evs = calloc(b->o.eaters, sizeof(*evs));
	if (!es || !evs) {
		fprintf(stderr, "nd-bench-eaters: out of memory\n");
		goto free_all;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	deadline = ndl__bws_now_ns() + (uint64_t)(b->o.timeout * 1e9);

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		fprintf(stderr, "nd-bench-eaters: epoll: %s\n", strerror(errno));
		goto free_all;
	}
	for (unsigned i = 0; i < b->o.eaters; i++, opened++) {
		struct eater *e = &es[i];
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = e };
		unsigned char frame[NDL__BWS_HEADER_MAX + 64];
		char hello[64];
		uint64_t rng = ndl__bws_now_ns() | 1;
		int n;

		e->idx = i;
		e->b = b;
		for (unsigned k = 0; k < NDL__BENCH_KITCHENS_MAX; k++)
			e->next_seq[k] = 1;
		if (ndl__bws_rx_init(&e->rx, RX_BUF) < 0) {
			fprintf(stderr, "nd-bench-eaters: out of memory\n");
			goto free_all;
		}
		e->fd = ndl__bws_connect(b->o.host, b->o.port,
					 b->o.batch ? SUBPROTO_BATCH ", netdumplings" : NULL,
					 proto, sizeof(proto), &e->rx, err, sizeof(err));
		if (e->fd < 0) {
			fprintf(stderr, "nd-bench-eaters: eater %u: %s\n", i, err);
			ndl__bws_rx_free(&e->rx);
			goto free_all;
		}
		if (b->o.batch && strcmp(proto, SUBPROTO_BATCH)) {
			printf("{\"batch_unsupported\":true,\"subprotocol\":\"%s\"}\n", proto);
			fprintf(stderr, "nd-bench-eaters: the hub did not agree to %s "
				"(answered '%s')\n", SUBPROTO_BATCH, proto);
			status = EXIT_NO_BATCH;
			opened++;
			goto free_all;
		}
		/* docs/protocol.md section 3: the eater's hello, then it only listens. */
		n = snprintf(hello, sizeof(hello), "{\"eater_name\":\"bench-e%u\"}", i);
		if (ndl__bws_write_all(e->fd, frame, ndl__bws_frame(frame, NDL__BWS_OP_TEXT, hello,
								   (size_t)n, &rng)) < 0) {
			fprintf(stderr, "nd-bench-eaters: eater %u: cannot send its hello\n", i);
			opened++;
			goto free_all;
		}
		epoll_ctl(ep, EPOLL_CTL_ADD, e->fd, &ev);
	}
	printf("ready %u\n", b->o.eaters);
	fflush(stdout);
	ready_ns = ndl__bws_now_ns();

	while (!stop_signal && !b->window_done) {
		uint64_t now;
		int n = epoll_wait(ep, evs, (int)b->o.eaters, LOOP_WAIT_MS);

		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "nd-bench-eaters: epoll_wait: %s\n", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct eater *e = evs[i].data.ptr;
			long r = ndl__bws_read(e->fd, &e->rx, on_message, e);

			if (r < 0 || e->rx.closed)
				eater_gone(b, ep, e, r);
		}
		now = ndl__bws_now_ns();
		if (!b->first_ns &&
		    now >= ready_ns + (uint64_t)((b->o.warmup + b->o.start_by) * 1e9)) {
			fprintf(stderr, "nd-bench-eaters: no dumpling %.1f s after the warm-up; "
				"measuring anyway\n", b->o.start_by);
			b->first_ns = now;
			b->win_start = now;
		}
		if (b->first_ns && !b->measuring && now >= b->win_start)
			window_open(b);
		if (b->measuring && (now >= b->win_end ||
				     (b->o.expect && b->complete == b->o.eaters)))
			window_close(b);
		if (!b->window_done && b->o.expect && b->complete == b->o.eaters)
			window_close(b);
		if (!b->window_done && b->gone == b->o.eaters) {
			fprintf(stderr, "nd-bench-eaters: every eater's connection is gone\n");
			window_close(b);
		}
		if (!b->window_done && b->o.idle > 0 && b->last_ns &&
		    now >= b->last_ns + (uint64_t)(b->o.idle * 1e9)) {
			fprintf(stderr, "nd-bench-eaters: nothing for %.1f s; %u of %u eaters "
				"complete\n", b->o.idle, b->complete, b->o.eaters);
			timed_out = true;
			window_close(b);
		}
		if (!b->window_done && now >= deadline) {
			fprintf(stderr, "nd-bench-eaters: timed out after %.1f s\n", b->o.timeout);
			timed_out = true;
			window_close(b);
		}
	}
	if (!b->window_done)
		window_close(b);
	report(b, es, timed_out);
	status = timed_out || (b->o.expect && b->complete < b->o.eaters) ? 1 : 0;

free_all:
	for (unsigned i = 0; i < opened; i++) {
		close(es[i].fd);
		ndl__bws_rx_free(&es[i].rx);
	}
	if (ep >= 0)
		close(ep);
	free(evs);
	free(es);
	free(b);
	return status;
}
