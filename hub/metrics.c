/* SPDX-License-Identifier: MIT */
/*
 * metrics.c - GET /metrics on the eater port: the hub's counters in the
 * Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/).
 *
 * Names and addresses come from clients, so label values are escaped as
 * the format says (backslash, double quote, line feed). Tokens are never
 * part of a hello by the time it is stored (hub.c removes them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub-int.h"
#include "logline.h"

#ifndef NDL_VERSION
#define NDL_VERSION "unknown"
#endif

/* A label value, escaped, at most 256 bytes of it (whole characters). */
static void label(FILE *f, const char *v)
{
	size_t n = v ? ndl__utf8_cut(v, 256) : 0;

	for (; n; v++, n--) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void help(FILE *f, const char *name, const char *type, const char *text)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void client_labels(FILE *f, const struct ndl_hub_conn *c)
{
	fputs(c->role == NDL_HUB_KITCHEN ? "{kitchen=\"" : "{eater=\"", f);
	label(f, c->name);
	fprintf(f, "\",address=\"%s%s%s:%d\"}", strchr(c->host, ':') ? "[" : "", c->host,
		strchr(c->host, ':') ? "]" : "", c->port);
}

/* One metric with a value per greeted client of role. */
static void per_client(FILE *f, struct ndl_hub *hub, enum ndl_hub_role role, const char *name,
		       const char *type, const char *text,
		       unsigned long long (*value)(const struct ndl_hub_conn *))
{
	help(f, name, type, text);
	for (struct ndl_hub_link *l = hub->greeted[role].next; l != &hub->greeted[role];
	     l = l->next) {
		const struct ndl_hub_conn *c =
			(const struct ndl_hub_conn *)((const char *)l -
						      offsetof(struct ndl_hub_conn, link));

		fputs(name, f);
		client_labels(f, c);
		fprintf(f, " %llu\n", value(c));
	}
}

static unsigned long long k_in(const struct ndl_hub_conn *c) { return c->dumplings_in; }
static unsigned long long k_limited(const struct ndl_hub_conn *c) { return c->rate_limited; }
static unsigned long long k_bad(const struct ndl_hub_conn *c) { return c->bad_lines; }
static unsigned long long e_sent(const struct ndl_hub_conn *c) { return c->sent; }
static unsigned long long e_dropped(const struct ndl_hub_conn *c) { return c->dropped; }
static unsigned long long e_unsub(const struct ndl_hub_conn *c) { return c->not_subscribed; }
static unsigned long long e_depth(const struct ndl_hub_conn *c) { return c->q.count; }
static unsigned long long e_bytes(const struct ndl_hub_conn *c) { return c->q.bytes; }

char *ndl__hub_metrics_build(struct ndl_hub *hub, size_t *len)
{
	static const char *const roles[2] = { "kitchen", "eater" };
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	help(f, "ndl_hub_info", "gauge", "The hub's version.");
	fprintf(f, "ndl_hub_info{version=\"%s\"} 1\n", NDL_VERSION);
	help(f, "ndl_hub_uptime_seconds", "gauge", "Seconds since the hub started.");
	fprintf(f, "ndl_hub_uptime_seconds %.3f\n", (double)(uv_hrtime() - hub->start_ns) / 1e9);

	help(f, "ndl_hub_dumplings_in_total", "counter", "Dumplings accepted from kitchens.");
	fprintf(f, "ndl_hub_dumplings_in_total %llu\n", (unsigned long long)hub->total_in);
	help(f, "ndl_hub_dumplings_out_total", "counter",
	     "Dumplings delivered to eaters (one per eater).");
	fprintf(f, "ndl_hub_dumplings_out_total %llu\n", (unsigned long long)hub->total_out);
	help(f, "ndl_hub_dumplings_dropped_total", "counter",
	     "Dumplings dropped for eaters whose queue was full.");
	fprintf(f, "ndl_hub_dumplings_dropped_total %llu\n", (unsigned long long)hub->total_dropped);
	help(f, "ndl_hub_intake_pauses_total", "counter",
	     "Times the hub stopped reading kitchens while most eaters' queues were full.");
	fprintf(f, "ndl_hub_intake_pauses_total %llu\n", (unsigned long long)hub->intake_pauses);
	help(f, "ndl_hub_intake_paused", "gauge",
	     "1 while the hub is not reading kitchens (most eaters' queues are full).");
	fprintf(f, "ndl_hub_intake_paused %d\n", hub->intake_paused ? 1 : 0);
	help(f, "ndl_hub_dumplings_not_subscribed_total", "counter",
	     "Dumplings not sent to eaters because of their subscription.");
	fprintf(f, "ndl_hub_dumplings_not_subscribed_total %llu\n",
		(unsigned long long)hub->total_not_subscribed);
	help(f, "ndl_hub_dumplings_rate_limited_total", "counter",
	     "Dumplings dropped because a kitchen sent faster than --kitchen-rate.");
	fprintf(f, "ndl_hub_dumplings_rate_limited_total %llu\n",
		(unsigned long long)hub->total_rate_limited);

	help(f, "ndl_hub_rejections_total", "counter", "Refused connections and messages, by reason.");
	for (int i = 0; i < NDL_HUB_REJ_COUNT; i++)
		fprintf(f, "ndl_hub_rejections_total{reason=\"%s\"} %llu\n", ndl_hub_reject_name(i),
			(unsigned long long)hub->rejections[i]);

	help(f, "ndl_hub_connections", "gauge", "Open connections that said hello, by role.");
	for (int r = 0; r < 2; r++)
		fprintf(f, "ndl_hub_connections{role=\"%s\"} %zu\n", roles[r], hub->ngreeted[r]);
	help(f, "ndl_hub_connections_pending", "gauge",
	     "Open connections that have not said hello yet, by role.");
	for (int r = 0; r < 2; r++)
		fprintf(f, "ndl_hub_connections_pending{role=\"%s\"} %zu\n", roles[r],
			hub->nconns[r] - hub->ngreeted[r]);

	per_client(f, hub, NDL_HUB_KITCHEN, "ndl_hub_kitchen_dumplings_in_total", "counter",
		   "Dumplings accepted from this kitchen.", k_in);
	per_client(f, hub, NDL_HUB_KITCHEN, "ndl_hub_kitchen_rate_limited_total", "counter",
		   "Dumplings from this kitchen dropped over --kitchen-rate.", k_limited);
	per_client(f, hub, NDL_HUB_KITCHEN, "ndl_hub_kitchen_bad_lines_total", "counter",
		   "Batch lines from this kitchen refused as not dumplings.", k_bad);
	per_client(f, hub, NDL_HUB_EATER, "ndl_hub_eater_dumplings_sent_total", "counter",
		   "Dumplings written to this eater.", e_sent);
	per_client(f, hub, NDL_HUB_EATER, "ndl_hub_eater_dumplings_dropped_total", "counter",
		   "Dumplings dropped for this eater because its queue was full.", e_dropped);
	per_client(f, hub, NDL_HUB_EATER, "ndl_hub_eater_dumplings_not_subscribed_total",
		   "counter", "Dumplings this eater's subscription left out.", e_unsub);
	per_client(f, hub, NDL_HUB_EATER, "ndl_hub_eater_queue_depth", "gauge",
		   "Dumplings waiting in this eater's queue.", e_depth);
	per_client(f, hub, NDL_HUB_EATER, "ndl_hub_eater_queue_bytes", "gauge",
		   "Bytes waiting in this eater's queue.", e_bytes);

	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}
