/* SPDX-License-Identifier: MIT */
/*
 * envelope.h - reading and writing the dumpling envelope
 *   {"metadata": {"chef", "kitchen", "creation_time", "driver"[, "seq"]}, "payload"}
 * and the hellos (docs/protocol.md).
 */
#ifndef NDL_PROTO_ENVELOPE_H
#define NDL_PROTO_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <ndl/chef.h>
#include "jsonw.h"

/* What the hub and eaters need to know about a dumpling, without its payload. */
struct ndl_envelope {
	json_t *root;              /* owned: the whole parsed document */
	const char *chef;          /* metadata.chef (borrowed from root); never NULL when valid */
	const char *kitchen;       /* metadata.kitchen, NULL when null or absent */
	const char *driver;        /* metadata.driver, NULL when absent */
	double creation_time;      /* metadata.creation_time in seconds, 0 when absent */
	json_t *payload;           /* borrowed from root; NULL when absent */
};

/*
 * Parse one dumpling of len bytes. A document is a dumpling when it is a
 * JSON object whose "metadata" is an object holding a string "chef".
 * Returns 0; -EINVAL when it is not JSON (env->root NULL) and -EBADMSG when
 * it is JSON but not a dumpling. On failure nothing is left to free; on
 * success release with ndl_envelope_clear().
 */
int ndl_envelope_parse(struct ndl_envelope *env, const char *buf, size_t len);
/* Release what ndl_envelope_parse kept and zero env. NULL is a no-op. */
void ndl_envelope_clear(struct ndl_envelope *env);

/*
 * Write the start of a dumpling envelope into w (reset first), up to and
 * including "payload": the caller writes the payload value, then calls
 * ndl_envelope_end. kitchen may be NULL (written as null). The writer is
 * left inside the envelope object with the "payload" key pending, so the
 * payload is checked like any value: after ndl_envelope_end the dumpling is
 * good exactly when ndl_jwb_error(w) == 0 and ndl_jwb_complete(w).
 * The key order and bytes are those of netdumplings 0.5.1, compact:
 *   {"metadata":{"chef":"X","kitchen":null,"creation_time":1795322030.150690,
 *   "driver":"packet"},"payload":
 * A driver outside enum ndl_driver is written as null.
 */
void ndl_envelope_begin(struct ndl_jwb *w, const char *chef, const char *kitchen,
			ndl_time_ns creation_time, enum ndl_driver driver);
/*
 * As ndl_envelope_begin, and when seq > 0 the extension member "seq":seq
 * (an integer) follows "driver" inside metadata:
 *   ...,"driver":"packet","seq":42},"payload":
 * seq 0 writes exactly what ndl_envelope_begin writes. Thread: w's owner.
 */
void ndl_envelope_begin_seq(struct ndl_jwb *w, const char *chef, const char *kitchen,
			    ndl_time_ns creation_time, enum ndl_driver driver,
			    uint64_t seq);
/*
 * The envelope's opening for chef and kitchen, written into w (reset
 * first): the bytes ndl_envelope_begin_seq starts with,
 *   {"metadata":{"chef":"X","kitchen":null
 * A writer of many dumplings for one chef makes it once and keeps a copy
 * for ndl_envelope_begin_head, which spares escaping both names each time.
 */
void ndl_envelope_head(struct ndl_jwb *w, const char *chef, const char *kitchen);
/*
 * As ndl_envelope_begin_seq, with the opening head[0..len) made by
 * ndl_envelope_head.
 */
void ndl_envelope_begin_head(struct ndl_jwb *w, const char *head, size_t len,
			     ndl_time_ns creation_time, enum ndl_driver driver,
			     uint64_t seq);
/* Close the envelope begun by ndl_envelope_begin (after the payload). */
void ndl_envelope_end(struct ndl_jwb *w);

/*
 * Write the JSON value v through w (objects in insertion order, reals in
 * their shortest round-trip form). Errors are w's, as for any value.
 */
void ndl_json_write(struct ndl_jwb *w, const json_t *v);

/*
 * Serialise v compactly (no spaces after separators, keys in insertion
 * order) into a malloc'd NUL-terminated string the caller frees with
 * free(). Returns NULL with errno set (EINVAL for NULL v, ENOMEM).
 */
char *ndl_json_compact(const json_t *v);

#endif /* NDL_PROTO_ENVELOPE_H */
