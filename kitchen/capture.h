/* SPDX-License-Identifier: MIT */
/*
 * capture.h - packet sources for the kitchen on a libuv loop: live
 * interfaces through libpcap (uv_poll on the selectable fd) or a capture
 * file replayed as fast as the outbox allows, or at capture speed.
 *
 * Also drives the chefs' interval handlers: a wall-clock timer live, the
 * capture timestamps in a replay. A capture thread reads the packets into
 * a bounded queue (pktq.h); the kitchen, its chefs and every callback
 * below run on the loop's thread.
 */
#ifndef NDL_KITCHEN_CAPTURE_H
#define NDL_KITCHEN_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>
#include "kitchen.h"

#define NDL__CAPTURE_MAX_IFACES 16
#define NDL__CAPTURE_DEFAULT_SNAPLEN 262144
/*
 * Kernel capture buffer per interface unless configured: libpcap's own
 * default (2 MiB, tcpdump's). The capture thread empties it as packets
 * come, into a queue that grows while the chefs are busy and shrinks when
 * they catch up (capture.c), so the ring only has to cover the moments that
 * thread is not scheduled. It is mapped into the process, whole, so it
 * counts in RSS even when idle; the queue counts only while it holds
 * packets.
 */
#define NDL__CAPTURE_DEFAULT_BUFFER (2 * 1024 * 1024)
/* Live: the longest a captured packet waits in the kernel's buffer before
 * the kitchen sees it (a partly filled block is handed over then). */
#define NDL__CAPTURE_TIMEOUT_MS 50
/* Live: how long a graceful stop keeps reading, so that the packets of that
 * last partly filled buffer are counted too. */
#define NDL__CAPTURE_STOP_WAIT_MS (2 * NDL__CAPTURE_TIMEOUT_MS)
/* Packets read per loop turn. */
#define NDL__CAPTURE_BATCH 512

/*
 * Live, Linux: how a fanout group (packet(7), PACKET_FANOUT) shares an
 * interface's packets among the kitchens in it. HASH keeps both directions
 * of a flow, and every fragment of a datagram, at one kitchen; CPU and QM
 * follow the CPU or receive queue the packet came in on.
 */
enum ndl__fanout_mode {
	NDL__FANOUT_HASH,
	NDL__FANOUT_CPU,
	NDL__FANOUT_QM,
};
#define NDL__FANOUT_MAX_GROUP 65535

struct ndl__capture_config {
	const char *ifaces[NDL__CAPTURE_MAX_IFACES];  /* live: interface names ("any": all) */
	size_t n_ifaces;
	const char *read_file;   /* replay this file instead (pcap or pcapng) */
	bool realtime;           /* replay at the pace of the capture timestamps */
	const char *filter;      /* BPF expression; NULL or "" captures everything */
	int snaplen;
	int buffer_size;         /* bytes of kernel buffer; 0: NDL__CAPTURE_DEFAULT_BUFFER */
	bool promisc;
	ndl_time_ns poke_ns;     /* interval between interval handlers */
	/* live: the i-th interface joins fanout group fanout_group + i */
	bool fanout;
	unsigned int fanout_group;
	enum ndl__fanout_mode fanout_mode;
};

struct ndl__capture_callbacks {
	/* Replay: true while the consumer wants reading paused (outbox full). */
	bool (*should_pause)(void *arg);
	/* Every packet captured so far has been handed to the kitchen (may be
	 * NULL): a moment to flush what is buffered. */
	void (*on_caught_up)(void *arg);
	/*
	 * The source ended: a replay reached its end (status 0) or capture
	 * failed (status < 0; the reason was logged). Called once.
	 */
	void (*on_end)(void *arg, int status);
	/* Log a line (warnings and errors of capture). */
	void (*log)(void *arg, enum ndl_log_level level, const char *line);
	void *arg;
};

struct ndl__capture;

/*
 * Open every source of cfg (activate interfaces, open the file, compile and
 * set the filter) without reading yet. Strings in cfg are copied.
 * Returns 0 and *out, or a negative errno with a one-line reason in err
 * (-EPERM no permission, -ENODEV unknown interface, -EINVAL bad filter,
 * -ENOENT/-EIO unreadable file, -ENOTSUP fanout on a system without it,
 * -EBUSY a fanout group that cannot be joined).
 */
int ndl__capture_open(uv_loop_t *loop, struct ndl_kitchen *k,
		      const struct ndl__capture_config *cfg,
		      const struct ndl__capture_callbacks *cb,
		      struct ndl__capture **out, char *err, size_t errlen);

/* Start reading and the interval timer. Returns 0 or a negative errno. */
int ndl__capture_start(struct ndl__capture *c);

/* Replay: continue after should_pause turned false. */
void ndl__capture_resume(struct ndl__capture *c);

/*
 * Live, stopping gracefully: stop capturing, then hand the kitchen every
 * packet captured until then (what the capture thread has queued and what
 * the kernel's ring holds). Blocks the loop while it runs, which is short:
 * the queue and the ring are bounded. A no-op for a replay (its queue is
 * only read ahead of the file) and after close.
 */
void ndl__capture_drain(struct ndl__capture *c);

/*
 * Stop reading and close every handle; the capture is freed once libuv has
 * closed them. Safe to call more than once and after on_end. NULL is a no-op.
 */
void ndl__capture_close(struct ndl__capture *c);

struct ndl__capture_stats {
	uint64_t received;     /* by libpcap, live only (pcap_stats ps_recv) */
	uint64_t kernel_drops; /* ps_drop: no room in the capture buffer, live only */
	uint64_t before_fanout; /* stamped before joining the fanout group: left out */
	uint64_t thread_cpu_ns; /* CPU time of the capture thread so far */
	bool replay_done;
};

/* The kitchen's chef threads have room again (after ndl__kitchen_ready
 * said no and they called the kitchen's wake): go on handing packets over. */
void ndl__capture_kitchen_ready(struct ndl__capture *c);

/* True while packets wait to be handed to the kitchen (the loop is busy
 * with them); false once it has caught up. */
bool ndl__capture_busy(const struct ndl__capture *c);

/* The name of a fanout mode ("hash", "cpu", "qm"). */
const char *ndl__fanout_mode_name(enum ndl__fanout_mode m);

/* Parse "GROUP[:MODE]" (--fanout). Returns 0, or -EINVAL. */
int ndl__fanout_parse(const char *s, unsigned int *group, enum ndl__fanout_mode *mode);

/* Current counters (pcap_stats of every live source, summed). */
void ndl__capture_stats(struct ndl__capture *c, struct ndl__capture_stats *out);

/*
 * Write the interfaces libpcap can open, comma separated, into out.
 * Returns out.
 */
char *ndl__capture_list_devices(char *out, size_t outlen);

#endif /* NDL_KITCHEN_CAPTURE_H */
