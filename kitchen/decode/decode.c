/* SPDX-License-Identifier: MIT */
/* Placeholder until the decoder lands. */
#include <string.h>
#include "decode.h"

int ndl__decode(struct ndl_packet *pkt, int linktype, const uint8_t *data,
		uint32_t caplen, uint32_t wirelen, ndl_time_ns ts)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->struct_size = sizeof(*pkt);
	pkt->data = data;
	pkt->caplen = caplen;
	pkt->wirelen = wirelen;
	pkt->linktype = linktype;
	pkt->ts = ts;
	pkt->decode_error = NDL_DECODE_UNKNOWN_LINKTYPE;
	return (int)pkt->decode_error;
}

const char *ndl__decode_error_name(unsigned int err)
{
	return err ? "error" : "ok";
}
