/* SPDX-License-Identifier: MIT */
/*
 * nmsg.h - Farsight's NMSG container format, read and written: the
 * 10-byte header, zlib-compressed bodies, fragments and their
 * reassembly, payload CRC-32C, sequence numbers, and the base vendor's
 * packet, pkt, ipconn and encode messages. See docs/nmsg.md.
 *
 * Header (all big-endian):
 *
 *    0      4         5        6               10
 *    +------+---------+--------+----------------+------------------+
 *    | NMSG | version | flags  | length (u32)   | body (length)    |
 *    +------+---------+--------+----------------+------------------+
 *
 * version 2; flags 0x01 zlib (body: u32 BE inflated length, then a zlib
 * stream, RFC 1950/1951), 0x02 fragment (body: NmsgFragment). The body
 * is the protobuf message Nmsg (pb.h).
 *
 * Nothing here does I/O: readers are fed bytes, writers hand containers to
 * a callback. Everything is single-threaded; one object per thread.
 */
#ifndef NDL_NMSG_H
#define NDL_NMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "pb.h"

#define NDL__NMSG_MAGIC "NMSG"
#define NDL__NMSG_VERSION 2
#define NDL__NMSG_HDR_LEN 10
#define NDL__NMSG_FLAG_ZLIB 0x01
#define NDL__NMSG_FLAG_FRAGMENT 0x02

/* The base vendor and its message types (nmsg's base/ module). */
#define NDL__NMSG_VID_BASE 1
#define NDL__NMSG_BASE_IPCONN 5
#define NDL__NMSG_BASE_PKT 8
#define NDL__NMSG_BASE_ENCODE 11
#define NDL__NMSG_BASE_PACKET 12

/* base:packet payload_type, base:encode type. */
#define NDL__NMSG_PACKET_IP 1
#define NDL__NMSG_ENCODE_TEXT 0
#define NDL__NMSG_ENCODE_JSON 1

/* Reader defaults and hard limits. */
#define NDL__NMSG_DEFAULT_MAX_CONTAINER (16u << 20)  /* body bytes, also once inflated */
#define NDL__NMSG_DEFAULT_MAX_PAYLOADS 65536         /* per container */
#define NDL__NMSG_DEFAULT_FRAG_SETS 64               /* sets being reassembled at once */
#define NDL__NMSG_DEFAULT_FRAG_BYTES (32u << 20)     /* bytes held by those sets */
#define NDL__NMSG_DEFAULT_FRAGMENTS 4096             /* fragments in one set */
#define NDL__NMSG_DEFAULT_FRAG_TIMEOUT_NS 10000000000LL
#define NDL__NMSG_SEQ_STREAMS 64                     /* senders followed for gaps */

/* Writer limits: container size (header included). */
#define NDL__NMSG_MIN_CONTAINER 128
#define NDL__NMSG_MAX_CONTAINER (1u << 20)
#define NDL__NMSG_DEFAULT_CONTAINER 8192

/*
 * CRC-32C (Castagnoli, RFC 3720 appendix B.4) of len bytes. NMSG stores
 * the CRC of a payload, and of a whole fragmented message, in network
 * byte order read as a host (little-endian) number: the stored value is
 * ndl__nmsg_crc_wire(crc).
 */
uint32_t ndl__crc32c(const void *data, size_t len);
/* The value NMSG stores for CRC crc (its bytes swapped). */
uint32_t ndl__nmsg_crc_wire(uint32_t crc);

/* One NMSG payload (NmsgPayload). Pointers are borrowed. */
struct ndl__nmsg_payload {
	uint32_t vid;
	uint32_t msgtype;
	int64_t time_sec;
	uint32_t time_nsec;
	const uint8_t *data;      /* the message (field 5); NULL when absent */
	size_t len;
	bool has_source, has_operator, has_group;
	uint32_t source;
	uint32_t operator_id;
	uint32_t group;
};

/* Why an input was refused; counted by the reader. */
enum ndl__nmsg_error {
	NDL__NMSG_ERR_NONE = 0,
	NDL__NMSG_ERR_MAGIC,        /* no "NMSG" where a container starts */
	NDL__NMSG_ERR_VERSION,      /* a version other than 2 */
	NDL__NMSG_ERR_FLAGS,        /* unknown flag bits */
	NDL__NMSG_ERR_TRUNCATED,    /* the input ended inside a container */
	NDL__NMSG_ERR_TOO_LARGE,    /* a container (or its inflated body) above the limit */
	NDL__NMSG_ERR_TRAILING,     /* a datagram longer than its container */
	NDL__NMSG_ERR_ZLIB,         /* a compressed body that does not inflate to its length */
	NDL__NMSG_ERR_PROTOBUF,     /* an Nmsg or NmsgFragment that is not valid protobuf */
	NDL__NMSG_ERR_PAYLOAD,      /* an NmsgPayload without vid, msgtype or time */
	NDL__NMSG_ERR_CRC,          /* a payload whose CRC-32C does not match */
	NDL__NMSG_ERR_FRAGMENT,     /* a fragment that contradicts its set, or a bad set CRC */
	NDL__NMSG_ERR_FRAG_LIMIT,   /* a fragment set dropped: too many sets, fragments or bytes */
	NDL__NMSG_ERR_FRAG_TIMEOUT, /* a fragment set dropped incomplete after the timeout */
	NDL__NMSG_ERR_COUNT
};

/* Short name of an error ("truncated"), for counters. */
const char *ndl__nmsg_error_name(enum ndl__nmsg_error e);

struct ndl__nmsg_reader_config {
	size_t max_container;        /* 0: NDL__NMSG_DEFAULT_MAX_CONTAINER */
	size_t max_payloads;         /* 0: NDL__NMSG_DEFAULT_MAX_PAYLOADS */
	size_t max_frag_sets;        /* 0: NDL__NMSG_DEFAULT_FRAG_SETS */
	size_t max_frag_bytes;       /* 0: NDL__NMSG_DEFAULT_FRAG_BYTES */
	uint32_t max_fragments;      /* 0: NDL__NMSG_DEFAULT_FRAGMENTS */
	int64_t frag_timeout_ns;     /* 0: NDL__NMSG_DEFAULT_FRAG_TIMEOUT_NS */
	bool filter_vid;             /* only payloads of this vendor ... */
	uint32_t vid;
	bool filter_msgtype;         /* ... and, if set, this message type */
	uint32_t msgtype;
	bool no_crc_check;           /* ignore payload CRCs */
};

struct ndl__nmsg_reader_stats {
	uint64_t containers;         /* containers read whole (fragments included) */
	uint64_t bytes;              /* bytes fed */
	uint64_t zlib;               /* compressed bodies inflated */
	uint64_t fragments;          /* fragment containers taken */
	uint64_t reassembled;        /* fragment sets completed */
	uint64_t payloads;           /* payloads delivered */
	uint64_t filtered;           /* payloads the vendor/type filter held back */
	uint64_t crc_checked;        /* payloads whose CRC matched */
	uint64_t seq_gaps;           /* jumps forward in a sender's sequence number */
	uint64_t seq_lost;           /* containers missing in those jumps */
	uint64_t seq_untracked;      /* containers from senders past NDL__NMSG_SEQ_STREAMS */
	uint64_t errors;             /* sum of by_error */
	uint64_t by_error[NDL__NMSG_ERR_COUNT];
};

/*
 * Called for each payload that passed the filter, in order; p and its
 * bytes are borrowed for the call. A negative return stops the reader's
 * current call, which returns it.
 */
typedef int (*ndl__nmsg_payload_fn)(void *arg, const struct ndl__nmsg_payload *p);
/* Called with a one-line message for an error (rate-limited per kind). */
typedef void (*ndl__nmsg_error_fn)(void *arg, enum ndl__nmsg_error e, const char *msg);

struct ndl__nmsg_reader;

/*
 * A reader delivering payloads to on_payload and error messages to
 * on_error (NULL: none). cfg is copied. Returns NULL with errno set.
 */
struct ndl__nmsg_reader *ndl__nmsg_reader_new(const struct ndl__nmsg_reader_config *cfg,
					      ndl__nmsg_payload_fn on_payload,
					      ndl__nmsg_error_fn on_error, void *arg);
/* Free the reader and any fragments it holds. NULL is a no-op. */
void ndl__nmsg_reader_free(struct ndl__nmsg_reader *r);

/*
 * Stream input (a file, a pipe): feed len bytes, any split. Complete
 * containers are processed at once, the rest is kept (at most one
 * container). Returns 0; -EBADMSG when the stream cannot go on (bad magic
 * or version, a container above the limit: counted and reported once,
 * later calls return -EBADMSG too); -ENOMEM; or on_payload's negative
 * return.
 */
int ndl__nmsg_reader_feed(struct ndl__nmsg_reader *r, const uint8_t *data, size_t len);
/*
 * End of stream: bytes left over are a truncated container (counted,
 * reported). Returns 0, or -EBADMSG when the stream ended badly.
 */
int ndl__nmsg_reader_finish(struct ndl__nmsg_reader *r);

/*
 * Datagram input (UDP): one datagram holds one container. peer names the
 * sender (fragments and sequence numbers are followed per peer); now is
 * the current time for fragment timeouts. A bad datagram is counted and
 * skipped. Returns 0, -EBADMSG for a bad datagram, -ENOMEM, or
 * on_payload's negative return.
 */
int ndl__nmsg_reader_datagram(struct ndl__nmsg_reader *r, const uint8_t *data, size_t len,
			      uint64_t peer, int64_t now_ns);
/* Drop fragment sets older than the timeout at now_ns (counted). */
void ndl__nmsg_reader_expire(struct ndl__nmsg_reader *r, int64_t now_ns);

/* The reader's counters (borrowed; valid until the reader is freed). */
const struct ndl__nmsg_reader_stats *ndl__nmsg_reader_stats(const struct ndl__nmsg_reader *r);

/* ------------------------------------------------------------------------ */
/* Writer                                                                    */
/* ------------------------------------------------------------------------ */

struct ndl__nmsg_writer_config {
	size_t container_size;       /* largest container written, header included;
					0: NDL__NMSG_DEFAULT_CONTAINER; larger messages
					are fragmented */
	bool zlib;                   /* compress each container body */
	bool unbuffered;             /* one payload per container, written at once */
	bool sequence;               /* set sequence and sequence_id (for UDP) */
	uint64_t sequence_id;        /* with sequence: 0 picks a random one */
};

struct ndl__nmsg_writer_stats {
	uint64_t payloads;
	uint64_t containers;         /* fragment containers included */
	uint64_t fragmented;         /* messages written as fragments */
	uint64_t bytes;
};

/*
 * Called with one whole container (borrowed). A negative return is
 * handed back by the writer call that wrote.
 */
typedef int (*ndl__nmsg_write_fn)(void *arg, const uint8_t *data, size_t len);

struct ndl__nmsg_writer;

/*
 * A writer handing containers to write. cfg is copied. Returns NULL with
 * errno set (EINVAL: container size out of range).
 */
struct ndl__nmsg_writer *ndl__nmsg_writer_new(const struct ndl__nmsg_writer_config *cfg,
					      ndl__nmsg_write_fn write, void *arg);
/*
 * Add one payload (copied). Writes the pending container first when the
 * payload would not fit; unbuffered writes at once. Returns 0, -EMSGSIZE
 * for a payload over 16 MiB or a message that would need more than
 * NDL__NMSG_DEFAULT_FRAGMENTS fragments (the pending payloads are then
 * lost), -ENOMEM, or write's negative return.
 */
int ndl__nmsg_writer_add(struct ndl__nmsg_writer *w, const struct ndl__nmsg_payload *p);
/* Write the pending container, if any. Returns 0 or a negative errno. */
int ndl__nmsg_writer_flush(struct ndl__nmsg_writer *w);
/* The writer's counters (borrowed). */
const struct ndl__nmsg_writer_stats *ndl__nmsg_writer_stats(const struct ndl__nmsg_writer *w);
/* Free without writing what is pending. NULL is a no-op. */
void ndl__nmsg_writer_free(struct ndl__nmsg_writer *w);

/* ------------------------------------------------------------------------ */
/* base vendor messages                                                      */
/* ------------------------------------------------------------------------ */

/* base:packet: { payload_type = 1; payload = 2 } */
struct ndl__nmsg_packet {
	bool has_payload_type;
	uint32_t payload_type;       /* NDL__NMSG_PACKET_IP */
	const uint8_t *data;         /* an IPv4 or IPv6 datagram, borrowed */
	size_t len;
};

/* base:pkt: { payload = 1; len_frame = 2 } */
struct ndl__nmsg_pkt {
	const uint8_t *data;         /* a link-layer frame, borrowed */
	size_t len;
	bool has_len_frame;
	uint32_t len_frame;          /* the frame's length on the wire */
};

/* base:ipconn: { proto = 1; srcip = 2; srcport = 3; dstip = 4; dstport = 5 } */
struct ndl__nmsg_ipconn {
	bool has_proto, has_srcport, has_dstport;
	uint32_t proto;
	uint32_t srcport, dstport;
	uint8_t srcip[16], dstip[16];
	size_t srcip_len, dstip_len; /* 0 absent, 4 or 16 */
};

/* base:encode: { type = 1; payload = 2 } */
struct ndl__nmsg_encode {
	uint32_t type;               /* NDL__NMSG_ENCODE_JSON, ... */
	const uint8_t *data;         /* borrowed */
	size_t len;
};

/*
 * Decode one base message from its payload bytes (borrowed; the result
 * points into them). Returns 0, or -EBADMSG for bad protobuf, a missing
 * required field or an address that is neither 4 nor 16 bytes.
 */
int ndl__nmsg_packet_decode(const uint8_t *data, size_t len, struct ndl__nmsg_packet *out);
int ndl__nmsg_pkt_decode(const uint8_t *data, size_t len, struct ndl__nmsg_pkt *out);
int ndl__nmsg_ipconn_decode(const uint8_t *data, size_t len, struct ndl__nmsg_ipconn *out);
int ndl__nmsg_encode_decode(const uint8_t *data, size_t len, struct ndl__nmsg_encode *out);

/*
 * Append the message's protobuf encoding to b. Returns 0 or the buffer's
 * negative errno.
 */
int ndl__nmsg_packet_encode(struct ndl__pb_buf *b, const struct ndl__nmsg_packet *m);
int ndl__nmsg_pkt_encode(struct ndl__pb_buf *b, const struct ndl__nmsg_pkt *m);
int ndl__nmsg_ipconn_encode(struct ndl__pb_buf *b, const struct ndl__nmsg_ipconn *m);
int ndl__nmsg_encode_encode(struct ndl__pb_buf *b, const struct ndl__nmsg_encode *m);

/*
 * Parse "VENDOR:TYPE", "VENDOR" or numbers ("1:12") into a reader
 * filter. Names known: vendor "base"; types "packet", "pkt", "ipconn",
 * "encode". Returns 0 or -EINVAL.
 */
int ndl__nmsg_parse_filter(const char *s, struct ndl__nmsg_reader_config *cfg);

/* Name of a base message type ("packet"), or NULL when not known. */
const char *ndl__nmsg_base_type_name(uint32_t msgtype);

#endif /* NDL_NMSG_H */
