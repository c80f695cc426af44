/* SPDX-License-Identifier: MIT */
/*
 * logline.c - UTF-8 helpers and JSON log lines for nd-hub and nd-sniff
 * (logline.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "logline.h"
#include "wordscan.h"

size_t ndl__utf8_cut(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n <= max)
		return n;
	n = max;
	/* Back off continuation bytes (10xxxxxx), then the lead byte they need. */
	while (n && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/*
 * The length of the valid UTF-8 sequence (RFC 3629 section 4: shortest
 * form, no surrogates, at most U+10FFFF) that starts at p, before end; 0
 * when there is none.
 */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned cp, min;
	size_t n;

	if (*p < 0x80)
		return 1;
	if ((*p & 0xE0) == 0xC0) {
		n = 1, cp = *p & 0x1Fu, min = 0x80;
	} else if ((*p & 0xF0) == 0xE0) {
		n = 2, cp = *p & 0x0Fu, min = 0x800;
	} else if ((*p & 0xF8) == 0xF0) {
		n = 3, cp = *p & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if ((size_t)(end - p) <= n)
		return 0;
	for (size_t i = 1; i <= n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3Fu);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n + 1;
}

/*
 * Dumplings are almost all ASCII, and the hub checks every byte a kitchen
 * sends: runs of ASCII are checked a word at a time (no byte with its top
 * bit set), then a byte at a time up to the next non-ASCII byte, and only
 * from there one UTF-8 sequence at a time.
 */
bool ndl__utf8_valid(const void *buf, size_t len)
{
	const unsigned char *p = buf, *end = p + len;

	for (;;) {
		size_t n;

		while (end - p >= 8) {
			uint64_t x;

			memcpy(&x, p, sizeof(x));
			if (ndl__has_high(x))
				break;
			p += 8;
		}
		while (p < end && *p < 0x80)
			p++;
		if (p == end)
			return true;
		n = utf8_seq(p, end);
		if (!n)
			return false;
		p += n;
	}
}

/*
 * Replace in place every byte of line that does not start a valid UTF-8
 * sequence with '?', so that a peer's bytes in a message cannot cost the
 * whole JSON log line.
 */
void ndl__utf8_scrub(char *line)
{
	unsigned char *p = (unsigned char *)line, *end = p + strlen(line);

	while (p < end) {
		size_t n = utf8_seq(p, end);

		if (!n)
			*p = '?';
		p += n ? n : 1;
	}
}

void ndl__log_json_line(FILE *f, const char *program, const char *level, char *msg)
{
	struct timespec ts;
	struct tm tm;
	char when[40];
	json_t *j;
	char *text;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03ldZ",
		 ts.tv_nsec / 1000000);
	/* jansson escapes what a peer put in a name, and refuses bad UTF-8. */
	ndl__utf8_scrub(msg);
	j = json_pack("{s:s, s:s, s:s, s:s}", "time", when, "level", level, "program", program,
		      "message", msg);
	text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (text)
		fprintf(f, "%s\n", text);
	free(text);
	json_decref(j);
}
