/* SPDX-License-Identifier: MIT */
/*
 * http.c - the start of an HTTP/1.x message at the front of one TCP
 * segment: the start line and the header fields that segment holds.
 *
 * RFC 9112 section 2.1 (message format), 3 (request line), 4 (status
 * line), 5 (field lines, obs-fold in 5.2); RFC 9110 section 5.6.2 (token,
 * tchar) and 5.6.3 (OWS).
 *
 *   request:   method SP request-target SP HTTP-version CRLF
 *   response:  HTTP-version SP status-code SP [ reason-phrase ] CRLF
 *   then       *( field-name ":" OWS field-value OWS CRLF )
 *              CRLF
 *
 * This runs on every TCP payload a chef asks about, so a payload that is
 * not HTTP is turned away by its first bytes: a response must begin with
 * "HTTP/1.", a request with a tchar and a method of at most METHOD_MAX of
 * them followed by a space. A bare LF ends a line as well as CRLF does
 * (section 2.2 allows a recipient to accept it). Lines are found with
 * memchr inside the window rd.h gives; nothing is copied or allocated:
 * every string in the result points into the message.
 */
#include <errno.h>
#include <string.h>
#include <ndl/names.h>
#include "decode.h"
#include "rd.h"

enum {
	METHOD_MAX = 32,          /* longest method accepted (bytes) */
	TARGET_MAX = 8192,        /* longest request-target accepted */
	REASON_MAX = 1024,        /* longest reason phrase accepted */
	/* "HTTP/1.1 200\n" and "A * HTTP/1.1\n": no start line is shorter. */
	START_LINE_MIN = 13,
};

/*
 * RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
 * "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA, as a bitmap of
 * the 256 byte values (32 per word), since every payload's first bytes
 * are tested against it.
 */
static const uint32_t tchar_bits[8] = {
	0x00000000u,    /* 0x00-0x1f: controls */
	0x03ff6cfau,    /* 0x20-0x3f: ! # $ % & ' * + - . 0-9 */
	0xc7fffffeu,    /* 0x40-0x5f: A-Z ^ _ */
	0x57ffffffu,    /* 0x60-0x7f: ` a-z | ~ */
	0, 0, 0, 0,     /* 0x80-0xff */
};

static bool is_tchar(uint8_t c)
{
	return (tchar_bits[c >> 5] >> (c & 31)) & 1u;
}

/* Control characters other than HTAB (RFC 5234 CTL), never in a field. */
static bool is_ctl(uint8_t c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static uint8_t ascii_lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* True when the n bytes at p equal the lowercase name want, ignoring case. */
static bool name_is(const uint8_t *p, size_t n, const char *want)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (want[i] == '\0' || ascii_lower(p[i]) != (uint8_t)want[i])
			return false;
	}
	return want[i] == '\0';
}

static struct ndl_str str_of(const uint8_t *p, size_t n)
{
	struct ndl_str s = { (const char *)p, (uint32_t)n };
	return s;
}

/*
 * Take the next line from r: *line points at it and *len counts its bytes
 * without the CRLF or LF. False, with r unmoved, when no LF follows within
 * r, or when a CR inside the line is not the one just before the LF.
 * A line that is not whole is left for the caller to call truncated.
 */
static bool take_line(struct ndl__rd *r, const uint8_t **line, size_t *len, bool *bad)
{
	const uint8_t *p = rd_cur(r);
	const uint8_t *lf = memchr(p, '\n', rd_left(r));
	const uint8_t *cr;
	size_t n;

	*bad = false;
	if (lf == NULL)
		return false;
	n = (size_t)(lf - p);
	cr = n ? memchr(p, '\r', n) : NULL;
	if (cr != NULL && cr != lf - 1) {
		*bad = true;
		return false;
	}
	*line = p;
	*len = cr ? n - 1 : n;
	return rd_skip(r, n + 1);
}

/* "HTTP/1." DIGIT at p (8 bytes known to be there); the minor into *minor. */
static bool http_version(const uint8_t *p, uint8_t *minor)
{
	if (memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9')
		return false;
	*minor = (uint8_t)(p[7] - '0');
	return true;
}

/* RFC 9112 4: status-line; line holds it without its line end. */
static bool parse_status_line(struct ndl_http *h, const uint8_t *line, size_t n)
{
	size_t i;

	h->is_request = false;
	h->version_major = 1;
	if (n < 12 || !http_version(line, &h->version_minor) || line[8] != ' ')
		return false;
	for (i = 9; i < 12; i++) {
		if (line[i] < '0' || line[i] > '9')
			return false;
	}
	if (line[9] == '0')
		return false;
	h->status = (uint16_t)((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
	/* Many servers leave out the space before an empty reason phrase. */
	if (n == 12) {
		h->reason = str_of(line + 12, 0);
		return true;
	}
	if (line[12] != ' ' || n - 13 > REASON_MAX)
		return false;
	for (i = 13; i < n; i++) {
		if (is_ctl(line[i]))
			return false;
	}
	h->reason = str_of(line + 13, n - 13);
	return true;
}

/* RFC 9112 3: request-line; line holds it without its line end. */
static bool parse_request_line(struct ndl_http *h, const uint8_t *line, size_t n)
{
	size_t m, t;

	for (m = 0; m < n && m <= METHOD_MAX && is_tchar(line[m]); m++)
		;
	if (m == 0 || m > METHOD_MAX || m >= n || line[m] != ' ')
		return false;
	for (t = m + 1; t < n && line[t] > 0x20 && line[t] != 0x7f; t++)
		;
	if (t == m + 1 || t - (m + 1) > TARGET_MAX)
		return false;
	/* exactly " HTTP/1.x" must remain */
	if (n - t != 9 || line[t] != ' ' || !http_version(line + t + 1, &h->version_minor))
		return false;
	h->method = str_of(line, m);
	h->target = str_of(line + m + 1, t - (m + 1));
	h->is_request = true;
	h->version_major = 1;
	return true;
}

/* Remember the first field of each name chefs ask for most. */
static void note_field(struct ndl_http *h, const uint8_t *name, size_t n, struct ndl_str value)
{
	struct ndl_str *slot = NULL;

	switch (ascii_lower(name[0])) {
	case 'h':
		if (name_is(name, n, "host"))
			slot = &h->host;
		break;
	case 'u':
		if (name_is(name, n, "user-agent"))
			slot = &h->user_agent;
		break;
	case 'r':
		if (name_is(name, n, "referer"))
			slot = &h->referer;
		break;
	case 'c':
		if (name_is(name, n, "content-type"))
			slot = &h->content_type;
		else if (name_is(name, n, "content-length"))
			slot = &h->content_length;
		break;
	default:
		break;
	}
	if (slot != NULL && slot->ptr == NULL)
		*slot = value;
}

/*
 * RFC 9112 5: field-line = field-name ":" OWS field-value OWS. Returns
 * NDL_HTTP_OK or NDL_HTTP_BAD_HEADER; the name and value into *out.
 */
static int parse_field_line(const uint8_t *line, size_t n, struct ndl_http_header *out)
{
	size_t c, vs, ve, i;

	/* obs-fold (5.2): a line starting with whitespace continues the last. */
	if (line[0] == ' ' || line[0] == '\t')
		return NDL_HTTP_BAD_HEADER;
	for (c = 0; c < n && is_tchar(line[c]); c++)
		;
	/* No whitespace may come between the name and the colon (5.1). */
	if (c == 0 || c >= n || line[c] != ':')
		return NDL_HTTP_BAD_HEADER;
	for (vs = c + 1; vs < n && (line[vs] == ' ' || line[vs] == '\t'); vs++)
		;
	for (ve = n; ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'); ve--)
		;
	for (i = vs; i < ve; i++) {
		if (is_ctl(line[i]))
			return NDL_HTTP_BAD_HEADER;
	}
	out->name = str_of(line, c);
	out->value = str_of(line + vs, ve - vs);
	return NDL_HTTP_OK;
}

/*
 * Contract in decode.h. Reads only msg[0..len), allocates nothing, writes
 * only buf: safe on any thread with its own buf. Strings in buf->http point
 * into msg (borrowed from the caller).
 */
int ndl__http_parse(struct ndl__http_buf *buf, const uint8_t *msg, size_t len)
{
	struct ndl_http *h;
	struct ndl__rd r, first;
	const uint8_t *line;
	size_t n;
	bool bad, response;

	if (buf == NULL || msg == NULL || len < START_LINE_MIN)
		return -EINVAL;
	/*
	 * The cheap test, before looking for a line end: a response starts
	 * "HTTP/1.", a request with at most METHOD_MAX tchars and a space.
	 */
	response = msg[0] == 'H' && memcmp(msg, "HTTP/1.", 7) == 0;
	if (!response) {
		size_t m;

		for (m = 0; m < len && m <= METHOD_MAX && is_tchar(msg[m]); m++)
			;
		if (m == 0 || m > METHOD_MAX || m >= len || msg[m] != ' ')
			return -EINVAL;
	}

	h = &buf->http;
	memset(h, 0, sizeof(*h));
	h->struct_size = sizeof(*h);
	h->headers = buf->headers;
	r = rd_make(msg, len);

	/* The start line's end is looked for only as far as the longest one. */
	first = rd_sub(&r, METHOD_MAX + TARGET_MAX + 16);
	if (!take_line(&first, &line, &n, &bad))
		return -EINVAL;
	if (response ? !parse_status_line(h, line, n) : !parse_request_line(h, line, n))
		return -EINVAL;
	if (!rd_skip(&r, first.off))
		return -EINVAL;

	for (;;) {
		struct ndl_http_header field;
		int err;

		if (!take_line(&r, &line, &n, &bad)) {
			h->error = bad ? NDL_HTTP_BAD_HEADER : NDL_HTTP_TRUNCATED;
			return 0;
		}
		if (n == 0) {
			h->headers_complete = true;
			h->header_bytes = (uint32_t)r.off;
			return 0;
		}
		err = parse_field_line(line, n, &field);
		if (err != NDL_HTTP_OK) {
			h->error = (uint32_t)err;
			return 0;
		}
		if (h->n_headers >= NDL_HTTP_MAX_HEADERS) {
			h->error = NDL_HTTP_TOO_MANY_HEADERS;
			return 0;
		}
		buf->headers[h->n_headers++] = field;
		note_field(h, line, field.name.len, field.value);
	}
}

/*
 * Contract in decode.h: any TCP payload long enough for a start line is
 * tried, whatever its ports. The result points into buf and pkt's bytes.
 */
const struct ndl_http *ndl__http_from_packet(struct ndl__http_buf *buf,
					     const struct ndl_packet *pkt)
{
	if (buf == NULL || pkt == NULL || !(pkt->layers & NDL_LAYER_TCP) ||
	    pkt->payload == NULL || pkt->payload_len < START_LINE_MIN)
		return NULL;
	if (ndl__http_parse(buf, pkt->payload, pkt->payload_len) != 0)
		return NULL;
	return &buf->http;
}

