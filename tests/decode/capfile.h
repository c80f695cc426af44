/* SPDX-License-Identifier: MIT */
/*
 * capfile.h - one packet of one of the project's test captures
 * (tests/captures, found through $NDL_SOURCE_ROOT), copied into a heap
 * block of exactly its captured length so the address sanitizer sees any
 * read past its end.
 */
#ifndef NDL_TESTS_DECODE_CAPFILE_H
#define NDL_TESTS_DECODE_CAPFILE_H

#include <check.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cap_packet {
	uint8_t *data;       /* owned: free() it */
	uint32_t caplen;
	uint32_t wirelen;
	int linktype;
	long long ts_ns;
};

/*
 * Packet number index (0 for the first) of tests/captures/name. Fails the
 * test when the file or the packet is missing.
 */
static inline struct cap_packet cap_read(const char *name, unsigned int index)
{
	const char *root = getenv("NDL_SOURCE_ROOT");
	char path[4096], errbuf[PCAP_ERRBUF_SIZE];
	struct cap_packet out = { 0 };
	struct pcap_pkthdr *hdr;
	const u_char *bytes;
	unsigned int i = 0;
	pcap_t *p;

	ck_assert_msg(root != NULL, "NDL_SOURCE_ROOT is not set");
	snprintf(path, sizeof(path), "%s/tests/captures/%s", root, name);
	p = pcap_open_offline(path, errbuf);
	ck_assert_msg(p != NULL, "%s: %s", path, errbuf);
	while (pcap_next_ex(p, &hdr, &bytes) == 1) {
		if (i++ != index)
			continue;
		out.data = malloc(hdr->caplen ? hdr->caplen : 1);
		ck_assert_ptr_nonnull(out.data);
		memcpy(out.data, bytes, hdr->caplen);
		out.caplen = hdr->caplen;
		out.wirelen = hdr->len;
		out.linktype = pcap_datalink(p);
		out.ts_ns = (long long)hdr->ts.tv_sec * 1000000000LL +
			    (long long)hdr->ts.tv_usec * 1000LL;
		break;
	}
	pcap_close(p);
	ck_assert_msg(out.data != NULL, "%s has no packet %u", path, index);
	return out;
}

#endif /* NDL_TESTS_DECODE_CAPFILE_H */
