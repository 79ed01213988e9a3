/* Modbus RTU framing, shared by every Modbus protocol of the core (include/bmsrig/core/modbus_rtu.h):
 * CRC-16/MODBUS, frame lengths by function and direction, frames to and from the wire, and the
 * resynchronising receive assembler. Hand-built: the core runs on an ESP8266 without libmodbus. */
#include <string.h>

#include "bmsrig/core/modbus_rtu.h"
#include "intmath.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- CRC and frame lengths ------------------------------------------------------------------ */

uint16_t rig_modbus_crc(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFFu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc & 1u) ? (uint16_t)((crc >> 1) ^ 0xA001u) : (uint16_t)(crc >> 1);
	}
	return crc;
}

/* How long a frame of each function is, per direction (Modbus application protocol 1.1b3):
 * fixed = the whole ADU; count_at > 0: the ADU is count_at + 1 + p[count_at] + 2 bytes. */
struct fc_len {
	uint8_t fc;
	uint8_t req_fixed, req_count_at;
	uint8_t rsp_fixed, rsp_count_at;
};
static const struct fc_len fc_lens[] = {
	{ 0x01, 8, 0, 0, 2 }, { 0x02, 8, 0, 0, 2 }, { 0x03, 8, 0, 0, 2 }, { 0x04, 8, 0, 0, 2 },
	{ 0x05, 8, 0, 8, 0 }, { 0x06, 8, 0, 8, 0 }, { 0x07, 4, 0, 5, 0 }, { 0x08, 8, 0, 8, 0 },
	{ 0x0B, 4, 0, 8, 0 }, { 0x0C, 4, 0, 0, 2 }, { 0x0F, 0, 6, 8, 0 }, { 0x10, 0, 6, 8, 0 },
	{ 0x11, 4, 0, 0, 2 }, { 0x16, 10, 0, 10, 0 }, { 0x17, 0, 10, 0, 2 },
};

int rig_modbus_frame_len(const uint8_t *p, size_t have, enum modbus_kind kind)
{
	const struct fc_len *l = NULL;
	unsigned fixed, at;
	size_t i;

	if (have < 2)
		return 0;
	if (kind == MODBUS_RESPONSE && (p[1] & MODBUS_FC_EXCEPTION))
		return 5;
	for (i = 0; i < N_OF(fc_lens); i++)
		if (fc_lens[i].fc == p[1])
			l = &fc_lens[i];
	if (!l)
		return -1;
	fixed = kind == MODBUS_REQUEST ? l->req_fixed : l->rsp_fixed;
	at = kind == MODBUS_REQUEST ? l->req_count_at : l->rsp_count_at;
	if (fixed)
		return (int)fixed;
	if (have <= at)
		return 0;
	return (int)(at + 1u + p[at] + 2u);
}

rig_rc rig_modbus_frame_encode(const struct modbus_frame *f, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t n = 2u + f->len;
	uint16_t crc;

	if (f->len > MODBUS_DATA_MAX)
		return RIG_ERR_LENGTH;
	if (cap < n + 2u)
		return RIG_ERR_SPACE;
	out[0] = f->addr;
	out[1] = f->fc;
	memcpy(out + 2, f->data, f->len);
	crc = rig_modbus_crc(out, n);
	out[n] = (uint8_t)(crc & 0xFFu);
	out[n + 1u] = (uint8_t)(crc >> 8);
	*out_len = n + 2u;
	return RIG_OK;
}

rig_rc rig_modbus_frame_check(const uint8_t *wire, size_t n, enum modbus_kind kind)
{
	int need;
	uint16_t crc;

	if (n < 4 || n > MODBUS_ADU_MAX)
		return RIG_ERR_LENGTH;
	need = rig_modbus_frame_len(wire, n, kind);
	if (need < 0)
		return RIG_ERR_UNSUPPORTED;
	if ((size_t)need != n)
		return RIG_ERR_LENGTH;
	crc = rig_modbus_crc(wire, n - 2u);
	if (wire[n - 2u] != (crc & 0xFFu) || wire[n - 1u] != (crc >> 8))
		return RIG_ERR_CHECKSUM;
	return RIG_OK;
}

rig_rc rig_modbus_frame_parse(const uint8_t *wire, size_t n, enum modbus_kind kind, struct modbus_frame *f)
{
	rig_rc rc = rig_modbus_frame_check(wire, n, kind);

	if (rc != RIG_OK)
		return rc;
	f->addr = wire[0];
	f->fc = wire[1];
	f->len = (uint8_t)(n - 4u);
	memcpy(f->data, wire + 2, f->len);
	return RIG_OK;
}

/* ---- the assembler ---------------------------------------------------------------------------- */

void rig_modbus_rx_init(struct modbus_rx *rx, uint32_t gap_ms, enum modbus_kind kind)
{
	memset(rx, 0, sizeof *rx);
	rx->b.gap_ms = gap_ms;
	rx->kind = (uint8_t)kind;
}

size_t rig_modbus_rx_feed(struct modbus_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	return rig_rxbuf_take(&rx->b, rx->buf, sizeof rx->buf, p, n, now_ms);
}

/* The offset of the first complete, valid frame after buf[0], or 0. Without it, noise whose
 * second byte reads as a long write (0x10 with a large byte count) would hold up the real
 * request behind it until the line went quiet. */
static uint16_t later_frame(const struct modbus_rx *rx)
{
	uint16_t at;

	for (at = 1; at + 4u <= rx->b.have; at++) {
		int need = rig_modbus_frame_len(rx->buf + at, (size_t)(rx->b.have - at), (enum modbus_kind)rx->kind);

		if (need > 0 && (unsigned)need <= (unsigned)(rx->b.have - at) &&
		    rig_modbus_frame_check(rx->buf + at, (size_t)need, (enum modbus_kind)rx->kind) == RIG_OK)
			return at;
	}
	return 0;
}

/* RTU has no start byte: any byte may begin a frame. Each position is tried in turn; its
 * function code gives the length, and only a matching CRC makes it a frame. A wrong guess
 * drops one byte, so a real frame that follows garbage without a pause is still found. */
rig_rc rig_modbus_rx_next(struct modbus_rx *rx, struct modbus_frame *f)
{
	for (;;) {
		int need = rig_modbus_frame_len(rx->buf, rx->b.have, (enum modbus_kind)rx->kind);

		if (need == 0)
			return RIG_MORE;
		if (need < 0 || need > (int)MODBUS_ADU_MAX) {
			rig_rxbuf_skip(&rx->b, rx->buf, 1);
			continue;
		}
		if (rx->b.have < (unsigned)need) {
			uint16_t at = later_frame(rx);

			if (!at)
				return RIG_MORE;
			/* The long frame the first bytes promised was noise: a whole one follows. */
			rig_rxbuf_reject(&rx->b, rx->buf);
			rig_rxbuf_skip(&rx->b, rx->buf, (uint16_t)(at - 1u));
			continue;
		}
		if (rig_modbus_frame_parse(rx->buf, (size_t)need, (enum modbus_kind)rx->kind, f) == RIG_OK) {
			rig_rxbuf_drop(&rx->b, rx->buf, (uint16_t)need);
			return RIG_OK;
		}
		rig_rxbuf_reject(&rx->b, rx->buf);
	}
}

void rig_modbus_exception(struct modbus_frame *f, uint8_t addr, uint8_t fc, uint8_t code)
{
	f->addr = addr;
	f->fc = (uint8_t)(fc | MODBUS_FC_EXCEPTION);
	f->len = 1;
	f->data[0] = code;
}

void rig_modbus_reg_count(struct modbus_frame *f, uint8_t addr, uint8_t fc, uint16_t reg, uint16_t count)
{
	f->addr = addr;
	f->fc = fc;
	f->len = 4;
	put_be16(f->data, reg);
	put_be16(f->data + 2, count);
}

rig_rc rig_modbus_reg_count_decode(const struct modbus_frame *f, uint8_t fc, uint16_t *reg, uint16_t *count)
{
	if (f->fc != fc)
		return RIG_ERR_UNSUPPORTED;
	if (f->len != 4)
		return RIG_ERR_LENGTH;
	*reg = get_be16(f->data);
	*count = get_be16(f->data + 2);
	return RIG_OK;
}
