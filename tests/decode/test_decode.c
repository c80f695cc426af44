/* SPDX-License-Identifier: MIT */
/*
 * test_decode.c - the packet decoder on hand-built frames: every link type,
 * VLAN stacks, ARP, IPv4 options and fragments, IPv6 extension chains,
 * TCP/UDP/ICMP/ICMPv6, padding, and every frame cut at every byte; the
 * details ABI 1.1 added (IP identification and fragments, traffic class
 * and flow label, TCP window and options, UDP length, ICMP echo).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decode.h"
#include "capfile.h"
#include "frames.h"

enum {
	LT_NULL = 0, LT_EN10MB = 1, LT_RAW = 12, LT_RAW_BSD = 14, LT_RAW_FILE = 101,
	LT_LOOP = 108, LT_LINUX_SLL = 113, LT_IPV4 = 228, LT_IPV6 = 229,
	LT_LINUX_SLL2 = 276,
};

static const uint8_t mac_a[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b };
static const uint8_t ip4_src[4] = { 192, 0, 2, 1 };
static const uint8_t ip4_dst[4] = { 198, 51, 100, 2 };
static const uint8_t ip6_src[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t ip6_dst[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

/* ------------------------------------------------------------------------ */
/* Builders                                                                  */
/* ------------------------------------------------------------------------ */

static void eth(struct fb *f, unsigned int type)
{
	put(f, mac_b, 6);
	put(f, mac_a, 6);
	put16(f, type);
}

/* An IPv4 header with optlen bytes of NOP options; ip4_end sets its length. */
static size_t ip4(struct fb *f, unsigned int proto, unsigned int frag, size_t optlen)
{
	size_t at = f->n;

	put8(f, 0x40 | (unsigned int)(5 + optlen / 4));
	put8(f, 0);
	put16(f, 0);
	put16(f, 0x1234);
	put16(f, frag);
	put8(f, 64);
	put8(f, proto);
	put16(f, 0);
	put(f, ip4_src, 4);
	put(f, ip4_dst, 4);
	while (optlen--)
		put8(f, 1);
	return at;
}

static void ip4_end(struct fb *f, size_t at)
{
	patch16(f, at + 2, (unsigned int)(f->n - at));
}

static size_t ip6(struct fb *f, unsigned int next)
{
	size_t at = f->n;

	put32(f, 0x60000000u);
	put16(f, 0);
	put8(f, next);
	put8(f, 63);
	put(f, ip6_src, 16);
	put(f, ip6_dst, 16);
	return at;
}

static void ip6_end(struct fb *f, size_t at)
{
	patch16(f, at + 4, (unsigned int)(f->n - at - 40));
}

/* An IPv6 extension header of (len + 1) * 8 bytes. */
static void ip6_ext(struct fb *f, unsigned int next, unsigned int len)
{
	put8(f, next);
	put8(f, len);
	putz(f, (len + 1) * 8 - 2);
}

static void tcp(struct fb *f, unsigned int sport, unsigned int dport,
		unsigned int flags, size_t optlen)
{
	put16(f, sport);
	put16(f, dport);
	put32(f, 0x01020304u);
	put32(f, 0xa0b0c0d0u);
	put8(f, (unsigned int)((5 + optlen / 4) << 4));
	put8(f, flags);
	put16(f, 65535);
	put16(f, 0);
	put16(f, 0);
	while (optlen--)
		put8(f, 1);
}

static void udp(struct fb *f, unsigned int sport, unsigned int dport, size_t plen)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, (unsigned int)(8 + plen));
	put16(f, 0);
}

static void text(struct fb *f, const char *s)
{
	put(f, s, strlen(s));
}

/* ------------------------------------------------------------------------ */
/* Decoding in exact heap blocks                                             */
/* ------------------------------------------------------------------------ */

static uint8_t *held;

static void release_held(void)
{
	free(held);
	held = NULL;
}

static int dec_n(struct ndl_packet *p, int lt, const void *bytes, size_t n)
{
	release_held();
	held = exact_copy(bytes, n);
	return ndl__decode(p, lt, held, (uint32_t)n, (uint32_t)n + 100, 1234567890123LL);
}

static int dec(struct ndl_packet *p, int lt, const struct fb *f)
{
	return dec_n(p, lt, f->b, f->n);
}

#define ck_err(p, name) ck_assert_str_eq(ndl_decode_error_name((p)->decode_error), name)

/* ------------------------------------------------------------------------ */
/* Frames shared by several tests                                            */
/* ------------------------------------------------------------------------ */

/* Ethernet, IPv4 with 4 option bytes, TCP with 12 option bytes, "hello". */
static void frame_tcp4(struct fb *f)
{
	size_t at;

	fb_reset(f);
	eth(f, 0x0800);
	at = ip4(f, 6, 0x4000, 4);
	tcp(f, 40000, 80, 0x18, 12);
	text(f, "hello");
	ip4_end(f, at);
}

static void frame_udp6_chain(struct fb *f)
{
	size_t at;

	fb_reset(f);
	eth(f, 0x86dd);
	at = ip6(f, 0);
	ip6_ext(f, 43, 0);    /* hop-by-hop */
	ip6_ext(f, 60, 1);    /* routing, 16 bytes */
	ip6_ext(f, 17, 0);    /* destination options */
	udp(f, 5353, 5353, 4);
	text(f, "mdns");
	ip6_end(f, at);
}

/* ------------------------------------------------------------------------ */
/* Ethernet, VLAN                                                            */
/* ------------------------------------------------------------------------ */

START_TEST(test_eth_ipv4_tcp)
{
	struct fb f;
	struct ndl_packet p;

	frame_tcp4(&f);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_err(&p, "ok");
	ck_assert_uint_eq(p.struct_size, sizeof(p));
	ck_assert_int_eq(p.ts, 1234567890123LL);
	ck_assert_ptr_eq(p.data, held);
	ck_assert_uint_eq(p.caplen, f.n);
	ck_assert_uint_eq(p.wirelen, f.n + 100);
	ck_assert_int_eq(p.linktype, LT_EN10MB);
	ck_assert_uint_eq(p.layers, NDL_LAYER_ETHERNET | NDL_LAYER_IPV4 |
			  NDL_LAYER_TCP | NDL_LAYER_PAYLOAD);
	ck_assert_mem_eq(p.eth_src, mac_a, 6);
	ck_assert_mem_eq(p.eth_dst, mac_b, 6);
	ck_assert_uint_eq(p.ethertype, 0x0800);
	ck_assert_uint_eq(p.n_vlan, 0);
	ck_assert_uint_eq(p.l2_off, 0);
	ck_assert_uint_eq(p.l3_off, 14);
	ck_assert_uint_eq(p.l4_off, 14 + 24);
	ck_assert_uint_eq(p.ip_version, 4);
	ck_assert_uint_eq(p.ip_proto, 6);
	ck_assert_uint_eq(p.ip_ttl, 64);
	ck_assert_mem_eq(p.src_ip, ip4_src, 4);
	ck_assert_mem_eq(p.dst_ip, ip4_dst, 4);
	ck_assert_uint_eq(p.sport, 40000);
	ck_assert_uint_eq(p.dport, 80);
	ck_assert_uint_eq(p.tcp_seq, 0x01020304u);
	ck_assert_uint_eq(p.tcp_ack, 0xa0b0c0d0u);
	ck_assert_uint_eq(p.tcp_flags, 0x18);
	ck_assert_uint_eq(p.payload_len, 5);
	ck_assert_ptr_eq(p.payload, held + 14 + 24 + 32);
	ck_assert_mem_eq(p.payload, "hello", 5);
	ck_assert_uint_eq(p.padding_len, 0);
}
END_TEST

START_TEST(test_eth_8023_length)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;

	eth(&f, 46);              /* an 802.3 length: LLC follows */
	put8(&f, 0x42);
	put8(&f, 0x42);
	put8(&f, 0x03);
	putz(&f, 43);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_ETHERNET);
	ck_assert_uint_eq(p.ethertype, 0);
	ck_assert_uint_eq(p.l3_off, 0);
	ck_assert_mem_eq(p.eth_src, mac_a, 6);
}
END_TEST

START_TEST(test_eth_unknown_ethertype)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;

	eth(&f, 0x88cc);          /* LLDP */
	putz(&f, 30);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_ETHERNET);
	ck_assert_uint_eq(p.ethertype, 0x88cc);
}
END_TEST

START_TEST(test_vlan_single)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;
	size_t at;

	eth(&f, 0x8100);
	put16(&f, 0xa000 | 100);   /* PCP 5, VID 100 */
	put16(&f, 0x0800);
	at = ip4(&f, 17, 0, 0);
	udp(&f, 1234, 53, 0);
	ip4_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_ETHERNET | NDL_LAYER_VLAN |
			  NDL_LAYER_IPV4 | NDL_LAYER_UDP);
	ck_assert_uint_eq(p.n_vlan, 1);
	ck_assert_uint_eq(p.vlan_id[0], 100);
	ck_assert_uint_eq(p.vlan_id[1], 0);
	ck_assert_uint_eq(p.ethertype, 0x0800);
	ck_assert_uint_eq(p.l3_off, 18);
	ck_assert_uint_eq(p.l4_off, 38);
	ck_assert_uint_eq(p.dport, 53);
	ck_assert_ptr_null(p.payload);
}
END_TEST

START_TEST(test_vlan_qinq)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;
	size_t at;

	eth(&f, 0x88a8);
	put16(&f, 0x0fff & 2000);
	put16(&f, 0x8100);
	put16(&f, 0x1000 | 7);     /* DEI set, VID 7 */
	put16(&f, 0x86dd);
	at = ip6(&f, 58);
	put8(&f, 128);
	put8(&f, 0);
	put16(&f, 0);
	put32(&f, 0x00010002);
	ip6_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.n_vlan, 2);
	ck_assert_uint_eq(p.vlan_id[0], 2000);
	ck_assert_uint_eq(p.vlan_id[1], 7);
	ck_assert_uint_eq(p.ethertype, 0x86dd);
	ck_assert_uint_eq(p.l3_off, 22);
	ck_assert_uint_eq(p.layers, NDL_LAYER_ETHERNET | NDL_LAYER_VLAN |
			  NDL_LAYER_IPV6 | NDL_LAYER_ICMPV6 | NDL_LAYER_PAYLOAD);
	ck_assert_uint_eq(p.icmp_type, 128);
	ck_assert_uint_eq(p.payload_len, 4);
}
END_TEST

/* n tags of 0x9100/0x88a8/0x8100, then IPv4/UDP. */
static void frame_vlans(struct fb *f, unsigned int n)
{
	static const unsigned int tpids[3] = { 0x9100, 0x88a8, 0x8100 };
	size_t at;
	unsigned int i;

	fb_reset(f);
	eth(f, tpids[0]);
	for (i = 0; i < n; i++) {
		put16(f, 10 + i);
		put16(f, i + 1 < n ? tpids[(i + 1) % 3] : 0x0800);
	}
	at = ip4(f, 17, 0, 0);
	udp(f, 1, 2, 0);
	ip4_end(f, at);
}

START_TEST(test_vlan_stack_limit)
{
	struct fb f;
	struct ndl_packet p;

	frame_vlans(&f, 3);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.n_vlan, 3);
	ck_assert_uint_eq(p.vlan_id[0], 10);
	ck_assert_uint_eq(p.vlan_id[1], 11);
	ck_assert(p.layers & NDL_LAYER_UDP);

	frame_vlans(&f, 8);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.n_vlan, 8);
	ck_assert(p.layers & NDL_LAYER_UDP);

	frame_vlans(&f, 9);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), NDL_DECODE_TOO_MANY_VLAN_TAGS);
	ck_err(&p, "too_many_vlan_tags");
	ck_assert_uint_eq(p.n_vlan, 8);
	ck_assert(!(p.layers & NDL_LAYER_IPV4));
}
END_TEST

START_TEST(test_vlan_truncated)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;

	eth(&f, 0x8100);
	put16(&f, 5);
	put8(&f, 0x08);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), NDL_DECODE_TRUNCATED_LINK);
	ck_err(&p, "truncated_link");
	ck_assert(p.layers & NDL_LAYER_ETHERNET);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Other link types                                                          */
/* ------------------------------------------------------------------------ */

START_TEST(test_sll)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;
	size_t at;

	put16(&f, 0);          /* to us */
	put16(&f, 1);          /* ARPHRD_ETHER */
	put16(&f, 6);
	put(&f, mac_a, 6);
	put16(&f, 0);
	put16(&f, 0x0800);
	at = ip4(&f, 17, 0, 0);
	udp(&f, 53, 33333, 3);
	text(&f, "abc");
	ip4_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_LINUX_SLL, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_SLL | NDL_LAYER_IPV4 |
			  NDL_LAYER_UDP | NDL_LAYER_PAYLOAD);
	ck_assert_mem_eq(p.eth_src, mac_a, 6);
	ck_assert_mem_eq(p.eth_dst, "\0\0\0\0\0\0", 6);
	ck_assert_uint_eq(p.ethertype, 0x0800);
	ck_assert_uint_eq(p.l3_off, 16);
	ck_assert_uint_eq(p.sport, 53);
	ck_assert_mem_eq(p.payload, "abc", 3);

	/* A 4-byte hardware address is not an Ethernet source. */
	patch16(&f, 4, 4);
	ck_assert_int_eq(dec(&p, LT_LINUX_SLL, &f), 0);
	ck_assert_mem_eq(p.eth_src, "\0\0\0\0\0\0", 6);
	ck_assert(p.layers & NDL_LAYER_UDP);

	/* Protocol 0x0004 (802.2 LLC): stop after the cooked header. */
	patch16(&f, 14, 0x0004);
	ck_assert_int_eq(dec(&p, LT_LINUX_SLL, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_SLL);

	ck_assert_int_eq(dec_n(&p, LT_LINUX_SLL, f.b, 15), NDL_DECODE_TRUNCATED_LINK);
}
END_TEST

START_TEST(test_sll2)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;
	size_t at;

	put16(&f, 0x86dd);
	put16(&f, 0);
	put32(&f, 3);          /* interface index */
	put16(&f, 1);
	put8(&f, 4);           /* outgoing */
	put8(&f, 6);
	put(&f, mac_b, 6);
	put16(&f, 0);
	at = ip6(&f, 6);
	tcp(&f, 443, 50000, 0x12, 0);
	ip6_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_LINUX_SLL2, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_SLL | NDL_LAYER_IPV6 | NDL_LAYER_TCP);
	ck_assert_mem_eq(p.eth_src, mac_b, 6);
	ck_assert_uint_eq(p.ethertype, 0x86dd);
	ck_assert_uint_eq(p.l3_off, 20);
	ck_assert_uint_eq(p.l4_off, 60);
	ck_assert_uint_eq(p.tcp_flags, 0x12);
	ck_assert_mem_eq(p.src_ip, ip6_src, 16);
	ck_assert_mem_eq(p.dst_ip, ip6_dst, 16);
	ck_assert_uint_eq(p.ip_ttl, 63);

	ck_assert_int_eq(dec_n(&p, LT_LINUX_SLL2, f.b, 19), NDL_DECODE_TRUNCATED_LINK);
}
END_TEST

START_TEST(test_raw)
{
	static const int v4types[] = { LT_RAW, LT_RAW_BSD, LT_RAW_FILE, LT_IPV4 };
	static const int v6types[] = { LT_RAW, LT_RAW_BSD, LT_RAW_FILE, LT_IPV6 };
	struct fb f4 = { .n = 0 }, f6 = { .n = 0 };
	struct ndl_packet p;
	size_t at, i;

	at = ip4(&f4, 1, 0, 0);
	put8(&f4, 8);
	put8(&f4, 0);
	put16(&f4, 0);
	put32(&f4, 0x00070001);
	ip4_end(&f4, at);
	at = ip6(&f6, 17);
	udp(&f6, 9, 10, 0);
	ip6_end(&f6, at);

	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(dec(&p, v4types[i], &f4), 0);
		ck_assert_uint_eq(p.layers, NDL_LAYER_IPV4 | NDL_LAYER_ICMP | NDL_LAYER_PAYLOAD);
		ck_assert_uint_eq(p.l3_off, 0);
		ck_assert_uint_eq(p.l4_off, 20);
		ck_assert_uint_eq(p.ethertype, 0x0800);
		ck_assert_uint_eq(p.icmp_type, 8);
		ck_assert_uint_eq(p.icmp_code, 0);

		ck_assert_int_eq(dec(&p, v6types[i], &f6), 0);
		ck_assert_uint_eq(p.layers, NDL_LAYER_IPV6 | NDL_LAYER_UDP);
		ck_assert_uint_eq(p.ethertype, 0x86dd);
		ck_assert_uint_eq(p.sport, 9);
	}

	f4.b[0] = 0x55;
	ck_assert_int_eq(dec(&p, LT_RAW, &f4), NDL_DECODE_BAD_IPV4_HEADER);
	ck_assert_uint_eq(p.layers, 0);
	ck_assert_int_eq(dec_n(&p, LT_RAW, "", 0), NDL_DECODE_TRUNCATED_LINK);
	ck_assert_int_eq(dec_n(&p, LT_IPV4, "", 0), NDL_DECODE_TRUNCATED_IPV4);
	ck_assert_int_eq(dec_n(&p, LT_IPV6, "", 0), NDL_DECODE_TRUNCATED_IPV6);
	ck_assert_int_eq(dec(&p, LT_IPV6, &f4), NDL_DECODE_BAD_IPV6_HEADER);
}
END_TEST

START_TEST(test_null_and_loop)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;
	uint32_t af = 2;
	size_t at;

	put(&f, &af, 4);           /* the capturing machine's order: ours */
	at = ip4(&f, 6, 0, 0);
	tcp(&f, 1, 2, 0x02, 0);
	ip4_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_NULL, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_NULL | NDL_LAYER_IPV4 | NDL_LAYER_TCP);
	ck_assert_uint_eq(p.l3_off, 4);
	ck_assert_uint_eq(p.tcp_flags, 0x02);

	/* Written on a machine of the other byte order. */
	af = __builtin_bswap32(2);
	memcpy(f.b, &af, 4);
	ck_assert_int_eq(dec(&p, LT_NULL, &f), 0);
	ck_assert(p.layers & NDL_LAYER_TCP);

	/* Loop: network order; every AF_INET6 value. */
	static const uint32_t v6afs[] = { 24, 28, 30 };
	for (size_t i = 0; i < 3; i++) {
		fb_reset(&f);
		put32(&f, v6afs[i]);
		at = ip6(&f, 6);
		tcp(&f, 1, 2, 0x11, 0);
		ip6_end(&f, at);
		ck_assert_int_eq(dec(&p, LT_LOOP, &f), 0);
		ck_assert_uint_eq(p.layers, NDL_LAYER_NULL | NDL_LAYER_IPV6 | NDL_LAYER_TCP);
		ck_assert_uint_eq(p.ethertype, 0x86dd);
		ck_assert_uint_eq(p.l3_off, 4);
	}

	/* An address family we do not decode. */
	patch16(&f, 2, 7);
	ck_assert_int_eq(dec(&p, LT_LOOP, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_NULL);
	ck_assert_int_eq(dec_n(&p, LT_LOOP, f.b, 3), NDL_DECODE_TRUNCATED_LINK);
}
END_TEST

START_TEST(test_unknown_linktype)
{
	struct fb f;
	struct ndl_packet p;

	frame_tcp4(&f);
	ck_assert_int_eq(dec(&p, 147, &f), NDL_DECODE_UNKNOWN_LINKTYPE);
	ck_err(&p, "unknown_linktype");
	ck_assert_uint_eq(p.layers, 0);
	ck_assert_int_eq(p.linktype, 147);
	ck_assert_uint_eq(p.caplen, f.n);
}
END_TEST

START_TEST(test_null_data)
{
	struct ndl_packet p;

	ck_assert_int_eq(ndl__decode(&p, LT_EN10MB, NULL, 0, 0, 0), NDL_DECODE_TRUNCATED_LINK);
	ck_assert_uint_eq(p.caplen, 0);
	ck_assert_ptr_nonnull(p.data);
	ck_assert_int_eq(ndl__decode(&p, LT_EN10MB, NULL, 60, 60, 0), NDL_DECODE_TRUNCATED_LINK);
	ck_assert_uint_eq(p.caplen, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* ARP                                                                       */
/* ------------------------------------------------------------------------ */

START_TEST(test_arp)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;

	eth(&f, 0x0806);
	put16(&f, 1);
	put16(&f, 0x0800);
	put8(&f, 6);
	put8(&f, 4);
	put16(&f, 2);
	put(&f, mac_a, 6);
	put(&f, ip4_src, 4);
	put(&f, mac_b, 6);
	put(&f, ip4_dst, 4);
	putz(&f, 18);              /* Ethernet padding */
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_ETHERNET | NDL_LAYER_ARP);
	ck_assert_uint_eq(p.ethertype, 0x0806);
	ck_assert_uint_eq(p.l3_off, 14);
	ck_assert_uint_eq(p.arp_op, 2);
	ck_assert_mem_eq(p.arp_sha, mac_a, 6);
	ck_assert_mem_eq(p.arp_spa, ip4_src, 4);
	ck_assert_mem_eq(p.arp_tha, mac_b, 6);
	ck_assert_mem_eq(p.arp_tpa, ip4_dst, 4);

	/* Addresses cut short. */
	ck_assert_int_eq(dec_n(&p, LT_EN10MB, f.b, 14 + 8 + 19), NDL_DECODE_TRUNCATED_ARP);
	ck_err(&p, "truncated_arp");
	ck_assert_uint_eq(p.arp_op, 2);
	ck_assert_int_eq(dec_n(&p, LT_EN10MB, f.b, 14 + 7), NDL_DECODE_TRUNCATED_ARP);
	ck_assert(!(p.layers & NDL_LAYER_ARP));

	/* IEEE 802 hardware (6): only the opcode is kept. */
	patch16(&f, 14, 6);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert(p.layers & NDL_LAYER_ARP);
	ck_assert_uint_eq(p.arp_op, 2);
	ck_assert_mem_eq(p.arp_sha, "\0\0\0\0\0\0", 6);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* IPv4                                                                      */
/* ------------------------------------------------------------------------ */

START_TEST(test_ipv4_options_udp)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;
	size_t at;

	eth(&f, 0x0800);
	at = ip4(&f, 17, 0, 12);   /* IHL 8 */
	udp(&f, 5353, 5353, 2);
	text(&f, "hi");
	ip4_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.l4_off, 14 + 32);
	ck_assert_uint_eq(p.payload_len, 2);
	ck_assert_mem_eq(p.payload, "hi", 2);
	ck_assert_uint_eq(p.layers, NDL_LAYER_ETHERNET | NDL_LAYER_IPV4 |
			  NDL_LAYER_UDP | NDL_LAYER_PAYLOAD);
}
END_TEST

START_TEST(test_ipv4_bad_headers)
{
	struct fb f;
	struct ndl_packet p;

	frame_tcp4(&f);
	f.b[14] = 0x44;            /* IHL 4 */
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), NDL_DECODE_BAD_IPV4_HEADER);
	ck_err(&p, "bad_ipv4_header");
	ck_assert_uint_eq(p.layers, NDL_LAYER_ETHERNET);
	ck_assert_uint_eq(p.l3_off, 0);

	frame_tcp4(&f);
	f.b[14] = 0x56;            /* version 5 */
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), NDL_DECODE_BAD_IPV4_HEADER);

	frame_tcp4(&f);
	patch16(&f, 16, 23);       /* total length below IHL * 4 = 24 */
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), NDL_DECODE_BAD_IPV4_HEADER);

	/* Total length exactly the header: the TCP header is missing, the rest is padding. */
	frame_tcp4(&f);
	patch16(&f, 16, 24);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), NDL_DECODE_TRUNCATED_TCP);
	ck_assert_uint_eq(p.padding_len, f.n - 14 - 24);
	ck_assert(p.layers & NDL_LAYER_PADDING);
}
END_TEST

START_TEST(test_ipv4_total_beyond_capture)
{
	struct fb f;
	struct ndl_packet p;

	/* A snap length cut inside the payload: decode what was captured. */
	frame_tcp4(&f);
	patch16(&f, 16, 1500);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.payload_len, 5);
	ck_assert_uint_eq(p.padding_len, 0);
}
END_TEST

START_TEST(test_ipv4_fragments)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;
	size_t at;

	/* First fragment: more-fragments set, offset 0: transport decoded. */
	eth(&f, 0x0800);
	at = ip4(&f, 17, 0x2000, 0);
	udp(&f, 4000, 53, 3000);
	text(&f, "part");
	ip4_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_ETHERNET | NDL_LAYER_IPV4 | NDL_LAYER_FRAGMENT |
			  NDL_LAYER_UDP | NDL_LAYER_PAYLOAD);
	ck_assert_uint_eq(p.payload_len, 4);

	/* A later fragment: no transport, no payload. */
	fb_reset(&f);
	eth(&f, 0x0800);
	at = ip4(&f, 17, 185, 0);
	text(&f, "more bytes of the datagram");
	ip4_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_ETHERNET | NDL_LAYER_IPV4 | NDL_LAYER_FRAGMENT);
	ck_assert_uint_eq(p.ip_proto, 17);
	ck_assert_uint_eq(p.l4_off, 0);
	ck_assert_ptr_null(p.payload);
	ck_assert_uint_eq(p.sport, 0);

	/* Don't-fragment alone is not a fragment. */
	frame_tcp4(&f);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert(!(p.layers & NDL_LAYER_FRAGMENT));
}
END_TEST

START_TEST(test_padding)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;
	size_t at;

	/* A bare ACK padded to the 60-byte Ethernet minimum. */
	eth(&f, 0x0800);
	at = ip4(&f, 6, 0x4000, 0);
	tcp(&f, 22, 50000, 0x10, 0);
	ip4_end(&f, at);
	putz(&f, 60 - f.n);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_ETHERNET | NDL_LAYER_IPV4 |
			  NDL_LAYER_TCP | NDL_LAYER_PADDING);
	ck_assert_uint_eq(p.padding_len, 6);
	ck_assert_uint_eq(p.payload_len, 0);
	ck_assert_ptr_null(p.payload);

	/* IPv6 with trailing bytes after the payload length. */
	fb_reset(&f);
	eth(&f, 0x86dd);
	at = ip6(&f, 17);
	udp(&f, 1, 2, 1);
	text(&f, "x");
	ip6_end(&f, at);
	text(&f, "PAD");
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.padding_len, 3);
	ck_assert_uint_eq(p.payload_len, 1);
	ck_assert(p.layers & NDL_LAYER_PADDING);
}
END_TEST

START_TEST(test_unknown_ip_protocol)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;
	size_t at;

	eth(&f, 0x0800);
	at = ip4(&f, 47, 0, 0);    /* GRE */
	text(&f, "gre-bytes");
	ip4_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_ETHERNET | NDL_LAYER_IPV4 | NDL_LAYER_PAYLOAD);
	ck_assert_uint_eq(p.ip_proto, 47);
	ck_assert_uint_eq(p.l4_off, 34);
	ck_assert_uint_eq(p.payload_len, 9);

	/* ICMP's number inside IPv6 is not ICMPv6. */
	fb_reset(&f);
	at = ip6(&f, 1);
	text(&f, "abcd");
	ip6_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_RAW, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_IPV6 | NDL_LAYER_PAYLOAD);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* IPv6                                                                      */
/* ------------------------------------------------------------------------ */

START_TEST(test_ipv6_extension_chain)
{
	struct fb f;
	struct ndl_packet p;

	frame_udp6_chain(&f);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_ETHERNET | NDL_LAYER_IPV6 |
			  NDL_LAYER_UDP | NDL_LAYER_PAYLOAD);
	ck_assert_uint_eq(p.ip_proto, 17);
	ck_assert_uint_eq(p.l3_off, 14);
	ck_assert_uint_eq(p.l4_off, 14 + 40 + 8 + 16 + 8);
	ck_assert_uint_eq(p.sport, 5353);
	ck_assert_mem_eq(p.payload, "mdns", 4);
}
END_TEST

START_TEST(test_ipv6_ah_and_no_next)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;
	size_t at;

	/* AH (RFC 4302): length 4 means (4 + 2) * 4 = 24 bytes. */
	at = ip6(&f, 51);
	put8(&f, 6);
	put8(&f, 4);
	putz(&f, 22);
	tcp(&f, 179, 179, 0x18, 0);
	text(&f, "bgp");
	ip6_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_IPV6, &f), 0);
	ck_assert_uint_eq(p.ip_proto, 6);
	ck_assert_uint_eq(p.l4_off, 40 + 24);
	ck_assert_uint_eq(p.payload_len, 3);

	/* No next header (59): nothing follows, no payload. */
	fb_reset(&f);
	at = ip6(&f, 60);
	ip6_ext(&f, 59, 0);
	ip6_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_IPV6, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_IPV6);
	ck_assert_uint_eq(p.ip_proto, 59);
}
END_TEST

START_TEST(test_ipv6_fragments)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;
	size_t at;

	/* First fragment: offset 0, M set. */
	at = ip6(&f, 44);
	put8(&f, 17);
	put8(&f, 0);
	put16(&f, 0x0001);
	put32(&f, 0xdeadbeef);
	udp(&f, 53, 1024, 2000);
	text(&f, "first");
	ip6_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_IPV6, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_IPV6 | NDL_LAYER_FRAGMENT |
			  NDL_LAYER_UDP | NDL_LAYER_PAYLOAD);
	ck_assert_uint_eq(p.l4_off, 48);
	ck_assert_uint_eq(p.payload_len, 5);

	/* A later one: offset 1448 bytes (181 units). */
	patch16(&f, 42, 181 << 3);
	ck_assert_int_eq(dec(&p, LT_IPV6, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_IPV6 | NDL_LAYER_FRAGMENT);
	ck_assert_uint_eq(p.ip_proto, 17);
	ck_assert_ptr_null(p.payload);

	/* An atomic fragment (offset 0, no M) is whole. */
	patch16(&f, 42, 0);
	ck_assert_int_eq(dec(&p, LT_IPV6, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_IPV6 | NDL_LAYER_UDP | NDL_LAYER_PAYLOAD);
}
END_TEST

START_TEST(test_ipv6_chain_limit)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;
	size_t at;
	int i;

	at = ip6(&f, 60);
	for (i = 0; i < 17; i++)
		ip6_ext(&f, i < 16 ? 60 : 17, 0);
	udp(&f, 1, 2, 0);
	ip6_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_IPV6, &f), NDL_DECODE_BAD_IPV6_HEADER);
	ck_err(&p, "bad_ipv6_header");

	/* Sixteen are fine. */
	fb_reset(&f);
	at = ip6(&f, 60);
	for (i = 0; i < 16; i++)
		ip6_ext(&f, i < 15 ? 60 : 17, 0);
	udp(&f, 1, 2, 0);
	ip6_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_IPV6, &f), 0);
	ck_assert(p.layers & NDL_LAYER_UDP);

	/* An extension header running past the capture. */
	ck_assert_int_eq(dec_n(&p, LT_IPV6, f.b, 40 + 5), NDL_DECODE_TRUNCATED_IPV6);
	ck_assert(p.layers & NDL_LAYER_IPV6);
}
END_TEST

START_TEST(test_ipv6_jumbo_length)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;

	ip6(&f, 17);               /* payload length left 0 */
	udp(&f, 7, 8, 4);
	text(&f, "data");
	ck_assert_int_eq(dec(&p, LT_IPV6, &f), 0);
	ck_assert_uint_eq(p.payload_len, 4);
	ck_assert_uint_eq(p.padding_len, 0);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Transport                                                                 */
/* ------------------------------------------------------------------------ */

START_TEST(test_tcp_bad_offset)
{
	struct fb f;
	struct ndl_packet p;

	frame_tcp4(&f);
	f.b[14 + 24 + 12] = 0x40;  /* data offset 4 */
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), NDL_DECODE_BAD_TCP_HEADER);
	ck_err(&p, "bad_tcp_header");
	ck_assert(!(p.layers & NDL_LAYER_TCP));
	ck_assert(p.layers & NDL_LAYER_IPV4);

	frame_tcp4(&f);
	f.b[14 + 24 + 12] = 0xf0;  /* 60 bytes: past the 37-byte segment */
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), NDL_DECODE_BAD_TCP_HEADER);

	/* Within the segment the IP header claims, but past the capture. */
	frame_tcp4(&f);
	patch16(&f, 16, 24 + 60);
	f.b[14 + 24 + 12] = 0xf0;
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), NDL_DECODE_TRUNCATED_TCP);
	ck_assert(p.layers & NDL_LAYER_TCP);
	ck_assert_uint_eq(p.dport, 80);
}
END_TEST

START_TEST(test_udp_lengths)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;
	size_t at;

	eth(&f, 0x0800);
	at = ip4(&f, 17, 0, 0);
	udp(&f, 1, 2, 6);
	text(&f, "abcdef");
	ip4_end(&f, at);

	patch16(&f, 34 + 4, 4);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), NDL_DECODE_BAD_UDP_LENGTH);
	ck_err(&p, "bad_udp_length");
	ck_assert(!(p.layers & NDL_LAYER_UDP));

	patch16(&f, 34 + 4, 8 + 3);   /* shorter than the IP payload */
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.payload_len, 3);

	patch16(&f, 34 + 4, 8 + 600); /* longer than captured */
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.payload_len, 6);

	patch16(&f, 34 + 4, 8);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert(!(p.layers & NDL_LAYER_PAYLOAD));
	ck_assert_ptr_null(p.payload);

	ck_assert_int_eq(dec_n(&p, LT_EN10MB, f.b, 34 + 7), NDL_DECODE_TRUNCATED_UDP);
	ck_err(&p, "truncated_udp");
}
END_TEST

START_TEST(test_icmp)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;
	size_t at;

	eth(&f, 0x0800);
	at = ip4(&f, 1, 0, 0);
	put8(&f, 3);               /* destination unreachable */
	put8(&f, 3);               /* port unreachable */
	put16(&f, 0);
	putz(&f, 4 + 28);
	ip4_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_ETHERNET | NDL_LAYER_IPV4 |
			  NDL_LAYER_ICMP | NDL_LAYER_PAYLOAD);
	ck_assert_uint_eq(p.icmp_type, 3);
	ck_assert_uint_eq(p.icmp_code, 3);
	ck_assert_uint_eq(p.l4_off, 34);
	ck_assert_uint_eq(p.payload_len, 32);
	ck_assert_uint_eq(p.sport, 0);

	ck_assert_int_eq(dec_n(&p, LT_EN10MB, f.b, 34 + 3), NDL_DECODE_TRUNCATED_ICMP);
	ck_err(&p, "truncated_icmp");

	/* ICMPv6 neighbour solicitation. */
	fb_reset(&f);
	at = ip6(&f, 58);
	put8(&f, 135);
	put8(&f, 0);
	put16(&f, 0);
	putz(&f, 20);
	ip6_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_IPV6, &f), 0);
	ck_assert_uint_eq(p.layers, NDL_LAYER_IPV6 | NDL_LAYER_ICMPV6 | NDL_LAYER_PAYLOAD);
	ck_assert_uint_eq(p.icmp_type, 135);
	ck_assert_uint_eq(p.ip_proto, 58);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Truncation                                                                */
/* ------------------------------------------------------------------------ */

/*
 * The Ethernet/IPv4/TCP frame cut after every byte: the error names the
 * layer that was cut, and what precedes it stays decoded.
 */
START_TEST(test_truncate_tcp4_every_offset)
{
	struct fb f;
	struct ndl_packet p;
	size_t n;
	const size_t ip_at = 14, tcp_at = 14 + 24, pl_at = 14 + 24 + 32;

	frame_tcp4(&f);
	ck_assert_uint_eq(f.n, pl_at + 5);
	for (n = 0; n <= f.n; n++) {
		int err = dec_n(&p, LT_EN10MB, f.b, n);
		const char *want;

		if (n < ip_at)
			want = "truncated_link";
		else if (n < tcp_at)
			want = "truncated_ipv4";
		else if (n < pl_at)
			want = "truncated_tcp";
		else
			want = "ok";
		ck_assert_msg(strcmp(ndl_decode_error_name((unsigned)err), want) == 0,
			      "cut at %zu: %s, want %s", n,
			      ndl_decode_error_name((unsigned)err), want);
		ck_assert_uint_eq(p.caplen, n);
		ck_assert_uint_eq(!!(p.layers & NDL_LAYER_ETHERNET), n >= ip_at);
		ck_assert_uint_eq(!!(p.layers & NDL_LAYER_IPV4), n >= ip_at + 20);
		ck_assert_uint_eq(!!(p.layers & NDL_LAYER_TCP), n >= tcp_at + 20);
		ck_assert_uint_eq(p.payload_len, n > pl_at ? n - pl_at : 0);
		ck_assert_uint_eq(!!(p.layers & NDL_LAYER_PAYLOAD), n > pl_at);
		ck_assert(!(p.layers & NDL_LAYER_PADDING));
	}
}
END_TEST

typedef void (*frame_fn)(struct fb *f);

static void frame_vlan3(struct fb *f) { frame_vlans(f, 3); }

/* Every frame of several shapes cut at every byte, with every link type. */
START_TEST(test_truncate_everything)
{
	static const frame_fn frames[] = { frame_tcp4, frame_udp6_chain, frame_vlan3 };
	static const int types[] = { LT_NULL, LT_EN10MB, LT_RAW, LT_LOOP, LT_LINUX_SLL,
				     LT_IPV4, LT_IPV6, LT_LINUX_SLL2 };
	struct fb f;
	struct ndl_packet p;
	size_t i, j, n, skip;

	for (i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		frames[i](&f);
		/* Also from inside the frame, so other link types see IP. */
		for (skip = 0; skip <= 14; skip += 14) {
			for (j = 0; j < sizeof(types) / sizeof(types[0]); j++) {
				for (n = 0; n + skip <= f.n; n++) {
					int err = dec_n(&p, types[j], f.b + skip, n);

					ck_assert_int_lt(err, NDL_DECODE_ERROR_COUNT);
					ck_assert_str_ne(ndl_decode_error_name((unsigned)err), "unknown");
					ck_assert_uint_le(p.payload_len, n);
					if (p.payload)
						ck_assert(p.payload >= held && p.payload + p.payload_len <= held + n);
				}
			}
		}
	}
}
END_TEST

START_TEST(test_error_names)
{
	const char *seen[NDL_DECODE_ERROR_COUNT];
	unsigned int i, j;

	for (i = 0; i < NDL_DECODE_ERROR_COUNT; i++) {
		const char *name = ndl_decode_error_name(i);

		ck_assert_str_ne(name, "unknown");
		for (const char *c = name; *c; c++)
			ck_assert((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_');
		for (j = 0; j < i; j++)
			ck_assert_str_ne(seen[j], name);
		seen[i] = name;
	}
	ck_assert_str_eq(ndl_decode_error_name(0), "ok");
	ck_assert_str_eq(ndl_decode_error_name(NDL_DECODE_TRUNCATED_IPV4), "truncated_ipv4");
	ck_assert_str_eq(ndl_decode_error_name(NDL_DECODE_ERROR_COUNT), "unknown");
	ck_assert_str_eq(ndl_decode_error_name(~0u), "unknown");
}
END_TEST

/* ------------------------------------------------------------------------ */
/* ABI 1.1 details: IP, TCP options, UDP length, ICMP echo                   */
/* ------------------------------------------------------------------------ */

/* A TCP header whose options are exactly opts (n a multiple of 4). */
static void tcp_opts(struct fb *f, const uint8_t *opts, size_t n)
{
	ck_assert_uint_eq(n % 4, 0);
	put16(f, 40001);
	put16(f, 443);
	put32(f, 1);
	put32(f, 0);
	put8(f, (unsigned int)((5 + n / 4) << 4));
	put8(f, 0x02);
	put16(f, 29200);
	put16(f, 0);
	put16(f, 0);
	if (n)
		put(f, opts, n);
}

/* Decode Ethernet/IPv4/TCP carrying opts; returns the decode result. */
static int dec_opts(struct ndl_packet *p, const uint8_t *opts, size_t n)
{
	struct fb f = { .n = 0 };
	size_t at;

	eth(&f, 0x0800);
	at = ip4(&f, 6, 0x4000, 0);
	tcp_opts(&f, opts, n);
	ip4_end(&f, at);
	return dec(p, LT_EN10MB, &f);
}

START_TEST(test_ipv4_details)
{
	struct fb f;
	struct ndl_packet p;
	size_t at;

	frame_tcp4(&f);
	f.b[15] = 0xb8;            /* DSCP EF */
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.ip_tos, 0xb8);
	ck_assert_uint_eq(p.ip_id, 0x1234);
	ck_assert_uint_eq(p.ip_frag_ident, 0x1234);
	ck_assert_uint_eq(p.ip_frag_flags, NDL_IP_DF);
	ck_assert_uint_eq(p.ip_frag_offset, 0);
	ck_assert_uint_eq(p.ip_hdr_len, 24);
	ck_assert_uint_eq(p.ip_total_len, 24 + 32 + 5);
	ck_assert_uint_eq(p.ipv6_n_ext, 0);
	ck_assert_uint_eq(p.ipv6_flow, 0);

	/* More fragments at offset 185 * 8; the reserved bit is not a flag. */
	f.b[20] = 0xa0 | (185 >> 8);
	f.b[21] = 185 & 0xff;
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.ip_frag_flags, NDL_IP_MF);
	ck_assert_uint_eq(p.ip_frag_offset, 1480);
	ck_assert(p.layers & NDL_LAYER_FRAGMENT);

	/* The largest offset in bytes still fits. */
	fb_reset(&f);
	eth(&f, 0x0800);
	at = ip4(&f, 17, 0x1fff, 0);
	text(&f, "tail");
	ip4_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.ip_frag_offset, 0x1fff * 8);
	ck_assert_uint_eq(p.ip_frag_flags, 0);
	ck_assert_uint_eq(p.ip_total_len, 24);
	ck_assert_uint_eq(p.ip_hdr_len, 20);
}
END_TEST

START_TEST(test_ipv6_details)
{
	struct fb f;
	struct ndl_packet p;
	size_t at;

	/* Traffic class 0xab, flow label 0x12345; three extension headers. */
	frame_udp6_chain(&f);
	f.b[14] = 0x6a;
	f.b[15] = 0xb1;
	f.b[16] = 0x23;
	f.b[17] = 0x45;
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.ip_tos, 0xab);
	ck_assert_uint_eq(p.ipv6_flow, 0x12345);
	ck_assert_uint_eq(p.ipv6_n_ext, 3);
	ck_assert_uint_eq(p.ip_hdr_len, 40 + 8 + 16 + 8);
	ck_assert_uint_eq(p.ip_total_len, f.n - 14);
	ck_assert_uint_eq(p.ip_id, 0);
	ck_assert_uint_eq(p.ip_frag_flags, 0);
	ck_assert_uint_eq(p.udp_len, 8 + 4);

	/* A fragment header: M set, identification, offset 1448 bytes. */
	fb_reset(&f);
	at = ip6(&f, 44);
	put8(&f, 17);
	put8(&f, 0);
	put16(&f, (181 << 3) | 1);
	put32(&f, 0xdeadbeef);
	text(&f, "middle of a datagram");
	ip6_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_IPV6, &f), 0);
	ck_assert_uint_eq(p.ip_frag_flags, NDL_IP_MF);
	ck_assert_uint_eq(p.ip_frag_offset, 1448);
	ck_assert_uint_eq(p.ip_frag_ident, 0xdeadbeef);
	ck_assert_uint_eq(p.ipv6_n_ext, 1);
	ck_assert_uint_eq(p.ip_hdr_len, 48);
	ck_assert_uint_eq(p.ip_total_len, f.n);

	/* The last fragment: no M. */
	patch16(&f, 42, 200 << 3);
	ck_assert_int_eq(dec(&p, LT_IPV6, &f), 0);
	ck_assert_uint_eq(p.ip_frag_flags, 0);
	ck_assert_uint_eq(p.ip_frag_offset, 1600);

	/* A chain cut inside its second header keeps what was walked. */
	frame_udp6_chain(&f);
	ck_assert_int_eq(dec_n(&p, LT_EN10MB, f.b, 14 + 40 + 8 + 10), NDL_DECODE_TRUNCATED_IPV6);
	ck_assert_uint_eq(p.ipv6_n_ext, 1);
	ck_assert_uint_eq(p.ip_hdr_len, 48);

	/* A payload length of 65535 saturates the total. */
	fb_reset(&f);
	ip6(&f, 59);
	patch16(&f, 4, 0xffff);
	ck_assert_int_eq(dec(&p, LT_IPV6, &f), 0);
	ck_assert_uint_eq(p.ip_total_len, 0xffff);
}
END_TEST

START_TEST(test_tcp_details_real_syn)
{
	struct cap_packet c = cap_read("http-lo.pcap", 0);
	struct ndl_packet p;

	/* 127.0.0.1.33724 > 127.0.0.1.18080: Flags [S], win 65495,
	 * options [mss 65495,sackOK,TS val 323604283 ecr 0,nop,wscale 10] */
	ck_assert_int_eq(ndl__decode(&p, c.linktype, c.data, c.caplen, c.wirelen, c.ts_ns), 0);
	ck_assert_uint_eq(p.tcp_flags, 0x02);
	ck_assert_uint_eq(p.tcp_window, 65495);
	ck_assert_uint_eq(p.tcp_hdr_len, 40);
	ck_assert_uint_eq(p.tcp_opts, NDL_TCPOPT_MSS | NDL_TCPOPT_SACK_OK |
			  NDL_TCPOPT_TIMESTAMP | NDL_TCPOPT_WSCALE);
	ck_assert_uint_eq(p.tcp_mss, 65495);
	ck_assert_uint_eq(p.tcp_wscale, 10);
	ck_assert_uint_eq(p.tcp_ts_val, 323604283u);
	ck_assert_uint_eq(p.tcp_ts_ecr, 0);
	ck_assert_uint_eq(p.ip_id, 0x736b);
	ck_assert_uint_eq(p.ip_frag_flags, NDL_IP_DF);
	ck_assert_uint_eq(p.ip_hdr_len, 20);
	ck_assert_uint_eq(p.ip_total_len, 60);
	free(c.data);

	/* The request: options [nop,nop,TS val 323604284 ecr 1870081975]. */
	c = cap_read("http-lo.pcap", 3);
	ck_assert_int_eq(ndl__decode(&p, c.linktype, c.data, c.caplen, c.wirelen, c.ts_ns), 0);
	ck_assert_uint_eq(p.tcp_opts, NDL_TCPOPT_TIMESTAMP);
	ck_assert_uint_eq(p.tcp_ts_val, 323604284u);
	ck_assert_uint_eq(p.tcp_ts_ecr, 1870081975u);
	ck_assert_uint_eq(p.tcp_window, 64);
	ck_assert_uint_eq(p.tcp_hdr_len, 32);
	ck_assert_uint_eq(p.tcp_mss, 0);
	free(c.data);
}
END_TEST

START_TEST(test_tcp_options_each)
{
	struct ndl_packet p;
	static const uint8_t sack[] = {
		1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
	};
	static const uint8_t after_eol[] = { 0, 2, 4, 5, 0xb4, 0, 0, 0 };
	static const uint8_t unknown[] = { 30, 6, 1, 2, 3, 4, 3, 3, 7, 0, 0, 0 };
	static const uint8_t wrong_len[] = { 2, 6, 5, 0xb4, 0, 0, 8, 6, 1, 2, 3, 4 };
	static const uint8_t mss_only[] = { 2, 4, 5, 0xb4 };

	ck_assert_int_eq(dec_opts(&p, mss_only, sizeof(mss_only)), 0);
	ck_assert_uint_eq(p.tcp_opts, NDL_TCPOPT_MSS);
	ck_assert_uint_eq(p.tcp_mss, 1460);
	ck_assert_uint_eq(p.tcp_hdr_len, 24);
	ck_assert_uint_eq(p.tcp_window, 29200);

	ck_assert_int_eq(dec_opts(&p, sack, sizeof(sack)), 0);
	ck_assert_uint_eq(p.tcp_opts, NDL_TCPOPT_SACK);

	/* Nothing after End of Option List is read. */
	ck_assert_int_eq(dec_opts(&p, after_eol, sizeof(after_eol)), 0);
	ck_assert_uint_eq(p.tcp_opts, 0);
	ck_assert_uint_eq(p.tcp_mss, 0);

	/* An unknown kind is skipped by its length. */
	ck_assert_int_eq(dec_opts(&p, unknown, sizeof(unknown)), 0);
	ck_assert_uint_eq(p.tcp_opts, NDL_TCPOPT_WSCALE);
	ck_assert_uint_eq(p.tcp_wscale, 7);

	/* Known kinds with other lengths are skipped, not trusted. */
	ck_assert_int_eq(dec_opts(&p, wrong_len, sizeof(wrong_len)), 0);
	ck_assert_uint_eq(p.tcp_opts, 0);
	ck_assert_uint_eq(p.tcp_mss, 0);

	/* No options at all. */
	ck_assert_int_eq(dec_opts(&p, NULL, 0), 0);
	ck_assert_uint_eq(p.tcp_opts, 0);
	ck_assert_uint_eq(p.tcp_hdr_len, 20);
}
END_TEST

START_TEST(test_tcp_options_bad)
{
	struct ndl_packet p;
	static const uint8_t len_zero[] = { 2, 4, 5, 0xb4, 30, 0, 3, 3 };
	static const uint8_t len_one[] = { 1, 30, 1, 1 };
	static const uint8_t past_header[] = { 2, 4, 5, 0xb4, 8, 10, 0, 0 };
	static const uint8_t no_length[] = { 1, 1, 1, 8 };
	static const uint8_t bad_then_good[] = { 4, 0, 2, 4, 5, 0xb4, 0, 0 };

	/* A length of 0 or 1 would never advance: bad, and the walk stops. */
	ck_assert_int_eq(dec_opts(&p, len_zero, sizeof(len_zero)), 0);
	ck_assert_uint_eq(p.tcp_opts, NDL_TCPOPT_MSS | NDL_TCPOPT_BAD);
	ck_assert_uint_eq(p.tcp_wscale, 0);
	ck_assert_int_eq(dec_opts(&p, len_one, sizeof(len_one)), 0);
	ck_assert_uint_eq(p.tcp_opts, NDL_TCPOPT_BAD);
	ck_assert_int_eq(dec_opts(&p, bad_then_good, sizeof(bad_then_good)), 0);
	ck_assert_uint_eq(p.tcp_opts, NDL_TCPOPT_BAD);
	ck_assert_uint_eq(p.tcp_mss, 0);

	/* A timestamp running past the header's end. */
	ck_assert_int_eq(dec_opts(&p, past_header, sizeof(past_header)), 0);
	ck_assert_uint_eq(p.tcp_opts, NDL_TCPOPT_MSS | NDL_TCPOPT_BAD);
	ck_assert_uint_eq(p.tcp_ts_val, 0);

	/* A kind in the header's last byte has no room for its length. */
	ck_assert_int_eq(dec_opts(&p, no_length, sizeof(no_length)), 0);
	ck_assert_uint_eq(p.tcp_opts, NDL_TCPOPT_BAD);

	/* The segment itself is still decoded whole. */
	ck_assert(p.layers & NDL_LAYER_TCP);
	ck_assert_uint_eq(p.dport, 443);
}
END_TEST

/* Options cut by the capture, not by the header: truncated, never bad. */
START_TEST(test_tcp_options_cut)
{
	struct cap_packet c = cap_read("http-lo.pcap", 0);
	struct ndl_packet p;

	for (uint32_t n = 14 + 20 + 20; n < 14 + 20 + 40; n++) {
		uint8_t *copy = exact_copy(c.data, n);

		ck_assert_int_eq(ndl__decode(&p, c.linktype, copy, n, c.wirelen, 0),
				 NDL_DECODE_TRUNCATED_TCP);
		ck_assert_msg(!(p.tcp_opts & NDL_TCPOPT_BAD), "cut at %u marked bad", n);
		/* mss 65495 takes bytes 54..57 of the frame */
		if (n >= 58)
			ck_assert_uint_eq(p.tcp_mss, 65495);
		else
			ck_assert_uint_eq(p.tcp_opts & NDL_TCPOPT_MSS, 0);
		free(copy);
	}
	free(c.data);
}
END_TEST

START_TEST(test_udp_and_icmp_details)
{
	struct fb f = { .n = 0 };
	struct ndl_packet p;
	size_t at;

	eth(&f, 0x0800);
	at = ip4(&f, 17, 0, 0);
	udp(&f, 1, 2, 600);        /* the length field claims more than is there */
	text(&f, "abc");
	ip4_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.udp_len, 608);
	ck_assert_uint_eq(p.payload_len, 3);

	/* ICMP echo request: identifier 0x4242, sequence 7. */
	fb_reset(&f);
	eth(&f, 0x0800);
	at = ip4(&f, 1, 0, 0);
	put8(&f, 8);
	put8(&f, 0);
	put16(&f, 0);
	put16(&f, 0x4242);
	put16(&f, 7);
	text(&f, "ping data");
	ip4_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.icmp_type, 8);
	ck_assert_uint_eq(p.icmp_id, 0x4242);
	ck_assert_uint_eq(p.icmp_seq, 7);
	ck_assert_uint_eq(p.payload_len, 4 + 9);

	/* The reply carries them too. */
	f.b[34] = 0;
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.icmp_id, 0x4242);
	ck_assert_uint_eq(p.icmp_seq, 7);

	/* Other types have no identifier. */
	f.b[34] = 3;
	ck_assert_int_eq(dec(&p, LT_EN10MB, &f), 0);
	ck_assert_uint_eq(p.icmp_id, 0);
	ck_assert_uint_eq(p.icmp_seq, 0);

	/* An echo cut inside its identifier: type read, no id, no error. */
	f.b[34] = 8;
	ck_assert_int_eq(dec_n(&p, LT_EN10MB, f.b, 34 + 6), 0);
	ck_assert_uint_eq(p.icmp_type, 8);
	ck_assert_uint_eq(p.icmp_id, 0);

	/* ICMPv6 echo request (128) and reply (129). */
	fb_reset(&f);
	at = ip6(&f, 58);
	put8(&f, 128);
	put8(&f, 0);
	put16(&f, 0);
	put16(&f, 0x0102);
	put16(&f, 0x0304);
	ip6_end(&f, at);
	ck_assert_int_eq(dec(&p, LT_IPV6, &f), 0);
	ck_assert_uint_eq(p.icmp_id, 0x0102);
	ck_assert_uint_eq(p.icmp_seq, 0x0304);
	f.b[40] = 129;
	ck_assert_int_eq(dec(&p, LT_IPV6, &f), 0);
	ck_assert_uint_eq(p.icmp_seq, 0x0304);
	/* ICMP's echo numbers mean nothing in ICMPv6. */
	f.b[40] = 8;
	ck_assert_int_eq(dec(&p, LT_IPV6, &f), 0);
	ck_assert_uint_eq(p.icmp_id, 0);
}
END_TEST

static Suite *decode_suite(void)
{
	Suite *s = suite_create("decode");
	TCase *tc = tcase_create("decode");

	tcase_add_checked_fixture(tc, NULL, release_held);
	tcase_add_test(tc, test_eth_ipv4_tcp);
	tcase_add_test(tc, test_eth_8023_length);
	tcase_add_test(tc, test_eth_unknown_ethertype);
	tcase_add_test(tc, test_vlan_single);
	tcase_add_test(tc, test_vlan_qinq);
	tcase_add_test(tc, test_vlan_stack_limit);
	tcase_add_test(tc, test_vlan_truncated);
	tcase_add_test(tc, test_sll);
	tcase_add_test(tc, test_sll2);
	tcase_add_test(tc, test_raw);
	tcase_add_test(tc, test_null_and_loop);
	tcase_add_test(tc, test_unknown_linktype);
	tcase_add_test(tc, test_null_data);
	tcase_add_test(tc, test_arp);
	tcase_add_test(tc, test_ipv4_options_udp);
	tcase_add_test(tc, test_ipv4_bad_headers);
	tcase_add_test(tc, test_ipv4_total_beyond_capture);
	tcase_add_test(tc, test_ipv4_fragments);
	tcase_add_test(tc, test_padding);
	tcase_add_test(tc, test_unknown_ip_protocol);
	tcase_add_test(tc, test_ipv6_extension_chain);
	tcase_add_test(tc, test_ipv6_ah_and_no_next);
	tcase_add_test(tc, test_ipv6_fragments);
	tcase_add_test(tc, test_ipv6_chain_limit);
	tcase_add_test(tc, test_ipv6_jumbo_length);
	tcase_add_test(tc, test_tcp_bad_offset);
	tcase_add_test(tc, test_udp_lengths);
	tcase_add_test(tc, test_icmp);
	tcase_add_test(tc, test_truncate_tcp4_every_offset);
	tcase_add_test(tc, test_truncate_everything);
	tcase_add_test(tc, test_error_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("details");
	tcase_add_checked_fixture(tc, NULL, release_held);
	tcase_add_test(tc, test_ipv4_details);
	tcase_add_test(tc, test_ipv6_details);
	tcase_add_test(tc, test_tcp_details_real_syn);
	tcase_add_test(tc, test_tcp_options_each);
	tcase_add_test(tc, test_tcp_options_bad);
	tcase_add_test(tc, test_tcp_options_cut);
	tcase_add_test(tc, test_udp_and_icmp_details);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(decode_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
