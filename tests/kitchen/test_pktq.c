/* SPDX-License-Identifier: MIT */
/*
 * test_pktq.c - the batch queue between the capture thread and the loop,
 * with a real producer thread: every packet arrives once, whole and in
 * order, whichever side decodes it; the producer waits at the bound and
 * gives up when cancelled; the end and its reason arrive after the last
 * packet; free batches beyond the kept ones are given back.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pcap/dlt.h>

#include "pktq.h"

#define BATCH (16 * 1024)

static void no_notify(void *arg)
{
	(void)arg;
}

/* Packet i: an Ethernet frame with an IPv4/UDP header, then bytes derived
 * from i; some sizes larger than a batch. */
static uint32_t size_of(unsigned int i)
{
	if (i % 997 == 0)
		return BATCH + 3000;    /* needs a batch of its own */
	return 42 + (i * 37) % 1400;
}

static void fill(uint8_t *p, uint32_t n, unsigned int i)
{
	static const uint8_t head[42] = {
		1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00,            /* Ethernet */
		0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, /* IPv4 */
		0x30, 0x39, 0, 53, 0, 8, 0, 0,                                 /* UDP */
	};

	memcpy(p, head, sizeof(head));
	for (uint32_t k = sizeof(head); k < n; k++)
		p[k] = (uint8_t)(i * 31 + k);
}

struct producer {
	struct ndl__pktq *q;
	unsigned int count;
	int finish_status;
	const char *finish_why;
	int last_put;                  /* what the last put returned */
	unsigned int sleep_every;      /* nap now and then */
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	uint8_t *buf = malloc(BATCH + 4096);

	ck_assert_ptr_nonnull(buf);
	for (unsigned int i = 0; i < p->count; i++) {
		uint32_t n = size_of(i);

		fill(buf, n, i);
		p->last_put = ndl__pktq_put(p->q, (uint16_t)(i % 3), DLT_EN10MB,
					    (ndl_time_ns)i * 1000, n, n + 4, buf);
		if (p->last_put < 0)
			break;
		if (p->sleep_every && i % p->sleep_every == 0) {
			struct timespec ms = { 0, 200000 };

			nanosleep(&ms, NULL);
		}
	}
	if (p->last_put == 0)
		ndl__pktq_finish(p->q, p->finish_status, p->finish_why);
	free(buf);
	return NULL;
}

/* Take everything until the end, checking each packet; counts decoded. */
static unsigned int consume_all(struct ndl__pktq *q, unsigned int count, unsigned int *decoded,
				bool slow, int *status, char *why, size_t whylen)
{
	uint8_t *want = malloc(BATCH + 4096);
	unsigned int next = 0;

	ck_assert_ptr_nonnull(want);
	*decoded = 0;
	for (;;) {
		struct ndl__pktq_batch *b = ndl__pktq_pop(q);
		struct ndl__pkt p;
		size_t cur = 0;

		if (!b) {
			if (ndl__pktq_done(q, status, why, whylen))
				break;
			sched_yield();
			continue;
		}
		ck_assert_uint_gt(ndl__pktq_count(b), 0);
		while (ndl__pktq_next(b, &cur, &p)) {
			uint32_t n = size_of(next);

			ck_assert_uint_lt(next, count);
			ck_assert_uint_eq(p.caplen, n);
			ck_assert_uint_eq(p.len, n + 4);
			ck_assert_int_eq(p.ts, (ndl_time_ns)next * 1000);
			ck_assert_int_eq(p.linktype, DLT_EN10MB);
			ck_assert_uint_eq(p.source, next % 3);
			fill(want, n, next);
			ck_assert_mem_eq(p.data, want, n);
			if (p.pkt) {
				(*decoded)++;
				ck_assert_ptr_eq(p.pkt->data, p.data);
				ck_assert_uint_eq(p.pkt->caplen, n);
				ck_assert_int_eq(p.pkt->ts, p.ts);
				ck_assert_uint_ne(p.pkt->layers & NDL_LAYER_UDP, 0);
				ck_assert_uint_eq(p.pkt->dport, 53);
			}
			next++;
			if (slow && next % 64 == 0) {
				struct timespec t = { 0, 50000 };

				nanosleep(&t, NULL);
			}
		}
		ndl__pktq_release(q, b);
	}
	free(want);
	return next;
}

START_TEST(every_packet_once_in_order)
{
	struct ndl__pktq q;
	struct producer p = { .q = &q, .count = 20000 };
	unsigned int got, decoded;
	pthread_t t;
	char why[64];
	int status = -1;

	ck_assert_int_eq(ndl__pktq_init(&q, BATCH, 4, 4, no_notify, NULL), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, produce, &p), 0);
	/* a slow consumer: the producer waits for room and starts decoding */
	got = consume_all(&q, p.count, &decoded, true, &status, why, sizeof(why));
	pthread_join(t, NULL);
	ck_assert_uint_eq(got, p.count);
	ck_assert_int_eq(p.last_put, 0);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(why, "");
	ck_assert_uint_gt(decoded, 0);
	ck_assert_uint_le(ndl__pktq_peak(&q), 4);
	ndl__pktq_destroy(&q);
}
END_TEST

START_TEST(a_starved_consumer_decodes)
{
	struct ndl__pktq q;
	struct producer p = { .q = &q, .count = 3000, .sleep_every = 50 };
	unsigned int got, decoded;
	pthread_t t;
	int status = -1;

	/* room for every packet: the producer never waits, so never decodes */
	ck_assert_int_eq(ndl__pktq_init(&q, BATCH, 1024, 2, no_notify, NULL), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, produce, &p), 0);
	got = consume_all(&q, p.count, &decoded, false, &status, NULL, 0);
	pthread_join(t, NULL);
	ck_assert_uint_eq(got, p.count);
	ck_assert_uint_eq(decoded, 0);
	ndl__pktq_destroy(&q);
}
END_TEST

START_TEST(the_end_and_why)
{
	struct ndl__pktq q;
	struct producer p = { .q = &q, .count = 10, .finish_status = -EIO,
			      .finish_why = "capture on eth9 failed: gone" };
	unsigned int decoded;
	pthread_t t;
	char why[64];
	int status = 0;

	ck_assert_int_eq(ndl__pktq_init(&q, BATCH, 4, 2, no_notify, NULL), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, produce, &p), 0);
	ck_assert_uint_eq(consume_all(&q, p.count, &decoded, false, &status, why, sizeof(why)),
			  10);
	pthread_join(t, NULL);
	ck_assert_int_eq(status, -EIO);
	ck_assert_str_eq(why, "capture on eth9 failed: gone");
	ndl__pktq_destroy(&q);
}
END_TEST

START_TEST(cancel_frees_a_waiting_producer)
{
	struct ndl__pktq q;
	struct producer p = { .q = &q, .count = 100000 };
	struct timespec ms = { 0, 20000000 };
	pthread_t t;

	ck_assert_int_eq(ndl__pktq_init(&q, BATCH, 2, 2, no_notify, NULL), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, produce, &p), 0);
	nanosleep(&ms, NULL);           /* nobody takes: it fills 2 batches and waits */
	ck_assert_uint_eq(ndl__pktq_peak(&q), 2);
	ndl__pktq_cancel(&q);
	pthread_join(t, NULL);
	ck_assert_int_eq(p.last_put, -ECANCELED);
	ndl__pktq_destroy(&q);
}
END_TEST

START_TEST(free_batches_are_given_back)
{
	struct ndl__pktq q;
	struct ndl__pktq_batch *held[6];
	uint8_t pkt[1000];
	size_t n = 0;

	ck_assert_int_eq(ndl__pktq_init(&q, BATCH, 8, 2, no_notify, NULL), 0);
	fill(pkt, sizeof(pkt), 1);
	/* a burst: six batches queued at once (no thread needed) */
	for (int i = 0; i < 6 * (BATCH / (int)sizeof(pkt)); i++)
		ck_assert_int_eq(ndl__pktq_put(&q, 0, DLT_EN10MB, i, sizeof(pkt), sizeof(pkt),
					       pkt), 0);
	ndl__pktq_flush(&q);
	while (n < 6 && (held[n] = ndl__pktq_pop(&q)) != NULL)
		n++;
	ck_assert_uint_ge(n, 6);
	ck_assert_uint_ge(q.n_batches, 6);
	for (size_t i = 0; i < n; i++)
		ndl__pktq_release(&q, held[i]);
	while ((held[0] = ndl__pktq_pop(&q)) != NULL)
		ndl__pktq_release(&q, held[0]);
	/* the burst is over: two stay mapped, the others are unmapped */
	ck_assert_uint_eq(q.n_batches, 2);
	ck_assert_uint_eq(q.n_free, 2);
	ndl__pktq_destroy(&q);
}
END_TEST

static Suite *pktq_suite(void)
{
	Suite *s = suite_create("pktq");
	TCase *tc = tcase_create("pktq");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, every_packet_once_in_order);
	tcase_add_test(tc, a_starved_consumer_decodes);
	tcase_add_test(tc, the_end_and_why);
	tcase_add_test(tc, cancel_frees_a_waiting_producer);
	tcase_add_test(tc, free_batches_are_given_back);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pktq_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
