/* SPDX-License-Identifier: MIT */
/*
 * kitchen.c - nd-bench-kitchen: the fan-out benchmark's publisher. One
 * process, one epoll loop, K kitchen connections to a hub's kitchen port,
 * each sending benchmark dumplings (dumpling.h) either flat out, as fast as
 * the hub takes them, or paced at a total rate in 1 ms ticks.
 *
 * In batch mode (docs/protocol.md section 10) it offers the subprotocol
 * netdumplings.batch.v1 and sends JSON Lines messages; a hub that does not
 * agree makes it exit with status 3 so the caller can report "n/a".
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
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "args.h"
#include "bws.h"
#include "dumpling.h"

#define SUBPROTO_BATCH "netdumplings.batch.v1"
#define EXIT_NO_BATCH 3
#define WBUF_FILL (256u * 1024u)         /* flat out: keep this much ready */
#define WBUF_PACED_MAX (8u * 1024u * 1024u)  /* paced: stop generating past this */
#define TICK_NS 1000000u                 /* paced: one tick a millisecond */
#define FLUSH_WAIT_MS 5000               /* at the end: longest wait to drain */
#define CATCH_UP_MAX 65536u              /* paced: dumplings generated per tick at most */

struct kconn {
	int fd;
	unsigned idx;
	struct ndl__bws_rx rx;
	unsigned char *wbuf;         /* frames ready to write: wbuf[woff..wlen) */
	size_t woff, wlen, wcap;
	uint64_t next_seq;           /* of the next dumpling generated, from 1 */
	uint64_t generated;
	bool want_out;               /* EPOLLOUT is registered */
	bool gone;                   /* the hub closed the connection */
};

struct opts {
	char host[256];
	int port;
	unsigned kitchens;
	double rate;                 /* dumplings per second in all; 0: flat out */
	uint64_t count;              /* per kitchen; 0: no limit */
	double duration;             /* seconds; 0: no limit */
	bool batch;
	unsigned batch_max;          /* dumplings per batch message at most */
};

static volatile sig_atomic_t stop_signal;
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static unsigned char scratch[64u * NDL__BENCH_DUMPLING_MAX + 1024];

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: nd-bench-kitchen [OPTION]...\n"
"Send benchmark dumplings (DNSLookupChef-shaped, 330 to 370 bytes, numbered\n"
"with metadata.seq and stamped with metadata.sent_ns) to a netdumplings hub.\n"
"\n"
"  -h, --hub HOST:PORT    the hub's kitchen port (default 127.0.0.1:11347)\n"
"  -k, --kitchens N       kitchen connections, each with its own numbering\n"
"                         (default 1, at most %d)\n"
"  -r, --rate N           dumplings per second over all kitchens, sent in 1 ms\n"
"                         ticks; 0 sends flat out (default 0)\n"
"  -c, --count N          dumplings per kitchen, then finish; 0: no limit\n"
"  -d, --duration SECS    finish after this long; 0: no limit (default 0)\n"
"  -b, --batch            offer the batch subprotocol (netdumplings.batch.v1)\n"
"                         and send JSON Lines; exit 3 if the hub refuses it\n"
"      --batch-max N      dumplings per batch message at most (default 64)\n"
"      --help             print this help and exit\n"
"\n"
"At the end (count or duration reached, or SIGTERM/SIGINT) it prints one JSON\n"
"line with what it sent. Exit status: 0 done, 1 error, 2 usage, 3 no batch.\n",
		NDL__BENCH_KITCHENS_MAX);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "hub", required_argument, NULL, 'h' },
		{ "kitchens", required_argument, NULL, 'k' },
		{ "rate", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "batch", no_argument, NULL, 'b' },
		{ "batch-max", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int c;

	snprintf(o->host, sizeof(o->host), "127.0.0.1");
	o->port = 11347;
	o->kitchens = 1;
	o->batch_max = 64;
	while ((c = getopt_long(argc, argv, "h:k:r:c:d:b", lo, NULL)) != -1) {
		switch (c) {
		case 'h':
			if (ndl__bench_parse_hostport(optarg, o->host, sizeof(o->host), &o->port) < 0) {
				fprintf(stderr, "nd-bench-kitchen: invalid value '%s' for --hub "
					"(expected HOST:PORT)\n", optarg);
				return -EINVAL;
			}
			break;
		case 'k':
			if (ndl__bench_parse_num("nd-bench-kitchen", "--kitchens", optarg, 1, NDL__BENCH_KITCHENS_MAX, &v) < 0)
				return -EINVAL;
			o->kitchens = (unsigned)v;
			break;
		case 'r':
			if (ndl__bench_parse_num("nd-bench-kitchen", "--rate", optarg, 0, 1e8, &o->rate) < 0)
				return -EINVAL;
			break;
		case 'c':
			if (ndl__bench_parse_num("nd-bench-kitchen", "--count", optarg, 0, 1e15, &v) < 0)
				return -EINVAL;
			o->count = (uint64_t)v;
			break;
		case 'd':
			if (ndl__bench_parse_num("nd-bench-kitchen", "--duration", optarg, 0, 1e6, &o->duration) < 0)
				return -EINVAL;
			break;
		case 'b':
			o->batch = true;
			break;
		case 'M':
			if (ndl__bench_parse_num("nd-bench-kitchen", "--batch-max", optarg, 1, 64, &v) < 0)
				return -EINVAL;
			o->batch_max = (unsigned)v;
			break;
		case 'H':
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "Try 'nd-bench-kitchen --help'.\n");
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nd-bench-kitchen: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

static uint64_t epoch_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int wbuf_reserve(struct kconn *k, size_t more)
{
	if (k->woff && k->woff == k->wlen)
		k->woff = k->wlen = 0;
	if (k->wlen + more > k->wcap && k->woff) {
		memmove(k->wbuf, k->wbuf + k->woff, k->wlen - k->woff);
		k->wlen -= k->woff;
		k->woff = 0;
	}
	if (k->wlen + more > k->wcap) {
		size_t cap = k->wcap ? k->wcap : 65536;
		unsigned char *nb;

		while (cap < k->wlen + more)
			cap *= 2;
		nb = realloc(k->wbuf, cap);
		if (!nb)
			return -ENOMEM;
		k->wbuf = nb;
		k->wcap = cap;
	}
	return 0;
}

static int queue_frame(struct kconn *k, const void *payload, size_t len)
{
	int r = wbuf_reserve(k, NDL__BWS_HEADER_MAX + len);

	if (r < 0)
		return r;
	k->wlen += ndl__bws_frame(k->wbuf + k->wlen, NDL__BWS_OP_TEXT, payload, len, &rng);
	return 0;
}

/*
 * Queue n more dumplings on k: one message each, or JSON Lines messages of
 * up to batch_max dumplings. Each is stamped as it is written.
 */
static int generate(struct kconn *k, const struct opts *o, uint64_t n)
{
	uint64_t now_us = epoch_us();

	while (n) {
		unsigned per = o->batch ? (n < o->batch_max ? (unsigned)n : o->batch_max) : 1;
		size_t len = 0;
		int r;

		for (unsigned i = 0; i < per; i++) {
			len += ndl__bench_dumpling((char *)scratch + len, k->idx, k->next_seq++,
						   now_us, ndl__bws_now_ns());
			if (o->batch)
				scratch[len++] = '\n';
		}
		r = queue_frame(k, scratch, len);
		if (r < 0)
			return r;
		k->generated += per;
		n -= per;
	}
	return 0;
}

static uint64_t left_to_send(const struct kconn *k, const struct opts *o)
{
	if (!o->count)
		return UINT64_MAX;
	return k->generated < o->count ? o->count - k->generated : 0;
}

/* Write what the socket takes; returns 0, or a negative errno when the link is lost. */
static int flush(struct kconn *k)
{
	while (k->woff < k->wlen) {
		ssize_t n = write(k->fd, k->wbuf + k->woff, k->wlen - k->woff);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -errno;
		k->woff += (size_t)n;
	}
	return 0;
}

static void set_out(int ep, struct kconn *k, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = k };

	if (k->want_out == on || k->gone)
		return;
	k->want_out = on;
	epoll_ctl(ep, EPOLL_CTL_MOD, k->fd, &ev);
}

static void drain_input(void *arg, const unsigned char *data, size_t len, uint64_t now)
{
	(void)arg; (void)data; (void)len; (void)now;   /* hubs send kitchens nothing */
}

static int run(struct opts *o, struct kconn *ks)
{
	struct epoll_event evs[NDL__BENCH_KITCHENS_MAX + 1];
	double per_kitchen_rate = o->rate / o->kitchens;
	uint64_t start = ndl__bws_now_ns(), end_ns;
	int ep, tfd = -1, r = 0;
	bool finishing = false;

	end_ns = o->duration > 0 ? start + (uint64_t)(o->duration * 1e9) : UINT64_MAX;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	for (unsigned i = 0; i < o->kitchens; i++) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = &ks[i] };

		ks[i].want_out = true;
		epoll_ctl(ep, EPOLL_CTL_ADD, ks[i].fd, &ev);
	}
	if (o->rate > 0) {
		struct itimerspec its = { .it_interval = { 0, TICK_NS }, .it_value = { 0, TICK_NS } };
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0) {
			r = -errno;
			goto close_ep;
		}
		epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	}

	while (!stop_signal) {
		uint64_t now = ndl__bws_now_ns();
		bool all_done = true, all_flushed = true;
		int n;

		if (!finishing && now >= end_ns)
			finishing = true;
		for (unsigned i = 0; i < o->kitchens; i++) {
			if (left_to_send(&ks[i], o) && !ks[i].gone)
				all_done = false;
			if (ks[i].woff < ks[i].wlen && !ks[i].gone)
				all_flushed = false;
		}
		if (all_done)
			finishing = true;
		if (finishing && all_flushed)
			break;
		if (finishing && now >= end_ns + (uint64_t)FLUSH_WAIT_MS * 1000000u &&
		    o->duration > 0)
			break;

		n = epoll_wait(ep, evs, (int)(sizeof(evs) / sizeof(evs[0])), 100);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		for (int e = 0; e < n; e++) {
			struct kconn *k = evs[e].data.ptr;

			if (!k) {
				/* a paced tick: catch every kitchen up to its due count */
				uint64_t ticks;
				double el = (double)(ndl__bws_now_ns() - start) / 1e9;

				if (read(tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN) {
					r = -errno;
					goto close_ep;
				}
				if (finishing)
					continue;
				for (unsigned i = 0; i < o->kitchens; i++) {
					struct kconn *kk = &ks[i];
					uint64_t due = (uint64_t)(per_kitchen_rate * el);
					uint64_t left = left_to_send(kk, o), want;

					if (kk->gone || due <= kk->generated ||
					    kk->wlen - kk->woff > WBUF_PACED_MAX)
						continue;
					want = due - kk->generated;
					if (want > left)
						want = left;
					if (want > CATCH_UP_MAX)
						want = CATCH_UP_MAX;
					if ((r = generate(kk, o, want)) < 0 ||
					    (r = flush(kk)) < 0)
						goto close_ep;
					set_out(ep, kk, kk->woff < kk->wlen);
				}
				continue;
			}
			if (evs[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
				long rd = ndl__bws_read(k->fd, &k->rx, drain_input, NULL);

				if (rd < 0 || k->rx.closed) {
					fprintf(stderr, "nd-bench-kitchen: kitchen %u: the hub closed "
						"the connection (%s)\n", k->idx,
						k->rx.closed ? "close frame" : strerror((int)-rd));
					epoll_ctl(ep, EPOLL_CTL_DEL, k->fd, NULL);
					k->gone = true;
					r = -ECONNRESET;
					continue;
				}
			}
			if (evs[e].events & EPOLLOUT) {
				/* flat out: keep WBUF_FILL bytes of frames ready */
				if (o->rate <= 0 && !finishing) {
					uint64_t left = left_to_send(k, o);

					while (left && k->wlen - k->woff < WBUF_FILL) {
						uint64_t chunk = o->batch ? o->batch_max : 32;

						if (chunk > left)
							chunk = left;
						if ((r = generate(k, o, chunk)) < 0)
							goto close_ep;
						left -= chunk;
					}
				}
				if ((r = flush(k)) < 0)
					goto close_ep;
				if (o->rate > 0 || finishing)
					set_out(ep, k, k->woff < k->wlen);
			}
		}
	}
	/* RFC 6455 section 5.5.1: say goodbye; the hub's answer is not awaited. */
	for (unsigned i = 0; i < o->kitchens && !stop_signal; i++) {
		static const unsigned char normal[2] = { 0x03, 0xe8 };
		unsigned char frame[NDL__BWS_HEADER_MAX + 2];

		if (!ks[i].gone)
			ndl__bws_write_all(ks[i].fd, frame,
					   ndl__bws_frame(frame, NDL__BWS_OP_CLOSE, normal, 2, &rng));
	}
close_ep:
	if (tfd >= 0)
		close(tfd);
	close(ep);
	return r;
}

int main(int argc, char **argv)
{
	struct kconn ks[NDL__BENCH_KITCHENS_MAX];
	struct sigaction sa;
	struct rusage ru;
	struct opts o;
	uint64_t t0, total = 0;
	double secs;
	unsigned opened = 0;
	int r, status = 1;
	char proto[128], err[256];

	memset(&o, 0, sizeof(o));
	memset(ks, 0, sizeof(ks));
	if (parse_args(argc, argv, &o) < 0)
		return 2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rng ^= ndl__bws_now_ns() ^ (uint64_t)getpid() << 20;
	rng |= 1;

	for (unsigned i = 0; i < o.kitchens; i++, opened++) {
		char hello[256];
		int n;

		ks[i].idx = i;
		ks[i].next_seq = 1;
		if (ndl__bws_rx_init(&ks[i].rx, 4096) < 0) {
			fprintf(stderr, "nd-bench-kitchen: out of memory\n");
			goto close_all;
		}
		ks[i].fd = ndl__bws_connect(o.host, o.port,
					    o.batch ? SUBPROTO_BATCH ", netdumplings" : NULL,
					    proto, sizeof(proto), &ks[i].rx, err, sizeof(err));
		if (ks[i].fd < 0) {
			fprintf(stderr, "nd-bench-kitchen: %s\n", err);
			ndl__bws_rx_free(&ks[i].rx);
			goto close_all;
		}
		if (o.batch && strcmp(proto, SUBPROTO_BATCH)) {
			printf("{\"batch_unsupported\":true,\"subprotocol\":\"%s\"}\n", proto);
			fprintf(stderr, "nd-bench-kitchen: the hub did not agree to %s "
				"(answered '%s')\n", SUBPROTO_BATCH, proto);
			status = EXIT_NO_BATCH;
			opened++;
			goto close_all;
		}
		/* docs/protocol.md section 2: the kitchen's hello comes first. */
		n = snprintf(hello, sizeof(hello),
			     "{\"kitchen_name\":\"" NDL__BENCH_KITCHEN_PREFIX "%u\","
			     "\"interface\":\"bench\",\"filter\":\"\","
			     "\"chefs\":[\"dnslookup.DNSLookupChef\"],\"poke_interval\":5.0}", i);
		if (queue_frame(&ks[i], hello, (size_t)n) < 0) {
			fprintf(stderr, "nd-bench-kitchen: out of memory\n");
			opened++;
			goto close_all;
		}
	}

	t0 = ndl__bws_now_ns();
	r = run(&o, ks);
	secs = (double)(ndl__bws_now_ns() - t0) / 1e9;
	getrusage(RUSAGE_SELF, &ru);
	for (unsigned i = 0; i < o.kitchens; i++)
		total += ks[i].generated;
	printf("{\"kitchens\":%u,\"batch\":%s,\"generated\":%" PRIu64 ",\"seconds\":%.3f,"
	       "\"rate\":%.1f,\"cpu_s\":%.3f,\"error\":\"%s\"}\n",
	       o.kitchens, o.batch ? "true" : "false", total, secs,
	       secs > 0 ? (double)total / secs : 0.0,
	       (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6,
	       r < 0 ? strerror(-r) : "");
	fflush(stdout);
	status = r < 0 && !stop_signal ? 1 : 0;

close_all:
	for (unsigned i = 0; i < opened; i++) {
		if (ks[i].fd > 0)
			close(ks[i].fd);
		ndl__bws_rx_free(&ks[i].rx);
		free(ks[i].wbuf);
	}
	return status;
}
