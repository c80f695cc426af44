/* SPDX-License-Identifier: MIT */
/*
 * linktypes.h - how the decode target and its seed extractor turn the first
 * input byte into a link type: the byte modulo the table's length indexes
 * the link types ndl__decode knows, plus one it does not (so the refusal
 * path runs too).
 */
#ifndef NDL_FUZZ_LINKTYPES_H
#define NDL_FUZZ_LINKTYPES_H

static const int fuzz_linktypes[] = {
	0,      /* DLT_NULL: BSD loopback, host-order family */
	1,      /* DLT_EN10MB: Ethernet II, 802.3, VLAN tags */
	12,     /* DLT_RAW */
	14,     /* DLT_RAW on OpenBSD */
	101,    /* LINKTYPE_RAW */
	108,    /* DLT_LOOP: network-order family */
	113,    /* DLT_LINUX_SLL */
	228,    /* DLT_IPV4 */
	229,    /* DLT_IPV6 */
	276,    /* DLT_LINUX_SLL2 */
	105,    /* DLT_IEEE802_11: not decoded, refused as unknown */
};

#define FUZZ_N_LINKTYPES (sizeof(fuzz_linktypes) / sizeof(fuzz_linktypes[0]))

#endif /* NDL_FUZZ_LINKTYPES_H */
