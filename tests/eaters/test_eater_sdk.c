/* SPDX-License-Identifier: MIT */
/*
 * test_eater_sdk.c - the contracts of ndl/eater.h: argument checks, state
 * errors, no callback after a failed call, exactly one close callback after
 * a successful start, and a loop the SDK leaves empty.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ndl/eater.h>

static int closes;
static struct ndl_eater_close_info last_close;
static char last_reason[256];

static void count_close(struct ndl_eater *e, const struct ndl_eater_close_info *info)
{
	closes++;
	last_close = *info;
	snprintf(last_reason, sizeof(last_reason), "%s", info->reason);
	last_close.reason = last_reason;
}

static void free_on_close(struct ndl_eater *e, const struct ndl_eater_close_info *info)
{
	count_close(e, info);
	ndl_eater_free(e);
}

/* A loopback TCP port nothing listens on, or a listening socket. */
static int loopback_socket(int *port, int do_listen)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	if (do_listen)
		ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

START_TEST(new_rejects_bad_arguments)
{
	static const char *bad_hubs[] = {
		"", "host:0", "host:65536", "host:abc", "host:", "wsx://host:1",
		"http://host:1", "[::1", "[::1]x", "[nothost]:1", "a b:1", ":5",
	};

	errno = 0;
	ck_assert_ptr_null(ndl_eater_new(NULL, NULL, "localhost:1"));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(ndl_eater_new(NULL, "", "localhost:1"));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(ndl_eater_new(NULL, "x", NULL));
	ck_assert_int_eq(errno, EINVAL);
	for (size_t i = 0; i < sizeof(bad_hubs) / sizeof(bad_hubs[0]); i++) {
		errno = 0;
		ck_assert_msg(ndl_eater_new(NULL, "x", bad_hubs[i]) == NULL,
			      "accepted '%s'", bad_hubs[i]);
		ck_assert_int_eq(errno, EINVAL);
	}
}
END_TEST

START_TEST(hub_addresses_normalise)
{
	static const char *cases[][2] = {
		{ "localhost", "ws://localhost:11348" },
		{ "127.0.0.1:1234", "ws://127.0.0.1:1234" },
		{ "ws://127.0.0.1:1234/any/path", "ws://127.0.0.1:1234" },
		{ "WS://hub.example:9", "ws://hub.example:9" },
		{ "[::1]:5", "ws://[::1]:5" },
		{ "[::1]", "ws://[::1]:11348" },
		{ "::1", "ws://[::1]:11348" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ndl_eater *e = ndl_eater_new(NULL, "x", cases[i][0]);

		ck_assert_msg(e != NULL, "rejected '%s'", cases[i][0]);
		ck_assert_str_eq(ndl_eater_url(e), cases[i][1]);
		ndl_eater_free(e);
	}
}
END_TEST

START_TEST(null_is_harmless)
{
	struct ndl_eater_stats st;

	ndl_eater_free(NULL);
	ck_assert_ptr_null(ndl_eater_url(NULL));
	ck_assert_ptr_null(ndl_eater_loop(NULL));
	ck_assert_ptr_null(ndl_eater_userdata(NULL));
	ndl_eater_set_userdata(NULL, &st);
	ck_assert_int_eq(ndl_eater_close(NULL, 1000, ""), -EINVAL);
	ck_assert_int_eq(ndl_eater_start(NULL, NULL, NULL, NULL), -EINVAL);
	ck_assert_int_eq(ndl_eater_run(NULL), -EINVAL);
	ck_assert_int_eq(ndl_eater_get_stats(NULL, &st, sizeof(st)), -EINVAL);
	ck_assert_int_eq(ndl_eater_filter_chef(NULL, "c"), -EINVAL);
	ck_assert_int_eq(ndl_eater_filter_kitchen(NULL, "k"), -EINVAL);
	ck_assert_int_eq(ndl_eater_filter_drivers(NULL, 0), -EINVAL);
	ck_assert_int_eq(ndl_eater_set_max_message(NULL, 4096), -EINVAL);
	ck_assert_int_eq(ndl_eater_hello_set(NULL, "k", json_true()), -EINVAL);
	ck_assert_str_eq(ndl_eater_version(), "0.2.0");
}
END_TEST

START_TEST(setters_check_arguments)
{
	struct ndl_eater *e = ndl_eater_new(NULL, "x", "127.0.0.1:1");
	struct ndl_eater_stats st;
	json_t *v = json_string("v");
	char name[32];
	int dummy;

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(ndl_eater_hello_set(e, "eater_name", v), -EINVAL);
	ck_assert_int_eq(ndl_eater_hello_set(e, NULL, v), -EINVAL);
	ck_assert_int_eq(ndl_eater_hello_set(e, "k", NULL), -EINVAL);
	ck_assert_int_eq(ndl_eater_hello_set(e, "k", v), 0);
	json_decref(v);  /* the eater holds its own reference */
	ck_assert_int_eq(ndl_eater_filter_chef(e, NULL), -EINVAL);
	ck_assert_int_eq(ndl_eater_filter_drivers(e, 0x8), -EINVAL);
	ck_assert_int_eq(ndl_eater_filter_drivers(e, NDL_EATER_DRIVER_PACKET), 0);
	for (int i = 0; i < NDL_EATER_MAX_FILTER_NAMES; i++) {
		snprintf(name, sizeof(name), "chef%d", i);
		ck_assert_int_eq(ndl_eater_filter_chef(e, name), 0);
	}
	ck_assert_int_eq(ndl_eater_filter_chef(e, "chef0"), 0);  /* already there */
	ck_assert_int_eq(ndl_eater_filter_chef(e, "one-too-many"), -ENOSPC);
	ck_assert_int_eq(ndl_eater_set_max_message(e, 10), -EINVAL);
	ck_assert_int_eq(ndl_eater_set_max_message(e, 4096), 0);
	ck_assert_int_eq(ndl_eater_close(e, 1000, ""), -ENOTCONN);
	ck_assert_int_eq(ndl_eater_close(e, 1006, ""), -EINVAL);
	ck_assert_int_eq(ndl_eater_close(e, 2999, ""), -EINVAL);
	{
		char longreason[200];

		memset(longreason, 'r', sizeof(longreason) - 1);
		longreason[sizeof(longreason) - 1] = '\0';
		ck_assert_int_eq(ndl_eater_close(e, 4101, longreason), -EINVAL);
	}
	ndl_eater_set_userdata(e, &dummy);
	ck_assert_ptr_eq(ndl_eater_userdata(e), &dummy);
	memset(&st, 0xff, sizeof(st));
	ck_assert_int_eq(ndl_eater_get_stats(e, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.messages, 0);
	ck_assert_uint_eq(st.delivered, 0);
	/* A caller built against a smaller struct only gets its part. */
	memset(&st, 0xff, sizeof(st));
	ck_assert_int_eq(ndl_eater_get_stats(e, &st, sizeof(uint64_t)), 0);
	ck_assert_uint_eq(st.messages, 0);
	ck_assert_uint_eq(st.bytes, UINT64_MAX);
	ndl_eater_free(e);
}
END_TEST

START_TEST(subscribe_checks_arguments)
{
	struct ndl_eater *e = ndl_eater_new(NULL, "x", "127.0.0.1:1");
	static char names[NDL_EATER_MAX_FILTER_NAMES + 1][16];
	const char *many[NDL_EATER_MAX_FILTER_NAMES + 2];
	char longname[NDL_EATER_MAX_SUBSCRIBE_NAME + 2];
	const char *one[2] = { NULL, NULL };
	const char *bad_utf8[] = { "\xc3\x28", NULL };

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(ndl_eater_subscribe(NULL, NULL, NULL, 0), -EINVAL);
	ck_assert_int_eq(ndl_eater_subscribe(e, NULL, NULL, NDL_EATER_DRIVER_OTHER), -EINVAL);
	for (int i = 0; i <= NDL_EATER_MAX_FILTER_NAMES; i++) {
		snprintf(names[i], sizeof(names[i]), "chef%d", i);
		many[i] = names[i];
	}
	many[NDL_EATER_MAX_FILTER_NAMES + 1] = NULL;
	ck_assert_int_eq(ndl_eater_subscribe(e, many, NULL, 0), -ENOSPC);
	many[NDL_EATER_MAX_FILTER_NAMES] = NULL;
	ck_assert_int_eq(ndl_eater_subscribe(e, many, NULL, 0), 0);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	one[0] = longname;
	ck_assert_int_eq(ndl_eater_subscribe(e, NULL, one, 0), -EINVAL);
	longname[NDL_EATER_MAX_SUBSCRIBE_NAME] = '\0';
	ck_assert_int_eq(ndl_eater_subscribe(e, NULL, one, NDL_EATER_DRIVER_PACKET), 0);
	ck_assert_int_eq(ndl_eater_subscribe(e, bad_utf8, NULL, 0), -EINVAL);
	ck_assert_int_eq(ndl_eater_subscribe(e, NULL, NULL, 0), 0);
	ndl_eater_free(e);
}
END_TEST

START_TEST(refused_reports_once_and_leaves_loop_empty)
{
	uv_loop_t loop;
	struct ndl_eater *e;
	int port, fd = loopback_socket(&port, 0);
	char hub[64];

	close(fd);  /* nothing listens there now */
	snprintf(hub, sizeof(hub), "127.0.0.1:%d", port);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	e = ndl_eater_new(&loop, "x", hub);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(ndl_eater_run(e), -EINVAL);  /* not its own loop */
	ck_assert_ptr_eq(ndl_eater_loop(e), &loop);
	closes = 0;
	ck_assert_int_eq(ndl_eater_start(e, NULL, NULL, count_close), 0);
	ck_assert_int_eq(ndl_eater_start(e, NULL, NULL, count_close), -EBUSY);
	ck_assert_int_eq(ndl_eater_hello_set(e, "k", json_true()), -EBUSY);
	ck_assert_int_eq(ndl_eater_set_max_message(e, 4096), -EBUSY);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(closes, 1);
	ck_assert_int_eq(last_close.status, -ECONNREFUSED);
	ck_assert_int_eq(last_close.was_connected, 0);
	ck_assert_int_eq(ndl_eater_close(e, 1000, ""), -EALREADY);
	ndl_eater_free(e);
	/* The SDK and lws released every handle: the loop closes. */
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

static void close_soon(uv_timer_t *t)
{
	struct ndl_eater *e = t->data;

	ck_assert_int_eq(ndl_eater_close(e, 4101, "cancelled"), 0);
	ck_assert_int_eq(ndl_eater_close(e, 4101, "cancelled"), -EALREADY);
	uv_close((uv_handle_t *)t, NULL);
}

START_TEST(close_while_connecting_on_private_loop)
{
	/* The kernel accepts the TCP connection; nobody answers the upgrade. */
	int port, fd = loopback_socket(&port, 1);
	struct ndl_eater *e;
	uv_timer_t t;
	char hub[64];

	snprintf(hub, sizeof(hub), "127.0.0.1:%d", port);
	e = ndl_eater_new(NULL, "x", hub);
	ck_assert_ptr_nonnull(e);
	uv_timer_init(ndl_eater_loop(e), &t);
	t.data = e;
	uv_timer_start(&t, close_soon, 100, 0);
	closes = 0;
	ck_assert_int_eq(ndl_eater_start(e, NULL, NULL, free_on_close), 0);
	ck_assert_int_eq(ndl_eater_run(e), 0);  /* frees e: free_on_close */
	ck_assert_int_eq(closes, 1);
	ck_assert_int_eq(last_close.status, 0);
	ck_assert_int_eq(last_close.code, 4101);
	ck_assert_str_eq(last_close.reason, "cancelled");
	ck_assert_int_eq(last_close.was_connected, 0);
	close(fd);
}
END_TEST

static Suite *eater_suite(void)
{
	Suite *s = suite_create("eater-sdk");
	TCase *tc = tcase_create("contracts");

	tcase_add_test(tc, new_rejects_bad_arguments);
	tcase_add_test(tc, hub_addresses_normalise);
	tcase_add_test(tc, null_is_harmless);
	tcase_add_test(tc, setters_check_arguments);
	tcase_add_test(tc, subscribe_checks_arguments);
	tcase_add_test(tc, refused_reports_once_and_leaves_loop_empty);
	tcase_add_test(tc, close_while_connecting_on_private_loop);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(eater_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
