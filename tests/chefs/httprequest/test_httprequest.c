/* SPDX-License-Identifier: MIT */
/*
 * test_httprequest - HTTPRequestChef in the real kitchen core: request
 * dumplings, responses paired to requests per TCP flow (pipelined ones in
 * order), unpaired responses, the flow and per-flow bounds, interim
 * responses and port reuse.
 *
 * Usage: test_httprequest HTTPREQUEST_SO
 */
#include "chef_harness.h"

/* This program's capture times lie closer together than the harness's. */
#undef T2
#undef T2S
#undef T3
#undef T3S
#undef T4
#undef T4S
#define T2 (T1 + 250000000LL)
#define T2S "1795322030.400690"
#define T3 (T1 + 1500000000LL)
#define T3S "1795322031.650690"
#define T4 (T1 + 2000000000LL)
#define T4S "1795322032.150690"

#define CLIENT "{\"ip\":\"192.0.2.1\",\"port\":40000}"
#define SERVER "{\"ip\":\"192.0.2.2\",\"port\":80}"

/* A TCP segment carrying text, from client port cport to the server's port 80 or back. */
static void segment_v4(struct hframe *f, bool from_client, uint16_t cport, uint8_t flags,
		       const char *text)
{
	struct h_ipv4 ip = { .id = 1, .frag = 0x4000, .ttl = 64, .proto = 6 };
	struct h_tcp t = { .seq = 1, .ack = 1, .flags = flags, .window = 512 };

	memcpy(ip.src, from_client ? IP_A : IP_B, 4);
	memcpy(ip.dst, from_client ? IP_B : IP_A, 4);
	t.sport = from_client ? cport : 80;
	t.dport = from_client ? 80 : cport;
	h_eth(f, from_client ? MAC_B : MAC_A, from_client ? MAC_A : MAC_B, 0x0800, NULL);
	h_ipv4(f, &ip);
	h_tcp(f, &t, text, text ? strlen(text) : 0);
	h_ip_done(f);
}

static void send_text(bool from_client, uint16_t cport, const char *text, ndl_time_ns ts)
{
	struct hframe f;

	segment_v4(&f, from_client, cport, 0x18, text);
	h_feed(&f, ts);
}

static void request(const char *target, ndl_time_ns ts)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\nHost: www.example.test\r\n\r\n", target);
	send_text(true, 40000, buf, ts);
}

static void response(int status, ndl_time_ns ts)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "HTTP/1.1 %d Whatever\r\nContent-Length: 0\r\n\r\n", status);
	send_text(false, 40000, buf, ts);
}

/* The response dumpling for GET target answered with status after latency seconds. */
static void assert_response(size_t i, ndl_time_ns t, const char *ts, const char *target,
			    int status, const char *latency)
{
	char want[1024];

	snprintf(want, sizeof(want),
		 "{\"kind\":\"response\",\"time\":%s,\"client\":" CLIENT ",\"server\":" SERVER
		 ",\"method\":\"GET\",\"host\":\"www.example.test\",\"uri\":\"%s\",\"status\":%d,"
		 "\"reason\":\"Whatever\",\"content_type\":null,\"content_length\":0,\"latency\":%s}",
		 ts, target, status, latency);
	harness_assert(i, t, want);
}

START_TEST(request_then_response)
{
	harness_start(chef_so, NULL);
	send_text(true, 40000,
		  "GET /index.html?q=1 HTTP/1.1\r\nHost: www.example.test\r\n"
		  "User-Agent: curl/7.88.1\r\nAccept: */*\r\n"
		  "Referer: http://referer.example.test/\r\n\r\n", T1);
	send_text(false, 40000,
		  "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 49\r\n\r\n"
		  "<html><body>netdumplings test page</body></html>\n", T2);
	ck_assert_uint_eq(H.n, 2);
	harness_assert(0, T1,
		"{\"kind\":\"request\",\"time\":" T1S ",\"client\":" CLIENT ",\"server\":" SERVER
		",\"method\":\"GET\",\"host\":\"www.example.test\",\"uri\":\"/index.html?q=1\","
		"\"url\":\"http://www.example.test/index.html?q=1\",\"user_agent\":\"curl/7.88.1\","
		"\"referer\":\"http://referer.example.test/\",\"http_version\":\"1.1\"}");
	harness_assert(1, T2,
		"{\"kind\":\"response\",\"time\":" T2S ",\"client\":" CLIENT ",\"server\":" SERVER
		",\"method\":\"GET\",\"host\":\"www.example.test\",\"uri\":\"/index.html?q=1\","
		"\"status\":200,\"reason\":\"OK\",\"content_type\":\"text/html\","
		"\"content_length\":49,\"latency\":0.25}");
	ck_assert_uint_eq(harness_counter("unpaired_responses"), 0);
	harness_stop();
}
END_TEST

START_TEST(pipelined_requests_pair_in_order)
{
	harness_start(chef_so, NULL);
	request("/first", T1);
	request("/second", T2);
	/* Another connection's request in between must not disturb the pairing. */
	send_text(true, 40001, "POST /other HTTP/1.1\r\nHost: other.test\r\n\r\n", T2);
	response(200, T3);
	response(404, T4);
	ck_assert_uint_eq(H.n, 5);
	assert_response(3, T3, T3S, "/first", 200, "1.5");
	assert_response(4, T4, T4S, "/second", 404, "1.75");
	ck_assert_uint_eq(harness_counter("unpaired_responses"), 0);
	harness_stop();
}
END_TEST

START_TEST(unpaired_response)
{
	harness_start(chef_so, NULL);
	send_text(false, 40000,
		  "HTTP/1.0 304 Not Modified\r\nContent-Type: text/plain\r\n"
		  "Content-Length: 12abc\r\n\r\n", T1);
	ck_assert_uint_eq(H.n, 1);
	harness_assert(0, T1,
		"{\"kind\":\"response\",\"time\":" T1S ",\"client\":" CLIENT ",\"server\":" SERVER
		",\"method\":null,\"host\":null,\"uri\":null,\"status\":304,"
		"\"reason\":\"Not Modified\",\"content_type\":\"text/plain\","
		"\"content_length\":null,\"latency\":null}");
	ck_assert_uint_eq(harness_counter("unpaired_responses"), 1);

	/* A response to a request already answered is unpaired too. */
	request("/once", T2);
	response(200, T3);
	response(200, T4);
	ck_assert_uint_eq(H.n, 4);
	assert_response(2, T3, T3S, "/once", 200, "1.25");
	ck_assert_uint_eq(harness_counter("unpaired_responses"), 2);
	harness_stop();
}
END_TEST

START_TEST(absolute_form_and_no_host)
{
	harness_start(chef_so, NULL);
	send_text(true, 40000,
		  "GET http://proxy.example.test:8080/a?b HTTP/1.0\r\n\r\n", T1);
	send_text(true, 40000, "HEAD /bare HTTP/1.0\r\n\r\n", T2);
	send_text(true, 40000, "CONNECT www.example.test:443 HTTP/1.1\r\n"
		  "Host: www.example.test:443\r\n\r\n", T3);
	ck_assert_uint_eq(H.n, 3);
	harness_assert(0, T1,
		"{\"kind\":\"request\",\"time\":" T1S ",\"client\":" CLIENT ",\"server\":" SERVER
		",\"method\":\"GET\",\"host\":null,\"uri\":\"http://proxy.example.test:8080/a?b\","
		"\"url\":\"http://proxy.example.test:8080/a?b\",\"user_agent\":null,"
		"\"referer\":null,\"http_version\":\"1.0\"}");
	/* Without Host the server's address stands in. */
	harness_assert(1, T2,
		"{\"kind\":\"request\",\"time\":" T2S ",\"client\":" CLIENT ",\"server\":" SERVER
		",\"method\":\"HEAD\",\"host\":null,\"uri\":\"/bare\","
		"\"url\":\"http://192.0.2.2/bare\",\"user_agent\":null,"
		"\"referer\":null,\"http_version\":\"1.0\"}");
	/* Authority-form names no URL. */
	harness_assert(2, T3,
		"{\"kind\":\"request\",\"time\":" T3S ",\"client\":" CLIENT ",\"server\":" SERVER
		",\"method\":\"CONNECT\",\"host\":\"www.example.test:443\","
		"\"uri\":\"www.example.test:443\",\"url\":null,\"user_agent\":null,"
		"\"referer\":null,\"http_version\":\"1.1\"}");
	harness_stop();
}
END_TEST

START_TEST(ipv6_flow)
{
	static const char req[] = "GET /v6 HTTP/1.1\r\n\r\n";
	static const char resp[] = "HTTP/1.1 204 No Content\r\n\r\n";
	struct h_tcp t = { .sport = 50000, .dport = 8080, .flags = 0x18 };
	struct hframe f;

	harness_start(chef_so, NULL);
	h_eth(&f, MAC_B, MAC_A, 0x86dd, NULL);
	h_ipv6(&f, 0, 0, 6, 64, IP6_A, IP6_B);
	h_tcp(&f, &t, req, strlen(req));
	h_ip_done(&f);
	h_feed(&f, T1);
	t.sport = 8080;
	t.dport = 50000;
	h_eth(&f, MAC_A, MAC_B, 0x86dd, NULL);
	h_ipv6(&f, 0, 0, 6, 64, IP6_B, IP6_A);
	h_tcp(&f, &t, resp, strlen(resp));
	h_ip_done(&f);
	h_feed(&f, T2);
	ck_assert_uint_eq(H.n, 2);
	harness_assert(0, T1,
		"{\"kind\":\"request\",\"time\":" T1S ",\"client\":{\"ip\":\"2001:db8::1\","
		"\"port\":50000},\"server\":{\"ip\":\"2001:db8::2\",\"port\":8080},"
		"\"method\":\"GET\",\"host\":null,\"uri\":\"/v6\","
		"\"url\":\"http://[2001:db8::2]:8080/v6\",\"user_agent\":null,"
		"\"referer\":null,\"http_version\":\"1.1\"}");
	harness_assert(1, T2,
		"{\"kind\":\"response\",\"time\":" T2S ",\"client\":{\"ip\":\"2001:db8::1\","
		"\"port\":50000},\"server\":{\"ip\":\"2001:db8::2\",\"port\":8080},"
		"\"method\":\"GET\",\"host\":null,\"uri\":\"/v6\",\"status\":204,"
		"\"reason\":\"No Content\",\"content_type\":null,\"content_length\":null,"
		"\"latency\":0.25}");
	harness_stop();
}
END_TEST

START_TEST(flows_evicted_least_recently_active)
{
	static const char *const opts[] = { "HTTPRequestChef.max_pending_flows=2", NULL };
	char buf[128];

	harness_start(chef_so, opts);
	for (uint16_t port = 40000; port < 40003; port++) {
		snprintf(buf, sizeof(buf), "GET /p%u HTTP/1.1\r\nHost: h\r\n\r\n", port);
		send_text(true, port, buf, T1);
	}
	ck_assert_uint_eq(harness_counter("evictions"), 1);
	ck_assert_uint_eq(harness_counter("unanswered_requests"), 1);
	/* Port 40000's request was forgotten; 40001's is still there. */
	send_text(false, 40000, "HTTP/1.1 200 OK\r\n\r\n", T2);
	send_text(false, 40001, "HTTP/1.1 200 OK\r\n\r\n", T2);
	ck_assert_uint_eq(H.n, 5);
	ck_assert_ptr_nonnull(strstr(H.dumplings[3], "\"method\":null"));
	ck_assert_ptr_nonnull(strstr(H.dumplings[4], "\"uri\":\"/p40001\""));
	ck_assert_uint_eq(harness_counter("unpaired_responses"), 1);
	harness_stop();
}
END_TEST

START_TEST(eviction_spares_recently_active_flow)
{
	static const char *const opts[] = { "HTTPRequestChef.max_pending_flows=2", NULL };

	harness_start(chef_so, opts);
	send_text(true, 40000, "GET /a1 HTTP/1.1\r\nHost: h\r\n\r\n", T1);
	send_text(true, 40001, "GET /b1 HTTP/1.1\r\nHost: h\r\n\r\n", T1);
	/* 40000 is active again, so 40001 is now the least recently active. */
	send_text(true, 40000, "GET /a2 HTTP/1.1\r\nHost: h\r\n\r\n", T1);
	send_text(true, 40002, "GET /c1 HTTP/1.1\r\nHost: h\r\n\r\n", T1);
	ck_assert_uint_eq(harness_counter("evictions"), 1);
	send_text(false, 40001, "HTTP/1.1 200 OK\r\n\r\n", T2);
	send_text(false, 40000, "HTTP/1.1 200 OK\r\n\r\n", T2);
	ck_assert_uint_eq(H.n, 6);
	ck_assert_ptr_nonnull(strstr(H.dumplings[4], "\"method\":null"));
	ck_assert_ptr_nonnull(strstr(H.dumplings[5], "\"uri\":\"/a1\""));
	harness_stop();
}
END_TEST

START_TEST(at_most_sixteen_waiting_per_flow)
{
	char path[16];

	harness_start(chef_so, NULL);
	for (int i = 0; i < 17; i++) {
		snprintf(path, sizeof(path), "/r%d", i);
		request(path, T1);
	}
	ck_assert_uint_eq(harness_counter("unanswered_requests"), 1);
	for (int i = 1; i < 17; i++)
		response(200, T2);
	response(200, T3);
	ck_assert_uint_eq(H.n, 17 + 17);
	/* /r0 was dropped: the answers go to /r1 ... /r16, then none is left. */
	assert_response(17, T2, T2S, "/r1", 200, "0.25");
	assert_response(32, T2, T2S, "/r16", 200, "0.25");
	ck_assert_ptr_nonnull(strstr(H.dumplings[33], "\"method\":null"));
	ck_assert_uint_eq(harness_counter("unpaired_responses"), 1);
	harness_stop();
}
END_TEST

START_TEST(interim_response_keeps_request)
{
	harness_start(chef_so, NULL);
	request("/upload", T1);
	response(100, T2);
	response(201, T3);
	ck_assert_uint_eq(H.n, 3);
	assert_response(1, T2, T2S, "/upload", 100, "0.25");
	assert_response(2, T3, T3S, "/upload", 201, "1.5");
	ck_assert_uint_eq(harness_counter("unpaired_responses"), 0);
	harness_stop();
}
END_TEST

START_TEST(new_connection_drops_waiting_requests)
{
	struct hframe f;

	harness_start(chef_so, NULL);
	request("/lost", T1);
	segment_v4(&f, true, 40000, 0x02, NULL);   /* SYN: the ports are reused */
	h_feed(&f, T2);
	response(200, T3);
	ck_assert_uint_eq(H.n, 2);
	ck_assert_ptr_nonnull(strstr(H.dumplings[1], "\"method\":null"));
	ck_assert_uint_eq(harness_counter("unanswered_requests"), 1);
	ck_assert_uint_eq(harness_counter("unpaired_responses"), 1);
	harness_stop();
}
END_TEST

START_TEST(ignores_other_traffic)
{
	struct hframe f;
	struct h_ipv4 ip = { .ttl = 64, .proto = 17 };

	harness_start(chef_so, NULL);
	send_text(true, 40000, "SSH-2.0-OpenSSH_9.2\r\n", T1);
	send_text(true, 40000, "\x16\x03\x01\x00\x05hello", T1);
	memcpy(ip.src, IP_A, 4);
	memcpy(ip.dst, IP_B, 4);
	h_eth(&f, MAC_B, MAC_A, 0x0800, NULL);
	h_ipv4(&f, &ip);
	h_udp(&f, 40000, 80, "GET / HTTP/1.1\r\n\r\n", 18);
	h_ip_done(&f);
	h_feed(&f, T1);
	ck_assert_uint_eq(H.n, 0);
	harness_stop();
}
END_TEST

START_TEST(rejects_bad_max_pending_flows)
{
	char err[256] = "";

	ck_assert_int_eq(harness_try_option(chef_so, "HTTPRequestChef.max_pending_flows=0",
					    err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "max_pending_flows") != NULL, "reason: %s", err);
	ck_assert_int_eq(harness_try_option(chef_so, "HTTPRequestChef.max_pending=5",
					    err, sizeof(err)), -EINVAL);
}
END_TEST

static Suite *httprequest_suite(void)
{
	Suite *s = suite_create("httprequest");
	TCase *tc = tcase_create("httprequest");

	tcase_add_test(tc, request_then_response);
	tcase_add_test(tc, pipelined_requests_pair_in_order);
	tcase_add_test(tc, unpaired_response);
	tcase_add_test(tc, absolute_form_and_no_host);
	tcase_add_test(tc, ipv6_flow);
	tcase_add_test(tc, flows_evicted_least_recently_active);
	tcase_add_test(tc, eviction_spares_recently_active_flow);
	tcase_add_test(tc, at_most_sixteen_waiting_per_flow);
	tcase_add_test(tc, interim_response_keeps_request);
	tcase_add_test(tc, new_connection_drops_waiting_requests);
	tcase_add_test(tc, ignores_other_traffic);
	tcase_add_test(tc, rejects_bad_max_pending_flows);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	return harness_main(argc, argv, "HTTPREQUEST_SO", httprequest_suite);
}
