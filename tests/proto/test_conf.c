/* SPDX-License-Identifier: MIT */
/*
 * test_conf.c - configuration files (conf.h): the line syntax, quoting,
 * errors naming FILE:LINE, the limits, the check against an option table,
 * and the argv list getopt_long reads, file first, then the command line.
 */
#include <check.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

static const struct option longs[] = {
	{ "interface", required_argument, NULL, 'i' },
	{ "filter", required_argument, NULL, 'f' },
	{ "promisc", no_argument, NULL, 'P' },
	{ "kitchen-name", required_argument, NULL, 'n' },
	{ NULL, 0, NULL, 0 },
};

static struct ndl__conf *parse_ok(const char *text)
{
	struct ndl__conf *c = ndl__conf_new();
	char err[512] = "";
	int r;

	ck_assert_ptr_nonnull(c);
	r = ndl__conf_parse(c, "t.conf", text, strlen(text), err, sizeof(err));
	ck_assert_msg(r == 0, "parse failed: %d %s", r, err);
	return c;
}

/* Parse text that must fail; returns the message. */
static const char *parse_bad(const char *text, int want)
{
	static char err[512];
	struct ndl__conf *c = ndl__conf_new();
	int r;

	err[0] = '\0';
	r = ndl__conf_parse(c, "t.conf", text, strlen(text), err, sizeof(err));
	ck_assert_int_eq(r, want);
	ck_assert_uint_eq(ndl__conf_count(c), 0);
	ndl__conf_free(c);
	return err;
}

START_TEST(test_entries_comments_blanks)
{
	struct ndl__conf *c = parse_ok(
		"# a comment\n"
		"\n"
		"   \t\n"
		"interface = eth0\n"
		"  # indented comment\n"
		"interface=eth1\r\n"
		"promisc\n"
		"  kitchen-name   =   edge 1   \n"
		"filter = tcp # not a comment\n"
		"filter =\n");

	ck_assert_uint_eq(ndl__conf_count(c), 6);
	ck_assert_str_eq(ndl__conf_key(c, 0), "interface");
	ck_assert_str_eq(ndl__conf_value(c, 0), "eth0");
	ck_assert_str_eq(ndl__conf_entry_origin(c, 0), "t.conf:4");
	ck_assert_str_eq(ndl__conf_value(c, 1), "eth1");
	ck_assert_str_eq(ndl__conf_entry_origin(c, 1), "t.conf:6");
	ck_assert_str_eq(ndl__conf_key(c, 2), "promisc");
	ck_assert_ptr_null(ndl__conf_value(c, 2));
	ck_assert_str_eq(ndl__conf_value(c, 3), "edge 1");
	ck_assert_str_eq(ndl__conf_value(c, 4), "tcp # not a comment");
	ck_assert_str_eq(ndl__conf_value(c, 5), "");
	ck_assert_str_eq(ndl__conf_entry_origin(c, 5), "t.conf:10");
	ck_assert_ptr_null(ndl__conf_key(c, 6));
	ndl__conf_free(c);
}
END_TEST

START_TEST(test_quotes)
{
	struct ndl__conf *c = parse_ok(
		"filter = \"  tcp port 53  \"\n"
		"kitchen-name = \"say \\\"hi\\\" \\\\ there\"   \n"
		"filter = \"\"\n"
		"filter = \"# kept\"\n"
		"kitchen-name = a\"b\n");

	ck_assert_uint_eq(ndl__conf_count(c), 5);
	ck_assert_str_eq(ndl__conf_value(c, 0), "  tcp port 53  ");
	ck_assert_str_eq(ndl__conf_value(c, 1), "say \"hi\" \\ there");
	ck_assert_str_eq(ndl__conf_value(c, 2), "");
	ck_assert_str_eq(ndl__conf_value(c, 3), "# kept");
	ck_assert_str_eq(ndl__conf_value(c, 4), "a\"b");   /* quotes only at the start */
	ndl__conf_free(c);
}
END_TEST

START_TEST(test_last_line_without_newline)
{
	struct ndl__conf *c = parse_ok("promisc\ninterface = lo");

	ck_assert_uint_eq(ndl__conf_count(c), 2);
	ck_assert_str_eq(ndl__conf_value(c, 1), "lo");
	ck_assert_str_eq(ndl__conf_entry_origin(c, 1), "t.conf:2");
	ndl__conf_free(c);
}
END_TEST

START_TEST(test_syntax_errors)
{
	ck_assert_str_eq(parse_bad("promisc\n= x\n", -EINVAL),
			 "t.conf:2: a line must start with an option name, got \"=\"");
	ck_assert_str_eq(parse_bad("\n\n--filter = x\n", -EINVAL),
			 "t.conf:3: write option names without dashes: \"--filter\" is \"filter\"");
	ck_assert_str_eq(parse_bad("Filter = x\n", -EINVAL),
			 "t.conf:1: \"Filter\" is not an option name (lower-case letters, digits "
			 "and '-')");
	ck_assert_str_eq(parse_bad("filter x\n", -EINVAL),
			 "t.conf:1: expected \"=\" after \"filter\", got \"x\"");
	ck_assert_str_eq(parse_bad("filter = \"tcp\n", -EINVAL),
			 "t.conf:1: the value of \"filter\" has no closing quote");
	ck_assert_str_eq(parse_bad("filter = \"tcp\" x\n", -EINVAL),
			 "t.conf:1: unexpected \"x\" after the closing quote of \"filter\"");
	ck_assert_str_eq(parse_bad("filter = \"a\\nb\"\n", -EINVAL),
			 "t.conf:1: in the value of \"filter\", only \\\" and \\\\ may follow a "
			 "backslash");
}
END_TEST

START_TEST(test_nul_byte)
{
	struct ndl__conf *c = ndl__conf_new();
	char err[256];
	static const char text[] = "promisc\nfil\0ter = x\n";

	ck_assert_int_eq(ndl__conf_parse(c, "t.conf", text, sizeof(text) - 1, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "t.conf:2: a NUL byte: not a text file");
	ndl__conf_free(c);
}
END_TEST

START_TEST(test_limits)
{
	size_t n = NDL__CONF_LINE_MAX + 20;
	char *text = malloc(n + 2);
	char key[NDL__CONF_KEY_MAX + 2];
	char *many;
	size_t used = 0;

	/* a line of exactly the limit is fine; one byte more is not */
	memset(text, ' ', n);
	memcpy(text, "filter = ", 9);
	text[NDL__CONF_LINE_MAX - 1] = 'x';
	text[NDL__CONF_LINE_MAX] = '\n';
	text[NDL__CONF_LINE_MAX + 1] = '\0';
	ndl__conf_free(parse_ok(text));
	text[NDL__CONF_LINE_MAX] = 'y';
	text[NDL__CONF_LINE_MAX + 1] = '\n';
	text[NDL__CONF_LINE_MAX + 2] = '\0';
	ck_assert_str_eq(parse_bad(text, -E2BIG), "t.conf:1: line longer than 4096 bytes");
	free(text);

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	ck_assert_str_eq(parse_bad(key, -EINVAL), "t.conf:1: option name longer than 64 bytes");

	many = malloc((NDL__CONF_ENTRIES_MAX + 1) * 9 + 1);
	for (int i = 0; i <= NDL__CONF_ENTRIES_MAX; i++)
		used += (size_t)sprintf(many + used, "promisc\n");
	ck_assert_str_eq(parse_bad(many, -E2BIG), "t.conf:1025: more than 1024 settings");
	free(many);
}
END_TEST

START_TEST(test_failed_text_keeps_earlier_entries)
{
	struct ndl__conf *c = parse_ok("promisc\n");
	char err[256];

	ck_assert_int_eq(ndl__conf_parse(c, "u.conf", "filter = a\n\"\n", 13, err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "u.conf:2: \"\"\" is not an option name (lower-case letters, "
			 "digits and '-')");
	ck_assert_uint_eq(ndl__conf_count(c), 1);
	ck_assert_str_eq(ndl__conf_key(c, 0), "promisc");
	ndl__conf_free(c);
}
END_TEST

START_TEST(test_check_against_options)
{
	struct ndl__conf *c;
	char err[256];

	c = parse_ok("interface = lo\npromisc\nfilter = \n");
	ck_assert_int_eq(ndl__conf_check(c, longs, err, sizeof(err)), 0);
	ndl__conf_free(c);

	c = parse_ok("interface = lo\n\nbogus = 1\n");
	ck_assert_int_eq(ndl__conf_check(c, longs, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "t.conf:3: unknown option \"bogus\"");
	ndl__conf_free(c);

	/* getopt_long would take "inter" for "interface": a file may not */
	c = parse_ok("inter = lo\n");
	ck_assert_int_eq(ndl__conf_check(c, longs, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "t.conf:1: unknown option \"inter\"");
	ndl__conf_free(c);

	c = parse_ok("promisc = yes\n");
	ck_assert_int_eq(ndl__conf_check(c, longs, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "t.conf:1: \"promisc\" is a flag and takes no value (write the "
			 "bare name to set it)");
	ndl__conf_free(c);

	c = parse_ok("filter\n");
	ck_assert_int_eq(ndl__conf_check(c, longs, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "t.conf:1: \"filter\" needs a value (filter = VALUE)");
	ndl__conf_free(c);
}
END_TEST

START_TEST(test_argv_file_then_command_line)
{
	struct ndl__conf *c = parse_ok("interface = eth0\npromisc\nkitchen-name = from file\n"
				       "filter = a=b\n");
	char *cl[] = { "prog", "-n", "cli", "--interface=eth1", NULL };
	char **av;
	int ac, ch;
	const char *name = NULL, *filter = NULL, *ifaces[4];
	int n_ifaces = 0, promisc = 0;

	ck_assert_int_eq(ndl__conf_argv(c, 4, cl, &ac, &av), 0);
	ck_assert_int_eq(ac, 8);
	ck_assert_str_eq(av[0], "prog");
	ck_assert_str_eq(av[1], "--interface=eth0");
	ck_assert_str_eq(av[2], "--promisc");
	ck_assert_str_eq(av[3], "--kitchen-name=from file");
	ck_assert_str_eq(av[4], "--filter=a=b");
	ck_assert_ptr_eq(av[5], cl[1]);
	ck_assert_ptr_null(av[8]);
	ck_assert_str_eq(ndl__conf_origin(c, av[2]), "t.conf:2");
	ck_assert_ptr_null(ndl__conf_origin(c, av[6]));
	ck_assert_ptr_null(ndl__conf_origin(c, "--promisc"));   /* by pointer, not text */

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(ac, av, "n:", longs, NULL)) != -1) {
		switch (ch) {
		case 'n': name = optarg; break;
		case 'i': ifaces[n_ifaces++] = optarg; break;
		case 'f': filter = optarg; break;
		case 'P': promisc = 1; break;
		default: ck_abort_msg("unexpected option %d", ch);
		}
	}
	ck_assert_str_eq(name, "cli");               /* the command line wins */
	ck_assert_int_eq(n_ifaces, 2);                /* and adds to lists */
	ck_assert_str_eq(ifaces[0], "eth0");
	ck_assert_str_eq(ifaces[1], "eth1");
	ck_assert_str_eq(filter, "a=b");
	ck_assert_int_eq(promisc, 1);

	/* a second call replaces the list, reusing the elements */
	ck_assert_int_eq(ndl__conf_argv(c, 1, cl, &ac, &av), 0);
	ck_assert_int_eq(ac, 5);
	ck_assert_str_eq(ndl__conf_origin(c, av[4]), "t.conf:4");
	ndl__conf_free(c);
}
END_TEST

START_TEST(test_load_files)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : P_tmpdir;
	char dir[200];
	char path[256], err[512];
	struct ndl__conf *c = ndl__conf_new();
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/test-conf-XXXXXX", tmp);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.conf", dir);
	f = fopen(path, "w");
	fputs("# kitchen\ninterface = lo\n", f);
	fclose(f);
	ck_assert_int_eq(ndl__conf_load(c, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(ndl__conf_count(c), 1);
	{
		char want[300];
		snprintf(want, sizeof(want), "%s:2", path);
		ck_assert_str_eq(ndl__conf_entry_origin(c, 0), want);
	}

	/* a missing file, a folder, a file over the size limit */
	snprintf(path, sizeof(path), "%s/missing.conf", dir);
	ck_assert_int_eq(ndl__conf_load(c, path, err, sizeof(err)), -ENOENT);
	ck_assert(strstr(err, "cannot read the configuration file") != NULL);
	ck_assert(strstr(err, "missing.conf: No such file or directory") != NULL);
	ck_assert_int_eq(ndl__conf_load(c, dir, err, sizeof(err)), -EISDIR);

	snprintf(path, sizeof(path), "%s/big.conf", dir);
	f = fopen(path, "w");
	for (int i = 0; i <= NDL__CONF_FILE_MAX / 16; i++)
		fputs("# padding......\n", f);
	fclose(f);
	ck_assert_int_eq(ndl__conf_load(c, path, err, sizeof(err)), -E2BIG);
	ck_assert(strstr(err, "big.conf: larger than 1048576 bytes") != NULL);
	ck_assert_uint_eq(ndl__conf_count(c), 1);
	unlink(path);
	snprintf(path, sizeof(path), "%s/a.conf", dir);
	unlink(path);
	rmdir(dir);
	ndl__conf_free(c);
}
END_TEST

START_TEST(test_free_null)
{
	ndl__conf_free(NULL);
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");

	tcase_add_test(tc, test_entries_comments_blanks);
	tcase_add_test(tc, test_quotes);
	tcase_add_test(tc, test_last_line_without_newline);
	tcase_add_test(tc, test_syntax_errors);
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_failed_text_keeps_earlier_entries);
	tcase_add_test(tc, test_check_against_options);
	tcase_add_test(tc, test_argv_file_then_command_line);
	tcase_add_test(tc, test_load_files);
	tcase_add_test(tc, test_free_null);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
