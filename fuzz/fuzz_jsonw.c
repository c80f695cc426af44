/* SPDX-License-Identifier: MIT */
/*
 * fuzz_jsonw.c - the streaming JSON writer (proto/jsonw.h) driven by
 * arbitrary sequences of operations, including calls in the wrong order,
 * size limits, resets, rewinds and dumpling envelopes.
 *
 * The property: whenever the writer holds a complete document and reports
 * no error, the document is JSON (RFC 8259) that jansson reads, and a
 * document begun with ndl_envelope_begin is a dumpling that
 * ndl_envelope_parse accepts with the metadata it was given. While there
 * is no error the buffer is NUL-terminated, holds no NUL, and stays within
 * the limit. The byte code is described in jsonw_ops.h.
 */
#include <stdbool.h>
#include <jansson.h>
#include "envelope.h"
#include "fuzz.h"
#include "jsonw.h"
#include "jsonw_ops.h"

#define N_MARKS 16

/* Valid JSON texts for FZ_RAW (the operation requires valid JSON). */
static const char *const raw_texts[] = {
	"0", "-1.5e3", "true", "null", "\"\"", "\"\\u00e9\\n\"", "[]", "{}",
	"[1,{\"a\":null}]", "{\"k\":[false,\"v\",{}]}", "1e308", "\"\xc3\xa9\"",
};
#define N_RAW (sizeof(raw_texts) / sizeof(raw_texts[0]))

struct input {
	const uint8_t *p, *end;
};

/* A point between two calls, for ndl_jwb_rewind. */
struct mark {
	size_t len;
	uint32_t depth;
	bool live;   /* the document still starts with what it had then, and
		      * every container open then is still open */
};

/* What the envelope was begun with, to compare with what is read back. */
struct envelope {
	bool active;
	char *chef;
	char *kitchen;   /* NULL for none */
	int driver;
};

static uint8_t next_byte(struct input *in)
{
	return in->p < in->end ? *in->p++ : 0;
}

static uint64_t next_u64(struct input *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v |= (uint64_t)next_byte(in) << (8 * i);
	return v;
}

/* n operand bytes in an exact-size heap block the caller frees. */
static uint8_t *next_bytes(struct input *in, size_t n, size_t *got)
{
	size_t have = (size_t)(in->end - in->p);
	uint8_t *b;

	if (n > have)
		n = have;
	b = fuzz_dup(in->p, n);
	in->p += n;
	*got = n;
	return b;
}

/* A length byte and that many bytes, as a NUL-terminated string. */
static char *next_cstring(struct input *in, uint8_t len)
{
	size_t got;
	uint8_t *b = next_bytes(in, len, &got);
	char *s = malloc(got + 1);

	FUZZ_CHECK(s != NULL);
	if (got)
		memcpy(s, b, got);
	s[got] = '\0';
	free(b);
	return s;
}

static void envelope_clear(struct envelope *e)
{
	free(e->chef);
	free(e->kitchen);
	memset(e, 0, sizeof(*e));
}

/* True when jansson takes s as a string: valid UTF-8. */
static bool is_utf8(const char *s)
{
	json_t *v = json_string(s);

	json_decref(v);
	return v != NULL;
}

static void check_envelope(const struct ndl_jwb *w, const struct envelope *e)
{
	struct ndl_envelope env;
	static const char *const drivers[] = { "packet", "interval" };

	FUZZ_CHECK(ndl_envelope_parse(&env, w->buf, w->len) == 0);
	if (is_utf8(e->chef))
		FUZZ_CHECK(strcmp(env.chef, e->chef) == 0);
	if (e->kitchen && is_utf8(e->kitchen))
		FUZZ_CHECK(env.kitchen && strcmp(env.kitchen, e->kitchen) == 0);
	if (!e->kitchen)
		FUZZ_CHECK(env.kitchen == NULL);
	if (e->driver == 0 || e->driver == 1)
		FUZZ_CHECK(env.driver && strcmp(env.driver, drivers[e->driver]) == 0);
	else
		FUZZ_CHECK(env.driver == NULL);
	FUZZ_CHECK(json_object_get(env.root, "payload") != NULL);
	ndl_envelope_clear(&env);
}

static void check_document(const struct ndl_jwb *w, const struct envelope *e)
{
	json_error_t err;
	json_t *v;

	v = json_loadb(w->buf, w->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!v && json_error_code(&err) == json_error_numeric_overflow)
		v = json_loadb(w->buf, w->len, JSON_DECODE_ANY | JSON_ALLOW_NUL |
			       JSON_DECODE_INT_AS_REAL, &err);
	/* "\u0000" in a key is JSON, but jansson does not take it */
	if (!v && json_error_code(&err) == json_error_null_byte_in_key)
		return;
	if (!v) {
		fprintf(stderr, "not JSON (%s at %d): %.*s\n", err.text,
			err.position, w->len > 1000 ? 1000 : (int)w->len, w->buf);
		FUZZ_CHECK(v != NULL);
	}
	json_decref(v);
	if (e->active)
		check_envelope(w, e);
}

/* Run one operation; returns false for one that starts a new document. */
static bool run_op(struct ndl_jwb *w, struct input *in, struct mark *marks,
		   struct envelope *env)
{
	struct ndl_jw *jw = ndl_jwb_jw(w);
	uint8_t op = next_byte(in) % FZ_OP_COUNT, b[16];
	uint8_t *bytes;
	uint64_t u;
	double d;
	size_t n;

	switch ((enum fz_op)op) {
	case FZ_BEGIN_OBJECT:
		ndl_jw_begin_object(jw);
		break;
	case FZ_END_OBJECT:
		ndl_jw_end_object(jw);
		break;
	case FZ_BEGIN_ARRAY:
		ndl_jw_begin_array(jw);
		break;
	case FZ_END_ARRAY:
		ndl_jw_end_array(jw);
		break;
	case FZ_KEY:
	case FZ_STRING:
	case FZ_HEX:
		bytes = next_bytes(in, next_byte(in), &n);
		if (op == FZ_KEY)
			ndl_jw_key_n(jw, (const char *)bytes, n);
		else if (op == FZ_STRING)
			ndl_jw_string_n(jw, (const char *)bytes, n);
		else
			ndl_jw_hex(jw, bytes, n);
		free(bytes);
		break;
	case FZ_INT64:
		ndl_jw_int(jw, (int64_t)next_u64(in));
		break;
	case FZ_UINT64:
		ndl_jw_uint(jw, next_u64(in));
		break;
	case FZ_REAL:
		u = next_u64(in);
		memcpy(&d, &u, sizeof(d));
		ndl_jw_real(jw, d);
		break;
	case FZ_BOOL:
		ndl_jw_bool(jw, next_byte(in) & 1);
		break;
	case FZ_NULL:
		ndl_jw_null(jw);
		break;
	case FZ_TIME:
		ndl_jw_time(jw, (ndl_time_ns)next_u64(in));
		break;
	case FZ_MAC:
	case FZ_IP4:
	case FZ_IP6:
		n = op == FZ_MAC ? 6 : op == FZ_IP4 ? 4 : 16;
		for (size_t i = 0; i < n; i++)
			b[i] = next_byte(in);
		bytes = fuzz_dup(b, n);
		if (op == FZ_MAC)
			ndl_jw_mac(jw, bytes);
		else
			ndl_jw_ip(jw, op == FZ_IP4 ? 4 : 6, bytes);
		free(bytes);
		break;
	case FZ_RAW: {
		const char *t = raw_texts[next_byte(in) % N_RAW];

		bytes = fuzz_dup((const uint8_t *)t, strlen(t));
		ndl_jw_raw(jw, (const char *)bytes, strlen(t));
		free(bytes);
		break;
	}
	case FZ_RESET:
		ndl_jwb_reset(w);
		envelope_clear(env);
		return false;
	case FZ_REWIND: {
		struct mark m = marks[next_byte(in) % N_MARKS];

		if (!m.live)
			break;
		ndl_jwb_rewind(w, m.len, m.depth);
		/* what was written after the cut is gone, and its marks with it */
		for (unsigned int i = 0; i < N_MARKS; i++) {
			if (marks[i].len > m.len)
				marks[i].live = false;
		}
		break;
	}
	case FZ_ENVELOPE_BEGIN: {
		uint8_t kitchen_len;
		ndl_time_ns t;

		envelope_clear(env);
		env->active = true;
		env->chef = next_cstring(in, next_byte(in));
		kitchen_len = next_byte(in);
		if (kitchen_len != FZ_NO_KITCHEN)
			env->kitchen = next_cstring(in, kitchen_len);
		t = (ndl_time_ns)next_u64(in);
		env->driver = next_byte(in) % 4;
		ndl_envelope_begin(w, env->chef, env->kitchen, t,
				   (enum ndl_driver)env->driver);
		return false;
	}
	case FZ_ENVELOPE_END:
		ndl_envelope_end(w);
		break;
	case FZ_OP_COUNT:
		break;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, data + size };
	struct mark marks[N_MARKS];
	struct envelope env;
	struct ndl_jwb w;
	size_t limit;
	unsigned int next_mark = 0;

	memset(marks, 0, sizeof(marks));
	memset(&env, 0, sizeof(env));
	limit = (size_t)next_byte(&in) * 16;
	ndl_jwb_init(&w, limit);
	while (in.p < in.end) {
		bool same_document = run_op(&w, &in, marks, &env);

		for (unsigned int i = 0; i < N_MARKS; i++) {
			if (!same_document || w.depth < marks[i].depth)
				marks[i].live = false;
		}
		if (ndl_jwb_error(&w))
			continue;
		FUZZ_CHECK(w.buf[w.len] == '\0' && strlen(w.buf) == w.len);
		FUZZ_CHECK(limit == 0 || w.len <= limit);
		FUZZ_CHECK(w.depth <= NDL_JWB_MAX_DEPTH);
		marks[next_mark] = (struct mark){ w.len, w.depth, true };
		next_mark = (next_mark + 1) % N_MARKS;
		if (ndl_jwb_complete(&w) && w.len > 0)
			check_document(&w, &env);
	}
	envelope_clear(&env);
	ndl_jwb_free(&w);
	return 0;
}
