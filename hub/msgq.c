/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msgq.h"

#define MSG_MIN_CAP 256u

struct ndl_hub_msg *ndl__hub_msg_new(size_t cap)
{
	struct ndl_hub_msg *m;

	if (cap > SIZE_MAX - sizeof(*m) - NDL_HUB_MSG_HEADROOM) {
		errno = ENOMEM;
		return NULL;
	}
	m = malloc(sizeof(*m) + NDL_HUB_MSG_HEADROOM + cap);
	if (!m)
		return NULL;
	m->refs = 1;
	m->len = 0;
	m->cap = cap;
	return m;
}

int ndl__hub_msg_reserve(struct ndl_hub_msg **m, size_t cap)
{
	struct ndl_hub_msg *n;

	if (cap <= (*m)->cap)
		return 0;
	if (cap > SIZE_MAX - sizeof(*n) - NDL_HUB_MSG_HEADROOM)
		return -ENOMEM;
	n = realloc(*m, sizeof(*n) + NDL_HUB_MSG_HEADROOM + cap);
	if (!n)
		return -ENOMEM;
	n->cap = cap;
	*m = n;
	return 0;
}

int ndl__hub_msg_append(struct ndl_hub_msg **m, const void *buf, size_t len)
{
	size_t need = (*m)->len + len;

	if (need < (*m)->len)
		return -ENOMEM;
	if (need > (*m)->cap) {
		size_t cap = (*m)->cap < MSG_MIN_CAP ? MSG_MIN_CAP : (*m)->cap;
		int r;

		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		r = ndl__hub_msg_reserve(m, cap);
		if (r < 0)
			return r;
	}
	memcpy(ndl__hub_msg_payload(*m) + (*m)->len, buf, len);
	(*m)->len = need;
	return 0;
}

void ndl__hub_msg_trim(struct ndl_hub_msg **m)
{
	struct ndl_hub_msg *n;
	size_t want = (*m)->len;

	/* Geometric growth wastes up to half; give it back when it matters. */
	if ((*m)->cap - want < 4096 || (*m)->cap - want < want / 8)
		return;
	n = realloc(*m, sizeof(*n) + NDL_HUB_MSG_HEADROOM + want);
	if (!n)
		return;
	n->cap = want;
	*m = n;
}

struct ndl_hub_msg *ndl__hub_msg_ref(struct ndl_hub_msg *m)
{
	m->refs++;
	return m;
}

void ndl__hub_msg_unref(struct ndl_hub_msg *m)
{
	if (m && --m->refs == 0)
		free(m);
}

void ndl__hub_msgq_init(struct ndl_hub_msgq *q, size_t max_count, size_t max_bytes)
{
	memset(q, 0, sizeof(*q));
	q->max_count = max_count;
	q->max_bytes = max_bytes;
}

static int msgq_grow(struct ndl_hub_msgq *q)
{
	size_t ncap = q->cap ? q->cap * 2 : 16;
	struct ndl_hub_msg **ring;

	if (ncap > SIZE_MAX / sizeof(*ring))
		return -ENOMEM;
	ring = malloc(ncap * sizeof(*ring));
	if (!ring)
		return -ENOMEM;
	/* Unwrap the old ring so the oldest lands at index 0. */
	for (size_t i = 0; i < q->count; i++)
		ring[i] = q->ring[(q->head + i) & (q->cap - 1)];
	free(q->ring);
	q->ring = ring;
	q->cap = ncap;
	q->head = 0;
	return 0;
}

int ndl__hub_msgq_push(struct ndl_hub_msgq *q, struct ndl_hub_msg *m)
{
	if (q->count >= q->max_count)
		return -ENOBUFS;
	if (q->count && (m->len > q->max_bytes || q->bytes > q->max_bytes - m->len))
		return -ENOBUFS;
	if (q->count == q->cap) {
		int r = msgq_grow(q);

		if (r < 0)
			return r;
	}
	q->ring[(q->head + q->count) & (q->cap - 1)] = ndl__hub_msg_ref(m);
	q->count++;
	q->bytes += m->len;
	return 0;
}

struct ndl_hub_msg *ndl__hub_msgq_peek(const struct ndl_hub_msgq *q)
{
	return q->count ? q->ring[q->head] : NULL;
}

void ndl__hub_msgq_pop(struct ndl_hub_msgq *q)
{
	struct ndl_hub_msg *m;

	if (!q->count)
		return;
	m = q->ring[q->head];
	q->head = (q->head + 1) & (q->cap - 1);
	q->count--;
	q->bytes -= m->len;
	ndl__hub_msg_unref(m);
}

void ndl__hub_msgq_clear(struct ndl_hub_msgq *q)
{
	while (q->count)
		ndl__hub_msgq_pop(q);
	free(q->ring);
	q->ring = NULL;
	q->cap = 0;
	q->head = 0;
	q->bytes = 0;
}
