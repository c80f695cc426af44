/* SPDX-License-Identifier: MIT */
/*
 * sub.c - parsing and matching eater subscriptions. Matching is a binary
 * search over each non-empty sorted name list and a bit test for the
 * driver; an eater without a subscription never gets here (hub.c checks
 * ndl__hub_sub_active first).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ndl/wire.h>
#include "sub.h"

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Check that v is an array of acceptable strings; copy it into *list sorted. */
static int name_list(json_t *v, const char ***list, size_t *n, const char **why)
{
	size_t i, len;
	json_t *s;

	if (!json_is_array(v)) {
		*why = "subscribe lists must be arrays of strings";
		return -EINVAL;
	}
	len = json_array_size(v);
	if (len > NDL_HUB_SUB_MAX_NAMES) {
		*why = "subscribe list has more than 256 names";
		return -EINVAL;
	}
	json_array_foreach(v, i, s) {
		if (!json_is_string(s)) {
			*why = "subscribe lists must be arrays of strings";
			return -EINVAL;
		}
		if (json_string_length(s) > NDL_HUB_SUB_MAX_NAME) {
			*why = "subscribe name longer than 256 bytes";
			return -EINVAL;
		}
	}
	*n = len;
	if (!len)
		return 0;
	*list = malloc(len * sizeof(**list));
	if (!*list)
		return -ENOMEM;
	json_array_foreach(v, i, s)
		(*list)[i] = json_string_value(s);
	qsort(*list, len, sizeof(**list), cmp_name);
	return 0;
}

static int driver_bits(json_t *v, unsigned *bits, const char **why)
{
	size_t i;
	json_t *s;

	if (!json_is_array(v)) {
		*why = "subscribe lists must be arrays of strings";
		return -EINVAL;
	}
	json_array_foreach(v, i, s) {
		const char *d = json_string_value(s);

		if (d && !strcmp(d, NDL_DRIVER_NAME_PACKET)) {
			*bits |= NDL_HUB_SUB_PACKET;
		} else if (d && !strcmp(d, NDL_DRIVER_NAME_INTERVAL)) {
			*bits |= NDL_HUB_SUB_INTERVAL;
		} else {
			*why = "subscribe drivers must be \"packet\" or \"interval\"";
			return -EINVAL;
		}
	}
	return 0;
}

int ndl__hub_sub_parse(struct ndl_hub_sub *out, json_t *v, const char **why)
{
	const char *key;
	json_t *val;
	int r;

	memset(out, 0, sizeof(*out));
	*why = "out of memory";
	if (!json_is_object(v)) {
		*why = "subscribe is not a JSON object";
		return -EINVAL;
	}
	json_object_foreach(v, key, val) {
		if (strcmp(key, "chefs") && strcmp(key, "kitchens") && strcmp(key, "drivers")) {
			*why = "subscribe has a key other than chefs, kitchens, drivers";
			return -EINVAL;
		}
	}
	/* Own a deep copy: the names must outlive the message they came in. */
	out->json = json_deep_copy(v);
	if (!out->json)
		return -ENOMEM;
	if ((val = json_object_get(out->json, "chefs")) &&
	    (r = name_list(val, &out->chefs, &out->nchefs, why)) < 0)
		goto clear;
	if ((val = json_object_get(out->json, "kitchens")) &&
	    (r = name_list(val, &out->kitchens, &out->nkitchens, why)) < 0)
		goto clear;
	if ((val = json_object_get(out->json, "drivers")) &&
	    (r = driver_bits(val, &out->drivers, why)) < 0)
		goto clear;
	/* Both drivers listed is the same as none. */
	if (out->drivers == (NDL_HUB_SUB_PACKET | NDL_HUB_SUB_INTERVAL))
		out->drivers = 0;
	return 0;
clear:
	ndl__hub_sub_clear(out);
	return r;
}

void ndl__hub_sub_clear(struct ndl_hub_sub *s)
{
	if (!s)
		return;
	free(s->chefs);
	free(s->kitchens);
	json_decref(s->json);
	memset(s, 0, sizeof(*s));
}

bool ndl__hub_sub_active(const struct ndl_hub_sub *s)
{
	return s->nchefs || s->nkitchens || s->drivers;
}

static bool in_list(const char *const *list, size_t n, const char *name)
{
	if (!n)
		return true;
	if (!name)
		return false;
	return bsearch(&name, list, n, sizeof(*list), cmp_name) != NULL;
}

bool ndl__hub_sub_match(const struct ndl_hub_sub *s, const char *chef, const char *kitchen,
			const char *driver)
{
	if (s->drivers) {
		unsigned bit = 0;

		if (driver && !strcmp(driver, NDL_DRIVER_NAME_PACKET))
			bit = NDL_HUB_SUB_PACKET;
		else if (driver && !strcmp(driver, NDL_DRIVER_NAME_INTERVAL))
			bit = NDL_HUB_SUB_INTERVAL;
		if (!(s->drivers & bit))
			return false;
	}
	return in_list(s->chefs, s->nchefs, chef) && in_list(s->kitchens, s->nkitchens, kitchen);
}
