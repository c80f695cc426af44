/* SPDX-License-Identifier: MIT */
/* Placeholder until the DNS parser lands. */
#include <errno.h>
#include <stdio.h>
#include "decode.h"

int ndl__dns_parse(struct ndl__dns_buf *buf, const uint8_t *msg, size_t len,
		   bool over_tcp)
{
	return -EINVAL;
}

const struct ndl_dns *ndl__dns_from_packet(struct ndl__dns_buf *buf,
					   const struct ndl_packet *pkt)
{
	return NULL;
}

const char *ndl__dns_error_name(unsigned int err)
{
	return err ? "error" : "ok";
}

const char *ndl__dns_type_name(uint16_t type, char *out, size_t outlen)
{
	snprintf(out, outlen, "TYPE%u", (unsigned)type);
	return out;
}
