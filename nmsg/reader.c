/* SPDX-License-Identifier: MIT */
/*
 * reader.c - NMSG input: containers from a stream or from datagrams,
 * zlib bodies, fragment reassembly, payload CRC-32C and sequence numbers.
 *
 * Every limit is enforced before memory is taken: a container body (and
 * an inflated body) is at most max_container bytes, fragment sets are
 * bounded in number, fragments and bytes, and incomplete sets expire.
 * Every refusal is counted by kind and reported (rate-limited) with what
 * was wrong and where.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "nmsg.h"

/* Messages per error kind before the rest are only counted. */
#define MAX_SHOWN 5

struct piece {
	uint8_t *data;
	size_t len;
	bool have;
};

struct frag_set {
	bool used;
	uint32_t id;
	uint64_t peer;
	uint8_t flags;            /* the zlib flag of the fragments */
	uint32_t last;
	uint32_t have;
	bool has_crc;
	uint32_t crc;
	int64_t started;
	uint64_t order;           /* for evicting the oldest */
	size_t bytes;
	struct piece *pieces;     /* last + 1 */
};

struct seq_stream {
	bool used;
	uint64_t peer;
	uint64_t sequence_id;
	uint32_t next;
};

struct ndl__nmsg_reader {
	struct ndl__nmsg_reader_config cfg;
	ndl__nmsg_payload_fn on_payload;
	ndl__nmsg_error_fn on_error;
	void *arg;
	struct ndl__nmsg_reader_stats st;
	unsigned shown[NDL__NMSG_ERR_COUNT];

	/* stream */
	uint8_t *buf;
	size_t len, size;
	bool hdr_ok;
	uint8_t flags;
	size_t blen;
	bool dead;
	uint64_t offset;          /* stream offset of the container in buf */

	/* fragments */
	struct frag_set *sets;
	size_t frag_bytes;
	uint64_t frag_order;

	struct seq_stream seq[NDL__NMSG_SEQ_STREAMS];
};

static const char *const error_names[NDL__NMSG_ERR_COUNT] = {
	[NDL__NMSG_ERR_NONE] = "none",
	[NDL__NMSG_ERR_MAGIC] = "bad_magic",
	[NDL__NMSG_ERR_VERSION] = "bad_version",
	[NDL__NMSG_ERR_FLAGS] = "bad_flags",
	[NDL__NMSG_ERR_TRUNCATED] = "truncated",
	[NDL__NMSG_ERR_TOO_LARGE] = "too_large",
	[NDL__NMSG_ERR_TRAILING] = "trailing_bytes",
	[NDL__NMSG_ERR_ZLIB] = "zlib",
	[NDL__NMSG_ERR_PROTOBUF] = "protobuf",
	[NDL__NMSG_ERR_PAYLOAD] = "bad_payload",
	[NDL__NMSG_ERR_CRC] = "crc",
	[NDL__NMSG_ERR_FRAGMENT] = "bad_fragment",
	[NDL__NMSG_ERR_FRAG_LIMIT] = "fragment_limit",
	[NDL__NMSG_ERR_FRAG_TIMEOUT] = "fragment_timeout",
};

const char *ndl__nmsg_error_name(enum ndl__nmsg_error e)
{
	return (unsigned)e < NDL__NMSG_ERR_COUNT ? error_names[e] : "unknown";
}

static void report(struct ndl__nmsg_reader *r, enum ndl__nmsg_error e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void report(struct ndl__nmsg_reader *r, enum ndl__nmsg_error e, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	r->st.errors++;
	r->st.by_error[e]++;
	if (!r->on_error || r->shown[e] > MAX_SHOWN)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (++r->shown[e] > MAX_SHOWN && n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n,
			 " (further %s errors are counted, not shown)", error_names[e]);
	r->on_error(r->arg, e, msg);
}

struct ndl__nmsg_reader *ndl__nmsg_reader_new(const struct ndl__nmsg_reader_config *cfg,
					      ndl__nmsg_payload_fn on_payload,
					      ndl__nmsg_error_fn on_error, void *arg)
{
	struct ndl__nmsg_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (cfg)
		r->cfg = *cfg;
	if (!r->cfg.max_container)
		r->cfg.max_container = NDL__NMSG_DEFAULT_MAX_CONTAINER;
	if (!r->cfg.max_payloads)
		r->cfg.max_payloads = NDL__NMSG_DEFAULT_MAX_PAYLOADS;
	if (!r->cfg.max_frag_sets)
		r->cfg.max_frag_sets = NDL__NMSG_DEFAULT_FRAG_SETS;
	if (!r->cfg.max_frag_bytes)
		r->cfg.max_frag_bytes = NDL__NMSG_DEFAULT_FRAG_BYTES;
	if (!r->cfg.max_fragments)
		r->cfg.max_fragments = NDL__NMSG_DEFAULT_FRAGMENTS;
	if (r->cfg.frag_timeout_ns <= 0)
		r->cfg.frag_timeout_ns = NDL__NMSG_DEFAULT_FRAG_TIMEOUT_NS;
	r->sets = calloc(r->cfg.max_frag_sets, sizeof(*r->sets));
	if (!r->sets) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->on_payload = on_payload;
	r->on_error = on_error;
	r->arg = arg;
	return r;
}

static void drop_set(struct ndl__nmsg_reader *r, struct frag_set *s)
{
	if (!s->used)
		return;
	for (uint32_t i = 0; i <= s->last; i++)
		free(s->pieces[i].data);
	free(s->pieces);
	r->frag_bytes -= s->bytes;
	memset(s, 0, sizeof(*s));
}

void ndl__nmsg_reader_free(struct ndl__nmsg_reader *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->cfg.max_frag_sets; i++)
		drop_set(r, &r->sets[i]);
	free(r->sets);
	free(r->buf);
	free(r);
}

const struct ndl__nmsg_reader_stats *ndl__nmsg_reader_stats(const struct ndl__nmsg_reader *r)
{
	return &r->st;
}

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */
/* ------------------------------------------------------------------------ */

/* Follow a sender's sequence numbers (datagrams only). */
static void follow_sequence(struct ndl__nmsg_reader *r, uint64_t peer, uint64_t seq_id,
			    uint32_t seq)
{
	struct seq_stream *free_slot = NULL;

	for (size_t i = 0; i < NDL__NMSG_SEQ_STREAMS; i++) {
		struct seq_stream *s = &r->seq[i];
		if (!s->used) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (s->peer != peer || s->sequence_id != seq_id)
			continue;
		if (seq != s->next) {
			uint32_t ahead = seq - s->next;
			if (ahead < 0x80000000u) {
				r->st.seq_gaps++;
				r->st.seq_lost += ahead;
			}
		}
		s->next = seq + 1;
		return;
	}
	if (!free_slot) {
		r->st.seq_untracked++;
		return;
	}
	free_slot->used = true;
	free_slot->peer = peer;
	free_slot->sequence_id = seq_id;
	free_slot->next = seq + 1;
}

static int decode_payload(const uint8_t *data, size_t len, struct ndl__nmsg_payload *p)
{
	struct ndl__pb_reader rd;
	struct ndl__pb_field f;
	unsigned have = 0;

	memset(p, 0, sizeof(*p));
	ndl__pb_reader_init(&rd, data, len);
	while (!ndl__pb_done(&rd)) {
		if (ndl__pb_next(&rd, &f) < 0)
			return -EBADMSG;
		if (f.number == 5) {
			if (f.wire != NDL__PB_LEN)
				return -EBADMSG;
			p->data = f.data;
			p->len = f.len;
			continue;
		}
		if (f.number > 9 || f.number == 6)
			continue;    /* unknown fields are skipped, as protobuf does */
		if (f.wire == NDL__PB_LEN)
			return -EBADMSG;
		if (f.number != 3 && f.u > UINT32_MAX)
			return -EBADMSG;
		switch (f.number) {
		case 1: p->vid = (uint32_t)f.u; have |= 1; break;
		case 2: p->msgtype = (uint32_t)f.u; have |= 2; break;
		case 3: p->time_sec = (int64_t)f.u; have |= 4; break;
		case 4: p->time_nsec = (uint32_t)f.u; have |= 8; break;
		case 7: p->source = (uint32_t)f.u; p->has_source = true; break;
		case 8: p->operator_id = (uint32_t)f.u; p->has_operator = true; break;
		case 9: p->group = (uint32_t)f.u; p->has_group = true; break;
		default: break;
		}
	}
	if (have != 15 || p->time_nsec >= 1000000000u)
		return -EBADMSG;
	return 0;
}

/* Read a crc value (VARINT, FIXED32) or a packed run of them. */
static int take_crcs(const struct ndl__pb_field *f, uint32_t *crcs, size_t *n, size_t max)
{
	if (f->wire == NDL__PB_VARINT || f->wire == NDL__PB_FIXED32) {
		if (f->u > UINT32_MAX)
			return -EBADMSG;
		if (*n < max)
			crcs[*n] = (uint32_t)f->u;
		(*n)++;
		return 0;
	}
	if (f->wire == NDL__PB_LEN) {
		struct ndl__pb_reader rd;
		ndl__pb_reader_init(&rd, f->data, f->len);
		while (!ndl__pb_done(&rd)) {
			uint64_t v;
			if (ndl__pb_read_varint(&rd, &v) < 0 || v > UINT32_MAX)
				return -EBADMSG;
			if (*n < max)
				crcs[*n] = (uint32_t)v;
			(*n)++;
		}
		return 0;
	}
	return -EBADMSG;
}

/* One Nmsg message: check it whole, then deliver its payloads. */
static int decode_nmsg(struct ndl__nmsg_reader *r, const uint8_t *body, size_t len,
		       uint64_t peer, bool datagram, const char *where)
{
	struct ndl__pb_reader rd;
	struct ndl__pb_field f;
	size_t n_payloads = 0, n_crcs = 0, i = 0;
	bool has_seq = false, has_seq_id = false;
	uint32_t seq = 0;
	uint64_t seq_id = 0;
	uint32_t *crcs = NULL;
	int rc = 0;

	/* first pass: structure, counts, sequence */
	ndl__pb_reader_init(&rd, body, len);
	while (!ndl__pb_done(&rd)) {
		if (ndl__pb_next(&rd, &f) < 0) {
			report(r, NDL__NMSG_ERR_PROTOBUF, "%s: the Nmsg message is not valid "
			       "protobuf (at byte %zu of %zu); container skipped", where,
			       (size_t)(rd.p - body), len);
			return -EBADMSG;
		}
		if (f.number == 1 && f.wire == NDL__PB_LEN)
			n_payloads++;
		else if (f.number == 1 ||
			 (f.number == 3 && (f.wire == NDL__PB_LEN || f.u > UINT32_MAX)) ||
			 (f.number == 4 && f.wire == NDL__PB_LEN)) {
			report(r, NDL__NMSG_ERR_PROTOBUF, "%s: Nmsg field %u has the wrong type; "
			       "container skipped", where, f.number);
			return -EBADMSG;
		} else if (f.number == 3) {
			has_seq = true;
			seq = (uint32_t)f.u;
		} else if (f.number == 4) {
			has_seq_id = true;
			seq_id = f.u;
		}
	}
	if (n_payloads > r->cfg.max_payloads) {
		report(r, NDL__NMSG_ERR_TOO_LARGE, "%s: %zu payloads in one container, more than "
		       "the limit of %zu; container skipped", where, n_payloads, r->cfg.max_payloads);
		return -EBADMSG;
	}
	if (n_payloads) {
		crcs = malloc(n_payloads * sizeof(*crcs));
		if (!crcs)
			return -ENOMEM;
	}
	ndl__pb_reader_init(&rd, body, len);
	while (!ndl__pb_done(&rd)) {
		ndl__pb_next(&rd, &f);    /* checked above */
		if (f.number == 2 && take_crcs(&f, crcs, &n_crcs, n_payloads) < 0) {
			report(r, NDL__NMSG_ERR_PROTOBUF, "%s: bad payload_crcs field; container "
			       "skipped", where);
			free(crcs);
			return -EBADMSG;
		}
	}
	r->st.containers++;
	if (datagram && has_seq && has_seq_id)
		follow_sequence(r, peer, seq_id, seq);

	/* second pass: the payloads */
	ndl__pb_reader_init(&rd, body, len);
	while (!ndl__pb_done(&rd) && rc >= 0) {
		struct ndl__nmsg_payload p;

		ndl__pb_next(&rd, &f);
		if (f.number != 1)
			continue;
		if (decode_payload(f.data, f.len, &p) < 0) {
			report(r, NDL__NMSG_ERR_PAYLOAD, "%s: payload %zu is not a valid NmsgPayload "
			       "(needs vid, msgtype, time_sec, time_nsec < 1e9); skipped", where, i);
			i++;
			continue;
		}
		if (i < n_crcs && !r->cfg.no_crc_check) {
			uint32_t c = ndl__crc32c(p.data, p.len);
			if (crcs[i] != ndl__nmsg_crc_wire(c) && crcs[i] != c) {
				report(r, NDL__NMSG_ERR_CRC, "%s: payload %zu (%u:%u) fails its CRC-32C "
				       "check; skipped", where, i, p.vid, p.msgtype);
				i++;
				continue;
			}
			r->st.crc_checked++;
		}
		i++;
		if ((r->cfg.filter_vid && p.vid != r->cfg.vid) ||
		    (r->cfg.filter_msgtype && p.msgtype != r->cfg.msgtype)) {
			r->st.filtered++;
			continue;
		}
		r->st.payloads++;
		if (r->on_payload)
			rc = r->on_payload(r->arg, &p);
	}
	free(crcs);
	return rc < 0 ? rc : 0;
}

/* A whole message body, compressed or not. */
static int process_message(struct ndl__nmsg_reader *r, uint8_t flags, const uint8_t *body,
			   size_t len, uint64_t peer, bool datagram, const char *where)
{
	uint8_t *plain;
	uLongf plen;
	uint32_t ulen;
	int zr, rc;

	if (!(flags & NDL__NMSG_FLAG_ZLIB))
		return decode_nmsg(r, body, len, peer, datagram, where);
	if (len < 4) {
		report(r, NDL__NMSG_ERR_ZLIB, "%s: compressed body of %zu bytes has no length; "
		       "container skipped", where, len);
		return -EBADMSG;
	}
	ulen = (uint32_t)body[0] << 24 | (uint32_t)body[1] << 16 | (uint32_t)body[2] << 8 | body[3];
	if (ulen > r->cfg.max_container) {
		report(r, NDL__NMSG_ERR_TOO_LARGE, "%s: compressed body claims %u bytes, more than "
		       "the limit of %zu; container skipped", where, ulen, r->cfg.max_container);
		return -EBADMSG;
	}
	plain = malloc(ulen ? ulen : 1);
	if (!plain)
		return -ENOMEM;
	plen = ulen;
	zr = uncompress(plain, &plen, body + 4, (uLong)(len - 4));
	if (zr != Z_OK || plen != ulen) {
		report(r, NDL__NMSG_ERR_ZLIB, "%s: compressed body does not inflate to its %u "
		       "bytes (%s); container skipped", where, ulen,
		       zr == Z_OK ? "length differs" : zr == Z_BUF_ERROR ? "longer or cut short" :
		       zr == Z_DATA_ERROR ? "corrupt" : "zlib error");
		free(plain);
		return -EBADMSG;
	}
	r->st.zlib++;
	rc = decode_nmsg(r, plain, ulen, peer, datagram, where);
	free(plain);
	return rc;
}

/* ------------------------------------------------------------------------ */
/* Fragments                                                                 */
/* ------------------------------------------------------------------------ */

static struct frag_set *find_set(struct ndl__nmsg_reader *r, uint32_t id, uint64_t peer)
{
	for (size_t i = 0; i < r->cfg.max_frag_sets; i++)
		if (r->sets[i].used && r->sets[i].id == id && r->sets[i].peer == peer)
			return &r->sets[i];
	return NULL;
}

static struct frag_set *new_set(struct ndl__nmsg_reader *r, const char *where)
{
	struct frag_set *oldest = NULL;

	for (size_t i = 0; i < r->cfg.max_frag_sets; i++) {
		if (!r->sets[i].used)
			return &r->sets[i];
		if (!oldest || r->sets[i].order < oldest->order)
			oldest = &r->sets[i];
	}
	report(r, NDL__NMSG_ERR_FRAG_LIMIT, "%s: more than %zu fragmented messages at once; "
	       "dropped the oldest incomplete one (id %u)", where, r->cfg.max_frag_sets,
	       oldest->id);
	drop_set(r, oldest);
	return oldest;
}

static int complete_set(struct ndl__nmsg_reader *r, struct frag_set *s, bool datagram,
			const char *where)
{
	uint8_t *all, *p;
	size_t len = s->bytes;
	int rc;

	all = malloc(len ? len : 1);
	if (!all) {
		drop_set(r, s);
		return -ENOMEM;
	}
	p = all;
	for (uint32_t i = 0; i <= s->last; i++) {
		memcpy(p, s->pieces[i].data, s->pieces[i].len);
		p += s->pieces[i].len;
	}
	if (s->has_crc) {
		uint32_t c = ndl__crc32c(all, len);
		if (s->crc != ndl__nmsg_crc_wire(c) && s->crc != c) {
			report(r, NDL__NMSG_ERR_FRAGMENT, "%s: fragmented message %u fails its CRC-32C "
			       "check once reassembled; dropped", where, s->id);
			free(all);
			drop_set(r, s);
			return -EBADMSG;
		}
	}
	r->st.reassembled++;
	{
		uint8_t flags = s->flags;
		uint64_t peer = s->peer;
		drop_set(r, s);
		rc = process_message(r, flags, all, len, peer, datagram, where);
	}
	free(all);
	return rc;
}

static int process_fragment(struct ndl__nmsg_reader *r, uint8_t flags, const uint8_t *body,
			    size_t len, uint64_t peer, bool datagram, int64_t now,
			    const char *where)
{
	struct ndl__pb_reader rd;
	struct ndl__pb_field f;
	uint32_t id = 0, cur = 0, last = 0, crc = 0;
	unsigned have = 0;
	const uint8_t *frag = NULL;
	size_t frag_len = 0;
	struct frag_set *s;
	struct piece *pc;

	ndl__pb_reader_init(&rd, body, len);
	while (!ndl__pb_done(&rd)) {
		if (ndl__pb_next(&rd, &f) < 0 || (f.number <= 5 && f.number != 4 &&
						  (f.wire == NDL__PB_LEN || f.u > UINT32_MAX)) ||
		    (f.number == 4 && f.wire != NDL__PB_LEN)) {
			report(r, NDL__NMSG_ERR_PROTOBUF, "%s: the NmsgFragment is not valid "
			       "protobuf; fragment skipped", where);
			return -EBADMSG;
		}
		switch (f.number) {
		case 1: id = (uint32_t)f.u; have |= 1; break;
		case 2: cur = (uint32_t)f.u; have |= 2; break;
		case 3: last = (uint32_t)f.u; have |= 4; break;
		case 4: frag = f.data; frag_len = f.len; have |= 8; break;
		case 5: crc = (uint32_t)f.u; have |= 16; break;
		default: break;
		}
	}
	r->st.fragments++;
	if ((have & 15) != 15 || cur > last) {
		report(r, NDL__NMSG_ERR_FRAGMENT, "%s: fragment without id, current, last and data, "
		       "or current %u above last %u; skipped", where, cur, last);
		return -EBADMSG;
	}
	if (last >= r->cfg.max_fragments) {
		report(r, NDL__NMSG_ERR_FRAG_LIMIT, "%s: fragmented message %u has %llu fragments, "
		       "more than the limit of %u; skipped", where, id,
		       (unsigned long long)last + 1, r->cfg.max_fragments);
		return -EBADMSG;
	}
	s = find_set(r, id, peer);
	if (s && (s->last != last || s->flags != (flags & NDL__NMSG_FLAG_ZLIB) ||
		  s->has_crc != !!(have & 16) || (s->has_crc && s->crc != crc))) {
		report(r, NDL__NMSG_ERR_FRAGMENT, "%s: fragment %u of message %u contradicts the "
		       "fragments before it; message dropped", where, cur, id);
		drop_set(r, s);
		return -EBADMSG;
	}
	if (!s) {
		s = new_set(r, where);
		s->pieces = calloc((size_t)last + 1, sizeof(*s->pieces));
		if (!s->pieces)
			return -ENOMEM;
		s->used = true;
		s->id = id;
		s->peer = peer;
		s->flags = flags & NDL__NMSG_FLAG_ZLIB;
		s->last = last;
		s->has_crc = have & 16;
		s->crc = crc;
		s->started = now;
		s->order = r->frag_order++;
	}
	pc = &s->pieces[cur];
	if (pc->have) {
		report(r, NDL__NMSG_ERR_FRAGMENT, "%s: fragment %u of message %u seen twice; the "
		       "copy is ignored", where, cur, id);
		return 0;
	}
	if (frag_len > r->cfg.max_frag_bytes - r->frag_bytes ||
	    frag_len > r->cfg.max_container - s->bytes) {
		report(r, NDL__NMSG_ERR_FRAG_LIMIT, "%s: fragmented message %u would hold more than "
		       "the limit of bytes; dropped", where, id);
		drop_set(r, s);
		return -EBADMSG;
	}
	pc->data = malloc(frag_len ? frag_len : 1);
	if (!pc->data)
		return -ENOMEM;
	memcpy(pc->data, frag, frag_len);
	pc->len = frag_len;
	pc->have = true;
	s->have++;
	s->bytes += frag_len;
	r->frag_bytes += frag_len;
	if (s->have == s->last + 1)
		return complete_set(r, s, datagram, where);
	return 0;
}

void ndl__nmsg_reader_expire(struct ndl__nmsg_reader *r, int64_t now_ns)
{
	for (size_t i = 0; i < r->cfg.max_frag_sets; i++) {
		struct frag_set *s = &r->sets[i];
		if (s->used && now_ns - s->started >= r->cfg.frag_timeout_ns) {
			report(r, NDL__NMSG_ERR_FRAG_TIMEOUT, "fragmented message %u: %u of %llu "
			       "fragments after %.1f s; dropped", s->id, s->have,
			       (unsigned long long)s->last + 1, r->cfg.frag_timeout_ns / 1e9);
			drop_set(r, s);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Containers                                                                */
/* ------------------------------------------------------------------------ */

/* Check a header. Returns 0 with flags and body length, or the error. */
static enum ndl__nmsg_error parse_header(const struct ndl__nmsg_reader *r, const uint8_t *h,
					 uint8_t *flags, size_t *blen, char *msg, size_t msglen)
{
	uint32_t len;

	if (memcmp(h, NDL__NMSG_MAGIC, 4) != 0) {
		snprintf(msg, msglen, "not an NMSG container: it starts with %02x %02x %02x %02x, "
			 "not \"NMSG\"", h[0], h[1], h[2], h[3]);
		return NDL__NMSG_ERR_MAGIC;
	}
	if (h[5] != NDL__NMSG_VERSION) {
		snprintf(msg, msglen, "NMSG protocol version %u, only version %u is supported",
			 h[5], NDL__NMSG_VERSION);
		return NDL__NMSG_ERR_VERSION;
	}
	len = (uint32_t)h[6] << 24 | (uint32_t)h[7] << 16 | (uint32_t)h[8] << 8 | h[9];
	*flags = h[4];
	*blen = len;
	if (len > r->cfg.max_container) {
		snprintf(msg, msglen, "container of %u bytes, more than the limit of %zu", len,
			 r->cfg.max_container);
		return NDL__NMSG_ERR_TOO_LARGE;
	}
	return NDL__NMSG_ERR_NONE;
}

static int process_container(struct ndl__nmsg_reader *r, uint8_t flags, const uint8_t *body,
			     size_t len, uint64_t peer, bool datagram, int64_t now,
			     const char *where)
{
	if (flags & ~(NDL__NMSG_FLAG_ZLIB | NDL__NMSG_FLAG_FRAGMENT)) {
		report(r, NDL__NMSG_ERR_FLAGS, "%s: unknown container flags 0x%02x; container "
		       "skipped", where, flags);
		return -EBADMSG;
	}
	if (flags & NDL__NMSG_FLAG_FRAGMENT)
		return process_fragment(r, flags, body, len, peer, datagram, now, where);
	return process_message(r, flags, body, len, peer, datagram, where);
}

int ndl__nmsg_reader_datagram(struct ndl__nmsg_reader *r, const uint8_t *data, size_t len,
			      uint64_t peer, int64_t now_ns)
{
	char msg[256];
	uint8_t flags;
	size_t blen;
	enum ndl__nmsg_error e;

	r->st.bytes += len;
	ndl__nmsg_reader_expire(r, now_ns);
	if (len < NDL__NMSG_HDR_LEN) {
		if (memcmp(data, NDL__NMSG_MAGIC, len < 4 ? len : 4) != 0)
			report(r, NDL__NMSG_ERR_MAGIC, "datagram of %zu bytes: not an NMSG container "
			       "(no \"NMSG\" at its start); skipped", len);
		else
			report(r, NDL__NMSG_ERR_TRUNCATED, "datagram of %zu bytes is shorter than an "
			       "NMSG header; skipped", len);
		return -EBADMSG;
	}
	e = parse_header(r, data, &flags, &blen, msg, sizeof(msg));
	if (e != NDL__NMSG_ERR_NONE) {
		report(r, e, "datagram: %s; skipped", msg);
		return -EBADMSG;
	}
	if (blen > len - NDL__NMSG_HDR_LEN) {
		report(r, NDL__NMSG_ERR_TRUNCATED, "datagram: container says %zu bytes, the "
		       "datagram holds %zu; skipped", blen, len - NDL__NMSG_HDR_LEN);
		return -EBADMSG;
	}
	if (blen < len - NDL__NMSG_HDR_LEN) {
		report(r, NDL__NMSG_ERR_TRAILING, "datagram: %zu bytes after the container; "
		       "skipped", len - NDL__NMSG_HDR_LEN - blen);
		return -EBADMSG;
	}
	return process_container(r, flags, data + NDL__NMSG_HDR_LEN, blen, peer, true, now_ns,
				 "datagram");
}

static int stream_fatal(struct ndl__nmsg_reader *r, enum ndl__nmsg_error e, const char *msg)
{
	report(r, e, "at byte %llu: %s; reading stops", (unsigned long long)r->offset, msg);
	r->dead = true;
	return -EBADMSG;
}

static int stream_container(struct ndl__nmsg_reader *r, uint8_t flags, const uint8_t *body,
			    size_t len)
{
	char where[64];
	int rc;

	snprintf(where, sizeof(where), "container at byte %llu", (unsigned long long)r->offset);
	rc = process_container(r, flags, body, len, 0, false, 0, where);
	r->offset += NDL__NMSG_HDR_LEN + len;
	/* a bad container is counted and skipped; only a stop or no memory ends reading */
	return rc == -EBADMSG ? 0 : rc;
}

static int grow(struct ndl__nmsg_reader *r, size_t want)
{
	uint8_t *b;

	if (want <= r->size)
		return 0;
	b = realloc(r->buf, want);
	if (!b)
		return -ENOMEM;
	r->buf = b;
	r->size = want;
	return 0;
}

int ndl__nmsg_reader_feed(struct ndl__nmsg_reader *r, const uint8_t *data, size_t len)
{
	char msg[256];
	enum ndl__nmsg_error e;
	int rc;

	if (r->dead)
		return -EBADMSG;
	r->st.bytes += len;
	while (len > 0) {
		size_t need, take;

		if (r->len == 0 && len >= NDL__NMSG_HDR_LEN) {
			uint8_t flags;
			size_t blen;
			e = parse_header(r, data, &flags, &blen, msg, sizeof(msg));
			if (e != NDL__NMSG_ERR_NONE)
				return stream_fatal(r, e, msg);
			if (len - NDL__NMSG_HDR_LEN >= blen) {
				rc = stream_container(r, flags, data + NDL__NMSG_HDR_LEN, blen);
				if (rc < 0)
					return rc;
				data += NDL__NMSG_HDR_LEN + blen;
				len -= NDL__NMSG_HDR_LEN + blen;
				continue;
			}
		}
		need = r->hdr_ok ? NDL__NMSG_HDR_LEN + r->blen - r->len : NDL__NMSG_HDR_LEN - r->len;
		take = need < len ? need : len;
		if (grow(r, r->len + take) < 0)
			return -ENOMEM;
		memcpy(r->buf + r->len, data, take);
		r->len += take;
		data += take;
		len -= take;
		if (!r->hdr_ok && r->len == NDL__NMSG_HDR_LEN) {
			e = parse_header(r, r->buf, &r->flags, &r->blen, msg, sizeof(msg));
			if (e != NDL__NMSG_ERR_NONE)
				return stream_fatal(r, e, msg);
			r->hdr_ok = true;
		}
		if (r->hdr_ok && r->len == NDL__NMSG_HDR_LEN + r->blen) {
			r->hdr_ok = false;
			r->len = 0;
			rc = stream_container(r, r->flags, r->buf + NDL__NMSG_HDR_LEN, r->blen);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int ndl__nmsg_reader_finish(struct ndl__nmsg_reader *r)
{
	int rc = r->dead ? -EBADMSG : 0;

	if (!r->dead && r->len > 0) {
		if (r->hdr_ok)
			report(r, NDL__NMSG_ERR_TRUNCATED, "at byte %llu: the input ends inside a "
			       "container (%zu of its %zu bytes)", (unsigned long long)r->offset,
			       r->len, NDL__NMSG_HDR_LEN + r->blen);
		else if (memcmp(r->buf, NDL__NMSG_MAGIC, r->len < 4 ? r->len : 4) != 0)
			report(r, NDL__NMSG_ERR_MAGIC, "at byte %llu: not an NMSG container (no "
			       "\"NMSG\" at its start)", (unsigned long long)r->offset);
		else
			report(r, NDL__NMSG_ERR_TRUNCATED, "at byte %llu: the input ends inside a "
			       "container header (%zu of 10 bytes)", (unsigned long long)r->offset,
			       r->len);
		rc = -EBADMSG;
	}
	r->len = 0;
	r->hdr_ok = false;
	for (size_t i = 0; i < r->cfg.max_frag_sets; i++) {
		struct frag_set *s = &r->sets[i];
		if (s->used) {
			report(r, NDL__NMSG_ERR_FRAG_TIMEOUT, "fragmented message %u incomplete at the "
			       "end of the input (%u of %llu fragments); dropped", s->id, s->have,
			       (unsigned long long)s->last + 1);
			drop_set(r, s);
			rc = -EBADMSG;
		}
	}
	return rc;
}
