/* SPDX-License-Identifier: MIT */
/*
 * IPConnChef - one dumpling per TCP or UDP packet, naming its endpoints.
 *
 * The view pynmsg's base:ipconn message gives of a connection attempt:
 *   {"proto": 6, "srcip": "192.0.2.1", "srcport": 40000,
 *    "dstip": "192.0.2.2", "dstport": 80, "time": 1795322030.150690}
 * with proto the IP protocol number (RFC 790: 6 TCP, 17 UDP) of an IPv4
 * (RFC 791) or IPv6 (RFC 8200) packet. A fragment counts only when the
 * kitchen decoded its transport header (the first fragment).
 *
 * Two options keep the stream bounded: sample=N emits the first of every N
 * matching packets (the rest are counted as "sampled_out"), and
 * rate_limit=R lets at most R dumplings out per second of capture time
 * (the rest are counted as "rate_limited").
 */
#include <stdint.h>
#include <ndl/chef.h>

#define NS_PER_SEC 1000000000LL

/* The chef's context, in ctx->state (zeroed by the kitchen). */
struct ipconn_ctx {
	uint64_t sample;             /* emit one in this many matching packets */
	uint64_t rate_limit;         /* dumplings per capture second; 0 unlimited */
	uint64_t matched;            /* matching packets so far */
	int64_t window;              /* the capture second being rate limited */
	uint64_t in_window;          /* dumplings emitted in that second */
};

/* ------------------------------------------------------------------------ */
/* Statics                                                                   */
/* ------------------------------------------------------------------------ */

/* Floor division of a time into whole seconds, also before 1970. */
static int64_t second_of(ndl_time_ns t)
{
	int64_t s = t / NS_PER_SEC;

	return (t % NS_PER_SEC < 0) ? s - 1 : s;
}

/*
 * Whether the rate limit lets one more dumpling out at capture time ts.
 * Windows are whole seconds of capture time; a packet stamped before the
 * current window (captures are not always in order) counts in it.
 */
static bool rate_allows(struct ipconn_ctx *c, ndl_time_ns ts)
{
	int64_t sec;

	if (!c->rate_limit)
		return true;
	sec = second_of(ts);
	if (sec > c->window) {
		c->window = sec;
		c->in_window = 0;
	}
	if (c->in_window >= c->rate_limit)
		return false;
	c->in_window++;
	return true;
}

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                 */
/* ------------------------------------------------------------------------ */

static int ipconn_init(struct ndl_chef_ctx *ctx)
{
	struct ipconn_ctx *c = ctx->state;

	c->sample = (uint64_t)ctx->host->config_int(ctx, "sample");
	c->rate_limit = (uint64_t)ctx->host->config_int(ctx, "rate_limit");
	c->window = INT64_MIN;
	return 0;
}

static void ipconn_packet(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt)
{
	struct ipconn_ctx *c = ctx->state;
	struct ndl_jw *w;
	int version;

	if (!(pkt->layers & (NDL_LAYER_IPV4 | NDL_LAYER_IPV6)) ||
	    !(pkt->layers & (NDL_LAYER_TCP | NDL_LAYER_UDP)))
		return;
	version = (pkt->layers & NDL_LAYER_IPV4) ? 4 : 6;

	if (c->matched++ % c->sample != 0) {
		ctx->host->count(ctx, "sampled_out", 1);
		return;
	}
	if (!rate_allows(c, pkt->ts)) {
		ctx->host->count(ctx, "rate_limited", 1);
		return;
	}

	w = ctx->host->emit_begin(ctx, NDL_DRIVER_PACKET);
	if (!w)
		return;
	ndl_jw_begin_object(w);
	ndl_jw_key(w, "proto");
	ndl_jw_uint(w, (pkt->layers & NDL_LAYER_TCP) ? 6 : 17);
	ndl_jw_key(w, "srcip");
	ndl_jw_ip(w, version, pkt->src_ip);
	ndl_jw_key(w, "srcport");
	ndl_jw_uint(w, pkt->sport);
	ndl_jw_key(w, "dstip");
	ndl_jw_ip(w, version, pkt->dst_ip);
	ndl_jw_key(w, "dstport");
	ndl_jw_uint(w, pkt->dport);
	ndl_jw_key(w, "time");
	ndl_jw_time(w, pkt->ts);
	ndl_jw_end_object(w);
	ctx->host->emit_end(ctx, w);
}

static void ipconn_fini(struct ndl_chef_ctx *ctx)
{
}

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_option ipconn_options[] = {
	{
		.key = "sample",
		.type = NDL_OPT_INT,
		.default_value = "1",
		.min = 1,
		.max = 1000000000,
		.help = "emit the first of every N TCP/UDP packets; the others count as sampled_out",
	},
	{
		.key = "rate_limit",
		.type = NDL_OPT_INT,
		.default_value = "0",
		.min = 0,
		.max = 1000000000,
		.help = "most dumplings per second of capture time (0: no limit); "
			"the others count as rate_limited",
	},
	{ .key = NULL },
};

/* ------------------------------------------------------------------------ */
/* Registration                                                              */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_descriptor ipconn_chef = {
	.abi_version = NDL_CHEF_ABI_VERSION,
	.struct_size = sizeof(struct ndl_chef_descriptor),
	.name = "IPConnChef",
	.version = "1.0.0",
	.description = "the endpoints of every TCP and UDP packet (pynmsg base:ipconn)",
	.state_size = sizeof(struct ipconn_ctx),
	.options = ipconn_options,
	.init = ipconn_init,
	.on_packet = ipconn_packet,
	.on_interval = NULL,
	.fini = ipconn_fini,
	.flags = NDL_CHEF_F_OPT_IN | NDL_CHEF_F_ANY_THREAD,
};

/*
 * The chef's only exported symbol. Returns the static descriptor above
 * (never NULL, owned by this module). Called once by the kitchen's loader.
 */
NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void);

NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void)
{
	return &ipconn_chef;
}
