/* SPDX-License-Identifier: MIT */
/*
 * dns_harness.h - run one chef .so in the real kitchen core, feed it
 * hand-built frames carrying DNS messages or plain traffic, and check its
 * dumplings byte for byte. Used by the DNSWeirdChef and NetwatchChef check
 * programs.
 *
 * Header-only (static inline functions, so a program need not use them
 * all), one chef at a time: dh_start() loads it into a fresh kitchen whose
 * sink keeps every dumpling in memory and whose log lines are kept too;
 * dh_stop() frees both.
 */
#ifndef NDL_TESTS_DNS_HARNESS_H
#define NDL_TESTS_DNS_HARNESS_H

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include <jansson.h>
#include "kitchen.h"

#define DH_KITCHEN "test_kitchen"
#define DH_MAX_DUMPLINGS 256
#define DH_DLT_EN10MB 1

/* Capture times and how the writer prints them. */
#define T1 1795322030150690000LL
#define T1S "1795322030.150690"
#define T2 1795322031000001000LL
#define T2S "1795322031.000001"
#define T3 1795322032250000000LL
#define T3S "1795322032.250000"

static struct {
	char *dumplings[DH_MAX_DUMPLINGS];
	enum ndl_driver drivers[DH_MAX_DUMPLINGS];
	size_t n;
	char log[4096];              /* log lines, each ending in '\n' */
	struct ndl_kitchen *k;
	struct ndl_chef_module *mod;
	const char *chef;
} DH;

static inline int dh_sink(void *arg, const char *json, size_t len, enum ndl_driver driver)
{
	ck_assert_uint_lt(DH.n, DH_MAX_DUMPLINGS);
	DH.dumplings[DH.n] = strndup(json, len);
	ck_assert_ptr_nonnull(DH.dumplings[DH.n]);
	DH.drivers[DH.n] = driver;
	DH.n++;
	return 0;
}

static inline void dh_log(void *arg, enum ndl_log_level level, const char *line)
{
	size_t used = strlen(DH.log);

	snprintf(DH.log + used, sizeof(DH.log) - used, "%s\n", line);
}

static inline void dh_forget(void)
{
	for (size_t i = 0; i < DH.n; i++)
		free(DH.dumplings[i]);
	DH.n = 0;
}

/*
 * Add the chef at path to a new kitchen after setting options (NULL-ended,
 * may be NULL). Returns add_chef's result, with the reason in err; on
 * failure the kitchen is freed again.
 */
static inline int dh_try_start(const char *path, const char *const *options, char *err, size_t errlen)
{
	struct ndl_sink sink = { .write = dh_sink, .arg = NULL };
	int r;

	dh_forget();
	DH.log[0] = '\0';
	r = ndl__chef_module_open(path, &DH.mod, err, errlen);
	ck_assert_msg(r == 0, "cannot open %s: %s", path, err);
	DH.chef = DH.mod->desc->name;
	DH.k = ndl__kitchen_new(DH_KITCHEN, sink);
	ck_assert_ptr_nonnull(DH.k);
	ndl__kitchen_set_log(DH.k, dh_log, NULL);
	for (size_t i = 0; options && options[i]; i++) {
		r = ndl__kitchen_set_option(DH.k, options[i], err, errlen);
		if (r < 0)
			goto fail;
	}
	r = ndl__kitchen_add_chef(DH.k, DH.mod, err, errlen);
	if (r < 0)
		goto fail;
	r = ndl__kitchen_start(DH.k, err, errlen);
	if (r < 0)
		goto fail;
	return 0;
fail:
	ndl__kitchen_free(DH.k);
	DH.k = NULL;
	ndl__chef_module_close(DH.mod);
	DH.mod = NULL;
	return r;
}

static inline void dh_start(const char *path, const char *const *options)
{
	char err[512] = "";
	int r = dh_try_start(path, options, err, sizeof(err));

	ck_assert_msg(r == 0, "cannot start %s: %s", path, err);
}

static inline void dh_stop(void)
{
	ndl__kitchen_free(DH.k);
	DH.k = NULL;
	ndl__chef_module_close(DH.mod);
	DH.mod = NULL;
	dh_forget();
}

struct dh_counter {
	const char *name;
	uint64_t value;
};

static inline void dh_counter_cb(void *arg, const char *chef, const char *counter, uint64_t value)
{
	struct dh_counter *q = arg;

	if (strcmp(counter, q->name) == 0)
		q->value = value;
}

/* The chef's counter name, 0 when it was never reported. */
static inline uint64_t dh_counter(const char *name)
{
	struct dh_counter q = { .name = name, .value = 0 };

	ndl__kitchen_foreach_chef_counter(DH.k, dh_counter_cb, &q);
	return q.value;
}

/*
 * Dumpling i came from the chef for driver ("packet" or "interval") at
 * time t, and its payload is written exactly as payload (valid JSON).
 */
static inline void dh_assert(size_t i, const char *driver, ndl_time_ns t, const char *payload)
{
	const char *doc, *p;
	json_error_t jerr;
	json_t *root, *md, *want;
	size_t plen;

	ck_assert_msg(i < DH.n, "dumpling %zu missing: only %zu made", i, DH.n);
	doc = DH.dumplings[i];
	root = json_loads(doc, 0, &jerr);
	ck_assert_msg(root != NULL, "dumpling %zu is not JSON (%s): %s", i, jerr.text, doc);
	md = json_object_get(root, "metadata");
	ck_assert_str_eq(json_string_value(json_object_get(md, "chef")), DH.chef);
	ck_assert_str_eq(json_string_value(json_object_get(md, "kitchen")), DH_KITCHEN);
	ck_assert_str_eq(json_string_value(json_object_get(md, "driver")), driver);
	ck_assert_uint_eq(DH.drivers[i], strcmp(driver, "packet") == 0 ?
			  NDL_DRIVER_PACKET : NDL_DRIVER_INTERVAL);
	ck_assert_msg(fabs(json_number_value(json_object_get(md, "creation_time")) -
			   (double)t / 1e9) < 1e-6,
		      "creation_time is not %lld ns: %s", (long long)t, doc);
	want = json_loads(payload, 0, &jerr);
	ck_assert_msg(want != NULL, "expected payload is not JSON (%s): %s", jerr.text, payload);
	ck_assert_msg(json_equal(json_object_get(root, "payload"), want),
		      "dumpling %zu payload differs:\n  got  %s\n  want %s", i, doc, payload);
	json_decref(want);
	json_decref(root);

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

struct dh_buf {
	uint8_t b[4096];
	size_t len;
};

static inline void dh_put8(struct dh_buf *f, uint8_t v)
{
	ck_assert_uint_lt(f->len, sizeof(f->b));
	f->b[f->len++] = v;
}

static inline void dh_put16(struct dh_buf *f, uint16_t v)
{
	dh_put8(f, (uint8_t)(v >> 8));
	dh_put8(f, (uint8_t)v);
}

static inline void dh_put32(struct dh_buf *f, uint32_t v)
{
	dh_put16(f, (uint16_t)(v >> 16));
	dh_put16(f, (uint16_t)v);
}

static inline void dh_putn(struct dh_buf *f, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dh_put8(f, ((const uint8_t *)p)[i]);
}

/* One side of a packet: IPv4 (4 address bytes) or IPv6 (16). */
struct dh_end {
	int version;
	uint8_t ip[16];
	uint16_t port;
};

static const uint8_t DH_MAC_A[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t DH_MAC_B[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b };
static const uint8_t DH_MAC_BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static inline uint16_t dh_checksum(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * An Ethernet frame (to dst_mac, NULL for DH_MAC_B) carrying IPv4 or IPv6
 * from src to dst with protocol proto and the transport bytes l4[0..n).
 */
static inline void dh_ip_frame(struct dh_buf *f, const uint8_t *dst_mac, const struct dh_end *src,
			const struct dh_end *dst, uint8_t proto, const uint8_t *l4, size_t n)
{
	size_t ip;
	uint16_t sum;

	f->len = 0;
	dh_putn(f, dst_mac ? dst_mac : DH_MAC_B, 6);
	dh_putn(f, DH_MAC_A, 6);
	ip = f->len + 2;
	if (src->version == 4) {
		dh_put16(f, 0x0800);
		dh_put8(f, 0x45);                    /* RFC 791 */
		dh_put8(f, 0);
		dh_put16(f, (uint16_t)(20 + n));
		dh_put16(f, 0x1234);
		dh_put16(f, 0x4000);
		dh_put8(f, 64);
		dh_put8(f, proto);
		dh_put16(f, 0);
		dh_putn(f, src->ip, 4);
		dh_putn(f, dst->ip, 4);
		sum = dh_checksum(f->b + ip, 20);
		f->b[ip + 10] = (uint8_t)(sum >> 8);
		f->b[ip + 11] = (uint8_t)sum;
	} else {
		dh_put16(f, 0x86dd);
		dh_put32(f, 0x60000000);             /* RFC 8200 */
		dh_put16(f, (uint16_t)n);
		dh_put8(f, proto);
		dh_put8(f, 64);
		dh_putn(f, src->ip, 16);
		dh_putn(f, dst->ip, 16);
	}
	dh_putn(f, l4, n);
}

/* UDP (RFC 768, checksum 0) from src to dst carrying payload[0..n). */
static inline void dh_udp_frame(struct dh_buf *f, const uint8_t *dst_mac, const struct dh_end *src,
			 const struct dh_end *dst, const uint8_t *payload, size_t n)
{
	struct dh_buf u = { .len = 0 };

	dh_put16(&u, src->port);
	dh_put16(&u, dst->port);
	dh_put16(&u, (uint16_t)(8 + n));
	dh_put16(&u, 0);
	dh_putn(&u, payload, n);
	dh_ip_frame(f, dst_mac, src, dst, 17, u.b, u.len);
}

/* TCP (RFC 9293, no options) from src to dst with flags and payload[0..n). */
static inline void dh_tcp_frame(struct dh_buf *f, const struct dh_end *src, const struct dh_end *dst,
			 uint8_t flags, const uint8_t *payload, size_t n)
{
	struct dh_buf t = { .len = 0 };

	dh_put16(&t, src->port);
	dh_put16(&t, dst->port);
	dh_put32(&t, 1000);
	dh_put32(&t, 2000);
	dh_put8(&t, 5 << 4);
	dh_put8(&t, flags);
	dh_put16(&t, 65535);
	dh_put16(&t, 0);
	dh_put16(&t, 0);
	dh_putn(&t, payload, n);
	dh_ip_frame(f, NULL, src, dst, 6, t.b, t.len);
}

/* ICMP echo request (RFC 792), or ICMPv6 (RFC 4443) for IPv6 ends. */
static inline void dh_ping_frame(struct dh_buf *f, const struct dh_end *src, const struct dh_end *dst)
{
	struct dh_buf m = { .len = 0 };

	dh_put8(&m, src->version == 4 ? 8 : 128);
	dh_put8(&m, 0);
	dh_put16(&m, 0);
	dh_put32(&m, 0x00010001);
	dh_ip_frame(f, NULL, src, dst, src->version == 4 ? 1 : 58, m.b, m.len);
}

static inline void dh_feed(const struct dh_buf *f, ndl_time_ns ts)
{
	ndl__kitchen_packet(DH.k, DH_DLT_EN10MB, f->b, (uint32_t)f->len, (uint32_t)f->len, ts);
}

/* ------------------------------------------------------------------------ */
/* DNS messages (RFC 1035 4.1)                                               */
/* ------------------------------------------------------------------------ */

/* Append dotted name in wire form (RFC 1035 3.1), uncompressed; no label holds a dot. */
static inline void dh_put_name(struct dh_buf *m, const char *name)
{
	const char *s = name;

	while (*s) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);

		dh_put8(m, (uint8_t)n);
		dh_putn(m, s, n);
		s += n;
		if (*s == '.')
			s++;
	}
	dh_put8(m, 0);
}

/* A resource record for dh_dns(); rdata NULL means the name in rname. */
struct dh_rr {
	const char *name;
	uint16_t type;
	uint16_t rclass;             /* 0 means IN */
	uint32_t ttl;
	const uint8_t *rdata;
	size_t rdlen;
	const char *rname;
};

/* A question for dh_dns(); qclass 0 means IN. */
struct dh_q {
	const char *name;
	uint16_t qtype;
	uint16_t qclass;
};

/*
 * A DNS message into m: id, flags word, the questions q[0..nq) and answers
 * an[0..nan). The header counts are those numbers.
 */
static inline void dh_dns(struct dh_buf *m, uint16_t id, uint16_t flags, const struct dh_q *q,
		   size_t nq, const struct dh_rr *an, size_t nan)
{
	m->len = 0;
	dh_put16(m, id);
	dh_put16(m, flags);
	dh_put16(m, (uint16_t)nq);
	dh_put16(m, (uint16_t)nan);
	dh_put16(m, 0);
	dh_put16(m, 0);
	for (size_t i = 0; i < nq; i++) {
		dh_put_name(m, q[i].name);
		dh_put16(m, q[i].qtype);
		dh_put16(m, q[i].qclass ? q[i].qclass : 1);
	}
	for (size_t i = 0; i < nan; i++) {
		size_t len_at;

		dh_put_name(m, an[i].name);
		dh_put16(m, an[i].type);
		dh_put16(m, an[i].rclass ? an[i].rclass : 1);
		dh_put32(m, an[i].ttl);
		len_at = m->len;
		dh_put16(m, 0);
		if (an[i].rdata)
			dh_putn(m, an[i].rdata, an[i].rdlen);
		else
			dh_put_name(m, an[i].rname);
		m->b[len_at] = (uint8_t)((m->len - len_at - 2) >> 8);
		m->b[len_at + 1] = (uint8_t)(m->len - len_at - 2);
	}
}

#endif /* NDL_TESTS_DNS_HARNESS_H */
