/* SPDX-License-Identifier: MIT */
/*
 * DNSWeirdChef - DNS messages that are odd on the wire.
 *
 * Every DNS message the kitchen parses (RFC 1035 section 4.1; UDP and TCP
 * port 53, mDNS on UDP 5353) goes through a fixed set of checks. A message
 * with at least one finding becomes one packet dumpling:
 *
 *   {"time": 1795322030.150690, "client": "192.0.2.1:40000",
 *    "server": "192.0.2.2:53", "id": 4660, "qname": "x.example",
 *    "qtype": "A", "findings": [{"check": "z_bit_set", "detail": "flags 0x0140"}]}
 *
 * Every interval it reports how many messages it checked and flagged since
 * it started, per check. The checks, in the order they are reported:
 *
 *   z_bit_set           the reserved Z bit of the header (RFC 1035 4.1.1,
 *                       the bit left after RFC 4035 3.2 took AD and CD)
 *   truncated           the TC bit (RFC 1035 4.1.1, RFC 7766 5)
 *   unusual_type        a question or answer type outside a fixed list
 *   unusual_class       a question or answer class other than IN
 *   long_label          a question label longer than option long_label
 *   high_entropy_label  a question label whose Shannon entropy per byte is
 *                       at least entropy_threshold (DNS tunnels encode
 *                       data into labels; names people choose score low)
 *   many_labels         a question name with more labels than many_labels
 *                       (reverse-mapping names under in-addr.arpa and
 *                       ip6.arpa are exempt: RFC 3596 names have 34)
 *   parse_error         the kitchen's parser stopped early
 *   opcode_not_query    OPCODE other than QUERY (RFC 1035 4.1.1, IANA)
 *   answer_in_query     a query (QR 0) with ANCOUNT above zero
 *
 * The chef keeps no per-message state: memory is its context only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <ndl/chef.h>
#include <ndl/names.h>

#include "dnsnames.h"

enum check {
	CHECK_Z_BIT,
	CHECK_TRUNCATED,
	CHECK_UNUSUAL_TYPE,
	CHECK_UNUSUAL_CLASS,
	CHECK_LONG_LABEL,
	CHECK_HIGH_ENTROPY,
	CHECK_MANY_LABELS,
	CHECK_PARSE_ERROR,
	CHECK_OPCODE,
	CHECK_ANSWER_IN_QUERY,
	N_CHECKS
};

static const char *const check_names[N_CHECKS] = {
	[CHECK_Z_BIT] = "z_bit_set",
	[CHECK_TRUNCATED] = "truncated",
	[CHECK_UNUSUAL_TYPE] = "unusual_type",
	[CHECK_UNUSUAL_CLASS] = "unusual_class",
	[CHECK_LONG_LABEL] = "long_label",
	[CHECK_HIGH_ENTROPY] = "high_entropy_label",
	[CHECK_MANY_LABELS] = "many_labels",
	[CHECK_PARSE_ERROR] = "parse_error",
	[CHECK_OPCODE] = "opcode_not_query",
	[CHECK_ANSWER_IN_QUERY] = "answer_in_query",
};

/* Most findings in one dumpling; more are counted as findings_dropped. */
#define MAX_FINDINGS 16
#define DETAIL_MAX 320

struct finding {
	enum check check;
	char detail[DETAIL_MAX];
};

/* The chef's context, in ctx->state (zeroed by the kitchen). */
struct dnsweird_ctx {
	/* options */
	size_t long_label;
	double entropy_threshold;
	size_t entropy_min_length;
	size_t many_labels;

	/* since start */
	uint64_t checked;
	uint64_t flagged;
	uint64_t by_check[N_CHECKS];

	/* the message being checked */
	struct finding findings[MAX_FINDINGS];
	size_t n_findings;
	uint64_t dropped;            /* findings past MAX_FINDINGS in this message */
};

/* ------------------------------------------------------------------------ */
/* Findings                                                                  */
/* ------------------------------------------------------------------------ */

/* Add a finding unless the same one is already there. */
static void add_finding(struct dnsweird_ctx *c, enum check check, const char *fmt, ...)
	NDL_PRINTF(3, 4);
static void add_finding(struct dnsweird_ctx *c, enum check check, const char *fmt, ...)
{
	char detail[DETAIL_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < c->n_findings; i++)
		if (c->findings[i].check == check && strcmp(c->findings[i].detail, detail) == 0)
			return;
	if (c->n_findings >= MAX_FINDINGS) {
		c->dropped++;
		return;
	}
	c->findings[c->n_findings].check = check;
	memcpy(c->findings[c->n_findings].detail, detail, sizeof(detail));
	c->n_findings++;
}

/* ------------------------------------------------------------------------ */
/* Checks                                                                    */
/* ------------------------------------------------------------------------ */

/*
 * The types seen every day: RFC 1035 (A, NS, CNAME, SOA, PTR, MX, TXT),
 * RFC 3596 (AAAA), RFC 2782 (SRV), RFC 6891 (OPT), RFC 4034 (DS, DNSKEY,
 * RRSIG, NSEC), RFC 5155 (NSEC3), RFC 8659 (CAA), RFC 9460 (SVCB, HTTPS).
 */
static bool common_type(uint16_t type)
{
	switch (type) {
	case 1: case 2: case 5: case 6: case 12: case 15: case 16: case 28:
	case 33: case 41: case 43: case 46: case 47: case 48: case 50:
	case 64: case 65: case 257:
		return true;
	default:
		return false;
	}
}

static void check_type(struct dnsweird_ctx *c, const char *where, uint16_t type)
{
	char name[NDL_DNS_TYPE_NAME_MAX];

	if (!common_type(type))
		add_finding(c, CHECK_UNUSUAL_TYPE, "%s type %s", where,
			    ndl_dns_type_name(type, name, sizeof(name)));
}

static void check_class(struct dnsweird_ctx *c, const char *where, uint16_t rclass, bool mdns)
{
	char name[DNS_MNEMONIC_MAX];

	/* mDNS uses the top bit: unicast response / cache flush (RFC 6762 5.4, 10.2). */
	if (mdns)
		rclass &= 0x7fff;
	if (rclass != 1)
		add_finding(c, CHECK_UNUSUAL_CLASS, "%s class %s", where,
			    dns_class_name(rclass, name, sizeof(name)));
}

/* Shannon entropy in bits per byte of label[0..n), ASCII case folded. */
static double label_entropy(const uint8_t *label, size_t n)
{
	unsigned int counts[256] = { 0 };
	double h = 0.0;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = label[i];

		if (b >= 'A' && b <= 'Z')
			b = (uint8_t)(b + 32);
		counts[b]++;
	}
	for (size_t i = 0; i < 256; i++) {
		if (counts[i]) {
			double p = (double)counts[i] / (double)n;

			h -= p * log2(p);
		}
	}
	return h;
}

/* True when name ends with the label sequence suffix (case-insensitive). */
static bool name_under(const char *name, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	if (len < n)
		return false;
	if (!dns_name_equal(name + len - n, n, suffix, n))
		return false;
	return len == n || name[len - n - 1] == '.';
}

/* Label checks on one question name (presentation form). */
static void check_name(struct dnsweird_ctx *c, const char *name)
{
	size_t len = strnlen(name, NDL_DNS_NAME_MAX - 1);
	uint8_t label[DNS_LABEL_MAX];
	size_t pos = 0, start = 0, n, shown, labels = 0;

	/* shown: the label as written in the name, escapes and all */
	while (dns_next_label(name, len, &pos, label, &n, &shown)) {
		labels++;
		if (n > c->long_label)
			add_finding(c, CHECK_LONG_LABEL, "label of %zu bytes (limit %zu): %.*s",
				    n, c->long_label, (int)shown, name + start);
		if (n >= c->entropy_min_length) {
			size_t used = n < DNS_LABEL_MAX ? n : DNS_LABEL_MAX;
			double h = label_entropy(label, used);

			if (h >= c->entropy_threshold)
				add_finding(c, CHECK_HIGH_ENTROPY,
					    "%.2f bits/byte over %zu bytes: %.*s",
					    h, n, (int)shown, name + start);
		}
		start = pos;
	}
	if (labels > c->many_labels && !name_under(name, len, "in-addr.arpa") &&
	    !name_under(name, len, "ip6.arpa"))
		add_finding(c, CHECK_MANY_LABELS, "%zu labels (limit %zu)", labels, c->many_labels);
}

/* Run every check on dns; the findings land in c->findings. */
static void check_message(struct dnsweird_ctx *c, const struct ndl_dns *dns, bool mdns)
{
	c->n_findings = 0;
	c->dropped = 0;

	if (dns->z)
		add_finding(c, CHECK_Z_BIT, "flags 0x%04x", (unsigned int)dns->flags);
	if (dns->tc)
		add_finding(c, CHECK_TRUNCATED, "TC bit set in a %s",
			    dns->qr ? "response" : "query");
	for (unsigned int i = 0; i < dns->n_questions && i < NDL_DNS_MAX_QUESTIONS; i++)
		check_type(c, "question", dns->questions[i].qtype);
	for (unsigned int i = 0; i < dns->n_answers && i < NDL_DNS_MAX_RRS; i++)
		check_type(c, "answer", dns->answers[i].type);
	for (unsigned int i = 0; i < dns->n_questions && i < NDL_DNS_MAX_QUESTIONS; i++)
		check_class(c, "question", dns->questions[i].qclass, mdns);
	for (unsigned int i = 0; i < dns->n_answers && i < NDL_DNS_MAX_RRS; i++)
		check_class(c, "answer", dns->answers[i].rclass, mdns);
	for (unsigned int i = 0; i < dns->n_questions && i < NDL_DNS_MAX_QUESTIONS; i++)
		check_name(c, dns->questions[i].name);
	if (dns->error != NDL_DNS_OK) {
		if (dns->error < NDL_DNS_ERROR_COUNT)
			add_finding(c, CHECK_PARSE_ERROR, "%s", ndl_dns_error_name(dns->error));
		else
			add_finding(c, CHECK_PARSE_ERROR, "error %u", (unsigned int)dns->error);
	}
	if (dns->opcode != 0) {
		const char *op = dns_opcode_name(dns->opcode);

		if (op)
			add_finding(c, CHECK_OPCODE, "%s", op);
		else
			add_finding(c, CHECK_OPCODE, "opcode %u", (unsigned int)dns->opcode);
	}
	if (!dns->qr && dns->ancount > 0)
		add_finding(c, CHECK_ANSWER_IN_QUERY, "ancount %u", (unsigned int)dns->ancount);
}

/* ------------------------------------------------------------------------ */
/* Writing                                                                   */
/* ------------------------------------------------------------------------ */

static bool dns_port(uint16_t port)
{
	return port == 53 || port == 5353;
}

/* "192.0.2.1:53" or "[2001:db8::1]:53" */
static void write_endpoint(struct ndl_jw *w, int version, const uint8_t *ip, uint16_t port)
{
	char addr[INET6_ADDRSTRLEN];
	char text[INET6_ADDRSTRLEN + 10];
	int n;

	if (!inet_ntop(version == 6 ? AF_INET6 : AF_INET, ip, addr, sizeof(addr))) {
		ndl_jw_null(w);
		return;
	}
	n = snprintf(text, sizeof(text), version == 6 ? "[%s]:%u" : "%s:%u", addr,
		     (unsigned int)port);
	ndl_jw_string_n(w, text, n > 0 && (size_t)n < sizeof(text) ? (size_t)n : 0);
}

static void write_findings(struct ndl_chef_ctx *ctx, struct dnsweird_ctx *c,
			   const struct ndl_packet *pkt, const struct ndl_dns *dns)
{
	struct ndl_jw *w = ctx->host->emit_begin(ctx, NDL_DRIVER_PACKET);
	bool src_is_server = dns_port(pkt->sport) && !dns_port(pkt->dport);
	bool dst_is_server = dns_port(pkt->dport) && !dns_port(pkt->sport);
	char buf[NDL_DNS_TYPE_NAME_MAX];

	if (!w)
		return;
	ndl_jw_begin_object(w);
	ndl_jw_key(w, "time");
	ndl_jw_time(w, pkt->ts);
	if (src_is_server || dst_is_server) {
		ndl_jw_key(w, "client");
		if (dst_is_server)
			write_endpoint(w, pkt->ip_version, pkt->src_ip, pkt->sport);
		else
			write_endpoint(w, pkt->ip_version, pkt->dst_ip, pkt->dport);
		ndl_jw_key(w, "server");
		if (dst_is_server)
			write_endpoint(w, pkt->ip_version, pkt->dst_ip, pkt->dport);
		else
			write_endpoint(w, pkt->ip_version, pkt->src_ip, pkt->sport);
	} else {
		ndl_jw_key(w, "src");
		write_endpoint(w, pkt->ip_version, pkt->src_ip, pkt->sport);
		ndl_jw_key(w, "dst");
		write_endpoint(w, pkt->ip_version, pkt->dst_ip, pkt->dport);
	}
	ndl_jw_key(w, "id");
	ndl_jw_uint(w, dns->id);
	ndl_jw_key(w, "qname");
	if (dns->n_questions)
		ndl_jw_string_n(w, dns->questions[0].name,
				strnlen(dns->questions[0].name, NDL_DNS_NAME_MAX - 1));
	else
		ndl_jw_null(w);
	ndl_jw_key(w, "qtype");
	if (dns->n_questions)
		ndl_jw_string(w, ndl_dns_type_name(dns->questions[0].qtype, buf, sizeof(buf)));
	else
		ndl_jw_null(w);
	ndl_jw_key(w, "findings");
	ndl_jw_begin_array(w);
	for (size_t i = 0; i < c->n_findings; i++) {
		ndl_jw_begin_object(w);
		ndl_jw_key(w, "check");
		ndl_jw_string(w, check_names[c->findings[i].check]);
		ndl_jw_key(w, "detail");
		ndl_jw_string(w, c->findings[i].detail);
		ndl_jw_end_object(w);
	}
	ndl_jw_end_array(w);
	ndl_jw_end_object(w);
	ctx->host->emit_end(ctx, w);
}

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                 */
/* ------------------------------------------------------------------------ */

static int dnsweird_init(struct ndl_chef_ctx *ctx)
{
	struct dnsweird_ctx *c = ctx->state;

	c->long_label = (size_t)ctx->host->config_int(ctx, "long_label");
	c->entropy_threshold = ctx->host->config_double(ctx, "entropy_threshold");
	c->entropy_min_length = (size_t)ctx->host->config_int(ctx, "entropy_min_length");
	c->many_labels = (size_t)ctx->host->config_int(ctx, "many_labels");
	return 0;
}

static void dnsweird_packet(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt)
{
	struct dnsweird_ctx *c = ctx->state;
	const struct ndl_dns *dns;
	bool seen[N_CHECKS] = { false };

	if (!(pkt->layers & (NDL_LAYER_UDP | NDL_LAYER_TCP)) || !pkt->payload_len)
		return;
	dns = ctx->host->dns(ctx, pkt);
	if (!dns)
		return;

	c->checked++;
	check_message(c, dns, (pkt->layers & NDL_LAYER_UDP) &&
		      (pkt->sport == 5353 || pkt->dport == 5353));
	if (c->dropped)
		ctx->host->count(ctx, "findings_dropped", c->dropped);
	if (c->n_findings == 0)
		return;
	c->flagged++;
	for (size_t i = 0; i < c->n_findings; i++) {
		if (!seen[c->findings[i].check]) {
			seen[c->findings[i].check] = true;
			c->by_check[c->findings[i].check]++;
		}
	}
	write_findings(ctx, c, pkt, dns);
}

static void dnsweird_interval(struct ndl_chef_ctx *ctx)
{
	struct dnsweird_ctx *c = ctx->state;
	struct ndl_jw *w = ctx->host->emit_begin(ctx, NDL_DRIVER_INTERVAL);

	if (!w)
		return;
	ndl_jw_begin_object(w);
	ndl_jw_key(w, "messages_checked");
	ndl_jw_uint(w, c->checked);
	ndl_jw_key(w, "messages_flagged");
	ndl_jw_uint(w, c->flagged);
	ndl_jw_key(w, "by_check");
	ndl_jw_begin_object(w);
	for (size_t i = 0; i < N_CHECKS; i++) {
		ndl_jw_key(w, check_names[i]);
		ndl_jw_uint(w, c->by_check[i]);
	}
	ndl_jw_end_object(w);
	ndl_jw_end_object(w);
	ctx->host->emit_end(ctx, w);
}

static void dnsweird_fini(struct ndl_chef_ctx *ctx)
{
	/* Nothing allocated. */
}

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_option dnsweird_options[] = {
	{
		.key = "long_label",
		.type = NDL_OPT_INT,
		.default_value = "40",
		.min = 1,
		.max = 63,
		.help = "report question labels longer than this many bytes",
	},
	{
		.key = "entropy_threshold",
		.type = NDL_OPT_DOUBLE,
		.default_value = "3.8",
		.min = 0.0,
		.max = 8.0,
		.help = "report labels with at least this Shannon entropy (bits per byte)",
	},
	{
		.key = "entropy_min_length",
		.type = NDL_OPT_INT,
		.default_value = "16",
		.min = 1,
		.max = 63,
		.help = "shortest label (bytes) whose entropy is judged",
	},
	{
		.key = "many_labels",
		.type = NDL_OPT_INT,
		.default_value = "12",
		.min = 1,
		.max = 127,
		.help = "report question names with more labels than this (reverse names exempt)",
	},
	{ .key = NULL },
};

/* ------------------------------------------------------------------------ */
/* Registration                                                              */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_descriptor dnsweird_chef = {
	.abi_version = NDL_CHEF_ABI_VERSION,
	.struct_size = sizeof(struct ndl_chef_descriptor),
	.name = "DNSWeirdChef",
	.version = "1.0.0",
	.description = "odd DNS messages: reserved bits, unusual types and classes, tunnel-like labels",
	.state_size = sizeof(struct dnsweird_ctx),
	.options = dnsweird_options,
	.init = dnsweird_init,
	.on_packet = dnsweird_packet,
	.on_interval = dnsweird_interval,
	.fini = dnsweird_fini,
	.flags = NDL_CHEF_F_ANY_THREAD,
};

/*
 * The chef's only exported symbol. Returns the static descriptor above
 * (never NULL, owned by this module). Called once by the kitchen's loader.
 */
NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void);

NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void)
{
	return &dnsweird_chef;
}
