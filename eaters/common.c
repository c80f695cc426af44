/* SPDX-License-Identifier: MIT */
/*
 * common.c - shared code of the eater programs. The JSON printer follows
 * RFC 8259 and reproduces CPython's json encoder byte for byte for the
 * values jansson can hold.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ndl/wire.h>

#include "common.h"

/* ------------------------------------------------------------------------ */
/* Python-compatible JSON                                                   */

/* repr(float): the shortest digits that read back to d (CPython 'r'). */
static void py_float(double d, char *out, size_t n)
{
	char tmp[40], digits[24];
	int exp10, nd = 0, p;
	const char *s;
	char *o = out;
	size_t left = n;

	if (isnan(d)) {
		snprintf(out, n, "NaN");
		return;
	}
	if (isinf(d)) {
		snprintf(out, n, d < 0 ? "-Infinity" : "Infinity");
		return;
	}
	if (d == 0) {
		snprintf(out, n, signbit(d) ? "-0.0" : "0.0");
		return;
	}
	for (p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* tmp is [-]D[.DDD]e(+|-)XX */
	s = tmp;
	if (*s == '-') {
		*o++ = '-';
		left--;
		s++;
	}
	for (; *s && *s != 'e'; s++)
		if (*s != '.')
			digits[nd++] = *s;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	exp10 = atoi(s + 1);

	if (exp10 >= -4 && exp10 < 16) {
		int decpt = exp10 + 1;  /* digits before the point */

		if (decpt <= 0)
			snprintf(o, left, "0.%.*s%s", -decpt, "0000", digits);
		else if (decpt >= nd)
			snprintf(o, left, "%s%.*s.0", digits, decpt - nd, "0000000000000000");
		else
			snprintf(o, left, "%.*s.%s", decpt, digits, digits + decpt);
	} else {
		snprintf(o, left, "%c%s%se%c%02d", digits[0], nd > 1 ? "." : "",
			 digits + 1, exp10 < 0 ? '-' : '+', abs(exp10));
	}
}

static void put_indent(FILE *f, int level)
{
	for (int i = 0; i < level * 4; i++)
		putc(' ', f);
}

/* A JSON string with ensure_ascii, as CPython's encoder writes it. */
static void py_string(FILE *f, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	putc('"', f);
	while (p < end) {
		uint32_t c = *p++;
		int more = 0;

		if (c >= 0xf0 && c < 0xf8) {
			c &= 0x07;
			more = 3;
		} else if (c >= 0xe0) {
			c &= 0x0f;
			more = 2;
		} else if (c >= 0xc0) {
			c &= 0x1f;
			more = 1;
		}
		while (more-- > 0 && p < end)
			c = (c << 6) | (*p++ & 0x3f);

		if (c >= ' ' && c <= '~' && c != '\\' && c != '"') {
			putc((int)c, f);
			continue;
		}
		putc('\\', f);
		switch (c) {
		case '\\': putc('\\', f); continue;
		case '"': putc('"', f); continue;
		case '\b': putc('b', f); continue;
		case '\f': putc('f', f); continue;
		case '\n': putc('n', f); continue;
		case '\r': putc('r', f); continue;
		case '\t': putc('t', f); continue;
		default: break;
		}
		if (c > 0xffff) {  /* UTF-16 surrogate pair, RFC 8259 section 7 */
			uint32_t v = c - 0x10000;
			uint32_t hi = 0xd800 | (v >> 10), lo = 0xdc00 | (v & 0x3ff);

			fprintf(f, "u%c%c%c%c\\u%c%c%c%c",
				hex[hi >> 12], hex[(hi >> 8) & 15], hex[(hi >> 4) & 15], hex[hi & 15],
				hex[lo >> 12], hex[(lo >> 8) & 15], hex[(lo >> 4) & 15], hex[lo & 15]);
		} else {
			fprintf(f, "u%c%c%c%c", hex[c >> 12], hex[(c >> 8) & 15],
				hex[(c >> 4) & 15], hex[c & 15]);
		}
	}
	putc('"', f);
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **ndl__sorted_keys(const json_t *o, size_t *n)
{
	const char **keys;
	const char *k;
	json_t *item;
	size_t i = 0;

	*n = json_object_size(o);
	keys = malloc((*n ? *n : 1) * sizeof(*keys));
	if (!keys)
		return NULL;
	json_object_foreach((json_t *)o, k, item)
		keys[i++] = k;
	qsort(keys, *n, sizeof(*keys), cmp_keys);
	return keys;
}

static int dump(FILE *f, const json_t *v, int level)
{
	char num[64];

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		size_t n, i;
		const char **keys;

		if (json_object_size(v) == 0) {
			fputs("{}", f);
			return 0;
		}
		keys = ndl__sorted_keys(v, &n);
		if (!keys)
			return -ENOMEM;
		fputs("{\n", f);
		for (i = 0; i < n; i++) {
			put_indent(f, level + 1);
			py_string(f, keys[i], strlen(keys[i]));
			fputs(": ", f);
			if (dump(f, json_object_get(v, keys[i]), level + 1) < 0) {
				free(keys);
				return -ENOMEM;
			}
			fputs(i + 1 < n ? ",\n" : "\n", f);
		}
		free(keys);
		put_indent(f, level);
		putc('}', f);
		return 0;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(v);

		if (n == 0) {
			fputs("[]", f);
			return 0;
		}
		fputs("[\n", f);
		for (size_t i = 0; i < n; i++) {
			put_indent(f, level + 1);
			if (dump(f, json_array_get(v, i), level + 1) < 0)
				return -ENOMEM;
			fputs(i + 1 < n ? ",\n" : "\n", f);
		}
		put_indent(f, level);
		putc(']', f);
		return 0;
	}
	case JSON_STRING:
		py_string(f, json_string_value(v), json_string_length(v));
		return 0;
	case JSON_INTEGER:
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	case JSON_REAL:
		py_float(json_real_value(v), num, sizeof(num));
		fputs(num, f);
		return 0;
	case JSON_TRUE:
		fputs("true", f);
		return 0;
	case JSON_FALSE:
		fputs("false", f);
		return 0;
	case JSON_NULL:
	default:
		fputs("null", f);
		return 0;
	}
}

int ndl__pyjson_dump(FILE *f, const json_t *v)
{
	int err;

	if (!v) {
		fputs("null", f);
		return ferror(f) ? -EIO : 0;
	}
	err = dump(f, v, 0);
	if (err < 0)
		return err;
	return ferror(f) ? -EIO : 0;
}

/* ------------------------------------------------------------------------ */
/* Times                                                                    */

void ndl__py_localtime(double t, char sep, int no_micro, char *buf, size_t n)
{
	double ip, frac, us;
	time_t secs;
	struct tm tm;

	if (!isfinite(t) || fabs(t) > 1e14) {
		snprintf(buf, n, "?");
		return;
	}
	/* CPython: split, round the fraction half-even to microseconds, carry. */
	frac = modf(t, &ip);
	us = nearbyint(frac * 1e6);
	if (us >= 1e6) {
		us -= 1e6;
		ip += 1;
	} else if (us < 0) {
		us += 1e6;
		ip -= 1;
	}
	secs = (time_t)ip;
	if (!localtime_r(&secs, &tm)) {
		snprintf(buf, n, "?");
		return;
	}
	if (no_micro || us == 0)
		snprintf(buf, n, "%04d-%02d-%02d%c%02d:%02d:%02d", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, sep, tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		snprintf(buf, n, "%04d-%02d-%02d%c%02d:%02d:%02d.%06d", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, sep, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (int)us);
}

void ndl__fmt_uptime(double seconds, char *buf, size_t n)
{
	long long s;

	if (!isfinite(seconds) || seconds < 0)
		seconds = 0;
	if (seconds > 1e15)
		seconds = 1e15;
	s = (long long)seconds;
	snprintf(buf, n, "%02lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
}

/* ------------------------------------------------------------------------ */
/* Running                                                                  */

static void handle_noop_close(uv_handle_t *h)
{
	(void)h;
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct ndl__app *app = s->data;

	(void)signum;
	app->exit_code = 0;
	if (ndl_eater_close(app->eater, NDL_EATER_CLOSE_CANCELLED, "eater cancelled") < 0) {
		/* Already ending (e.g. still connecting and failing): let it. */
	}
}

/* One line on stderr saying why a connection ended. */
static void explain_end(struct ndl__app *app, struct ndl_eater *e,
			const struct ndl_eater_close_info *info, const char *then)
{
	if (info->code == NDL_EATER_CLOSE_UNAUTHORIZED) {
		fprintf(stderr, "%s: hub refused the token (nd-hub at %s closed with %d)%s\n",
			app->prog, ndl_eater_url(e), info->code, then);
	} else if (info->code == NDL_EATER_CLOSE_LAGGING) {
		fprintf(stderr, "%s: hub disconnected this eater: too slow (nd-hub at %s closed"
			" with %d%s%s)%s\n", app->prog, ndl_eater_url(e), info->code,
			info->reason[0] ? ": " : "", info->reason, then);
	} else if (!info->was_connected) {
		/* errno text for plain socket errors, the SDK's words otherwise */
		const char *why = info->status == -ECONNREFUSED || info->status == -ETIMEDOUT ||
				  info->status == -ENETUNREACH
				  ? strerror(-info->status) : info->reason;
		fprintf(stderr, "%s: cannot connect to nd-hub at %s: %s%s\n", app->prog,
			ndl_eater_url(e), why, then);
	} else if (info->status == -ECONNRESET) {
		fprintf(stderr, "%s: nd-hub at %s closed the connection (%d%s%s)%s\n",
			app->prog, ndl_eater_url(e), info->code,
			info->reason[0] ? ": " : "", info->reason, then);
	} else {
		fprintf(stderr, "%s: connection to nd-hub at %s failed: %s%s\n", app->prog,
			ndl_eater_url(e), info->reason[0] ? info->reason : strerror(-info->status),
			then);
	}
}

static void on_event(struct ndl_eater *e, const struct ndl_eater_event *ev)
{
	struct ndl__app *app = ndl_eater_userdata(e);
	char then[64];

	switch (ev->type) {
	case NDL_EATER_EVENT_DROPS:
		if (app->drop_notices)
			fprintf(stderr, "%s: hub dropped %" PRIu64 " dumplings for this eater"
				" (queue full)\n", app->prog, ev->dropped);
		break;
	case NDL_EATER_EVENT_GAP:
		if (app->gap_notices)
			fprintf(stderr, "%s: %" PRIu64 " dumplings from kitchen %s never arrived"
				" (seq %" PRIu64 " came after %" PRIu64 ")\n", app->prog,
				ev->seq - ev->expected_seq, ev->kitchen, ev->seq,
				ev->expected_seq - 1);
		break;
	case NDL_EATER_EVENT_DISCONNECTED:
		snprintf(then, sizeof(then), "; reconnecting in %.1f s", ev->delay_ms / 1000.0);
		explain_end(app, e, ev->close, then);
		break;
	default:
		break;
	}
}

static void on_close(struct ndl_eater *e, const struct ndl_eater_close_info *info)
{
	struct ndl__app *app = ndl_eater_userdata(e);

	ndl_eater_get_stats(e, &app->stats, sizeof(app->stats));
	if (info->status != 0) {
		explain_end(app, e, info, "");
		app->exit_code = 1;
	}
	uv_signal_stop(&app->sigint);
	uv_signal_stop(&app->sigterm);
	uv_close((uv_handle_t *)&app->sigint, handle_noop_close);
	uv_close((uv_handle_t *)&app->sigterm, handle_noop_close);
}

int ndl__app_init(struct ndl__app *app, const char *prog, const char *name, const char *hub)
{
	memset(app, 0, sizeof(*app));
	app->prog = prog;
	tzset();
	app->eater = ndl_eater_new(NULL, name, hub);
	if (!app->eater) {
		int err = errno;

		if (err == EINVAL && (!name || !*name))
			fprintf(stderr, "%s: the eater name must not be empty\n", prog);
		else if (err == EINVAL)
			fprintf(stderr, "%s: invalid hub address '%s' (expected HOST:PORT,"
				" ws://HOST:PORT or wss://HOST:PORT)\n", prog, hub);
		else
			fprintf(stderr, "%s: cannot create the eater: %s\n", prog, strerror(err));
		return -err;
	}
	ndl_eater_set_userdata(app->eater, app);
	ndl_eater_set_event_cb(app->eater, on_event);
	return 0;
}

int ndl__app_security(struct ndl__app *app, const char *token_file, const char *ca_file)
{
	int r;

	if (token_file) {
		r = ndl_eater_set_token_file(app->eater, token_file);
		if (r == -ENODATA)
			fprintf(stderr, "%s: token file '%s' holds no token (only blank or #"
				" lines)\n", app->prog, token_file);
		else if (r == -EINVAL)
			fprintf(stderr, "%s: the token in '%s' is not valid (it must be UTF-8"
				" text of at most %d bytes without control characters)\n",
				app->prog, token_file, NDL_EATER_MAX_TOKEN);
		else if (r < 0)
			fprintf(stderr, "%s: cannot read token file '%s': %s\n", app->prog,
				token_file, strerror(-r));
		if (r < 0)
			return r;
	}
	if (ca_file) {
		FILE *f = fopen(ca_file, "r");

		if (!f) {
			r = -errno;
			fprintf(stderr, "%s: cannot read CA file '%s': %s\n", app->prog, ca_file,
				strerror(-r));
			return r;
		}
		fclose(f);
		r = ndl_eater_set_ca_file(app->eater, ca_file);
		if (r < 0) {
			fprintf(stderr, "%s: cannot use CA file '%s': %s\n", app->prog, ca_file,
				strerror(-r));
			return r;
		}
	}
	return 0;
}

int ndl__app_run(struct ndl__app *app, ndl_eater_connect_cb on_connect,
		 ndl_eater_dumpling_cb on_dumpling)
{
	uv_loop_t *loop = ndl_eater_loop(app->eater);
	int err;

	signal(SIGPIPE, SIG_IGN);
	uv_signal_init(loop, &app->sigint);
	uv_signal_init(loop, &app->sigterm);
	app->sigint.data = app;
	app->sigterm.data = app;
	err = ndl_eater_start(app->eater, on_connect, on_dumpling, on_close);
	if (err < 0) {
		fprintf(stderr, "%s: cannot start the eater: %s\n", app->prog, strerror(-err));
		uv_close((uv_handle_t *)&app->sigint, handle_noop_close);
		uv_close((uv_handle_t *)&app->sigterm, handle_noop_close);
		uv_run(loop, UV_RUN_DEFAULT);
		ndl_eater_free(app->eater);
		return 1;
	}
	uv_signal_start(&app->sigint, on_signal, SIGINT);
	uv_signal_start(&app->sigterm, on_signal, SIGTERM);
	ndl_eater_run(app->eater);
	ndl_eater_free(app->eater);
	app->eater = NULL;
	return app->exit_code;
}

/* ------------------------------------------------------------------------ */
/* Shared options                                                           */

/* One shared option; 1 when it was one, 0 when not, -EINVAL (said) when bad. */
static int shared_opt(struct ndl__eater_opts *o, int opt, const char *arg)
{
	char *end;

	switch (opt) {
	case 'h': o->hub = arg; return 1;
	case 'n': o->name = arg; return 1;
	case NDL__OPT_TOKEN_FILE: o->token_file = arg; return 1;
	case NDL__OPT_HUB_CA: o->ca_file = arg; return 1;
	case 'c':
	case 'k': {
		const char **list = opt == 'c' ? o->chefs : o->kitchens;
		int *n = opt == 'c' ? &o->nchefs : &o->nkitchens;

		if (*n == NDL_EATER_MAX_FILTER_NAMES) {
			fprintf(stderr, "%s: too many --%s filters (at most %d)\n", o->prog,
				opt == 'c' ? "chef" : "kitchen", NDL_EATER_MAX_FILTER_NAMES);
			return -EINVAL;
		}
		list[(*n)++] = arg;
		list[*n] = NULL;
		return 1;
	}
	case NDL__OPT_INTERVAL: o->interval = 1; return 1;
	case NDL__OPT_NO_INTERVAL: o->interval = 0; return 1;
	case NDL__OPT_PACKET: o->packet = 1; return 1;
	case NDL__OPT_NO_PACKET: o->packet = 0; return 1;
	case NDL__OPT_RECONNECT: o->reconnect = 1; return 1;
	case NDL__OPT_NO_RECONNECT: o->reconnect = 0; return 1;
	case NDL__OPT_NO_BATCH: o->batch = 0; return 1;
	case NDL__OPT_RECONNECT_MAX:
		o->reconnect_max = strtod(arg, &end);
		if (end == arg || *end || !(o->reconnect_max >= 0.25) ||
		    o->reconnect_max > NDL_EATER_RECONNECT_LIMIT_MS / 1000.0) {
			fprintf(stderr, "%s: --reconnect-max wants seconds between 0.25"
				" and %u, not '%s'\n", o->prog, NDL_EATER_RECONNECT_LIMIT_MS / 1000,
				arg);
			return -EINVAL;
		}
		return 1;
	default:
		return 0;
	}
}

/* The shared long options: NDL__EO_HUB's first, then NDL__EO_SUB's. */
static const struct option shared_long[] = {
	{ "hub", required_argument, NULL, 'h' },
	{ "eater-name", required_argument, NULL, 'n' },
	{ "token-file", required_argument, NULL, NDL__OPT_TOKEN_FILE },
	{ "hub-ca", required_argument, NULL, NDL__OPT_HUB_CA },
	{ "help", no_argument, NULL, NDL__OPT_HELP },
	{ "version", no_argument, NULL, NDL__OPT_VERSION },
	{ "chef", required_argument, NULL, 'c' },
	{ "kitchen", required_argument, NULL, 'k' },
	{ "interval-dumplings", no_argument, NULL, NDL__OPT_INTERVAL },
	{ "no-interval-dumplings", no_argument, NULL, NDL__OPT_NO_INTERVAL },
	{ "packet-dumplings", no_argument, NULL, NDL__OPT_PACKET },
	{ "no-packet-dumplings", no_argument, NULL, NDL__OPT_NO_PACKET },
	{ "reconnect", no_argument, NULL, NDL__OPT_RECONNECT },
	{ "no-reconnect", no_argument, NULL, NDL__OPT_NO_RECONNECT },
	{ "reconnect-max", required_argument, NULL, NDL__OPT_RECONNECT_MAX },
	{ "no-batch", no_argument, NULL, NDL__OPT_NO_BATCH },
};
#define N_HUB_LONG 6
#define N_SHARED_LONG (sizeof(shared_long) / sizeof(shared_long[0]))

int ndl__eater_opts_parse(struct ndl__eater_opts *o, const char *prog, const char *name,
			  int set, int argc, char **argv, const char *shortopts,
			  const struct option *longopts, void (*usage)(FILE *f),
			  ndl__own_opt_fn own, void *ctx)
{
	struct option all[N_SHARED_LONG + NDL__MAX_OWN_OPTS + 1];
	size_t n = set == NDL__EO_SUB ? N_SHARED_LONG : N_HUB_LONG;
	char shorts[64];
	int opt, r;

	memcpy(all, shared_long, n * sizeof(all[0]));
	for (size_t i = 0; longopts && longopts[i].name; i++) {
		if (i == NDL__MAX_OWN_OPTS) {  /* a program's mistake, found by its tests */
			fprintf(stderr, "%s: more than %d options of its own\n", prog,
				NDL__MAX_OWN_OPTS);
			return -E2BIG;
		}
		all[n++] = longopts[i];
	}
	memset(&all[n], 0, sizeof(all[n]));
	snprintf(shorts, sizeof(shorts), "h:n:%s%s", set == NDL__EO_SUB ? "c:k:" : "",
		 shortopts ? shortopts : "");

	memset(o, 0, sizeof(*o));
	o->prog = prog;
	o->hub = NDL__DEFAULT_HUB;
	o->name = name;
	o->interval = o->packet = o->batch = 1;
	o->reconnect_max = NDL_EATER_RECONNECT_MAX_MS / 1000.0;
	while ((opt = getopt_long(argc, argv, shorts, all, NULL)) != -1) {
		if (opt == NDL__OPT_HELP) {
			usage(stdout);
			return 1;
		}
		if (opt == NDL__OPT_VERSION) {
			printf("%s (netdumplings-c) %s\n", prog, NDL_VERSION);
			return 1;
		}
		r = shared_opt(o, opt, optarg);
		if (r == 0 && opt != '?' && opt != ':' && own)
			r = own(ctx, opt, optarg) < 0 ? -EINVAL : 1;
		if (r < 0)
			return r;
		if (r == 0) {
			fprintf(stderr, "Try '%s --help' for more information.\n", prog);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n"
			"Try '%s --help' for more information.\n", prog, argv[optind], prog);
		return -EINVAL;
	}
	return 0;
}

int ndl__app_setup(struct ndl__app *app, const struct ndl__eater_opts *o)
{
	unsigned drivers;
	int r;

	r = ndl__app_init(app, o->prog, o->name, o->hub);
	if (r < 0)
		return r;
	r = ndl__app_security(app, o->token_file, o->ca_file);
	if (r < 0) {
		ndl_eater_free(app->eater);
		app->eater = NULL;
		return r;
	}
	ndl_eater_set_batch(app->eater, o->batch);
	if (o->reconnect) {
		unsigned max_ms = (unsigned)(o->reconnect_max * 1000.0);

		ndl_eater_set_reconnect(app->eater, 1, max_ms < NDL_EATER_RECONNECT_MIN_MS ?
					max_ms : NDL_EATER_RECONNECT_MIN_MS, max_ms);
	}
	for (int i = 0; i < o->nchefs; i++)
		ndl_eater_filter_chef(app->eater, o->chefs[i]);
	for (int i = 0; i < o->nkitchens; i++)
		ndl_eater_filter_kitchen(app->eater, o->kitchens[i]);
	ndl_eater_filter_drivers(app->eater, NDL_EATER_DRIVER_OTHER |
				 (o->packet ? NDL_EATER_DRIVER_PACKET : 0) |
				 (o->interval ? NDL_EATER_DRIVER_INTERVAL : 0));
	/*
	 * The same choice as a server-side subscription, so the hub does not
	 * send what would be thrown away here; the filters above still apply,
	 * for hubs that send everything. With neither driver wanted nothing
	 * is delivered anyway: subscribe to both and let the filter drop them.
	 */
	drivers = o->packet == o->interval ? 0 :
		  o->packet ? NDL_EATER_DRIVER_PACKET : NDL_EATER_DRIVER_INTERVAL;
	if (o->nchefs || o->nkitchens || drivers) {
		r = ndl_eater_subscribe(app->eater, o->chefs, o->kitchens, drivers);
		if (r < 0)
			fprintf(stderr, "%s: warning: cannot ask the hub to filter (%s);"
				" filtering here only\n", o->prog, strerror(-r));
	}
	return 0;
}

/* The one own option of a status program: a flag. */
static int set_flag(void *ctx, int opt, const char *arg)
{
	(void)opt;
	(void)arg;
	*(int *)ctx = 1;
	return 0;
}

int ndl__status_main(struct ndl__app *app, const char *prog, const char *name, int argc,
		     char **argv, const struct option *longopts, void (*usage)(FILE *f),
		     int *flag, void *data, ndl_eater_dumpling_cb on_dumpling)
{
	struct ndl__eater_opts o;
	int r;

	r = ndl__eater_opts_parse(&o, prog, name, NDL__EO_HUB, argc, argv, NULL, longopts,
				  usage, set_flag, flag);
	if (r != 0)
		return r > 0 ? 0 : 1;
	if (ndl__app_setup(app, &o) < 0)
		return 1;
	app->data = data;
	ndl_eater_filter_chef(app->eater, NDL_STATUS_CHEF);
	return ndl__app_run(app, NULL, on_dumpling);
}

struct ndl__app *ndl__app_of(struct ndl_eater *e)
{
	return ndl_eater_userdata(e);
}

void ndl__app_full(struct ndl__app *app)
{
	app->exit_code = 0;
	ndl_eater_close(app->eater, NDL_EATER_CLOSE_FULL, "dumpling eater is full");
}

void ndl__app_fail(struct ndl__app *app, const char *what)
{
	fprintf(stderr, "%s: %s\n", app->prog, what);
	app->exit_code = 1;
	ndl_eater_close(app->eater, NDL_EATER_CLOSE_CANCELLED, "eater cancelled");
}

int ndl__parse_count(const char *prog, const char *s, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > (1LL << 62)) {
		fprintf(stderr, "%s: --count wants a positive integer, not '%s'\n", prog, s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}
