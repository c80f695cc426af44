/* SPDX-License-Identifier: MIT */
/*
 * lrumap.h - a bounded hash map that remembers which entry was used least
 * recently, for the built-in chefs.
 *
 * Header-only on purpose: every chef is its own .so and links nothing of
 * ours, so each one compiles its own copy of these few static functions.
 *
 * The map is intrusive. A chef embeds struct lru_node in its entry, points
 * node.key at key bytes the entry owns, and gets the entry back with
 * LRU_ENTRY. The map never allocates or frees entries; it only owns its
 * bucket array. A chef whose entries are all one size can take them from
 * a struct lru_pool (below), so that evicting the oldest entry and
 * inserting a new one reuses memory instead of a free and a malloc.
 *
 * Entries are chained per bucket and linked in one list from the least to
 * the most recently used, so lookup, touch, insert and evicting the oldest
 * are all O(1) (amortised for the bucket array, which doubles while the
 * map grows so that it keeps at least two buckets per entry, up to the
 * power of two at or above twice the cap). With that, three buckets in
 * five or more are empty, and most lookups of a key not in the map - the
 * first packet of every new conversation - end at the bucket without
 * reading an entry from memory. Each entry also knows what points at it in
 * its chain (the bucket, or the entry before it), so removing one reads
 * nothing of the others: the oldest entry is usually last in its chain,
 * since new entries go first, and walking the chain to it would read every
 * other entry there from memory.
 *
 * Keys usually come off the network, so they are hashed with SipHash-1-3
 * under a random key: nobody outside can choose keys that share a chain.
 *
 * Single-threaded, like every chef callback.
 */
#ifndef NDL_CHEFS_LRUMAP_H
#define NDL_CHEFS_LRUMAP_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <sys/types.h>

#define LRU_MIN_BUCKETS 64u

#define LRU_ENTRY(node_ptr, type, member) \
	((type *)(void *)((char *)(node_ptr) - offsetof(type, member)))

/* What a walk along a chain reads of the nodes it passes (chain, hash)
 * comes first, in one 16-byte piece that no cache line boundary splits. */
struct lru_node {
	struct lru_node *chain;      /* next in the same bucket */
	uint64_t hash;
	const uint8_t *key;          /* owned by the entry */
	size_t keylen;
	struct lru_node *lru_prev;   /* towards the least recently used */
	struct lru_node *lru_next;   /* towards the most recently used */
	struct lru_node **chain_ref; /* what points at this node: its bucket,
				      * or the chain field of the node before */
};

struct lru_map {
	struct lru_node **buckets;   /* owned; NULL before init */
	size_t nbuckets;             /* a power of two */
	size_t max_buckets;          /* the power of two at or above 2 * cap */
	size_t n;                    /* entries linked */
	size_t cap;                  /* most entries the user keeps */
	struct lru_node list;        /* sentinel: list.lru_next is the oldest */
	uint64_t k0, k1;             /* hash key */
};

/* ------------------------------------------------------------------------ */
/* SipHash-1-3 (Aumasson and Bernstein), 64-bit output                       */
/* ------------------------------------------------------------------------ */

static inline uint64_t lru_rotl(uint64_t x, unsigned int b)
{
	return (x << b) | (x >> (64u - b));
}

static inline void lru_sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = lru_rotl(v[1], 13); v[1] ^= v[0]; v[0] = lru_rotl(v[0], 32);
	v[2] += v[3]; v[3] = lru_rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = lru_rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = lru_rotl(v[1], 17); v[1] ^= v[2]; v[2] = lru_rotl(v[2], 32);
}

static inline uint64_t lru_load_le(const uint8_t *p, size_t n)
{
	uint64_t x = 0;

	for (size_t i = 0; i < n; i++)
		x |= (uint64_t)p[i] << (8u * i);
	return x;
}

static inline uint64_t lru_hash(const struct lru_map *m, const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t v[4] = {
		m->k0 ^ 0x736f6d6570736575ull, m->k1 ^ 0x646f72616e646f6dull,
		m->k0 ^ 0x6c7967656e657261ull, m->k1 ^ 0x7465646279746573ull,
	};
	size_t left = len;
	uint64_t w;

	for (; left >= 8; left -= 8, p += 8) {
		w = lru_load_le(p, 8);
		v[3] ^= w;
		lru_sipround(v);
		v[0] ^= w;
	}
	w = ((uint64_t)len << 56) | lru_load_le(p, left);
	v[3] ^= w;
	lru_sipround(v);
	v[0] ^= w;
	v[2] ^= 0xff;
	lru_sipround(v);
	lru_sipround(v);
	lru_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ------------------------------------------------------------------------ */
/* The map                                                                   */
/* ------------------------------------------------------------------------ */

/* Make m empty for at most cap entries. Returns 0 or -ENOMEM. */
static inline int lru_map_init(struct lru_map *m, size_t cap)
{
	uint64_t seed[2] = { 0, 0 };
	struct timespec ts;

	memset(m, 0, sizeof(*m));
	m->list.lru_prev = m->list.lru_next = &m->list;
	m->cap = cap ? cap : 1;
	m->max_buckets = LRU_MIN_BUCKETS;
	while (m->max_buckets / 2 < m->cap && m->max_buckets <= SIZE_MAX / 4)
		m->max_buckets *= 2;
	m->nbuckets = LRU_MIN_BUCKETS;

	if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
		/* No entropy yet: still differ from run to run. */
		clock_gettime(CLOCK_REALTIME, &ts);
		seed[0] ^= (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec;
		seed[1] ^= (uint64_t)(uintptr_t)m * 0xff51afd7ed558ccdull;
	}
	m->k0 = seed[0];
	m->k1 = seed[1];

	m->buckets = calloc(m->nbuckets, sizeof(*m->buckets));
	return m->buckets ? 0 : -ENOMEM;
}

/* Release the bucket array (entries stay the caller's). Safe on a zeroed map. */
static inline void lru_map_fini(struct lru_map *m)
{
	free(m->buckets);
	m->buckets = NULL;
	m->nbuckets = 0;
	m->n = 0;
}

static inline bool lru_map_full(const struct lru_map *m)
{
	return m->n >= m->cap;
}

/* The least recently used entry, NULL when empty. */
static inline struct lru_node *lru_map_oldest(const struct lru_map *m)
{
	return m->n ? m->list.lru_next : NULL;
}

/*
 * Start loading the bucket that lru_map_find will read for hash, so that
 * other work can go on while it comes from memory: large maps do not stay
 * in cache. Only a hint; it changes nothing.
 */
static inline void lru_map_prefetch(const struct lru_map *m, uint64_t hash)
{
	__builtin_prefetch(&m->buckets[hash & (m->nbuckets - 1)]);
}

/* The entry whose key is key[0..len) (hash from lru_hash), or NULL. */
static inline struct lru_node *lru_map_find(const struct lru_map *m, const void *key,
					    size_t len, uint64_t hash)
{
	struct lru_node *n = m->buckets[hash & (m->nbuckets - 1)];

	for (; n; n = n->chain)
		if (n->hash == hash && n->keylen == len && memcmp(n->key, key, len) == 0)
			return n;
	return NULL;
}

static inline void lru_list_unlink(struct lru_node *n)
{
	n->lru_prev->lru_next = n->lru_next;
	n->lru_next->lru_prev = n->lru_prev;
}

static inline void lru_list_append(struct lru_map *m, struct lru_node *n)
{
	n->lru_prev = m->list.lru_prev;
	n->lru_next = &m->list;
	m->list.lru_prev->lru_next = n;
	m->list.lru_prev = n;
}

/* Mark n as the most recently used. */
static inline void lru_map_touch(struct lru_map *m, struct lru_node *n)
{
	lru_list_unlink(n);
	lru_list_append(m, n);
}

/* Double the bucket array; on allocation failure keep the old one. */
static inline void lru_map_grow(struct lru_map *m)
{
	size_t nb = m->nbuckets * 2;
	struct lru_node **b = calloc(nb, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < m->nbuckets; i++) {
		struct lru_node *n = m->buckets[i], *next;

		for (; n; n = next) {
			struct lru_node **head = &b[n->hash & (nb - 1)];

			next = n->chain;
			n->chain = *head;
			if (*head)
				(*head)->chain_ref = &n->chain;
			*head = n;
			n->chain_ref = head;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = nb;
}

/*
 * Link n (key, keylen and hash set; its key not in m yet) as the most
 * recently used entry. The caller keeps m->n below the cap by evicting
 * first.
 */
static inline void lru_map_insert(struct lru_map *m, struct lru_node *n)
{
	size_t i;

	if (m->n >= m->nbuckets / 2 && m->nbuckets < m->max_buckets)
		lru_map_grow(m);
	i = n->hash & (m->nbuckets - 1);
	n->chain = m->buckets[i];
	if (n->chain)
		n->chain->chain_ref = &n->chain;
	m->buckets[i] = n;
	n->chain_ref = &m->buckets[i];
	lru_list_append(m, n);
	m->n++;
}

/* Unlink n from m; the entry stays the caller's. */
static inline void lru_map_remove(struct lru_map *m, struct lru_node *n)
{
	/* Evicting or expiring the oldest: the next oldest is looked at soon. */
	if (m->list.lru_next == n)
		__builtin_prefetch(n->lru_next);

	*n->chain_ref = n->chain;
	if (n->chain)
		n->chain->chain_ref = n->chain_ref;
	lru_list_unlink(n);
	n->chain = n->lru_prev = n->lru_next = NULL;
	n->chain_ref = NULL;
	m->n--;
}

/* ------------------------------------------------------------------------ */
/* An entry pool                                                             */
/* ------------------------------------------------------------------------ */

/*
 * Entries of one size for one map. They are carved from blocks of up to
 * LRU_POOL_BLOCK entries as the map fills, and an entry given back goes on
 * a free list for the next lru_pool_get. At most cap entries are out at
 * once (the map's cap), so the pool holds no more than cap entries plus one
 * partly used block; nothing is returned to malloc before lru_pool_fini,
 * just as a full map keeps its entries. Single-threaded.
 */
#define LRU_POOL_BLOCK 256u

struct lru_pool_free {
	struct lru_pool_free *next;
};

/* A block's header; its entries follow, aligned for any type. */
struct lru_pool_block {
	struct lru_pool_block *next;
	max_align_t entries[];
};

struct lru_pool {
	size_t size;                 /* bytes per entry, aligned for any type */
	size_t cap;                  /* most entries out at once */
	size_t out;                  /* entries handed out and not given back */
	struct lru_pool_free *free;  /* entries given back */
	struct lru_pool_block *blocks; /* owned; newest first */
	char *fresh;                 /* next never-used entry of the newest block */
	size_t fresh_left;           /* never-used entries left in it */
};

/* Make p empty, for at most cap entries of size bytes. Never fails. */
static inline void lru_pool_init(struct lru_pool *p, size_t size, size_t cap)
{
	size_t align = _Alignof(max_align_t);

	memset(p, 0, sizeof(*p));
	if (size < sizeof(struct lru_pool_free))
		size = sizeof(struct lru_pool_free);
	p->size = (size + align - 1) / align * align;
	p->cap = cap ? cap : 1;
}

/*
 * An entry of p's size, uninitialised, owned by the caller until given
 * back with lru_pool_put. NULL when cap entries are out or memory ran out.
 */
static inline void *lru_pool_get(struct lru_pool *p)
{
	struct lru_pool_block *b;
	size_t n;
	void *e;

	if (p->out >= p->cap)
		return NULL;
	if (p->free) {
		e = p->free;
		p->free = p->free->next;
		p->out++;
		return e;
	}
	if (p->fresh_left == 0) {
		/* Every entry ever made is out: out < cap entries exist. */
		n = p->cap - p->out < LRU_POOL_BLOCK ? p->cap - p->out : LRU_POOL_BLOCK;
		if (n > (SIZE_MAX - sizeof(*b)) / p->size)
			return NULL;
		b = malloc(sizeof(*b) + n * p->size);
		if (!b)
			return NULL;
		b->next = p->blocks;
		p->blocks = b;
		p->fresh = (char *)b->entries;
		p->fresh_left = n;
	}
	e = p->fresh;
	p->fresh += p->size;
	p->fresh_left--;
	p->out++;
	return e;
}

/* Give back e (from lru_pool_get on p) for reuse. NULL is a no-op. */
static inline void lru_pool_put(struct lru_pool *p, void *e)
{
	struct lru_pool_free *f = e;

	if (!e)
		return;
	f->next = p->free;
	p->free = f;
	p->out--;
}

/* Free every block; entries still out become invalid. Safe on a zeroed pool. */
static inline void lru_pool_fini(struct lru_pool *p)
{
	struct lru_pool_block *b = p->blocks, *next;

	for (; b; b = next) {
		next = b->next;
		free(b);
	}
	memset(p, 0, sizeof(*p));
}

#endif /* NDL_CHEFS_LRUMAP_H */
