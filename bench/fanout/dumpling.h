/* SPDX-License-Identifier: MIT */
/*
 * dumpling.h - the benchmark's dumpling: shaped like the DNSLookupChef
 * packet dumplings our kitchen sends (docs/protocol.md section 4, with the
 * chef's answer details), 330 to 370 bytes, numbered with metadata.seq and
 * stamped with the send time in metadata.sent_ns (CLOCK_MONOTONIC, which
 * every process on the machine shares), and how an eater reads those back.
 */
#ifndef NDL_BENCH_DUMPLING_H
#define NDL_BENCH_DUMPLING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NDL__BENCH_CHEF "DNSLookupChef"
#define NDL__BENCH_KITCHEN_PREFIX "bench-k"
#define NDL__BENCH_DUMPLING_MAX 512   /* room for one formatted dumpling */
#define NDL__BENCH_KITCHENS_MAX 64

/*
 * Format dumpling number seq of kitchen number kitchen into out (at least
 * NDL__BENCH_DUMPLING_MAX bytes), compact and without a line feed.
 * epoch_us is the creation time (CLOCK_REALTIME, microseconds), sent_ns
 * the send stamp. Returns its length.
 */
size_t ndl__bench_dumpling(char *out, unsigned kitchen, uint64_t seq, uint64_t epoch_us,
			   uint64_t sent_ns);

/* What an eater reads from the start of a received dumpling. */
enum ndl__bench_kind {
	NDL__BENCH_OURS,     /* a benchmark dumpling: kitchen, seq, sent_ns are set */
	NDL__BENCH_DROPS,    /* the hub's SystemDropsChef notice: dropped is set */
	NDL__BENCH_OTHER,    /* anything else (status dumplings) */
};

struct ndl__bench_seen {
	enum ndl__bench_kind kind;
	unsigned kitchen;
	uint64_t seq;
	uint64_t sent_ns;
	uint64_t dropped;
};

/*
 * Classify the dumpling in p[0..len) by reading only its metadata (and the
 * payload's "dropped" for a drop notice). Never reads past len. Returns
 * the kind; a benchmark dumpling whose numbers cannot be read is OTHER.
 */
enum ndl__bench_kind ndl__bench_read(const unsigned char *p, size_t len,
				     struct ndl__bench_seen *out);

#endif /* NDL_BENCH_DUMPLING_H */
