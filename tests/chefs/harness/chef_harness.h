/* SPDX-License-Identifier: MIT */
/*
 * chef_harness.h - run one chef .so in the real kitchen core, feed it
 * hand-built frames, and check its dumplings byte for byte.
 *
 * Header-only (static inline) so that each check program includes what it
 * uses. One chef at a time: harness_start() loads it into a fresh kitchen
 * whose sink keeps every dumpling in memory; harness_stop() frees both.
 * Frames are built into struct hframe with the layer writers below, each
 * appending its header (big-endian) and fixing lengths where it can.
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

struct harness {
	char *dumplings[HARNESS_MAX_DUMPLINGS];
	enum ndl_driver drivers[HARNESS_MAX_DUMPLINGS];
	size_t n;
	struct ndl_kitchen *k;
	struct ndl_chef_module *mod;
	const char *chef;            /* the chef's name, from its descriptor */
};

static struct harness H;

static inline int harness_sink(void *arg, const char *json, size_t len, enum ndl_driver driver)
{
	ck_assert_uint_lt(H.n, HARNESS_MAX_DUMPLINGS);
	H.dumplings[H.n] = strndup(json, len);
	ck_assert_ptr_nonnull(H.dumplings[H.n]);
	H.drivers[H.n] = driver;
	H.n++;
	return 0;
}

static inline void harness_forget(void)
{
	for (size_t i = 0; i < H.n; i++)
		free(H.dumplings[i]);
	H.n = 0;
}

/*
 * Load the chef at path into a new kitchen, after setting options
 * ("Chef.key=value", NULL-ended; options may be NULL). Fails the test when
 * anything is refused.
 */
static inline void harness_start(const char *path, const char *const *options)
{
	struct ndl_sink sink = { .write = harness_sink, .arg = NULL };
	char err[256] = "";
	int r;

	harness_forget();
	r = ndl__chef_module_open(path, &H.mod, err, sizeof(err));
	ck_assert_msg(r == 0, "cannot open %s: %s", path, err);
	H.chef = H.mod->desc->name;
	H.k = ndl__kitchen_new(HARNESS_KITCHEN, sink);
	ck_assert_ptr_nonnull(H.k);
	for (size_t i = 0; options && options[i]; i++) {
		r = ndl__kitchen_set_option(H.k, options[i], err, sizeof(err));
		ck_assert_msg(r == 0, "option %s refused: %s", options[i], err);
	}
	r = ndl__kitchen_add_chef(H.k, H.mod, err, sizeof(err));
	ck_assert_msg(r == 0, "cannot add %s: %s", path, err);
	r = ndl__kitchen_start(H.k, err, sizeof(err));
	ck_assert_msg(r == 0, "cannot start: %s", err);
}

/*
 * Try to start the chef with one option; returns add_chef's result (the
 * kitchen is freed again) and the reason in err.
 */
static inline int harness_try_option(const char *path, const char *option, char *err,
				     size_t errlen)
{
	struct ndl_sink sink = { .write = harness_sink, .arg = NULL };
	struct ndl_chef_module *mod;
	struct ndl_kitchen *k;
	int r;

	r = ndl__chef_module_open(path, &mod, err, errlen);
	ck_assert_msg(r == 0, "cannot open %s: %s", path, err);
	k = ndl__kitchen_new(HARNESS_KITCHEN, sink);
	ck_assert_ptr_nonnull(k);
	r = ndl__kitchen_set_option(k, option, err, errlen);
	if (r == 0)
		r = ndl__kitchen_add_chef(k, mod, err, errlen);
	ndl__kitchen_free(k);
	ndl__chef_module_close(mod);
	return r;
}

static inline void harness_stop(void)
{
	ndl__kitchen_free(H.k);
	H.k = NULL;
	ndl__chef_module_close(H.mod);
	H.mod = NULL;
	harness_forget();
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
 * Dumpling i is a packet dumpling of the chef created at t and its payload,
 * as written, is exactly payload (which must itself be valid JSON).
 */
static inline void harness_assert(size_t i, ndl_time_ns t, const char *payload)
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
	ck_assert_str_eq(json_string_value(json_object_get(md, "chef")), H.chef);
	ck_assert_str_eq(json_string_value(json_object_get(md, "kitchen")), HARNESS_KITCHEN);
	ck_assert_str_eq(json_string_value(json_object_get(md, "driver")), "packet");
	ck_assert_uint_eq(H.drivers[i], NDL_DRIVER_PACKET);
	ck_assert_msg(fabs(json_number_value(json_object_get(md, "creation_time")) -
			   (double)t / 1e9) < 1e-6,
		      "creation_time is not %lld ns: %s", (long long)t, doc);

	want = json_loads(payload, 0, &jerr);
	ck_assert_msg(want != NULL, "expected payload is not JSON (%s): %s", jerr.text, payload);
	json_decref(want);
	json_decref(root);

	p = strstr(doc, "\"payload\":");
	ck_assert_ptr_nonnull(p);
	p += strlen("\"payload\":");
	plen = strlen(p);
	ck_assert_msg(plen > 0 && p[plen - 1] == '}', "envelope not closed: %s", doc);
	ck_assert_msg(plen - 1 == strlen(payload) && memcmp(p, payload, plen - 1) == 0,
		      "dumpling %zu payload differs:\n  got  %.*s\n  want %s",
		      i, (int)(plen - 1), p, payload);
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

static inline void h_feed_link(const struct hframe *f, int linktype, ndl_time_ns ts)
{
	ndl__kitchen_packet(H.k, linktype, f->b, (uint32_t)f->len, (uint32_t)f->len, ts);
}

static inline void h_feed(const struct hframe *f, ndl_time_ns ts)
{
	h_feed_link(f, HARNESS_DLT_EN10MB, ts);
}

#endif /* NDL_TESTS_CHEF_HARNESS_H */
