/* SPDX-License-Identifier: MIT */
/*
 * nmsg_input.h - NMSG as a packet source for the kitchen: a file or
 * standard input read as fast as the outbox allows, or a UDP listener
 * (docs/nmsg.md). base:packet payloads become raw-IP packets, base:pkt
 * payloads link-layer (Ethernet) frames and base:ipconn payloads
 * header-only TCP/UDP packets, each stamped with its payload's time.
 * Everything runs on the loop's thread.
 */
#ifndef NDL_KITCHEN_NMSG_INPUT_H
#define NDL_KITCHEN_NMSG_INPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>
#include "capture.h"
#include "kitchen.h"
#include "nmsg.h"

struct ndl__nmsg_input_config {
	const char *file;        /* an NMSG file, or "-" for standard input */
	const char *listen;      /* or "ADDR/PORT": a UDP listener */
	const char *filter;      /* "VENDOR[:TYPE]" (e.g. "base:packet"), NULL: all */
	const char *bpf;         /* pcap filter for the packets, NULL or "": all */
	ndl_time_ns poke_ns;     /* interval between interval handlers */
};

struct ndl__nmsg_input_stats {
	struct ndl__nmsg_reader_stats reader;
	uint64_t datagrams;      /* UDP datagrams received */
	uint64_t packets;        /* payloads handed to the kitchen as packets */
	uint64_t skipped;        /* payloads of a type that is not a packet */
	uint64_t bad_messages;   /* base messages that did not decode */
	uint64_t bpf_rejected;   /* packets the pcap filter left out */
	bool used;               /* an NMSG input ran */
};

struct ndl__nmsg_input;

/*
 * Open the file, standard input or the UDP socket of cfg (strings are
 * used during the call only). cb is copied: should_pause, on_end (end of
 * the file: 0; it ended badly: -EBADMSG), log. Returns 0 and *out, or a
 * negative errno with a one-line reason in err.
 */
int ndl__nmsg_input_open(uv_loop_t *loop, struct ndl_kitchen *k,
			 const struct ndl__nmsg_input_config *cfg,
			 const struct ndl__capture_callbacks *cb,
			 struct ndl__nmsg_input **out, char *err, size_t errlen);

/* Start reading (and the interval and fragment timers). Returns 0 or a negative errno. */
int ndl__nmsg_input_start(struct ndl__nmsg_input *in);

/* Continue after should_pause turned false. NULL is a no-op. */
void ndl__nmsg_input_resume(struct ndl__nmsg_input *in);

/* Copy the counters into *out. */
void ndl__nmsg_input_stats(const struct ndl__nmsg_input *in, struct ndl__nmsg_input_stats *out);

/* Write the counters as "nd-sniff: nmsg ..." lines (nothing when !st->used). */
void ndl__nmsg_input_print_stats(const struct ndl__nmsg_input_stats *st, FILE *out);

/*
 * Stop and close every handle; freed once libuv has closed them. Safe to
 * call more than once. NULL is a no-op.
 */
void ndl__nmsg_input_close(struct ndl__nmsg_input *in);

/*
 * Parse "ADDR/PORT" (IPv4 or IPv6 literal, port 1..65535) into *sa.
 * Returns 0 or -EINVAL.
 */
int ndl__nmsg_parse_addr(const char *s, struct sockaddr_storage *sa);

#endif /* NDL_KITCHEN_NMSG_INPUT_H */
