/* SPDX-License-Identifier: MIT */
/*
 * capture.c - libpcap sources on a libuv loop.
 *
 * A capture thread reads the packets and copies them into batches
 * (pktq.h); the loop takes the batches and hands each packet to the
 * kitchen, NDL__CAPTURE_BATCH packets per turn from a uv_idle handle, so
 * that it stays responsive (signals, the hub socket). Reading and the
 * chefs' work thus run side by side, and the kernel's ring only has to
 * bridge the moments the capture thread is not scheduled, not the chefs'
 * slow moments.
 *
 * Live: each interface is a non-blocking pcap_t, buffered with a timeout
 * of NDL__CAPTURE_TIMEOUT_MS; the thread polls their selectable fds (and
 * an eventfd that stops it), drains every ready block and hands the batch
 * over. When libpcap says the fd alone is not enough
 * (pcap_get_required_select_timeout), the poll times out that often.
 *
 * Replay: the thread reads the file with pcap_next_ex, at most
 * REPLAY_MAX_BATCHES ahead of the loop, and hands a batch over when it is
 * full or when the stream has nothing more buffered (a pipe that is
 * quiet). The loop pauses while the consumer says its outbox is full, so
 * a replay never loses dumplings; with realtime, a timer holds each packet
 * until its capture time has come (relative to the first packet).
 */
#define _GNU_SOURCE   /* pthread_setname_np */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#ifdef __linux__
#include <linux/if_packet.h>
#endif
#include <pcap/pcap.h>
#include "capture.h"
#include "pktq.h"

/* Batches between the capture thread and the loop. Live, up to
 * LIVE_MAX_BATCHES (16 MiB) absorb the chefs' slow moments on top of the
 * kernel's ring, and free batches beyond LIVE_KEEP_BATCHES are given back,
 * so an idle kitchen stays small; a replay reads at most 2 MiB ahead. */
#define BATCH_BYTES (256 * 1024)
#define LIVE_MAX_BATCHES 64
#define LIVE_KEEP_BATCHES 2
#define REPLAY_MAX_BATCHES 8

/* Sent to a replay thread blocked reading a quiet pipe, so that read(2)
 * returns EINTR and the thread sees it is asked to stop. SIGURG: ignored
 * by default, so one that comes from elsewhere changes nothing. */
#define WAKE_SIGNAL SIGURG

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
	FILE *file;                /* replay: the stream (the pcap_t owns it) */
	pthread_mutex_t lock;      /* live: pcap_dispatch against pcap_stats */
	bool lock_init;
	uint64_t timeout_ms;       /* required select timeout, live; 0: none */
	ndl_time_ns fanout_from;   /* live: when it joined its fanout group; 0: none,
				    * or no more packets from before it to leave out */
	uint64_t before_fanout;    /* packets stamped before that, left out (lock) */
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

	/* the capture thread and its queue */
	struct ndl__pktq q;
	bool q_init;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;          /* the thread is asked to stop */
	atomic_bool exited;        /* the thread has returned */
	uint64_t cpu_ns;           /* its CPU time, set before exited */
	int stop_fd;               /* live: eventfd that wakes the thread's poll */
	uv_async_t wake;           /* the thread handed a batch over */
	bool wake_init;

	/* the loop's side, apart from what the thread reads for every packet
	 * (a field of it written per packet on a line the thread reads made
	 * every packet of a replay wait for that line: 1.6 times the CPU) */
	_Alignas(64) struct ndl__pktq_batch *cur; /* the batch being handed to the kitchen */
	size_t cursor;             /* where in it */
	uv_idle_t idle;
	bool idle_init;
	uv_timer_t pace;           /* realtime: waits for the held packet */
	bool pace_init;
	bool paused;
	bool kitchen_wait;         /* the chef threads had no room: until they wake us */
	bool ended;
	bool have_first;
	ndl_time_ns first_ts;      /* realtime: capture time of the first packet */
	uint64_t wall_start;       /* realtime: uv_hrtime at the first packet */
	ndl_time_ns next_boundary; /* next poke-interval boundary in capture time */
	bool held;                 /* realtime: the packet at the cursor waits */
	bool draining;             /* ndl__capture_drain: the end is not news */

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

static const char *const fanout_names[] = {
	[NDL__FANOUT_HASH] = "hash",
	[NDL__FANOUT_CPU] = "cpu",
	[NDL__FANOUT_QM] = "qm",
};
#define N_FANOUT_MODES (sizeof(fanout_names) / sizeof(fanout_names[0]))

const char *ndl__fanout_mode_name(enum ndl__fanout_mode m)
{
	return (unsigned int)m < N_FANOUT_MODES ? fanout_names[m] : "?";
}

int ndl__fanout_parse(const char *s, unsigned int *group, enum ndl__fanout_mode *mode)
{
	unsigned long g = 0;
	const char *p = s;
	size_t m = NDL__FANOUT_HASH;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		g = g * 10 + (unsigned long)(*p++ - '0');
		if (g > NDL__FANOUT_MAX_GROUP)
			return -EINVAL;
	}
	if (*p == ':') {
		for (m = 0; m < N_FANOUT_MODES; m++) {
			if (strcmp(p + 1, fanout_names[m]) == 0)
				break;
		}
		if (m == N_FANOUT_MODES)
			return -EINVAL;
	} else if (*p) {
		return -EINVAL;
	}
	*group = (unsigned int)g;
	*mode = (enum ndl__fanout_mode)m;
	return 0;
}

/*
 * Join the capture socket to a fanout group (packet(7)): the kernel then
 * gives each packet on the interface to one member of the group only.
 * libpcap has no call for it, but on Linux its descriptor is the packet
 * socket itself. The socket captures from its activation on, so what it
 * holds from before the join may be a packet another member gets too: the
 * capture thread leaves those out (leave_out_before_join).
 */
static int join_fanout(struct source *s, unsigned int group, enum ndl__fanout_mode mode,
		       char *err, size_t errlen)
{
#ifdef PACKET_FANOUT
	static const int types[] = {
		/* a datagram's fragments but the first carry no ports: the
		 * kernel reassembles them first, and hands the whole on */
		[NDL__FANOUT_HASH] = PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_DEFRAG,
		[NDL__FANOUT_CPU] = PACKET_FANOUT_CPU,
		[NDL__FANOUT_QM] = PACKET_FANOUT_QM,
	};
	int arg = (int)(group | ((unsigned int)types[mode] << 16));

	if (setsockopt(pcap_fileno(s->p), SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) < 0) {
		int e = errno;

		if (e == EINVAL)
			snprintf(err, errlen, "cannot join fanout group %u on %s: it exists with "
				 "another mode, or for another interface", group, s->name);
		else if (e == ENOSPC)
			snprintf(err, errlen, "cannot join fanout group %u on %s: the group is "
				 "full", group, s->name);
		else
			snprintf(err, errlen, "cannot join fanout group %u on %s: %s", group,
				 s->name, strerror(e));
		return e == EINVAL || e == ENOSPC ? -EBUSY : -e;
	}
	s->fanout_from = (ndl_time_ns)ndl__clock_ns(CLOCK_REALTIME);
	return 0;
#else
	(void)s;
	(void)mode;
	snprintf(err, errlen, "fanout group %u: this system has no packet fanout", group);
	return -ENOTSUP;
#endif
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
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		snprintf(err, errlen, "cannot capture on %s: out of resources", s->name);
		return -ENOMEM;
	}
	s->lock_init = true;
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
	if (cfg->fanout) {
		r = join_fanout(s, cfg->fanout_group + (unsigned int)(s - c->src), cfg->fanout_mode,
				err, errlen);
		if (r < 0)
			return r;
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
	s->file = f;
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

/* Everything but the loop's handles; the capture thread has been joined. */
static void free_capture(struct ndl__capture *c)
{
	if (c->q_init) {
		ndl__pktq_release(&c->q, c->cur);
		ndl__pktq_destroy(&c->q);
	}
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	for (size_t i = 0; i < c->n_src; i++) {
		if (c->src[i].p)
			pcap_close(c->src[i].p);
		free(c->src[i].iobuf);    /* the stream using it is closed now */
		free(c->src[i].name);
		if (c->src[i].lock_init)
			pthread_mutex_destroy(&c->src[i].lock);
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
	/* aligned for the members kept on cache lines of their own */
	c = aligned_alloc(_Alignof(struct ndl__capture), sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memset(c, 0, sizeof(*c));
	c->loop = loop;
	c->k = k;
	c->stop_fd = -1;
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

/* ------------------------------------------------------------------------ */
/* The capture thread                                                        */
/* ------------------------------------------------------------------------ */

static void notify_loop(void *arg)
{
	struct ndl__capture *c = arg;

	uv_async_send(&c->wake);
}

/* Bytes the stream has read ahead and not handed out yet (glibc's FILE). */
static size_t stream_buffered(const FILE *f)
{
	return f->_IO_read_ptr < f->_IO_read_end ? (size_t)(f->_IO_read_end - f->_IO_read_ptr) : 0;
}

static void *replay_thread(void *arg)
{
	struct ndl__capture *c = arg;
	struct source *s = &c->src[0];
	char why[PCAP_ERRBUF_SIZE + 128];

	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int r = pcap_next_ex(s->p, &h, &data);

		if (atomic_load(&c->stop))
			break;
		if (r == 1) {
			r = ndl__pktq_put(&c->q, 0, s->linktype, ts_of(s, h), h->caplen, h->len,
					  data);
			if (r == -ECANCELED)
				break;
			if (r < 0) {
				ndl__pktq_finish(&c->q, r, "out of memory for captured packets");
				break;
			}
			/* a quiet pipe: what came so far should not wait for more */
			if (stream_buffered(s->file) < sizeof(struct pcap_pkthdr))
				ndl__pktq_flush(&c->q);
			continue;
		}
		if (r == PCAP_ERROR_BREAK) {
			ndl__pktq_finish(&c->q, 0, NULL);
			break;
		}
		if (r < 0) {
			snprintf(why, sizeof(why), "reading %s stopped early: %s", s->name,
				 pcap_geterr(s->p));
			ndl__pktq_finish(&c->q, 0, why);
			break;
		}
	}
	c->cpu_ns = ndl__clock_ns(CLOCK_THREAD_CPUTIME_ID);
	atomic_store(&c->exited, true);
	return NULL;
}

struct live_ctx {
	struct ndl__capture *c;
	uint16_t index;
	int err;                   /* from ndl__pktq_put */
};

/*
 * Whether a packet is one captured before the socket joined its fanout
 * group (and so possibly another member's). Those are stamped at most the
 * moment between activation and the join before it; the first packet
 * stamped after the join ends the check, and a packet stamped long before
 * it is not one of them but a sign that the clock was set back, so that
 * such a step can never make the kitchen leave out what it captures.
 */
#define FANOUT_JOIN_WINDOW_NS 1000000000LL

static bool leave_out_before_join(struct source *s, ndl_time_ns ts)
{
	if (ts >= s->fanout_from || s->fanout_from - ts > FANOUT_JOIN_WINDOW_NS) {
		s->fanout_from = 0;
		return false;
	}
	s->before_fanout++;
	return true;
}

static void on_live_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct live_ctx *lc = (struct live_ctx *)(void *)user;
	struct source *s = &lc->c->src[lc->index];
	ndl_time_ns ts = ts_of(s, h);
	int r;

	if (lc->err)
		return;
	if (s->fanout_from && leave_out_before_join(s, ts))
		return;
	r = ndl__pktq_put(&lc->c->q, lc->index, s->linktype, ts, h->caplen, h->len, data);
	if (r < 0) {
		lc->err = r;
		pcap_breakloop(s->p);
	}
}

static void *live_thread(void *arg)
{
	struct ndl__capture *c = arg;
	struct pollfd pfd[NDL__CAPTURE_MAX_IFACES + 1];
	char why[PCAP_ERRBUF_SIZE + 128];
	int timeout = -1;

	for (size_t i = 0; i < c->n_src; i++) {
		pfd[i].fd = pcap_get_selectable_fd(c->src[i].p);
		pfd[i].events = POLLIN;
		if (c->src[i].timeout_ms && (timeout < 0 || (int)c->src[i].timeout_ms < timeout))
			timeout = (int)c->src[i].timeout_ms;
	}
	pfd[c->n_src].fd = c->stop_fd;
	pfd[c->n_src].events = POLLIN;

	while (!atomic_load(&c->stop)) {
		if (poll(pfd, c->n_src + 1, timeout) < 0 && errno != EINTR) {
			snprintf(why, sizeof(why), "capture failed: poll: %s", strerror(errno));
			ndl__pktq_finish(&c->q, -EIO, why);
			goto out;
		}
		/* every source, also after a stop: the blocks ready now are
		 * the last packets the kitchen should see */
		for (size_t i = 0; i < c->n_src; i++) {
			struct source *s = &c->src[i];
			struct live_ctx lc = { .c = c, .index = (uint16_t)i };
			int n;

			pthread_mutex_lock(&s->lock);
			n = pcap_dispatch(s->p, -1, on_live_packet, (u_char *)&lc);
			if (n < 0 && n != PCAP_ERROR_BREAK)
				snprintf(why, sizeof(why), "capture on %s failed: %s", s->name,
					 pcap_geterr(s->p));
			pthread_mutex_unlock(&s->lock);
			if (lc.err == -ECANCELED)
				goto out;
			if (lc.err) {
				ndl__pktq_finish(&c->q, lc.err, "out of memory for captured packets");
				goto out;
			}
			if (n < 0 && n != PCAP_ERROR_BREAK) {
				ndl__pktq_finish(&c->q, -EIO, why);
				goto out;
			}
		}
		ndl__pktq_flush(&c->q);
	}
	ndl__pktq_finish(&c->q, 0, NULL);
out:
	c->cpu_ns = ndl__clock_ns(CLOCK_THREAD_CPUTIME_ID);
	atomic_store(&c->exited, true);
	return NULL;
}

static void on_wake_signal(int sig)
{
	(void)sig;    /* only there to interrupt a read */
}

/* Start the thread with every signal blocked but WAKE_SIGNAL, so that the
 * loop's thread gets SIGINT, SIGTERM and SIGHUP. Returns 0 or -errno. */
static int start_thread(struct ndl__capture *c)
{
	sigset_t all, old;
	int r;

	if (c->replay) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_wake_signal;   /* no SA_RESTART: read gets EINTR */
		sigemptyset(&sa.sa_mask);
		if (sigaction(WAKE_SIGNAL, &sa, NULL) < 0)
			return -errno;
	}
	sigfillset(&all);
	sigdelset(&all, WAKE_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&c->thread, NULL, c->replay ? replay_thread : live_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	pthread_setname_np(c->thread, "nd-capture");   /* as top and perf show it */
	c->thread_started = true;
	return 0;
}

/* Tell the thread to stop (it notices after its current read or poll). */
static void ask_stop(struct ndl__capture *c)
{
	uint64_t one = 1;

	atomic_store(&c->stop, true);
	if (c->stop_fd >= 0 && write(c->stop_fd, &one, sizeof(one)) < 0) {
		/* the counter is full: the thread is being woken anyway */
	}
}

/* Ask the thread to stop and wait for it; with cancel, a thread waiting for
 * room gives up at once, else the loop must go on taking batches. */
static void stop_thread(struct ndl__capture *c, bool cancel)
{
	if (!c->thread_started)
		return;
	if (cancel)
		ndl__pktq_cancel(&c->q);
	ask_stop(c);
	if (c->replay) {
		/* it may be reading a quiet pipe: interrupt the read until it
		 * notices (a signal just before the read would be missed) */
		while (!atomic_load(&c->exited)) {
			struct timespec ms = { 0, 1000000 };

			pthread_kill(c->thread, WAKE_SIGNAL);
			nanosleep(&ms, NULL);
		}
	}
	pthread_join(c->thread, NULL);
	c->thread_started = false;
}

/* ------------------------------------------------------------------------ */
/* The loop's side                                                           */
/* ------------------------------------------------------------------------ */

static void on_pace(uv_timer_t *t);

/*
 * Hand queued packets to the kitchen: at most limit, or until the queue is
 * empty, a replay must pause or a realtime replay must wait. Returns true
 * when it stopped at limit (more may be queued).
 */
static bool consume(struct ndl__capture *c, size_t limit)
{
	for (size_t i = 0; i < limit; i++) {
		struct ndl__pkt p;
		size_t at;

		if (c->closing || c->ended)
			return false;
		if (c->replay && c->cb.should_pause && c->cb.should_pause(c->cb.arg)) {
			c->paused = true;
			uv_idle_stop(&c->idle);
			return false;
		}
		/* chef threads with full queues: wait for their wake, rather
		 * than in the kitchen (a stop's drain hands everything over) */
		if (!c->draining && !ndl__kitchen_ready(c->k)) {
			c->kitchen_wait = true;
			uv_idle_stop(&c->idle);
			return false;
		}
		if (!c->cur) {
			char why[sizeof(c->q.why)];
			int status;

			c->cur = ndl__pktq_pop(&c->q);
			c->cursor = 0;
			if (!c->cur) {
				/* the thread's next hand-over (or its end) wakes us */
				uv_idle_stop(&c->idle);
				if (c->cb.on_caught_up)
					c->cb.on_caught_up(c->cb.arg);
				if (!c->draining &&
				    ndl__pktq_done(&c->q, &status, why, sizeof(why))) {
					if (why[0])
						caplog(c, status < 0 ? NDL_LOG_ERROR : NDL_LOG_WARN,
						       "%s", why);
					end_capture(c, status);
				}
				return false;
			}
		}
		at = c->cursor;
		if (!ndl__pktq_next(c->cur, &at, &p)) {
			ndl__pktq_release(&c->q, c->cur);
			c->cur = NULL;
			i--;    /* no packet was handed over */
			continue;
		}
		if (c->realtime && c->have_first) {
			uint64_t due = p.ts > c->first_ts ?
				c->wall_start + (uint64_t)(p.ts - c->first_ts) : 0;
			uint64_t now = uv_hrtime();

			if (due > now) {
				c->held = true;
				uv_idle_stop(&c->idle);
				uv_timer_start(&c->pace, on_pace, (due - now) / 1000000 + 1, 0);
				return false;
			}
		}
		c->held = false;
		c->cursor = at;
		if (c->replay)
			replay_intervals(c, p.ts);
		if (p.pkt)
			ndl__kitchen_decoded(c->k, p.pkt);
		else
			ndl__kitchen_packet(c->k, p.linktype, p.data, p.caplen, p.len, p.ts);
	}
	return true;
}

static void on_idle(uv_idle_t *h)
{
	struct ndl__capture *c = h->data;

	consume(c, NDL__CAPTURE_BATCH);
	/* the chef threads' dumplings, once a turn */
	ndl__kitchen_flush(c->k);
}

/* The thread handed a batch over (or ended). */
static void on_wake(uv_async_t *h)
{
	struct ndl__capture *c = h->data;

	if (c->closing || c->ended || c->paused || c->held || c->kitchen_wait)
		return;
	uv_idle_start(&c->idle, on_idle);
}

static void on_pace(uv_timer_t *t)
{
	struct ndl__capture *c = t->data;

	if (c->closing || c->ended)
		return;
	uv_idle_start(&c->idle, on_idle);
	consume(c, NDL__CAPTURE_BATCH);
	ndl__kitchen_flush(c->k);
}

static void on_interval_timer(uv_timer_t *t)
{
	struct ndl__capture *c = t->data;

	ndl__kitchen_interval(c->k);
	/* on a quiet interface nothing else would pass the interval's
	 * dumplings on: no batch comes to be caught up with */
	if (!ndl__capture_busy(c) && c->cb.on_caught_up)
		c->cb.on_caught_up(c->cb.arg);
}

bool ndl__capture_busy(const struct ndl__capture *c)
{
	return c->idle_init && uv_is_active((const uv_handle_t *)&c->idle);
}

int ndl__capture_start(struct ndl__capture *c)
{
	int r;

	/* a replay keeps its few batches; live gives back what a burst took */
	r = ndl__pktq_init(&c->q, BATCH_BYTES, c->replay ? REPLAY_MAX_BATCHES : LIVE_MAX_BATCHES,
			   c->replay ? REPLAY_MAX_BATCHES : LIVE_KEEP_BATCHES, notify_loop, c);
	if (r < 0) {
		caplog(c, NDL_LOG_ERROR, "cannot start capture: %s", strerror(-r));
		return r;
	}
	c->q_init = true;
	if (!c->replay) {
		c->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (c->stop_fd < 0) {
			r = -errno;
			caplog(c, NDL_LOG_ERROR, "cannot start capture: eventfd: %s", strerror(-r));
			return r;
		}
	}
	uv_async_init(c->loop, &c->wake, on_wake);
	c->wake.data = c;
	c->wake_init = true;
	uv_idle_init(c->loop, &c->idle);
	c->idle.data = c;
	c->idle_init = true;
	if (c->replay) {
		uv_timer_init(c->loop, &c->pace);
		c->pace.data = c;
		c->pace_init = true;
	} else {
		uint64_t ms = (uint64_t)(c->poke_ns / 1000000);

		uv_timer_init(c->loop, &c->interval);
		c->interval.data = c;
		c->interval_init = true;
		if (ms == 0)
			ms = 1;
		uv_timer_start(&c->interval, on_interval_timer, ms, ms);
	}
	r = start_thread(c);
	if (r < 0) {
		caplog(c, NDL_LOG_ERROR, "cannot start the capture thread: %s", strerror(-r));
		return r;
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

void ndl__capture_kitchen_ready(struct ndl__capture *c)
{
	if (!c || !c->kitchen_wait || c->closing || c->ended)
		return;
	c->kitchen_wait = false;
	if (!c->paused && !c->held)
		uv_idle_start(&c->idle, on_idle);
}

void ndl__capture_drain(struct ndl__capture *c)
{
	if (!c || c->replay || !c->thread_started || c->closing)
		return;
	c->draining = true;
	ask_stop(c);
	/* take batches while the thread drains the ready blocks and ends */
	while (!atomic_load(&c->exited)) {
		if (!consume(c, SIZE_MAX) && !c->ended) {
			struct timespec ms = { 0, 1000000 };

			nanosleep(&ms, NULL);
		}
	}
	stop_thread(c, false);
	consume(c, SIZE_MAX);
}

/* The CPU time the capture thread has used so far (0 if none ran). */
static uint64_t thread_cpu(struct ndl__capture *c)
{
	clockid_t id;
	uint64_t ns = 0;

	if (!c->thread_started)
		return 0;
	if (!atomic_load(&c->exited) && pthread_getcpuclockid(c->thread, &id) == 0)
		ns = ndl__clock_ns(id);
	/* it has ended (its clock may be gone): what it left, or unknown */
	return ns ? ns : atomic_load(&c->exited) ? c->cpu_ns : 0;
}

void ndl__capture_stats(struct ndl__capture *c, struct ndl__capture_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->replay_done = c->replay && c->ended;
	out->thread_cpu_ns = thread_cpu(c);
	if (c->replay)
		return;
	for (size_t i = 0; i < c->n_src; i++) {
		struct source *s = &c->src[i];
		struct pcap_stat ps;
		int r;

		if (!s->p)
			continue;
		pthread_mutex_lock(&s->lock);    /* the capture thread may be reading */
		r = pcap_stats(s->p, &ps);
		out->before_fanout += s->before_fanout;
		pthread_mutex_unlock(&s->lock);
		if (r == 0) {
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
	stop_thread(c, true);
	c->pending_closes = 1;    /* held until every close is issued */
	close_handle(c, (uv_handle_t *)&c->wake, &c->wake_init);
	close_handle(c, (uv_handle_t *)&c->interval, &c->interval_init);
	close_handle(c, (uv_handle_t *)&c->idle, &c->idle_init);
	close_handle(c, (uv_handle_t *)&c->pace, &c->pace_init);
	if (--c->pending_closes == 0)
		free_capture(c);
}
