/* SPDX-License-Identifier: MIT */
/*
 * hub.c - connections, hellos, fan-out and shutdown of the hub.
 *
 * Transport: WebSocket, RFC 6455, served by libwebsockets on a foreign
 * libuv loop. Close codes are RFC 6455 section 7.4.1's:
 *   1001 going away (shutdown), 1003 binary frame, 1007 dumpling not JSON,
 *   1008 bad or missing hello, 1009 message too big, 1013 too many clients;
 * and the protocol's own: 4103 eater too slow, 4104 bad token.
 *
 * Message flow: a kitchen's frames are reassembled into one refcounted
 * buffer (lws hands a message over in pieces); a valid dumpling buffer is
 * then shared, unchanged, by every eater's bounded queue and written from
 * each eater's WRITEABLE callback. In batch mode (docs/protocol.md section
 * 10) a kitchen's message is cut at its line feeds into one buffer per
 * dumpling, routed on the metadata alone; a batch-mode eater gets its
 * queued dumplings joined into messages of up to --batch-bytes.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ndl/wire.h>
#include "envelope.h"
#include "hub-int.h"
#include "logline.h"
#include "meta.h"

#define RX_PREALLOC_MAX (1u << 20)
#define TEARDOWN_MS 5000   /* longest wait for lws to let go of the loop */
#define CLOSE_WAIT_S 5     /* longest wait to send a close frame */
#define BATCHES_PER_CALLBACK 4
/* How long eaters may take nothing in before the hub takes them for
 * stalled, the longest it stops reading kitchens for eaters that drain
 * slowly, and how long it then reads them regardless (check_intake). */
#define INTAKE_PAUSE_MAX_NS (500ull * 1000 * 1000)
#define INTAKE_PAUSE_LONGEST_NS (10000ull * 1000 * 1000)
#define INTAKE_COOLDOWN_NS (5000ull * 1000 * 1000)
#define NOTICE_MAX 256     /* bytes of a drop notice at most */
#define PROTO_BATCH 1      /* lws_protocols.id of the batch subprotocol */
#define PT_SERV_BUF 65536  /* lws' per-thread read buffer */

static const char *const reject_names[NDL_HUB_REJ_COUNT] = {
	[NDL_HUB_REJ_HELLO_NOT_JSON] = "hello_not_json",
	[NDL_HUB_REJ_HELLO_NOT_OBJECT] = "hello_not_object",
	[NDL_HUB_REJ_HELLO_NO_NAME] = "hello_without_name",
	[NDL_HUB_REJ_HELLO_TIMEOUT] = "hello_timeout",
	[NDL_HUB_REJ_NO_HELLO] = "closed_before_hello",
	[NDL_HUB_REJ_BINARY] = "binary_frame",
	[NDL_HUB_REJ_TOO_BIG] = "too_big",
	[NDL_HUB_REJ_NOT_JSON] = "not_json",
	[NDL_HUB_REJ_NOT_DUMPLING] = "not_a_dumpling",
	[NDL_HUB_REJ_EATER_FRAME] = "eater_frame_ignored",
	[NDL_HUB_REJ_TOO_MANY_CLIENTS] = "too_many_clients",
	[NDL_HUB_REJ_BAD_SUBSCRIBE] = "bad_subscription",
	[NDL_HUB_REJ_BAD_TOKEN] = "bad_token",
	[NDL_HUB_REJ_ORIGIN] = "origin_not_allowed",
	[NDL_HUB_REJ_TOO_MANY_FROM_ADDRESS] = "too_many_from_address",
	[NDL_HUB_REJ_EATER_TOO_SLOW] = "eater_too_slow",
};

static const char *const lag_policy_names[] = {
	[NDL_HUB_LAG_DROP_OLDEST] = "drop-oldest",
	[NDL_HUB_LAG_DISCONNECT] = "disconnect",
};

static const char *const role_names[2] = { "kitchen", "eater" };

const char *ndl_hub_reject_name(enum ndl_hub_reject r)
{
	return (unsigned)r < NDL_HUB_REJ_COUNT ? reject_names[r] : "unknown";
}

void ndl_hub_config_defaults(struct ndl_hub_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->address = NDL_HUB_DEFAULT_ADDRESS;
	cfg->in_port = NDL_HUB_DEFAULT_IN_PORT;
	cfg->out_port = NDL_HUB_DEFAULT_OUT_PORT;
	cfg->status_freq = NDL_HUB_DEFAULT_STATUS_FREQ;
	cfg->max_frame = NDL_DEFAULT_MAX_FRAME;
	cfg->eater_queue = 4096;
	cfg->eater_queue_bytes = 64u * 1024u * 1024u;
	cfg->max_clients = 1024;
	cfg->hello_timeout = 30.0;
	cfg->batch_bytes = 64u * 1024u;
	cfg->lag_policy = NDL_HUB_LAG_DROP_OLDEST;
	cfg->max_per_address = 256;
	cfg->kitchen_rate = 0;
	cfg->metrics = true;
}

double ndl__hub_now_epoch(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- lists ---- */

static void list_init(struct ndl_hub_link *h)
{
	h->prev = h->next = h;
}

static void list_append(struct ndl_hub_link *h, struct ndl_hub_link *l)
{
	l->prev = h->prev;
	l->next = h;
	h->prev->next = l;
	h->prev = l;
}

static void list_unlink(struct ndl_hub_link *l)
{
	if (!l->next)
		return;
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l->next = NULL;
}

static struct ndl_hub_conn *conn_of(struct ndl_hub_link *l)
{
	return (struct ndl_hub_conn *)((char *)l - offsetof(struct ndl_hub_conn, link));
}

/* ---- helpers ---- */

/* "host:port" with IPv6 in brackets (RFC 3986 section 3.2.2). */
static const char *hostport(char *buf, size_t len, const char *host, int port)
{
	snprintf(buf, len, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	return buf;
}

static void peer_address(struct ndl_hub_conn *c)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char serv[16];
	int fd = lws_get_socket_fd(c->wsi);

	snprintf(c->host, sizeof(c->host), "unknown");
	c->port = 0;
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (getnameinfo((struct sockaddr *)&ss, sl, c->host, sizeof(c->host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(c->host, sizeof(c->host), "unknown");
		return;
	}
	/* An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d. */
	if (!strncmp(c->host, "::ffff:", 7) && strchr(c->host + 7, '.'))
		memmove(c->host, c->host + 7, strlen(c->host + 7) + 1);
	c->port = atoi(serv);
}

static const char *conn_label(const struct ndl_hub_conn *c, char *buf, size_t len)
{
	char hp[NDL_HUB_HOST_LEN + 10];

	hostport(hp, sizeof(hp), c->host, c->port);
	if (c->name)
		snprintf(buf, len, "%s '%.*s' from %s", role_names[c->role],
			 (int)ndl__utf8_cut(c->name, 64), c->name, hp);
	else
		snprintf(buf, len, "%s connection from %s", role_names[c->role], hp);
	return buf;
}

static void count_reject(struct ndl_hub *hub, struct ndl_hub_conn *c, enum ndl_hub_reject r,
			 const char *why)
{
	uint64_t suppressed = 0;
	char label[160];

	hub->rejections[r]++;
	if (!ndl__hub_ratelimit(&hub->reject_rl, uv_hrtime(), &suppressed))
		return;
	if (suppressed)
		ndl__hub_log(NDL_HUB_LOG_INFO, "%llu rejections not logged (rate limit)",
			     (unsigned long long)suppressed);
	ndl__hub_log(NDL_HUB_LOG_INFO, "rejected %s: %s (%s)", conn_label(c, label, sizeof(label)),
		     why, reject_names[r]);
}

/*
 * Count and log a rejection, and tell lws to close with code. The caller
 * returns -1 from the callback; lws then sends the close frame.
 */
static int reject_close(struct ndl_hub_conn *c, enum ndl_hub_reject r, int code, const char *why)
{
	count_reject(c->hub, c, r, why);
	c->close_code = code;
	c->close_text = why;
	c->close_by_lws = true;
	lws_close_reason(c->wsi, (enum lws_close_status)code, (unsigned char *)why, strlen(why));
	return -1;
}

/*
 * Write the close chosen by close_soon() and hang up: lws 4.1 sends no
 * close frame for a WRITEABLE callback returning -1 (see ndl__ws_close).
 */
static int send_close(struct ndl_hub_conn *c)
{
	ndl__ws_close(c->wsi, (uint16_t)c->close_code, c->close_text);
	return -1;
}

/*
 * Ask lws for one WRITEABLE callback on c, once until it comes. Asking
 * again is not free: lws' libuv backend restarts the socket's poll
 * watcher each time, and libuv drops the readiness already pending for it
 * in that loop turn, so an eater asked for on every dumpling while
 * kitchens keep the loop busy would never be written to.
 */
static void ask_writable(struct ndl_hub_conn *c)
{
	if (c->write_asked)
		return;
	c->write_asked = true;
	lws_callback_on_writable(c->wsi);
}

/* Close a connection from outside its callbacks: see send_close(). */
static void close_soon(struct ndl_hub_conn *c, int code, const char *why)
{
	if (c->close_code)
		return;
	c->close_code = code;
	c->close_text = why;
	ask_writable(c);
	/* A peer that reads nothing never makes us writeable: hang up anyway. */
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, CLOSE_WAIT_S);
}

/* ---- fan-out ---- */

/*
 * Queue m for every greeted eater whose subscription wants a dumpling with
 * these envelope fields (kitchen and driver may be NULL); the caller keeps
 * its reference.
 */
/*
 * Overload: while more than half of the eaters have filled their queues,
 * the hub stops reading from kitchens, so that its time goes to eaters
 * rather than to dumplings most of them would only drop (TCP then holds
 * the kitchens back: a replay waits, a live kitchen counts what its outbox
 * drops). Reading starts again once no more than a quarter are full.
 * Every INTAKE_PAUSE_MAX_NS the hub looks at what the full eaters took in
 * meanwhile: eaters that took nothing are stalled, not outpaced, and when
 * enough of them are stalled that the pause could never end (more than a
 * quarter of all eaters), or the pause has lasted INTAKE_PAUSE_LONGEST_NS,
 * the hub reads kitchens for INTAKE_COOLDOWN_NS whatever the eaters do,
 * and the lag policy deals with them, so that eaters which stopped reading
 * cannot stop the kitchens (whose pings go unanswered while the hub does
 * not read). Eaters that keep draining, however slowly, are waited for:
 * reading kitchens then would only drop for them. One slow eater among
 * others never pauses anything.
 */
static void start_window(struct ndl_hub *hub, uint64_t now)
{
	hub->intake_window_ns = now;
	for (struct ndl_hub_link *l = hub->greeted[NDL_HUB_EATER].next;
	     l != &hub->greeted[NDL_HUB_EATER]; l = l->next) {
		struct ndl_hub_conn *e = conn_of(l);

		e->sent_mark = e->sent;
	}
}

/* Whether the full eaters that took nothing since the window began are
 * enough to keep the pause from ever ending. */
static bool stalled_block(struct ndl_hub *hub)
{
	size_t stalled = 0;

	for (struct ndl_hub_link *l = hub->greeted[NDL_HUB_EATER].next;
	     l != &hub->greeted[NDL_HUB_EATER]; l = l->next) {
		struct ndl_hub_conn *e = conn_of(l);

		stalled += e->full && e->sent == e->sent_mark;
	}
	return stalled * 4 > hub->ngreeted[NDL_HUB_EATER];
}

static void set_intake(struct ndl_hub *hub, bool on)
{
	for (struct ndl_hub_link *l = hub->greeted[NDL_HUB_KITCHEN].next;
	     l != &hub->greeted[NDL_HUB_KITCHEN]; l = l->next) {
		struct ndl_hub_conn *k = conn_of(l);

		if (!k->close_code)
			lws_rx_flow_control(k->wsi, on ? 1 : 0);
	}
	hub->intake_paused = !on;
	if (!on) {
		hub->intake_paused_ns = uv_hrtime();
		hub->intake_pauses++;
		start_window(hub, hub->intake_paused_ns);
	}
}

static void check_intake(struct ndl_hub *hub)
{
	size_t eaters = hub->ngreeted[NDL_HUB_EATER];
	uint64_t now;

	if (!hub->intake_paused) {
		if (eaters && hub->eaters_full * 2 > eaters && !hub->stopping &&
		    uv_hrtime() >= hub->intake_cooldown_until)
			set_intake(hub, false);
		return;
	}
	if (hub->eaters_full * 4 <= eaters) {
		set_intake(hub, true);
		return;
	}
	now = uv_hrtime();
	if (now - hub->intake_window_ns <= INTAKE_PAUSE_MAX_NS)
		return;
	if (now - hub->intake_paused_ns < INTAKE_PAUSE_LONGEST_NS && !stalled_block(hub)) {
		start_window(hub, now);   /* outpaced, not stalled: wait on */
		return;
	}
	set_intake(hub, true);
	hub->intake_cooldown_until = now + INTAKE_COOLDOWN_NS;
}

/* Eater e's queue is three quarters full (mark) or has drained to half
 * (unmark). */
static void set_full(struct ndl_hub_conn *e, bool full)
{
	if (e->full == full)
		return;
	e->full = full;
	if (full)
		e->hub->eaters_full++;
	else
		e->hub->eaters_full--;
}

/*
 * Whether e's queue is past its high-water mark, three quarters of its
 * dumplings or bytes: the intake pause starts there rather than when the
 * queues overflow, so that what is still on its way from kitchens when the
 * hub stops reading (a batch being read, lws' buffer) finds room instead
 * of pushing dumplings out.
 */
static bool above_high_water(const struct ndl_hub_conn *e)
{
	return e->q.count >= e->q.max_count - e->q.max_count / 4 ||
	       e->q.bytes >= e->q.max_bytes - e->q.max_bytes / 4;
}

/*
 * e's queue is full and m does not fit: apply the lag policy. Returns 0
 * when m was queued after dropping the oldest, else a negative errno (m
 * not queued, counted here). Loop thread.
 */
static int lagging(struct ndl_hub *hub, struct ndl_hub_conn *e, struct ndl_hub_msg *m)
{
	int r;

	if (hub->cfg.lag_policy == NDL_HUB_LAG_DISCONNECT) {
		uint64_t lost = e->q.count + 1;

		e->dropped += lost;
		hub->total_dropped += lost;
		ndl__hub_msgq_clear(&e->q);
		count_reject(hub, e, NDL_HUB_REJ_EATER_TOO_SLOW, "its queue was full");
		close_soon(e, NDL_CLOSE_LAGGING, "eater too slow: its queue was full");
		return -ENOBUFS;
	}
	do {
		ndl__hub_msgq_pop(&e->q);
		e->dropped++;
		e->missed++;
		hub->total_dropped++;
		r = ndl__hub_msgq_push(&e->q, m);
	} while (r == -ENOBUFS && e->q.count);
	return r;
}

/*
 * m for a batch-mode eater: m itself, or when m holds line feeds (a
 * pretty-printed dumpling) a copy made once in *flat with each one a
 * space. In valid JSON a raw line feed can only be whitespace between
 * tokens (RFC 8259 section 7 forbids it in strings), so the copy means the
 * same and is one line. NULL when out of memory.
 */
static struct ndl_hub_msg *one_line(struct ndl_hub_msg *m, struct ndl_hub_msg **flat, int *has_lf)
{
	unsigned char *p;

	if (*has_lf < 0)
		*has_lf = memchr(ndl__hub_msg_payload(m), '\n', m->len) != NULL;
	if (!*has_lf)
		return m;
	if (!*flat) {
		*flat = ndl__hub_msg_new(m->len);
		if (!*flat)
			return NULL;
		p = ndl__hub_msg_payload(*flat);
		memcpy(p, ndl__hub_msg_payload(m), m->len);
		(*flat)->len = m->len;
		for (size_t i = 0; i < m->len; i++)
			if (p[i] == '\n')
				p[i] = ' ';
	}
	return *flat;
}

static void fan_out(struct ndl_hub *hub, struct ndl_hub_msg *m, const char *chef,
		    const char *kitchen, const char *driver)
{
	struct ndl_hub_msg *flat = NULL;
	int has_lf = -1;   /* not looked at yet */

	for (struct ndl_hub_link *l = hub->greeted[NDL_HUB_EATER].next;
	     l != &hub->greeted[NDL_HUB_EATER]; l = l->next) {
		struct ndl_hub_conn *e = conn_of(l);
		struct ndl_hub_msg *q;
		int r;

		if (e->close_code)
			continue;
		if (ndl__hub_sub_active(&e->sub) &&
		    !ndl__hub_sub_match(&e->sub, chef, kitchen, driver)) {
			e->not_subscribed++;
			hub->total_not_subscribed++;
			continue;
		}
		q = e->batch ? one_line(m, &flat, &has_lf) : m;
		r = q ? ndl__hub_msgq_push(&e->q, q) : -ENOMEM;
		if (r == -ENOBUFS) {
			set_full(e, true);
			r = lagging(hub, e, q);
		} else if (!r && !e->full && above_high_water(e)) {
			set_full(e, true);
		}
		if (r == -ENOMEM) {
			e->dropped++;
			e->missed++;
			hub->total_dropped++;
		}
		if (!r || e->missed)
			ask_writable(e);
	}
	ndl__hub_msg_unref(flat);
	check_intake(hub);
}

/* The drop notice for c's last missed dumplings, into buf (NOTICE_MAX). */
static size_t drop_notice(const struct ndl_hub_conn *c, char *buf)
{
	int n = snprintf(buf, NOTICE_MAX,
			 "{\"metadata\":{\"chef\":\"%s\",\"kitchen\":null,"
			 "\"creation_time\":%.6f,\"driver\":\"%s\"},\"payload\":{"
			 "\"dropped\":%llu,\"total_dropped\":%llu,\"policy\":\"%s\"}}",
			 NDL_DROPS_CHEF, ndl__hub_now_epoch(), NDL_DRIVER_NAME_INTERVAL,
			 (unsigned long long)c->missed, (unsigned long long)c->dropped,
			 lag_policy_names[c->hub->cfg.lag_policy]);

	return n > 0 && n < NOTICE_MAX ? (size_t)n : 0;
}

static int write_failed(struct ndl_hub_conn *c)
{
	char label[160];

	ndl__hub_log(NDL_HUB_LOG_DEBUG, "write to %s failed", conn_label(c, label, sizeof(label)));
	return -1;
}

/* Make the hub's scratch buffer hold at least need payload bytes. */
static int scratch_reserve(struct ndl_hub *hub, size_t need)
{
	unsigned char *p;

	if (need <= hub->scratch_cap)
		return 0;
	p = realloc(hub->scratch, LWS_PRE + need);
	if (!p)
		return -ENOMEM;
	hub->scratch = p;
	hub->scratch_cap = need;
	return 0;
}

/* Bytes one dumpling of len bytes takes in a write, framing included. */
static size_t put_size(const struct ndl_hub_conn *c, size_t len)
{
	return len + (c->batch ? 1 : 10);
}

/*
 * Append one dumpling to out at *used: in batch mode a JSON line, else a
 * whole WebSocket text frame (header and payload).
 */
static void put(const struct ndl_hub_conn *c, unsigned char *out, size_t *used,
		const void *buf, size_t len)
{
	if (!c->batch)
		*used += ndl__ws_text_header(out + *used, len);
	memcpy(out + *used, buf, len);
	*used += len;
	if (c->batch)
		out[(*used)++] = '\n';
}

/*
 * Write what is queued for eater c: the drop notice first when dumplings
 * were missed, then the queue, in writes of up to --batch-bytes (one
 * larger dumpling goes alone) built in the hub's one scratch buffer,
 * which lws has let go of when lws_write returns.
 *
 * Batch mode: each write is one text message of JSON Lines (docs/
 * protocol.md section 10). One-per-message mode: writing each frame with
 * its own lws_write would cost one send() per dumpling per eater, so the
 * frames are built here (as lws would build them) and handed to lws as one
 * raw write: the eater sees exactly the frames lws would have sent. lws
 * sends its own frames (pongs, close) only between our writes, and what
 * the socket does not take it keeps and sends first, so frames never mix.
 */
static int eater_write_queue(struct ndl_hub_conn *c)
{
	struct ndl_hub *hub = c->hub;
	size_t limit = hub->cfg.batch_bytes;

	for (int b = 0; b < BATCHES_PER_CALLBACK; b++) {
		struct ndl_hub_msg *m;
		size_t used = 0, count = 0;
		unsigned char *out;

		if (scratch_reserve(hub, limit < 2 * NOTICE_MAX ? 2 * NOTICE_MAX : limit) < 0)
			return write_failed(c);
		out = hub->scratch + LWS_PRE;
		if (c->missed) {
			char notice[NOTICE_MAX];
			size_t n = drop_notice(c, notice);

			if (n)
				put(c, out, &used, notice, n);
		}
		while ((m = ndl__hub_msgq_peek(&c->q)) &&
		       (!used || used + put_size(c, m->len) <= limit)) {
			if (scratch_reserve(hub, used + put_size(c, m->len)) < 0)
				return write_failed(c);
			out = hub->scratch + LWS_PRE;
			put(c, out, &used, ndl__hub_msg_payload(m), m->len);
			ndl__hub_msgq_pop(&c->q);
			count++;
		}
		if (!used)
			break;
		if (lws_write(c->wsi, out, used, c->batch ? LWS_WRITE_TEXT : LWS_WRITE_RAW) < 0)
			return write_failed(c);
		c->missed = 0;
		c->sent += count;
		hub->total_out += count;
		if (c->full && c->q.count <= c->q.max_count / 2 && c->q.bytes <= c->q.max_bytes / 2) {
			set_full(c, false);
			check_intake(hub);
		}
		if (lws_send_pipe_choked(c->wsi))
			break;
	}
	return 0;
}

static int eater_write(struct ndl_hub_conn *c)
{
	struct ndl_hub *hub = c->hub;
	int r = eater_write_queue(c);

	/* One outsized dumpling must not keep its size in the hub for good. */
	if (hub->scratch_cap > 4 * hub->cfg.batch_bytes && hub->scratch_cap > 4 * NOTICE_MAX) {
		free(hub->scratch);
		hub->scratch = NULL;
		hub->scratch_cap = 0;
	}

	if (!r && (c->q.count || c->missed))
		ask_writable(c);
	return r;
}

/* ---- frames ---- */

static int on_hello(struct ndl_hub_conn *c, struct ndl_hub_msg *m)
{
	struct ndl_hub *hub = c->hub;
	const char *key = c->role == NDL_HUB_KITCHEN ? "kitchen_name" : "eater_name";
	json_error_t jerr;
	json_t *j, *name;
	char label[160];

	/* DECODE_ANY: a bare string or number is JSON, just not an object. */
	j = json_loadb((const char *)ndl__hub_msg_payload(m), m->len, JSON_DECODE_ANY,
		       &jerr);
	ndl__hub_msg_unref(m);
	if (!j)
		return reject_close(c, NDL_HUB_REJ_HELLO_NOT_JSON, NDL_CLOSE_POLICY,
				    "hello is not JSON");
	if (!json_is_object(j)) {
		json_decref(j);
		return reject_close(c, NDL_HUB_REJ_HELLO_NOT_OBJECT, NDL_CLOSE_POLICY,
				    "hello is not a JSON object");
	}
	name = json_object_get(j, key);
	if (!json_is_string(name)) {
		json_decref(j);
		return reject_close(c, NDL_HUB_REJ_HELLO_NO_NAME, NDL_CLOSE_POLICY,
				    c->role == NDL_HUB_KITCHEN ?
				    "hello has no string kitchen_name" :
				    "hello has no string eater_name");
	}
	if (hub->tokens[c->role].required) {
		json_t *tok = json_object_get(j, "token");

		if (!json_is_string(tok) ||
		    !ndl__hub_tokens_match(&hub->tokens[c->role], json_string_value(tok),
					   json_string_length(tok))) {
			json_decref(j);
			return reject_close(c, NDL_HUB_REJ_BAD_TOKEN, NDL_CLOSE_UNAUTHORIZED,
					    "token missing or wrong");
		}
	}
	/* A token is a secret: status, metrics and logs never show it. */
	json_object_del(j, "token");
	if (c->role == NDL_HUB_EATER && json_object_get(j, "subscribe")) {
		const char *why;
		int r = ndl__hub_sub_parse(&c->sub, json_object_get(j, "subscribe"), &why);

		if (r < 0) {
			json_decref(j);
			return reject_close(c, NDL_HUB_REJ_BAD_SUBSCRIBE, NDL_CLOSE_POLICY, why);
		}
	}
	c->hello = j;
	c->name = json_string_value(name);
	c->greeted = true;
	list_unlink(&c->link);
	list_append(&hub->greeted[c->role], &c->link);
	hub->ngreeted[c->role]++;
	if (c->role == NDL_HUB_KITCHEN && hub->intake_paused)
		lws_rx_flow_control(c->wsi, 0);
	ndl__hub_log(NDL_HUB_LOG_INFO, "%s connected", conn_label(c, label, sizeof(label)));
	return 0;
}

/* True when kitchen c may send one more dumpling now (--kitchen-rate). */
static bool within_rate(struct ndl_hub_conn *c)
{
	if (c->hub->cfg.kitchen_rate <= 0 || ndl__hub_ratelimit(&c->rate, uv_hrtime(), NULL))
		return true;
	c->rate_limited++;
	c->hub->total_rate_limited++;
	return false;
}

static int on_dumpling(struct ndl_hub_conn *c, struct ndl_hub_msg *m)
{
	struct ndl_hub *hub = c->hub;
	struct ndl_envelope env;
	int r;

	if (!within_rate(c)) {
		ndl__hub_msg_unref(m);
		return 0;
	}
	r = ndl_envelope_parse(&env, (const char *)ndl__hub_msg_payload(m), m->len);
	if (r == 0) {
		c->dumplings_in++;
		hub->total_in++;
		ndl__hub_msg_trim(&m);
		fan_out(hub, m, env.chef, env.kitchen, env.driver);
		ndl_envelope_clear(&env);
		ndl__hub_msg_unref(m);
		return 0;
	}
	ndl__hub_msg_unref(m);
	if (r == -EBADMSG) {
		count_reject(hub, c, NDL_HUB_REJ_NOT_DUMPLING, "JSON without metadata.chef");
		return 0;
	}
	return reject_close(c, NDL_HUB_REJ_NOT_JSON, NDL_CLOSE_INVALID_PAYLOAD,
			    "dumpling is not valid JSON");
}

/*
 * One line of a kitchen's batch (without its line feed): read the metadata
 * object that must open it, then route a copy of the line unparsed.
 */
static void on_batch_line(struct ndl_hub_conn *c, const unsigned char *line, size_t len)
{
	static const char prefix[] = "{\"metadata\":";
	const size_t plen = sizeof(prefix) - 1;
	struct ndl_hub *hub = c->hub;
	struct ndl_hub_meta fast;
	struct ndl_hub_msg *m;
	json_t *meta = NULL, *chef;
	const char *chef_s, *kitchen_s, *driver_s;

	if (len <= plen || memcmp(line, prefix, plen)) {
		c->bad_lines++;
		count_reject(hub, c, NDL_HUB_REJ_NOT_DUMPLING,
			     "batch line does not start with {\"metadata\":");
		return;
	}
	if (!within_rate(c))
		return;
	if (ndl__hub_meta_scan((const char *)line + plen, len - plen, &fast)) {
		/* the simple metadata kitchens write, read in place (meta.h) */
		chef_s = fast.chef_p;
		kitchen_s = fast.kitchen_p;
		driver_s = fast.driver_p;
	} else {
		/* The metadata object only: jansson stops at its closing brace. */
		meta = json_loadb((const char *)line + plen, len - plen, JSON_DISABLE_EOF_CHECK,
				  NULL);
		chef = json_object_get(meta, "chef");
		if (!json_is_object(meta) || !json_is_string(chef)) {
			json_decref(meta);
			c->bad_lines++;
			count_reject(hub, c, NDL_HUB_REJ_NOT_DUMPLING,
				     "batch line without an object metadata holding chef");
			return;
		}
		chef_s = json_string_value(chef);
		kitchen_s = json_string_value(json_object_get(meta, "kitchen"));
		driver_s = json_string_value(json_object_get(meta, "driver"));
	}
	m = ndl__hub_msg_new(len);
	if (!m) {
		json_decref(meta);
		ndl__hub_log(NDL_HUB_LOG_ERR, "out of memory: a dumpling was lost");
		return;
	}
	memcpy(ndl__hub_msg_payload(m), line, len);
	m->len = len;
	c->dumplings_in++;
	hub->total_in++;
	fan_out(hub, m, chef_s, kitchen_s, driver_s);
	ndl__hub_msg_unref(m);
	json_decref(meta);
}

/* A whole batch-mode kitchen message: dumplings as JSON Lines. */
static int on_batch(struct ndl_hub_conn *c, struct ndl_hub_msg *m)
{
	const unsigned char *p = ndl__hub_msg_payload(m), *end = p + m->len;

	/*
	 * Payloads go out unparsed inside eaters' text frames, which RFC 6455
	 * section 8.1 makes eaters drop unless they are UTF-8: check here,
	 * where one-per-message mode has jansson check it.
	 */
	if (!ndl__utf8_valid(p, m->len)) {
		ndl__hub_msg_unref(m);
		return reject_close(c, NDL_HUB_REJ_NOT_JSON, NDL_CLOSE_INVALID_PAYLOAD,
				    "batch is not valid UTF-8");
	}

	while (p < end && !c->close_code) {
		const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl) {
			c->bad_lines++;
			count_reject(c->hub, c, NDL_HUB_REJ_NOT_DUMPLING,
				     "batch does not end with a line feed");
			break;
		}
		on_batch_line(c, p, (size_t)(nl - p));
		p = nl + 1;
	}
	ndl__hub_msg_unref(m);
	return 0;
}

/* An eater message after the hello that is not a subscription. */
static void eater_ignored(struct ndl_hub_conn *c)
{
	c->ignored++;
	c->hub->rejections[NDL_HUB_REJ_EATER_FRAME]++;
}

/*
 * A whole eater message after the hello: {"subscribe": {...}} replaces the
 * subscription; a bad one is counted and the old one kept. Anything else is
 * ignored and counted, as netdumplings eaters never talk after the hello.
 */
static int on_eater_message(struct ndl_hub_conn *c, struct ndl_hub_msg *m)
{
	struct ndl_hub_sub sub;
	const char *why;
	json_t *j, *v;
	char label[160];
	int r;

	j = json_loadb((const char *)ndl__hub_msg_payload(m), m->len, JSON_DECODE_ANY, NULL);
	ndl__hub_msg_unref(m);
	v = json_object_get(j, "subscribe");   /* NULL when j is NULL or no object */
	if (!v) {
		json_decref(j);
		eater_ignored(c);
		return 0;
	}
	r = ndl__hub_sub_parse(&sub, v, &why);
	json_decref(j);
	if (r < 0) {
		count_reject(c->hub, c, NDL_HUB_REJ_BAD_SUBSCRIBE, why);
		return 0;
	}
	ndl__hub_sub_clear(&c->sub);
	c->sub = sub;
	ndl__hub_log(NDL_HUB_LOG_DEBUG, "%s changed its subscription",
		     conn_label(c, label, sizeof(label)));
	return 0;
}

static int on_receive(struct ndl_hub_conn *c, const void *in, size_t len)
{
	struct ndl_hub *hub = c->hub;
	struct ndl_hub_msg *m;
	size_t limit, have, remaining;

	if (c->close_code)
		return 0;   /* closing: nothing more counts */
	if (lws_frame_is_binary(c->wsi)) {
		ndl__hub_msg_unref(c->rx);
		c->rx = NULL;
		return reject_close(c, NDL_HUB_REJ_BINARY, NDL_CLOSE_UNSUPPORTED,
				    "binary frames are not accepted");
	}
	if (c->role == NDL_HUB_EATER && c->greeted && c->rx_skip) {
		if (lws_is_final_fragment(c->wsi)) {
			c->rx_skip = false;
			eater_ignored(c);
		}
		return 0;
	}

	limit = hub->cfg.max_frame;
	if ((!c->greeted || c->role == NDL_HUB_EATER) && limit > NDL_HUB_HELLO_MAX)
		limit = NDL_HUB_HELLO_MAX;
	have = c->rx ? c->rx->len : 0;
	remaining = lws_remaining_packet_payload(c->wsi);
	if (c->role == NDL_HUB_EATER && c->greeted &&
	    (len > limit - have || remaining > limit - have - len)) {
		/* Too big for a subscription: not one, so ignored as before. */
		ndl__hub_msg_unref(c->rx);
		c->rx = NULL;
		if (lws_is_final_fragment(c->wsi))
			eater_ignored(c);
		else
			c->rx_skip = true;
		return 0;
	}
	if (len > limit - have || remaining > limit - have - len) {
		ndl__hub_msg_unref(c->rx);
		c->rx = NULL;
		return reject_close(c, NDL_HUB_REJ_TOO_BIG, NDL_CLOSE_TOO_BIG,
				    c->greeted ? "message larger than --max-frame" :
				    "hello too large");
	}
	if (!c->rx) {
		/*
		 * The frame header told us its length: one allocation for most
		 * messages, but a claimed length is not trusted beyond 1 MiB.
		 */
		c->rx = ndl__hub_msg_new(len + (remaining < RX_PREALLOC_MAX ? remaining :
						RX_PREALLOC_MAX));
		if (!c->rx)
			return reject_close(c, NDL_HUB_REJ_TOO_BIG, NDL_CLOSE_TOO_BIG,
					    "out of memory for this message");
	}
	if (ndl__hub_msg_append(&c->rx, in, len) < 0) {
		ndl__hub_msg_unref(c->rx);
		c->rx = NULL;
		return reject_close(c, NDL_HUB_REJ_TOO_BIG, NDL_CLOSE_TOO_BIG,
				    "out of memory for this message");
	}
	if (!lws_is_final_fragment(c->wsi))
		return 0;

	m = c->rx;
	c->rx = NULL;
	if (!c->greeted)
		return on_hello(c, m);
	if (c->role == NDL_HUB_EATER)
		return on_eater_message(c, m);
	return c->batch ? on_batch(c, m) : on_dumpling(c, m);
}

/* ---- connection life ---- */

static void stop_step(uv_timer_t *t);

/* Connections from host, on either port, greeted or not. */
static size_t conns_from(struct ndl_hub *hub, const char *host)
{
	struct ndl_hub_link *heads[3] = { &hub->pending, &hub->greeted[0], &hub->greeted[1] };
	size_t n = 0;

	for (int h = 0; h < 3; h++)
		for (struct ndl_hub_link *l = heads[h]->next; l != heads[h]; l = l->next)
			n += !strcmp(conn_of(l)->host, host);
	return n;
}

static void rate_init(struct ndl_hub_ratelimit *rl, double rate)
{
	double burst = rate < 1.0 ? 1.0 : rate;

	*rl = (struct ndl_hub_ratelimit)NDL_HUB_RATELIMIT_INIT(rate, burst);
}

static void conn_open(struct ndl_hub_conn *c, struct ndl_hub_listener *ls, struct lws *wsi,
		      bool batch)
{
	struct ndl_hub *hub = ls->hub;
	char label[160];

	memset(c, 0, sizeof(*c));
	c->hub = hub;
	c->wsi = wsi;
	c->role = ls->role;
	c->batch = batch;
	c->connected_ns = uv_hrtime();
	rate_init(&c->rate, hub->cfg.kitchen_rate);
	ndl__hub_msgq_init(&c->q, hub->cfg.eater_queue, hub->cfg.eater_queue_bytes);
	peer_address(c);
	list_append(&hub->pending, &c->link);
	hub->nconns[c->role]++;
	ndl__hub_log(NDL_HUB_LOG_DEBUG, "new %s", conn_label(c, label, sizeof(label)));

	if (hub->stopping)
		close_soon(c, NDL_CLOSE_GOING_AWAY, "hub shutting down");
	else if (hub->nconns[c->role] > hub->cfg.max_clients) {
		count_reject(hub, c, NDL_HUB_REJ_TOO_MANY_CLIENTS, "too many connections");
		close_soon(c, 1013, "too many connections");
	} else if (hub->cfg.max_per_address &&
		   conns_from(hub, c->host) > hub->cfg.max_per_address) {
		count_reject(hub, c, NDL_HUB_REJ_TOO_MANY_FROM_ADDRESS,
			     "too many connections from this address");
		close_soon(c, 1013, "too many connections from your address");
	}
}

static void conn_close(struct ndl_hub_conn *c)
{
	struct ndl_hub *hub = c->hub;
	char label[160], code[48];

	if (!hub)
		return;
	if (c->greeted)
		hub->ngreeted[c->role]--;
	else if (!c->close_code)
		hub->rejections[NDL_HUB_REJ_NO_HELLO]++;
	list_unlink(&c->link);
	hub->nconns[c->role]--;
	set_full(c, false);
	if (hub->intake_paused)
		check_intake(hub);

	if (c->close_code)
		snprintf(code, sizeof(code), "closed by hub with %d", c->close_code);
	else if (c->peer_close_code)
		snprintf(code, sizeof(code), "code %d", c->peer_close_code);
	else
		snprintf(code, sizeof(code), "no close code");
	conn_label(c, label, sizeof(label));
	if (c->greeted && c->role == NDL_HUB_KITCHEN)
		ndl__hub_log(NDL_HUB_LOG_INFO, "%s disconnected (%s) after %llu dumplings",
			     label, code, (unsigned long long)c->dumplings_in);
	else if (c->greeted)
		ndl__hub_log(NDL_HUB_LOG_INFO,
			     "%s disconnected (%s): %llu sent, %llu dropped, %zu unsent",
			     label, code, (unsigned long long)c->sent,
			     (unsigned long long)c->dropped, c->q.count);
	else
		ndl__hub_log(NDL_HUB_LOG_DEBUG, "%s closed before its hello (%s)", label, code);

	ndl__hub_msg_unref(c->rx);
	c->rx = NULL;
	ndl__hub_msgq_clear(&c->q);
	free(c->http_body);
	c->http_body = NULL;
	ndl__hub_sub_clear(&c->sub);
	json_decref(c->hello);
	c->hello = NULL;
	c->name = NULL;
	c->hub = NULL;

	if (hub->stopping && !hub->nconns[0] && !hub->nconns[1] && !hub->destroying)
		uv_timer_start(&hub->stop_timer, stop_step, 0, 0);
}

/* ---- HTTP: origins and GET /metrics ---- */

/* A header's value into buf (NUL-terminated); NULL when absent or too long. */
static const char *header(struct lws *wsi, enum lws_token_indexes h, char *buf, int len)
{
	int n = lws_hdr_total_length(wsi, h);

	if (n <= 0 || n >= len || lws_hdr_copy(wsi, buf, len, h) < 0)
		return NULL;
	return buf;
}

/* Refuse a browser's handshake from a page the hub does not trust. */
static int origin_check(struct ndl_hub_listener *ls, struct lws *wsi)
{
	struct ndl_hub *hub = ls->hub;
	char origin[512], host[512];
	const char *o = header(wsi, WSI_TOKEN_ORIGIN, origin, sizeof(origin));

	if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) > 0 && !o)
		o = "(too long)";
	if (ndl__hub_origin_allowed(hub->cfg.allow_origins, o,
				    header(wsi, WSI_TOKEN_HOST, host, sizeof(host))))
		return 0;
	hub->rejections[NDL_HUB_REJ_ORIGIN]++;
	if (ndl__hub_ratelimit(&hub->reject_rl, uv_hrtime(), NULL))
		ndl__hub_log(NDL_HUB_LOG_INFO, "refused a %s handshake from origin '%.128s' (%s)",
			     role_names[ls->role], o, reject_names[NDL_HUB_REJ_ORIGIN]);
	/* RFC 6455 section 4.2.2: refuse with an HTTP error, here 403. */
	lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, "origin not allowed");
	return -1;
}

/* True for a plain file name: [A-Za-z0-9._-], not starting with '.'. */
static bool plain_name(const char *s)
{
	if (!*s || *s == '.' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '.' || *s == '_' || *s == '-'))
			return false;
	return true;
}

/*
 * GET /sdk/NAME: a browser SDK file, with Access-Control-Allow-Origin so
 * that a page from any origin may import it (it holds no secret; the
 * WebSocket it opens is still subject to the Origin check).
 */
static int sdk_file(struct ndl_hub *hub, struct lws *wsi, const char *name)
{
	static const char cors[] = "access-control-allow-origin: *\x0d\x0a";
	char file[PATH_MAX];
	const char *mime;
	int n;

	if (!hub->sdk_dir || !plain_name(name) ||
	    snprintf(file, sizeof(file), "%s/%s", hub->sdk_dir, name) >= (int)sizeof(file) ||
	    access(file, R_OK) < 0) {
		if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL))
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}
	mime = lws_get_mimetype(file, NULL);
	n = lws_serve_http_file(wsi, file, mime ? mime : "application/octet-stream", cors,
				(int)sizeof(cors) - 1);
	if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi)))
		return -1;
	return 0;
}

static int http_request(struct ndl_hub_listener *ls, struct ndl_hub_conn *c, struct lws *wsi)
{
	unsigned char head[LWS_PRE + 512], *start = head + LWS_PRE, *p = start,
		      *end = head + sizeof(head);
	char path[256];
	/* Through a mount, `in` is what follows the mount point: ask lws. */
	const char *uri = header(wsi, WSI_TOKEN_GET_URI, path, sizeof(path));

	if (ls->role == NDL_HUB_EATER && uri && !strncmp(uri, "/sdk/", 5))
		return sdk_file(ls->hub, wsi, uri + 5);
	if (ls->role != NDL_HUB_EATER || !ls->hub->cfg.metrics || !uri ||
	    strcmp(uri, "/metrics")) {
		if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL))
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}
	free(c->http_body);
	c->http_body = ndl__hub_metrics_build(ls->hub, &c->http_len);
	c->http_off = 0;
	if (!c->http_body) {
		lws_return_http_status(wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR, NULL);
		return -1;
	}
	if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, "text/plain; version=0.0.4",
					c->http_len, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int http_write(struct ndl_hub_conn *c, struct lws *wsi)
{
	unsigned char buf[LWS_PRE + 16384];
	size_t n;
	bool last;

	if (!c->http_body)
		return 0;
	n = c->http_len - c->http_off;
	if (n > sizeof(buf) - LWS_PRE)
		n = sizeof(buf) - LWS_PRE;
	last = c->http_off + n == c->http_len;
	memcpy(buf + LWS_PRE, c->http_body + c->http_off, n);
	if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
	    (int)n)
		return -1;
	c->http_off += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	free(c->http_body);
	c->http_body = NULL;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int hub_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			void *in, size_t len)
{
	struct ndl_hub_conn *c = user;
	const struct lws_protocols *proto;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		proto = lws_get_protocol(wsi);
		if (!proto || !proto->user)
			return -1;
		return origin_check(proto->user, wsi);

	case LWS_CALLBACK_ESTABLISHED:
		proto = lws_get_protocol(wsi);
		if (!c || !proto || !proto->user)
			return -1;
		conn_open(c, proto->user, wsi, proto->id == PROTO_BATCH);
		return 0;

	case LWS_CALLBACK_HTTP:
		proto = lws_get_protocol(wsi);
		if (!c || !proto || !proto->user)
			return -1;
		return http_request(proto->user, c, wsi);

	case LWS_CALLBACK_HTTP_WRITEABLE:
		return c ? http_write(c, wsi) : -1;

	case LWS_CALLBACK_CLOSED_HTTP:
		if (c) {
			free(c->http_body);
			c->http_body = NULL;
		}
		break;

	case LWS_CALLBACK_RECEIVE:
		if (!c || !c->hub)
			return -1;
		return on_receive(c, in, len);

	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!c || !c->hub)
			return 0;
		c->write_asked = false;
		/* A close lws already sent must not go out twice (RFC 6455 5.5.1). */
		if (c->close_code)
			return c->close_by_lws ? -1 : send_close(c);
		if (c->role == NDL_HUB_EATER && c->greeted)
			return eater_write(c);
		return 0;

	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		/* RFC 6455 section 5.5.1: the body starts with a 2-byte code. */
		if (c && c->hub && len >= 2) {
			const unsigned char *p = in;

			c->peer_close_code = (p[0] << 8) | p[1];
		}
		return 0;

	case LWS_CALLBACK_CLOSED:
	case LWS_CALLBACK_WSI_DESTROY:
		if (c) {
			conn_close(c);
			free(c->http_body);
			c->http_body = NULL;
		}
		return 0;

	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- timers ---- */

static void status_tick(uv_timer_t *t)
{
	struct ndl_hub *hub = t->data;
	struct ndl_hub_msg *m;

	if (hub->stopping)
		return;
	m = ndl__hub_status_build(hub);
	if (!m) {
		ndl__hub_log(NDL_HUB_LOG_ERR, "out of memory building the status dumpling");
		return;
	}
	fan_out(hub, m, NDL_STATUS_CHEF, NULL, NDL_DRIVER_NAME_INTERVAL);
	ndl__hub_msg_unref(m);
}

static void house_tick(uv_timer_t *t)
{
	struct ndl_hub *hub = t->data;
	uint64_t now = uv_hrtime();
	uint64_t limit_ns = (uint64_t)(hub->cfg.hello_timeout * 1e9);

	if (hub->stopping)
		return;
	if (hub->intake_paused)
		check_intake(hub);    /* ends a pause that went on too long */
	/*
	 * Should lws ever let a WRITEABLE request lapse, ask_writable() would
	 * wait forever: once a second, ask again for eaters with work.
	 */
	for (struct ndl_hub_link *l = hub->greeted[NDL_HUB_EATER].next;
	     l != &hub->greeted[NDL_HUB_EATER]; l = l->next) {
		struct ndl_hub_conn *e = conn_of(l);

		if (e->q.count || e->missed || e->close_code) {
			e->write_asked = false;
			ask_writable(e);
		}
	}
	if (hub->cfg.hello_timeout <= 0)
		return;
	for (struct ndl_hub_link *l = hub->pending.next; l != &hub->pending; l = l->next) {
		struct ndl_hub_conn *c = conn_of(l);

		if (c->close_code || now - c->connected_ns < limit_ns)
			continue;
		count_reject(hub, c, NDL_HUB_REJ_HELLO_TIMEOUT, "no hello in time");
		close_soon(c, NDL_CLOSE_POLICY, "no hello in time");
	}
}

/* ---- set-up ---- */

static int resolve(struct ndl_hub *hub, char *err, size_t errlen)
{
	struct addrinfo hints = { 0 }, *res, *ai;
	int r, pass;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(hub->cfg.address, NULL, &hints, &res);
	if (r) {
		snprintf(err, errlen, "cannot resolve address '%s': %s", hub->cfg.address,
			 gai_strerror(r));
		return -EADDRNOTAVAIL;
	}
	/* IPv4 first, then IPv6; each distinct address once. */
	for (pass = 0; pass < 2; pass++) {
		for (ai = res; ai; ai = ai->ai_next) {
			char host[NDL_HUB_HOST_LEN];
			int dup = 0;

			if (ai->ai_family != (pass ? AF_INET6 : AF_INET))
				continue;
			if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), NULL, 0,
					NI_NUMERICHOST))
				continue;
			for (int i = 0; i < hub->naddrs; i++)
				dup |= !strcmp(hub->addrs[i], host);
			if (dup || hub->naddrs == NDL_HUB_MAX_ADDRS)
				continue;
			snprintf(hub->addrs[hub->naddrs++], NDL_HUB_HOST_LEN, "%s", host);
		}
	}
	freeaddrinfo(res);
	if (!hub->naddrs) {
		snprintf(err, errlen, "address '%s' has no IPv4 or IPv6 address",
			 hub->cfg.address);
		return -EADDRNOTAVAIL;
	}
	return 0;
}

/* Why a bind to host:port fails, found by trying it (lws only logs it). */
static int probe_bind(const char *host, int port)
{
	struct addrinfo hints = { 0 }, *res;
	char serv[8];
	int fd, r = 0, one = 1;

	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(serv, sizeof(serv), "%d", port);
	if (getaddrinfo(host, serv, &hints, &res))
		return -EADDRNOTAVAIL;
	fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd < 0) {
		r = -errno;
		goto free_res;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 1) < 0)
		r = -errno;
	close(fd);
free_res:
	freeaddrinfo(res);
	return r;
}

/* A folder that can be served, or NULL (said once, at debug level). */
static const char *servable(const char *dir, const char *what)
{
	if (dir && access(dir, R_OK | X_OK) < 0) {
		ndl__hub_log(NDL_HUB_LOG_DEBUG, "not serving the %s: %s: %s", what, dir,
			     strerror(errno));
		return NULL;
	}
	return dir;
}

/*
 * The eater port's HTTP side: GET /metrics goes to hub_callback, the
 * browser SDK and the dashboard are files lws serves from their folders.
 * Returns the first mount (a chain in ls->mounts), or NULL for none.
 */
static const struct lws_http_mount *eater_mounts(struct ndl_hub *hub,
						 struct ndl_hub_listener *ls)
{
	const char *www, *sdk;

	/* lws keeps pointing at the folders: they must outlive a reload. */
	if (!hub->www_dir && hub->cfg.www_dir)
		hub->www_dir = strdup(hub->cfg.www_dir);
	if (!hub->sdk_dir && hub->cfg.sdk_dir)
		hub->sdk_dir = strdup(hub->cfg.sdk_dir);
	www = servable(hub->www_dir, "dashboard");
	sdk = servable(hub->sdk_dir, "browser SDK");
	const struct lws_http_mount *next = NULL;
	struct lws_http_mount *m;
	int n = 0;

	if (www) {
		m = &ls->mounts[n++];
		m->mountpoint = "/";
		m->mountpoint_len = 1;
		m->origin = www;
		m->def = "index.html";
		m->origin_protocol = LWSMPRO_FILE;
		m->mount_next = next;
		next = m;
	}
	if (sdk) {
		/* Ours, not a file mount: other origins' pages import the SDK. */
		m = &ls->mounts[n++];
		m->mountpoint = "/sdk";
		m->mountpoint_len = 4;
		m->origin = NDL_SUBPROTOCOL;
		m->origin_protocol = LWSMPRO_CALLBACK;
		m->mount_next = next;
		next = m;
	}
	if (hub->cfg.metrics && next) {
		/* Only needed beside a file mount: without one, hub_callback gets all. */
		m = &ls->mounts[n++];
		m->mountpoint = "/metrics";
		m->mountpoint_len = 8;
		m->origin = NDL_SUBPROTOCOL;
		m->origin_protocol = LWSMPRO_CALLBACK;
		m->mount_next = next;
		next = m;
	}
	return next;
}

static int listen_on(struct ndl_hub *hub, enum ndl_hub_role role, const char *host, int port,
		     char *err, size_t errlen)
{
	struct ndl_hub_listener *ls = &hub->listeners[hub->nlisteners];
	struct lws_context_creation_info vi;
	char name[96], hp[NDL_HUB_HOST_LEN + 10];
	int bound, r;

	memset(ls, 0, sizeof(*ls));
	ls->hub = hub;
	ls->role = role;
	/*
	 * netdumplings uses no subprotocol: lws binds such clients to the
	 * vhost's first protocol. lws 4.1 refuses a client that offers only
	 * subprotocols it does not know, so the name is one a client may
	 * offer: "netdumplings".
	 */
	for (int i = 0; i < 2; i++) {
		ls->protocols[i].name = i == PROTO_BATCH ? NDL_SUBPROTOCOL_BATCH : NDL_SUBPROTOCOL;
		ls->protocols[i].callback = hub_callback;
		ls->protocols[i].per_session_data_size = sizeof(struct ndl_hub_conn);
		ls->protocols[i].rx_buffer_size = 65536;
		ls->protocols[i].id = (unsigned)i;
		ls->protocols[i].user = ls;
	}

	memset(&vi, 0, sizeof(vi));
	if (role == NDL_HUB_EATER)
		vi.mounts = eater_mounts(hub, ls);
	snprintf(name, sizeof(name), "%ss-%d", role_names[role], hub->nlisteners);
	vi.vhost_name = name;
	vi.iface = host;
	vi.port = port;
	vi.protocols = ls->protocols;
	if (hub->cfg.tls_cert) {
		vi.ssl_cert_filepath = hub->cfg.tls_cert;
		vi.ssl_private_key_filepath = hub->cfg.tls_key;
		/* wss only: a plain client gets a failed handshake, not data. */
		vi.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	}
	if (!strchr(host, ':'))
		vi.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	else
		vi.options |= LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY |
			      LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE;

	ls->vh = lws_create_vhost(hub->lws, &vi);
	if (!ls->vh) {
		r = probe_bind(host, port);
		snprintf(err, errlen, "cannot listen for %ss on %s: %s", role_names[role],
			 hostport(hp, sizeof(hp), host, port),
			 r ? strerror(-r) : hub->cfg.tls_cert ?
			 "the TLS certificate or key was refused (not PEM, or not a pair?)" :
			 "libwebsockets refused the listener");
		return r ? r : -EIO;
	}
	hub->nlisteners++;
	bound = lws_get_vhost_listen_port(ls->vh);
	return bound > 0 ? bound : port;
}

static void lws_log_line(int level, const char *line)
{
	size_t n = strlen(line);

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	ndl__hub_log(NDL_HUB_LOG_DEBUG, "lws: %.*s", (int)n, line);
}

static void handle_closed(uv_handle_t *h)
{
	struct ndl_hub *hub = h->data;

	if (--hub->open_handles == 0 && !hub->done_called) {
		hub->done_called = true;
		if (hub->done)
			hub->done(hub->done_arg);
	}
}

static void finish(struct ndl_hub *hub)
{
	uv_timer_stop(&hub->stop_timer);
	uv_close((uv_handle_t *)&hub->status_timer, handle_closed);
	uv_close((uv_handle_t *)&hub->house_timer, handle_closed);
	uv_close((uv_handle_t *)&hub->stop_timer, handle_closed);
}

static void lws_gone(struct ndl__ws_teardown *t, int status)
{
	struct ndl_hub *hub = t->data;

	if (status < 0)
		ndl__hub_log(NDL_HUB_LOG_ERR, "libwebsockets did not shut down within %d ms",
			     TEARDOWN_MS);
	finish(hub);
}

static void stop_step(uv_timer_t *t)
{
	struct ndl_hub *hub = t->data;

	if (hub->destroying)
		return;
	hub->destroying = true;
	if (hub->nconns[0] || hub->nconns[1])
		ndl__hub_log(NDL_HUB_LOG_DEBUG, "%zu connections did not close in time",
			     hub->nconns[0] + hub->nconns[1]);
	hub->teardown.data = hub;
	if (ndl__ws_teardown_start(&hub->teardown, hub->loop, &hub->lws, TEARDOWN_MS,
				   lws_gone) < 0)
		finish(hub);
}

static int check_tls_files(const struct ndl_hub_config *cfg, char *err, size_t errlen)
{
	const char *files[2] = { cfg->tls_cert, cfg->tls_key };

	if (!cfg->tls_cert != !cfg->tls_key) {
		snprintf(err, errlen, "TLS needs both a certificate (--tls-cert) and a key"
			 " (--tls-key)");
		return -EINVAL;
	}
	for (int i = 0; i < 2 && cfg->tls_cert; i++) {
		if (access(files[i], R_OK) < 0) {
			int r = -errno;

			snprintf(err, errlen, "cannot read TLS %s %s: %s", i ? "key" : "certificate",
				 files[i], strerror(-r));
			return r;
		}
	}
	return cfg->tls_cert ? ndl__hub_tls_check(cfg->tls_cert, cfg->tls_key, err, errlen) : 0;
}

/* Read both roles' token files into out[2] (all or nothing). */
static int load_tokens(const struct ndl_hub_config *cfg,
		       struct ndl_hub_tokens out[2], char *err, size_t errlen)
{
	const char *files[2] = { cfg->kitchen_token_file, cfg->eater_token_file };
	struct ndl_hub_tokens t[2] = { { 0 }, { 0 } };
	int r;

	for (int role = 0; role < 2; role++) {
		if (!files[role])
			continue;
		r = ndl__hub_tokens_load(&t[role], files[role], err, errlen);
		if (r < 0) {
			ndl__hub_tokens_clear(&t[0]);
			return r;
		}
	}
	for (int role = 0; role < 2; role++) {
		ndl__hub_tokens_clear(&out[role]);
		out[role] = t[role];
	}
	return 0;
}

struct ndl_hub *ndl_hub_new(uv_loop_t *loop, const struct ndl_hub_config *cfg)
{
	struct ndl_hub *hub;

	hub = calloc(1, sizeof(*hub));
	if (!hub)
		return NULL;
	hub->loop = loop;
	hub->cfg = *cfg;
	hub->start_ns = uv_hrtime();
	list_init(&hub->pending);
	list_init(&hub->greeted[0]);
	list_init(&hub->greeted[1]);
	hub->reject_rl = (struct ndl_hub_ratelimit)NDL_HUB_RATELIMIT_INIT(5.0, 20.0);

	uv_timer_init(loop, &hub->status_timer);
	uv_timer_init(loop, &hub->house_timer);
	uv_timer_init(loop, &hub->stop_timer);
	hub->status_timer.data = hub->house_timer.data = hub->stop_timer.data = hub;
	hub->open_handles = 3;
	return hub;
}

int ndl_hub_start(struct ndl_hub *hub, char *err, size_t errlen)
{
	const struct ndl_hub_config *cfg = &hub->cfg;
	struct lws_context_creation_info ci;
	void *loops[1];
	char dummy[8];
	int r;

	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (hub->started || hub->stopping) {
		snprintf(err, errlen, "hub already started");
		return -EALREADY;
	}

	r = check_tls_files(cfg, err, errlen);
	if (r < 0)
		goto fail;
	r = load_tokens(cfg, hub->tokens, err, errlen);
	if (r < 0)
		goto fail;
	r = resolve(hub, err, errlen);
	if (r < 0)
		goto fail;

	lws_set_log_level(ndl__hub_log_level() >= NDL_HUB_LOG_DEBUG ?
			  LLL_ERR | LLL_WARN | LLL_NOTICE : 0, lws_log_line);
	memset(&ci, 0, sizeof(ci));
	ci.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	/* Read kitchens 64 KiB at a time, not lws' default 4 KiB. */
	ci.pt_serv_buf_size = PT_SERV_BUF;
	if (cfg->tls_cert)
		ci.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	loops[0] = hub->loop;
	ci.foreign_loops = loops;
	ci.pcontext = &hub->lws;
	hub->lws = lws_create_context(&ci);
	if (!hub->lws) {
		snprintf(err, errlen, "cannot start libwebsockets with the libuv event library"
			 " (is libwebsockets-evlib-uv installed?)");
		r = -ENOTSUP;
		goto fail;
	}

	for (int role = 0; role < 2; role++) {
		int port = role == NDL_HUB_KITCHEN ? cfg->in_port : cfg->out_port;

		for (int i = 0; i < hub->naddrs; i++) {
			char sub[256];

			r = listen_on(hub, role, hub->addrs[i], i ? hub->ports[role] : port,
				      i ? sub : err, i ? sizeof(sub) : errlen);
			if (r < 0 && !i)
				goto fail;
			if (r < 0) {
				ndl__hub_log(NDL_HUB_LOG_INFO, "warning: %s", sub);
				continue;
			}
			if (!i)
				hub->ports[role] = r;
		}
	}

	hub->started = true;
	uv_timer_start(&hub->status_timer, status_tick, 0,
		       (uint64_t)(cfg->status_freq * 1000.0 + 0.5));
	uv_timer_start(&hub->house_timer, house_tick, 1000, 1000);
	return 0;

fail:
	hub->stopping = true;
	return r;
}

void ndl_hub_shutdown(struct ndl_hub *hub, void (*done)(void *arg), void *arg)
{
	if (!hub || hub->shutdown_called)
		return;
	hub->shutdown_called = true;
	hub->done = done;
	hub->done_arg = arg;
	hub->stopping = true;
	uv_timer_stop(&hub->status_timer);
	uv_timer_stop(&hub->house_timer);
	if (!hub->nconns[0] && !hub->nconns[1]) {
		uv_timer_start(&hub->stop_timer, stop_step, 0, 0);
		return;
	}
	ndl__hub_log(NDL_HUB_LOG_DEBUG, "closing %zu connections",
		     hub->nconns[0] + hub->nconns[1]);
	for (int role = 0; role < 2; role++) {
		struct ndl_hub_link *heads[2] = { &hub->pending, &hub->greeted[role] };

		for (int h = 0; h < 2; h++)
			for (struct ndl_hub_link *l = heads[h]->next; l != heads[h]; l = l->next)
				close_soon(conn_of(l), NDL_CLOSE_GOING_AWAY, "hub shutting down");
	}
	uv_timer_start(&hub->stop_timer, stop_step, NDL_HUB_SHUTDOWN_GRACE_MS, 0);
}

void ndl_hub_free(struct ndl_hub *hub)
{
	if (!hub)
		return;
	ndl__hub_tokens_clear(&hub->tokens[0]);
	ndl__hub_tokens_clear(&hub->tokens[1]);
	free(hub->www_dir);
	free(hub->sdk_dir);
	free(hub->scratch);
	free(hub);
}

int ndl_hub_reconfigure(struct ndl_hub *hub, const struct ndl_hub_config *cfg, char *err,
			size_t errlen)
{
	const struct ndl_hub_config *old = &hub->cfg;
	struct ndl_hub_tokens tokens[2] = { { 0 }, { 0 } };
	char dummy[8];
	int r;

	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (strcmp(cfg->address, old->address) ||
	    (cfg->in_port && cfg->in_port != hub->ports[NDL_HUB_KITCHEN]) ||
	    (cfg->out_port && cfg->out_port != hub->ports[NDL_HUB_EATER])) {
		snprintf(err, errlen, "the address and ports cannot change while running");
		return -EINVAL;
	}
	if (!cfg->tls_cert != !old->tls_cert ||
	    (cfg->tls_cert && (strcmp(cfg->tls_cert, old->tls_cert) ||
			       strcmp(cfg->tls_key, old->tls_key)))) {
		snprintf(err, errlen, "TLS cannot change while running");
		return -EINVAL;
	}
	r = load_tokens(cfg, tokens, err, errlen);
	if (r < 0)
		return r;
	for (int role = 0; role < 2; role++) {
		ndl__hub_tokens_clear(&hub->tokens[role]);
		hub->tokens[role] = tokens[role];
	}
	if (cfg->status_freq != old->status_freq && hub->started && !hub->stopping)
		uv_timer_start(&hub->status_timer, status_tick,
			       (uint64_t)(cfg->status_freq * 1000.0 + 0.5),
			       (uint64_t)(cfg->status_freq * 1000.0 + 0.5));
	hub->cfg = *cfg;
	/* Existing connections take the new limits from their next dumpling. */
	for (int role = 0; role < 2; role++)
		for (struct ndl_hub_link *l = hub->greeted[role].next; l != &hub->greeted[role];
		     l = l->next) {
			struct ndl_hub_conn *c = conn_of(l);

			c->q.max_count = cfg->eater_queue;
			c->q.max_bytes = cfg->eater_queue_bytes;
			rate_init(&c->rate, cfg->kitchen_rate);
		}
	return 0;
}

int ndl_hub_in_port(const struct ndl_hub *hub)
{
	return hub->ports[NDL_HUB_KITCHEN];
}

int ndl_hub_out_port(const struct ndl_hub *hub)
{
	return hub->ports[NDL_HUB_EATER];
}

const char *ndl_hub_address(const struct ndl_hub *hub, int i)
{
	return i >= 0 && i < hub->naddrs ? hub->addrs[i] : NULL;
}
