/* SPDX-License-Identifier: MIT */
/*
 * hub.h - the netdumplings hub: kitchens send dumplings in on one port,
 * eaters receive every dumpling on the other (docs/protocol.md).
 *
 * WebSocket (RFC 6455) through libwebsockets on a caller-owned libuv loop.
 * Everything runs on that loop's thread.
 */
#ifndef NDL_HUB_HUB_H
#define NDL_HUB_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* What happens when an eater's queue is full (docs/protocol.md section 11). */
enum ndl_hub_lag_policy {
	NDL_HUB_LAG_DROP_OLDEST = 0,   /* drop the oldest, then send a drop notice */
	NDL_HUB_LAG_DISCONNECT = 1,    /* close the eater with 4103 */
};

struct ndl_hub_config {
	const char *address;        /* host name or numeric address to bind */
	int in_port;                /* kitchens; 0 lets the OS choose */
	int out_port;               /* eaters; 0 lets the OS choose */
	double status_freq;         /* seconds between status dumplings (> 0) */
	size_t max_frame;           /* largest message accepted, bytes */
	size_t eater_queue;         /* dumplings queued per eater at most */
	size_t eater_queue_bytes;   /* payload bytes queued per eater at most */
	size_t max_clients;         /* connections per port at most */
	double hello_timeout;       /* seconds a client has to say hello (0: none) */

	/* Extensions (docs/protocol.md sections 10-13). */
	size_t batch_bytes;         /* largest batch written to a batch-mode eater */
	enum ndl_hub_lag_policy lag_policy;
	size_t max_per_address;     /* connections from one address (0: no limit) */
	double kitchen_rate;        /* dumplings/s per kitchen (0: no limit) */
	const char *kitchen_token_file;   /* NULL: kitchens need no token */
	const char *eater_token_file;     /* NULL: eaters need no token */
	const char *tls_cert;       /* PEM certificate chain; with tls_key: wss only */
	const char *tls_key;        /* PEM private key */
	const char *const *allow_origins; /* NULL-terminated; NULL: same origin only */
	bool metrics;               /* serve GET /metrics on the eater port */
	const char *www_dir;        /* dashboard files served at / on the eater port */
	const char *sdk_dir;        /* browser SDK files served at /sdk/ */
};

/* Fill cfg with the netdumplings 0.5.1 defaults and our own limits. */
void ndl_hub_config_defaults(struct ndl_hub_config *cfg);

/* Why frames are refused; counted in the status payload's "rejections". */
enum ndl_hub_reject {
	NDL_HUB_REJ_HELLO_NOT_JSON,
	NDL_HUB_REJ_HELLO_NOT_OBJECT,
	NDL_HUB_REJ_HELLO_NO_NAME,
	NDL_HUB_REJ_HELLO_TIMEOUT,
	NDL_HUB_REJ_NO_HELLO,
	NDL_HUB_REJ_BINARY,
	NDL_HUB_REJ_TOO_BIG,
	NDL_HUB_REJ_NOT_JSON,
	NDL_HUB_REJ_NOT_DUMPLING,
	NDL_HUB_REJ_EATER_FRAME,
	NDL_HUB_REJ_TOO_MANY_CLIENTS,
	NDL_HUB_REJ_BAD_SUBSCRIBE,
	NDL_HUB_REJ_BAD_TOKEN,
	NDL_HUB_REJ_ORIGIN,
	NDL_HUB_REJ_TOO_MANY_FROM_ADDRESS,
	NDL_HUB_REJ_EATER_TOO_SLOW,
	NDL_HUB_REJ_COUNT
};

/* The key used for reason r in "rejections" (static string). */
const char *ndl_hub_reject_name(enum ndl_hub_reject r);

struct ndl_hub;

/*
 * Create a hub that will run on loop (which stays the caller's); cfg is
 * copied, its strings must outlive the hub. Puts three timer handles on
 * the loop. Returns NULL when out of memory.
 */
struct ndl_hub *ndl_hub_new(uv_loop_t *loop, const struct ndl_hub_config *cfg);

/*
 * Resolve the address, create the libwebsockets context on the loop and
 * listen on both ports; the first status dumpling goes out when the loop
 * runs. Returns 0, or a negative errno with a one-line reason in err (size
 * errlen) when err is not NULL. Whether it succeeds or not, the caller
 * ends with ndl_hub_shutdown(), runs the loop until done, then
 * ndl_hub_free().
 */
int ndl_hub_start(struct ndl_hub *hub, char *err, size_t errlen);

/*
 * Close every connection with 1001 (going away), waiting at most two
 * seconds, then destroy the libwebsockets context and close the hub's
 * handles. done(arg) runs on the loop once nothing of the hub is left on
 * it; then the loop can be closed. A second call is ignored.
 */
void ndl_hub_shutdown(struct ndl_hub *hub, void (*done)(void *arg), void *arg);

/* Free the hub after shutdown completed (done ran). NULL is a no-op. */
void ndl_hub_free(struct ndl_hub *hub);

/* The bound ports (useful when 0 was asked for). */
int ndl_hub_in_port(const struct ndl_hub *hub);
int ndl_hub_out_port(const struct ndl_hub *hub);

/*
 * Apply a new configuration to a running hub (SIGHUP): the limits, the lag
 * policy, the origins, the status frequency and the token files (read
 * again). The address, the ports and TLS cannot change while running; a
 * change to them is refused. The dashboard folders stay those of the start. cfg is copied; its strings must outlive the
 * hub or the next reconfiguration. Returns 0, or a negative errno with a
 * one-line reason in err; on failure nothing changed. Loop thread.
 */
int ndl_hub_reconfigure(struct ndl_hub *hub, const struct ndl_hub_config *cfg, char *err,
			size_t errlen);

/* The i-th numeric address listened on (from 0), NULL past the last. */
const char *ndl_hub_address(const struct ndl_hub *hub, int i);

#endif /* NDL_HUB_HUB_H */
