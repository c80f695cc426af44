/* SPDX-License-Identifier: MIT */
/*
 * test_tlshello - TLSClientHelloChef in the real kitchen core: ClientHellos
 * with GREASE give the JA3 string and MD5 computed independently (the hashes
 * below were computed with Python's hashlib, and one is the example
 * published with JA3 itself), ServerHellos, the server_hello option, and
 * hellos cut short.
 *
 * Usage: test_tlshello TLSHELLO_SO
 */
#include "chef_harness.h"

#define CLIENT "{\"ip\":\"192.0.2.1\",\"port\":40000}"
#define SERVER "{\"ip\":\"192.0.2.2\",\"port\":443}"

/* ------------------------------------------------------------------------ */
/* Building hellos (RFC 8446 4.1.2, 4.2; RFC 5246 7.4.1.2)                   */
/* ------------------------------------------------------------------------ */

struct ext {
	uint16_t type;
	const uint8_t *data;
	size_t len;
};

/*
 * A TLS record holding one hello of type (1 client, 2 server) into m:
 * version is client_version / legacy_version; ciphers (n) are the offered
 * suites, or for a ServerHello the one chosen (ciphers[0]).
 */
static void hello(struct hframe *m, uint8_t type, uint16_t version, const uint16_t *ciphers,
		  size_t n, const struct ext *exts, size_t n_exts)
{
	size_t rec_len_at, hs_len_at, ext_len_at;

	m->len = 0;
	h_put8(m, 22);                      /* handshake */
	h_put16(m, 0x0301);
	rec_len_at = m->len;
	h_put16(m, 0);
	h_put8(m, type);
	hs_len_at = m->len;
	h_put8(m, 0);
	h_put16(m, 0);
	h_put16(m, version);
	for (int i = 0; i < 32; i++)
		h_put8(m, (uint8_t)i);          /* random */
	h_put8(m, 0);                       /* empty session id */
	if (type == 1) {
		h_put16(m, (uint16_t)(2 * n));
		for (size_t i = 0; i < n; i++)
			h_put16(m, ciphers[i]);
		h_put8(m, 1);               /* compression methods: null */
		h_put8(m, 0);
	} else {
		h_put16(m, ciphers[0]);
		h_put8(m, 0);
	}
	if (exts) {
		ext_len_at = m->len;
		h_put16(m, 0);
		for (size_t i = 0; i < n_exts; i++) {
			h_put16(m, exts[i].type);
			h_put16(m, (uint16_t)exts[i].len);
			h_putn(m, exts[i].data, exts[i].len);
		}
		h_set16(m, ext_len_at, (uint16_t)(m->len - ext_len_at - 2));
	}
	h_set16(m, rec_len_at, (uint16_t)(m->len - rec_len_at - 2));
	m->b[hs_len_at] = 0;
	h_set16(m, hs_len_at + 1, (uint16_t)(m->len - hs_len_at - 3));
}

/* Send len bytes of the record in m over TCP, client to server or back. */
static void send_record(const struct hframe *m, size_t len, bool from_client)
{
	struct h_ipv4 ip = { .id = 7, .ttl = 64, .proto = 6 };
	struct h_tcp t = { .seq = 1, .ack = 1, .flags = 0x18, .window = 512 };
	struct hframe f;

	memcpy(ip.src, from_client ? IP_A : IP_B, 4);
	memcpy(ip.dst, from_client ? IP_B : IP_A, 4);
	t.sport = from_client ? 40000 : 443;
	t.dport = from_client ? 443 : 40000;
	h_eth(&f, from_client ? MAC_B : MAC_A, from_client ? MAC_A : MAC_B, 0x0800, NULL);
	h_ipv4(&f, &ip);
	h_tcp(&f, &t, m->b, len);
	h_ip_done(&f);
	h_feed(&f, T1);
}

/* A modern ClientHello with GREASE in the ciphers, extensions, groups and versions. */
static void grease_client_hello(struct hframe *m)
{
	static const uint16_t ciphers[] = { 0x0a0a, 0x1301, 0x1302, 0xc02b, 0x002f };
	static const uint8_t sni[] = { 0, 19, 0, 0, 16, 'w', 'w', 'w', '.', 'e', 'x', 'a', 'm',
				       'p', 'l', 'e', '.', 't', 'e', 's', 't' };
	static const uint8_t groups[] = { 0, 6, 0x2a, 0x2a, 0x00, 0x1d, 0x00, 0x17 };
	static const uint8_t points[] = { 1, 0 };
	static const uint8_t alpn[] = { 0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1',
					'.', '1' };
	static const uint8_t versions[] = { 6, 0x3a, 0x3a, 0x03, 0x04, 0x03, 0x03 };
	static const uint8_t one_zero[] = { 0 };
	const struct ext exts[] = {
		{ 0x1a1a, NULL, 0 },
		{ 0, sni, sizeof(sni) },
		{ 10, groups, sizeof(groups) },
		{ 11, points, sizeof(points) },
		{ 16, alpn, sizeof(alpn) },
		{ 43, versions, sizeof(versions) },
		{ 0x4a4a, one_zero, sizeof(one_zero) },
	};

	hello(m, 1, 0x0303, ciphers, 5, exts, 7);
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(client_hello_with_grease)
{
	struct hframe m;

	harness_start(chef_so, NULL);
	grease_client_hello(&m);
	send_record(&m, m.len, true);
	ck_assert_uint_eq(H.n, 1);
	/* md5("771,4865-4866-49195-47,0-10-11-16-43,29-23,0") per Python's hashlib. */
	harness_assert(0, T1,
		"{\"kind\":\"client_hello\",\"time\":" T1S ",\"client\":" CLIENT
		",\"server\":" SERVER ",\"sni\":\"www.example.test\",\"version\":\"TLS 1.3\","
		"\"legacy_version\":\"TLS 1.2\",\"alpn\":[\"h2\",\"http/1.1\"],"
		"\"ciphers\":[2570,4865,4866,49195,47],"
		"\"extensions\":[6682,0,10,11,16,43,19018],\"groups\":[10794,29,23],"
		"\"point_formats\":[0],"
		"\"ja3\":\"771,4865-4866-49195-47,0-10-11-16-43,29-23,0\","
		"\"ja3_hash\":\"368fe4a5307164a8b088f46b3e738d48\",\"error\":null}");
	harness_stop();
}
END_TEST

START_TEST(ja3_published_example)
{
	/* The example in JA3's own documentation: its hash is ada70206e40642a3e4461f35503241d5. */
	static const uint16_t ciphers[] = { 47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56,
					    19, 4 };
	static const uint8_t sni[] = { 0, 6, 0, 0, 3, 'a', '.', 'b' };
	static const uint8_t groups[] = { 0, 6, 0, 23, 0, 24, 0, 25 };
	static const uint8_t points[] = { 1, 0 };
	const struct ext exts[] = {
		{ 0, sni, sizeof(sni) },
		{ 10, groups, sizeof(groups) },
		{ 11, points, sizeof(points) },
	};
	struct hframe m;
	json_t *root;
	const char *ja3, *hash;

	harness_start(chef_so, NULL);
	hello(&m, 1, 0x0301, ciphers, 12, exts, 3);
	send_record(&m, m.len, true);
	ck_assert_uint_eq(H.n, 1);
	root = json_loads(H.dumplings[0], 0, NULL);
	ck_assert_ptr_nonnull(root);
	ja3 = json_string_value(json_object_get(json_object_get(root, "payload"), "ja3"));
	hash = json_string_value(json_object_get(json_object_get(root, "payload"), "ja3_hash"));
	ck_assert_str_eq(ja3, "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0");
	ck_assert_str_eq(hash, "ada70206e40642a3e4461f35503241d5");
	json_decref(root);
	harness_stop();
}
END_TEST

START_TEST(old_hello_without_extensions)
{
	static const uint16_t ciphers[] = { 0x002f, 0x0035 };
	struct hframe m;

	harness_start(chef_so, NULL);
	hello(&m, 1, 0x0301, ciphers, 2, NULL, 0);
	send_record(&m, m.len, true);
	ck_assert_uint_eq(H.n, 1);
	/* md5("769,47-53,,,") per Python's hashlib. */
	harness_assert(0, T1,
		"{\"kind\":\"client_hello\",\"time\":" T1S ",\"client\":" CLIENT
		",\"server\":" SERVER ",\"sni\":null,\"version\":\"TLS 1.0\","
		"\"legacy_version\":\"TLS 1.0\",\"alpn\":[],\"ciphers\":[47,53],"
		"\"extensions\":[],\"groups\":[],\"point_formats\":[],"
		"\"ja3\":\"769,47-53,,,\",\"ja3_hash\":\"dac4920d4335e769327dbf4e1b759e15\","
		"\"error\":null}");
	harness_stop();
}
END_TEST

START_TEST(unknown_version_in_hex)
{
	static const uint16_t ciphers[] = { 0x1301 };
	static const uint8_t versions[] = { 2, 0x7f, 0x1c };
	const struct ext exts[] = { { 43, versions, sizeof(versions) } };
	struct hframe m;

	harness_start(chef_so, NULL);
	hello(&m, 1, 0x0303, ciphers, 1, exts, 1);
	send_record(&m, m.len, true);
	ck_assert_uint_eq(H.n, 1);
	ck_assert_ptr_nonnull(strstr(H.dumplings[0], "\"version\":\"0x7f1c\","
				     "\"legacy_version\":\"TLS 1.2\""));
	harness_stop();
}
END_TEST

START_TEST(server_hello)
{
	static const uint16_t cipher[] = { 0x1301 };
	static const uint8_t version[] = { 0x03, 0x04 };
	static const uint8_t alpn[] = { 0, 3, 2, 'h', '2' };
	const struct ext exts[] = {
		{ 43, version, sizeof(version) },
		{ 16, alpn, sizeof(alpn) },
	};
	struct hframe m;

	harness_start(chef_so, NULL);
	hello(&m, 2, 0x0303, cipher, 1, exts, 2);
	send_record(&m, m.len, false);
	ck_assert_uint_eq(H.n, 1);
	harness_assert(0, T1,
		"{\"kind\":\"server_hello\",\"time\":" T1S ",\"client\":" CLIENT
		",\"server\":" SERVER ",\"version\":\"TLS 1.3\",\"cipher\":4865,"
		"\"alpn\":\"h2\",\"error\":null}");
	harness_stop();
}
END_TEST

START_TEST(server_hello_option_off)
{
	static const char *const opts[] = { "TLSClientHelloChef.server_hello=false", NULL };
	static const uint16_t cipher[] = { 0x002f };
	struct hframe m;

	harness_start(chef_so, opts);
	hello(&m, 2, 0x0303, cipher, 1, NULL, 0);
	send_record(&m, m.len, false);
	ck_assert_uint_eq(H.n, 0);
	grease_client_hello(&m);
	send_record(&m, m.len, true);
	ck_assert_uint_eq(H.n, 1);
	ck_assert_ptr_nonnull(strstr(H.dumplings[0], "\"kind\":\"client_hello\""));
	harness_stop();
}
END_TEST

START_TEST(cut_hello_has_no_fingerprint)
{
	struct hframe m;
	json_t *root, *p;

	harness_start(chef_so, NULL);
	grease_client_hello(&m);
	send_record(&m, m.len - 10, true);   /* the rest would come in the next segment */
	ck_assert_uint_eq(H.n, 1);
	root = json_loads(H.dumplings[0], 0, NULL);
	ck_assert_ptr_nonnull(root);
	p = json_object_get(root, "payload");
	ck_assert_str_eq(json_string_value(json_object_get(p, "kind")), "client_hello");
	ck_assert_str_eq(json_string_value(json_object_get(p, "error")), "truncated");
	ck_assert(json_is_null(json_object_get(p, "ja3")));
	ck_assert(json_is_null(json_object_get(p, "ja3_hash")));
	json_decref(root);
	ck_assert_uint_eq(harness_counter("incomplete_hellos"), 1);
	harness_stop();
}
END_TEST

START_TEST(ignores_other_traffic)
{
	static const uint8_t app_data[] = { 23, 3, 3, 0, 2, 0xaa, 0xbb };
	struct hframe m = { .len = 0 };

	harness_start(chef_so, NULL);
	h_putn(&m, app_data, sizeof(app_data));
	send_record(&m, m.len, true);
	ck_assert_uint_eq(H.n, 0);
	harness_stop();
}
END_TEST

static Suite *tlshello_suite(void)
{
	Suite *s = suite_create("tlshello");
	TCase *tc = tcase_create("tlshello");

	tcase_add_test(tc, client_hello_with_grease);
	tcase_add_test(tc, ja3_published_example);
	tcase_add_test(tc, old_hello_without_extensions);
	tcase_add_test(tc, unknown_version_in_hex);
	tcase_add_test(tc, server_hello);
	tcase_add_test(tc, server_hello_option_off);
	tcase_add_test(tc, cut_hello_has_no_fingerprint);
	tcase_add_test(tc, ignores_other_traffic);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	return harness_main(argc, argv, "TLSHELLO_SO", tlshello_suite);
}
