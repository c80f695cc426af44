/* SPDX-License-Identifier: MIT */
/*
 * hub-int.h - the hub's state, shared by hub.c (connections, fan-out) and
 * status.c (the SystemStatusChef dumpling). Not installed.
 */
#ifndef NDL_HUB_HUB_INT_H
#define NDL_HUB_HUB_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <uv.h>

#include "auth.h"
#include "hub.h"
#include "log.h"
#include "msgq.h"
#include "sub.h"
#include "ws.h"

#define NDL_HUB_MAX_ADDRS 4         /* distinct addresses a name may resolve to */
#define NDL_HUB_HELLO_MAX 65536u    /* a hello larger than this is refused (1009) */
#define NDL_HUB_SHUTDOWN_GRACE_MS 2000
#define NDL_HUB_HOST_LEN 64         /* numeric IPv4/IPv6 text */

enum ndl_hub_role {
	NDL_HUB_KITCHEN = 0,
	NDL_HUB_EATER = 1,
};

/* An intrusive doubly linked list; a head is a link pointing to itself. */
struct ndl_hub_link {
	struct ndl_hub_link *prev, *next;
};

/*
 * One WebSocket connection: libwebsockets allocates it as the per-session
 * data and frees it after LWS_CALLBACK_WSI_DESTROY; what it points to is
 * ours and is released when the connection closes.
 */
struct ndl_hub_conn {
	struct ndl_hub_link link;   /* in hub->pending until hello, then in a role list */
	struct ndl_hub *hub;        /* NULL until established and after cleanup */
	struct lws *wsi;
	enum ndl_hub_role role;
	bool batch;                 /* batch mode (docs/protocol.md section 10) */
	bool greeted;               /* a valid hello was received */
	bool write_asked;           /* a WRITEABLE callback is already due */
	int close_code;             /* close code we are sending, 0 if none */
	bool close_by_lws;          /* lws sends that close (reject_close) */
	const char *close_text;     /* static reason sent with close_code */
	int peer_close_code;        /* code from the peer's close frame, 0 if none */
	uint64_t connected_ns;      /* uv_hrtime() at the handshake */

	struct ndl_hub_msg *rx;     /* message being reassembled, NULL between messages */

	json_t *hello;              /* the hello as received (owned) */
	const char *name;           /* kitchen_name / eater_name, borrowed from hello */
	char host[NDL_HUB_HOST_LEN];
	int port;

	uint64_t dumplings_in;      /* kitchen: dumplings accepted */
	uint64_t rate_limited;      /* kitchen: dumplings dropped over --kitchen-rate */
	uint64_t bad_lines;         /* kitchen: batch lines refused (not_a_dumpling) */
	struct ndl_hub_ratelimit rate;   /* kitchen: the --kitchen-rate bucket */
	struct ndl_hub_msgq q;      /* eater: dumplings waiting to be sent */
	bool full;                  /* eater: q filled up and has not drained to half */
	uint64_t dropped;           /* eater: dumplings dropped because q was full */
	uint64_t missed;            /* eater: dropped since the last drop notice */
	uint64_t sent;              /* eater: dumplings written */
	uint64_t sent_mark;         /* eater: sent as an intake pause's window began */
	uint64_t ignored;           /* eater: frames ignored after the hello */
	uint64_t not_subscribed;    /* eater: dumplings not sent because of sub */
	struct ndl_hub_sub sub;     /* eater: what it wants; empty means all */
	bool rx_skip;               /* eater: discarding an oversized message */

	/* A plain HTTP request (GET /metrics) on a listener. */
	char *http_body;            /* malloc'd response body, NULL when none */
	size_t http_len, http_off;
};

/* One listening vhost: a role on one address. */
struct ndl_hub_listener {
	struct ndl_hub *hub;
	enum ndl_hub_role role;
	struct lws_vhost *vh;
	struct lws_protocols protocols[3];   /* per-message, batch, terminator */
	struct lws_http_mount mounts[3];     /* eater port: /metrics, /sdk, / */
};

struct ndl_hub {
	uv_loop_t *loop;
	struct ndl_hub_config cfg;
	struct lws_context *lws;    /* set to NULL by libwebsockets when destroyed */

	struct ndl_hub_listener listeners[2 * NDL_HUB_MAX_ADDRS];
	int nlisteners;
	char addrs[NDL_HUB_MAX_ADDRS][NDL_HUB_HOST_LEN];
	int naddrs;
	int ports[2];               /* bound port per role */

	struct ndl_hub_link pending;      /* connected, no hello yet */
	struct ndl_hub_link greeted[2];   /* per role, in hello order */
	size_t nconns[2];                 /* all established connections per role */
	size_t ngreeted[2];

	uint64_t start_ns;
	uint64_t total_in;
	uint64_t total_out;
	uint64_t total_dropped;
	uint64_t total_not_subscribed;
	uint64_t total_rate_limited;
	size_t eaters_full;         /* greeted eaters with full set */
	bool intake_paused;         /* kitchens are not read (check_intake) */
	uint64_t intake_paused_ns;  /* uv_hrtime() when that began */
	uint64_t intake_window_ns;  /* and when its latest window began */
	uint64_t intake_cooldown_until; /* no pause before (eaters were stalled) */
	uint64_t intake_pauses;     /* how often */
	struct ndl_hub_tokens tokens[2];  /* per role; none required when empty */
	char *www_dir, *sdk_dir;    /* copies the mounts keep using (owned) */
	unsigned char *scratch;     /* LWS_PRE + scratch_cap: batches being written */
	size_t scratch_cap;
	uint64_t rejections[NDL_HUB_REJ_COUNT];
	struct ndl_hub_ratelimit reject_rl;

	uv_timer_t status_timer;
	uv_timer_t house_timer;     /* hello deadlines, once a second */
	uv_timer_t stop_timer;      /* shutdown grace */
	struct ndl__ws_teardown teardown;   /* destroys lws once connections are gone */
	int open_handles;
	bool started;
	bool stopping;
	bool destroying;
	bool done_called;
	bool shutdown_called;
	void (*done)(void *arg);
	void *done_arg;
};

/*
 * Build the status dumpling (netdumplings 0.5.1 payload plus our additive
 * fields) as a new message with one reference for the caller. Returns NULL
 * on allocation failure.
 */
struct ndl_hub_msg *ndl__hub_status_build(struct ndl_hub *hub);

/*
 * Build the Prometheus text exposition (version 0.0.4) of the hub's
 * counters into a malloc'd buffer the caller frees; *len receives its
 * length. Returns NULL when out of memory. Loop thread.
 */
char *ndl__hub_metrics_build(struct ndl_hub *hub, size_t *len);

/* Seconds since the epoch, as a float (metadata.creation_time). */
double ndl__hub_now_epoch(void);

#endif /* NDL_HUB_HUB_INT_H */
