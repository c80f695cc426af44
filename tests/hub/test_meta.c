/* SPDX-License-Identifier: MIT */
/*
 * test_meta.c - the hub's in-place reading of batch metadata against
 * jansson, which decides whenever the scan declines: the scan must accept
 * what kitchens write, decline what it cannot read, and never accept what
 * jansson refuses or read other strings than jansson does. Checked on
 * hand-picked objects and on a few hundred thousand mutations of them.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "logline.h"
#include "meta.h"

/* Whatever the scan says, it must agree with jansson. Returns the scan's answer. */
static int agree(const char *text, size_t len)
{
	struct ndl_hub_meta m;
	json_t *j, *chef;
	json_error_t err;
	const char *k, *d;
	int r;

	if (!ndl__utf8_valid((const unsigned char *)text, len))
		return 0;   /* the hub refuses the whole batch before any scan */
	r = ndl__hub_meta_scan(text, len, &m);
	if (!r)
		return 0;
	j = json_loadb(text, len, JSON_DISABLE_EOF_CHECK, &err);
	ck_assert_msg(j != NULL, "scan accepted what jansson refuses: %.*s (%s)", (int)len, text,
		      err.text);
	ck_assert(json_is_object(j));
	chef = json_object_get(j, "chef");
	ck_assert(json_is_string(chef));
	ck_assert_str_eq(m.chef_p, json_string_value(chef));
	k = json_string_value(json_object_get(j, "kitchen"));
	d = json_string_value(json_object_get(j, "driver"));
	if (k)
		ck_assert_str_eq(m.kitchen_p, k);
	else
		ck_assert_ptr_null(m.kitchen_p);
	if (d)
		ck_assert_str_eq(m.driver_p, d);
	else
		ck_assert_ptr_null(m.driver_p);
	/* jansson stopped where the object ended, as the scan did */
	ck_assert_uint_eq(m.end, (size_t)err.position);
	json_decref(j);
	return 1;
}

static int scan_str(const char *s)
{
	return agree(s, strlen(s));
}

static const char *const accepted[] = {
	"{\"chef\":\"DNSLookupChef\",\"kitchen\":\"k1\",\"creation_time\":1767225600.000021,"
	"\"driver\":\"packet\",\"seq\":42},\"payload\":{}}",
	"{\"chef\":\"X\"}",
	" { \"chef\" : \"X\" , \"kitchen\" : null , \"n\" : -0.5 , \"t\" : true , \"f\" : false } ",
	"{\"chef\":\"\",\"kitchen\":\"\"}",
	"{\"chef\":\"caf\xc3\xa9\",\"driver\":\"interval\"}",
	"{\"a\":1,\"a\":2,\"chef\":\"X\"}",
	"{\"chef\":\"X\",\"seq\":123456789012345678}",
	"{\"chef\":\"X\",\"x\":0}",
};

static const char *const declined[] = {
	"{\"kitchen\":\"k\"}",                              /* no chef */
	"{\"chef\":1}",                                     /* not a string */
	"{\"chef\":\"a\\\"b\"}",                            /* an escape */
	"{\"chef\":\"X\",\"chef\":\"Y\"}",                  /* twice */
	"{\"chef\":\"X\",\"p\":{\"a\":1}}",                 /* nested */
	"{\"chef\":\"X\",\"p\":[1]}",
	"{\"chef\":\"X\",\"kitchen\":7}",                   /* jansson: NULL; the scan declines */
	"{\"chef\":\"X\",\"n\":1e5}",                       /* an exponent */
	"{\"chef\":\"X\",\"n\":1234567890123456789}",        /* 19 digits */
	"{\"chef\":\"X\",\"n\":01}",
	"{\"chef\":\"X\",\"n\":1.}",
	"{\"chef\":\"X\",\"n\":-}",
	"{\"chef\":\"X\",}",
	"{\"chef\":\"X\"",
	"{\"chef\":\"X\" \"a\":1}",
	"{\"chef\":\"tab\there\"}",                          /* a control character */
	"[\"chef\"]",
	"",
	"{\"chef\":\"X\",\"t\":tru}",
	"{\"chef\":\"X\",\"t\":nul}",
};

START_TEST(test_accepted)
{
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
		ck_assert_msg(scan_str(accepted[i]) == 1, "declined: %s", accepted[i]);
}
END_TEST

START_TEST(test_declined)
{
	for (size_t i = 0; i < sizeof(declined) / sizeof(declined[0]); i++)
		ck_assert_msg(scan_str(declined[i]) == 0, "accepted: %s", declined[i]);
}
END_TEST

START_TEST(test_long_names_decline)
{
	char buf[400];

	snprintf(buf, sizeof(buf), "{\"chef\":\"%0200d\"}", 7);
	ck_assert_int_eq(scan_str(buf), 0);
	snprintf(buf, sizeof(buf), "{\"chef\":\"%0127d\"}", 7);   /* 127 bytes: fits */
	ck_assert_int_eq(scan_str(buf), 1);
}
END_TEST

/* Every one-byte change, cut and insertion of each object: agree() checks
 * the scan against jansson whenever the scan accepts. */
START_TEST(test_mutations)
{
	static const char alphabet[] = "{}[]\":,.-+0123456789eEtrufalsn \t\\\x01\xc3\xa9";
	size_t accepted_count = 0;

	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
		const char *src = accepted[i];
		size_t n = strlen(src);
		char *buf = malloc(n + 2);

		ck_assert_ptr_nonnull(buf);
		for (size_t at = 0; at <= n; at++) {
			accepted_count += (size_t)agree(src, at);            /* cut */
			for (size_t a = 0; a < sizeof(alphabet) - 1; a++) {
				memcpy(buf, src, n);
				if (at < n) {                                     /* change */
					buf[at] = alphabet[a];
					accepted_count += (size_t)agree(buf, n);
				}
				memcpy(buf, src, at);                             /* insert */
				buf[at] = alphabet[a];
				memcpy(buf + at + 1, src + at, n - at);
				accepted_count += (size_t)agree(buf, n + 1);
			}
		}
		free(buf);
	}
	ck_assert_uint_gt(accepted_count, 100);   /* the scan was exercised */
}
END_TEST

static Suite *meta_suite(void)
{
	Suite *s = suite_create("hub-meta");
	TCase *tc = tcase_create("meta");

	tcase_add_test(tc, test_accepted);
	tcase_add_test(tc, test_declined);
	tcase_add_test(tc, test_long_names_decline);
	tcase_add_test(tc, test_mutations);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(meta_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
