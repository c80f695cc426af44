/* SPDX-License-Identifier: MIT */
/*
 * nmsg_input.c - NMSG into the kitchen (docs/nmsg.md).
 *
 * A regular file is read in chunks from a uv_idle handle, like a pcap
 * replay, pausing while the outbox is full; standard input that is a pipe
 * or terminal is a libuv stream whose reading stops while paused. A UDP
 * listener takes one container per datagram; its fragment sets expire on
 * a timer. Payloads become packets for ndl__kitchen_packet:
 *
 *   base:packet  raw IPv4/IPv6        link type DLT_RAW
 *   base:pkt     link-layer frame     link type DLT_EN10MB, wire length len_frame
 *   base:ipconn  a header-only IPv4/IPv6 + TCP/UDP packet with its 5-tuple
 *
 * Other messages are counted as skipped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pcap/pcap.h>
#include "nmsg_input.h"

#define READ_CHUNK (256u * 1024u)
#define DLT_RAW_IP 12       /* DLT_RAW (Linux value) */
#define DLT_ETHERNET 1      /* DLT_EN10MB */
#define MAX_INTERVALS_PER_GAP 8
#define EXPIRE_MS 1000

enum kind { KIND_FILE, KIND_STREAM, KIND_UDP };

struct ndl__nmsg_input {
	uv_loop_t *loop;
	struct ndl_kitchen *k;
	struct ndl__capture_callbacks cb;
	struct ndl__nmsg_reader *reader;
	/* The pcap filter compiled for each link type NMSG payloads have. */
	struct bpf_program bpf_raw, bpf_eth;
	bool have_bpf;
	struct ndl__nmsg_input_stats st;
	enum kind kind;
	char *name;
	int fd;                    /* file or stdin; -1 none */
	bool own_fd;
	ndl_time_ns poke_ns;

	uv_idle_t idle;            /* file */
	union {
		uv_pipe_t pipe;
		uv_tty_t tty;
	} stream;                  /* stdin that is not a file */
	uv_udp_t udp;
	uv_timer_t timer;          /* UDP: fragment expiry; live intervals */
	uv_timer_t interval;
	bool idle_init, stream_init, udp_init, timer_init, interval_init;
	uint8_t *chunk;            /* file and stream reads */
	uint8_t *dgram;            /* UDP receive buffer */

	bool paused, ended, closing, reading;
	bool have_first;
	ndl_time_ns next_boundary;
	int pending_closes;
};

static void inlog(struct ndl__nmsg_input *in, enum ndl_log_level level, const char *fmt, ...)
	NDL_PRINTF(3, 4);
static void inlog(struct ndl__nmsg_input *in, enum ndl_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (in->cb.log)
		in->cb.log(in->cb.arg, level, line);
	else
		fprintf(stderr, "nd-sniff: %s\n", line);
}

int ndl__nmsg_parse_addr(const char *s, struct sockaddr_storage *sa)
{
	const char *slash = strrchr(s, '/');
	char host[64], *end;
	unsigned long port;

	if (!slash || slash == s || (size_t)(slash - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(slash - s));
	host[slash - s] = '\0';
	errno = 0;
	port = strtoul(slash + 1, &end, 10);
	if (errno || end == slash + 1 || *end || port == 0 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)sa) == 0)
		return 0;
	if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)sa) == 0)
		return 0;
	return -EINVAL;
}

/* ------------------------------------------------------------------------ */
/* Payloads to packets                                                       */
/* ------------------------------------------------------------------------ */

static void end_input(struct ndl__nmsg_input *in, int status)
{
	if (in->ended)
		return;
	in->ended = true;
	if (in->idle_init)
		uv_idle_stop(&in->idle);
	if (in->stream_init)
		uv_read_stop((uv_stream_t *)&in->stream);
	if (in->cb.on_end)
		in->cb.on_end(in->cb.arg, status);
}

/* A file: run the interval handlers for every boundary ts has crossed. */
static void replay_intervals(struct ndl__nmsg_input *in, ndl_time_ns ts)
{
	int n = 0;

	if (!in->have_first) {
		in->have_first = true;
		in->next_boundary = ts + in->poke_ns;
		return;
	}
	while (ts >= in->next_boundary && n < MAX_INTERVALS_PER_GAP) {
		ndl__kitchen_set_clock(in->k, in->next_boundary);
		ndl__kitchen_interval(in->k);
		in->next_boundary += in->poke_ns;
		n++;
	}
	if (ts >= in->next_boundary)
		in->next_boundary += ((ts - in->next_boundary) / in->poke_ns + 1) * in->poke_ns;
}

static uint16_t ip_checksum(const uint8_t *h, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * The packet a base:ipconn stands for: an IPv4 (RFC 791) or IPv6
 * (RFC 8200) header, then a TCP (RFC 9293, ACK set) or UDP (RFC 768)
 * header with the ports, no data. Returns its length, 0 when it cannot.
 */
static size_t ipconn_packet(const struct ndl__nmsg_ipconn *c, uint8_t *out)
{
	size_t ip_len, l4_len = 0;
	uint8_t proto = c->has_proto ? (uint8_t)c->proto : 0;
	uint8_t *l4;

	if (!c->srcip_len || c->srcip_len != c->dstip_len)
		return 0;
	if (proto == 6)
		l4_len = 20;
	else if (proto == 17)
		l4_len = 8;
	ip_len = c->srcip_len == 4 ? 20 : 40;
	memset(out, 0, ip_len + l4_len);
	if (c->srcip_len == 4) {
		out[0] = 0x45;
		put16(out + 2, (uint32_t)(ip_len + l4_len));
		out[6] = 0x40;                /* don't fragment */
		out[8] = 64;
		out[9] = proto;
		memcpy(out + 12, c->srcip, 4);
		memcpy(out + 16, c->dstip, 4);
		put16(out + 10, ip_checksum(out, 20));
	} else {
		out[0] = 0x60;
		put16(out + 4, (uint32_t)l4_len);
		out[6] = proto;
		out[7] = 64;
		memcpy(out + 8, c->srcip, 16);
		memcpy(out + 24, c->dstip, 16);
	}
	l4 = out + ip_len;
	if (l4_len) {
		put16(l4, c->srcport);
		put16(l4 + 2, c->dstport);
	}
	if (proto == 6) {
		l4[12] = 5 << 4;              /* data offset: 5 words */
		l4[13] = 0x10;                /* ACK */
		put16(l4 + 14, 65535);
	} else if (proto == 17) {
		put16(l4 + 4, 8);
	}
	return ip_len + l4_len;
}

static int on_payload(void *arg, const struct ndl__nmsg_payload *p)
{
	struct ndl__nmsg_input *in = arg;
	uint8_t synth[64];
	const uint8_t *data = NULL;
	size_t len = 0, wire = 0;
	int linktype = DLT_RAW_IP;
	ndl_time_ns ts;

	if (p->vid != NDL__NMSG_VID_BASE) {
		in->st.skipped++;
		return 0;
	}
	switch (p->msgtype) {
	case NDL__NMSG_BASE_PACKET: {
		struct ndl__nmsg_packet m;
		if (ndl__nmsg_packet_decode(p->data, p->len, &m) < 0 ||
		    m.payload_type != NDL__NMSG_PACKET_IP) {
			in->st.bad_messages++;
			return 0;
		}
		data = m.data;
		len = wire = m.len;
		break;
	}
	case NDL__NMSG_BASE_PKT: {
		struct ndl__nmsg_pkt m;
		if (ndl__nmsg_pkt_decode(p->data, p->len, &m) < 0) {
			in->st.bad_messages++;
			return 0;
		}
		data = m.data;
		len = wire = m.len;
		if (m.has_len_frame && m.len_frame > len)
			wire = m.len_frame;
		linktype = DLT_ETHERNET;
		break;
	}
	case NDL__NMSG_BASE_IPCONN: {
		struct ndl__nmsg_ipconn m;
		if (ndl__nmsg_ipconn_decode(p->data, p->len, &m) < 0 ||
		    !(len = ipconn_packet(&m, synth))) {
			in->st.bad_messages++;
			return 0;
		}
		data = synth;
		wire = len;
		break;
	}
	default:
		in->st.skipped++;
		return 0;
	}
	if (len > UINT32_MAX || wire > UINT32_MAX || p->time_sec < 0 ||
	    p->time_sec > INT64_MAX / 1000000000LL - 1) {
		in->st.bad_messages++;
		return 0;
	}
	ts = p->time_sec * 1000000000LL + p->time_nsec;
	if (in->kind != KIND_UDP)
		replay_intervals(in, ts);
	if (in->have_bpf) {
		struct pcap_pkthdr h = { .caplen = (bpf_u_int32)len, .len = (bpf_u_int32)wire };

		if (!pcap_offline_filter(linktype == DLT_ETHERNET ? &in->bpf_eth : &in->bpf_raw,
					 &h, data)) {
			in->st.bpf_rejected++;
			return 0;
		}
	}
	in->st.packets++;
	ndl__kitchen_packet(in->k, linktype, data, (uint32_t)len, (uint32_t)wire, ts);
	return 0;
}

static void on_reader_error(void *arg, enum ndl__nmsg_error e, const char *msg)
{
	struct ndl__nmsg_input *in = arg;

	(void)e;
	inlog(in, NDL_LOG_WARN, "%s: %s", in->name, msg);
}

/* ------------------------------------------------------------------------ */
/* Sources                                                                   */
/* ------------------------------------------------------------------------ */

static void finish_stream(struct ndl__nmsg_input *in)
{
	int r = ndl__nmsg_reader_finish(in->reader);

	if (r < 0)
		inlog(in, NDL_LOG_ERROR, "%s: the NMSG input ended badly (%llu errors); what "
		      "came before was used", in->name,
		      (unsigned long long)ndl__nmsg_reader_stats(in->reader)->errors);
	end_input(in, r < 0 ? -EBADMSG : 0);
}

/* Nothing more to read for now: what the chefs made can go on (standard
 * output is written in large blocks otherwise). */
static void caught_up(struct ndl__nmsg_input *in)
{
	if (in->cb.on_caught_up)
		in->cb.on_caught_up(in->cb.arg);
}

/* Feed bytes; a stream that cannot go on ends the input. */
static bool feed(struct ndl__nmsg_input *in, const uint8_t *data, size_t len)
{
	int r = ndl__nmsg_reader_feed(in->reader, data, len);

	/* the chef threads' dumplings, once per chunk read */
	ndl__kitchen_flush(in->k);
	if (r == -EBADMSG) {
		finish_stream(in);
		return false;
	}
	if (r < 0) {
		inlog(in, NDL_LOG_ERROR, "%s: %s", in->name, strerror(-r));
		end_input(in, r);
		return false;
	}
	return true;
}

/* The outbox is full, or the chef threads have no room: read no further
 * until resumed (by the hub's drain or the kitchen's wake). */
static bool want_pause(struct ndl__nmsg_input *in)
{
	return (in->cb.should_pause && in->cb.should_pause(in->cb.arg)) ||
	       !ndl__kitchen_ready(in->k);
}

static void on_idle(uv_idle_t *h)
{
	struct ndl__nmsg_input *in = h->data;
	ssize_t n;

	if (in->closing || in->ended)
		return;
	if (want_pause(in)) {
		in->paused = true;
		uv_idle_stop(&in->idle);
		return;
	}
	n = read(in->fd, in->chunk, READ_CHUNK);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		inlog(in, NDL_LOG_ERROR, "reading %s failed: %s", in->name, strerror(errno));
		end_input(in, -EIO);
		return;
	}
	if (n == 0) {
		finish_stream(in);
		return;
	}
	if (feed(in, in->chunk, (size_t)n) && (size_t)n < READ_CHUNK)
		caught_up(in);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct ndl__nmsg_input *in = h->data;

	(void)suggested;
	*buf = uv_buf_init((char *)in->chunk, READ_CHUNK);
}

static void on_stream_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct ndl__nmsg_input *in = s->data;

	(void)buf;
	if (in->closing || in->ended)
		return;
	if (n == UV_EOF) {
		finish_stream(in);
		return;
	}
	if (n < 0) {
		inlog(in, NDL_LOG_ERROR, "reading %s failed: %s", in->name, uv_strerror((int)n));
		end_input(in, -EIO);
		return;
	}
	if (n > 0 && feed(in, in->chunk, (size_t)n)) {
		if (want_pause(in)) {
			in->paused = true;
			in->reading = false;
			uv_read_stop(s);
		} else if ((size_t)n < READ_CHUNK) {
			caught_up(in);
		}
	}
}

static void on_dgram_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct ndl__nmsg_input *in = h->data;

	(void)suggested;
	*buf = uv_buf_init((char *)in->dgram, 65536);
}

static uint64_t peer_key(const struct sockaddr *sa)
{
	const uint8_t *p;
	size_t n;
	uint64_t h = 1469598103934665603ull;    /* FNV-1a */

	if (sa->sa_family == AF_INET) {
		p = (const uint8_t *)sa;
		n = sizeof(struct sockaddr_in);
	} else {
		p = (const uint8_t *)sa;
		n = sizeof(struct sockaddr_in6);
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

static void on_udp(uv_udp_t *u, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
		   unsigned flags)
{
	struct ndl__nmsg_input *in = u->data;
	uint64_t peer;

	if (in->closing || n == 0 || !from)
		return;
	if (n < 0) {
		inlog(in, NDL_LOG_WARN, "%s: receive failed: %s", in->name, uv_strerror((int)n));
		return;
	}
	in->st.datagrams++;
	if (flags & UV_UDP_PARTIAL) {
		inlog(in, NDL_LOG_WARN, "%s: a datagram larger than 64 KiB was cut; skipped",
		      in->name);
		return;
	}
	peer = peer_key(from);
	ndl__nmsg_reader_datagram(in->reader, (const uint8_t *)buf->base, (size_t)n, peer,
				  (int64_t)uv_hrtime());
	caught_up(in);
}

static void on_expire(uv_timer_t *t)
{
	struct ndl__nmsg_input *in = t->data;

	ndl__nmsg_reader_expire(in->reader, (int64_t)uv_hrtime());
}

static void on_interval(uv_timer_t *t)
{
	struct ndl__nmsg_input *in = t->data;

	ndl__kitchen_interval(in->k);
	caught_up(in);
}

/* ------------------------------------------------------------------------ */
/* Life cycle                                                                */
/* ------------------------------------------------------------------------ */

static void free_input(struct ndl__nmsg_input *in)
{
	if (in->own_fd && in->fd >= 0)
		close(in->fd);
	ndl__nmsg_reader_free(in->reader);
	if (in->have_bpf) {
		pcap_freecode(&in->bpf_raw);
		pcap_freecode(&in->bpf_eth);
	}
	free(in->chunk);
	free(in->dgram);
	free(in->name);
	free(in);
}

static int open_udp(struct ndl__nmsg_input *in, const char *listen, char *err, size_t errlen)
{
	struct sockaddr_storage sa;
	int r;

	if (ndl__nmsg_parse_addr(listen, &sa) < 0) {
		snprintf(err, errlen, "--nmsg-listen expects ADDR/PORT (e.g. 127.0.0.1/8430 or "
			 "::1/8430), got \"%s\"", listen);
		return -EINVAL;
	}
	in->dgram = malloc(65536);
	if (!in->dgram) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	uv_udp_init(in->loop, &in->udp);
	in->udp.data = in;
	in->udp_init = true;
	r = uv_udp_bind(&in->udp, (const struct sockaddr *)&sa, 0);
	if (r < 0) {
		snprintf(err, errlen, "cannot listen for NMSG on %s: %s", listen, uv_strerror(r));
		return r;
	}
	{
		int size = 4 << 20;
		uv_recv_buffer_size((uv_handle_t *)&in->udp, &size);
	}
	return 0;
}

static int open_file(struct ndl__nmsg_input *in, const char *file, char *err, size_t errlen)
{
	struct stat sb;

	if (strcmp(file, "-") == 0) {
		in->fd = STDIN_FILENO;
	} else {
		in->fd = open(file, O_RDONLY | O_CLOEXEC);
		if (in->fd < 0) {
			int e = errno;
			snprintf(err, errlen, "cannot read NMSG file %s: %s", file, strerror(e));
			return -e;
		}
		in->own_fd = true;
	}
	if (fstat(in->fd, &sb) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot read NMSG input %s: %s", in->name, strerror(e));
		return -e;
	}
	if (S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "cannot read NMSG file %s: it is a folder", file);
		return -EISDIR;
	}
	in->chunk = malloc(READ_CHUNK);
	if (!in->chunk) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	in->kind = S_ISREG(sb.st_mode) ? KIND_FILE : KIND_STREAM;
	return 0;
}

/*
 * Compile the pcap filter (the kitchen's -f) for raw IP (base:packet,
 * base:ipconn) and for Ethernet (base:pkt), as libpcap would for a
 * capture of that link type.
 */
static int compile_bpf(struct ndl__nmsg_input *in, const char *expr, char *err, size_t errlen)
{
	pcap_t *raw, *eth;
	int r = 0;

	if (!expr || !*expr)
		return 0;
	raw = pcap_open_dead(DLT_RAW, 262144);
	eth = pcap_open_dead(DLT_EN10MB, 262144);
	if (!raw || !eth) {
		snprintf(err, errlen, "out of memory compiling the filter");
		r = -ENOMEM;
	} else if (pcap_compile(raw, &in->bpf_raw, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "bad filter \"%s\": %s", expr, pcap_geterr(raw));
		r = -EINVAL;
	} else if (pcap_compile(eth, &in->bpf_eth, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "bad filter \"%s\": %s", expr, pcap_geterr(eth));
		pcap_freecode(&in->bpf_raw);
		r = -EINVAL;
	} else {
		in->have_bpf = true;
	}
	if (raw)
		pcap_close(raw);
	if (eth)
		pcap_close(eth);
	return r;
}

int ndl__nmsg_input_open(uv_loop_t *loop, struct ndl_kitchen *k,
			 const struct ndl__nmsg_input_config *cfg,
			 const struct ndl__capture_callbacks *cb,
			 struct ndl__nmsg_input **out, char *err, size_t errlen)
{
	struct ndl__nmsg_reader_config rcfg = { 0 };
	struct ndl__nmsg_input *in;
	int r;

	*out = NULL;
	if (cfg->filter && ndl__nmsg_parse_filter(cfg->filter, &rcfg) < 0) {
		snprintf(err, errlen, "--nmsg-filter expects VENDOR[:TYPE] (e.g. base:packet, "
			 "base, 1:12), got \"%s\"", cfg->filter);
		return -EINVAL;
	}
	in = calloc(1, sizeof(*in));
	if (!in) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	in->loop = loop;
	in->k = k;
	in->cb = *cb;
	in->fd = -1;
	in->st.used = true;
	in->poke_ns = cfg->poke_ns > 0 ? cfg->poke_ns : 5000000000LL;
	in->name = strdup(cfg->listen ? cfg->listen : strcmp(cfg->file, "-") ? cfg->file :
			  "standard input");
	in->reader = ndl__nmsg_reader_new(&rcfg, on_payload, on_reader_error, in);
	if (!in->name || !in->reader) {
		snprintf(err, errlen, "out of memory");
		r = -ENOMEM;
		goto free_in;
	}
	r = compile_bpf(in, cfg->bpf, err, errlen);
	if (r < 0)
		goto free_in;
	if (cfg->listen) {
		in->kind = KIND_UDP;
		r = open_udp(in, cfg->listen, err, errlen);
	} else {
		r = open_file(in, cfg->file, err, errlen);
	}
	if (r < 0)
		goto free_in;
	*out = in;
	return 0;

free_in:
	if (in->udp_init) {
		/* a bound-or-not handle must be closed through the loop */
		in->pending_closes = 1;
		in->closing = true;
		in->udp_init = false;
		uv_close((uv_handle_t *)&in->udp, NULL);
		uv_run(loop, UV_RUN_NOWAIT);
	}
	free_input(in);
	return r;
}

int ndl__nmsg_input_start(struct ndl__nmsg_input *in)
{
	int r;

	switch (in->kind) {
	case KIND_FILE:
		uv_idle_init(in->loop, &in->idle);
		in->idle.data = in;
		in->idle_init = true;
		return uv_idle_start(&in->idle, on_idle);
	case KIND_STREAM:
		if (uv_guess_handle(in->fd) == UV_TTY)
			r = uv_tty_init(in->loop, &in->stream.tty, in->fd, 0);
		else
			r = uv_pipe_init(in->loop, &in->stream.pipe, 0);
		if (r < 0)
			return r;
		in->stream_init = true;
		((uv_handle_t *)&in->stream)->data = in;
		if (uv_guess_handle(in->fd) != UV_TTY) {
			r = uv_pipe_open(&in->stream.pipe, in->fd);
			if (r < 0) {
				inlog(in, NDL_LOG_ERROR, "cannot read %s: %s", in->name, uv_strerror(r));
				return r;
			}
		}
		in->reading = true;
		return uv_read_start((uv_stream_t *)&in->stream, on_alloc, on_stream_read);
	case KIND_UDP:
		uv_timer_init(in->loop, &in->timer);
		in->timer.data = in;
		in->timer_init = true;
		uv_timer_start(&in->timer, on_expire, EXPIRE_MS, EXPIRE_MS);
		uv_timer_init(in->loop, &in->interval);
		in->interval.data = in;
		in->interval_init = true;
		{
			uint64_t ms = (uint64_t)(in->poke_ns / 1000000);
			uv_timer_start(&in->interval, on_interval, ms ? ms : 1, ms ? ms : 1);
		}
		r = uv_udp_recv_start(&in->udp, on_dgram_alloc, on_udp);
		if (r < 0)
			inlog(in, NDL_LOG_ERROR, "cannot receive on %s: %s", in->name, uv_strerror(r));
		return r;
	}
	return -EINVAL;
}

void ndl__nmsg_input_resume(struct ndl__nmsg_input *in)
{
	if (!in || !in->paused || in->closing || in->ended)
		return;
	in->paused = false;
	if (in->kind == KIND_FILE) {
		uv_idle_start(&in->idle, on_idle);
	} else if (in->kind == KIND_STREAM && !in->reading) {
		in->reading = true;
		uv_read_start((uv_stream_t *)&in->stream, on_alloc, on_stream_read);
	}
}

void ndl__nmsg_input_stats(const struct ndl__nmsg_input *in, struct ndl__nmsg_input_stats *out)
{
	*out = in->st;
	out->reader = *ndl__nmsg_reader_stats(in->reader);
}

void ndl__nmsg_input_print_stats(const struct ndl__nmsg_input_stats *st, FILE *out)
{
	const struct ndl__nmsg_reader_stats *r = &st->reader;
	bool any = false;

	if (!st->used)
		return;
	fprintf(out, "nd-sniff: nmsg: %llu containers (%llu compressed, %llu fragments, %llu "
		"reassembled), %llu payloads: %llu packets, %llu skipped, %llu filtered, %llu "
		"not decodable",
		(unsigned long long)r->containers, (unsigned long long)r->zlib,
		(unsigned long long)r->fragments, (unsigned long long)r->reassembled,
		(unsigned long long)r->payloads, (unsigned long long)st->packets,
		(unsigned long long)st->skipped, (unsigned long long)r->filtered,
		(unsigned long long)st->bad_messages);
	if (st->bpf_rejected)
		fprintf(out, ", %llu left out by the filter",
			(unsigned long long)st->bpf_rejected);
	if (st->datagrams)
		fprintf(out, "; %llu datagrams, %llu sequence gaps (%llu containers lost)",
			(unsigned long long)st->datagrams, (unsigned long long)r->seq_gaps,
			(unsigned long long)r->seq_lost);
	fprintf(out, "\n");
	for (unsigned e = 1; e < NDL__NMSG_ERR_COUNT; e++) {
		if (!r->by_error[e])
			continue;
		fprintf(out, "%s %s %llu", any ? "," : "nd-sniff: nmsg errors:",
			ndl__nmsg_error_name(e), (unsigned long long)r->by_error[e]);
		any = true;
	}
	if (any)
		fprintf(out, "\n");
}

static void on_closed(uv_handle_t *h)
{
	struct ndl__nmsg_input *in = h->data;

	if (--in->pending_closes == 0)
		free_input(in);
}

static void close_handle(struct ndl__nmsg_input *in, uv_handle_t *h, bool *init)
{
	if (!*init)
		return;
	*init = false;
	in->pending_closes++;
	h->data = in;
	uv_close(h, on_closed);
}

void ndl__nmsg_input_close(struct ndl__nmsg_input *in)
{
	if (!in || in->closing)
		return;
	in->closing = true;
	in->pending_closes = 1;
	close_handle(in, (uv_handle_t *)&in->idle, &in->idle_init);
	close_handle(in, (uv_handle_t *)&in->stream, &in->stream_init);
	close_handle(in, (uv_handle_t *)&in->udp, &in->udp_init);
	close_handle(in, (uv_handle_t *)&in->timer, &in->timer_init);
	close_handle(in, (uv_handle_t *)&in->interval, &in->interval_init);
	if (--in->pending_closes == 0)
		free_input(in);
}
