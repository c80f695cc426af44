/* SPDX-License-Identifier: MIT */
/*
 * pktq.c - the batch queue between the capture thread and the loop.
 * Contract in pktq.h.
 *
 * A batch is one anonymous mapping: its header, then records one after
 * another, each a struct rec and the packet's bytes, padded to 8. Only
 * the producer touches the batch it fills (q->fill), so copying a packet
 * takes no lock; the lock is taken once per batch handed over or taken.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "decode.h"
#include "pktq.h"

struct ndl__pktq_batch {
	struct ndl__pktq_batch *next;
	size_t size;               /* bytes mapped, header included */
	size_t used;               /* bytes of records in data[] */
	size_t count;              /* records */
	uint64_t data[];           /* records, 8-byte aligned */
};

/* A packet: what libpcap said of it, then (when decoded) the struct
 * ndl_packet, whose pointers point into the bytes that follow. */
struct rec {
	ndl_time_ns ts;
	uint32_t caplen;
	uint32_t len;
	int32_t linktype;
	uint16_t source;
	uint8_t decoded;
	uint8_t pad;
};

struct rec_decoded {
	struct rec rec;
	struct ndl_packet pkt;
};

/* How far ahead of the consumer the batch is prefetched, and how many
 * cache lines a packet: about what one record takes. */
#define PREFETCH_AHEAD 1024
#define PREFETCH_LINES 7

#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

static size_t rec_bytes(uint32_t caplen, bool decoded)
{
	return (decoded ? sizeof(struct rec_decoded) : sizeof(struct rec)) + ALIGN8((size_t)caplen);
}

static size_t room_of(const struct ndl__pktq_batch *b)
{
	return b->size - offsetof(struct ndl__pktq_batch, data);
}

/* Map a batch of at least bytes of records; q->n_batches counts it. Under lock. */
static struct ndl__pktq_batch *map_batch(struct ndl__pktq *q, size_t bytes)
{
	size_t size = offsetof(struct ndl__pktq_batch, data) + bytes;
	struct ndl__pktq_batch *b;

	if (size < q->batch_bytes)
		size = q->batch_bytes;
	b = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		return NULL;
	b->next = NULL;
	b->size = size;
	b->used = 0;
	b->count = 0;
	q->n_batches++;
	if (q->n_batches > q->peak_batches)
		q->peak_batches = q->n_batches;
	return b;
}

static void unmap_batch(struct ndl__pktq *q, struct ndl__pktq_batch *b)
{
	q->n_batches--;
	munmap(b, b->size);
}

int ndl__pktq_init(struct ndl__pktq *q, size_t batch_bytes, size_t max_batches,
		   size_t keep_batches, void (*notify)(void *arg), void *arg)
{
	int r;

	memset(q, 0, sizeof(*q));
	q->batch_bytes = batch_bytes < 4096 ? 4096 : batch_bytes;
	q->max_batches = max_batches < 2 ? 2 : max_batches;
	q->keep_batches = keep_batches;
	q->notify = notify;
	q->notify_arg = arg;
	r = pthread_mutex_init(&q->lock, NULL);
	if (r)
		return -r;
	r = pthread_cond_init(&q->room, NULL);
	if (r) {
		pthread_mutex_destroy(&q->lock);
		return -r;
	}
	return 0;
}

void ndl__pktq_destroy(struct ndl__pktq *q)
{
	struct ndl__pktq_batch *b, *next;
	struct ndl__pktq_batch *lists[3] = { q->head, q->free, q->fill };

	for (int i = 0; i < 3; i++) {
		for (b = lists[i]; b; b = next) {
			next = b->next;
			unmap_batch(q, b);
		}
	}
	q->head = q->tail = q->free = q->fill = NULL;
	pthread_cond_destroy(&q->room);
	pthread_mutex_destroy(&q->lock);
}

/* Append the filled batch to the queue (it holds records). Under lock. */
static void hand_over(struct ndl__pktq *q)
{
	struct ndl__pktq_batch *b = q->fill;

	q->fill = NULL;
	b->next = NULL;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	q->n_queued++;
}

/*
 * A batch with room for bytes of records as q->fill: a free one that is
 * large enough, else a new mapping, waiting while max_batches exist.
 * Under lock. Returns 0, -ECANCELED or -ENOMEM.
 */
static int take_batch(struct ndl__pktq *q, size_t bytes)
{
	for (;;) {
		if (q->cancelled)
			return -ECANCELED;
		if (q->free && room_of(q->free) >= bytes) {
			q->fill = q->free;
			q->free = q->free->next;
			q->n_free--;
			q->fill->next = NULL;
			q->fill->used = 0;
			q->fill->count = 0;
			return 0;
		}
		if (q->free) {            /* too small for this packet: make room */
			struct ndl__pktq_batch *b = q->free;

			q->free = b->next;
			q->n_free--;
			unmap_batch(q, b);
			continue;
		}
		if (q->n_batches < q->max_batches) {
			q->fill = map_batch(q, bytes);
			return q->fill ? 0 : -ENOMEM;
		}
		/* the consumer is the slower side: take decoding off it */
		q->decode = true;
		q->waiting = true;
		pthread_cond_wait(&q->room, &q->lock);
		q->waiting = false;
	}
}

int ndl__pktq_put(struct ndl__pktq *q, uint16_t source, int linktype, ndl_time_ns ts,
		  uint32_t caplen, uint32_t len, const uint8_t *data)
{
	size_t need = rec_bytes(caplen, true);   /* enough either way */
	struct ndl__pktq_batch *b = q->fill;
	uint8_t *bytes;
	struct rec *r;

	if (!b || room_of(b) - b->used < need) {
		bool handed = false;
		int err;

		pthread_mutex_lock(&q->lock);
		/* the consumer waited for packets: it has time to decode them */
		if (q->starved) {
			q->starved = false;
			q->decode = false;
		}
		if (b && b->count) {
			hand_over(q);
			handed = true;
		} else if (b) {           /* empty and still too small */
			unmap_batch(q, b);
			q->fill = NULL;
		}
		err = take_batch(q, need);
		pthread_mutex_unlock(&q->lock);
		if (handed && q->notify)
			q->notify(q->notify_arg);
		if (err)
			return err;
		b = q->fill;
	}
	r = (struct rec *)(void *)((char *)b->data + b->used);
	r->ts = ts;
	r->caplen = caplen;
	r->len = len;
	r->linktype = linktype;
	r->source = source;
	r->decoded = q->decode;
	if (q->decode) {
		struct rec_decoded *d = (struct rec_decoded *)r;

		bytes = (uint8_t *)(d + 1);
		memcpy(bytes, data, caplen);
		ndl__decode(&d->pkt, linktype, bytes, caplen, len, ts);
	} else {
		bytes = (uint8_t *)(r + 1);
		memcpy(bytes, data, caplen);
	}
	b->used += rec_bytes(caplen, r->decoded);
	b->count++;
	return 0;
}

void ndl__pktq_flush(struct ndl__pktq *q)
{
	if (!q->fill || !q->fill->count)
		return;
	pthread_mutex_lock(&q->lock);
	hand_over(q);
	pthread_mutex_unlock(&q->lock);
	if (q->notify)
		q->notify(q->notify_arg);
}

void ndl__pktq_finish(struct ndl__pktq *q, int status, const char *why)
{
	pthread_mutex_lock(&q->lock);
	if (q->fill && q->fill->count) {
		hand_over(q);
	} else if (q->fill) {
		unmap_batch(q, q->fill);
		q->fill = NULL;
	}
	q->finished = true;
	q->status = status;
	snprintf(q->why, sizeof(q->why), "%s", why ? why : "");
	pthread_mutex_unlock(&q->lock);
	if (q->notify)
		q->notify(q->notify_arg);
}

struct ndl__pktq_batch *ndl__pktq_pop(struct ndl__pktq *q)
{
	struct ndl__pktq_batch *b;

	pthread_mutex_lock(&q->lock);
	b = q->head;
	if (b) {
		q->head = b->next;
		if (!q->head)
			q->tail = NULL;
		b->next = NULL;
		q->n_queued--;
	} else if (!q->finished) {
		q->starved = true;
	}
	pthread_mutex_unlock(&q->lock);
	return b;
}

bool ndl__pktq_next(const struct ndl__pktq_batch *b, size_t *cursor, struct ndl__pkt *out)
{
	const struct rec *r;

	if (*cursor >= b->used)
		return false;
	r = (const struct rec *)(const void *)((const char *)b->data + *cursor);
	out->ts = r->ts;
	out->caplen = r->caplen;
	out->len = r->len;
	out->linktype = r->linktype;
	out->source = r->source;
	if (r->decoded) {
		const struct rec_decoded *d = (const struct rec_decoded *)(const void *)r;

		out->pkt = &d->pkt;
		out->data = (const uint8_t *)(d + 1);
	} else {
		out->pkt = NULL;
		out->data = (const uint8_t *)(r + 1);
	}
	*cursor += rec_bytes(r->caplen, r->decoded);
	/* The producer wrote the batch on another CPU: have the next packets'
	 * lines move over while this one is handled. Records lie one after
	 * another, so a few lines a fixed distance ahead keep up with them. */
	{
		const char *ahead = (const char *)b->data + *cursor;
		const char *end = (const char *)b->data + b->used;

		for (int i = 0; i < PREFETCH_LINES; i++) {
			const char *line = ahead + PREFETCH_AHEAD + 64 * i;

			if (line < end)
				__builtin_prefetch(line);
		}
	}
	return true;
}

size_t ndl__pktq_count(const struct ndl__pktq_batch *b)
{
	return b->count;
}

void ndl__pktq_release(struct ndl__pktq *q, struct ndl__pktq_batch *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&q->lock);
	if (q->n_free < q->keep_batches && b->size == q->batch_bytes) {
		b->next = q->free;
		q->free = b;
		q->n_free++;
	} else {
		unmap_batch(q, b);
	}
	/* A waiting producer is woken once half the queue is free, not for
	 * every batch: a wake-up is a system call on both sides. */
	if (q->waiting && q->n_queued <= q->max_batches / 2)
		pthread_cond_signal(&q->room);
	pthread_mutex_unlock(&q->lock);
}

bool ndl__pktq_done(struct ndl__pktq *q, int *status, char *why, size_t whylen)
{
	bool done;

	pthread_mutex_lock(&q->lock);
	done = q->finished && !q->head;
	if (done) {
		*status = q->status;
		if (why && whylen)
			snprintf(why, whylen, "%s", q->why);
	}
	pthread_mutex_unlock(&q->lock);
	return done;
}

void ndl__pktq_cancel(struct ndl__pktq *q)
{
	pthread_mutex_lock(&q->lock);
	q->cancelled = true;
	pthread_cond_broadcast(&q->room);
	pthread_mutex_unlock(&q->lock);
}

size_t ndl__pktq_peak(struct ndl__pktq *q)
{
	size_t peak;

	pthread_mutex_lock(&q->lock);
	peak = q->peak_batches;
	pthread_mutex_unlock(&q->lock);
	return peak;
}
