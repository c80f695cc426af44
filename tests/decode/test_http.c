/* SPDX-License-Identifier: MIT */
/*
 * test_http.c - the HTTP/1.x start parser: the request and response of
 * tests/captures/http-lo.pcap, start lines good and bad, every field-line
 * rule, the limits, a real request cut at every byte, payloads that are
 * not HTTP, and the packet entry point. Every message is handed over in a
 * heap block of exactly its length.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "capfile.h"
#include "decode.h"
#include "frames.h"

static struct ndl__http_buf hb;
static uint8_t *held;

static void release_held(void)
{
	free(held);
	held = NULL;
}

static int parse_n(const void *msg, size_t n)
{
	release_held();
	held = exact_copy(msg, n);
	return ndl__http_parse(&hb, held, n);
}

static int parse(const char *msg)
{
	return parse_n(msg, strlen(msg));
}

#define ck_str(s, want) do { \
	struct ndl_str s_ = (s); \
	const char *w_ = (want); \
	ck_assert_msg(s_.ptr != NULL, "%s is absent, want \"%s\"", #s, w_); \
	ck_assert_msg(s_.len == strlen(w_) && memcmp(s_.ptr, w_, s_.len) == 0, \
		      "%s is \"%.*s\", want \"%s\"", #s, (int)s_.len, s_.ptr, w_); \
} while (0)

#define ck_err(name) ck_assert_str_eq(ndl_http_error_name(hb.http.error), name)

/* The TCP payload of packet index of http-lo.pcap, decoded; frees nothing. */
static struct cap_packet cap;
static struct ndl_packet pkt;

static void load(unsigned int index)
{
	free(cap.data);
	cap = cap_read("http-lo.pcap", index);
	ck_assert_int_eq(ndl__decode(&pkt, cap.linktype, cap.data, cap.caplen, cap.wirelen,
				     cap.ts_ns), 0);
	ck_assert(pkt.layers & NDL_LAYER_TCP);
}

static void release_cap(void)
{
	free(cap.data);
	cap.data = NULL;
	release_held();
}

/* ------------------------------------------------------------------------ */
/* The captured exchange                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(test_real_request)
{
	const struct ndl_http *h;

	load(3);
	h = ndl__http_from_packet(&hb, &pkt);
	ck_assert_ptr_eq(h, &hb.http);
	ck_assert_uint_eq(h->struct_size, sizeof(*h));
	ck_err("ok");
	ck_assert(h->is_request);
	ck_assert(h->headers_complete);
	ck_assert_uint_eq(h->version_major, 1);
	ck_assert_uint_eq(h->version_minor, 1);
	ck_str(h->method, "GET");
	ck_str(h->target, "/index.html");
	ck_assert_uint_eq(h->status, 0);
	ck_assert_ptr_null(h->reason.ptr);
	ck_assert_uint_eq(h->n_headers, 4);
	ck_assert_ptr_eq(h->headers, hb.headers);
	ck_str(h->headers[0].name, "Host");
	ck_str(h->headers[0].value, "127.0.0.1:18080");
	ck_str(h->headers[1].name, "User-Agent");
	ck_str(h->headers[2].name, "Accept");
	ck_str(h->headers[2].value, "*/*");
	ck_str(h->headers[3].name, "Referer");
	ck_str(h->host, "127.0.0.1:18080");
	ck_str(h->user_agent, "curl/7.88 netdumplings-test");
	ck_str(h->referer, "http://referer.example.test/");
	ck_assert_ptr_null(h->content_type.ptr);
	ck_assert_ptr_null(h->content_length.ptr);
	ck_assert_uint_eq(h->header_bytes, 144);
	ck_assert_uint_eq(pkt.payload_len, 144);
	/* strings borrow the packet's bytes */
	ck_assert_ptr_eq(h->method.ptr, (const char *)pkt.payload);
}
END_TEST

START_TEST(test_real_responses)
{
	const struct ndl_http *h;

	load(5);
	h = ndl__http_from_packet(&hb, &pkt);
	ck_assert_ptr_nonnull(h);
	ck_err("ok");
	ck_assert(!h->is_request);
	ck_assert_uint_eq(h->version_minor, 0);
	ck_assert_uint_eq(h->status, 200);
	ck_str(h->reason, "OK");
	ck_assert_ptr_null(h->method.ptr);
	ck_assert_uint_eq(h->n_headers, 5);
	ck_str(h->headers[0].value, "SimpleHTTP/0.6 Python/3.11.2");
	/* "Content-type" on the wire: names match whatever their case */
	ck_str(h->content_type, "text/html");
	ck_str(h->content_length, "49");
	ck_assert_ptr_null(h->host.ptr);
	ck_assert_uint_eq(h->header_bytes, 185);

	/* the body that follows in its own segment is not a start */
	load(7);
	ck_assert_ptr_null(ndl__http_from_packet(&hb, &pkt));

	/* the second connection: GET /missing, answered 404 */
	load(15);
	h = ndl__http_from_packet(&hb, &pkt);
	ck_assert_ptr_nonnull(h);
	ck_str(h->target, "/missing");
	load(17);
	h = ndl__http_from_packet(&hb, &pkt);
	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(h->status, 404);
	ck_str(h->reason, "File not found");
	ck_assert(h->headers_complete);

	/* packets without payload */
	load(0);
	ck_assert_ptr_null(ndl__http_from_packet(&hb, &pkt));
}
END_TEST

/*
 * The real request cut after every byte: before its start line ends it is
 * not HTTP; after, it is a truncated request whose fields are the whole
 * lines so far, exactly as in the whole request.
 */
START_TEST(test_real_request_every_cut)
{
	struct ndl__http_buf *full = malloc(sizeof(*full));
	const uint8_t *msg;
	size_t len, n, line_end;

	ck_assert_ptr_nonnull(full);
	load(3);
	msg = pkt.payload;
	len = pkt.payload_len;
	ck_assert_int_eq(ndl__http_parse(full, msg, len), 0);
	line_end = (size_t)((const uint8_t *)memchr(msg, '\n', len) - msg) + 1;
	ck_assert_uint_eq(line_end, 26);

	for (n = 0; n <= len; n++) {
		int r = parse_n(msg, n);
		size_t lfs = 0;

		for (size_t i = 0; i < n; i++)
			lfs += msg[i] == '\n';
		if (n < line_end) {
			ck_assert_msg(r == -EINVAL, "cut at %zu: %d", n, r);
			continue;
		}
		ck_assert_msg(r == 0, "cut at %zu: %d", n, r);
		ck_str(hb.http.method, "GET");
		ck_str(hb.http.target, "/index.html");
		if (n == len) {
			ck_err("ok");
			ck_assert(hb.http.headers_complete);
			ck_assert_uint_eq(hb.http.n_headers, 4);
			continue;
		}
		ck_assert_msg(hb.http.error == NDL_HTTP_TRUNCATED, "cut at %zu: %s", n,
			      ndl_http_error_name(hb.http.error));
		ck_assert(!hb.http.headers_complete);
		ck_assert_uint_eq(hb.http.header_bytes, 0);
		ck_assert_uint_eq(hb.http.n_headers, lfs - 1);
		for (size_t i = 0; i < hb.http.n_headers; i++) {
			ck_assert_uint_eq(hb.http.headers[i].name.len, full->headers[i].name.len);
			ck_assert_uint_eq(hb.http.headers[i].value.len, full->headers[i].value.len);
			ck_assert_mem_eq(hb.http.headers[i].value.ptr, full->headers[i].value.ptr,
					 full->headers[i].value.len);
		}
		if (hb.http.n_headers >= 1)
			ck_str(hb.http.host, "127.0.0.1:18080");
		else
			ck_assert_ptr_null(hb.http.host.ptr);
	}
	free(full);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Start lines                                                               */
/* ------------------------------------------------------------------------ */

START_TEST(test_request_lines)
{
	ck_assert_int_eq(parse("OPTIONS * HTTP/1.1\r\n\r\n"), 0);
	ck_str(hb.http.method, "OPTIONS");
	ck_str(hb.http.target, "*");
	ck_assert(hb.http.headers_complete);
	ck_assert_uint_eq(hb.http.header_bytes, 22);
	ck_assert_uint_eq(hb.http.n_headers, 0);

	ck_assert_int_eq(parse("CONNECT www.example.test:443 HTTP/1.0\r\nHost: www.example.test:443\r\n\r\n"), 0);
	ck_str(hb.http.method, "CONNECT");
	ck_str(hb.http.target, "www.example.test:443");
	ck_assert_uint_eq(hb.http.version_minor, 0);

	ck_assert_int_eq(parse("GET http://www.example.test/a?b=c#d HTTP/1.1\r\n"), 0);
	ck_str(hb.http.target, "http://www.example.test/a?b=c#d");
	ck_err("truncated");

	/* bare LF line ends, and a method of tchars that is not upper case */
	ck_assert_int_eq(parse("m-search! /x HTTP/1.1\nHost: a\n\n"), 0);
	ck_str(hb.http.method, "m-search!");
	ck_str(hb.http.host, "a");
	ck_assert(hb.http.headers_complete);
	ck_assert_uint_eq(hb.http.header_bytes, 22 + 8 + 1);

	/* the body after the blank line is not counted */
	ck_assert_int_eq(parse("POST /f HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"), 0);
	ck_assert_uint_eq(hb.http.header_bytes, 18 + 19 + 2);
	ck_str(hb.http.content_length, "3");
}
END_TEST

static const char *const bad_requests[] = {
	"GET /\r\n\r\n",                         /* HTTP/0.9 */
	"GET / HTTP/2.0\r\n\r\n",
	"GET / HTTP/1.1x\r\n\r\n",
	"GET / HTTP/1.\r\n\r\n\r\n",
	"GET / http/1.1\r\n\r\n",
	"GET  / HTTP/1.1\r\n\r\n",                /* two spaces */
	"GET /  HTTP/1.1\r\n\r\n",
	"GET / HTTP/1.1 \r\n\r\n",
	" GET / HTTP/1.1\r\n\r\n",
	"GE(T / HTTP/1.1\r\n\r\n",
	"GET /a\x01 HTTP/1.1\r\n\r\n",           /* control in the target */
	"GET /a\x7f HTTP/1.1\r\n\r\n",
	"GET /a\tb HTTP/1.1\r\n\r\n",
	"GET / HTTP/1.1\rX\r\n\r\n",             /* CR inside the line */
	"GET / HTTP/1.1\r\r\n\r\n",
	"GET /index.html HTTP/1.1",              /* no line end */
	"GET",
	"",
};

START_TEST(test_bad_request_lines)
{
	const char *m = bad_requests[_i];

	ck_assert_msg(parse(m) == -EINVAL, "accepted \"%s\"", m);
}
END_TEST

/* A one-byte method is taken exactly when the byte is a tchar (RFC 9110 5.6.2). */
START_TEST(test_method_tchars)
{
	char m[] = "X / HTTP/1.1\r\n\r\n";

	for (unsigned int c = 0; c < 256; c++) {
		bool tchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", (int)c));

		m[0] = (char)c;
		ck_assert_msg((parse_n(m, sizeof(m) - 1) == 0) == tchar, "byte 0x%02x", c);
		/* and as the second byte of a method */
		if (c) {
			char m2[] = "GX / HTTP/1.1\r\n\r\n";

			m2[1] = (char)c;
			ck_assert_msg((parse_n(m2, sizeof(m2) - 1) == 0) == tchar, "byte 0x%02x", c);
		}
	}
}
END_TEST

START_TEST(test_method_and_target_limits)
{
	char *m = malloc(9000 + 64);
	size_t n;

	ck_assert_ptr_nonnull(m);
	/* a method of 32 tchars is taken, 33 is not */
	memset(m, 'M', 32);
	strcpy(m + 32, " / HTTP/1.1\r\n\r\n");
	ck_assert_int_eq(parse(m), 0);
	ck_assert_uint_eq(hb.http.method.len, 32);
	memset(m, 'M', 33);
	strcpy(m + 33, " / HTTP/1.1\r\n\r\n");
	ck_assert_int_eq(parse(m), -EINVAL);

	/* a target of 8192 bytes is taken, 8193 is not */
	memcpy(m, "GET /", 5);
	memset(m + 5, 'a', 8191);
	strcpy(m + 5 + 8191, " HTTP/1.1\r\n\r\n");
	ck_assert_int_eq(parse(m), 0);
	ck_assert_uint_eq(hb.http.target.len, 8192);
	n = strlen(m);
	memmove(m + 6, m + 5, n - 5 + 1);
	ck_assert_int_eq(parse(m), -EINVAL);
	free(m);
}
END_TEST

START_TEST(test_status_lines)
{
	ck_assert_int_eq(parse("HTTP/1.1 204 No Content\r\n\r\n"), 0);
	ck_assert_uint_eq(hb.http.status, 204);
	ck_str(hb.http.reason, "No Content");
	ck_assert_uint_eq(hb.http.version_major, 1);
	ck_assert_uint_eq(hb.http.version_minor, 1);
	ck_assert(!hb.http.is_request);
	ck_assert_ptr_null(hb.http.target.ptr);

	/* an empty reason, with and without its space */
	ck_assert_int_eq(parse("HTTP/1.1 200 \r\n\r\n"), 0);
	ck_assert_uint_eq(hb.http.status, 200);
	ck_assert_ptr_nonnull(hb.http.reason.ptr);
	ck_assert_uint_eq(hb.http.reason.len, 0);
	ck_assert_int_eq(parse("HTTP/1.1 200\r\nServer: x\r\n\r\n"), 0);
	ck_assert_uint_eq(hb.http.reason.len, 0);
	ck_assert_uint_eq(hb.http.n_headers, 1);

	/* bare LF; a reason with a tab, spaces and obs-text */
	ck_assert_int_eq(parse("HTTP/1.0 999 Odd\tbut fine \xe9\n\n"), 0);
	ck_assert_uint_eq(hb.http.status, 999);
	ck_str(hb.http.reason, "Odd\tbut fine \xe9");
	ck_assert_uint_eq(hb.http.version_minor, 0);
	ck_assert_int_eq(parse("HTTP/1.1 100 Continue\r\n\r\n"), 0);
	ck_assert_uint_eq(hb.http.status, 100);
}
END_TEST

static const char *const bad_responses[] = {
	"HTTP/1.1 099 Low\r\n\r\n",
	"HTTP/1.1 20x OK\r\n\r\n",
	"HTTP/1.1 2000 OK\r\n\r\n",
	"HTTP/1.1 20 OK\r\n\r\n\r\n",
	"HTTP/1.1  200 OK\r\n\r\n",
	"HTTP/2 200 OK\r\n\r\n",
	"HTTP/2.0 200 OK\r\n\r\n",
	"HTTP/1.1 200 O\x01K\r\n\r\n",
	"HTTP/1.1 200 OK",
	"HTTP/1.1\r\n\r\n\r\n\r\n\r\n",
};

START_TEST(test_bad_status_lines)
{
	const char *m = bad_responses[_i];

	ck_assert_msg(parse(m) == -EINVAL, "accepted \"%s\"", m);
}
END_TEST

START_TEST(test_reason_limit)
{
	char *m = malloc(2048);

	ck_assert_ptr_nonnull(m);
	strcpy(m, "HTTP/1.1 200 ");
	memset(m + 13, 'r', 1024);
	strcpy(m + 13 + 1024, "\r\n\r\n");
	ck_assert_int_eq(parse(m), 0);
	ck_assert_uint_eq(hb.http.reason.len, 1024);
	strcpy(m + 13 + 1024, "r\r\n\r\n");
	ck_assert_int_eq(parse(m), -EINVAL);
	free(m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Field lines                                                               */
/* ------------------------------------------------------------------------ */

START_TEST(test_field_whitespace)
{
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nHost: \t example.test \t \r\n"
			       "X-Empty:\r\nX-Spaces:    \r\nX-Colon:a:b: c\r\n"
			       "X-Inner: a  b\r\n\r\n"), 0);
	ck_err("ok");
	ck_assert_uint_eq(hb.http.n_headers, 5);
	ck_str(hb.http.host, "example.test");
	ck_str(hb.http.headers[1].name, "X-Empty");
	ck_assert_uint_eq(hb.http.headers[1].value.len, 0);
	ck_assert_ptr_nonnull(hb.http.headers[1].value.ptr);
	ck_assert_uint_eq(hb.http.headers[2].value.len, 0);
	ck_str(hb.http.headers[3].value, "a:b: c");
	ck_str(hb.http.headers[4].value, "a  b");
}
END_TEST

START_TEST(test_field_known_names)
{
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nhOST: first\r\nHost: second\r\n"
			       "USER-agent: ua\r\nREFERER: r\r\ncontent-TYPE: t\r\n"
			       "Content-Length: 12\r\nContent-Length: 13\r\n"
			       "Hostname: no\r\nUser-Agent2: no\r\nContent: no\r\n\r\n"), 0);
	ck_str(hb.http.host, "first");
	ck_str(hb.http.user_agent, "ua");
	ck_str(hb.http.referer, "r");
	ck_str(hb.http.content_type, "t");
	ck_str(hb.http.content_length, "12");
	ck_assert_uint_eq(hb.http.n_headers, 10);

	/* near misses are ordinary fields */
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nHos: a\r\nHostt: b\r\nReferrer: c\r\n"
			       "Content-Typ: d\r\nUser_Agent: e\r\n\r\n"), 0);
	ck_assert_ptr_null(hb.http.host.ptr);
	ck_assert_ptr_null(hb.http.referer.ptr);
	ck_assert_ptr_null(hb.http.content_type.ptr);
	ck_assert_ptr_null(hb.http.user_agent.ptr);
	ck_assert_uint_eq(hb.http.n_headers, 5);
}
END_TEST

struct bad_field {
	const char *msg;
	unsigned int kept;    /* fields before the bad one */
};

static const struct bad_field bad_fields[] = {
	{ "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 0 },             /* space before colon */
	{ "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 0 },
	{ "GET / HTTP/1.1\r\nA: 1\r\nNo colon here\r\n\r\n", 1 },
	{ "GET / HTTP/1.1\r\nA: 1\r\n: empty name\r\n\r\n", 1 },
	{ "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n folded\r\n\r\n", 2 }, /* obs-fold */
	{ "GET / HTTP/1.1\r\nA: 1\r\n\tfolded\r\n\r\n", 1 },
	{ "GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", 0 },
	{ "GET / HTTP/1.1\r\nHost: a\x01" "b\r\n\r\n", 0 },        /* control in value */
	{ "GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n", 0 },
	{ "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 0 },            /* bare CR */
	{ "GET / HTTP/1.1\r\nHost: a\r\r\n\r\n", 0 },
	{ "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\x80: x\r\n\r\n", 3 },
};

START_TEST(test_bad_fields)
{
	const struct bad_field *c = &bad_fields[_i];

	ck_assert_int_eq(parse(c->msg), 0);
	ck_assert_msg(hb.http.error == NDL_HTTP_BAD_HEADER, "case %d: %s", _i,
		      ndl_http_error_name(hb.http.error));
	ck_assert_uint_eq(hb.http.n_headers, c->kept);
	ck_assert(!hb.http.headers_complete);
	ck_assert_uint_eq(hb.http.header_bytes, 0);
}
END_TEST

START_TEST(test_header_limit)
{
	struct fb f = { .n = 0 };
	char line[32];

	put(&f, "GET / HTTP/1.1\r\n", 16);
	for (int i = 0; i < NDL_HTTP_MAX_HEADERS; i++) {
		int n = snprintf(line, sizeof(line), "X-%d: %d\r\n", i, i);
		put(&f, line, (size_t)n);
	}
	put(&f, "\r\n", 2);
	ck_assert_int_eq(parse_n(f.b, f.n), 0);
	ck_err("ok");
	ck_assert_uint_eq(hb.http.n_headers, NDL_HTTP_MAX_HEADERS);
	ck_str(hb.http.headers[63].value, "63");

	/* one more */
	f.n -= 2;
	put(&f, "Host: late\r\n\r\n", 14);
	ck_assert_int_eq(parse_n(f.b, f.n), 0);
	ck_err("too_many_headers");
	ck_assert_uint_eq(hb.http.n_headers, NDL_HTTP_MAX_HEADERS);
	ck_assert_ptr_null(hb.http.host.ptr);
	ck_assert(!hb.http.headers_complete);
}
END_TEST

/* A buffer reused for a smaller message forgets the larger one. */
START_TEST(test_buffer_reuse)
{
	ck_assert_int_eq(parse("GET / HTTP/1.1\r\nHost: a\r\nReferer: b\r\nA: 1\r\n\r\n"), 0);
	ck_assert_uint_eq(hb.http.n_headers, 3);
	ck_assert_int_eq(parse("HTTP/1.1 304 Not Modified\r\n\r\n"), 0);
	ck_assert_uint_eq(hb.http.n_headers, 0);
	ck_assert_ptr_null(hb.http.host.ptr);
	ck_assert_ptr_null(hb.http.referer.ptr);
	ck_assert_ptr_null(hb.http.method.ptr);
	ck_assert_uint_eq(hb.http.error, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Not HTTP                                                                  */
/* ------------------------------------------------------------------------ */

START_TEST(test_not_http)
{
	static const uint8_t tls[] = { 0x16, 0x03, 0x01, 0x00, 0xe2, 0x01, 0x00, 0x00, 0xde,
				       0x03, 0x03, 0x11, 0x22, 0x33, 0x44, 0x55 };
	static const uint8_t zeros[64];
	static const char *const texts[] = {
		"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
		"<html><body>netdumplings test page</body></html>\n",
		"220 mail.example.test ESMTP ready\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"* OK IMAP4rev1 Service Ready\r\n",
		"{\"json\": \"is not http\"}\r\n",
		"GET / HTTP/1",
	};

	ck_assert_int_eq(parse_n(tls, sizeof(tls)), -EINVAL);
	ck_assert_int_eq(parse_n(zeros, sizeof(zeros)), -EINVAL);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		ck_assert_msg(parse(texts[i]) == -EINVAL, "accepted \"%s\"", texts[i]);
	ck_assert_int_eq(ndl__http_parse(&hb, NULL, 100), -EINVAL);
	ck_assert_int_eq(ndl__http_parse(NULL, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18),
			 -EINVAL);
}
END_TEST

/*
 * Random bytes, and random bytes after plausible beginnings: whatever is
 * accepted has a start line, and nothing reads outside the message.
 */
START_TEST(test_random_payloads)
{
	static const char *const starts[] = { "", "GET ", "GET / HTTP/1.1\r\n", "HTTP/1.1 ",
					      "HTTP/1.1 200 OK\r\n", "H" };
	uint8_t m[300];
	uint32_t x = 12345;
	unsigned int accepted = 0;

	for (int round = 0; round < 20000; round++) {
		const char *s = starts[round % 6];
		size_t sl = strlen(s);
		size_t n = sl + (size_t)(round % 280);

		memcpy(m, s, sl);
		for (size_t i = sl; i < n; i++) {
			x = x * 1103515245u + 12345u;
			/* mostly printable text, with line ends and some controls */
			uint8_t c = (uint8_t)(x >> 16);
			m[i] = (c & 0x80) ? (uint8_t)(0x20 + c % 0x5f) :
			       (c & 0x40) ? (uint8_t)"\r\n: \t"[c % 5] : c;
		}
		if (parse_n(m, n) == 0) {
			accepted++;
			ck_assert(hb.http.is_request ? hb.http.method.len > 0 : hb.http.status >= 100);
			ck_assert_uint_le(hb.http.n_headers, NDL_HTTP_MAX_HEADERS);
			ck_assert_uint_lt(hb.http.error, NDL_HTTP_ERROR_COUNT);
			ck_assert_uint_le(hb.http.header_bytes, n);
		}
	}
	/* "GET / HTTP/1.1\r\n" and "HTTP/1.1 200 OK\r\n" starts always qualify */
	ck_assert_uint_ge(accepted, 20000 / 3);
}
END_TEST

START_TEST(test_from_packet_rules)
{
	struct ndl_packet p;
	static const char req[] = "GET / HTTP/1.1\r\n\r\n";

	memset(&p, 0, sizeof(p));
	p.layers = NDL_LAYER_TCP | NDL_LAYER_PAYLOAD;
	p.payload = (const uint8_t *)req;
	p.payload_len = sizeof(req) - 1;
	p.sport = 51000;
	p.dport = 9;              /* any port */
	ck_assert_ptr_nonnull(ndl__http_from_packet(&hb, &p));
	p.layers = NDL_LAYER_UDP | NDL_LAYER_PAYLOAD;
	ck_assert_ptr_null(ndl__http_from_packet(&hb, &p));
	p.layers = NDL_LAYER_TCP | NDL_LAYER_PAYLOAD;
	p.payload_len = 12;
	ck_assert_ptr_null(ndl__http_from_packet(&hb, &p));
	p.payload = NULL;
	p.payload_len = 0;
	ck_assert_ptr_null(ndl__http_from_packet(&hb, &p));
	ck_assert_ptr_null(ndl__http_from_packet(&hb, NULL));
	ck_assert_ptr_null(ndl__http_from_packet(NULL, &p));
}
END_TEST

START_TEST(test_error_names)
{
	const char *seen[NDL_HTTP_ERROR_COUNT];

	for (unsigned int i = 0; i < NDL_HTTP_ERROR_COUNT; i++) {
		seen[i] = ndl_http_error_name(i);
		ck_assert_str_ne(seen[i], "unknown");
		for (unsigned int j = 0; j < i; j++)
			ck_assert_str_ne(seen[i], seen[j]);
	}
	ck_assert_str_eq(ndl_http_error_name(NDL_HTTP_TRUNCATED), "truncated");
	ck_assert_str_eq(ndl_http_error_name(NDL_HTTP_ERROR_COUNT), "unknown");
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("http");

	tcase_add_checked_fixture(tc, NULL, release_cap);
	tcase_add_test(tc, test_real_request);
	tcase_add_test(tc, test_real_responses);
	tcase_add_test(tc, test_real_request_every_cut);
	tcase_add_test(tc, test_request_lines);
	tcase_add_loop_test(tc, test_bad_request_lines, 0,
			    (int)(sizeof(bad_requests) / sizeof(bad_requests[0])));
	tcase_add_test(tc, test_method_tchars);
	tcase_add_test(tc, test_method_and_target_limits);
	tcase_add_test(tc, test_status_lines);
	tcase_add_loop_test(tc, test_bad_status_lines, 0,
			    (int)(sizeof(bad_responses) / sizeof(bad_responses[0])));
	tcase_add_test(tc, test_reason_limit);
	tcase_add_test(tc, test_field_whitespace);
	tcase_add_test(tc, test_field_known_names);
	tcase_add_loop_test(tc, test_bad_fields, 0,
			    (int)(sizeof(bad_fields) / sizeof(bad_fields[0])));
	tcase_add_test(tc, test_header_limit);
	tcase_add_test(tc, test_buffer_reuse);
	tcase_add_test(tc, test_not_http);
	tcase_add_test(tc, test_random_payloads);
	tcase_add_test(tc, test_from_packet_rules);
	tcase_add_test(tc, test_error_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(http_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
