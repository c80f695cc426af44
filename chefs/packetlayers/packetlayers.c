/* SPDX-License-Identifier: MIT */
/*
 * PacketLayersChef - every decoded layer of a packet as one nested JSON
 * object, for dataset building and exploration.
 *
 * One packet dumpling per packet (or per sample-th packet):
 *   {"time", "caplen", "len", "ether": {...}, "vlan": [...], "ip": {...},
 *    "tcp": {...}, "dns": {...}, "payload": {...}, ...}
 * Each layer the kitchen decoded gets its own key holding its own fields,
 * so no field of one layer overwrites a field of another (two "src" keys,
 * say); layers absent from the packet are absent from the dumpling. The
 * link, network and transport layers come from struct ndl_packet; DNS,
 * HTTP and TLS hellos from the kitchen's shared parsers (host->dns,
 * host->http, host->tls_hello).
 *
 * The layers, their order and their writers are one table (layers[] below):
 * one function per layer writes that layer's value. The chef keeps no state
 * but a packet counter and emits no interval dumplings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <ndl/chef.h>
#include <ndl/names.h>

/* The chef's context, in ctx->state (zeroed by the kitchen). */
struct packetlayers_ctx {
	uint64_t sample;             /* option sample: emit every sample-th packet */
	uint64_t payload_hex_max;    /* option payload_hex_max */
	uint64_t seen;               /* packets handed to the chef */
};

/* One packet and the application views parsed from it (NULL when absent). */
struct view {
	const struct ndl_packet *pkt;
	const struct ndl_dns *dns;
	const struct ndl_http *http;
	const struct ndl_tls_hello *tls;
	uint64_t payload_hex_max;
};

/* ------------------------------------------------------------------------ */
/* Small writers                                                             */
/* ------------------------------------------------------------------------ */

static void kv_uint(struct ndl_jw *w, const char *key, uint64_t v)
{
	ndl_jw_key(w, key);
	ndl_jw_uint(w, v);
}

static void kv_ip(struct ndl_jw *w, const char *key, int version, const uint8_t *addr)
{
	ndl_jw_key(w, key);
	ndl_jw_ip(w, version, addr);
}

static void kv_mac(struct ndl_jw *w, const char *key, const uint8_t mac[6])
{
	ndl_jw_key(w, key);
	ndl_jw_mac(w, mac);
}

static void kv_str(struct ndl_jw *w, const char *key, struct ndl_str s)
{
	ndl_jw_key(w, key);
	if (s.ptr)
		ndl_jw_string_n(w, s.ptr, s.len);
	else
		ndl_jw_null(w);
}

static void kv_http_version(struct ndl_jw *w, const struct ndl_http *h)
{
	char v[4] = { (char)('0' + h->version_major % 10), '.',
		      (char)('0' + h->version_minor % 10), '\0' };

	ndl_jw_key(w, "version");
	ndl_jw_string(w, v);
}

/* ------------------------------------------------------------------------ */
/* One function per layer: each writes the layer's value                     */
/* ------------------------------------------------------------------------ */

static void write_time(struct ndl_jw *w, const struct view *v)
{
	ndl_jw_time(w, v->pkt->ts);
}

static void write_caplen(struct ndl_jw *w, const struct view *v)
{
	ndl_jw_uint(w, v->pkt->caplen);
}

static void write_len(struct ndl_jw *w, const struct view *v)
{
	ndl_jw_uint(w, v->pkt->wirelen);
}

/* Ethernet II (IEEE 802.3): type is the EtherType after any VLAN tags. */
static void write_ether(struct ndl_jw *w, const struct view *v)
{
	ndl_jw_begin_object(w);
	kv_mac(w, "src", v->pkt->eth_src);
	kv_mac(w, "dst", v->pkt->eth_dst);
	kv_uint(w, "type", v->pkt->ethertype);
	ndl_jw_end_object(w);
}

/* IEEE 802.1Q / 802.1ad tags, outer first; VIDs past the second are not kept. */
static void write_vlan(struct ndl_jw *w, const struct view *v)
{
	ndl_jw_begin_array(w);
	for (unsigned int i = 0; i < v->pkt->n_vlan; i++) {
		ndl_jw_begin_object(w);
		ndl_jw_key(w, "id");
		if (i < 2)
			ndl_jw_uint(w, v->pkt->vlan_id[i]);
		else
			ndl_jw_null(w);
		ndl_jw_end_object(w);
	}
	ndl_jw_end_array(w);
}

/* Linux cooked capture: the sender's link address and the protocol type. */
static void write_sll(struct ndl_jw *w, const struct view *v)
{
	ndl_jw_begin_object(w);
	kv_mac(w, "src", v->pkt->eth_src);
	kv_uint(w, "type", v->pkt->ethertype);
	ndl_jw_end_object(w);
}

/* BSD loopback: the address family as the EtherType it maps to (0: other). */
static void write_null(struct ndl_jw *w, const struct view *v)
{
	ndl_jw_begin_object(w);
	kv_uint(w, "type", v->pkt->ethertype);
	ndl_jw_end_object(w);
}

/* ARP (RFC 826); addresses are zero unless Ethernet hardware and IPv4. */
static void write_arp(struct ndl_jw *w, const struct view *v)
{
	const struct ndl_packet *p = v->pkt;

	ndl_jw_begin_object(w);
	kv_uint(w, "op", p->arp_op);
	kv_mac(w, "src_hw", p->arp_sha);
	kv_ip(w, "src_ip", 4, p->arp_spa);
	kv_mac(w, "dst_hw", p->arp_tha);
	kv_ip(w, "dst_ip", 4, p->arp_tpa);
	ndl_jw_end_object(w);
}

/* IPv4 (RFC 791 section 3.1). */
static void write_ipv4(struct ndl_jw *w, const struct view *v)
{
	const struct ndl_packet *p = v->pkt;

	ndl_jw_begin_object(w);
	kv_uint(w, "version", 4);
	kv_ip(w, "src", 4, p->src_ip);
	kv_ip(w, "dst", 4, p->dst_ip);
	kv_uint(w, "ttl", p->ip_ttl);
	kv_uint(w, "proto", p->ip_proto);
	kv_uint(w, "id", p->ip_id);
	kv_uint(w, "tos", p->ip_tos);
	ndl_jw_key(w, "flags");
	ndl_jw_begin_array(w);
	if (p->ip_frag_flags & NDL_IP_DF)
		ndl_jw_string(w, "DF");
	if (p->ip_frag_flags & NDL_IP_MF)
		ndl_jw_string(w, "MF");
	ndl_jw_end_array(w);
	kv_uint(w, "frag_offset", p->ip_frag_offset);
	kv_uint(w, "hdr_len", p->ip_hdr_len);
	kv_uint(w, "total_len", p->ip_total_len);
	ndl_jw_end_object(w);
}

/* IPv6 (RFC 8200 section 3); next_header is the one after extension headers. */
static void write_ipv6(struct ndl_jw *w, const struct view *v)
{
	const struct ndl_packet *p = v->pkt;

	ndl_jw_begin_object(w);
	kv_ip(w, "src", 6, p->src_ip);
	kv_ip(w, "dst", 6, p->dst_ip);
	kv_uint(w, "hop_limit", p->ip_ttl);
	kv_uint(w, "next_header", p->ip_proto);
	kv_uint(w, "traffic_class", p->ip_tos);
	kv_uint(w, "flow", p->ipv6_flow);
	kv_uint(w, "ext_headers", p->ipv6_n_ext);
	kv_uint(w, "hdr_len", p->ip_hdr_len);
	kv_uint(w, "total_len", p->ip_total_len);
	if (p->layers & NDL_LAYER_FRAGMENT) {
		/* RFC 8200 section 4.5 */
		ndl_jw_key(w, "fragment");
		ndl_jw_begin_object(w);
		kv_uint(w, "offset", p->ip_frag_offset);
		ndl_jw_key(w, "more");
		ndl_jw_bool(w, p->ip_frag_flags & NDL_IP_MF);
		kv_uint(w, "id", p->ip_frag_ident);
		ndl_jw_end_object(w);
	}
	ndl_jw_end_object(w);
}

/* TCP (RFC 9293 section 3.1); flags as letters in bit order, FIN first. */
static void write_tcp(struct ndl_jw *w, const struct view *v)
{
	static const char letters[8] = { 'F', 'S', 'R', 'P', 'A', 'U', 'E', 'C' };
	const struct ndl_packet *p = v->pkt;
	char flags[9];
	size_t n = 0;

	for (unsigned int i = 0; i < 8; i++)
		if (p->tcp_flags & (1u << i))
			flags[n++] = letters[i];
	ndl_jw_begin_object(w);
	kv_uint(w, "sport", p->sport);
	kv_uint(w, "dport", p->dport);
	kv_uint(w, "seq", p->tcp_seq);
	kv_uint(w, "ack", p->tcp_ack);
	ndl_jw_key(w, "flags");
	ndl_jw_string_n(w, flags, n);
	kv_uint(w, "window", p->tcp_window);
	kv_uint(w, "hdr_len", p->tcp_hdr_len);
	/* Options (RFC 9293 3.2, RFC 7323 for wscale and timestamps, RFC 2018 SACK). */
	ndl_jw_key(w, "options");
	ndl_jw_begin_object(w);
	if (p->tcp_opts & NDL_TCPOPT_MSS)
		kv_uint(w, "mss", p->tcp_mss);
	if (p->tcp_opts & NDL_TCPOPT_WSCALE)
		kv_uint(w, "wscale", p->tcp_wscale);
	if (p->tcp_opts & NDL_TCPOPT_SACK_OK) {
		ndl_jw_key(w, "sack_ok");
		ndl_jw_bool(w, true);
	}
	if (p->tcp_opts & NDL_TCPOPT_SACK) {
		ndl_jw_key(w, "sack");
		ndl_jw_bool(w, true);
	}
	if (p->tcp_opts & NDL_TCPOPT_TIMESTAMP) {
		kv_uint(w, "ts_val", p->tcp_ts_val);
		kv_uint(w, "ts_ecr", p->tcp_ts_ecr);
	}
	if (p->tcp_opts & NDL_TCPOPT_BAD) {
		ndl_jw_key(w, "bad");
		ndl_jw_bool(w, true);
	}
	ndl_jw_end_object(w);
	ndl_jw_end_object(w);
}

/* UDP (RFC 768). */
static void write_udp(struct ndl_jw *w, const struct view *v)
{
	ndl_jw_begin_object(w);
	kv_uint(w, "sport", v->pkt->sport);
	kv_uint(w, "dport", v->pkt->dport);
	kv_uint(w, "len", v->pkt->udp_len);
	ndl_jw_end_object(w);
}

/* ICMP (RFC 792) and ICMPv6 (RFC 4443); id and seq for echo messages only. */
static void write_icmp(struct ndl_jw *w, const struct view *v)
{
	const struct ndl_packet *p = v->pkt;
	bool echo = (p->layers & NDL_LAYER_ICMP) ?
		(p->icmp_type == 0 || p->icmp_type == 8) :
		(p->icmp_type == 128 || p->icmp_type == 129);

	ndl_jw_begin_object(w);
	kv_uint(w, "type", p->icmp_type);
	kv_uint(w, "code", p->icmp_code);
	if (echo) {
		kv_uint(w, "id", p->icmp_id);
		kv_uint(w, "seq", p->icmp_seq);
	}
	ndl_jw_end_object(w);
}

static void write_dns_rrs(struct ndl_jw *w, const char *key, const struct ndl_dns_rr *rr,
			  uint16_t n)
{
	ndl_jw_key(w, key);
	ndl_jw_begin_array(w);
	for (uint16_t i = 0; i < n; i++) {
		ndl_jw_begin_object(w);
		ndl_jw_key(w, "name");
		ndl_jw_string_n(w, rr[i].name, strnlen(rr[i].name, NDL_DNS_NAME_MAX - 1));
		kv_uint(w, "type", rr[i].type);
		kv_uint(w, "class", rr[i].rclass);
		kv_uint(w, "ttl", rr[i].ttl);
		ndl_jw_key(w, "data");
		ndl_jw_string_n(w, rr[i].data, strnlen(rr[i].data, NDL_DNS_DATA_MAX - 1));
		ndl_jw_end_object(w);
	}
	ndl_jw_end_array(w);
}

/* DNS (RFC 1035 section 4.1), as the kitchen parsed it. */
static void write_dns(struct ndl_jw *w, const struct view *v)
{
	const struct ndl_dns *d = v->dns;

	ndl_jw_begin_object(w);
	kv_uint(w, "id", d->id);
	kv_uint(w, "qr", d->qr);
	kv_uint(w, "opcode", d->opcode);
	kv_uint(w, "rcode", d->rcode);
	ndl_jw_key(w, "questions");
	ndl_jw_begin_array(w);
	for (uint16_t i = 0; i < d->n_questions; i++) {
		const struct ndl_dns_question *q = &d->questions[i];

		ndl_jw_begin_object(w);
		ndl_jw_key(w, "name");
		ndl_jw_string_n(w, q->name, strnlen(q->name, NDL_DNS_NAME_MAX - 1));
		kv_uint(w, "type", q->qtype);
		kv_uint(w, "class", q->qclass);
		ndl_jw_end_object(w);
	}
	ndl_jw_end_array(w);
	write_dns_rrs(w, "answers", d->answers, d->n_answers);
	if (d->error != NDL_DNS_OK) {
		ndl_jw_key(w, "error");
		ndl_jw_string(w, ndl_dns_error_name(d->error));
	}
	ndl_jw_end_object(w);
}

/* HTTP/1.x start line and header fields (RFC 9112 sections 3-5). */
static void write_http(struct ndl_jw *w, const struct view *v)
{
	const struct ndl_http *h = v->http;

	ndl_jw_begin_object(w);
	ndl_jw_key(w, "kind");
	ndl_jw_string(w, h->is_request ? "request" : "response");
	if (h->is_request) {
		kv_str(w, "method", h->method);
		kv_str(w, "target", h->target);
	} else {
		kv_uint(w, "status", h->status);
		kv_str(w, "reason", h->reason);
	}
	kv_http_version(w, h);
	ndl_jw_key(w, "headers");
	ndl_jw_begin_array(w);
	for (uint16_t i = 0; i < h->n_headers; i++) {
		ndl_jw_begin_array(w);
		ndl_jw_string_n(w, h->headers[i].name.ptr, h->headers[i].name.len);
		ndl_jw_string_n(w, h->headers[i].value.ptr, h->headers[i].value.len);
		ndl_jw_end_array(w);
	}
	ndl_jw_end_array(w);
	ndl_jw_key(w, "complete");
	ndl_jw_bool(w, h->headers_complete);
	if (h->error != NDL_HTTP_OK) {
		ndl_jw_key(w, "error");
		ndl_jw_string(w, ndl_http_error_name(h->error));
	}
	ndl_jw_end_object(w);
}

/* A TLS ClientHello or ServerHello (RFC 8446 section 4.1.2/4.1.3). */
static void write_tls(struct ndl_jw *w, const struct view *v)
{
	const struct ndl_tls_hello *t = v->tls;
	char version[NDL_TLS_VERSION_NAME_MAX];

	ndl_jw_begin_object(w);
	ndl_jw_key(w, "type");
	if (t->type == 1)
		ndl_jw_string(w, "client_hello");
	else if (t->type == 2)
		ndl_jw_string(w, "server_hello");
	else
		ndl_jw_uint(w, t->type);
	kv_str(w, "sni", t->sni);
	ndl_jw_key(w, "version");
	ndl_jw_string(w, ndl_tls_version_name(t->version, version, sizeof(version)));
	ndl_jw_end_object(w);
}

/* The transport payload's captured length and its first bytes in hex. */
static void write_payload(struct ndl_jw *w, const struct view *v)
{
	const struct ndl_packet *p = v->pkt;
	size_t n = p->payload_len;

	ndl_jw_begin_object(w);
	kv_uint(w, "len", p->payload_len);
	if (v->payload_hex_max > 0) {
		if (n > v->payload_hex_max)
			n = (size_t)v->payload_hex_max;
		ndl_jw_key(w, "hex");
		ndl_jw_hex(w, p->payload, n);
		ndl_jw_key(w, "truncated");
		ndl_jw_bool(w, n < p->payload_len);
	}
	ndl_jw_end_object(w);
}

/* Link-layer bytes after the IP datagram (an Ethernet frame's minimum size). */
static void write_padding(struct ndl_jw *w, const struct view *v)
{
	ndl_jw_begin_object(w);
	kv_uint(w, "len", v->pkt->padding_len);
	ndl_jw_end_object(w);
}

/* Why the kitchen stopped decoding; names as in its statistics. */
static void write_decode_error(struct ndl_jw *w, const struct view *v)
{
	ndl_jw_string(w, ndl_decode_error_name(v->pkt->decode_error));
}

/* ------------------------------------------------------------------------ */
/* The layer table                                                           */
/* ------------------------------------------------------------------------ */

static bool always(const struct view *v) { return true; }
static bool has_ether(const struct view *v) { return v->pkt->layers & NDL_LAYER_ETHERNET; }
static bool has_vlan(const struct view *v) { return v->pkt->layers & NDL_LAYER_VLAN; }
static bool has_sll(const struct view *v) { return v->pkt->layers & NDL_LAYER_SLL; }
static bool has_null(const struct view *v) { return v->pkt->layers & NDL_LAYER_NULL; }
static bool has_arp(const struct view *v) { return v->pkt->layers & NDL_LAYER_ARP; }
static bool has_ipv4(const struct view *v) { return v->pkt->layers & NDL_LAYER_IPV4; }
static bool has_ipv6(const struct view *v) { return v->pkt->layers & NDL_LAYER_IPV6; }
static bool has_tcp(const struct view *v) { return v->pkt->layers & NDL_LAYER_TCP; }
static bool has_udp(const struct view *v) { return v->pkt->layers & NDL_LAYER_UDP; }
static bool has_icmp(const struct view *v) { return v->pkt->layers & NDL_LAYER_ICMP; }
static bool has_icmpv6(const struct view *v) { return v->pkt->layers & NDL_LAYER_ICMPV6; }
static bool has_dns(const struct view *v) { return v->dns != NULL; }
static bool has_http(const struct view *v) { return v->http != NULL; }
static bool has_tls(const struct view *v) { return v->tls != NULL; }
static bool has_payload(const struct view *v) { return v->pkt->layers & NDL_LAYER_PAYLOAD; }
static bool has_padding(const struct view *v) { return v->pkt->layers & NDL_LAYER_PADDING; }
static bool has_error(const struct view *v) { return v->pkt->decode_error != NDL_DECODE_OK; }

/* Every key a dumpling may hold, in the order written. */
static const struct layer {
	const char *key;
	bool (*present)(const struct view *v);
	void (*write)(struct ndl_jw *w, const struct view *v);
} layers[] = {
	{ "time",         always,      write_time },
	{ "caplen",       always,      write_caplen },
	{ "len",          always,      write_len },
	{ "ether",        has_ether,   write_ether },
	{ "vlan",         has_vlan,    write_vlan },
	{ "sll",          has_sll,     write_sll },
	{ "null",         has_null,    write_null },
	{ "arp",          has_arp,     write_arp },
	{ "ip",           has_ipv4,    write_ipv4 },
	{ "ipv6",         has_ipv6,    write_ipv6 },
	{ "tcp",          has_tcp,     write_tcp },
	{ "udp",          has_udp,     write_udp },
	{ "icmp",         has_icmp,    write_icmp },
	{ "icmpv6",       has_icmpv6,  write_icmp },
	{ "dns",          has_dns,     write_dns },
	{ "http",         has_http,    write_http },
	{ "tls",          has_tls,     write_tls },
	{ "payload",      has_payload, write_payload },
	{ "padding",      has_padding, write_padding },
	{ "decode_error", has_error,   write_decode_error },
};

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                 */
/* ------------------------------------------------------------------------ */

static int packetlayers_init(struct ndl_chef_ctx *ctx)
{
	struct packetlayers_ctx *c = ctx->state;

	c->sample = (uint64_t)ctx->host->config_int(ctx, "sample");
	c->payload_hex_max = (uint64_t)ctx->host->config_int(ctx, "payload_hex_max");
	return 0;
}

static void packetlayers_packet(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt)
{
	struct packetlayers_ctx *c = ctx->state;
	struct view v = { .pkt = pkt, .payload_hex_max = c->payload_hex_max };
	struct ndl_jw *w;

	if (c->seen++ % c->sample != 0)
		return;
	if (pkt->payload_len && (pkt->layers & (NDL_LAYER_UDP | NDL_LAYER_TCP)))
		v.dns = ctx->host->dns(ctx, pkt);
	if (pkt->payload_len && (pkt->layers & NDL_LAYER_TCP)) {
		v.http = ctx->host->http(ctx, pkt);
		if (!v.http)
			v.tls = ctx->host->tls_hello(ctx, pkt);
	}

	w = ctx->host->emit_begin(ctx, NDL_DRIVER_PACKET);
	if (!w)
		return;
	ndl_jw_begin_object(w);
	for (size_t i = 0; i < sizeof(layers) / sizeof(layers[0]); i++) {
		if (!layers[i].present(&v))
			continue;
		ndl_jw_key(w, layers[i].key);
		layers[i].write(w, &v);
	}
	ndl_jw_end_object(w);
	ctx->host->emit_end(ctx, w);
}

static void packetlayers_fini(struct ndl_chef_ctx *ctx)
{
}

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_option packetlayers_options[] = {
	{
		.key = "sample",
		.type = NDL_OPT_INT,
		.default_value = "1",
		.min = 1,
		.max = 1000000000,
		.help = "emit every Nth packet (the first, the N+1th, ...); 1 emits every packet",
	},
	{
		.key = "payload_hex_max",
		.type = NDL_OPT_INT,
		.default_value = "64",
		.min = 0,
		.max = 65535,
		.help = "most payload bytes shown as hex; 0 leaves the hex out",
	},
	{ .key = NULL },
};

/* ------------------------------------------------------------------------ */
/* Registration                                                              */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_descriptor packetlayers_chef = {
	.abi_version = NDL_CHEF_ABI_VERSION,
	.struct_size = sizeof(struct ndl_chef_descriptor),
	.name = "PacketLayersChef",
	.version = "1.0.0",
	.description = "every decoded layer of each packet as nested JSON, one dumpling per packet",
	.state_size = sizeof(struct packetlayers_ctx),
	.options = packetlayers_options,
	.init = packetlayers_init,
	.on_packet = packetlayers_packet,
	.on_interval = NULL,
	.fini = packetlayers_fini,
	.flags = NDL_CHEF_F_OPT_IN | NDL_CHEF_F_ANY_THREAD,
};

/*
 * The chef's only exported symbol. Returns the static descriptor above
 * (never NULL, owned by this module). Called once by the kitchen's loader.
 */
NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void);

NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void)
{
	return &packetlayers_chef;
}
