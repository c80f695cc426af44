/* SPDX-License-Identifier: MIT */
/*
 * hub_client.h - the kitchen's WebSocket connection to the hub
 * (RFC 6455 client, libwebsockets on the caller's libuv loop).
 *
 * The first message is the kitchen hello; every dumpling after it is one text
 * message, or, when the hub agreed to the batch subprotocol
 * (docs/protocol.md section 10), as many dumplings as fit in batch_bytes, in
 * JSON Lines form, one message per writeable callback. Dumplings wait in a
 * bounded outbox (count and bytes) until the socket takes them. With tls,
 * the connection is wss:// and the hub's certificate is verified (RFC 6455
 * section 11.1.2). Everything runs on the loop's thread.
 *
 * With reconnect on, a failed or lost connection is retried with
 * exponential backoff and jitter; dumplings keep queuing in the outbox
 * meanwhile, and each new connection sends the hello again, then the
 * outbox in order.
 */
#ifndef NDL_KITCHEN_HUB_CLIENT_H
#define NDL_KITCHEN_HUB_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define NDL__OUTBOX_DEFAULT_COUNT 65536u
#define NDL__OUTBOX_DEFAULT_BYTES (64u * 1024u * 1024u)
/* Most bytes of dumplings per batch message, by default. */
#define NDL__BATCH_DEFAULT_BYTES 65536u

struct ndl__hub_client_config {
	const char *host;          /* name, IPv4 or IPv6 literal (no brackets) */
	int port;
	const char *hello;         /* JSON text of the kitchen hello (copied, and
				    * wiped when freed: it may hold a token) */
	size_t outbox_count;       /* most dumplings waiting */
	size_t outbox_bytes;       /* most bytes waiting */
	bool verbose;              /* let libwebsockets log warnings too */
	/*
	 * Replay: the producer pauses at the high-water mark, so accept what
	 * one more packet brings even past the limits, up to four times them.
	 */
	bool lossless;
	/* Retry a failed or lost connection instead of reporting it closed. */
	bool reconnect;
	uint64_t reconnect_max_ms; /* longest wait between attempts */
	/* wss://: TLS, verifying the hub's certificate and name. */
	bool tls;
	/* PEM CA bundle to verify it with; NULL: the system's store. */
	const char *ca_file;
	/* Offer the batch subprotocol; without it, or when the hub does not
	 * choose it, one dumpling per message. */
	bool batch;
	size_t batch_bytes;        /* 0: NDL__BATCH_DEFAULT_BYTES */
};

struct ndl__hub_client_callbacks {
	/* The hello went out: dumplings may follow. */
	void (*on_open)(void *arg);
	/* The outbox fell to a quarter of its limits (replay may continue). */
	void (*on_drain)(void *arg);
	/*
	 * The connection is over: failed to connect (code 0, reason says why),
	 * closed by the hub (its close code and reason), or closed by us after
	 * ndl__hub_client_close (code 1000). Called once. With reconnect on,
	 * only for our own close or a close code that says our messages are
	 * wrong (1003, 1007, 1008, 1009) or that retrying cannot help, such as
	 * 4104 (the hub refused our token).
	 */
	void (*on_closed)(void *arg, int code, const char *reason, bool by_us);
	void (*log)(void *arg, int level, const char *line);
	void *arg;
};

struct ndl__hub_client;

/*
 * Create the libwebsockets context on loop and start connecting.
 * Returns 0 and *out, or a negative errno with a reason in err. The
 * outcome of the connection arrives through the callbacks.
 */
int ndl__hub_client_new(uv_loop_t *loop, const struct ndl__hub_client_config *cfg,
			const struct ndl__hub_client_callbacks *cb,
			struct ndl__hub_client **out, char *err, size_t errlen);

/*
 * Queue one dumpling (copied). Returns 0, -ENOBUFS when the outbox is full
 * (counted; with lossless, when it holds four times its limits), -ENOTCONN
 * when the connection is closing or over (or, without reconnect, not open).
 */
int ndl__hub_client_send(struct ndl__hub_client *h, const char *json, size_t len);

/* True while the outbox holds at least half its limits (replay pauses). */
bool ndl__hub_client_above_high_water(struct ndl__hub_client *h);

/*
 * Send what is queued, then a ping, and once the hub answered it (so it
 * read everything and did not refuse us, e.g. with 4104), close with 1000
 * (normal closure, RFC 6455 section 7.4.1); while the hub is away, that
 * waits for a connection. on_closed follows.
 */
void ndl__hub_client_close(struct ndl__hub_client *h);

struct ndl__hub_client_stats {
	uint64_t sent;            /* dumplings written to the socket */
	uint64_t refused;         /* refused because the outbox was full */
	size_t queued;            /* dumplings waiting now */
	size_t queued_bytes;
	uint64_t reconnects;      /* connection attempts after the first */
	uint64_t refused_away;    /* of refused, while there was no connection */
	bool connected;           /* open now */
	bool batch;               /* the last connection is in batch mode */
	uint64_t messages;        /* WebSocket messages of dumplings written */
};

/* Copy the counters into out. Thread: the loop's. */
void ndl__hub_client_stats(const struct ndl__hub_client *h, struct ndl__hub_client_stats *out);

/*
 * Start destroying the libwebsockets context (ndl__ws_teardown_start): it
 * goes away over the next loop iterations, and keeps the loop running until
 * it has. Callable from any loop callback, including the hub client's own.
 * Idempotent; NULL is a no-op.
 */
void ndl__hub_client_shutdown(struct ndl__hub_client *h);

/*
 * Free everything; call it outside the loop's callbacks, normally after
 * uv_run returned. Shuts down first if that was not done, and runs the loop
 * until the context is gone. NULL is a no-op.
 */
void ndl__hub_client_free(struct ndl__hub_client *h);

#endif /* NDL_KITCHEN_HUB_CLIENT_H */
