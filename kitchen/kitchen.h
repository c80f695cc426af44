/* SPDX-License-Identifier: MIT */
/*
 * kitchen.h - the kitchen's core, independent of where packets come from
 * and where dumplings go: the chef loader, the chef host (struct ndl_host),
 * decoding once per packet, and dispatch to chefs.
 *
 * Capture (libpcap on libuv) and the hub connection live in other files and
 * drive this core; tests drive it directly. Every function here is called
 * on one thread, the caller's; with ndl__kitchen_set_threads, chefs may
 * also run on threads the kitchen starts (kitchen.c, "Stations"), but the
 * sink is only ever called on the caller's thread.
 */
#ifndef NDL_KITCHEN_H
#define NDL_KITCHEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <sys/types.h>

#include <ndl/chef.h>

/* ------------------------------------------------------------------------ */
/* Chef modules                                                              */
/* ------------------------------------------------------------------------ */

/* One loaded chef .so. */
struct ndl_chef_module {
	char *path;                               /* owned */
	char *module;                             /* owned: file name without ".so" */
	void *handle;                             /* dlopen handle */
	const struct ndl_chef_descriptor *desc;   /* from the chef, validated */
	dev_t dev;                                /* the file, to know it again */
	ino_t ino;
};

/*
 * Open the chef at path with RTLD_NOW | RTLD_LOCAL, call its entry symbol
 * and validate the descriptor: abi_version's major equals ours and its minor
 * is not newer, struct_size is at least the 1.0 size, name matches
 * [A-Za-z0-9_]+, version and description are set, init and fini are set,
 * and at least one of on_packet and on_interval. Options tables are checked
 * too (known types, parseable defaults).
 * Returns 0 and *out (free with ndl__chef_module_close), or a negative errno
 * with a one-line reason in err (e.g. "built for chef ABI 2.0, this kitchen
 * speaks 1.0"): -ENOENT/-EACCES file, -ENOEXEC not a loadable object or no
 * entry symbol, -EPROTO version, -EINVAL descriptor.
 */
int ndl__chef_module_open(const char *path, struct ndl_chef_module **out,
			  char *err, size_t errlen);
void ndl__chef_module_close(struct ndl_chef_module *m);

/* The descriptor's flags (NDL_CHEF_F_*), 0 for chefs built before ABI 1.1. */
uint32_t ndl__chef_flags(const struct ndl_chef_descriptor *d);

/* All chef modules found on the chef path, by name. */
struct ndl_chef_catalog {
	struct ndl_chef_module **modules;         /* owned */
	size_t n;
	size_t cap;
};

/*
 * Add every "*.so" in dir and in its immediate subdirectories (the build
 * tree keeps one folder per chef) to cat, in name order. A file that is refused is
 * reported through warn (with its reason) and skipped; a chef whose name is
 * already in cat is refused as a duplicate, naming both paths. A file
 * already in cat (the same folder given twice, or a link to a module) is
 * skipped without a word.
 * Returns the number of chefs added, or a negative errno when dir cannot
 * be read.
 */
int ndl__chef_catalog_scan(struct ndl_chef_catalog *cat, const char *dir,
			   void (*warn)(void *arg, const char *msg), void *arg);
/* Add one module file: 0 when added, 1 when that very file (same device
 * and inode) is already in cat, which is left as it was; another file with
 * a chef name already in cat is refused with -EEXIST and a reason in err. */
int ndl__chef_catalog_add(struct ndl_chef_catalog *cat, const char *path,
			  char *err, size_t errlen);
struct ndl_chef_module *ndl__chef_catalog_find(const struct ndl_chef_catalog *cat,
					       const char *name);
void ndl__chef_catalog_free(struct ndl_chef_catalog *cat);

/* ------------------------------------------------------------------------ */
/* The kitchen core                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Where finished dumplings go. write gets one complete dumpling (an envelope
 * with metadata and payload, compact JSON, no newline), borrowed for the
 * call. Returns 0, or -ENOBUFS when it cannot take it now (the kitchen
 * counts the drop).
 */
struct ndl_sink {
	int (*write)(void *arg, const char *json, size_t len, enum ndl_driver driver);
	void *arg;
};

struct ndl_kitchen;

struct ndl_kitchen_stats {
	uint64_t packets;            /* handed to ndl__kitchen_packet */
	uint64_t bytes;              /* their captured bytes */
	uint64_t dumplings;          /* accepted by the sink */
	uint64_t dumplings_dropped;  /* refused by the sink or malformed */
	uint64_t decode_errors[NDL_DECODE_ERROR_COUNT]; /* by enum ndl_decode_error */
	uint64_t dns_errors[NDL_DNS_ERROR_COUNT];       /* by enum ndl_dns_error */
	/* Of the HTTP starts and TLS hellos chefs asked for, those not whole. */
	uint64_t http_errors[NDL_HTTP_ERROR_COUNT];     /* by enum ndl_http_error */
	uint64_t tls_errors[NDL_TLS_ERROR_COUNT];       /* by enum ndl_tls_error */
};

/*
 * A kitchen named name (copied) writing to sink. Returns NULL with errno
 * set on failure.
 */
struct ndl_kitchen *ndl__kitchen_new(const char *name, struct ndl_sink sink);

/*
 * Set option "Chef.key=value" (as given to -o) before chefs start. The chef
 * must be added later with ndl__kitchen_add_chef; options for chefs never
 * added are reported by ndl__kitchen_start. Returns 0 or -EINVAL with a
 * reason in err.
 */
int ndl__kitchen_set_option(struct ndl_kitchen *k, const char *assignment,
			    char *err, size_t errlen);

/*
 * Add a chef (the module stays owned by the caller and must outlive the
 * kitchen). Validates its options given so far (unknown key, bad value),
 * allocates state and calls init. Returns 0, -EEXIST for a chef added
 * twice, -EINVAL for bad options, or init's error; err says why.
 */
int ndl__kitchen_add_chef(struct ndl_kitchen *k, const struct ndl_chef_module *m,
			  char *err, size_t errlen);

/*
 * Check that every option set names a chef that was added. Returns 0 or
 * -EINVAL with a reason.
 */
int ndl__kitchen_start(struct ndl_kitchen *k, char *err, size_t errlen);

/* Number of chefs added, and the i-th one's descriptor. */
size_t ndl__kitchen_chef_count(const struct ndl_kitchen *k);
const struct ndl_chef_descriptor *ndl__kitchen_chef(const struct ndl_kitchen *k, size_t i);
const char *ndl__kitchen_chef_module(const struct ndl_kitchen *k, size_t i);

/*
 * Replay clock (default): the clock follows packet timestamps. Live clock:
 * the clock is the wall clock (CLOCK_REALTIME).
 */
void ndl__kitchen_set_live_clock(struct ndl_kitchen *k, bool live);
ndl_time_ns ndl__kitchen_now(const struct ndl_kitchen *k);

/* Decode one frame once and hand it to every chef's on_packet. */
void ndl__kitchen_packet(struct ndl_kitchen *k, int linktype, const uint8_t *data,
			 uint32_t caplen, uint32_t wirelen, ndl_time_ns ts);

/* The same for a frame ndl__decode has decoded already (on any thread);
 * pkt and what it points to are borrowed for the call. */
void ndl__kitchen_decoded(struct ndl_kitchen *k, const struct ndl_packet *pkt);

/*
 * Set the replay clock to t (used to run interval handlers at the
 * poke-interval boundary a replay crossed). No effect on a live clock.
 */
void ndl__kitchen_set_clock(struct ndl_kitchen *k, ndl_time_ns t);

/* Run every chef's on_interval. */
void ndl__kitchen_interval(struct ndl_kitchen *k);

/* The kitchen's counts (after ndl__kitchen_sync, so that they are whole). */
const struct ndl_kitchen_stats *ndl__kitchen_stats(struct ndl_kitchen *k);

/* What the kitchen counted for one chef. */
struct ndl_kitchen_chef_stats {
	uint64_t dumplings;          /* accepted by the sink */
	uint64_t dropped;            /* refused by the sink, malformed, or while disabled */
	uint64_t malformed;          /* of dropped: malformed payload or misuse of emit */
	bool disabled;               /* disabled after repeated failures */
};

/* The i-th chef's counts into *out (after ndl__kitchen_sync). Returns 0 or
 * -ENOENT. */
int ndl__kitchen_chef_stats(struct ndl_kitchen *k, size_t i,
			    struct ndl_kitchen_chef_stats *out);

/*
 * Call f for every counter a chef reported through host->count:
 * chef name, counter name, value.
 */
void ndl__kitchen_foreach_chef_counter(struct ndl_kitchen *k,
		void (*f)(void *arg, const char *chef, const char *counter, uint64_t value),
		void *arg);

/*
 * Chef threads. Run the chefs on n threads at most, the caller's included
 * (1, the default: all on the caller's), and no more than one per module
 * whose chefs may move, plus the caller's. The first calibrate packets run
 * every chef on the caller's thread, timed; then the chefs are spread,
 * heaviest first, chefs of one module together, and chefs without
 * NDL_CHEF_F_ANY_THREAD on the caller's thread. Each other thread gets a
 * copy of every packet, decodes it and runs its chefs; its dumplings are
 * numbered and sent on the caller's thread by ndl__kitchen_flush (or when
 * the caller waits for room to hand packets over). Before the first
 * packet; no effect afterwards.
 */
void ndl__kitchen_set_threads(struct ndl_kitchen *k, unsigned int n, uint64_t calibrate);
/* Most threads; packets timed before spreading, as nd-sniff does. */
#define NDL_KITCHEN_MAX_THREADS 16
#define NDL_KITCHEN_CALIBRATE 4096
/* Threads started for the chefs, the caller's included (1 until the
 * chefs are spread; some may have no chef at a given time). */
unsigned int ndl__kitchen_threads(const struct ndl_kitchen *k);
/* The thread the i-th chef runs on: 0 the caller's, 1 and up the kitchen's;
 * -ENOENT for no such chef. */
int ndl__kitchen_chef_thread(const struct ndl_kitchen *k, size_t i);
/*
 * After ndl__kitchen_halt: the CPU time each chef thread used, in
 * nanoseconds, into cpu_ns[0..max) in thread order (1 and up). Returns how
 * many it wrote: 0 when the chefs never left the caller's thread.
 */
unsigned int ndl__kitchen_thread_cpu(const struct ndl_kitchen *k, uint64_t cpu_ns[],
				     unsigned int max);
/* Clock id's time in nanoseconds (0 if it cannot be read), e.g. the CPU
 * time of the calling thread with CLOCK_THREAD_CPUTIME_ID. */
uint64_t ndl__clock_ns(clockid_t id);
/*
 * wake(arg) is called from a chef thread when dumplings wait to be sent
 * and the thread has nothing else to do (or no room for more): the
 * caller's loop should call ndl__kitchen_flush soon. Must be safe to call
 * from any thread (e.g. uv_async_send).
 */
void ndl__kitchen_set_wake(struct ndl_kitchen *k, void (*wake)(void *arg), void *arg);
/* Send the dumplings the chef threads have made so far (while hold, when
 * set, says nothing), and nudge them to go on with what they were handed.
 * Never waits. */
void ndl__kitchen_flush(struct ndl_kitchen *k);
/*
 * True when every chef thread has room for more packets. False asks the
 * threads to call wake once they have; a loop that does not want to wait
 * hands no packet over until then (ndl__kitchen_packet would wait).
 */
bool ndl__kitchen_ready(struct ndl_kitchen *k);
/* True when the chef threads have nothing in hand and nothing unsent. */
bool ndl__kitchen_idle(struct ndl_kitchen *k);
/*
 * hold(arg), when set, is asked before each dumpling ndl__kitchen_flush
 * sends; true keeps the rest in the threads' queues (which then fill, and
 * stop the threads) until a later flush: for a sink that must not drop,
 * such as a replay's outbox. Waiting for room and ndl__kitchen_sync send
 * regardless.
 */
void ndl__kitchen_set_hold(struct ndl_kitchen *k, bool (*hold)(void *arg), void *arg);
/* Wait until the chef threads have handled everything handed to them, and
 * send what they made. */
void ndl__kitchen_sync(struct ndl_kitchen *k);
/* Stop the chef threads now: what they were handed and did not handle, and
 * what they made and was not sent, is left (a stop without flushing).
 * Nothing is handed to them afterwards; flush and sync do nothing. NULL is
 * a no-op. */
void ndl__kitchen_halt(struct ndl_kitchen *k);

/* Stop the chef threads, run every chef's fini (on the caller's thread)
 * and free the kitchen. NULL is a no-op. */
void ndl__kitchen_free(struct ndl_kitchen *k);

/* Log sink for chef log lines and kitchen warnings (default: stderr).
 * With chef threads, log is also called from them: it must be thread-safe. */
void ndl__kitchen_set_log(struct ndl_kitchen *k,
			  void (*log)(void *arg, enum ndl_log_level level, const char *line),
			  void *arg);

#endif /* NDL_KITCHEN_H */
