/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of nmsg/: protobuf reading and writing, CRC-32C, the base
 * messages, the container writer and reader (zlib, fragments, CRCs,
 * sequence numbers, limits), and every truncation and byte flip of the
 * reference vectors (NDL_SHARED_NMSG; those tests say so and pass when
 * the folder is absent).
 */
#include <check.h>
#include <stdbool.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nmsg.h"

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

#define MAX_GOT 4096

struct got {
	size_t n;
	struct ndl__nmsg_payload p[MAX_GOT];
	uint8_t *data[MAX_GOT];
	unsigned errors[NDL__NMSG_ERR_COUNT];
	int stop_after;              /* 0: never */
};

static int collect(void *arg, const struct ndl__nmsg_payload *p)
{
	struct got *g = arg;

	ck_assert_uint_lt(g->n, MAX_GOT);
	g->p[g->n] = *p;
	g->data[g->n] = malloc(p->len ? p->len : 1);
	memcpy(g->data[g->n], p->data, p->len);
	g->p[g->n].data = g->data[g->n];
	g->n++;
	if (g->stop_after && (int)g->n >= g->stop_after)
		return -ECANCELED;
	return 0;
}

static void count_error(void *arg, enum ndl__nmsg_error e, const char *msg)
{
	struct got *g = arg;

	ck_assert_ptr_nonnull(msg);
	ck_assert_uint_gt(strlen(msg), 10);
	g->errors[e]++;
}

static struct got *got_new(void)
{
	return calloc(1, sizeof(struct got));
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		free(g->data[i]);
	free(g);
}

/* Containers a writer wrote, kept apart. */
struct sink {
	size_t n;
	uint8_t *c[8192];
	size_t len[8192];
};

static int to_sink(void *arg, const uint8_t *data, size_t len)
{
	struct sink *s = arg;

	ck_assert_uint_lt(s->n, 8192);
	s->c[s->n] = malloc(len);
	memcpy(s->c[s->n], data, len);
	s->len[s->n++] = len;
	return 0;
}

static void sink_free(struct sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->c[i]);
	free(s);
}

/* The sink's containers one after the other, as a file holds them. */
static uint8_t *sink_join(const struct sink *s, size_t *len)
{
	size_t total = 0, at = 0;
	uint8_t *all;

	for (size_t i = 0; i < s->n; i++)
		total += s->len[i];
	all = malloc(total ? total : 1);
	for (size_t i = 0; i < s->n; i++) {
		memcpy(all + at, s->c[i], s->len[i]);
		at += s->len[i];
	}
	*len = total;
	return all;
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

/* n payloads of pseudo-random sizes up to max (bytes in bufs). */
static void make_payloads(struct ndl__nmsg_payload *p, uint8_t **bufs, size_t n, size_t max)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = rnd() % (max + 1);
		bufs[i] = malloc(len ? len : 1);
		for (size_t k = 0; k < len; k++)
			bufs[i][k] = (uint8_t)rnd();
		memset(&p[i], 0, sizeof(p[i]));
		p[i].vid = NDL__NMSG_VID_BASE;
		p[i].msgtype = i % 2 ? NDL__NMSG_BASE_ENCODE : 99;
		p[i].time_sec = 1700000000 + (int64_t)i;
		p[i].time_nsec = (uint32_t)(i * 7919) % 1000000000u;
		p[i].data = bufs[i];
		p[i].len = len;
		p[i].has_source = i % 3 == 0;
		p[i].source = 0xa1b2c3d4;
		p[i].has_operator = i % 5 == 0;
		p[i].operator_id = 7;
		p[i].has_group = i % 7 == 0;
		p[i].group = 9;
	}
}

static void assert_same(const struct ndl__nmsg_payload *a, const struct ndl__nmsg_payload *b)
{
	ck_assert_uint_eq(a->vid, b->vid);
	ck_assert_uint_eq(a->msgtype, b->msgtype);
	ck_assert_int_eq(a->time_sec, b->time_sec);
	ck_assert_uint_eq(a->time_nsec, b->time_nsec);
	ck_assert_uint_eq(a->len, b->len);
	ck_assert(a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
	ck_assert_int_eq(a->has_source, b->has_source);
	ck_assert_int_eq(a->has_operator, b->has_operator);
	ck_assert_int_eq(a->has_group, b->has_group);
	if (a->has_source)
		ck_assert_uint_eq(a->source, b->source);
}

/* ------------------------------------------------------------------------ */
/* Protobuf                                                                  */

START_TEST(pb_varint_round_trip)
{
	static const uint64_t values[] = { 0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX,
		(uint64_t)UINT32_MAX + 1, INT64_MAX, UINT64_MAX };
	struct ndl__pb_buf b;

	ndl__pb_buf_init(&b, 1024);
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct ndl__pb_reader r;
		uint64_t v;
		size_t before = b.len;

		ck_assert_int_eq(ndl__pb_put_varint(&b, values[i]), 0);
		ck_assert_uint_eq(b.len - before, ndl__pb_varint_size(values[i]));
		ndl__pb_reader_init(&r, b.data + before, b.len - before);
		ck_assert_int_eq(ndl__pb_read_varint(&r, &v), 0);
		ck_assert(v == values[i]);
		ck_assert(ndl__pb_done(&r));
	}
	ndl__pb_buf_free(&b);
}
END_TEST

START_TEST(pb_rejects_malformed)
{
	static const struct {
		const char *what;
		uint8_t d[16];
		size_t n;
	} bad[] = {
		{ "varint cut short", { 0x08, 0x80 }, 2 },
		{ "11-byte varint", { 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
				      0x80, 0x01 }, 12 },
		{ "10th byte above 1", { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					 0x02 }, 11 },
		{ "field number 0", { 0x00, 0x01 }, 2 },
		{ "length past the end", { 0x12, 0x05, 'a', 'b' }, 4 },
		{ "huge length", { 0x12, 0xff, 0xff, 0xff, 0xff, 0x0f }, 6 },
		{ "group start", { 0x0b }, 1 },
		{ "wire type 7", { 0x0f, 0x00 }, 2 },
		{ "fixed32 cut", { 0x25, 0x01, 0x02 }, 3 },
		{ "fixed64 cut", { 0x09, 0x01, 0x02, 0x03 }, 4 },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ndl__pb_reader r;
		struct ndl__pb_field f;
		int rc = 0;

		ndl__pb_reader_init(&r, bad[i].d, bad[i].n);
		while (!ndl__pb_done(&r) && rc == 0)
			rc = ndl__pb_next(&r, &f);
		ck_assert_msg(rc == -EBADMSG, "%s accepted", bad[i].what);
	}
}
END_TEST

START_TEST(pb_fields_and_cap)
{
	struct ndl__pb_buf b;
	struct ndl__pb_reader r;
	struct ndl__pb_field f;

	ndl__pb_buf_init(&b, 32);
	ck_assert_int_eq(ndl__pb_put_uint(&b, 3, 150), 0);
	ck_assert_int_eq(ndl__pb_put_fixed32(&b, 4, 0xdeadbeef), 0);
	ck_assert_int_eq(ndl__pb_put_bytes(&b, 5, "hi", 2), 0);
	ck_assert_uint_eq(b.len, 3 + 5 + 4);
	ck_assert_int_eq(b.data[0], 0x18);    /* the protobuf docs' 150 example */
	ck_assert_int_eq(b.data[1], 0x96);
	ck_assert_int_eq(b.data[2], 0x01);
	ndl__pb_reader_init(&r, b.data, b.len);
	ck_assert_int_eq(ndl__pb_next(&r, &f), 0);
	ck_assert_uint_eq(f.number, 3);
	ck_assert_uint_eq(f.u, 150);
	ck_assert_int_eq(ndl__pb_next(&r, &f), 0);
	ck_assert_uint_eq(f.wire, NDL__PB_FIXED32);
	ck_assert_uint_eq(f.u, 0xdeadbeef);
	ck_assert_int_eq(ndl__pb_next(&r, &f), 0);
	ck_assert_uint_eq(f.len, 2);
	ck_assert(memcmp(f.data, "hi", 2) == 0);
	ck_assert(ndl__pb_done(&r));
	/* the cap holds */
	ck_assert_int_eq(ndl__pb_put_bytes(&b, 6, "0123456789012345678901234567890", 31), -ENOBUFS);
	ck_assert(b.failed);
	ndl__pb_buf_free(&b);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* CRC-32C                                                                   */

START_TEST(crc32c_check_values)
{
	uint8_t zeros[32] = { 0 }, ones[32];

	memset(ones, 0xff, sizeof(ones));
	ck_assert_uint_eq(ndl__crc32c("123456789", 9), 0xE3069283u);
	/* RFC 3720 appendix B.4 */
	ck_assert_uint_eq(ndl__crc32c(zeros, 32), 0x8A9136AAu);
	ck_assert_uint_eq(ndl__crc32c(ones, 32), 0x62A8AB43u);
	ck_assert_uint_eq(ndl__crc32c("", 0), 0);
	ck_assert_uint_eq(ndl__nmsg_crc_wire(0x11223344u), 0x44332211u);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* base messages                                                             */

START_TEST(base_round_trips)
{
	struct ndl__pb_buf b;
	uint8_t frame[60];
	struct ndl__nmsg_packet pk = { .payload_type = 1, .data = frame, .len = 40 }, pk2;
	struct ndl__nmsg_pkt pt = { .data = frame, .len = 60, .has_len_frame = true,
				    .len_frame = 1514 }, pt2;
	struct ndl__nmsg_ipconn ic = { .has_proto = true, .proto = 17, .has_srcport = true,
				       .srcport = 5353, .has_dstport = true, .dstport = 53,
				       .srcip_len = 16, .dstip_len = 16 }, ic2;
	struct ndl__nmsg_encode en = { .type = NDL__NMSG_ENCODE_JSON,
				       .data = (const uint8_t *)"{\"a\":1}", .len = 7 }, en2;

	for (size_t i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	ic.srcip[0] = 0x20;
	ic.dstip[15] = 2;
	ndl__pb_buf_init(&b, 4096);
	ck_assert_int_eq(ndl__nmsg_packet_encode(&b, &pk), 0);
	ck_assert_int_eq(ndl__nmsg_packet_decode(b.data, b.len, &pk2), 0);
	ck_assert_uint_eq(pk2.payload_type, 1);
	ck_assert_uint_eq(pk2.len, 40);
	ck_assert(memcmp(pk2.data, frame, 40) == 0);
	ndl__pb_buf_reset(&b);
	ck_assert_int_eq(ndl__nmsg_pkt_encode(&b, &pt), 0);
	ck_assert_int_eq(ndl__nmsg_pkt_decode(b.data, b.len, &pt2), 0);
	ck_assert_uint_eq(pt2.len_frame, 1514);
	ck_assert_uint_eq(pt2.len, 60);
	ndl__pb_buf_reset(&b);
	ck_assert_int_eq(ndl__nmsg_ipconn_encode(&b, &ic), 0);
	ck_assert_int_eq(ndl__nmsg_ipconn_decode(b.data, b.len, &ic2), 0);
	ck_assert_uint_eq(ic2.proto, 17);
	ck_assert_uint_eq(ic2.srcport, 5353);
	ck_assert_uint_eq(ic2.dstport, 53);
	ck_assert_uint_eq(ic2.srcip_len, 16);
	ck_assert(memcmp(ic2.srcip, ic.srcip, 16) == 0 && memcmp(ic2.dstip, ic.dstip, 16) == 0);
	ndl__pb_buf_reset(&b);
	ck_assert_int_eq(ndl__nmsg_encode_encode(&b, &en), 0);
	ck_assert_int_eq(ndl__nmsg_encode_decode(b.data, b.len, &en2), 0);
	ck_assert_uint_eq(en2.type, NDL__NMSG_ENCODE_JSON);
	ck_assert_uint_eq(en2.len, 7);
	ndl__pb_buf_free(&b);
}
END_TEST

START_TEST(base_rejects)
{
	/* srcip of 5 bytes; port above 65535; packet without payload; encode without type */
	static const uint8_t ip5[] = { 0x12, 0x05, 1, 2, 3, 4, 5 };
	static const uint8_t port[] = { 0x18, 0x80, 0x80, 0x04 };
	static const uint8_t nopayload[] = { 0x08, 0x01 };
	static const uint8_t notype[] = { 0x12, 0x01, 'x' };
	struct ndl__nmsg_ipconn ic;
	struct ndl__nmsg_packet pk;
	struct ndl__nmsg_encode en;
	struct ndl__nmsg_pkt pt;

	ck_assert_int_eq(ndl__nmsg_ipconn_decode(ip5, sizeof(ip5), &ic), -EBADMSG);
	ck_assert_int_eq(ndl__nmsg_ipconn_decode(port, sizeof(port), &ic), -EBADMSG);
	ck_assert_int_eq(ndl__nmsg_packet_decode(nopayload, sizeof(nopayload), &pk), -EBADMSG);
	ck_assert_int_eq(ndl__nmsg_encode_decode(notype, sizeof(notype), &en), -EBADMSG);
	ck_assert_int_eq(ndl__nmsg_pkt_decode(nopayload, sizeof(nopayload), &pt), -EBADMSG);
}
END_TEST

START_TEST(filter_parsing)
{
	struct ndl__nmsg_reader_config c;

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(ndl__nmsg_parse_filter("base:packet", &c), 0);
	ck_assert(c.filter_vid && c.vid == 1 && c.filter_msgtype && c.msgtype == 12);
	ck_assert_int_eq(ndl__nmsg_parse_filter("base", &c), 0);
	ck_assert(c.filter_vid && !c.filter_msgtype);
	ck_assert_int_eq(ndl__nmsg_parse_filter("2:7", &c), 0);
	ck_assert(c.vid == 2 && c.msgtype == 7);
	ck_assert_int_eq(ndl__nmsg_parse_filter("base:nope", &c), -EINVAL);
	ck_assert_int_eq(ndl__nmsg_parse_filter("", &c), -EINVAL);
	ck_assert_int_eq(ndl__nmsg_parse_filter("x:1", &c), -EINVAL);
	ck_assert_int_eq(ndl__nmsg_parse_filter("1:99999999999", &c), -EINVAL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Writer and reader                                                         */

/* The "last" field of a fragment container. */
static uint32_t frag_last(const uint8_t *c, size_t len)
{
	struct ndl__pb_reader r;
	struct ndl__pb_field f;

	ndl__pb_reader_init(&r, c + NDL__NMSG_HDR_LEN, len - NDL__NMSG_HDR_LEN);
	while (!ndl__pb_done(&r)) {
		ck_assert_int_eq(ndl__pb_next(&r, &f), 0);
		if (f.number == 3)
			return (uint32_t)f.u;
	}
	ck_abort_msg("a fragment without last");
	return 0;
}

struct rt_case {
	size_t container;
	bool zlib, unbuffered, sequence;
	size_t n, max_len;
};

static const struct rt_case rt_cases[] = {
	{ 0, false, false, false, 200, 300 },
	{ 0, true, false, false, 200, 300 },
	{ 0, false, true, false, 50, 300 },
	{ 256, false, false, false, 100, 2000 },    /* most payloads fragmented */
	{ 256, true, false, true, 100, 5000 },
	{ 1280, false, false, true, 300, 100 },
	{ 128, false, true, true, 40, 3000 },
	{ NDL__NMSG_MAX_CONTAINER, true, false, false, 20, 200000 },
};

START_TEST(writer_reader_round_trip)
{
	const struct rt_case *tc = &rt_cases[_i];
	struct ndl__nmsg_writer_config wc = { .container_size = tc->container, .zlib = tc->zlib,
		.unbuffered = tc->unbuffered, .sequence = tc->sequence };
	struct ndl__nmsg_payload *p = calloc(tc->n, sizeof(*p));
	uint8_t **bufs = calloc(tc->n, sizeof(*bufs));
	struct sink *s = calloc(1, sizeof(*s));
	struct ndl__nmsg_writer *w = ndl__nmsg_writer_new(&wc, to_sink, s);
	size_t limit = tc->container ? tc->container : NDL__NMSG_DEFAULT_CONTAINER;
	struct got *gs = got_new(), *gd = got_new();
	struct ndl__nmsg_reader *rs, *rd;
	uint8_t *all;
	size_t len, at = 0, piece = 1;

	ck_assert_ptr_nonnull(w);
	make_payloads(p, bufs, tc->n, tc->max_len);
	for (size_t i = 0; i < tc->n; i++)
		ck_assert_int_eq(ndl__nmsg_writer_add(w, &p[i]), 0);
	ck_assert_int_eq(ndl__nmsg_writer_flush(w), 0);
	ck_assert_uint_eq(ndl__nmsg_writer_stats(w)->payloads, tc->n);
	ck_assert_uint_eq(ndl__nmsg_writer_stats(w)->containers, s->n);
	for (size_t i = 0; i < s->n; i++) {
		ck_assert_uint_le(s->len[i], limit);
		ck_assert(memcmp(s->c[i], "NMSG", 4) == 0);
		ck_assert_uint_eq(s->c[i][5], 2);
		ck_assert_uint_eq(!!(s->c[i][4] & NDL__NMSG_FLAG_ZLIB), tc->zlib);
	}
	if (tc->unbuffered)
		ck_assert_uint_ge(s->n, tc->n);

	/* as a stream, in uneven pieces */
	rs = ndl__nmsg_reader_new(NULL, collect, count_error, gs);
	all = sink_join(s, &len);
	while (at < len) {
		size_t n = len - at < piece ? len - at : piece;
		ck_assert_int_eq(ndl__nmsg_reader_feed(rs, all + at, n), 0);
		at += n;
		piece = piece * 2 + 1;
	}
	ck_assert_int_eq(ndl__nmsg_reader_finish(rs), 0);
	ck_assert_uint_eq(ndl__nmsg_reader_stats(rs)->errors, 0);
	ck_assert_uint_eq(gs->n, tc->n);
	ck_assert_uint_eq(ndl__nmsg_reader_stats(rs)->crc_checked, tc->n);
	for (size_t i = 0; i < tc->n; i++)
		assert_same(&gs->p[i], &p[i]);

	/* as datagrams, the fragments of each message in reverse order */
	rd = ndl__nmsg_reader_new(NULL, collect, count_error, gd);
	for (size_t i = 0; i < s->n;) {
		size_t j = i + 1;
		if (s->c[i][4] & NDL__NMSG_FLAG_FRAGMENT)
			j = i + frag_last(s->c[i], s->len[i]) + 1;
		ck_assert_uint_le(j, s->n);
		for (size_t k = j; k-- > i;)
			ndl__nmsg_reader_datagram(rd, s->c[k], s->len[k], 1, 0);
		i = j;
	}
	ck_assert_uint_eq(ndl__nmsg_reader_stats(rd)->errors, 0);
	ck_assert_uint_eq(ndl__nmsg_reader_stats(rd)->seq_gaps, 0);
	ck_assert_uint_eq(gd->n, tc->n);
	for (size_t i = 0; i < tc->n; i++)
		assert_same(&gd->p[i], &p[i]);

	free(all);
	ndl__nmsg_reader_free(rs);
	ndl__nmsg_reader_free(rd);
	got_free(gs);
	got_free(gd);
	ndl__nmsg_writer_free(w);
	sink_free(s);
	for (size_t i = 0; i < tc->n; i++)
		free(bufs[i]);
	free(bufs);
	free(p);
}
END_TEST

/* Write n payloads of len bytes with cfg into a new sink. */
static struct sink *write_some(const struct ndl__nmsg_writer_config *cfg, size_t n, size_t len)
{
	struct sink *s = calloc(1, sizeof(*s));
	struct ndl__nmsg_writer *w = ndl__nmsg_writer_new(cfg, to_sink, s);
	uint8_t *buf = malloc(len);

	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31);
	for (size_t i = 0; i < n; i++) {
		struct ndl__nmsg_payload p = { .vid = 1, .msgtype = 11, .time_sec = (int64_t)i,
					       .data = buf, .len = len };
		ck_assert_int_eq(ndl__nmsg_writer_add(w, &p), 0);
	}
	ck_assert_int_eq(ndl__nmsg_writer_flush(w), 0);
	ndl__nmsg_writer_free(w);
	free(buf);
	return s;
}

START_TEST(sequence_gaps_counted)
{
	struct ndl__nmsg_writer_config wc = { .container_size = 1280, .unbuffered = true,
					      .sequence = true };
	struct sink *s = write_some(&wc, 10, 100);
	struct got *g = got_new();
	struct ndl__nmsg_reader *r = ndl__nmsg_reader_new(NULL, collect, count_error, g);

	ck_assert_uint_eq(s->n, 10);
	for (size_t i = 0; i < s->n; i++)
		if (i != 3 && i != 6 && i != 7)
			ndl__nmsg_reader_datagram(r, s->c[i], s->len[i], 42, 0);
	ck_assert_uint_eq(g->n, 7);
	ck_assert_uint_eq(ndl__nmsg_reader_stats(r)->seq_gaps, 2);
	ck_assert_uint_eq(ndl__nmsg_reader_stats(r)->seq_lost, 3);
	/* another sender with its own numbers is followed apart */
	ndl__nmsg_reader_datagram(r, s->c[0], s->len[0], 43, 0);
	ck_assert_uint_eq(ndl__nmsg_reader_stats(r)->seq_gaps, 2);
	ndl__nmsg_reader_free(r);
	got_free(g);
	sink_free(s);
}
END_TEST

START_TEST(fragments_limits_and_timeouts)
{
	struct ndl__nmsg_writer_config wc = { .container_size = 256, .unbuffered = true };
	struct sink *s = write_some(&wc, 3, 1000);    /* 3 messages of 5 fragments */
	struct ndl__nmsg_reader_config rc = { .max_frag_sets = 2, .frag_timeout_ns = 1000 };
	struct got *g = got_new();
	struct ndl__nmsg_reader *r = ndl__nmsg_reader_new(&rc, collect, count_error, g);

	ck_assert_uint_eq(s->n, 15);
	ck_assert(s->c[0][4] & NDL__NMSG_FLAG_FRAGMENT);
	/* the first fragment of each of the 3 messages: only 2 sets fit */
	ndl__nmsg_reader_datagram(r, s->c[0], s->len[0], 1, 0);
	ndl__nmsg_reader_datagram(r, s->c[5], s->len[5], 1, 0);
	ndl__nmsg_reader_datagram(r, s->c[10], s->len[10], 1, 0);
	ck_assert_uint_eq(g->errors[NDL__NMSG_ERR_FRAG_LIMIT], 1);
	/* a duplicate is counted and ignored */
	ndl__nmsg_reader_datagram(r, s->c[10], s->len[10], 1, 0);
	ck_assert_uint_eq(g->errors[NDL__NMSG_ERR_FRAGMENT], 1);
	/* the rest of message 3 completes it */
	for (size_t i = 11; i < 15; i++)
		ndl__nmsg_reader_datagram(r, s->c[i], s->len[i], 1, 0);
	ck_assert_uint_eq(g->n, 1);
	ck_assert_uint_eq(ndl__nmsg_reader_stats(r)->reassembled, 1);
	/* message 2's set times out */
	ndl__nmsg_reader_expire(r, 5000);
	ck_assert_uint_eq(g->errors[NDL__NMSG_ERR_FRAG_TIMEOUT], 1);
	/* the same fragment from another peer is another set */
	ndl__nmsg_reader_datagram(r, s->c[5], s->len[5], 2, 6000);
	ck_assert_uint_eq(g->n, 1);
	ndl__nmsg_reader_free(r);    /* frees the pending set */
	got_free(g);
	sink_free(s);
}
END_TEST

START_TEST(fragment_limit_of_fragments)
{
	struct ndl__nmsg_writer_config wc = { .container_size = 128, .unbuffered = true };
	struct sink *s = write_some(&wc, 1, 5000);
	struct ndl__nmsg_reader_config rc = { .max_fragments = 8 };
	struct got *g = got_new();
	struct ndl__nmsg_reader *r = ndl__nmsg_reader_new(&rc, collect, count_error, g);

	ck_assert_uint_gt(s->n, 8);
	for (size_t i = 0; i < s->n; i++)
		ndl__nmsg_reader_datagram(r, s->c[i], s->len[i], 1, 0);
	ck_assert_uint_eq(g->n, 0);
	ck_assert_uint_eq(ndl__nmsg_reader_stats(r)->by_error[NDL__NMSG_ERR_FRAG_LIMIT], s->n);
	ck_assert_uint_eq(g->errors[NDL__NMSG_ERR_FRAG_LIMIT], 6);    /* the rest only counted */
	ndl__nmsg_reader_free(r);
	got_free(g);
	sink_free(s);
}
END_TEST

START_TEST(crc_mismatch_skips_one_payload)
{
	struct ndl__nmsg_writer_config wc = { 0 };
	struct sink *s = write_some(&wc, 3, 50);
	struct got *g = got_new();
	struct ndl__nmsg_reader *r = ndl__nmsg_reader_new(NULL, collect, count_error, g);
	uint8_t *c = s->c[0];
	size_t at;

	ck_assert_uint_eq(s->n, 1);
	/* the second payload's data: find its 50-byte field and flip a byte */
	at = 10;
	for (int k = 0; k < 2; k++) {
		while (!(c[at] == 0x2a && c[at + 1] == 50))
			at++;
		at += 2;
	}
	c[at + 10] ^= 0xff;
	ck_assert_int_eq(ndl__nmsg_reader_feed(r, c, s->len[0]), 0);
	ck_assert_int_eq(ndl__nmsg_reader_finish(r), 0);
	ck_assert_uint_eq(g->n, 2);
	ck_assert_uint_eq(g->errors[NDL__NMSG_ERR_CRC], 1);
	ck_assert_int_eq(g->p[1].time_sec, 2);
	ndl__nmsg_reader_free(r);
	got_free(g);
	sink_free(s);
}
END_TEST

START_TEST(stream_errors)
{
	struct got *g = got_new();
	struct ndl__nmsg_reader *r;
	static const uint8_t badmagic[] = "NMSX\0\x02\0\0\0\0";
	static const uint8_t badflags[] = "NMSG\x80\x02\0\0\0\0";
	static const uint8_t big[] = "NMSG\0\x02\x7f\0\0\0";
	static const uint8_t zlibshort[] = "NMSG\x01\x02\0\0\0\x02\0\0";
	static const uint8_t zlibbad[] = "NMSG\x01\x02\0\0\0\x06\0\0\0\x05xx";

	r = ndl__nmsg_reader_new(NULL, collect, count_error, g);
	ck_assert_int_eq(ndl__nmsg_reader_feed(r, badmagic, 10), -EBADMSG);
	ck_assert_int_eq(ndl__nmsg_reader_feed(r, badmagic, 10), -EBADMSG);    /* stays dead */
	ck_assert_uint_eq(g->errors[NDL__NMSG_ERR_MAGIC], 1);
	ndl__nmsg_reader_free(r);

	r = ndl__nmsg_reader_new(NULL, collect, count_error, g);
	ck_assert_int_eq(ndl__nmsg_reader_feed(r, badflags, 10), 0);    /* skipped, goes on */
	ck_assert_uint_eq(g->errors[NDL__NMSG_ERR_FLAGS], 1);
	ck_assert_int_eq(ndl__nmsg_reader_feed(r, big, 10), -EBADMSG);
	ck_assert_uint_eq(g->errors[NDL__NMSG_ERR_TOO_LARGE], 1);
	ndl__nmsg_reader_free(r);

	r = ndl__nmsg_reader_new(NULL, collect, count_error, g);
	ck_assert_int_eq(ndl__nmsg_reader_feed(r, zlibshort, 12), 0);
	ck_assert_int_eq(ndl__nmsg_reader_feed(r, zlibbad, 16), 0);
	ck_assert_uint_eq(g->errors[NDL__NMSG_ERR_ZLIB], 2);
	ck_assert_int_eq(ndl__nmsg_reader_feed(r, big, 5), 0);
	ck_assert_int_eq(ndl__nmsg_reader_finish(r), -EBADMSG);    /* 5 bytes of a header */
	ck_assert_uint_eq(g->errors[NDL__NMSG_ERR_TRUNCATED], 1);
	ndl__nmsg_reader_free(r);

	/* datagrams: short, longer than their container, cut */
	r = ndl__nmsg_reader_new(NULL, collect, count_error, g);
	ck_assert_int_eq(ndl__nmsg_reader_datagram(r, big, 4, 1, 0), -EBADMSG);
	ck_assert_int_eq(ndl__nmsg_reader_datagram(r, (const uint8_t *)"hello", 5, 1, 0), -EBADMSG);
	ck_assert_uint_eq(g->errors[NDL__NMSG_ERR_MAGIC], 2);
	{
		uint8_t d[14] = "NMSG\0\x02\0\0\0\x02";
		ck_assert_int_eq(ndl__nmsg_reader_datagram(r, d, 14, 1, 0), -EBADMSG);
		ck_assert_uint_eq(g->errors[NDL__NMSG_ERR_TRAILING], 1);
		d[9] = 8;
		ck_assert_int_eq(ndl__nmsg_reader_datagram(r, d, 14, 1, 0), -EBADMSG);
	}
	ck_assert_uint_eq(g->errors[NDL__NMSG_ERR_TRUNCATED], 3);
	ck_assert_uint_eq(ndl__nmsg_reader_stats(r)->errors, 4);
	ndl__nmsg_reader_free(r);
	got_free(g);
}
END_TEST

START_TEST(payload_callback_stops)
{
	struct ndl__nmsg_writer_config wc = { 0 };
	struct sink *s = write_some(&wc, 5, 10);
	struct got *g = got_new();
	struct ndl__nmsg_reader *r = ndl__nmsg_reader_new(NULL, collect, count_error, g);

	g->stop_after = 2;
	ck_assert_int_eq(ndl__nmsg_reader_feed(r, s->c[0], s->len[0]), -ECANCELED);
	ck_assert_uint_eq(g->n, 2);
	ndl__nmsg_reader_free(r);
	got_free(g);
	sink_free(s);
}
END_TEST

START_TEST(filter_by_type)
{
	struct ndl__nmsg_writer_config wc = { 0 };
	struct ndl__nmsg_payload *p = calloc(20, sizeof(*p));
	uint8_t *bufs[20];
	struct sink *s = calloc(1, sizeof(*s));
	struct ndl__nmsg_writer *w = ndl__nmsg_writer_new(&wc, to_sink, s);
	struct ndl__nmsg_reader_config rc = { 0 };
	struct got *g = got_new();
	struct ndl__nmsg_reader *r;

	make_payloads(p, bufs, 20, 30);    /* odd ones base:encode */
	for (size_t i = 0; i < 20; i++)
		ndl__nmsg_writer_add(w, &p[i]);
	ndl__nmsg_writer_flush(w);
	ndl__nmsg_parse_filter("base:encode", &rc);
	r = ndl__nmsg_reader_new(&rc, collect, count_error, g);
	ck_assert_int_eq(ndl__nmsg_reader_feed(r, s->c[0], s->len[0]), 0);
	ck_assert_uint_eq(g->n, 10);
	ck_assert_uint_eq(ndl__nmsg_reader_stats(r)->filtered, 10);
	ndl__nmsg_reader_free(r);
	got_free(g);
	ndl__nmsg_writer_free(w);
	sink_free(s);
	for (size_t i = 0; i < 20; i++)
		free(bufs[i]);
	free(p);
}
END_TEST

START_TEST(writer_rejects_sizes)
{
	struct ndl__nmsg_writer_config wc = { .container_size = 64 };

	ck_assert_ptr_null(ndl__nmsg_writer_new(&wc, to_sink, NULL));
	ck_assert_int_eq(errno, EINVAL);
	wc.container_size = NDL__NMSG_MAX_CONTAINER + 1;
	ck_assert_ptr_null(ndl__nmsg_writer_new(&wc, to_sink, NULL));
	{
		/* a message that would need more fragments than a reader takes */
		struct sink *s = calloc(1, sizeof(*s));
		struct ndl__nmsg_writer *w;
		uint8_t *big = calloc(1, 1u << 20);
		struct ndl__nmsg_payload p = { .vid = 1, .msgtype = 11, .data = big,
					       .len = 1u << 20 };
		wc.container_size = 128;
		wc.unbuffered = true;
		w = ndl__nmsg_writer_new(&wc, to_sink, s);
		ck_assert_int_eq(ndl__nmsg_writer_add(w, &p), -EMSGSIZE);
		ck_assert_uint_eq(s->n, 0);
		p.len = 1000;
		ck_assert_int_eq(ndl__nmsg_writer_add(w, &p), 0);    /* and it goes on */
		ck_assert_uint_gt(s->n, 1);
		ndl__nmsg_writer_free(w);
		sink_free(s);
		free(big);
	}
	ndl__nmsg_writer_free(NULL);
	ndl__nmsg_reader_free(NULL);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* The reference vectors: every truncation, byte flips                       */

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *d;
	long n;

	*len = 0;
	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d = malloc(n > 0 ? (size_t)n : 1);
	ck_assert(d != NULL);
	*len = n > 0 ? fread(d, 1, (size_t)n, f) : 0;
	fclose(f);
	return d;
}

/* Every ".nmsg" in the vectors folder, or 0 when there is none. */
static size_t vector_paths(char paths[][512], size_t max)
{
	const char *dir = getenv("NDL_SHARED_NMSG");
	size_t n = 0;
	struct dirent *e;
	DIR *d;

	if (!dir || !(d = opendir(dir))) {
		fprintf(stderr, "test_nmsg: no NMSG vectors (NDL_SHARED_NMSG='%s'); the vector "
			"tests check nothing\n", dir ? dir : "");
		return 0;
	}
	while ((e = readdir(d)) && n < max) {
		size_t l = strlen(e->d_name);
		if (l > 5 && strcmp(e->d_name + l - 5, ".nmsg") == 0)
			snprintf(paths[n++], 512, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	return n;
}

static size_t read_whole(const uint8_t *d, size_t len, int *finish)
{
	struct got *g = got_new();
	struct ndl__nmsg_reader *r = ndl__nmsg_reader_new(NULL, collect, count_error, g);
	size_t n;

	ndl__nmsg_reader_feed(r, d, len);
	*finish = ndl__nmsg_reader_finish(r);
	n = g->n;
	ndl__nmsg_reader_free(r);
	got_free(g);
	return n;
}

START_TEST(vectors_every_truncation)
{
	static char paths[64][512];
	size_t np = vector_paths(paths, 64), checked = 0;

	for (size_t i = 0; i < np; i++) {
		size_t len, full, n;
		int fin;
		uint8_t *d = read_file(paths[i], &len);

		ck_assert_ptr_nonnull(d);
		full = read_whole(d, len, &fin);
		for (size_t cut = 0, next = 0; cut < len; cut++) {
			bool boundary = cut == next;
			if (boundary && next + NDL__NMSG_HDR_LEN <= len)
				next += NDL__NMSG_HDR_LEN + ((size_t)d[next + 6] << 24 |
					(size_t)d[next + 7] << 16 | (size_t)d[next + 8] << 8 | d[next + 9]);
			struct got *g = got_new();
			struct ndl__nmsg_reader *r = ndl__nmsg_reader_new(NULL, collect, count_error, g);
			uint8_t *copy = malloc(cut ? cut : 1);    /* exactly cut bytes, for ASan */
			memcpy(copy, d, cut);
			ndl__nmsg_reader_feed(r, copy, cut);
			fin = ndl__nmsg_reader_finish(r);
			n = g->n;
			ck_assert_uint_le(n, full);
			/* a cut inside a container is always reported, at its end never */
			if (fin == 0 && !ndl__nmsg_reader_stats(r)->errors)
				ck_assert_msg(boundary, "%s cut at %zu: no error", paths[i], cut);
			else
				ck_assert_msg(!boundary || strstr(paths[i], "badver"),
					      "%s cut at container boundary %zu: error", paths[i], cut);
			/* as one datagram, too */
			ndl__nmsg_reader_datagram(r, copy, cut, 1, 0);
			ndl__nmsg_reader_free(r);
			got_free(g);
			free(copy);
			checked++;
		}
		free(d);
	}
	fprintf(stderr, "test_nmsg: %zu truncations of %zu vectors read without harm\n",
		checked, np);
}
END_TEST

START_TEST(vectors_byte_flips)
{
	static char paths[64][512];
	size_t np = vector_paths(paths, 64), checked = 0;

	for (size_t i = 0; i < np; i++) {
		size_t len;
		uint8_t *d = read_file(paths[i], &len);
		size_t step = len > 2000 ? len / 2000 : 1;

		for (size_t at = 0; at < len; at += step) {
			static const uint8_t xors[] = { 0x01, 0x80, 0xff };
			for (size_t k = 0; k < sizeof(xors); k++) {
				int fin;
				d[at] ^= xors[k];
				read_whole(d, len, &fin);
				d[at] ^= xors[k];
				checked++;
			}
		}
		free(d);
	}
	fprintf(stderr, "test_nmsg: %zu byte flips read without harm\n", checked);
}
END_TEST

static Suite *nmsg_suite(void)
{
	Suite *s = suite_create("nmsg");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, pb_varint_round_trip);
	tcase_add_test(tc, pb_rejects_malformed);
	tcase_add_test(tc, pb_fields_and_cap);
	tcase_add_test(tc, crc32c_check_values);
	tcase_add_test(tc, base_round_trips);
	tcase_add_test(tc, base_rejects);
	tcase_add_test(tc, filter_parsing);
	tcase_add_loop_test(tc, writer_reader_round_trip, 0,
			    (int)(sizeof(rt_cases) / sizeof(rt_cases[0])));
	tcase_add_test(tc, sequence_gaps_counted);
	tcase_add_test(tc, fragments_limits_and_timeouts);
	tcase_add_test(tc, fragment_limit_of_fragments);
	tcase_add_test(tc, crc_mismatch_skips_one_payload);
	tcase_add_test(tc, stream_errors);
	tcase_add_test(tc, payload_callback_stops);
	tcase_add_test(tc, filter_by_type);
	tcase_add_test(tc, writer_rejects_sizes);
	suite_add_tcase(s, tc);
	tc = tcase_create("vectors");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, vectors_every_truncation);
	tcase_add_test(tc, vectors_byte_flips);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(nmsg_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
