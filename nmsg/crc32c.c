/* SPDX-License-Identifier: MIT */
/*
 * crc32c.c - CRC-32C (Castagnoli polynomial 0x1EDC6F41, reflected
 * 0x82F63B78), as in RFC 3720 appendix B.4: initial value and final XOR
 * 0xFFFFFFFF. One table, built on first use.
 */
#include <stdbool.h>
#include "nmsg.h"

static uint32_t table[256];
static bool table_ready;

static void build_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		table[i] = c;
	}
	table_ready = true;
}

uint32_t ndl__crc32c(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t c = 0xFFFFFFFFu;

	if (!table_ready)
		build_table();
	for (size_t i = 0; i < len; i++)
		c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

uint32_t ndl__nmsg_crc_wire(uint32_t crc)
{
	return ((crc & 0xffu) << 24) | ((crc & 0xff00u) << 8) | ((crc >> 8) & 0xff00u) |
	       (crc >> 24);
}
