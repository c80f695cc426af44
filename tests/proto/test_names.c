/* SPDX-License-Identifier: MIT */
/*
 * test_names.c - <ndl/names.h>: every value of the ABI's error enums has its
 * own name, and the names the kitchen's stats, golden files and dumplings
 * hold are the exact strings.
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
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

/* Every name, as the stats, golden files and dumplings hold it. */
static const struct {
	const char *(*name)(unsigned int);
	unsigned int value;
	const char *want;
} exact[] = {
	{ ndl_decode_error_name, NDL_DECODE_TRUNCATED_LINK, "truncated_link" },
	{ ndl_decode_error_name, NDL_DECODE_UNKNOWN_LINKTYPE, "unknown_linktype" },
	{ ndl_decode_error_name, NDL_DECODE_TRUNCATED_ARP, "truncated_arp" },
	{ ndl_decode_error_name, NDL_DECODE_TRUNCATED_IPV4, "truncated_ipv4" },
	{ ndl_decode_error_name, NDL_DECODE_BAD_IPV4_HEADER, "bad_ipv4_header" },
	{ ndl_decode_error_name, NDL_DECODE_TRUNCATED_IPV6, "truncated_ipv6" },
	{ ndl_decode_error_name, NDL_DECODE_BAD_IPV6_HEADER, "bad_ipv6_header" },
	{ ndl_decode_error_name, NDL_DECODE_TRUNCATED_TCP, "truncated_tcp" },
	{ ndl_decode_error_name, NDL_DECODE_BAD_TCP_HEADER, "bad_tcp_header" },
	{ ndl_decode_error_name, NDL_DECODE_TRUNCATED_UDP, "truncated_udp" },
	{ ndl_decode_error_name, NDL_DECODE_BAD_UDP_LENGTH, "bad_udp_length" },
	{ ndl_decode_error_name, NDL_DECODE_TRUNCATED_ICMP, "truncated_icmp" },
	{ ndl_decode_error_name, NDL_DECODE_TOO_MANY_VLAN_TAGS, "too_many_vlan_tags" },
	{ ndl_dns_error_name, NDL_DNS_TRUNCATED, "truncated" },
	{ ndl_dns_error_name, NDL_DNS_BAD_NAME, "bad_name" },
	{ ndl_dns_error_name, NDL_DNS_NAME_LOOP, "name_loop" },
	{ ndl_dns_error_name, NDL_DNS_TOO_MANY_RECORDS, "too_many_records" },
	{ ndl_http_error_name, NDL_HTTP_TRUNCATED, "truncated" },
	{ ndl_http_error_name, NDL_HTTP_BAD_HEADER, "bad_header" },
	{ ndl_http_error_name, NDL_HTTP_TOO_MANY_HEADERS, "too_many_headers" },
	{ ndl_tls_error_name, NDL_TLS_TRUNCATED, "truncated" },
	{ ndl_tls_error_name, NDL_TLS_BAD_RECORD, "bad_record" },
	{ ndl_tls_error_name, NDL_TLS_BAD_HELLO, "bad_hello" },
	{ ndl_tls_error_name, NDL_TLS_TOO_MANY, "too_many" },
};

START_TEST(test_error_names_exact)
{
	ck_assert_str_eq(exact[_i].name(exact[_i].value), exact[_i].want);
}
END_TEST

/* Name-into-buffer functions: RR types and TLS versions. */
static const char *type_name(unsigned int v, char *buf, size_t len)
{
	return ndl_dns_type_name((uint16_t)v, buf, len);
}

static const char *version_name(unsigned int v, char *buf, size_t len)
{
	return ndl_tls_version_name((uint16_t)v, buf, len);
}

static const struct {
	const char *(*name)(unsigned int, char *, size_t);
	unsigned int value;
	const char *want;
} written[] = {
	{ type_name, 1, "A" }, { type_name, 28, "AAAA" }, { type_name, 23, "NSAP-PTR" },
	{ type_name, 51, "NSEC3PARAM" }, { type_name, 257, "CAA" },
	{ type_name, 0, "TYPE0" }, { type_name, 65535, "TYPE65535" },
	{ version_name, 0x0304, "TLS 1.3" }, { version_name, 0x0303, "TLS 1.2" },
	{ version_name, 0x0302, "TLS 1.1" }, { version_name, 0x0301, "TLS 1.0" },
	{ version_name, 0x0300, "SSL 3.0" }, { version_name, 0x0305, "0x0305" },
	{ version_name, 0x7f1c, "0x7f1c" }, { version_name, 0xfafa, "0xfafa" },
};

START_TEST(test_written_names)
{
	/* The larger of NDL_DNS_TYPE_NAME_MAX and NDL_TLS_VERSION_NAME_MAX. */
	char buf[NDL_DNS_TYPE_NAME_MAX];

	ck_assert_uint_ge(sizeof(buf), NDL_TLS_VERSION_NAME_MAX);
	ck_assert_ptr_eq(written[_i].name(written[_i].value, buf, sizeof(buf)), buf);
	ck_assert_str_eq(buf, written[_i].want);
	ck_assert_uint_lt(strlen(buf), written[_i].name == type_name ?
			  NDL_DNS_TYPE_NAME_MAX : NDL_TLS_VERSION_NAME_MAX);
}
END_TEST

START_TEST(test_written_names_cut)
{
	char tiny[5];
	volatile size_t tiny_len = sizeof(tiny);   /* a cut the compiler cannot foresee */

	ck_assert_str_eq(ndl_dns_type_name(65280, tiny, tiny_len), "TYPE");
	ck_assert_str_eq(ndl_tls_version_name(0x0304, tiny, tiny_len), "TLS ");
	tiny[0] = 'x';
	ck_assert_ptr_eq(ndl_dns_type_name(1, tiny, 0), tiny);
	ck_assert_ptr_eq(ndl_tls_version_name(0x0304, tiny, 0), tiny);
	ck_assert_int_eq(tiny[0], 'x');
	ck_assert_ptr_null(ndl_dns_type_name(1, NULL, 0));
	ck_assert_ptr_null(ndl_tls_version_name(0x0304, NULL, 0));
}
END_TEST

/* Addresses as inet_ntop writes them, at most the ..._TEXT_MAX bytes; the
 * JSON writer's test compares many more IPv6 addresses through op_ip. */
START_TEST(test_ip_text)
{
	static const uint8_t v4[][4] = { {0, 0, 0, 0}, {255, 255, 255, 255}, {10, 0, 100, 9} };
	static const uint8_t v6[][16] = {
		{0}, {[15] = 1}, {[10] = 0xff, [11] = 0xff, [12] = 192, [13] = 0, [14] = 2, [15] = 1},
		{[12] = 1, [13] = 2, [14] = 3, [15] = 4}, {0x20, 0x01, 0x0d, 0xb8, [15] = 1},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		 0xff, 0xff},
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 255, 255, 255, 255},
		{0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1},
	};
	char want[INET6_ADDRSTRLEN], got[NDL_IPV6_TEXT_MAX + 1], *end;

	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		ck_assert_ptr_nonnull(inet_ntop(AF_INET, v4[i], want, sizeof(want)));
		end = ndl_ipv4_text(got, v4[i]);
		ck_assert_int_le(end - got, NDL_IPV4_TEXT_MAX);
		*end = '\0';
		ck_assert_str_eq(got, want);
	}
	for (size_t i = 0; i < sizeof(v6) / sizeof(v6[0]); i++) {
		ck_assert_ptr_nonnull(inet_ntop(AF_INET6, v6[i], want, sizeof(want)));
		end = ndl_ipv6_text(got, v6[i]);
		ck_assert_int_le(end - got, NDL_IPV6_TEXT_MAX);
		*end = '\0';
		ck_assert_str_eq(got, want);
	}
}
END_TEST

START_TEST(test_dns_type_mnemonic)
{
	/* the static mnemonic is the written name, for every type that has
	 * one; the others are written TYPE<n> */
	char buf[NDL_DNS_TYPE_NAME_MAX], want[NDL_DNS_TYPE_NAME_MAX];
	unsigned int named = 0;

	for (unsigned int t = 0; t <= 0xffff; t++) {
		const char *m = ndl_dns_type_mnemonic((uint16_t)t);

		ndl_dns_type_name((uint16_t)t, buf, sizeof(buf));
		if (m) {
			ck_assert_str_eq(m, buf);
			named++;
		} else {
			snprintf(want, sizeof(want), "TYPE%u", t);
			ck_assert_str_eq(buf, want);
		}
	}
	ck_assert_uint_eq(named, 67);
	ck_assert_str_eq(ndl_dns_type_mnemonic(28), "AAAA");
	ck_assert_str_eq(ndl_dns_type_mnemonic(65), "HTTPS");
	ck_assert_ptr_null(ndl_dns_type_mnemonic(0));
	ck_assert_ptr_null(ndl_dns_type_mnemonic(65280));
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

static Suite *names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, test_error_enums_complete);
	tcase_add_loop_test(tc, test_error_names_exact, 0, (int)(sizeof(exact) / sizeof(exact[0])));
	tcase_add_loop_test(tc, test_written_names, 0, (int)(sizeof(written) / sizeof(written[0])));
	tcase_add_test(tc, test_written_names_cut);
	tcase_add_test(tc, test_dns_rcode_name);
	tcase_add_test(tc, test_ip_text);
	tcase_add_test(tc, test_dns_type_mnemonic);
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
