/* SPDX-License-Identifier: MIT */
/*
 * test_jsonw.c - the streaming JSON writer: exact bytes of every operation,
 * structure errors, limits, string escaping and UTF-8 repair (checked
 * against jansson and an independent decoder), shortest round-trip reals.
 */
#include <arpa/inet.h>
#include <check.h>
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

static struct ndl_jwb W;
static struct ndl_jw *J;

static void setup(void)
{
	ndl_jwb_init(&W, 0);
	J = ndl_jwb_jw(&W);
}

static void teardown(void)
{
	ndl_jwb_free(&W);
}

/* The document is exactly want, well formed and complete. */
#define ck_doc(want) do { \
	ck_assert_int_eq(ndl_jwb_error(&W), NDL_JWB_OK); \
	ck_assert_str_eq(W.buf, (want)); \
	ck_assert_uint_eq(W.len, strlen(want)); \
	ck_assert(ndl_jwb_complete(&W)); \
} while (0)

/* Deterministic pseudo-random numbers (xorshift64*). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/* ------------------------------------------------------------------------ */
/* Scalars                                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(test_ops_table)
{
	ck_assert_ptr_eq(W.base.ops, &ndl_jwb_ops);
	ck_assert_uint_eq(ndl_jwb_ops.struct_size, sizeof(struct ndl_jw_ops));
	ck_assert_ptr_nonnull(W.buf);
	ck_assert_str_eq(W.buf, "");
	ck_assert_uint_eq(W.len, 0);
	ck_assert(ndl_jwb_complete(&W));
}
END_TEST

START_TEST(test_int64)
{
	static const struct { int64_t v; const char *s; } cases[] = {
		{0, "0"}, {1, "1"}, {-1, "-1"}, {10, "10"}, {-1234567890, "-1234567890"},
		{INT64_MAX, "9223372036854775807"}, {INT64_MIN, "-9223372036854775808"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ndl_jwb_reset(&W);
		ndl_jw_int(J, cases[i].v);
		ck_doc(cases[i].s);
	}
}
END_TEST

START_TEST(test_uint64)
{
	ndl_jw_uint(J, 0);
	ck_doc("0");
	ndl_jwb_reset(&W);
	ndl_jw_uint(J, UINT64_MAX);
	ck_doc("18446744073709551615");
	ndl_jwb_reset(&W);
	ndl_jw_uint(J, 1000000);
	ck_doc("1000000");
}
END_TEST

START_TEST(test_literals)
{
	ndl_jw_begin_array(J);
	ndl_jw_bool(J, true);
	ndl_jw_bool(J, false);
	ndl_jw_null(J);
	ndl_jw_end_array(J);
	ck_doc("[true,false,null]");
}
END_TEST

START_TEST(test_real_exact)
{
	static const struct { double v; const char *s; } cases[] = {
		{0.1, "0.1"}, {0.0, "0.0"}, {-0.0, "-0.0"}, {5.0, "5.0"}, {-2.5, "-2.5"},
		{1e300, "1e+300"}, {1e-7, "1e-07"}, {123456.789, "123456.789"},
		{1.0 / 3.0, "0.3333333333333333"}, {0.1 + 0.2, "0.30000000000000004"},
		{DBL_MAX, "1.7976931348623157e+308"}, {5e-324, "5e-324"},
		{1e21, "1e+21"}, {1e15, "1e+15"}, {1e14, "100000000000000.0"}, {-3.0, "-3.0"},
		{999999999999999.0, "999999999999999.0"}, {9007199254740992.0, "9007199254740992.0"},
		{123456789012345678.0, "1.2345678901234568e+17"}, {-1e-300, "-1e-300"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ndl_jwb_reset(&W);
		ndl_jw_real(J, cases[i].v);
		ck_doc(cases[i].s);
	}
}
END_TEST

START_TEST(test_real_nonfinite)
{
	ndl_jw_begin_array(J);
	ndl_jw_real(J, NAN);
	ndl_jw_real(J, -NAN);
	ndl_jw_real(J, INFINITY);
	ndl_jw_real(J, -INFINITY);
	ndl_jw_end_array(J);
	ck_doc("[null,null,null,null]");
}
END_TEST

/* The significant digits of a %g-style number ("120.0" has 2, "1.5e-07" 2). */
static int sig_digits(const char *s)
{
	char digits[40];
	int n = 0;

	for (; *s && *s != 'e'; s++) {
		if (*s < '0' || *s > '9' || (n == 0 && *s == '0'))
			continue;
		digits[n++] = *s;
	}
	while (n > 0 && digits[n - 1] == '0')
		n--;
	return n;
}

START_TEST(test_real_roundtrip_random)
{
	int tested = 0;

	for (int i = 0; i < 20000; i++) {
		uint64_t bits = rnd();
		double v, back;
		json_t *j;
		json_error_t err;
		char shorter[400];

		/* half random bit patterns, half plain decimal-ish values */
		if (i & 1)
			memcpy(&v, &bits, sizeof(v));
		else
			v = (double)(int64_t)(bits >> 20) / (double)(1 + (bits & 0xfffff));
		if (!isfinite(v))
			continue;
		tested++;
		ndl_jwb_reset(&W);
		ndl_jw_real(J, v);
		ck_assert_int_eq(ndl_jwb_error(&W), 0);
		back = strtod(W.buf, NULL);
		ck_assert_msg(memcmp(&back, &v, sizeof(v)) == 0, "%s does not read back as %.17g", W.buf, v);
		j = json_loads(W.buf, JSON_DECODE_ANY, &err);
		ck_assert_msg(j != NULL, "jansson rejects %s: %s", W.buf, err.text);
		ck_assert(json_is_real(j));
		ck_assert(json_real_value(j) == v);
		json_decref(j);
		/* shortest: one digit fewer does not read back */
		int d = sig_digits(W.buf);
		if (d > 1) {
			snprintf(shorter, sizeof(shorter), "%.*g", d - 1, v);
			ck_assert_msg(strtod(shorter, NULL) != v, "%s is shorter than %s", shorter, W.buf);
		}
	}
	ck_assert_int_gt(tested, 19000);
}
END_TEST

START_TEST(test_time)
{
	static const struct { ndl_time_ns t; const char *s; } cases[] = {
		{0, "0.000000"},
		{1795322030150690123LL, "1795322030.150690"},
		{1795322030150690999LL, "1795322030.150690"},
		{1000, "0.000001"}, {999, "0.000000"},
		{1000000000LL, "1.000000"},
		{-1000, "-0.000001"}, {-1500, "-0.000001"}, {-999, "0.000000"},
		{-1000000000LL, "-1.000000"}, {-1500000000LL, "-1.500000"},
		{-1795322030150690000LL, "-1795322030.150690"},
		{INT64_MAX, "9223372036.854775"}, {INT64_MIN, "-9223372036.854775"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ndl_jwb_reset(&W);
		ndl_jw_time(J, cases[i].t);
		ck_doc(cases[i].s);
	}
}
END_TEST

START_TEST(test_hex_mac_ip)
{
	static const uint8_t bytes[] = {0x00, 0x01, 0xab, 0xcd, 0xef, 0xff, 0x7f};
	static const uint8_t mac[6] = {0xaa, 0xbb, 0xcc, 0x0d, 0xee, 0xf0};
	static const uint8_t v4[4] = {192, 0, 2, 1};
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	static const uint8_t v4m[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};

	ndl_jw_begin_array(J);
	ndl_jw_hex(J, bytes, sizeof(bytes));
	ndl_jw_hex(J, bytes, 0);
	ndl_jw_mac(J, mac);
	ndl_jw_ip(J, 4, v4);
	ndl_jw_ip(J, 6, v6);
	ndl_jw_ip(J, 6, v4m);
	ndl_jw_ip(J, 5, v4);
	ndl_jw_ip(J, 0, v4);
	ndl_jw_ip(J, 4, NULL);
	ndl_jw_end_array(J);
	ck_doc("[\"0001abcdefff7f\",\"\",\"aa:bb:cc:0d:ee:f0\",\"192.0.2.1\",\"2001:db8::1\","
	       "\"::ffff:10.0.0.1\",null,null,null]");
}
END_TEST

/* One IPv6 address through the writer against glibc's inet_ntop; false
 * (with the two texts) when they differ. */
static bool ipv6_matches(const uint8_t a[16], char *got, char *want, size_t len)
{
	char text[INET6_ADDRSTRLEN];

	ndl_jwb_reset(&W);
	ndl_jw_ip(J, 6, a);
	ck_assert_ptr_nonnull(inet_ntop(AF_INET6, a, text, sizeof(text)));
	snprintf(want, len, "\"%s\"", text);
	snprintf(got, len, "%s", W.buf);
	return strcmp(got, want) == 0;
}

/*
 * The writer formats IPv6 itself: the same text as inet_ntop for every
 * pattern of zero and non-zero groups (each non-zero group from a set
 * covering 1 to 4 hex digits), the IPv4-embedded forms and their near
 * misses, and random addresses.
 */
START_TEST(test_ipv6_like_inet_ntop)
{
	static const unsigned int values[] = { 0x1, 0xa, 0x10, 0xff, 0x100, 0xabc, 0x1000,
					       0xffff, 0xfffe, 0x0db8 };
	char got[64], want[64];
	uint8_t a[16];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned int checked = 0;

	for (unsigned int mask = 0; mask < 256; mask++) {
		for (unsigned int v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
			for (int g = 0; g < 8; g++) {
				unsigned int w = (mask >> g) & 1 ?
					values[(v + (unsigned int)g) % 10] : 0;

				a[2 * g] = (uint8_t)(w >> 8);
				a[2 * g + 1] = (uint8_t)w;
			}
			ck_assert_msg(ipv6_matches(a, got, want, sizeof(want)),
				      "%s, inet_ntop says %s", got, want);
			checked++;
		}
	}
	/* ::a.b.c.d, ::ffff:a.b.c.d and the ones just beside them */
	for (unsigned int k = 0; k < 6; k++) {
		static const unsigned int g5[] = { 0, 0xffff, 0xfffe, 0, 0xffff, 1 };
		static const unsigned int g4[] = { 0, 0, 0, 1, 1, 0 };

		memset(a, 0, sizeof(a));
		a[8] = (uint8_t)(g4[k] >> 8);
		a[9] = (uint8_t)g4[k];
		a[10] = (uint8_t)(g5[k] >> 8);
		a[11] = (uint8_t)g5[k];
		for (unsigned int tail = 0; tail < 4; tail++) {
			a[12] = (uint8_t)(tail & 1 ? 192 : 0);
			a[13] = (uint8_t)(tail & 2 ? 168 : 0);
			a[14] = 0;
			a[15] = (uint8_t)tail;
			ck_assert_msg(ipv6_matches(a, got, want, sizeof(want)),
				      "%s, inet_ntop says %s", got, want);
			checked++;
		}
	}
	for (int i = 0; i < 100000; i++) {
		for (int b = 0; b < 16; b++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* zero bytes often, so that zero groups and runs come up */
			a[b] = (x & 3) == 0 ? (uint8_t)(x >> 8) : 0;
		}
		ck_assert_msg(ipv6_matches(a, got, want, sizeof(want)),
			      "%s, inet_ntop says %s", got, want);
		checked++;
	}
	ck_assert_uint_gt(checked, 100000);
}
END_TEST

START_TEST(test_raw)
{
	ndl_jw_begin_object(J);
	ndl_jw_key(J, "a");
	ndl_jw_raw(J, "{\"x\":[1,2]}", 11);
	ndl_jw_key(J, "b");
	ndl_jw_raw(J, "17", 2);
	ndl_jw_key(J, "c");
	ndl_jw_raw(J, "", 0);
	ndl_jw_key(J, "d");   /* pretty-printed: still one line */
	ndl_jw_raw(J, "{\r\n  \"y\": [\n    1\n  ]\n}", 23);
	ndl_jw_end_object(J);
	ck_doc("{\"a\":{\"x\":[1,2]},\"b\":17,\"c\":null,\"d\":{    \"y\": [     1   ] }}");
}
END_TEST

START_TEST(test_string_plain)
{
	ndl_jw_begin_array(J);
	ndl_jw_string(J, "");
	ndl_jw_string(J, "hello world/~");
	ndl_jw_string_n(J, "abcdef", 3);
	ndl_jw_string_n(J, "x\0y", 3);
	ndl_jw_string(J, "\x7f");
	ndl_jw_end_array(J);
	ck_doc("[\"\",\"hello world/~\",\"abc\",\"x\\u0000y\",\"\x7f\"]");
}
END_TEST

START_TEST(test_string_controls)
{
	/* RFC 8259 section 7: every control character is escaped */
	for (int c = 0; c < 0x20; c++) {
		char in[3] = {'<', (char)c, '>'}, want[16];
		const char *named = NULL;

		switch (c) {
		case '\b': named = "\\b"; break;
		case '\f': named = "\\f"; break;
		case '\n': named = "\\n"; break;
		case '\r': named = "\\r"; break;
		case '\t': named = "\\t"; break;
		}
		if (named)
			snprintf(want, sizeof(want), "\"<%s>\"", named);
		else
			snprintf(want, sizeof(want), "\"<\\u%04x>\"", c);
		ndl_jwb_reset(&W);
		ndl_jw_string_n(J, in, 3);
		ck_doc(want);
	}
	ndl_jwb_reset(&W);
	ndl_jw_string(J, "\"q\" \\ \x1f");
	ck_doc("\"\\\"q\\\" \\\\ \\u001f\"");
}
END_TEST

struct utf8_case {
	const char *in;
	const char *want;   /* the JSON string's content */
};

static const struct utf8_case utf8_cases[] = {
	/* well formed: copied unchanged */
	{"\xc2\x80", "\xc2\x80"},                 /* U+0080 */
	{"\xdf\xbf", "\xdf\xbf"},                 /* U+07FF */
	{"\xe0\xa0\x80", "\xe0\xa0\x80"},         /* U+0800 */
	{"\xe2\x82\xac", "\xe2\x82\xac"},         /* euro sign */
	{"\xed\x9f\xbf", "\xed\x9f\xbf"},         /* U+D7FF */
	{"\xee\x80\x80", "\xee\x80\x80"},         /* U+E000 */
	{"\xef\xbf\xbf", "\xef\xbf\xbf"},         /* U+FFFF */
	{"\xe2\x80\xa8", "\xe2\x80\xa8"},         /* U+2028 */
	{"\xf0\x90\x80\x80", "\xf0\x90\x80\x80"}, /* U+10000 */
	{"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"}, /* emoji */
	{"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"}, /* U+10FFFF */
	{"a\xc3\xa9z", "a\xc3\xa9z"},
	/* ill formed: each maximal subpart becomes U+FFFD */
	{"\x80", "\xef\xbf\xbd"},                                  /* lone continuation */
	{"\xbf\x80", "\xef\xbf\xbd\xef\xbf\xbd"},
	{"\xc0\x80", "\xef\xbf\xbd\xef\xbf\xbd"},                  /* overlong NUL */
	{"\xc1\xbf", "\xef\xbf\xbd\xef\xbf\xbd"},                  /* overlong */
	{"\xe0\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},  /* overlong 3-byte */
	{"\xe0\x9f\xbf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	{"\xf0\x8f\xbf\xbf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* overlong 4-byte */
	{"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},  /* U+D800 surrogate */
	{"\xed\xbf\xbf", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},  /* U+DFFF surrogate */
	{"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* > U+10FFFF */
	{"\xf5\x80\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	{"\xfe", "\xef\xbf\xbd"}, {"\xff", "\xef\xbf\xbd"},
	{"\xc3", "\xef\xbf\xbd"},                                  /* truncated at end */
	{"\xe2\x82", "\xef\xbf\xbd"},                              /* one U+FFFD for the subpart */
	{"\xf0\x9f\x98", "\xef\xbf\xbd"},
	{"\xe2\x82" "A", "\xef\xbf\xbd" "A"},                      /* truncated before ASCII */
	{"\xf0\x9f\x98" "\"", "\xef\xbf\xbd\\\""},                 /* ... before an escaped byte */
	{"\xc3\xc3\xa9", "\xef\xbf\xbd\xc3\xa9"},                  /* lead followed by lead */
	{"\xe2\x28\xa1", "\xef\xbf\xbd(\xef\xbf\xbd"},
	{"\xf8\x88\x80\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
};

START_TEST(test_string_utf8)
{
	const struct utf8_case *c = &utf8_cases[_i];
	char want[128];

	snprintf(want, sizeof(want), "\"%s\"", c->want);
	ndl_jwb_reset(&W);
	ndl_jw_string(J, c->in);
	ck_doc(want);
	/* keys are escaped the same way */
	ndl_jwb_reset(&W);
	ndl_jw_begin_object(J);
	ndl_jw_key(J, c->in);
	ndl_jw_int(J, 1);
	ndl_jw_end_object(J);
	snprintf(want, sizeof(want), "{\"%s\":1}", c->want);
	ck_doc(want);
}
END_TEST

/*
 * An independent reading of RFC 3629: decode one scalar value by arithmetic
 * and range checks. Returns the sequence length (cp set) or 0 when s[0..n)
 * does not start with a well-formed sequence.
 */
static size_t ref_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
	static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
	size_t len;
	uint32_t v;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		v = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		v = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		v = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min_cp[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/* True when p[0..k) begins some well-formed sequence (tried by completing it). */
static int ref_prefix_ok(const uint8_t *p, size_t k)
{
	uint8_t t[4];
	uint32_t cp;

	for (size_t len = k + 1; len <= 4; len++) {
		for (unsigned second = 0x80; second <= 0xbf; second++) {
			for (unsigned fill = 0x80; fill <= 0xbf; fill += 0x3f) {
				memcpy(t, p, k);
				for (size_t i = k; i < len; i++)
					t[i] = (uint8_t)(i == 1 ? second : fill);
				if (ref_decode(t, len, &cp) == len)
					return 1;
			}
			if (k >= 2)
				break;   /* the second byte is given */
		}
	}
	return 0;
}

static size_t ref_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* What a reader should get back for bytes s: U+FFFD per maximal ill-formed subpart. */
static size_t ref_repair(const uint8_t *s, size_t n, char *out)
{
	size_t i = 0, o = 0;
	uint32_t cp;

	while (i < n) {
		size_t len = ref_decode(s + i, n - i, &cp);

		if (len) {
			o += ref_put(out + o, cp);
			i += len;
			continue;
		}
		size_t k = 1;
		while (k < 3 && i + k < n && ref_prefix_ok(s + i, k + 1))
			k++;
		o += ref_put(out + o, 0xfffd);
		i += k;
	}
	return o;
}

static uint8_t random_byte(void)
{
	uint64_t r = rnd();

	switch (r % 6) {
	case 0: return (uint8_t)(0x20 + (r >> 8) % 0x60);  /* printable ASCII */
	case 1: return (uint8_t)((r >> 8) % 0x20);         /* control */
	case 2:
	case 3: return (uint8_t)(0x80 + (r >> 8) % 0x40);  /* continuation */
	default: return (uint8_t)(0xc0 + (r >> 8) % 0x40); /* lead or invalid */
	}
}

START_TEST(test_string_random_bytes)
{
	uint8_t in[48], kin[48];
	char want[48 * 3 + 1], kwant[48 * 3 + 1];

	for (int iter = 0; iter < 20000; iter++) {
		size_t n = (size_t)(rnd() % sizeof(in)), wn;
		json_error_t err;
		json_t *doc, *s, *k;

		for (size_t i = 0; i < n; i++) {
			in[i] = random_byte();
			kin[i] = in[i] ? in[i] : 0x01;   /* jansson refuses NUL in keys */
		}
		wn = ref_repair(in, n, want);
		size_t kn = ref_repair(kin, n, kwant);

		ndl_jwb_reset(&W);
		ndl_jw_begin_object(J);
		ndl_jw_key_n(J, (const char *)kin, n);
		ndl_jw_begin_array(J);
		ndl_jw_string_n(J, (const char *)in, n);
		ndl_jw_end_array(J);
		ndl_jw_end_object(J);
		ck_assert_int_eq(ndl_jwb_error(&W), 0);
		ck_assert(ndl_jwb_complete(&W));

		doc = json_loadb(W.buf, W.len, JSON_ALLOW_NUL, &err);
		ck_assert_msg(doc != NULL, "iteration %d: jansson rejects %s: %s", iter, W.buf, err.text);
		ck_assert_uint_eq(json_object_size(doc), 1);
		void *it = json_object_iter(doc);
		const char *key = json_object_iter_key(it);
		k = json_object_iter_value(it);
		s = json_array_get(k, 0);
		ck_assert(json_is_string(s));
		ck_assert_uint_eq(json_string_length(s), wn);
		ck_assert_msg(memcmp(json_string_value(s), want, wn) == 0, "iteration %d", iter);
		ck_assert_uint_eq(strlen(key), kn);
		ck_assert(memcmp(key, kwant, kn) == 0);
		json_decref(doc);
	}
}
END_TEST

START_TEST(test_string_every_position)
{
	/* one byte of interest at each offset of plain strings of many lengths,
	 * including those next to the escaped values (word-at-a-time scanning) */
	static const uint8_t probes[] = {
		0x00, 0x01, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7e, 0x7f,
		0x80, 0xbf, 0xc2, 0xe0, 0xf0, 0xff,
	};
	uint8_t in[40];
	char want[40 * 6 + 3];

	for (size_t n = 1; n <= sizeof(in); n++) {
		for (size_t pos = 0; pos < n; pos++) {
			for (size_t k = 0; k < sizeof(probes); k++) {
				uint8_t c = probes[k];
				size_t o = 0;

				memset(in, 'a', n);
				in[pos] = c;
				want[o++] = '"';
				for (size_t i = 0; i < n; i++) {
					uint8_t b = in[i];

					if (b == '"' || b == '\\') {
						want[o++] = '\\';
						want[o++] = (char)b;
					} else if (b < 0x20) {
						o += (size_t)sprintf(want + o, "\\u%04x", b);
					} else if (b >= 0x80) {
						want[o++] = (char)0xef;
						want[o++] = (char)0xbf;
						want[o++] = (char)0xbd;
					} else {
						want[o++] = (char)b;
					}
				}
				want[o++] = '"';
				want[o] = '\0';
				ndl_jwb_reset(&W);
				ndl_jw_string_n(J, (const char *)in, n);
				ck_assert_msg(strcmp(W.buf, want) == 0, "length %zu, byte %#x at %zu: %s",
					      n, c, pos, W.buf);
			}
		}
	}
}
END_TEST

/* The writer's exact output for bytes s: quoted, repaired as ref_repair does,
 * then escaped per RFC 8259 section 7. Returns the length written to out. */
static size_t ref_json(const uint8_t *s, size_t n, char *out)
{
	static char fixed[8 * 1024];
	size_t fn = ref_repair(s, n, fixed), o = 0;

	out[o++] = '"';
	for (size_t i = 0; i < fn; i++) {
		uint8_t b = (uint8_t)fixed[i];
		const char *named = NULL;

		switch (b) {
		case '"': named = "\\\""; break;
		case '\\': named = "\\\\"; break;
		case '\b': named = "\\b"; break;
		case '\f': named = "\\f"; break;
		case '\n': named = "\\n"; break;
		case '\r': named = "\\r"; break;
		case '\t': named = "\\t"; break;
		}
		if (named)
			o += (size_t)sprintf(out + o, "%s", named);
		else if (b < 0x20)
			o += (size_t)sprintf(out + o, "\\u%04x", b);
		else
			out[o++] = (char)b;
	}
	out[o++] = '"';
	out[o] = '\0';
	return o;
}

START_TEST(test_string_runs)
{
	/* long plain runs (copied a word at a time) with one sequence that
	 * needs care at the start, the middle, the end or a word boundary,
	 * as a value and as a key, in a writer that grows while it escapes */
	static const char *const events[] = {
		"", "\"", "\\", "\n", "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac",
		"\xf0\x9f\x98\x80", "\x80", "\xc3", "\xe2\x82", "\xed\xa0\x80", "\xff",
		"\"\\\"", "\xc3\xa9\n\xe2\x82\xac",
	};
	static const size_t lengths[] = { 8, 15, 16, 17, 63, 64, 65, 255, 256, 257, 1000 };
	static uint8_t in[1024];
	static char value[8 * 1024], want[16 * 1024];

	for (size_t li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++) {
		size_t n = lengths[li];

		for (size_t ei = 0; ei < sizeof(events) / sizeof(events[0]); ei++) {
			size_t en = strlen(events[ei]);
			size_t where[] = { 0, 7, 8, 9, n / 2, n - en };

			for (size_t wi = 0; wi < sizeof(where) / sizeof(where[0]); wi++) {
				struct ndl_jwb w;
				size_t at = where[wi];

				if (at + en > n)
					continue;
				for (size_t i = 0; i < n; i++) {
					uint8_t b = (uint8_t)(0x20 + i * 7 % 0x5f);

					in[i] = b == '"' || b == '\\' ? 'x' : b;
				}
				memcpy(in + at, events[ei], en);
				ref_json(in, n, value);

				ndl_jwb_init(&w, 0);
				ndl_jw_begin_array(ndl_jwb_jw(&w));
				ndl_jw_null(ndl_jwb_jw(&w));
				ndl_jw_string_n(ndl_jwb_jw(&w), (const char *)in, n);
				ndl_jw_end_array(ndl_jwb_jw(&w));
				snprintf(want, sizeof(want), "[null,%s]", value);
				ck_assert_int_eq(ndl_jwb_error(&w), NDL_JWB_OK);
				ck_assert_msg(strcmp(w.buf, want) == 0, "value of %zu bytes, event %zu at %zu",
					      n, ei, at);
				ck_assert_uint_eq(w.len, strlen(want));
				ndl_jwb_free(&w);

				ndl_jwb_init(&w, 0);
				ndl_jw_begin_object(ndl_jwb_jw(&w));
				ndl_jw_key(ndl_jwb_jw(&w), "p");
				ndl_jw_int(ndl_jwb_jw(&w), 1);
				ndl_jw_key_n(ndl_jwb_jw(&w), (const char *)in, n);
				ndl_jw_int(ndl_jwb_jw(&w), 2);
				ndl_jw_end_object(ndl_jwb_jw(&w));
				snprintf(want, sizeof(want), "{\"p\":1,%s:2}", value);
				ck_assert_int_eq(ndl_jwb_error(&w), NDL_JWB_OK);
				ck_assert_msg(strcmp(w.buf, want) == 0, "key of %zu bytes, event %zu at %zu",
					      n, ei, at);
				ck_assert_uint_eq(w.len, strlen(want));
				ndl_jwb_free(&w);
			}
		}
	}
}
END_TEST

START_TEST(test_key_short)
{
	/* keys of every short length, plain and with one escape, after others */
	static const char plain[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ";
	char key[40], want[256], value[128];

	_Static_assert(sizeof(plain) > sizeof(key), "every key length comes from plain");

	for (size_t n = 0; n < sizeof(key); n++) {
		for (int escaped = 0; escaped < 2; escaped++) {
			memcpy(key, plain, n);
			if (escaped && n)
				key[n - 1] = '\t';
			ref_json((const uint8_t *)key, n, value);
			ndl_jwb_reset(&W);
			ndl_jw_begin_object(J);
			ndl_jw_key(J, "first");
			ndl_jw_bool(J, true);
			ndl_jw_key_n(J, key, n);
			ndl_jw_begin_array(J);
			ndl_jw_end_array(J);
			ndl_jw_end_object(J);
			snprintf(want, sizeof(want), "{\"first\":true,%s:[]}", value);
			ck_doc(want);
		}
	}
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Structure                                                                 */
/* ------------------------------------------------------------------------ */

START_TEST(test_structure)
{
	ndl_jw_begin_object(J);
	ndl_jw_key(J, "a");
	ndl_jw_begin_array(J);
	ndl_jw_int(J, 1);
	ndl_jw_begin_object(J);
	ndl_jw_end_object(J);
	ndl_jw_begin_array(J);
	ndl_jw_end_array(J);
	ndl_jw_string(J, "x");
	ndl_jw_end_array(J);
	ndl_jw_key(J, "b");
	ndl_jw_begin_object(J);
	ndl_jw_key(J, "c");
	ndl_jw_null(J);
	ndl_jw_key(J, "d");
	ndl_jw_bool(J, false);
	ndl_jw_end_object(J);
	ndl_jw_key(J, "");
	ndl_jw_int(J, 0);
	ndl_jw_end_object(J);
	ck_doc("{\"a\":[1,{},[],\"x\"],\"b\":{\"c\":null,\"d\":false},\"\":0}");
}
END_TEST

START_TEST(test_depth_tracking)
{
	ndl_jw_begin_array(J);
	ck_assert_uint_eq(W.depth, 1);
	ck_assert(!ndl_jwb_complete(&W));
	ndl_jw_begin_object(J);
	ck_assert_uint_eq(W.depth, 2);
	ndl_jw_end_object(J);
	ndl_jw_end_array(J);
	ck_assert_uint_eq(W.depth, 0);
	ck_doc("[{}]");
}
END_TEST

/* Each way to misuse the writer, and what was written before it. */
static void misuse(int which)
{
	switch (which) {
	case 0:  /* value in an object without a key */
		ndl_jw_begin_object(J);
		ndl_jw_int(J, 1);
		break;
	case 1:  /* container in an object without a key */
		ndl_jw_begin_object(J);
		ndl_jw_begin_array(J);
		break;
	case 2:  /* key at the top */
		ndl_jw_key(J, "a");
		break;
	case 3:  /* key in an array */
		ndl_jw_begin_array(J);
		ndl_jw_key(J, "a");
		break;
	case 4:  /* key after a key */
		ndl_jw_begin_object(J);
		ndl_jw_key(J, "a");
		ndl_jw_key(J, "b");
		break;
	case 5:  /* end with nothing open */
		ndl_jw_end_object(J);
		break;
	case 6:
		ndl_jw_end_array(J);
		break;
	case 7:  /* ] closing an object */
		ndl_jw_begin_object(J);
		ndl_jw_end_array(J);
		break;
	case 8:  /* } closing an array */
		ndl_jw_begin_array(J);
		ndl_jw_end_object(J);
		break;
	case 9:  /* } while a value is due */
		ndl_jw_begin_object(J);
		ndl_jw_key(J, "a");
		ndl_jw_end_object(J);
		break;
	case 10: /* a second document value */
		ndl_jw_int(J, 1);
		ndl_jw_int(J, 2);
		break;
	case 11: /* one end too many */
		ndl_jw_begin_array(J);
		ndl_jw_end_array(J);
		ndl_jw_end_array(J);
		break;
	case 12: /* value after a key's value */
		ndl_jw_begin_object(J);
		ndl_jw_key(J, "a");
		ndl_jw_int(J, 1);
		ndl_jw_string(J, "b");
		break;
	}
}

START_TEST(test_nesting_errors)
{
	size_t len;
	uint32_t depth;

	misuse(_i);
	ck_assert_int_eq(ndl_jwb_error(&W), NDL_JWB_NESTING);
	len = W.len;
	depth = W.depth;
	/* later calls change nothing */
	ndl_jw_begin_object(J);
	ndl_jw_key(J, "k");
	ndl_jw_string(J, "s");
	ndl_jw_int(J, 1);
	ndl_jw_uint(J, 1);
	ndl_jw_real(J, 1.5);
	ndl_jw_bool(J, true);
	ndl_jw_null(J);
	ndl_jw_time(J, 1);
	ndl_jw_hex(J, (const uint8_t *)"a", 1);
	ndl_jw_mac(J, (const uint8_t *)"abcdef");
	ndl_jw_ip(J, 4, (const uint8_t *)"abcd");
	ndl_jw_raw(J, "1", 1);
	ndl_jw_end_object(J);
	ndl_jw_end_array(J);
	ndl_jwb_append(&W, "zz", 2);
	ck_assert_int_eq(ndl_jwb_error(&W), NDL_JWB_NESTING);
	ck_assert_uint_eq(W.len, len);
	ck_assert_uint_eq(W.depth, depth);
	ck_assert_uint_eq(strlen(W.buf), len);
	/* reset forgets the error */
	ndl_jwb_reset(&W);
	ndl_jw_int(J, 7);
	ck_doc("7");
}
END_TEST

START_TEST(test_depth_limit)
{
	char want[2 * NDL_JWB_MAX_DEPTH + 1];

	for (int i = 0; i < NDL_JWB_MAX_DEPTH; i++)
		ndl_jw_begin_array(J);
	ck_assert_int_eq(ndl_jwb_error(&W), 0);
	ck_assert_uint_eq(W.depth, NDL_JWB_MAX_DEPTH);
	for (int i = 0; i < NDL_JWB_MAX_DEPTH; i++)
		ndl_jw_end_array(J);
	memset(want, '[', NDL_JWB_MAX_DEPTH);
	memset(want + NDL_JWB_MAX_DEPTH, ']', NDL_JWB_MAX_DEPTH);
	want[2 * NDL_JWB_MAX_DEPTH] = '\0';
	ck_doc(want);

	ndl_jwb_reset(&W);
	for (int i = 0; i < NDL_JWB_MAX_DEPTH; i++)
		ndl_jw_begin_array(J);
	ndl_jw_begin_object(J);
	ck_assert_int_eq(ndl_jwb_error(&W), NDL_JWB_DEPTH);
	ck_assert_uint_eq(W.depth, NDL_JWB_MAX_DEPTH);
	ck_assert_uint_eq(W.len, NDL_JWB_MAX_DEPTH);
	ndl_jw_end_array(J);
	ck_assert_int_eq(ndl_jwb_error(&W), NDL_JWB_DEPTH);
	ck_assert_uint_eq(W.len, NDL_JWB_MAX_DEPTH);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Size limit and buffer                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(test_limit_exact)
{
	struct ndl_jwb w;
	struct ndl_jw *j;

	ndl_jwb_init(&w, 10);
	j = ndl_jwb_jw(&w);
	ndl_jw_string(j, "abcdefgh");      /* 10 bytes: fits */
	ck_assert_int_eq(ndl_jwb_error(&w), 0);
	ck_assert_str_eq(w.buf, "\"abcdefgh\"");
	ck_assert_uint_le(w.cap, 11);
	ndl_jwb_reset(&w);
	ndl_jw_string(j, "abcdefghi");     /* 11 bytes: does not */
	ck_assert_int_eq(ndl_jwb_error(&w), NDL_JWB_LIMIT);
	ck_assert_uint_le(w.len, 10);
	ck_assert_uint_eq(strlen(w.buf), w.len);
	ck_assert_uint_le(w.cap, 11);
	ndl_jwb_free(&w);
}
END_TEST

START_TEST(test_limit_growth)
{
	struct ndl_jwb w;
	struct ndl_jw *j;
	const size_t limit = 5000;
	int n = 0;

	ndl_jwb_init(&w, limit);
	j = ndl_jwb_jw(&w);
	ndl_jw_begin_array(j);
	while (!ndl_jwb_error(&w) && n < 100000) {
		ndl_jw_string(j, "0123456789\n\xff");
		n++;
	}
	ck_assert_int_eq(ndl_jwb_error(&w), NDL_JWB_LIMIT);
	ck_assert_int_lt(n, 1000);
	ck_assert_uint_le(w.len, limit);
	ck_assert_uint_le(w.cap, limit + 1);
	ck_assert_uint_eq(strlen(w.buf), w.len);
	/* hex, key and the rest respect it too */
	{
		uint8_t big[4000] = {0};

		ndl_jwb_reset(&w);
		ndl_jw_hex(j, big, sizeof(big));
		ck_assert_int_eq(ndl_jwb_error(&w), NDL_JWB_LIMIT);
		ck_assert_uint_le(w.cap, limit + 1);
		ndl_jwb_reset(&w);
		ndl_jw_begin_object(j);
		ndl_jw_key_n(j, (const char *)big, 1000);   /* NULs: 6 bytes each */
		ck_assert_int_eq(ndl_jwb_error(&w), NDL_JWB_LIMIT);
		ck_assert_uint_le(w.len, limit);
		ck_assert_uint_eq(strlen(w.buf), w.len);
		ndl_jwb_reset(&w);
		ndl_jwb_append(&w, (const char *)big, limit + 1);
		ck_assert_int_eq(ndl_jwb_error(&w), NDL_JWB_LIMIT);
		ck_assert_uint_eq(w.len, 0);
	}
	ndl_jwb_free(&w);
}
END_TEST

START_TEST(test_limit_escape_boundary)
{
	/* every budget from 2 to the full size: fits exactly or stops cleanly */
	static const char in[] = "a\x01\xc3\xa9\xff\"z";
	const char *want = "\"a\\u0001\xc3\xa9\xef\xbf\xbd\\\"z\"";
	size_t full = strlen(want);

	for (size_t limit = 1; limit <= full + 1; limit++) {
		struct ndl_jwb w;

		ndl_jwb_init(&w, limit);
		ndl_jw_string_n(ndl_jwb_jw(&w), in, sizeof(in) - 1);
		if (limit >= full) {
			ck_assert_int_eq(ndl_jwb_error(&w), 0);
			ck_assert_str_eq(w.buf, want);
		} else {
			ck_assert_int_eq(ndl_jwb_error(&w), NDL_JWB_LIMIT);
			ck_assert_uint_le(w.len, limit);
			ck_assert(w.buf == NULL || strlen(w.buf) == w.len);
		}
		ndl_jwb_free(&w);
	}
}
END_TEST

START_TEST(test_growth_keeps_buffer)
{
	size_t cap;
	char *buf;

	ndl_jw_begin_array(J);
	for (int i = 0; i < 100000; i++)
		ndl_jw_int(J, i);
	ndl_jw_end_array(J);
	ck_assert_int_eq(ndl_jwb_error(&W), 0);
	ck_assert_uint_eq(strlen(W.buf), W.len);
	ck_assert_uint_ge(W.cap, W.len + 1);
	ck_assert_uint_eq(W.cap & (W.cap - 1), 0);   /* grown by doubling */
	{
		json_error_t err;
		json_t *doc = json_loadb(W.buf, W.len, 0, &err);

		ck_assert_ptr_nonnull(doc);
		ck_assert_uint_eq(json_array_size(doc), 100000);
		ck_assert_int_eq(json_integer_value(json_array_get(doc, 99999)), 99999);
		json_decref(doc);
	}
	cap = W.cap;
	buf = W.buf;
	ndl_jwb_reset(&W);
	ck_assert_uint_eq(W.len, 0);
	ck_assert_str_eq(W.buf, "");
	ck_assert_uint_eq(W.cap, cap);
	ndl_jw_string(J, "small");
	ck_assert_ptr_eq(W.buf, buf);
	ck_assert_uint_eq(W.cap, cap);
	ck_doc("\"small\"");
}
END_TEST

/* Let a sanitizer build report failed allocations as NULL, as libc does. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

START_TEST(test_nomem)
{
	static const char small[8] = "1234567";
	struct ndl_jwb w;

	ndl_jwb_init(&w, 0);
	ndl_jw_begin_array(ndl_jwb_jw(&w));
	ndl_jwb_append(&w, small, SIZE_MAX / 4);   /* no memory holds this */
	ck_assert_int_eq(ndl_jwb_error(&w), NDL_JWB_NOMEM);
	ck_assert_str_eq(w.buf, "[");
	ck_assert_uint_eq(w.len, 1);
	ndl_jw_int(ndl_jwb_jw(&w), 1);
	ck_assert_str_eq(w.buf, "[");
	ndl_jwb_reset(&w);
	ndl_jw_int(ndl_jwb_jw(&w), 1);
	ck_assert_int_eq(ndl_jwb_error(&w), 0);
	ck_assert_str_eq(w.buf, "1");
	ndl_jwb_free(&w);
}
END_TEST

START_TEST(test_free_null_and_reinit)
{
	ndl_jwb_free(NULL);
	ndl_jwb_free(&W);
	ck_assert_ptr_null(W.buf);
	ndl_jwb_free(&W);   /* twice is fine */
	ndl_jwb_init(&W, 0);
	ndl_jw_int(J, 3);
	ck_doc("3");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Rewind and append                                                         */
/* ------------------------------------------------------------------------ */

START_TEST(test_rewind_array)
{
	size_t len;
	uint32_t depth;

	ndl_jw_begin_array(J);
	len = W.len;
	depth = W.depth;
	ndl_jw_int(J, 1);
	ndl_jw_begin_object(J);
	ndl_jwb_rewind(&W, len, depth);    /* back to "[": no comma next */
	ck_assert_str_eq(W.buf, "[");
	ndl_jw_int(J, 2);
	len = W.len;
	ndl_jw_string(J, "drop");
	ndl_jwb_rewind(&W, len, depth);    /* back after a value: comma next */
	ndl_jw_int(J, 3);
	ndl_jw_end_array(J);
	ck_doc("[2,3]");
	/* to the empty document */
	ndl_jwb_rewind(&W, 0, 0);
	ck_assert_str_eq(W.buf, "");
	ndl_jw_null(J);
	ck_doc("null");
	/* impossible points are ignored */
	ndl_jwb_rewind(&W, 100, 0);
	ndl_jwb_rewind(&W, 1, NDL_JWB_MAX_DEPTH + 1);
	ck_doc("null");
}
END_TEST

START_TEST(test_rewind_object)
{
	size_t len;
	uint32_t depth;

	ndl_jw_begin_object(J);
	ndl_jw_key(J, "a");
	len = W.len;
	depth = W.depth;
	ndl_jw_begin_array(J);
	ndl_jw_int(J, 1);
	ndl_jwb_rewind(&W, len, depth);    /* after a key: its value is due */
	ndl_jw_int(J, 5);
	len = W.len;
	ndl_jw_key(J, "b");
	ndl_jwb_rewind(&W, len, depth);    /* after a member: comma before the next key */
	ndl_jw_key(J, "c");
	ndl_jw_int(J, 6);
	ndl_jw_end_object(J);
	ck_doc("{\"a\":5,\"c\":6}");
}
END_TEST

START_TEST(test_rewind_after_limit)
{
	struct ndl_jwb w;
	struct ndl_jw *j;
	int kept = 0;

	/* keep adding entries until one does not fit, then drop it and close:
	 * "[" then "entry" (7 bytes) and ",entry" (8 bytes) each: 7 fit in 60 */
	ndl_jwb_init(&w, 60);
	j = ndl_jwb_jw(&w);
	ndl_jw_begin_array(j);
	for (int i = 0; i < 100; i++) {
		size_t len = w.len;
		uint32_t depth = w.depth;

		ndl_jw_string(j, "entry");
		if (ndl_jwb_error(&w) == NDL_JWB_LIMIT) {
			ndl_jwb_rewind(&w, len, depth);
			break;
		}
		kept++;
	}
	ck_assert_int_eq(kept, 7);
	ck_assert_int_eq(ndl_jwb_error(&w), 0);
	ndl_jw_end_array(j);
	ck_assert_int_eq(ndl_jwb_error(&w), 0);
	ck_assert(ndl_jwb_complete(&w));
	ck_assert_str_eq(w.buf, "[\"entry\",\"entry\",\"entry\",\"entry\",\"entry\",\"entry\",\"entry\"]");
	/* structure errors stay through a rewind */
	ndl_jwb_reset(&w);
	ndl_jw_key(j, "x");
	ndl_jwb_rewind(&w, 0, 0);
	ck_assert_int_eq(ndl_jwb_error(&w), NDL_JWB_NESTING);
	ndl_jwb_free(&w);
}
END_TEST

START_TEST(test_append)
{
	ndl_jwb_append(&W, "{\"pre\":", 7);
	ck_assert_str_eq(W.buf, "{\"pre\":");
	ck_assert_uint_eq(W.len, 7);
	ck_assert_uint_eq(W.depth, 0);
	ndl_jwb_append(&W, "", 0);
	ndl_jwb_append(&W, "1}xyz", 2);
	ck_assert_str_eq(W.buf, "{\"pre\":1}");
	ck_assert_int_eq(ndl_jwb_error(&W), 0);
}
END_TEST

static Suite *jsonw_suite(void)
{
	Suite *s = suite_create("jsonw");
	TCase *tc;

	tc = tcase_create("scalars");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ops_table);
	tcase_add_test(tc, test_ipv6_like_inet_ntop);
	tcase_add_test(tc, test_int64);
	tcase_add_test(tc, test_uint64);
	tcase_add_test(tc, test_literals);
	tcase_add_test(tc, test_real_exact);
	tcase_add_test(tc, test_real_nonfinite);
	tcase_add_test(tc, test_real_roundtrip_random);
	tcase_add_test(tc, test_time);
	tcase_add_test(tc, test_hex_mac_ip);
	tcase_add_test(tc, test_raw);
	suite_add_tcase(s, tc);

	tc = tcase_create("strings");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_string_plain);
	tcase_add_test(tc, test_string_controls);
	tcase_add_loop_test(tc, test_string_utf8, 0, (int)(sizeof(utf8_cases) / sizeof(utf8_cases[0])));
	tcase_add_test(tc, test_string_random_bytes);
	tcase_add_test(tc, test_string_every_position);
	tcase_add_test(tc, test_string_runs);
	tcase_add_test(tc, test_key_short);
	suite_add_tcase(s, tc);

	tc = tcase_create("structure");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_structure);
	tcase_add_test(tc, test_depth_tracking);
	tcase_add_loop_test(tc, test_nesting_errors, 0, 13);
	tcase_add_test(tc, test_depth_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("buffer");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_limit_exact);
	tcase_add_test(tc, test_limit_growth);
	tcase_add_test(tc, test_limit_escape_boundary);
	tcase_add_test(tc, test_growth_keeps_buffer);
	tcase_add_test(tc, test_free_null_and_reinit);
	tcase_add_test(tc, test_nomem);
	tcase_add_test(tc, test_rewind_array);
	tcase_add_test(tc, test_rewind_object);
	tcase_add_test(tc, test_rewind_after_limit);
	tcase_add_test(tc, test_append);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(jsonw_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
