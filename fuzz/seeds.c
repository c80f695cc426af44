/* SPDX-License-Identifier: MIT */
/*
 * seeds.c - ndl-fuzz-seeds: write a seed corpus for one fuzz target from
 * the captures and golden dumplings in the given folders.
 *
 *   ndl-fuzz-seeds KIND OUTDIR FOLDER...
 *
 * KIND is the target: decode (whole frames after their link type byte,
 * linktypes.h), dns (UDP payloads on ports 53 and 5353 after a 0 byte, TCP
 * payloads on port 53 after a 1 byte), http (TCP payloads that start like
 * an HTTP/1.x message), tls (TCP payloads that start with a TLS handshake
 * record), envelope (every line of every expected.jsonl) or jsonw (those
 * dumplings as writer operations, jsonw_ops.h). Folders are searched three
 * levels deep for *.pcap, *.pcapng and *.cap files, and for expected.jsonl.
 * Each seed is a file named after a hash of its bytes, so runs over the
 * same inputs write the same files.
 *
 * Exit status: 0 when at least one seed was written, 1 otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode.h"
#include "jsonw_ops.h"
#include "linktypes.h"

#define MAX_SEED_LEN 4096      /* longer frames and payloads are cut */
#define MAX_FRAMES_PER_CAPTURE 16    /* decode seeds from one capture, for variety */
#define MAX_PAYLOADS_PER_CAPTURE 64  /* and of the other packet kinds */
#define MAX_SEEDS 6000
#define MAX_UNKNOWN_LT 16      /* frames of link types the decoder refuses */

enum kind { K_DECODE, K_DNS, K_HTTP, K_TLS, K_ENVELOPE, K_JSONW };

static const char *const kind_names[] = {
	"decode", "dns", "http", "tls", "envelope", "jsonw",
};

struct seeds {
	enum kind kind;
	const char *outdir;
	unsigned long written;
	unsigned long unknown_lt;
};

/* A growing byte buffer; aborts the program when memory runs out. */
struct bytes {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct bytes *b, const void *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p) {
			fprintf(stderr, "ndl-fuzz-seeds: out of memory\n");
			exit(1);
		}
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void put_byte(struct bytes *b, uint8_t v)
{
	put(b, &v, 1);
}

static void put_u64(struct bytes *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		put_byte(b, (uint8_t)(v >> (8 * i)));
}

/* A length byte and at most 255 bytes of s. */
static void put_lstring(struct bytes *b, const char *s, size_t n)
{
	if (n > 255)
		n = 255;
	put_byte(b, (uint8_t)n);
	put(b, s, n);
}

/* Write one seed: a prefix byte (unless negative) and data, cut to MAX_SEED_LEN. */
static int write_seed(struct seeds *s, int prefix, const uint8_t *data, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;   /* FNV-1a */
	char path[4096];
	FILE *f;

	if (s->written >= MAX_SEEDS)
		return 0;
	if (len > MAX_SEED_LEN)
		len = MAX_SEED_LEN;
	if (prefix >= 0)
		h = (h ^ (uint8_t)prefix) * 0x100000001b3u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ data[i]) * 0x100000001b3u;
	snprintf(path, sizeof(path), "%s/%016llx", s->outdir, (unsigned long long)h);
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "ndl-fuzz-seeds: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (prefix >= 0)
		fputc(prefix, f);
	fwrite(data, 1, len, f);
	if (fclose(f) != 0) {
		fprintf(stderr, "ndl-fuzz-seeds: %s: write failed\n", path);
		return -EIO;
	}
	s->written++;
	return 1;
}

/* "GET / HTTP/1.1", "HTTP/1.0 200 OK": a token, a space, then more. */
static bool looks_http(const uint8_t *p, size_t n)
{
	size_t i = 0;

	if (n >= 7 && !memcmp(p, "HTTP/1.", 7))
		return true;
	while (i < n && i < 16 && p[i] >= 'A' && p[i] <= 'Z')
		i++;
	return i >= 3 && i < n && p[i] == ' ';
}

/* One packet's seed for the packet kinds; returns 1 when one was written. */
static int packet_seed(struct seeds *s, int lt_index, const uint8_t *frame,
		       uint32_t caplen, int linktype)
{
	struct ndl_packet pkt;
	const uint8_t *pl;
	bool udp, tcp;

	if (s->kind == K_DECODE)
		return write_seed(s, lt_index, frame, caplen);
	ndl__decode(&pkt, linktype, frame, caplen, caplen, 0);
	if (!pkt.payload_len)
		return 0;
	pl = pkt.payload;
	udp = pkt.layers & NDL_LAYER_UDP;
	tcp = pkt.layers & NDL_LAYER_TCP;
	switch (s->kind) {
	case K_DNS:
		if (udp && (pkt.sport == 53 || pkt.dport == 53 ||
			    pkt.sport == 5353 || pkt.dport == 5353))
			return write_seed(s, 0, pl, pkt.payload_len);
		if (tcp && (pkt.sport == 53 || pkt.dport == 53))
			return write_seed(s, 1, pl, pkt.payload_len);
		return 0;
	case K_HTTP:
		if (tcp && looks_http(pl, pkt.payload_len))
			return write_seed(s, -1, pl, pkt.payload_len);
		return 0;
	case K_TLS:
		if (tcp && pkt.payload_len >= 2 && pl[0] == 0x16 && pl[1] == 0x03)
			return write_seed(s, -1, pl, pkt.payload_len);
		return 0;
	default:
		return 0;
	}
}

static int from_capture(struct seeds *s, const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *bytes;
	int linktype, lt_index = -1, rc, kept = 0;
	int max = s->kind == K_DECODE ? MAX_FRAMES_PER_CAPTURE : MAX_PAYLOADS_PER_CAPTURE;
	pcap_t *p;

	p = pcap_open_offline(path, errbuf);
	if (!p)
		return 0;   /* a capture libpcap cannot read: not a seed source */
	linktype = pcap_datalink(p);
	for (size_t i = 0; i + 1 < FUZZ_N_LINKTYPES; i++) {
		if (fuzz_linktypes[i] == linktype)
			lt_index = (int)i;
	}
	if (lt_index < 0) {
		/* frames the decoder refuses: a few, for the decode target */
		if (s->kind != K_DECODE || s->unknown_lt >= MAX_UNKNOWN_LT) {
			pcap_close(p);
			return 0;
		}
		lt_index = (int)FUZZ_N_LINKTYPES - 1;
	}
	while (kept < max && (rc = pcap_next_ex(p, &hdr, &bytes)) == 1) {
		int w = packet_seed(s, lt_index, bytes, hdr->caplen, linktype);

		if (w < 0) {
			pcap_close(p);
			return w;
		}
		kept += w;
		if (w && lt_index == (int)FUZZ_N_LINKTYPES - 1 &&
		    ++s->unknown_lt >= MAX_UNKNOWN_LT)
			break;
	}
	pcap_close(p);
	return 0;
}

/* A JSON value as writer operations (jsonw_ops.h). */
static void encode_value(struct bytes *b, const json_t *v)
{
	const char *key;
	json_t *item;
	size_t i;
	double d;
	uint64_t u;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		put_byte(b, FZ_BEGIN_OBJECT);
		json_object_foreach((json_t *)v, key, item) {
			put_byte(b, FZ_KEY);
			put_lstring(b, key, strlen(key));
			encode_value(b, item);
		}
		put_byte(b, FZ_END_OBJECT);
		break;
	case JSON_ARRAY:
		put_byte(b, FZ_BEGIN_ARRAY);
		json_array_foreach(v, i, item)
			encode_value(b, item);
		put_byte(b, FZ_END_ARRAY);
		break;
	case JSON_STRING:
		put_byte(b, FZ_STRING);
		put_lstring(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		put_byte(b, FZ_INT64);
		put_u64(b, (uint64_t)json_integer_value(v));
		break;
	case JSON_REAL:
		d = json_real_value(v);
		memcpy(&u, &d, sizeof(u));
		put_byte(b, FZ_REAL);
		put_u64(b, u);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		put_byte(b, FZ_BOOL);
		put_byte(b, json_is_true(v));
		break;
	default:
		put_byte(b, FZ_NULL);
		break;
	}
}

/* A dumpling as an envelope and its payload in writer operations. */
static int jsonw_seed(struct seeds *s, const json_t *root, bool limited)
{
	json_t *meta = json_object_get(root, "metadata");
	const char *chef = json_string_value(json_object_get(meta, "chef"));
	const char *kitchen = json_string_value(json_object_get(meta, "kitchen"));
	const char *driver = json_string_value(json_object_get(meta, "driver"));
	double t = json_number_value(json_object_get(meta, "creation_time"));
	int64_t ns = t > -9e9 && t < 9e9 ? (int64_t)(t * 1e9) : 0;
	struct bytes b = { 0 };
	int rc;

	put_byte(&b, 0);   /* the limit, set below */
	put_byte(&b, FZ_ENVELOPE_BEGIN);
	put_lstring(&b, chef ? chef : "", chef ? strlen(chef) : 0);
	if (kitchen)
		put_lstring(&b, kitchen, strlen(kitchen) < FZ_NO_KITCHEN ?
			    strlen(kitchen) : FZ_NO_KITCHEN - 1);
	else
		put_byte(&b, FZ_NO_KITCHEN);
	put_u64(&b, (uint64_t)ns);
	put_byte(&b, driver && !strcmp(driver, "interval") ? 1 : 0);
	encode_value(&b, json_object_get(root, "payload"));
	put_byte(&b, FZ_ENVELOPE_END);
	if (limited)   /* about two thirds of the document fits */
		b.p[0] = (uint8_t)(b.len / 24 > 255 ? 255 : b.len / 24 + 1);
	rc = write_seed(s, -1, b.p, b.len);
	free(b.p);
	return rc;
}

static int from_jsonl(struct seeds *s, const char *path)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "ndl-fuzz-seeds: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	while (rc >= 0 && (n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (s->kind == K_ENVELOPE) {
			rc = write_seed(s, -1, (const uint8_t *)line, (size_t)n);
		} else {
			json_t *root = json_loadb(line, (size_t)n, 0, NULL);

			if (root) {
				rc = jsonw_seed(s, root, false);
				if (rc >= 0)
					rc = jsonw_seed(s, root, true);
			}
			json_decref(root);
		}
	}
	free(line);
	fclose(f);
	return rc < 0 ? rc : 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every source below dir, in name order, depth levels deep. */
static int walk(struct seeds *s, const char *dir, int depth)
{
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int rc = 0;
	DIR *d = opendir(dir);

	if (!d)
		return 0;   /* a folder that is not there gives no seeds */
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names) {
				closedir(d);
				return -ENOMEM;
			}
		}
		names[n] = strdup(e->d_name);
		if (!names[n++]) {
			closedir(d);
			return -ENOMEM;
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		bool json_kind = s->kind == K_ENVELOPE || s->kind == K_JSONW;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (rc < 0 || stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth > 1)
				rc = walk(s, path, depth - 1);
		} else if (json_kind && !strcmp(names[i], "expected.jsonl")) {
			rc = from_jsonl(s, path);
		} else if (!json_kind && (ends_with(names[i], ".pcap") ||
					  ends_with(names[i], ".pcapng") ||
					  ends_with(names[i], ".cap"))) {
			rc = from_capture(s, path);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	struct seeds s = { 0 };
	size_t k;

	if (argc < 4 || !strcmp(argv[1], "--help")) {
		bool help = argc >= 2 && !strcmp(argv[1], "--help");

		fprintf(help ? stdout : stderr,
			"usage: ndl-fuzz-seeds KIND OUTDIR FOLDER...\n"
			"Write seeds for the fuzz target KIND (decode, dns, http, tls,\n"
			"envelope, jsonw) into OUTDIR, which must exist, from the captures\n"
			"and expected.jsonl files in and below each FOLDER.\n");
		return help ? 0 : 2;
	}
	for (k = 0; k < sizeof(kind_names) / sizeof(kind_names[0]); k++) {
		if (!strcmp(argv[1], kind_names[k]))
			break;
	}
	if (k == sizeof(kind_names) / sizeof(kind_names[0])) {
		fprintf(stderr, "ndl-fuzz-seeds: unknown target kind '%s'\n", argv[1]);
		return 2;
	}
	s.kind = (enum kind)k;
	s.outdir = argv[2];
	for (int i = 3; i < argc; i++) {
		int rc = walk(&s, argv[i], 3);

		if (rc < 0) {
			fprintf(stderr, "ndl-fuzz-seeds: %s: %s\n", argv[i], strerror(-rc));
			return 1;
		}
	}
	printf("ndl-fuzz-seeds: %lu %s seeds in %s\n", s.written, argv[1], s.outdir);
	return s.written ? 0 : 1;
}
