/* SPDX-License-Identifier: MIT */
/*
 * fuzz_decode.c - ndl__decode on arbitrary frames of every supported link
 * type, and the DNS, HTTP and TLS views of what it decoded, as the kitchen
 * runs them on each captured packet.
 *
 * Input: one byte choosing the link type (linktypes.h), then the frame.
 */
#include <stdbool.h>
#include "decode.h"
#include "checks.h"
#include "fuzz.h"
#include "linktypes.h"

static struct ndl__dns_buf dns_buf;
static struct ndl__http_buf http_buf;
static struct ndl__tls_buf tls_buf;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ndl_packet pkt;
	const struct ndl_dns *d;
	const struct ndl_http *h;
	const struct ndl_tls_hello *t;
	uint8_t *frame;
	uint32_t caplen;
	int linktype, rc;

	if (size < 1 || size - 1 > UINT32_MAX)
		return 0;
	linktype = fuzz_linktypes[data[0] % FUZZ_N_LINKTYPES];
	caplen = (uint32_t)(size - 1);
	frame = fuzz_dup(data + 1, caplen);

	rc = ndl__decode(&pkt, linktype, frame, caplen, caplen, 1);
	FUZZ_CHECK(rc >= 0 && rc < NDL_DECODE_ERROR_COUNT);
	FUZZ_CHECK((uint32_t)rc == pkt.decode_error);
	FUZZ_CHECK(ndl_decode_error_name(pkt.decode_error) != NULL);
	FUZZ_CHECK(pkt.data == frame && pkt.caplen == caplen);
	FUZZ_CHECK(pkt.linktype == linktype);
	FUZZ_CHECK(pkt.l2_off <= caplen && pkt.l3_off <= caplen && pkt.l4_off <= caplen);
	FUZZ_CHECK(pkt.padding_len <= caplen);
	if (pkt.payload_len) {
		FUZZ_CHECK(pkt.layers & NDL_LAYER_PAYLOAD);
		FUZZ_CHECK(fuzz_inside(pkt.payload, pkt.payload_len, frame, caplen));
	} else {
		FUZZ_CHECK(pkt.payload == NULL);
		FUZZ_CHECK(!(pkt.layers & NDL_LAYER_PAYLOAD));
	}

	d = ndl__dns_from_packet(&dns_buf, &pkt);
	if (d)
		fuzz_check_dns(d, pkt.payload, pkt.payload_len);
	h = ndl__http_from_packet(&http_buf, &pkt);
	if (h)
		fuzz_check_http(h, pkt.payload, pkt.payload_len);
	t = ndl__tls_from_packet(&tls_buf, &pkt);
	if (t)
		fuzz_check_tls(t, pkt.payload, pkt.payload_len);

	free(frame);
	return 0;
}
