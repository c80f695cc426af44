/* SPDX-License-Identifier: MIT */
/*
 * test_record_units.c - nd-record's writers alone: flattening and column
 * names, RFC 4180 quoting, growing tables and the column cap, file name
 * patterns, ".part" files that are named when complete and never
 * overwrite, and the rotation rule.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "record_csv.h"
#include "record_out.h"

/* Flatten text as a dumpling of chef; fl is filled. */
static void flatten_text(const char *text, const char *chef, struct ndl__csv_fields *fl)
{
	json_error_t err;
	json_t *v = json_loads(text, 0, &err);

	ck_assert_msg(v != NULL, "test JSON: %s", err.text);
	ck_assert_int_eq(ndl__csv_flatten(v, chef, fl), 0);
	json_decref(v);
}

/* The value flattened under name, or "(absent)"; NULL for an empty cell. */
static const char *field(const struct ndl__csv_fields *fl, const char *name)
{
	for (size_t i = 0; i < fl->n; i++)
		if (strcmp(fl->names[i], name) == 0)
			return fl->values[i];
	return "(absent)";
}

static void fields_free(struct ndl__csv_fields *fl)
{
	ndl__csv_fields_clear(fl);
	free(fl->names);
	free(fl->values);
}

START_TEST(flatten_names_and_values)
{
	struct ndl__csv_fields fl = { 0 };

	flatten_text("{\"metadata\":{\"chef\":\"C\",\"kitchen\":null,\"seq\":7,"
		     "\"creation_time\":1795325214.867520},"
		     "\"payload\":{\"a\":{\"b\":1,\"c.d\":true,\"e\\\\f\":false},"
		     "\"list\":[1,\"x\",{\"y\":2}],\"empty\":{},\"r\":0.1,\"w\":2.0,"
		     "\"s\":\"he said \\\"hi\\\", then\\nleft\"},\"extra\":{\"k\":\"v\"}}", "C", &fl);
	ck_assert_str_eq(field(&fl, "metadata.chef"), "C");
	ck_assert_ptr_null(field(&fl, "metadata.kitchen"));
	ck_assert_str_eq(field(&fl, "metadata.seq"), "7");
	ck_assert_str_eq(field(&fl, "metadata.creation_time"), "1795325214.86752");
	ck_assert_str_eq(field(&fl, "C_a.b"), "1");
	ck_assert_str_eq(field(&fl, "C_a.c\\.d"), "true");
	ck_assert_str_eq(field(&fl, "C_a.e\\\\f"), "false");
	ck_assert_str_eq(field(&fl, "C_list"), "[1,\"x\",{\"y\":2}]");
	ck_assert_str_eq(field(&fl, "C_empty"), "{}");
	ck_assert_str_eq(field(&fl, "C_r"), "0.1");
	ck_assert_str_eq(field(&fl, "C_w"), "2.0");
	ck_assert_str_eq(field(&fl, "C_s"), "he said \"hi\", then\nleft");
	ck_assert_str_eq(field(&fl, "extra.k"), "v");
	ck_assert_uint_eq(fl.n, 13);
	ck_assert_str_eq(fl.names[0], "metadata.chef");  /* the dumpling's order */

	flatten_text("{\"metadata\":{\"chef\":\"S\"},\"payload\":[1,2]}", "S", &fl);
	ck_assert_uint_eq(fl.n, 2);
	ck_assert_str_eq(field(&fl, "S_"), "[1,2]");
	flatten_text("{\"metadata\":{\"chef\":\"S\"},\"payload\":{}}", "S", &fl);
	ck_assert_str_eq(field(&fl, "S_"), "{}");
	flatten_text("{\"metadata\":{\"chef\":\"S\"},\"payload\":1e300}", "S", &fl);
	ck_assert_str_eq(field(&fl, "S_"), "1e+300");
	fields_free(&fl);
}
END_TEST

START_TEST(rows_are_rfc4180)
{
	struct ndl__csv_fields fl = { 0 };
	struct ndl__csv_table t;
	struct ndl__buf b = { 0 };
	uint64_t missed = 0;

	ck_assert_int_eq(ndl__csv_table_init(&t, 100), 0);
	flatten_text("{\"metadata\":{\"chef\":\"C\"},\"payload\":{\"a,b\":\"x\\\"y\","
		     "\"n\":null,\"crlf\":\"1\\r\\n2\",\"plain\":\"p\"}}", "C", &fl);
	ck_assert_int_eq(ndl__csv_table_learn(&t, &fl), 5);
	ck_assert_int_eq(ndl__csv_header(&t, &b), 0);
	ck_assert_str_eq(b.p, "metadata.chef,\"C_a,b\",C_n,C_crlf,C_plain\r\n");
	b.len = 0;
	ck_assert_int_eq(ndl__csv_row(&t, &fl, &b, &missed), 0);
	ck_assert_str_eq(b.p, "C,\"x\"\"y\",,\"1\r\n2\",p\r\n");
	ck_assert_uint_eq(missed, 0);

	/* a later dumpling with fewer fields and one new: learnt at the end */
	flatten_text("{\"metadata\":{\"chef\":\"C\"},\"payload\":{\"plain\":\"q\",\"new\":3}}",
		     "C", &fl);
	ck_assert_int_eq(ndl__csv_table_learn(&t, &fl), 1);
	ck_assert_int_eq(ndl__csv_table_learn(&t, &fl), 0);
	b.len = 0;
	ck_assert_int_eq(ndl__csv_row(&t, &fl, &b, &missed), 0);
	ck_assert_str_eq(b.p, "C,,,,q,3\r\n");
	ndl__csv_table_free(&t);
	ndl__buf_free(&b);
	fields_free(&fl);
}
END_TEST

START_TEST(column_cap_is_counted)
{
	struct ndl__csv_fields fl = { 0 };
	struct ndl__csv_table t;
	struct ndl__buf b = { 0 };
	uint64_t missed = 0;

	ck_assert_int_eq(ndl__csv_table_init(&t, 3), 0);
	flatten_text("{\"metadata\":{\"chef\":\"C\"},\"payload\":{\"a\":1,\"b\":2,\"c\":3,"
		     "\"d\":4}}", "C", &fl);
	ck_assert_int_eq(ndl__csv_table_learn(&t, &fl), 3);
	ck_assert_int_eq(ndl__csv_row(&t, &fl, &b, &missed), 0);
	ck_assert_str_eq(b.p, "C,1,2\r\n");
	ck_assert_uint_eq(missed, 2);  /* c and d */

	/* two fields with one name (a top-level key that looks like a payload column) */
	ndl__csv_table_free(&t);
	ck_assert_int_eq(ndl__csv_table_init(&t, 10), 0);
	flatten_text("{\"metadata\":{\"chef\":\"C\"},\"payload\":{\"x\":1},\"C_x\":2}", "C", &fl);
	ck_assert_int_eq(ndl__csv_table_learn(&t, &fl), 2);
	missed = 0;
	b.len = 0;
	ck_assert_int_eq(ndl__csv_row(&t, &fl, &b, &missed), 0);
	ck_assert_str_eq(b.p, "C,1\r\n");
	ck_assert_uint_eq(missed, 1);
	ndl__csv_table_free(&t);
	ndl__buf_free(&b);
	fields_free(&fl);
}
END_TEST

START_TEST(pattern_expansion)
{
	time_t t = 1795325214;  /* 2026-11-22 05:26:54 UTC */
	char *s;

	setenv("TZ", "UTC", 1);
	tzset();
	s = ndl__rec_expand("d/rec-%Y%m%d-%H%M%S-{chef}-{n}.csv", "DNS/Lookup Chef", 7, t);
	ck_assert_str_eq(s, "d/rec-20261122-052654-DNS_Lookup_Chef-000007.csv");
	free(s);
	s = ndl__rec_expand("{chef}{chef}", NULL, 1, t);
	ck_assert_str_eq(s, "allall");
	free(s);
	s = ndl__rec_expand("{chef}", "..", 1, t);
	ck_assert_str_eq(s, "_.");
	free(s);
	s = ndl__rec_expand("100%%-{n}", "c", 123456789, t);
	ck_assert_str_eq(s, "100%-123456789");
	free(s);
}
END_TEST

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

START_TEST(part_files_named_when_complete)
{
	char dir[] = "nd-record-unit-XXXXXX", pattern[128], path[160];
	struct ndl__rec_out out = { .prog = "test", .next_n = 1 };
	struct ndl__rec_file rf;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(pattern, sizeof(pattern), "%s/x.jsonl", dir);
	out.pattern = pattern;
	ck_assert_int_eq(ndl__rec_out_check(&out, "c"), 0);

	/* a file that is there already is kept */
	snprintf(path, sizeof(path), "%s/x.jsonl", dir);
	f = fopen(path, "w");
	fputs("old\n", f);
	fclose(f);

	ck_assert_int_eq(ndl__rec_file_open(&out, &rf, NULL, 0), 0);
	snprintf(path, sizeof(path), "%s/x-1.jsonl.part", dir);
	ck_assert_str_eq(rf.part, path);
	ck_assert(exists(path));
	ck_assert_int_eq(ndl__rec_file_write(&rf, "{}\n", 3), 0);
	rf.lines++;
	ck_assert_int_eq(ndl__rec_file_close(&out, &rf), 0);
	ck_assert(!exists(path));
	snprintf(path, sizeof(path), "%s/x-1.jsonl", dir);
	ck_assert_str_eq(slurp(path), "{}\n");
	snprintf(path, sizeof(path), "%s/x.jsonl", dir);
	ck_assert_str_eq(slurp(path), "old\n");
	ck_assert_uint_eq(out.files_done, 1);
	ck_assert_uint_eq(out.next_n, 2);
	ck_assert_ptr_null(rf.f);
	ck_assert_int_eq(ndl__rec_file_close(&out, &rf), 0);  /* closed: no-op */

	/* a name taken while the file was written: the next suffix */
	ck_assert_int_eq(ndl__rec_file_open(&out, &rf, NULL, 0), 0);
	snprintf(path, sizeof(path), "%s/x-2.jsonl", dir);
	ck_assert_str_eq(rf.name, path);
	f = fopen(path, "w");
	fclose(f);
	ck_assert_int_eq(ndl__rec_file_write(&rf, "a\n", 2), 0);
	ck_assert_int_eq(ndl__rec_file_close(&out, &rf), 0);
	snprintf(path, sizeof(path), "%s/x-3.jsonl", dir);
	ck_assert_str_eq(slurp(path), "a\n");

	/* a directory that is not there: the error, before any file */
	snprintf(pattern, sizeof(pattern), "%s/none/x.jsonl", dir);
	ck_assert_int_eq(ndl__rec_out_check(&out, "c"), -ENOENT);
	ck_assert_int_eq(ndl__rec_file_open(&out, &rf, NULL, 0), -ENOENT);
	ck_assert_ptr_null(rf.f);

	for (const char *n = "x.jsonl"; n; n = strcmp(n, "x.jsonl") == 0 ? "x-1.jsonl" :
	     strcmp(n, "x-1.jsonl") == 0 ? "x-2.jsonl" : strcmp(n, "x-2.jsonl") == 0 ?
	     "x-3.jsonl" : NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, n);
		unlink(path);
	}
	ck_assert_int_eq(rmdir(dir), 0);  /* nothing else was left behind */
}
END_TEST

START_TEST(rotation_rule)
{
	struct ndl__rec_out out = { .rotate_size = 100, .rotate_ms = 1000 };
	struct ndl__rec_file rf = { .f = stdin, .opened_ms = 5000 };

	ck_assert(!ndl__rec_file_due(&out, &rf, 500, 5000));  /* empty: the record goes in */
	rf.lines = 1;
	rf.bytes = 60;
	ck_assert(!ndl__rec_file_due(&out, &rf, 40, 5000));   /* exactly 100 */
	ck_assert(ndl__rec_file_due(&out, &rf, 41, 5000));
	ck_assert(!ndl__rec_file_due(&out, &rf, 0, 5999));
	ck_assert(ndl__rec_file_due(&out, &rf, 0, 6000));     /* a second old */
	rf.is_stdout = 1;
	ck_assert(!ndl__rec_file_due(&out, &rf, 1000, 9000)); /* stdout never */
}
END_TEST

static Suite *record_suite(void)
{
	Suite *s = suite_create("nd-record");
	TCase *tc = tcase_create("writers");

	tcase_add_test(tc, flatten_names_and_values);
	tcase_add_test(tc, rows_are_rfc4180);
	tcase_add_test(tc, column_cap_is_counted);
	tcase_add_test(tc, pattern_expansion);
	tcase_add_test(tc, part_files_named_when_complete);
	tcase_add_test(tc, rotation_rule);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(record_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
