/* SPDX-License-Identifier: MIT */
/*
 * dns.c - the shared DNS message parser.
 *
 * RFC 1035 section 4 (message format, name compression), RFC 6891 (the
 * EDNS OPT pseudo-record), RFC 7766 section 8 (the two-byte length before a
 * message over TCP), RFC 2535/4035 (the AD and CD header bits).
 *
 * Message layout (RFC 1035 4.1):
 *
 *   +---------------------+
 *   |        Header       |  12 bytes: id, flags, four counts
 *   +---------------------+
 *   |       Question      |  qdcount x (name, qtype, qclass)
 *   +---------------------+
 *   |        Answer       |  ancount x resource record
 *   +---------------------+
 *   |      Authority      |  nscount x resource record
 *   +---------------------+
 *   |      Additional     |  arcount x resource record
 *   +---------------------+
 *
 * Resource record (RFC 1035 4.1.3): name, type(16), class(16), ttl(32),
 * rdlength(16), rdata.
 *
 * Nothing here allocates: the parse fills a caller's struct ndl__dns_buf,
 * resetting only the counts, and every byte is read through rd.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <ndl/names.h>
#include "decode.h"
#include "rd.h"

enum {
	DNS_HEADER_LEN = 12,
	DNS_NAME_WIRE_MAX = 255,   /* RFC 1035 3.1: octets, length bytes included */
	DNS_LABEL_MAX = 63,
	DNS_MAX_JUMPS = 64,
};

enum {
	T_A = 1, T_NS = 2, T_CNAME = 5, T_PTR = 12, T_MX = 15, T_TXT = 16,
	T_AAAA = 28, T_DNAME = 39, T_OPT = 41,
};

/* ------------------------------------------------------------------------ */
/* Bounded text output                                                       */
/* ------------------------------------------------------------------------ */

/*
 * A string being built in a fixed buffer. Pieces are appended whole or not
 * at all; after the first piece that does not fit nothing more is added,
 * so an escape sequence is never cut in half and no gap appears.
 */
struct sbuf {
	char *p;
	size_t cap;        /* bytes in p, the NUL included */
	size_t len;
	bool full;
};

static void sb_init(struct sbuf *b, char *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->len = 0;
	b->full = false;
	if (cap)
		p[0] = '\0';
}

static void sb_putn(struct sbuf *b, const char *s, size_t n)
{
	if (b->full || b->p == NULL)
		return;
	if (b->len + n >= b->cap) {
		b->full = true;
		return;
	}
	for (size_t i = 0; i < n; i++)     /* pieces are a few bytes */
		b->p[b->len + i] = s[i];
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_putc(struct sbuf *b, char c)
{
	sb_putn(b, &c, 1);
}

/* A run of single-character pieces: as many as fit. */
static void sb_run(struct sbuf *b, const uint8_t *s, size_t n)
{
	size_t room;

	if (b->full || b->p == NULL || n == 0)
		return;
	room = b->cap - 1 - b->len;
	if (n > room) {
		n = room;
		b->full = true;
	}
	if (n < 16) {                        /* most labels: skip the call */
		for (size_t i = 0; i < n; i++)
			b->p[b->len + i] = (char)s[i];
	} else {
		memcpy(b->p + b->len, s, n);
	}
	b->len += n;
	b->p[b->len] = '\0';
}

/* Per byte: ESC_NAME when a name escapes it, ESC_TEXT when a TXT string
 * does; a table, as every byte of every name is looked up. */
enum { ESC_NAME = 1, ESC_TEXT = 2 };

#define ESC_BOTH_8(c) ESC_BOTH, ESC_BOTH, ESC_BOTH, ESC_BOTH, \
		      ESC_BOTH, ESC_BOTH, ESC_BOTH, ESC_BOTH
#define ESC_BOTH (ESC_NAME | ESC_TEXT)

static const uint8_t escape_class[256] = {
	ESC_BOTH_8(0x00), ESC_BOTH_8(0x08), ESC_BOTH_8(0x10), ESC_BOTH_8(0x18),
	[' '] = ESC_NAME, ['.'] = ESC_NAME, ['\\'] = ESC_BOTH,
	[0x7f] = ESC_BOTH,
	[0x80] = ESC_BOTH_8(0x80), ESC_BOTH_8(0x88), ESC_BOTH_8(0x90), ESC_BOTH_8(0x98),
	ESC_BOTH_8(0xa0), ESC_BOTH_8(0xa8), ESC_BOTH_8(0xb0), ESC_BOTH_8(0xb8),
	ESC_BOTH_8(0xc0), ESC_BOTH_8(0xc8), ESC_BOTH_8(0xd0), ESC_BOTH_8(0xd8),
	ESC_BOTH_8(0xe0), ESC_BOTH_8(0xe8), ESC_BOTH_8(0xf0), ESC_BOTH_8(0xf8),
};

static inline bool needs_escape(uint8_t c, bool in_name)
{
	return (escape_class[c] & (in_name ? ESC_NAME : ESC_TEXT)) != 0;
}

/*
 * Append bytes in presentation form (RFC 1035 5.1, RFC 4343 2.1): a
 * backslash before '\\' (and before '.' when in_name), bytes outside the
 * printable range as \DDD. In names the space is escaped too; in TXT
 * strings it stays, since the strings are joined by spaces for reading.
 * A separator sep (when not NUL) goes before the first character, in the
 * same piece, so a cut output never ends in a separator.
 */
static void sb_escaped(struct sbuf *b, const uint8_t *s, size_t n, bool in_name, char sep)
{
	size_t i = 0;

	if (n == 0 && sep)
		sb_putc(b, sep);
	while (i < n && !b->full) {
		char piece[6];
		size_t k = 0, j = i;
		uint8_t c;

		/* Plain characters after the first go in bulk. */
		if (i > 0 || !sep) {
			while (j < n && !needs_escape(s[j], in_name))
				j++;
			sb_run(b, s + i, j - i);
			i = j;
			if (i == n)
				break;
		}
		c = s[i++];
		if (sep && i == 1)
			piece[k++] = sep;
		if (!needs_escape(c, in_name)) {
			piece[k++] = (char)c;
		} else if (c == '\\' || c == '.') {
			piece[k++] = '\\';
			piece[k++] = (char)c;
		} else {
			piece[k++] = '\\';
			piece[k++] = (char)('0' + c / 100);
			piece[k++] = (char)('0' + c / 10 % 10);
			piece[k++] = (char)('0' + c % 10);
		}
		sb_putn(b, piece, k);
	}
}

/* Decimal digits of v, without the printf machinery. */
static void sb_dec(struct sbuf *b, unsigned int v)
{
	char t[10];
	size_t k = sizeof(t);

	do {
		t[--k] = (char)('0' + v % 10);
		v /= 10;
	} while (v && k > 0);
	sb_putn(b, t + k, sizeof(t) - k);
}

/* An address as every other field of the kitchen writes one (ndl/names.h:
 * what inet_ntop writes). */
static void sb_ip(struct sbuf *b, int version, const uint8_t *a)
{
	char t[NDL_IPV6_TEXT_MAX];
	char *end = version == 4 ? ndl_ipv4_text(t, a) : ndl_ipv6_text(t, a);

	sb_putn(b, t, (size_t)(end - t));
}

/* ------------------------------------------------------------------------ */
/* Names                                                                     */
/* ------------------------------------------------------------------------ */

/*
 * Names are mostly compressed (RFC 1035 4.1.4) into pointers back to the
 * first question's name: every answer's owner, often the end of a CNAME.
 * That name is read in full once; where each of its labels starts on the
 * wire and in the text is remembered, so that a pointer to one of them is
 * answered with a copy of the text already made instead of a second walk.
 * Only a name read without any pointer is remembered (its labels then are
 * exactly what a walk from any of them would read), and a copy is used
 * only where the walk would have given the same: the first pointer of a
 * name, when the whole text fits.
 */
#define MEMO_LABELS 16

struct name_memo {
	bool recording;              /* the next read_name fills the memo */
	size_t n;                    /* labels remembered */
	const char *text;            /* the name's text, NUL-terminated */
	size_t text_len;
	uint16_t wire_at[MEMO_LABELS];  /* offset of the label's length byte */
	uint16_t text_at[MEMO_LABELS];  /* where its text starts in text */
	uint16_t wire_left[MEMO_LABELS]; /* octets from it to the end, root included */
};

/* The remembered label at wire offset at, or -1. */
static int memo_find(const struct name_memo *m, size_t at)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->wire_at[i] == at)
			return (int)i;
	return -1;
}

/*
 * Read the domain name at r's position (RFC 1035 3.1 and 4.1.4) and leave
 * r just after it: after the first compression pointer when there is one.
 * r's window is the whole message, which pointers index from its start.
 *
 * Loops cannot happen: the first pointer must point before itself, and
 * every later one before the place the previous one pointed to, so the
 * targets strictly decrease; at most DNS_MAX_JUMPS pointers are followed
 * all the same. Labels of type 01 and 10 (RFC 6891 5, obsolete) and names
 * over 255 octets are refused.
 *
 * The presentation form goes into out (when not NULL): labels joined by
 * dots, escaped, no trailing dot, the root as "". memo (may be NULL) is
 * filled or used as described above.
 */
static int read_name(struct ndl__rd *r, struct sbuf *out, struct name_memo *memo)
{
	struct ndl__rd c = *r;
	size_t resume = 0;         /* where r continues once a pointer was taken */
	size_t limit = 0;          /* a pointer must point below this */
	bool jumped = false;
	unsigned int jumps = 0;
	size_t wire = 1;           /* the root label's length byte */
	bool first = true;
	bool record = memo && memo->recording && out && out->p;
	size_t n_rec = 0;

	for (;;) {
		uint8_t len;
		const uint8_t *label;

		if (record && n_rec < MEMO_LABELS) {
			memo->wire_at[n_rec] = (uint16_t)c.off;
			memo->text_at[n_rec] = (uint16_t)(out->len + (first ? 0 : 1));
			memo->wire_left[n_rec] = (uint16_t)wire;   /* made relative below */
			n_rec++;
		}
		RD_U8(&c, len, trunc);
		if ((len & 0xc0) == 0xc0) {
			size_t at = c.off - 1;
			uint8_t lo;
			size_t target;
			int i;

			record = false;
			RD_U8(&c, lo, trunc);
			target = (size_t)(len & 0x3f) << 8 | lo;
			if (!jumped) {
				resume = c.off;
				limit = at;
				jumped = true;
				i = memo && !memo->recording && target < limit ? memo_find(memo, target) : -1;
				if (i >= 0) {
					size_t sep = first ? 0 : 1;
					size_t tlen = memo->text_len - memo->text_at[i];

					if (wire + memo->wire_left[i] - 1 > DNS_NAME_WIRE_MAX)
						return NDL_DNS_BAD_NAME;
					if (!out) {
						c.off = resume;
						break;
					}
					if (!out->full && out->p && out->len + sep + tlen < out->cap) {
						if (sep)
							out->p[out->len++] = '.';
						memcpy(out->p + out->len, memo->text + memo->text_at[i],
						       tlen + 1);
						out->len += tlen;
						c.off = resume;
						break;
					}
				}
			}
			if (target >= limit || ++jumps > DNS_MAX_JUMPS)
				return NDL_DNS_NAME_LOOP;
			limit = target;
			if (!rd_seek(&c, target))
				goto trunc;
			continue;
		}
		if (len & 0xc0)
			return NDL_DNS_BAD_NAME;
		if (len == 0)
			break;
		wire += (size_t)len + 1;
		if (len > DNS_LABEL_MAX || wire > DNS_NAME_WIRE_MAX)
			return NDL_DNS_BAD_NAME;
		RD_TAKE(&c, label, len, trunc);
		if (out)
			sb_escaped(out, label, len, true, first ? '\0' : '.');
		first = false;
	}
	if (record) {
		/* a whole name without pointers. The last entry is the root
		 * byte, or with MEMO_LABELS labels and more a label, which is
		 * then left out too (a pointer to it is walked as before). */
		if (!out->full) {
			memo->n = n_rec - 1;
			for (size_t i = 0; i < memo->n; i++)
				memo->wire_left[i] = (uint16_t)(wire - memo->wire_left[i] + 1);
			memo->text = out->p;
			memo->text_len = out->len;
		}
	}
	if (!rd_seek(r, jumped ? resume : c.off))
		goto trunc;
	return NDL_DNS_OK;
trunc:
	return NDL_DNS_TRUNCATED;
}

/* ------------------------------------------------------------------------ */
/* RDATA                                                                     */
/* ------------------------------------------------------------------------ */

/*
 * Render the RDATA of rr, found at [at, at + rdlength) in msg, into
 * rr->data. Malformed RDATA leaves "" (the record itself stays valid: its
 * length framed it).
 */
static void render_rdata(struct ndl_dns_rr *rr, const struct ndl__rd *msg, size_t at,
			 struct name_memo *memo)
{
	struct ndl__rd rd = *msg;
	struct sbuf out;
	size_t end = at + rr->rdlength;
	uint16_t pref;

	sb_init(&out, rr->data, sizeof(rr->data));
	if (!rd_seek(&rd, at))
		return;

	switch (rr->type) {
	case T_A:
		if (rr->rdlength == 4)
			sb_ip(&out, 4, rr->rdata);
		break;
	case T_AAAA:
		if (rr->rdlength == 16)
			sb_ip(&out, 6, rr->rdata);
		break;
	case T_MX:
		RD_BE16(&rd, pref, bad);
		sb_dec(&out, pref);
		sb_putc(&out, ' ');
		/* fall through - the exchange is a name */
	case T_CNAME:
	case T_NS:
	case T_PTR:
	case T_DNAME:
		if (read_name(&rd, &out, memo) != NDL_DNS_OK || rd.off > end)
			goto bad;
		break;
	case T_TXT: {
		/* RFC 1035 3.3.14: one or more <character-string>s. */
		struct ndl__rd txt = rd_sub(&rd, rr->rdlength);
		bool first = true;

		while (rd_left(&txt) > 0) {
			uint8_t n;
			const uint8_t *s;

			RD_U8(&txt, n, bad);
			RD_TAKE(&txt, s, n, bad);
			sb_escaped(&out, s, n, false, first ? '\0' : ' ');
			first = false;
		}
		break;
	}
	default:
		break;
	}
	return;
bad:
	sb_init(&out, rr->data, sizeof(rr->data));
}

/* ------------------------------------------------------------------------ */
/* Sections                                                                  */
/* ------------------------------------------------------------------------ */

static void set_error(struct ndl_dns *dns, int err)
{
	if (dns->error == NDL_DNS_OK || dns->error == NDL_DNS_TOO_MANY_RECORDS)
		dns->error = (uint32_t)err;
}

/* Question entry (RFC 1035 4.1.2): qname, qtype, qclass. */
static int parse_question(struct ndl__rd *r, struct ndl_dns_question *q,
			  struct name_memo *memo)
{
	struct sbuf name;
	struct ndl__rd c = *r;
	uint16_t qtype, qclass;
	int err;

	sb_init(&name, q ? q->name : NULL, q ? sizeof(q->name) : 0);
	err = read_name(&c, &name, memo);
	if (err)
		return err;
	RD_BE16(&c, qtype, trunc);
	RD_BE16(&c, qclass, trunc);
	if (q) {
		q->qtype = qtype;
		q->qclass = qclass;
	}
	*r = c;
	return NDL_DNS_OK;
trunc:
	return NDL_DNS_TRUNCATED;
}

/*
 * One resource record into rr (RFC 1035 4.1.3); RDATA rendered when render.
 * An OPT record in the additional section (RFC 6891 6.1.3: class is the
 * UDP payload size, TTL holds extended RCODE, version, DO) fills the EDNS
 * fields instead and *is_opt tells the caller not to keep it.
 */
static int parse_rr(struct ndl__rd *r, struct ndl_dns_rr *rr, bool render,
		    struct ndl_dns *dns, bool additional, bool *is_opt, struct name_memo *memo)
{
	struct ndl__rd c = *r;
	struct sbuf name;
	size_t at;
	int err;

	*is_opt = false;
	sb_init(&name, rr->name, sizeof(rr->name));
	err = read_name(&c, &name, memo);
	if (err)
		return err;
	RD_BE16(&c, rr->type, trunc);
	RD_BE16(&c, rr->rclass, trunc);
	RD_BE32(&c, rr->ttl, trunc);
	RD_BE16(&c, rr->rdlength, trunc);
	at = c.off;
	RD_TAKE(&c, rr->rdata, rr->rdlength, trunc);
	rr->data[0] = '\0';

	if (additional && rr->type == T_OPT) {
		*is_opt = true;
		dns->edns = true;
		dns->edns_udp_size = rr->rclass;
		dns->edns_ext_rcode = (uint16_t)(rr->ttl >> 24);
		dns->edns_version = (uint8_t)(rr->ttl >> 16);
		dns->edns_do = (rr->ttl & 0x8000u) != 0;
	} else if (render) {
		render_rdata(rr, r, at, memo);
	}
	*r = c;
	return NDL_DNS_OK;
trunc:
	return NDL_DNS_TRUNCATED;
}

/*
 * count records of one section into arr (at most NDL_DNS_MAX_RRS kept, the
 * rest read and dropped). Returns an error that ends the parse, else 0.
 */
static int parse_section(struct ndl__rd *r, struct ndl_dns *dns, uint16_t count,
			 struct ndl_dns_rr *arr, uint16_t *n, bool additional,
			 struct name_memo *memo)
{
	struct ndl_dns_rr scratch;
	unsigned int i;

	for (i = 0; i < count; i++) {
		bool keep = *n < NDL_DNS_MAX_RRS;
		struct ndl_dns_rr *rr = keep ? &arr[*n] : &scratch;
		bool is_opt;
		int err = parse_rr(r, rr, keep, dns, additional, &is_opt, memo);

		if (err)
			return err;
		if (is_opt)
			continue;
		if (keep)
			(*n)++;
		else
			set_error(dns, NDL_DNS_TOO_MANY_RECORDS);
	}
	return NDL_DNS_OK;
}

/*
 * Contract in decode.h. Allocates nothing and resets only the counts and
 * header fields of buf, so a parse costs what the message holds; the
 * struct ndl_dns it fills points into buf and msg (both borrowed). One
 * buf per thread.
 */
int ndl__dns_parse(struct ndl__dns_buf *buf, const uint8_t *msg, size_t len,
		   bool over_tcp)
{
	struct ndl_dns *dns;
	struct name_memo memo = { .n = 0 };
	struct ndl__rd r;
	uint16_t flags;
	unsigned int i;
	int err;

	if (buf == NULL || msg == NULL)
		return -EINVAL;
	r = rd_make(msg, len);
	if (over_tcp) {
		/* RFC 7766 8: a two-byte length, then the message. */
		uint16_t prefix;

		if (!rd_be16(&r, &prefix))
			return -EINVAL;
		r = rd_sub(&r, prefix);
	}
	if (rd_left(&r) < DNS_HEADER_LEN)
		return -EINVAL;

	dns = &buf->dns;
	memset(dns, 0, sizeof(*dns));
	dns->struct_size = sizeof(*dns);
	dns->over_tcp = over_tcp;
	dns->questions = buf->questions;
	dns->answers = buf->answers;
	dns->authorities = buf->authorities;
	dns->additionals = buf->additionals;

	/*
	 * Header (RFC 1035 4.1.1; AD and CD from RFC 4035 3.2):
	 *   |QR|  Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
	 */
	if (!rd_be16(&r, &dns->id) || !rd_be16(&r, &flags) ||
	    !rd_be16(&r, &dns->qdcount) || !rd_be16(&r, &dns->ancount) ||
	    !rd_be16(&r, &dns->nscount) || !rd_be16(&r, &dns->arcount))
		return -EINVAL; /* cannot happen: the length was checked */
	dns->flags = flags;
	dns->qr = (uint8_t)(flags >> 15 & 1);
	dns->opcode = (uint8_t)(flags >> 11 & 0xf);
	dns->aa = (uint8_t)(flags >> 10 & 1);
	dns->tc = (uint8_t)(flags >> 9 & 1);
	dns->rd = (uint8_t)(flags >> 8 & 1);
	dns->ra = (uint8_t)(flags >> 7 & 1);
	dns->z = (uint8_t)(flags >> 6 & 1);
	dns->ad = (uint8_t)(flags >> 5 & 1);
	dns->cd = (uint8_t)(flags >> 4 & 1);
	dns->rcode = (uint8_t)(flags & 0xf);

	for (i = 0; i < dns->qdcount; i++) {
		bool keep = dns->n_questions < NDL_DNS_MAX_QUESTIONS;

		memo.recording = i == 0;    /* the name pointers point to */
		err = parse_question(&r, keep ? &buf->questions[dns->n_questions] : NULL, &memo);
		memo.recording = false;
		if (err)
			goto stop;
		if (keep)
			dns->n_questions++;
		else
			set_error(dns, NDL_DNS_TOO_MANY_RECORDS);
	}
	err = parse_section(&r, dns, dns->ancount, buf->answers, &dns->n_answers, false, &memo);
	if (err)
		goto stop;
	err = parse_section(&r, dns, dns->nscount, buf->authorities, &dns->n_authorities, false,
			    &memo);
	if (err)
		goto stop;
	err = parse_section(&r, dns, dns->arcount, buf->additionals, &dns->n_additionals, true,
			    &memo);
	if (err)
		goto stop;
	return 0;
stop:
	set_error(dns, err);
	return 0;
}

/* Contract in decode.h: returns &buf->dns (valid until buf's next parse) or NULL. */
const struct ndl_dns *ndl__dns_from_packet(struct ndl__dns_buf *buf,
					   const struct ndl_packet *pkt)
{
	bool over_tcp;

	if (buf == NULL || pkt == NULL || pkt->payload == NULL)
		return NULL;
	if (pkt->layers & NDL_LAYER_UDP) {
		if (pkt->sport != 53 && pkt->dport != 53 &&
		    pkt->sport != 5353 && pkt->dport != 5353)
			return NULL;
		over_tcp = false;
	} else if (pkt->layers & NDL_LAYER_TCP) {
		if (pkt->sport != 53 && pkt->dport != 53)
			return NULL;
		if (pkt->payload_len < 2 + DNS_HEADER_LEN)
			return NULL;
		over_tcp = true;
	} else {
		return NULL;
	}
	if (ndl__dns_parse(buf, pkt->payload, pkt->payload_len, over_tcp) != 0)
		return NULL;
	return &buf->dns;
}


