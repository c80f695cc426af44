/* SPDX-License-Identifier: MIT */
/*
 * envelope.c - the dumpling envelope (docs/protocol.md):
 *   {"metadata":{"chef":..,"kitchen":..,"creation_time":..,"driver":..},"payload":..}
 * written in the key order of netdumplings 0.5.1 and read with jansson.
 * JSON is RFC 8259.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ndl/wire.h>
#include "envelope.h"

int ndl_envelope_parse(struct ndl_envelope *env, const char *buf, size_t len)
{
	json_error_t jerr;
	json_t *root, *meta, *v;

	memset(env, 0, sizeof(*env));
	/* Duplicate keys are allowed (the last wins), as Python's json does. */
	root = json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!root && json_error_code(&jerr) == json_error_numeric_overflow) {
		/* valid JSON with an integer past int64 (e.g. a large uint64):
		 * read every integer as a real rather than refuse it */
		root = json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL |
				  JSON_DECODE_INT_AS_REAL, &jerr);
	}
	if (!root)
		return -EINVAL;
	meta = json_object_get(root, "metadata");
	v = json_object_get(meta, "chef");
	if (!json_is_object(root) || !json_is_object(meta) || !json_is_string(v)) {
		json_decref(root);
		return -EBADMSG;
	}
	env->root = root;
	env->chef = json_string_value(v);
	env->kitchen = json_string_value(json_object_get(meta, "kitchen"));
	env->driver = json_string_value(json_object_get(meta, "driver"));
	v = json_object_get(meta, "creation_time");
	env->creation_time = json_is_number(v) ? json_number_value(v) : 0.0;
	env->payload = json_object_get(root, "payload");
	return 0;
}

void ndl_envelope_clear(struct ndl_envelope *env)
{
	if (!env)
		return;
	json_decref(env->root);
	memset(env, 0, sizeof(*env));
}

/* Append a string literal verbatim. */
#define APPEND(w, lit) ndl_jwb_append((w), (lit), sizeof(lit) - 1)

void ndl_envelope_begin(struct ndl_jwb *w, const char *chef, const char *kitchen,
			ndl_time_ns creation_time, enum ndl_driver driver)
{
	ndl_envelope_begin_seq(w, chef, kitchen, creation_time, driver, 0);
}

/* Put the string literal lit just before p, moving p back to its start. */
#define PREPEND(p, lit) do { \
	(p) -= sizeof(lit) - 1; \
	memcpy((p), (lit), sizeof(lit) - 1); \
} while (0)

void ndl_envelope_head(struct ndl_jwb *w, const char *chef, const char *kitchen)
{
	ndl_jwb_reset(w);
	APPEND(w, "{\"metadata\":{\"chef\":");
	if (chef)
		ndl__jwb_put_string(w, chef, strlen(chef));
	else
		APPEND(w, "\"\"");
	APPEND(w, ",\"kitchen\":");
	if (kitchen)
		ndl__jwb_put_string(w, kitchen, strlen(kitchen));
	else
		APPEND(w, "null");
}

/* The rest of the envelope's metadata after its head, and "payload". */
static void put_tail(struct ndl_jwb *w, ndl_time_ns creation_time, enum ndl_driver driver,
		     uint64_t seq)
{
	/* Built back to front (the digit routines write backwards) and
	 * appended at once. */
	char tail[64 + 2 * NDL__JW_NUM_MAX];   /* the literals take 57 bytes at most */
	char *end = tail + sizeof(tail), *p = end;

	PREPEND(p, "},\"payload\":");
	if (seq > 0) {
		/* extension: the kitchen's sequence number (docs/protocol.md 4) */
		p = ndl__jw_u64_rev(p, seq);
		PREPEND(p, ",\"seq\":");
	}
	switch (driver) {
	case NDL_DRIVER_PACKET:
		PREPEND(p, ",\"driver\":\"" NDL_DRIVER_NAME_PACKET "\"");
		break;
	case NDL_DRIVER_INTERVAL:
		PREPEND(p, ",\"driver\":\"" NDL_DRIVER_NAME_INTERVAL "\"");
		break;
	default:
		PREPEND(p, ",\"driver\":null");
		break;
	}
	p = ndl__jw_time_rev(p, creation_time);
	PREPEND(p, ",\"creation_time\":");
	ndl_jwb_append(w, p, (size_t)(end - p));
	/* The fixed parts were appended whole; the writer now stands where it
	 * would after key("payload") inside one object. */
	ndl__jwb_member_value_due(w);
}

void ndl_envelope_begin_seq(struct ndl_jwb *w, const char *chef, const char *kitchen,
			    ndl_time_ns creation_time, enum ndl_driver driver,
			    uint64_t seq)
{
	ndl_envelope_head(w, chef, kitchen);
	put_tail(w, creation_time, driver, seq);
}

void ndl_envelope_begin_head(struct ndl_jwb *w, const char *head, size_t len,
			     ndl_time_ns creation_time, enum ndl_driver driver,
			     uint64_t seq)
{
	ndl_jwb_reset(w);
	ndl_jwb_append(w, head, len);
	put_tail(w, creation_time, driver, seq);
}

void ndl_envelope_end(struct ndl_jwb *w)
{
	ndl_jw_end_object(ndl_jwb_jw(w));
}

void ndl_json_write(struct ndl_jwb *w, const json_t *v)
{
	struct ndl_jw *jw = ndl_jwb_jw(w);

	if (ndl_jwb_error(w))
		return;
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *member;

		ndl_jw_begin_object(jw);
		/* jansson iterates in insertion order */
		json_object_foreach((json_t *)v, key, member) {
			ndl_jw_key(jw, key);
			ndl_json_write(w, member);
			if (ndl_jwb_error(w))
				return;
		}
		ndl_jw_end_object(jw);
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *item;

		ndl_jw_begin_array(jw);
		json_array_foreach(v, i, item) {
			ndl_json_write(w, item);
			if (ndl_jwb_error(w))
				return;
		}
		ndl_jw_end_array(jw);
		break;
	}
	case JSON_STRING:
		ndl_jw_string_n(jw, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		ndl_jw_int(jw, json_integer_value(v));
		break;
	case JSON_REAL:
		ndl_jw_real(jw, json_real_value(v));
		break;
	case JSON_TRUE:
		ndl_jw_bool(jw, true);
		break;
	case JSON_FALSE:
		ndl_jw_bool(jw, false);
		break;
	case JSON_NULL:
	default:
		ndl_jw_null(jw);
		break;
	}
}

char *ndl_json_compact(const json_t *v)
{
	struct ndl_jwb w;
	char *out;

	if (!v) {
		errno = EINVAL;
		return NULL;
	}
	ndl_jwb_init(&w, 0);
	ndl_json_write(&w, v);
	if (ndl_jwb_error(&w) || !ndl_jwb_complete(&w)) {
		/* deeper than the writer goes: jansson's own serialiser */
		ndl_jwb_free(&w);
		out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!out)
			errno = ENOMEM;
		return out;
	}
	out = w.buf;   /* handed to the caller */
	return out;
}
