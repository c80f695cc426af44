/* SPDX-License-Identifier: MIT */
/*
 * nmsg-dump - print the payloads of an NMSG input read with the nmsg
 * library, one JSON object per line in the shape of nmsgtool's -J output
 * (time, vname, mname, source, message), so tests can compare our reading
 * with the reference's. Input: a stream (a file, "-" for standard input),
 * or with --datagrams a file of datagrams each prefixed by its length as
 * a big-endian u32. The counters go to stderr as one JSON line.
 *
 * Exit status: 0, or 1 when the input ended badly or could not be read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include "nmsg.h"

static json_t *b64(const uint8_t *d, size_t n)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(4 * ((n + 2) / 3) + 1), *p = out;
	json_t *s;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) |
			     (i + 2 < n ? d[i + 2] : 0);
		*p++ = tab[v >> 18 & 63];
		*p++ = tab[v >> 12 & 63];
		*p++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
		*p++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*p = '\0';
	s = json_string(out);
	free(out);
	return s;
}

static json_t *ip(const uint8_t *a, size_t len)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(len == 4 ? AF_INET : AF_INET6, a, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *message(const struct ndl__nmsg_payload *p, const char **mname)
{
	json_t *m = json_object();

	*mname = p->vid == NDL__NMSG_VID_BASE ? ndl__nmsg_base_type_name(p->msgtype) : NULL;
	if (!*mname) {
		json_object_set_new(m, "vid", json_integer(p->vid));
		json_object_set_new(m, "msgtype", json_integer(p->msgtype));
		json_object_set_new(m, "bytes", b64(p->data, p->len));
		return m;
	}
	switch (p->msgtype) {
	case NDL__NMSG_BASE_PACKET: {
		struct ndl__nmsg_packet x;
		if (ndl__nmsg_packet_decode(p->data, p->len, &x) < 0)
			goto bad;
		if (x.payload_type == NDL__NMSG_PACKET_IP)
			json_object_set_new(m, "payload_type", json_string("IP"));
		else
			json_object_set_new(m, "payload_type", json_integer(x.payload_type));
		json_object_set_new(m, "payload", b64(x.data, x.len));
		break;
	}
	case NDL__NMSG_BASE_PKT: {
		struct ndl__nmsg_pkt x;
		if (ndl__nmsg_pkt_decode(p->data, p->len, &x) < 0)
			goto bad;
		if (x.has_len_frame)
			json_object_set_new(m, "len_frame", json_integer(x.len_frame));
		json_object_set_new(m, "payload", b64(x.data, x.len));
		break;
	}
	case NDL__NMSG_BASE_IPCONN: {
		struct ndl__nmsg_ipconn x;
		if (ndl__nmsg_ipconn_decode(p->data, p->len, &x) < 0)
			goto bad;
		if (x.has_proto)
			json_object_set_new(m, "proto", json_integer(x.proto));
		if (x.srcip_len)
			json_object_set_new(m, "srcip", ip(x.srcip, x.srcip_len));
		if (x.has_srcport)
			json_object_set_new(m, "srcport", json_integer(x.srcport));
		if (x.dstip_len)
			json_object_set_new(m, "dstip", ip(x.dstip, x.dstip_len));
		if (x.has_dstport)
			json_object_set_new(m, "dstport", json_integer(x.dstport));
		break;
	}
	case NDL__NMSG_BASE_ENCODE: {
		static const char *const types[] = { "TEXT", "JSON", "YAML", "MSGPACK", "XML" };
		struct ndl__nmsg_encode x;
		if (ndl__nmsg_encode_decode(p->data, p->len, &x) < 0)
			goto bad;
		if (x.type < 5)
			json_object_set_new(m, "type", json_string(types[x.type]));
		else
			json_object_set_new(m, "type", json_integer(x.type));
		json_object_set_new(m, "payload", b64(x.data, x.len));
		break;
	}
	default:
		json_object_set_new(m, "bytes", b64(p->data, p->len));
	}
	return m;
bad:
	json_object_clear(m);
	json_object_set_new(m, "undecodable", b64(p->data, p->len));
	return m;
}

static int on_payload(void *arg, const struct ndl__nmsg_payload *p)
{
	json_t *o = json_object();
	char when[64], src[16];
	struct tm tm;
	time_t t = (time_t)p->time_sec;
	const char *mname;
	json_t *msg = message(p, &mname);
	char *s;

	(void)arg;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%09u", p->time_nsec);
	json_object_set_new(o, "time", json_string(when));
	if (mname) {
		json_object_set_new(o, "vname", json_string("base"));
		json_object_set_new(o, "mname", json_string(mname));
	} else {
		json_object_set_new(o, "vid", json_integer(p->vid));
		json_object_set_new(o, "msgtype", json_integer(p->msgtype));
	}
	if (p->has_source) {
		snprintf(src, sizeof(src), "%08x", p->source);
		json_object_set_new(o, "source", json_string(src));
	}
	if (p->has_operator)
		json_object_set_new(o, "operator", json_integer(p->operator_id));
	if (p->has_group)
		json_object_set_new(o, "group", json_integer(p->group));
	json_object_set_new(o, "message", msg);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s)
		puts(s);
	free(s);
	json_decref(o);
	return 0;
}

static void on_error(void *arg, enum ndl__nmsg_error e, const char *msg)
{
	(void)arg;
	fprintf(stderr, "nmsg-dump: %s: %s\n", ndl__nmsg_error_name(e), msg);
}

int main(int argc, char **argv)
{
	struct ndl__nmsg_reader_config cfg = { 0 };
	const struct ndl__nmsg_reader_stats *st;
	struct ndl__nmsg_reader *r;
	bool datagrams = false;
	const char *path = NULL;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int status = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--datagrams") == 0)
			datagrams = true;
		else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc)
			ndl__nmsg_parse_filter(argv[++i], &cfg);
		else
			path = argv[i];
	}
	if (!path) {
		fprintf(stderr, "usage: nmsg-dump [--datagrams] [--filter V:T] FILE|-\n");
		return 2;
	}
	f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		fprintf(stderr, "nmsg-dump: cannot read %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (;;) {
		size_t n;
		if (len == cap) {
			uint8_t *b = realloc(buf, cap = cap ? cap * 2 : 65536);
			if (!b)
				return 1;
			buf = b;
		}
		n = fread(buf + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	if (f != stdin)
		fclose(f);
	r = ndl__nmsg_reader_new(&cfg, on_payload, on_error, NULL);
	if (!r)
		return 1;
	if (datagrams) {
		size_t at = 0;
		while (at + 4 <= len) {
			size_t n = (size_t)buf[at] << 24 | (size_t)buf[at + 1] << 16 |
				   (size_t)buf[at + 2] << 8 | buf[at + 3];
			at += 4;
			if (n > len - at)
				break;
			ndl__nmsg_reader_datagram(r, buf + at, n, 1, 0);
			at += n;
		}
	} else {
		/* fed in uneven pieces, as a pipe would give it */
		size_t at = 0, piece = 1;
		while (at < len) {
			size_t n = len - at < piece ? len - at : piece;
			if (ndl__nmsg_reader_feed(r, buf + at, n) < 0)
				break;
			at += n;
			piece = piece * 3 + 1;
			if (piece > 70000)
				piece = 7;
		}
		if (ndl__nmsg_reader_finish(r) < 0)
			status = 1;
	}
	st = ndl__nmsg_reader_stats(r);
	fprintf(stderr, "{\"containers\":%" PRIu64 ",\"payloads\":%" PRIu64 ",\"fragments\":%"
		PRIu64 ",\"reassembled\":%" PRIu64 ",\"zlib\":%" PRIu64 ",\"crc_checked\":%" PRIu64
		",\"seq_gaps\":%" PRIu64 ",\"seq_lost\":%" PRIu64 ",\"errors\":%" PRIu64 "}\n",
		st->containers, st->payloads, st->fragments, st->reassembled, st->zlib,
		st->crc_checked, st->seq_gaps, st->seq_lost, st->errors);
	ndl__nmsg_reader_free(r);
	free(buf);
	return status;
}
