/* SPDX-License-Identifier: MIT */
/*
 * nd-bench-gencap - write a large, deterministic capture file with a
 * realistic mix of traffic, for the kitchen benchmark (bench/README.md).
 *
 *   nd-bench-gencap -n 2000000 -s 1 -o big.pcap --summary big.json
 *
 * The same count and seed always give the same bytes. The file is a classic
 * pcap (Ethernet, microsecond timestamps). Up to 512 conversations run at
 * once; each packet comes from one of them, picked at random, so flows
 * interleave as they do on a real link. A finished conversation is replaced
 * by a new one of a random kind:
 *
 *   DNS over UDP (RFC 1035): a query and its response (A, AAAA, MX, TXT,
 *     HTTPS; CNAME chains; NXDOMAIN; EDNS OPT records, RFC 6891), over IPv4
 *     and IPv6, names drawn skewed from a pool of 50,000;
 *   HTTP/1.1 over TCP (RFC 9112): handshake, a GET with Host, a response
 *     with a body in one or two segments, the closing handshake;
 *   TLS over TCP (RFC 8446): handshake, a ClientHello with SNI, ALPN,
 *     groups, signature algorithms, supported versions and a key share,
 *     a ServerHello, application data records, the closing handshake;
 *   ARP (RFC 826) requests and replies; ICMP (RFC 792) and ICMPv6
 *     (RFC 4443) echo requests and replies.
 *
 * Addresses come from ranges meant for tests and documentation: clients in
 * 10.1.0.0/16 and 2001:db8:1::/48, servers in 198.18.0.0/15 (RFC 2544) and
 * 2001:db8:2::/48 (RFC 3849). Every IPv4 header, TCP, UDP and ICMP checksum
 * is right, and no frame carries padding.
 *
 * At the end it writes, as one JSON object (to --summary FILE, else to
 * standard error), what it wrote: packets and bytes, how many of each layer
 * in the names PacketCountChef uses, DNS queries and responses, HTTP
 * requests and responses, TLS ClientHellos and ServerHellos, ARP packets.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_SLOTS 512
#define N_NAMES 50000
#define N_CLIENTS 4096
#define N_SERVERS 8192
#define MAX_FRAME 1600
#define NOISE_BYTES 65536

enum kind { K_DNS, K_HTTP, K_TLS, K_ARP, K_ICMP, K_ICMP6, K_N };

/* Conversations started of each kind, out of 67 (the packet shares come out
 * near DNS 20 %, HTTP 29 %, TLS 44 %, ARP 3 %, ICMP 2 %, ICMPv6 1 %). */
static const unsigned kind_weight[K_N] = { 30, 8, 10, 4, 3, 2 };

struct addr {
	bool v6;
	uint8_t a[16];   /* IPv4 in the first four bytes */
};

struct conv {
	enum kind kind;
	int step;
	struct addr cli, srv;
	uint8_t cmac[6], smac[6];
	uint16_t cport, sport;
	uint32_t cseq, sseq;
	uint32_t name;
	uint16_t qtype, dns_id, icmp_id, icmp_seq;
	int variant;     /* DNS: answer shape; HTTP: body segments; TLS: records */
	int body_len;    /* HTTP body bytes still to send */
	int closing;     /* TCP: closing packets sent */
};

struct counts {
	uint64_t packets, bytes;
	uint64_t ethernet, arp, ip, ipv6, tcp, udp, icmp, icmpv6, dns, raw;
	uint64_t dns_queries, dns_responses, http_requests, http_responses;
	uint64_t tls_client_hellos, tls_server_hellos, tcp_flows;
};

struct gen {
	uint64_t rng;
	FILE *out;
	uint64_t ts_us;
	struct conv slot[N_SLOTS];
	struct counts n;
	uint8_t noise[NOISE_BYTES];
	uint8_t frame[MAX_FRAME];
};

/* ------------------------------------------------------------------------ */
/* Random numbers: splitmix64, fixed by the seed                              */
/* ------------------------------------------------------------------------ */

static uint64_t rnd(struct gen *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number in [0, n). */
static uint32_t below(struct gen *g, uint32_t n)
{
	return (uint32_t)((rnd(g) >> 32) * n >> 32);
}

/* A number in [lo, hi]. */
static uint32_t between(struct gen *g, uint32_t lo, uint32_t hi)
{
	return lo + below(g, hi - lo + 1);
}

/* ------------------------------------------------------------------------ */
/* Bytes                                                                     */
/* ------------------------------------------------------------------------ */

static uint8_t *put8(uint8_t *p, unsigned v)
{
	*p = (uint8_t)v;
	return p + 1;
}

static uint8_t *put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static uint8_t *put(uint8_t *p, const void *src, size_t len)
{
	memcpy(p, src, len);
	return p + len;
}

static uint8_t *put_noise(struct gen *g, uint8_t *p, size_t len)
{
	size_t off = below(g, (uint32_t)(NOISE_BYTES - len));

	return put(p, g->noise + off, len);
}

/* The one's complement sum of RFC 1071, not yet folded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* ------------------------------------------------------------------------ */
/* Names and hosts                                                            */
/* ------------------------------------------------------------------------ */

static const char *const name_prefix[8] = {
	"www", "api", "cdn", "mail", "img", "static", "login", "m",
};
static const char *const name_word[16] = {
	"acme", "blue", "cloud", "data", "echo", "fast", "green", "harbor",
	"iris", "jade", "kite", "lumen", "metro", "nova", "orbit", "pixel",
};
static const char *const name_tld[6] = { "com", "net", "org", "io", "de", "example" };

/* Host name number i of the pool, as text; every i gives another name. */
static int name_text(uint32_t i, char *buf, size_t len)
{
	return snprintf(buf, len, "%s.%s%" PRIu32 ".%s", name_prefix[i % 8],
			name_word[(i / 8) % 16], i / 128, name_tld[(i / 8) % 6]);
}

/* A name number, small ones much more often than large ones. */
static uint32_t pick_name(struct gen *g)
{
	return below(g, below(g, N_NAMES) + 1);
}

/* Name i in DNS wire form (RFC 1035 section 3.1). */
static uint8_t *put_dns_name(uint8_t *p, uint32_t i)
{
	char text[128];
	const char *s = text;

	name_text(i, text, sizeof(text));
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);

		p = put8(p, (unsigned)n);
		p = put(p, s, n);
		s += n;
		if (*s == '.')
			s++;
	}
	return put8(p, 0);
}

static void client_addr(struct gen *g, struct addr *a, uint8_t mac[6], bool v6, uint32_t *idx)
{
	uint32_t c = below(g, N_CLIENTS);

	memset(a, 0, sizeof(*a));
	a->v6 = v6;
	if (v6) {
		static const uint8_t pre[6] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01 };
		memcpy(a->a, pre, sizeof(pre));
		a->a[14] = (uint8_t)(c >> 8);
		a->a[15] = (uint8_t)c;
	} else {
		a->a[0] = 10;
		a->a[1] = 1;
		a->a[2] = (uint8_t)(c >> 8);
		a->a[3] = (uint8_t)c;
	}
	mac[0] = 0x02;
	mac[1] = 0x00;
	mac[2] = 0x0a;
	mac[3] = 0x01;
	mac[4] = (uint8_t)(c >> 8);
	mac[5] = (uint8_t)c;
	if (idx)
		*idx = c;
}

/* A server out in the world, reached through the router's MAC. */
static void server_addr(struct gen *g, struct addr *a, uint8_t mac[6], bool v6)
{
	uint32_t s = below(g, N_SERVERS);
	static const uint8_t router[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

	memset(a, 0, sizeof(*a));
	a->v6 = v6;
	if (v6) {
		static const uint8_t pre[6] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02 };
		memcpy(a->a, pre, sizeof(pre));
		a->a[14] = (uint8_t)(s >> 8);
		a->a[15] = (uint8_t)s;
	} else {
		a->a[0] = 198;
		a->a[1] = (uint8_t)(18 + (s >> 15 & 1));
		a->a[2] = (uint8_t)(s >> 8);
		a->a[3] = (uint8_t)s;
	}
	memcpy(mac, router, 6);
}

/* The local resolver, 10.1.255.53 or 2001:db8:1::53. */
static void resolver_addr(struct addr *a, uint8_t mac[6], bool v6)
{
	static const uint8_t rmac[6] = { 0x02, 0x00, 0x0a, 0x01, 0xff, 0x35 };

	memset(a, 0, sizeof(*a));
	a->v6 = v6;
	if (v6) {
		static const uint8_t pre[6] = { 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01 };
		memcpy(a->a, pre, sizeof(pre));
		a->a[15] = 0x53;
	} else {
		a->a[0] = 10;
		a->a[1] = 1;
		a->a[2] = 255;
		a->a[3] = 53;
	}
	memcpy(mac, rmac, 6);
}

/* ------------------------------------------------------------------------ */
/* Frames                                                                    */
/* ------------------------------------------------------------------------ */

static int write_frame(struct gen *g, size_t len)
{
	/* record header: seconds, microseconds, captured and original length,
	 * in the writer's byte order like the file header */
	uint32_t hdr[4];

	g->ts_us += between(g, 1, 39);
	hdr[0] = (uint32_t)(g->ts_us / 1000000);
	hdr[1] = (uint32_t)(g->ts_us % 1000000);
	hdr[2] = (uint32_t)len;
	hdr[3] = (uint32_t)len;
	if (fwrite(hdr, 1, sizeof(hdr), g->out) != sizeof(hdr) ||
	    fwrite(g->frame, 1, len, g->out) != len)
		return -EIO;
	g->n.packets++;
	g->n.bytes += len;
	g->n.ethernet++;
	return 0;
}

static uint8_t *put_eth(uint8_t *p, const uint8_t dst[6], const uint8_t src[6], unsigned type)
{
	p = put(p, dst, 6);
	p = put(p, src, 6);
	return put16(p, type);
}

/*
 * Write an IP packet of protocol proto from src to dst whose transport part
 * (l4len bytes, checksum field at offset csum_off, or -1 for none) is
 * already at frame + 14 + IP header length. Fills in the IP header and the
 * transport checksum, counts the network layer and writes the frame.
 */
static int ip_frame(struct gen *g, const uint8_t dmac[6], const uint8_t smac[6],
		    const struct addr *src, const struct addr *dst, unsigned proto,
		    size_t l4len, int csum_off)
{
	uint8_t *ip = g->frame + 14;
	size_t iphl = src->v6 ? 40 : 20;
	uint8_t *l4 = ip + iphl;
	uint32_t sum = 0;

	put_eth(g->frame, dmac, smac, src->v6 ? 0x86dd : 0x0800);
	if (src->v6) {
		/* RFC 8200 section 3 */
		put32(ip, 0x60000000);
		put16(ip + 4, (unsigned)l4len);
		ip[6] = (uint8_t)proto;
		ip[7] = 64;
		memcpy(ip + 8, src->a, 16);
		memcpy(ip + 24, dst->a, 16);
		sum = csum_add(sum, src->a, 16);
		sum = csum_add(sum, dst->a, 16);
		sum += (uint32_t)(l4len >> 16) + (uint32_t)(l4len & 0xffff) + proto;
		g->n.ipv6++;
	} else {
		/* RFC 791 section 3.1 */
		ip[0] = 0x45;
		ip[1] = 0;
		put16(ip + 2, (unsigned)(20 + l4len));
		put16(ip + 4, (unsigned)(g->n.packets & 0xffff));
		put16(ip + 6, 0x4000);  /* don't fragment */
		ip[8] = 64;
		ip[9] = (uint8_t)proto;
		put16(ip + 10, 0);
		memcpy(ip + 12, src->a, 4);
		memcpy(ip + 16, dst->a, 4);
		put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
		if (proto != 1) {   /* ICMP has no pseudo-header */
			sum = csum_add(sum, src->a, 4);
			sum = csum_add(sum, dst->a, 4);
			sum += (uint32_t)l4len + proto;
		}
		g->n.ip++;
	}
	if (csum_off >= 0) {
		uint16_t c;

		put16(l4 + csum_off, 0);
		c = csum_fold(csum_add(sum, l4, l4len));
		if (proto == 17 && c == 0)
			c = 0xffff;   /* RFC 768: zero means no checksum */
		put16(l4 + csum_off, c);
	}
	return write_frame(g, 14 + iphl + l4len);
}

static uint8_t *l4_start(struct gen *g, bool v6)
{
	return g->frame + 14 + (v6 ? 40 : 20);
}

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

/*
 * A TCP segment of conversation c (RFC 9293 section 3.1) from the client
 * (or the server), with flags and len payload bytes already written after a
 * 20-byte header (24 for a SYN, which carries an MSS option).
 */
static int tcp_segment(struct gen *g, struct conv *c, bool from_client, unsigned flags,
		       size_t len)
{
	uint8_t *t = l4_start(g, c->cli.v6);
	size_t hl = (flags & SYN) ? 24 : 20;
	uint32_t *seq = from_client ? &c->cseq : &c->sseq;
	uint32_t ack = from_client ? c->sseq : c->cseq;

	if (hl == 24)
		memmove(t + 24, t + 20, len);
	put16(t, from_client ? c->cport : c->sport);
	put16(t + 2, from_client ? c->sport : c->cport);
	put32(t + 4, *seq);
	put32(t + 8, (flags & ACK) ? ack : 0);
	t[12] = (uint8_t)(hl / 4 << 4);
	t[13] = (uint8_t)flags;
	put16(t + 14, 64240);
	put16(t + 18, 0);
	if (hl == 24) {
		put8(t + 20, 2);      /* MSS */
		put8(t + 21, 4);
		put16(t + 22, 1460);
	}
	*seq += (uint32_t)len + ((flags & (SYN | FIN)) ? 1 : 0);
	g->n.tcp++;
	if (len)
		g->n.raw++;
	if (from_client)
		return ip_frame(g, c->smac, c->cmac, &c->cli, &c->srv, 6, hl + len, 16);
	return ip_frame(g, c->cmac, c->smac, &c->srv, &c->cli, 6, hl + len, 16);
}

/* Where a TCP payload goes (after a 20-byte header). */
static uint8_t *tcp_payload(struct gen *g, struct conv *c)
{
	return l4_start(g, c->cli.v6) + 20;
}

/* ------------------------------------------------------------------------ */
/* DNS (RFC 1035 section 4.1)                                                */
/* ------------------------------------------------------------------------ */

static const uint16_t dns_types[] = { 1, 1, 1, 1, 1, 1, 1, 28, 28, 28, 15, 16, 65 };

static int dns_packet(struct gen *g, struct conv *c, bool response)
{
	uint8_t *u = l4_start(g, c->cli.v6);
	uint8_t *d = u + 8, *p;
	bool edns = c->variant & 1;
	bool nx = (c->variant >> 1) % 10 == 0;
	unsigned an = 0;

	p = put16(d, c->dns_id);
	p = put16(p, response ? (nx ? 0x8183 : 0x8180) : 0x0100);
	p = put16(p, 1);
	p += 6;     /* counts, filled in below */
	p = put_dns_name(p, c->name);
	p = put16(p, c->qtype);
	p = put16(p, 1);
	if (response && !nx) {
		unsigned target = 0x0c;   /* pointer to the question name */
		unsigned n_addr = 1 + (unsigned)(c->variant >> 4) % 3;

		if ((c->variant >> 6) % 4 == 0 && c->qtype != 16) {
			/* a CNAME first, the records then belong to its target */
			p = put16(p, 0xc000 | 0x0c);
			p = put16(p, 5);
			p = put16(p, 1);
			p = put32(p, 300);
			p = put16(p, 0);
			{
				uint8_t *rd = p;
				p = put_dns_name(p, (c->name * 7919u + 13u) % N_NAMES);
				put16(rd - 2, (unsigned)(p - rd));
				target = (unsigned)(rd - d);
			}
			an++;
		}
		for (unsigned i = 0; i < n_addr; i++, an++) {
			p = put16(p, 0xc000 | target);
			p = put16(p, c->qtype);
			p = put16(p, 1);
			p = put32(p, 60 + (c->variant >> 8) % 3600);
			switch (c->qtype) {
			case 1:
				p = put16(p, 4);
				p = put8(p, 198);
				p = put8(p, 18 + i % 2);
				p = put8(p, (c->name >> 8) & 0xff);
				p = put8(p, (c->name + i) & 0xff);
				break;
			case 28:
				p = put16(p, 16);
				p = put32(p, 0x20010db8);
				p = put32(p, 0x00020000);
				p = put32(p, c->name);
				p = put32(p, i + 1);
				break;
			case 15: {
				uint8_t *rd;
				p = put16(p, 0);
				rd = p;
				p = put16(p, 10 * (i + 1));
				p = put16(p, 0xc000 | target);
				put16(rd - 2, (unsigned)(p - rd));
				break;
			}
			case 16: {
				static const char txt[] = "v=spf1 include:_spf.example ~all";
				p = put16(p, sizeof(txt));
				p = put8(p, sizeof(txt) - 1);
				p = put(p, txt, sizeof(txt) - 1);
				break;
			}
			default: {
				/* HTTPS (RFC 9460): priority 1, target ".", alpn=h2 */
				static const uint8_t svc[] = { 0, 1, 0, 0, 1, 0, 3, 2, 'h', '2' };
				p = put16(p, sizeof(svc));
				p = put(p, svc, sizeof(svc));
				break;
			}
			}
		}
	}
	if (edns) {
		/* RFC 6891 section 6.1.2: root name, OPT, 1232-byte payload */
		p = put8(p, 0);
		p = put16(p, 41);
		p = put16(p, 1232);
		p = put32(p, 0);
		p = put16(p, 0);
	}
	put16(d + 6, an);
	put16(d + 8, 0);
	put16(d + 10, edns ? 1 : 0);

	put16(u, response ? 53 : c->cport);
	put16(u + 2, response ? c->cport : 53);
	put16(u + 4, (unsigned)(p - u));
	g->n.udp++;
	g->n.dns++;
	if (response)
		g->n.dns_responses++;
	else
		g->n.dns_queries++;
	if (response)
		return ip_frame(g, c->cmac, c->smac, &c->srv, &c->cli, 17, (size_t)(p - u), 6);
	return ip_frame(g, c->smac, c->cmac, &c->cli, &c->srv, 17, (size_t)(p - u), 6);
}

/* ------------------------------------------------------------------------ */
/* HTTP and TLS payloads                                                      */
/* ------------------------------------------------------------------------ */

static size_t http_request(struct gen *g, struct conv *c, uint8_t *p)
{
	char host[128];

	name_text(c->name, host, sizeof(host));
	return (size_t)snprintf((char *)p, 512,
		"GET /item/%u?page=%u HTTP/1.1\r\nHost: %s\r\n"
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64) bench/1.0\r\n"
		"Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\n"
		"Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n",
		below(g, 100000), below(g, 50), host);
}

static size_t http_response_head(struct conv *c, uint8_t *p)
{
	return (size_t)snprintf((char *)p, 256,
		"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html; charset=utf-8\r\n"
		"Content-Length: %d\r\nCache-Control: max-age=600\r\n\r\n", c->body_len);
}

/* An x25519 KeyShareEntry (RFC 8446 section 4.2.8): group, length, key. */
static uint8_t *put_x25519_share(struct gen *g, uint8_t *p)
{
	p = put16(p, 0x001d);
	p = put16(p, 32);
	return put_noise(g, p, 32);
}

/*
 * Fill in the lengths of a hello that ends at end: its extensions (ext),
 * the handshake message (hs, a 24-bit length) and the handshake record at
 * rec with version.
 */
static void close_hello(uint8_t *rec, unsigned version, uint8_t *hs, uint8_t *ext,
			const uint8_t *end)
{
	put16(ext - 2, (unsigned)(end - ext));
	hs[-3] = 0;
	put16(hs - 2, (unsigned)(end - hs));
	rec[0] = 22;
	put16(rec + 1, version);
	put16(rec + 3, (unsigned)(end - rec - 5));
}

/* A TLS 1.3 ClientHello record (RFC 8446 section 4.1.2) for name c->name. */
static size_t tls_client_hello(struct gen *g, struct conv *c, uint8_t *rec)
{
	static const uint16_t suites[] = {
		0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
		0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
	};
	static const uint8_t groups[] = { 0, 8, 0, 0x1d, 0, 0x17, 0, 0x18, 0, 0x19 };
	static const uint8_t sigalgs[] = {
		0, 16, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03,
		0x08, 0x05, 0x05, 0x01, 0x08, 0x06, 0x06, 0x01,
	};
	static const uint8_t alpn[] = { 0, 12, 2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
	static const uint8_t versions[] = { 4, 0x03, 0x04, 0x03, 0x03 };
	char host[128];
	int hl = name_text(c->name, host, sizeof(host));
	uint8_t *p = rec + 5, *hs, *ext;

	p = put8(p, 1);
	p += 3;
	hs = p;
	p = put16(p, 0x0303);
	p = put_noise(g, p, 32);
	p = put8(p, 32);
	p = put_noise(g, p, 32);
	p = put16(p, sizeof(suites));
	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++)
		p = put16(p, suites[i]);
	p = put8(p, 1);
	p = put8(p, 0);
	p += 2;
	ext = p;
	/* server_name (RFC 6066 section 3) */
	p = put16(p, 0);
	p = put16(p, (unsigned)hl + 5);
	p = put16(p, (unsigned)hl + 3);
	p = put8(p, 0);
	p = put16(p, (unsigned)hl);
	p = put(p, host, (size_t)hl);
	/* extended_master_secret, renegotiation_info */
	p = put16(p, 23);
	p = put16(p, 0);
	p = put16(p, 0xff01);
	p = put16(p, 1);
	p = put8(p, 0);
	p = put16(p, 10);
	p = put16(p, sizeof(groups));
	p = put(p, groups, sizeof(groups));
	p = put16(p, 11);
	p = put16(p, 2);
	p = put8(p, 1);
	p = put8(p, 0);
	p = put16(p, 13);
	p = put16(p, sizeof(sigalgs));
	p = put(p, sigalgs, sizeof(sigalgs));
	p = put16(p, 16);
	p = put16(p, sizeof(alpn));
	p = put(p, alpn, sizeof(alpn));
	p = put16(p, 43);
	p = put16(p, sizeof(versions));
	p = put(p, versions, sizeof(versions));
	/* key_share: a list of one x25519 share */
	p = put16(p, 51);
	p = put16(p, 38);
	p = put16(p, 36);
	p = put_x25519_share(g, p);
	close_hello(rec, 0x0301, hs, ext, p);
	return (size_t)(p - rec);
}

/* A TLS 1.3 ServerHello record (RFC 8446 section 4.1.3), then the change
 * cipher spec record of middlebox compatibility mode. */
static size_t tls_server_hello(struct gen *g, uint8_t *rec)
{
	uint8_t *p = rec + 5, *hs, *ext;

	p = put8(p, 2);
	p += 3;
	hs = p;
	p = put16(p, 0x0303);
	p = put_noise(g, p, 32);
	p = put8(p, 32);
	p = put_noise(g, p, 32);
	p = put16(p, 0x1301);
	p = put8(p, 0);
	p += 2;
	ext = p;
	p = put16(p, 43);
	p = put16(p, 2);
	p = put16(p, 0x0304);
	p = put16(p, 51);
	p = put16(p, 36);
	p = put_x25519_share(g, p);
	close_hello(rec, 0x0303, hs, ext, p);
	p = put8(p, 20);
	p = put16(p, 0x0303);
	p = put16(p, 1);
	p = put8(p, 1);
	return (size_t)(p - rec);
}

/* An application data record of len bytes in all. */
static size_t tls_app_data(struct gen *g, uint8_t *rec, size_t len)
{
	rec[0] = 23;
	put16(rec + 1, 0x0303);
	put16(rec + 3, (unsigned)(len - 5));
	put_noise(g, rec + 5, len - 5);
	return len;
}

/* ------------------------------------------------------------------------ */
/* Conversations                                                              */
/* ------------------------------------------------------------------------ */

static void conv_start(struct gen *g, struct conv *c)
{
	uint32_t r = below(g, 67), acc = 0;
	bool v6 = below(g, 100) < 15;

	memset(c, 0, sizeof(*c));
	for (int k = 0; k < K_N; k++) {
		acc += kind_weight[k];
		if (r < acc) {
			c->kind = (enum kind)k;
			break;
		}
	}
	if (c->kind == K_DNS)
		v6 = below(g, 100) < 20;
	if (c->kind == K_ARP || c->kind == K_ICMP)
		v6 = false;
	if (c->kind == K_ICMP6)
		v6 = true;
	client_addr(g, &c->cli, c->cmac, v6, NULL);
	if (c->kind == K_DNS)
		resolver_addr(&c->srv, c->smac, v6);
	else if (c->kind == K_ARP)
		client_addr(g, &c->srv, c->smac, false, NULL);
	else
		server_addr(g, &c->srv, c->smac, v6);
	c->cport = (uint16_t)between(g, 32768, 60999);
	c->sport = c->kind == K_HTTP ? 80 : c->kind == K_TLS ? 443 : 53;
	c->cseq = (uint32_t)rnd(g);
	c->sseq = (uint32_t)rnd(g);
	c->name = pick_name(g);
	c->qtype = dns_types[below(g, sizeof(dns_types) / sizeof(dns_types[0]))];
	c->dns_id = (uint16_t)rnd(g);
	c->icmp_id = (uint16_t)rnd(g);
	c->icmp_seq = (uint16_t)between(g, 1, 200);
	c->variant = (int)below(g, 1 << 20);
	c->body_len = (int)between(g, 200, 2600);
	if (c->kind == K_HTTP || c->kind == K_TLS)
		g->n.tcp_flows++;
}

static int arp_packet(struct gen *g, struct conv *c, bool reply)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t zero[6] = { 0 };
	uint8_t *p = put_eth(g->frame, reply ? c->cmac : bcast, reply ? c->smac : c->cmac, 0x0806);

	p = put16(p, 1);
	p = put16(p, 0x0800);
	p = put8(p, 6);
	p = put8(p, 4);
	p = put16(p, reply ? 2 : 1);
	p = put(p, reply ? c->smac : c->cmac, 6);
	p = put(p, reply ? c->srv.a : c->cli.a, 4);
	p = put(p, reply ? c->cmac : zero, 6);
	p = put(p, reply ? c->cli.a : c->srv.a, 4);
	g->n.arp++;
	return write_frame(g, (size_t)(p - g->frame));
}

/* An echo request or reply (ICMP type 8/0, ICMPv6 128/129) with 56 data bytes. */
static int echo_packet(struct gen *g, struct conv *c, bool reply)
{
	bool v6 = c->cli.v6;
	uint8_t *t = l4_start(g, v6);
	unsigned type = v6 ? (reply ? 129 : 128) : (reply ? 0 : 8);

	put8(t, type);
	put8(t + 1, 0);
	put16(t + 2, 0);
	put16(t + 4, c->icmp_id);
	put16(t + 6, c->icmp_seq);
	memset(t + 8, 0x20 + c->icmp_seq % 64, 56);
	if (v6) {
		g->n.icmpv6++;
	} else {
		g->n.icmp++;
		g->n.raw++;     /* echo data is a Raw layer */
	}
	if (reply)
		return ip_frame(g, c->cmac, c->smac, &c->srv, &c->cli, v6 ? 58 : 1, 64, 2);
	return ip_frame(g, c->smac, c->cmac, &c->cli, &c->srv, v6 ? 58 : 1, 64, 2);
}

/* The next packet of conversation c; *done when it was the last. */
static int conv_step(struct gen *g, struct conv *c, bool *done)
{
	int s = c->step++;
	size_t n;

	*done = false;
	switch (c->kind) {
	case K_DNS:
		*done = s == 1;
		return dns_packet(g, c, s == 1);
	case K_ARP:
		*done = s == 1;
		return arp_packet(g, c, s == 1);
	case K_ICMP:
	case K_ICMP6:
		*done = s == 1;
		return echo_packet(g, c, s == 1);
	case K_HTTP:
	case K_TLS:
		break;
	default:
		return -EINVAL;
	}
	switch (s) {
	case 0:
		return tcp_segment(g, c, true, SYN, 0);
	case 1:
		return tcp_segment(g, c, false, SYN | ACK, 0);
	case 2:
		return tcp_segment(g, c, true, ACK, 0);
	case 3:
		if (c->kind == K_HTTP) {
			n = http_request(g, c, tcp_payload(g, c));
			g->n.http_requests++;
		} else {
			n = tls_client_hello(g, c, tcp_payload(g, c));
			g->n.tls_client_hellos++;
		}
		return tcp_segment(g, c, true, PSH | ACK, n);
	case 4:
		return tcp_segment(g, c, false, ACK, 0);
	case 5:
		if (c->kind == K_HTTP) {
			uint8_t *p = tcp_payload(g, c);
			size_t head = http_response_head(c, p);
			size_t body = (size_t)c->body_len;

			if (head + body > 1460)
				body = 1460 - head;
			put_noise(g, p + head, body);
			c->body_len -= (int)body;
			g->n.http_responses++;
			return tcp_segment(g, c, false, PSH | ACK, head + body);
		}
		n = tls_server_hello(g, tcp_payload(g, c));
		g->n.tls_server_hellos++;
		return tcp_segment(g, c, false, PSH | ACK, n);
	default:
		break;
	}
	if (c->kind == K_HTTP) {
		if (c->body_len > 0) {
			size_t body = c->body_len > 1460 ? 1460 : (size_t)c->body_len;

			put_noise(g, tcp_payload(g, c), body);
			c->body_len -= (int)body;
			return tcp_segment(g, c, false, PSH | ACK, body);
		}
	}
	/* TLS: application data records back and forth */
	if (c->kind == K_TLS && c->variant % 7 + 6 > s) {
		bool from_client = s % 3 == 0;

		n = from_client ? between(g, 40, 600) : between(g, 100, 1460);
		tls_app_data(g, tcp_payload(g, c), n);
		return tcp_segment(g, c, from_client, PSH | ACK, n);
	}
	/* the close: the client's FIN, the server's FIN, the client's last ACK */
	switch (c->closing++) {
	case 0:
		return tcp_segment(g, c, true, FIN | ACK, 0);
	case 1:
		return tcp_segment(g, c, false, FIN | ACK, 0);
	default:
		break;
	}
	*done = true;
	return tcp_segment(g, c, true, ACK, 0);
}

/* ------------------------------------------------------------------------ */
/* Main                                                                       */
/* ------------------------------------------------------------------------ */

static void summary(FILE *f, const struct gen *g, uint64_t seed)
{
	const struct counts *n = &g->n;

	fprintf(f, "{\"seed\": %" PRIu64 ", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 ", "
		"\"layers\": {\"ARP\": %" PRIu64 ", \"DNS\": %" PRIu64 ", \"Ethernet\": %" PRIu64
		", \"ICMP\": %" PRIu64 ", \"ICMPv6\": %" PRIu64 ", \"IP\": %" PRIu64
		", \"IPv6\": %" PRIu64 ", \"Raw\": %" PRIu64 ", \"TCP\": %" PRIu64
		", \"UDP\": %" PRIu64 "}, "
		"\"dns_queries\": %" PRIu64 ", \"dns_responses\": %" PRIu64 ", "
		"\"http_requests\": %" PRIu64 ", \"http_responses\": %" PRIu64 ", "
		"\"tls_client_hellos\": %" PRIu64 ", \"tls_server_hellos\": %" PRIu64 ", "
		"\"tcp_flows\": %" PRIu64 "}\n",
		seed, n->packets, n->bytes, n->arp, n->dns, n->ethernet, n->icmp, n->icmpv6,
		n->ip, n->ipv6, n->raw, n->tcp, n->udp, n->dns_queries, n->dns_responses,
		n->http_requests, n->http_responses, n->tls_client_hellos,
		n->tls_server_hellos, n->tcp_flows);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: nd-bench-gencap [-n COUNT] [-s SEED] [-o FILE] [--summary FILE]\n"
		"Write a deterministic pcap of COUNT packets with a mix of DNS, HTTP, TLS,\n"
		"ARP, ICMP and IPv6 traffic (the same COUNT and SEED give the same bytes).\n\n"
		"  -n, --count COUNT    packets to write (default 2000000)\n"
		"  -s, --seed SEED      random seed (default 1)\n"
		"  -o, --output FILE    the pcap file; '-' or none: standard output\n"
		"      --summary FILE   write what was written, as JSON, to FILE\n"
		"                       (default: standard error)\n"
		"      --help           print this help and exit\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || end == s || *end || *s == '-' ? -EINVAL : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "summary", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'H' },
		{ 0 },
	};
	static struct gen g;   /* large: keep it off the stack */
	uint64_t count = 2000000, seed = 1;
	const char *out_path = "-", *summary_path = NULL;
	static char iobuf[1 << 20];
	uint8_t fhdr[24] = { 0 };
	uint32_t magic = 0xa1b2c3d4, v;
	uint16_t major = 2, minor = 4;
	int opt, err = 0;

	while ((opt = getopt_long(argc, argv, "n:s:o:", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (parse_u64(optarg, &count) || count == 0) {
				fprintf(stderr, "nd-bench-gencap: -n: expected a count of 1 or more, "
					"not '%s'\n", optarg);
				return 2;
			}
			break;
		case 's':
			if (parse_u64(optarg, &seed)) {
				fprintf(stderr, "nd-bench-gencap: -s: expected a number, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'S':
			summary_path = optarg;
			break;
		case 'H':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "nd-bench-gencap: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	g.out = strcmp(out_path, "-") ? fopen(out_path, "wb") : stdout;
	if (!g.out) {
		fprintf(stderr, "nd-bench-gencap: %s: %s\n", out_path, strerror(errno));
		return 1;
	}
	setvbuf(g.out, iobuf, _IOFBF, sizeof(iobuf));
	g.rng = seed;
	g.ts_us = 1767225600ULL * 1000000ULL;   /* 2026-01-01T00:00:00Z */
	for (size_t i = 0; i < NOISE_BYTES; i += 8) {
		uint64_t r = rnd(&g);
		memcpy(g.noise + i, &r, 8);
	}

	/* The file header in the writer's byte order (the pcap format's rule). */
	memcpy(fhdr, &magic, 4);
	memcpy(fhdr + 4, &major, 2);
	memcpy(fhdr + 6, &minor, 2);
	v = 65535;
	memcpy(fhdr + 16, &v, 4);
	v = 1;                      /* LINKTYPE_ETHERNET */
	memcpy(fhdr + 20, &v, 4);
	if (fwrite(fhdr, 1, sizeof(fhdr), g.out) != sizeof(fhdr))
		err = -EIO;

	for (size_t i = 0; i < N_SLOTS; i++)
		conv_start(&g, &g.slot[i]);
	while (!err && g.n.packets < count) {
		struct conv *c = &g.slot[below(&g, N_SLOTS)];
		bool done;

		err = conv_step(&g, c, &done);
		if (done)
			conv_start(&g, c);
	}
	if (fflush(g.out) || (g.out != stdout && fclose(g.out)))
		err = -EIO;
	if (err) {
		fprintf(stderr, "nd-bench-gencap: %s: write failed: %s\n", out_path, strerror(-err));
		return 1;
	}
	if (summary_path) {
		FILE *f = fopen(summary_path, "w");

		if (!f) {
			fprintf(stderr, "nd-bench-gencap: %s: %s\n", summary_path, strerror(errno));
			return 1;
		}
		summary(f, &g, seed);
		if (fclose(f)) {
			fprintf(stderr, "nd-bench-gencap: %s: write failed\n", summary_path);
			return 1;
		}
	} else {
		summary(stderr, &g, seed);
	}
	return 0;
}
