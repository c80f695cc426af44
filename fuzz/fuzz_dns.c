/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dns.c - ndl__dns_parse on arbitrary messages (RFC 1035, EDNS per
 * RFC 6891), in both framings.
 *
 * Input: one byte whose lowest bit selects TCP framing (the message then
 * starts with its two-byte length, RFC 7766), then the message.
 */
#include <errno.h>
#include <stdbool.h>
#include "decode.h"
#include "checks.h"
#include "fuzz.h"

static struct ndl__dns_buf dns_buf;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *msg;
	size_t len;
	bool over_tcp;
	int rc;

	if (size < 1)
		return 0;
	over_tcp = data[0] & 1;
	len = size - 1;
	msg = fuzz_dup(data + 1, len);

	rc = ndl__dns_parse(&dns_buf, msg, len, over_tcp);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	/* anything shorter than the header (and its TCP length) is refused */
	if (len < 12u + (over_tcp ? 2u : 0u))
		FUZZ_CHECK(rc == -EINVAL);
	if (rc == 0) {
		FUZZ_CHECK(dns_buf.dns.over_tcp == over_tcp);
		fuzz_check_dns(&dns_buf.dns, msg, len);
	}

	free(msg);
	return 0;
}
