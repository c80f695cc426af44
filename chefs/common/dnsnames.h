/* SPDX-License-Identifier: MIT */
/*
 * dnsnames.h - DNS mnemonics and name helpers for the built-in chefs.
 *
 * Header-only, like lrumap.h: a chef links nothing of the kitchen's. The
 * names the kitchen prints too (RR types, RCODEs) are in <ndl/names.h>;
 * the presentation names only chefs use, of classes (RFC 1035 3.2.4,
 * RFC 2136 for NONE; RFC 3597 section 5 for the CLASSnnn form) and opcodes
 * (IANA "DNS OpCodes"), live here, and every chef compiles its own copy of
 * the few it uses.
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
#include <ndl/names.h>

struct dns_mnemonic {
	uint16_t value;
	const char *name;
};

static const struct dns_mnemonic dns_class_table[] = {
	{ 1, "IN" }, { 3, "CH" }, { 4, "HS" }, { 254, "NONE" }, { 255, "ANY" },
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

/* Longest text dns_class_name() writes, with the NUL. */
#define DNS_MNEMONIC_MAX 16

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

/*
 * The name of RR type as dumplings print it: the static mnemonic from
 * <ndl/names.h> ("AAAA") when there is one, else the RFC 3597 section 5
 * form "TYPE<n>" written into out (outlen >= NDL_DNS_TYPE_NAME_MAX, the
 * only case that formats, so the common one copies nothing).
 */
static inline const char *dns_type_text(uint16_t type, char *out, size_t outlen)
{
	const char *s = ndl_dns_type_mnemonic(type);

	if (s)
		return s;
	snprintf(out, outlen, "TYPE%u", (unsigned int)type);
	return out;
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
