/* SPDX-License-Identifier: MIT */
/*
 * nd-nmsg - an eater that writes the dumplings it receives as NMSG
 * (docs/nmsg.md): IPConnChef dumplings as base:ipconn, any other as
 * base:encode carrying the dumpling's JSON, into a file, standard output
 * or UDP datagrams.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "nmsg.h"

#define DEFAULT_NAME "nmsgeater"
#define IPCONN_CHEF "IPConnChef"
#define UDP_DEFAULT_CONTAINER 1280   /* fits an Ethernet MTU, as nmsg's default */

struct out {
	struct ndl__app app;
	struct ndl__nmsg_writer *w;
	struct ndl__nmsg_writer_config wcfg;
	const char *path;            /* -w */
	const char *udp;             /* --udp */
	FILE *f;
	int sock;
	bool encode_all;
	bool has_source, has_operator, has_group;
	uint32_t source, operator_id, group;
	double flush_s;
	long long count;             /* 0: no limit */
	long long taken;
	uint64_t ipconn, encode, unusable, send_errors;
	uv_timer_t flush;
	bool flush_init, flush_armed;
	uv_signal_t sigint, sigterm;
	bool failed;
};

enum {
	OPT_UDP = NDL__OPT_OWN, OPT_CONTAINER, OPT_UNBUFFERED, OPT_SOURCE, OPT_OPERATOR,
	OPT_GROUP, OPT_ENCODE_ALL, OPT_COUNT, OPT_FLUSH,
};

static const struct option long_opts[] = {
	{ "write", required_argument, NULL, 'w' },
	{ "udp", required_argument, NULL, OPT_UDP },
	{ "zlib", no_argument, NULL, 'z' },
	{ "container-size", required_argument, NULL, OPT_CONTAINER },
	{ "unbuffered", no_argument, NULL, OPT_UNBUFFERED },
	{ "source", required_argument, NULL, OPT_SOURCE },
	{ "operator", required_argument, NULL, OPT_OPERATOR },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "encode-all", no_argument, NULL, OPT_ENCODE_ALL },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "flush-interval", required_argument, NULL, OPT_FLUSH },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fputs(
"Usage: nd-nmsg [OPTIONS] (-w FILE | --udp ADDR/PORT)\n"
"\n"
"Connect to an nd-hub as an eater and write the dumplings it sends as\n"
"Farsight NMSG: IPConnChef dumplings as base:ipconn, every other dumpling as\n"
"base:encode (type JSON) holding the dumpling exactly as received.\n"
"\n"
"Options:\n"
NDL__HUB_OPTIONS_HELP
NDL__SUB_OPTIONS_HELP("write", DEFAULT_NAME, "exit 1")
"  -w, --write FILE              write NMSG containers to FILE (\"-\": standard\n"
"                                output)\n"
"      --udp ADDR/PORT           send each container as one UDP datagram to\n"
"                                ADDR/PORT (e.g. 127.0.0.1/8430, ::1/8430), with\n"
"                                sequence numbers\n"
"  -z, --zlib                    compress each container (zlib)\n"
"      --container-size BYTES    largest container, header included (default\n"
"                                8192 for a file, 1280 for UDP; 128 to 1048576);\n"
"                                a larger message is cut into fragments\n"
"      --unbuffered              one payload per container, written at once\n"
"      --source N                the payloads' source id (e.g. 0xa1b2c3d4)\n"
"      --operator N              the payloads' operator id\n"
"      --group N                 the payloads' group id\n"
"      --encode-all              write IPConnChef dumplings as base:encode too\n"
"      --flush-interval SECONDS  write a partly filled container after this long\n"
"                                (default 1)\n"
"      --count N                 exit after N dumplings\n"
NDL__HELP_VERSION_HELP, f);
}

static int parse_u32(const char *opt, const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v > UINT32_MAX || s[0] == '-') {
		fprintf(stderr, "nd-nmsg: %s wants a number from 0 to 4294967295 (decimal or "
			"0x hex), not '%s'\n", opt, s);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int own_opt(void *ctx, int opt, const char *arg)
{
	struct out *o = ctx;
	char *end;

	switch (opt) {
	case 'w': o->path = arg; return 0;
	case OPT_UDP: o->udp = arg; return 0;
	case 'z': o->wcfg.zlib = true; return 0;
	case OPT_CONTAINER: {
		unsigned long v;
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || v < NDL__NMSG_MIN_CONTAINER ||
		    v > NDL__NMSG_MAX_CONTAINER) {
			fprintf(stderr, "nd-nmsg: --container-size wants bytes from %u to %u, not "
				"'%s'\n", NDL__NMSG_MIN_CONTAINER, NDL__NMSG_MAX_CONTAINER, arg);
			return -EINVAL;
		}
		o->wcfg.container_size = v;
		return 0;
	}
	case OPT_UNBUFFERED: o->wcfg.unbuffered = true; return 0;
	case OPT_SOURCE:
		o->has_source = true;
		return parse_u32("--source", arg, &o->source);
	case OPT_OPERATOR:
		o->has_operator = true;
		return parse_u32("--operator", arg, &o->operator_id);
	case OPT_GROUP:
		o->has_group = true;
		return parse_u32("--group", arg, &o->group);
	case OPT_ENCODE_ALL: o->encode_all = true; return 0;
	case OPT_COUNT: return ndl__parse_count("nd-nmsg", arg, &o->count);
	case OPT_FLUSH:
		o->flush_s = strtod(arg, &end);
		if (end == arg || *end || !(o->flush_s >= 0.01) || o->flush_s > 3600) {
			fprintf(stderr, "nd-nmsg: --flush-interval wants seconds from 0.01 to 3600, "
				"not '%s'\n", arg);
			return -EINVAL;
		}
		return 0;
	default:
		return -EINVAL;
	}
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */
/* ------------------------------------------------------------------------ */

static int write_container(void *arg, const uint8_t *data, size_t len)
{
	struct out *o = arg;

	if (o->sock >= 0) {
		if (send(o->sock, data, len, 0) < 0)
			o->send_errors++;    /* UDP may lose: counted, never fatal */
		return 0;
	}
	if (fwrite(data, 1, len, o->f) != len)
		return -EIO;
	if (o->wcfg.unbuffered && fflush(o->f) != 0)
		return -EIO;
	return 0;
}

static int open_udp(struct out *o)
{
	const char *slash = strrchr(o->udp, '/');
	char host[64], *end;
	unsigned long port;
	struct sockaddr_storage sa;
	socklen_t salen;

	memset(&sa, 0, sizeof(sa));
	if (!slash || slash == o->udp || (size_t)(slash - o->udp) >= sizeof(host))
		goto bad;
	memcpy(host, o->udp, (size_t)(slash - o->udp));
	host[slash - o->udp] = '\0';
	errno = 0;
	port = strtoul(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || port == 0 || port > 65535)
		goto bad;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&sa)->sin_addr) == 1) {
		((struct sockaddr_in *)&sa)->sin_family = AF_INET;
		((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
		salen = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&sa)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&sa)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
		salen = sizeof(struct sockaddr_in6);
	} else {
		goto bad;
	}
	o->sock = socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (o->sock < 0 || connect(o->sock, (struct sockaddr *)&sa, salen) < 0) {
		fprintf(stderr, "nd-nmsg: cannot send to %s: %s\n", o->udp, strerror(errno));
		return -errno;
	}
	return 0;
bad:
	fprintf(stderr, "nd-nmsg: --udp wants ADDR/PORT with an IPv4 or IPv6 address (e.g. "
		"127.0.0.1/8430), not '%s'\n", o->udp);
	return -EINVAL;
}

static void fail(struct out *o, const char *what)
{
	if (o->failed)
		return;
	o->failed = true;
	ndl__app_fail(&o->app, what);
}

static void flush_all(struct out *o)
{
	int r = ndl__nmsg_writer_flush(o->w);

	if (r == -EMSGSIZE) {
		o->unusable++;    /* a dumpling too large for the fragment limit */
		r = 0;
	}
	if (r < 0 || (o->f && fflush(o->f) != 0))
		fail(o, "cannot write the NMSG output");
}

static void on_flush(uv_timer_t *t)
{
	struct out *o = t->data;

	o->flush_armed = false;
	flush_all(o);
}

/* Seconds since the epoch as NMSG's seconds and nanoseconds (to the microsecond). */
static void split_time(double t, struct ndl__nmsg_payload *p)
{
	double sec;
	long long us;

	if (!isfinite(t) || t < 0 || t > 1e15)
		t = 0;
	sec = floor(t);
	us = llround((t - sec) * 1e6);
	if (us >= 1000000) {
		sec += 1;
		us -= 1000000;
	}
	p->time_sec = (int64_t)sec;
	p->time_nsec = (uint32_t)(us * 1000);
}

static int take_ip(json_t *v, uint8_t *ip, size_t *len)
{
	const char *s = json_string_value(v);

	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, ip) == 1) {
		*len = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip) == 1) {
		*len = 16;
		return 0;
	}
	return -EINVAL;
}

static int take_port(json_t *v, uint32_t *out, long long max)
{
	long long n;

	if (!json_is_integer(v))
		return -EINVAL;
	n = json_integer_value(v);
	if (n < 0 || n > max)
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}

/* base:ipconn of an IPConnChef payload. Returns 0, or -EINVAL when it is not one. */
static int ipconn_of(json_t *pl, struct ndl__nmsg_ipconn *m)
{
	memset(m, 0, sizeof(*m));
	if (!json_is_object(pl) ||
	    take_port(json_object_get(pl, "proto"), &m->proto, 255) < 0 ||
	    take_ip(json_object_get(pl, "srcip"), m->srcip, &m->srcip_len) < 0 ||
	    take_ip(json_object_get(pl, "dstip"), m->dstip, &m->dstip_len) < 0 ||
	    take_port(json_object_get(pl, "srcport"), &m->srcport, 65535) < 0 ||
	    take_port(json_object_get(pl, "dstport"), &m->dstport, 65535) < 0)
		return -EINVAL;
	m->has_proto = m->has_srcport = m->has_dstport = true;
	return 0;
}

static void on_dumpling(struct ndl_eater *e, const struct ndl_dumpling *d)
{
	struct out *o = ndl__app_of(e)->data;
	struct ndl__nmsg_payload p = { .vid = NDL__NMSG_VID_BASE };
	struct ndl__nmsg_ipconn ic;
	struct ndl__pb_buf b;
	double t = d->creation_time;
	int r;

	if (o->failed)
		return;
	ndl__pb_buf_init(&b, 64u << 20);
	if (!o->encode_all && strcmp(d->chef, IPCONN_CHEF) == 0 && ipconn_of(d->payload, &ic) == 0) {
		json_t *pt = json_object_get(d->payload, "time");
		if (json_is_number(pt))
			t = json_number_value(pt);
		p.msgtype = NDL__NMSG_BASE_IPCONN;
		r = ndl__nmsg_ipconn_encode(&b, &ic);
		o->ipconn++;
	} else {
		struct ndl__nmsg_encode enc = {
			.type = NDL__NMSG_ENCODE_JSON,
			.data = (const uint8_t *)d->raw, .len = d->raw_len,
		};
		p.msgtype = NDL__NMSG_BASE_ENCODE;
		r = ndl__nmsg_encode_encode(&b, &enc);
		o->encode++;
	}
	if (r < 0) {
		o->unusable++;
		ndl__pb_buf_free(&b);
		return;
	}
	split_time(t, &p);
	p.data = b.data;
	p.len = b.len;
	p.has_source = o->has_source;
	p.source = o->source;
	p.has_operator = o->has_operator;
	p.operator_id = o->operator_id;
	p.has_group = o->has_group;
	p.group = o->group;
	r = ndl__nmsg_writer_add(o->w, &p);
	ndl__pb_buf_free(&b);
	if (r == -EMSGSIZE) {
		o->unusable++;
		return;
	}
	if (r < 0) {
		fail(o, "cannot write the NMSG output");
		return;
	}
	if (!o->wcfg.unbuffered && !o->flush_armed) {
		o->flush_armed = true;
		uv_timer_start(&o->flush, on_flush, (uint64_t)llround(o->flush_s * 1000.0), 0);
	}
	if (o->count && ++o->taken >= o->count) {
		flush_all(o);
		if (!o->failed)
			ndl__app_full(&o->app);
	}
}

/* ------------------------------------------------------------------------ */
/* Running                                                                   */
/* ------------------------------------------------------------------------ */

static void on_signal(uv_signal_t *s, int signum)
{
	struct out *o = s->data;

	(void)signum;
	o->app.exit_code = 0;
	ndl_eater_close(o->app.eater, NDL_EATER_CLOSE_CANCELLED, "eater cancelled");
}

static void on_connect(struct ndl_eater *e)
{
	struct out *o = ndl__app_of(e)->data;

	fprintf(stderr, "nd-nmsg: connected to the hub at %s; writing NMSG to %s\n",
		ndl_eater_url(e), o->udp ? o->udp : strcmp(o->path, "-") ? o->path :
		"standard output");
}

static void on_close(struct ndl_eater *e, const struct ndl_eater_close_info *info)
{
	struct out *o = ndl__app_of(e)->data;

	ndl_eater_get_stats(e, &o->app.stats, sizeof(o->app.stats));
	if (info->status < 0 && !o->failed) {
		fprintf(stderr, "nd-nmsg: %s (%d%s%s)\n", info->was_connected ?
			"the hub closed the connection" : "cannot connect to the hub", info->code,
			info->reason[0] ? ": " : "", info->reason);
		o->app.exit_code = 1;
	}
	uv_close((uv_handle_t *)&o->flush, NULL);
	uv_close((uv_handle_t *)&o->sigint, NULL);
	uv_close((uv_handle_t *)&o->sigterm, NULL);
}

int main(int argc, char **argv)
{
	struct out o;
	struct ndl__eater_opts eo;
	uv_loop_t *loop;
	int r;

	memset(&o, 0, sizeof(o));
	o.sock = -1;
	o.flush_s = 1.0;
	r = ndl__eater_opts_parse(&eo, "nd-nmsg", DEFAULT_NAME, NDL__EO_SUB, argc, argv, "w:z",
				  long_opts, usage, own_opt, &o);
	if (r != 0)
		return r > 0 ? 0 : 1;
	if (!o.path == !o.udp) {
		fprintf(stderr, "nd-nmsg: say where to write: -w FILE or --udp ADDR/PORT (one of "
			"them)\nTry 'nd-nmsg --help' for more information.\n");
		return 1;
	}
	if (o.udp) {
		if (open_udp(&o) < 0)
			return 1;
		o.wcfg.sequence = true;
		if (!o.wcfg.container_size)
			o.wcfg.container_size = UDP_DEFAULT_CONTAINER;
	} else if (strcmp(o.path, "-") == 0) {
		o.f = stdout;
	} else {
		o.f = fopen(o.path, "wb");
		if (!o.f) {
			fprintf(stderr, "nd-nmsg: cannot write %s: %s\n", o.path, strerror(errno));
			return 1;
		}
	}
	o.w = ndl__nmsg_writer_new(&o.wcfg, write_container, &o);
	if (!o.w) {
		fprintf(stderr, "nd-nmsg: cannot start the NMSG writer: %s\n", strerror(errno));
		r = 1;
		goto close_out;
	}
	if (ndl__app_setup(&o.app, &eo) < 0) {
		r = 1;
		goto free_writer;
	}
	o.app.data = &o;
	o.app.gap_notices = 1;
	ndl_eater_set_drop_notices(o.app.eater, NDL_EATER_DROPS_HIDE);
	loop = ndl_eater_loop(o.app.eater);
	signal(SIGPIPE, SIG_IGN);
	uv_timer_init(loop, &o.flush);
	o.flush.data = &o;
	uv_signal_init(loop, &o.sigint);
	o.sigint.data = &o;
	uv_signal_init(loop, &o.sigterm);
	o.sigterm.data = &o;
	r = ndl_eater_start(o.app.eater, on_connect, on_dumpling, on_close);
	if (r < 0) {
		fprintf(stderr, "nd-nmsg: cannot start the eater: %s\n", strerror(-r));
		uv_close((uv_handle_t *)&o.flush, NULL);
		uv_close((uv_handle_t *)&o.sigint, NULL);
		uv_close((uv_handle_t *)&o.sigterm, NULL);
		uv_run(loop, UV_RUN_DEFAULT);
		ndl_eater_free(o.app.eater);
		r = 1;
		goto free_writer;
	}
	uv_signal_start(&o.sigint, on_signal, SIGINT);
	uv_signal_start(&o.sigterm, on_signal, SIGTERM);
	ndl_eater_run(o.app.eater);
	ndl_eater_free(o.app.eater);
	if (!o.failed)
		flush_all(&o);
	r = o.failed ? 1 : o.app.exit_code;
	{
		const struct ndl__nmsg_writer_stats *ws = ndl__nmsg_writer_stats(o.w);
		fprintf(stderr, "nd-nmsg: %llu dumplings: %llu base:ipconn, %llu base:encode, %llu "
			"not writable; %llu containers (%llu messages fragmented), %llu bytes%s",
			(unsigned long long)(o.ipconn + o.encode), (unsigned long long)o.ipconn,
			(unsigned long long)o.encode, (unsigned long long)o.unusable,
			(unsigned long long)ws->containers, (unsigned long long)ws->fragmented,
			(unsigned long long)ws->bytes, o.send_errors ? "" : "\n");
		if (o.send_errors)
			fprintf(stderr, ", %llu datagrams not sent\n",
				(unsigned long long)o.send_errors);
	}
free_writer:
	ndl__nmsg_writer_free(o.w);
close_out:
	if (o.f && o.f != stdout && fclose(o.f) != 0 && r == 0) {
		fprintf(stderr, "nd-nmsg: cannot write %s: %s\n", o.path, strerror(errno));
		r = 1;
	}
	if (o.f == stdout && fflush(stdout) != 0 && r == 0)
		r = 1;
	if (o.sock >= 0)
		close(o.sock);
	return r;
}
