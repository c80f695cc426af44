/* SPDX-License-Identifier: MIT */
/*
 * fuzz.h - what every libFuzzer target here shares: the entry point's
 * prototype, an exact-size copy of the input, and a check that survives
 * NDEBUG.
 *
 * libFuzzer hands a target bytes inside a larger buffer of its own, so a
 * parser reading one byte past the input would go unnoticed. Each target
 * copies the input into a heap block of exactly its size first: with the
 * address sanitizer, any read outside it aborts the run.
 */
#ifndef NDL_FUZZ_H
#define NDL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The entry point libFuzzer calls once per input; always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property every input must keep; a failure is reported as a crash. */
#define FUZZ_CHECK(cond)                                                    \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "%s:%d: check failed: %s\n",        \
				__FILE__, __LINE__, #cond);                 \
			abort();                                            \
		}                                                           \
	} while (0)

/*
 * A malloc'd copy of data[0..size) in a block of exactly size bytes (also
 * for size 0, so that even one byte read is caught). The caller frees it.
 * Aborts when memory runs out: a fuzz run has no better way to go on.
 */
static inline uint8_t *fuzz_dup(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size);

	FUZZ_CHECK(copy != NULL || size == 0);
	if (size)
		memcpy(copy, data, size);
	return copy;
}

/* True when [p, p + n) lies inside [base, base + len). */
static inline int fuzz_inside(const void *p, size_t n, const void *base, size_t len)
{
	const uint8_t *q = p, *b = base;

	return q >= b && n <= len && (size_t)(q - b) <= len - n;
}

#endif /* NDL_FUZZ_H */
