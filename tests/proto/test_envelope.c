/* SPDX-License-Identifier: MIT */
/*
 * test_envelope.c - writing dumpling envelopes byte for byte as
 * netdumplings 0.5.1 orders them, reading them back, and telling dumplings
 * from other JSON.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

static struct ndl_jwb W;
static struct ndl_jw *J;

static void setup(void)
{
	ndl_jwb_init(&W, 0);
	J = ndl_jwb_jw(&W);
}

static void teardown(void)
{
	ndl_jwb_free(&W);
}

#define T0 1795322030150690123LL

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(test_begin_end_packet)
{
	ndl_envelope_begin(&W, "DNSLookupChef", "lo_kitchen", T0, NDL_DRIVER_PACKET);
	ck_assert_str_eq(W.buf, "{\"metadata\":{\"chef\":\"DNSLookupChef\",\"kitchen\":\"lo_kitchen\","
			 "\"creation_time\":1795322030.150690,\"driver\":\"packet\"},\"payload\":");
	ck_assert_int_eq(ndl_jwb_error(&W), 0);
	ck_assert(!ndl_jwb_complete(&W));
	ndl_jw_begin_object(J);
	ndl_jw_key(J, "lookup");
	ndl_jw_begin_object(J);
	ndl_jw_key(J, "hostname");
	ndl_jw_string(J, "example.com");
	ndl_jw_key(J, "when");
	ndl_jw_time(J, T0);
	ndl_jw_end_object(J);
	ndl_jw_end_object(J);
	ndl_envelope_end(&W);
	ck_assert_int_eq(ndl_jwb_error(&W), 0);
	ck_assert(ndl_jwb_complete(&W));
	ck_assert_str_eq(W.buf, "{\"metadata\":{\"chef\":\"DNSLookupChef\",\"kitchen\":\"lo_kitchen\","
			 "\"creation_time\":1795322030.150690,\"driver\":\"packet\"},\"payload\":"
			 "{\"lookup\":{\"hostname\":\"example.com\",\"when\":1795322030.150690}}}");
	ck_assert_uint_eq(W.len, strlen(W.buf));
}
END_TEST

START_TEST(test_begin_end_interval_null_kitchen)
{
	ndl_envelope_begin(&W, "SystemStatusChef", NULL, 0, NDL_DRIVER_INTERVAL);
	ndl_jw_int(J, 42);
	ndl_envelope_end(&W);
	ck_assert_int_eq(ndl_jwb_error(&W), 0);
	ck_assert(ndl_jwb_complete(&W));
	ck_assert_str_eq(W.buf, "{\"metadata\":{\"chef\":\"SystemStatusChef\",\"kitchen\":null,"
			 "\"creation_time\":0.000000,\"driver\":\"interval\"},\"payload\":42}");
}
END_TEST

START_TEST(test_begin_escapes_and_negative_time)
{
	ndl_envelope_begin(&W, "Chef", "k\"1\n\xff", -1500000000LL, NDL_DRIVER_PACKET);
	ndl_jw_null(J);
	ndl_envelope_end(&W);
	ck_assert_int_eq(ndl_jwb_error(&W), 0);
	ck_assert_str_eq(W.buf, "{\"metadata\":{\"chef\":\"Chef\",\"kitchen\":\"k\\\"1\\n\xef\xbf\xbd\","
			 "\"creation_time\":-1.500000,\"driver\":\"packet\"},\"payload\":null}");
}
END_TEST

START_TEST(test_begin_unknown_driver)
{
	ndl_envelope_begin(&W, "C", "k", 1000, (enum ndl_driver)7);
	ndl_jw_null(J);
	ndl_envelope_end(&W);
	ck_assert_str_eq(W.buf, "{\"metadata\":{\"chef\":\"C\",\"kitchen\":\"k\","
			 "\"creation_time\":0.000001,\"driver\":null},\"payload\":null}");
}
END_TEST

START_TEST(test_begin_resets)
{
	/* an earlier error and document are forgotten */
	ndl_jw_key(J, "bad");
	ck_assert_int_ne(ndl_jwb_error(&W), 0);
	ndl_envelope_begin(&W, "C", "k", 0, NDL_DRIVER_PACKET);
	ck_assert_int_eq(ndl_jwb_error(&W), 0);
	ndl_jw_begin_array(J);
	ndl_jw_end_array(J);
	ndl_envelope_end(&W);
	ck_assert_int_eq(ndl_jwb_error(&W), 0);
	ck_assert_str_eq(W.buf, "{\"metadata\":{\"chef\":\"C\",\"kitchen\":\"k\","
			 "\"creation_time\":0.000000,\"driver\":\"packet\"},\"payload\":[]}");
	/* the same writer again: same bytes */
	ndl_envelope_begin(&W, "C", "k", 0, NDL_DRIVER_PACKET);
	ndl_jw_begin_array(J);
	ndl_jw_end_array(J);
	ndl_envelope_end(&W);
	ck_assert_str_eq(W.buf, "{\"metadata\":{\"chef\":\"C\",\"kitchen\":\"k\","
			 "\"creation_time\":0.000000,\"driver\":\"packet\"},\"payload\":[]}");
}
END_TEST

/* A head made once and begun from: the bytes of ndl_envelope_begin_seq,
 * escaped names, null kitchen and every driver included, then a payload
 * checked as after any other begin. */
START_TEST(test_begin_from_head)
{
	static const struct { const char *chef, *kitchen; } names[] = {
		{ "DNSLookupChef", "lo_kitchen" }, { "C", NULL }, { "Chef", "k\"1\n\xff" },
	};
	static const enum ndl_driver drivers[] = {
		NDL_DRIVER_PACKET, NDL_DRIVER_INTERVAL, (enum ndl_driver)7,
	};
	struct ndl_jwb head;
	char want[512];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ndl_jwb_init(&head, SIZE_MAX);
		ndl_envelope_head(&head, names[i].chef, names[i].kitchen);
		ck_assert_int_eq(ndl_jwb_error(&head), 0);
		for (size_t d = 0; d < sizeof(drivers) / sizeof(drivers[0]); d++) {
			for (uint64_t seq = 0; seq < 3; seq += 2) {
				ndl_envelope_begin_seq(&W, names[i].chef, names[i].kitchen, -T0,
						       drivers[d], seq);
				ck_assert_uint_lt(W.len, sizeof(want));
				memcpy(want, W.buf, W.len + 1);
				ndl_jw_key(J, "stale");   /* an error begin must forget */
				ndl_envelope_begin_head(&W, head.buf, head.len, -T0, drivers[d], seq);
				ck_assert_str_eq(W.buf, want);
				ck_assert_int_eq(ndl_jwb_error(&W), 0);
				ndl_jw_uint(J, seq);
				ndl_envelope_end(&W);
				ck_assert_int_eq(ndl_jwb_error(&W), 0);
				ck_assert(ndl_jwb_complete(&W));
			}
		}
		ndl_jwb_free(&head);
	}
	/* the payload is still due: a second value is refused */
	ndl_jwb_init(&head, SIZE_MAX);
	ndl_envelope_head(&head, "C", "k");
	ndl_envelope_begin_head(&W, head.buf, head.len, 0, NDL_DRIVER_PACKET, 1);
	ck_assert_str_eq(W.buf, "{\"metadata\":{\"chef\":\"C\",\"kitchen\":\"k\","
			 "\"creation_time\":0.000000,\"driver\":\"packet\",\"seq\":1},\"payload\":");
	ndl_jw_null(J);
	ndl_jw_null(J);
	ck_assert_int_ne(ndl_jwb_error(&W), 0);
	ndl_jwb_free(&head);
}
END_TEST

/* Payloads a chef can get wrong, each caught by the writer. */
START_TEST(test_bad_payloads)
{
	/* no payload at all */
	ndl_envelope_begin(&W, "C", NULL, 0, NDL_DRIVER_PACKET);
	ndl_envelope_end(&W);
	ck_assert(ndl_jwb_error(&W) != 0 || !ndl_jwb_complete(&W));

	/* two payload values */
	ndl_envelope_begin(&W, "C", NULL, 0, NDL_DRIVER_PACKET);
	ndl_jw_int(J, 1);
	ndl_jw_int(J, 2);
	ndl_envelope_end(&W);
	ck_assert_int_eq(ndl_jwb_error(&W), NDL_JWB_NESTING);

	/* an object left open */
	ndl_envelope_begin(&W, "C", NULL, 0, NDL_DRIVER_PACKET);
	ndl_jw_begin_object(J);
	ndl_jw_key(J, "a");
	ndl_jw_int(J, 1);
	ndl_envelope_end(&W);
	ck_assert(ndl_jwb_error(&W) != 0 || !ndl_jwb_complete(&W));

	/* an array closed once too often */
	ndl_envelope_begin(&W, "C", NULL, 0, NDL_DRIVER_PACKET);
	ndl_jw_begin_array(J);
	ndl_jw_end_array(J);
	ndl_jw_end_array(J);
	ndl_envelope_end(&W);
	ck_assert_int_eq(ndl_jwb_error(&W), NDL_JWB_NESTING);

	/* a key where the payload value goes */
	ndl_envelope_begin(&W, "C", NULL, 0, NDL_DRIVER_PACKET);
	ndl_jw_key(J, "a");
	ndl_envelope_end(&W);
	ck_assert_int_eq(ndl_jwb_error(&W), NDL_JWB_NESTING);

	/* end called twice */
	ndl_envelope_begin(&W, "C", NULL, 0, NDL_DRIVER_PACKET);
	ndl_jw_null(J);
	ndl_envelope_end(&W);
	ck_assert_int_eq(ndl_jwb_error(&W), 0);
	ndl_envelope_end(&W);
	ck_assert_int_eq(ndl_jwb_error(&W), NDL_JWB_NESTING);
}
END_TEST

START_TEST(test_envelope_limit)
{
	struct ndl_jwb w;

	/* a dumpling bigger than the writer's limit is refused, not grown */
	ndl_jwb_init(&w, 128);
	ndl_envelope_begin(&w, "C", "k", 0, NDL_DRIVER_PACKET);
	ck_assert_int_eq(ndl_jwb_error(&w), 0);
	for (int i = 0; i < 100; i++)
		ndl_jw_string(ndl_jwb_jw(&w), "0123456789");
	ndl_envelope_end(&w);
	ck_assert_int_eq(ndl_jwb_error(&w), NDL_JWB_NESTING);   /* second value */
	ndl_envelope_begin(&w, "C", "k", 0, NDL_DRIVER_PACKET);
	ndl_jw_begin_array(ndl_jwb_jw(&w));
	for (int i = 0; i < 100; i++)
		ndl_jw_string(ndl_jwb_jw(&w), "0123456789");
	ndl_jw_end_array(ndl_jwb_jw(&w));
	ndl_envelope_end(&w);
	ck_assert_int_eq(ndl_jwb_error(&w), NDL_JWB_LIMIT);
	ck_assert_uint_le(w.len, 128);
	ck_assert_uint_le(w.cap, 129);
	ndl_jwb_free(&w);
}
END_TEST

START_TEST(test_envelope_prefix_over_limit)
{
	/* names too long for the limit: refused before the payload */
	struct ndl_jwb w;
	char name[200];

	memset(name, 'k', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ndl_jwb_init(&w, 150);
	ndl_envelope_begin(&w, "C", name, 0, NDL_DRIVER_PACKET);
	ck_assert_int_eq(ndl_jwb_error(&w), NDL_JWB_LIMIT);
	ndl_jw_null(ndl_jwb_jw(&w));
	ndl_envelope_end(&w);
	ck_assert_int_eq(ndl_jwb_error(&w), NDL_JWB_LIMIT);
	ck_assert_uint_le(w.len, 150);
	ck_assert_uint_eq(strlen(w.buf), w.len);
	/* the next dumpling with a short name is fine again */
	ndl_envelope_begin(&w, "C", "k", 0, NDL_DRIVER_PACKET);
	ndl_jw_null(ndl_jwb_jw(&w));
	ndl_envelope_end(&w);
	ck_assert_int_eq(ndl_jwb_error(&w), 0);
	ck_assert(ndl_jwb_complete(&w));
	ndl_jwb_free(&w);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Reading                                                                   */
/* ------------------------------------------------------------------------ */

static int parse(struct ndl_envelope *env, const char *s)
{
	return ndl_envelope_parse(env, s, strlen(s));
}

START_TEST(test_parse_written)
{
	struct ndl_envelope env;

	ndl_envelope_begin(&W, "ARPChef", "eth0_kitchen", T0, NDL_DRIVER_PACKET);
	ndl_jw_begin_object(J);
	ndl_jw_key(J, "operation");
	ndl_jw_string(J, "reply");
	ndl_jw_end_object(J);
	ndl_envelope_end(&W);
	ck_assert_int_eq(ndl_envelope_parse(&env, W.buf, W.len), 0);
	ck_assert_ptr_nonnull(env.root);
	ck_assert_str_eq(env.chef, "ARPChef");
	ck_assert_str_eq(env.kitchen, "eth0_kitchen");
	ck_assert_str_eq(env.driver, "packet");
	ck_assert_double_eq_tol(env.creation_time, 1795322030.150690, 1e-6);
	ck_assert(json_is_object(env.payload));
	ck_assert_str_eq(json_string_value(json_object_get(env.payload, "operation")), "reply");
	ndl_envelope_clear(&env);
	ck_assert_ptr_null(env.root);
	ck_assert_ptr_null(env.chef);
	ndl_envelope_clear(&env);   /* twice is harmless */
	ndl_envelope_clear(NULL);
}
END_TEST

START_TEST(test_parse_python_style)
{
	/* what netdumplings 0.5.1 sends: spaces, a float time, any payload */
	struct ndl_envelope env;
	const char *s = "{\"metadata\": {\"chef\": \"PacketCountChef\", \"kitchen\": \"default_kitchen\", "
			"\"creation_time\": 1795322030.1506908, \"driver\": \"interval\"}, "
			"\"payload\": [1, 2.5, \"x\"]}";

	ck_assert_int_eq(parse(&env, s), 0);
	ck_assert_str_eq(env.chef, "PacketCountChef");
	ck_assert_str_eq(env.kitchen, "default_kitchen");
	ck_assert_str_eq(env.driver, "interval");
	ck_assert(env.creation_time == 1795322030.1506908);
	ck_assert(json_is_array(env.payload));
	ck_assert_uint_eq(json_array_size(env.payload), 3);
	ndl_envelope_clear(&env);
}
END_TEST

START_TEST(test_parse_kitchen_null_and_int_time)
{
	struct ndl_envelope env;

	ck_assert_int_eq(parse(&env, "{\"metadata\":{\"chef\":\"SystemStatusChef\",\"kitchen\":null,"
				     "\"creation_time\":1795322030,\"driver\":\"interval\"},\"payload\":{}}"), 0);
	ck_assert_str_eq(env.chef, "SystemStatusChef");
	ck_assert_ptr_null(env.kitchen);
	ck_assert(env.creation_time == 1795322030.0);
	ck_assert(json_is_object(env.payload));
	ndl_envelope_clear(&env);
}
END_TEST

START_TEST(test_parse_minimal)
{
	/* only metadata.chef is required, as the original hub requires */
	struct ndl_envelope env;

	ck_assert_int_eq(parse(&env, "{\"metadata\":{\"chef\":\"\"}}"), 0);
	ck_assert_str_eq(env.chef, "");
	ck_assert_ptr_null(env.kitchen);
	ck_assert_ptr_null(env.driver);
	ck_assert(env.creation_time == 0.0);
	ck_assert_ptr_null(env.payload);
	ndl_envelope_clear(&env);

	/* fields of the wrong type read as absent */
	ck_assert_int_eq(parse(&env, "{\"metadata\":{\"chef\":\"c\",\"kitchen\":5,\"driver\":[],"
				     "\"creation_time\":\"soon\"},\"payload\":null}"), 0);
	ck_assert_ptr_null(env.kitchen);
	ck_assert_ptr_null(env.driver);
	ck_assert(env.creation_time == 0.0);
	ck_assert(json_is_null(env.payload));
	ndl_envelope_clear(&env);

	/* duplicate keys are accepted, the last one wins */
	ck_assert_int_eq(parse(&env, "{\"metadata\":{\"chef\":\"a\",\"chef\":\"b\"}}"), 0);
	ck_assert_str_eq(env.chef, "b");
	ndl_envelope_clear(&env);
}
END_TEST

START_TEST(test_parse_big_integer)
{
	/* a uint64 past int64 is valid JSON and must not be refused */
	struct ndl_envelope env;

	ndl_envelope_begin(&W, "C", "k", T0, NDL_DRIVER_PACKET);
	ndl_jw_uint(J, UINT64_MAX);
	ndl_envelope_end(&W);
	ck_assert_int_eq(ndl_envelope_parse(&env, W.buf, W.len), 0);
	ck_assert_str_eq(env.chef, "C");
	ck_assert(json_is_number(env.payload));
	ck_assert_double_eq_tol(json_number_value(env.payload), 18446744073709551615.0, 1e4);
	ndl_envelope_clear(&env);
}
END_TEST

static const struct {
	const char *doc;
	int want;
} bad_docs[] = {
	{"", -EINVAL},
	{"not json", -EINVAL},
	{"{\"metadata\":{\"chef\":\"c\"}", -EINVAL},           /* cut short */
	{"{\"metadata\":{\"chef\":\"c\"}} x", -EINVAL},        /* trailing garbage */
	{"{\"metadata\":{\"chef\":\"c\"}}{}", -EINVAL},        /* two documents */
	{"{'metadata':1}", -EINVAL},
	{"[]", -EBADMSG},
	{"[{\"metadata\":{\"chef\":\"c\"}}]", -EBADMSG},       /* a JSON array */
	{"\"metadata\"", -EBADMSG},
	{"42", -EBADMSG},
	{"null", -EBADMSG},
	{"{}", -EBADMSG},                                      /* no metadata */
	{"{\"payload\":{\"metadata\":{\"chef\":\"c\"}}}", -EBADMSG},
	{"{\"metadata\":null}", -EBADMSG},
	{"{\"metadata\":[\"chef\"]}", -EBADMSG},               /* metadata not an object */
	{"{\"metadata\":\"chef\"}", -EBADMSG},
	{"{\"metadata\":{}}", -EBADMSG},                       /* no chef */
	{"{\"metadata\":{\"chef\":null}}", -EBADMSG},          /* chef not a string */
	{"{\"metadata\":{\"chef\":7}}", -EBADMSG},
	{"{\"metadata\":{\"chef\":{\"name\":\"c\"}}}", -EBADMSG},
	{"{\"metadata\":{\"Chef\":\"c\"}}", -EBADMSG},
};

START_TEST(test_parse_rejects)
{
	struct ndl_envelope env;

	memset(&env, 0xa5, sizeof(env));
	ck_assert_int_eq(parse(&env, bad_docs[_i].doc), bad_docs[_i].want);
	/* nothing to free, nothing dangling */
	ck_assert_ptr_null(env.root);
	ck_assert_ptr_null(env.chef);
	ck_assert_ptr_null(env.payload);
}
END_TEST

START_TEST(test_parse_length_bounded)
{
	/* only len bytes are read: no NUL needed, the rest ignored */
	struct ndl_envelope env;
	const char *s = "{\"metadata\":{\"chef\":\"c\"}}GARBAGE";

	ck_assert_int_eq(ndl_envelope_parse(&env, s, 25), 0);
	ck_assert_str_eq(env.chef, "c");
	ndl_envelope_clear(&env);
	ck_assert_int_eq(ndl_envelope_parse(&env, s, 24), -EINVAL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Compact serialisation                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(test_compact_order)
{
	json_t *v = json_object();
	char *s;

	/* insertion order, not sorted: z before a */
	json_object_set_new(v, "z", json_integer(1));
	json_object_set_new(v, "a", json_pack("[s,f,b,n]", "x\"y", 0.1, 1));
	json_object_set_new(v, "m", json_pack("{s:f}", "t", 5.0));
	json_object_set_new(v, "u", json_stringn("a\0b", 3));
	s = ndl_json_compact(v);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "{\"z\":1,\"a\":[\"x\\\"y\",0.1,true,null],\"m\":{\"t\":5.0},\"u\":\"a\\u0000b\"}");
	free(s);
	json_decref(v);
}
END_TEST

START_TEST(test_compact_roundtrip)
{
	/* a kitchen hello as the hub keeps it, written back compactly */
	const char *in = "{\"kitchen_name\": \"lo_kitchen\", \"interface\": \"lo\", \"filter\": \"tcp or udp or arp\", "
			 "\"chefs\": [\"dnslookupchef.DNSLookupChef\"], \"poke_interval\": 5.0, \"e\": {}, \"l\": []}";
	json_error_t err;
	json_t *v = json_loads(in, 0, &err);
	char *s;

	ck_assert_ptr_nonnull(v);
	s = ndl_json_compact(v);
	ck_assert_str_eq(s, "{\"kitchen_name\":\"lo_kitchen\",\"interface\":\"lo\",\"filter\":\"tcp or udp or arp\","
			 "\"chefs\":[\"dnslookupchef.DNSLookupChef\"],\"poke_interval\":5.0,\"e\":{},\"l\":[]}");
	free(s);
	json_decref(v);

	/* scalars on their own */
	v = json_string("\xc3\xa9");
	s = ndl_json_compact(v);
	ck_assert_str_eq(s, "\"\xc3\xa9\"");
	free(s);
	json_decref(v);
	ck_assert_ptr_null(ndl_json_compact(NULL));
}
END_TEST

START_TEST(test_compact_deep)
{
	/* deeper than the streaming writer goes: still serialised */
	json_t *v = json_integer(1);
	char *s;
	size_t depth = NDL_JWB_MAX_DEPTH + 10;

	for (size_t i = 0; i < depth; i++) {
		json_t *a = json_array();

		json_array_append_new(a, v);
		v = a;
	}
	s = ndl_json_compact(v);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(strlen(s), 2 * depth + 1);
	for (size_t i = 0; i < depth; i++) {
		ck_assert_int_eq(s[i], '[');
		ck_assert_int_eq(s[depth + 1 + i], ']');
	}
	ck_assert_int_eq(s[depth], '1');
	free(s);
	json_decref(v);
}
END_TEST

START_TEST(test_json_write_into_envelope)
{
	/* a jansson payload inside a streamed envelope (the hub's status) */
	json_t *p = json_pack("{s:i,s:f,s:[{s:s}]}", "total_dumplings_in", 3,
			      "server_uptime", 1.5, "dumpling_kitchens", "host", "127.0.0.1");

	ndl_envelope_begin(&W, "SystemStatusChef", NULL, T0, NDL_DRIVER_INTERVAL);
	ndl_json_write(&W, p);
	ndl_envelope_end(&W);
	ck_assert_int_eq(ndl_jwb_error(&W), 0);
	ck_assert(ndl_jwb_complete(&W));
	ck_assert_str_eq(W.buf, "{\"metadata\":{\"chef\":\"SystemStatusChef\",\"kitchen\":null,"
			 "\"creation_time\":1795322030.150690,\"driver\":\"interval\"},\"payload\":"
			 "{\"total_dumplings_in\":3,\"server_uptime\":1.5,"
			 "\"dumpling_kitchens\":[{\"host\":\"127.0.0.1\"}]}}");
	json_decref(p);
}
END_TEST

START_TEST(test_begin_seq)
{
	struct ndl_envelope env;
	json_t *meta;
	const char *key;
	json_t *v;
	const char *want[] = { "chef", "kitchen", "creation_time", "driver", "seq" };
	size_t i = 0;

	/* seq follows driver; seq 0 writes the 0.5.1 envelope */
	ndl_envelope_begin_seq(&W, "C", "k", T0, NDL_DRIVER_PACKET, 18446744073709551615ULL);
	ck_assert_str_eq(W.buf, "{\"metadata\":{\"chef\":\"C\",\"kitchen\":\"k\","
			 "\"creation_time\":1795322030.150690,\"driver\":\"packet\","
			 "\"seq\":18446744073709551615},\"payload\":");
	ndl_envelope_begin_seq(&W, "C", NULL, T0, NDL_DRIVER_INTERVAL, 1);
	ndl_jw_int(J, 5);
	ndl_envelope_end(&W);
	ck_assert_int_eq(ndl_jwb_error(&W), 0);
	ck_assert(ndl_jwb_complete(&W));
	ck_assert_str_eq(W.buf, "{\"metadata\":{\"chef\":\"C\",\"kitchen\":null,"
			 "\"creation_time\":1795322030.150690,\"driver\":\"interval\","
			 "\"seq\":1},\"payload\":5}");
	ck_assert_int_eq(ndl_envelope_parse(&env, W.buf, W.len), 0);
	meta = json_object_get(env.root, "metadata");
	json_object_foreach(meta, key, v) {
		ck_assert_uint_lt(i, 5);
		ck_assert_str_eq(key, want[i]);
		i++;
	}
	ck_assert_uint_eq(i, 5);
	ck_assert_int_eq(json_integer_value(json_object_get(meta, "seq")), 1);
	ndl_envelope_clear(&env);
	ndl_envelope_begin_seq(&W, "C", "k", T0, NDL_DRIVER_PACKET, 0);
	ck_assert_str_eq(W.buf, "{\"metadata\":{\"chef\":\"C\",\"kitchen\":\"k\","
			 "\"creation_time\":1795322030.150690,\"driver\":\"packet\"},\"payload\":");
}
END_TEST

/* The envelope printf would write: the reference for the digit code. */
static void ref_envelope(char *out, size_t size, ndl_time_ns t, enum ndl_driver driver,
			 uint64_t seq)
{
	int64_t us = t / 1000;
	uint64_t u = us < 0 ? 0 - (uint64_t)us : (uint64_t)us;
	const char *drv = driver == NDL_DRIVER_PACKET ? "\"packet\"" :
			  driver == NDL_DRIVER_INTERVAL ? "\"interval\"" : "null";
	int n = snprintf(out, size, "{\"metadata\":{\"chef\":\"C\",\"kitchen\":\"k\","
			 "\"creation_time\":%s%" PRIu64 ".%06" PRIu64 ",\"driver\":%s",
			 us < 0 ? "-" : "", u / 1000000, u % 1000000, drv);

	if (seq)
		n += snprintf(out + n, size - (size_t)n, ",\"seq\":%" PRIu64, seq);
	snprintf(out + n, size - (size_t)n, "},\"payload\":");
}

START_TEST(test_begin_digits)
{
	/* every digit count of seq, times around zero and at both ends of
	 * int64, every driver: the same bytes as printf's */
	static const ndl_time_ns times[] = {
		0, 1, 999, 1000, -1000, -999999999, 1000000000, T0, -T0,
		INT64_MAX, INT64_MIN, INT64_MIN + 1,
	};
	static const enum ndl_driver drivers[] = {
		NDL_DRIVER_PACKET, NDL_DRIVER_INTERVAL, (enum ndl_driver)77,
	};
	char want[256];
	uint64_t seq = 1;

	for (int d = 0; d < 20; d++, seq *= 10) {
		const uint64_t seqs[] = { seq - 1, seq, seq + 1, seq * 9 + (seq - 1) };

		for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
			ndl_time_ns t = times[(size_t)d % (sizeof(times) / sizeof(times[0]))];
			enum ndl_driver drv = drivers[i % 3];

			if (d == 19 && i == 3)
				continue;   /* past UINT64_MAX */
			ref_envelope(want, sizeof(want), t, drv, seqs[i]);
			ndl_envelope_begin_seq(&W, "C", "k", t, drv, seqs[i]);
			ck_assert_int_eq(ndl_jwb_error(&W), 0);
			ck_assert_str_eq(W.buf, want);
			ck_assert_uint_eq(W.len, strlen(want));
		}
	}
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		ref_envelope(want, sizeof(want), times[i], NDL_DRIVER_INTERVAL, UINT64_MAX);
		ndl_envelope_begin_seq(&W, "C", "k", times[i], NDL_DRIVER_INTERVAL, UINT64_MAX);
		ck_assert_str_eq(W.buf, want);
	}
}
END_TEST

static Suite *envelope_suite(void)
{
	Suite *s = suite_create("envelope");
	TCase *tc;

	tc = tcase_create("write");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_begin_end_packet);
	tcase_add_test(tc, test_begin_end_interval_null_kitchen);
	tcase_add_test(tc, test_begin_escapes_and_negative_time);
	tcase_add_test(tc, test_begin_unknown_driver);
	tcase_add_test(tc, test_begin_resets);
	tcase_add_test(tc, test_begin_from_head);
	tcase_add_test(tc, test_bad_payloads);
	tcase_add_test(tc, test_envelope_limit);
	tcase_add_test(tc, test_envelope_prefix_over_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_written);
	tcase_add_test(tc, test_begin_seq);
	tcase_add_test(tc, test_begin_digits);
	tcase_add_test(tc, test_parse_python_style);
	tcase_add_test(tc, test_parse_kitchen_null_and_int_time);
	tcase_add_test(tc, test_parse_minimal);
	tcase_add_test(tc, test_parse_big_integer);
	tcase_add_loop_test(tc, test_parse_rejects, 0, (int)(sizeof(bad_docs) / sizeof(bad_docs[0])));
	tcase_add_test(tc, test_parse_length_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("compact");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_compact_order);
	tcase_add_test(tc, test_compact_roundtrip);
	tcase_add_test(tc, test_compact_deep);
	tcase_add_test(tc, test_json_write_into_envelope);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(envelope_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
