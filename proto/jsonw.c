/* SPDX-License-Identifier: MIT */
/*
 * jsonw.c - the buffer-backed streaming JSON writer (RFC 8259).
 *
 * The writer appends to one growing buffer, inserting "," and ":" from a
 * small state byte per nesting level, and refuses calls that would make the
 * document malformed by setting a sticky error. Strings are escaped per
 * RFC 8259 section 7 and checked against the UTF-8 grammar of RFC 3629
 * section 4; each ill-formed sequence (its maximal valid prefix, as the
 * Unicode standard recommends, chapter 3.9) becomes U+FFFD. Once the buffer
 * has grown to fit the documents written, no call allocates.
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndl/names.h>
#include "jsonw.h"
#include "wordscan.h"

/* Frame bits, one byte per level. */
#define F_OBJECT 0x01u  /* an object (else an array) */
#define F_MORE   0x02u  /* at least one member written: the next needs a comma */
#define F_KEY    0x04u  /* a key written, its value still due */

#define INITIAL_CAP 256u

static struct ndl_jwb *jwb(struct ndl_jw *jw)
{
	return (struct ndl_jwb *)jw;
}

static void fail(struct ndl_jwb *w, int error)
{
	if (!w->error)
		w->error = error;
}

static void terminate(struct ndl_jwb *w)
{
	if (w->buf)
		w->buf[w->len] = '\0';
}

/* Slow path of reserve(): enforce the limit, grow by doubling. */
static bool grow(struct ndl_jwb *w, size_t n)
{
	size_t need, cap;
	char *buf;

	if (n > w->limit - w->len) {
		fail(w, NDL_JWB_LIMIT);
		return false;
	}
	need = w->len + n + 1;   /* fits: len + n <= limit < SIZE_MAX */
	cap = w->cap ? w->cap : INITIAL_CAP;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > w->limit && w->limit < SIZE_MAX)
		cap = w->limit + 1 > need ? w->limit + 1 : need;
	buf = realloc(w->buf, cap);
	if (!buf) {
		fail(w, NDL_JWB_NOMEM);
		return false;
	}
	w->buf = buf;
	w->cap = cap;
	return true;
}

/* Make room for n more bytes plus the NUL; false (error set) when impossible. */
static inline bool reserve(struct ndl_jwb *w, size_t n)
{
	if (n < w->cap - w->len && n <= w->limit - w->len)
		return true;
	return grow(w, n);
}

static inline uint8_t *frame_of(struct ndl_jwb *w)
{
	return w->depth ? &w->frame[w->depth - 1] : &w->top;
}

/*
 * Check that a value may come now and reserve n bytes for it plus any comma.
 * Returns where the value's bytes go (after any comma), or NULL.
 */
static char *value_open(struct ndl_jwb *w, size_t n)
{
	uint8_t f;
	size_t comma;
	char *o;

	if (w->error)
		return NULL;
	f = *frame_of(w);
	if (w->depth == 0) {
		if (f & F_MORE) {       /* a document holds one value */
			fail(w, NDL_JWB_NESTING);
			return NULL;
		}
	} else if ((f & F_OBJECT) && !(f & F_KEY)) {
		fail(w, NDL_JWB_NESTING);
		return NULL;
	}
	comma = w->depth && (f & (F_MORE | F_OBJECT)) == F_MORE;
	if (!reserve(w, n + comma))
		return NULL;
	o = w->buf + w->len;
	if (comma)
		*o++ = ',';
	return o;
}

/* The value ending at o is complete: account for it in the frame. */
static inline void value_close(struct ndl_jwb *w, char *o)
{
	uint8_t *f = frame_of(w);

	*f = (uint8_t)((*f & ~F_KEY) | F_MORE);
	w->len = (size_t)(o - w->buf);
	w->buf[w->len] = '\0';
}

/* ------------------------------------------------------------------------ */
/* Strings                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * Byte classes: 0 copied as is, 1 escaped (RFC 8259 section 7: quotation
 * mark, reverse solidus and U+0000..U+001F), 2 starts a UTF-8 sequence.
 */
static const uint8_t byte_class[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* The short escape of an escaped ASCII byte, or 'u' for \u00XX. */
static const char short_escape[128] = {
	['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r',
	['"'] = '"', ['\\'] = '\\',
};

static const char hex_digit[16] = "0123456789abcdef";

/*
 * UTF-8 lead bytes (RFC 3629 section 4): the sequence length, and the range
 * allowed for the second byte (narrower after E0, ED, F0 and F4 to exclude
 * overlong forms, surrogates and code points past U+10FFFF). Length 0: the
 * byte never starts a sequence (continuation bytes, C0, C1, F5..FF).
 */
struct utf8_lead {
	uint8_t len, lo, hi;
};

static const struct utf8_lead utf8_lead[128] = {
	[0x42] = {2, 0x80, 0xbf}, [0x43] = {2, 0x80, 0xbf}, [0x44] = {2, 0x80, 0xbf},
	[0x45] = {2, 0x80, 0xbf}, [0x46] = {2, 0x80, 0xbf}, [0x47] = {2, 0x80, 0xbf},
	[0x48] = {2, 0x80, 0xbf}, [0x49] = {2, 0x80, 0xbf}, [0x4a] = {2, 0x80, 0xbf},
	[0x4b] = {2, 0x80, 0xbf}, [0x4c] = {2, 0x80, 0xbf}, [0x4d] = {2, 0x80, 0xbf},
	[0x4e] = {2, 0x80, 0xbf}, [0x4f] = {2, 0x80, 0xbf}, [0x50] = {2, 0x80, 0xbf},
	[0x51] = {2, 0x80, 0xbf}, [0x52] = {2, 0x80, 0xbf}, [0x53] = {2, 0x80, 0xbf},
	[0x54] = {2, 0x80, 0xbf}, [0x55] = {2, 0x80, 0xbf}, [0x56] = {2, 0x80, 0xbf},
	[0x57] = {2, 0x80, 0xbf}, [0x58] = {2, 0x80, 0xbf}, [0x59] = {2, 0x80, 0xbf},
	[0x5a] = {2, 0x80, 0xbf}, [0x5b] = {2, 0x80, 0xbf}, [0x5c] = {2, 0x80, 0xbf},
	[0x5d] = {2, 0x80, 0xbf}, [0x5e] = {2, 0x80, 0xbf}, [0x5f] = {2, 0x80, 0xbf},
	[0x60] = {3, 0xa0, 0xbf},
	[0x61] = {3, 0x80, 0xbf}, [0x62] = {3, 0x80, 0xbf}, [0x63] = {3, 0x80, 0xbf},
	[0x64] = {3, 0x80, 0xbf}, [0x65] = {3, 0x80, 0xbf}, [0x66] = {3, 0x80, 0xbf},
	[0x67] = {3, 0x80, 0xbf}, [0x68] = {3, 0x80, 0xbf}, [0x69] = {3, 0x80, 0xbf},
	[0x6a] = {3, 0x80, 0xbf}, [0x6b] = {3, 0x80, 0xbf}, [0x6c] = {3, 0x80, 0xbf},
	[0x6d] = {3, 0x80, 0x9f},
	[0x6e] = {3, 0x80, 0xbf}, [0x6f] = {3, 0x80, 0xbf},
	[0x70] = {4, 0x90, 0xbf},
	[0x71] = {4, 0x80, 0xbf}, [0x72] = {4, 0x80, 0xbf}, [0x73] = {4, 0x80, 0xbf},
	[0x74] = {4, 0x80, 0x8f},
};

/*
 * True when one of the 8 bytes of x is not copied as is: it ends or spoils
 * a string (wordscan.h), or it is 0x80 and above, which the UTF-8 check
 * must see.
 */
static inline bool word_special(uint64_t x)
{
	return (ndl__string_stops(x) | (x & NDL__HIGHS)) != 0;
}

/*
 * Write the quoted form of s at o, where room for n + 2 bytes has been
 * reserved, when no byte of s needs care: returns the end. Otherwise
 * returns NULL, having written bytes of no use. Every length takes a few
 * word checks and stores: two overlapping halves for 4-7 bytes, words and
 * then the last word of s (overlapping bytes already stored) for 8 or
 * more. Small, so that the common case inlines into the operations.
 */
static inline char *put_plain(char *o, const uint8_t *s, size_t n)
{
	*o++ = '"';
	if (n >= 8) {
		uint64_t x;

		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&x, s + i, sizeof(x));
			if (word_special(x))
				return NULL;
			memcpy(o + i, &x, sizeof(x));
		}
		memcpy(&x, s + n - 8, sizeof(x));
		if (word_special(x))
			return NULL;
		memcpy(o + n - 8, &x, sizeof(x));
	} else if (n >= 4) {
		uint32_t a, b;

		memcpy(&a, s, sizeof(a));
		memcpy(&b, s + n - 4, sizeof(b));
		if (word_special((uint64_t)a << 32 | b))
			return NULL;
		memcpy(o, &a, sizeof(a));
		memcpy(o + n - 4, &b, sizeof(b));
	} else {
		for (size_t i = 0; i < n; i++) {
			if (byte_class[s[i]])
				return NULL;
			o[i] = (char)s[i];
		}
	}
	o += n;
	*o++ = '"';
	return o;
}

/*
 * Write the quoted, escaped form of s at o, where room for n + 2 bytes has
 * been reserved (no string takes fewer). Returns the end, or NULL on error.
 */
static char *put_escaped(struct ndl_jwb *w, char *o, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s, *end = p + n;
	char *lim = o + n + 2;   /* end of the room reserved so far */

	*o++ = '"';
	while (p < end) {
		size_t extra;

		/* The run of bytes copied as is: 8 at a time while a whole word
		 * is plain (the room reserved covers every byte of s); with
		 * fewer than 8 left, the last 8 bytes of s as one word, else one
		 * by one up to the byte that needs care. No call for short runs. */
		while (end - p >= 8) {
			uint64_t x;

			memcpy(&x, p, sizeof(x));
			if (word_special(x))
				break;
			memcpy(o, &x, sizeof(x));
			o += 8;
			p += 8;
		}
		if (end - p < 8 && n >= 8) {
			uint64_t x;

			memcpy(&x, end - 8, sizeof(x));
			if (!word_special(x)) {
				/* Every byte escaped or checked as UTF-8 is special, so
				 * those of the word before p were copied as is, each
				 * as far before o as it is before p: rewriting them
				 * with themselves is harmless. */
				memcpy(o + (end - p) - 8, &x, sizeof(x));
				o += end - p;
				break;
			}
		}
		while (p < end && byte_class[*p] == 0)
			*o++ = (char)*p++;
		if (p == end)
			break;

		if (*p < 0x80) {
			extra = short_escape[*p] ? 1 : 5;   /* \n or \u00XX */
		} else {
			const struct utf8_lead *l = &utf8_lead[*p - 0x80];
			size_t have = (size_t)(end - p), k = 1;

			if (l->len && have > 1 && p[1] >= l->lo && p[1] <= l->hi) {
				k = 2;
				while (k < l->len && k < have && (p[k] & 0xc0) == 0x80)
					k++;
			}
			if (k == l->len) {   /* well formed: copied as is */
				memcpy(o, p, k);
				o += k;
				p += k;
				continue;
			}
			/* ill formed: k bytes become EF BF BD */
			extra = k < 3 ? 3 - k : 0;
			if (o + extra + (size_t)(end - p) + 1 > lim) {
				w->len = (size_t)(o - w->buf);
				if (!reserve(w, extra + (size_t)(end - p) + 1))
					return NULL;
				o = w->buf + w->len;
				lim = o + extra + (size_t)(end - p) + 1;
			}
			*o++ = (char)0xef;
			*o++ = (char)0xbf;
			*o++ = (char)0xbd;
			p += k;
			continue;
		}
		if (o + extra + (size_t)(end - p) + 1 > lim) {
			w->len = (size_t)(o - w->buf);
			if (!reserve(w, extra + (size_t)(end - p) + 1))
				return NULL;
			o = w->buf + w->len;
			lim = o + extra + (size_t)(end - p) + 1;
		}
		*o++ = '\\';
		if (short_escape[*p]) {
			*o++ = short_escape[*p];
		} else {
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex_digit[*p >> 4];
			*o++ = hex_digit[*p & 0xf];
		}
		p++;
	}
	*o++ = '"';
	return o;
}

/* put_escaped() for s, through put_plain() when s needs no care. */
static inline char *put_string(struct ndl_jwb *w, char *o, const char *s, size_t n)
{
	char *end = put_plain(o, (const uint8_t *)s, n);

	return end ? end : put_escaped(w, o, s, n);
}

/* ------------------------------------------------------------------------ */
/* Operations                                                                */
/* ------------------------------------------------------------------------ */

static void begin_container(struct ndl_jwb *w, char c, uint8_t kind)
{
	char *o;

	if (w->error)
		return;
	if (w->depth >= NDL_JWB_MAX_DEPTH) {
		fail(w, NDL_JWB_DEPTH);
		return;
	}
	o = value_open(w, 1);
	if (!o)
		return;
	*o++ = c;
	w->len = (size_t)(o - w->buf);
	w->buf[w->len] = '\0';
	w->frame[w->depth++] = kind;
}

static void end_container(struct ndl_jwb *w, char c, uint8_t kind)
{
	uint8_t f;

	if (w->error)
		return;
	if (w->depth == 0) {
		fail(w, NDL_JWB_NESTING);
		return;
	}
	f = w->frame[w->depth - 1];
	if ((f & F_OBJECT) != kind || (f & F_KEY)) {
		fail(w, NDL_JWB_NESTING);
		return;
	}
	if (!reserve(w, 1))
		return;
	w->depth--;
	value_close(w, w->buf + w->len + 1);
	w->buf[w->len - 1] = c;
}

static void op_begin_object(struct ndl_jw *jw)
{
	begin_container(jwb(jw), '{', F_OBJECT);
}

static void op_end_object(struct ndl_jw *jw)
{
	end_container(jwb(jw), '}', F_OBJECT);
}

static void op_begin_array(struct ndl_jw *jw)
{
	begin_container(jwb(jw), '[', 0);
}

static void op_end_array(struct ndl_jw *jw)
{
	end_container(jwb(jw), ']', 0);
}

static void op_key(struct ndl_jw *jw, const char *key, size_t len)
{
	struct ndl_jwb *w = jwb(jw);
	uint8_t *f;
	char *o, *end;

	if (w->error)
		return;
	if (w->depth == 0 || (w->frame[w->depth - 1] & (F_OBJECT | F_KEY)) != F_OBJECT) {
		fail(w, NDL_JWB_NESTING);
		return;
	}
	f = &w->frame[w->depth - 1];
	if (!reserve(w, len + 4))   /* comma, quotes, colon */
		return;
	o = w->buf + w->len;
	*o = ',';
	o += (*f & F_MORE) != 0;
	end = put_plain(o, (const uint8_t *)key, len);
	if (end) {
		/* the common case: the colon fits in what was reserved */
		*end++ = ':';
		*end = '\0';
		w->len = (size_t)(end - w->buf);
		*f = (uint8_t)(*f | F_KEY);
		return;
	}
	o = put_escaped(w, o, key, len);
	if (!o) {
		terminate(w);
		return;
	}
	w->len = (size_t)(o - w->buf);
	if (!reserve(w, 1)) {   /* the colon */
		terminate(w);
		return;
	}
	w->buf[w->len++] = ':';
	w->buf[w->len] = '\0';
	*f = (uint8_t)(*f | F_KEY);
}

static void op_string(struct ndl_jw *jw, const char *s, size_t len)
{
	struct ndl_jwb *w = jwb(jw);
	char *o = value_open(w, len + 2);

	if (!o)
		return;
	o = put_string(w, o, s, len);
	if (!o) {
		terminate(w);
		return;
	}
	value_close(w, o);
}

static const char digit_pairs[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Decimal digits of v, written backwards ending at end; returns the start. */
static char *put_u64_rev(char *end, uint64_t v)
{
	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		*--end = digit_pairs[2 * r + 1];
		*--end = digit_pairs[2 * r];
	}
	if (v >= 10) {
		*--end = digit_pairs[2 * v + 1];
		*--end = digit_pairs[2 * v];
	} else {
		*--end = (char)('0' + v);
	}
	return end;
}

static void put_bytes(struct ndl_jwb *w, const char *s, size_t n)
{
	char *o = value_open(w, n);

	if (!o)
		return;
	memcpy(o, s, n);
	value_close(w, o + n);
}

static void op_int64(struct ndl_jw *jw, int64_t v)
{
	char tmp[24], *end = tmp + sizeof(tmp), *p;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	p = put_u64_rev(end, u);
	if (v < 0)
		*--p = '-';
	put_bytes(jwb(jw), p, (size_t)(end - p));
}

static void op_uint64(struct ndl_jw *jw, uint64_t v)
{
	char tmp[24], *end = tmp + sizeof(tmp), *p;

	p = put_u64_rev(end, v);
	put_bytes(jwb(jw), p, (size_t)(end - p));
}

static void op_null(struct ndl_jw *jw)
{
	put_bytes(jwb(jw), "null", 4);
}

static void op_boolean(struct ndl_jw *jw, bool v)
{
	if (v)
		put_bytes(jwb(jw), "true", 4);
	else
		put_bytes(jwb(jw), "false", 5);
}

/*
 * The shortest "%.Ng" form of v that reads back as v, written as a JSON
 * number (RFC 8259 section 6): ".0" is added to integral values so that
 * readers keep them floating point, like Python's repr does.
 */
static size_t format_real(char *out, size_t size, double v)
{
	int n = 0;

	/* A decimal of at most DBL_DIG (15) digits survives the trip through
	 * a normal double, so "%.15g" is the shortest when it reads back. */
	for (int prec = DBL_DIG; prec <= 17; prec++) {
		n = snprintf(out, size, "%.*g", prec, v);
		if (prec == 17 || strtod(out, NULL) == v)
			break;
	}
	if (n > 0 && (size_t)n < size && fabs(v) < DBL_MIN && v != 0.0) {
		/* subnormals carry fewer digits: look further down */
		char tmp[40];

		for (int prec = DBL_DIG - 1; prec >= 1; prec--) {
			int m = snprintf(tmp, sizeof(tmp), "%.*g", prec, v);

			if (m <= 0 || (size_t)m >= size || strtod(tmp, NULL) != v)
				break;
			memcpy(out, tmp, (size_t)m + 1);
			n = m;
		}
	}
	if (n < 0 || (size_t)n >= size)
		return 0;
	for (int i = 0; i < n; i++) {
		if (out[i] == ',')      /* a locale's decimal separator */
			out[i] = '.';
	}
	if (!strpbrk(out, ".e") && (size_t)n + 2 < size) {
		out[n++] = '.';
		out[n++] = '0';
		out[n] = '\0';
	}
	return (size_t)n;
}

static void op_real(struct ndl_jw *jw, double v)
{
	char tmp[40];
	size_t n;

	if (!isfinite(v)) {
		op_null(jw);
		return;
	}
	if (fabs(v) < 1e15 && v == (double)(int64_t)v && !(v == 0.0 && signbit(v))) {
		/* integral: the digits and ".0", as format_real would write them */
		char *end = tmp + sizeof(tmp), *p = end - 2;
		int64_t i = (int64_t)v;

		end[-2] = '.';
		end[-1] = '0';
		p = put_u64_rev(p, i < 0 ? 0 - (uint64_t)i : (uint64_t)i);
		if (i < 0)
			*--p = '-';
		put_bytes(jwb(jw), p, (size_t)(end - p));
		return;
	}
	n = format_real(tmp, sizeof(tmp), v);
	if (n == 0) {
		op_null(jw);
		return;
	}
	put_bytes(jwb(jw), tmp, n);
}

/* t as seconds with six decimals, ending at end; returns the start. */
static char *format_time(char *end, ndl_time_ns t)
{
	int64_t us = t / 1000;   /* truncated toward zero */
	uint64_t u = us < 0 ? 0 - (uint64_t)us : (uint64_t)us;
	unsigned frac = (unsigned)(u % 1000000);
	char *p = end;

	for (int i = 0; i < 3; i++) {
		*--p = digit_pairs[2 * (frac % 100) + 1];
		*--p = digit_pairs[2 * (frac % 100)];
		frac /= 100;
	}
	*--p = '.';
	p = put_u64_rev(p, u / 1000000);
	if (us < 0)
		*--p = '-';
	return p;
}

static void op_time(struct ndl_jw *jw, ndl_time_ns t)
{
	char tmp[32], *end = tmp + sizeof(tmp), *p = format_time(end, t);

	put_bytes(jwb(jw), p, (size_t)(end - p));
}

static void op_hex(struct ndl_jw *jw, const uint8_t *bytes, size_t len)
{
	struct ndl_jwb *w = jwb(jw);
	char *o;

	if (len > SIZE_MAX / 2 - 2) {
		fail(w, NDL_JWB_LIMIT);
		return;
	}
	o = value_open(w, 2 * len + 2);
	if (!o)
		return;
	*o++ = '"';
	for (size_t i = 0; i < len; i++) {
		*o++ = hex_digit[bytes[i] >> 4];
		*o++ = hex_digit[bytes[i] & 0xf];
	}
	*o++ = '"';
	value_close(w, o);
}

static void op_mac(struct ndl_jw *jw, const uint8_t mac[6])
{
	char tmp[19], *o = tmp;

	*o++ = '"';
	for (int i = 0; i < 6; i++) {
		if (i)
			*o++ = ':';
		*o++ = hex_digit[mac[i] >> 4];
		*o++ = hex_digit[mac[i] & 0xf];
	}
	*o++ = '"';
	put_bytes(jwb(jw), tmp, (size_t)(o - tmp));
}

static void op_ip(struct ndl_jw *jw, int version, const uint8_t *addr)
{
	char tmp[NDL_IPV6_TEXT_MAX + 2], *o = tmp;
	size_t n;

	if (!addr || (version != 4 && version != 6)) {
		op_null(jw);
		return;
	}
	*o++ = '"';
	if (version == 4) {
		/* without printf: the hot case of packet chefs */
		o = ndl_ipv4_text(o, addr);
	} else {
		o = ndl_ipv6_text(o, addr);   /* inet_ntop's text, without its sprintf */
	}
	*o++ = '"';
	n = (size_t)(o - tmp);
	put_bytes(jwb(jw), tmp, n);
}

/* Line breaks, which valid JSON holds only as whitespace, become spaces:
 * a dumpling stays one line (JSON Lines out, batch lines to the hub). */
static void op_raw(struct ndl_jw *jw, const char *json, size_t len)
{
	struct ndl_jwb *w = jwb(jw);
	char *o, *end, *p;

	if (len == 0) {          /* nothing is not a value */
		op_null(jw);
		return;
	}
	o = value_open(w, len);
	if (!o)
		return;
	memcpy(o, json, len);
	end = o + len;
	for (p = o; (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		*p = ' ';
	for (p = o; (p = memchr(p, '\r', (size_t)(end - p))) != NULL; p++)
		*p = ' ';
	value_close(w, end);
}

const struct ndl_jw_ops ndl_jwb_ops = {
	.struct_size = sizeof(struct ndl_jw_ops),
	.begin_object = op_begin_object,
	.end_object = op_end_object,
	.begin_array = op_begin_array,
	.end_array = op_end_array,
	.key = op_key,
	.string = op_string,
	.int64 = op_int64,
	.uint64 = op_uint64,
	.real = op_real,
	.boolean = op_boolean,
	.null = op_null,
	.time = op_time,
	.hex = op_hex,
	.mac = op_mac,
	.ip = op_ip,
	.raw = op_raw,
};

/* ------------------------------------------------------------------------ */
/* Buffer management                                                         */
/* ------------------------------------------------------------------------ */

void ndl_jwb_init(struct ndl_jwb *w, size_t limit)
{
	memset(w, 0, sizeof(*w));
	w->base.ops = &ndl_jwb_ops;
	w->limit = limit ? limit : SIZE_MAX - 1;
	if (grow(w, 0))
		terminate(w);
}

void ndl_jwb_free(struct ndl_jwb *w)
{
	if (!w)
		return;
	free(w->buf);
	w->buf = NULL;
	w->cap = 0;
	w->len = 0;
	w->depth = 0;
	w->top = 0;
}

void ndl_jwb_reset(struct ndl_jwb *w)
{
	w->len = 0;
	w->error = 0;
	w->depth = 0;
	w->top = 0;
	if (w->buf)
		w->buf[0] = '\0';
	else if (grow(w, 0))
		terminate(w);
}

void ndl_jwb_rewind(struct ndl_jwb *w, size_t len, uint32_t depth)
{
	uint8_t *f;
	char last;

	if (len > w->len || depth > NDL_JWB_MAX_DEPTH || (depth && len == 0))
		return;
	if (w->error == NDL_JWB_LIMIT)
		w->error = 0;
	w->len = len;
	w->depth = depth;
	terminate(w);
	/* What precedes the cut says where the level stands. */
	f = frame_of(w);
	last = len ? w->buf[len - 1] : '\0';
	if (depth == 0) {
		w->top = len ? F_MORE : 0;
		return;
	}
	*f &= F_OBJECT;
	if (last == ':')
		*f |= F_KEY;
	else if (last != '{' && last != '[')
		*f |= F_MORE;
}

void ndl_jwb_append(struct ndl_jwb *w, const char *s, size_t len)
{
	if (w->error || !reserve(w, len))
		return;
	memcpy(w->buf + w->len, s, len);
	w->len += len;
	w->buf[w->len] = '\0';
}

/* ------------------------------------------------------------------------ */
/* For the envelope                                                          */
/* ------------------------------------------------------------------------ */

void ndl__jwb_put_string(struct ndl_jwb *w, const char *s, size_t len)
{
	char *o;

	if (w->error || !reserve(w, len + 2))
		return;
	o = put_string(w, w->buf + w->len, s, len);
	if (o)
		w->len = (size_t)(o - w->buf);
	terminate(w);
}

char *ndl__jw_u64_rev(char *end, uint64_t v)
{
	return put_u64_rev(end, v);
}

char *ndl__jw_time_rev(char *end, ndl_time_ns t)
{
	return format_time(end, t);
}

void ndl__jwb_member_value_due(struct ndl_jwb *w)
{
	w->top = 0;
	w->depth = 1;
	w->frame[0] = F_OBJECT | F_MORE | F_KEY;
}
