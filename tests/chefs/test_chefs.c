/* SPDX-License-Identifier: MIT */
/*
 * test_chefs - the built-in chefs, loaded from their .so files by the real
 * kitchen core and fed hand-built Ethernet frames.
 *
 * Usage: test_chefs DNSLOOKUP_SO ARP_SO PACKETCOUNT_SO
 *
 * Every dumpling the kitchen hands to the sink is kept; the tests compare
 * the payload's exact bytes (key order matters: eaters written for
 * netdumplings may print payloads as they come) and the envelope's fields
 * through jansson.
 */
#include "chef_harness.h"
#include "decode.h"

static const char *dnslookup_so;
static const char *arp_so;
static const char *packetcount_so;

/* ------------------------------------------------------------------------ */
/* Frames                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * A DNS message (RFC 1035 section 4.1) asking for an A record of qname
 * (no question when qname is NULL); a response carries one A answer that
 * points back at the question's name.
 */
static void dns_message(struct hframe *m, bool response, const char *qname)
{
	const struct h_q q = { .name = qname, .qtype = 1 };

	h_dns(m, 0xbeef, response ? 0x8180 : 0x0100, &q, qname ? 1 : 0, NULL, 0);
	if (response && qname) {
		h_set16(m, 6, 1);             /* ANCOUNT */
		h_put16(m, 0xc00c);           /* pointer to the question name at offset 12 */
		h_put16(m, 1);
		h_put16(m, 1);
		h_put32(m, 300);
		h_put16(m, 4);
		h_putn(m, (const uint8_t[]){ 192, 0, 2, 80 }, 4);
	}
}

/* An Ethernet/IPv4/UDP frame carrying a DNS message about qname. */
static void frame_dns_udp(struct hframe *f, bool response, const char *qname)
{
	struct hframe m;

	dns_message(&m, response, qname);
	h_eth_ipv4(f, IP_A, IP_B, 17, 0x4000);
	if (response)
		h_udp(f, 53, 40000, m.b, m.len);
	else
		h_udp(f, 40000, 53, m.b, m.len);
	h_ip_done(f);
}

/* The same query over TCP, after the two-byte length prefix of RFC 7766. */
static void frame_dns_tcp(struct hframe *f, const char *qname)
{
	struct hframe m, t = { .len = 0 };

	dns_message(&m, false, qname);
	h_put16(&t, (uint16_t)m.len);
	h_putn(&t, m.b, m.len);
	h_eth_ipv4(f, IP_A, IP_B, 6, 0x4000);
	h_tcp_to(f, 40001, 53, 0x18, t.b, t.len);
	h_ip_done(f);
}

/*
 * A DNS message with the given flags word, one question (qname, qtype,
 * class IN), the answers an[0..n_an), and, when edns, an OPT record
 * (RFC 6891 6.1.2) whose TTL carries ext_rcode, in an Ethernet/IPv4/UDP
 * frame from port 53 (a response) or to it (a query).
 */
static void frame_dns_custom(struct hframe *f, uint16_t flags, const char *qname, uint16_t qtype,
			     const struct h_rr *an, size_t n_an, bool edns, uint8_t ext_rcode)
{
	const struct h_q q = { .name = qname, .qtype = qtype };
	struct hframe m;

	h_dns(&m, 0x1234, flags, &q, 1, an, n_an);
	if (edns) {
		h_set16(&m, 10, 1);           /* ARCOUNT */
		h_put8(&m, 0);                /* root */
		h_put16(&m, 41);              /* OPT */
		h_put16(&m, 1232);            /* UDP payload size */
		h_put32(&m, (uint32_t)ext_rcode << 24);
		h_put16(&m, 0);
	}
	h_eth_ipv4(f, IP_A, IP_B, 17, 0x4000);
	if (flags & 0x8000)
		h_udp(f, 53, 40000, m.b, m.len);
	else
		h_udp(f, 40000, 53, m.b, m.len);
	h_ip_done(f);
}

static void feed_dns_query(const char *qname, ndl_time_ns ts)
{
	struct hframe f;

	frame_dns_udp(&f, false, qname);
	h_feed(&f, ts);
}

/* ------------------------------------------------------------------------ */
/* DNSLookupChef                                                             */
/* ------------------------------------------------------------------------ */

START_TEST(dns_query_makes_lookup)
{
	harness_start(dnslookup_so, NULL);
	feed_dns_query("www.example.com", T1);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_chef(0, "DNSLookupChef", "packet", T1,
			"{\"lookup\":{\"hostname\":\"www.example.com\",\"when\":" T1S
			",\"qtype\":\"A\",\"is_response\":false,\"rcode\":null}}");
	harness_stop();
}
END_TEST

START_TEST(dns_response_counts_as_lookup)
{
	struct hframe f;

	harness_start(dnslookup_so, NULL);
	feed_dns_query("www.example.com", T1);
	frame_dns_udp(&f, true, "www.example.com");
	h_feed(&f, T2);
	ck_assert_uint_eq(H.n, 2);
	harness_assert_chef(1, "DNSLookupChef", "packet", T2,
			"{\"lookup\":{\"hostname\":\"www.example.com\",\"when\":" T2S
			",\"qtype\":\"A\",\"is_response\":true,\"rcode\":\"NOERROR\","
			"\"answers\":[{\"name\":\"www.example.com\",\"type\":\"A\","
			"\"ttl\":300,\"data\":\"192.0.2.80\"}]}}");
	ndl__kitchen_interval(H.k);
	ck_assert_uint_eq(H.n, 3);
	harness_assert_chef(2, "DNSLookupChef", "interval", T2,
			"{\"lookups_seen\":{\"www.example.com\":{\"count\":2,\"latest\":" T2S "}}}");
	harness_stop();
}
END_TEST

START_TEST(dns_over_tcp)
{
	struct hframe f;

	harness_start(dnslookup_so, NULL);
	frame_dns_tcp(&f, "tcp.example.org");
	h_feed(&f, T3);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_chef(0, "DNSLookupChef", "packet", T3,
			"{\"lookup\":{\"hostname\":\"tcp.example.org\",\"when\":" T3S
			",\"qtype\":\"A\",\"is_response\":false,\"rcode\":null}}");
	harness_stop();
}
END_TEST

START_TEST(dns_response_without_answers)
{
	struct hframe f;

	harness_start(dnslookup_so, NULL);
	/* NXDOMAIN to an AAAA query: QR, RD, RA, RCODE 3. */
	frame_dns_custom(&f, 0x8183, "gone.example", 28, NULL, 0, false, 0);
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_chef(0, "DNSLookupChef", "packet", T1,
			"{\"lookup\":{\"hostname\":\"gone.example\",\"when\":" T1S
			",\"qtype\":\"AAAA\",\"is_response\":true,\"rcode\":\"NXDOMAIN\","
			"\"answers\":[]}}");
	harness_stop();
}
END_TEST

START_TEST(dns_response_answers_in_order)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0x00, [15] = 0x80 };
	static const uint8_t blob[2] = { 0xde, 0xad };
	const struct h_rr an[] = {
		{ .name = "www.example.com", .type = 5, .ttl = 60, .rname = "cdn.example.net" },
		{ .name = "cdn.example.net", .type = 28, .ttl = 20, .rdata = v6, .rdlen = 16 },
		{ .name = "cdn.example.net", .type = 65280, .ttl = 0, .rdata = blob, .rdlen = 2 },
	};
	struct hframe f;

	harness_start(dnslookup_so, NULL);
	/* A private-use qtype, answered with a CNAME, an AAAA and a record
	 * of that type (rendered as "": the kitchen shows no RDATA for it). */
	frame_dns_custom(&f, 0x8180, "www.example.com", 65280, an, 3, false, 0);
	h_feed(&f, T2);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_chef(0, "DNSLookupChef", "packet", T2,
			"{\"lookup\":{\"hostname\":\"www.example.com\",\"when\":" T2S
			",\"qtype\":\"TYPE65280\",\"is_response\":true,\"rcode\":\"NOERROR\","
			"\"answers\":["
			"{\"name\":\"www.example.com\",\"type\":\"CNAME\",\"ttl\":60,"
			"\"data\":\"cdn.example.net\"},"
			"{\"name\":\"cdn.example.net\",\"type\":\"AAAA\",\"ttl\":20,"
			"\"data\":\"2001:db8::80\"},"
			"{\"name\":\"cdn.example.net\",\"type\":\"TYPE65280\",\"ttl\":0,"
			"\"data\":\"\"}]}}");
	harness_stop();
}
END_TEST

START_TEST(dns_rcode_names_and_numbers)
{
	struct hframe f;

	harness_start(dnslookup_so, NULL);
	/* REFUSED. */
	frame_dns_custom(&f, 0x8185, "a.example", 1, NULL, 0, false, 0);
	h_feed(&f, T1);
	/* RCODE 12 has no mnemonic: the number. */
	frame_dns_custom(&f, 0x818c, "b.example", 16, NULL, 0, false, 0);
	h_feed(&f, T2);
	/* EDNS extends RCODE 0 with upper bits 1: 16, BADVERS (RFC 6891 9). */
	frame_dns_custom(&f, 0x8180, "c.example", 15, NULL, 0, true, 1);
	h_feed(&f, T3);
	ck_assert_uint_eq(H.n, 3);
	harness_assert_chef(0, "DNSLookupChef", "packet", T1,
			"{\"lookup\":{\"hostname\":\"a.example\",\"when\":" T1S
			",\"qtype\":\"A\",\"is_response\":true,\"rcode\":\"REFUSED\","
			"\"answers\":[]}}");
	harness_assert_chef(1, "DNSLookupChef", "packet", T2,
			"{\"lookup\":{\"hostname\":\"b.example\",\"when\":" T2S
			",\"qtype\":\"TXT\",\"is_response\":true,\"rcode\":12,"
			"\"answers\":[]}}");
	harness_assert_chef(2, "DNSLookupChef", "packet", T3,
			"{\"lookup\":{\"hostname\":\"c.example\",\"when\":" T3S
			",\"qtype\":\"MX\",\"is_response\":true,\"rcode\":\"BADVERS\","
			"\"answers\":[]}}");
	harness_stop();
}
END_TEST

START_TEST(dns_interval_when_empty)
{
	harness_start(dnslookup_so, NULL);
	ndl__kitchen_interval(H.k);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_chef(0, "DNSLookupChef", "interval", 0, "{\"lookups_seen\":{}}");
	harness_stop();
}
END_TEST

START_TEST(dns_ignores_other_packets)
{
	struct hframe f, m;

	harness_start(dnslookup_so, NULL);
	/* A message without a question. */
	frame_dns_udp(&f, false, NULL);
	h_feed(&f, T1);
	/* DNS-shaped bytes on a port that is not DNS's. */
	dns_message(&m, false, "www.example.com");
	h_eth_ipv4(&f, IP_A, IP_B, 17, 0x4000);
	h_udp(&f, 40000, 9999, m.b, m.len);
	h_ip_done(&f);
	h_feed(&f, T2);
	/* ARP. */
	h_arp(&f, 1, MAC_A, IP_A, MAC_ZERO, IP_B);
	h_feed(&f, T3);
	ck_assert_uint_eq(H.n, 0);
	ndl__kitchen_interval(H.k);
	harness_assert_chef(0, "DNSLookupChef", "interval", T3, "{\"lookups_seen\":{}}");
	harness_stop();
}
END_TEST

START_TEST(dns_interval_in_first_seen_order)
{
	harness_start(dnslookup_so, NULL);
	feed_dns_query("b.example", T1);
	feed_dns_query("a.example", T2);
	feed_dns_query("b.example", T3);
	ck_assert_uint_eq(H.n, 3);
	ndl__kitchen_interval(H.k);
	harness_assert_chef(3, "DNSLookupChef", "interval", T3,
			"{\"lookups_seen\":{"
			"\"b.example\":{\"count\":2,\"latest\":" T3S "},"
			"\"a.example\":{\"count\":1,\"latest\":" T2S "}}}");
	harness_stop();
}
END_TEST

START_TEST(dns_evicts_least_recently_seen)
{
	static const char *const opts[] = { "DNSLookupChef.max_hosts=2", NULL };

	harness_start(dnslookup_so, opts);
	feed_dns_query("a.example", T1);
	feed_dns_query("b.example", T2);
	feed_dns_query("a.example", T3);   /* a is now the most recent */
	ck_assert_uint_eq(harness_counter("evictions"), 0);
	feed_dns_query("c.example", T4);   /* evicts b */
	ck_assert_uint_eq(harness_counter("evictions"), 1);
	ndl__kitchen_interval(H.k);
	ck_assert_uint_eq(H.n, 5);
	harness_assert_chef(4, "DNSLookupChef", "interval", T4,
			"{\"lookups_seen\":{"
			"\"a.example\":{\"count\":2,\"latest\":" T3S "},"
			"\"c.example\":{\"count\":1,\"latest\":" T4S "}}}");
	feed_dns_query("b.example", T5);   /* evicts a, b starts over */
	ck_assert_uint_eq(harness_counter("evictions"), 2);
	ndl__kitchen_interval(H.k);
	harness_assert_chef(6, "DNSLookupChef", "interval", T5,
			"{\"lookups_seen\":{"
			"\"c.example\":{\"count\":1,\"latest\":" T4S "},"
			"\"b.example\":{\"count\":1,\"latest\":" T5S "}}}");
	harness_stop();
}
END_TEST

START_TEST(dns_many_hosts_stay_bounded)
{
	static const char *const opts[] = { "DNSLookupChef.max_hosts=100", NULL };
	char name[64];

	harness_start(dnslookup_so, opts);
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "host%d.example", i);
		feed_dns_query(name, T1 + i);
		if (H.n > HARNESS_MAX_DUMPLINGS / 2)
			harness_forget();
	}
	ck_assert_uint_eq(harness_counter("evictions"), 900);
	harness_forget();
	ndl__kitchen_interval(H.k);
	ck_assert_uint_eq(H.n, 1);
	ck_assert_ptr_null(strstr(H.dumplings[0], "\"host899.example\""));
	ck_assert_ptr_nonnull(strstr(H.dumplings[0], "\"host900.example\""));
	ck_assert_ptr_nonnull(strstr(H.dumplings[0], "\"host999.example\""));
	harness_stop();
}
END_TEST

START_TEST(dns_rejects_bad_max_hosts)
{
	char err[256] = "";

	ck_assert_int_eq(harness_try_option(dnslookup_so, "DNSLookupChef.max_hosts=0",
					    err, sizeof(err)), -EINVAL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* ARPChef                                                                   */
/* ------------------------------------------------------------------------ */

static void feed_arp(uint16_t op, const uint8_t sha[6], const uint8_t spa[4],
		     const uint8_t tha[6], const uint8_t tpa[4], ndl_time_ns ts)
{
	struct hframe f;

	h_arp(&f, op, sha, spa, tha, tpa);
	h_feed(&f, ts);
}

START_TEST(arp_request)
{
	harness_start(arp_so, NULL);
	feed_arp(1, MAC_A, IP_A, MAC_ZERO, IP_B, T1);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_chef(0, "ARPChef", "packet", T1,
			"{\"operation\":\"request\",\"src_hw\":\"02:00:00:00:00:0a\","
			"\"src_ip\":\"192.0.2.1\",\"dst_hw\":\"00:00:00:00:00:00\","
			"\"dst_ip\":\"192.0.2.2\",\"time\":" T1S ",\"notes\":null}");
	harness_stop();
}
END_TEST

START_TEST(arp_reply_notes)
{
	harness_start(arp_so, NULL);
	/* A device not heard from before. */
	feed_arp(2, MAC_B, IP_B, MAC_A, IP_A, T1);
	/* The same device again. */
	feed_arp(2, MAC_B, IP_B, MAC_A, IP_A, T2);
	/* Another MAC answering for the same IP. */
	feed_arp(2, MAC_C, IP_B, MAC_A, IP_A, T3);
	ck_assert_uint_eq(H.n, 3);
	harness_assert_chef(0, "ARPChef", "packet", T1,
			"{\"operation\":\"reply\",\"src_hw\":\"02:00:00:00:00:0b\","
			"\"src_ip\":\"192.0.2.2\",\"dst_hw\":\"02:00:00:00:00:0a\","
			"\"dst_ip\":\"192.0.2.1\",\"time\":" T1S
			",\"notes\":\"source device is new\"}");
	harness_assert_chef(1, "ARPChef", "packet", T2,
			"{\"operation\":\"reply\",\"src_hw\":\"02:00:00:00:00:0b\","
			"\"src_ip\":\"192.0.2.2\",\"dst_hw\":\"02:00:00:00:00:0a\","
			"\"dst_ip\":\"192.0.2.1\",\"time\":" T2S ",\"notes\":null}");
	harness_assert_chef(2, "ARPChef", "packet", T3,
			"{\"operation\":\"reply\",\"src_hw\":\"02:00:00:00:00:0c\","
			"\"src_ip\":\"192.0.2.2\",\"dst_hw\":\"02:00:00:00:00:0a\","
			"\"dst_ip\":\"192.0.2.1\",\"time\":" T3S
			",\"notes\":\"source device has new IP address\"}");
	harness_stop();
}
END_TEST

START_TEST(arp_requests_do_not_teach)
{
	harness_start(arp_so, NULL);
	feed_arp(1, MAC_C, IP_C, MAC_ZERO, IP_A, T1);
	feed_arp(2, MAC_C, IP_C, MAC_A, IP_A, T2);
	ck_assert_uint_eq(H.n, 2);
	harness_assert_chef(1, "ARPChef", "packet", T2,
			"{\"operation\":\"reply\",\"src_hw\":\"02:00:00:00:00:0c\","
			"\"src_ip\":\"192.0.2.3\",\"dst_hw\":\"02:00:00:00:00:0a\","
			"\"dst_ip\":\"192.0.2.1\",\"time\":" T2S
			",\"notes\":\"source device is new\"}");
	harness_stop();
}
END_TEST

START_TEST(arp_other_operation_is_a_number)
{
	harness_start(arp_so, NULL);
	feed_arp(3, MAC_A, IP_A, MAC_A, IP_A, T4);   /* RARP request */
	ck_assert_uint_eq(H.n, 1);
	harness_assert_chef(0, "ARPChef", "packet", T4,
			"{\"operation\":3,\"src_hw\":\"02:00:00:00:00:0a\","
			"\"src_ip\":\"192.0.2.1\",\"dst_hw\":\"02:00:00:00:00:0a\","
			"\"dst_ip\":\"192.0.2.1\",\"time\":" T4S ",\"notes\":null}");
	harness_stop();
}
END_TEST

START_TEST(arp_no_interval_dumplings_and_ignores_ip)
{
	harness_start(arp_so, NULL);
	feed_dns_query("www.example.com", T1);
	ndl__kitchen_interval(H.k);
	ck_assert_uint_eq(H.n, 0);
	harness_stop();
}
END_TEST

START_TEST(arp_evicts_least_recently_heard)
{
	static const char *const opts[] = { "ARPChef.max_devices=2", NULL };

	harness_start(arp_so, opts);
	feed_arp(2, MAC_A, IP_A, MAC_B, IP_B, T1);
	feed_arp(2, MAC_B, IP_B, MAC_A, IP_A, T2);
	feed_arp(2, MAC_A, IP_A, MAC_B, IP_B, T3);   /* A most recent; no note */
	ck_assert_uint_eq(harness_counter("evictions"), 0);
	feed_arp(2, MAC_C, IP_C, MAC_A, IP_A, T4);   /* evicts B */
	ck_assert_uint_eq(harness_counter("evictions"), 1);
	feed_arp(2, MAC_A, IP_A, MAC_B, IP_B, T5);   /* A still known */
	ck_assert_uint_eq(H.n, 5);
	ck_assert_ptr_nonnull(strstr(H.dumplings[2], "\"notes\":null"));
	ck_assert_ptr_nonnull(strstr(H.dumplings[3], "\"notes\":\"source device is new\""));
	ck_assert_ptr_nonnull(strstr(H.dumplings[4], "\"notes\":null"));
	feed_arp(2, MAC_B, IP_B, MAC_A, IP_A, T5);   /* B forgotten: new again, evicts C */
	ck_assert_uint_eq(harness_counter("evictions"), 2);
	ck_assert_ptr_nonnull(strstr(H.dumplings[5], "\"notes\":\"source device is new\""));
	harness_stop();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* PacketCountChef                                                           */
/* ------------------------------------------------------------------------ */

START_TEST(count_empty)
{
	harness_start(packetcount_so, NULL);
	ndl__kitchen_interval(H.k);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_chef(0, "PacketCountChef", "interval", 0, "{\"packet_counts\":{}}");
	harness_stop();
}
END_TEST

START_TEST(count_layers)
{
	static const uint8_t data[] = "hello";
	struct hframe f;

	harness_start(packetcount_so, NULL);
	/* Ethernet IP UDP DNS */
	feed_dns_query("www.example.com", T1);
	/* Ethernet IP TCP DNS */
	frame_dns_tcp(&f, "www.example.com");
	h_feed(&f, T1);
	/* Ethernet IP TCP Raw */
	h_eth_ipv4(&f, IP_A, IP_B, 6, 0x4000);
	h_tcp_to(&f, 40002, 80, 0x18, data, 5);
	h_ip_done(&f);
	h_feed(&f, T1);
	/* Ethernet IP TCP Padding: a bare ACK padded to the 60-byte minimum */
	h_eth_ipv4(&f, IP_A, IP_B, 6, 0x4000);
	h_tcp_to(&f, 40002, 80, 0x10, NULL, 0);
	h_ip_done(&f);
	while (f.len < 60)
		h_put8(&f, 0);
	h_feed(&f, T1);
	/* Ethernet IP ICMP */
	h_eth_ipv4(&f, IP_A, IP_B, 1, 0x4000);
	h_echo(&f, 8, 1, 1);
	h_ip_done(&f);
	while (f.len < 60)    /* padding here too */
		h_put8(&f, 0);
	h_feed(&f, T1);
	/* Ethernet IP ICMP Raw: echo data is Raw, as scapy has it */
	h_eth_ipv4(&f, IP_A, IP_B, 1, 0x4000);
	h_echo(&f, 0, 1, 1);
	h_putn(&f, data, 5);
	h_ip_done(&f);
	h_feed(&f, T1);
	/* Ethernet IPv6 UDP Raw */
	h_eth_ipv6(&f, IP6_A, IP6_B, 17);
	h_udp(&f, 40003, 9999, data, 5);
	h_ip_done(&f);
	h_feed(&f, T1);
	/* Ethernet IPv6 ICMPv6 */
	h_eth_ipv6(&f, IP6_A, IP6_B, 58);
	h_echo(&f, 128, 1, 1);
	h_ip_done(&f);
	h_feed(&f, T1);
	/* Ethernet ARP */
	h_arp(&f, 1, MAC_A, IP_A, MAC_ZERO, IP_B);
	h_feed(&f, T1);
	/* Ethernet 802.1Q IP UDP Raw */
	h_eth(&f, MAC_B, MAC_A, 0x0800, (const uint16_t[]){ 42, 0 });
	h_ipv4_to(&f, IP_A, IP_B, 17, 0x4000);
	h_udp(&f, 40004, 9999, data, 5);
	h_ip_done(&f);
	h_feed(&f, T1);
	/* Ethernet 802.1Q 802.1Q IP UDP (no payload): service tag 100, customer tag 42 */
	h_eth(&f, MAC_B, MAC_A, 0x0800, (const uint16_t[]){ 100, 42, 0 });
	h_ipv4_to(&f, IP_A, IP_B, 17, 0x4000);
	h_udp(&f, 40005, 9999, NULL, 0);
	h_ip_done(&f);
	h_feed(&f, T2);

	ck_assert_uint_eq(H.n, 0);
	ndl__kitchen_interval(H.k);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_chef(0, "PacketCountChef", "interval", T2,
			"{\"packet_counts\":{\"802.1Q\":3,\"ARP\":1,\"DNS\":2,"
			"\"Ethernet\":11,\"ICMP\":2,\"ICMPv6\":1,\"IP\":8,\"IPv6\":2,"
			"\"Padding\":2,\"Raw\":4,\"TCP\":3,\"UDP\":4}}");
	harness_stop();
}
END_TEST

START_TEST(count_is_cumulative)
{
	struct hframe f;

	harness_start(packetcount_so, NULL);
	h_arp(&f, 1, MAC_A, IP_A, MAC_ZERO, IP_B);
	h_feed(&f, T1);
	ndl__kitchen_interval(H.k);
	h_feed(&f, T2);
	ndl__kitchen_interval(H.k);
	ck_assert_uint_eq(H.n, 2);
	harness_assert_chef(0, "PacketCountChef", "interval", T1,
			"{\"packet_counts\":{\"ARP\":1,\"Ethernet\":1}}");
	harness_assert_chef(1, "PacketCountChef", "interval", T2,
			"{\"packet_counts\":{\"ARP\":2,\"Ethernet\":2}}");
	harness_stop();
}
END_TEST

START_TEST(count_other_link_types)
{
	static const uint8_t data[] = "hello";
	struct hframe f, sll, null;

	harness_start(packetcount_so, NULL);

	/* The IPv4/UDP datagram every frame below carries. */
	h_eth_ipv4(&f, IP_A, IP_B, 17, 0x4000);
	h_udp(&f, 40000, 9999, data, 5);
	h_ip_done(&f);

	/* Linux cooked capture v1: packet type, ARPHRD, address length, address, protocol. */
	h_sll(&sll, 0, MAC_A, 0x0800);
	h_putn(&sll, f.b + 14, f.len - 14);
	h_feed_link(&sll, HARNESS_DLT_LINUX_SLL, T1);

	/* BSD loopback: the address family in host byte order. */
	null.len = 0;
	{
		uint32_t af = 2;  /* AF_INET */
		h_putn(&null, &af, 4);
	}
	h_putn(&null, f.b + 14, f.len - 14);
	h_feed_link(&null, HARNESS_DLT_NULL, T2);

	/* A link type nobody decodes counts nothing. */
	h_feed_link(&f, HARNESS_DLT_USER0, T3);

	ndl__kitchen_interval(H.k);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_chef(0, "PacketCountChef", "interval", T3,
			"{\"packet_counts\":{\"IP\":2,\"Loopback\":1,\"Raw\":2,"
			"\"UDP\":2,\"cooked linux\":1}}");
	harness_stop();
}
END_TEST

/*
 * Feed f, and tell whether the kitchen's DNS service finds a message in it:
 * the chef decides "DNS" from ports and lengths alone and must agree.
 */
static bool feed_and_ask_dns(const struct hframe *f, ndl_time_ns ts)
{
	struct ndl_packet pkt;
	static struct ndl__dns_buf buf;

	ndl__decode(&pkt, HARNESS_DLT_EN10MB, f->b, (uint32_t)f->len, (uint32_t)f->len, ts);
	h_feed(f, ts);
	return ndl__dns_from_packet(&buf, &pkt) != NULL;
}

START_TEST(count_dns_edges)
{
	static const uint8_t header[12] = { 0xbe, 0xef, 0x01, 0x00, 0, 1 }; /* QDCOUNT 1, no question */
	uint8_t tcp[2 + sizeof(header)];
	struct hframe f, m;
	unsigned int dns = 0;

	harness_start(packetcount_so, NULL);
	/* UDP: mDNS counts; a header without its question still counts; 11 bytes do not. */
	dns_message(&m, false, "printer.local");
	h_eth_ipv4(&f, IP_A, IP_B, 17, 0x4000);
	h_udp(&f, 5353, 5353, m.b, m.len);
	h_ip_done(&f);
	dns += feed_and_ask_dns(&f, T1);
	h_eth_ipv4(&f, IP_A, IP_B, 17, 0x4000);
	h_udp(&f, 40000, 53, header, sizeof(header));
	h_ip_done(&f);
	dns += feed_and_ask_dns(&f, T1);
	h_eth_ipv4(&f, IP_A, IP_B, 17, 0x4000);
	h_udp(&f, 40000, 53, header, sizeof(header) - 1);
	h_ip_done(&f);
	dns += feed_and_ask_dns(&f, T1);
	/* UDP port 54 is not DNS. */
	h_eth_ipv4(&f, IP_A, IP_B, 17, 0x4000);
	h_udp(&f, 40000, 54, m.b, m.len);
	h_ip_done(&f);
	dns += feed_and_ask_dns(&f, T1);

	/* TCP (RFC 7766 8): the length prefix must leave room for the header. */
	memcpy(tcp + 2, header, sizeof(header));
	for (unsigned int prefix = 11; prefix <= 12; prefix++) {
		tcp[0] = 0;
		tcp[1] = (uint8_t)prefix;
		h_eth_ipv4(&f, IP_A, IP_B, 6, 0x4000);
		h_tcp_to(&f, 40001, 53, 0x18, tcp, sizeof(tcp));
		h_ip_done(&f);
		dns += feed_and_ask_dns(&f, T1);
	}
	/* A prefix longer than the segment: the header is there, so DNS. */
	tcp[0] = 0x01;
	tcp[1] = 0x2c;
	h_eth_ipv4(&f, IP_A, IP_B, 6, 0x4000);
	h_tcp_to(&f, 53, 40001, 0x18, tcp, sizeof(tcp));
	h_ip_done(&f);
	dns += feed_and_ask_dns(&f, T1);
	/* One byte short of prefix and header. */
	h_eth_ipv4(&f, IP_A, IP_B, 6, 0x4000);
	h_tcp_to(&f, 53, 40001, 0x18, tcp, sizeof(tcp) - 1);
	h_ip_done(&f);
	dns += feed_and_ask_dns(&f, T1);
	/* mDNS is UDP only. */
	h_eth_ipv4(&f, IP_A, IP_B, 6, 0x4000);
	h_tcp_to(&f, 5353, 40001, 0x18, tcp, sizeof(tcp));
	h_ip_done(&f);
	dns += feed_and_ask_dns(&f, T2);

	ck_assert_uint_eq(dns, 4);
	ndl__kitchen_interval(H.k);
	ck_assert_uint_eq(H.n, 1);
	harness_assert_chef(0, "PacketCountChef", "interval", T2,
			"{\"packet_counts\":{\"DNS\":4,\"Ethernet\":9,\"IP\":9,"
			"\"Raw\":5,\"TCP\":5,\"UDP\":4}}");
	harness_stop();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* All three at once, as a kitchen runs them                                 */
/* ------------------------------------------------------------------------ */

START_TEST(three_chefs_share_a_packet)
{
	struct ndl_chef_module *mods[3] = { NULL, NULL, NULL };
	const char *paths[3] = { dnslookup_so, arp_so, packetcount_so };
	char err[256];

	harness_forget();
	H.k = harness_kitchen();
	for (int i = 0; i < 3; i++) {
		ck_assert_msg(ndl__chef_module_open(paths[i], &mods[i], err, sizeof(err)) == 0,
			      "%s", err);
		ck_assert_msg(ndl__kitchen_add_chef(H.k, mods[i], err, sizeof(err)) == 0, "%s", err);
	}
	feed_dns_query("shared.example", T1);
	ndl__kitchen_interval(H.k);
	/* DNSLookupChef's lookup, then its interval dumpling and PacketCountChef's. */
	ck_assert_uint_eq(H.n, 3);
	harness_assert_chef(0, "DNSLookupChef", "packet", T1,
			"{\"lookup\":{\"hostname\":\"shared.example\",\"when\":" T1S
			",\"qtype\":\"A\",\"is_response\":false,\"rcode\":null}}");
	harness_assert_chef(1, "DNSLookupChef", "interval", T1,
			"{\"lookups_seen\":{\"shared.example\":{\"count\":1,\"latest\":" T1S "}}}");
	harness_assert_chef(2, "PacketCountChef", "interval", T1,
			"{\"packet_counts\":{\"DNS\":1,\"Ethernet\":1,\"IP\":1,\"UDP\":1}}");
	ndl__kitchen_free(H.k);
	H.k = NULL;
	for (int i = 0; i < 3; i++)
		ndl__chef_module_close(mods[i]);
	harness_forget();
}
END_TEST

/* ------------------------------------------------------------------------ */

static Suite *chefs_suite(void)
{
	Suite *s = suite_create("chefs");
	TCase *dns = tcase_create("dnslookup");
	TCase *arpc = tcase_create("arp");
	TCase *count = tcase_create("packetcount");
	TCase *all = tcase_create("together");

	tcase_add_test(dns, dns_query_makes_lookup);
	tcase_add_test(dns, dns_response_counts_as_lookup);
	tcase_add_test(dns, dns_over_tcp);
	tcase_add_test(dns, dns_response_without_answers);
	tcase_add_test(dns, dns_response_answers_in_order);
	tcase_add_test(dns, dns_rcode_names_and_numbers);
	tcase_add_test(dns, dns_interval_when_empty);
	tcase_add_test(dns, dns_ignores_other_packets);
	tcase_add_test(dns, dns_interval_in_first_seen_order);
	tcase_add_test(dns, dns_evicts_least_recently_seen);
	tcase_add_test(dns, dns_many_hosts_stay_bounded);
	tcase_add_test(dns, dns_rejects_bad_max_hosts);
	suite_add_tcase(s, dns);

	tcase_add_test(arpc, arp_request);
	tcase_add_test(arpc, arp_reply_notes);
	tcase_add_test(arpc, arp_requests_do_not_teach);
	tcase_add_test(arpc, arp_other_operation_is_a_number);
	tcase_add_test(arpc, arp_no_interval_dumplings_and_ignores_ip);
	tcase_add_test(arpc, arp_evicts_least_recently_heard);
	suite_add_tcase(s, arpc);

	tcase_add_test(count, count_empty);
	tcase_add_test(count, count_layers);
	tcase_add_test(count, count_is_cumulative);
	tcase_add_test(count, count_other_link_types);
	tcase_add_test(count, count_dns_edges);
	suite_add_tcase(s, count);

	tcase_add_test(all, three_chefs_share_a_packet);
	suite_add_tcase(s, all);
	return s;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s DNSLOOKUP_SO ARP_SO PACKETCOUNT_SO\n", argv[0]);
		return 2;
	}
	dnslookup_so = argv[1];
	arp_so = argv[2];
	packetcount_so = argv[3];

	return harness_run(chefs_suite());
}
