/* SPDX-License-Identifier: MIT */
/*
 * base.c - the base vendor's messages NMSG carries packets and
 * connections in (nmsg's base/packet.proto, pkt.proto, ipconn.proto,
 * encode.proto), decoded and encoded with pb.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "nmsg.h"

/* The numeric value of a VARINT or fixed field as a uint32. */
static int as_u32(const struct ndl__pb_field *f, uint32_t *out)
{
	if (f->wire == NDL__PB_LEN)
		return -EBADMSG;
	if (f->u > UINT32_MAX)
		return -EBADMSG;
	*out = (uint32_t)f->u;
	return 0;
}

int ndl__nmsg_packet_decode(const uint8_t *data, size_t len, struct ndl__nmsg_packet *out)
{
	struct ndl__pb_reader r;
	struct ndl__pb_field f;
	bool have_payload = false;

	memset(out, 0, sizeof(*out));
	ndl__pb_reader_init(&r, data, len);
	while (!ndl__pb_done(&r)) {
		if (ndl__pb_next(&r, &f) < 0)
			return -EBADMSG;
		if (f.number == 1) {
			if (as_u32(&f, &out->payload_type) < 0)
				return -EBADMSG;
			out->has_payload_type = true;
		} else if (f.number == 2) {
			if (f.wire != NDL__PB_LEN)
				return -EBADMSG;
			out->data = f.data;
			out->len = f.len;
			have_payload = true;
		}
	}
	return out->has_payload_type && have_payload ? 0 : -EBADMSG;
}

int ndl__nmsg_pkt_decode(const uint8_t *data, size_t len, struct ndl__nmsg_pkt *out)
{
	struct ndl__pb_reader r;
	struct ndl__pb_field f;
	bool have_payload = false;

	memset(out, 0, sizeof(*out));
	ndl__pb_reader_init(&r, data, len);
	while (!ndl__pb_done(&r)) {
		if (ndl__pb_next(&r, &f) < 0)
			return -EBADMSG;
		if (f.number == 1) {
			if (f.wire != NDL__PB_LEN)
				return -EBADMSG;
			out->data = f.data;
			out->len = f.len;
			have_payload = true;
		} else if (f.number == 2) {
			if (as_u32(&f, &out->len_frame) < 0)
				return -EBADMSG;
			out->has_len_frame = true;
		}
	}
	return have_payload ? 0 : -EBADMSG;
}

static int take_ip(const struct ndl__pb_field *f, uint8_t *ip, size_t *iplen)
{
	if (f->wire != NDL__PB_LEN || (f->len != 4 && f->len != 16))
		return -EBADMSG;
	memcpy(ip, f->data, f->len);
	*iplen = f->len;
	return 0;
}

int ndl__nmsg_ipconn_decode(const uint8_t *data, size_t len, struct ndl__nmsg_ipconn *out)
{
	struct ndl__pb_reader r;
	struct ndl__pb_field f;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	ndl__pb_reader_init(&r, data, len);
	while (!ndl__pb_done(&r) && rc == 0) {
		if (ndl__pb_next(&r, &f) < 0)
			return -EBADMSG;
		switch (f.number) {
		case 1:
			rc = as_u32(&f, &out->proto);
			out->has_proto = true;
			break;
		case 2: rc = take_ip(&f, out->srcip, &out->srcip_len); break;
		case 3:
			rc = as_u32(&f, &out->srcport);
			out->has_srcport = true;
			break;
		case 4: rc = take_ip(&f, out->dstip, &out->dstip_len); break;
		case 5:
			rc = as_u32(&f, &out->dstport);
			out->has_dstport = true;
			break;
		default: break;
		}
	}
	if (rc < 0)
		return rc;
	/* every field is optional in ipconn.proto; ports are 16-bit */
	if ((out->has_srcport && out->srcport > 65535) ||
	    (out->has_dstport && out->dstport > 65535) || (out->has_proto && out->proto > 255))
		return -EBADMSG;
	return 0;
}

int ndl__nmsg_encode_decode(const uint8_t *data, size_t len, struct ndl__nmsg_encode *out)
{
	struct ndl__pb_reader r;
	struct ndl__pb_field f;
	bool have_type = false, have_payload = false;

	memset(out, 0, sizeof(*out));
	ndl__pb_reader_init(&r, data, len);
	while (!ndl__pb_done(&r)) {
		if (ndl__pb_next(&r, &f) < 0)
			return -EBADMSG;
		if (f.number == 1) {
			if (as_u32(&f, &out->type) < 0)
				return -EBADMSG;
			have_type = true;
		} else if (f.number == 2) {
			if (f.wire != NDL__PB_LEN)
				return -EBADMSG;
			out->data = f.data;
			out->len = f.len;
			have_payload = true;
		}
	}
	return have_type && have_payload ? 0 : -EBADMSG;
}

int ndl__nmsg_packet_encode(struct ndl__pb_buf *b, const struct ndl__nmsg_packet *m)
{
	int r = ndl__pb_put_uint(b, 1, m->payload_type);

	return r < 0 ? r : ndl__pb_put_bytes(b, 2, m->data, m->len);
}

int ndl__nmsg_pkt_encode(struct ndl__pb_buf *b, const struct ndl__nmsg_pkt *m)
{
	int r = ndl__pb_put_bytes(b, 1, m->data, m->len);

	if (r >= 0 && m->has_len_frame)
		r = ndl__pb_put_uint(b, 2, m->len_frame);
	return r;
}

int ndl__nmsg_ipconn_encode(struct ndl__pb_buf *b, const struct ndl__nmsg_ipconn *m)
{
	int r = 0;

	if (m->has_proto)
		r = ndl__pb_put_uint(b, 1, m->proto);
	if (r >= 0 && m->srcip_len)
		r = ndl__pb_put_bytes(b, 2, m->srcip, m->srcip_len);
	if (r >= 0 && m->has_srcport)
		r = ndl__pb_put_uint(b, 3, m->srcport);
	if (r >= 0 && m->dstip_len)
		r = ndl__pb_put_bytes(b, 4, m->dstip, m->dstip_len);
	if (r >= 0 && m->has_dstport)
		r = ndl__pb_put_uint(b, 5, m->dstport);
	return r;
}

int ndl__nmsg_encode_encode(struct ndl__pb_buf *b, const struct ndl__nmsg_encode *m)
{
	int r = ndl__pb_put_uint(b, 1, m->type);

	return r < 0 ? r : ndl__pb_put_bytes(b, 2, m->data, m->len);
}

static const struct {
	uint32_t msgtype;
	const char *name;
} base_types[] = {
	{ NDL__NMSG_BASE_IPCONN, "ipconn" },
	{ NDL__NMSG_BASE_PKT, "pkt" },
	{ NDL__NMSG_BASE_ENCODE, "encode" },
	{ NDL__NMSG_BASE_PACKET, "packet" },
};

const char *ndl__nmsg_base_type_name(uint32_t msgtype)
{
	for (size_t i = 0; i < sizeof(base_types) / sizeof(base_types[0]); i++)
		if (base_types[i].msgtype == msgtype)
			return base_types[i].name;
	return NULL;
}

static int parse_num(const char *s, size_t n, uint32_t *out)
{
	char buf[16];
	char *end;
	unsigned long v;

	if (n == 0 || n >= sizeof(buf) || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	v = strtoul(buf, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int ndl__nmsg_parse_filter(const char *s, struct ndl__nmsg_reader_config *cfg)
{
	const char *colon = strchr(s, ':');
	size_t vlen = colon ? (size_t)(colon - s) : strlen(s);
	uint32_t vid, type = 0;
	bool base;

	if (vlen == 4 && strncmp(s, "base", 4) == 0)
		vid = NDL__NMSG_VID_BASE;
	else if (parse_num(s, vlen, &vid) < 0)
		return -EINVAL;
	base = vid == NDL__NMSG_VID_BASE;
	if (colon) {
		const char *t = colon + 1;
		bool found = false;
		if (base) {
			for (size_t i = 0; i < sizeof(base_types) / sizeof(base_types[0]); i++) {
				if (strcmp(t, base_types[i].name) == 0) {
					type = base_types[i].msgtype;
					found = true;
				}
			}
		}
		if (!found && parse_num(t, strlen(t), &type) < 0)
			return -EINVAL;
	}
	cfg->filter_vid = true;
	cfg->vid = vid;
	cfg->filter_msgtype = colon != NULL;
	cfg->msgtype = type;
	return 0;
}
