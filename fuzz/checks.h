/* SPDX-License-Identifier: MIT */
/*
 * checks.h - what a parsed DNS message, HTTP start or TLS hello must
 * satisfy whatever the bytes it came from, for every target that reaches
 * the parsers: counts within the storage, strings NUL-terminated or inside
 * the message, values in their documented ranges (decode.h, ndl/chef.h).
 */
#ifndef NDL_FUZZ_CHECKS_H
#define NDL_FUZZ_CHECKS_H

#include <stdbool.h>
#include "decode.h"
#include "fuzz.h"

/*
 * Every name and rendered datum is NUL-terminated inside its array, and
 * the RDATA lies inside the message msg[0..len).
 */
static inline void fuzz_check_rr(const struct ndl_dns_rr *rr, const uint8_t *msg,
				 size_t len)
{
	FUZZ_CHECK(memchr(rr->name, '\0', sizeof(rr->name)) != NULL);
	FUZZ_CHECK(memchr(rr->data, '\0', sizeof(rr->data)) != NULL);
	if (rr->rdlength)
		FUZZ_CHECK(fuzz_inside(rr->rdata, rr->rdlength, msg, len));
}

/* The counts stay within the storage, and every entry parsed is sound. */
static inline void fuzz_check_dns(const struct ndl_dns *d, const uint8_t *msg,
				  size_t len)
{
	char name[16];

	FUZZ_CHECK(d->error < NDL_DNS_ERROR_COUNT);
	FUZZ_CHECK(ndl_dns_error_name(d->error) != NULL);
	FUZZ_CHECK(d->n_questions <= NDL_DNS_MAX_QUESTIONS && d->n_questions <= d->qdcount);
	FUZZ_CHECK(d->n_answers <= NDL_DNS_MAX_RRS && d->n_answers <= d->ancount);
	FUZZ_CHECK(d->n_authorities <= NDL_DNS_MAX_RRS && d->n_authorities <= d->nscount);
	FUZZ_CHECK(d->n_additionals <= NDL_DNS_MAX_RRS && d->n_additionals <= d->arcount);
	for (unsigned int i = 0; i < d->n_questions; i++) {
		FUZZ_CHECK(memchr(d->questions[i].name, '\0', NDL_DNS_NAME_MAX) != NULL);
		FUZZ_CHECK(ndl_dns_type_name(d->questions[i].qtype, name, sizeof(name)) == name);
	}
	for (unsigned int i = 0; i < d->n_answers; i++)
		fuzz_check_rr(&d->answers[i], msg, len);
	for (unsigned int i = 0; i < d->n_authorities; i++)
		fuzz_check_rr(&d->authorities[i], msg, len);
	for (unsigned int i = 0; i < d->n_additionals; i++)
		fuzz_check_rr(&d->additionals[i], msg, len);
}

/* s is absent (NULL, empty) or lies inside msg[0..len). */
static inline void fuzz_check_str(struct ndl_str s, const uint8_t *msg, size_t len)
{
	if (s.ptr)
		FUZZ_CHECK(fuzz_inside(s.ptr, s.len, msg, len));
	else
		FUZZ_CHECK(s.len == 0);
}

/* RFC 9110 5.6.2: a token is one or more tchars. */
static inline bool fuzz_is_token(struct ndl_str s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (s.len == 0)
		return false;
	for (uint32_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || (c && strchr(extra, c))))
			return false;
	}
	return true;
}

/* No control character but HTAB; with trim, no SP or HTAB at either end. */
static inline bool fuzz_is_field_text(struct ndl_str s, bool trim)
{
	for (uint32_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	if (trim && s.len)
		return s.ptr[0] != ' ' && s.ptr[0] != '\t' &&
		       s.ptr[s.len - 1] != ' ' && s.ptr[s.len - 1] != '\t';
	return true;
}

static inline void fuzz_check_http(const struct ndl_http *h, const uint8_t *msg,
				   size_t len)
{
	FUZZ_CHECK(h->error < NDL_HTTP_ERROR_COUNT);
	FUZZ_CHECK(strcmp(ndl_http_error_name(h->error), "unknown") != 0);
	FUZZ_CHECK(h->version_major == 1);
	fuzz_check_str(h->method, msg, len);
	fuzz_check_str(h->target, msg, len);
	fuzz_check_str(h->reason, msg, len);
	if (h->is_request) {
		/* RFC 9112 3: method SP request-target SP HTTP-version */
		FUZZ_CHECK(h->method.ptr == (const char *)msg && fuzz_is_token(h->method));
		FUZZ_CHECK(h->target.ptr && h->target.len > 0);
		for (uint32_t i = 0; i < h->target.len; i++)
			FUZZ_CHECK((unsigned char)h->target.ptr[i] > 0x20 && h->target.ptr[i] != 0x7f);
	} else {
		FUZZ_CHECK(h->status >= 100 && h->status <= 999);
		FUZZ_CHECK(fuzz_is_field_text(h->reason, false));
	}
	FUZZ_CHECK(h->n_headers <= NDL_HTTP_MAX_HEADERS);
	for (unsigned int i = 0; i < h->n_headers; i++) {
		/* RFC 9112 5: field-name ":" OWS field-value OWS */
		fuzz_check_str(h->headers[i].name, msg, len);
		fuzz_check_str(h->headers[i].value, msg, len);
		FUZZ_CHECK(h->headers[i].name.ptr && fuzz_is_token(h->headers[i].name));
		FUZZ_CHECK(fuzz_is_field_text(h->headers[i].value, true));
	}
	fuzz_check_str(h->host, msg, len);
	fuzz_check_str(h->user_agent, msg, len);
	fuzz_check_str(h->referer, msg, len);
	fuzz_check_str(h->content_type, msg, len);
	fuzz_check_str(h->content_length, msg, len);
	if (h->headers_complete)
		FUZZ_CHECK(h->error == NDL_HTTP_OK && h->header_bytes <= len);
	else
		FUZZ_CHECK(h->header_bytes == 0);
}

static inline void fuzz_check_tls(const struct ndl_tls_hello *t, const uint8_t *msg,
				  size_t len)
{
	FUZZ_CHECK(t->error < NDL_TLS_ERROR_COUNT);
	FUZZ_CHECK(strcmp(ndl_tls_error_name(t->error), "unknown") != 0);
	FUZZ_CHECK(t->type == 1 || t->type == 2);
	if (t->random)
		FUZZ_CHECK(fuzz_inside(t->random, 32, msg, len));
	fuzz_check_str(t->session_id, msg, len);
	FUZZ_CHECK(t->session_id.len <= 32);
	fuzz_check_str(t->sni, msg, len);
	FUZZ_CHECK(t->n_ciphers <= NDL_TLS_MAX_CIPHERS);
	FUZZ_CHECK(t->n_extensions <= NDL_TLS_MAX_EXTENSIONS);
	FUZZ_CHECK(t->n_groups <= NDL_TLS_MAX_LIST);
	FUZZ_CHECK(t->n_point_formats <= NDL_TLS_MAX_LIST);
	FUZZ_CHECK(t->n_versions <= NDL_TLS_MAX_LIST);
	FUZZ_CHECK(t->n_sig_algs <= NDL_TLS_MAX_LIST);
	FUZZ_CHECK(t->n_alpn <= NDL_TLS_MAX_ALPN);
	for (unsigned int i = 0; i < t->n_alpn; i++)
		fuzz_check_str(t->alpn[i], msg, len);
}

#endif /* NDL_FUZZ_CHECKS_H */
