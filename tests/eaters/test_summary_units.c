/* SPDX-License-Identifier: MIT */
/*
 * test_summary_units.c - nd-print --format summary's line of each chef and
 * its escaping of received text, alone (eaters/summary.c).
 */
#define _GNU_SOURCE
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"

/* ndl__put_safe(s, len, max) into a string (freed by the caller). */
static char *safe(const char *s, size_t len, size_t max)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	ck_assert_ptr_nonnull(f);
	ndl__put_safe(f, s, len, max);
	fclose(f);
	return buf;
}

static void check_safe(const char *in, size_t len, size_t max, const char *want)
{
	char *got = safe(in, len, max);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(escapes_controls)
{
	check_safe("plain.example", 13, 0, "plain.example");
	check_safe("a\nb\rc\td", 7, 0, "a\\nb\\rc\\td");
	check_safe("\x1b[2J\x07\x7f", 6, 0, "\\x1b[2J\\x07\\x7f");
	check_safe("nul\0x", 5, 0, "nul\\x00x");
	/* C1 CSI (U+009B) and NEL (U+0085) as UTF-8 */
	check_safe("\xc2\x9b" "31m\xc2\x85", 7, 0, "\\u{009b}31m\\u{0085}");
	/* RLO, LRI, line separator, ALM */
	check_safe("\xe2\x80\xae" "exe\xe2\x81\xa6\xe2\x80\xa8\xd8\x9c", 14, 0,
		   "\\u{202e}exe\\u{2066}\\u{2028}\\u{061c}");
	/* printable UTF-8 stays as it is */
	check_safe("caf\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x8d\x9c", 13, 0,
		   "caf\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x8d\x9c");
}
END_TEST

START_TEST(escapes_bad_utf8)
{
	check_safe("\xff\xfe", 2, 0, "\\xff\\xfe");
	check_safe("\xc3", 1, 0, "\\xc3");                    /* cut short */
	check_safe("\xc0\x9b", 2, 0, "\\xc0\\x9b");           /* overlong CSI */
	check_safe("\xed\xa0\x80", 3, 0, "\\xed\\xa0\\x80");  /* a surrogate */
	check_safe("\xe2\x80" "x", 3, 0, "\\xe2\\x80x");
}
END_TEST

START_TEST(truncates)
{
	check_safe("abcdef", 6, 4, "abcd...");
	check_safe("abcd", 4, 4, "abcd");
	/* never inside a UTF-8 sequence */
	check_safe("ab\xc3\xa9", 4, 3, "ab...");
}
END_TEST

/* The summary line of a dumpling given as JSON text (TZ is UTC). */
static char *line_of(const char *chef, const char *kitchen, const char *payload)
{
	struct ndl_dumpling d = { .chef = chef, .kitchen = kitchen, .driver = "packet",
				  .creation_time = 1795327895.625 };
	json_error_t err;
	char *buf = NULL;
	size_t n = 0;
	FILE *f;

	d.payload = json_loads(payload, 0, &err);
	ck_assert_msg(d.payload != NULL, "bad test JSON: %s", err.text);
	f = open_memstream(&buf, &n);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ndl__summary_line(f, &d, 0), 0);
	fclose(f);
	json_decref(d.payload);
	return buf;
}

static void check_line(const char *chef, const char *payload, const char *want)
{
	char *got = line_of(chef, "k", payload);
	char full[1024];

	snprintf(full, sizeof(full), "2026-11-22 06:11:35 - %s\n", want);
	ck_assert_str_eq(got, full);
	free(got);
}

START_TEST(chef_lines)
{
	check_line("NetwatchChef",
		   "{\"proto\": \"TCP\", \"src\": {\"ip\": \"10.0.0.9\", \"port\": 40000,"
		   " \"name\": null, \"tag\": \"internal\"}, \"dst\": {\"ip\": \"2001:db8::1\","
		   " \"port\": 443, \"name\": \"example.com\", \"tag\": \"external\"}}",
		   "TCP 10.0.0.9(internal) --> [2001:db8::1]:443(example.com)");
	check_line("NetwatchChef",
		   "{\"proto\": \"ICMP\", \"src\": {\"ip\": \"10.0.0.9\", \"port\": null, \"name\":"
		   " \"\", \"tag\": \"internal\"}, \"dst\": {\"ip\": \"10.0.0.1\", \"port\": null,"
		   " \"name\": null, \"tag\": \"internal\"}}",
		   "ICMP 10.0.0.9(internal) --> 10.0.0.1(internal)");
	check_line("HTTPRequestChef",
		   "{\"kind\": \"request\", \"client\": {\"ip\": \"10.0.0.9\", \"port\": 5},"
		   " \"method\": \"GET\", \"uri\": \"/path\", \"url\": \"http://example.com/path\"}",
		   "GET http://example.com/path (10.0.0.9)");
	check_line("HTTPRequestChef",
		   "{\"kind\": \"response\", \"client\": {\"ip\": \"10.0.0.9\"}, \"method\": null,"
		   " \"host\": null, \"uri\": null, \"status\": 502, \"reason\": \"\","
		   " \"latency\": null}",
		   "HTTP 502 for ? ? (10.0.0.9)");
	check_line("TLSClientHelloChef",
		   "{\"kind\": \"client_hello\", \"client\": {\"ip\": \"10.0.0.9\", \"port\": 5},"
		   " \"server\": {\"ip\": \"192.0.2.7\", \"port\": 443}, \"sni\": null,"
		   " \"version\": \"TLS 1.3\", \"alpn\": [], \"error\": \"truncated\"}",
		   "TLS 10.0.0.9 hello to 192.0.2.7:443 (no name, TLS 1.3) [truncated]");
	check_line("DNSLookupChef",
		   "{\"lookup\": {\"hostname\": \"example.com\", \"qtype\": \"A\", \"is_response\":"
		   " true, \"rcode\": \"NOERROR\", \"answers\": [{\"type\": \"A\", \"data\":"
		   " \"192.0.2.1\"}, {\"type\": \"RRSIG\", \"data\": \"\"}]}}",
		   "DNS answer A example.com: NOERROR 192.0.2.1, RRSIG");
	check_line("DNSLookupChef", "{\"lookups_seen\": {}}", "DNS names seen: none");
	check_line("ARPChef",
		   "{\"operation\": 3, \"src_hw\": \"02:00:00:00:00:01\", \"src_ip\": \"192.0.2.1\","
		   " \"dst_hw\": \"02:00:00:00:00:02\", \"dst_ip\": \"192.0.2.2\", \"notes\": null}",
		   "ARP operation 3 from 192.0.2.1 to 192.0.2.2");
	check_line("FlowChef",
		   "{\"proto\": \"udp\", \"client\": {\"ip\": \"10.0.0.9\", \"port\": 5353},"
		   " \"server\": {\"ip\": \"224.0.0.251\", \"port\": 5353}, \"duration\": 0,"
		   " \"client_to_server\": {\"packets\": 2, \"bytes\": 180},"
		   " \"server_to_client\": {\"packets\": 0, \"bytes\": 0}, \"end_reason\": \"idle\"}",
		   "FLOW udp 10.0.0.9:5353 --> 224.0.0.251:5353 0.000 s, out 2 pkts 180 B,"
		   " in 0 pkts 0 B (idle)");
	check_line("PacketCountChef", "{\"packet_counts\": {\"UDP\": 2, \"ARP\": 1}}",
		   "PACKETS ARP 1, UDP 2");
	check_line("SystemStatusChef",
		   "{\"server_uptime\": 3725.5, \"total_dumplings_in\": 120, \"total_dumplings_out\":"
		   " 240, \"dumpling_kitchen_count\": 1, \"dumpling_eater_count\": 2}",
		   "HUB up 01:02:05, dumplings in 120 out 240, kitchens 1, eaters 2");
	check_line("SystemDropsChef",
		   "{\"dropped\": 1200, \"total_dropped\": 5300, \"policy\": \"drop-oldest\"}",
		   "DROPS hub dropped 1200 dumplings for this eater (5300 in all, drop-oldest)");
	/* a built-in chef's name with a payload of another shape: no crash, "?" */
	check_line("ARPChef", "{}", "ARP operation ? from ? to ?");
}
END_TEST

START_TEST(generic_line)
{
	char *got = line_of("My\x1b" "Chef", NULL, "{\"x\": \"\\u001b[2J\", \"n\": [1, 2.5]}");

	ck_assert_str_eq(got, "2026-11-22 06:11:35 - My\\x1bChef"
			 " {\"x\":\"\\u001B[2J\",\"n\":[1,2.5]}\n");
	free(got);
	got = line_of("Other", "k", "[\"not\", \"an\", \"object\"]");
	ck_assert_str_eq(got, "2026-11-22 06:11:35 - Other@k not,an,object\n");
	free(got);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("summary");
	TCase *tc = tcase_create("summary");
	SRunner *sr;
	int failed;

	setenv("TZ", "UTC0", 1);
	tcase_add_test(tc, escapes_controls);
	tcase_add_test(tc, escapes_bad_utf8);
	tcase_add_test(tc, truncates);
	tcase_add_test(tc, chef_lines);
	tcase_add_test(tc, generic_line);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
