/* SPDX-License-Identifier: MIT */
/*
 * meta.h - reading a batch line's metadata object without building it.
 *
 * The hub routes a batch-mode dumpling on three strings of its metadata
 * object (chef, kitchen, driver; docs/protocol.md section 10). Building
 * that object with jansson (an allocation per member, strtod for the
 * time) was most of the hub's work per dumpling. Kitchens write simple
 * metadata: members whose values are strings without escapes, numbers,
 * true, false or null. ndl__hub_meta_scan reads exactly that form and
 * nothing else; for any other object (nested values, escapes, a routing
 * key twice or of another type, a long name) it says so, and the hub asks
 * jansson. What it accepts jansson accepts alike, with the same strings.
 */
#ifndef NDL_HUB_META_H
#define NDL_HUB_META_H

#include <stddef.h>

/* Longest routing string the scan copies (with its NUL). */
#define NDL_HUB_META_STR_MAX 128

struct ndl_hub_meta {
	char chef[NDL_HUB_META_STR_MAX];
	char kitchen[NDL_HUB_META_STR_MAX];
	char driver[NDL_HUB_META_STR_MAX];
	const char *chef_p;          /* chef, never NULL when the scan succeeded */
	const char *kitchen_p;       /* kitchen, or NULL (absent or null) */
	const char *driver_p;        /* driver, or NULL when absent */
	size_t end;                  /* bytes of the object, closing brace included */
};

/*
 * Read the JSON object at text[0..len) (what follows may be anything) when
 * it has the simple form above and a string chef. Returns 1 with *out
 * filled, or 0 when jansson must decide. text must be valid UTF-8 (the
 * hub checks each batch first). Pure; any thread.
 */
int ndl__hub_meta_scan(const char *text, size_t len, struct ndl_hub_meta *out);

#endif /* NDL_HUB_META_H */
