/* SPDX-License-Identifier: MIT */
/*
 * HTTPRequestChef - which URLs are fetched over plain HTTP, and how they
 * were answered.
 *
 * The kitchen parses the HTTP/1.x start line and header fields at the start
 * of a TCP segment (RFC 9112 sections 2-5; struct ndl_http). For every
 * request this chef emits a packet dumpling
 *   {"kind": "request", "time", "client": {"ip", "port"}, "server": {...},
 *    "method", "host", "uri", "url", "user_agent", "referer", "http_version"}
 * and remembers the request in a table of TCP flows. For every response it
 * takes the oldest unanswered request of the same flow (HTTP/1.1 answers
 * pipelined requests in order, RFC 9112 section 9.3.2) and emits
 *   {"kind": "response", "time", "client", "server", "method", "host", "uri",
 *    "status", "reason", "content_type", "content_length", "latency"}.
 * A response with no request waiting is still emitted, with method, host,
 * uri and latency null, and counted under "unpaired_responses".
 *
 * Bounds: at most max_pending_flows flows (the least recently active one is
 * forgotten first, counted under "evictions") and MAX_PENDING requests per
 * flow (the oldest is dropped first). Requests dropped without an answer,
 * by either bound or by a new connection reusing the flow's ports, are
 * counted under "unanswered_requests". The copy of a request target kept
 * for the response is cut at MAX_KEPT_URI bytes ("uri_truncated").
 *
 * No interval dumplings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <ndl/chef.h>

#include "lrumap.h"

#define MAX_PENDING 16           /* requests waiting per flow */
#define MAX_KEPT_URI 2048        /* bytes of a target kept until its response */
#define MAX_KEPT_FIELD 255       /* bytes of a method or Host kept */

#define TCP_SYN 0x02
#define TCP_ACK 0x10

/* One side of a TCP connection, as it is keyed: 16 address bytes, port. */
struct endpoint {
	uint8_t ip[16];              /* IPv4 uses the first 4 bytes, the rest zero */
	uint16_t port;
};

/* The flow key: IP version, then the lower endpoint, then the higher. */
#define FLOW_KEY_LEN (1 + 2 * (16 + 2))

/* A request waiting for its response; one allocation with its strings. */
struct pending {
	ndl_time_ns ts;
	bool client_is_a;            /* the request was sent by endpoint a */
	uint16_t method_len;
	uint16_t host_len;           /* host NULL when the request had no Host */
	uint16_t uri_len;
	bool has_host;
	char *method;                /* point into text */
	char *host;
	char *uri;
	char text[];
};

/* One TCP flow with requests waiting, in ring order. */
struct flow {
	struct lru_node node;        /* keyed by key[] */
	uint8_t key[FLOW_KEY_LEN];
	uint8_t head;                /* index of the oldest request */
	uint8_t n;                   /* requests waiting */
	struct pending *q[MAX_PENDING];
};

/* The chef's context, in ctx->state (zeroed by the kitchen). */
struct httprequest_ctx {
	struct lru_map flows;
	bool ready;                  /* init got as far as making the map */
};

/* A packet's two endpoints, and where they fall in the flow key. */
struct sides {
	int version;
	struct endpoint src;
	struct endpoint dst;
	bool src_is_a;               /* src is the lower endpoint of the key */
	uint8_t key[FLOW_KEY_LEN];
};

/* ------------------------------------------------------------------------ */
/* Flows                                                                     */
/* ------------------------------------------------------------------------ */

static void endpoint_put(uint8_t *out, const struct endpoint *e)
{
	memcpy(out, e->ip, 16);
	out[16] = (uint8_t)(e->port >> 8);
	out[17] = (uint8_t)e->port;
}

/* Both directions of a connection give the same key. */
static void sides_of(const struct ndl_packet *pkt, struct sides *s)
{
	uint8_t a[18], b[18];
	size_t alen = pkt->ip_version == 4 ? 4 : 16;

	memset(s, 0, sizeof(*s));
	s->version = pkt->ip_version;
	memcpy(s->src.ip, pkt->src_ip, alen);
	memcpy(s->dst.ip, pkt->dst_ip, alen);
	s->src.port = pkt->sport;
	s->dst.port = pkt->dport;
	endpoint_put(a, &s->src);
	endpoint_put(b, &s->dst);
	s->src_is_a = memcmp(a, b, sizeof(a)) <= 0;
	s->key[0] = (uint8_t)s->version;
	memcpy(s->key + 1, s->src_is_a ? a : b, 18);
	memcpy(s->key + 19, s->src_is_a ? b : a, 18);
}

static struct pending *flow_at(const struct flow *f, unsigned int i)
{
	return f->q[(f->head + i) % MAX_PENDING];
}

/* Remove the i-th waiting request from f and return it (the caller owns it). */
static struct pending *flow_take(struct flow *f, unsigned int i)
{
	struct pending *p = flow_at(f, i);

	for (; i + 1 < f->n; i++)
		f->q[(f->head + i) % MAX_PENDING] = f->q[(f->head + i + 1) % MAX_PENDING];
	f->n--;
	return p;
}

/* Drop every request f holds, counting them as never answered. */
static void flow_clear(struct ndl_chef_ctx *ctx, struct flow *f)
{
	if (ctx && f->n)
		ctx->host->count(ctx, "unanswered_requests", f->n);
	while (f->n)
		free(flow_take(f, 0));
	f->head = 0;
}

static void flow_forget(struct ndl_chef_ctx *ctx, struct httprequest_ctx *c, struct flow *f)
{
	flow_clear(ctx, f);
	lru_map_remove(&c->flows, &f->node);
	free(f);
}

static struct flow *flow_find(struct httprequest_ctx *c, const struct sides *s)
{
	uint64_t hash = lru_hash(&c->flows, s->key, FLOW_KEY_LEN);
	struct lru_node *n = lru_map_find(&c->flows, s->key, FLOW_KEY_LEN, hash);

	return n ? LRU_ENTRY(n, struct flow, node) : NULL;
}

/* The flow of s, made (evicting the least recently active) when new. */
static struct flow *flow_get(struct ndl_chef_ctx *ctx, struct httprequest_ctx *c,
			     const struct sides *s)
{
	uint64_t hash = lru_hash(&c->flows, s->key, FLOW_KEY_LEN);
	struct lru_node *n = lru_map_find(&c->flows, s->key, FLOW_KEY_LEN, hash);
	struct flow *f;

	if (n) {
		lru_map_touch(&c->flows, n);
		return LRU_ENTRY(n, struct flow, node);
	}
	if (lru_map_full(&c->flows)) {
		flow_forget(ctx, c, LRU_ENTRY(lru_map_oldest(&c->flows), struct flow, node));
		ctx->host->count(ctx, "evictions", 1);
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	memcpy(f->key, s->key, FLOW_KEY_LEN);
	f->node.key = f->key;
	f->node.keylen = FLOW_KEY_LEN;
	f->node.hash = hash;
	lru_map_insert(&c->flows, &f->node);
	return f;
}

/* Keep a copy of what the response dumpling repeats from the request. */
static struct pending *pending_new(struct ndl_chef_ctx *ctx, const struct ndl_http *h,
				   ndl_time_ns ts, bool client_is_a)
{
	size_t mlen = h->method.len > MAX_KEPT_FIELD ? MAX_KEPT_FIELD : h->method.len;
	size_t hlen = h->host.len > MAX_KEPT_FIELD ? MAX_KEPT_FIELD : h->host.len;
	size_t ulen = h->target.len > MAX_KEPT_URI ? MAX_KEPT_URI : h->target.len;
	struct pending *p;

	if (!h->host.ptr)
		hlen = 0;
	if (ulen < h->target.len)
		ctx->host->count(ctx, "uri_truncated", 1);
	p = malloc(sizeof(*p) + mlen + hlen + ulen);
	if (!p)
		return NULL;
	p->ts = ts;
	p->client_is_a = client_is_a;
	p->method = p->text;
	p->host = p->method + mlen;
	p->uri = p->host + hlen;
	p->method_len = (uint16_t)mlen;
	p->host_len = (uint16_t)hlen;
	p->uri_len = (uint16_t)ulen;
	p->has_host = h->host.ptr != NULL;
	if (mlen)
		memcpy(p->method, h->method.ptr, mlen);
	if (hlen)
		memcpy(p->host, h->host.ptr, hlen);
	if (ulen)
		memcpy(p->uri, h->target.ptr, ulen);
	return p;
}

/* Queue a request on its flow; the oldest waiting one goes when full. */
static void remember_request(struct ndl_chef_ctx *ctx, struct httprequest_ctx *c,
			     const struct sides *s, const struct ndl_http *h, ndl_time_ns ts)
{
	struct flow *f = flow_get(ctx, c, s);
	struct pending *p;

	if (!f) {
		ctx->host->count(ctx, "alloc_failures", 1);
		return;
	}
	p = pending_new(ctx, h, ts, s->src_is_a);
	if (!p) {
		ctx->host->count(ctx, "alloc_failures", 1);
		if (f->n == 0)
			flow_forget(ctx, c, f);
		return;
	}
	if (f->n == MAX_PENDING) {
		free(flow_take(f, 0));
		ctx->host->count(ctx, "unanswered_requests", 1);
	}
	f->q[(f->head + f->n) % MAX_PENDING] = p;
	f->n++;
}

/*
 * The oldest request of s's flow sent by the other side, removed from the
 * flow unless keep (an interim response). NULL when none waits.
 */
static struct pending *answer_request(struct ndl_chef_ctx *ctx, struct httprequest_ctx *c,
				      const struct sides *s, bool keep, struct pending **kept)
{
	struct flow *f = flow_find(c, s);
	struct pending *p = NULL;

	*kept = NULL;
	if (!f)
		return NULL;
	for (unsigned int i = 0; i < f->n; i++) {
		if (flow_at(f, i)->client_is_a == s->src_is_a)
			continue;            /* sent by this response's sender */
		if (keep) {
			*kept = flow_at(f, i);
			return NULL;
		}
		p = flow_take(f, i);
		break;
	}
	if (f->n == 0)
		flow_forget(ctx, c, f);
	else
		lru_map_touch(&c->flows, &f->node);
	return p;
}

/* ------------------------------------------------------------------------ */
/* Dumplings                                                                 */
/* ------------------------------------------------------------------------ */

static void write_endpoint(struct ndl_jw *w, const char *key, int version,
			   const struct endpoint *e)
{
	ndl_jw_key(w, key);
	ndl_jw_begin_object(w);
	ndl_jw_key(w, "ip");
	ndl_jw_ip(w, version, e->ip);
	ndl_jw_key(w, "port");
	ndl_jw_uint(w, e->port);
	ndl_jw_end_object(w);
}

/* A header's value, or null when the message did not carry the field. */
static void write_str_or_null(struct ndl_jw *w, const char *key, struct ndl_str s)
{
	ndl_jw_key(w, key);
	if (s.ptr)
		ndl_jw_string_n(w, s.ptr, s.len);
	else
		ndl_jw_null(w);
}

static bool starts_with_scheme(struct ndl_str t)
{
	/* RFC 3986 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
	uint32_t i = 0;

	if (!t.ptr || t.len == 0)
		return false;
	if (!((t.ptr[0] | 0x20) >= 'a' && (t.ptr[0] | 0x20) <= 'z'))
		return false;
	for (i = 1; i < t.len; i++) {
		char ch = t.ptr[i];

		if (ch == ':')
			return i + 2 < t.len && t.ptr[i + 1] == '/' && t.ptr[i + 2] == '/';
		if (!((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') &&
		    !(ch >= '0' && ch <= '9') && ch != '+' && ch != '-' && ch != '.')
			return false;
	}
	return false;
}

/*
 * The URL a request asked for (RFC 9112 section 3.3): the target itself in
 * absolute-form; for origin-form "http://" + Host + target, where a missing
 * Host becomes the server's address (IPv6 in brackets) and port (unless
 * 80). Written
 * as null for authority-form (CONNECT) and asterisk-form (OPTIONS *).
 */
static void write_url(struct ndl_jw *w, const struct ndl_http *h, int version,
		      const struct endpoint *server)
{
	char stackbuf[1024];
	char authority[INET6_ADDRSTRLEN + 16];
	char addr[INET6_ADDRSTRLEN];
	const char *host;
	char *buf = stackbuf;
	size_t hlen, need;

	ndl_jw_key(w, "url");
	if (starts_with_scheme(h->target)) {
		ndl_jw_string_n(w, h->target.ptr, h->target.len);
		return;
	}
	if (!h->target.ptr || h->target.len == 0 || h->target.ptr[0] != '/') {
		ndl_jw_null(w);
		return;
	}
	if (h->host.ptr) {
		host = h->host.ptr;
		hlen = h->host.len;
	} else {
		/* RFC 3986 3.2.2: an IPv6 literal goes in brackets. */
		if (!inet_ntop(version == 4 ? AF_INET : AF_INET6, server->ip, addr, sizeof(addr)))
			addr[0] = '\0';
		if (server->port == 80)   /* the default port goes unsaid (RFC 3986 6.2.3) */
			snprintf(authority, sizeof(authority), version == 4 ? "%s" : "[%s]", addr);
		else
			snprintf(authority, sizeof(authority), version == 4 ? "%s:%u" : "[%s]:%u",
				 addr, server->port);
		host = authority;
		hlen = strlen(authority);
	}
	need = 7 + hlen + h->target.len;
	if (need > sizeof(stackbuf)) {
		buf = malloc(need);
		if (!buf) {
			ndl_jw_null(w);
			return;
		}
	}
	memcpy(buf, "http://", 7);
	memcpy(buf + 7, host, hlen);
	memcpy(buf + 7 + hlen, h->target.ptr, h->target.len);
	ndl_jw_string_n(w, buf, need);
	if (buf != stackbuf)
		free(buf);
}

static void emit_request(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt,
			 const struct sides *s, const struct ndl_http *h)
{
	struct ndl_jw *w = ctx->host->emit_begin(ctx, NDL_DRIVER_PACKET);
	char version[8];

	if (!w)
		return;
	ndl_jw_begin_object(w);
	ndl_jw_key(w, "kind");
	ndl_jw_string(w, "request");
	ndl_jw_key(w, "time");
	ndl_jw_time(w, pkt->ts);
	write_endpoint(w, "client", s->version, &s->src);
	write_endpoint(w, "server", s->version, &s->dst);
	write_str_or_null(w, "method", h->method);
	write_str_or_null(w, "host", h->host);
	write_str_or_null(w, "uri", h->target);
	write_url(w, h, s->version, &s->dst);
	write_str_or_null(w, "user_agent", h->user_agent);
	write_str_or_null(w, "referer", h->referer);
	ndl_jw_key(w, "http_version");
	if (h->version_major < 10 && h->version_minor < 10) {
		/* "1.1": every request there is, without printf */
		version[0] = (char)('0' + h->version_major);
		version[1] = '.';
		version[2] = (char)('0' + h->version_minor);
		ndl_jw_string_n(w, version, 3);
	} else {
		snprintf(version, sizeof(version), "%u.%u", h->version_major, h->version_minor);
		ndl_jw_string(w, version);
	}
	ndl_jw_end_object(w);
	ctx->host->emit_end(ctx, w);
}

/* Content-Length (RFC 9110 section 8.6) as a number, or null when absent or not 1*DIGIT. */
static void write_content_length(struct ndl_jw *w, struct ndl_str s)
{
	uint64_t v = 0;

	ndl_jw_key(w, "content_length");
	if (!s.ptr || s.len == 0 || s.len > 19) {
		ndl_jw_null(w);
		return;
	}
	for (uint32_t i = 0; i < s.len; i++) {
		if (s.ptr[i] < '0' || s.ptr[i] > '9') {
			ndl_jw_null(w);
			return;
		}
		v = v * 10 + (uint64_t)(s.ptr[i] - '0');
	}
	ndl_jw_uint(w, v);
}

static void emit_response(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt,
			  const struct sides *s, const struct ndl_http *h,
			  const struct pending *req)
{
	struct ndl_jw *w = ctx->host->emit_begin(ctx, NDL_DRIVER_PACKET);

	if (!w)
		return;
	ndl_jw_begin_object(w);
	ndl_jw_key(w, "kind");
	ndl_jw_string(w, "response");
	ndl_jw_key(w, "time");
	ndl_jw_time(w, pkt->ts);
	write_endpoint(w, "client", s->version, &s->dst);
	write_endpoint(w, "server", s->version, &s->src);
	ndl_jw_key(w, "method");
	if (req)
		ndl_jw_string_n(w, req->method, req->method_len);
	else
		ndl_jw_null(w);
	ndl_jw_key(w, "host");
	if (req && req->has_host)
		ndl_jw_string_n(w, req->host, req->host_len);
	else
		ndl_jw_null(w);
	ndl_jw_key(w, "uri");
	if (req)
		ndl_jw_string_n(w, req->uri, req->uri_len);
	else
		ndl_jw_null(w);
	ndl_jw_key(w, "status");
	ndl_jw_uint(w, h->status);
	write_str_or_null(w, "reason", h->reason);
	write_str_or_null(w, "content_type", h->content_type);
	write_content_length(w, h->content_length);
	ndl_jw_key(w, "latency");
	if (req)
		ndl_jw_real(w, (double)(pkt->ts - req->ts) / 1e9);
	else
		ndl_jw_null(w);
	ndl_jw_end_object(w);
	ctx->host->emit_end(ctx, w);
}

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                 */
/* ------------------------------------------------------------------------ */

static int httprequest_init(struct ndl_chef_ctx *ctx)
{
	struct httprequest_ctx *c = ctx->state;
	int64_t max_flows = ctx->host->config_int(ctx, "max_pending_flows");
	int err;

	err = lru_map_init(&c->flows, (size_t)max_flows);
	if (err < 0)
		return err;
	c->ready = true;
	return 0;
}

static void httprequest_packet(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt)
{
	struct httprequest_ctx *c = ctx->state;
	const struct ndl_http *h;
	struct pending *req, *kept;
	struct sides s;
	bool interim;

	if (!(pkt->layers & NDL_LAYER_TCP) || (pkt->ip_version != 4 && pkt->ip_version != 6))
		return;
	if ((pkt->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		/* A new connection on these ports: what waited on the old one is lost. */
		struct flow *f;

		sides_of(pkt, &s);
		f = flow_find(c, &s);
		if (f)
			flow_forget(ctx, c, f);
		return;
	}
	if (!pkt->payload_len)
		return;
	h = ctx->host->http(ctx, pkt);
	if (!h)
		return;
	sides_of(pkt, &s);

	if (h->is_request) {
		emit_request(ctx, pkt, &s, h);
		remember_request(ctx, c, &s, h, pkt->ts);
		return;
	}

	/* 1xx other than 101 is interim: the final response is still to come (RFC 9110 15.2). */
	interim = h->status >= 100 && h->status < 200 && h->status != 101;
	req = answer_request(ctx, c, &s, interim, &kept);
	if (kept) {
		emit_response(ctx, pkt, &s, h, kept);
		return;
	}
	if (!req)
		ctx->host->count(ctx, "unpaired_responses", 1);
	emit_response(ctx, pkt, &s, h, req);
	free(req);
}

static void httprequest_fini(struct ndl_chef_ctx *ctx)
{
	struct httprequest_ctx *c = ctx->state;
	struct lru_node *n;

	if (!c->ready)
		return;
	while ((n = lru_map_oldest(&c->flows))) {
		struct flow *f = LRU_ENTRY(n, struct flow, node);

		flow_clear(NULL, f);
		lru_map_remove(&c->flows, n);
		free(f);
	}
	lru_map_fini(&c->flows);
	c->ready = false;
}

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_option httprequest_options[] = {
	{
		.key = "max_pending_flows",
		.type = NDL_OPT_INT,
		.default_value = "10000",
		.min = 1,
		.max = 10000000,
		.help = "most TCP flows with requests awaiting a response; the least recently active is forgotten first",
	},
	{ .key = NULL },
};

/* ------------------------------------------------------------------------ */
/* Registration                                                              */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_descriptor httprequest_chef = {
	.abi_version = NDL_CHEF_ABI_VERSION,
	.struct_size = sizeof(struct ndl_chef_descriptor),
	.name = "HTTPRequestChef",
	.version = "1.0.0",
	.description = "every HTTP/1.x request, and each response paired with its request",
	.state_size = sizeof(struct httprequest_ctx),
	.options = httprequest_options,
	.init = httprequest_init,
	.on_packet = httprequest_packet,
	.on_interval = NULL,
	.fini = httprequest_fini,
	.flags = NDL_CHEF_F_ANY_THREAD,
};

/*
 * The chef's only exported symbol. Returns the static descriptor above
 * (never NULL, owned by this module). Called once by the kitchen's loader.
 */
NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void);

NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void)
{
	return &httprequest_chef;
}
