/* SPDX-License-Identifier: MIT */
/* Unit tests of the hub's shared message buffers and bounded queues. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msgq.h"

static struct ndl_hub_msg *msg_of(const char *s)
{
	struct ndl_hub_msg *m = ndl__hub_msg_new(0);

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(ndl__hub_msg_append(&m, s, strlen(s)), 0);
	return m;
}

START_TEST(test_append_grows_and_keeps_headroom)
{
	struct ndl_hub_msg *m = ndl__hub_msg_new(4);
	char big[10000];

	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(ndl__hub_msg_append(&m, "abc", 3), 0);
	ck_assert_int_eq(ndl__hub_msg_append(&m, big, sizeof(big)), 0);
	ck_assert_uint_eq(m->len, 3 + sizeof(big));
	ck_assert_uint_ge(m->cap, m->len);
	ck_assert_mem_eq(ndl__hub_msg_payload(m), "abcxxx", 6);
	ck_assert_ptr_eq(ndl__hub_msg_payload(m), m->data + LWS_PRE);
	ndl__hub_msg_trim(&m);
	ck_assert_uint_eq(m->cap, m->len);
	ck_assert_mem_eq(ndl__hub_msg_payload(m) + m->len - 3, "xxx", 3);
	ndl__hub_msg_unref(m);
	ndl__hub_msg_unref(NULL);
}
END_TEST

START_TEST(test_count_limit_drops_new)
{
	struct ndl_hub_msgq q;
	struct ndl_hub_msg *m[5];

	ndl__hub_msgq_init(&q, 3, 1 << 20);
	for (int i = 0; i < 5; i++)
		m[i] = msg_of(i % 2 ? "odd" : "even");
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(ndl__hub_msgq_push(&q, m[i]), 0);
	ck_assert_int_eq(ndl__hub_msgq_push(&q, m[3]), -ENOBUFS);
	ck_assert_uint_eq(q.count, 3);
	ck_assert_uint_eq(m[3]->refs, 1);    /* a refused message is not referenced */
	ck_assert_uint_eq(m[0]->refs, 2);
	ck_assert_ptr_eq(ndl__hub_msgq_peek(&q), m[0]);
	ndl__hub_msgq_pop(&q);
	ck_assert_uint_eq(m[0]->refs, 1);
	ck_assert_int_eq(ndl__hub_msgq_push(&q, m[4]), 0);
	ck_assert_ptr_eq(ndl__hub_msgq_peek(&q), m[1]);
	ndl__hub_msgq_clear(&q);
	for (int i = 0; i < 5; i++) {
		ck_assert_uint_eq(m[i]->refs, 1);
		ndl__hub_msg_unref(m[i]);
	}
}
END_TEST

START_TEST(test_byte_limit_but_never_starves)
{
	struct ndl_hub_msgq q;
	struct ndl_hub_msg *a = msg_of("0123456789"), *b = msg_of("01234");

	ndl__hub_msgq_init(&q, 100, 12);
	ck_assert_int_eq(ndl__hub_msgq_push(&q, a), 0);
	ck_assert_int_eq(ndl__hub_msgq_push(&q, b), -ENOBUFS);   /* 15 > 12 */
	ck_assert_uint_eq(q.bytes, 10);
	ndl__hub_msgq_pop(&q);
	ck_assert_uint_eq(q.bytes, 0);
	ndl__hub_msgq_clear(&q);
	/* An empty queue takes one message even past the byte limit. */
	ndl__hub_msgq_init(&q, 100, 4);
	ck_assert_int_eq(ndl__hub_msgq_push(&q, a), 0);
	ck_assert_int_eq(ndl__hub_msgq_push(&q, b), -ENOBUFS);
	ndl__hub_msgq_clear(&q);
	ndl__hub_msg_unref(a);
	ndl__hub_msg_unref(b);
}
END_TEST

START_TEST(test_ring_wraps_in_order)
{
	struct ndl_hub_msgq q;
	struct ndl_hub_msg *m[64];
	int next_in = 0, next_out = 0;

	ndl__hub_msgq_init(&q, 40, 1 << 20);
	for (int i = 0; i < 64; i++)
		m[i] = msg_of("x");
	/* Interleave pushes and pops so the ring wraps and grows while wrapped. */
	for (int round = 0; round < 200; round++) {
		for (int k = 0; k < 3 && q.count < 40; k++) {
			ck_assert_int_eq(ndl__hub_msgq_push(&q, m[next_in % 64]), 0);
			next_in++;
		}
		if (round % 2) {
			ck_assert_ptr_eq(ndl__hub_msgq_peek(&q), m[next_out % 64]);
			ndl__hub_msgq_pop(&q);
			next_out++;
		}
	}
	ck_assert_uint_eq(q.count, (size_t)(next_in - next_out));
	ck_assert_uint_le(q.cap, 64);
	while (q.count) {
		ck_assert_ptr_eq(ndl__hub_msgq_peek(&q), m[next_out % 64]);
		ndl__hub_msgq_pop(&q);
		next_out++;
	}
	ck_assert_ptr_null(ndl__hub_msgq_peek(&q));
	ndl__hub_msgq_clear(&q);
	for (int i = 0; i < 64; i++) {
		ck_assert_uint_eq(m[i]->refs, 1);
		ndl__hub_msg_unref(m[i]);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hub-msgq");
	TCase *tc = tcase_create("msgq");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_append_grows_and_keeps_headroom);
	tcase_add_test(tc, test_count_limit_drops_new);
	tcase_add_test(tc, test_byte_limit_but_never_starves);
	tcase_add_test(tc, test_ring_wraps_in_order);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
