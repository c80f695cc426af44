/* SPDX-License-Identifier: MIT */
/*
 * test_lrumap - the bounded LRU hash map the built-in chefs share
 * (chefs/common/lrumap.h), tested directly: lookups across bucket growth,
 * least-recently-used order, removal from long chains, the hash, and the
 * entry pool.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <check.h>
#include "lrumap.h"

struct item {
	struct lru_node node;
	uint32_t key;
};

static struct item *items;

static struct item *find(struct lru_map *m, uint32_t key)
{
	struct lru_node *n = lru_map_find(m, &key, sizeof(key), lru_hash(m, &key, sizeof(key)));

	return n ? LRU_ENTRY(n, struct item, node) : NULL;
}

static void insert(struct lru_map *m, struct item *it, uint32_t key)
{
	it->key = key;
	it->node.key = (const uint8_t *)&it->key;
	it->node.keylen = sizeof(it->key);
	it->node.hash = lru_hash(m, &it->key, sizeof(it->key));
	lru_map_insert(m, &it->node);
}

START_TEST(finds_everything_across_growth)
{
	struct lru_map m;
	const uint32_t n = 5000;

	items = calloc(n, sizeof(*items));
	ck_assert_ptr_nonnull(items);
	ck_assert_int_eq(lru_map_init(&m, n), 0);
	for (uint32_t i = 0; i < n; i++) {
		insert(&m, &items[i], i * 7919u);
		ck_assert_ptr_eq(find(&m, i * 7919u), &items[i]);
	}
	ck_assert_uint_eq(m.n, n);
	ck_assert(lru_map_full(&m));
	ck_assert_uint_ge(m.nbuckets, 2 * n);   /* two buckets per entry at least */
	ck_assert_uint_le(m.nbuckets, m.max_buckets);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_ptr_eq(find(&m, i * 7919u), &items[i]);
	ck_assert_ptr_null(find(&m, 1));
	lru_map_fini(&m);
	free(items);
}
END_TEST

START_TEST(oldest_follows_use)
{
	struct lru_map m;
	struct item it[3];

	ck_assert_int_eq(lru_map_init(&m, 3), 0);
	ck_assert_ptr_null(lru_map_oldest(&m));
	insert(&m, &it[0], 10);
	insert(&m, &it[1], 11);
	insert(&m, &it[2], 12);
	ck_assert_ptr_eq(lru_map_oldest(&m), &it[0].node);
	lru_map_touch(&m, &it[0].node);
	ck_assert_ptr_eq(lru_map_oldest(&m), &it[1].node);
	lru_map_remove(&m, &it[1].node);
	ck_assert_ptr_null(find(&m, 11));
	ck_assert_ptr_eq(lru_map_oldest(&m), &it[2].node);
	ck_assert(!lru_map_full(&m));
	lru_map_remove(&m, &it[2].node);
	lru_map_remove(&m, &it[0].node);
	ck_assert_ptr_null(lru_map_oldest(&m));
	ck_assert_uint_eq(m.n, 0);
	lru_map_fini(&m);
}
END_TEST

START_TEST(remove_from_a_shared_chain)
{
	struct lru_map m;
	struct item it[4];

	ck_assert_int_eq(lru_map_init(&m, 4), 0);
	/* Force one chain: every key in bucket 0 with the same hash. */
	for (uint32_t i = 0; i < 4; i++) {
		it[i].key = i;
		it[i].node.key = (const uint8_t *)&it[i].key;
		it[i].node.keylen = sizeof(it[i].key);
		it[i].node.hash = 0;
		lru_map_insert(&m, &it[i].node);
	}
	lru_map_remove(&m, &it[2].node);
	for (uint32_t i = 0; i < 4; i++) {
		uint32_t key = i;
		struct lru_node *n = lru_map_find(&m, &key, sizeof(key), 0);

		if (i == 2)
			ck_assert_ptr_null(n);
		else
			ck_assert_ptr_eq(n, &it[i].node);
	}
	/* the head and the tail of the chain, then one put back */
	lru_map_remove(&m, &it[3].node);
	lru_map_remove(&m, &it[0].node);
	ck_assert_ptr_eq(m.buckets[0], &it[1].node);
	ck_assert_ptr_null(m.buckets[0]->chain);
	lru_map_insert(&m, &it[3].node);
	ck_assert_ptr_eq(m.buckets[0], &it[3].node);
	lru_map_remove(&m, &it[1].node);
	ck_assert_ptr_eq(m.buckets[0], &it[3].node);
	ck_assert_ptr_null(m.buckets[0]->chain);
	lru_map_remove(&m, &it[3].node);
	ck_assert_ptr_null(m.buckets[0]);
	ck_assert_uint_eq(m.n, 0);
	lru_map_fini(&m);
}
END_TEST

/* Entries unlinked in an order that has nothing to do with their chains,
 * before and after the bucket array grew under them. */
START_TEST(remove_anywhere_across_growth)
{
	struct lru_map m;
	const uint32_t n = 3000;

	items = calloc(n, sizeof(*items));
	ck_assert_ptr_nonnull(items);
	ck_assert_int_eq(lru_map_init(&m, n), 0);
	for (uint32_t i = 0; i < n / 2; i++)
		insert(&m, &items[i], i);
	for (uint32_t i = 0; i < n / 2; i += 3)   /* a third, while still small */
		lru_map_remove(&m, &items[(i * 7u) % (n / 2)].node);
	for (uint32_t i = n / 2; i < n; i++)
		insert(&m, &items[i], i);
	for (uint32_t i = 1; i < n; i += 2) {     /* every odd one left, after growth */
		if (items[i].node.lru_next)
			lru_map_remove(&m, &items[i].node);
	}
	for (uint32_t i = 0; i < n; i++) {
		bool linked = items[i].node.lru_next != NULL;

		ck_assert_ptr_eq(find(&m, i), (linked ? &items[i] : NULL));
	}
	while (lru_map_oldest(&m))
		lru_map_remove(&m, lru_map_oldest(&m));
	ck_assert_uint_eq(m.n, 0);
	for (size_t b = 0; b < m.nbuckets; b++)
		ck_assert_ptr_null(m.buckets[b]);
	lru_map_fini(&m);
	free(items);
}
END_TEST

START_TEST(hash_depends_on_every_byte_and_length)
{
	struct lru_map m;
	char a[40], b[40];

	ck_assert_int_eq(lru_map_init(&m, 1), 0);
	memset(a, 'x', sizeof(a));
	for (size_t len = 0; len < sizeof(a); len++) {
		ck_assert_uint_eq(lru_hash(&m, a, len), lru_hash(&m, a, len));
		if (len)
			ck_assert_uint_ne(lru_hash(&m, a, len), lru_hash(&m, a, len - 1));
		for (size_t i = 0; i < len; i++) {
			memcpy(b, a, len);
			b[i] ^= 1;
			ck_assert_uint_ne(lru_hash(&m, a, len), lru_hash(&m, b, len));
		}
	}
	lru_map_fini(&m);
}
END_TEST

START_TEST(fini_on_zeroed_map)
{
	struct lru_map m;

	memset(&m, 0, sizeof(m));
	lru_map_fini(&m);
	ck_assert_ptr_null(m.buckets);
}
END_TEST

START_TEST(pool_is_bounded_and_reuses)
{
	enum { CAP = 600 };          /* more than two blocks */
	static void *got[CAP];
	struct lru_pool p;
	void *again;

	lru_pool_init(&p, 40, CAP);
	ck_assert_uint_eq(p.size % _Alignof(max_align_t), 0);
	ck_assert_uint_ge(p.size, 40);
	for (size_t i = 0; i < CAP; i++) {
		got[i] = lru_pool_get(&p);
		ck_assert_ptr_nonnull(got[i]);
		ck_assert_uint_eq((uintptr_t)got[i] % _Alignof(max_align_t), 0);
		memset(got[i], (int)(i & 0xff), 40);   /* all of it is usable */
	}
	ck_assert_ptr_null(lru_pool_get(&p));          /* cap entries are out */
	for (size_t i = 0; i < CAP; i++)
		for (size_t j = 0; j < 40; j++)
			ck_assert_uint_eq(((unsigned char *)got[i])[j], i & 0xff);

	lru_pool_put(&p, got[17]);
	lru_pool_put(&p, NULL);
	again = lru_pool_get(&p);
	ck_assert_ptr_eq(again, got[17]);              /* reused, not new */
	ck_assert_ptr_null(lru_pool_get(&p));

	/* Everything back, then out again: no new memory. */
	for (size_t i = 0; i < CAP; i++)
		lru_pool_put(&p, got[i]);
	ck_assert_uint_eq(p.out, 0);
	for (size_t i = 0; i < CAP; i++) {
		void *e = lru_pool_get(&p);
		bool known = false;

		for (size_t j = 0; j < CAP && !known; j++)
			known = e == got[j];
		ck_assert(known);
	}
	lru_pool_fini(&p);
	ck_assert_ptr_null(p.blocks);
}
END_TEST

START_TEST(pool_small_entries_and_zeroed_fini)
{
	struct lru_pool p;
	void *a, *b;

	memset(&p, 0, sizeof(p));
	lru_pool_fini(&p);                  /* zeroed: a no-op */
	lru_pool_init(&p, 1, 2);            /* room for the free-list link */
	ck_assert_uint_ge(p.size, sizeof(void *));
	a = lru_pool_get(&p);
	b = lru_pool_get(&p);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_null(lru_pool_get(&p));
	lru_pool_put(&p, a);
	ck_assert_ptr_eq(lru_pool_get(&p), a);
	lru_pool_fini(&p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lrumap");
	TCase *tc = tcase_create("map");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, finds_everything_across_growth);
	tcase_add_test(tc, oldest_follows_use);
	tcase_add_test(tc, remove_from_a_shared_chain);
	tcase_add_test(tc, remove_anywhere_across_growth);
	tcase_add_test(tc, hash_depends_on_every_byte_and_length);
	tcase_add_test(tc, fini_on_zeroed_map);
	tcase_add_test(tc, pool_is_bounded_and_reuses);
	tcase_add_test(tc, pool_small_entries_and_zeroed_fini);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
