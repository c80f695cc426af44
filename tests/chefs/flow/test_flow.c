/* SPDX-License-Identifier: MIT */
/*
 * test_flow - FlowChef loaded from its .so by the real kitchen core and fed
 * hand-built Ethernet frames; every payload is compared byte for byte.
 *
 * Usage: test_flow FLOW_SO
 */
#include "chef_harness.h"

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

/* Dumpling i came from FlowChef for driver at t with exactly payload. */
static void assert_dumpling(size_t i, const char *driver, ndl_time_ns t, const char *payload)
{
	harness_assert_chef(i, "FlowChef", driver, t, payload);
}

/* Run the interval handlers with the kitchen clock at t. */
static void interval_at(ndl_time_ns t)
{
	ndl__kitchen_set_clock(H.k, t);
	ndl__kitchen_interval(H.k);
}

/* n bytes of 'x' (n at most 1500), the payload every segment here carries. */
static const char *xs(size_t n)
{
	static char x[1500];

	ck_assert_uint_le(n, sizeof(x));
	memset(x, 'x', sizeof(x));
	return x;
}

/* An IPv4 TCP segment with n payload bytes: 54 + n bytes on the wire. */
static void tcp4(const uint8_t src[4], uint16_t sport, const uint8_t dst[4], uint16_t dport,
		 uint8_t flags, size_t n, ndl_time_ns ts)
{
	struct hframe f;

	h_eth_ipv4(&f, src, dst, 6, 0x4000);
	h_tcp_to(&f, sport, dport, flags, xs(n), n);
	h_ip_done(&f);
	h_feed(&f, ts);
}

/* An IPv4 UDP datagram with n payload bytes: 42 + n bytes on the wire. */
static void udp4(const uint8_t src[4], uint16_t sport, const uint8_t dst[4], uint16_t dport,
		 size_t n, ndl_time_ns ts)
{
	struct hframe f;

	h_eth_ipv4(&f, src, dst, 17, 0x4000);
	h_udp(&f, sport, dport, xs(n), n);
	h_ip_done(&f);
	h_feed(&f, ts);
}

/* ------------------------------------------------------------------------ */
/* TCP                                                                       */
/* ------------------------------------------------------------------------ */

START_TEST(tcp_handshake_data_fin)
{
	harness_start(chef_so, NULL);
	tcp4(IP_A, 40000, IP_B, 80, F_SYN, 0, MS(0));
	tcp4(IP_B, 80, IP_A, 40000, F_SYN | F_ACK, 0, MS(1));
	tcp4(IP_A, 40000, IP_B, 80, F_ACK, 0, MS(2));
	tcp4(IP_A, 40000, IP_B, 80, F_PSH | F_ACK, 100, MS(3));
	tcp4(IP_B, 80, IP_A, 40000, F_PSH | F_ACK, 1000, MS(10));
	tcp4(IP_A, 40000, IP_B, 80, F_FIN | F_ACK, 0, MS(20));
	tcp4(IP_B, 80, IP_A, 40000, F_FIN | F_ACK, 0, MS(21));
	tcp4(IP_A, 40000, IP_B, 80, F_ACK, 0, MS(22));
	ck_assert_uint_eq(H.n, 0);

	/* Closed, but still lingering for closed_timeout (5 s). */
	interval_at(SEC(4));
	ck_assert_uint_eq(H.n, 1);
	assert_dumpling(0, "interval", SEC(4),
			"{\"active_flows\":1,\"flows_started\":1,\"flows_ended\":0,\"evictions\":0}");

	interval_at(SEC(6));
	ck_assert_uint_eq(H.n, 3);
	assert_dumpling(1, "interval", SEC(6),
			"{\"proto\":\"tcp\","
			"\"client\":{\"ip\":\"192.0.2.1\",\"port\":40000},"
			"\"server\":{\"ip\":\"192.0.2.2\",\"port\":80},"
			"\"start\":1795322030.000000,\"end\":1795322030.022000,"
			"\"duration\":0.022000,"
			"\"client_to_server\":{\"packets\":5,\"bytes\":370,\"tcp_flags\":\"FSPA\"},"
			"\"server_to_client\":{\"packets\":3,\"bytes\":1162,\"tcp_flags\":\"FSPA\"},"
			"\"tcp_state\":\"closed\",\"end_reason\":\"fin\"}");
	assert_dumpling(2, "interval", SEC(6),
			"{\"active_flows\":0,\"flows_started\":0,\"flows_ended\":1,\"evictions\":0}");
	harness_stop();
}
END_TEST

START_TEST(tcp_states_on_the_way)
{
	static const char *const opts[] = { "FlowChef.flush_on_interval=true", NULL };

	harness_start(chef_so, opts);
	tcp4(IP_A, 40000, IP_B, 80, F_SYN, 0, MS(0));
	tcp4(IP_C, 40001, IP_B, 80, F_SYN, 0, MS(1));
	tcp4(IP_B, 80, IP_C, 40001, F_SYN | F_ACK, 0, MS(2));
	tcp4(IP_D, 40002, IP_B, 80, F_SYN, 0, MS(3));
	tcp4(IP_B, 80, IP_D, 40002, F_SYN | F_ACK, 0, MS(4));
	tcp4(IP_D, 40002, IP_B, 80, F_FIN | F_ACK, 0, MS(5));
	interval_at(MS(10));
	ck_assert_uint_eq(H.n, 4);
	/* Flushed oldest activity first, each with the state it had reached. */
	assert_dumpling(0, "interval", MS(10),
			"{\"proto\":\"tcp\","
			"\"client\":{\"ip\":\"192.0.2.1\",\"port\":40000},"
			"\"server\":{\"ip\":\"192.0.2.2\",\"port\":80},"
			"\"start\":1795322030.000000,\"end\":1795322030.000000,"
			"\"duration\":0.000000,"
			"\"client_to_server\":{\"packets\":1,\"bytes\":54,\"tcp_flags\":\"S\"},"
			"\"server_to_client\":{\"packets\":0,\"bytes\":0,\"tcp_flags\":\"\"},"
			"\"tcp_state\":\"syn_sent\",\"end_reason\":\"flush\"}");
	assert_dumpling(1, "interval", MS(10),
			"{\"proto\":\"tcp\","
			"\"client\":{\"ip\":\"192.0.2.3\",\"port\":40001},"
			"\"server\":{\"ip\":\"192.0.2.2\",\"port\":80},"
			"\"start\":1795322030.001000,\"end\":1795322030.002000,"
			"\"duration\":0.001000,"
			"\"client_to_server\":{\"packets\":1,\"bytes\":54,\"tcp_flags\":\"S\"},"
			"\"server_to_client\":{\"packets\":1,\"bytes\":54,\"tcp_flags\":\"SA\"},"
			"\"tcp_state\":\"established\",\"end_reason\":\"flush\"}");
	assert_dumpling(2, "interval", MS(10),
			"{\"proto\":\"tcp\","
			"\"client\":{\"ip\":\"192.0.2.4\",\"port\":40002},"
			"\"server\":{\"ip\":\"192.0.2.2\",\"port\":80},"
			"\"start\":1795322030.003000,\"end\":1795322030.005000,"
			"\"duration\":0.002000,"
			"\"client_to_server\":{\"packets\":2,\"bytes\":108,\"tcp_flags\":\"FSA\"},"
			"\"server_to_client\":{\"packets\":1,\"bytes\":54,\"tcp_flags\":\"SA\"},"
			"\"tcp_state\":\"fin_wait\",\"end_reason\":\"flush\"}");
	assert_dumpling(3, "interval", MS(10),
			"{\"active_flows\":0,\"flows_started\":3,\"flows_ended\":3,\"evictions\":0}");
	harness_stop();
}
END_TEST

START_TEST(tcp_rst_ends_at_next_packet)
{
	harness_start(chef_so, NULL);
	tcp4(IP_A, 40000, IP_B, 81, F_SYN, 0, MS(0));
	tcp4(IP_B, 81, IP_A, 40000, F_RST | F_ACK, 0, MS(1));
	/* Any later packet past the linger ends the flow: a packet dumpling. */
	udp4(IP_C, 5000, IP_D, 6000, 10, SEC(5) + MS(1));
	ck_assert_uint_eq(H.n, 1);
	assert_dumpling(0, "packet", SEC(5) + MS(1),
			"{\"proto\":\"tcp\","
			"\"client\":{\"ip\":\"192.0.2.1\",\"port\":40000},"
			"\"server\":{\"ip\":\"192.0.2.2\",\"port\":81},"
			"\"start\":1795322030.000000,\"end\":1795322030.001000,"
			"\"duration\":0.001000,"
			"\"client_to_server\":{\"packets\":1,\"bytes\":54,\"tcp_flags\":\"S\"},"
			"\"server_to_client\":{\"packets\":1,\"bytes\":54,\"tcp_flags\":\"RA\"},"
			"\"tcp_state\":\"reset\",\"end_reason\":\"rst\"}");
	interval_at(SEC(6));
	assert_dumpling(1, "interval", SEC(6),
			"{\"active_flows\":1,\"flows_started\":2,\"flows_ended\":1,\"evictions\":0}");
	harness_stop();
}
END_TEST

START_TEST(tcp_port_reuse_starts_a_new_flow)
{
	harness_start(chef_so, NULL);
	tcp4(IP_A, 40000, IP_B, 80, F_SYN, 0, MS(0));
	tcp4(IP_B, 80, IP_A, 40000, F_RST | F_ACK, 0, MS(1));
	/* The same ports again within the linger: the old flow ends now. */
	tcp4(IP_A, 40000, IP_B, 80, F_SYN, 0, MS(500));
	ck_assert_uint_eq(H.n, 1);
	assert_dumpling(0, "packet", MS(500),
			"{\"proto\":\"tcp\","
			"\"client\":{\"ip\":\"192.0.2.1\",\"port\":40000},"
			"\"server\":{\"ip\":\"192.0.2.2\",\"port\":80},"
			"\"start\":1795322030.000000,\"end\":1795322030.001000,"
			"\"duration\":0.001000,"
			"\"client_to_server\":{\"packets\":1,\"bytes\":54,\"tcp_flags\":\"S\"},"
			"\"server_to_client\":{\"packets\":1,\"bytes\":54,\"tcp_flags\":\"RA\"},"
			"\"tcp_state\":\"reset\",\"end_reason\":\"rst\"}");
	interval_at(SEC(1));
	assert_dumpling(1, "interval", SEC(1),
			"{\"active_flows\":1,\"flows_started\":2,\"flows_ended\":1,\"evictions\":0}");
	harness_stop();
}
END_TEST

START_TEST(tcp_mid_stream)
{
	static const char *const opts[] = { "FlowChef.flush_on_interval=yes", NULL };

	harness_start(chef_so, opts);
	/* Data from the server first: its sender is taken as the client. */
	tcp4(IP_B, 443, IP_A, 50000, F_PSH | F_ACK, 10, MS(0));
	tcp4(IP_A, 50000, IP_B, 443, F_ACK, 0, MS(1));
	/* A SYN+ACK first names its receiver the client. */
	tcp4(IP_D, 22, IP_C, 50001, F_SYN | F_ACK, 0, MS(2));
	tcp4(IP_C, 50001, IP_D, 22, F_ACK, 0, MS(3));
	interval_at(MS(4));
	ck_assert_uint_eq(H.n, 3);
	assert_dumpling(0, "interval", MS(4),
			"{\"proto\":\"tcp\","
			"\"client\":{\"ip\":\"192.0.2.2\",\"port\":443},"
			"\"server\":{\"ip\":\"192.0.2.1\",\"port\":50000},"
			"\"start\":1795322030.000000,\"end\":1795322030.001000,"
			"\"duration\":0.001000,"
			"\"client_to_server\":{\"packets\":1,\"bytes\":64,\"tcp_flags\":\"PA\"},"
			"\"server_to_client\":{\"packets\":1,\"bytes\":54,\"tcp_flags\":\"A\"},"
			"\"tcp_state\":\"established\",\"end_reason\":\"flush\"}");
	assert_dumpling(1, "interval", MS(4),
			"{\"proto\":\"tcp\","
			"\"client\":{\"ip\":\"192.0.2.3\",\"port\":50001},"
			"\"server\":{\"ip\":\"192.0.2.4\",\"port\":22},"
			"\"start\":1795322030.002000,\"end\":1795322030.003000,"
			"\"duration\":0.001000,"
			"\"client_to_server\":{\"packets\":1,\"bytes\":54,\"tcp_flags\":\"A\"},"
			"\"server_to_client\":{\"packets\":1,\"bytes\":54,\"tcp_flags\":\"SA\"},"
			"\"tcp_state\":\"established\",\"end_reason\":\"flush\"}");
	harness_stop();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Timeouts and the table                                                    */
/* ------------------------------------------------------------------------ */

START_TEST(udp_ends_when_idle)
{
	harness_start(chef_so, NULL);
	udp4(IP_A, 53000, IP_B, 53, 30, MS(0));
	udp4(IP_B, 53, IP_A, 53000, 80, MS(2));
	interval_at(SEC(60));        /* 59.998 s idle: not yet */
	ck_assert_uint_eq(H.n, 1);
	assert_dumpling(0, "interval", SEC(60),
			"{\"active_flows\":1,\"flows_started\":1,\"flows_ended\":0,\"evictions\":0}");
	interval_at(SEC(60) + MS(2));
	ck_assert_uint_eq(H.n, 3);
	assert_dumpling(1, "interval", SEC(60) + MS(2),
			"{\"proto\":\"udp\","
			"\"client\":{\"ip\":\"192.0.2.1\",\"port\":53000},"
			"\"server\":{\"ip\":\"192.0.2.2\",\"port\":53},"
			"\"start\":1795322030.000000,\"end\":1795322030.002000,"
			"\"duration\":0.002000,"
			"\"client_to_server\":{\"packets\":1,\"bytes\":72},"
			"\"server_to_client\":{\"packets\":1,\"bytes\":122},"
			"\"end_reason\":\"idle\"}");
	assert_dumpling(2, "interval", SEC(60) + MS(2),
			"{\"active_flows\":0,\"flows_started\":0,\"flows_ended\":1,\"evictions\":0}");
	harness_stop();
}
END_TEST

START_TEST(idle_timeout_option_and_packet_driver)
{
	static const char *const opts[] = { "FlowChef.idle_timeout=0.5", NULL };

	harness_start(chef_so, opts);
	udp4(IP_A, 1111, IP_B, 2222, 0, MS(0));
	udp4(IP_A, 1111, IP_B, 2222, 0, MS(400));
	/* The flow's own next packet after 0.5 s idle starts a new flow. */
	udp4(IP_B, 2222, IP_A, 1111, 0, MS(900));
	ck_assert_uint_eq(H.n, 1);
	assert_dumpling(0, "packet", MS(900),
			"{\"proto\":\"udp\","
			"\"client\":{\"ip\":\"192.0.2.1\",\"port\":1111},"
			"\"server\":{\"ip\":\"192.0.2.2\",\"port\":2222},"
			"\"start\":1795322030.000000,\"end\":1795322030.400000,"
			"\"duration\":0.400000,"
			"\"client_to_server\":{\"packets\":2,\"bytes\":84},"
			"\"server_to_client\":{\"packets\":0,\"bytes\":0},"
			"\"end_reason\":\"idle\"}");
	interval_at(MS(1400));
	ck_assert_uint_eq(H.n, 3);
	assert_dumpling(1, "interval", MS(1400),
			"{\"proto\":\"udp\","
			"\"client\":{\"ip\":\"192.0.2.2\",\"port\":2222},"
			"\"server\":{\"ip\":\"192.0.2.1\",\"port\":1111},"
			"\"start\":1795322030.900000,\"end\":1795322030.900000,"
			"\"duration\":0.000000,"
			"\"client_to_server\":{\"packets\":1,\"bytes\":42},"
			"\"server_to_client\":{\"packets\":0,\"bytes\":0},"
			"\"end_reason\":\"idle\"}");
	harness_stop();
}
END_TEST

START_TEST(active_timeout_splits_a_long_flow)
{
	static const char *const opts[] = { "FlowChef.active_timeout=10", NULL };

	harness_start(chef_so, opts);
	udp4(IP_A, 7000, IP_B, 7001, 8, SEC(0));
	udp4(IP_B, 7001, IP_A, 7000, 8, SEC(5));
	/* 12 s after the start: the record so far is reported first. */
	udp4(IP_A, 7000, IP_B, 7001, 8, SEC(12));
	ck_assert_uint_eq(H.n, 1);
	assert_dumpling(0, "packet", SEC(12),
			"{\"proto\":\"udp\","
			"\"client\":{\"ip\":\"192.0.2.1\",\"port\":7000},"
			"\"server\":{\"ip\":\"192.0.2.2\",\"port\":7001},"
			"\"start\":1795322030.000000,\"end\":1795322035.000000,"
			"\"duration\":5.000000,"
			"\"client_to_server\":{\"packets\":1,\"bytes\":50},"
			"\"server_to_client\":{\"packets\":1,\"bytes\":50},"
			"\"end_reason\":\"active\"}");
	udp4(IP_B, 7001, IP_A, 7000, 8, SEC(15));
	/* The next record is cut by the interval 10 s after it began. */
	interval_at(SEC(22));
	ck_assert_uint_eq(H.n, 3);
	assert_dumpling(1, "interval", SEC(22),
			"{\"proto\":\"udp\","
			"\"client\":{\"ip\":\"192.0.2.1\",\"port\":7000},"
			"\"server\":{\"ip\":\"192.0.2.2\",\"port\":7001},"
			"\"start\":1795322042.000000,\"end\":1795322045.000000,"
			"\"duration\":3.000000,"
			"\"client_to_server\":{\"packets\":1,\"bytes\":50},"
			"\"server_to_client\":{\"packets\":1,\"bytes\":50},"
			"\"end_reason\":\"active\"}");
	assert_dumpling(2, "interval", SEC(22),
			"{\"active_flows\":1,\"flows_started\":1,\"flows_ended\":0,\"evictions\":0}");
	/* Idle since the cut: the flow ends without an empty record. */
	interval_at(SEC(100));
	ck_assert_uint_eq(H.n, 4);
	assert_dumpling(3, "interval", SEC(100),
			"{\"active_flows\":0,\"flows_started\":0,\"flows_ended\":1,\"evictions\":0}");
	harness_stop();
}
END_TEST

START_TEST(max_flows_evicts_least_recently_active)
{
	static const char *const opts[] = { "FlowChef.max_flows=2", NULL };

	harness_start(chef_so, opts);
	udp4(IP_A, 1000, IP_B, 53, 0, MS(0));     /* flow 1 */
	udp4(IP_A, 1001, IP_B, 53, 0, MS(1));     /* flow 2 */
	udp4(IP_B, 53, IP_A, 1000, 0, MS(2));     /* flow 1 active again */
	ck_assert_uint_eq(harness_counter("evictions"), 0);
	udp4(IP_A, 1002, IP_B, 53, 0, MS(3));     /* flow 3 evicts flow 2 */
	ck_assert_uint_eq(harness_counter("evictions"), 1);
	ck_assert_uint_eq(H.n, 1);
	assert_dumpling(0, "packet", MS(3),
			"{\"proto\":\"udp\","
			"\"client\":{\"ip\":\"192.0.2.1\",\"port\":1001},"
			"\"server\":{\"ip\":\"192.0.2.2\",\"port\":53},"
			"\"start\":1795322030.001000,\"end\":1795322030.001000,"
			"\"duration\":0.000000,"
			"\"client_to_server\":{\"packets\":1,\"bytes\":42},"
			"\"server_to_client\":{\"packets\":0,\"bytes\":0},"
			"\"end_reason\":\"evicted\"}");
	udp4(IP_A, 1003, IP_B, 53, 0, MS(4));     /* flow 4 evicts flow 1 */
	ck_assert_uint_eq(harness_counter("evictions"), 2);
	ck_assert_ptr_nonnull(strstr(H.dumplings[1], "\"port\":1000},"));
	ck_assert_ptr_nonnull(strstr(H.dumplings[1], "\"client_to_server\":{\"packets\":1,"
				      "\"bytes\":42},\"server_to_client\":{\"packets\":1,"));
	interval_at(MS(5));
	assert_dumpling(2, "interval", MS(5),
			"{\"active_flows\":2,\"flows_started\":4,\"flows_ended\":2,\"evictions\":2}");
	/* The summary counts since the previous one. */
	interval_at(MS(6));
	assert_dumpling(3, "interval", MS(6),
			"{\"active_flows\":2,\"flows_started\":0,\"flows_ended\":0,\"evictions\":0}");
	harness_stop();
}
END_TEST

START_TEST(many_flows_stay_bounded)
{
	static const char *const opts[] = { "FlowChef.max_flows=100", NULL };

	harness_start(chef_so, opts);
	for (int i = 0; i < 1000; i++) {
		udp4(IP_A, (uint16_t)(10000 + i), IP_B, 53, 0, MS(i));
		if (H.n > HARNESS_MAX_DUMPLINGS / 2)
			harness_forget();
	}
	ck_assert_uint_eq(harness_counter("evictions"), 900);
	harness_forget();
	interval_at(MS(1000));
	assert_dumpling(0, "interval", MS(1000),
			"{\"active_flows\":100,\"flows_started\":1000,\"flows_ended\":900,"
			"\"evictions\":900}");
	harness_stop();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* IPv6, ICMP, other protocols, fragments                                    */
/* ------------------------------------------------------------------------ */

START_TEST(ipv6_tcp_flow)
{
	struct hframe f;

	harness_start(chef_so, NULL);
	h_eth_ipv6(&f, IP6_A, IP6_B, 6);
	h_tcp_to(&f, 50000, 443, F_SYN, NULL, 0);
	h_ip_done(&f);
	h_feed(&f, MS(0));
	h_eth_ipv6(&f, IP6_B, IP6_A, 6);
	h_tcp_to(&f, 443, 50000, F_SYN | F_ACK, NULL, 0);
	h_ip_done(&f);
	h_feed(&f, MS(1));
	h_eth_ipv6(&f, IP6_A, IP6_B, 6);
	h_tcp_to(&f, 50000, 443, F_FIN | F_PSH | F_ACK, xs(5), 5);
	h_ip_done(&f);
	h_feed(&f, MS(2));
	h_eth_ipv6(&f, IP6_B, IP6_A, 6);
	h_tcp_to(&f, 443, 50000, F_FIN | F_ACK, NULL, 0);
	h_ip_done(&f);
	h_feed(&f, MS(3));
	interval_at(SEC(5) + MS(3));
	ck_assert_uint_eq(H.n, 2);
	assert_dumpling(0, "interval", SEC(5) + MS(3),
			"{\"proto\":\"tcp\","
			"\"client\":{\"ip\":\"2001:db8::1\",\"port\":50000},"
			"\"server\":{\"ip\":\"2001:db8::2\",\"port\":443},"
			"\"start\":1795322030.000000,\"end\":1795322030.003000,"
			"\"duration\":0.003000,"
			"\"client_to_server\":{\"packets\":2,\"bytes\":153,\"tcp_flags\":\"FSPA\"},"
			"\"server_to_client\":{\"packets\":2,\"bytes\":148,\"tcp_flags\":\"FSA\"},"
			"\"tcp_state\":\"closed\",\"end_reason\":\"fin\"}");
	harness_stop();
}
END_TEST

START_TEST(icmp_echo_keyed_by_identifier)
{
	static const char *const opts[] = { "FlowChef.flush_on_interval=1", NULL };
	struct hframe f;

	harness_start(chef_so, opts);
	h_eth_ipv4(&f, IP_A, IP_B, 1, 0);
	h_echo(&f, 8, 0x1234, 1);
	h_ip_done(&f);
	h_feed(&f, MS(0));
	h_eth_ipv4(&f, IP_B, IP_A, 1, 0);
	h_echo(&f, 0, 0x1234, 1);
	h_ip_done(&f);
	h_feed(&f, MS(1));
	h_eth_ipv4(&f, IP_A, IP_B, 1, 0);
	h_echo(&f, 8, 0x5678, 1);    /* another ping: another flow */
	h_ip_done(&f);
	h_feed(&f, MS(2));
	h_eth_ipv6(&f, IP6_B, IP6_A, 58);
	h_echo(&f, 129, 7, 1);       /* a reply first: its receiver pinged */
	h_ip_done(&f);
	h_feed(&f, MS(3));
	interval_at(MS(4));
	ck_assert_uint_eq(H.n, 4);
	assert_dumpling(0, "interval", MS(4),
			"{\"proto\":\"icmp\","
			"\"client\":{\"ip\":\"192.0.2.1\",\"port\":0},"
			"\"server\":{\"ip\":\"192.0.2.2\",\"port\":0},"
			"\"icmp_id\":4660,"
			"\"start\":1795322030.000000,\"end\":1795322030.001000,"
			"\"duration\":0.001000,"
			"\"client_to_server\":{\"packets\":1,\"bytes\":42},"
			"\"server_to_client\":{\"packets\":1,\"bytes\":42},"
			"\"end_reason\":\"flush\"}");
	ck_assert_ptr_nonnull(strstr(H.dumplings[1], "\"icmp_id\":22136,"));
	assert_dumpling(2, "interval", MS(4),
			"{\"proto\":\"icmpv6\","
			"\"client\":{\"ip\":\"2001:db8::1\",\"port\":0},"
			"\"server\":{\"ip\":\"2001:db8::2\",\"port\":0},"
			"\"icmp_id\":7,"
			"\"start\":1795322030.003000,\"end\":1795322030.003000,"
			"\"duration\":0.000000,"
			"\"client_to_server\":{\"packets\":0,\"bytes\":0},"
			"\"server_to_client\":{\"packets\":1,\"bytes\":62},"
			"\"end_reason\":\"flush\"}");
	harness_stop();
}
END_TEST

START_TEST(other_protocol_and_fragments)
{
	static const char *const opts[] = { "FlowChef.flush_on_interval=true", NULL };
	struct hframe f;

	harness_start(chef_so, opts);
	/* GRE (47): keyed by addresses only. */
	h_eth_ipv4(&f, IP_A, IP_B, 47, 0);
	h_put32(&f, 0x00000800);
	h_ip_done(&f);
	h_feed(&f, MS(0));
	h_eth_ipv4(&f, IP_B, IP_A, 47, 0);
	h_put32(&f, 0x00000800);
	h_ip_done(&f);
	h_feed(&f, MS(1));
	/* An unassigned protocol number is written as a number. */
	h_eth_ipv4(&f, IP_A, IP_B, 253, 0);
	h_put32(&f, 0);
	h_ip_done(&f);
	h_feed(&f, MS(2));
	/* A UDP fragment after the first has no ports: not attributed. */
	h_eth_ipv4(&f, IP_A, IP_B, 17, 0x0002);   /* offset 16 bytes */
	h_put32(&f, 0);
	h_put32(&f, 0);
	h_put32(&f, 0);
	h_put32(&f, 0);
	h_ip_done(&f);
	h_feed(&f, MS(3));
	ck_assert_uint_eq(harness_counter("unattributed"), 1);
	interval_at(MS(4));
	ck_assert_uint_eq(H.n, 3);
	assert_dumpling(0, "interval", MS(4),
			"{\"proto\":\"gre\","
			"\"client\":{\"ip\":\"192.0.2.1\",\"port\":0},"
			"\"server\":{\"ip\":\"192.0.2.2\",\"port\":0},"
			"\"start\":1795322030.000000,\"end\":1795322030.001000,"
			"\"duration\":0.001000,"
			"\"client_to_server\":{\"packets\":1,\"bytes\":38},"
			"\"server_to_client\":{\"packets\":1,\"bytes\":38},"
			"\"end_reason\":\"flush\"}");
	ck_assert_ptr_nonnull(strstr(H.dumplings[1], "{\"proto\":\"253\","));
	assert_dumpling(2, "interval", MS(4),
			"{\"active_flows\":0,\"flows_started\":2,\"flows_ended\":2,\"evictions\":0}");
	harness_stop();
}
END_TEST

START_TEST(rejects_bad_options)
{
	static const char *const bad[] = {
		"FlowChef.max_flows=0", "FlowChef.idle_timeout=0", "FlowChef.closed_timeout=-1",
		"FlowChef.active_timeout=abc", "FlowChef.flush_on_interval=maybe",
		"FlowChef.no_such_key=1",
	};

	harness_assert_refused(chef_so, bad, sizeof(bad) / sizeof(bad[0]), false);
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *flow_suite(void)
{
	Suite *s = suite_create("flow");
	TCase *t = tcase_create("tcp");
	TCase *tm = tcase_create("timeouts");
	TCase *o = tcase_create("other");

	tcase_add_test(t, tcp_handshake_data_fin);
	tcase_add_test(t, tcp_states_on_the_way);
	tcase_add_test(t, tcp_rst_ends_at_next_packet);
	tcase_add_test(t, tcp_port_reuse_starts_a_new_flow);
	tcase_add_test(t, tcp_mid_stream);
	suite_add_tcase(s, t);

	tcase_add_test(tm, udp_ends_when_idle);
	tcase_add_test(tm, idle_timeout_option_and_packet_driver);
	tcase_add_test(tm, active_timeout_splits_a_long_flow);
	tcase_add_test(tm, max_flows_evicts_least_recently_active);
	tcase_add_test(tm, many_flows_stay_bounded);
	suite_add_tcase(s, tm);

	tcase_add_test(o, ipv6_tcp_flow);
	tcase_add_test(o, icmp_echo_keyed_by_identifier);
	tcase_add_test(o, other_protocol_and_fragments);
	tcase_add_test(o, rejects_bad_options);
	suite_add_tcase(s, o);
	return s;
}

int main(int argc, char **argv)
{
	return harness_main(argc, argv, "FLOW_SO", flow_suite);
}
