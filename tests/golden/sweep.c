/* SPDX-License-Identifier: MIT */
/*
 * sweep - every capture of a folder through every chef of a chef folder,
 * in one process, through the real kitchen core (decoder, host, JSON
 * writer, envelope). Many of the captures are deliberately malformed.
 *
 * Asserts: no crash (and, in the sanitizer build, no report); every
 * dumpling produced is valid JSON with a complete envelope whose chef is
 * one that was loaded. Prints totals and decode errors by name.
 *
 * usage: sweep CHEF_DIR CAPTURE_DIR
 * Exits 0 on success, 1 on a failed assertion, 77 when CAPTURE_DIR is absent.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kitchen.h"
#include "decode.h"

struct sweep {
	struct ndl_kitchen *kitchen;
	const char *file;
	unsigned long dumplings;
	unsigned long bad;
};

static int sink_write(void *arg, const char *json, size_t len, enum ndl_driver driver)
{
	struct sweep *s = arg;
	json_error_t jerr;
	json_t *root = json_loadb(json, len, 0, &jerr);
	json_t *meta = root ? json_object_get(root, "metadata") : NULL;
	const char *chef = json_string_value(json_object_get(meta, "chef"));
	const char *drv = json_string_value(json_object_get(meta, "driver"));
	bool known = false;

	for (size_t i = 0; chef && i < ndl__kitchen_chef_count(s->kitchen); i++)
		known |= strcmp(chef, ndl__kitchen_chef(s->kitchen, i)->name) == 0;

	if (!root || !known || !drv || !json_is_number(json_object_get(meta, "creation_time")) ||
	    !json_object_get(root, "payload") ||
	    strcmp(drv, driver == NDL_DRIVER_PACKET ? "packet" : "interval") != 0) {
		fprintf(stderr, "%s: bad dumpling (%s): %.*s\n", s->file,
			root ? "envelope" : jerr.text, (int)(len > 400 ? 400 : len), json);
		s->bad++;
	}
	json_decref(root);
	s->dumplings++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void warn(void *arg, const char *msg)
{
	fprintf(stderr, "chef: %s\n", msg);
}

/* Replay one capture through a fresh kitchen holding every chef. */
static int sweep_file(const struct ndl_chef_catalog *cat, const char *path,
		      const char *name, struct sweep *s, uint64_t errors[NDL_DECODE_ERROR_COUNT])
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	char err[256];
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!p)
		return -ENOENT;   /* libpcap cannot read it: not our concern */

	s->file = name;
	s->kitchen = ndl__kitchen_new("sweep", (struct ndl_sink){ sink_write, s });
	if (!s->kitchen) {
		pcap_close(p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cat->n; i++) {
		if (ndl__kitchen_add_chef(s->kitchen, cat->modules[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: cannot start %s: %s\n", name, cat->modules[i]->desc->name, err);
			s->bad++;
		}
	}
	int linktype = pcap_datalink(p);
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		ndl_time_ns ts = (ndl_time_ns)h->ts.tv_sec * 1000000000 + h->ts.tv_usec;
		ndl__kitchen_packet(s->kitchen, linktype, data, h->caplen, h->len, ts);
	}
	ndl__kitchen_interval(s->kitchen);
	const struct ndl_kitchen_stats *st = ndl__kitchen_stats(s->kitchen);
	for (int e = 0; e < NDL_DECODE_ERROR_COUNT; e++)
		errors[e] += st->decode_errors[e];
	ndl__kitchen_free(s->kitchen);
	s->kitchen = NULL;
	pcap_close(p);
	return 0;
}

int main(int argc, char **argv)
{
	struct ndl_chef_catalog cat = { 0 };
	uint64_t errors[NDL_DECODE_ERROR_COUNT] = { 0 };
	struct sweep s = { 0 };
	unsigned long files = 0, unreadable = 0;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	if (argc != 3) {
		fprintf(stderr, "usage: sweep CHEF_DIR CAPTURE_DIR\n");
		return 2;
	}
	d = opendir(argv[2]);
	if (!d) {
		printf("SKIP: no capture folder %s\n", argv[2]);
		return 77;
	}
	int nchefs = ndl__chef_catalog_scan(&cat, argv[1], warn, NULL);
	if (nchefs < 3) {
		fprintf(stderr, "expected the three built-in chefs in %s, found %d\n", argv[1], nchefs);
		closedir(d);
		ndl__chef_catalog_free(&cat);
		return 1;
	}
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (!((l > 5 && !strcmp(de->d_name + l - 5, ".pcap")) ||
		      (l > 7 && !strcmp(de->d_name + l - 7, ".pcapng"))))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			char **nn = realloc(names, cap * sizeof(*names));
			if (!nn)
				abort();
			names = nn;
		}
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);

	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", argv[2], names[i]);
		if (sweep_file(&cat, path, names[i], &s, errors) < 0)
			unreadable++;
		else
			files++;
		free(names[i]);
	}
	free(names);

	printf("%lu captures through %d chefs (%lu unreadable by libpcap): %lu dumplings, %lu bad\n",
	       files, nchefs, unreadable, s.dumplings, s.bad);
	for (int e = 1; e < NDL_DECODE_ERROR_COUNT; e++)
		if (errors[e])
			printf("  decode error %-24s %llu\n", ndl_decode_error_name((unsigned)e),
			       (unsigned long long)errors[e]);
	ndl__chef_catalog_free(&cat);
	if (files < 700 || s.dumplings == 0 || s.bad) {
		fprintf(stderr, "FAIL: files=%lu dumplings=%lu bad=%lu\n", files, s.dumplings, s.bad);
		return 1;
	}
	return 0;
}
