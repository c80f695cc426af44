/* SPDX-License-Identifier: MIT */
/*
 * test_ipconn - IPConnChef loaded from its .so by the real kitchen core and
 * fed hand-built Ethernet frames; every payload is compared byte for byte.
 *
 * Usage: test_ipconn IPCONN_SO
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

#define T0 1795322030000000000LL
#define MS(n) (T0 + (ndl_time_ns)(n) * 1000000LL)

static const char *ipconn_so;

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

/* Load IPConnChef into a new kitchen with options (NULL-ended, "key=value"). */
static void start_chef(const char *const *options)
{
	struct ndl_sink sink = { .write = sink_write };
	char err[256] = "", opt[128];
	int r;

	forget_dumplings();
	r = ndl__chef_module_open(ipconn_so, &mod, err, sizeof(err));
	ck_assert_msg(r == 0, "cannot open %s: %s", ipconn_so, err);
	k = ndl__kitchen_new(KITCHEN_NAME, sink);
	ck_assert_ptr_nonnull(k);
	for (size_t i = 0; options && options[i]; i++) {
		snprintf(opt, sizeof(opt), "IPConnChef.%s", options[i]);
		r = ndl__kitchen_set_option(k, opt, err, sizeof(err));
		ck_assert_msg(r == 0, "option %s refused: %s", opt, err);
	}
	r = ndl__kitchen_add_chef(k, mod, err, sizeof(err));
	ck_assert_msg(r == 0, "cannot add IPConnChef: %s", err);
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

/* Dumpling i is a packet dumpling made at t whose payload is exactly payload. */
static void assert_dumpling(size_t i, ndl_time_ns t, const char *payload)
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
	ck_assert_str_eq(json_string_value(json_object_get(md, "chef")), "IPConnChef");
	ck_assert_str_eq(json_string_value(json_object_get(md, "driver")), "packet");
	ck_assert_uint_eq(drivers[i], NDL_DRIVER_PACKET);
	ck_assert_msg(fabs(json_number_value(json_object_get(md, "creation_time")) -
			   (double)t / 1e9) < 1e-6, "creation_time is not %lld: %s",
		      (long long)t, doc);
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
	uint8_t b[256];
	size_t len;
};

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t IP_A[4] = { 192, 0, 2, 1 };
static const uint8_t IP_B[4] = { 192, 0, 2, 2 };
static const uint8_t IP6_A[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t IP6_B[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

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

/* Ethernet II and IPv4 (RFC 791) with the 16-bit flags/offset word frag. */
static void ipv4(struct frame *f, uint8_t proto, size_t l4len, uint16_t frag)
{
	f->len = 0;
	putn(f, MAC_B, 6);
	putn(f, MAC_A, 6);
	put16(f, 0x0800);
	put8(f, 0x45);
	put8(f, 0);
	put16(f, (uint16_t)(20 + l4len));
	put16(f, 0x4242);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	putn(f, IP_A, 4);
	putn(f, IP_B, 4);
}

/* Ethernet II and IPv6 (RFC 8200). */
static void ipv6(struct frame *f, uint8_t next, size_t l4len)
{
	f->len = 0;
	putn(f, MAC_B, 6);
	putn(f, MAC_A, 6);
	put16(f, 0x86dd);
	put32(f, 0x60000000);
	put16(f, (uint16_t)l4len);
	put8(f, next);
	put8(f, 64);
	putn(f, IP6_A, 16);
	putn(f, IP6_B, 16);
}

static void udp(struct frame *f, uint16_t sport, uint16_t dport, uint16_t len)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, len);
	put16(f, 0);
}

static void tcp_syn(struct frame *f, uint16_t sport, uint16_t dport)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 1);
	put32(f, 0);
	put8(f, 5 << 4);
	put8(f, 0x02);
	put16(f, 65535);
	put16(f, 0);
	put16(f, 0);
}

static void feed(const struct frame *f, ndl_time_ns ts)
{
	ndl__kitchen_packet(k, DLT_EN10MB, f->b, (uint32_t)f->len, (uint32_t)f->len, ts);
}

/* An IPv4 UDP datagram from 192.0.2.1:sport to 192.0.2.2:53. */
static void udp4(uint16_t sport, ndl_time_ns ts)
{
	struct frame f;

	ipv4(&f, 17, 8, 0);
	udp(&f, sport, 53, 8);
	feed(&f, ts);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(tcp_and_udp_over_ipv4_and_ipv6)
{
	struct frame f;

	start_chef(NULL);
	ipv4(&f, 6, 20, 0x4000);
	tcp_syn(&f, 40000, 80);
	feed(&f, MS(1));
	ipv6(&f, 17, 8);
	udp(&f, 5353, 53, 8);
	feed(&f, MS(2));
	/* Neither TCP nor UDP: nothing. */
	ipv4(&f, 1, 8, 0);
	put32(&f, 0x08000000);
	put32(&f, 0x00010001);
	feed(&f, MS(3));
	ipv6(&f, 58, 8);
	put32(&f, 0x80000000);
	put32(&f, 0x00010001);
	feed(&f, MS(4));
	ndl__kitchen_interval(k);

	ck_assert_uint_eq(n_dumplings, 2);
	assert_dumpling(0, MS(1),
			"{\"proto\":6,\"srcip\":\"192.0.2.1\",\"srcport\":40000,"
			"\"dstip\":\"192.0.2.2\",\"dstport\":80,\"time\":1795322030.001000}");
	assert_dumpling(1, MS(2),
			"{\"proto\":17,\"srcip\":\"2001:db8::1\",\"srcport\":5353,"
			"\"dstip\":\"2001:db8::2\",\"dstport\":53,\"time\":1795322030.002000}");
	ck_assert_uint_eq(chef_counter("sampled_out"), 0);
	ck_assert_uint_eq(chef_counter("rate_limited"), 0);
	stop_chef();
}
END_TEST

START_TEST(fragments_only_with_transport)
{
	struct frame f;

	start_chef(NULL);
	/* First fragment (more fragments, offset 0): the UDP header is there. */
	ipv4(&f, 17, 8, 0x2000);
	udp(&f, 1234, 4321, 1008);
	feed(&f, MS(1));
	/* A later fragment (offset 8 bytes): no ports to report. */
	ipv4(&f, 17, 8, 0x0001);
	put32(&f, 0);
	put32(&f, 0);
	feed(&f, MS(2));
	ck_assert_uint_eq(n_dumplings, 1);
	assert_dumpling(0, MS(1),
			"{\"proto\":17,\"srcip\":\"192.0.2.1\",\"srcport\":1234,"
			"\"dstip\":\"192.0.2.2\",\"dstport\":4321,\"time\":1795322030.001000}");
	ck_assert_uint_eq(chef_counter("sampled_out"), 0);
	stop_chef();
}
END_TEST

START_TEST(sample_every_third)
{
	static const char *const opts[] = { "sample=3", NULL };

	start_chef(opts);
	for (int i = 0; i < 7; i++)
		udp4((uint16_t)(1000 + i), MS(i));
	ck_assert_uint_eq(n_dumplings, 3);
	assert_dumpling(0, MS(0),
			"{\"proto\":17,\"srcip\":\"192.0.2.1\",\"srcport\":1000,"
			"\"dstip\":\"192.0.2.2\",\"dstport\":53,\"time\":1795322030.000000}");
	assert_dumpling(1, MS(3),
			"{\"proto\":17,\"srcip\":\"192.0.2.1\",\"srcport\":1003,"
			"\"dstip\":\"192.0.2.2\",\"dstport\":53,\"time\":1795322030.003000}");
	assert_dumpling(2, MS(6),
			"{\"proto\":17,\"srcip\":\"192.0.2.1\",\"srcport\":1006,"
			"\"dstip\":\"192.0.2.2\",\"dstport\":53,\"time\":1795322030.006000}");
	ck_assert_uint_eq(chef_counter("sampled_out"), 4);
	ck_assert_uint_eq(chef_counter("rate_limited"), 0);
	stop_chef();
}
END_TEST

START_TEST(rate_limit_per_capture_second)
{
	static const char *const opts[] = { "rate_limit=2", NULL };

	start_chef(opts);
	udp4(1000, MS(0));
	udp4(1001, MS(100));
	udp4(1002, MS(200));        /* third in second 0: limited */
	udp4(1003, MS(999));        /* still second 0: limited */
	udp4(1004, MS(1000));       /* second 1 */
	udp4(1005, MS(500));        /* out of order: counts in second 1 */
	udp4(1006, MS(1700));       /* third in second 1: limited */
	udp4(1007, MS(3000));
	ck_assert_uint_eq(n_dumplings, 5);
	ck_assert_ptr_nonnull(strstr(dumplings[0], "\"srcport\":1000,"));
	ck_assert_ptr_nonnull(strstr(dumplings[1], "\"srcport\":1001,"));
	assert_dumpling(2, MS(1000),
			"{\"proto\":17,\"srcip\":\"192.0.2.1\",\"srcport\":1004,"
			"\"dstip\":\"192.0.2.2\",\"dstport\":53,\"time\":1795322031.000000}");
	assert_dumpling(3, MS(500),
			"{\"proto\":17,\"srcip\":\"192.0.2.1\",\"srcport\":1005,"
			"\"dstip\":\"192.0.2.2\",\"dstport\":53,\"time\":1795322030.500000}");
	ck_assert_ptr_nonnull(strstr(dumplings[4], "\"srcport\":1007,"));
	ck_assert_uint_eq(chef_counter("rate_limited"), 3);
	ck_assert_uint_eq(chef_counter("sampled_out"), 0);
	stop_chef();
}
END_TEST

START_TEST(sample_then_rate_limit)
{
	static const char *const opts[] = { "sample=2", "rate_limit=1", NULL };

	start_chef(opts);
	for (int i = 0; i < 6; i++)
		udp4((uint16_t)(2000 + i), MS(i * 100));
	/* Packets 0, 2, 4 are sampled; only packet 0 fits second 0. */
	ck_assert_uint_eq(n_dumplings, 1);
	ck_assert_ptr_nonnull(strstr(dumplings[0], "\"srcport\":2000,"));
	ck_assert_uint_eq(chef_counter("sampled_out"), 3);
	ck_assert_uint_eq(chef_counter("rate_limited"), 2);
	stop_chef();
}
END_TEST

START_TEST(rejects_bad_options)
{
	static const char *const bad[] = {
		"IPConnChef.sample=0", "IPConnChef.sample=x", "IPConnChef.rate_limit=-1",
	};
	struct ndl_sink sink = { .write = sink_write };
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r;

		ck_assert_int_eq(ndl__chef_module_open(ipconn_so, &mod, err, sizeof(err)), 0);
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
	SRunner *sr;
	int failed;

	if (argc != 2) {
		fprintf(stderr, "usage: %s IPCONN_SO\n", argv[0]);
		return 2;
	}
	ipconn_so = argv[1];
	sr = srunner_create(ipconn_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
