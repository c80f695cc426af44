/* SPDX-License-Identifier: MIT */
/*
 * msgq.h - refcounted message buffers and bounded per-eater queues.
 *
 * A dumpling is held once, in a struct ndl_hub_msg with LWS_PRE bytes of
 * headroom before the payload (libwebsockets writes the frame header
 * there), and every eater queue holds a reference to it. Server frames are
 * not masked (RFC 6455 section 5.1), so sending never changes the payload
 * and one buffer serves every eater.
 *
 * Single-threaded: everything here runs on the hub's loop thread.
 */
#ifndef NDL_HUB_MSGQ_H
#define NDL_HUB_MSGQ_H

#include <stddef.h>
#include <stdint.h>
#include <libwebsockets.h>

#define NDL_HUB_MSG_HEADROOM ((size_t)LWS_PRE)

struct ndl_hub_msg {
	uint32_t refs;
	size_t len;           /* payload bytes */
	size_t cap;           /* payload capacity */
	unsigned char data[]; /* NDL_HUB_MSG_HEADROOM + cap bytes */
};

static inline unsigned char *ndl__hub_msg_payload(struct ndl_hub_msg *m)
{
	return m->data + NDL_HUB_MSG_HEADROOM;
}

/*
 * A new empty message able to hold cap payload bytes, one reference held
 * by the caller. Returns NULL (errno ENOMEM) on failure.
 */
struct ndl_hub_msg *ndl__hub_msg_new(size_t cap);

/*
 * Make *m able to hold cap payload bytes (content kept; *m may move).
 * Only for a message nobody else references yet. Returns 0 or -ENOMEM
 * (then *m is unchanged).
 */
int ndl__hub_msg_reserve(struct ndl_hub_msg **m, size_t cap);

/* Append len bytes; grows geometrically. Returns 0 or -ENOMEM. */
int ndl__hub_msg_append(struct ndl_hub_msg **m, const void *buf, size_t len);

/* Give back capacity well beyond len (before the message is shared). */
void ndl__hub_msg_trim(struct ndl_hub_msg **m);

/* Take one more reference; returns m. */
struct ndl_hub_msg *ndl__hub_msg_ref(struct ndl_hub_msg *m);

/* Drop one reference; frees on the last. NULL is a no-op. */
void ndl__hub_msg_unref(struct ndl_hub_msg *m);

/* A bounded FIFO of message references (a ring that grows up to max_count). */
struct ndl_hub_msgq {
	struct ndl_hub_msg **ring;
	size_t cap;        /* slots allocated (power of two) */
	size_t head;       /* index of the oldest */
	size_t count;
	size_t bytes;      /* payload bytes referenced */
	size_t max_count;
	size_t max_bytes;
};

/*
 * Initialise an empty queue holding at most max_count messages and
 * max_bytes payload bytes. One message is always admitted into an empty
 * queue whatever its size, so an eater can make progress with any limit.
 */
void ndl__hub_msgq_init(struct ndl_hub_msgq *q, size_t max_count, size_t max_bytes);

/*
 * Queue a reference to m (taken here on success). Returns 0, -ENOBUFS when
 * the queue is at a limit (m is not queued: the caller counts the drop)
 * or -ENOMEM.
 */
int ndl__hub_msgq_push(struct ndl_hub_msgq *q, struct ndl_hub_msg *m);

/* The oldest message (borrowed), or NULL when empty. */
struct ndl_hub_msg *ndl__hub_msgq_peek(const struct ndl_hub_msgq *q);

/* Remove the oldest message and drop the queue's reference to it. */
void ndl__hub_msgq_pop(struct ndl_hub_msgq *q);

/* Drop every queued reference and the ring; the queue may be reused. */
void ndl__hub_msgq_clear(struct ndl_hub_msgq *q);

#endif /* NDL_HUB_MSGQ_H */
