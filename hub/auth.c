/* SPDX-License-Identifier: MIT */
/*
 * auth.c - token files and the Origin check (RFC 6454 origins, RFC 6455
 * section 10.2: a server that only wants its own pages checks Origin).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "auth.h"

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* Secrets do not linger in freed memory. */
		memset(v[i], 0, strlen(v[i]));
		free(v[i]);
	}
	free(v);
}

void ndl__hub_tokens_clear(struct ndl_hub_tokens *t)
{
	free_list(t->v, t->n);
	memset(t, 0, sizeof(*t));
}

int ndl__hub_tokens_load(struct ndl_hub_tokens *out, const char *path, char *err,
			 size_t errlen)
{
	char buf[NDL_HUB_TOKEN_FILE_MAX + 1], **v = NULL;
	size_t len, n = 0, line = 0;
	FILE *f;
	int r = 0;

	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		snprintf(err, errlen, "cannot read token file %s: %s", path, strerror(-r));
		return r;
	}
	len = fread(buf, 1, sizeof(buf), f);
	if (ferror(f))
		r = -EIO;
	else if (len > NDL_HUB_TOKEN_FILE_MAX)
		r = -EFBIG;
	fclose(f);
	if (r) {
		snprintf(err, errlen, r == -EIO ? "cannot read token file %s" :
			 "token file %s is larger than 64 KiB", path);
		return r;
	}
	buf[len] = '\0';

	v = calloc(NDL_HUB_TOKENS_MAX, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory reading %s", path);
		return -ENOMEM;
	}
	for (char *p = buf, *nl; p && *p; p = nl) {
		char *end;

		line++;
		nl = strchr(p, '\n');
		if (nl)
			*nl++ = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		if (!*p || *p == '#')
			continue;
		if (end - p > NDL_HUB_TOKEN_MAX || n == NDL_HUB_TOKENS_MAX) {
			snprintf(err, errlen, "%s:%zu: %s", path, line, n == NDL_HUB_TOKENS_MAX ?
				 "more than 64 tokens" : "token longer than 1024 bytes");
			r = -EINVAL;
			goto free_v;
		}
		v[n] = strdup(p);
		if (!v[n]) {
			snprintf(err, errlen, "out of memory reading %s", path);
			r = -ENOMEM;
			goto free_v;
		}
		n++;
	}
	if (!n) {
		snprintf(err, errlen, "token file %s holds no token", path);
		r = -EINVAL;
		goto free_v;
	}
	memset(buf, 0, sizeof(buf));
	ndl__hub_tokens_clear(out);
	out->v = v;
	out->n = n;
	out->required = true;
	return 0;

free_v:
	memset(buf, 0, sizeof(buf));
	free_list(v, n);
	return r;
}

/* Compare all of a and b in time that depends on their lengths only. */
static bool same_secret(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen > blen ? alen : blen;
	unsigned char diff = alen != blen;

	for (size_t i = 0; i < n; i++) {
		unsigned char x = i < alen ? (unsigned char)a[i] : 0;
		unsigned char y = i < blen ? (unsigned char)b[i] : 0;

		diff |= x ^ y;
	}
	return diff == 0;
}

bool ndl__hub_tokens_match(const struct ndl_hub_tokens *t, const char *tok, size_t len)
{
	bool ok = false;

	if (!tok || len > NDL_HUB_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < t->n; i++)
		ok |= same_secret(t->v[i], strlen(t->v[i]), tok, len);
	return ok;
}

bool ndl__hub_origin_allowed(const char *const *allow, const char *origin, const char *host)
{
	const char *rest;

	if (!origin)
		return true;
	for (size_t i = 0; allow && allow[i]; i++)
		if (!strcmp(allow[i], "*") || !strcasecmp(allow[i], origin))
			return true;
	/* RFC 6454 section 6.1: scheme "://" host [ ":" port ]. */
	rest = strstr(origin, "://");
	if (!rest || !host || !*host)
		return false;
	rest += 3;
	return !strcasecmp(rest, host);
}

int ndl__hub_tls_check(const char *cert, const char *key, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	const char *what = NULL, *file = NULL;
	char reason[256] = "";

	if (!ctx) {
		snprintf(err, errlen, "cannot start OpenSSL to check the TLS files");
		return -ENOMEM;
	}
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		what = "is not a PEM certificate";
		file = cert;
	} else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		what = "is not a PEM private key";
		file = key;
	} else if (SSL_CTX_check_private_key(ctx) != 1) {
		what = "is not the key of the certificate";
		file = key;
	}
	if (what)
		ERR_error_string_n(ERR_peek_last_error(), reason, sizeof(reason));
	ERR_clear_error();
	SSL_CTX_free(ctx);
	if (!what)
		return 0;
	snprintf(err, errlen, "TLS: %s %s (%s)", file, what, reason[0] ? reason : "no detail");
	return -EINVAL;
}
