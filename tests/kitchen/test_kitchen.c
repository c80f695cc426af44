/* SPDX-License-Identifier: MIT */
/*
 * test_kitchen.c - the kitchen core against real chef modules: the loader's
 * refusals and their reasons, the catalog, option validation, and what the
 * host does with dumplings (envelopes, malformed payloads, a full sink).
 *
 * Arguments: the folder holding the fx_*.so fixtures, and a file named
 * like a module that is not an ELF object.
 */
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kitchen.h"

static const char *fixture_dir;
static const char *not_elf_path;

static char *fx(const char *name)
{
	static char paths[4][1024];
	static int next;
	char *p = paths[next++ % 4];

	snprintf(p, sizeof(paths[0]), "%s/fx_%s.so", fixture_dir, name);
	return p;
}

/* ------------------------------------------------------------------------ */
/* Loader                                                                    */
/* ------------------------------------------------------------------------ */

static int open_err(const char *path, char *err, size_t errlen)
{
	struct ndl_chef_module *m = (void *)1;
	int r = ndl__chef_module_open(path, &m, err, errlen);

	ck_assert_ptr_null(m);
	return r;
}

START_TEST(loader_good)
{
	struct ndl_chef_module *m = NULL;
	char err[512] = "";

	ck_assert_int_eq(ndl__chef_module_open(fx("good"), &m, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->desc->name, "GoodChef");
	ck_assert_str_eq(m->desc->version, "1.2.3");
	ck_assert_str_eq(m->module, "fx_good");
	ck_assert_str_eq(m->path, fx("good"));
	ndl__chef_module_close(m);
	ndl__chef_module_close(NULL);
}
END_TEST

/* A chef built for an older minor version is served. */
START_TEST(loader_old_minor)
{
	struct ndl_chef_module *m = NULL;
	char err[512] = "";

	ck_assert_int_eq(ndl__chef_module_open(fx("old_minor"), &m, err, sizeof(err)), 0);
	ck_assert_str_eq(m->desc->name, "OldChef");
	ck_assert_uint_eq(m->desc->abi_version, NDL_CHEF_ABI_MAKE(1, 0));
	ndl__chef_module_close(m);
}
END_TEST

struct refusal {
	const char *fixture;
	int err;
	const char *needle1;
	const char *needle2;
};

/* The version fixtures are one major, or one minor, past this header's. */
#define STR_(x) #x
#define STR(x) STR_(x)
#define ABI_TEXT STR(NDL_CHEF_ABI_MAJOR) "." STR(NDL_CHEF_ABI_MINOR)

static char next_major[64], next_minor[64];

static const struct refusal refusals[] = {
	{ "wrong_major", -EPROTO, next_major, "speaks " ABI_TEXT },
	{ "newer_minor", -EPROTO, next_minor, ABI_TEXT },
	{ "no_init", -EINVAL, "NoInitChef", "no init" },
	{ "no_fini", -EINVAL, "NoFiniChef", "no fini" },
	{ "no_handlers", -EINVAL, "IdleChef", "neither on_packet nor on_interval" },
	{ "bad_name", -EINVAL, "\"bad-name!\"", "[A-Za-z0-9_]+" },
	{ "null_version", -EINVAL, "NoVersionChef", "no version" },
	{ "null_description", -EINVAL, "NoDescChef", "no description" },
	{ "small_struct", -EINVAL, "struct_size 8", "smaller" },
	{ "no_entry", -ENOEXEC, "no symbol", NDL_CHEF_ENTRY_NAME },
	{ "bad_option_default", -EINVAL, "default of option \"limit\"", "\"ten\"" },
};

START_TEST(loader_refusals)
{
	const struct refusal *c = &refusals[_i];
	char err[512] = "";
	int r = open_err(fx(c->fixture), err, sizeof(err));

	snprintf(next_major, sizeof(next_major), "built for chef ABI %u.0", NDL_CHEF_ABI_MAJOR + 1);
	snprintf(next_minor, sizeof(next_minor), "built for chef ABI %u.%u", NDL_CHEF_ABI_MAJOR,
		 NDL_CHEF_ABI_MINOR + 1);
	ck_assert_msg(r == c->err, "%s: got %d (%s), want %d", c->fixture, r, err, c->err);
	ck_assert_msg(strstr(err, c->needle1), "%s: reason \"%s\" lacks \"%s\"", c->fixture, err,
		      c->needle1);
	ck_assert_msg(strstr(err, c->needle2), "%s: reason \"%s\" lacks \"%s\"", c->fixture, err,
		      c->needle2);
	ck_assert_msg(strstr(err, fx(c->fixture)), "reason \"%s\" does not name the file", err);
	ck_assert_msg(!strchr(err, '\n'), "reason is not one line: %s", err);
}
END_TEST

START_TEST(loader_not_elf)
{
	char err[512] = "";

	ck_assert_int_eq(open_err(not_elf_path, err, sizeof(err)), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "cannot load"));
	ck_assert_ptr_nonnull(strstr(err, not_elf_path));
}
END_TEST

START_TEST(loader_missing_file)
{
	char err[512] = "";
	char path[1100];

	snprintf(path, sizeof(path), "%s/no_such_chef.so", fixture_dir);
	ck_assert_int_eq(open_err(path, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "No such file"));
	ck_assert_int_eq(open_err(fixture_dir, err, sizeof(err)), -ENOEXEC);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
}
END_TEST

START_TEST(catalog_duplicate)
{
	struct ndl_chef_catalog cat = { 0 };
	char err[1024] = "";

	ck_assert_int_eq(ndl__chef_catalog_add(&cat, fx("good"), err, sizeof(err)), 0);
	ck_assert_int_eq(ndl__chef_catalog_add(&cat, fx("dup"), err, sizeof(err)), -EEXIST);
	ck_assert_msg(strstr(err, fx("good")) && strstr(err, fx("dup")) && strstr(err, "GoodChef"),
		      "duplicate reason must name the chef and both paths: %s", err);
	ck_assert_uint_eq(cat.n, 1);
	/* the very same file again: nothing added, nothing refused */
	err[0] = '\0';
	ck_assert_int_eq(ndl__chef_catalog_add(&cat, fx("good"), err, sizeof(err)), 1);
	ck_assert_str_eq(err, "");
	ck_assert_uint_eq(cat.n, 1);
	ck_assert_ptr_nonnull(ndl__chef_catalog_find(&cat, "GoodChef"));
	ck_assert_ptr_null(ndl__chef_catalog_find(&cat, "EmitChef"));
	ndl__chef_catalog_free(&cat);
	ck_assert_uint_eq(cat.n, 0);
	ndl__chef_catalog_free(NULL);
}
END_TEST

struct warnings {
	int n;
	bool dup_seen;
	bool major_seen;
};

static void count_warning(void *arg, const char *msg)
{
	struct warnings *w = arg;

	w->n++;
	if (strstr(msg, "duplicate"))
		w->dup_seen = true;
	if (strstr(msg, "ABI 2.0"))
		w->major_seen = true;
}

START_TEST(catalog_scan)
{
	struct ndl_chef_catalog cat = { 0 };
	struct warnings w = { 0 };
	int r = ndl__chef_catalog_scan(&cat, fixture_dir, count_warning, &w);

	/* fx_dup sorts before fx_good, so the dup module wins the name */
	ck_assert_int_eq(r, 5);
	ck_assert_uint_eq(cat.n, 5);
	ck_assert_str_eq(cat.modules[0]->module, "fx_dup");
	ck_assert_str_eq(cat.modules[1]->module, "fx_emit");
	ck_assert_str_eq(cat.modules[2]->module, "fx_emit2");
	ck_assert_str_eq(cat.modules[3]->module, "fx_emit_thread");
	ck_assert_str_eq(cat.modules[4]->module, "fx_old_minor");
	/* 11 broken fixtures + the second GoodChef */
	ck_assert_int_eq(w.n, 12);
	ck_assert(w.dup_seen);
	ck_assert(w.major_seen);
	ndl__chef_catalog_free(&cat);
	ck_assert_int_eq(ndl__chef_catalog_scan(&cat, "/nonexistent-chef-dir", NULL, NULL),
			 -ENOENT);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Kitchen core                                                              */
/* ------------------------------------------------------------------------ */

struct sink_log {
	int rc;                /* what write returns */
	int calls;
	char last[1024];
	enum ndl_driver last_driver;
};

static int sink_write(void *arg, const char *json, size_t len, enum ndl_driver driver)
{
	struct sink_log *s = arg;

	s->calls++;
	snprintf(s->last, sizeof(s->last), "%.*s", (int)len, json);
	s->last_driver = driver;
	return s->rc;
}

struct logs {
	int n;
	char last[1024];
};

static void log_capture(void *arg, enum ndl_log_level level, const char *line)
{
	struct logs *l = arg;

	(void)level;
	l->n++;
	snprintf(l->last, sizeof(l->last), "%s", line);
}

struct counters {
	const char *chef;
	const char *want;
	uint64_t value;
	bool found;
};

static void find_counter(void *arg, const char *chef, const char *counter, uint64_t value)
{
	struct counters *c = arg;

	if (strcmp(chef, c->chef) == 0 && strcmp(counter, c->want) == 0) {
		c->value = value;
		c->found = true;
	}
}

/* Chef chef's counter name, 0 when it never counted it. */
static uint64_t chef_counter(struct ndl_kitchen *k, const char *chef, const char *name)
{
	struct counters c = { chef, name, 0, false };

	ndl__kitchen_foreach_chef_counter(k, find_counter, &c);
	return c.value;
}

static uint64_t counter(struct ndl_kitchen *k, const char *name)
{
	return chef_counter(k, "EmitChef", name);
}

static struct ndl_chef_module *emit_module;
static struct sink_log sink;
static struct logs logs;

static void core_setup(void)
{
	char err[512];

	memset(&sink, 0, sizeof(sink));
	memset(&logs, 0, sizeof(logs));
	ck_assert_int_eq(ndl__chef_module_open(fx("emit"), &emit_module, err, sizeof(err)), 0);
}

static void core_teardown(void)
{
	ndl__chef_module_close(emit_module);
	emit_module = NULL;
}

static int *module_int(const char *sym)
{
	int *p = dlsym(emit_module->handle, sym);

	ck_assert_ptr_nonnull(p);
	return p;
}

static struct ndl_kitchen *kitchen_with(const char **opts, size_t n, int want_add)
{
	struct ndl_sink s = { sink_write, &sink };
	struct ndl_kitchen *k = ndl__kitchen_new("test_kitchen", s);
	char err[512] = "";

	ck_assert_ptr_nonnull(k);
	ndl__kitchen_set_log(k, log_capture, &logs);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(ndl__kitchen_set_option(k, opts[i], err, sizeof(err)) == 0,
			      "%s: %s", opts[i], err);
	ck_assert_int_eq(ndl__kitchen_add_chef(k, emit_module, err, sizeof(err)), want_add);
	if (want_add == 0)
		ck_assert_int_eq(ndl__kitchen_start(k, err, sizeof(err)), 0);
	return k;
}

/* Ethernet + IPv4 + UDP 1024 -> 53, a DNS query for example.com A. */
static const uint8_t dns_frame[] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00,
	0x45, 0x00, 0x00, 0x39, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00,
	0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
	0x04, 0x00, 0x00, 0x35, 0x00, 0x25, 0x00, 0x00,
	0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x07, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x03, 'c', 'o', 'm', 0x00, 0x00, 0x01, 0x00, 0x01,
};

#define TS0 1700000000123456000LL

START_TEST(core_exact_envelope)
{
	struct ndl_kitchen *k = kitchen_with(NULL, 0, 0);
	const struct ndl_kitchen_stats *st;

	ck_assert_uint_eq(ndl__kitchen_chef_count(k), 1);
	ck_assert_str_eq(ndl__kitchen_chef(k, 0)->name, "EmitChef");
	ck_assert_str_eq(ndl__kitchen_chef_module(k, 0), "fx_emit");
	ndl__kitchen_packet(k, 1, dns_frame, sizeof(dns_frame), sizeof(dns_frame), TS0);
	ck_assert_int_eq(sink.calls, 1);
	ck_assert_int_eq(sink.last_driver, NDL_DRIVER_PACKET);
	ck_assert_str_eq(sink.last,
		"{\"metadata\":{\"chef\":\"EmitChef\",\"kitchen\":\"test_kitchen\","
		"\"creation_time\":1700000000.123456,\"driver\":\"packet\",\"seq\":1},"
		"\"payload\":{\"len\":71}}");
	/* replay clock: the newest packet; intervals are stamped with it */
	ndl__kitchen_packet(k, 1, dns_frame, 20, sizeof(dns_frame), TS0 + 2000000000LL);
	ndl__kitchen_packet(k, 1, dns_frame, 20, sizeof(dns_frame), TS0 + 1000000000LL);
	ck_assert_int_eq(ndl__kitchen_now(k), TS0 + 2000000000LL);
	ndl__kitchen_interval(k);
	ck_assert_int_eq(sink.last_driver, NDL_DRIVER_INTERVAL);
	ck_assert_str_eq(sink.last,
		"{\"metadata\":{\"chef\":\"EmitChef\",\"kitchen\":\"test_kitchen\","
		"\"creation_time\":1700000002.123456,\"driver\":\"interval\",\"seq\":4},"
		"\"payload\":{\"packets\":3}}");
	ndl__kitchen_set_clock(k, TS0 + 5000000000LL);
	ndl__kitchen_interval(k);
	ck_assert_ptr_nonnull(strstr(sink.last, "\"creation_time\":1700000005.123456"));
	ck_assert_ptr_nonnull(strstr(sink.last, "\"seq\":5}"));

	st = ndl__kitchen_stats(k);
	ck_assert_uint_eq(st->packets, 3);
	ck_assert_uint_eq(st->bytes, sizeof(dns_frame) + 40);
	ck_assert_uint_eq(st->dumplings, 5);
	ck_assert_uint_eq(st->dumplings_dropped, 0);
	ck_assert_uint_eq(counter(k, "emit_ok"), 5);
	ck_assert_uint_eq(counter(k, "packets"), 3);
	/* only the whole DNS frame holds a message; parsed once, same answer */
	ck_assert_uint_eq(counter(k, "dns"), 1);
	ck_assert_uint_eq(counter(k, "dns_same"), 1);
	ndl__kitchen_free(k);
}
END_TEST

START_TEST(core_live_clock)
{
	struct ndl_kitchen *k = kitchen_with(NULL, 0, 0);
	ndl_time_ns before = (ndl_time_ns)time(NULL) * 1000000000LL;

	ndl__kitchen_set_live_clock(k, true);
	ndl__kitchen_packet(k, 1, dns_frame, sizeof(dns_frame), sizeof(dns_frame), TS0);
	ck_assert_int_ge(ndl__kitchen_now(k), before);
	/* a packet dumpling still carries its capture time */
	ck_assert_ptr_nonnull(strstr(sink.last, "\"creation_time\":1700000000.123456"));
	ndl__kitchen_free(k);
}
END_TEST

START_TEST(core_malformed)
{
	static const char *opts[] = { "EmitChef.mode=malformed" };
	struct ndl_kitchen *k = kitchen_with(opts, 1, 0);
	const struct ndl_kitchen_stats *st = ndl__kitchen_stats(k);
	struct ndl_kitchen_chef_stats cs;

	ndl__kitchen_packet(k, 1, dns_frame, sizeof(dns_frame), sizeof(dns_frame), TS0);
	ck_assert_int_eq(sink.calls, 0);
	ck_assert_uint_eq(counter(k, "emit_einval"), 1);
	ck_assert_uint_eq(st->dumplings_dropped, 1);
	ck_assert_uint_eq(st->dumplings, 0);
	ck_assert_int_ge(logs.n, 1);
	ck_assert_msg(strstr(logs.last, "EmitChef") && strstr(logs.last, "malformed"),
		      "log names the chef and the problem: %s", logs.last);
	/* interval dumplings of the same chef are fine: not consecutive failures */
	ndl__kitchen_interval(k);
	ck_assert_int_eq(sink.calls, 1);
	/* a malformed dumpling takes no number: the eater sees no gap */
	ck_assert_ptr_nonnull(strstr(sink.last, "\"seq\":1}"));
	/* one hundred in a row disable the chef; the log is rate-limited */
	for (int i = 0; i < 120; i++)
		ndl__kitchen_packet(k, 1, dns_frame, sizeof(dns_frame), sizeof(dns_frame), TS0);
	ck_assert_int_eq(ndl__kitchen_chef_stats(k, 0, &cs), 0);
	ck_assert(cs.disabled);
	ck_assert_uint_eq(cs.malformed, 101);
	ck_assert_uint_eq(counter(k, "emit_einval"), 101);
	ck_assert_uint_eq(counter(k, "packets"), 101);   /* no packets once disabled */
	ck_assert_int_lt(logs.n, 40);
	ck_assert_ptr_nonnull(strstr(logs.last, "disabled"));
	ck_assert_int_eq(ndl__kitchen_chef_stats(k, 1, &cs), -ENOENT);
	ndl__kitchen_free(k);
}
END_TEST

START_TEST(core_left_open)
{
	static const char *opts[] = { "EmitChef.mode=open" };
	struct ndl_kitchen *k = kitchen_with(opts, 1, 0);
	struct ndl_kitchen_chef_stats cs;

	ndl__kitchen_packet(k, 1, dns_frame, sizeof(dns_frame), sizeof(dns_frame), TS0);
	ndl__kitchen_packet(k, 1, dns_frame, sizeof(dns_frame), sizeof(dns_frame), TS0);
	ck_assert_int_eq(sink.calls, 0);
	ck_assert_int_eq(ndl__kitchen_chef_stats(k, 0, &cs), 0);
	ck_assert_uint_eq(cs.malformed, 2);
	ck_assert_uint_eq(counter(k, "emit_null"), 0);   /* each packet starts afresh */
	ndl__kitchen_free(k);
}
END_TEST

START_TEST(core_sink_full)
{
	struct ndl_kitchen *k = kitchen_with(NULL, 0, 0);
	const struct ndl_kitchen_stats *st = ndl__kitchen_stats(k);
	struct ndl_kitchen_chef_stats cs;

	sink.rc = -ENOBUFS;
	for (int i = 0; i < 150; i++)
		ndl__kitchen_packet(k, 1, dns_frame, sizeof(dns_frame), sizeof(dns_frame), TS0);
	ck_assert_int_eq(sink.calls, 150);
	ck_assert_uint_eq(counter(k, "emit_enobufs"), 150);
	ck_assert_uint_eq(st->dumplings_dropped, 150);
	ck_assert_uint_eq(st->dumplings, 0);
	/* a full outbox is not the chef's fault */
	ck_assert_int_eq(ndl__kitchen_chef_stats(k, 0, &cs), 0);
	ck_assert(!cs.disabled);
	ck_assert_uint_eq(cs.malformed, 0);
	ck_assert_ptr_nonnull(strstr(sink.last, "\"seq\":150}"));
	sink.rc = 0;
	ndl__kitchen_packet(k, 1, dns_frame, sizeof(dns_frame), sizeof(dns_frame), TS0);
	ck_assert_uint_eq(st->dumplings, 1);
	/* the 150 refused by the sink leave a gap the eater can see */
	ck_assert_ptr_nonnull(strstr(sink.last, "\"seq\":151}"));
	ndl__kitchen_free(k);
}
END_TEST

START_TEST(core_decode_errors)
{
	struct ndl_kitchen *k = kitchen_with(NULL, 0, 0);
	const struct ndl_kitchen_stats *st = ndl__kitchen_stats(k);

	/* a link type no decoder knows is counted, not fatal */
	ndl__kitchen_packet(k, 147, dns_frame, sizeof(dns_frame), sizeof(dns_frame), TS0);
	ck_assert_uint_eq(st->decode_errors[NDL_DECODE_UNKNOWN_LINKTYPE], 1);
	ck_assert_int_eq(sink.calls, 1);
	ndl__kitchen_free(k);
}
END_TEST

START_TEST(core_fini)
{
	int *fini = module_int("fx_fini_calls");
	int *init = module_int("fx_init_calls");
	int f0 = *fini, i0 = *init;
	struct ndl_kitchen *k = kitchen_with(NULL, 0, 0);
	char err[256];

	ck_assert_int_eq(*init, i0 + 1);
	ck_assert_int_eq(ndl__kitchen_add_chef(k, emit_module, err, sizeof(err)), -EEXIST);
	ck_assert_int_eq(*init, i0 + 1);
	ndl__kitchen_free(k);
	ck_assert_int_eq(*fini, f0 + 1);
	ndl__kitchen_free(NULL);
}
END_TEST

START_TEST(core_init_fails)
{
	static const char *opts[] = { "EmitChef.fail_init=yes" };
	int *fini = module_int("fx_fini_calls");
	int f0 = *fini;
	struct ndl_kitchen *k = kitchen_with(opts, 1, -EIO);

	/* fini ran for the failed init, and not again at the end */
	ck_assert_int_eq(*fini, f0 + 1);
	ck_assert_uint_eq(ndl__kitchen_chef_count(k), 0);
	ndl__kitchen_free(k);
	ck_assert_int_eq(*fini, f0 + 1);
}
END_TEST


/* ------------------------------------------------------------------------ */
/* HTTP and TLS for several chefs                                            */
/* ------------------------------------------------------------------------ */

/* Ethernet + IPv4 + TCP 40000 -> 8080 carrying payload; returns the length. */
static size_t tcp_frame(uint8_t *out, size_t cap, const void *payload, size_t n)
{
	static const uint8_t head[] = {
		0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00,
		0x45, 0x00, 0x00, 0x00, 0x00, 0x01, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,
		0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02,
		0x9c, 0x40, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0x01, 0x00, 0, 0, 0, 0,
	};
	size_t ip_len = sizeof(head) - 14 + n;

	ck_assert_uint_le(sizeof(head) + n, cap);
	memcpy(out, head, sizeof(head));
	out[16] = (uint8_t)(ip_len >> 8);
	out[17] = (uint8_t)ip_len;
	memcpy(out + sizeof(head), payload, n);
	return sizeof(head) + n;
}

/* A ClientHello naming server "k.test", in one record. */
static size_t client_hello(uint8_t *out)
{
	static const uint8_t sni[] = { 0x00, 0x00, 0x00, 0x0b, 0x00, 0x09, 0x00, 0x00, 0x06,
				       'k', '.', 't', 'e', 's', 't' };
	size_t n = 0, hs;

	out[n++] = 22;
	out[n++] = 3;
	out[n++] = 1;
	n += 2;                         /* record length */
	out[n++] = 1;
	n += 3;                         /* handshake length */
	out[n++] = 3;
	out[n++] = 3;
	memset(out + n, 0x5a, 32);
	n += 32;
	out[n++] = 0;                   /* session id */
	out[n++] = 0;
	out[n++] = 2;
	out[n++] = 0x13;
	out[n++] = 0x01;
	out[n++] = 1;
	out[n++] = 0;                   /* compression */
	out[n++] = 0;
	out[n++] = sizeof(sni);
	memcpy(out + n, sni, sizeof(sni));
	n += sizeof(sni);
	out[3] = (uint8_t)((n - 5) >> 8);
	out[4] = (uint8_t)(n - 5);
	hs = n - 9;
	out[6] = 0;
	out[7] = (uint8_t)(hs >> 8);
	out[8] = (uint8_t)hs;
	return n;
}

static struct ndl_chef_module *emit2_module;

static const void *module_ptr(struct ndl_chef_module *m, const char *sym)
{
	const void **p = dlsym(m->handle, sym);

	ck_assert_ptr_nonnull(p);
	return *p;
}

/* A kitchen with EmitChef and EmitChef2, neither emitting. */
static struct ndl_kitchen *two_chefs(void)
{
	static const char *opts[] = { "EmitChef.mode=none", "EmitChef2.mode=none" };
	struct ndl_sink s = { sink_write, &sink };
	struct ndl_kitchen *k = ndl__kitchen_new("two", s);
	char err[512] = "";

	ck_assert_ptr_nonnull(k);
	ndl__kitchen_set_log(k, log_capture, &logs);
	ck_assert_int_eq(ndl__chef_module_open(fx("emit2"), &emit2_module, err, sizeof(err)), 0);
	for (size_t i = 0; i < 2; i++)
		ck_assert_int_eq(ndl__kitchen_set_option(k, opts[i], err, sizeof(err)), 0);
	ck_assert_int_eq(ndl__kitchen_add_chef(k, emit_module, err, sizeof(err)), 0);
	ck_assert_int_eq(ndl__kitchen_add_chef(k, emit2_module, err, sizeof(err)), 0);
	ck_assert_int_eq(ndl__kitchen_start(k, err, sizeof(err)), 0);
	return k;
}

static void two_chefs_free(struct ndl_kitchen *k)
{
	ndl__kitchen_free(k);
	ndl__chef_module_close(emit2_module);
	emit2_module = NULL;
}

/* Both chefs counted name n times. */
static void ck_both(struct ndl_kitchen *k, const char *name, uint64_t n)
{
	ck_assert_msg(chef_counter(k, "EmitChef", name) == n &&
		      chef_counter(k, "EmitChef2", name) == n,
		      "%s: %llu and %llu, want %llu", name,
		      (unsigned long long)chef_counter(k, "EmitChef", name),
		      (unsigned long long)chef_counter(k, "EmitChef2", name),
		      (unsigned long long)n);
}

START_TEST(core_http_shared)
{
	static const char req[] = "GET /menu HTTP/1.1\r\nHost: kitchen.test\r\n\r\n";
	static const char cut[] = "GET /menu HTTP/1.1\r\nHost: kitchen.test\r\n";
	struct ndl_kitchen *k = two_chefs();
	const struct ndl_kitchen_stats *st = ndl__kitchen_stats(k);
	uint8_t frame[512];
	size_t n = tcp_frame(frame, sizeof(frame), req, sizeof(req) - 1);
	const struct ndl_http *h1, *h2;

	ndl__kitchen_packet(k, 1, frame, (uint32_t)n, (uint32_t)n, TS0);
	ck_both(k, "host_1_1", 1);
	ck_both(k, "http", 1);
	ck_both(k, "http_same", 1);
	ck_both(k, "tls", 0);
	/* the same parse for both chefs */
	h1 = module_ptr(emit_module, "fx_last_http");
	h2 = module_ptr(emit2_module, "fx_last_http");
	ck_assert_ptr_nonnull(h1);
	ck_assert_ptr_eq(h1, h2);
	for (unsigned int e = 0; e < NDL_HTTP_ERROR_COUNT; e++)
		ck_assert_uint_eq(st->http_errors[e], 0);

	/* a request cut before its blank line: counted once, not once per ask */
	n = tcp_frame(frame, sizeof(frame), cut, sizeof(cut) - 1);
	ndl__kitchen_packet(k, 1, frame, (uint32_t)n, (uint32_t)n, TS0);
	ck_both(k, "http", 2);
	ck_both(k, "http_same", 2);
	ck_assert_uint_eq(st->http_errors[NDL_HTTP_TRUNCATED], 1);
	ndl__kitchen_packet(k, 1, frame, (uint32_t)n, (uint32_t)n, TS0);
	ck_assert_uint_eq(st->http_errors[NDL_HTTP_TRUNCATED], 2);

	/* not HTTP: both are told so */
	ndl__kitchen_packet(k, 1, dns_frame, sizeof(dns_frame), sizeof(dns_frame), TS0);
	ck_assert_ptr_null(module_ptr(emit_module, "fx_last_http"));
	ck_assert_ptr_null(module_ptr(emit2_module, "fx_last_http"));
	ck_both(k, "http", 3);
	ck_both(k, "host_1_1", 4);
	two_chefs_free(k);
}
END_TEST

START_TEST(core_tls_shared)
{
	struct ndl_kitchen *k = two_chefs();
	const struct ndl_kitchen_stats *st = ndl__kitchen_stats(k);
	uint8_t hello[128], frame[512];
	size_t hn = client_hello(hello);
	size_t n = tcp_frame(frame, sizeof(frame), hello, hn);
	const struct ndl_tls_hello *t1, *t2;

	ndl__kitchen_packet(k, 1, frame, (uint32_t)n, (uint32_t)n, TS0);
	ck_both(k, "tls", 1);
	ck_both(k, "tls_same", 1);
	ck_both(k, "http", 0);
	t1 = module_ptr(emit_module, "fx_last_tls");
	t2 = module_ptr(emit2_module, "fx_last_tls");
	ck_assert_ptr_nonnull(t1);
	ck_assert_ptr_eq(t1, t2);
	/* the kitchen keeps the parse until the packet is done; read it now */
	for (unsigned int e = 0; e < NDL_TLS_ERROR_COUNT; e++)
		ck_assert_uint_eq(st->tls_errors[e], 0);

	/* the hello cut short by its segment: one truncation */
	n = tcp_frame(frame, sizeof(frame), hello, hn - 4);
	ndl__kitchen_packet(k, 1, frame, (uint32_t)n, (uint32_t)n, TS0);
	ck_both(k, "tls", 2);
	ck_both(k, "tls_same", 2);
	ck_assert_uint_eq(st->tls_errors[NDL_TLS_TRUNCATED], 1);
	ck_assert_uint_eq(st->tls_errors[NDL_TLS_BAD_HELLO], 0);

	/* a broken record length */
	hello[3] = 0;
	hello[4] = 2;
	n = tcp_frame(frame, sizeof(frame), hello, hn);
	ndl__kitchen_packet(k, 1, frame, (uint32_t)n, (uint32_t)n, TS0);
	ck_assert_uint_eq(st->tls_errors[NDL_TLS_BAD_RECORD], 1);
	ck_both(k, "tls", 3);
	two_chefs_free(k);
}
END_TEST

/* The host the chefs see: a 1.1 table, and every service set. */
START_TEST(core_host_table)
{
	struct ndl_kitchen *k = kitchen_with(NULL, 0, 0);
	uint8_t hello[128], frame[512];
	size_t n = tcp_frame(frame, sizeof(frame), hello, client_hello(hello));

	ndl__kitchen_packet(k, 1, frame, (uint32_t)n, (uint32_t)n, TS0);
	ck_assert_uint_eq(counter(k, "host_1_1"), 1);
	ck_assert_uint_eq(counter(k, "tls"), 1);
	ndl__kitchen_free(k);
}
END_TEST

/* A chef built for ABI 1.0 runs beside 1.1 services it does not know. */
START_TEST(core_old_minor_chef)
{
	struct ndl_chef_module *m = NULL;
	struct ndl_sink s = { sink_write, &sink };
	struct ndl_kitchen *k = ndl__kitchen_new("old", s);
	char err[512] = "";

	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(ndl__chef_module_open(fx("old_minor"), &m, err, sizeof(err)), 0);
	ck_assert_int_eq(ndl__kitchen_add_chef(k, m, err, sizeof(err)), 0);
	ck_assert_int_eq(ndl__kitchen_start(k, err, sizeof(err)), 0);
	ndl__kitchen_packet(k, 1, dns_frame, sizeof(dns_frame), sizeof(dns_frame), TS0);
	ck_assert_int_eq(sink.calls, 1);
	ck_assert_str_eq(sink.last,
		"{\"metadata\":{\"chef\":\"OldChef\",\"kitchen\":\"old\","
		"\"creation_time\":1700000000.123456,\"driver\":\"packet\",\"seq\":1},"
		"\"payload\":{\"len\":71}}");
	ck_assert_uint_eq(chef_counter(k, "OldChef", "dns"), 1);
	ck_assert_uint_eq(chef_counter(k, "OldChef", "host_1_1"), 0);
	ndl__kitchen_free(k);
	ndl__chef_module_close(m);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Options                                                                   */
/* ------------------------------------------------------------------------ */

START_TEST(options_valid)
{
	static const char *opts[] = {
		"EmitChef.limit=42", "EmitChef.ratio=0.25", "EmitChef.flag=on",
		"EmitChef.limit=100",   /* the last one given wins */
	};
	struct ndl_kitchen *k = kitchen_with(opts, 4, 0);

	ck_assert_uint_eq(counter(k, "opt_limit"), 100);
	ck_assert_uint_eq(counter(k, "opt_ratio_x1000"), 250);
	ck_assert_uint_eq(counter(k, "opt_flag"), 1);
	ndl__kitchen_free(k);
}
END_TEST

START_TEST(options_defaults)
{
	struct ndl_kitchen *k = kitchen_with(NULL, 0, 0);

	ck_assert_uint_eq(counter(k, "opt_limit"), 10);
	ck_assert_uint_eq(counter(k, "opt_ratio_x1000"), 500);
	ck_assert_uint_eq(counter(k, "opt_flag"), 0);
	ndl__kitchen_free(k);
}
END_TEST

struct bad_option {
	const char *assignment;
	const char *needle;
};

static const struct bad_option bad_options[] = {
	{ "EmitChef.nokey=1", "has no option \"nokey\"" },
	{ "EmitChef.limit=abc", "expects an integer" },
	{ "EmitChef.limit=12x", "expects an integer" },
	{ "EmitChef.limit=101", "outside [0, 100]" },
	{ "EmitChef.limit=-1", "outside [0, 100]" },
	{ "EmitChef.limit=99999999999999999999", "out of range" },
	{ "EmitChef.ratio=half", "expects a finite number" },
	{ "EmitChef.ratio=1.5", "outside [0, 1]" },
	{ "EmitChef.ratio=nan", "expects a finite number" },
	{ "EmitChef.flag=maybe", "expects true/false" },
};

START_TEST(options_bad_value)
{
	const struct bad_option *b = &bad_options[_i];
	struct ndl_sink s = { sink_write, &sink };
	struct ndl_kitchen *k = ndl__kitchen_new("k", s);
	char err[512] = "";

	ck_assert_int_eq(ndl__kitchen_set_option(k, b->assignment, err, sizeof(err)), 0);
	ck_assert_int_eq(ndl__kitchen_add_chef(k, emit_module, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, b->needle), "%s: \"%s\" lacks \"%s\"", b->assignment, err,
		      b->needle);
	ck_assert_uint_eq(ndl__kitchen_chef_count(k), 0);
	ndl__kitchen_free(k);

	/* the same, given after the chef was added, is refused at once */
	k = ndl__kitchen_new("k", s);
	ck_assert_int_eq(ndl__kitchen_add_chef(k, emit_module, err, sizeof(err)), 0);
	ck_assert_int_eq(ndl__kitchen_set_option(k, b->assignment, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, b->needle), "%s: \"%s\" lacks \"%s\"", b->assignment, err,
		      b->needle);
	ndl__kitchen_free(k);
}
END_TEST

START_TEST(options_bad_syntax)
{
	static const char *bad[] = { "EmitChef", "EmitChef.limit", "limit=3", "Emit-Chef.limit=3",
				     ".limit=3", "EmitChef.=3" };
	struct ndl_sink s = { sink_write, &sink };
	struct ndl_kitchen *k = ndl__kitchen_new("k", s);
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(ndl__kitchen_set_option(k, bad[i], err, sizeof(err)) == -EINVAL,
			      "%s accepted", bad[i]);
		ck_assert_msg(err[0] != '\0', "%s: no reason", bad[i]);
	}
	ndl__kitchen_free(k);
}
END_TEST

START_TEST(options_for_absent_chef)
{
	static const char *opts[] = { "OtherChef.limit=3" };
	struct ndl_sink s = { sink_write, &sink };
	struct ndl_kitchen *k = ndl__kitchen_new("k", s);
	char err[512] = "";

	ck_assert_int_eq(ndl__kitchen_set_option(k, opts[0], err, sizeof(err)), 0);
	ck_assert_int_eq(ndl__kitchen_add_chef(k, emit_module, err, sizeof(err)), 0);
	ck_assert_int_eq(ndl__kitchen_start(k, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "OtherChef"));
	ndl__kitchen_free(k);
}
END_TEST


/* ------------------------------------------------------------------------ */
/* Chef threads                                                              */
/* ------------------------------------------------------------------------ */

/* A sink that checks metadata.seq goes 1, 2, 3 in the order it is called,
 * and counts dumplings per chef. */
struct seq_log {
	uint64_t last_seq;
	bool in_order;
	int emit, thread, intervals;
};

static int seq_write(void *arg, const char *json, size_t len, enum ndl_driver driver)
{
	struct seq_log *l = arg;
	char buf[1024];
	const char *p;

	snprintf(buf, sizeof(buf), "%.*s", (int)len, json);
	p = strstr(buf, "\"seq\":");
	if (!p || strtoull(p + 6, NULL, 10) != l->last_seq + 1)
		l->in_order = false;
	l->last_seq++;
	if (strstr(buf, "\"chef\":\"ThreadChef\""))
		l->thread++;
	else if (strstr(buf, "\"chef\":\"EmitChef\""))
		l->emit++;
	if (driver == NDL_DRIVER_INTERVAL)
		l->intervals++;
	return 0;
}

static struct ndl_kitchen *threaded_kitchen(struct seq_log *log, struct ndl_chef_module **tm,
					    const char *thread_mode)
{
	struct ndl_sink s = { seq_write, log };
	struct ndl_kitchen *k = ndl__kitchen_new("test_kitchen", s);
	char err[512] = "", opt[64];

	ck_assert_ptr_nonnull(k);
	ndl__kitchen_set_log(k, log_capture, &logs);
	ck_assert_int_eq(ndl__chef_module_open(fx("emit_thread"), tm, err, sizeof(err)), 0);
	snprintf(opt, sizeof(opt), "ThreadChef.mode=%s", thread_mode);
	ck_assert_int_eq(ndl__kitchen_set_option(k, opt, err, sizeof(err)), 0);
	ck_assert_int_eq(ndl__kitchen_add_chef(k, emit_module, err, sizeof(err)), 0);
	ck_assert_int_eq(ndl__kitchen_add_chef(k, *tm, err, sizeof(err)), 0);
	ck_assert_int_eq(ndl__kitchen_start(k, err, sizeof(err)), 0);
	/* no timing: spread at the first packet */
	ndl__kitchen_set_threads(k, 3, 0);
	ck_assert_uint_eq(ndl__kitchen_threads(k), 1);
	return k;
}

START_TEST(core_threads)
{
	struct seq_log log = { .in_order = true };
	struct ndl_chef_module *tm = NULL;
	struct ndl_kitchen *k = threaded_kitchen(&log, &tm, "good");
	struct ndl_kitchen_chef_stats cs;
	const struct ndl_kitchen_stats *st;

	for (int i = 0; i < 5000; i++) {
		ndl__kitchen_packet(k, 1, dns_frame, sizeof(dns_frame), sizeof(dns_frame),
				    TS0 + i * 1000000LL);
		if (i % 1000 == 999)
			ndl__kitchen_interval(k);
	}
	/* the thread's chef is on a thread of its own; EmitChef (no flag) not;
	 * one chef that may move: one thread besides the caller's, not two */
	ck_assert_uint_eq(ndl__kitchen_threads(k), 2);
	ck_assert_int_eq(ndl__kitchen_chef_thread(k, 0), 0);
	ck_assert_int_eq(ndl__kitchen_chef_thread(k, 1), 1);
	ck_assert_int_eq(ndl__kitchen_chef_thread(k, 2), -ENOENT);
	st = ndl__kitchen_stats(k);   /* waits for the thread */
	ck_assert_int_eq(log.emit, 5005);
	ck_assert_int_eq(log.thread, 5005);
	ck_assert_int_eq(log.intervals, 10);
	ck_assert_msg(log.in_order, "seq out of order");
	ck_assert_uint_eq(st->dumplings, 10010);
	ck_assert_uint_eq(st->dumplings_dropped, 0);
	ck_assert_uint_eq(st->packets, 5000);
	ck_assert_uint_eq(st->dns_errors[0], 0);
	ck_assert_int_eq(ndl__kitchen_chef_stats(k, 1, &cs), 0);
	ck_assert_uint_eq(cs.dumplings, 5005);
	ck_assert_uint_eq(chef_counter(k, "ThreadChef", "packets"), 5000);
	ck_assert_uint_eq(chef_counter(k, "ThreadChef", "dns_same"), 5000);
	ck_assert_uint_eq(chef_counter(k, "ThreadChef", "emit_ok"), 5005);
	ndl__kitchen_free(k);
	ndl__chef_module_close(tm);
}
END_TEST

START_TEST(core_threads_malformed)
{
	struct seq_log log = { .in_order = true };
	struct ndl_chef_module *tm = NULL;
	struct ndl_kitchen *k = threaded_kitchen(&log, &tm, "malformed");
	struct ndl_kitchen_chef_stats cs;
	const struct ndl_kitchen_stats *st;

	for (int i = 0; i < 300; i++)
		ndl__kitchen_packet(k, 1, dns_frame, sizeof(dns_frame), sizeof(dns_frame), TS0);
	st = ndl__kitchen_stats(k);
	/* counted on the thread, added to the kitchen's counts; disabled
	 * after 100 in a row, the chef is no longer called */
	ck_assert_uint_eq(st->dumplings_dropped, 100);
	ck_assert_uint_eq(st->dumplings, 300);
	ck_assert_int_eq(ndl__kitchen_chef_stats(k, 1, &cs), 0);
	ck_assert_uint_eq(cs.malformed, 100);
	ck_assert(cs.disabled);
	ck_assert_uint_eq(cs.dropped, 100);
	ck_assert_uint_eq(chef_counter(k, "ThreadChef", "packets"), 100);
	ck_assert_msg(log.in_order, "seq out of order");
	/* halted: nothing more reaches the thread, and counts stay */
	ndl__kitchen_halt(k);
	ndl__kitchen_packet(k, 1, dns_frame, sizeof(dns_frame), sizeof(dns_frame), TS0);
	ndl__kitchen_sync(k);
	ck_assert_uint_eq(ndl__kitchen_stats(k)->dumplings_dropped, 100);
	ck_assert_uint_eq(ndl__kitchen_stats(k)->dumplings, 301);
	ndl__kitchen_free(k);
	ndl__chef_module_close(tm);
}
END_TEST

static Suite *kitchen_suite(void)
{
	Suite *s = suite_create("kitchen");
	TCase *t;

	t = tcase_create("loader");
	tcase_add_test(t, loader_good);
	tcase_add_test(t, loader_old_minor);
	tcase_add_loop_test(t, loader_refusals, 0, (int)(sizeof(refusals) / sizeof(refusals[0])));
	tcase_add_test(t, loader_not_elf);
	tcase_add_test(t, loader_missing_file);
	tcase_add_test(t, catalog_duplicate);
	tcase_add_test(t, catalog_scan);
	suite_add_tcase(s, t);

	t = tcase_create("core");
	tcase_add_checked_fixture(t, core_setup, core_teardown);
	tcase_add_test(t, core_exact_envelope);
	tcase_add_test(t, core_live_clock);
	tcase_add_test(t, core_malformed);
	tcase_add_test(t, core_left_open);
	tcase_add_test(t, core_sink_full);
	tcase_add_test(t, core_decode_errors);
	tcase_add_test(t, core_fini);
	tcase_add_test(t, core_init_fails);
	tcase_add_test(t, core_http_shared);
	tcase_add_test(t, core_tls_shared);
	tcase_add_test(t, core_host_table);
	tcase_add_test(t, core_old_minor_chef);
	tcase_add_test(t, core_threads);
	tcase_add_test(t, core_threads_malformed);
	suite_add_tcase(s, t);

	t = tcase_create("options");
	tcase_add_checked_fixture(t, core_setup, core_teardown);
	tcase_add_test(t, options_valid);
	tcase_add_test(t, options_defaults);
	tcase_add_loop_test(t, options_bad_value, 0,
			    (int)(sizeof(bad_options) / sizeof(bad_options[0])));
	tcase_add_test(t, options_bad_syntax);
	tcase_add_test(t, options_for_absent_chef);
	suite_add_tcase(s, t);
	return s;
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;

	if (argc < 3) {
		fprintf(stderr, "usage: %s FIXTURE_DIR NOT_ELF_FILE\n", argv[0]);
		return 2;
	}
	fixture_dir = argv[1];
	not_elf_path = argv[2];
	sr = srunner_create(kitchen_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
