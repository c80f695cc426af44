/* SPDX-License-Identifier: MIT */
/*
 * nd-bench-pcaploop - the limit of offline reading: libpcap reads a capture
 * file and hands every packet to a callback that does nothing with it.
 *
 *   nd-bench-pcaploop FILE    prints {"packets": N, "bytes": B, "seconds": S}
 *
 * The kitchen benchmark sets every kitchen figure against this one. The
 * bytes are added up so that the compiler cannot drop the loop, and so
 * that each packet header is read, as any real reader would.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct tally {
	uint64_t packets;
	uint64_t bytes;
};

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct tally *t = (struct tally *)user;

	t->packets++;
	t->bytes += h->caplen;
}

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct tally t = { 0 };
	struct timespec a, b;
	pcap_t *p;
	int rc;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "Usage: nd-bench-pcaploop FILE\n"
			"Read the pcap or pcapng FILE with libpcap, doing nothing with each "
			"packet;\nprint the packets, bytes and seconds as JSON.\n");
		return 2;
	}
	p = pcap_open_offline(argv[1], errbuf);
	if (!p) {
		fprintf(stderr, "nd-bench-pcaploop: %s\n", errbuf);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	rc = pcap_loop(p, -1, on_packet, (u_char *)&t);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "nd-bench-pcaploop: %s: %s\n", argv[1], pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	pcap_close(p);
	printf("{\"packets\": %llu, \"bytes\": %llu, \"seconds\": %.6f}\n",
	       (unsigned long long)t.packets, (unsigned long long)t.bytes,
	       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
