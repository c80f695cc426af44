/* SPDX-License-Identifier: MIT */
/*
 * nd-record - record the dumplings an nd-hub sends into files: JSON Lines
 * exactly as received, or CSV with one flattened column per payload leaf
 * and one file per chef; rotation by size and age, files that get their
 * name only once complete, and an account at exit of everything received,
 * written and not written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ndl/wire.h>

#include "common.h"
#include "record_csv.h"
#include "record_out.h"

#define RECORD_EATER_NAME "recordereater"
#define DEFAULT_JSONL_PATTERN "dumplings-%Y%m%d-%H%M%S-{n}.jsonl"
#define DEFAULT_CSV_PATTERN "dumplings-{chef}-%Y%m%d-%H%M%S-{n}.csv"
#define MAX_CHEFS 1024           /* chefs counted (and, for CSV, given files) */
#define DEFAULT_MAX_COLUMNS 4096  /* columns of one chef's CSV files */
#define DEFAULT_MAX_OPEN 64       /* files open at once */
#define TICK_MS 1000u            /* flush (and check file ages) this often */
#define DRAIN_IDLE_MS 150u       /* stopping: close once nothing came for this long */
#define DRAIN_MAX_MS 2000u       /* stopping: close after this long anyway */
/* A chef name no chef has (chefs are [A-Za-z0-9_]+): a subscription to nothing. */
#define NO_CHEF "nd-record.stopping"

/* What is recorded for one chef. */
struct chef_out {
	char *chef;
	uint64_t written;            /* dumplings written */
	uint64_t files;              /* files opened */
	struct ndl__rec_file file;   /* when each chef has its own files */
	struct ndl__csv_table table; /* CSV: the chef's columns */
	uint64_t last_use;           /* for closing the least recently used */
	int columns_full;            /* "too many columns" was said */
};

struct recorder {
	struct ndl__rec_out out;
	char *pattern;               /* owned copy of the expanded -o */
	int csv;
	int split;                   /* a file per chef (CSV, or {chef} in -o) */
	int to_stdout;
	long long stop_after;        /* 0: no limit */
	size_t max_columns;
	unsigned max_open;
	unsigned open_files;

	struct chef_out chefs[MAX_CHEFS];
	size_t nchefs;
	struct ndl__rec_file file;   /* the one file when not split */
	uint64_t files_opened;       /* in the one-file mode */
	uint64_t use_clock;

	uint64_t written;            /* dumplings written */
	uint64_t not_written;        /* dumplings received and not written */
	uint64_t fields_not_written; /* CSV fields received and not written */
	uint64_t past_stop;          /* dumplings that came after --stop-after */
	uint64_t reencoded;          /* JSON Lines that could not keep their bytes */
	uint64_t unreadable;         /* CSV: dumplings that could not be flattened */
	uint64_t other_chefs;        /* written for chefs past MAX_CHEFS */
	int failed;                  /* a file could not be written: stop */
	int close_asked;             /* ndl_eater_close() was called */
	uint64_t held_at_close;      /* the SDK's "filtered" count then */
	int draining;                /* stopping on a signal: letting in-flight dumplings in */
	uint64_t drain_start_ms, last_rx_ms;

	struct ndl__csv_fields fields;
	struct ndl__buf line;

	struct ndl__app app;
	uv_signal_t sigint, sigterm;
	uv_timer_t tick;
	uv_timer_t drain;
};

enum {
	OPT_ROTATE_SIZE = NDL__OPT_OWN, OPT_ROTATE_EVERY, OPT_STOP_AFTER, OPT_FSYNC,
	OPT_MAX_COLUMNS, OPT_MAX_OPEN,
};

static const struct option long_opts[] = {
	{ "format", required_argument, NULL, 'f' },
	{ "output", required_argument, NULL, 'o' },
	{ "rotate-size", required_argument, NULL, OPT_ROTATE_SIZE },
	{ "rotate-every", required_argument, NULL, OPT_ROTATE_EVERY },
	{ "stop-after", required_argument, NULL, OPT_STOP_AFTER },
	{ "count", required_argument, NULL, OPT_STOP_AFTER },
	{ "fsync", no_argument, NULL, OPT_FSYNC },
	{ "max-columns", required_argument, NULL, OPT_MAX_COLUMNS },
	{ "max-open-files", required_argument, NULL, OPT_MAX_OPEN },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fputs(
"Usage: nd-record [OPTIONS]\n"
"\n"
"Connect to an nd-hub as an eater and write every dumpling it sends to files.\n"
"\n"
"Hub and subscription (as nd-print):\n"
NDL__HUB_OPTIONS_HELP
NDL__SUB_OPTIONS_HELP("record", RECORD_EATER_NAME, "finish the files and exit 1")
"\n"
"Output:\n"
"  -f, --format jsonl|csv        jsonl (default): one dumpling per line, exactly\n"
"                                as received; csv: one file per chef, one row\n"
"                                per dumpling, one column per payload leaf\n"
"                                (see below)\n", f);
	fputs(
"  -o, --output PATTERN          file name pattern (default\n"
"                                " DEFAULT_JSONL_PATTERN ",\n"
"                                with csv\n"
"                                " DEFAULT_CSV_PATTERN "):\n"
"                                strftime(3) conversions in local time when the\n"
"                                file is opened, {n} the file's number in this\n"
"                                run (000001, 000002...), {chef} the chef's\n"
"                                name; with csv and no {chef}, \"-{chef}\" goes\n"
"                                before the extension; with jsonl and {chef},\n"
"                                each chef gets its own files. '-' writes JSON\n"
"                                Lines to standard output\n"
"      --rotate-size BYTES       start a new file before one would grow past\n"
"                                BYTES (suffixes K, M, G: powers of 1024)\n"
"      --rotate-every SECONDS    start a new file when one is SECONDS old (an\n"
"                                idle file is closed then too)\n"
"      --stop-after N            exit 0 once N dumplings are written (--count\n"
"                                is the same)\n"
"      --fsync                   fdatasync(2) each file at every flush (once a\n"
"                                second) and fsync(2) it and its directory when\n"
"                                it is closed\n"
"      --max-columns N           most columns of one chef's CSV files (default\n"
"                                " NDL__STR(DEFAULT_MAX_COLUMNS) ")\n"
"      --max-open-files N        most files open at once (default " NDL__STR(DEFAULT_MAX_OPEN) "); the\n"
"                                least recently used is closed (complete) first\n"
"  -v, --verbose                 say each file on stderr once it is complete\n"
NDL__HELP_VERSION_HELP, f);
	fputs(
"\n"
"Files: each file is written as NAME.part and renamed to NAME once complete\n"
"(at rotation, at exit, or when closed to stay under --max-open-files);\n"
"an existing file is never overwritten: \"-1\", \"-2\"... go before the\n"
"extension instead. Every record in a file is whole. Buffered data is\n"
"flushed every second.\n", f);
	fputs(
"\n"
"CSV: RFC 4180 (quoted when needed, CRLF line ends). Columns are\n"
"metadata.<key> for the dumpling's metadata and <chef>_<path> for the\n"
"payload, <path> being the keys down to a leaf joined by '.', a '.' or '\\'\n"
"within a key written as \"\\.\" or \"\\\\\". Strings are written as text,\n"
"integers in decimal, reals in their shortest exact form, true/false, null\n"
"as an empty cell, arrays and empty objects as compact JSON. The header is\n"
"the columns seen so far in order of first appearance; when a dumpling\n"
"brings a new column, its chef's file is closed and a new one starts with\n"
"the wider header, so no field is lost. Past --max-columns, new fields are\n"
"not written; they are counted, and said on stderr.\n"
"\n"
"SIGINT and SIGTERM ask the hub to send nothing more, write what was still\n"
"under way (up to 2 s), close the files and exit 0; a second signal stops\n"
"at once. At exit a summary on stderr gives dumplings received and written\n"
"per chef, files written, what the hub dropped, sequence gaps, and anything\n"
"that was not written. Exit status 1 when a file cannot be created or\n"
"written (the path and the reason are said), or when the hub cannot be\n"
"reached or closes the connection.\n", f);
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */

static uint64_t now_ms(struct recorder *rec)
{
	return uv_now(ndl_eater_loop(rec->app.eater));
}

/*
 * Close the connection. The SDK hands over nothing that arrives after
 * this (it counts it as filtered): remember that count to tell them apart.
 */
static void close_eater(struct recorder *rec, int code, const char *reason)
{
	struct ndl_eater_stats st;

	if (rec->close_asked)
		return;
	rec->close_asked = 1;
	uv_timer_stop(&rec->drain);
	ndl_eater_get_stats(rec->app.eater, &st, sizeof(st));
	rec->held_at_close = st.filtered;
	ndl_eater_close(rec->app.eater, code, reason);
}

static void fail(struct recorder *rec)
{
	if (rec->failed)
		return;
	rec->failed = 1;
	rec->app.exit_code = 1;
	close_eater(rec, NDL_EATER_CLOSE_CANCELLED, "eater cancelled");
}

static int close_file(struct recorder *rec, struct ndl__rec_file *rf)
{
	int r;

	if (!rf->f)
		return 0;
	if (!rf->is_stdout && rec->open_files)
		rec->open_files--;
	r = ndl__rec_file_close(&rec->out, rf);
	if (r < 0)
		fail(rec);
	return r;
}

/* Close the least recently used chef file to make room for another. */
static int make_room(struct recorder *rec)
{
	struct chef_out *lru = NULL;

	if (rec->open_files < rec->max_open)
		return 0;
	for (size_t i = 0; i < rec->nchefs; i++)
		if (rec->chefs[i].file.f && (!lru || rec->chefs[i].last_use < lru->last_use))
			lru = &rec->chefs[i];
	return lru ? close_file(rec, &lru->file) : 0;
}

static int open_file(struct recorder *rec, struct ndl__rec_file *rf, const char *chef)
{
	int r = make_room(rec);

	if (r == 0)
		r = ndl__rec_file_open(&rec->out, rf, chef, now_ms(rec));
	if (r < 0) {
		fail(rec);
		return r;
	}
	rec->open_files++;
	return 0;
}

static int write_record(struct recorder *rec, struct ndl__rec_file *rf, const char *buf, size_t len)
{
	int r = ndl__rec_file_write(rf, buf, len);

	if (r < 0) {
		fprintf(stderr, "nd-record: cannot write to '%s': %s\n",
			rf->is_stdout ? "standard output" : rf->part, strerror(-r));
		fail(rec);
		return r;
	}
	rf->lines++;
	if (rf->is_stdout && ndl__rec_file_flush(&rec->out, rf) < 0) {
		fprintf(stderr, "nd-record: cannot write to standard output: %s\n", strerror(errno));
		fail(rec);
		return -EIO;
	}
	return 0;
}

/* The chef's slot, made on first use; NULL past MAX_CHEFS. */
static struct chef_out *chef_slot(struct recorder *rec, const char *chef, int *err)
{
	struct chef_out *co;

	*err = 0;
	for (size_t i = 0; i < rec->nchefs; i++)
		if (strcmp(rec->chefs[i].chef, chef) == 0)
			return &rec->chefs[i];
	if (rec->nchefs == MAX_CHEFS)
		return NULL;
	co = &rec->chefs[rec->nchefs];
	memset(co, 0, sizeof(*co));
	co->chef = strdup(chef);
	if (!co->chef || (rec->csv && ndl__csv_table_init(&co->table, rec->max_columns) < 0)) {
		free(co->chef);
		co->chef = NULL;
		*err = -ENOMEM;
		return NULL;
	}
	rec->nchefs++;
	return co;
}

/* ------------------------------------------------------------------------ */
/* Recording                                                                */

/* One dumpling as a JSON line; 0, or a negative errno (already said). */
static int record_jsonl(struct recorder *rec, struct chef_out *co, const struct ndl_dumpling *d)
{
	struct ndl__rec_file *rf = co && rec->split ? &co->file : &rec->file;
	const char *line = d->raw;
	size_t len = d->raw_len;
	char *copy = NULL;
	int r;

	/* A line feed between tokens would split the record: write it compact. */
	if (memchr(d->raw, '\n', d->raw_len) || memchr(d->raw, '\r', d->raw_len)) {
		json_t *v = json_loadb(d->raw, d->raw_len, 0, NULL);

		copy = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(v);
		if (!copy) {
			fprintf(stderr, "nd-record: cannot re-encode a dumpling from %s that"
				" holds line feeds (counted, not written)\n", d->chef);
			return -EINVAL;
		}
		line = copy;
		len = strlen(copy);
		rec->reencoded++;
	}
	r = 0;
	if (ndl__rec_file_due(&rec->out, rf, len + 1, now_ms(rec)))
		r = close_file(rec, rf);
	if (r == 0 && !rf->f) {
		if (rec->to_stdout) {
			ndl__rec_file_stdout(rf, now_ms(rec));
		} else {
			r = open_file(rec, rf, rec->split ? d->chef : NULL);
			if (r == 0) {
				if (co && rec->split)
					co->files++;
				else
					rec->files_opened++;
			}
		}
	}
	if (r == 0) {
		r = ndl__rec_file_write(rf, line, len);
		if (r == 0)
			r = write_record(rec, rf, "\n", 1);
		else {
			fprintf(stderr, "nd-record: cannot write to '%s': %s\n",
				rf->is_stdout ? "standard output" : rf->part, strerror(-r));
			fail(rec);
		}
	}
	free(copy);
	return r;
}

/* One dumpling as a CSV row in its chef's file. */
static int record_csv(struct recorder *rec, struct chef_out *co, const struct ndl_dumpling *d)
{
	json_error_t jerr;
	json_t *root;
	uint64_t missed = 0;
	size_t before;
	int added, r;

	root = json_loadb(d->raw, d->raw_len, 0, &jerr);
	if (!root) {
		/* one odd dumpling (a \u0000 in a string...) does not stop the rest */
		if (rec->unreadable++ == 0)
			fprintf(stderr, "nd-record: cannot flatten a dumpling from %s: %s (such"
				" dumplings are counted, not written)\n", d->chef, jerr.text);
		return -EINVAL;
	}
	r = ndl__csv_flatten(root, d->chef, &rec->fields);
	json_decref(root);
	if (r < 0)
		goto out_of_memory;
	before = co->table.n;
	added = ndl__csv_table_learn(&co->table, &rec->fields);
	if (added < 0)
		goto out_of_memory;
	rec->line.len = 0;
	r = ndl__csv_row(&co->table, &rec->fields, &rec->line, &missed);
	if (r < 0)
		goto out_of_memory;
	if (missed) {
		rec->fields_not_written += missed;
		if (!co->columns_full && co->table.n >= co->table.max) {
			co->columns_full = 1;
			fprintf(stderr, "nd-record: %s has more than %zu columns; fields past"
				" them are counted, not written (see --max-columns)\n",
				d->chef, co->table.max);
		}
	}
	if (co->file.f && (added > 0 || ndl__rec_file_due(&rec->out, &co->file, rec->line.len,
							   now_ms(rec)))) {
		if (rec->out.verbose && added > 0 && before)
			fprintf(stderr, "nd-record: %s brought %d new column%s: a new file with"
				" the wider header\n", d->chef, added, added == 1 ? "" : "s");
		r = close_file(rec, &co->file);
		if (r < 0)
			return r;
	}
	if (!co->file.f) {
		struct ndl__buf header = { 0 };

		r = open_file(rec, &co->file, d->chef);
		if (r < 0)
			return r;
		co->files++;
		if (ndl__csv_header(&co->table, &header) < 0) {
			ndl__buf_free(&header);
			goto out_of_memory;
		}
		r = ndl__rec_file_write(&co->file, header.p, header.len);
		ndl__buf_free(&header);
		if (r < 0) {
			fprintf(stderr, "nd-record: cannot write to '%s': %s\n", co->file.part,
				strerror(-r));
			fail(rec);
			return r;
		}
	}
	r = write_record(rec, &co->file, rec->line.p, rec->line.len);
	if (rec->line.cap > 1024 * 1024)  /* bounded: drop a buffer a huge row grew */
		ndl__buf_free(&rec->line);
	return r;

out_of_memory:
	fprintf(stderr, "nd-record: out of memory flattening a dumpling from %s\n", d->chef);
	return -ENOMEM;
}

static void on_dumpling(struct ndl_eater *e, const struct ndl_dumpling *d)
{
	struct recorder *rec = ndl__app_of(e)->data;
	struct chef_out *co;
	int err = 0, r;

	rec->last_rx_ms = now_ms(rec);
	if (rec->stop_after && rec->written >= (uint64_t)rec->stop_after) {
		rec->past_stop++;
		return;
	}
	if (rec->failed) {
		rec->not_written++;
		return;
	}
	co = chef_slot(rec, d->chef, &err);
	if (co)
		co->last_use = ++rec->use_clock;
	if (!co && err < 0) {
		fprintf(stderr, "nd-record: out of memory for chef %s\n", d->chef);
		rec->not_written++;
		fail(rec);
		return;
	}
	if (!co && (rec->csv || rec->split)) {
		/* a file per chef needs a slot per chef; memory for chefs is bounded */
		if (rec->not_written++ == 0)
			fprintf(stderr, "nd-record: more than %d chefs: dumplings of the others"
				" are counted, not written\n", MAX_CHEFS);
		return;
	}
	r = rec->csv ? record_csv(rec, co, d) : record_jsonl(rec, co, d);
	if (r < 0) {
		rec->not_written++;
		if (r != -EINVAL)
			fail(rec);
		return;
	}
	rec->written++;
	if (co)
		co->written++;
	else
		rec->other_chefs++;
	if (rec->stop_after && rec->written >= (uint64_t)rec->stop_after)
		close_eater(rec, NDL_EATER_CLOSE_FULL, "dumpling eater is full");
}

/* Every second: close files past --rotate-every, flush the others. */
static void on_tick(uv_timer_t *t)
{
	struct recorder *rec = t->data;
	uint64_t now = uv_now(t->loop);
	struct ndl__rec_file *rf;

	for (size_t i = 0; i <= rec->nchefs; i++) {
		rf = i < rec->nchefs ? &rec->chefs[i].file : &rec->file;
		if (!rf->f)
			continue;
		if (ndl__rec_file_due(&rec->out, rf, 0, now)) {
			close_file(rec, rf);
		} else if (ndl__rec_file_flush(&rec->out, rf) < 0) {
			fprintf(stderr, "nd-record: cannot write to '%s': %s\n",
				rf->is_stdout ? "standard output" : rf->part, strerror(errno));
			fail(rec);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Running                                                                  */

static void handle_closed(uv_handle_t *h)
{
	(void)h;
}

/* Stopping: close once the dumplings already under way have come in. */
static void on_drain(uv_timer_t *t)
{
	struct recorder *rec = t->data;
	uint64_t now = uv_now(t->loop);

	if (now - rec->last_rx_ms >= DRAIN_IDLE_MS || now - rec->drain_start_ms >= DRAIN_MAX_MS)
		close_eater(rec, NDL_EATER_CLOSE_CANCELLED, "eater cancelled");
}

/*
 * SIGINT/SIGTERM: ask the hub for nothing more (a subscription to a chef
 * that cannot exist), write what is still under way, then close. A second
 * signal closes at once.
 */
static void on_signal(uv_signal_t *s, int signum)
{
	struct recorder *rec = s->data;
	const char *none[] = { NO_CHEF, NULL };

	(void)signum;
	if (!rec->failed)
		rec->app.exit_code = 0;
	if (rec->draining || rec->close_asked ||
	    ndl_eater_subscribe(rec->app.eater, none, NULL, 0) < 0) {
		close_eater(rec, NDL_EATER_CLOSE_CANCELLED, "eater cancelled");
		return;
	}
	rec->draining = 1;
	rec->drain_start_ms = rec->last_rx_ms = uv_now(s->loop);
	uv_timer_start(&rec->drain, on_drain, DRAIN_IDLE_MS / 3, DRAIN_IDLE_MS / 3);
}

static void on_close(struct ndl_eater *e, const struct ndl_eater_close_info *info)
{
	struct recorder *rec = ndl__app_of(e)->data;

	ndl_eater_get_stats(e, &rec->app.stats, sizeof(rec->app.stats));
	if (info->status != 0) {
		if (!info->was_connected)
			fprintf(stderr, "nd-record: cannot connect to nd-hub at %s: %s\n",
				ndl_eater_url(e), info->reason[0] ? info->reason :
				strerror(-info->status));
		else
			fprintf(stderr, "nd-record: nd-hub at %s closed the connection (%d%s%s)\n",
				ndl_eater_url(e), info->code, info->reason[0] ? ": " : "",
				info->reason);
		rec->app.exit_code = 1;
	}
	uv_signal_stop(&rec->sigint);
	uv_signal_stop(&rec->sigterm);
	uv_timer_stop(&rec->tick);
	uv_timer_stop(&rec->drain);
	uv_close((uv_handle_t *)&rec->sigint, handle_closed);
	uv_close((uv_handle_t *)&rec->sigterm, handle_closed);
	uv_close((uv_handle_t *)&rec->tick, handle_closed);
	uv_close((uv_handle_t *)&rec->drain, handle_closed);
}

static void on_connect(struct ndl_eater *e)
{
	struct recorder *rec = ndl__app_of(e)->data;

	if (rec->out.verbose)
		fprintf(stderr, "nd-record: connected to nd-hub at %s\n", ndl_eater_url(e));
}

/* Run until the eater closed; then finish every file. */
static int run(struct recorder *rec)
{
	uv_loop_t *loop = ndl_eater_loop(rec->app.eater);
	unsigned tick = TICK_MS;
	int err;

	signal(SIGPIPE, SIG_IGN);
	uv_signal_init(loop, &rec->sigint);
	uv_signal_init(loop, &rec->sigterm);
	uv_timer_init(loop, &rec->tick);
	uv_timer_init(loop, &rec->drain);
	rec->sigint.data = rec->sigterm.data = rec->tick.data = rec->drain.data = rec;
	err = ndl_eater_start(rec->app.eater, on_connect, on_dumpling, on_close);
	if (err < 0) {
		fprintf(stderr, "nd-record: cannot start the eater: %s\n", strerror(-err));
		uv_close((uv_handle_t *)&rec->sigint, handle_closed);
		uv_close((uv_handle_t *)&rec->sigterm, handle_closed);
		uv_close((uv_handle_t *)&rec->tick, handle_closed);
		uv_close((uv_handle_t *)&rec->drain, handle_closed);
		uv_run(loop, UV_RUN_DEFAULT);
		return 1;
	}
	if (rec->out.rotate_ms && rec->out.rotate_ms / 4 < tick)
		tick = rec->out.rotate_ms / 4 > 10 ? (unsigned)(rec->out.rotate_ms / 4) : 10;
	uv_signal_start(&rec->sigint, on_signal, SIGINT);
	uv_signal_start(&rec->sigterm, on_signal, SIGTERM);
	uv_timer_start(&rec->tick, on_tick, tick, tick);
	ndl_eater_run(rec->app.eater);
	return rec->app.exit_code;
}

static void finish(struct recorder *rec)
{
	for (size_t i = 0; i < rec->nchefs; i++)
		close_file(rec, &rec->chefs[i].file);
	close_file(rec, &rec->file);
}

static void summary(struct recorder *rec)
{
	const struct ndl_eater_stats *st = &rec->app.stats;
	uint64_t files = rec->out.files_done + rec->out.files_failed;

	fprintf(stderr, "nd-record: received %" PRIu64 " dumplings (%" PRIu64
		" after filters), wrote %" PRIu64 " to %" PRIu64 " %s%s\n",
		st->dumplings, st->delivered, rec->written,
		rec->to_stdout ? (uint64_t)1 : files,
		rec->to_stdout ? "stream (standard output)" : files == 1 ? "file" : "files",
		rec->csv ? " as CSV" : " as JSON Lines");
	for (size_t i = 0; i < rec->nchefs; i++) {
		const struct chef_out *co = &rec->chefs[i];

		if (rec->split)
			fprintf(stderr, "nd-record:   %s: %" PRIu64 " dumplings in %" PRIu64
				" %s\n", co->chef, co->written, co->files,
				co->files == 1 ? "file" : "files");
		else
			fprintf(stderr, "nd-record:   %s: %" PRIu64 " dumplings\n", co->chef,
				co->written);
	}
	if (rec->close_asked && st->filtered > rec->held_at_close)
		fprintf(stderr, "nd-record: %" PRIu64 " dumplings arrived after the connection"
			" was being closed and were not handed over (not written)\n",
			st->filtered - rec->held_at_close);
	if (rec->other_chefs)
		fprintf(stderr, "nd-record:   other chefs: %" PRIu64 " dumplings\n",
			rec->other_chefs);
	fprintf(stderr, "nd-record: hub dropped %" PRIu64 " (in %" PRIu64 " notices); %"
		PRIu64 " gaps, %" PRIu64 " dumplings missing; %" PRIu64 " reconnects; %"
		PRIu64 " not dumplings\n", st->hub_dropped, st->drop_notices, st->gaps,
		st->gap_dumplings, st->reconnects, st->parse_errors);
	fprintf(stderr, "nd-record: not written: %" PRIu64 " dumplings, %" PRIu64
		" fields; %" PRIu64 " came after --stop-after; %" PRIu64
		" files left as .part\n", rec->not_written, rec->fields_not_written,
		rec->past_stop, rec->out.files_failed);
	if (rec->reencoded)
		fprintf(stderr, "nd-record: %" PRIu64 " dumplings held line feeds and were"
			" written compact\n", rec->reencoded);
}

/* --rotate-size: bytes with an optional K, M or G (powers of 1024). */
static int parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (*end == 'i' && shift)
		end++;
	if ((*end == 'b' || *end == 'B') && shift)
		end++;
	if (*end || v == 0 || v > (UINT64_MAX >> 31))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* With csv and no {chef} in the pattern, "-{chef}" before the extension. */
static char *csv_pattern(const char *pattern)
{
	const char *base = strrchr(pattern, '/'), *dot;
	size_t stem;
	char *s;

	if (strstr(pattern, "{chef}"))
		return strdup(pattern);
	base = base ? base + 1 : pattern;
	dot = strrchr(base, '.');
	stem = dot && dot != base ? (size_t)(dot - pattern) : strlen(pattern);
	if (asprintf(&s, "%.*s-{chef}%s", (int)stem, pattern, pattern + stem) < 0)
		return NULL;
	return s;
}

static void free_recorder(struct recorder *rec)
{
	for (size_t i = 0; i < rec->nchefs; i++) {
		free(rec->chefs[i].chef);
		ndl__csv_table_free(&rec->chefs[i].table);
	}
	ndl__csv_fields_clear(&rec->fields);
	free(rec->fields.names);
	free(rec->fields.values);
	ndl__buf_free(&rec->line);
	free(rec->pattern);
}

/* The options of nd-record alone, into the recorder and the format/output. */
struct own_opts {
	struct recorder *rec;
	const char *format, *output;
};

static int own_opt(void *ctx, int opt, const char *arg)
{
	struct own_opts *oo = ctx;
	struct recorder *rec = oo->rec;
	unsigned long long count;
	double every;
	char *end;

	switch (opt) {
	case 'f': oo->format = arg; return 0;
	case 'o': oo->output = arg; return 0;
	case 'v': rec->out.verbose = 1; return 0;
	case OPT_FSYNC: rec->out.do_fsync = 1; return 0;
	case OPT_ROTATE_SIZE:
		if (parse_size(arg, &rec->out.rotate_size) < 0) {
			fprintf(stderr, "nd-record: --rotate-size wants a positive number of"
				" bytes (K, M, G allowed), not '%s'\n", arg);
			return -EINVAL;
		}
		return 0;
	case OPT_ROTATE_EVERY:
		every = strtod(arg, &end);
		if (end == arg || *end || !(every >= 0.01) || every > 1e7) {
			fprintf(stderr, "nd-record: --rotate-every wants seconds between 0.01"
				" and 10000000, not '%s'\n", arg);
			return -EINVAL;
		}
		rec->out.rotate_ms = (uint64_t)(every * 1000.0 + 0.5);
		return 0;
	case OPT_STOP_AFTER:
		errno = 0;
		count = strtoull(arg, &end, 10);
		if (errno || end == arg || *end || *arg == '-' || count < 1 ||
		    count > (1ULL << 62)) {
			fprintf(stderr, "nd-record: --stop-after wants a positive integer,"
				" not '%s'\n", arg);
			return -EINVAL;
		}
		rec->stop_after = (long long)count;
		return 0;
	case OPT_MAX_COLUMNS:
	case OPT_MAX_OPEN:
		errno = 0;
		count = strtoull(arg, &end, 10);
		if (errno || end == arg || *end || *arg == '-' || count < 1 ||
		    count > (opt == OPT_MAX_OPEN ? 4096u : 1000000u)) {
			fprintf(stderr, "nd-record: --%s wants an integer from 1 to %u, not"
				" '%s'\n", opt == OPT_MAX_OPEN ? "max-open-files" : "max-columns",
				opt == OPT_MAX_OPEN ? 4096u : 1000000u, arg);
			return -EINVAL;
		}
		if (opt == OPT_MAX_OPEN)
			rec->max_open = (unsigned)count;
		else
			rec->max_columns = (size_t)count;
		return 0;
	default:
		return -EINVAL;
	}
}

int main(int argc, char **argv)
{
	static struct recorder rec;  /* large (the chef table): not on the stack */
	struct own_opts oo = { .rec = &rec, .format = "jsonl" };
	struct ndl__eater_opts o;
	const char *output;
	int r;

	rec.max_columns = DEFAULT_MAX_COLUMNS;
	rec.max_open = DEFAULT_MAX_OPEN;
	rec.out.prog = "nd-record";
	rec.out.next_n = 1;
	r = ndl__eater_opts_parse(&o, "nd-record", RECORD_EATER_NAME, NDL__EO_SUB, argc, argv,
				  "f:o:v", long_opts, usage, own_opt, &oo);
	if (r != 0)
		return r > 0 ? 0 : 1;
	if (strcmp(oo.format, "jsonl") == 0 || strcmp(oo.format, "json") == 0) {
		rec.csv = 0;
	} else if (strcmp(oo.format, "csv") == 0) {
		rec.csv = 1;
	} else {
		fprintf(stderr, "nd-record: --format wants jsonl or csv, not '%s'\n", oo.format);
		return 1;
	}
	output = oo.output;
	if (!output)
		output = rec.csv ? DEFAULT_CSV_PATTERN : DEFAULT_JSONL_PATTERN;
	if (!*output) {
		fprintf(stderr, "nd-record: --output wants a file name pattern or '-'\n");
		return 1;
	}
	if (strcmp(output, "-") == 0) {
		if (rec.csv) {
			fprintf(stderr, "nd-record: CSV needs files (one per chef); '-o -' is for"
				" jsonl only\n");
			return 1;
		}
		if (rec.out.rotate_size || rec.out.rotate_ms) {
			fprintf(stderr, "nd-record: standard output cannot be rotated; drop"
				" --rotate-size/--rotate-every or give -o a file name\n");
			return 1;
		}
		rec.to_stdout = 1;
	} else {
		rec.pattern = rec.csv ? csv_pattern(output) : strdup(output);
		if (!rec.pattern) {
			fprintf(stderr, "nd-record: out of memory\n");
			return 1;
		}
		rec.out.pattern = rec.pattern;
		rec.split = rec.csv || strstr(rec.pattern, "{chef}") != NULL;
		if (ndl__rec_out_check(&rec.out, o.nchefs ? o.chefs[0] : "chef") < 0) {
			free_recorder(&rec);
			return 1;
		}
	}

	if (ndl__app_setup(&rec.app, &o) < 0) {
		free_recorder(&rec);
		return 1;
	}
	rec.app.data = &rec;
	/* Drop notices are accounted for (stderr, summary), not recorded. */
	rec.app.drop_notices = 1;
	rec.app.gap_notices = 1;
	ndl_eater_set_drop_notices(rec.app.eater, NDL_EATER_DROPS_HIDE);

	r = run(&rec);
	finish(&rec);
	if (rec.failed)
		r = 1;
	ndl_eater_free(rec.app.eater);
	rec.app.eater = NULL;
	summary(&rec);
	free_recorder(&rec);
	return r;
}
