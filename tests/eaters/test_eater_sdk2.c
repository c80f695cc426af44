/* SPDX-License-Identifier: MIT */
/*
 * test_eater_sdk2.c - the contracts of what ndl/eater.h 0.2 added: token,
 * CA file, batch, reconnect and event setters (argument and state errors),
 * token files, wss:// addresses, counters a 0.1 caller does not see, and
 * the reconnect loop: retries until closed, one close callback, a loop the
 * SDK leaves empty, and a close taken at whatever moment of an attempt it
 * comes.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ndl/eater.h>

static int closes, disconnects;
static struct ndl_eater_close_info last_close;
static char last_reason[256];
static int last_attempt;
static unsigned delays[16];

static void count_close(struct ndl_eater *e, const struct ndl_eater_close_info *info)
{
	(void)e;
	closes++;
	last_close = *info;
	snprintf(last_reason, sizeof(last_reason), "%s", info->reason);
	last_close.reason = last_reason;
}

/* A loopback port nothing listens on. */
static int dead_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static char *write_file(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/ndl-eater-tok-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

START_TEST(version_is_0_2)
{
	ck_assert_str_eq(ndl_eater_version(), "0.2.0");
	ck_assert_int_eq(NDL_EATER_VERSION_MINOR, 2);
}
END_TEST

START_TEST(wss_addresses)
{
	static const char *cases[][2] = {
		{ "wss://127.0.0.1:1234", "wss://127.0.0.1:1234" },
		{ "WSS://hub.example/path", "wss://hub.example:11348" },
		{ "wss://[::1]:9", "wss://[::1]:9" },
		{ "ws://localhost:5", "ws://localhost:5" },
	};
	static const char *bad[] = { "wss://", "wss://:1", "wsss://h:1", "https://h:1" };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ndl_eater *e = ndl_eater_new(NULL, "x", cases[i][0]);

		ck_assert_msg(e != NULL, "rejected '%s'", cases[i][0]);
		ck_assert_str_eq(ndl_eater_url(e), cases[i][1]);
		ndl_eater_free(e);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		ck_assert_msg(ndl_eater_new(NULL, "x", bad[i]) == NULL, "accepted '%s'", bad[i]);
		ck_assert_int_eq(errno, EINVAL);
	}
}
END_TEST

START_TEST(null_and_arguments)
{
	struct ndl_eater *e = ndl_eater_new(NULL, "x", "127.0.0.1:1");
	char big[NDL_EATER_MAX_TOKEN + 2];

	ck_assert_int_eq(ndl_eater_set_token(NULL, "t"), -EINVAL);
	ck_assert_int_eq(ndl_eater_set_token_file(NULL, "/dev/null"), -EINVAL);
	ck_assert_int_eq(ndl_eater_set_ca_file(NULL, "ca.pem"), -EINVAL);
	ck_assert_int_eq(ndl_eater_set_batch(NULL, 1), -EINVAL);
	ck_assert_int_eq(ndl_eater_set_reconnect(NULL, 1, 0, 0), -EINVAL);
	ck_assert_int_eq(ndl_eater_set_event_cb(NULL, NULL), -EINVAL);
	ck_assert_int_eq(ndl_eater_set_drop_notices(NULL, 0), -EINVAL);
	ck_assert_ptr_null(ndl_eater_protocol(NULL));

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(ndl_eater_set_token(e, ""), -EINVAL);
	ck_assert_int_eq(ndl_eater_set_token(e, "a\nb"), -EINVAL);
	ck_assert_int_eq(ndl_eater_set_token(e, "\xc3\x28"), -EINVAL);
	memset(big, 't', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(ndl_eater_set_token(e, big), -EINVAL);
	big[NDL_EATER_MAX_TOKEN] = '\0';
	ck_assert_int_eq(ndl_eater_set_token(e, big), 0);
	ck_assert_int_eq(ndl_eater_set_token(e, "caf\xc3\xa9 token"), 0);
	ck_assert_int_eq(ndl_eater_set_token(e, NULL), 0);
	ck_assert_int_eq(ndl_eater_set_token_file(e, NULL), -EINVAL);
	ck_assert_int_eq(ndl_eater_set_ca_file(e, ""), -EINVAL);
	ck_assert_int_eq(ndl_eater_set_ca_file(e, "ca.pem"), 0);
	ck_assert_int_eq(ndl_eater_set_ca_file(e, NULL), 0);
	ck_assert_int_eq(ndl_eater_set_batch(e, 0), 0);
	ck_assert_int_eq(ndl_eater_set_reconnect(e, 1, 5, 100), -EINVAL);
	ck_assert_int_eq(ndl_eater_set_reconnect(e, 1, 200, 100), -EINVAL);
	ck_assert_int_eq(ndl_eater_set_reconnect(e, 1, 100, NDL_EATER_RECONNECT_LIMIT_MS + 1), -EINVAL);
	ck_assert_int_eq(ndl_eater_set_reconnect(e, 1, 0, 0), 0);
	ck_assert_int_eq(ndl_eater_set_reconnect(e, 1, 60000, 0), 0);  /* max follows min */
	ck_assert_int_eq(ndl_eater_set_reconnect(e, 0, 0, 0), 0);
	ck_assert_int_eq(ndl_eater_set_drop_notices(e, 3), -EINVAL);
	ck_assert_int_eq(ndl_eater_set_drop_notices(e, NDL_EATER_DROPS_HIDE), 0);
	ck_assert_ptr_null(ndl_eater_protocol(e));
	ndl_eater_free(e);
}
END_TEST

START_TEST(token_files)
{
	struct ndl_eater *e = ndl_eater_new(NULL, "x", "127.0.0.1:1");
	char *p;

	ck_assert_ptr_nonnull(e);
	p = write_file("# comment\n\n  \t\n  tok-1 \r\nsecond\n");
	ck_assert_int_eq(ndl_eater_set_token_file(e, p), 0);
	unlink(p);
	p = write_file("last-line-without-newline");
	ck_assert_int_eq(ndl_eater_set_token_file(e, p), 0);
	unlink(p);
	p = write_file("# only comments\n\n#tok\n");
	ck_assert_int_eq(ndl_eater_set_token_file(e, p), -ENODATA);
	unlink(p);
	p = write_file("");
	ck_assert_int_eq(ndl_eater_set_token_file(e, p), -ENODATA);
	unlink(p);
	p = write_file("bad\x01token\n");
	ck_assert_int_eq(ndl_eater_set_token_file(e, p), -EINVAL);
	unlink(p);
	ck_assert_int_eq(ndl_eater_set_token_file(e, "/nonexistent/ndl/token"), -ENOENT);
	ndl_eater_free(e);
}
END_TEST

START_TEST(old_callers_get_old_stats)
{
	struct ndl_eater *e = ndl_eater_new(NULL, "x", "127.0.0.1:1");
	struct ndl_eater_stats st;

	ck_assert_ptr_nonnull(e);
	memset(&st, 0xff, sizeof(st));
	/* a 0.1 caller's struct ends before "dumplings" */
	ck_assert_int_eq(ndl_eater_get_stats(e, &st, offsetof(struct ndl_eater_stats, dumplings)), 0);
	ck_assert_uint_eq(st.delivered, 0);
	ck_assert_uint_eq(st.dumplings, UINT64_MAX);
	ck_assert_uint_eq(st.reconnects, UINT64_MAX);
	ck_assert_int_eq(ndl_eater_get_stats(e, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.reconnects, 0);
	ndl_eater_free(e);
}
END_TEST

static void close_on_third(struct ndl_eater *e, const struct ndl_eater_event *ev)
{
	ck_assert_int_eq(ev->type, NDL_EATER_EVENT_DISCONNECTED);
	ck_assert_ptr_nonnull(ev->close);
	ck_assert_int_eq(ev->close->status, -ECONNREFUSED);
	ck_assert_int_eq(ev->close->was_connected, 0);
	if (disconnects < 16)
		delays[disconnects] = ev->delay_ms;
	disconnects++;
	last_attempt = (int)ev->attempt;
	ck_assert_int_eq(last_attempt, disconnects);
	if (disconnects == 1) {
		const char *chefs[] = { "DNSLookupChef", NULL };

		/* between connections: the next hello carries it */
		ck_assert_int_eq(ndl_eater_subscribe(e, chefs, NULL, 0), 0);
	}
	if (disconnects == 3) {
		ck_assert_int_eq(ndl_eater_close(e, 4101, "enough"), 0);
		ck_assert_int_eq(ndl_eater_close(e, 4101, "enough"), -EALREADY);
	}
}

START_TEST(reconnect_until_closed)
{
	uv_loop_t loop;
	struct ndl_eater *e;
	struct ndl_eater_stats st;
	char hub[64];

	snprintf(hub, sizeof(hub), "127.0.0.1:%d", dead_port());
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	e = ndl_eater_new(&loop, "x", hub);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(ndl_eater_set_reconnect(e, 1, 20, 40), 0);
	ck_assert_int_eq(ndl_eater_set_event_cb(e, close_on_third), 0);
	closes = disconnects = 0;
	ck_assert_int_eq(ndl_eater_start(e, NULL, NULL, count_close), 0);
	ck_assert_int_eq(ndl_eater_set_reconnect(e, 1, 20, 40), -EBUSY);
	ck_assert_int_eq(ndl_eater_set_token(e, "t"), -EBUSY);
	ck_assert_int_eq(ndl_eater_set_batch(e, 1), -EBUSY);
	ck_assert_int_eq(ndl_eater_set_ca_file(e, "x"), -EBUSY);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(closes, 1);
	ck_assert_int_eq(disconnects, 3);
	ck_assert_int_eq(last_close.status, 0);
	ck_assert_int_eq(last_close.code, 4101);
	ck_assert_str_eq(last_close.reason, "enough");
	/* half to all of 20, 40, 40 ms */
	ck_assert_uint_ge(delays[0], 10);
	ck_assert_uint_le(delays[0], 20);
	ck_assert_uint_ge(delays[1], 20);
	ck_assert_uint_le(delays[1], 40);
	ck_assert_uint_ge(delays[2], 20);
	ck_assert_uint_le(delays[2], 40);
	ck_assert_int_eq(ndl_eater_get_stats(e, &st, sizeof(st)), 0);
	ck_assert_uint_eq(st.reconnects, 3);
	ck_assert_uint_eq(st.connects, 0);
	ndl_eater_free(e);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

static void free_later(uv_timer_t *t)
{
	struct ndl_eater *e = t->data;

	ndl_eater_free(e);  /* while waiting between attempts */
	uv_close((uv_handle_t *)t, NULL);
}

START_TEST(free_while_waiting)
{
	uv_loop_t loop;
	uv_timer_t t;
	struct ndl_eater *e;
	char hub[64];

	snprintf(hub, sizeof(hub), "127.0.0.1:%d", dead_port());
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	e = ndl_eater_new(&loop, "x", hub);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(ndl_eater_set_reconnect(e, 1, 1000, 1000), 0);
	closes = 0;
	ck_assert_int_eq(ndl_eater_start(e, NULL, NULL, count_close), 0);
	uv_timer_init(&loop, &t);
	t.data = e;
	uv_timer_start(&t, free_later, 200, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(closes, 0);  /* freed: no close callback */
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

/*
 * ndl_eater_close() at every turn of the loop in turn, while a reconnecting
 * eater's attempts are refused: connecting, just failed (the end recorded,
 * the retry not yet scheduled), waiting. Whenever it comes, the close is
 * taken and ends the eater, with the caller's code; none is lost to a
 * retry.
 */
struct close_at {
	struct ndl_eater *e;
	uv_check_t check;
	uv_timer_t guard;
	int turn, at, rc;
	int timed_out;
};

static void close_on_turn(uv_check_t *h)
{
	struct close_at *c = h->data;

	if (++c->turn < c->at)
		return;
	c->rc = ndl_eater_close(c->e, 4101, "now");
	ck_assert_int_eq(ndl_eater_close(c->e, 4101, "again"), -EALREADY);
	uv_check_stop(h);
}

static void close_at_closed(struct ndl_eater *e, const struct ndl_eater_close_info *info)
{
	struct close_at *c = ndl_eater_userdata(e);

	count_close(e, info);
	uv_timer_stop(&c->guard);
	uv_close((uv_handle_t *)&c->guard, NULL);
	uv_close((uv_handle_t *)&c->check, NULL);
}

static void give_up(uv_timer_t *t)
{
	struct close_at *c = t->data;

	c->timed_out = 1;
	ndl_eater_free(c->e);
	uv_close((uv_handle_t *)&c->guard, NULL);
	uv_close((uv_handle_t *)&c->check, NULL);
}

START_TEST(close_is_never_lost_while_retrying)
{
	char hub[64];

	snprintf(hub, sizeof(hub), "127.0.0.1:%d", dead_port());
	for (int at = 1; at <= 20; at++) {
		struct close_at c = { .at = at, .rc = 1 };
		uv_loop_t loop;

		ck_assert_int_eq(uv_loop_init(&loop), 0);
		c.e = ndl_eater_new(&loop, "x", hub);
		ck_assert_ptr_nonnull(c.e);
		ndl_eater_set_userdata(c.e, &c);
		ck_assert_int_eq(ndl_eater_set_reconnect(c.e, 1, 10, 10), 0);
		uv_check_init(&loop, &c.check);
		c.check.data = &c;
		uv_check_start(&c.check, close_on_turn);
		uv_timer_init(&loop, &c.guard);
		c.guard.data = &c;
		uv_timer_start(&c.guard, give_up, 3000, 0);
		closes = 0;
		ck_assert_int_eq(ndl_eater_start(c.e, NULL, NULL, close_at_closed), 0);
		uv_run(&loop, UV_RUN_DEFAULT);
		ck_assert_msg(c.rc == 0, "turn %d: ndl_eater_close returned %d", at, c.rc);
		ck_assert_msg(!c.timed_out, "turn %d: the eater went on retrying", at);
		ck_assert_int_eq(closes, 1);
		ck_assert_int_eq(last_close.status, 0);
		ck_assert_int_eq(last_close.code, 4101);
		ck_assert_str_eq(last_close.reason, "now");
		ndl_eater_free(c.e);
		ck_assert_int_eq(uv_loop_close(&loop), 0);
	}
}
END_TEST

START_TEST(no_reconnect_by_default)
{
	struct ndl_eater *e;
	char hub[64];

	snprintf(hub, sizeof(hub), "127.0.0.1:%d", dead_port());
	e = ndl_eater_new(NULL, "x", hub);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(ndl_eater_set_event_cb(e, close_on_third), 0);
	closes = disconnects = 0;
	ck_assert_int_eq(ndl_eater_start(e, NULL, NULL, count_close), 0);
	ck_assert_int_eq(ndl_eater_run(e), 0);
	ck_assert_int_eq(closes, 1);
	ck_assert_int_eq(disconnects, 0);
	ck_assert_int_eq(last_close.status, -ECONNREFUSED);
	ndl_eater_free(e);
}
END_TEST

static Suite *eater2_suite(void)
{
	Suite *s = suite_create("eater-sdk-0.2");
	TCase *tc = tcase_create("contracts");

	tcase_add_test(tc, version_is_0_2);
	tcase_add_test(tc, wss_addresses);
	tcase_add_test(tc, null_and_arguments);
	tcase_add_test(tc, token_files);
	tcase_add_test(tc, old_callers_get_old_stats);
	tcase_add_test(tc, reconnect_until_closed);
	tcase_add_test(tc, free_while_waiting);
	tcase_add_test(tc, no_reconnect_by_default);
	tcase_add_test(tc, close_is_never_lost_while_retrying);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(eater2_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
