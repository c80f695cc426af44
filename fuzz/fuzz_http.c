/* SPDX-License-Identifier: MIT */
/*
 * fuzz_http.c - ndl__http_parse (RFC 9112 start line and field lines) on
 * arbitrary TCP payloads.
 *
 * Input: the payload.
 */
#include <errno.h>
#include "checks.h"
#include "decode.h"
#include "fuzz.h"

static struct ndl__http_buf http_buf;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *msg = fuzz_dup(data, size);
	int rc = ndl__http_parse(&http_buf, msg, size);

	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc == 0)
		fuzz_check_http(&http_buf.http, msg, size);
	free(msg);
	return 0;
}
