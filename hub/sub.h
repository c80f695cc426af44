/* SPDX-License-Identifier: MIT */
/*
 * sub.h - an eater's server-side subscription (docs/protocol.md,
 * "Subscriptions (extension)"): which chefs, kitchens and drivers it wants.
 * Not installed.
 */
#ifndef NDL_HUB_SUB_H
#define NDL_HUB_SUB_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define NDL_HUB_SUB_MAX_NAMES 256    /* names in one list at most */
#define NDL_HUB_SUB_MAX_NAME 256     /* bytes in one name at most */

#define NDL_HUB_SUB_PACKET 1u        /* drivers bit: "packet" */
#define NDL_HUB_SUB_INTERVAL 2u      /* drivers bit: "interval" */

/*
 * A parsed subscription. An empty list means "all". names[] are sorted
 * (strcmp) and borrowed from json, which the subscription owns.
 */
struct ndl_hub_sub {
	json_t *json;                /* normalised {"chefs":[..],...}, owned */
	const char **chefs;          /* sorted, malloc'd */
	size_t nchefs;
	const char **kitchens;       /* sorted, malloc'd */
	size_t nkitchens;
	unsigned drivers;            /* NDL_HUB_SUB_* bits; 0 means all */
};

/*
 * Build *out from the JSON value v (the "subscribe" member). Returns 0, or
 * -EINVAL with a static reason in *why when v has a bad shape (not an
 * object, unknown key, a list that is not an array of strings, too many or
 * too long names, an unknown driver), or -ENOMEM. On failure *out is left
 * zeroed; on success release it with ndl__hub_sub_clear(). Loop thread.
 */
int ndl__hub_sub_parse(struct ndl_hub_sub *out, json_t *v, const char **why);

/* Release what *s holds and zero it (an all-matching subscription). */
void ndl__hub_sub_clear(struct ndl_hub_sub *s);

/* True when s has at least one non-empty list. */
bool ndl__hub_sub_active(const struct ndl_hub_sub *s);

/*
 * True when a dumpling with these envelope fields (kitchen and driver may
 * be NULL) is wanted by s. A NULL field matches only an empty list.
 */
bool ndl__hub_sub_match(const struct ndl_hub_sub *s, const char *chef, const char *kitchen,
			const char *driver);

#endif /* NDL_HUB_SUB_H */
