/* SPDX-License-Identifier: MIT */
/*
 * test_dnsweird - DNSWeirdChef loaded from its .so by the real kitchen
 * core: one exact payload per check, the cases each check must leave
 * alone, the interval summary and option validation.
 *
 * Usage: test_dnsweird DNSWEIRD_SO
 */
#include "chef_harness.h"

static const struct h_end CLIENT = { .version = 4, .ip = { 192, 0, 2, 1 }, .port = 40000 };
static const struct h_end SERVER = { .version = 4, .ip = { 192, 0, 2, 2 }, .port = 53 };

#define ENDS "\"client\":\"192.0.2.1:40000\",\"server\":\"192.0.2.2:53\""

/* A query (to SERVER) or response (from it) with one question, fed at ts. */
static void feed_dns(uint16_t flags, const struct h_q *q, size_t nq, const struct h_rr *an,
		     size_t nan, ndl_time_ns ts)
{
	struct hframe m, f;

	h_dns(&m, 0x1234, flags, q, nq, an, nan);
	if (flags & 0x8000)
		h_udp_frame(&f, NULL, &SERVER, &CLIENT, m.b, m.len);
	else
		h_udp_frame(&f, NULL, &CLIENT, &SERVER, m.b, m.len);
	h_feed(&f, ts);
}

static void feed_query(const char *name, uint16_t qtype, ndl_time_ns ts)
{
	const struct h_q q = { .name = name, .qtype = qtype };

	feed_dns(0x0100, &q, 1, NULL, 0, ts);
}

/* ------------------------------------------------------------------------ */

START_TEST(plain_messages_pass)
{
	static const uint8_t a[4] = { 192, 0, 2, 80 };
	const struct h_q q = { .name = "www.example.com", .qtype = 1 };
	const struct h_rr an = { .name = "www.example.com", .type = 1, .ttl = 60,
				  .rdata = a, .rdlen = 4 };

	harness_start(chef_so, NULL);
	feed_dns(0x0100, &q, 1, NULL, 0, T1);
	feed_dns(0x8180, &q, 1, &an, 1, T2);
	ck_assert_uint_eq(H.n, 0);
	ndl__kitchen_interval(H.k);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_driver(0, "interval", T2,
		  "{\"messages_checked\":2,\"messages_flagged\":0,\"by_check\":{"
		  "\"z_bit_set\":0,\"truncated\":0,\"unusual_type\":0,\"unusual_class\":0,"
		  "\"long_label\":0,\"high_entropy_label\":0,\"many_labels\":0,"
		  "\"parse_error\":0,\"opcode_not_query\":0,\"answer_in_query\":0}}");
	harness_stop();
}
END_TEST

START_TEST(z_bit_set)
{
	const struct h_q q = { .name = "www.example.com", .qtype = 1 };

	harness_start(chef_so, NULL);
	feed_dns(0x0140, &q, 1, NULL, 0, T1);    /* RD and the reserved bit */
	ck_assert_uint_eq(H.n, 1);
	harness_assert_driver(0, "packet", T1,
		  "{\"time\":" T1S "," ENDS ",\"id\":4660,\"qname\":\"www.example.com\","
		  "\"qtype\":\"A\",\"findings\":[{\"check\":\"z_bit_set\",\"detail\":\"flags 0x0140\"}]}");
	harness_stop();
}
END_TEST

START_TEST(truncated_response)
{
	const struct h_q q = { .name = "big.example", .qtype = 16 };

	harness_start(chef_so, NULL);
	feed_dns(0x8380, &q, 1, NULL, 0, T2);    /* QR TC RD RA */
	ck_assert_uint_eq(H.n, 1);
	harness_assert_driver(0, "packet", T2,
		  "{\"time\":" T2S "," ENDS ",\"id\":4660,\"qname\":\"big.example\","
		  "\"qtype\":\"TXT\",\"findings\":[{\"check\":\"truncated\","
		  "\"detail\":\"TC bit set in a response\"}]}");
	harness_stop();
}
END_TEST

START_TEST(unusual_types)
{
	static const uint8_t hinfo[4] = { 1, 'x', 1, 'y' };
	const struct h_q q = { .name = "odd.example", .qtype = 65280 };
	const struct h_rr an[] = {
		{ .name = "odd.example", .type = 13, .ttl = 5, .rdata = hinfo, .rdlen = 4 },
		{ .name = "odd.example", .type = 13, .ttl = 5, .rdata = hinfo, .rdlen = 4 },
	};
	static const uint16_t common[] = { 1, 2, 5, 6, 12, 15, 16, 28, 33, 43, 46, 47, 48,
					   50, 64, 65, 257 };

	harness_start(chef_so, NULL);
	/* Every type of the common list passes. */
	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		feed_query("fine.example", common[i], T1);
	ck_assert_uint_eq(H.n, 0);
	/* One finding per distinct type, however many records have it. */
	feed_dns(0x8180, &q, 1, an, 2, T2);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_driver(0, "packet", T2,
		  "{\"time\":" T2S "," ENDS ",\"id\":4660,\"qname\":\"odd.example\","
		  "\"qtype\":\"TYPE65280\",\"findings\":["
		  "{\"check\":\"unusual_type\",\"detail\":\"question type TYPE65280\"},"
		  "{\"check\":\"unusual_type\",\"detail\":\"answer type HINFO\"}]}");
	feed_query("any.example", 255, T3);
	harness_assert_driver(1, "packet", T3,
		  "{\"time\":" T3S "," ENDS ",\"id\":4660,\"qname\":\"any.example\","
		  "\"qtype\":\"ANY\",\"findings\":["
		  "{\"check\":\"unusual_type\",\"detail\":\"question type ANY\"}]}");
	harness_stop();
}
END_TEST

START_TEST(unusual_classes)
{
	const struct h_q chaos = { .name = "version.bind", .qtype = 16, .qclass = 3 };
	const struct h_q hs = { .name = "x.example", .qtype = 1, .qclass = 4 };
	const struct h_q mdns_q = { .name = "printer.local", .qtype = 1, .qclass = 0x8001 };
	static const uint8_t a[4] = { 192, 0, 2, 9 };
	const struct h_rr odd = { .name = "x.example", .type = 1, .rclass = 77, .ttl = 1,
				   .rdata = a, .rdlen = 4 };
	struct h_end m1 = { .version = 4, .ip = { 192, 0, 2, 7 }, .port = 5353 };
	struct h_end m2 = { .version = 4, .ip = { 224, 0, 0, 251 }, .port = 5353 };
	struct hframe m, f;

	harness_start(chef_so, NULL);
	feed_dns(0x0100, &chaos, 1, NULL, 0, T1);
	feed_dns(0x8180, &hs, 1, &odd, 1, T2);
	/* mDNS: the top bit of the class asks for a unicast answer (RFC 6762). */
	h_dns(&m, 0, 0, &mdns_q, 1, NULL, 0);
	h_udp_frame(&f, NULL, &m1, &m2, m.b, m.len);
	h_feed(&f, T3);
	ck_assert_uint_eq(H.n, 2);
	harness_assert_driver(0, "packet", T1,
		  "{\"time\":" T1S "," ENDS ",\"id\":4660,\"qname\":\"version.bind\","
		  "\"qtype\":\"TXT\",\"findings\":["
		  "{\"check\":\"unusual_class\",\"detail\":\"question class CH\"}]}");
	harness_assert_driver(1, "packet", T2,
		  "{\"time\":" T2S "," ENDS ",\"id\":4660,\"qname\":\"x.example\","
		  "\"qtype\":\"A\",\"findings\":["
		  "{\"check\":\"unusual_class\",\"detail\":\"question class HS\"},"
		  "{\"check\":\"unusual_class\",\"detail\":\"answer class CLASS77\"}]}");
	harness_stop();
}
END_TEST

START_TEST(long_label)
{
	harness_start(chef_so, NULL);
	/* 40 bytes: at the limit, fine. */
	feed_query("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", 1, T1);
	ck_assert_uint_eq(H.n, 0);
	feed_query("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example", 1, T2);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_driver(0, "packet", T2,
		  "{\"time\":" T2S "," ENDS ",\"id\":4660,"
		  "\"qname\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example\","
		  "\"qtype\":\"A\",\"findings\":[{\"check\":\"long_label\","
		  "\"detail\":\"label of 41 bytes (limit 40): "
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}]}");
	harness_stop();
}
END_TEST

START_TEST(long_label_option_and_escapes)
{
	static const char *const opts[] = { "DNSWeirdChef.long_label=5", NULL };
	/* Labels "a.b\\c" (5 bytes, a dot and a backslash inside) and "abcdef". */
	static const uint8_t msg[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		5, 'a', '.', 'b', '\\', 'c', 6, 'a', 'b', 'c', 'd', 'e', 'f', 0,
		0, 1, 0, 1,
	};
	struct hframe f;

	harness_start(chef_so, opts);
	h_udp_frame(&f, NULL, &CLIENT, &SERVER, msg, sizeof(msg));
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 1);
	/* The label is shown as the name writes it: escapes kept. */
	harness_assert_driver(0, "packet", T1,
		  "{\"time\":" T1S "," ENDS ",\"id\":4660,"
		  "\"qname\":\"a\\\\.b\\\\\\\\c.abcdef\","
		  "\"qtype\":\"A\",\"findings\":[{\"check\":\"long_label\","
		  "\"detail\":\"label of 6 bytes (limit 5): abcdef\"}]}");
	harness_stop();
}
END_TEST

START_TEST(high_entropy_label)
{
	harness_start(chef_so, NULL);
	/* 15 distinct bytes: 3.91 bits, but shorter than entropy_min_length. */
	feed_query("abcdefghijklmno.example", 1, T1);
	/* 16 bytes, 8 distinct once case is folded: 3 bits. */
	feed_query("AbCdEfGhaBcDeFgH.example", 1, T1);
	/* Long but plain. */
	feed_query("downloads-downloads.example", 1, T1);
	ck_assert_uint_eq(H.n, 0);
	/* 32 distinct bytes: 5 bits per byte, as a base32 tunnel looks. */
	feed_query("0123456789abcdefghijklmnopqrstuv.t.example", 16, T2);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_driver(0, "packet", T2,
		  "{\"time\":" T2S "," ENDS ",\"id\":4660,"
		  "\"qname\":\"0123456789abcdefghijklmnopqrstuv.t.example\","
		  "\"qtype\":\"TXT\",\"findings\":[{\"check\":\"high_entropy_label\","
		  "\"detail\":\"5.00 bits/byte over 32 bytes: 0123456789abcdefghijklmnopqrstuv\"}]}");
	/* 16 distinct: exactly 4 bits, over the default 3.8. */
	feed_query("abcdefghijklmnop.example", 1, T3);
	harness_assert_driver(1, "packet", T3,
		  "{\"time\":" T3S "," ENDS ",\"id\":4660,"
		  "\"qname\":\"abcdefghijklmnop.example\","
		  "\"qtype\":\"A\",\"findings\":[{\"check\":\"high_entropy_label\","
		  "\"detail\":\"4.00 bits/byte over 16 bytes: abcdefghijklmnop\"}]}");
	harness_stop();
}
END_TEST

START_TEST(entropy_options)
{
	static const char *const opts[] = { "DNSWeirdChef.entropy_threshold=4.5",
					    "DNSWeirdChef.entropy_min_length=10", NULL };

	harness_start(chef_so, opts);
	feed_query("abcdefghijklmnop.example", 1, T1);     /* 4 bits < 4.5 */
	ck_assert_uint_eq(H.n, 0);
	feed_query("0123456789abcdefghijklmnopqrstuv.example", 1, T2);
	ck_assert_uint_eq(H.n, 1);
	ck_assert_ptr_nonnull(strstr(H.dumplings[0], "\"detail\":\"5.00 bits/byte over 32 bytes"));
	harness_stop();
}
END_TEST

START_TEST(many_labels)
{
	char rev[128] = "";

	harness_start(chef_so, NULL);
	feed_query("a.b.c.d.e.f.g.h.i.j.k.l", 1, T1);   /* 12: at the limit */
	/* An IPv6 reverse name has 34 labels and is exempt (RFC 3596 2.5). */
	for (int i = 0; i < 32; i++)
		strcat(rev, "1.");
	strcat(rev, "ip6.arpa");
	feed_query(rev, 12, T1);
	ck_assert_uint_eq(H.n, 0);
	feed_query("a.b.c.d.e.f.g.h.i.j.k.l.m", 1, T2);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_driver(0, "packet", T2,
		  "{\"time\":" T2S "," ENDS ",\"id\":4660,"
		  "\"qname\":\"a.b.c.d.e.f.g.h.i.j.k.l.m\","
		  "\"qtype\":\"A\",\"findings\":[{\"check\":\"many_labels\","
		  "\"detail\":\"13 labels (limit 12)\"}]}");
	harness_stop();
}
END_TEST

START_TEST(parse_errors)
{
	/* QDCOUNT 1 but the message ends after the header. */
	static const uint8_t cut[] = { 0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w' };
	/* A question name pointing at itself: a loop. */
	static const uint8_t loop[] = { 0xab, 0xce, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
					0xc0, 12, 0, 1, 0, 1 };
	struct hframe f;

	harness_start(chef_so, NULL);
	h_udp_frame(&f, NULL, &CLIENT, &SERVER, cut, sizeof(cut));
	h_feed(&f, T1);
	h_udp_frame(&f, NULL, &CLIENT, &SERVER, loop, sizeof(loop));
	h_feed(&f, T2);
	ck_assert_uint_eq(H.n, 2);
	harness_assert_driver(0, "packet", T1,
		  "{\"time\":" T1S "," ENDS ",\"id\":43981,\"qname\":null,\"qtype\":null,"
		  "\"findings\":[{\"check\":\"parse_error\",\"detail\":\"truncated\"}]}");
	harness_assert_driver(1, "packet", T2,
		  "{\"time\":" T2S "," ENDS ",\"id\":43982,\"qname\":null,\"qtype\":null,"
		  "\"findings\":[{\"check\":\"parse_error\",\"detail\":\"name_loop\"}]}");
	harness_stop();
}
END_TEST

START_TEST(opcode_not_query)
{
	const struct h_q q = { .name = "zone.example", .qtype = 6 };

	harness_start(chef_so, NULL);
	feed_dns(0x2800, &q, 1, NULL, 0, T1);    /* opcode 5 */
	feed_dns(0x1800, &q, 1, NULL, 0, T2);    /* opcode 3: unassigned */
	ck_assert_uint_eq(H.n, 2);
	harness_assert_driver(0, "packet", T1,
		  "{\"time\":" T1S "," ENDS ",\"id\":4660,\"qname\":\"zone.example\","
		  "\"qtype\":\"SOA\",\"findings\":[{\"check\":\"opcode_not_query\","
		  "\"detail\":\"UPDATE\"}]}");
	harness_assert_driver(1, "packet", T2,
		  "{\"time\":" T2S "," ENDS ",\"id\":4660,\"qname\":\"zone.example\","
		  "\"qtype\":\"SOA\",\"findings\":[{\"check\":\"opcode_not_query\","
		  "\"detail\":\"opcode 3\"}]}");
	harness_stop();
}
END_TEST

START_TEST(answer_in_query)
{
	static const uint8_t a[4] = { 192, 0, 2, 66 };
	const struct h_q q = { .name = "push.example", .qtype = 1 };
	const struct h_rr an = { .name = "push.example", .type = 1, .ttl = 9,
				  .rdata = a, .rdlen = 4 };

	harness_start(chef_so, NULL);
	feed_dns(0x0100, &q, 1, &an, 1, T1);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_driver(0, "packet", T1,
		  "{\"time\":" T1S "," ENDS ",\"id\":4660,\"qname\":\"push.example\","
		  "\"qtype\":\"A\",\"findings\":[{\"check\":\"answer_in_query\","
		  "\"detail\":\"ancount 1\"}]}");
	harness_stop();
}
END_TEST

START_TEST(findings_in_order_and_summary)
{
	const struct h_q q = { .name = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH.example",
				.qtype = 10, .qclass = 255 };

	harness_start(chef_so, NULL);
	feed_query("www.example.com", 1, T1);
	/* Z, TC, opcode 2, a NULL question of class ANY with a long random label. */
	feed_dns(0x1340, &q, 1, NULL, 0, T2);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_driver(0, "packet", T2,
		  "{\"time\":" T2S "," ENDS ",\"id\":4660,"
		  "\"qname\":\"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH.example\","
		  "\"qtype\":\"NULL\",\"findings\":["
		  "{\"check\":\"z_bit_set\",\"detail\":\"flags 0x1340\"},"
		  "{\"check\":\"truncated\",\"detail\":\"TC bit set in a query\"},"
		  "{\"check\":\"unusual_type\",\"detail\":\"question type NULL\"},"
		  "{\"check\":\"unusual_class\",\"detail\":\"question class ANY\"},"
		  "{\"check\":\"long_label\",\"detail\":\"label of 44 bytes (limit 40): "
		  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH\"},"
		  "{\"check\":\"high_entropy_label\",\"detail\":\"5.10 bits/byte over 44 bytes: "
		  "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH\"},"
		  "{\"check\":\"opcode_not_query\",\"detail\":\"STATUS\"}]}");
	feed_dns(0x0140, &q, 1, NULL, 0, T3);
	ndl__kitchen_interval(H.k);
	ck_assert_uint_eq(H.n, 3);
	harness_assert_driver(2, "interval", T3,
		  "{\"messages_checked\":3,\"messages_flagged\":2,\"by_check\":{"
		  "\"z_bit_set\":2,\"truncated\":1,\"unusual_type\":2,\"unusual_class\":2,"
		  "\"long_label\":2,\"high_entropy_label\":2,\"many_labels\":0,"
		  "\"parse_error\":0,\"opcode_not_query\":1,\"answer_in_query\":0}}");
	harness_stop();
}
END_TEST

START_TEST(src_dst_and_ipv6)
{
	const struct h_q q = { .name = "peer.example", .qtype = 1 };
	struct h_end a = { .version = 4, .ip = { 192, 0, 2, 1 }, .port = 53 };
	struct h_end b = { .version = 4, .ip = { 192, 0, 2, 2 }, .port = 53 };
	struct h_end c6 = { .version = 6, .ip = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, .port = 40000 };
	struct h_end s6 = { .version = 6, .ip = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 }, .port = 53 };
	struct hframe m, f;

	harness_start(chef_so, NULL);
	/* Port 53 on both sides: which is the server is not known. */
	h_dns(&m, 7, 0x0140, &q, 1, NULL, 0);
	h_udp_frame(&f, NULL, &a, &b, m.b, m.len);
	h_feed(&f, T1);
	/* A response over IPv6. */
	h_dns(&m, 8, 0x81c0, &q, 1, NULL, 0);
	h_udp_frame(&f, NULL, &s6, &c6, m.b, m.len);
	h_feed(&f, T2);
	ck_assert_uint_eq(H.n, 2);
	harness_assert_driver(0, "packet", T1,
		  "{\"time\":" T1S ",\"src\":\"192.0.2.1:53\",\"dst\":\"192.0.2.2:53\",\"id\":7,"
		  "\"qname\":\"peer.example\",\"qtype\":\"A\",\"findings\":["
		  "{\"check\":\"z_bit_set\",\"detail\":\"flags 0x0140\"}]}");
	harness_assert_driver(1, "packet", T2,
		  "{\"time\":" T2S ",\"client\":\"[2001:db8::1]:40000\","
		  "\"server\":\"[2001:db8::2]:53\",\"id\":8,"
		  "\"qname\":\"peer.example\",\"qtype\":\"A\",\"findings\":["
		  "{\"check\":\"z_bit_set\",\"detail\":\"flags 0x81c0\"}]}");
	harness_stop();
}
END_TEST

START_TEST(dns_over_tcp)
{
	const struct h_q q = { .name = "tcp.example", .qtype = 99 };
	struct hframe m, t, f;
	struct h_end s = SERVER;

	harness_start(chef_so, NULL);
	h_dns(&m, 9, 0x0100, &q, 1, NULL, 0);
	t.len = 0;
	h_put16(&t, (uint16_t)m.len);           /* RFC 7766 8 */
	h_putn(&t, m.b, m.len);
	h_tcp_frame(&f, &CLIENT, &s, 0x18, t.b, t.len);
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_driver(0, "packet", T1,
		  "{\"time\":" T1S "," ENDS ",\"id\":9,\"qname\":\"tcp.example\","
		  "\"qtype\":\"SPF\",\"findings\":[{\"check\":\"unusual_type\","
		  "\"detail\":\"question type SPF\"}]}");
	harness_stop();
}
END_TEST

START_TEST(options_validated)
{
	static const char *const bad[] = {
		"DNSWeirdChef.long_label=0",
		"DNSWeirdChef.long_label=64",
		"DNSWeirdChef.long_label=ten",
		"DNSWeirdChef.entropy_threshold=8.5",
		"DNSWeirdChef.entropy_threshold=-1",
		"DNSWeirdChef.entropy_threshold=high",
		"DNSWeirdChef.entropy_min_length=0",
		"DNSWeirdChef.entropy_min_length=64",
		"DNSWeirdChef.many_labels=0",
		"DNSWeirdChef.many_labels=128",
		"DNSWeirdChef.no_such_option=1",
	};

	harness_assert_refused(chef_so, bad, sizeof(bad) / sizeof(bad[0]), true);
}
END_TEST

static Suite *dnsweird_suite(void)
{
	Suite *s = suite_create("dnsweird");
	TCase *tc = tcase_create("checks");

	tcase_add_test(tc, plain_messages_pass);
	tcase_add_test(tc, z_bit_set);
	tcase_add_test(tc, truncated_response);
	tcase_add_test(tc, unusual_types);
	tcase_add_test(tc, unusual_classes);
	tcase_add_test(tc, long_label);
	tcase_add_test(tc, long_label_option_and_escapes);
	tcase_add_test(tc, high_entropy_label);
	tcase_add_test(tc, entropy_options);
	tcase_add_test(tc, many_labels);
	tcase_add_test(tc, parse_errors);
	tcase_add_test(tc, opcode_not_query);
	tcase_add_test(tc, answer_in_query);
	tcase_add_test(tc, findings_in_order_and_summary);
	tcase_add_test(tc, src_dst_and_ipv6);
	tcase_add_test(tc, dns_over_tcp);
	tcase_add_test(tc, options_validated);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	return harness_main(argc, argv, "DNSWEIRD_SO", dnsweird_suite);
}
