/* SPDX-License-Identifier: MIT */
/*
 * test_tls.c - the TLS hello parser: the four hellos of
 * tests/captures/tls-lo.pcap (openssl s_client to s_server, once TLS 1.3
 * and once TLS 1.2, SNI www.example.test, ALPN h2 and http/1.1), each cut
 * at every byte; GREASE; every list at and past its limit; malformed
 * records and hellos; payloads that are not TLS; the packet entry point.
 * Every message is handed over in a heap block of exactly its length.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "capfile.h"
#include "decode.h"
#include "frames.h"

static struct ndl__tls_buf tb;
static const struct ndl_tls_hello *th = &tb.hello;
static uint8_t *held;

static void release_held(void)
{
	free(held);
	held = NULL;
}

static int parse_n(const void *msg, size_t n)
{
	release_held();
	held = exact_copy(msg, n);
	return ndl__tls_parse(&tb, held, n);
}

#define ck_err(name) ck_assert_str_eq(ndl_tls_error_name(th->error), name)

#define ck_str(s, want) do { \
	struct ndl_str s_ = (s); \
	const char *w_ = (want); \
	ck_assert_msg(s_.ptr != NULL, "%s is absent, want \"%s\"", #s, w_); \
	ck_assert_msg(s_.len == strlen(w_) && memcmp(s_.ptr, w_, s_.len) == 0, \
		      "%s is \"%.*s\", want \"%s\"", #s, (int)s_.len, s_.ptr, w_); \
} while (0)

#define ck_list(arr, n, ...) do { \
	static const uint16_t want_[] = { __VA_ARGS__ }; \
	size_t nw_ = sizeof(want_) / sizeof(want_[0]); \
	ck_assert_uint_eq((n), nw_); \
	for (size_t i_ = 0; i_ < nw_; i_++) \
		ck_assert_msg((arr)[i_] == want_[i_], "%s[%zu] is 0x%04x, want 0x%04x", \
			      #arr, i_, (unsigned)(arr)[i_], (unsigned)want_[i_]); \
} while (0)

/* ------------------------------------------------------------------------ */
/* The captured handshakes                                                   */
/* ------------------------------------------------------------------------ */

/* Packets of tls-lo.pcap holding the hellos. */
enum { CH13 = 3, SH13 = 5, CH12 = 19, SH12 = 21 };

static struct cap_packet cap;
static struct ndl_packet pkt;

static void load(unsigned int index)
{
	free(cap.data);
	cap = cap_read("tls-lo.pcap", index);
	ck_assert_int_eq(ndl__decode(&pkt, cap.linktype, cap.data, cap.caplen, cap.wirelen,
				     cap.ts_ns), 0);
	ck_assert(pkt.layers & NDL_LAYER_TCP);
}

static void release_cap(void)
{
	free(cap.data);
	cap.data = NULL;
	release_held();
}

static const struct ndl_tls_hello *load_hello(unsigned int index)
{
	const struct ndl_tls_hello *h;

	load(index);
	ck_assert_uint_gt(pkt.payload_len, 0);
	h = ndl__tls_from_packet(&tb, &pkt);
	ck_assert_ptr_eq(h, th);
	return h;
}

/* The first occurrence of text in p[0..n), or NULL. */
static const uint8_t *find(const uint8_t *p, size_t n, const char *text)
{
	size_t tl = strlen(text);

	for (size_t i = 0; i + tl <= n; i++) {
		if (memcmp(p + i, text, tl) == 0)
			return p + i;
	}
	return NULL;
}

static void ck_alpn_both(const struct ndl_tls_hello *h)
{
	ck_assert_uint_eq(h->n_alpn, 2);
	ck_str(h->alpn[0], "h2");
	ck_str(h->alpn[1], "http/1.1");
}

START_TEST(test_client_hello_13)
{
	const struct ndl_tls_hello *h = load_hello(CH13);

	ck_err("ok");
	ck_assert_uint_eq(h->struct_size, sizeof(*h));
	ck_assert_uint_eq(h->type, 1);
	ck_assert_uint_eq(h->record_version, 0x0301);
	ck_assert_uint_eq(h->legacy_version, 0x0303);
	ck_assert_uint_eq(h->version, 0x0304);
	ck_assert_ptr_eq(h->random, pkt.payload + 11);
	ck_assert_uint_eq(h->session_id.len, 32);
	ck_assert_ptr_eq(h->session_id.ptr, (const char *)pkt.payload + 44);
	ck_str(h->sni, "www.example.test");
	ck_list(h->ciphers, h->n_ciphers, 0x1302, 0x1303, 0x1301, 0x00ff);
	ck_list(h->extensions, h->n_extensions, 0, 11, 10, 35, 16, 22, 23, 13, 43, 45, 51);
	ck_list(h->groups, h->n_groups, 0x001d, 0x0017, 0x001e, 0x0019, 0x0018,
		0x0100, 0x0101, 0x0102, 0x0103, 0x0104);
	ck_list(h->point_formats, h->n_point_formats, 0, 1, 2);
	ck_list(h->sig_algs, h->n_sig_algs, 0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x0809,
		0x080a, 0x080b, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601);
	ck_list(h->versions, h->n_versions, 0x0304);
	ck_alpn_both(h);
	ck_assert_uint_eq(h->cipher, 0);
}
END_TEST

START_TEST(test_server_hello_13)
{
	const struct ndl_tls_hello *h = load_hello(SH13);
	struct ndl_str sid;

	ck_err("ok");
	ck_assert_uint_eq(h->type, 2);
	ck_assert_uint_eq(h->record_version, 0x0303);
	ck_assert_uint_eq(h->legacy_version, 0x0303);
	ck_assert_uint_eq(h->version, 0x0304);
	ck_assert_uint_eq(h->cipher, 0x1302);   /* TLS_AES_256_GCM_SHA384 */
	ck_list(h->extensions, h->n_extensions, 43, 51);
	ck_list(h->versions, h->n_versions, 0x0304);
	/* TLS 1.3 sends ALPN encrypted, and SNI never comes back */
	ck_assert_uint_eq(h->n_alpn, 0);
	ck_assert_ptr_null(h->sni.ptr);
	ck_assert_uint_eq(h->n_ciphers, 0);
	ck_assert_uint_eq(h->n_groups, 0);

	/* the server echoes the client's legacy_session_id (RFC 8446 4.1.3) */
	ck_assert_uint_eq(h->session_id.len, 32);
	sid = h->session_id;
	{
		struct cap_packet ch = cap_read("tls-lo.pcap", CH13);
		struct ndl_packet p;

		ck_assert_int_eq(ndl__decode(&p, ch.linktype, ch.data, ch.caplen, ch.wirelen, 0), 0);
		ck_assert_mem_eq(sid.ptr, p.payload + 44, 32);
		free(ch.data);
	}
}
END_TEST

START_TEST(test_client_hello_12)
{
	const struct ndl_tls_hello *h = load_hello(CH12);

	ck_err("ok");
	ck_assert_uint_eq(h->type, 1);
	ck_assert_uint_eq(h->legacy_version, 0x0303);
	/* no supported_versions: the legacy version is the version */
	ck_assert_uint_eq(h->version, 0x0303);
	ck_assert_uint_eq(h->n_versions, 0);
	ck_assert_uint_eq(h->session_id.len, 0);
	ck_assert_ptr_nonnull(h->session_id.ptr);
	ck_str(h->sni, "www.example.test");
	ck_assert_uint_eq(h->n_ciphers, 28);
	ck_assert_uint_eq(h->ciphers[0], 0xc02c);
	ck_assert_uint_eq(h->ciphers[27], 0x00ff);
	ck_list(h->extensions, h->n_extensions, 0, 11, 10, 35, 16, 22, 23, 13);
	ck_list(h->groups, h->n_groups, 0x001d, 0x0017, 0x001e, 0x0019, 0x0018);
	ck_assert_uint_eq(h->n_sig_algs, 20);
	ck_assert_uint_eq(h->sig_algs[19], 0x0602);
	ck_alpn_both(h);
}
END_TEST

START_TEST(test_server_hello_12)
{
	const struct ndl_tls_hello *h = load_hello(SH12);

	ck_err("ok");
	ck_assert_uint_eq(h->type, 2);
	ck_assert_uint_eq(h->version, 0x0303);
	ck_assert_uint_eq(h->cipher, 0xc02c);  /* ECDHE-ECDSA-AES256-GCM-SHA384 */
	ck_list(h->extensions, h->n_extensions, 0xff01, 11, 35, 16, 23);
	ck_list(h->point_formats, h->n_point_formats, 0, 1, 2);
	ck_assert_uint_eq(h->n_alpn, 1);
	ck_str(h->alpn[0], "h2");
	ck_assert_uint_eq(h->n_versions, 0);
}
END_TEST

/*
 * Each hello cut after every byte: under six bytes it cannot be told from
 * other records; after that it is a hello, truncated until it is whole,
 * with a prefix of the whole hello's lists. The SNI is there as soon as
 * its bytes are: a ClientHello split across segments keeps it.
 */
START_TEST(test_every_cut)
{
	static const unsigned int hellos[] = { CH13, SH13, CH12, SH12 };
	struct ndl__tls_buf *full = malloc(sizeof(*full));
	unsigned int index = hellos[_i];
	const uint8_t *msg;
	const uint8_t *sni_at;
	size_t len, end, sni_end = 0, n;

	ck_assert_ptr_nonnull(full);
	load(index);
	msg = pkt.payload;
	len = pkt.payload_len;
	ck_assert_int_eq(ndl__tls_parse(full, msg, len), 0);
	ck_assert_uint_eq(full->hello.error, NDL_TLS_OK);
	end = 9 + ((size_t)msg[6] << 16 | (size_t)msg[7] << 8 | msg[8]);
	ck_assert_uint_le(end, len);
	sni_at = find(msg, len, "www.example.test");
	if (full->hello.type == 1) {
		ck_assert_ptr_nonnull(sni_at);
		sni_end = (size_t)(sni_at - msg) + 16;
	}

	for (n = 0; n <= len; n++) {
		int r = parse_n(msg, n);

		if (n < 6) {
			ck_assert_msg(r == -EINVAL, "cut at %zu: %d", n, r);
			continue;
		}
		ck_assert_msg(r == 0, "cut at %zu: %d", n, r);
		ck_assert_uint_eq(th->type, full->hello.type);
		if (n >= end) {
			ck_assert_msg(th->error == NDL_TLS_OK, "cut at %zu: %s", n,
				      ndl_tls_error_name(th->error));
			ck_assert_uint_eq(th->n_extensions, full->hello.n_extensions);
			ck_assert_uint_eq(th->version, full->hello.version);
		} else {
			ck_assert_msg(th->error == NDL_TLS_TRUNCATED, "cut at %zu of %zu: %s", n,
				      end, ndl_tls_error_name(th->error));
		}
		ck_assert_uint_le(th->n_ciphers, full->hello.n_ciphers);
		ck_assert_uint_le(th->n_extensions, full->hello.n_extensions);
		ck_assert_uint_le(th->n_alpn, full->hello.n_alpn);
		ck_assert_mem_eq(th->ciphers, full->ciphers, th->n_ciphers * 2u);
		ck_assert_mem_eq(th->extensions, full->extensions, th->n_extensions * 2u);
		if (th->random)
			ck_assert_uint_ge(n, 11 + 32);
		else
			ck_assert_uint_lt(n, 11 + 32);
		if (full->hello.type == 1) {
			if (n >= sni_end)
				ck_str(th->sni, "www.example.test");
			else
				ck_assert_ptr_null(th->sni.ptr);
		}
	}
	free(full);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Hand-built hellos                                                         */
/* ------------------------------------------------------------------------ */

static size_t vec16_begin(struct fb *f)
{
	size_t at = f->n;

	put16(f, 0);
	return at;
}

static void vec16_end(struct fb *f, size_t at)
{
	patch16(f, at, (unsigned int)(f->n - at - 2));
}

static size_t vec8_begin(struct fb *f)
{
	size_t at = f->n;

	put8(f, 0);
	return at;
}

static void vec8_end(struct fb *f, size_t at)
{
	f->b[at] = (uint8_t)(f->n - at - 1);
}

/* Record and handshake headers; hello_end fills in both lengths. */
static void hello_begin(struct fb *f, unsigned int type)
{
	fb_reset(f);
	put8(f, 22);
	put16(f, 0x0301);
	put16(f, 0);
	put8(f, type);
	put8(f, 0);
	put16(f, 0);
	put16(f, 0x0303);
	for (int i = 0; i < 32; i++)
		put8(f, (unsigned int)i);
	put8(f, 0);                  /* empty session id */
}

static void hello_end(struct fb *f)
{
	size_t hs = f->n - 9;

	patch16(f, 3, (unsigned int)(f->n - 5));
	f->b[6] = (uint8_t)(hs >> 16);
	f->b[7] = (uint8_t)(hs >> 8);
	f->b[8] = (uint8_t)hs;
}

/* A ClientHello with n ciphers (first, first+1, ...), then the extensions block begins. */
static size_t client_begin(struct fb *f, unsigned int first, size_t n)
{
	size_t v;

	hello_begin(f, 1);
	v = vec16_begin(f);
	for (size_t i = 0; i < n; i++)
		put16(f, first + (unsigned int)i);
	vec16_end(f, v);
	put8(f, 1);
	put8(f, 0);                  /* null compression */
	return vec16_begin(f);
}

static void ext_sni(struct fb *f, const char *name)
{
	size_t e, l, h;

	put16(f, 0);
	e = vec16_begin(f);
	l = vec16_begin(f);
	put8(f, 0);
	h = vec16_begin(f);
	put(f, name, strlen(name));
	vec16_end(f, h);
	vec16_end(f, l);
	vec16_end(f, e);
}

/* An extension holding a vector of n two-byte values (first, first+1...). */
static void ext_u16s(struct fb *f, unsigned int type, bool len8, const uint16_t *vals, size_t n)
{
	size_t e, l;

	put16(f, type);
	e = vec16_begin(f);
	l = len8 ? vec8_begin(f) : vec16_begin(f);
	for (size_t i = 0; i < n; i++)
		put16(f, vals[i]);
	if (len8)
		vec8_end(f, l);
	else
		vec16_end(f, l);
	vec16_end(f, e);
}

static void ext_alpn(struct fb *f, const char *const *names, size_t n)
{
	size_t e, l;

	put16(f, 16);
	e = vec16_begin(f);
	l = vec16_begin(f);
	for (size_t i = 0; i < n; i++) {
		put8(f, (unsigned int)strlen(names[i]));
		put(f, names[i], strlen(names[i]));
	}
	vec16_end(f, l);
	vec16_end(f, e);
}

static void client_end(struct fb *f, size_t exts)
{
	vec16_end(f, exts);
	hello_end(f);
}

START_TEST(test_grease)
{
	struct fb f;
	size_t x;
	static const uint16_t groups[] = { 0x2a2a, 0x001d, 0x0017 };
	static const uint16_t versions[] = { 0x3a3a, 0x0304, 0x0303 };
	static const uint16_t only_grease[] = { 0x4a4a };
	static const char *const alpn[] = { "h2" };

	x = client_begin(&f, 0x1301, 2);
	patch16(&f, 9 + 2 + 32 + 1 + 2, 0x0a0a);   /* the first cipher is GREASE */
	put16(&f, 0x1a1a);                          /* an empty GREASE extension */
	put16(&f, 0);
	ext_sni(&f, "grease.example.test");
	ext_u16s(&f, 10, false, groups, 3);
	ext_u16s(&f, 43, true, versions, 3);
	ext_alpn(&f, alpn, 1);
	put16(&f, 0xfafa);                          /* and one with a byte */
	put16(&f, 1);
	put8(&f, 0);
	client_end(&f, x);

	ck_assert_int_eq(parse_n(f.b, f.n), 0);
	ck_err("ok");
	ck_list(th->ciphers, th->n_ciphers, 0x0a0a, 0x1302);
	ck_list(th->extensions, th->n_extensions, 0x1a1a, 0, 10, 43, 16, 0xfafa);
	ck_list(th->groups, th->n_groups, 0x2a2a, 0x001d, 0x0017);
	ck_list(th->versions, th->n_versions, 0x3a3a, 0x0304, 0x0303);
	/* the highest offered version, GREASE aside */
	ck_assert_uint_eq(th->version, 0x0304);
	ck_str(th->sni, "grease.example.test");
	ck_assert(ndl_tls_is_grease(th->ciphers[0]));
	ck_assert(!ndl_tls_is_grease(th->ciphers[1]));

	/* supported_versions with GREASE alone: the legacy version stands */
	x = client_begin(&f, 0x1301, 1);
	ext_u16s(&f, 43, true, only_grease, 1);
	client_end(&f, x);
	ck_assert_int_eq(parse_n(f.b, f.n), 0);
	ck_err("ok");
	ck_assert_uint_eq(th->version, 0x0303);
	ck_assert_uint_eq(th->n_versions, 1);
}
END_TEST

START_TEST(test_grease_values)
{
	unsigned int n = 0;

	for (unsigned int v = 0; v <= 0xffff; v++) {
		if (ndl_tls_is_grease((uint16_t)v)) {
			ck_assert_uint_eq(v & 0x0f0f, 0x0a0a);
			ck_assert_uint_eq(v >> 8, v & 0xff);
			n++;
		}
	}
	ck_assert_uint_eq(n, 16);
	ck_assert(ndl_tls_is_grease(0xfafa));
	ck_assert(!ndl_tls_is_grease(0x0a1a));
}
END_TEST

/* Lists at their limits are whole; one past, the rest is skipped but the hello is read on. */
START_TEST(test_limits)
{
	struct fb f;
	size_t x;
	uint16_t vals[NDL_TLS_MAX_CIPHERS + 1];
	const char *names[NDL_TLS_MAX_ALPN + 1];
	static const unsigned int list_types[] = { 10, 13, 43 };
	size_t over = (size_t)_i;

	for (size_t i = 0; i < NDL_TLS_MAX_CIPHERS + 1; i++)
		vals[i] = (uint16_t)(0x0100 + i);
	for (size_t i = 0; i < NDL_TLS_MAX_ALPN + 1; i++)
		names[i] = "proto";

	/* ciphers, with the SNI after them */
	x = client_begin(&f, 0x0100, NDL_TLS_MAX_CIPHERS + over);
	ext_sni(&f, "many.example.test");
	client_end(&f, x);
	ck_assert_int_eq(parse_n(f.b, f.n), 0);
	ck_assert_str_eq(ndl_tls_error_name(th->error), over ? "too_many" : "ok");
	ck_assert_uint_eq(th->n_ciphers, NDL_TLS_MAX_CIPHERS);
	ck_assert_uint_eq(th->ciphers[NDL_TLS_MAX_CIPHERS - 1], 0x0100 + NDL_TLS_MAX_CIPHERS - 1);
	ck_str(th->sni, "many.example.test");

	/* each two-byte list */
	for (size_t t = 0; t < 3; t++) {
		const uint16_t *got;
		uint16_t n;

		x = client_begin(&f, 0x1301, 1);
		ext_u16s(&f, list_types[t], list_types[t] == 43, vals, NDL_TLS_MAX_LIST + over);
		ext_sni(&f, "list.example.test");
		client_end(&f, x);
		ck_assert_int_eq(parse_n(f.b, f.n), 0);
		ck_assert_msg(th->error == (over ? NDL_TLS_TOO_MANY : NDL_TLS_OK),
			      "extension %u: %s", list_types[t], ndl_tls_error_name(th->error));
		got = t == 0 ? th->groups : t == 1 ? th->sig_algs : th->versions;
		n = t == 0 ? th->n_groups : t == 1 ? th->n_sig_algs : th->n_versions;
		ck_assert_uint_eq(n, NDL_TLS_MAX_LIST);
		ck_assert_uint_eq(got[NDL_TLS_MAX_LIST - 1], 0x0100 + NDL_TLS_MAX_LIST - 1);
		ck_str(th->sni, "list.example.test");
	}

	/* point formats, one byte each */
	x = client_begin(&f, 0x1301, 1);
	put16(&f, 11);
	{
		size_t e = vec16_begin(&f), l = vec8_begin(&f);

		for (size_t i = 0; i < NDL_TLS_MAX_LIST + over; i++)
			put8(&f, (unsigned int)i);
		vec8_end(&f, l);
		vec16_end(&f, e);
	}
	client_end(&f, x);
	ck_assert_int_eq(parse_n(f.b, f.n), 0);
	ck_assert_uint_eq(th->error, over ? NDL_TLS_TOO_MANY : NDL_TLS_OK);
	ck_assert_uint_eq(th->n_point_formats, NDL_TLS_MAX_LIST);
	ck_assert_uint_eq(th->point_formats[NDL_TLS_MAX_LIST - 1], NDL_TLS_MAX_LIST - 1);

	/* ALPN names */
	x = client_begin(&f, 0x1301, 1);
	ext_alpn(&f, names, NDL_TLS_MAX_ALPN + over);
	client_end(&f, x);
	ck_assert_int_eq(parse_n(f.b, f.n), 0);
	ck_assert_uint_eq(th->error, over ? NDL_TLS_TOO_MANY : NDL_TLS_OK);
	ck_assert_uint_eq(th->n_alpn, NDL_TLS_MAX_ALPN);
	ck_str(th->alpn[NDL_TLS_MAX_ALPN - 1], "proto");

	/* extensions, the SNI last */
	x = client_begin(&f, 0x1301, 1);
	for (size_t i = 0; i < NDL_TLS_MAX_EXTENSIONS - 1 + over; i++) {
		put16(&f, 0x7000 + (unsigned int)i);
		put16(&f, 0);
	}
	ext_sni(&f, "last.example.test");
	client_end(&f, x);
	ck_assert_int_eq(parse_n(f.b, f.n), 0);
	ck_assert_uint_eq(th->error, over ? NDL_TLS_TOO_MANY : NDL_TLS_OK);
	ck_assert_uint_eq(th->n_extensions, NDL_TLS_MAX_EXTENSIONS);
	ck_assert_uint_eq(th->extensions[NDL_TLS_MAX_EXTENSIONS - 1], over ? 0x7000 + 63 : 0);
	ck_str(th->sni, "last.example.test");
}
END_TEST

/* A too-long list followed by a cut: the cut is what is reported. */
START_TEST(test_too_many_then_truncated)
{
	struct fb f;
	size_t x = client_begin(&f, 0x0100, NDL_TLS_MAX_CIPHERS + 5);

	ext_sni(&f, "cut.example.test");
	client_end(&f, x);
	ck_assert_int_eq(parse_n(f.b, f.n - 3), 0);
	ck_err("truncated");
	ck_assert_uint_eq(th->n_ciphers, NDL_TLS_MAX_CIPHERS);
}
END_TEST

START_TEST(test_no_extensions_and_first_sni)
{
	struct fb f;
	size_t x, e, l, h;

	/* An old ClientHello ends after the compression methods. */
	x = client_begin(&f, 0x002f, 3);
	f.n = x;
	hello_end(&f);
	ck_assert_int_eq(parse_n(f.b, f.n), 0);
	ck_err("ok");
	ck_assert_uint_eq(th->n_ciphers, 3);
	ck_assert_uint_eq(th->n_extensions, 0);
	ck_assert_uint_eq(th->version, 0x0303);
	ck_assert_ptr_null(th->sni.ptr);

	/* Of several server names, the first host_name; other types skipped. */
	x = client_begin(&f, 0x1301, 1);
	put16(&f, 0);
	e = vec16_begin(&f);
	l = vec16_begin(&f);
	put8(&f, 7);               /* not a host_name */
	h = vec16_begin(&f);
	put(&f, "other", 5);
	vec16_end(&f, h);
	put8(&f, 0);
	h = vec16_begin(&f);
	put(&f, "first.test", 10);
	vec16_end(&f, h);
	put8(&f, 0);
	h = vec16_begin(&f);
	put(&f, "second.test", 11);
	vec16_end(&f, h);
	vec16_end(&f, l);
	vec16_end(&f, e);
	ext_sni(&f, "again.test");    /* a repeated extension is not read again */
	client_end(&f, x);
	ck_assert_int_eq(parse_n(f.b, f.n), 0);
	ck_err("ok");
	ck_str(th->sni, "first.test");
	ck_assert_uint_eq(th->n_extensions, 2);
}
END_TEST

/* A hello longer than its record goes on in the next record: truncated here. */
START_TEST(test_hello_spanning_records)
{
	struct fb f;
	size_t x = client_begin(&f, 0x1301, 2);

	ext_sni(&f, "span.example.test");
	client_end(&f, x);
	patch16(&f, 3, 4 + 2 + 32 + 1 + 2 + 4 + 2);   /* the record ends after the ciphers */
	ck_assert_int_eq(parse_n(f.b, f.n), 0);
	ck_err("truncated");
	ck_assert_uint_eq(th->n_ciphers, 2);
	ck_assert_ptr_null(th->sni.ptr);
}
END_TEST

START_TEST(test_server_hello_built)
{
	struct fb f;
	size_t x, e, l;

	/* TLS 1.3: supported_versions selects; an empty server_name is fine */
	hello_begin(&f, 2);
	put16(&f, 0x1301);
	put8(&f, 0);
	x = vec16_begin(&f);
	put16(&f, 43);
	put16(&f, 2);
	put16(&f, 0x0304);
	put16(&f, 0);
	put16(&f, 0);
	put16(&f, 16);
	e = vec16_begin(&f);
	l = vec16_begin(&f);
	put8(&f, 8);
	put(&f, "http/1.1", 8);
	vec16_end(&f, l);
	vec16_end(&f, e);
	vec16_end(&f, x);
	hello_end(&f);
	ck_assert_int_eq(parse_n(f.b, f.n), 0);
	ck_err("ok");
	ck_assert_uint_eq(th->version, 0x0304);
	ck_assert_uint_eq(th->legacy_version, 0x0303);
	ck_assert_uint_eq(th->cipher, 0x1301);
	ck_list(th->extensions, th->n_extensions, 43, 0, 16);
	ck_assert_uint_eq(th->n_alpn, 1);
	ck_str(th->alpn[0], "http/1.1");
	ck_assert_ptr_null(th->sni.ptr);

	/* A TLS 1.2 ServerHello without extensions */
	hello_begin(&f, 2);
	put16(&f, 0xc02f);
	put8(&f, 0);
	hello_end(&f);
	ck_assert_int_eq(parse_n(f.b, f.n), 0);
	ck_err("ok");
	ck_assert_uint_eq(th->version, 0x0303);
	ck_assert_uint_eq(th->cipher, 0xc02f);
	ck_assert_uint_eq(th->n_extensions, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Malformed                                                                 */
/* ------------------------------------------------------------------------ */

START_TEST(test_bad_records)
{
	struct fb f;
	size_t x = client_begin(&f, 0x1301, 1);

	client_end(&f, x);
	for (unsigned int len = 0; len < 4; len++) {
		patch16(&f, 3, len);
		ck_assert_int_eq(parse_n(f.b, f.n), 0);
		ck_err("bad_record");
	}
	patch16(&f, 3, 16384 + 2048 + 1);
	ck_assert_int_eq(parse_n(f.b, f.n), 0);
	ck_err("bad_record");
	patch16(&f, 3, 16384 + 2048);          /* the largest allowed: just cut short */
	ck_assert_int_eq(parse_n(f.b, f.n), 0);
	ck_assert_uint_ne(th->error, NDL_TLS_BAD_RECORD);
}
END_TEST

/* Patches of a good ClientHello, each making one length lie. */
struct bad_hello {
	const char *what;
	size_t off;        /* where to patch, from the start of the record */
	unsigned int val;
	bool byte;
	unsigned int err;
};

/*
 * The hello built by bad_hello_frame: record 5, handshake 4, version 2,
 * random 32, session id length at 43, cipher length at 44, two ciphers,
 * compression at 50..51, extensions length at 52, SNI ext type at 54,
 * ext length 56, list length 58, name type 60, name length 61, name at 63
 * (9 bytes "sni.test1"), ALPN ext at 72: type, length 74, list 76, name
 * length 78, "h2".
 */
static const struct bad_hello bad_hellos[] = {
	{ "session id over 32", 43, 33, true, NDL_TLS_BAD_HELLO },
	{ "odd cipher list", 44, 3, false, NDL_TLS_BAD_HELLO },
	{ "cipher list past the hello", 44, 0x4000, false, NDL_TLS_BAD_HELLO },
	{ "compression past the hello", 50, 200, true, NDL_TLS_BAD_HELLO },
	{ "extensions past the hello", 52, 0x100, false, NDL_TLS_BAD_HELLO },
	{ "extension past the block", 56, 0x100, false, NDL_TLS_BAD_HELLO },
	{ "server names past the extension", 58, 0x40, false, NDL_TLS_BAD_HELLO },
	{ "host name past the list", 61, 0x40, false, NDL_TLS_BAD_HELLO },
	{ "ALPN list past the extension", 76, 9, false, NDL_TLS_BAD_HELLO },
	{ "empty ALPN name", 78, 0, true, NDL_TLS_BAD_HELLO },
	{ "ALPN name past the list", 78, 9, true, NDL_TLS_BAD_HELLO },
	{ "handshake shorter than its hello", 8, 20, true, NDL_TLS_BAD_HELLO },
	{ "handshake length zero", 8, 0, true, NDL_TLS_BAD_HELLO },
};

static void bad_hello_frame(struct fb *f)
{
	static const char *const alpn[] = { "h2" };
	size_t x = client_begin(f, 0x1301, 2);

	ext_sni(f, "sni.test1");
	ext_alpn(f, alpn, 1);
	client_end(f, x);
	ck_assert_uint_eq(f->n, 81);
	ck_assert_uint_eq(f->b[78], 2);
}

START_TEST(test_bad_hellos)
{
	const struct bad_hello *c = &bad_hellos[_i];
	struct fb f;

	bad_hello_frame(&f);
	ck_assert_int_eq(parse_n(f.b, f.n), 0);
	ck_err("ok");
	ck_str(th->sni, "sni.test1");
	if (c->byte)
		f.b[c->off] = (uint8_t)c->val;
	else
		patch16(&f, c->off, c->val);
	ck_assert_int_eq(parse_n(f.b, f.n), 0);
	ck_assert_msg(th->error == c->err, "%s: %s", c->what, ndl_tls_error_name(th->error));
}
END_TEST

START_TEST(test_not_tls)
{
	struct fb f;
	static const uint8_t appdata[] = { 0x17, 0x03, 0x03, 0x00, 0x10, 0x01, 0, 0, 0, 0 };
	static const uint8_t sslv2[] = { 0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0, 0, 0 };
	static const uint8_t http[] = "GET / HTTP/1.1\r\n\r\n";

	bad_hello_frame(&f);
	f.b[5] = 11;                    /* a Certificate first */
	ck_assert_int_eq(parse_n(f.b, f.n), -EINVAL);
	f.b[5] = 0;                     /* HelloRequest */
	ck_assert_int_eq(parse_n(f.b, f.n), -EINVAL);
	bad_hello_frame(&f);
	f.b[1] = 2;                     /* not a 3.x record version */
	ck_assert_int_eq(parse_n(f.b, f.n), -EINVAL);
	bad_hello_frame(&f);
	f.b[0] = 21;                    /* an alert */
	ck_assert_int_eq(parse_n(f.b, f.n), -EINVAL);
	ck_assert_int_eq(parse_n(appdata, sizeof(appdata)), -EINVAL);
	ck_assert_int_eq(parse_n(sslv2, sizeof(sslv2)), -EINVAL);
	ck_assert_int_eq(parse_n(http, sizeof(http) - 1), -EINVAL);
	ck_assert_int_eq(parse_n(f.b, 5), -EINVAL);
	ck_assert_int_eq(ndl__tls_parse(&tb, NULL, 100), -EINVAL);
	ck_assert_int_eq(ndl__tls_parse(NULL, f.b, f.n), -EINVAL);
}
END_TEST

/* Random bytes behind a hello's first six: never a read outside the message. */
START_TEST(test_random_hellos)
{
	uint8_t m[600];
	uint32_t x = 777;
	unsigned int seen[NDL_TLS_ERROR_COUNT] = { 0 };
	struct fb f;

	bad_hello_frame(&f);
	for (int round = 0; round < 30000; round++) {
		size_t n = 6 + (size_t)(round % 590);

		/* half start from the good hello with bytes flipped, half are noise */
		if (round % 2) {
			memcpy(m, f.b, f.n);
			memset(m + f.n, 0, sizeof(m) - f.n);
			for (int k = 0; k < 3; k++) {
				x = x * 1103515245u + 12345u;
				m[6 + (x >> 8) % (f.n - 6)] = (uint8_t)(x >> 20);
			}
			if (n > f.n + 20)
				n = f.n;
		} else {
			for (size_t i = 0; i < n; i++) {
				x = x * 1103515245u + 12345u;
				m[i] = (uint8_t)(x >> 16);
			}
		}
		m[0] = 22;
		m[1] = 3;
		m[5] = (uint8_t)(1 + round % 2);
		ck_assert_int_eq(parse_n(m, n), 0);
		ck_assert_uint_lt(th->error, NDL_TLS_ERROR_COUNT);
		ck_assert_uint_le(th->n_ciphers, NDL_TLS_MAX_CIPHERS);
		ck_assert_uint_le(th->n_alpn, NDL_TLS_MAX_ALPN);
		if (th->sni.ptr)
			ck_assert((const uint8_t *)th->sni.ptr + th->sni.len <= held + n);
		seen[th->error]++;
	}
	/* the mutations reach every outcome but the too-long lists */
	ck_assert_uint_gt(seen[NDL_TLS_OK], 0);
	ck_assert_uint_gt(seen[NDL_TLS_TRUNCATED], 0);
	ck_assert_uint_gt(seen[NDL_TLS_BAD_RECORD], 0);
	ck_assert_uint_gt(seen[NDL_TLS_BAD_HELLO], 0);
}
END_TEST

START_TEST(test_from_packet_rules)
{
	struct fb f;
	struct ndl_packet p;

	bad_hello_frame(&f);
	memset(&p, 0, sizeof(p));
	p.layers = NDL_LAYER_TCP | NDL_LAYER_PAYLOAD;
	p.payload = f.b;
	p.payload_len = (uint32_t)f.n;
	p.sport = 51000;
	p.dport = 8443;           /* any port */
	ck_assert_ptr_nonnull(ndl__tls_from_packet(&tb, &p));
	ck_str(th->sni, "sni.test1");
	p.layers = NDL_LAYER_UDP | NDL_LAYER_PAYLOAD;
	ck_assert_ptr_null(ndl__tls_from_packet(&tb, &p));
	p.layers = NDL_LAYER_TCP | NDL_LAYER_PAYLOAD;
	p.payload_len = 5;
	ck_assert_ptr_null(ndl__tls_from_packet(&tb, &p));
	p.payload_len = (uint32_t)f.n;
	f.b[0] = 0x17;
	ck_assert_ptr_null(ndl__tls_from_packet(&tb, &p));
	p.payload = NULL;
	p.payload_len = 0;
	ck_assert_ptr_null(ndl__tls_from_packet(&tb, &p));
	ck_assert_ptr_null(ndl__tls_from_packet(&tb, NULL));

	/* the SYN of the captured connection has no payload */
	load(0);
	ck_assert_ptr_null(ndl__tls_from_packet(&tb, &pkt));
	/* and the client's Finished flight is not a hello */
	load(7);
	ck_assert_ptr_null(ndl__tls_from_packet(&tb, &pkt));
}
END_TEST

START_TEST(test_error_names)
{
	const char *seen[NDL_TLS_ERROR_COUNT];

	for (unsigned int i = 0; i < NDL_TLS_ERROR_COUNT; i++) {
		seen[i] = ndl_tls_error_name(i);
		ck_assert_str_ne(seen[i], "unknown");
		for (unsigned int j = 0; j < i; j++)
			ck_assert_str_ne(seen[i], seen[j]);
	}
	ck_assert_str_eq(ndl_tls_error_name(NDL_TLS_BAD_HELLO), "bad_hello");
	ck_assert_str_eq(ndl_tls_error_name(NDL_TLS_ERROR_COUNT), "unknown");
}
END_TEST

static Suite *tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("tls");

	tcase_add_checked_fixture(tc, NULL, release_cap);
	tcase_add_test(tc, test_client_hello_13);
	tcase_add_test(tc, test_server_hello_13);
	tcase_add_test(tc, test_client_hello_12);
	tcase_add_test(tc, test_server_hello_12);
	tcase_add_loop_test(tc, test_every_cut, 0, 4);
	tcase_add_test(tc, test_grease);
	tcase_add_test(tc, test_grease_values);
	tcase_add_loop_test(tc, test_limits, 0, 2);
	tcase_add_test(tc, test_too_many_then_truncated);
	tcase_add_test(tc, test_no_extensions_and_first_sni);
	tcase_add_test(tc, test_hello_spanning_records);
	tcase_add_test(tc, test_server_hello_built);
	tcase_add_test(tc, test_bad_records);
	tcase_add_loop_test(tc, test_bad_hellos, 0,
			    (int)(sizeof(bad_hellos) / sizeof(bad_hellos[0])));
	tcase_add_test(tc, test_not_tls);
	tcase_add_test(tc, test_random_hellos);
	tcase_add_test(tc, test_from_packet_rules);
	tcase_add_test(tc, test_error_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tls_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
