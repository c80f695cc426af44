/* SPDX-License-Identifier: MIT */
/*
 * pb.h - the small part of the Protocol Buffers wire format NMSG needs:
 * varints, fixed32/fixed64, length-delimited fields, reading and writing.
 * (Encoding: https://protobuf.dev/programming-guides/encoding/.)
 *
 * The reader never reads past its end; every malformed input is -EBADMSG.
 * The writer appends to a growable buffer with a hard cap.
 */
#ifndef NDL_NMSG_PB_H
#define NDL_NMSG_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	NDL__PB_VARINT = 0,
	NDL__PB_FIXED64 = 1,
	NDL__PB_LEN = 2,
	NDL__PB_FIXED32 = 5,
};

/* A read position over borrowed bytes. */
struct ndl__pb_reader {
	const uint8_t *p;
	const uint8_t *end;
};

/* One field as read: number, wire type and value. */
struct ndl__pb_field {
	uint32_t number;
	unsigned wire;
	uint64_t u;              /* VARINT, FIXED32, FIXED64 */
	const uint8_t *data;     /* LEN: borrowed from the reader's bytes */
	size_t len;
};

/* Start reading len bytes at data (borrowed). */
void ndl__pb_reader_init(struct ndl__pb_reader *r, const uint8_t *data, size_t len);

/* True when every byte was read. */
bool ndl__pb_done(const struct ndl__pb_reader *r);

/*
 * Read one varint (at most 10 bytes, the 10th at most 1). Returns 0, or
 * -EBADMSG when it runs past the end or is too long.
 */
int ndl__pb_read_varint(struct ndl__pb_reader *r, uint64_t *out);

/*
 * Read the next field into *f. Field number 0, wire types 3 and 4 (groups),
 * 6 and 7, and any value that runs past the end are -EBADMSG. Returns 0.
 */
int ndl__pb_next(struct ndl__pb_reader *r, struct ndl__pb_field *f);

/* A growable output buffer, never above cap bytes. */
struct ndl__pb_buf {
	uint8_t *data;           /* owned */
	size_t len;
	size_t size;
	size_t cap;
	bool failed;             /* a write did not fit or memory ran out */
};

/* An empty buffer that never holds more than cap bytes. */
void ndl__pb_buf_init(struct ndl__pb_buf *b, size_t cap);
/* Release the memory; the buffer may be initialised again. */
void ndl__pb_buf_free(struct ndl__pb_buf *b);
/* Forget the contents, keep the memory and the cap. */
void ndl__pb_buf_reset(struct ndl__pb_buf *b);

/*
 * Append raw bytes, a varint, a field key, or whole fields. Each returns
 * 0, or -ENOBUFS (cap reached) / -ENOMEM and sets b->failed; after a
 * failure the contents are not to be used.
 */
int ndl__pb_put_raw(struct ndl__pb_buf *b, const void *data, size_t len);
int ndl__pb_put_varint(struct ndl__pb_buf *b, uint64_t v);
int ndl__pb_put_key(struct ndl__pb_buf *b, uint32_t number, unsigned wire);
int ndl__pb_put_uint(struct ndl__pb_buf *b, uint32_t number, uint64_t v);
int ndl__pb_put_fixed32(struct ndl__pb_buf *b, uint32_t number, uint32_t v);
int ndl__pb_put_bytes(struct ndl__pb_buf *b, uint32_t number, const void *data, size_t len);

/* Bytes a varint of v takes (1..10). */
size_t ndl__pb_varint_size(uint64_t v);

#endif /* NDL_NMSG_PB_H */
