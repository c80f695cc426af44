/* SPDX-License-Identifier: MIT */
/*
 * bws.c - the benchmark's WebSocket client (RFC 6455): opening handshake,
 * masked client frames, and frame parsing for server frames.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "bws.h"

/* RFC 6455 section 1.3: appended to the key before hashing. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

#define HANDSHAKE_MAX 8192
#define HANDSHAKE_TIMEOUT_MS 5000

uint64_t ndl__bws_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t ndl__bws_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* ---- SHA-1 (RFC 3174), for Sec-WebSocket-Accept only ---- */

static uint32_t rol32(uint32_t v, int n)
{
	return (v << n) | (v >> (32 - n));
}

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a, b, c, d, e, f, k, t;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4];
	for (int i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5A827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ED9EBA1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8F1BBCDC;
		} else {
			f = b ^ c ^ d;
			k = 0xCA62C1D6;
		}
		t = rol32(a, 5) + f + e + k + w[i];
		e = d; d = c; c = rol32(b, 30); b = a; a = t;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e;
}

/* SHA-1 of a message shorter than 119 bytes (two blocks at most). */
static void sha1_short(const unsigned char *msg, size_t len, unsigned char out[20])
{
	uint32_t h[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };
	unsigned char blk[128];
	size_t total = len + 9 <= 64 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;

	memset(blk, 0, sizeof(blk));
	memcpy(blk, msg, len);
	blk[len] = 0x80;
	for (int i = 0; i < 8; i++)
		blk[total - 1 - i] = (unsigned char)(bits >> (8 * i));
	for (size_t off = 0; off < total; off += 64)
		sha1_block(h, blk + off);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (unsigned char)(h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(h[i] >> 8);
		out[4 * i + 3] = (unsigned char)h[i];
	}
}

/* Base 64 (RFC 4648 section 4) of len bytes; out needs 4*ceil(len/3)+1. */
static void base64(const unsigned char *in, size_t len, char *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < len ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < len ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

/* ---- receive buffer ---- */

int ndl__bws_rx_init(struct ndl__bws_rx *rx, size_t cap)
{
	memset(rx, 0, sizeof(*rx));
	rx->buf = malloc(cap);
	if (!rx->buf)
		return -ENOMEM;
	rx->cap = cap;
	return 0;
}

void ndl__bws_rx_free(struct ndl__bws_rx *rx)
{
	free(rx->buf);
	free(rx->msg);
	rx->buf = rx->msg = NULL;
	rx->len = rx->cap = rx->msg_len = rx->msg_cap = 0;
}

static int rx_reserve(struct ndl__bws_rx *rx, size_t need)
{
	unsigned char *nb;

	if (need <= rx->cap)
		return 0;
	nb = realloc(rx->buf, need);
	if (!nb)
		return -ENOMEM;
	rx->buf = nb;
	rx->cap = need;
	return 0;
}

/* ---- handshake ---- */

int ndl__bws_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			if (poll(&pfd, 1, HANDSHAKE_TIMEOUT_MS) <= 0)
				return -ETIMEDOUT;
			continue;
		}
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The value of header name in the response head, trimmed; NULL if absent. */
static const char *header_value(char *head, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);

	for (char *line = strstr(head, "\r\n"); line; line = strstr(line, "\r\n")) {
		char *v, *end;

		line += 2;
		if (strncasecmp(line, name, nlen) || line[nlen] != ':')
			continue;
		v = line + nlen + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		end = strstr(v, "\r\n");
		if (!end)
			return NULL;
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		*vlen = (size_t)(end - v);
		return v;
	}
	return NULL;
}

static int tcp_connect(const char *host, int port, char *err, size_t errlen)
{
	struct addrinfo hints = { 0 }, *res, *ai;
	char serv[16];
	int fd = -1, r, e = ECONNREFUSED, one = 1;

	hints.ai_socktype = SOCK_STREAM;
	snprintf(serv, sizeof(serv), "%d", port);
	r = getaddrinfo(host, serv, &hints, &res);
	if (r) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(r));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		e = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "cannot connect to %s:%d: %s", host, port, strerror(e));
		return -e;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int ndl__bws_connect(const char *host, int port, const char *offer, char *proto,
		     size_t protolen, struct ndl__bws_rx *rx, char *err, size_t errlen)
{
	unsigned char nonce[16], digest[20];
	char key[32], expect[32], req[1024], head[HANDSHAKE_MAX + 1], cat[96];
	const char *v, *end;
	size_t got = 0, vlen;
	uint64_t rng = ndl__bws_now_ns() ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)rx;
	int fd, r, n;

	proto[0] = '\0';
	fd = tcp_connect(host, port, err, errlen);
	if (fd < 0)
		return fd;
	/* Section 4.1: a random 16-byte nonce, base64-encoded. */
	rng |= 1;
	for (int i = 0; i < 16; i++)
		nonce[i] = (unsigned char)(ndl__bws_rand(&rng) >> 56);
	base64(nonce, sizeof(nonce), key);
	n = snprintf(req, sizeof(req),
		     "GET / HTTP/1.1\r\n"
		     "Host: %s:%d\r\n"
		     "Upgrade: websocket\r\n"
		     "Connection: Upgrade\r\n"
		     "Sec-WebSocket-Key: %s\r\n"
		     "Sec-WebSocket-Version: 13\r\n"
		     "%s%s%s"
		     "\r\n",
		     host, port, key,
		     offer && *offer ? "Sec-WebSocket-Protocol: " : "",
		     offer && *offer ? offer : "", offer && *offer ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(req)) {
		snprintf(err, errlen, "handshake request too long");
		r = -EINVAL;
		goto close_fd;
	}
	r = ndl__bws_write_all(fd, req, (size_t)n);
	if (r < 0) {
		snprintf(err, errlen, "sending the handshake to %s:%d: %s", host, port,
			 strerror(-r));
		goto close_fd;
	}
	/* Read up to the blank line ending the response head. */
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		char *blank;
		ssize_t k;

		if (got == HANDSHAKE_MAX) {
			snprintf(err, errlen, "handshake response from %s:%d too long", host, port);
			r = -EPROTO;
			goto close_fd;
		}
		if (poll(&pfd, 1, HANDSHAKE_TIMEOUT_MS) <= 0) {
			snprintf(err, errlen, "no handshake response from %s:%d", host, port);
			r = -ETIMEDOUT;
			goto close_fd;
		}
		k = read(fd, head + got, HANDSHAKE_MAX - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			snprintf(err, errlen, "%s:%d closed the connection during the handshake",
				 host, port);
			r = -ECONNRESET;
			goto close_fd;
		}
		got += (size_t)k;
		head[got] = '\0';
		blank = strstr(head, "\r\n\r\n");
		if (!blank)
			continue;
		/* keep what follows the head for the frame parser */
		{
			size_t hlen = (size_t)(blank + 4 - head), extra = got - hlen;

			if (rx_reserve(rx, rx->len + extra) < 0) {
				r = -ENOMEM;
				snprintf(err, errlen, "out of memory");
				goto close_fd;
			}
			memcpy(rx->buf + rx->len, blank + 4, extra);
			rx->len += extra;
			blank[2] = '\0';   /* head now ends after the last header's CRLF */
		}
		break;
	}
	if (strncmp(head, "HTTP/1.1 101", 12)) {
		end = strstr(head, "\r\n");
		snprintf(err, errlen, "%s:%d refused the WebSocket upgrade: %.*s", host, port,
			 end ? (int)(end - head) : 60, head);
		r = -EPROTO;
		goto close_fd;
	}
	/* Section 4.2.2 item 5.4: base64(SHA-1(key + GUID)). */
	snprintf(cat, sizeof(cat), "%s%s", key, ws_guid);
	sha1_short((const unsigned char *)cat, strlen(cat), digest);
	base64(digest, sizeof(digest), expect);
	v = header_value(head, "Sec-WebSocket-Accept", &vlen);
	if (!v || vlen != strlen(expect) || memcmp(v, expect, vlen)) {
		snprintf(err, errlen, "%s:%d answered with a wrong Sec-WebSocket-Accept", host,
			 port);
		r = -EPROTO;
		goto close_fd;
	}
	v = header_value(head, "Sec-WebSocket-Protocol", &vlen);
	if (v)
		snprintf(proto, protolen, "%.*s", (int)vlen, v);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		r = -errno;
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		goto close_fd;
	}
	return fd;

close_fd:
	close(fd);
	return r;
}

/* ---- frames ---- */

size_t ndl__bws_frame(unsigned char *out, int opcode, const void *payload, size_t len,
		      uint64_t *rng)
{
	const unsigned char *p = payload;
	unsigned char key[4];
	uint32_t k32;
	size_t h = 0, i = 0;

	/* Section 5.2: FIN, opcode; MASK set (every client frame, 5.3). */
	out[h++] = (unsigned char)(0x80 | (opcode & 0x0f));
	if (len < 126) {
		out[h++] = (unsigned char)(0x80 | len);
	} else if (len <= 0xffff) {
		out[h++] = 0x80 | 126;
		out[h++] = (unsigned char)(len >> 8);
		out[h++] = (unsigned char)len;
	} else {
		out[h++] = 0x80 | 127;
		for (int s = 56; s >= 0; s -= 8)
			out[h++] = (unsigned char)((uint64_t)len >> s);
	}
	k32 = (uint32_t)(ndl__bws_rand(rng) >> 32);
	memcpy(key, &k32, 4);
	memcpy(out + h, key, 4);
	h += 4;
	out += h;
	/* Section 5.3: octet i is XORed with key[i % 4]; four at a time. */
	for (; i + 8 <= len; i += 8) {
		uint64_t w, k64 = (uint64_t)k32 | (uint64_t)k32 << 32;

		memcpy(&w, p + i, 8);
		w ^= k64;
		memcpy(out + i, &w, 8);
	}
	for (; i < len; i++)
		out[i] = p[i] ^ key[i & 3];
	return h + len;
}

static int send_control(int fd, int opcode, const unsigned char *payload, size_t len)
{
	unsigned char frame[NDL__BWS_HEADER_MAX + 125];
	uint64_t rng = ndl__bws_now_ns() | 1;

	if (len > 125)
		len = 125;
	return ndl__bws_write_all(fd, frame, ndl__bws_frame(frame, opcode, payload, len, &rng));
}

static int msg_append(struct ndl__bws_rx *rx, const unsigned char *p, size_t len)
{
	if (rx->msg_len + len > NDL__BWS_MESSAGE_MAX)
		return -EPROTO;
	if (rx->msg_len + len > rx->msg_cap) {
		size_t cap = rx->msg_cap ? rx->msg_cap : 65536;
		unsigned char *nm;

		while (cap < rx->msg_len + len)
			cap *= 2;
		nm = realloc(rx->msg, cap);
		if (!nm)
			return -ENOMEM;
		rx->msg = nm;
		rx->msg_cap = cap;
	}
	memcpy(rx->msg + rx->msg_len, p, len);
	rx->msg_len += len;
	return 0;
}

/* Handle one whole frame; returns 0 or a negative errno. */
static int on_frame(int fd, struct ndl__bws_rx *rx, bool fin, int op, unsigned char *p,
		    size_t len, ndl__bws_message_fn *fn, void *arg, uint64_t now)
{
	int r;

	switch (op) {
	case NDL__BWS_OP_TEXT:
		if (rx->in_msg)
			return -EPROTO;   /* section 5.4: a new message inside one */
		if (fin) {
			fn(arg, p, len, now);
			return 0;
		}
		rx->in_msg = true;
		rx->msg_len = 0;
		return msg_append(rx, p, len);
	case NDL__BWS_OP_CONT:
		if (!rx->in_msg)
			return -EPROTO;
		r = msg_append(rx, p, len);
		if (r < 0)
			return r;
		if (fin) {
			rx->in_msg = false;
			fn(arg, rx->msg, rx->msg_len, now);
		}
		return 0;
	case NDL__BWS_OP_PING:   /* section 5.5.2: answer with the same body */
		return send_control(fd, NDL__BWS_OP_PONG, p, len);
	case NDL__BWS_OP_PONG:
		return 0;
	case NDL__BWS_OP_CLOSE: {   /* section 5.5.1: echo the status code */
		unsigned char body[2];

		rx->closed = true;
		rx->close_code = len >= 2 ? (unsigned)(p[0] << 8 | p[1]) : 1005;
		body[0] = len >= 2 ? p[0] : 0x03;
		body[1] = len >= 2 ? p[1] : 0xe8;
		send_control(fd, NDL__BWS_OP_CLOSE, body, 2);
		return 0;
	}
	default:
		return -EPROTO;   /* binary data, or a reserved opcode */
	}
}

long ndl__bws_read(int fd, struct ndl__bws_rx *rx, ndl__bws_message_fn *fn, void *arg)
{
	size_t off = 0;
	uint64_t now;
	ssize_t n;
	int r;

	if (rx->len == rx->cap && rx_reserve(rx, rx->cap * 2) < 0)
		return -ENOMEM;
	do
		n = read(fd, rx->buf + rx->len, rx->cap - rx->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	if (n == 0)
		return -ECONNRESET;
	rx->len += (size_t)n;
	rx->bytes += (uint64_t)n;
	now = ndl__bws_now_ns();

	while (rx->len - off >= 2 && !rx->closed) {
		unsigned char *f = rx->buf + off;
		bool fin = f[0] & 0x80, masked = f[1] & 0x80;
		int op = f[0] & 0x0f;
		uint64_t plen = f[1] & 0x7f;
		size_t hl = 2, avail = rx->len - off;

		if (f[0] & 0x70)
			return -EPROTO;   /* section 5.2: no extension negotiated */
		if (plen == 126) {
			if (avail < 4)
				break;
			plen = (uint64_t)f[2] << 8 | f[3];
			hl = 4;
		} else if (plen == 127) {
			if (avail < 10)
				break;
			plen = 0;
			for (int i = 0; i < 8; i++)
				plen = plen << 8 | f[2 + i];
			hl = 10;
		}
		if (plen > NDL__BWS_MESSAGE_MAX)
			return -EPROTO;
		if ((op & 0x8) && (plen > 125 || !fin))
			return -EPROTO;   /* section 5.5: control frames */
		if (masked)
			hl += 4;   /* servers must not mask (5.1); tolerate it */
		if (avail < hl + plen) {
			if (rx_reserve(rx, hl + (size_t)plen) < 0)
				return -ENOMEM;
			break;
		}
		if (masked) {
			unsigned char *k = f + hl - 4;

			for (size_t i = 0; i < plen; i++)
				f[hl + i] ^= k[i & 3];
		}
		r = on_frame(fd, rx, fin, op, f + hl, (size_t)plen, fn, arg, now);
		if (r < 0)
			return r;
		off += hl + (size_t)plen;
	}
	if (off) {
		memmove(rx->buf, rx->buf + off, rx->len - off);
		rx->len -= off;
	}
	return n;
}
