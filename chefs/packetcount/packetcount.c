/* SPDX-License-Identifier: MIT */
/*
 * PacketCountChef - how many of each protocol layer the kitchen has seen.
 *
 * Every interval it emits the running totals since the kitchen started,
 *   {"packet_counts": {"Ethernet": 12, "IP": 10, "TCP": 6, "UDP": 4, ...}}
 * with the layer names netdumplings 0.5.1 reported (scapy's): "Ethernet",
 * "802.1Q" (once per VLAN tag), "cooked linux", "Loopback", "ARP", "IP",
 * "IPv6", "TCP", "UDP", "ICMP", "ICMPv6", "DNS", "Raw" (a transport payload
 * that is not DNS, or ICMP echo data) and "Padding". Keys are in byte order and only layers
 * seen at least once appear. No packet dumplings.
 *
 * Per packet the chef only tests the kitchen's layer bits (and, for a
 * transport payload, its ports and length: see dns_payload) and bumps
 * counters in an array; names are written only when a dumpling is made.
 */
#include <stdbool.h>
#include <stdint.h>
#include <ndl/chef.h>

/* Counted layers, in the byte order of their names (the payload's order). */
enum count_layer {
	COUNT_VLAN,          /* "802.1Q" */
	COUNT_ARP,           /* "ARP" */
	COUNT_DNS,           /* "DNS" */
	COUNT_ETHERNET,      /* "Ethernet" */
	COUNT_ICMP,          /* "ICMP" */
	COUNT_ICMPV6,        /* "ICMPv6" */
	COUNT_IP,            /* "IP" */
	COUNT_IPV6,          /* "IPv6" */
	COUNT_LOOPBACK,      /* "Loopback" */
	COUNT_PADDING,       /* "Padding" */
	COUNT_RAW,           /* "Raw" */
	COUNT_TCP,           /* "TCP" */
	COUNT_UDP,           /* "UDP" */
	COUNT_SLL,           /* "cooked linux" */
	COUNT_N
};

/* The chef's context, in ctx->state (zeroed by the kitchen). */
struct packetcount_ctx {
	uint64_t counts[COUNT_N];
};

/* ------------------------------------------------------------------------ */
/* Statics                                                                   */
/* ------------------------------------------------------------------------ */

static const char *const layer_names[COUNT_N] = {
	[COUNT_VLAN] = "802.1Q",
	[COUNT_ARP] = "ARP",
	[COUNT_DNS] = "DNS",
	[COUNT_ETHERNET] = "Ethernet",
	[COUNT_ICMP] = "ICMP",
	[COUNT_ICMPV6] = "ICMPv6",
	[COUNT_IP] = "IP",
	[COUNT_IPV6] = "IPv6",
	[COUNT_LOOPBACK] = "Loopback",
	[COUNT_PADDING] = "Padding",
	[COUNT_RAW] = "Raw",
	[COUNT_TCP] = "TCP",
	[COUNT_UDP] = "UDP",
	[COUNT_SLL] = "cooked linux",
};

/* Layer bits counted as they are, one counter each. */
static const struct {
	uint32_t bit;
	enum count_layer counter;
} simple_layers[] = {
	{ NDL_LAYER_ETHERNET, COUNT_ETHERNET },
	{ NDL_LAYER_SLL, COUNT_SLL },
	{ NDL_LAYER_NULL, COUNT_LOOPBACK },
	{ NDL_LAYER_ARP, COUNT_ARP },
	{ NDL_LAYER_IPV4, COUNT_IP },
	{ NDL_LAYER_IPV6, COUNT_IPV6 },
	{ NDL_LAYER_TCP, COUNT_TCP },
	{ NDL_LAYER_UDP, COUNT_UDP },
	{ NDL_LAYER_ICMP, COUNT_ICMP },
	{ NDL_LAYER_ICMPV6, COUNT_ICMPV6 },
	{ NDL_LAYER_PADDING, COUNT_PADDING },
};

/*
 * Whether pkt carries what the kitchen's DNS service would hand out
 * (ndl_host.dns not NULL): a UDP payload to or from port 53 or 5353, or a
 * TCP payload to or from port 53, that holds the whole 12-byte DNS header
 * (RFC 1035 4.1.1) - over TCP after the two-byte length (RFC 7766 8) and
 * within that length. The rest of the message does not matter: a DNS
 * layer is counted however its sections parse. Deciding this from the
 * ports and lengths spares every DNS packet the parse of its names and
 * records, which nothing here reads.
 */
static bool dns_payload(const struct ndl_packet *pkt)
{
	enum { DNS_HEADER_LEN = 12 };
	uint32_t len = pkt->payload_len;

	if (!pkt->payload)
		return false;
	if (pkt->layers & NDL_LAYER_UDP)
		return (pkt->sport == 53 || pkt->dport == 53 ||
			pkt->sport == 5353 || pkt->dport == 5353) &&
		       len >= DNS_HEADER_LEN;
	if (pkt->layers & NDL_LAYER_TCP) {
		uint32_t prefix;

		if ((pkt->sport != 53 && pkt->dport != 53) || len < 2 + DNS_HEADER_LEN)
			return false;
		prefix = (uint32_t)pkt->payload[0] << 8 | pkt->payload[1];
		return prefix >= DNS_HEADER_LEN;
	}
	return false;
}

/*
 * Whether scapy would have shown a Raw layer for the payload the kitchen
 * found. The kitchen calls everything after the first four bytes of an
 * ICMP message its payload; scapy keeps those bytes inside the ICMP layers,
 * except the data of an ICMP echo request or reply (RFC 792) after the
 * identifier and sequence number.
 */
static bool raw_payload(const struct ndl_packet *pkt)
{
	if (pkt->layers & NDL_LAYER_ICMPV6)
		return false;
	if (pkt->layers & NDL_LAYER_ICMP)
		return (pkt->icmp_type == 0 || pkt->icmp_type == 8) && pkt->payload_len > 4;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                 */
/* ------------------------------------------------------------------------ */

static int packetcount_init(struct ndl_chef_ctx *ctx)
{
	return 0;
}

static void packetcount_packet(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt)
{
	struct packetcount_ctx *c = ctx->state;
	uint32_t layers = pkt->layers;

	/* Adding 0 or 1 to every counter: no branch to mispredict on a mixed stream. */
	for (size_t i = 0; i < sizeof(simple_layers) / sizeof(simple_layers[0]); i++)
		c->counts[simple_layers[i].counter] += (layers & simple_layers[i].bit) != 0;
	if (layers & NDL_LAYER_VLAN)
		c->counts[COUNT_VLAN] += pkt->n_vlan ? pkt->n_vlan : 1;
	if (layers & NDL_LAYER_PAYLOAD) {
		if (dns_payload(pkt))
			c->counts[COUNT_DNS]++;
		else if (raw_payload(pkt))
			c->counts[COUNT_RAW]++;
	}
}

static void packetcount_interval(struct ndl_chef_ctx *ctx)
{
	struct packetcount_ctx *c = ctx->state;
	struct ndl_jw *w = ctx->host->emit_begin(ctx, NDL_DRIVER_INTERVAL);

	if (!w)
		return;
	ndl_jw_begin_object(w);
	ndl_jw_key(w, "packet_counts");
	ndl_jw_begin_object(w);
	for (size_t i = 0; i < COUNT_N; i++) {
		if (!c->counts[i])
			continue;
		ndl_jw_key(w, layer_names[i]);
		ndl_jw_uint(w, c->counts[i]);
	}
	ndl_jw_end_object(w);
	ndl_jw_end_object(w);
	ctx->host->emit_end(ctx, w);
}

static void packetcount_fini(struct ndl_chef_ctx *ctx)
{
}

/* ------------------------------------------------------------------------ */
/* Registration                                                              */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_descriptor packetcount_chef = {
	.abi_version = NDL_CHEF_ABI_VERSION,
	.struct_size = sizeof(struct ndl_chef_descriptor),
	.name = "PacketCountChef",
	.version = "1.0.0",
	.description = "running count of each protocol layer seen, per interval",
	.state_size = sizeof(struct packetcount_ctx),
	.options = NULL,
	.init = packetcount_init,
	.on_packet = packetcount_packet,
	.on_interval = packetcount_interval,
	.fini = packetcount_fini,
	.flags = NDL_CHEF_F_ANY_THREAD,
};

/*
 * The chef's only exported symbol. Returns the static descriptor above
 * (never NULL, owned by this module). Called once by the kitchen's loader.
 */
NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void);

NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void)
{
	return &packetcount_chef;
}
