/* SPDX-License-Identifier: MIT */
/*
 * eater_probe - a test eater that writes everything the SDK tells it as one
 * JSON object a line on stdout, so the integration tests can check the
 * SDK's 0.2 additions (batch mode, tokens, TLS, drop notices, gaps,
 * reconnects) against servers and a real nd-hub.
 *
 *   eater_probe HUB [--name N] [--token-file F] [--ca F] [--no-batch]
 *               [--reconnect MIN_MS MAX_MS] [--chef C]... [--count N]
 *               [--drops filtered|deliver|hide]
 *
 * Lines: {"event":"connect","protocol":...}, {"event":"dumpling",...},
 * {"event":"drops",...}, {"event":"gap",...}, {"event":"disconnected",...},
 * and last {"event":"close",...,"stats":{...}}. SIGTERM closes with 4101.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndl/eater.h>

struct probe {
	uv_signal_t sigterm;
	long count;
	long got;
};

static void emit(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);

	if (s) {
		puts(s);
		fflush(stdout);
		free(s);
	}
	json_decref(o);
}

static void on_connect(struct ndl_eater *e)
{
	const char *p = ndl_eater_protocol(e);

	emit(json_pack("{ssso}", "event", "connect", "protocol",
		       p ? json_string(p) : json_null()));
}

static void on_dumpling(struct ndl_eater *e, const struct ndl_dumpling *d)
{
	struct probe *pr = ndl_eater_userdata(e);

	emit(json_pack("{sssssososIss#}", "event", "dumpling", "chef", d->chef,
		       "kitchen", d->kitchen ? json_string(d->kitchen) : json_null(),
		       "driver", d->driver ? json_string(d->driver) : json_null(),
		       "seq", (json_int_t)d->seq, "raw", d->raw, d->raw_len));
	if (pr->count && ++pr->got == pr->count)
		ndl_eater_close(e, NDL_EATER_CLOSE_FULL, "dumpling eater is full");
}

static json_t *close_json(const struct ndl_eater_close_info *c)
{
	return json_pack("{sisisssb}", "status", c->status, "code", c->code, "reason", c->reason,
			 "was_connected", c->was_connected);
}

static void on_event(struct ndl_eater *e, const struct ndl_eater_event *ev)
{
	(void)e;
	switch (ev->type) {
	case NDL_EATER_EVENT_DROPS:
		emit(json_pack("{sssIsI}", "event", "drops", "dropped", (json_int_t)ev->dropped,
			       "total_dropped", (json_int_t)ev->total_dropped));
		break;
	case NDL_EATER_EVENT_GAP:
		emit(json_pack("{sssssIsI}", "event", "gap", "kitchen", ev->kitchen,
			       "expected_seq", (json_int_t)ev->expected_seq,
			       "seq", (json_int_t)ev->seq));
		break;
	case NDL_EATER_EVENT_DISCONNECTED:
		emit(json_pack("{sssosisi}", "event", "disconnected", "close",
			       close_json(ev->close), "delay_ms", (int)ev->delay_ms,
			       "attempt", (int)ev->attempt));
		break;
	}
}

static void on_close(struct ndl_eater *e, const struct ndl_eater_close_info *info)
{
	struct probe *pr = ndl_eater_userdata(e);
	struct ndl_eater_stats st;
	json_t *o = close_json(info), *s;

	ndl_eater_get_stats(e, &st, sizeof(st));
	s = json_pack("{sIsIsIsIsIsIsIsIsIsIsIsIsIsIsIsIsI}",
		      "messages", (json_int_t)st.messages, "parse_errors", (json_int_t)st.parse_errors,
		      "filtered", (json_int_t)st.filtered, "delivered", (json_int_t)st.delivered,
		      "dumplings", (json_int_t)st.dumplings, "batches", (json_int_t)st.batches,
		      "drop_notices", (json_int_t)st.drop_notices,
		      "hub_dropped", (json_int_t)st.hub_dropped, "gaps", (json_int_t)st.gaps,
		      "gap_dumplings", (json_int_t)st.gap_dumplings,
		      "seq_restarts", (json_int_t)st.seq_restarts,
		      "seq_untracked", (json_int_t)st.seq_untracked,
		      "connects", (json_int_t)st.connects, "reconnects", (json_int_t)st.reconnects,
		      "after_close", (json_int_t)st.after_close,
		      "bytes", (json_int_t)st.bytes, "dropped_binary", (json_int_t)st.dropped_binary);
	json_object_set_new(o, "event", json_string("close"));
	json_object_set_new(o, "stats", s);
	emit(o);
	uv_close((uv_handle_t *)&pr->sigterm, NULL);
}

static void on_sigterm(uv_signal_t *s, int signum)
{
	(void)signum;
	ndl_eater_close(s->data, NDL_EATER_CLOSE_CANCELLED, "eater cancelled");
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "eater_probe: %s: %s\n", what, strerror(err < 0 ? -err : err));
	return 2;
}

int main(int argc, char **argv)
{
	const char *chefs[64];
	struct probe pr = { .count = 0 };
	struct ndl_eater *e;
	const char *name = "probe";
	int nchefs = 0, r;

	if (argc < 2)
		return fail("usage: eater_probe HUB [options]", EINVAL);
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
	e = ndl_eater_new(NULL, name, argv[1]);
	if (!e)
		return fail("ndl_eater_new", errno);
	ndl_eater_set_userdata(e, &pr);
	ndl_eater_set_event_cb(e, on_event);
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];

		r = 0;
		if (strcmp(a, "--name") == 0) {
			i++;
		} else if (strcmp(a, "--token-file") == 0 && i + 1 < argc) {
			r = ndl_eater_set_token_file(e, argv[++i]);
		} else if (strcmp(a, "--ca") == 0 && i + 1 < argc) {
			r = ndl_eater_set_ca_file(e, argv[++i]);
		} else if (strcmp(a, "--no-batch") == 0) {
			r = ndl_eater_set_batch(e, 0);
		} else if (strcmp(a, "--reconnect") == 0 && i + 2 < argc) {
			r = ndl_eater_set_reconnect(e, 1, (unsigned)atoi(argv[i + 1]),
						    (unsigned)atoi(argv[i + 2]));
			i += 2;
		} else if (strcmp(a, "--chef") == 0 && i + 1 < argc && nchefs < 63) {
			chefs[nchefs++] = argv[++i];
			r = ndl_eater_filter_chef(e, chefs[nchefs - 1]);
		} else if (strcmp(a, "--count") == 0 && i + 1 < argc) {
			pr.count = atol(argv[++i]);
		} else if (strcmp(a, "--drops") == 0 && i + 1 < argc) {
			i++;
			r = ndl_eater_set_drop_notices(e, strcmp(argv[i], "deliver") == 0 ?
						       NDL_EATER_DROPS_DELIVER :
						       strcmp(argv[i], "hide") == 0 ?
						       NDL_EATER_DROPS_HIDE : NDL_EATER_DROPS_FILTERED);
		} else {
			fprintf(stderr, "eater_probe: unknown argument '%s'\n", a);
			ndl_eater_free(e);
			return 2;
		}
		if (r < 0) {
			ndl_eater_free(e);
			return fail(a, r);
		}
	}
	if (nchefs) {
		chefs[nchefs] = NULL;
		r = ndl_eater_subscribe(e, chefs, NULL, 0);
		if (r < 0) {
			ndl_eater_free(e);
			return fail("ndl_eater_subscribe", r);
		}
	}
	uv_signal_init(ndl_eater_loop(e), &pr.sigterm);
	pr.sigterm.data = e;
	uv_signal_start(&pr.sigterm, on_sigterm, SIGTERM);
	r = ndl_eater_start(e, on_connect, on_dumpling, on_close);
	if (r < 0) {
		uv_close((uv_handle_t *)&pr.sigterm, NULL);
		ndl_eater_run(e);
		ndl_eater_free(e);
		return fail("ndl_eater_start", r);
	}
	ndl_eater_run(e);
	ndl_eater_free(e);
	return 0;
}
