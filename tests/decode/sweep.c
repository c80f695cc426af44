/* SPDX-License-Identifier: MIT */
/*
 * sweep.c - every packet of every capture in $NDL_SHARED_PCAPS through the
 * decoder and the DNS parser.
 *
 * The tcpdump project's test captures are full of malformed and cut
 * packets. This asserts only that decoding survives them; built with the
 * address sanitizer, any read outside a packet aborts the run, because each
 * packet is copied into a heap block of exactly its captured length first.
 * Every transport payload is also parsed as DNS, whatever its ports.
 * It prints totals by decode and DNS error.
 *
 * Exit status: 0 done, 77 (skip) when the folder does not exist, 1 when it
 * cannot be read or holds no capture libpcap opens.
 */
#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "decode.h"

#define EXIT_SKIP 77

struct totals {
	unsigned long files, refused, cut_short, packets, bytes;
	unsigned long decode_err[NDL_DECODE_ERROR_COUNT];
	unsigned long dns_msgs, dns_err[NDL_DNS_ERROR_COUNT];
	unsigned long forced;    /* any payload parsed as DNS, both framings */
};

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int sweep_file(const char *path, struct ndl__dns_buf *dns, struct totals *t)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *bytes;
	pcap_t *p;
	int lt, rc;

	p = pcap_open_offline(path, errbuf);
	if (p == NULL) {
		t->refused++;
		return 0;
	}
	t->files++;
	lt = pcap_datalink(p);
	while ((rc = pcap_next_ex(p, &hdr, &bytes)) == 1) {
		struct ndl_packet pkt;
		const struct ndl_dns *d;
		uint8_t *copy = malloc(hdr->caplen ? hdr->caplen : 1);
		ndl_time_ns ts = (ndl_time_ns)hdr->ts.tv_sec * 1000000000 +
				 (ndl_time_ns)hdr->ts.tv_usec * 1000;
		int err;

		if (copy == NULL) {
			pcap_close(p);
			return -ENOMEM;
		}
		memcpy(copy, bytes, hdr->caplen);
		err = ndl__decode(&pkt, lt, copy, hdr->caplen, hdr->len, ts);
		if (err < 0 || err >= NDL_DECODE_ERROR_COUNT) {
			fprintf(stderr, "sweep: %s: decode returned %d\n", path, err);
			free(copy);
			pcap_close(p);
			return -EPROTO;
		}
		t->decode_err[err]++;
		d = ndl__dns_from_packet(dns, &pkt);
		if (d) {
			t->dns_msgs++;
			t->dns_err[d->error < NDL_DNS_ERROR_COUNT ? d->error : 0]++;
		}
		/* Every payload as DNS too, for the parser's sake: garbage mostly. */
		if (pkt.payload_len) {
			if (ndl__dns_parse(dns, pkt.payload, pkt.payload_len, false) == 0)
				t->forced++;
			if (ndl__dns_parse(dns, pkt.payload, pkt.payload_len, true) == 0)
				t->forced++;
		}
		t->packets++;
		t->bytes += hdr->caplen;
		free(copy);
	}
	if (rc == PCAP_ERROR)
		t->cut_short++;   /* a damaged file: libpcap stops reading it */
	pcap_close(p);
	return 0;
}

int main(void)
{
	const char *dir = getenv("NDL_SHARED_PCAPS");
	struct ndl__dns_buf *dns = NULL;
	struct totals t;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	DIR *d;
	int status = EXIT_FAILURE;

	memset(&t, 0, sizeof(t));
	if (dir == NULL || *dir == '\0') {
		printf("sweep: NDL_SHARED_PCAPS is not set: skipping\n");
		return EXIT_SKIP;
	}
	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT) {
			printf("sweep: %s does not exist: skipping\n", dir);
			return EXIT_SKIP;
		}
		fprintf(stderr, "sweep: cannot read %s: %s\n", dir, strerror(errno));
		return EXIT_FAILURE;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			char **nn = realloc(names, ncap * sizeof(*nn));

			if (nn == NULL)
				goto free_names;
			names = nn;
			cap = ncap;
		}
		names[n] = malloc(strlen(dir) + strlen(de->d_name) + 2);
		if (names[n] == NULL)
			goto free_names;
		sprintf(names[n], "%s/%s", dir, de->d_name);
		n++;
	}
	qsort(names, n, sizeof(*names), by_name);

	dns = malloc(sizeof(*dns));
	if (dns == NULL)
		goto free_names;
	for (i = 0; i < n; i++) {
		int rc = sweep_file(names[i], dns, &t);

		if (rc < 0) {
			fprintf(stderr, "sweep: %s: %s\n", names[i], strerror(-rc));
			goto free_dns;
		}
	}

	printf("sweep: %lu captures read (%lu of them damaged part way), %lu files refused by libpcap\n",
	       t.files, t.cut_short, t.refused);
	printf("sweep: %lu packets, %lu bytes\n", t.packets, t.bytes);
	printf("decode errors:\n");
	for (i = 0; i < NDL_DECODE_ERROR_COUNT; i++)
		printf("  %-20s %lu\n", ndl__decode_error_name((unsigned int)i), t.decode_err[i]);
	printf("dns: %lu messages\n", t.dns_msgs);
	for (i = 0; i < NDL_DNS_ERROR_COUNT; i++)
		printf("  %-20s %lu\n", ndl__dns_error_name((unsigned int)i), t.dns_err[i]);
	printf("dns: %lu other payloads parsed as DNS to exercise the parser\n", t.forced);
	if (t.files == 0) {
		fprintf(stderr, "sweep: no capture in %s could be opened\n", dir);
		goto free_dns;
	}
	status = EXIT_SUCCESS;
free_dns:
	free(dns);
free_names:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return status;
}
