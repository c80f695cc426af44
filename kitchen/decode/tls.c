/* SPDX-License-Identifier: MIT */
/*
 * tls.c - the TLS ClientHello and ServerHello at the front of one TCP
 * segment.
 *
 * RFC 8446 section 5.1 (record layer), 4 (handshake header), 4.1.2
 * (ClientHello), 4.1.3 (ServerHello), 4.2 (extensions), 4.2.1
 * (supported_versions); RFC 5246 section 7.4.1.2-7.4.1.4 (the TLS 1.2
 * hellos, whose extensions may be absent); RFC 6066 section 3
 * (server_name); RFC 7301 section 3.1 (ALPN); RFC 8422 section 5.1
 * (supported_groups, ec_point_formats); RFC 8701 (GREASE, kept as sent).
 *
 *   record:     type(1) = 22 | version(2) = 0x03xx | length(2)
 *   handshake:  msg_type(1) = 1 or 2 | length(3)
 *   ClientHello: legacy_version(2) random(32) session_id<0..32>
 *                cipher_suites<2..2^16-2> compression_methods<1..2^8-1>
 *                extensions<8..2^16-1>
 *   ServerHello: legacy_version(2) random(32) session_id<0..32>
 *                cipher_suite(2) compression_method(1) extensions<6..2^16-1>
 *   extension:  type(2) | length(2) | data
 *
 * Every length field opens a window over the bytes it promises. Reading
 * past a window's promise is NDL_TLS_BAD_HELLO; reading inside the promise
 * but past the bytes captured (the hello goes on in the next segment or
 * record) is NDL_TLS_TRUNCATED. Either ends the parse, keeping what came
 * before. A list longer than its limit keeps the first entries, sets
 * NDL_TLS_TOO_MANY and the parse goes on (a later TRUNCATED or BAD_HELLO
 * takes its place), so a hello with many ciphers still yields its SNI.
 *
 * Nothing is allocated: lists fill the caller's struct ndl__tls_buf and
 * strings point into the message.
 */
#include <errno.h>
#include <string.h>
#include <ndl/names.h>
#include "decode.h"
#include "rd.h"

enum {
	CT_HANDSHAKE = 22,
	HS_CLIENT_HELLO = 1,
	HS_SERVER_HELLO = 2,
	/* Largest record any TLS version allows (RFC 5246 6.2.3). */
	RECORD_MAX = 16384 + 2048,
	SESSION_ID_MAX = 32,
	RANDOM_LEN = 32,
};

enum {
	EXT_SERVER_NAME = 0,
	EXT_SUPPORTED_GROUPS = 10,
	EXT_EC_POINT_FORMATS = 11,
	EXT_SIGNATURE_ALGORITHMS = 13,
	EXT_ALPN = 16,
	EXT_SUPPORTED_VERSIONS = 43,
};

/* Bits of struct hello.seen: a known extension is read once only. */
enum {
	SEEN_SNI = 1u << 0,
	SEEN_GROUPS = 1u << 1,
	SEEN_POINTS = 1u << 2,
	SEEN_SIGS = 1u << 3,
	SEEN_ALPN = 1u << 4,
	SEEN_VERSIONS = 1u << 5,
};

/*
 * A window over the bytes a length field promised: r covers the part that
 * was captured (r.len <= claimed).
 */
struct win {
	struct ndl__rd r;
	size_t claimed;
	bool cut;          /* a part was skipped past the capture: reads fail */
};

struct hello {
	struct ndl__tls_buf *buf;
	bool too_many;
	unsigned int seen;
};

/* The error for wanting n more bytes of w that are not there. */
static int win_short(const struct win *w, size_t n)
{
	if (w->cut)
		return NDL_TLS_TRUNCATED;
	return n > w->claimed - w->r.off ? NDL_TLS_BAD_HELLO : NDL_TLS_TRUNCATED;
}

static bool win_done(const struct win *w)
{
	return !w->cut && w->r.off >= w->claimed;
}

static int win_u8(struct win *w, uint8_t *v)
{
	if (w->cut)
		return NDL_TLS_TRUNCATED;
	if (w->claimed - w->r.off < 1 || !rd_u8(&w->r, v))
		return win_short(w, 1);
	return 0;
}

static int win_u16(struct win *w, uint16_t *v)
{
	if (w->cut)
		return NDL_TLS_TRUNCATED;
	if (w->claimed - w->r.off < 2 || !rd_be16(&w->r, v))
		return win_short(w, 2);
	return 0;
}

static int win_take(struct win *w, const uint8_t **p, size_t n)
{
	if (w->cut)
		return NDL_TLS_TRUNCATED;
	if (w->claimed - w->r.off < n || !rd_take(&w->r, p, n))
		return win_short(w, n);
	return 0;
}

static int win_skip(struct win *w, size_t n)
{
	if (w->cut)
		return NDL_TLS_TRUNCATED;
	if (w->claimed - w->r.off < n || !rd_skip(&w->r, n))
		return win_short(w, n);
	return 0;
}

/*
 * The next n bytes of w as a window of their own; w moves past them. When
 * they run past the capture, w is marked cut: its next read reports the
 * truncation.
 */
static int win_sub(struct win *w, size_t n, struct win *child)
{
	if (w->cut)
		return NDL_TLS_TRUNCATED;
	if (n > w->claimed - w->r.off)
		return NDL_TLS_BAD_HELLO;
	child->r = rd_sub(&w->r, n);
	child->claimed = n;
	child->cut = false;
	if (!rd_skip(&w->r, n)) {
		w->r.off = w->r.len;
		w->cut = true;
	}
	return 0;
}

/* A vector with a one- or two-byte length (RFC 8446 3.4) as a window. */
static int win_vec8(struct win *w, struct win *child)
{
	uint8_t n;
	int err = win_u8(w, &n);

	return err ? err : win_sub(w, n, child);
}

static int win_vec16(struct win *w, struct win *child)
{
	uint16_t n;
	int err = win_u16(w, &n);

	return err ? err : win_sub(w, n, child);
}

/* Two-byte entries of v into out[cap], counting into *n. */
static int u16_list(struct hello *h, struct win *v, uint16_t *out, uint16_t *n, size_t cap)
{
	if (v->claimed % 2)
		return NDL_TLS_BAD_HELLO;
	while (!win_done(v)) {
		uint16_t x;
		int err = win_u16(v, &x);

		if (err)
			return err;
		if (*n < cap)
			out[(*n)++] = x;
		else
			h->too_many = true;
	}
	return 0;
}

/* RFC 6066 3: ServerNameList; the first host_name (type 0) is kept. */
static int ext_server_name(struct hello *h, struct win *ext)
{
	struct win list;
	int err = win_vec16(ext, &list);

	if (err)
		return err;
	while (!win_done(&list)) {
		struct win name;
		uint8_t type;
		const uint8_t *p;

		if ((err = win_u8(&list, &type)) || (err = win_vec16(&list, &name)))
			return err;
		if ((err = win_take(&name, &p, name.claimed)))
			return err;
		if (type == 0 && h->buf->hello.sni.ptr == NULL) {
			h->buf->hello.sni.ptr = (const char *)p;
			h->buf->hello.sni.len = (uint32_t)name.claimed;
		}
	}
	return 0;
}

/* RFC 7301 3.1: ProtocolNameList of ProtocolName<1..2^8-1>. */
static int ext_alpn(struct hello *h, struct win *ext)
{
	struct ndl_tls_hello *t = &h->buf->hello;
	struct win list;
	int err = win_vec16(ext, &list);

	if (err)
		return err;
	while (!win_done(&list)) {
		struct win name;
		const uint8_t *p;

		if ((err = win_vec8(&list, &name)))
			return err;
		if (name.claimed == 0)
			return NDL_TLS_BAD_HELLO;
		if ((err = win_take(&name, &p, name.claimed)))
			return err;
		if (t->n_alpn < NDL_TLS_MAX_ALPN) {
			h->buf->alpn[t->n_alpn].ptr = (const char *)p;
			h->buf->alpn[t->n_alpn].len = (uint32_t)name.claimed;
			t->n_alpn++;
		} else {
			h->too_many = true;
		}
	}
	return 0;
}

/* One extension's data; type already recorded. */
static int extension(struct hello *h, uint16_t type, struct win *ext)
{
	struct ndl__tls_buf *b = h->buf;
	struct ndl_tls_hello *t = &b->hello;
	bool client = t->type == HS_CLIENT_HELLO;
	struct win v;
	int err;

#define ONCE(bit) do { if (h->seen & (bit)) return 0; h->seen |= (bit); } while (0)
	switch (type) {
	case EXT_SERVER_NAME:
		/* A server answers with an empty server_name (RFC 6066 3). */
		if (!client || ext->claimed == 0)
			return 0;
		ONCE(SEEN_SNI);
		return ext_server_name(h, ext);
	case EXT_SUPPORTED_GROUPS:
		if (!client)
			return 0;
		ONCE(SEEN_GROUPS);
		if ((err = win_vec16(ext, &v)))
			return err;
		return u16_list(h, &v, b->groups, &t->n_groups, NDL_TLS_MAX_LIST);
	case EXT_EC_POINT_FORMATS:
		ONCE(SEEN_POINTS);
		if ((err = win_vec8(ext, &v)))
			return err;
		while (!win_done(&v)) {
			uint8_t f;

			if ((err = win_u8(&v, &f)))
				return err;
			if (t->n_point_formats < NDL_TLS_MAX_LIST)
				b->point_formats[t->n_point_formats++] = f;
			else
				h->too_many = true;
		}
		return 0;
	case EXT_SIGNATURE_ALGORITHMS:
		if (!client)
			return 0;
		ONCE(SEEN_SIGS);
		if ((err = win_vec16(ext, &v)))
			return err;
		return u16_list(h, &v, b->sig_algs, &t->n_sig_algs, NDL_TLS_MAX_LIST);
	case EXT_ALPN:
		ONCE(SEEN_ALPN);
		return ext_alpn(h, ext);
	case EXT_SUPPORTED_VERSIONS:
		ONCE(SEEN_VERSIONS);
		if (!client) {
			/* RFC 8446 4.2.1: the server names one version. */
			uint16_t sel;

			if ((err = win_u16(ext, &sel)))
				return err;
			b->versions[0] = sel;
			t->n_versions = 1;
			t->version = sel;
			return 0;
		}
		if ((err = win_vec8(ext, &v)))
			return err;
		return u16_list(h, &v, b->versions, &t->n_versions, NDL_TLS_MAX_LIST);
	default:
		return 0;
	}
#undef ONCE
}

/* RFC 8446 4.2: the extensions block, absent in some TLS 1.2 hellos. */
static int extensions(struct hello *h, struct win *body)
{
	struct ndl_tls_hello *t = &h->buf->hello;
	struct win list;
	int err;

	if (win_done(body))
		return 0;
	if ((err = win_vec16(body, &list)))
		return err;
	while (!win_done(&list)) {
		struct win ext;
		uint16_t type;

		if ((err = win_u16(&list, &type)) || (err = win_vec16(&list, &ext)))
			return err;
		if (t->n_extensions < NDL_TLS_MAX_EXTENSIONS)
			h->buf->extensions[t->n_extensions++] = type;
		else
			h->too_many = true;
		if ((err = extension(h, type, &ext)))
			return err;
	}
	return 0;
}

/* Both hellos up to the extensions, then the extensions. */
static int hello_body(struct hello *h, struct win *body)
{
	struct ndl_tls_hello *t = &h->buf->hello;
	struct win sid, v;
	const uint8_t *p;
	int err;

	if ((err = win_u16(body, &t->legacy_version)))
		return err;
	t->version = t->legacy_version;
	if ((err = win_take(body, &p, RANDOM_LEN)))
		return err;
	t->random = p;
	if ((err = win_vec8(body, &sid)))
		return err;
	if (sid.claimed > SESSION_ID_MAX)
		return NDL_TLS_BAD_HELLO;
	if ((err = win_take(&sid, &p, sid.claimed)))
		return err;
	t->session_id.ptr = (const char *)p;
	t->session_id.len = (uint32_t)sid.claimed;

	if (t->type == HS_CLIENT_HELLO) {
		if ((err = win_vec16(body, &v)))
			return err;
		if ((err = u16_list(h, &v, h->buf->ciphers, &t->n_ciphers, NDL_TLS_MAX_CIPHERS)))
			return err;
		if ((err = win_vec8(body, &v)) || (err = win_skip(&v, v.claimed)))
			return err;
	} else {
		if ((err = win_u16(body, &t->cipher)) || (err = win_skip(body, 1)))
			return err;
	}
	if ((err = extensions(h, body)))
		return err;

	/* ClientHello: the highest version offered, GREASE aside (RFC 8446 4.2.1). */
	if (t->type == HS_CLIENT_HELLO && (h->seen & SEEN_VERSIONS)) {
		uint16_t best = 0;

		for (uint16_t i = 0; i < t->n_versions; i++) {
			if (!ndl_tls_is_grease(h->buf->versions[i]) && h->buf->versions[i] > best)
				best = h->buf->versions[i];
		}
		if (best)
			t->version = best;
	}
	return 0;
}

/*
 * Contract in decode.h. Reads only msg[0..len), allocates nothing, writes
 * only buf: safe on any thread with its own buf. Pointers in buf->hello
 * point into buf's arrays and into msg (borrowed from the caller).
 */
int ndl__tls_parse(struct ndl__tls_buf *buf, const uint8_t *msg, size_t len)
{
	struct ndl__rd r;
	struct ndl_tls_hello *t;
	struct hello h;
	struct win record, body;
	uint16_t rec_len;
	uint8_t hs_type, b0, b1, b2;
	int err;

	/* The cheap test: a handshake record whose first message is a hello. */
	if (buf == NULL || msg == NULL || len < 6 || msg[0] != CT_HANDSHAKE || msg[1] != 3 ||
	    (msg[5] != HS_CLIENT_HELLO && msg[5] != HS_SERVER_HELLO))
		return -EINVAL;

	t = &buf->hello;
	memset(t, 0, sizeof(*t));
	t->struct_size = sizeof(*t);
	t->ciphers = buf->ciphers;
	t->extensions = buf->extensions;
	t->groups = buf->groups;
	t->point_formats = buf->point_formats;
	t->versions = buf->versions;
	t->sig_algs = buf->sig_algs;
	t->alpn = buf->alpn;
	t->type = msg[5];
	h.buf = buf;
	h.too_many = false;
	h.seen = 0;

	r = rd_make(msg, len);
	RD_SKIP(&r, 1, trunc);                 /* content type, checked */
	RD_BE16(&r, t->record_version, trunc);
	RD_BE16(&r, rec_len, trunc);
	if (rec_len < 4 || rec_len > RECORD_MAX) {
		t->error = NDL_TLS_BAD_RECORD;
		return 0;
	}
	record.r = rd_sub(&r, rec_len);
	record.claimed = rec_len;
	record.cut = false;
	if ((err = win_u8(&record, &hs_type)) || (err = win_u8(&record, &b0)) ||
	    (err = win_u8(&record, &b1)) || (err = win_u8(&record, &b2))) {
		t->error = (uint32_t)err;
		return 0;
	}
	/*
	 * The hello's window: its own length, captured as far as this record
	 * and segment go. A hello longer than its record continues in the
	 * next one (RFC 8446 5.1), which reads here as truncated.
	 */
	body.claimed = (size_t)b0 << 16 | (size_t)b1 << 8 | b2;
	body.r = rd_sub(&record.r, body.claimed);
	body.cut = false;
	err = hello_body(&h, &body);
	if (err == 0 && h.too_many)
		err = NDL_TLS_TOO_MANY;
	t->error = (uint32_t)err;
	return 0;

trunc:
	t->error = NDL_TLS_TRUNCATED;
	return 0;
}

/*
 * Contract in decode.h: any TCP payload starting 0x16 0x03 is tried,
 * whatever its ports. The result points into buf and pkt's bytes.
 */
const struct ndl_tls_hello *ndl__tls_from_packet(struct ndl__tls_buf *buf,
						 const struct ndl_packet *pkt)
{
	if (buf == NULL || pkt == NULL || !(pkt->layers & NDL_LAYER_TCP) ||
	    pkt->payload == NULL || pkt->payload_len < 6 ||
	    pkt->payload[0] != CT_HANDSHAKE || pkt->payload[1] != 3)
		return NULL;
	if (ndl__tls_parse(buf, pkt->payload, pkt->payload_len) != 0)
		return NULL;
	return &buf->hello;
}

