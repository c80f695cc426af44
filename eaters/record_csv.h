/* SPDX-License-Identifier: MIT */
/*
 * record_csv.h - nd-record's CSV: a dumpling flattened into named fields,
 * the columns of one chef's files, and rows quoted as RFC 4180 says.
 *
 * Column names:
 *   metadata.<key>      a member of the dumpling's metadata
 *   <chef>_<path>       a leaf of the payload; <path> joins the keys from
 *                       the payload down to the leaf with '.'; a '.' or
 *                       '\' inside a key is written "\." or "\\"; a payload
 *                       that is not an object (or is {}) is the column
 *                       "<chef>_"
 *   <key>[.<path>]      any other member of the dumpling
 * Leaves: strings as their text; integers in decimal; reals in the
 * shortest form that reads back to the same double; true / false; null
 * as an empty cell; arrays and empty objects as compact JSON text.
 */
#ifndef NDL_EATERS_RECORD_CSV_H
#define NDL_EATERS_RECORD_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* A growable byte buffer (NUL-terminated). */
struct ndl__buf {
	char *p;
	size_t len, cap;
};

/* Release b's memory; b is empty afterwards. */
void ndl__buf_free(struct ndl__buf *b);

/* One dumpling as (name, value) pairs, in the dumpling's order. */
struct ndl__csv_fields {
	char **names;            /* malloc'd strings */
	char **values;           /* malloc'd; NULL for an empty cell (null) */
	size_t n, cap;
};

/* Release fl's pairs; fl may be reused. */
void ndl__csv_fields_clear(struct ndl__csv_fields *fl);

/*
 * Flatten a parsed dumpling into fl (cleared first), naming payload
 * columns after chef. dumpling is borrowed. Returns 0 or -ENOMEM.
 */
int ndl__csv_flatten(const json_t *dumpling, const char *chef, struct ndl__csv_fields *fl);

/* The columns of one chef: their order and where each name is. */
struct ndl__csv_table {
	json_t *index;           /* name -> position */
	char **names;
	size_t n, cap;
	size_t max;              /* most columns kept */
};

/* Start an empty table of at most max columns. Returns 0 or -ENOMEM. */
int ndl__csv_table_init(struct ndl__csv_table *t, size_t max);

/* Release t. A zeroed table is fine. */
void ndl__csv_table_free(struct ndl__csv_table *t);

/*
 * Add the names of fl that t does not have yet, after its columns, as far
 * as t->max allows. Returns how many were added (so the header changed),
 * or -ENOMEM.
 */
int ndl__csv_table_learn(struct ndl__csv_table *t, const struct ndl__csv_fields *fl);

/* Append t's header line (CRLF-terminated) to b. Returns 0 or -ENOMEM. */
int ndl__csv_header(const struct ndl__csv_table *t, struct ndl__buf *b);

/*
 * Append fl as one row of t (CRLF-terminated) to b: each value under its
 * column, empty cells elsewhere. Fields without a column (past t->max)
 * and a second field with the same name are not written: they are added
 * to *not_written. Returns 0 or -ENOMEM.
 */
int ndl__csv_row(const struct ndl__csv_table *t, const struct ndl__csv_fields *fl,
		 struct ndl__buf *b, uint64_t *not_written);

#endif /* NDL_EATERS_RECORD_CSV_H */
