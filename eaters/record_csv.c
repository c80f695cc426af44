/* SPDX-License-Identifier: MIT */
/*
 * record_csv.c - flatten dumplings (JSON, RFC 8259) into CSV rows
 * (RFC 4180: fields holding a comma, a quote, CR or LF are quoted, quotes
 * inside doubled, records end with CRLF).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record_csv.h"

/* ------------------------------------------------------------------------ */
/* Buffers                                                                  */

void ndl__buf_free(struct ndl__buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static int buf_add(struct ndl__buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static int buf_str(struct ndl__buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

/* ------------------------------------------------------------------------ */
/* Flattening                                                               */

void ndl__csv_fields_clear(struct ndl__csv_fields *fl)
{
	for (size_t i = 0; i < fl->n; i++) {
		free(fl->names[i]);
		free(fl->values[i]);
	}
	fl->n = 0;
	if (fl->cap > 4096) {  /* keep memory bounded after a huge dumpling */
		free(fl->names);
		free(fl->values);
		fl->names = fl->values = NULL;
		fl->cap = 0;
	}
}

/* Takes name and value (either may be NULL only for value). */
static int fields_add(struct ndl__csv_fields *fl, char *name, char *value)
{
	if (fl->n == fl->cap) {
		size_t cap = fl->cap ? fl->cap * 2 : 32;
		char **n = realloc(fl->names, cap * sizeof(*n)), **v;

		if (!n)
			goto fail;
		fl->names = n;
		v = realloc(fl->values, cap * sizeof(*v));
		if (!v)
			goto fail;
		fl->values = v;
		fl->cap = cap;
	}
	fl->names[fl->n] = name;
	fl->values[fl->n] = value;
	fl->n++;
	return 0;
fail:
	free(name);
	free(value);
	return -ENOMEM;
}

/* The shortest decimal form that reads back to d. */
static void real_text(double d, char *out, size_t n)
{
	if (!isfinite(d)) {  /* not JSON, but jansson never gives these */
		snprintf(out, n, "%s", isnan(d) ? "NaN" : d < 0 ? "-Infinity" : "Infinity");
		return;
	}
	for (int p = 1; p <= 17; p++) {
		snprintf(out, n, "%.*g", p, d);
		if (strtod(out, NULL) == d)
			break;
	}
	/* a whole number still reads as a real: "2" -> "2.0" */
	if (!strpbrk(out, ".eEn"))
		strncat(out, ".0", n - strlen(out) - 1);
}

/* A leaf as cell text; NULL for null. *err set on allocation failure. */
static char *leaf_text(const json_t *v, int *err)
{
	char num[64], *s = NULL;

	switch (json_typeof(v)) {
	case JSON_STRING:
		s = malloc(json_string_length(v) + 1);
		if (s)
			memcpy(s, json_string_value(v), json_string_length(v) + 1);
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		s = strdup(num);
		break;
	case JSON_REAL:
		real_text(json_real_value(v), num, sizeof(num));
		s = strdup(num);
		break;
	case JSON_TRUE:
		s = strdup("true");
		break;
	case JSON_FALSE:
		s = strdup("false");
		break;
	case JSON_NULL:
		return NULL;
	default:  /* arrays and empty objects */
		s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
		break;
	}
	if (!s)
		*err = -ENOMEM;
	return s;
}

/* Append key to path with '.' and '\' escaped. */
static int path_key(struct ndl__buf *path, const char *key)
{
	for (const char *k = key; *k; k++) {
		if ((*k == '.' || *k == '\\') && buf_add(path, "\\", 1) < 0)
			return -ENOMEM;
		if (buf_add(path, k, 1) < 0)
			return -ENOMEM;
	}
	return 0;
}

/*
 * Add the leaves of v under path (restored on return); need_sep: put a
 * '.' before the next key.
 */
static int flatten(const json_t *v, struct ndl__buf *path, int need_sep,
		   struct ndl__csv_fields *fl)
{
	char *name, *value;
	int err = 0;

	if (json_is_object(v) && json_object_size(v) > 0) {
		const char *key;
		json_t *child;

		json_object_foreach((json_t *)v, key, child) {
			size_t mark = path->len;

			if (need_sep && buf_add(path, ".", 1) < 0)
				return -ENOMEM;
			if (path_key(path, key) < 0)
				return -ENOMEM;
			err = flatten(child, path, 1, fl);
			path->len = mark;
			path->p[mark] = '\0';
			if (err < 0)
				return err;
		}
		return 0;
	}
	name = strdup(path->p);
	value = leaf_text(v, &err);
	if (!name || err < 0) {
		free(name);
		free(value);
		return -ENOMEM;
	}
	return fields_add(fl, name, value);
}

int ndl__csv_flatten(const json_t *dumpling, const char *chef, struct ndl__csv_fields *fl)
{
	struct ndl__buf path = { 0 };
	const char *key;
	json_t *v;
	int err = 0;

	ndl__csv_fields_clear(fl);
	if (!json_is_object(dumpling)) {  /* the SDK only hands over objects */
		err = buf_str(&path, "dumpling");
		if (err == 0)
			err = flatten(dumpling, &path, 1, fl);
		ndl__buf_free(&path);
		return err;
	}
	json_object_foreach((json_t *)dumpling, key, v) {
		path.len = 0;
		err = buf_add(&path, "", 0);  /* path.p is a string from here on */
		if (err < 0)
			break;
		if (strcmp(key, "payload") == 0) {
			/* "<chef>_" then the keys, the first without a '.' */
			err = buf_str(&path, chef);
			if (err == 0)
				err = buf_add(&path, "_", 1);
			if (err == 0)
				err = flatten(v, &path, 0, fl);
		} else {
			err = path_key(&path, key);
			if (err == 0)
				err = flatten(v, &path, 1, fl);
		}
		if (err < 0)
			break;
	}
	ndl__buf_free(&path);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Tables and rows                                                          */

int ndl__csv_table_init(struct ndl__csv_table *t, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->index = json_object();
	if (!t->index)
		return -ENOMEM;
	t->max = max;
	return 0;
}

void ndl__csv_table_free(struct ndl__csv_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->names[i]);
	free(t->names);
	json_decref(t->index);
	memset(t, 0, sizeof(*t));
}

int ndl__csv_table_learn(struct ndl__csv_table *t, const struct ndl__csv_fields *fl)
{
	int added = 0;

	for (size_t i = 0; i < fl->n && t->n < t->max; i++) {
		json_t *pos;

		if (json_object_get(t->index, fl->names[i]))
			continue;
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 32;
			char **names = realloc(t->names, cap * sizeof(*names));

			if (!names)
				return -ENOMEM;
			t->names = names;
			t->cap = cap;
		}
		t->names[t->n] = strdup(fl->names[i]);
		pos = json_integer((json_int_t)t->n);
		if (!t->names[t->n] || !pos ||
		    json_object_set_new(t->index, fl->names[i], pos) < 0) {
			free(t->names[t->n]);
			return -ENOMEM;
		}
		t->n++;
		added++;
	}
	return added;
}

/* One cell, quoted when RFC 4180 section 2 needs it. */
static int cell(struct ndl__buf *b, const char *s)
{
	if (!s)
		return 0;
	if (!strpbrk(s, ",\"\r\n"))
		return buf_str(b, s);
	if (buf_add(b, "\"", 1) < 0)
		return -ENOMEM;
	for (const char *q; (q = strchr(s, '"')); s = q + 1)
		if (buf_add(b, s, (size_t)(q - s) + 1) < 0 || buf_add(b, "\"", 1) < 0)
			return -ENOMEM;
	return buf_str(b, s) < 0 || buf_add(b, "\"", 1) < 0 ? -ENOMEM : 0;
}

int ndl__csv_header(const struct ndl__csv_table *t, struct ndl__buf *b)
{
	for (size_t i = 0; i < t->n; i++)
		if ((i && buf_add(b, ",", 1) < 0) || cell(b, t->names[i]) < 0)
			return -ENOMEM;
	return buf_add(b, "\r\n", 2);
}

int ndl__csv_row(const struct ndl__csv_table *t, const struct ndl__csv_fields *fl,
		 struct ndl__buf *b, uint64_t *not_written)
{
	const char **cells;
	unsigned char *set;
	int err = 0;

	cells = calloc(t->n ? t->n : 1, sizeof(*cells));
	set = calloc(t->n ? t->n : 1, 1);
	if (!cells || !set) {
		err = -ENOMEM;
		goto free_cells;
	}
	for (size_t i = 0; i < fl->n; i++) {
		json_t *pos = json_object_get(t->index, fl->names[i]);
		size_t at;

		if (!pos) {
			(*not_written)++;
			continue;
		}
		at = (size_t)json_integer_value(pos);
		if (set[at]) {
			(*not_written)++;
			continue;
		}
		set[at] = 1;
		cells[at] = fl->values[i];
	}
	for (size_t i = 0; i < t->n && err == 0; i++) {
		if (i)
			err = buf_add(b, ",", 1);
		if (err == 0)
			err = cell(b, cells[i]);
	}
	if (err == 0)
		err = buf_add(b, "\r\n", 2);
free_cells:
	free(set);
	free(cells);
	return err;
}
