/* SPDX-License-Identifier: MIT */
/*
 * test_names.c - <ndl/names.h>: every value of the ABI's error enums has its
 * own name, and the names the kitchen's stats, golden files and dumplings
 * hold are the exact strings.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <ndl/names.h>

/* Each enum: every value below its count named, distinct, "ok" for 0. */
static void check_enum(const char *(*name)(unsigned int), unsigned int count)
{
	ck_assert_str_eq(name(0), "ok");
	for (unsigned int i = 0; i < count; i++) {
		ck_assert_ptr_nonnull(name(i));
		ck_assert_str_ne(name(i), "unknown");
		for (unsigned int j = 0; j < i; j++)
			ck_assert_str_ne(name(i), name(j));
	}
	ck_assert_str_eq(name(count), "unknown");
	ck_assert_str_eq(name(0xffffffffu), "unknown");
}

START_TEST(test_error_enums_complete)
{
	check_enum(ndl_decode_error_name, NDL_DECODE_ERROR_COUNT);
	check_enum(ndl_dns_error_name, NDL_DNS_ERROR_COUNT);
	check_enum(ndl_http_error_name, NDL_HTTP_ERROR_COUNT);
	check_enum(ndl_tls_error_name, NDL_TLS_ERROR_COUNT);
}
END_TEST

START_TEST(test_error_names_exact)
{
	ck_assert_str_eq(ndl_decode_error_name(NDL_DECODE_TRUNCATED_IPV4), "truncated_ipv4");
	ck_assert_str_eq(ndl_decode_error_name(NDL_DECODE_UNKNOWN_LINKTYPE), "unknown_linktype");
	ck_assert_str_eq(ndl_decode_error_name(NDL_DECODE_TOO_MANY_VLAN_TAGS),
			 "too_many_vlan_tags");
	ck_assert_str_eq(ndl_dns_error_name(NDL_DNS_NAME_LOOP), "name_loop");
	ck_assert_str_eq(ndl_dns_error_name(NDL_DNS_TOO_MANY_RECORDS), "too_many_records");
	ck_assert_str_eq(ndl_http_error_name(NDL_HTTP_TRUNCATED), "truncated");
	ck_assert_str_eq(ndl_http_error_name(NDL_HTTP_TOO_MANY_HEADERS), "too_many_headers");
	ck_assert_str_eq(ndl_tls_error_name(NDL_TLS_BAD_HELLO), "bad_hello");
	ck_assert_str_eq(ndl_tls_error_name(NDL_TLS_TOO_MANY), "too_many");
}
END_TEST

START_TEST(test_dns_type_name)
{
	char buf[NDL_DNS_TYPE_NAME_MAX];
	char tiny[5];
	volatile size_t tiny_len = sizeof(tiny);   /* a cut the compiler cannot foresee */

	ck_assert_ptr_eq(ndl_dns_type_name(1, buf, sizeof(buf)), buf);
	ck_assert_str_eq(buf, "A");
	ck_assert_str_eq(ndl_dns_type_name(28, buf, sizeof(buf)), "AAAA");
	ck_assert_str_eq(ndl_dns_type_name(23, buf, sizeof(buf)), "NSAP-PTR");
	ck_assert_str_eq(ndl_dns_type_name(51, buf, sizeof(buf)), "NSEC3PARAM");
	ck_assert_str_eq(ndl_dns_type_name(257, buf, sizeof(buf)), "CAA");
	ck_assert_str_eq(ndl_dns_type_name(0, buf, sizeof(buf)), "TYPE0");
	ck_assert_str_eq(ndl_dns_type_name(65535, buf, sizeof(buf)), "TYPE65535");
	/* Cut to the buffer, still terminated; nothing written without room. */
	ck_assert_str_eq(ndl_dns_type_name(65280, tiny, tiny_len), "TYPE");
	tiny[0] = 'x';
	ck_assert_ptr_eq(ndl_dns_type_name(1, tiny, 0), tiny);
	ck_assert_int_eq(tiny[0], 'x');
	ck_assert_ptr_null(ndl_dns_type_name(1, NULL, 0));
}
END_TEST

START_TEST(test_dns_rcode_name)
{
	ck_assert_str_eq(ndl_dns_rcode_name(0), "NOERROR");
	ck_assert_str_eq(ndl_dns_rcode_name(3), "NXDOMAIN");
	ck_assert_str_eq(ndl_dns_rcode_name(11), "DSOTYPENI");
	ck_assert_str_eq(ndl_dns_rcode_name(16), "BADVERS");
	ck_assert_str_eq(ndl_dns_rcode_name(23), "BADCOOKIE");
	ck_assert_ptr_null(ndl_dns_rcode_name(12));
	ck_assert_ptr_null(ndl_dns_rcode_name(4095));
}
END_TEST

START_TEST(test_tls_version_name)
{
	char buf[NDL_TLS_VERSION_NAME_MAX];

	ck_assert_ptr_eq(ndl_tls_version_name(0x0304, buf, sizeof(buf)), buf);
	ck_assert_str_eq(buf, "TLS 1.3");
	ck_assert_str_eq(ndl_tls_version_name(0x0303, buf, sizeof(buf)), "TLS 1.2");
	ck_assert_str_eq(ndl_tls_version_name(0x0301, buf, sizeof(buf)), "TLS 1.0");
	ck_assert_str_eq(ndl_tls_version_name(0x0300, buf, sizeof(buf)), "SSL 3.0");
	ck_assert_str_eq(ndl_tls_version_name(0x0305, buf, sizeof(buf)), "0x0305");
	ck_assert_str_eq(ndl_tls_version_name(0x7f1c, buf, sizeof(buf)), "0x7f1c");
	ck_assert_str_eq(ndl_tls_version_name(0xfafa, buf, sizeof(buf)), "0xfafa");
	ck_assert_ptr_null(ndl_tls_version_name(0x0304, NULL, 0));
}
END_TEST

static Suite *names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, test_error_enums_complete);
	tcase_add_test(tc, test_error_names_exact);
	tcase_add_test(tc, test_dns_type_name);
	tcase_add_test(tc, test_dns_rcode_name);
	tcase_add_test(tc, test_tls_version_name);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(names_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
