/* SPDX-License-Identifier: MIT */
/*
 * test_packetlayers - PacketLayersChef in the real kitchen core: every layer
 * it writes, on hand-built frames, compared byte for byte; the payload hex
 * limit, sampling, and option checks.
 *
 * Usage: test_packetlayers PACKETLAYERS_SO
 */
#include "chef_harness.h"

#define ETHER_IPV4 "\"ether\":{\"src\":\"02:00:00:00:00:0a\",\"dst\":\"02:00:00:00:00:0b\",\"type\":2048}"
#define ETHER_IPV6 "\"ether\":{\"src\":\"02:00:00:00:00:0a\",\"dst\":\"02:00:00:00:00:0b\",\"type\":34525}"

static struct h_ipv4 ipv4_hdr(uint8_t proto)
{
	struct h_ipv4 ip = { .tos = 0x10, .id = 0x1234, .frag = 0x4000, .ttl = 64, .proto = proto };

	memcpy(ip.src, IP_A, 4);
	memcpy(ip.dst, IP_B, 4);
	return ip;
}

/* Start of every dumpling: time, caplen and len of frame f. */
static const char *head(const struct hframe *f)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "{\"time\":" T1S ",\"caplen\":%zu,\"len\":%zu,", f->len, f->len);
	return buf;
}

static void assert_layers(size_t i, const struct hframe *f, const char *rest)
{
	char want[4096];

	snprintf(want, sizeof(want), "%s%s", head(f), rest);
	harness_assert(i, T1, want);
}

/* A DNS query for www.example.test, or a response with one A record. */
static size_t dns_message(uint8_t *out, bool response)
{
	static const uint8_t query[] = {
		0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0,
		0, 1, 0, 1,
	};
	static const uint8_t answer[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4,
					  192, 0, 2, 80 };

	memcpy(out, query, sizeof(query));
	if (!response)
		return sizeof(query);
	out[2] = 0x81;
	out[3] = 0x80;
	out[7] = 1;
	memcpy(out + sizeof(query), answer, sizeof(answer));
	return sizeof(query) + sizeof(answer);
}

/* ------------------------------------------------------------------------ */
/* Link and network layers                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(tcp_syn_with_options)
{
	/* MSS 1460, SACK permitted, timestamps 100/0, NOP, window scale 7 (RFC 9293, 7323, 2018). */
	static const uint8_t opts[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 100, 0, 0, 0, 0,
					1, 3, 3, 7 };
	struct h_ipv4 ip = ipv4_hdr(6);
	struct h_tcp t = { .sport = 40000, .dport = 80, .seq = 1000, .flags = 0x02,
			   .window = 64240, .opts = opts, .opts_len = sizeof(opts) };
	struct hframe f;

	harness_start(chef_so, NULL);
	h_eth(&f, MAC_B, MAC_A, 0x0800, NULL);
	h_ipv4(&f, &ip);
	h_tcp(&f, &t, NULL, 0);
	h_ip_done(&f);
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 1);
	assert_layers(0, &f, ETHER_IPV4 ",\"ip\":{\"version\":4,\"src\":\"192.0.2.1\","
		"\"dst\":\"192.0.2.2\",\"ttl\":64,\"proto\":6,\"id\":4660,\"tos\":16,"
		"\"flags\":[\"DF\"],\"frag_offset\":0,\"hdr_len\":20,\"total_len\":60},"
		"\"tcp\":{\"sport\":40000,\"dport\":80,\"seq\":1000,\"ack\":0,\"flags\":\"S\","
		"\"window\":64240,\"hdr_len\":40,\"options\":{\"mss\":1460,\"wscale\":7,"
		"\"sack_ok\":true,\"ts_val\":100,\"ts_ecr\":0}}}");
	harness_stop();
}
END_TEST

START_TEST(tcp_flags_letters_and_bad_options)
{
	/* An option whose length runs past the header. */
	static const uint8_t opts[] = { 1, 1, 5, 20 };
	struct h_ipv4 ip = ipv4_hdr(6);
	struct h_tcp t = { .sport = 80, .dport = 40000, .seq = 7, .ack = 1001, .flags = 0xff,
			   .window = 1, .opts = opts, .opts_len = sizeof(opts) };
	struct hframe f;

	harness_start(chef_so, NULL);
	h_eth(&f, MAC_B, MAC_A, 0x0800, NULL);
	h_ipv4(&f, &ip);
	h_tcp(&f, &t, NULL, 0);
	h_ip_done(&f);
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 1);
	ck_assert_ptr_nonnull(strstr(H.dumplings[0],
		"\"tcp\":{\"sport\":80,\"dport\":40000,\"seq\":7,\"ack\":1001,\"flags\":\"FSRPAUEC\","
		"\"window\":1,\"hdr_len\":24,\"options\":{\"bad\":true}}}"));
	harness_stop();
}
END_TEST

START_TEST(vlan_udp_dns_query)
{
	static const uint16_t tags[] = { 100, 42, 0 };
	struct h_ipv4 ip = ipv4_hdr(17);
	uint8_t msg[64];
	size_t n = dns_message(msg, false);
	struct hframe f;

	ip.frag = 0;
	harness_start(chef_so, NULL);
	h_eth(&f, MAC_B, MAC_A, 0x0800, tags);
	h_ipv4(&f, &ip);
	h_udp(&f, 40000, 53, msg, n);
	h_ip_done(&f);
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 1);
	assert_layers(0, &f, ETHER_IPV4 ",\"vlan\":[{\"id\":100},{\"id\":42}],"
		"\"ip\":{\"version\":4,\"src\":\"192.0.2.1\",\"dst\":\"192.0.2.2\",\"ttl\":64,"
		"\"proto\":17,\"id\":4660,\"tos\":16,\"flags\":[],\"frag_offset\":0,"
		"\"hdr_len\":20,\"total_len\":62},"
		"\"udp\":{\"sport\":40000,\"dport\":53,\"len\":42},"
		"\"dns\":{\"id\":48879,\"qr\":0,\"opcode\":0,\"rcode\":0,\"questions\":"
		"[{\"name\":\"www.example.test\",\"type\":1,\"class\":1}],\"answers\":[]},"
		"\"payload\":{\"len\":34,\"hex\":\"beef01000001000000000000037777770765"
		"78616d706c6504746573740000010001\",\"truncated\":false}}");
	harness_stop();
}
END_TEST

START_TEST(dns_answers)
{
	struct h_ipv4 ip = ipv4_hdr(17);
	uint8_t msg[64];
	size_t n = dns_message(msg, true);
	struct hframe f;
	static const char *const opts[] = { "PacketLayersChef.payload_hex_max=0", NULL };

	harness_start(chef_so, opts);
	h_eth(&f, MAC_B, MAC_A, 0x0800, NULL);
	h_ipv4(&f, &ip);
	h_udp(&f, 53, 40000, msg, n);
	h_ip_done(&f);
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 1);
	ck_assert_ptr_nonnull(strstr(H.dumplings[0],
		"\"dns\":{\"id\":48879,\"qr\":1,\"opcode\":0,\"rcode\":0,\"questions\":"
		"[{\"name\":\"www.example.test\",\"type\":1,\"class\":1}],\"answers\":"
		"[{\"name\":\"www.example.test\",\"type\":1,\"class\":1,\"ttl\":300,"
		"\"data\":\"192.0.2.80\"}]},\"payload\":{\"len\":50}}}"));
	harness_stop();
}
END_TEST

START_TEST(arp_request)
{
	struct hframe f;

	harness_start(chef_so, NULL);
	h_arp(&f, 1, MAC_A, IP_A, MAC_ZERO, IP_B);
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 1);
	assert_layers(0, &f, "\"ether\":{\"src\":\"02:00:00:00:00:0a\",\"dst\":\"ff:ff:ff:ff:ff:ff\","
		"\"type\":2054},\"arp\":{\"op\":1,\"src_hw\":\"02:00:00:00:00:0a\","
		"\"src_ip\":\"192.0.2.1\",\"dst_hw\":\"00:00:00:00:00:00\",\"dst_ip\":\"192.0.2.2\"}}");
	harness_stop();
}
END_TEST

START_TEST(icmp_echo_reply_with_padding)
{
	struct h_ipv4 ip = ipv4_hdr(1);
	struct hframe f;

	harness_start(chef_so, NULL);
	h_eth(&f, MAC_B, MAC_A, 0x0800, NULL);
	h_ipv4(&f, &ip);
	h_put8(&f, 0);              /* echo reply */
	h_put8(&f, 0);
	h_put16(&f, 0);
	h_put16(&f, 0x4242);
	h_put16(&f, 7);
	h_ip_done(&f);
	while (f.len < 60)
		h_put8(&f, 0);      /* Ethernet's minimum frame */
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 1);
	assert_layers(0, &f, ETHER_IPV4 ",\"ip\":{\"version\":4,\"src\":\"192.0.2.1\","
		"\"dst\":\"192.0.2.2\",\"ttl\":64,\"proto\":1,\"id\":4660,\"tos\":16,"
		"\"flags\":[\"DF\"],\"frag_offset\":0,\"hdr_len\":20,\"total_len\":28},"
		"\"icmp\":{\"type\":0,\"code\":0,\"id\":16962,\"seq\":7},"
		"\"payload\":{\"len\":4,\"hex\":\"42420007\",\"truncated\":false},"
		"\"padding\":{\"len\":18}}");
	harness_stop();
}
END_TEST

START_TEST(icmp_other_type_has_no_echo_fields)
{
	struct h_ipv4 ip = ipv4_hdr(1);
	struct hframe f;

	harness_start(chef_so, NULL);
	h_eth(&f, MAC_B, MAC_A, 0x0800, NULL);
	h_ipv4(&f, &ip);
	h_put8(&f, 3);              /* destination unreachable, port */
	h_put8(&f, 3);
	h_put16(&f, 0);
	h_put32(&f, 0);
	h_ip_done(&f);
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 1);
	ck_assert_ptr_nonnull(strstr(H.dumplings[0], "\"icmp\":{\"type\":3,\"code\":3},"));
	harness_stop();
}
END_TEST

START_TEST(ipv6_icmpv6_echo)
{
	struct hframe f;

	harness_start(chef_so, NULL);
	h_eth(&f, MAC_B, MAC_A, 0x86dd, NULL);
	h_ipv6(&f, 0xb8, 0x12345, 58, 255, IP6_A, IP6_B);
	h_put8(&f, 128);
	h_put8(&f, 0);
	h_put16(&f, 0);
	h_put16(&f, 0x1234);
	h_put16(&f, 1);
	h_ip_done(&f);
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 1);
	assert_layers(0, &f, ETHER_IPV6 ",\"ipv6\":{\"src\":\"2001:db8::1\",\"dst\":\"2001:db8::2\","
		"\"hop_limit\":255,\"next_header\":58,\"traffic_class\":184,\"flow\":74565,"
		"\"ext_headers\":0,\"hdr_len\":40,\"total_len\":48},"
		"\"icmpv6\":{\"type\":128,\"code\":0,\"id\":4660,\"seq\":1},"
		"\"payload\":{\"len\":4,\"hex\":\"12340001\",\"truncated\":false}}");
	harness_stop();
}
END_TEST

START_TEST(ipv6_fragment_header)
{
	struct hframe f;

	harness_start(chef_so, NULL);
	h_eth(&f, MAC_B, MAC_A, 0x86dd, NULL);
	h_ipv6(&f, 0, 0, 44, 64, IP6_A, IP6_B);
	h_put8(&f, 17);             /* fragment header (RFC 8200 4.5): next UDP */
	h_put8(&f, 0);
	h_put16(&f, 1);             /* offset 0, more fragments */
	h_put32(&f, 0xdeadbeef);
	h_udp(&f, 5000, 5001, "abcd", 4);
	h_ip_done(&f);
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 1);
	assert_layers(0, &f, ETHER_IPV6 ",\"ipv6\":{\"src\":\"2001:db8::1\",\"dst\":\"2001:db8::2\","
		"\"hop_limit\":64,\"next_header\":17,\"traffic_class\":0,\"flow\":0,"
		"\"ext_headers\":1,\"hdr_len\":48,\"total_len\":60,"
		"\"fragment\":{\"offset\":0,\"more\":true,\"id\":3735928559}},"
		"\"udp\":{\"sport\":5000,\"dport\":5001,\"len\":12},"
		"\"payload\":{\"len\":4,\"hex\":\"61626364\",\"truncated\":false}}");
	harness_stop();
}
END_TEST

START_TEST(ipv4_later_fragment)
{
	struct h_ipv4 ip = ipv4_hdr(17);
	struct hframe f;

	ip.frag = 0x2000 | (1480 / 8);  /* MF, offset 1480 */
	harness_start(chef_so, NULL);
	h_eth(&f, MAC_B, MAC_A, 0x0800, NULL);
	h_ipv4(&f, &ip);
	h_putn(&f, "0123456789", 10);
	h_ip_done(&f);
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 1);
	/* No transport header in a later fragment: only the IP layer. */
	assert_layers(0, &f, ETHER_IPV4 ",\"ip\":{\"version\":4,\"src\":\"192.0.2.1\","
		"\"dst\":\"192.0.2.2\",\"ttl\":64,\"proto\":17,\"id\":4660,\"tos\":16,"
		"\"flags\":[\"MF\"],\"frag_offset\":1480,\"hdr_len\":20,\"total_len\":30}}");
	harness_stop();
}
END_TEST

START_TEST(linux_cooked_and_null_links)
{
	struct h_ipv4 ip = ipv4_hdr(17);
	struct hframe f;

	harness_start(chef_so, NULL);
	/* Linux cooked v1: sent by another host (packet type 4), from MAC_A. */
	h_sll(&f, 4, MAC_A, 0x0800);
	h_ipv4(&f, &ip);
	h_udp(&f, 1, 2, NULL, 0);
	h_ip_done(&f);
	h_feed_link(&f, HARNESS_DLT_LINUX_SLL, T1);
	/* BSD null: AF_INET in the capturing host's order. */
	f.len = 0;
	h_putn(&f, (const uint8_t[4]){ 2, 0, 0, 0 }, 4);
	h_ipv4(&f, &ip);
	h_udp(&f, 1, 2, NULL, 0);
	h_ip_done(&f);
	h_feed_link(&f, HARNESS_DLT_NULL, T1);
	ck_assert_uint_eq(H.n, 2);
	ck_assert_ptr_nonnull(strstr(H.dumplings[0], ",\"len\":44,\"sll\":{\"src\":"
				     "\"02:00:00:00:00:0a\",\"type\":2048},\"ip\":{"));
	ck_assert_ptr_nonnull(strstr(H.dumplings[1], ",\"len\":32,\"null\":{\"type\":2048},\"ip\":{"));
	ck_assert_ptr_nonnull(strstr(H.dumplings[1], "\"udp\":{\"sport\":1,\"dport\":2,\"len\":8}}}"));
	harness_stop();
}
END_TEST

START_TEST(decode_error_named)
{
	struct h_ipv4 ip = ipv4_hdr(6);
	struct hframe f;

	harness_start(chef_so, NULL);
	h_eth(&f, MAC_B, MAC_A, 0x0800, NULL);
	h_ipv4(&f, &ip);
	f.len -= 8;                 /* the capture stops inside the IPv4 header */
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 1);
	assert_layers(0, &f, ETHER_IPV4 ",\"decode_error\":\"truncated_ipv4\"}");
	harness_stop();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Application layers (the kitchen's HTTP and TLS parsers)                   */
/* ------------------------------------------------------------------------ */

static void tcp_text(struct hframe *f, const void *payload, size_t n)
{
	struct h_ipv4 ip = ipv4_hdr(6);
	struct h_tcp t = { .sport = 40000, .dport = 80, .seq = 1, .ack = 1, .flags = 0x18,
			   .window = 502 };

	h_eth(f, MAC_B, MAC_A, 0x0800, NULL);
	h_ipv4(f, &ip);
	h_tcp(f, &t, payload, n);
	h_ip_done(f);
}

START_TEST(http_request_headers_and_hex_limit)
{
	static const char *const opts[] = { "PacketLayersChef.payload_hex_max=16", NULL };
	static const char req[] = "GET /a?b=c HTTP/1.1\r\nHost: www.example.test\r\n"
				  "User-Agent: t/1\r\n\r\n";
	struct hframe f;

	harness_start(chef_so, opts);
	tcp_text(&f, req, strlen(req));
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 1);
	ck_assert_ptr_nonnull(strstr(H.dumplings[0],
		"\"options\":{}},\"http\":{\"kind\":\"request\",\"method\":\"GET\","
		"\"target\":\"/a?b=c\",\"version\":\"1.1\",\"headers\":[[\"Host\","
		"\"www.example.test\"],[\"User-Agent\",\"t/1\"]],\"complete\":true},"
		"\"payload\":{\"len\":64,\"hex\":\"474554202f613f623d6320485454502f\","
		"\"truncated\":true}}}"));
	harness_stop();
}
END_TEST

START_TEST(http_response_cut_short)
{
	static const char resp[] = "HTTP/1.0 404 Not Found\r\nServer: x\r\nContent-";
	struct hframe f;

	harness_start(chef_so, NULL);
	tcp_text(&f, resp, strlen(resp));
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 1);
	ck_assert_ptr_nonnull(strstr(H.dumplings[0],
		"\"http\":{\"kind\":\"response\",\"status\":404,\"reason\":\"Not Found\","
		"\"version\":\"1.0\",\"headers\":[[\"Server\",\"x\"]],\"complete\":false,"
		"\"error\":\"truncated\"},"));
	harness_stop();
}
END_TEST

START_TEST(tls_client_hello)
{
	/* A minimal TLS 1.2 ClientHello naming a.test (RFC 5246 7.4.1.2, RFC 6066 3). */
	static const uint8_t rec[] = {
		22, 3, 1, 0, 58,
		1, 0, 0, 54, 3, 3,
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
		0,                      /* session id */
		0, 2, 0xc0, 0x2f,       /* one cipher suite */
		1, 0,                   /* null compression */
		0, 11,                  /* extensions */
		0, 0, 0, 7, 0, 5, 0, 0, 2, 'a', 't',
	};
	struct hframe f;

	harness_start(chef_so, NULL);
	tcp_text(&f, rec, sizeof(rec));
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 1);
	ck_assert_ptr_nonnull(strstr(H.dumplings[0],
		"\"tls\":{\"type\":\"client_hello\",\"sni\":\"at\",\"version\":\"TLS 1.2\"},"
		"\"payload\":{\"len\":63,"));
	ck_assert_ptr_null(strstr(H.dumplings[0], "\"http\""));
	harness_stop();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(sample_every_third)
{
	static const char *const opts[] = { "PacketLayersChef.sample=3", NULL };
	struct h_ipv4 ip = ipv4_hdr(17);
	struct hframe f;

	harness_start(chef_so, opts);
	for (uint16_t i = 0; i < 7; i++) {
		h_eth(&f, MAC_B, MAC_A, 0x0800, NULL);
		h_ipv4(&f, &ip);
		h_udp(&f, (uint16_t)(1000 + i), 9, NULL, 0);
		h_ip_done(&f);
		h_feed(&f, T1);
	}
	ck_assert_uint_eq(H.n, 3);
	ck_assert_ptr_nonnull(strstr(H.dumplings[0], "\"sport\":1000,"));
	ck_assert_ptr_nonnull(strstr(H.dumplings[1], "\"sport\":1003,"));
	ck_assert_ptr_nonnull(strstr(H.dumplings[2], "\"sport\":1006,"));
	harness_stop();
}
END_TEST

START_TEST(rejects_bad_options)
{
	char err[256] = "";

	ck_assert_int_eq(harness_try_option(chef_so, "PacketLayersChef.sample=0",
					    err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "sample") != NULL, "reason: %s", err);
	ck_assert_int_eq(harness_try_option(chef_so, "PacketLayersChef.payload_hex_max=-1",
					    err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(harness_try_option(chef_so, "PacketLayersChef.payload_hex_max=65536",
					    err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(harness_try_option(chef_so, "PacketLayersChef.payload_hex_max=65535",
					    err, sizeof(err)), 0);
}
END_TEST

static Suite *packetlayers_suite(void)
{
	Suite *s = suite_create("packetlayers");
	TCase *net = tcase_create("layers");
	TCase *app = tcase_create("application");
	TCase *opt = tcase_create("options");

	tcase_add_test(net, tcp_syn_with_options);
	tcase_add_test(net, tcp_flags_letters_and_bad_options);
	tcase_add_test(net, vlan_udp_dns_query);
	tcase_add_test(net, dns_answers);
	tcase_add_test(net, arp_request);
	tcase_add_test(net, icmp_echo_reply_with_padding);
	tcase_add_test(net, icmp_other_type_has_no_echo_fields);
	tcase_add_test(net, ipv6_icmpv6_echo);
	tcase_add_test(net, ipv6_fragment_header);
	tcase_add_test(net, ipv4_later_fragment);
	tcase_add_test(net, linux_cooked_and_null_links);
	tcase_add_test(net, decode_error_named);
	suite_add_tcase(s, net);

	tcase_add_test(app, http_request_headers_and_hex_limit);
	tcase_add_test(app, http_response_cut_short);
	tcase_add_test(app, tls_client_hello);
	suite_add_tcase(s, app);

	tcase_add_test(opt, sample_every_third);
	tcase_add_test(opt, rejects_bad_options);
	suite_add_tcase(s, opt);
	return s;
}

int main(int argc, char **argv)
{
	return harness_main(argc, argv, "PACKETLAYERS_SO", packetlayers_suite);
}
