/* SPDX-License-Identifier: MIT */
/*
 * ws.c - closing WebSocket connections with our own code and destroying the
 * libwebsockets context on a foreign libuv loop (see ws.h for why lws 4.1
 * needs both done by hand).
 *
 * A close frame's body (RFC 6455 section 5.5.1):
 *
 *    0               1               2 ...                  <= 125
 *   +---------------+---------------+---------------------------+
 *   |  status code (network order)  |  reason, UTF-8, optional  |
 *   +---------------+---------------+---------------------------+
 */
#include <errno.h>
#include <string.h>

#include <libwebsockets.h>

#include "ws.h"

/* lws' LWS_WRITE_CLOSE, left out of lws-write.h's enum (see ws.h). */
#define WRITE_CLOSE ((enum lws_write_protocol)4)

size_t ndl__ws_text_header(unsigned char *hdr, size_t len)
{
	size_t n = 0;

	hdr[n++] = 0x81;   /* FIN, opcode 1 (text) */
	if (len < 126) {
		hdr[n++] = (unsigned char)len;
	} else if (len <= 0xFFFF) {
		hdr[n++] = 126;
		hdr[n++] = (unsigned char)(len >> 8);
		hdr[n++] = (unsigned char)len;
	} else {
		hdr[n++] = 127;
		for (int i = 7; i >= 0; i--)
			hdr[n++] = (unsigned char)((uint64_t)len >> (8 * i));
	}
	return n;
}

void ndl__ws_mask(unsigned char *p, size_t len, const uint8_t key[4])
{
	const uint8_t k[8] = { key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3] };
	uint64_t k8;
	size_t i = 0;

	memcpy(&k8, k, sizeof(k8));   /* every word starts at a multiple of 4 */
	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		w ^= k8;
		memcpy(p + i, &w, 8);
	}
	for (; i < len; i++)
		p[i] ^= key[i % 4];
}

unsigned char *ndl__ws_text_frame(unsigned char *payload, size_t len, const uint8_t *mask)
{
	unsigned char hdr[NDL__WS_HEADER_MAX];
	size_t n = ndl__ws_text_header(hdr, len);

	if (mask) {
		hdr[1] |= 0x80;   /* MASK */
		memcpy(hdr + n, mask, 4);
		n += 4;
		ndl__ws_mask(payload, len, mask);
	}
	memcpy(payload - n, hdr, n);
	return payload - n;
}

int ndl__ws_close_code_valid(unsigned code)
{
	return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
	       (code >= 3000 && code <= 4999);
}

int ndl__ws_close_payload(unsigned char out[NDL__WS_CLOSE_PAYLOAD_MAX], uint16_t code,
			  const char *reason)
{
	size_t n = reason ? strlen(reason) : 0;

	if (!ndl__ws_close_code_valid(code))
		return -EINVAL;
	if (n > NDL__WS_CLOSE_REASON_MAX) {
		/* Cut before a continuation byte (10xxxxxx): RFC 3629 section 3. */
		n = NDL__WS_CLOSE_REASON_MAX;
		while (n && ((unsigned char)reason[n] & 0xc0) == 0x80)
			n--;
	}
	out[0] = (unsigned char)(code >> 8);
	out[1] = (unsigned char)(code & 0xff);
	if (n)
		memcpy(out + 2, reason, n);
	return (int)n + 2;
}

unsigned ndl__ws_close_parse(const void *body, size_t len, char *reason, size_t reason_size)
{
	const unsigned char *p = body;
	size_t n;

	if (reason_size)
		reason[0] = '\0';
	if (len < 2)
		return NDL__WS_CLOSE_NO_STATUS;
	if (reason_size) {
		n = len - 2 < reason_size - 1 ? len - 2 : reason_size - 1;
		memcpy(reason, p + 2, n);
		reason[n] = '\0';
	}
	return (unsigned)p[0] << 8 | p[1];
}

int ndl__ws_close(struct lws *wsi, uint16_t code, const char *reason)
{
	unsigned char buf[LWS_PRE + NDL__WS_CLOSE_PAYLOAD_MAX];
	int n;

	n = ndl__ws_close_payload(buf + LWS_PRE, code, reason);
	if (n < 0)
		return n;
	if (lws_write(wsi, buf + LWS_PRE, (size_t)n, WRITE_CLOSE) < n)
		return -EIO;
	return 0;
}

/* ---- teardown ---- */

static void count_closing(uv_handle_t *h, void *arg)
{
	if (uv_is_closing(h))
		(*(int *)arg)++;
}

static void teardown_closed(uv_handle_t *h)
{
	struct ndl__ws_teardown *t = h->data;

	t->done(t, t->status);   /* may free t: nothing after */
}

/* One step a tick: destroy again only once the loop has run every close. */
static void teardown_step(uv_timer_t *timer)
{
	struct ndl__ws_teardown *t = timer->data;
	uv_loop_t *loop = timer->loop;

	if (*t->pctx) {
		int closing = 0;

		if (t->deadline && uv_now(loop) >= t->deadline) {
			t->status = -ETIMEDOUT;
			goto finish;
		}
		uv_walk(loop, count_closing, &closing);
		if (closing)
			return;
		lws_context_destroy(*t->pctx);
		if (*t->pctx)
			return;
	}
finish:
	uv_timer_stop(timer);
	uv_close((uv_handle_t *)timer, teardown_closed);
}

int ndl__ws_teardown_start(struct ndl__ws_teardown *t, uv_loop_t *loop,
			   struct lws_context **pctx, uint64_t timeout_ms,
			   ndl__ws_teardown_cb done)
{
	void *data;
	int r;

	if (!t || !loop || !pctx || !done)
		return -EINVAL;
	data = t->data;
	memset(t, 0, sizeof(*t));
	t->data = data;
	t->pctx = pctx;
	t->done = done;
	r = uv_timer_init(loop, &t->timer);
	if (r < 0)
		return r;
	t->timer.data = t;
	if (timeout_ms)
		t->deadline = uv_now(loop) + timeout_ms;
	/*
	 * Every millisecond rather than every loop turn: the loop then sleeps
	 * in between. A timer started from a timer callback may run in the
	 * same pass, before the closes of the caller's handles; the first step
	 * then simply waits for them.
	 */
	uv_timer_start(&t->timer, teardown_step, 0, 1);
	return 0;
}
