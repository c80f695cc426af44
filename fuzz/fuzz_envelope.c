/* SPDX-License-Identifier: MIT */
/*
 * fuzz_envelope.c - ndl_envelope_parse on arbitrary bytes, as the hub and
 * the eaters read every dumpling off the wire; and, for each document it
 * accepts, the way back out: the whole document through ndl_json_write and
 * ndl_json_compact, and its metadata through ndl_envelope_begin, must read
 * back (RFC 8259) as what was parsed. And the hub's in-place reading of a
 * batch line's metadata (hub/meta.c) on the same bytes: whatever it
 * accepts, jansson accepts too, with the same routing strings.
 *
 * Input: the bytes of one WebSocket message.
 */
#include <errno.h>
#include <stdbool.h>
#include <jansson.h>
#include "envelope.h"
#include "fuzz.h"
#include "jsonw.h"
#include "logline.h"
#include "meta.h"

/* Read text as the envelope parser does; NULL when it is not JSON. */
static json_t *load(const char *text, size_t len)
{
	json_error_t err;
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);

	if (!v && json_error_code(&err) == json_error_numeric_overflow)
		v = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL |
			       JSON_DECODE_INT_AS_REAL, &err);
	if (!v)
		fprintf(stderr, "jansson: %s at %d: %.*s\n", err.text, err.position,
			len > 400 ? 400 : (int)len, text);
	return v;
}

/* What the writer made of v reads back equal to v. */
static void check_roundtrip(const json_t *v, const char *text, size_t len)
{
	json_t *back;

	FUZZ_CHECK(text != NULL && memchr(text, '\0', len) == NULL);
	back = load(text, len);
	FUZZ_CHECK(back != NULL);
	FUZZ_CHECK(json_equal(v, back));
	json_decref(back);
}

static void write_back(const struct ndl_envelope *env, struct ndl_jwb *w)
{
	char *compact;

	/* the whole document; deeper than the writer's limit is an error */
	ndl_jwb_reset(w);
	ndl_json_write(w, env->root);
	if (ndl_jwb_error(w))
		FUZZ_CHECK(ndl_jwb_error(w) == NDL_JWB_DEPTH);
	else
		check_roundtrip(env->root, w->buf, w->len);

	compact = ndl_json_compact(env->root);
	FUZZ_CHECK(compact != NULL);
	check_roundtrip(env->root, compact, strlen(compact));
	free(compact);

	/* a new dumpling from this one's metadata and payload */
	ndl_envelope_begin(w, env->chef, env->kitchen, 1795322030150690000,
			   env->driver && !strcmp(env->driver, "interval") ?
			   NDL_DRIVER_INTERVAL : NDL_DRIVER_PACKET);
	if (env->payload)
		ndl_json_write(w, env->payload);
	else
		ndl_jw_null(ndl_jwb_jw(w));
	ndl_envelope_end(w);
	if (!ndl_jwb_error(w)) {
		struct ndl_envelope again;

		FUZZ_CHECK(ndl_jwb_complete(w));
		FUZZ_CHECK(ndl_envelope_parse(&again, w->buf, w->len) == 0);
		/* strings are read up to a NUL, as the writer was given them */
		FUZZ_CHECK(strcmp(again.chef, env->chef) == 0);
		FUZZ_CHECK((again.kitchen == NULL) == (env->kitchen == NULL));
		FUZZ_CHECK(!env->kitchen || strcmp(again.kitchen, env->kitchen) == 0);
		FUZZ_CHECK(again.creation_time == 1795322030.15069);
		if (env->payload)
			FUZZ_CHECK(json_equal(again.payload, env->payload));
		ndl_envelope_clear(&again);
	} else {
		FUZZ_CHECK(ndl_jwb_error(w) == NDL_JWB_DEPTH);
	}
}

/* ndl__hub_meta_scan against jansson on a line's metadata object. */
static void check_meta(const char *text, size_t len)
{
	static const char prefix[] = "{\"metadata\":";
	const size_t plen = sizeof(prefix) - 1;
	struct ndl_hub_meta m;
	json_error_t err;
	json_t *j;
	const char *k, *d;

	if (len <= plen || memcmp(text, prefix, plen) != 0 || !ndl__utf8_valid(text, len))
		return;    /* the hub goes no further with such a line */
	text += plen;
	len -= plen;
	if (!ndl__hub_meta_scan(text, len, &m))
		return;
	j = json_loadb(text, len, JSON_DISABLE_EOF_CHECK, &err);
	FUZZ_CHECK(j != NULL && json_is_object(j));
	FUZZ_CHECK((size_t)err.position == m.end);
	FUZZ_CHECK(json_is_string(json_object_get(j, "chef")));
	FUZZ_CHECK(strcmp(m.chef_p, json_string_value(json_object_get(j, "chef"))) == 0);
	k = json_string_value(json_object_get(j, "kitchen"));
	d = json_string_value(json_object_get(j, "driver"));
	FUZZ_CHECK(k ? m.kitchen_p && strcmp(k, m.kitchen_p) == 0 : m.kitchen_p == NULL);
	FUZZ_CHECK(d ? m.driver_p && strcmp(d, m.driver_p) == 0 : m.driver_p == NULL);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ndl_jwb w;
	static bool ready;
	struct ndl_envelope env;
	char *text;
	int rc;

	if (!ready) {
		ndl_jwb_init(&w, 0);
		ready = true;
	}
	text = (char *)fuzz_dup(data, size);
	check_meta(text, size);
	rc = ndl_envelope_parse(&env, text, size);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -EBADMSG);
	if (rc == 0) {
		FUZZ_CHECK(env.root != NULL && env.chef != NULL);
		write_back(&env, &w);
		ndl_envelope_clear(&env);
		FUZZ_CHECK(env.root == NULL);
	} else {
		FUZZ_CHECK(env.root == NULL);
	}
	ndl_envelope_clear(NULL);
	free(text);
	return 0;
}
