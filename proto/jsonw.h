/* SPDX-License-Identifier: MIT */
/*
 * jsonw.h - the project's buffer-backed implementation of struct ndl_jw
 * (the streaming JSON writer chefs see through ndl/chef.h).
 *
 * Not part of the chef ABI: kitchen, hub and tests use it directly.
 * Single-threaded; a buffer is reused across documents without freeing.
 */
#ifndef NDL_PROTO_JSONW_H
#define NDL_PROTO_JSONW_H

#include <stddef.h>
#include <stdint.h>
#include <ndl/chef.h>

#define NDL_JWB_MAX_DEPTH 64

enum ndl_jwb_error {
	NDL_JWB_OK = 0,
	NDL_JWB_NESTING,   /* value without key in object, key outside object, unbalanced end */
	NDL_JWB_DEPTH,     /* deeper than NDL_JWB_MAX_DEPTH */
	NDL_JWB_LIMIT,     /* document larger than the limit given to init */
	NDL_JWB_NOMEM,
};

struct ndl_jwb {
	struct ndl_jw base;          /* must stay first: chefs see &jwb->base */
	char *buf;                   /* owned; NUL-terminated after each write */
	size_t len;
	size_t cap;
	size_t limit;                /* most bytes a document may take */
	int error;                   /* enum ndl_jwb_error, sticky until reset */
	uint32_t depth;
	uint8_t frame[NDL_JWB_MAX_DEPTH];  /* per level: object/array, first item, key pending */
	uint8_t top;                 /* the same for the document level (a value written) */
};

/* The operations of every struct ndl_jwb (what &w->base points at). */
extern const struct ndl_jw_ops ndl_jwb_ops;

/* The chef-facing writer of w. */
static inline struct ndl_jw *ndl_jwb_jw(struct ndl_jwb *w) { return &w->base; }

/*
 * Initialise an empty writer whose documents may reach limit bytes (0: no
 * limit but memory). Allocates a small buffer; when that fails the writer
 * reports NDL_JWB_NOMEM and tries again after reset.
 */
void ndl_jwb_init(struct ndl_jwb *w, size_t limit);
/* Release the buffer; the writer may be initialised again. NULL is a no-op. */
void ndl_jwb_free(struct ndl_jwb *w);
/* Forget the content and the error; keep the buffer. */
void ndl_jwb_reset(struct ndl_jwb *w);
/*
 * Truncate back to len bytes at nesting depth depth (for undoing a partial
 * write), both as observed earlier between two calls while the containers
 * open then are still open. Clears NDL_JWB_LIMIT (so the entry that did not
 * fit can be dropped); other errors stay until reset. A len beyond the
 * current length or a depth over NDL_JWB_MAX_DEPTH is ignored.
 */
void ndl_jwb_rewind(struct ndl_jwb *w, size_t len, uint32_t depth);
/* Append bytes verbatim, bypassing the structure checks (for envelopes); the size limit holds. */
void ndl_jwb_append(struct ndl_jwb *w, const char *s, size_t len);
/*
 * Internal to proto/ (the envelope writes its fixed prefix with these):
 * append s escaped and quoted without structure checks (errors and the
 * limit apply as for every write); and declare that the bytes so far
 * opened one object whose member's value is due.
 */
void ndl__jwb_put_string(struct ndl_jwb *w, const char *s, size_t len);
void ndl__jwb_member_value_due(struct ndl_jwb *w);
/*
 * Also internal to proto/: v in decimal, or t as the writer's time (seconds
 * with six decimals), written backwards so that the last byte is end[-1],
 * at most NDL__JW_NUM_MAX bytes. Return the first byte. Pure.
 */
#define NDL__JW_NUM_MAX 24
char *ndl__jw_u64_rev(char *end, uint64_t v);
char *ndl__jw_time_rev(char *end, ndl_time_ns t);

/* 0 when the document so far is well formed, else enum ndl_jwb_error. */
static inline int ndl_jwb_error(const struct ndl_jwb *w) { return w->error; }
/* True when every object and array opened has been closed. */
static inline int ndl_jwb_complete(const struct ndl_jwb *w) { return w->depth == 0; }

#endif /* NDL_PROTO_JSONW_H */
