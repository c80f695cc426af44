/* SPDX-License-Identifier: MIT */
/*
 * pb.c - Protocol Buffers wire format, the subset NMSG uses
 * (https://protobuf.dev/programming-guides/encoding/): every read is
 * checked against the end of the input.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "pb.h"

void ndl__pb_reader_init(struct ndl__pb_reader *r, const uint8_t *data, size_t len)
{
	r->p = data;
	r->end = data ? data + len : data;
}

bool ndl__pb_done(const struct ndl__pb_reader *r)
{
	return r->p == r->end;
}

int ndl__pb_read_varint(struct ndl__pb_reader *r, uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 10; i++) {
		uint8_t byte;

		if (r->p >= r->end)
			return -EBADMSG;
		byte = *r->p++;
		if (i == 9 && byte > 1)
			return -EBADMSG;    /* more than 64 bits */
		v |= (uint64_t)(byte & 0x7f) << (7 * i);
		if (!(byte & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -EBADMSG;
}

static int read_fixed(struct ndl__pb_reader *r, unsigned n, uint64_t *out)
{
	uint64_t v = 0;

	if ((size_t)(r->end - r->p) < n)
		return -EBADMSG;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);    /* little-endian */
	r->p += n;
	*out = v;
	return 0;
}

int ndl__pb_next(struct ndl__pb_reader *r, struct ndl__pb_field *f)
{
	uint64_t key, len;
	int rc;

	memset(f, 0, sizeof(*f));
	rc = ndl__pb_read_varint(r, &key);
	if (rc < 0)
		return rc;
	if ((key >> 3) == 0 || (key >> 3) > 0x1fffffff)
		return -EBADMSG;
	f->number = (uint32_t)(key >> 3);
	f->wire = (unsigned)(key & 7);
	switch (f->wire) {
	case NDL__PB_VARINT:
		return ndl__pb_read_varint(r, &f->u);
	case NDL__PB_FIXED64:
		return read_fixed(r, 8, &f->u);
	case NDL__PB_FIXED32:
		return read_fixed(r, 4, &f->u);
	case NDL__PB_LEN:
		rc = ndl__pb_read_varint(r, &len);
		if (rc < 0)
			return rc;
		if (len > (uint64_t)(r->end - r->p))
			return -EBADMSG;
		f->data = r->p;
		f->len = (size_t)len;
		r->p += len;
		return 0;
	default:
		return -EBADMSG;    /* groups (3, 4) and 6, 7 are not used by NMSG */
	}
}

void ndl__pb_buf_init(struct ndl__pb_buf *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->cap = cap;
}

void ndl__pb_buf_free(struct ndl__pb_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->size = 0;
	b->failed = false;
}

void ndl__pb_buf_reset(struct ndl__pb_buf *b)
{
	b->len = 0;
	b->failed = false;
}

static int reserve(struct ndl__pb_buf *b, size_t more)
{
	size_t want, size;
	uint8_t *d;

	if (b->failed)
		return -ENOBUFS;
	if (more > b->cap || b->len > b->cap - more) {
		b->failed = true;
		return -ENOBUFS;
	}
	want = b->len + more;
	if (want <= b->size)
		return 0;
	size = b->size ? b->size : 256;
	while (size < want)
		size = size > SIZE_MAX / 2 ? want : size * 2;
	if (size > b->cap)
		size = b->cap;
	d = realloc(b->data, size);
	if (!d) {
		b->failed = true;
		return -ENOMEM;
	}
	b->data = d;
	b->size = size;
	return 0;
}

int ndl__pb_put_raw(struct ndl__pb_buf *b, const void *data, size_t len)
{
	int r = reserve(b, len);

	if (r < 0)
		return r;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

size_t ndl__pb_varint_size(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

int ndl__pb_put_varint(struct ndl__pb_buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	return ndl__pb_put_raw(b, tmp, n);
}

int ndl__pb_put_key(struct ndl__pb_buf *b, uint32_t number, unsigned wire)
{
	return ndl__pb_put_varint(b, ((uint64_t)number << 3) | wire);
}

int ndl__pb_put_uint(struct ndl__pb_buf *b, uint32_t number, uint64_t v)
{
	int r = ndl__pb_put_key(b, number, NDL__PB_VARINT);

	return r < 0 ? r : ndl__pb_put_varint(b, v);
}

int ndl__pb_put_fixed32(struct ndl__pb_buf *b, uint32_t number, uint32_t v)
{
	uint8_t le[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	int r = ndl__pb_put_key(b, number, NDL__PB_FIXED32);

	return r < 0 ? r : ndl__pb_put_raw(b, le, 4);
}

int ndl__pb_put_bytes(struct ndl__pb_buf *b, uint32_t number, const void *data, size_t len)
{
	int r = ndl__pb_put_key(b, number, NDL__PB_LEN);

	if (r >= 0)
		r = ndl__pb_put_varint(b, len);
	return r < 0 ? r : ndl__pb_put_raw(b, data, len);
}
