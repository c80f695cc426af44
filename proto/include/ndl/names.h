/* SPDX-License-Identifier: MIT */
/*
 * ndl/names.h - the stable names of values a chef meets in <ndl/chef.h>.
 *
 * One home for the names both sides print: the kitchen in its statistics,
 * chefs in their dumplings. Header-only, because a chef links nothing of
 * the kitchen's. The strings are part of the output format (dumplings,
 * stats, golden files): existing ones never change.
 *
 *   error enums     decode, DNS, HTTP and TLS errors as lower_snake_case
 *                   ("truncated_ipv4"), "ok" for 0, "unknown" past the enum
 *   DNS RR types    IANA "Resource Record (RR) TYPEs" mnemonics, else the
 *                   RFC 3597 section 5 form "TYPE<n>"
 *   DNS RCODEs      IANA "DNS RCODEs" mnemonics (RFC 1035 4.1.1, RFC 6891
 *                   for the extended ones)
 *   TLS versions    "SSL 3.0" to "TLS 1.3" (RFC 8446 B.1 and predecessors),
 *                   else "0x%04x"
 *   IP addresses    dotted decimal, and RFC 5952 text as inet_ntop writes it
 *
 * Every function is pure and thread-safe; a returned string is static or
 * the caller's buffer.
 */
#ifndef NDL_NAMES_H
#define NDL_NAMES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "chef.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Buffer sizes, with the NUL, that no name below is cut at. */
#define NDL_DNS_TYPE_NAME_MAX 16       /* "NSEC3PARAM", "TYPE65535" */
#define NDL_TLS_VERSION_NAME_MAX 8     /* "TLS 1.3", "0x7f1c" */

/* Name of an enum ndl_decode_error (struct ndl_packet.decode_error). */
static inline const char *ndl_decode_error_name(unsigned int err)
{
	switch (err) {
	case NDL_DECODE_OK: return "ok";
	case NDL_DECODE_TRUNCATED_LINK: return "truncated_link";
	case NDL_DECODE_UNKNOWN_LINKTYPE: return "unknown_linktype";
	case NDL_DECODE_TRUNCATED_ARP: return "truncated_arp";
	case NDL_DECODE_TRUNCATED_IPV4: return "truncated_ipv4";
	case NDL_DECODE_BAD_IPV4_HEADER: return "bad_ipv4_header";
	case NDL_DECODE_TRUNCATED_IPV6: return "truncated_ipv6";
	case NDL_DECODE_BAD_IPV6_HEADER: return "bad_ipv6_header";
	case NDL_DECODE_TRUNCATED_TCP: return "truncated_tcp";
	case NDL_DECODE_BAD_TCP_HEADER: return "bad_tcp_header";
	case NDL_DECODE_TRUNCATED_UDP: return "truncated_udp";
	case NDL_DECODE_BAD_UDP_LENGTH: return "bad_udp_length";
	case NDL_DECODE_TRUNCATED_ICMP: return "truncated_icmp";
	case NDL_DECODE_TOO_MANY_VLAN_TAGS: return "too_many_vlan_tags";
	default: return "unknown";
	}
}

/* Name of an enum ndl_dns_error (struct ndl_dns.error). */
static inline const char *ndl_dns_error_name(unsigned int err)
{
	switch (err) {
	case NDL_DNS_OK: return "ok";
	case NDL_DNS_TRUNCATED: return "truncated";
	case NDL_DNS_BAD_NAME: return "bad_name";
	case NDL_DNS_NAME_LOOP: return "name_loop";
	case NDL_DNS_TOO_MANY_RECORDS: return "too_many_records";
	default: return "unknown";
	}
}

/* Name of an enum ndl_http_error (struct ndl_http.error). */
static inline const char *ndl_http_error_name(unsigned int err)
{
	switch (err) {
	case NDL_HTTP_OK: return "ok";
	case NDL_HTTP_TRUNCATED: return "truncated";
	case NDL_HTTP_BAD_HEADER: return "bad_header";
	case NDL_HTTP_TOO_MANY_HEADERS: return "too_many_headers";
	default: return "unknown";
	}
}

/* Name of an enum ndl_tls_error (struct ndl_tls_hello.error). */
static inline const char *ndl_tls_error_name(unsigned int err)
{
	switch (err) {
	case NDL_TLS_OK: return "ok";
	case NDL_TLS_TRUNCATED: return "truncated";
	case NDL_TLS_BAD_RECORD: return "bad_record";
	case NDL_TLS_BAD_HELLO: return "bad_hello";
	case NDL_TLS_TOO_MANY: return "too_many";
	default: return "unknown";
	}
}

/*
 * The IANA mnemonic of DNS RR type ("A", "AAAA"), a static string; NULL
 * for a type without one.
 */
static inline const char *ndl_dns_type_mnemonic(uint16_t type)
{
	static const struct {
		uint16_t type;
		const char *name;
	} types[] = {
		{ 1, "A" }, { 2, "NS" }, { 3, "MD" }, { 4, "MF" }, { 5, "CNAME" },
		{ 6, "SOA" }, { 7, "MB" }, { 8, "MG" }, { 9, "MR" }, { 10, "NULL" },
		{ 11, "WKS" }, { 12, "PTR" }, { 13, "HINFO" }, { 14, "MINFO" },
		{ 15, "MX" }, { 16, "TXT" }, { 17, "RP" }, { 18, "AFSDB" },
		{ 19, "X25" }, { 20, "ISDN" }, { 21, "RT" }, { 22, "NSAP" },
		{ 23, "NSAP-PTR" }, { 24, "SIG" }, { 25, "KEY" }, { 26, "PX" },
		{ 27, "GPOS" }, { 28, "AAAA" }, { 29, "LOC" }, { 30, "NXT" },
		{ 33, "SRV" }, { 35, "NAPTR" }, { 36, "KX" }, { 37, "CERT" },
		{ 38, "A6" }, { 39, "DNAME" }, { 41, "OPT" }, { 42, "APL" },
		{ 43, "DS" }, { 44, "SSHFP" }, { 45, "IPSECKEY" }, { 46, "RRSIG" },
		{ 47, "NSEC" }, { 48, "DNSKEY" }, { 49, "DHCID" }, { 50, "NSEC3" },
		{ 51, "NSEC3PARAM" }, { 52, "TLSA" }, { 53, "SMIMEA" }, { 55, "HIP" },
		{ 59, "CDS" }, { 60, "CDNSKEY" }, { 61, "OPENPGPKEY" }, { 62, "CSYNC" },
		{ 63, "ZONEMD" }, { 64, "SVCB" }, { 65, "HTTPS" }, { 99, "SPF" },
		{ 249, "TKEY" }, { 250, "TSIG" }, { 251, "IXFR" }, { 252, "AXFR" },
		{ 253, "MAILB" }, { 254, "MAILA" }, { 255, "ANY" }, { 256, "URI" },
		{ 257, "CAA" },
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (types[i].type == type)
			return types[i].name;
	}
	return NULL;
}

/*
 * The presentation name of DNS RR type into buf[0..len), cut to fit:
 * "A", "AAAA", or "TYPE65280" for a type without a mnemonic. Returns buf
 * (untouched when len is 0; NULL when buf is NULL).
 */
static inline const char *ndl_dns_type_name(uint16_t type, char *buf, size_t len)
{
	const char *name = ndl_dns_type_mnemonic(type);

	if (buf == NULL || len == 0)
		return buf;
	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "TYPE%u", (unsigned int)type);
	return buf;
}

/*
 * The mnemonic of a DNS RCODE ("NXDOMAIN"), NULL when it has none. With
 * EDNS the full RCODE is the OPT record's upper 8 bits over the header's 4
 * (RFC 6891 6.1.3): edns_ext_rcode << 4 | rcode.
 */
static inline const char *ndl_dns_rcode_name(unsigned int rcode)
{
	switch (rcode) {
	case 0: return "NOERROR";
	case 1: return "FORMERR";
	case 2: return "SERVFAIL";
	case 3: return "NXDOMAIN";
	case 4: return "NOTIMP";
	case 5: return "REFUSED";
	case 6: return "YXDOMAIN";
	case 7: return "YXRRSET";
	case 8: return "NXRRSET";
	case 9: return "NOTAUTH";
	case 10: return "NOTZONE";
	case 11: return "DSOTYPENI";
	case 16: return "BADVERS";
	case 23: return "BADCOOKIE";
	default: return NULL;
	}
}

/*
 * The name of TLS protocol version into buf[0..len), cut to fit: "TLS 1.3"
 * ... "SSL 3.0", else the value as "0x%04x" ("0x7f1c"). Returns buf
 * (untouched when len is 0; NULL when buf is NULL).
 */
static inline const char *ndl_tls_version_name(uint16_t version, char *buf, size_t len)
{
	static const char *const names[] = { "SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3" };

	if (buf == NULL || len == 0)
		return buf;
	if (version >= 0x0300 && version <= 0x0304)
		snprintf(buf, len, "%s", names[version - 0x0300]);
	else
		snprintf(buf, len, "0x%04x", (unsigned int)version);
	return buf;
}

/* ------------------------------------------------------------------------ */
/* IP addresses                                                              */
/* ------------------------------------------------------------------------ */

/* Most bytes ndl_ipv4_text and ndl_ipv6_text write (no NUL is written). */
#define NDL_IPV4_TEXT_MAX 15
#define NDL_IPV6_TEXT_MAX 45

/* The dotted decimal of a[0..4) at out; returns the end. */
static inline char *ndl_ipv4_text(char *out, const uint8_t *a)
{
	for (int i = 0; i < 4; i++) {
		unsigned int b = a[i];

		if (i)
			*out++ = '.';
		if (b >= 100)
			*out++ = (char)('0' + b / 100);
		if (b >= 10)
			*out++ = (char)('0' + b / 10 % 10);
		*out++ = (char)('0' + b % 10);
	}
	return out;
}

/*
 * The RFC 5952 text of a[0..16) at out, byte for byte what glibc's
 * inet_ntop writes (without its sprintf per group): groups in lower-case
 * hex without leading zeros; the first longest run of two or more zero
 * groups as "::" (4.2); the last 32 bits in dotted decimal (5) when that
 * run is exactly the first six groups (::a.b.c.d, RFC 4291 2.5.5.1) or the
 * first five before ffff (::ffff:a.b.c.d, 2.5.5.2). Returns the end.
 */
static inline char *ndl_ipv6_text(char *out, const uint8_t *a)
{
	static const char hex[] = "0123456789abcdef";
	unsigned int group[8];
	int best = -1, best_len = 0, run = 0;

	for (int i = 0; i < 8; i++) {
		group[i] = (unsigned int)a[2 * i] << 8 | a[2 * i + 1];
		run = group[i] == 0 ? run + 1 : 0;
		if (run > best_len) {
			best_len = run;
			best = i - run + 1;
		}
	}
	if (best_len < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		unsigned int g = group[i];

		if (best >= 0 && i >= best && i < best + best_len) {
			if (i == best)
				*out++ = ':';
			continue;
		}
		if (i)
			*out++ = ':';
		if (i == 6 && best == 0 &&
		    (best_len == 6 || (best_len == 5 && group[5] == 0xffff)))
			return ndl_ipv4_text(out, a + 12);
		if (g >= 0x1000)
			*out++ = hex[g >> 12];
		if (g >= 0x100)
			*out++ = hex[(g >> 8) & 0xf];
		if (g >= 0x10)
			*out++ = hex[(g >> 4) & 0xf];
		*out++ = hex[g & 0xf];
	}
	if (best >= 0 && best + best_len == 8)
		*out++ = ':';
	return out;
}

#ifdef __cplusplus
}
#endif

#endif /* NDL_NAMES_H */
