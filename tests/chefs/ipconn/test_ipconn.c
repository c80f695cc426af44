/* SPDX-License-Identifier: MIT */
/*
 * test_ipconn - IPConnChef loaded from its .so by the real kitchen core and
 * fed hand-built Ethernet frames; every payload is compared byte for byte.
 *
 * Usage: test_ipconn IPCONN_SO
 */
#include "chef_harness.h"

/* Dumpling i is a packet dumpling of IPConnChef made at t with exactly payload. */
static void assert_dumpling(size_t i, ndl_time_ns t, const char *payload)
{
	harness_assert_chef(i, "IPConnChef", "packet", t, payload);
}

/* A TCP SYN (RFC 9293) without options: seq 1, ack 0. */
static void tcp_syn(struct hframe *f, uint16_t sport, uint16_t dport)
{
	struct h_tcp t = { .sport = sport, .dport = dport, .seq = 1, .flags = 0x02,
			   .window = 65535 };

	h_tcp(f, &t, NULL, 0);
}

/* An IPv4 UDP datagram from 192.0.2.1:sport to 192.0.2.2:53. */
static void udp4(uint16_t sport, ndl_time_ns ts)
{
	struct hframe f;

	h_eth_ipv4(&f, IP_A, IP_B, 17, 0);
	h_udp(&f, sport, 53, NULL, 0);
	h_ip_done(&f);
	h_feed(&f, ts);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(tcp_and_udp_over_ipv4_and_ipv6)
{
	struct hframe f;

	harness_start(chef_so, NULL);
	h_eth_ipv4(&f, IP_A, IP_B, 6, 0x4000);
	tcp_syn(&f, 40000, 80);
	h_ip_done(&f);
	h_feed(&f, MS(1));
	h_eth_ipv6(&f, IP6_A, IP6_B, 17);
	h_udp(&f, 5353, 53, NULL, 0);
	h_ip_done(&f);
	h_feed(&f, MS(2));
	/* Neither TCP nor UDP: nothing. */
	h_eth_ipv4(&f, IP_A, IP_B, 1, 0);
	h_put32(&f, 0x08000000);
	h_put32(&f, 0x00010001);
	h_ip_done(&f);
	h_feed(&f, MS(3));
	h_eth_ipv6(&f, IP6_A, IP6_B, 58);
	h_put32(&f, 0x80000000);
	h_put32(&f, 0x00010001);
	h_ip_done(&f);
	h_feed(&f, MS(4));
	ndl__kitchen_interval(H.k);

	ck_assert_uint_eq(H.n, 2);
	assert_dumpling(0, MS(1),
			"{\"proto\":6,\"srcip\":\"192.0.2.1\",\"srcport\":40000,"
			"\"dstip\":\"192.0.2.2\",\"dstport\":80,\"time\":1795322030.001000}");
	assert_dumpling(1, MS(2),
			"{\"proto\":17,\"srcip\":\"2001:db8::1\",\"srcport\":5353,"
			"\"dstip\":\"2001:db8::2\",\"dstport\":53,\"time\":1795322030.002000}");
	ck_assert_uint_eq(harness_counter("sampled_out"), 0);
	ck_assert_uint_eq(harness_counter("rate_limited"), 0);
	harness_stop();
}
END_TEST

START_TEST(fragments_only_with_transport)
{
	struct hframe f;

	harness_start(chef_so, NULL);
	/* First fragment (more fragments, offset 0): the UDP header is there. */
	h_eth_ipv4(&f, IP_A, IP_B, 17, 0x2000);
	h_udp(&f, 1234, 4321, NULL, 0);
	h_set16(&f, f.l4_off + 4, 1008);          /* the whole datagram's length */
	h_ip_done(&f);
	h_feed(&f, MS(1));
	/* A later fragment (offset 8 bytes): no ports to report. */
	h_eth_ipv4(&f, IP_A, IP_B, 17, 0x0001);
	h_put32(&f, 0);
	h_put32(&f, 0);
	h_ip_done(&f);
	h_feed(&f, MS(2));
	ck_assert_uint_eq(H.n, 1);
	assert_dumpling(0, MS(1),
			"{\"proto\":17,\"srcip\":\"192.0.2.1\",\"srcport\":1234,"
			"\"dstip\":\"192.0.2.2\",\"dstport\":4321,\"time\":1795322030.001000}");
	ck_assert_uint_eq(harness_counter("sampled_out"), 0);
	harness_stop();
}
END_TEST

START_TEST(sample_every_third)
{
	static const char *const opts[] = { "IPConnChef.sample=3", NULL };

	harness_start(chef_so, opts);
	for (int i = 0; i < 7; i++)
		udp4((uint16_t)(1000 + i), MS(i));
	ck_assert_uint_eq(H.n, 3);
	assert_dumpling(0, MS(0),
			"{\"proto\":17,\"srcip\":\"192.0.2.1\",\"srcport\":1000,"
			"\"dstip\":\"192.0.2.2\",\"dstport\":53,\"time\":1795322030.000000}");
	assert_dumpling(1, MS(3),
			"{\"proto\":17,\"srcip\":\"192.0.2.1\",\"srcport\":1003,"
			"\"dstip\":\"192.0.2.2\",\"dstport\":53,\"time\":1795322030.003000}");
	assert_dumpling(2, MS(6),
			"{\"proto\":17,\"srcip\":\"192.0.2.1\",\"srcport\":1006,"
			"\"dstip\":\"192.0.2.2\",\"dstport\":53,\"time\":1795322030.006000}");
	ck_assert_uint_eq(harness_counter("sampled_out"), 4);
	ck_assert_uint_eq(harness_counter("rate_limited"), 0);
	harness_stop();
}
END_TEST

START_TEST(rate_limit_per_capture_second)
{
	static const char *const opts[] = { "IPConnChef.rate_limit=2", NULL };

	harness_start(chef_so, opts);
	udp4(1000, MS(0));
	udp4(1001, MS(100));
	udp4(1002, MS(200));        /* third in second 0: limited */
	udp4(1003, MS(999));        /* still second 0: limited */
	udp4(1004, MS(1000));       /* second 1 */
	udp4(1005, MS(500));        /* out of order: counts in second 1 */
	udp4(1006, MS(1700));       /* third in second 1: limited */
	udp4(1007, MS(3000));
	ck_assert_uint_eq(H.n, 5);
	ck_assert_ptr_nonnull(strstr(H.dumplings[0], "\"srcport\":1000,"));
	ck_assert_ptr_nonnull(strstr(H.dumplings[1], "\"srcport\":1001,"));
	assert_dumpling(2, MS(1000),
			"{\"proto\":17,\"srcip\":\"192.0.2.1\",\"srcport\":1004,"
			"\"dstip\":\"192.0.2.2\",\"dstport\":53,\"time\":1795322031.000000}");
	assert_dumpling(3, MS(500),
			"{\"proto\":17,\"srcip\":\"192.0.2.1\",\"srcport\":1005,"
			"\"dstip\":\"192.0.2.2\",\"dstport\":53,\"time\":1795322030.500000}");
	ck_assert_ptr_nonnull(strstr(H.dumplings[4], "\"srcport\":1007,"));
	ck_assert_uint_eq(harness_counter("rate_limited"), 3);
	ck_assert_uint_eq(harness_counter("sampled_out"), 0);
	harness_stop();
}
END_TEST

START_TEST(sample_then_rate_limit)
{
	static const char *const opts[] = { "IPConnChef.sample=2", "IPConnChef.rate_limit=1", NULL };

	harness_start(chef_so, opts);
	for (int i = 0; i < 6; i++)
		udp4((uint16_t)(2000 + i), MS(i * 100));
	/* Packets 0, 2, 4 are sampled; only packet 0 fits second 0. */
	ck_assert_uint_eq(H.n, 1);
	ck_assert_ptr_nonnull(strstr(H.dumplings[0], "\"srcport\":2000,"));
	ck_assert_uint_eq(harness_counter("sampled_out"), 3);
	ck_assert_uint_eq(harness_counter("rate_limited"), 2);
	harness_stop();
}
END_TEST

START_TEST(rejects_bad_options)
{
	static const char *const bad[] = {
		"IPConnChef.sample=0", "IPConnChef.sample=x", "IPConnChef.rate_limit=-1",
	};

	harness_assert_refused(chef_so, bad, sizeof(bad) / sizeof(bad[0]), false);
}
END_TEST

static Suite *ipconn_suite(void)
{
	Suite *s = suite_create("ipconn");
	TCase *t = tcase_create("ipconn");

	tcase_add_test(t, tcp_and_udp_over_ipv4_and_ipv6);
	tcase_add_test(t, fragments_only_with_transport);
	tcase_add_test(t, sample_every_third);
	tcase_add_test(t, rate_limit_per_capture_second);
	tcase_add_test(t, sample_then_rate_limit);
	tcase_add_test(t, rejects_bad_options);
	suite_add_tcase(s, t);
	return s;
}

int main(int argc, char **argv)
{
	return harness_main(argc, argv, "IPCONN_SO", ipconn_suite);
}
