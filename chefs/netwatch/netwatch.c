/* SPDX-License-Identifier: MIT */
/*
 * NetwatchChef - who starts talking to whom, with the names DNS gave them.
 *
 * For the first packet of a conversation not seen before - an IP protocol
 * and two endpoints (address and, for TCP and UDP, port), in either
 * direction - it emits one packet dumpling:
 *
 *   {"time": 1795322030.150690, "proto": "TCP",
 *    "src": {"ip": "10.0.0.9", "port": 51000, "name": null, "tag": "internal"},
 *    "dst": {"ip": "93.184.216.34", "port": 443, "name": "example.com", "tag": "external"},
 *    "direction": "outgoing",
 *    "summary": "TCP 10.0.0.9:51000(internal) --> 93.184.216.34:443(example.com)"}
 *
 * Names are learned passively from DNS answers crossing the wire (RFC 1035
 * A, RFC 3596 AAAA; the kitchen parses the message): an address gets the
 * first name of the CNAME chain that led to it, normally the name that
 * was asked for. The chef never sends a query of its own.
 *
 * Tags come from option local_networks (CIDR prefixes, RFC 4632 and RFC
 * 4291 2.3): loopback (127.0.0.0/8, ::1), multicast (224.0.0.0/4, RFC 5771;
 * ff00::/8, RFC 4291 2.7), broadcast (255.255.255.255, RFC 919, or an
 * Ethernet broadcast destination), internal (a local network, or the
 * unspecified address of a host still without one), else external.
 *
 * Both tables are bounded, with the least recently used entry evicted
 * first (counted under "evictions"); a conversation idle for longer than
 * option idle is forgotten (counted under "expired") and reported again
 * when it comes back.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <ndl/chef.h>
#include <ndl/names.h>

#include "dnsnames.h"
#include "lrumap.h"

#define MAX_NETWORKS 64
#define NS_PER_S 1000000000LL

/* Conversation key: version, protocol, then the lower and the higher
 * endpoint (4 or 16 address bytes, 2 port bytes), so both directions
 * match. The longest, an IPv6 key: */
#define CONV_KEY_LEN (2 + 2 * 18)
/* Name key: version, then 4 or 16 address bytes. The longest: */
#define NAME_KEY_LEN 17
/* Names shorter than this live in their entry; longer ones (rare) get
 * their own allocation. */
#define NAME_SHORT 64

enum tag {
	TAG_INTERNAL,
	TAG_EXTERNAL,
	TAG_MULTICAST,
	TAG_BROADCAST,
	TAG_LOOPBACK,
};

static const char *const tag_names[] = {
	[TAG_INTERNAL] = "internal",
	[TAG_EXTERNAL] = "external",
	[TAG_MULTICAST] = "multicast",
	[TAG_BROADCAST] = "broadcast",
	[TAG_LOOPBACK] = "loopback",
};

struct network {
	uint8_t version;             /* 4 or 6 */
	uint8_t prefix;              /* bits */
	uint8_t addr[16];            /* host bits cleared */
};

/* A conversation seen lately; from c->conv_pool, back there when evicted,
 * expired or at fini. */
struct conv {
	struct lru_node node;        /* keyed by key[] */
	ndl_time_ns last;            /* capture time of its latest packet */
	uint8_t key[CONV_KEY_LEN];
};

/* A name learned for an address, from c->name_pool; replaced whole when
 * the name changes. */
struct name {
	struct lru_node node;        /* keyed by key[] */
	uint8_t key[NAME_KEY_LEN];
	size_t len;
	char *text;                  /* NUL-terminated: short_text, or owned */
	char short_text[NAME_SHORT];
};

/* The chef's context, in ctx->state (zeroed by the kitchen). */
struct netwatch_ctx {
	struct lru_map convs;
	struct lru_map names;
	struct lru_pool conv_pool;   /* entries of convs */
	struct lru_pool name_pool;   /* entries of names */
	bool convs_ready, names_ready;
	ndl_time_ns idle_ns;
	struct network nets[MAX_NETWORKS];
	size_t n_nets;
};

/* One side of a packet, as written. */
struct endpoint {
	int version;
	const uint8_t *ip;
	bool has_port;
	uint16_t port;
	enum tag tag;
	const struct name *name;     /* NULL when unknown */
};

/* ------------------------------------------------------------------------ */
/* Local networks                                                            */
/* ------------------------------------------------------------------------ */

static void clear_host_bits(uint8_t *addr, unsigned int prefix, size_t bytes)
{
	for (size_t i = 0; i < bytes; i++) {
		unsigned int bit = (unsigned int)i * 8;

		if (bit >= prefix)
			addr[i] = 0;
		else if (prefix - bit < 8)
			addr[i] &= (uint8_t)(0xff << (8 - (prefix - bit)));
	}
}

/*
 * Parse "ADDRESS/PREFIX" (or a bare address, a single host) from
 * text[0..len) into *net. Returns 0, or -EINVAL with why set.
 */
static int parse_network(const char *text, size_t len, struct network *net, const char **why)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	long prefix;
	unsigned int max;

	if (len == 0) {
		*why = "empty entry";
		return -EINVAL;
	}
	if (len >= sizeof(buf)) {
		*why = "too long for an address and prefix";
		return -EINVAL;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, buf, net->addr) == 1) {
		net->version = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, net->addr) == 1) {
		net->version = 6;
		max = 128;
	} else {
		*why = "not an IPv4 or IPv6 address";
		return -EINVAL;
	}
	if (!slash) {
		net->prefix = (uint8_t)max;
		return 0;
	}
	errno = 0;
	prefix = strtol(slash + 1, &end, 10);
	if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || errno || prefix < 0 ||
	    prefix > (long)max) {
		*why = net->version == 4 ? "prefix length must be 0 to 32"
					 : "prefix length must be 0 to 128";
		return -EINVAL;
	}
	net->prefix = (uint8_t)prefix;
	clear_host_bits(net->addr, net->prefix, net->version == 4 ? 4 : 16);
	return 0;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Parse the comma-separated list into c->nets; logs and returns -EINVAL on error. */
static int parse_networks(struct ndl_chef_ctx *ctx, struct netwatch_ctx *c, const char *list)
{
	const char *p = list ? list : "";

	c->n_nets = 0;
	while (is_space(*p))
		p++;
	if (*p == '\0')
		return 0;              /* no local networks: everything is external */
	for (;;) {
		const char *end = strchr(p, ','), *why = NULL;
		size_t len = end ? (size_t)(end - p) : strlen(p);
		size_t start = 0;

		while (start < len && is_space(p[start]))
			start++;
		while (len > start && is_space(p[len - 1]))
			len--;
		if (c->n_nets >= MAX_NETWORKS) {
			ctx->host->log(ctx, NDL_LOG_ERROR,
				       "local_networks: more than %d networks", MAX_NETWORKS);
			return -EINVAL;
		}
		if (parse_network(p + start, len - start, &c->nets[c->n_nets], &why) < 0) {
			ctx->host->log(ctx, NDL_LOG_ERROR,
				       "local_networks: bad CIDR \"%.*s\": %s (expected e.g. 10.0.0.0/8 or fc00::/7)",
				       (int)(len - start), p + start, why);
			return -EINVAL;
		}
		c->n_nets++;
		if (!end)
			return 0;
		p = end + 1;
	}
}

static bool in_network(const struct network *net, int version, const uint8_t *ip)
{
	unsigned int full = net->prefix / 8, rest = net->prefix % 8;

	if (net->version != version)
		return false;
	for (unsigned int i = 0; i < full; i++)   /* a few bytes: no libc call */
		if (net->addr[i] != ip[i])
			return false;
	return rest == 0 || ((ip[full] ^ net->addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static enum tag tag_of(const struct netwatch_ctx *c, int version, const uint8_t *ip,
		       bool eth_broadcast)
{
	static const uint8_t v6_loopback[16] = { [15] = 1 };
	static const uint8_t v4_broadcast[4] = { 255, 255, 255, 255 };

	if (version == 4) {
		if (ip[0] == 127)
			return TAG_LOOPBACK;
		if ((ip[0] & 0xf0) == 224)
			return TAG_MULTICAST;
		if (memcmp(ip, v4_broadcast, 4) == 0 || eth_broadcast)
			return TAG_BROADCAST;
		if (all_zero(ip, 4))
			return TAG_INTERNAL;
	} else {
		if (memcmp(ip, v6_loopback, 16) == 0)
			return TAG_LOOPBACK;
		if (ip[0] == 0xff)
			return TAG_MULTICAST;
		if (all_zero(ip, 16))
			return TAG_INTERNAL;
	}
	for (size_t i = 0; i < c->n_nets; i++)
		if (in_network(&c->nets[i], version, ip))
			return TAG_INTERNAL;
	return TAG_EXTERNAL;
}

static const char *direction_of(enum tag src, enum tag dst)
{
	bool src_in = src == TAG_INTERNAL || src == TAG_LOOPBACK;
	bool dst_in = dst == TAG_INTERNAL || dst == TAG_LOOPBACK;

	if (dst == TAG_MULTICAST)
		return "multicast";
	if (dst == TAG_BROADCAST)
		return "broadcast";
	if (src_in && dst_in)
		return "internal";
	if (src_in && dst == TAG_EXTERNAL)
		return "outgoing";
	if (src == TAG_EXTERNAL && dst_in)
		return "incoming";
	return "external";
}

/* ------------------------------------------------------------------------ */
/* Names learned from DNS                                                    */
/* ------------------------------------------------------------------------ */

/* The key of an address's name; returns its length (5 bytes for IPv4,
 * 17 for IPv6). No memset first: the hash reads the key right away, and
 * its word loads over a memset and the pieces written after it waited for
 * those stores to reach the cache (profiles showed it). Five bytes are
 * read one at a time, each from the one store that wrote it. */
static size_t name_key(uint8_t key[NAME_KEY_LEN], int version, const uint8_t *ip)
{
	size_t alen = version == 4 ? 4 : 16;

	key[0] = (uint8_t)version;
	memcpy(key + 1, ip, alen);
	return 1 + alen;
}

/* The names of both ends (NULL when unknown); both lookups overlap. */
static void find_names(struct netwatch_ctx *c, struct endpoint *src, struct endpoint *dst)
{
	struct endpoint *e[2] = { src, dst };
	uint8_t key[2][NAME_KEY_LEN];
	size_t klen[2];
	uint64_t hash[2];
	struct lru_node *n;

	for (int i = 0; i < 2; i++) {
		klen[i] = name_key(key[i], e[i]->version, e[i]->ip);
		hash[i] = lru_hash(&c->names, key[i], klen[i]);
		lru_map_prefetch(&c->names, hash[i]);
	}
	for (int i = 0; i < 2; i++) {
		n = lru_map_find(&c->names, key[i], klen[i], hash[i]);
		e[i]->name = n ? LRU_ENTRY(n, struct name, node) : NULL;
		if (n)
			lru_map_touch(&c->names, n);
	}
}

/* Unlink e from c->names and give its memory back. */
static void drop_name(struct netwatch_ctx *c, struct name *e)
{
	lru_map_remove(&c->names, &e->node);
	if (e->text != e->short_text)
		free(e->text);
	lru_pool_put(&c->name_pool, e);
}

static void drop_conv(struct netwatch_ctx *c, struct conv *cv)
{
	lru_map_remove(&c->convs, &cv->node);
	lru_pool_put(&c->conv_pool, cv);
}

static void count_eviction(struct ndl_chef_ctx *ctx, const char *which)
{
	ctx->host->count(ctx, "evictions", 1);
	ctx->host->count(ctx, which, 1);
}

/* Remember that ip (of version) is called text[0..len). */
static void learn_name(struct ndl_chef_ctx *ctx, struct netwatch_ctx *c, int version,
		       const uint8_t *ip, const char *text, size_t len)
{
	uint8_t key[NAME_KEY_LEN];
	size_t klen = name_key(key, version, ip);
	uint64_t hash = lru_hash(&c->names, key, klen);
	struct lru_node *n = lru_map_find(&c->names, key, klen, hash);
	struct name *e;

	if (n) {
		e = LRU_ENTRY(n, struct name, node);
		if (e->len == len && memcmp(e->text, text, len) == 0) {
			lru_map_touch(&c->names, n);
			return;
		}
		drop_name(c, e);
	} else if (lru_map_full(&c->names)) {
		drop_name(c, LRU_ENTRY(lru_map_oldest(&c->names), struct name, node));
		count_eviction(ctx, "name_evictions");
	}
	e = lru_pool_get(&c->name_pool);
	if (e) {
		e->text = e->short_text;
		if (len >= sizeof(e->short_text)) {
			e->text = malloc(len + 1);
			if (!e->text) {
				lru_pool_put(&c->name_pool, e);
				e = NULL;
			}
		}
	}
	if (!e) {
		ctx->host->count(ctx, "alloc_failures", 1);
		return;
	}
	memcpy(e->key, key, klen);
	memcpy(e->text, text, len);
	e->text[len] = '\0';
	e->len = len;
	e->node.key = e->key;
	e->node.keylen = klen;
	e->node.hash = hash;
	lru_map_insert(&c->names, &e->node);
	ctx->host->count(ctx, "names_learned", 1);
}

/*
 * The first name of the CNAME chain in dns's answers that ends at owner
 * (RFC 1034 3.6.2): the name the client asked for. Bounded by the number
 * of answers, so a CNAME loop ends.
 */
static const char *chain_start(const struct ndl_dns *dns, const char *owner)
{
	unsigned int n = dns->n_answers < NDL_DNS_MAX_RRS ? dns->n_answers : NDL_DNS_MAX_RRS;

	for (unsigned int step = 0; step < n; step++) {
		size_t olen = strnlen(owner, NDL_DNS_NAME_MAX);
		bool found = false;

		for (unsigned int j = 0; j < n; j++) {
			const struct ndl_dns_rr *rr = &dns->answers[j];

			if (rr->type == 5 &&
			    dns_name_equal(rr->data, strnlen(rr->data, NDL_DNS_DATA_MAX),
					   owner, olen) &&
			    rr->name != owner) {
				owner = rr->name;
				found = true;
				break;
			}
		}
		if (!found)
			break;
	}
	return owner;
}

/*
 * False when pkt's payload, if DNS, is a query: its header's QR bit (RFC
 * 1035 4.1.1) is clear, at the start of a UDP payload or after the two
 * length bytes over TCP (RFC 1035 4.2.2). Queries teach no names, and they
 * are half of DNS: their parse is skipped (unless another chef on the
 * same thread asks for it anyway). A payload too short to tell is parsed.
 */
static bool may_be_response(const struct ndl_packet *pkt)
{
	uint32_t flags_at = (pkt->layers & NDL_LAYER_TCP) ? 4 : 2;

	if (!pkt->payload_len)
		return false;
	return pkt->payload_len <= flags_at || (pkt->payload[flags_at] & 0x80);
}

/* Learn from the A and AAAA answers of a DNS response. */
static void learn_from_dns(struct ndl_chef_ctx *ctx, struct netwatch_ctx *c,
			   const struct ndl_dns *dns, bool mdns)
{
	unsigned int n = dns->n_answers < NDL_DNS_MAX_RRS ? dns->n_answers : NDL_DNS_MAX_RRS;

	if (!dns->qr)
		return;
	for (unsigned int i = 0; i < n; i++) {
		const struct ndl_dns_rr *rr = &dns->answers[i];
		uint16_t rclass = mdns ? (uint16_t)(rr->rclass & 0x7fff) : rr->rclass;
		const char *who;
		int version;

		if (rclass != 1 || !rr->rdata)
			continue;
		if (rr->type == 1 && rr->rdlength == 4)
			version = 4;
		else if (rr->type == 28 && rr->rdlength == 16)
			version = 6;
		else
			continue;
		who = chain_start(dns, rr->name);
		if (who[0] == '\0')
			continue;          /* the root is nobody's name */
		learn_name(ctx, c, version, rr->rdata, who, strnlen(who, NDL_DNS_NAME_MAX - 1));
	}
}

/* ------------------------------------------------------------------------ */
/* Conversations                                                             */
/* ------------------------------------------------------------------------ */

/* memcmp's order of two endpoints of n bytes; a loop, as a libc call per
 * packet showed. */
static int endpoint_order(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* Address (alen bytes) then port, most significant byte first, at out;
 * returns the end. */
static uint8_t *put_endpoint(uint8_t *out, const uint8_t *ip, size_t alen, uint16_t port)
{
	memcpy(out, ip, alen);
	out[alen] = (uint8_t)(port >> 8);
	out[alen + 1] = (uint8_t)port;
	return out + alen + 2;
}

/*
 * pkt's conversation key; returns its length: 14 bytes for IPv4, 38 for
 * IPv6 (the shorter key is the cheaper hash). Ports are zero without
 * ports. The endpoint that sorts first (address, then port) goes first.
 * An IPv4 key is put together in two words and stored a word at a time,
 * so that the hash, which reads it a word at a time right away, finds each
 * word in one store instead of waiting for many small ones to reach the
 * cache.
 */
static size_t conv_key(uint8_t key[CONV_KEY_LEN], const struct ndl_packet *pkt, bool ports)
{
	size_t alen = pkt->ip_version == 4 ? 4 : 16;
	uint16_t sport = ports ? pkt->sport : 0, dport = ports ? pkt->dport : 0;
	int order = endpoint_order(pkt->src_ip, pkt->dst_ip, alen);
	bool src_first = order < 0 || (order == 0 && sport <= dport);
	const uint8_t *ip_lo = src_first ? pkt->src_ip : pkt->dst_ip;
	const uint8_t *ip_hi = src_first ? pkt->dst_ip : pkt->src_ip;
	uint16_t port_lo = src_first ? sport : dport, port_hi = src_first ? dport : sport;
	uint8_t *o = key;

	if (alen == 4) {
		/* bytes 0-7: version, protocol, the first address, its port;
		 * bytes 8-13: the second address, its port (as lru_load_le
		 * reads them: byte i of a word is bits 8i to 8i+7) */
		uint64_t w0, w1;

		w0 = (uint64_t)pkt->ip_version | (uint64_t)pkt->ip_proto << 8 |
		     lru_load_le(ip_lo, 4) << 16 | (uint64_t)(port_lo >> 8) << 48 |
		     (uint64_t)(port_lo & 0xff) << 56;
		w1 = lru_load_le(ip_hi, 4) | (uint64_t)(port_hi >> 8) << 32 |
		     (uint64_t)(port_hi & 0xff) << 40;
		w0 = htole64(w0);   /* little-endian bytes, whatever the host */
		w1 = htole64(w1);
		memcpy(key, &w0, 8);
		memcpy(key + 8, &w1, 6);
		return 14;
	}
	*o++ = pkt->ip_version;
	*o++ = pkt->ip_proto;
	o = put_endpoint(o, ip_lo, alen, port_lo);
	o = put_endpoint(o, ip_hi, alen, port_hi);
	return (size_t)(o - key);
}

/* Forget conversations idle for longer than the idle option at time now. */
static void expire(struct ndl_chef_ctx *ctx, struct netwatch_ctx *c, ndl_time_ns now)
{
	struct lru_node *old;

	while ((old = lru_map_oldest(&c->convs)) != NULL) {
		struct conv *cv = LRU_ENTRY(old, struct conv, node);

		if (now - cv->last <= c->idle_ns)
			return;
		drop_conv(c, cv);
		ctx->host->count(ctx, "expired", 1);
	}
}

/* True when pkt starts a conversation not seen (or forgotten); records it. */
static bool is_new_conversation(struct ndl_chef_ctx *ctx, struct netwatch_ctx *c,
				const struct ndl_packet *pkt, bool ports)
{
	uint8_t key[CONV_KEY_LEN];
	size_t klen = conv_key(key, pkt, ports);
	uint64_t hash = lru_hash(&c->convs, key, klen);
	struct lru_node *n;
	struct conv *cv;

	lru_map_prefetch(&c->convs, hash);   /* loads while expire() looks */
	expire(ctx, c, pkt->ts);
	n = lru_map_find(&c->convs, key, klen, hash);
	if (n) {
		bool idle;

		/* Capture clocks can step back: expire() may have stopped short. */
		cv = LRU_ENTRY(n, struct conv, node);
		idle = pkt->ts - cv->last > c->idle_ns;
		if (idle)
			ctx->host->count(ctx, "expired", 1);
		if (pkt->ts > cv->last)
			cv->last = pkt->ts;
		lru_map_touch(&c->convs, n);
		return idle;
	}
	if (lru_map_full(&c->convs)) {
		drop_conv(c, LRU_ENTRY(lru_map_oldest(&c->convs), struct conv, node));
		count_eviction(ctx, "conversation_evictions");
	}
	cv = lru_pool_get(&c->conv_pool);
	if (!cv) {
		ctx->host->count(ctx, "alloc_failures", 1);
		return true;           /* report it; it may be reported again */
	}
	memcpy(cv->key, key, klen);
	cv->last = pkt->ts;
	cv->node.key = cv->key;
	cv->node.keylen = klen;
	cv->node.hash = hash;
	lru_map_insert(&c->convs, &cv->node);
	return true;
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

static const char *proto_name(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case 1: return "ICMP";
	case 2: return "IGMP";
	case 6: return "TCP";
	case 17: return "UDP";
	case 47: return "GRE";
	case 50: return "ESP";
	case 51: return "AH";
	case 58: return "ICMPv6";
	case 132: return "SCTP";
	default:
		snprintf(buf, len, "%u", (unsigned int)proto);
		return buf;
	}
}

static void write_endpoint(struct ndl_jw *w, const struct endpoint *e)
{
	ndl_jw_begin_object(w);
	ndl_jw_key(w, "ip");
	ndl_jw_ip(w, e->version, e->ip);
	ndl_jw_key(w, "port");
	if (e->has_port)
		ndl_jw_uint(w, e->port);
	else
		ndl_jw_null(w);
	ndl_jw_key(w, "name");
	if (e->name)
		ndl_jw_string_n(w, e->name->text, e->name->len);
	else
		ndl_jw_null(w);
	ndl_jw_key(w, "tag");
	ndl_jw_string(w, tag_names[e->tag]);
	ndl_jw_end_object(w);
}

/*
 * The summary line, built by hand: it is written for every dumpling, and
 * formatting it with inet_ntop and snprintf showed in profiles. Bounded:
 * what does not fit in cap bytes is cut (it always fits, see below).
 */
struct text {
	char *buf;
	size_t cap;
	size_t len;
};

static void put_bytes(struct text *t, const char *s, size_t n)
{
	if (n > t->cap - t->len)
		n = t->cap - t->len;
	memcpy(t->buf + t->len, s, n);
	t->len += n;
}

static void put_str(struct text *t, const char *s)
{
	put_bytes(t, s, strlen(s));
}

static void put_uint(struct text *t, unsigned int v)
{
	char digits[10];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_bytes(t, digits + i, sizeof(digits) - i);
}

/* The address as the JSON "ip" field has it (ndl/names.h). */
static void put_ip(struct text *t, int version, const uint8_t *ip)
{
	char buf[NDL_IPV6_TEXT_MAX];
	char *end = version == 4 ? ndl_ipv4_text(buf, ip) : ndl_ipv6_text(buf, ip);

	put_bytes(t, buf, (size_t)(end - buf));
}

/* Append "ip[:port](name or tag)", the IPv6 address in brackets with a port. */
static void summarise_endpoint(struct text *t, const struct endpoint *e)
{
	bool brackets = e->has_port && e->version == 6;

	if (brackets)
		put_bytes(t, "[", 1);
	put_ip(t, e->version, e->ip);
	if (brackets)
		put_bytes(t, "]", 1);
	if (e->has_port) {
		put_bytes(t, ":", 1);
		put_uint(t, e->port);
	}
	put_bytes(t, "(", 1);
	if (e->name)
		put_bytes(t, e->name->text, e->name->len);
	else
		put_str(t, tag_names[e->tag]);
	put_bytes(t, ")", 1);
}

static void write_conversation(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt,
			       const char *proto, const struct endpoint *src,
			       const struct endpoint *dst)
{
	/* Two names of up to 255 bytes, addresses, ports and the arrow. */
	char summary[2 * NDL_DNS_NAME_MAX + 2 * (INET6_ADDRSTRLEN + 12) + 32];
	struct text t = { .buf = summary, .cap = sizeof(summary) - 1 };
	struct ndl_jw *w = ctx->host->emit_begin(ctx, NDL_DRIVER_PACKET);

	if (!w)
		return;
	put_str(&t, proto);
	put_bytes(&t, " ", 1);
	summarise_endpoint(&t, src);
	put_bytes(&t, " --> ", 5);
	summarise_endpoint(&t, dst);

	ndl_jw_begin_object(w);
	ndl_jw_key(w, "time");
	ndl_jw_time(w, pkt->ts);
	ndl_jw_key(w, "proto");
	ndl_jw_string(w, proto);
	ndl_jw_key(w, "src");
	write_endpoint(w, src);
	ndl_jw_key(w, "dst");
	write_endpoint(w, dst);
	ndl_jw_key(w, "direction");
	ndl_jw_string(w, direction_of(src->tag, dst->tag));
	ndl_jw_key(w, "summary");
	ndl_jw_string_n(w, summary, t.len);
	ndl_jw_end_object(w);
	ctx->host->emit_end(ctx, w);
}

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                 */
/* ------------------------------------------------------------------------ */

static int netwatch_init(struct ndl_chef_ctx *ctx)
{
	struct netwatch_ctx *c = ctx->state;
	size_t max_convs = (size_t)ctx->host->config_int(ctx, "max_conversations");
	size_t max_names = (size_t)ctx->host->config_int(ctx, "max_names");
	int err;

	c->idle_ns = ctx->host->config_int(ctx, "idle") * NS_PER_S;
	err = parse_networks(ctx, c, ctx->host->config_string(ctx, "local_networks"));
	if (err < 0)
		return err;
	err = lru_map_init(&c->convs, max_convs);
	if (err < 0)
		return err;
	lru_pool_init(&c->conv_pool, sizeof(struct conv), max_convs);
	c->convs_ready = true;
	err = lru_map_init(&c->names, max_names);
	if (err < 0)
		return err;
	lru_pool_init(&c->name_pool, sizeof(struct name), max_names);
	c->names_ready = true;
	return 0;
}

static void netwatch_packet(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct netwatch_ctx *c = ctx->state;
	struct endpoint src = { 0 }, dst = { 0 };
	bool ports, eth_bcast;
	char buf[8];

	if (!(pkt->layers & (NDL_LAYER_IPV4 | NDL_LAYER_IPV6)))
		return;
	if ((pkt->ip_version != 4 && pkt->ip_version != 6))
		return;

	if ((pkt->layers & (NDL_LAYER_UDP | NDL_LAYER_TCP)) && may_be_response(pkt)) {
		const struct ndl_dns *dns = ctx->host->dns(ctx, pkt);

		if (dns)
			learn_from_dns(ctx, c, dns, (pkt->layers & NDL_LAYER_UDP) &&
				       (pkt->sport == 5353 || pkt->dport == 5353));
	}

	switch (pkt->ip_proto) {
	case 6:
		if (!(pkt->layers & NDL_LAYER_TCP))
			return;        /* a later fragment or a cut header */
		ports = true;
		break;
	case 17:
		if (!(pkt->layers & NDL_LAYER_UDP))
			return;
		ports = true;
		break;
	case 1:
	case 58:
		if (!(pkt->layers & (NDL_LAYER_ICMP | NDL_LAYER_ICMPV6)))
			return;
		ports = false;
		break;
	default:
		if ((pkt->layers & NDL_LAYER_FRAGMENT) && pkt->ip_frag_offset != 0)
			return;
		ports = false;
		break;
	}

	if (!is_new_conversation(ctx, c, pkt, ports))
		return;

	eth_bcast = pkt->ip_version == 4 && (pkt->layers & NDL_LAYER_ETHERNET) &&
		    memcmp(pkt->eth_dst, bcast, 6) == 0;
	src.version = dst.version = pkt->ip_version;
	src.ip = pkt->src_ip;
	dst.ip = pkt->dst_ip;
	src.has_port = dst.has_port = ports;
	src.port = pkt->sport;
	dst.port = pkt->dport;
	src.tag = tag_of(c, src.version, src.ip, false);
	dst.tag = tag_of(c, dst.version, dst.ip, eth_bcast);
	find_names(c, &src, &dst);
	write_conversation(ctx, pkt, proto_name(pkt->ip_proto, buf, sizeof(buf)), &src, &dst);
}

static void netwatch_fini(struct ndl_chef_ctx *ctx)
{
	struct netwatch_ctx *c = ctx->state;
	struct lru_node *n;

	if (c->convs_ready) {
		lru_map_fini(&c->convs);
		lru_pool_fini(&c->conv_pool);
	}
	if (c->names_ready) {
		while ((n = lru_map_oldest(&c->names)) != NULL)
			drop_name(c, LRU_ENTRY(n, struct name, node));
		lru_map_fini(&c->names);
		lru_pool_fini(&c->name_pool);
	}
	c->convs_ready = c->names_ready = false;
}

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_option netwatch_options[] = {
	{
		.key = "local_networks",
		.type = NDL_OPT_STRING,
		.default_value = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7,fe80::/10",
		.help = "comma-separated CIDR prefixes whose addresses are tagged internal",
	},
	{
		.key = "max_conversations",
		.type = NDL_OPT_INT,
		.default_value = "65536",
		.min = 1,
		.max = 10000000,
		.help = "most conversations remembered; the least recently active is forgotten first",
	},
	{
		.key = "idle",
		.type = NDL_OPT_INT,
		.default_value = "300",
		.min = 1,
		.max = 604800,
		.help = "seconds without a packet after which a conversation is reported again",
	},
	{
		.key = "max_names",
		.type = NDL_OPT_INT,
		.default_value = "10000",
		.min = 1,
		.max = 10000000,
		.help = "most addresses whose DNS name is remembered",
	},
	{ .key = NULL },
};

/* ------------------------------------------------------------------------ */
/* Registration                                                              */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_descriptor netwatch_chef = {
	.abi_version = NDL_CHEF_ABI_VERSION,
	.struct_size = sizeof(struct ndl_chef_descriptor),
	.name = "NetwatchChef",
	.version = "1.0.0",
	.description = "one line per new conversation, with names learned from DNS answers",
	.state_size = sizeof(struct netwatch_ctx),
	.options = netwatch_options,
	.init = netwatch_init,
	.on_packet = netwatch_packet,
	.fini = netwatch_fini,
	.flags = NDL_CHEF_F_ANY_THREAD,
};

/*
 * The chef's only exported symbol. Returns the static descriptor above
 * (never NULL, owned by this module). Called once by the kitchen's loader.
 */
NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void);

NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void)
{
	return &netwatch_chef;
}
