/* SPDX-License-Identifier: MIT */
/*
 * sweep.c - every packet of every capture in $NDL_SHARED_PCAPS through the
 * decoder and the DNS parser.
 *
 * The tcpdump project's test captures are full of malformed and cut
 * packets. This asserts only that decoding survives them; built with the
 * address sanitizer, any read outside a packet aborts the run, because each
 * packet is copied into a heap block of exactly its captured length first.
 * Every transport payload is also parsed as DNS, whatever its ports, and
 * every TCP payload goes through the HTTP and TLS hello parsers as a chef
 * would ask for them (any payload of any protocol is tried too).
 * It prints totals by decode, DNS, HTTP and TLS error.
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
	unsigned long tcp_payloads;
	unsigned long http_msgs, http_requests, http_err[NDL_HTTP_ERROR_COUNT];
	unsigned long tls_hellos, tls_client, tls_sni, tls_err[NDL_TLS_ERROR_COUNT];
	unsigned long http_forced, tls_forced; /* accepted from non-TCP payloads */
	/* every payload behind a request line / with a hello's first bytes */
	unsigned long http_forced_err[NDL_HTTP_ERROR_COUNT], tls_forced_err[NDL_TLS_ERROR_COUNT];
};

/* Parsers' storage, one of each, reused for every packet as the kitchen does. */
struct bufs {
	struct ndl__dns_buf dns;
	struct ndl__http_buf http;
	struct ndl__tls_buf tls;
};

/*
 * The payload dressed up as the start of a hello or of a request, in an
 * exact heap block, to run the parsers' inner loops over arbitrary bytes.
 */
static int force_app(const struct ndl_packet *pkt, struct bufs *b, struct totals *t)
{
	static const char start[] = "GET / HTTP/1.1\r\n";
	size_t n = pkt->payload_len, sl = sizeof(start) - 1;
	uint8_t *m = malloc(n + sl);

	if (m == NULL)
		return -ENOMEM;
	if (n >= 6) {
		memcpy(m, pkt->payload, n);
		m[0] = 22;
		m[1] = 3;
		m[5] = (uint8_t)(1 + (n & 1));
		if (ndl__tls_parse(&b->tls, m, n) == 0)
			t->tls_forced_err[b->tls.hello.error < NDL_TLS_ERROR_COUNT ?
					  b->tls.hello.error : 0]++;
	}
	free(m);
	m = malloc(n + sl);
	if (m == NULL)
		return -ENOMEM;
	memcpy(m, start, sl);
	memcpy(m + sl, pkt->payload, n);
	if (ndl__http_parse(&b->http, m, n + sl) == 0)
		t->http_forced_err[b->http.http.error < NDL_HTTP_ERROR_COUNT ?
				   b->http.http.error : 0]++;
	free(m);
	return 0;
}

/* HTTP and TLS on one packet's payload, as chefs ask for them. */
static int sweep_app(const struct ndl_packet *pkt, struct bufs *b, struct totals *t)
{
	const struct ndl_http *h;
	const struct ndl_tls_hello *th;

	if (!pkt->payload_len)
		return 0;
	if (pkt->layers & NDL_LAYER_TCP) {
		t->tcp_payloads++;
		h = ndl__http_from_packet(&b->http, pkt);
		if (h) {
			t->http_msgs++;
			t->http_requests += h->is_request;
			t->http_err[h->error < NDL_HTTP_ERROR_COUNT ? h->error : 0]++;
		}
		th = ndl__tls_from_packet(&b->tls, pkt);
		if (th) {
			t->tls_hellos++;
			t->tls_client += th->type == 1;
			t->tls_sni += th->sni.ptr != NULL;
			t->tls_err[th->error < NDL_TLS_ERROR_COUNT ? th->error : 0]++;
		}
	} else {
		if (ndl__http_parse(&b->http, pkt->payload, pkt->payload_len) == 0)
			t->http_forced++;
		if (ndl__tls_parse(&b->tls, pkt->payload, pkt->payload_len) == 0)
			t->tls_forced++;
	}
	return force_app(pkt, b, t);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int sweep_file(const char *path, struct bufs *b, struct totals *t)
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
		d = ndl__dns_from_packet(&b->dns, &pkt);
		if (d) {
			t->dns_msgs++;
			t->dns_err[d->error < NDL_DNS_ERROR_COUNT ? d->error : 0]++;
		}
		/* Every payload as DNS too, for the parser's sake: garbage mostly. */
		if (pkt.payload_len) {
			if (ndl__dns_parse(&b->dns, pkt.payload, pkt.payload_len, false) == 0)
				t->forced++;
			if (ndl__dns_parse(&b->dns, pkt.payload, pkt.payload_len, true) == 0)
				t->forced++;
		}
		if (sweep_app(&pkt, b, t) < 0) {
			free(copy);
			pcap_close(p);
			return -ENOMEM;
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

/*
 * Append dir/NAME for every NAME in dir ending in suffix to names.
 * Returns 0, or a negative errno (-ENOENT when dir does not exist).
 */
static int list_dir(const char *dir, const char *suffix, char ***names, size_t *n, size_t *cap)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t sl = strlen(suffix);
	int rc = 0;

	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len < sl || strcmp(de->d_name + len - sl, suffix) != 0)
			continue;
		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 256;
			char **nn = realloc(*names, ncap * sizeof(*nn));

			if (nn == NULL) {
				rc = -ENOMEM;
				break;
			}
			*names = nn;
			*cap = ncap;
		}
		(*names)[*n] = malloc(strlen(dir) + len + 2);
		if ((*names)[*n] == NULL) {
			rc = -ENOMEM;
			break;
		}
		sprintf((*names)[*n], "%s/%s", dir, de->d_name);
		(*n)++;
	}
	closedir(d);
	return rc;
}

int main(void)
{
	const char *dir = getenv("NDL_SHARED_PCAPS");
	struct bufs *bufs = NULL;
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

	/* This project's own captures hold the HTTP and TLS the shared ones lack. */
	if (getenv("NDL_SOURCE_ROOT") != NULL) {
		char own[4096];
		size_t before = n;
		int rc;

		snprintf(own, sizeof(own), "%s/tests/captures", getenv("NDL_SOURCE_ROOT"));
		rc = list_dir(own, ".pcap", &names, &n, &cap);
		if (rc < 0 && rc != -ENOENT) {
			fprintf(stderr, "sweep: cannot read %s: %s\n", own, strerror(-rc));
			goto free_names;
		}
		qsort(names + before, n - before, sizeof(*names), by_name);
		printf("sweep: %zu captures of %s added\n", n - before, own);
	}

	bufs = malloc(sizeof(*bufs));
	if (bufs == NULL)
		goto free_names;
	for (i = 0; i < n; i++) {
		int rc = sweep_file(names[i], bufs, &t);

		if (rc < 0) {
			fprintf(stderr, "sweep: %s: %s\n", names[i], strerror(-rc));
			goto free_bufs;
		}
	}

	printf("sweep: %lu captures read (%lu of them damaged part way), %lu files refused by libpcap\n",
	       t.files, t.cut_short, t.refused);
	printf("sweep: %lu packets, %lu bytes\n", t.packets, t.bytes);
	printf("decode errors:\n");
	for (i = 0; i < NDL_DECODE_ERROR_COUNT; i++)
		printf("  %-20s %lu\n", ndl_decode_error_name((unsigned int)i), t.decode_err[i]);
	printf("dns: %lu messages\n", t.dns_msgs);
	for (i = 0; i < NDL_DNS_ERROR_COUNT; i++)
		printf("  %-20s %lu\n", ndl_dns_error_name((unsigned int)i), t.dns_err[i]);
	printf("dns: %lu other payloads parsed as DNS to exercise the parser\n", t.forced);
	printf("http: %lu of %lu TCP payloads start an HTTP message (%lu requests)\n",
	       t.http_msgs, t.tcp_payloads, t.http_requests);
	for (i = 0; i < NDL_HTTP_ERROR_COUNT; i++)
		printf("  %-20s %lu\n", ndl_http_error_name((unsigned int)i), t.http_err[i]);
	printf("tls: %lu hellos (%lu ClientHellos, %lu with SNI)\n", t.tls_hellos, t.tls_client,
	       t.tls_sni);
	for (i = 0; i < NDL_TLS_ERROR_COUNT; i++)
		printf("  %-20s %lu\n", ndl_tls_error_name((unsigned int)i), t.tls_err[i]);
	printf("http/tls: %lu and %lu non-TCP payloads accepted when forced through the parsers\n",
	       t.http_forced, t.tls_forced);
	printf("http: every payload behind a request line:\n");
	for (i = 0; i < NDL_HTTP_ERROR_COUNT; i++)
		printf("  %-20s %lu\n", ndl_http_error_name((unsigned int)i), t.http_forced_err[i]);
	printf("tls: every payload of 6 bytes or more with a hello's first bytes:\n");
	for (i = 0; i < NDL_TLS_ERROR_COUNT; i++)
		printf("  %-20s %lu\n", ndl_tls_error_name((unsigned int)i), t.tls_forced_err[i]);
	if (t.files == 0) {
		fprintf(stderr, "sweep: no capture in %s could be opened\n", dir);
		goto free_bufs;
	}
	status = EXIT_SUCCESS;
free_bufs:
	free(bufs);
free_names:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return status;
}
