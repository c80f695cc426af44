/* SPDX-License-Identifier: MIT */
/*
 * hub_client.c - WebSocket client (RFC 6455) from the kitchen to the hub,
 * libwebsockets running on the caller's libuv loop (a "foreign" loop: lws
 * adds its handles to it and removes them when its context is destroyed).
 *
 * Debian builds libwebsockets with its event libraries as plugins; the
 * libuv one is loaded from the standard plugin folder when the context is
 * created with LWS_SERVER_OPTION_LIBUV.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/random.h>
#include <libwebsockets.h>
#include <ndl/wire.h>
#include "hub_client.h"
#include "ws.h"

/* Messages written per writeable callback before yielding to the loop. */
#define WRITES_PER_TURN 64
/* How long the hub may take to answer our close frame, in seconds. */
#define CLOSE_WAIT_S 5
/* Longest wait for libwebsockets to let go of the loop, in ms. */
#define TEARDOWN_MS 5000
/* First reconnect delay, in ms; it doubles up to the configured maximum. */
#define RECONNECT_FIRST_MS 100
/* At most one "cannot connect" line per this many ms. */
#define FAIL_LOG_MS 1000

enum hub_state {
	HUB_CONNECTING,
	HUB_OPEN,
	HUB_CLOSING,     /* close asked: flushing, then the close frame */
	HUB_AWAY,        /* no connection: waiting to reconnect */
	HUB_CLOSED,
};

/*
 * Room before a message for lws and for the frame header: the kitchen
 * frames and masks its data frames itself (RFC 6455 5.2, 5.3) and hands
 * them to lws raw, since lws masks a client's frames a byte at a time,
 * which cost as much as the chefs. lws frames only its pings and close.
 */
#define FRAME_PRE (LWS_PRE + NDL__WS_HEADER_MAX)

/*
 * The outbox holds dumplings in order as batch lines, each followed by a
 * line feed, packed into chunks of up to batch_bytes. A batch goes out as
 * one frame straight from its chunk; without batch mode each line goes
 * alone, its frame header written over the line before it, which is out
 * already. So a dumpling costs one copy and no allocation: chunks that
 * are sent go on a short list of spares for the next ones. A chunk is
 * closed only when the next line does not fit, so the room left unused in
 * each is less than that line: the outbox takes at most about twice the
 * bytes it holds (--outbox-bytes counts the dumplings' bytes).
 */
struct chunk {
	struct chunk *next;
	size_t cap;                   /* bytes of room for lines */
	size_t used;                  /* bytes of lines written */
	size_t off;                   /* of which sent: whole lines */
	size_t lines, lines_sent;
	/* FRAME_PRE bytes of room, then cap bytes of lines */
	unsigned char buf[];
};

/* Spare chunks kept for reuse once sent; more are given back to malloc. */
#define SPARE_CHUNKS 4

struct ndl__hub_client {
	uv_loop_t *loop;
	struct ndl__hub_client_callbacks cb;
	struct lws_context *ctx;      /* NULLed by lws when destruction completes */
	struct lws *wsi;
	enum hub_state state;
	char *host;
	int port;
	char host_header[300];
	char *hello;                  /* sent first on every connection */

	bool reconnect;               /* reconnect instead of reporting a lost link */
	uint64_t reconnect_max_ms;
	uint64_t backoff_ms;          /* the next delay's upper bound */
	uv_timer_t retry_timer;
	bool retry_timer_init;
	bool close_asked;             /* ndl__hub_client_close was called */
	bool ever_open;
	uint64_t reconnects, refused_away, fail_logs_skipped;
	uint64_t last_fail_log_ms;

	bool tls;
	char *ca_file;
	bool batch;                   /* offer the batch subprotocol */
	bool batch_now;               /* and the hub chose it on this connection */
	size_t batch_bytes;           /* the size of a chunk */
	unsigned char *hello_buf;     /* FRAME_PRE + the hello's bytes */
	size_t hello_len;
	bool hello_due;               /* this connection's hello is not out yet */
	uint64_t messages;
	uint8_t keys[256];            /* masking keys, from getrandom */
	size_t keys_left;
	bool write_asked;             /* a WRITEABLE callback is due (ask_writable) */
	uint64_t write_asked_ms;      /* uv_now() when it was asked for */

	struct chunk *head, *tail;    /* the outbox, oldest first */
	struct chunk *spare;          /* sent chunks of batch_bytes, for reuse */
	size_t nspare;
	size_t queued, queued_bytes;  /* dumplings, without their line feeds */
	size_t max_count, max_bytes;
	size_t hard_count, hard_bytes;    /* refuse past these */
	bool waiting_drain;
	uint64_t sent, refused;

	bool close_sent;
	bool ping_sent;               /* the drain probe before our close */
	bool pong_seen;               /* and its answer */
	int peer_code;                /* close code the hub sent, 0 if none */
	char peer_reason[128];
	bool reported;
	bool destroying;              /* ndl__hub_client_shutdown was called */
	bool torn_down;               /* and the lws context is gone */
	struct ndl__ws_teardown teardown;
	uv_timer_t report_timer;      /* delivers on_closed outside lws callbacks */
	bool report_timer_init;
	int report_code;
	char report_reason[512];
	bool report_by_us;
};

static bool lws_verbose;
/* Where libwebsockets' own lines go (its log callback has no user data). */
static void (*lws_log_sink)(void *arg, int level, const char *line);
static void *lws_log_arg;
/*
 * OpenSSL's reason for refusing the hub's certificate, which lws logs but
 * does not pass to the connection error callback; kept for that message.
 */
static char tls_error[160];

static void lws_log_line(int level, const char *line)
{
	size_t n = strlen(line);
	const char *ssl = strstr(line, "SSL error: ");

	if (ssl) {
		ssl += strlen("SSL error: ");
		snprintf(tls_error, sizeof(tls_error), "%.*s", (int)strcspn(ssl, "(\r\n"), ssl);
		n = strlen(tls_error);
		while (n && tls_error[n - 1] == ' ')
			tls_error[--n] = '\0';
		if (!lws_verbose)
			return;    /* the connection error will say it */
		n = strlen(line);
	}
	if (!lws_verbose && level != LLL_ERR)
		return;
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (lws_log_sink) {
		char msg[600];

		snprintf(msg, sizeof(msg), "libwebsockets: %.*s", (int)n, line);
		lws_log_sink(lws_log_arg, level, msg);
	} else {
		fprintf(stderr, "nd-sniff: libwebsockets: %.*s\n", (int)n, line);
	}
}

static void hlog(struct ndl__hub_client *h, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void hlog(struct ndl__hub_client *h, int level, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (h->cb.log)
		h->cb.log(h->cb.arg, level, line);
	else
		fprintf(stderr, "nd-sniff: %s\n", line);
}

static void free_chunks(struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;

		free(c);
		c = next;
	}
}

static void free_queue(struct ndl__hub_client *h)
{
	free_chunks(h->head);
	free_chunks(h->spare);
	h->head = h->tail = h->spare = NULL;
	h->nspare = 0;
	h->queued = 0;
	h->queued_bytes = 0;
}

static void on_report(uv_timer_t *t)
{
	struct ndl__hub_client *h = t->data;

	if (h->cb.on_closed)
		h->cb.on_closed(h->cb.arg, h->report_code, h->report_reason, h->report_by_us);
}

/*
 * libwebsockets reports a failed connect without its errno ("closed before
 * established"); try once more with a plain socket (at most 2 s) to tell
 * the user why: refused, unreachable, unknown name.
 */
static void explain_connect_failure(const char *host, int port, char *out, size_t outlen)
{
	struct addrinfo hints, *res = NULL;
	char portstr[16];
	int r, fd, err = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%d", port);
	r = getaddrinfo(host, portstr, &hints, &res);
	if (r != 0) {
		snprintf(out, outlen, "%s", gai_strerror(r));
		return;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = errno;
	} else if (connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
		err = errno;
		if (err == EINPROGRESS) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			socklen_t len = sizeof(err);
			if (poll(&pfd, 1, 2000) == 1)
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
			else
				err = ETIMEDOUT;
		}
	}
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	if (err)
		snprintf(out, outlen, "%s", strerror(err));
}

/* Forget a hello still waiting: the next connection sends its own. */
static void drop_unsent_hello(struct ndl__hub_client *h)
{
	h->hello_due = false;
}

static int connect_now(struct ndl__hub_client *h);

static void on_retry(uv_timer_t *t)
{
	struct ndl__hub_client *h = t->data;

	if (h->destroying || h->state != HUB_AWAY)
		return;
	h->reconnects++;
	connect_now(h);
}

/*
 * The link is gone (code 0: never established). With reconnect on, and
 * unless the hub told us our messages are wrong, wait and try again;
 * returns true when it will.
 */
static bool schedule_retry(struct ndl__hub_client *h, int code, const char *why)
{
	uint64_t now = uv_now(h->loop), delay;

	drop_unsent_hello(h);
	if (!h->reconnect || h->destroying || !h->retry_timer_init)
		return false;
	/* RFC 6455 7.4.1: 1001 going away, 1006 abnormal, 1011/1012/1013
	 * server trouble: worth retrying. 1003/1007/1008/1009 say our
	 * messages are wrong, and would be again. */
	if (code != 0 && code != 1001 && code != 1006 && code != 1011 && code != 1012 &&
	    code != 1013)
		return false;
	if (h->close_asked && h->queued == 0)
		return false;
	h->state = HUB_AWAY;
	h->close_sent = false;
	h->ping_sent = false;
	h->pong_seen = false;
	h->peer_code = 0;
	/* jitter: anywhere in the upper half of the window */
	delay = h->backoff_ms / 2 + (uint64_t)rand() % (h->backoff_ms / 2 + 1);
	if (h->backoff_ms < h->reconnect_max_ms)
		h->backoff_ms = h->backoff_ms * 2 < h->reconnect_max_ms ?
				h->backoff_ms * 2 : h->reconnect_max_ms;
	if (!h->last_fail_log_ms || now - h->last_fail_log_ms >= FAIL_LOG_MS) {
		char skipped[64] = "";
		if (h->fail_logs_skipped)
			snprintf(skipped, sizeof(skipped), " (%llu more failed attempts)",
				 (unsigned long long)h->fail_logs_skipped);
		hlog(h, LLL_WARN, "%s hub at %s:%d: %s; %zu dumplings waiting, retrying in %.1f s%s",
		     code ? "lost the" : "cannot connect to", h->host, h->port, why,
		     h->queued, (double)delay / 1000.0, skipped);
		h->last_fail_log_ms = now ? now : 1;
		h->fail_logs_skipped = 0;
	} else {
		h->fail_logs_skipped++;
	}
	uv_timer_start(&h->retry_timer, on_retry, delay, 0);
	return true;
}

/* Deliver on_closed once, from the loop rather than from inside lws. */
static void report_closed(struct ndl__hub_client *h, int code, const char *reason, bool by_us)
{
	if (h->reported)
		return;
	h->reported = true;
	h->state = HUB_CLOSED;
	h->report_code = code;
	h->report_by_us = by_us;
	snprintf(h->report_reason, sizeof(h->report_reason), "%s", reason ? reason : "");
	if (h->report_timer_init && !h->destroying)
		uv_timer_start(&h->report_timer, on_report, 0, 0);
}

/* An empty chunk with room for at least need bytes of lines, or NULL. */
static struct chunk *new_chunk(struct ndl__hub_client *h, size_t need)
{
	struct chunk *c;
	size_t cap = need > h->batch_bytes ? need : h->batch_bytes;

	if (cap == h->batch_bytes && h->spare) {
		c = h->spare;
		h->spare = c->next;
		h->nspare--;
	} else {
		if (cap > SIZE_MAX - sizeof(*c) - FRAME_PRE)
			return NULL;
		c = malloc(sizeof(*c) + FRAME_PRE + cap);
		if (!c)
			return NULL;
		c->cap = cap;
	}
	c->next = NULL;
	c->used = c->off = 0;
	c->lines = c->lines_sent = 0;
	return c;
}

/* A chunk no longer in the outbox: a spare, or back to malloc. */
static void keep_or_free(struct ndl__hub_client *h, struct chunk *c)
{
	if (c->cap == h->batch_bytes && h->nspare < SPARE_CHUNKS) {
		c->next = h->spare;
		h->spare = c;
		h->nspare++;
	} else {
		free(c);
	}
}

/* Append a dumpling to the outbox as a line: 0, or -ENOMEM. A dumpling
 * larger than a chunk gets one of its own, so it goes alone, whole. */
static int enqueue(struct ndl__hub_client *h, const char *json, size_t len)
{
	struct chunk *c = h->tail;
	unsigned char *at;

	if (len == SIZE_MAX)
		return -ENOMEM;
	if (!c || c->cap - c->used < len + 1) {
		c = new_chunk(h, len + 1);
		if (!c)
			return -ENOMEM;
		if (h->tail && h->tail->used == 0) {
			/* the one chunk, emptied, is too small: replace it, as the
			 * writers take the head chunk for all there is */
			keep_or_free(h, h->tail);
			h->head = h->tail = NULL;
		}
		if (h->tail)
			h->tail->next = c;
		else
			h->head = c;
		h->tail = c;
	}
	at = c->buf + FRAME_PRE + c->used;
	memcpy(at, json, len);
	at[len] = '\n';
	c->used += len + 1;
	c->lines++;
	h->queued++;
	h->queued_bytes += len;
	return 0;
}

/*
 * The bytes of the head chunk from off up to upto, lines of them, are out:
 * count them, and once the chunk is all out, keep or free it.
 */
static void sent_from_head(struct ndl__hub_client *h, size_t upto, size_t lines)
{
	struct chunk *c = h->head;

	h->queued -= lines;
	h->queued_bytes -= (upto - c->off) - lines;
	h->sent += lines;
	c->off = upto;
	c->lines_sent += lines;
	if (c->off < c->used)
		return;
	if (c == h->tail) {
		/* the one chunk: empty it for the next dumplings */
		c->used = c->off = 0;
		c->lines = c->lines_sent = 0;
		return;
	}
	h->head = c->next;
	keep_or_free(h, c);
}

/* Whether a dumpling waits in the outbox. */
static bool outbox_waiting(const struct ndl__hub_client *h)
{
	return h->head && h->head->off < h->head->used;
}

/*
 * Ask lws for a WRITEABLE callback once until it comes: asking again on
 * every dumpling cost two epoll_ctl calls each (libuv's uv_poll_start
 * stops and restarts the watcher). A request pending for over a second is
 * made again, in case lws let it lapse.
 */
static void ask_writable(struct ndl__hub_client *h, struct lws *wsi, bool force)
{
	uint64_t now = uv_now(h->loop);

	if (h->write_asked && now - h->write_asked_ms < 1000 && !force)
		return;
	h->write_asked = true;
	h->write_asked_ms = now;
	lws_callback_on_writable(wsi);
}

/* Four bytes of a masking key (RFC 6455 10.3: from a strong source,
 * unpredictable), taken from a pool that getrandom refills. */
static void mask_key(struct ndl__hub_client *h, uint8_t key[4])
{
	if (h->keys_left < 4) {
		ssize_t n = getrandom(h->keys, sizeof(h->keys), 0);

		if (n != (ssize_t)sizeof(h->keys)) {
			/* not expected on Linux >= 3.17; lws reads /dev/urandom */
			lws_get_random(h->ctx, key, 4);
			return;
		}
		h->keys_left = sizeof(h->keys);
	}
	h->keys_left -= 4;
	memcpy(key, h->keys + h->keys_left, 4);
}

/*
 * Send payload[0..len) as one masked text frame, built in the
 * NDL__WS_HEADER_MAX bytes before payload (and LWS_PRE before those).
 * What lws cannot send at once it keeps and sends first, so frames never
 * mix. On failure the payload is unmasked again (it stays queued for the
 * next connection). Returns 0 or -1.
 */
static int write_frame(struct ndl__hub_client *h, struct lws *wsi, unsigned char *payload,
		       size_t len)
{
	uint8_t key[4];
	unsigned char *frame;
	size_t total;

	mask_key(h, key);
	frame = ndl__ws_text_frame(payload, len, key);
	total = len + (size_t)(payload - frame);
	if (lws_write(wsi, frame, total, LWS_WRITE_RAW) < (int)total) {
		ndl__ws_mask(payload, len, key);
		return -1;
	}
	return 0;
}

/*
 * Batch mode (docs/protocol.md section 10): one text message of JSON Lines,
 * each dumpling followed by a line feed: what the head chunk still holds,
 * at most batch_bytes unless one dumpling alone is larger. Returns 0 or -1.
 */
static int write_batch(struct ndl__hub_client *h, struct lws *wsi)
{
	struct chunk *c = h->head;

	if (write_frame(h, wsi, c->buf + FRAME_PRE + c->off, c->used - c->off) < 0)
		return -1;
	h->messages++;
	sent_from_head(h, c->used, c->lines - c->lines_sent);
	return 0;
}

/* One dumpling per message (a 0.5.1 hub): the head chunk's next line,
 * without its line feed. Returns 0 or -1. */
static int write_line(struct ndl__hub_client *h, struct lws *wsi)
{
	struct chunk *c = h->head;
	unsigned char *line = c->buf + FRAME_PRE + c->off;
	unsigned char *nl = memchr(line, '\n', c->used - c->off);
	size_t len = (size_t)(nl - line);

	if (write_frame(h, wsi, line, len) < 0)
		return -1;
	h->messages++;
	sent_from_head(h, c->off + len + 1, 1);
	return 0;
}

/* This connection's hello, before any dumpling. Returns 0 or -1. */
static int write_hello(struct ndl__hub_client *h, struct lws *wsi)
{
	/* masking works in place: a fresh copy for every connection */
	memcpy(h->hello_buf + FRAME_PRE, h->hello, h->hello_len);
	if (write_frame(h, wsi, h->hello_buf + FRAME_PRE, h->hello_len) < 0)
		return -1;
	h->hello_due = false;
	return 0;
}

static int write_some(struct ndl__hub_client *h, struct lws *wsi)
{
	/* batch mode: one message per callback, as the hub reads them */
	int turns = h->batch_now ? 1 : WRITES_PER_TURN;

	if (h->hello_due && write_hello(h, wsi) < 0) {
		hlog(h, LLL_ERR, "writing to the hub at %s:%d failed", h->host, h->port);
		return -1;
	}
	for (int i = 0; i < turns && outbox_waiting(h); i++) {
		if ((h->batch_now ? write_batch(h, wsi) : write_line(h, wsi)) < 0) {
			hlog(h, LLL_ERR, "writing to the hub at %s:%d failed", h->host, h->port);
			return -1;
		}
		if (lws_send_pipe_choked(wsi))
			break;
	}
	if (h->waiting_drain && h->queued <= h->max_count / 4 &&
	    h->queued_bytes <= h->max_bytes / 4) {
		h->waiting_drain = false;
		if (h->cb.on_drain)
			h->cb.on_drain(h->cb.arg);
	}
	if (outbox_waiting(h)) {
		ask_writable(h, wsi, false);
		return 0;
	}
	if (h->state == HUB_CLOSING && !h->close_sent && !h->pong_seen) {
		/*
		 * Everything is out. Before our close, a ping (RFC 6455 5.5.2):
		 * the hub reads frames in order, so its pong says it read all we
		 * sent and kept the connection. A hub that refused us (4104 after
		 * the hello) closes first instead, and since our close is not
		 * out yet, lws hands us its code; once our close is out, lws
		 * takes the hub's close as a bare acknowledgement and drops the
		 * code. No pong within CLOSE_WAIT_S: the link is lost.
		 */
		static const char probe[] = "ndl-drain";
		unsigned char buf[LWS_PRE + sizeof(probe)];

		if (h->ping_sent)
			return 0;
		h->ping_sent = true;
		memcpy(buf + LWS_PRE, probe, sizeof(probe) - 1);
		if (lws_write(wsi, buf + LWS_PRE, sizeof(probe) - 1, LWS_WRITE_PING) <
		    (int)sizeof(probe) - 1)
			return -1;
		lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, CLOSE_WAIT_S);
		return 0;
	}
	if (h->state == HUB_CLOSING && !h->close_sent) {
		/*
		 * The hub has everything: send our close frame (ndl__ws_close
		 * says why by hand), then wait for the hub's answering close,
		 * which lws completes, or for CLOSE_WAIT_S, as lws bounds its own
		 * closes.
		 */
		h->close_sent = true;
		if (ndl__ws_close(wsi, LWS_CLOSE_STATUS_NORMAL, "kitchen finished") < 0)
			return -1;
		lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_ACK, CLOSE_WAIT_S);
	}
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		    void *in, size_t len)
{
	struct lws_context *ctx = lws_get_context(wsi);
	struct ndl__hub_client *h = ctx ? lws_context_user(ctx) : NULL;

	(void)user;
	if (!h)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
		char why[512];
		snprintf(why, sizeof(why), "%.*s", in ? (int)strnlen(in, 190) : 0,
			 in ? (const char *)in : "");
		h->wsi = NULL;
		if (!why[0] || strcmp(why, "closed before established") == 0)
			snprintf(why, sizeof(why), "connection failed");
		if (h->tls && tls_error[0]) {
			snprintf(why, sizeof(why), "TLS: %.100s (is the hub's certificate signed "
				 "by a CA in %.200s, and issued for %.100s?)", tls_error,
				 h->ca_file ? h->ca_file : "the system's store", h->host);
			tls_error[0] = '\0';
		} else if (h->tls && strstr(why, "SSL")) {
			snprintf(why, sizeof(why), "the TLS handshake failed (is it a wss:// hub, "
				 "started with --tls-cert?)");
		} else if (!h->tls && strcmp(why, "read failed") == 0) {
			/* a TLS server answering our plain HTTP with an alert */
			snprintf(why, sizeof(why), "the hub hung up during the handshake (does it "
				 "want wss://?)");
		}
		/* the explanation may block up to 2 s: the first attempt only */
		if (!h->reconnects)
			explain_connect_failure(h->host, h->port, why, sizeof(why));
		if (!schedule_retry(h, 0, why))
			report_closed(h, 0, why, false);
		break;
	}
	case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH: {
		/* The handshake's headers are still here, not in ESTABLISHED:
		 * which subprotocol did the hub choose (RFC 6455 4.2.2)? lws
		 * already refused one we did not offer. A 0.5.1 hub chooses
		 * none: one dumpling per message. */
		char chosen[64] = "";

		if (lws_hdr_copy(wsi, chosen, sizeof(chosen), WSI_TOKEN_PROTOCOL) < 0)
			chosen[0] = '\0';
		h->batch_now = h->batch && strcmp(chosen, NDL_SUBPROTOCOL_BATCH) == 0;
		break;
	}
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		h->state = h->close_asked ? HUB_CLOSING : HUB_OPEN;
		h->backoff_ms = RECONNECT_FIRST_MS;
		if (h->ever_open)
			hlog(h, LLL_WARN, "reconnected to the hub at %s:%d; %zu dumplings waiting",
			     h->host, h->port, h->queued);
		h->ever_open = true;
		h->hello_due = true;
		if (h->cb.on_open)
			h->cb.on_open(h->cb.arg);
		h->write_asked = false;    /* a new connection: nothing is due yet */
		ask_writable(h, wsi, false);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		h->write_asked = false;
		if (h->state == HUB_CLOSED)
			return -1;
		return write_some(h, wsi);
	case LWS_CALLBACK_CLIENT_RECEIVE:
		/* The hub sends nothing to kitchens; ignore what it might. */
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
		if (h->ping_sent && !h->pong_seen) {
			h->pong_seen = true;
			lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
			ask_writable(h, wsi, true);
		}
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		h->peer_code = (int)ndl__ws_close_parse(in, len, h->peer_reason,
							sizeof(h->peer_reason));
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		h->wsi = NULL;
		if (h->close_sent && !h->peer_code && h->queued == 0)
			report_closed(h, LWS_CLOSE_STATUS_NORMAL, "", true);
		else if (schedule_retry(h, h->peer_code ? h->peer_code : 1006,
					h->peer_code ? h->peer_reason : "connection lost"))
			break;
		else if (h->close_sent && !h->peer_code)
			report_closed(h, LWS_CLOSE_STATUS_NORMAL, "", true);
		else if (h->peer_code)
			report_closed(h, h->peer_code, h->peer_reason, h->close_sent);
		else
			report_closed(h, 1006, "connection lost", false);
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		if (h->wsi == wsi)
			h->wsi = NULL;
		if (h->state == HUB_CONNECTING && !h->destroying && !h->reported) {
			/*
			 * lws 4.1 drops a client whose server hangs up during the
			 * handshake without CONNECTION_ERROR or CLIENT_CLOSED; a
			 * TLS hub reached with ws:// does just that.
			 */
			const char *why = h->tls ? "the hub hung up during the handshake" :
				"the hub hung up during the handshake (does it want wss://?)";
			if (!schedule_retry(h, 0, why))
				report_closed(h, 0, why, false);
		}
		break;
	default:
		break;
	}
	return 0;
}

/*
 * lws hands the socket at most tx_packet_size bytes per send (else its
 * 4 KiB read buffer's size), keeping the rest for the next WRITEABLE
 * turn: a 64 KiB batch took 16 system calls and loop turns. Whole frames
 * of up to TX_PACKET go in one send now.
 */
#define TX_PACKET (1024 * 1024)

static const struct lws_protocols protocols[] = {
	{ "ndl-kitchen", callback, 0, 0, 0, NULL, TX_PACKET },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

int ndl__hub_client_new(uv_loop_t *loop, const struct ndl__hub_client_config *cfg,
			const struct ndl__hub_client_callbacks *cb,
			struct ndl__hub_client **out, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	struct ndl__hub_client *h;
	void *loops[1];
	int r;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	h->loop = loop;
	h->cb = *cb;
	h->port = cfg->port;
	h->max_count = cfg->outbox_count ? cfg->outbox_count : NDL__OUTBOX_DEFAULT_COUNT;
	h->max_bytes = cfg->outbox_bytes ? cfg->outbox_bytes : NDL__OUTBOX_DEFAULT_BYTES;
	h->hard_count = cfg->lossless ? 4 * h->max_count : h->max_count;
	h->hard_bytes = cfg->lossless ? 4 * h->max_bytes : h->max_bytes;
	h->reconnect = cfg->reconnect;
	h->reconnect_max_ms = cfg->reconnect_max_ms > RECONNECT_FIRST_MS ?
			      cfg->reconnect_max_ms : RECONNECT_FIRST_MS;
	h->backoff_ms = RECONNECT_FIRST_MS;
	h->tls = cfg->tls;
	h->batch = cfg->batch;
	h->batch_bytes = cfg->batch_bytes ? cfg->batch_bytes : NDL__BATCH_DEFAULT_BYTES;
	h->host = strdup(cfg->host);
	h->hello = strdup(cfg->hello);
	h->ca_file = cfg->ca_file ? strdup(cfg->ca_file) : NULL;
	h->hello_len = h->hello ? strlen(h->hello) : 0;
	h->hello_buf = malloc(FRAME_PRE + h->hello_len);
	if (!h->host || !h->hello || (cfg->ca_file && !h->ca_file) || !h->hello_buf) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto free_client;
	}
	if (strchr(cfg->host, ':'))
		snprintf(h->host_header, sizeof(h->host_header), "[%s]:%d", cfg->host, cfg->port);
	else
		snprintf(h->host_header, sizeof(h->host_header), "%s:%d", cfg->host, cfg->port);

	if (h->tls && h->ca_file && access(h->ca_file, R_OK) < 0) {
		r = -errno;
		snprintf(err, errlen, "cannot read the CA file %s: %s", h->ca_file, strerror(errno));
		goto free_client;
	}
	lws_verbose = cfg->verbose;
	lws_log_sink = cb->log;
	lws_log_arg = cb->arg;
	lws_set_log_level(LLL_ERR | (cfg->verbose ? LLL_WARN | LLL_NOTICE | LLL_INFO : 0),
			  lws_log_line);

	memset(&info, 0, sizeof(info));
	loops[0] = loop;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_LIBUV;
	if (h->tls) {
		/* OpenSSL set up by lws, and a client SSL_CTX for the vhost
		 * that trusts the system store, plus ca_file when given */
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.client_ssl_ca_filepath = h->ca_file;
	}
	info.foreign_loops = loops;
	info.pcontext = &h->ctx;
	info.user = h;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	h->ctx = lws_create_context(&info);
	if (!h->ctx) {
		if (h->tls && h->ca_file && access(h->ca_file, R_OK) < 0)
			snprintf(err, errlen, "cannot read the CA file %s: %s", h->ca_file,
				 strerror(errno));
		else
			snprintf(err, errlen, "cannot start the WebSocket client (libwebsockets "
				 "could not create its context%s; is the libuv event plugin "
				 "libwebsockets-evlib_uv installed?)",
				 h->tls ? " with TLS; is the CA file a PEM bundle?" : "");
		r = -EIO;
		goto free_client;
	}

	uv_timer_init(loop, &h->report_timer);
	h->report_timer.data = h;
	h->report_timer_init = true;
	uv_timer_init(loop, &h->retry_timer);
	h->retry_timer.data = h;
	h->retry_timer_init = true;
	srand((unsigned int)(uv_hrtime() ^ (uint64_t)getpid()));
	connect_now(h);
	*out = h;
	return 0;

free_client:
	free(h->host);
	free(h->hello);
	free(h->ca_file);
	free(h->hello_buf);
	free_queue(h);
	free(h);
	return r;
}

/* Start one connection attempt; its outcome arrives in callback(). */
static int connect_now(struct ndl__hub_client *h)
{
	struct lws_client_connect_info ci;

	memset(&ci, 0, sizeof(ci));
	ci.context = h->ctx;
	ci.address = h->host;
	ci.port = h->port;
	ci.path = "/";
	ci.host = h->host_header;
	ci.origin = h->host_header;
	/*
	 * Batch mode is asked for, not assumed: the hub answers with the
	 * subprotocol it chose, or with none (a 0.5.1 hub), and either way the
	 * connection stands on our one protocol (local_protocol_name).
	 */
	ci.protocol = h->batch ? NDL_SUBPROTOCOL_BATCH ", " NDL_SUBPROTOCOL : NULL;
	ci.local_protocol_name = protocols[0].name;
	ci.pwsi = &h->wsi;
	if (h->tls)
		ci.ssl_connection = LCCSCF_USE_SSL;
	h->batch_now = false;
	h->state = HUB_CONNECTING;
	if (!lws_client_connect_via_info(&ci) && h->state == HUB_CONNECTING && !h->reported) {
		/* failed at once, without the error callback having said so */
		char why[200] = "connection failed";
		if (!h->reconnects)
			explain_connect_failure(h->host, h->port, why, sizeof(why));
		if (!schedule_retry(h, 0, why))
			report_closed(h, 0, why, false);
		return -ECONNREFUSED;
	}
	return 0;
}

int ndl__hub_client_send(struct ndl__hub_client *h, const char *json, size_t len)
{
	bool away = h->state == HUB_AWAY || h->state == HUB_CONNECTING;

	if (h->close_asked || h->state == HUB_CLOSED || (away && !h->reconnect))
		return -ENOTCONN;
	if (h->queued >= h->hard_count || h->queued_bytes + len > h->hard_bytes ||
	    enqueue(h, json, len) < 0) {
		h->refused++;
		if (away)
			h->refused_away++;
		return -ENOBUFS;
	}
	if (h->wsi)
		ask_writable(h, h->wsi, false);
	return 0;
}

bool ndl__hub_client_above_high_water(struct ndl__hub_client *h)
{
	if (h->queued >= h->max_count / 2 || h->queued_bytes >= h->max_bytes / 2) {
		h->waiting_drain = true;
		return true;
	}
	return false;
}

void ndl__hub_client_close(struct ndl__hub_client *h)
{
	if (!h || h->close_asked || h->state == HUB_CLOSED)
		return;
	h->close_asked = true;
	if (h->state == HUB_OPEN) {
		h->state = HUB_CLOSING;
		if (h->wsi)
			ask_writable(h, h->wsi, true);
	} else if (h->state == HUB_AWAY && h->queued == 0) {
		uv_timer_stop(&h->retry_timer);
		report_closed(h, LWS_CLOSE_STATUS_NORMAL, "", true);
	}
	/* connecting or away with dumplings waiting: flushed once connected */
}

void ndl__hub_client_stats(const struct ndl__hub_client *h, struct ndl__hub_client_stats *out)
{
	out->sent = h->sent;
	out->refused = h->refused;
	out->queued = h->queued;
	out->queued_bytes = h->queued_bytes;
	out->reconnects = h->reconnects;
	out->refused_away = h->refused_away;
	out->connected = h->state == HUB_OPEN || h->state == HUB_CLOSING;
	out->batch = h->batch_now;
	out->messages = h->messages;
}

static void lws_gone(struct ndl__ws_teardown *t, int status)
{
	struct ndl__hub_client *h = t->data;

	h->torn_down = true;
	if (status < 0)
		hlog(h, LLL_ERR, "libwebsockets did not shut down within %d ms", TEARDOWN_MS);
}

void ndl__hub_client_shutdown(struct ndl__hub_client *h)
{
	if (!h || h->destroying)
		return;
	h->destroying = true;
	if (h->report_timer_init) {
		h->report_timer_init = false;
		uv_close((uv_handle_t *)&h->report_timer, NULL);
	}
	if (h->retry_timer_init) {
		h->retry_timer_init = false;
		uv_close((uv_handle_t *)&h->retry_timer, NULL);
	}
	h->teardown.data = h;
	if (ndl__ws_teardown_start(&h->teardown, h->loop, &h->ctx, TEARDOWN_MS, lws_gone) < 0)
		h->torn_down = true;
}

void ndl__hub_client_free(struct ndl__hub_client *h)
{
	if (!h)
		return;
	ndl__hub_client_shutdown(h);
	/* Normally over already: the teardown's timer kept the loop running. */
	while (!h->torn_down)
		uv_run(h->loop, UV_RUN_ONCE);
	if (h->ctx)
		return;   /* lws never let go and may still call back with h: leak it */
	free(h->host);
	if (h->hello)
		explicit_bzero(h->hello, strlen(h->hello));
	free(h->hello);
	free(h->ca_file);
	if (h->hello_buf)   /* the token, masked */
		explicit_bzero(h->hello_buf, FRAME_PRE + h->hello_len);
	free(h->hello_buf);
	free_queue(h);
	free(h);
}
