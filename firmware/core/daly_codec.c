/* Daly 0xA5 codec: framing, the receive assembler and the typed payloads (docs/protocols/daly.md). */
#include <stddef.h>
#include <string.h>

#include "bmsrig/core/daly.h"
#include "bmsrig/core/pack_state.h"
#include "intmath.h"

uint8_t rig_daly_checksum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* ---- framing --------------------------------------------------------------------------- */

rig_rc rig_daly_frame_encode(const struct daly_frame *f, uint8_t *out, size_t cap, size_t *out_len)
{
	if (cap < DALY_FRAME_LEN)
		return RIG_ERR_SPACE;
	out[0] = DALY_START;
	out[1] = f->addr;
	out[2] = f->cmd;
	out[3] = DALY_DATA_LEN;
	memcpy(out + 4, f->data, DALY_DATA_LEN);
	out[12] = rig_daly_checksum(out, 12);
	*out_len = DALY_FRAME_LEN;
	return RIG_OK;
}

rig_rc rig_daly_frame_parse(const uint8_t *w, size_t n, struct daly_frame *f)
{
	if (n != DALY_FRAME_LEN)
		return RIG_ERR_LENGTH;
	if (w[0] != DALY_START)
		return RIG_ERR_FRAME;
	/* Every id has 8 data bytes in both directions (docs/protocols/daly.md §2.1). */
	if (w[3] != DALY_DATA_LEN)
		return RIG_ERR_LENGTH;
	if (w[12] != rig_daly_checksum(w, 12))
		return RIG_ERR_CHECKSUM;
	f->addr = w[1];
	f->cmd = w[2];
	memcpy(f->data, w + 4, DALY_DATA_LEN);
	return RIG_OK;
}

int rig_daly_addr_is_host(uint8_t addr)
{
	return addr >= DALY_HOST_MIN;
}

int rig_daly_frame_is_request(const struct daly_frame *f)
{
	return rig_daly_addr_is_host(f->addr);
}

uint8_t rig_daly_host_for_board(uint8_t board)
{
	return board >= 1u && board <= DALY_BOARDS_MAX ? (uint8_t)(DALY_HOST_UART - 1u + board) : 0u;
}

void rig_daly_frame_raw(struct daly_frame *f, uint8_t addr, uint8_t cmd, const uint8_t data[DALY_DATA_LEN])
{
	f->addr = addr;
	f->cmd = cmd;
	memcpy(f->data, data, DALY_DATA_LEN);
}

/* ---- receive assembler ----------------------------------------------------------------- */

void rig_daly_rx_init(struct daly_rx *rx, uint32_t gap_ms)
{
	memset(rx, 0, sizeof *rx);
	rx->b.gap_ms = gap_ms;
}

size_t rig_daly_rx_feed(struct daly_rx *rx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	return rig_rxbuf_take(&rx->b, rx->buf, sizeof rx->buf, p, n, now_ms);
}

rig_rc rig_daly_rx_next(struct daly_rx *rx, struct daly_frame *f)
{
	for (;;) {
		uint16_t start = 0;
		int bad_len;

		while (start < rx->b.have && rx->buf[start] != DALY_START)
			start++;
		rig_rxbuf_skip(&rx->b, rx->buf, start);
		/* A wrong length byte condemns the A5 at once, without waiting for 13 bytes. */
		bad_len = rx->b.have >= 4 && rx->buf[3] != DALY_DATA_LEN;
		if (!bad_len && rx->b.have < DALY_FRAME_LEN)
			return RIG_MORE;
		if (!bad_len && rig_daly_frame_parse(rx->buf, DALY_FRAME_LEN, f) == RIG_OK) {
			rig_rxbuf_drop(&rx->b, rx->buf, DALY_FRAME_LEN);
			return RIG_OK;
		}
		/* Not a frame after all: the A5 was data or noise. Drop one byte, hunt again (§2.5). */
		rig_rxbuf_reject(&rx->b, rx->buf);
	}
}

/* ---- shared helpers -------------------------------------------------------------------- */

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A decoder may only look at a reply of its own id. */
static rig_rc want_reply(const struct daly_frame *f, uint8_t cmd)
{
	return !rig_daly_addr_is_host(f->addr) && f->cmd == cmd ? RIG_OK : RIG_ERR_ARG;
}

static void head(struct daly_frame *f, uint8_t addr, uint8_t cmd)
{
	f->addr = addr;
	f->cmd = cmd;
	memset(f->data, 0, DALY_DATA_LEN);
}

int32_t rig_daly_current_from_raw(uint16_t raw)
{
	return ((int32_t)raw - (int32_t)DALY_CURRENT_OFFSET) * 100;
}

uint16_t rig_daly_temp_from_raw(uint8_t raw)
{
	return (uint16_t)(DALY_TEMP_OFFSET_DK + 10u * raw);
}

/* ---- requests -------------------------------------------------------------------------- */

void rig_daly_request_read(struct daly_frame *f, uint8_t host, uint8_t cmd, uint8_t fill)
{
	f->addr = host;
	f->cmd = cmd;
	memset(f->data, fill, DALY_DATA_LEN);
}

rig_rc rig_daly_request_fill(const struct daly_frame *f, uint8_t *fill)
{
	unsigned i;

	if (!rig_daly_frame_is_request(f))
		return RIG_ERR_ARG;
	for (i = 1; i < DALY_DATA_LEN; i++)
		if (f->data[i] != f->data[0])
			return RIG_ERR_UNSUPPORTED;
	*fill = f->data[0];
	return RIG_OK;
}

int rig_daly_cmd_is_fet(uint8_t cmd)
{
	return cmd == DALY_CMD_DSG_FET || cmd == DALY_CMD_CHG_FET;
}

rig_rc rig_daly_flag_decode(const struct daly_frame *f, struct daly_flag *v)
{
	/* Both directions: the switch request and its echo; and the 0x21 reply. */
	if (!rig_daly_cmd_is_fet(f->cmd) && !(f->cmd == DALY_CMD_SOC_SET && !rig_daly_frame_is_request(f)))
		return RIG_ERR_ARG;
	v->value = f->data[0];
	memcpy(v->reserved, f->data + 1, sizeof v->reserved);
	return RIG_OK;
}

void rig_daly_request_fet(struct daly_frame *f, uint8_t host, uint8_t cmd, uint8_t on)
{
	head(f, host, cmd);
	f->data[0] = on ? 1u : 0u;
}

rig_rc rig_daly_soc_set_decode(const struct daly_frame *f, struct daly_soc_set *s)
{
	const uint8_t *d = f->data;

	if (!rig_daly_frame_is_request(f) || f->cmd != DALY_CMD_SOC_SET)
		return RIG_ERR_ARG;
	s->year = (uint16_t)(2000u + d[0]);
	s->month = d[1];
	s->day = d[2];
	s->hour = d[3];
	s->minute = d[4];
	s->second = d[5];
	s->soc_permille = get_be16(d + 6);
	return RIG_OK;
}

/* ---- the fixed 8-byte answers, as tables ----------------------------------------------
 * Most ids are a handful of fields at fixed places in the 8 data bytes. One table row per id
 * says where each field sits, how the wire codes it and where it lands in the decoded struct;
 * one decoder and one encoder walk the rows, instead of a hand-written pair per id. */

enum field_kind {
	F_U8,          /* u8 <-> uint8_t */
	F_BE16,        /* u16 <-> uint16_t */
	F_BE32,        /* u32 <-> uint32_t */
	F_BYTES,       /* len bytes as they are */
	F_DV,          /* u16 in 0.1 V <-> uint32_t mV */
	F_CURRENT,     /* u16 (raw - 30000) x 0.1 A <-> int32_t mA */
	F_TEMP         /* u8 degC + 40 <-> uint16_t dK */
};

/* Two bytes a field, as the table is flash the firmware carries: the wire offset (high nibble)
 * and enum field_kind (low), and the offset in the struct. Fields are in wire order, so an
 * F_BYTES field runs to the next field or the end of the 8 bytes. */
struct field {
	uint8_t at_kind, off;
};

#define FIELDS_MAX 7u
struct layout {
	uint8_t cmd, n;
	struct field f[FIELDS_MAX];
};

#define FLD(at, kind, type, member) { (uint8_t)((at) << 4 | (kind)), (uint8_t)offsetof(type, member) }
#define AT(x)   ((unsigned)(x)->at_kind >> 4)
#define KIND(x) ((x)->at_kind & 15u)

/* F_BYTES' length: to the next field, or to the end of the data. */
static unsigned bytes_len(const struct layout *l, unsigned i)
{
	return (i + 1u < l->n ? AT(&l->f[i + 1u]) : DALY_DATA_LEN) - AT(&l->f[i]);
}

/* Two tables: the firmware polls 0x90-0x94 only, so the settings' rows (read by bmsdecode and
 * served by the emulator) sit in their own, which the firmware's link leaves out. */
enum { L_PACK, L_CELL_RANGE, L_TEMP_RANGE, L_MOS, L_STATUS };
enum { L_RATED, L_LAYOUT, L_TOTALS, L_CELL_LIMITS, L_PACK_LIMITS, L_CURRENT_LIMITS, L_BALANCE_CFG };

static const struct layout live[] = {
	[L_PACK] = { DALY_CMD_PACK, 4, {
		/* In 32 bits: raw above 32767 is a real +276.8 A and more, not a negative (§3.1). */
		FLD(0, F_DV, struct daly_pack, pack_mV), FLD(2, F_DV, struct daly_pack, gather_mV),
		FLD(4, F_CURRENT, struct daly_pack, current_mA), FLD(6, F_BE16, struct daly_pack, soc_permille) } },
	[L_CELL_RANGE] = { DALY_CMD_CELL_RANGE, 5, {
		FLD(0, F_BE16, struct daly_cell_range, max_cell_mV), FLD(2, F_U8, struct daly_cell_range, max_cell_index),
		FLD(3, F_BE16, struct daly_cell_range, min_cell_mV), FLD(5, F_U8, struct daly_cell_range, min_cell_index),
		FLD(6, F_BYTES, struct daly_cell_range, reserved) } },
	[L_TEMP_RANGE] = { DALY_CMD_TEMP_RANGE, 5, {
		FLD(0, F_TEMP, struct daly_temp_range, max_temp_dK), FLD(1, F_U8, struct daly_temp_range, max_temp_index),
		FLD(2, F_TEMP, struct daly_temp_range, min_temp_dK), FLD(3, F_U8, struct daly_temp_range, min_temp_index),
		FLD(4, F_BYTES, struct daly_temp_range, reserved) } },
	[L_MOS] = { DALY_CMD_MOS, 5, {
		FLD(0, F_U8, struct daly_mos, state), FLD(1, F_U8, struct daly_mos, chg_fet),
		FLD(2, F_U8, struct daly_mos, dsg_fet), FLD(3, F_U8, struct daly_mos, life),
		FLD(4, F_BE32, struct daly_mos, remain_mAh) } },
	[L_STATUS] = { DALY_CMD_STATUS, 7, {
		FLD(0, F_U8, struct daly_status, cell_count), FLD(1, F_U8, struct daly_status, ntc_count),
		FLD(2, F_U8, struct daly_status, charger), FLD(3, F_U8, struct daly_status, load),
		FLD(4, F_U8, struct daly_status, dio), FLD(5, F_BE16, struct daly_status, cycles),
		FLD(7, F_U8, struct daly_status, reserved) } },
};

static const struct layout settings[] = {
	[L_RATED] = { DALY_CMD_RATED, 2, {
		FLD(0, F_BE32, struct daly_rated, rated_mAh), FLD(4, F_BE32, struct daly_rated, nominal_cell_mV) } },
	[L_LAYOUT] = { DALY_CMD_LAYOUT, 4, {
		FLD(0, F_U8, struct daly_layout, boards), FLD(1, F_BYTES, struct daly_layout, cells),
		FLD(4, F_BYTES, struct daly_layout, ntc), FLD(7, F_U8, struct daly_layout, reserved) } },
	[L_TOTALS] = { DALY_CMD_TOTALS, 2, {
		FLD(0, F_BE32, struct daly_totals, charge_Ah), FLD(4, F_BE32, struct daly_totals, discharge_Ah) } },
	[L_CELL_LIMITS] = { DALY_CMD_CELL_LIMITS, 4, {
		FLD(0, F_BE16, struct daly_cell_limits, high_l1_mV), FLD(2, F_BE16, struct daly_cell_limits, high_l2_mV),
		FLD(4, F_BE16, struct daly_cell_limits, low_l1_mV), FLD(6, F_BE16, struct daly_cell_limits, low_l2_mV) } },
	[L_PACK_LIMITS] = { DALY_CMD_PACK_LIMITS, 4, {
		FLD(0, F_DV, struct daly_pack_limits, high_l1_mV), FLD(2, F_DV, struct daly_pack_limits, high_l2_mV),
		FLD(4, F_DV, struct daly_pack_limits, low_l1_mV), FLD(6, F_DV, struct daly_pack_limits, low_l2_mV) } },
	[L_CURRENT_LIMITS] = { DALY_CMD_CURRENT_LIMITS, 4, {
		FLD(0, F_CURRENT, struct daly_current_limits, dsg_l1_mA), FLD(2, F_CURRENT, struct daly_current_limits, dsg_l2_mA),
		FLD(4, F_CURRENT, struct daly_current_limits, chg_l1_mA), FLD(6, F_CURRENT, struct daly_current_limits, chg_l2_mA) } },
	[L_BALANCE_CFG] = { DALY_CMD_BALANCE_CFG, 3, {
		FLD(0, F_BE16, struct daly_balance_cfg, start_mV), FLD(2, F_BE16, struct daly_balance_cfg, delta_mV),
		FLD(4, F_BYTES, struct daly_balance_cfg, reserved) } },
};

/* A reply of the row's id into the struct at out. */
static rig_rc fields_decode(const struct daly_frame *f, const struct layout *l, void *out)
{
	uint8_t *o = out;
	unsigned i;
	rig_rc rc = want_reply(f, l->cmd);

	if (rc != RIG_OK)
		return rc;
	for (i = 0; i < l->n; i++) {
		const struct field *x = &l->f[i];
		const uint8_t *w = f->data + AT(x);
		uint32_t u32;
		int32_t i32;
		uint16_t u16;

		switch (KIND(x)) {
		case F_U8:      o[x->off] = w[0]; continue;
		case F_BYTES:   memcpy(o + x->off, w, bytes_len(l, i)); continue;
		case F_BE16:    u16 = get_be16(w); memcpy(o + x->off, &u16, sizeof u16); continue;
		case F_TEMP:    u16 = rig_daly_temp_from_raw(w[0]); memcpy(o + x->off, &u16, sizeof u16); continue;
		case F_BE32:    u32 = get_be32(w); break;
		case F_DV:      u32 = 100u * get_be16(w); break;
		default:        /* F_CURRENT */
			i32 = rig_daly_current_from_raw(get_be16(w));
			memcpy(o + x->off, &i32, sizeof i32);
			continue;
		}
		memcpy(o + x->off, &u32, sizeof u32);
	}
	return RIG_OK;
}

/* ---- 0x90 pack ------------------------------------------------------------------------- */

rig_rc rig_daly_pack_decode(const struct daly_frame *f, struct daly_pack *p)
{
	return fields_decode(f, &live[L_PACK], p);
}

/* ---- 0x91 / 0x92 extremes -------------------------------------------------------------- */

rig_rc rig_daly_cell_range_decode(const struct daly_frame *f, struct daly_cell_range *r)
{
	return fields_decode(f, &live[L_CELL_RANGE], r);
}

rig_rc rig_daly_temp_range_decode(const struct daly_frame *f, struct daly_temp_range *r)
{
	return fields_decode(f, &live[L_TEMP_RANGE], r);
}

/* ---- 0x93 / 0x94 ----------------------------------------------------------------------- */

rig_rc rig_daly_mos_decode(const struct daly_frame *f, struct daly_mos *m)
{
	return fields_decode(f, &live[L_MOS], m);
}

rig_rc rig_daly_status_decode(const struct daly_frame *f, struct daly_status *s)
{
	return fields_decode(f, &live[L_STATUS], s);
}

/* ---- 0x95 / 0x96 multi-frame answers --------------------------------------------------- */

rig_rc rig_daly_cell_frame_decode(const struct daly_frame *f, struct daly_cell_frame *c)
{
	const uint8_t *d = f->data;
	rig_rc rc = want_reply(f, DALY_CMD_CELLS);
	unsigned i;

	if (rc != RIG_OK)
		return rc;
	c->frame_no = d[0];
	for (i = 0; i < DALY_CELLS_PER_FRAME; i++)
		c->cell_mV[i] = get_be16(d + 1 + 2 * i);
	c->reserved = d[7];
	return RIG_OK;
}

rig_rc rig_daly_temp_frame_decode(const struct daly_frame *f, struct daly_temp_frame *t)
{
	rig_rc rc = want_reply(f, DALY_CMD_TEMPS);
	unsigned i;

	if (rc != RIG_OK)
		return rc;
	t->frame_no = f->data[0];
	for (i = 0; i < DALY_TEMPS_PER_FRAME; i++)
		t->temp_dK[i] = rig_daly_temp_from_raw(f->data[1 + i]);
	return RIG_OK;
}

/* ceil(n / per) by counting: the lx106 has no divider. */
static uint8_t frames_for(unsigned n, unsigned per)
{
	uint8_t k = 0;
	unsigned covered = 0;

	while (covered < n && k < 0xFFu) {
		covered += per;
		k++;
	}
	return k;
}

uint8_t rig_daly_cell_frames_for(unsigned cells)
{
	return frames_for(cells, DALY_CELLS_PER_FRAME);
}

uint8_t rig_daly_temp_frames_for(unsigned ntc)
{
	return frames_for(ntc, DALY_TEMPS_PER_FRAME);
}

/* ---- 0x97 / 0x98 ----------------------------------------------------------------------- */

rig_rc rig_daly_balance_decode(const struct daly_frame *f, struct daly_balance *b)
{
	const uint8_t *d = f->data;
	rig_rc rc = want_reply(f, DALY_CMD_BALANCE);

	if (rc != RIG_OK)
		return rc;
	/* d0 bit 0 = cell 1, so the bytes assemble little-endian (§3.8). */
	b->bal_lo = (uint32_t)d[3] << 24 | (uint32_t)d[2] << 16 | (uint32_t)d[1] << 8 | d[0];
	b->bal_hi = (uint16_t)(d[5] << 8 | d[4]);
	memcpy(b->reserved, d + 6, 2);
	return RIG_OK;
}

rig_rc rig_daly_faults_decode(const struct daly_frame *f, struct daly_faults *x)
{
	rig_rc rc = want_reply(f, DALY_CMD_FAULTS);

	if (rc != RIG_OK)
		return rc;
	memcpy(x->bits, f->data, DALY_FAULT_BYTES);
	x->fault_code = f->data[7];
	return RIG_OK;
}

/*
 * 0x98 bits that are protections, as neutral bits (docs/protocols/daly.md §3.9). The first row of a neutral
 * bit is what the emulator sets; later rows only widen what a client recognises. SW_LOCK is
 * d6 bit 4, "a MOSFET was opened by command" on a 2026 board: the same state JBD reports as
 * its software lock.
 */
struct fault_row {
	uint8_t byte, bit;
	uint8_t has_level1;            /* bit - 1 is the same quantity's level-1 alarm */
	uint16_t prot;
};
static const struct fault_row fault_rows[] = {
	{ 0, 1, 1, PACK_PROT_CELL_OV }, { 0, 3, 1, PACK_PROT_CELL_UV },
	{ 0, 5, 1, PACK_PROT_PACK_OV }, { 0, 7, 1, PACK_PROT_PACK_UV },
	{ 1, 1, 1, PACK_PROT_CHG_OT },  { 1, 3, 1, PACK_PROT_CHG_UT },
	{ 1, 5, 1, PACK_PROT_DSG_OT },  { 1, 7, 1, PACK_PROT_DSG_UT },
	{ 2, 1, 1, PACK_PROT_CHG_OC },  { 2, 3, 1, PACK_PROT_DSG_OC },
	{ 6, 2, 0, PACK_PROT_SHORT },   { 5, 0, 0, PACK_PROT_AFE },
	{ 6, 4, 0, PACK_PROT_SW_LOCK },
	{ 5, 1, 0, PACK_PROT_AFE },     /* cell voltage acquisition dropped out */
};
#define FAULT_ROWS (sizeof fault_rows / sizeof fault_rows[0])

uint32_t rig_daly_faults_to_pack_prot(const struct daly_faults *x)
{
	uint32_t prot = 0;
	unsigned i;

	for (i = 0; i < FAULT_ROWS; i++)
		if (x->bits[fault_rows[i].byte] & (1u << fault_rows[i].bit))
			prot |= fault_rows[i].prot;
	return prot;
}

rig_rc rig_daly_raw_decode(const struct daly_frame *f, struct daly_raw *r)
{
	memcpy(r->data, f->data, DALY_DATA_LEN);
	return RIG_OK;
}

/* ---- 0x50-0x5F settings ---------------------------------------------------------------- */

rig_rc rig_daly_rated_decode(const struct daly_frame *f, struct daly_rated *r)
{
	return fields_decode(f, &settings[L_RATED], r);
}

rig_rc rig_daly_layout_decode(const struct daly_frame *f, struct daly_layout *l)
{
	return fields_decode(f, &settings[L_LAYOUT], l);
}

rig_rc rig_daly_totals_decode(const struct daly_frame *f, struct daly_totals *t)
{
	return fields_decode(f, &settings[L_TOTALS], t);
}

rig_rc rig_daly_info_decode(const struct daly_frame *f, struct daly_info *i)
{
	const uint8_t *d = f->data;
	rig_rc rc = want_reply(f, DALY_CMD_INFO);

	if (rc != RIG_OK)
		return rc;
	i->battery_type = d[0];
	i->unknown1 = d[1];
	i->year = (uint16_t)(2000u + d[2]);
	i->month = d[3];
	i->day = d[4];
	i->sleep_s = get_be16(d + 5);
	i->reserved = d[7];
	return RIG_OK;
}

rig_rc rig_daly_text8_decode(const struct daly_frame *f, struct daly_text8 *t)
{
	rig_rc rc = want_reply(f, DALY_CMD_FIRMWARE);

	if (rc != RIG_OK)
		return rc;
	memcpy(t->text, f->data, DALY_DATA_LEN);
	return RIG_OK;
}

rig_rc rig_daly_code_frame_decode(const struct daly_frame *f, struct daly_code_frame *c)
{
	rig_rc rc = want_reply(f, DALY_CMD_CODE);

	if (rc != RIG_OK)
		return rc;
	c->frame_no = f->data[0];
	memcpy(c->text, f->data + 1, DALY_CODE_PER_FRAME);
	return RIG_OK;
}

rig_rc rig_daly_cell_limits_decode(const struct daly_frame *f, struct daly_cell_limits *l)
{
	return fields_decode(f, &settings[L_CELL_LIMITS], l);
}

rig_rc rig_daly_pack_limits_decode(const struct daly_frame *f, struct daly_pack_limits *l)
{
	return fields_decode(f, &settings[L_PACK_LIMITS], l);
}

rig_rc rig_daly_current_limits_decode(const struct daly_frame *f, struct daly_current_limits *l)
{
	return fields_decode(f, &settings[L_CURRENT_LIMITS], l);
}

rig_rc rig_daly_balance_cfg_decode(const struct daly_frame *f, struct daly_balance_cfg *b)
{
	return fields_decode(f, &settings[L_BALANCE_CFG], b);
}

/* ---- the neutral view -------------------------------------------------------------------- */

int rig_daly_current_sign_fix(int32_t *current_mA, uint8_t state)
{
	if ((state == DALY_STATE_DISCHARGING && *current_mA > 0) ||
	    (state == DALY_STATE_CHARGING && *current_mA < 0)) {
		*current_mA = -*current_mA;
		return 1;
	}
	return 0;
}

void rig_daly_to_pack_state(const struct daly_poll *p, struct pack_state *s)
{
	unsigned cells = p->status.cell_count < PACK_CELLS_MAX ? p->status.cell_count : PACK_CELLS_MAX;
	unsigned ntc = p->status.ntc_count < PACK_TEMPS_MAX ? p->status.ntc_count : PACK_TEMPS_MAX;
	uint32_t soc = u32_div10_round(p->pack.soc_permille);

	s->pack_mV = p->pack.pack_mV;
	s->current_mA = p->pack.current_mA;
	s->soc_pct = (uint8_t)(soc > 100u ? 100u : soc);
	s->remain_mAh = p->mos.remain_mAh;
	s->full_mAh = 0;                          /* not in the poll set (0x50 is a setting) */
	s->cycles = p->status.cycles;
	s->fet_chg = p->mos.chg_fet != 0;
	s->fet_dsg = p->mos.dsg_fet != 0;
	s->prot = rig_daly_faults_to_pack_prot(&p->faults);
	s->bal_mask = cells < 32u ? p->bal.bal_lo & ((1u << cells) - 1u) : p->bal.bal_lo;
	s->cell_count = (uint8_t)cells;
	memcpy(s->cell_mV, p->cell_mV, cells * sizeof s->cell_mV[0]);
	s->temp_count = (uint8_t)ntc;
	memcpy(s->temp_dK, p->temp_dK, ntc * sizeof s->temp_dK[0]);
}

/* ---- what a firmware never builds ---------------------------------------------------------
 * A BMS's replies (the emulator's personalities build them with these) and the host tools'
 * writes. A monitor only asks and reads, so a target build (-DRIG_FIRMWARE: make lx106, the
 * board ports) leaves them out (docs/nodemcu.md). */
#ifndef RIG_FIRMWARE

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* n / 100 rounded half up, exact for every n below 2^32 - 50: two shift-and-add divisions. */
static uint32_t div100_round(uint32_t n)
{
	return u32_div10(u32_div10(n + 50u));
}

/* mV -> u16 in 0.1 V steps; RIG_ERR_ARG when it does not fit. */
static rig_rc put_dV(uint8_t *p, uint32_t mV)
{
	if (mV > 6553549u)
		return RIG_ERR_ARG;
	put_be16(p, (uint16_t)div100_round(mV));
	return RIG_OK;
}

/* The struct at in as a reply of the row's id from addr. RIG_ERR_ARG when a value does not fit
 * its wire field; the others are written all the same, the misfit left at its zero (0, or the
 * current's 30000 offset). */
static rig_rc fields_encode(struct daly_frame *f, uint8_t addr, const struct layout *l, const void *in)
{
	const uint8_t *v = in;
	unsigned i;
	rig_rc rc = RIG_OK;

	head(f, addr, l->cmd);
	for (i = 0; i < l->n; i++) {
		const struct field *x = &l->f[i];
		uint8_t *w = f->data + AT(x);
		uint32_t u32;
		int32_t i32;
		uint16_t u16;

		switch (KIND(x)) {
		case F_U8:    w[0] = v[x->off]; break;
		case F_BYTES: memcpy(w, v + x->off, bytes_len(l, i)); break;
		case F_BE16:  memcpy(&u16, v + x->off, sizeof u16); put_be16(w, u16); break;
		case F_TEMP:
			memcpy(&u16, v + x->off, sizeof u16);
			if (rig_daly_temp_to_raw(u16, w) != RIG_OK)
				rc = RIG_ERR_ARG;
			break;
		case F_BE32:  memcpy(&u32, v + x->off, sizeof u32); put_be32(w, u32); break;
		case F_DV:
			memcpy(&u32, v + x->off, sizeof u32);
			if (put_dV(w, u32) != RIG_OK)
				rc = RIG_ERR_ARG;
			break;
		default:      /* F_CURRENT */
			memcpy(&i32, v + x->off, sizeof i32);
			u16 = DALY_CURRENT_OFFSET;
			if (rig_daly_current_to_raw(i32, &u16) != RIG_OK)
				rc = RIG_ERR_ARG;
			put_be16(w, u16);
			break;
		}
	}
	return rc;
}

rig_rc rig_daly_current_to_raw(int32_t mA, uint16_t *raw)
{
	uint32_t m = mA < 0 ? 0u - (uint32_t)mA : (uint32_t)mA;
	uint32_t q;

	if (m > 4000000u)
		return RIG_ERR_ARG;
	q = div100_round(m);
	if (mA < 0 ? q > DALY_CURRENT_OFFSET : q > 0xFFFFu - DALY_CURRENT_OFFSET)
		return RIG_ERR_ARG;
	*raw = (uint16_t)(mA < 0 ? DALY_CURRENT_OFFSET - q : DALY_CURRENT_OFFSET + q);
	return RIG_OK;
}

rig_rc rig_daly_temp_to_raw(uint32_t dK, uint8_t *raw)
{
	uint32_t q;

	if (dK + 5u < DALY_TEMP_OFFSET_DK || dK > 0xFFFFu)
		return RIG_ERR_ARG;
	q = u32_div10(dK + 5u - DALY_TEMP_OFFSET_DK);
	if (q > 0xFFu)
		return RIG_ERR_ARG;
	*raw = (uint8_t)q;
	return RIG_OK;
}

void rig_daly_flag_encode(struct daly_frame *f, uint8_t addr, uint8_t cmd, const struct daly_flag *v)
{
	head(f, addr, cmd);
	f->data[0] = v->value;
	memcpy(f->data + 1, v->reserved, sizeof v->reserved);
}

rig_rc rig_daly_soc_set_encode(struct daly_frame *f, uint8_t host, const struct daly_soc_set *s)
{
	uint8_t *d = f->data;

	head(f, host, DALY_CMD_SOC_SET);
	if (s->year < 2000u || s->year > 2255u)
		return RIG_ERR_ARG;
	d[0] = (uint8_t)(s->year - 2000u);
	d[1] = s->month;
	d[2] = s->day;
	d[3] = s->hour;
	d[4] = s->minute;
	d[5] = s->second;
	put_be16(d + 6, s->soc_permille);
	return RIG_OK;
}

rig_rc rig_daly_pack_encode(struct daly_frame *f, uint8_t addr, const struct daly_pack *p)
{
	return fields_encode(f, addr, &live[L_PACK], p);
}

void rig_daly_cell_range_encode(struct daly_frame *f, uint8_t addr, const struct daly_cell_range *r)
{
	(void)fields_encode(f, addr, &live[L_CELL_RANGE], r);   /* no field of it can misfit */
}

rig_rc rig_daly_temp_range_encode(struct daly_frame *f, uint8_t addr, const struct daly_temp_range *r)
{
	return fields_encode(f, addr, &live[L_TEMP_RANGE], r);
}

void rig_daly_mos_encode(struct daly_frame *f, uint8_t addr, const struct daly_mos *m)
{
	(void)fields_encode(f, addr, &live[L_MOS], m);   /* no field of it can misfit */
}

void rig_daly_status_encode(struct daly_frame *f, uint8_t addr, const struct daly_status *s)
{
	(void)fields_encode(f, addr, &live[L_STATUS], s);   /* no field of it can misfit */
}

void rig_daly_cell_frame_encode(struct daly_frame *f, uint8_t addr, const struct daly_cell_frame *c)
{
	uint8_t *d = f->data;
	unsigned i;

	head(f, addr, DALY_CMD_CELLS);
	d[0] = c->frame_no;
	for (i = 0; i < DALY_CELLS_PER_FRAME; i++)
		put_be16(d + 1 + 2 * i, c->cell_mV[i]);
	d[7] = c->reserved;
}

rig_rc rig_daly_temp_frame_encode(struct daly_frame *f, uint8_t addr, const struct daly_temp_frame *t)
{
	rig_rc rc = RIG_OK;
	unsigned i;

	head(f, addr, DALY_CMD_TEMPS);
	f->data[0] = t->frame_no;
	for (i = 0; i < DALY_TEMPS_PER_FRAME; i++)
		if (rig_daly_temp_to_raw(t->temp_dK[i], &f->data[1 + i]) != RIG_OK)
			rc = RIG_ERR_ARG;
	return rc;
}

void rig_daly_balance_encode(struct daly_frame *f, uint8_t addr, const struct daly_balance *b)
{
	uint8_t *d = f->data;

	head(f, addr, DALY_CMD_BALANCE);
	d[0] = (uint8_t)b->bal_lo;
	d[1] = (uint8_t)(b->bal_lo >> 8);
	d[2] = (uint8_t)(b->bal_lo >> 16);
	d[3] = (uint8_t)(b->bal_lo >> 24);
	d[4] = (uint8_t)b->bal_hi;
	d[5] = (uint8_t)(b->bal_hi >> 8);
	memcpy(d + 6, b->reserved, 2);
}

void rig_daly_faults_encode(struct daly_frame *f, uint8_t addr, const struct daly_faults *x)
{
	head(f, addr, DALY_CMD_FAULTS);
	memcpy(f->data, x->bits, DALY_FAULT_BYTES);
	f->data[7] = x->fault_code;
}

void rig_daly_faults_from_pack_prot(struct daly_faults *x, uint32_t prot)
{
	uint32_t done = 0;
	unsigned i;

	memset(x, 0, sizeof *x);
	for (i = 0; i < FAULT_ROWS; i++) {
		const struct fault_row *r = &fault_rows[i];

		if (!(prot & r->prot) || (done & r->prot))
			continue;
		done |= r->prot;
		x->bits[r->byte] |= (uint8_t)(1u << r->bit);
		if (r->has_level1)
			x->bits[r->byte] |= (uint8_t)(1u << (r->bit - 1u));
	}
}

void rig_daly_raw_encode(struct daly_frame *f, uint8_t addr, uint8_t cmd, const struct daly_raw *r)
{
	rig_daly_frame_raw(f, addr, cmd, r->data);
}

void rig_daly_rated_encode(struct daly_frame *f, uint8_t addr, const struct daly_rated *r)
{
	(void)fields_encode(f, addr, &settings[L_RATED], r);   /* no field of it can misfit */
}

void rig_daly_layout_encode(struct daly_frame *f, uint8_t addr, const struct daly_layout *l)
{
	(void)fields_encode(f, addr, &settings[L_LAYOUT], l);   /* no field of it can misfit */
}

void rig_daly_totals_encode(struct daly_frame *f, uint8_t addr, const struct daly_totals *t)
{
	(void)fields_encode(f, addr, &settings[L_TOTALS], t);   /* no field of it can misfit */
}

rig_rc rig_daly_info_encode(struct daly_frame *f, uint8_t addr, const struct daly_info *i)
{
	uint8_t *d = f->data;

	head(f, addr, DALY_CMD_INFO);
	if (i->year < 2000u || i->year > 2255u)
		return RIG_ERR_ARG;
	d[0] = i->battery_type;
	d[1] = i->unknown1;
	d[2] = (uint8_t)(i->year - 2000u);
	d[3] = i->month;
	d[4] = i->day;
	put_be16(d + 5, i->sleep_s);
	d[7] = i->reserved;
	return RIG_OK;
}

void rig_daly_text8_encode(struct daly_frame *f, uint8_t addr, const struct daly_text8 *t)
{
	rig_daly_frame_raw(f, addr, DALY_CMD_FIRMWARE, t->text);
}

void rig_daly_code_frame_encode(struct daly_frame *f, uint8_t addr, const struct daly_code_frame *c)
{
	head(f, addr, DALY_CMD_CODE);
	f->data[0] = c->frame_no;
	memcpy(f->data + 1, c->text, DALY_CODE_PER_FRAME);
}

void rig_daly_cell_limits_encode(struct daly_frame *f, uint8_t addr, const struct daly_cell_limits *l)
{
	(void)fields_encode(f, addr, &settings[L_CELL_LIMITS], l);   /* no field of it can misfit */
}

rig_rc rig_daly_pack_limits_encode(struct daly_frame *f, uint8_t addr, const struct daly_pack_limits *l)
{
	return fields_encode(f, addr, &settings[L_PACK_LIMITS], l);
}

rig_rc rig_daly_current_limits_encode(struct daly_frame *f, uint8_t addr, const struct daly_current_limits *l)
{
	return fields_encode(f, addr, &settings[L_CURRENT_LIMITS], l);
}

void rig_daly_balance_cfg_encode(struct daly_frame *f, uint8_t addr, const struct daly_balance_cfg *b)
{
	(void)fields_encode(f, addr, &settings[L_BALANCE_CFG], b);   /* no field of it can misfit */
}

#endif /* RIG_FIRMWARE */
