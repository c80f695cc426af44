/* SPDX-License-Identifier: MIT */
/*
 * bws.h - the small WebSocket client (RFC 6455) the fan-out benchmark's
 * load programs share. It is built for throughput, not generality: the
 * opening handshake is blocking (it happens before anything is measured),
 * after which the socket is non-blocking and the caller drives it from its
 * own epoll loop. Frames are parsed straight out of one receive buffer, so
 * an unfragmented message is handed over without a copy.
 *
 * Not a library: linked into nd-bench-kitchen and nd-bench-eaters only.
 * Single-threaded: every function runs on the caller's thread.
 */
#ifndef NDL_BENCH_BWS_H
#define NDL_BENCH_BWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 6455 section 5.2 opcodes. */
#define NDL__BWS_OP_CONT  0x0
#define NDL__BWS_OP_TEXT  0x1
#define NDL__BWS_OP_BIN   0x2
#define NDL__BWS_OP_CLOSE 0x8
#define NDL__BWS_OP_PING  0x9
#define NDL__BWS_OP_PONG  0xA

/* Longest frame header a client writes: 2 + 8 (length) + 4 (mask key). */
#define NDL__BWS_HEADER_MAX 14

/* Largest message reassembled; a larger one is a protocol error here. */
#define NDL__BWS_MESSAGE_MAX (64u * 1024u * 1024u)

/*
 * Called once per complete text message; data is borrowed until the call
 * returns. now_ns is CLOCK_MONOTONIC at the read that completed it.
 */
typedef void ndl__bws_message_fn(void *arg, const unsigned char *data, size_t len,
				 uint64_t now_ns);

/* The receiving half of one connection. */
struct ndl__bws_rx {
	unsigned char *buf;     /* bytes read and not yet parsed: buf[0..len) */
	size_t len, cap;
	unsigned char *msg;     /* a fragmented message being reassembled */
	size_t msg_len, msg_cap;
	bool in_msg;            /* a text message began and has not ended */
	bool closed;            /* the peer's close frame arrived */
	unsigned close_code;    /* its status code, 1005 when it had none */
	uint64_t bytes;         /* bytes read since the handshake */
};

/*
 * Set up rx with a receive buffer of cap bytes (it grows, up to
 * NDL__BWS_MESSAGE_MAX, for larger frames). Returns 0 or -ENOMEM.
 */
int ndl__bws_rx_init(struct ndl__bws_rx *rx, size_t cap);

/* Release what rx holds. Safe on a zeroed or already released rx. */
void ndl__bws_rx_free(struct ndl__bws_rx *rx);

/*
 * Open a TCP connection to host:port and do the client's opening handshake
 * (RFC 6455 section 4.1) for path "/". offer, when not NULL or empty, is
 * sent as Sec-WebSocket-Protocol (a comma-separated list). The server's
 * Sec-WebSocket-Accept is checked (section 4.2.2, SHA-1 of the key and the
 * GUID). On success returns the socket, now non-blocking with TCP_NODELAY,
 * and writes the subprotocol the server chose into proto ("" for none);
 * bytes that arrived after the handshake's end are put into rx, which must
 * be initialised. On failure returns a negative errno and writes a
 * one-line reason into err.
 */
int ndl__bws_connect(const char *host, int port, const char *offer, char *proto,
		     size_t protolen, struct ndl__bws_rx *rx, char *err, size_t errlen);

/*
 * Write one masked client frame (section 5.3) of opcode with len payload
 * bytes into out, which must have room for NDL__BWS_HEADER_MAX + len bytes:
 * the header, a masking key drawn from *rng, and the payload masked while
 * copied. Returns the number of bytes written.
 */
size_t ndl__bws_frame(unsigned char *out, int opcode, const void *payload, size_t len,
		      uint64_t *rng);

/*
 * Write all of buf to the non-blocking socket fd, waiting with poll() for
 * room when needed (used for small control frames and hellos only).
 * Returns 0 or a negative errno.
 */
int ndl__bws_write_all(int fd, const void *buf, size_t len);

/*
 * Read once from fd into rx and hand every complete text message to fn.
 * Pings are answered with pongs; a close frame is answered with a close
 * frame holding the same code, and sets rx->closed. Returns the number of
 * bytes read (0 when the socket had nothing: EAGAIN), -ECONNRESET when the
 * peer closed the TCP connection, -EPROTO on a frame this client does not
 * accept (binary data, a message over NDL__BWS_MESSAGE_MAX), or another
 * negative errno from read().
 */
long ndl__bws_read(int fd, struct ndl__bws_rx *rx, ndl__bws_message_fn *fn, void *arg);

/* CLOCK_MONOTONIC in nanoseconds; the clock every bench program stamps with. */
uint64_t ndl__bws_now_ns(void);

/* xorshift64*: cheap masking keys (RFC 6455 section 10.3 asks for keys a
 * proxy cannot predict; on loopback this is enough). *state must not be 0. */
uint64_t ndl__bws_rand(uint64_t *state);

#endif /* NDL_BENCH_BWS_H */
