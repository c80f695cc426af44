/* SPDX-License-Identifier: MIT */
/*
 * chef_harness.h - run a chef .so in the real kitchen core, feed it
 * hand-built frames, and check its dumplings byte for byte. Every chef
 * check program under tests/chefs/ is built on it.
 *
 * Header-only (static inline) so that each check program includes what it
 * uses. One chef at a time: harness_start() loads it into a fresh kitchen
 * whose sink keeps every dumpling in memory and whose log lines are kept
 * too; harness_stop() frees both. Frames are built into struct hframe with
 * the layer writers below, each appending its header (big-endian); after
 * the last layer h_ip_done() fixes the IP lengths and the IPv4 checksum.
 * A program checking one chef lets harness_main() take the .so's path
 * from the command line into chef_so.
 */
#ifndef NDL_TESTS_CHEF_HARNESS_H
#define NDL_TESTS_CHEF_HARNESS_H

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include <jansson.h>
#include "kitchen.h"

#define HARNESS_KITCHEN "test_kitchen"
#define HARNESS_MAX_DUMPLINGS 256
#define HARNESS_DLT_EN10MB 1
#define HARNESS_DLT_NULL 0
#define HARNESS_DLT_LINUX_SLL 113
#define HARNESS_DLT_USER0 147

/* ------------------------------------------------------------------------ */
/* Capture times and addresses                                               */
/* ------------------------------------------------------------------------ */

/* Capture times and how the writer prints them. */
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

/* A whole second, and times after it in milliseconds or seconds. */
#define T0 1795322030000000000LL
#define MS(n) (T0 + (ndl_time_ns)(n) * 1000000LL)
#define SEC(n) MS((n) * 1000LL)

static const uint8_t MAC_A[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b };
static const uint8_t MAC_C[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0c };
static const uint8_t MAC_ZERO[6] = { 0 };
static const uint8_t MAC_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t IP_A[4] = { 192, 0, 2, 1 };
static const uint8_t IP_B[4] = { 192, 0, 2, 2 };
static const uint8_t IP_C[4] = { 192, 0, 2, 3 };
static const uint8_t IP_D[4] = { 192, 0, 2, 4 };
static const uint8_t IP6_A[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t IP6_B[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

/* ------------------------------------------------------------------------ */
/* A kitchen whose sink keeps dumplings in memory                            */
/* ------------------------------------------------------------------------ */

struct harness {
	char *dumplings[HARNESS_MAX_DUMPLINGS];
	enum ndl_driver drivers[HARNESS_MAX_DUMPLINGS];
	size_t n;
	char log[4096];              /* log lines, each ending in '\n' */
	struct ndl_kitchen *k;
	struct ndl_chef_module *mod;
	const char *chef;            /* the chef's name, from its descriptor */
};

static struct harness H;

/* The chef .so named on the command line (see harness_main()). */
static const char *chef_so;

static inline int harness_sink(void *arg, const char *json, size_t len, enum ndl_driver driver)
{
	ck_assert_uint_lt(H.n, HARNESS_MAX_DUMPLINGS);
	H.dumplings[H.n] = strndup(json, len);
	ck_assert_ptr_nonnull(H.dumplings[H.n]);
	H.drivers[H.n] = driver;
	H.n++;
	return 0;
}

static inline void harness_log(void *arg, enum ndl_log_level level, const char *line)
{
	size_t used = strlen(H.log);

	snprintf(H.log + used, sizeof(H.log) - used, "%s\n", line);
}

static inline void harness_forget(void)
{
	for (size_t i = 0; i < H.n; i++)
		free(H.dumplings[i]);
	H.n = 0;
}

/* A new kitchen, not started, whose dumplings and log lines go to H. */
static inline struct ndl_kitchen *harness_kitchen(void)
{
	struct ndl_sink sink = { .write = harness_sink, .arg = NULL };
	struct ndl_kitchen *k = ndl__kitchen_new(HARNESS_KITCHEN, sink);

	ck_assert_ptr_nonnull(k);
	ndl__kitchen_set_log(k, harness_log, NULL);
	return k;
}

/*
 * Add the chef at path to a new kitchen after setting options
 * ("Chef.key=value", NULL-ended; options may be NULL) and start it.
 * Returns 0, or the first refusal with the reason in err; on failure the
 * kitchen is freed again (its log lines stay in H.log).
 */
static inline int harness_try_start(const char *path, const char *const *options, char *err,
				    size_t errlen)
{
	int r;

	harness_forget();
	H.log[0] = '\0';
	r = ndl__chef_module_open(path, &H.mod, err, errlen);
	ck_assert_msg(r == 0, "cannot open %s: %s", path, err);
	H.chef = H.mod->desc->name;
	H.k = harness_kitchen();
	for (size_t i = 0; options && options[i]; i++) {
		r = ndl__kitchen_set_option(H.k, options[i], err, errlen);
		if (r < 0)
			goto fail;
	}
	r = ndl__kitchen_add_chef(H.k, H.mod, err, errlen);
	if (r < 0)
		goto fail;
	r = ndl__kitchen_start(H.k, err, errlen);
	if (r < 0)
		goto fail;
	return 0;
fail:
	ndl__kitchen_free(H.k);
	H.k = NULL;
	ndl__chef_module_close(H.mod);
	H.mod = NULL;
	return r;
}

/* Load the chef at path as harness_try_start() does; fails the test when refused. */
static inline void harness_start(const char *path, const char *const *options)
{
	char err[512] = "";
	int r = harness_try_start(path, options, err, sizeof(err));

	ck_assert_msg(r == 0, "cannot start %s: %s", path, err);
}

static inline void harness_stop(void)
{
	ndl__kitchen_free(H.k);
	H.k = NULL;
	ndl__chef_module_close(H.mod);
	H.mod = NULL;
	harness_forget();
}

/*
 * Try to start the chef with one option; returns what harness_try_start()
 * does, with the reason in err. The kitchen is freed again either way.
 */
static inline int harness_try_option(const char *path, const char *option, char *err,
				     size_t errlen)
{
	const char *const options[] = { option, NULL };
	int r = harness_try_start(path, options, err, errlen);

	if (r == 0)
		harness_stop();
	return r;
}

/*
 * Each of the n options bad[] ("Chef.key=value") is refused on its own with
 * -EINVAL; with need_reason, a reason is given too.
 */
static inline void harness_assert_refused(const char *path, const char *const *bad, size_t n,
					  bool need_reason)
{
	char err[512];

	for (size_t i = 0; i < n; i++) {
		err[0] = '\0';
		ck_assert_msg(harness_try_option(path, bad[i], err, sizeof(err)) == -EINVAL,
			      "%s accepted", bad[i]);
		ck_assert_msg(!need_reason || err[0] != '\0', "no reason given for %s", bad[i]);
	}
}

struct harness_counter {
	const char *name;
	uint64_t value;
};

static inline void harness_counter_cb(void *arg, const char *chef, const char *counter,
				      uint64_t value)
{
	struct harness_counter *q = arg;

	if (strcmp(counter, q->name) == 0)
		q->value = value;
}

/* The chef's counter name, 0 when it was never reported. */
static inline uint64_t harness_counter(const char *name)
{
	struct harness_counter q = { .name = name, .value = 0 };

	ndl__kitchen_foreach_chef_counter(H.k, harness_counter_cb, &q);
	return q.value;
}

/*
 * Dumpling i came from chef for driver ("packet" or "interval") created at
 * t (nanoseconds), and its payload, as written, is exactly payload (which
 * must itself be valid JSON).
 */
static inline void harness_assert_chef(size_t i, const char *chef, const char *driver,
				       ndl_time_ns t, const char *payload)
{
	const char *doc, *p;
	json_error_t jerr;
	json_t *root, *md, *want;
	size_t plen;

	ck_assert_msg(i < H.n, "dumpling %zu missing: only %zu made", i, H.n);
	doc = H.dumplings[i];
	root = json_loads(doc, 0, &jerr);
	ck_assert_msg(root != NULL, "dumpling %zu is not JSON (%s): %s", i, jerr.text, doc);
	md = json_object_get(root, "metadata");
	ck_assert_msg(json_is_object(md), "no metadata: %s", doc);
	ck_assert_str_eq(json_string_value(json_object_get(md, "chef")), chef);
	ck_assert_str_eq(json_string_value(json_object_get(md, "kitchen")), HARNESS_KITCHEN);
	ck_assert_str_eq(json_string_value(json_object_get(md, "driver")), driver);
	ck_assert_uint_eq(H.drivers[i], strcmp(driver, "packet") == 0 ?
			  NDL_DRIVER_PACKET : NDL_DRIVER_INTERVAL);
	ck_assert_msg(json_is_number(json_object_get(md, "creation_time")),
		      "creation_time not a number: %s", doc);
	ck_assert_msg(fabs(json_number_value(json_object_get(md, "creation_time")) -
			   (double)t / 1e9) < 1e-6,
		      "creation_time is not %lld ns: %s", (long long)t, doc);

	/* The payload as parsed equals the expected one... */
	want = json_loads(payload, 0, &jerr);
	ck_assert_msg(want != NULL, "expected payload is not JSON (%s): %s", jerr.text, payload);
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

/* Dumpling i came from the started chef: see harness_assert_chef(). */
static inline void harness_assert_driver(size_t i, const char *driver, ndl_time_ns t,
					 const char *payload)
{
	harness_assert_chef(i, H.chef, driver, t, payload);
}

/* Dumpling i is a packet dumpling of the started chef: see harness_assert_chef(). */
static inline void harness_assert(size_t i, ndl_time_ns t, const char *payload)
{
	harness_assert_chef(i, H.chef, "packet", t, payload);
}

/* ------------------------------------------------------------------------ */
/* Running the checks                                                        */
/* ------------------------------------------------------------------------ */

/* Run every check of s; EXIT_SUCCESS when none failed. */
static inline int harness_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/*
 * main() of a program checking one chef: "PROGRAM SO" puts SO into
 * chef_so and runs suite(); so_arg names SO in the usage line (exit 2).
 */
static inline int harness_main(int argc, char **argv, const char *so_arg, Suite *(*suite)(void))
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s %s\n", argv[0], so_arg);
		return 2;
	}
	chef_so = argv[1];
	return harness_run(suite());
}

/* ------------------------------------------------------------------------ */
/* Frames                                                                    */
/* ------------------------------------------------------------------------ */

struct hframe {
	uint8_t b[4096];
	size_t len;
	size_t ip_off;               /* start of the IP header */
	size_t l4_off;               /* start of the transport header */
};

static inline void h_put8(struct hframe *f, uint8_t v)
{
	ck_assert_uint_lt(f->len, sizeof(f->b));
	f->b[f->len++] = v;
}

static inline void h_put16(struct hframe *f, uint16_t v)
{
	h_put8(f, (uint8_t)(v >> 8));
	h_put8(f, (uint8_t)v);
}

static inline void h_put32(struct hframe *f, uint32_t v)
{
	h_put16(f, (uint16_t)(v >> 16));
	h_put16(f, (uint16_t)v);
}

static inline void h_putn(struct hframe *f, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h_put8(f, ((const uint8_t *)p)[i]);
}

static inline void h_set16(struct hframe *f, size_t at, uint16_t v)
{
	f->b[at] = (uint8_t)(v >> 8);
	f->b[at + 1] = (uint8_t)v;
}

/* Ethernet II header; tags are VIDs of 802.1Q tags, outer first (0-ended, at most 3). */
static inline void h_eth(struct hframe *f, const uint8_t dst[6], const uint8_t src[6],
			 uint16_t ethertype, const uint16_t *tags)
{
	f->len = 0;
	h_putn(f, dst, 6);
	h_putn(f, src, 6);
	for (size_t i = 0; tags && tags[i]; i++) {
		h_put16(f, i == 0 && tags[1] ? 0x88a8 : 0x8100);
		h_put16(f, tags[i]);
	}
	h_put16(f, ethertype);
}

static inline uint16_t h_checksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* IPv4 header fields a test may choose. */
struct h_ipv4 {
	uint8_t tos;
	uint16_t id;
	uint16_t frag;               /* flags and offset word */
	uint8_t ttl;
	uint8_t proto;
	uint8_t src[4];
	uint8_t dst[4];
};

/* IPv4 header (RFC 791); h_ip_done() sets the total length and checksum. */
static inline void h_ipv4(struct hframe *f, const struct h_ipv4 *ip)
{
	f->ip_off = f->len;
	h_put8(f, 0x45);
	h_put8(f, ip->tos);
	h_put16(f, 0);
	h_put16(f, ip->id);
	h_put16(f, ip->frag);
	h_put8(f, ip->ttl);
	h_put8(f, ip->proto);
	h_put16(f, 0);
	h_putn(f, ip->src, 4);
	h_putn(f, ip->dst, 4);
	f->l4_off = f->len;
}

/* The IPv4 header most checks want: from src to dst, id 0x1234, TTL 64. */
static inline void h_ipv4_to(struct hframe *f, const uint8_t src[4], const uint8_t dst[4],
			     uint8_t proto, uint16_t frag)
{
	struct h_ipv4 ip = { .id = 0x1234, .frag = frag, .ttl = 64, .proto = proto };

	memcpy(ip.src, src, 4);
	memcpy(ip.dst, dst, 4);
	h_ipv4(f, &ip);
}

/* IPv6 header (RFC 8200) without extension headers. */
static inline void h_ipv6(struct hframe *f, uint8_t tclass, uint32_t flow, uint8_t next,
			  uint8_t hops, const uint8_t src[16], const uint8_t dst[16])
{
	f->ip_off = f->len;
	h_put32(f, 0x60000000u | (uint32_t)tclass << 20 | (flow & 0xfffffu));
	h_put16(f, 0);
	h_put8(f, next);
	h_put8(f, hops);
	h_putn(f, src, 16);
	h_putn(f, dst, 16);
	f->l4_off = f->len;
}

/* Ethernet from MAC_A to MAC_B, then h_ipv4_to(). */
static inline void h_eth_ipv4(struct hframe *f, const uint8_t src[4], const uint8_t dst[4],
			      uint8_t proto, uint16_t frag)
{
	h_eth(f, MAC_B, MAC_A, 0x0800, NULL);
	h_ipv4_to(f, src, dst, proto, frag);
}

/* Ethernet from MAC_A to MAC_B, then IPv6 from src to dst with hop limit 64. */
static inline void h_eth_ipv6(struct hframe *f, const uint8_t src[16], const uint8_t dst[16],
			      uint8_t next)
{
	h_eth(f, MAC_B, MAC_A, 0x86dd, NULL);
	h_ipv6(f, 0, 0, next, 64, src, dst);
}

/* TCP header fields a test may choose; opts are raw option bytes (padded to 4). */
struct h_tcp {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	const uint8_t *opts;
	size_t opts_len;
};

/* TCP (RFC 9293) with its options, then payload. Checksum left 0. */
static inline void h_tcp(struct hframe *f, const struct h_tcp *t, const void *payload, size_t n)
{
	size_t optlen = (t->opts_len + 3) / 4 * 4;

	f->l4_off = f->len;
	h_put16(f, t->sport);
	h_put16(f, t->dport);
	h_put32(f, t->seq);
	h_put32(f, t->ack);
	h_put8(f, (uint8_t)(((20 + optlen) / 4) << 4));
	h_put8(f, t->flags);
	h_put16(f, t->window);
	h_put16(f, 0);
	h_put16(f, 0);
	h_putn(f, t->opts, t->opts_len);
	for (size_t i = t->opts_len; i < optlen; i++)
		h_put8(f, 0);          /* end of option list */
	h_putn(f, payload, n);
}

/* The TCP segment most checks want: no options, seq 1000, ack 2000, window 65535. */
static inline void h_tcp_to(struct hframe *f, uint16_t sport, uint16_t dport, uint8_t flags,
			    const void *payload, size_t n)
{
	struct h_tcp t = { .sport = sport, .dport = dport, .seq = 1000, .ack = 2000,
			   .flags = flags, .window = 65535 };

	h_tcp(f, &t, payload, n);
}

/* UDP (RFC 768), checksum 0. */
static inline void h_udp(struct hframe *f, uint16_t sport, uint16_t dport,
			 const void *payload, size_t n)
{
	f->l4_off = f->len;
	h_put16(f, sport);
	h_put16(f, dport);
	h_put16(f, (uint16_t)(8 + n));
	h_put16(f, 0);
	h_putn(f, payload, n);
}

/* ICMP (RFC 792) or ICMPv6 (RFC 4443 4.1) echo of type, without data; checksum 0. */
static inline void h_echo(struct hframe *f, uint8_t type, uint16_t id, uint16_t seq)
{
	f->l4_off = f->len;
	h_put8(f, type);
	h_put8(f, 0);
	h_put16(f, 0);
	h_put16(f, id);
	h_put16(f, seq);
}

/* Finish the IP header once everything after it is written. */
static inline void h_ip_done(struct hframe *f)
{
	if ((f->b[f->ip_off] >> 4) == 4) {
		h_set16(f, f->ip_off + 2, (uint16_t)(f->len - f->ip_off));
		h_set16(f, f->ip_off + 10, h_checksum(f->b + f->ip_off, 20));
	} else {
		h_set16(f, f->ip_off + 4, (uint16_t)(f->len - f->ip_off - 40));
	}
}

/* An Ethernet frame (to tha, or broadcast for a request) carrying ARP for IPv4 (RFC 826). */
static inline void h_arp(struct hframe *f, uint16_t op, const uint8_t sha[6],
			 const uint8_t spa[4], const uint8_t tha[6], const uint8_t tpa[4])
{
	h_eth(f, op == 1 ? MAC_BCAST : tha, sha, 0x0806, NULL);
	h_put16(f, 1);
	h_put16(f, 0x0800);
	h_put8(f, 6);
	h_put8(f, 4);
	h_put16(f, op);
	h_putn(f, sha, 6);
	h_putn(f, spa, 4);
	h_putn(f, tha, 6);
	h_putn(f, tpa, 4);
}

/* A Linux cooked capture v1 header (DLT_LINUX_SLL) for an Ethernet sender src and protocol. */
static inline void h_sll(struct hframe *f, uint16_t pkttype, const uint8_t src[6], uint16_t proto)
{
	f->len = 0;
	h_put16(f, pkttype);
	h_put16(f, 1);               /* ARPHRD_ETHER */
	h_put16(f, 6);               /* address length */
	h_putn(f, src, 6);
	h_put16(f, 0);               /* address padding to 8 bytes */
	h_put16(f, proto);
}

/* One side of a packet: IPv4 (4 address bytes) or IPv6 (16). */
struct h_end {
	int version;
	uint8_t ip[16];
	uint16_t port;
};

/*
 * Ethernet (to dst_mac, NULL for MAC_B) and the IP header from src to dst
 * with protocol proto: h_ipv4_to() with DF, or IPv6 with hop limit 64.
 */
static inline void h_ip_head(struct hframe *f, const uint8_t *dst_mac, const struct h_end *src,
			     const struct h_end *dst, uint8_t proto)
{
	h_eth(f, dst_mac ? dst_mac : MAC_B, MAC_A, src->version == 4 ? 0x0800 : 0x86dd, NULL);
	if (src->version == 4)
		h_ipv4_to(f, src->ip, dst->ip, proto, 0x4000);
	else
		h_ipv6(f, 0, 0, proto, 64, src->ip, dst->ip);
}

/* A whole frame from src to dst carrying the transport bytes l4[0..n) of proto. */
static inline void h_ip_frame(struct hframe *f, const uint8_t *dst_mac, const struct h_end *src,
			      const struct h_end *dst, uint8_t proto, const void *l4, size_t n)
{
	h_ip_head(f, dst_mac, src, dst, proto);
	h_putn(f, l4, n);
	h_ip_done(f);
}

/* A whole UDP frame from src to dst carrying payload[0..n). */
static inline void h_udp_frame(struct hframe *f, const uint8_t *dst_mac, const struct h_end *src,
			       const struct h_end *dst, const void *payload, size_t n)
{
	h_ip_head(f, dst_mac, src, dst, 17);
	h_udp(f, src->port, dst->port, payload, n);
	h_ip_done(f);
}

/* A whole TCP frame (h_tcp_to()) from src to dst with flags and payload[0..n). */
static inline void h_tcp_frame(struct hframe *f, const struct h_end *src, const struct h_end *dst,
			       uint8_t flags, const void *payload, size_t n)
{
	h_ip_head(f, NULL, src, dst, 6);
	h_tcp_to(f, src->port, dst->port, flags, payload, n);
	h_ip_done(f);
}

/* A whole ICMP echo request frame, or ICMPv6 for IPv6 ends (id 1, seq 1). */
static inline void h_ping_frame(struct hframe *f, const struct h_end *src, const struct h_end *dst)
{
	h_ip_head(f, NULL, src, dst, src->version == 4 ? 1 : 58);
	h_echo(f, src->version == 4 ? 8 : 128, 1, 1);
	h_ip_done(f);
}

static inline void h_feed_link(const struct hframe *f, int linktype, ndl_time_ns ts)
{
	ndl__kitchen_packet(H.k, linktype, f->b, (uint32_t)f->len, (uint32_t)f->len, ts);
}

static inline void h_feed(const struct hframe *f, ndl_time_ns ts)
{
	h_feed_link(f, HARNESS_DLT_EN10MB, ts);
}

/* ------------------------------------------------------------------------ */
/* DNS messages (RFC 1035 4.1)                                               */
/* ------------------------------------------------------------------------ */

/* Append dotted name in wire form (RFC 1035 3.1), uncompressed; no label holds a dot. */
static inline void h_dns_name(struct hframe *m, const char *name)
{
	const char *s = name;

	while (*s) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);

		h_put8(m, (uint8_t)n);
		h_putn(m, s, n);
		s += n;
		if (*s == '.')
			s++;
	}
	h_put8(m, 0);
}

/* A resource record for h_dns(); rdata NULL means the name in rname. */
struct h_rr {
	const char *name;
	uint16_t type;
	uint16_t rclass;             /* 0 means IN */
	uint32_t ttl;
	const uint8_t *rdata;
	size_t rdlen;
	const char *rname;
};

/* A question for h_dns(); qclass 0 means IN. */
struct h_q {
	const char *name;
	uint16_t qtype;
	uint16_t qclass;
};

/*
 * A DNS message into m: id, flags word, the questions q[0..nq) and answers
 * an[0..nan). The header counts are those numbers.
 */
static inline void h_dns(struct hframe *m, uint16_t id, uint16_t flags, const struct h_q *q,
			 size_t nq, const struct h_rr *an, size_t nan)
{
	m->len = 0;
	h_put16(m, id);
	h_put16(m, flags);
	h_put16(m, (uint16_t)nq);
	h_put16(m, (uint16_t)nan);
	h_put16(m, 0);
	h_put16(m, 0);
	for (size_t i = 0; i < nq; i++) {
		h_dns_name(m, q[i].name);
		h_put16(m, q[i].qtype);
		h_put16(m, q[i].qclass ? q[i].qclass : 1);
	}
	for (size_t i = 0; i < nan; i++) {
		size_t len_at;

		h_dns_name(m, an[i].name);
		h_put16(m, an[i].type);
		h_put16(m, an[i].rclass ? an[i].rclass : 1);
		h_put32(m, an[i].ttl);
		len_at = m->len;
		h_put16(m, 0);
		if (an[i].rdata)
			h_putn(m, an[i].rdata, an[i].rdlen);
		else
			h_dns_name(m, an[i].rname);
		h_set16(m, len_at, (uint16_t)(m->len - len_at - 2));
	}
}

#endif /* NDL_TESTS_CHEF_HARNESS_H */
