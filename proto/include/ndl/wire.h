/* SPDX-License-Identifier: MIT */
/*
 * ndl/wire.h - constants of the netdumplings wire protocol (docs/protocol.md).
 * With these defaults a hub, kitchen or eater speaks exactly what
 * netdumplings 0.5.1 speaks.
 */
#ifndef NDL_WIRE_H
#define NDL_WIRE_H

#define NDL_HUB_DEFAULT_ADDRESS    "localhost"
#define NDL_HUB_DEFAULT_IN_PORT    11347   /* kitchens connect here */
#define NDL_HUB_DEFAULT_OUT_PORT   11348   /* eaters connect here */
#define NDL_HUB_DEFAULT_STATUS_FREQ 5      /* seconds between status dumplings */

#define NDL_KITCHEN_DEFAULT_NAME   "default_kitchen"
#define NDL_KITCHEN_DEFAULT_FILTER "tcp or udp or arp"
#define NDL_KITCHEN_DEFAULT_POKE   5.0     /* seconds between interval handlers */
#define NDL_EATER_DEFAULT_NAME     "printereater"

/* Largest frame a hub accepts by default (netdumplings stopped at 1 MiB). */
#define NDL_DEFAULT_MAX_FRAME      (16u * 1024u * 1024u)

/* The hub's own status dumplings. */
#define NDL_STATUS_CHEF            "SystemStatusChef"

/* Driver names in metadata.driver */
#define NDL_DRIVER_NAME_PACKET     "packet"
#define NDL_DRIVER_NAME_INTERVAL   "interval"

/* Close codes. 1xxx are RFC 6455's; 41xx are netdumplings' own. */
#define NDL_CLOSE_GOING_AWAY       1001  /* hub or client shutting down */
#define NDL_CLOSE_UNSUPPORTED      1003  /* binary frame */
#define NDL_CLOSE_INVALID_PAYLOAD  1007  /* frame is not JSON (or not UTF-8) */
#define NDL_CLOSE_POLICY           1008  /* malformed hello */
#define NDL_CLOSE_TOO_BIG          1009  /* frame larger than the hub's limit */
#define NDL_CLOSE_CANCELLED        4101  /* eater cancelled */
#define NDL_CLOSE_EATER_FULL       4102  /* eater got the number it asked for */
#define NDL_CLOSE_LAGGING          4103  /* eater's queue full under --lag-policy disconnect */
#define NDL_CLOSE_UNAUTHORIZED     4104  /* hello token missing or wrong */

/* Subprotocols (docs/protocol.md sections 1 and 10). */
#define NDL_SUBPROTOCOL            "netdumplings"
#define NDL_SUBPROTOCOL_BATCH      "netdumplings.batch.v1"

/* The hub's drop notice under --lag-policy drop-oldest (section 11). */
#define NDL_DROPS_CHEF             "SystemDropsChef"

#endif /* NDL_WIRE_H */
