/* SPDX-License-Identifier: MIT */
/*
 * rd.h - a bounds-checked reader over captured bytes, private to the decoders.
 *
 * A struct ndl__rd is a window [base, base + len) with a read position off.
 * Every accessor first checks that the bytes it wants lie inside the window
 * and returns false, reading nothing and leaving the position where it was,
 * when they do not. Decoders never index packet bytes by hand: they call the
 * RD_* macros, which jump to a label of the caller's choosing on a failed
 * read, so each decoder has one exit that names what was cut short.
 *
 *   RD_BE16(&r, ethertype, trunc);   ...   trunc: return NDL_DECODE_...;
 *
 * The window itself never grows: rd_sub() carves a narrower window out of
 * the bytes that remain, so a layer cannot read past the length its parent
 * gave it.
 */
#ifndef NDL_KITCHEN_DECODE_RD_H
#define NDL_KITCHEN_DECODE_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct ndl__rd {
	const uint8_t *base;   /* first byte of the window (never NULL) */
	size_t len;            /* bytes in the window */
	size_t off;            /* next byte to read, 0 <= off <= len */
};

static inline struct ndl__rd rd_make(const uint8_t *base, size_t len)
{
	struct ndl__rd r = { base, len, 0 };
	return r;
}

/* Bytes left to read. */
static inline size_t rd_left(const struct ndl__rd *r)
{
	return r->len - r->off;
}

/* The address of the read position (valid to compare and subtract; read
 * through it only what rd_left() allows, via rd_take()). */
static inline const uint8_t *rd_cur(const struct ndl__rd *r)
{
	return r->base + r->off;
}

static inline bool rd_have(const struct ndl__rd *r, size_t n)
{
	return n <= r->len - r->off;
}

static inline bool rd_u8(struct ndl__rd *r, uint8_t *v)
{
	if (!rd_have(r, 1))
		return false;
	*v = r->base[r->off];
	r->off += 1;
	return true;
}

static inline bool rd_be16(struct ndl__rd *r, uint16_t *v)
{
	if (!rd_have(r, 2))
		return false;
	const uint8_t *p = r->base + r->off;
	*v = (uint16_t)((unsigned)p[0] << 8 | p[1]);
	r->off += 2;
	return true;
}

static inline bool rd_be32(struct ndl__rd *r, uint32_t *v)
{
	if (!rd_have(r, 4))
		return false;
	const uint8_t *p = r->base + r->off;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	     (uint32_t)p[2] << 8 | (uint32_t)p[3];
	r->off += 4;
	return true;
}

/* Four bytes in the byte order of this machine. */
static inline bool rd_ne32(struct ndl__rd *r, uint32_t *v)
{
	if (!rd_have(r, 4))
		return false;
	memcpy(v, r->base + r->off, 4);
	r->off += 4;
	return true;
}

/* Copy n bytes out. */
static inline bool rd_copy(struct ndl__rd *r, void *dst, size_t n)
{
	if (!rd_have(r, n))
		return false;
	memcpy(dst, r->base + r->off, n);
	r->off += n;
	return true;
}

/* Borrow n bytes in place: *p points at them afterwards. */
static inline bool rd_take(struct ndl__rd *r, const uint8_t **p, size_t n)
{
	if (!rd_have(r, n))
		return false;
	*p = r->base + r->off;
	r->off += n;
	return true;
}

static inline bool rd_skip(struct ndl__rd *r, size_t n)
{
	if (!rd_have(r, n))
		return false;
	r->off += n;
	return true;
}

/* Move the read position to pos, which must lie inside the window. */
static inline bool rd_seek(struct ndl__rd *r, size_t pos)
{
	if (pos > r->len)
		return false;
	r->off = pos;
	return true;
}

/*
 * A window over the next n bytes (fewer when fewer remain), positioned at
 * its start. r itself does not move.
 */
static inline struct ndl__rd rd_sub(const struct ndl__rd *r, size_t n)
{
	size_t left = rd_left(r);
	return rd_make(rd_cur(r), n < left ? n : left);
}

#define RD_U8(r, v, fail)         do { if (!rd_u8((r), &(v))) goto fail; } while (0)
#define RD_BE16(r, v, fail)       do { if (!rd_be16((r), &(v))) goto fail; } while (0)
#define RD_BE32(r, v, fail)       do { if (!rd_be32((r), &(v))) goto fail; } while (0)
#define RD_NE32(r, v, fail)       do { if (!rd_ne32((r), &(v))) goto fail; } while (0)
#define RD_COPY(r, dst, n, fail)  do { if (!rd_copy((r), (dst), (n))) goto fail; } while (0)
#define RD_TAKE(r, p, n, fail)    do { if (!rd_take((r), &(p), (n))) goto fail; } while (0)
#define RD_SKIP(r, n, fail)       do { if (!rd_skip((r), (n))) goto fail; } while (0)

#endif /* NDL_KITCHEN_DECODE_RD_H */
