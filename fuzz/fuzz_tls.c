/* SPDX-License-Identifier: MIT */
/*
 * fuzz_tls.c - ndl__tls_parse (TLS record and ClientHello or ServerHello,
 * RFC 8446 and RFC 5246, with SNI and ALPN) on arbitrary TCP payloads.
 *
 * Input: the payload.
 */
#include <errno.h>
#include "checks.h"
#include "decode.h"
#include "fuzz.h"

static struct ndl__tls_buf tls_buf;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *msg = fuzz_dup(data, size);
	int rc = ndl__tls_parse(&tls_buf, msg, size);

	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc == 0)
		fuzz_check_tls(&tls_buf.hello, msg, size);
	free(msg);
	return 0;
}
