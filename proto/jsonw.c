/* SPDX-License-Identifier: MIT */
/* Placeholder until the writer lands. */
#include <stdlib.h>
#include <string.h>
#include "jsonw.h"

void ndl_jwb_init(struct ndl_jwb *w, size_t limit) { memset(w, 0, sizeof(*w)); w->limit = limit; }
void ndl_jwb_free(struct ndl_jwb *w) { if (w) { free(w->buf); w->buf = NULL; } }
void ndl_jwb_reset(struct ndl_jwb *w) { w->len = 0; w->error = 0; w->depth = 0; }
void ndl_jwb_rewind(struct ndl_jwb *w, size_t len, uint32_t depth) { w->len = len; w->depth = depth; }
void ndl_jwb_append(struct ndl_jwb *w, const char *s, size_t len) { (void)s; (void)len; w->error = NDL_JWB_NOMEM; }
