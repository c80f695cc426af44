/* SPDX-License-Identifier: MIT */
/*
 * auth.h - the hub's tokens and browser origins (docs/protocol.md section
 * 12). Not installed.
 */
#ifndef NDL_HUB_AUTH_H
#define NDL_HUB_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define NDL_HUB_TOKEN_MAX 1024        /* bytes in one token at most */
#define NDL_HUB_TOKENS_MAX 64         /* tokens in one file at most */
#define NDL_HUB_TOKEN_FILE_MAX 65536  /* bytes in a token file at most */

/* The tokens accepted for one role; none loaded means none required. */
struct ndl_hub_tokens {
	char **v;          /* malloc'd strings, owned */
	size_t n;
	bool required;     /* a token file was given */
};

/*
 * Read the token file path into *out: one token per line, surrounding
 * blanks trimmed, blank lines and lines starting with '#' ignored. A file
 * with no token is an error (it would lock everyone out by mistake).
 * Returns 0, or a negative errno with a one-line reason in err (which
 * never quotes the file's content); on failure *out is untouched. Release
 * with ndl__hub_tokens_clear(). Any thread.
 */
int ndl__hub_tokens_load(struct ndl_hub_tokens *out, const char *path, char *err,
			 size_t errlen);

/* Free what t holds and zero it. */
void ndl__hub_tokens_clear(struct ndl_hub_tokens *t);

/*
 * True when tok (len bytes) equals one of t's tokens. Every token is
 * compared in full whatever matched, so the time taken does not tell how
 * much of a guess was right.
 */
bool ndl__hub_tokens_match(const struct ndl_hub_tokens *t, const char *tok, size_t len);

/*
 * Whether a WebSocket handshake from a browser page at origin (the Origin
 * header) may go on: allowed when origin is the hub's own (its host[:port]
 * after the scheme equals host, the request's Host header, ignoring case),
 * or when it is listed in allow (NULL-terminated, may be NULL), or when
 * allow holds "*". origin NULL (no header: not a browser) is allowed.
 */
bool ndl__hub_origin_allowed(const char *const *allow, const char *origin, const char *host);

/*
 * Check that cert (PEM, a certificate chain) and key (PEM, its private
 * key) load and belong together, as the TLS listeners will need them.
 * Returns 0, or -EINVAL with a one-line reason naming the file in err.
 * Any thread.
 */
int ndl__hub_tls_check(const char *cert, const char *key, char *err, size_t errlen);

#endif /* NDL_HUB_AUTH_H */
