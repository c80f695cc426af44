/* SPDX-License-Identifier: MIT */
/*
 * options.h - parsing and validating chef option values against a chef's
 * options table (struct ndl_chef_option). Shared by the loader, which
 * checks the defaults, and the kitchen, which checks what -o gives.
 */
#ifndef NDL_KITCHEN_OPTIONS_H
#define NDL_KITCHEN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ndl/chef.h>

/* Most entries an options table may have (longer tables are refused). */
#define NDL__OPT_MAX 64
/* Longest option key. */
#define NDL__OPT_KEY_MAX 64

/* A parsed option value. */
struct ndl__opt_value {
	int64_t i;
	double d;
	bool b;
	const char *s;   /* borrowed: the text it was parsed from */
};

/*
 * Parse text as a value of option o (type, bounds). Returns 0 with *out
 * set, or -EINVAL with a one-line reason in err such as
 * "expects an integer, got \"x\"" (the caller prefixes the option name).
 * out->s borrows text.
 */
int ndl__opt_parse(const struct ndl_chef_option *o, const char *text,
		   struct ndl__opt_value *out, char *err, size_t errlen);

/* Name of an option type ("int", "double", "bool", "string", "unknown"). */
const char *ndl__opt_type_name(enum ndl_opt_type t);

/* True when s is a non-empty run of [A-Za-z0-9_] of at most max bytes. */
bool ndl__is_ident(const char *s, size_t max);

#endif /* NDL_KITCHEN_OPTIONS_H */
