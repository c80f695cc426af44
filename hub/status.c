/* SPDX-License-Identifier: MIT */
/*
 * status.c - the hub's SystemStatusChef dumpling.
 *
 * The payload starts with exactly the fields netdumplings 0.5.1 sends, in
 * its order; everything we add comes after them or inside info_from_hub,
 * where old eaters ignore it. Built with jansson: it is one document every
 * few seconds, and the hellos are already jansson values.
 */
#include <ndl/wire.h>
#include "hub-int.h"

static int put(json_t *obj, const char *key, json_t *v)
{
	return v ? json_object_set_new(obj, key, v) : -1;
}

static json_t *client_entry(const struct ndl_hub_conn *c)
{
	json_t *e = json_object(), *info = json_object();
	int r = 0;

	if (!e || !info)
		goto fail;
	r |= put(info, "host", json_string(c->host));
	r |= put(info, "port", json_integer(c->port));
	if (c->role == NDL_HUB_KITCHEN) {
		r |= put(info, "dumplings_in", json_integer((json_int_t)c->dumplings_in));
		r |= put(info, "rate_limited", json_integer((json_int_t)c->rate_limited));
		r |= put(info, "bad_lines", json_integer((json_int_t)c->bad_lines));
		r |= put(info, "batch", json_boolean(c->batch));
	} else {
		r |= put(info, "queued", json_integer((json_int_t)c->q.count));
		r |= put(info, "dropped", json_integer((json_int_t)c->dropped));
		r |= put(info, "sent", json_integer((json_int_t)c->sent));
		r |= put(info, "not_subscribed",
			 json_integer((json_int_t)c->not_subscribed));
		r |= put(info, "subscribe", c->sub.json ? json_deep_copy(c->sub.json) :
			 json_object());
		r |= put(info, "batch", json_boolean(c->batch));
	}
	r |= put(e, c->role == NDL_HUB_KITCHEN ? "info_from_kitchen" : "info_from_eater",
		 json_incref(c->hello));
	r |= put(e, "info_from_hub", info);
	info = NULL;
	if (r)
		goto fail;
	return e;
fail:
	json_decref(info);
	json_decref(e);
	return NULL;
}

static json_t *client_list(struct ndl_hub *hub, enum ndl_hub_role role)
{
	json_t *a = json_array();

	if (!a)
		return NULL;
	for (struct ndl_hub_link *l = hub->greeted[role].next; l != &hub->greeted[role];
	     l = l->next) {
		const struct ndl_hub_conn *c =
			(const struct ndl_hub_conn *)((const char *)l -
						      offsetof(struct ndl_hub_conn, link));

		if (json_array_append_new(a, client_entry(c))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *status_payload(struct ndl_hub *hub)
{
	json_t *p = json_object(), *rej = json_object();
	uint64_t rejected = 0;
	int r = 0;

	if (!p || !rej)
		goto fail;
	for (int i = 0; i < NDL_HUB_REJ_COUNT; i++) {
		rejected += hub->rejections[i];
		r |= put(rej, ndl_hub_reject_name(i), json_integer((json_int_t)hub->rejections[i]));
	}
	/* netdumplings 0.5.1 fields, in its order. */
	r |= put(p, "total_dumplings_in", json_integer((json_int_t)hub->total_in));
	r |= put(p, "total_dumplings_out", json_integer((json_int_t)hub->total_out));
	r |= put(p, "server_uptime", json_real((double)(uv_hrtime() - hub->start_ns) / 1e9));
	r |= put(p, "dumpling_kitchen_count", json_integer((json_int_t)hub->ngreeted[NDL_HUB_KITCHEN]));
	r |= put(p, "dumpling_eater_count", json_integer((json_int_t)hub->ngreeted[NDL_HUB_EATER]));
	r |= put(p, "dumpling_kitchens", client_list(hub, NDL_HUB_KITCHEN));
	r |= put(p, "dumpling_eaters", client_list(hub, NDL_HUB_EATER));
	/* Ours: additive. */
	r |= put(p, "total_dumplings_rejected", json_integer((json_int_t)rejected));
	r |= put(p, "total_dumplings_dropped", json_integer((json_int_t)hub->total_dropped));
	r |= put(p, "rejections", rej);
	r |= put(p, "total_dumplings_not_subscribed",
		 json_integer((json_int_t)hub->total_not_subscribed));
	r |= put(p, "total_dumplings_rate_limited",
		 json_integer((json_int_t)hub->total_rate_limited));
	rej = NULL;
	if (r)
		goto fail;
	return p;
fail:
	json_decref(rej);
	json_decref(p);
	return NULL;
}

struct ndl_hub_msg *ndl__hub_status_build(struct ndl_hub *hub)
{
	json_t *root = json_object(), *meta = json_object();
	struct ndl_hub_msg *m = NULL;
	size_t need;
	int r = 0;

	if (!root || !meta)
		goto free_json;
	r |= put(meta, "chef", json_string(NDL_STATUS_CHEF));
	r |= put(meta, "kitchen", json_null());
	r |= put(meta, "creation_time", json_real(ndl__hub_now_epoch()));
	r |= put(meta, "driver", json_string(NDL_DRIVER_NAME_INTERVAL));
	r |= put(root, "metadata", meta);
	meta = NULL;
	r |= put(root, "payload", status_payload(hub));
	if (r)
		goto free_json;

	/* Serialise straight into the shared buffer: ask the size, then write. */
	need = json_dumpb(root, NULL, 0, JSON_COMPACT);
	if (!need)
		goto free_json;
	m = ndl__hub_msg_new(need);
	if (!m)
		goto free_json;
	m->len = json_dumpb(root, (char *)ndl__hub_msg_payload(m), need, JSON_COMPACT);
	if (m->len != need) {
		ndl__hub_msg_unref(m);
		m = NULL;
	}
free_json:
	json_decref(meta);
	json_decref(root);
	return m;
}
