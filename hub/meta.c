/* SPDX-License-Identifier: MIT */
/*
 * meta.c - the simple form of a metadata object, read without allocating.
 * Contract in meta.h. The grammar accepted is a subset of RFC 8259's:
 *
 *   object = ws "{" ws [ member *( ws "," ws member ) ] ws "}"
 *   member = string ws ":" ws value
 *   value  = string / number / "true" / "false" / "null"
 *   string = '"' *( any byte but '"', '\' and U+0000..U+001F ) '"'
 *   number = [ "-" ] ( "0" / digit1-9 *digit ) [ "." 1*digit ]
 *            (at most 18 integer digits, no exponent: see number())
 *   ws     = *( " " / "\t" / "\r" / "\n" )
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "meta.h"
#include "wordscan.h"

struct scan {
	const char *p, *end;
};

/*
 * The steps called for every member go inline into the scan, so that the
 * scan's position stays in a register: called, each step reloaded and
 * stored it through memory (the scan of a kitchen's metadata took 94 ns
 * instead of 67).
 */
#define SCAN_STEP static inline __attribute__((always_inline))

SCAN_STEP void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
		s->p++;
}

SCAN_STEP bool take(struct scan *s, char c)
{
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return true;
	}
	return false;
}

/*
 * A string without escapes: its bytes between the quotes. Read a word at a
 * time: the first byte marked in a word (the lowest addressed, on a little
 * endian host) is where the string ends, if it is the quote, or is refused.
 */
SCAN_STEP bool string(struct scan *s, const char **start, size_t *len)
{
	const char *p;

	if (!take(s, '"'))
		return false;
	for (p = s->p; s->end - p >= 8; p += 8) {
		uint64_t x, m;

		memcpy(&x, p, sizeof(x));
		m = ndl__string_stops(x);
		if (!m)
			continue;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		p += (unsigned int)__builtin_ctzll(m) / 8u;
#endif
		break;
	}
	for (; p < s->end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"') {
			*start = s->p;
			*len = (size_t)(p - s->p);
			s->p = p + 1;
			return true;
		}
		if (c == '\\' || c < 0x20)
			return false;
	}
	return false;
}

static bool digits(struct scan *s)
{
	const char *start = s->p;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > start;
}

/*
 * A number jansson reads without complaint: besides the grammar, at most
 * 18 integer digits (more can overflow its 64-bit integers, or a real) and
 * no exponent (which can overflow a double); other numbers go to jansson.
 */
static bool number(struct scan *s)
{
	const char *int_start;

	take(s, '-');
	int_start = s->p;
	if (take(s, '0')) {
		/* no more digits: a leading zero stands alone */
	} else if (s->p < s->end && *s->p >= '1' && *s->p <= '9') {
		digits(s);
	} else {
		return false;
	}
	if (s->p - int_start > 18)
		return false;
	if (take(s, '.') && !digits(s))
		return false;
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E'))
		return false;
	/* what follows must end the number, or jansson reads on ("1x") */
	return s->p < s->end && (*s->p == ',' || *s->p == '}' || *s->p == ' ' ||
				 *s->p == '\t' || *s->p == '\r' || *s->p == '\n');
}

static bool word(struct scan *s, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return false;
	s->p += n;
	return true;
}

enum kind { K_OTHER, K_STRING, K_NULL };

SCAN_STEP bool value(struct scan *s, enum kind *kind, const char **str, size_t *len)
{
	if (s->p >= s->end)
		return false;
	switch (*s->p) {
	case '"':
		*kind = K_STRING;
		return string(s, str, len);
	case 'n':
		*kind = K_NULL;
		return word(s, "null");
	case 't':
		*kind = K_OTHER;
		return word(s, "true");
	case 'f':
		*kind = K_OTHER;
		return word(s, "false");
	default:
		*kind = K_OTHER;
		return number(s);
	}
}

/* Copy a routing string; false when it is too long for the fast path. */
static bool keep(char *dst, const char *src, size_t len)
{
	if (len >= NDL_HUB_META_STR_MAX)    /* string() let no NUL through */
		return false;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return true;
}

int ndl__hub_meta_scan(const char *text, size_t len, struct ndl_hub_meta *out)
{
	struct scan s = { text, text + len };
	bool seen_chef = false, seen_kitchen = false, seen_driver = false;

	out->chef_p = out->kitchen_p = out->driver_p = NULL;
	skip_ws(&s);
	if (!take(&s, '{'))
		return 0;
	skip_ws(&s);
	if (!take(&s, '}')) {
		for (;;) {
			const char *key, *str = NULL;
			size_t klen, slen = 0;
			enum kind kind;

			if (!string(&s, &key, &klen))
				return 0;
			skip_ws(&s);
			if (!take(&s, ':'))
				return 0;
			skip_ws(&s);
			if (!value(&s, &kind, &str, &slen))
				return 0;
			if (klen == 4 && memcmp(key, "chef", 4) == 0) {
				if (seen_chef || kind != K_STRING || !keep(out->chef, str, slen))
					return 0;
				seen_chef = true;
				out->chef_p = out->chef;
			} else if (klen == 7 && memcmp(key, "kitchen", 7) == 0) {
				if (seen_kitchen || kind == K_OTHER ||
				    (kind == K_STRING && !keep(out->kitchen, str, slen)))
					return 0;
				seen_kitchen = true;
				out->kitchen_p = kind == K_STRING ? out->kitchen : NULL;
			} else if (klen == 6 && memcmp(key, "driver", 6) == 0) {
				if (seen_driver || kind != K_STRING || !keep(out->driver, str, slen))
					return 0;
				seen_driver = true;
				out->driver_p = out->driver;
			}
			skip_ws(&s);
			if (take(&s, '}'))
				break;
			if (!take(&s, ','))
				return 0;
			skip_ws(&s);
		}
	}
	if (!seen_chef)
		return 0;
	out->end = (size_t)(s.p - text);
	return 1;
}
