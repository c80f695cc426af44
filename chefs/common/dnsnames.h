/* SPDX-License-Identifier: MIT */
/*
 * dnsnames.h - DNS mnemonics and name helpers for the built-in chefs.
 *
 * Header-only, like lrumap.h: a chef links nothing of the kitchen's, so the
 * presentation names of RR types (IANA "Resource Record (RR) TYPEs"
 * registry; RFC 3597 section 5 for the TYPEnnn form), classes (RFC 1035
 * 3.2.4, RFC 2136 for NONE), RCODEs (IANA "DNS RCODEs", RFC 6891 for the
 * extended ones) and opcodes (IANA "DNS OpCodes") live here, and every chef
 * compiles its own copy of the few it uses.
 *
 * Names handed to chefs (struct ndl_dns_question.name) are in presentation
 * form (RFC 1035 5.1): labels joined by dots, '.' and '\\' inside a label
 * escaped with a backslash, other unprintable bytes as \DDD.
 * dns_next_label() walks such a name label by label and gives back the
 * wire bytes of each.
 *
 * All functions are pure and thread-safe.
 */
#ifndef NDL_CHEFS_DNSNAMES_H
#define NDL_CHEFS_DNSNAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct dns_mnemonic {
	uint16_t value;
	const char *name;
};

static const struct dns_mnemonic dns_type_table[] = {
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

static const struct dns_mnemonic dns_class_table[] = {
	{ 1, "IN" }, { 3, "CH" }, { 4, "HS" }, { 254, "NONE" }, { 255, "ANY" },
};

static const struct dns_mnemonic dns_rcode_table[] = {
	{ 0, "NOERROR" }, { 1, "FORMERR" }, { 2, "SERVFAIL" }, { 3, "NXDOMAIN" },
	{ 4, "NOTIMP" }, { 5, "REFUSED" }, { 6, "YXDOMAIN" }, { 7, "YXRRSET" },
	{ 8, "NXRRSET" }, { 9, "NOTAUTH" }, { 10, "NOTZONE" }, { 11, "DSOTYPENI" },
	{ 16, "BADVERS" }, { 23, "BADCOOKIE" },
};

static const struct dns_mnemonic dns_opcode_table[] = {
	{ 0, "QUERY" }, { 1, "IQUERY" }, { 2, "STATUS" }, { 4, "NOTIFY" },
	{ 5, "UPDATE" }, { 6, "DSO" },
};

/* The mnemonic of value in table[0..n), NULL when it has none. */
static inline const char *dns_mnemonic_find(const struct dns_mnemonic *table, size_t n,
					    unsigned int value)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].value == value)
			return table[i].name;
	return NULL;
}

#define DNS_MNEMONIC_FIND(table, value) \
	dns_mnemonic_find((table), sizeof(table) / sizeof((table)[0]), (value))

/* Longest text the *_name() functions below write, with the NUL. */
#define DNS_MNEMONIC_MAX 16

/*
 * The presentation name of RR type into out[0..outlen): "A", "AAAA", or
 * "TYPE65280" for a type without a mnemonic. Returns out.
 */
static inline const char *dns_type_name(uint16_t type, char *out, size_t outlen)
{
	const char *s = DNS_MNEMONIC_FIND(dns_type_table, type);

	if (s)
		snprintf(out, outlen, "%s", s);
	else
		snprintf(out, outlen, "TYPE%u", (unsigned int)type);
	return out;
}

/* The class's mnemonic ("IN", "CH") or "CLASS<n>" into out. Returns out. */
static inline const char *dns_class_name(uint16_t rclass, char *out, size_t outlen)
{
	const char *s = DNS_MNEMONIC_FIND(dns_class_table, rclass);

	if (s)
		snprintf(out, outlen, "%s", s);
	else
		snprintf(out, outlen, "CLASS%u", (unsigned int)rclass);
	return out;
}

/* The RCODE's mnemonic ("NXDOMAIN"), NULL when it has none. */
static inline const char *dns_rcode_name(unsigned int rcode)
{
	return DNS_MNEMONIC_FIND(dns_rcode_table, rcode);
}

/* The opcode's mnemonic ("UPDATE"), NULL when it has none. */
static inline const char *dns_opcode_name(unsigned int opcode)
{
	return DNS_MNEMONIC_FIND(dns_opcode_table, opcode);
}

/*
 * The full RCODE of a message: the header's 4 bits, extended by the upper
 * 8 bits an OPT record carries (RFC 6891 6.1.3).
 */
static inline unsigned int dns_full_rcode(unsigned int header_rcode, bool edns,
					  unsigned int ext_rcode)
{
	return edns ? (ext_rcode << 4 | (header_rcode & 0xfu)) : (header_rcode & 0xfu);
}

/* Largest wire label (RFC 1035 2.3.4). */
#define DNS_LABEL_MAX 63

/*
 * The next label of the presentation-form name[0..len), starting at *pos,
 * as wire bytes into label (at least DNS_LABEL_MAX bytes; a longer label -
 * only possible in a name that was cut - is cut too, *label_len still
 * counting every byte). Escapes are undone: "\." is '.', "\065" is 'A'.
 * When text_len is not NULL it gets the length of the label as written in
 * name (escapes included, the dot not), which starts at the old *pos.
 * Returns false when no label is left (the root name "" has none);
 * otherwise advances *pos past the label and its dot.
 */
static inline bool dns_next_label(const char *name, size_t len, size_t *pos,
				  uint8_t *label, size_t *label_len, size_t *text_len)
{
	size_t i = *pos, n = 0;

	if (i >= len)
		return false;
	while (i < len && name[i] != '.') {
		uint8_t c = (uint8_t)name[i++];

		if (c == '\\' && i < len) {
			if (i + 2 < len && name[i] >= '0' && name[i] <= '9' &&
			    name[i + 1] >= '0' && name[i + 1] <= '9' &&
			    name[i + 2] >= '0' && name[i + 2] <= '9') {
				unsigned int v = (unsigned int)(name[i] - '0') * 100 +
						 (unsigned int)(name[i + 1] - '0') * 10 +
						 (unsigned int)(name[i + 2] - '0');
				c = (uint8_t)(v > 255 ? 255 : v);
				i += 3;
			} else {
				c = (uint8_t)name[i++];
			}
		}
		if (n < DNS_LABEL_MAX)
			label[n] = c;
		n++;
	}
	if (text_len)
		*text_len = i - *pos;
	if (i < len)      /* the dot */
		i++;
	*pos = i;
	*label_len = n;
	return true;
}

/* ASCII case-insensitive equality of a[0..alen) and b[0..blen) (RFC 4343). */
static inline bool dns_name_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y + 32);
		if (x != y)
			return false;
	}
	return true;
}

#endif /* NDL_CHEFS_DNSNAMES_H */
