/* SPDX-License-Identifier: MIT */
/*
 * frames.h - building frames and messages byte by byte for the decoder
 * tests, and handing them to the code under test in heap blocks of exactly
 * their length, so the address sanitizer sees any read past the end.
 */
#ifndef NDL_TESTS_DECODE_FRAMES_H
#define NDL_TESTS_DECODE_FRAMES_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fb {
	uint8_t b[8192];
	size_t n;
};

static inline void fb_reset(struct fb *f)
{
	f->n = 0;
}

static inline void put(struct fb *f, const void *p, size_t n)
{
	ck_assert_uint_le(f->n + n, sizeof(f->b));
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static inline void put8(struct fb *f, unsigned int v)
{
	uint8_t b = (uint8_t)v;
	put(f, &b, 1);
}

static inline void put16(struct fb *f, unsigned int v)
{
	put8(f, v >> 8);
	put8(f, v);
}

static inline void put32(struct fb *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static inline void putz(struct fb *f, size_t n)
{
	while (n--)
		put8(f, 0);
}

/* Overwrite a big-endian 16-bit value at off. */
static inline void patch16(struct fb *f, size_t off, unsigned int v)
{
	ck_assert_uint_le(off + 2, f->n);
	f->b[off] = (uint8_t)(v >> 8);
	f->b[off + 1] = (uint8_t)v;
}

/* A name in wire form from dotted text ("www.example.com", "" for the root). */
static inline void putname(struct fb *f, const char *dotted)
{
	while (*dotted) {
		const char *dot = strchr(dotted, '.');
		size_t len = dot ? (size_t)(dot - dotted) : strlen(dotted);

		put8(f, (unsigned int)len);
		put(f, dotted, len);
		dotted += len;
		if (*dotted == '.')
			dotted++;
	}
	put8(f, 0);
}

/* A heap copy of exactly n bytes of p (at least one byte is allocated). */
static inline uint8_t *exact_copy(const void *p, size_t n)
{
	uint8_t *c = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(c);
	if (n)
		memcpy(c, p, n);
	return c;
}

#endif /* NDL_TESTS_DECODE_FRAMES_H */
