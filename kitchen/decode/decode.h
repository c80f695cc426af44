/* SPDX-License-Identifier: MIT */
/*
 * decode.h - the kitchen's packet decoder and shared protocol parsers.
 *
 * Every byte is read through bounds-checked accessors; truncated or
 * malformed input yields what is valid plus a named error, never a read
 * outside [data, data + caplen).
 */
#ifndef NDL_KITCHEN_DECODE_H
#define NDL_KITCHEN_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ndl/chef.h>
#include <ndl/names.h>  /* ndl_*_name() for the errors and types below */

/*
 * Decode one captured frame of link type linktype (a DLT_* value) into pkt,
 * which is fully overwritten. pkt->data points at data afterwards (borrowed).
 * Returns pkt->decode_error (0 when the packet decoded whole).
 */
int ndl__decode(struct ndl_packet *pkt, int linktype, const uint8_t *data,
		uint32_t caplen, uint32_t wirelen, ndl_time_ns ts);

/* Storage a parsed DNS message points into. One per kitchen, reused. */
struct ndl__dns_buf {
	struct ndl_dns dns;
	struct ndl_dns_question questions[NDL_DNS_MAX_QUESTIONS];
	struct ndl_dns_rr answers[NDL_DNS_MAX_RRS];
	struct ndl_dns_rr authorities[NDL_DNS_MAX_RRS];
	struct ndl_dns_rr additionals[NDL_DNS_MAX_RRS];
};

/*
 * Parse the DNS message msg[0..len) (RFC 1035, with EDNS per RFC 6891) into
 * buf. When over_tcp, msg starts with the two-byte length prefix (RFC 7766).
 * Returns 0 when at least the 12-byte header was read (buf->dns.error then
 * tells whether the rest was whole), -EINVAL when not even the header is there.
 */
int ndl__dns_parse(struct ndl__dns_buf *buf, const uint8_t *msg, size_t len,
		   bool over_tcp);

/*
 * The DNS message in pkt's transport payload: UDP with port 53 or 5353 on
 * either side, or TCP with port 53 on either side. NULL when pkt carries no
 * DNS or its header is incomplete.
 */
const struct ndl_dns *ndl__dns_from_packet(struct ndl__dns_buf *buf,
					   const struct ndl_packet *pkt);

/* Storage a parsed HTTP start points into. One per kitchen, reused. */
struct ndl__http_buf {
	struct ndl_http http;
	struct ndl_http_header headers[NDL_HTTP_MAX_HEADERS];
};

/*
 * Parse the HTTP/1.x request or response starting at msg[0..len) (RFC 9112
 * sections 2-5) into buf. Returns 0 when msg starts with a valid start line
 * (buf->http.error then tells whether the fields were whole), -EINVAL when
 * it does not.
 */
int ndl__http_parse(struct ndl__http_buf *buf, const uint8_t *msg, size_t len);

/* The HTTP message starting pkt's TCP payload, or NULL. */
const struct ndl_http *ndl__http_from_packet(struct ndl__http_buf *buf,
					     const struct ndl_packet *pkt);

/* Storage a parsed TLS hello points into. One per kitchen, reused. */
struct ndl__tls_buf {
	struct ndl_tls_hello hello;
	uint16_t ciphers[NDL_TLS_MAX_CIPHERS];
	uint16_t extensions[NDL_TLS_MAX_EXTENSIONS];
	uint16_t groups[NDL_TLS_MAX_LIST];
	uint8_t point_formats[NDL_TLS_MAX_LIST];
	uint16_t versions[NDL_TLS_MAX_LIST];
	uint16_t sig_algs[NDL_TLS_MAX_LIST];
	struct ndl_str alpn[NDL_TLS_MAX_ALPN];
};

/*
 * Parse a TLS record at msg[0..len) holding a ClientHello or ServerHello
 * (RFC 8446, RFC 5246; SNI RFC 6066, ALPN RFC 7301). Returns 0 when msg
 * starts with a handshake record whose first message is a hello (then
 * buf->hello.error tells whether it was whole), -EINVAL otherwise.
 */
int ndl__tls_parse(struct ndl__tls_buf *buf, const uint8_t *msg, size_t len);

/* The TLS hello starting pkt's TCP payload, or NULL. */
const struct ndl_tls_hello *ndl__tls_from_packet(struct ndl__tls_buf *buf,
						 const struct ndl_packet *pkt);

#endif /* NDL_KITCHEN_DECODE_H */
