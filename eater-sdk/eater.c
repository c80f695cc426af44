/* SPDX-License-Identifier: MIT */
/*
 * eater.c - the eater SDK: one WebSocket client (RFC 6455) to an nd-hub,
 * run by libwebsockets on a libuv loop.
 *
 * Life of an eater:
 *
 *   NEW --start--> CONNECTING --handshake--> OPEN --close()--> CLOSING
 *                      |                      |                  |
 *                      +------ error ---------+--- hub closes ---+
 *                                             v
 *                     FINISHING (lws context being destroyed on the loop)
 *                                             v
 *                     DONE (close callback has run)
 *
 * The end of a connection arms a zero timer, whose callback hands the lws
 * context to ndl__ws_teardown_start() (proto/ws.h): on a foreign loop lws
 * needs several loop turns and destroy calls before it writes NULL to
 * info.pcontext. Once that is over and the SDK's timer is closed, the
 * caller's close callback runs.
 *
 * With reconnecting on, the end of a connection that may be retried leads
 * to WAITING instead (the lws context stays), and the same timer, after
 * the back-off, to CONNECTING again:
 *
 *   CONNECTING/OPEN --lost--> WAITING --back-off--> CONNECTING
 *
 * Every connection gets a number (opaque_user_data of its wsi), so lws
 * callbacks of a connection that is over are told apart and ignored.
 *
 * Batch mode (docs/protocol.md section 10) is only a different split of
 * the received bytes: a message is cut at line feeds and each line goes
 * through the same path a one-dumpling message takes.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "ndl/eater.h"
#include "eater-int.h"
#include "envelope.h"
#include "ws.h"

#define EXPORT __attribute__((visibility("default")))

#define HUB_DEFAULT_PORT 11348
#define RX_CHUNK         (64u * 1024u)  /* lws receive buffer */
#define CLOSE_WAIT_MS    3000           /* how long a close handshake may take */
#define TEARDOWN_MS      5000           /* longest wait for lws to let go of the loop */
#define REASON_MAX       NDL__WS_CLOSE_REASON_MAX
#define TOKEN_FILE_MAX   (64u * 1024u)  /* longest token file read */
#define HANDSHAKE_SECS   10             /* lws' limit for connect and handshakes */

enum state {
	ST_NEW,
	ST_CONNECTING,
	ST_OPEN,
	ST_CLOSING,
	ST_WAITING,          /* between connections, reconnecting */
	ST_FINISHING,
	ST_DONE,
};

struct namelist {
	char **v;
	size_t n;
};

/* The next metadata.seq due from one kitchen. */
struct seqslot {
	char *kitchen;
	uint64_t next;
};

struct ndl_eater {
	uv_loop_t *loop;
	uv_loop_t own_loop;
	int owns_loop;
	int in_run;          /* inside ndl_eater_run() */
	int free_pending;    /* ndl_eater_free() deferred */

	char *name;
	struct ndl__hub_addr addr;
	char url[NDL__HUB_HOST_MAX + 32];
	char host_header[NDL__HUB_HOST_MAX + 16];
	json_t *hello_extra;  /* object: extra hello fields */
	char *hello;          /* LWS_PRE + serialised hello, built at start */
	size_t hello_len;

	struct namelist chefs;
	struct namelist kitchens;
	unsigned drivers;
	size_t max_message;

	char *token;          /* sent as hello "token"; wiped when freed */
	char *ca_file;        /* wss: CA file, NULL for the system store */
	int offer_batch;      /* offer NDL_EATER_SUBPROTOCOL_BATCH */
	int batch;            /* the hub chose it on this connection */
	int drop_notices;     /* enum ndl_eater_drop_notices */
	ndl_eater_event_cb on_event;

	int reconnect;
	unsigned rc_min_ms, rc_max_ms;
	unsigned attempt;     /* attempts in a row without a good connection */
	uint64_t rng;         /* xorshift state for the jitter */
	uintptr_t conn_id;    /* number of the current connection */
	int conn_gone;        /* lws is done with the current wsi */
	int got_message;      /* the current connection delivered something */

	/* gap detection: metadata.seq per kitchen */
	struct seqslot *seqs;
	size_t nseqs;
	int seq_off;          /* the subscription leaves dumplings out */

	ndl_eater_connect_cb on_connect;
	ndl_eater_dumpling_cb on_dumpling;
	ndl_eater_close_cb on_close;
	void *userdata;

	enum state state;
	struct lws_context *ctx;
	struct lws_context *ctx_alive;  /* lws writes NULL here when fully gone */
	struct lws *wsi;
	uv_timer_t timer;
	struct ndl__ws_teardown teardown;
	int handles_open;    /* the timer and the teardown */

	/* reassembly */
	char *rx;
	size_t rx_len, rx_cap;
	int rx_in_msg, rx_binary;

	int hello_sent;
	char *sub_msg;        /* LWS_PRE + {"subscribe":...} waiting to go, or NULL */
	size_t sub_len;

	/* what the caller asked for */
	int close_requested;
	int close_code;
	char close_reason[REASON_MAX + 1];

	/* the close frame we send (the caller's, or ours on a protocol error) */
	int wire_code;
	char wire_reason[REASON_MAX + 1];
	int close_sent;
	int rx_discard;      /* closing: ignore what still arrives */

	/* how it ended */
	int end_status;      /* 0 until known */
	int end_code;
	char end_reason[NDL__HUB_HOST_MAX + 128];
	int was_connected;

	struct ndl_eater_stats stats;
};

static void begin_close(struct ndl_eater *e, int code, const char *reason);

/* ------------------------------------------------------------------------ */

static void set_lws_logging(void)
{
	static int done;
	const char *env;
	int level = 0;

	if (done)
		return;
	done = 1;
	env = getenv("NDL_EATER_LWS_LOG");
	if (env && *env)
		level = atoi(env);
	lws_set_log_level(level, NULL);
}

static void namelist_free(struct namelist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int namelist_add(struct namelist *l, const char *s)
{
	char **v, *copy;

	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 0;
	if (l->n >= NDL_EATER_MAX_FILTER_NAMES)
		return -ENOSPC;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v) {
		free(copy);
		return -ENOMEM;
	}
	v[l->n++] = copy;
	l->v = v;
	return 0;
}

static int namelist_has(const struct namelist *l, const char *s)
{
	if (!s)
		return 0;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

/* Wipe and free a secret string. */
static void free_secret(char *p)
{
	if (!p)
		return;
	explicit_bzero(p, strlen(p));
	free(p);
}

static void seqs_clear(struct ndl_eater *e)
{
	for (size_t i = 0; i < e->nseqs; i++)
		free(e->seqs[i].kitchen);
	free(e->seqs);
	e->seqs = NULL;
	e->nseqs = 0;
}

static void emit(struct ndl_eater *e, const struct ndl_eater_event *ev)
{
	if (e->on_event)
		e->on_event(e, ev);
}

/*
 * Follow one kitchen's metadata.seq (docs/protocol.md section 4): the
 * first number seen is taken as it is, one more than the last is in
 * order, more than that is a gap, less is a restarted kitchen.
 */
static void track_seq(struct ndl_eater *e, const char *kitchen, uint64_t seq)
{
	struct seqslot *slot = NULL;
	struct ndl_eater_event ev;

	if (e->seq_off || !kitchen || seq == 0)
		return;
	for (size_t i = 0; i < e->nseqs; i++) {
		if (strcmp(e->seqs[i].kitchen, kitchen) == 0) {
			slot = &e->seqs[i];
			break;
		}
	}
	if (!slot) {
		struct seqslot *v;
		char *copy;

		if (e->nseqs >= NDL_EATER_MAX_SEQ_KITCHENS) {
			e->stats.seq_untracked++;
			return;
		}
		copy = strdup(kitchen);
		v = copy ? realloc(e->seqs, (e->nseqs + 1) * sizeof(*v)) : NULL;
		if (!v) {
			free(copy);
			e->stats.seq_untracked++;
			return;
		}
		e->seqs = v;
		slot = &v[e->nseqs++];
		slot->kitchen = copy;
		slot->next = seq + 1;
		return;
	}
	if (seq == slot->next) {
		slot->next++;
		return;
	}
	if (seq < slot->next) {
		e->stats.seq_restarts++;
		slot->next = seq + 1;
		return;
	}
	e->stats.gaps++;
	e->stats.gap_dumplings += seq - slot->next;
	memset(&ev, 0, sizeof(ev));
	ev.type = NDL_EATER_EVENT_GAP;
	ev.kitchen = kitchen;
	ev.expected_seq = slot->next;
	ev.seq = seq;
	slot->next = seq + 1;  /* before the callback, which may subscribe */
	emit(e, &ev);
}

static void set_end(struct ndl_eater *e, int status, int code, const char *reason)
{
	if (e->end_status || e->end_code)
		return;  /* the first cause wins */
	e->end_status = status;
	e->end_code = code;
	snprintf(e->end_reason, sizeof(e->end_reason), "%s", reason ? reason : "");
}

/*
 * Turn lws' connection error into an errno. lws 4.1 gives text, not an
 * errno; errno may still hold the connect(2) failure.
 */
static int connect_errno(const char *why, int saved_errno)
{
	switch (saved_errno) {
	case ECONNREFUSED:
	case ETIMEDOUT:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EADDRNOTAVAIL:
	case ECONNRESET:
		return -saved_errno;
	default:
		break;
	}
	if (strstr(why, "refused") || strstr(why, "closed before established"))
		return -ECONNREFUSED;
	if (strstr(why, "timed out") || strstr(why, "timeout"))
		return -ETIMEDOUT;
	return -ECONNABORTED;
}

/*
 * lws 4.1 resolves names synchronously and returns NULL without saying
 * why; ask the resolver again so the caller can tell a bad name apart.
 */
static void explain_connect_failure(struct ndl_eater *e)
{
	struct addrinfo hints, *res = NULL;
	char why[NDL__HUB_HOST_MAX + 96];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(e->addr.host, NULL, &hints, &res);
	if (rc != 0) {
		snprintf(why, sizeof(why), "cannot resolve '%s': %s", e->addr.host,
			 gai_strerror(rc));
		set_end(e, -EHOSTUNREACH, 0, why);
		return;
	}
	freeaddrinfo(res);
	set_end(e, -ECONNABORTED, 0, "cannot start the connection");
}

/* ------------------------------------------------------------------------ */
/* Teardown                                                                 */

static void really_free(struct ndl_eater *e)
{
	if (e->owns_loop)
		uv_loop_close(&e->own_loop);
	namelist_free(&e->chefs);
	namelist_free(&e->kitchens);
	json_decref(e->hello_extra);
	if (e->hello)
		explicit_bzero(e->hello, LWS_PRE + e->hello_len);  /* it may hold the token */
	free(e->hello);
	free_secret(e->token);
	free(e->ca_file);
	seqs_clear(e);
	free(e->sub_msg);
	e->sub_msg = NULL;
	free(e->rx);
	free(e->name);
	free(e);
}

static void complete(struct ndl_eater *e)
{
	struct ndl_eater_close_info info;

	e->state = ST_DONE;
	if (e->free_pending) {
		if (!e->in_run)
			really_free(e);
		return;
	}
	info.status = e->end_status;
	info.code = e->end_code;
	info.reason = e->end_reason;
	info.was_connected = e->was_connected;
	if (e->on_close)
		e->on_close(e, &info);  /* may free e: touch nothing after */
}

static void handle_closed(uv_handle_t *h)
{
	struct ndl_eater *e = h->data;

	if (--e->handles_open == 0)
		complete(e);
}

static void lws_gone(struct ndl__ws_teardown *t, int status)
{
	struct ndl_eater *e = t->data;

	if (--e->handles_open == 0)
		complete(e);
}

static void connect_hub(struct ndl_eater *e);
static int build_hello(struct ndl_eater *e);
static void finish(uv_timer_t *t);
static void schedule_finish(struct ndl_eater *e, uint64_t delay_ms);

/*
 * Is the end recorded one a reconnecting eater retries? Not when the hub
 * said the eater itself is wrong (RFC 6455 section 7.4.1: 1003, 1007-1010;
 * ours: 4104) or the eater refused a message.
 */
static int end_is_retryable(const struct ndl_eater *e)
{
	switch (e->end_code) {
	case 1003: case 1007: case 1008: case 1009: case 1010:
	case NDL_EATER_CLOSE_UNAUTHORIZED:
		return 0;
	default:
		break;
	}
	switch (e->end_status) {
	case -EACCES:
	case -EMSGSIZE:
	case -ENOMEM:
		return 0;
	default:
		return 1;
	}
}

/* May this end be retried? Not when the caller closed, and not while lws
 * still holds the connection. */
static int may_retry(const struct ndl_eater *e)
{
	return e->reconnect && !e->close_requested && e->conn_gone && end_is_retryable(e);
}

/* Half to all of min(min_ms * 2^(attempt-1), max_ms), at random. */
static unsigned backoff_ms(struct ndl_eater *e)
{
	uint64_t d = e->rc_min_ms, x;
	unsigned half;

	for (unsigned i = 1; i < e->attempt && d < e->rc_max_ms; i++)
		d *= 2;
	if (d > e->rc_max_ms)
		d = e->rc_max_ms;
	/* xorshift64 (Marsaglia 2003): jitter, not secrecy */
	x = e->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	e->rng = x;
	half = (unsigned)(d / 2);
	return half + (unsigned)(x % ((uint64_t)(d - half) + 1));
}

/* Forget the connection that ended and wait before the next one. */
static void wait_and_retry(struct ndl_eater *e)
{
	struct ndl_eater_close_info info;
	struct ndl_eater_event ev;
	char reason[sizeof(e->end_reason)];

	info.status = e->end_status;
	info.code = e->end_code;
	memcpy(reason, e->end_reason, sizeof(reason));
	info.reason = reason;
	info.was_connected = e->was_connected;

	e->attempt++;
	e->stats.reconnects++;
	e->end_status = 0;
	e->end_code = 0;
	e->end_reason[0] = '\0';
	e->was_connected = 0;
	e->wsi = NULL;
	e->rx_in_msg = 0;
	e->rx_len = 0;
	e->rx_discard = 0;
	e->hello_sent = 0;
	e->close_sent = 0;
	e->wire_code = 0;
	e->wire_reason[0] = '\0';
	free(e->sub_msg);  /* the next hello carries the subscription */
	e->sub_msg = NULL;
	e->state = ST_WAITING;

	memset(&ev, 0, sizeof(ev));
	ev.type = NDL_EATER_EVENT_DISCONNECTED;
	ev.close = &info;
	ev.delay_ms = backoff_ms(e);
	ev.attempt = e->attempt;
	uv_timer_start(&e->timer, finish, ev.delay_ms, 0);
	emit(e, &ev);  /* may call ndl_eater_close(): that restarts the timer */
}

/* Runs from the timer: never inside an lws callback. */
static void finish(uv_timer_t *t)
{
	struct ndl_eater *e = t->data;

	if (e->state >= ST_FINISHING)
		return;
	if (e->state == ST_WAITING) {
		/* the back-off is over */
		if (build_hello(e) < 0) {
			set_end(e, -ENOMEM, 0, "out of memory");
			e->state = ST_CLOSING;
			schedule_finish(e, 0);
			return;
		}
		connect_hub(e);
		return;
	}
	if (e->close_requested)
		set_end(e, 0, e->close_code, e->close_reason);
	else if (e->was_connected)
		set_end(e, -ECONNRESET, 1006, "connection lost");
	else
		set_end(e, -ECONNREFUSED, 0, "connection failed");
	if (may_retry(e)) {
		wait_and_retry(e);
		return;
	}
	e->state = ST_FINISHING;
	e->ctx = NULL;
	e->wsi = NULL;
	uv_close((uv_handle_t *)&e->timer, handle_closed);
	e->teardown.data = e;
	if (ndl__ws_teardown_start(&e->teardown, e->loop, &e->ctx_alive, TEARDOWN_MS,
				   lws_gone) < 0)
		e->handles_open--;  /* cannot happen: the arguments are never NULL */
}

static void schedule_finish(struct ndl_eater *e, uint64_t delay_ms)
{
	if (e->state >= ST_FINISHING)
		return;
	uv_timer_start(&e->timer, finish, delay_ms, 0);
}

/* ------------------------------------------------------------------------ */
/* Receiving                                                                */

static int passes_filters(const struct ndl_eater *e, const struct ndl_envelope *env)
{
	unsigned bit;

	if (e->chefs.n && !namelist_has(&e->chefs, env->chef))
		return 0;
	if (e->kitchens.n && !namelist_has(&e->kitchens, env->kitchen))
		return 0;
	if (env->driver && strcmp(env->driver, "packet") == 0)
		bit = NDL_EATER_DRIVER_PACKET;
	else if (env->driver && strcmp(env->driver, "interval") == 0)
		bit = NDL_EATER_DRIVER_INTERVAL;
	else
		bit = NDL_EATER_DRIVER_OTHER;
	return (e->drivers & bit) != 0;
}

/* metadata.seq when it is a positive integer, else 0. */
static uint64_t seq_of(const struct ndl_envelope *env)
{
	json_t *v = json_object_get(json_object_get(env->root, "metadata"), "seq");
	json_int_t n;

	if (!json_is_integer(v))
		return 0;
	n = json_integer_value(v);
	return n > 0 ? (uint64_t)n : 0;
}

/* A non-negative integer member of a drop notice's payload, else 0. */
static uint64_t count_of(const json_t *payload, const char *key)
{
	json_t *v = json_object_get(payload, key);
	double d;

	if (json_is_integer(v))
		return json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
	d = json_is_real(v) ? json_real_value(v) : 0;
	return d > 0 && d < 1.8e19 ? (uint64_t)d : 0;
}

/* The hub's drop notice (docs/protocol.md section 11): count, report. */
static void drop_notice(struct ndl_eater *e, const struct ndl_envelope *env)
{
	struct ndl_eater_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = NDL_EATER_EVENT_DROPS;
	ev.dropped = count_of(env->payload, "dropped");
	ev.total_dropped = count_of(env->payload, "total_dropped");
	e->stats.drop_notices++;
	e->stats.hub_dropped += ev.dropped;
	emit(e, &ev);
}

/*
 * One dumpling of len bytes at buf, NUL-terminated at buf[len] (a whole
 * message, or one line of a batch): parse, count, follow its seq, filter,
 * deliver.
 */
static void deliver_one(struct ndl_eater *e, const char *buf, size_t len)
{
	struct ndl_envelope env;
	struct ndl_dumpling d;
	int is_drops, pass;

	e->stats.dumplings++;
	if (ndl_envelope_parse(&env, buf, len) < 0) {
		e->stats.parse_errors++;
		return;
	}
	d.seq = seq_of(&env);
	track_seq(e, env.kitchen, d.seq);
	is_drops = !env.kitchen && strcmp(env.chef, NDL_EATER_DROPS_CHEF) == 0;
	if (is_drops)
		drop_notice(e, &env);
	if (is_drops && e->drop_notices == NDL_EATER_DROPS_DELIVER)
		pass = 1;
	else if (is_drops && e->drop_notices == NDL_EATER_DROPS_HIDE)
		pass = 0;
	else
		pass = passes_filters(e, &env);
	if (e->close_requested || !pass) {
		if (e->close_requested)
			e->stats.after_close++;
		else
			e->stats.filtered++;
		ndl_envelope_clear(&env);
		return;
	}
	e->stats.delivered++;
	if (e->on_dumpling) {
		d.chef = env.chef;
		d.kitchen = env.kitchen;
		d.driver = env.driver;
		d.creation_time = env.creation_time;
		d.payload = env.payload;
		d.raw = buf;
		d.raw_len = len;
		e->on_dumpling(e, &d);
	}
	ndl_envelope_clear(&env);
}

/*
 * A batch (docs/protocol.md section 10): dumplings as JSON Lines, each
 * ending in a line feed. A line that is not a dumpling, and bytes after
 * the last line feed, count as parse errors; the rest is delivered.
 */
static void deliver_batch(struct ndl_eater *e)
{
	char *p = e->rx, *end = e->rx + e->rx_len;

	e->stats.batches++;
	while (p < end) {
		char *lf = memchr(p, '\n', (size_t)(end - p));

		if (!lf) {
			e->stats.dumplings++;
			e->stats.parse_errors++;  /* no line feed at the end */
			break;
		}
		*lf = '\0';
		if (lf == p) {
			e->stats.dumplings++;
			e->stats.parse_errors++;  /* an empty line is no dumpling */
		} else {
			deliver_one(e, p, (size_t)(lf - p));
		}
		p = lf + 1;
	}
}

static void deliver(struct ndl_eater *e)
{
	e->stats.messages++;
	e->stats.bytes += e->rx_len;
	e->got_message = 1;
	if (e->rx_binary) {
		e->stats.dropped_binary++;
		return;
	}
	e->rx[e->rx_len] = '\0';
	if (e->batch)
		deliver_batch(e);
	else
		deliver_one(e, e->rx, e->rx_len);
	if (e->reconnect && e->got_message)
		e->attempt = 0;  /* a good connection: back-off starts again */
}

/* Returns 0, or -1 to have lws close the connection. */
static int on_receive(struct ndl_eater *e, struct lws *wsi, const void *in, size_t len)
{
	if (!e->rx_in_msg) {
		e->rx_in_msg = 1;
		e->rx_len = 0;
		e->rx_binary = lws_frame_is_binary(wsi);
	}
	if (e->rx_discard)
		return 0;
	if (len > e->max_message - e->rx_len) {
		e->stats.dropped_large++;
		set_end(e, -EMSGSIZE, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too big");
		e->rx_discard = 1;
		begin_close(e, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too big");
		return 0;
	}
	if (e->rx_len + len + 1 > e->rx_cap) {
		size_t cap = e->rx_cap ? e->rx_cap : 4096;
		char *p;

		while (cap < e->rx_len + len + 1)
			cap *= 2;
		p = realloc(e->rx, cap);
		if (!p) {
			set_end(e, -ENOMEM, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
			e->rx_discard = 1;
			begin_close(e, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "out of memory");
			return 0;
		}
		e->rx = p;
		e->rx_cap = cap;
	}
	if (len)
		memcpy(e->rx + e->rx_len, in, len);
	e->rx_len += len;
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return 0;
	e->rx_in_msg = 0;
	deliver(e);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* libwebsockets                                                            */

/*
 * Send our close frame ourselves (ndl__ws_close: lws 4.1 loses the one set
 * by lws_close_reason() here); the link then waits for the hub's close
 * reply, bounded by CLOSE_WAIT_MS.
 */
static int send_close(struct ndl_eater *e, struct lws *wsi)
{
	if (e->close_sent)
		return 0;
	e->close_sent = 1;
	return ndl__ws_close(wsi, (uint16_t)e->wire_code, e->wire_reason) < 0 ? -1 : 0;
}

static int on_writeable(struct ndl_eater *e, struct lws *wsi)
{
	if (e->wire_code)
		return send_close(e, wsi);
	if (!e->hello_sent) {
		int n = lws_write(wsi, (unsigned char *)e->hello + LWS_PRE, e->hello_len,
				  LWS_WRITE_TEXT);
		if (n < (int)e->hello_len) {
			set_end(e, -EIO, 0, "cannot send the hello");
			return -1;
		}
		e->hello_sent = 1;
		if (e->on_connect)
			e->on_connect(e);
	}
	if (e->sub_msg && !e->wire_code) {
		int n = lws_write(wsi, (unsigned char *)e->sub_msg + LWS_PRE, e->sub_len,
				  LWS_WRITE_TEXT);

		free(e->sub_msg);
		e->sub_msg = NULL;
		if (n < (int)e->sub_len) {
			set_end(e, -EIO, 0, "cannot send the subscription");
			return -1;
		}
	}
	return 0;
}

/* Queue a close frame; the link then ends within CLOSE_WAIT_MS. */
static void begin_close(struct ndl_eater *e, int code, const char *reason)
{
	size_t n = strlen(reason);

	if (e->wire_code)
		return;
	if (n > REASON_MAX)
		n = REASON_MAX;
	e->wire_code = code;
	memcpy(e->wire_reason, reason, n);
	e->wire_reason[n] = '\0';
	e->state = ST_CLOSING;
	if (e->wsi)
		lws_callback_on_writable(e->wsi);
	schedule_finish(e, CLOSE_WAIT_MS);
}

static void on_peer_close(struct ndl_eater *e, const unsigned char *in, size_t len)
{
	char reason[REASON_MAX + 1];
	int code = (int)ndl__ws_close_parse(in, len, reason, sizeof(reason));

	if (e->close_requested)
		return;
	if (code == NDL_EATER_CLOSE_UNAUTHORIZED)
		set_end(e, -EACCES, code, "hub refused the token");
	else if (code == NDL_EATER_CLOSE_LAGGING)
		set_end(e, -ECONNRESET, code, reason[0] ? reason : "hub disconnected this eater: too slow");
	else
		set_end(e, -ECONNRESET, code, reason[0] ? reason : "hub closed the connection");
}

/* Which subprotocol the hub answered with (RFC 6455 section 4.1). */
static void read_subprotocol(struct ndl_eater *e, struct lws *wsi)
{
	char buf[64];
	int n = lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_PROTOCOL);

	e->batch = e->offer_batch && n > 0 && strcmp(buf, NDL_EATER_SUBPROTOCOL_BATCH) == 0;
}

static int lws_event(struct lws *wsi, enum lws_callback_reasons reason,
		     void *user, void *in, size_t len)
{
	struct ndl_eater *e = lws_context_user(lws_get_context(wsi));

	if (!e || e->state >= ST_FINISHING || e->state == ST_WAITING ||
	    (uintptr_t)lws_get_opaque_user_data(wsi) != e->conn_id)
		return lws_callback_http_dummy(wsi, reason, user, in, len);  /* an old connection */

	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
		int saved = errno;
		const char *why = in ? (const char *)in : "connection failed";
		char tls_why[200];

		if (e->addr.tls && (strstr(why, "SSL") || strstr(why, "ssl") || strstr(why, "tls"))) {
			snprintf(tls_why, sizeof(tls_why), "TLS handshake failed, is the hub's"
				 " certificate for this host and signed by a trusted CA? (%s)", why);
			why = tls_why;
		}
		if (!e->close_requested)
			set_end(e, connect_errno(why, saved), 0, why);
		e->wsi = NULL;
		e->conn_gone = 1;
		schedule_finish(e, 0);
		return 0;
	}
	case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
		read_subprotocol(e, wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		e->was_connected = 1;
		e->stats.connects++;
		if (e->state == ST_CONNECTING)
			e->state = ST_OPEN;
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(e, wsi);
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return on_receive(e, wsi, in, len);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		on_peer_close(e, in, len);
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		e->wsi = NULL;
		e->conn_gone = 1;
		schedule_finish(e, 0);
		return 0;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
	case LWS_CALLBACK_WSI_DESTROY:
		/*
		 * lws 4.1 drops a connection the peer hangs up on during the
		 * handshake (a TLS hub spoken to in plain text, say) without
		 * CONNECTION_ERROR or CLIENT_CLOSED; this is the last word on it.
		 */
		if (!e->conn_gone) {
			if (!e->close_requested)
				set_end(e, e->was_connected ? -ECONNRESET : -ECONNABORTED,
					e->was_connected ? 1006 : 0,
					e->addr.tls ? "the hub closed the connection during the handshake"
						    : "the hub closed the connection during the handshake"
						      " (does it want wss://?)");
			e->wsi = NULL;
			e->conn_gone = 1;
			schedule_finish(e, 0);
		}
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{ "ndl-eater", lws_event, 0, RX_CHUNK, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static int build_hello(struct ndl_eater *e)
{
	json_t *h = json_object();
	char *s;
	size_t n;

	if (!h)
		return -ENOMEM;
	if (json_object_set_new(h, "eater_name", json_string(e->name)) < 0 ||
	    json_object_update(h, e->hello_extra) < 0 ||
	    (e->token && json_object_set_new(h, "token", json_string(e->token)) < 0)) {
		json_decref(h);
		return -ENOMEM;
	}
	s = json_dumps(h, 0);
	/* jansson keeps no copy after json_decref; the token copies are ours */
	json_decref(h);
	if (!s)
		return -ENOMEM;
	n = strlen(s);
	if (e->hello)
		explicit_bzero(e->hello, LWS_PRE + e->hello_len);
	free(e->hello);
	e->hello_len = 0;
	e->hello = malloc(LWS_PRE + n + 1);
	if (!e->hello) {
		free_secret(s);
		return -ENOMEM;
	}
	memcpy(e->hello + LWS_PRE, s, n + 1);
	e->hello_len = n;
	free_secret(s);
	return 0;
}

/* The system's CA bundle: $SSL_CERT_FILE or the usual places; NULL when none. */
static const char *system_ca_file(void)
{
	static const char *const places[] = {
		"/etc/ssl/certs/ca-certificates.crt",  /* Debian, Ubuntu, Alpine */
		"/etc/pki/tls/certs/ca-bundle.crt",    /* Fedora, RHEL */
		"/etc/ssl/cert.pem",                   /* BSDs, macOS */
	};
	const char *env = getenv("SSL_CERT_FILE");

	if (env && *env)
		return env;
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++)
		if (access(places[i], R_OK) == 0)
			return places[i];
	return NULL;
}

static int create_context(struct ndl_eater *e)
{
	struct lws_context_creation_info info;
	void *loops[1] = { e->loop };

	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_LIBUV;
	if (e->addr.tls) {
		/* lws then sets up OpenSSL and the client TLS context (RFC 8446) */
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.client_ssl_ca_filepath = e->ca_file ? e->ca_file : system_ca_file();
	}
	info.foreign_loops = loops;
	info.user = e;
	info.pcontext = &e->ctx_alive;
	info.fd_limit_per_thread = 32;  /* one link; lws sizes tables from this */
	info.timeout_secs = HANDSHAKE_SECS;
	info.count_threads = 1;
	info.gid = -1;
	info.uid = -1;
	e->ctx = lws_create_context(&info);
	if (!e->ctx)
		return -EIO;
	e->ctx_alive = e->ctx;
	return 0;
}

static void connect_hub(struct ndl_eater *e)
{
	struct lws_client_connect_info ci;

	memset(&ci, 0, sizeof(ci));
	ci.context = e->ctx;
	ci.address = e->addr.host;
	ci.port = e->addr.port;
	ci.path = "/";
	ci.host = e->host_header;
	/* no Origin: the hub checks it only for browsers (protocol.md 12) */
	ci.local_protocol_name = protocols[0].name;
	if (e->offer_batch)
		ci.protocol = NDL_EATER_SUBPROTOCOL_BATCH;  /* Sec-WebSocket-Protocol */
	if (e->addr.tls)
		ci.ssl_connection = LCCSCF_USE_SSL;
	/* tell this connection's callbacks from those of earlier ones */
	e->conn_id++;
	ci.opaque_user_data = (void *)e->conn_id;
	ci.pwsi = &e->wsi;
	e->conn_gone = 0;
	e->got_message = 0;
	e->batch = 0;
	e->state = ST_CONNECTING;
	if (!lws_client_connect_via_info(&ci)) {
		/* lws may already have reported why; if not, find out */
		if (!e->end_status && !e->end_code)
			explain_connect_failure(e);
		e->wsi = NULL;
		e->conn_gone = 1;
		schedule_finish(e, 0);
	}
}

/* ------------------------------------------------------------------------ */
/* Public API                                                               */

EXPORT struct ndl_eater *ndl_eater_new(uv_loop_t *loop, const char *eater_name, const char *hub)
{
	struct ndl_eater *e;
	int err;

	if (!eater_name || !*eater_name || !hub) {
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		errno = ENOMEM;
		return NULL;
	}
	err = ndl__hub_addr_parse(hub, HUB_DEFAULT_PORT, &e->addr);
	if (err < 0)
		goto free_eater;
	ndl__hub_addr_url(&e->addr, e->url, sizeof(e->url));
	snprintf(e->host_header, sizeof(e->host_header),
		 e->addr.is_ipv6 ? "[%s]:%d" : "%s:%d", e->addr.host, e->addr.port);
	err = -ENOMEM;
	e->name = strdup(eater_name);
	if (!e->name)
		goto free_eater;
	e->hello_extra = json_object();
	if (!e->hello_extra)
		goto free_name;
	if (!loop) {
		err = uv_loop_init(&e->own_loop);
		if (err < 0)
			goto free_extra;
		e->owns_loop = 1;
		loop = &e->own_loop;
	}
	e->loop = loop;
	e->drivers = NDL_EATER_DRIVER_ALL;
	e->max_message = NDL_EATER_DEFAULT_MAX_MESSAGE;
	e->offer_batch = 1;
	e->rc_min_ms = NDL_EATER_RECONNECT_MIN_MS;
	e->rc_max_ms = NDL_EATER_RECONNECT_MAX_MS;
	e->rng = (uint64_t)uv_hrtime() ^ ((uint64_t)(uintptr_t)e << 17) ^ 0x9e3779b97f4a7c15ull;
	if (!e->rng)
		e->rng = 1;
	e->state = ST_NEW;
	set_lws_logging();
	return e;

free_extra:
	json_decref(e->hello_extra);
free_name:
	free(e->name);
free_eater:
	free(e);
	errno = -err;
	return NULL;
}

EXPORT void ndl_eater_free(struct ndl_eater *e)
{
	if (!e)
		return;
	switch (e->state) {
	case ST_NEW:
	case ST_DONE:
		if (e->in_run) {
			e->free_pending = 1;  /* ndl_eater_run() frees it */
			return;
		}
		really_free(e);
		return;
	case ST_CONNECTING:
	case ST_OPEN:
	case ST_WAITING:
		ndl_eater_close(e, LWS_CLOSE_STATUS_GOINGAWAY, "going away");
		break;
	default:
		break;
	}
	e->free_pending = 1;
	if (e->owns_loop && !e->in_run) {
		uv_run(&e->own_loop, UV_RUN_DEFAULT);
		really_free(e);
	}
}

EXPORT int ndl_eater_hello_set(struct ndl_eater *e, const char *key, json_t *value)
{
	if (!e || !key || !value || strcmp(key, "eater_name") == 0)
		return -EINVAL;
	if (e->state != ST_NEW)
		return -EBUSY;
	if (json_object_set(e->hello_extra, key, value) < 0)
		return -ENOMEM;
	return 0;
}

/* A JSON array of names[] (NULL-terminated); NULL when names is NULL or empty. */
static int sub_list(json_t *sub, const char *key, const char *const *names)
{
	json_t *a;
	size_t n = 0;

	if (!names || !names[0])
		return 0;
	a = json_array();
	if (!a)
		return -ENOMEM;
	for (; names[n]; n++) {
		if (n == NDL_EATER_MAX_FILTER_NAMES) {
			json_decref(a);
			return -ENOSPC;
		}
		if (strlen(names[n]) > NDL_EATER_MAX_SUBSCRIBE_NAME) {
			json_decref(a);
			return -EINVAL;
		}
		if (json_array_append_new(a, json_string(names[n])) < 0) {
			json_decref(a);
			return -EINVAL;   /* not UTF-8, or out of memory */
		}
	}
	return json_object_set_new(sub, key, a) < 0 ? -ENOMEM : 0;
}

/* {"subscribe": sub} serialised after LWS_PRE bytes, queued for writing. */
static int queue_subscribe(struct ndl_eater *e, json_t *sub)
{
	json_t *msg = json_pack("{sO}", "subscribe", sub);
	char *s, *buf;
	size_t n;

	if (!msg)
		return -ENOMEM;
	s = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	if (!s)
		return -ENOMEM;
	n = strlen(s);
	buf = malloc(LWS_PRE + n + 1);
	if (!buf) {
		free(s);
		return -ENOMEM;
	}
	memcpy(buf + LWS_PRE, s, n + 1);
	free(s);
	free(e->sub_msg);
	e->sub_msg = buf;
	e->sub_len = n;
	if (e->wsi)
		lws_callback_on_writable(e->wsi);
	return 0;
}

EXPORT int ndl_eater_subscribe(struct ndl_eater *e, const char *const *chefs,
			       const char *const *kitchens, unsigned drivers)
{
	json_t *sub, *d;
	int r;

	if (!e || (drivers & ~(NDL_EATER_DRIVER_PACKET | NDL_EATER_DRIVER_INTERVAL)))
		return -EINVAL;
	if (e->state >= ST_CLOSING && e->state != ST_WAITING)
		return -ENOTCONN;  /* while waiting to reconnect, the next hello takes it */
	sub = json_object();
	if (!sub)
		return -ENOMEM;
	r = sub_list(sub, "chefs", chefs);
	if (!r)
		r = sub_list(sub, "kitchens", kitchens);
	if (!r && drivers && drivers != (NDL_EATER_DRIVER_PACKET | NDL_EATER_DRIVER_INTERVAL)) {
		d = json_pack("[s]", drivers & NDL_EATER_DRIVER_PACKET ? "packet" : "interval");
		r = !d || json_object_set_new(sub, "drivers", d) < 0 ? -ENOMEM : 0;
	}
	if (r)
		goto free_sub;
	if (json_object_set(e->hello_extra, "subscribe", sub) < 0) {
		r = -ENOMEM;
		goto free_sub;
	}
	/* A hub that leaves out chefs or drivers makes gaps in seq on purpose. */
	e->seq_off = json_object_get(sub, "chefs") || json_object_get(sub, "drivers");
	if (e->state != ST_NEW)
		seqs_clear(e);
	/* Not yet said hello: the hello carries it; afterwards an update does. */
	if (e->state != ST_NEW)
		r = e->hello_sent ? queue_subscribe(e, sub) : build_hello(e);
free_sub:
	json_decref(sub);
	return r;
}

EXPORT int ndl_eater_filter_chef(struct ndl_eater *e, const char *chef)
{
	if (!e || !chef)
		return -EINVAL;
	return namelist_add(&e->chefs, chef);
}

EXPORT int ndl_eater_filter_kitchen(struct ndl_eater *e, const char *kitchen)
{
	if (!e || !kitchen)
		return -EINVAL;
	return namelist_add(&e->kitchens, kitchen);
}

EXPORT int ndl_eater_filter_drivers(struct ndl_eater *e, unsigned mask)
{
	if (!e || (mask & ~NDL_EATER_DRIVER_ALL))
		return -EINVAL;
	e->drivers = mask;
	return 0;
}

EXPORT int ndl_eater_set_max_message(struct ndl_eater *e, size_t bytes)
{
	if (!e || bytes < 1024 || bytes > (size_t)1 << 30)
		return -EINVAL;
	if (e->state != ST_NEW)
		return -EBUSY;
	e->max_message = bytes;
	return 0;
}

EXPORT int ndl_eater_start(struct ndl_eater *e, ndl_eater_connect_cb on_connect,
			   ndl_eater_dumpling_cb on_dumpling, ndl_eater_close_cb on_close)
{
	int err;

	if (!e)
		return -EINVAL;
	if (e->state != ST_NEW)
		return -EBUSY;
	err = build_hello(e);
	if (err < 0)
		return err;
	err = create_context(e);
	if (err < 0)
		return err;
	/* Nothing below can fail: from here on, on_close will run. */
	uv_timer_init(e->loop, &e->timer);
	e->timer.data = e;
	e->handles_open = 2;
	e->on_connect = on_connect;
	e->on_dumpling = on_dumpling;
	e->on_close = on_close;
	connect_hub(e);
	return 0;
}

EXPORT int ndl_eater_close(struct ndl_eater *e, int code, const char *reason)
{
	size_t n;

	if (!e)
		return -EINVAL;
	if (!reason)
		reason = "";
	n = strlen(reason);
	if (n > REASON_MAX)
		return -EINVAL;
	if (code != 1000 && code != 1001 && (code < 3000 || code > 4999))
		return -EINVAL;
	switch (e->state) {
	case ST_NEW:
		return -ENOTCONN;
	case ST_CONNECTING:
	case ST_OPEN:
	case ST_WAITING:
		break;
	default:
		return -EALREADY;
	}
	if (e->close_requested)
		return -EALREADY;  /* taken while the link was failing (below) */
	if (e->end_status || e->end_code) {
		/* The link is failing, and the end is on its way (finish() is
		 * due). Without a retry to follow, that end is the eater's. With
		 * one, the caller's close takes its place, so that the eater ends
		 * instead of trying again (the close callback then reports the
		 * caller's code, as for any close it asked for). */
		if (!e->reconnect || !end_is_retryable(e))
			return -EALREADY;
		e->end_status = 0;
		e->end_code = 0;
		e->end_reason[0] = '\0';
		e->close_requested = 1;
		e->close_code = code;
		memcpy(e->close_reason, reason, n + 1);
		return 0;
	}
	e->close_requested = 1;
	e->close_code = code;
	memcpy(e->close_reason, reason, n + 1);
	if (e->state == ST_OPEN && e->wsi) {
		begin_close(e, code, reason);
	} else {
		e->state = ST_CLOSING;  /* not connected yet: just give up */
		schedule_finish(e, 0);
	}
	return 0;
}

EXPORT int ndl_eater_run(struct ndl_eater *e)
{
	if (!e || !e->owns_loop || e->in_run)
		return -EINVAL;
	e->in_run = 1;
	uv_run(&e->own_loop, UV_RUN_DEFAULT);
	e->in_run = 0;
	if (e->free_pending && (e->state == ST_DONE || e->state == ST_NEW))
		really_free(e);
	return 0;
}

EXPORT uv_loop_t *ndl_eater_loop(const struct ndl_eater *e)
{
	return e ? e->loop : NULL;
}

EXPORT const char *ndl_eater_url(const struct ndl_eater *e)
{
	return e ? e->url : NULL;
}

EXPORT void ndl_eater_set_userdata(struct ndl_eater *e, void *data)
{
	if (e)
		e->userdata = data;
}

EXPORT void *ndl_eater_userdata(const struct ndl_eater *e)
{
	return e ? e->userdata : NULL;
}

EXPORT int ndl_eater_get_stats(const struct ndl_eater *e, struct ndl_eater_stats *st, size_t size)
{
	if (!e || !st)
		return -EINVAL;
	memcpy(st, &e->stats, size < sizeof(e->stats) ? size : sizeof(e->stats));
	return 0;
}

EXPORT const char *ndl_eater_version(void)
{
	return "0.2.0";
}

/* ------------------------------------------------------------------------ */
/* Since 0.2                                                                */

/* 1..NDL_EATER_MAX_TOKEN bytes of UTF-8 without control characters. */
static int valid_token(const char *t)
{
	size_t n = strlen(t);
	json_t *probe;

	if (n == 0 || n > NDL_EATER_MAX_TOKEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
			return 0;
	probe = json_string(t);  /* NULL unless valid UTF-8 */
	if (!probe)
		return 0;
	json_decref(probe);
	return 1;
}

EXPORT int ndl_eater_set_token(struct ndl_eater *e, const char *token)
{
	char *copy = NULL;

	if (!e || (token && !valid_token(token)))
		return -EINVAL;
	if (e->state != ST_NEW)
		return -EBUSY;
	if (token) {
		copy = strdup(token);
		if (!copy)
			return -ENOMEM;
	}
	free_secret(e->token);
	e->token = copy;
	return 0;
}

EXPORT int ndl_eater_set_token_file(struct ndl_eater *e, const char *path)
{
	char *buf, *line, *next;
	size_t len = 0;
	ssize_t n;
	int fd, r = -ENODATA;

	if (!e || !path)
		return -EINVAL;
	if (e->state != ST_NEW)
		return -EBUSY;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(TOKEN_FILE_MAX + 1);
	if (!buf) {
		r = -ENOMEM;
		goto close_fd;
	}
	while (len < TOKEN_FILE_MAX) {
		n = read(fd, buf + len, TOKEN_FILE_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto free_buf;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	for (line = buf; line && *line; line = next) {
		char *end;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		end = line + strlen(line);
		while (end > line && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!*line || *line == '#')
			continue;
		r = ndl_eater_set_token(e, line);
		break;
	}
free_buf:
	explicit_bzero(buf, len);
	free(buf);
close_fd:
	close(fd);
	return r;
}

EXPORT int ndl_eater_set_ca_file(struct ndl_eater *e, const char *path)
{
	char *copy = NULL;

	if (!e || (path && !*path))
		return -EINVAL;
	if (e->state != ST_NEW)
		return -EBUSY;
	if (path) {
		copy = strdup(path);
		if (!copy)
			return -ENOMEM;
	}
	free(e->ca_file);
	e->ca_file = copy;
	return 0;
}

EXPORT int ndl_eater_set_batch(struct ndl_eater *e, int offer)
{
	if (!e)
		return -EINVAL;
	if (e->state != ST_NEW)
		return -EBUSY;
	e->offer_batch = offer != 0;
	return 0;
}

EXPORT const char *ndl_eater_protocol(const struct ndl_eater *e)
{
	return e && e->batch ? NDL_EATER_SUBPROTOCOL_BATCH : NULL;
}

EXPORT int ndl_eater_set_reconnect(struct ndl_eater *e, int on, unsigned min_ms, unsigned max_ms)
{
	if (!e)
		return -EINVAL;
	if (!min_ms)
		min_ms = NDL_EATER_RECONNECT_MIN_MS;
	if (!max_ms)
		max_ms = min_ms > NDL_EATER_RECONNECT_MAX_MS ? min_ms : NDL_EATER_RECONNECT_MAX_MS;
	if (min_ms < 10 || min_ms > max_ms || max_ms > NDL_EATER_RECONNECT_LIMIT_MS)
		return -EINVAL;
	if (e->state != ST_NEW)
		return -EBUSY;
	e->reconnect = on != 0;
	e->rc_min_ms = min_ms;
	e->rc_max_ms = max_ms;
	return 0;
}

EXPORT int ndl_eater_set_event_cb(struct ndl_eater *e, ndl_eater_event_cb cb)
{
	if (!e)
		return -EINVAL;
	e->on_event = cb;
	return 0;
}

EXPORT int ndl_eater_set_drop_notices(struct ndl_eater *e, int how)
{
	if (!e || (how != NDL_EATER_DROPS_FILTERED && how != NDL_EATER_DROPS_DELIVER &&
		   how != NDL_EATER_DROPS_HIDE))
		return -EINVAL;
	e->drop_notices = how;
	return 0;
}
