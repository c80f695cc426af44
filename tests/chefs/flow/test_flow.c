/* SPDX-License-Identifier: MIT */
/*
 * test_flow - FlowChef loaded from its .so by the real kitchen core and fed
 * hand-built Ethernet frames; every payload is compared byte for byte.
 *
 * Usage: test_flow FLOW_SO
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include <jansson.h>
#include "kitchen.h"

#define KITCHEN_NAME "test_kitchen"
#define DLT_EN10MB 1

/* Capture times: T0 plus whole milliseconds, and how they are written. */
#define T0 1795322030000000000LL
#define MS(n) (T0 + (ndl_time_ns)(n) * 1000000LL)
#define SEC(n) MS((n) * 1000LL)

static const char *flow_so;

/* ------------------------------------------------------------------------ */
/* A kitchen whose sink keeps dumplings in memory                            */
/* ------------------------------------------------------------------------ */

#define MAX_DUMPLINGS 64

static char *dumplings[MAX_DUMPLINGS];
static enum ndl_driver drivers[MAX_DUMPLINGS];
static size_t n_dumplings;
static struct ndl_kitchen *k;
static struct ndl_chef_module *mod;

static int sink_write(void *arg, const char *json, size_t len, enum ndl_driver driver)
{
	ck_assert_uint_lt(n_dumplings, MAX_DUMPLINGS);
	dumplings[n_dumplings] = strndup(json, len);
	ck_assert_ptr_nonnull(dumplings[n_dumplings]);
	drivers[n_dumplings] = driver;
	n_dumplings++;
	return 0;
}

static void forget_dumplings(void)
{
	for (size_t i = 0; i < n_dumplings; i++)
		free(dumplings[i]);
	n_dumplings = 0;
}

/* Load FlowChef into a new kitchen with options (NULL-ended, "key=value"). */
static void start_chef(const char *const *options)
{
	struct ndl_sink sink = { .write = sink_write };
	char err[256] = "", opt[128];
	int r;

	forget_dumplings();
	r = ndl__chef_module_open(flow_so, &mod, err, sizeof(err));
	ck_assert_msg(r == 0, "cannot open %s: %s", flow_so, err);
	k = ndl__kitchen_new(KITCHEN_NAME, sink);
	ck_assert_ptr_nonnull(k);
	for (size_t i = 0; options && options[i]; i++) {
		snprintf(opt, sizeof(opt), "FlowChef.%s", options[i]);
		r = ndl__kitchen_set_option(k, opt, err, sizeof(err));
		ck_assert_msg(r == 0, "option %s refused: %s", opt, err);
	}
	r = ndl__kitchen_add_chef(k, mod, err, sizeof(err));
	ck_assert_msg(r == 0, "cannot add FlowChef: %s", err);
	r = ndl__kitchen_start(k, err, sizeof(err));
	ck_assert_msg(r == 0, "cannot start: %s", err);
}

static void stop_chef(void)
{
	ndl__kitchen_free(k);
	k = NULL;
	ndl__chef_module_close(mod);
	mod = NULL;
	forget_dumplings();
}

struct counter_query {
	const char *name;
	uint64_t value;
};

static void counter_cb(void *arg, const char *chef, const char *counter, uint64_t value)
{
	struct counter_query *q = arg;

	if (strcmp(counter, q->name) == 0)
		q->value = value;
}

static uint64_t chef_counter(const char *name)
{
	struct counter_query q = { .name = name };

	ndl__kitchen_foreach_chef_counter(k, counter_cb, &q);
	return q.value;
}

/* Run the interval handlers with the kitchen clock at t. */
static void interval_at(ndl_time_ns t)
{
	ndl__kitchen_set_clock(k, t);
	ndl__kitchen_interval(k);
}

/*
 * Dumpling i was made for driver at creation time t and its payload is
 * exactly payload, byte for byte.
 */
static void assert_dumpling(size_t i, const char *driver, ndl_time_ns t, const char *payload)
{
	const char *doc, *p;
	json_error_t jerr;
	json_t *root, *md;
	size_t plen;

	ck_assert_msg(i < n_dumplings, "dumpling %zu missing: only %zu made", i, n_dumplings);
	doc = dumplings[i];
	root = json_loads(doc, 0, &jerr);
	ck_assert_msg(root != NULL, "dumpling %zu is not JSON (%s): %s", i, jerr.text, doc);
	md = json_object_get(root, "metadata");
	ck_assert_str_eq(json_string_value(json_object_get(md, "chef")), "FlowChef");
	ck_assert_msg(strcmp(json_string_value(json_object_get(md, "driver")), driver) == 0,
		      "dumpling %zu: driver is not %s: %s", i, driver, doc);
	ck_assert_uint_eq(drivers[i], strcmp(driver, "packet") == 0 ?
			  NDL_DRIVER_PACKET : NDL_DRIVER_INTERVAL);
	ck_assert_msg(fabs(json_number_value(json_object_get(md, "creation_time")) -
			   (double)t / 1e9) < 1e-6,
		      "dumpling %zu: creation_time is not %lld ns: %s", i, (long long)t, doc);
	json_decref(root);

	p = strstr(doc, "\"payload\":");
	ck_assert_ptr_nonnull(p);
	p += strlen("\"payload\":");
	plen = strlen(p);
	ck_assert_msg(plen - 1 == strlen(payload) && memcmp(p, payload, plen - 1) == 0,
		      "dumpling %zu payload differs:\n  got  %.*s\n  want %s",
		      i, (int)(plen - 1), p, payload);
}

/* ------------------------------------------------------------------------ */
/* Frames                                                                    */
/* ------------------------------------------------------------------------ */

struct frame {
	uint8_t b[2048];
	size_t len;
};

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t IP_A[4] = { 192, 0, 2, 1 };
static const uint8_t IP_B[4] = { 192, 0, 2, 2 };
static const uint8_t IP_C[4] = { 192, 0, 2, 3 };
static const uint8_t IP_D[4] = { 192, 0, 2, 4 };
static const uint8_t IP6_A[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t IP6_B[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

static void put8(struct frame *f, uint8_t v)
{
	ck_assert_uint_lt(f->len, sizeof(f->b));
	f->b[f->len++] = v;
}

static void put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void put32(struct frame *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static void putn(struct frame *f, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(f, p[i]);
}

/* Ethernet II, then IPv4 (RFC 791) from src to dst for l4len bytes. */
static void ipv4(struct frame *f, const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
		 size_t l4len, uint16_t frag)
{
	f->len = 0;
	putn(f, MAC_B, 6);
	putn(f, MAC_A, 6);
	put16(f, 0x0800);
	put8(f, 0x45);
	put8(f, 0);
	put16(f, (uint16_t)(20 + l4len));
	put16(f, 0x1234);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);          /* checksum: not checked by the decoder */
	putn(f, src, 4);
	putn(f, dst, 4);
}

/* Ethernet II, then IPv6 (RFC 8200) from src to dst for l4len bytes. */
static void ipv6(struct frame *f, const uint8_t src[16], const uint8_t dst[16], uint8_t next,
		 size_t l4len)
{
	f->len = 0;
	putn(f, MAC_B, 6);
	putn(f, MAC_A, 6);
	put16(f, 0x86dd);
	put32(f, 0x60000000);
	put16(f, (uint16_t)l4len);
	put8(f, next);
	put8(f, 64);
	putn(f, src, 16);
	putn(f, dst, 16);
}

/* TCP (RFC 9293) without options, carrying n bytes of 'x'. */
static void tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags, size_t n)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 1000);
	put32(f, 2000);
	put8(f, 5 << 4);
	put8(f, flags);
	put16(f, 65535);
	put16(f, 0);
	put16(f, 0);
	for (size_t i = 0; i < n; i++)
		put8(f, 'x');
}

/* UDP (RFC 768) carrying n bytes of 'x'. */
static void udp(struct frame *f, uint16_t sport, uint16_t dport, size_t n)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, (uint16_t)(8 + n));
	put16(f, 0);
	for (size_t i = 0; i < n; i++)
		put8(f, 'x');
}

static void feed(const struct frame *f, ndl_time_ns ts)
{
	ndl__kitchen_packet(k, DLT_EN10MB, f->b, (uint32_t)f->len, (uint32_t)f->len, ts);
}

/* An IPv4 TCP segment with n payload bytes: 54 + n bytes on the wire. */
static void tcp4(const uint8_t src[4], uint16_t sport, const uint8_t dst[4], uint16_t dport,
		 uint8_t flags, size_t n, ndl_time_ns ts)
{
	struct frame f;

	ipv4(&f, src, dst, 6, 20 + n, 0x4000);
	tcp(&f, sport, dport, flags, n);
	feed(&f, ts);
}

/* An IPv4 UDP datagram with n payload bytes: 42 + n bytes on the wire. */
static void udp4(const uint8_t src[4], uint16_t sport, const uint8_t dst[4], uint16_t dport,
		 size_t n, ndl_time_ns ts)
{
	struct frame f;

	ipv4(&f, src, dst, 17, 8 + n, 0x4000);
	udp(&f, sport, dport, n);
	feed(&f, ts);
}

/* ------------------------------------------------------------------------ */
/* TCP                                                                       */
/* ------------------------------------------------------------------------ */

START_TEST(tcp_handshake_data_fin)
{
	start_chef(NULL);
	tcp4(IP_A, 40000, IP_B, 80, F_SYN, 0, MS(0));
	tcp4(IP_B, 80, IP_A, 40000, F_SYN | F_ACK, 0, MS(1));
	tcp4(IP_A, 40000, IP_B, 80, F_ACK, 0, MS(2));
	tcp4(IP_A, 40000, IP_B, 80, F_PSH | F_ACK, 100, MS(3));
	tcp4(IP_B, 80, IP_A, 40000, F_PSH | F_ACK, 1000, MS(10));
	tcp4(IP_A, 40000, IP_B, 80, F_FIN | F_ACK, 0, MS(20));
	tcp4(IP_B, 80, IP_A, 40000, F_FIN | F_ACK, 0, MS(21));
	tcp4(IP_A, 40000, IP_B, 80, F_ACK, 0, MS(22));
	ck_assert_uint_eq(n_dumplings, 0);

	/* Closed, but still lingering for closed_timeout (5 s). */
	interval_at(SEC(4));
	ck_assert_uint_eq(n_dumplings, 1);
	assert_dumpling(0, "interval", SEC(4),
			"{\"active_flows\":1,\"flows_started\":1,\"flows_ended\":0,\"evictions\":0}");

	interval_at(SEC(6));
	ck_assert_uint_eq(n_dumplings, 3);
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
	stop_chef();
}
END_TEST

START_TEST(tcp_states_on_the_way)
{
	static const char *const opts[] = { "flush_on_interval=true", NULL };

	start_chef(opts);
	tcp4(IP_A, 40000, IP_B, 80, F_SYN, 0, MS(0));
	tcp4(IP_C, 40001, IP_B, 80, F_SYN, 0, MS(1));
	tcp4(IP_B, 80, IP_C, 40001, F_SYN | F_ACK, 0, MS(2));
	tcp4(IP_D, 40002, IP_B, 80, F_SYN, 0, MS(3));
	tcp4(IP_B, 80, IP_D, 40002, F_SYN | F_ACK, 0, MS(4));
	tcp4(IP_D, 40002, IP_B, 80, F_FIN | F_ACK, 0, MS(5));
	interval_at(MS(10));
	ck_assert_uint_eq(n_dumplings, 4);
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
	stop_chef();
}
END_TEST

START_TEST(tcp_rst_ends_at_next_packet)
{
	start_chef(NULL);
	tcp4(IP_A, 40000, IP_B, 81, F_SYN, 0, MS(0));
	tcp4(IP_B, 81, IP_A, 40000, F_RST | F_ACK, 0, MS(1));
	/* Any later packet past the linger ends the flow: a packet dumpling. */
	udp4(IP_C, 5000, IP_D, 6000, 10, SEC(5) + MS(1));
	ck_assert_uint_eq(n_dumplings, 1);
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
	stop_chef();
}
END_TEST

START_TEST(tcp_port_reuse_starts_a_new_flow)
{
	start_chef(NULL);
	tcp4(IP_A, 40000, IP_B, 80, F_SYN, 0, MS(0));
	tcp4(IP_B, 80, IP_A, 40000, F_RST | F_ACK, 0, MS(1));
	/* The same ports again within the linger: the old flow ends now. */
	tcp4(IP_A, 40000, IP_B, 80, F_SYN, 0, MS(500));
	ck_assert_uint_eq(n_dumplings, 1);
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
	stop_chef();
}
END_TEST

START_TEST(tcp_mid_stream)
{
	static const char *const opts[] = { "flush_on_interval=yes", NULL };

	start_chef(opts);
	/* Data from the server first: its sender is taken as the client. */
	tcp4(IP_B, 443, IP_A, 50000, F_PSH | F_ACK, 10, MS(0));
	tcp4(IP_A, 50000, IP_B, 443, F_ACK, 0, MS(1));
	/* A SYN+ACK first names its receiver the client. */
	tcp4(IP_D, 22, IP_C, 50001, F_SYN | F_ACK, 0, MS(2));
	tcp4(IP_C, 50001, IP_D, 22, F_ACK, 0, MS(3));
	interval_at(MS(4));
	ck_assert_uint_eq(n_dumplings, 3);
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
	stop_chef();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Timeouts and the table                                                    */
/* ------------------------------------------------------------------------ */

START_TEST(udp_ends_when_idle)
{
	start_chef(NULL);
	udp4(IP_A, 53000, IP_B, 53, 30, MS(0));
	udp4(IP_B, 53, IP_A, 53000, 80, MS(2));
	interval_at(SEC(60));        /* 59.998 s idle: not yet */
	ck_assert_uint_eq(n_dumplings, 1);
	assert_dumpling(0, "interval", SEC(60),
			"{\"active_flows\":1,\"flows_started\":1,\"flows_ended\":0,\"evictions\":0}");
	interval_at(SEC(60) + MS(2));
	ck_assert_uint_eq(n_dumplings, 3);
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
	stop_chef();
}
END_TEST

START_TEST(idle_timeout_option_and_packet_driver)
{
	static const char *const opts[] = { "idle_timeout=0.5", NULL };

	start_chef(opts);
	udp4(IP_A, 1111, IP_B, 2222, 0, MS(0));
	udp4(IP_A, 1111, IP_B, 2222, 0, MS(400));
	/* The flow's own next packet after 0.5 s idle starts a new flow. */
	udp4(IP_B, 2222, IP_A, 1111, 0, MS(900));
	ck_assert_uint_eq(n_dumplings, 1);
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
	ck_assert_uint_eq(n_dumplings, 3);
	assert_dumpling(1, "interval", MS(1400),
			"{\"proto\":\"udp\","
			"\"client\":{\"ip\":\"192.0.2.2\",\"port\":2222},"
			"\"server\":{\"ip\":\"192.0.2.1\",\"port\":1111},"
			"\"start\":1795322030.900000,\"end\":1795322030.900000,"
			"\"duration\":0.000000,"
			"\"client_to_server\":{\"packets\":1,\"bytes\":42},"
			"\"server_to_client\":{\"packets\":0,\"bytes\":0},"
			"\"end_reason\":\"idle\"}");
	stop_chef();
}
END_TEST

START_TEST(active_timeout_splits_a_long_flow)
{
	static const char *const opts[] = { "active_timeout=10", NULL };

	start_chef(opts);
	udp4(IP_A, 7000, IP_B, 7001, 8, SEC(0));
	udp4(IP_B, 7001, IP_A, 7000, 8, SEC(5));
	/* 12 s after the start: the record so far is reported first. */
	udp4(IP_A, 7000, IP_B, 7001, 8, SEC(12));
	ck_assert_uint_eq(n_dumplings, 1);
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
	ck_assert_uint_eq(n_dumplings, 3);
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
	ck_assert_uint_eq(n_dumplings, 4);
	assert_dumpling(3, "interval", SEC(100),
			"{\"active_flows\":0,\"flows_started\":0,\"flows_ended\":1,\"evictions\":0}");
	stop_chef();
}
END_TEST

START_TEST(max_flows_evicts_least_recently_active)
{
	static const char *const opts[] = { "max_flows=2", NULL };

	start_chef(opts);
	udp4(IP_A, 1000, IP_B, 53, 0, MS(0));     /* flow 1 */
	udp4(IP_A, 1001, IP_B, 53, 0, MS(1));     /* flow 2 */
	udp4(IP_B, 53, IP_A, 1000, 0, MS(2));     /* flow 1 active again */
	ck_assert_uint_eq(chef_counter("evictions"), 0);
	udp4(IP_A, 1002, IP_B, 53, 0, MS(3));     /* flow 3 evicts flow 2 */
	ck_assert_uint_eq(chef_counter("evictions"), 1);
	ck_assert_uint_eq(n_dumplings, 1);
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
	ck_assert_uint_eq(chef_counter("evictions"), 2);
	ck_assert_ptr_nonnull(strstr(dumplings[1], "\"port\":1000},"));
	ck_assert_ptr_nonnull(strstr(dumplings[1], "\"client_to_server\":{\"packets\":1,"
				      "\"bytes\":42},\"server_to_client\":{\"packets\":1,"));
	interval_at(MS(5));
	assert_dumpling(2, "interval", MS(5),
			"{\"active_flows\":2,\"flows_started\":4,\"flows_ended\":2,\"evictions\":2}");
	/* The summary counts since the previous one. */
	interval_at(MS(6));
	assert_dumpling(3, "interval", MS(6),
			"{\"active_flows\":2,\"flows_started\":0,\"flows_ended\":0,\"evictions\":0}");
	stop_chef();
}
END_TEST

START_TEST(many_flows_stay_bounded)
{
	static const char *const opts[] = { "max_flows=100", NULL };

	start_chef(opts);
	for (int i = 0; i < 1000; i++) {
		udp4(IP_A, (uint16_t)(10000 + i), IP_B, 53, 0, MS(i));
		if (n_dumplings > MAX_DUMPLINGS / 2)
			forget_dumplings();
	}
	ck_assert_uint_eq(chef_counter("evictions"), 900);
	forget_dumplings();
	interval_at(MS(1000));
	assert_dumpling(0, "interval", MS(1000),
			"{\"active_flows\":100,\"flows_started\":1000,\"flows_ended\":900,"
			"\"evictions\":900}");
	stop_chef();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* IPv6, ICMP, other protocols, fragments                                    */
/* ------------------------------------------------------------------------ */

START_TEST(ipv6_tcp_flow)
{
	struct frame f;

	start_chef(NULL);
	ipv6(&f, IP6_A, IP6_B, 6, 20);
	tcp(&f, 50000, 443, F_SYN, 0);
	feed(&f, MS(0));
	ipv6(&f, IP6_B, IP6_A, 6, 20);
	tcp(&f, 443, 50000, F_SYN | F_ACK, 0);
	feed(&f, MS(1));
	ipv6(&f, IP6_A, IP6_B, 6, 20 + 5);
	tcp(&f, 50000, 443, F_FIN | F_PSH | F_ACK, 5);
	feed(&f, MS(2));
	ipv6(&f, IP6_B, IP6_A, 6, 20);
	tcp(&f, 443, 50000, F_FIN | F_ACK, 0);
	feed(&f, MS(3));
	interval_at(SEC(5) + MS(3));
	ck_assert_uint_eq(n_dumplings, 2);
	assert_dumpling(0, "interval", SEC(5) + MS(3),
			"{\"proto\":\"tcp\","
			"\"client\":{\"ip\":\"2001:db8::1\",\"port\":50000},"
			"\"server\":{\"ip\":\"2001:db8::2\",\"port\":443},"
			"\"start\":1795322030.000000,\"end\":1795322030.003000,"
			"\"duration\":0.003000,"
			"\"client_to_server\":{\"packets\":2,\"bytes\":153,\"tcp_flags\":\"FSPA\"},"
			"\"server_to_client\":{\"packets\":2,\"bytes\":148,\"tcp_flags\":\"FSA\"},"
			"\"tcp_state\":\"closed\",\"end_reason\":\"fin\"}");
	stop_chef();
}
END_TEST

/* ICMP (type 8/0) or ICMPv6 (128/129) echo with identifier id. */
static void echo(struct frame *f, uint8_t type, uint16_t id, uint16_t seq)
{
	put8(f, type);
	put8(f, 0);
	put16(f, 0);
	put16(f, id);
	put16(f, seq);
}

START_TEST(icmp_echo_keyed_by_identifier)
{
	static const char *const opts[] = { "flush_on_interval=1", NULL };
	struct frame f;

	start_chef(opts);
	ipv4(&f, IP_A, IP_B, 1, 8, 0);
	echo(&f, 8, 0x1234, 1);
	feed(&f, MS(0));
	ipv4(&f, IP_B, IP_A, 1, 8, 0);
	echo(&f, 0, 0x1234, 1);
	feed(&f, MS(1));
	ipv4(&f, IP_A, IP_B, 1, 8, 0);
	echo(&f, 8, 0x5678, 1);      /* another ping: another flow */
	feed(&f, MS(2));
	ipv6(&f, IP6_B, IP6_A, 58, 8);
	echo(&f, 129, 7, 1);         /* a reply first: its receiver pinged */
	feed(&f, MS(3));
	interval_at(MS(4));
	ck_assert_uint_eq(n_dumplings, 4);
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
	ck_assert_ptr_nonnull(strstr(dumplings[1], "\"icmp_id\":22136,"));
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
	stop_chef();
}
END_TEST

START_TEST(other_protocol_and_fragments)
{
	static const char *const opts[] = { "flush_on_interval=true", NULL };
	struct frame f;

	start_chef(opts);
	/* GRE (47): keyed by addresses only. */
	ipv4(&f, IP_A, IP_B, 47, 4, 0);
	put32(&f, 0x00000800);
	feed(&f, MS(0));
	ipv4(&f, IP_B, IP_A, 47, 4, 0);
	put32(&f, 0x00000800);
	feed(&f, MS(1));
	/* An unassigned protocol number is written as a number. */
	ipv4(&f, IP_A, IP_B, 253, 4, 0);
	put32(&f, 0);
	feed(&f, MS(2));
	/* A UDP fragment after the first has no ports: not attributed. */
	ipv4(&f, IP_A, IP_B, 17, 16, 0x0002);   /* offset 16 bytes */
	put32(&f, 0);
	put32(&f, 0);
	put32(&f, 0);
	put32(&f, 0);
	feed(&f, MS(3));
	ck_assert_uint_eq(chef_counter("unattributed"), 1);
	interval_at(MS(4));
	ck_assert_uint_eq(n_dumplings, 3);
	assert_dumpling(0, "interval", MS(4),
			"{\"proto\":\"gre\","
			"\"client\":{\"ip\":\"192.0.2.1\",\"port\":0},"
			"\"server\":{\"ip\":\"192.0.2.2\",\"port\":0},"
			"\"start\":1795322030.000000,\"end\":1795322030.001000,"
			"\"duration\":0.001000,"
			"\"client_to_server\":{\"packets\":1,\"bytes\":38},"
			"\"server_to_client\":{\"packets\":1,\"bytes\":38},"
			"\"end_reason\":\"flush\"}");
	ck_assert_ptr_nonnull(strstr(dumplings[1], "{\"proto\":\"253\","));
	assert_dumpling(2, "interval", MS(4),
			"{\"active_flows\":0,\"flows_started\":2,\"flows_ended\":2,\"evictions\":0}");
	stop_chef();
}
END_TEST

START_TEST(rejects_bad_options)
{
	static const char *const bad[] = {
		"FlowChef.max_flows=0", "FlowChef.idle_timeout=0", "FlowChef.closed_timeout=-1",
		"FlowChef.active_timeout=abc", "FlowChef.flush_on_interval=maybe",
		"FlowChef.no_such_key=1",
	};
	struct ndl_sink sink = { .write = sink_write };
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r;

		ck_assert_int_eq(ndl__chef_module_open(flow_so, &mod, err, sizeof(err)), 0);
		k = ndl__kitchen_new(KITCHEN_NAME, sink);
		ck_assert_ptr_nonnull(k);
		r = ndl__kitchen_set_option(k, bad[i], err, sizeof(err));
		if (r == 0)
			r = ndl__kitchen_add_chef(k, mod, err, sizeof(err));
		ck_assert_msg(r == -EINVAL, "%s accepted", bad[i]);
		stop_chef();
	}
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
	SRunner *sr;
	int failed;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FLOW_SO\n", argv[0]);
		return 2;
	}
	flow_so = argv[1];
	sr = srunner_create(flow_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
