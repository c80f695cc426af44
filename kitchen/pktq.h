/* SPDX-License-Identifier: MIT */
/*
 * pktq.h - captured packets handed from the capture thread to the loop.
 *
 * One producer thread copies each packet libpcap gives it into a batch (a
 * few hundred KiB of records: header, then the bytes), and hands whole
 * batches to one consumer, the kitchen's loop, which runs the chefs.
 * Reading the file or draining the kernel's ring thus goes on while the
 * chefs work, on another CPU.
 *
 * Decoding (ndl__decode) is done by whichever side has time: the producer
 * once it had to wait for room (the chefs are the slower part), the
 * consumer once it had to wait for packets. Each record says which.
 *
 * Bounded: at most max_batches batches exist at once; a producer that
 * needs one more waits until the consumer releases one (a replay then
 * reads no further; live, the kernel's ring fills and the kernel counts
 * what it drops). Batches are mapped memory: beyond keep_batches, a
 * released batch is unmapped, so a kitchen that has nothing to do gives
 * back what a burst took.
 *
 * The consumer never blocks: notify (called by the producer after every
 * batch it hands over, and once more when it finishes) tells it to look.
 */
#ifndef NDL_KITCHEN_PKTQ_H
#define NDL_KITCHEN_PKTQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ndl/chef.h>

/* One packet of a batch, as the consumer sees it (borrowed from the batch
 * until it is released). */
struct ndl__pkt {
	ndl_time_ns ts;
	uint32_t caplen;
	uint32_t len;                   /* on the wire */
	int linktype;
	uint16_t source;                /* the producer's source index */
	const uint8_t *data;
	const struct ndl_packet *pkt;   /* decoded by the producer, or NULL */
};

struct ndl__pktq_batch;

struct ndl__pktq {
	pthread_mutex_t lock;
	pthread_cond_t room;            /* a batch was released, or cancel */
	size_t batch_bytes;             /* bytes of a standard batch */
	size_t max_batches;
	size_t keep_batches;            /* free batches kept mapped */
	size_t n_batches;               /* batches mapped: filling, queued, held, free */
	size_t peak_batches;
	struct ndl__pktq_batch *head, *tail;  /* handed over, oldest first */
	size_t n_queued;                /* batches in that list */
	bool waiting;                   /* the producer waits for room */
	bool starved;                   /* the consumer found nothing queued */
	struct ndl__pktq_batch *free;   /* released, still mapped */
	size_t n_free;
	bool finished;                  /* the producer has said its last */
	int status;                     /* its status: 0, or a negative errno */
	char why[256];                  /* and why, when status < 0 */
	bool cancelled;                 /* the consumer wants no more */
	/* the producer's own, read for every packet: on a line of its own */
	_Alignas(64) struct ndl__pktq_batch *fill; /* being filled; not visible to the consumer */
	bool decode;                    /* the producer decodes the packets it puts */
	void (*notify)(void *arg);
	void *notify_arg;
};

/*
 * Make q empty: batches of batch_bytes (a larger one is made for a packet
 * that does not fit in one), at most max_batches at once (at least 2),
 * keep_batches of them kept when free. notify(arg) is called from the
 * producer's thread. Returns 0 or a negative errno.
 */
int ndl__pktq_init(struct ndl__pktq *q, size_t batch_bytes, size_t max_batches,
		   size_t keep_batches, void (*notify)(void *arg), void *arg);

/* Unmap every batch. Neither side may use q afterwards. */
void ndl__pktq_destroy(struct ndl__pktq *q);

/* ---- producer ---------------------------------------------------------- */

/*
 * Copy one packet (of link type linktype, a DLT_* value) into the batch
 * being filled and decode it there; hands the batch over when it is full,
 * waiting for room when max_batches exist. Returns 0, -ECANCELED once the
 * consumer has cancelled, or -ENOMEM.
 */
int ndl__pktq_put(struct ndl__pktq *q, uint16_t source, int linktype, ndl_time_ns ts,
		  uint32_t caplen, uint32_t len, const uint8_t *data);

/* Hand over the batch being filled, if it holds anything. */
void ndl__pktq_flush(struct ndl__pktq *q);

/* Flush, then say the last word: status 0 (the end of the input) or a
 * negative errno with why. Notifies. */
void ndl__pktq_finish(struct ndl__pktq *q, int status, const char *why);

/* ---- consumer ---------------------------------------------------------- */

/* The oldest batch handed over, now the caller's, or NULL. */
struct ndl__pktq_batch *ndl__pktq_pop(struct ndl__pktq *q);

/* The packet at *cursor of b (start with 0), advancing *cursor; false at
 * the end of the batch. */
bool ndl__pktq_next(const struct ndl__pktq_batch *b, size_t *cursor, struct ndl__pkt *out);

/* Packets in b. */
size_t ndl__pktq_count(const struct ndl__pktq_batch *b);

/* Give b back (its packets' data become invalid). NULL is a no-op. */
void ndl__pktq_release(struct ndl__pktq *q, struct ndl__pktq_batch *b);

/* True once the producer finished and every batch was popped; *status
 * and why (NUL-terminated, whylen bytes at most) say how it ended. */
bool ndl__pktq_done(struct ndl__pktq *q, int *status, char *why, size_t whylen);

/* Ask the producer to stop: a waiting put returns -ECANCELED, as does
 * every later one. */
void ndl__pktq_cancel(struct ndl__pktq *q);

/* Most batches that existed at once so far. */
size_t ndl__pktq_peak(struct ndl__pktq *q);

#endif /* NDL_KITCHEN_PKTQ_H */
