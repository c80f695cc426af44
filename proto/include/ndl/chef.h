/* SPDX-License-Identifier: MIT */
/*
 * ndl/chef.h - the chef plugin ABI of netdumplings.
 *
 * A chef is a shared object (.so) that turns packets and time into dumplings
 * (JSON documents). It exports exactly one symbol, NDL_CHEF_ENTRY_NAME, a
 * function returning a pointer to a constant descriptor. Everything a chef
 * needs from the kitchen (logging, emitting, the clock, configuration, the
 * shared protocol parsers) reaches it through the versioned host table
 * struct ndl_host; a chef never links against kitchen symbols.
 *
 * Versioning
 *   NDL_CHEF_ABI_MAJOR changes when an existing field changes meaning or
 *   position; the kitchen refuses a chef built for another major version.
 *   NDL_CHEF_ABI_MINOR grows when fields are appended to a struct; the
 *   kitchen refuses a chef built against a newer minor than its own, and
 *   serves older minors (every struct carries its size, and fields past the
 *   size a peer declares are treated as absent). Each field below is marked
 *   with the version that added it.
 *
 * Lifetime and threads
 *   The callbacks of one chef instance never run at the same time, and each
 *   one sees everything the previous ones did. They all run on the
 *   kitchen's loop thread, unless the chef sets NDL_CHEF_F_ANY_THREAD:
 *   then its packet and interval handlers may run on a thread the kitchen
 *   starts for some of its chefs (always the same thread, once moved
 *   there), beside other chefs on other threads. Chefs of one module always
 *   share a thread. init runs once before any packet; fini runs once at
 *   the end, also when init failed part way; both on the loop thread. Packet bytes and every pointer reachable
 *   from a struct ndl_packet or struct ndl_dns are borrowed for the duration
 *   of the callback only: copy what you keep.
 *
 * Errors
 *   Functions returning int return 0 on success or a negative errno value.
 */
#ifndef NDL_CHEF_H
#define NDL_CHEF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NDL_CHEF_ABI_MAJOR 1
#define NDL_CHEF_ABI_MINOR 1
#define NDL_CHEF_ABI_MAKE(major, minor) \
	((uint32_t)(((uint32_t)(major) << 16) | ((uint32_t)(minor) & 0xffffu)))
#define NDL_CHEF_ABI_VERSION NDL_CHEF_ABI_MAKE(NDL_CHEF_ABI_MAJOR, NDL_CHEF_ABI_MINOR)
#define NDL_CHEF_ABI_MAJOR_OF(v) ((uint32_t)(v) >> 16)
#define NDL_CHEF_ABI_MINOR_OF(v) ((uint32_t)(v) & 0xffffu)

/* The one symbol a chef exports. */
#define NDL_CHEF_ENTRY ndl_chef_entry
#define NDL_CHEF_ENTRY_NAME "ndl_chef_entry"

#if defined(__GNUC__)
#define NDL_CHEF_EXPORT __attribute__((visibility("default")))
#define NDL_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define NDL_CHEF_EXPORT
#define NDL_PRINTF(fmt, args)
#endif

/* Time: nanoseconds since the Unix epoch (UTC). */
typedef int64_t ndl_time_ns;

/* ------------------------------------------------------------------------ */
/* The streaming JSON writer                                                 */
/* ------------------------------------------------------------------------ */

struct ndl_jw;

/*
 * Operations on a JSON writer. The writer inserts commas and colons itself;
 * inside an object, call key() before every value. Errors (bad nesting,
 * exhausted size limit) are sticky: the dumpling being written is then
 * dropped and counted when it is finished, and the calls are harmless.
 * Strings are escaped; invalid UTF-8 is replaced by U+FFFD, so every
 * document written is valid JSON.
 */
struct ndl_jw_ops {
	uint32_t struct_size;                                                   /* 1.0 */
	void (*begin_object)(struct ndl_jw *w);                                 /* 1.0 */
	void (*end_object)(struct ndl_jw *w);                                   /* 1.0 */
	void (*begin_array)(struct ndl_jw *w);                                  /* 1.0 */
	void (*end_array)(struct ndl_jw *w);                                    /* 1.0 */
	/* Object key of len bytes. */
	void (*key)(struct ndl_jw *w, const char *key, size_t len);             /* 1.0 */
	/* String value of len bytes. */
	void (*string)(struct ndl_jw *w, const char *s, size_t len);            /* 1.0 */
	void (*int64)(struct ndl_jw *w, int64_t v);                             /* 1.0 */
	void (*uint64)(struct ndl_jw *w, uint64_t v);                           /* 1.0 */
	/* A number; NaN and infinities are written as null. */
	void (*real)(struct ndl_jw *w, double v);                               /* 1.0 */
	void (*boolean)(struct ndl_jw *w, bool v);                              /* 1.0 */
	void (*null)(struct ndl_jw *w);                                         /* 1.0 */
	/* A time as epoch seconds with microseconds: 1795322030.150690 */
	void (*time)(struct ndl_jw *w, ndl_time_ns t);                          /* 1.0 */
	/* A string of lowercase hex digits for len bytes. */
	void (*hex)(struct ndl_jw *w, const uint8_t *bytes, size_t len);        /* 1.0 */
	/* "aa:bb:cc:dd:ee:ff" */
	void (*mac)(struct ndl_jw *w, const uint8_t mac[6]);                    /* 1.0 */
	/* "192.0.2.1" (version 4, 4 bytes) or "2001:db8::1" (version 6, 16 bytes) */
	void (*ip)(struct ndl_jw *w, int version, const uint8_t *addr);         /* 1.0 */
	/* A JSON value already serialised by the caller; it must be valid.
	 * Its line feeds and carriage returns (whitespace, in valid JSON) are
	 * written as spaces, so that a dumpling is always one line. */
	void (*raw)(struct ndl_jw *w, const char *json, size_t len);            /* 1.0 */
};

/* Every writer begins with its operations; the rest is the host's. */
struct ndl_jw {
	const struct ndl_jw_ops *ops;
};

static inline void ndl_jw_begin_object(struct ndl_jw *w) { w->ops->begin_object(w); }
static inline void ndl_jw_end_object(struct ndl_jw *w) { w->ops->end_object(w); }
static inline void ndl_jw_begin_array(struct ndl_jw *w) { w->ops->begin_array(w); }
static inline void ndl_jw_end_array(struct ndl_jw *w) { w->ops->end_array(w); }
static inline void ndl_jw_key(struct ndl_jw *w, const char *k) { w->ops->key(w, k, strlen(k)); }
static inline void ndl_jw_key_n(struct ndl_jw *w, const char *k, size_t n) { w->ops->key(w, k, n); }
static inline void ndl_jw_string(struct ndl_jw *w, const char *s) { w->ops->string(w, s, strlen(s)); }
static inline void ndl_jw_string_n(struct ndl_jw *w, const char *s, size_t n) { w->ops->string(w, s, n); }
static inline void ndl_jw_int(struct ndl_jw *w, int64_t v) { w->ops->int64(w, v); }
static inline void ndl_jw_uint(struct ndl_jw *w, uint64_t v) { w->ops->uint64(w, v); }
static inline void ndl_jw_real(struct ndl_jw *w, double v) { w->ops->real(w, v); }
static inline void ndl_jw_bool(struct ndl_jw *w, bool v) { w->ops->boolean(w, v); }
static inline void ndl_jw_null(struct ndl_jw *w) { w->ops->null(w); }
static inline void ndl_jw_time(struct ndl_jw *w, ndl_time_ns t) { w->ops->time(w, t); }
static inline void ndl_jw_hex(struct ndl_jw *w, const uint8_t *b, size_t n) { w->ops->hex(w, b, n); }
static inline void ndl_jw_mac(struct ndl_jw *w, const uint8_t mac[6]) { w->ops->mac(w, mac); }
static inline void ndl_jw_ip(struct ndl_jw *w, int version, const uint8_t *a) { w->ops->ip(w, version, a); }
static inline void ndl_jw_raw(struct ndl_jw *w, const char *j, size_t n) { w->ops->raw(w, j, n); }

/* ------------------------------------------------------------------------ */
/* The decoded packet                                                        */
/* ------------------------------------------------------------------------ */

/* Layers present in a packet (struct ndl_packet.layers). */
enum ndl_layer {
	NDL_LAYER_ETHERNET = 1u << 0,  /* Ethernet II / 802.3 header */
	NDL_LAYER_VLAN     = 1u << 1,  /* one or more 802.1Q / 802.1ad tags */
	NDL_LAYER_SLL      = 1u << 2,  /* Linux cooked capture v1 or v2 */
	NDL_LAYER_NULL     = 1u << 3,  /* BSD loopback / null */
	NDL_LAYER_ARP      = 1u << 4,
	NDL_LAYER_IPV4     = 1u << 5,
	NDL_LAYER_IPV6     = 1u << 6,
	NDL_LAYER_TCP      = 1u << 7,
	NDL_LAYER_UDP      = 1u << 8,
	NDL_LAYER_ICMP     = 1u << 9,
	NDL_LAYER_ICMPV6   = 1u << 10,
	NDL_LAYER_PAYLOAD  = 1u << 11, /* transport payload of at least one byte */
	NDL_LAYER_PADDING  = 1u << 12, /* link-layer bytes after the IP datagram */
	NDL_LAYER_FRAGMENT = 1u << 13, /* IP fragment (transport not decoded unless first) */
};

/* Why decoding stopped early (struct ndl_packet.decode_error). */
enum ndl_decode_error {
	NDL_DECODE_OK = 0,
	NDL_DECODE_TRUNCATED_LINK,
	NDL_DECODE_UNKNOWN_LINKTYPE,
	NDL_DECODE_TRUNCATED_ARP,
	NDL_DECODE_TRUNCATED_IPV4,
	NDL_DECODE_BAD_IPV4_HEADER,   /* version or IHL or total length wrong */
	NDL_DECODE_TRUNCATED_IPV6,
	NDL_DECODE_BAD_IPV6_HEADER,
	NDL_DECODE_TRUNCATED_TCP,
	NDL_DECODE_BAD_TCP_HEADER,    /* data offset below 5 or past the segment */
	NDL_DECODE_TRUNCATED_UDP,
	NDL_DECODE_BAD_UDP_LENGTH,
	NDL_DECODE_TRUNCATED_ICMP,
	NDL_DECODE_TOO_MANY_VLAN_TAGS,
	NDL_DECODE_ERROR_COUNT        /* number of values, not an error */
};

/*
 * A packet decoded once by the kitchen, read-only for chefs. Fields of a
 * layer are meaningful only when its bit is set in layers. Offsets are from
 * data; a layer absent from the packet has offset 0 and its bit clear.
 */
struct ndl_packet {
	uint32_t struct_size;        /* 1.0: sizeof as the kitchen built it */
	uint32_t layers;             /* 1.0: enum ndl_layer bits */
	ndl_time_ns ts;              /* 1.0: capture timestamp */
	const uint8_t *data;         /* 1.0: captured bytes, caplen long (borrowed) */
	uint32_t caplen;             /* 1.0: bytes captured */
	uint32_t wirelen;            /* 1.0: bytes on the wire */
	int32_t linktype;            /* 1.0: DLT_* of the capture */
	uint32_t decode_error;       /* 1.0: enum ndl_decode_error; 0 when whole */

	/* link layer */
	uint32_t l2_off;             /* 1.0 */
	uint8_t eth_src[6];          /* 1.0: Ethernet (or cooked capture) source */
	uint8_t eth_dst[6];          /* 1.0: Ethernet destination (zero for cooked) */
	uint16_t ethertype;          /* 1.0: innermost EtherType (host order) */
	uint8_t n_vlan;              /* 1.0: number of VLAN tags */
	uint8_t reserved0;
	uint16_t vlan_id[2];         /* 1.0: outer first; 12-bit VIDs */

	/* ARP (Ethernet hardware, IPv4 protocol addresses) */
	uint16_t arp_op;             /* 1.0: 1 request, 2 reply, ... */
	uint8_t arp_sha[6];          /* 1.0: sender hardware address */
	uint8_t arp_spa[4];          /* 1.0: sender protocol address */
	uint8_t arp_tha[6];          /* 1.0: target hardware address */
	uint8_t arp_tpa[4];          /* 1.0: target protocol address */

	/* network layer */
	uint32_t l3_off;             /* 1.0 */
	uint8_t ip_version;          /* 1.0: 4 or 6, 0 when no IP */
	uint8_t ip_proto;            /* 1.0: transport protocol (after IPv6 extension headers) */
	uint8_t ip_ttl;              /* 1.0: TTL or hop limit */
	uint8_t reserved1;
	uint8_t src_ip[16];          /* 1.0: IPv4 uses the first 4 bytes */
	uint8_t dst_ip[16];          /* 1.0 */

	/* transport layer */
	uint32_t l4_off;             /* 1.0 */
	uint16_t sport;              /* 1.0: TCP/UDP source port (host order) */
	uint16_t dport;              /* 1.0 */
	uint8_t tcp_flags;           /* 1.0: FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 */
	uint8_t icmp_type;           /* 1.0: ICMP or ICMPv6 type */
	uint8_t icmp_code;           /* 1.0 */
	uint8_t reserved2;
	uint32_t tcp_seq;            /* 1.0 */
	uint32_t tcp_ack;            /* 1.0 */

	/* transport payload: the captured part of it */
	const uint8_t *payload;      /* 1.0: NULL when payload_len is 0 (borrowed) */
	uint32_t payload_len;        /* 1.0 */
	uint32_t padding_len;        /* 1.0: link-layer bytes after the IP datagram */

	/* IP details */
	uint8_t ip_tos;              /* 1.1: IPv4 TOS / IPv6 traffic class */
	uint8_t ip_frag_flags;       /* 1.1: NDL_IP_DF, NDL_IP_MF */
	uint16_t ip_id;              /* 1.1: IPv4 identification */
	uint16_t ip_hdr_len;         /* 1.1: IPv4 IHL*4; IPv6 40 plus extension headers */
	uint16_t ip_total_len;       /* 1.1: IPv4 total length; IPv6 payload length + 40 */
	uint16_t ip_frag_offset;     /* 1.1: fragment offset in bytes */
	uint8_t ipv6_n_ext;          /* 1.1: IPv6 extension headers walked */
	uint8_t reserved3;
	uint32_t ipv6_flow;          /* 1.1: IPv6 flow label (20 bits) */
	uint32_t ip_frag_ident;      /* 1.1: IPv4 id or IPv6 fragment header identification */

	/* TCP details */
	uint16_t tcp_window;         /* 1.1: raw window field */
	uint8_t tcp_hdr_len;         /* 1.1: data offset * 4 */
	uint8_t tcp_opts;            /* 1.1: NDL_TCPOPT_* bits of options present */
	uint16_t tcp_mss;            /* 1.1: with NDL_TCPOPT_MSS */
	uint8_t tcp_wscale;          /* 1.1: with NDL_TCPOPT_WSCALE */
	uint8_t reserved4;
	uint32_t tcp_ts_val;         /* 1.1: with NDL_TCPOPT_TIMESTAMP */
	uint32_t tcp_ts_ecr;         /* 1.1 */

	/* UDP and ICMP details */
	uint16_t udp_len;            /* 1.1: UDP length field */
	uint16_t icmp_id;            /* 1.1: echo request/reply identifier (ICMP and ICMPv6) */
	uint16_t icmp_seq;           /* 1.1: echo sequence number */
	uint16_t reserved5;
};

/* struct ndl_packet.ip_frag_flags */
#define NDL_IP_MF 0x01               /* more fragments (IPv4 MF, IPv6 M) */
#define NDL_IP_DF 0x02               /* IPv4 don't fragment */

/* struct ndl_packet.tcp_opts */
#define NDL_TCPOPT_MSS       0x01
#define NDL_TCPOPT_WSCALE    0x02
#define NDL_TCPOPT_SACK_OK   0x04
#define NDL_TCPOPT_SACK      0x08
#define NDL_TCPOPT_TIMESTAMP 0x10
#define NDL_TCPOPT_BAD       0x80    /* an option ran past the header: the rest skipped */

/* Bytes borrowed from a packet: not NUL-terminated; ptr NULL when absent. */
struct ndl_str {
	const char *ptr;
	uint32_t len;
};

/* ------------------------------------------------------------------------ */
/* DNS, parsed lazily by the kitchen on request (ndl_host.dns)               */
/* ------------------------------------------------------------------------ */

#define NDL_DNS_NAME_MAX 256       /* presentation form, with the NUL; no trailing dot */
#define NDL_DNS_DATA_MAX 256       /* rendered RDATA, with the NUL */
#define NDL_DNS_MAX_QUESTIONS 8    /* parsed entries per section, at most */
#define NDL_DNS_MAX_RRS 32

enum ndl_dns_error {
	NDL_DNS_OK = 0,
	NDL_DNS_TRUNCATED,          /* message ends inside a header, name or record */
	NDL_DNS_BAD_NAME,           /* label too long, name too long, bad label type */
	NDL_DNS_NAME_LOOP,          /* compression pointer loop or too many jumps */
	NDL_DNS_TOO_MANY_RECORDS,   /* more entries than the limits above: rest skipped */
	NDL_DNS_ERROR_COUNT
};

struct ndl_dns_question {
	char name[NDL_DNS_NAME_MAX];  /* 1.0: "www.example.com"; the root is "" */
	uint16_t qtype;               /* 1.0 */
	uint16_t qclass;              /* 1.0: with the mDNS unicast-response bit */
};

struct ndl_dns_rr {
	char name[NDL_DNS_NAME_MAX];  /* 1.0 */
	uint16_t type;                /* 1.0 */
	uint16_t rclass;              /* 1.0 */
	uint32_t ttl;                 /* 1.0 */
	uint16_t rdlength;            /* 1.0 */
	const uint8_t *rdata;         /* 1.0: rdlength bytes (borrowed) */
	/*
	 * 1.0: RDATA in presentation form for A, AAAA ("192.0.2.1", and
	 * IPv6 as inet_ntop writes it, like every address field), CNAME,
	 * NS, PTR, DNAME (a name), MX ("10 mail.example.com"), TXT (the
	 * strings joined by spaces, unprintable bytes as \DDD); "" otherwise.
	 */
	char data[NDL_DNS_DATA_MAX];
};

struct ndl_dns {
	uint32_t struct_size;         /* 1.0 */
	uint32_t error;               /* 1.0: enum ndl_dns_error; what precedes it is valid */
	bool over_tcp;                /* 1.0: read after the two-byte TCP length */
	uint16_t id;                  /* 1.0 */
	uint16_t flags;               /* 1.0: the raw 16-bit flags word */
	uint8_t qr, opcode, aa, tc, rd, ra, z, ad, cd, rcode; /* 1.0: flag fields */
	uint16_t qdcount, ancount, nscount, arcount;            /* 1.0: header counts */
	uint16_t n_questions;         /* 1.0: entries parsed into questions[] */
	uint16_t n_answers;           /* 1.0 */
	uint16_t n_authorities;       /* 1.0 */
	uint16_t n_additionals;       /* 1.0 (OPT records excluded, see edns) */
	const struct ndl_dns_question *questions; /* 1.0 */
	const struct ndl_dns_rr *answers;         /* 1.0 */
	const struct ndl_dns_rr *authorities;     /* 1.0 */
	const struct ndl_dns_rr *additionals;     /* 1.0 */
	bool edns;                    /* 1.0: an OPT record was present */
	uint16_t edns_udp_size;       /* 1.0 */
	uint8_t edns_version;         /* 1.0 */
	bool edns_do;                 /* 1.0: DNSSEC OK bit */
	uint16_t edns_ext_rcode;      /* 1.0: upper 8 bits of the 12-bit RCODE */
};

/* ------------------------------------------------------------------------ */
/* HTTP/1.x and TLS hellos, parsed lazily by the kitchen (ABI 1.1)           */
/* ------------------------------------------------------------------------ */

/*
 * The start of an HTTP/1.x message (RFC 9112) at the beginning of one TCP
 * segment's payload: the start line and the header fields in that segment.
 * Segments are not reassembled; headers_complete tells whether the blank
 * line ending the header section was in this segment.
 */
#define NDL_HTTP_MAX_HEADERS 64

enum ndl_http_error {
	NDL_HTTP_OK = 0,
	NDL_HTTP_TRUNCATED,         /* segment ends before the blank line */
	NDL_HTTP_BAD_HEADER,        /* a field line without a colon or with bad name: the rest skipped */
	NDL_HTTP_TOO_MANY_HEADERS,  /* more than NDL_HTTP_MAX_HEADERS: the rest skipped */
	NDL_HTTP_ERROR_COUNT
};

struct ndl_http_header {
	struct ndl_str name;         /* 1.1: as on the wire */
	struct ndl_str value;        /* 1.1: without surrounding whitespace */
};

struct ndl_http {
	uint32_t struct_size;        /* 1.1 */
	uint32_t error;              /* 1.1: enum ndl_http_error */
	bool is_request;             /* 1.1: request, else response */
	bool headers_complete;       /* 1.1 */
	uint8_t version_major;       /* 1.1: 1 */
	uint8_t version_minor;       /* 1.1: 0 or 1 */
	struct ndl_str method;       /* 1.1: request: "GET" ... */
	struct ndl_str target;       /* 1.1: request: the request-target ("/index.html") */
	uint16_t status;             /* 1.1: response: 100..999 */
	struct ndl_str reason;       /* 1.1: response: reason phrase (may be empty) */
	uint16_t n_headers;          /* 1.1 */
	const struct ndl_http_header *headers; /* 1.1 */
	/* The first field of these names (case-insensitive), ptr NULL when absent. */
	struct ndl_str host;         /* 1.1 */
	struct ndl_str user_agent;   /* 1.1 */
	struct ndl_str referer;      /* 1.1 */
	struct ndl_str content_type; /* 1.1 */
	struct ndl_str content_length; /* 1.1 */
	uint32_t header_bytes;       /* 1.1: start line + fields + blank line, when complete */
};

/*
 * A TLS ClientHello or ServerHello (RFC 8446 4.1.2/4.1.3, RFC 5246 7.4.1)
 * in the first handshake record of one TCP segment's payload. Lists keep
 * wire order and GREASE values (RFC 8701); they stop at the limits below
 * (error NDL_TLS_TOO_MANY).
 */
#define NDL_TLS_MAX_CIPHERS 128
#define NDL_TLS_MAX_EXTENSIONS 64
#define NDL_TLS_MAX_LIST 32          /* groups, versions, signature algorithms, point formats */
#define NDL_TLS_MAX_ALPN 16

enum ndl_tls_error {
	NDL_TLS_OK = 0,
	NDL_TLS_TRUNCATED,           /* the hello continues past this segment or capture */
	NDL_TLS_BAD_RECORD,          /* record or handshake header malformed */
	NDL_TLS_BAD_HELLO,           /* a length inside the hello runs past its container */
	NDL_TLS_TOO_MANY,            /* a list longer than its limit: the rest skipped */
	NDL_TLS_ERROR_COUNT
};

struct ndl_tls_hello {
	uint32_t struct_size;        /* 1.1 */
	uint32_t error;              /* 1.1: enum ndl_tls_error; what precedes it is valid */
	uint8_t type;                /* 1.1: 1 ClientHello, 2 ServerHello */
	uint16_t record_version;     /* 1.1: TLSPlaintext.legacy_record_version */
	uint16_t legacy_version;     /* 1.1: client_version / server legacy_version */
	/*
	 * 1.1: ServerHello: the selected version (supported_versions when
	 * present, else legacy_version). ClientHello: the highest non-GREASE
	 * supported_versions entry when present, else legacy_version.
	 */
	uint16_t version;
	const uint8_t *random;       /* 1.1: 32 bytes (borrowed) */
	struct ndl_str session_id;   /* 1.1: bytes */
	struct ndl_str sni;          /* 1.1: server_name host_name; ptr NULL when absent */
	uint16_t cipher;             /* 1.1: ServerHello: the selected cipher suite */
	uint16_t n_ciphers;          /* 1.1: ClientHello cipher_suites */
	const uint16_t *ciphers;
	uint16_t n_extensions;       /* 1.1: extension types */
	const uint16_t *extensions;
	uint16_t n_groups;           /* 1.1: supported_groups (elliptic curves) */
	const uint16_t *groups;
	uint16_t n_point_formats;    /* 1.1: ec_point_formats */
	const uint8_t *point_formats;
	uint16_t n_versions;         /* 1.1: supported_versions */
	const uint16_t *versions;
	uint16_t n_sig_algs;         /* 1.1: signature_algorithms */
	const uint16_t *sig_algs;
	uint16_t n_alpn;             /* 1.1: ALPN protocol names (ServerHello: the selected one) */
	const struct ndl_str *alpn;
};

/* True for the GREASE values of RFC 8701 (0x0a0a, 0x1a1a, ... 0xfafa). */
static inline bool ndl_tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */
/* ------------------------------------------------------------------------ */

enum ndl_opt_type {
	NDL_OPT_INT = 1,   /* decimal int64, bounded by min and max */
	NDL_OPT_DOUBLE,    /* decimal floating point, bounded by min and max */
	NDL_OPT_BOOL,      /* true/false, yes/no, on/off, 1/0 */
	NDL_OPT_STRING,
};

/*
 * One key a chef accepts, given on the command line as
 * "-o ChefName.key=value". The kitchen rejects unknown keys and values
 * that do not parse or fall outside [min, max] before the chef starts.
 */
struct ndl_chef_option {
	const char *key;             /* 1.0: NULL ends the table */
	enum ndl_opt_type type;      /* 1.0 */
	const char *default_value;   /* 1.0: as text, parsed like a given value */
	double min, max;             /* 1.0: bounds for INT and DOUBLE (ignored if min > max) */
	const char *help;            /* 1.0: one line */
};

/* ------------------------------------------------------------------------ */
/* Host services                                                             */
/* ------------------------------------------------------------------------ */

enum ndl_driver {
	NDL_DRIVER_PACKET = 0,
	NDL_DRIVER_INTERVAL = 1,
};

enum ndl_log_level {
	NDL_LOG_ERROR = 0,
	NDL_LOG_WARN,
	NDL_LOG_INFO,
	NDL_LOG_DEBUG,
};

struct ndl_host;

/* A chef instance as the kitchen hands it to every callback. */
struct ndl_chef_ctx {
	const struct ndl_host *host; /* 1.0: the kitchen's services */
	void *state;                 /* 1.0: state_size zeroed bytes owned by the kitchen (NULL if 0) */
};

struct ndl_host {
	uint32_t abi_version;        /* 1.0: NDL_CHEF_ABI_VERSION of the kitchen */
	uint32_t struct_size;        /* 1.0 */

	/* Log a line prefixed with the chef's name; rate-limited by the kitchen. */
	void (*log)(struct ndl_chef_ctx *ctx, enum ndl_log_level level,
		    const char *fmt, ...) NDL_PRINTF(3, 4);           /* 1.0 */

	/*
	 * Start a dumpling. Returns a writer positioned where the payload goes:
	 * write exactly one JSON value, then call emit_end. Returns NULL when no
	 * dumpling can be made now (the drop is counted); do not call emit_end
	 * then. A chef has at most one dumpling open at a time.
	 */
	struct ndl_jw *(*emit_begin)(struct ndl_chef_ctx *ctx,
				     enum ndl_driver driver);         /* 1.0 */
	/*
	 * Finish the dumpling begun with emit_begin and hand it on.
	 * Returns 0, or a negative errno when it was dropped (and counted):
	 * -EINVAL for a malformed payload, -ENOBUFS when the outbox is full.
	 * On a thread of its own (NDL_CHEF_F_ANY_THREAD) the outbox is only
	 * reached later: 0 then means the dumpling was whole and handed on, and
	 * a drop at the outbox is counted without being returned.
	 */
	int (*emit_end)(struct ndl_chef_ctx *ctx, struct ndl_jw *w);  /* 1.0 */

	/*
	 * The kitchen clock: the capture time of the newest packet when
	 * replaying a file, the wall clock when capturing live.
	 */
	ndl_time_ns (*now)(struct ndl_chef_ctx *ctx);                 /* 1.0 */

	/* Validated option values (the given value, else the default). */
	int64_t (*config_int)(struct ndl_chef_ctx *ctx, const char *key);        /* 1.0 */
	double (*config_double)(struct ndl_chef_ctx *ctx, const char *key);      /* 1.0 */
	bool (*config_bool)(struct ndl_chef_ctx *ctx, const char *key);          /* 1.0 */
	const char *(*config_string)(struct ndl_chef_ctx *ctx, const char *key); /* 1.0 */

	/* Add delta to the chef's named counter (reported in kitchen stats). */
	void (*count)(struct ndl_chef_ctx *ctx, const char *counter,
		      uint64_t delta);                                /* 1.0 */

	/*
	 * The DNS message carried by pkt (UDP or TCP port 53, UDP 5353), parsed
	 * once per packet however many chefs ask; NULL when there is none.
	 * Borrowed for the callback.
	 */
	const struct ndl_dns *(*dns)(struct ndl_chef_ctx *ctx,
				     const struct ndl_packet *pkt);   /* 1.0 */

	/*
	 * The HTTP/1.x request or response starting pkt's TCP payload (any
	 * port), parsed once per packet; NULL when the payload does not start
	 * with an HTTP start line. Borrowed for the callback.
	 */
	const struct ndl_http *(*http)(struct ndl_chef_ctx *ctx,
				       const struct ndl_packet *pkt); /* 1.1 */

	/*
	 * The TLS ClientHello or ServerHello starting pkt's TCP payload (any
	 * port), parsed once per packet; NULL when there is none. Borrowed for
	 * the callback.
	 */
	const struct ndl_tls_hello *(*tls_hello)(struct ndl_chef_ctx *ctx,
						 const struct ndl_packet *pkt); /* 1.1 */
};

/* ------------------------------------------------------------------------ */
/* The descriptor                                                            */
/* ------------------------------------------------------------------------ */

struct ndl_chef_descriptor {
	uint32_t abi_version;        /* 1.0: NDL_CHEF_ABI_VERSION the chef was built with */
	uint32_t struct_size;        /* 1.0: sizeof(struct ndl_chef_descriptor) */
	const char *name;            /* 1.0: unique, e.g. "DNSLookupChef" ([A-Za-z0-9_]+) */
	const char *version;         /* 1.0: the chef's own version, e.g. "1.0.0" */
	const char *description;     /* 1.0: one line */
	size_t state_size;           /* 1.0: bytes of state the kitchen allocates */
	const struct ndl_chef_option *options; /* 1.0: NULL or a table ended by key NULL */

	/* Required. Returns 0, or a negative errno to refuse to start. */
	int (*init)(struct ndl_chef_ctx *ctx);                                   /* 1.0 */
	/* At least one of on_packet and on_interval is required. */
	void (*on_packet)(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt); /* 1.0 */
	/* Every poke interval, and once more at the end of a replay. */
	void (*on_interval)(struct ndl_chef_ctx *ctx);                           /* 1.0 */
	/* Required. Release what init and the handlers allocated. */
	void (*fini)(struct ndl_chef_ctx *ctx);                                  /* 1.0 */

	uint32_t flags;              /* 1.1: NDL_CHEF_F_* bits */
};

/*
 * Descriptor flags (1.1). NDL_CHEF_F_OPT_IN: the chef runs only when named
 * with -c; a kitchen started without -c runs every chef found but these.
 * For chefs that emit a dumpling for (nearly) every packet.
 */
#define NDL_CHEF_F_OPT_IN 0x1u
/*
 * NDL_CHEF_F_ANY_THREAD: the chef's handlers may run on a thread other
 * than the loop's (see "Lifetime and threads" above), so a kitchen may
 * run it beside other chefs on another CPU. Set it when the chef keeps
 * its state in ctx->state (or in globals only its own module's chefs
 * touch) and calls nothing that must run on one particular thread.
 * Kitchens that predate the flag ignore it, which is always safe.
 */
#define NDL_CHEF_F_ANY_THREAD 0x2u

/* The entry point every chef defines: NDL_CHEF_EXPORT const struct ... */
typedef const struct ndl_chef_descriptor *(*ndl_chef_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* NDL_CHEF_H */
