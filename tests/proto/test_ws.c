/* SPDX-License-Identifier: MIT */
/*
 * test_ws.c - the close frame body of RFC 6455 section 5.5.1 as ws.c
 * writes and reads it: code in network order, reason cut to 123 bytes on
 * a UTF-8 boundary, codes that may not be sent refused.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ws.h"

START_TEST(test_payload_code_and_reason)
{
	unsigned char out[NDL__WS_CLOSE_PAYLOAD_MAX];
	int n = ndl__ws_close_payload(out, 1001, "hub shutting down");

	ck_assert_int_eq(n, 2 + 17);
	ck_assert_int_eq(out[0], 0x03);
	ck_assert_int_eq(out[1], 0xe9);
	ck_assert(memcmp(out + 2, "hub shutting down", 17) == 0);

	n = ndl__ws_close_payload(out, 4999, "x");
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(out[0], 0x13);
	ck_assert_int_eq(out[1], 0x87);
	ck_assert_int_eq(out[2], 'x');
}
END_TEST

START_TEST(test_payload_no_reason)
{
	unsigned char out[NDL__WS_CLOSE_PAYLOAD_MAX];

	memset(out, 0xaa, sizeof(out));
	ck_assert_int_eq(ndl__ws_close_payload(out, 1000, NULL), 2);
	ck_assert_int_eq(out[0], 0x03);
	ck_assert_int_eq(out[1], 0xe8);
	ck_assert_int_eq(out[2], 0xaa);   /* nothing written past the body */
	ck_assert_int_eq(ndl__ws_close_payload(out, 1013, ""), 2);
	ck_assert_int_eq(out[1], 0xf5);
}
END_TEST

START_TEST(test_payload_truncates_to_123)
{
	unsigned char out[NDL__WS_CLOSE_PAYLOAD_MAX];
	char reason[300];

	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	ck_assert_int_eq(ndl__ws_close_payload(out, 1008, reason), 125);
	ck_assert(memcmp(out + 2, reason, 123) == 0);

	reason[123] = '\0';   /* exactly 123: kept whole */
	ck_assert_int_eq(ndl__ws_close_payload(out, 1008, reason), 125);
	reason[124] = '\0';
	reason[123] = 'r';    /* 124: one byte cut */
	ck_assert_int_eq(ndl__ws_close_payload(out, 1008, reason), 125);
}
END_TEST

START_TEST(test_payload_truncates_on_utf8_boundary)
{
	unsigned char out[NDL__WS_CLOSE_PAYLOAD_MAX];
	char reason[200];
	size_t i;

	/* 122 ASCII bytes, then U+20AC (E2 82 AC) across the 123-byte limit. */
	memset(reason, 'a', 122);
	memcpy(reason + 122, "\xe2\x82\xac tail", 9);
	ck_assert_int_eq(ndl__ws_close_payload(out, 1000, reason), 2 + 122);
	for (i = 0; i < 122; i++)
		ck_assert_int_eq(out[2 + i], 'a');

	/* The same sequence ending exactly at the limit stays. */
	memset(reason, 'a', 120);
	memcpy(reason + 120, "\xe2\x82\xac tail", 9);
	ck_assert_int_eq(ndl__ws_close_payload(out, 1000, reason), 125);
	ck_assert(memcmp(out + 2 + 120, "\xe2\x82\xac", 3) == 0);

	/* A 4-byte sequence (U+1F95F) cut after its first byte. */
	memset(reason, 'a', 122);
	memcpy(reason + 122, "\xf0\x9f\xa5\x9f", 5);
	ck_assert_int_eq(ndl__ws_close_payload(out, 1000, reason), 2 + 122);
}
END_TEST

START_TEST(test_payload_refuses_unsendable_codes)
{
	static const unsigned bad[] = { 0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535 };
	static const unsigned good[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
					 1012, 1013, 1014, 3000, 4000, 4999 };
	unsigned char out[NDL__WS_CLOSE_PAYLOAD_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!ndl__ws_close_code_valid(bad[i]), "code %u", bad[i]);
		ck_assert_int_eq(ndl__ws_close_payload(out, (uint16_t)bad[i], "x"), -EINVAL);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(ndl__ws_close_code_valid(good[i]), "code %u", good[i]);
		ck_assert_int_eq(ndl__ws_close_payload(out, (uint16_t)good[i], "x"), 3);
	}
}
END_TEST

/* RFC 6455 section 5.7's examples: "Hello", unmasked and masked. */
START_TEST(test_frame_rfc_examples)
{
	static const uint8_t key[4] = { 0x37, 0xfa, 0x21, 0x3d };
	static const uint8_t plain[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
	static const uint8_t masked[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
					  0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	unsigned char buf[NDL__WS_HEADER_MAX + 5];
	unsigned char *f;

	memcpy(buf + NDL__WS_HEADER_MAX, "Hello", 5);
	f = ndl__ws_text_frame(buf + NDL__WS_HEADER_MAX, 5, NULL);
	ck_assert_ptr_eq(f, buf + NDL__WS_HEADER_MAX - 2);
	ck_assert_mem_eq(f, plain, sizeof(plain));

	memcpy(buf + NDL__WS_HEADER_MAX, "Hello", 5);
	f = ndl__ws_text_frame(buf + NDL__WS_HEADER_MAX, 5, key);
	ck_assert_ptr_eq(f, buf + NDL__WS_HEADER_MAX - 6);
	ck_assert_mem_eq(f, masked, sizeof(masked));
}
END_TEST

/* The 16- and 64-bit lengths, and masking a word at a time against the
 * byte-at-a-time definition, at every length around the word size. */
START_TEST(test_frame_lengths_and_mask)
{
	static const uint8_t key[4] = { 0xa1, 0x02, 0xff, 0x5c };
	size_t lens[] = { 0, 1, 7, 8, 9, 15, 16, 17, 125, 126, 127, 65535, 65536, 70001 };

	for (size_t t = 0; t < sizeof(lens) / sizeof(lens[0]); t++) {
		size_t len = lens[t], hlen;
		unsigned char *buf = malloc(NDL__WS_HEADER_MAX + len + 1);
		unsigned char *p = buf + NDL__WS_HEADER_MAX, *f;

		ck_assert_ptr_nonnull(buf);
		for (size_t i = 0; i < len; i++)
			p[i] = (unsigned char)(i * 7 + 3);
		f = ndl__ws_text_frame(p, len, key);
		hlen = (size_t)(p - f);
		ck_assert_uint_eq(f[0], 0x81);
		if (len < 126) {
			ck_assert_uint_eq(hlen, 6);
			ck_assert_uint_eq(f[1], 0x80 | len);
		} else if (len <= 0xffff) {
			ck_assert_uint_eq(hlen, 8);
			ck_assert_uint_eq(f[1], 0x80 | 126);
			ck_assert_uint_eq((size_t)f[2] << 8 | f[3], len);
		} else {
			uint64_t v = 0;

			ck_assert_uint_eq(hlen, 14);
			ck_assert_uint_eq(f[1], 0x80 | 127);
			for (int i = 0; i < 8; i++)
				v = v << 8 | f[2 + i];
			ck_assert_uint_eq(v, len);
		}
		ck_assert_mem_eq(f + hlen - 4, key, 4);
		for (size_t i = 0; i < len; i++)
			ck_assert_uint_eq(p[i], (unsigned char)((i * 7 + 3) ^ key[i % 4]));
		ndl__ws_mask(p, len, key);    /* twice: the payload again */
		for (size_t i = 0; i < len; i++)
			ck_assert_uint_eq(p[i], (unsigned char)(i * 7 + 3));
		free(buf);
	}
}
END_TEST

START_TEST(test_parse)
{
	unsigned char body[NDL__WS_CLOSE_PAYLOAD_MAX];
	char reason[8];
	int n = ndl__ws_close_payload(body, 4000, "go away now");

	ck_assert_uint_eq(ndl__ws_close_parse(body, (size_t)n, reason, sizeof(reason)), 4000);
	ck_assert_str_eq(reason, "go away");   /* cut to fit, terminated */
	ck_assert_uint_eq(ndl__ws_close_parse(body, 2, reason, sizeof(reason)), 4000);
	ck_assert_str_eq(reason, "");
	ck_assert_uint_eq(ndl__ws_close_parse(body, (size_t)n, NULL, 0), 4000);

	strcpy(reason, "stale");
	ck_assert_uint_eq(ndl__ws_close_parse(body, 1, reason, sizeof(reason)),
			  NDL__WS_CLOSE_NO_STATUS);
	ck_assert_str_eq(reason, "");
	ck_assert_uint_eq(ndl__ws_close_parse(NULL, 0, reason, sizeof(reason)), 1005);
}
END_TEST

static Suite *ws_suite(void)
{
	Suite *s = suite_create("ws");
	TCase *tc = tcase_create("close frame");

	tcase_add_test(tc, test_payload_code_and_reason);
	tcase_add_test(tc, test_payload_no_reason);
	tcase_add_test(tc, test_payload_truncates_to_123);
	tcase_add_test(tc, test_payload_truncates_on_utf8_boundary);
	tcase_add_test(tc, test_payload_refuses_unsendable_codes);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_frame_rfc_examples);
	tcase_add_test(tc, test_frame_lengths_and_mask);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ws_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
