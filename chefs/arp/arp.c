/* SPDX-License-Identifier: MIT */
/*
 * ARPChef - who asks for and announces which IPv4 address (RFC 826).
 *
 * For every ARP packet with Ethernet hardware and IPv4 protocol addresses
 * (the only kind the kitchen decodes into struct ndl_packet) it emits
 *   {"operation": "reply", "src_hw": "aa:bb:cc:dd:ee:ff", "src_ip": "192.0.2.1",
 *    "dst_hw": "...", "dst_ip": "...", "time": 1795322030.150690,
 *    "notes": null}
 * operation being "request" (1), "reply" (2) or the number of any other
 * operation. For replies the chef remembers which hardware address answered
 * for each sender IP address and says so in notes:
 *   "source device is new"              the sender IP was not known,
 *   "source device has new IP address"  it was known with another MAC.
 * The second wording comes from netdumplings 0.5.1 and is kept for eaters
 * that match on it, although what changed is the MAC, not the IP.
 *
 * The table is bounded (option max_devices); when full, the address heard
 * from least recently is forgotten and counted under "evictions".
 * No interval dumplings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <ndl/chef.h>

#include "lrumap.h"

#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY   2

/* One sender IP address and the hardware address that last answered for it. */
struct device {
	struct lru_node node;        /* keyed by ip[4] */
	uint8_t ip[4];
	uint8_t mac[6];
};

/* The chef's context, in ctx->state (zeroed by the kitchen). */
struct arp_ctx {
	struct lru_map devices;
	bool ready;                  /* init got as far as making the map */
};

/* ------------------------------------------------------------------------ */
/* The device table                                                          */
/* ------------------------------------------------------------------------ */

/*
 * Record that ip answered from mac. Returns the note for the dumpling, NULL
 * when the device was known with this MAC already.
 */
static const char *record_reply(struct ndl_chef_ctx *ctx, struct arp_ctx *c,
				const uint8_t ip[4], const uint8_t mac[6])
{
	uint64_t hash = lru_hash(&c->devices, ip, 4);
	struct lru_node *n = lru_map_find(&c->devices, ip, 4, hash);
	struct device *d;

	if (n) {
		d = LRU_ENTRY(n, struct device, node);
		lru_map_touch(&c->devices, n);
		if (memcmp(d->mac, mac, 6) == 0)
			return NULL;
		memcpy(d->mac, mac, 6);
		return "source device has new IP address";
	}

	if (lru_map_full(&c->devices)) {
		/* Reuse the entry of the device heard from least recently. */
		n = lru_map_oldest(&c->devices);
		lru_map_remove(&c->devices, n);
		d = LRU_ENTRY(n, struct device, node);
		ctx->host->count(ctx, "evictions", 1);
	} else {
		d = malloc(sizeof(*d));
		if (!d) {
			ctx->host->count(ctx, "alloc_failures", 1);
			ctx->host->log(ctx, NDL_LOG_WARN,
				       "out of memory: device %u.%u.%u.%u not recorded",
				       ip[0], ip[1], ip[2], ip[3]);
			return "source device is new";
		}
	}
	memcpy(d->ip, ip, 4);
	memcpy(d->mac, mac, 6);
	d->node.key = d->ip;
	d->node.keylen = 4;
	d->node.hash = hash;
	lru_map_insert(&c->devices, &d->node);
	return "source device is new";
}

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                 */
/* ------------------------------------------------------------------------ */

static int arp_init(struct ndl_chef_ctx *ctx)
{
	struct arp_ctx *c = ctx->state;
	int64_t max_devices = ctx->host->config_int(ctx, "max_devices");
	int err;

	err = lru_map_init(&c->devices, (size_t)max_devices);
	if (err < 0)
		return err;
	c->ready = true;
	return 0;
}

static void arp_packet(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt)
{
	struct arp_ctx *c = ctx->state;
	const char *notes = NULL;
	struct ndl_jw *w;

	if (!(pkt->layers & NDL_LAYER_ARP))
		return;
	if (pkt->arp_op == ARP_OP_REPLY)
		notes = record_reply(ctx, c, pkt->arp_spa, pkt->arp_sha);

	w = ctx->host->emit_begin(ctx, NDL_DRIVER_PACKET);
	if (!w)
		return;
	ndl_jw_begin_object(w);
	ndl_jw_key(w, "operation");
	if (pkt->arp_op == ARP_OP_REQUEST)
		ndl_jw_string(w, "request");
	else if (pkt->arp_op == ARP_OP_REPLY)
		ndl_jw_string(w, "reply");
	else
		ndl_jw_int(w, pkt->arp_op);
	ndl_jw_key(w, "src_hw");
	ndl_jw_mac(w, pkt->arp_sha);
	ndl_jw_key(w, "src_ip");
	ndl_jw_ip(w, 4, pkt->arp_spa);
	ndl_jw_key(w, "dst_hw");
	ndl_jw_mac(w, pkt->arp_tha);
	ndl_jw_key(w, "dst_ip");
	ndl_jw_ip(w, 4, pkt->arp_tpa);
	ndl_jw_key(w, "time");
	ndl_jw_time(w, pkt->ts);
	ndl_jw_key(w, "notes");
	if (notes)
		ndl_jw_string(w, notes);
	else
		ndl_jw_null(w);
	ndl_jw_end_object(w);
	ctx->host->emit_end(ctx, w);
}

static void arp_fini(struct ndl_chef_ctx *ctx)
{
	struct arp_ctx *c = ctx->state;
	struct lru_node *n;

	if (!c->ready)
		return;
	while ((n = lru_map_oldest(&c->devices))) {
		lru_map_remove(&c->devices, n);
		free(LRU_ENTRY(n, struct device, node));
	}
	lru_map_fini(&c->devices);
	c->ready = false;
}

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_option arp_options[] = {
	{
		.key = "max_devices",
		.type = NDL_OPT_INT,
		.default_value = "65536",
		.min = 1,
		.max = 16777216,
		.help = "most IPv4 addresses remembered; the one heard from least recently is forgotten first",
	},
	{ .key = NULL },
};

/* ------------------------------------------------------------------------ */
/* Registration                                                              */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_descriptor arp_chef = {
	.abi_version = NDL_CHEF_ABI_VERSION,
	.struct_size = sizeof(struct ndl_chef_descriptor),
	.name = "ARPChef",
	.version = "1.0.0",
	.description = "every ARP request and reply, noting new devices and changed MACs",
	.state_size = sizeof(struct arp_ctx),
	.options = arp_options,
	.init = arp_init,
	.on_packet = arp_packet,
	.on_interval = NULL,
	.fini = arp_fini,
	.flags = NDL_CHEF_F_ANY_THREAD,
};

/*
 * The chef's only exported symbol. Returns the static descriptor above
 * (never NULL, owned by this module). Called once by the kitchen's loader.
 */
NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void);

NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void)
{
	return &arp_chef;
}
