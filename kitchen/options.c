/* SPDX-License-Identifier: MIT */
/* options.c - chef option values: parse, type-check and bound-check. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "options.h"

const char *ndl__opt_type_name(enum ndl_opt_type t)
{
	switch (t) {
	case NDL_OPT_INT: return "int";
	case NDL_OPT_DOUBLE: return "double";
	case NDL_OPT_BOOL: return "bool";
	case NDL_OPT_STRING: return "string";
	}
	return "unknown";
}

bool ndl__is_ident(const char *s, size_t max)
{
	size_t n = 0;

	if (!s || !*s)
		return false;
	for (; s[n]; n++) {
		char c = s[n];
		if (n >= max)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

static bool has_bounds(const struct ndl_chef_option *o)
{
	return o->min <= o->max;
}

static int parse_bool(const char *t, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(t, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(t, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

int ndl__opt_parse(const struct ndl_chef_option *o, const char *text,
		   struct ndl__opt_value *out, char *err, size_t errlen)
{
	char *end;

	memset(out, 0, sizeof(*out));
	out->s = text;
	if (!text) {
		if (o->type == NDL_OPT_STRING)
			return 0;
		snprintf(err, errlen, "has no value");
		return -EINVAL;
	}
	switch (o->type) {
	case NDL_OPT_INT:
		errno = 0;
		out->i = strtoll(text, &end, 10);
		if (end == text || *end != '\0') {
			snprintf(err, errlen, "expects an integer, got \"%s\"", text);
			return -EINVAL;
		}
		if (errno == ERANGE) {
			snprintf(err, errlen, "integer \"%s\" is out of range", text);
			return -EINVAL;
		}
		if (has_bounds(o) && ((double)out->i < o->min || (double)out->i > o->max)) {
			snprintf(err, errlen, "value %lld is outside [%.17g, %.17g]",
				 (long long)out->i, o->min, o->max);
			return -EINVAL;
		}
		out->d = (double)out->i;
		return 0;
	case NDL_OPT_DOUBLE:
		errno = 0;
		out->d = strtod(text, &end);
		if (end == text || *end != '\0' || !isfinite(out->d)) {
			snprintf(err, errlen, "expects a finite number, got \"%s\"", text);
			return -EINVAL;
		}
		if (errno == ERANGE && fabs(out->d) > 1.0) {
			snprintf(err, errlen, "number \"%s\" is out of range", text);
			return -EINVAL;
		}
		if (has_bounds(o) && (out->d < o->min || out->d > o->max)) {
			snprintf(err, errlen, "value %.17g is outside [%.17g, %.17g]",
				 out->d, o->min, o->max);
			return -EINVAL;
		}
		out->i = (int64_t)out->d;
		return 0;
	case NDL_OPT_BOOL:
		if (parse_bool(text, &out->b) < 0) {
			snprintf(err, errlen,
				 "expects true/false, yes/no, on/off or 1/0, got \"%s\"", text);
			return -EINVAL;
		}
		out->i = out->b;
		out->d = out->b;
		return 0;
	case NDL_OPT_STRING:
		return 0;
	}
	snprintf(err, errlen, "has unknown type %d", (int)o->type);
	return -EINVAL;
}
