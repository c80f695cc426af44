/* SPDX-License-Identifier: MIT */
/*
 * jsonw_ops.h - the byte code the JSON writer target reads, shared with the
 * seed extractor that turns real dumplings into it.
 *
 * Input: one byte choosing the document size limit (0: none, else n * 16
 * bytes), then operations until the input ends. Each is one byte (modulo
 * FZ_OP_COUNT) followed by its operands:
 *   FZ_KEY, FZ_STRING, FZ_HEX       length byte n, then n bytes
 *   FZ_INT64, FZ_UINT64, FZ_REAL,
 *   FZ_TIME                          8 bytes, little-endian
 *   FZ_BOOL, FZ_RAW, FZ_REWIND       1 byte
 *   FZ_MAC                           6 bytes
 *   FZ_IP4 / FZ_IP6                  4 / 16 bytes
 *   FZ_ENVELOPE_BEGIN                chef (length byte, bytes), kitchen
 *                                    (length byte, 255 for none, bytes),
 *                                    time (8 bytes), driver (1 byte)
 * Operands cut short by the end of input read as zeros.
 */
#ifndef NDL_FUZZ_JSONW_OPS_H
#define NDL_FUZZ_JSONW_OPS_H

enum fz_op {
	FZ_BEGIN_OBJECT,
	FZ_END_OBJECT,
	FZ_BEGIN_ARRAY,
	FZ_END_ARRAY,
	FZ_KEY,
	FZ_STRING,
	FZ_INT64,
	FZ_UINT64,
	FZ_REAL,
	FZ_BOOL,
	FZ_NULL,
	FZ_TIME,
	FZ_HEX,
	FZ_MAC,
	FZ_IP4,
	FZ_IP6,
	FZ_RAW,             /* a JSON text from a fixed table */
	FZ_RESET,
	FZ_REWIND,          /* back to a point noted earlier that is still open */
	FZ_ENVELOPE_BEGIN,
	FZ_ENVELOPE_END,
	FZ_OP_COUNT
};

#define FZ_NO_KITCHEN 255

#endif /* NDL_FUZZ_JSONW_OPS_H */
