/* SPDX-License-Identifier: MIT */
/*
 * summary.c - the one-line view of nd-print --format summary. Each
 * built-in chef has a formatter reading the payload documented in
 * docs/chefs/<Chef>.md; anything else gets the chef's name and a compact,
 * truncated payload. A field that is missing or of another type prints as
 * "?" rather than failing: the line is for people, not for parsers.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <ndl/wire.h>

#include "common.h"
#include "summary.h"

#define DIM "\033[2m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

/* ------------------------------------------------------------------------ */
/* Safe text                                                                */

/* Length of the UTF-8 sequence at p (at most n bytes), 0 when not valid. */
static size_t utf8_len(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates and values past U+10FFFF (RFC 3629 section 3) */
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* Code points that steer a terminal or reorder what is shown. */
static int steers(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069) || c == 0x2028 || c == 0x2029 ||
	       c == 0x200e || c == 0x200f || c == 0x061c;
}

void ndl__put_safe(FILE *f, const char *s, size_t len, size_t max)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t shown = 0;

	while (p < end) {
		uint32_t c;
		size_t n = utf8_len(p, (size_t)(end - p), &c);

		if (max && shown + (n ? n : 1) > max) {
			fputs("...", f);
			return;
		}
		if (n == 0) {
			fprintf(f, "\\x%02x", *p);
			n = 1;
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\r') {
			fputs("\\r", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\x%02x", (unsigned)c);
		} else if (steers(c)) {
			fprintf(f, "\\u{%04" PRIx32 "}", c);
		} else {
			fwrite(p, 1, n, f);
		}
		p += n;
		shown += n;
	}
}

/* ------------------------------------------------------------------------ */
/* Fields                                                                   */

/* The value at a dotted path of keys ("src.ip"), or NULL. */
static json_t *at(const json_t *o, const char *path)
{
	char key[64];
	const char *dot;
	json_t *v = (json_t *)o;

	while (v && *path) {
		dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		v = json_is_object(v) ? json_object_get(v, key) : NULL;
		path += n + (dot ? 1 : 0);
	}
	return v;
}

/* An array of strings and numbers only. */
static int is_flat(const json_t *a)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (!json_is_string(v) && !json_is_number(v))
			return 0;
	return 1;
}

/* A value for people: strings safe, numbers as numbers, null as "?". */
static void put_value(FILE *f, const json_t *v, size_t max)
{
	char *s;

	if (json_is_string(v)) {
		ndl__put_safe(f, json_string_value(v), json_string_length(v), max);
	} else if (json_is_integer(v)) {
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		fprintf(f, "%g", json_real_value(v));
	} else if (json_is_true(v) || json_is_false(v)) {
		fputs(json_is_true(v) ? "true" : "false", f);
	} else if (!v || json_is_null(v)) {
		putc('?', f);
	} else if (json_is_array(v) && is_flat(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			fputs(i ? "," : "", f);
			put_value(f, json_array_get(v, i), 64);
		}
	} else {
		s = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
		if (s)
			ndl__put_safe(f, s, strlen(s), max);
		free(s);
	}
}

/* ip, or ip:port / [ip]:port when the endpoint has a port number. */
static void put_endpoint(FILE *f, const json_t *ep, int with_port)
{
	json_t *ip = json_object_get(ep, "ip"), *port = json_object_get(ep, "port");
	int v6 = json_is_string(ip) && strchr(json_string_value(ip), ':');

	with_port = with_port && json_is_integer(port) && json_integer_value(port);
	if (with_port && v6)
		putc('[', f);
	put_value(f, ip, 0);
	if (with_port)
		fprintf(f, "%s:%" JSON_INTEGER_FORMAT, v6 ? "]" : "", json_integer_value(port));
}

/* "key value, key value": an object (of counts), in key order, the first most. */
static void put_counts(FILE *f, const json_t *o, const char *sub, size_t most)
{
	size_t n, i;
	const char **keys = ndl__sorted_keys(o, &n);

	if (n == 0 || !keys) {
		fputs(n ? "?" : "none", f);
		free(keys);
		return;
	}
	for (i = 0; i < n && i < most; i++) {
		fputs(i ? ", " : "", f);
		ndl__put_safe(f, keys[i], strlen(keys[i]), 64);
		putc(' ', f);
		put_value(f, sub ? at(json_object_get(o, keys[i]), sub) : json_object_get(o, keys[i]), 0);
	}
	if (n > most)
		fprintf(f, ", ... (%zu in all)", n);
	free(keys);
}

/* Nothing to show: absent, null, "" or an empty list. */
static int is_empty(const json_t *v)
{
	return !v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0) ||
	       (json_is_array(v) && json_array_size(v) == 0);
}

/* ------------------------------------------------------------------------ */
/* Formatters, one per chef                                                 */

struct line {
	FILE *f;
	const json_t *p;       /* the payload */
	const struct ndl_dumpling *d;
	int color;
};

/*
 * Write template t with fields of o. Text is written as it is; {PATH}
 * writes the value at PATH (dotted keys) safely, "?" when absent. A mark
 * before PATH changes that: {!WORD} WORD itself in bold (the line's
 * kind); {*PATH} the value in bold; {+PATH} a space and the value, or
 * nothing when empty; {&PATH} the value, or nothing; {-PATH} / {=PATH} an {"ip", "port"} endpoint
 * without / with its port; {~PATH} an endpoint's name, else its tag;
 * {.PATH} seconds with 3 decimals; {:PATH} seconds as HH:MM:SS.
 */
static void emit(const struct line *l, const json_t *o, const char *t)
{
	FILE *f = l->f;
	char spec[64], up[64];
	const char *close;
	json_t *v;

	for (; *t; t++) {
		if (*t != '{' || !(close = strchr(t, '}')) || (size_t)(close - t) >= sizeof(spec)) {
			putc(*t, f);
			continue;
		}
		memcpy(spec, t + 1, (size_t)(close - t - 1));
		spec[close - t - 1] = '\0';
		t = close;
		v = at(o, spec + 1);
		switch (spec[0]) {
		case '!':
		case '*':
			fputs(l->color ? BOLD : "", f);
			if (spec[0] == '!')
				fputs(spec + 1, f);
			else
				put_value(f, v, 32);
			fputs(l->color ? RESET : "", f);
			break;
		case '+':
			if (!is_empty(v)) {
				putc(' ', f);
				put_value(f, v, 0);
			}
			break;
		case '&':
			if (!is_empty(v))
				put_value(f, v, 0);
			break;
		case '-':
		case '=':
			put_endpoint(f, v, spec[0] == '=');
			break;
		case '~':
			put_value(f, at(v, is_empty(at(v, "name")) ? "tag" : "name"), 0);
			break;
		case '.':
			if (json_is_number(v))
				fprintf(f, "%.3f", json_number_value(v));
			else
				putc('?', f);
			break;
		case ':':
			ndl__fmt_uptime(json_number_value(v), up, sizeof(up));
			fputs(up, f);
			break;
		default:
			put_value(f, at(o, spec), 0);
			break;
		}
	}
}

static int is(const json_t *o, const char *path, const char *want)
{
	json_t *v = at(o, path);

	return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

/* NetwatchChef: TCP 10.0.0.9(internal) --> 93.184.216.34:443(example.com) */
static void fmt_netwatch(const struct line *l)
{
	emit(l, l->p, "{*proto} {-src}({~src}) --> {=dst}({~dst})");
}

/* HTTPRequestChef: GET http://example.com/path (10.0.0.9) */
static void fmt_http(const struct line *l)
{
	if (is(l->p, "kind", "response"))
		emit(l, l->p, is_empty(at(l->p, "latency")) ?
		     "{!HTTP} {status}{+reason} for {method} {&host}{uri} ({-client})" :
		     "{!HTTP} {status}{+reason} for {method} {&host}{uri} ({-client}, {.latency} s)");
	else
		emit(l, l->p, is_empty(at(l->p, "url")) ? "{*method} {uri} ({-client})" :
		     "{*method} {url} ({-client})");
}

/* TLSClientHelloChef: TLS 10.0.0.9 hello to example.com (93.184.216.34:443, TLS 1.3, alpn h2) */
static void fmt_tls(const struct line *l)
{
	int server = is(l->p, "kind", "server_hello");

	if (server)
		emit(l, l->p, "{!TLS} {=server} answered {-client}: {version}");
	else if (is_empty(at(l->p, "sni")))
		emit(l, l->p, "{!TLS} {-client} hello to {=server} (no name, {version}");
	else
		emit(l, l->p, "{!TLS} {-client} hello to {sni} ({=server}, {version}");
	if (!is_empty(at(l->p, "alpn")))
		emit(l, l->p, ", alpn {alpn}");
	if (!server)
		putc(')', l->f);
	if (!is_empty(at(l->p, "error")))
		emit(l, l->p, " [{error}]");
}

/* DNSLookupChef: DNS asked A example.com / DNS answer A example.com: NOERROR 1.2.3.4 */
static void fmt_dns(const struct line *l)
{
	json_t *lk = at(l->p, "lookup"), *answers = at(lk, "answers"), *a;
	size_t i;

	if (!lk) {
		emit(l, l->p, "{!DNS} names seen: ");
		put_counts(l->f, at(l->p, "lookups_seen"), "count", 8);
		return;
	}
	if (!json_is_true(at(lk, "is_response"))) {
		emit(l, lk, "{!DNS} asked {qtype} {hostname}");
		return;
	}
	emit(l, lk, "{!DNS} answer {qtype} {hostname}: {rcode}");
	json_array_foreach(answers, i, a) {
		if (i == 8) {
			fprintf(l->f, ", ... (%zu answers)", json_array_size(answers));
			break;
		}
		fputs(i ? ", " : " ", l->f);
		emit(l, a, is_empty(at(a, "data")) ? "{type}" : "{data}");
	}
}

/* ARPChef: ARP 192.0.2.2 (02:..) asks who has 192.0.2.1 / ARP 192.0.2.1 is at 02:.. */
static void fmt_arp(const struct line *l)
{
	if (is(l->p, "operation", "request"))
		emit(l, l->p, "{!ARP} {src_ip} ({src_hw}) asks who has {dst_ip}");
	else if (is(l->p, "operation", "reply"))
		emit(l, l->p, "{!ARP} {src_ip} is at {src_hw} (told {dst_ip})");
	else
		emit(l, l->p, "{!ARP} operation {operation} from {src_ip} to {dst_ip}");
	if (!is_empty(at(l->p, "notes")))
		emit(l, l->p, " [{notes}]");
}

/* FlowChef: FLOW tcp 127.0.0.1:33724 --> 127.0.0.1:18080 0.005 s, out 7 pkts ... */
static void fmt_flow(const struct line *l)
{
	if (!at(l->p, "client"))
		emit(l, l->p, "{!FLOW} active {active_flows}, started {flows_started}, ended"
		     " {flows_ended}, evicted {evictions}");
	else
		emit(l, l->p, "{!FLOW} {proto} {=client} --> {=server} {.duration} s, out"
		     " {client_to_server.packets} pkts {client_to_server.bytes} B"
		     "{+client_to_server.tcp_flags}, in {server_to_client.packets} pkts"
		     " {server_to_client.bytes} B{+server_to_client.tcp_flags} ({end_reason})");
}

/* PacketCountChef: PACKETS ARP 2, DNS 4, Ethernet 40, ... */
static void fmt_packetcount(const struct line *l)
{
	emit(l, l->p, "{!PACKETS} ");
	put_counts(l->f, at(l->p, "packet_counts"), NULL, 32);
}

/* SystemStatusChef: HUB up 00:01:02, dumplings in 120 out 240, kitchens 1, eaters 2 */
static void fmt_status(const struct line *l)
{
	emit(l, l->p, "{!HUB} up {:server_uptime}, dumplings in {total_dumplings_in} out"
	     " {total_dumplings_out}, kitchens {dumpling_kitchen_count}, eaters"
	     " {dumpling_eater_count}");
}

/* SystemDropsChef: DROPS hub dropped 1200 dumplings for this eater (5300 in all, drop-oldest) */
static void fmt_drops(const struct line *l)
{
	emit(l, l->p, "{!DROPS} hub dropped {dropped} dumplings for this eater"
	     " ({total_dropped} in all, {policy})");
}

/* Anything else: Chef@kitchen {"compact":"payload"}, cut short. */
static void fmt_generic(const struct line *l)
{
	const struct ndl_dumpling *d = l->d;

	fputs(l->color ? BOLD : "", l->f);
	ndl__put_safe(l->f, d->chef, strlen(d->chef), 64);
	if (d->kitchen) {
		putc('@', l->f);
		ndl__put_safe(l->f, d->kitchen, strlen(d->kitchen), 64);
	}
	fputs(l->color ? RESET : "", l->f);
	putc(' ', l->f);
	put_value(l->f, l->p, NDL__SUMMARY_GENERIC_MAX);
}

static const struct {
	const char *chef;
	void (*fmt)(const struct line *l);
} formatters[] = {
	{ "NetwatchChef", fmt_netwatch },
	{ "HTTPRequestChef", fmt_http },
	{ "TLSClientHelloChef", fmt_tls },
	{ "DNSLookupChef", fmt_dns },
	{ "ARPChef", fmt_arp },
	{ "FlowChef", fmt_flow },
	{ "PacketCountChef", fmt_packetcount },
	{ NDL_STATUS_CHEF, fmt_status },
	{ NDL_DROPS_CHEF, fmt_drops },
};

int ndl__summary_line(FILE *f, const struct ndl_dumpling *d, int color)
{
	struct line l = { .f = f, .p = d->payload, .d = d, .color = color };
	void (*fmt)(const struct line *l) = fmt_generic;
	char when[64];

	for (size_t i = 0; i < sizeof(formatters) / sizeof(formatters[0]); i++)
		if (strcmp(d->chef, formatters[i].chef) == 0 && json_is_object(d->payload))
			fmt = formatters[i].fmt;
	ndl__py_localtime(d->creation_time, ' ', 1, when, sizeof(when));
	fprintf(f, "%s%s%s - ", color ? DIM : "", when, color ? RESET : "");
	fmt(&l);
	putc('\n', f);
	return ferror(f) ? -EIO : 0;
}
