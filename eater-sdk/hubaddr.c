/* SPDX-License-Identifier: MIT */
/*
 * hubaddr.c - parse the hub address given to ndl_eater_new().
 * Host syntax follows RFC 3986 section 3.2.2: IPv6 literals in brackets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "eater-int.h"

static int parse_port(const char *s, size_t n, int *port)
{
	int v = 0;

	if (n == 0 || n > 5)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -EINVAL;
	*port = v;
	return 0;
}

static int valid_name(const char *s, size_t n)
{
	if (n == 0 || n >= NDL__HUB_HOST_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

static int set_v6(struct ndl__hub_addr *out, const char *s, size_t n)
{
	struct in6_addr a;

	if (n == 0 || n >= NDL__HUB_HOST_MAX)
		return -EINVAL;
	memcpy(out->host, s, n);
	out->host[n] = '\0';
	if (inet_pton(AF_INET6, out->host, &a) != 1)
		return -EINVAL;
	out->is_ipv6 = 1;
	return 0;
}

int ndl__hub_addr_parse(const char *s, int default_port, struct ndl__hub_addr *out)
{
	const char *end, *colon;
	size_t n;

	if (!s || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->port = default_port;
	if (strncasecmp(s, "ws://", 5) == 0) {
		s += 5;
	} else if (strncasecmp(s, "wss://", 6) == 0) {
		s += 6;
		out->tls = 1;
	} else if (strstr(s, "://"))
		return -EINVAL;
	end = strchr(s, '/');
	n = end ? (size_t)(end - s) : strlen(s);
	if (n == 0)
		return -EINVAL;

	if (s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close || set_v6(out, s + 1, (size_t)(close - s - 1)) < 0)
			return -EINVAL;
		if (close + 1 == s + n)
			return 0;
		if (close[1] != ':')
			return -EINVAL;
		return parse_port(close + 2, (size_t)(s + n - close - 2), &out->port);
	}

	colon = memchr(s, ':', n);
	if (colon && memchr(colon + 1, ':', (size_t)(s + n - colon - 1)))
		return set_v6(out, s, n);   /* a bare IPv6 literal: no port */
	if (colon) {
		if (parse_port(colon + 1, (size_t)(s + n - colon - 1), &out->port) < 0)
			return -EINVAL;
		n = (size_t)(colon - s);
	}
	if (!valid_name(s, n))
		return -EINVAL;
	memcpy(out->host, s, n);
	out->host[n] = '\0';
	return 0;
}

int ndl__hub_addr_url(const struct ndl__hub_addr *a, char *buf, size_t n)
{
	const char *scheme = a->tls ? "wss" : "ws";

	return snprintf(buf, n, a->is_ipv6 ? "%s://[%s]:%d" : "%s://%s:%d", scheme, a->host,
			a->port);
}
