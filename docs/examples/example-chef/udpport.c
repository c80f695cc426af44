/* SPDX-License-Identifier: MIT */
/*
 * UDPPortChef - an example chef to copy: how many UDP datagrams went to
 * each destination port during the last poke interval.
 *
 * Every interval it emits
 *   {"udp_ports": {"53": 4, "123": 1}, "since": 1795322025.000000,
 *    "until": 1795322030.000000}
 * and starts counting again. Ports with fewer than min_packets datagrams
 * in the interval are left out.
 *
 * What every chef does, in the order this file does it:
 *   1. include <ndl/chef.h>, the only header a chef needs (found with
 *      `pkg-config --cflags netdumplings-chef`);
 *   2. declare a context struct: the kitchen allocates state_size zeroed
 *      bytes for it and passes them as ctx->state to every callback;
 *   3. write the callbacks: init (read options), on_packet and/or
 *      on_interval (emit dumplings), fini (free what init allocated);
 *   4. declare its options in a table, so the kitchen can reject unknown
 *      keys and bad values before the chef starts;
 *   5. fill in a static const descriptor and export one function,
 *      ndl_chef_entry, returning it. Build with -fvisibility=hidden so that
 *      nothing else leaks out of the .so.
 * Everything the chef needs from the kitchen comes through ctx->host; a
 * chef never calls kitchen functions by name.
 */
#include <stdint.h>
#include <stdio.h>
#include <ndl/chef.h>

/* 2. The context, in ctx->state. */
struct udpport_ctx {
	int64_t min_packets;          /* option, read once in init */
	ndl_time_ns since;            /* start of the interval counted; 0 before any */
	uint64_t datagrams;           /* counted in this interval, all ports */
	uint32_t per_port[65536];     /* counted in this interval, by port */
};

/* 3. Callbacks. All run on the kitchen's thread, one at a time. */

static int udpport_init(struct ndl_chef_ctx *ctx)
{
	struct udpport_ctx *c = ctx->state;

	/* Options arrive validated: the value is within the table's bounds. */
	c->min_packets = ctx->host->config_int(ctx, "min_packets");
	return 0;
}

static void udpport_packet(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt)
{
	struct udpport_ctx *c = ctx->state;

	/* The kitchen decoded the packet already: test its layer bits. */
	if (!(pkt->layers & NDL_LAYER_UDP))
		return;
	if (!c->since)
		c->since = pkt->ts;   /* times come from the capture */
	if (c->per_port[pkt->dport] < UINT32_MAX)
		c->per_port[pkt->dport]++;
	c->datagrams++;
}

static void udpport_interval(struct ndl_chef_ctx *ctx)
{
	struct udpport_ctx *c = ctx->state;
	ndl_time_ns until = ctx->host->now(ctx);
	struct ndl_jw *w;
	char key[8];

	/*
	 * emit_begin returns a writer positioned at the payload, or NULL when
	 * the kitchen cannot take a dumpling now (it counts the drop). Write
	 * exactly one JSON value, then hand it over with emit_end.
	 */
	w = ctx->host->emit_begin(ctx, NDL_DRIVER_INTERVAL);
	if (w) {
		ndl_jw_begin_object(w);
		ndl_jw_key(w, "udp_ports");
		ndl_jw_begin_object(w);
		for (uint32_t port = 0; c->datagrams && port < 65536; port++) {
			if (c->per_port[port] == 0 ||
			    (int64_t)c->per_port[port] < c->min_packets)
				continue;
			snprintf(key, sizeof(key), "%u", (unsigned int)port);
			ndl_jw_key(w, key);
			ndl_jw_uint(w, c->per_port[port]);
		}
		ndl_jw_end_object(w);
		ndl_jw_key(w, "since");
		ndl_jw_time(w, c->since ? c->since : until);
		ndl_jw_key(w, "until");
		ndl_jw_time(w, until);
		ndl_jw_end_object(w);
		ctx->host->emit_end(ctx, w);
	}

	/* Start the next interval. */
	if (c->datagrams) {
		for (uint32_t port = 0; port < 65536; port++)
			c->per_port[port] = 0;
		c->datagrams = 0;
	}
	c->since = until;
}

static void udpport_fini(struct ndl_chef_ctx *ctx)
{
	/* Nothing was allocated: the kitchen frees ctx->state itself. */
	(void)ctx;
}

/* 4. Options: "-o UDPPortChef.min_packets=10" on nd-sniff's command line. */
static const struct ndl_chef_option udpport_options[] = {
	{
		.key = "min_packets",
		.type = NDL_OPT_INT,
		.default_value = "1",
		.min = 1,
		.max = 1e9,
		.help = "leave out ports with fewer datagrams than this in an interval",
	},
	{ .key = NULL },
};

/* 5. The descriptor, and the one exported function. */
static const struct ndl_chef_descriptor udpport_chef = {
	.abi_version = NDL_CHEF_ABI_VERSION,
	.struct_size = sizeof(struct ndl_chef_descriptor),
	.name = "UDPPortChef",
	.version = "1.0.0",
	.description = "UDP datagrams per destination port, per interval (example chef)",
	.state_size = sizeof(struct udpport_ctx),
	.options = udpport_options,
	.init = udpport_init,
	.on_packet = udpport_packet,
	.on_interval = udpport_interval,
	.fini = udpport_fini,
};

/* Returns the descriptor above; the kitchen calls it once after loading. */
NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void);

NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void)
{
	return &udpport_chef;
}
