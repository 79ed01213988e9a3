/* BYD PRO 2.5 RS485 codec (include/bmsrig/core/byd.h; docs/protocols/byd.md). */
#include <string.h>

#include "bmsrig/core/byd.h"
#include "intmath.h"

uint8_t rig_byd_checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* The one command the protocol is known to have, either way. */
static int cmd_known(uint8_t cmd)
{
	return (cmd & (uint8_t)~BYD_CMD_REPLY_BIT) == BYD_CMD_READ;
}

/* The size field of a frame that fits: 4 (no payload) .. 4 + BYD_PAYLOAD_MAX. */
static int size_ok(uint16_t size)
{
	return size >= BYD_FRAME_OVERHEAD - 4u && size <= BYD_PAYLOAD_MAX + BYD_FRAME_OVERHEAD - 4u;
}

rig_rc rig_byd_frame_encode(const struct byd_frame *f, uint8_t *out, size_t cap, size_t *out_len)
{
	size_t n;
	uint16_t size;

	if (!f || !out || !out_len || f->len > BYD_PAYLOAD_MAX)
		return RIG_ERR_ARG;
	n = (size_t)f->len + BYD_FRAME_OVERHEAD;
	if (cap < n)
		return RIG_ERR_SPACE;
	size = (uint16_t)(n - 4u);
	out[0] = f->addr;
	out[1] = (uint8_t)(size >> 8);
	out[2] = (uint8_t)size;
	out[3] = BYD_VERSION;
	out[4] = f->cmd;
	out[5] = BYD_MARK0;
	out[6] = BYD_MARK1;
	memcpy(out + BYD_HEADER_LEN, f->payload, f->len);
	out[n - 1] = rig_byd_checksum(out + 1, n - 2);
	*out_len = n;
	return RIG_OK;
}

rig_rc rig_byd_frame_parse(const uint8_t *wire, size_t n, struct byd_frame *f)
{
	uint16_t size;

	if (!wire || !f)
		return RIG_ERR_ARG;
	if (n < BYD_FRAME_OVERHEAD || n > BYD_FRAME_MAX)
		return RIG_ERR_LENGTH;
	size = (uint16_t)(wire[1] << 8 | wire[2]);
	if ((size_t)size + 4u != n)
		return RIG_ERR_LENGTH;
	if (wire[3] != BYD_VERSION || wire[5] != BYD_MARK0 || wire[6] != BYD_MARK1 || !cmd_known(wire[4]))
		return RIG_ERR_FRAME;
	if (rig_byd_checksum(wire + 1, n - 2) != wire[n - 1])
		return RIG_ERR_CHECKSUM;
	f->addr = wire[0];
	f->cmd = wire[4];
	f->len = (uint8_t)(n - BYD_FRAME_OVERHEAD);
	memcpy(f->payload, wire + BYD_HEADER_LEN, f->len);
	return RIG_OK;
}

int rig_byd_frame_is_request(const struct byd_frame *f)
{
	return !(f->cmd & BYD_CMD_REPLY_BIT);
}

/* ---- receive ------------------------------------------------------------------------------ */

void rig_byd_rx_init(struct byd_rx *rx, uint32_t gap_ms)
{
	memset(rx, 0, sizeof *rx);
	rx->b.gap_ms = gap_ms;
}

size_t rig_byd_rx_feed(struct byd_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	return rig_rxbuf_take(&rx->b, rx->buf, sizeof rx->buf, p, n, now_ms);
}

/* 1 when the bytes held so far cannot begin a frame: each fixed byte is judged as soon as it is
 * in, so garbage costs one byte at a time and never waits for a length it announced. */
static int head_bad(const uint8_t *b, uint16_t have)
{
	if (have >= 3 && !size_ok((uint16_t)(b[1] << 8 | b[2])))
		return 1;
	if (have >= 4 && b[3] != BYD_VERSION)
		return 1;
	if (have >= 5 && !cmd_known(b[4]))
		return 1;
	if (have >= 6 && b[5] != BYD_MARK0)
		return 1;
	return have >= 7 && b[6] != BYD_MARK1;
}

/* Where a complete, valid frame starts after buf[0] (0: nowhere). */
static uint16_t complete_frame_after(const struct byd_rx *rx)
{
	struct byd_frame scratch;
	uint16_t at;

	for (at = 1; at + BYD_FRAME_OVERHEAD <= rx->b.have; at++) {
		const uint8_t *p = rx->buf + at;
		uint16_t n = (uint16_t)((p[1] << 8 | p[2]) + 4);

		if (!head_bad(p, (uint16_t)(rx->b.have - at)) && n <= rx->b.have - at &&
		    rig_byd_frame_parse(p, n, &scratch) == RIG_OK)
			return at;
	}
	return 0;
}

rig_rc rig_byd_rx_next(struct byd_rx *rx, struct byd_frame *f)
{
	for (;;) {
		uint16_t n;

		if (rx->b.have == 0)
			return RIG_MORE;
		if (!head_bad(rx->buf, rx->b.have)) {
			if (rx->b.have < 3)
				return RIG_MORE;
			n = (uint16_t)((rx->buf[1] << 8 | rx->buf[2]) + 4);
			if (rx->b.have < n) {
				/* Noise that reads as a long header must not hold back a whole frame
				 * behind it: the reply may be the last thing on the line. */
				uint16_t at = complete_frame_after(rx);

				if (at == 0)
					return RIG_MORE;
				rig_rxbuf_skip(&rx->b, rx->buf, at);
				rx->b.rejected_frames++;
				continue;
			}
			if (rig_byd_frame_parse(rx->buf, n, f) == RIG_OK) {
				rig_rxbuf_drop(&rx->b, rx->buf, n);
				return RIG_OK;
			}
		}
		/* Not a frame: its first byte was noise or data. Drop it, look again. */
		rig_rxbuf_reject(&rx->b, rx->buf);
	}
}

/* ---- frames ------------------------------------------------------------------------------- */

void rig_byd_request_read(struct byd_frame *f, uint8_t addr)
{
	memset(f, 0, sizeof *f);
	f->addr = addr;
	f->cmd = BYD_CMD_READ;
}

/* Record offsets (after the result byte). */
enum {
	OFS_PACK = 0, OFS_BATTERY = 4, OFS_CELLS = 8, OFS_CURRENT = 40, OFS_TEMPS = 44,
	OFS_OTHERS = 60, OFS_ALARM = 64, OFS_PROTECT = 68, OFS_FAIL = 72, OFS_BALANCE = 76,
	OFS_STATE = 80, OFS_SOC = 82, OFS_SOH = 84, OFS_DSG_COUNT = 88, OFS_DSG_TOTAL = 92
};
typedef char byd_record_layout_is_96_bytes[OFS_DSG_TOTAL + 4 == BYD_RECORD_LEN ? 1 : -1];

rig_rc rig_byd_data_decode(const struct byd_frame *f, struct byd_data *d)
{
	const uint8_t *r = f->payload + 1;
	unsigned i;

	if (f->cmd != (BYD_CMD_READ | BYD_CMD_REPLY_BIT))
		return RIG_ERR_UNSUPPORTED;
	if (f->len >= 1 && f->payload[0] != 0)
		return RIG_ERR_STATUS;
	if (f->len != 1u + BYD_RECORD_LEN)
		return RIG_ERR_LENGTH;
	d->pack_mV = (int32_t)get_le32(r + OFS_PACK);
	d->battery_mV = (int32_t)get_le32(r + OFS_BATTERY);
	for (i = 0; i < BYD_CELLS; i++)
		d->cell_mV[i] = (int16_t)get_le16(r + OFS_CELLS + 2 * i);
	d->current_mA = (int32_t)get_le32(r + OFS_CURRENT);
	for (i = 0; i < BYD_TEMPS; i++)
		d->temp_C[i] = (int16_t)get_le16(r + OFS_TEMPS + 2 * i);
	d->others = get_le32(r + OFS_OTHERS);
	d->alarm = get_le32(r + OFS_ALARM);
	d->protect = get_le32(r + OFS_PROTECT);
	d->fail = get_le32(r + OFS_FAIL);
	d->balance = get_le32(r + OFS_BALANCE);
	d->battery_state = get_le16(r + OFS_STATE);
	d->soc_pct = get_le16(r + OFS_SOC);
	d->soh_pct = get_le32(r + OFS_SOH);
	d->discharge_count = get_le32(r + OFS_DSG_COUNT);
	d->total_discharge = get_le32(r + OFS_DSG_TOTAL);
	return RIG_OK;
}

/* ---- the neutral view --------------------------------------------------------------------- */

/* Neutral protection bit <-> the protect word's bits for it (the first is what a BMS sets). */
static const struct { uint32_t prot, state; } prot_map[] = {
	{ PACK_PROT_CELL_OV, BYD_ST_CELL_V_HIGH },
	{ PACK_PROT_CELL_UV, BYD_ST_CELL_V_LOW },
	{ PACK_PROT_PACK_OV, BYD_ST_PACK_V_HIGH | BYD_ST_MODULE_V_HIGH },
	{ PACK_PROT_PACK_UV, BYD_ST_PACK_V_LOW | BYD_ST_MODULE_V_LOW },
	{ PACK_PROT_CHG_OT, BYD_ST_CHG_T_HIGH },
	{ PACK_PROT_CHG_UT, BYD_ST_CHG_T_LOW },
	{ PACK_PROT_DSG_OT, BYD_ST_DSG_T_HIGH },
	{ PACK_PROT_DSG_UT, BYD_ST_DSG_T_LOW },
	{ PACK_PROT_CHG_OC, BYD_ST_CHG_I_HIGH },
	{ PACK_PROT_DSG_OC, BYD_ST_DSG_I_HIGH },
	{ PACK_PROT_SHORT, BYD_ST_DSG_SHORT | BYD_ST_CHG_SHORT },
};
#define PROT_MAP_N (sizeof prot_map / sizeof prot_map[0])

uint32_t rig_byd_prot_from_state(uint32_t protect, uint32_t fail)
{
	uint32_t p = 0;
	unsigned i;

	for (i = 0; i < PROT_MAP_N; i++)
		if (protect & prot_map[i].state)
			p |= prot_map[i].prot;
	/* A sensor the BMS cannot read is the acquisition front end failing. */
	if (fail & (BYD_FAIL_VOLT_SENSOR | BYD_FAIL_TEMP_SENSOR))
		p |= PACK_PROT_AFE;
	return p;
}

/* Protections that stop charging, and those that stop discharging: the record has no FET
 * states, so the client infers them from what the BMS says it protects against. */
#define CHG_STOPS (BYD_ST_PACK_V_HIGH | BYD_ST_MODULE_V_HIGH | BYD_ST_CELL_V_HIGH | BYD_ST_CHG_I_HIGH | \
                   BYD_ST_CHG_T_HIGH | BYD_ST_CHG_T_LOW | BYD_ST_CHG_SHORT)
#define DSG_STOPS (BYD_ST_PACK_V_LOW | BYD_ST_MODULE_V_LOW | BYD_ST_CELL_V_LOW | BYD_ST_DSG_I_HIGH | \
                   BYD_ST_DSG_T_HIGH | BYD_ST_DSG_T_LOW | BYD_ST_DSG_SHORT)

rig_rc rig_byd_to_pack_state(const struct byd_data *d, struct pack_state *out)
{
	struct pack_state s;
	unsigned i, cells = 0;

	if (d->pack_mV < 0 || d->soc_pct > 100u)
		return RIG_ERR_ARG;
	for (i = 0; i < BYD_CELLS; i++) {
		if (d->cell_mV[i] < 0)
			return RIG_ERR_ARG;
		if (d->cell_mV[i] > 0)
			cells = i + 1;
	}
	for (i = 0; i < BYD_TEMPS; i++)
		if (d->temp_C[i] < -273 || d->temp_C[i] > 6280)   /* 6280 degC: the top of 16 bits of dK */
			return RIG_ERR_ARG;
	memset(&s, 0, sizeof s);
	s.pack_mV = (uint32_t)d->pack_mV;
	s.current_mA = d->current_mA;
	s.soc_pct = (uint8_t)d->soc_pct;
	s.cell_count = (uint8_t)cells;
	for (i = 0; i < cells; i++)
		s.cell_mV[i] = (uint16_t)d->cell_mV[i];
	s.temp_count = BYD_TEMPS;
	for (i = 0; i < BYD_TEMPS; i++)
		s.temp_dK[i] = (uint16_t)((int32_t)d->temp_C[i] * 10 + (int32_t)PACK_DK_ZERO_C);
	s.fet_chg = (d->protect & CHG_STOPS) == 0 && (d->fail & BYD_FAIL_CHG_FET) == 0;
	s.fet_dsg = (d->protect & DSG_STOPS) == 0 && (d->fail & BYD_FAIL_DSG_FET) == 0;
	s.prot = rig_byd_prot_from_state(d->protect, d->fail);
	s.bal_mask = d->balance;
	s.cycles = d->discharge_count > 0xFFFFu ? 0xFFFFu : (uint16_t)d->discharge_count;
	s.updated_ms = out->updated_ms;
	*out = s;
	return RIG_OK;
}

/* ---- what a firmware never builds ---------------------------------------------------------
 * A BMS's replies (the emulator's personalities build them with these) and the host tools'
 * writes. A monitor only asks and reads, so a target build (-DRIG_FIRMWARE: make lx106, the
 * board ports) leaves them out (docs/nodemcu.md). */
#ifndef RIG_FIRMWARE

void rig_byd_response_data(struct byd_frame *f, uint8_t addr, const struct byd_data *d)
{
	uint8_t *r;
	unsigned i;

	memset(f, 0, sizeof *f);
	f->addr = addr;
	f->cmd = BYD_CMD_READ | BYD_CMD_REPLY_BIT;
	f->len = 1u + BYD_RECORD_LEN;
	f->payload[0] = 0;
	r = f->payload + 1;
	put_le32(r + OFS_PACK, (uint32_t)d->pack_mV);
	put_le32(r + OFS_BATTERY, (uint32_t)d->battery_mV);
	for (i = 0; i < BYD_CELLS; i++)
		put_le16(r + OFS_CELLS + 2 * i, (uint16_t)d->cell_mV[i]);
	put_le32(r + OFS_CURRENT, (uint32_t)d->current_mA);
	for (i = 0; i < BYD_TEMPS; i++)
		put_le16(r + OFS_TEMPS + 2 * i, (uint16_t)d->temp_C[i]);
	put_le32(r + OFS_OTHERS, d->others);
	put_le32(r + OFS_ALARM, d->alarm);
	put_le32(r + OFS_PROTECT, d->protect);
	put_le32(r + OFS_FAIL, d->fail);
	put_le32(r + OFS_BALANCE, d->balance);
	put_le16(r + OFS_STATE, d->battery_state);
	put_le16(r + OFS_SOC, d->soc_pct);
	put_le32(r + OFS_SOH, d->soh_pct);
	put_le32(r + OFS_DSG_COUNT, d->discharge_count);
	put_le32(r + OFS_DSG_TOTAL, d->total_discharge);
}

void rig_byd_response_error(struct byd_frame *f, uint8_t addr, uint8_t result)
{
	memset(f, 0, sizeof *f);
	f->addr = addr;
	f->cmd = BYD_CMD_READ | BYD_CMD_REPLY_BIT;
	f->len = 1;
	f->payload[0] = result;
}

/* The lowest bit of a mask: the one state bit an emulated BMS sets for a neutral bit. */
static uint32_t low_bit(uint32_t m)
{
	return m & (0u - m);
}

uint32_t rig_byd_state_from_prot(uint32_t prot)
{
	uint32_t s = 0;
	unsigned i;

	for (i = 0; i < PROT_MAP_N; i++)
		if (prot & prot_map[i].prot)
			s |= low_bit(prot_map[i].state);
	return s;
}

#endif /* RIG_FIRMWARE */
