/* SPDX-License-Identifier: MIT */
/*
 * test_netwatch - NetwatchChef loaded from its .so by the real kitchen
 * core: every tag and direction, names learned from a DNS answer and then
 * seen on a connection, both tables' bounds, idle expiry, the
 * validation of local_networks, and IPv6 text exactly as inet_ntop's.
 *
 * Usage: test_netwatch NETWATCH_SO
 */
#include <arpa/inet.h>
#include <sys/socket.h>
#include "chef_harness.h"

#define NS 1000000000LL

static struct h_end v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct h_end e = { .version = 4, .ip = { a, b, c, d }, .port = port };

	return e;
}

static struct h_end v6(const char *text, uint16_t port)
{
	struct h_end e = { .version = 6, .port = port };

	ck_assert_int_eq(inet_pton(AF_INET6, text, e.ip), 1);
	return e;
}

static void feed_tcp(struct h_end src, struct h_end dst, ndl_time_ns ts)
{
	struct hframe f;

	h_tcp_frame(&f, &src, &dst, 0x02, NULL, 0);
	h_feed(&f, ts);
}

static void feed_udp(const uint8_t *mac, struct h_end src, struct h_end dst, ndl_time_ns ts)
{
	static const uint8_t data[4] = "data";
	struct hframe f;

	h_udp_frame(&f, mac, &src, &dst, data, sizeof(data));
	h_feed(&f, ts);
}

static void feed_ping(struct h_end src, struct h_end dst, ndl_time_ns ts)
{
	struct hframe f;

	h_ping_frame(&f, &src, &dst);
	h_feed(&f, ts);
}

/* A DNS response from resolver to client answering qname with an[]. */
static void feed_answer(const char *qname, uint16_t qtype, const struct h_rr *an, size_t nan,
			ndl_time_ns ts)
{
	const struct h_q q = { .name = qname, .qtype = qtype };
	struct h_end resolver = v4(10, 0, 0, 53, 53), client = v4(10, 0, 0, 9, 5000);
	struct hframe m, f;

	h_dns(&m, 0x4242, 0x8180, &q, 1, an, nan);
	h_udp_frame(&f, NULL, &resolver, &client, m.b, m.len);
	h_feed(&f, ts);
}

/* ------------------------------------------------------------------------ */

START_TEST(directions_and_tags)
{
	harness_start(chef_so, NULL);
	feed_tcp(v4(10, 0, 0, 1, 40000), v4(10, 0, 0, 2, 80), T1);
	feed_tcp(v4(192, 168, 1, 5, 40001), v4(93, 184, 216, 34, 443), T1);
	feed_tcp(v4(203, 0, 113, 7, 40002), v4(172, 16, 0, 1, 22), T1);
	feed_tcp(v4(198, 51, 100, 1, 40003), v4(203, 0, 113, 7, 25), T1);
	feed_udp(NULL, v4(192, 168, 1, 5, 5353), v4(224, 0, 0, 251, 5353), T2);
	feed_udp(MAC_BCAST, v4(0, 0, 0, 0, 68), v4(255, 255, 255, 255, 67), T2);
	feed_udp(MAC_BCAST, v4(192, 168, 1, 5, 137), v4(192, 168, 1, 255, 137), T2);
	feed_tcp(v4(127, 0, 0, 1, 40004), v4(127, 0, 0, 1, 8080), T3);
	ck_assert_uint_eq(H.n, 8);
	harness_assert_driver(0, "packet", T1,
		  "{\"time\":" T1S ",\"proto\":\"TCP\","
		  "\"src\":{\"ip\":\"10.0.0.1\",\"port\":40000,\"name\":null,\"tag\":\"internal\"},"
		  "\"dst\":{\"ip\":\"10.0.0.2\",\"port\":80,\"name\":null,\"tag\":\"internal\"},"
		  "\"direction\":\"internal\","
		  "\"summary\":\"TCP 10.0.0.1:40000(internal) --> 10.0.0.2:80(internal)\"}");
	harness_assert_driver(1, "packet", T1,
		  "{\"time\":" T1S ",\"proto\":\"TCP\","
		  "\"src\":{\"ip\":\"192.168.1.5\",\"port\":40001,\"name\":null,\"tag\":\"internal\"},"
		  "\"dst\":{\"ip\":\"93.184.216.34\",\"port\":443,\"name\":null,\"tag\":\"external\"},"
		  "\"direction\":\"outgoing\","
		  "\"summary\":\"TCP 192.168.1.5:40001(internal) --> 93.184.216.34:443(external)\"}");
	harness_assert_driver(2, "packet", T1,
		  "{\"time\":" T1S ",\"proto\":\"TCP\","
		  "\"src\":{\"ip\":\"203.0.113.7\",\"port\":40002,\"name\":null,\"tag\":\"external\"},"
		  "\"dst\":{\"ip\":\"172.16.0.1\",\"port\":22,\"name\":null,\"tag\":\"internal\"},"
		  "\"direction\":\"incoming\","
		  "\"summary\":\"TCP 203.0.113.7:40002(external) --> 172.16.0.1:22(internal)\"}");
	harness_assert_driver(3, "packet", T1,
		  "{\"time\":" T1S ",\"proto\":\"TCP\","
		  "\"src\":{\"ip\":\"198.51.100.1\",\"port\":40003,\"name\":null,\"tag\":\"external\"},"
		  "\"dst\":{\"ip\":\"203.0.113.7\",\"port\":25,\"name\":null,\"tag\":\"external\"},"
		  "\"direction\":\"external\","
		  "\"summary\":\"TCP 198.51.100.1:40003(external) --> 203.0.113.7:25(external)\"}");
	harness_assert_driver(4, "packet", T2,
		  "{\"time\":" T2S ",\"proto\":\"UDP\","
		  "\"src\":{\"ip\":\"192.168.1.5\",\"port\":5353,\"name\":null,\"tag\":\"internal\"},"
		  "\"dst\":{\"ip\":\"224.0.0.251\",\"port\":5353,\"name\":null,\"tag\":\"multicast\"},"
		  "\"direction\":\"multicast\","
		  "\"summary\":\"UDP 192.168.1.5:5353(internal) --> 224.0.0.251:5353(multicast)\"}");
	/* DHCP's discover: the unspecified source counts as internal. */
	harness_assert_driver(5, "packet", T2,
		  "{\"time\":" T2S ",\"proto\":\"UDP\","
		  "\"src\":{\"ip\":\"0.0.0.0\",\"port\":68,\"name\":null,\"tag\":\"internal\"},"
		  "\"dst\":{\"ip\":\"255.255.255.255\",\"port\":67,\"name\":null,\"tag\":\"broadcast\"},"
		  "\"direction\":\"broadcast\","
		  "\"summary\":\"UDP 0.0.0.0:68(internal) --> 255.255.255.255:67(broadcast)\"}");
	/* A subnet broadcast is known by its Ethernet destination. */
	harness_assert_driver(6, "packet", T2,
		  "{\"time\":" T2S ",\"proto\":\"UDP\","
		  "\"src\":{\"ip\":\"192.168.1.5\",\"port\":137,\"name\":null,\"tag\":\"internal\"},"
		  "\"dst\":{\"ip\":\"192.168.1.255\",\"port\":137,\"name\":null,\"tag\":\"broadcast\"},"
		  "\"direction\":\"broadcast\","
		  "\"summary\":\"UDP 192.168.1.5:137(internal) --> 192.168.1.255:137(broadcast)\"}");
	harness_assert_driver(7, "packet", T3,
		  "{\"time\":" T3S ",\"proto\":\"TCP\","
		  "\"src\":{\"ip\":\"127.0.0.1\",\"port\":40004,\"name\":null,\"tag\":\"loopback\"},"
		  "\"dst\":{\"ip\":\"127.0.0.1\",\"port\":8080,\"name\":null,\"tag\":\"loopback\"},"
		  "\"direction\":\"internal\","
		  "\"summary\":\"TCP 127.0.0.1:40004(loopback) --> 127.0.0.1:8080(loopback)\"}");
	harness_stop();
}
END_TEST

START_TEST(icmp_and_ipv6)
{
	harness_start(chef_so, NULL);
	feed_ping(v4(10, 0, 0, 1, 0), v4(192, 0, 2, 8, 0), T1);
	feed_ping(v6("fe80::1", 0), v6("ff02::1", 0), T1);
	feed_tcp(v6("2001:db8::1", 50000), v6("fd00::1", 443), T2);
	feed_udp(NULL, v6("::1", 1000), v6("::1", 2000), T3);
	ck_assert_uint_eq(H.n, 4);
	harness_assert_driver(0, "packet", T1,
		  "{\"time\":" T1S ",\"proto\":\"ICMP\","
		  "\"src\":{\"ip\":\"10.0.0.1\",\"port\":null,\"name\":null,\"tag\":\"internal\"},"
		  "\"dst\":{\"ip\":\"192.0.2.8\",\"port\":null,\"name\":null,\"tag\":\"external\"},"
		  "\"direction\":\"outgoing\","
		  "\"summary\":\"ICMP 10.0.0.1(internal) --> 192.0.2.8(external)\"}");
	harness_assert_driver(1, "packet", T1,
		  "{\"time\":" T1S ",\"proto\":\"ICMPv6\","
		  "\"src\":{\"ip\":\"fe80::1\",\"port\":null,\"name\":null,\"tag\":\"internal\"},"
		  "\"dst\":{\"ip\":\"ff02::1\",\"port\":null,\"name\":null,\"tag\":\"multicast\"},"
		  "\"direction\":\"multicast\","
		  "\"summary\":\"ICMPv6 fe80::1(internal) --> ff02::1(multicast)\"}");
	harness_assert_driver(2, "packet", T2,
		  "{\"time\":" T2S ",\"proto\":\"TCP\","
		  "\"src\":{\"ip\":\"2001:db8::1\",\"port\":50000,\"name\":null,\"tag\":\"external\"},"
		  "\"dst\":{\"ip\":\"fd00::1\",\"port\":443,\"name\":null,\"tag\":\"internal\"},"
		  "\"direction\":\"incoming\","
		  "\"summary\":\"TCP [2001:db8::1]:50000(external) --> [fd00::1]:443(internal)\"}");
	harness_assert_driver(3, "packet", T3,
		  "{\"time\":" T3S ",\"proto\":\"UDP\","
		  "\"src\":{\"ip\":\"::1\",\"port\":1000,\"name\":null,\"tag\":\"loopback\"},"
		  "\"dst\":{\"ip\":\"::1\",\"port\":2000,\"name\":null,\"tag\":\"loopback\"},"
		  "\"direction\":\"internal\","
		  "\"summary\":\"UDP [::1]:1000(loopback) --> [::1]:2000(loopback)\"}");
	harness_stop();
}
END_TEST

START_TEST(a_conversation_is_reported_once)
{
	struct h_end a = v4(10, 0, 0, 1, 40000), b = v4(192, 0, 2, 80, 80);

	harness_start(chef_so, NULL);
	feed_tcp(a, b, T1);
	feed_tcp(b, a, T1 + 1000);          /* the answer: same conversation */
	feed_tcp(a, b, T2);
	ck_assert_uint_eq(H.n, 1);
	/* Another source port is another conversation; so is UDP between the same ends. */
	feed_tcp(v4(10, 0, 0, 1, 40001), b, T2);
	feed_udp(NULL, a, b, T2);
	ck_assert_uint_eq(H.n, 3);
	/* Pings in both directions are one ICMP conversation. */
	feed_ping(a, b, T3);
	feed_ping(b, a, T3);
	ck_assert_uint_eq(H.n, 4);
	harness_stop();
}
END_TEST

START_TEST(name_learned_from_dns_answer)
{
	static const uint8_t addr[4] = { 93, 184, 216, 34 };
	static const uint8_t addr6[16] = { 0x26, 0x06, 0x28, 0x00, [15] = 0x46 };
	const struct h_rr an[] = {
		{ .name = "www.example.com", .type = 5, .ttl = 60, .rname = "edge.example.net" },
		{ .name = "edge.example.net", .type = 5, .ttl = 60, .rname = "cdn.example.net" },
		{ .name = "cdn.example.net", .type = 1, .ttl = 20, .rdata = addr, .rdlen = 4 },
	};
	const struct h_rr an6[] = {
		{ .name = "ipv6.example.org", .type = 28, .ttl = 20, .rdata = addr6, .rdlen = 16 },
	};

	harness_start(chef_so, NULL);
	feed_answer("www.example.com", 1, an, 3, T1);
	feed_answer("ipv6.example.org", 28, an6, 1, T1 + 1000);
	ck_assert_uint_eq(harness_counter("names_learned"), 2);
	/* The resolver's answer itself is a conversation, its ends unnamed. */
	ck_assert_uint_eq(H.n, 1);
	harness_assert_driver(0, "packet", T1,
		  "{\"time\":" T1S ",\"proto\":\"UDP\","
		  "\"src\":{\"ip\":\"10.0.0.53\",\"port\":53,\"name\":null,\"tag\":\"internal\"},"
		  "\"dst\":{\"ip\":\"10.0.0.9\",\"port\":5000,\"name\":null,\"tag\":\"internal\"},"
		  "\"direction\":\"internal\","
		  "\"summary\":\"UDP 10.0.0.53:53(internal) --> 10.0.0.9:5000(internal)\"}");
	/* The client then connects to the address: named after the question. */
	feed_tcp(v4(10, 0, 0, 9, 51000), v4(93, 184, 216, 34, 443), T2);
	feed_tcp(v6("fd00::9", 51001), v6("2606:2800::46", 443), T3);
	ck_assert_uint_eq(H.n, 3);
	harness_assert_driver(1, "packet", T2,
		  "{\"time\":" T2S ",\"proto\":\"TCP\","
		  "\"src\":{\"ip\":\"10.0.0.9\",\"port\":51000,\"name\":null,\"tag\":\"internal\"},"
		  "\"dst\":{\"ip\":\"93.184.216.34\",\"port\":443,\"name\":\"www.example.com\","
		  "\"tag\":\"external\"},\"direction\":\"outgoing\","
		  "\"summary\":\"TCP 10.0.0.9:51000(internal) --> 93.184.216.34:443(www.example.com)\"}");
	harness_assert_driver(2, "packet", T3,
		  "{\"time\":" T3S ",\"proto\":\"TCP\","
		  "\"src\":{\"ip\":\"fd00::9\",\"port\":51001,\"name\":null,\"tag\":\"internal\"},"
		  "\"dst\":{\"ip\":\"2606:2800::46\",\"port\":443,\"name\":\"ipv6.example.org\","
		  "\"tag\":\"external\"},\"direction\":\"outgoing\","
		  "\"summary\":\"TCP [fd00::9]:51001(internal) --> [2606:2800::46]:443(ipv6.example.org)\"}");
	harness_stop();
}
END_TEST

/* A DNS message asking qname over TCP from src to dst: flags, an[], and
 * the two length bytes before it (RFC 1035 4.2.2). */
static void feed_dns_tcp(struct h_end src, struct h_end dst, uint16_t flags, const char *qname,
			 const struct h_rr *an, size_t nan, ndl_time_ns ts)
{
	const struct h_q q = { .name = qname, .qtype = 1 };
	struct hframe m, f;
	uint8_t framed[2 + sizeof(m.b)];

	/* id 0x4242: its top bit is clear where a UDP header has the QR bit */
	h_dns(&m, 0x4242, flags, &q, 1, an, nan);
	framed[0] = (uint8_t)(m.len >> 8);
	framed[1] = (uint8_t)m.len;
	memcpy(framed + 2, m.b, m.len);
	h_tcp_frame(&f, &src, &dst, 0x18, framed, m.len + 2);
	h_feed(&f, ts);
}

/* The chef looks past the length bytes for the QR bit, and learns from
 * the response. */
START_TEST(name_learned_from_dns_over_tcp)
{
	static const uint8_t addr[4] = { 198, 51, 100, 80 };
	const struct h_rr an = { .name = "big.example", .type = 1, .ttl = 60,
				  .rdata = addr, .rdlen = 4 };
	struct h_end resolver = v4(10, 0, 0, 53, 53), client = v4(10, 0, 0, 9, 5001);

	harness_start(chef_so, NULL);
	feed_dns_tcp(client, resolver, 0x0100, "big.example", NULL, 0, T1);
	ck_assert_uint_eq(harness_counter("names_learned"), 0);
	feed_dns_tcp(resolver, client, 0x8180, "big.example", &an, 1, T1 + 1000);
	ck_assert_uint_eq(harness_counter("names_learned"), 1);
	feed_tcp(v4(10, 0, 0, 9, 51002), v4(198, 51, 100, 80, 443), T2);
	ck_assert_uint_eq(H.n, 2);
	ck_assert_ptr_nonnull(strstr(H.dumplings[1],
		"\"dst\":{\"ip\":\"198.51.100.80\",\"port\":443,\"name\":\"big.example\","));
	harness_stop();
}
END_TEST

START_TEST(queries_and_failures_teach_nothing)
{
	static const uint8_t addr[4] = { 192, 0, 2, 44 };
	const struct h_q q = { .name = "liar.example", .qtype = 1 };
	const struct h_rr an = { .name = "liar.example", .type = 1, .ttl = 1,
				  .rdata = addr, .rdlen = 4 };
	const struct h_rr chaos = { .name = "chaos.example", .type = 1, .rclass = 3, .ttl = 1,
				     .rdata = addr, .rdlen = 4 };
	struct h_end c = v4(10, 0, 0, 9, 5000), s = v4(10, 0, 0, 53, 53);
	struct hframe m, f;

	harness_start(chef_so, NULL);
	/* An "answer" inside a query, and one of class CH, are not learned. */
	h_dns(&m, 1, 0x0100, &q, 1, &an, 1);
	h_udp_frame(&f, NULL, &c, &s, m.b, m.len);
	h_feed(&f, T1);
	feed_answer("chaos.example", 1, &chaos, 1, T1);
	ck_assert_uint_eq(harness_counter("names_learned"), 0);
	feed_tcp(v4(10, 0, 0, 9, 51000), v4(192, 0, 2, 44, 80), T2);
	ck_assert_uint_eq(H.n, 2);
	ck_assert_ptr_nonnull(strstr(H.dumplings[1],
		"\"dst\":{\"ip\":\"192.0.2.44\",\"port\":80,\"name\":null,"));
	harness_stop();
}
END_TEST

START_TEST(names_are_bounded)
{
	static const char *const opts[] = { "NetwatchChef.max_names=1", NULL };
	static const uint8_t a1[4] = { 192, 0, 2, 1 }, a2[4] = { 192, 0, 2, 2 };
	const struct h_rr r1 = { .name = "one.example", .type = 1, .ttl = 1, .rdata = a1, .rdlen = 4 };
	const struct h_rr r2 = { .name = "two.example", .type = 1, .ttl = 1, .rdata = a2, .rdlen = 4 };

	harness_start(chef_so, opts);
	feed_answer("one.example", 1, &r1, 1, T1);
	feed_answer("two.example", 1, &r2, 1, T1);   /* forgets one.example */
	ck_assert_uint_eq(harness_counter("name_evictions"), 1);
	ck_assert_uint_eq(harness_counter("evictions"), 1);
	feed_tcp(v4(10, 0, 0, 9, 1), v4(192, 0, 2, 1, 80), T2);
	feed_tcp(v4(10, 0, 0, 9, 2), v4(192, 0, 2, 2, 80), T2);
	ck_assert_uint_eq(H.n, 3);
	ck_assert_ptr_nonnull(strstr(H.dumplings[1], "\"port\":80,\"name\":null,"));
	ck_assert_ptr_nonnull(strstr(H.dumplings[2], "\"port\":80,\"name\":\"two.example\","));
	harness_stop();
}
END_TEST

START_TEST(conversations_are_bounded)
{
	static const char *const opts[] = { "NetwatchChef.max_conversations=2", NULL };
	struct h_end a = v4(10, 0, 0, 1, 1), b = v4(10, 0, 0, 1, 2), c = v4(10, 0, 0, 1, 3);
	struct h_end srv = v4(10, 0, 0, 2, 80);

	harness_start(chef_so, opts);
	feed_tcp(a, srv, T1);
	feed_tcp(b, srv, T1);
	feed_tcp(a, srv, T1);          /* a is now the most recent */
	ck_assert_uint_eq(H.n, 2);
	feed_tcp(c, srv, T2);          /* forgets b */
	ck_assert_uint_eq(harness_counter("conversation_evictions"), 1);
	ck_assert_uint_eq(harness_counter("evictions"), 1);
	feed_tcp(a, srv, T2);          /* still known */
	ck_assert_uint_eq(H.n, 3);
	feed_tcp(b, srv, T3);          /* reported again, forgets a */
	ck_assert_uint_eq(H.n, 4);
	ck_assert_uint_eq(harness_counter("evictions"), 2);
	harness_assert_driver(3, "packet", T3,
		  "{\"time\":" T3S ",\"proto\":\"TCP\","
		  "\"src\":{\"ip\":\"10.0.0.1\",\"port\":2,\"name\":null,\"tag\":\"internal\"},"
		  "\"dst\":{\"ip\":\"10.0.0.2\",\"port\":80,\"name\":null,\"tag\":\"internal\"},"
		  "\"direction\":\"internal\","
		  "\"summary\":\"TCP 10.0.0.1:2(internal) --> 10.0.0.2:80(internal)\"}");
	harness_stop();
}
END_TEST

START_TEST(idle_conversations_are_forgotten)
{
	static const char *const opts[] = { "NetwatchChef.idle=10", NULL };
	struct h_end a = v4(10, 0, 0, 1, 1), srv = v4(10, 0, 0, 2, 80);
	struct h_end other = v4(10, 0, 0, 3, 1);

	harness_start(chef_so, opts);
	feed_tcp(a, srv, T1);
	feed_tcp(srv, a, T1 + 10 * NS);    /* exactly the idle time: still the same */
	feed_tcp(a, srv, T1 + 19 * NS);
	ck_assert_uint_eq(H.n, 1);
	ck_assert_uint_eq(harness_counter("expired"), 0);
	/* Another conversation 11 s later sweeps the first one out... */
	feed_tcp(other, srv, T1 + 30 * NS);
	ck_assert_uint_eq(harness_counter("expired"), 1);
	ck_assert_uint_eq(H.n, 2);
	/* ...so it is new again when it comes back. */
	feed_tcp(a, srv, T1 + 31 * NS);
	ck_assert_uint_eq(H.n, 3);
	harness_assert_driver(2, "packet", T1 + 31 * NS,
		  "{\"time\":1795322061.150690,\"proto\":\"TCP\","
		  "\"src\":{\"ip\":\"10.0.0.1\",\"port\":1,\"name\":null,\"tag\":\"internal\"},"
		  "\"dst\":{\"ip\":\"10.0.0.2\",\"port\":80,\"name\":null,\"tag\":\"internal\"},"
		  "\"direction\":\"internal\","
		  "\"summary\":\"TCP 10.0.0.1:1(internal) --> 10.0.0.2:80(internal)\"}");
	/* A packet whose own conversation went idle is new again too. */
	feed_tcp(a, srv, T1 + 50 * NS);
	ck_assert_uint_eq(H.n, 4);
	harness_stop();
}
END_TEST

START_TEST(local_networks_option)
{
	static const char *const opts[] = {
		"NetwatchChef.local_networks= 192.0.2.0/24 , 2001:db8::/32,198.51.100.7", NULL
	};

	harness_start(chef_so, opts);
	feed_tcp(v4(192, 0, 2, 9, 1), v4(10, 0, 0, 1, 80), T1);
	feed_tcp(v6("2001:db8::1", 2), v6("2001:db9::1", 80), T1);
	feed_tcp(v4(198, 51, 100, 7, 3), v4(198, 51, 100, 8, 80), T1);
	ck_assert_uint_eq(H.n, 3);
	ck_assert_ptr_nonnull(strstr(H.dumplings[0], "\"summary\":\"TCP 192.0.2.9:1(internal) --> 10.0.0.1:80(external)\""));
	ck_assert_ptr_nonnull(strstr(H.dumplings[1], "\"direction\":\"outgoing\""));
	ck_assert_ptr_nonnull(strstr(H.dumplings[2], "(internal) --> 198.51.100.8:80(external)\""));
	harness_stop();

	/* An empty list: nothing is internal but loopback. */
	{
		static const char *const none[] = { "NetwatchChef.local_networks=", NULL };

		harness_start(chef_so, none);
		feed_tcp(v4(10, 0, 0, 1, 1), v4(10, 0, 0, 2, 80), T1);
		ck_assert_ptr_nonnull(strstr(H.dumplings[0], "\"direction\":\"external\""));
		harness_stop();
	}
}
END_TEST

START_TEST(bad_local_networks_refused)
{
	static const char *const bad[][2] = {
		{ "10.0.0.0/33", "local_networks: bad CIDR \"10.0.0.0/33\": prefix length must be 0 to 32" },
		{ "fc00::/129", "local_networks: bad CIDR \"fc00::/129\": prefix length must be 0 to 128" },
		{ "banana", "local_networks: bad CIDR \"banana\": not an IPv4 or IPv6 address" },
		{ "10.0.0.0/8,,fc00::/7", "local_networks: bad CIDR \"\": empty entry" },
		{ "10.0.0.0/8x", "local_networks: bad CIDR \"10.0.0.0/8x\": prefix length" },
		{ "10.0.0.0/", "local_networks: bad CIDR \"10.0.0.0/\": prefix length" },
		{ "10.0.0.0/-1", "local_networks: bad CIDR \"10.0.0.0/-1\": prefix length" },
		{ "10.0.0.0/8,", "local_networks: bad CIDR \"\": empty entry" },
	};
	char opt[128], err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *opts[] = { opt, NULL };

		snprintf(opt, sizeof(opt), "NetwatchChef.local_networks=%s", bad[i][0]);
		err[0] = '\0';
		ck_assert_msg(harness_try_start(chef_so, opts, err, sizeof(err)) == -EINVAL,
			      "%s accepted", bad[i][0]);
		ck_assert_msg(strstr(err, "Invalid argument") != NULL, "reason: %s", err);
		ck_assert_msg(strstr(H.log, bad[i][1]) != NULL,
			      "log for %s lacks \"%s\":\n%s", bad[i][0], bad[i][1], H.log);
	}
}
END_TEST

START_TEST(other_options_validated)
{
	static const char *const bad[] = {
		"NetwatchChef.max_conversations=0",
		"NetwatchChef.max_conversations=lots",
		"NetwatchChef.idle=0",
		"NetwatchChef.idle=604801",
		"NetwatchChef.max_names=0",
		"NetwatchChef.lookups=1",
	};

	harness_assert_refused(chef_so, bad, sizeof(bad) / sizeof(bad[0]), true);
}
END_TEST

START_TEST(non_ip_and_later_fragments_ignored)
{
	/* ARP request (RFC 826). */
	static const uint8_t arp[] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 0x0a, 0x08, 0x06,
		0, 1, 0x08, 0x00, 6, 4, 0, 1, 2, 0, 0, 0, 0, 0x0a, 10, 0, 0, 1,
		0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
	};
	struct hframe f;
	struct h_end a = v4(10, 0, 0, 1, 0), b = v4(10, 0, 0, 2, 0);
	static const uint8_t junk[16] = { 0 };

	harness_start(chef_so, NULL);
	ndl__kitchen_packet(H.k, HARNESS_DLT_EN10MB, arp, sizeof(arp), sizeof(arp), T1);
	/* A later UDP fragment: no ports to tell the conversation by. */
	h_ip_frame(&f, NULL, &a, &b, 17, junk, sizeof(junk));
	f.b[14 + 6] = 0x00;
	f.b[14 + 7] = 0x10;            /* offset 128 bytes, no DF */
	f.b[14 + 10] = f.b[14 + 11] = 0;
	{
		uint16_t sum = h_checksum(f.b + 14, 20);

		f.b[14 + 10] = (uint8_t)(sum >> 8);
		f.b[14 + 11] = (uint8_t)sum;
	}
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 0);
	/* GRE has no ports: one conversation per pair of addresses. */
	h_ip_frame(&f, NULL, &a, &b, 47, junk, sizeof(junk));
	h_feed(&f, T2);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_driver(0, "packet", T2,
		  "{\"time\":" T2S ",\"proto\":\"GRE\","
		  "\"src\":{\"ip\":\"10.0.0.1\",\"port\":null,\"name\":null,\"tag\":\"internal\"},"
		  "\"dst\":{\"ip\":\"10.0.0.2\",\"port\":null,\"name\":null,\"tag\":\"internal\"},"
		  "\"direction\":\"internal\","
		  "\"summary\":\"GRE 10.0.0.1(internal) --> 10.0.0.2(internal)\"}");
	harness_stop();
}
END_TEST

/*
 * The summary writes IPv6 addresses itself; they must read exactly as
 * inet_ntop writes them (the "ip" field). Every pattern of zero and
 * non-zero groups, with group values of each width, and the IPv4-embedding
 * forms.
 */
START_TEST(ipv6_summary_matches_inet_ntop)
{
	static const uint16_t values[] = { 0x1, 0xab, 0xfff, 0xffff, 0x1234, 0xf00 };
	struct h_end dst = v6("2001:db8::80", 80);
	unsigned int port = 1, checked = 0;

	harness_start(chef_so, NULL);
	for (unsigned int pattern = 0; pattern < 256 * 2 + 6; pattern++) {
		struct h_end src = { .version = 6 };
		char text[INET6_ADDRSTRLEN], want[INET6_ADDRSTRLEN + 64];

		if (pattern < 512) {
			/* Bit i of the low byte: group i is non-zero. */
			for (unsigned int i = 0; i < 8; i++) {
				uint16_t v = (pattern & (1u << i)) ?
					values[(i + pattern / 256) % 6] : 0;

				src.ip[2 * i] = (uint8_t)(v >> 8);
				src.ip[2 * i + 1] = (uint8_t)v;
			}
		} else {
			static const char *const special[] = {
				"::ffff:192.0.2.1", "::192.0.2.1", "::ffff:0.0.0.0",
				"::ffff:0:192.0.2.1", "::1:0:0:0", "0:0:1::",
			};

			src = v6(special[pattern - 512], 0);
		}
		src.port = (uint16_t)port++;
		ck_assert_ptr_nonnull(inet_ntop(AF_INET6, src.ip, text, sizeof(text)));
		feed_tcp(src, dst, T1);
		ck_assert_uint_eq(H.n, 1);
		snprintf(want, sizeof(want), "\"summary\":\"TCP [%s]:%u(", text, src.port);
		ck_assert_msg(strstr(H.dumplings[0], want), "%s not in %s", want, H.dumplings[0]);
		snprintf(want, sizeof(want), "\"ip\":\"%s\"", text);
		ck_assert_msg(strstr(H.dumplings[0], want), "%s not in %s", want, H.dumplings[0]);
		harness_forget();
		checked++;
	}
	ck_assert_uint_eq(checked, 518);
	harness_stop();
}
END_TEST

static Suite *netwatch_suite(void)
{
	Suite *s = suite_create("netwatch");
	TCase *tc = tcase_create("netwatch");

	tcase_add_test(tc, directions_and_tags);
	tcase_add_test(tc, icmp_and_ipv6);
	tcase_add_test(tc, ipv6_summary_matches_inet_ntop);
	tcase_add_test(tc, a_conversation_is_reported_once);
	tcase_add_test(tc, name_learned_from_dns_answer);
	tcase_add_test(tc, name_learned_from_dns_over_tcp);
	tcase_add_test(tc, queries_and_failures_teach_nothing);
	tcase_add_test(tc, names_are_bounded);
	tcase_add_test(tc, conversations_are_bounded);
	tcase_add_test(tc, idle_conversations_are_forgotten);
	tcase_add_test(tc, local_networks_option);
	tcase_add_test(tc, bad_local_networks_refused);
	tcase_add_test(tc, other_options_validated);
	tcase_add_test(tc, non_ip_and_later_fragments_ignored);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	return harness_main(argc, argv, "NETWATCH_SO", netwatch_suite);
}
