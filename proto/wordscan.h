/* SPDX-License-Identifier: MIT */
/*
 * wordscan.h - looking at 8 bytes at once for the bytes a JSON string
 * cannot hold as they are, for the JSON writer (jsonw.c), the hub's
 * metadata scan (hub/meta.c) and the UTF-8 check (logline.c). Internal
 * (ndl__); header-only, no state.
 */
#ifndef NDL_PROTO_WORDSCAN_H
#define NDL_PROTO_WORDSCAN_H

#include <stdint.h>

#define NDL__ONES  0x0101010101010101ull
#define NDL__HIGHS 0x8080808080808080ull

/*
 * The bytes of x that end or spoil a JSON string - '"', '\\' and those
 * below 0x20 (RFC 8259 section 7) - as the top bit of each. Per byte,
 * (v - 1) & ~v has it set when v is 0, and (x - 0x20) & ~x when x is below
 * 0x20 (bytes of 0x80 and above never match: ~x clears the bit). Borrows
 * run upward only from a byte that matched, so a word without such a byte
 * is not marked at all, and the lowest addressed byte marked (the lowest
 * bit, on a little-endian host) is exact.
 */
static inline uint64_t ndl__string_stops(uint64_t x)
{
	uint64_t q = x ^ (NDL__ONES * '"'), b = x ^ (NDL__ONES * '\\');

	return (((q - NDL__ONES) & ~q) | ((b - NDL__ONES) & ~b) |
		((x - NDL__ONES * 0x20) & ~x)) & NDL__HIGHS;
}

/* Whether one of the 8 bytes of x is 0x80 or above (not ASCII). */
static inline int ndl__has_high(uint64_t x)
{
	return (x & NDL__HIGHS) != 0;
}

#endif /* NDL_PROTO_WORDSCAN_H */
