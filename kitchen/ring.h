/* SPDX-License-Identifier: MIT */
/*
 * ring.h - a bounded ring of variable-length records between two threads.
 *
 * One producer and one consumer, no lock: the producer reserves room for a
 * record, writes it and commits it; the consumer peeks at the oldest
 * record, uses it and consumes it. A record never wraps: when the room
 * left before the end of the buffer is too short, the producer pads to the
 * end and starts again at the front. Nothing here blocks or wakes anyone;
 * the caller decides what to do when the ring is full or empty.
 *
 * The buffer is one anonymous mapping, so pages never written cost no
 * memory.
 */
#ifndef NDL_KITCHEN_RING_H
#define NDL_KITCHEN_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* head and tail are read by the other side only when what it saw last is
 * not enough, so that their cache lines do not move for every record. */
struct ndl__ring {
	uint8_t *buf;                /* size bytes, mapped */
	size_t size;                 /* a power of two */
	_Alignas(64) _Atomic size_t head;   /* consumed so far (bytes, ever growing) */
	_Alignas(64) _Atomic size_t tail;   /* committed so far */
	/* the producer's own */
	_Alignas(64) size_t reserved_at;    /* tail where the reserved record starts */
	size_t reserved_len;
	size_t head_seen;                   /* head when last read: room at least */
	/* the consumer's own */
	_Alignas(64) size_t tail_seen;      /* tail when last read: records at least */
};

/* Largest payload one record may carry in a ring of size bytes. */
#define NDL__RING_MAX_RECORD(size) ((size) / 4)

/* Map a ring of size bytes (a power of two, at least 4096). Returns 0 or a
 * negative errno. */
int ndl__ring_init(struct ndl__ring *r, size_t size);
/* Unmap it. Safe on a zeroed ring. Neither side may use it afterwards. */
void ndl__ring_destroy(struct ndl__ring *r);

/* ---- producer ---------------------------------------------------------- */

/*
 * Room for a record of len bytes (at most NDL__RING_MAX_RECORD), 8-byte
 * aligned, or NULL when the ring has no room for it now. The record is
 * invisible until ndl__ring_commit; reserving again replaces it.
 */
void *ndl__ring_reserve(struct ndl__ring *r, size_t len);
/* Make the reserved record visible to the consumer (release). */
void ndl__ring_commit(struct ndl__ring *r);
/* True when at least bytes bytes are free. */
bool ndl__ring_room(struct ndl__ring *r, size_t bytes);

/* ---- consumer ---------------------------------------------------------- */

/* The oldest committed record and its length, or NULL when there is none. */
const void *ndl__ring_peek(struct ndl__ring *r, size_t *len);
/* Done with the record ndl__ring_peek returned: its room is free again. */
void ndl__ring_consume(struct ndl__ring *r);

/* True when every committed record has been consumed. Either side. */
bool ndl__ring_empty(struct ndl__ring *r);
/* Bytes committed and not yet consumed (a snapshot). Either side. */
size_t ndl__ring_used(struct ndl__ring *r);

#endif /* NDL_KITCHEN_RING_H */
