/* SPDX-License-Identifier: MIT */
/*
 * writer.c - NMSG output: payloads gathered into containers of at most
 * container_size bytes, optionally zlib-compressed, with payload CRC-32C
 * and (for UDP) sequence numbers; a message too large for one container
 * is cut into fragment containers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <zlib.h>
#include "nmsg.h"

/* Largest payload accepted, and largest message before compression. */
#define MAX_PAYLOAD (16u << 20)
/* Room an NmsgFragment's fields other than the data take, at most. */
#define FRAG_OVERHEAD (6 + 6 + 6 + 6 + 6)
/* Room sequence and sequence_id take, at most. */
#define SEQ_OVERHEAD (1 + 5 + 1 + 10)

struct ndl__nmsg_writer {
	struct ndl__nmsg_writer_config cfg;
	ndl__nmsg_write_fn write;
	void *arg;
	struct ndl__pb_buf payloads;   /* field 1 entries of the pending Nmsg */
	uint32_t *crcs;                /* their CRCs */
	size_t n, crc_cap;
	size_t crc_bytes;              /* room field 2 takes */
	struct ndl__pb_buf msg;        /* the Nmsg being written */
	struct ndl__pb_buf out;        /* a container */
	struct ndl__pb_buf one;        /* one NmsgPayload */
	uint32_t sequence;
	struct ndl__nmsg_writer_stats st;
};

static uint64_t random64(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint64_t)(uintptr_t)&v ^ 0x9e3779b97f4a7c15ull;
	return v;
}

struct ndl__nmsg_writer *ndl__nmsg_writer_new(const struct ndl__nmsg_writer_config *cfg,
					      ndl__nmsg_write_fn write, void *arg)
{
	struct ndl__nmsg_writer *w;

	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	if (cfg)
		w->cfg = *cfg;
	if (!w->cfg.container_size)
		w->cfg.container_size = NDL__NMSG_DEFAULT_CONTAINER;
	if (w->cfg.container_size < NDL__NMSG_MIN_CONTAINER ||
	    w->cfg.container_size > NDL__NMSG_MAX_CONTAINER) {
		free(w);
		errno = EINVAL;
		return NULL;
	}
	if (w->cfg.sequence && !w->cfg.sequence_id)
		w->cfg.sequence_id = random64();
	w->write = write;
	w->arg = arg;
	ndl__pb_buf_init(&w->payloads, MAX_PAYLOAD + 64);
	ndl__pb_buf_init(&w->msg, 2 * MAX_PAYLOAD);
	ndl__pb_buf_init(&w->out, 2 * MAX_PAYLOAD);
	ndl__pb_buf_init(&w->one, MAX_PAYLOAD + 64);
	return w;
}

void ndl__nmsg_writer_free(struct ndl__nmsg_writer *w)
{
	if (!w)
		return;
	ndl__pb_buf_free(&w->payloads);
	ndl__pb_buf_free(&w->msg);
	ndl__pb_buf_free(&w->out);
	ndl__pb_buf_free(&w->one);
	free(w->crcs);
	free(w);
}

const struct ndl__nmsg_writer_stats *ndl__nmsg_writer_stats(const struct ndl__nmsg_writer *w)
{
	return &w->st;
}

static int put_header(struct ndl__pb_buf *b, uint8_t flags, size_t len)
{
	uint8_t h[NDL__NMSG_HDR_LEN] = { 'N', 'M', 'S', 'G', flags, NDL__NMSG_VERSION,
		(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len };

	return ndl__pb_put_raw(b, h, sizeof(h));
}

static int emit(struct ndl__nmsg_writer *w, const uint8_t *data, size_t len)
{
	w->st.containers++;
	w->st.bytes += len;
	return w->write(w->arg, data, len);
}

/* Write body (flags say what it is) as fragment containers. */
static int write_fragments(struct ndl__nmsg_writer *w, uint8_t flags, const uint8_t *body,
			   size_t len)
{
	size_t room = w->cfg.container_size - NDL__NMSG_HDR_LEN - FRAG_OVERHEAD -
		      ndl__pb_varint_size(w->cfg.container_size);
	size_t count = (len + room - 1) / room;
	uint32_t id = (uint32_t)random64();
	uint32_t crc = ndl__nmsg_crc_wire(ndl__crc32c(body, len));
	struct ndl__pb_buf frag;
	int r = 0;

	if (count > NDL__NMSG_DEFAULT_FRAGMENTS)
		return -EMSGSIZE;    /* more fragments than a reader takes in one set */
	ndl__pb_buf_init(&frag, w->cfg.container_size);
	w->st.fragmented++;
	for (size_t i = 0; i < count && r >= 0; i++) {
		size_t n = len - i * room < room ? len - i * room : room;
		ndl__pb_buf_reset(&frag);
		ndl__pb_put_uint(&frag, 1, id);
		ndl__pb_put_uint(&frag, 2, i);
		ndl__pb_put_uint(&frag, 3, count - 1);
		ndl__pb_put_bytes(&frag, 4, body + i * room, n);
		r = ndl__pb_put_uint(&frag, 5, crc);
		if (r < 0)
			break;
		ndl__pb_buf_reset(&w->out);
		put_header(&w->out, flags | NDL__NMSG_FLAG_FRAGMENT, frag.len);
		r = ndl__pb_put_raw(&w->out, frag.data, frag.len);
		if (r >= 0)
			r = emit(w, w->out.data, w->out.len);
	}
	ndl__pb_buf_free(&frag);
	return r;
}

/* Compress src into w->out after room for a header: u32 length, zlib stream. */
static int deflate_body(struct ndl__nmsg_writer *w, const uint8_t *src, size_t len)
{
	uLongf zlen = compressBound((uLong)len);
	int r;

	ndl__pb_buf_reset(&w->out);
	r = ndl__pb_put_raw(&w->out, "NMSG\0\0\0\0\0\0", NDL__NMSG_HDR_LEN);
	if (r >= 0) {
		uint8_t ulen[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
				    (uint8_t)len };
		r = ndl__pb_put_raw(&w->out, ulen, 4);
	}
	if (r >= 0) {
		size_t at = w->out.len;
		r = ndl__pb_put_raw(&w->out, NULL, 0);
		/* make room for zlen bytes, then let zlib fill them */
		if (r >= 0 && (zlen > w->out.cap - at))
			r = -ENOBUFS;
		if (r >= 0) {
			uint8_t *tmp = malloc(zlen);
			if (!tmp)
				return -ENOMEM;
			if (compress2(tmp, &zlen, src, (uLong)len, Z_DEFAULT_COMPRESSION) != Z_OK) {
				free(tmp);
				return -EIO;
			}
			r = ndl__pb_put_raw(&w->out, tmp, zlen);
			free(tmp);
		}
	}
	return r;
}

int ndl__nmsg_writer_flush(struct ndl__nmsg_writer *w)
{
	uint8_t flags = 0;
	const uint8_t *body;
	size_t len;
	int r;

	if (w->n == 0)
		return 0;
	ndl__pb_buf_reset(&w->msg);
	r = ndl__pb_put_raw(&w->msg, w->payloads.data, w->payloads.len);
	for (size_t i = 0; i < w->n && r >= 0; i++)
		r = ndl__pb_put_uint(&w->msg, 2, w->crcs[i]);
	if (r >= 0 && w->cfg.sequence) {
		ndl__pb_put_uint(&w->msg, 3, w->sequence++);
		r = ndl__pb_put_uint(&w->msg, 4, w->cfg.sequence_id);
	}
	w->n = 0;
	w->crc_bytes = 0;
	ndl__pb_buf_reset(&w->payloads);
	if (r < 0)
		return r;
	body = w->msg.data;
	len = w->msg.len;
	if (w->cfg.zlib) {
		r = deflate_body(w, w->msg.data, w->msg.len);
		if (r < 0)
			return r;
		flags = NDL__NMSG_FLAG_ZLIB;
		body = w->out.data + NDL__NMSG_HDR_LEN;
		len = w->out.len - NDL__NMSG_HDR_LEN;
	}
	if (NDL__NMSG_HDR_LEN + len > w->cfg.container_size) {
		if (w->cfg.zlib) {
			/* the compressed body lives in out, which fragments reuse */
			uint8_t *copy = malloc(len);
			if (!copy)
				return -ENOMEM;
			memcpy(copy, body, len);
			r = write_fragments(w, flags, copy, len);
			free(copy);
			return r;
		}
		return write_fragments(w, flags, body, len);
	}
	if (!w->cfg.zlib) {
		ndl__pb_buf_reset(&w->out);
		put_header(&w->out, flags, len);
		r = ndl__pb_put_raw(&w->out, body, len);
		if (r < 0)
			return r;
	} else {
		uint8_t *h = w->out.data;
		h[4] = flags;
		h[5] = NDL__NMSG_VERSION;
		h[6] = (uint8_t)(len >> 24);
		h[7] = (uint8_t)(len >> 16);
		h[8] = (uint8_t)(len >> 8);
		h[9] = (uint8_t)len;
	}
	return emit(w, w->out.data, w->out.len);
}

int ndl__nmsg_writer_add(struct ndl__nmsg_writer *w, const struct ndl__nmsg_payload *p)
{
	size_t add, pending;
	uint32_t crc;
	int r;

	if (p->len > MAX_PAYLOAD)
		return -EMSGSIZE;
	ndl__pb_buf_reset(&w->one);
	ndl__pb_put_uint(&w->one, 1, p->vid);
	ndl__pb_put_uint(&w->one, 2, p->msgtype);
	ndl__pb_put_uint(&w->one, 3, (uint64_t)p->time_sec);
	ndl__pb_put_fixed32(&w->one, 4, p->time_nsec);
	if (p->data)
		ndl__pb_put_bytes(&w->one, 5, p->data, p->len);
	if (p->has_source)
		ndl__pb_put_uint(&w->one, 7, p->source);
	if (p->has_operator)
		ndl__pb_put_uint(&w->one, 8, p->operator_id);
	if (p->has_group)
		ndl__pb_put_uint(&w->one, 9, p->group);
	if (w->one.failed)
		return -ENOMEM;
	crc = ndl__nmsg_crc_wire(ndl__crc32c(p->data, p->data ? p->len : 0));

	add = 1 + ndl__pb_varint_size(w->one.len) + w->one.len + 1 + ndl__pb_varint_size(crc);
	pending = NDL__NMSG_HDR_LEN + w->payloads.len + w->crc_bytes +
		  (w->cfg.sequence ? SEQ_OVERHEAD : 0);
	if (w->n && pending + add > w->cfg.container_size) {
		r = ndl__nmsg_writer_flush(w);
		if (r < 0)
			return r;
	}
	if (w->n == w->crc_cap) {
		size_t cap = w->crc_cap ? w->crc_cap * 2 : 16;
		uint32_t *c = realloc(w->crcs, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		w->crcs = c;
		w->crc_cap = cap;
	}
	r = ndl__pb_put_bytes(&w->payloads, 1, w->one.data, w->one.len);
	if (r < 0)
		return r;
	w->crcs[w->n++] = crc;
	w->crc_bytes += 1 + ndl__pb_varint_size(crc);
	w->st.payloads++;
	if (w->cfg.unbuffered)
		return ndl__nmsg_writer_flush(w);
	return 0;
}
