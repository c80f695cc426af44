/* SPDX-License-Identifier: MIT */
/*
 * kitchen.c - the chef host: chef instances, their options, the services
 * of struct ndl_host, decoding once per packet and dispatch.
 *
 * Chefs run on stations. Station 0 is the caller's thread (the loop's);
 * with ndl__kitchen_set_threads, stations 1 and up are threads of their
 * own, each running some chefs on every packet (section "Stations" below).
 * A station owns one JSON writer, one decoded packet and one buffer each
 * for the DNS, HTTP and TLS parsers, reused for every packet, so the steady
 * state allocates nothing. The application parsers run only when a chef
 * asks, at most once a packet per station.
 */
#define _GNU_SOURCE   /* pthread_setname_np */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "decode.h"
#include "envelope.h"
#include "jsonw.h"
#include "kitchen.h"
#include "options.h"
#include "ring.h"

/* Most -o assignments kept. */
#define MAX_OPTION_SETTINGS 256
/* Most distinct counter names per chef; the rest add up in "other". */
#define MAX_CHEF_COUNTERS 32
#define COUNTER_NAME_MAX 48
/* Malformed dumplings in a row after which a chef is disabled. */
#define MAX_CONSECUTIVE_ERRORS 100
/* Log lines a chef (or the kitchen about a chef) may write per window. */
#define LOG_BURST 20
#define LOG_WINDOW_NS (10LL * 1000000000LL)
/* Largest dumpling the kitchen makes. */
#define DUMPLING_LIMIT (16u * 1024u * 1024u)
#define MAX_STATIONS NDL_KITCHEN_MAX_THREADS
/* Chefs are placed again after this many packets, then twice as many, up
 * to the most; a station times one packet in TIME_EVERY (a power of two). */
#define BALANCE_FIRST 65536u
#define BALANCE_MAX (1u << 21)
#define TIME_EVERY 64u
/* A sleeping station thread is woken at least every KICK_EVERY packets
 * handed over (a power of two), and by ndl__kitchen_flush; a waiting caller
 * is looked for at least every KICK_EVERY records a station thread takes,
 * and when it runs out of records. */
#define KICK_EVERY 64u
/* Until measured: what a chef thread costs per packet, on the caller's
 * thread (copying the packet, sending the dumplings) and on its own
 * (decoding the copy), in ns. */
#define HAND_NS_GUESS 80u
#define THREAD_NS_GUESS 60u
/* Each station thread's rings: packets in, dumplings out. */
#define IN_RING_BYTES (2u * 1024u * 1024u)
#define OUT_RING_BYTES (2u * 1024u * 1024u)

struct option_setting {
	char *chef;        /* owned */
	char *key;         /* owned */
	char *value;       /* owned */
};

struct chef_counter {
	char name[COUNTER_NAME_MAX];
	uint64_t value;
};

struct station;

struct chef {
	struct ndl_chef_ctx ctx;              /* first: callbacks get &chef->ctx */
	struct ndl_kitchen *k;
	struct station *s;                    /* where it runs */
	size_t index;                         /* in k->chefs */
	const struct ndl_chef_module *m;
	const struct ndl_chef_descriptor *d;
	char *head;                           /* its envelopes' opening (owned) */
	size_t head_len;
	struct ndl__opt_value vals[NDL__OPT_MAX];
	size_t n_opts;
	bool init_ran;
	/* Counted on the chef's station: */
	bool disabled;
	unsigned int consecutive_errors;
	uint64_t refused;                     /* malformed, or emitted while disabled */
	uint64_t malformed;
	uint64_t cost_ns;                     /* on_packet time since last placed (sampled) */
	struct chef_counter counters[MAX_CHEF_COUNTERS];
	size_t n_counters;
	uint64_t other_counter;
	bool other_used;
	/* log rate limit */
	ndl_time_ns log_window_start;
	unsigned int log_lines;
	uint64_t log_suppressed;
	/* Counted on the caller's thread, where the sink is, on a cache line
	 * of their own: the chef's thread reads the fields above all along. */
	_Alignas(64) uint64_t sunk;           /* accepted by the sink */
	uint64_t sink_dropped;                /* refused by it */
	char sink_line[64 - 2 * sizeof(uint64_t)];
};

/* What a station thread is handed, in its input ring. */
enum in_kind {
	IN_PACKET,                            /* struct in_packet, then the bytes */
	IN_CLOCK,                             /* struct in_clock: set the replay clock */
	IN_INTERVAL,                          /* run the interval handlers */
};

struct in_packet {
	uint32_t kind;
	int32_t linktype;
	ndl_time_ns ts;
	uint32_t caplen;
	uint32_t wirelen;
	uint8_t data[];
};

struct in_clock {
	uint32_t kind;
	uint32_t pad;
	ndl_time_ns t;
};

/* A finished dumpling, in a station thread's output ring: sent by the
 * caller's thread, which numbers it (",\"seq\":N" goes in at seq_at). */
struct out_dumpling {
	uint32_t chef;                        /* index in k->chefs */
	uint32_t driver;
	uint32_t seq_at;
	uint32_t len;
	char *big;                            /* malloc'd json when too big for the ring */
	char json[];
};

/*
 * A station: chefs that run one after another on one thread, on every
 * packet, and what they share per packet. Station 0 is the caller's.
 */
struct station {
	struct ndl_kitchen *k;
	unsigned int index;
	/* a copy of the kitchen's, so that a station thread reads nothing on
	 * the cache lines the caller's thread writes for every dumpling */
	bool live_clock;
	struct chef **chefs;                  /* its chefs, in the order added */
	size_t n_chefs;                       /* read by the caller for every packet */
	/* the station's own from here on (a thread writes these for every
	 * packet: not on the line above) */
	_Alignas(64) ndl_time_ns clock;       /* replay clock, as this station knows it */
	uint64_t n_packets;                   /* dispatched, for sampling */
	uint64_t taken;                       /* records taken (thread) */

	/* per packet; the flags together, since every packet resets them */
	struct ndl_packet pkt;
	bool in_packet;
	bool dns_parsed;
	bool http_parsed;
	bool tls_parsed;
	const struct ndl_dns *dns;
	const struct ndl_http *http;
	const struct ndl_tls_hello *tls;
	struct ndl__dns_buf dnsbuf;
	struct ndl__http_buf httpbuf;
	struct ndl__tls_buf tlsbuf;
	/* counts: the kitchen's own on the caller's station; a station thread
	 * keeps its own, added to the kitchen's at every ndl__kitchen_sync */
	uint64_t *dns_errs, *http_errs, *tls_errs, *dropped;
	uint64_t dns_errors[NDL_DNS_ERROR_COUNT];
	uint64_t http_errors[NDL_HTTP_ERROR_COUNT];
	uint64_t tls_errors[NDL_TLS_ERROR_COUNT];
	uint64_t dumplings_dropped;

	/* the dumpling being written */
	struct ndl_jwb jwb;
	struct chef *open;                    /* chef with a dumpling open, or NULL */
	enum ndl_driver open_driver;
	size_t payload_start;                 /* writer length after the envelope prefix */

	/* stations 1 and up: the thread and its rings */
	bool threaded;
	pthread_t thread;
	struct ndl__ring in;                  /* the caller produces, the thread consumes */
	struct ndl__ring out;                 /* the thread produces, the caller consumes */
	pthread_mutex_t lock;
	pthread_cond_t thread_cv;             /* the thread waits: input, or room out */
	pthread_cond_t caller_cv;             /* the caller waits: room in, or output */
	bool joined;                          /* the thread has ended */
	uint64_t cpu_ns;                      /* the thread's CPU time, set as it ends */
	/* written by either side now and then, read by the other often */
	_Alignas(64) atomic_bool thread_waits;
	atomic_bool caller_waits;
	atomic_bool loop_waits;               /* the caller's loop waits for room in */
	atomic_bool stop;
	/* the caller's alone, on a line of its own */
	_Alignas(64) uint64_t handed;         /* records handed over */
	uint64_t kicked;                      /* handed at the last kick */
	char handed_line[64 - 2 * sizeof(uint64_t)];
};

struct ndl_kitchen {
	char *name;
	struct ndl_sink sink;
	struct ndl_host host;
	struct chef **chefs;
	size_t n_chefs;
	size_t cap_chefs;
	struct option_setting settings[MAX_OPTION_SETTINGS];
	size_t n_settings;
	bool live_clock;
	struct ndl_kitchen_stats stats;
	uint64_t next_seq;                    /* metadata.seq of the next dumpling, from 1 */

	/* stations; [0] is the caller's */
	struct station *stations[MAX_STATIONS];
	unsigned int n_stations;              /* in use: 1 until the chefs are spread */
	unsigned int want_stations;           /* ndl__kitchen_set_threads */
	uint64_t calibrate;                   /* packets still to measure before spreading */
	uint64_t since_balance;               /* packets since the chefs were placed */
	uint64_t next_balance;                /* ... after which they are placed again */
	uint64_t overhead_ns;                 /* the caller's time handing over and sending */
	uint64_t window;                      /* packets timed since the chefs were placed */
	bool spread;                          /* the chefs are spread over the stations */
	bool halted;                          /* the station threads are stopped */
	bool balance_due;                     /* place the chefs again once the threads are dry */
	bool spread_logged;                   /* a placement was logged */
	struct ndl_jwb merge;                 /* a station thread's dumpling, numbered */
	void (*wake)(void *arg);              /* from a station thread: output waits */
	void *wake_arg;
	bool (*hold)(void *arg);              /* true: the sink wants no more now */
	void *hold_arg;

	void (*log)(void *arg, enum ndl_log_level level, const char *line);
	void *log_arg;
};

static struct chef *chef_of(struct ndl_chef_ctx *ctx)
{
	return (struct chef *)(void *)ctx;
}

uint64_t ndl__clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static ndl_time_ns mono_ns(void)
{
	return (ndl_time_ns)ndl__clock_ns(CLOCK_MONOTONIC);
}

static ndl_time_ns wall_ns(void)
{
	return (ndl_time_ns)ndl__clock_ns(CLOCK_REALTIME);
}

static void default_log(void *arg, enum ndl_log_level level, const char *line)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	(void)arg;
	fprintf(stderr, "nd-sniff: %s: %s\n", level <= NDL_LOG_DEBUG ? names[level] : "log", line);
}

static void klog(struct ndl_kitchen *k, enum ndl_log_level level, const char *fmt, ...)
	NDL_PRINTF(3, 4);
static void klog(struct ndl_kitchen *k, enum ndl_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	k->log(k->log_arg, level, line);
}

/* True when chef c may log one more line now; reports what was suppressed. */
static bool chef_log_allowed(struct chef *c)
{
	ndl_time_ns now = mono_ns();

	if (now - c->log_window_start >= LOG_WINDOW_NS) {
		if (c->log_suppressed)
			klog(c->k, NDL_LOG_WARN, "%s: %llu log lines suppressed", c->d->name,
			     (unsigned long long)c->log_suppressed);
		c->log_window_start = now;
		c->log_lines = 0;
		c->log_suppressed = 0;
	}
	if (c->log_lines >= LOG_BURST) {
		c->log_suppressed++;
		return false;
	}
	c->log_lines++;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Host services                                                             */
/* ------------------------------------------------------------------------ */

static void host_log(struct ndl_chef_ctx *ctx, enum ndl_log_level level, const char *fmt, ...)
	NDL_PRINTF(3, 4);
static void host_log(struct ndl_chef_ctx *ctx, enum ndl_log_level level, const char *fmt, ...)
{
	struct chef *c = chef_of(ctx);
	char msg[768];
	va_list ap;

	if (!chef_log_allowed(c))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	klog(c->k, level, "%s: %s", c->d->name, msg);
}

static void chef_failed(struct chef *c, const char *what)
{
	c->consecutive_errors++;
	if (chef_log_allowed(c))
		klog(c->k, NDL_LOG_WARN, "%s: %s", c->d->name, what);
	if (c->consecutive_errors >= MAX_CONSECUTIVE_ERRORS && !c->disabled) {
		c->disabled = true;
		klog(c->k, NDL_LOG_ERROR, "%s: disabled after %u failed dumplings in a row",
		     c->d->name, c->consecutive_errors);
	}
}

/* A dumpling refused on the chef's station: malformed, or while disabled. */
static void refuse(struct chef *c, bool malformed)
{
	c->refused++;
	(*c->s->dropped)++;
	if (malformed)
		c->malformed++;
}

static ndl_time_ns station_now(const struct station *s)
{
	return s->live_clock ? wall_ns() : s->clock;
}

static struct ndl_jw *host_emit_begin(struct ndl_chef_ctx *ctx, enum ndl_driver driver)
{
	struct chef *c = chef_of(ctx);
	struct station *s = c->s;
	ndl_time_ns t;

	if (c->disabled) {
		refuse(c, false);
		return NULL;
	}
	if (s->open) {
		refuse(c, true);
		chef_failed(c, "emit_begin while a dumpling is already open");
		return NULL;
	}
	if (driver != NDL_DRIVER_PACKET && driver != NDL_DRIVER_INTERVAL) {
		refuse(c, true);
		chef_failed(c, "emit_begin with an unknown driver");
		return NULL;
	}
	t = (driver == NDL_DRIVER_PACKET && s->in_packet) ? s->pkt.ts : station_now(s);
	/* The number is taken only once the dumpling is whole (emit_end), so a
	 * malformed one leaves no gap; one lost later does (docs/protocol.md 4).
	 * A station thread's dumplings are numbered as they are sent. */
	ndl_envelope_begin_head(&s->jwb, c->head, c->head_len, t, driver,
				s->threaded ? 0 : s->k->next_seq);
	s->open = c;
	s->open_driver = driver;
	s->payload_start = s->jwb.len;
	return &s->jwb.base;
}

/* Hand a whole dumpling to the sink (the caller's thread), counting.
 * Returns 0 or the sink's negative errno. */
static int sink_dumpling(struct ndl_kitchen *k, struct chef *c, const char *json, size_t len,
			 enum ndl_driver driver)
{
	int r;

	k->next_seq++;
	r = k->sink.write(k->sink.arg, json, len, driver);
	if (r < 0) {
		c->sink_dropped++;
		k->stats.dumplings_dropped++;
		return r;
	}
	c->sunk++;
	k->stats.dumplings++;
	return 0;
}

static void put_out(struct station *s, struct chef *c, const char *json, size_t len,
		    size_t seq_at);
static void *reserve_in(struct station *s, size_t len);
static void kick(struct station *s);
static void hand_over(struct ndl_kitchen *k, const struct ndl_packet *pkt);
static void spread(struct ndl_kitchen *k);
static void rebalance(struct ndl_kitchen *k);

static int host_emit_end(struct ndl_chef_ctx *ctx, struct ndl_jw *w)
{
	struct chef *c = chef_of(ctx);
	struct station *s = c->s;
	bool no_payload;

	if (s->open != c || w != &s->jwb.base) {
		refuse(c, true);
		chef_failed(c, "emit_end without a matching emit_begin");
		return -EINVAL;
	}
	s->open = NULL;
	no_payload = s->jwb.len == s->payload_start;
	ndl_envelope_end(&s->jwb);
	if (no_payload || ndl_jwb_error(&s->jwb) || !ndl_jwb_complete(&s->jwb)) {
		char why[96];
		refuse(c, true);
		snprintf(why, sizeof(why), "malformed dumpling dropped (%s)",
			 no_payload ? "no payload" :
			 ndl_jwb_error(&s->jwb) == NDL_JWB_LIMIT ? "too large" :
			 ndl_jwb_error(&s->jwb) == NDL_JWB_NOMEM ? "out of memory" :
			 ndl_jwb_error(&s->jwb) == NDL_JWB_DEPTH ? "nested too deep" :
			 "bad nesting");
		chef_failed(c, why);
		return -EINVAL;
	}
	c->consecutive_errors = 0;
	if (s->threaded) {
		/* sent later, by the caller's thread, which counts what the sink
		 * refuses; the number goes in before "},\"payload\":" */
		put_out(s, c, s->jwb.buf, s->jwb.len, s->payload_start - (sizeof("},\"payload\":") - 1));
		return 0;
	}
	return sink_dumpling(s->k, c, s->jwb.buf, s->jwb.len, s->open_driver);
}

static ndl_time_ns host_now(struct ndl_chef_ctx *ctx)
{
	return station_now(chef_of(ctx)->s);
}

/* The chef's option entry for key, or NULL (logged). */
static const struct ndl__opt_value *find_value(struct chef *c, const char *key,
					       enum ndl_opt_type *type)
{
	const struct ndl_chef_option *opts = c->d->options;

	for (size_t i = 0; key && i < c->n_opts; i++) {
		if (strcmp(opts[i].key, key) == 0) {
			*type = opts[i].type;
			return &c->vals[i];
		}
	}
	if (chef_log_allowed(c))
		klog(c->k, NDL_LOG_WARN, "%s: asked for undeclared option \"%s\"", c->d->name,
		     key ? key : "(null)");
	return NULL;
}

static int64_t host_config_int(struct ndl_chef_ctx *ctx, const char *key)
{
	enum ndl_opt_type t;
	const struct ndl__opt_value *v = find_value(chef_of(ctx), key, &t);

	return v ? v->i : 0;
}

static double host_config_double(struct ndl_chef_ctx *ctx, const char *key)
{
	enum ndl_opt_type t;
	const struct ndl__opt_value *v = find_value(chef_of(ctx), key, &t);

	return v ? v->d : 0.0;
}

static bool host_config_bool(struct ndl_chef_ctx *ctx, const char *key)
{
	enum ndl_opt_type t;
	const struct ndl__opt_value *v = find_value(chef_of(ctx), key, &t);

	return v ? v->b : false;
}

static const char *host_config_string(struct ndl_chef_ctx *ctx, const char *key)
{
	enum ndl_opt_type t;
	const struct ndl__opt_value *v = find_value(chef_of(ctx), key, &t);

	return v ? v->s : NULL;
}

static void host_count(struct ndl_chef_ctx *ctx, const char *counter, uint64_t delta)
{
	struct chef *c = chef_of(ctx);

	if (!counter)
		return;
	for (size_t i = 0; i < c->n_counters; i++) {
		if (strcmp(c->counters[i].name, counter) == 0) {
			c->counters[i].value += delta;
			return;
		}
	}
	if (c->n_counters < MAX_CHEF_COUNTERS && strlen(counter) < COUNTER_NAME_MAX) {
		struct chef_counter *n = &c->counters[c->n_counters++];
		snprintf(n->name, sizeof(n->name), "%s", counter);
		n->value = delta;
		return;
	}
	c->other_used = true;
	c->other_counter += delta;
}

/*
 * The application parsers share one pattern: for the packet being
 * dispatched, parse on the first request and hand every later one the same
 * result, counting a parse that was not whole once; for any other packet a
 * chef passes, parse it uncached into the same buffer (which forgets the
 * cached result).
 */
static const struct ndl_dns *host_dns(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt)
{
	struct station *s = chef_of(ctx)->s;

	if (!pkt)
		return NULL;
	if (pkt == &s->pkt && s->in_packet) {
		if (!s->dns_parsed) {
			s->dns_parsed = true;
			s->dns = ndl__dns_from_packet(&s->dnsbuf, pkt);
			if (s->dns && s->dns->error > 0 && s->dns->error < NDL_DNS_ERROR_COUNT)
				s->dns_errs[s->dns->error]++;
		}
		return s->dns;
	}
	s->dns_parsed = false;
	return ndl__dns_from_packet(&s->dnsbuf, pkt);
}

static const struct ndl_http *host_http(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt)
{
	struct station *s = chef_of(ctx)->s;

	if (!pkt)
		return NULL;
	if (pkt == &s->pkt && s->in_packet) {
		if (!s->http_parsed) {
			s->http_parsed = true;
			s->http = ndl__http_from_packet(&s->httpbuf, pkt);
			if (s->http && s->http->error > 0 && s->http->error < NDL_HTTP_ERROR_COUNT)
				s->http_errs[s->http->error]++;
		}
		return s->http;
	}
	s->http_parsed = false;
	return ndl__http_from_packet(&s->httpbuf, pkt);
}

static const struct ndl_tls_hello *host_tls_hello(struct ndl_chef_ctx *ctx,
						  const struct ndl_packet *pkt)
{
	struct station *s = chef_of(ctx)->s;

	if (!pkt)
		return NULL;
	if (pkt == &s->pkt && s->in_packet) {
		if (!s->tls_parsed) {
			s->tls_parsed = true;
			s->tls = ndl__tls_from_packet(&s->tlsbuf, pkt);
			if (s->tls && s->tls->error > 0 && s->tls->error < NDL_TLS_ERROR_COUNT)
				s->tls_errs[s->tls->error]++;
		}
		return s->tls;
	}
	s->tls_parsed = false;
	return ndl__tls_from_packet(&s->tlsbuf, pkt);
}

/*
 * Forget the per-packet parse results: before each packet is dispatched.
 * Outside a dispatch they are neither used nor trusted (in_packet false).
 */
static void forget_parses(struct station *s)
{
	s->dns_parsed = false;
	s->dns = NULL;
	s->http_parsed = false;
	s->http = NULL;
	s->tls_parsed = false;
	s->tls = NULL;
}

/* ------------------------------------------------------------------------ */
/* Kitchen                                                                   */
/* ------------------------------------------------------------------------ */

static struct station *station_new(struct ndl_kitchen *k, unsigned int index)
{
	/* aligned for the members kept on cache lines of their own */
	size_t size = (sizeof(struct station) + 63) / 64 * 64;
	struct station *s = aligned_alloc(_Alignof(struct station), size);

	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->k = k;
	s->index = index;
	s->live_clock = k->live_clock;
	if (index == 0) {
		s->dns_errs = k->stats.dns_errors;
		s->http_errs = k->stats.http_errors;
		s->tls_errs = k->stats.tls_errors;
		s->dropped = &k->stats.dumplings_dropped;
	} else {
		s->dns_errs = s->dns_errors;
		s->http_errs = s->http_errors;
		s->tls_errs = s->tls_errors;
		s->dropped = &s->dumplings_dropped;
	}
	ndl_jwb_init(&s->jwb, DUMPLING_LIMIT);
	return s;
}

static void station_free(struct station *s)
{
	if (!s)
		return;
	if (s->threaded) {
		size_t len;
		const struct out_dumpling *o;

		/* dumplings never sent: their big copies */
		while ((o = ndl__ring_peek(&s->out, &len)) != NULL) {
			free(o->big);
			ndl__ring_consume(&s->out);
		}
		pthread_mutex_destroy(&s->lock);
		pthread_cond_destroy(&s->thread_cv);
		pthread_cond_destroy(&s->caller_cv);
	}
	ndl__ring_destroy(&s->in);     /* safe on a ring never mapped */
	ndl__ring_destroy(&s->out);
	ndl_jwb_free(&s->jwb);
	free(s->chefs);
	free(s);
}

struct ndl_kitchen *ndl__kitchen_new(const char *name, struct ndl_sink sink)
{
	struct ndl_kitchen *k;

	if (!name || !sink.write) {
		errno = EINVAL;
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->next_seq = 1;
	k->name = strdup(name);
	if (!k->name) {
		free(k);
		errno = ENOMEM;
		return NULL;
	}
	k->sink = sink;
	k->host.abi_version = NDL_CHEF_ABI_VERSION;
	k->host.struct_size = sizeof(k->host);
	k->host.log = host_log;
	k->host.emit_begin = host_emit_begin;
	k->host.emit_end = host_emit_end;
	k->host.now = host_now;
	k->host.config_int = host_config_int;
	k->host.config_double = host_config_double;
	k->host.config_bool = host_config_bool;
	k->host.config_string = host_config_string;
	k->host.count = host_count;
	k->host.dns = host_dns;
	k->host.http = host_http;
	k->host.tls_hello = host_tls_hello;
	k->log = default_log;
	k->want_stations = 1;
	k->stations[0] = station_new(k, 0);
	if (!k->stations[0]) {
		free(k->name);
		free(k);
		errno = ENOMEM;
		return NULL;
	}
	k->n_stations = 1;
	ndl_jwb_init(&k->merge, DUMPLING_LIMIT + 64);
	return k;
}

void ndl__kitchen_set_log(struct ndl_kitchen *k,
			  void (*log)(void *arg, enum ndl_log_level level, const char *line),
			  void *arg)
{
	k->log = log ? log : default_log;
	k->log_arg = log ? arg : NULL;
}

static struct chef *find_chef(const struct ndl_kitchen *k, const char *name)
{
	for (size_t i = 0; i < k->n_chefs; i++) {
		if (strcmp(k->chefs[i]->d->name, name) == 0)
			return k->chefs[i];
	}
	return NULL;
}

/* Keys the chef accepts, as "a, b, c" (or "none"). */
static void list_keys(const struct ndl_chef_descriptor *d, char *out, size_t outlen)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; d->options && d->options[i].key && used < outlen; i++)
		used += (size_t)snprintf(out + used, outlen - used, "%s%s", i ? ", " : "",
					 d->options[i].key);
	if (!out[0])
		snprintf(out, outlen, "none");
}

/* Validate setting s against chef c's table and store its value. */
static int apply_setting(struct chef *c, const struct option_setting *s, char *err, size_t errlen)
{
	char why[200], keys[256];

	for (size_t i = 0; i < c->n_opts; i++) {
		const struct ndl_chef_option *o = &c->d->options[i];
		if (strcmp(o->key, s->key) != 0)
			continue;
		if (ndl__opt_parse(o, s->value, &c->vals[i], why, sizeof(why)) < 0) {
			snprintf(err, errlen, "option %s.%s (%s) %s", s->chef, s->key,
				 ndl__opt_type_name(o->type), why);
			return -EINVAL;
		}
		return 0;
	}
	list_keys(c->d, keys, sizeof(keys));
	snprintf(err, errlen, "option %s.%s: %s has no option \"%s\" (it accepts: %s)",
		 s->chef, s->key, s->chef, s->key, keys);
	return -EINVAL;
}

int ndl__kitchen_set_option(struct ndl_kitchen *k, const char *assignment,
			    char *err, size_t errlen)
{
	const char *dot, *eq;
	struct option_setting s, *slot = NULL;
	struct chef *c;
	int r;

	eq = assignment ? strchr(assignment, '=') : NULL;
	dot = assignment ? strchr(assignment, '.') : NULL;
	if (!eq || !dot || dot > eq) {
		snprintf(err, errlen, "option \"%s\" is not of the form Chef.key=value",
			 assignment ? assignment : "");
		return -EINVAL;
	}
	s.chef = strndup(assignment, (size_t)(dot - assignment));
	s.key = strndup(dot + 1, (size_t)(eq - dot - 1));
	s.value = strdup(eq + 1);
	if (!s.chef || !s.key || !s.value) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto free_setting;
	}
	if (!ndl__is_ident(s.chef, 64) || !ndl__is_ident(s.key, NDL__OPT_KEY_MAX)) {
		snprintf(err, errlen, "option \"%s\": chef name and key must be [A-Za-z0-9_]+",
			 assignment);
		r = -EINVAL;
		goto free_setting;
	}
	for (size_t i = 0; i < k->n_settings; i++) {
		if (strcmp(k->settings[i].chef, s.chef) == 0 && strcmp(k->settings[i].key, s.key) == 0)
			slot = &k->settings[i];
	}
	if (!slot && k->n_settings >= MAX_OPTION_SETTINGS) {
		snprintf(err, errlen, "more than %d options given", MAX_OPTION_SETTINGS);
		r = -E2BIG;
		goto free_setting;
	}
	c = find_chef(k, s.chef);
	if (c) {
		r = apply_setting(c, &s, err, errlen);
		if (r < 0)
			goto free_setting;
	}
	if (!slot) {
		slot = &k->settings[k->n_settings++];
	} else {
		free(slot->chef);
		free(slot->key);
		free(slot->value);
	}
	*slot = s;
	return 0;

free_setting:
	free(s.chef);
	free(s.key);
	free(s.value);
	return r;
}

static void chef_free(struct chef *c)
{
	if (!c)
		return;
	free(c->ctx.state);
	free(c->head);
	free(c);
}

int ndl__kitchen_add_chef(struct ndl_kitchen *k, const struct ndl_chef_module *m,
			  char *err, size_t errlen)
{
	const struct ndl_chef_descriptor *d = m->desc;
	struct ndl_jwb head;
	struct chef *c;
	char why[160];
	int r;

	if (find_chef(k, d->name)) {
		snprintf(err, errlen, "chef %s added twice", d->name);
		return -EEXIST;
	}
	if (k->spread) {
		snprintf(err, errlen, "chef %s: chefs are added before the first packet", d->name);
		return -EBUSY;
	}
	if (k->n_chefs == k->cap_chefs) {
		size_t cap = k->cap_chefs ? k->cap_chefs * 2 : 8;
		struct chef **chefs = realloc(k->chefs, cap * sizeof(*chefs));
		struct chef **on0;

		if (!chefs) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		k->chefs = chefs;
		on0 = realloc(k->stations[0]->chefs, cap * sizeof(*on0));
		if (!on0) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		k->stations[0]->chefs = on0;
		k->cap_chefs = cap;
	}
	c = aligned_alloc(_Alignof(struct chef), (sizeof(*c) + 63) / 64 * 64);
	if (c)
		memset(c, 0, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->k = k;
	c->s = k->stations[0];
	c->index = k->n_chefs;
	c->m = m;
	c->d = d;
	c->ctx.host = &k->host;
	c->log_window_start = mono_ns();
	/* Names escaped once, not for every dumpling. */
	ndl_jwb_init(&head, SIZE_MAX);
	ndl_envelope_head(&head, d->name, k->name);
	if (ndl_jwb_error(&head)) {
		ndl_jwb_free(&head);
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto free_chef;
	}
	c->head = head.buf;   /* the writer's buffer, now the chef's */
	c->head_len = head.len;
	for (size_t i = 0; d->options && d->options[i].key && i < NDL__OPT_MAX; i++) {
		r = ndl__opt_parse(&d->options[i], d->options[i].default_value, &c->vals[i],
				   why, sizeof(why));
		if (r < 0) {
			snprintf(err, errlen, "chef %s: default of option %s %s", d->name,
				 d->options[i].key, why);
			goto free_chef;
		}
		c->n_opts = i + 1;
	}
	for (size_t i = 0; i < k->n_settings; i++) {
		if (strcmp(k->settings[i].chef, d->name) != 0)
			continue;
		r = apply_setting(c, &k->settings[i], err, errlen);
		if (r < 0)
			goto free_chef;
	}
	if (d->state_size) {
		c->ctx.state = calloc(1, d->state_size);
		if (!c->ctx.state) {
			snprintf(err, errlen, "chef %s: cannot allocate %zu bytes of state",
				 d->name, d->state_size);
			r = -ENOMEM;
			goto free_chef;
		}
	}
	r = d->init(&c->ctx);
	c->init_ran = true;
	if (r < 0) {
		snprintf(err, errlen, "chef %s: init failed: %s", d->name, strerror(-r));
		d->fini(&c->ctx);
		goto free_chef;
	} else if (r > 0) {
		snprintf(err, errlen, "chef %s: init failed (returned %d)", d->name, r);
		d->fini(&c->ctx);
		r = -EINVAL;
		goto free_chef;
	}
	k->chefs[k->n_chefs++] = c;
	k->stations[0]->chefs[k->stations[0]->n_chefs++] = c;
	return 0;

free_chef:
	chef_free(c);
	return r;
}

int ndl__kitchen_start(struct ndl_kitchen *k, char *err, size_t errlen)
{
	for (size_t i = 0; i < k->n_settings; i++) {
		if (!find_chef(k, k->settings[i].chef)) {
			snprintf(err, errlen, "option %s.%s names chef %s, which is not running",
				 k->settings[i].chef, k->settings[i].key, k->settings[i].chef);
			return -EINVAL;
		}
	}
	return 0;
}

size_t ndl__kitchen_chef_count(const struct ndl_kitchen *k)
{
	return k->n_chefs;
}

const struct ndl_chef_descriptor *ndl__kitchen_chef(const struct ndl_kitchen *k, size_t i)
{
	return i < k->n_chefs ? k->chefs[i]->d : NULL;
}

const char *ndl__kitchen_chef_module(const struct ndl_kitchen *k, size_t i)
{
	return i < k->n_chefs ? k->chefs[i]->m->module : NULL;
}

void ndl__kitchen_set_live_clock(struct ndl_kitchen *k, bool live)
{
	k->live_clock = live;
	for (unsigned int i = 0; i < k->n_stations; i++)
		k->stations[i]->live_clock = live;
}

void ndl__kitchen_set_clock(struct ndl_kitchen *k, ndl_time_ns t)
{
	k->stations[0]->clock = t;
	for (unsigned int i = 1; i < k->n_stations && !k->halted; i++) {
		struct in_clock *r;

		if (!k->stations[i]->n_chefs)
			continue;      /* its clock is set when it gets chefs */
		r = reserve_in(k->stations[i], sizeof(*r));

		r->kind = IN_CLOCK;
		r->t = t;
		ndl__ring_commit(&k->stations[i]->in);
	}
}

ndl_time_ns ndl__kitchen_now(const struct ndl_kitchen *k)
{
	return station_now(k->stations[0]);
}

/* After a callback: a dumpling left open is dropped as malformed. */
static void close_dangling(struct station *s, struct chef *c)
{
	if (s->open == c) {
		s->open = NULL;
		refuse(c, true);
		chef_failed(c, "dumpling begun but never ended; dropped");
	}
}

/* Hand s->pkt to the on_packet of every chef of s; timed: add up the time
 * each takes (scale: what one timed packet stands for), to place the chefs
 * by. */
static void dispatch(struct station *s, bool timed, uint64_t scale)
{
	s->in_packet = true;
	forget_parses(s);
	for (size_t i = 0; i < s->n_chefs; i++) {
		struct chef *c = s->chefs[i];
		ndl_time_ns t0;

		if (c->disabled || !c->d->on_packet)
			continue;
		if (timed) {
			t0 = mono_ns();
			c->d->on_packet(&c->ctx, &s->pkt);
			c->cost_ns += (uint64_t)(mono_ns() - t0) * scale;
		} else {
			c->d->on_packet(&c->ctx, &s->pkt);
		}
		close_dangling(s, c);
	}
	s->in_packet = false;
}

/* Whether a station times this packet, once the chefs are spread. */
static bool sample(struct station *s)
{
	return (s->n_packets++ & (TIME_EVERY - 1)) == 0;
}

static void run_intervals(struct station *s)
{
	for (size_t i = 0; i < s->n_chefs; i++) {
		struct chef *c = s->chefs[i];
		if (c->disabled || !c->d->on_interval)
			continue;
		c->d->on_interval(&c->ctx);
		close_dangling(s, c);
	}
}

/* What every packet does on the caller's thread, s0->pkt decoded. */
static void take_packet(struct ndl_kitchen *k)
{
	struct station *s0 = k->stations[0];
	const struct ndl_packet *pkt = &s0->pkt;

	k->stats.packets++;
	k->stats.bytes += pkt->caplen;
	if (pkt->ts > s0->clock)
		s0->clock = pkt->ts;
	if (pkt->decode_error > 0 && pkt->decode_error < NDL_DECODE_ERROR_COUNT)
		k->stats.decode_errors[pkt->decode_error]++;
	if (!k->spread && k->want_stations > 1) {
		if (k->calibrate > 0) {
			k->calibrate--;
			k->window++;
			if (s0->n_chefs)
				dispatch(s0, true, 1);
			return;
		}
		spread(k);
	} else if (k->spread && k->n_stations > 1 && !k->halted) {
		/* with a sink that must not be flooded, the chefs move once the
		 * threads have run dry (ndl__kitchen_ready sees to it), not by
		 * forcing what they hold into the sink */
		if (++k->since_balance >= k->next_balance && !k->hold)
			rebalance(k);
		else if (k->since_balance >= k->next_balance)
			k->balance_due = true;
		k->window++;
	}
	if (k->n_stations > 1 && !k->halted) {
		if (sample(s0)) {
			ndl_time_ns t0 = mono_ns();

			hand_over(k, pkt);
			k->overhead_ns += (uint64_t)(mono_ns() - t0) * TIME_EVERY;
			dispatch(s0, true, TIME_EVERY);
			return;
		}
		hand_over(k, pkt);
	}
	if (s0->n_chefs)
		dispatch(s0, false, 1);
}

void ndl__kitchen_packet(struct ndl_kitchen *k, int linktype, const uint8_t *data,
			 uint32_t caplen, uint32_t wirelen, ndl_time_ns ts)
{
	ndl__decode(&k->stations[0]->pkt, linktype, data, caplen, wirelen, ts);
	take_packet(k);
}

void ndl__kitchen_decoded(struct ndl_kitchen *k, const struct ndl_packet *pkt)
{
	k->stations[0]->pkt = *pkt;
	take_packet(k);
}

void ndl__kitchen_interval(struct ndl_kitchen *k)
{
	for (unsigned int i = 1; i < k->n_stations && !k->halted; i++) {
		struct in_clock *r;

		if (!k->stations[i]->n_chefs)
			continue;
		r = reserve_in(k->stations[i], sizeof(*r));
		r->kind = IN_INTERVAL;
		r->t = 0;
		ndl__ring_commit(&k->stations[i]->in);
		kick(k->stations[i]);
	}
	run_intervals(k->stations[0]);
}

/* ------------------------------------------------------------------------ */
/* Stations                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * With ndl__kitchen_set_threads(k, n), the first packets run every chef on
 * the caller's thread and time each; then the chefs are spread over n
 * stations, the heaviest first to the least loaded (the caller's station
 * starts with the time it spent handing packets over and sending). Chefs
 * of one module stay together, and chefs that do not say
 * NDL_CHEF_F_ANY_THREAD stay on the caller's station, so a chef's
 * callbacks still never overlap, and chefs that share a module's globals
 * never run at once. Every station keeps timing one packet in TIME_EVERY,
 * and the chefs are placed again, with every station idle, after
 * BALANCE_FIRST packets, then twice as many each time up to BALANCE_MAX.
 *
 * Each station thread gets every packet (its bytes, copied into its input
 * ring; it decodes them itself), the replay clock's steps and the poke, in
 * order; it hands its dumplings back through its output ring, and the
 * caller's thread numbers (metadata.seq) and sends them, so that the sink
 * is only ever called there and the numbers an eater sees are in order.
 * Both rings are bounded: a caller that finds no room waits (sending what
 * the station made meanwhile), and a station that finds no room for a
 * dumpling waits for the caller, whom it wakes through ndl_kitchen's wake
 * callback.
 *
 * Waiting: a side that is about to sleep sets its *_waits flag, then looks
 * again under the station's lock; the other side looks at the flag after
 * changing a ring (a full fence in between on both sides) and signals under
 * the lock, so a wakeup is never lost. To spare the fence, the caller looks
 * every KICK_EVERY packets and whenever it flushes, the thread every
 * KICK_EVERY records and whenever it runs out of them.
 */

static void signal_if_waiting(struct station *s, atomic_bool *flag, pthread_cond_t *cv)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(flag, memory_order_relaxed)) {
		pthread_mutex_lock(&s->lock);
		pthread_cond_signal(cv);
		pthread_mutex_unlock(&s->lock);
	}
}

/* Station thread: room came back in its input ring; if the caller's loop
 * stopped handing packets over for want of it (ndl__kitchen_ready), wake
 * it once. */
static void wake_loop_if_waiting(struct station *s)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&s->loop_waits, memory_order_relaxed) &&
	    atomic_exchange(&s->loop_waits, false) && s->k->wake)
		s->k->wake(s->k->wake_arg);
}

/* Caller: the station thread may have input; wake it if it sleeps. */
static void kick(struct station *s)
{
	signal_if_waiting(s, &s->thread_waits, &s->thread_cv);
}

/* Send the dumplings station s has finished, all of them when force, else
 * while the sink does not ask to hold them back. Caller's thread. */
static void drain_station(struct ndl_kitchen *k, struct station *s, bool force)
{
	const struct out_dumpling *o;
	char num[NDL__JW_NUM_MAX + 8], *end = num + sizeof(num), *p;
	size_t len;
	bool any = false;

	while ((force || !k->hold || !k->hold(k->hold_arg)) &&
	       (o = ndl__ring_peek(&s->out, &len)) != NULL) {
		const char *json = o->big ? o->big : o->json;

		p = ndl__jw_u64_rev(end, k->next_seq);
		p -= sizeof(",\"seq\":") - 1;
		memcpy(p, ",\"seq\":", sizeof(",\"seq\":") - 1);
		ndl_jwb_reset(&k->merge);
		ndl_jwb_append(&k->merge, json, o->seq_at);
		ndl_jwb_append(&k->merge, p, (size_t)(end - p));
		ndl_jwb_append(&k->merge, json + o->seq_at, o->len - o->seq_at);
		if (ndl_jwb_error(&k->merge)) {
			k->chefs[o->chef]->sink_dropped++;   /* no memory to number it */
			k->stats.dumplings_dropped++;
		} else {
			sink_dumpling(k, k->chefs[o->chef], k->merge.buf, k->merge.len,
				      (enum ndl_driver)o->driver);
		}
		free(o->big);
		ndl__ring_consume(&s->out);
		any = true;
	}
	if (any)
		signal_if_waiting(s, &s->thread_waits, &s->thread_cv);
}

/*
 * Room for len bytes in station s's input ring; the caller's thread waits
 * for it, sending the station's dumplings meanwhile (a station waiting for
 * room for its output is what may hold it up).
 */
static void *reserve_in(struct station *s, size_t len)
{
	void *p;

	while ((p = ndl__ring_reserve(&s->in, len)) == NULL) {
		kick(s);
		drain_station(s->k, s, true);   /* held back, it would hold us */
		pthread_mutex_lock(&s->lock);
		atomic_store(&s->caller_waits, true);
		atomic_thread_fence(memory_order_seq_cst);
		p = ndl__ring_reserve(&s->in, len);
		if (!p && ndl__ring_used(&s->in) > s->in.size / 2 && ndl__ring_empty(&s->out))
			pthread_cond_wait(&s->caller_cv, &s->lock);
		atomic_store(&s->caller_waits, false);
		pthread_mutex_unlock(&s->lock);
		if (p)
			break;
	}
	return p;
}

/* Copy the packet into every station thread's input ring. */
static void hand_over(struct ndl_kitchen *k, const struct ndl_packet *pkt)
{
	size_t caplen = pkt->caplen;

	for (unsigned int i = 1; i < k->n_stations; i++) {
		struct station *s = k->stations[i];
		size_t cap = NDL__RING_MAX_RECORD(s->in.size) - sizeof(struct in_packet);
		struct in_packet *r;

		if (s->n_chefs == 0)
			continue;

		/* no capture comes near (snaplen is 262,144 at most); an NMSG
		 * payload could, and is cut as a capture would cut it */
		r = reserve_in(s, sizeof(*r) + (caplen < cap ? caplen : cap));
		r->kind = IN_PACKET;
		r->linktype = pkt->linktype;
		r->ts = pkt->ts;
		r->caplen = (uint32_t)(caplen < cap ? caplen : cap);
		r->wirelen = pkt->wirelen;
		memcpy(r->data, pkt->data, r->caplen);
		ndl__ring_commit(&s->in);
		/* the fence of a kick costs; ndl__kitchen_flush kicks too */
		if ((++s->handed & (KICK_EVERY - 1)) == 0) {
			s->kicked = s->handed;
			kick(s);
		}
	}
}

/* Station thread: put a finished dumpling in the output ring, waiting for
 * room. */
static void put_out(struct station *s, struct chef *c, const char *json, size_t len,
		    size_t seq_at)
{
	size_t need = sizeof(struct out_dumpling) + len;
	struct out_dumpling *o;
	char *big = NULL;

	if (need > NDL__RING_MAX_RECORD(s->out.size)) {
		big = malloc(len);
		if (!big) {
			refuse(c, false);
			return;
		}
		memcpy(big, json, len);
		need = sizeof(struct out_dumpling);
	}
	while ((o = ndl__ring_reserve(&s->out, need)) == NULL) {
		if (s->k->wake)
			s->k->wake(s->k->wake_arg);
		signal_if_waiting(s, &s->caller_waits, &s->caller_cv);
		pthread_mutex_lock(&s->lock);
		atomic_store(&s->thread_waits, true);
		atomic_thread_fence(memory_order_seq_cst);
		o = ndl__ring_reserve(&s->out, need);
		if (!o && !atomic_load(&s->stop))
			pthread_cond_wait(&s->thread_cv, &s->lock);
		atomic_store(&s->thread_waits, false);
		pthread_mutex_unlock(&s->lock);
		if (o)
			break;
		if (atomic_load(&s->stop)) {
			free(big);
			return;
		}
	}
	o->chef = (uint32_t)c->index;
	o->driver = (uint32_t)s->open_driver;
	o->seq_at = (uint32_t)seq_at;
	o->len = (uint32_t)len;
	o->big = big;
	if (!big)
		memcpy(o->json, json, len);
	ndl__ring_commit(&s->out);
}

static void *station_thread(void *arg)
{
	struct station *s = arg;
	const void *rec;
	size_t len;

	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		rec = ndl__ring_peek(&s->in, &len);
		if (!rec) {
			/* all done: what waits to be sent goes now, and a caller
			 * waiting for room (or for this) goes on */
			if (!ndl__ring_empty(&s->out) && s->k->wake)
				s->k->wake(s->k->wake_arg);
			signal_if_waiting(s, &s->caller_waits, &s->caller_cv);
			wake_loop_if_waiting(s);
			pthread_mutex_lock(&s->lock);
			atomic_store(&s->thread_waits, true);
			atomic_thread_fence(memory_order_seq_cst);
			if (ndl__ring_empty(&s->in) && !atomic_load(&s->stop))
				pthread_cond_wait(&s->thread_cv, &s->lock);
			atomic_store(&s->thread_waits, false);
			pthread_mutex_unlock(&s->lock);
			continue;
		}
		switch (*(const uint32_t *)rec) {
		case IN_PACKET: {
			const struct in_packet *p = rec;

			if (p->ts > s->clock)
				s->clock = p->ts;
			ndl__decode(&s->pkt, p->linktype, p->data, p->caplen, p->wirelen, p->ts);
			dispatch(s, sample(s), TIME_EVERY);
			break;
		}
		case IN_CLOCK:
			s->clock = ((const struct in_clock *)rec)->t;
			break;
		case IN_INTERVAL:
			run_intervals(s);
			break;
		}
		ndl__ring_consume(&s->in);
		/* a caller waiting for room goes on once half the ring is free,
		 * not after every record */
		if ((++s->taken & (KICK_EVERY - 1)) == 0 &&
		    ndl__ring_used(&s->in) <= s->in.size / 2) {
			signal_if_waiting(s, &s->caller_waits, &s->caller_cv);
			wake_loop_if_waiting(s);
		}
	}
	s->cpu_ns = ndl__clock_ns(CLOCK_THREAD_CPUTIME_ID);   /* read after the join */
	return NULL;
}

/* Make s a station with a thread of its own, its chefs set. Returns 0 or
 * a negative errno. */
static int station_start(struct station *s)
{
	sigset_t all, old;
	char name[16];
	int r;

	/* on failure, station_free undoes what was done */
	r = ndl__ring_init(&s->in, IN_RING_BYTES);
	if (r == 0)
		r = ndl__ring_init(&s->out, OUT_RING_BYTES);
	if (r < 0)
		return r;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->thread_cv, NULL);
	pthread_cond_init(&s->caller_cv, NULL);
	s->threaded = true;
	s->clock = s->k->stations[0]->clock;
	/* signals are the loop's and the capture thread's business */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&s->thread, NULL, station_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		s->joined = true;      /* no thread to stop */
		return r;
	}
	snprintf(name, sizeof(name), "nd-chefs-%u", s->index);
	pthread_setname_np(s->thread, name);
	return 0;
}

static void station_stop(struct station *s)
{
	if (!s->threaded || s->joined)
		return;
	atomic_store(&s->stop, true);
	pthread_mutex_lock(&s->lock);
	pthread_cond_signal(&s->thread_cv);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	s->joined = true;
}

/* Say where the chefs run now, and each thread's share of the time
 * measured, e.g. "chefs on threads: 0 (41%): ARPChef FlowChef; 1 (59%): ...". */
static void log_placement(struct ndl_kitchen *k, const uint64_t load[])
{
	char line[1024];
	size_t used = 0;
	uint64_t total = 0;

	for (unsigned int t = 0; t < k->n_stations; t++)
		total += load[t];
	used += (size_t)snprintf(line, sizeof(line), "chefs on threads:");
	for (unsigned int t = 0; t < k->n_stations && used < sizeof(line); t++) {
		const struct station *s = k->stations[t];

		if (t && !s->n_chefs)
			continue;
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s %u (%u%%):",
					 t ? ";" : "", t,
					 total ? (unsigned int)(load[t] * 100 / total) : 0);
		for (size_t i = 0; i < s->n_chefs && used < sizeof(line); i++)
			used += (size_t)snprintf(line + used, sizeof(line) - used, " %s",
						 s->chefs[i]->d->name);
	}
	k->spread_logged = true;
	klog(k, NDL_LOG_INFO, "%s", line);
}

/*
 * Place the chefs on the stations by the time each took since the last
 * placement (see above); the caller's thread, with every station thread
 * idle (after ndl__kitchen_sync). The times start again from zero.
 */
static void assign(struct ndl_kitchen *k)
{
	uint64_t load[MAX_STATIONS] = { 0 }, single = 0, worst = 0;
	uint64_t hand = 0, thread = 0;
	struct station *s0 = k->stations[0];
	unsigned int n = k->n_stations, used_before = 0;
	bool placed[k->n_chefs ? k->n_chefs : 1], moved = !k->spread_logged;
	bool used[MAX_STATIONS] = { true };
	unsigned int station_of[k->n_chefs ? k->n_chefs : 1];

	memset(placed, 0, sizeof(placed));
	memset(station_of, 0, sizeof(station_of));
	for (unsigned int t = 1; t < n; t++)
		used_before += k->stations[t]->n_chefs > 0;
	if (k->window) {
		/* what a thread in use costs over the window: the caller's time
		 * handing packets over and sending (measured, when threads were
		 * in use), and the thread's own decoding */
		hand = used_before && k->overhead_ns ? k->overhead_ns / used_before :
			HAND_NS_GUESS * k->window;
		thread = THREAD_NS_GUESS * k->window;
	}
	/* a module with a chef that must stay on the loop keeps them all there */
	for (size_t i = 0; i < k->n_chefs; i++) {
		single += k->chefs[i]->cost_ns + 1;
		if (ndl__chef_flags(k->chefs[i]->d) & NDL_CHEF_F_ANY_THREAD)
			continue;
		for (size_t j = 0; j < k->n_chefs; j++)
			if (k->chefs[j]->m == k->chefs[i]->m)
				placed[j] = true;    /* on station 0 */
	}
	for (size_t i = 0; i < k->n_chefs; i++)
		if (placed[i])
			load[0] += k->chefs[i]->cost_ns + 1;

	/* the other modules, heaviest first, each where the busiest station
	 * ends up least busy (ties: the lowest; the +1 spreads chefs nobody
	 * timed one by one) */
	for (;;) {
		uint64_t best_cost = 0, best_max = UINT64_MAX;
		size_t best = SIZE_MAX;
		unsigned int to = 0;

		for (size_t i = 0; i < k->n_chefs; i++) {
			uint64_t cost = 0;

			if (placed[i])
				continue;
			for (size_t j = 0; j < k->n_chefs; j++)
				if (!placed[j] && k->chefs[j]->m == k->chefs[i]->m)
					cost += k->chefs[j]->cost_ns + 1;
			if (best == SIZE_MAX || cost > best_cost) {
				best = i;
				best_cost = cost;
			}
		}
		if (best == SIZE_MAX)
			break;
		for (unsigned int t = 0; t < n; t++) {
			uint64_t l0 = load[0] + (used[t] ? 0 : hand);
			uint64_t lt = (t ? load[t] : l0) + best_cost + (used[t] ? 0 : thread);
			uint64_t most = l0 > lt ? l0 : lt;

			for (unsigned int u = 1; u < n; u++)
				if (u != t && load[u] > most)
					most = load[u];
			if (most < best_max) {
				best_max = most;
				to = t;
			}
		}
		if (!used[to]) {
			used[to] = true;
			load[0] += hand;
			load[to] += thread;
		}
		load[to] += best_cost;
		for (size_t j = k->n_chefs; j-- > 0;) {
			if (!placed[j] && k->chefs[j]->m == k->chefs[best]->m) {
				placed[j] = true;
				station_of[j] = to;
			}
		}
	}
	/* threads that would save less than a tenth are not worth their copies */
	for (unsigned int t = 0; t < n; t++)
		worst = load[t] > worst ? load[t] : worst;
	if (k->window && worst * 10 > single * 9) {
		memset(station_of, 0, sizeof(station_of));
		memset(load, 0, sizeof(load));
		load[0] = worst = single;
	}
	/* and moving chefs (which waits for every thread) must gain a twentieth */
	if (k->window && k->spread_logged) {
		uint64_t now[MAX_STATIONS] = { 0 }, now_worst = 0;

		for (size_t j = 0; j < k->n_chefs; j++)
			now[k->chefs[j]->s->index] += k->chefs[j]->cost_ns + 1;
		now[0] += used_before ? hand * used_before : 0;
		for (unsigned int t = 1; t < n; t++)
			now[t] += k->stations[t]->n_chefs ? thread : 0;
		for (unsigned int t = 0; t < n; t++)
			now_worst = now[t] > now_worst ? now[t] : now_worst;
		if (worst * 20 > now_worst * 19) {
			for (size_t j = 0; j < k->n_chefs; j++)
				station_of[j] = k->chefs[j]->s->index;
		}
	}

	for (size_t j = 0; j < k->n_chefs; j++)
		moved |= k->chefs[j]->s != k->stations[station_of[j]];
	for (unsigned int t = 0; t < n; t++) {
		struct station *s = k->stations[t];

		s->n_chefs = 0;
		for (size_t j = 0; j < k->n_chefs; j++) {
			if (station_of[j] == t) {
				k->chefs[j]->s = s;
				s->chefs[s->n_chefs++] = k->chefs[j];
			}
		}
		/* a station that had no chefs was handed no packets: its clock */
		s->clock = s0->clock;
	}
	if (moved)
		log_placement(k, load);
	for (size_t j = 0; j < k->n_chefs; j++)
		k->chefs[j]->cost_ns = 0;
	k->overhead_ns = 0;
	k->window = 0;
}

/*
 * Start the station threads, up to k->want_stations stations in all, and
 * place the chefs. Once, at the end of the calibration.
 */
static void spread(struct ndl_kitchen *k)
{
	unsigned int groups = 0;

	k->spread = true;      /* decided once, whatever comes of it */
	/* no more threads than groups of chefs that may move (chefs of one
	 * module are a group), and the caller's */
	for (size_t i = 0; i < k->n_chefs; i++) {
		bool first = ndl__chef_flags(k->chefs[i]->d) & NDL_CHEF_F_ANY_THREAD;

		for (size_t j = 0; j < i && first; j++)
			first = k->chefs[j]->m != k->chefs[i]->m;
		groups += first;
	}
	if (k->want_stations > groups + 1)
		k->want_stations = groups + 1;
	while (k->n_stations < k->want_stations) {
		struct station *s = station_new(k, k->n_stations);

		if (s)
			s->chefs = calloc(k->n_chefs ? k->n_chefs : 1, sizeof(*s->chefs));
		if (!s || !s->chefs || station_start(s) < 0) {
			klog(k, NDL_LOG_WARN, "cannot start chef thread %u; %u will do",
			     k->n_stations, k->n_stations);
			station_free(s);
			break;
		}
		k->stations[k->n_stations++] = s;
	}
	if (k->n_stations > 1)
		assign(k);
	k->next_balance = BALANCE_FIRST;
}

/* Place the chefs again by their times since the last placement: the cost
 * of a chef changes as its tables fill and as traffic changes. */
static void rebalance(struct ndl_kitchen *k)
{
	ndl__kitchen_sync(k);
	k->balance_due = false;
	assign(k);
	if (k->next_balance < BALANCE_MAX)
		k->next_balance *= 2;
	k->since_balance = 0;
}

void ndl__kitchen_set_threads(struct ndl_kitchen *k, unsigned int n, uint64_t calibrate)
{
	if (k->spread)
		return;
	k->want_stations = n < 1 ? 1 : n > MAX_STATIONS ? MAX_STATIONS : n;
	k->calibrate = calibrate;
}

unsigned int ndl__kitchen_threads(const struct ndl_kitchen *k)
{
	return k->n_stations;
}

unsigned int ndl__kitchen_thread_cpu(const struct ndl_kitchen *k, uint64_t cpu_ns[],
				     unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 1; i < k->n_stations && n < max; i++)
		if (k->stations[i]->joined)
			cpu_ns[n++] = k->stations[i]->cpu_ns;
	return n;
}

int ndl__kitchen_chef_thread(const struct ndl_kitchen *k, size_t i)
{
	return i < k->n_chefs ? (int)k->chefs[i]->s->index : -ENOENT;
}

void ndl__kitchen_set_wake(struct ndl_kitchen *k, void (*wake)(void *arg), void *arg)
{
	k->wake = wake;
	k->wake_arg = arg;
}

bool ndl__kitchen_ready(struct ndl_kitchen *k)
{
	if (k->balance_due && !k->halted) {
		ndl__kitchen_flush(k);
		if (!ndl__kitchen_idle(k)) {
			/* wake the loop once the threads are dry, and look again */
			for (unsigned int i = 1; i < k->n_stations; i++) {
				atomic_store(&k->stations[i]->loop_waits, true);
				kick(k->stations[i]);
			}
			atomic_thread_fence(memory_order_seq_cst);
			ndl__kitchen_flush(k);
			if (!ndl__kitchen_idle(k))
				return false;
		}
		rebalance(k);
	}
	for (unsigned int i = 1; i < k->n_stations && !k->halted; i++) {
		struct station *s = k->stations[i];

		if (!s->n_chefs || ndl__ring_room(&s->in, s->in.size / 2))
			continue;
		/* full: ask the thread to wake the loop, then look once more */
		atomic_store(&s->loop_waits, true);
		atomic_thread_fence(memory_order_seq_cst);
		if (ndl__ring_used(&s->in) > s->in.size / 2) {
			kick(s);
			return false;
		}
		atomic_store(&s->loop_waits, false);
	}
	return true;
}

bool ndl__kitchen_idle(struct ndl_kitchen *k)
{
	for (unsigned int i = 1; i < k->n_stations && !k->halted; i++) {
		struct station *s = k->stations[i];

		if (!ndl__ring_empty(&s->in) || !ndl__ring_empty(&s->out))
			return false;
	}
	return true;
}

void ndl__kitchen_set_hold(struct ndl_kitchen *k, bool (*hold)(void *arg), void *arg)
{
	k->hold = hold;
	k->hold_arg = arg;
}

void ndl__kitchen_flush(struct ndl_kitchen *k)
{
	ndl_time_ns t0;

	if (k->halted || k->n_stations < 2)
		return;
	t0 = mono_ns();
	for (unsigned int i = 1; i < k->n_stations; i++) {
		struct station *s = k->stations[i];

		/* only a thread handed something since: waking one for nothing
		 * costs both sides a context switch */
		if (s->handed != s->kicked) {
			s->kicked = s->handed;
			kick(s);
		}
		drain_station(k, s, false);
	}
	k->overhead_ns += (uint64_t)(mono_ns() - t0);
}

/* Add what station thread s counted to the kitchen's counts (s idle). */
static void fold_counts(struct ndl_kitchen *k, struct station *s)
{
	for (size_t e = 0; e < NDL_DNS_ERROR_COUNT; e++)
		k->stats.dns_errors[e] += s->dns_errors[e];
	for (size_t e = 0; e < NDL_HTTP_ERROR_COUNT; e++)
		k->stats.http_errors[e] += s->http_errors[e];
	for (size_t e = 0; e < NDL_TLS_ERROR_COUNT; e++)
		k->stats.tls_errors[e] += s->tls_errors[e];
	k->stats.dumplings_dropped += s->dumplings_dropped;
	memset(s->dns_errors, 0, sizeof(s->dns_errors));
	memset(s->http_errors, 0, sizeof(s->http_errors));
	memset(s->tls_errors, 0, sizeof(s->tls_errors));
	s->dumplings_dropped = 0;
}

void ndl__kitchen_halt(struct ndl_kitchen *k)
{
	if (!k)
		return;
	for (unsigned int i = 1; i < k->n_stations; i++) {
		station_stop(k->stations[i]);
		if (!k->halted)
			fold_counts(k, k->stations[i]);
	}
	k->halted = true;
	k->wake = NULL;
}

void ndl__kitchen_sync(struct ndl_kitchen *k)
{
	if (k->halted)
		return;
	for (unsigned int i = 1; i < k->n_stations; i++) {
		struct station *s = k->stations[i];

		kick(s);
		for (;;) {
			drain_station(k, s, true);
			/* input consumed means handled: its dumplings are out */
			if (ndl__ring_empty(&s->in)) {
				drain_station(k, s, true);
				break;
			}
			pthread_mutex_lock(&s->lock);
			atomic_store(&s->caller_waits, true);
			atomic_thread_fence(memory_order_seq_cst);
			if (!ndl__ring_empty(&s->in) && ndl__ring_empty(&s->out))
				pthread_cond_wait(&s->caller_cv, &s->lock);
			atomic_store(&s->caller_waits, false);
			pthread_mutex_unlock(&s->lock);
		}
		fold_counts(k, s);
	}
}

const struct ndl_kitchen_stats *ndl__kitchen_stats(struct ndl_kitchen *k)
{
	ndl__kitchen_sync(k);
	return &k->stats;
}

int ndl__kitchen_chef_stats(struct ndl_kitchen *k, size_t i,
			    struct ndl_kitchen_chef_stats *out)
{
	const struct chef *c;

	if (i >= k->n_chefs)
		return -ENOENT;
	ndl__kitchen_sync(k);
	c = k->chefs[i];
	out->dumplings = c->sunk;
	out->dropped = c->sink_dropped + c->refused;
	out->malformed = c->malformed;
	out->disabled = c->disabled;
	return 0;
}

void ndl__kitchen_foreach_chef_counter(struct ndl_kitchen *k,
		void (*f)(void *arg, const char *chef, const char *counter, uint64_t value),
		void *arg)
{
	ndl__kitchen_sync(k);
	for (size_t i = 0; i < k->n_chefs; i++) {
		const struct chef *c = k->chefs[i];
		for (size_t j = 0; j < c->n_counters; j++)
			f(arg, c->d->name, c->counters[j].name, c->counters[j].value);
		if (c->other_used)
			f(arg, c->d->name, "other", c->other_counter);
	}
}

void ndl__kitchen_free(struct ndl_kitchen *k)
{
	if (!k)
		return;
	/* the threads first; the chefs' fini then runs here, like their init */
	ndl__kitchen_halt(k);
	for (size_t i = k->n_chefs; i-- > 0;) {
		struct chef *c = k->chefs[i];

		c->s = k->stations[0];
		if (c->init_ran)
			c->d->fini(&c->ctx);
		chef_free(c);
	}
	free(k->chefs);
	for (size_t i = 0; i < k->n_settings; i++) {
		free(k->settings[i].chef);
		free(k->settings[i].key);
		free(k->settings[i].value);
	}
	for (unsigned int i = 0; i < k->n_stations; i++)
		station_free(k->stations[i]);
	ndl_jwb_free(&k->merge);
	free(k->name);
	free(k);
}
