/* JK-PB over RS485 (include/bmsrig/core/jk_pb.h, docs/protocols/jk-pb.md): the trigger writes,
 * byte-range reads and writes, and the master's assembler of records and Modbus replies. The
 * framing and CRC are modbus_rtu.c's, the records jk_ble_codec.c's. */
#include <string.h>

#include "bmsrig/core/jk_pb.h"
#include "intmath.h"

#define WRITE_REGS_MAX 123u          /* Modbus: the most registers one FC 0x10 may carry */
#define READ_REGS_MAX  125u

/* One table for both directions: trigger register <-> record type. */
static const struct { uint16_t reg; uint8_t type; } triggers[] = {
	{ JK_PB_TRIG_DEVICE, JK_BLE_REC_DEVICE },
	{ JK_PB_TRIG_SETTINGS, JK_BLE_REC_SETTINGS },
	{ JK_PB_TRIG_CELLS, JK_BLE_REC_CELLS },
};
#define N_TRIGGERS (sizeof triggers / sizeof triggers[0])

uint8_t rig_jk_pb_trigger_type(uint16_t reg)
{
	size_t i;

	for (i = 0; i < N_TRIGGERS; i++)
		if (triggers[i].reg == reg)
			return triggers[i].type;
	return 0;
}

uint16_t rig_jk_pb_trigger_reg(uint8_t rec_type)
{
	size_t i;

	for (i = 0; i < N_TRIGGERS; i++)
		if (triggers[i].type == rec_type)
			return triggers[i].reg;
	return 0;
}

static const struct { uint16_t base; uint8_t type; } blocks[] = {
	{ JK_PB_BASE_SETTINGS, JK_BLE_REC_SETTINGS },
	{ JK_PB_BASE_CELLS, JK_BLE_REC_CELLS },
	{ JK_PB_BASE_DEVICE, JK_BLE_REC_DEVICE },
};

uint8_t rig_jk_pb_reg_locate(uint16_t reg, uint16_t *offset)
{
	size_t i;

	for (i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
		if (reg >= blocks[i].base && reg < blocks[i].base + JK_PB_BLOCK_BYTES) {
			*offset = (uint16_t)(6u + reg - blocks[i].base);
			return blocks[i].type;
		}
	return 0;
}

/* ---- FC 0x10 ------------------------------------------------------------------------------- */

rig_rc rig_jk_pb_request_write(struct modbus_frame *f, uint8_t addr, uint16_t reg, const uint8_t *bytes, size_t n)
{
	if (n < 2 || n % 2u || n > 2u * WRITE_REGS_MAX)
		return RIG_ERR_LENGTH;
	f->addr = addr;
	f->fc = JK_PB_FC_WRITE;
	put_be16(f->data, reg);
	put_be16(f->data + 2, (uint16_t)(n / 2u));
	f->data[4] = (uint8_t)n;
	memcpy(f->data + 5, bytes, n);
	f->len = (uint8_t)(5u + n);
	return RIG_OK;
}

rig_rc rig_jk_pb_request_trigger(struct modbus_frame *f, uint8_t addr, uint8_t rec_type)
{
	static const uint8_t zero[2] = { 0, 0 };
	uint16_t reg = rig_jk_pb_trigger_reg(rec_type);

	if (!reg)
		return RIG_ERR_ARG;
	return rig_jk_pb_request_write(f, addr, reg, zero, sizeof zero);
}

rig_rc rig_jk_pb_write_decode(const struct modbus_frame *f, uint16_t *reg, uint16_t *count, const uint8_t **bytes)
{
	uint16_t n;

	if (f->fc != JK_PB_FC_WRITE)
		return RIG_ERR_UNSUPPORTED;
	if (f->len < 5)
		return RIG_ERR_LENGTH;
	n = get_be16(f->data + 2);
	if (n == 0 || n > WRITE_REGS_MAX || f->data[4] != 2u * n || f->len != 5u + 2u * n)
		return RIG_ERR_LENGTH;
	*reg = get_be16(f->data);
	*count = n;
	*bytes = f->data + 5;
	return RIG_OK;
}

void rig_jk_pb_write_echo(struct modbus_frame *f, uint8_t addr, uint16_t reg, uint16_t count)
{
	rig_modbus_reg_count(f, addr, JK_PB_FC_WRITE, reg, count);
}

rig_rc rig_jk_pb_echo_decode(const struct modbus_frame *f, uint16_t *reg, uint16_t *count)
{
	return rig_modbus_reg_count_decode(f, JK_PB_FC_WRITE, reg, count);
}

/* ---- FC 0x03 ------------------------------------------------------------------------------- */

void rig_jk_pb_request_read(struct modbus_frame *f, uint8_t addr, uint16_t reg, uint16_t count)
{
	rig_modbus_reg_count(f, addr, JK_PB_FC_READ, reg, count);
}

rig_rc rig_jk_pb_read_decode(const struct modbus_frame *f, uint16_t *reg, uint16_t *count)
{
	return rig_modbus_reg_count_decode(f, JK_PB_FC_READ, reg, count);
}

rig_rc rig_jk_pb_response_read(struct modbus_frame *f, uint8_t addr, const uint8_t *bytes, size_t n)
{
	if (n > 2u * READ_REGS_MAX)
		return RIG_ERR_LENGTH;
	f->addr = addr;
	f->fc = JK_PB_FC_READ;
	f->data[0] = (uint8_t)n;
	memcpy(f->data + 1, bytes, n);
	f->len = (uint8_t)(1u + n);
	return RIG_OK;
}

rig_rc rig_jk_pb_read_bytes(const struct modbus_frame *f, const uint8_t **bytes, size_t *n)
{
	if (f->fc != JK_PB_FC_READ)
		return RIG_ERR_UNSUPPORTED;
	if (f->len < 1 || f->data[0] + 1u != f->len)
		return RIG_ERR_LENGTH;
	*bytes = f->data + 1;
	*n = f->data[0];
	return RIG_OK;
}

/* ---- the assembler ----------------------------------------------------------------------------- */

void rig_jk_pb_rx_init(struct jk_pb_rx *rx, uint32_t gap_ms)
{
	memset(rx, 0, sizeof *rx);
	rx->b.gap_ms = gap_ms;
}

static void release(struct jk_pb_rx *rx)
{
	/* The owner may have cleared the buffer since (a client before its next request). */
	if (rx->out && rx->out <= rx->b.have)
		rig_rxbuf_drop(&rx->b, rx->buf, rx->out);
	rx->out = 0;
}

size_t rig_jk_pb_rx_feed(struct jk_pb_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	release(rx);
	return rig_rxbuf_take(&rx->b, rx->buf, sizeof rx->buf, p, n, now_ms);
}

/* The first offset after 0 where a whole record header sits or a complete, valid Modbus
 * response lies, or 0. Without it, junk that reads as the start of a long frame ("\n" then an
 * address byte read as function 0x02 with a byte count) would hold up the real reply behind it
 * until the line went quiet. */
static uint16_t later_item(const struct jk_pb_rx *rx)
{
	uint16_t at;

	for (at = 1; at + 4u <= rx->b.have; at++) {
		size_t left = (size_t)(rx->b.have - at);
		int need;

		if (rig_jk_ble_record_header_at(rx->buf + at, 4))
			return at;
		need = rig_modbus_frame_len(rx->buf + at, left, MODBUS_RESPONSE);
		if (need > 0 && (size_t)need <= left &&
		    rig_modbus_frame_check(rx->buf + at, (size_t)need, MODBUS_RESPONSE) == RIG_OK)
			return at;
	}
	return 0;
}

rig_rc rig_jk_pb_rx_next(struct jk_pb_rx *rx, struct jk_pb_item *it)
{
	release(rx);
	for (;;) {
		uint16_t have = rx->b.have;
		int need;

		if (!have)
			return RIG_MORE;
		if (rig_jk_ble_record_header_at(rx->buf, have)) {
			/* A record (or the start of its header): wait for all of it. */
			if (have < JK_BLE_RECORD_LEN)
				return RIG_MORE;
			if (rig_jk_ble_record_check(rx->buf, JK_BLE_RECORD_LEN) == RIG_OK) {
				it->kind = JK_PB_ITEM_RECORD;
				it->record = rx->buf;
				rx->out = JK_BLE_RECORD_LEN;
				return RIG_OK;
			}
			rig_rxbuf_reject(&rx->b, rx->buf);
			continue;
		}
		need = rig_modbus_frame_len(rx->buf, have, MODBUS_RESPONSE);
		if (need < 0 || need > (int)MODBUS_ADU_MAX) {
			rig_rxbuf_skip(&rx->b, rx->buf, 1);
			continue;
		}
		if (need == 0)
			return RIG_MORE;
		if (have < (unsigned)need) {
			uint16_t at = later_item(rx);

			if (!at)
				return RIG_MORE;
			rig_rxbuf_skip(&rx->b, rx->buf, at);
			continue;
		}
		if (rig_modbus_frame_parse(rx->buf, (size_t)need, MODBUS_RESPONSE, &it->frame) == RIG_OK) {
			it->kind = JK_PB_ITEM_MODBUS;
			it->record = NULL;
			rig_rxbuf_drop(&rx->b, rx->buf, (uint16_t)need);
			return RIG_OK;
		}
		rig_rxbuf_reject(&rx->b, rx->buf);
	}
}
