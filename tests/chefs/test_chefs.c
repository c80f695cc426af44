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
#define DLT_NULL 0
#define DLT_LINUX_SLL 113
#define DLT_USER0 147

/* Capture times and how the writer must print them. */
#define T1 1795322030150690000LL
#define T1S "1795322030.150690"
#define T2 1795322031000001000LL
#define T2S "1795322031.000001"
#define T3 1795322032250000000LL
#define T3S "1795322032.250000"
#define T4 1795322033999999000LL
#define T4S "1795322033.999999"
#define T5 1795322034000000000LL
#define T5S "1795322034.000000"

static const char *dnslookup_so;
static const char *arp_so;
static const char *packetcount_so;

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

/* Load the chef at path into a new kitchen, after setting options (NULL-ended). */
static void start_chef(const char *path, const char *const *options)
{
	struct ndl_sink sink = { .write = sink_write, .arg = NULL };
	char err[256] = "";
	int r;

	forget_dumplings();
	r = ndl__chef_module_open(path, &mod, err, sizeof(err));
	ck_assert_msg(r == 0, "cannot open %s: %s", path, err);
	k = ndl__kitchen_new(KITCHEN_NAME, sink);
	ck_assert_ptr_nonnull(k);
	for (size_t i = 0; options && options[i]; i++) {
		r = ndl__kitchen_set_option(k, options[i], err, sizeof(err));
		ck_assert_msg(r == 0, "option %s refused: %s", options[i], err);
	}
	r = ndl__kitchen_add_chef(k, mod, err, sizeof(err));
	ck_assert_msg(r == 0, "cannot add %s: %s", path, err);
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
	bool found;
};

static void counter_cb(void *arg, const char *chef, const char *counter, uint64_t value)
{
	struct counter_query *q = arg;

	if (strcmp(counter, q->name) == 0) {
		q->value = value;
		q->found = true;
	}
}

/* The chef's counter name, 0 when it was never reported. */
static uint64_t chef_counter(const char *name)
{
	struct counter_query q = { .name = name };

	ndl__kitchen_foreach_chef_counter(k, counter_cb, &q);
	return q.found ? q.value : 0;
}

/*
 * Dumpling i was made by chef for driver at creation time t (nanoseconds)
 * and its payload, as written, is exactly payload.
 */
static void assert_dumpling(size_t i, const char *chef, const char *driver,
			    ndl_time_ns t, const char *payload)
{
	const char *doc, *p;
	json_error_t jerr;
	json_t *root, *md, *want;
	size_t plen;

	ck_assert_msg(i < n_dumplings, "dumpling %zu missing: only %zu made", i, n_dumplings);
	doc = dumplings[i];
	root = json_loads(doc, 0, &jerr);
	ck_assert_msg(root != NULL, "dumpling %zu is not JSON (%s): %s", i, jerr.text, doc);
	md = json_object_get(root, "metadata");
	ck_assert_msg(json_is_object(md), "no metadata: %s", doc);
	ck_assert_str_eq(json_string_value(json_object_get(md, "chef")), chef);
	ck_assert_str_eq(json_string_value(json_object_get(md, "kitchen")), KITCHEN_NAME);
	ck_assert_str_eq(json_string_value(json_object_get(md, "driver")), driver);
	ck_assert_msg(json_is_number(json_object_get(md, "creation_time")),
		      "creation_time not a number: %s", doc);
	ck_assert_msg(fabs(json_number_value(json_object_get(md, "creation_time")) -
			   (double)t / 1e9) < 1e-6,
		      "creation_time is not %lld ns: %s", (long long)t, doc);
	ck_assert_uint_eq(drivers[i], strcmp(driver, "packet") == 0 ?
			  NDL_DRIVER_PACKET : NDL_DRIVER_INTERVAL);

	/* The payload as parsed equals the expected one... */
	want = json_loads(payload, 0, &jerr);
	ck_assert_msg(want != NULL, "expected payload is not JSON: %s", payload);
	ck_assert_msg(json_equal(json_object_get(root, "payload"), want),
		      "dumpling %zu payload differs:\n  got  %s\n  want %s", i, doc, payload);
	json_decref(want);
	json_decref(root);

	/* ...and was written byte for byte so (the payload is the last member). */
	p = strstr(doc, "\"payload\":");
	ck_assert_ptr_nonnull(p);
	p += strlen("\"payload\":");
	plen = strlen(p);
	ck_assert_msg(plen > 0 && p[plen - 1] == '}', "envelope not closed: %s", doc);
	ck_assert_msg(plen - 1 == strlen(payload) && memcmp(p, payload, plen - 1) == 0,
		      "dumpling %zu payload bytes differ:\n  got  %.*s\n  want %s",
		      i, (int)(plen - 1), p, payload);
}

/* ------------------------------------------------------------------------ */
/* Frames                                                                    */
/* ------------------------------------------------------------------------ */

struct frame {
	uint8_t b[2048];
	size_t len;
	size_t ip_off;        /* start of the IP header, for lengths */
};

static const uint8_t MAC_A[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b };
static const uint8_t MAC_C[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0c };
static const uint8_t MAC_ZERO[6] = { 0 };
static const uint8_t IP_A[4] = { 192, 0, 2, 1 };
static const uint8_t IP_B[4] = { 192, 0, 2, 2 };
static const uint8_t IP_C[4] = { 192, 0, 2, 3 };
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

/* Ethernet II (IEEE 802.3 clause 3) with n_tags 802.1Q/802.1ad tags. */
static void eth(struct frame *f, const uint8_t dst[6], const uint8_t src[6],
		uint16_t ethertype, int n_tags)
{
	f->len = 0;
	putn(f, dst, 6);
	putn(f, src, 6);
	if (n_tags == 2) {
		put16(f, 0x88a8);     /* service tag, VID 100 */
		put16(f, 100);
	}
	if (n_tags >= 1) {
		put16(f, 0x8100);     /* customer tag, VID 42 */
		put16(f, 42);
	}
	put16(f, ethertype);
}

static uint16_t ip_checksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* IPv4 header (RFC 791) for l4len bytes of transport. */
static void ipv4(struct frame *f, uint8_t proto, size_t l4len)
{
	size_t start = f->len;
	uint16_t sum;

	f->ip_off = start;
	put8(f, 0x45);
	put8(f, 0);
	put16(f, (uint16_t)(20 + l4len));
	put16(f, 0x1234);
	put16(f, 0x4000);             /* DF */
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	putn(f, IP_A, 4);
	putn(f, IP_B, 4);
	sum = ip_checksum(f->b + start, 20);
	f->b[start + 10] = (uint8_t)(sum >> 8);
	f->b[start + 11] = (uint8_t)sum;
}

/* IPv6 header (RFC 8200) for l4len bytes of transport. */
static void ipv6(struct frame *f, uint8_t next, size_t l4len)
{
	f->ip_off = f->len;
	put32(f, 0x60000000);
	put16(f, (uint16_t)l4len);
	put8(f, next);
	put8(f, 64);
	putn(f, IP6_A, 16);
	putn(f, IP6_B, 16);
}

/* UDP (RFC 768); checksum 0: not computed. */
static void udp(struct frame *f, uint16_t sport, uint16_t dport,
		const uint8_t *payload, size_t n)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, (uint16_t)(8 + n));
	put16(f, 0);
	putn(f, payload, n);
}

/* TCP (RFC 9293) without options. */
static void tcp(struct frame *f, uint16_t sport, uint16_t dport, uint8_t flags,
		const uint8_t *payload, size_t n)
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
	putn(f, payload, n);
}

/* ICMP or ICMPv6 echo request without data. */
static void icmp_echo(struct frame *f, uint8_t type)
{
	put8(f, type);
	put8(f, 0);
	put16(f, 0);
	put32(f, 0x00010001);
}

/* ARP for Ethernet and IPv4 (RFC 826). */
static void arp(struct frame *f, uint16_t op, const uint8_t sha[6], const uint8_t spa[4],
		const uint8_t tha[6], const uint8_t tpa[4])
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	eth(f, op == 1 ? bcast : tha, sha, 0x0806, 0);
	put16(f, 1);
	put16(f, 0x0800);
	put8(f, 6);
	put8(f, 4);
	put16(f, op);
	putn(f, sha, 6);
	putn(f, spa, 4);
	putn(f, tha, 6);
	putn(f, tpa, 4);
}

/*
 * A DNS message (RFC 1035 section 4.1) asking for an A record of qname
 * (no question when qname is NULL); a response carries one A answer that
 * points back at the question's name. With tcp, the two-byte length
 * prefix of RFC 7766 comes first. Returns the length written into out.
 */
static size_t dns_message(uint8_t *out, size_t cap, bool tcp_prefix, bool response,
			  const char *qname)
{
	struct frame m = { .len = 0 };

	if (tcp_prefix)
		put16(&m, 0);
	put16(&m, 0xbeef);
	put16(&m, response ? 0x8180 : 0x0100);
	put16(&m, qname ? 1 : 0);
	put16(&m, response && qname ? 1 : 0);
	put16(&m, 0);
	put16(&m, 0);
	if (qname) {
		const char *s = qname;

		while (*s) {
			const char *dot = strchr(s, '.');
			size_t n = dot ? (size_t)(dot - s) : strlen(s);

			put8(&m, (uint8_t)n);
			putn(&m, (const uint8_t *)s, n);
			s += n;
			if (*s == '.')
				s++;
		}
		put8(&m, 0);
		put16(&m, 1);         /* A */
		put16(&m, 1);         /* IN */
		if (response) {
			put16(&m, 0xc00c);  /* pointer to the question name at offset 12 */
			put16(&m, 1);
			put16(&m, 1);
			put32(&m, 300);
			put16(&m, 4);
			putn(&m, (const uint8_t[]){ 192, 0, 2, 80 }, 4);
		}
	}
	if (tcp_prefix) {
		m.b[0] = (uint8_t)((m.len - 2) >> 8);
		m.b[1] = (uint8_t)(m.len - 2);
	}
	ck_assert_uint_le(m.len, cap);
	memcpy(out, m.b, m.len);
	return m.len;
}

/* An Ethernet/IPv4/UDP frame carrying a DNS message about qname. */
static void frame_dns_udp(struct frame *f, bool response, const char *qname)
{
	uint8_t msg[512];
	size_t n = dns_message(msg, sizeof(msg), false, response, qname);

	eth(f, MAC_B, MAC_A, 0x0800, 0);
	ipv4(f, 17, 8 + n);
	if (response)
		udp(f, 53, 40000, msg, n);
	else
		udp(f, 40000, 53, msg, n);
}

static void frame_dns_tcp(struct frame *f, const char *qname)
{
	uint8_t msg[512];
	size_t n = dns_message(msg, sizeof(msg), true, false, qname);

	eth(f, MAC_B, MAC_A, 0x0800, 0);
	ipv4(f, 6, 20 + n);
	tcp(f, 40001, 53, 0x18, msg, n);
}

/* Append dotted name in wire form (RFC 1035 3.1), uncompressed. */
static void put_name(struct frame *m, const char *name)
{
	const char *s = name;

	while (*s) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);

		put8(m, (uint8_t)n);
		putn(m, (const uint8_t *)s, n);
		s += n;
		if (*s == '.')
			s++;
	}
	put8(m, 0);
}

/* An answer record for dns_custom(); rdata NULL means the name in rname. */
struct test_rr {
	const char *name;
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata;
	size_t rdlen;
	const char *rname;
};

/*
 * A DNS message with the given flags word, one question (qname, qtype,
 * class IN), the answers an[0..n_an), and, when edns, an OPT record
 * (RFC 6891 6.1.2) whose TTL carries ext_rcode, in an Ethernet/IPv4/UDP
 * frame from port 53 (a response) or to it (a query).
 */
static void frame_dns_custom(struct frame *f, uint16_t flags, const char *qname, uint16_t qtype,
			     const struct test_rr *an, size_t n_an, bool edns, uint8_t ext_rcode)
{
	struct frame m = { .len = 0 };

	put16(&m, 0x1234);
	put16(&m, flags);
	put16(&m, 1);
	put16(&m, (uint16_t)n_an);
	put16(&m, 0);
	put16(&m, edns ? 1 : 0);
	put_name(&m, qname);
	put16(&m, qtype);
	put16(&m, 1);
	for (size_t i = 0; i < n_an; i++) {
		size_t len_at;

		put_name(&m, an[i].name);
		put16(&m, an[i].type);
		put16(&m, 1);
		put32(&m, an[i].ttl);
		len_at = m.len;
		put16(&m, 0);
		if (an[i].rdata)
			putn(&m, an[i].rdata, an[i].rdlen);
		else
			put_name(&m, an[i].rname);
		m.b[len_at] = (uint8_t)((m.len - len_at - 2) >> 8);
		m.b[len_at + 1] = (uint8_t)(m.len - len_at - 2);
	}
	if (edns) {
		put8(&m, 0);               /* root */
		put16(&m, 41);             /* OPT */
		put16(&m, 1232);           /* UDP payload size */
		put32(&m, (uint32_t)ext_rcode << 24);
		put16(&m, 0);
	}
	eth(f, MAC_B, MAC_A, 0x0800, 0);
	ipv4(f, 17, 8 + m.len);
	if (flags & 0x8000)
		udp(f, 53, 40000, m.b, m.len);
	else
		udp(f, 40000, 53, m.b, m.len);
}

static void feed(const struct frame *f, ndl_time_ns ts)
{
	ndl__kitchen_packet(k, DLT_EN10MB, f->b, (uint32_t)f->len, (uint32_t)f->len, ts);
}

static void feed_dns_query(const char *qname, ndl_time_ns ts)
{
	struct frame f;

	frame_dns_udp(&f, false, qname);
	feed(&f, ts);
}

/* ------------------------------------------------------------------------ */
/* DNSLookupChef                                                             */
/* ------------------------------------------------------------------------ */

START_TEST(dns_query_makes_lookup)
{
	start_chef(dnslookup_so, NULL);
	feed_dns_query("www.example.com", T1);
	ck_assert_uint_eq(n_dumplings, 1);
	assert_dumpling(0, "DNSLookupChef", "packet", T1,
			"{\"lookup\":{\"hostname\":\"www.example.com\",\"when\":" T1S
			",\"qtype\":\"A\",\"is_response\":false,\"rcode\":null}}");
	stop_chef();
}
END_TEST

START_TEST(dns_response_counts_as_lookup)
{
	struct frame f;

	start_chef(dnslookup_so, NULL);
	feed_dns_query("www.example.com", T1);
	frame_dns_udp(&f, true, "www.example.com");
	feed(&f, T2);
	ck_assert_uint_eq(n_dumplings, 2);
	assert_dumpling(1, "DNSLookupChef", "packet", T2,
			"{\"lookup\":{\"hostname\":\"www.example.com\",\"when\":" T2S
			",\"qtype\":\"A\",\"is_response\":true,\"rcode\":\"NOERROR\","
			"\"answers\":[{\"name\":\"www.example.com\",\"type\":\"A\","
			"\"ttl\":300,\"data\":\"192.0.2.80\"}]}}");
	ndl__kitchen_interval(k);
	ck_assert_uint_eq(n_dumplings, 3);
	assert_dumpling(2, "DNSLookupChef", "interval", T2,
			"{\"lookups_seen\":{\"www.example.com\":{\"count\":2,\"latest\":" T2S "}}}");
	stop_chef();
}
END_TEST

START_TEST(dns_over_tcp)
{
	struct frame f;

	start_chef(dnslookup_so, NULL);
	frame_dns_tcp(&f, "tcp.example.org");
	feed(&f, T3);
	ck_assert_uint_eq(n_dumplings, 1);
	assert_dumpling(0, "DNSLookupChef", "packet", T3,
			"{\"lookup\":{\"hostname\":\"tcp.example.org\",\"when\":" T3S
			",\"qtype\":\"A\",\"is_response\":false,\"rcode\":null}}");
	stop_chef();
}
END_TEST

START_TEST(dns_response_without_answers)
{
	struct frame f;

	start_chef(dnslookup_so, NULL);
	/* NXDOMAIN to an AAAA query: QR, RD, RA, RCODE 3. */
	frame_dns_custom(&f, 0x8183, "gone.example", 28, NULL, 0, false, 0);
	feed(&f, T1);
	ck_assert_uint_eq(n_dumplings, 1);
	assert_dumpling(0, "DNSLookupChef", "packet", T1,
			"{\"lookup\":{\"hostname\":\"gone.example\",\"when\":" T1S
			",\"qtype\":\"AAAA\",\"is_response\":true,\"rcode\":\"NXDOMAIN\","
			"\"answers\":[]}}");
	stop_chef();
}
END_TEST

START_TEST(dns_response_answers_in_order)
{
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0x00, [15] = 0x80 };
	static const uint8_t blob[2] = { 0xde, 0xad };
	const struct test_rr an[] = {
		{ .name = "www.example.com", .type = 5, .ttl = 60, .rname = "cdn.example.net" },
		{ .name = "cdn.example.net", .type = 28, .ttl = 20, .rdata = v6, .rdlen = 16 },
		{ .name = "cdn.example.net", .type = 65280, .ttl = 0, .rdata = blob, .rdlen = 2 },
	};
	struct frame f;

	start_chef(dnslookup_so, NULL);
	/* A private-use qtype, answered with a CNAME, an AAAA and a record
	 * of that type (rendered as "": the kitchen shows no RDATA for it). */
	frame_dns_custom(&f, 0x8180, "www.example.com", 65280, an, 3, false, 0);
	feed(&f, T2);
	ck_assert_uint_eq(n_dumplings, 1);
	assert_dumpling(0, "DNSLookupChef", "packet", T2,
			"{\"lookup\":{\"hostname\":\"www.example.com\",\"when\":" T2S
			",\"qtype\":\"TYPE65280\",\"is_response\":true,\"rcode\":\"NOERROR\","
			"\"answers\":["
			"{\"name\":\"www.example.com\",\"type\":\"CNAME\",\"ttl\":60,"
			"\"data\":\"cdn.example.net\"},"
			"{\"name\":\"cdn.example.net\",\"type\":\"AAAA\",\"ttl\":20,"
			"\"data\":\"2001:db8::80\"},"
			"{\"name\":\"cdn.example.net\",\"type\":\"TYPE65280\",\"ttl\":0,"
			"\"data\":\"\"}]}}");
	stop_chef();
}
END_TEST

START_TEST(dns_rcode_names_and_numbers)
{
	struct frame f;

	start_chef(dnslookup_so, NULL);
	/* REFUSED. */
	frame_dns_custom(&f, 0x8185, "a.example", 1, NULL, 0, false, 0);
	feed(&f, T1);
	/* RCODE 12 has no mnemonic: the number. */
	frame_dns_custom(&f, 0x818c, "b.example", 16, NULL, 0, false, 0);
	feed(&f, T2);
	/* EDNS extends RCODE 0 with upper bits 1: 16, BADVERS (RFC 6891 9). */
	frame_dns_custom(&f, 0x8180, "c.example", 15, NULL, 0, true, 1);
	feed(&f, T3);
	ck_assert_uint_eq(n_dumplings, 3);
	assert_dumpling(0, "DNSLookupChef", "packet", T1,
			"{\"lookup\":{\"hostname\":\"a.example\",\"when\":" T1S
			",\"qtype\":\"A\",\"is_response\":true,\"rcode\":\"REFUSED\","
			"\"answers\":[]}}");
	assert_dumpling(1, "DNSLookupChef", "packet", T2,
			"{\"lookup\":{\"hostname\":\"b.example\",\"when\":" T2S
			",\"qtype\":\"TXT\",\"is_response\":true,\"rcode\":12,"
			"\"answers\":[]}}");
	assert_dumpling(2, "DNSLookupChef", "packet", T3,
			"{\"lookup\":{\"hostname\":\"c.example\",\"when\":" T3S
			",\"qtype\":\"MX\",\"is_response\":true,\"rcode\":\"BADVERS\","
			"\"answers\":[]}}");
	stop_chef();
}
END_TEST

START_TEST(dns_interval_when_empty)
{
	start_chef(dnslookup_so, NULL);
	ndl__kitchen_interval(k);
	ck_assert_uint_eq(n_dumplings, 1);
	assert_dumpling(0, "DNSLookupChef", "interval", 0, "{\"lookups_seen\":{}}");
	stop_chef();
}
END_TEST

START_TEST(dns_ignores_other_packets)
{
	struct frame f;
	uint8_t msg[512];
	size_t n;

	start_chef(dnslookup_so, NULL);
	/* A message without a question. */
	frame_dns_udp(&f, false, NULL);
	feed(&f, T1);
	/* DNS-shaped bytes on a port that is not DNS's. */
	n = dns_message(msg, sizeof(msg), false, false, "www.example.com");
	eth(&f, MAC_B, MAC_A, 0x0800, 0);
	ipv4(&f, 17, 8 + n);
	udp(&f, 40000, 9999, msg, n);
	feed(&f, T2);
	/* ARP. */
	arp(&f, 1, MAC_A, IP_A, MAC_ZERO, IP_B);
	feed(&f, T3);
	ck_assert_uint_eq(n_dumplings, 0);
	ndl__kitchen_interval(k);
	assert_dumpling(0, "DNSLookupChef", "interval", T3, "{\"lookups_seen\":{}}");
	stop_chef();
}
END_TEST

START_TEST(dns_interval_in_first_seen_order)
{
	start_chef(dnslookup_so, NULL);
	feed_dns_query("b.example", T1);
	feed_dns_query("a.example", T2);
	feed_dns_query("b.example", T3);
	ck_assert_uint_eq(n_dumplings, 3);
	ndl__kitchen_interval(k);
	assert_dumpling(3, "DNSLookupChef", "interval", T3,
			"{\"lookups_seen\":{"
			"\"b.example\":{\"count\":2,\"latest\":" T3S "},"
			"\"a.example\":{\"count\":1,\"latest\":" T2S "}}}");
	stop_chef();
}
END_TEST

START_TEST(dns_evicts_least_recently_seen)
{
	static const char *const opts[] = { "DNSLookupChef.max_hosts=2", NULL };

	start_chef(dnslookup_so, opts);
	feed_dns_query("a.example", T1);
	feed_dns_query("b.example", T2);
	feed_dns_query("a.example", T3);   /* a is now the most recent */
	ck_assert_uint_eq(chef_counter("evictions"), 0);
	feed_dns_query("c.example", T4);   /* evicts b */
	ck_assert_uint_eq(chef_counter("evictions"), 1);
	ndl__kitchen_interval(k);
	ck_assert_uint_eq(n_dumplings, 5);
	assert_dumpling(4, "DNSLookupChef", "interval", T4,
			"{\"lookups_seen\":{"
			"\"a.example\":{\"count\":2,\"latest\":" T3S "},"
			"\"c.example\":{\"count\":1,\"latest\":" T4S "}}}");
	feed_dns_query("b.example", T5);   /* evicts a, b starts over */
	ck_assert_uint_eq(chef_counter("evictions"), 2);
	ndl__kitchen_interval(k);
	assert_dumpling(6, "DNSLookupChef", "interval", T5,
			"{\"lookups_seen\":{"
			"\"c.example\":{\"count\":1,\"latest\":" T4S "},"
			"\"b.example\":{\"count\":1,\"latest\":" T5S "}}}");
	stop_chef();
}
END_TEST

START_TEST(dns_many_hosts_stay_bounded)
{
	static const char *const opts[] = { "DNSLookupChef.max_hosts=100", NULL };
	char name[64];

	start_chef(dnslookup_so, opts);
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "host%d.example", i);
		feed_dns_query(name, T1 + i);
		if (n_dumplings > MAX_DUMPLINGS / 2)
			forget_dumplings();
	}
	ck_assert_uint_eq(chef_counter("evictions"), 900);
	forget_dumplings();
	ndl__kitchen_interval(k);
	ck_assert_uint_eq(n_dumplings, 1);
	ck_assert_ptr_null(strstr(dumplings[0], "\"host899.example\""));
	ck_assert_ptr_nonnull(strstr(dumplings[0], "\"host900.example\""));
	ck_assert_ptr_nonnull(strstr(dumplings[0], "\"host999.example\""));
	stop_chef();
}
END_TEST

START_TEST(dns_rejects_bad_max_hosts)
{
	struct ndl_sink sink = { .write = sink_write };
	char err[256] = "";
	int r;

	r = ndl__chef_module_open(dnslookup_so, &mod, err, sizeof(err));
	ck_assert_msg(r == 0, "%s", err);
	k = ndl__kitchen_new(KITCHEN_NAME, sink);
	ck_assert_ptr_nonnull(k);
	r = ndl__kitchen_set_option(k, "DNSLookupChef.max_hosts=0", err, sizeof(err));
	if (r == 0)
		r = ndl__kitchen_add_chef(k, mod, err, sizeof(err));
	ck_assert_int_eq(r, -EINVAL);
	stop_chef();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* ARPChef                                                                   */
/* ------------------------------------------------------------------------ */

static void feed_arp(uint16_t op, const uint8_t sha[6], const uint8_t spa[4],
		     const uint8_t tha[6], const uint8_t tpa[4], ndl_time_ns ts)
{
	struct frame f;

	arp(&f, op, sha, spa, tha, tpa);
	feed(&f, ts);
}

START_TEST(arp_request)
{
	start_chef(arp_so, NULL);
	feed_arp(1, MAC_A, IP_A, MAC_ZERO, IP_B, T1);
	ck_assert_uint_eq(n_dumplings, 1);
	assert_dumpling(0, "ARPChef", "packet", T1,
			"{\"operation\":\"request\",\"src_hw\":\"02:00:00:00:00:0a\","
			"\"src_ip\":\"192.0.2.1\",\"dst_hw\":\"00:00:00:00:00:00\","
			"\"dst_ip\":\"192.0.2.2\",\"time\":" T1S ",\"notes\":null}");
	stop_chef();
}
END_TEST

START_TEST(arp_reply_notes)
{
	start_chef(arp_so, NULL);
	/* A device not heard from before. */
	feed_arp(2, MAC_B, IP_B, MAC_A, IP_A, T1);
	/* The same device again. */
	feed_arp(2, MAC_B, IP_B, MAC_A, IP_A, T2);
	/* Another MAC answering for the same IP. */
	feed_arp(2, MAC_C, IP_B, MAC_A, IP_A, T3);
	ck_assert_uint_eq(n_dumplings, 3);
	assert_dumpling(0, "ARPChef", "packet", T1,
			"{\"operation\":\"reply\",\"src_hw\":\"02:00:00:00:00:0b\","
			"\"src_ip\":\"192.0.2.2\",\"dst_hw\":\"02:00:00:00:00:0a\","
			"\"dst_ip\":\"192.0.2.1\",\"time\":" T1S
			",\"notes\":\"source device is new\"}");
	assert_dumpling(1, "ARPChef", "packet", T2,
			"{\"operation\":\"reply\",\"src_hw\":\"02:00:00:00:00:0b\","
			"\"src_ip\":\"192.0.2.2\",\"dst_hw\":\"02:00:00:00:00:0a\","
			"\"dst_ip\":\"192.0.2.1\",\"time\":" T2S ",\"notes\":null}");
	assert_dumpling(2, "ARPChef", "packet", T3,
			"{\"operation\":\"reply\",\"src_hw\":\"02:00:00:00:00:0c\","
			"\"src_ip\":\"192.0.2.2\",\"dst_hw\":\"02:00:00:00:00:0a\","
			"\"dst_ip\":\"192.0.2.1\",\"time\":" T3S
			",\"notes\":\"source device has new IP address\"}");
	stop_chef();
}
END_TEST

START_TEST(arp_requests_do_not_teach)
{
	start_chef(arp_so, NULL);
	feed_arp(1, MAC_C, IP_C, MAC_ZERO, IP_A, T1);
	feed_arp(2, MAC_C, IP_C, MAC_A, IP_A, T2);
	ck_assert_uint_eq(n_dumplings, 2);
	assert_dumpling(1, "ARPChef", "packet", T2,
			"{\"operation\":\"reply\",\"src_hw\":\"02:00:00:00:00:0c\","
			"\"src_ip\":\"192.0.2.3\",\"dst_hw\":\"02:00:00:00:00:0a\","
			"\"dst_ip\":\"192.0.2.1\",\"time\":" T2S
			",\"notes\":\"source device is new\"}");
	stop_chef();
}
END_TEST

START_TEST(arp_other_operation_is_a_number)
{
	start_chef(arp_so, NULL);
	feed_arp(3, MAC_A, IP_A, MAC_A, IP_A, T4);   /* RARP request */
	ck_assert_uint_eq(n_dumplings, 1);
	assert_dumpling(0, "ARPChef", "packet", T4,
			"{\"operation\":3,\"src_hw\":\"02:00:00:00:00:0a\","
			"\"src_ip\":\"192.0.2.1\",\"dst_hw\":\"02:00:00:00:00:0a\","
			"\"dst_ip\":\"192.0.2.1\",\"time\":" T4S ",\"notes\":null}");
	stop_chef();
}
END_TEST

START_TEST(arp_no_interval_dumplings_and_ignores_ip)
{
	start_chef(arp_so, NULL);
	feed_dns_query("www.example.com", T1);
	ndl__kitchen_interval(k);
	ck_assert_uint_eq(n_dumplings, 0);
	stop_chef();
}
END_TEST

START_TEST(arp_evicts_least_recently_heard)
{
	static const char *const opts[] = { "ARPChef.max_devices=2", NULL };

	start_chef(arp_so, opts);
	feed_arp(2, MAC_A, IP_A, MAC_B, IP_B, T1);
	feed_arp(2, MAC_B, IP_B, MAC_A, IP_A, T2);
	feed_arp(2, MAC_A, IP_A, MAC_B, IP_B, T3);   /* A most recent; no note */
	ck_assert_uint_eq(chef_counter("evictions"), 0);
	feed_arp(2, MAC_C, IP_C, MAC_A, IP_A, T4);   /* evicts B */
	ck_assert_uint_eq(chef_counter("evictions"), 1);
	feed_arp(2, MAC_A, IP_A, MAC_B, IP_B, T5);   /* A still known */
	ck_assert_uint_eq(n_dumplings, 5);
	ck_assert_ptr_nonnull(strstr(dumplings[2], "\"notes\":null"));
	ck_assert_ptr_nonnull(strstr(dumplings[3], "\"notes\":\"source device is new\""));
	ck_assert_ptr_nonnull(strstr(dumplings[4], "\"notes\":null"));
	feed_arp(2, MAC_B, IP_B, MAC_A, IP_A, T5);   /* B forgotten: new again, evicts C */
	ck_assert_uint_eq(chef_counter("evictions"), 2);
	ck_assert_ptr_nonnull(strstr(dumplings[5], "\"notes\":\"source device is new\""));
	stop_chef();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* PacketCountChef                                                           */
/* ------------------------------------------------------------------------ */

START_TEST(count_empty)
{
	start_chef(packetcount_so, NULL);
	ndl__kitchen_interval(k);
	ck_assert_uint_eq(n_dumplings, 1);
	assert_dumpling(0, "PacketCountChef", "interval", 0, "{\"packet_counts\":{}}");
	stop_chef();
}
END_TEST

START_TEST(count_layers)
{
	static const uint8_t data[] = "hello";
	struct frame f;

	start_chef(packetcount_so, NULL);
	/* Ethernet IP UDP DNS */
	feed_dns_query("www.example.com", T1);
	/* Ethernet IP TCP DNS */
	frame_dns_tcp(&f, "www.example.com");
	feed(&f, T1);
	/* Ethernet IP TCP Raw */
	eth(&f, MAC_B, MAC_A, 0x0800, 0);
	ipv4(&f, 6, 20 + 5);
	tcp(&f, 40002, 80, 0x18, data, 5);
	feed(&f, T1);
	/* Ethernet IP TCP Padding: a bare ACK padded to the 60-byte minimum */
	eth(&f, MAC_B, MAC_A, 0x0800, 0);
	ipv4(&f, 6, 20);
	tcp(&f, 40002, 80, 0x10, NULL, 0);
	while (f.len < 60)
		put8(&f, 0);
	feed(&f, T1);
	/* Ethernet IP ICMP */
	eth(&f, MAC_B, MAC_A, 0x0800, 0);
	ipv4(&f, 1, 8);
	icmp_echo(&f, 8);
	while (f.len < 60)    /* padding here too */
		put8(&f, 0);
	feed(&f, T1);
	/* Ethernet IP ICMP Raw: echo data is Raw, as scapy has it */
	eth(&f, MAC_B, MAC_A, 0x0800, 0);
	ipv4(&f, 1, 8 + 5);
	icmp_echo(&f, 0);
	putn(&f, data, 5);
	feed(&f, T1);
	/* Ethernet IPv6 UDP Raw */
	eth(&f, MAC_B, MAC_A, 0x86dd, 0);
	ipv6(&f, 17, 8 + 5);
	udp(&f, 40003, 9999, data, 5);
	feed(&f, T1);
	/* Ethernet IPv6 ICMPv6 */
	eth(&f, MAC_B, MAC_A, 0x86dd, 0);
	ipv6(&f, 58, 8);
	icmp_echo(&f, 128);
	feed(&f, T1);
	/* Ethernet ARP */
	arp(&f, 1, MAC_A, IP_A, MAC_ZERO, IP_B);
	feed(&f, T1);
	/* Ethernet 802.1Q IP UDP Raw */
	eth(&f, MAC_B, MAC_A, 0x0800, 1);
	ipv4(&f, 17, 8 + 5);
	udp(&f, 40004, 9999, data, 5);
	feed(&f, T1);
	/* Ethernet 802.1Q 802.1Q IP UDP (no payload) */
	eth(&f, MAC_B, MAC_A, 0x0800, 2);
	ipv4(&f, 17, 8);
	udp(&f, 40005, 9999, NULL, 0);
	feed(&f, T2);

	ck_assert_uint_eq(n_dumplings, 0);
	ndl__kitchen_interval(k);
	ck_assert_uint_eq(n_dumplings, 1);
	assert_dumpling(0, "PacketCountChef", "interval", T2,
			"{\"packet_counts\":{\"802.1Q\":3,\"ARP\":1,\"DNS\":2,"
			"\"Ethernet\":11,\"ICMP\":2,\"ICMPv6\":1,\"IP\":8,\"IPv6\":2,"
			"\"Padding\":2,\"Raw\":4,\"TCP\":3,\"UDP\":4}}");
	stop_chef();
}
END_TEST

START_TEST(count_is_cumulative)
{
	struct frame f;

	start_chef(packetcount_so, NULL);
	arp(&f, 1, MAC_A, IP_A, MAC_ZERO, IP_B);
	feed(&f, T1);
	ndl__kitchen_interval(k);
	feed(&f, T2);
	ndl__kitchen_interval(k);
	ck_assert_uint_eq(n_dumplings, 2);
	assert_dumpling(0, "PacketCountChef", "interval", T1,
			"{\"packet_counts\":{\"ARP\":1,\"Ethernet\":1}}");
	assert_dumpling(1, "PacketCountChef", "interval", T2,
			"{\"packet_counts\":{\"ARP\":2,\"Ethernet\":2}}");
	stop_chef();
}
END_TEST

START_TEST(count_other_link_types)
{
	static const uint8_t data[] = "hello";
	struct frame f, sll, null;

	start_chef(packetcount_so, NULL);

	/* The IPv4/UDP datagram every frame below carries. */
	eth(&f, MAC_B, MAC_A, 0x0800, 0);
	ipv4(&f, 17, 8 + 5);
	udp(&f, 40000, 9999, data, 5);

	/* Linux cooked capture v1: packet type, ARPHRD, address length, address, protocol. */
	sll.len = 0;
	put16(&sll, 0);
	put16(&sll, 1);
	put16(&sll, 6);
	putn(&sll, MAC_A, 6);
	put16(&sll, 0);
	put16(&sll, 0x0800);
	putn(&sll, f.b + 14, f.len - 14);
	ndl__kitchen_packet(k, DLT_LINUX_SLL, sll.b, (uint32_t)sll.len, (uint32_t)sll.len, T1);

	/* BSD loopback: the address family in host byte order. */
	null.len = 0;
	{
		uint32_t af = 2;  /* AF_INET */
		putn(&null, (const uint8_t *)&af, 4);
	}
	putn(&null, f.b + 14, f.len - 14);
	ndl__kitchen_packet(k, DLT_NULL, null.b, (uint32_t)null.len, (uint32_t)null.len, T2);

	/* A link type nobody decodes counts nothing. */
	ndl__kitchen_packet(k, DLT_USER0, f.b, (uint32_t)f.len, (uint32_t)f.len, T3);

	ndl__kitchen_interval(k);
	ck_assert_uint_eq(n_dumplings, 1);
	assert_dumpling(0, "PacketCountChef", "interval", T3,
			"{\"packet_counts\":{\"IP\":2,\"Loopback\":1,\"Raw\":2,"
			"\"UDP\":2,\"cooked linux\":1}}");
	stop_chef();
}
END_TEST

/* ------------------------------------------------------------------------ */
/* All three at once, as a kitchen runs them                                 */
/* ------------------------------------------------------------------------ */

START_TEST(three_chefs_share_a_packet)
{
	struct ndl_chef_module *mods[3] = { NULL, NULL, NULL };
	const char *paths[3] = { dnslookup_so, arp_so, packetcount_so };
	struct ndl_sink sink = { .write = sink_write };
	char err[256];

	forget_dumplings();
	k = ndl__kitchen_new(KITCHEN_NAME, sink);
	ck_assert_ptr_nonnull(k);
	for (int i = 0; i < 3; i++) {
		ck_assert_msg(ndl__chef_module_open(paths[i], &mods[i], err, sizeof(err)) == 0,
			      "%s", err);
		ck_assert_msg(ndl__kitchen_add_chef(k, mods[i], err, sizeof(err)) == 0, "%s", err);
	}
	feed_dns_query("shared.example", T1);
	ndl__kitchen_interval(k);
	/* DNSLookupChef's lookup, then its interval dumpling and PacketCountChef's. */
	ck_assert_uint_eq(n_dumplings, 3);
	assert_dumpling(0, "DNSLookupChef", "packet", T1,
			"{\"lookup\":{\"hostname\":\"shared.example\",\"when\":" T1S
			",\"qtype\":\"A\",\"is_response\":false,\"rcode\":null}}");
	assert_dumpling(1, "DNSLookupChef", "interval", T1,
			"{\"lookups_seen\":{\"shared.example\":{\"count\":1,\"latest\":" T1S "}}}");
	assert_dumpling(2, "PacketCountChef", "interval", T1,
			"{\"packet_counts\":{\"DNS\":1,\"Ethernet\":1,\"IP\":1,\"UDP\":1}}");
	ndl__kitchen_free(k);
	k = NULL;
	for (int i = 0; i < 3; i++)
		ndl__chef_module_close(mods[i]);
	forget_dumplings();
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
	suite_add_tcase(s, count);

	tcase_add_test(all, three_chefs_share_a_packet);
	suite_add_tcase(s, all);
	return s;
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	if (argc != 4) {
		fprintf(stderr, "usage: %s DNSLOOKUP_SO ARP_SO PACKETCOUNT_SO\n", argv[0]);
		return 2;
	}
	dnslookup_so = argv[1];
	arp_so = argv[2];
	packetcount_so = argv[3];

	sr = srunner_create(chefs_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
