/* SPDX-License-Identifier: MIT */
/*
 * FlowChef - bidirectional flows, reported when they end.
 *
 * Packets are grouped by their 5-tuple (IP version, protocol, both
 * addresses and ports) with the two endpoints in a canonical order, so both
 * directions of a conversation land in one flow. TCP (RFC 9293) and UDP
 * (RFC 768) use their ports; ICMP echo request/reply (RFC 792, RFC 4443
 * section 4) use the echo identifier in place of the client's port; every
 * other protocol, and other ICMP messages, use ports 0.
 *
 * The client is the sender of the first packet seen, except that a first
 * TCP SYN+ACK or ICMP echo reply names its receiver the client. Per
 * direction the chef counts packets, bytes on the wire and (TCP) the union
 * of flags, and follows the TCP connection through syn_sent, established,
 * fin_wait, closed and reset.
 *
 * A flow ends, and one dumpling describes it, when it has been idle for
 * idle_timeout seconds, closed_timeout seconds after its last packet once
 * it is closed or reset, when the table holds max_flows flows and a new one
 * needs room (the least recently active is evicted), and optionally at
 * every interval (flush_on_interval). A flow older than active_timeout
 * emits its record and goes on with fresh counters. All times are the
 * kitchen clock (capture time when replaying), so a replay ends flows as
 * live traffic would. Every interval a summary dumpling follows.
 *
 * Expiry costs O(1) amortised per packet: flows sit on three lists kept in
 * time order (all flows by last activity, closed flows by last activity,
 * open records by start), and only the heads are looked at.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <ndl/chef.h>

#include "lrumap.h"

#define NS_PER_SEC 1000000000.0
#define ENDPOINT_LEN 18              /* 16 address bytes, 2 port bytes */
#define KEY_LEN 40                   /* the longest key, see make_key */

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58

enum tcp_state {
	TCP_NONE,                    /* no packet yet (never reported) */
	TCP_SYN_SENT,                /* a SYN without ACK, nothing back */
	TCP_ESTABLISHED,             /* SYN+ACK seen, or picked up mid-stream */
	TCP_FIN_WAIT,                /* one side sent FIN */
	TCP_CLOSED,                  /* both sides sent FIN */
	TCP_RESET,                   /* RST seen */
};

/* A doubly linked list link; both pointers NULL while not on a list. */
struct link {
	struct link *prev;
	struct link *next;
};

/* What one direction of a flow carried in the current record. */
struct direction {
	uint64_t packets;
	uint64_t bytes;              /* wire length, link header included */
	uint8_t tcp_flags;           /* union of the flags seen */
};

/* One flow; taken from c->pool on its first packet, back there when it ends. */
struct flow {
	struct lru_node node;        /* all flows, least recently active first */
	struct link closed;          /* on closed_list while TCP closed or reset */
	struct link record;          /* on record_list while the record has packets */
	uint8_t key[KEY_LEN];
	uint8_t client[ENDPOINT_LEN];
	uint8_t server[ENDPOINT_LEN];
	uint8_t version;             /* 4 or 6 */
	uint8_t proto;               /* IP protocol number */
	bool icmp_echo;              /* keyed by an ICMP echo identifier */
	bool fin[2];                 /* FIN sent client->server, server->client */
	enum tcp_state state;
	struct direction dir[2];     /* client_to_server, server_to_client */
	ndl_time_ns first_ts;        /* capture times of the record */
	ndl_time_ns last_ts;
	ndl_time_ns start_clock;     /* kitchen clock when the record began */
	ndl_time_ns last_clock;      /* kitchen clock at the latest packet */
};

/* The chef's context, in ctx->state (zeroed by the kitchen). */
struct flow_ctx {
	struct lru_map flows;
	struct lru_pool pool;        /* entries of flows */
	struct link closed_list;     /* sentinel; oldest first */
	struct link record_list;     /* sentinel; earliest record start first */
	ndl_time_ns idle_ns;
	ndl_time_ns closed_ns;
	ndl_time_ns active_ns;
	bool flush_on_interval;
	uint64_t started;            /* since the last summary */
	uint64_t ended;
	uint64_t evicted;
	bool ready;                  /* init got as far as making the map */
};

/* The parts of a packet that place it in a flow. */
struct endpoints {
	uint8_t version;
	uint8_t proto;
	const uint8_t *src_ip;       /* the packet's; 4 or 16 bytes by version */
	const uint8_t *dst_ip;
	uint16_t sport;              /* or an echo identifier, else 0 */
	uint16_t dport;
	bool icmp_echo;
	bool reverse;                /* a first packet that names its receiver client */
};

/* ------------------------------------------------------------------------ */
/* Lists                                                                     */
/* ------------------------------------------------------------------------ */

static void list_init(struct link *head)
{
	head->prev = head->next = head;
}

static bool list_empty(const struct link *head)
{
	return head->next == head;
}

static bool linked(const struct link *l)
{
	return l->next != NULL;
}

static void list_unlink(struct link *l)
{
	if (!linked(l))
		return;
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->prev = l->next = NULL;
}

/* Put l at the tail of head's list (moving it there if already on it). */
static void list_append(struct link *head, struct link *l)
{
	list_unlink(l);
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

#define FLOW_OF(link_ptr, member) \
	((struct flow *)(void *)((char *)(link_ptr) - offsetof(struct flow, member)))

/* ------------------------------------------------------------------------ */
/* Classifying packets                                                       */
/* ------------------------------------------------------------------------ */

static void put_endpoint(uint8_t out[ENDPOINT_LEN], const uint8_t ip[16], int version,
			 uint16_t port)
{
	/* Fixed sizes, so no libc call per packet. */
	memcpy(out, ip, 16);
	if (version == 4)
		memset(out + 4, 0, 12);
	out[16] = (uint8_t)(port >> 8);
	out[17] = (uint8_t)port;
}

static uint16_t endpoint_port(const uint8_t ep[ENDPOINT_LEN])
{
	return (uint16_t)(ep[16] << 8 | ep[17]);
}

/*
 * Fill e from pkt. Returns false for packets that belong to no flow: not
 * IP, or TCP/UDP/ICMP whose transport header the kitchen did not decode
 * (a fragment after the first, a truncated header), counted as
 * "unattributed" since their bytes go uncounted.
 */
static bool classify(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt,
		     struct endpoints *e)
{
	uint16_t sport = 0, dport = 0;
	uint32_t need = 0;

	if (pkt->layers & NDL_LAYER_IPV4)
		e->version = 4;
	else if (pkt->layers & NDL_LAYER_IPV6)
		e->version = 6;
	else
		return false;
	e->proto = pkt->ip_proto;
	e->icmp_echo = false;
	e->reverse = false;

	switch (e->proto) {
	case PROTO_TCP:
		need = NDL_LAYER_TCP;
		break;
	case PROTO_UDP:
		need = NDL_LAYER_UDP;
		break;
	case PROTO_ICMP:
		need = e->version == 4 ? NDL_LAYER_ICMP : 0;
		break;
	case PROTO_ICMPV6:
		need = e->version == 6 ? NDL_LAYER_ICMPV6 : 0;
		break;
	default:
		break;
	}
	if (need && !(pkt->layers & need)) {
		ctx->host->count(ctx, "unattributed", 1);
		return false;
	}

	if (need & (NDL_LAYER_TCP | NDL_LAYER_UDP)) {
		sport = pkt->sport;
		dport = pkt->dport;
		/* RFC 9293 3.5: a SYN+ACK answers the SYN of the other side. */
		e->reverse = (need & NDL_LAYER_TCP) &&
			(pkt->tcp_flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK);
	} else if (need & (NDL_LAYER_ICMP | NDL_LAYER_ICMPV6)) {
		/* Echo request 8 / reply 0 (RFC 792); 128 / 129 (RFC 4443 4.1, 4.2). */
		bool v4 = need == NDL_LAYER_ICMP;
		uint8_t request = v4 ? 8 : 128, reply = v4 ? 0 : 129;

		if (pkt->icmp_type == request) {
			sport = pkt->icmp_id;
			e->icmp_echo = true;
		} else if (pkt->icmp_type == reply) {
			dport = pkt->icmp_id;
			e->icmp_echo = true;
			e->reverse = true;
		}
	}
	e->src_ip = pkt->src_ip;
	e->dst_ip = pkt->dst_ip;
	e->sport = sport;
	e->dport = dport;
	return true;
}

/* Bytes of an address of IP version version. */
static size_t addr_len(uint8_t version)
{
	return version == 4 ? 4 : 16;
}

/* Whether e's source sorts at or before its destination: address bytes,
 * then port. A loop: a libc call per packet showed. */
static bool src_not_above(const struct endpoints *e)
{
	size_t n = addr_len(e->version);

	for (size_t i = 0; i < n; i++)
		if (e->src_ip[i] != e->dst_ip[i])
			return e->src_ip[i] < e->dst_ip[i];
	return e->sport <= e->dport;
}

/* Whether endpoint ep (as put_endpoint wrote it) is e's source. */
static bool is_source(const uint8_t ep[ENDPOINT_LEN], const struct endpoints *e)
{
	return memcmp(ep, e->src_ip, addr_len(e->version)) == 0 && endpoint_port(ep) == e->sport;
}

/*
 * The canonical key, the same for both directions; returns its length. A
 * word of version, protocol and the ports (the lower endpoint's first),
 * then the addresses, the lower endpoint's first: one word for both IPv4
 * addresses, four for IPv6 (16 or 40 bytes: the shorter key is the
 * cheaper hash). Put together in words and stored a word at a time: the
 * hash reads it word by word at once, and a word written in smaller
 * pieces makes that load wait until the pieces reach the cache (profiles
 * showed it). The words are the host's: a key never leaves the process.
 */
static size_t make_key(const struct endpoints *e, uint8_t key[KEY_LEN])
{
	bool src_low = src_not_above(e);
	const uint8_t *lo = src_low ? e->src_ip : e->dst_ip, *hi = src_low ? e->dst_ip : e->src_ip;
	uint64_t w[KEY_LEN / 8];
	size_t n;

	w[0] = (uint64_t)e->version | (uint64_t)e->proto << 8 |
	       (uint64_t)(src_low ? e->sport : e->dport) << 16 |
	       (uint64_t)(src_low ? e->dport : e->sport) << 32;
	if (e->version == 4) {
		uint32_t a, b;

		memcpy(&a, lo, sizeof(a));
		memcpy(&b, hi, sizeof(b));
		w[1] = (uint64_t)a | (uint64_t)b << 32;
		n = 2;
	} else {
		memcpy(w + 1, lo, 16);
		memcpy(w + 3, hi, 16);
		n = 5;
	}
	for (size_t i = 0; i < n; i++)
		memcpy(key + 8 * i, &w[i], 8);
	return 8 * n;
}

/* ------------------------------------------------------------------------ */
/* Reporting                                                                 */
/* ------------------------------------------------------------------------ */

static const char *proto_name(uint8_t proto, char buf[4])
{
	switch (proto) {
	case PROTO_ICMP: return "icmp";
	case 2: return "igmp";
	case PROTO_TCP: return "tcp";
	case PROTO_UDP: return "udp";
	case 47: return "gre";
	case 50: return "esp";
	case 51: return "ah";
	case PROTO_ICMPV6: return "icmpv6";
	case 89: return "ospf";
	case 132: return "sctp";
	default:
		break;
	}
	/* Any other protocol as its decimal number, still a string. */
	buf[0] = (char)('0' + proto / 100);
	buf[1] = (char)('0' + proto / 10 % 10);
	buf[2] = (char)('0' + proto % 10);
	buf[3] = '\0';
	if (proto >= 100)
		return buf;
	return proto >= 10 ? buf + 1 : buf + 2;
}

static const char *state_name(enum tcp_state s)
{
	switch (s) {
	case TCP_SYN_SENT: return "syn_sent";
	case TCP_ESTABLISHED: return "established";
	case TCP_FIN_WAIT: return "fin_wait";
	case TCP_CLOSED: return "closed";
	case TCP_RESET: return "reset";
	case TCP_NONE:
	default:
		return "none";
	}
}

/* How a flow ends when its time is up: its TCP ending, else the timer's. */
static const char *end_reason(const struct flow *f, const char *otherwise)
{
	if (f->state == TCP_CLOSED)
		return "fin";
	if (f->state == TCP_RESET)
		return "rst";
	return otherwise;
}

static void write_endpoint(struct ndl_jw *w, const struct flow *f,
			   const uint8_t ep[ENDPOINT_LEN])
{
	ndl_jw_begin_object(w);
	ndl_jw_key(w, "ip");
	ndl_jw_ip(w, f->version, ep);
	ndl_jw_key(w, "port");
	ndl_jw_uint(w, f->icmp_echo ? 0 : endpoint_port(ep));
	ndl_jw_end_object(w);
}

static void write_direction(struct ndl_jw *w, const struct flow *f, const struct direction *d)
{
	/* Flag letters in bit order: FIN SYN RST PSH ACK URG ECE CWR. */
	static const char letters[8] = { 'F', 'S', 'R', 'P', 'A', 'U', 'E', 'C' };
	char flags[8];
	size_t n = 0;

	ndl_jw_begin_object(w);
	ndl_jw_key(w, "packets");
	ndl_jw_uint(w, d->packets);
	ndl_jw_key(w, "bytes");
	ndl_jw_uint(w, d->bytes);
	if (f->proto == PROTO_TCP) {
		for (unsigned int i = 0; i < 8; i++)
			if (d->tcp_flags & (1u << i))
				flags[n++] = letters[i];
		ndl_jw_key(w, "tcp_flags");
		ndl_jw_string_n(w, flags, n);
	}
	ndl_jw_end_object(w);
}

/* Emit f's current record, ended for reason, as a dumpling of driver. */
static void emit_record(struct ndl_chef_ctx *ctx, const struct flow *f, const char *reason,
			enum ndl_driver driver)
{
	struct ndl_jw *w = ctx->host->emit_begin(ctx, driver);
	char buf[4];

	if (!w)
		return;
	ndl_jw_begin_object(w);
	ndl_jw_key(w, "proto");
	ndl_jw_string(w, proto_name(f->proto, buf));
	ndl_jw_key(w, "client");
	write_endpoint(w, f, f->client);
	ndl_jw_key(w, "server");
	write_endpoint(w, f, f->server);
	if (f->icmp_echo) {
		ndl_jw_key(w, "icmp_id");
		ndl_jw_uint(w, endpoint_port(f->client));
	}
	ndl_jw_key(w, "start");
	ndl_jw_time(w, f->first_ts);
	ndl_jw_key(w, "end");
	ndl_jw_time(w, f->last_ts);
	/* The difference of the two times as written (whole microseconds). */
	ndl_jw_key(w, "duration");
	ndl_jw_time(w, (f->last_ts / 1000 - f->first_ts / 1000) * 1000);
	ndl_jw_key(w, "client_to_server");
	write_direction(w, f, &f->dir[0]);
	ndl_jw_key(w, "server_to_client");
	write_direction(w, f, &f->dir[1]);
	if (f->proto == PROTO_TCP) {
		ndl_jw_key(w, "tcp_state");
		ndl_jw_string(w, state_name(f->state));
	}
	ndl_jw_key(w, "end_reason");
	ndl_jw_string(w, reason);
	ndl_jw_end_object(w);
	ctx->host->emit_end(ctx, w);
}

static bool record_empty(const struct flow *f)
{
	return f->dir[0].packets == 0 && f->dir[1].packets == 0;
}

/* Report the record and start an empty one (active timeout). */
static void cut_record(struct ndl_chef_ctx *ctx, struct flow *f, enum ndl_driver driver)
{
	emit_record(ctx, f, "active", driver);
	memset(f->dir, 0, sizeof(f->dir));
	list_unlink(&f->record);
}

/*
 * End f: report its record (none when active_timeout has just cut it and
 * no packet came since), take it off every list and give it back.
 */
static void end_flow(struct ndl_chef_ctx *ctx, struct flow_ctx *c, struct flow *f,
		     const char *reason, enum ndl_driver driver)
{
	if (!record_empty(f))
		emit_record(ctx, f, reason, driver);
	lru_map_remove(&c->flows, &f->node);
	list_unlink(&f->closed);
	list_unlink(&f->record);
	lru_pool_put(&c->pool, f);
	c->ended++;
}

/*
 * End or cut every flow whose time is up at kitchen time now. Each list is
 * in time order, so only heads are examined: O(1) per flow ended.
 */
static void expire(struct ndl_chef_ctx *ctx, struct flow_ctx *c, ndl_time_ns now,
		   enum ndl_driver driver)
{
	struct lru_node *n;

	while ((n = lru_map_oldest(&c->flows)) != NULL) {
		struct flow *f = LRU_ENTRY(n, struct flow, node);

		if (now - f->last_clock < c->idle_ns)
			break;
		end_flow(ctx, c, f, end_reason(f, "idle"), driver);
	}
	while (!list_empty(&c->closed_list)) {
		struct flow *f = FLOW_OF(c->closed_list.next, closed);

		if (now - f->last_clock < c->closed_ns)
			break;
		end_flow(ctx, c, f, end_reason(f, "idle"), driver);
	}
	while (!list_empty(&c->record_list)) {
		struct flow *f = FLOW_OF(c->record_list.next, record);

		if (now - f->start_clock < c->active_ns)
			break;
		cut_record(ctx, f, driver);
	}
}

/* ------------------------------------------------------------------------ */
/* Following flows                                                           */
/* ------------------------------------------------------------------------ */

/* Advance f's TCP state for a segment with flags sent in direction d. */
static void tcp_track(struct flow_ctx *c, struct flow *f, int d, uint8_t flags)
{
	if (flags & TCP_RST) {
		if (f->state != TCP_CLOSED)
			f->state = TCP_RESET;
	} else if (f->state != TCP_CLOSED && f->state != TCP_RESET) {
		if ((flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
			if (f->state == TCP_NONE)
				f->state = TCP_SYN_SENT;
		} else if (flags & TCP_SYN) {
			if (f->state == TCP_NONE || f->state == TCP_SYN_SENT)
				f->state = TCP_ESTABLISHED;
		} else if (f->state == TCP_NONE ||
			   (f->state == TCP_SYN_SENT && (flags & TCP_ACK))) {
			/* mid-stream, or the SYN+ACK went by unseen */
			f->state = TCP_ESTABLISHED;
		}
		if (flags & TCP_FIN) {
			f->fin[d] = true;
			f->state = (f->fin[0] && f->fin[1]) ? TCP_CLOSED : TCP_FIN_WAIT;
		}
	}
	/* Closed flows linger closed_timeout after their latest packet. */
	if (f->state == TCP_CLOSED || f->state == TCP_RESET)
		list_append(&c->closed_list, &f->closed);
}

/* A new flow for e's packet, making room first. NULL when out of memory. */
static struct flow *new_flow(struct ndl_chef_ctx *ctx, struct flow_ctx *c,
			     const struct endpoints *e, const uint8_t *key, size_t klen,
			     uint64_t hash)
{
	struct flow *f;

	if (lru_map_full(&c->flows)) {
		struct flow *old = LRU_ENTRY(lru_map_oldest(&c->flows), struct flow, node);

		end_flow(ctx, c, old, "evicted", NDL_DRIVER_PACKET);
		c->evicted++;
		ctx->host->count(ctx, "evictions", 1);
	}
	f = lru_pool_get(&c->pool);
	if (!f) {
		ctx->host->count(ctx, "alloc_failures", 1);
		ctx->host->log(ctx, NDL_LOG_WARN, "out of memory: a new flow is not followed");
		return NULL;
	}
	memset(f, 0, sizeof(*f));
	memcpy(f->key, key, klen);
	if (e->reverse) {
		put_endpoint(f->client, e->dst_ip, e->version, e->dport);
		put_endpoint(f->server, e->src_ip, e->version, e->sport);
	} else {
		put_endpoint(f->client, e->src_ip, e->version, e->sport);
		put_endpoint(f->server, e->dst_ip, e->version, e->dport);
	}
	f->version = e->version;
	f->proto = e->proto;
	f->icmp_echo = e->icmp_echo;
	f->node.key = f->key;
	f->node.keylen = klen;
	f->node.hash = hash;
	lru_map_insert(&c->flows, &f->node);
	c->started++;
	return f;
}

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                 */
/* ------------------------------------------------------------------------ */

static ndl_time_ns seconds_ns(double s)
{
	return (ndl_time_ns)(s * NS_PER_SEC + 0.5);
}

static int flow_init(struct ndl_chef_ctx *ctx)
{
	struct flow_ctx *c = ctx->state;
	size_t max_flows = (size_t)ctx->host->config_int(ctx, "max_flows");
	int err;

	list_init(&c->closed_list);
	list_init(&c->record_list);
	c->idle_ns = seconds_ns(ctx->host->config_double(ctx, "idle_timeout"));
	c->closed_ns = seconds_ns(ctx->host->config_double(ctx, "closed_timeout"));
	c->active_ns = seconds_ns(ctx->host->config_double(ctx, "active_timeout"));
	c->flush_on_interval = ctx->host->config_bool(ctx, "flush_on_interval");
	err = lru_map_init(&c->flows, max_flows);
	if (err < 0)
		return err;
	lru_pool_init(&c->pool, sizeof(struct flow), max_flows);
	c->ready = true;
	return 0;
}

static void flow_packet(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt)
{
	struct flow_ctx *c = ctx->state;
	ndl_time_ns now = ctx->host->now(ctx);
	struct endpoints e;
	uint8_t key[KEY_LEN];
	size_t klen = 0;
	struct lru_node *n;
	struct flow *f = NULL;
	uint64_t hash = 0;
	int d;
	bool ours = classify(ctx, pkt, &e);

	if (ours) {
		klen = make_key(&e, key);
		hash = lru_hash(&c->flows, key, klen);
		lru_map_prefetch(&c->flows, hash);   /* loads while expire() looks */
	}
	expire(ctx, c, now, NDL_DRIVER_PACKET);
	if (!ours)
		return;
	n = lru_map_find(&c->flows, key, klen, hash);
	if (n) {
		f = LRU_ENTRY(n, struct flow, node);
		if (f->proto == PROTO_TCP && (f->state == TCP_CLOSED || f->state == TCP_RESET) &&
		    (pkt->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
			/* A new connection reusing the ports of one that ended. */
			end_flow(ctx, c, f, end_reason(f, "idle"), NDL_DRIVER_PACKET);
			f = NULL;
		}
	}
	if (!f) {
		f = new_flow(ctx, c, &e, key, klen, hash);
		if (!f)
			return;
	}

	d = is_source(f->client, &e) ? 0 : 1;
	if (record_empty(f)) {
		f->first_ts = f->last_ts = pkt->ts;
		f->start_clock = now;
		list_append(&c->record_list, &f->record);
	} else if (pkt->ts < f->first_ts) {
		f->first_ts = pkt->ts;
	} else if (pkt->ts > f->last_ts) {
		f->last_ts = pkt->ts;
	}
	f->dir[d].packets++;
	f->dir[d].bytes += pkt->wirelen;
	f->last_clock = now;
	lru_map_touch(&c->flows, &f->node);
	if (f->proto == PROTO_TCP) {
		f->dir[d].tcp_flags |= pkt->tcp_flags;
		tcp_track(c, f, d, pkt->tcp_flags);
	}
}

static void flow_interval(struct ndl_chef_ctx *ctx)
{
	struct flow_ctx *c = ctx->state;
	struct lru_node *n;
	struct ndl_jw *w;

	expire(ctx, c, ctx->host->now(ctx), NDL_DRIVER_INTERVAL);
	if (c->flush_on_interval) {
		while ((n = lru_map_oldest(&c->flows)) != NULL) {
			struct flow *f = LRU_ENTRY(n, struct flow, node);

			end_flow(ctx, c, f, end_reason(f, "flush"), NDL_DRIVER_INTERVAL);
		}
	}

	w = ctx->host->emit_begin(ctx, NDL_DRIVER_INTERVAL);
	if (w) {
		ndl_jw_begin_object(w);
		ndl_jw_key(w, "active_flows");
		ndl_jw_uint(w, c->flows.n);
		ndl_jw_key(w, "flows_started");
		ndl_jw_uint(w, c->started);
		ndl_jw_key(w, "flows_ended");
		ndl_jw_uint(w, c->ended);
		ndl_jw_key(w, "evictions");
		ndl_jw_uint(w, c->evicted);
		ndl_jw_end_object(w);
		ctx->host->emit_end(ctx, w);
	}
	c->started = c->ended = c->evicted = 0;
}

static void flow_fini(struct ndl_chef_ctx *ctx)
{
	struct flow_ctx *c = ctx->state;

	if (!c->ready)
		return;
	lru_map_fini(&c->flows);
	lru_pool_fini(&c->pool);      /* every flow's memory */
	c->ready = false;
}

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_option flow_options[] = {
	{
		.key = "idle_timeout",
		.type = NDL_OPT_DOUBLE,
		.default_value = "60",
		.min = 0.001,
		.max = 604800,
		.help = "seconds without a packet after which a flow ends (end_reason idle)",
	},
	{
		.key = "closed_timeout",
		.type = NDL_OPT_DOUBLE,
		.default_value = "5",
		.min = 0,
		.max = 604800,
		.help = "seconds a closed or reset TCP flow lingers after its last packet",
	},
	{
		.key = "active_timeout",
		.type = NDL_OPT_DOUBLE,
		.default_value = "1800",
		.min = 0.001,
		.max = 2592000,
		.help = "seconds after which a long flow reports (end_reason active) and goes on",
	},
	{
		.key = "max_flows",
		.type = NDL_OPT_INT,
		.default_value = "100000",
		.min = 1,
		.max = 10000000,
		.help = "most flows followed; the least recently active is evicted first",
	},
	{
		.key = "flush_on_interval",
		.type = NDL_OPT_BOOL,
		.default_value = "false",
		.min = 0,
		.max = -1,
		.help = "end every flow at every interval (end_reason flush), e.g. at the end of a replay",
	},
	{ .key = NULL },
};

/* ------------------------------------------------------------------------ */
/* Registration                                                              */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_descriptor flow_chef = {
	.abi_version = NDL_CHEF_ABI_VERSION,
	.struct_size = sizeof(struct ndl_chef_descriptor),
	.name = "FlowChef",
	.version = "1.0.0",
	.description = "bidirectional IP flows with TCP state, reported when they end",
	.state_size = sizeof(struct flow_ctx),
	.options = flow_options,
	.init = flow_init,
	.on_packet = flow_packet,
	.on_interval = flow_interval,
	.fini = flow_fini,
	.flags = NDL_CHEF_F_ANY_THREAD,
};

/*
 * The chef's only exported symbol. Returns the static descriptor above
 * (never NULL, owned by this module). Called once by the kitchen's loader.
 */
NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void);

NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void)
{
	return &flow_chef;
}
