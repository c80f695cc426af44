/* SPDX-License-Identifier: MIT */
/*
 * dumpling.c - writing and reading the benchmark's dumplings without a
 * JSON library: both ends must be cheap enough that the hub, not the load
 * programs, is what the benchmark measures.
 */
#define _GNU_SOURCE   /* memmem */
#include <string.h>

#include "dumpling.h"

/* Host names of a few lengths, so sizes vary as real lookups do. */
static const char *const hosts[8] = {
	"r3---sn-4g5e6nzl.googlevideo.com",
	"www.example.org",
	"incoming.telemetry.mozilla.org",
	"api.github.com",
	"cdn.jsdelivr.net",
	"safebrowsing.googleapis.com",
	"time.cloudflare.com",
	"detectportal.firefox.com",
};

static char *put(char *o, const char *s)
{
	size_t n = strlen(s);

	memcpy(o, s, n);
	return o + n;
}

static char *put_u64(char *o, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*o++ = tmp[--n];
	return o;
}

/* Seconds with six decimals, as our kitchen writes creation_time. */
static char *put_time(char *o, uint64_t epoch_us)
{
	uint64_t frac = epoch_us % 1000000;

	o = put_u64(o, epoch_us / 1000000);
	*o++ = '.';
	for (uint64_t d = 100000; d; d /= 10)
		*o++ = (char)('0' + frac / d % 10);
	return o;
}

size_t ndl__bench_dumpling(char *out, unsigned kitchen, uint64_t seq, uint64_t epoch_us,
			   uint64_t sent_ns)
{
	const char *host = hosts[seq & 7];
	char *o = out;

	o = put(o, "{\"metadata\":{\"chef\":\"" NDL__BENCH_CHEF "\",\"kitchen\":\""
		NDL__BENCH_KITCHEN_PREFIX);
	o = put_u64(o, kitchen);
	o = put(o, "\",\"creation_time\":");
	o = put_time(o, epoch_us);
	o = put(o, ",\"driver\":\"packet\",\"seq\":");
	o = put_u64(o, seq);
	o = put(o, ",\"sent_ns\":");
	o = put_u64(o, sent_ns);
	o = put(o, "},\"payload\":{\"lookup\":{\"hostname\":\"");
	o = put(o, host);
	o = put(o, "\",\"when\":");
	o = put_time(o, epoch_us);
	o = put(o, ",\"qtype\":\"A\",\"is_response\":true,\"rcode\":\"NOERROR\","
		"\"answers\":[{\"name\":\"");
	o = put(o, host);
	o = put(o, "\",\"type\":\"A\",\"ttl\":300,\"data\":\"142.250.74.");
	o = put_u64(o, 1 + seq % 254);
	o = put(o, "\"}]}}}");
	return (size_t)(o - out);
}

/* The unsigned number right after key within p[0..len); false if none. */
static bool find_u64(const unsigned char *p, size_t len, const char *key, uint64_t *out)
{
	size_t klen = strlen(key);
	const unsigned char *k = memmem(p, len, key, klen), *end = p + len;
	uint64_t v = 0;
	int digits = 0;

	if (!k)
		return false;
	for (k += klen; k < end && *k >= '0' && *k <= '9' && digits < 20; k++, digits++)
		v = v * 10 + (uint64_t)(*k - '0');
	*out = v;
	return digits > 0;
}

enum ndl__bench_kind ndl__bench_read(const unsigned char *p, size_t len,
				     struct ndl__bench_seen *out)
{
	static const char head[] = "{\"metadata\":{\"chef\":\"";
	static const char ours[] = NDL__BENCH_CHEF "\"";
	static const char drops[] = "SystemDropsChef\"";
	static const char fixed[] = "{\"metadata\":{\"chef\":\"" NDL__BENCH_CHEF
				    "\",\"kitchen\":\"" NDL__BENCH_KITCHEN_PREFIX;
	const size_t hl = sizeof(head) - 1;
	size_t meta = len < 256 ? len : 256;   /* metadata is near the start */
	uint64_t k;

	out->kind = NDL__BENCH_OTHER;
	if (len < hl + sizeof(ours) || memcmp(p, head, hl))
		return out->kind;
	if (len > sizeof(fixed) + 24 && !memcmp(p, fixed, sizeof(fixed) - 1)) {
		/* Fast path: the bytes our kitchen wrote, forwarded unchanged. */
		const unsigned char *q = p + sizeof(fixed) - 1, *end = p + meta;
		const unsigned char *s;

		for (k = 0; q < end && *q >= '0' && *q <= '9'; q++)
			k = k * 10 + (uint64_t)(*q - '0');
		s = memmem(q, (size_t)(end - q), "\"seq\":", 6);
		if (k < NDL__BENCH_KITCHENS_MAX && s) {
			for (s += 6, out->seq = 0; s < end && *s >= '0' && *s <= '9'; s++)
				out->seq = out->seq * 10 + (uint64_t)(*s - '0');
			if (end - s > 11 && !memcmp(s, ",\"sent_ns\":", 11)) {
				for (s += 11, out->sent_ns = 0; s < end && *s >= '0' && *s <= '9'; s++)
					out->sent_ns = out->sent_ns * 10 + (uint64_t)(*s - '0');
				out->kitchen = (unsigned)k;
				out->kind = NDL__BENCH_OURS;
				return out->kind;
			}
		}
	}
	if (!memcmp(p + hl, ours, sizeof(ours) - 1)) {
		if (!find_u64(p, meta, "\"kitchen\":\"" NDL__BENCH_KITCHEN_PREFIX, &k) ||
		    k >= NDL__BENCH_KITCHENS_MAX ||
		    !find_u64(p, meta, "\"seq\":", &out->seq) ||
		    !find_u64(p, meta, "\"sent_ns\":", &out->sent_ns))
			return out->kind;
		out->kitchen = (unsigned)k;
		out->kind = NDL__BENCH_OURS;
	} else if (len >= hl + sizeof(drops) - 1 &&
		   !memcmp(p + hl, drops, sizeof(drops) - 1)) {
		out->dropped = 0;
		find_u64(p, len, "\"dropped\":", &out->dropped);
		out->kind = NDL__BENCH_DROPS;
	}
	return out->kind;
}
