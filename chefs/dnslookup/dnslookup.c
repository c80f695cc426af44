/* SPDX-License-Identifier: MIT */
/*
 * DNSLookupChef - which host names are being looked up.
 *
 * For every DNS message with at least one question (queries and responses
 * alike, as netdumplings 0.5.1 did) it emits a packet dumpling
 *   {"lookup": {"hostname": "example.com", "when": 1795322030.150690,
 *               "qtype": "A", "is_response": true, "rcode": "NOERROR",
 *               "answers": [{"name": ..., "type": ..., "ttl": ..., "data": ...}]}}
 * naming the first question. The first two keys are netdumplings' own and
 * come first; the others were added after them ("answers" only in
 * responses). Every interval it emits what it has seen
 *   {"lookups_seen": {"example.com": {"count": 2, "latest": 1795322030.150690}}}
 * with hosts in the order they were first seen. The kitchen parses the DNS
 * message (RFC 1035 section 4.1); this chef only reads the parsed questions.
 *
 * Unlike the original, the table of hosts is bounded (option max_hosts):
 * when it is full, the host seen least recently is forgotten and counted
 * under the counter "evictions".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <ndl/chef.h>
#include <ndl/names.h>

#include "dnsnames.h"
#include "lrumap.h"

/* A link in the list of hosts in the order they were first seen. */
struct seen_link {
	struct seen_link *prev;
	struct seen_link *next;
};

/* One host name; allocated when first seen, freed when evicted or at fini. */
struct host {
	struct lru_node node;        /* keyed by name[0..len) */
	struct seen_link seen;
	uint64_t count;
	ndl_time_ns latest;
	size_t len;
	char name[];                 /* NUL-terminated */
};

/* The chef's context, in ctx->state (zeroed by the kitchen). */
struct dnslookup_ctx {
	struct lru_map hosts;
	struct seen_link seen;       /* sentinel: seen.next was seen first */
	bool ready;                  /* init got as far as making the map */
};

/* ------------------------------------------------------------------------ */
/* The host table                                                            */
/* ------------------------------------------------------------------------ */

static void seen_unlink(struct seen_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
}

static void seen_append(struct seen_link *head, struct seen_link *l)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

/* Forget the least recently seen host to make room. */
static void evict_oldest(struct ndl_chef_ctx *ctx, struct dnslookup_ctx *c)
{
	struct lru_node *old = lru_map_oldest(&c->hosts);
	struct host *h;

	if (!old)
		return;
	h = LRU_ENTRY(old, struct host, node);
	lru_map_remove(&c->hosts, old);
	seen_unlink(&h->seen);
	free(h);
	ctx->host->count(ctx, "evictions", 1);
}

/* Count one lookup of name[0..len) (hash from lru_hash) at ts; allocates
 * only for a new name. */
static void record_lookup(struct ndl_chef_ctx *ctx, struct dnslookup_ctx *c,
			  const char *name, size_t len, uint64_t hash, ndl_time_ns ts)
{
	struct lru_node *n = lru_map_find(&c->hosts, name, len, hash);
	struct host *h;

	if (n) {
		h = LRU_ENTRY(n, struct host, node);
		h->count++;
		h->latest = ts;
		lru_map_touch(&c->hosts, n);
		return;
	}

	if (lru_map_full(&c->hosts))
		evict_oldest(ctx, c);

	h = malloc(sizeof(*h) + len + 1);
	if (!h) {
		ctx->host->count(ctx, "alloc_failures", 1);
		ctx->host->log(ctx, NDL_LOG_WARN, "out of memory: host %.*s not recorded",
			       (int)len, name);
		return;
	}
	memcpy(h->name, name, len);
	h->name[len] = '\0';
	h->len = len;
	h->count = 1;
	h->latest = ts;
	h->node.key = (const uint8_t *)h->name;
	h->node.keylen = len;
	h->node.hash = hash;
	lru_map_insert(&c->hosts, &h->node);
	seen_append(&c->seen, &h->seen);
}

/* ------------------------------------------------------------------------ */
/* What the message says                                                     */
/* ------------------------------------------------------------------------ */

/*
 * The keys that follow netdumplings' "hostname" and "when": the first
 * question's type, whether the message is a response (QR, RFC 1035
 * 4.1.1), and for responses the RCODE (extended by EDNS, RFC 6891 6.1.3)
 * and the answers the kitchen parsed.
 */
static void write_details(struct ndl_jw *w, const struct ndl_dns *dns)
{
	char buf[NDL_DNS_TYPE_NAME_MAX];

	ndl_jw_key(w, "qtype");
	ndl_jw_string(w, dns_type_text(dns->questions[0].qtype, buf, sizeof(buf)));
	ndl_jw_key(w, "is_response");
	ndl_jw_bool(w, dns->qr != 0);
	ndl_jw_key(w, "rcode");
	if (!dns->qr) {
		ndl_jw_null(w);
		return;
	}
	{
		unsigned int rcode = dns_full_rcode(dns->rcode, dns->edns, dns->edns_ext_rcode);
		const char *name = ndl_dns_rcode_name(rcode);

		if (name)
			ndl_jw_string(w, name);
		else
			ndl_jw_uint(w, rcode);
	}
	ndl_jw_key(w, "answers");
	ndl_jw_begin_array(w);
	for (unsigned int i = 0; i < dns->n_answers && i < NDL_DNS_MAX_RRS; i++) {
		const struct ndl_dns_rr *rr = &dns->answers[i];

		ndl_jw_begin_object(w);
		ndl_jw_key(w, "name");
		ndl_jw_string_n(w, rr->name, strnlen(rr->name, sizeof(rr->name)));
		ndl_jw_key(w, "type");
		ndl_jw_string(w, dns_type_text(rr->type, buf, sizeof(buf)));
		ndl_jw_key(w, "ttl");
		ndl_jw_uint(w, rr->ttl);
		ndl_jw_key(w, "data");
		ndl_jw_string_n(w, rr->data, strnlen(rr->data, sizeof(rr->data)));
		ndl_jw_end_object(w);
	}
	ndl_jw_end_array(w);
}

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                 */
/* ------------------------------------------------------------------------ */

static int dnslookup_init(struct ndl_chef_ctx *ctx)
{
	struct dnslookup_ctx *c = ctx->state;
	int64_t max_hosts = ctx->host->config_int(ctx, "max_hosts");
	int err;

	c->seen.prev = c->seen.next = &c->seen;
	err = lru_map_init(&c->hosts, (size_t)max_hosts);
	if (err < 0)
		return err;
	c->ready = true;
	return 0;
}

static void dnslookup_packet(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt)
{
	struct dnslookup_ctx *c = ctx->state;
	const struct ndl_dns *dns;
	const char *name;
	size_t len;
	uint64_t hash;
	struct ndl_jw *w;

	if (!(pkt->layers & (NDL_LAYER_UDP | NDL_LAYER_TCP)) || !pkt->payload_len)
		return;
	dns = ctx->host->dns(ctx, pkt);
	if (!dns || dns->n_questions == 0)
		return;

	name = dns->questions[0].name;
	len = strnlen(name, NDL_DNS_NAME_MAX - 1);
	/* The table is counted after the dumpling is written: its bucket
	 * comes from memory meanwhile. */
	hash = lru_hash(&c->hosts, name, len);
	lru_map_prefetch(&c->hosts, hash);

	w = ctx->host->emit_begin(ctx, NDL_DRIVER_PACKET);
	if (!w) {
		record_lookup(ctx, c, name, len, hash, pkt->ts);
		return;
	}
	ndl_jw_begin_object(w);
	ndl_jw_key(w, "lookup");
	ndl_jw_begin_object(w);
	ndl_jw_key(w, "hostname");
	ndl_jw_string_n(w, name, len);
	ndl_jw_key(w, "when");
	ndl_jw_time(w, pkt->ts);
	write_details(w, dns);
	ndl_jw_end_object(w);
	ndl_jw_end_object(w);
	ctx->host->emit_end(ctx, w);
	record_lookup(ctx, c, name, len, hash, pkt->ts);
}

static void dnslookup_interval(struct ndl_chef_ctx *ctx)
{
	struct dnslookup_ctx *c = ctx->state;
	struct ndl_jw *w = ctx->host->emit_begin(ctx, NDL_DRIVER_INTERVAL);

	if (!w)
		return;
	ndl_jw_begin_object(w);
	ndl_jw_key(w, "lookups_seen");
	ndl_jw_begin_object(w);
	for (struct seen_link *l = c->seen.next; l != &c->seen; l = l->next) {
		struct host *h = (struct host *)(void *)((char *)l - offsetof(struct host, seen));

		ndl_jw_key_n(w, h->name, h->len);
		ndl_jw_begin_object(w);
		ndl_jw_key(w, "count");
		ndl_jw_uint(w, h->count);
		ndl_jw_key(w, "latest");
		ndl_jw_time(w, h->latest);
		ndl_jw_end_object(w);
	}
	ndl_jw_end_object(w);
	ndl_jw_end_object(w);
	ctx->host->emit_end(ctx, w);
}

static void dnslookup_fini(struct ndl_chef_ctx *ctx)
{
	struct dnslookup_ctx *c = ctx->state;
	struct seen_link *l, *next;

	if (!c->ready)
		return;
	for (l = c->seen.next; l != &c->seen; l = next) {
		next = l->next;
		free((char *)l - offsetof(struct host, seen));
	}
	c->seen.prev = c->seen.next = &c->seen;
	lru_map_fini(&c->hosts);
	c->ready = false;
}

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_option dnslookup_options[] = {
	{
		.key = "max_hosts",
		.type = NDL_OPT_INT,
		.default_value = "10000",
		.min = 1,
		.max = 10000000,
		.help = "most host names remembered; the least recently seen is forgotten first",
	},
	{ .key = NULL },
};

/* ------------------------------------------------------------------------ */
/* Registration                                                              */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_descriptor dnslookup_chef = {
	.abi_version = NDL_CHEF_ABI_VERSION,
	.struct_size = sizeof(struct ndl_chef_descriptor),
	.name = "DNSLookupChef",
	.version = "1.1.0",
	.description = "host names looked up over DNS, per packet and counted per interval",
	.state_size = sizeof(struct dnslookup_ctx),
	.options = dnslookup_options,
	.init = dnslookup_init,
	.on_packet = dnslookup_packet,
	.on_interval = dnslookup_interval,
	.fini = dnslookup_fini,
	.flags = NDL_CHEF_F_ANY_THREAD,
};

/*
 * The chef's only exported symbol. Returns the static descriptor above
 * (never NULL, owned by this module). Called once by the kitchen's loader.
 */
NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void);

NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void)
{
	return &dnslookup_chef;
}
