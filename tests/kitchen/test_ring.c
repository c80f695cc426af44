/* SPDX-License-Identifier: MIT */
/*
 * test_ring.c - the record ring between a kitchen's threads: records of
 * every size come out once, whole and in order, across many wraps, with a
 * real producer thread; a full ring refuses a record until the consumer
 * frees room; a record larger than the limit is refused.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ring.h"

#define RING 8192
#define RECORDS 200000u

/* Record i: its length (some close to the limit) and its bytes. */
static size_t len_of(unsigned int i)
{
	if (i % 101 == 0)
		return NDL__RING_MAX_RECORD(RING) - sizeof(uint32_t);   /* the largest */
	return (i * 53u) % 300u;
}

static uint8_t byte_of(unsigned int i, size_t k)
{
	return (uint8_t)(i * 7u + k * 13u);
}

static void *producer(void *arg)
{
	struct ndl__ring *r = arg;

	for (unsigned int i = 0; i < RECORDS; i++) {
		size_t n = len_of(i);
		uint8_t *p;

		while ((p = ndl__ring_reserve(r, sizeof(uint32_t) + n)) == NULL)
			sched_yield();
		memcpy(p, &i, sizeof(i));
		for (size_t k = 0; k < n; k++)
			p[sizeof(uint32_t) + k] = byte_of(i, k);
		ndl__ring_commit(r);
	}
	return NULL;
}

START_TEST(ring_threads)
{
	struct ndl__ring r;
	pthread_t t;
	unsigned int next = 0;
	bool bad = false;

	ck_assert_int_eq(ndl__ring_init(&r, RING), 0);
	ck_assert(ndl__ring_empty(&r));
	ck_assert_int_eq(pthread_create(&t, NULL, producer, &r), 0);
	while (next < RECORDS) {
		const uint8_t *p;
		size_t len;
		uint32_t i;

		p = ndl__ring_peek(&r, &len);
		if (!p) {
			sched_yield();
			continue;
		}
		memcpy(&i, p, sizeof(i));
		if (i != next || len != sizeof(uint32_t) + len_of(i)) {
			bad = true;
			break;
		}
		for (size_t k = 0; k < len_of(i); k++)
			if (p[sizeof(uint32_t) + k] != byte_of(i, k))
				bad = true;
		ndl__ring_consume(&r);
		next++;
	}
	pthread_join(t, NULL);
	ck_assert_msg(!bad, "record %u came out wrong", next);
	ck_assert_uint_eq(next, RECORDS);
	ck_assert(ndl__ring_empty(&r));
	ck_assert_uint_eq(ndl__ring_used(&r), 0);
	ndl__ring_destroy(&r);
}
END_TEST

START_TEST(ring_full_and_limits)
{
	struct ndl__ring r;
	size_t len, filled = 0;
	const void *p;
	int n = 0;

	ck_assert_int_eq(ndl__ring_init(&r, 4096), 0);
	ck_assert_ptr_null(ndl__ring_reserve(&r, NDL__RING_MAX_RECORD(4096) + 1));
	ck_assert_ptr_null(ndl__ring_peek(&r, &len));
	/* 100-byte records (104 with padding, 112 with the header) until full */
	while (ndl__ring_reserve(&r, 100) != NULL) {
		ndl__ring_commit(&r);
		filled += 112;
		n++;
	}
	ck_assert_int_eq(n, 4096 / 112);
	ck_assert_uint_eq(ndl__ring_used(&r), filled);
	/* one consumed: room again, at the front, the 64 bytes at the end padded */
	p = ndl__ring_peek(&r, &len);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(len, 100);
	ndl__ring_consume(&r);
	ck_assert_ptr_nonnull(ndl__ring_reserve(&r, 100));
	ndl__ring_commit(&r);
	ck_assert_uint_eq(ndl__ring_used(&r), 4096);
	ck_assert_ptr_null(ndl__ring_reserve(&r, 0));
	for (int i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(ndl__ring_peek(&r, &len));
		ck_assert_uint_eq(len, 100);
		ndl__ring_consume(&r);
	}
	ck_assert_ptr_null(ndl__ring_peek(&r, &len));
	ck_assert(ndl__ring_empty(&r));
	ck_assert_int_eq(ndl__ring_init(&r, 5000), -EINVAL);
	ndl__ring_destroy(&r);
}
END_TEST

static Suite *ring_suite(void)
{
	Suite *s = suite_create("ring");
	TCase *tc = tcase_create("ring");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, ring_threads);
	tcase_add_test(tc, ring_full_and_limits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ring_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
