/* SPDX-License-Identifier: MIT */
/*
 * eater-int.h - internals of the eater SDK shared between its files.
 * Nothing here is exported (see libndleater.map).
 */
#ifndef NDL_EATER_INT_H
#define NDL_EATER_INT_H

#include <stddef.h>

/* Longest host name or address we accept (RFC 1035 section 2.3.4: 253). */
#define NDL__HUB_HOST_MAX 256

struct ndl__hub_addr {
	char host[NDL__HUB_HOST_MAX];  /* name or address, IPv6 without brackets */
	int port;                      /* 1..65535 */
	int is_ipv6;                   /* host is an IPv6 literal */
	int tls;                       /* "wss://": TLS (RFC 8446) under the WebSocket */
};

/*
 * Parse a hub address: "HOST:PORT", "HOST", "[IPv6]:PORT", "[IPv6]", a bare
 * IPv6 literal, each optionally after "ws://" or "wss://" (RFC 6455 section
 * 3; wss sets out->tls) and followed by a path (which is ignored: the hub
 * ignores it too). The port defaults to default_port.
 * Returns 0 and fills *out; -EINVAL for anything else (other schemes
 * included). Pure function, any thread.
 */
int ndl__hub_addr_parse(const char *s, int default_port, struct ndl__hub_addr *out);

/*
 * Write "ws://HOST:PORT" or "wss://HOST:PORT" (brackets around IPv6) into
 * buf of size n.
 * Returns the length snprintf would write.
 */
int ndl__hub_addr_url(const struct ndl__hub_addr *a, char *buf, size_t n);

#endif /* NDL_EATER_INT_H */
