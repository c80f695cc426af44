/* SPDX-License-Identifier: MIT */
/*
 * TLSClientHelloChef - which TLS servers are being contacted, and by what
 * kind of client: the "HTTPS request" view of traffic that cannot be read.
 *
 * The kitchen parses a ClientHello or ServerHello starting a TCP segment
 * (RFC 8446 section 4.1.2/4.1.3, RFC 5246 section 7.4.1; SNI RFC 6066,
 * ALPN RFC 7301; struct ndl_tls_hello). For every ClientHello this chef
 * emits a packet dumpling
 *   {"kind": "client_hello", "time", "client": {"ip", "port"}, "server",
 *    "sni", "version", "legacy_version", "alpn", "ciphers", "extensions",
 *    "groups", "point_formats", "ja3", "ja3_hash", "error"}
 * where ja3 is the JA3 fingerprint string of the hello (Salesforce's JA3:
 * SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats,
 * decimal values joined by "-", GREASE values of RFC 8701 left out) and
 * ja3_hash its MD5 in lowercase hex. With the option server_hello (default
 * on) every ServerHello gives
 *   {"kind": "server_hello", "time", "client", "server", "version",
 *    "cipher", "alpn", "error"}.
 *
 * A hello that did not fit in its segment (or had a malformed length) is
 * still reported with the fields read before the problem, but its ja3 and
 * ja3_hash are null: a fingerprint of part of a hello would match nothing.
 * Those hellos are counted under "incomplete_hellos".
 *
 * MD5 comes from OpenSSL's libcrypto (EVP interface), fetched at the
 * first hello and kept: an implicit fetch per hello (EVP_md5() with
 * EVP_Digest) takes the provider store's lock every time, and a fetch at
 * init would load OpenSSL's providers into kitchens that never see TLS.
 * Apart from that digest the chef keeps no state between packets, and it
 * emits no interval dumplings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <ndl/chef.h>
#include <ndl/names.h>

#define TLS_CLIENT_HELLO 1
#define TLS_SERVER_HELLO 2

/* The longest JA3 string: 5 ("65535") + 1 per number, every list at its limit. */
#define JA3_MAX (6 + 6 * NDL_TLS_MAX_CIPHERS + 1 + 6 * NDL_TLS_MAX_EXTENSIONS + 1 + \
		 6 * NDL_TLS_MAX_LIST + 1 + 4 * NDL_TLS_MAX_LIST + 1)

/* The chef's context, in ctx->state (zeroed by the kitchen). */
struct tlshello_ctx {
	bool server_hello;           /* option server_hello */
	bool md5_tried;              /* md5 and md5_ctx were asked for */
	EVP_MD *md5;                 /* owned; NULL when no provider offers MD5 */
	EVP_MD_CTX *md5_ctx;         /* owned; reused for every hello */
};

/* ------------------------------------------------------------------------ */
/* Fields                                                                    */
/* ------------------------------------------------------------------------ */

/* Protocol version names (RFC 8446 B.1 and its predecessors), else 0x%04x. */
static void write_version(struct ndl_jw *w, uint16_t v)
{
	char name[NDL_TLS_VERSION_NAME_MAX];

	ndl_jw_string(w, ndl_tls_version_name(v, name, sizeof(name)));
}

static void write_u16_list(struct ndl_jw *w, const char *key, const uint16_t *v, uint16_t n)
{
	ndl_jw_key(w, key);
	ndl_jw_begin_array(w);
	for (uint16_t i = 0; i < n; i++)
		ndl_jw_uint(w, v[i]);
	ndl_jw_end_array(w);
}

static void write_endpoint(struct ndl_jw *w, const char *key, int version,
			   const uint8_t *ip, uint16_t port)
{
	ndl_jw_key(w, key);
	ndl_jw_begin_object(w);
	ndl_jw_key(w, "ip");
	ndl_jw_ip(w, version, ip);
	ndl_jw_key(w, "port");
	ndl_jw_uint(w, port);
	ndl_jw_end_object(w);
}

/* What went wrong while parsing, or null (enum ndl_tls_error). */
static void write_error(struct ndl_jw *w, uint32_t err)
{
	ndl_jw_key(w, "error");
	if (err == NDL_TLS_OK)
		ndl_jw_null(w);
	else
		ndl_jw_string(w, ndl_tls_error_name(err));
}

/* ------------------------------------------------------------------------ */
/* JA3                                                                       */
/* ------------------------------------------------------------------------ */

struct strbuf {
	char *p;
	size_t len;
	size_t cap;
};

static void sb_putc(struct strbuf *b, char ch)
{
	if (b->len + 1 < b->cap)
		b->p[b->len++] = ch;
}

static void sb_putu(struct strbuf *b, unsigned int v)
{
	char digits[8];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < (int)sizeof(digits));
	while (n)
		sb_putc(b, digits[--n]);
}

/* Append the non-GREASE values of a list joined by '-'. */
static void sb_put_list16(struct strbuf *b, const uint16_t *v, uint16_t n)
{
	bool first = true;

	for (uint16_t i = 0; i < n; i++) {
		if (ndl_tls_is_grease(v[i]))
			continue;
		if (!first)
			sb_putc(b, '-');
		sb_putu(b, v[i]);
		first = false;
	}
}

/*
 * The JA3 string of a ClientHello into out (NUL-terminated, JA3_MAX bytes).
 * Returns its length.
 */
static size_t ja3_string(const struct ndl_tls_hello *h, char *out, size_t cap)
{
	struct strbuf b = { .p = out, .len = 0, .cap = cap };

	sb_putu(&b, h->legacy_version);
	sb_putc(&b, ',');
	sb_put_list16(&b, h->ciphers, h->n_ciphers);
	sb_putc(&b, ',');
	sb_put_list16(&b, h->extensions, h->n_extensions);
	sb_putc(&b, ',');
	sb_put_list16(&b, h->groups, h->n_groups);
	sb_putc(&b, ',');
	for (uint16_t i = 0; i < h->n_point_formats; i++) {
		if (i)
			sb_putc(&b, '-');
		sb_putu(&b, h->point_formats[i]);
	}
	out[b.len] = '\0';
	return b.len;
}

/* MD5 (RFC 1321) of s[0..len) as 32 lowercase hex digits. Returns 0 or -EIO. */
static int md5_hex(struct ndl_chef_ctx *ctx, const char *s, size_t len, char out[33])
{
	static const char digits[] = "0123456789abcdef";
	struct tlshello_ctx *c = ctx->state;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!c->md5_tried) {
		c->md5_tried = true;
		c->md5 = EVP_MD_fetch(NULL, "MD5", NULL);
		c->md5_ctx = EVP_MD_CTX_new();
		if (!c->md5 || !c->md5_ctx)
			ctx->host->log(ctx, NDL_LOG_WARN,
				       "no MD5 from libcrypto (a FIPS-only provider?): ja3 and "
				       "ja3_hash will be null, counted under md5_failures");
	}
	if (!c->md5 || !c->md5_ctx || EVP_DigestInit_ex2(c->md5_ctx, c->md5, NULL) != 1 ||
	    EVP_DigestUpdate(c->md5_ctx, s, len) != 1 ||
	    EVP_DigestFinal_ex(c->md5_ctx, md, &mdlen) != 1 || mdlen != 16)
		return -EIO;
	for (unsigned int i = 0; i < 16; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 0x0f];
	}
	out[32] = '\0';
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Dumplings                                                                 */
/* ------------------------------------------------------------------------ */

static void emit_client_hello(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt,
			      const struct ndl_tls_hello *h)
{
	char ja3[JA3_MAX];
	char hash[33];
	size_t ja3_len = 0;
	bool whole = h->error == NDL_TLS_OK;
	struct ndl_jw *w;

	if (whole) {
		ja3_len = ja3_string(h, ja3, sizeof(ja3));
		if (md5_hex(ctx, ja3, ja3_len, hash) < 0) {
			ctx->host->count(ctx, "md5_failures", 1);
			whole = false;
		}
	} else {
		ctx->host->count(ctx, "incomplete_hellos", 1);
	}

	w = ctx->host->emit_begin(ctx, NDL_DRIVER_PACKET);
	if (!w)
		return;
	ndl_jw_begin_object(w);
	ndl_jw_key(w, "kind");
	ndl_jw_string(w, "client_hello");
	ndl_jw_key(w, "time");
	ndl_jw_time(w, pkt->ts);
	write_endpoint(w, "client", pkt->ip_version, pkt->src_ip, pkt->sport);
	write_endpoint(w, "server", pkt->ip_version, pkt->dst_ip, pkt->dport);
	ndl_jw_key(w, "sni");
	if (h->sni.ptr)
		ndl_jw_string_n(w, h->sni.ptr, h->sni.len);
	else
		ndl_jw_null(w);
	ndl_jw_key(w, "version");
	write_version(w, h->version);
	ndl_jw_key(w, "legacy_version");
	write_version(w, h->legacy_version);
	ndl_jw_key(w, "alpn");
	ndl_jw_begin_array(w);
	for (uint16_t i = 0; i < h->n_alpn; i++)
		ndl_jw_string_n(w, h->alpn[i].ptr, h->alpn[i].len);
	ndl_jw_end_array(w);
	write_u16_list(w, "ciphers", h->ciphers, h->n_ciphers);
	write_u16_list(w, "extensions", h->extensions, h->n_extensions);
	write_u16_list(w, "groups", h->groups, h->n_groups);
	ndl_jw_key(w, "point_formats");
	ndl_jw_begin_array(w);
	for (uint16_t i = 0; i < h->n_point_formats; i++)
		ndl_jw_uint(w, h->point_formats[i]);
	ndl_jw_end_array(w);
	ndl_jw_key(w, "ja3");
	if (whole)
		ndl_jw_string_n(w, ja3, ja3_len);
	else
		ndl_jw_null(w);
	ndl_jw_key(w, "ja3_hash");
	if (whole)
		ndl_jw_string_n(w, hash, 32);
	else
		ndl_jw_null(w);
	write_error(w, h->error);
	ndl_jw_end_object(w);
	ctx->host->emit_end(ctx, w);
}

static void emit_server_hello(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt,
			      const struct ndl_tls_hello *h)
{
	struct ndl_jw *w = ctx->host->emit_begin(ctx, NDL_DRIVER_PACKET);

	if (!w)
		return;
	ndl_jw_begin_object(w);
	ndl_jw_key(w, "kind");
	ndl_jw_string(w, "server_hello");
	ndl_jw_key(w, "time");
	ndl_jw_time(w, pkt->ts);
	/* The server sends it: the client is the destination. */
	write_endpoint(w, "client", pkt->ip_version, pkt->dst_ip, pkt->dport);
	write_endpoint(w, "server", pkt->ip_version, pkt->src_ip, pkt->sport);
	ndl_jw_key(w, "version");
	write_version(w, h->version);
	ndl_jw_key(w, "cipher");
	ndl_jw_uint(w, h->cipher);
	ndl_jw_key(w, "alpn");
	if (h->n_alpn > 0)
		ndl_jw_string_n(w, h->alpn[0].ptr, h->alpn[0].len);
	else
		ndl_jw_null(w);
	write_error(w, h->error);
	ndl_jw_end_object(w);
	ctx->host->emit_end(ctx, w);
}

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                 */
/* ------------------------------------------------------------------------ */

static int tlshello_init(struct ndl_chef_ctx *ctx)
{
	struct tlshello_ctx *c = ctx->state;

	c->server_hello = ctx->host->config_bool(ctx, "server_hello");
	return 0;
}

static void tlshello_packet(struct ndl_chef_ctx *ctx, const struct ndl_packet *pkt)
{
	struct tlshello_ctx *c = ctx->state;
	const struct ndl_tls_hello *h;

	if (!(pkt->layers & NDL_LAYER_TCP) || !pkt->payload_len ||
	    (pkt->ip_version != 4 && pkt->ip_version != 6))
		return;
	h = ctx->host->tls_hello(ctx, pkt);
	if (!h)
		return;
	if (h->type == TLS_CLIENT_HELLO)
		emit_client_hello(ctx, pkt, h);
	else if (h->type == TLS_SERVER_HELLO && c->server_hello)
		emit_server_hello(ctx, pkt, h);
}

static void tlshello_fini(struct ndl_chef_ctx *ctx)
{
	struct tlshello_ctx *c = ctx->state;

	EVP_MD_CTX_free(c->md5_ctx);
	EVP_MD_free(c->md5);
	c->md5_ctx = NULL;
	c->md5 = NULL;
	c->md5_tried = false;
}

/* ------------------------------------------------------------------------ */
/* Configuration                                                             */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_option tlshello_options[] = {
	{
		.key = "server_hello",
		.type = NDL_OPT_BOOL,
		.default_value = "true",
		.min = 0,
		.max = -1,
		.help = "also emit a dumpling per ServerHello (the version, cipher and ALPN chosen)",
	},
	{ .key = NULL },
};

/* ------------------------------------------------------------------------ */
/* Registration                                                              */
/* ------------------------------------------------------------------------ */

static const struct ndl_chef_descriptor tlshello_chef = {
	.abi_version = NDL_CHEF_ABI_VERSION,
	.struct_size = sizeof(struct ndl_chef_descriptor),
	.name = "TLSClientHelloChef",
	.version = "1.0.0",
	.description = "every TLS ClientHello with its SNI, ALPN and JA3 fingerprint, and ServerHellos",
	.state_size = sizeof(struct tlshello_ctx),
	.options = tlshello_options,
	.init = tlshello_init,
	.on_packet = tlshello_packet,
	.on_interval = NULL,
	.fini = tlshello_fini,
	.flags = NDL_CHEF_F_ANY_THREAD,
};

/*
 * The chef's only exported symbol. Returns the static descriptor above
 * (never NULL, owned by this module). Called once by the kitchen's loader.
 */
NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void);

NDL_CHEF_EXPORT const struct ndl_chef_descriptor *NDL_CHEF_ENTRY(void)
{
	return &tlshello_chef;
}
