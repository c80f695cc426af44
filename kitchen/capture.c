/* SPDX-License-Identifier: MIT */
/*
 * capture.c - libpcap sources on a libuv loop.
 *
 * Live: each interface is a non-blocking pcap_t, buffered with a timeout
 * of NDL__CAPTURE_TIMEOUT_MS, whose selectable fd is watched with uv_poll;
 * packets are read in batches of NDL__CAPTURE_BATCH. When libpcap says the fd alone is not enough
 * (pcap_get_required_select_timeout), a timer polls as well.
 *
 * Replay: the file is read with pcap_next_ex in batches from a uv_idle
 * handle, so the loop stays responsive (signals, the hub socket). Reading
 * pauses while the consumer says its outbox is full, so a replay never
 * loses dumplings; with realtime, a timer holds each packet until its
 * capture time has come (relative to the first packet).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <pcap/pcap.h>
#include "capture.h"

/* Interval handlers run at most this often per packet in a replay; a longer
 * silence in the capture skips the boundaries in between. */
#define MAX_INTERVALS_PER_GAP 8

struct source {
	struct ndl__capture *cap;
	pcap_t *p;
	char *name;
	int linktype;
	bool nano;
	char *iobuf;               /* replay: the stdio buffer of the file */
	uv_poll_t poll;
	uv_timer_t timer;          /* required select timeout, live */
	bool poll_init;
	bool timer_init;
	uint64_t timeout_ms;
};

struct ndl__capture {
	uv_loop_t *loop;
	struct ndl_kitchen *k;
	struct ndl__capture_callbacks cb;
	struct source src[NDL__CAPTURE_MAX_IFACES];
	size_t n_src;
	bool replay;
	bool realtime;
	ndl_time_ns poke_ns;

	/* live interval timer */
	uv_timer_t interval;
	bool interval_init;

	/* replay */
	uv_idle_t idle;
	bool idle_init;
	uv_timer_t pace;           /* realtime: waits for the held packet */
	bool pace_init;
	bool paused;
	bool ended;
	bool have_first;
	ndl_time_ns first_ts;      /* realtime: capture time of the first packet */
	uint64_t wall_start;       /* realtime: uv_hrtime at the first packet */
	ndl_time_ns next_boundary; /* next poke-interval boundary in capture time */
	bool held;                 /* realtime: a packet waits in hold_hdr/hold_data */
	struct pcap_pkthdr *hold_hdr;
	const u_char *hold_data;

	bool closing;
	int pending_closes;
};

static void caplog(struct ndl__capture *c, enum ndl_log_level level, const char *fmt, ...)
	NDL_PRINTF(3, 4);
static void caplog(struct ndl__capture *c, enum ndl_log_level level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (c->cb.log)
		c->cb.log(c->cb.arg, level, line);
	else
		fprintf(stderr, "nd-sniff: %s\n", line);
}

static ndl_time_ns ts_of(const struct source *s, const struct pcap_pkthdr *h)
{
	ndl_time_ns frac = (ndl_time_ns)h->ts.tv_usec;
	ndl_time_ns sec = (ndl_time_ns)h->ts.tv_sec;

	/*
	 * A pcap file stores the seconds as an unsigned 32-bit number, good
	 * until 2106 (draft-ietf-opsawg-pcap section 5); libpcap 1.10 reads
	 * them signed, so a packet from 2038 on comes back before 1970. In a
	 * file, take such seconds back as the unsigned count they are.
	 */
	if (s->cap->replay && sec < 0 && sec >= INT32_MIN)
		sec += (ndl_time_ns)1 << 32;
	return sec * 1000000000LL + (s->nano ? frac : frac * 1000);
}

char *ndl__capture_list_devices(char *out, size_t outlen)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_if_t *all = NULL;
	size_t used = 0;

	out[0] = '\0';
	if (pcap_findalldevs(&all, errbuf) < 0) {
		snprintf(out, outlen, "(cannot list: %s)", errbuf);
		return out;
	}
	for (pcap_if_t *d = all; d && used < outlen; d = d->next)
		used += (size_t)snprintf(out + used, outlen - used, "%s%s", used ? ", " : "",
					 d->name);
	pcap_freealldevs(all);
	if (!out[0])
		snprintf(out, outlen, "none");
	return out;
}

static bool device_exists(const char *name)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_if_t *all = NULL;
	bool found = false;

	if (strcmp(name, "any") == 0)
		return true;
	if (pcap_findalldevs(&all, errbuf) < 0)
		return true;    /* cannot tell: let pcap_activate decide */
	for (pcap_if_t *d = all; d && !found; d = d->next)
		found = strcmp(d->name, name) == 0;
	pcap_freealldevs(all);
	return found;
}

static int set_filter(pcap_t *p, const char *what, const char *filter, char *err, size_t errlen)
{
	struct bpf_program prog;

	if (!filter || !*filter)
		return 0;
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "bad filter \"%s\" for %s: %s", filter, what, pcap_geterr(p));
		return -EINVAL;
	}
	if (pcap_setfilter(p, &prog) < 0) {
		snprintf(err, errlen, "cannot set filter \"%s\" on %s: %s", filter, what,
			 pcap_geterr(p));
		pcap_freecode(&prog);
		return -EINVAL;
	}
	pcap_freecode(&prog);
	return 0;
}

/* Compile the filter for Ethernet before touching any device, so a typo is
 * reported as such even without capture permissions. */
static int check_filter_syntax(const char *filter, int snaplen, char *err, size_t errlen)
{
	struct bpf_program prog;
	pcap_t *dead;
	int r = 0;

	if (!filter || !*filter)
		return 0;
	dead = pcap_open_dead(DLT_EN10MB, snaplen);
	if (!dead)
		return 0;
	if (pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "bad filter \"%s\": %s", filter, pcap_geterr(dead));
		r = -EINVAL;
	} else {
		pcap_freecode(&prog);
	}
	pcap_close(dead);
	return r;
}

static int open_live(struct ndl__capture *c, struct source *s, const struct ndl__capture_config *cfg,
		     char *err, size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	char devs[512];
	const struct timeval *tmo;
	int r;

	if (!device_exists(s->name)) {
		snprintf(err, errlen, "no such interface \"%s\" (available: %s)", s->name,
			 ndl__capture_list_devices(devs, sizeof(devs)));
		return -ENODEV;
	}
	s->p = pcap_create(s->name, errbuf);
	if (!s->p) {
		snprintf(err, errlen, "cannot capture on %s: %s", s->name, errbuf);
		return -ENODEV;
	}
	pcap_set_snaplen(s->p, cfg->snaplen);
	pcap_set_promisc(s->p, cfg->promisc);
	/*
	 * Not immediate mode: on Linux that gives TPACKET_V2, a ring of slots
	 * each as large as the snapshot length (16 slots of 256 KiB in 4 MiB),
	 * which overflows at a few tens of thousands of packets a second.
	 * Buffered, libpcap uses TPACKET_V3: packets packed one after another
	 * in blocks, handed over when a block is full or the timeout has
	 * passed; the poll on the fd wakes the loop then.
	 */
	pcap_set_immediate_mode(s->p, 0);
	pcap_set_timeout(s->p, NDL__CAPTURE_TIMEOUT_MS);
	pcap_set_buffer_size(s->p, cfg->buffer_size > 0 ? cfg->buffer_size :
			     NDL__CAPTURE_DEFAULT_BUFFER);
	pcap_set_tstamp_precision(s->p, PCAP_TSTAMP_PRECISION_NANO);
	r = pcap_activate(s->p);
	if (r < 0) {
		switch (r) {
		case PCAP_ERROR_PERM_DENIED:
		case PCAP_ERROR_PROMISC_PERM_DENIED:
			snprintf(err, errlen, "cannot capture on %s: permission denied (%s); run as "
				 "root or grant the capabilities: setcap cap_net_raw,cap_net_admin=eip "
				 "nd-sniff", s->name, pcap_geterr(s->p));
			return -EPERM;
		case PCAP_ERROR_NO_SUCH_DEVICE:
			snprintf(err, errlen, "no such interface \"%s\" (available: %s)", s->name,
				 ndl__capture_list_devices(devs, sizeof(devs)));
			return -ENODEV;
		case PCAP_ERROR_IFACE_NOT_UP:
			snprintf(err, errlen, "cannot capture on %s: the interface is down", s->name);
			return -ENETDOWN;
		default:
			snprintf(err, errlen, "cannot capture on %s: %s (%s)", s->name,
				 pcap_statustostr(r), pcap_geterr(s->p));
			return -EIO;
		}
	} else if (r > 0) {
		caplog(c, NDL_LOG_WARN, "%s: %s (%s)", s->name, pcap_statustostr(r), pcap_geterr(s->p));
	}
	s->nano = pcap_get_tstamp_precision(s->p) == PCAP_TSTAMP_PRECISION_NANO;
	if (pcap_setnonblock(s->p, 1, errbuf) < 0) {
		snprintf(err, errlen, "cannot capture on %s: %s", s->name, errbuf);
		return -EIO;
	}
	s->linktype = pcap_datalink(s->p);
	r = set_filter(s->p, s->name, cfg->filter, err, errlen);
	if (r < 0)
		return r;
	if (pcap_get_selectable_fd(s->p) < 0) {
		snprintf(err, errlen, "cannot capture on %s: libpcap gives no pollable descriptor",
			 s->name);
		return -EIO;
	}
	tmo = pcap_get_required_select_timeout(s->p);
	if (tmo)
		s->timeout_ms = (uint64_t)tmo->tv_sec * 1000 + (uint64_t)tmo->tv_usec / 1000 + 1;
	return 0;
}

/*
 * libpcap reads a capture file through stdio, whose buffer is one file
 * system block (4 KiB): a replay then spends about a third of its time in
 * read(2) calls, copies and taking the stream's lock twice a packet. The
 * kitchen opens the file itself and gives stdio a buffer this large, so a
 * 2M-packet replay makes a few hundred reads instead of a hundred thousand,
 * and reads it unlocked.
 */
#define FILE_BUFFER_SIZE (1024 * 1024)

/* "-" is standard input, as for libpcap and tcpdump; a duplicate of it, so
 * that closing the capture (which closes the stream) leaves fd 0 alone. */
static FILE *open_stream(const char *name)
{
	FILE *f;
	int fd;

	if (strcmp(name, "-") != 0)
		return fopen(name, "rb");
	fd = dup(STDIN_FILENO);
	if (fd < 0)
		return NULL;
	f = fdopen(fd, "rb");
	if (!f) {
		int e = errno;
		close(fd);
		errno = e;
	}
	return f;
}

static int open_file(struct source *s, const struct ndl__capture_config *cfg,
		     char *err, size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct stat st;
	FILE *f;
	int e;

	f = open_stream(s->name);
	if (!f) {
		e = errno;
		snprintf(err, errlen, "cannot read capture file %s: %s", s->name, strerror(e));
		return -e;
	}
	/* What libpcap would only call a read error or a truncated header: */
	if (fstat(fileno(f), &st) == 0 &&
	    (S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size == 0))) {
		snprintf(err, errlen, "cannot read capture file %s: %s", s->name,
			 S_ISDIR(st.st_mode) ? "it is a directory" : "the file is empty");
		fclose(f);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EIO;
	}
	/* Without the large buffer stdio's own still works, only slower. */
	s->iobuf = malloc(FILE_BUFFER_SIZE);
	if (s->iobuf && setvbuf(f, s->iobuf, _IOFBF, FILE_BUFFER_SIZE) != 0) {
		free(s->iobuf);
		s->iobuf = NULL;
	}
	/* Only this thread reads the stream: no lock around every fread. */
	__fsetlocking(f, FSETLOCKING_BYCALLER);
	/* On success the pcap_t owns f (pcap_close closes it); not on failure. */
	s->p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!s->p) {
		if (strcmp(errbuf, "unknown file format") == 0)
			snprintf(err, errlen, "cannot read capture file %s: not a pcap or pcapng "
				 "file", s->name);
		else
			snprintf(err, errlen, "cannot read capture file %s: %s", s->name, errbuf);
		fclose(f);
		return -EIO;
	}
	s->nano = pcap_get_tstamp_precision(s->p) == PCAP_TSTAMP_PRECISION_NANO;
	s->linktype = pcap_datalink(s->p);
	return set_filter(s->p, s->name, cfg->filter, err, errlen);
}

static void free_capture(struct ndl__capture *c)
{
	for (size_t i = 0; i < c->n_src; i++) {
		if (c->src[i].p)
			pcap_close(c->src[i].p);
		free(c->src[i].iobuf);    /* the stream using it is closed now */
		free(c->src[i].name);
	}
	free(c);
}

int ndl__capture_open(uv_loop_t *loop, struct ndl_kitchen *k,
		      const struct ndl__capture_config *cfg,
		      const struct ndl__capture_callbacks *cb,
		      struct ndl__capture **out, char *err, size_t errlen)
{
	struct ndl__capture *c;
	int r;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->loop = loop;
	c->k = k;
	c->cb = *cb;
	c->poke_ns = cfg->poke_ns > 0 ? cfg->poke_ns : 5000000000LL;
	c->replay = cfg->read_file != NULL;
	c->realtime = cfg->realtime;
	if (c->replay) {
		c->n_src = 1;
		c->src[0].cap = c;
		c->src[0].name = strdup(cfg->read_file);
		if (!c->src[0].name) {
			r = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto free_cap;
		}
		r = open_file(&c->src[0], cfg, err, errlen);
		if (r < 0)
			goto free_cap;
	} else {
		if (cfg->n_ifaces == 0 || cfg->n_ifaces > NDL__CAPTURE_MAX_IFACES) {
			snprintf(err, errlen, "between 1 and %d interfaces may be given",
				 NDL__CAPTURE_MAX_IFACES);
			r = -EINVAL;
			goto free_cap;
		}
		r = check_filter_syntax(cfg->filter, cfg->snaplen, err, errlen);
		if (r < 0)
			goto free_cap;
		for (size_t i = 0; i < cfg->n_ifaces; i++) {
			struct source *s = &c->src[c->n_src++];
			s->cap = c;
			s->name = strdup(cfg->ifaces[i]);
			if (!s->name) {
				r = -ENOMEM;
				snprintf(err, errlen, "out of memory");
				goto free_cap;
			}
			r = open_live(c, s, cfg, err, errlen);
			if (r < 0)
				goto free_cap;
		}
	}
	*out = c;
	return 0;

free_cap:
	free_capture(c);
	return r;
}

/* ------------------------------------------------------------------------ */
/* Packets                                                                   */
/* ------------------------------------------------------------------------ */

/* Replay: run the interval handlers for every boundary ts has crossed. */
static void replay_intervals(struct ndl__capture *c, ndl_time_ns ts)
{
	int n = 0;

	if (!c->have_first) {
		c->have_first = true;
		c->first_ts = ts;
		c->wall_start = uv_hrtime();
		c->next_boundary = ts + c->poke_ns;
		return;
	}
	while (ts >= c->next_boundary && n < MAX_INTERVALS_PER_GAP) {
		ndl__kitchen_set_clock(c->k, c->next_boundary);
		ndl__kitchen_interval(c->k);
		c->next_boundary += c->poke_ns;
		n++;
	}
	if (ts >= c->next_boundary)
		c->next_boundary += ((ts - c->next_boundary) / c->poke_ns + 1) * c->poke_ns;
}

static void handle_packet(struct source *s, const struct pcap_pkthdr *h, const u_char *data)
{
	struct ndl__capture *c = s->cap;
	ndl_time_ns ts = ts_of(s, h);

	if (c->replay)
		replay_intervals(c, ts);
	ndl__kitchen_packet(c->k, s->linktype, data, h->caplen, h->len, ts);
}

static void on_pcap_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	handle_packet((struct source *)(void *)user, h, data);
}

static void end_capture(struct ndl__capture *c, int status)
{
	if (c->ended)
		return;
	c->ended = true;
	if (c->idle_init)
		uv_idle_stop(&c->idle);
	if (c->cb.on_end)
		c->cb.on_end(c->cb.arg, status);
}

/* Live: read what is there, a few batches at most per wake-up. */
static void read_live(struct source *s)
{
	struct ndl__capture *c = s->cap;

	for (int i = 0; i < 4 && !c->closing; i++) {
		int n = pcap_dispatch(s->p, NDL__CAPTURE_BATCH, on_pcap_packet, (u_char *)s);
		if (n == PCAP_ERROR_BREAK)
			return;
		if (n < 0) {
			caplog(c, NDL_LOG_ERROR, "capture on %s failed: %s", s->name, pcap_geterr(s->p));
			end_capture(c, -EIO);
			return;
		}
		if (n < NDL__CAPTURE_BATCH)
			return;
	}
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct source *s = h->data;

	if (status < 0) {
		caplog(s->cap, NDL_LOG_ERROR, "capture on %s failed: %s", s->name, uv_strerror(status));
		end_capture(s->cap, -EIO);
		return;
	}
	read_live(s);
}

static void on_select_timeout(uv_timer_t *t)
{
	read_live(t->data);
}

static void on_interval_timer(uv_timer_t *t)
{
	struct ndl__capture *c = t->data;

	ndl__kitchen_interval(c->k);
}

static void on_pace(uv_timer_t *t);

static void read_replay(struct ndl__capture *c)
{
	struct source *s = &c->src[0];

	for (int i = 0; i < NDL__CAPTURE_BATCH; i++) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int r;

		if (c->closing || c->ended)
			return;
		if (c->cb.should_pause && c->cb.should_pause(c->cb.arg)) {
			c->paused = true;
			uv_idle_stop(&c->idle);
			return;
		}
		if (c->held) {
			h = c->hold_hdr;
			data = c->hold_data;
		} else {
			r = pcap_next_ex(s->p, &h, &data);
			if (r == PCAP_ERROR_BREAK) {
				end_capture(c, 0);
				return;
			}
			if (r < 0) {
				caplog(c, NDL_LOG_WARN, "reading %s stopped early: %s", s->name,
				     pcap_geterr(s->p));
				end_capture(c, 0);
				return;
			}
			if (r == 0)
				return;
		}
		if (c->realtime && c->have_first) {
			ndl_time_ns ts = ts_of(s, h);
			uint64_t now = uv_hrtime();
			uint64_t due = ts > c->first_ts ?
				c->wall_start + (uint64_t)(ts - c->first_ts) : 0;
			if (due > now) {
				c->held = true;
				c->hold_hdr = h;
				c->hold_data = data;
				uv_idle_stop(&c->idle);
				uv_timer_start(&c->pace, on_pace, (due - now) / 1000000 + 1, 0);
				return;
			}
		}
		c->held = false;
		handle_packet(s, h, data);
	}
}

static void on_idle(uv_idle_t *h)
{
	read_replay(h->data);
}

static void on_pace(uv_timer_t *t)
{
	struct ndl__capture *c = t->data;

	if (c->closing || c->ended)
		return;
	uv_idle_start(&c->idle, on_idle);
	read_replay(c);
}

int ndl__capture_start(struct ndl__capture *c)
{
	int r;

	if (c->replay) {
		uv_idle_init(c->loop, &c->idle);
		c->idle.data = c;
		c->idle_init = true;
		uv_timer_init(c->loop, &c->pace);
		c->pace.data = c;
		c->pace_init = true;
		return uv_idle_start(&c->idle, on_idle);
	}
	for (size_t i = 0; i < c->n_src; i++) {
		struct source *s = &c->src[i];
		r = uv_poll_init(c->loop, &s->poll, pcap_get_selectable_fd(s->p));
		if (r < 0) {
			caplog(c, NDL_LOG_ERROR, "cannot watch %s: %s", s->name, uv_strerror(r));
			return r;
		}
		s->poll.data = s;
		s->poll_init = true;
		r = uv_poll_start(&s->poll, UV_READABLE, on_poll);
		if (r < 0) {
			caplog(c, NDL_LOG_ERROR, "cannot watch %s: %s", s->name, uv_strerror(r));
			return r;
		}
		if (s->timeout_ms) {
			uv_timer_init(c->loop, &s->timer);
			s->timer.data = s;
			s->timer_init = true;
			uv_timer_start(&s->timer, on_select_timeout, s->timeout_ms, s->timeout_ms);
		}
	}
	uv_timer_init(c->loop, &c->interval);
	c->interval.data = c;
	c->interval_init = true;
	{
		uint64_t ms = (uint64_t)(c->poke_ns / 1000000);
		if (ms == 0)
			ms = 1;
		uv_timer_start(&c->interval, on_interval_timer, ms, ms);
	}
	return 0;
}

void ndl__capture_resume(struct ndl__capture *c)
{
	if (!c || !c->replay || !c->paused || c->closing || c->ended)
		return;
	c->paused = false;
	if (!c->held || !uv_is_active((uv_handle_t *)&c->pace))
		uv_idle_start(&c->idle, on_idle);
}

void ndl__capture_stats(struct ndl__capture *c, struct ndl__capture_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->replay_done = c->replay && c->ended;
	if (c->replay)
		return;
	for (size_t i = 0; i < c->n_src; i++) {
		struct pcap_stat ps;
		if (c->src[i].p && pcap_stats(c->src[i].p, &ps) == 0) {
			out->received += ps.ps_recv;
			out->kernel_drops += ps.ps_drop;
		}
	}
}

static void on_closed(uv_handle_t *h)
{
	struct ndl__capture *c = h->data;

	if (--c->pending_closes == 0)
		free_capture(c);
}

static void close_handle(struct ndl__capture *c, uv_handle_t *h, bool *init)
{
	if (!*init)
		return;
	*init = false;
	c->pending_closes++;
	h->data = c;    /* no other callback runs once closing */
	uv_close(h, on_closed);
}

void ndl__capture_close(struct ndl__capture *c)
{
	if (!c || c->closing)
		return;
	c->closing = true;
	c->pending_closes = 1;    /* held until every close is issued */
	for (size_t i = 0; i < c->n_src; i++) {
		close_handle(c, (uv_handle_t *)&c->src[i].poll, &c->src[i].poll_init);
		close_handle(c, (uv_handle_t *)&c->src[i].timer, &c->src[i].timer_init);
	}
	close_handle(c, (uv_handle_t *)&c->interval, &c->interval_init);
	close_handle(c, (uv_handle_t *)&c->idle, &c->idle_init);
	close_handle(c, (uv_handle_t *)&c->pace, &c->pace_init);
	if (--c->pending_closes == 0)
		free_capture(c);
}
