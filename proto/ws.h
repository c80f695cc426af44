/* SPDX-License-Identifier: MIT */
/*
 * ws.h - what the hub, the kitchen and the eater SDK share about running
 * libwebsockets 4.1 on a foreign libuv loop: closing a connection with a
 * code of our choosing, and destroying the lws context.
 *
 * Internal (ndl__): linked statically into nd-hub, nd-sniff and, hidden,
 * into libndleater. Everything here runs on the loop's thread.
 */
#ifndef NDL_PROTO_WS_H
#define NDL_PROTO_WS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct lws;
struct lws_context;

/* RFC 6455 section 5.5: a control frame carries at most 125 bytes. */
#define NDL__WS_CLOSE_PAYLOAD_MAX 125
/* Section 5.5.1: two of them are the status code, the rest the reason. */
#define NDL__WS_CLOSE_REASON_MAX (NDL__WS_CLOSE_PAYLOAD_MAX - 2)
/* Section 7.4.1: "no status code present"; never sent, only reported. */
#define NDL__WS_CLOSE_NO_STATUS 1005

/*
 * True when code may be sent in a close frame (RFC 6455 section 7.4): the
 * codes IANA registered for endpoints to send (1000-1003, 1007-1014) and
 * the ones left to libraries and applications (3000-4999). 1004, 1005,
 * 1006 and 1015 are never sent. Pure; any thread.
 */
int ndl__ws_close_code_valid(unsigned code);

/*
 * Encode the body of a close frame (RFC 6455 section 5.5.1) into out: code
 * in network byte order, then reason (NULL means none) cut to at most
 * NDL__WS_CLOSE_REASON_MAX bytes, and never inside a UTF-8 sequence, since
 * the reason must stay valid UTF-8 (section 5.5.1). Returns the body's
 * length (2 to NDL__WS_CLOSE_PAYLOAD_MAX), or -EINVAL when code may not be
 * sent (ndl__ws_close_code_valid). Writes nothing else; any thread.
 */
int ndl__ws_close_payload(unsigned char out[NDL__WS_CLOSE_PAYLOAD_MAX], uint16_t code,
			  const char *reason);

/*
 * Read the body of a close frame the peer sent (as lws hands it to
 * LWS_CALLBACK_WS_PEER_INITIATED_CLOSE). Returns its status code, or
 * NDL__WS_CLOSE_NO_STATUS when the body is shorter than a code. When
 * reason_size > 0, copies the reason into reason, cut to reason_size - 1
 * bytes and NUL-terminated ("" when there is none). Any thread.
 */
unsigned ndl__ws_close_parse(const void *body, size_t len, char *reason, size_t reason_size);

/* The longest frame header (RFC 6455 section 5.2): 2 bytes, a 64-bit
 * length, and a masking key. */
#define NDL__WS_HEADER_MAX 14

/*
 * Frame len payload bytes that lie at payload as one final text frame
 * (RFC 6455 section 5.2), for sending whole with lws_write(...,
 * LWS_WRITE_RAW): writes the header into the NDL__WS_HEADER_MAX bytes
 * before payload, and with a mask (a client's frames, section 5.3: 4
 * bytes from a strong random source) masks the payload in place.
 * Returns where the frame starts (payload minus the header's length).
 * Any thread.
 */
unsigned char *ndl__ws_text_frame(unsigned char *payload, size_t len, const uint8_t *mask);

/* The header alone, unmasked, into hdr (at most 10 bytes): returns its
 * length. For frames built back to back in one buffer. Any thread. */
size_t ndl__ws_text_header(unsigned char *hdr, size_t len);

/* XOR p[0..len) with the 4-byte key repeated (RFC 6455 section 5.3), a
 * word at a time (lws does it a byte at a time). Twice restores p. */
void ndl__ws_mask(unsigned char *p, size_t len, const uint8_t key[4]);

/*
 * Send a close frame with code and reason on wsi. Call it only from wsi's
 * WRITEABLE callback (lws_write's rule), on the loop thread.
 *
 * Why not lws_close_reason() and returning -1: lws 4.1 sends that frame
 * when a RECEIVE callback returns -1, but a WRITEABLE callback returning -1
 * marks the socket dead and hangs up without a frame, and a connection
 * killed by its lws timeout gets none either. So a close decided outside
 * RECEIVE (timers, shutdown, a finished kitchen) is written here with
 * lws_write() and lws' close opcode, which lws-write.h leaves out of its
 * public enum but which is 4 in every lws release.
 *
 * After it the caller chooses: return -1 from the callback to hang up at
 * once, or return 0 and wait, with its own bound, for the peer's answering
 * close (section 5.5.1), which lws reports and completes.
 * Returns 0; -EINVAL for a code that may not be sent; -EIO when lws did not
 * take the whole frame (the connection is failing: return -1).
 */
int ndl__ws_close(struct lws *wsi, uint16_t code, const char *reason);

struct ndl__ws_teardown;

/* Runs once teardown is over; status is 0 or -ETIMEDOUT. */
typedef void (*ndl__ws_teardown_cb)(struct ndl__ws_teardown *t, int status);

/*
 * The state of one lws context being destroyed. The caller allocates it
 * (usually inside its own struct) and leaves the fields alone, but data.
 */
struct ndl__ws_teardown {
	void *data;                   /* the caller's; never touched */
	/* private */
	uv_timer_t timer;
	struct lws_context **pctx;
	uint64_t deadline;            /* loop time in ms; 0: no limit */
	int status;
	ndl__ws_teardown_cb done;
};

/*
 * Destroy the lws context *pctx, which runs on loop, without blocking the
 * loop.
 *
 * pctx must be the very pointer given to lws as info.pcontext when the
 * context was created: lws writes NULL through it when it is done. On a
 * foreign loop lws 4.1 needs several lws_context_destroy() calls for that:
 * the first closes every connection and lws' own uv handles, the later ones
 * free the vhosts, then the context, and unload the libuv event-lib plugin.
 * The close callbacks of lws' handles live in that plugin, so each call
 * waits until no handle on the loop is closing any more; calling again at
 * once would leave libuv calling into an unloaded library. A uv timer of
 * t's, ticking every millisecond, paces the calls; the first comes from it
 * too, so this may be called anywhere on the loop thread, inside lws
 * callbacks included.
 *
 * Once *pctx is NULL, or timeout_ms (0: no limit) has passed, t closes its
 * timer and then calls done(t, status) exactly once, on the loop thread,
 * from that timer's close callback (never from within this call). status
 * is 0, or -ETIMEDOUT when lws did not let go in time: its context is then
 * leaked rather than destroyed under a live handle, and t calls lws no more.
 * A *pctx that is already NULL just leads to done(t, 0).
 *
 * Ownership: the context passes to t; until done runs, the caller keeps t
 * and *pctx in place, keeps the loop running and calls no lws function on
 * the context. done may free t.
 *
 * Returns 0, or -EINVAL (NULL t, loop, pctx or done), in which case done
 * never runs.
 */
int ndl__ws_teardown_start(struct ndl__ws_teardown *t, uv_loop_t *loop,
			   struct lws_context **pctx, uint64_t timeout_ms,
			   ndl__ws_teardown_cb done);

#endif /* NDL_PROTO_WS_H */
