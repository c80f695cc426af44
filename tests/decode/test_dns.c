/* SPDX-License-Identifier: MIT */
/*
 * test_dns.c - the DNS parser on crafted messages (compression and its
 * abuses, label and name limits, escaping, every rendered RDATA type, EDNS,
 * the TCP length prefix, record limits) and on a real response cut at
 * every byte.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decode.h"
#include "frames.h"

enum { T_A = 1, T_NS = 2, T_CNAME = 5, T_SOA = 6, T_PTR = 12, T_MX = 15,
       T_TXT = 16, T_AAAA = 28, T_DNAME = 39, T_OPT = 41 };

/*
 * A real answer: "www.tcpdump.org A?" answered with 2 A records, 2 NS
 * records and 5 additional records (glue A/AAAA and an OPT), as carried in
 * the tcpdump project's test capture dns_udp.pcap.
 */
static const uint8_t real_response[224] = {
	0x59, 0x34, 0x85, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x02, 0x00, 0x05,
	0x03, 0x77, 0x77, 0x77, 0x07, 0x74, 0x63, 0x70, 0x64, 0x75, 0x6d, 0x70,
	0x03, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00,
	0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 0xc0, 0x8b, 0x2e,
	0x42, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00,
	0x04, 0xc6, 0xc7, 0x58, 0x68, 0xc0, 0x10, 0x00, 0x02, 0x00, 0x01, 0x00,
	0x01, 0x51, 0x80, 0x00, 0x12, 0x03, 0x73, 0x6e, 0x73, 0x08, 0x63, 0x6f,
	0x6f, 0x70, 0x65, 0x72, 0x69, 0x78, 0x03, 0x6e, 0x65, 0x74, 0x00, 0xc0,
	0x10, 0x00, 0x02, 0x00, 0x01, 0x00, 0x01, 0x51, 0x80, 0x00, 0x12, 0x03,
	0x6e, 0x69, 0x63, 0x09, 0x73, 0x61, 0x6e, 0x64, 0x65, 0x6c, 0x6d, 0x61,
	0x6e, 0x02, 0x63, 0x61, 0x00, 0xc0, 0x6b, 0x00, 0x01, 0x00, 0x01, 0x00,
	0x00, 0x01, 0x2c, 0x00, 0x04, 0xd1, 0x57, 0xf9, 0x12, 0xc0, 0x6b, 0x00,
	0x1c, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x10, 0x26, 0x07, 0xf0,
	0xb0, 0x00, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xba, 0xbe, 0xf0,
	0x0d, 0xc0, 0x4d, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x1c, 0x20, 0x00,
	0x04, 0x61, 0x6b, 0x85, 0x0f, 0xc0, 0x4d, 0x00, 0x1c, 0x00, 0x01, 0x00,
	0x00, 0x1c, 0x20, 0x00, 0x10, 0x26, 0x00, 0x3c, 0x03, 0x00, 0x00, 0x00,
	0x00, 0xf0, 0x3c, 0x91, 0xff, 0xfe, 0x96, 0xe8, 0xef, 0x00, 0x00, 0x29,
	0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static struct ndl__dns_buf *buf;
static uint8_t *held;

static void setup(void)
{
	buf = malloc(sizeof(*buf));
	ck_assert_ptr_nonnull(buf);
	/* Garbage, so a parse that forgets to reset something shows it. */
	memset(buf, 0xa5, sizeof(*buf));
}

static void teardown(void)
{
	free(buf);
	free(held);
	buf = NULL;
	held = NULL;
}

/* Parse n bytes of p from a heap block of exactly that size. */
static int parse_n(const void *p, size_t n, bool tcp)
{
	free(held);
	held = exact_copy(p, n);
	return ndl__dns_parse(buf, held, n, tcp);
}

static int parse(const struct fb *f)
{
	return parse_n(f->b, f->n, false);
}

static void hdr(struct fb *f, unsigned int flags, unsigned int qd, unsigned int an,
		unsigned int ns, unsigned int ar)
{
	fb_reset(f);
	put16(f, 0xbeef);
	put16(f, flags);
	put16(f, qd);
	put16(f, an);
	put16(f, ns);
	put16(f, ar);
}

static void question(struct fb *f, const char *name, unsigned int type)
{
	putname(f, name);
	put16(f, type);
	put16(f, 1);
}

static void ptr(struct fb *f, unsigned int off)
{
	put16(f, 0xc000 | off);
}

/* The fixed part of an RR after its name; returns where rdlength sits. */
static size_t rr_fixed(struct fb *f, unsigned int type, unsigned int rclass, uint32_t ttl)
{
	size_t at;

	put16(f, type);
	put16(f, rclass);
	put32(f, ttl);
	at = f->n;
	put16(f, 0);
	return at;
}

static void rr_end(struct fb *f, size_t at)
{
	patch16(f, at, (unsigned int)(f->n - at - 2));
}

/* An RR named name with rdata given as bytes. */
static void rr_bytes(struct fb *f, const char *name, unsigned int type,
		     const void *rdata, size_t n)
{
	size_t at;

	putname(f, name);
	at = rr_fixed(f, type, 1, 300);
	put(f, rdata, n);
	rr_end(f, at);
}

#define ck_dns_err(name) ck_assert_str_eq(ndl_dns_error_name(buf->dns.error), name)

/* ------------------------------------------------------------------------ */
/* Header and questions                                                      */
/* ------------------------------------------------------------------------ */

START_TEST(test_query)
{
	struct fb f;

	hdr(&f, 0x0100, 1, 0, 0, 0);
	question(&f, "www.example.com", T_AAAA);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("ok");
	ck_assert_uint_eq(buf->dns.struct_size, sizeof(struct ndl_dns));
	ck_assert(!buf->dns.over_tcp);
	ck_assert_uint_eq(buf->dns.id, 0xbeef);
	ck_assert_uint_eq(buf->dns.flags, 0x0100);
	ck_assert_uint_eq(buf->dns.qr, 0);
	ck_assert_uint_eq(buf->dns.rd, 1);
	ck_assert_uint_eq(buf->dns.qdcount, 1);
	ck_assert_uint_eq(buf->dns.n_questions, 1);
	ck_assert_uint_eq(buf->dns.n_answers + buf->dns.n_authorities + buf->dns.n_additionals, 0);
	ck_assert_ptr_eq(buf->dns.questions, buf->questions);
	ck_assert_ptr_eq(buf->dns.answers, buf->answers);
	ck_assert_ptr_eq(buf->dns.authorities, buf->authorities);
	ck_assert_ptr_eq(buf->dns.additionals, buf->additionals);
	ck_assert_str_eq(buf->questions[0].name, "www.example.com");
	ck_assert_uint_eq(buf->questions[0].qtype, T_AAAA);
	ck_assert_uint_eq(buf->questions[0].qclass, 1);
	ck_assert(!buf->dns.edns);
}
END_TEST

START_TEST(test_flags)
{
	struct fb f;

	/* QR, opcode 5 (UPDATE), AA, TC, RD, RA, Z, AD, CD, RCODE 3. */
	hdr(&f, 0x8000 | 5 << 11 | 0x0400 | 0x0200 | 0x0100 | 0x80 | 0x40 | 0x20 | 0x10 | 3,
	    0, 0, 0, 0);
	ck_assert_int_eq(parse(&f), 0);
	ck_assert_uint_eq(buf->dns.qr, 1);
	ck_assert_uint_eq(buf->dns.opcode, 5);
	ck_assert_uint_eq(buf->dns.aa, 1);
	ck_assert_uint_eq(buf->dns.tc, 1);
	ck_assert_uint_eq(buf->dns.rd, 1);
	ck_assert_uint_eq(buf->dns.ra, 1);
	ck_assert_uint_eq(buf->dns.z, 1);
	ck_assert_uint_eq(buf->dns.ad, 1);
	ck_assert_uint_eq(buf->dns.cd, 1);
	ck_assert_uint_eq(buf->dns.rcode, 3);

	hdr(&f, 0x8000 | 0x20 | 2, 0, 0, 0, 0);
	ck_assert_int_eq(parse(&f), 0);
	ck_assert_uint_eq(buf->dns.qr, 1);
	ck_assert_uint_eq(buf->dns.opcode, 0);
	ck_assert_uint_eq(buf->dns.aa + buf->dns.tc + buf->dns.rd + buf->dns.ra +
			  buf->dns.z + buf->dns.cd, 0);
	ck_assert_uint_eq(buf->dns.ad, 1);
	ck_assert_uint_eq(buf->dns.rcode, 2);
}
END_TEST

START_TEST(test_short_header)
{
	struct fb f;

	hdr(&f, 0, 0, 0, 0, 0);
	ck_assert_int_eq(parse_n(f.b, 11, false), -EINVAL);
	ck_assert_int_eq(parse_n(f.b, 0, false), -EINVAL);
	ck_assert_int_eq(ndl__dns_parse(buf, NULL, 0, false), -EINVAL);
	ck_assert_int_eq(parse_n(f.b, 12, false), 0);
}
END_TEST

START_TEST(test_root_name)
{
	struct fb f;

	hdr(&f, 0, 1, 0, 0, 0);
	question(&f, "", T_NS);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("ok");
	ck_assert_str_eq(buf->questions[0].name, "");
	ck_assert_uint_eq(buf->questions[0].qtype, T_NS);
}
END_TEST

START_TEST(test_missing_question)
{
	struct fb f;

	hdr(&f, 0, 2, 0, 0, 0);
	question(&f, "a.example", T_A);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("truncated");
	ck_assert_uint_eq(buf->dns.n_questions, 1);
	ck_assert_str_eq(buf->questions[0].name, "a.example");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Compression                                                               */
/* ------------------------------------------------------------------------ */

START_TEST(test_compression)
{
	struct fb f;
	size_t at, mail;

	hdr(&f, 0x8180, 1, 3, 0, 0);
	question(&f, "www.example.com", T_A);       /* at 12; example.com at 16 */
	ptr(&f, 12);                                 /* www.example.com CNAME web.example.com */
	at = rr_fixed(&f, T_CNAME, 1, 60);
	put8(&f, 3);
	put(&f, "web", 3);
	ptr(&f, 16);
	rr_end(&f, at);
	/* web.example.com (a pointer into the CNAME's RDATA) A 192.0.2.7 */
	ptr(&f, at + 2);
	at = rr_fixed(&f, T_A, 1, 60);
	put(&f, "\xc0\x00\x02\x07", 4);
	rr_end(&f, at);
	/* mail.<pointer to a pointer to example.com> MX 10 <same> */
	mail = f.n;
	put8(&f, 4);
	put(&f, "mail", 4);
	ptr(&f, at - 10);           /* the previous RR's name: a pointer itself */
	at = rr_fixed(&f, T_MX, 1, 60);
	put16(&f, 10);
	ptr(&f, mail);
	rr_end(&f, at);

	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("ok");
	ck_assert_uint_eq(buf->dns.n_answers, 3);
	ck_assert_str_eq(buf->answers[0].name, "www.example.com");
	ck_assert_str_eq(buf->answers[0].data, "web.example.com");
	ck_assert_str_eq(buf->answers[1].name, "web.example.com");
	ck_assert_str_eq(buf->answers[1].data, "192.0.2.7");
	ck_assert_str_eq(buf->answers[2].name, "mail.web.example.com");
	ck_assert_str_eq(buf->answers[2].data, "10 mail.web.example.com");
	ck_assert_uint_eq(buf->answers[2].ttl, 60);
	ck_assert_uint_eq(buf->answers[2].rdlength, 4);
	ck_assert_ptr_eq(buf->answers[2].rdata, held + at + 2);
}
END_TEST

START_TEST(test_self_pointer)
{
	struct fb f;

	hdr(&f, 0, 1, 0, 0, 0);
	ptr(&f, 12);
	put16(&f, T_A);
	put16(&f, 1);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("name_loop");
	ck_assert_uint_eq(buf->dns.n_questions, 0);
}
END_TEST

START_TEST(test_two_pointer_loop)
{
	struct fb f;

	/* Answer name at A points back to B; B's name ends with a pointer to A. */
	hdr(&f, 0x8000, 1, 2, 0, 0);
	question(&f, "x", T_A);     /* 12..18 */
	put8(&f, 1);                /* 19: "b" + pointer to 23 */
	put(&f, "b", 1);
	ptr(&f, 23);
	rr_fixed(&f, T_A, 1, 0);
	ptr(&f, 19);                /* never reached: the first answer fails */
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("name_loop");
	ck_assert_uint_eq(buf->dns.n_questions, 1);
	ck_assert_uint_eq(buf->dns.n_answers, 0);

	/* "a" then a pointer back to the "a": a backwards loop. */
	hdr(&f, 0x8000, 1, 0, 0, 0);
	put8(&f, 1);
	put(&f, "a", 1);
	ptr(&f, 12);
	put16(&f, T_A);
	put16(&f, 1);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("name_loop");

	/*
	 * Two pointers pointing at each other, entered through the backward
	 * one: the RDATA at R holds [pointer to R + 2][pointer to R], and the
	 * second answer's name points at R + 2.
	 */
	hdr(&f, 0x8000, 1, 2, 0, 0);
	question(&f, "q", T_A);     /* 12..18 */
	putname(&f, "");
	size_t at = rr_fixed(&f, 999, 1, 0);
	size_t r = f.n;
	ptr(&f, (unsigned int)r + 2);
	ptr(&f, (unsigned int)r);
	rr_end(&f, at);
	ptr(&f, (unsigned int)r + 2);
	rr_fixed(&f, T_A, 1, 0);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("name_loop");
	ck_assert_uint_eq(buf->dns.n_answers, 1);
}
END_TEST

START_TEST(test_forward_pointer)
{
	struct fb f;

	hdr(&f, 0, 1, 0, 0, 0);
	ptr(&f, 18);                /* forward, to a well-formed name */
	put16(&f, T_A);
	put16(&f, 1);
	putname(&f, "later.example");
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("name_loop");

	/* Past the end of the message. */
	hdr(&f, 0, 1, 0, 0, 0);
	ptr(&f, 0x3fff);
	put16(&f, T_A);
	put16(&f, 1);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("name_loop");
}
END_TEST

/*
 * A chain of pointers, each pointing at the one before, ending at the root
 * name of the question: hops pointers followed in all.
 */
static void pointer_chain(struct fb *f, unsigned int hops)
{
	size_t at, first;
	unsigned int i;

	hdr(f, 0x8000, 1, 2, 0, 0);
	question(f, "", T_A);       /* the root at 12 */
	putname(f, "");
	at = rr_fixed(f, 999, 1, 0);
	first = f->n;
	ptr(f, 12);
	for (i = 1; i < hops - 1; i++)
		ptr(f, (unsigned int)(first + 2 * (i - 1)));
	rr_end(f, at);
	ptr(f, (unsigned int)(first + 2 * (hops - 2)));
	at = rr_fixed(f, T_A, 1, 0);
	put(f, "\x0a\x00\x00\x01", 4);
	rr_end(f, at);
}

START_TEST(test_pointer_jump_limit)
{
	struct fb f;

	pointer_chain(&f, 64);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("ok");
	ck_assert_uint_eq(buf->dns.n_answers, 2);
	ck_assert_str_eq(buf->answers[1].name, "");
	ck_assert_str_eq(buf->answers[1].data, "10.0.0.1");

	pointer_chain(&f, 65);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("name_loop");
	ck_assert_uint_eq(buf->dns.n_answers, 1);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Limits and escaping                                                       */
/* ------------------------------------------------------------------------ */

static void label(struct fb *f, char c, size_t n)
{
	put8(f, (unsigned int)n);
	while (n--)
		put8(f, (unsigned char)c);
}

START_TEST(test_label_lengths)
{
	struct fb f;
	char want[80];

	hdr(&f, 0, 1, 0, 0, 0);
	label(&f, 'a', 63);
	label(&f, 'b', 1);
	put8(&f, 0);
	put16(&f, T_A);
	put16(&f, 1);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("ok");
	memset(want, 'a', 63);
	strcpy(want + 63, ".b");
	ck_assert_str_eq(buf->questions[0].name, want);

	hdr(&f, 0, 1, 0, 0, 0);
	label(&f, 'a', 64);         /* length byte 0x40: a reserved label type */
	put8(&f, 0);
	put16(&f, T_A);
	put16(&f, 1);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("bad_name");
	ck_assert_uint_eq(buf->dns.n_questions, 0);

	hdr(&f, 0, 1, 0, 0, 0);
	put8(&f, 0x80 | 3);         /* type 10 */
	put(&f, "abc", 3);
	put8(&f, 0);
	put16(&f, T_A);
	put16(&f, 1);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("bad_name");
}
END_TEST

/* A name of exactly total wire octets: labels of 63 and a last one. */
static size_t long_name(struct fb *f, size_t total)
{
	size_t left = total - 1, text = 0;

	while (left > 0) {
		size_t n = left - 1 > 63 ? 63 : left - 1;

		label(f, 'x', n);
		text += n + (text ? 1 : 0);
		left -= n + 1;
	}
	put8(f, 0);
	return text;
}

START_TEST(test_name_lengths)
{
	struct fb f;
	size_t text;

	hdr(&f, 0, 1, 0, 0, 0);
	text = long_name(&f, 255);
	put16(&f, T_A);
	put16(&f, 1);
	ck_assert_uint_eq(f.n, 12 + 255 + 4);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("ok");
	ck_assert_uint_eq(text, 253);
	ck_assert_uint_eq(strlen(buf->questions[0].name), 253);

	hdr(&f, 0, 1, 0, 0, 0);
	long_name(&f, 256);
	put16(&f, T_A);
	put16(&f, 1);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("bad_name");

	/* Too long only once a pointer is followed. */
	hdr(&f, 0x8000, 1, 1, 0, 0);
	long_name(&f, 250);         /* at 12 */
	put16(&f, T_A);
	put16(&f, 1);
	label(&f, 'y', 5);          /* 6 + 250 = 256 octets */
	ptr(&f, 12);
	rr_fixed(&f, T_A, 1, 0);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("bad_name");
	ck_assert_uint_eq(buf->dns.n_questions, 1);
	ck_assert_uint_eq(buf->dns.n_answers, 0);
}
END_TEST

START_TEST(test_escaping)
{
	struct fb f;

	hdr(&f, 0, 1, 0, 0, 0);
	put8(&f, 3);
	put(&f, "a.b", 3);
	put8(&f, 3);
	put(&f, "c\\d", 3);
	put8(&f, 3);
	put(&f, "e f", 3);
	put8(&f, 4);
	put(&f, "\x01\x7f\xff\"", 4);
	put8(&f, 0);
	put16(&f, T_A);
	put16(&f, 1);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("ok");
	ck_assert_str_eq(buf->questions[0].name, "a\\.b.c\\\\d.e\\032f.\\001\\127\\255\"");
}
END_TEST

START_TEST(test_escaped_name_is_cut_whole)
{
	struct fb f;
	const char *name;
	size_t len;

	/* 4 labels of 63 unprintable bytes: 4 * 63 * 4 characters would be needed. */
	hdr(&f, 0, 1, 0, 0, 0);
	label(&f, '\x01', 63);
	label(&f, '\x01', 63);
	label(&f, '\x01', 63);
	label(&f, '\x01', 61);
	put8(&f, 0);
	put16(&f, T_A);
	put16(&f, 1);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("ok");
	name = buf->questions[0].name;
	len = strlen(name);
	ck_assert_uint_lt(len, NDL_DNS_NAME_MAX);
	ck_assert_uint_eq(len % 4, 0);     /* never half an escape */
	ck_assert_uint_eq(len, 63 * 4);
	ck_assert_str_eq(name + len - 4, "\\001");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* RDATA                                                                     */
/* ------------------------------------------------------------------------ */

START_TEST(test_rdata_rendering)
{
	struct fb f;
	size_t at;
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

	hdr(&f, 0x8180, 0, 11, 0, 0);
	rr_bytes(&f, "a.example", T_A, "\xc6\x33\x64\x01", 4);
	rr_bytes(&f, "aaaa.example", T_AAAA, v6, 16);
	putname(&f, "c.example");
	at = rr_fixed(&f, T_CNAME, 1, 1);
	putname(&f, "target.example");
	rr_end(&f, at);
	putname(&f, "example");
	at = rr_fixed(&f, T_NS, 1, 1);
	putname(&f, "ns1.example");
	rr_end(&f, at);
	putname(&f, "1.2.0.192.in-addr.arpa");
	at = rr_fixed(&f, T_PTR, 1, 1);
	putname(&f, "host.example");
	rr_end(&f, at);
	putname(&f, "old.example");
	at = rr_fixed(&f, T_DNAME, 1, 1);
	putname(&f, "new.example");
	rr_end(&f, at);
	putname(&f, "example");
	at = rr_fixed(&f, T_MX, 1, 1);
	put16(&f, 10);
	putname(&f, "mail.example.com");
	rr_end(&f, at);
	putname(&f, "example");
	at = rr_fixed(&f, T_TXT, 1, 1);
	put8(&f, 11);
	put(&f, "v=spf1 -all", 11);
	put8(&f, 4);
	put(&f, "a\\b\x07", 4);
	put8(&f, 0);
	rr_end(&f, at);
	putname(&f, "example");
	at = rr_fixed(&f, T_SOA, 1, 1);
	putname(&f, "ns1.example");
	putname(&f, "hostmaster.example");
	putz(&f, 20);
	rr_end(&f, at);
	rr_bytes(&f, "bad.example", T_A, "\x01\x02\x03", 3);
	putname(&f, "bad.example");
	at = rr_fixed(&f, T_CNAME, 1, 1);
	put8(&f, 5);                /* a label running past the RDATA */
	put(&f, "abc", 3);
	rr_end(&f, at);
	put8(&f, 0);                /* ... into bytes that happen to follow */
	put8(&f, 0);

	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("ok");
	ck_assert_uint_eq(buf->dns.n_answers, 11);
	ck_assert_str_eq(buf->answers[0].data, "198.51.100.1");
	ck_assert_str_eq(buf->answers[1].data, "2001:db8::1");
	ck_assert_str_eq(buf->answers[2].data, "target.example");
	ck_assert_str_eq(buf->answers[3].data, "ns1.example");
	ck_assert_str_eq(buf->answers[4].name, "1.2.0.192.in-addr.arpa");
	ck_assert_str_eq(buf->answers[4].data, "host.example");
	ck_assert_str_eq(buf->answers[5].data, "new.example");
	ck_assert_str_eq(buf->answers[6].data, "10 mail.example.com");
	ck_assert_str_eq(buf->answers[7].data, "v=spf1 -all a\\\\b\\007 ");
	ck_assert_str_eq(buf->answers[8].data, "");
	ck_assert_uint_eq(buf->answers[8].type, T_SOA);
	ck_assert_str_eq(buf->answers[9].data, "");
	ck_assert_uint_eq(buf->answers[9].rdlength, 3);
	ck_assert_str_eq(buf->answers[10].data, "");
}
END_TEST

/* The AAAA text of the 16 bytes a. */
static const char *aaaa_text(const uint8_t a[16])
{
	struct fb f;

	hdr(&f, 0x8180, 0, 1, 0, 0);
	rr_bytes(&f, "v6.example", T_AAAA, a, 16);
	ck_assert_int_eq(parse(&f), 0);
	ck_assert_uint_eq(buf->dns.n_answers, 1);
	return buf->answers[0].data;
}

START_TEST(test_aaaa_forms)
{
	static const struct { uint8_t a[16]; const char *text; } cases[] = {
		{ { 0 }, "::" },
		{ { [15] = 1 }, "::1" },
		{ { 0, 1 }, "1::" },
		{ { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1 },
		  "2001:db8:0:1:1:1:1:1" },                  /* one zero group stays */
		{ { 0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 },
		  "2001:0:0:1::1" },                          /* the longer run */
		{ { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1 },
		  "2001:db8::1:0:0:1" },                      /* the first on a tie */
		{ { [10] = 0xff, [11] = 0xff, 192, 0, 2, 33 }, "::ffff:192.0.2.33" },
		{ { [12] = 192, 0, 2, 33 }, "::192.0.2.33" },   /* as inet_ntop */
		{ { 0xfe, 0x80, [8] = 0x0a, 0xbc, 0, 0x0f, 0xf0, 0, 0, 0 },
		  "fe80::abc:f:f000:0" },
	};
	uint8_t a[16];
	char want[INET6_ADDRSTRLEN];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_str_eq(aaaa_text(cases[i].a), cases[i].text);

	/* Agree with the C library, and so with the address fields of every
	 * dumpling; about one draw in eleven falls in ::/96 (dotted). */
	srand(5952);
	for (i = 0; i < 2000; i++) {
		for (int g = 0; g < 8; g++) {
			unsigned int v = rand() % 3 ? 0 : (unsigned int)rand() & 0xffff;

			if (rand() % 4 == 0)
				v &= 0x00ff;
			a[2 * g] = (uint8_t)(v >> 8);
			a[2 * g + 1] = (uint8_t)v;
		}
		ck_assert_ptr_nonnull(inet_ntop(AF_INET6, a, want, sizeof(want)));
		ck_assert_str_eq(aaaa_text(a), want);
	}
}
END_TEST

START_TEST(test_txt_long_is_cut)
{
	struct fb f;
	size_t at, len;
	int i;

	hdr(&f, 0x8180, 0, 1, 0, 0);
	putname(&f, "example");
	at = rr_fixed(&f, T_TXT, 1, 1);
	for (i = 0; i < 3; i++) {
		put8(&f, 200);
		for (int j = 0; j < 200; j++)
			put8(&f, 'a' + i);
	}
	rr_end(&f, at);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("ok");
	len = strlen(buf->answers[0].data);
	ck_assert_uint_eq(len, NDL_DNS_DATA_MAX - 1);
	ck_assert_int_eq(buf->answers[0].data[200], ' ');
	ck_assert_int_eq(buf->answers[0].data[201], 'b');
}
END_TEST

/* ------------------------------------------------------------------------ */
/* EDNS, TCP, limits                                                         */
/* ------------------------------------------------------------------------ */

START_TEST(test_edns_opt)
{
	struct fb f;
	size_t at;

	hdr(&f, 0x8180, 1, 0, 0, 2);
	question(&f, "example.org", T_A);
	put8(&f, 0);                /* root */
	at = rr_fixed(&f, T_OPT, 1232, 0x01008000u);  /* ext rcode 1, version 0, DO */
	put16(&f, 10);              /* option: COOKIE */
	put16(&f, 8);
	putz(&f, 8);
	rr_end(&f, at);
	rr_bytes(&f, "ns.example.org", T_A, "\x0a\x00\x00\x35", 4);

	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("ok");
	ck_assert(buf->dns.edns);
	ck_assert_uint_eq(buf->dns.edns_udp_size, 1232);
	ck_assert_uint_eq(buf->dns.edns_ext_rcode, 1);
	ck_assert_uint_eq(buf->dns.edns_version, 0);
	ck_assert(buf->dns.edns_do);
	ck_assert_uint_eq(buf->dns.arcount, 2);
	ck_assert_uint_eq(buf->dns.n_additionals, 1);
	ck_assert_str_eq(buf->additionals[0].name, "ns.example.org");
	ck_assert_str_eq(buf->additionals[0].data, "10.0.0.53");

	/* Version 1, DO clear. */
	patch16(&f, 34, 0x0001);    /* the OPT's TTL: version 1 */
	patch16(&f, 36, 0x0000);
	ck_assert_int_eq(parse(&f), 0);
	ck_assert_uint_eq(buf->dns.edns_version, 1);
	ck_assert(!buf->dns.edns_do);
	ck_assert_uint_eq(buf->dns.edns_ext_rcode, 0);
}
END_TEST

START_TEST(test_real_response)
{
	ck_assert_int_eq(parse_n(real_response, sizeof(real_response), false), 0);
	ck_dns_err("ok");
	ck_assert_uint_eq(buf->dns.id, 22836);
	ck_assert_uint_eq(buf->dns.qr, 1);
	ck_assert_uint_eq(buf->dns.aa, 1);
	ck_assert_uint_eq(buf->dns.rd, 1);
	ck_assert_uint_eq(buf->dns.ra, 0);
	ck_assert_uint_eq(buf->dns.n_questions, 1);
	ck_assert_str_eq(buf->questions[0].name, "www.tcpdump.org");
	ck_assert_uint_eq(buf->dns.n_answers, 2);
	ck_assert_str_eq(buf->answers[0].name, "www.tcpdump.org");
	ck_assert_str_eq(buf->answers[0].data, "192.139.46.66");
	ck_assert_str_eq(buf->answers[1].data, "198.199.88.104");
	ck_assert_uint_eq(buf->answers[1].ttl, 60);
	ck_assert_uint_eq(buf->dns.n_authorities, 2);
	ck_assert_str_eq(buf->authorities[0].name, "tcpdump.org");
	ck_assert_str_eq(buf->authorities[0].data, "sns.cooperix.net");
	ck_assert_str_eq(buf->authorities[1].data, "nic.sandelman.ca");
	ck_assert_uint_eq(buf->authorities[1].ttl, 86400);
	ck_assert_uint_eq(buf->dns.arcount, 5);
	ck_assert_uint_eq(buf->dns.n_additionals, 4);
	ck_assert_str_eq(buf->additionals[0].name, "nic.sandelman.ca");
	ck_assert_str_eq(buf->additionals[0].data, "209.87.249.18");
	ck_assert_str_eq(buf->additionals[1].data, "2607:f0b0:f::babe:f00d");
	ck_assert_str_eq(buf->additionals[2].name, "sns.cooperix.net");
	ck_assert_str_eq(buf->additionals[2].data, "97.107.133.15");
	ck_assert_str_eq(buf->additionals[3].data, "2600:3c03::f03c:91ff:fe96:e8ef");
	ck_assert(buf->dns.edns);
	ck_assert_uint_eq(buf->dns.edns_udp_size, 4096);
}
END_TEST

START_TEST(test_real_response_every_cut)
{
	unsigned int prev_total = 0;
	size_t n;

	for (n = 0; n < sizeof(real_response); n++) {
		int rc = parse_n(real_response, n, false);
		unsigned int total;

		if (n < 12) {
			ck_assert_int_eq(rc, -EINVAL);
			continue;
		}
		ck_assert_int_eq(rc, 0);
		ck_assert_msg(buf->dns.error == NDL_DNS_TRUNCATED, "cut at %zu: %s", n,
			      ndl_dns_error_name(buf->dns.error));
		ck_assert_uint_eq(buf->dns.id, 22836);
		ck_assert_uint_eq(buf->dns.ancount, 2);
		total = buf->dns.n_questions + buf->dns.n_answers +
			buf->dns.n_authorities + buf->dns.n_additionals;
		ck_assert_uint_ge(total, prev_total);
		prev_total = total;
		/* What was kept is whole. */
		if (buf->dns.n_questions)
			ck_assert_str_eq(buf->questions[0].name, "www.tcpdump.org");
		if (buf->dns.n_answers == 2)
			ck_assert_str_eq(buf->answers[1].data, "198.199.88.104");
		for (unsigned int i = 0; i < buf->dns.n_additionals; i++)
			ck_assert_str_ne(buf->additionals[i].data, "");
	}
	ck_assert_uint_eq(prev_total, 1 + 2 + 2 + 4);
	ck_assert(!buf->dns.edns);
}
END_TEST

START_TEST(test_tcp_prefix)
{
	uint8_t msg[2 + sizeof(real_response) + 7];

	msg[0] = sizeof(real_response) >> 8;
	msg[1] = sizeof(real_response) & 0xff;
	memcpy(msg + 2, real_response, sizeof(real_response));
	memset(msg + 2 + sizeof(real_response), 0xff, 7);  /* the next message's start */
	ck_assert_int_eq(parse_n(msg, sizeof(msg), true), 0);
	ck_dns_err("ok");
	ck_assert(buf->dns.over_tcp);
	ck_assert_uint_eq(buf->dns.n_additionals, 4);

	/* A segment carrying only part of the message. */
	ck_assert_int_eq(parse_n(msg, 100, true), 0);
	ck_dns_err("truncated");
	ck_assert_uint_eq(buf->dns.n_questions, 1);

	/* A prefix shorter than the header. */
	msg[0] = 0;
	msg[1] = 11;
	ck_assert_int_eq(parse_n(msg, sizeof(msg), true), -EINVAL);
	ck_assert_int_eq(parse_n(msg, 1, true), -EINVAL);

	/* A prefix cutting the message short. */
	msg[1] = 40;
	ck_assert_int_eq(parse_n(msg, sizeof(msg), true), 0);
	ck_dns_err("truncated");
	ck_assert_uint_eq(buf->dns.n_questions, 1);
	ck_assert_uint_eq(buf->dns.n_answers, 0);
}
END_TEST

START_TEST(test_too_many_records)
{
	struct fb f;
	int i;

	hdr(&f, 0x8180, 10, 40, 0, 1);
	for (i = 0; i < 10; i++)
		question(&f, "q.example", T_A);
	for (i = 0; i < 40; i++) {
		uint8_t a[4] = { 10, 0, 0, (uint8_t)i };

		rr_bytes(&f, "q.example", T_A, a, 4);
	}
	put8(&f, 0);
	rr_end(&f, rr_fixed(&f, T_OPT, 4096, 0));
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("too_many_records");
	ck_assert_uint_eq(buf->dns.n_questions, NDL_DNS_MAX_QUESTIONS);
	ck_assert_uint_eq(buf->dns.n_answers, NDL_DNS_MAX_RRS);
	ck_assert_str_eq(buf->answers[31].data, "10.0.0.31");
	ck_assert(buf->dns.edns);   /* the sections after the excess are read */
	ck_assert_uint_eq(buf->dns.edns_udp_size, 4096);

	/* A cut after the excess: truncated wins, what was kept stays. */
	ck_assert_int_eq(parse_n(f.b, f.n - 3, false), 0);
	ck_dns_err("truncated");
	ck_assert_uint_eq(buf->dns.n_answers, NDL_DNS_MAX_RRS);
	ck_assert(!buf->dns.edns);
}
END_TEST

START_TEST(test_buffer_reuse)
{
	struct fb f;

	ck_assert_int_eq(parse_n(real_response, sizeof(real_response), false), 0);
	ck_assert_uint_eq(buf->dns.n_answers, 2);
	hdr(&f, 0, 1, 0, 0, 0);
	question(&f, "again.example", T_A);
	ck_assert_int_eq(parse(&f), 0);
	ck_dns_err("ok");
	ck_assert_uint_eq(buf->dns.n_answers, 0);
	ck_assert_uint_eq(buf->dns.n_additionals, 0);
	ck_assert(!buf->dns.edns);
	ck_assert_uint_eq(buf->dns.edns_udp_size, 0);
	ck_assert_str_eq(buf->questions[0].name, "again.example");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* From packets                                                              */
/* ------------------------------------------------------------------------ */

static struct ndl_packet fake(uint32_t layer, uint16_t sport, uint16_t dport,
			      const uint8_t *payload, uint32_t len)
{
	struct ndl_packet p;

	memset(&p, 0, sizeof(p));
	p.layers = layer | (len ? NDL_LAYER_PAYLOAD : 0);
	p.sport = sport;
	p.dport = dport;
	p.payload = len ? payload : NULL;
	p.payload_len = len;
	return p;
}

START_TEST(test_from_packet)
{
	uint8_t tcpmsg[2 + sizeof(real_response)];
	struct ndl_packet p;
	const struct ndl_dns *d;

	held = exact_copy(real_response, sizeof(real_response));

	p = fake(NDL_LAYER_UDP, 53, 40000, held, sizeof(real_response));
	d = ndl__dns_from_packet(buf, &p);
	ck_assert_ptr_eq(d, &buf->dns);
	ck_assert_uint_eq(d->n_answers, 2);
	ck_assert(!d->over_tcp);

	p = fake(NDL_LAYER_UDP, 40000, 5353, held, sizeof(real_response));
	ck_assert_ptr_nonnull(ndl__dns_from_packet(buf, &p));
	p = fake(NDL_LAYER_UDP, 5353, 40000, held, sizeof(real_response));
	ck_assert_ptr_nonnull(ndl__dns_from_packet(buf, &p));
	p = fake(NDL_LAYER_UDP, 40000, 8053, held, sizeof(real_response));
	ck_assert_ptr_null(ndl__dns_from_packet(buf, &p));
	p = fake(NDL_LAYER_UDP, 40000, 53, held, 11);
	ck_assert_ptr_null(ndl__dns_from_packet(buf, &p));
	p = fake(NDL_LAYER_UDP, 40000, 53, held, 0);
	ck_assert_ptr_null(ndl__dns_from_packet(buf, &p));
	p = fake(0, 40000, 53, held, sizeof(real_response));
	ck_assert_ptr_null(ndl__dns_from_packet(buf, &p));

	/* TCP: 5353 is not DNS over TCP; the prefix is required. */
	tcpmsg[0] = 0;
	tcpmsg[1] = sizeof(real_response);
	memcpy(tcpmsg + 2, real_response, sizeof(real_response));
	p = fake(NDL_LAYER_TCP, 53, 40000, tcpmsg, sizeof(tcpmsg));
	d = ndl__dns_from_packet(buf, &p);
	ck_assert_ptr_nonnull(d);
	ck_assert(d->over_tcp);
	ck_assert_uint_eq(d->n_additionals, 4);
	p = fake(NDL_LAYER_TCP, 5353, 40000, tcpmsg, sizeof(tcpmsg));
	ck_assert_ptr_null(ndl__dns_from_packet(buf, &p));
	p = fake(NDL_LAYER_TCP, 40000, 53, tcpmsg, 13);
	ck_assert_ptr_null(ndl__dns_from_packet(buf, &p));
	p = fake(NDL_LAYER_TCP, 40000, 53, tcpmsg, 14);
	ck_assert_ptr_nonnull(ndl__dns_from_packet(buf, &p));
	ck_assert_int_eq(buf->dns.error, NDL_DNS_TRUNCATED);
	ck_assert_ptr_null(ndl__dns_from_packet(buf, NULL));
}
END_TEST

START_TEST(test_from_decoded_frame)
{
	struct fb f;
	struct ndl_packet p;
	const struct ndl_dns *d;
	size_t ip_at;

	/* Ethernet / IPv4 / UDP 53 carrying the real response. */
	fb_reset(&f);
	putz(&f, 12);
	put16(&f, 0x0800);
	ip_at = f.n;
	put8(&f, 0x45);
	put8(&f, 0);
	put16(&f, (unsigned int)(20 + 8 + sizeof(real_response)));
	put32(&f, 0);
	put8(&f, 64);
	put8(&f, 17);
	put16(&f, 0);
	put32(&f, 0xc0000201);
	put32(&f, 0xc0000202);
	put16(&f, 53);
	put16(&f, 43966);
	put16(&f, (unsigned int)(8 + sizeof(real_response)));
	put16(&f, 0);
	put(&f, real_response, sizeof(real_response));
	ck_assert_uint_eq(f.n, ip_at + 20 + 8 + sizeof(real_response));
	held = exact_copy(f.b, f.n);
	ck_assert_int_eq(ndl__decode(&p, 1, held, (uint32_t)f.n, (uint32_t)f.n, 0), 0);
	d = ndl__dns_from_packet(buf, &p);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->questions[0].name, "www.tcpdump.org");
	ck_assert_str_eq(d->answers[0].data, "192.139.46.66");
	ck_assert_ptr_eq(d->answers[0].rdata, held + 14 + 28 + 45);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Names of things                                                           */
/* ------------------------------------------------------------------------ */

START_TEST(test_type_names)
{
	static const struct { uint16_t t; const char *n; } cases[] = {
		{ 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" }, { 12, "PTR" },
		{ 15, "MX" }, { 16, "TXT" }, { 28, "AAAA" }, { 33, "SRV" },
		{ 35, "NAPTR" }, { 41, "OPT" }, { 43, "DS" }, { 46, "RRSIG" },
		{ 47, "NSEC" }, { 48, "DNSKEY" }, { 50, "NSEC3" }, { 64, "SVCB" },
		{ 65, "HTTPS" }, { 257, "CAA" }, { 255, "ANY" }, { 252, "AXFR" },
		{ 0, "TYPE0" }, { 65280, "TYPE65280" }, { 65535, "TYPE65535" },
	};
	char out[16];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_ptr_eq(ndl_dns_type_name(cases[i].t, out, sizeof(out)), out);
		ck_assert_str_eq(out, cases[i].n);
	}
	/* Truncation on purpose; volatile keeps the compiler from warning about it. */
	volatile size_t small = 5;
	ndl_dns_type_name(65280, out, small);
	ck_assert_str_eq(out, "TYPE");
	ck_assert_ptr_null(ndl_dns_type_name(1, NULL, 0));
}
END_TEST

START_TEST(test_error_names)
{
	ck_assert_str_eq(ndl_dns_error_name(NDL_DNS_OK), "ok");
	ck_assert_str_eq(ndl_dns_error_name(NDL_DNS_TRUNCATED), "truncated");
	ck_assert_str_eq(ndl_dns_error_name(NDL_DNS_BAD_NAME), "bad_name");
	ck_assert_str_eq(ndl_dns_error_name(NDL_DNS_NAME_LOOP), "name_loop");
	ck_assert_str_eq(ndl_dns_error_name(NDL_DNS_TOO_MANY_RECORDS), "too_many_records");
	ck_assert_str_eq(ndl_dns_error_name(NDL_DNS_ERROR_COUNT), "unknown");
}
END_TEST

static Suite *dns_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tcase_create("dns");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_query);
	tcase_add_test(tc, test_flags);
	tcase_add_test(tc, test_short_header);
	tcase_add_test(tc, test_root_name);
	tcase_add_test(tc, test_missing_question);
	tcase_add_test(tc, test_compression);
	tcase_add_test(tc, test_self_pointer);
	tcase_add_test(tc, test_two_pointer_loop);
	tcase_add_test(tc, test_forward_pointer);
	tcase_add_test(tc, test_pointer_jump_limit);
	tcase_add_test(tc, test_label_lengths);
	tcase_add_test(tc, test_name_lengths);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_escaped_name_is_cut_whole);
	tcase_add_test(tc, test_rdata_rendering);
	tcase_add_test(tc, test_aaaa_forms);
	tcase_add_test(tc, test_txt_long_is_cut);
	tcase_add_test(tc, test_edns_opt);
	tcase_add_test(tc, test_real_response);
	tcase_add_test(tc, test_real_response_every_cut);
	tcase_add_test(tc, test_tcp_prefix);
	tcase_add_test(tc, test_too_many_records);
	tcase_add_test(tc, test_buffer_reuse);
	tcase_add_test(tc, test_from_packet);
	tcase_add_test(tc, test_from_decoded_frame);
	tcase_add_test(tc, test_type_names);
	tcase_add_test(tc, test_error_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dns_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
