/* SPDX-License-Identifier: MIT */
/**
 * @file ndl/eater.h
 * @brief The netdumplings eater SDK: receive dumplings from an nd-hub.
 *
 * An eater connects to the hub's eater port over a WebSocket (RFC 6455;
 * `ws://`, or `wss://` over TLS), sends its hello `{"eater_name": "..."}`
 * (plus a "token" when the hub wants one, see ndl_eater_set_token()), and
 * from then on only receives (apart from subscription updates, see
 * ndl_eater_subscribe()) dumplings,
 * `{"metadata": {"chef", "kitchen", "creation_time", "driver", "seq"}, "payload"}`:
 * one per text message, or several per message as JSON Lines when the hub
 * accepts the batch subprotocol the SDK offers (docs/protocol.md section
 * 10; see ndl_eater_set_batch()). The dumpling callback sees no difference.
 *
 * The SDK runs on a libuv loop: either the caller's (pass it to
 * ndl_eater_new()) or a private one it creates (pass NULL, then call
 * ndl_eater_run()). Every function must be called on the loop's thread;
 * every callback runs on that thread, from inside uv_run().
 *
 * Conventions (as in libuv):
 * - functions returning int return 0 or a negative errno value;
 *   functions returning a pointer return NULL and set errno on failure;
 * - when a call that takes a callback fails, that callback never runs;
 * - pointers handed to callbacks are borrowed for the duration of the
 *   callback only; strings passed in are copied unless stated otherwise.
 *
 * Lifecycle:
 * @code
 *   e = ndl_eater_new(loop, "printereater", "localhost:11348");
 *   ndl_eater_filter_chef(e, "DNSLookupChef");       // optional
 *   ndl_eater_start(e, on_connect, on_dumpling, on_close);
 *   uv_run(loop, UV_RUN_DEFAULT);                    // or ndl_eater_run(e)
 *   ...                                              // on_close has run
 *   ndl_eater_free(e);
 * @endcode
 *
 * Since 0.2 (symbol version NDL_EATER_0.2): tokens, `wss://` with a CA
 * file, the batch subprotocol, drop notices and sequence gaps reported
 * through an event callback, reconnecting with back-off, and more
 * counters. Defaults keep the behaviour of 0.1 apart from offering the
 * batch subprotocol, which a hub that does not know it ignores.
 *
 * Logging of libwebsockets is silenced by the SDK unless the environment
 * variable NDL_EATER_LWS_LOG holds an lws log level bit mask (e.g. 7).
 */
#ifndef NDL_EATER_H
#define NDL_EATER_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Version of this SDK (the library's soname is libndleater.so.0). */
#define NDL_EATER_VERSION_MAJOR 0
#define NDL_EATER_VERSION_MINOR 2
#define NDL_EATER_VERSION_PATCH 0

/** Default largest message the SDK reassembles (64 MiB). */
#define NDL_EATER_DEFAULT_MAX_MESSAGE (64u * 1024u * 1024u)

/** netdumplings' own close codes (RFC 6455 section 7.4.2 private range). */
#define NDL_EATER_CLOSE_CANCELLED 4101  /**< the eater was cancelled */
#define NDL_EATER_CLOSE_FULL      4102  /**< "dumpling eater is full": it got what it asked for */
#define NDL_EATER_CLOSE_LAGGING   4103  /**< from the hub: this eater read too slowly (since 0.2) */
#define NDL_EATER_CLOSE_UNAUTHORIZED 4104 /**< from the hub: token missing or wrong (since 0.2) */

/** The batch subprotocol the SDK offers (docs/protocol.md section 10; since 0.2). */
#define NDL_EATER_SUBPROTOCOL_BATCH "netdumplings.batch.v1"
/** Chef of the hub's drop notices (docs/protocol.md section 11; since 0.2). */
#define NDL_EATER_DROPS_CHEF "SystemDropsChef"
/** Longest token, in bytes, ndl_eater_set_token() accepts (since 0.2). */
#define NDL_EATER_MAX_TOKEN 4096
/** Most kitchens whose metadata.seq is followed for gaps (since 0.2). */
#define NDL_EATER_MAX_SEQ_KITCHENS 1024
/** Reconnect back-off defaults and bounds, in milliseconds (since 0.2). */
#define NDL_EATER_RECONNECT_MIN_MS     250u
#define NDL_EATER_RECONNECT_MAX_MS     30000u
#define NDL_EATER_RECONNECT_LIMIT_MS   3600000u

/** Most names each of the chef and kitchen filters may hold. */
#define NDL_EATER_MAX_FILTER_NAMES 256
/** Longest name (bytes) in a subscription, as the hub allows. */
#define NDL_EATER_MAX_SUBSCRIBE_NAME 256

/** Driver bits for ndl_eater_filter_drivers(). */
#define NDL_EATER_DRIVER_PACKET   0x1u
#define NDL_EATER_DRIVER_INTERVAL 0x2u
#define NDL_EATER_DRIVER_OTHER    0x4u  /**< driver absent or unknown */
#define NDL_EATER_DRIVER_ALL      0x7u

/** An eater: one connection to one hub. Opaque. */
struct ndl_eater;

/**
 * One dumpling as received. Every pointer is borrowed from the SDK and
 * valid only during the dumpling callback; json_incref() the payload or
 * copy what must outlive it.
 */
struct ndl_dumpling {
	const char *chef;       /**< metadata.chef; never NULL */
	const char *kitchen;    /**< metadata.kitchen; NULL when null or absent (hub status) */
	const char *driver;     /**< metadata.driver ("packet", "interval"); NULL when absent */
	double creation_time;   /**< metadata.creation_time, epoch seconds; 0 when absent */
	json_t *payload;        /**< the payload; NULL when absent */
	const char *raw;        /**< the dumpling exactly as received, NUL-terminated
				     (in batch mode its line, without the line feed) */
	size_t raw_len;         /**< bytes in raw, without the terminating NUL */
	/* Since 0.2 (the SDK allocates this struct; callers only read it): */
	uint64_t seq;           /**< metadata.seq, the kitchen's number; 0 when absent */
};

/** Counters of one eater; see ndl_eater_get_stats(). */
struct ndl_eater_stats {
	uint64_t messages;       /**< complete messages received */
	uint64_t bytes;          /**< bytes in those messages */
	uint64_t parse_errors;   /**< messages that were not JSON or not dumplings */
	uint64_t dropped_binary; /**< binary messages, ignored */
	uint64_t dropped_large;  /**< messages over the size limit (the link is closed) */
	uint64_t filtered;       /**< dumplings the filters held back */
	uint64_t delivered;      /**< dumplings given to the dumpling callback */
	/* Since 0.2. In batch mode messages and bytes count WebSocket
	 * messages, and parse_errors counts lines that were not dumplings. */
	uint64_t dumplings;      /**< dumplings received, however they travelled */
	uint64_t batches;        /**< messages received in batch mode */
	uint64_t drop_notices;   /**< drop notices from the hub (chef SystemDropsChef) */
	uint64_t hub_dropped;    /**< dumplings the hub said it dropped for this eater */
	uint64_t gaps;           /**< jumps forward in a kitchen's metadata.seq */
	uint64_t gap_dumplings;  /**< dumplings missing in those jumps */
	uint64_t seq_restarts;   /**< a kitchen's seq went back (it restarted) */
	uint64_t seq_untracked;  /**< dumplings with a seq from kitchens past NDL_EATER_MAX_SEQ_KITCHENS */
	uint64_t connects;       /**< connections whose handshake completed */
	uint64_t reconnects;     /**< connection attempts after the first */
	uint64_t after_close;    /**< dumplings that arrived after ndl_eater_close(), not delivered */
};

/** Why and how the connection ended; see ndl_eater_close_cb. */
struct ndl_eater_close_info {
	/**
	 * 0 when the eater closed because ndl_eater_close() was called;
	 * otherwise a negative errno: -ECONNREFUSED (or another connect
	 * error) when the hub was never reached, -ECONNRESET when the hub
	 * closed or dropped an established connection, -EMSGSIZE when a
	 * message exceeded the size limit; since 0.2, -EACCES when the hub
	 * refused the token (code 4104). A hub that disconnected this eater
	 * for reading too slowly gives -ECONNRESET with code 4103.
	 */
	int status;
	/** WebSocket close code (RFC 6455 section 7.4) sent or received; 0 when none. */
	int code;
	/** Human-readable reason; never NULL, may be "". */
	const char *reason;
	/** Non-zero when the WebSocket handshake had completed. */
	int was_connected;
};

/**
 * Called once the handshake completed and the hello was sent; with
 * reconnecting on (ndl_eater_set_reconnect()), once per connection.
 * @param e the eater.
 */
typedef void (*ndl_eater_connect_cb)(struct ndl_eater *e);

/**
 * Called for each dumpling that passed the filters.
 * @param e the eater; ndl_eater_close() may be called from here,
 *          ndl_eater_free() may not.
 * @param d the dumpling, borrowed for the call only.
 */
typedef void (*ndl_eater_dumpling_cb)(struct ndl_eater *e, const struct ndl_dumpling *d);

/**
 * Called exactly once after a successful ndl_eater_start(), when the
 * connection is over and the SDK has released every loop resource it
 * used (so a private loop stops once the caller's own handles are closed).
 * ndl_eater_free() may be called from here.
 * @param e    the eater.
 * @param info why it ended, borrowed for the call only.
 */
typedef void (*ndl_eater_close_cb)(struct ndl_eater *e, const struct ndl_eater_close_info *info);

/** What an ndl_eater_event reports (since 0.2). */
enum ndl_eater_event_type {
	/** The hub dropped dumplings for this eater (a drop notice arrived). */
	NDL_EATER_EVENT_DROPS = 1,
	/** A kitchen's metadata.seq jumped forward: dumplings were lost. */
	NDL_EATER_EVENT_GAP = 2,
	/** A connection ended and the eater will connect again after delay_ms. */
	NDL_EATER_EVENT_DISCONNECTED = 3,
};

/**
 * One event (since 0.2). The SDK allocates it; every pointer is borrowed
 * for the callback only. Fields not named for the type are 0 or NULL.
 */
struct ndl_eater_event {
	enum ndl_eater_event_type type;
	/** DROPS: dumplings lost at this point of the stream ("dropped"). */
	uint64_t dropped;
	/** DROPS: what the hub says this eater lost since it connected ("total_dropped"). */
	uint64_t total_dropped;
	/** GAP: the kitchen. */
	const char *kitchen;
	/** GAP: the seq that was due. */
	uint64_t expected_seq;
	/** GAP: the seq that came (seq - expected_seq dumplings are missing). */
	uint64_t seq;
	/** DISCONNECTED: why the connection ended. */
	const struct ndl_eater_close_info *close;
	/** DISCONNECTED: milliseconds until the next attempt. */
	unsigned delay_ms;
	/** DISCONNECTED: number of the next attempt since the last good connection (1, 2, ...). */
	unsigned attempt;
};

/**
 * Called for events (since 0.2), on the loop's thread. ndl_eater_close()
 * may be called from here, ndl_eater_free() may not.
 * @param e  the eater.
 * @param ev the event, borrowed for the call only.
 */
typedef void (*ndl_eater_event_cb)(struct ndl_eater *e, const struct ndl_eater_event *ev);

/** What happens to drop notices besides counting; see ndl_eater_set_drop_notices(). */
enum ndl_eater_drop_notices {
	/** Delivered like any dumpling, through the filters (the default). */
	NDL_EATER_DROPS_FILTERED = 0,
	/** Always delivered, whatever the filters (the hub too sends them whatever the subscription). */
	NDL_EATER_DROPS_DELIVER = 1,
	/** Never delivered: counted and reported as NDL_EATER_EVENT_DROPS only. */
	NDL_EATER_DROPS_HIDE = 2,
};

/**
 * Create an eater.
 *
 * @param loop the libuv loop to run on, borrowed (it must outlive the
 *             eater); NULL makes the eater create and own a private loop
 *             (see ndl_eater_run() and ndl_eater_loop()).
 * @param eater_name the name sent in the hello; copied; non-empty.
 * @param hub  where the hub's eater port is: "HOST:PORT", "HOST",
 *             "[IPv6]:PORT" or any of those after "ws://", or (since 0.2)
 *             after "wss://" for TLS; HOST is a host name, an IPv4 or a
 *             bracketed IPv6 address; the port defaults to 11348. Copied.
 * @return a new eater owned by the caller (release with ndl_eater_free()),
 *         or NULL with errno set: EINVAL for a NULL or empty name or a
 *         malformed hub address, ENOMEM.
 * @note Thread: any; the eater is then bound to the loop's thread.
 */
struct ndl_eater *ndl_eater_new(uv_loop_t *loop, const char *eater_name, const char *hub);

/**
 * Free an eater. NULL is a no-op.
 *
 * Call it before ndl_eater_start(), after a failed ndl_eater_start(), or
 * after (or from) the close callback. Called while the eater is still
 * connected, it closes the link with code 1001 and frees the eater once
 * the loop has released it, without running the close callback; the loop
 * must then keep running until that completes.
 * A private loop is closed here; the caller must have closed its own
 * handles on it first.
 * Must not be called from inside the connect or dumpling callbacks.
 */
void ndl_eater_free(struct ndl_eater *e);

/**
 * Add one field to the hello the eater sends, beside "eater_name".
 * @param key   field name, copied; "eater_name" is reserved.
 * @param value the value; the eater takes a new reference (the caller
 *              keeps its own).
 * @return 0; -EINVAL for NULL arguments or the reserved key; -EBUSY after
 *         ndl_eater_start(); -ENOMEM.
 */
int ndl_eater_hello_set(struct ndl_eater *e, const char *key, json_t *value);

/**
 * Ask the hub to send only some dumplings (a server-side subscription,
 * docs/protocol.md section 9): those whose chef is in chefs AND kitchen is
 * in kitchens AND driver is in drivers. An absent list means "all".
 * Before ndl_eater_start() (or before the hello went out) it goes into the
 * hello; once connected it is sent as an update that replaces the previous
 * subscription; while waiting to reconnect (since 0.2) the next hello
 * carries it, as every later hello does. Hubs that do not know subscriptions (netdumplings 0.5.1)
 * send everything, so pair it with ndl_eater_filter_*() to get the same
 * dumplings from every hub. The hub's status dumplings (chef
 * "SystemStatusChef", kitchen null) are subject to it as well.
 * @param chefs    NULL-terminated array of chef names, copied; NULL or
 *                 empty for all.
 * @param kitchens NULL-terminated array of kitchen names, copied; NULL or
 *                 empty for all (a non-empty list leaves out the status).
 * @param drivers  NDL_EATER_DRIVER_PACKET and/or NDL_EATER_DRIVER_INTERVAL;
 *                 0 for all.
 * @return 0; -EINVAL for a NULL eater, other driver bits, a name longer
 *         than NDL_EATER_MAX_SUBSCRIBE_NAME bytes or not UTF-8; -ENOSPC for
 *         more than NDL_EATER_MAX_FILTER_NAMES names in a list; -ENOTCONN
 *         once the eater is closing; -ENOMEM.
 * @note Thread: the loop's.
 */
int ndl_eater_subscribe(struct ndl_eater *e, const char *const *chefs,
			const char *const *kitchens, unsigned drivers);

/**
 * Only deliver dumplings whose chef is one of the names given (the
 * filter is off until the first name is added). May be called any time.
 * @param chef name, copied.
 * @return 0; -EINVAL for NULL arguments; -ENOSPC past
 *         NDL_EATER_MAX_FILTER_NAMES names; -ENOMEM.
 */
int ndl_eater_filter_chef(struct ndl_eater *e, const char *chef);

/**
 * Only deliver dumplings whose kitchen is one of the names given (the
 * filter is off until the first name is added; when on, dumplings with a
 * null kitchen, such as the hub's status, are held back).
 * @param kitchen name, copied.
 * @return as ndl_eater_filter_chef().
 */
int ndl_eater_filter_kitchen(struct ndl_eater *e, const char *kitchen);

/**
 * Choose which drivers are delivered, as a mask of NDL_EATER_DRIVER_*
 * bits (default NDL_EATER_DRIVER_ALL).
 * @return 0; -EINVAL for a NULL eater or bits outside NDL_EATER_DRIVER_ALL.
 */
int ndl_eater_filter_drivers(struct ndl_eater *e, unsigned mask);

/**
 * Set the largest message the eater reassembles; a larger one closes the
 * link with code 1009 and close status -EMSGSIZE.
 * @param bytes at least 1024 and at most 1 GiB.
 * @return 0; -EINVAL for a NULL eater or a size out of range; -EBUSY
 *         after ndl_eater_start().
 */
int ndl_eater_set_max_message(struct ndl_eater *e, size_t bytes);

/**
 * Start connecting. Connection failures are reported through close_cb,
 * never by this function.
 * @param on_connect  may be NULL.
 * @param on_dumpling may be NULL (dumplings are then only counted).
 * @param on_close    may be NULL.
 * @return 0 and then close_cb runs exactly once; or, with no callback
 *         ever run: -EINVAL for a NULL eater, -EBUSY when already
 *         started, -ENOMEM, -EIO when libwebsockets cannot start (for
 *         instance its libuv event-library plugin is missing).
 */
int ndl_eater_start(struct ndl_eater *e, ndl_eater_connect_cb on_connect,
		    ndl_eater_dumpling_cb on_dumpling, ndl_eater_close_cb on_close);

/**
 * Close the connection with a WebSocket close code and reason
 * (RFC 6455 section 5.5.1); when still connecting, give up instead.
 * The close callback runs later, with status 0, code and reason.
 * With reconnecting on (ndl_eater_set_reconnect()), this also ends the
 * eater when it comes just as an attempt failed, before the wait for the
 * next one: the eater does not try again.
 * @param code   1000, 1001, or 3000-4999 (e.g. 4101 cancelled, 4102 full).
 * @param reason UTF-8 text, at most 123 bytes; copied; NULL means "".
 * @return 0; -EINVAL for a NULL eater, a bad code or a too long reason;
 *         -ENOTCONN before ndl_eater_start(); -EALREADY when the eater
 *         is already ending: closed before, or its connection failing
 *         for good (any failure without reconnecting; with it, one the
 *         eater does not retry), and then the close callback reports
 *         that failure.
 */
int ndl_eater_close(struct ndl_eater *e, int code, const char *reason);

/**
 * Run the eater's private loop until nothing is left on it (normally:
 * until the close callback has run and the caller closed its handles).
 * @return 0; -EINVAL for a NULL eater or an eater on a caller's loop.
 */
int ndl_eater_run(struct ndl_eater *e);

/**
 * The loop the eater runs on (the caller's, or its private one), for
 * adding timers or signal handlers. Borrowed.
 * @return the loop, or NULL for a NULL eater.
 */
uv_loop_t *ndl_eater_loop(const struct ndl_eater *e);

/**
 * The hub's URL, "ws://HOST:PORT" or "wss://HOST:PORT" (IPv6 hosts in
 * brackets), for messages.
 * @return a string owned by the eater, valid until ndl_eater_free();
 *         NULL for a NULL eater.
 */
const char *ndl_eater_url(const struct ndl_eater *e);

/** Attach a caller pointer to the eater (not touched by the SDK). */
void ndl_eater_set_userdata(struct ndl_eater *e, void *data);

/** The pointer given to ndl_eater_set_userdata(); NULL by default. */
void *ndl_eater_userdata(const struct ndl_eater *e);

/**
 * Copy the eater's counters.
 * @param st   where to write.
 * @param size sizeof(*st) as the caller knows it; fields beyond are not
 *             written, so callers built against older headers keep working.
 * @return 0; -EINVAL for NULL arguments.
 */
int ndl_eater_get_stats(const struct ndl_eater *e, struct ndl_eater_stats *st, size_t size);

/**
 * The SDK's version as "MAJOR.MINOR.PATCH". Static storage.
 */
const char *ndl_eater_version(void);

/* ------------------------------------------------------------------------ */
/* Since 0.2 (symbol version NDL_EATER_0.2)                                 */

/**
 * Send a token in the hello, as the string member "token"
 * (docs/protocol.md section 12). A hub that wants a token and gets none or
 * a wrong one closes with 4104: the close callback then has status
 * -EACCES and reason "hub refused the token", and the eater does not
 * reconnect. The SDK never prints or logs the token, and wipes its copies
 * when freed.
 * @param token UTF-8 text of 1 to NDL_EATER_MAX_TOKEN bytes without
 *              control characters, copied; NULL removes it.
 * @return 0; -EINVAL for a NULL eater or a bad token; -EBUSY after
 *         ndl_eater_start(); -ENOMEM.
 * @note Thread: the loop's (or any before ndl_eater_start()).
 */
int ndl_eater_set_token(struct ndl_eater *e, const char *token);

/**
 * Read the token from a file, as the hub's token files are written: the
 * first line that is neither blank nor starts with '#', without the line
 * end and surrounding blanks; then as ndl_eater_set_token().
 * @param path the file; read now, not kept.
 * @return 0; -EINVAL for NULL arguments or a token ndl_eater_set_token()
 *         refuses; -ENODATA when the file holds no token; a negative errno
 *         from opening or reading it (-ENOENT, -EACCES...); -EBUSY after
 *         ndl_eater_start(); -ENOMEM.
 */
int ndl_eater_set_token_file(struct ndl_eater *e, const char *path);

/**
 * Verify a `wss://` hub's certificate against the CA certificates in this
 * PEM file instead of the system store (the system store is the first of
 * $SSL_CERT_FILE, /etc/ssl/certs/ca-certificates.crt,
 * /etc/pki/tls/certs/ca-bundle.crt, /etc/ssl/cert.pem that exists). The
 * host name or address the eater connects to must match the certificate.
 * Ignored for `ws://` hubs.
 * @param path the file, copied (it is read at ndl_eater_start()); NULL
 *             goes back to the system store.
 * @return 0; -EINVAL for a NULL eater or an empty path; -EBUSY after
 *         ndl_eater_start(); -ENOMEM.
 */
int ndl_eater_set_ca_file(struct ndl_eater *e, const char *path);

/**
 * Offer the batch subprotocol NDL_EATER_SUBPROTOCOL_BATCH (on by
 * default). When the hub accepts it, each message holds dumplings as JSON
 * Lines; the SDK splits them and hands each to the dumpling callback
 * exactly as in one-per-message mode; a line that is not a dumpling is
 * counted in parse_errors and skipped. A hub that answers with no
 * subprotocol (netdumplings 0.5.1) gets one dumpling per message.
 * @param offer non-zero to offer it, 0 to ask for one per message.
 * @return 0; -EINVAL for a NULL eater; -EBUSY after ndl_eater_start().
 */
int ndl_eater_set_batch(struct ndl_eater *e, int offer);

/**
 * The subprotocol the hub chose on the current (or last) connection.
 * @return NDL_EATER_SUBPROTOCOL_BATCH when batch mode is on; NULL when the
 *         hub chose none, before the first handshake, or for a NULL eater.
 *         Static storage.
 */
const char *ndl_eater_protocol(const struct ndl_eater *e);

/**
 * Reconnect when a connection cannot be made or ends, after a jittered
 * exponential back-off: the n-th attempt in a row waits a random time
 * between half and all of min(min_ms * 2^(n-1), max_ms). The count starts
 * again once a connection delivered a message. Off by default: then the
 * close callback runs when the first connection ends, as in 0.1.
 *
 * With it on, every new connection sends the hello again with the current
 * subscription, the connect callback runs for each, the event callback
 * gets NDL_EATER_EVENT_DISCONNECTED before each wait, and the close
 * callback runs only when ndl_eater_close() was called or the hub said
 * the eater itself is wrong: codes 1003, 1007, 1008, 1009, 1010, 4104, or a
 * message over the size limit. Sequence numbers are followed across
 * connections, so dumplings missed while away show up as gaps.
 * @param on     non-zero to reconnect.
 * @param min_ms first delay; 0 for NDL_EATER_RECONNECT_MIN_MS; at least 10.
 * @param max_ms longest delay; 0 for NDL_EATER_RECONNECT_MAX_MS (or min_ms
 *               when that is larger); at most NDL_EATER_RECONNECT_LIMIT_MS.
 * @return 0; -EINVAL for a NULL eater or delays out of range
 *         (min_ms > max_ms included); -EBUSY after ndl_eater_start().
 */
int ndl_eater_set_reconnect(struct ndl_eater *e, int on, unsigned min_ms, unsigned max_ms);

/**
 * Be told about drop notices, sequence gaps and reconnects.
 *
 * Drop notices (chef NDL_EATER_DROPS_CHEF, kitchen null) are counted in
 * drop_notices and hub_dropped and reported as NDL_EATER_EVENT_DROPS
 * before they are delivered (see ndl_eater_set_drop_notices()).
 *
 * Gaps: for each kitchen (up to NDL_EATER_MAX_SEQ_KITCHENS) the SDK
 * follows metadata.seq of every dumpling it receives, before its own
 * filters. A jump forward is reported as NDL_EATER_EVENT_GAP and counted
 * (gaps, gap_dumplings): the kitchen, the hub or the network lost those
 * dumplings, or the eater was away (they include what drop notices
 * report). A seq that goes back (a kitchen restarted) is counted in
 * seq_restarts. The first seq seen from a kitchen is never a gap. While
 * the subscription names chefs or drivers the hub leaves dumplings out
 * on purpose, so gaps are not followed then.
 * @param cb the callback; NULL for none.
 * @return 0; -EINVAL for a NULL eater.
 */
int ndl_eater_set_event_cb(struct ndl_eater *e, ndl_eater_event_cb cb);

/**
 * Choose whether drop notices reach the dumpling callback.
 * @param how one of enum ndl_eater_drop_notices (default
 *            NDL_EATER_DROPS_FILTERED).
 * @return 0; -EINVAL for a NULL eater or another value.
 */
int ndl_eater_set_drop_notices(struct ndl_eater *e, int how);

#ifdef __cplusplus
}
#endif

#endif /* NDL_EATER_H */
