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
