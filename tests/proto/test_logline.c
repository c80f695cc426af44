/* SPDX-License-Identifier: MIT */
/*
 * test_logline.c - the UTF-8 helpers of proto/logline.c. ndl__utf8_valid
 * is what the hub checks every batch with; it is held to jansson, which
 * refuses the same ill-formed UTF-8 (RFC 3629: overlong forms, surrogates,
 * code points past U+10FFFF, cut sequences) in json_stringn, on chosen
 * sequences at every offset around its 16-byte ASCII steps and on random
 * mutations of dumpling-like text.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "logline.h"

/* jansson's verdict: json_stringn takes any bytes that are valid UTF-8. */
static bool reference_valid(const char *buf, size_t len)
{
	json_t *s = json_stringn(buf, len);
	bool ok = s != NULL;

	json_decref(s);
	return ok;
}

static void expect_agree(const char *buf, size_t len)
{
	bool want = reference_valid(buf, len);

	ck_assert_msg(ndl__utf8_valid(buf, len) == want,
		      "ndl__utf8_valid says %s for %zu bytes, jansson %s",
		      want ? "invalid" : "valid", len, want ? "valid" : "invalid");
}

static const char *const sequences[] = {
	"\xc3\xa9",             /* U+00E9 */
	"\xe2\x82\xac",         /* U+20AC */
	"\xf0\x9f\x8d\x9c",     /* U+1F35C */
	"\xef\xbf\xbd",         /* U+FFFD */
	"\xf4\x8f\xbf\xbf",     /* U+10FFFF, the last */
	"\xc0\xaf",             /* overlong '/' */
	"\xc1\xbf",             /* overlong */
	"\xe0\x80\xaf",         /* overlong */
	"\xed\xa0\x80",         /* U+D800, a surrogate */
	"\xed\xbf\xbf",         /* U+DFFF */
	"\xf4\x90\x80\x80",     /* past U+10FFFF */
	"\xf5\x80\x80\x80",     /* no such lead byte */
	"\xff",
	"\x80",                 /* a lone continuation */
	"\xc3",                 /* cut */
	"\xe2\x82",             /* cut */
	"\xf0\x9f\x8d",         /* cut */
	"\xe2\x28\xa1",         /* second byte not a continuation */
};

/* Each sequence at every offset of a 64-byte ASCII run, at the end and in
 * the middle: the fast path must hand every one to the full check. */
START_TEST(test_sequences_at_every_offset)
{
	char buf[80];

	for (size_t i = 0; i < sizeof(sequences) / sizeof(sequences[0]); i++) {
		size_t n = strlen(sequences[i]);

		for (size_t at = 0; at + n <= 64; at++) {
			memset(buf, 'a', sizeof(buf));
			memcpy(buf + at, sequences[i], n);
			expect_agree(buf, 64);           /* ASCII after it */
			expect_agree(buf, at + n);       /* it ends the buffer */
			expect_agree(buf, at + n - 1);   /* cut short by the length */
		}
	}
}
END_TEST

START_TEST(test_plain)
{
	static const char line[] =
		"{\"metadata\":{\"chef\":\"DNSLookupChef\",\"kitchen\":\"k\",\"driver\":\"packet\"},"
		"\"payload\":{\"lookup\":{\"hostname\":\"example.com\"}}}\n";

	ck_assert(ndl__utf8_valid("", 0));
	for (size_t n = 0; n <= sizeof(line) - 1; n++)
		ck_assert(ndl__utf8_valid(line, n));
	ck_assert(!ndl__utf8_valid("\x80", 1));
}
END_TEST

/* xorshift64*: the same mutations on every run. */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

START_TEST(test_random_mutations)
{
	static const char base[] =
		"{\"metadata\":{\"chef\":\"NetwatchChef\",\"kitchen\":\"caf\xc3\xa9\"},\"payload\":"
		"{\"summary\":\"UDP 10.1.5.89:52144 --> \xe2\x82\xac 10.1.255.53:53\",\"n\":1}}";
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char buf[sizeof(base) + 8];
	size_t invalid = 0;

	for (int round = 0; round < 200000; round++) {
		size_t n = sizeof(base) - 1, changes = 1 + next_random(&seed) % 3;

		memcpy(buf, base, n);
		for (size_t c = 0; c < changes; c++)
			buf[next_random(&seed) % n] = (char)(next_random(&seed) & 0xff);
		n -= next_random(&seed) % 4;
		expect_agree(buf, n);
		invalid += !reference_valid(buf, n);
	}
	ck_assert_uint_gt(invalid, 1000);   /* both verdicts were exercised */
}
END_TEST

static Suite *logline_suite(void)
{
	Suite *s = suite_create("logline");
	TCase *tc = tcase_create("utf8");

	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_sequences_at_every_offset);
	tcase_add_test(tc, test_random_mutations);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(logline_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
