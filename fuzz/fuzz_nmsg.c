/* SPDX-License-Identifier: MIT */
/*
 * fuzz_nmsg.c - the NMSG reader (nmsg/) on arbitrary bytes: as a stream
 * fed in two pieces, and as one datagram; every payload it delivers must
 * lie inside what was fed, its base message is decoded, and written again
 * by the writer it must read back the same.
 *
 * Input: the bytes of an NMSG file or datagram.
 */
#include <errno.h>
#include "fuzz.h"
#include "nmsg.h"

struct ctx {
	const uint8_t *in;
	size_t len;
	size_t payloads;
};

static int rewrite(void *arg, const uint8_t *data, size_t len)
{
	struct ndl__nmsg_reader *r = arg;

	FUZZ_CHECK(ndl__nmsg_reader_feed(r, data, len) == 0);
	return 0;
}

static int back(void *arg, const struct ndl__nmsg_payload *p)
{
	const struct ndl__nmsg_payload *want = arg;

	FUZZ_CHECK(p->vid == want->vid && p->msgtype == want->msgtype);
	FUZZ_CHECK(p->time_sec == want->time_sec && p->time_nsec == want->time_nsec);
	FUZZ_CHECK(p->len == want->len);
	FUZZ_CHECK(p->len == 0 || memcmp(p->data, want->data, p->len) == 0);
	return 0;
}

static void decode_base(const struct ndl__nmsg_payload *p)
{
	struct ndl__nmsg_packet pk;
	struct ndl__nmsg_pkt pt;
	struct ndl__nmsg_ipconn ic;
	struct ndl__nmsg_encode en;

	if (ndl__nmsg_packet_decode(p->data, p->len, &pk) == 0)
		FUZZ_CHECK(pk.len == 0 || fuzz_inside(pk.data, pk.len, p->data, p->len));
	if (ndl__nmsg_pkt_decode(p->data, p->len, &pt) == 0)
		FUZZ_CHECK(pt.len == 0 || fuzz_inside(pt.data, pt.len, p->data, p->len));
	if (ndl__nmsg_ipconn_decode(p->data, p->len, &ic) == 0)
		FUZZ_CHECK(ic.srcip_len == 0 || ic.srcip_len == 4 || ic.srcip_len == 16);
	if (ndl__nmsg_encode_decode(p->data, p->len, &en) == 0)
		FUZZ_CHECK(en.len == 0 || fuzz_inside(en.data, en.len, p->data, p->len));
}

static int on_payload(void *arg, const struct ndl__nmsg_payload *p)
{
	struct ctx *c = arg;
	struct ndl__nmsg_writer_config wc = { .container_size = 128, .zlib = c->payloads % 2 };
	struct ndl__nmsg_reader *r;
	struct ndl__nmsg_writer *w;

	c->payloads++;
	FUZZ_CHECK(p->time_nsec < 1000000000u);
	decode_base(p);
	/* written again (fragmented when large), it reads back the same */
	r = ndl__nmsg_reader_new(NULL, back, NULL, (void *)p);
	w = ndl__nmsg_writer_new(&wc, rewrite, r);
	FUZZ_CHECK(r && w);
	FUZZ_CHECK(ndl__nmsg_writer_add(w, p) == 0);
	FUZZ_CHECK(ndl__nmsg_writer_flush(w) == 0);
	FUZZ_CHECK(ndl__nmsg_reader_finish(r) == 0);
	FUZZ_CHECK(ndl__nmsg_reader_stats(r)->payloads == 1);
	ndl__nmsg_writer_free(w);
	ndl__nmsg_reader_free(r);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *in = fuzz_dup(data, size);
	struct ctx c = { .in = in, .len = size };
	struct ndl__nmsg_reader_config cfg = { .max_container = 1u << 20,
					       .frag_timeout_ns = 1000 };
	struct ndl__nmsg_reader *r;
	size_t cut = size ? in[0] % (size + 1) : 0;

	r = ndl__nmsg_reader_new(&cfg, on_payload, NULL, &c);
	FUZZ_CHECK(r != NULL);
	ndl__nmsg_reader_feed(r, in, cut);
	ndl__nmsg_reader_feed(r, in + cut, size - cut);
	ndl__nmsg_reader_finish(r);
	ndl__nmsg_reader_free(r);

	r = ndl__nmsg_reader_new(&cfg, on_payload, NULL, &c);
	FUZZ_CHECK(r != NULL);
	ndl__nmsg_reader_datagram(r, in, size, 1, 0);
	ndl__nmsg_reader_expire(r, 5000);
	ndl__nmsg_reader_free(r);
	free(in);
	return 0;
}
