/* SPDX-License-Identifier: MIT */
/*
 * decode.c - link, network and transport decoding, once per packet.
 *
 * Link layers: Ethernet II and IEEE 802.3 (IEEE 802.3-2018 clause 3),
 * 802.1Q / 802.1ad VLAN tags (IEEE 802.1Q-2018), Linux cooked capture v1
 * and v2, raw IP, BSD null/loopback. Network: ARP (RFC 826), IPv4
 * (RFC 791), IPv6 with its extension headers (RFC 8200, RFC 4302 for AH).
 * Transport: TCP (RFC 9293), UDP (RFC 768), ICMP (RFC 792), ICMPv6
 * (RFC 4443).
 *
 * Each layer reads its bytes through the rd.h accessors on a window its
 * parent gave it; a failed read jumps to the layer's one exit, which names
 * the error. What was decoded before the error stays in the packet.
 */
#include <string.h>
#include <ndl/names.h>
#include "decode.h"
#include "rd.h"

/* Link types, as pcap_datalink() reports them. */
enum {
	LT_NULL = 0,
	LT_EN10MB = 1,
	LT_RAW = 12,        /* DLT_RAW on most platforms */
	LT_RAW_BSD = 14,    /* DLT_RAW on OpenBSD */
	LT_RAW_FILE = 101,  /* LINKTYPE_RAW, when the value is not mapped */
	LT_LOOP = 108,
	LT_LINUX_SLL = 113,
	LT_IPV4 = 228,
	LT_IPV6 = 229,
	LT_LINUX_SLL2 = 276,
};

enum {
	ETH_P_IPV4 = 0x0800,
	ETH_P_ARP = 0x0806,
	ETH_P_VLAN = 0x8100,    /* 802.1Q C-tag */
	ETH_P_QINQ = 0x88a8,    /* 802.1ad S-tag */
	ETH_P_QINQ_OLD = 0x9100,
	ETH_P_IPV6 = 0x86dd,
	ETH_MIN_TYPE = 0x0600,  /* below: an 802.3 length field */
};

enum {
	IPPROTO_HOPOPTS_ = 0,
	IPPROTO_ICMP_ = 1,
	IPPROTO_TCP_ = 6,
	IPPROTO_UDP_ = 17,
	IPPROTO_ROUTING_ = 43,
	IPPROTO_FRAGMENT_ = 44,
	IPPROTO_AH_ = 51,
	IPPROTO_ICMPV6_ = 58,
	IPPROTO_NONE_ = 59,
	IPPROTO_DSTOPTS_ = 60,
};

#define MAX_VLAN_TAGS 8        /* more stacked tags than any real network uses */
#define MAX_IPV6_EXT_HEADERS 16

static const uint8_t empty_frame[1];

/*
 * What ndl__decode starts every packet from. Copying it compiles to a few
 * vector stores, where a memset of the same size becomes a rep stos that
 * costs several times as much per packet.
 */
static const struct ndl_packet blank_packet;

static uint32_t offset_of(const struct ndl_packet *pkt, const struct ndl__rd *r)
{
	return (uint32_t)(rd_cur(r) - pkt->data);
}

/* ------------------------------------------------------------------------ */
/* Transport                                                                 */
/* ------------------------------------------------------------------------ */

static void set_payload(struct ndl_packet *pkt, const struct ndl__rd *r)
{
	size_t n = rd_left(r);

	if (n == 0)
		return;
	pkt->payload = rd_cur(r);
	pkt->payload_len = (uint32_t)n;
	pkt->layers |= NDL_LAYER_PAYLOAD;
}

/*
 * TCP options (RFC 9293 section 3.2): a kind byte, then for every kind but
 * End of Option List (0) and No-Operation (1) a length byte counting the
 * kind and length bytes themselves. Known here: MSS (2, length 4, RFC 9293
 * 3.7.1), Window Scale (3, length 3, RFC 7323 2.2), SACK-permitted (4,
 * length 2, RFC 2018 2), SACK (5, variable, RFC 2018 3) and Timestamps (8,
 * length 10, RFC 7323 3.2). A known kind with another length is skipped.
 *
 * opts holds the captured option bytes, header_len the option bytes the
 * data offset claims. A length below 2, or one running past the header,
 * marks the options bad and ends the walk; one running past a capture that
 * stops inside the header just ends it (the segment is reported truncated).
 */
static void decode_tcp_options(struct ndl_packet *pkt, struct ndl__rd *opts, size_t header_len)
{
	while (rd_left(opts) > 0) {
		size_t at = opts->off;
		uint8_t kind, len;

		RD_U8(opts, kind, cut);
		if (kind == 0)          /* End of Option List */
			return;
		if (kind == 1)          /* No-Operation */
			continue;
		if (at + 2 > header_len)
			goto bad;       /* no room for a length byte */
		RD_U8(opts, len, cut);
		if (len < 2 || at + len > header_len)
			goto bad;
		if (!rd_have(opts, (size_t)len - 2))
			goto cut;
		switch (kind) {
		case 2:
			if (len == 4) {
				RD_BE16(opts, pkt->tcp_mss, cut);
				pkt->tcp_opts |= NDL_TCPOPT_MSS;
			}
			break;
		case 3:
			if (len == 3) {
				RD_U8(opts, pkt->tcp_wscale, cut);
				pkt->tcp_opts |= NDL_TCPOPT_WSCALE;
			}
			break;
		case 4:
			if (len == 2)
				pkt->tcp_opts |= NDL_TCPOPT_SACK_OK;
			break;
		case 5:
			pkt->tcp_opts |= NDL_TCPOPT_SACK;
			break;
		case 8:
			if (len == 10) {
				RD_BE32(opts, pkt->tcp_ts_val, cut);
				RD_BE32(opts, pkt->tcp_ts_ecr, cut);
				pkt->tcp_opts |= NDL_TCPOPT_TIMESTAMP;
			}
			break;
		default:
			break;
		}
		if (!rd_seek(opts, at + len))
			goto cut;
	}
cut:
	return;
bad:
	pkt->tcp_opts |= NDL_TCPOPT_BAD;
}

/*
 * TCP header (RFC 9293 section 3.1):
 *
 *    0                   1                   2                   3
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |          Source Port          |       Destination Port        |
 *   |                        Sequence Number                        |
 *   |                    Acknowledgment Number                      |
 *   |  Data |       |C|E|U|A|P|R|S|F|                               |
 *   | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 *   |           Checksum            |         Urgent Pointer        |
 *   |                    Options (data offset > 5)                  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * seg holds the captured part of the segment, claimed the length the IP
 * header gives it.
 */
static int decode_tcp(struct ndl_packet *pkt, struct ndl__rd *seg, size_t claimed)
{
	uint32_t start = offset_of(pkt, seg);
	uint16_t sport, dport, window;
	uint32_t seq, ack;
	uint8_t doff, flags;
	size_t hlen;
	struct ndl__rd opts;

	RD_BE16(seg, sport, trunc);
	RD_BE16(seg, dport, trunc);
	RD_BE32(seg, seq, trunc);
	RD_BE32(seg, ack, trunc);
	RD_U8(seg, doff, trunc);
	RD_U8(seg, flags, trunc);
	RD_BE16(seg, window, trunc);
	RD_SKIP(seg, 4, trunc); /* checksum, urgent pointer */

	hlen = (size_t)(doff >> 4) * 4;
	if (hlen < 20 || hlen > claimed)
		return NDL_DECODE_BAD_TCP_HEADER;

	pkt->layers |= NDL_LAYER_TCP;
	pkt->l4_off = start;
	pkt->sport = sport;
	pkt->dport = dport;
	pkt->tcp_seq = seq;
	pkt->tcp_ack = ack;
	pkt->tcp_flags = flags;
	pkt->tcp_window = window;
	pkt->tcp_hdr_len = (uint8_t)hlen;

	opts = rd_sub(seg, hlen - 20);
	decode_tcp_options(pkt, &opts, hlen - 20);
	RD_SKIP(seg, hlen - 20, trunc); /* options */
	set_payload(pkt, seg);
	return NDL_DECODE_OK;
trunc:
	return NDL_DECODE_TRUNCATED_TCP;
}

/* UDP header (RFC 768): source port, destination port, length, checksum. */
static int decode_udp(struct ndl_packet *pkt, struct ndl__rd *seg)
{
	uint32_t start = offset_of(pkt, seg);
	uint16_t sport, dport, ulen;
	struct ndl__rd data;

	RD_BE16(seg, sport, trunc);
	RD_BE16(seg, dport, trunc);
	RD_BE16(seg, ulen, trunc);
	RD_SKIP(seg, 2, trunc); /* checksum */
	if (ulen < 8)
		return NDL_DECODE_BAD_UDP_LENGTH;

	pkt->layers |= NDL_LAYER_UDP;
	pkt->l4_off = start;
	pkt->sport = sport;
	pkt->dport = dport;
	pkt->udp_len = ulen;
	data = rd_sub(seg, (size_t)ulen - 8);
	set_payload(pkt, &data);
	return NDL_DECODE_OK;
trunc:
	return NDL_DECODE_TRUNCATED_UDP;
}

/*
 * ICMP (RFC 792) and ICMPv6 (RFC 4443 section 2.1): type, code, checksum,
 * then four bytes whose meaning depends on the type. For echo request and
 * reply (ICMP 8 and 0, RFC 792 page 14; ICMPv6 128 and 129, RFC 4443 4.1
 * and 4.2) they are the identifier and the sequence number. The payload
 * starts after the first four bytes whatever the type.
 */
static int decode_icmp(struct ndl_packet *pkt, struct ndl__rd *seg, uint32_t layer)
{
	uint32_t start = offset_of(pkt, seg);
	uint8_t type, code;
	bool echo;

	RD_U8(seg, type, trunc);
	RD_U8(seg, code, trunc);
	RD_SKIP(seg, 2, trunc);

	pkt->layers |= layer;
	pkt->l4_off = start;
	pkt->icmp_type = type;
	pkt->icmp_code = code;
	if (layer == NDL_LAYER_ICMP)
		echo = type == 0 || type == 8;
	else
		echo = type == 128 || type == 129;
	if (echo) {
		struct ndl__rd rest = rd_sub(seg, 4);
		uint16_t id, seq;

		if (rd_be16(&rest, &id) && rd_be16(&rest, &seq)) {
			pkt->icmp_id = id;
			pkt->icmp_seq = seq;
		}
	}
	set_payload(pkt, seg);
	return NDL_DECODE_OK;
trunc:
	return NDL_DECODE_TRUNCATED_ICMP;
}

static int decode_transport(struct ndl_packet *pkt, uint8_t proto,
			    struct ndl__rd *seg, size_t claimed)
{
	switch (proto) {
	case IPPROTO_TCP_:
		return decode_tcp(pkt, seg, claimed);
	case IPPROTO_UDP_:
		return decode_udp(pkt, seg);
	case IPPROTO_ICMP_:
		if (pkt->ip_version == 4)
			return decode_icmp(pkt, seg, NDL_LAYER_ICMP);
		break;
	case IPPROTO_ICMPV6_:
		if (pkt->ip_version == 6)
			return decode_icmp(pkt, seg, NDL_LAYER_ICMPV6);
		break;
	case IPPROTO_NONE_:
		return NDL_DECODE_OK;
	default:
		break;
	}
	/* A protocol we do not decode: its bytes are the payload. */
	pkt->l4_off = offset_of(pkt, seg);
	set_payload(pkt, seg);
	return NDL_DECODE_OK;
}

/* ------------------------------------------------------------------------ */
/* Network                                                                   */
/* ------------------------------------------------------------------------ */

/*
 * IPv4 header (RFC 791 section 3.1):
 *
 *    0                   1                   2                   3
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Version|  IHL  |Type of Service|          Total Length         |
 *   |         Identification        |Flags|      Fragment Offset    |
 *   |  Time to Live |    Protocol   |         Header Checksum       |
 *   |                       Source Address                          |
 *   |                    Destination Address                        |
 *   |                    Options (IHL > 5)                          |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * A total length beyond the captured bytes is an ordinary snap-length cut:
 * what was captured is decoded. Captured bytes past the total length are
 * link-layer padding.
 */
static int decode_ipv4(struct ndl_packet *pkt, struct ndl__rd *r)
{
	struct ndl__rd ip = rd_sub(r, rd_left(r));
	uint32_t start = offset_of(pkt, &ip);
	uint8_t vihl, tos, ttl, proto;
	uint16_t total, id, frag;
	uint8_t src[4], dst[4];
	size_t hlen, captured;
	struct ndl__rd seg;

	RD_U8(&ip, vihl, trunc);
	if ((vihl >> 4) != 4 || (vihl & 0x0f) < 5)
		return NDL_DECODE_BAD_IPV4_HEADER;
	RD_U8(&ip, tos, trunc);
	RD_BE16(&ip, total, trunc);
	RD_BE16(&ip, id, trunc);
	RD_BE16(&ip, frag, trunc);
	RD_U8(&ip, ttl, trunc);
	RD_U8(&ip, proto, trunc);
	RD_SKIP(&ip, 2, trunc);            /* header checksum */
	RD_COPY(&ip, src, 4, trunc);
	RD_COPY(&ip, dst, 4, trunc);

	hlen = (size_t)(vihl & 0x0f) * 4;
	if (total < hlen)
		return NDL_DECODE_BAD_IPV4_HEADER;

	pkt->layers |= NDL_LAYER_IPV4;
	pkt->l3_off = start;
	pkt->ip_version = 4;
	pkt->ip_proto = proto;
	pkt->ip_ttl = ttl;
	memcpy(pkt->src_ip, src, 4);
	memcpy(pkt->dst_ip, dst, 4);
	pkt->ip_tos = tos;
	pkt->ip_id = id;
	pkt->ip_frag_ident = id;
	pkt->ip_hdr_len = (uint16_t)hlen;
	pkt->ip_total_len = total;
	/* Flags: reserved 0x8000, don't fragment 0x4000, more fragments 0x2000. */
	pkt->ip_frag_flags = (uint8_t)((frag & 0x4000 ? NDL_IP_DF : 0) |
				       (frag & 0x2000 ? NDL_IP_MF : 0));
	pkt->ip_frag_offset = (uint16_t)((frag & 0x1fff) * 8);

	captured = ip.len;
	if (captured > total) {
		pkt->padding_len = (uint32_t)(captured - total);
		pkt->layers |= NDL_LAYER_PADDING;
		ip.len = total;
	}
	RD_SKIP(&ip, hlen - 20, trunc);    /* options */

	/* More-fragments flag 0x2000, offset in 8-octet units below it. */
	if (frag & 0x3fff) {
		pkt->layers |= NDL_LAYER_FRAGMENT;
		if (frag & 0x1fff)
			return NDL_DECODE_OK;
	}
	seg = rd_sub(&ip, rd_left(&ip));
	return decode_transport(pkt, proto, &seg, (size_t)total - hlen);
trunc:
	return NDL_DECODE_TRUNCATED_IPV4;
}

/*
 * IPv6 header (RFC 8200 section 3):
 *
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Version| Traffic Class |           Flow Label                  |
 *   |         Payload Length        |  Next Header  |   Hop Limit   |
 *   |                  Source Address (128 bits)                    |
 *   |               Destination Address (128 bits)                  |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * followed by a chain of extension headers (section 4), each naming the
 * next. A payload length of 0 (a jumbogram, RFC 2675) lets the captured
 * length decide.
 */
static int decode_ipv6(struct ndl_packet *pkt, struct ndl__rd *r)
{
	struct ndl__rd ip = rd_sub(r, rd_left(r));
	uint32_t start = offset_of(pkt, &ip);
	uint32_t vtcfl;
	uint8_t next, hops;
	uint16_t plen;
	uint8_t src[16], dst[16];
	size_t claimed, total;
	struct ndl__rd seg;
	unsigned int n;

	RD_BE32(&ip, vtcfl, trunc);
	if ((vtcfl >> 28) != 6)
		return NDL_DECODE_BAD_IPV6_HEADER;
	RD_BE16(&ip, plen, trunc);
	RD_U8(&ip, next, trunc);
	RD_U8(&ip, hops, trunc);
	RD_COPY(&ip, src, 16, trunc);
	RD_COPY(&ip, dst, 16, trunc);

	pkt->layers |= NDL_LAYER_IPV6;
	pkt->l3_off = start;
	pkt->ip_version = 6;
	pkt->ip_proto = next;
	pkt->ip_ttl = hops;
	memcpy(pkt->src_ip, src, 16);
	memcpy(pkt->dst_ip, dst, 16);
	pkt->ip_tos = (uint8_t)(vtcfl >> 20);
	pkt->ipv6_flow = vtcfl & 0xfffffu;
	pkt->ip_hdr_len = 40;

	if (plen != 0 && ip.len > 40 + (size_t)plen) {
		pkt->padding_len = (uint32_t)(ip.len - 40 - plen);
		pkt->layers |= NDL_LAYER_PADDING;
		ip.len = 40 + (size_t)plen;
	}
	claimed = plen != 0 ? plen : ip.len - 40;
	/* A jumbogram's length is what was captured; both saturate at 65535. */
	total = 40 + claimed;
	pkt->ip_total_len = (uint16_t)(total > 0xffff ? 0xffff : total);

	for (n = 0;; n++) {
		size_t before = ip.off;
		uint8_t hnext, hlen;
		uint16_t fragoff;
		uint32_t ident;

		if (next != IPPROTO_HOPOPTS_ && next != IPPROTO_ROUTING_ &&
		    next != IPPROTO_FRAGMENT_ && next != IPPROTO_DSTOPTS_ &&
		    next != IPPROTO_AH_)
			break;
		if (n >= MAX_IPV6_EXT_HEADERS)
			return NDL_DECODE_BAD_IPV6_HEADER;
		RD_U8(&ip, hnext, trunc);
		RD_U8(&ip, hlen, trunc);
		switch (next) {
		case IPPROTO_FRAGMENT_:
			/*
			 * RFC 8200 4.5: offset in 8-octet units (13 bits),
			 * 2 reserved bits, M; then the 32-bit identification.
			 */
			RD_BE16(&ip, fragoff, trunc);
			RD_BE32(&ip, ident, trunc);
			pkt->ip_frag_offset = fragoff & 0xfff8;
			pkt->ip_frag_flags = (fragoff & 1) ? NDL_IP_MF : 0;
			pkt->ip_frag_ident = ident;
			if (fragoff & 0xfff9)   /* an offset or more fragments */
				pkt->layers |= NDL_LAYER_FRAGMENT;
			if (fragoff >> 3) {
				pkt->ip_proto = hnext;
				pkt->ipv6_n_ext = (uint8_t)(n + 1);
				pkt->ip_hdr_len = (uint16_t)ip.off;
				return NDL_DECODE_OK;
			}
			break;
		case IPPROTO_AH_:
			/* RFC 4302 2.2: length in 4-octet units, minus 2. */
			RD_SKIP(&ip, ((size_t)hlen + 2) * 4 - 2, trunc);
			break;
		default:
			/* Length in 8-octet units, not counting the first 8. */
			RD_SKIP(&ip, ((size_t)hlen + 1) * 8 - 2, trunc);
			break;
		}
		claimed = claimed > ip.off - before ? claimed - (ip.off - before) : 0;
		next = hnext;
		pkt->ip_proto = next;
		pkt->ipv6_n_ext = (uint8_t)(n + 1);
		pkt->ip_hdr_len = (uint16_t)ip.off;
	}

	seg = rd_sub(&ip, rd_left(&ip));
	return decode_transport(pkt, next, &seg, claimed);
trunc:
	return NDL_DECODE_TRUNCATED_IPV6;
}

/*
 * ARP (RFC 826): hardware type, protocol type, address lengths, opcode,
 * then sender and target addresses. Only Ethernet/IPv4 addresses are kept.
 */
static int decode_arp(struct ndl_packet *pkt, struct ndl__rd *r)
{
	uint32_t start = offset_of(pkt, r);
	uint16_t htype, ptype, op;
	uint8_t hlen, plen;

	RD_BE16(r, htype, trunc);
	RD_BE16(r, ptype, trunc);
	RD_U8(r, hlen, trunc);
	RD_U8(r, plen, trunc);
	RD_BE16(r, op, trunc);

	pkt->layers |= NDL_LAYER_ARP;
	pkt->l3_off = start;
	pkt->arp_op = op;
	if (htype != 1 || ptype != ETH_P_IPV4 || hlen != 6 || plen != 4)
		return NDL_DECODE_OK;
	if (!rd_have(r, 20))
		goto trunc;
	RD_COPY(r, pkt->arp_sha, 6, trunc);
	RD_COPY(r, pkt->arp_spa, 4, trunc);
	RD_COPY(r, pkt->arp_tha, 6, trunc);
	RD_COPY(r, pkt->arp_tpa, 4, trunc);
	return NDL_DECODE_OK;
trunc:
	return NDL_DECODE_TRUNCATED_ARP;
}

/* ------------------------------------------------------------------------ */
/* Link                                                                      */
/* ------------------------------------------------------------------------ */

/*
 * What follows an EtherType: VLAN tags (IEEE 802.1Q 9.6: TPID, then PCP,
 * DEI and a 12-bit VID, then the next EtherType) and the network layer.
 * A value below 0x0600 is an 802.3 length: an LLC frame we do not decode.
 */
static int decode_ethertype(struct ndl_packet *pkt, struct ndl__rd *r, uint16_t type)
{
	while (type == ETH_P_VLAN || type == ETH_P_QINQ || type == ETH_P_QINQ_OLD) {
		uint16_t tci;

		if (pkt->n_vlan >= MAX_VLAN_TAGS)
			return NDL_DECODE_TOO_MANY_VLAN_TAGS;
		RD_BE16(r, tci, trunc);
		RD_BE16(r, type, trunc);
		if (pkt->n_vlan < 2)
			pkt->vlan_id[pkt->n_vlan] = tci & 0x0fff;
		pkt->n_vlan++;
		pkt->layers |= NDL_LAYER_VLAN;
	}
	if (type < ETH_MIN_TYPE)
		return NDL_DECODE_OK;
	pkt->ethertype = type;

	switch (type) {
	case ETH_P_IPV4:
		return decode_ipv4(pkt, r);
	case ETH_P_IPV6:
		return decode_ipv6(pkt, r);
	case ETH_P_ARP:
		return decode_arp(pkt, r);
	default:
		return NDL_DECODE_OK;
	}
trunc:
	return NDL_DECODE_TRUNCATED_LINK;
}

/* Ethernet II: destination, source, EtherType (or an 802.3 length). */
static int decode_ethernet(struct ndl_packet *pkt, struct ndl__rd *r)
{
	uint8_t dst[6], src[6];
	uint16_t type;

	RD_COPY(r, dst, 6, trunc);
	RD_COPY(r, src, 6, trunc);
	RD_BE16(r, type, trunc);
	pkt->layers |= NDL_LAYER_ETHERNET;
	memcpy(pkt->eth_dst, dst, 6);
	memcpy(pkt->eth_src, src, 6);
	return decode_ethertype(pkt, r, type);
trunc:
	return NDL_DECODE_TRUNCATED_LINK;
}

/*
 * Linux cooked capture v1 (16 bytes): packet type, ARPHRD type, address
 * length, 8 address bytes, protocol type.
 */
static int decode_sll(struct ndl_packet *pkt, struct ndl__rd *r)
{
	uint16_t halen, proto;
	uint8_t addr[8];

	RD_SKIP(r, 4, trunc);       /* packet type, ARPHRD type */
	RD_BE16(r, halen, trunc);
	RD_COPY(r, addr, 8, trunc);
	RD_BE16(r, proto, trunc);
	pkt->layers |= NDL_LAYER_SLL;
	if (halen == 6)
		memcpy(pkt->eth_src, addr, 6);
	return decode_ethertype(pkt, r, proto);
trunc:
	return NDL_DECODE_TRUNCATED_LINK;
}

/*
 * Linux cooked capture v2 (20 bytes): protocol type, reserved, interface
 * index, ARPHRD type, packet type, address length, 8 address bytes.
 */
static int decode_sll2(struct ndl_packet *pkt, struct ndl__rd *r)
{
	uint16_t proto;
	uint8_t halen;
	uint8_t addr[8];

	RD_BE16(r, proto, trunc);
	RD_SKIP(r, 2 + 4 + 2 + 1, trunc);
	RD_U8(r, halen, trunc);
	RD_COPY(r, addr, 8, trunc);
	pkt->layers |= NDL_LAYER_SLL;
	if (halen == 6)
		memcpy(pkt->eth_src, addr, 6);
	return decode_ethertype(pkt, r, proto);
trunc:
	return NDL_DECODE_TRUNCATED_LINK;
}

/*
 * Raw IP: the version nibble decides. The EtherType equivalent is filled in
 * so chefs can test one field whatever the link. trunc_err names the error
 * for an empty frame, bad_err for a version that is neither 4 nor 6.
 */
static int decode_raw(struct ndl_packet *pkt, struct ndl__rd *r, int trunc_err, int bad_err)
{
	struct ndl__rd peek = *r;
	uint8_t v;

	RD_U8(&peek, v, trunc);
	switch (v >> 4) {
	case 4:
		pkt->ethertype = ETH_P_IPV4;
		return decode_ipv4(pkt, r);
	case 6:
		pkt->ethertype = ETH_P_IPV6;
		return decode_ipv6(pkt, r);
	default:
		return bad_err;
	}
trunc:
	return trunc_err;
}

/*
 * BSD null (host byte order of the capturing machine) and OpenBSD loop
 * (network byte order): a 4-byte address family. A null header written on
 * a machine of the other byte order is recognised by its zero low half.
 */
static int decode_null(struct ndl_packet *pkt, struct ndl__rd *r, bool network_order)
{
	uint32_t af;

	if (network_order)
		RD_BE32(r, af, trunc);
	else
		RD_NE32(r, af, trunc);
	if (!network_order && (af & 0xffff0000u) && !(af & 0x0000ffffu))
		af = __builtin_bswap32(af);
	pkt->layers |= NDL_LAYER_NULL;

	switch (af) {
	case 2:                         /* AF_INET everywhere */
		pkt->ethertype = ETH_P_IPV4;
		return decode_ipv4(pkt, r);
	case 24: case 28: case 30:      /* AF_INET6: NetBSD/OpenBSD, FreeBSD, Darwin */
		pkt->ethertype = ETH_P_IPV6;
		return decode_ipv6(pkt, r);
	default:
		return NDL_DECODE_OK;
	}
trunc:
	return NDL_DECODE_TRUNCATED_LINK;
}

/*
 * Contract in decode.h. Reads only [data, data + caplen), allocates
 * nothing, touches nothing but pkt: safe on any thread with its own pkt.
 */
int ndl__decode(struct ndl_packet *pkt, int linktype, const uint8_t *data,
		uint32_t caplen, uint32_t wirelen, ndl_time_ns ts)
{
	struct ndl__rd r;
	int err;

	*pkt = blank_packet;
	if (data == NULL) {
		data = empty_frame;
		caplen = 0;
	}
	pkt->struct_size = sizeof(*pkt);
	pkt->ts = ts;
	pkt->data = data;
	pkt->caplen = caplen;
	pkt->wirelen = wirelen;
	pkt->linktype = linktype;
	r = rd_make(data, caplen);

	switch (linktype) {
	case LT_EN10MB:
		err = decode_ethernet(pkt, &r);
		break;
	case LT_LINUX_SLL:
		err = decode_sll(pkt, &r);
		break;
	case LT_LINUX_SLL2:
		err = decode_sll2(pkt, &r);
		break;
	case LT_RAW:
	case LT_RAW_BSD:
	case LT_RAW_FILE:
		err = decode_raw(pkt, &r, NDL_DECODE_TRUNCATED_LINK,
				 NDL_DECODE_BAD_IPV4_HEADER);
		break;
	case LT_IPV4:
		err = decode_raw(pkt, &r, NDL_DECODE_TRUNCATED_IPV4,
				 NDL_DECODE_BAD_IPV4_HEADER);
		break;
	case LT_IPV6:
		err = decode_raw(pkt, &r, NDL_DECODE_TRUNCATED_IPV6,
				 NDL_DECODE_BAD_IPV6_HEADER);
		break;
	case LT_NULL:
		err = decode_null(pkt, &r, false);
		break;
	case LT_LOOP:
		err = decode_null(pkt, &r, true);
		break;
	default:
		err = NDL_DECODE_UNKNOWN_LINKTYPE;
		break;
	}
	pkt->decode_error = (uint32_t)err;
	return err;
}

