/* SPDX-License-Identifier: MIT */
/*
 * kitchen.c - the chef host: chef instances, their options, the services
 * of struct ndl_host, decoding once per packet and dispatch.
 *
 * Everything runs on one thread. A kitchen owns one JSON writer, one
 * decoded packet and one buffer each for the DNS, HTTP and TLS parsers,
 * reused for every packet, so the steady state allocates nothing. The
 * application parsers run only when a chef asks, at most once a packet.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "decode.h"
#include "envelope.h"
#include "jsonw.h"
#include "kitchen.h"
#include "options.h"

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

struct option_setting {
	char *chef;        /* owned */
	char *key;         /* owned */
	char *value;       /* owned */
};

struct chef_counter {
	char name[COUNTER_NAME_MAX];
	uint64_t value;
};

struct chef {
	struct ndl_chef_ctx ctx;              /* first: callbacks get &chef->ctx */
	struct ndl_kitchen *k;
	const struct ndl_chef_module *m;
	const struct ndl_chef_descriptor *d;
	struct ndl__opt_value vals[NDL__OPT_MAX];
	size_t n_opts;
	bool init_ran;
	bool disabled;
	unsigned int consecutive_errors;
	struct ndl_kitchen_chef_stats st;
	struct chef_counter counters[MAX_CHEF_COUNTERS];
	size_t n_counters;
	uint64_t other_counter;
	bool other_used;
	/* log rate limit */
	ndl_time_ns log_window_start;
	unsigned int log_lines;
	uint64_t log_suppressed;
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
	ndl_time_ns clock;
	struct ndl_kitchen_stats stats;

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

	/* the dumpling being written */
	struct ndl_jwb jwb;
	struct chef *open;                    /* chef with a dumpling open, or NULL */
	enum ndl_driver open_driver;
	size_t payload_start;                 /* writer length after the envelope prefix */
	uint64_t next_seq;                    /* metadata.seq of the next dumpling, from 1 */

	void (*log)(void *arg, enum ndl_log_level level, const char *line);
	void *log_arg;
};

static struct chef *chef_of(struct ndl_chef_ctx *ctx)
{
	return (struct chef *)(void *)ctx;
}

static ndl_time_ns mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ndl_time_ns)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static ndl_time_ns wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (ndl_time_ns)ts.tv_sec * 1000000000LL + ts.tv_nsec;
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

static void count_drop(struct chef *c)
{
	c->k->stats.dumplings_dropped++;
	c->st.dropped++;
}

static struct ndl_jw *host_emit_begin(struct ndl_chef_ctx *ctx, enum ndl_driver driver)
{
	struct chef *c = chef_of(ctx);
	struct ndl_kitchen *k = c->k;
	ndl_time_ns t;

	if (c->disabled) {
		count_drop(c);
		return NULL;
	}
	if (k->open) {
		count_drop(c);
		c->st.malformed++;
		chef_failed(c, "emit_begin while a dumpling is already open");
		return NULL;
	}
	if (driver != NDL_DRIVER_PACKET && driver != NDL_DRIVER_INTERVAL) {
		count_drop(c);
		c->st.malformed++;
		chef_failed(c, "emit_begin with an unknown driver");
		return NULL;
	}
	t = (driver == NDL_DRIVER_PACKET && k->in_packet) ? k->pkt.ts : ndl__kitchen_now(k);
	/* The number is taken only once the dumpling is whole (emit_end), so a
	 * malformed one leaves no gap; one lost later does (docs/protocol.md 4). */
	ndl_envelope_begin_seq(&k->jwb, c->d->name, k->name, t, driver, k->next_seq);
	k->open = c;
	k->open_driver = driver;
	k->payload_start = k->jwb.len;
	return &k->jwb.base;
}

static int host_emit_end(struct ndl_chef_ctx *ctx, struct ndl_jw *w)
{
	struct chef *c = chef_of(ctx);
	struct ndl_kitchen *k = c->k;
	bool no_payload;
	int r;

	if (k->open != c || w != &k->jwb.base) {
		count_drop(c);
		c->st.malformed++;
		chef_failed(c, "emit_end without a matching emit_begin");
		return -EINVAL;
	}
	k->open = NULL;
	no_payload = k->jwb.len == k->payload_start;
	ndl_envelope_end(&k->jwb);
	if (no_payload || ndl_jwb_error(&k->jwb) || !ndl_jwb_complete(&k->jwb)) {
		char why[96];
		count_drop(c);
		c->st.malformed++;
		snprintf(why, sizeof(why), "malformed dumpling dropped (%s)",
			 no_payload ? "no payload" :
			 ndl_jwb_error(&k->jwb) == NDL_JWB_LIMIT ? "too large" :
			 ndl_jwb_error(&k->jwb) == NDL_JWB_NOMEM ? "out of memory" :
			 ndl_jwb_error(&k->jwb) == NDL_JWB_DEPTH ? "nested too deep" :
			 "bad nesting");
		chef_failed(c, why);
		return -EINVAL;
	}
	c->consecutive_errors = 0;
	k->next_seq++;
	r = k->sink.write(k->sink.arg, k->jwb.buf, k->jwb.len, k->open_driver);
	if (r < 0) {
		count_drop(c);
		return r;
	}
	k->stats.dumplings++;
	c->st.dumplings++;
	return 0;
}

static ndl_time_ns host_now(struct ndl_chef_ctx *ctx)
{
	return ndl__kitchen_now(chef_of(ctx)->k);
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
	struct ndl_kitchen *k = chef_of(ctx)->k;

	if (!pkt)
		return NULL;
	if (pkt == &k->pkt && k->in_packet) {
		if (!k->dns_parsed) {
			k->dns_parsed = true;
			k->dns = ndl__dns_from_packet(&k->dnsbuf, pkt);
			if (k->dns && k->dns->error > 0 && k->dns->error < NDL_DNS_ERROR_COUNT)
				k->stats.dns_errors[k->dns->error]++;
		}
		return k->dns;
	}
	k->dns_parsed = false;
	return ndl__dns_from_packet(&k->dnsbuf, pkt);
}

static const struct ndl_http *host_http(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt)
{
	struct ndl_kitchen *k = chef_of(ctx)->k;

	if (!pkt)
		return NULL;
	if (pkt == &k->pkt && k->in_packet) {
		if (!k->http_parsed) {
			k->http_parsed = true;
			k->http = ndl__http_from_packet(&k->httpbuf, pkt);
			if (k->http && k->http->error > 0 && k->http->error < NDL_HTTP_ERROR_COUNT)
				k->stats.http_errors[k->http->error]++;
		}
		return k->http;
	}
	k->http_parsed = false;
	return ndl__http_from_packet(&k->httpbuf, pkt);
}

static const struct ndl_tls_hello *host_tls_hello(struct ndl_chef_ctx *ctx,
						  const struct ndl_packet *pkt)
{
	struct ndl_kitchen *k = chef_of(ctx)->k;

	if (!pkt)
		return NULL;
	if (pkt == &k->pkt && k->in_packet) {
		if (!k->tls_parsed) {
			k->tls_parsed = true;
			k->tls = ndl__tls_from_packet(&k->tlsbuf, pkt);
			if (k->tls && k->tls->error > 0 && k->tls->error < NDL_TLS_ERROR_COUNT)
				k->stats.tls_errors[k->tls->error]++;
		}
		return k->tls;
	}
	k->tls_parsed = false;
	return ndl__tls_from_packet(&k->tlsbuf, pkt);
}

/*
 * Forget the per-packet parse results: before each packet is dispatched.
 * Outside a dispatch they are neither used nor trusted (in_packet false).
 */
static void forget_parses(struct ndl_kitchen *k)
{
	k->dns_parsed = false;
	k->dns = NULL;
	k->http_parsed = false;
	k->http = NULL;
	k->tls_parsed = false;
	k->tls = NULL;
}

/* ------------------------------------------------------------------------ */
/* Kitchen                                                                   */
/* ------------------------------------------------------------------------ */

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
	ndl_jwb_init(&k->jwb, DUMPLING_LIMIT);
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
	free(c);
}

int ndl__kitchen_add_chef(struct ndl_kitchen *k, const struct ndl_chef_module *m,
			  char *err, size_t errlen)
{
	const struct ndl_chef_descriptor *d = m->desc;
	struct chef *c;
	char why[160];
	int r;

	if (find_chef(k, d->name)) {
		snprintf(err, errlen, "chef %s added twice", d->name);
		return -EEXIST;
	}
	if (k->n_chefs == k->cap_chefs) {
		size_t cap = k->cap_chefs ? k->cap_chefs * 2 : 8;
		struct chef **chefs = realloc(k->chefs, cap * sizeof(*chefs));
		if (!chefs) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		k->chefs = chefs;
		k->cap_chefs = cap;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->k = k;
	c->m = m;
	c->d = d;
	c->ctx.host = &k->host;
	c->log_window_start = mono_ns();
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
}

void ndl__kitchen_set_clock(struct ndl_kitchen *k, ndl_time_ns t)
{
	k->clock = t;
}

ndl_time_ns ndl__kitchen_now(const struct ndl_kitchen *k)
{
	return k->live_clock ? wall_ns() : k->clock;
}

/* After a callback: a dumpling left open is dropped as malformed. */
static void close_dangling(struct ndl_kitchen *k, struct chef *c)
{
	if (k->open == c) {
		k->open = NULL;
		count_drop(c);
		c->st.malformed++;
		chef_failed(c, "dumpling begun but never ended; dropped");
	}
}

/* Hand k->pkt to every chef's on_packet. */
static void dispatch(struct ndl_kitchen *k)
{
	k->in_packet = true;
	forget_parses(k);
	for (size_t i = 0; i < k->n_chefs; i++) {
		struct chef *c = k->chefs[i];
		if (c->disabled || !c->d->on_packet)
			continue;
		c->d->on_packet(&c->ctx, &k->pkt);
		close_dangling(k, c);
	}
	k->in_packet = false;
}

void ndl__kitchen_packet(struct ndl_kitchen *k, int linktype, const uint8_t *data,
			 uint32_t caplen, uint32_t wirelen, ndl_time_ns ts)
{
	unsigned int e;

	k->stats.packets++;
	k->stats.bytes += caplen;
	if (ts > k->clock)
		k->clock = ts;
	e = (unsigned int)ndl__decode(&k->pkt, linktype, data, caplen, wirelen, ts);
	if (e > 0 && e < NDL_DECODE_ERROR_COUNT)
		k->stats.decode_errors[e]++;
	dispatch(k);
}

void ndl__kitchen_decoded(struct ndl_kitchen *k, const struct ndl_packet *pkt)
{
	k->stats.packets++;
	k->stats.bytes += pkt->caplen;
	if (pkt->ts > k->clock)
		k->clock = pkt->ts;
	if (pkt->decode_error > 0 && pkt->decode_error < NDL_DECODE_ERROR_COUNT)
		k->stats.decode_errors[pkt->decode_error]++;
	k->pkt = *pkt;
	dispatch(k);
}

void ndl__kitchen_interval(struct ndl_kitchen *k)
{
	for (size_t i = 0; i < k->n_chefs; i++) {
		struct chef *c = k->chefs[i];
		if (c->disabled || !c->d->on_interval)
			continue;
		c->d->on_interval(&c->ctx);
		close_dangling(k, c);
	}
}

const struct ndl_kitchen_stats *ndl__kitchen_stats(const struct ndl_kitchen *k)
{
	return &k->stats;
}

int ndl__kitchen_chef_stats(const struct ndl_kitchen *k, size_t i,
			    struct ndl_kitchen_chef_stats *out)
{
	if (i >= k->n_chefs)
		return -ENOENT;
	*out = k->chefs[i]->st;
	out->disabled = k->chefs[i]->disabled;
	return 0;
}

void ndl__kitchen_foreach_chef_counter(const struct ndl_kitchen *k,
		void (*f)(void *arg, const char *chef, const char *counter, uint64_t value),
		void *arg)
{
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
	for (size_t i = k->n_chefs; i-- > 0;) {
		struct chef *c = k->chefs[i];
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
	ndl_jwb_free(&k->jwb);
	free(k->name);
	free(k);
}
