/* SPDX-License-Identifier: MIT */
/*
 * ring.c - the record ring between a kitchen's threads. Contract in ring.h.
 *
 * head and tail count bytes since the start and only grow; a position's
 * place in the buffer is the count modulo the size. Each record is a
 * header (its payload's length) and the payload, padded to 8 bytes. A
 * header of PAD_MARK says the rest of the buffer up to its end is unused.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "ring.h"

#define PAD_MARK UINT64_MAX
#define HDR sizeof(uint64_t)
#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

int ndl__ring_init(struct ndl__ring *r, size_t size)
{
	void *p;

	memset(r, 0, sizeof(*r));
	if (size < 4096 || (size & (size - 1)))
		return -EINVAL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	r->buf = p;
	r->size = size;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return 0;
}

void ndl__ring_destroy(struct ndl__ring *r)
{
	if (r->buf)
		munmap(r->buf, r->size);
	memset(r, 0, sizeof(*r));
}

bool ndl__ring_room(struct ndl__ring *r, size_t bytes)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	if (r->size - (tail - r->head_seen) >= bytes)
		return true;
	r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
	return r->size - (tail - r->head_seen) >= bytes;
}

void *ndl__ring_reserve(struct ndl__ring *r, size_t len)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t need = HDR + ALIGN8(len), at = tail & (r->size - 1);
	size_t to_end = r->size - at;
	uint64_t hdr = len;

	if (len > NDL__RING_MAX_RECORD(r->size))
		return NULL;
	/* the record does not fit before the end: pad there, start at 0 */
	if (to_end < need) {
		if (!ndl__ring_room(r, to_end + need))
			return NULL;
		memcpy(r->buf + at, &(uint64_t){ PAD_MARK }, HDR);
		tail += to_end;
		at = 0;
	} else if (!ndl__ring_room(r, need)) {
		return NULL;
	}
	memcpy(r->buf + at, &hdr, HDR);
	r->reserved_at = tail;
	r->reserved_len = need;
	return r->buf + at + HDR;
}

void ndl__ring_commit(struct ndl__ring *r)
{
	/* a pad written by reserve is committed with the record after it */
	atomic_store_explicit(&r->tail, r->reserved_at + r->reserved_len, memory_order_release);
	r->reserved_len = 0;
}

const void *ndl__ring_peek(struct ndl__ring *r, size_t *len)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t hdr;

	if (head == r->tail_seen) {
		r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (head == r->tail_seen)
			return NULL;
	}
	memcpy(&hdr, r->buf + (head & (r->size - 1)), HDR);
	if (hdr == PAD_MARK) {
		/* skip to the front; the record after the pad is committed too */
		head += r->size - (head & (r->size - 1));
		atomic_store_explicit(&r->head, head, memory_order_release);
		memcpy(&hdr, r->buf, HDR);
	}
	*len = (size_t)hdr;
	return r->buf + (head & (r->size - 1)) + HDR;
}

void ndl__ring_consume(struct ndl__ring *r)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t hdr;

	memcpy(&hdr, r->buf + (head & (r->size - 1)), HDR);
	atomic_store_explicit(&r->head, head + HDR + ALIGN8((size_t)hdr), memory_order_release);
}

bool ndl__ring_empty(struct ndl__ring *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire) ==
	       atomic_load_explicit(&r->tail, memory_order_acquire);
}

size_t ndl__ring_used(struct ndl__ring *r)
{
	/* head first: it never passes the tail read after it */
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);

	return atomic_load_explicit(&r->tail, memory_order_acquire) - head;
}
